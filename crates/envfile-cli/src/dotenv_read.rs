//! Reads a `.env` file the way python-dotenv 1.x does with interpolation off
//! (`dotenv_values(path, interpolate=False)`), so `envfile import` stores exactly what the
//! application saw. The rules (`dotenv/parser.py`):
//!
//! - CRLF and CR become LF first (Python reads the file in text mode).
//! - Blank lines and `# comment` lines are skipped; `export ` before a key is ignored.
//! - A key is unquoted (up to `=`, `#` or whitespace) or quoted with `'…'` / `"…"`.
//! - `'single'` values are literal except `\\` and `\'`; `"double"` values decode
//!   `\\ \' \" \a \b \f \n \r \t \v` and keep any other backslash; both may span lines.
//! - Unquoted values run to the end of the line, lose a ` #comment` and trailing whitespace.
//! - A key with no `=` has no value (python-dotenv gives `None`): reported, not imported.
//!
//! Unlike python-dotenv, which warns and skips a line it cannot parse, this is an error naming
//! the line: an import must not silently drop a secret. Errors never quote values.

use envfile_core::{Error, SecretValue};

/// One `KEY=value` binding, in file order.
#[derive(Debug)]
pub struct Binding {
    /// The key.
    pub key: String,
    /// The value; `None` for a bare `KEY` line.
    pub value: Option<SecretValue>,
    /// 1-based line the binding starts on.
    pub line: usize,
}

/// Parse `.env` text. `what` names the file in errors.
pub fn parse(text: &str, what: &str) -> Result<Vec<Binding>, Error> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut p = Reader {
        s: text.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        // `\s*`: blank lines and leading whitespace.
        while p.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            p.i += 1;
        }
        if p.peek().is_none() {
            return Ok(out);
        }
        let line = p.line();
        let bad = |why: &str| {
            Error::config(format!("{what}: line {line}: {why}")).with_hint(
                "python-dotenv would skip this line; fix it so nothing is lost in the import",
            )
        };
        if p.starts_with(b"export") && p.s.get(p.i + 6).is_some_and(|&c| c == b' ' || c == b'\t') {
            p.i += 6;
            p.skip_inline_ws();
        }
        let key = match p.peek() {
            Some(b'#') => {
                p.skip_line();
                continue;
            }
            Some(q @ (b'\'' | b'"')) => {
                p.i += 1;
                let start = p.i;
                while p.peek().is_some_and(|c| c != q) {
                    p.i += 1;
                }
                if p.peek().is_none() || p.i == start {
                    return Err(bad("unterminated or empty quoted key"));
                }
                let k = p.slice(start);
                p.i += 1;
                k
            }
            _ => {
                let start = p.i;
                while p
                    .peek()
                    .is_some_and(|c| c != b'=' && c != b'#' && !c.is_ascii_whitespace())
                {
                    p.i += 1;
                }
                if p.i == start {
                    return Err(bad("expected a KEY"));
                }
                p.slice(start)
            }
        };
        p.skip_inline_ws();
        let value = if p.peek() == Some(b'=') {
            p.i += 1;
            p.skip_inline_ws();
            Some(match p.peek() {
                Some(q @ (b'\'' | b'"')) => {
                    p.i += 1;
                    let start = p.i;
                    loop {
                        match p.peek() {
                            None => {
                                return Err(bad(&format!(
                                    "the value of `{key}` has no closing quote"
                                )))
                            }
                            Some(b'\\') if p.s.get(p.i + 1) == Some(&q) => p.i += 2,
                            Some(c) if c == q => break,
                            Some(_) => p.i += 1,
                        }
                    }
                    let raw = p.slice(start);
                    p.i += 1;
                    if q == b'\'' {
                        decode(&raw, b"\\'")
                    } else {
                        decode(&raw, b"\\'\"abfnrtv")
                    }
                }
                _ => {
                    let start = p.i;
                    while p.peek().is_some_and(|c| c != b'\n') {
                        p.i += 1;
                    }
                    unquoted(&p.slice(start))
                }
            })
        } else {
            None
        };
        // `[^\S\r\n]*(#[^\r\n]*)?` then end of line.
        p.skip_inline_ws();
        if p.peek() == Some(b'#') {
            p.skip_line();
        }
        match p.peek() {
            None | Some(b'\n') => {}
            Some(_) => return Err(bad(&format!("unexpected text after the value of `{key}`"))),
        }
        out.push(Binding {
            key,
            value: value.map(SecretValue::from_string),
            line,
        });
    }
}

/// Unquoted: `re.sub(r"\s+#.*", "", value).rstrip()`.
fn unquoted(raw: &str) -> String {
    let b = raw.as_bytes();
    let cut = (1..b.len())
        .find(|&i| b[i] == b'#' && b[i - 1].is_ascii_whitespace())
        .map(|i| {
            let mut j = i;
            while j > 0 && b[j - 1].is_ascii_whitespace() {
                j -= 1;
            }
            j
        })
        .unwrap_or(b.len());
    raw[..cut].trim_end().to_owned()
}

/// Decode `\X` for X in `escapes` (as Python's `unicode-escape` would for those); any other
/// backslash stays.
fn decode(raw: &str, escapes: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&n) = chars.peek() {
                if n.is_ascii() && escapes.contains(&(n as u8)) {
                    chars.next();
                    out.push(match n {
                        'a' => '\x07',
                        'b' => '\x08',
                        'f' => '\x0c',
                        'n' => '\n',
                        'r' => '\r',
                        't' => '\t',
                        'v' => '\x0b',
                        other => other,
                    });
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn starts_with(&self, p: &[u8]) -> bool {
        self.s[self.i..].starts_with(p)
    }
    fn skip_inline_ws(&mut self) {
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_whitespace() && c != b'\n')
        {
            self.i += 1;
        }
    }
    fn skip_line(&mut self) {
        while self.peek().is_some_and(|c| c != b'\n') {
            self.i += 1;
        }
    }
    fn slice(&self, start: usize) -> String {
        // Boundaries are ASCII bytes, so the slice is valid UTF-8.
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }
    fn line(&self) -> usize {
        1 + self.s[..self.i].iter().filter(|&&c| c == b'\n').count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(text: &str) -> Vec<(String, Option<String>)> {
        parse(text, "t.env")
            .unwrap()
            .into_iter()
            .map(|b| (b.key, b.value.map(|v| v.expose_str().unwrap().to_owned())))
            .collect()
    }

    fn one(text: &str) -> String {
        kv(text).pop().unwrap().1.unwrap()
    }

    #[test]
    fn python_dotenv_cases() {
        assert_eq!(one("A=b"), "b");
        assert_eq!(one("export A=b"), "b");
        assert_eq!(one("A = b  # comment"), "b");
        assert_eq!(one("A=b#not-a-comment"), "b#not-a-comment");
        assert_eq!(one("A='x \\' y \\\\ \\n'"), "x ' y \\ \\n");
        assert_eq!(
            one("A=\"x \\\" \\n \\t \\q $HOME\""),
            "x \" \n \t \\q $HOME"
        );
        assert_eq!(one("A=\"two\nlines\""), "two\nlines");
        assert_eq!(one("A="), "");
        assert_eq!(one("A=  'q' # c"), "q");
        assert_eq!(one("'A'=1"), "1");
        assert_eq!(one("A=\"crlf\"\r\n"), "crlf");
        assert_eq!(
            kv("# c\n\nA\nB=1\n"),
            vec![("A".into(), None), ("B".into(), Some("1".into()))]
        );
    }

    #[test]
    fn bad_lines_name_the_line_not_the_value() {
        let e = parse("A=1\nB=\"unterminated s3cr3t\n", "t.env").unwrap_err();
        assert!(e.message().contains("line 2"), "{e}");
        assert!(!e.to_string().contains("s3cr3t"));
        assert!(parse("A='x' junk", "t.env").is_err());
    }
}
