//! Tests of the export: rows built from tips under the shipped configuration, each format read
//! back with an independent reader and compared field by field with the rows.

mod fixture;
mod formats;
mod xlsx;

use chrono::{DateTime, FixedOffset};
use proptest::prelude::*;

use super::*;
use crate::config::Priority;
use crate::i18n::Lang;
use crate::store::TipStatus;
use fixture::{local, now, rows, settings, tips};

/// The column ids in contract order (docs/export.md), written out rather than taken from
/// [`Col::ALL`] so that a reordering there fails here.
const IDS: [&str; 23] = [
    "code",
    "received_at",
    "channel",
    "mailbox",
    "mailbox_name",
    "commune",
    "commune_name",
    "province",
    "category",
    "category_label",
    "priority",
    "emergency",
    "status",
    "disposition",
    "disposition_label",
    "minutes_to_ack",
    "minutes_to_close",
    "sla_breached",
    "unit",
    "evidence_count",
    "duplicate_of",
    "description",
    "alias",
];

/// What a column of a row should hold, taken from the row's fields by the column's id.
#[derive(Debug, Clone, PartialEq)]
enum Want {
    Text(String),
    Time(DateTime<FixedOffset>),
    Minutes(f64),
    Count(u64),
    Bool(bool),
    Null,
}

fn want(row: &Row, id: &str) -> Want {
    let text = |s: &str| Want::Text(s.to_owned());
    let opt = |s: &Option<String>| s.as_deref().map_or(Want::Null, text);
    let num = |m: Option<f64>| m.map_or(Want::Null, Want::Minutes);
    let name = |v: serde_json::Value| Want::Text(v.as_str().unwrap().to_owned());
    match id {
        "code" => text(&row.code),
        "received_at" => Want::Time(row.received_at),
        "channel" => name(serde_json::to_value(row.channel).unwrap()),
        "mailbox" => opt(&row.mailbox),
        "mailbox_name" => opt(&row.mailbox_name),
        "commune" => opt(&row.commune),
        "commune_name" => opt(&row.commune_name),
        "province" => opt(&row.province),
        "category" => text(&row.category),
        "category_label" => text(&row.category_label),
        "priority" => name(serde_json::to_value(row.priority).unwrap()),
        "emergency" => Want::Bool(row.emergency),
        "status" => name(serde_json::to_value(row.status).unwrap()),
        "disposition" => opt(&row.disposition),
        "disposition_label" => opt(&row.disposition_label),
        "minutes_to_ack" => num(row.minutes_to_ack),
        "minutes_to_close" => num(row.minutes_to_close),
        "sla_breached" => Want::Bool(row.sla_breached),
        "unit" => opt(&row.unit),
        "evidence_count" => Want::Count(row.evidence_count),
        "duplicate_of" => opt(&row.duplicate_of),
        "description" => opt(&row.description),
        "alias" => opt(&row.alias),
        other => panic!("no column {other}"),
    }
}

fn options(description: DescriptionMode, include_alias: bool) -> ExportOptions {
    ExportOptions {
        description,
        include_alias,
    }
}

fn by_code<'r>(rows: &'r [Row], code: &str) -> &'r Row {
    rows.iter().find(|r| r.code == code).unwrap()
}

#[test]
fn the_columns_are_the_documented_ones_in_order() {
    let all: Vec<&str> = Col::ALL.iter().map(|c| c.id()).collect();
    assert_eq!(all, IDS);
    let without = Col::for_options(&ExportOptions::default());
    assert_eq!(without.len(), 22);
    assert!(!without.contains(&Col::Alias));
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/export.md")).unwrap();
    for col in Col::ALL {
        assert!(
            docs.contains(&format!("`{}`", col.id())),
            "{} undocumented",
            col.id()
        );
        assert!(docs.contains(col.header()), "{} undocumented", col.header());
    }
}

#[test]
fn a_row_joins_the_tip_with_names_labels_and_sla() {
    let rows = rows(&options(DescriptionMode::Full, false));
    let late = by_code(&rows, "TB-7K3Q-X9MD");
    assert_eq!(late.received_at.to_rfc3339(), "2026-11-23T08:15:00+07:00");
    // Stored with the id of Xã Bắc Phong, merged into Xã Thung Nai on 1 July 2025: exported
    // as the new commune, in its province.
    assert_eq!(
        (late.commune.as_deref(), late.commune_name.as_deref()),
        (Some("thung-nai"), Some("Xã Thung Nai"))
    );
    assert_eq!(late.province.as_deref(), Some("Phú Thọ"));
    assert_eq!(late.category_label, "Ma túy");
    assert_eq!(late.minutes_to_ack, Some(45.5));
    assert!(late.sla_breached, "high priority allows 30 minutes");
    assert_eq!(late.unit.as_deref(), Some("Công an huyện Cao Phong"));
    assert_eq!(late.evidence_count, 2);
    assert_eq!(late.alias, None);

    let closed = by_code(&rows, "TB-2222-AAAA");
    assert_eq!(closed.mailbox_name.as_deref(), Some("Chợ Thung Nai"));
    assert_eq!(closed.commune.as_deref(), Some("thung-nai"));
    assert_eq!(
        closed.disposition_label.as_deref(),
        Some("Đã xác minh, xử lý")
    );
    assert_eq!(
        (closed.minutes_to_ack, closed.minutes_to_close),
        (Some(3.0), Some(150.0))
    );
    assert!(!closed.sla_breached);

    let duplicate = by_code(&rows, "TB-3333-BBBB");
    assert_eq!(duplicate.duplicate_of.as_deref(), Some("TB-7K3Q-X9MD"));
    assert_eq!(
        (duplicate.commune.as_deref(), duplicate.province.as_deref()),
        (None, Some("Phú Thọ"))
    );
    assert!(
        !duplicate.sla_breached,
        "an hour old, low priority allows a day"
    );

    let unanswered = by_code(&rows, "TB-4444-CCCC");
    assert_eq!(unanswered.minutes_to_ack, None);
    assert!(unanswered.sla_breached, "days old and never acknowledged");

    let claimed = by_code(&rows, "TB-5555-DDDD");
    assert_eq!(claimed.status, TipStatus::InProgress);
    assert_eq!(
        claimed.minutes_to_ack,
        Some(2.0),
        "a claim is the first action"
    );
    assert!(claimed.emergency && !claimed.sla_breached);
}

#[test]
fn descriptions_are_full_redacted_or_omitted_and_the_alias_only_on_request() {
    let phone = "TB-4444-CCCC";
    let full = rows(&options(DescriptionMode::Full, true));
    let text = by_code(&full, phone).description.clone().unwrap();
    assert!(text.contains("0912 345 678"));
    assert_eq!(by_code(&full, phone).alias.as_deref(), Some("alias-4"));

    let redacted = rows(&ExportOptions::default());
    let text = by_code(&redacted, phone).description.clone().unwrap();
    assert!(text.contains("[SĐT]") && !text.contains("0912") && !text.contains("0987"));
    assert!(redacted.iter().all(|r| r.alias.is_none()));

    let omitted = rows(&options(DescriptionMode::Omit, false));
    assert!(omitted.iter().all(|r| r.description.is_none()));
}

#[test]
fn the_sla_is_breached_only_after_its_minutes() {
    let opts = ExportOptions::default();
    let ctx = fixture::ctx(settings(), &opts);
    // High priority: 30 minutes.
    let mut tip = tips().remove(0);
    tip.acknowledged_ms = Some(tip.received_ms + 30 * 60_000);
    assert!(!Row::from_tip(&tip, &ctx).sla_breached, "exactly on time");
    tip.acknowledged_ms = None;
    tip.closed_ms = Some(tip.received_ms + 30 * 60_000 + 1_000);
    let row = Row::from_tip(&tip, &ctx);
    assert!(row.sla_breached, "closing late without acknowledging");
    assert_eq!(row.minutes_to_ack, Some(30.0), "30 min 1 s rounds to 30.0");
    tip.closed_ms = None;
    tip.received_ms = now() - 29 * 60_000;
    assert!(
        !Row::from_tip(&tip, &ctx).sla_breached,
        "still within its time"
    );
    tip.received_ms = now() - 31 * 60_000;
    assert!(
        Row::from_tip(&tip, &ctx).sla_breached,
        "past its time, unanswered"
    );
}

#[test]
fn export_options_come_from_settings_with_safe_defaults() {
    let opts: ExportOptions = toml::from_str("").unwrap();
    assert_eq!(opts, ExportOptions::default());
    assert_eq!(opts.description, DescriptionMode::Redacted);
    assert!(!opts.include_alias);
    let opts: ExportOptions =
        toml::from_str("description = \"omit\"\ninclude_alias = true").unwrap();
    assert_eq!(opts, options(DescriptionMode::Omit, true));
    assert!(toml::from_str::<ExportOptions>("descripton = \"full\"").is_err());
    assert!(toml::from_str::<ExportOptions>("description = \"some\"").is_err());
}

#[test]
fn percentiles_interpolate_like_excel() {
    let mut d = Durations::default();
    assert_eq!((d.median(), d.p90()), (None, None));
    d.push(7.0);
    assert_eq!((d.median(), d.p90()), (Some(7.0), Some(7.0)));
    let mut d = Durations::default();
    for m in [10.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 5.0] {
        d.push(m);
    }
    assert_eq!(d.median(), Some(5.5));
    let p90 = d.p90().unwrap();
    assert!((p90 - 9.1).abs() < 1e-9, "{p90}");
    assert_eq!(d.percentile(0.0), Some(1.0));
    assert_eq!(d.percentile(100.0), Some(10.0));
}

#[test]
fn the_summary_counts_every_breakdown() {
    let mut s = Summary::default();
    for row in rows(&ExportOptions::default()) {
        s.add(&row);
    }
    assert_eq!((s.total, s.sla_breaches), (5, 2));
    assert_eq!(s.by_category.get("drugs"), Some(&1));
    assert_eq!(
        s.by_commune.get(""),
        Some(&2),
        "unknown communes count under \"\""
    );
    assert_eq!(s.by_mailbox.get("CP-TN01"), Some(&1));
    assert_eq!(s.by_mailbox.get(""), Some(&4));
    assert_eq!(s.by_priority.get(&Priority::Urgent), Some(&1));
    assert_eq!(s.by_status.get("submitted"), Some(&2));
    let days: Vec<String> = s.by_day.keys().map(|d| d.to_string()).collect();
    assert_eq!(
        days,
        ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-29"]
    );
    assert_eq!(s.by_day.values().sum::<u64>(), 5);
    assert_eq!(s.ack_minutes.median(), Some(3.0));
    assert_eq!(s.close_minutes.values(), [150.0]);
    assert_eq!(
        s.commune_names.get("thung-nai").map(String::as_str),
        Some("Xã Thung Nai"),
        "a former commune counts as the one it was merged into"
    );

    let vi = s.text(settings(), Lang::Vi);
    assert!(
        vi.starts_with("Tổng số tin báo: 5 tin\nTheo loại tin:\n"),
        "{vi}"
    );
    assert!(vi.contains("• Ma túy: 1"), "{vi}");
    assert!(!vi.contains("loại khác"), "{vi}");
    assert!(vi.contains("(trung vị): 3,0 phút"), "{vi}");
    assert!(vi.ends_with("Quá hạn tiếp nhận: 2 tin"), "{vi}");
    let en = s.text(settings(), Lang::En);
    assert!(
        en.contains("• Drugs: 1") && en.contains("SLA breaches: 2"),
        "{en}"
    );
}

#[test]
fn the_chat_summary_names_five_categories_and_sums_the_rest() {
    let settings = settings();
    let mut s = Summary::default();
    let mut tip = tips().remove(0);
    let opts = ExportOptions::default();
    let ctx = fixture::ctx(settings, &opts);
    for (i, cat) in settings.categories.iter().take(7).enumerate() {
        tip.category = cat.id.clone();
        for _ in 0..=i {
            s.add(&Row::from_tip(&tip, &ctx));
        }
    }
    let text = s.text(settings, Lang::Vi);
    assert_eq!(text.matches('•').count(), 6, "{text}");
    assert!(text.contains("• 2 loại khác: 3"), "{text}");
    assert!(text.contains("Tổng số tin báo: 28 tin"), "{text}");
}

#[test]
fn formats_parse_from_their_names() {
    assert_eq!("csv".parse::<Format>(), Ok(Format::Csv));
    assert_eq!(" XLSX ".parse::<Format>(), Ok(Format::Xlsx));
    assert_eq!("jsonl".parse::<Format>(), Ok(Format::Jsonl));
    assert!("xls".parse::<Format>().is_err());
    assert_eq!(Format::Jsonl.to_string(), "jsonl");
    fn is_send<T: Send>() {}
    is_send::<Writer<'static>>();
}

#[test]
fn the_local_offset_comes_from_the_settings() {
    let mut s = settings().clone();
    s.app.utc_offset_hours = 0;
    let tip = tips().remove(0);
    let row = Row::from_tip(&tip, &fixture::ctx(&s, &ExportOptions::default()));
    assert_eq!(row.received_at.to_rfc3339(), "2026-11-23T01:15:00+00:00");
    assert_eq!(local("2026-11-23 08:15:00"), tip.received_ms);
    assert!(now() > tip.received_ms);
}

proptest! {
    #[test]
    fn any_description_survives_a_csv_round_trip(description in any::<String>()) {
        let mut tip = tips().remove(0);
        tip.description = description.clone();
        let opts = options(DescriptionMode::Full, false);
        let row = Row::from_tip(&tip, &fixture::ctx(settings(), &opts));
        let mut buf = Vec::new();
        let mut w = Writer::new(Format::Csv, Output::stream(&mut buf), &opts).unwrap();
        w.write(&row).unwrap();
        w.finish().unwrap();
        let mut reader = csv::Reader::from_reader(&buf[3..]);
        let record = reader.records().next().unwrap().unwrap();
        prop_assert_eq!(unguard(&record[21]), description.as_str());
    }
}
