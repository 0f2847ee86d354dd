//! The benchmark's ceiling: the smallest hyper HTTP/1.1 server that answers every request with a
//! fixed body, on the same runtime and connection settings as the broker. `scripts/bench` loads
//! it exactly like the broker; the CPU time per request of the two is the ratio it prints.
//!
//! Usage: `ceiling BODY_BYTES [ADDR]` — listens on ADDR (default `127.0.0.1:0`) and prints the
//! address on stdout once listening.

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::io::Write;

fn main() {
    let size: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let addr = std::env::args()
        .nth(2)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let body = Bytes::from(vec![b'x'; size]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let l = tokio::net::TcpListener::bind(addr).await.expect("bind");
        println!("{}", l.local_addr().expect("addr"));
        let _ = std::io::stdout().flush();
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(std::time::Duration::from_secs(5))
            .keep_alive(true);
        loop {
            let Ok((s, _)) = l.accept().await else {
                continue;
            };
            let _ = s.set_nodelay(true);
            let body = body.clone();
            let conn = builder.serve_connection(
                TokioIo::new(s),
                service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        let mut r = hyper::Response::new(Full::new(body));
                        r.headers_mut().insert(
                            hyper::header::CONTENT_TYPE,
                            hyper::header::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, Infallible>(r)
                    }
                }),
            );
            tokio::spawn(conn);
        }
    });
}
