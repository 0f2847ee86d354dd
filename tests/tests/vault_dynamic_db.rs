//! Vault dynamic database credentials end to end: OpenBao's database secrets engine against a
//! real PostgreSQL (both started by `scripts/test`), and `envfile run --watch` supervising a
//! child that logs in with `psql`. The lease is renewed past its first TTL without a restart;
//! when its max TTL forces a new credential the child is restarted once and logs in with it; on
//! shutdown the leases are revoked, so the users no longer exist. Also: both variables of the env
//! file come from ONE credential, and a database that refuses Vault fails with a clear error.
//! Passwords are compared and used, never printed.

mod broker_support;
mod run_support;

use envfile_tests::bao::{envfile_in, Bao};
use envfile_tests::env::{unique, vault_addr, vault_root_token};
use run_support::{eventually, Dir, DEADLINE};
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn pg(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: no PostgreSQL is running. Run the tests through `scripts/test`, \
             which starts it."
        )
    })
}

fn psql() -> PathBuf {
    pg("ENVFILE_TEST_PSQL").into()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Whether `user` with `password` can log in to the test server.
fn can_login(user: &str, password: &str) -> bool {
    Command::new(psql())
        .args([
            "-h",
            &pg("ENVFILE_TEST_PG_HOST"),
            "-p",
            &pg("ENVFILE_TEST_PG_PORT"),
        ])
        .args(["-U", user, "-d", "postgres", "-tAc", "select 1"])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "5")
        .output()
        .expect("run psql")
        .status
        .success()
}

/// Whether a role named `user` exists (asked as the superuser).
fn role_exists(user: &str) -> bool {
    let out = Command::new(psql())
        .args([
            "-h",
            &pg("ENVFILE_TEST_PG_HOST"),
            "-p",
            &pg("ENVFILE_TEST_PG_PORT"),
        ])
        .args(["-U", "postgres", "-d", "postgres", "-tAc"])
        .arg(format!(
            "select count(*) from pg_roles where rolname = '{}'",
            user.replace('\'', "''")
        ))
        .env("PGPASSWORD", pg("ENVFILE_TEST_PG_PASSWORD"))
        .output()
        .expect("run psql");
    assert!(out.status.success(), "superuser query failed");
    String::from_utf8_lossy(&out.stdout).trim() == "1"
}

/// A database secrets engine at a fresh mount, connected to the test PostgreSQL as the
/// superuser, with role `app` (`ttl`, `max_ttl`). With `password` wrong, Vault cannot connect.
async fn database_mount(bao: &Bao, ttl: &str, max_ttl: &str, password: &str) -> String {
    let mount = unique("db");
    bao.ok(
        "POST",
        &format!("sys/mounts/{mount}"),
        Some(json!({ "type": "database" })),
    )
    .await;
    bao.ok(
        "POST",
        &format!("{mount}/config/pg"),
        Some(json!({
            "plugin_name": "postgresql-database-plugin",
            "connection_url": format!(
                "postgresql://{{{{username}}}}:{{{{password}}}}@{}:{}/postgres?sslmode=disable",
                pg("ENVFILE_TEST_PG_HOST"),
                pg("ENVFILE_TEST_PG_PORT")
            ),
            "username": "postgres",
            "password": password,
            "allowed_roles": "*",
            "verify_connection": false,
        })),
    )
    .await;
    bao.ok(
        "POST",
        &format!("{mount}/roles/app"),
        Some(json!({
            "db_name": "pg",
            "creation_statements": [
                "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"
            ],
            "default_ttl": ttl,
            "max_ttl": max_ttl,
        })),
    )
    .await;
    mount
}

fn config(mount: &str, token_file: &str) -> String {
    format!(
        r#"[default.backends.vault]
kind = "vault"
address = "{addr}"
auth = {{ method = "token", token_file = "{token_file}" }}

[default.envfiles.app]
vars.DB_USER = "vault:{mount}/creds/app#username"
vars.DB_PASS = "vault:{mount}/creds/app#password"
"#,
        addr = vault_addr()
    )
}

/// The child: records its start and the user it got, then logs in with `psql` every 200ms and
/// records `ok` or `fail` per attempt. Exits 0 on SIGTERM.
const CHILD: &str = r#"
echo "start $$" >> "$CHILD_OUT/events"
printf '%s' "$DB_USER" > "$CHILD_OUT/user.$$"
printf '%s' "$DB_PASS" > "$CHILD_OUT/pass.$$"
trap 'exit 0' TERM
while true; do
  if PGPASSWORD="$DB_PASS" PGCONNECT_TIMEOUT=5 "$PSQL" -h "$PGHOST" -p "$PGPORT" -U "$DB_USER" \
       -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    echo ok >> "$CHILD_OUT/psql.$$"
  else
    echo fail >> "$CHILD_OUT/psql.$$"
  fi
  sleep 0.2 & wait $!
done
"#;

fn read(dir: &Dir, name: &str) -> String {
    std::fs::read_to_string(dir.path(name)).unwrap_or_default()
}

fn logins(dir: &Dir, pid: u32) -> Vec<String> {
    read(dir, &format!("out/psql.{pid}"))
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn run_watch_renews_then_replaces_the_database_credential_and_revokes_on_exit() {
    let rt = rt();
    let bao = Bao::root();
    // TTL 3s, max TTL 9s: renewed at ~2s and ~4s, capped at ~6s, replaced with ~1s of it left.
    let mount = rt.block_on(database_mount(
        &bao,
        "3s",
        "9s",
        &pg("ENVFILE_TEST_PG_PASSWORD"),
    ));
    let dir = Dir::new(&config(&mount, "token"));
    std::fs::write(dir.path("token"), vault_root_token()).unwrap();
    std::fs::write(dir.path("child.sh"), CHILD).unwrap();

    let mut cmd = dir.cmd(
        &[
            "--log-level",
            "warn,envfile_vault=info,envfile::supervise=info",
            "run",
            "--watch",
            "--interval",
            "200ms",
            "--debounce",
            "100ms",
            "--kill-timeout",
            "5s",
            "app",
            "--",
            "bash",
            "child.sh",
        ],
        "DB_PASS",
    );
    cmd.env("PSQL", psql())
        .env("PGHOST", pg("ENVFILE_TEST_PG_HOST"))
        .env("PGPORT", pg("ENVFILE_TEST_PG_PORT"));
    let mut sup = dir.start(cmd);
    let first = sup.wait_starts(1)[0];
    let user1 = read(&dir, &format!("out/user.{first}"));
    let pass1 = read(&dir, &format!("out/pass.{first}"));
    assert!(user1.starts_with("v-"), "not a Vault-made user name");
    assert!(
        eventually(DEADLINE, || logins(&dir, first).iter().any(|l| l == "ok")),
        "the child could not log in with the credential; stderr:\n{}",
        sup.stderr()
    );

    // Two renewals take the lease past its first TTL (3s); the child is not restarted and still
    // logs in with the same user.
    assert!(
        eventually(DEADLINE, || sup.stderr().matches("renewed a lease").count()
            >= 2),
        "the lease was not renewed; stderr:\n{}",
        sup.stderr()
    );
    assert_eq!(
        sup.starts(),
        vec![first],
        "renewal must not restart the child"
    );
    let n = logins(&dir, first).len();
    assert!(eventually(DEADLINE, || logins(&dir, first).len() >= n + 2));
    assert_eq!(
        logins(&dir, first)[n..]
            .iter()
            .filter(|l| *l == "ok")
            .count(),
        logins(&dir, first).len() - n,
        "logins failed after the lease was renewed"
    );

    // Max TTL: a new credential is fetched ahead of expiry and the child restarted with it.
    let starts = sup.wait_starts(2);
    let second = starts[1];
    let user2 = read(&dir, &format!("out/user.{second}"));
    let pass2 = read(&dir, &format!("out/pass.{second}"));
    assert!(
        user2 != user1 && pass2 != pass1,
        "the restart did not bring a new credential"
    );
    assert!(
        eventually(DEADLINE, || logins(&dir, second).iter().any(|l| l == "ok")),
        "the restarted child could not log in; stderr:\n{}",
        sup.stderr()
    );
    assert_eq!(
        sup.starts().len(),
        2,
        "one new credential must restart the child once"
    );
    assert!(sup.stderr().contains("replaced a dynamic credential"));

    // A clean stop revokes the leases: Vault drops both users (the second long before its TTL).
    assert!(role_exists(&user2));
    sup.signal("TERM");
    let code = sup.wait_exit();
    assert_eq!(code, Some(0), "envfile run did not exit cleanly");
    let stderr = sup.stderr();
    assert!(
        stderr.matches("revoked a lease").count() >= 1,
        "no lease was revoked on exit; stderr:\n{stderr}"
    );
    assert!(!role_exists(&user2), "the revoked user still exists");
    assert!(
        !can_login(&user2, &pass2),
        "the revoked user can still log in"
    );
    assert!(
        !can_login(&user1, &pass1),
        "the replaced user can still log in"
    );
    for p in [&pass1, &pass2] {
        assert!(!stderr.contains(p.as_str()), "a password was logged");
    }
}

#[test]
fn both_variables_come_from_one_credential_and_render_does_not_revoke() {
    let rt = rt();
    let bao = Bao::root();
    let mount = rt.block_on(database_mount(
        &bao,
        "1h",
        "1h",
        &pg("ENVFILE_TEST_PG_PASSWORD"),
    ));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), vault_root_token()).unwrap();
    std::fs::write(dir.path().join("envfile.toml"), config(&mount, "token")).unwrap();
    let out = envfile_in(
        dir.path(),
        &["render", "app", "--format", "json", "--out", "app.json"],
    );
    assert!(
        out.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let vars: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("app.json")).unwrap()).unwrap();
    let (user, pass) = (
        vars["DB_USER"].as_str().unwrap(),
        vars["DB_PASS"].as_str().unwrap(),
    );
    // The password is the user's own: one credential, not two.
    assert!(
        can_login(user, pass),
        "DB_USER and DB_PASS do not belong together"
    );
    // `render` hands the credential on: it outlives the command, so it is not revoked.
    let leases = rt.block_on(bao.call(
        "LIST",
        &format!("sys/leases/lookup/{mount}/creds/app"),
        None,
    ));
    assert_eq!(leases.0, 200, "no lease listed: {:?}", leases.1);
    assert_eq!(leases.1["data"]["keys"].as_array().map(Vec::len), Some(1));

    // With `revoke_leases = true` the backend revokes what it read once the file is written.
    let config = config(&mount, "token").replace(
        "kind = \"vault\"\n",
        "kind = \"vault\"\nrevoke_leases = true\n",
    );
    std::fs::write(dir.path().join("envfile.toml"), config).unwrap();
    let out = envfile_in(
        dir.path(),
        &["render", "app", "--format", "json", "--out", "revoked.json"],
    );
    assert!(out.status.success());
    let vars: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("revoked.json")).unwrap()).unwrap();
    let user = vars["DB_USER"].as_str().unwrap();
    assert!(!role_exists(user), "revoke_leases = true did not revoke");
    assert!(
        role_exists(vars_user(&dir, "app.json").as_str()),
        "the first render's user was revoked too"
    );
}

fn vars_user(dir: &tempfile::TempDir, file: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join(file)).unwrap()).unwrap();
    v["DB_USER"].as_str().unwrap().to_owned()
}

#[test]
fn a_database_refusing_vault_fails_with_the_path_and_a_hint_and_writes_nothing() {
    let rt = rt();
    let bao = Bao::root();
    let mount = rt.block_on(database_mount(&bao, "1h", "1h", "not-the-password"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), vault_root_token()).unwrap();
    std::fs::write(dir.path().join("envfile.toml"), config(&mount, "token")).unwrap();
    let out = envfile_in(
        dir.path(),
        &["render", "app", "--format", "dotenv", "--out", "app.env"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{mount}/creds/app")),
        "the path is not named: {stderr}"
    );
    assert!(
        stderr.contains("database is up"),
        "no hint about the database: {stderr}"
    );
    assert!(!dir.path().join("app.env").exists(), "a file was written");
}

/// `envfile serve` (in process): the broker's cache TTL is a minute, yet the credential it serves
/// is replaced before its lease's max TTL ends: a long-poll on the env file wakes with a new,
/// working credential, and the env file sink and a template sink are rewritten with it.
#[tokio::test(flavor = "multi_thread")]
async fn serve_replaces_the_credential_before_its_lease_ends_waking_long_polls_and_sinks() {
    use broker_support::{http, setup_from, start, wait_ready, Via, TOKEN};
    let bao = Bao::root();
    let mount = database_mount(&bao, "2s", "5s", &pg("ENVFILE_TEST_PG_PASSWORD")).await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, vault_root_token()).unwrap();
    let sink = dir.path().join("app.json");
    // A template sink reading the same path: the agent's way of handing a credential over.
    let tsink = dir.path().join("db.conf");
    let toml = format!(
        r#"[default.backends.vault]
kind = "vault"
address = "{addr}"
auth = {{ method = "token", token_file = "{token}" }}

[default.envfiles.app]
vars.DB_USER = "vault:{mount}/creds/app#username"
vars.DB_PASS = "vault:{mount}/creds/app#password"

[default.broker]
ttl = "60s"

[[default.sinks]]
envfile = "app"
path = "{sink}"
format = "json"

[[default.sinks]]
contents = """{{{{ with secret "{mount}/creds/app" }}}}user={{{{ .Data.username }}}} pass={{{{ .Data.password }}}} renewable={{{{ .Renewable }}}}{{{{ end }}}}"""
path = "{tsink}"
"#,
        addr = vault_addr(),
        token = token.display(),
        sink = sink.display(),
        tsink = tsink.display()
    );
    let b = Arc::new(start(setup_from(&toml).await, None).await);
    wait_ready(&b).await;
    let started = Instant::now();
    let first = b.get("/v1/envfiles/app?format=json").await;
    assert_eq!(first.status, 200);
    let etag = first.header("etag").unwrap().to_owned();
    let v1: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
    let (user1, pass1) = (
        v1["DB_USER"].as_str().unwrap().to_owned(),
        v1["DB_PASS"].as_str().unwrap().to_owned(),
    );
    assert!(can_login(&user1, &pass1));
    let rendered = |user: &str, pass: &str| {
        std::fs::read_to_string(&tsink)
            .is_ok_and(|s| s == format!("user={user} pass={pass} renewable=true"))
    };
    assert!(
        eventually(DEADLINE, || rendered(&user1, &pass1)),
        "the template sink does not hold the env file's credential"
    );

    // A Vault client reading the path through the broker gets the credential the env file
    // holds (one per path), in Vault's shape with its lease.
    let v = http(
        Via::Tcp(b.tcp),
        &format!("/v1/{mount}/creds/app"),
        &[("X-Vault-Token", TOKEN)],
    )
    .await;
    assert_eq!(v.status, 200, "the Vault route on a dynamic path");
    let v: serde_json::Value = serde_json::from_slice(&v.body).unwrap();
    assert_eq!(v["data"]["username"].as_str(), Some(user1.as_str()));
    assert_eq!(v["data"]["password"].as_str(), Some(pass1.as_str()));
    assert!(
        v["lease_id"]
            .as_str()
            .is_some_and(|l| l.starts_with(&format!("{mount}/creds/app/"))),
        "the lease id names the lease"
    );
    assert!(v["lease_duration"].as_u64().is_some_and(|d| d > 0));

    let r = http(
        Via::Tcp(b.tcp),
        "/v1/envfiles/app?format=json&wait=30s",
        &[("X-Envfile-Token", TOKEN), ("If-None-Match", &etag)],
    )
    .await;
    let took = started.elapsed();
    assert_eq!(r.status, 200);
    let v2: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let (user2, pass2) = (
        v2["DB_USER"].as_str().unwrap().to_owned(),
        v2["DB_PASS"].as_str().unwrap().to_owned(),
    );
    assert!(
        user2 != user1,
        "the long-poll woke without a new credential"
    );
    assert!(
        took < Duration::from_secs(5),
        "the new credential came after the lease's max TTL ({took:?})"
    );
    assert!(
        can_login(&user2, &pass2),
        "the new credential does not work"
    );
    assert!(
        eventually(DEADLINE, || std::fs::read_to_string(&sink)
            .is_ok_and(|s| s.contains(&user2))),
        "the sink was not rewritten with the new credential"
    );
    assert!(
        eventually(DEADLINE, || rendered(&user2, &pass2)),
        "the template sink was not rendered again with the new credential"
    );
    Arc::try_unwrap(b).ok().expect("sole owner").stop().await;
}
