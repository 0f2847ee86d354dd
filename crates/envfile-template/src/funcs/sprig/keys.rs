//! The private keys of sprig's `genPrivateKey` and certificate generators, encoded as sprig's
//! `pemBlockForKey` does with Go's `crypto/x509`: RSA as "RSA PRIVATE KEY" (PKCS#1), ECDSA
//! P-256 as "EC PRIVATE KEY" (SEC1, with the curve and public key), DSA as "DSA PRIVATE KEY"
//! (`SEQUENCE {0, P, Q, G, Y, X}`), Ed25519 as "PRIVATE KEY" (PKCS#8 v1, the 32-byte seed);
//! and read back as sprig's `parsePrivateKeyPEM` does. EC keys on curves other than P-256 (which
//! Go would take) are refused by name rather than half-supported.

use super::der::{self, Reader};
use rand::rngs::OsRng;
use rsa::traits::PublicKeyParts as _;
use sha2::Digest as _;

/// A private key of a kind Go's sprig handles.
pub(super) enum PrivKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ec(p256::SecretKey),
    Ed(Box<ed25519_dalek::SigningKey>),
    /// P, Q, G, Y, X, big-endian.
    Dsa([Vec<u8>; 5]),
}

const RSA_OID: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
const SHA256_RSA_OID: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
const EC_OID: &[u64] = &[1, 2, 840, 10045, 2, 1];
const P256_OID: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
const ECDSA_SHA256_OID: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const ED25519_OID: &[u64] = &[1, 3, 101, 112];

impl PrivKey {
    /// `rsa.GenerateKey(rand.Reader, bits)`.
    pub fn rsa(bits: usize) -> Result<Self, String> {
        rsa::RsaPrivateKey::new(&mut OsRng, bits)
            .map(|k| PrivKey::Rsa(Box::new(k)))
            .map_err(|e| e.to_string())
    }

    /// sprig's `generatePrivateKey(typ)`: its key, or the text sprig returns instead.
    pub fn generate(typ: &str) -> Result<Self, String> {
        Ok(match typ {
            "" | "rsa" => {
                Self::rsa(4096).map_err(|e| format!("failed to generate private key: {e}"))?
            }
            "dsa" => {
                let c = dsa::Components::generate(&mut OsRng, dsa::KeySize::DSA_2048_256);
                let k = dsa::SigningKey::generate(&mut OsRng, c);
                let v = k.verifying_key();
                let c = v.components();
                PrivKey::Dsa([
                    c.p().to_bytes_be(),
                    c.q().to_bytes_be(),
                    c.g().to_bytes_be(),
                    v.y().to_bytes_be(),
                    k.x().to_bytes_be(),
                ])
            }
            "ecdsa" => PrivKey::Ec(p256::SecretKey::random(&mut OsRng)),
            "ed25519" => PrivKey::Ed(Box::new(ed25519_dalek::SigningKey::generate(&mut OsRng))),
            other => return Err(format!("Unknown type {other}")),
        })
    }

    /// sprig's `pemBlockForKey`, PEM-encoded.
    pub fn pem(&self) -> Result<String, String> {
        Ok(match self {
            PrivKey::Rsa(k) => {
                use rsa::pkcs1::EncodeRsaPrivateKey as _;
                let d = k.to_pkcs1_der().map_err(|e| e.to_string())?;
                der::pem("RSA PRIVATE KEY", d.as_bytes())
            }
            PrivKey::Ec(k) => {
                // Go's `MarshalECPrivateKey` names the curve and includes the public key.
                use p256::elliptic_curve::sec1::ToEncodedPoint as _;
                let scalar = zeroize::Zeroizing::new(k.to_bytes());
                let point = k.public_key().to_encoded_point(false);
                let d = zeroize::Zeroizing::new(der::seq(&[
                    &der::small_int(1),
                    &der::tlv(der::OCTET_STRING, scalar.as_slice()),
                    &der::explicit(0, &der::oid(P256_OID)),
                    &der::explicit(1, &der::bits(point.as_bytes())),
                ]));
                der::pem("EC PRIVATE KEY", &d)
            }
            PrivKey::Dsa(parts) => {
                let mut body = der::small_int(0);
                for p in parts {
                    body.extend(der::uint(p));
                }
                der::pem("DSA PRIVATE KEY", &der::tlv(der::SEQUENCE, &body))
            }
            PrivKey::Ed(k) => {
                let d = der::seq(&[
                    &der::small_int(0),
                    &der::seq(&[&der::oid(ED25519_OID)]),
                    &der::tlv(
                        der::OCTET_STRING,
                        &der::tlv(der::OCTET_STRING, k.to_bytes().as_slice()),
                    ),
                ]);
                der::pem("PRIVATE KEY", &d)
            }
        })
    }

    /// sprig's `parsePrivateKeyPEM`, with its error texts.
    pub fn parse_pem(text: &str) -> Result<Self, String> {
        let (kind, bytes) = der::pem_decode(text.as_bytes()).ok_or("no PEM data in input")?;
        if kind == "PRIVATE KEY" {
            return parse_pkcs8(&bytes).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
        }
        let Some(algo) = kind.strip_suffix(" PRIVATE KEY") else {
            return Err(format!("no private key data in PEM block of type {kind}"));
        };
        match algo {
            "RSA" => {
                use rsa::pkcs1::DecodeRsaPrivateKey as _;
                rsa::RsaPrivateKey::from_pkcs1_der(&bytes)
                    .map(|k| PrivKey::Rsa(Box::new(k)))
                    .map_err(|_| {
                        "parsing RSA private key from PEM: x509: failed to parse private key".into()
                    })
            }
            "EC" => parse_sec1(&bytes).map_err(|e| format!("parsing EC private key from PEM: {e}")),
            "DSA" => parse_dsa(&bytes)
                .ok_or_else(|| "parsing DSA private key from PEM: asn1: structure error".into()),
            _ => Err(format!("invalid private key type {kind}")),
        }
    }

    /// Go's `marshalPublicKey`: the SubjectPublicKeyInfo.
    pub fn spki(&self) -> Result<Vec<u8>, String> {
        Ok(match self {
            PrivKey::Rsa(k) => {
                let pk = der::seq(&[
                    &der::uint(&k.n().to_bytes_be()),
                    &der::uint(&k.e().to_bytes_be()),
                ]);
                der::seq(&[
                    &der::seq(&[&der::oid(RSA_OID), &der::tlv(der::NULL, &[])]),
                    &der::bits(&pk),
                ])
            }
            PrivKey::Ec(k) => {
                use p256::elliptic_curve::sec1::ToEncodedPoint as _;
                let point = k.public_key().to_encoded_point(false);
                der::seq(&[
                    &der::seq(&[&der::oid(EC_OID), &der::oid(P256_OID)]),
                    &der::bits(point.as_bytes()),
                ])
            }
            PrivKey::Ed(k) => der::seq(&[
                &der::seq(&[&der::oid(ED25519_OID)]),
                &der::bits(k.verifying_key().as_bytes()),
            ]),
            PrivKey::Dsa(_) => {
                return Err("x509: unsupported public key type: *dsa.PublicKey".into())
            }
        })
    }

    /// Whether Go's `crypto.Signer` check passes (DSA keys are not signers in Go).
    pub fn check_signer(&self) -> Result<(), String> {
        match self {
            PrivKey::Dsa(_) => {
                Err("x509: certificate private key does not implement crypto.Signer".into())
            }
            _ => Ok(()),
        }
    }

    /// The AlgorithmIdentifier Go's `signingParamsForKey` picks by default.
    pub fn signature_algorithm(&self) -> Vec<u8> {
        match self {
            PrivKey::Rsa(_) => der::seq(&[&der::oid(SHA256_RSA_OID), &der::tlv(der::NULL, &[])]),
            PrivKey::Ec(_) => der::seq(&[&der::oid(ECDSA_SHA256_OID)]),
            PrivKey::Ed(_) | PrivKey::Dsa(_) => der::seq(&[&der::oid(ED25519_OID)]),
        }
    }

    /// Sign `tbs` (PKCS#1 v1.5 with SHA-256, ECDSA with SHA-256 in DER, or Ed25519).
    pub fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            PrivKey::Rsa(k) => {
                let digest = sha2::Sha256::digest(tbs);
                k.sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest)
                    .map_err(|e| format!("x509: {e}"))
            }
            PrivKey::Ec(k) => {
                use p256::ecdsa::signature::Signer as _;
                let sig: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from(k).sign(tbs);
                Ok(sig.to_der().as_bytes().to_vec())
            }
            PrivKey::Ed(k) => {
                use ed25519_dalek::Signer as _;
                Ok(k.sign(tbs).to_bytes().to_vec())
            }
            PrivKey::Dsa(_) => {
                Err("x509: certificate private key does not implement crypto.Signer".into())
            }
        }
    }
}

/// The public key bits of a SubjectPublicKeyInfo (what Go hashes for a subject key id).
pub(super) fn spki_key_bits(spki: &[u8]) -> Option<&[u8]> {
    let mut r = Reader(spki);
    let mut inner = Reader(r.take(der::SEQUENCE)?);
    inner.take(der::SEQUENCE)?;
    inner.take(der::BIT_STRING)?.get(1..)
}

/// Go's subject key id: the first 20 bytes of the SHA-256 of the public key bits (Go 1.25; the
/// agent's certificates show it).
pub(super) fn subject_key_id(spki: &[u8]) -> Vec<u8> {
    let bits = spki_key_bits(spki).unwrap_or_default();
    sha2::Sha256::digest(bits)[..20].to_vec()
}

fn parse_pkcs8(bytes: &[u8]) -> Result<PrivKey, String> {
    let mut r = Reader(bytes);
    let mut body = Reader(
        r.take(der::SEQUENCE)
            .ok_or("x509: malformed PKCS#8 private key")?,
    );
    body.take(der::INTEGER)
        .ok_or("x509: malformed PKCS#8 private key")?;
    let mut alg = Reader(
        body.take(der::SEQUENCE)
            .ok_or("x509: malformed PKCS#8 private key")?,
    );
    let oid = alg
        .take(der::OID)
        .ok_or("x509: malformed PKCS#8 private key")?;
    let is = |arcs: &[u64]| der::oid(arcs)[2..] == *oid;
    if is(RSA_OID) {
        use rsa::pkcs8::DecodePrivateKey as _;
        return rsa::RsaPrivateKey::from_pkcs8_der(bytes)
            .map(|k| PrivKey::Rsa(Box::new(k)))
            .map_err(|_| "x509: failed to parse RSA private key embedded in PKCS#8".into());
    }
    if is(EC_OID) {
        if alg
            .take(der::OID)
            .is_none_or(|c| der::oid(P256_OID)[2..] != *c)
        {
            return Err(not_p256());
        }
        use p256::pkcs8::DecodePrivateKey as _;
        return p256::SecretKey::from_pkcs8_der(bytes)
            .map(PrivKey::Ec)
            .map_err(|_| "x509: failed to parse EC private key embedded in PKCS#8".into());
    }
    if is(ED25519_OID) {
        let outer = body
            .take(der::OCTET_STRING)
            .ok_or("x509: invalid Ed25519 private key")?;
        let seed = Reader(outer)
            .take(der::OCTET_STRING)
            .filter(|s| s.len() == 32)
            .ok_or("x509: invalid Ed25519 private key length")?;
        let mut k = [0u8; 32];
        k.copy_from_slice(seed);
        let key = ed25519_dalek::SigningKey::from_bytes(&k);
        zeroize::Zeroize::zeroize(&mut k);
        return Ok(PrivKey::Ed(Box::new(key)));
    }
    Err("envfile reads RSA, P-256 EC and Ed25519 keys in PKCS#8 only".into())
}

fn not_p256() -> String {
    "envfile supports EC keys on the P-256 curve only (the curve sprig's genPrivateKey uses)".into()
}

fn parse_sec1(bytes: &[u8]) -> Result<PrivKey, String> {
    // The curve, when named, must be P-256.
    let mut r = Reader(bytes);
    if let Some(body) = r.take(der::SEQUENCE) {
        let mut b = Reader(body);
        b.take(der::INTEGER);
        b.take(der::OCTET_STRING);
        if let Some(params) = b.take(0xa0) {
            if Reader(params).take(der::OID) != Some(&der::oid(P256_OID)[2..]) {
                return Err(not_p256());
            }
        }
    }
    p256::SecretKey::from_sec1_der(bytes)
        .map(PrivKey::Ec)
        .map_err(|_| "x509: failed to parse EC private key".into())
}

fn parse_dsa(bytes: &[u8]) -> Option<PrivKey> {
    let mut r = Reader(bytes);
    let mut b = Reader(r.take(der::SEQUENCE)?);
    b.take(der::INTEGER)?;
    let mut next = || b.take(der::INTEGER).map(<[u8]>::to_vec);
    Some(PrivKey::Dsa([next()?, next()?, next()?, next()?, next()?]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_pem() {
        for typ in ["ecdsa", "ed25519"] {
            let k = PrivKey::generate(typ).unwrap();
            let pem = k.pem().unwrap();
            let back = PrivKey::parse_pem(&pem).unwrap();
            assert_eq!(back.pem().unwrap(), pem, "{typ}");
            assert_eq!(back.spki().unwrap(), k.spki().unwrap());
        }
        assert_eq!(PrivKey::generate("foo").err().unwrap(), "Unknown type foo");
        assert_eq!(
            PrivKey::parse_pem("garbage").err().unwrap(),
            "no PEM data in input"
        );
        assert_eq!(
            PrivKey::parse_pem("-----BEGIN FOO KEY-----\nYQ==\n-----END FOO KEY-----\n")
                .err()
                .unwrap(),
            "no private key data in PEM block of type FOO KEY"
        );
    }
}
