//! Sprig's regular expressions (`regexMatch regexFind regexFindAll regexReplaceAll
//! regexReplaceAllLiteral regexSplit regexQuoteMeta` and the `must` forms). Go's RE2 syntax:
//! `\d \w \s \b` are ASCII-only there (Rust's are Unicode), so patterns are translated before
//! compiling. A bad pattern panics in the plain form and is an error in the `must` form.

use super::{arity, check_size, int_arg, str_arg, strings_value};
use crate::funcs::{Def, R};
use crate::value::Value;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_regexMatch", |a| {
        is_match("sprig_regexMatch", a, false)
    }),
    Def::new("sprig_mustRegexMatch", |a| {
        is_match("sprig_mustRegexMatch", a, true)
    }),
    Def::new("sprig_regexFindAll", |a| {
        find_all("sprig_regexFindAll", a, false)
    }),
    Def::new("sprig_mustRegexFindAll", |a| {
        find_all("sprig_mustRegexFindAll", a, true)
    }),
    Def::new("sprig_regexFind", |a| find("sprig_regexFind", a, false)),
    Def::new("sprig_mustRegexFind", |a| {
        find("sprig_mustRegexFind", a, true)
    }),
    Def::new("sprig_regexReplaceAll", |a| {
        replace("sprig_regexReplaceAll", a, false, false)
    }),
    Def::new("sprig_mustRegexReplaceAll", |a| {
        replace("sprig_mustRegexReplaceAll", a, true, false)
    }),
    Def::new("sprig_regexReplaceAllLiteral", |a| {
        replace("sprig_regexReplaceAllLiteral", a, false, true)
    }),
    Def::new("sprig_mustRegexReplaceAllLiteral", |a| {
        replace("sprig_mustRegexReplaceAllLiteral", a, true, true)
    }),
    Def::new("sprig_regexSplit", |a| split("sprig_regexSplit", a, false)),
    Def::new("sprig_mustRegexSplit", |a| {
        split("sprig_mustRegexSplit", a, true)
    }),
    Def::new("sprig_regexQuoteMeta", |a| {
        arity("sprig_regexQuoteMeta", &a, 1)?;
        Ok(Value::str(quote_meta(str_arg(&a[0])?)))
    }),
];

/// Compile a Go pattern; `must` chooses the error form (`regexp.Compile`'s error, or
/// `MustCompile`'s panic text).
fn compile(re: &str, must: bool) -> Result<regex::Regex, String> {
    let translated = translate(re);
    regex::RegexBuilder::new(&translated)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let detail = e.to_string();
            let last = detail.lines().last().unwrap_or("invalid pattern").trim();
            let last = last.strip_prefix("error: ").unwrap_or(last);
            let msg = format!("error parsing regexp: {last}: `{re}`");
            if must {
                msg
            } else {
                format!("regexp: Compile(`{re}`): {msg}")
            }
        })
}

/// Go's ASCII Perl classes and word boundaries in Rust's syntax; `\Q…\E` quoted.
fn translate(re: &str) -> String {
    let mut out = String::with_capacity(re.len() + 16);
    let mut it = re.chars().peekable();
    let mut class_depth = 0usize;
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                let Some(n) = it.next() else {
                    out.push('\\');
                    break;
                };
                let inside = class_depth > 0;
                let rep = match (n, inside) {
                    ('d', false) => "[0-9]",
                    ('d', true) => "0-9",
                    ('D', _) => "[^0-9]",
                    ('w', false) => "[0-9A-Za-z_]",
                    ('w', true) => "0-9A-Za-z_",
                    ('W', _) => "[^0-9A-Za-z_]",
                    ('s', false) => "[\\t\\n\\f\\r ]",
                    ('s', true) => "\\t\\n\\f\\r ",
                    ('S', _) => "[^\\t\\n\\f\\r ]",
                    ('b', false) => "(?-u:\\b)",
                    ('B', false) => "(?-u:\\B)",
                    ('Q', false) => {
                        let mut lit = String::new();
                        while let Some(q) = it.next() {
                            if q == '\\' && it.peek() == Some(&'E') {
                                it.next();
                                break;
                            }
                            lit.push(q);
                        }
                        out.push_str(&regex::escape(&lit));
                        continue;
                    }
                    _ => {
                        out.push('\\');
                        out.push(n);
                        continue;
                    }
                };
                out.push_str(rep);
            }
            '[' => {
                class_depth += 1;
                out.push('[');
                // A `]` right after `[` or `[^` is a literal in both syntaxes.
                if it.peek() == Some(&'^') {
                    out.push('^');
                    it.next();
                }
                if it.peek() == Some(&']') {
                    out.push_str("\\]");
                    it.next();
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                out.push(']');
            }
            other => out.push(other),
        }
    }
    out
}

fn is_match(name: &str, a: Vec<Value>, must: bool) -> R {
    arity(name, &a, 2)?;
    let (re, s) = (str_arg(&a[0])?, str_arg(&a[1])?);
    Ok(Value::Bool(compile(re, must)?.is_match(s)))
}

fn find(name: &str, a: Vec<Value>, must: bool) -> R {
    arity(name, &a, 2)?;
    let (re, s) = (str_arg(&a[0])?, str_arg(&a[1])?);
    Ok(Value::str(
        compile(re, must)?.find(s).map_or("", |m| m.as_str()),
    ))
}

fn find_all(name: &str, a: Vec<Value>, must: bool) -> R {
    arity(name, &a, 3)?;
    let (re, s, n) = (str_arg(&a[0])?, str_arg(&a[1])?, int_arg(&a[2])?);
    let re = compile(re, must)?;
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let found: Vec<String> = re
        .find_iter(s)
        .take(limit)
        .map(|m| m.as_str().to_owned())
        .collect();
    Ok(strings_value(found))
}

fn replace(name: &str, a: Vec<Value>, must: bool, literal: bool) -> R {
    arity(name, &a, 3)?;
    let (re, s, with) = (str_arg(&a[0])?, str_arg(&a[1])?, str_arg(&a[2])?);
    let re = compile(re, must)?;
    // Each match's replacement expands to at most the replacement plus, per `$` in it, the
    // whole input.
    let per_match = with
        .len()
        .saturating_add(with.matches('$').count().saturating_mul(s.len()));
    check_size(
        name,
        re.find_iter(s)
            .count()
            .saturating_mul(per_match)
            .saturating_add(s.len()),
    )?;
    let out = if literal {
        re.replace_all(s, regex::NoExpand(with)).into_owned()
    } else {
        re.replace_all(s, with).into_owned()
    };
    Ok(Value::str(out))
}

/// `Regexp.Split(s, n)`.
fn split(name: &str, a: Vec<Value>, must: bool) -> R {
    arity(name, &a, 3)?;
    let (re_text, s, n) = (str_arg(&a[0])?, str_arg(&a[1])?, int_arg(&a[2])?);
    let re = compile(re_text, must)?;
    if n == 0 {
        return Ok(strings_value(Vec::new()));
    }
    if !re_text.is_empty() && s.is_empty() {
        return Ok(strings_value(vec![String::new()]));
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut parts = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in re.find_iter(s).take(limit) {
        if n > 0 && parts.len() == limit - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            parts.push(s[beg..end].to_owned());
        }
        beg = m.end();
    }
    if end != s.len() {
        parts.push(s[beg..].to_owned());
    }
    Ok(strings_value(parts))
}

/// `regexp.QuoteMeta`: a backslash before each of `\.+*?()|[]{}^$`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{run, s};
    use crate::value::Value;

    #[test]
    fn regex_functions_follow_go() {
        let i = Value::Int;
        assert_eq!(
            run(
                "sprig_regexMatch",
                vec![s("^[a-z]+@x\\.com$"), s("me@x.com")]
            ),
            "true"
        );
        // Go's \d is ASCII: an Arabic-Indic digit does not match.
        assert_eq!(run("sprig_regexMatch", vec![s("^\\d$"), s("٣")]), "false");
        assert_eq!(
            run(
                "sprig_regexFindAll",
                vec![s("[2,4,6,8]"), s("123456789"), i(-1)]
            ),
            "[2 4 6 8]"
        );
        assert_eq!(
            run("sprig_regexFindAll", vec![s("a*"), s("baaa"), i(-1)]),
            "[ aaa]"
        );
        assert_eq!(
            run("sprig_regexFindAll", vec![s("\\d"), s("1a2b3"), i(2)]),
            "[1 2]"
        );
        assert_eq!(
            run("sprig_regexFind", vec![s("[a-zA-Z][1-9]"), s("abcd1234")]),
            "d1"
        );
        assert_eq!(
            run(
                "sprig_regexReplaceAll",
                vec![s("a(x*)b"), s("-ab-axxb-"), s("${1}W")]
            ),
            "-W-xxW-"
        );
        assert_eq!(
            run(
                "sprig_regexReplaceAllLiteral",
                vec![s("a(x*)b"), s("-ab-axxb-"), s("${1}")]
            ),
            "-${1}-${1}-"
        );
        assert_eq!(
            run("sprig_regexSplit", vec![s("z+"), s("pizza"), i(-1)]),
            "[pi a]"
        );
        assert_eq!(
            run("sprig_regexSplit", vec![s("z+"), s("pizza"), i(1)]),
            "[pizza]"
        );
        assert_eq!(
            run("sprig_regexSplit", vec![s(""), s("abc"), i(-1)]),
            "[a b c]"
        );
        assert_eq!(
            run("sprig_regexQuoteMeta", vec![s("1.5-2.0?")]),
            "1\\.5-2\\.0\\?"
        );
        assert!(
            run("sprig_regexMatch", vec![s("("), s("x")]).starts_with("ERR: regexp: Compile(`(`)")
        );
        assert!(run("sprig_mustRegexMatch", vec![s("("), s("x")])
            .starts_with("ERR: error parsing regexp"));
        assert_eq!(
            run("sprig_regexMatch", vec![s("[\\d]\\Q.*\\E"), s("5.*")]),
            "true"
        );
    }
}
