//! The broker's settings: `[broker]`, `[[broker.clients]]` and `[[sinks]]` from the config,
//! plus command-line overrides. Raw structs are strict (`deny_unknown_fields`) and validated once
//! into typed settings, so a typo fails at start-up (and on reload) naming the key path.

use crate::auth::{Token, TokenSource};
use envfile_core::duration::{self, Bare};
use envfile_core::{Error, Format, LoadedConfig, Result};
use envfile_template::Template;
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The default TCP listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7390";

/// Parse an octal file mode written as a string (`"0400"`, `"660"`).
pub fn parse_mode(s: &str) -> std::result::Result<u32, String> {
    let t = s.trim().trim_start_matches("0o");
    u32::from_str_radix(t, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("`{s}` is not an octal file mode (write e.g. \"0400\")"))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBroker {
    listen: Option<String>,
    socket: Option<PathBuf>,
    socket_mode: Option<String>,
    socket_group: Option<String>,
    allow_remote: Option<bool>,
    token: Option<String>,
    max_connections: Option<usize>,
    max_request_bytes: Option<usize>,
    header_timeout: Option<String>,
    ttl: Option<String>,
    max_stale: Option<String>,
    max_entries: Option<usize>,
    max_wait: Option<String>,
    drain_timeout: Option<String>,
    audit: Option<String>,
    client_max_requests: Option<usize>,
    client_max_waits: Option<usize>,
    client_miss_rate: Option<f64>,
    client_miss_burst: Option<u32>,
    negative_ttl: Option<String>,
    /// Backend name → calls per second at most (`[default.broker.max_calls_per_second]`).
    #[serde(default)]
    max_calls_per_second: std::collections::BTreeMap<String, f64>,
    #[serde(default)]
    clients: Vec<RawClient>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClient {
    name: String,
    token: Option<String>,
    uid: Option<u32>,
    gid: Option<u32>,
    #[serde(default)]
    envfiles: Vec<String>,
    #[serde(default)]
    refs: Vec<String>,
    #[serde(default)]
    metrics: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSink {
    envfile: Option<String>,
    template: Option<PathBuf>,
    /// An inline template (the agent's `contents`), instead of `template = FILE`.
    contents: Option<String>,
    left_delimiter: Option<String>,
    right_delimiter: Option<String>,
    #[serde(default)]
    error_on_missing_key: bool,
    /// The agent's `create_dest_dirs`: a template sink creates its missing directories.
    #[serde(default)]
    create_dest_dirs: bool,
    path: PathBuf,
    format: Option<String>,
    mode: Option<String>,
    owner: Option<String>,
    group: Option<String>,
    command: Option<CommandSpec>,
    signal: Option<String>,
    pidfile: Option<PathBuf>,
}

/// A command to run when a sink changes: an argv array, or a string run with `sh -c`.
#[derive(Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(untagged)]
pub enum CommandSpec {
    /// Run with `sh -c`.
    Shell(String),
    /// Run directly.
    Argv(Vec<String>),
}

/// Where audit lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    /// No audit log.
    Off,
    /// Standard output (logs go to stderr, so the two never mix).
    Stdout,
    /// Appended to a file.
    File(PathBuf),
}

/// One client and what it may read.
#[derive(Clone)]
pub struct ClientGrant {
    /// A name for audit lines and metrics.
    pub name: String,
    /// The client's TCP token.
    pub token: Option<Token>,
    /// Socket peers with this uid match.
    pub uid: Option<u32>,
    /// Socket peers with this gid match.
    pub gid: Option<u32>,
    /// Env files it may read (`*` for all).
    pub envfiles: Vec<String>,
    /// Secret patterns it may read: `BACKEND:PATH`, a trailing `*` matches any suffix.
    pub refs: Vec<String>,
    /// Whether it may read `/metrics` (they name env files, backends and error counts).
    pub metrics: bool,
}

impl fmt::Debug for ClientGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientGrant")
            .field("name", &self.name)
            .field("token", &self.token.is_some())
            .field("uid", &self.uid)
            .field("gid", &self.gid)
            .field("envfiles", &self.envfiles)
            .field("refs", &self.refs)
            .field("metrics", &self.metrics)
            .finish()
    }
}

/// What to do after a sink file changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnChange {
    /// Nothing.
    Nothing,
    /// Run a command.
    Command(CommandSpec),
    /// Send a signal to the pid in a pidfile.
    Signal {
        /// The signal number.
        signal: i32,
        /// The pidfile.
        pidfile: PathBuf,
    },
}

/// What a sink writes.
#[derive(Debug, Clone)]
pub enum SinkSource {
    /// An env file in a render format.
    Envfile {
        /// The env file's name.
        name: String,
        /// The format.
        format: Format,
    },
    /// A Vault Agent (consul-template) template, parsed when the config is loaded.
    Template(Arc<Template>),
}

/// One `[[sinks]]` entry.
#[derive(Debug, Clone)]
pub struct SinkSpec {
    /// What it renders.
    pub source: SinkSource,
    /// The file it writes.
    pub path: PathBuf,
    /// The file mode (default 0400).
    pub mode: u32,
    /// Owner uid, if it should be changed.
    pub owner: Option<u32>,
    /// Group gid, if it should be changed.
    pub group: Option<u32>,
    /// What to do after a change.
    pub on_change: OnChange,
    /// Create the file's missing parent directories (mode 0755) before writing it: the
    /// agent's `create_dest_dirs`, taken by template sinks.
    pub create_dest_dirs: bool,
}

/// Command-line overrides (they win over `[broker]`).
#[derive(Default, Clone)]
pub struct Overrides {
    /// `--listen` (`off` disables TCP).
    pub listen: Option<String>,
    /// `--socket`.
    pub socket: Option<PathBuf>,
    /// `--allow-remote`.
    pub allow_remote: bool,
    /// `--token-file`.
    pub token_file: Option<PathBuf>,
    /// `ENVFILE_BROKER_TOKEN` (the CLI reads it; tests pass it directly).
    pub token_env: Option<Token>,
}

impl fmt::Debug for Overrides {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Overrides")
            .field("listen", &self.listen)
            .field("socket", &self.socket)
            .field("allow_remote", &self.allow_remote)
            .field("token_file", &self.token_file)
            .field("token_env", &self.token_env.is_some())
            .finish()
    }
}

/// The broker's validated settings.
#[derive(Clone)]
pub struct Settings {
    /// TCP listener, if any.
    pub listen: Option<SocketAddr>,
    /// Unix socket, if any.
    pub socket: Option<PathBuf>,
    /// The socket file's mode.
    pub socket_mode: u32,
    /// The socket file's group, when it should be changed (`socket_group`).
    pub socket_group: Option<u32>,
    /// The admin token (reads everything), required for TCP.
    pub token: Option<Token>,
    /// Per-client grants.
    pub clients: Vec<ClientGrant>,
    /// Open connections at most.
    pub max_connections: usize,
    /// Largest request head (and body) accepted.
    pub max_request_bytes: usize,
    /// Time allowed to send the request head.
    pub header_timeout: Duration,
    /// How long a value is fresh.
    pub ttl: Duration,
    /// How long a value is served while its backend fails.
    pub max_stale: Duration,
    /// Secrets cached at most.
    pub max_entries: usize,
    /// Longest `?wait=` honoured.
    pub max_wait: Duration,
    /// How long shutdown waits for open requests.
    pub drain_timeout: Duration,
    /// Audit log target.
    pub audit: AuditTarget,
    /// Sinks.
    pub sinks: Vec<SinkSpec>,
    /// What one restricted client may hold at once, so it cannot starve the others.
    pub client_limits: ClientLimits,
    /// How long a secret the backend said does not exist is answered from memory.
    pub negative_ttl: Duration,
    /// Per-backend ceilings on backend calls per second (backend name → rate).
    pub max_calls_per_second: std::collections::BTreeMap<String, f64>,
}

/// Per-client limits (restricted clients only: the admin and the broker's own uid are the
/// operator). Every in-flight request and long-poll of one client grant counts against it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClientLimits {
    /// Requests waiting on the cache, a backend or a change, at once.
    pub max_requests: usize,
    /// Of those, `?wait=` long-polls.
    pub max_waits: usize,
    /// Backend reads caused by cache misses, per second (sustained).
    pub miss_rate: f64,
    /// ... and in a burst.
    pub miss_burst: u32,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("socket", &self.socket)
            .field("socket_mode", &format_args!("{:04o}", self.socket_mode))
            .field("token", &self.token.is_some())
            .field("clients", &self.clients)
            .field("max_connections", &self.max_connections)
            .field("ttl", &self.ttl)
            .field("max_stale", &self.max_stale)
            .field("audit", &self.audit)
            .field("sinks", &self.sinks)
            .finish_non_exhaustive()
    }
}

fn dur(key: &str, v: &Option<String>, default: Duration) -> Result<Duration> {
    match v {
        None => Ok(default),
        Some(s) => duration::parse(s, Bare::Seconds)
            .map_err(|e| Error::config(format!("broker.{key}: {e}"))),
    }
}

impl Settings {
    /// Read `[broker]` and `[[sinks]]` from `cfg` and apply `over`.
    pub fn from_config(cfg: &LoadedConfig, over: &Overrides) -> Result<Self> {
        let raw: RawBroker = if cfg.config.broker.is_some() {
            cfg.extract("broker")?
        } else {
            RawBroker::default()
        };
        let raw_sinks: Vec<RawSink> = if cfg.config.sinks.is_some() {
            cfg.extract("sinks").map_err(|e| {
                e.with_hint(
                    "each [[sinks]] entry takes envfile (+ format) or template (or contents, \
                     left_delimiter, right_delimiter, error_on_missing_key, create_dest_dirs), \
                     path, mode, \
                     owner, group, and command or signal + pidfile",
                )
            })?
        } else {
            Vec::new()
        };
        let allow_remote = over.allow_remote || raw.allow_remote.unwrap_or(false);
        let listen_text = over
            .listen
            .clone()
            .or(raw.listen.clone())
            .unwrap_or_else(|| DEFAULT_LISTEN.to_owned());
        let listen = if listen_text == "off" || listen_text.is_empty() {
            None
        } else {
            let addr: SocketAddr = listen_text.parse().map_err(|_| {
                Error::config(format!(
                    "broker.listen: `{listen_text}` is not an address like 127.0.0.1:7390"
                ))
                .with_hint("write IP:PORT, or `off` to serve only on the unix socket")
            })?;
            if !addr.ip().is_loopback() && !allow_remote {
                return Err(Error::config(format!(
                    "broker.listen: {addr} is not a loopback address"
                ))
                .with_hint(
                    "the broker serves secrets: bind 127.0.0.1 or ::1, or pass --allow-remote \
                     (allow_remote = true) if something else protects the network",
                ));
            }
            Some(addr)
        };
        let socket = over.socket.clone().or(raw.socket.clone());
        let socket_mode = match &raw.socket_mode {
            None => 0o660,
            Some(m) => {
                parse_mode(m).map_err(|e| Error::config(format!("broker.socket_mode: {e}")))?
            }
        };
        let token = if let Some(t) = &over.token_env {
            Some(t.clone())
        } else if let Some(p) = &over.token_file {
            Some(Token::load(&TokenSource::File(p.clone()), "--token-file")?)
        } else if let Some(s) = &raw.token {
            Some(Token::load(
                &TokenSource::parse(s, "broker.token")?,
                "broker.token",
            )?)
        } else {
            None
        };
        let mut clients = Vec::new();
        for (i, c) in raw.clients.into_iter().enumerate() {
            let at = format!("broker.clients[{i}]");
            let token = match &c.token {
                Some(s) => {
                    let key = format!("{at}.token");
                    Some(Token::load(&TokenSource::parse(s, &key)?, &key)?)
                }
                None => None,
            };
            if token.is_none() && c.uid.is_none() && c.gid.is_none() {
                return Err(Error::config(format!(
                    "{at} (`{}`): names no token, uid or gid, so nobody can be this client",
                    c.name
                ))
                .with_hint("add token = \"file:///path\", uid = N or gid = N"));
            }
            for e in &c.envfiles {
                if e != "*" && !cfg.config.envfiles.contains_key(e) {
                    return Err(Error::config(format!(
                        "{at}.envfiles: no envfile named `{e}` in the config"
                    )));
                }
            }
            clients.push(ClientGrant {
                name: c.name,
                token,
                uid: c.uid,
                gid: c.gid,
                envfiles: c.envfiles,
                refs: c.refs,
                metrics: c.metrics,
            });
        }
        if listen.is_some() && token.is_none() && !clients.iter().any(|c| c.token.is_some()) {
            return Err(
                Error::config("the broker listens on TCP but no token is configured").with_hint(
                    "set ENVFILE_BROKER_TOKEN, pass --token-file FILE, set broker.token = \
                 \"file:///path\", or serve only on the socket with --listen off",
                ),
            );
        }
        if listen.is_none() && socket.is_none() {
            return Err(Error::config("the broker has no listener")
                .with_hint("pass --listen 127.0.0.1:PORT and/or --socket PATH"));
        }
        let ttl = dur("ttl", &raw.ttl, Duration::from_secs(300))?;
        let max_stale = dur("max_stale", &raw.max_stale, Duration::from_secs(3600))?;
        if ttl.is_zero() {
            return Err(Error::config("broker.ttl: must be more than 0s"));
        }
        if max_stale < ttl {
            return Err(Error::config(format!(
                "broker.max_stale ({max_stale:?}) is shorter than broker.ttl ({ttl:?})"
            ))
            .with_hint("max_stale bounds how old a served value may get; make it at least ttl"));
        }
        // A connection is a task, two buffers and a file descriptor; past this, the cap is
        // a mistake (and the connection semaphore could not count that far anyway).
        const MAX_CONNECTIONS: usize = 1 << 20;
        let max_connections = raw.max_connections.unwrap_or(1024).max(1);
        if max_connections > MAX_CONNECTIONS {
            return Err(Error::config(format!(
                "broker.max_connections ({max_connections}) is more than {MAX_CONNECTIONS}"
            ))
            .with_hint("the cap bounds how many local clients are served at once: a few thousand is plenty"));
        }
        let client_limits = client_limits(
            [raw.client_max_requests, raw.client_max_waits],
            raw.client_miss_rate,
            raw.client_miss_burst,
            max_connections,
        )?;
        let negative_ttl = dur("negative_ttl", &raw.negative_ttl, Duration::from_secs(5))?;
        for (name, rate) in &raw.max_calls_per_second {
            if !cfg.config.backends.contains_key(name) {
                return Err(Error::config(format!(
                    "broker.max_calls_per_second.{name}: no backend named `{name}`"
                ))
                .with_hint("key the table by backend names from [backends]"));
            }
            if !(rate.is_finite() && *rate > 0.0) {
                return Err(Error::config(format!(
                    "broker.max_calls_per_second.{name}: must be a number of calls per second, more than 0"
                )));
            }
        }
        let socket_group = match &raw.socket_group {
            None => None,
            Some(g) => Some(lookup_id("/etc/group", g).ok_or_else(|| {
                Error::config(format!("broker.socket_group: no group `{g}`"))
                    .with_hint("write a group name from /etc/group or a numeric gid")
            })?),
        };
        let audit = match raw.audit.as_deref() {
            None | Some("off") | Some("") => AuditTarget::Off,
            Some("stdout") | Some("-") => AuditTarget::Stdout,
            Some(p) => AuditTarget::File(PathBuf::from(p)),
        };
        let mut sinks = Vec::new();
        for (i, s) in raw_sinks.into_iter().enumerate() {
            sinks.push(sink(cfg, i, s)?);
        }
        Ok(Self {
            listen,
            socket,
            socket_mode,
            socket_group,
            token,
            clients,
            max_connections,
            max_request_bytes: raw.max_request_bytes.unwrap_or(16 * 1024).max(8192),
            header_timeout: dur(
                "header_timeout",
                &raw.header_timeout,
                Duration::from_secs(5),
            )?,
            ttl,
            max_stale,
            max_entries: raw.max_entries.unwrap_or(10_000).max(1),
            max_wait: dur("max_wait", &raw.max_wait, Duration::from_secs(300))?,
            drain_timeout: dur("drain_timeout", &raw.drain_timeout, Duration::from_secs(10))?,
            audit,
            sinks,
            client_limits,
            negative_ttl,
            max_calls_per_second: raw.max_calls_per_second,
        })
    }
}

/// The per-client limits, checked against the connection cap they live under.
fn client_limits(
    [requests, waits]: [Option<usize>; 2],
    miss_rate: Option<f64>,
    miss_burst: Option<u32>,
    max_connections: usize,
) -> Result<ClientLimits> {
    // By default one client may hold a quarter of the connections, and a sixteenth of them in
    // long-polls: with the default cap of 1024, 256 and 64.
    let max_requests = requests.unwrap_or((max_connections / 4).max(1));
    let max_waits = waits.unwrap_or((max_connections / 16).max(1).min(max_requests));
    if max_requests == 0 || max_requests > max_connections {
        return Err(Error::config(format!(
            "broker.client_max_requests ({max_requests}) must be between 1 and max_connections ({max_connections})"
        ))
        .with_hint("keep it well below max_connections, so one client cannot take every connection"));
    }
    if max_waits == 0 || max_waits > max_requests {
        return Err(Error::config(format!(
            "broker.client_max_waits ({max_waits}) must be between 1 and client_max_requests ({max_requests})"
        )));
    }
    let miss_rate = miss_rate.unwrap_or(20.0);
    if !(miss_rate.is_finite() && miss_rate > 0.0 && miss_rate <= 1e6) {
        return Err(Error::config(format!(
            "broker.client_miss_rate ({miss_rate}) must be a number of backend reads per second, more than 0"
        )));
    }
    let miss_burst = miss_burst.unwrap_or(50).max(1);
    Ok(ClientLimits {
        max_requests,
        max_waits,
        miss_rate,
        miss_burst,
    })
}

/// A sink's mode: no setuid, setgid or sticky bit, and no write for group or others (a secrets
/// file anyone may rewrite is a secrets file anyone may plant). Others reading it is allowed,
/// with a warning: sometimes a world-readable file is what a legacy app needs.
fn sink_mode(at: &str, path: &std::path::Path, text: &str) -> Result<u32> {
    let mode = parse_mode(text).map_err(|e| Error::config(format!("{at}.mode: {e}")))?;
    let name = path.display();
    if mode & 0o7000 != 0 {
        return Err(Error::config(format!(
            "{at}.mode: `{text}` for sink {name} sets the setuid, setgid or sticky bit"
        ))
        .with_hint("a sink is a data file: write a mode like \"0400\" or \"0440\""));
    }
    if mode & 0o022 != 0 {
        return Err(Error::config(format!(
            "{at}.mode: `{text}` for sink {name} lets group or others write the secrets file"
        ))
        .with_hint("drop the write bits for group and others, e.g. \"0640\" or \"0440\""));
    }
    if mode & 0o004 != 0 {
        tracing::warn!(sink = %name, mode = %format_args!("{mode:04o}"), "{at}.mode: every user on the host may read this sink's secrets");
    }
    Ok(mode)
}

fn sink(cfg: &LoadedConfig, i: usize, s: RawSink) -> Result<SinkSpec> {
    let at = format!("sinks[{i}]");
    let options = envfile_template::Options {
        left_delimiter: s.left_delimiter.unwrap_or_else(|| "{{".into()),
        right_delimiter: s.right_delimiter.unwrap_or_else(|| "}}".into()),
        error_on_missing_key: s.error_on_missing_key,
    };
    let template = match (s.template, s.contents) {
        (Some(t), None) => Some(load_template(&at, &t, &options)?),
        (None, Some(text)) => Some(Template::parse_with(
            format!("{at}.contents"),
            text,
            &options,
        )?),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(Error::config(format!(
                "{at}: set either template or contents, not both"
            )))
        }
    };
    let source = match (s.envfile, template) {
        (Some(name), None) => {
            if s.create_dest_dirs {
                return Err(Error::config(format!(
                    "{at}.create_dest_dirs: only a template sink takes it (the agent's option)"
                ))
                .with_hint("create the sink's directory, or remove create_dest_dirs"));
            }
            if !cfg.config.envfiles.contains_key(&name) {
                return Err(Error::config(format!(
                    "{at}.envfile: no envfile named `{name}` in the config"
                )));
            }
            let format: Format = match &s.format {
                None => Format::Dotenv,
                Some(f) => f
                    .parse()
                    .map_err(|e: Error| Error::config(format!("{at}.format: {}", e.message())))?,
            };
            SinkSource::Envfile { name, format }
        }
        (None, Some(t)) => {
            if s.format.is_some() {
                return Err(Error::config(format!(
                    "{at}.format: a template sink writes what its template renders"
                ))
                .with_hint("remove format, or render an env file with envfile = \"NAME\""));
            }
            SinkSource::Template(Arc::new(t))
        }
        (None, None) => {
            return Err(
                Error::config(format!("{at}: names neither an envfile nor a template"))
                    .with_hint("add envfile = \"NAME\" or template = \"path/to/file.tmpl\""),
            )
        }
        (Some(_), Some(_)) => {
            return Err(Error::config(format!(
                "{at}: set either envfile or template, not both"
            )))
        }
    };
    let mode = match &s.mode {
        None => 0o400,
        Some(m) => sink_mode(&at, &s.path, m)?,
    };
    let owner = match &s.owner {
        None => None,
        Some(o) => Some(lookup_id("/etc/passwd", o).ok_or_else(|| {
            Error::config(format!("{at}.owner: no user `{o}`"))
                .with_hint("write a user name from /etc/passwd or a numeric uid")
        })?),
    };
    let group = match &s.group {
        None => None,
        Some(g) => Some(lookup_id("/etc/group", g).ok_or_else(|| {
            Error::config(format!("{at}.group: no group `{g}`"))
                .with_hint("write a group name from /etc/group or a numeric gid")
        })?),
    };
    let on_change = match (s.command, s.signal, s.pidfile) {
        (None, None, None) => OnChange::Nothing,
        (Some(c), None, None) => OnChange::Command(c),
        (None, sig, Some(pidfile)) => OnChange::Signal {
            signal: parse_signal(sig.as_deref().unwrap_or("HUP"))
                .map_err(|e| Error::config(format!("{at}.signal: {e}")))?,
            pidfile,
        },
        (None, Some(_), None) => {
            return Err(Error::config(format!("{at}.signal: needs a pidfile"))
                .with_hint("add pidfile = \"/run/app.pid\""))
        }
        (Some(_), _, _) => {
            return Err(Error::config(format!(
                "{at}: set either command or signal + pidfile, not both"
            )))
        }
    };
    Ok(SinkSpec {
        source,
        path: s.path,
        mode,
        owner,
        group,
        on_change,
        create_dest_dirs: s.create_dest_dirs,
    })
}

/// Read and parse a sink's template (a syntax error names the file, line and column). Read at
/// load time so a broken template fails start-up and a reload, never a refresh.
fn load_template(
    at: &str,
    path: &std::path::Path,
    options: &envfile_template::Options,
) -> Result<Template> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::from(e)
            .with_reference(path.display().to_string())
            .with_hint(format!(
                "{at}.template: cannot read {}; the path is relative to the working directory",
                path.display()
            ))
    })?;
    Template::parse_with(path.display().to_string(), text, options)
}

/// A signal by name (`HUP`, `SIGUSR1`) or number.
pub fn parse_signal(s: &str) -> std::result::Result<i32, String> {
    if let Ok(n) = s.parse::<i32>() {
        return Ok(n);
    }
    let name = s.trim_start_matches("SIG");
    Ok(match name {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "TERM" => libc::SIGTERM,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "KILL" => libc::SIGKILL,
        _ => {
            return Err(format!(
                "unknown signal `{s}` (use HUP, USR1, USR2, TERM, …)"
            ))
        }
    })
}

/// A numeric id, or a name looked up in a passwd/group-format file (no NSS: sidecars run in
/// minimal images where the files are the whole database).
fn lookup_id(db: &str, name: &str) -> Option<u32> {
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    let text = std::fs::read_to_string(db).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.next()?;
        f.next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overflowing_duration_is_a_config_error_naming_the_key() {
        let base = "[default.broker]\nlisten = \"off\"\nsocket = \"/tmp/x.sock\"\n";
        for key in [
            "max_wait",
            "ttl",
            "max_stale",
            "header_timeout",
            "drain_timeout",
        ] {
            let e = load(&format!("{base}{key} = \"99999999999999999999\"\n")).unwrap_err();
            assert_eq!(e.kind(), envfile_core::ErrorKind::Config, "{e}");
            assert!(e.message().contains(&format!("broker.{key}")), "{e}");
            assert!(e.message().contains("100 years"), "{e}");
        }
        // Bare seconds, as before.
        let s = load(&format!("{base}max_wait = \"7\"\n")).unwrap();
        assert_eq!(s.max_wait, Duration::from_secs(7));
    }

    #[test]
    fn sink_modes_refuse_special_bits_and_foreign_writes() {
        let base = "[default.broker]\nlisten = \"off\"\nsocket = \"/tmp/x.sock\"\n\
                    [default.envfiles.app]\nvars.A = { value = \"x\" }\n";
        let sink = |mode: &str| {
            load(&format!(
                "{base}[[default.sinks]]\nenvfile = \"app\"\npath = \"/tmp/app.env\"\nmode = \"{mode}\"\n"
            ))
        };
        for bad in [
            "6777", "4400", "2440", "1400", "0660", "0602", "0620", "0777",
        ] {
            let e = sink(bad).unwrap_err();
            assert!(e.message().contains("sinks[0].mode"), "{bad}: {e}");
            assert!(e.message().contains("/tmp/app.env"), "{bad}: {e}");
        }
        for good in ["0400", "0440", "0640", "0600", "0644"] {
            assert!(sink(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn client_limits_are_checked_against_the_connection_cap() {
        let base =
            "[default.broker]\nlisten = \"off\"\nsocket = \"/tmp/x.sock\"\nmax_connections = 64\n";
        let s = load(base).unwrap();
        assert_eq!(s.client_limits.max_requests, 16);
        assert_eq!(s.client_limits.max_waits, 4);
        let e = load(&format!("{base}client_max_requests = 65\n")).unwrap_err();
        assert!(e.message().contains("broker.client_max_requests"), "{e}");
        let e = load(&format!("{base}client_max_waits = 17\n")).unwrap_err();
        assert!(e.message().contains("broker.client_max_waits"), "{e}");
        let e = load(&format!("{base}client_miss_rate = -1.0\n")).unwrap_err();
        assert!(e.message().contains("broker.client_miss_rate"), "{e}");
        let e = load(&format!("{base}socket_group = \"no-such-group-here\"\n")).unwrap_err();
        assert!(e.message().contains("broker.socket_group"), "{e}");
        assert_eq!(
            load(&format!("{base}socket_group = \"4321\"\n"))
                .unwrap()
                .socket_group,
            Some(4321)
        );
    }

    #[test]
    fn modes_are_octal() {
        assert_eq!(parse_mode("0400").unwrap(), 0o400);
        assert_eq!(parse_mode("660").unwrap(), 0o660);
        assert!(parse_mode("0999").is_err());
    }

    #[test]
    fn call_ceilings_name_configured_backends_and_positive_rates() {
        let base = "[default.backends.aws]\nkind = \"aws\"\n[default.broker]\nlisten = \"off\"\n\
                    socket = \"/tmp/x.sock\"\n[default.broker.max_calls_per_second]\n";
        let s = load(&format!("{base}aws = 20\n")).unwrap();
        assert_eq!(s.max_calls_per_second.get("aws"), Some(&20.0));
        let e = load(&format!("{base}vault = 20\n")).unwrap_err();
        assert!(
            e.message()
                .contains("broker.max_calls_per_second.vault: no backend named `vault`"),
            "{e}"
        );
        for bad in ["0", "-1.0", "nan"] {
            let e = load(&format!("{base}aws = {bad}\n")).unwrap_err();
            assert!(
                e.message().contains("broker.max_calls_per_second.aws"),
                "{bad}: {e}"
            );
        }
    }

    fn load(toml: &str) -> Result<Settings> {
        let cfg = envfile_core::config::load_str(toml, None)?;
        Settings::from_config(&cfg, &Overrides::default())
    }

    #[test]
    fn tcp_without_a_token_is_refused() {
        let e = load("[default.broker]\nlisten = \"127.0.0.1:0\"\n").unwrap_err();
        assert!(e.message().contains("no token"), "{e}");
    }

    #[test]
    fn an_absurd_connection_cap_is_refused() {
        let base = "[default.broker]\nlisten = \"off\"\nsocket = \"/tmp/x.sock\"\n";
        let e = load(&format!("{base}max_connections = 100000000\n")).unwrap_err();
        assert!(e.message().contains("broker.max_connections"), "{e}");
        let s = load(&format!("{base}max_connections = 4096\n")).unwrap();
        assert_eq!(s.max_connections, 4096);
    }

    #[test]
    fn a_remote_bind_needs_allow_remote() {
        let e = load("[default.broker]\nlisten = \"0.0.0.0:7390\"\n").unwrap_err();
        assert!(e.message().contains("loopback"), "{e}");
    }

    #[test]
    fn unknown_keys_and_bad_durations_name_the_key() {
        let e = load("[default.broker]\nlisen = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("lisen"), "{e}");
        let e =
            load("[default.broker]\nlisten = \"off\"\nsocket = \"/tmp/x\"\nttl = \"5 weeks\"\n")
                .unwrap_err();
        assert!(e.message().contains("broker.ttl"), "{e}");
    }

    #[test]
    fn sinks_are_read_from_the_array_and_validated() {
        let base = "[default.broker]\nlisten = \"off\"\nsocket = \"/tmp/x.sock\"\n\
                    [default.envfiles.app]\nvars.A = { value = \"x\" }\n";
        let s = load(&format!(
            "{base}[[default.sinks]]\nenvfile = \"app\"\npath = \"/tmp/app.env\"\n\
             format = \"shell\"\nmode = \"0440\"\nsignal = \"USR1\"\npidfile = \"/run/a.pid\"\n"
        ))
        .unwrap();
        assert_eq!(s.sinks.len(), 1);
        assert!(matches!(
            &s.sinks[0].source,
            SinkSource::Envfile { name, format: Format::Shell } if name == "app"
        ));
        assert_eq!(s.sinks[0].mode, 0o440);
        assert!(
            matches!(s.sinks[0].on_change, OnChange::Signal { signal, .. } if signal == libc::SIGUSR1)
        );
        let e = load(&format!(
            "{base}[[default.sinks]]\nenvfile = \"nope\"\npath = \"/tmp/x\"\n"
        ))
        .unwrap_err();
        assert!(e.message().contains("sinks[0].envfile"), "{e}");
        let e = load(&format!(
            "{base}[[default.sinks]]\nenvfile = \"app\"\npath = \"/tmp/x\"\nmdoe = \"0400\"\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("mdoe"), "{e}");
    }

    #[test]
    fn template_sinks_are_parsed_at_load_and_exclusive_with_envfile() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.tmpl");
        std::fs::write(
            &good,
            "{{ with secret \"kv/data/app\" }}{{ .Data.data.k }}{{ end }}\n",
        )
        .unwrap();
        let bad = dir.path().join("bad.tmpl");
        std::fs::write(&bad, "line one\n{{ if }}\n").unwrap();
        let base = "[default.broker]\nlisten = \"off\"\nsocket = \"/tmp/x.sock\"\n\
                    [default.envfiles.app]\nvars.A = { value = \"x\" }\n";
        let sink = |body: String| {
            load(&format!(
                "{base}[[default.sinks]]\npath = \"/tmp/o\"\n{body}"
            ))
        };
        let s = sink(format!("template = \"{}\"\n", good.display())).unwrap();
        assert!(matches!(&s.sinks[0].source, SinkSource::Template(_)));

        let e = sink(format!("template = \"{}\"\n", bad.display())).unwrap_err();
        assert!(e.message().contains("bad.tmpl:2:"), "{e}");
        let e = sink(format!(
            "template = \"{}\"\n",
            dir.path().join("nope").display()
        ))
        .unwrap_err();
        assert!(e.to_string().contains("sinks[0].template"), "{e}");
        let e = sink(format!(
            "envfile = \"app\"\ntemplate = \"{}\"\n",
            good.display()
        ))
        .unwrap_err();
        assert!(e.message().contains("not both"), "{e}");
        let e = sink(String::new()).unwrap_err();
        assert!(e.message().contains("neither"), "{e}");
        let e = sink(format!(
            "template = \"{}\"\nformat = \"shell\"\n",
            good.display()
        ))
        .unwrap_err();
        assert!(e.message().contains("sinks[0].format"), "{e}");

        // The agent's options: inline contents and delimiters; a syntax error names the sink.
        let s = sink("contents = \"[[ 1 ]] {{ x }}\"\nleft_delimiter = \"[[\"\nright_delimiter = \"]]\"\nerror_on_missing_key = true\n".into()).unwrap();
        assert!(matches!(&s.sinks[0].source, SinkSource::Template(_)));
        assert!(!s.sinks[0].create_dest_dirs);
        let d = sink("contents = \"x\"\ncreate_dest_dirs = true\n".into()).unwrap();
        assert!(d.sinks[0].create_dest_dirs);
        let e = sink("envfile = \"app\"\ncreate_dest_dirs = true\n".into()).unwrap_err();
        assert!(e.message().contains("only a template sink"), "{e}");
        let e = sink("contents = \"{{ if }}\"\n".into()).unwrap_err();
        assert!(e.message().contains("sinks[0].contents:1:"), "{e}");
        let e = sink(format!(
            "contents = \"x\"\ntemplate = \"{}\"\n",
            good.display()
        ))
        .unwrap_err();
        assert!(e.message().contains("template or contents"), "{e}");
    }

    #[test]
    fn socket_only_needs_no_token_and_defaults_apply() {
        let s = load("[default.broker]\nlisten = \"off\"\nsocket = \"/tmp/x.sock\"\n").unwrap();
        assert_eq!(s.listen, None);
        assert_eq!(s.socket_mode, 0o660);
        assert_eq!(s.ttl, Duration::from_secs(300));
    }
}
