//! Tip logs for administrators: the tips of a week (or any range) as CSV, XLSX or JSON Lines,
//! with a summary of counts and response times. This is the end of the pipeline's read side:
//! tips come out of the store, become [`Row`]s here, and leave as a file an admin opens in
//! Excel or a script reads. The columns are a contract documented in `docs/export.md`.
//! [`week`] turns `2026-W48` or a pair of days into a range of received times; [`source`] reads
//! the tips of a range from the store into the writers.
//!
//! The writers are pure and streaming: they hold one row at a time (XLSX rows go to a temporary
//! file through `rust_xlsxwriter`'s constant-memory mode), so memory does not grow with the
//! number of tips; only the [`Summary`] keeps two numbers per tip for its percentiles.
//!
//! Privacy: a row never holds a platform identity (tips do not have one), officers' names or
//! evidence file ids. The citizen's alias appears only with `include_alias`, the description
//! only as [`DescriptionMode`] allows.
//!
//! Failures are I/O, CSV, JSON or XLSX errors ([`ExportError`]); a failed export may leave a
//! partial file behind, which the caller removes.

mod columns;
mod csv_out;
mod jsonl_out;
mod row;
pub mod source;
mod summary;
pub mod week;
mod writer;
mod xlsx_out;
mod xlsx_summary;

#[cfg(test)]
mod tests;

pub use columns::Col;
pub use csv_out::unguard;
pub use row::{PURGED_DESCRIPTION, Row, RowContext};
pub use summary::{Durations, Summary};
pub use writer::{Format, Output, UnknownFormat, Writer};

pub use crate::config::{DescriptionMode, ExportOptions};

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Writing the output failed.
    #[error("writing the export failed")]
    Io(#[from] std::io::Error),
    /// The CSV writer failed (it wraps I/O errors too).
    #[error("writing CSV failed")]
    Csv(#[from] ::csv::Error),
    /// Serialising a JSON line failed.
    #[error("writing JSON Lines failed")]
    Json(#[from] serde_json::Error),
    /// The XLSX writer failed (too many rows, temporary file, saving).
    #[error("writing XLSX failed")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}
