//! The "Tổng hợp" sheet of the XLSX export: key figures (total, SLA breaches, median and 90th
//! percentile minutes to acknowledge and to close), then one table per breakdown (category,
//! commune, mailbox, priority, status, day), each under a heading, and two native charts that
//! read the day and category tables.
//!
//! Every table has the columns label (A), number of tips (B) and id (C; the day table has
//! none), so a formula or a script finds its numbers in column B.

use std::collections::BTreeMap;

use rust_xlsxwriter::{Chart, ChartType, Workbook, Worksheet};

use super::ExportError;
use super::row::{priority_id, status_id};
use super::summary::{Durations, Summary, largest_first};
use super::xlsx_out::{Formats, excel_date};
use crate::config::Priority;
use crate::store::TipStatus;

/// Name of the summary sheet.
pub(crate) const SUMMARY_SHEET: &str = "Tổng hợp";

/// Column where the charts start (E).
const CHART_COL: u16 = 4;

/// The rows a table's data occupies, for a chart to read.
#[derive(Debug, Clone, Copy)]
struct Span {
    first: u32,
    last: u32,
}

/// Writes the next rows of the sheet, top to bottom.
struct Cursor<'w> {
    sheet: &'w mut Worksheet,
    formats: &'w Formats,
    row: u32,
}

impl Cursor<'_> {
    fn heading(&mut self, text: &str) -> Result<(), ExportError> {
        self.sheet
            .write_string_with_format(self.row, 0, text, &self.formats.bold)?;
        self.row += 1;
        Ok(())
    }

    fn figure(&mut self, label: &str, value: f64, minutes: bool) -> Result<(), ExportError> {
        self.sheet.write_string(self.row, 0, label)?;
        if minutes {
            self.sheet
                .write_number_with_format(self.row, 1, value, &self.formats.minutes)?;
        } else {
            self.sheet.write_number(self.row, 1, value)?;
        }
        self.row += 1;
        Ok(())
    }

    fn durations(&mut self, what: &str, d: &Durations) -> Result<(), ExportError> {
        for (stat, value) in [("trung vị", d.median()), ("90%", d.p90())] {
            let label = format!("{what}, {stat} (phút)");
            match value {
                Some(v) => self.figure(&label, v, true)?,
                None => {
                    self.sheet.write_string(self.row, 0, &label)?;
                    self.row += 1;
                }
            }
        }
        Ok(())
    }

    /// A table with a heading, a header row and `(label, count, id)` rows; a blank row after.
    fn table<'i>(
        &mut self,
        title: &str,
        first_col: &str,
        rows: impl IntoIterator<Item = (String, u64, &'i str)>,
    ) -> Result<Option<Span>, ExportError> {
        self.heading(title)?;
        for (c, h) in [first_col, "Số tin", "Mã"].into_iter().enumerate() {
            self.sheet
                .write_string_with_format(self.row, c as u16, h, &self.formats.bold)?;
        }
        self.row += 1;
        let first = self.row;
        for (label, n, id) in rows {
            self.sheet.write_string(self.row, 0, &label)?;
            self.sheet.write_number(self.row, 1, n as f64)?;
            if !id.is_empty() {
                self.sheet.write_string(self.row, 2, id)?;
            }
            self.row += 1;
        }
        let span = (self.row > first).then(|| Span {
            first,
            last: self.row - 1,
        });
        self.row += 1;
        Ok(span)
    }

    /// The table of days, with real dates in column A.
    fn days(&mut self, summary: &Summary) -> Result<Option<Span>, ExportError> {
        self.heading("Theo ngày")?;
        for (c, h) in ["Ngày", "Số tin"].into_iter().enumerate() {
            self.sheet
                .write_string_with_format(self.row, c as u16, h, &self.formats.bold)?;
        }
        self.row += 1;
        let first = self.row;
        for (day, n) in &summary.by_day {
            self.sheet.write_datetime_with_format(
                self.row,
                0,
                excel_date(*day)?,
                &self.formats.date,
            )?;
            self.sheet.write_number(self.row, 1, *n as f64)?;
            self.row += 1;
        }
        let span = (self.row > first).then(|| Span {
            first,
            last: self.row - 1,
        });
        self.row += 1;
        Ok(span)
    }
}

/// Adds the summary sheet of `summary` to `workbook`.
pub(crate) fn add(
    workbook: &mut Workbook,
    summary: &Summary,
    formats: &Formats,
) -> Result<(), ExportError> {
    let sheet = workbook.add_worksheet();
    sheet.set_name(SUMMARY_SHEET)?;
    sheet.set_column_width(0, 42)?;
    sheet.set_column_width(1, 10)?;
    sheet.set_column_width(2, 16)?;
    let mut cur = Cursor {
        sheet,
        formats,
        row: 0,
    };
    figures(&mut cur, summary)?;
    let by_category = cur.table(
        "Theo loại tin",
        "Loại tin",
        summary
            .top_categories()
            .into_iter()
            .map(|(id, n)| (label(&summary.category_labels, id, "(không rõ)"), n, id)),
    )?;
    by_place(&mut cur, summary)?;
    by_state(&mut cur, summary)?;
    let by_day = cur.days(summary)?;
    charts(cur.sheet, by_day, by_category)
}

fn figures(cur: &mut Cursor<'_>, summary: &Summary) -> Result<(), ExportError> {
    cur.heading("Tổng hợp tin báo")?;
    cur.figure("Tổng số tin báo", summary.total as f64, false)?;
    cur.figure("Quá hạn tiếp nhận", summary.sla_breaches as f64, false)?;
    cur.durations("Thời gian đến khi tiếp nhận", &summary.ack_minutes)?;
    cur.durations("Thời gian đến khi xử lý xong", &summary.close_minutes)?;
    cur.row += 1;
    Ok(())
}

fn by_place(cur: &mut Cursor<'_>, summary: &Summary) -> Result<(), ExportError> {
    cur.table(
        "Theo xã/phường",
        "Xã/phường",
        largest_first(&summary.by_commune)
            .into_iter()
            .map(|(id, n)| (label(&summary.commune_names, id, "(không rõ)"), n, id)),
    )?;
    cur.table(
        "Theo hòm thư",
        "Hòm thư",
        largest_first(&summary.by_mailbox)
            .into_iter()
            .map(|(code, n)| {
                let name = label(&summary.mailbox_names, code, "(không qua hòm thư)");
                (name, n, code)
            }),
    )?;
    Ok(())
}

fn by_state(cur: &mut Cursor<'_>, summary: &Summary) -> Result<(), ExportError> {
    let priorities = [
        (Priority::Urgent, "Khẩn"),
        (Priority::High, "Cao"),
        (Priority::Normal, "Bình thường"),
        (Priority::Low, "Thấp"),
    ];
    cur.table(
        "Theo mức độ",
        "Mức độ",
        priorities.into_iter().filter_map(|(p, vi)| {
            let n = summary.by_priority.get(&p)?;
            Some((vi.to_owned(), *n, priority_id(p)))
        }),
    )?;
    let statuses = [
        (TipStatus::Submitted, "Chờ xử lý"),
        (TipStatus::Acknowledged, "Đã nhận tin"),
        (TipStatus::InProgress, "Đang xác minh"),
        (TipStatus::Closed, "Đã xử lý xong"),
    ];
    cur.table(
        "Theo trạng thái",
        "Trạng thái",
        statuses.into_iter().filter_map(|(s, vi)| {
            let n = summary.by_status.get(status_id(s))?;
            Some((vi.to_owned(), *n, status_id(s)))
        }),
    )?;
    Ok(())
}

/// A column chart of tips per day and a bar chart of tips per category, beside the tables.
fn charts(
    sheet: &mut Worksheet,
    by_day: Option<Span>,
    by_category: Option<Span>,
) -> Result<(), ExportError> {
    let mut at = 1;
    for (span, kind, title) in [
        (by_day, ChartType::Column, "Số tin báo theo ngày"),
        (by_category, ChartType::Bar, "Số tin báo theo loại tin"),
    ] {
        let Some(span) = span else { continue };
        let mut chart = Chart::new(kind);
        chart
            .add_series()
            .set_name(title)
            .set_categories((SUMMARY_SHEET, span.first, 0, span.last, 0))
            .set_values((SUMMARY_SHEET, span.first, 1, span.last, 1));
        chart.title().set_name(title);
        chart.legend().set_hidden();
        if kind == ChartType::Bar {
            // Bars go bottom up; the table is largest first, so the chart should be too.
            chart.y_axis().set_reverse();
        }
        sheet.insert_chart(at, CHART_COL, &chart)?;
        at += 18;
    }
    Ok(())
}

/// The name of `id`: as learnt from the rows, else the id, else `none` for the empty id.
fn label(names: &BTreeMap<String, String>, id: &str, none: &str) -> String {
    match names.get(id) {
        Some(name) => name.clone(),
        None if id.is_empty() => none.to_owned(),
        None => id.to_owned(),
    }
}
