//! Parsing: template text to a syntax tree, following Go's `text/template/parse`.

mod lexer;
pub(crate) mod parser;

pub(crate) use parser::Parsed;

/// A parse error at a byte offset.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub pos: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl SyntaxError {
    pub(crate) fn new(pos: usize, message: impl Into<String>) -> Self {
        Self {
            pos,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Tokenize and parse `src` with the action delimiters `ld` and `rd`.
pub(crate) fn parse(src: &str, ld: &str, rd: &str) -> Result<Parsed, SyntaxError> {
    lexer::lex_with(src, ld, rd).and_then(parser::parse)
}
