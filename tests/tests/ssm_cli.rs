//! End-to-end: the real `envfile` binary with an `ssm` backend next to `aws`, both on moto: an
//! ECS task definition mixing Secrets Manager and SSM `valueFrom`s, `import --to ssm:`, `check`
//! with a hint, and `policy --for aws` for parameters. Values are compared without printing them.

use envfile_tests::env::{envfile_bin, unique};
use envfile_tests::moto::{
    backend_toml, put_parameter, put_secret, sdk_client, ssm_client, ACCOUNT, DUMMY_ENV, REGION,
};
use std::process::{Command, Output};

struct Dir(tempfile::TempDir);

impl Dir {
    fn new(rest: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ssm = format!(
            "[default.backends.ssm]\nkind = \"ssm\"\nregion = \"{REGION}\"\nendpoint_url = \"{}\"\n",
            envfile_tests::env::moto_url()
        );
        std::fs::write(
            dir.path().join("envfile.toml"),
            format!("{}\n{ssm}\n{rest}\n", backend_toml()),
        )
        .expect("config");
        std::fs::write(dir.path().join("aws-config"), "").expect("aws config");
        std::fs::write(dir.path().join("aws-credentials"), "").expect("aws credentials");
        Dir(dir)
    }

    fn run(&self, args: &[&str]) -> Output {
        let p = |n: &str| self.0.path().join(n);
        let mut cmd = Command::new(envfile_bin());
        cmd.current_dir(self.0.path())
            .arg("--config")
            .arg(p("envfile.toml"))
            .args(args)
            .env_remove("ENVFILE_CONFIG")
            .env_remove("ENVFILE_PROFILE")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", p("aws-config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", p("aws-credentials"));
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
}

fn vars(json: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_slice(json) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => panic!("render did not print a JSON object ({} bytes)", json.len()),
    }
}

fn same(got: &serde_json::Map<String, serde_json::Value>, var: &str, want: &str) {
    assert!(
        got.get(var).and_then(|v| v.as_str()) == Some(want),
        "{var} differs from what was seeded"
    );
}

#[tokio::test]
async fn an_ecs_task_definition_mixing_secrets_manager_and_ssm() {
    let sm = sdk_client(REGION);
    let ssm = ssm_client(REGION);
    let secret = unique("mix/github");
    let token = unique("ghp");
    let arn = put_secret(
        &sm,
        &secret,
        serde_json::json!({ "token": token }).to_string().as_bytes(),
    )
    .await;
    let (p1, p2) = (unique("/mix/db_password"), unique("/mix/api_key"));
    let (v1, v2) = (unique("pw"), unique("key"));
    put_parameter(&ssm, &p1, &v1).await;
    put_parameter(&ssm, &p2, &v2).await;
    let d = Dir::new("");
    let td = serde_json::json!({"taskDefinition": {"containerDefinitions": [{
    "name": "app",
    "secrets": [
        {"name": "GITHUB_TOKEN", "valueFrom": format!("{arn}:token::")},
        {"name": "DB_PASSWORD", "valueFrom": format!(
            "arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{p1}")},
        {"name": "API_KEY", "valueFrom": p2},
    ]}]}});
    std::fs::write(d.0.path().join("td.json"), td.to_string()).unwrap();
    let got = vars(&d.ok(&[
        "render",
        "--from-ecs-task-definition",
        "td.json",
        "--format",
        "json",
    ]));
    same(&got, "GITHUB_TOKEN", &token);
    same(&got, "DB_PASSWORD", &v1);
    same(&got, "API_KEY", &v2);
}

#[tokio::test]
async fn import_to_ssm_writes_secure_strings_and_reads_back() {
    let prefix = format!("{}/", unique("/imp"));
    let d = Dir::new(&format!(
        "[default.envfiles.app]\nvars.DB_URL = \"ssm:{prefix}DB_URL\"\nvars.TOKEN = \"ssm:{prefix}TOKEN\"\n"
    ));
    let url = format!("postgres://u:{}@db/x", unique("pw"));
    std::fs::write(
        d.0.path().join("app.env"),
        format!("DB_URL={url}\nTOKEN=t-1\n"),
    )
    .unwrap();
    let to = format!("ssm:{prefix}");
    let plan = String::from_utf8(d.ok(&["import", "app.env", "--to", &to])).unwrap();
    assert!(plan.contains("2 to create"), "{plan}");
    d.ok(&["import", "app.env", "--to", &to, "--apply"]);
    let p = ssm_client(REGION)
        .get_parameter()
        .name(format!("{prefix}DB_URL"))
        .send()
        .await
        .unwrap()
        .parameter
        .unwrap();
    assert_eq!(
        p.r#type.map(|t| t.as_str().to_owned()).as_deref(),
        Some("SecureString")
    );
    let again = String::from_utf8(d.ok(&["import", "app.env", "--to", &to])).unwrap();
    assert!(again.contains("2 unchanged"), "{again}");
    let got = vars(&d.ok(&["render", "app", "--format", "json"]));
    same(&got, "DB_URL", &url);
    same(&got, "TOKEN", "t-1");
}

#[tokio::test]
async fn check_names_a_missing_leading_slash_and_policy_covers_parameters() {
    let name = unique("/chk/app/db");
    put_parameter(&ssm_client(REGION), &name, "v").await;
    let d = Dir::new(&format!(
        "[default.envfiles.app]\nvars.DB = \"ssm:{}\"\n",
        name.trim_start_matches('/')
    ));
    let out = d.run(&["check", "app"]);
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("`{name}`")), "{text}");

    let d = Dir::new(&format!(
        "[default.envfiles.app]\nvars.DB = \"ssm:{name}:2\"\nvars.K = \"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/x/k\"\n"
    ));
    let key = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/1234");
    let doc: serde_json::Value = serde_json::from_slice(&d.ok(&[
        "policy",
        "--for",
        "aws",
        "--account",
        ACCOUNT,
        "--kms-key",
        &key,
    ]))
    .unwrap();
    let st = doc["Statement"].as_array().unwrap();
    let params = st.iter().find(|s| s["Sid"] == "ReadParameters").unwrap();
    assert_eq!(
        params["Action"],
        serde_json::json!(["ssm:GetParameter", "ssm:GetParameters"])
    );
    assert_eq!(
        params["Resource"],
        serde_json::json!([
            format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"),
            format!("arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/x/k"),
        ])
    );
    let kms = st.iter().find(|s| s["Sid"] == "DecryptSecrets").unwrap();
    assert!(kms["Condition"]
        .to_string()
        .contains("ssm.us-east-1.amazonaws.com"));
    assert!(!st.iter().any(|s| s["Sid"] == "ReadSecrets"));
}

#[tokio::test]
async fn expand_turns_a_parameter_path_into_variables() {
    let root = unique("/exp/app");
    let ssm = ssm_client(REGION);
    let pw = unique("pw");
    put_parameter(&ssm, &format!("{root}/db/password"), &pw).await;
    put_parameter(&ssm, &format!("{root}/log-level"), "info").await;
    let d = Dir::new(&format!(
        "[default.envfiles.app]\nexpand = [{{ ref = \"ssm:{root}/\", prefix = \"APP_\" }}]\n"
    ));
    let got = vars(&d.ok(&["render", "app", "--format", "json"]));
    same(&got, "APP_DB_PASSWORD", &pw);
    same(&got, "APP_LOG_LEVEL", "info");
    assert_eq!(got.len(), 2);
}
