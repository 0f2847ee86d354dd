//! KV paths: which mount a path is in and its KV version (asked once per mount, then cached),
//! and how a user's path maps to the API path (`data/` added or accepted on KV v2).

use crate::error::Failure;
use envfile_core::{Error, ErrorKind, Result, SecretJson, SecretValue};
use std::fmt;
use std::sync::{Arc, RwLock};

/// A KV secrets engine version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvVersion {
    /// Unversioned: `MOUNT/PATH`, the data is the response's `data`.
    V1,
    /// Versioned: `MOUNT/data/PATH`, the data is the response's `data.data`.
    V2,
}

impl fmt::Display for KvVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V1 => "KV v1",
            Self::V2 => "KV v2",
        })
    }
}

/// A secrets engine mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    /// Without leading or trailing `/` (`ml-incident`, `team/kv`).
    pub(crate) path: String,
    pub(crate) version: KvVersion,
    /// The secrets engine type (`kv`, `database`, `pki`, …), as the mount list names it; empty
    /// when unknown.
    pub(crate) engine: String,
    /// Vault's description of the mount (type, options, accessor…), as the mount lookup gave it,
    /// with its `path` (`PATH/`).
    pub(crate) info: Arc<serde_json::Value>,
}

impl Mount {
    /// From the `data` of `sys/internal/ui/mounts/PATH`. That endpoint answers for any token
    /// with some capability under the mount, unlike `sys/mounts` which needs its own grant.
    pub(crate) fn from_ui_mounts(body: &SecretJson) -> std::result::Result<Self, Failure> {
        let data = &body.expose()["data"];
        let path = data["path"]
            .as_str()
            .map(|p| p.trim_matches('/').to_owned())
            .filter(|p| !p.is_empty())
            .ok_or_else(|| Failure::Decode("the mount lookup has no `data.path`".into()))?;
        // `kv` without a version option is v1; `generic` is v1's old name.
        let version = match data["options"]["version"].as_str() {
            Some("2") => KvVersion::V2,
            _ => KvVersion::V1,
        };
        let mut info = data.clone();
        if let Some(o) = info.as_object_mut() {
            o.insert("path".into(), format!("{path}/").into());
        }
        Ok(Self {
            path,
            version,
            engine: data["type"].as_str().unwrap_or_default().to_owned(),
            info: Arc::new(info),
        })
    }

    /// Every mount in the `data.secret` map of `sys/internal/ui/mounts` (no path): the mounts
    /// the token has some capability under, keyed `PATH/`.
    pub(crate) fn list_from_ui_mounts(body: &SecretJson) -> Vec<Self> {
        let Some(secret) = body.expose()["data"]["secret"].as_object() else {
            return Vec::new();
        };
        secret
            .iter()
            .filter_map(|(k, v)| {
                let path = k.trim_matches('/');
                let mut info = v.clone();
                if let Some(o) = info.as_object_mut() {
                    o.insert("path".into(), format!("{path}/").into());
                }
                (!path.is_empty()).then(|| Self {
                    path: path.to_owned(),
                    version: match v["options"]["version"].as_str() {
                        Some("2") => KvVersion::V2,
                        _ => KvVersion::V1,
                    },
                    engine: v["type"].as_str().unwrap_or_default().to_owned(),
                    info: Arc::new(info),
                })
            })
            .collect()
    }

    /// Whether reads on this mount create credentials (database, PKI, cloud engines…) rather
    /// than return stored data. KV (and its old name `generic`) and the per-token `cubbyhole`
    /// store data; an unknown type (an old server that does not say) is taken as KV, as before.
    pub(crate) fn is_dynamic(&self) -> bool {
        !matches!(self.engine.as_str(), "" | "kv" | "generic" | "cubbyhole")
    }
}

/// Mounts seen so far, longest path first.
#[derive(Default)]
pub(crate) struct Mounts(RwLock<Vec<Arc<Mount>>>);

impl Mounts {
    /// Every mount known, longest path first.
    pub(crate) fn all(&self) -> Vec<Arc<Mount>> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn lookup(&self, path: &str) -> Option<Arc<Mount>> {
        let known = self.0.read().unwrap_or_else(|p| p.into_inner());
        known.iter().find(|m| is_under(path, &m.path)).cloned()
    }

    /// Remember `m`; a mount already known by that path is replaced (a listing every few
    /// seconds must not grow the list).
    pub(crate) fn remember(&self, m: Mount) -> Arc<Mount> {
        let mut known = self.0.write().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = known.iter().find(|k| ***k == m) {
            return existing.clone();
        }
        known.retain(|k| k.path != m.path);
        let m = Arc::new(m);
        known.push(m.clone());
        known.sort_by_key(|k| std::cmp::Reverse(k.path.len()));
        m
    }
}

fn is_under(path: &str, mount: &str) -> bool {
    path.strip_prefix(mount)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// A secret's place: its mount and the path below it (without KV v2's `data/`).
#[derive(Debug, Clone)]
pub(crate) struct KvPath {
    pub(crate) mount: Arc<Mount>,
    pub(crate) rest: String,
}

impl KvPath {
    /// Split `path` (already checked by [`check_path`]) at `mount`. On KV v2 a leading `data/`
    /// is the API segment a Vault Agent template writes, not part of the name.
    pub(crate) fn new(mount: Arc<Mount>, path: &str) -> Result<Self> {
        let rest = path
            .strip_prefix(mount.path.as_str())
            .and_then(|r| r.strip_prefix('/'))
            .unwrap_or_default();
        let rest = match mount.version {
            KvVersion::V2 if rest == "data" => "",
            KvVersion::V2 => rest.strip_prefix("data/").unwrap_or(rest),
            KvVersion::V1 => rest,
        };
        if rest.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidRef,
                format!(
                    "`{path}` names the mount `{}/`, not a secret in it",
                    mount.path
                ),
            )
            .with_hint(format!("write `{}/PATH`", mount.path)));
        }
        Ok(Self {
            rest: rest.to_owned(),
            mount,
        })
    }

    /// The API path a read goes to, which is also what a policy must allow.
    pub(crate) fn read_path(&self) -> String {
        match self.mount.version {
            KvVersion::V2 => format!("{}/data/{}", self.mount.path, self.rest),
            KvVersion::V1 => format!("{}/{}", self.mount.path, self.rest),
        }
    }

    /// KV v2 metadata path.
    pub(crate) fn metadata_path(&self) -> String {
        format!("{}/metadata/{}", self.mount.path, self.rest)
    }

    /// What a token needs to read this secret: `read` on the API path of a read (a pinned
    /// `?version=` reads the same path), and with `version_probes` `read` on KV v2 metadata too.
    pub(crate) fn policy_paths(&self, version_probes: bool) -> Vec<PolicyPath> {
        let mut out = vec![(self.read_path(), vec!["read"])];
        if version_probes && self.mount.version == KvVersion::V2 {
            out.push((self.metadata_path(), vec!["read"]));
        }
        out
    }
}

/// The canonical identity of `path` on `mount` (which holds it): the mount and the secret's real
/// name on it, so every spelling that reads one secret gives one string. KV v2 drops the
/// `data/` API segment, as a read of `path` does ([`KvPath::new`]); KV v1 keeps the path, where
/// `data/x` is a name like any other. With `prefix`, `path` is a grant's prefix (its `*`
/// removed) and may end anywhere, even at the mount: `m/data/` on KV v2 is every secret of `m`.
pub(crate) fn identity(mount: Arc<Mount>, path: &str, prefix: bool) -> Result<String> {
    if !prefix {
        let kv = KvPath::new(mount, path)?;
        return Ok(format!("{}/{}", kv.mount.path, kv.rest));
    }
    let rest = path
        .strip_prefix(mount.path.as_str())
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or_default();
    let rest = match mount.version {
        KvVersion::V2 => rest.strip_prefix("data/").unwrap_or(rest),
        KvVersion::V1 => rest,
    };
    Ok(format!("{}/{rest}", mount.path))
}

/// One `path "…" { capabilities = […] }` stanza of a Vault policy: the API path and the
/// capabilities it needs.
pub type PolicyPath = (String, Vec<&'static str>);

/// The policy paths for `path` without asking Vault: the first segment is taken as the mount
/// and the mount as KV v2 (the common layout; a nested mount or KV v1 needs the online lookup).
pub(crate) fn offline_policy_paths(path: &str, version_probes: bool) -> Result<Vec<PolicyPath>> {
    let path = check_path(path)?;
    let (mount, _) = path.split_once('/').unwrap_or((path, ""));
    let mount = Arc::new(Mount {
        path: mount.to_owned(),
        version: KvVersion::V2,
        engine: "kv".into(),
        info: Arc::default(),
    });
    Ok(KvPath::new(mount, path)?.policy_paths(version_probes))
}

/// Trim slashes and refuse empty, `.` and `..` segments (they would be resolved by the URL, so
/// the read would go somewhere else than the reference says).
pub(crate) fn check_path(path: &str) -> Result<&str> {
    let p = path.trim_matches('/');
    let bad = |why: &str| {
        Error::new(
            ErrorKind::InvalidRef,
            format!("invalid Vault path `{path}`: {why}"),
        )
        .with_hint(
            "write MOUNT/PATH, for example `ml-incident/prod/api` or `ml-incident/data/prod/api`",
        )
    };
    if p.is_empty() {
        return Err(bad("it is empty"));
    }
    if !p.contains('/') {
        return Err(bad("it has no mount (`MOUNT/PATH`)"));
    }
    if p.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(bad("it has an empty, `.` or `..` segment"));
    }
    Ok(p)
}

/// Connection settings a vals `ref+vault://` reference may carry; envfile takes them from the
/// backend's config instead, so they are ignored here as they always were.
const VALS_CONNECTION_PARAMS: &[&str] = &[
    "address",
    "proto",
    "namespace",
    "auth_method",
    "role_id",
    "secret_id",
    "token_env",
    "token_file",
];

/// Refuse other parameters on a KV read: with parameters a read is a write (a template's
/// `secret "PATH" "KEY=VALUE"`), and envfile does not write KV secrets from references.
pub(crate) fn check_params(path: &str, loc: &envfile_core::Locator) -> Result<()> {
    match loc
        .params
        .keys()
        .find(|k| !VALS_CONNECTION_PARAMS.contains(&k.as_str()))
    {
        None => Ok(()),
        Some(k) => Err(Error::new(
            ErrorKind::Unsupported,
            format!("`{path}` is a KV secret, and the parameter `{k}` would make its read a write"),
        )
        .with_hint(
            "parameters (`?KEY=VALUE`, or `KEY=VALUE` arguments of `secret`) are for dynamic \
             secrets engines such as `pki/issue/ROLE`; write KV secrets with `envfile import` \
             or `bao kv put`",
        )),
    }
}

/// Parse a `?version=N` pin: KV v2 versions are positive integers.
pub(crate) fn check_version(v: &str, path: &str) -> Result<u64> {
    v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidRef,
            format!("`{path}`: KV v2 versions are positive integers, not `{v}`"),
        )
        .with_hint("list versions with `bao kv metadata get MOUNT/PATH`")
    })
}

/// The response without the secret: every top-level field but `data`, and for KV v2 `data` with
/// its `metadata` and `data: null` (Vault's shape for a deleted version). Built field by field,
/// so no copy of the values is made.
pub(crate) fn envelope(body: &SecretJson, version: KvVersion) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    if let Some(o) = body.expose().as_object() {
        for (k, v) in o {
            if k != "data" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    let data = match version {
        KvVersion::V1 => serde_json::Value::Null,
        KvVersion::V2 => serde_json::json!({
            "data": null,
            "metadata": body.expose()["data"]["metadata"].clone(),
        }),
    };
    out.insert("data".into(), data);
    serde_json::Value::Object(out)
}

/// The secret's data object as compact JSON, and its version (KV v2). The value is serialized
/// straight from the response, which is zeroized when dropped.
pub(crate) fn extract(
    body: &SecretJson,
    version: KvVersion,
) -> std::result::Result<(SecretValue, Option<String>), Failure> {
    let root = &body.expose()["data"];
    let (data, ver) = match version {
        KvVersion::V1 => (root, None),
        KvVersion::V2 => (
            &root["data"],
            root["metadata"]["version"].as_u64().map(|v| v.to_string()),
        ),
    };
    if !data.is_object() {
        return Err(Failure::Decode(format!(
            "the {version} read has no data object (`{}`)",
            match version {
                KvVersion::V1 => "data",
                KvVersion::V2 => "data.data",
            }
        )));
    }
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(256));
    serde_json::to_writer(&mut *buf, data)
        .map_err(|_| Failure::Decode("the secret data could not be re-encoded".into()))?;
    Ok((SecretValue::new(std::mem::take(&mut *buf)), ver))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(path: &str, version: KvVersion) -> Arc<Mount> {
        Arc::new(Mount {
            path: path.into(),
            version,
            engine: "kv".into(),
            info: Arc::default(),
        })
    }

    #[test]
    fn v2_paths_with_or_without_data_segment_read_the_same() {
        let m = mount("ml-incident", KvVersion::V2);
        for p in ["ml-incident/prod/api", "ml-incident/data/prod/api"] {
            let k = KvPath::new(m.clone(), p).unwrap();
            assert_eq!(k.read_path(), "ml-incident/data/prod/api");
            assert_eq!(k.metadata_path(), "ml-incident/metadata/prod/api");
        }
    }

    #[test]
    fn policy_paths_follow_the_kv_version() {
        let v2 = KvPath::new(mount("m", KvVersion::V2), "m/data/a/b").unwrap();
        assert_eq!(
            v2.policy_paths(false),
            vec![("m/data/a/b".to_owned(), vec!["read"])]
        );
        assert_eq!(
            v2.policy_paths(true),
            vec![
                ("m/data/a/b".to_owned(), vec!["read"]),
                ("m/metadata/a/b".to_owned(), vec!["read"])
            ]
        );
        let v1 = KvPath::new(mount("team/kv", KvVersion::V1), "team/kv/x").unwrap();
        assert_eq!(
            v1.policy_paths(true),
            vec![("team/kv/x".to_owned(), vec!["read"])]
        );
        assert_eq!(
            offline_policy_paths("/app/prod/api", true).unwrap(),
            vec![
                ("app/data/prod/api".to_owned(), vec!["read"]),
                ("app/metadata/prod/api".to_owned(), vec!["read"])
            ]
        );
        assert_eq!(
            offline_policy_paths("app/data/prod/api", false).unwrap(),
            vec![("app/data/prod/api".to_owned(), vec!["read"])]
        );
        assert!(offline_policy_paths("app", false).is_err());
    }

    #[test]
    fn v1_paths_are_kept() {
        let m = mount("team/kv", KvVersion::V1);
        let k = KvPath::new(m, "team/kv/data/x").unwrap();
        assert_eq!(k.read_path(), "team/kv/data/x");
    }

    #[test]
    fn identities_name_the_secret_read_not_the_spelling() {
        let v2 = mount("secret", KvVersion::V2);
        let v1 = mount("kv1", KvVersion::V1);
        let id = |m: &Arc<Mount>, p: &str| identity(m.clone(), p, false).unwrap();
        let pre = |m: &Arc<Mount>, p: &str| identity(m.clone(), p, true).unwrap();
        // KV v2: with or without the API segment, one secret; `data/data/x` is the secret `data/x`.
        assert_eq!(id(&v2, "secret/x"), "secret/x");
        assert_eq!(id(&v2, "secret/data/x"), "secret/x");
        assert_eq!(id(&v2, "secret/data/data/x"), "secret/data/x");
        // KV v1: `data/` is part of the name.
        assert_eq!(id(&v1, "kv1/x"), "kv1/x");
        assert_eq!(id(&v1, "kv1/data/x"), "kv1/data/x");
        assert!(identity(v2.clone(), "secret/data", false).is_err());
        // Prefixes: the same rule, and they may stop at the mount.
        assert_eq!(pre(&v2, "secret/data/"), "secret/");
        assert_eq!(pre(&v2, "secret/"), "secret/");
        assert_eq!(pre(&v2, "secret/data/app/"), "secret/app/");
        assert_eq!(pre(&v2, "secret/data"), "secret/data");
        assert_eq!(pre(&v1, "kv1/data/"), "kv1/data/");
    }

    #[test]
    fn the_mount_list_gives_every_mount_and_its_version() {
        let body = SecretJson::from_value(serde_json::json!({ "data": { "auth": {}, "secret": {
            "secret/": { "type": "kv", "options": { "version": "2" } },
            "kv1/": { "type": "kv", "options": { "version": "1" } },
            "team/kv/": { "type": "kv", "options": null },
        } } }));
        let mut ms = Mount::list_from_ui_mounts(&body);
        ms.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(
            ms.iter()
                .map(|m| (m.path.as_str(), m.version))
                .collect::<Vec<_>>(),
            vec![
                ("kv1", KvVersion::V1),
                ("secret", KvVersion::V2),
                ("team/kv", KvVersion::V1)
            ]
        );
    }

    #[test]
    fn mount_itself_is_not_a_secret() {
        let m = mount("ml-incident", KvVersion::V2);
        let e = KvPath::new(m, "ml-incident/data").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRef);
    }

    #[test]
    fn longest_mount_wins_and_prefixes_respect_segments() {
        let ms = Mounts::default();
        ms.remember(Mount {
            path: "a".into(),
            version: KvVersion::V1,
            engine: "kv".into(),
            info: Arc::default(),
        });
        ms.remember(Mount {
            path: "a/b".into(),
            version: KvVersion::V2,
            engine: "kv".into(),
            info: Arc::default(),
        });
        assert_eq!(ms.lookup("a/b/c").unwrap().path, "a/b");
        assert_eq!(ms.lookup("a/bc/d").unwrap().path, "a");
        assert!(ms.lookup("ab/c").is_none());
    }

    #[test]
    fn bad_paths_and_versions_are_invalid_refs() {
        for p in ["", "/", "nomount", "a//b", "a/../b", "a/./b"] {
            assert_eq!(
                check_path(p).unwrap_err().kind(),
                ErrorKind::InvalidRef,
                "{p}"
            );
        }
        assert_eq!(check_path("/a/b/").unwrap(), "a/b");
        for v in ["0", "-1", "x", "1.5"] {
            assert!(check_version(v, "a/b").is_err(), "{v}");
        }
        assert_eq!(check_version("3", "a/b").unwrap(), 3);
    }

    #[test]
    fn extract_takes_the_data_object() {
        let body = SecretJson::from_value(serde_json::json!({
            "data": { "data": { "k": "v" }, "metadata": { "version": 4 } }
        }));
        let (v, ver) = extract(&body, KvVersion::V2).unwrap();
        assert!(v.expose_bytes() == br#"{"k":"v"}"#);
        assert_eq!(ver.as_deref(), Some("4"));
        let body = SecretJson::from_value(serde_json::json!({ "data": { "k": "v" } }));
        let (v, ver) = extract(&body, KvVersion::V1).unwrap();
        assert!(v.expose_bytes() == br#"{"k":"v"}"#);
        assert_eq!(ver, None);
        let deleted = SecretJson::from_value(serde_json::json!({ "data": { "data": null } }));
        assert!(extract(&deleted, KvVersion::V2).is_err());
    }
}
