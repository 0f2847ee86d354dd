//! Sprig's `semverCompare` and `semver` (Masterminds/semver v3).

use super::not_supported;
use crate::funcs::Def;

pub(super) const FUNCS: &[Def] = &[
    Def::new("sprig_semver", |_| {
        Err(not_supported(
            "sprig_semver",
            "it returns a Go *semver.Version",
        ))
    }),
    Def::new("sprig_semverCompare", |_| {
        Err(not_supported(
            "sprig_semverCompare",
            "semver constraints are not implemented",
        ))
    }),
];
