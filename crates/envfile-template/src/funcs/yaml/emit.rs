//! `toYAML`: what gopkg.in/yaml.v2 (v2.4.0, the version `bao agent` links) writes for the value,
//! with consul-template's `bytes.TrimSpace` of the result.
//!
//! The rules reproduced, from the library's encoder and its port of libyaml's emitter:
//! - map keys sort with yaml.v2's "natural" order (letters after other characters, runs of
//!   digits compared as numbers: `a2` before `a10`);
//! - a string that would read back as something else (`true`, `1.5`, `null`, `~`, `yes`,
//!   `2024-01-02`, `12:30`, `""`) is double-quoted; one the plain style cannot carry (a leading
//!   `-`, `: `, ` #`, edge spaces …) is single-quoted; one with control characters is
//!   double-quoted with escapes; a multi-line string is a literal block (`|-`, `|`, `|+`, with
//!   an indentation digit when it starts with a space or a break);
//! - block sequences inside a mapping are not indented; empty collections are `[]`/`{}`;
//! - the emitter's preferred width is 80 columns: a plain or quoted scalar breaks at a space
//!   once the line is past column 80 (yaml.v2 keeps libyaml's wrapping unless a program calls
//!   `yaml.FutureLineWrap`, which consul-template does not);
//! - `json.Number` becomes an int64 when it parses as one, else a float64 (`strconv`'s
//!   shortest `%g`), else its text.

use super::resolve::{is_base60_float, resolves_to_str};
use crate::value::{go_fmt_float, Value};

/// The emitter's preferred width (libyaml's default, which yaml.v2 keeps).
const BEST_WIDTH: usize = 80;
/// The indentation step.
const BEST_INDENT: i64 = 2;
/// The longest key written as a simple `key: value` (libyaml's limit); longer ones use `? `.
const MAX_SIMPLE_KEY: usize = 128;

/// Encode `v` as yaml.v2 does, trimmed of surrounding white space.
pub(crate) fn to_yaml(v: &Value) -> Result<String, String> {
    let mut e = Emitter {
        out: String::new(),
        indent: -1,
        indents: Vec::new(),
        column: 0,
        whitespace: true,
        indention: true,
        ctx: Ctx::default(),
    };
    e.node(v, Ctx::default(), 0)?;
    Ok(e.out.trim_matches(go_space).to_owned())
}

/// Go's `unicode.IsSpace`, which `bytes.TrimSpace` trims.
fn go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || (c > '\u{ff}' && c.is_whitespace())
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// Where a node is written (libyaml's emitter contexts).
#[derive(Clone, Copy, Default)]
struct Ctx {
    mapping: bool,
    simple_key: bool,
}

/// What libyaml's `analyze_scalar` finds out about a scalar.
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

struct Emitter {
    out: String,
    indent: i64,
    indents: Vec<i64>,
    /// Column in characters.
    column: usize,
    whitespace: bool,
    indention: bool,
    ctx: Ctx,
}

/// The deepest nesting encoded (a map that contains itself is refused when built, so this
/// only bounds legitimate depth against the stack).
const MAX_NEST: usize = 200;

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0) as usize;
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in indicator.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn node(&mut self, v: &Value, ctx: Ctx, depth: usize) -> Result<(), String> {
        if depth > MAX_NEST {
            return Err(format!("toYAML: the value nests more than {MAX_NEST} deep"));
        }
        self.ctx = ctx;
        match v {
            Value::Nil | Value::Invalid | Value::NilPointer(_) => self.scalar("null", Style::Plain),
            Value::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain),
            Value::Int(i) => self.scalar(&i.to_string(), Style::Plain),
            Value::Typed(t) => self.scalar(&t.get().to_string(), Style::Plain),
            Value::Float(f) => self.scalar(&yaml_float(*f), Style::Plain),
            Value::Number(n) => {
                // json.Number: Int64, then Float64, then the text as a string.
                if let Ok(i) = n.parse::<i64>() {
                    self.scalar(&i.to_string(), Style::Plain)
                } else if let Some(f) = go_parse_float(n) {
                    self.scalar(&yaml_float(f), Style::Plain)
                } else {
                    self.string(n)
                }
            }
            Value::Str(s) => self.string(s),
            // yaml.v2: a time is a plain RFC 3339 scalar, a Duration its string, Month and
            // Weekday integers.
            Value::Time(crate::gotime::TimeValue::Time(t)) => self.scalar(
                &crate::gotime::format(t, "2006-01-02T15:04:05.999999999Z07:00"),
                Style::Plain,
            ),
            Value::Time(crate::gotime::TimeValue::Duration(d)) => {
                self.string(&crate::gotime::duration_string(*d))
            }
            Value::Time(t) => match t.cast_int() {
                Some(i) => self.scalar(&i.to_string(), Style::Plain),
                None => Err(format!(
                    "toYAML: encoding a {} is not supported by envfile yet",
                    t.type_name()
                )),
            },
            Value::List(l) | Value::Strings(l) => {
                if l.is_empty() {
                    return self.empty_flow("[", "]");
                }
                // A sequence that is a mapping's value is not indented.
                let indentless = self.ctx.mapping && !self.indention;
                self.increase_indent(false, indentless);
                for item in l.iter() {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.node(item, Ctx::default(), depth + 1)?;
                }
                self.pop_indent();
                Ok(())
            }
            Value::Map(m) => {
                let entries: Vec<(Value, Value)> = m
                    .entries()
                    .iter()
                    .map(|(k, v)| {
                        let key = if m.any_keys {
                            crate::value::key_value(k)
                        } else {
                            Value::str(k.clone())
                        };
                        (key, v.clone())
                    })
                    .collect();
                if entries.is_empty() {
                    return self.empty_flow("{", "}");
                }
                let mut entries = entries;
                sort_keys(&mut entries);
                self.increase_indent(false, false);
                for (k, v) in &entries {
                    self.write_indent();
                    let key_ctx = Ctx {
                        mapping: true,
                        ..Ctx::default()
                    };
                    let complex = match k {
                        Value::Str(k) => analyze(k).multiline || k.len() > MAX_SIMPLE_KEY,
                        _ => false,
                    };
                    if complex {
                        self.write_indicator("?", true, false, true);
                        self.node(k, key_ctx, depth + 1)?;
                        self.write_indent();
                        self.write_indicator(":", true, false, true);
                    } else {
                        let simple = Ctx {
                            simple_key: true,
                            ..key_ctx
                        };
                        self.node(k, simple, depth + 1)?;
                        self.write_indicator(":", false, false, false);
                    }
                    self.node(v, key_ctx, depth + 1)?;
                }
                self.pop_indent();
                Ok(())
            }
            Value::Secret(_) => {
                Err("toYAML: a secret record cannot be encoded whole; encode its .Data".into())
            }
            Value::Object(o) => {
                let m = o.marshal(crate::object::Encoding::Yaml)?;
                self.node(&m, ctx, depth)
            }
        }
    }

    /// `[]` or `{}`: libyaml writes an empty collection in flow style.
    fn empty_flow(&mut self, open: &str, close: &str) -> Result<(), String> {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
        Ok(())
    }

    /// yaml.v2's `stringv`: the style the encoder asks for.
    fn string(&mut self, s: &str) -> Result<(), String> {
        let style = if s.contains('\n') {
            Style::Literal
        } else if resolves_to_str(s) && !is_base60_float(s) {
            Style::Plain
        } else {
            Style::Double
        };
        self.scalar(s, style)
    }

    fn scalar(&mut self, value: &str, requested: Style) -> Result<(), String> {
        let a = analyze(value);
        let simple_key = self.ctx.simple_key;
        let mut style = requested;
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain && (!a.block_plain_allowed || (value.is_empty() && simple_key)) {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block_allowed || simple_key) {
            style = Style::Double;
        }
        self.increase_indent(true, false);
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.plain(value, allow_breaks),
            Style::Single => self.single_quoted(value, allow_breaks),
            Style::Double => self.double_quoted(value, allow_breaks),
            Style::Literal => self.literal(value),
        }
        self.pop_indent();
        Ok(())
    }

    fn plain(&mut self, value: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = value.chars().collect();
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && chars.get(i + 1) != Some(&' ')
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn single_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let n = chars.len();
        let mut spaces = false;
        let mut breaks = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i + 1 < n
                    && chars[i + 1] != ' '
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn double_quoted(&mut self, value: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = value.chars().collect();
        let n = chars.len();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{b}' => self.put('v'),
                    '\u{c}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1b}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{a0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    c => {
                        let v = c as u32;
                        let (letter, width) = if v <= 0xff {
                            ('x', 2)
                        } else if v <= 0xffff {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(letter);
                        for d in format!("{v:0width$X}").chars() {
                            self.put(d);
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < n {
                    self.write_indent();
                    if chars[i + 1] == ' ' {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, value: &str) {
        self.write_indicator("|", true, false, false);
        // Block scalar hints: an indentation digit when the text starts with a space or a
        // break; the chomping indicator from how many breaks end it.
        let first = value.chars().next();
        if first.is_some_and(|c| c == ' ' || is_break(c)) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        let mut rev = value.chars().rev();
        let chomp = match (rev.next(), rev.next()) {
            (None, _) => Some('-'),
            (Some(last), _) if !is_break(last) => Some('-'),
            (Some(_), None) => Some('+'),
            (Some(_), Some(prev)) if is_break(prev) => Some('+'),
            _ => None,
        };
        if let Some(c) = chomp {
            self.write_indicator(&c.to_string(), false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in value.chars() {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `is_printable` (on the UTF-8 it reads). It looks at one to three bytes, so a
/// character outside the Basic Multilingual Plane (an emoji) is not printable: such a string
/// is double-quoted with a `\U` escape, as the agent writes it.
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}')
        && c != '\u{feff}'
}

/// libyaml's `yaml_emitter_analyze_scalar`, for the block context envfile emits in.
fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = chars.get(i + 1).is_none_or(|&n| n == ' ' || n == '\t');
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == n {
                trailing_space = true;
            }
            if previous_break {
                break_space = true;
            }
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == n {
                trailing_break = true;
            }
            if previous_space {
                space_break = true;
            }
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = matches!(c, ' ' | '\t' | '\0') || is_break(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain_allowed: true,
        single_quoted_allowed: true,
        block_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain_allowed = false;
    }
    if trailing_space {
        a.block_allowed = false;
    }
    if break_space {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
        a.block_allowed = false;
    }
    if line_breaks || block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

/// yaml.v2's float text: `strconv.FormatFloat(f, 'g', -1, 64)` with YAML's names for the
/// infinities and NaN.
fn yaml_float(f: f64) -> String {
    if f.is_nan() {
        ".nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { ".inf" } else { "-.inf" }.into()
    } else {
        go_fmt_float(f)
    }
}

/// `strconv.ParseFloat(s, 64)` for the text of a `json.Number` (always JSON number syntax):
/// None when out of range, as Go reports `ErrRange`.
fn go_parse_float(s: &str) -> Option<f64> {
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

/// A map key as yaml.v2's sort sees it: its reflect kind and, for numbers and booleans, the
/// float it compares by first.
enum SortKey {
    Num { f: f64, kind: u8, v: Value },
    Nil,
    Str(Vec<char>),
}

// reflect.Kind values yaml.v2 compares kinds by.
const KIND_BOOL: u8 = 1;
const KIND_INT: u8 = 2;
const KIND_INT64: u8 = 6;
const KIND_UINT64: u8 = 11;
const KIND_FLOAT64: u8 = 14;
const KIND_INTERFACE: u8 = 20;
const KIND_STRING: u8 = 24;

impl SortKey {
    fn of(v: &Value) -> SortKey {
        match v {
            Value::Bool(b) => SortKey::Num {
                f: f64::from(u8::from(*b)),
                kind: KIND_BOOL,
                v: v.clone(),
            },
            Value::Int(i) => SortKey::Num {
                f: *i as f64,
                kind: KIND_INT,
                v: v.clone(),
            },
            Value::Float(f) => SortKey::Num {
                f: *f,
                kind: KIND_FLOAT64,
                v: v.clone(),
            },
            Value::Typed(t) => SortKey::Num {
                f: t.get() as f64,
                kind: if t.is_unsigned() {
                    KIND_UINT64
                } else {
                    KIND_INT64
                },
                v: v.clone(),
            },
            Value::Str(s) => SortKey::Str(s.chars().collect()),
            _ => SortKey::Nil,
        }
    }

    fn kind(&self) -> u8 {
        match self {
            SortKey::Num { kind, .. } => *kind,
            SortKey::Nil => KIND_INTERFACE,
            SortKey::Str(_) => KIND_STRING,
        }
    }
}

/// yaml.v2's `keyList.Less`.
fn sort_less(a: &SortKey, b: &SortKey) -> bool {
    if let (SortKey::Num { f: af, v: av, .. }, SortKey::Num { f: bf, v: bv, .. }) = (a, b) {
        if af != bf {
            return af < bf;
        }
        if a.kind() != b.kind() {
            return a.kind() < b.kind();
        }
        return match (av, bv) {
            (Value::Int(x), Value::Int(y)) => x < y,
            (Value::Float(x), Value::Float(y)) => x < y,
            (Value::Bool(x), Value::Bool(y)) => !x && *y,
            (Value::Typed(x), Value::Typed(y)) => x.get() < y.get(),
            _ => false,
        };
    }
    match (a, b) {
        (SortKey::Str(x), SortKey::Str(y)) => key_less(x, y),
        _ => a.kind() < b.kind(),
    }
}

/// Sort map keys as yaml.v2's `keyList.Less` does. Go's `sort.Sort` is an insertion sort up
/// to 12 elements, which settles the order of keys the comparison calls equal; a stable merge
/// sort agrees with it there, and cannot panic on an order that is not total.
fn sort_keys(entries: &mut Vec<(Value, Value)>) {
    let keys: Vec<SortKey> = entries.iter().map(|(k, _)| SortKey::of(k)).collect();
    let mut order: Vec<usize> = (0..entries.len()).collect();
    if order.len() <= 12 {
        for i in 1..order.len() {
            let mut j = i;
            while j > 0 && sort_less(&keys[order[j]], &keys[order[j - 1]]) {
                order.swap(j, j - 1);
                j -= 1;
            }
        }
    } else {
        merge_sort(&mut order, &|a, b| sort_less(&keys[*a], &keys[*b]));
    }
    let mut taken: Vec<Option<(Value, Value)>> =
        std::mem::take(entries).into_iter().map(Some).collect();
    entries.extend(order.into_iter().filter_map(|i| taken[i].take()));
}

fn merge_sort<T: Clone>(v: &mut [T], less: &dyn Fn(&T, &T) -> bool) {
    if v.len() <= 1 {
        return;
    }
    let mid = v.len() / 2;
    merge_sort(&mut v[..mid], less);
    merge_sort(&mut v[mid..], less);
    let (left, right) = (v[..mid].to_vec(), v[mid..].to_vec());
    let (mut i, mut j) = (0, 0);
    for slot in v.iter_mut() {
        let take_right = j < right.len() && (i >= left.len() || less(&right[j], &left[i]));
        if take_right {
            *slot = right[j].clone();
            j += 1;
        } else {
            *slot = left[i].clone();
            i += 1;
        }
    }
}

/// yaml.v2's `keyList.Less` for two string keys.
fn key_less(a: &[char], b: &[char]) -> bool {
    // Go's unicode.IsDigit (category Nd), approximated outside ASCII by Rust's numeric class.
    let is_digit = |c: char| c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric());
    for i in 0..a.len().min(b.len()) {
        if a[i] == b[i] {
            continue;
        }
        let (al, bl) = (a[i].is_alphabetic(), b[i].is_alphabetic());
        if al && bl {
            return a[i] < b[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn): (i64, i64) = (0, 0);
        if a[i] == '0' || b[i] == '0' {
            let mut j = i;
            while j > 0 && is_digit(a[j - 1]) {
                j -= 1;
                if a[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let digit = |c: char| (c as i64).wrapping_sub('0' as i64);
        let mut ai = i;
        while ai < a.len() && is_digit(a[ai]) {
            an = an.wrapping_mul(10).wrapping_add(digit(a[ai]));
            ai += 1;
        }
        let mut bi = i;
        while bi < b.len() && is_digit(b[bi]) {
            bn = bn.wrapping_mul(10).wrapping_add(digit(b[bi]));
            bi += 1;
        }
        if an != bn {
            return an < bn;
        }
        if ai != bi {
            return ai < bi;
        }
        return a[i] < b[i];
    }
    a.len() < b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::test_util::j;

    fn y(json: &str) -> String {
        to_yaml(&j(json)).unwrap()
    }

    #[test]
    fn maps_lists_and_nesting() {
        assert_eq!(
            y(r#"{"b":{"c":[1,2],"d":{}},"a":[],"l":[{"x":1,"y":[true,null]},[1,[2]]]}"#),
            "a: []\nb:\n  c:\n  - 1\n  - 2\n  d: {}\nl:\n- x: 1\n  \"y\":\n  - true\n  - null\n- - 1\n  - - 2"
        );
    }

    #[test]
    fn strings_are_quoted_only_when_they_must_be() {
        for (s, want) in [
            ("plain text", "plain text"),
            ("", "\"\""),
            ("true", "\"true\""),
            ("yes", "\"yes\""),
            ("~", "\"~\""),
            ("1.5", "\"1.5\""),
            ("0x1F", "\"0x1F\""),
            ("12:30", "\"12:30\""),
            ("2024-01-02", "\"2024-01-02\""),
            ("- a", "'- a'"),
            ("a: b", "'a: b'"),
            ("it's", "it's"),
            ("'q'", "'''q'''"),
            (" lead", "' lead'"),
            ("tab\there", "\"tab\\there\""),
            ("a #b", "'a #b'"),
            ("a#b", "a#b"),
            ("@x", "'@x'"),
        ] {
            assert_eq!(to_yaml(&Value::str(s)).unwrap(), want, "{s:?}");
        }
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        assert_eq!(y(r#"{"k":"a\nb"}"#), "k: |-\n  a\n  b");
        assert_eq!(y(r#"{"k":"a\nb\n"}"#), "k: |\n  a\n  b");
        assert_eq!(y(r#"{"k":"a\n\n"}"#), "k: |+\n  a");
        assert_eq!(y(r#"{"k":" a\nb"}"#), "k: |2-\n   a\n  b");
        assert_eq!(y(r#"{"k":"a \nb"}"#), "k: \"a \\nb\"");
    }

    #[test]
    fn keys_sort_naturally() {
        assert_eq!(
            y(r#"{"a10":1,"a2":2,"_z":3,"Z":4,"b":5}"#),
            "_z: 3\nZ: 4\na2: 2\na10: 1\nb: 5"
        );
    }

    #[test]
    fn numbers_follow_json_number_rules() {
        assert_eq!(
            y(r#"[5432, 1.5, 1e21, 0.0000001, 18446744073709551615]"#),
            "- 5432\n- 1.5\n- 1e+21\n- 1e-07\n- 1.8446744073709552e+19"
        );
    }

    #[test]
    fn long_lines_wrap_at_80_columns() {
        let words = "word ".repeat(30);
        let out = to_yaml(&Value::str(words.trim_end())).unwrap();
        assert!(out.lines().count() > 1, "{out}");
        assert!(out.lines().all(|l| l.len() <= 85), "{out}");
    }
}
