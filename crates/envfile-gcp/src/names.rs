//! Secret Manager resource names: turning a [`Locator`] into `projects/P/[locations/L/]secrets/S`
//! and a version id.
//!
//! Name grammar: <https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets>
//! (`projects/*/secrets/*`, `projects/*/locations/*/secrets/*`, versions `…/versions/*`, where
//! `latest` aliases the most recently created version).

use crate::config::{check_segment, GcpConfig};
use envfile_core::{Error, ErrorKind, Locator, Result};

/// A secret's full resource name, split so messages and `gcloud` hints can use the parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretName {
    /// Project id or number.
    pub project: String,
    /// Location of a regional secret.
    pub location: Option<String>,
    /// The secret id.
    pub secret: String,
}

impl SecretName {
    /// `projects/P[/locations/L]`: the parent for CreateSecret.
    pub fn parent(&self) -> String {
        match &self.location {
            Some(l) => format!("projects/{}/locations/{l}", self.project),
            None => format!("projects/{}", self.project),
        }
    }

    /// `projects/P[/locations/L]/secrets/S`.
    pub fn name(&self) -> String {
        format!("{}/secrets/{}", self.parent(), self.secret)
    }

    /// `…/secrets/S/versions/V`.
    pub fn version_name(&self, version: &str) -> String {
        format!("{}/versions/{version}", self.name())
    }

    /// The `gcloud` flags that address this secret, for hints.
    pub fn gcloud_flags(&self) -> String {
        match &self.location {
            Some(l) => format!("--project {} --location {l}", self.project),
            None => format!("--project {}", self.project),
        }
    }
}

fn bad_ref(loc: &Locator, why: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidRef, why)
        .with_reference(&loc.path)
        .with_hint(
            "name a GCP secret as a bare id (`gcp:my-secret`), \
         `projects/P/secrets/S[/versions/V]` or `projects/P/locations/L/secrets/S[/versions/V]`",
        )
}

/// A secret id: 1–255 of `[A-Za-z0-9_-]` (the `secretId` rule of CreateSecret:
/// <https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets/create>).
pub fn check_secret_id(id: &str) -> std::result::Result<(), String> {
    if id.is_empty() || id.len() > 255 {
        return Err(format!(
            "secret id must be 1 to 255 characters, got {}",
            id.len()
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "secret id {id:?} contains {c:?}: only letters, digits, `-` and `_` are allowed"
        ));
    }
    Ok(())
}

/// Resolve a locator to the secret's name and the version to read (`latest` when unpinned).
/// A version may come from the path (`…/versions/V`) or from `Locator::version`; both at once
/// must agree.
pub fn resolve(cfg: &GcpConfig, loc: &Locator) -> Result<(SecretName, String)> {
    let path = loc.path.trim_matches('/');
    let (name, path_version) = if path.starts_with("projects/") {
        parse_full(loc, path)?
    } else {
        if path.contains('/') {
            return Err(bad_ref(
                loc,
                format!("`{path}` is neither a secret id nor a `projects/…/secrets/…` name"),
            ));
        }
        check_secret_id(path).map_err(|why| bad_ref(loc, why))?;
        let project = cfg.project.clone().ok_or_else(|| {
            Error::config(format!(
                "`{path}` is a bare secret id and no GCP project is configured"
            ))
            .with_reference(&loc.path)
            .with_hint(
                "set `project` on the gcp backend, or GOOGLE_CLOUD_PROJECT, or write \
                 `projects/PROJECT/secrets/ID`",
            )
        })?;
        (
            SecretName {
                project,
                location: cfg.location.clone(),
                secret: path.to_owned(),
            },
            None,
        )
    };
    let version = match (path_version, loc.version.as_deref()) {
        (Some(a), Some(b)) if a != b => {
            return Err(bad_ref(
                loc,
                format!("the name pins version `{a}` and the reference pins `{b}`"),
            ))
        }
        (Some(a), _) => a,
        (None, Some(b)) => b.to_owned(),
        (None, None) => "latest".to_owned(),
    };
    // Numbers, `latest`, or a version alias (aliases share the secret id alphabet).
    check_secret_id(&version).map_err(|_| {
        bad_ref(
            loc,
            format!("`{version}` is not a version number, alias or `latest`"),
        )
    })?;
    Ok((name, version))
}

fn parse_full(loc: &Locator, path: &str) -> Result<(SecretName, Option<String>)> {
    let parts: Vec<&str> = path.split('/').collect();
    let (project, location, rest) = match parts.as_slice() {
        ["projects", p, "locations", l, rest @ ..] => (*p, Some(*l), rest),
        ["projects", p, rest @ ..] => (*p, None, rest),
        _ => unreachable!("caller checked the `projects/` prefix"),
    };
    let (secret, version) = match rest {
        ["secrets", s] => (*s, None),
        ["secrets", s, "versions", v] => (*s, Some((*v).to_owned())),
        _ => {
            return Err(bad_ref(
                loc,
                format!("`{path}` does not have the shape `projects/P/[locations/L/]secrets/S[/versions/V]`"),
            ))
        }
    };
    check_segment(project).map_err(|why| bad_ref(loc, format!("project: {why}")))?;
    if let Some(l) = location {
        check_segment(l).map_err(|why| bad_ref(loc, format!("location: {why}")))?;
    }
    check_secret_id(secret).map_err(|why| bad_ref(loc, why))?;
    Ok((
        SecretName {
            project: project.to_owned(),
            location: location.map(str::to_owned),
            secret: secret.to_owned(),
        },
        version,
    ))
}

/// The last segment of a version name (`…/versions/3` → `3`).
pub fn version_id(version_name: &str) -> Option<&str> {
    version_name
        .rsplit_once("/versions/")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CredentialsMode;

    fn cfg(project: Option<&str>, location: Option<&str>) -> GcpConfig {
        GcpConfig::new(
            project.map(Into::into),
            location.map(Into::into),
            None,
            CredentialsMode::Anonymous,
        )
        .unwrap()
    }

    fn loc(path: &str, version: Option<&str>) -> Locator {
        Locator {
            version: version.map(Into::into),
            ..Locator::new(path)
        }
    }

    #[test]
    fn bare_ids_use_the_configured_project_and_location() {
        let (n, v) = resolve(&cfg(Some("p1"), None), &loc("db-url", None)).unwrap();
        assert_eq!(n.name(), "projects/p1/secrets/db-url");
        assert_eq!(v, "latest");
        let (n, v) = resolve(
            &cfg(Some("p1"), Some("europe-west1")),
            &loc("db", Some("3")),
        )
        .unwrap();
        assert_eq!(
            n.version_name(&v),
            "projects/p1/locations/europe-west1/secrets/db/versions/3"
        );
    }

    #[test]
    fn full_names_ignore_the_configured_project() {
        let c = cfg(Some("other"), Some("us-east1"));
        let (n, v) = resolve(&c, &loc("projects/p2/secrets/s", None)).unwrap();
        assert_eq!(
            (n.name().as_str(), v.as_str()),
            ("projects/p2/secrets/s", "latest")
        );
        let (n, v) = resolve(&c, &loc("projects/p2/secrets/s/versions/7", None)).unwrap();
        assert_eq!(
            (n.name().as_str(), v.as_str()),
            ("projects/p2/secrets/s", "7")
        );
        let (n, v) = resolve(
            &c,
            &loc(
                "projects/p2/locations/eu/secrets/s/versions/latest",
                Some("latest"),
            ),
        )
        .unwrap();
        assert_eq!(
            (n.name().as_str(), v.as_str()),
            ("projects/p2/locations/eu/secrets/s", "latest")
        );
    }

    #[test]
    fn bad_references_say_what_is_wrong() {
        let c = cfg(Some("p"), None);
        for (path, version, expect) in [
            ("projects/p/secrets/s/versions/2", Some("3"), "pins version"),
            ("projects/p/topics/t", None, "does not have the shape"),
            ("a/b", None, "neither a secret id"),
            ("bad.id", None, "contains '.'"),
            ("s", Some("1 2"), "not a version"),
        ] {
            let e = resolve(&c, &loc(path, version)).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidRef, "{path}");
            assert!(e.message().contains(expect), "{path}: {e}");
        }
        let e = resolve(&cfg(None, None), &loc("s", None)).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e
            .hint()
            .unwrap_or_default()
            .contains("GOOGLE_CLOUD_PROJECT"));
    }

    #[test]
    fn version_ids() {
        assert_eq!(version_id("projects/p/secrets/s/versions/12"), Some("12"));
        assert_eq!(version_id("projects/p/secrets/s"), None);
    }
}
