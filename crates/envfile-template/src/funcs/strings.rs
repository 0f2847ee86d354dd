//! String functions from consul-template: `trimSpace trim trimPrefix trimSuffix toLower toUpper
//! toTitle replaceAll split splitToMap join indent regexMatch regexReplaceAll`. Argument order
//! is consul-template's (the string last, so they pipe: `{{ .x | replaceAll "a" "b" }}`).

use super::{args_n, string_arg, strs_n, want_args, Def, R};
use crate::value::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) const FUNCS: &[Def] = &[
    Def::new("trimSpace", |a| {
        let [s] = strs_n("trimSpace", &a)?;
        Ok(Value::str(s.trim_matches(go_space)))
    }),
    Def::new("trim", |a| {
        let [cut, s] = strs_n("trim", &a)?;
        Ok(Value::str(s.trim_matches(|c| cut.contains(c))))
    }),
    Def::new("trimPrefix", |a| {
        let [p, s] = strs_n("trimPrefix", &a)?;
        Ok(Value::str(s.strip_prefix(p).unwrap_or(s)))
    }),
    Def::new("trimSuffix", |a| {
        let [p, s] = strs_n("trimSuffix", &a)?;
        Ok(Value::str(s.strip_suffix(p).unwrap_or(s)))
    }),
    Def::new("toLower", |a| {
        let [s] = strs_n("toLower", &a)?;
        Ok(Value::str(map_chars(s, |c| c.to_lowercase())))
    }),
    Def::new("toUpper", |a| {
        let [s] = strs_n("toUpper", &a)?;
        Ok(Value::str(map_chars(s, |c| c.to_uppercase())))
    }),
    Def::new("toTitle", |a| {
        let [s] = strs_n("toTitle", &a)?;
        Ok(Value::str(title(s)))
    }),
    Def::new("replaceAll", |a| {
        let [from, to, s] = strs_n("replaceAll", &a)?;
        Ok(Value::str(go_replace_all(s, from, to)))
    }),
    Def::new("split", split),
    Def::new("splitToMap", split_to_map),
    Def::new("join", join),
    Def::new("indent", indent),
    Def::new("regexMatch", |a| {
        let [re, s] = strs_n("regexMatch", &a)?;
        Ok(Value::Bool(regex(re)?.is_match(s)))
    }),
    Def::new("regexReplaceAll", |a| {
        let [re, with, s] = strs_n("regexReplaceAll", &a)?;
        Ok(Value::str(regex(re)?.replace_all(s, with).into_owned()))
    }),
];

/// `unicode.IsSpace`, which `strings.TrimSpace` uses.
pub(crate) fn go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || (c > '\u{ff}' && c.is_whitespace())
}

/// Go's `strings.ToUpper`/`ToLower` map each character by its simple case mapping: a character
/// whose full mapping is several characters (`ß` → `SS`) stays as it is.
fn map_chars<I: ExactSizeIterator<Item = char>>(s: &str, f: impl Fn(char) -> I) -> String {
    s.chars()
        .map(|c| {
            let mut m = f(c);
            if m.len() == 1 {
                m.next().unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// `cases.Title(language.Und, cases.NoLower)`: the first cased letter of each word upper-cased
/// (title case), the rest untouched. Words are runs of letters, digits, `_` and apostrophes
/// (`x_y` → `X_y`, `3d` → `3D`).
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut need_upper = true;
    for c in s.chars() {
        let word = c.is_alphanumeric() || matches!(c, '_' | '\'' | '’');
        if !word {
            need_upper = true;
            out.push(c);
        } else if need_upper && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            need_upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `strings.ReplaceAll`: an empty `from` inserts `to` around every character.
fn go_replace_all(s: &str, from: &str, to: &str) -> String {
    if from.is_empty() {
        let mut out = String::from(to);
        for c in s.chars() {
            out.push(c);
            out.push_str(to);
        }
        return out;
    }
    s.replace(from, to)
}

/// Go's RE2 and Rust's `regex` share the syntax and the `$1`/`${name}` expansion.
fn regex(re: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(re).map_err(|e| format!("error parsing regexp: {e}"))
}

/// `split SEP S`: the trimmed string split (an empty string is an empty list); a `[]string`.
fn split(args: Vec<Value>) -> R {
    let [sep, s] = strs_n("split", &args)?;
    let s = s.trim_matches(go_space);
    if s.is_empty() {
        return Ok(Value::Strings(Arc::new(Vec::new())));
    }
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::str(c.to_string())).collect()
    } else {
        s.split(sep).map(Value::str).collect()
    };
    Ok(Value::Strings(Arc::new(parts)))
}

fn split_to_map(args: Vec<Value>) -> R {
    let [sep1, sep2, s] = strs_n("splitToMap", &args)?;
    let s = s.trim_matches(go_space);
    let mut m = BTreeMap::new();
    if !s.is_empty() {
        for part in s.split(sep1) {
            if let Some((k, v)) = part.split_once(sep2) {
                m.insert(k.to_owned(), Value::str(v));
            }
        }
    }
    Ok(Value::Map(Arc::new(Map::new(m, false))))
}

/// `join SEP LIST`: Go requires a `[]string` (what `split` returns); a JSON array is a
/// `[]interface {}` and is refused as the agent refuses it.
fn join(args: Vec<Value>) -> R {
    want_args("join", &args, 2)?;
    let sep = string_arg(&args[0])?;
    match &args[1] {
        Value::Strings(l) => {
            let parts: Vec<&str> = l.iter().filter_map(Value::as_text).collect();
            Ok(Value::str(parts.join(sep)))
        }
        other => Err(format!(
            "wrong type for value; expected []string; got {}",
            other.type_name()
        )),
    }
}

fn indent(args: Vec<Value>) -> R {
    let [n, s] = args_n("indent", args)?;
    let n = match n {
        Value::Int(i) => i,
        other => {
            return Err(format!(
                "wrong type for value; expected int; got {}",
                other.type_name()
            ))
        }
    };
    if n < 0 {
        return Err("indent value must be a positive integer".into());
    }
    let s = string_arg(&s)?;
    let n = usize::try_from(n).map_err(|_| "indent value is too large".to_owned())?;
    if n.saturating_mul(s.len() + 1) > crate::limits::MAX_OUTPUT {
        return Err("indent: the result would exceed the output size limit".into());
    }
    let prefix = " ".repeat(n);
    let mut out = String::with_capacity(s.len());
    let mut line_start = true;
    for c in s.chars() {
        if line_start && c != '\n' {
            out.push_str(&prefix);
        }
        out.push(c);
        line_start = c == '\n';
    }
    Ok(Value::str(out))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{j, run, s};
    use crate::value::Value;

    #[test]
    fn trims() {
        assert_eq!(run("trimSpace", vec![s("\t x \n")]), "x");
        assert_eq!(run("trim", vec![s("-_"), s("-_a-b_-")]), "a-b");
        assert_eq!(run("trimPrefix", vec![s("ab"), s("abcab")]), "cab");
        assert_eq!(run("trimSuffix", vec![s("ab"), s("abcab")]), "abc");
        assert_eq!(
            run("trimSpace", vec![j("1")]),
            "ERR: wrong type for value; expected string; got json.Number"
        );
    }

    #[test]
    fn cases() {
        assert_eq!(run("toUpper", vec![s("héllo ß")]), "HÉLLO ß");
        assert_eq!(run("toLower", vec![s("HÉLLO")]), "héllo");
        assert_eq!(
            run("toTitle", vec![s("hello wORLD-foo bar's")]),
            "Hello WORLD-Foo Bar's"
        );
    }

    #[test]
    fn replace_split_join() {
        assert_eq!(
            run("replaceAll", vec![s("a"), s("b"), s("banana")]),
            "bbnbnb"
        );
        assert_eq!(run("replaceAll", vec![s(""), s("-"), s("ab")]), "-a-b-");
        assert_eq!(run("split", vec![s(","), s(" a,b,,c \n")]), "[a b  c]");
        assert_eq!(run("split", vec![s(","), s("  ")]), "[]");
        let parts = super::split(vec![s(","), s("a,b")]).unwrap();
        assert_eq!(run("join", vec![s("+"), parts]), "a+b");
        assert_eq!(
            run("join", vec![s("+"), j(r#"["a"]"#)]),
            "ERR: wrong type for value; expected []string; got []interface {}"
        );
        assert_eq!(
            run("splitToMap", vec![s(","), s("="), s("a=1,b=2=3,c")]),
            "map[a:1 b:2=3]"
        );
    }

    #[test]
    fn indent_and_regex() {
        assert_eq!(
            run("indent", vec![Value::Int(2), s("a\n\nb\n")]),
            "  a\n\n  b\n"
        );
        assert_eq!(
            run("indent", vec![Value::Int(-1), s("a")]),
            "ERR: indent value must be a positive integer"
        );
        assert_eq!(run("regexMatch", vec![s("^a.c$"), s("abc")]), "true");
        assert_eq!(
            run(
                "regexReplaceAll",
                vec![s("(a)(b)?"), s("<$1${2}>"), s("abac")]
            ),
            "<ab><a>c"
        );
        assert!(run("regexMatch", vec![s("("), s("x")]).starts_with("ERR: error parsing regexp"));
    }
}
