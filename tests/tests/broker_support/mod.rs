//! Shared by the `broker_*` tests: start the broker in-process on port 0 (plus a unix socket in a
//! temp dir), a tiny HTTP/1.1 client that speaks over TCP or the socket, backends built from
//! config text the way the CLI builds them, and a counting wrapper around a real backend.
#![allow(dead_code)] // each test crate uses a different subset

use async_trait::async_trait;
use envfile_broker::auth::Token;
use envfile_broker::{BrokerConfig, Overrides, Reload, Setup};
use envfile_core::{
    Backend, Backends, Capabilities, Fetched, LoadedConfig, Locator, Result, SecretValue,
};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{oneshot, Notify};

/// The admin token the in-process brokers use.
pub const TOKEN: &str = "test-admin-token-0123456789abcdef";

/// Build every backend in the config, like the CLI's wiring.
pub async fn build_backends(cfg: &LoadedConfig) -> Result<Backends> {
    let mut out = Backends::new();
    for (name, entry) in &cfg.config.backends {
        let b: Arc<dyn Backend> = match entry.kind.as_str() {
            "file" => Arc::new(envfile_core::file_backend::FileBackend::from_config(
                name, cfg,
            )?),
            "aws" => {
                envfile_tests::moto::dummy_credentials_in_env();
                Arc::new(
                    envfile_aws::AwsBackend::from_config(name, cfg)
                        .await?
                        .with_retry(envfile_core::retry::RetryPolicy::none()),
                )
            }
            "ssm" => {
                envfile_tests::moto::dummy_credentials_in_env();
                Arc::new(
                    envfile_aws::SsmBackend::from_config(name, cfg)
                        .await?
                        .with_retry(envfile_core::retry::RetryPolicy::none()),
                )
            }
            "vault" => Arc::new(envfile_vault::VaultBackend::from_config(name, cfg)?),
            other => panic!("test wiring: unknown kind {other}"),
        };
        out.insert(b);
    }
    Ok(out)
}

/// Reloads from a config file, like the CLI on SIGHUP.
pub struct FileReload(pub PathBuf);

#[async_trait]
impl Reload for FileReload {
    async fn reload(&self) -> Result<Setup> {
        let loaded = envfile_core::config::load(Some(&self.0), None)?;
        let backends = build_backends(&loaded).await?;
        Ok(Setup { loaded, backends })
    }
}

/// A running in-process broker.
pub struct Running {
    pub tcp: SocketAddr,
    pub socket: PathBuf,
    pub reload: Arc<Notify>,
    stop: Option<oneshot::Sender<()>>,
    join: Option<tokio::task::JoinHandle<Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Running {
    /// Stop and wait for the drain.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(j) = self.join.take() {
            j.await.expect("broker task").expect("broker run");
        }
    }

    /// GET over TCP with the admin token.
    pub async fn get(&self, target: &str) -> Resp {
        http(Via::Tcp(self.tcp), target, &[("X-Envfile-Token", TOKEN)]).await
    }

    /// GET over the socket, no token.
    pub async fn get_unix(&self, target: &str) -> Resp {
        http(Via::Unix(self.socket.clone()), target, &[]).await
    }
}

/// Start a broker for `setup`; `[broker]` in its config may set anything but listeners, which
/// are always TCP port 0 and a socket in a temp dir.
pub async fn start(setup: Setup, reloader: Option<Arc<dyn Reload>>) -> Running {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("broker.sock");
    let overrides = Overrides {
        listen: Some("127.0.0.1:0".into()),
        socket: Some(socket.clone()),
        token_env: Some(Token::new(TOKEN, "test").expect("token")),
        ..Overrides::default()
    };
    let mut config = BrokerConfig::new(setup, overrides);
    config.reloader = reloader;
    let reload = config.reload.clone();
    let (bound_tx, bound_rx) = oneshot::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let join = tokio::spawn(async move {
        envfile_broker::run(
            config,
            move |b| {
                let _ = bound_tx.send(b.clone());
            },
            async move {
                let _ = stop_rx.await;
            },
        )
        .await
    });
    let bound = match bound_rx.await {
        Ok(b) => b,
        Err(_) => panic!(
            "the broker did not start: {:?}",
            join.await.expect("broker task").err()
        ),
    };
    Running {
        tcp: bound.tcp.expect("tcp"),
        socket,
        reload,
        stop: Some(stop_tx),
        join: Some(join),
        _dir: dir,
    }
}

/// Load config text and build its backends.
pub async fn setup_from(toml: &str) -> Setup {
    let loaded = envfile_core::config::load_str(toml, None).expect("config");
    let backends = build_backends(&loaded).await.expect("backends");
    Setup { loaded, backends }
}

/// Wait until `/readyz` is 200.
pub async fn wait_ready(b: &Running) {
    for _ in 0..200 {
        if b.get("/readyz").await.status == 200 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the broker never became ready");
}

/// Where to send a request.
#[derive(Debug, Clone)]
pub enum Via {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

/// A response. `Debug` prints the body's length only: bodies hold secrets.
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Resp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resp")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One GET with `Connection: close`, parsed by hand (chunked bodies are not used by the broker).
pub async fn http(via: Via, target: &str, headers: &[(&str, &str)]) -> Resp {
    raw(via, "GET", target, headers).await
}

/// A request with any method.
pub async fn raw(via: Via, method: &str, target: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut buf = Vec::new();
    match via {
        Via::Tcp(a) => {
            let mut s = tokio::net::TcpStream::connect(a).await.expect("connect");
            s.write_all(req.as_bytes()).await.expect("write");
            s.read_to_end(&mut buf).await.expect("read");
        }
        Via::Unix(p) => {
            let mut s = tokio::net::UnixStream::connect(p).await.expect("connect");
            s.write_all(req.as_bytes()).await.expect("write");
            s.read_to_end(&mut buf).await.expect("read");
        }
    }
    parse(&buf)
}

fn parse(buf: &[u8]) -> Resp {
    let end = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Resp {
        status,
        headers,
        body: buf[end + 4..].to_vec(),
    }
}

/// A real backend behind a counter: how many secrets were actually asked of it.
pub struct Counting {
    pub inner: Arc<dyn Backend>,
    pub reads: AtomicUsize,
    pub probes: AtomicUsize,
}

impl Counting {
    pub fn wrap(inner: Arc<dyn Backend>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            reads: AtomicUsize::new(0),
            probes: AtomicUsize::new(0),
        })
    }
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Backend for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn get(&self, loc: &Locator) -> Result<Fetched> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        // Long enough that 200 concurrent readers all arrive while the first read is in flight.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        self.inner.get(loc).await
    }
    async fn get_many(&self, locs: &[Locator]) -> Vec<Result<Fetched>> {
        self.reads.fetch_add(locs.len(), Ordering::SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        self.inner.get_many(locs).await
    }
    async fn current_version(&self, loc: &Locator) -> Result<Option<String>> {
        self.probes.fetch_add(1, Ordering::SeqCst);
        self.inner.current_version(loc).await
    }
    async fn put(&self, path: &str, value: &SecretValue) -> Result<envfile_core::PutOutcome> {
        self.inner.put(path, value).await
    }
}

/// A file-backend config over `store.json` in `dir`, plus `rest`.
pub fn file_config(dir: &Path, rest: &str) -> String {
    format!(
        "[default.backends.file]\nkind = \"file\"\npath = \"{}\"\n\n{rest}\n",
        dir.join("store.json").display()
    )
}

/// Whether `hay` contains `needle` (byte search; never prints either).
pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}
