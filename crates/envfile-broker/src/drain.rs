//! Draining open connections at shutdown.
//!
//! Each connection runs as its own task wrapped in a [`Tracked`] future. The first time it is
//! polled it leaves its task's waker with the [`Drain`]; when the broker stops, the drain wakes
//! every registered connection, and each one, at its next poll, tells hyper to finish the
//! request in progress (if any) and close. Waiting for them all to end is the listener's
//! business (it holds a connection permit per connection).
//!
//! Why not hyper-util's `GracefulShutdown`: it polls a `watch` channel every time a connection is
//! woken — about twice per request — and that showed in the profile of a cached read. Here a
//! poll costs one atomic load; the lock is taken once when a connection opens and once when it
//! closes.

use hyper_util::server::graceful::GracefulConnection;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// The shared stop signal and the wakers of open connections.
#[derive(Default)]
pub struct Drain {
    stopping: AtomicBool,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    next: u64,
    wakers: HashMap<u64, Waker>,
}

impl Drain {
    /// A drain with no connections.
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Ask every open connection (and any that registers later) to close after its current
    /// request.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::Release);
        let wakers = std::mem::take(&mut self.lock().wakers);
        for (_, w) in wakers {
            w.wake();
        }
    }

    /// Whether [`Drain::stop`] was called.
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Wrap a connection so that it closes gracefully once the drain stops.
    pub fn track<C>(self: &Arc<Self>, conn: C) -> Tracked<C> {
        Tracked {
            conn,
            drain: self.clone(),
            slot: None,
            closing: false,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn register(&self, waker: &Waker) -> u64 {
        let mut open = self.lock();
        let id = open.next;
        open.next += 1;
        open.wakers.insert(id, waker.clone());
        id
    }

    /// How many connections have a waker registered.
    #[cfg(test)]
    fn registered(&self) -> usize {
        self.lock().wakers.len()
    }
}

/// A connection that closes gracefully when its [`Drain`] stops.
pub struct Tracked<C> {
    conn: C,
    drain: Arc<Drain>,
    slot: Option<u64>,
    closing: bool,
}

impl<C> Future for Tracked<C>
where
    C: GracefulConnection + Unpin,
{
    type Output = C::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<C::Output> {
        let this = &mut *self;
        if !this.closing {
            if this.slot.is_none() && !this.drain.stopping() {
                // A spawned task's waker stays the same for the task's life, and this future is
                // always a task's outermost one: registering it once is enough.
                this.slot = Some(this.drain.register(cx.waker()));
            }
            // Checked after registering, so a stop between the two is not missed.
            if this.drain.stopping() {
                this.closing = true;
                Pin::new(&mut this.conn).graceful_shutdown();
            }
        }
        Pin::new(&mut this.conn).poll(cx)
    }
}

impl<C> Drop for Tracked<C> {
    fn drop(&mut self) {
        if let Some(id) = self.slot {
            self.drain.lock().wakers.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use std::convert::Infallible;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A hyper connection over an in-memory pipe; the other end plays the client.
    fn connection() -> (
        impl GracefulConnection<Output = Result<(), hyper::Error>> + Unpin,
        tokio::io::DuplexStream,
    ) {
        let (server, client) = tokio::io::duplex(4096);
        let svc = service_fn(|_req| async {
            Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"ok"))))
        });
        let conn = http1::Builder::new().serve_connection(TokioIo::new(server), svc);
        (conn, client)
    }

    #[tokio::test]
    async fn an_idle_connection_closes_when_the_drain_stops() {
        let drain = Drain::new();
        let (conn, mut client) = connection();
        let task = tokio::spawn(drain.track(conn));
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 256];
        let n = client.read(&mut buf).await.unwrap();
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "served before the stop"
        );
        assert_eq!(drain.registered(), 1);
        // The connection is idle in keep-alive; only the drain can end it.
        drain.stop();
        let done = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        assert!(
            matches!(done, Ok(Ok(Ok(())))),
            "closed gracefully: {done:?}"
        );
        assert_eq!(
            client.read(&mut buf).await.unwrap(),
            0,
            "the client sees EOF"
        );
        assert_eq!(
            drain.registered(),
            0,
            "a closed connection leaves nothing behind"
        );
    }

    #[tokio::test]
    async fn a_connection_opened_after_the_stop_closes_too() {
        let drain = Drain::new();
        drain.stop();
        let (conn, mut client) = connection();
        let task = tokio::spawn(drain.track(conn));
        let done = tokio::time::timeout(std::time::Duration::from_secs(5), task).await;
        assert!(matches!(done, Ok(Ok(Ok(())))), "{done:?}");
        let mut buf = [0u8; 16];
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        assert_eq!(drain.registered(), 0);
    }
}
