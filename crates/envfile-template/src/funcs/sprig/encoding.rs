//! Sprig's `b64enc b64dec b32enc b32dec` (standard alphabets, padded). A decoding error is not
//! an error: sprig prints Go's error text in place of the result (`illegal base64 data at
//! input byte 4`), so the offsets follow Go's decoder exactly.

use super::{arity, str_arg};
use crate::funcs::Def;
use crate::value::Value;
use base64::Engine as _;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_b64enc", |a| {
        arity("sprig_b64enc", &a, 1)?;
        Ok(Value::str(
            base64::engine::general_purpose::STANDARD.encode(str_arg(&a[0])?),
        ))
    }),
    Def::new("sprig_b64dec", |a| {
        arity("sprig_b64dec", &a, 1)?;
        Ok(Value::str(text(
            go_b64_decode(str_arg(&a[0])?.as_bytes()),
            "base64",
        )))
    }),
    Def::new("sprig_b32enc", |a| {
        arity("sprig_b32enc", &a, 1)?;
        Ok(Value::str(
            data_encoding::BASE32.encode(str_arg(&a[0])?.as_bytes()),
        ))
    }),
    Def::new("sprig_b32dec", |a| {
        arity("sprig_b32dec", &a, 1)?;
        Ok(Value::str(text(
            go_b32_decode(str_arg(&a[0])?.as_bytes()),
            "base32",
        )))
    }),
];

/// The decoded bytes as a string (invalid UTF-8 becomes U+FFFD: envfile strings are UTF-8), or
/// Go's `CorruptInputError` text.
fn text(r: Result<Vec<u8>, usize>, what: &str) -> String {
    match r {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(at) => format!("illegal {what} data at input byte {at}"),
    }
}

fn b64_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// `base64.StdEncoding.DecodeString`: 4-character quanta, `=` padding required, `\r` and `\n`
/// skipped anywhere, unused trailing bits ignored; errors carry the offending input offset.
pub(super) fn go_b64_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    let skip_nl = |mut i: usize| {
        while i < src.len() && matches!(src[i], b'\n' | b'\r') {
            i += 1;
        }
        i
    };
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    loop {
        let mut buf = [0u8; 4];
        let mut j = 0;
        let mut end = false;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if matches!(c, b'\n' | b'\r') {
                continue;
            }
            if let Some(v) = b64_value(c) {
                buf[j] = v;
                j += 1;
                continue;
            }
            if c != b'=' || j < 2 {
                return Err(si - 1);
            }
            if j == 2 {
                si = skip_nl(si);
                if si == src.len() {
                    return Err(src.len());
                }
                if src[si] != b'=' {
                    return Err(si - 1);
                }
                si += 1;
            }
            si = skip_nl(si);
            if si < src.len() {
                return Err(si);
            }
            end = true;
            break;
        }
        let v = (u32::from(buf[0]) << 18)
            | (u32::from(buf[1]) << 12)
            | (u32::from(buf[2]) << 6)
            | u32::from(buf[3]);
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..j - 1]);
        if end {
            return Ok(out);
        }
    }
}

/// `base32.StdEncoding.DecodeString`: newlines removed first, 8-character quanta, `=` padding.
pub(super) fn go_b32_decode(input: &[u8]) -> Result<Vec<u8>, usize> {
    let src: Vec<u8> = input
        .iter()
        .copied()
        .filter(|c| !matches!(c, b'\n' | b'\r'))
        .collect();
    let olen = src.len();
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'2'..=b'7' => Some(c - b'2' + 26),
        _ => None,
    };
    let mut out = Vec::with_capacity(olen / 8 * 5);
    let mut rest: &[u8] = &src;
    while !rest.is_empty() {
        let mut buf = [0u8; 8];
        let mut j = 0;
        let mut dlen = 8;
        let mut end = false;
        while j < 8 {
            let Some((&c, tail)) = rest.split_first() else {
                return Err(olen - j);
            };
            rest = tail;
            if c == b'=' && j >= 2 && rest.len() < 8 {
                if rest.len() + j < 7 {
                    return Err(olen);
                }
                for k in 0..7 - j {
                    if rest.len() > k && rest[k] != b'=' {
                        return Err(olen - rest.len() + k - 1);
                    }
                }
                dlen = j;
                end = true;
                if matches!(dlen, 1 | 3 | 6) {
                    return Err(olen - rest.len() - 1);
                }
                break;
            }
            match value(c) {
                Some(v) => buf[j] = v,
                None => return Err(olen - rest.len() - 1),
            }
            j += 1;
        }
        let mut bits: u64 = 0;
        for b in buf {
            bits = (bits << 5) | u64::from(b);
        }
        let bytes = bits.to_be_bytes();
        let n = match dlen {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            _ => 1,
        };
        out.extend_from_slice(&bytes[3..3 + n]);
        if end {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{run, s};

    #[test]
    fn decoding_errors_print_gos_offsets() {
        // Expected values are bao agent 2.7.2's output.
        for (input, want) in [
            ("abc", "illegal base64 data at input byte 0"),
            ("ab!c", "illegal base64 data at input byte 2"),
            ("YWJj\nZA==", "abcd"),
            ("YQ", "illegal base64 data at input byte 0"),
            ("YR==", "a"),
            ("YWJjZA=", "illegal base64 data at input byte 7"),
            ("YWJjZA==YQ==", "illegal base64 data at input byte 8"),
            ("", ""),
        ] {
            assert_eq!(run("sprig_b64dec", vec![s(input)]), want, "{input}");
        }
        assert_eq!(run("sprig_b64enc", vec![s("héllo")]), "aMOpbGxv");
        assert_eq!(run("sprig_b32enc", vec![s("hello")]), "NBSWY3DP");
        assert_eq!(run("sprig_b32dec", vec![s("NBSWY3DP")]), "hello");
        assert_eq!(
            run("sprig_b32dec", vec![s("NBSWY3D")]),
            "illegal base32 data at input byte 0"
        );
        assert_eq!(
            run("sprig_b32dec", vec![s("nbswy3dp")]),
            "illegal base32 data at input byte 0"
        );
        assert_eq!(run("sprig_b32dec", vec![s("MFRGG===")]), "abc");
    }
}
