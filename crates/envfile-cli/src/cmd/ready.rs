//! `envfile ready`: ask a running broker whether it is ready (`/readyz`) or alive (`/healthz`),
//! for container probes.
//!
//! Why a command and not `httpGet`: a Kubernetes httpGet probe is sent by the kubelet from the
//! node, so it cannot reach a listener on the pod's loopback, and a socket-only broker has no
//! port at all. An exec probe runs inside the container, where the socket is. Both routes need
//! no credentials and name nothing, so the probe needs no token.

use crate::context::GlobalArgs;
use crate::exit::Failure;
use envfile_core::{Error, ErrorKind};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The most of a response read: the probe routes answer a status line, a few headers and a
/// one-line body; a peer sending more is not the broker.
const MAX_RESPONSE: usize = 8192;

/// Arguments of `envfile ready`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Exits 0 when the broker answers 200, 3 when it is not ready or cannot be reached.
Without --socket or --addr, the broker's socket (else its TCP address) comes from the config's
[broker] table.

Examples (Kubernetes exec probes):
  envfile ready --socket /run/envfile/broker.sock
  envfile ready --live --socket /run/envfile/broker.sock
  envfile --config /etc/envfile/envfile.toml ready")]
pub struct Args {
    /// The broker's unix socket.
    #[arg(long, value_name = "PATH", conflicts_with = "addr")]
    pub socket: Option<PathBuf>,
    /// The broker's TCP address (IP:PORT).
    #[arg(long, value_name = "ADDR")]
    pub addr: Option<SocketAddr>,
    /// Ask `/healthz` (the process serves) instead of `/readyz` (every env file resolved and
    /// every template sink rendered, none older than max_stale).
    #[arg(long)]
    pub live: bool,
    /// How long to wait for the answer (`500ms`, `2s`).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_timeout)]
    pub timeout: Duration,
}

fn parse_timeout(s: &str) -> Result<Duration, String> {
    crate::supervise::duration::parse_nonzero(s)
}

/// Where the broker listens.
#[derive(Debug)]
enum Target {
    Socket(PathBuf),
    Tcp(SocketAddr),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Socket(p) => write!(f, "unix:{}", p.display()),
            Target::Tcp(a) => write!(f, "http://{a}"),
        }
    }
}

/// Run `envfile ready`.
pub async fn run(args: Args, global: &GlobalArgs) -> Result<(), Failure> {
    let target = match (&args.socket, args.addr) {
        (Some(p), _) => Target::Socket(p.clone()),
        (None, Some(a)) => Target::Tcp(a),
        (None, None) => from_config(global)?,
    };
    let path = if args.live { "/healthz" } else { "/readyz" };
    let answer = tokio::time::timeout(args.timeout, ask(&target, path)).await;
    let (status, body) = match answer {
        Err(_) => {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "the broker at {target} did not answer {path} within {:?}",
                    args.timeout
                ),
            )
            .into())
        }
        Ok(Err(e)) => {
            return Err(Error::new(
                ErrorKind::Unavailable,
                format!("cannot ask the broker at {target} for {path}: {e}"),
            )
            .with_hint("is `envfile serve` running, with this socket or address?")
            .into())
        }
        Ok(Ok(answer)) => answer,
    };
    if status == 200 {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Unavailable,
        format!(
            "the broker at {target} answered {path} with {status}: {}",
            body.trim()
        ),
    )
    .into())
}

/// The socket (else the TCP address) the config's `[broker]` table names, validated as
/// `envfile serve` would.
fn from_config(global: &GlobalArgs) -> Result<Target, Error> {
    use envfile_broker::{Overrides, Settings};
    let cfg = global.load_config()?;
    // The socket first: with TCP off, the settings need no broker token to be valid.
    let socket_only = Overrides {
        listen: Some("off".into()),
        ..Overrides::default()
    };
    if let Ok(Settings {
        socket: Some(p), ..
    }) = Settings::from_config(&cfg, &socket_only)
    {
        return Ok(Target::Socket(p));
    }
    match Settings::from_config(&cfg, &Overrides::default())? {
        Settings {
            socket: Some(p), ..
        } => Ok(Target::Socket(p)),
        Settings {
            listen: Some(a), ..
        } => Ok(Target::Tcp(a)),
        _ => Err(
            Error::config("the config's [broker] has no socket and no listen address")
                .with_hint("pass --socket PATH or --addr IP:PORT"),
        ),
    }
}

async fn ask(target: &Target, path: &str) -> std::io::Result<(u16, String)> {
    match target {
        Target::Socket(p) => exchange(tokio::net::UnixStream::connect(p).await?, path).await,
        Target::Tcp(a) => exchange(tokio::net::TcpStream::connect(a).await?, path).await,
    }
}

/// One HTTP/1.1 GET with `Connection: close`, read to the end (at most [`MAX_RESPONSE`] bytes).
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    path: &str,
) -> std::io::Result<(u16, String)> {
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::with_capacity(512);
    (&mut stream)
        .take(MAX_RESPONSE as u64)
        .read_to_end(&mut buf)
        .await?;
    parse_response(&buf).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the answer is not an HTTP response",
        )
    })
}

/// The status code and body of an HTTP/1.x response.
fn parse_response(buf: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(buf);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status_line = head.lines().next()?;
    let mut parts = status_line.split(' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?.parse().ok()?;
    Some((code, body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::parse_response;

    #[test]
    fn parses_status_and_body() {
        let r = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 3\r\n\r\n0/1";
        assert_eq!(parse_response(r), Some((503, "0/1".to_owned())));
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\n\r\n"),
            Some((200, String::new()))
        );
        assert_eq!(parse_response(b"SSH-2.0-OpenSSH\r\n"), None);
        assert_eq!(parse_response(b"HTTP/1.1 abc OK\r\n\r\n"), None);
    }
}
