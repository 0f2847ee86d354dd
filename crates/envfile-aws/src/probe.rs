//! Refresh-round change detection for Secrets Manager: a few calls per round, not one per
//! secret (issue 19).
//!
//! - `batch` (the default): BatchGetSecretValue, 20 secrets a call; the `VersionId` of each
//!   answer is the secret's AWSCURRENT version. The call returns values too (it has no
//!   metadata-only form): they go back with the versions ([`VersionProbe::values`]), so the
//!   cache stores a changed secret from the probe instead of reading it again.
//! - `list`: ListSecrets pages (100 secrets each) with `SecretVersionsToStages`, which answer
//!   stage pins as well; every secret of the region is listed, so it pays when the account holds
//!   mostly the secrets envfile reads.
//! - `each`: DescribeSecret per secret, 16 at a time.
//!
//! What a batch or a listing cannot answer — a pinned locator, a secret the batch reported an
//! error for (deleted, denied), one the listing did not show — is probed on its own with
//! DescribeSecret, which gives the precise error. Why that happened is logged once per backend
//! and reason (denied, missing, other), not once per round or per secret.

use crate::batch::{Chunk, MAX_BATCH};
use crate::client::id_matches;
use crate::config::VersionProbeMode;
use crate::error::{from_sdk, Context};
use crate::AwsBackend;
use envfile_core::{ErrorKind, Fetched, Locator, Result, VersionProbe};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;

/// ListSecrets' largest page.
const LIST_PAGE: i32 = 100;

/// Batch calls of one round in flight at once (start-up reads use the same bound).
pub(crate) const BATCH_CONCURRENCY: usize = 4;

/// One listed secret: its ARN, name and version id → stages.
struct Listed {
    arn: Option<String>,
    name: Option<String>,
    stages: HashMap<String, Vec<String>>,
}

impl AwsBackend {
    /// The mode in force: the configured one, else `batch` until the role was found unable to
    /// batch.
    pub(crate) fn probe_mode(&self) -> VersionProbeMode {
        match self.version_probe {
            Some(VersionProbeMode::Batch) | None if self.batch_denied.load(Ordering::Relaxed) => {
                VersionProbeMode::Each
            }
            Some(m) => m,
            None => VersionProbeMode::Batch,
        }
    }

    pub(crate) fn probe_batch(&self) -> usize {
        match self.probe_mode() {
            VersionProbeMode::Batch => MAX_BATCH,
            // One listing answers every secret of the round: give it all of them at once.
            VersionProbeMode::List => usize::MAX,
            VersionProbeMode::Each => 1,
        }
    }

    /// Log `why` once for this backend.
    fn note_once(&self, reason: &'static str, why: &str) {
        let mut seen = self.probe_notes.lock().unwrap_or_else(|p| p.into_inner());
        if seen.insert(reason) {
            tracing::info!(backend = %self.name, reason, "{why}");
        }
    }

    pub(crate) async fn probe_versions(&self, locs: &[Locator]) -> VersionProbe {
        let mut out: Vec<Option<Result<Option<String>>>> = vec![None; locs.len()];
        let mut values: Vec<Option<Fetched>> = Vec::new();
        let mut calls = 0usize;
        let mut singles: Vec<usize> = Vec::new();
        match self.probe_mode() {
            VersionProbeMode::Each => singles.extend(0..locs.len()),
            VersionProbeMode::Batch => {
                values = vec![None; locs.len()];
                calls += self
                    .probe_by_batch(locs, &mut out, &mut values, &mut singles)
                    .await;
            }
            VersionProbeMode::List => {
                calls += self.probe_by_list(locs, &mut out, &mut singles).await;
            }
        }
        calls += singles.len();
        let futs: Vec<_> = singles
            .iter()
            .map(|&i| async move {
                (
                    i,
                    self.describe_version(&locs[i])
                        .await
                        .map_err(|e| e.with_backend(&self.name)),
                )
            })
            .collect();
        let done: Vec<_> = stream::iter(futs)
            .buffer_unordered(envfile_core::backend::DEFAULT_CONCURRENCY)
            .collect()
            .await;
        for (i, r) in done {
            out[i] = Some(r);
        }
        VersionProbe {
            versions: out.into_iter().map(|r| r.unwrap_or(Ok(None))).collect(),
            values,
            calls,
        }
    }

    /// BatchGetSecretValue for every unpinned locator, keeping the values it answered with;
    /// returns the calls made.
    async fn probe_by_batch(
        &self,
        locs: &[Locator],
        out: &mut [Option<Result<Option<String>>>],
        values: &mut [Option<Fetched>],
        singles: &mut Vec<usize>,
    ) -> usize {
        let mut by_region: BTreeMap<String, BTreeMap<String, Vec<usize>>> = BTreeMap::new();
        for (i, loc) in locs.iter().enumerate() {
            if loc.version.is_some() || loc.stage.is_some() {
                // The batch reads AWSCURRENT only.
                self.note_once(
                    "pinned",
                    "version_probe: a pinned secret (version or stage) is probed with its own DescribeSecret; BatchGetSecretValue reads only AWSCURRENT",
                );
                singles.push(i);
                continue;
            }
            match self.clients.region_of(loc) {
                Err(e) => out[i] = Some(Err(e.with_backend(&self.name))),
                Ok(region) => by_region
                    .entry(region)
                    .or_default()
                    .entry(loc.path.clone())
                    .or_default()
                    .push(i),
            }
        }
        let mut chunks: Vec<(String, Chunk)> = Vec::new();
        for (region, ids) in by_region {
            let ids: Vec<(String, Vec<usize>)> = ids.into_iter().collect();
            if ids.len() == 1 {
                // One DescribeSecret is as cheap as one batch, and needs no batch permission.
                singles.extend(ids.into_iter().flat_map(|(_, v)| v));
                continue;
            }
            for c in ids.chunks(MAX_BATCH) {
                chunks.push((region.clone(), c.to_vec()));
            }
        }
        let calls = chunks.len();
        let futs: Vec<_> = chunks
            .iter()
            .map(|(region, chunk)| async move { (chunk, self.batch_chunk(region, chunk).await) })
            .collect();
        let answered: Vec<_> = stream::iter(futs)
            .buffer_unordered(BATCH_CONCURRENCY)
            .collect()
            .await;
        for (chunk, results) in answered {
            for ((_, idxs), r) in chunk.iter().zip(results) {
                match r {
                    Some(Ok(f)) => {
                        for &i in idxs {
                            out[i] = Some(Ok(f.version.clone()));
                            values[i] = Some(f.clone());
                        }
                    }
                    // A transient failure of the whole batch: the single probes would fail
                    // alike, so report it (the cache keeps serving the last value).
                    Some(Err(e)) if e.is_retryable() || e.kind() == ErrorKind::Unauthenticated => {
                        for &i in idxs {
                            out[i] = Some(Err(e.clone()));
                        }
                    }
                    // An error about this secret alone: DescribeSecret names it precisely (and
                    // a role may describe what it may not read); the rest of the batch stands.
                    Some(Err(e)) => {
                        match e.kind() {
                            ErrorKind::PermissionDenied => self.note_once(
                                "batch-denied-secret",
                                "version_probe: BatchGetSecretValue was denied some secrets (secretsmanager:GetSecretValue, or kms:Decrypt on their key); each of those is probed with its own DescribeSecret",
                            ),
                            ErrorKind::NotFound => self.note_once(
                                "batch-missing",
                                "version_probe: BatchGetSecretValue found some secrets missing (deleted or scheduled for deletion); each of those is probed with its own DescribeSecret",
                            ),
                            _ => self.note_once(
                                "batch-error",
                                "version_probe: BatchGetSecretValue reported an error for some secrets; each of those is probed with its own DescribeSecret",
                            ),
                        }
                        singles.extend(idxs);
                    }
                    None => {
                        if self.batch_denied.load(Ordering::Relaxed) {
                            self.note_once(
                                "batch-denied",
                                "version_probe: BatchGetSecretValue is denied to this role; probing each secret with DescribeSecret from now on (grant secretsmanager:BatchGetSecretValue, or set version_probe = \"each\")",
                            );
                        } else {
                            self.note_once(
                                "batch-unanswered",
                                "version_probe: BatchGetSecretValue did not answer for some secrets; each of those is probed with its own DescribeSecret",
                            );
                        }
                        singles.extend(idxs);
                    }
                }
            }
        }
        calls
    }

    /// ListSecrets pages per region; returns the calls made.
    async fn probe_by_list(
        &self,
        locs: &[Locator],
        out: &mut [Option<Result<Option<String>>>],
        singles: &mut Vec<usize>,
    ) -> usize {
        let mut by_region: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, loc) in locs.iter().enumerate() {
            match self.clients.region_of(loc) {
                Err(e) => out[i] = Some(Err(e.with_backend(&self.name))),
                Ok(region) => by_region.entry(region).or_default().push(i),
            }
        }
        let mut calls = 0;
        for (region, idxs) in by_region {
            let (listed, pages) = match self.list_all(&region).await {
                Ok(l) => l,
                Err((e, pages)) => {
                    calls += pages;
                    if e.is_retryable() || e.kind() == ErrorKind::Unauthenticated {
                        for &i in &idxs {
                            out[i] = Some(Err(e.clone().with_backend(&self.name)));
                        }
                    } else {
                        self.note_once(
                            "list-failed",
                            "version_probe = \"list\": ListSecrets failed (the role needs secretsmanager:ListSecrets); probing each secret with DescribeSecret",
                        );
                        singles.extend(idxs);
                    }
                    continue;
                }
            };
            calls += pages;
            for i in idxs {
                let loc = &locs[i];
                let Some(l) = listed
                    .iter()
                    .find(|l| id_matches(&loc.path, l.arn.as_deref(), l.name.as_deref()))
                else {
                    self.note_once(
                        "list-missing",
                        "version_probe = \"list\": a secret was not in the listing (another account, deleted, or not listable); probing it with DescribeSecret",
                    );
                    singles.push(i);
                    continue;
                };
                let found = match (&loc.version, &loc.stage) {
                    (Some(v), _) => l.stages.contains_key(v).then(|| v.clone()),
                    (None, stage) => {
                        let stage = stage.as_deref().unwrap_or("AWSCURRENT");
                        l.stages
                            .iter()
                            .find(|(_, st)| st.iter().any(|s| s == stage))
                            .map(|(id, _)| id.clone())
                    }
                };
                match found {
                    Some(v) => out[i] = Some(Ok(Some(v))),
                    // Let DescribeSecret say precisely what is missing.
                    None => singles.push(i),
                }
            }
        }
        calls
    }

    /// Every secret of `region`, page by page; the pages it took (also on failure).
    async fn list_all(
        &self,
        region: &str,
    ) -> std::result::Result<(Vec<Listed>, usize), (envfile_core::Error, usize)> {
        let client = self.clients.for_region(region);
        let mut token: Option<String> = None;
        let mut listed = Vec::new();
        let mut pages = 0usize;
        loop {
            let ctx = Context {
                op: "ListSecrets",
                secret_id: "(list)",
                region,
            };
            pages += 1;
            let resp = self
                .retry
                .run(|| async {
                    client
                        .list_secrets()
                        .max_results(LIST_PAGE)
                        .set_next_token(token.clone())
                        .send()
                        .await
                        .map_err(|e| from_sdk(e, ctx))
                })
                .await
                .map_err(|e| (self.role_error(e), pages))?;
            for s in resp.secret_list.unwrap_or_default() {
                if s.deleted_date.is_some() {
                    continue;
                }
                listed.push(Listed {
                    arn: s.arn,
                    name: s.name,
                    stages: s.secret_versions_to_stages.unwrap_or_default(),
                });
            }
            token = resp.next_token.filter(|t| !t.is_empty());
            if token.is_none() {
                return Ok((listed, pages));
            }
        }
    }
}
