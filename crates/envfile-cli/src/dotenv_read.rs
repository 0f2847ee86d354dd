//! Reads a `.env` file the way python-dotenv 1.x does with interpolation off
//! (`dotenv_values(path, interpolate=False)`), so `envfile import` stores exactly what the
//! application saw. The rules (`dotenv/parser.py`), with "whitespace" as Python's `\s` (Unicode
//! White_Space plus U+001C–U+001F: vertical tab, NBSP, U+3000, … count too):
//!
//! - CRLF and CR become LF first (Python reads the file in text mode). A leading UTF-8 BOM is
//!   dropped (python-dotenv 1.2.3 and later do; earlier releases glue it to the first key).
//! - Blank lines and `# comment` lines are skipped; `export` and whitespace before a key are
//!   ignored.
//! - A key is `'single-quoted'` (quotes dropped) or runs up to `=`, `#` or whitespace; a
//!   `"double-quoted"` key keeps its quotes.
//! - `'single'` values are literal except `\\` and `\'`; `"double"` values decode
//!   `\\ \' \" \a \b \f \n \r \t \v` and keep any other backslash; both may span lines.
//! - Unquoted values run to the end of the line, lose a whitespace + `#comment` and trailing
//!   whitespace.
//! - A key with no `=` has no value (python-dotenv gives `None`): reported, not imported.
//!
//! Where python-dotenv releases users still run read a line differently, the line is refused
//! (an error naming it) instead of guessing which the application saw: a quoted value whose
//! closing quote follows an escaped backslash (`"…\\"`, which 1.2.2 and earlier read as an
//! escaped quote when another quote follows later in the file), and `KEY= #text` (1.2.4 reads
//! an empty value, earlier releases `#text`).
//!
//! Unlike python-dotenv, which warns and skips a line it cannot parse, this is an error naming
//! the line: an import must not silently drop a secret. Errors never quote values.
//!
//! One pass, linear in the size of the file: every loop moves forward, and the line number is
//! kept as the reader goes (a 1.5 MB file took 48 s when each binding recounted it).

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
    parse_counting(text, what).0
}

/// [`parse`], and how many steps its loops took (for the linear-time test).
fn parse_counting(text: &str, what: &str) -> (Result<Vec<Binding>, Error>, usize) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The normalized copy holds every value: keep it in a SecretValue (wiped on drop), built
    // in a buffer that never grows (normalizing only shortens), so no stale copy is freed.
    let mut norm = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\r') {
        norm.push_str(&rest[..at]);
        norm.push('\n');
        rest = &rest[at + 1..];
        if let Some(r) = rest.strip_prefix('\n') {
            rest = r;
        }
    }
    norm.push_str(rest);
    let norm = SecretValue::from_string(norm);
    let s = norm.expose_str().unwrap_or_default();
    let mut r = Reader {
        s,
        b: s.as_bytes(),
        i: 0,
        line: 1,
        counted: 0,
        steps: 0,
        last_single: s.rfind('\''),
        last_double: s.rfind('"'),
    };
    let out = r.all(what);
    (out, r.steps)
}

/// Whitespace as Python's `re` `\s` and `str.isspace()` see it.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `[^\S\r\n]`: whitespace within a line.
fn inline_space(c: char) -> bool {
    c != '\n' && c != '\r' && py_space(c)
}

struct Reader<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    /// The line of byte `counted`.
    line: usize,
    counted: usize,
    /// Loop iterations so far.
    steps: usize,
    last_single: Option<usize>,
    last_double: Option<usize>,
}

impl Reader<'_> {
    fn all(&mut self, what: &str) -> Result<Vec<Binding>, Error> {
        let mut out = Vec::new();
        loop {
            // `\s*`: blank lines and leading whitespace.
            self.skip_while(py_space);
            if self.i == self.b.len() {
                return Ok(out);
            }
            let line = self.line_here();
            let bad = |why: String| {
                Error::config(format!("{what}: line {line}: {why}")).with_hint(
                    "python-dotenv would skip this line or read it differently depending on \
                     its release; fix it so nothing is lost in the import",
                )
            };
            // `(?:export[^\S\r\n]+)?`
            if self.s[self.i..].starts_with("export")
                && self.s[self.i + 6..]
                    .chars()
                    .next()
                    .is_some_and(inline_space)
            {
                self.i += 6;
                self.skip_while(inline_space);
            }
            let key = match self.peek() {
                Some('#') => None,
                Some('\'') => {
                    // `'([^']+)'`
                    let start = self.i + 1;
                    self.i = start;
                    self.skip_while(|c| c != '\'');
                    if self.i == self.b.len() || self.i == start {
                        return Err(bad("unterminated or empty quoted key".into()));
                    }
                    self.i += 1;
                    Some(self.s[start..self.i - 1].to_owned())
                }
                _ => {
                    // `[^=\#\s]+`
                    let start = self.i;
                    self.skip_while(|c| c != '=' && c != '#' && !py_space(c));
                    if self.i == start {
                        return Err(bad("expected a KEY".into()));
                    }
                    Some(self.s[start..self.i].to_owned())
                }
            };
            let name = key.as_deref().unwrap_or("");
            self.skip_while(inline_space);
            let value = if key.is_some() && self.peek() == Some('=') {
                self.i += 1;
                let after_eq = self.i;
                self.skip_while(inline_space);
                if self.i > after_eq && self.peek() == Some('#') {
                    return Err(bad(format!(
                        "`{name}= #…`: python-dotenv 1.2.4 reads an empty value here, earlier \
                         releases read the `#…` text as the value; write `{name}=` alone for \
                         an empty value, or quote the value"
                    )));
                }
                Some(self.value(name).map_err(bad)?)
            } else {
                None
            };
            // `(?:[^\S\r\n]*#[^\r\n]*)?` then `[^\S\r\n]*(?:\n|$)`.
            self.skip_while(inline_space);
            if self.peek() == Some('#') {
                self.skip_while(|c| c != '\n');
            }
            match self.peek() {
                None => {}
                Some('\n') => self.i += 1,
                Some(_) => {
                    return Err(bad(format!("unexpected text after the value of `{name}`")));
                }
            }
            if let Some(key) = key {
                out.push(Binding {
                    key,
                    value: value.map(SecretValue::from_string),
                    line,
                });
            }
        }
    }

    /// The value after `=` and its whitespace; an error says why (never quoting the value).
    fn value(&mut self, name: &str) -> Result<String, String> {
        match self.peek() {
            Some(q @ ('\'' | '"')) => {
                let q = q as u8;
                let start = self.i + 1;
                let end = self
                    .closing_quote(start, q)
                    .ok_or_else(|| format!("the value of `{name}` has no closing quote"))?;
                // Releases up to 1.2.2 match `(?:\\q|[^q])*q`, greedily: past a quote that
                // follows a backslash they run on to the last such quote in the file. They
                // agree with later releases unless an escaped backslash precedes the end and
                // another quote follows somewhere.
                let last = if q == b'\'' {
                    self.last_single
                } else {
                    self.last_double
                };
                if end > start && self.b[end - 1] == b'\\' && last != Some(end) {
                    return Err(format!(
                        "the quoted value of `{name}` ends in an escaped backslash, which \
                         python-dotenv 1.2.2 and earlier read as an escaped quote (running on \
                         into the following lines) and 1.2.3 and later as the end of the value; \
                         write the value unquoted or without the trailing backslash"
                    ));
                }
                let raw = &self.s[start..end];
                self.i = end + 1;
                Ok(if q == b'\'' {
                    decode(raw, b"\\'", &mut self.steps)
                } else {
                    decode(raw, b"\\'\"abfnrtv", &mut self.steps)
                })
            }
            None | Some('\n') => Ok(String::new()),
            Some(_) => {
                // `[^\r\n]*`, then `re.sub(r"\s+#.*", "", part).rstrip()`.
                let start = self.i;
                self.skip_while(|c| c != '\n');
                let part = &self.s[start..self.i];
                let mut cut = part.len();
                let mut run: Option<usize> = None;
                for (at, c) in part.char_indices() {
                    self.steps += 1;
                    if c == '#' {
                        if let Some(from) = run {
                            cut = from;
                            break;
                        }
                    }
                    run = if py_space(c) { run.or(Some(at)) } else { None };
                }
                Ok(part[..cut].trim_end_matches(py_space).to_owned())
            }
        }
    }

    /// Where the quoted value starting at `start` ends in python-dotenv 1.2.3 and later:
    /// `(?:\\.|[^q\\])*q`, a backslash always taking the next character.
    fn closing_quote(&mut self, start: usize, q: u8) -> Option<usize> {
        let mut j = start;
        while j < self.b.len() {
            self.steps += 1;
            match self.b[j] {
                b'\\' => j += 2,
                c if c == q => return Some(j),
                _ => j += 1,
            }
        }
        None
    }

    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }

    fn skip_while(&mut self, keep: impl Fn(char) -> bool) {
        while let Some(c) = self.peek() {
            self.steps += 1;
            if !keep(c) {
                break;
            }
            self.i += c.len_utf8();
        }
    }

    /// The line of the current position, counting only the newlines since the last call.
    fn line_here(&mut self) -> usize {
        for &c in &self.b[self.counted..self.i] {
            self.steps += 1;
            if c == b'\n' {
                self.line += 1;
            }
        }
        self.counted = self.i;
        self.line
    }
}

/// Decode `\X` for X in `escapes` (as Python's `unicode-escape` would for those), left to
/// right as `re.sub` does; any other backslash stays.
fn decode(raw: &str, escapes: &[u8], steps: &mut usize) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        *steps += 1;
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

#[cfg(test)]
#[path = "dotenv_read_differential.rs"]
mod differential;

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

    /// Issue 14, item 10: python-dotenv's `\s` is Unicode, and it keeps `"KEY"`'s quotes.
    #[test]
    fn unicode_whitespace_and_double_quoted_keys_as_python_dotenv() {
        assert_eq!(one("A=b\u{b}#c"), "b");
        assert_eq!(one("A=b\u{a0}"), "b");
        assert_eq!(one("A=\u{3000}b"), "b");
        assert_eq!(one("\u{a0}\u{1c}A=b"), "b");
        assert_eq!(kv("A\u{a0}=b")[0].0, "A");
        assert_eq!(kv("\"KEY\"=1")[0].0, "\"KEY\"");
    }

    /// Issue 14, item 8: `"…\\"` then a later quote reads differently across releases.
    #[test]
    fn an_escaped_backslash_before_the_closing_quote_is_refused_when_releases_disagree() {
        let e = parse("A=\"C:\\\\dir\\\\\"\nB=\"say \\\"hi\\\"\"\n", "t.env").unwrap_err();
        assert!(
            e.message().contains("line 1") && e.message().contains("`A`"),
            "{e}"
        );
        // With no quote after it, every release reads it the same.
        let read = kv("A=\"C:\\\\dir\\\\\"\nB=plain\n");
        assert_eq!(read[0].1.as_deref(), Some("C:\\dir\\"));
        assert_eq!(kv("A='x\\\\'\nB=\"y\"\n")[0].1.as_deref(), Some("x\\"));
    }

    #[test]
    fn an_equals_space_hash_is_refused_as_releases_disagree() {
        let e = parse("A=1\nB= #c\n", "t.env").unwrap_err();
        assert!(
            e.message().contains("line 2") && e.message().contains("`B"),
            "{e}"
        );
        assert_eq!(one("B=#c"), "#c");
    }

    /// Issue 18: a UTF-8 BOM is not part of the first key.
    #[test]
    fn a_leading_bom_is_dropped() {
        assert_eq!(kv("\u{feff}A=1")[0].0, "A");
        assert_eq!(one("A='\u{feff}x'"), "\u{feff}x");
    }

    #[test]
    fn bad_lines_name_the_line_not_the_value() {
        let e = parse("A=1\nB=\"unterminated s3cr3t\n", "t.env").unwrap_err();
        assert!(e.message().contains("line 2"), "{e}");
        assert!(!e.to_string().contains("s3cr3t"));
        assert!(parse("A='x' junk", "t.env").is_err());
        let e = parse("A=1\r\nB=2\r\n\r\nC='x' s3cr3t", "t.env").unwrap_err();
        assert!(e.message().contains("line 4"), "{e}");
    }

    /// Issue 14, item 10: the reader is linear. Counted, not timed: each shape of input,
    /// grown to 1.5 MB, takes at most a few loop steps per byte (the old reader recounted the
    /// lines before every binding: ~10^10 steps here).
    #[test]
    fn reading_takes_linear_steps() {
        const SIZE: usize = 1_500_000;
        let shapes: [&str; 7] = [
            "K=v\n",
            "KEY_NUMBER_ONE='a quoted value with \\' escapes \\\\ inside'\n",
            "K=\"\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\\"\\\"x\"\n",
            "K=a \u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}\u{a0}b\n",
            "# a comment line that is long enough to matter\n\n\n",
            "K=\"multi\nline\nvalue\"\r\n",
            "export K=1 # c\n",
        ];
        for shape in shapes {
            let text = shape.repeat(SIZE / shape.len());
            let (out, steps) = parse_counting(&text, "big.env");
            let n = out.unwrap_or_else(|e| panic!("{shape:?}: {e}")).len();
            assert!(n > 0 || shape.starts_with('#'));
            assert!(
                steps <= 4 * text.len(),
                "{shape:?}: {steps} steps for {} bytes",
                text.len()
            );
        }
    }
}
