//! `tipline run` (the default): every role of one process until SIGINT or SIGTERM, or until a
//! role fails; a failed role makes the process exit non-zero so that it is restarted.

use std::path::Path;
use std::process::ExitCode;

use crate::app::{App, Options};
use crate::config::Secrets;

/// Starts the process and runs it until it stops.
pub fn run(path: &Path) -> ExitCode {
    let Some(settings) = super::settings(path) else {
        return ExitCode::FAILURE;
    };
    crate::telemetry::init(settings.app.log_format == "json");
    for w in settings.warnings() {
        tracing::warn!(key = %w.key, "{}", w.message);
    }
    let secrets = match Secrets::from_env(&settings) {
        Ok(s) => s,
        Err(e) => return super::fail(e),
    };
    for w in &secrets.warnings {
        tracing::warn!(key = %w.key, "{}", w.message);
    }
    let Some(runtime) = super::runtime() else {
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
        match app.run_until_stopped().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(failure) => {
                tracing::error!(role = failure.role, cause = %failure.cause, "tipline stopped: a role failed");
                ExitCode::FAILURE
            }
        }
    })
}

/// Waits for Ctrl-C or SIGTERM (a signal handler that cannot be installed is logged and
/// SIGTERM is then not waited for).
async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops tipline");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
