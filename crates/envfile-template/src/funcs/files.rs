//! `writeToFile PATH USER GROUP MODE [FLAGS] CONTENT`, as consul-template defines it: writes
//! CONTENT to PATH (creating missing parent directories, mode 0777 less the umask, unless
//! appending), with FLAGS `append` (add to the end) and/or `newline` (add `\n`), sets the
//! owner when USER or GROUP is given (a name, or a numeric id), sets the mode MODE (octal)
//! exactly, and returns `""`.
//!
//! Differences, deliberate:
//! - The write happens when the render succeeds, after its last pass: the agent writes during
//!   every pass (an early pass may write a file with the secrets still missing) and keeps what
//!   it wrote when a later action fails; envfile writes nothing for a render that fails.
//! - A replaced file is written to a temporary file beside it and renamed over it, so a reader
//!   never sees it half-written.
//! - Like consul-template since its symlink fix (the agent's bundled copy predates it), a
//!   symlink as the file or as its directory is refused rather than followed.

use crate::value::{SecretText, Value};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// One `writeToFile` call, validated, waiting for the render to succeed.
pub(crate) struct FileWrite {
    path: PathBuf,
    user: String,
    group: String,
    mode: u32,
    append: bool,
    newline: bool,
    content: SecretText,
}

/// Validate the arguments as Go's signature and consul-template's parsing do.
pub(crate) fn prepare(args: &[Value]) -> Result<FileWrite, String> {
    if args.len() < 4 {
        return Err(format!(
            "wrong number of args for writeToFile: want at least 4 got {}",
            args.len()
        ));
    }
    let mut strs = Vec::with_capacity(args.len());
    for a in args {
        strs.push(match a {
            Value::Str(s) => s.clone(),
            other => {
                return Err(format!(
                    "wrong type for value; expected string; got {}",
                    other.type_name()
                ))
            }
        });
    }
    // Go indexes `args[len(args)-1]` of the variadic part: with none it panics.
    let rest = &strs[4..];
    let Some(content) = rest.last().cloned() else {
        return Err("runtime error: index out of range [-1]".into());
    };
    let flags = if rest.len() == 2 {
        rest[0].as_str()
    } else {
        ""
    };
    let mode = parse_mode(&strs[3])?;
    if strs[0].is_empty() {
        return Err("open : no such file or directory".into());
    }
    Ok(FileWrite {
        path: PathBuf::from(strs[0].as_str()),
        user: strs[1].to_string(),
        group: strs[2].to_string(),
        mode,
        append: flags.contains("append"),
        newline: flags.contains("newline"),
        content,
    })
}

/// `strconv.ParseUint(s, 8, 32)`, then Go's `os.FileMode` bits that `chmod` takes.
fn parse_mode(s: &str) -> Result<u32, String> {
    // Go quotes the text; envfile does not repeat an argument that may come from a secret.
    let syntax =
        || "strconv.ParseUint: parsing the mode: invalid syntax (want octal digits)".to_owned();
    if s.is_empty() || !s.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
        return Err(syntax());
    }
    u32::from_str_radix(s, 8)
        .map_err(|_| "strconv.ParseUint: parsing the mode: value out of range".to_owned())
        // Go's chmod keeps the permission bits (and setuid/setgid/sticky only through
        // os.FileMode flags, which a plain number never sets).
        .map(|m| m & 0o777)
}

impl FileWrite {
    /// Write the file; the error names the path and the cause.
    pub(crate) fn perform(&self) -> Result<(), String> {
        let fail = |what: &str, e: std::io::Error| format!("{what} {}: {e}", self.path.display());
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !self.append && std::fs::metadata(&dir).is_err() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o777)
                .create(&dir)
                .map_err(|e| fail("mkdir for", e))?;
        }
        if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(format!(
                "refusing to write through symlinked directory in path {}",
                self.path.display()
            ));
        }
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(format!(
                "refusing to write to symlink {}",
                self.path.display()
            ));
        }
        let owner = self.owner()?;
        let mut bytes: Vec<u8> = Vec::with_capacity(self.content.len() + 1);
        bytes.extend_from_slice(self.content.as_bytes());
        if self.newline {
            bytes.push(b'\n');
        }
        let bytes = zeroize::Zeroizing::new(bytes);
        if self.append {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .mode(self.mode)
                .custom_flags(libc_nofollow())
                .open(&self.path)
                .map_err(|e| fail("open", e))?;
            f.write_all(&bytes).map_err(|e| fail("write", e))?;
            finish(&f, owner, self.mode).map_err(|e| fail("chown/chmod", e))?;
            return Ok(());
        }
        let tmp = temp_beside(&self.path);
        let result = (|| {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            finish(&f, owner, self.mode)?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail("write", e));
        }
        Ok(())
    }

    /// The owner to set: None when neither user nor group is given (the file stays the
    /// process's, as Go skips the chown).
    fn owner(&self) -> Result<Option<(u32, u32)>, String> {
        if self.user.is_empty() && self.group.is_empty() {
            return Ok(None);
        }
        let uid = if self.user.is_empty() {
            nix::unistd::getuid().as_raw()
        } else {
            match nix::unistd::User::from_name(&self.user) {
                Ok(Some(u)) => u.uid.as_raw(),
                _ => self.user.parse().map_err(|_| {
                    "user: unknown user (USER is neither a user name nor a uid)".to_owned()
                })?,
            }
        };
        let gid = if self.group.is_empty() {
            nix::unistd::getgid().as_raw()
        } else {
            match nix::unistd::Group::from_name(&self.group) {
                Ok(Some(g)) => g.gid.as_raw(),
                _ => self.group.parse().map_err(|_| {
                    "group: unknown group (GROUP is neither a group name nor a gid)".to_owned()
                })?,
            }
        };
        Ok(Some((uid, gid)))
    }
}

/// Set the owner (when asked) and the exact mode on the open file.
fn finish(f: &std::fs::File, owner: Option<(u32, u32)>, mode: u32) -> std::io::Result<()> {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::fchown(f, Some(uid), Some(gid))?;
    }
    f.set_permissions(std::fs::Permissions::from_mode(mode))
}

fn libc_nofollow() -> i32 {
    nix::fcntl::OFlag::O_NOFOLLOW.bits()
}

/// A fresh name in the file's directory for the temporary copy.
fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nonce: u64 = rand::random();
    path.with_file_name(format!(".{name}.{nonce:016x}.tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn call(args: &[&str]) -> Result<(), String> {
        let v: Vec<Value> = args.iter().map(|s| Value::str(*s)).collect();
        prepare(&v)?.perform()
    }

    #[test]
    fn writes_creates_directories_and_sets_the_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b/out.txt");
        let ps = p.to_str().unwrap();
        call(&[ps, "", "", "0640", "hello"]).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "hello");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o640);
        call(&[ps, "", "", "0600", "replaced"]).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "replaced");
        assert_eq!(std::fs::metadata(&p).unwrap().mode() & 0o777, 0o600);
        call(&[ps, "", "", "0600", "append,newline", "more"]).unwrap();
        call(&[ps, "", "", "0600", "append", "!"]).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "replacedmore\n!");
        // No temporary files are left behind.
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn owner_by_name_or_number() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("owned");
        let uid = nix::unistd::getuid().as_raw().to_string();
        let gid = nix::unistd::getgid().as_raw().to_string();
        call(&[p.to_str().unwrap(), &uid, &gid, "0600", "x"]).unwrap();
        let err = call(&[p.to_str().unwrap(), "no-such-user-xyz", "", "0600", "x"]).unwrap_err();
        assert!(err.contains("unknown user"), "{err}");
        assert!(
            !err.contains("no-such-user-xyz"),
            "an argument is repeated: {err}"
        );
    }

    #[test]
    fn bad_arguments_and_symlinks_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        let ps = p.to_str().unwrap();
        assert!(call(&[ps, "", "", "0988", "x"])
            .unwrap_err()
            .contains("invalid syntax"));
        assert!(call(&[ps, "", "", "0644"])
            .unwrap_err()
            .contains("index out of range"));
        assert!(prepare(&[
            Value::str(ps),
            Value::str(""),
            Value::str(""),
            Value::Int(644),
            Value::str("x")
        ])
        .err()
        .unwrap()
        .contains("expected string; got int"));
        // Appending to a missing directory fails, as Go's OpenFile does (no mkdir).
        let missing = d.path().join("nope/f");
        assert!(call(&[missing.to_str().unwrap(), "", "", "0644", "append", "x"]).is_err());
        let target = d.path().join("target");
        std::fs::write(&target, "keep").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = call(&[link.to_str().unwrap(), "", "", "0644", "x"]).unwrap_err();
        assert!(err.contains("symlink"), "{err}");
        let err = call(&[link.to_str().unwrap(), "", "", "0644", "append", "x"]).unwrap_err();
        assert!(err.contains("symlink"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }
}
