//! How a locator names a parameter: a name (`/app/prod/db`, `db_password`), an ARN
//! (`arn:aws:ssm:REGION:ACCOUNT:parameter/app/prod/db`, ECS `valueFrom`), either followed by a
//! selector (`:3` a version, `:label` a label), or a `/aws/reference/secretsmanager/NAME` path.

use envfile_core::{Error, Locator, Result};

/// A parameter request, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The name or ARN, without a selector.
    pub id: String,
    /// The region in the ARN, when the id is one.
    pub arn_region: Option<String>,
    /// The account in the ARN, when the id is one.
    pub arn_account: Option<String>,
    /// `3` or `label`, without the colon.
    pub selector: Option<String>,
}

impl Param {
    /// What the API's `Name` gets: the id and its selector.
    pub fn api_name(&self) -> String {
        match &self.selector {
            Some(s) => format!("{}:{s}", self.id),
            None => self.id.clone(),
        }
    }

    /// The parameter name: a name as written, or the name an ARN names (hierarchical names
    /// lose their leading `/` in an ARN; a one-level name cannot be told from `/name` by the
    /// ARN alone, and is taken without the slash).
    pub fn name(&self) -> String {
        match self.id.split_once(":parameter/") {
            Some((_, tail)) if self.arn_region.is_some() => {
                if tail.contains('/') {
                    format!("/{tail}")
                } else {
                    tail.to_owned()
                }
            }
            _ => self.id.clone(),
        }
    }
}

/// Parse a locator. `?version=` and `?stage=` (a label) are selectors too; at most one selector.
pub fn parse(loc: &Locator) -> Result<Param> {
    let path = loc.path.as_str();
    let (id, mut selector, arn_region, arn_account) = if path.starts_with("arn:") {
        let f: Vec<&str> = path.split(':').collect();
        if f.len() < 6 || f.len() > 7 || f[2] != "ssm" || !f[5].starts_with("parameter/") {
            return Err(Error::new(
                envfile_core::ErrorKind::InvalidRef,
                format!("`{path}` is not an SSM parameter ARN"),
            )
            .with_hint("write `arn:aws:ssm:REGION:ACCOUNT:parameter/NAME` or a parameter name"));
        }
        (
            f[..6].join(":"),
            f.get(6).map(|s| (*s).to_owned()),
            Some(f[3].to_owned()),
            Some(f[4].to_owned()),
        )
    } else {
        match path.rsplit_once(':') {
            Some((n, s)) => (n.to_owned(), Some(s.to_owned()), None, None),
            None => (path.to_owned(), None, None, None),
        }
    };
    for pin in [&loc.version, &loc.stage].into_iter().flatten() {
        if selector.is_some() {
            return Err(Error::new(
                envfile_core::ErrorKind::InvalidRef,
                format!("`{path}` has more than one version or label"),
            )
            .with_hint("keep one: `NAME:VERSION` or `NAME:LABEL`"));
        }
        selector = Some(pin.clone());
    }
    if id.is_empty() || selector.as_deref() == Some("") {
        return Err(Error::new(
            envfile_core::ErrorKind::InvalidRef,
            format!("`{path}` names no parameter (empty name or selector)"),
        ));
    }
    Ok(Param {
        id,
        arn_region,
        arn_account,
        selector,
    })
}

/// A hint for a parameter that was not found, from the shape of what was asked.
pub fn not_found_hint(p: &Param, region: &str, default_region: Option<&str>) -> String {
    let name = p.name();
    if p.arn_region.is_none() && name.contains('/') && !name.starts_with('/') {
        return format!(
            "hierarchical parameter names start with `/`: try `/{name}` (a name without its \
             leading `/` is another parameter)"
        );
    }
    if let (Some(r), Some(d)) = (&p.arn_region, default_region) {
        if r != d {
            return format!(
                "the ARN names region {r}, where it was looked up; the backend's region is {d}: \
                 check the ARN's region"
            );
        }
    }
    format!(
        "check the exact name (case matters) and the region ({region}); list parameters with \
         `aws ssm describe-parameters --region {region}`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Param {
        parse(&Locator::new(s)).unwrap()
    }

    #[test]
    fn names_arns_and_selectors() {
        let a = p("/app/prod/db:3");
        assert_eq!(
            (a.id.as_str(), a.selector.as_deref()),
            ("/app/prod/db", Some("3"))
        );
        assert_eq!(a.api_name(), "/app/prod/db:3");
        let a = p("arn:aws:ssm:eu-west-1:123456789012:parameter/app/prod/db");
        assert_eq!(a.arn_region.as_deref(), Some("eu-west-1"));
        assert_eq!(a.name(), "/app/prod/db");
        assert_eq!(a.selector, None);
        let a = p("arn:aws:ssm:eu-west-1:123456789012:parameter/db:live");
        assert_eq!(
            (a.name().as_str(), a.selector.as_deref()),
            ("db", Some("live"))
        );
        let a = p("/aws/reference/secretsmanager/app/db");
        assert_eq!(a.api_name(), "/aws/reference/secretsmanager/app/db");
        let mut l = Locator::new("/x");
        l.version = Some("2".into());
        assert_eq!(parse(&l).unwrap().api_name(), "/x:2");
        l.path = "/x:3".into();
        assert!(parse(&l).is_err(), "two selectors");
        assert!(parse(&Locator::new("arn:aws:secretsmanager:r:1:secret:x")).is_err());
        assert!(parse(&Locator::new("/x:")).is_err());
    }

    #[test]
    fn hints_name_the_likely_mistake() {
        assert!(not_found_hint(&p("app/db"), "eu-west-1", None).contains("`/app/db`"));
        let arn = p("arn:aws:ssm:us-east-1:123456789012:parameter/app/db");
        assert!(not_found_hint(&arn, "us-east-1", Some("eu-west-1")).contains("region us-east-1"));
    }
}
