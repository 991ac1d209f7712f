//! One streaming writer for the three formats: create it, write rows one at a time, finish it
//! for the [`Summary`]. The caller never holds more than one row.

use std::fmt;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::str::FromStr;

use serde::Deserialize;

use super::columns::Col;
use super::csv_out::CsvSink;
use super::jsonl_out::JsonlSink;
use super::xlsx_out::XlsxSink;
use super::{ExportError, ExportOptions, Row, Summary};

/// A file format of the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// CSV with a byte-order mark, for Excel.
    Csv,
    /// An Excel workbook with a tips sheet and a summary sheet.
    Xlsx,
    /// JSON Lines, for scripts.
    Jsonl,
}

impl Format {
    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Jsonl => "jsonl",
        }
    }

    /// The media type, for sending the file as a document.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Jsonl => "application/jsonl",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// A name that is not one of `csv`, `xlsx`, `jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not an export format (csv, xlsx or jsonl)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    /// Parses `csv`, `xlsx` or `jsonl`, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            "jsonl" => Ok(Format::Jsonl),
            _ => Err(UnknownFormat(s.to_owned())),
        }
    }
}

/// Where an export goes.
pub enum Output<'a> {
    /// A stream, e.g. a `Vec<u8>` or stdout. An XLSX workbook is written to it whole at
    /// [`Writer::finish`].
    Stream(Box<dyn Write + Send + 'a>),
    /// A file, created (or truncated) when the writer is created; an XLSX file is written at
    /// [`Writer::finish`].
    Path(PathBuf),
}

impl<'a> Output<'a> {
    /// An output stream.
    pub fn stream(out: impl Write + Send + 'a) -> Self {
        Output::Stream(Box::new(out))
    }

    /// An output file.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        Output::Path(path.into())
    }

    /// The stream, creating the file of a path.
    pub(crate) fn open(self) -> Result<Box<dyn Write + Send + 'a>, ExportError> {
        Ok(match self {
            Output::Stream(out) => out,
            Output::Path(path) => Box::new(BufWriter::new(File::create(path)?)),
        })
    }
}

impl fmt::Debug for Output<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Stream(_) => f.write_str("Output::Stream"),
            Output::Path(p) => write!(f, "Output::Path({})", p.display()),
        }
    }
}

enum Sink<'a> {
    // Boxed: the CSV writer's buffer and the workbook are large, a JSON Lines sink is not.
    Csv(Box<CsvSink<'a>>),
    Jsonl(JsonlSink<'a>),
    Xlsx(Box<XlsxSink<'a>>),
}

/// An export in progress: [`Writer::write`] each row, then [`Writer::finish`].
pub struct Writer<'a> {
    sink: Sink<'a>,
    summary: Summary,
}

impl<'a> Writer<'a> {
    /// Starts an export in `format` to `out`, with the columns `options` allow. CSV and JSON
    /// Lines stream to `out` as rows come; XLSX keeps rows in a temporary file until
    /// [`Writer::finish`].
    pub fn new(
        format: Format,
        out: Output<'a>,
        options: &ExportOptions,
    ) -> Result<Self, ExportError> {
        let cols = Col::for_options(options);
        let sink = match format {
            Format::Csv => Sink::Csv(Box::new(CsvSink::new(out.open()?, cols)?)),
            Format::Jsonl => Sink::Jsonl(JsonlSink::new(out.open()?, cols)),
            Format::Xlsx => Sink::Xlsx(Box::new(XlsxSink::new(out, cols)?)),
        };
        Ok(Writer {
            sink,
            summary: Summary::default(),
        })
    }

    /// Writes one row and counts it in the summary.
    pub fn write(&mut self, row: &Row) -> Result<(), ExportError> {
        match &mut self.sink {
            Sink::Csv(s) => s.write(row)?,
            Sink::Jsonl(s) => s.write(row)?,
            Sink::Xlsx(s) => s.write(row)?,
        }
        self.summary.add(row);
        Ok(())
    }

    /// The summary of the rows written so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Completes the file (for XLSX: adds the summary sheet and saves) and returns the summary.
    pub fn finish(self) -> Result<Summary, ExportError> {
        match self.sink {
            Sink::Csv(s) => s.finish()?,
            Sink::Jsonl(s) => s.finish()?,
            Sink::Xlsx(s) => s.finish(&self.summary)?,
        }
        Ok(self.summary)
    }
}
