//! Vault dynamic secrets that are writes with parameters, against OpenBao's PKI engine (a root CA
//! and a role made here): the reference form `vault:MOUNT/issue/ROLE?common_name=…&ttl=…#FIELD`
//! in an env file, and a template's `secret "MOUNT/issue/ROLE" "common_name=…" "ttl=…"`. Issued
//! certificates are read back with `openssl x509`: the CN and the TTL are what was asked, and
//! every field an env file or template takes from one call comes from ONE certificate. Errors:
//! an unknown role, a path the token may not write, parameters on a KV read.

use envfile_tests::bao::{envfile_in, Bao};
use envfile_tests::env::{unique, vault_addr, vault_root_token};
use envfile_tests::openssl::openssl;
use serde_json::json;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A PKI mount with a root CA and role `web` for subdomains of example.com.
async fn pki_mount(bao: &Bao) -> String {
    let mount = unique("pki");
    bao.ok(
        "POST",
        &format!("sys/mounts/{mount}"),
        Some(json!({ "type": "pki", "config": { "max_lease_ttl": "87600h" } })),
    )
    .await;
    bao.ok(
        "POST",
        &format!("{mount}/root/generate/internal"),
        Some(json!({ "common_name": "envfile test root", "ttl": "87600h", "key_type": "ec", "key_bits": 256 })),
    )
    .await;
    bao.ok(
        "POST",
        &format!("{mount}/roles/web"),
        Some(json!({
            "allowed_domains": "example.com", "allow_subdomains": true, "max_ttl": "72h",
            "key_type": "ec", "key_bits": 256
        })),
    )
    .await;
    mount
}

fn write_config(dir: &Path, token: &str, envfiles: &str) {
    std::fs::write(dir.join("token"), token).unwrap();
    std::fs::write(
        dir.join("envfile.toml"),
        format!(
            r#"[default.backends.vault]
kind = "vault"
address = "{addr}"
auth = {{ method = "token", token_file = "token" }}
{envfiles}"#,
            addr = vault_addr()
        ),
    )
    .unwrap();
}

/// CN, seconds from now to notAfter, and the serial (lowercase, `:`-separated as Vault's).
fn inspect(cert: &str) -> (String, i64, String) {
    let subject = openssl(
        &["x509", "-noout", "-subject", "-nameopt", "multiline"],
        cert,
    );
    let cn = subject
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("commonName")
                .map(|r| r.trim_start_matches([' ', '=']).trim().to_owned())
        })
        .expect("a CN");
    let end = openssl(
        &["x509", "-noout", "-enddate", "-dateopt", "iso_8601"],
        cert,
    );
    let end = end.trim().strip_prefix("notAfter=").unwrap().to_owned();
    let end_epoch = Command::new("date")
        .args(["-u", "-d", &end, "+%s"])
        .output()
        .unwrap();
    let end_epoch: i64 = String::from_utf8_lossy(&end_epoch.stdout)
        .trim()
        .parse()
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let serial = openssl(&["x509", "-noout", "-serial"], cert);
    let hex = serial
        .trim()
        .strip_prefix("serial=")
        .unwrap()
        .to_lowercase();
    let hex = if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex
    };
    let serial = hex
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    (cn, end_epoch - now, serial)
}

fn pubkey_of_cert(cert: &str) -> String {
    openssl(&["x509", "-noout", "-pubkey"], cert)
}

fn pubkey_of_key(key: &str) -> String {
    openssl(&["pkey", "-pubout"], key)
}

#[test]
fn an_env_file_reference_with_parameters_issues_one_certificate() {
    let rt = rt();
    let bao = Bao::root();
    let mount = rt.block_on(pki_mount(&bao));
    let dir = tempfile::tempdir().unwrap();
    let issue = format!("vault:{mount}/issue/web?common_name=a.example.com&ttl=24h");
    write_config(
        dir.path(),
        &vault_root_token(),
        &format!(
            r#"
[default.envfiles.tls]
vars.TLS_CERT = "{issue}#certificate"
vars.TLS_KEY = "{issue}#private_key"
vars.TLS_SERIAL = "{issue}#serial_number"
vars.TLS_CA = "{issue}#issuing_ca"
"#
        ),
    );
    let out = envfile_in(
        dir.path(),
        &["render", "tls", "--format", "json", "--out", "tls.json"],
    );
    assert!(
        out.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vars: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("tls.json")).unwrap()).unwrap();
    let cert = vars["TLS_CERT"].as_str().unwrap();
    let (cn, ttl, serial) = inspect(cert);
    assert_eq!(cn, "a.example.com");
    assert!(
        (24 * 3600 - 120..=24 * 3600 + 5).contains(&ttl),
        "TTL {ttl}s is not 24h"
    );
    // One write, one certificate: the serial and the key belong to this certificate.
    assert_eq!(serial, vars["TLS_SERIAL"].as_str().unwrap());
    assert_eq!(
        pubkey_of_cert(cert),
        pubkey_of_key(vars["TLS_KEY"].as_str().unwrap())
    );
    // The CA given is the one that signed it.
    let ca = vars["TLS_CA"].as_str().unwrap();
    let chain = dir.path().join("ca.pem");
    std::fs::write(&chain, ca).unwrap();
    openssl(&["verify", "-CAfile", chain.to_str().unwrap()], cert);
}

#[test]
fn a_template_secret_with_write_arguments_issues_one_certificate() {
    let rt = rt();
    let bao = Bao::root();
    let mount = rt.block_on(pki_mount(&bao));
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &vault_root_token(), "");
    std::fs::write(
        dir.path().join("tls.tpl"),
        format!(
            r#"{{{{ with secret "{mount}/issue/web" "common_name=b.example.com" "ttl=2h" }}}}{{{{ .Data.certificate }}}}
{{{{ .Data.private_key }}}}
SERIAL={{{{ .Data.serial_number }}}}
{{{{ end }}}}{{{{ with secret "{mount}/issue/web" "common_name=b.example.com" "ttl=2h" }}}}AGAIN={{{{ .Data.serial_number }}}}{{{{ end }}}}
"#
        ),
    )
    .unwrap();
    let out = envfile_in(
        dir.path(),
        &["render", "--template", "tls.tpl", "--out", "tls.pem"],
    );
    assert!(
        out.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pem = std::fs::read_to_string(dir.path().join("tls.pem")).unwrap();
    let (cn, ttl, serial) = inspect(&pem);
    assert_eq!(cn, "b.example.com");
    assert!(
        (2 * 3600 - 120..=2 * 3600 + 5).contains(&ttl),
        "TTL {ttl}s is not 2h"
    );
    assert!(
        pem.contains(&format!("SERIAL={serial}\n")),
        "serial does not match"
    );
    // The same call twice in one template is one certificate.
    assert!(pem.contains(&format!("AGAIN={serial}\n")));
    let key_start = pem.find("-----BEGIN EC PRIVATE KEY-----").expect("a key");
    assert_eq!(pubkey_of_cert(&pem), pubkey_of_key(&pem[key_start..]));
}

#[test]
fn unknown_roles_denied_paths_and_kv_parameters_fail_clearly_and_write_nothing() {
    let rt = rt();
    let bao = Bao::root();
    let mount = rt.block_on(pki_mount(&bao));
    let kv = unique("kv");
    rt.block_on(bao.enable_kv(&kv, 2));
    rt.block_on(bao.kv_put(&kv, 2, "app", &json!({ "k": "v" })));
    let policy = unique("only-web");
    rt.block_on(bao.put_policy(
        &policy,
        &format!("path \"{mount}/issue/web\" {{ capabilities = [\"update\"] }}\n"),
    ));
    let limited = rt.block_on(bao.create_token(&[&policy], json!({ "ttl": "1h" })));
    let cases: [(&str, String, &[&str]); 3] = [
        (
            &*vault_root_token(),
            format!("vault:{mount}/issue/nosuchrole?common_name=a.example.com#certificate"),
            &["no role `nosuchrole`", "bao list"],
        ),
        (
            &*limited,
            format!("vault:{mount}/issue/other?common_name=a.example.com#certificate"),
            &["permission denied", "`update` on"],
        ),
        (
            &*vault_root_token(),
            format!("vault:{kv}/app?common_name=x#k"),
            &["would make its read a write"],
        ),
    ];
    for (token, reference, wants) in cases {
        let dir = tempfile::tempdir().unwrap();
        write_config(
            dir.path(),
            token,
            &format!("\n[default.envfiles.app]\nvars.X = \"{reference}\"\n"),
        );
        let out = envfile_in(
            dir.path(),
            &["render", "app", "--format", "dotenv", "--out", "app.env"],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{reference} rendered");
        let path = reference
            .trim_start_matches("vault:")
            .split(['?', '#'])
            .next()
            .unwrap();
        assert!(
            stderr.contains(path),
            "{reference}: the path is not named: {stderr}"
        );
        for w in wants {
            assert!(stderr.contains(w), "{reference}: no `{w}` in: {stderr}");
        }
        assert!(
            !dir.path().join("app.env").exists(),
            "{reference}: a file was written"
        );
    }
}

#[test]
fn pki_cert_reuses_the_destinations_certificate_until_it_nears_its_end() {
    let rt = rt();
    let bao = Bao::root();
    let mount = rt.block_on(pki_mount(&bao));
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &vault_root_token(), "");
    let template = |ttl: &str| {
        format!(
            "{{{{ with pkiCert \"{mount}/issue/web\" \"common_name=c.example.com\" \"ttl={ttl}\" }}}}\
             {{{{ .Cert }}}}{{{{ .Key }}}}{{{{ .CA }}}}{{{{ end }}}}"
        )
    };
    std::fs::write(dir.path().join("long.tpl"), template("1h")).unwrap();
    std::fs::write(dir.path().join("short.tpl"), template("3s")).unwrap();
    let render = |tpl: &str, out: &str| {
        let o = envfile_in(dir.path(), &["render", "--template", tpl, "--out", out]);
        assert!(
            o.status.success(),
            "render failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::read_to_string(dir.path().join(out)).unwrap()
    };

    // First render issues; the file holds the certificate (CN and TTL as asked), its key, the CA.
    let first = render("long.tpl", "long.pem");
    let (cn, ttl, _) = inspect(&first);
    assert_eq!(cn, "c.example.com");
    assert!(
        (3600 - 120..=3600 + 5).contains(&ttl),
        "TTL {ttl}s is not 1h"
    );
    let key_start = first.find("PRIVATE KEY-----").expect("a key");
    let key_start = first[..key_start].rfind("-----BEGIN").unwrap();
    assert_eq!(pubkey_of_cert(&first), pubkey_of_key(&first[key_start..]));
    assert_eq!(first.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    // A second render (a restart) reuses it: nothing new is issued.
    assert_eq!(
        render("long.tpl", "long.pem"),
        first,
        "pkiCert re-issued a good certificate"
    );

    // A certificate past 90% of its life is issued again.
    let short = render("short.tpl", "short.pem");
    std::thread::sleep(std::time::Duration::from_millis(2900));
    let again = render("short.tpl", "short.pem");
    assert_ne!(
        inspect(&short).2,
        inspect(&again).2,
        "an expiring certificate was reused"
    );
}
