//! File-system helpers of the file backend: atomic writes, secret names as relative paths,
//! listing a directory store, and "did you mean" suggestions.

use std::io;
use std::path::{Component, Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Mode of files the backend creates: secrets are for their owner only.
const NEW_FILE_MODE: u32 = 0o600;
/// Mode of directories the backend creates in a directory store.
const NEW_DIR_MODE: u32 = 0o700;
/// Bounds on walking a directory store for suggestions (a store is small; a loop is not).
const MAX_DEPTH: usize = 16;
const MAX_ENTRIES: usize = 10_000;

/// Write `bytes` to `target` atomically: a temp file in the same directory, fsync, rename.
/// A new file gets mode 0600; a replaced file keeps its mode.
pub(super) async fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    // A leading dot keeps the temp file out of directory-store listings.
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{:016x}",
        file_name.to_string_lossy(),
        std::process::id(),
        rand::random::<u64>()
    ));
    let keep_mode = match tokio::fs::metadata(target).await {
        Ok(m) => Some(m.permissions()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let mut opts = tokio::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(NEW_FILE_MODE);
    let mut f = opts.open(&tmp).await?;
    let result = async {
        f.write_all(bytes).await?;
        if let Some(perms) = keep_mode {
            f.set_permissions(perms).await?;
        }
        f.sync_all().await?;
        drop(f);
        tokio::fs::rename(&tmp, target).await
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&tmp).await;
    }
    result
}

/// Create `dir` and its missing parents, new ones with mode 0700.
pub(super) async fn create_dirs(dir: &Path) -> io::Result<()> {
    let mut b = tokio::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(NEW_DIR_MODE);
    b.create(dir).await
}

/// The relative path a secret name stands for in a directory store, or `None` when the name
/// could escape the store or is not a plain relative path (`..`, `/abs`, `a//b`, `./a`).
pub(super) fn relative_path(name: &str) -> Option<PathBuf> {
    if name.is_empty() || name.contains('\0') {
        return None;
    }
    let mut out = PathBuf::new();
    for part in name.split('/') {
        let mut comps = Path::new(part).components();
        match (comps.next(), comps.next()) {
            (Some(Component::Normal(c)), None) if c == part => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// Every secret name in a directory store, sorted. Dot-entries are skipped: they are temp files,
/// editor backups and Kubernetes' `..data` links (whose files show up under their plain names).
pub(super) async fn list_dir_names(root: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new(), 0usize)];
    let mut seen = 0usize;
    while let Some((dir, prefix, depth)) = stack.pop() {
        let mut rd = tokio::fs::read_dir(&dir).await?;
        while let Some(entry) = rd.next_entry().await? {
            seen += 1;
            if seen > MAX_ENTRIES {
                break;
            }
            let fname = entry.file_name().to_string_lossy().into_owned();
            if fname.starts_with('.') {
                continue;
            }
            let name = format!("{prefix}{fname}");
            // Follows symlinks: mounted secret volumes are made of them.
            match tokio::fs::metadata(entry.path()).await {
                Ok(m) if m.is_dir() && depth < MAX_DEPTH => {
                    stack.push((entry.path(), format!("{name}/"), depth + 1))
                }
                Ok(m) if m.is_file() => names.push(name),
                _ => {}
            }
        }
    }
    names.sort();
    Ok(names)
}

/// Up to five names close to `wanted`: a small edit distance, the same last segment, or one
/// containing the other.
pub(super) fn near_names(wanted: &str, names: &[String]) -> Vec<String> {
    let base = |s: &str| s.rsplit('/').next().unwrap_or(s).to_owned();
    let wanted_base = base(wanted);
    let limit = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &String)> = names
        .iter()
        .filter_map(|n| {
            let d = edit_distance(wanted, n);
            let related =
                base(n) == wanted_base || n.contains(wanted) || wanted.contains(n.as_str());
            (d <= limit || related).then_some((d, n))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(5).map(|(_, n)| n.clone()).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let subst = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = subst.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_path_rejects_escapes_and_odd_forms() {
        for bad in [
            "", "..", "a/../b", "/abs", "a//b", "./a", "a/", "a/.", "x\0y",
        ] {
            assert!(relative_path(bad).is_none(), "{bad:?} should be rejected");
        }
        assert_eq!(
            relative_path("afu9/database"),
            Some(PathBuf::from("afu9/database"))
        );
        assert_eq!(relative_path(".hidden"), Some(PathBuf::from(".hidden")));
    }

    #[test]
    fn near_names_ranks_typos_and_same_basename() {
        let names: Vec<String> = ["app/db", "app/dbs", "prod/db", "zzz/unrelated"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(near_names("app/bd", &names), vec!["app/db", "app/dbs"]);
        let same_base = near_names("staging/db", &names);
        assert!(
            same_base.contains(&"prod/db".to_string()) && same_base.contains(&"app/db".to_string())
        );
        assert!(!same_base.contains(&"zzz/unrelated".to_string()));
        assert!(near_names("completely-else", &names).is_empty());
    }
}
