//! OWNER: resolver helper. The bodies behind [`crate::Resolver`].
use crate::backend::Fetched;
use crate::config::EnvfileSpec;
use crate::error::Result;
use crate::reference::Reference;
use crate::resolver::{Problems, ResolvedEnv, Resolver};
use crate::secret::SecretValue;

pub(crate) async fn resolve_envfile(
    _r: &Resolver,
    _spec: &EnvfileSpec,
) -> Result<ResolvedEnv, Problems> {
    todo!("resolver helper")
}

pub(crate) async fn get(_r: &Resolver, _reference: &Reference) -> Result<SecretValue> {
    todo!("resolver helper")
}

pub(crate) async fn fetch_many(_r: &Resolver, _refs: &[Reference]) -> Vec<Result<Fetched>> {
    todo!("resolver helper")
}

pub(crate) async fn versions(_r: &Resolver, _refs: &[Reference]) -> Vec<Result<Option<String>>> {
    todo!("resolver helper")
}
