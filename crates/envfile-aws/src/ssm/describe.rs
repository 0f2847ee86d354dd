//! `version_probe = "list"` for Parameter Store: DescribeParameters pages give each parameter's
//! `Version` (metadata only: no value, no KMS call), up to 50 names a request with a
//! `Name Equals` filter (the API's limit on a filter's values, and its largest page), so a round
//! costs about ⌈N/50⌉ calls where GetParameters costs ⌈N/10⌉. The API answers "on a best-effort
//! basis": a page may hold fewer than asked, with a `NextToken`, so every page is followed.
//!
//! DescribeParameters lists the latest version of this account's parameters only: a selector
//! (`:3`, `:label`), an ARN (possibly another account's, shared) or a
//! `/aws/reference/secretsmanager/` name is left to GetParameters.

use super::names::Param;
use super::SsmBackend;
use crate::error::{from_sdk, Context};
use aws_sdk_ssm::types::ParameterStringFilter;
use envfile_core::{Error, ErrorKind};
use std::collections::HashMap;

/// Values one `Name Equals` filter takes, and DescribeParameters' largest page.
pub const MAX_NAMES: usize = 50;

/// Pages one request may take before we stop following `NextToken`: a bound against a
/// service (or a proxy) that keeps answering empty pages; 50 names fit in one page normally.
const MAX_PAGES: usize = 64;

/// Whether DescribeParameters can tell `p`'s version.
pub fn describable(p: &Param) -> bool {
    p.selector.is_none()
        && p.arn_region.is_none()
        && !p.id.starts_with("/aws/reference/secretsmanager/")
}

impl SsmBackend {
    /// The versions of up to [`MAX_NAMES`] parameters of `region`, by name, and the pages it
    /// took (also on failure). A name absent from the answer does not exist (or is not
    /// visible to the role).
    pub(super) async fn describe_versions(
        &self,
        region: &str,
        names: &[String],
    ) -> std::result::Result<(HashMap<String, i64>, usize), (Error, usize)> {
        let client = self.client(region);
        let filter = ParameterStringFilter::builder()
            .key("Name")
            .option("Equals")
            .set_values(Some(names.to_vec()))
            .build()
            .map_err(|_| (Error::new(ErrorKind::Other, "internal: filter"), 0))?;
        let mut versions = HashMap::with_capacity(names.len());
        let mut token: Option<String> = None;
        let mut pages = 0usize;
        loop {
            let ctx = Context {
                op: "DescribeParameters",
                secret_id: "(batch)",
                region,
            };
            pages += 1;
            let page = self
                .retry
                .run(|| async {
                    client
                        .describe_parameters()
                        .parameter_filters(filter.clone())
                        .max_results(MAX_NAMES as i32)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| from_sdk(e, ctx))
                })
                .await
                .map_err(|e| (e.with_backend(&self.name), pages))?;
            for p in page.parameters.unwrap_or_default() {
                if let Some(name) = p.name {
                    // Only what was asked: a bound on memory whatever the answer holds.
                    if names.contains(&name) {
                        versions.insert(name, p.version);
                    }
                }
            }
            token = page.next_token.filter(|t| !t.is_empty());
            if token.is_none() || versions.len() == names.len() {
                return Ok((versions, pages));
            }
            if pages >= MAX_PAGES {
                return Err((
                    Error::new(
                        ErrorKind::Unavailable,
                        format!(
                            "DescribeParameters kept paging ({pages} pages for {} names)",
                            names.len()
                        ),
                    )
                    .with_backend(&self.name),
                    pages,
                ));
            }
        }
    }
}
