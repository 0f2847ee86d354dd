//! `get_many` through BatchGetSecretValue.
//!
//! The batch API takes at most 20 ids a call, answers with `SecretValues` (each with its `ARN`
//! and `Name`) and `Errors` (each with the `SecretId` we sent), and takes no VersionId or
//! VersionStage: pinned locators are read one by one. When a role may not call the batch API
//! (it needs `secretsmanager:BatchGetSecretValue` on `*`, which many policies lack) the call is
//! denied as a whole; we then read each secret with GetSecretValue, so a denied batch costs one
//! call and never turns into a failure for secrets the role *can* read.

use crate::client::id_matches;
use crate::error::{from_code, from_sdk, Context};
use crate::AwsBackend;
use aws_sdk_secretsmanager::types::SecretValueEntry;
use envfile_core::{Error, ErrorKind, Fetched, Locator, Result};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// One BatchGetSecretValue call's secret ids, each with the positions of the locators it answers.
pub(crate) type Chunk = Vec<(String, Vec<usize>)>;

/// The API's limit on ids per BatchGetSecretValue call.
pub const MAX_BATCH: usize = 20;

impl AwsBackend {
    pub(crate) async fn get_many_batched(&self, locs: &[Locator]) -> Vec<Result<Fetched>> {
        let mut out: Vec<Option<Result<Fetched>>> = vec![None; locs.len()];
        // Unpinned locators by region, then by secret id (several locators may share one).
        let mut batchable: BTreeMap<String, BTreeMap<String, Vec<usize>>> = BTreeMap::new();
        let mut singles = Vec::new();
        for (i, loc) in locs.iter().enumerate() {
            let pinned = loc.version.is_some() || loc.stage.is_some();
            match self.clients.region_of(loc) {
                Err(e) => out[i] = Some(Err(e.with_backend(&self.name))),
                Ok(_) if pinned || self.batch_denied.load(Ordering::Relaxed) => singles.push(i),
                Ok(region) => batchable
                    .entry(region)
                    .or_default()
                    .entry(loc.path.clone())
                    .or_default()
                    .push(i),
            }
        }
        let mut chunks: Vec<(String, Chunk)> = Vec::new();
        for (region, ids) in batchable {
            // A lone secret gains nothing from the batch API (and needs one more IAM action).
            if ids.len() == 1 {
                singles.extend(ids.into_values().flatten());
                continue;
            }
            let ids: Vec<(String, Vec<usize>)> = ids.into_iter().collect();
            for chunk in ids.chunks(MAX_BATCH) {
                chunks.push((region.clone(), chunk.to_vec()));
            }
        }
        // Chunks go out a few at a time, not one after another: at 5,000 secrets the 250 calls
        // in sequence were most of the time to ready (issue 19). Bounded, so a large env file
        // does not open hundreds of connections or trip the account's rate quota at once.
        let futs: Vec<_> = chunks
            .iter()
            .map(|(region, chunk)| async move { (chunk, self.batch_chunk(region, chunk).await) })
            .collect();
        let answered: Vec<_> = futures::stream::iter(futs)
            .buffer_unordered(crate::probe::BATCH_CONCURRENCY)
            .collect()
            .await;
        for (chunk, results) in answered {
            for ((_, idxs), res) in chunk.iter().zip(results) {
                match res {
                    Some(r) => idxs.iter().for_each(|&i| out[i] = Some(r.clone())),
                    None => singles.extend(idxs),
                }
            }
        }
        let fetched =
            futures::future::join_all(singles.iter().map(|&i| self.get_one(&locs[i]))).await;
        for (i, r) in singles.into_iter().zip(fetched) {
            out[i] = Some(r);
        }
        out.into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(
                        Error::new(ErrorKind::Other, "internal: no result for a locator")
                            .with_backend(&self.name),
                    )
                })
            })
            .collect()
    }

    /// One BatchGetSecretValue call. `None` for an id means "read it one by one": the batch was
    /// denied or failed for a reason that is not about that secret, or did not mention it.
    pub(crate) async fn batch_chunk(
        &self,
        region: &str,
        chunk: &[(String, Vec<usize>)],
    ) -> Vec<Option<Result<Fetched>>> {
        let client = self.clients.for_region(region);
        let ids: Vec<String> = chunk.iter().map(|(id, _)| id.clone()).collect();
        let ctx = Context {
            op: "BatchGetSecretValue",
            secret_id: "(batch)",
            region,
        };
        let sent = self
            .retry
            .run(|| async {
                client
                    .batch_get_secret_value()
                    .set_secret_id_list(Some(ids.clone()))
                    .send()
                    .await
                    .map_err(|e| from_sdk(e, ctx))
            })
            .await;
        let resp = match sent {
            Ok(r) => r,
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                tracing::debug!(backend = %self.name, "BatchGetSecretValue denied; reading secrets one by one from now on");
                self.batch_denied.store(true, Ordering::Relaxed);
                return vec![None; chunk.len()];
            }
            // Retries are spent: the single calls would fail the same way and retry again.
            Err(e) if e.is_retryable() || e.kind() == ErrorKind::Unauthenticated => {
                let e = self.role_error(e);
                return vec![Some(Err(e.with_backend(&self.name))); chunk.len()];
            }
            Err(_) => return vec![None; chunk.len()],
        };
        let mut out: Vec<Option<Result<Fetched>>> = vec![None; chunk.len()];
        for entry in resp.secret_values.unwrap_or_default() {
            let pos = chunk.iter().enumerate().position(|(i, (id, _))| {
                out[i].is_none() && id_matches(id, entry.arn(), entry.name())
            });
            if let Some(pos) = pos {
                out[pos] = Some(self.entry_to_fetched(entry, &chunk[pos].0, region));
            }
        }
        for err in resp.errors.unwrap_or_default() {
            if let Some(pos) = chunk
                .iter()
                .position(|(id, _)| Some(id.as_str()) == err.secret_id())
            {
                let ctx = Context {
                    op: "BatchGetSecretValue",
                    secret_id: &chunk[pos].0,
                    region,
                };
                let e = from_code(
                    err.error_code().unwrap_or(""),
                    err.message().unwrap_or(""),
                    0,
                    ctx,
                );
                out[pos] = Some(Err(e.with_backend(&self.name)));
            }
        }
        out
    }

    fn entry_to_fetched(&self, entry: SecretValueEntry, id: &str, region: &str) -> Result<Fetched> {
        let _ = region;
        let meta = self.meta(
            id,
            entry.arn,
            entry.name,
            entry.created_date,
            entry.version_stages,
            entry.secret_binary.is_some() && entry.secret_string.is_none(),
        );
        crate::payload(
            id,
            entry.secret_string,
            entry.secret_binary,
            entry.version_id,
        )
        .map(|f| f.with_meta(meta))
        .map_err(|e| e.with_backend(&self.name))
    }
}
