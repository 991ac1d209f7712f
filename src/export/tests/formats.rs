//! CSV and JSON Lines, read back with `csv::Reader` and `serde_json`.

use super::fixture::rows;
use super::{IDS, Want, options, want};
use crate::export::csv_out::BOM;
use crate::export::*;

fn export(format: Format, opts: &ExportOptions, rows: &[Row]) -> (Vec<u8>, Summary) {
    let mut buf = Vec::new();
    let mut w = Writer::new(format, Output::stream(&mut buf), opts).unwrap();
    for row in rows {
        w.write(row).unwrap();
    }
    let summary = w.finish().unwrap();
    (buf, summary)
}

fn ids(include_alias: bool) -> &'static [&'static str] {
    if include_alias { &IDS } else { &IDS[..22] }
}

/// The CSV text of a wanted value, by the contract.
fn csv_text(want: Want) -> String {
    match want {
        Want::Text(s) => s,
        Want::Time(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        Want::Minutes(m) => format!("{m:.1}"),
        Want::Count(n) => n.to_string(),
        Want::Bool(b) => b.to_string(),
        Want::Null => String::new(),
    }
}

fn read_csv(bytes: &[u8]) -> (Vec<String>, Vec<csv::StringRecord>) {
    assert!(bytes.starts_with(BOM), "no byte-order mark");
    let mut reader = csv::Reader::from_reader(&bytes[BOM.len()..]);
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader.records().map(Result::unwrap).collect();
    (header, records)
}

#[test]
fn csv_has_a_bom_crlf_lines_and_every_field_of_every_row() {
    for include_alias in [false, true] {
        let opts = options(DescriptionMode::Full, include_alias);
        let rows = rows(&opts);
        let (bytes, summary) = export(Format::Csv, &opts, &rows);
        assert_eq!(summary.total, 5);
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(text.starts_with("code,received_at,channel,"));
        assert!(text.ends_with("\r\n"));
        let last_header = if include_alias {
            ",alias\r\n"
        } else {
            ",description\r\n"
        };
        assert!(
            text.split_inclusive('\n')
                .next()
                .unwrap()
                .ends_with(last_header)
        );
        assert!(text.contains("\"Có người bán ma túy ở ngõ 5, gần \"\"quán Hoa\"\".\r\n"));

        let (header, records) = read_csv(&bytes);
        assert_eq!(header, ids(include_alias));
        assert_eq!(records.len(), rows.len());
        for (row, record) in rows.iter().zip(&records) {
            assert_eq!(record.len(), header.len());
            for (id, field) in header.iter().zip(record.iter()) {
                let wanted = csv_text(want(row, id));
                assert_eq!(unguard(field), wanted, "{} {id}", row.code);
            }
        }
    }
}

#[test]
fn csv_guards_text_that_excel_would_run_as_a_formula() {
    let opts = options(DescriptionMode::Full, true);
    let (bytes, _) = export(Format::Csv, &opts, &rows(&opts));
    let (header, records) = read_csv(&bytes);
    let at = |id: &str| header.iter().position(|h| h == id).unwrap();
    assert!(records[1][at("description")].starts_with("'=HYPERLINK("));
    assert_eq!(&records[1][at("alias")], "'-alias-2");
    assert!(records[4][at("description")].starts_with("'- Có người"));
    assert!(records[0][at("description")].starts_with("Có người"));
    assert_eq!(unguard("'=1+1"), "=1+1");
    assert_eq!(unguard("''quoted"), "'quoted");
    assert_eq!(unguard("plain"), "plain");
}

/// The JSON value of a wanted value, by the contract.
fn json_value(want: Want) -> serde_json::Value {
    use serde_json::Value;
    match want {
        Want::Text(s) => Value::String(s),
        Want::Time(t) => Value::String(t.to_rfc3339()),
        Want::Minutes(m) => serde_json::json!(m),
        Want::Count(n) => serde_json::json!(n),
        Want::Bool(b) => Value::Bool(b),
        Want::Null => Value::Null,
    }
}

#[test]
fn jsonl_has_one_object_per_line_with_every_field_typed() {
    for include_alias in [false, true] {
        let opts = options(DescriptionMode::Redacted, include_alias);
        let rows = rows(&opts);
        let (bytes, summary) = export(Format::Jsonl, &opts, &rows);
        assert_eq!(summary.sla_breaches, 2);
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.split_terminator('\n').collect();
        assert_eq!(lines.len(), rows.len());
        for (row, line) in rows.iter().zip(&lines) {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let object = value.as_object().unwrap();
            assert_eq!(object.len(), ids(include_alias).len());
            for id in ids(include_alias) {
                let got = object.get(*id).unwrap_or_else(|| panic!("{id} missing"));
                assert_eq!(got, &json_value(want(row, id)), "{} {id}", row.code);
            }
            // Keys keep the column order.
            let positions: Vec<usize> = ids(include_alias)
                .iter()
                .map(|id| line.find(&format!("\"{id}\":")).unwrap())
                .collect();
            assert!(positions.is_sorted(), "{line}");
        }
        let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        assert_eq!(first["received_at"], "2026-11-23T08:15:00+07:00");
        assert_eq!(first["minutes_to_ack"], 45.5);
        assert_eq!(first["evidence_count"], 2);
        assert_eq!(first["sla_breached"], true);
        assert_eq!(first["disposition"], serde_json::Value::Null);
        let phone: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
        assert!(phone["description"].as_str().unwrap().contains("[SĐT]"));
    }
}

#[test]
fn an_omitted_description_keeps_its_column_empty() {
    let opts = options(DescriptionMode::Omit, false);
    let rows = rows(&opts);
    let (bytes, _) = export(Format::Csv, &opts, &rows);
    let (header, records) = read_csv(&bytes);
    let at = header.iter().position(|h| h == "description").unwrap();
    assert!(records.iter().all(|r| r[at].is_empty()));
    let (bytes, _) = export(Format::Jsonl, &opts, &rows);
    for line in String::from_utf8(bytes).unwrap().lines() {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["description"], serde_json::Value::Null);
        assert!(value.get("alias").is_none());
    }
}

#[test]
fn an_export_without_tips_has_a_header_only() {
    let opts = ExportOptions::default();
    let (bytes, summary) = export(Format::Csv, &opts, &[]);
    assert_eq!(summary, Summary::default());
    let (header, records) = read_csv(&bytes);
    assert_eq!((header.len(), records.len()), (22, 0));
    let (bytes, _) = export(Format::Jsonl, &opts, &[]);
    assert!(bytes.is_empty());
}
