//! config/quickstart.toml is what the README's first command renders: it must load, and its `app`
//! envfile must resolve completely against its file store.

use envfile_core::file_backend::FileBackend;
use envfile_core::{config, Backends, Resolver};
use std::path::PathBuf;
use std::sync::Arc;

fn quickstart() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/quickstart.toml")
}

#[tokio::test]
async fn the_quickstart_app_envfile_resolves_from_its_file_store() {
    let cfg = config::load(Some(&quickstart()), Some("default")).unwrap();
    let mut backends = Backends::new();
    backends.insert(Arc::new(FileBackend::from_config("file", &cfg).unwrap()));
    let resolver = Resolver::new(backends, &cfg.config);
    let env = resolver
        .resolve_envfile(cfg.envfile("app").unwrap())
        .await
        .unwrap_or_else(|problems| panic!("{problems}"));

    let names: Vec<&str> = env.vars.iter().map(|v| v.name.as_str()).collect();
    for want in [
        "JWT_SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "LOG_LEVEL",
        "PGHOST",
        "PGPORT",
        "PGPASSWORD",
        "APP_SENTRY_ENVIRONMENT",
        "APP_FEATURE_NEW_TRIAGE",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    // The quickstart's values are public samples, so checking a few is fine.
    let text = |n: &str| env.get(n).and_then(|v| v.expose_str()).unwrap().to_owned();
    assert_eq!(text("PGPORT"), "5432");
    assert_eq!(text("LOG_LEVEL"), "INFO");
    assert!(text("DATABASE_URL").starts_with("postgresql+asyncpg://"));
    // Every value in the sample store says it is fake or dev-only.
    let store =
        std::fs::read_to_string(quickstart().with_file_name("quickstart-secrets.toml")).unwrap();
    for secret_like in ["password = ", "jwt-secret-key\" = "] {
        let line = store.lines().find(|l| l.contains(secret_like)).unwrap();
        assert!(line.contains("fake") || line.contains("dev-only"), "{line}");
    }
}
