//! The broker's settings: `[broker]`, `[[broker.clients]]` and `[[sinks]]` from the config,
//! plus command-line overrides. Raw structs are strict (`deny_unknown_fields`) and validated once
//! into typed settings, so a typo fails at start-up (and on reload) naming the key path.

use crate::auth::{Token, TokenSource};
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

/// Parse a duration written like `250ms`, `30s`, `5m`, `2h`, `1d` (or a bare number of seconds).
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (write e.g. `30s`, `5m`, `250ms`)"))?;
    let secs = match unit.trim() {
        "" | "s" | "sec" | "secs" => n,
        "ms" => n / 1000.0,
        "m" | "min" | "mins" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        other => {
            return Err(format!(
                "`{s}`: unknown unit `{other}` (use ms, s, m, h or d)"
            ))
        }
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("`{s}` is not a non-negative duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

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
        Some(s) => parse_duration(s).map_err(|e| Error::config(format!("broker.{key}: {e}"))),
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
                     left_delimiter, right_delimiter, error_on_missing_key), path, mode, \
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
        })
    }
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
        Some(m) => parse_mode(m).map_err(|e| Error::config(format!("{at}.mode: {e}")))?,
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
    fn durations_parse_in_the_usual_units() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert!(parse_duration("5 parsecs").unwrap_err().contains("parsecs"));
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn modes_are_octal() {
        assert_eq!(parse_mode("0400").unwrap(), 0o400);
        assert_eq!(parse_mode("660").unwrap(), 0o660);
        assert!(parse_mode("0999").is_err());
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
