//! Sprig's `urlParse` (Go's `net/url.Parse` as a dict of `scheme host hostname path query opaque
//! fragment userinfo`) and `urlJoin` (that dict back to text, `url.URL.String`).

use super::{arity, strval};
use crate::funcs::Def;
use crate::value::Value;
use std::collections::BTreeMap;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_urlParse", |a| {
        arity("sprig_urlParse", &a, 1)?;
        let u = parse(super::str_arg(&a[0])?).map_err(|e| format!("unable to parse url: {e}"))?;
        let m: BTreeMap<String, Value> = [
            ("scheme", u.scheme),
            ("hostname", hostname(&u.host)),
            ("host", u.host),
            ("path", u.path),
            ("query", u.query),
            ("opaque", u.opaque),
            ("fragment", u.fragment),
            ("userinfo", u.userinfo),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::str(v)))
        .collect();
        Ok(Value::map(m))
    }),
    Def::new("sprig_urlJoin", |a| {
        arity("sprig_urlJoin", &a, 1)?;
        let Value::Map(m) = &a[0] else {
            return Err(format!(
                "wrong type for value; expected map[string]interface {{}}; got {}",
                a[0].type_name()
            ));
        };
        let get = |k: &str| m.entries().get(k).map(strval).unwrap_or_default();
        Ok(Value::str(join(&Url {
            scheme: get("scheme"),
            host: get("host"),
            path: get("path"),
            query: get("query"),
            opaque: get("opaque"),
            fragment: get("fragment"),
            userinfo: get("userinfo"),
        })))
    }),
];

#[derive(Default)]
struct Url {
    scheme: String,
    host: String,
    path: String,
    query: String,
    opaque: String,
    fragment: String,
    userinfo: String,
}

/// `url.Parse` for absolute and relative references.
fn parse(raw: &str) -> Result<Url, String> {
    let quoted = || format!("parse {raw:?}");
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(format!(
            "{}: net/url: invalid control character in URL",
            quoted()
        ));
    }
    let (rest, frag) = match raw.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (raw, None),
    };
    let mut u = Url::default();
    if let Some(f) = frag {
        u.fragment = unescape(f).map_err(|e| format!("{}: {e}", quoted()))?;
    }
    if rest == "*" {
        u.path = "*".into();
        return Ok(u);
    }
    let mut rest = rest.to_owned();
    // The scheme: a letter, then letters, digits, `+ - .`, up to the first colon.
    for (i, c) in rest.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return Err(format!("{}: missing protocol scheme", quoted())),
            ':' => {
                u.scheme = rest[..i].to_ascii_lowercase();
                rest = rest[i + 1..].to_owned();
                break;
            }
            _ => break,
        }
    }
    if rest.ends_with('?') && rest.matches('?').count() == 1 {
        rest.pop();
    } else if let Some((r, q)) = rest.split_once('?') {
        u.query = q.to_owned();
        rest = r.to_owned();
    }
    if !rest.starts_with('/') {
        if !u.scheme.is_empty() {
            u.opaque = rest;
            return Ok(u);
        }
        let first = rest.split('/').next().unwrap_or("");
        if first.contains(':') {
            return Err(format!(
                "{}: first path segment in URL cannot contain colon",
                quoted()
            ));
        }
    }
    if (!u.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let after = &rest[2..];
        let cut = after.find('/').unwrap_or(after.len());
        let authority = &after[..cut];
        match authority.rfind('@') {
            Some(i) => {
                u.userinfo =
                    userinfo_string(&authority[..i]).map_err(|e| format!("{}: {e}", quoted()))?;
                u.host = authority[i + 1..].to_owned();
            }
            None => u.host = authority.to_owned(),
        }
        u.host = unescape(&u.host).map_err(|e| format!("{}: {e}", quoted()))?;
        rest = after[cut..].to_owned();
    }
    u.path = unescape(&rest).map_err(|e| format!("{}: {e}", quoted()))?;
    Ok(u)
}

/// `Userinfo.String()` of a parsed `user[:password]`: each part unescaped, then re-escaped.
fn userinfo_string(raw: &str) -> Result<String, String> {
    let (user, pass) = match raw.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (raw, None),
    };
    let mut out = escape(&unescape(user)?, Mode::User);
    if let Some(p) = pass {
        out.push(':');
        out.push_str(&escape(&unescape(p)?, Mode::User));
    }
    Ok(out)
}

/// `URL.Hostname()`: the host without its port or IPv6 brackets.
fn hostname(host: &str) -> String {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("").to_owned();
    }
    match host.rfind(':') {
        Some(i) => host[..i].to_owned(),
        None => host.to_owned(),
    }
}

/// `url.PathUnescape`-style decoding of `%XX` (an invalid escape is Go's error).
fn unescape(s: &str) -> Result<String, String> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(v) if hex.is_some_and(|h| h.bytes().all(|c| c.is_ascii_hexdigit())) => {
                    out.push(v);
                    i += 3;
                }
                _ => {
                    let end = (i + 3).min(b.len());
                    return Err(format!(
                        "invalid URL escape {:?}",
                        String::from_utf8_lossy(&b[i..end])
                    ));
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Path,
    Host,
    User,
    Fragment,
}

/// Go's `shouldEscape` for each mode, then `%XX` upper-case.
fn escape(s: &str, mode: Mode) -> String {
    let keep = |c: u8| {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') {
            return true;
        }
        match mode {
            Mode::Host => matches!(
                c,
                b'!' | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'['
                    | b']'
                    | b'<'
                    | b'>'
                    | b'"'
            ),
            Mode::Path => matches!(
                c,
                b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'@'
            ),
            Mode::User => matches!(
                c,
                b'$' | b'&' | b'+' | b',' | b';' | b'=' | b'!' | b'\'' | b'(' | b')' | b'*'
            ),
            Mode::Fragment => matches!(
                c,
                b'$' | b'&'
                    | b'+'
                    | b','
                    | b'/'
                    | b':'
                    | b';'
                    | b'='
                    | b'?'
                    | b'@'
                    | b'!'
                    | b'('
                    | b')'
                    | b'*'
            ),
        }
    };
    let mut out: Vec<u8> = Vec::with_capacity(s.len());
    for &c in s.as_bytes() {
        // Go leaves a host's non-ASCII bytes (an IDN) as they are.
        if keep(c) || (mode == Mode::Host && c >= 0x80) {
            out.push(c);
        } else {
            out.extend_from_slice(format!("%{c:02X}").as_bytes());
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `url.URL.String()`.
fn join(u: &Url) -> String {
    let mut out = String::new();
    if !u.scheme.is_empty() {
        out.push_str(&u.scheme);
        out.push(':');
    }
    if !u.opaque.is_empty() {
        out.push_str(&u.opaque);
    } else {
        let user = !u.userinfo.is_empty();
        if !u.scheme.is_empty() || !u.host.is_empty() || user {
            if !u.host.is_empty() || !u.path.is_empty() || user {
                out.push_str("//");
            }
            if user {
                // urlJoin re-parses the userinfo through `proto://INFO@host`.
                out.push_str(&userinfo_string(&u.userinfo).unwrap_or_default());
                out.push('@');
            }
            out.push_str(&escape(&u.host, Mode::Host));
        }
        let path = escape(&u.path, Mode::Path);
        if !path.is_empty() && !path.starts_with('/') && !u.host.is_empty() {
            out.push('/');
        }
        if out.is_empty() && path.split('/').next().is_some_and(|seg| seg.contains(':')) {
            out.push_str("./");
        }
        out.push_str(&path);
    }
    if !u.query.is_empty() {
        out.push('?');
        out.push_str(&u.query);
    }
    if !u.fragment.is_empty() {
        out.push('#');
        out.push_str(&escape(&u.fragment, Mode::Fragment));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{j, run, s};

    #[test]
    fn parse_and_join_follow_net_url() {
        assert_eq!(
            run(
                "sprig_urlParse",
                vec![s("https://u:p@example.com:8443/a%20b/c?x=1&y=2#frag")]
            ),
            "map[fragment:frag host:example.com:8443 hostname:example.com opaque: path:/a b/c \
             query:x=1&y=2 scheme:https userinfo:u:p]"
        );
        assert_eq!(
            run("sprig_urlParse", vec![s("mailto:me@x.org")]),
            "map[fragment: host: hostname: opaque:me@x.org path: query: scheme:mailto userinfo:]"
        );
        assert_eq!(
            run(
                "sprig_urlJoin",
                vec![j(
                    r#"{"host":"example.com:80","path":"/a b","query":"q=1","scheme":"http","userinfo":"u:p"}"#
                )]
            ),
            "http://u:p@example.com:80/a%20b?q=1"
        );
        assert_eq!(
            run(
                "sprig_urlJoin",
                vec![j(r#"{"host":"h","path":"x","fragment":"f g"}"#)]
            ),
            "//h/x#f%20g"
        );
        assert!(run("sprig_urlParse", vec![s(":x")]).contains("missing protocol scheme"));
    }
}
