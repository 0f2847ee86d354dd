//! Template sinks: Vault Agent `template` blocks as `[[sinks]] template = "…"`.
//!
//! A template is rendered by the core engine through a resolver whose backends read through the
//! broker's cache, so a template costs no backend call the cache would not make anyway. Each
//! render records which secrets it read (a template's secret paths are only known by running it):
//! those are pinned in the cache, refreshed ahead of expiry, and any change to one of them
//! re-renders the template. The file is written like an env file sink (atomic, mode, only when
//! the bytes changed, then the on-change action).

use crate::cache::Key;
use crate::config::{SinkSource, SinkSpec};
use crate::sinks;
use async_trait::async_trait;
use envfile_core::{Backend, Backends, Capabilities, Config, Fetched, Locator, Resolver, Result};
use envfile_template::Template;
use std::sync::{Arc, Mutex};

/// One template sink and what its last render read.
pub struct TemplateSink {
    /// The sink (its source is a template).
    pub sink: SinkSpec,
    template: Arc<Template>,
    resolver: Resolver,
    /// Secrets read by the render in progress.
    reading: Arc<Mutex<Vec<Key>>>,
    /// Secrets the last finished render read, and whether it succeeded.
    last: Mutex<(Vec<Key>, bool)>,
}

impl TemplateSink {
    /// A template sink over `cached` (the broker's cache-backed backends); `None` when the sink
    /// renders an env file.
    pub fn new(sink: &SinkSpec, cached: &Backends, config: &Config) -> Option<Self> {
        let SinkSource::Template(template) = &sink.source else {
            return None;
        };
        let reading = Arc::new(Mutex::new(Vec::new()));
        let mut recording = Backends::new();
        for (_, b) in cached.iter() {
            recording.insert(Arc::new(Recorder {
                inner: b.clone(),
                seen: reading.clone(),
            }));
        }
        Some(Self {
            sink: sink.clone(),
            // `pkiCert` reuses the certificate the sink's file holds while it is good.
            template: Arc::new((**template).clone().with_destination(&sink.path)),
            resolver: Resolver::new(recording, config),
            reading,
            last: Mutex::new((Vec::new(), false)),
        })
    }

    /// The secrets the last render read.
    pub fn keys(&self) -> Vec<Key> {
        lock(&self.last).0.clone()
    }

    /// Whether the last render succeeded.
    pub fn ok(&self) -> bool {
        lock(&self.last).1
    }

    /// Render, write the file if its bytes changed, run the on-change action. Returns the
    /// secrets the render read (to pin them in the cache).
    pub async fn render_and_write(&self) -> Vec<Key> {
        lock(&self.reading).clear();
        let out = self.template.render(&self.resolver).await;
        let mut keys = std::mem::take(&mut *lock(&self.reading));
        keys.sort();
        keys.dedup();
        let path = self.sink.path.display().to_string();
        let ok = match out {
            Ok(text) => {
                let sink = self.sink.clone();
                let write = move || {
                    if sink.create_dest_dirs {
                        envfile_core::dirs::create_parent_dirs(&sink.path)?;
                    }
                    sinks::write_if_changed(&sink, &text)
                };
                match tokio::task::spawn_blocking(write).await {
                    Ok(Ok(true)) => {
                        tracing::info!(template = self.template.name(), sink = %path, "template sink written");
                        sinks::on_change(&self.sink).await;
                        true
                    }
                    Ok(Ok(false)) => true,
                    Ok(Err(e)) => {
                        tracing::warn!(sink = %path, error = %e, "template sink write failed");
                        false
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "template sink task failed");
                        false
                    }
                }
            }
            Err(e) => {
                // Render errors name the template position and the reference, never a value;
                // the file keeps its last good content.
                tracing::warn!(sink = %path, error = %e, "template render failed");
                false
            }
        };
        *lock(&self.last) = (keys.clone(), ok);
        keys
    }
}

/// A backend that notes every secret read through it (the template's dependencies).
struct Recorder {
    inner: Arc<dyn Backend>,
    seen: Arc<Mutex<Vec<Key>>>,
}

impl Recorder {
    fn note(&self, locs: &[Locator]) {
        let mut seen = lock(&self.seen);
        for l in locs {
            seen.push((self.inner.name().to_owned(), l.clone()));
        }
    }
}

#[async_trait]
impl Backend for Recorder {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    async fn get(&self, loc: &Locator) -> Result<Fetched> {
        self.note(std::slice::from_ref(loc));
        self.inner.get(loc).await
    }
    async fn get_many(&self, locs: &[Locator]) -> Vec<Result<Fetched>> {
        self.note(locs);
        self.inner.get_many(locs).await
    }
    async fn current_version(&self, loc: &Locator) -> Result<Option<String>> {
        self.note(std::slice::from_ref(loc));
        self.inner.current_version(loc).await
    }
    async fn identity(&self, path: &str) -> Result<String> {
        self.inner.identity(path).await
    }
    async fn native(&self, call: envfile_core::Native<'_>) -> Result<serde_json::Value> {
        self.inner.native(call).await
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{OnChange, SinkSource};
    use std::os::unix::fs::PermissionsExt;

    fn sink_at(path: std::path::PathBuf, create_dest_dirs: bool) -> TemplateSink {
        let template = Template::parse("t", "static {{ 1 }}").unwrap();
        let spec = SinkSpec {
            source: SinkSource::Template(Arc::new(template)),
            path,
            mode: 0o440,
            owner: None,
            group: None,
            on_change: OnChange::Nothing,
            create_dest_dirs,
        };
        TemplateSink::new(&spec, &Backends::new(), &Config::default()).unwrap()
    }

    #[tokio::test]
    async fn create_dest_dirs_makes_the_missing_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/out.txt");
        let without = sink_at(path.clone(), false);
        without.render_and_write().await;
        assert!(!without.ok(), "the directory is missing: the write fails");
        assert!(!path.exists());

        let with = sink_at(path.clone(), true);
        with.render_and_write().await;
        assert!(with.ok());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "static 1");
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o440);
        assert_eq!(mode(&dir.path().join("a")), 0o755);
        assert_eq!(mode(&dir.path().join("a/b")), 0o755);
    }
}
