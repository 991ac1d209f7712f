//! Sealing again after a rotation of the route key (issue 14): the long-kept sealed values
//! (every citizen's route, the phone kept with a tip, the sealed fingerprints of evidence files)
//! are opened with whichever key sealed them and sealed again under the current one, so that a
//! retired key can be dropped. Each value is replaced only if it did not change since it was
//! read (`store::Store::replace_if_unchanged`), so this runs beside a live line.
//!
//! It runs in the background in every process that has retired keys
//! (`TIPLINE_ROUTE_KEYS_RETIRED`): one replica at a time, at most once every [`EVERY_SECS`]
//! (a lease in Redis), until a run finds nothing left under another key; then it marks the
//! current key done and stops. `tipline keys reseal` runs the same pass on demand. Short-lived
//! sealed values (inbox entries, drafts, inbox dead letters of at most 30 days) are not
//! rewritten: they expire first.
//!
//! Failures: a Redis error ends the run; the next one (after the lease) takes it up again,
//! and what was sealed again stays so. A value no configured key opens is counted, logged
//! and left as it is (its key is missing from `TIPLINE_ROUTE_KEYS_RETIRED`).

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::privacy::Vault;
use crate::shared::Shared;
use crate::store::Store;

/// The actor of background runs in the audit trail.
pub const ACTOR: &str = "system:reseal";

/// At most one background run in this many seconds, across replicas.
pub const EVERY_SECS: u64 = 600;

/// Counts of one run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Resealed {
    /// Values sealed again (or, in a dry run, that would be).
    pub resealed: usize,
    /// Values already under the current key.
    pub current: usize,
    /// Values that changed while being sealed again: left for the next run.
    pub changed: usize,
    /// Values no key opens (a key missing from `TIPLINE_ROUTE_KEYS_RETIRED`).
    pub unopened: usize,
}

impl Resealed {
    /// Values still under another key after this run (not in a dry run).
    pub fn left(&self) -> usize {
        self.changed + self.unopened
    }

    fn count(&mut self, replaced: bool) {
        if replaced {
            self.resealed += 1;
        } else {
            self.changed += 1;
        }
    }

    /// Seals `old` again (or, dry, counts it); `None` when it needs no write.
    fn next(&mut self, vault: &Vault, old: &str) -> Option<String> {
        match vault.reseal(old) {
            Ok(Some(new)) => Some(new),
            Ok(None) => {
                self.current += 1;
                None
            }
            Err(_) => {
                self.unopened += 1;
                None
            }
        }
    }
}

/// Seals every route, every tip's phone and every evidence fingerprint again under `vault`'s
/// current key; with `dry_run`, only counts.
pub async fn reseal(store: &Store, vault: &Vault, dry_run: bool) -> anyhow::Result<Resealed> {
    let mut n = Resealed::default();
    for key in store.scan_keys("route:*").await? {
        let Some(old) = store.get_string(&key).await? else {
            continue;
        };
        if let Some(new) = n.next(vault, &old) {
            let replaced = dry_run || store.replace_if_unchanged(&key, None, &old, &new).await?;
            n.count(replaced);
        }
    }
    for key in store.scan_keys("tip:*").await? {
        let Some(old) = store.get_field(&key, "json").await? else {
            continue;
        };
        let Ok(mut tip) = serde_json::from_str::<serde_json::Value>(&old) else {
            continue;
        };
        let Some(sealed) = tip["contact_sealed"].as_str() else {
            continue;
        };
        let Some(new) = n.next(vault, sealed) else {
            continue;
        };
        tip["contact_sealed"] = new.into();
        let new = tip.to_string();
        let replaced = dry_run
            || store
                .replace_if_unchanged(&key, Some("json"), &old, &new)
                .await?;
        n.count(replaced);
    }
    for key in store.scan_keys("evidence:*").await? {
        for (field, old) in store.get_fields(&key).await? {
            if !field.starts_with("sha:") {
                continue;
            }
            if let Some(new) = n.next(vault, &old) {
                let replaced = dry_run
                    || store
                        .replace_if_unchanged(&key, Some(&field), &old, &new)
                        .await?;
                n.count(replaced);
            }
        }
    }
    Ok(n)
}

/// One background run, if it is this replica's turn and the current key is not done yet.
pub async fn tick(shared: &Shared) -> anyhow::Result<Option<Resealed>> {
    let store = &shared.store;
    let kid = shared.vault.key_id();
    if store.reseal_done(kid).await? || !store.reseal_claim(&shared.instance, EVERY_SECS).await? {
        return Ok(None);
    }
    let n = reseal(store, &shared.vault, false).await?;
    let m = &shared.metrics;
    m.resealed.inc_by(n.resealed as u64);
    m.reseal_left.set(n.left() as i64);
    if n.resealed > 0 {
        let now = shared.clock.now_ms();
        let detail = format!("key {kid}: {} sealed again, {} left", n.resealed, n.left());
        crate::audit::append(store, now, ACTOR, "keys_resealed", "", &detail).await?;
    }
    if n.unopened > 0 {
        tracing::error!(
            key = kid,
            unopened = n.unopened,
            "sealed values that no configured route key opens: list their key in TIPLINE_ROUTE_KEYS_RETIRED"
        );
    }
    if n.left() == 0 {
        store.reseal_mark_done(kid).await?;
        tracing::info!(
            key = kid,
            resealed = n.resealed,
            "every route, phone and file fingerprint is sealed under the current route key; \
             a retired key can go once the short-lived values it sealed are gone (30 days)"
        );
    } else {
        tracing::info!(
            key = kid,
            resealed = n.resealed,
            left = n.left(),
            "reseal run"
        );
    }
    Ok(Some(n))
}

/// The background pass: [`tick`] every `every` until the current key is done, then idle
/// until shutdown (a role that returns would stop the process).
pub async fn run(shared: Arc<Shared>, every: Duration, shutdown: CancellationToken) {
    loop {
        match shared.store.reseal_done(shared.vault.key_id()).await {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "reseal: cannot read its mark; trying again"),
        }
        match tick(&shared).await {
            Ok(Some(n)) if n.left() == 0 => break,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "reseal run failed; trying again"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
    shutdown.cancelled().await;
}
