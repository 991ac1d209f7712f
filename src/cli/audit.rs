//! `tipline audit verify`: walks the keyed chain of officer and admin actions with the audit key
//! (`TIPLINE_AUDIT_KEY`, or the one derived from `TIPLINE_ALIAS_KEY` while it is unset), and
//! with `--head N:HASH` (from a weekly report) checks record N is still the one reported.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use crate::store::Store;

/// What to do with the audit trail.
#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check the chain; exit 1 and name the first bad record if it is broken.
    Verify {
        /// A head a weekly report printed (`N:HASH`): record N must still have that hash.
        #[arg(long, value_name = "N:HASH")]
        head: Option<String>,
    },
}

/// Runs `action` against the configured Redis.
pub fn audit(path: &Path, action: AuditCmd) -> ExitCode {
    let AuditCmd::Verify { head } = action;
    let pin = match head.as_deref().map(crate::audit::parse_head) {
        None => None,
        Some(Some(pin)) => Some(pin),
        Some(None) => {
            return super::fail(
                "--head must be N:HASH (the record number and its 64 hex characters, as the \
                 weekly report prints them)",
            );
        }
    };
    let key = match crate::config::audit_key(|k| std::env::var(k).ok()) {
        Ok(key) => key,
        Err(problem) => return super::fail(format!("{problem}")),
    };
    let (Some(settings), Some(runtime)) = (super::settings(path), super::runtime()) else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(async move {
        let store = match Store::connect(&settings.redis.url, &settings.app.namespace).await {
            Ok(s) => s,
            Err(e) => return super::fail(format!("cannot reach Redis: {e}")),
        };
        match crate::audit::verify(&store, &key, pin.as_ref()).await {
            Ok(Ok(intact)) => {
                let keyed = intact
                    .keyed_from
                    .map_or("no keyed records yet".to_owned(), |n| {
                        format!("keyed from record {n}")
                    });
                let pinned = pin.map_or(String::new(), |(n, _)| format!("; record {n} as pinned"));
                println!(
                    "audit trail intact: {} records ({keyed}{pinned})",
                    intact.records
                );
                ExitCode::SUCCESS
            }
            Ok(Err(broken)) => super::fail(format!("audit trail BROKEN: {broken}")),
            Err(e) => super::fail(format!("cannot read the audit trail: {e:#}")),
        }
    })
}
