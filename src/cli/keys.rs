//! `tipline keys`: the route key's rotation.
//!
//! - `keys rotate` prints a fresh route key and the environment for the rotation: the new key
//!   as `TIPLINE_ROUTE_KEY`, the current one added to `TIPLINE_ROUTE_KEYS_RETIRED`. Nothing is
//!   changed: secrets live only in the environment, so the operator puts the lines in every
//!   replica's environment file and restarts. Each process then seals the long-kept values
//!   again in the background ([`crate::reseal`]); `/metrics` shows what is left.
//! - `keys reseal [--dry-run]` runs that same pass now and says how many values were sealed
//!   again, were current already, changed meanwhile, or opened with no key given.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;
use rand::RngCore;

use crate::config::Secrets;
use crate::privacy::Vault;
use crate::store::Store;

/// What to do with the keys.
#[derive(Subcommand)]
pub enum KeysCmd {
    /// Print a new route key and the environment that retires the current one.
    Rotate,
    /// Seal routes, tips' phones and file fingerprints again under the current route key now.
    Reseal {
        /// Count what would be sealed again, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs `action`.
pub fn keys(path: &Path, action: KeysCmd) -> ExitCode {
    match action {
        KeysCmd::Rotate => rotate(|k| std::env::var(k).ok()),
        KeysCmd::Reseal { dry_run } => reseal(path, dry_run),
    }
}

/// The key id of a route key, as sealed values carry it (`v1.<kid>.…`).
fn kid(key: &[u8; 32]) -> String {
    Vault::from_keys(b"", key).key_id().to_owned()
}

fn parse_key(hex_key: &str) -> Option<[u8; 32]> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(hex_key.trim(), &mut key).ok()?;
    Some(key)
}

/// Prints the rotation's environment to standard output and what to do to standard error.
fn rotate(get: impl Fn(&str) -> Option<String>) -> ExitCode {
    let Some(current) = get("TIPLINE_ROUTE_KEY").and_then(|k| parse_key(&k)) else {
        return super::fail(
            "TIPLINE_ROUTE_KEY must be set to the current route key (64 hex characters) to retire it",
        );
    };
    let mut retired = vec![hex::encode(current)];
    for old in get("TIPLINE_ROUTE_KEYS_RETIRED")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        let Some(key) = parse_key(old) else {
            return super::fail(
                "TIPLINE_ROUTE_KEYS_RETIRED must be route keys of 64 hex characters, separated by commas",
            );
        };
        if !retired.contains(&hex::encode(key)) {
            retired.push(hex::encode(key));
        }
    }
    let mut new = [0u8; 32];
    rand::rng().fill_bytes(&mut new);
    println!("export TIPLINE_ROUTE_KEY={}", hex::encode(new));
    println!("export TIPLINE_ROUTE_KEYS_RETIRED={}", retired.join(","));
    eprintln!(
        "route key {} replaces {} (retired now: {}).\n\
         Put both lines in the environment of every tipline process, then restart them: new \
         values are sealed with the new key, and each process seals the stored routes, phones \
         and file fingerprints again in the background (tipline_reseal_left on /metrics falls \
         to 0; `tipline keys reseal` does it at once). Keep every retired key listed for 30 \
         days more, until the short-lived values it sealed (inbox, drafts, inbox dead letters) \
         are gone; then drop it.",
        kid(&new),
        kid(&current),
        retired
            .iter()
            .filter_map(|k| parse_key(k))
            .map(|k| kid(&k))
            .collect::<Vec<_>>()
            .join(", "),
    );
    ExitCode::SUCCESS
}

/// `keys reseal`: the background pass, now, against the configured Redis.
fn reseal(path: &Path, dry_run: bool) -> ExitCode {
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
        match crate::reseal::reseal(&store, &vault, dry_run).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotation_needs_a_valid_current_key_and_refuses_a_bad_retired_one() {
        let none = |_: &str| None;
        assert_eq!(rotate(none), ExitCode::FAILURE);
        let bad = |k: &str| (k == "TIPLINE_ROUTE_KEY").then(|| "12".to_owned());
        assert_eq!(rotate(bad), ExitCode::FAILURE);
        let bad_retired = |k: &str| match k {
            "TIPLINE_ROUTE_KEY" => Some("11".repeat(32)),
            _ => Some("zz".to_owned()),
        };
        assert_eq!(rotate(bad_retired), ExitCode::FAILURE);
        let good = |k: &str| (k == "TIPLINE_ROUTE_KEY").then(|| "11".repeat(32));
        assert_eq!(rotate(good), ExitCode::SUCCESS);
    }
}
