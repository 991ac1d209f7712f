//! `tipline keys reseal`: after a rotation of the route key (the new key in
//! `TIPLINE_ROUTE_KEY`, the old one in `TIPLINE_ROUTE_KEYS_RETIRED`), seals the long-kept
//! sealed values again under the new key: the routes back to citizens and the phones kept
//! with tips. Each value is replaced only if it did not change meanwhile, so it runs beside a
//! live line; run it until it reports nothing left, then drop the retired key. Short-lived
//! sealed values (inbox entries, drafts, inbox dead letters of at most 30 days) are not
//! rewritten: keep the retired key until they are gone.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Secrets;
use crate::privacy::Vault;
use crate::store::Store;

/// What to do with the keys.
#[derive(Subcommand)]
pub enum KeysCmd {
    /// Seal routes and tips' phones again under the current route key.
    Reseal {
        /// Count what would be sealed again, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Counts of one run.
#[derive(Debug, Default, PartialEq, Eq)]
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

/// Runs `action` against the configured Redis.
pub fn keys(path: &Path, action: KeysCmd) -> ExitCode {
    let KeysCmd::Reseal { dry_run } = action;
    let (Some(settings), Some(runtime)) = (super::settings(path), super::runtime()) else {
        return ExitCode::FAILURE;
    };
    let secrets = match Secrets::from_env(&settings) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    let vault = Vault::new(&secrets);
    runtime.block_on(async move {
        let store = match Store::connect(&settings.redis.url, &settings.app.namespace).await {
            Ok(s) => s,
            Err(e) => return super::fail(format!("cannot reach Redis: {e}")),
        };
        match reseal(&store, &vault, dry_run).await {
            Ok(n) => {
                let verb = if dry_run { "to seal again" } else { "sealed again" };
                println!(
                    "key {}: {} {verb}, {} already current, {} changed meanwhile, {} not opened",
                    vault.key_id(),
                    n.resealed,
                    n.current,
                    n.changed,
                    n.unopened
                );
                if n.unopened > 0 {
                    return super::fail("some values open with no key given: list their key in TIPLINE_ROUTE_KEYS_RETIRED");
                }
                ExitCode::SUCCESS
            }
            Err(e) => super::fail(format!("resealing failed: {e:#}")),
        }
    })
}

/// Seals every route and every tip's phone again under `vault`'s current key.
pub async fn reseal(store: &Store, vault: &Vault, dry_run: bool) -> anyhow::Result<Resealed> {
    let mut n = Resealed::default();
    for key in store.scan_keys("route:*").await? {
        let Some(old) = store.get_string(&key).await? else {
            continue;
        };
        let new = match vault.reseal(&old) {
            Ok(Some(new)) => new,
            Ok(None) => {
                n.current += 1;
                continue;
            }
            Err(_) => {
                n.unopened += 1;
                continue;
            }
        };
        count(
            &mut n,
            dry_run || store.replace_if_unchanged(&key, None, &old, &new).await?,
        );
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
        match vault.reseal(sealed) {
            Ok(Some(new)) => tip["contact_sealed"] = new.into(),
            Ok(None) => {
                n.current += 1;
                continue;
            }
            Err(_) => {
                n.unopened += 1;
                continue;
            }
        }
        let new = tip.to_string();
        count(
            &mut n,
            dry_run
                || store
                    .replace_if_unchanged(&key, Some("json"), &old, &new)
                    .await?,
        );
    }
    Ok(n)
}

fn count(n: &mut Resealed, replaced: bool) {
    if replaced {
        n.resealed += 1;
    } else {
        n.changed += 1;
    }
}
