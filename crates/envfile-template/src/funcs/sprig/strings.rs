//! Sprig's string functions (`sprig_upper`, `sprig_trunc`, `sprig_quote`, `sprig_split`...).
//! Lengths and indexes are in bytes, as in Go; the string argument comes last so they pipe.

use super::math::until_step;
use super::{arity, check_size, int_arg, is_nil, str_arg, strings_value, strslice, strval};

/// Join `parts` with `sep`, refusing a result over the output limit before building it.
fn join_checked(name: &str, parts: &[String], sep: &str) -> Result<String, String> {
    let total = parts
        .iter()
        .map(String::len)
        .fold(0usize, usize::saturating_add)
        .saturating_add(sep.len().saturating_mul(parts.len().saturating_sub(1)));
    check_size(name, total)?;
    Ok(parts.join(sep))
}
use crate::funcs::fmt::go_quote;
use crate::funcs::strings::go_space;
use crate::funcs::{Def, R};
use crate::value::Value;
use rand::Rng;
use std::collections::BTreeMap;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_hello", |a| {
        arity("sprig_hello", &a, 0)?;
        Ok(Value::str("Hello!"))
    }),
    Def::new("sprig_abbrev", |a| {
        arity("sprig_abbrev", &a, 2)?;
        let (w, s) = (int_arg(&a[0])?, str_arg(&a[1])?);
        Ok(Value::str(if w < 4 {
            s.to_owned()
        } else {
            abbreviate(s, 0, w)
        }))
    }),
    Def::new("sprig_abbrevboth", |a| {
        arity("sprig_abbrevboth", &a, 3)?;
        let (l, r, s) = (int_arg(&a[0])?, int_arg(&a[1])?, str_arg(&a[2])?);
        if r < 4 || (l > 0 && r < 7) {
            return Ok(Value::str(s));
        }
        Ok(Value::str(abbreviate(s, l, r)))
    }),
    Def::new("sprig_trunc", |a| {
        arity("sprig_trunc", &a, 2)?;
        let (c, s) = (int_arg(&a[0])?, str_arg(&a[1])?);
        let len = s.len() as i64;
        let out = if c < 0 && len + c > 0 {
            byte_slice(s, (len + c) as usize, s.len())
        } else if c >= 0 && len > c {
            byte_slice(s, 0, c as usize)
        } else {
            s.to_owned()
        };
        Ok(Value::str(out))
    }),
    Def::new("sprig_trim", |a| {
        str1("sprig_trim", a, |s| s.trim_matches(go_space).into())
    }),
    Def::new("sprig_upper", |a| {
        str1("sprig_upper", a, |s| map_case(s, Case::Upper))
    }),
    Def::new("sprig_lower", |a| {
        str1("sprig_lower", a, |s| map_case(s, Case::Lower))
    }),
    Def::new("sprig_title", |a| str1("sprig_title", a, title)),
    Def::new("sprig_untitle", |a| {
        str1("sprig_untitle", a, |s| {
            let mut c = s.chars();
            match c.next() {
                Some(f) => map_case(&f.to_string(), Case::Lower) + c.as_str(),
                None => String::new(),
            }
        })
    }),
    Def::new("sprig_substr", substr),
    Def::new("sprig_repeat", |a| {
        arity("sprig_repeat", &a, 2)?;
        let (n, s) = (int_arg(&a[0])?, str_arg(&a[1])?);
        let n = usize::try_from(n).map_err(|_| "strings: negative Repeat count".to_owned())?;
        check_size("sprig_repeat", n.saturating_mul(s.len()))?;
        Ok(Value::str(s.repeat(n)))
    }),
    Def::new("sprig_trimall", |a| trim_all("sprig_trimall", a)),
    Def::new("sprig_trimAll", |a| trim_all("sprig_trimAll", a)),
    Def::new("sprig_trimSuffix", |a| {
        arity("sprig_trimSuffix", &a, 2)?;
        let (p, s) = (str_arg(&a[0])?, str_arg(&a[1])?);
        Ok(Value::str(s.strip_suffix(p).unwrap_or(s)))
    }),
    Def::new("sprig_trimPrefix", |a| {
        arity("sprig_trimPrefix", &a, 2)?;
        let (p, s) = (str_arg(&a[0])?, str_arg(&a[1])?);
        Ok(Value::str(s.strip_prefix(p).unwrap_or(s)))
    }),
    Def::new("sprig_nospace", |a| {
        str1("sprig_nospace", a, |s| {
            s.chars().filter(|&c| !go_space(c)).collect()
        })
    }),
    Def::new("sprig_initials", |a| str1("sprig_initials", a, initials)),
    Def::new("sprig_randAlphaNum", |a| {
        random(
            "sprig_randAlphaNum",
            a,
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        )
    }),
    Def::new("sprig_randAlpha", |a| {
        random(
            "sprig_randAlpha",
            a,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        )
    }),
    Def::new("sprig_randNumeric", |a| {
        random("sprig_randNumeric", a, b"0123456789")
    }),
    Def::new("sprig_randAscii", |a| {
        // goutils draws from the printable ASCII range 32..=126.
        const ASCII: &[u8; 95] = &{
            let mut t = [0u8; 95];
            let mut i = 0;
            while i < 95 {
                t[i] = 32 + i as u8;
                i += 1;
            }
            t
        };
        random("sprig_randAscii", a, ASCII)
    }),
    Def::new("sprig_swapcase", |a| str1("sprig_swapcase", a, swapcase)),
    Def::new("sprig_shuffle", |a| {
        str1("sprig_shuffle", a, |s| {
            let mut c: Vec<char> = s.chars().collect();
            rand::seq::SliceRandom::shuffle(c.as_mut_slice(), &mut rand::thread_rng());
            c.into_iter().collect()
        })
    }),
    Def::new("sprig_snakecase", |a| {
        str1("sprig_snakecase", a, |s| words_joined(s, '_'))
    }),
    Def::new("sprig_kebabcase", |a| {
        str1("sprig_kebabcase", a, |s| words_joined(s, '-'))
    }),
    Def::new("sprig_camelcase", |a| str1("sprig_camelcase", a, camelcase)),
    Def::new("sprig_wrap", |a| {
        arity("sprig_wrap", &a, 2)?;
        let (l, s) = (int_arg(&a[0])?, str_arg(&a[1])?);
        Ok(Value::str(wrap(s, l, "\n", false)))
    }),
    Def::new("sprig_wrapWith", |a| {
        arity("sprig_wrapWith", &a, 3)?;
        let (l, sep, s) = (int_arg(&a[0])?, str_arg(&a[1])?, str_arg(&a[2])?);
        // At most one break per byte of input.
        check_size(
            "sprig_wrapWith",
            s.len().saturating_mul(sep.len().max(1) + 1),
        )?;
        Ok(Value::str(wrap(s, l, sep, true)))
    }),
    Def::new("sprig_contains", |a| {
        str2("sprig_contains", a, |sub, s| Value::Bool(s.contains(sub)))
    }),
    Def::new("sprig_hasPrefix", |a| {
        str2("sprig_hasPrefix", a, |p, s| Value::Bool(s.starts_with(p)))
    }),
    Def::new("sprig_hasSuffix", |a| {
        str2("sprig_hasSuffix", a, |p, s| Value::Bool(s.ends_with(p)))
    }),
    Def::new("sprig_quote", |a| {
        let mut out = Vec::new();
        for v in a.iter().filter(|v| !is_nil(v)) {
            let mut q = String::new();
            go_quote(&strval(v), &mut q);
            out.push(q);
        }
        Ok(Value::str(join_checked("sprig_quote", &out, " ")?))
    }),
    Def::new("sprig_squote", |a| {
        // `'%v'`: a JSON number prints as its text, like strval.
        let out: Vec<String> = a
            .iter()
            .filter(|v| !is_nil(v))
            .map(|v| format!("'{}'", strval(v)))
            .collect();
        Ok(Value::str(join_checked("sprig_squote", &out, " ")?))
    }),
    Def::new("sprig_cat", |a| {
        let out: Vec<String> = a.iter().filter(|v| !is_nil(v)).map(strval).collect();
        Ok(Value::str(join_checked("sprig_cat", &out, " ")?))
    }),
    Def::new("sprig_indent", |a| {
        arity("sprig_indent", &a, 2)?;
        Ok(Value::str(indent("sprig_indent", &a)?))
    }),
    Def::new("sprig_nindent", |a| {
        arity("sprig_nindent", &a, 2)?;
        Ok(Value::str(format!("\n{}", indent("sprig_nindent", &a)?)))
    }),
    Def::new("sprig_replace", |a| {
        arity("sprig_replace", &a, 3)?;
        let (old, new, s) = (str_arg(&a[0])?, str_arg(&a[1])?, str_arg(&a[2])?);
        let hits = if old.is_empty() {
            s.chars().count() + 1
        } else {
            s.matches(old).count()
        };
        let size = (s.len() - hits.min(s.len()) * old.len().min(s.len()))
            .saturating_add(hits.saturating_mul(new.len()));
        check_size("sprig_replace", size)?;
        Ok(Value::str(go_replace(s, old, new)))
    }),
    Def::new("sprig_plural", |a| {
        arity("sprig_plural", &a, 3)?;
        let (one, many, n) = (str_arg(&a[0])?, str_arg(&a[1])?, int_arg(&a[2])?);
        Ok(Value::str(if n == 1 { one } else { many }))
    }),
    Def::new("sprig_toString", |a| {
        arity("sprig_toString", &a, 1)?;
        Ok(Value::str(strval(&a[0])))
    }),
    Def::new("sprig_toStrings", |a| {
        arity("sprig_toStrings", &a, 1)?;
        Ok(strings_value(strslice(&a[0])))
    }),
    Def::new("sprig_join", |a| {
        arity("sprig_join", &a, 2)?;
        let sep = str_arg(&a[0])?;
        Ok(Value::str(join_checked(
            "sprig_join",
            &strslice(&a[1]),
            sep,
        )?))
    }),
    Def::new("sprig_sortAlpha", |a| {
        arity("sprig_sortAlpha", &a, 1)?;
        let mut v = match &a[0] {
            Value::List(_) | Value::Strings(_) => strslice(&a[0]),
            other => vec![strval(other)],
        };
        v.sort_unstable();
        Ok(strings_value(v))
    }),
    Def::new("sprig_splitList", |a| {
        arity("sprig_splitList", &a, 2)?;
        let (sep, s) = (str_arg(&a[0])?, str_arg(&a[1])?);
        Ok(strings_value(go_split(s, sep, None)))
    }),
    Def::new("sprig_split", |a| {
        arity("sprig_split", &a, 2)?;
        let (sep, s) = (str_arg(&a[0])?, str_arg(&a[1])?);
        Ok(index_map(go_split(s, sep, None)))
    }),
    Def::new("sprig_splitn", |a| {
        arity("sprig_splitn", &a, 3)?;
        let (sep, n, s) = (str_arg(&a[0])?, int_arg(&a[1])?, str_arg(&a[2])?);
        Ok(index_map(go_split(s, sep, Some(n))))
    }),
    Def::new("sprig_fail", |a| {
        arity("sprig_fail", &a, 1)?;
        Err(str_arg(&a[0])?.to_owned())
    }),
    // The process environment, as the consul-template `env` function already reads it (the
    // agent's sprig reads its own environment the same way).
    Def::new("sprig_env", |a| {
        arity("sprig_env", &a, 1)?;
        Ok(Value::str(
            std::env::var(str_arg(&a[0])?).unwrap_or_default(),
        ))
    }),
    Def::new("sprig_expandenv", |a| {
        arity("sprig_expandenv", &a, 1)?;
        Ok(Value::str(go_expand(str_arg(&a[0])?, |k| {
            std::env::var(k).unwrap_or_default()
        })))
    }),
    Def::new("sprig_getHostByName", |a| {
        arity("sprig_getHostByName", &a, 1)?;
        let host = str_arg(&a[0])?;
        use std::net::ToSocketAddrs;
        let addrs: Vec<String> = (host, 0)
            .to_socket_addrs()
            .map(|it| it.map(|s| s.ip().to_string()).collect())
            .unwrap_or_default();
        if addrs.is_empty() {
            // Sprig indexes a random element of the empty answer: Go panics with this text.
            return Err("invalid argument to Intn".into());
        }
        let i = rand::thread_rng().gen_range(0..addrs.len());
        Ok(Value::str(addrs[i].clone()))
    }),
    Def::new("sprig_seq", seq),
];

/// Go's `os.Expand`: `$NAME` (letters, digits, `_`) and `${NAME}` are replaced by `lookup`,
/// `$` plus one of `*#$@!?-` or a digit is that one-character name; `${}` and an unclosed `${`
/// are bad syntax, dropped with what they span; a `$` followed by nothing valid stays.
fn go_expand(s: &str, lookup: impl Fn(&str) -> String) -> String {
    let b = s.as_bytes();
    let special =
        |c: u8| matches!(c, b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-') || c.is_ascii_digit();
    let alnum = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
    let mut out = String::with_capacity(s.len());
    let (mut i, mut j) = (0, 0);
    while j < b.len() {
        if b[j] != b'$' || j + 1 >= b.len() {
            j += 1;
            continue;
        }
        out.push_str(&s[i..j]);
        let rest = &b[j + 1..];
        // (name as a byte range of `rest`, bytes of `rest` consumed)
        let (name, used): (Option<(usize, usize)>, usize) = if rest[0] == b'{' {
            if rest.len() > 2 && special(rest[1]) && rest[2] == b'}' {
                (Some((1, 2)), 3)
            } else {
                match rest.iter().skip(1).position(|&c| c == b'}') {
                    Some(0) => (None, 2),
                    Some(n) => (Some((1, n + 1)), n + 2),
                    None => (None, 1),
                }
            }
        } else if special(rest[0]) {
            (Some((0, 1)), 1)
        } else {
            let n = rest.iter().take_while(|&&c| alnum(c)).count();
            ((n > 0).then_some((0, n)), n)
        };
        match name {
            // All the delimiters are ASCII, so these byte offsets are character boundaries.
            Some((from, to)) => out.push_str(&lookup(&s[j + 1 + from..j + 1 + to])),
            None if used == 0 => out.push('$'),
            None => {}
        }
        j += used + 1;
        i = j;
    }
    out.push_str(&s[i..]);
    out
}

fn str1(name: &str, a: Vec<Value>, f: impl Fn(&str) -> String) -> R {
    arity(name, &a, 1)?;
    Ok(Value::str(f(str_arg(&a[0])?)))
}

fn str2(name: &str, a: Vec<Value>, f: impl Fn(&str, &str) -> Value) -> R {
    arity(name, &a, 2)?;
    Ok(f(str_arg(&a[0])?, str_arg(&a[1])?))
}

fn trim_all(name: &str, a: Vec<Value>) -> R {
    arity(name, &a, 2)?;
    let (cut, s) = (str_arg(&a[0])?, str_arg(&a[1])?);
    Ok(Value::str(s.trim_matches(|c| cut.contains(c))))
}

/// Bytes `from..to` of `s`; Go slices bytes, so a cut inside a character yields invalid UTF-8,
/// which envfile's strings cannot hold: those bytes become U+FFFD.
fn byte_slice(s: &str, from: usize, to: usize) -> String {
    String::from_utf8_lossy(&s.as_bytes()[from..to]).into_owned()
}

/// `substr START END S`, with Go's panics for bounds it cannot slice.
fn substr(a: Vec<Value>) -> R {
    arity("sprig_substr", &a, 3)?;
    let (start, end, s) = (int_arg(&a[0])?, int_arg(&a[1])?, str_arg(&a[2])?);
    let len = s.len() as i64;
    let oob = |m: String| Err(format!("runtime error: slice bounds out of range {m}"));
    if start < 0 {
        if end < 0 {
            return oob(format!("[:{end}]"));
        }
        if end > len {
            return oob(format!("[:{end}] with length {len}"));
        }
        return Ok(Value::str(byte_slice(s, 0, end as usize)));
    }
    if end < 0 || end > len {
        if start > len {
            return oob(format!("[{start}:{len}]"));
        }
        return Ok(Value::str(byte_slice(s, start as usize, s.len())));
    }
    if start > end {
        return oob(format!("[{start}:{end}]"));
    }
    Ok(Value::str(byte_slice(s, start as usize, end as usize)))
}

/// goutils `AbbreviateFull(s, offset, width)` (width >= 4 checked by the callers).
fn abbreviate(s: &str, offset: i64, width: i64) -> String {
    let len = s.len() as i64;
    if len <= width {
        return s.to_owned();
    }
    let mut offset = offset.min(len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    if offset <= 4 {
        return byte_slice(s, 0, (width - 3) as usize) + "...";
    }
    if width < 7 {
        return s.to_owned();
    }
    if offset + width - 3 < len {
        let rest = String::from_utf8_lossy(&s.as_bytes()[offset as usize..]).into_owned();
        return format!("...{}", abbreviate(&rest, 0, width - 3));
    }
    format!(
        "...{}",
        byte_slice(s, (len - (width - 3)) as usize, s.len())
    )
}

#[derive(Clone, Copy)]
enum Case {
    Upper,
    Lower,
}

/// Go's `unicode.ToUpper`/`ToLower` per character: one character in, one out.
fn map_case(s: &str, case: Case) -> String {
    s.chars().map(|c| case_char(c, case)).collect()
}

fn case_char(c: char, case: Case) -> char {
    // The one character whose full lower-case mapping is longer than its simple one (Go's).
    if c == '\u{130}' {
        return match case {
            Case::Upper => c,
            Case::Lower => 'i',
        };
    }
    let one = |mut it: &mut dyn ExactSizeIterator<Item = char>| {
        if it.len() == 1 {
            it.next().unwrap_or(c)
        } else {
            let _ = &mut it;
            c
        }
    };
    match case {
        Case::Upper => one(&mut c.to_uppercase()),
        Case::Lower => one(&mut c.to_lowercase()),
    }
}

/// `strings.Title`: upper-case each letter that follows a separator (anything but an ASCII
/// letter, digit or `_`, or a non-ASCII letter or digit).
fn title(s: &str) -> String {
    let sep = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else {
            !(c.is_alphanumeric()) && c.is_whitespace()
        }
    };
    let mut prev = ' ';
    s.chars()
        .map(|c| {
            let out = if sep(prev) {
                case_char(c, Case::Upper)
            } else {
                c
            };
            prev = c;
            out
        })
        .collect()
}

/// goutils `Initials`: the first character of each whitespace-separated word.
fn initials(s: &str) -> String {
    let mut gap = true;
    let mut out = String::new();
    for c in s.chars() {
        if go_space(c) {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    out
}

/// Unicode's title-case letters (category Lt: `ǅ`, `ǈ`, `ǋ`, `ǲ` and the Greek ones).
fn is_titlecase(c: char) -> bool {
    matches!(c as u32, 0x1c5 | 0x1c8 | 0x1cb | 0x1f2 | 0x1f88..=0x1f8f | 0x1f98..=0x1f9f
        | 0x1fa8..=0x1faf | 0x1fbc | 0x1fcc | 0x1ffc)
}

/// goutils `SwapCase`: upper- and title-case letters lowered, lower-case ones raised.
fn swapcase(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_uppercase() || is_titlecase(c) {
                case_char(c, Case::Lower)
            } else if c.is_lowercase() {
                case_char(c, Case::Upper)
            } else {
                c
            }
        })
        .collect()
}

fn is_connector(c: char) -> bool {
    c == '_' || c == '-' || go_space(c)
}

/// How xstrings classifies the runs of a string it re-cases.
#[derive(Clone, Copy, PartialEq)]
enum Word {
    End,
    Number,
    Upper,
    Alpha,
    Connector,
    Punct,
    Other,
}

/// Go's `unicode.IsPunct` (category P): ASCII punctuation that is not a symbol (`$+<=>^`|~`
/// are symbols), and the common non-ASCII punctuation blocks.
fn is_punct(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_punctuation() && !"$+<=>^`|~".contains(c);
    }
    matches!(c as u32, 0xa1 | 0xa7 | 0xab | 0xb6 | 0xb7 | 0xbb | 0xbf | 0x2010..=0x2027
        | 0x2030..=0x205e | 0x3001..=0x3003 | 0x3008..=0x3011 | 0xff01..=0xff0f)
}

/// xstrings' `isAlphabet`: a letter that is not a CJK ideograph.
fn is_alphabet(c: char) -> bool {
    c.is_alphabetic() && !matches!(c as u32, 0x4e00..=0x9fcc | 0x3400..=0x4d85 | 0x20000..=0x2b81d)
}

/// The next word of `s` (xstrings' `nextWord`): a run of connectors, of punctuation, of digits,
/// a lower-case run, a capitalised word (`Phone`), or an acronym (`HTTP` in `HTTPServer`).
fn next_word(s: &str) -> (Word, &str, &str) {
    let Some(first) = s.chars().next() else {
        return (Word::End, "", "");
    };
    let mut end = first.len_utf8();
    let extend = |end: &mut usize, keep: &dyn Fn(char) -> bool| {
        for c in s[*end..].chars() {
            if !keep(c) {
                break;
            }
            *end += c.len_utf8();
        }
    };
    let wt = if is_connector(first) {
        extend(&mut end, &is_connector);
        Word::Connector
    } else if is_punct(first) {
        extend(&mut end, &is_punct);
        Word::Punct
    } else if first.is_uppercase() {
        match s[end..].chars().next() {
            Some(n) if n.is_uppercase() => {
                let mut last = n.len_utf8();
                end += last;
                let mut after = None;
                for c in s[end..].chars() {
                    if !c.is_uppercase() {
                        after = Some(c);
                        break;
                    }
                    last = c.len_utf8();
                    end += last;
                }
                // The acronym's last capital starts the next word (`HTTPServer`).
                if after.is_some_and(is_alphabet) {
                    end -= last;
                }
            }
            Some(n) if is_alphabet(n) => {
                end += n.len_utf8();
                extend(&mut end, &|c| is_alphabet(c) && !c.is_uppercase());
            }
            _ => {}
        }
        Word::Upper
    } else if is_alphabet(first) {
        extend(&mut end, &|c| is_alphabet(c) && !c.is_uppercase());
        Word::Alpha
    } else if first.is_numeric() {
        extend(&mut end, &char::is_numeric);
        Word::Number
    } else {
        extend(&mut end, &|c| {
            !(is_connector(c) || is_alphabet(c) || c.is_numeric() || is_punct(c))
        });
        Word::Other
    };
    (wt, &s[..end], &s[end..])
}

/// xstrings' `toLower`: acronyms and capitalised words lower-cased, connectors replaced.
fn push_lower(out: &mut String, wt: Word, word: &str, sep: char) {
    if wt != Word::Upper && wt != Word::Connector {
        out.push_str(word);
        return;
    }
    for c in word.chars() {
        if is_connector(c) {
            out.push(sep);
        } else if c.is_uppercase() {
            out.push(case_char(c, Case::Lower));
        } else {
            out.push(c);
        }
    }
}

/// xstrings `ToSnakeCase`/`ToKebabCase` (`camelCaseToLowerCase`): words joined by `sep`, each
/// connector replaced by one `sep`; a number sticks to the word before it unless letters
/// follow it (`ipv4Address` → `ipv4_address`, `HTTP2xx` → `http_2xx`, `a1b2` → `a_1b2`).
fn words_joined(s: &str, sep: char) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let (mut wt, mut word, mut rest) = next_word(s);
    let boundary = |w: Word| !matches!(w, Word::End | Word::Connector | Word::Punct);
    while !rest.is_empty() {
        if wt != Word::Connector {
            push_lower(&mut out, wt, word, sep);
        }
        let (prev, last) = (wt, word);
        (wt, word, rest) = next_word(rest);
        match prev {
            Word::Number => {
                while matches!(wt, Word::Alpha | Word::Number) {
                    push_lower(&mut out, wt, word, sep);
                    (wt, word, rest) = next_word(rest);
                }
                if boundary(wt) {
                    out.push(sep);
                }
            }
            Word::Connector => push_lower(&mut out, prev, last, sep),
            Word::Punct => {}
            _ => {
                if wt != Word::Number {
                    if boundary(wt) {
                        out.push(sep);
                    }
                    continue;
                }
                if rest.is_empty() {
                    continue;
                }
                let number = word;
                (wt, word, rest) = next_word(rest);
                if wt != Word::Alpha {
                    push_lower(&mut out, Word::Number, number, sep);
                    if boundary(wt) {
                        out.push(sep);
                    }
                    continue;
                }
                out.push(sep);
                push_lower(&mut out, Word::Number, number, sep);
                while matches!(wt, Word::Alpha | Word::Number) {
                    push_lower(&mut out, wt, word, sep);
                    (wt, word, rest) = next_word(rest);
                }
                if boundary(wt) {
                    out.push(sep);
                }
            }
        }
    }
    push_lower(&mut out, wt, word, sep);
    out
}

/// xstrings `ToCamelCase` (v1.3, what sprig's `camelcase` calls): the first non-connector and
/// each character after a connector upper-cased, single connectors dropped, a run of connectors
/// kept but for its last, leading connectors kept, the rest unchanged.
fn camelcase(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    let mut r0 = None;
    for c in it.by_ref() {
        if !is_connector(c) {
            r0 = Some(case_char(c, Case::Upper));
            break;
        }
        out.push(c);
    }
    let Some(mut r0) = r0 else {
        return out;
    };
    for c in it {
        let r1 = r0;
        r0 = c;
        if is_connector(r0) && is_connector(r1) {
            out.push(r1);
            continue;
        }
        if is_connector(r1) {
            r0 = case_char(r0, Case::Upper);
        } else {
            out.push(r1);
        }
    }
    out.push(r0);
    out
}

/// goutils `WrapCustom` (byte positions, breaking at spaces).
fn wrap(s: &str, width: i64, nl: &str, long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let nl = if nl.is_empty() { "\n" } else { nl };
    let w = width.max(1) as usize;
    let b = s.as_bytes();
    let piece = |from: usize, to: usize| String::from_utf8_lossy(&b[from..to]).into_owned();
    let mut out = String::with_capacity(s.len());
    let mut off = 0usize;
    while b.len() - off > w {
        if b[off] == b' ' {
            off += 1;
            continue;
        }
        let end = (w + off + 1).min(b.len());
        match b[off..end].iter().rposition(|&c| c == b' ') {
            Some(sp) => {
                out.push_str(&piece(off, off + sp));
                out.push_str(nl);
                off += sp + 1;
            }
            None if long_words => {
                out.push_str(&piece(off, off + w));
                out.push_str(nl);
                off += w;
            }
            None => match b[off + w..].iter().position(|&c| c == b' ') {
                Some(sp) => {
                    out.push_str(&piece(off, off + w + sp));
                    out.push_str(nl);
                    off += w + sp + 1;
                }
                None => {
                    out.push_str(&piece(off, b.len()));
                    off = b.len();
                }
            },
        }
    }
    out.push_str(&piece(off, b.len()));
    out
}

/// Sprig's `indent`: the pad before the text and after every newline (even a trailing one).
fn indent(name: &str, a: &[Value]) -> Result<String, String> {
    let (n, s) = (int_arg(&a[0])?, str_arg(&a[1])?);
    let n = usize::try_from(n).map_err(|_| "strings: negative Repeat count".to_owned())?;
    let lines = s.matches('\n').count() + 1;
    check_size(name, n.saturating_mul(lines).saturating_add(s.len()))?;
    let pad = " ".repeat(n);
    Ok(format!("{pad}{}", s.replace('\n', &format!("\n{pad}"))))
}

/// `strings.Replace(s, old, new, -1)`: an empty `old` matches before every character and at the end.
pub(super) fn go_replace(s: &str, old: &str, new: &str) -> String {
    if !old.is_empty() {
        return s.replace(old, new);
    }
    let mut out = String::with_capacity(s.len() + new.len() * (s.len() + 1));
    out.push_str(new);
    for c in s.chars() {
        out.push(c);
        out.push_str(new);
    }
    out
}

/// `strings.Split`/`SplitN`: an empty separator splits into characters; `n == 0` is no pieces,
/// `n < 0` all of them.
fn go_split(s: &str, sep: &str, n: Option<i64>) -> Vec<String> {
    let n = n.unwrap_or(-1);
    if n == 0 {
        return Vec::new();
    }
    let limit = if n < 0 { usize::MAX } else { n as usize };
    if sep.is_empty() {
        let chars: Vec<char> = s.chars().collect();
        let mut out: Vec<String> = Vec::new();
        for (i, c) in chars.iter().enumerate() {
            if out.len() + 1 == limit {
                out.push(chars[i..].iter().collect());
                return out;
            }
            out.push(c.to_string());
        }
        return out;
    }
    s.splitn(limit, sep).map(str::to_owned).collect()
}

/// Sprig's `split`: a `map[string]string` keyed `_0`, `_1`...
fn index_map(parts: Vec<String>) -> Value {
    let m: BTreeMap<String, Value> = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}"), Value::str(p)))
        .collect();
    Value::map(m)
}

/// A random string of `count` characters from `alphabet` (goutils' crypto variants). A
/// negative count is goutils' error; sprig discards it and prints an empty string.
fn random(name: &str, a: Vec<Value>, alphabet: &[u8]) -> R {
    arity(name, &a, 1)?;
    let n = int_arg(&a[0])?;
    let Ok(n) = usize::try_from(n) else {
        return Ok(Value::str(""));
    };
    check_size(name, n)?;
    let mut rng = rand::rngs::OsRng;
    let s: String = (0..n)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect();
    Ok(Value::str(s))
}

/// Sprig's `seq` (like GNU seq): `seq LAST`, `seq FIRST LAST`, `seq FIRST STEP LAST`, as a
/// space-separated string, built on `untilStep` with LAST made inclusive.
fn seq(a: Vec<Value>) -> R {
    let mut p = Vec::with_capacity(a.len());
    for v in &a {
        p.push(int_arg(v)?);
    }
    let nums = match p[..] {
        [end] => {
            let inc = if end < 1 { -1 } else { 1 };
            until_step(1, end.saturating_add(inc), inc)?
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step(start, end.saturating_add(step), step)?
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if step > 0 {
                    return Ok(Value::str(""));
                }
            }
            until_step(start, end.saturating_add(inc), step)?
        }
        _ => return Ok(Value::str("")),
    };
    let out: Vec<String> = nums.iter().map(i64::to_string).collect();
    Ok(Value::str(out.join(" ")))
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{j, run, s};
    use crate::value::Value;

    #[test]
    fn expand_follows_go_os_expand() {
        let env = |k: &str| format!("<{k}>");
        for (input, want) in [
            ("a $X b", "a <X> b"),
            ("${X}y $Xy", "<X>y <Xy>"),
            ("$1 ${1} ${*} $$ $-x", "<1> <1> <*> <$> <->x"),
            ("${} gone", " gone"),
            ("${ unclosed", " unclosed"),
            ("${a b}", "<a b>"),
            ("$ $. end$", "$ $. end$"),
            ("é$Xé", "é<X>é"),
        ] {
            assert_eq!(super::go_expand(input, env), want, "{input:?}");
        }
    }

    #[test]
    fn case_functions_follow_xstrings_and_goutils() {
        // Expected values are bao agent 2.7.2's output (sprig 3 with xstrings 1.3).
        for (input, snake, camel, kebab, title, swap, init) in [
            (
                "HTTPServer",
                "http_server",
                "HTTPServer",
                "http-server",
                "HTTPServer",
                "httpsERVER",
                "H",
            ),
            (
                "FirstName",
                "first_name",
                "FirstName",
                "first-name",
                "FirstName",
                "fIRSTnAME",
                "F",
            ),
            (
                "some-words here",
                "some_words_here",
                "SomeWordsHere",
                "some-words-here",
                "Some-Words Here",
                "SOME-WORDS HERE",
                "sh",
            ),
            (
                "foo_bar", "foo_bar", "FooBar", "foo-bar", "Foo_bar", "FOO_BAR", "f",
            ),
            (
                "hello  world",
                "hello__world",
                "Hello World",
                "hello--world",
                "Hello  World",
                "HELLO  WORLD",
                "hw",
            ),
            ("x-Y_z", "x_y_z", "XYZ", "x-y-z", "X-Y_z", "X-y_Z", "x"),
            (
                "ABCdef", "ab_cdef", "ABCdef", "ab-cdef", "ABCdef", "abcDEF", "A",
            ),
            ("_lead", "_lead", "_Lead", "-lead", "_lead", "_LEAD", "_"),
            (
                "trail_", "trail_", "Trail_", "trail-", "Trail_", "TRAIL_", "t",
            ),
            (
                "iPhone6S",
                "i_phone6_s",
                "IPhone6S",
                "i-phone6-s",
                "IPhone6S",
                "IpHONE6s",
                "i",
            ),
            (
                "  spaced  ",
                "__spaced__",
                "  Spaced  ",
                "--spaced--",
                "  Spaced  ",
                "  SPACED  ",
                "s",
            ),
            ("", "", "", "", "", "", ""),
        ] {
            assert_eq!(run("sprig_snakecase", vec![s(input)]), snake, "{input}");
            assert_eq!(run("sprig_camelcase", vec![s(input)]), camel, "{input}");
            assert_eq!(run("sprig_kebabcase", vec![s(input)]), kebab, "{input}");
            assert_eq!(run("sprig_title", vec![s(input)]), title, "{input}");
            assert_eq!(run("sprig_swapcase", vec![s(input)]), swap, "{input}");
            assert_eq!(run("sprig_initials", vec![s(input)]), init, "{input}");
        }
    }

    #[test]
    fn snake_and_kebab_keep_numbers_as_xstrings_does() {
        // Expected values are bao agent 2.7.2's output.
        for (input, snake, kebab) in [
            ("a1b2", "a_1b2", "a-1b2"),
            ("aB1cD", "a_b_1c_d", "a-b-1c-d"),
            ("ipv4Address", "ipv4_address", "ipv4-address"),
            ("base64Encode", "base64_encode", "base64-encode"),
            ("Http2Server", "http2_server", "http2-server"),
            ("HTTP2xx", "http_2xx", "http-2xx"),
            ("Bld4Floor", "bld4_floor", "bld4-floor"),
            ("foo.bar", "foo.bar", "foo.bar"),
            ("a$b", "a_$_b", "a-$-b"),
            ("x--y", "x__y", "x--y"),
            ("version 1.2.3", "version_1.2.3", "version-1.2.3"),
            ("ID42", "id42", "id42"),
            ("v2", "v2", "v2"),
            ("中文Name", "中文_name", "中文-name"),
            ("user@host", "user@host", "user@host"),
        ] {
            assert_eq!(run("sprig_snakecase", vec![s(input)]), snake, "{input}");
            assert_eq!(run("sprig_kebabcase", vec![s(input)]), kebab, "{input}");
        }
    }

    #[test]
    fn byte_indexed_cuts_and_go_panics() {
        let i = Value::Int;
        assert_eq!(run("sprig_trunc", vec![i(5), s("hello world")]), "hello");
        assert_eq!(run("sprig_trunc", vec![i(-5), s("hello world")]), "world");
        assert_eq!(run("sprig_trunc", vec![i(-50), s("hi")]), "hi");
        assert_eq!(
            run("sprig_substr", vec![i(0), i(5), s("hello world")]),
            "hello"
        );
        assert_eq!(run("sprig_substr", vec![i(-1), i(2), s("abc")]), "ab");
        assert_eq!(run("sprig_substr", vec![i(1), i(-1), s("abc")]), "bc");
        assert_eq!(
            run("sprig_substr", vec![i(3), i(1), s("abcd")]),
            "ERR: runtime error: slice bounds out of range [3:1]"
        );
        assert_eq!(
            run("sprig_substr", vec![i(9), i(99), s("abc")]),
            "ERR: runtime error: slice bounds out of range [9:3]"
        );
        assert_eq!(run("sprig_abbrev", vec![i(5), s("hello world")]), "he...");
        assert_eq!(
            run("sprig_abbrev", vec![i(3), s("hello world")]),
            "hello world"
        );
        assert_eq!(
            run("sprig_abbrevboth", vec![i(5), i(10), s("1234 5678 9123")]),
            "...5678..."
        );
        assert_eq!(run("sprig_repeat", vec![i(3), s("ab")]), "ababab");
        assert_eq!(run("sprig_lower", vec![s("İI")]), "ii");
        assert_eq!(run("sprig_swapcase", vec![s("ǅ x")]), "ǆ X");
        assert_eq!(run("sprig_upper", vec![s("straße")]), "STRAßE");
        assert_eq!(
            run("sprig_repeat", vec![i(-1), s("ab")]),
            "ERR: strings: negative Repeat count"
        );
    }

    #[test]
    fn quoting_and_joining_skip_nil_and_print_values() {
        let args = || vec![s("a\"b"), Value::Int(1), Value::Nil, s("é\n")];
        assert_eq!(run("sprig_quote", args()), r#""a\"b" "1" "é\n""#);
        assert_eq!(
            run("sprig_squote", vec![s("a"), Value::Int(1), Value::Nil]),
            "'a' '1'"
        );
        assert_eq!(
            run(
                "sprig_cat",
                vec![s("a"), Value::Nil, Value::Int(1), j("[1,2]")]
            ),
            "a 1 [1 2]"
        );
        assert_eq!(run("sprig_join", vec![s("-"), j(r#"[1,"a",null]"#)]), "1-a");
        assert_eq!(run("sprig_join", vec![s("-"), s("x")]), "x");
        assert_eq!(run("sprig_toStrings", vec![Value::Nil]), "[]");
        assert_eq!(
            run("sprig_sortAlpha", vec![j(r#"["b",10,"a",9]"#)]),
            "[10 9 a b]"
        );
        assert_eq!(run("sprig_split", vec![s(","), s("a,b")]), "map[_0:a _1:b]");
        assert_eq!(
            run("sprig_splitn", vec![s(","), Value::Int(2), s("a,b,c")]),
            "map[_0:a _1:b,c]"
        );
        assert_eq!(run("sprig_splitList", vec![s(""), s("ab")]), "[a b]");
    }

    #[test]
    fn indent_wrap_and_seq() {
        let i = Value::Int;
        assert_eq!(run("sprig_indent", vec![i(2), s("a\nb\n")]), "  a\n  b\n  ");
        assert_eq!(run("sprig_nindent", vec![i(1), s("a")]), "\n a");
        assert_eq!(
            run("sprig_wrap", vec![i(5), s("Hello World")]),
            "Hello\nWorld"
        );
        assert_eq!(run("sprig_wrap", vec![i(3), s("abcdef gh")]), "abcdef\ngh");
        assert_eq!(
            run("sprig_wrapWith", vec![i(3), s("<br>"), s("abcdef")]),
            "abc<br>def"
        );
        assert_eq!(run("sprig_seq", vec![i(3)]), "1 2 3");
        assert_eq!(run("sprig_seq", vec![i(5), i(1)]), "5 4 3 2 1");
        assert_eq!(run("sprig_seq", vec![i(1), i(2), i(8)]), "1 3 5 7");
        assert_eq!(run("sprig_seq", vec![i(0)]), "1 0");
        assert_eq!(run("sprig_seq", vec![]), "");
    }

    #[test]
    fn random_strings_have_the_right_shape() {
        let out = run("sprig_randAlphaNum", vec![Value::Int(32)]);
        assert_eq!(out.len(), 32);
        assert!(out.chars().all(|c| c.is_ascii_alphanumeric()));
        let out = run("sprig_randNumeric", vec![Value::Int(8)]);
        assert!(out.len() == 8 && out.chars().all(|c| c.is_ascii_digit()));
        let out = run("sprig_randAscii", vec![Value::Int(64)]);
        assert!(out.len() == 64 && out.bytes().all(|c| (32..=126).contains(&c)));
        assert_ne!(
            run("sprig_randAlpha", vec![Value::Int(32)]),
            run("sprig_randAlpha", vec![Value::Int(32)])
        );
    }

    #[test]
    fn env_reads_the_process_environment() {
        let path = std::env::var("PATH").unwrap_or_default();
        assert_eq!(run("sprig_env", vec![s("PATH")]), path);
        assert_eq!(
            run("sprig_expandenv", vec![s("[${PATH}]")]),
            format!("[{path}]")
        );
    }
}
