//! A backend built on first use. A sidecar configured with several backends often reads from
//! one of them; building an SDK client (TLS roots, HTTP pools, auth state) for each of the others
//! at start-up costs memory and start-up time for nothing. The embedder validates the settings
//! up front (a broken config must still fail at start-up) and hands over a builder.

use async_trait::async_trait;
use envfile_core::{Backend, Capabilities, Fetched, Locator, PutOutcome, Result, SecretValue};
use futures::future::BoxFuture;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::OnceCell;

type Build = Box<dyn Fn() -> BoxFuture<'static, Result<Arc<dyn Backend>>> + Send + Sync>;

/// A backend whose client is made by the first call that needs it. A failed build is not
/// remembered: the next call tries again (a CA file or token that appears later is picked up).
pub struct LazyBackend {
    name: String,
    kind: &'static str,
    caps: Capabilities,
    build: Build,
    built: OnceCell<Arc<dyn Backend>>,
}

impl LazyBackend {
    /// `build` makes the real backend; `caps` must be what it reports (the cache and the
    /// resolver ask before any read).
    pub fn new<F, Fut>(name: &str, kind: &'static str, caps: Capabilities, build: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Arc<dyn Backend>>> + Send + 'static,
    {
        Self {
            name: name.to_owned(),
            kind,
            caps,
            build: Box::new(move || Box::pin(build())),
            built: OnceCell::new(),
        }
    }

    async fn inner(&self) -> Result<&Arc<dyn Backend>> {
        self.built
            .get_or_try_init(|| {
                tracing::debug!(backend = %self.name, "building the backend on first use");
                (self.build)()
            })
            .await
    }
}

#[async_trait]
impl Backend for LazyBackend {
    fn name(&self) -> &str {
        &self.name
    }
    fn kind(&self) -> &'static str {
        self.kind
    }
    fn capabilities(&self) -> Capabilities {
        self.caps
    }
    async fn get(&self, loc: &Locator) -> Result<Fetched> {
        self.inner().await?.get(loc).await
    }
    async fn get_many(&self, locs: &[Locator]) -> Vec<Result<Fetched>> {
        match self.inner().await {
            Ok(b) => b.get_many(locs).await,
            Err(e) => locs.iter().map(|_| Err(e.clone())).collect(),
        }
    }
    async fn current_version(&self, loc: &Locator) -> Result<Option<String>> {
        self.inner().await?.current_version(loc).await
    }
    async fn identity(&self, path: &str) -> Result<String> {
        self.inner().await?.identity(path).await
    }
    async fn native(&self, call: envfile_core::Native<'_>) -> Result<serde_json::Value> {
        self.inner().await?.native(call).await
    }
    async fn put(&self, path: &str, value: &SecretValue) -> Result<PutOutcome> {
        self.inner().await?.put(path, value).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn builds_once_on_first_use_and_retries_a_failed_build() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store.json");
        std::fs::write(&store, r#"{"k": "v"}"#).unwrap();
        let toml = format!(
            "[default.backends.file]\nkind = \"file\"\npath = \"{}\"\n",
            store.display()
        );
        let cfg = Arc::new(envfile_core::config::load_str(&toml, None).unwrap());
        let builds = Arc::new(AtomicUsize::new(0));
        let (cfg2, builds2) = (cfg.clone(), builds.clone());
        let lazy = LazyBackend::new("file", "file", Capabilities::default(), move || {
            let (cfg, builds) = (cfg2.clone(), builds2.clone());
            async move {
                // The first build fails, as a build whose CA file is missing would.
                if builds.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Err(envfile_core::Error::config("not yet"));
                }
                let b = envfile_core::file_backend::FileBackend::from_config("file", &cfg)?;
                Ok(Arc::new(b) as Arc<dyn Backend>)
            }
        });
        assert_eq!(builds.load(Ordering::SeqCst), 0, "built before first use");
        assert!(lazy.get(&Locator::new("k")).await.is_err());
        let v = lazy.get(&Locator::new("k")).await.unwrap();
        assert!(v.value.expose_str() == Some("v"));
        lazy.get(&Locator::new("k")).await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 2);
    }
}
