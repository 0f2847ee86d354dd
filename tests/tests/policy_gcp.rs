//! `envfile policy --for gcp`: the `gcloud` grants and the IAM bindings JSON, one per distinct
//! secret. The emulator has no IAM, so these check the text and shape; the project is resolved
//! as the backend resolves it (config, then GOOGLE_CLOUD_PROJECT, then CLOUDSDK_CORE_PROJECT).

mod cli_support;

use cli_support::Fixture;
use serde_json::json;

const SA: &str = "serviceAccount:api@proj-a.iam.gserviceaccount.com";
const ROLE: &str = "roles/secretmanager.secretAccessor";

fn fixture() -> Fixture {
    Fixture::new(
        &json!({ "local": "x" }),
        r#"[default.backends.gcp]
kind = "gcp"
project = "proj-a"

[default.backends.gcp-eu]
kind = "gcp"
project = "proj-b"
location = "europe-west1"

[default.envfiles.api]
vars.DB = "gcp:db-url"
vars.DB_PINNED = "gcp:db-url?version=3"
vars.JWT = "gcp:jwt#key"
vars.OTHER = "projects/shared/secrets/x/versions/2"
vars.BERGLAS = "sm://p3/berg#4"
vars.REGIONAL = "gcp-eu:regional#k"
vars.LOCAL = "file:local"
vars.LEVEL = { value = "info" }

[default.envfiles.worker]
vars.Q = "gcp:queue"
"#,
    )
}

fn grant(secret: &str, flags: &str, member: &str) -> String {
    format!(
        "gcloud secrets add-iam-policy-binding {secret} {flags} --member={member} --role={ROLE}"
    )
}

fn commands(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| !l.starts_with('#')).collect()
}

#[test]
fn policy_gcp_prints_one_grant_per_distinct_secret() {
    let fx = fixture();
    let run = fx.run(["policy", "--for", "gcp", "api", "--member", SA]);
    run.expect_code(0);
    let out = run.stdout_str();
    // Sorted by resource name; `db-url` twice (latest and pinned) is one grant; the file
    // backend's secret and the other envfile's are not included.
    assert_eq!(
        commands(&out),
        vec![
            grant("berg", "--project p3", SA),
            grant("db-url", "--project proj-a", SA),
            grant("jwt", "--project proj-a", SA),
            grant("regional", "--project proj-b --location europe-west1", SA),
            grant("x", "--project shared", SA),
        ],
        "{out}"
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr_str());

    // Without a member: the placeholder, and a warning saying what to put there.
    let run = fx.run(["policy", "--for", "gcp", "worker"]);
    run.expect_code(0);
    assert_eq!(
        commands(&run.stdout_str()),
        vec![grant("queue", "--project proj-a", "MEMBER")]
    );
    assert!(
        run.stderr_str().contains("--member") && run.stderr_str().contains("MEMBER"),
        "{}",
        run.stderr_str()
    );
}

#[test]
fn policy_gcp_json_lists_the_bindings_per_secret() {
    let fx = fixture();
    let run = fx.run([
        "policy", "--for", "gcp", "--member", SA, "--format", "json", "api",
    ]);
    run.expect_code(0);
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON output");
    let items = doc.as_array().expect("an array, one entry per secret");
    let resources: Vec<&str> = items
        .iter()
        .map(|i| i["resource"].as_str().unwrap())
        .collect();
    assert_eq!(
        resources,
        vec![
            "projects/p3/secrets/berg",
            "projects/proj-a/secrets/db-url",
            "projects/proj-a/secrets/jwt",
            "projects/proj-b/locations/europe-west1/secrets/regional",
            "projects/shared/secrets/x",
        ]
    );
    for item in items {
        // The Policy.bindings shape of setIamPolicy / `gcloud secrets get-iam-policy`.
        assert_eq!(
            item["bindings"],
            json!([{ "role": ROLE, "members": [SA] }]),
            "{item}"
        );
    }
    let regional = &items[3];
    assert_eq!(regional["project"], "proj-b");
    assert_eq!(regional["location"], "europe-west1");
    assert_eq!(regional["secret"], "regional");
    assert_eq!(items[0]["location"], serde_json::Value::Null);
}

#[test]
fn policy_gcp_project_comes_from_the_environment_like_the_backend() {
    let fx = Fixture::new(
        &json!({}),
        r#"[default.backends.gcp]
kind = "gcp"

[default.envfiles.api]
vars.A = "gcp:a"
"#,
    );
    let mut cmd = fx.cmd(["policy", "--for", "gcp", "--member", SA]);
    cmd.env("GOOGLE_CLOUD_PROJECT", "from-google")
        .env("CLOUDSDK_CORE_PROJECT", "from-gcloud");
    let run = cli_support::Run::of(cmd);
    run.expect_code(0);
    assert_eq!(
        commands(&run.stdout_str()),
        vec![grant("a", "--project from-google", SA)]
    );

    let mut cmd = fx.cmd(["policy", "--for", "gcp", "--member", SA]);
    cmd.env_remove("GOOGLE_CLOUD_PROJECT")
        .env("CLOUDSDK_CORE_PROJECT", "from-gcloud");
    let run = cli_support::Run::of(cmd);
    run.expect_code(0);
    assert_eq!(
        commands(&run.stdout_str()),
        vec![grant("a", "--project from-gcloud", SA)]
    );

    // No project anywhere: the bare id cannot be placed, and the error says where to set one.
    let mut cmd = fx.cmd(["policy", "--for", "gcp", "--member", SA]);
    cmd.env_remove("GOOGLE_CLOUD_PROJECT")
        .env_remove("CLOUDSDK_CORE_PROJECT");
    let run = cli_support::Run::of(cmd);
    run.expect_code(2);
    run.assert_mentions("GOOGLE_CLOUD_PROJECT");
}

#[test]
fn policy_gcp_bad_member_and_foreign_flags_are_usage_errors() {
    let fx = fixture();
    let run = fx.run([
        "policy",
        "--for",
        "gcp",
        "--member",
        "api@proj-a.iam.gserviceaccount.com",
    ]);
    run.expect_code(2);
    run.assert_mentions("serviceAccount:");
    assert!(run.stdout.is_empty());

    let run = fx.run(["policy", "--for", "aws", "--member", SA]);
    run.expect_code(2);
    run.assert_mentions("`--member` applies to `--for gcp`");

    // A config that reads nothing from Vault has no Vault policy to print.
    let run = fx.run(["policy", "--for", "vault", "--offline"]);
    run.expect_code(2);
    run.assert_mentions("no secrets from a `vault` backend");
}
