//! Test support for the `aws` backend against moto: a [`Seeder`] that writes through the real
//! Secrets Manager API, an SDK client for tests that seed versions, stages and deletions
//! themselves, and [`FakeAwsProxy`], a hand-written fault-injecting proxy in front of moto for
//! what moto cannot do (deny one operation, deny one secret inside a batch answer, throttle) and
//! to count API calls by operation (and by secret).

use crate::conformance::Seeder;
use async_trait::async_trait;
use envfile_aws::sdk;
use envfile_aws::{AwsBackend, AwsConfig};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Once};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The region tests use for secret names.
pub const REGION: &str = "eu-central-1";
/// moto's default account id (it appears in every ARN moto makes).
pub const ACCOUNT: &str = "123456789012";

/// Dummy credentials for moto, as the environment variables the CLI's child process gets.
pub const DUMMY_ENV: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "test"),
    ("AWS_SECRET_ACCESS_KEY", "test"),
    ("AWS_REGION", REGION),
    // No ~/.aws lookups and no IMDS probing on a CI machine.
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// Put [`DUMMY_ENV`] into this process's environment (once), so the backend's default
/// credentials chain finds them. Call before any thread reads the environment.
pub fn dummy_credentials_in_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (k, v) in DUMMY_ENV {
            std::env::set_var(k, v);
        }
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/envfile-tests");
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/envfile-tests");
    });
}

/// An SDK client for moto in `region`, with static dummy credentials.
pub fn sdk_client(region: &str) -> sdk::Client {
    sdk_client_at(&crate::env::moto_url(), region)
}

/// An SDK client for `endpoint` (moto or a [`FakeAwsProxy`]) in `region`.
pub fn sdk_client_at(endpoint: &str, region: &str) -> sdk::Client {
    let conf = sdk::Config::builder()
        .behavior_version(sdk::config::BehaviorVersion::latest())
        .region(sdk::config::Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(sdk::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "envfile-tests",
        ))
        .build();
    sdk::Client::from_conf(conf)
}

/// The `aws` backend pointed at `endpoint` (moto or a proxy), reading names in [`REGION`].
pub async fn backend_at(name: &str, endpoint: &str) -> AwsBackend {
    dummy_credentials_in_env();
    let cfg = AwsConfig {
        kind: "aws".into(),
        region: Some(REGION.into()),
        endpoint_url: Some(endpoint.into()),
        ..AwsConfig::default()
    };
    AwsBackend::new(name, &cfg)
        .await
        .with_retry(envfile_core::retry::RetryPolicy {
            max_attempts: 4,
            initial_backoff: std::time::Duration::from_millis(20),
            max_backoff: std::time::Duration::from_millis(200),
            total: std::time::Duration::from_secs(10),
        })
}

/// Backend config TOML for the CLI tests: an `aws` backend named `aws` pointing at moto.
pub fn backend_toml() -> String {
    format!(
        "[default.backends.aws]\nkind = \"aws\"\nregion = \"{REGION}\"\nendpoint_url = \"{}\"\n",
        crate::env::moto_url()
    )
}

/// Two deleted secrets, named with `unique`: `(pending, gone)`. `pending` is scheduled for
/// deletion (a 7-day recovery window: restorable, still described); `gone` was force-deleted.
pub async fn deleted_secrets(client: &sdk::Client) -> (String, String) {
    let (pending, gone) = (crate::env::unique("pending"), crate::env::unique("gone"));
    put_secret(
        client,
        &pending,
        crate::conformance::secret_text("p").as_bytes(),
    )
    .await;
    put_secret(
        client,
        &gone,
        crate::conformance::secret_text("g").as_bytes(),
    )
    .await;
    client
        .delete_secret()
        .secret_id(&pending)
        .recovery_window_in_days(7)
        .send()
        .await
        .expect("schedule the deletion");
    client
        .delete_secret()
        .secret_id(&gone)
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("force-delete");
    (pending, gone)
}

/// Create `name` holding `value` (SecretString when UTF-8, else SecretBinary), or add a new
/// version (which becomes AWSCURRENT, the old one AWSPREVIOUS). Returns the secret's full ARN.
pub async fn put_secret(client: &sdk::Client, name: &str, value: &[u8]) -> String {
    let (text, bin) = match std::str::from_utf8(value) {
        Ok(s) => (Some(s.to_owned()), None),
        Err(_) => (None, Some(sdk::primitives::Blob::new(value.to_vec()))),
    };
    let created = client
        .create_secret()
        .name(name)
        .set_secret_string(text.clone())
        .set_secret_binary(bin.clone())
        .send()
        .await;
    match created {
        Ok(out) => out.arn().expect("CreateSecret returns an ARN").to_owned(),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_exists_exception()) =>
        {
            client
                .put_secret_value()
                .secret_id(name)
                .set_secret_string(text)
                .set_secret_binary(bin)
                .send()
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "PutSecretValue {name}: {}",
                        sdk::error::DisplayErrorContext(e)
                    )
                })
                .arn()
                .expect("PutSecretValue returns an ARN")
                .to_owned()
        }
        Err(e) => panic!(
            "CreateSecret {name}: {}",
            sdk::error::DisplayErrorContext(e)
        ),
    }
}

/// An SSM client for moto in `region`, with static dummy credentials.
pub fn ssm_client(region: &str) -> envfile_aws::ssm_sdk::Client {
    use envfile_aws::ssm_sdk as ssm;
    let conf = ssm::Config::builder()
        .behavior_version(ssm::config::BehaviorVersion::latest())
        .region(ssm::config::Region::new(region.to_owned()))
        .endpoint_url(crate::env::moto_url())
        .credentials_provider(ssm::config::Credentials::new(
            "test",
            "test",
            None,
            None,
            "envfile-tests",
        ))
        .build();
    ssm::Client::from_conf(conf)
}

/// The `ssm` backend pointed at `endpoint` (moto or a proxy), reading names in [`REGION`].
pub async fn ssm_backend_at(name: &str, endpoint: &str) -> envfile_aws::SsmBackend {
    ssm_backend_probing(name, endpoint, None).await
}

/// [`ssm_backend_at`] with a `version_probe` setting.
pub async fn ssm_backend_probing(
    name: &str,
    endpoint: &str,
    version_probe: Option<envfile_aws::VersionProbeMode>,
) -> envfile_aws::SsmBackend {
    dummy_credentials_in_env();
    let cfg = AwsConfig {
        kind: "ssm".into(),
        region: Some(REGION.into()),
        endpoint_url: Some(endpoint.into()),
        version_probe,
        ..AwsConfig::default()
    };
    envfile_aws::SsmBackend::new(name, &cfg)
        .await
        .with_retry(envfile_core::retry::RetryPolicy {
            max_attempts: 4,
            initial_backoff: std::time::Duration::from_millis(20),
            max_backoff: std::time::Duration::from_millis(200),
            total: std::time::Duration::from_secs(10),
        })
}

/// Put a SecureString parameter (a new version when it exists). Returns its version.
pub async fn put_parameter(client: &envfile_aws::ssm_sdk::Client, name: &str, value: &str) -> i64 {
    use envfile_aws::ssm_sdk::types::ParameterType;
    client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PutParameter {name}: {}",
                envfile_aws::ssm_sdk::error::DisplayErrorContext(e)
            )
        })
        .version
}

/// Seeds moto's Parameter Store through the real SSM API, in [`REGION`], under `/envfile-tests/`.
pub struct SsmSeeder {
    client: envfile_aws::ssm_sdk::Client,
}

impl SsmSeeder {
    /// A seeder writing to moto.
    pub fn new() -> Self {
        Self {
            client: ssm_client(REGION),
        }
    }
}

impl Default for SsmSeeder {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Seeder for SsmSeeder {
    async fn put(&self, name: &str, value: &[u8]) -> String {
        let path = format!("/envfile-tests/{name}");
        let text = std::str::from_utf8(value).expect("Parameter Store holds text only");
        put_parameter(&self.client, &path, text).await;
        path
    }

    async fn delete(&self, path: &str) {
        self.client
            .delete_parameter()
            .name(path)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "DeleteParameter {path}: {}",
                    envfile_aws::ssm_sdk::error::DisplayErrorContext(e)
                )
            });
    }
}

/// Seeds moto through the real Secrets Manager API, in [`REGION`].
pub struct MotoSeeder {
    client: sdk::Client,
}

impl MotoSeeder {
    /// A seeder writing to moto.
    pub fn new() -> Self {
        Self {
            client: sdk_client(REGION),
        }
    }
}

impl Default for MotoSeeder {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Seeder for MotoSeeder {
    async fn put(&self, name: &str, value: &[u8]) -> String {
        put_secret(&self.client, name, value).await;
        name.to_owned()
    }

    async fn delete(&self, path: &str) {
        self.client
            .delete_secret()
            .secret_id(path)
            .force_delete_without_recovery(true)
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "DeleteSecret {path}: {}",
                    sdk::error::DisplayErrorContext(e)
                )
            });
    }
}

/// What [`FakeAwsProxy`] does to requests of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer every call with `AccessDeniedException` (like a role without the IAM action).
    Deny,
    /// Answer the next `n` calls with `ThrottlingException`, then pass through.
    Throttle(u32),
}

/// A FAKE: a loopback HTTP proxy in front of moto that counts calls per operation
/// (`X-Amz-Target`) and injects faults moto cannot produce. One request per connection
/// (`Connection: close` both ways) keeps it small.
pub struct FakeAwsProxy {
    url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// What the proxy's connections share.
#[derive(Default)]
struct Shared {
    calls: Mutex<BTreeMap<String, u32>>,
    /// Calls by (operation, the request's `SecretId` or `Name`).
    calls_on: Mutex<BTreeMap<(String, String), u32>>,
    faults: Mutex<BTreeMap<String, Fault>>,
    /// Secret names a BatchGetSecretValue answer reports as AccessDeniedException in `Errors`.
    denied_in_batch: Mutex<BTreeSet<String>>,
    /// The request bodies of the operations asked for with `record_requests` (never an
    /// operation that carries a value).
    recorded: Mutex<BTreeMap<String, Vec<serde_json::Value>>>,
    /// When each call arrived, by operation.
    arrivals: Mutex<BTreeMap<String, Vec<std::time::Instant>>>,
    /// Calls being answered now, and the most at once since the last reset.
    in_flight: AtomicU32,
    max_in_flight: AtomicU32,
    sts: Mutex<StsFake>,
}

/// What the proxy saw of STS AssumeRole.
#[derive(Default)]
struct StsFake {
    /// The last AssumeRole request's form body (role ARN, external id, duration: no secrets).
    last_assume_role: Option<String>,
}

impl Drop for FakeAwsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAwsProxy {
    /// Start it in front of moto.
    pub async fn start() -> Self {
        Self::start_in_front_of(&crate::env::moto_url()).await
    }

    /// Start it in front of another plain-HTTP server (OpenBao's dev server): a call that is
    /// not an AWS operation is named `METHOD /path` (without the query).
    pub async fn start_in_front_of(upstream: &str) -> Self {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy addr"));
        let shared = Arc::new(Shared::default());
        let sh = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let (sh, up) = (sh.clone(), upstream.clone());
                tokio::spawn(async move {
                    let _ = serve_one(sock, &up, &sh).await;
                });
            }
        });
        Self { url, shared, task }
    }

    /// The proxy's URL, for `endpoint_url`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Inject `fault` into calls of `op` (`BatchGetSecretValue`, `GetSecretValue`, …).
    pub fn set_fault(&self, op: &str, fault: Fault) {
        self.shared
            .faults
            .lock()
            .unwrap()
            .insert(op.to_owned(), fault);
    }

    /// From now on, a BatchGetSecretValue answer that holds the secret named `name` moves it
    /// from `SecretValues` to `Errors` as `AccessDeniedException`, the shape Secrets Manager
    /// gives a secret the role may not read while the rest of the batch succeeds. Calls on
    /// that secret alone (DescribeSecret, GetSecretValue) pass through.
    pub fn deny_in_batch(&self, name: &str) {
        self.shared
            .denied_in_batch
            .lock()
            .unwrap()
            .insert(name.to_owned());
    }

    /// How many calls of `op` arrived (answered by moto or by a fault).
    pub fn calls(&self, op: &str) -> u32 {
        self.shared
            .calls
            .lock()
            .unwrap()
            .get(op)
            .copied()
            .unwrap_or(0)
    }

    /// How many calls of `op` named `id` as their `SecretId` (Secrets Manager) or `Name` (SSM).
    pub fn calls_on(&self, op: &str, id: &str) -> u32 {
        self.shared
            .calls_on
            .lock()
            .unwrap()
            .get(&(op.to_owned(), id.to_owned()))
            .copied()
            .unwrap_or(0)
    }

    /// Keep the JSON request bodies of `op` from now on (for a metadata operation such as
    /// DescribeParameters: the bodies of a write would hold values).
    pub fn record_requests(&self, op: &str) {
        self.shared
            .recorded
            .lock()
            .unwrap()
            .entry(op.to_owned())
            .or_default();
    }

    /// The request bodies of `op` kept since `record_requests`.
    pub fn requests(&self, op: &str) -> Vec<serde_json::Value> {
        self.shared
            .recorded
            .lock()
            .unwrap()
            .get(op)
            .cloned()
            .unwrap_or_default()
    }

    /// The form body of the last AssumeRole request (`RoleArn=…&ExternalId=…&…`).
    pub fn last_assume_role(&self) -> Option<String> {
        self.shared.sts.lock().unwrap().last_assume_role.clone()
    }

    /// When the calls of `op` arrived since the last reset.
    pub fn arrivals(&self, op: &str) -> Vec<std::time::Instant> {
        self.shared
            .arrivals
            .lock()
            .unwrap()
            .get(op)
            .cloned()
            .unwrap_or_default()
    }

    /// The calls whose name starts with `prefix`, with their counts.
    pub fn calls_starting(&self, prefix: &str) -> BTreeMap<String, u32> {
        self.shared
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// The most calls answered at once since the last reset.
    pub fn max_in_flight(&self) -> u32 {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Forget the counts.
    pub fn reset_calls(&self) {
        self.shared.calls.lock().unwrap().clear();
        self.shared.calls_on.lock().unwrap().clear();
        self.shared.arrivals.lock().unwrap().clear();
        self.shared.max_in_flight.store(0, Ordering::SeqCst);
    }
}

static PROXY_SERIAL: AtomicU32 = AtomicU32::new(0);

async fn serve_one(sock: TcpStream, upstream: &str, sh: &Shared) -> std::io::Result<()> {
    let mut counted = false;
    let r = serve_counted(sock, upstream, sh, &mut counted).await;
    if counted {
        sh.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
    r
}

async fn serve_counted(
    mut sock: TcpStream,
    upstream: &str,
    sh: &Shared,
    counted: &mut bool,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 8192];
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let mut chunk = [0u8; 8192];
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    // JSON protocols (Secrets Manager, SSM) name the operation in X-Amz-Target; the query
    // protocol (STS) in the form body's `Action`.
    let op = header("x-amz-target")
        .and_then(|t| t.rsplit('.').next().map(str::to_owned))
        .or_else(|| {
            let body = String::from_utf8_lossy(&buf[head_end..]);
            body.split('&')
                .find_map(|kv| kv.strip_prefix("Action=").map(str::to_owned))
        })
        .unwrap_or_else(|| {
            // Not AWS: `METHOD /path` from the request line.
            let mut line = head.lines().next().unwrap_or_default().split(' ');
            let method = line.next().unwrap_or_default();
            let path = line.next().unwrap_or_default();
            format!("{method} {}", path.split('?').next().unwrap_or_default())
        });
    *sh.calls.lock().unwrap().entry(op.clone()).or_default() += 1;
    sh.arrivals
        .lock()
        .unwrap()
        .entry(op.clone())
        .or_default()
        .push(std::time::Instant::now());
    *counted = true;
    let now = sh.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    sh.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let request: Option<serde_json::Value> = serde_json::from_slice(&buf[head_end..]).ok();
    if let Some(id) = request
        .as_ref()
        .and_then(|r| r.get("SecretId").or_else(|| r.get("Name")))
        .and_then(|v| v.as_str())
    {
        *sh.calls_on
            .lock()
            .unwrap()
            .entry((op.clone(), id.to_owned()))
            .or_default() += 1;
    }
    if let (Some(kept), Some(r)) = (sh.recorded.lock().unwrap().get_mut(&op), &request) {
        kept.push(r.clone());
    }
    if op == "AssumeRole" {
        sh.sts.lock().unwrap().last_assume_role =
            Some(String::from_utf8_lossy(&buf[head_end..]).into_owned());
    }

    let fault = {
        let mut f = sh.faults.lock().unwrap();
        match f.get(&op).copied() {
            Some(Fault::Throttle(n)) if n > 0 => {
                f.insert(op.clone(), Fault::Throttle(n - 1));
                Some(("ThrottlingException", "Rate exceeded"))
            }
            Some(Fault::Deny) => Some((
                "AccessDeniedException",
                "User: arn:aws:sts::123456789012:assumed-role/test/fake is not authorized to perform this operation (fake proxy)",
            )),
            _ => None,
        }
    };
    if let Some((code, msg)) = fault {
        let body = serde_json::json!({ "__type": code, "message": msg }).to_string();
        let resp = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\nx-amzn-RequestId: fake-{}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            PROXY_SERIAL.fetch_add(1, Ordering::Relaxed),
            body.len()
        );
        sock.write_all(resp.as_bytes()).await?;
        return sock.shutdown().await;
    }

    // Forward with `Connection: close` so the upstream response ends at EOF.
    let mut fwd = String::new();
    for line in head[..head_end - 4].split("\r\n") {
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        fwd.push_str(line);
        fwd.push_str("\r\n");
    }
    fwd.push_str("Connection: close\r\n\r\n");
    let mut up = TcpStream::connect(upstream).await?;
    up.write_all(fwd.as_bytes()).await?;
    up.write_all(&buf[head_end..]).await?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp).await?;
    let Some(rhead_end) = find(&resp, b"\r\n\r\n").map(|p| p + 4) else {
        return sock.write_all(&resp).await;
    };
    let rhead = String::from_utf8_lossy(&resp[..rhead_end - 4]).into_owned();
    let mut body = resp[rhead_end..].to_vec();
    if op == "BatchGetSecretValue" && rhead.starts_with("HTTP/1.1 200") {
        let denied = sh.denied_in_batch.lock().unwrap().clone();
        if !denied.is_empty() {
            body = deny_in_batch_answer(&body, request.as_ref(), &denied);
        }
    }
    let mut out = String::new();
    for line in rhead.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") || lower.starts_with("content-length:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    sock.write_all(out.as_bytes()).await?;
    sock.write_all(&body).await?;
    sock.shutdown().await
}

/// A BatchGetSecretValue answer with the `denied` secrets moved from `SecretValues` to
/// `Errors`, each under the `SecretId` the request named it by (as the real API reports it).
fn deny_in_batch_answer(
    body: &[u8],
    request: Option<&serde_json::Value>,
    denied: &BTreeSet<String>,
) -> Vec<u8> {
    let Ok(mut answer) = serde_json::from_slice::<serde_json::Value>(body) else {
        return body.to_vec();
    };
    let asked: Vec<&str> = request
        .and_then(|r| r.get("SecretIdList"))
        .and_then(|l| l.as_array())
        .map(|l| l.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let values = answer
        .get_mut("SecretValues")
        .and_then(|v| v.as_array_mut())
        .map(std::mem::take)
        .unwrap_or_default();
    let (mut kept, mut errors) = (Vec::new(), Vec::new());
    for v in values {
        let name = v.get("Name").and_then(|n| n.as_str()).unwrap_or_default();
        let arn = v.get("ARN").and_then(|n| n.as_str()).unwrap_or_default();
        if !denied.contains(name) {
            kept.push(v);
            continue;
        }
        let id = asked
            .iter()
            .find(|a| **a == name || **a == arn)
            .copied()
            .unwrap_or(name);
        errors.push(serde_json::json!({
            "SecretId": id,
            "ErrorCode": "AccessDeniedException",
            "Message": format!("User: arn:aws:sts::{ACCOUNT}:assumed-role/test/fake is not authorized to perform: secretsmanager:GetSecretValue on resource: {id} because no identity-based policy allows the secretsmanager:GetSecretValue action (fake proxy)"),
        }));
    }
    answer["SecretValues"] = serde_json::Value::Array(kept);
    if let Some(prev) = answer.get("Errors").and_then(|e| e.as_array()) {
        errors.splice(0..0, prev.iter().cloned());
    }
    answer["Errors"] = serde_json::Value::Array(errors);
    serde_json::to_vec(&answer).unwrap_or_else(|_| body.to_vec())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
