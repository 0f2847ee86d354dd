//! The real `envfile` binary against the in-process Secret Manager emulator (the emulator runs in
//! this test process on its own thread, the CLI in a child): `latest`, pins, disabled versions,
//! JSON keys, CRC32C mismatch, regional secrets, and the runbook's Cloud Run pair exec'd into a
//! child that prints its environment.

mod cli_support;

use cli_support::{assert_bytes_eq, canary, Fixture, Run};
use envfile_tests::gcp_emulator::{EmulatorHandle, GcpSeeder, SecretManagerEmulator};

const PROJECT: &str = "ml-incident-prod";

struct Gcp {
    emu: EmulatorHandle,
    seeder: GcpSeeder,
    regional: GcpSeeder,
}

async fn gcp() -> Gcp {
    let emu = SecretManagerEmulator::start();
    let seeder = GcpSeeder::new(&emu.base_url, PROJECT, None).await;
    let regional = GcpSeeder::new(&emu.base_url, PROJECT, Some("europe-west1")).await;
    Gcp {
        emu,
        seeder,
        regional,
    }
}

impl Gcp {
    /// A config with a `gcp` backend at the emulator (global) and `gcp-eu` (regional), plus `rest`.
    fn fixture(&self, rest: &str) -> Fixture {
        Fixture::raw(&format!(
            "[default.backends.gcp]\nkind = \"gcp\"\nproject = \"{PROJECT}\"\nendpoint = \"{url}\"\n\
             credentials = \"anonymous\"\n\n\
             [default.backends.gcp-eu]\nkind = \"gcp\"\nproject = \"{PROJECT}\"\nlocation = \"europe-west1\"\n\
             endpoint = \"{url}\"\ncredentials = \"anonymous\"\n\n{rest}\n",
            url = self.emu.base_url
        ))
    }
}

/// `envfile get REF` succeeds and prints exactly `want`.
fn get_ok(fx: &Fixture, reference: &str, what: &str, want: &[u8]) {
    let run = fx.run(["get", reference]);
    run.expect_code(0);
    assert_bytes_eq(what, &run.stdout, want);
}

/// `envfile get REF` fails (`why` it must) and prints none of `secrets`; the run is returned for
/// its message.
fn get_fails(fx: &Fixture, reference: &str, secrets: &[&str], why: &str) -> Run {
    let run = fx.run(["get", reference]);
    run.assert_no_secret(secrets);
    assert!(run.code != Some(0), "{why}");
    run
}

#[tokio::test]
async fn gcp_latest_after_adding_a_version_and_a_pinned_version() {
    let g = gcp().await;
    let (v1, v2) = (canary("v1"), canary("v2"));
    g.seeder.add("api-token", v1.as_bytes()).await;
    let fx = g.fixture("");
    get_ok(&fx, "gcp:api-token", "latest (v1)", v1.as_bytes());

    g.seeder.add("api-token", v2.as_bytes()).await;
    for (reference, want) in [
        ("gcp:api-token", &v2),
        ("gcp:api-token?version=1", &v1),
        ("gcp:api-token?version=latest", &v2),
        (
            "projects/ml-incident-prod/secrets/api-token/versions/1",
            &v1,
        ),
        ("projects/ml-incident-prod/secrets/api-token", &v2),
        ("sm://ml-incident-prod/api-token#1", &v1),
        ("sm://ml-incident-prod/api-token", &v2),
    ] {
        get_ok(&fx, reference, reference, want.as_bytes());
    }
}

#[tokio::test]
async fn gcp_a_disabled_version_fails_with_a_clear_message() {
    let g = gcp().await;
    let (v1, v2) = (canary("v1"), canary("v2"));
    g.seeder.add("db-password", v1.as_bytes()).await;
    g.seeder.add("db-password", v2.as_bytes()).await;
    g.seeder.disable("db-password", "2").await;
    let fx = g.fixture("");
    get_fails(
        &fx,
        "gcp:db-password",
        &[&v1, &v2],
        "a disabled latest must fail",
    )
    .assert_mentions("version 2 is DISABLED: enable it or pin another version")
    .assert_mentions("gcloud secrets versions enable 2");
    get_ok(
        &fx,
        "gcp:db-password?version=1",
        "pinned enabled v1",
        v1.as_bytes(),
    );
}

#[tokio::test]
async fn gcp_a_json_payload_with_a_key() {
    let g = gcp().await;
    let pw = canary("pw");
    let doc = serde_json::json!({"host": "db.internal", "port": 5432, "password": pw});
    g.seeder
        .add("afu9-database", doc.to_string().as_bytes())
        .await;
    let fx = g.fixture(
        "[default.envfiles.db]\nvars.DB_PASSWORD = \"gcp:afu9-database#password\"\n\
         vars.DB_PORT = \"gcp:afu9-database#port\"\n",
    );
    get_ok(
        &fx,
        "gcp:afu9-database#password",
        "#password",
        pw.as_bytes(),
    );
    let run = fx.run([
        "exec",
        "db",
        "--",
        "/bin/sh",
        "-c",
        "printf '%s|%s' \"$DB_PASSWORD\" \"$DB_PORT\"",
    ]);
    run.expect_code(0);
    assert_bytes_eq(
        "exec json keys",
        &run.stdout,
        format!("{pw}|5432").as_bytes(),
    );
    get_fails(
        &fx,
        "gcp:afu9-database#user",
        &[&pw],
        "the key does not exist",
    )
    .assert_mentions("user");
}

#[tokio::test]
async fn gcp_a_crc32c_mismatch_is_refused() {
    let g = gcp().await;
    let v = canary("crc");
    g.seeder.add("crc-checked", v.as_bytes()).await;
    let fx = g.fixture("");
    g.emu.set_corrupt_crc32c(true);
    let run = get_fails(
        &fx,
        "gcp:crc-checked",
        &[&v],
        "a corrupted payload must not be printed",
    );
    assert!(run.stdout.is_empty());
    run.assert_mentions("CRC32C mismatch");
    g.emu.set_corrupt_crc32c(false);
    get_ok(&fx, "gcp:crc-checked", "after the switch", v.as_bytes());
}

#[tokio::test]
async fn gcp_a_regional_secret() {
    let g = gcp().await;
    let v = canary("eu");
    g.regional.add("eu-only", v.as_bytes()).await;
    let fx = g.fixture("");
    for reference in [
        "gcp-eu:eu-only",
        "projects/ml-incident-prod/locations/europe-west1/secrets/eu-only",
        "projects/ml-incident-prod/locations/europe-west1/secrets/eu-only/versions/1",
    ] {
        // The foreign form names a kind and two gcp backends exist: address it by name.
        let reference = if reference.starts_with("projects/") {
            format!("gcp:{reference}")
        } else {
            reference.to_owned()
        };
        get_ok(&fx, &reference, &reference, v.as_bytes());
    }
    get_fails(
        &fx,
        "gcp:eu-only",
        &[&v],
        "the global namespace does not have it",
    )
    .assert_mentions("does not exist");
}

/// Path C of the runbook: the two secrets Cloud Run injected with `secretKeyRef`, rendered and
/// exec'd by envfile as the entrypoint would.
#[tokio::test]
async fn gcp_the_cloud_run_pair_is_exec_d_into_the_app() {
    let g = gcp().await;
    let jwt = canary("jwt");
    let db = format!(
        "postgresql+asyncpg://user:{}@/incidents?host=/cloudsql/PROJECT:REGION:INSTANCE",
        canary("dbpw")
    );
    g.seeder
        .add("ml-incident-jwt-secret-key", jwt.as_bytes())
        .await;
    g.seeder
        .add("ml-incident-database-url", db.as_bytes())
        .await;
    let fx = g.fixture(
        "[default.envfiles.api]\nrequired = [\"JWT_SECRET_KEY\", \"DATABASE_URL\"]\n\
         vars.JWT_SECRET_KEY = \"gcp:ml-incident-jwt-secret-key\"\n\
         vars.DATABASE_URL = \"gcp:ml-incident-database-url\"\n\
         vars.LOG_LEVEL = { value = \"INFO\" }\n",
    );
    let run = fx.run(["exec", "api", "--", "env", "-0"]);
    run.expect_code(0);
    let env: std::collections::BTreeMap<String, String> = run
        .stdout
        .split(|&b| b == 0)
        .filter_map(|e| std::str::from_utf8(e).ok()?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for (name, want) in [("JWT_SECRET_KEY", &jwt), ("DATABASE_URL", &db)] {
        let got = env
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing from the child's env"));
        assert_bytes_eq(name, got.as_bytes(), want.as_bytes());
    }
    assert!(env.get("LOG_LEVEL").map(String::as_str) == Some("INFO"));

    // A rotation is picked up by the next start: `latest` moves.
    let rotated = canary("jwt2");
    g.seeder
        .add("ml-incident-jwt-secret-key", rotated.as_bytes())
        .await;
    let run = fx.run([
        "exec",
        "api",
        "--",
        "/bin/sh",
        "-c",
        "printf %s \"$JWT_SECRET_KEY\"",
    ]);
    run.expect_code(0);
    assert_bytes_eq("rotated", &run.stdout, rotated.as_bytes());

    // Preflight sees a missing secret before the app would start.
    let fx = g.fixture(
        "[default.envfiles.api]\nvars.JWT_SECRET_KEY = \"gcp:ml-incident-jwt-secret-key\"\n\
         vars.DATABASE_URL = \"gcp:ml-incident-database-url-typo\"\n",
    );
    let run = fx.run(["exec", "api", "--", "/bin/sh", "-c", "echo started"]);
    run.assert_no_secret(&[&jwt, &rotated, &db]);
    assert!(run.code != Some(0));
    assert!(
        !run.stdout_str().contains("started"),
        "nothing runs when a reference fails"
    );
    run.assert_mentions("ml-incident-database-url-typo");
}

#[tokio::test]
async fn gcp_the_example_cloud_run_config_is_valid() {
    // config/gcp-cloudrun.toml with the endpoint pointed at the emulator: the shipped example
    // must parse and resolve, not just look right.
    let g = gcp().await;
    let jwt = canary("jwt");
    let db = canary("db");
    g.seeder
        .add("ml-incident-jwt-secret-key", jwt.as_bytes())
        .await;
    g.seeder
        .add("ml-incident-database-url", db.as_bytes())
        .await;
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/gcp-cloudrun.toml"),
    )
    .expect("config/gcp-cloudrun.toml");
    let fx = Fixture::raw(&example);
    let mut cmd = fx.cmd([
        "exec",
        "api",
        "--",
        "/bin/sh",
        "-c",
        "printf '%s|%s' \"$JWT_SECRET_KEY\" \"$DATABASE_URL\"",
    ]);
    cmd.env("ENVFILE_BACKENDS__GCP__ENDPOINT", &g.emu.base_url)
        .env("ENVFILE_BACKENDS__GCP__CREDENTIALS", "anonymous")
        .env("ENVFILE_BACKENDS__GCP__PROJECT", PROJECT);
    let run = Run::of(cmd);
    run.expect_code(0);
    assert_bytes_eq(
        "example config",
        &run.stdout,
        format!("{jwt}|{db}").as_bytes(),
    );
}
