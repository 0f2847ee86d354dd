//! Listeners: TCP (loopback unless allowed otherwise) and a unix socket, served with hyper's
//! HTTP/1.1 connection driver under a connection cap, a header read timeout and a head-size
//! limit. Shutdown stops accepting, removes the socket file, and lets open requests finish for up
//! to `drain_timeout` ([`crate::drain`]): every connection holds a permit of the cap until it
//! ends, so all permits back means all connections closed.

use crate::auth::Peer;
use crate::config::Settings;
use crate::drain::Drain;
use crate::routes;
use crate::Shared;
use envfile_core::{Error, ErrorKind, Result};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{watch, Semaphore};

/// Where the broker ended up listening (port 0 resolved).
#[derive(Debug, Clone, Default)]
pub struct Bound {
    /// The TCP address.
    pub tcp: Option<SocketAddr>,
    /// The unix socket path.
    pub socket: Option<PathBuf>,
}

/// Bound, not yet serving.
pub struct Listeners {
    tcp: Option<TcpListener>,
    unix: Option<(UnixListener, PathBuf)>,
}

impl Listeners {
    /// The addresses.
    pub fn bound(&self) -> Bound {
        Bound {
            tcp: self.tcp.as_ref().and_then(|l| l.local_addr().ok()),
            socket: self.unix.as_ref().map(|(_, p)| p.clone()),
        }
    }
}

/// Bind what the settings ask for.
pub async fn bind(s: &Settings) -> Result<Listeners> {
    let tcp = match s.listen {
        Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| {
            Error::from(e).with_hint(format!(
                "cannot listen on {addr}: is another broker running? pick another port with --listen"
            ))
        })?),
        None => None,
    };
    let unix = match &s.socket {
        Some(p) => Some((bind_socket(p, s.socket_mode, s.socket_group)?, p.clone())),
        None => None,
    };
    Ok(Listeners { tcp, unix })
}

/// Replace a stale socket only when it is a socket and nothing answers on it; bind under a
/// temporary name, set the mode (and group, with `socket_group`: a broker run as root serves
/// its uid-granted clients through a 0660 socket of their group, not a 0666 one), then rename
/// into place, so the socket is never reachable with the umask's looser mode.
fn bind_socket(path: &Path, mode: u32, group: Option<u32>) -> Result<UnixListener> {
    let hint = |what: &str| format!("socket {}: {what}", path.display());
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            match std::os::unix::net::UnixStream::connect(path) {
                Ok(_) => {
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!("another process is listening on {}", path.display()),
                    )
                    .with_hint("stop the other broker, or choose another --socket path"))
                }
                Err(_) => {
                    tracing::info!(socket = %path.display(), "replacing a stale socket");
                    std::fs::remove_file(path).map_err(|e| {
                        Error::from(e).with_hint(hint("cannot remove the stale socket"))
                    })?;
                }
            }
        }
        Ok(_) => {
            return Err(Error::new(
                ErrorKind::Io,
                format!("{} exists and is not a socket", path.display()),
            )
            .with_hint(
                "refusing to replace it: remove it yourself or choose another --socket path",
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::from(e).with_hint(hint("cannot inspect the path"))),
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    let l = UnixListener::bind(&tmp)
        .map_err(|e| Error::from(e).with_hint(hint("cannot bind (does the directory exist?)")))?;
    let done = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
        .map_err(|e| (e, "cannot set its mode"))
        .and_then(|_| match group {
            Some(g) => std::os::unix::fs::chown(&tmp, None, Some(g)).map_err(|e| {
                (
                    e,
                    "cannot give it to broker.socket_group (the broker must be root or a member)",
                )
            }),
            None => Ok(()),
        })
        .and_then(|_| std::fs::rename(&tmp, path).map_err(|e| (e, "cannot move it into place")));
    if let Err((e, what)) = done {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::from(e).with_hint(hint(what)));
    }
    Ok(l)
}

/// Accept and serve until `stop` turns true, then drain.
pub async fn serve(listeners: Listeners, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let settings = shared.current().settings.clone();
    let sem = Arc::new(Semaphore::new(settings.max_connections));
    let drain = Drain::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout)
        .max_buf_size(settings.max_request_bytes)
        .keep_alive(true);
    let Listeners { tcp, unix } = listeners;
    let per_uid = Arc::new(PerUid {
        max: settings.client_limits.max_requests,
        held: Mutex::new(HashMap::new()),
    });
    let socket_path = unix.as_ref().map(|(_, p)| p.clone());
    loop {
        let permit = tokio::select! {
            p = sem.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let accepted = tokio::select! {
            r = accept_tcp(tcp.as_ref()) => r.map(Conn::Tcp),
            r = accept_unix(unix.as_ref().map(|(l, _)| l)) => r.map(Conn::Unix),
            _ = stop.changed() => break,
        };
        let conn = match accepted {
            Ok(c) => c,
            Err(e) => {
                // EMFILE and friends: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared2 = shared.clone();
        match conn {
            Conn::Tcp(stream) => {
                let _ = stream.set_nodelay(true);
                let svc = service_fn(move |req| routes::handle(req, Peer::Tcp, &shared2));
                let fut = drain.track(builder.serve_connection(TokioIo::new(stream), svc));
                tokio::spawn(async move {
                    let _ = fut.await;
                    drop(permit);
                });
            }
            Conn::Unix(stream) => {
                let peer = match stream.peer_cred() {
                    Ok(c) => Peer::Unix {
                        uid: c.uid(),
                        gid: c.gid(),
                        pid: c.pid(),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the socket peer's credentials");
                        continue;
                    }
                };
                // A socket peer is known before it sends anything: one uid may hold only so
                // many connections, idle ones included, so it cannot take the others'.
                let held = match peer {
                    Peer::Unix { uid, .. } if !shared.current().auth.is_operator_uid(uid) => {
                        match per_uid.hold(uid) {
                            Some(h) => Some(h),
                            None => {
                                tracing::warn!(uid, "socket peer holds its limit of connections; closing the new one");
                                continue;
                            }
                        }
                    }
                    _ => None,
                };
                let svc = service_fn(move |req| routes::handle(req, peer, &shared2));
                let fut = drain.track(builder.serve_connection(TokioIo::new(stream), svc));
                tokio::spawn(async move {
                    let _ = fut.await;
                    drop(held);
                    drop(permit);
                });
            }
        }
    }
    drop(tcp);
    drop(unix);
    if let Some(p) = socket_path {
        let _ = std::fs::remove_file(p);
    }
    drain.stop();
    let every_permit = u32::try_from(settings.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(settings.drain_timeout, sem.acquire_many(every_permit))
        .await
        .is_err()
    {
        tracing::warn!("drain timed out; closing open connections");
    }
}

/// Open socket connections per peer uid.
struct PerUid {
    max: usize,
    held: Mutex<HashMap<u32, usize>>,
}

/// One connection of a uid; counted until dropped.
struct Held(Arc<PerUid>, u32);

impl PerUid {
    fn hold(self: &Arc<Self>, uid: u32) -> Option<Held> {
        let mut m = self.held.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(uid).or_default();
        (*n < self.max).then(|| {
            *n += 1;
            Held(self.clone(), uid)
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut m = self.0.held.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.1);
            }
        }
    }
}

enum Conn {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

async fn accept_tcp(l: Option<&TcpListener>) -> std::io::Result<tokio::net::TcpStream> {
    match l {
        Some(l) => l.accept().await.map(|(s, _)| s),
        None => std::future::pending().await,
    }
}

async fn accept_unix(l: Option<&UnixListener>) -> std::io::Result<tokio::net::UnixStream> {
    match l {
        Some(l) => l.accept().await.map(|(s, _)| s),
        None => std::future::pending().await,
    }
}
