//! End-to-end: the real `envfile` binary against moto, for the ECS path (runbooks: ECS secret
//! injection, the partial-ARN IAM incident, the two-secret migration spec). Secrets are seeded
//! through the AWS API; the binary gets dummy AWS credentials and a config pointing at moto.
//! Values are compared without printing them.

use envfile_tests::env::{envfile_bin, python, unique};
use envfile_tests::moto::{
    backend_toml, deleted_secrets, put_secret, sdk_client, ACCOUNT, DUMMY_ENV, REGION,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    /// A temp dir with `envfile.toml`: the moto `aws` backend plus `rest`.
    fn new(rest: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("envfile.toml"),
            format!("{}\n{rest}\n", backend_toml()),
        )
        .expect("config");
        // Empty AWS config files: no profile from the machine, and no warning about missing ones.
        std::fs::write(dir.path().join("aws-config"), "").expect("aws config");
        std::fs::write(dir.path().join("aws-credentials"), "").expect("aws credentials");
        Dir { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(envfile_bin());
        cmd.current_dir(self.dir.path())
            .arg("--config")
            .arg(self.path("envfile.toml"))
            .args(args)
            .env_remove("ENVFILE_CONFIG")
            .env_remove("ENVFILE_PROFILE")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", self.path("aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", self.path("aws-credentials"));
        for (k, v) in DUMMY_ENV {
            cmd.env(k, v);
        }
        cmd.output().expect("run envfile")
    }

    fn ok(&self, args: &[&str]) -> Vec<u8> {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "envfile {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn fails(&self, args: &[&str]) -> (i32, String) {
        let out = self.run(args);
        assert!(!out.status.success(), "envfile {args:?} should fail");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }
}

fn arn(name: &str) -> String {
    format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}")
}

/// Parse `--format json` output into name → value.
fn vars(json: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_slice::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => panic!(
            "render --format json did not print an object ({} bytes)",
            json.len()
        ),
    }
}

fn assert_var(got: &serde_json::Map<String, serde_json::Value>, name: &str, want: &str) {
    let v = got.get(name).and_then(|v| v.as_str());
    assert!(
        v == Some(want),
        "{name}: value differs or is missing (got {:?} bytes, want {} bytes)",
        v.map(str::len),
        want.len()
    );
}

async fn seed_json(name: &str, v: serde_json::Value) {
    put_secret(&sdk_client(REGION), name, v.to_string().as_bytes()).await;
}

#[tokio::test]
async fn afu9_github_and_database_through_ecs_value_from_refs() {
    let p = unique("afu9");
    let (gh, db) = (format!("{p}/github"), format!("{p}/database"));
    let token = unique("ghp");
    let password = unique("pw");
    seed_json(
        &gh,
        serde_json::json!({"token": token, "owner": "adaefler-art", "repo": "codefactory-control"}),
    )
    .await;
    seed_json(&db, serde_json::json!({"host": "db.internal", "port": "5432", "database": "afu9", "username": "afu9_admin", "password": password})).await;
    let d = Dir::new(&format!(
        r#"[default.envfiles.app]
vars.GITHUB_TOKEN = "{gh_arn}:token::"
vars.GITHUB_OWNER = "{gh_arn}:owner::"
vars.GITHUB_REPO = "{gh_arn}:repo::"
vars.DATABASE_HOST = "{db_arn}:host::"
vars.DATABASE_PORT = "{db_arn}:port::"
vars.DATABASE_NAME = "{db_arn}:database::"
vars.DATABASE_USER = "{db_arn}:username::"
vars.DATABASE_PASSWORD = "{db_arn}:password::"
[default.secrets."aws:{db}"]
required_keys = ["host", "port", "database", "username", "password"]
"#,
        gh_arn = arn(&gh),
        db_arn = arn(&db),
    ));
    let got = vars(&d.ok(&["render", "app", "--format", "json"]));
    assert_eq!(got.len(), 8);
    assert_var(&got, "GITHUB_TOKEN", &token);
    assert_var(&got, "GITHUB_OWNER", "adaefler-art");
    assert_var(&got, "GITHUB_REPO", "codefactory-control");
    assert_var(&got, "DATABASE_HOST", "db.internal");
    assert_var(&got, "DATABASE_PORT", "5432");
    assert_var(&got, "DATABASE_NAME", "afu9");
    assert_var(&got, "DATABASE_PASSWORD", &password);
    d.ok(&["check"]);
}

#[tokio::test]
async fn dbname_instead_of_database_fails_check_with_did_you_mean() {
    let db = format!("{}/database", unique("afu9"));
    let password = unique("pw");
    seed_json(&db, serde_json::json!({"host": "h", "port": "5432", "dbname": "afu9", "username": "u", "password": password})).await;
    let d = Dir::new(&format!(
        r#"[default.envfiles.app]
vars.DATABASE_HOST = "{a}:host::"
vars.DATABASE_NAME = "{a}:database::"
[default.secrets."aws:{db}"]
required_keys = ["host", "port", "database", "username", "password"]
"#,
        a = arn(&db)
    ));
    let (code, text) = d.fails(&["check"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("database") && text.contains("dbname"),
        "{text}"
    );
    assert!(text.to_lowercase().contains("did you mean"), "{text}");
    assert!(!text.contains(&password));
}

#[tokio::test]
async fn credentials_and_config_secrets_expand_and_merge_with_required_keys() {
    let p = unique("benchling-webhook");
    let (creds, conf) = (format!("{p}/credentials"), format!("{p}/config"));
    let secret = unique("client-secret");
    seed_json(
        &creds,
        serde_json::json!({"client_id": "wqFf", "client_secret": secret, "tenant": "quilt-dtt"}),
    )
    .await;
    seed_json(&conf, serde_json::json!({"quilt_catalog": "nightly.quilttest.com", "queue_arn": "arn:aws:sqs:us-east-1:1:q", "log_level": "INFO"})).await;
    let spec = format!(
        r#"[default.envfiles.app]
expand = [ {{ ref = "aws:{creds}", prefix = "BENCHLING_" }}, {{ ref = "aws:{conf}" }} ]
required = ["BENCHLING_CLIENT_ID", "BENCHLING_CLIENT_SECRET", "BENCHLING_TENANT", "QUILT_CATALOG", "QUEUE_ARN"]
"#
    );
    let d = Dir::new(&spec);
    let got = vars(&d.ok(&["render", "--format", "json"]));
    assert_var(&got, "BENCHLING_CLIENT_SECRET", &secret);
    assert_var(&got, "BENCHLING_TENANT", "quilt-dtt");
    assert_var(&got, "QUILT_CATALOG", "nightly.quilttest.com");
    assert_var(&got, "LOG_LEVEL", "INFO");
    assert_eq!(got.len(), 6);

    // The config secret loses a required field: rendering fails and names it.
    seed_json(
        &conf,
        serde_json::json!({"queue_arn": "arn:aws:sqs:us-east-1:1:q", "log_level": "INFO"}),
    )
    .await;
    let (code, text) = d.fails(&["render", "--format", "json"]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("QUILT_CATALOG"),
        "the message should name the missing variable: {text}"
    );
    assert!(!text.contains(&secret));
}

#[tokio::test]
async fn stage_awsprevious_after_rotation() {
    let name = unique("rotated");
    let (v1, v2) = (unique("old"), unique("new"));
    let client = sdk_client(REGION);
    put_secret(&client, &name, v1.as_bytes()).await;
    put_secret(&client, &name, v2.as_bytes()).await;
    let d = Dir::new("");
    assert!(
        d.ok(&["get", &format!("aws:{name}")]) == v2.as_bytes(),
        "AWSCURRENT differs"
    );
    assert!(
        d.ok(&["get", &format!("aws:{name}?stage=AWSPREVIOUS")]) == v1.as_bytes(),
        "AWSPREVIOUS differs"
    );
    // The ECS form: `:json-key:version-stage:version-id` with the key empty.
    assert!(
        d.ok(&["get", &format!("{}::AWSPREVIOUS:", arn(&name))]) == v1.as_bytes(),
        "ECS AWSPREVIOUS differs"
    );
}

#[tokio::test]
async fn name_partial_arn_and_full_arn_give_the_same_value() {
    let name = format!("mcp-gateway/{}", unique("session-secret"));
    let value = unique("value");
    let full = put_secret(&sdk_client(REGION), &name, value.as_bytes()).await;
    let d = Dir::new("");
    for r in [format!("aws:{name}"), arn(&name), full.clone()] {
        assert!(d.ok(&["get", &r]) == value.as_bytes(), "{r}: value differs");
    }
}

#[tokio::test]
async fn deleted_secrets_say_which_kind_of_gone() {
    let client = sdk_client(REGION);
    let (pending, gone) = deleted_secrets(&client).await;
    let d = Dir::new("");
    let (code, text) = d.fails(&["get", &format!("aws:{pending}")]);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("scheduled for deletion"), "{text}");
    let (code, text) = d.fails(&["get", &format!("aws:{gone}")]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("not found") && text.contains("hint"),
        "{text}"
    );
}

#[tokio::test]
async fn binary_secret_comes_out_byte_exact() {
    let name = unique("binary");
    let bytes: Vec<u8> = vec![0, 1, 2, 0xff, 0xfe, b'\n', 0x80];
    put_secret(&sdk_client(REGION), &name, &bytes).await;
    let d = Dir::new("");
    assert!(
        d.ok(&["get", &format!("aws:{name}")]) == bytes,
        "binary value differs"
    );
}

/// python-dotenv's reading of a file, as JSON (the reference reader, interpolation off).
fn python_dotenv(path: &Path) -> serde_json::Value {
    let out = Command::new(python())
        .args(["-c", "import json,sys; from dotenv import dotenv_values; print(json.dumps(dotenv_values(sys.argv[1], interpolate=False)))"])
        .arg(path)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "python-dotenv failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python json")
}

#[tokio::test]
async fn import_plan_apply_and_render_back_byte_exact() {
    let prefix = format!("{}/", unique("import"));
    let pw = unique("pw");
    // Written the way `render --format dotenv` writes (sorted, single quotes unless a value
    // needs double-quote escapes), so the round trip can be compared byte for byte. No empty
    // value: moto stores no version for an empty SecretString (AWS does).
    let original = format!(
        "API_URL='https://example.com/a?b=c&d=$e'\nDB_PASSWORD='{pw}'\nEMPTY_NOT='-'\nMULTI=\"line one\\nline 'two' \\\\ \\\"q\\\"\"\nUNICODE='é ✓ 😀'\n"
    );
    let d = Dir::new(&format!(
        r#"[default.envfiles.back]
vars.API_URL = "aws:{prefix}API_URL"
vars.DB_PASSWORD = "aws:{prefix}DB_PASSWORD"
vars.EMPTY_NOT = "aws:{prefix}EMPTY_NOT"
vars.MULTI = "aws:{prefix}MULTI"
vars.UNICODE = "aws:{prefix}UNICODE"
"#
    ));
    std::fs::write(d.path("app.env"), &original).unwrap();
    let to = format!("aws:{prefix}");

    let plan = String::from_utf8(d.ok(&["import", "app.env", "--to", &to])).unwrap();
    assert_eq!(
        plan.lines()
            .filter(|l| l.trim_start().starts_with("create "))
            .count(),
        5,
        "{plan}"
    );
    assert!(plan.contains("--apply") && !plan.contains(&pw), "{plan}");
    // Nothing was written by the plan.
    let (_, text) = d.fails(&["get", &format!("aws:{prefix}DB_PASSWORD")]);
    assert!(text.contains("not found"), "{text}");

    let applied = String::from_utf8(d.ok(&["import", "app.env", "--to", &to, "--apply"])).unwrap();
    assert!(applied.contains("5 created"), "{applied}");
    let rendered = d.ok(&["render", "back", "--format", "dotenv"]);
    assert!(
        rendered == original.as_bytes(),
        "rendered dotenv differs from the imported file ({} vs {} bytes)",
        rendered.len(),
        original.len()
    );

    // Same file again: all unchanged. One changed value: one update.
    let again = String::from_utf8(d.ok(&["import", "app.env", "--to", &to])).unwrap();
    assert!(
        again.contains("0 to create, 0 to update, 5 unchanged"),
        "{again}"
    );
    std::fs::write(d.path("app.env"), original.replace(&pw, "rotated")).unwrap();
    let changed = String::from_utf8(d.ok(&["import", "app.env", "--to", &to])).unwrap();
    assert!(
        changed.contains(&format!("update     {prefix}DB_PASSWORD")),
        "{changed}"
    );
}

#[tokio::test]
async fn import_reads_dotenv_like_python_dotenv() {
    let prefix = format!("{}/", unique("import-syntax"));
    let d = Dir::new("");
    let text = "# comment\nexport A=plain value # trailing comment\nB = \"esc \\t \\x \\\"q\\\" $HOME\"\n'C'='lit \\\\ \\' $X'\nD=\"multi\nline\"\r\nE=\" \"\n";
    std::fs::write(d.path("in.env"), text).unwrap();
    let want = python_dotenv(&d.path("in.env"));
    d.ok(&[
        "import",
        "in.env",
        "--to",
        &format!("aws:{prefix}"),
        "--apply",
    ]);
    let obj = want.as_object().expect("object");
    assert_eq!(obj.len(), 5);
    for (k, v) in obj {
        let got = d.ok(&["get", &format!("aws:{prefix}{k}")]);
        assert!(
            Some(got.as_slice()) == v.as_str().map(str::as_bytes),
            "{k}: differs from python-dotenv"
        );
    }
}

#[tokio::test]
async fn import_as_one_json_secret() {
    let prefix = format!("{}/", unique("benchling"));
    let d = Dir::new(&format!("[default.envfiles.e]\nexpand = [ {{ ref = \"aws:{prefix}credentials\", case = \"keep\" }} ]\n"));
    std::fs::write(
        d.path("creds.env"),
        "client_id=abc\nclient_secret='s e c'\n",
    )
    .unwrap();
    let out = String::from_utf8(d.ok(&[
        "import",
        "creds.env",
        "--to",
        &format!("aws:{prefix}"),
        "--as-json",
        "credentials",
        "--apply",
    ]))
    .unwrap();
    assert!(
        out.contains(&format!("created    {prefix}credentials")),
        "{out}"
    );
    let got = vars(&d.ok(&["render", "--format", "json"]));
    assert_var(&got, "client_id", "abc");
    assert_var(&got, "client_secret", "s e c");
}

#[tokio::test]
async fn render_from_an_ecs_task_definition() {
    let gh = format!("{}/github", unique("afu9"));
    let token = unique("ghp");
    seed_json(
        &gh,
        serde_json::json!({"token": token, "owner": "o", "repo": "r"}),
    )
    .await;
    let d = Dir::new("");
    let td = serde_json::json!({"taskDefinition": {"family": "afu9", "containerDefinitions": [{
    "name": "control-center",
    "environment": [{"name": "LOG_LEVEL", "value": "INFO"}],
    "secrets": [
        {"name": "GITHUB_TOKEN", "valueFrom": format!("{}:token::", arn(&gh))},
        {"name": "GITHUB_JSON", "valueFrom": arn(&gh)},
    ]}]}});
    std::fs::write(d.path("td.json"), td.to_string()).unwrap();
    let got = vars(&d.ok(&[
        "render",
        "--from-ecs-task-definition",
        "td.json",
        "--format",
        "json",
    ]));
    assert_var(&got, "GITHUB_TOKEN", &token);
    assert_var(&got, "LOG_LEVEL", "INFO");
    let whole: serde_json::Value =
        serde_json::from_str(got["GITHUB_JSON"].as_str().unwrap()).unwrap();
    assert!(whole["token"].as_str() == Some(token.as_str()));

    // A key the secret lacks fails as ECS would, naming the variable.
    let td_bad = td.to_string().replace(":token::", ":tokn::");
    std::fs::write(d.path("bad.json"), td_bad).unwrap();
    let (_, text) = d.fails(&["render", "--from-ecs-task-definition", "bad.json"]);
    assert!(
        text.contains("GITHUB_TOKEN") && text.contains("tokn"),
        "{text}"
    );
}

#[tokio::test]
async fn policy_covers_partial_and_suffixed_arns() {
    let d = Dir::new(&format!(
        r#"[default.envfiles.app]
vars.A = "aws:afu9/github#token"
vars.B = "arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:mcp-gateway/session-secret"
vars.C = "arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:mcp-gateway/google-oauth-89qXYD:client_id::"
"#
    ));
    let out = d.ok(&["policy", "--for", "aws", "--account", ACCOUNT]);
    let doc: serde_json::Value = serde_json::from_slice(&out).expect("policy JSON");
    let res: Vec<&str> = doc["Statement"][0]["Resource"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let want = [
        format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:afu9/github"),
        format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:afu9/github-??????"),
        format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:mcp-gateway/session-secret"),
        format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:mcp-gateway/session-secret-??????"),
        format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:mcp-gateway/google-oauth-89qXYD"),
        // A name may itself end in `-` and 6 characters (`session-secret`), so even a full ARN
        // gets the suffixed form too.
        format!("arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:mcp-gateway/google-oauth-89qXYD-??????"),
    ];
    assert_eq!(res.len(), want.len(), "{res:?}");
    for w in &want {
        assert!(res.contains(&w.as_str()), "missing {w} in {res:?}");
    }
    assert_eq!(
        doc["Statement"][1]["Action"][0],
        "secretsmanager:BatchGetSecretValue"
    );
    assert_eq!(doc["Statement"][1]["Resource"], "*");
    let exec: serde_json::Value =
        serde_json::from_slice(&d.ok(&["policy", "--for", "aws", "--role", "execution"])).unwrap();
    assert_eq!(exec["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(
        exec["Statement"][0]["Action"],
        serde_json::json!(["secretsmanager:GetSecretValue"])
    );
}

/// Issue 18: a UTF-8 BOM is not part of the first key, and an empty value is never reported
/// as created where nothing readable is stored: AWS refuses it before writing anything (moto
/// would create a secret with no version), `--as-json` keeps it, the file backend stores it.
#[tokio::test]
async fn import_drops_a_bom_and_stores_or_refuses_empty_values() {
    let prefix = format!("{}/", unique("import-empty"));
    let to = format!("aws:{prefix}");
    let d = Dir::new(
        "[default.backends.file]\nkind = \"file\"\npath = \"secrets.toml\"\nwritable = true\n",
    );
    std::fs::write(d.path("secrets.toml"), "").unwrap();

    std::fs::write(d.path("bom.env"), "\u{feff}FIRST=1\nEMPTY=\n").unwrap();
    let (_, text) = d.fails(&["import", "bom.env", "--to", &to, "--apply"]);
    assert!(
        text.contains("empty") && text.contains(&format!("`{prefix}EMPTY`")),
        "{text}"
    );
    // Refused before anything was written.
    let (_, text) = d.fails(&["get", &format!("aws:{prefix}FIRST")]);
    assert!(text.contains("not found"), "{text}");

    std::fs::write(d.path("bom.env"), "\u{feff}FIRST=1\n").unwrap();
    d.ok(&["import", "bom.env", "--to", &to, "--apply"]);
    assert_eq!(d.ok(&["get", &format!("aws:{prefix}FIRST")]), b"1");

    std::fs::write(d.path("e.env"), "A=1\nEMPTY=\n").unwrap();
    let out = String::from_utf8(d.ok(&[
        "import",
        "e.env",
        "--to",
        &to,
        "--as-json",
        "both",
        "--apply",
    ]))
    .unwrap();
    assert!(out.contains("1 created"), "{out}");
    assert_eq!(d.ok(&["get", &format!("aws:{prefix}both#EMPTY")]), b"");

    let out = String::from_utf8(d.ok(&["import", "e.env", "--to", "file:", "--apply"])).unwrap();
    assert!(out.contains("2 created"), "{out}");
    assert_eq!(d.ok(&["get", "file:EMPTY"]), b"");
    let again = String::from_utf8(d.ok(&["import", "e.env", "--to", "file:"])).unwrap();
    assert!(
        again.contains("0 to create, 0 to update, 2 unchanged"),
        "{again}"
    );
}
