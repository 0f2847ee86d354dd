//! FAKE: a stand-in for the Kubernetes API's TokenReview endpoint, the one call OpenBao's
//! kubernetes auth method makes to check a service-account JWT. A real API server cannot run in
//! the tests, so this answers `POST /apis/authentication.k8s.io/v1/tokenreviews`: a JWT it was
//! told about is authenticated as its service account, anything else is not.
//!
//! The JWTs are unsigned-in-spirit test tokens with the legacy service-account claims OpenBao
//! reads (it does not verify signatures unless `pem_keys` are configured; the TokenReview answer
//! is what it trusts).

use crate::serve::Background;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A self-signed CA certificate (no key kept) for `auth/kubernetes/config`'s
/// `kubernetes_ca_cert`: OpenBao insists on one, and never uses it for the fake's plain-HTTP URL.
pub const FAKE_KUBERNETES_CA: &str = "-----BEGIN CERTIFICATE-----
MIIBoTCCAUegAwIBAgIUPWZ/FkqBnRIddioyHpofsFV1hKcwCgYIKoZIzj0EAwIw
JTEjMCEGA1UEAwwaZW52ZmlsZS1mYWtlLWt1YmVybmV0ZXMtY2EwIBcNMjYxMTIz
MDY0NTM4WhgPMjEyNjEwMzAwNjQ1MzhaMCUxIzAhBgNVBAMMGmVudmZpbGUtZmFr
ZS1rdWJlcm5ldGVzLWNhMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1xdejn9p
Z2YPMHSjeA8QEorSAjE//Tzqg/Ry/PdxhSOfS4vqdwHZwJh5Bd7igMSPRgaSsyDm
GgWL7DpOOauTu6NTMFEwHQYDVR0OBBYEFKRjeYrxvmy39zeUF7qCHSAUjmz0MB8G
A1UdIwQYMBaAFKRjeYrxvmy39zeUF7qCHSAUjmz0MA8GA1UdEwEB/wQFMAMBAf8w
CgYIKoZIzj0EAwIDSAAwRQIgSBINUqM0leqqkQDpCzIcHjNTFplpz3Gkx6YU3tRE
Q1oCIQCPuBSE/KgttmhV0to9VFj9Gj7waoBhIMDdPDJGZveQ8w==
-----END CERTIFICATE-----
";

/// A service account the fake knows.
#[derive(Debug, Clone)]
pub struct FakeServiceAccount {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID (the JWT claim and the review must agree).
    pub uid: String,
}

impl FakeServiceAccount {
    /// A JWT for this account, shaped like a legacy Kubernetes service-account token.
    pub fn jwt(&self) -> String {
        let b64 = |v: &Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        let header = json!({ "alg": "RS256", "kid": "envfile-fake" });
        let claims = json!({
            "iss": "kubernetes/serviceaccount",
            "sub": format!("system:serviceaccount:{}:{}", self.namespace, self.name),
            "kubernetes.io/serviceaccount/namespace": self.namespace,
            "kubernetes.io/serviceaccount/secret.name": format!("{}-token", self.name),
            "kubernetes.io/serviceaccount/service-account.name": self.name,
            "kubernetes.io/serviceaccount/service-account.uid": self.uid,
        });
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b"fake-signature");
        format!("{}.{}.{sig}", b64(&header), b64(&claims))
    }
}

struct Shared {
    known: Mutex<Vec<(String, FakeServiceAccount)>>,
    reviews: AtomicUsize,
}

/// FAKE TokenReview API on loopback; stops when dropped.
pub struct FakeTokenReview {
    shared: Arc<Shared>,
    server: Background,
}

impl FakeTokenReview {
    /// Start on `127.0.0.1:0`, in a thread with its own runtime (OpenBao calls it while the test
    /// may be blocked on a child process).
    pub fn start() -> Self {
        let shared = Arc::new(Shared {
            known: Mutex::new(Vec::new()),
            reviews: AtomicUsize::new(0),
        });
        let server_shared = shared.clone();
        let server = Background::start(
            "fake-tokenreview",
            "127.0.0.1:0".parse().expect("literal address"),
            move |req| {
                let shared = server_shared.clone();
                async move { review(req, &shared).await }
            },
        )
        .expect("start FakeTokenReview");
        Self { shared, server }
    }

    /// What to put in `auth/kubernetes/config` as `kubernetes_host`.
    pub fn url(&self) -> String {
        format!("http://{}", self.server.addr())
    }

    /// Accept `account`'s JWT from now on; returns the JWT.
    pub fn admit(&self, account: FakeServiceAccount) -> String {
        let jwt = account.jwt();
        self.shared
            .known
            .lock()
            .expect("lock")
            .push((jwt.clone(), account));
        jwt
    }

    /// The body for `auth/MOUNT/config` that points OpenBao at this fake.
    pub fn auth_config(&self) -> Value {
        json!({
            "kubernetes_host": self.url(),
            "kubernetes_ca_cert": FAKE_KUBERNETES_CA,
            "disable_local_ca_jwt": true,
        })
    }

    /// How many TokenReview requests arrived.
    pub fn reviews(&self) -> usize {
        self.shared.reviews.load(Ordering::SeqCst)
    }
}

async fn review(req: Request<hyper::body::Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    if req.method() != hyper::Method::POST
        || req.uri().path() != "/apis/authentication.k8s.io/v1/tokenreviews"
    {
        return respond(
            404,
            &json!({ "kind": "Status", "status": "Failure", "code": 404 }),
        );
    }
    shared.reviews.fetch_add(1, Ordering::SeqCst);
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return respond(400, &json!({ "kind": "Status", "code": 400 })),
    };
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let token = parsed["spec"]["token"].as_str().unwrap_or_default();
    let audiences = parsed["spec"]["audiences"].clone();
    let account = shared
        .known
        .lock()
        .expect("lock")
        .iter()
        .find(|(jwt, _)| jwt == token)
        .map(|(_, a)| a.clone());
    let status = match account {
        Some(a) => json!({
            "authenticated": true,
            "user": {
                "username": format!("system:serviceaccount:{}:{}", a.namespace, a.name),
                "uid": a.uid,
                "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{}", a.namespace), "system:authenticated"],
            },
            "audiences": if audiences.is_array() { audiences } else { json!([]) },
        }),
        None => {
            json!({ "authenticated": false, "error": "token not recognised by FakeTokenReview" })
        }
    };
    respond(
        201,
        &json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "metadata": { "creationTimestamp": null },
            "spec": { "token": "" },
            "status": status,
        }),
    )
}

fn respond(code: u16, body: &Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(code)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("response")
}
