//! `tipline purge [--dry-run]`: runs the retention purge now (`crate::retention`), whatever
//! the schedule; `--dry-run` lists the tips that are due and changes nothing.

use std::path::Path;
use std::process::ExitCode;

use clap::Args;

use crate::config::Secrets;
use crate::retention::{Mode, Report};
use crate::shared::{Options, Shared};

/// Arguments of `tipline purge`.
#[derive(Args)]
pub struct PurgeArgs {
    /// List what would be purged, with counts; change nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Purges every tip past its retention now (or lists them).
pub fn purge(path: &Path, args: PurgeArgs) -> ExitCode {
    let (Some(settings), Some(runtime)) = (super::settings(path), super::runtime()) else {
        return ExitCode::FAILURE;
    };
    let secrets = match Secrets::from_env(&settings) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    runtime.block_on(async move {
        let shared = match Shared::build(settings, &secrets, &Options::default()).await {
            Ok(s) => s,
            Err(e) => return super::fail(format!("{e:#}")),
        };
        let mode = if args.dry_run {
            Mode::DryRun
        } else {
            Mode::Purge
        };
        match crate::retention::run_once(&shared, mode, &super::actor()).await {
            Ok(report) => {
                print(&shared, &report, mode);
                ExitCode::SUCCESS
            }
            Err(e) => super::fail(format!("purge failed: {e:#}")),
        }
    })
}

fn print(shared: &Shared, report: &Report, mode: Mode) {
    for due in &report.due {
        println!(
            "{}\t{}\tdue since {}",
            due.code,
            due.status.msg_id().trim_start_matches("status-"),
            shared.local_time(due.due_ms)
        );
    }
    match mode {
        Mode::DryRun => println!(
            "{} tip(s) past retention would be purged (dry run: nothing changed)",
            report.due.len()
        ),
        Mode::Purge => println!(
            "{} tip(s) purged of {} due; {} event(s) and {} dead letter(s) trimmed",
            report.purged,
            report.due.len(),
            report.events_trimmed,
            report.dead_letters_trimmed
        ),
    }
}
