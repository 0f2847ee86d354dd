//! Sprig's path functions: `base dir clean ext isAbs` (Go's `path`, slash-separated) and the
//! `os…` forms (Go's `path/filepath`, which on the Unix systems envfile runs on is the same).

use super::{arity, str_arg};
use crate::funcs::{Def, R};
use crate::value::Value;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_base", |a| one("sprig_base", a, base)),
    Def::new("sprig_dir", |a| one("sprig_dir", a, dir)),
    Def::new("sprig_clean", |a| one("sprig_clean", a, clean)),
    Def::new("sprig_ext", |a| one("sprig_ext", a, ext)),
    Def::new("sprig_isAbs", |a| {
        arity("sprig_isAbs", &a, 1)?;
        Ok(Value::Bool(str_arg(&a[0])?.starts_with('/')))
    }),
    Def::new("sprig_osBase", |a| one("sprig_osBase", a, base)),
    Def::new("sprig_osDir", |a| one("sprig_osDir", a, dir)),
    Def::new("sprig_osClean", |a| one("sprig_osClean", a, clean)),
    Def::new("sprig_osExt", |a| one("sprig_osExt", a, ext)),
    Def::new("sprig_osIsAbs", |a| {
        arity("sprig_osIsAbs", &a, 1)?;
        Ok(Value::Bool(str_arg(&a[0])?.starts_with('/')))
    }),
];

fn one(name: &str, a: Vec<Value>, f: fn(&str) -> String) -> R {
    arity(name, &a, 1)?;
    Ok(Value::str(f(str_arg(&a[0])?)))
}

/// `path.Clean`: the shortest equivalent path (no `.`, no `x/..`, single slashes).
pub(super) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// `path.Base`: the last element, trailing slashes dropped; `.` for empty, `/` for all slashes.
fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_owned()
}

/// `path.Dir`: everything before the last slash, cleaned.
fn dir(p: &str) -> String {
    let cut = p.rfind('/').map_or(0, |i| i + 1);
    clean(&p[..cut])
}

/// `path.Ext`: from the last dot of the last element.
fn ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        match c {
            '/' => break,
            '.' => return p[i..].to_owned(),
            _ => {}
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{run, s};

    #[test]
    fn paths_follow_gos_path_package() {
        for (f, input, want) in [
            ("sprig_base", "/a/b/c.txt", "c.txt"),
            ("sprig_base", "/a/b/", "b"),
            ("sprig_base", "", "."),
            ("sprig_base", "///", "/"),
            ("sprig_dir", "/a/b/c", "/a/b"),
            ("sprig_dir", "c", "."),
            ("sprig_dir", "/", "/"),
            ("sprig_clean", "a//b/./../c/", "a/c"),
            ("sprig_clean", "/../a", "/a"),
            ("sprig_clean", "../../a/..", "../.."),
            ("sprig_clean", "", "."),
            ("sprig_ext", "a/b.tar.gz", ".gz"),
            ("sprig_ext", "a.d/b", ""),
            ("sprig_isAbs", "/x", "true"),
            ("sprig_osIsAbs", "x", "false"),
        ] {
            assert_eq!(run(f, vec![s(input)]), want, "{f} {input}");
        }
    }
}
