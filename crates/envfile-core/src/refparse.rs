//! OWNER: reference-parser helper. Parses every accepted reference form into a [`Reference`].
use crate::error::Result;
use crate::reference::Reference;

pub(crate) fn parse(_s: &str) -> Result<Reference> {
    todo!("reference parser helper")
}
