//! Sprig's key and certificate generators (`genPrivateKey genCA genCAWithKey genSelfSignedCert
//! genSelfSignedCertWithKey genSignedCert genSignedCertWithKey buildCustomCert`) against the real
//! `bao agent`. Their output is random, so it cannot be compared byte for byte: the same template
//! (`fixtures/sprig_crypto/generators.tmpl`) is rendered by the agent and by envfile, and every
//! PEM block is compared by structure as `openssl` parses it: block type, key algorithm and size,
//! certificate version, serial number length, signature algorithm, issuer and subject, SANs,
//! key usage, extended key usage, basic constraints, key identifiers, and the ASN.1 layout with
//! the random values (numbers, keys, signatures, times) left out. Then envfile's certificates
//! must verify (`openssl verify` against their CA, or themselves), hold the public key of the
//! key printed beside them, and be valid for exactly the days asked, as the agent's are. The text
//! outside the PEM blocks must be identical.

use envfile_tests::bao::wait_agent;
use envfile_tests::env::{bao_bin, envfile_bin, vault_addr, vault_root_token};
use envfile_tests::openssl::openssl;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/sprig_crypto/generators.tmpl"
);

fn clean_env(c: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("VAULT_") || k.starts_with("BAO_") || k.starts_with("ENVFILE_") {
            c.env_remove(k);
        }
    }
}

fn agent_render(work: &Path, tmpl: &Path) -> String {
    let token = work.join("token");
    std::fs::write(&token, vault_root_token()).unwrap();
    let out = work.join("out.agent");
    let hcl = format!(
        "vault {{\n  address = \"{}\"\n}}\n\
         auto_auth {{\n  method \"token_file\" {{\n    config = {{ token_file_path = \"{}\" }}\n  }}\n}}\n\
         template_config {{\n  exit_on_retry_failure = true\n}}\n\
         exit_after_auth = true\n\
         template {{\n  source = \"{}\"\n  destination = \"{}\"\n}}\n",
        vault_addr(),
        token.display(),
        tmpl.display(),
        out.display()
    );
    let config = work.join("agent.hcl");
    std::fs::write(&config, hcl).unwrap();
    let log_path = work.join("agent.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut c = Command::new(bao_bin());
    c.arg("agent")
        .arg(format!("-config={}", config.display()))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    clean_env(&mut c);
    let child = c.spawn().expect("start bao agent");
    let status = wait_agent(child, &log_path, Duration::from_secs(120));
    assert!(
        status.success(),
        "bao agent failed: {}",
        std::fs::read_to_string(&log_path).unwrap_or_default()
    );
    std::fs::read_to_string(out).unwrap()
}

fn envfile_render(work: &Path, tmpl: &Path) -> String {
    let config = work.join("envfile.toml");
    std::fs::write(
        &config,
        format!(
            "[default.backends.vault]\nkind = \"vault\"\naddress = \"{}\"\n",
            vault_addr()
        ),
    )
    .unwrap();
    let mut c = Command::new(envfile_bin());
    clean_env(&mut c);
    let out = c
        .env("VAULT_TOKEN", vault_root_token())
        .arg("--config")
        .arg(&config)
        .arg("render")
        .arg("--template")
        .arg(tmpl)
        .stdin(Stdio::null())
        .output()
        .expect("run envfile");
    assert!(
        out.status.success(),
        "envfile failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The PEM blocks of an output, and the text around them.
fn split(text: &str) -> (Vec<String>, String) {
    let (mut blocks, mut rest) = (Vec::new(), String::new());
    let mut cur: Option<String> = None;
    for line in text.split_inclusive('\n') {
        if line.starts_with("-----BEGIN ") {
            cur = Some(String::new());
        }
        match cur.as_mut() {
            Some(b) => b.push_str(line),
            None => rest.push_str(line),
        }
        if line.starts_with("-----END ") {
            blocks.extend(cur.take());
        }
    }
    (blocks, rest)
}

fn is_hex_dump(line: &str) -> bool {
    let t = line.trim().trim_end_matches(':');
    !t.is_empty()
        && t.split(':')
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A block's structure without its random values.
fn structure(block: &str) -> Vec<String> {
    let mut lines = vec![block.lines().next().unwrap_or_default().to_owned()];
    if block.starts_with("-----BEGIN CERTIFICATE-----") {
        for l in openssl(&["x509", "-noout", "-text"], block).lines() {
            let t = l.trim();
            // openssl prints key and signature bytes in lower case, key ids in upper case.
            if is_hex_dump(l) && !l.contains(char::is_uppercase) {
                continue;
            }
            if t.starts_with("Not Before") || t.starts_with("Not After") {
                lines.push(t.split(':').next().unwrap().to_owned());
            } else if is_hex_dump(l) {
                lines.push("KEYID".into()); // a key identifier (random key)
            } else {
                lines.push(l.to_owned());
            }
        }
    } else {
        let text = openssl(&["pkey", "-noout", "-text"], block);
        lines.push(text.lines().next().unwrap_or_default().to_owned());
    }
    for l in openssl(&["asn1parse"], block).lines() {
        // `  12:d=1  hl=2 l=  16 prim: INTEGER :…`: depth, form and type, and the value only
        // where it is not random (OIDs, names, booleans).
        let Some((_, rest)) = l.split_once(":d=") else {
            continue;
        };
        let depth = rest.split_whitespace().next().unwrap_or_default();
        let kind = rest.split_once(" l=").map_or("", |x| x.1);
        let kind = kind
            .trim_start()
            .trim_start_matches(|c: char| c.is_ascii_digit());
        let keep_value = ["OBJECT", "PRINTABLESTRING", "UTF8STRING", "BOOLEAN"]
            .iter()
            .any(|k| kind.contains(k));
        let kind = if keep_value {
            kind.to_owned()
        } else {
            kind.split(':').take(2).collect::<Vec<_>>().join(":")
        };
        // An INTEGER's length is random in its last byte (a leading zero); keep it otherwise.
        lines.push(format!(
            "d={depth} {}",
            kind.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }
    lines
}

/// Seconds between a certificate's NotBefore and NotAfter (from its UTCTime/GeneralizedTime).
fn validity_secs(block: &str) -> i64 {
    let times: Vec<i64> = openssl(&["asn1parse"], block)
        .lines()
        .filter(|l| l.contains("UTCTIME") || l.contains("GENERALIZEDTIME"))
        .map(|l| {
            let v = l.rsplit(':').next().unwrap().trim_end_matches('Z');
            let (y, rest) = if v.len() == 12 {
                let yy: i64 = v[..2].parse().unwrap();
                (if yy < 50 { 2000 + yy } else { 1900 + yy }, &v[2..])
            } else {
                (v[..4].parse().unwrap(), &v[4..])
            };
            let n = |i: usize| rest[i..i + 2].parse::<i64>().unwrap();
            // Days from civil (Howard Hinnant), enough for a difference.
            let (m, d) = (n(0), n(2));
            let yy = if m <= 2 { y - 1 } else { y };
            let era = yy.div_euclid(400);
            let yoe = yy - era * 400;
            let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
            (era * 146_097 + doe) * 86_400 + n(4) * 3600 + n(6) * 60 + n(8)
        })
        .collect();
    assert_eq!(times.len(), 2, "a certificate has two times");
    times[1] - times[0]
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn generators_make_what_bao_agent_makes() {
    let work = tempfile::tempdir().unwrap();
    let tmpl = work.path().join("generators.tmpl");
    std::fs::copy(FIXTURE, &tmpl).unwrap();
    let agent = agent_render(work.path(), &tmpl);
    let ours = envfile_render(work.path(), &tmpl);
    let (ablocks, arest) = split(&agent);
    let (eblocks, erest) = split(&ours);
    assert_eq!(arest, erest, "the text around the PEM blocks differs");
    assert_eq!(ablocks.len(), 29, "the agent's output changed shape");
    assert_eq!(ablocks.len(), eblocks.len());
    for (i, (a, e)) in ablocks.iter().zip(&eblocks).enumerate() {
        assert_eq!(
            structure(a),
            structure(e),
            "PEM block {i} differs in structure"
        );
    }
    // Blocks 0-4 are the keys; then each certificate and its key. The certificates' issuers:
    // index into the cert list (ca caec caed ss ssrsa nocn leaf leafec leafed same custom fromcustom).
    let issuer = [0, 1, 2, 3, 4, 5, 0, 1, 2, 0, 10, 10];
    let days = [365, 30, 3650, 10, 1, 1, 5, 5, 7, 2, 30, 3];
    let certs: Vec<(&String, &String)> = eblocks[5..].chunks(2).map(|c| (&c[0], &c[1])).collect();
    let dir = work.path();
    for (i, (cert, key)) in certs.iter().enumerate() {
        let (acert, _) = (&ablocks[5 + 2 * i], ());
        assert_eq!(validity_secs(cert), days[i] * 86_400, "certificate {i}");
        assert_eq!(
            validity_secs(acert),
            days[i] * 86_400,
            "agent certificate {i}"
        );
        assert_eq!(
            openssl(&["x509", "-noout", "-pubkey"], cert),
            openssl(&["pkey", "-pubout"], key),
            "certificate {i} does not hold its key's public key"
        );
        let ca = write(dir, "ca.pem", certs[issuer[i]].0);
        let leaf = write(dir, "leaf.pem", cert);
        let out = Command::new("openssl")
            .args(["verify", "-CAfile"])
            .arg(&ca)
            .arg(&leaf)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "certificate {i} does not verify: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// Keys made elsewhere (by `openssl`, in PKCS#8 and the traditional forms) given to the
/// `…WithKey` generators: the `.Key` sprig writes back is deterministic (Go re-encodes RSA as
/// PKCS#1, EC as SEC1 with the curve and public key, Ed25519 as PKCS#8), so it must equal the
/// agent's byte for byte; so must the errors for a PEM that is not a key.
#[test]
fn given_keys_come_back_as_the_agent_writes_them() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let gen = |name: &str, args: &[&str]| -> String {
        let path = dir.join(name);
        let out = Command::new("openssl")
            .args(args)
            .arg("-out")
            .arg(&path)
            .output()
            .expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}");
        std::fs::read_to_string(path).unwrap()
    };
    let rsa8 = gen(
        "rsa8.pem",
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
        ],
    );
    let ec8 = gen(
        "ec8.pem",
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ],
    );
    let ed8 = gen("ed8.pem", &["genpkey", "-algorithm", "ED25519"]);
    let rsa1 = gen(
        "rsa1.pem",
        &[
            "rsa",
            "-traditional",
            "-in",
            dir.join("rsa8.pem").to_str().unwrap(),
        ],
    );
    let ec1 = gen(
        "ec1.pem",
        &["ec", "-in", dir.join("ec8.pem").to_str().unwrap()],
    );
    let quoted = |k: &str| serde_json::to_string(k).unwrap();
    let mut tmpl = String::new();
    for k in [&rsa8, &ec8, &ed8, &rsa1, &ec1] {
        tmpl.push_str(&format!(
            "{{{{ (sprig_genCAWithKey \"ca\" 1 {k}).Key }}}}{{{{ (sprig_genSelfSignedCertWithKey \"s\" nil nil 1 {k}).Key }}}}",
            k = quoted(k)
        ));
    }
    let path = dir.join("keys.tmpl");
    std::fs::write(&path, &tmpl).unwrap();
    let agent = agent_render(dir, &path);
    let ours = envfile_render(dir, &path);
    assert_eq!(
        split(&agent).0.len(),
        10,
        "the agent's output changed shape"
    );
    assert!(
        agent == ours,
        "the keys envfile writes back differ from the agent's"
    );
}
