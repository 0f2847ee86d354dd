//! Shared by the `cli_*` end-to-end tests: a temp directory holding a config and a file-backend
//! store, and a way to run the real `envfile` binary against it.
//!
//! Output is compared without printing secret values: failures report lengths and positions.
#![allow(dead_code)] // each test crate uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A temp dir with `envfile.toml` (a `file` backend named `file` over `store.json`, plus the
/// caller's envfiles/rules) and `store.json` (the secrets).
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Fixture {
    /// `store` is the file backend's JSON (secret name → string or object); `rest` is TOML
    /// appended to the config (envfiles, secret rules).
    pub fn new(store: &serde_json::Value, rest: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("store.json"),
            serde_json::to_vec_pretty(store).expect("store json"),
        )
        .expect("write store");
        let config = dir.path().join("envfile.toml");
        let text =
            format!("[default.backends.file]\nkind = \"file\"\npath = \"store.json\"\n\n{rest}\n");
        std::fs::write(&config, text).expect("write config");
        Fixture { dir, config }
    }

    /// A config written verbatim (for bad-config tests), with an empty store next to it.
    pub fn raw(config_text: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("store.json"), b"{}").expect("write store");
        let config = dir.path().join("envfile.toml");
        std::fs::write(&config, config_text).expect("write config");
        Fixture { dir, config }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `envfile --config CONFIG ARGS…`, run in the temp dir with no inherited ENVFILE_* settings.
    pub fn cmd<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut c = bare_cmd(self.dir.path());
        c.arg("--config").arg(&self.config).args(args);
        c
    }

    pub fn run<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        Run::of(self.cmd(args))
    }

    /// Names of the entries in the temp dir, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// The binary with a clean ENVFILE_* environment, in `cwd`.
pub fn bare_cmd(cwd: &Path) -> Command {
    let mut c = Command::new(envfile_tests::env::envfile_bin());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("ENVFILE_") {
            c.env_remove(k);
        }
    }
    c.current_dir(cwd).stdin(Stdio::null());
    c
}

/// A finished run.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    pub fn of(mut cmd: Command) -> Self {
        let Output {
            status,
            stdout,
            stderr,
        } = cmd.output().expect("run envfile");
        Run {
            code: status.code(),
            stdout,
            stderr,
        }
    }

    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// stdout and stderr together, for "does the user see X" checks.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout_str(), self.stderr_str())
    }

    /// Stderr is safe to show in a failure message only in tests whose secrets are canaries
    /// that are asserted absent first; callers use this after `assert_no_secret`.
    pub fn expect_code(&self, want: i32) -> &Self {
        assert!(
            self.code == Some(want),
            "expected exit {want}, got {:?}; stderr:\n{}",
            self.code,
            self.stderr_str()
        );
        self
    }

    /// Fails (without printing the value) when any of `secrets` appears in stdout or stderr.
    pub fn assert_no_secret(&self, secrets: &[&str]) -> &Self {
        for (i, s) in secrets.iter().enumerate() {
            for (stream, bytes) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
                assert!(
                    !contains(bytes, s.as_bytes()),
                    "secret #{i} ({} bytes) leaked into {stream}",
                    s.len()
                );
            }
        }
        self
    }

    /// Fails when `needle` (not a secret) is missing from stdout+stderr; prints the output.
    pub fn assert_mentions(&self, needle: &str) -> &Self {
        let all = self.all();
        assert!(
            all.contains(needle),
            "output does not mention `{needle}`:\n{all}"
        );
        self
    }
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Compare bytes without printing them: on mismatch, report lengths and the first difference.
pub fn assert_bytes_eq(what: &str, got: &[u8], want: &[u8]) {
    if got != want {
        let first = got.iter().zip(want).position(|(a, b)| a != b);
        panic!(
            "{what}: bytes differ (got {} bytes, want {}; first difference at {:?})",
            got.len(),
            want.len(),
            first.unwrap_or(got.len().min(want.len()))
        );
    }
}

/// A value unique to this test run, to search outputs for leaks.
pub fn canary(tag: &str) -> String {
    format!("canary-{}-do-not-print", envfile_tests::env::unique(tag))
}

/// Run the test venv's Python with `script`, feeding `stdin`; returns stdout. The script gets
/// the input on `sys.stdin.buffer`.
pub fn python(script: &str, stdin: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new(envfile_tests::env::python())
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("feed python");
    let out = child.wait_with_output().expect("python");
    // Python's traceback could quote a value from the input: show only its last line's type.
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .split(':')
            .next()
            .unwrap_or("")
    );
    out.stdout
}

/// Compare a name → value map against the expected one without printing values.
pub fn assert_vars_eq(
    what: &str,
    got: &std::collections::BTreeMap<String, String>,
    want: &std::collections::BTreeMap<String, String>,
) {
    let got_names: Vec<_> = got.keys().collect();
    let want_names: Vec<_> = want.keys().collect();
    assert_eq!(got_names, want_names, "{what}: variable names differ");
    for (name, w) in want {
        assert_bytes_eq(
            &format!("{what}: {name}"),
            got[name].as_bytes(),
            w.as_bytes(),
        );
    }
}
