//! Property tests: every accepted reference form parses to what it spells, displays as it was
//! written, and has a canonical spelling that parses back to the same backend, locator and key
//! (issue 14, item 11). The `refparse` fuzz target checks the same on arbitrary text.

use envfile_core::{KeySel, Locator, RefForm, Reference};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;
use std::collections::BTreeMap;

fn enc(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// Parse, then check display and canonical round trips; returns the reference.
fn round_trips(s: &str) -> Reference {
    let r = Reference::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"));
    let shown = r.to_string();
    assert_eq!(
        Reference::parse(&shown).unwrap(),
        r,
        "{s:?} displays as {shown:?}"
    );
    let c = r.canonical();
    let back = Reference::parse(&c).unwrap_or_else(|e| panic!("{s:?} -> {c:?}: {e}"));
    assert_eq!(back.form, RefForm::Canonical, "{s:?} -> {c:?}");
    assert_eq!(back.backend.as_str(), r.backend.as_str(), "{s:?} -> {c:?}");
    assert_eq!(back.locator, r.locator, "{s:?} -> {c:?}");
    assert_eq!(back.key, r.key, "{s:?} -> {c:?}");
    assert_eq!(back.canonical(), c, "{s:?}: canonical is not a fixed point");
    r
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9/_.-]{1,12}",
        "[ -~]{1,12}",
        any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
    ]
}

/// A JSON pointer with valid `~` escapes.
fn pointer() -> impl Strategy<Value = String> {
    prop::collection::vec("([a-z0-9 %#?]|~0|~1){0,6}", 0..4).prop_map(|segs| {
        let mut p = String::new();
        for s in segs {
            p.push('/');
            p.push_str(&s);
        }
        if p.is_empty() {
            p.push('/');
        }
        p
    })
}

fn key() -> impl Strategy<Value = Option<KeySel>> {
    prop_oneof![
        Just(None),
        any_text().prop_map(|k| Some(KeySel::Field(k))),
        pointer().prop_map(|p| Some(KeySel::Pointer(p))),
    ]
}

fn key_text(k: &Option<KeySel>) -> String {
    match k {
        None => String::new(),
        Some(KeySel::Field(f)) => format!("#{}", enc(f)),
        // A pointer keeps its leading `/` unescaped: that is what makes it a pointer.
        Some(KeySel::Pointer(p)) => format!("#/{}", enc(&p[1..]).replace("%2F", "/")),
    }
}

fn params() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[a-z_][a-z0-9_.-]{0,6}", any_text(), 0..3).prop_map(|mut m| {
        m.remove("version");
        m.remove("stage");
        m
    })
}

fn query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .enumerate()
        .map(|(i, (k, v))| format!("{}{k}={}", if i == 0 { '?' } else { '&' }, enc(v)))
        .collect()
}

proptest! {
    #[test]
    fn canonical_references(
        name in "[a-z][a-z0-9_-]{0,8}".prop_filter("arn is the ECS form", |n| n != "arn"),
        path in any_text(),
        key in key(),
        version in prop::option::of(any_text()),
        stage in prop::option::of(any_text()),
        params in params(),
        query_first in any::<bool>(),
    ) {
        let mut pairs = Vec::new();
        if let Some(v) = &version { pairs.push(("version".to_owned(), v.clone())); }
        if let Some(s) = &stage { pairs.push(("stage".to_owned(), s.clone())); }
        pairs.extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
        let (k, q) = (key_text(&key), query(&pairs));
        let s = if query_first { format!("{name}:{}{q}{k}", enc(&path)) } else { format!("{name}:{}{k}{q}", enc(&path)) };
        let r = round_trips(&s);
        let want = Locator { path, version, stage, params };
        prop_assert_eq!(r.locator, want);
        prop_assert_eq!(r.key, key);
    }

    #[test]
    fn ecs_arns(
        partition in prop::sample::select(vec!["aws", "aws-cn", "aws-us-gov", "aws-iso-b"]),
        region in prop::sample::select(vec!["eu-central-1", "us-east-1", "us-gov-west-1", "cn-north-1"]),
        account in "[0-9]{12}",
        name in "[A-Za-z0-9/_+=.@-]{1,20}",
        trailing in prop::option::of(("[^:\\p{Cc} ]{0,8}", "[A-Za-z0-9_-]{0,8}", any::<bool>())),
    ) {
        let base = format!("arn:{partition}:secretsmanager:{region}:{account}:secret:{name}");
        let s = match &trailing {
            None => base.clone(),
            Some((k, pin, true)) => format!("{base}:{k}:{pin}:"),
            Some((k, pin, false)) => format!("{base}:{k}::{pin}"),
        };
        let r = round_trips(&s);
        prop_assert_eq!(&r.locator.path, &base);
        prop_assert_eq!(r.backend.as_str(), "aws");
    }

    #[test]
    fn gcp_resource_names(
        project in "[a-z][a-z0-9-]{0,10}[a-z0-9]",
        location in prop::option::of("[a-z0-9-]{1,12}"),
        secret in "[A-Za-z0-9_-]{1,20}",
        version in prop::option::of("[A-Za-z0-9_-]{1,8}"),
        key in key(),
    ) {
        let loc = location.as_ref().map(|l| format!("locations/{l}/")).unwrap_or_default();
        let path = format!("projects/{project}/{loc}secrets/{secret}");
        let v = version.as_ref().map(|v| format!("/versions/{v}")).unwrap_or_default();
        let r = round_trips(&format!("{path}{v}{}", key_text(&key)));
        prop_assert_eq!(r.locator, Locator { path, version, ..Locator::default() });
        prop_assert_eq!(r.key, key);
    }

    #[test]
    fn berglas(
        project in "[a-z][a-z0-9-]{0,10}[a-z0-9]",
        secret in "[A-Za-z0-9_-]{1,20}",
        version in prop::option::of("[A-Za-z0-9_-]{1,8}"),
    ) {
        let v = version.as_ref().map(|v| format!("#{v}")).unwrap_or_default();
        let r = round_trips(&format!("sm://{project}/{secret}{v}"));
        prop_assert_eq!(r.locator.path, format!("projects/{project}/secrets/{secret}"));
        prop_assert_eq!(r.locator.version, version);
    }

    #[test]
    fn vals(
        scheme in prop::sample::select(vec!["awssecrets", "vault"]),
        path in any_text(),
        pin in prop::option::of("[A-Za-z0-9_-]{1,8}"),
        params in params(),
        key in key(),
    ) {
        let pin_name = if scheme == "vault" { "version" } else { "version_id" };
        let mut pairs: Vec<(String, String)> = pin.iter().map(|p| (pin_name.to_owned(), p.clone())).collect();
        pairs.extend(params.iter().filter(|(k, _)| !["version_id", "version_stage", "token", "secret_id", "password"].contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())));
        let s = format!("ref+{scheme}://{}{}{}", enc(&path), query(&pairs), key_text(&key));
        let r = round_trips(&s);
        prop_assert_eq!(r.locator.path, path);
        prop_assert_eq!(r.locator.version, pin);
        prop_assert_eq!(r.key, key);
    }

    /// Whatever text parses, round trips.
    #[test]
    fn any_accepted_text(s in "(aws|sm|arn|ref\\+vault|projects)?[:/a-z%0-9#?=&~+. -]{0,24}") {
        if Reference::parse(&s).is_ok() {
            round_trips(&s);
        }
    }
}
