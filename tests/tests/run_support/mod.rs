//! Shared by the `run_*` tests: start the real `envfile run` with the test child
//! (`tests/fixtures/run_child.py`), watch what the child records, send signals, and wait with
//! deadlines instead of fixed sleeps. Values are compared without printing them.
#![allow(dead_code)] // each test crate uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long any expected event may take on a loaded 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Poll `cond` every 25ms until it holds or `within` passes; false on timeout.
pub fn eventually(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The test child's command line: the venv's Python running the fixture script.
pub fn child_cmd() -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/run_child.py");
    vec![
        envfile_tests::env::python().display().to_string(),
        script.display().to_string(),
    ]
}

/// A temp dir holding `envfile.toml` (the caller's text), the child's records in `out/`, and
/// envfile's stdout/stderr in files.
pub struct Dir {
    pub dir: tempfile::TempDir,
}

impl Dir {
    pub fn new(config: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("envfile.toml"), config).expect("write config");
        std::fs::create_dir(dir.path().join("out")).expect("out dir");
        Dir { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `envfile --config … ARGS…` with a clean ENVFILE_* environment, in the temp dir, and the
    /// child's CHILD_OUT / CHILD_VAR set.
    pub fn cmd(&self, args: &[&str], child_var: &str) -> Command {
        let mut c = Command::new(envfile_tests::env::envfile_bin());
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("ENVFILE_") {
                c.env_remove(k);
            }
        }
        c.current_dir(self.dir.path())
            .arg("--config")
            .arg(self.path("envfile.toml"))
            .args(args)
            .env("CHILD_OUT", self.path("out"))
            .env("CHILD_VAR", child_var)
            .stdin(Stdio::null());
        c
    }

    /// Start `cmd` with stdout/stderr going to files in the temp dir.
    pub fn start(&self, mut cmd: Command) -> Supervised<'_> {
        let stdout = std::fs::File::create(self.path("stdout")).expect("stdout file");
        let stderr = std::fs::File::create(self.path("stderr")).expect("stderr file");
        let proc = cmd
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .expect("start envfile");
        Supervised { dir: self, proc }
    }
}

/// A running `envfile run`.
pub struct Supervised<'d> {
    pub dir: &'d Dir,
    pub proc: Child,
}

impl Supervised<'_> {
    pub fn pid(&self) -> u32 {
        self.proc.id()
    }

    /// The child's event lines.
    pub fn events(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path("out/events"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Pids of every child start, in order.
    pub fn starts(&self) -> Vec<u32> {
        self.events()
            .iter()
            .filter_map(|l| l.strip_prefix("start "))
            .filter_map(|p| p.trim().parse().ok())
            .collect()
    }

    /// Signal names child `pid` recorded, in order.
    pub fn signals_of(&self, pid: u32) -> Vec<String> {
        let suffix = format!(" {pid}");
        self.events()
            .iter()
            .filter_map(|l| l.strip_prefix("sig "))
            .filter_map(|l| l.strip_suffix(&suffix))
            .map(str::to_owned)
            .collect()
    }

    /// What child `pid` saw in CHILD_VAR (raw bytes; compare, never print).
    pub fn value_of(&self, pid: u32) -> Vec<u8> {
        std::fs::read(self.dir.path(&format!("out/value.{pid}"))).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path("stderr")).unwrap_or_default()
    }

    pub fn stdout(&self) -> Vec<u8> {
        std::fs::read(self.dir.path("stdout")).unwrap_or_default()
    }

    /// Wait until `n` children have started; returns their pids. Fails with envfile's stderr
    /// (the tests' secrets are canaries checked absent from it first).
    pub fn wait_starts(&mut self, n: usize) -> Vec<u32> {
        let ok = eventually(DEADLINE, || self.starts().len() >= n || self.exited());
        let starts = self.starts();
        assert!(
            ok && starts.len() >= n,
            "expected {n} child start(s), saw {}; envfile exited: {:?}; stderr:\n{}",
            starts.len(),
            self.proc.try_wait().ok().flatten(),
            self.stderr()
        );
        starts
    }

    /// Whether envfile has exited (without reaping twice: `try_wait` caches the status).
    pub fn exited(&mut self) -> bool {
        matches!(self.proc.try_wait(), Ok(Some(_)))
    }

    /// Send `sig` (a name without SIG, e.g. `USR1`) to envfile.
    pub fn signal(&self, sig: &str) {
        send_signal(self.pid(), sig);
    }

    /// Wait for envfile to exit; returns its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let end = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.proc.try_wait().expect("try_wait") {
                return status.code();
            }
            assert!(
                Instant::now() < end,
                "envfile did not exit in time; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Supervised<'_> {
    fn drop(&mut self) {
        // A failed test must not leave the child behind: kill it, then envfile.
        if !self.exited() {
            for pid in self.starts() {
                // Most are gone already; a failure here means nothing.
                let _ = Command::new("kill")
                    .args(["-s", "KILL", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
            let _ = self.proc.kill();
            let _ = self.proc.wait();
        }
    }
}

pub fn send_signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .arg("-s")
        .arg(sig)
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -s {sig} {pid} failed");
}

/// `(state, ppid)` of a process from /proc, or None when it no longer exists.
pub fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields start after the last `)`.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// Pids of `parent`'s children that are zombies (`<defunct>`).
pub fn zombie_children(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| matches!(proc_stat(pid), Some(('Z', pp)) if pp == parent))
        .collect()
}

/// Bytes equal, without printing them.
pub fn same(got: &[u8], want: &[u8]) -> bool {
    got == want
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// A value unique to this test run, to search outputs for leaks.
pub fn canary(tag: &str) -> String {
    format!("canary-{}-do-not-print", envfile_tests::env::unique(tag))
}
