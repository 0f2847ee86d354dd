//! The Secret Manager emulator's REST surface, over raw HTTP: Google's error shape and status
//! names, paging (`pageSize=0` = server default), newest-first order, `latest`, CRC32C on add and
//! access, disable/enable/destroy, regional paths, and `$alt=json;enum-encoding=int`.

use envfile_tests::gcp_emulator::store::DEFAULT_PAGE_SIZE;
use envfile_tests::gcp_emulator::SecretManagerEmulator;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

/// One HTTP/1.1 request with `Connection: close`; returns the status and the JSON body.
fn call(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).expect("connect to the emulator");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read response");
    let text = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("header/body split");
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status line");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    (status, serde_json::from_str(body).expect("JSON body"))
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn create(addr: SocketAddr, parent: &str, id: &str) -> (u16, Value) {
    call(
        addr,
        "POST",
        &format!("/v1/{parent}/secrets?secretId={id}"),
        Some(&json!({"replication": {"automatic": {}}})),
    )
}

fn add(addr: SocketAddr, secret: &str, data: &str) -> (u16, Value) {
    call(
        addr,
        "POST",
        &format!("/v1/{secret}:addVersion"),
        Some(&json!({"payload": {"data": b64(data)}})),
    )
}

fn assert_error(resp: &(u16, Value), http: u16, status: &str) {
    let (code, body) = resp;
    assert_eq!(*code, http, "{body}");
    let e = &body["error"];
    assert_eq!(e["code"], json!(http), "{body}");
    assert_eq!(e["status"], json!(status), "{body}");
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[test]
fn gcp_emulator_errors_have_googles_shape_and_status_names() {
    let emu = SecretManagerEmulator::start();
    let a = emu.addr;
    assert_error(
        &call(a, "GET", "/v1/projects/p/secrets/nope", None),
        404,
        "NOT_FOUND",
    );
    assert_error(
        &call(
            a,
            "GET",
            "/v1/projects/p/secrets/nope/versions/latest:access",
            None,
        ),
        404,
        "NOT_FOUND",
    );
    assert_eq!(create(a, "projects/p", "s").0, 200);
    assert_error(&create(a, "projects/p", "s"), 409, "ALREADY_EXISTS");
    assert_error(&create(a, "projects/p", "bad.id"), 400, "INVALID_ARGUMENT");
    // `latest` of a secret with no versions.
    let r = call(
        a,
        "GET",
        "/v1/projects/p/secrets/s/versions/latest:access",
        None,
    );
    assert_error(&r, 404, "NOT_FOUND");
    assert!(r.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("has no versions"));
    // A wrong checksum on add is refused, and nothing is stored.
    let r = call(
        a,
        "POST",
        "/v1/projects/p/secrets/s:addVersion",
        Some(&json!({"payload": {"data": b64("x"), "dataCrc32c": "1"}})),
    );
    assert_error(&r, 400, "INVALID_ARGUMENT");
    assert_error(
        &call(a, "GET", "/v1/projects/p/secrets/s/versions/1", None),
        404,
        "NOT_FOUND",
    );
    assert_error(
        &call(a, "GET", "/v1/projects/p/secrets?pageSize=-1", None),
        400,
        "INVALID_ARGUMENT",
    );
    assert_error(
        &call(a, "GET", "/v1/projects/p/secrets?pageToken=forged", None),
        400,
        "INVALID_ARGUMENT",
    );
    assert_error(&call(a, "GET", "/v2/whatever", None), 404, "NOT_FOUND");
    emu.fail_next(&["UNAVAILABLE"]);
    assert_error(
        &call(a, "GET", "/v1/projects/p/secrets", None),
        503,
        "UNAVAILABLE",
    );
}

#[test]
fn gcp_emulator_access_latest_numbered_and_crc32c() {
    let emu = SecretManagerEmulator::start();
    let a = emu.addr;
    create(a, "projects/p", "s");
    let (code, v1) = add(a, "projects/p/secrets/s", "one");
    assert_eq!(code, 200);
    assert_eq!(v1["name"], json!("projects/p/secrets/s/versions/1"));
    assert_eq!(v1["state"], json!("ENABLED"));
    assert_eq!(v1["clientSpecifiedPayloadChecksum"], json!(false));
    let crc = crc32c::crc32c(b"two");
    let (_, v2) = call(
        a,
        "POST",
        "/v1/projects/p/secrets/s:addVersion",
        Some(&json!({"payload": {"data": b64("two"), "dataCrc32c": crc}})),
    );
    assert_eq!(v2["clientSpecifiedPayloadChecksum"], json!(true));

    let (code, r) = call(
        a,
        "GET",
        "/v1/projects/p/secrets/s/versions/latest:access",
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(
        r["name"],
        json!("projects/p/secrets/s/versions/2"),
        "latest names the number"
    );
    assert_eq!(r["payload"]["data"], json!(b64("two")));
    assert_eq!(
        r["payload"]["dataCrc32c"],
        json!(crc.to_string()),
        "int64 as a JSON string"
    );
    let (_, r) = call(a, "GET", "/v1/projects/p/secrets/s/versions/1:access", None);
    assert_eq!(
        r["payload"]["dataCrc32c"],
        json!(crc32c::crc32c(b"one").to_string()),
        "generated when not given"
    );

    emu.set_corrupt_crc32c(true);
    let (_, r) = call(a, "GET", "/v1/projects/p/secrets/s/versions/2:access", None);
    assert_ne!(r["payload"]["dataCrc32c"], json!(crc.to_string()));
    emu.set_corrupt_crc32c(false);

    // Metadata only: no payload in get.
    let (_, m) = call(a, "GET", "/v1/projects/p/secrets/s/versions/latest", None);
    assert_eq!(m["name"], json!("projects/p/secrets/s/versions/2"));
    assert!(m.get("payload").is_none());
    let (_, m) = call(
        a,
        "GET",
        "/v1/projects/p/secrets/s/versions/2?%24alt=json%3Benum-encoding%3Dint",
        None,
    );
    assert_eq!(m["state"], json!(1), "enum-encoding=int");
}

#[test]
fn gcp_emulator_disable_enable_destroy() {
    let emu = SecretManagerEmulator::start();
    let a = emu.addr;
    create(a, "projects/p", "s");
    add(a, "projects/p/secrets/s", "one");
    let v = "/v1/projects/p/secrets/s/versions/1";
    let (code, m) = call(a, "POST", &format!("{v}:disable"), Some(&json!({})));
    assert_eq!((code, &m["state"]), (200, &json!("DISABLED")));
    let r = call(a, "GET", &format!("{v}:access"), None);
    assert_error(&r, 400, "FAILED_PRECONDITION");
    assert!(r.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("DISABLED"));
    let (_, m) = call(a, "POST", &format!("{v}:enable"), Some(&json!({})));
    assert_eq!(m["state"], json!("ENABLED"));
    assert_eq!(call(a, "GET", &format!("{v}:access"), None).0, 200);
    let (_, m) = call(a, "POST", &format!("{v}:destroy"), Some(&json!({})));
    assert_eq!(m["state"], json!("DESTROYED"));
    assert!(
        m["destroyTime"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{m}"
    );
    assert_error(
        &call(a, "GET", &format!("{v}:access"), None),
        400,
        "FAILED_PRECONDITION",
    );
    assert_error(
        &call(a, "POST", &format!("{v}:enable"), Some(&json!({}))),
        400,
        "FAILED_PRECONDITION",
    );
    assert_error(
        &call(
            a,
            "POST",
            "/v1/projects/p/secrets/s/versions/7:disable",
            Some(&json!({})),
        ),
        404,
        "NOT_FOUND",
    );
    assert_eq!(call(a, "DELETE", "/v1/projects/p/secrets/s", None).0, 200);
    assert_error(
        &call(a, "GET", "/v1/projects/p/secrets/s", None),
        404,
        "NOT_FOUND",
    );
}

#[test]
fn gcp_emulator_lists_page_newest_first() {
    let emu = SecretManagerEmulator::start();
    let a = emu.addr;
    let n = DEFAULT_PAGE_SIZE + 5;
    for i in 0..n {
        create(a, "projects/p", &format!("s{i:03}"));
    }
    create(a, "projects/other", "elsewhere");
    create(a, "projects/p/locations/eu", "regional");

    // pageSize=0: the server's default page.
    let (_, r) = call(a, "GET", "/v1/projects/p/secrets?pageSize=0", None);
    assert_eq!(r["secrets"].as_array().unwrap().len(), DEFAULT_PAGE_SIZE);
    assert_eq!(r["totalSize"], json!(n));
    assert_eq!(
        r["secrets"][0]["name"],
        json!(format!("projects/p/secrets/s{:03}", n - 1)),
        "newest first"
    );

    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let (code, r) = call(
            a,
            "GET",
            &format!("/v1/projects/p/secrets?pageSize=7&pageToken={token}"),
            None,
        );
        assert_eq!(code, 200, "{r}");
        let page = r["secrets"].as_array().cloned().unwrap_or_default();
        assert!(page.len() <= 7);
        names.extend(page.iter().map(|s| s["name"].as_str().unwrap().to_owned()));
        match r["nextPageToken"].as_str() {
            Some(t) => token = t.to_owned(),
            None => break,
        }
    }
    let want: Vec<String> = (0..n)
        .rev()
        .map(|i| format!("projects/p/secrets/s{i:03}"))
        .collect();
    assert_eq!(names, want);

    let (_, r) = call(a, "GET", "/v1/projects/p/locations/eu/secrets", None);
    assert_eq!(
        r["secrets"][0]["name"],
        json!("projects/p/locations/eu/secrets/regional")
    );
    assert_eq!(r["totalSize"], json!(1));

    for d in ["a", "b", "c"] {
        add(a, "projects/p/locations/eu/secrets/regional", d);
    }
    let (_, r) = call(
        a,
        "GET",
        "/v1/projects/p/locations/eu/secrets/regional/versions?pageSize=2",
        None,
    );
    let v: Vec<&str> = r["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        v,
        [
            "projects/p/locations/eu/secrets/regional/versions/3",
            "projects/p/locations/eu/secrets/regional/versions/2"
        ]
    );
    let t = r["nextPageToken"].as_str().unwrap();
    let (_, r) = call(
        a,
        "GET",
        &format!("/v1/projects/p/locations/eu/secrets/regional/versions?pageSize=2&pageToken={t}"),
        None,
    );
    assert_eq!(r["versions"].as_array().unwrap().len(), 1);
    assert!(r.get("nextPageToken").is_none());
}
