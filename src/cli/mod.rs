//! The command line (DESIGN.md §8): one binary, `tipline`, with a subcommand per job. This
//! module parses the arguments (clap derive) and hands each subcommand to its own file; every
//! subcommand prints what went wrong to standard error and exits non-zero.
//!
//! - [`run`]: every role of a process (the default).
//! - [`check_config`]: the configuration file and the secrets in the environment.
//! - [`gen_keys`]: fresh alias, route, audit and link keys.
//! - [`audit`]: `audit verify [--head N:HASH]`, the keyed chain of officer actions.
//! - [`export`]: the tip log of a week or of days (CSV, XLSX, JSON Lines).
//! - [`qr`]: Hòm thư ANTT 4.0 posters with each mailbox's QR code.
//! - [`dlq`]: dead letters of a consumer group: list, show, replay, drop.
//! - [`purge`]: the retention purge now, or what it would purge (`--dry-run`).
//! - [`keys`]: `keys rotate` (a new route key, the old one retired) and `keys reseal`.

mod audit;
mod check_config;
mod dlq;
mod export;
mod gen_keys;
mod keys;
mod purge;
mod qr;
mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;

/// The `tipline` command line.
#[derive(Parser)]
#[command(
    name = "tipline",
    version,
    about = "A confidential crime-tip line inside Telegram and Zalo"
)]
pub struct Cli {
    /// Configuration file.
    #[arg(
        long,
        short,
        global = true,
        default_value = "config/tipline.toml",
        env = "TIPLINE_CONFIG"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run every role: HTTP server, Telegram and Zalo receivers, intake, desk, notifier,
    /// forwarder (the default).
    Run,
    /// Check the configuration file and the secrets in the environment; list every problem.
    CheckConfig,
    /// Print fresh random values for the alias, route, audit and link keys.
    GenKeys,
    /// The audit trail of officer actions.
    Audit {
        #[command(subcommand)]
        action: audit::AuditCmd,
    },
    /// Write the tip log of a week (or of days) as CSV, XLSX or JSON Lines (docs/export.md).
    Export(export::ExportArgs),
    /// Write printable Hòm thư ANTT 4.0 posters (SVG and PNG, A4) with each mailbox's QR code.
    Qr(qr::QrArgs),
    /// Events a consumer group gave up on (dead letters): inspect, send again, drop.
    Dlq {
        /// The consumer group: forward, desk, notify, or intake (the inbox's dead letters).
        #[arg(long, default_value = "forward")]
        group: String,
        #[command(subcommand)]
        action: dlq::DlqCmd,
    },
    /// Purge the tips past their retention now ([retention]); --dry-run only lists them.
    Purge(purge::PurgeArgs),
    /// Rotate the route key (rotate), or seal stored values again under the current one (reseal).
    Keys {
        #[command(subcommand)]
        action: keys::KeysCmd,
    },
}

/// Parses the command line and runs the subcommand; what the process exits with.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let path = cli.config.as_path();
    match cli.command.unwrap_or(Cmd::Run) {
        Cmd::Run => run::run(path),
        Cmd::CheckConfig => check_config::check_config(path),
        Cmd::GenKeys => gen_keys::gen_keys(),
        Cmd::Audit { action } => audit::audit(path, action),
        Cmd::Export(args) => export::export(path, args),
        Cmd::Qr(args) => qr::qr(path, args),
        Cmd::Dlq { group, action } => dlq::dlq(path, &group, action),
        Cmd::Purge(args) => purge::purge(path, args),
        Cmd::Keys { action } => keys::keys(path, action),
    }
}

/// Loads the configuration, or prints why it cannot be used.
fn settings(path: &Path) -> Option<Settings> {
    Settings::load(path)
        .map_err(|e| eprintln!("{}: {e}", path.display()))
        .ok()
}

/// The async runtime, or a printed reason.
fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new()
        .map_err(|e| eprintln!("cannot start the async runtime: {e}"))
        .ok()
}

/// Who a command-line action is recorded as in the audit trail.
fn actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "admin".into())
    )
}

/// Prints `msg` to standard error; a failed exit.
fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("{msg}");
    ExitCode::FAILURE
}
