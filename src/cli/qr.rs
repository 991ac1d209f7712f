//! `tipline qr`: printable Hòm thư ANTT 4.0 posters (SVG and PNG, A4) for one mailbox or all.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::Mailbox;
use crate::i18n::Texts;

/// Which posters, and where.
#[derive(Args)]
pub struct QrArgs {
    /// One mailbox, by code.
    #[arg(long, required_unless_present = "all")]
    mailbox: Option<String>,
    /// Every configured mailbox.
    #[arg(long)]
    all: bool,
    /// Folder to write into.
    #[arg(long, default_value = "posters")]
    out: PathBuf,
}

/// Writes the posters and prints each file's path.
pub fn qr(path: &Path, args: QrArgs) -> ExitCode {
    let Some(settings) = super::settings(path) else {
        return ExitCode::FAILURE;
    };
    let texts = match Texts::load(&settings.app.locales_dir) {
        Ok(t) => t,
        Err(e) => return super::fail(e),
    };
    let chosen: Vec<&Mailbox> = if args.all {
        settings.mailboxes.iter().collect()
    } else {
        let code = args.mailbox.unwrap_or_default();
        match settings.mailbox(&code) {
            Some(m) => vec![m],
            None => return super::fail(format!("no mailbox {code} in the configuration")),
        }
    };
    for m in chosen {
        match crate::posters::write_poster(&settings, &texts, m, &args.out) {
            Ok(files) => {
                for f in files {
                    println!("{}", f.display());
                }
            }
            Err(e) => return super::fail(format!("{}: {e:#}", m.code)),
        }
    }
    ExitCode::SUCCESS
}
