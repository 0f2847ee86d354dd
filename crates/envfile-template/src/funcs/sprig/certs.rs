//! Sprig's certificate generators as OpenBao's agent runs them (sprig v3.2.3 on Go's
//! `crypto/x509`): `genCA genCAWithKey genSelfSignedCert genSelfSignedCertWithKey genSignedCert
//! genSignedCertWithKey buildCustomCert`, each returning a `sprig.certificate` struct whose
//! `.Cert` and `.Key` are PEM text.
//!
//! Every certificate is what `x509.CreateCertificate` makes from sprig's template: version 3, a
//! random serial below 2^128, the subject `CN=…` only (PrintableString when Go would pick it),
//! NotBefore now and NotAfter now + days, key usage digitalSignature + keyEncipherment (+ certSign
//! for a CA, critical), extended key usage serverAuth + clientAuth, basic constraints (critical,
//! CA:TRUE for a CA), a subject key id for a CA (SHA-256 truncated to 20 bytes, as Go 1.25
//! computes it), an authority key id from the issuer's subject key id when issuer ≠ subject,
//! and the SANs as DNS names then IPs (critical when the subject is empty). Generated keys are
//! RSA 2048 here (sprig's choice; `genPrivateKey` makes 4096). Go's errors are kept word for word.

use super::der;
use super::keys::PrivKey;
use super::{arity, int_arg, str_arg};
use crate::funcs::Def;
use crate::object::{CallError, Encoding, GoObject};
use crate::value::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_genPrivateKey", |a| {
        arity("sprig_genPrivateKey", &a, 1)?;
        // sprig returns its failures as the text instead of an error.
        Ok(Value::str(
            match PrivKey::generate(str_arg(&a[0])?).and_then(|k| k.pem()) {
                Ok(pem) | Err(pem) => pem,
            },
        ))
    }),
    Def::new("sprig_genCA", |a| {
        arity("sprig_genCA", &a, 2)?;
        let (cn, days) = (str_arg(&a[0])?, int_arg(&a[1])?);
        let key = new_rsa()?;
        make(&Spec::ca(cn, days), &key, None)
    }),
    Def::new("sprig_genCAWithKey", |a| {
        arity("sprig_genCAWithKey", &a, 3)?;
        let (cn, days) = (str_arg(&a[0])?, int_arg(&a[1])?);
        let key = parse_key(str_arg(&a[2])?)?;
        make(&Spec::ca(cn, days), &key, None)
    }),
    Def::new("sprig_genSelfSignedCert", |a| {
        arity("sprig_genSelfSignedCert", &a, 4)?;
        let spec = Spec::leaf(&a)?;
        make(&spec, &new_rsa()?, None)
    }),
    Def::new("sprig_genSelfSignedCertWithKey", |a| {
        arity("sprig_genSelfSignedCertWithKey", &a, 5)?;
        let spec = Spec::leaf(&a)?;
        let key = parse_key(str_arg(&a[4])?)?;
        make(&spec, &key, None)
    }),
    Def::new("sprig_genSignedCert", |a| {
        arity("sprig_genSignedCert", &a, 5)?;
        let spec = Spec::leaf(&a)?;
        let ca = certificate_arg(&a[4])?;
        let key = new_rsa()?;
        make(&spec, &key, Some(ca))
    }),
    Def::new("sprig_genSignedCertWithKey", |a| {
        arity("sprig_genSignedCertWithKey", &a, 6)?;
        let spec = Spec::leaf(&a)?;
        let ca = certificate_arg(&a[4])?;
        let key = parse_key(str_arg(&a[5])?)?;
        make(&spec, &key, Some(ca))
    }),
    Def::new("sprig_buildCustomCert", |a| {
        arity("sprig_buildCustomCert", &a, 2)?;
        build_custom(str_arg(&a[0])?, str_arg(&a[1])?)
    }),
];

/// sprig's `certificate{Cert, Key string}` (a struct value, not a pointer).
pub(super) struct Certificate {
    cert: String,
    key: zeroize::Zeroizing<String>,
}

impl GoObject for Certificate {
    fn type_name(&self) -> &'static str {
        "sprig.certificate"
    }

    fn call(&self, name: &str, args: Vec<Value>) -> Result<Value, CallError> {
        let v = match name {
            "Cert" => Value::str(self.cert.clone()),
            "Key" => Value::str(self.key.as_str()),
            _ => return Err(CallError::NoSuchField),
        };
        if !args.is_empty() {
            return Err(CallError::Plain(format!(
                "{name} has arguments but cannot be invoked as function"
            )));
        }
        Ok(v)
    }

    fn stringer(&self) -> Option<String> {
        None
    }

    fn is_pointer(&self) -> bool {
        false
    }

    fn fields(&self) -> Vec<(&'static str, Value)> {
        vec![
            ("Cert", Value::str(self.cert.clone())),
            ("Key", Value::str(self.key.as_str())),
        ]
    }

    fn go_syntax(&self) -> String {
        let mut out = String::from("sprig.certificate{Cert:");
        crate::funcs::fmt::go_quote(&self.cert, &mut out);
        out.push_str(", Key:");
        crate::funcs::fmt::go_quote(&self.key, &mut out);
        out.push('}');
        out
    }

    fn marshal(&self, enc: Encoding) -> Result<Value, String> {
        // encoding/json and BurntSushi/toml name the fields as declared; yaml.v2 lowercases.
        let (c, k) = match enc {
            Encoding::Json | Encoding::Toml => ("Cert", "Key"),
            Encoding::Yaml => ("cert", "key"),
        };
        let mut m = BTreeMap::new();
        m.insert(c.to_owned(), Value::str(self.cert.clone()));
        m.insert(k.to_owned(), Value::str(self.key.as_str()));
        Ok(Value::map(m))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn certificate(cert: String, key: String) -> Value {
    Value::Object(Arc::new(Certificate {
        cert,
        key: zeroize::Zeroizing::new(key),
    }))
}

fn certificate_arg(v: &Value) -> Result<&Certificate, String> {
    match v {
        Value::Object(o) => o
            .as_any()
            .downcast_ref::<Certificate>()
            .ok_or_else(|| wrong_ca(o.type_name())),
        Value::Nil | Value::Invalid => Err("invalid value; expected sprig.certificate".into()),
        other => Err(wrong_ca(other.type_name())),
    }
}

fn wrong_ca(t: &str) -> String {
    format!("wrong type for value; expected sprig.certificate; got {t}")
}

fn new_rsa() -> Result<PrivKey, String> {
    PrivKey::rsa(2048).map_err(|e| format!("error generating rsa key: {e}"))
}

fn parse_key(pem: &str) -> Result<PrivKey, String> {
    PrivKey::parse_pem(pem).map_err(|e| format!("parsing private key: {e}"))
}

/// What sprig's `getBaseCertTemplate` fills, and whether it is a CA.
struct Spec {
    cn: String,
    ips: Vec<Vec<u8>>,
    dns: Vec<String>,
    days: i64,
    ca: bool,
}

impl Spec {
    fn ca(cn: &str, days: i64) -> Spec {
        Spec {
            cn: cn.to_owned(),
            ips: Vec::new(),
            dns: Vec::new(),
            days,
            ca: true,
        }
    }

    /// `CN IPS DNS DAYS …` arguments.
    fn leaf(a: &[Value]) -> Result<Spec, String> {
        let cn = str_arg(&a[0])?.to_owned();
        let ips = list_arg(&a[1])?;
        let dns = list_arg(&a[2])?;
        let days = int_arg(&a[3])?;
        let mut spec = Spec {
            cn,
            ips: Vec::new(),
            dns: Vec::new(),
            days,
            ca: false,
        };
        for ip in ips {
            let Value::Str(s) = ip else {
                return Err(format!("error parsing ip: {} is not a string", v_text(ip)));
            };
            spec.ips
                .push(parse_ip(s).ok_or_else(|| format!("error parsing ip: {}", s.as_str()))?);
        }
        for d in dns {
            let Value::Str(s) = d else {
                return Err(format!(
                    "error processing alternate dns name: {} is not a string",
                    v_text(d)
                ));
            };
            spec.dns.push(s.to_string());
        }
        Ok(spec)
    }
}

fn v_text(v: &Value) -> String {
    let mut out = String::new();
    crate::value::fmt_v(v, &mut out);
    out
}

/// A `[]interface {}` parameter (nil is an empty one).
fn list_arg(v: &Value) -> Result<&[Value], String> {
    match v {
        Value::List(l) => Ok(l),
        Value::Nil | Value::Invalid => Ok(&[]),
        other => Err(format!(
            "wrong type for value; expected []interface {{}}; got {}",
            other.type_name()
        )),
    }
}

/// `net.ParseIP`, as the bytes a certificate holds (IPv4, and IPv4-mapped IPv6, in 4 bytes).
fn parse_ip(s: &str) -> Option<Vec<u8>> {
    match s.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => Some(v4.octets().to_vec()),
        std::net::IpAddr::V6(v6) => Some(match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        }),
    }
}

const NANOS: i128 = 1_000_000_000;

/// Now and now + days as Go computes them (`time.Hour * 24 * time.Duration(days)` wraps
/// around int64 nanoseconds as Go's does), in Unix seconds.
fn validity(days: i64) -> (i64, i64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let dur = (24 * 3_600_000_000_000i64).wrapping_mul(days);
    let after = now + i128::from(dur);
    (
        (now.div_euclid(NANOS)) as i64,
        (after.div_euclid(NANOS)) as i64,
    )
}

fn extension(oid: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    let crit = if critical {
        der::tlv(der::BOOLEAN, &[0xff])
    } else {
        Vec::new()
    };
    der::seq(&[&der::oid(oid), &crit, &der::tlv(der::OCTET_STRING, value)])
}

/// `x509.CreateCertificate(template, parent, key's public key, signer)` then sprig's PEM
/// encoding, as a `sprig.certificate`.
fn make(spec: &Spec, key: &PrivKey, ca: Option<&Certificate>) -> Result<Value, String> {
    let fail = |e: String| format!("error creating certificate: {e}");
    // The signer: the CA's key, or the key itself.
    let ca_der = match ca {
        Some(ca) => Some(
            der::pem_decode(ca.cert.as_bytes())
                .ok_or("unable to decode certificate")?
                .1,
        ),
        None => None,
    };
    let (parent, signer_owned);
    let signer = match (ca, &ca_der) {
        (Some(ca), Some(ca_der)) => {
            let (_, cert) = x509_parser::parse_x509_certificate(ca_der).map_err(|e| {
                format!(
                    "error parsing certificate: decodedSignerCert.Bytes: {}",
                    x509_error(e)
                )
            })?;
            signer_owned = PrivKey::parse_pem(&ca.key)
                .map_err(|e| format!("error parsing private key: {e}"))?;
            parent = Some(cert);
            &signer_owned
        }
        _ => {
            parent = None;
            key
        }
    };
    signer.check_signer().map_err(fail)?;
    let sig_alg = signer.signature_algorithm();
    let spki = key.spki().map_err(fail)?;
    let subject = if spec.cn.is_empty() {
        der::seq(&[])
    } else {
        let atv = der::seq(&[&der::oid(&[2, 5, 4, 3]), &der::go_string(&spec.cn)]);
        der::seq(&[&der::tlv(der::SET, &atv)])
    };
    let issuer = match &parent {
        Some(p) => p.tbs_certificate.subject.as_raw().to_vec(),
        None => subject.clone(),
    };
    let mut authority_key_id = None;
    if let Some(p) = &parent {
        if issuer != subject {
            authority_key_id = p
                .extensions()
                .iter()
                .find_map(|e| match e.parsed_extension() {
                    x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) => {
                        Some(k.0.to_vec())
                    }
                    _ => None,
                });
        }
        // Go checks the signer against the parent's public key.
        if signer.spki().map_err(fail)? != p.tbs_certificate.subject_pki.raw {
            return Err(fail(
                "x509: provided PrivateKey doesn't match parent's PublicKey".into(),
            ));
        }
    }
    let mut exts = Vec::new();
    let usage: &[u8] = if spec.ca {
        &[0x02, 0xa4]
    } else {
        &[0x05, 0xa0]
    };
    exts.push(extension(
        &[2, 5, 29, 15],
        true,
        &der::tlv(der::BIT_STRING, usage),
    ));
    exts.push(extension(
        &[2, 5, 29, 37],
        false,
        &der::seq(&[
            &der::oid(&[1, 3, 6, 1, 5, 5, 7, 3, 1]),
            &der::oid(&[1, 3, 6, 1, 5, 5, 7, 3, 2]),
        ]),
    ));
    let bc = if spec.ca {
        der::seq(&[&der::tlv(der::BOOLEAN, &[0xff])])
    } else {
        der::seq(&[])
    };
    exts.push(extension(&[2, 5, 29, 19], true, &bc));
    if spec.ca {
        let skid = super::keys::subject_key_id(&spki);
        exts.push(extension(
            &[2, 5, 29, 14],
            false,
            &der::tlv(der::OCTET_STRING, &skid),
        ));
    }
    if let Some(akid) = authority_key_id {
        exts.push(extension(
            &[2, 5, 29, 35],
            false,
            &der::seq(&[&der::tlv(0x80, &akid)]),
        ));
    }
    if !spec.dns.is_empty() || !spec.ips.is_empty() {
        let mut names = Vec::new();
        for d in &spec.dns {
            if !d.is_ascii() {
                let mut q = String::new();
                crate::funcs::fmt::go_quote(d, &mut q);
                return Err(fail(format!("x509: {q} cannot be encoded as an IA5String")));
            }
            names.extend(der::tlv(0x82, d.as_bytes()));
        }
        for ip in &spec.ips {
            names.extend(der::tlv(0x87, ip));
        }
        exts.push(extension(
            &[2, 5, 29, 17],
            spec.cn.is_empty(),
            &der::tlv(der::SEQUENCE, &names),
        ));
    }
    let mut serial = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut serial);
    let (not_before, not_after) = validity(spec.days);
    let tbs = der::seq(&[
        &der::explicit(0, &der::small_int(2)),
        &der::uint(&serial),
        &sig_alg,
        &issuer,
        &der::seq(&[&der::time(not_before), &der::time(not_after)]),
        &subject,
        &spki,
        &der::explicit(3, &der::tlv(der::SEQUENCE, &exts.concat())),
    ]);
    let sig = signer.sign(&tbs).map_err(fail)?;
    let cert = der::seq(&[&tbs, &sig_alg, &der::bits(&sig)]);
    let key_pem = key
        .pem()
        .map_err(|e| format!("error pem-encoding key: {e}"))?;
    Ok(certificate(der::pem("CERTIFICATE", &cert), key_pem))
}

fn x509_error(e: impl std::fmt::Display) -> String {
    format!("x509: malformed certificate ({e})")
}

/// sprig's `buildCustomCertificate`: both arguments base64 PEM, checked, kept as given.
fn build_custom(b64cert: &str, b64key: &str) -> Result<Value, String> {
    let cert = super::encoding::go_b64_decode(b64cert.as_bytes())
        .map_err(|_| "unable to decode base64 certificate")?;
    let key = super::encoding::go_b64_decode(b64key.as_bytes())
        .map_err(|_| "unable to decode base64 private key")?;
    let (_, der_cert) = der::pem_decode(&cert).ok_or("unable to decode certificate")?;
    x509_parser::parse_x509_certificate(&der_cert).map_err(|e| {
        format!(
            "error parsing certificate: decodedCert.Bytes: {}",
            x509_error(e)
        )
    })?;
    let key_text = String::from_utf8_lossy(&key).into_owned();
    PrivKey::parse_pem(&key_text).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok(certificate(
        String::from_utf8_lossy(&cert).into_owned(),
        key_text,
    ))
}

#[cfg(test)]
mod tests {
    use crate::funcs::call;
    use crate::funcs::test_util::{run, s};
    use crate::value::Value;
    use sha2::Digest as _;
    use std::sync::Arc;
    use x509_parser::extensions::ParsedExtension;

    fn field(v: &Value, name: &str) -> String {
        let Value::Object(o) = v else {
            panic!("not an object")
        };
        match o.call(name, vec![]) {
            Ok(Value::Str(s)) => s.to_string(),
            _ => panic!("no {name}"),
        }
    }

    fn der(pem: &str) -> Vec<u8> {
        super::der::pem_decode(pem.as_bytes()).unwrap().1
    }

    fn ids(cert: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
        let (_, c) = x509_parser::parse_x509_certificate(cert).unwrap();
        let (mut skid, mut akid) = (None, None);
        for e in c.extensions() {
            match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(k) => skid = Some(k.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    akid = a.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                _ => {}
            }
        }
        (skid, akid)
    }

    #[test]
    fn a_ca_and_its_leaf_carry_go_s_key_identifiers() {
        let key = run("sprig_genPrivateKey", vec![s("ecdsa")]);
        assert!(key.starts_with("-----BEGIN EC PRIVATE KEY-----\n"), "{key}");
        let ca = call("sprig_genCAWithKey", vec![s("ca"), Value::Int(30), s(&key)]).unwrap();
        assert_eq!(field(&ca, "Key"), key, "the key comes back as given");
        let ca_der = der(&field(&ca, "Cert"));
        let (_, parsed) = x509_parser::parse_x509_certificate(&ca_der).unwrap();
        assert!(parsed.is_ca());
        assert_eq!(
            parsed.validity().not_after.timestamp() - parsed.validity().not_before.timestamp(),
            30 * 86_400
        );
        // Go 1.25: SHA-256 of the public key bits, truncated to 20 bytes.
        let bits = &parsed.public_key().subject_public_key.data;
        let (skid, akid) = ids(&ca_der);
        assert_eq!(skid.unwrap(), sha2::Sha256::digest(bits)[..20].to_vec());
        assert_eq!(akid, None, "self-signed: no authority key id");

        let leaf_key = run("sprig_genPrivateKey", vec![s("ed25519")]);
        let leaf = call(
            "sprig_genSignedCertWithKey",
            vec![
                s("leaf"),
                Value::List(Arc::new(vec![s("10.1.2.3"), s("::ffff:192.0.2.7")])),
                Value::List(Arc::new(vec![s("a.example")])),
                Value::Int(2),
                ca.clone(),
                s(&leaf_key),
            ],
        )
        .unwrap();
        let leaf_der = der(&field(&leaf, "Cert"));
        let (skid_leaf, akid_leaf) = ids(&leaf_der);
        assert_eq!(skid_leaf, None, "Go gives a leaf no subject key id");
        assert_eq!(akid_leaf, ids(&ca_der).0);
        let (_, l) = x509_parser::parse_x509_certificate(&leaf_der).unwrap();
        assert!(!l.is_ca());
        assert_eq!(l.issuer().to_string(), "CN=ca");
        let san = l.subject_alternative_name().unwrap().unwrap();
        assert_eq!(
            format!("{:?}", san.value.general_names),
            "[DNSName(\"a.example\"), IPAddress([10, 1, 2, 3]), IPAddress([192, 0, 2, 7])]"
        );
        // Signed by the CA's P-256 key over the TBS bytes.
        use p256::ecdsa::signature::Verifier as _;
        let ca_pub = p256::ecdsa::VerifyingKey::from_sec1_bytes(
            &parsed.public_key().subject_public_key.data,
        )
        .unwrap();
        let sig = p256::ecdsa::Signature::from_der(&l.signature_value.data).unwrap();
        ca_pub.verify(l.tbs_certificate.as_ref(), &sig).unwrap();
    }

    #[test]
    fn errors_are_sprig_s() {
        assert_eq!(
            run("sprig_genPrivateKey", vec![s("foo")]),
            "Unknown type foo"
        );
        assert_eq!(
            run(
                "sprig_genCAWithKey",
                vec![s("x"), Value::Int(1), s("garbage")]
            ),
            "ERR: parsing private key: no PEM data in input"
        );
        let key = run("sprig_genPrivateKey", vec![s("ed25519")]);
        assert_eq!(
            run(
                "sprig_genSelfSignedCertWithKey",
                vec![
                    s("x"),
                    Value::Nil,
                    Value::List(Arc::new(vec![s("é.example")])),
                    Value::Int(1),
                    s(&key)
                ]
            ),
            "ERR: error creating certificate: x509: \"é.example\" cannot be encoded as an IA5String"
        );
        assert_eq!(
            run(
                "sprig_genSignedCert",
                vec![s("x"), Value::Nil, Value::Nil, Value::Int(1), s("ca")]
            ),
            "ERR: wrong type for value; expected sprig.certificate; got string"
        );
        let p384 = "-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDAZpGlJYtcb7c8Hzppt3obFgdtppnFZkC3ocj/bxPJCYwWuoCK74STu
4aLQumaOOCqgBwYFK4EEACKhZANiAATGzkw3iPUpLCr35SMKwtJbH5yWGFndauBh
6Gsdn9p57NKRGcP1KwYWPbujcEiOkzheQEvb++N1YeHnKzlocremHVI0LqmjFbPc
JNSbSouG8C8KD56LwIh/YS/Q2MmKM2E=
-----END EC PRIVATE KEY-----
";
        assert!(
            run("sprig_genCAWithKey", vec![s("x"), Value::Int(1), s(p384)])
                .contains("P-256 curve only")
        );
    }
}
