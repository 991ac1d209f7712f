//! `tipline check-config`: every problem of the configuration file, each with its key; once
//! the file is valid, the secrets in the environment.

use std::path::Path;
use std::process::ExitCode;

use crate::config::{Secrets, Settings};

/// Checks the file at `path` and the secrets; non-zero when anything is wrong.
pub fn check_config(path: &Path) -> ExitCode {
    let settings = match Settings::load(path) {
        Ok(settings) => settings,
        Err(e) => return super::fail(format!("{}: {e}", path.display())),
    };
    println!("{}: configuration is valid", path.display());
    for w in settings.warnings() {
        eprintln!("warning: {w}");
    }
    match Secrets::from_env(&settings) {
        Ok(secrets) => {
            for w in &secrets.warnings {
                eprintln!("warning: {w}");
            }
            println!("secrets: all present");
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(e),
    }
}
