//! The AWS agent route against moto, compared field by field with boto3's `get_secret_value`
//! by a Python client written for the agent (tests/fixtures/aws_agent_compare.py): every secret
//! kind (JSON, text, UTF-8 binary, non-UTF-8 binary), every spelling (name, full ARN, partial
//! ARN, stage, version id), grants given by name and read by ARN, the ambiguous partial ARN,
//! `refreshNow`, and the agent's own answers (parameters, tokens, `/ping`, the path form).

mod broker_support;

use broker_support::*;
use envfile_tests::env::unique;
use envfile_tests::moto;

const READER: &str = "reader-token-0123456789abcdef";

#[tokio::test(flavor = "multi_thread")]
async fn broker_aws_agent_route_answers_as_get_secret_value_does() {
    let prefix = unique("agent");
    compare_with_python("aws", &["json", "db"], &prefix, "aws_agent_compare.py").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_ssm_route_answers_as_get_parameter_does() {
    let prefix = format!("/{}", unique("agent-ssm"));
    compare_with_python("ssm", &["secure"], &prefix, "ssm_agent_compare.py").await;
}

/// Starts a broker with one backend of `kind` on moto and a client granted `kind:PREFIX/NAME`
/// for each name, then runs the Python client `script` (tests/fixtures), which creates the
/// secrets under `prefix` and prints `SAME` when every answer matches what boto3 gets from moto.
async fn compare_with_python(kind: &str, granted: &[&str], prefix: &str, script: &str) {
    moto::dummy_credentials_in_env();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("reader"), format!("{READER}\n")).unwrap();
    let refs: Vec<String> = granted
        .iter()
        .map(|n| format!("\"{kind}:{prefix}/{n}\""))
        .collect();
    let toml = format!(
        r#"
[default.backends.{kind}]
kind = "{kind}"
region = "{region}"
endpoint_url = "{moto}"

[[default.broker.clients]]
name = "reader"
token = "file://{reader}"
envfiles = []
refs = [{refs}]
"#,
        region = moto::REGION,
        moto = envfile_tests::env::moto_url(),
        reader = dir.path().join("reader").display(),
        refs = refs.join(", "),
    );
    let b = start(setup_from(&toml).await, None).await;
    let script = format!("{}/fixtures/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = tokio::process::Command::new(envfile_tests::env::python())
        .arg(script)
        .arg(b.tcp.port().to_string())
        .arg(TOKEN)
        .arg(READER)
        .arg(envfile_tests::env::moto_url())
        .arg(moto::REGION)
        .arg(prefix)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stdout.contains("canary") && !stderr.contains("canary"),
        "a value was printed"
    );
    assert!(out.status.success(), "python failed: {stderr}");
    assert_eq!(stdout.trim(), "SAME");
    b.stop().await;
}
