//! Splits template text into tokens, following Go's `text/template/parse` lexer.
//!
//! Trim markers are applied here: `{{- ` drops every space, tab, CR and newline before the action,
//! ` -}}` every one after it. As in Go, the marker needs whitespace on its inner side (`{{-3}}` is
//! the number -3, not a trim marker). Comments (`{{/* … */}}`, optionally `{{- /* … */ -}}`) are
//! dropped, keeping their trim markers' effect.

use super::SyntaxError;

/// A token and where it starts (byte offset into the template).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub pos: usize,
    /// Whether whitespace precedes it inside the action: `.a.b` is one field chain, `.a .b` two
    /// arguments.
    pub space_before: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// Text outside actions, trim markers already applied.
    Text(String),
    /// `{{`
    Open,
    /// `}}`
    Close,
    /// `.` alone.
    Dot,
    /// `.name` (one segment; a chain is several adjacent `Field`s).
    Field(String),
    /// `$name`, or `$` alone (empty name).
    Var(String),
    /// A function name or keyword.
    Ident(String),
    /// A string constant, unquoted.
    Str(String),
    /// A number constant, as written.
    Number(String),
    /// `|`
    Pipe,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `:=`
    Declare,
    /// `=`
    Assign,
    /// `,`
    Comma,
    /// End of input.
    Eof,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    out: Vec<Token>,
    /// The previous action ended with ` -}}`: trim the next text's leading whitespace.
    trim_next: bool,
    /// The action delimiters (`{{` and `}}` unless the template's options say otherwise).
    ld: &'a str,
    rd: &'a str,
}

/// Tokenize `src` with the default delimiters.
#[cfg(test)]
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, SyntaxError> {
    lex_with(src, "{{", "}}")
}

/// Tokenize `src` with the action delimiters `ld` and `rd`.
pub(crate) fn lex_with<'a>(
    src: &'a str,
    ld: &'a str,
    rd: &'a str,
) -> Result<Vec<Token>, SyntaxError> {
    let mut l = Lexer {
        src,
        pos: 0,
        out: Vec::new(),
        trim_next: false,
        ld,
        rd,
    };
    l.run()?;
    Ok(l.out)
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    /// Whether `rest` starts with ` -}}`'s `-}}` part.
    fn at_trim_close(&self, rest: &str) -> bool {
        rest.starts_with('-') && rest[1..].starts_with(self.rd)
    }

    fn push(&mut self, kind: Tok, pos: usize, space_before: bool) {
        self.out.push(Token {
            kind,
            pos,
            space_before,
        });
    }

    fn run(&mut self) -> Result<(), SyntaxError> {
        loop {
            let start = self.pos;
            let Some(off) = self.rest().find(self.ld) else {
                self.text(start, self.src.len(), false);
                self.push(Tok::Eof, self.src.len(), false);
                return Ok(());
            };
            let open = start + off;
            let ldl = self.ld.len();
            let after = &self.src[open + ldl..];
            let trim_left = after.starts_with('-') && after[1..].starts_with(is_space);
            self.text(start, open, trim_left);
            self.pos = open + ldl + if trim_left { 1 } else { 0 };
            // A comment must open right after the delimiter (and its trim marker's space).
            let marker = if trim_left { 1 } else { 0 };
            if self.src[self.pos + marker..].starts_with("/*") {
                self.comment(open, self.pos + marker)?;
            } else {
                self.push(Tok::Open, open, false);
                self.action(open)?;
            }
        }
    }

    /// Emit the text `src[from..to]` with pending trims applied.
    fn text(&mut self, from: usize, to: usize, trim_right: bool) {
        let mut t = &self.src[from..to];
        if std::mem::take(&mut self.trim_next) {
            t = t.trim_start_matches(is_space);
        }
        if trim_right {
            t = t.trim_end_matches(is_space);
        }
        if !t.is_empty() {
            self.push(Tok::Text(t.to_owned()), from, false);
        }
    }

    fn comment(&mut self, open: usize, at: usize) -> Result<(), SyntaxError> {
        let body = &self.src[at + 2..];
        let Some(end) = body.find("*/") else {
            return Err(SyntaxError::new(open, "unclosed comment"));
        };
        self.pos = at + 2 + end + 2;
        let rest = self.rest();
        if rest.starts_with(self.rd) {
            self.pos += self.rd.len();
        } else if rest.starts_with(is_space)
            && self.at_trim_close(rest.trim_start_matches(is_space))
        {
            let ws = rest.len() - rest.trim_start_matches(is_space).len();
            self.pos += ws + 1 + self.rd.len();
            self.trim_next = true;
        } else {
            return Err(SyntaxError::new(
                self.pos,
                "comment ends before closing delimiter",
            ));
        }
        Ok(())
    }

    /// Tokens inside `{{ … }}`, through the closing delimiter.
    fn action(&mut self, open: usize) -> Result<(), SyntaxError> {
        let mut space = false;
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                return Err(SyntaxError::new(open, "unclosed action"));
            };
            let at = self.pos;
            if is_space(c) {
                let ws = rest.len() - rest.trim_start_matches(is_space).len();
                self.pos += ws;
                if self.at_trim_close(self.rest()) {
                    self.pos += 1 + self.rd.len();
                    self.trim_next = true;
                    self.push(Tok::Close, at, true);
                    return Ok(());
                }
                space = true;
                continue;
            }
            if rest.starts_with(self.rd) {
                self.pos += self.rd.len();
                self.push(Tok::Close, at, space);
                return Ok(());
            }
            let kind = match c {
                '"' => Tok::Str(self.quoted(at)?),
                '`' => {
                    let Some(end) = rest[1..].find('`') else {
                        return Err(SyntaxError::new(at, "unterminated raw quoted string"));
                    };
                    self.pos += 1 + end + 1;
                    Tok::Str(rest[1..1 + end].to_owned())
                }
                '|' => self.one(Tok::Pipe),
                '(' => self.one(Tok::LParen),
                ')' => self.one(Tok::RParen),
                ',' => self.one(Tok::Comma),
                '=' => self.one(Tok::Assign),
                ':' if rest.starts_with(":=") => {
                    self.pos += 2;
                    Tok::Declare
                }
                '.' if rest[1..].starts_with(|c: char| c.is_ascii_digit()) => self.number(),
                '.' => {
                    let name = self.word(1);
                    self.terminator(at)?;
                    if name.is_empty() {
                        Tok::Dot
                    } else {
                        Tok::Field(name)
                    }
                }
                '$' => {
                    let name = self.word(1);
                    self.terminator(at)?;
                    Tok::Var(name)
                }
                '-' | '+' if rest[1..].starts_with(|c: char| c.is_ascii_digit() || c == '.') => {
                    self.number()
                }
                c if c.is_ascii_digit() => self.number(),
                c if is_alnum(c) => {
                    let name = self.word(0);
                    self.terminator(at)?;
                    Tok::Ident(name)
                }
                '\'' => Tok::Number(self.char_constant(at)?.to_string()),
                other => {
                    return Err(SyntaxError::new(
                        at,
                        format!("unrecognized character in action: {other:?}"),
                    ))
                }
            };
            self.push(kind, at, space);
            space = false;
        }
    }

    fn one(&mut self, t: Tok) -> Tok {
        self.pos += 1;
        t
    }

    /// Skip `skip` bytes, then take identifier characters.
    fn word(&mut self, skip: usize) -> String {
        let rest = &self.rest()[skip..];
        let len = rest.find(|c: char| !is_alnum(c)).unwrap_or(rest.len());
        self.pos += skip + len;
        rest[..len].to_owned()
    }

    /// After a field, variable or identifier Go requires a separator; the usual cause of a
    /// failure is a key with a dash, which needs `index`.
    fn terminator(&self, start: usize) -> Result<(), SyntaxError> {
        let rest = self.rest();
        match rest.chars().next() {
            None => Ok(()),
            Some(c) if is_space(c) || matches!(c, '.' | ',' | '|' | ':' | ')' | '(') => Ok(()),
            Some(_) if rest.starts_with(self.rd) => Ok(()),
            Some(c) => Err(SyntaxError::new(
                self.pos,
                format!("bad character {c:?} after `{}`", &self.src[start..self.pos]),
            )
            .with_hint(
                "a key with characters other than letters, digits and `_` needs `index`, \
                 e.g. {{ index .Data.data \"my-key\" }}",
            )),
        }
    }

    fn number(&mut self) -> Tok {
        let rest = self.rest();
        let mut len = 0;
        let mut prev = ' ';
        for (i, c) in rest.char_indices() {
            let ok = c.is_ascii_alphanumeric()
                || c == '.'
                || c == '_'
                || (i == 0 && (c == '-' || c == '+'))
                || ((c == '-' || c == '+') && matches!(prev, 'e' | 'E' | 'p' | 'P'));
            if !ok {
                break;
            }
            prev = c;
            len = i + c.len_utf8();
        }
        self.pos += len;
        Tok::Number(rest[..len].to_owned())
    }

    /// A character constant (`'a'`, `'\n'`, `'\u00e9'`): its code point, an integer as in Go.
    fn char_constant(&mut self, at: usize) -> Result<u32, SyntaxError> {
        let rest = self.rest();
        let end = rest[1..]
            .char_indices()
            .scan(false, |esc, (i, c)| {
                let stop = c == '\'' && !*esc;
                *esc = c == '\\' && !*esc;
                Some((i, stop, c))
            })
            .take_while(|(_, _, c)| *c != '\n')
            .find(|(_, stop, _)| *stop)
            .map(|(i, _, _)| i + 1)
            .ok_or_else(|| SyntaxError::new(at, "unterminated character constant"))?;
        let inner = &rest[1..end];
        // Reuse the string unescaper on the body written as a string.
        let as_string = format!("\"{}\"", inner.replace("\\'", "'").replace('"', "\\\""));
        let mut sub = Lexer {
            src: &as_string,
            pos: 0,
            out: Vec::new(),
            trim_next: false,
            ld: "{{",
            rd: "}}",
        };
        let text = sub
            .quoted(0)
            .map_err(|e| SyntaxError::new(at + e.pos, e.message))?;
        let mut chars = text.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => {
                self.pos += end + 1;
                Ok(c as u32)
            }
            _ => Err(SyntaxError::new(at, "malformed character constant")),
        }
    }

    /// A Go interpreted string literal (`strconv.Unquote` escapes).
    fn quoted(&mut self, at: usize) -> Result<String, SyntaxError> {
        let body = &self.rest()[1..];
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += 1 + i + 1;
                    return Ok(out);
                }
                '\n' => break,
                '\\' => {
                    let Some((j, e)) = chars.next() else { break };
                    let esc_at = at + 1 + j;
                    let simple = match e {
                        'a' => Some('\x07'),
                        'b' => Some('\x08'),
                        'f' => Some('\x0c'),
                        'n' => Some('\n'),
                        'r' => Some('\r'),
                        't' => Some('\t'),
                        'v' => Some('\x0b'),
                        '\\' => Some('\\'),
                        '"' => Some('"'),
                        _ => None,
                    };
                    if let Some(s) = simple {
                        out.push(s);
                        continue;
                    }
                    let (digits, radix) = match e {
                        'x' => (2, 16),
                        'u' => (4, 16),
                        'U' => (8, 16),
                        '0'..='7' => (2, 8),
                        _ => {
                            return Err(SyntaxError::new(
                                esc_at,
                                format!("unknown escape sequence \\{e} in string"),
                            ))
                        }
                    };
                    let mut hex = String::new();
                    if radix == 8 {
                        hex.push(e);
                    }
                    for _ in 0..digits {
                        match chars.next() {
                            Some((_, d)) if d.is_digit(radix) => hex.push(d),
                            _ => {
                                return Err(SyntaxError::new(
                                    esc_at,
                                    "malformed escape sequence in string",
                                ))
                            }
                        }
                    }
                    let n = u32::from_str_radix(&hex, radix).unwrap_or(u32::MAX);
                    match char::from_u32(n) {
                        // `\xNN` and octal escapes are bytes in Go; only ASCII ones make valid text.
                        Some(ch) if (e != 'x' && radix != 8) || n < 0x80 => out.push(ch),
                        _ => {
                            return Err(SyntaxError::new(
                                esc_at,
                                "escape sequence is not a valid character (byte escapes above \\x7f are not supported)",
                            ))
                        }
                    }
                }
                c => out.push(c),
            }
        }
        Err(SyntaxError::new(at, "unterminated quoted string"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    fn text(s: &str) -> Tok {
        Tok::Text(s.into())
    }

    #[test]
    fn trim_markers_eat_all_adjacent_whitespace() {
        assert_eq!(
            kinds("a \n\t{{- .x -}} \r\n b"),
            [
                text("a"),
                Tok::Open,
                Tok::Field("x".into()),
                Tok::Close,
                text("b"),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn a_minus_without_space_is_not_a_trim_marker() {
        assert_eq!(
            kinds("a {{-3}} b"),
            [
                text("a "),
                Tok::Open,
                Tok::Number("-3".into()),
                Tok::Close,
                text(" b"),
                Tok::Eof
            ]
        );
    }

    #[test]
    fn comments_vanish_but_keep_their_trims() {
        assert_eq!(
            kinds("a {{- /* x }} y */ -}}\n b"),
            [text("a"), text("b"), Tok::Eof]
        );
        assert_eq!(kinds("a{{/* c */}}b"), [text("a"), text("b"), Tok::Eof]);
    }

    #[test]
    fn field_chains_and_arguments_differ_by_space() {
        let t = lex("{{ .a.b .c }}").unwrap();
        let fields: Vec<_> = t
            .iter()
            .filter(|t| matches!(t.kind, Tok::Field(_)))
            .map(|t| t.space_before)
            .collect();
        assert_eq!(fields, [true, false, true]);
    }

    #[test]
    fn strings_unescape_like_go() {
        assert_eq!(
            kinds(r#"{{ "a\"b\n\u00e9\x41" `r\n` }}"#)[1..3],
            [
                Tok::Str("a\"b\né A".replace(' ', "")),
                Tok::Str("r\\n".into())
            ]
        );
    }

    #[test]
    fn errors_point_at_the_offending_byte() {
        let e = lex("ab\n{{ .Data.my-key }}").unwrap_err();
        assert_eq!(e.pos, 14);
        assert!(e.message.contains("bad character"), "{}", e.message);
        assert!(e.hint.unwrap().contains("index"));
        assert_eq!(lex("x {{ .a").unwrap_err().message, "unclosed action");
        assert_eq!(
            lex("{{ \"a }}").unwrap_err().message,
            "unterminated quoted string"
        );
        assert_eq!(lex("{{/* a }}").unwrap_err().message, "unclosed comment");
    }
}
