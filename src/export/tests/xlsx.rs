//! XLSX, read back with `calamine`. The `zip` crate is only an indirect dependency, so the
//! charts are found by their part names, which a zip file stores uncompressed.

use std::io::Cursor;
use std::time::Instant;

use calamine::{Data, Range, Reader, Xlsx, open_workbook};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate};

use super::fixture::rows;
use super::{IDS, Want, options, want};
use crate::export::*;

fn export(opts: &ExportOptions, rows: &[Row], out: Output<'_>) -> Summary {
    let mut w = Writer::new(Format::Xlsx, out, opts).unwrap();
    for row in rows {
        w.write(row).unwrap();
    }
    w.finish().unwrap()
}

fn at(range: &Range<Data>, r: usize, c: usize) -> Data {
    range.get((r, c)).cloned().unwrap_or(Data::Empty)
}

/// Excel's serial number of a local time: days since 1899-12-30.
fn serial(t: &DateTime<FixedOffset>) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    (t.naive_local() - epoch).num_seconds() as f64 / 86_400.0
}

fn assert_cell(got: &Data, wanted: Want, what: &str) {
    match wanted {
        Want::Text(s) => assert_eq!(got, &Data::String(s), "{what}"),
        Want::Time(t) => match got {
            Data::DateTime(dt) => assert!((dt.as_f64() - serial(&t)).abs() < 1e-9, "{what}"),
            other => panic!("{what}: {other:?} is not a datetime"),
        },
        Want::Minutes(m) => assert_eq!(got, &Data::Float(m), "{what}"),
        Want::Count(n) => assert_eq!(got, &Data::Float(n as f64), "{what}"),
        Want::Bool(b) => assert_eq!(got, &Data::Bool(b), "{what}"),
        Want::Null => assert_eq!(got, &Data::Empty, "{what}"),
    }
}

/// Column B of the summary row whose column A is `label`.
fn figure(range: &Range<Data>, label: &str) -> Data {
    let r = (0..range.height())
        .find(|r| at(range, *r, 0) == Data::String(label.into()))
        .unwrap_or_else(|| panic!("no row {label}"));
    at(range, r, 1)
}

#[test]
fn xlsx_has_typed_cells_every_field_a_summary_sheet_and_charts() {
    let opts = options(DescriptionMode::Full, true);
    let rows = rows(&opts);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("2026-W48.xlsx");
    let summary = export(&opts, &rows, Output::path(&path));
    assert_eq!(summary.total, 5);

    let mut book: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(book.sheet_names(), ["Tin báo", "Tổng hợp"]);
    let tips = book.worksheet_range("Tin báo").unwrap();
    assert_eq!(tips.get_size(), (rows.len() + 1, IDS.len()));
    for (c, col) in Col::ALL.iter().enumerate() {
        assert_eq!(at(&tips, 0, c), Data::String(col.header().into()));
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, id) in IDS.iter().enumerate() {
            assert_cell(
                &at(&tips, r + 1, c),
                want(row, id),
                &format!("{} {id}", row.code),
            );
        }
    }

    let sheet = book.worksheet_range("Tổng hợp").unwrap();
    assert_eq!(figure(&sheet, "Tổng số tin báo"), Data::Float(5.0));
    assert_eq!(figure(&sheet, "Quá hạn tiếp nhận"), Data::Float(2.0));
    assert_eq!(
        figure(&sheet, "Thời gian đến khi tiếp nhận, trung vị (phút)"),
        Data::Float(3.0)
    );
    assert_eq!(
        figure(&sheet, "Thời gian đến khi xử lý xong, 90% (phút)"),
        Data::Float(150.0)
    );
    for (label, n) in [
        ("Ma túy", 1.0),
        ("Xã Thung Nai", 3.0),
        ("(không rõ)", 2.0),
        ("Chợ Thung Nai", 1.0),
        ("(không qua hòm thư)", 4.0),
        ("Khẩn", 1.0),
        ("Chờ xử lý", 2.0),
        ("Đã xử lý xong", 1.0),
    ] {
        assert_eq!(figure(&sheet, label), Data::Float(n), "{label}");
    }
    let days: Vec<(f64, Data)> = (0..sheet.height())
        .filter_map(|r| match at(&sheet, r, 0) {
            Data::DateTime(d) => Some((d.as_f64(), at(&sheet, r, 1))),
            _ => None,
        })
        .collect();
    let monday = serial(&rows[0].received_at).floor();
    assert_eq!(
        days,
        [
            (monday, Data::Float(1.0)),
            (monday + 1.0, Data::Float(1.0)),
            (monday + 2.0, Data::Float(2.0)),
            (monday + 6.0, Data::Float(1.0)),
        ]
    );

    let bytes = std::fs::read(&path).unwrap();
    let has = |part: &str| bytes.windows(part.len()).any(|w| w == part.as_bytes());
    assert!(has("xl/charts/chart1.xml") && has("xl/charts/chart2.xml"));
}

#[test]
fn xlsx_streams_to_a_writer_and_an_empty_export_has_no_chart() {
    let opts = ExportOptions::default();
    let mut buf = Vec::new();
    let summary = export(&opts, &[], Output::stream(&mut buf));
    assert_eq!(summary.total, 0);
    assert!(!buf.windows(9).any(|w| w == b"xl/charts"));
    let mut book = Xlsx::new(Cursor::new(buf)).unwrap();
    let tips = book.worksheet_range("Tin báo").unwrap();
    assert_eq!(tips.get_size(), (1, 22));
    let sheet = book.worksheet_range("Tổng hợp").unwrap();
    assert_eq!(figure(&sheet, "Tổng số tin báo"), Data::Float(0.0));
    assert_eq!(
        figure(&sheet, "Thời gian đến khi tiếp nhận, trung vị (phút)"),
        Data::Empty
    );
}

/// Peak resident memory of this process in kB (Linux), to show that it does not grow with
/// the number of rows.
fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?.to_owned();
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

#[test]
#[ignore = "timing: cargo test --release --lib export::tests::xlsx::timing -- --ignored --nocapture"]
fn timing_of_100_000_rows_in_each_format() {
    let opts = ExportOptions::default();
    let template = rows(&opts).remove(0);
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Csv, Format::Jsonl, Format::Xlsx] {
        let path = dir.path().join(format!("t.{format}"));
        let started = Instant::now();
        let mut w = Writer::new(format, Output::path(&path), &opts).unwrap();
        for i in 0..100_000_i64 {
            let mut row = template.clone();
            row.code = format!("TB-{:04}-{:04}", i / 10_000, i % 10_000);
            row.received_at += Duration::seconds(i * 6);
            row.minutes_to_ack = Some((i % 500) as f64 / 10.0);
            w.write(&row).unwrap();
        }
        let summary = w.finish().unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        println!(
            "{format}: {} rows in {:?}, {:.1} MB, peak RSS so far {} MB",
            summary.total,
            started.elapsed(),
            size as f64 / 1e6,
            peak_kb() / 1024
        );
    }
}
