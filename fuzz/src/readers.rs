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
