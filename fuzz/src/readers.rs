//! Readers for `shell`, `systemd` and `docker` output: `NAME` → value, in file order.

/// `export NAME='…'` lines as sh reads them: inside single quotes every byte is literal up to
/// the next `'`; outside, `\'` is a quote; the entry ends at a newline outside quotes.
pub fn shell(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        rest = rest.strip_prefix("export ")?;
        let eq = rest.find('=')?;
        let name = &rest[..eq];
        rest = &rest[eq + 1..];
        let mut value = String::new();
        loop {
            if let Some(r) = rest.strip_prefix('\'') {
                let end = r.find('\'')?;
                value.push_str(&r[..end]);
                rest = &r[end + 1..];
            } else if let Some(r) = rest.strip_prefix("\\'") {
                value.push('\'');
                rest = r;
            } else if let Some(r) = rest.strip_prefix('\n') {
                rest = r;
                break;
            } else {
                return None;
            }
        }
        out.push((name.to_owned(), value));
    }
    Some(out)
}

/// `NAME="…"` lines as systemd's `EnvironmentFile=` reads them (systemd.exec(5)): in double
/// quotes, `\` before one of `"\`$` keeps that character, before a newline is a continuation
/// (both dropped), before anything else is kept with it; everything else is verbatim.
pub fn systemd(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let name = &rest[..eq];
        let mut chars = rest[eq + 1..].strip_prefix('"')?.chars();
        let mut value = String::new();
        loop {
            match chars.next()? {
                '"' => break,
                '\\' => match chars.next()? {
                    c @ ('"' | '\\' | '`' | '$') => value.push(c),
                    '\n' => {}
                    c => {
                        value.push('\\');
                        value.push(c);
                    }
                },
                c => value.push(c),
            }
        }
        rest = chars.as_str().strip_prefix('\n')?;
        out.push((name.to_owned(), value));
    }
    Some(out)
}

/// `docker run --env-file` (docker/cli `pkg/kvfile`): lines split by Go's `bufio.ScanLines`
/// (a CR before the LF is dropped), leading whitespace trimmed, blank and `#` lines skipped,
/// cut at the first `=`, the rest verbatim. A value in matching quotes is `None`: newer docker
/// strips them and older does not, so no value read that way is unambiguous.
pub fn docker(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for line in text.split_inclusive('\n') {
        let line = line.strip_suffix('\n')?;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.len() > 64 * 1024 - 1 {
            return None; // bufio.Scanner: token too long
        }
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line.split_once('=')?;
        let b = value.as_bytes();
        if b.len() >= 2 && b[0] == b[b.len() - 1] && matches!(b[0], b'"' | b'\'') {
            return None;
        }
        out.push((name.to_owned(), value.to_owned()));
    }
    Some(out)
}

/// `dotenv-node` output as BOTH npm `dotenv` (16.x–18.x, `lib/main.js`) and `node --env-file`
/// read it: a model of their rules (neither is JavaScript we can call per input), for the lines
/// the renderer writes. `NAME=` then either a quoted value — `'…'`, `` `…` `` or `"…"` running
/// to the next same quote, newlines included, nothing after it on the line — or an unquoted
/// one, cut at `#` and trimmed. Where the two readers differ the model says `None`:
/// - a raw CR anywhere (npm reads it as LF, node drops it);
/// - a quoted value ending in `\` (npm's `(?:\\'|[^'])*` takes `\'` as an escaped quote);
/// - in `"…"`, a literal `\r` (npm decodes it, node does not); `\n` is decoded by both.
/// - an unquoted value with whitespace at either end after the cut (JavaScript's `trim` and
///   node's differ on some Unicode spaces), or that starts with a quote.
pub fn dotenv_node(text: &str) -> Option<Vec<(String, String)>> {
    if text.contains('\r') {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let name = &rest[..eq];
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
        if !name_ok {
            return None;
        }
        rest = &rest[eq + 1..];
        let value = match rest.chars().next() {
            Some(q @ ('\'' | '`' | '"')) => {
                let body = &rest[1..];
                let end = body.find(q)?;
                let raw = &body[..end];
                if raw.ends_with('\\') {
                    return None;
                }
                rest = body[end + 1..].strip_prefix('\n')?;
                if q == '"' {
                    if raw.contains("\\r") {
                        return None;
                    }
                    raw.replace("\\n", "\n")
                } else {
                    raw.to_owned()
                }
            }
            _ => {
                let end = rest.find('\n')?;
                let line = &rest[..end];
                rest = &rest[end + 1..];
                let cut = line.split('#').next().unwrap_or_default();
                let js_space = |c: char| c.is_whitespace() || c == '\u{feff}';
                if cut.starts_with(js_space) || cut.ends_with(js_space) {
                    return None;
                }
                cut.to_owned()
            }
        };
        out.push((name.to_owned(), value));
    }
    Some(out)
}

/// `dotenv-compose` output as compose-go's `dotenv` package reads it (a model: compose-go is
/// Go): `NAME="…"` lines; inside the quotes `\\`, `\"`, `\$`, `\n`, `\r` are decoded, and an
/// unescaped `$` is interpolation (`None`: the value would depend on the environment). Other
/// escapes and raw line breaks are `None` (the renderer writes neither).
pub fn dotenv_compose(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let eq = rest.find('=')?;
        let name = &rest[..eq];
        rest = rest[eq + 1..].strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '"' => break i,
                '$' | '\n' | '\r' => return None,
                '\\' => value.push(match chars.next()?.1 {
                    '\\' => '\\',
                    '"' => '"',
                    '$' => '$',
                    'n' => '\n',
                    'r' => '\r',
                    _ => return None,
                }),
                c => value.push(c),
            }
        };
        rest = rest[end + 1..].strip_prefix('\n')?;
        out.push((name.to_owned(), value));
    }
    Some(out)
}
