//! Sprig's date functions.

use super::not_supported;
use crate::funcs::Def;

pub(super) const FUNCS: &[Def] = &[Def::new("sprig_now", |_| {
    Err(not_supported("sprig_now", "dates are not implemented"))
})];
