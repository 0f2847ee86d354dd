//! The sprig family (`sprig_*`) against the real `bao agent`: every template under
//! `tests/fixtures/sprig/` is rendered by one agent run (one `template` stanza each) and by
//! `envfile render --template`, from the same KV v2 secret (`secret.json`), and the outputs must be
//! byte-identical; the agent's must also equal the committed `NAME.golden`, so a new OpenBao
//! (a new sprig) shows up as a reviewed diff. Regenerate with
//! `ENVFILE_UPDATE_GOLDEN=1 scripts/test -p envfile-tests --test template_sprig`.
//!
//! Templates under `fail/` must make both fail, with the same `error calling NAME: …` text (sprig's
//! panics and errors, e.g. `runtime error: integer divide by zero`).
//!
//! Only deterministic functions are compared here; random ones (`uuidv4`, `rand*`, `bcrypt`,
//! `encryptAES`) are checked by shape in the crate's unit tests. The fixture secret is test
//! data, so a mismatch is reported by position, never by content.

use envfile_tests::bao::{wait_agent, Bao};
use envfile_tests::env::{bao_bin, envfile_bin, unique, vault_addr, vault_root_token};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sprig");

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

/// Without the content: where two outputs first differ.
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
    let col = at
        - a[..at]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    Some(format!(
        "lengths {} vs {}, first difference at byte {at} (line {line}, column {col})",
        a.len(),
        b.len()
    ))
}

/// The agent's environment, and envfile's: `envs` on top of the test's own (less Vault's).
fn clean_env(c: &mut Command, envs: &[(&str, &str)]) {
    for (k, _) in std::env::vars() {
        if k.starts_with("VAULT_") || k.starts_with("BAO_") || k.starts_with("ENVFILE_") {
            c.env_remove(k);
        }
    }
    // What `sprig_env` and `sprig_expandenv` read in env.tmpl, the same for both tools.
    c.env("SPRIG_FIXTURE_VAR", "a value");
    c.envs(envs.iter().copied());
}

/// Render all templates with one `bao agent` run (`exit_after_auth`), into `work/NAME.agent`;
/// whether it succeeded, and its log.
fn run_agent(work: &Path, tmpls: &[PathBuf], envs: &[(&str, &str)]) -> (bool, String) {
    let token = work.join("token");
    std::fs::write(&token, vault_root_token()).unwrap();
    let mut hcl = format!(
        "vault {{\n  address = \"{}\"\n}}\n\
         auto_auth {{\n  method \"token_file\" {{\n    config = {{ token_file_path = \"{}\" }}\n  }}\n}}\n\
         template_config {{\n  exit_on_retry_failure = true\n}}\n\
         exit_after_auth = true\n",
        vault_addr(),
        token.display()
    );
    for t in tmpls {
        let name = stem(t);
        hcl.push_str(&format!(
            "template {{\n  source = \"{}\"\n  destination = \"{}\"\n}}\n",
            work.join(format!("{name}.tmpl")).display(),
            work.join(format!("{name}.agent")).display()
        ));
    }
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
    clean_env(&mut c, envs);
    let child = c.spawn().expect("start bao agent");
    let status = wait_agent(child, &log_path, Duration::from_secs(60));
    (
        status.success(),
        std::fs::read_to_string(&log_path).unwrap_or_default(),
    )
}

/// Each template with this run's mount, written to `work`.
fn localize(work: &Path, tmpls: &[PathBuf], mount: &str) {
    for t in tmpls {
        let src = std::fs::read_to_string(t)
            .unwrap()
            .replace("\"secret/data/app\"", &format!("\"{mount}/data/app\""));
        std::fs::write(work.join(format!("{}.tmpl", stem(t))), src).unwrap();
    }
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

fn envfile_render(config: &Path, template: &Path, envs: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(envfile_bin());
    clean_env(&mut c, envs);
    c.env("VAULT_TOKEN", vault_root_token())
        .arg("--config")
        .arg(config)
        .arg("render")
        .arg("--template")
        .arg(template)
        .stdin(Stdio::null())
        .output()
        .expect("run envfile")
}

#[tokio::test(flavor = "multi_thread")]
async fn sprig_functions_render_byte_for_byte_like_bao_agent() {
    render_and_compare(Path::new(FIXTURES), &[]).await;
}

/// `Local` is the process's `TZ` for both: the templates under `tz/` (`toDate` across DST gaps
/// and overlaps, zone names the local zone knows) render with `TZ=America/New_York`.
#[tokio::test(flavor = "multi_thread")]
async fn sprig_dates_follow_tz_like_bao_agent() {
    let dir = Path::new(FIXTURES).join("tz");
    render_and_compare(&dir, &[("TZ", "America/New_York")]).await;
}

/// Every template in `dir` rendered by one agent run and by envfile, with `envs` for both.
async fn render_and_compare(dir: &Path, envs: &[(&str, &str)]) {
    let mount = unique("sprig");
    let bao = Bao::root();
    bao.enable_kv(&mount, 2).await;
    let secret: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(FIXTURES).join("secret.json")).unwrap(),
    )
    .unwrap();
    bao.kv_put(&mount, 2, "app", &secret).await;

    let work = tempfile::tempdir().unwrap();
    let tmpls = templates(dir);
    assert!(!tmpls.is_empty(), "fixtures missing in {}", dir.display());
    localize(work.path(), &tmpls, &mount);
    let (ok, log) = run_agent(work.path(), &tmpls, envs);
    assert!(ok, "bao agent failed: {log}");

    let econfig = envfile_config(work.path());
    let update = std::env::var_os("ENVFILE_UPDATE_GOLDEN").is_some();
    let mut failures = Vec::new();
    for t in &tmpls {
        let name = stem(t);
        let agent = std::fs::read(work.path().join(format!("{name}.agent")))
            .unwrap_or_else(|e| panic!("{name}: the agent wrote no output: {e}"));
        let golden_path = dir.join(format!("{name}.golden"));
        if update {
            std::fs::write(&golden_path, &agent).unwrap();
        } else if let Some(m) = mismatch(&std::fs::read(&golden_path).unwrap_or_default(), &agent) {
            failures.push(format!(
                "{name}: the agent's output differs from {name}.golden: {m}"
            ));
        }
        let out = envfile_render(&econfig, &work.path().join(format!("{name}.tmpl")), envs);
        if !out.status.success() {
            failures.push(format!(
                "{name}: envfile failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        if let Some(m) = mismatch(&agent, &out.stdout) {
            failures.push(format!("{name}: envfile differs from bao agent: {m}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The agent's `error calling NAME: MESSAGE` from its log (where the message ends at the quote
/// closing the logged error; quotes inside it are logged escaped, `\"`).
fn agent_error(log: &str) -> Option<String> {
    let start = log.find("error calling ")?;
    let mut out = String::new();
    let mut chars = log[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    Some(out)
}

#[tokio::test(flavor = "multi_thread")]
async fn sprig_errors_match_bao_agent() {
    let tmpls = templates(&Path::new(FIXTURES).join("fail"));
    assert!(tmpls.len() >= 5, "fixtures missing: {}", tmpls.len());
    let econfig_dir = tempfile::tempdir().unwrap();
    let econfig = envfile_config(econfig_dir.path());
    // One agent per template (a failing template stops the agent), on parallel threads.
    let runs: Vec<_> = tmpls
        .iter()
        .map(|t| {
            let work = tempfile::tempdir().unwrap();
            localize(work.path(), std::slice::from_ref(t), "unused");
            let dir = work.path().to_owned();
            let t2 = t.clone();
            let handle = std::thread::spawn(move || run_agent(&dir, &[t2], &[]));
            (t, work, handle)
        })
        .collect();
    let mut failures = Vec::new();
    for (t, work, handle) in runs {
        let name = stem(t);
        let (ok, log) = handle.join().unwrap();
        let Some(want) = agent_error(&log).filter(|_| !ok) else {
            failures.push(format!(
                "{name}: bao agent did not fail with `error calling`"
            ));
            continue;
        };
        let out = envfile_render(&econfig, &work.path().join(format!("{name}.tmpl")), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() || !out.stdout.is_empty() {
            failures.push(format!("{name}: envfile rendered it"));
        } else if !stderr.contains(&want) {
            failures.push(format!("{name}: envfile's error lacks `{want}`: {stderr}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
