//! The file backend against the conformance suite, in each of its layouts. The seeder writes the
//! store files itself (TOML, JSON, or one file per secret), never through envfile, so the backend
//! is checked against the format as a person would write it.

use async_trait::async_trait;
use envfile_core::file_backend::{FileBackend, Layout, StoreFormat};
use envfile_core::Backend;
use envfile_tests::conformance::{self, Seeder};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Secrets go under a `suite/` prefix so every check also exercises `/` in names (quoted keys
/// in a file store, a subdirectory in a directory store).
const PREFIX: &str = "suite";

enum Store {
    Toml(PathBuf),
    Json(PathBuf),
    Dir(PathBuf),
}

struct FileSeeder {
    store: Store,
    // The file layouts are read-modify-write: one seeding at a time.
    lock: Mutex<()>,
}

impl FileSeeder {
    fn new(store: Store) -> Self {
        Self {
            store,
            lock: Mutex::new(()),
        }
    }
}

/// Replace `path` atomically so a concurrent read never sees half a store.
fn replace_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("seeding");
    std::fs::write(&tmp, bytes).expect("write the store");
    std::fs::rename(&tmp, path).expect("replace the store");
}

fn read_toml(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).expect("read the TOML store");
    text.parse().expect("the TOML store parses")
}

fn read_json(path: &Path) -> serde_json::Map<String, serde_json::Value> {
    let bytes = std::fs::read(path).expect("read the JSON store");
    serde_json::from_slice(&bytes).expect("the JSON store parses")
}

#[async_trait]
impl Seeder for FileSeeder {
    async fn put(&self, name: &str, value: &[u8]) -> String {
        let key = format!("{PREFIX}/{name}");
        let _guard = self.lock.lock().unwrap();
        match &self.store {
            Store::Toml(p) => {
                let text = std::str::from_utf8(value).expect("a file store holds text");
                let mut t = read_toml(p);
                t.insert(key.clone(), toml::Value::String(text.to_owned()));
                replace_file(p, toml::to_string(&t).expect("serialize TOML").as_bytes());
            }
            Store::Json(p) => {
                let text = std::str::from_utf8(value).expect("a file store holds text");
                let mut m = read_json(p);
                m.insert(key.clone(), serde_json::Value::String(text.to_owned()));
                replace_file(p, &serde_json::to_vec_pretty(&m).expect("serialize JSON"));
            }
            Store::Dir(d) => {
                let file = d.join(&key);
                std::fs::create_dir_all(file.parent().expect("has a parent")).expect("mkdir");
                replace_file(&file, value);
            }
        }
        key
    }

    async fn delete(&self, path: &str) {
        let _guard = self.lock.lock().unwrap();
        match &self.store {
            Store::Toml(p) => {
                let mut t = read_toml(p);
                assert!(t.remove(path).is_some(), "delete: `{path}` was not seeded");
                replace_file(p, toml::to_string(&t).expect("serialize TOML").as_bytes());
            }
            Store::Json(p) => {
                let mut m = read_json(p);
                assert!(m.remove(path).is_some(), "delete: `{path}` was not seeded");
                replace_file(p, &serde_json::to_vec_pretty(&m).expect("serialize JSON"));
            }
            Store::Dir(d) => std::fs::remove_file(d.join(path)).expect("delete the secret file"),
        }
    }
}

#[tokio::test]
async fn file_toml_store_passes_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.toml");
    std::fs::write(&path, "# seeded by the conformance suite\n").unwrap();
    let backend = FileBackend::open("file", &path).unwrap();
    assert_eq!(backend.layout(), Layout::File(StoreFormat::Toml));
    assert!(!backend.capabilities().binary);
    conformance::run_all(&backend, &FileSeeder::new(Store::Toml(path))).await;
}

#[tokio::test]
async fn file_json_store_passes_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.json");
    std::fs::write(&path, "{}").unwrap();
    let backend = FileBackend::open("file", &path).unwrap();
    assert_eq!(backend.layout(), Layout::File(StoreFormat::Json));
    conformance::run_all(&backend, &FileSeeder::new(Store::Json(path))).await;
}

#[tokio::test]
async fn file_directory_store_passes_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let backend = FileBackend::open("file", dir.path()).unwrap();
    assert_eq!(backend.layout(), Layout::Dir);
    assert!(
        backend.capabilities().binary,
        "a directory store carries binary values"
    );
    conformance::run_all(
        &backend,
        &FileSeeder::new(Store::Dir(dir.path().to_path_buf())),
    )
    .await;
}
