//! Sinks: env files rendered to disk for programs that read a file (the Vault Agent pattern).
//!
//! A sink is written atomically — a temp file in the same directory, created with the final
//! mode, fsynced, renamed over the target, and the directory fsynced — so a reader sees the old
//! file or the new one, never half of one. Unchanged content is not rewritten (no mtime churn,
//! no spurious reloads). After a change the sink runs its command or signals its pidfile's pid.

use crate::config::{CommandSpec, OnChange, SinkSpec};
use envfile_core::{Error, Result, SecretString};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Write `content` to the sink if it differs from what is there. Returns whether it wrote.
pub fn write_if_changed(sink: &SinkSpec, content: &SecretString) -> Result<bool> {
    if let Ok(old) = std::fs::read(&sink.path) {
        let same = old == content.expose().as_bytes();
        // The old bytes are secret too.
        let mut old = old;
        zero(&mut old);
        if same {
            return Ok(false);
        }
    }
    write_atomic(
        &sink.path,
        content.expose().as_bytes(),
        sink.mode,
        sink.owner,
        sink.group,
    )?;
    Ok(true)
}

fn zero(v: &mut [u8]) {
    for b in v.iter_mut() {
        // A volatile write so the compiler cannot drop it as dead.
        unsafe { std::ptr::write_volatile(b, 0) };
    }
}

/// Temp file in the same directory, final mode from the start, fsync, rename, fsync the dir.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<u32>,
    group: Option<u32>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "sink".into());
    let ctx = |e: std::io::Error, what: &str| {
        Error::from(e).with_hint(format!("sink {}: {what}", path.display()))
    };
    let mut tmp = None;
    for attempt in 0..16u32 {
        let candidate = dir.join(format!(
            ".{name}.tmp.{}.{attempt}.{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode & 0o777)
            .open(&candidate)
        {
            Ok(f) => {
                tmp = Some((candidate, f));
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ctx(e, "cannot create a temp file in its directory")),
        }
    }
    let Some((tmp_path, mut f)) = tmp else {
        return Err(
            Error::new(envfile_core::ErrorKind::Io, "no free temp file name")
                .with_hint(format!("sink {}", path.display())),
        );
    };
    let result = (|| {
        f.write_all(bytes).map_err(|e| ctx(e, "write failed"))?;
        // The umask may have narrowed the mode at creation; set it exactly.
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| ctx(e, "cannot set the mode"))?;
        if owner.is_some() || group.is_some() {
            std::os::unix::fs::fchown(&f, owner, group)
                .map_err(|e| ctx(e, "cannot change owner/group (the broker needs CAP_CHOWN)"))?;
        }
        f.sync_all().map_err(|e| ctx(e, "fsync failed"))?;
        std::fs::rename(&tmp_path, path).map_err(|e| ctx(e, "rename failed"))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp_path);
    }
    result
}

/// Run the sink's on-change action. Failures are logged, not fatal: the file is already right.
pub async fn on_change(sink: &SinkSpec) {
    match &sink.on_change {
        OnChange::Nothing => {}
        OnChange::Command(cmd) => {
            let mut c = match cmd {
                CommandSpec::Shell(s) => {
                    let mut c = tokio::process::Command::new("sh");
                    c.arg("-c").arg(s);
                    c
                }
                CommandSpec::Argv(v) if !v.is_empty() => {
                    let mut c = tokio::process::Command::new(&v[0]);
                    c.args(&v[1..]);
                    c
                }
                CommandSpec::Argv(_) => {
                    tracing::warn!(sink = %sink.path.display(), "sink command is empty");
                    return;
                }
            };
            // The broker's own token is not the command's business.
            c.stdin(std::process::Stdio::null())
                .env_remove("ENVFILE_BROKER_TOKEN");
            match c.status().await {
                Ok(s) if s.success() => {
                    tracing::info!(sink = %sink.path.display(), "sink command ran")
                }
                Ok(s) => {
                    tracing::warn!(sink = %sink.path.display(), status = %s, "sink command failed")
                }
                Err(e) => {
                    tracing::warn!(sink = %sink.path.display(), error = %e, "sink command could not start")
                }
            }
        }
        OnChange::Signal { signal, pidfile } => {
            let pid = std::fs::read_to_string(pidfile)
                .ok()
                .and_then(|t| t.trim().parse::<i32>().ok())
                .filter(|p| *p > 0);
            match pid {
                Some(pid) => {
                    // SAFETY: kill has no memory effects; pid and signal are plain integers.
                    let rc = unsafe { libc::kill(pid, *signal) };
                    if rc != 0 {
                        tracing::warn!(pid, signal, error = %std::io::Error::last_os_error(), "sink signal failed");
                    }
                }
                None => tracing::warn!(pidfile = %pidfile.display(), "sink pidfile holds no pid"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn atomic_write_sets_the_mode_and_skips_unchanged_content() {
        let dir = tempfile::tempdir().unwrap();
        let sink = SinkSpec {
            source: crate::config::SinkSource::Envfile {
                name: "app".into(),
                format: envfile_core::Format::Dotenv,
            },
            path: dir.path().join("app.env"),
            mode: 0o400,
            owner: None,
            group: None,
            on_change: OnChange::Nothing,
            create_dest_dirs: false,
        };
        let a = SecretString::new("A=1\n".into());
        assert!(write_if_changed(&sink, &a).unwrap());
        let meta = std::fs::metadata(&sink.path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o400);
        assert!(!write_if_changed(&sink, &a).unwrap());
        assert!(write_if_changed(&sink, &SecretString::new("A=2\n".into())).unwrap());
        assert_eq!(std::fs::read_to_string(&sink.path).unwrap(), "A=2\n");
        // No temp files left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
