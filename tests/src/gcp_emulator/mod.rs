//! `SecretManagerEmulator`: an in-process emulator of the GCP Secret Manager v1 REST API, for
//! tests. No usable emulator exists in the package registries, so this one follows Google's public
//! API reference (cited at each behaviour in [`store`] and [`routes`]) rather than our client:
//! create/get/list/delete secrets, add/get/list/access versions (numbered and `latest`),
//! disable/enable/destroy, regional `locations/L` paths, CRC32C on add and access, and errors in
//! Google's `{"error":{"code","message","status"}}` shape.
//!
//! It is *not* a security boundary: it accepts any project and needs no credentials (point the
//! client at it with anonymous credentials). The [`EmulatorHandle`] test switches inject faults a
//! real server cannot be made to produce (a corrupted CRC32C, errors, latency); they are off by default.
//!
//! ```no_run
//! let emu = envfile_tests::gcp_emulator::SecretManagerEmulator::start();
//! println!("endpoint = {:?}", emu.base_url);
//! ```

mod routes;
mod seeder;
pub use seeder::GcpSeeder;
pub mod store;

use crate::serve::Background;
use bytes::Bytes;
use http_body_util::Full;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The emulator. See the module docs.
pub struct SecretManagerEmulator;

/// State shared between the server and the handle's test switches.
pub(crate) struct Shared {
    pub(crate) store: Mutex<store::Store>,
    pub(crate) corrupt_crc32c: AtomicBool,
    pub(crate) fail_next: Mutex<VecDeque<&'static str>>,
    pub(crate) latency: Mutex<Duration>,
    pub(crate) requests: AtomicUsize,
    pub(crate) in_flight: AtomicUsize,
    pub(crate) max_in_flight: AtomicUsize,
}

/// A running emulator; stops when dropped.
pub struct EmulatorHandle {
    /// `http://127.0.0.1:PORT`: the `endpoint` for the client.
    pub base_url: String,
    /// The bound address.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _server: Background,
}

impl SecretManagerEmulator {
    /// Start on `127.0.0.1:0` in a thread of its own (with its own runtime, so it keeps serving
    /// while a test blocks on a child process).
    pub fn start() -> EmulatorHandle {
        Self::start_on("127.0.0.1:0".parse().expect("literal address"))
            .expect("binding the Secret Manager emulator on loopback")
    }

    /// Start on `addr` (the manual-use binary picks the port).
    pub fn start_on(addr: SocketAddr) -> std::io::Result<EmulatorHandle> {
        let shared = Arc::new(Shared {
            store: Mutex::new(store::Store::default()),
            corrupt_crc32c: AtomicBool::new(false),
            fail_next: Mutex::new(VecDeque::new()),
            latency: Mutex::new(Duration::ZERO),
            requests: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let server_shared = shared.clone();
        let server = Background::start("gcp-sm-emulator", addr, move |req| {
            let shared = server_shared.clone();
            async move { routes::handle(req, &shared).await }
        })?;
        let addr = server.addr();
        Ok(EmulatorHandle {
            base_url: format!("http://{addr}"),
            addr,
            shared,
            _server: server,
        })
    }
}

impl EmulatorHandle {
    /// TEST SWITCH: while on, every access response carries a wrong `dataCrc32c` (the real value
    /// with its lowest bit flipped), as if the payload were corrupted in transit.
    pub fn set_corrupt_crc32c(&self, on: bool) {
        self.shared.corrupt_crc32c.store(on, Ordering::SeqCst);
    }

    /// TEST SWITCH: the next requests fail with these canonical codes (`UNAVAILABLE`,
    /// `RESOURCE_EXHAUSTED`, …), one per request, before any normal handling.
    pub fn fail_next(&self, statuses: &[&'static str]) {
        self.shared
            .fail_next
            .lock()
            .expect("emulator lock")
            .extend(statuses.iter().copied());
    }

    /// TEST SWITCH: delay every response by `d` (to observe concurrency).
    pub fn set_latency(&self, d: Duration) {
        *self.shared.latency.lock().expect("emulator lock") = d;
    }

    /// Requests served so far.
    pub fn request_count(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// The most requests that were in progress at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

pub(crate) fn json_response(code: u16, body: &serde_json::Value) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder()
        .status(code)
        .header("content-type", "application/json; charset=UTF-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response parts")
}
