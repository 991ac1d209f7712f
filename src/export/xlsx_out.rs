//! The XLSX export: a "Tin báo" sheet with one typed row per tip, then a "Tổng hợp" summary
//! sheet with charts, written when the export finishes.
//!
//! The tips sheet is a constant-memory worksheet: `rust_xlsxwriter` flushes each finished row
//! to a temporary file, so memory stays flat however many tips there are. Everything that is
//! not cell data (column widths, frozen header, autofilter) is sheet metadata, which that mode
//! allows at any time. The summary sheet is an ordinary worksheet in the same workbook; the
//! library supports mixing the two.

use std::io::Write;

use chrono::{DateTime, FixedOffset, NaiveDate};
use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, FormatBorder, Workbook, Worksheet};

use super::columns::{Cell, Col};
use super::row::Row;
use super::writer::Output;
use super::{ExportError, Summary, xlsx_summary};

/// Name of the sheet of tips.
pub(crate) const TIPS_SHEET: &str = "Tin báo";

/// The tips sheet is the first one the workbook gets.
const TIPS_INDEX: usize = 0;

/// Excel refuses longer text in one cell (in UTF-16 units).
const MAX_CELL_UNITS: usize = 32_767;

/// The cell formats both sheets use.
pub(crate) struct Formats {
    /// Header cells and headings.
    pub(crate) bold: CellFormat,
    /// Date and time, to the second.
    pub(crate) datetime: CellFormat,
    /// A day.
    pub(crate) date: CellFormat,
    /// Minutes with one decimal.
    pub(crate) minutes: CellFormat,
}

impl Formats {
    fn new() -> Self {
        Formats {
            bold: CellFormat::new()
                .set_bold()
                .set_border_bottom(FormatBorder::Thin),
            datetime: CellFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
            date: CellFormat::new().set_num_format("yyyy-mm-dd"),
            minutes: CellFormat::new().set_num_format("0.0"),
        }
    }
}

/// An XLSX export in progress.
pub(crate) struct XlsxSink<'a> {
    workbook: Workbook,
    out: Box<dyn Write + Send + 'a>,
    cols: &'static [Col],
    formats: Formats,
    /// The row the next tip goes to (row 0 is the header).
    next_row: u32,
}

impl<'a> XlsxSink<'a> {
    /// Opens the output (so that a bad path fails before any row is written) and starts the
    /// tips sheet with its header.
    pub(crate) fn new(out: Output<'a>, cols: &'static [Col]) -> Result<Self, ExportError> {
        let out = out.open()?;
        let formats = Formats::new();
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(TIPS_SHEET)?;
        for (i, col) in cols.iter().enumerate() {
            sheet.set_column_width(col_num(i), col.width())?;
            sheet.write_string_with_format(0, col_num(i), col.header(), &formats.bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(XlsxSink {
            workbook,
            out,
            cols,
            formats,
            next_row: 1,
        })
    }

    /// Writes one row of typed cells; an empty value leaves its cell blank.
    pub(crate) fn write(&mut self, row: &Row) -> Result<(), ExportError> {
        let r = self.next_row;
        let sheet = self.workbook.worksheet_from_index(TIPS_INDEX)?;
        for (i, col) in self.cols.iter().enumerate() {
            write_cell(sheet, r, col_num(i), row.cell(*col), &self.formats)?;
        }
        self.next_row += 1;
        Ok(())
    }

    /// Adds the autofilter and the summary sheet, and writes the workbook out.
    pub(crate) fn finish(mut self, summary: &Summary) -> Result<(), ExportError> {
        let last_row = self.next_row - 1;
        let last_col = col_num(self.cols.len().saturating_sub(1));
        self.workbook
            .worksheet_from_index(TIPS_INDEX)?
            .autofilter(0, 0, last_row, last_col)?;
        xlsx_summary::add(&mut self.workbook, summary, &self.formats)?;
        self.workbook.save_to_writer(&mut self.out)?;
        self.out.flush()?;
        Ok(())
    }
}

fn write_cell(
    sheet: &mut Worksheet,
    r: u32,
    c: u16,
    cell: Cell<'_>,
    formats: &Formats,
) -> Result<(), ExportError> {
    match cell {
        Cell::Text(s) => sheet.write_string(r, c, clip(s))?,
        Cell::Time(t) => {
            sheet.write_datetime_with_format(r, c, excel_time(t)?, &formats.datetime)?
        }
        Cell::Minutes(m) => sheet.write_number_with_format(r, c, m, &formats.minutes)?,
        Cell::Count(n) => sheet.write_number(r, c, n as f64)?,
        Cell::Bool(b) => sheet.write_boolean(r, c, b)?,
        Cell::Empty => sheet,
    };
    Ok(())
}

/// The local wall-clock time of `t`, as Excel keeps times (without a zone).
fn excel_time(t: &DateTime<FixedOffset>) -> Result<ExcelDateTime, ExportError> {
    Ok(ExcelDateTime::from_timestamp(
        t.naive_local().and_utc().timestamp(),
    )?)
}

/// A day as an Excel date.
pub(crate) fn excel_date(day: NaiveDate) -> Result<ExcelDateTime, ExportError> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    Ok(ExcelDateTime::from_timestamp(
        midnight.and_utc().timestamp(),
    )?)
}

/// `s`, cut to what one Excel cell holds (descriptions are far shorter; this only keeps an
/// odd configuration from failing the whole export). Excel counts UTF-16 units, so an emoji
/// counts twice.
fn clip(s: &str) -> &str {
    let mut units = 0;
    for (i, ch) in s.char_indices() {
        units += ch.len_utf16();
        if units > MAX_CELL_UNITS {
            return &s[..i];
        }
    }
    s
}

/// Column index `i` as the library counts columns; the export has 23 at most.
pub(crate) fn col_num(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}
