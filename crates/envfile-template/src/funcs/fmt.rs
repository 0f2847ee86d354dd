//! Go's `fmt` as templates reach it: `print`, `printf`, `println`. `printf` parses verbs, flags
//! (`+ - # 0` and space), width, precision and argument indexes (`%[2]s`, `%*d`, `%.*f`) the way
//! `fmt.Sprintf` does, and writes Go's in-band errors (`%!d(string=x)`, `%!s(MISSING)`,
//! `%!(EXTRA …)`, `%!(NOVERB)`, `%!v(BADINDEX)`) instead of failing, as the agent does.

use super::{Def, R};
use crate::value::{fmt_v, go_fmt_float, Value};

pub(crate) const FUNCS: &[Def] = &[
    Def::new("print", |a| Ok(Value::str(sprint(&a)))),
    Def::new("printf", printf),
    Def::new("println", |a| Ok(Value::str(sprintln(&a)))),
];

/// `fmt.Sprint`: a space between operands when neither is a string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !is_string_kind(a) && !is_string_kind(&args[i - 1]) {
            out.push(' ');
        }
        fmt_v(a, &mut out);
    }
    out
}

/// `fmt.Sprintln`: always a space between operands, and a newline.
pub(crate) fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        fmt_v(a, &mut out);
    }
    out.push('\n');
    out
}

fn is_string_kind(v: &Value) -> bool {
    matches!(v, Value::Str(_) | Value::Number(_))
}

fn printf(args: Vec<Value>) -> R {
    let (format, rest) = args
        .split_first()
        .ok_or_else(|| "wrong number of args for printf: want at least 1 got 0".to_owned())?;
    let format = super::string_arg(format)?;
    Ok(Value::str(sprintf(format, rest)))
}

/// One directive's flags, width and precision.
#[derive(Default, Clone, Copy)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf`.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    // Directives are ASCII: scan bytes, copy literal runs as slices.
    let f = format.as_bytes();
    let mut i = 0;
    let mut argn = 0usize;
    let mut reordered = false;
    while i < f.len() {
        // Stop once past the output limit: the caller turns an oversized result into an error.
        if out.len() > crate::limits::MAX_OUTPUT {
            break;
        }
        if f[i] != b'%' {
            let j = f[i..]
                .iter()
                .position(|&c| c == b'%')
                .map_or(f.len(), |k| i + k);
            out.push_str(&format[i..j]);
            i = j;
            continue;
        }
        i += 1;
        let mut s = Spec::default();
        while i < f.len() {
            match f[i] {
                b'+' => s.plus = true,
                b'-' => s.minus = true,
                b'#' => s.sharp = true,
                b'0' => s.zero = true,
                b' ' => s.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut good_index = true;
        // An explicit argument index, then width.
        let mut index = |i: &mut usize, argn: &mut usize, reordered: &mut bool| {
            if *i < f.len() && f[*i] == b'[' {
                *reordered = true;
                let close = f[*i..].iter().position(|&c| c == b']');
                let parsed = close.and_then(|c| {
                    let digits = std::str::from_utf8(&f[*i + 1..*i + c]).unwrap_or("");
                    *i += c + 1;
                    digits
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n >= 1 && *n <= args.len())
                });
                match parsed {
                    Some(n) => *argn = n - 1,
                    None => {
                        if close.is_none() {
                            *i = f.len().min(*i + 1);
                        }
                        good_index = false;
                    }
                }
            }
        };
        index(&mut i, &mut argn, &mut reordered);
        if i < f.len() && f[i] == b'*' {
            i += 1;
            match args.get(argn).and_then(int_of) {
                Some(w) if w.unsigned_abs() <= 1_000_000 => {
                    if w < 0 {
                        s.minus = true;
                    }
                    s.width = Some(w.unsigned_abs() as usize);
                }
                _ => out.push_str("%!(BADWIDTH)"),
            }
            argn += 1;
        } else {
            s.width = digits(f, &mut i);
        }
        if i < f.len() && f[i] == b'.' {
            i += 1;
            index(&mut i, &mut argn, &mut reordered);
            if i < f.len() && f[i] == b'*' {
                i += 1;
                match args.get(argn).and_then(int_of) {
                    Some(p) if (0..=1_000_000).contains(&p) => s.prec = Some(p as usize),
                    _ => out.push_str("%!(BADPREC)"),
                }
                argn += 1;
            } else {
                s.prec = Some(digits(f, &mut i).unwrap_or(0));
            }
        }
        index(&mut i, &mut argn, &mut reordered);
        let Some(verb) = format.get(i..).and_then(|r| r.chars().next()) else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += verb.len_utf8();
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !good_index {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
            continue;
        }
        match args.get(argn) {
            Some(a) => {
                argn += 1;
                if s.minus {
                    s.zero = false;
                }
                fmt_arg(a, verb, &s, &mut out, 0);
            }
            None => out.push_str(&format!("%!{verb}(MISSING)")),
        }
    }
    if !reordered && argn < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args[argn..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            if is_nil(a) {
                out.push_str("<nil>");
            } else {
                out.push_str(a.type_name());
                out.push('=');
                fmt_v(a, &mut out);
            }
        }
        out.push(')');
    }
    out
}

fn digits(f: &[u8], i: &mut usize) -> Option<usize> {
    let start = *i;
    let mut n: usize = 0;
    while *i < f.len() && f[*i].is_ascii_digit() {
        n = n
            .saturating_mul(10)
            .saturating_add(usize::from(f[*i] - b'0'));
        *i += 1;
    }
    // fmt caps widths at 1e6 ("too large" is then a bad width); a template cannot ask for more.
    (*i > start).then_some(n.min(1_000_000))
}

/// A `*` width or precision: Go's `intFromArg` takes an integer of any type that fits an `int`.
fn int_of(v: &Value) -> Option<i64> {
    v.integer().and_then(|i| i64::try_from(i).ok())
}

fn is_nil(v: &Value) -> bool {
    matches!(v, Value::Nil | Value::Invalid)
}

/// Go's `%!verb(type=value)` for a verb the operand's type does not take.
/// The value prints as `%v` under the directive's own flags, width and precision, as Go does.
fn bad_verb(verb: char, v: &Value, s: &Spec, out: &mut String) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if is_nil(v) {
        out.push_str("<nil>");
    } else {
        out.push_str(v.type_name());
        out.push('=');
        fmt_arg(v, 'v', s, out, 0);
    }
    out.push(')');
}

/// `n` copies of an ASCII `c`, a slice at a time: widths reach a million characters (Go's
/// cap), and pushing them one `char` at a time made such a directive cost milliseconds.
fn fill_with(out: &mut String, c: char, mut n: usize) {
    const SPACES: &str = "                                                                ";
    const ZEROS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    let chunk = if c == '0' { ZEROS } else { SPACES };
    out.reserve(n);
    while n > 0 {
        let k = n.min(chunk.len());
        out.push_str(&chunk[..k]);
        n -= k;
    }
}

/// Pad `body` to the width: spaces left (or right with `-`), or zeros when `zero` (numbers pad
/// after their sign).
fn pad(body: &str, s: &Spec, zero: bool, out: &mut String) {
    let w = s.width.unwrap_or(0);
    if body.len() >= w {
        // At least as many characters as bytes/4, at least `w` bytes: no counting needed.
        if w == 0 || body.len() >= 4 * w || body.chars().count() >= w {
            out.push_str(body);
            return;
        }
    }
    let n = body.chars().count();
    if n >= w {
        out.push_str(body);
        return;
    }
    let fill = w - n;
    if s.minus {
        out.push_str(body);
        fill_with(out, ' ', fill);
    } else if zero {
        let sign_len = body
            .chars()
            .next()
            .filter(|c| matches!(c, '+' | '-' | ' '))
            .map_or(0, |_| 1);
        out.push_str(&body[..sign_len]);
        fill_with(out, '0', fill);
        out.push_str(&body[sign_len..]);
    } else {
        fill_with(out, ' ', fill);
        out.push_str(body);
    }
}

/// One operand under one verb. `depth > 0` inside a slice or map, where a nil prints `<nil>`.
fn fmt_arg(v: &Value, verb: char, s: &Spec, out: &mut String, depth: usize) {
    if verb == 'T' {
        let t = if is_nil(v) { "<nil>" } else { v.type_name() };
        pad(t, s, false, out);
        return;
    }
    if verb == 'v' && s.sharp {
        let mut body = String::new();
        go_syntax(v, &mut body, depth);
        pad(&body, s, false, out);
        return;
    }
    match v {
        Value::NilPointer(_) if verb == 'v' => pad("<nil>", s, false, out),
        Value::NilPointer(_) => bad_verb(verb, v, s, out),
        Value::Nil | Value::Invalid => {
            if verb == 'v' || depth > 0 {
                pad("<nil>", s, false, out)
            } else {
                bad_verb(verb, v, s, out)
            }
        }
        Value::Bool(b) => match verb {
            'v' | 't' => pad(if *b { "true" } else { "false" }, s, false, out),
            _ => bad_verb(verb, v, s, out),
        },
        Value::Int(i) => fmt_int(i128::from(*i), verb, s, v, out),
        Value::Typed(t) => fmt_int(t.get(), verb, s, v, out),
        Value::Float(f) => fmt_float(*f, verb, s, v, out),
        Value::Str(_) | Value::Number(_) => {
            fmt_str(v.as_text().unwrap_or_default(), verb, s, v, out)
        }
        Value::List(l) | Value::Strings(l) => {
            out.push('[');
            for (k, e) in l.iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                fmt_arg(e, verb, s, out, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push_str("map[");
            for (k, (key, e)) in m.entries().iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                fmt_str(key, verb, s, &Value::str(key.clone()), out);
                out.push(':');
                fmt_arg(e, verb, s, out, depth + 1);
            }
            out.push(']');
        }
        Value::Secret(_) => {
            let mut body = String::new();
            fmt_v(v, &mut body);
            pad(&body, s, false, out)
        }
        // A `fmt.Stringer` for the string verbs; Month, Weekday and Duration are integers
        // for the others.
        Value::Time(t) => match (verb, t.int()) {
            ('v' | 's' | 'x' | 'X' | 'q', _) => {
                let text = t.string();
                fmt_str(&text, verb, s, &Value::str(text.clone()), out)
            }
            (_, Some(i)) => crate::gotime::fmt_int_kind(t, i, verb, out, |i, verb, out| {
                fmt_int(i128::from(i), verb, s, &Value::Int(i), out)
            }),
            _ => crate::gotime::fmt_struct(t, verb, out, |i, verb, out| {
                fmt_int(i128::from(i), verb, s, &Value::Int(i), out)
            })
            .unwrap_or_else(|| bad_verb(verb, v, s, out)),
        },
        Value::Object(o) => match o.stringer() {
            // fmt calls `String()` for these verbs only.
            Some(text) if matches!(verb, 'v' | 's' | 'q' | 'x' | 'X') => {
                fmt_str(&text, verb, s, &Value::str(text.clone()), out)
            }
            _ => {
                // Otherwise the struct's fields, each under the verb (`&{…}` for a pointer).
                if o.is_pointer() {
                    out.push('&');
                }
                out.push('{');
                for (k, (_, f)) in o.fields().iter().enumerate() {
                    if k > 0 {
                        out.push(' ');
                    }
                    fmt_arg(f, verb, s, out, depth + 1);
                }
                out.push('}');
            }
        },
    }
}

/// `%#v`: Go syntax.
fn go_syntax(v: &Value, out: &mut String, depth: usize) {
    match v {
        Value::Nil | Value::Invalid if depth > 0 => out.push_str("interface {}(nil)"),
        Value::Nil | Value::Invalid => out.push_str("<nil>"),
        Value::Str(_) | Value::Number(_) => go_quote(v.as_text().unwrap_or_default(), out),
        Value::List(l) | Value::Strings(l) => {
            out.push_str(v.type_name());
            out.push('{');
            for (k, e) in l.iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                go_syntax(e, out, depth + 1);
            }
            out.push('}');
        }
        Value::Map(m) => {
            out.push_str("map[string]interface {}{");
            for (k, (key, e)) in m.entries().iter().enumerate() {
                if k > 0 {
                    out.push_str(", ");
                }
                go_quote(key, out);
                out.push(':');
                go_syntax(e, out, depth + 1);
            }
            out.push('}');
        }
        Value::Time(t) => out.push_str(&t.go_syntax()),
        Value::Object(o) => out.push_str(&o.go_syntax()),
        // fmt prints an unsigned integer in Go syntax as hex.
        Value::Typed(crate::value::TypedInt::Uint64(u)) => out.push_str(&format!("{u:#x}")),
        other => fmt_v(other, out),
    }
}

/// An integer of any Go type (`i128` holds both `int64` and `uint64`).
fn fmt_int(i: i128, verb: char, s: &Spec, v: &Value, out: &mut String) {
    let neg = i < 0;
    let u = i.unsigned_abs();
    let (digits, prefix) = match verb {
        'v' | 'd' => (u.to_string(), ""),
        'b' => (format!("{u:b}"), if s.sharp { "0b" } else { "" }),
        'o' => (format!("{u:o}"), if s.sharp { "0" } else { "" }),
        'O' => (format!("{u:o}"), "0o"),
        'x' => (format!("{u:x}"), if s.sharp { "0x" } else { "" }),
        'X' => (format!("{u:X}"), if s.sharp { "0X" } else { "" }),
        'c' => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}');
            return pad(c.encode_utf8(&mut [0; 4]), s, false, out);
        }
        'q' => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}');
            let mut q = String::from('\'');
            match c {
                '\'' => q.push_str("\\'"),
                '"' => q.push('"'),
                _ => {
                    let mut dq = String::new();
                    go_quote(c.encode_utf8(&mut [0; 4]), &mut dq);
                    q.push_str(&dq[1..dq.len() - 1]);
                }
            }
            q.push('\'');
            return pad(&q, s, false, out);
        }
        'U' => {
            let mut body = format!("U+{u:04X}");
            if s.sharp {
                if let Some(c) = u32::try_from(i).ok().and_then(char::from_u32) {
                    if go_printable(c) {
                        body.push_str(&format!(" '{c}'"));
                    }
                }
            }
            return pad(&body, s, false, out);
        }
        _ => return bad_verb(verb, v, s, out),
    };
    let mut digits = digits;
    if let Some(p) = s.prec {
        if p == 0 && u == 0 {
            digits.clear();
        }
        if digits.len() < p {
            digits = "0".repeat(p - digits.len()) + &digits;
        }
        if verb == 'o' && s.sharp && digits.starts_with('0') {
            // `%#o` adds its 0 only when the digits do not start with one.
        }
    }
    let prefix = if verb == 'o' && digits.starts_with('0') {
        ""
    } else {
        prefix
    };
    let sign = if neg {
        "-"
    } else if s.plus {
        "+"
    } else if s.space {
        " "
    } else {
        ""
    };
    let body = format!("{sign}{prefix}{digits}");
    // Zero padding goes between the sign and the digits; Go skips it when a precision is set.
    if s.zero && s.prec.is_none() && !s.minus {
        let w = s.width.unwrap_or(0);
        let n = body.chars().count();
        if n < w {
            out.push_str(sign);
            out.push_str(prefix);
            fill_with(out, '0', w - n);
            out.push_str(&digits);
            return;
        }
    }
    pad(&body, s, false, out)
}

fn fmt_float(f: f64, verb: char, s: &Spec, v: &Value, out: &mut String) {
    let body = match verb {
        'v' => float_g(f, s.prec, 'e'),
        'g' => float_g(f, s.prec, 'e'),
        'G' => float_g(f, s.prec, 'E'),
        'e' | 'E' => float_e(f, s.prec.unwrap_or(6), verb),
        'x' | 'X' => {
            let h = float_hex(f);
            if verb == 'X' {
                h.to_uppercase()
            } else {
                h
            }
        }
        'b' => float_bin(f),
        'f' | 'F' => {
            if f.is_finite() {
                fixed(f, s.prec.unwrap_or(6))
            } else {
                go_fmt_float(f)
            }
        }
        _ => return bad_verb(verb, v, s, out),
    };
    let mut body = body;
    if !body.starts_with(['-', '+']) {
        if s.plus {
            body.insert(0, '+');
        } else if s.space {
            body.insert(0, ' ');
        }
    } else if body.starts_with('+') && !s.plus {
        // +Inf keeps its sign only under `+`; Go prints `+Inf` for %v as well.
    }
    pad(&body, s, s.zero && f.is_finite(), out)
}

/// The sign, 53-bit integer mantissa and binary exponent of a finite float: `f = m * 2^e`.
fn float_parts(f: f64) -> (bool, u64, i64) {
    let bits = f.to_bits();
    let neg = bits >> 63 == 1;
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let mant = bits & ((1 << 52) - 1);
    if exp == 0 {
        (neg, mant, -1074)
    } else {
        (neg, mant | (1 << 52), exp - 1075)
    }
}

/// `%b` of a float: `4503599627370496p-52`.
fn float_bin(f: f64) -> String {
    if !f.is_finite() {
        return go_fmt_float(f);
    }
    let (neg, m, e) = float_parts(f);
    let sign = if neg { "-" } else { "" };
    let esign = if e < 0 { '-' } else { '+' };
    format!("{sign}{m}p{esign}{}", e.abs())
}

/// `%x` of a float (shortest): `0x1.cp+01`.
fn float_hex(f: f64) -> String {
    if !f.is_finite() {
        return go_fmt_float(f);
    }
    let (neg, mut m, mut e) = float_parts(f);
    let sign = if neg { "-" } else { "" };
    if m == 0 {
        return format!("{sign}0x0p+00");
    }
    // Normalise to a leading 1 in bit 52.
    while m < (1 << 52) {
        m <<= 1;
        e -= 1;
    }
    let e = e + 52;
    let frac = format!("{:013x}", m & ((1 << 52) - 1));
    let frac = frac.trim_end_matches('0');
    let dot = if frac.is_empty() { "" } else { "." };
    let esign = if e < 0 { '-' } else { '+' };
    format!("{sign}0x1{dot}{frac}p{esign}{:02}", e.abs())
}

/// Go's exponent: a sign and at least two digits.
fn go_exp(mantissa: &str, exp: i32, e: char) -> String {
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}{e}{sign}{:02}", exp.abs())
}

fn float_e(f: f64, prec: usize, verb: char) -> String {
    if !f.is_finite() {
        return go_fmt_float(f);
    }
    let s = sci(f, prec);
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    go_exp(m, e.parse().unwrap_or(0), verb)
}

/// Digits past which every decimal digit of an `f64` is 0: its exact expansion has at most 1074
/// fractional and 767 significant digits. Rust's formatter panics on a precision above
/// `u16::MAX` ("Formatting argument out of range"), while Go (and a template) may ask for up to
/// 1e6; so a longer precision is formatted at this one and the exact zeros appended.
const EXACT_DIGITS: usize = 1100;

/// `{:.prec}` for any `prec` (see [`EXACT_DIGITS`]).
fn fixed(f: f64, prec: usize) -> String {
    let p = prec.min(EXACT_DIGITS);
    let mut s = format!("{:.*}", p, f);
    s.extend(std::iter::repeat_n('0', prec - p));
    s
}

/// `{:.prec e}` for any `prec` (see [`EXACT_DIGITS`]): zeros go before the exponent.
fn sci(f: f64, prec: usize) -> String {
    let p = prec.min(EXACT_DIGITS);
    let s = format!("{:.*e}", p, f);
    match s.split_once('e') {
        Some((m, e)) if p < prec => format!("{m}{}e{e}", "0".repeat(prec - p)),
        _ => s,
    }
}

/// `%g` (shortest when `prec` is None): Go's strconv rules for choosing `%e` or `%f`.
fn float_g(f: f64, prec: Option<usize>, e: char) -> String {
    if !f.is_finite() {
        return go_fmt_float(f);
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let shortest = prec.is_none();
    let s = match prec {
        None => format!("{:e}", f),
        Some(p) => sci(f, p.max(1) - 1),
    };
    let (m, ex) = s.split_once('e').unwrap_or((&s, "0"));
    let neg = m.starts_with('-');
    let digs: String = m.chars().filter(char::is_ascii_digit).collect();
    let digs = digs.trim_end_matches('0');
    let digs = if digs.is_empty() { "0" } else { digs };
    let nd = digs.len() as i64;
    let dp = ex.parse::<i64>().unwrap_or(0) + 1;
    let mut p = prec.map_or(nd, |p| p.max(1) as i64);
    let mut eprec = p;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if shortest {
        eprec = 6;
    }
    let exp = dp - 1;
    let sign = if neg { "-" } else { "" };
    if exp < -4 || exp >= eprec {
        if p > nd {
            p = nd;
        }
        let frac = &digs[1..(p as usize).min(digs.len())];
        let mut m = format!("{sign}{}", &digs[..1]);
        if p > 1 {
            m.push('.');
            m.push_str(frac);
            m.extend(std::iter::repeat_n(
                '0',
                (p as usize - 1).saturating_sub(frac.len()),
            ));
        }
        return go_exp(&m, exp as i32, e);
    }
    if p > dp {
        p = nd;
    }
    let frac_digits = (p - dp).max(0) as usize;
    // Digits before the point, then after it, padding with zeros where `digs` runs out.
    let digit = |k: i64| -> char {
        if k >= 0 && k < nd {
            digs.as_bytes()[k as usize] as char
        } else {
            '0'
        }
    };
    let mut out = String::from(sign);
    if dp <= 0 {
        out.push('0');
    } else {
        (0..dp).for_each(|k| out.push(digit(k)));
    }
    if frac_digits > 0 {
        out.push('.');
        (0..frac_digits as i64).for_each(|k| out.push(digit(dp + k)));
    }
    out
}

fn fmt_str(t: &str, verb: char, s: &Spec, v: &Value, out: &mut String) {
    // Precision truncates to that many characters before quoting or hex-encoding.
    let t: &str = match s.prec {
        Some(p) => match t.char_indices().nth(p) {
            Some((at, _)) => &t[..at],
            None => t,
        },
        None => t,
    };
    match verb {
        'v' | 's' => pad(t, s, s.zero, out),
        'q' => {
            let mut q = String::new();
            if s.sharp && can_backquote(t) {
                q.push('`');
                q.push_str(t);
                q.push('`');
            } else if s.plus {
                go_quote_ascii(t, &mut q);
            } else {
                go_quote(t, &mut q);
            }
            pad(&q, s, s.zero, out)
        }
        'x' | 'X' => {
            let mut h = String::new();
            for (k, b) in t.bytes().enumerate() {
                if s.space && k > 0 {
                    h.push(' ');
                }
                if s.sharp && (s.space || k == 0) {
                    h.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    h.push_str(&format!("{b:02x}"));
                } else {
                    h.push_str(&format!("{b:02X}"));
                }
            }
            pad(&h, s, s.zero, out)
        }
        _ => bad_verb(verb, v, s, out),
    }
}

fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{feff}' && (c == '\t' || !(c < ' ' || c == '\x7f')))
}

/// `strconv.QuoteToASCII`.
fn go_quote_ascii(s: &str, out: &mut String) {
    let mut q = String::new();
    go_quote(s, &mut q);
    for c in q.chars() {
        match c as u32 {
            0..=0x7f => out.push(c),
            u if u < 0x10000 => out.push_str(&format!("\\u{u:04x}")),
            u => out.push_str(&format!("\\U{u:08x}")),
        }
    }
}

/// `strconv.Quote`: Go escapes for `"`, `\`, the named control characters, and `\xNN`/`\uNNNN`/
/// `\UNNNNNNNN` for other non-printable characters. Printable non-ASCII stays as is.
pub(crate) fn go_quote(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if c < ' ' || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if go_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
}

/// An approximation of Go's `unicode.IsPrint` (letters, marks, numbers, punctuation, symbols and
/// the ASCII space) without Unicode category tables: controls, non-ASCII spaces, format
/// characters, surrogates, private use and noncharacters are not printable.
pub(crate) fn go_printable(c: char) -> bool {
    let u = c as u32;
    if u < 0x80 {
        return (0x20..0x7f).contains(&u);
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f
            | 0x202a..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb
            | 0xe000..=0xf8ff | 0xf0000..=0x10ffff | 0xfdd0..=0xfdef)
        || (u & 0xfffe) == 0xfffe)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> Value {
        Value::from_json(&serde_json::from_str(s).unwrap())
    }

    fn p(f: &str, args: &[Value]) -> String {
        sprintf(f, args)
    }

    #[test]
    fn printf_matches_go_for_json_numbers() {
        let args = [j("5432"), j("5432"), j("0.5"), j("\"\""), Value::Int(7)];
        assert_eq!(
            p("%v %d %s %q|%d", &args),
            "5432 %!d(json.Number=5432) 0.5 \"\"|7"
        );
        assert_eq!(p("%s %s", &[Value::str("a")]), "a %!s(MISSING)");
        assert_eq!(
            p("x", &[Value::Int(1), Value::Nil]),
            "x%!(EXTRA int=1, <nil>)"
        );
        assert_eq!(p("%v|%s", &[Value::Nil, Value::Nil]), "<nil>|%!s(<nil>)");
    }

    #[test]
    fn width_precision_and_flags() {
        assert_eq!(
            p(
                "%5.2f|%-6s|%05d",
                &[Value::Float(1.23456), Value::str("ab"), Value::Int(-42)]
            ),
            " 1.23|ab    |-0042"
        );
        assert_eq!(
            p(
                "%x %X %o %b %#x %#o",
                &[
                    Value::Int(255),
                    Value::Int(255),
                    Value::Int(8),
                    Value::Int(5),
                    Value::Int(255),
                    Value::Int(8)
                ]
            ),
            "ff FF 10 101 0xff 010"
        );
        assert_eq!(
            p(
                "%c|%U|%#U|%q",
                &[
                    Value::Int(65),
                    Value::Int(0x1F600),
                    Value::Int(65),
                    Value::Int(65)
                ]
            ),
            "A|U+1F600|U+0041 'A'|'A'"
        );
        assert_eq!(
            p(
                "%+d % d %8.3d",
                &[Value::Int(5), Value::Int(5), Value::Int(7)]
            ),
            "+5  5      007"
        );
        assert_eq!(p("%[2]s %[1]s", &[Value::str("a"), Value::str("b")]), "b a");
        assert_eq!(
            p(
                "%*d|%.*f",
                &[
                    Value::Int(4),
                    Value::Int(7),
                    Value::Int(1),
                    Value::Float(2.25)
                ]
            ),
            "   7|2.2"
        );
        assert_eq!(p("%!", &[]), "%!!(MISSING)");
        assert_eq!(p("%", &[]), "%!(NOVERB)");
        assert_eq!(p("%[3]d", &[Value::Int(1)]), "%!d(BADINDEX)");
    }

    #[test]
    fn precisions_past_the_formatters_limit_are_exact_zeros() {
        // Rust's `format!` panics on a precision above u16::MAX; fmt takes up to 1e6 (found by
        // the template fuzz target: `printf "%.666666666a" …` capped to 1e6).
        let f = |v: f64, fmt: &str| sprintf(fmt, &[Value::Float(v)]);
        let zeros = |n: usize| "0".repeat(n);
        assert_eq!(f(1.5, "%.70000f"), format!("1.5{}", zeros(69_999)));
        assert_eq!(f(1.5, "%.70000e"), format!("1.5{}e+00", zeros(69_999)));
        assert_eq!(f(0.1, "%.70000g"), f(0.1, "%.1100g"));
        assert_eq!(f(0.1, "%.1000000f").len(), 1_000_002);
        // Up to the exact digits, the formatter's own answer.
        assert_eq!(f(0.1, "%.30f"), format!("{:.30}", 0.1));
    }

    #[test]
    fn floats_like_strconv() {
        let f = |v: f64, fmt: &str| sprintf(fmt, &[Value::Float(v)]);
        assert_eq!(f(1e6, "%v"), "1e+06");
        assert_eq!(f(123456.0, "%v"), "123456");
        assert_eq!(f(0.0001, "%v"), "0.0001");
        assert_eq!(f(0.00001, "%v"), "1e-05");
        assert_eq!(f(1234.5678, "%e"), "1.234568e+03");
        assert_eq!(f(1234.5678, "%.3g"), "1.23e+03");
        assert_eq!(f(1.0, "%.3g"), "1");
        assert_eq!(f(100.0, "%.3g"), "100");
        assert_eq!(f(0.5, "%08.3f"), "0000.500");
        assert_eq!(f(-0.5, "%+.1e"), "-5.0e-01");
    }

    #[test]
    fn strings_and_composites() {
        assert_eq!(
            p(
                "%q %+q %#q %x % X %.2s",
                &[
                    Value::str("é\n"),
                    Value::str("é"),
                    Value::str("a"),
                    Value::str("hi"),
                    Value::str("hi"),
                    Value::str("héllo")
                ]
            ),
            "\"é\\n\" \"\\u00e9\" `a` 6869 68 69 hé"
        );
        assert_eq!(p("%v|%d|%#v|%T", &[j(r#"{"b":[1,null],"a":"x"}"#), j("[1,2]"), j(r#"{"a":[1,"x",null]}"#), j("[]")]),
            "map[a:x b:[1 <nil>]]|[%!d(json.Number=1) %!d(json.Number=2)]|map[string]interface {}{\"a\":[]interface {}{\"1\", \"x\", interface {}(nil)}}|[]interface {}");
        assert_eq!(
            p(
                "%t %v %T %T",
                &[Value::Bool(true), Value::Bool(false), Value::Nil, j("1")]
            ),
            "true false <nil> json.Number"
        );
    }

    #[test]
    fn quote_escapes_like_strconv() {
        let mut out = String::new();
        go_quote("a\"b\\c\n\t\x01é\u{a0}\u{200b}", &mut out);
        assert_eq!(out, r#""a\"b\\c\n\t\x01é\u00a0\u200b""#);
    }
}
