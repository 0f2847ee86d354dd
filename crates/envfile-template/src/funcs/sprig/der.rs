//! A minimal DER writer, enough for the keys and certificates sprig's generators make. Written
//! by hand (rather than with a certificate builder crate) so every choice Go's `encoding/asn1`
//! and `crypto/x509` make is visible and the same: which string type a name uses, UTCTime
//! before 2050, the minimal bit-string form of key usage, the order of extensions.

pub(super) const SEQUENCE: u8 = 0x30;
pub(super) const SET: u8 = 0x31;
pub(super) const INTEGER: u8 = 0x02;
pub(super) const BIT_STRING: u8 = 0x03;
pub(super) const OCTET_STRING: u8 = 0x04;
pub(super) const NULL: u8 = 0x05;
pub(super) const OID: u8 = 0x06;
pub(super) const BOOLEAN: u8 = 0x01;

/// One TLV.
pub(super) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already-encoded parts.
pub(super) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(SEQUENCE, &parts.concat())
}

/// A non-negative INTEGER from big-endian magnitude bytes (minimal, with a 0 byte when the top
/// bit is set, as for any positive `big.Int`).
pub(super) fn uint(be: &[u8]) -> Vec<u8> {
    let skip = be.iter().take_while(|&&b| b == 0).count();
    let mut body = be[skip..].to_vec();
    if body.is_empty() || body[0] & 0x80 != 0 {
        body.insert(0, 0);
    }
    tlv(INTEGER, &body)
}

/// A small INTEGER.
pub(super) fn small_int(i: u8) -> Vec<u8> {
    uint(&[i])
}

/// An OBJECT IDENTIFIER from its arcs.
pub(super) fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut push = |mut v: u64| {
        let mut tmp = vec![(v & 0x7f) as u8];
        v >>= 7;
        while v > 0 {
            tmp.push(0x80 | (v & 0x7f) as u8);
            v >>= 7;
        }
        tmp.reverse();
        body.extend(tmp);
    };
    push(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push(a);
    }
    tlv(OID, &body)
}

/// A BIT STRING of whole bytes.
pub(super) fn bits(bytes: &[u8]) -> Vec<u8> {
    let mut body = vec![0];
    body.extend_from_slice(bytes);
    tlv(BIT_STRING, &body)
}

/// `[n]` EXPLICIT (constructed, context-specific).
pub(super) fn explicit(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, content)
}

/// Go's choice of string type for a value without one: PrintableString when every character
/// is in its set (Go rejects `*` and `&` there), else UTF8String.
pub(super) fn go_string(s: &str) -> Vec<u8> {
    let printable = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
    tlv(if printable { 0x13 } else { 0x0c }, s.as_bytes())
}

/// Go's `time.Time` in a certificate: UTCTime for 1950..2049, else GeneralizedTime, in UTC
/// whole seconds. `secs` is Unix time.
pub(super) fn time(secs: i64) -> Vec<u8> {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if (1950..2050).contains(&y) {
        let s = format!("{:02}{m:02}{d:02}{hh:02}{mm:02}{ss:02}Z", y % 100);
        tlv(0x17, s.as_bytes())
    } else {
        let s = format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}{ss:02}Z");
        tlv(0x18, s.as_bytes())
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's method).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A PEM block as Go's `pem.Encode` writes it: 64-column base64 lines, no headers.
pub(super) fn pem(kind: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {kind}-----\n"));
    out
}

/// Go's `pem.Decode` for the first block: its type and bytes. Headers (`Proc-Type: …`) are
/// skipped as Go does; None when there is no well-formed block.
pub(super) fn pem_decode(text: &[u8]) -> Option<(String, Vec<u8>)> {
    use base64::Engine as _;
    let text = std::str::from_utf8(text).ok()?;
    let mut rest = text;
    loop {
        let start = rest.find("-----BEGIN ")?;
        let after = &rest[start + 11..];
        let end_type = after.find("-----")?;
        let kind = &after[..end_type];
        let body_start = &after[end_type + 5..];
        // The BEGIN line must end there.
        let Some(body) = body_start
            .strip_prefix("\r\n")
            .or_else(|| body_start.strip_prefix('\n'))
        else {
            rest = after;
            continue;
        };
        let end_marker = format!("-----END {kind}-----");
        let Some(end) = body.find(&end_marker) else {
            rest = after;
            continue;
        };
        let mut b64 = String::new();
        for line in body[..end].lines() {
            if line.contains(':') {
                continue;
            }
            b64.extend(line.chars().filter(|c| !c.is_whitespace()));
        }
        match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(bytes) => return Some((kind.to_owned(), bytes)),
            Err(_) => {
                rest = after;
                continue;
            }
        }
    }
}

/// A DER reader for the few structures envfile parses itself (DSA and Ed25519 keys).
pub(super) struct Reader<'a>(pub &'a [u8]);

impl<'a> Reader<'a> {
    /// The next TLV with `tag`: its content.
    pub fn take(&mut self, tag: u8) -> Option<&'a [u8]> {
        let b = self.0;
        if b.len() < 2 || b[0] != tag {
            return None;
        }
        let (len, hdr) = if b[1] < 0x80 {
            (usize::from(b[1]), 2)
        } else {
            let n = usize::from(b[1] & 0x7f);
            if n == 0 || n > 4 || b.len() < 2 + n {
                return None;
            }
            let len = b[2..2 + n]
                .iter()
                .fold(0usize, |a, &x| (a << 8) | usize::from(x));
            (len, 2 + n)
        };
        let end = hdr.checked_add(len)?;
        if b.len() < end {
            return None;
        }
        self.0 = &b[end..];
        Some(&b[hdr..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_go() {
        assert_eq!(oid(&[2, 5, 4, 3]), [0x06, 0x03, 0x55, 0x04, 0x03]);
        assert_eq!(uint(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(uint(&[0, 0, 5]), [0x02, 0x01, 0x05]);
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(go_string("my-ca")[0], 0x13);
        assert_eq!(go_string("x*")[0], 0x0c);
        assert_eq!(time(1_796_036_873), tlv(0x17, b"261130110753Z"));
        assert_eq!(time(2_524_608_000), tlv(0x18, b"20500101000000Z"));
        assert_eq!(time(-631_152_001), tlv(0x18, b"19491231235959Z"));
        let p = pem("X", &[1, 2, 3]);
        assert_eq!(p, "-----BEGIN X-----\nAQID\n-----END X-----\n");
        assert_eq!(pem_decode(p.as_bytes()), Some(("X".into(), vec![1, 2, 3])));
        assert_eq!(pem_decode(b"garbage"), None);
    }
}
