//! Logging with `tracing`: pretty for people, JSON for collectors, filtered by `RUST_LOG`
//! (default `info`). Log lines carry aliases and receipt codes, never platform ids, names,
//! phone numbers or message texts.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; `json` picks the JSON format.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    // A second call (tests) finds a subscriber already set; that is fine.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
