//! `tipline audit verify`: walks the hash chain of officer and admin actions.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use crate::store::Store;

/// What to do with the audit trail.
#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check the hash chain; exit 1 and name the first bad record if it is broken.
    Verify,
}

/// Runs `action` against the configured Redis.
pub fn audit(path: &Path, action: AuditCmd) -> ExitCode {
    let AuditCmd::Verify = action;
    let (Some(settings), Some(runtime)) = (super::settings(path), super::runtime()) else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(async move {
        let store = match Store::connect(&settings.redis.url, &settings.app.namespace).await {
            Ok(s) => s,
            Err(e) => return super::fail(format!("cannot reach Redis: {e}")),
        };
        match crate::audit::verify(&store).await {
            Ok(Ok(n)) => {
                println!("audit trail intact: {n} records");
                ExitCode::SUCCESS
            }
            Ok(Err(broken)) => super::fail(format!("audit trail BROKEN: {broken}")),
            Err(e) => super::fail(format!("cannot read the audit trail: {e:#}")),
        }
    })
}
