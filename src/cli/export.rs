//! `tipline export`: the tip log of a week or of days as CSV, XLSX or JSON Lines
//! (docs/export.md), written beside the target and renamed at the end, and audited.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::Secrets;
use crate::export::source::{Filter, export as run_export};
use crate::export::{Format, Output, Writer, week};
use crate::shared::{Options, Shared};
use crate::store::TipStatus;

/// What to export, and where.
#[derive(Args)]
pub struct ExportArgs {
    /// An ISO week, e.g. 2026-W48 (Monday 00:00 to Monday 00:00 local time). Without it
    /// and without --from/--to: the last full week.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    week: Option<String>,
    /// First day, YYYY-MM-DD (local), with --to.
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// Last day, YYYY-MM-DD (local, included), with --from.
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// csv (UTF-8 with BOM, for Excel), xlsx or jsonl.
    #[arg(long, default_value = "csv")]
    format: String,
    /// The file to write; `-` writes to standard output (csv and jsonl).
    #[arg(long)]
    out: PathBuf,
    /// Only this commune id.
    #[arg(long)]
    commune: Option<String>,
    /// Only this category id.
    #[arg(long)]
    category: Option<String>,
    /// Only tips in this state: submitted, acknowledged, in_progress, closed.
    #[arg(long)]
    status: Option<String>,
}

/// Checks the arguments against the configuration, then writes the export.
pub fn export(path: &Path, args: ExportArgs) -> ExitCode {
    use super::fail;
    let (Some(settings), Some(runtime)) = (super::settings(path), super::runtime()) else {
        return ExitCode::FAILURE;
    };
    let offset = settings.app.utc_offset_hours;
    let format: Format = match args.format.parse() {
        Ok(f) => f,
        Err(_) => {
            return fail(format!(
                "--format {} is not csv, xlsx or jsonl",
                args.format
            ));
        }
    };
    let status = match args
        .status
        .as_deref()
        .map(|s| serde_json::from_value::<TipStatus>(serde_json::Value::String(s.into())))
    {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => {
            return fail("--status must be submitted, acknowledged, in_progress or closed");
        }
    };
    if let Some(c) = &args.commune
        && settings.commune(c).is_none()
    {
        return fail(format!("--commune {c} is not a configured commune id"));
    }
    if let Some(c) = &args.category
        && settings.category(c).is_none()
    {
        return fail(format!("--category {c} is not a configured category id"));
    }
    let secrets = match Secrets::from_env(&settings) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string()),
    };
    let actor = super::actor();
    runtime.block_on(async move {
        let shared = match Shared::build(settings, &secrets, &Options::default()).await {
            Ok(s) => s,
            Err(e) => return fail(format!("{e:#}")),
        };
        let range = match (&args.week, &args.from.zip(args.to)) {
            (Some(w), _) => week::iso_week(w, offset),
            (None, Some((from, to))) => week::days(from, to, offset),
            (None, None) => Ok(week::last_full_week(shared.clock.now_ms(), offset)),
        };
        let range = match range {
            Ok(r) => r,
            Err(e) => return fail(e),
        };
        let to_stdout = args.out.as_os_str() == "-";
        if to_stdout && format == Format::Xlsx {
            return fail("an XLSX export needs --out FILE");
        }
        // Written beside the target and renamed at the end: a failed export leaves any
        // earlier file in place.
        let partial = {
            let mut name = args.out.clone().into_os_string();
            name.push(".part");
            PathBuf::from(name)
        };
        let output = if to_stdout {
            Output::stream(std::io::stdout())
        } else {
            Output::path(&partial)
        };
        let filter = Filter {
            commune: args.commune,
            category: args.category,
            status,
        };
        let result = async {
            let mut writer = Writer::new(format, output, &shared.settings.export)?;
            let n = run_export(
                shared.export_reads(),
                &range,
                &filter,
                &mut [&mut writer],
                None,
                &actor,
            )
            .await?;
            writer.finish()?;
            if !to_stdout {
                std::fs::rename(&partial, &args.out)?;
            }
            anyhow::Ok(n)
        }
        .await;
        match result {
            Ok(n) => {
                eprintln!(
                    "{}: {n} tips ({}, {format})",
                    range.label,
                    args.out.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                if !to_stdout {
                    let _ = std::fs::remove_file(&partial);
                }
                fail(format!("export failed: {e:#}"))
            }
        }
    })
}
