//! `envfile render` end to end: every format through the real binary, `--out` atomicity and
//! modes, and a hostile corpus in `shell` format sourced back byte-exact by bash and dash.

mod cli_support;

use cli_support::{assert_bytes_eq, assert_vars_eq, python, Fixture};
use serde_json::json;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const APP: &str = r#"
[default.envfiles.app]
vars.TOKEN = "file:app/token"
vars.DB_HOST = "file:app/db#host"
vars.DB_PASSWORD = "file:app/db#password"
vars.LOG_LEVEL = { value = "INFO" }
"#;

fn app_fixture() -> (Fixture, BTreeMap<String, String>) {
    let store = json!({
        "app/token": "tok-123_abc",
        "app/db": { "host": "db.internal", "port": 5432, "password": "pw-456" }
    });
    let want: BTreeMap<String, String> = [
        ("DB_HOST", "db.internal"),
        ("DB_PASSWORD", "pw-456"),
        ("LOG_LEVEL", "INFO"),
        ("TOKEN", "tok-123_abc"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    (Fixture::new(&store, APP), want)
}

fn render(fx: &Fixture, format: &str) -> Vec<u8> {
    let run = fx.run(["render", "app", "--format", format]);
    run.expect_code(0);
    run.stdout
}

fn json_map(bytes: &[u8]) -> BTreeMap<String, String> {
    serde_json::from_slice(bytes).expect("a JSON object of strings")
}

#[test]
fn dotenv_reads_back_with_python_dotenv() {
    let (fx, want) = app_fixture();
    let out = render(&fx, "dotenv");
    let got = python(
        "import io, json, sys\nfrom dotenv import dotenv_values\n\
         v = dotenv_values(stream=io.StringIO(sys.stdin.buffer.read().decode()), interpolate=False)\n\
         print(json.dumps(v))",
        &out,
    );
    assert_vars_eq("dotenv", &json_map(&got), &want);
}

#[test]
fn json_is_an_object_of_the_vars() {
    let (fx, want) = app_fixture();
    assert_vars_eq("json", &json_map(&render(&fx, "json")), &want);
}

#[test]
fn yaml_loads_as_the_vars() {
    let (fx, want) = app_fixture();
    let got = python(
        "import json, sys, yaml\nprint(json.dumps(yaml.safe_load(sys.stdin.buffer.read())))",
        &render(&fx, "yaml"),
    );
    assert_vars_eq("yaml", &json_map(&got), &want);
}

#[test]
fn k8s_secret_is_a_secret_manifest_with_base64_data() {
    let (fx, want) = app_fixture();
    let run = fx.run([
        "render",
        "app",
        "--format",
        "k8s-secret",
        "--namespace",
        "prod",
    ]);
    run.expect_code(0);
    let got = python(
        "import base64, json, sys, yaml\n\
         d = yaml.safe_load(sys.stdin.buffer.read())\n\
         assert d['kind'] == 'Secret' and d['apiVersion'] == 'v1'\n\
         assert d['metadata']['name'] == 'app' and d['metadata']['namespace'] == 'prod'\n\
         print(json.dumps({k: base64.b64decode(v).decode() for k, v in d['data'].items()}))",
        &run.stdout,
    );
    assert_vars_eq("k8s-secret", &json_map(&got), &want);
}

#[test]
fn docker_and_systemd_have_one_line_per_var() {
    let (fx, want) = app_fixture();
    let docker = String::from_utf8(render(&fx, "docker")).expect("utf-8");
    let got: BTreeMap<String, String> = docker
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').expect("NAME=value");
            (k.to_owned(), v.to_owned())
        })
        .collect();
    assert_vars_eq("docker", &got, &want);

    // systemd double-quotes values; these plain ones need no escapes.
    let systemd = String::from_utf8(render(&fx, "systemd")).expect("utf-8");
    let got: BTreeMap<String, String> = systemd
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').expect("NAME=value");
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            (k.to_owned(), v.to_owned())
        })
        .collect();
    assert_vars_eq("systemd", &got, &want);
}

#[test]
fn envfile_name_is_optional_when_the_config_has_one() {
    let (fx, want) = app_fixture();
    let run = fx.run(["render", "--format", "json"]);
    run.expect_code(0);
    assert_vars_eq("default envfile", &json_map(&run.stdout), &want);
}

#[test]
fn several_envfiles_without_a_name_is_a_usage_error_listing_them() {
    let store = json!({ "a": "1" });
    let fx = Fixture::new(
        &store,
        "[default.envfiles.alpha]\nvars.A = \"file:a\"\n[default.envfiles.beta]\nvars.B = \"file:a\"\n",
    );
    let run = fx.run(["render"]);
    run.expect_code(2)
        .assert_mentions("alpha")
        .assert_mentions("beta");
}

fn mode_of(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

#[test]
fn out_writes_the_file_with_mode_0600_by_default_and_honours_mode() {
    let (fx, want) = app_fixture();
    let target = fx.path("app.json");
    let mut cmd = fx.cmd(["render", "app", "--format", "json", "--out"]);
    cmd.arg(&target);
    let run = cli_support::Run::of(cmd);
    run.expect_code(0);
    assert!(run.stdout.is_empty(), "--out must not also print to stdout");
    assert_eq!(mode_of(&target), 0o600);
    assert_vars_eq(
        "--out",
        &json_map(&std::fs::read(&target).expect("read")),
        &want,
    );

    // Overwrite with 0400; a read-only existing target is replaced by the rename.
    let mut cmd = fx.cmd([
        "render", "app", "--format", "json", "--mode", "0400", "--out",
    ]);
    cmd.arg(&target);
    cli_support::Run::of(cmd).expect_code(0);
    assert_eq!(mode_of(&target), 0o400);
    assert_vars_eq(
        "--mode 0400",
        &json_map(&std::fs::read(&target).expect("read")),
        &want,
    );
    assert_eq!(
        fx.entries(),
        ["app.json", "envfile.toml", "store.json"],
        "no temp files left behind"
    );
}

#[test]
fn out_with_a_failing_resolution_leaves_the_target_untouched() {
    let canary = cli_support::canary("out");
    let store = json!({ "app/token": canary });
    let fx = Fixture::new(
        &store,
        "[default.envfiles.app]\nvars.TOKEN = \"file:app/token\"\nvars.GONE = \"file:app/missing\"\n",
    );
    let target = fx.path("app.env");
    let before = b"OLD=contents\n".to_vec();
    std::fs::write(&target, &before).expect("write");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).expect("chmod");

    let mut cmd = fx.cmd(["render", "app", "--out"]);
    cmd.arg(&target);
    let run = cli_support::Run::of(cmd);
    run.assert_no_secret(&[&canary]);
    assert!(
        run.code != Some(0),
        "a failed resolution must fail the command"
    );
    run.assert_mentions("app/missing").assert_mentions("GONE");
    assert_bytes_eq("target", &std::fs::read(&target).expect("read"), &before);
    assert_eq!(
        mode_of(&target),
        0o640,
        "the target's mode is untouched too"
    );
    assert_eq!(fx.entries(), ["app.env", "envfile.toml", "store.json"]);
}

#[test]
fn out_into_a_missing_directory_fails_cleanly() {
    let (fx, _) = app_fixture();
    let mut cmd = fx.cmd(["render", "app", "--out"]);
    cmd.arg(fx.path("no/such/dir/app.env"));
    let run = cli_support::Run::of(cmd);
    assert!(run.code != Some(0));
    run.assert_mentions("no/such/dir")
        .assert_no_secret(&["pw-456", "tok-123_abc"]);
}

/// Values that break naive quoting: quotes of both kinds, `$`, backticks, backslashes,
/// command substitutions, newlines (inner and trailing), CR, tabs, globs, unicode, and
/// strings that look like options or assignments.
fn hostile_corpus() -> Vec<(&'static str, &'static str)> {
    vec![
        ("H_SINGLE", "it's"),
        ("H_QUOTES", r#"'"'"'"''""#),
        ("H_DOLLAR", "$HOME ${HOME} $$ $1 $@ $(id) `id`"),
        ("H_BACKSLASH", r"back\slash\n\t\ \'\"),
        ("H_NEWLINES", "line1\nline2\n\nline4\n"),
        ("H_CR", "a\r\nb\rc"),
        ("H_TAB", "\tlead and trail\t"),
        ("H_SPACES", "  spaced  out  "),
        ("H_GLOB", "* ? [a-z] ~ ~root {a,b}"),
        ("H_UNICODE", "héllo wörld ✓ 🦀 \u{200b}zero-width"),
        ("H_OPTION", "-n"),
        ("H_ASSIGN", "X=1; export Y=2 && echo pwned"),
        ("H_BANG", "!! !$ !-1"),
        ("H_SEMI", "; rm -rf / #"),
        ("H_EMPTY", ""),
        ("H_EQUALS", "=a=b="),
        ("H_HASH", "# not a comment"),
    ]
}

#[test]
fn shell_format_sources_back_byte_exact_in_bash_and_dash() {
    let corpus = hostile_corpus();
    let store: serde_json::Map<String, serde_json::Value> = corpus
        .iter()
        .map(|(name, value)| (format!("h/{name}"), json!(value)))
        .collect();
    let mut rest = String::from("[default.envfiles.hostile]\n");
    for (name, _) in &corpus {
        rest.push_str(&format!("vars.{name} = \"file:h/{name}\"\n"));
    }
    let fx = Fixture::new(&serde_json::Value::Object(store), &rest);
    let script = fx.path("hostile.sh");
    let mut cmd = fx.cmd(["render", "hostile", "--format", "shell", "--out"]);
    cmd.arg(&script);
    cli_support::Run::of(cmd).expect_code(0);

    for shell in ["bash", "dash"] {
        let outdir = fx.path(&format!("out-{shell}"));
        std::fs::create_dir(&outdir).expect("mkdir");
        // Each value is written to its own file, so any byte (even a newline) survives.
        let mut body = String::from(". \"$1\"\n");
        for (name, _) in &corpus {
            body.push_str(&format!("printf %s \"${name}\" > \"$2/{name}\"\n"));
        }
        let status = Command::new(shell)
            .arg("-c")
            .arg(&body)
            .arg(shell)
            .arg(&script)
            .arg(&outdir)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .status()
            .expect("run shell");
        assert!(
            status.success(),
            "{shell} failed to source the rendered file"
        );
        for (name, value) in &corpus {
            let got = std::fs::read(outdir.join(name)).expect("value file");
            assert_bytes_eq(&format!("{shell}: {name}"), &got, value.as_bytes());
        }
    }
}

#[test]
fn dotenv_warns_about_interpolation_naming_the_var_not_the_value() {
    let value = format!("${{HOME}}-{}", cli_support::canary("interp"));
    let fx = Fixture::new(
        &json!({ "v": value }),
        "[default.envfiles.app]\nvars.TEMPLATED = \"file:v\"\n",
    );
    let run = fx.run(["render", "app", "--format", "dotenv"]);
    run.expect_code(0);
    let stderr = run.stderr_str();
    assert!(
        stderr.contains("envfile: warning: TEMPLATED"),
        "stderr ({} bytes) lacks a warning naming TEMPLATED",
        stderr.len()
    );
    assert!(!cli_support::contains(&run.stderr, value.as_bytes()));
    // The value itself is still rendered exactly, for python-dotenv with interpolation off.
    let got = python(
        "import io, json, sys\nfrom dotenv import dotenv_values\n\
         v = dotenv_values(stream=io.StringIO(sys.stdin.buffer.read().decode()), interpolate=False)\n\
         print(json.dumps(v))",
        &run.stdout,
    );
    let want: BTreeMap<String, String> = [("TEMPLATED".to_owned(), value)].into();
    assert_vars_eq("dotenv ${", &json_map(&got), &want);
}
