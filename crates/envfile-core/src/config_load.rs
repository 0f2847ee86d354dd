//! OWNER: config helper. Loading, profile selection, env overrides, and error provenance.
use crate::config::LoadedConfig;
use crate::error::Result;
use serde::de::DeserializeOwned;
use std::path::Path;

pub(crate) fn load(_path: Option<&Path>, _profile: Option<&str>) -> Result<LoadedConfig> {
    todo!("config helper")
}

pub(crate) fn load_str(_toml: &str, _profile: Option<&str>) -> Result<LoadedConfig> {
    todo!("config helper")
}

pub(crate) fn extract<T: DeserializeOwned>(_cfg: &LoadedConfig, _key_path: &str) -> Result<T> {
    todo!("config helper")
}
