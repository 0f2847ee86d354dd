//! Parses every accepted reference form into a [`Reference`].
//!
//! The forms are told apart by their opening, checked in this order, so a foreign form always
//! wins over a canonical reference to a backend instance that happens to share its prefix
//! (an instance named `arn` or `sm` cannot be reached with the canonical syntax):
//!
//! | opening            | form                                                         |
//! |--------------------|--------------------------------------------------------------|
//! | `arn:`             | ECS `valueFrom` secret ARN                                   |
//! | `projects/`        | GCP resource name                                            |
//! | `sm://`            | berglas                                                      |
//! | `ref+`/`secretref+`| vals                                                         |
//! | `NAME:`            | canonical `BACKEND:PATH[#KEY][?version=V&stage=S]`           |
//!
//! Every error is [`ErrorKind::InvalidRef`](crate::ErrorKind::InvalidRef), quotes the reference and
//! names the part that is wrong, so a user with fifty references in a config finds the bad one.

use crate::error::Result;
use crate::reference::{invalid, BackendSel, KeySel, Locator, RefForm, Reference};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use std::collections::BTreeMap;

pub(crate) fn parse(s: &str) -> Result<Reference> {
    let raw = s;
    if raw.is_empty() {
        return Err(invalid(raw, "reference", "it is empty"));
    }
    if raw.trim() != raw {
        return Err(invalid(
            raw,
            "reference",
            "it has leading or trailing whitespace; remove it (check for a stray newline in the config)",
        ));
    }
    if raw.chars().any(char::is_control) {
        return Err(invalid(
            raw,
            "reference",
            "it contains a control character (newline, tab, …); percent-encode it if it is part of the path",
        ));
    }
    if raw.starts_with("arn:") {
        parse_ecs_arn(raw)
    } else if raw.starts_with("projects/") {
        parse_gcp_resource(raw)
    } else if let Some(rest) = raw.strip_prefix("sm://") {
        parse_berglas(raw, rest)
    } else if let Some(rest) = raw
        .strip_prefix("ref+")
        .or_else(|| raw.strip_prefix("secretref+"))
    {
        parse_vals(raw, rest)
    } else {
        parse_canonical(raw)
    }
}

/// The canonical spelling of `r`: `BACKEND:PATH[#KEY][?version=V&stage=S&…]`, percent-encoded so
/// it parses back to the same locator and key (with [`BackendSel::Named`], whatever `r` had).
pub(crate) fn canonical(r: &Reference) -> String {
    let name = r.backend.as_str();
    let mut out = format!("{name}:");
    // `sm:` followed by `//` would read back as a berglas reference: the first `/` is escaped
    // (it decodes to the same path).
    let path = match r.locator.path.strip_prefix('/') {
        Some(rest) if name == "sm" && rest.starts_with('/') => {
            out.push_str("%2F");
            rest
        }
        _ => r.locator.path.as_str(),
    };
    out.extend(utf8_percent_encode(path, PATH_ESCAPES));
    match &r.key {
        Some(KeySel::Pointer(p)) => {
            out.push('#');
            out.extend(utf8_percent_encode(p, PATH_ESCAPES));
        }
        Some(KeySel::Field(f)) => {
            out.push('#');
            // A leading `/` would read back as a pointer.
            if let Some(rest) = f.strip_prefix('/') {
                out.push_str("%2F");
                out.extend(utf8_percent_encode(rest, PATH_ESCAPES));
            } else {
                out.extend(utf8_percent_encode(f, PATH_ESCAPES));
            }
        }
        None => {}
    }
    let mut query = Vec::new();
    if let Some(v) = &r.locator.version {
        query.push(("version", v.as_str()));
    }
    if let Some(s) = &r.locator.stage {
        query.push(("stage", s.as_str()));
    }
    for (k, v) in &r.locator.params {
        query.push((k.as_str(), v.as_str()));
    }
    for (i, (k, v)) in query.into_iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.extend(utf8_percent_encode(v, QUERY_ESCAPES));
    }
    out
}

/// What must be escaped in a canonical path or key: the delimiters, `%` itself, and spaces (so a
/// path ending in a space does not become a reference with trailing whitespace).
const PATH_ESCAPES: &AsciiSet = &CONTROLS.add(b'%').add(b'#').add(b'?').add(b' ');
/// In a query value `&` and `=` are delimiters too.
const QUERY_ESCAPES: &AsciiSet = &PATH_ESCAPES.add(b'&').add(b'=');

const FORMS_HINT: &str =
    "write `BACKEND:PATH[#KEY][?version=V&stage=S]`, an ECS secret ARN, a GCP \
     resource name (`projects/P/secrets/S`), `sm://P/S`, or a vals `ref+…://` reference";

// ---------------------------------------------------------------------------------------------
// Canonical

fn parse_canonical(raw: &str) -> Result<Reference> {
    let Some((name, rest)) = raw.split_once(':') else {
        return Err(
            invalid(raw, "backend name", "there is none (no `BACKEND:` prefix)").with_hint(
                format!(
                    "name the backend instance from the config, e.g. `file:{raw}` or `aws:{raw}`"
                ),
            ),
        );
    };
    if !is_backend_name(name) {
        return Err(invalid(
            raw,
            "backend name",
            format!("`{name}` is not one (letters, digits, `_` and `-`, starting with a letter)"),
        )
        .with_hint(format!(
            "a reference starts with the backend instance from the config, e.g. `aws:{raw}`; \
             otherwise {FORMS_HINT}"
        )));
    }
    let parts = split_parts(raw, rest)?;
    let path = decode(raw, "path", parts.path)?;
    if path.is_empty() {
        return Err(invalid(
            raw,
            "path",
            format!("it is empty; write `{name}:PATH`"),
        ));
    }
    let mut locator = Locator::new(path);
    apply_query(
        raw,
        &parts,
        &[("version", Slot::Version), ("stage", Slot::Stage)],
        &mut locator,
    )?;
    Ok(Reference {
        backend: BackendSel::Named(name.to_owned()),
        locator,
        key: parts.key.map(|k| parse_key(raw, k)).transpose()?,
        form: RefForm::Canonical,
        raw: raw.to_owned(),
    })
}

fn is_backend_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

// ---------------------------------------------------------------------------------------------
// ECS `valueFrom`: arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME[:json-key:stage:version-id]

fn parse_ecs_arn(raw: &str) -> Result<Reference> {
    let fields: Vec<&str> = raw.split(':').collect();
    if fields.get(2) == Some(&"ssm") {
        return parse_ssm_arn(raw, &fields);
    }
    if fields.len() < 7 {
        return Err(invalid(
            raw,
            "ARN",
            format!(
                "it has {} colon-separated fields; a secret ARN is \
                 `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`",
                fields.len()
            ),
        ));
    }
    let (partition, service, region, account, resource, name) = (
        fields[1], fields[2], fields[3], fields[4], fields[5], fields[6],
    );
    if !is_partition(partition) {
        return Err(invalid(
            raw,
            "ARN partition",
            format!("`{partition}` is not an AWS partition (`aws`, `aws-cn`, `aws-us-gov`, …)"),
        ));
    }
    if service != "secretsmanager" {
        return Err(invalid(
            raw,
            "ARN service",
            format!(
                "`{service}` is not supported; only Secrets Manager ARNs \
                 (`arn:{partition}:secretsmanager:…`) are"
            ),
        ));
    }
    if !is_aws_region(region) {
        return Err(invalid(
            raw,
            "ARN region",
            format!("`{region}` is not an AWS region (like `eu-central-1`)"),
        ));
    }
    if !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid(
            raw,
            "ARN account",
            format!("`{account}` is not a 12-digit AWS account id"),
        ));
    }
    if resource != "secret" {
        return Err(invalid(
            raw,
            "ARN resource type",
            format!("expected `secret`, found `{resource}`"),
        ));
    }
    if name.is_empty() {
        return Err(invalid(raw, "secret name", "it is empty"));
    }
    if let Some(c) = name.chars().find(|&c| !is_aws_name_char(c)) {
        return Err(invalid(
            raw,
            "secret name",
            format!("`{c}` is not allowed (AWS secret names use letters, digits and `/_+=.@-`)"),
        ));
    }
    let (json_key, stage, version_id) = match fields.len() {
        7 => ("", "", ""),
        10 => (fields[7], fields[8], fields[9]),
        n => {
            return Err(invalid(
                raw,
                "ARN",
                format!(
                    "it has {n} colon-separated fields; ECS wants either none or all three \
                     trailing fields `:json-key:version-stage:version-id` (each may be empty)"
                ),
            )
            .with_hint(format!(
                "for a JSON key write `arn:…:secret:{name}:KEY::`; for a stage \
                 `arn:…:secret:{name}::AWSPREVIOUS:`"
            )))
        }
    };
    if !stage.is_empty() && !version_id.is_empty() {
        return Err(invalid(
            raw,
            "ARN version-stage/version-id",
            "both are set, which ECS rejects",
        )
        .with_hint("keep only one: the version-stage (e.g. `AWSPREVIOUS`) or the version-id"));
    }
    let mut locator = Locator::new(fields[..7].join(":"));
    locator.stage = non_empty(stage);
    locator.version = non_empty(version_id);
    Ok(Reference {
        backend: BackendSel::Kind("aws".to_owned()),
        locator,
        // ECS takes the json-key verbatim (no escapes, no pointers): top-level keys only.
        key: non_empty(json_key).map(KeySel::Field),
        form: RefForm::EcsArn,
        raw: raw.to_owned(),
    })
}

// ECS `valueFrom` of an SSM parameter: arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME. The
// name after `parameter/` lost the leading `/` of a hierarchical name; the `ssm` backend
// restores it. The locator keeps the ARN, so the ARN's region is the one read.
fn parse_ssm_arn(raw: &str, fields: &[&str]) -> Result<Reference> {
    if fields.len() != 6 {
        return Err(invalid(
            raw,
            "ARN",
            format!(
                "it has {} colon-separated fields; a parameter ARN is \
                 `arn:aws:ssm:REGION:ACCOUNT:parameter/NAME` (ECS takes no version or label)",
                fields.len()
            ),
        ));
    }
    let (partition, region, account, resource) = (fields[1], fields[3], fields[4], fields[5]);
    if !is_partition(partition) {
        return Err(invalid(
            raw,
            "ARN partition",
            format!("`{partition}` is not an AWS partition (`aws`, `aws-cn`, `aws-us-gov`, …)"),
        ));
    }
    if !is_aws_region(region) {
        return Err(invalid(
            raw,
            "ARN region",
            format!("`{region}` is not an AWS region (like `eu-central-1`)"),
        ));
    }
    if !(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())) {
        return Err(invalid(
            raw,
            "ARN account",
            format!("`{account}` is not a 12-digit AWS account id"),
        ));
    }
    let Some(name) = resource.strip_prefix("parameter/") else {
        return Err(invalid(
            raw,
            "ARN resource type",
            format!("expected `parameter/NAME`, found `{resource}`"),
        ));
    };
    if name.is_empty() || name.starts_with('/') {
        return Err(invalid(
            raw,
            "parameter name",
            "it is empty or starts with `/` (an ARN writes `/app/db` as `parameter/app/db`)",
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || "/_.-".contains(c)))
    {
        return Err(invalid(
            raw,
            "parameter name",
            format!("`{c}` is not allowed (parameter names use letters, digits and `/_.-`)"),
        ));
    }
    Ok(Reference {
        backend: BackendSel::Kind("ssm".to_owned()),
        locator: Locator::new(raw),
        key: None,
        form: RefForm::EcsArn,
        raw: raw.to_owned(),
    })
}

fn is_partition(s: &str) -> bool {
    s == "aws"
        || s.strip_prefix("aws-").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .split('-')
                    .all(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_lowercase()))
        })
}

/// `us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-isob-east-1`: lowercase words joined by `-`,
/// the first two letters long, the last a number.
fn is_aws_region(s: &str) -> bool {
    let segs: Vec<&str> = s.split('-').collect();
    segs.len() >= 3
        && segs[0].len() == 2
        && segs[..segs.len() - 1]
            .iter()
            .all(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_lowercase()))
        && segs
            .last()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn is_aws_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

// ---------------------------------------------------------------------------------------------
// GCP resource names and berglas

fn parse_gcp_resource(raw: &str) -> Result<Reference> {
    let (name, key) = match raw.split_once('#') {
        Some((name, key)) => (name, Some(key)),
        None => (raw, None),
    };
    if name.contains('?') {
        return Err(invalid(
            raw,
            "GCP resource name",
            "it has a `?` query; pin a version with `/versions/V` instead",
        ));
    }
    let segs: Vec<&str> = name.split('/').collect();
    let (project, location, secret, version) = match segs.as_slice() {
        ["projects", p, "secrets", s] => (*p, None, *s, None),
        ["projects", p, "secrets", s, "versions", v] => (*p, None, *s, Some(*v)),
        ["projects", p, "locations", l, "secrets", s] => (*p, Some(*l), *s, None),
        ["projects", p, "locations", l, "secrets", s, "versions", v] => {
            (*p, Some(*l), *s, Some(*v))
        }
        _ => {
            return Err(invalid(
                raw,
                "GCP resource name",
                "expected `projects/P/secrets/S[/versions/V]` or \
                 `projects/P/locations/L/secrets/S[/versions/V]`",
            ))
        }
    };
    check_gcp_project(raw, project)?;
    if let Some(l) = location {
        if l.is_empty()
            || !l
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid(
                raw,
                "location",
                format!("`{l}` is not a GCP location (like `us-central1`)"),
            ));
        }
    }
    check_gcp_secret_id(raw, secret)?;
    if let Some(v) = version {
        check_gcp_version(raw, v)?;
    }
    let path = segs[..if version.is_some() {
        segs.len() - 2
    } else {
        segs.len()
    }]
        .join("/");
    let mut locator = Locator::new(path);
    locator.version = version.map(str::to_owned);
    Ok(Reference {
        backend: BackendSel::Kind("gcp".to_owned()),
        locator,
        key: key.map(|k| parse_key(raw, k)).transpose()?,
        form: RefForm::GcpResource,
        raw: raw.to_owned(),
    })
}

fn parse_berglas(raw: &str, rest: &str) -> Result<Reference> {
    // berglas puts the *version* after `#`, not a key.
    let (name, version) = match rest.split_once('#') {
        Some((name, v)) => (name, Some(v)),
        None => (rest, None),
    };
    if name.contains('?') {
        return Err(invalid(
            raw,
            "berglas reference",
            "berglas query options (`?destination=…`) are not supported; remove the `?…` part",
        ));
    }
    let Some((project, secret)) = name.split_once('/') else {
        return Err(invalid(
            raw,
            "berglas reference",
            "expected `sm://PROJECT/SECRET[#VERSION]`",
        ));
    };
    check_gcp_project(raw, project)?;
    check_gcp_secret_id(raw, secret)?;
    if let Some(v) = version {
        check_gcp_version(raw, v)?;
    }
    let mut locator = Locator::new(format!("projects/{project}/secrets/{secret}"));
    locator.version = version.map(str::to_owned);
    Ok(Reference {
        backend: BackendSel::Kind("gcp".to_owned()),
        locator,
        key: None,
        form: RefForm::Berglas,
        raw: raw.to_owned(),
    })
}

/// Lowercase letters, digits and `-` (plus `.`/`:` for domain-scoped `example.com:proj`), or a
/// project number. Length is not checked: emulators accept any id, and GCP names a wrong one.
fn check_gcp_project(raw: &str, p: &str) -> Result<()> {
    let ok = p
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && p.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b':')
        })
        && !p.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            raw,
            "project id",
            format!(
                "`{p}` is not a GCP project id (lowercase letters, digits and `-`, starting with a \
                 letter) or project number"
            ),
        ))
    }
}

fn check_gcp_secret_id(raw: &str, s: &str) -> Result<()> {
    let ok = (1..=255).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            raw,
            "secret id",
            format!("`{s}` is not a GCP secret id (1-255 of letters, digits, `_` and `-`)"),
        ))
    }
}

/// `latest`, a version number, or a version alias.
fn check_gcp_version(raw: &str, v: &str) -> Result<()> {
    let ok = !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            raw,
            "version",
            format!("`{v}` is not a GCP secret version (`latest`, a number, or an alias)"),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// vals: ref+awssecrets://…, ref+vault://…, ref+gcpsecrets://…

fn parse_vals(raw: &str, rest: &str) -> Result<Reference> {
    let Some((scheme, body)) = rest.split_once("://") else {
        return Err(invalid(
            raw,
            "vals reference",
            "expected `ref+SCHEME://…` (`awssecrets`, `vault` or `gcpsecrets`)",
        ));
    };
    if raw.ends_with('+') {
        return Err(invalid(
            raw,
            "vals reference",
            "the trailing `+` (vals' \"leave the reference as is\" marker) has no meaning here; \
             remove it",
        ));
    }
    let parts = split_parts(raw, body)?;
    let path = decode(raw, "path", parts.path)?;
    if path.is_empty() {
        return Err(invalid(
            raw,
            "path",
            format!("it is empty; write `ref+{scheme}://PATH`"),
        ));
    }
    let (kind, path, slots): (&str, String, &[(&str, Slot)]) = match scheme {
        "awssecrets" => (
            "aws",
            path,
            &[
                ("version_id", Slot::Version),
                ("version_stage", Slot::Stage),
            ],
        ),
        "vault" => ("vault", path, &[("version", Slot::Version)]),
        "gcpsecrets" => {
            let Some((project, secret)) = path.split_once('/') else {
                return Err(invalid(
                    raw,
                    "project id",
                    "it is missing (envfile does not read vals' `GCP_PROJECT` default); write \
                     `ref+gcpsecrets://PROJECT/SECRET`",
                ));
            };
            check_gcp_project(raw, project)?;
            check_gcp_secret_id(raw, secret)?;
            (
                "gcp",
                format!("projects/{project}/secrets/{secret}"),
                &[("version", Slot::Version)],
            )
        }
        other => {
            return Err(invalid(
                raw,
                "vals scheme",
                format!("`{other}` is not supported; use `awssecrets`, `vault` or `gcpsecrets`"),
            ))
        }
    };
    let mut locator = Locator::new(path);
    apply_query(raw, &parts, slots, &mut locator)?;
    // The canonical form spells its pins `version=` and `stage=`: a vals parameter of that name
    // that is not this scheme's pin would read back as one. It was most likely meant as one
    // (vals itself ignores it and reads the current version), so it is refused, not carried.
    if let Some(k) = ["version", "stage"]
        .into_iter()
        .find(|k| locator.params.contains_key(*k))
    {
        let pins: Vec<String> = slots.iter().map(|(n, _)| format!("`{n}=`")).collect();
        return Err(invalid(
            raw,
            &format!("query parameter `{k}`"),
            format!("`ref+{scheme}://` has no `{k}` parameter"),
        )
        .with_hint(format!(
            "`ref+{scheme}://` pins a version with {}",
            pins.join(" or ")
        )));
    }
    // A reference is logged and quoted in errors: credentials must come from the backend config.
    if let Some(k) = ["token", "secret_id", "password"]
        .into_iter()
        .find(|k| locator.params.contains_key(*k))
    {
        return Err(invalid(
            raw,
            &format!("query parameter `{k}`"),
            "credentials do not belong in a reference (references are logged)",
        )
        .with_hint(format!(
            "remove `{k}=…` and configure auth in the `{kind}` backend's config"
        )));
    }
    if kind == "gcp" {
        if let Some(v) = &locator.version {
            check_gcp_version(raw, v)?;
        }
    }
    Ok(Reference {
        backend: BackendSel::Kind(kind.to_owned()),
        locator,
        key: parts.key.map(|k| parse_key(raw, k)).transpose()?,
        form: RefForm::Vals,
        raw: raw.to_owned(),
    })
}

// ---------------------------------------------------------------------------------------------
// Shared pieces: PATH[#KEY][?QUERY] (or PATH?QUERY#KEY), keys, queries, percent-decoding

struct Parts<'a> {
    path: &'a str,
    key: Option<&'a str>,
    query: Option<&'a str>,
}

const EMPTY_KEY: &str = "it is empty; remove the `#` or name a key after it";
const EMPTY_QUERY: &str = "it is empty; remove the `?` or add `version=V`";

/// Splits at the first `#` or `?`; either order of key and query is accepted (vals' own docs
/// use both). A raw `#` or `?` after that point is ambiguous and must be percent-encoded.
fn split_parts<'a>(raw: &str, s: &'a str) -> Result<Parts<'a>> {
    let (path, key, query) = match s.find(['#', '?']) {
        None => (s, None, None),
        Some(i) if s.as_bytes()[i] == b'#' => {
            let after = &s[i + 1..];
            match after.split_once('?') {
                Some((k, q)) => (&s[..i], Some(k), Some(q)),
                None => (&s[..i], Some(after), None),
            }
        }
        Some(i) => {
            let after = &s[i + 1..];
            match after.split_once('#') {
                Some((q, k)) => (&s[..i], Some(k), Some(q)),
                None => (&s[..i], None, Some(after)),
            }
        }
    };
    let parts = [("key", key, EMPTY_KEY), ("query", query, EMPTY_QUERY)];
    for (what, text, empty) in parts {
        match text {
            Some("") => return Err(invalid(raw, what, empty)),
            Some(t) if t.contains(['#', '?']) => {
                return Err(invalid(
                    raw,
                    what,
                    "a second `#` or `?` is ambiguous; percent-encode it (`%23`, `%3F`)",
                ))
            }
            _ => {}
        }
    }
    Ok(Parts { path, key, query })
}

/// A key written with a leading `/` is a JSON pointer; `%2F…` is a top-level field whose name
/// starts with `/`.
fn parse_key(raw: &str, k: &str) -> Result<KeySel> {
    if k.is_empty() {
        return Err(invalid(raw, "key", EMPTY_KEY));
    }
    let is_pointer = k.starts_with('/');
    let k = decode(raw, "key", k)?;
    if !is_pointer {
        return Ok(KeySel::Field(k));
    }
    // `~` must start an escape (`~0` = `~`, `~1` = `/`); the pointer is kept escaped, as
    // `serde_json::Value::pointer` takes it.
    let mut chars = k.chars();
    while let Some(c) = chars.next() {
        if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
            return Err(invalid(
                raw,
                "key",
                format!(
                    "`{k}` is not a valid JSON pointer: `~` must be followed by `0` (for `~`) or \
                     `1` (for `/`)"
                ),
            ));
        }
    }
    Ok(KeySel::Pointer(k))
}

#[derive(Clone, Copy)]
enum Slot {
    Version,
    Stage,
}

/// Parses `a=1&b=2` into `locator`: keys in `slots` fill version/stage, any other key goes to
/// `params` for the backend to interpret.
fn apply_query(
    raw: &str,
    parts: &Parts<'_>,
    slots: &[(&str, Slot)],
    locator: &mut Locator,
) -> Result<()> {
    let Some(query) = parts.query else {
        return Ok(());
    };
    let mut seen = BTreeMap::new();
    for pair in query.split('&') {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(invalid(
                raw,
                "query",
                format!("`{pair}` is not `name=value`"),
            ));
        };
        if k.is_empty()
            || !k
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        {
            return Err(invalid(
                raw,
                "query",
                format!("`{pair}` does not start with a parameter name (letters, digits, `_.-`)"),
            ));
        }
        let part = format!("query parameter `{k}`");
        let v = decode(raw, &part, v)?;
        if v.is_empty() {
            return Err(invalid(
                raw,
                &part,
                "its value is empty; remove it or give a value",
            ));
        }
        if seen.insert(k.to_owned(), v).is_some() {
            return Err(invalid(raw, &part, "it is given more than once"));
        }
    }
    for (k, v) in seen {
        match slots.iter().find(|(name, _)| *name == k) {
            Some((_, Slot::Version)) => locator.version = Some(v),
            Some((_, Slot::Stage)) => locator.stage = Some(v),
            None => {
                locator.params.insert(k, v);
            }
        }
    }
    Ok(())
}

/// Percent-decodes `s`, refusing a `%` not followed by two hex digits (which a lenient decoder
/// would keep as is, turning a typo into a different secret name) and non-UTF-8 results.
fn decode(raw: &str, part: &str, s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    for (i, _) in s.match_indices('%') {
        let ok = bytes.len() > i + 2
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit();
        if !ok {
            return Err(invalid(
                raw,
                part,
                "a `%` is not followed by two hex digits; write `%25` for a literal `%`",
            ));
        }
    }
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| invalid(raw, part, "its percent-escapes do not decode to UTF-8"))
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};

    fn ok(s: &str) -> Reference {
        match parse(s) {
            Ok(r) => {
                assert_eq!(r.raw, s, "raw must keep the input");
                r
            }
            Err(e) => panic!("`{s}` should parse, got: {e}"),
        }
    }

    fn err(s: &str) -> Error {
        match parse(s) {
            Ok(r) => panic!("`{s}` should be rejected, parsed as {r:?}"),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::InvalidRef, "{e}");
                assert_eq!(e.reference(), Some(s), "the error must quote the reference");
                e
            }
        }
    }

    fn named(n: &str) -> BackendSel {
        BackendSel::Named(n.into())
    }
    fn kind(k: &str) -> BackendSel {
        BackendSel::Kind(k.into())
    }
    fn field(k: &str) -> Option<KeySel> {
        Some(KeySel::Field(k.into()))
    }
    fn pointer(p: &str) -> Option<KeySel> {
        Some(KeySel::Pointer(p.into()))
    }
    fn loc(
        path: &str,
        version: Option<&str>,
        stage: Option<&str>,
        params: &[(&str, &str)],
    ) -> Locator {
        Locator {
            path: path.into(),
            version: version.map(Into::into),
            stage: stage.map(Into::into),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    // --- canonical ---------------------------------------------------------------------------

    #[test]
    fn canonical_plain() {
        let r = ok("aws:ml-incident/prod/jwt-secret-key");
        assert_eq!(r.backend, named("aws"));
        assert_eq!(r.locator, Locator::new("ml-incident/prod/jwt-secret-key"));
        assert_eq!(r.key, None);
        assert_eq!(r.form, RefForm::Canonical);
    }

    #[test]
    fn canonical_user_named_backend_and_field_key() {
        let r = ok("aws-eu_2:afu9/database#password");
        assert_eq!(r.backend, named("aws-eu_2"));
        assert_eq!(r.locator.path, "afu9/database");
        assert_eq!(r.key, field("password"));
    }

    #[test]
    fn canonical_pointer_key() {
        let r = ok("vault:kv/app#/db/pass~1word~0x");
        assert_eq!(r.key, pointer("/db/pass~1word~0x"));
        assert_eq!(ok("vault:kv/app#/").key, pointer("/"));
    }

    #[test]
    fn canonical_query_version_stage_and_params() {
        let r = ok("aws:app/db?version=v-123&stage=AWSPREVIOUS&region=eu-west-1");
        assert_eq!(
            r.locator,
            loc(
                "app/db",
                Some("v-123"),
                Some("AWSPREVIOUS"),
                &[("region", "eu-west-1")]
            )
        );
        assert_eq!(r.key, None);
    }

    #[test]
    fn canonical_key_and_query_in_either_order() {
        let a = ok("vault:secret/api#database_url?version=3");
        let b = ok("vault:secret/api?version=3#database_url");
        for r in [&a, &b] {
            assert_eq!(r.locator, loc("secret/api", Some("3"), None, &[]));
            assert_eq!(r.key, field("database_url"));
        }
    }

    #[test]
    fn canonical_percent_encoding_in_path_key_and_query() {
        let r = ok("file:dir%23one/a%3Fb%25c%20d#we%23ird%3Fkey?version=a%26b%3Dc");
        assert_eq!(r.locator.path, "dir#one/a?b%c d");
        assert_eq!(r.key, field("we#ird?key"));
        assert_eq!(r.locator.version.as_deref(), Some("a&b=c"));
        // Non-ASCII survives encoding.
        assert_eq!(ok("file:caf%C3%A9").locator.path, "café");
        assert_eq!(ok("file:café").locator.path, "café");
        // An encoded leading slash is a field named "/x", not a pointer.
        assert_eq!(ok("file:p#%2Fx").key, field("/x"));
    }

    #[test]
    fn canonical_path_may_hold_colons_and_arns() {
        let r = ok("aws:arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf");
        assert_eq!(r.backend, named("aws"));
        assert_eq!(
            r.locator.path,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"
        );
        assert_eq!(r.form, RefForm::Canonical);
    }

    #[test]
    fn canonical_round_trips() {
        for s in [
            "aws:app/db",
            "file:dir%23one/a%3Fb%25c%20d#we%23ird%3Fkey?version=a%26b%3Dc&stage=S&region=r",
            "vault:kv/app?version=3#/a~1b",
            "file:p#%2Fx",
            "arn:aws:secretsmanager:eu-central-1:123456789012:secret:afu9/database:password::",
            "projects/p1/locations/us-central1/secrets/s/versions/latest#/k",
            "sm://proj/sec#7",
            "ref+awssecrets://team/doc?region=us-west-2&version_stage=AWSPREVIOUS#/foo/bar",
        ] {
            let r = ok(s);
            let c = r.canonical();
            let back = ok(&c);
            assert_eq!(back.backend, named(r.backend.as_str()), "{s} -> {c}");
            assert_eq!(back.locator, r.locator, "{s} -> {c}");
            assert_eq!(back.key, r.key, "{s} -> {c}");
        }
    }

    /// Issue 14, item 11: `sm:%2F/` is backend `sm`, path `//`; its canonical spelling was
    /// `sm://`, which reads as a (broken) berglas reference.
    #[test]
    fn canonical_of_sm_with_a_leading_double_slash_is_not_berglas() {
        for s in ["sm:%2F/", "sm:%2F/proj/sec", "sm:/%2Fx#k?version=1"] {
            let r = ok(s);
            assert!(r.locator.path.starts_with("//"), "{s}");
            let c = r.canonical();
            let back = ok(&c);
            assert_eq!(back.form, RefForm::Canonical, "{s} -> {c}");
            assert_eq!(back.backend, named("sm"), "{s} -> {c}");
            assert_eq!(back.locator, r.locator, "{s} -> {c}");
            assert_eq!(back.key, r.key, "{s} -> {c}");
        }
        // Other backends keep their slashes as they are.
        assert_eq!(ok("aws:%2F/x").canonical(), "aws://x");
        assert_eq!(ok("sm:/x").canonical(), "sm:/x");
    }

    /// Issue 14, item 11: `ref+awssecrets://m?version=s` carried `version` as an unknown
    /// parameter, and its canonical spelling `aws:m?version=s` reads back as a version pin.
    #[test]
    fn vals_version_or_stage_that_is_not_the_schemes_pin_is_refused() {
        for (s, k, pin) in [
            ("ref+awssecrets://m?version=s", "version", "`version_id=`"),
            (
                "ref+awssecrets://m?stage=AWSPREVIOUS",
                "stage",
                "`version_stage=`",
            ),
            ("ref+vault://kv/a?stage=x", "stage", "`version=`"),
            ("ref+gcpsecrets://p/s?stage=x#/k", "stage", "`version=`"),
        ] {
            let e = err(s);
            assert!(
                e.message()
                    .starts_with(&format!("invalid query parameter `{k}`:")),
                "{s}: {e}"
            );
            assert!(e.hint().unwrap_or_default().contains(pin), "{s}: {e}");
        }
        // The schemes' own pins still work and round-trip.
        for s in [
            "ref+awssecrets://m?version_id=s",
            "ref+vault://kv/a?version=3",
            "ref+gcpsecrets://p/s?version=2",
        ] {
            let r = ok(s);
            let back = ok(&r.canonical());
            assert_eq!(back.locator, r.locator, "{s}");
        }
    }

    // --- ECS valueFrom -----------------------------------------------------------------------

    #[test]
    fn ecs_name_only_partial_arn() {
        let r =
            ok("arn:aws:secretsmanager:us-east-1:232282424912:secret:mcp-gateway/session-secret");
        assert_eq!(r.backend, kind("aws"));
        assert_eq!(r.form, RefForm::EcsArn);
        assert_eq!(
            r.locator,
            Locator::new(
                "arn:aws:secretsmanager:us-east-1:232282424912:secret:mcp-gateway/session-secret"
            )
        );
        assert_eq!(r.key, None);
    }

    #[test]
    fn ecs_ssm_parameter_arn_goes_to_the_ssm_kind() {
        let arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/app/prod/db_password";
        let r = ok(arn);
        assert_eq!(r.backend, kind("ssm"));
        assert_eq!(r.form, RefForm::EcsArn);
        assert_eq!(r.locator, Locator::new(arn));
        assert_eq!(r.key, None);
        // `ssm:` canonical forms need no special parsing: the selector stays in the path.
        let r = ok("ssm:/app/prod/db_password:3");
        assert_eq!(r.locator.path, "/app/prod/db_password:3");
    }

    #[test]
    fn ecs_full_arn_keeps_random_suffix_in_path() {
        let r =
            ok("arn:aws:secretsmanager:us-west-2:111111111111:secret:/demo/my-secret-test-qRoJel");
        assert_eq!(
            r.locator.path,
            "arn:aws:secretsmanager:us-west-2:111111111111:secret:/demo/my-secret-test-qRoJel"
        );
    }

    #[test]
    fn ecs_runbook_json_key_with_empty_trailing_fields() {
        // The runbook's shape (`…:secret:afu9/github:token::`), with a real-shaped account.
        let r = ok("arn:aws:secretsmanager:eu-central-1:123456789012:secret:afu9/github:token::");
        assert_eq!(
            r.locator,
            Locator::new("arn:aws:secretsmanager:eu-central-1:123456789012:secret:afu9/github")
        );
        assert_eq!(r.key, field("token"));
        let r = ok("arn:aws:secretsmanager:eu-central-1:123456789012:secret:afu9/database:host::");
        assert_eq!(
            r.locator.path,
            "arn:aws:secretsmanager:eu-central-1:123456789012:secret:afu9/database"
        );
        assert_eq!(r.key, field("host"));
    }

    #[test]
    fn ecs_stage_or_version_id() {
        let r = ok("arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf:username::");
        assert_eq!(
            r.locator.path,
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf"
        );
        let r = ok("arn:aws:secretsmanager:us-east-1:123456789012:secret:app::AWSPREVIOUS:");
        assert_eq!(r.key, None);
        assert_eq!(r.locator.stage.as_deref(), Some("AWSPREVIOUS"));
        assert_eq!(r.locator.version, None);
        let r = ok("arn:aws:secretsmanager:us-east-1:123456789012:secret:app:pw::e1b2c3d4-5678-90ab-cdef-EXAMPLE11111");
        assert_eq!(r.key, field("pw"));
        assert_eq!(
            r.locator.version.as_deref(),
            Some("e1b2c3d4-5678-90ab-cdef-EXAMPLE11111")
        );
        assert_eq!(r.locator.stage, None);
        // All three empty is the same as none.
        let r = ok("arn:aws:secretsmanager:us-east-1:123456789012:secret:app:::");
        assert_eq!(
            r.locator,
            Locator::new("arn:aws:secretsmanager:us-east-1:123456789012:secret:app")
        );
        assert_eq!(r.key, None);
    }

    #[test]
    fn ecs_other_partitions_and_regions() {
        for s in [
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a",
            "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:a",
            "arn:aws-iso-b:secretsmanager:us-isob-east-1:123456789012:secret:a",
            "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:n_+=.@-/x",
        ] {
            assert_eq!(ok(s).locator.path, s);
        }
    }

    // --- GCP resource names and berglas --------------------------------------------------------

    #[test]
    fn gcp_resource_names() {
        let r = ok("projects/my-proj/secrets/db-url");
        assert_eq!(r.backend, kind("gcp"));
        assert_eq!(r.form, RefForm::GcpResource);
        assert_eq!(r.locator, Locator::new("projects/my-proj/secrets/db-url"));
        assert_eq!(r.key, None);

        let r = ok("projects/my-proj/secrets/db-url/versions/latest");
        assert_eq!(
            r.locator,
            loc("projects/my-proj/secrets/db-url", Some("latest"), None, &[])
        );

        let r = ok("projects/123456789/secrets/DB_url/versions/4#password");
        assert_eq!(
            r.locator,
            loc("projects/123456789/secrets/DB_url", Some("4"), None, &[])
        );
        assert_eq!(r.key, field("password"));
    }

    #[test]
    fn gcp_regional_resource_names() {
        let r = ok("projects/my-proj/locations/europe-west4/secrets/api");
        assert_eq!(
            r.locator,
            Locator::new("projects/my-proj/locations/europe-west4/secrets/api")
        );
        let r = ok("projects/my-proj/locations/us-central1/secrets/api/versions/2#/db/host");
        assert_eq!(
            r.locator,
            loc(
                "projects/my-proj/locations/us-central1/secrets/api",
                Some("2"),
                None,
                &[]
            )
        );
        assert_eq!(r.key, pointer("/db/host"));
    }

    #[test]
    fn berglas_with_and_without_version() {
        let r = ok("sm://my-proj/api-key");
        assert_eq!(r.backend, kind("gcp"));
        assert_eq!(r.form, RefForm::Berglas);
        assert_eq!(r.locator, Locator::new("projects/my-proj/secrets/api-key"));
        assert_eq!(r.key, None);
        let r = ok("sm://my-proj/api-key#12");
        assert_eq!(
            r.locator,
            loc("projects/my-proj/secrets/api-key", Some("12"), None, &[])
        );
        assert_eq!(r.key, None, "berglas' `#` is a version, not a key");
    }

    // --- vals --------------------------------------------------------------------------------

    #[test]
    fn vals_awssecrets() {
        let r = ok("ref+awssecrets://myteam/mykey");
        assert_eq!(r.backend, kind("aws"));
        assert_eq!(r.form, RefForm::Vals);
        assert_eq!(r.locator, Locator::new("myteam/mykey"));
        let r = ok("ref+awssecrets://myteam/mydoc?region=us-west-2&version_stage=AWSPREVIOUS&version_id=abc&role_arn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr#/foo/bar");
        assert_eq!(
            r.locator,
            loc(
                "myteam/mydoc",
                Some("abc"),
                Some("AWSPREVIOUS"),
                &[
                    ("region", "us-west-2"),
                    ("role_arn", "arn:aws:iam::1:role/r")
                ]
            )
        );
        assert_eq!(r.key, pointer("/foo/bar"));
        let r = ok("ref+awssecrets://arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:/team/doc?region=ap-southeast-2#/k");
        assert_eq!(
            r.locator.path,
            "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:/team/doc"
        );
        assert_eq!(ok("secretref+awssecrets://a/b").locator.path, "a/b");
    }

    #[test]
    fn vals_vault() {
        let r = ok("ref+vault://secret/data/foo?version=2#/mykey");
        assert_eq!(r.backend, kind("vault"));
        assert_eq!(r.locator, loc("secret/data/foo", Some("2"), None, &[]));
        assert_eq!(r.key, pointer("/mykey"));
        // vals' own docs also put the fragment before the query.
        let r = ok("ref+vault://mykv/foo#/bar?address=https://vault1.example.com:8200");
        assert_eq!(
            r.locator,
            loc(
                "mykv/foo",
                None,
                None,
                &[("address", "https://vault1.example.com:8200")]
            )
        );
        assert_eq!(r.key, pointer("/bar"));
    }

    #[test]
    fn vals_gcpsecrets() {
        let r = ok("ref+gcpsecrets://myproject/mysecret");
        assert_eq!(r.backend, kind("gcp"));
        assert_eq!(
            r.locator,
            Locator::new("projects/myproject/secrets/mysecret")
        );
        let r = ok("ref+gcpsecrets://myproject/mysecret?version=3#/yaml_or_json_key/in/secret");
        assert_eq!(
            r.locator,
            loc("projects/myproject/secrets/mysecret", Some("3"), None, &[])
        );
        assert_eq!(r.key, pointer("/yaml_or_json_key/in/secret"));
    }

    // --- errors ------------------------------------------------------------------------------

    #[test]
    fn bare_string_suggests_a_backend_prefix() {
        let e = err("my/secret");
        assert!(e.message().contains("invalid backend name"), "{e}");
        let hint = e.hint().unwrap_or_default();
        assert!(
            hint.contains("file:my/secret") && hint.contains("aws:my/secret"),
            "{e}"
        );
    }

    #[test]
    fn bad_references_name_the_wrong_part() {
        let arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret";
        let cases: Vec<(String, &str)> = [
            ("", "invalid reference"),
            (" aws:x", "invalid reference"),
            ("aws:x\n", "invalid reference"),
            ("aws:a\tb", "invalid reference"),
            ("my/secret:x", "invalid backend name"),
            ("1aws:x", "invalid backend name"),
            (":x", "invalid backend name"),
            ("aws:", "invalid path"),
            ("aws:#k", "invalid path"),
            ("aws:?version=1", "invalid path"),
            ("aws:100%", "invalid path"),
            ("aws:a%zzb", "invalid path"),
            ("aws:a%ff", "invalid path"),
            ("aws:p#", "invalid key"),
            ("aws:p#/a~2b", "invalid key"),
            ("aws:p#/a~", "invalid key"),
            ("aws:p#a#b", "invalid key"),
            ("aws:p?version=1#k?x", "invalid key"),
            ("aws:p#k%4", "invalid key"),
            ("aws:p?", "invalid query"),
            ("aws:p?version", "invalid query"),
            ("aws:p?=1", "invalid query"),
            ("aws:p?version=1&&stage=S", "invalid query"),
            ("aws:p#k?a=1?b=2", "invalid query"),
            ("aws:p?version=", "invalid query parameter `version`"),
            (
                "aws:p?version=1&version=2",
                "invalid query parameter `version`",
            ),
            (
                "aws:p?region=a&region=a",
                "invalid query parameter `region`",
            ),
            ("aws:p?stage=%zz", "invalid query parameter `stage`"),
            ("arn:aws:secretsmanager", "invalid ARN"),
            (
                "arn:aws:secretsmanager:eu-central-1:...:secret:afu9/github:token::",
                "invalid ARN account",
            ),
            (
                "arn:aws:secretsmanager:eu-central-1:ACCOUNT_ID:secret:x",
                "invalid ARN account",
            ),
            (
                "arn:aws:secretsmanager:eu-central-1:1234567890123:secret:x",
                "invalid ARN account",
            ),
            (
                "arn:azure:secretsmanager:eu-central-1:123456789012:secret:x",
                "invalid ARN partition",
            ),
            (
                "arn:aws:ssm:eu-central-1:123456789012:parameter/x:3",
                "invalid ARN",
            ),
            (
                "arn:aws:ssm:eu-central-1:123456789012:secret:x",
                "invalid ARN",
            ),
            (
                "arn:aws:ssm:eu-central-1:123456789012:secret/x",
                "invalid ARN resource type",
            ),
            (
                "arn:aws:ssm:eu-central-1:123456789012:parameter//x",
                "invalid parameter name",
            ),
            (
                "arn:aws:sns:eu-central-1:123456789012:secret:x",
                "invalid ARN service",
            ),
            (
                "arn:aws:secretsmanager:EU-central-1:123456789012:secret:x",
                "invalid ARN region",
            ),
            (
                "arn:aws:secretsmanager:region:123456789012:secret:x",
                "invalid ARN region",
            ),
            (
                "arn:aws:secretsmanager:eu-central-1:123456789012:parameter:x",
                "invalid ARN resource type",
            ),
            (
                "arn:aws:secretsmanager:eu-central-1:123456789012:secret:",
                "invalid secret name",
            ),
            (
                "arn:aws:secretsmanager:eu-central-1:123456789012:secret:a b",
                "invalid secret name",
            ),
            (
                "arn:aws:secretsmanager:eu-central-1:123456789012:secret:a#b",
                "invalid secret name",
            ),
            (
                "projects/p/secrets/s?version=1",
                "invalid GCP resource name",
            ),
            ("projects/p/secrets", "invalid GCP resource name"),
            ("projects/p/secrets/s/versions", "invalid GCP resource name"),
            (
                "projects/p/secrets/s/versions/1/extra",
                "invalid GCP resource name",
            ),
            ("projects/My_Proj/secrets/s", "invalid project id"),
            ("projects//secrets/s", "invalid project id"),
            ("projects/p/locations/US_EAST/secrets/s", "invalid location"),
            ("projects/p/secrets/a.b", "invalid secret id"),
            ("projects/p/secrets/s/versions/", "invalid version"),
            ("projects/p/secrets/s/versions/1.0", "invalid version"),
            ("projects/p/secrets/s#", "invalid key"),
            ("sm://proj", "invalid berglas reference"),
            (
                "sm://proj/s?destination=tempfile",
                "invalid berglas reference",
            ),
            ("sm://Proj/s", "invalid project id"),
            ("sm://proj/a/b", "invalid secret id"),
            ("sm://proj/s#", "invalid version"),
            ("ref+vault:secret/x", "invalid vals reference"),
            ("ref+vault://secret/x#/k+", "invalid vals reference"),
            ("ref+awsssm://x", "invalid vals scheme"),
            ("ref+vault://", "invalid path"),
            ("ref+vault://?version=1", "invalid path"),
            (
                "ref+vault://x?version=1&version=2",
                "invalid query parameter `version`",
            ),
            (
                "ref+vault://x?secret_id=abc",
                "invalid query parameter `secret_id`",
            ),
            ("ref+vault://x?token=abc", "invalid query parameter `token`"),
            ("ref+gcpsecrets://mysecret", "invalid project id"),
            ("ref+gcpsecrets://p/s/t", "invalid secret id"),
            ("ref+gcpsecrets://p/s?version=x.y", "invalid version"),
            ("ref+awssecrets://a#/b~3", "invalid key"),
        ]
        .into_iter()
        .map(|(s, p)| (s.to_owned(), p))
        .chain([
            (format!("{arn}:x:key"), "invalid ARN"),
            (format!("{arn}:x:key:AWSCURRENT"), "invalid ARN"),
            (format!("{arn}:x:a:b:c:d"), "invalid ARN"),
            (
                format!("{arn}:x::AWSCURRENT:v1"),
                "invalid ARN version-stage/version-id",
            ),
        ])
        .collect();
        for (s, part) in &cases {
            let e = err(s);
            assert!(
                e.message().starts_with(&format!("{part}:")),
                "`{s}`: expected the message to name `{part}`, got: {e}"
            );
            assert!(e.hint().is_some(), "`{s}`: no hint: {e}");
        }
    }

    #[test]
    fn ecs_missing_trailing_fields_explains_the_ecs_shape() {
        let e = err("arn:aws:secretsmanager:eu-central-1:123456789012:secret:afu9/github:token");
        assert!(e.message().contains("all three"), "{e}");
        assert!(
            e.hint().unwrap_or_default().contains("afu9/github:KEY::"),
            "{e}"
        );
        let e = err("arn:aws:secretsmanager:eu-central-1:123456789012:secret:app::AWSPREVIOUS:v-1");
        assert!(e.message().contains("ECS rejects"), "{e}");
    }

    #[test]
    fn trailing_plus_error_names_the_vals_marker() {
        let e = err("ref+vault://secret/x#/k+");
        assert!(e.message().contains("trailing `+`"), "{e}");
    }

    #[test]
    fn display_quotes_the_reference_and_part() {
        let e = err("arn:aws:secretsmanager:eu-central-1:12345:secret:x");
        let shown = e.to_string();
        assert!(
            shown.starts_with(
                "arn:aws:secretsmanager:eu-central-1:12345:secret:x: invalid ARN account"
            ),
            "{shown}"
        );
    }

    #[test]
    fn reference_parse_and_from_str_use_this_parser() {
        let r: Reference = "aws:x#k".parse().expect("parses");
        assert_eq!(r, ok("aws:x#k"));
        assert!(Reference::parse("nope").is_err());
    }
}
