//! `envfile render --template` against the real `bao agent`: every template under
//! `tests/fixtures/templates/` is rendered by the agent and by envfile from the same OpenBao dev
//! server, and the two outputs must be byte-identical: the agent renders the reference live, in
//! one run for all of them. Where a committed golden file exists next to the template
//! (`NAME.golden`, for the fixtures the offline test in crates/envfile-template also checks),
//! the agent's output must equal it too, so a change in the agent's behaviour (a new OpenBao
//! version) shows up as a reviewed diff. Regenerate those with
//! `ENVFILE_UPDATE_GOLDEN=1 scripts/test -p envfile-tests template`.
//!
//! Templates under `fail/` must make both fail (a parse error or an execution error).
//!
//! The fixtures name the mounts `ml-incident` (KV v2), `kv1` (KV v1), `pki` and `transit`; each run seeds
//! `secrets.json` into fresh mounts and rewrites those names in the templates, so runs sharing
//! the dev server never interfere. Outputs hold the fixture's secret values, so mismatches are
//! reported by length and position, never by content.

use envfile_tests::bao::{wait_agent, Bao};
use envfile_tests::env::{bao_bin, envfile_bin, unique, vault_addr, vault_root_token};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/templates");

struct Mounts {
    kv2: String,
    kv1: String,
    /// A PKI engine (EC root, role `web` for `*.example.com`): dynamic `secret` writes and
    /// `pkiCert`, whose fixtures print only what does not differ between two issues.
    pki: String,
    /// A transit engine with key `k`: a write-style `secret` whose answer is not a credential.
    transit: String,
}

async fn seed() -> Mounts {
    let bao = Bao::root();
    let m = Mounts {
        kv2: unique("ml-incident"),
        kv1: unique("kv1"),
        pki: unique("pki"),
        transit: unique("transit"),
    };
    bao.enable_kv(&m.kv2, 2).await;
    bao.enable_kv(&m.kv1, 1).await;
    bao.ok(
        "POST",
        &format!("sys/mounts/{}", m.pki),
        Some(serde_json::json!({ "type": "pki", "config": { "max_lease_ttl": "87600h" } })),
    )
    .await;
    bao.ok(
        "POST",
        &format!("{}/root/generate/internal", m.pki),
        Some(serde_json::json!({
            "common_name": "envfile oracle root", "ttl": "87600h", "key_type": "ec", "key_bits": 256
        })),
    )
    .await;
    bao.ok(
        "POST",
        &format!("sys/mounts/{}", m.transit),
        Some(serde_json::json!({ "type": "transit" })),
    )
    .await;
    bao.ok("POST", &format!("{}/keys/k", m.transit), None).await;
    bao.ok(
        "POST",
        &format!("{}/roles/web", m.pki),
        Some(serde_json::json!({
            "allowed_domains": "example.com", "allow_subdomains": true, "max_ttl": "72h",
            "key_type": "ec", "key_bits": 256
        })),
    )
    .await;
    let text = std::fs::read_to_string(Path::new(FIXTURES).join("secrets.json")).unwrap();
    let data: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (mount, version, key) in [(&m.kv2, 2, "ml-incident"), (&m.kv1, 1, "kv1")] {
        for (name, value) in data[key].as_object().unwrap() {
            bao.kv_put(mount, version, name, value).await;
        }
    }
    // `.Data.metadata` in full: a secret with two versions and custom metadata.
    for v in ["one", "two"] {
        bao.kv_put(&m.kv2, 2, "prod/meta", &serde_json::json!({ "v": v }))
            .await;
    }
    bao.ok(
        "POST",
        &format!("{}/metadata/prod/meta", m.kv2),
        Some(serde_json::json!({ "custom_metadata": { "owner": "ops", "tier": "1" } })),
    )
    .await;
    // Deleted and destroyed versions: v1 destroyed, v2 soft-deleted, v3 live.
    for v in ["one", "two", "three"] {
        bao.kv_put(&m.kv2, 2, "prod/versions", &serde_json::json!({ "v": v }))
            .await;
    }
    let versions = |n: u64| Some(serde_json::json!({ "versions": [n] }));
    bao.ok(
        "POST",
        &format!("{}/destroy/prod/versions", m.kv2),
        versions(1),
    )
    .await;
    bao.ok(
        "POST",
        &format!("{}/delete/prod/versions", m.kv2),
        versions(2),
    )
    .await;
    m
}

/// The template with the fixture's mount names replaced by this run's, and `@OUT@` (where
/// `writeToFile` fixtures write) by `files`: each tool writes into its own directory.
fn localize(src: &str, m: &Mounts, files: &Path) -> String {
    src.replace("\"ml-incident/", &format!("\"{}/", m.kv2))
        .replace("\"kv1/", &format!("\"{}/", m.kv1))
        .replace("\"pki/", &format!("\"{}/", m.pki))
        .replace("\"transit/", &format!("\"{}/", m.transit))
        .replace("@OUT@", &files.display().to_string())
}

/// Where `who` ("agent" or "envfile") lets a fixture's `writeToFile` calls write.
fn files_dir(work: &Path, who: &str) -> PathBuf {
    work.join(format!("{who}-files"))
}

/// Every file under `dir` (relative name → content and mode), for comparing what the two
/// tools' `writeToFile` calls wrote.
fn written(dir: &Path) -> std::collections::BTreeMap<PathBuf, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().to_path_buf();
            if meta.is_dir() {
                out.insert(rel, (Vec::new(), meta.permissions().mode()));
                stack.push(p);
            } else {
                out.insert(rel, (std::fs::read(&p).unwrap(), meta.permissions().mode()));
            }
        }
    }
    out
}

fn templates(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tmpl"))
        .collect();
    v.sort();
    v
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The agent `template {}` options of a fixture: `NAME.opts` next to it, `key = value` lines
/// in HCL (`left_delimiter = "[["`, `error_on_missing_key = true`).
fn options(t: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(t.with_extension("opts")) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The same options as `envfile render` flags.
fn option_flags(t: &Path) -> Vec<String> {
    let mut flags = Vec::new();
    for (k, v) in options(t) {
        match (k.as_str(), v.as_str()) {
            ("error_on_missing_key", "true") => flags.push("--error-on-missing-key".to_owned()),
            // The destination is set by the test (see `out_path`).
            ("create_dest_dirs", "true") => flags.push("--create-dest-dirs".to_owned()),
            ("left_delimiter" | "right_delimiter", v) => {
                flags.push(format!("--{}", k.replace('_', "-")));
                flags.push(serde_json::from_str::<String>(v).expect("a quoted delimiter"));
            }
            other => panic!("fixture option {other:?} has no envfile flag in this test"),
        }
    }
    flags
}

/// Whether the fixture's destination is in directories that do not exist yet.
fn creates_dirs(t: &Path) -> bool {
    options(t)
        .iter()
        .any(|(k, v)| k == "create_dest_dirs" && v == "true")
}

/// Where `who` ("agent" or "envfile") writes the fixture's output: `work/NAME.agent` (envfile:
/// stdout), or, for a fixture that creates its destination's directories, under two missing
/// directories `work/WHO-dirs/NAME/`.
fn out_path(work: &Path, t: &Path, who: &str) -> Option<PathBuf> {
    let name = stem(t);
    if creates_dirs(t) {
        Some(work.join(format!("{who}-dirs/{name}/{name}.{who}")))
    } else if who == "agent" {
        Some(work.join(format!("{name}.agent")))
    } else {
        None
    }
}

/// Write each localized template into `work` and an agent config rendering them all into
/// `work/NAME.agent`; return the config path.
fn agent_config(work: &Path, tmpls: &[PathBuf], m: &Mounts) -> PathBuf {
    let token = work.join("token");
    std::fs::write(&token, vault_root_token()).unwrap();
    let mut hcl = format!(
        "vault {{\n  address = \"{}\"\n  retry {{\n    num_retries = 1\n  }}\n}}\n\
         auto_auth {{\n  method \"token_file\" {{\n    config = {{ token_file_path = \"{}\" }}\n  }}\n}}\n\
         template_config {{\n  exit_on_retry_failure = true\n}}\n\
         exit_after_auth = true\n",
        vault_addr(),
        token.display()
    );
    for t in tmpls {
        let name = stem(t);
        let src = work.join(format!("{name}.tmpl"));
        let text = std::fs::read_to_string(t).unwrap();
        std::fs::write(&src, localize(&text, m, &files_dir(work, "agent"))).unwrap();
        if text.contains("@OUT@") {
            let own = work.join(format!("{name}.envfile.tmpl"));
            std::fs::write(own, localize(&text, m, &files_dir(work, "envfile"))).unwrap();
        }
        let extra: String = options(t)
            .iter()
            .map(|(k, v)| format!("  {k} = {v}\n"))
            .collect();
        hcl.push_str(&format!(
            "template {{\n  source = \"{}\"\n  destination = \"{}\"\n{extra}}}\n",
            src.display(),
            out_path(work, t, "agent")
                .expect("the agent writes a file")
                .display()
        ));
    }
    let path = work.join("agent.hcl");
    std::fs::write(&path, hcl).unwrap();
    path
}

/// Start `bao agent -config=CONFIG` with its log in `work/agent.log`.
fn spawn_agent(config: &Path, log: &Path) -> Child {
    let log = std::fs::File::create(log).unwrap();
    let mut c = Command::new(bao_bin());
    c.arg("agent")
        .arg(format!("-config={}", config.display()))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    for (k, _) in std::env::vars() {
        if k.starts_with("VAULT_") || k.starts_with("BAO_") {
            c.env_remove(k);
        }
    }
    c.spawn().expect("start bao agent")
}

fn envfile_config(work: &Path) -> PathBuf {
    let path = work.join("envfile.toml");
    std::fs::write(
        &path,
        format!(
            "[default.backends.vault]\nkind = \"vault\"\naddress = \"{}\"\n",
            vault_addr()
        ),
    )
    .unwrap();
    path
}

/// `envfile --config CONFIG render --template TEMPLATE`, token from `VAULT_TOKEN`.
fn envfile_render(config: &Path, template: &Path, flags: &[String]) -> std::process::Output {
    let mut c = Command::new(envfile_bin());
    for (k, _) in std::env::vars() {
        if k.starts_with("VAULT_") || k.starts_with("BAO_") || k.starts_with("ENVFILE_") {
            c.env_remove(k);
        }
    }
    c.env("VAULT_TOKEN", vault_root_token())
        .arg("--config")
        .arg(config)
        .arg("render")
        .arg("--template")
        .arg(template)
        .args(flags)
        .stdin(Stdio::null())
        .output()
        .expect("run envfile")
}

/// Where two outputs first differ, without their content.
fn mismatch(a: &[u8], b: &[u8]) -> Option<String> {
    if a == b {
        return None;
    }
    let at = a
        .iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let line = a[..at].iter().filter(|&&c| c == b'\n').count() + 1;
    Some(format!(
        "lengths {} vs {}, first difference at byte {at} (line {line})",
        a.len(),
        b.len()
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn envfile_renders_every_template_byte_for_byte_like_bao_agent() {
    let mounts = seed().await;
    let mut work = tempfile::tempdir().unwrap();
    // ENVFILE_TEMPLATE_KEEP_WORK=1 keeps both tools' outputs on disk for a diff (the failure
    // messages never show content: the outputs hold the fixtures' secret values).
    if std::env::var_os("ENVFILE_TEMPLATE_KEEP_WORK").is_some() {
        work.disable_cleanup(true);
        eprintln!("outputs kept in {}", work.path().display());
    }
    let tmpls = templates(Path::new(FIXTURES));
    assert!(tmpls.len() >= 40, "fixtures missing: {}", tmpls.len());
    let config = agent_config(work.path(), &tmpls, &mounts);
    let log = work.path().join("agent.log");
    let ok = wait_agent(spawn_agent(&config, &log), &log, Duration::from_secs(60)).success();
    assert!(
        ok,
        "bao agent failed: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );

    let econfig = envfile_config(work.path());
    let update = std::env::var_os("ENVFILE_UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for t in &tmpls {
        let name = stem(t);
        let agent_out = out_path(work.path(), t, "agent").expect("the agent writes a file");
        let agent = std::fs::read(&agent_out)
            .unwrap_or_else(|e| panic!("{name}: the agent wrote no output: {e}"));
        let golden_path = Path::new(FIXTURES).join(format!("{name}.golden"));
        if update && golden_path.exists() {
            std::fs::write(&golden_path, &agent).unwrap();
        } else if golden_path.exists() {
            let golden = std::fs::read(&golden_path).unwrap_or_default();
            if let Some(m) = mismatch(&golden, &agent) {
                failures.push(format!(
                    "{name}: the agent's output differs from {name}.golden: {m}"
                ));
            }
        }
        let mut flags = option_flags(t);
        let dest = out_path(work.path(), t, "envfile");
        if let Some(d) = &dest {
            flags.extend(["--out".to_owned(), d.display().to_string()]);
        }
        let own = work.path().join(format!("{name}.envfile.tmpl"));
        let tmpl = if own.exists() {
            own
        } else {
            work.path().join(format!("{name}.tmpl"))
        };
        let out = envfile_render(&econfig, &tmpl, &flags);
        if !out.status.success() {
            failures.push(format!(
                "{name}: envfile failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let ours = match &dest {
            Some(d) => std::fs::read(d).unwrap_or_default(),
            None => out.stdout,
        };
        if std::env::var_os("ENVFILE_TEMPLATE_KEEP_WORK").is_some() {
            std::fs::write(work.path().join(format!("{name}.envfile")), &ours).unwrap();
        }
        if let Some(m) = mismatch(&agent, &ours) {
            failures.push(format!("{name}: envfile differs from bao agent: {m}"));
        }
        if let Some(d) = &dest {
            // The directories both created: the same modes, level by level.
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode()).ok();
            for (a, e) in agent_out.ancestors().zip(d.ancestors()).skip(1).take(2) {
                if mode(a).is_none() || mode(a) != mode(e) {
                    failures.push(format!(
                        "{name}: directory modes differ: agent {:?}, envfile {:?}",
                        mode(a).map(|m| format!("{m:o}")),
                        mode(e).map(|m| format!("{m:o}"))
                    ));
                }
            }
        }
    }
    // What the fixtures' writeToFile calls wrote: the same files, contents and modes.
    let (theirs, mine) = (
        written(&files_dir(work.path(), "agent")),
        written(&files_dir(work.path(), "envfile")),
    );
    if theirs.keys().ne(mine.keys()) {
        failures.push(format!(
            "writeToFile wrote {:?} with the agent, {:?} with envfile",
            theirs.keys().collect::<Vec<_>>(),
            mine.keys().collect::<Vec<_>>()
        ));
    }
    for (path, (content, mode)) in &theirs {
        if let Some((c, m)) = mine.get(path) {
            if let Some(d) = mismatch(content, c) {
                failures.push(format!("writeToFile {}: {d}", path.display()));
            }
            if mode != m {
                failures.push(format!(
                    "writeToFile {}: mode {mode:o} vs {m:o}",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn templates_the_agent_rejects_fail_in_envfile_too() {
    let mounts = seed().await;
    let tmpls = templates(&Path::new(FIXTURES).join("fail"));
    assert!(tmpls.len() >= 4, "fixtures missing: {}", tmpls.len());
    let econfig_dir = tempfile::tempdir().unwrap();
    let econfig = envfile_config(econfig_dir.path());
    // One agent per template (a failing template stops the agent), all at once.
    let runs: Vec<_> = tmpls
        .iter()
        .map(|t| {
            let work = tempfile::tempdir().unwrap();
            let config = agent_config(work.path(), std::slice::from_ref(t), &mounts);
            let log = work.path().join("agent.log");
            let child = spawn_agent(&config, &log);
            (t, work, log, child)
        })
        .collect();
    let mut failures = Vec::new();
    for (t, work, log, child) in runs {
        let name = stem(t);
        if wait_agent(child, &log, Duration::from_secs(60)).success() {
            failures.push(format!(
                "{name}: bao agent rendered it; the fixture should fail"
            ));
        }
        let out = envfile_render(
            &econfig,
            &work.path().join(format!("{name}.tmpl")),
            &option_flags(t),
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() || !out.stdout.is_empty() {
            failures.push(format!("{name}: envfile rendered it"));
        } else if !stderr.contains(&format!("{name}.tmpl:1:")) {
            failures.push(format!(
                "{name}: the error does not name FILE:LINE:COL: {stderr}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
