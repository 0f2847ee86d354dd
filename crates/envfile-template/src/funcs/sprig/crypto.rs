//! Sprig's hashes, random values and crypto: `sha1sum sha256sum adler32sum` (hex / decimal),
//! `uuidv4 randBytes`, `bcrypt htpasswd` (Go's `$2a$`, cost 10), `encryptAES decryptAES`
//! (AES-256-CBC, the password zero-padded to 32 bytes, PKCS#7, random IV first, base64).
//! `derivePassword` (the Master Password algorithm, byte-identical). Key and certificate
//! generation lives in `certs.rs` and `keys.rs`.

use super::{arity, check_size, int_arg, str_arg};
use crate::funcs::Def;
use crate::value::Value;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use base64::Engine as _;
use rand::RngCore;
use sha1::Digest as _;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_sha1sum", |a| {
        arity("sprig_sha1sum", &a, 1)?;
        Ok(Value::str(hex(&sha1::Sha1::digest(str_arg(&a[0])?))))
    }),
    Def::new("sprig_sha256sum", |a| {
        arity("sprig_sha256sum", &a, 1)?;
        Ok(Value::str(hex(&sha2::Sha256::digest(str_arg(&a[0])?))))
    }),
    Def::new("sprig_adler32sum", |a| {
        arity("sprig_adler32sum", &a, 1)?;
        Ok(Value::str(adler32(str_arg(&a[0])?.as_bytes()).to_string()))
    }),
    Def::new("sprig_uuidv4", |a| {
        arity("sprig_uuidv4", &a, 0)?;
        let mut b = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40; // version 4
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        let h = hex(&b);
        Ok(Value::str(format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )))
    }),
    Def::new("sprig_randBytes", |a| {
        arity("sprig_randBytes", &a, 1)?;
        let n = int_arg(&a[0])?;
        let n = usize::try_from(n)
            .map_err(|_| "runtime error: makeslice: len out of range".to_owned())?;
        check_size("sprig_randBytes", n.saturating_mul(2))?;
        let mut b = vec![0u8; n];
        rand::rngs::OsRng.fill_bytes(&mut b);
        Ok(Value::str(B64.encode(b)))
    }),
    Def::new("sprig_bcrypt", |a| {
        arity("sprig_bcrypt", &a, 1)?;
        Ok(Value::str(bcrypt(str_arg(&a[0])?)))
    }),
    Def::new("sprig_htpasswd", |a| {
        arity("sprig_htpasswd", &a, 2)?;
        let (user, pass) = (str_arg(&a[0])?, str_arg(&a[1])?);
        if user.contains(':') {
            return Ok(Value::str(format!("invalid username: {user}")));
        }
        Ok(Value::str(format!("{user}:{}", bcrypt(pass))))
    }),
    Def::new("sprig_encryptAES", |a| {
        arity("sprig_encryptAES", &a, 2)?;
        let (pass, text) = (str_arg(&a[0])?, str_arg(&a[1])?);
        Ok(Value::str(encrypt_aes(pass, text.as_bytes())))
    }),
    Def::new("sprig_decryptAES", |a| {
        arity("sprig_decryptAES", &a, 2)?;
        let (pass, b64) = (str_arg(&a[0])?, str_arg(&a[1])?);
        decrypt_aes(pass, b64).map(Value::str)
    }),
    Def::new("sprig_derivePassword", |a| {
        arity("sprig_derivePassword", &a, 5)?;
        let counter = uint32_arg(&a[0])?;
        let (typ, pass, user, site) = (
            str_arg(&a[1])?,
            str_arg(&a[2])?,
            str_arg(&a[3])?,
            str_arg(&a[4])?,
        );
        Ok(Value::str(derive_password(counter, typ, pass, user, site)))
    }),
];

/// A `uint32` parameter. Go converts an integer constant (wrapping it to 32 bits) and refuses
/// negative ones; an `int` from a variable or pipeline is refused before the call (see
/// `constant_only_param` in exec.rs).
fn uint32_arg(v: &Value) -> Result<u32, String> {
    match v {
        Value::Int(i) if *i >= 0 => Ok(*i as u32),
        Value::Int(i) => Err(format!("expected unsigned integer; found {i}")),
        Value::Float(f) if *f >= 0.0 && f.fract() == 0.0 && *f < 1.8e19 => Ok(*f as u64 as u32),
        Value::Nil | Value::Invalid => Err("invalid value; expected uint32".into()),
        other => Err(format!(
            "wrong type for value; expected uint32; got {}",
            other.type_name()
        )),
    }
}

/// sprig's password templates (the Master Password algorithm's, less `name` and `phrase`,
/// which sprig v3.2.3 does not have).
fn password_templates(typ: &str) -> Option<&'static [&'static str]> {
    Some(match typ {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// sprig's `derivePassword`: the Master Password algorithm. The key is scrypt(password,
/// seed ‖ len(user) ‖ user, N=32768, r=8, p=2, 64 bytes); the site seed is HMAC-SHA256 over
/// seed ‖ len(site) ‖ site ‖ counter (lengths and counter big-endian u32, lengths in bytes);
/// its first byte picks the template and the next ones each character.
fn derive_password(counter: u32, typ: &str, pass: &str, user: &str, site: &str) -> String {
    const SEED: &[u8] = b"com.lyndir.masterpassword";
    let Some(templates) = password_templates(typ) else {
        return format!("cannot find password template {typ}");
    };
    let mut salt = SEED.to_vec();
    salt.extend((user.len() as u32).to_be_bytes());
    salt.extend(user.as_bytes());
    let mut key = zeroize::Zeroizing::new([0u8; 64]);
    // N = 2^15; the parameters are constants scrypt accepts.
    let params = match scrypt::Params::new(15, 8, 2, 64) {
        Ok(p) => p,
        Err(e) => return format!("failed to derive password: {e}"),
    };
    if let Err(e) = scrypt::scrypt(pass.as_bytes(), &salt, &params, &mut key[..]) {
        return format!("failed to derive password: {e}");
    }
    let mut msg = SEED.to_vec();
    msg.extend((site.len() as u32).to_be_bytes());
    msg.extend(site.as_bytes());
    msg.extend(counter.to_be_bytes());
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&key[..])
        .expect("HMAC takes keys of any length");
    hmac::Mac::update(&mut mac, &msg);
    let seed = hmac::Mac::finalize(mac).into_bytes();
    let template = templates[usize::from(seed[0]) % templates.len()].as_bytes();
    template
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let chars = template_chars(c);
            char::from(chars[usize::from(seed[i + 1]) % chars.len()])
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Adler-32 (RFC 1950), what Go's `hash/adler32.Checksum` computes.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before b could overflow 32 bits.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Go's `bcrypt.GenerateFromPassword(p, 10)`; its errors print in place of the hash, as sprig does.
fn bcrypt(p: &str) -> String {
    if p.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .into();
    }
    match bcrypt::hash_with_result(p, 10) {
        Ok(h) => h.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

fn aes_key(pass: &str) -> aes::Aes256 {
    let mut key = [0u8; 32];
    let n = pass.len().min(32);
    key[..n].copy_from_slice(&pass.as_bytes()[..n]);
    aes::Aes256::new(&key.into())
}

fn encrypt_aes(pass: &str, text: &[u8]) -> String {
    if text.is_empty() {
        return String::new();
    }
    let cipher = aes_key(pass);
    let pad = 16 - text.len() % 16;
    let mut content = text.to_vec();
    content.resize(text.len() + pad, pad as u8);
    let mut iv = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut iv);
    let mut out = iv.to_vec();
    let mut prev = iv;
    for block in content.chunks(16) {
        let mut b = [0u8; 16];
        for i in 0..16 {
            b[i] = block[i] ^ prev[i];
        }
        let mut ga = b.into();
        cipher.encrypt_block(&mut ga);
        prev = ga.into();
        out.extend_from_slice(&prev);
    }
    B64.encode(out)
}

fn decrypt_aes(pass: &str, b64: &str) -> Result<String, String> {
    if b64.is_empty() {
        return Ok(String::new());
    }
    let crypt = super::encoding::go_b64_decode(b64.as_bytes())
        .map_err(|at| format!("illegal base64 data at input byte {at}"))?;
    let cipher = aes_key(pass);
    if crypt.len() < 16 {
        return Err(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            crypt.len()
        ));
    }
    let (iv, body) = crypt.split_at(16);
    if body.len() % 16 != 0 {
        return Err("crypto/cipher: input not full blocks".into());
    }
    if body.is_empty() {
        return Err("runtime error: index out of range [-1]".into());
    }
    let mut prev: [u8; 16] = iv.try_into().unwrap_or([0; 16]);
    let mut plain = Vec::with_capacity(body.len());
    for block in body.chunks(16) {
        let mut ga = aes::Block::clone_from_slice(block);
        cipher.decrypt_block(&mut ga);
        for i in 0..16 {
            plain.push(ga[i] ^ prev[i]);
        }
        prev.copy_from_slice(block);
    }
    let pad = usize::from(plain[plain.len() - 1]);
    let Some(end) = plain.len().checked_sub(pad) else {
        return Err(format!(
            "runtime error: slice bounds out of range [:{}]",
            plain.len() as i64 - pad as i64
        ));
    };
    Ok(String::from_utf8_lossy(&plain[..end]).into_owned())
}

#[cfg(test)]
mod tests {
    use crate::funcs::test_util::{run, s};
    use crate::value::Value;

    #[test]
    fn digests_match_go() {
        // Expected values are bao agent 2.7.2's output.
        assert_eq!(
            run("sprig_sha1sum", vec![s("abc")]),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            run("sprig_sha256sum", vec![s("abc")]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(run("sprig_adler32sum", vec![s("abc")]), "38600999");
    }

    #[test]
    fn aes_round_trips_and_rejects_garbage() {
        let enc = run("sprig_encryptAES", vec![s("secretkey"), s("plaintext")]);
        assert_eq!(enc.len(), 44, "IV + one block, base64");
        assert_eq!(
            run("sprig_decryptAES", vec![s("secretkey"), s(&enc)]),
            "plaintext"
        );
        // A ciphertext the agent produced (`sprig_encryptAES "k" "t"`).
        assert_eq!(
            run(
                "sprig_decryptAES",
                vec![s("k"), s("hnkf3IS6l3YqMDFAQZDbBYia7UNUA/zclsDlMkf5l9Q=")]
            ),
            "t"
        );
        assert_eq!(
            run("sprig_decryptAES", vec![s("k"), s("bad")]),
            "ERR: illegal base64 data at input byte 0"
        );
        assert_eq!(run("sprig_encryptAES", vec![s("k"), s("")]), "");
    }

    #[test]
    fn derive_password_matches_the_agent() {
        // bao agent 2.7.2's output for the same calls.
        let d = |c: i64, t: &str, p: &str, u: &str, site: &str| {
            run(
                "sprig_derivePassword",
                vec![Value::Int(c), s(t), s(p), s(u), s(site)],
            )
        };
        assert_eq!(
            d(1, "long", "password", "user", "example.com"),
            "ZedaFaxcZaso9*"
        );
        assert_eq!(d(0, "pin", "", "", ""), "2847");
        // A constant counter wraps to 32 bits, as Go's conversion does.
        assert_eq!(d(4294967296, "long", "p", "u", "s"), "WupeHanuFiyi6@");
        assert_eq!(
            d(1, "name", "p", "u", "s"),
            "cannot find password template name"
        );
        assert_eq!(
            d(-1, "long", "p", "u", "s"),
            "ERR: expected unsigned integer; found -1"
        );
    }

    #[test]
    fn random_values_have_the_right_shape() {
        let u = run("sprig_uuidv4", vec![]);
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(
            parts[2].starts_with('4') && "89ab".contains(&parts[3][..1]),
            "{u}"
        );
        assert_ne!(u, run("sprig_uuidv4", vec![]));
        assert_eq!(run("sprig_randBytes", vec![Value::Int(24)]).len(), 32);
        let h = run("sprig_htpasswd", vec![s("u"), s("p")]);
        assert!(h.starts_with("u:$2a$10$") && h.len() == 62, "{h}");
        assert!(bcrypt::verify("p", &h[2..]).unwrap());
        assert_eq!(
            run("sprig_htpasswd", vec![s("a:b"), s("p")]),
            "invalid username: a:b"
        );
    }
}
