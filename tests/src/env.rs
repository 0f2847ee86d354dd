//! Where the test servers and tools are. `scripts/test` installs and starts them and exports
//! these variables; a test run without them fails with a message saying so, rather than
//! skipping silently (a skipped backend test proves nothing).

use std::path::PathBuf;

fn required(var: &str, what: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: {what}. Run the tests through `scripts/test`, which starts it.")
    })
}

/// The moto server (AWS Secrets Manager), e.g. `http://127.0.0.1:PORT`.
pub fn moto_url() -> String {
    required("ENVFILE_TEST_MOTO_URL", "no moto server is running")
}

/// The OpenBao dev server, e.g. `http://127.0.0.1:PORT`.
pub fn vault_addr() -> String {
    required(
        "ENVFILE_TEST_VAULT_ADDR",
        "no OpenBao dev server is running",
    )
}

/// The OpenBao dev server's root token.
pub fn vault_root_token() -> String {
    required(
        "ENVFILE_TEST_VAULT_TOKEN",
        "no OpenBao dev server is running",
    )
}

/// The second OpenBao dev server, with TLS (`-dev-tls`), for the cert auth method:
/// `https://127.0.0.1:PORT`. Same root token as [`vault_addr`]'s.
pub fn vault_tls_addr() -> String {
    required(
        "ENVFILE_TEST_VAULT_TLS_ADDR",
        "no OpenBao TLS dev server is running",
    )
}

/// The CA that signed the TLS dev server's certificate.
pub fn vault_tls_cacert() -> PathBuf {
    required(
        "ENVFILE_TEST_VAULT_TLS_CACERT",
        "no OpenBao TLS dev server is running",
    )
    .into()
}

/// The `bao` binary (for `bao agent` golden outputs).
pub fn bao_bin() -> PathBuf {
    required("ENVFILE_TEST_BAO_BIN", "the bao binary was not located").into()
}

/// The Python interpreter of the test venv (has python-dotenv and PyYAML).
pub fn python() -> PathBuf {
    required("ENVFILE_TEST_PYTHON", "the test venv was not created").into()
}

/// The `envfile` binary under test.
pub fn envfile_bin() -> PathBuf {
    required("ENVFILE_BIN", "the envfile binary was not built").into()
}

/// A unique, lowercase, DNS-safe name prefix for a test, so tests sharing one server never collide.
pub fn unique(prefix: &str) -> String {
    use rand::Rng;
    let n: u32 = rand::thread_rng().gen();
    format!("{prefix}-{n:08x}")
}
