//! Config from the environment: `ENVFILE_CONFIG`, `ENVFILE_PROFILE`, and `ENVFILE_…__…`
//! overrides. These tests change process-wide state (variables, the working directory), so
//! they live in their own test binary and take a lock.

use envfile_core::config;
use envfile_core::config::VarSource;
use envfile_core::ErrorKind;
use serde::Deserialize;
use std::sync::Mutex;

static ENV: Mutex<()> = Mutex::new(());

const CONFIG: &str = r#"
[default.backends.aws]
kind = "aws"
[default.envfiles.api]
vars.DB_URL = "aws:app/db#url"
[prod.backends.aws]
region = "eu-central-1"
"#;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Aws {
    #[allow(dead_code)]
    kind: String,
    region: Option<String>,
}

/// Set variables for the duration of `f`, then remove them.
fn with_env<T>(vars: &[(&str, &str)], f: impl FnOnce() -> T) -> T {
    let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    for (k, v) in vars {
        std::env::set_var(k, v);
    }
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    for (k, _) in vars {
        std::env::remove_var(k);
    }
    out.unwrap_or_else(|p| std::panic::resume_unwind(p))
}

#[test]
fn double_underscore_overrides_every_profile() {
    with_env(&[("ENVFILE_BACKENDS__AWS__REGION", "us-west-2")], || {
        for profile in ["default", "prod"] {
            let loaded = config::load_str(CONFIG, Some(profile)).unwrap();
            let aws: Aws = loaded.backend_config("aws").unwrap();
            assert_eq!(
                aws.region.as_deref(),
                Some("us-west-2"),
                "profile {profile}"
            );
        }
    });
}

#[test]
fn override_keeps_variable_name_case() {
    with_env(
        &[("ENVFILE_ENVFILES__API__VARS__DB_URL", "aws:other/db#url")],
        || {
            let loaded = config::load_str(CONFIG, None).unwrap();
            let api = loaded.envfile("api").unwrap();
            assert_eq!(api.vars.len(), 1, "{api:?}");
            assert_eq!(
                api.vars["DB_URL"],
                VarSource::Ref("aws:other/db#url".into())
            );
        },
    );
}

#[test]
fn non_config_variables_are_ignored() {
    with_env(
        &[
            ("ENVFILE_LOG", "debug"),
            ("ENVFILE_BROKER_TOKEN", "t0ken"),
            ("ENVFILE_TEST_SOMETHING__X", "1"),
            ("ENVFILE_BIN", "/bin/envfile"),
            ("ENVFILE_UNRELATED", "1"),
        ],
        || {
            config::load_str(CONFIG, None).unwrap();
        },
    );
}

#[test]
fn bad_override_names_the_variable() {
    // `backends.NAME` belongs to the backend crate, so a typo there surfaces when it extracts
    // its settings, still naming the variable.
    with_env(&[("ENVFILE_BACKENDS__AWS__REGOIN", "us-west-2")], || {
        let loaded = config::load_str(CONFIG, None).unwrap();
        let err = loaded.backend_config::<Aws>("aws").unwrap_err();
        assert!(
            err.to_string().contains("ENVFILE_BACKENDS__AWS__REGOIN"),
            "{err}"
        );
        assert!(!err.to_string().contains("us-west-2"), "{err}");
    });
    with_env(
        &[("ENVFILE_ENVFILES__API__REQUIRD", "[\"DB_URL\"]")],
        || {
            let err = config::load_str(CONFIG, None).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config);
            assert!(
                err.to_string().contains("ENVFILE_ENVFILES__API__REQUIRD"),
                "{err}"
            );
        },
    );
}

#[test]
fn envfile_config_and_profile_select_file_and_profile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("from-env.toml");
    std::fs::write(&path, CONFIG).unwrap();
    let path_s = path.to_string_lossy().into_owned();
    with_env(
        &[("ENVFILE_CONFIG", &path_s), ("ENVFILE_PROFILE", "prod")],
        || {
            let loaded = config::load(None, None).unwrap();
            assert_eq!(loaded.path.as_deref(), Some(path.as_path()));
            assert_eq!(loaded.profile, "prod");
            let aws: Aws = loaded.backend_config("aws").unwrap();
            assert_eq!(aws.region.as_deref(), Some("eu-central-1"));
            // Arguments win over the environment.
            let loaded = config::load(None, Some("default")).unwrap();
            assert_eq!(loaded.profile, "default");
        },
    );
    with_env(&[("ENVFILE_CONFIG", "/nonexistent/envfile-x.toml")], || {
        let err = config::load(None, None).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/envfile-x.toml"),
            "{err}"
        );
        assert!(err.to_string().contains("ENVFILE_CONFIG"), "{err}");
    });
}

#[test]
fn missing_implicit_file_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    with_env(&[], || {
        let old = std::env::current_dir().unwrap();
        std::env::set_current_dir(dir.path()).unwrap();
        let res = config::load(None, None);
        std::fs::write(dir.path().join("envfile.toml"), CONFIG).unwrap();
        let found = config::load(None, None);
        std::env::set_current_dir(old).unwrap();

        let err = res.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        let text = err.to_string();
        assert!(
            text.contains("envfile.toml") && text.contains("--config"),
            "{text}"
        );
        assert!(found.unwrap().config.envfiles.contains_key("api"));
    });
}
