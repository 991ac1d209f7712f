//! The `tipline` binary: parses the command line and calls into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tipline::app::{App, Options};
use tipline::config::{Secrets, Settings};

#[derive(Parser)]
#[command(
    name = "tipline",
    version,
    about = "A confidential crime-tip line inside Telegram"
)]
struct Cli {
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
    /// Run every role: HTTP server, Telegram receiver, intake (the default).
    Run,
    /// Check the configuration file and the secrets in the environment; list every problem.
    CheckConfig,
    /// Print fresh random values for TIPLINE_ALIAS_KEY and TIPLINE_ROUTE_KEY.
    GenKeys,
    /// The audit trail of officer actions.
    Audit {
        #[command(subcommand)]
        action: AuditCmd,
    },
    /// Write the tip log of a week (or of days) as CSV, XLSX or JSON Lines (docs/export.md).
    Export {
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
    },
    /// Write printable Hòm thư ANTT 4.0 posters (SVG and PNG, A4) with each mailbox's QR code.
    Qr {
        /// One mailbox, by code.
        #[arg(long, required_unless_present = "all")]
        mailbox: Option<String>,
        /// Every configured mailbox.
        #[arg(long)]
        all: bool,
        /// Folder to write into.
        #[arg(long, default_value = "posters")]
        out: PathBuf,
    },
    /// Events a consumer group gave up on (dead letters): inspect, send again, drop.
    Dlq {
        /// The consumer group: forward, desk or notify.
        #[arg(long, default_value = "forward")]
        group: String,
        #[command(subcommand)]
        action: DlqCmd,
    },
}

#[derive(Subcommand)]
enum DlqCmd {
    /// One line per dead letter, oldest first.
    List {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Every field of one dead letter.
    Show {
        /// Its id (first column of `list`).
        id: String,
    },
    /// Send dead letters of the forward group to the triage service again, now; each one the
    /// service takes is removed.
    Replay {
        /// Ids to replay.
        ids: Vec<String>,
        /// Replay every dead letter, oldest first.
        #[arg(long)]
        all: bool,
    },
    /// Remove dead letters without sending them.
    Drop {
        /// Ids to drop.
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Check the hash chain; exit 1 and name the first bad record if it is broken.
    Verify,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Cmd::Run) {
        Cmd::CheckConfig => check_config(&cli.config),
        Cmd::GenKeys => {
            use rand::RngCore;
            let mut a = [0u8; 32];
            let mut r = [0u8; 32];
            rand::rng().fill_bytes(&mut a);
            rand::rng().fill_bytes(&mut r);
            println!("export TIPLINE_ALIAS_KEY={}", hex::encode(a));
            println!("export TIPLINE_ROUTE_KEY={}", hex::encode(r));
            ExitCode::SUCCESS
        }
        Cmd::Run => run(&cli.config),
        Cmd::Audit {
            action: AuditCmd::Verify,
        } => audit_verify(&cli.config),
        Cmd::Dlq { group, action } => dlq(&cli.config, &group, action),
        Cmd::Export {
            week,
            from,
            to,
            format,
            out,
            commune,
            category,
            status,
        } => export(
            &cli.config,
            ExportArgs {
                week,
                days: from.zip(to),
                format,
                out,
                commune,
                category,
                status,
            },
        ),
        Cmd::Qr { mailbox, all, out } => qr(&cli.config, mailbox, all, &out),
    }
}

struct ExportArgs {
    week: Option<String>,
    days: Option<(String, String)>,
    format: String,
    out: PathBuf,
    commune: Option<String>,
    category: Option<String>,
    status: Option<String>,
}

fn export(path: &std::path::Path, args: ExportArgs) -> ExitCode {
    use tipline::export::source::{Filter, export};
    use tipline::export::{Format, Output, Writer, week};
    let (Some(settings), Some(runtime)) = (settings(path), runtime()) else {
        return ExitCode::FAILURE;
    };
    let offset = settings.app.utc_offset_hours;
    let fail = |msg: String| {
        eprintln!("{msg}");
        ExitCode::FAILURE
    };
    let format: Format = match args.format.parse() {
        Ok(f) => f,
        Err(_) => {
            return fail(format!(
                "--format {} is not csv, xlsx or jsonl",
                args.format
            ));
        }
    };
    let status = match args.status.as_deref().map(|s| {
        serde_json::from_value::<tipline::store::TipStatus>(serde_json::Value::String(s.into()))
    }) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(_)) => {
            return fail("--status must be submitted, acknowledged, in_progress or closed".into());
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
    let actor = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "admin".into())
    );
    runtime.block_on(async move {
        let shared =
            match tipline::app::Shared::build(settings, &secrets, &Options::default()).await {
                Ok(s) => s,
                Err(e) => return fail(format!("{e:#}")),
            };
        let range = match (&args.week, &args.days) {
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
            return fail("an XLSX export needs --out FILE".into());
        }
        // Written beside the target and renamed at the end: a failed export leaves any
        // earlier file in place.
        let partial = {
            let mut name = args.out.clone().into_os_string();
            name.push(".part");
            std::path::PathBuf::from(name)
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
            let n = export(&shared, &range, &filter, &mut [&mut writer], None, &actor).await?;
            writer.finish()?;
            anyhow::Ok(n)
        }
        .await;
        let result = result.and_then(|n| {
            if !to_stdout {
                std::fs::rename(&partial, &args.out)?;
            }
            Ok(n)
        });
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

fn qr(
    path: &std::path::Path,
    mailbox: Option<String>,
    all: bool,
    out: &std::path::Path,
) -> ExitCode {
    let Some(settings) = settings(path) else {
        return ExitCode::FAILURE;
    };
    let texts = match tipline::i18n::Texts::load(&settings.app.locales_dir) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let chosen: Vec<&tipline::config::Mailbox> = if all {
        settings.mailboxes.iter().collect()
    } else {
        let code = mailbox.unwrap_or_default();
        match settings.mailbox(&code) {
            Some(m) => vec![m],
            None => {
                eprintln!("no mailbox {code} in the configuration");
                return ExitCode::FAILURE;
            }
        }
    };
    for m in chosen {
        match tipline::posters::write_poster(&settings, &texts, m, out) {
            Ok(files) => {
                for f in files {
                    println!("{}", f.display());
                }
            }
            Err(e) => {
                eprintln!("{}: {e:#}", m.code);
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn dlq(path: &std::path::Path, group: &str, action: DlqCmd) -> ExitCode {
    if !matches!(group, "forward" | "desk" | "notify") {
        eprintln!("--group must be forward, desk or notify");
        return ExitCode::FAILURE;
    }
    let (Some(settings), Some(runtime)) = (settings(path), runtime()) else {
        return ExitCode::FAILURE;
    };
    let secrets = match Secrets::from_env(&settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let actor = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "admin".into())
    );
    runtime.block_on(async move {
        let shared =
            match tipline::app::Shared::build(settings, &secrets, &Options::default()).await {
                Ok(s) => std::sync::Arc::new(s),
                Err(e) => {
                    eprintln!("{e:#}");
                    return ExitCode::FAILURE;
                }
            };
        let store = &shared.store;
        let result: anyhow::Result<bool> = async {
            match action {
                DlqCmd::List { limit } => {
                    let letters = store.dlq_list(group, limit).await?;
                    for l in &letters {
                        println!("{}", tipline::forward::dlq::summary(l));
                    }
                    println!("{} dead letter(s) in dlq:{group}", letters.len());
                    Ok(true)
                }
                DlqCmd::Show { id } => match store.dlq_get(group, &id).await? {
                    Some(l) => {
                        let mut fields: Vec<_> = l.fields.iter().collect();
                        fields.sort();
                        println!("id: {}", l.id);
                        for (k, v) in fields {
                            println!("{k}: {v}");
                        }
                        Ok(true)
                    }
                    None => {
                        eprintln!("no dead letter {id} in dlq:{group}");
                        Ok(false)
                    }
                },
                DlqCmd::Drop { ids } => {
                    let mut ok = true;
                    for id in ids {
                        if store.dlq_delete(group, &id).await? {
                            tipline::audit::append(
                                store,
                                shared.clock.now_ms(),
                                &actor,
                                "dlq_drop",
                                "",
                                &format!("{group} {id}"),
                            )
                            .await?;
                            println!("{id}: dropped");
                        } else {
                            eprintln!("{id}: no such dead letter");
                            ok = false;
                        }
                    }
                    Ok(ok)
                }
                DlqCmd::Replay { ids, all } => {
                    if group != "forward" {
                        anyhow::bail!("only dead letters of the forward group can be replayed");
                    }
                    let Some(secret) = secrets.triage_secret.as_ref() else {
                        anyhow::bail!("TIPLINE_TRIAGE_SECRET is not set");
                    };
                    use secrecy::ExposeSecret;
                    let forwarder = tipline::forward::Forwarder::new(
                        shared.clone(),
                        secret.expose_secret().as_bytes(),
                        shared.links.clone(),
                    )?;
                    let ids = if all {
                        store
                            .dlq_list(group, 10_000)
                            .await?
                            .into_iter()
                            .map(|l| l.id)
                            .collect()
                    } else {
                        ids
                    };
                    let mut ok = true;
                    for id in ids {
                        use tipline::forward::dlq::Replay;
                        match forwarder.replay(&id, &actor).await? {
                            Replay::Delivered => println!("{id}: delivered"),
                            Replay::Failed(why) => {
                                eprintln!("{id}: still refused: {why}");
                                ok = false;
                            }
                            Replay::Unknown => {
                                eprintln!("{id}: no such dead letter");
                                ok = false;
                            }
                        }
                    }
                    Ok(ok)
                }
            }
        }
        .await;
        match result {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("{e:#}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Loads the configuration, or prints why it cannot be used.
fn settings(path: &std::path::Path) -> Option<Settings> {
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

fn audit_verify(path: &std::path::Path) -> ExitCode {
    let (Some(settings), Some(runtime)) = (settings(path), runtime()) else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(async move {
        let store = match tipline::store::Store::connect(
            &settings.redis.url,
            &settings.app.namespace,
        )
        .await
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cannot reach Redis: {e}");
                return ExitCode::FAILURE;
            }
        };
        match tipline::audit::verify(&store).await {
            Ok(Ok(n)) => {
                println!("audit trail intact: {n} records");
                ExitCode::SUCCESS
            }
            Ok(Err(broken)) => {
                eprintln!("audit trail BROKEN: {broken}");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("cannot read the audit trail: {e:#}");
                ExitCode::FAILURE
            }
        }
    })
}

fn check_config(path: &std::path::Path) -> ExitCode {
    let mut failed = false;
    match Settings::load(path) {
        Ok(settings) => {
            println!("{}: configuration is valid", path.display());
            if let Err(e) = Secrets::from_env(&settings) {
                eprintln!("{e}");
                failed = true;
            } else {
                println!("secrets: all present");
            }
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn run(path: &std::path::Path) -> ExitCode {
    let Some(settings) = settings(path) else {
        return ExitCode::FAILURE;
    };
    tipline::telemetry::init(settings.app.log_format == "json");
    let secrets = match Secrets::from_env(&settings) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    runtime.block_on(async move {
        let app = match App::start(settings, secrets, Options::default()).await {
            Ok(app) => app,
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), "tipline could not start");
                return ExitCode::FAILURE;
            }
        };
        let token = app.shutdown_token();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown signal received; stopping at the next safe point");
            token.cancel();
        });
        app.run_until_stopped().await;
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
