//! Hashes from consul-template: `sha256Hex`, `md5sum`, `hmacSHA256Hex` (lower-case hex).

use super::{strs_n, Def};
use crate::value::Value;
use hmac::Mac;
use sha2::Digest;

pub(crate) const FUNCS: &[Def] = &[
    Def::new("sha256Hex", |a| {
        let [s] = strs_n("sha256Hex", &a)?;
        Ok(Value::str(hex(&sha2::Sha256::digest(s.as_bytes()))))
    }),
    Def::new("md5sum", |a| {
        let [s] = strs_n("md5sum", &a)?;
        Ok(Value::str(hex(&md5::Md5::digest(s.as_bytes()))))
    }),
    Def::new("hmacSHA256Hex", |a| {
        let [message, key] = strs_n("hmacSHA256Hex", &a)?;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
            .map_err(|_| "hmacSHA256Hex: invalid key".to_owned())?;
        mac.update(message.as_bytes());
        Ok(Value::str(hex(&mac.finalize().into_bytes())))
    }),
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{run, s};

    #[test]
    fn known_digests() {
        assert_eq!(
            run("sha256Hex", vec![s("abc")]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            run("md5sum", vec![s("abc")]),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        // RFC 4231 test case 2.
        assert_eq!(
            run(
                "hmacSHA256Hex",
                vec![s("what do ya want for nothing?"), s("Jefe")]
            ),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
