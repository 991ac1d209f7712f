//! CSV as Excel opens it: UTF-8 with a byte-order mark (without one Excel reads Vietnamese as
//! Windows-1252 mojibake), RFC 4180 quoting, CRLF line ends, a header row of column ids.
//!
//! Text that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would run as a formula
//! when Excel opens the file ("CSV injection"); a citizen controls the description, so such
//! text gets a leading apostrophe. Text that already starts with an apostrophe gets one too,
//! which keeps the rule reversible: [`unguard`] removes exactly one leading apostrophe.

use std::io::Write;

use super::ExportError;
use super::columns::{Cell, Col};
use super::row::Row;

/// The UTF-8 byte-order mark.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV export in progress.
pub(crate) struct CsvSink<'a> {
    out: csv::Writer<Box<dyn Write + Send + 'a>>,
    cols: &'static [Col],
    buf: String,
}

impl<'a> CsvSink<'a> {
    /// Writes the byte-order mark and the header row.
    pub(crate) fn new(
        mut out: Box<dyn Write + Send + 'a>,
        cols: &'static [Col],
    ) -> Result<Self, ExportError> {
        out.write_all(BOM)?;
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        out.write_record(cols.iter().map(|c| c.id()))?;
        Ok(CsvSink {
            out,
            cols,
            buf: String::new(),
        })
    }

    /// Writes one row.
    pub(crate) fn write(&mut self, row: &Row) -> Result<(), ExportError> {
        for col in self.cols {
            self.buf.clear();
            render(row.cell(*col), &mut self.buf);
            self.out.write_field(&self.buf)?;
        }
        self.out.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// Flushes everything to the output.
    pub(crate) fn finish(self) -> Result<(), ExportError> {
        let mut inner = self.out.into_inner().map_err(|e| e.into_error())?;
        inner.flush()?;
        Ok(())
    }
}

fn render(cell: Cell<'_>, buf: &mut String) {
    use std::fmt::Write as _;
    // Writing into a String cannot fail.
    let _ = match cell {
        Cell::Text(s) => {
            if needs_guard(s) {
                buf.push('\'');
            }
            buf.push_str(s);
            Ok(())
        }
        Cell::Time(t) => write!(buf, "{}", t.format("%Y-%m-%d %H:%M:%S")),
        Cell::Minutes(m) => write!(buf, "{m:.1}"),
        Cell::Count(n) => write!(buf, "{n}"),
        Cell::Bool(b) => write!(buf, "{b}"),
        Cell::Empty => Ok(()),
    };
}

fn needs_guard(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r', '\''])
}

/// A text field of an exported CSV as it was before the formula guard: without the one
/// leading apostrophe that the export adds to text starting with `=`, `+`, `-`, `@`, a tab, a
/// carriage return or an apostrophe.
pub fn unguard(field: &str) -> &str {
    field.strip_prefix('\'').unwrap_or(field)
}
