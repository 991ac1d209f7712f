//! Due dates and tombstones, without Redis (the purge itself: `tests/api/retention.rs`).

use std::path::Path;

use figment::providers::Env;

use super::*;
use crate::codes::ReceiptCode;
use crate::config::{Priority, Settings};
use crate::conversation::{Evidence, EvidenceKind};
use crate::i18n::Lang;
use crate::privacy::Channel;

const RECEIVED: i64 = 1_780_000_000_000;

fn settings() -> Settings {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Settings::load_with(
        &root.join("config/tipline.toml"),
        Env::prefixed("TIPLINE_TEST_NOTHING__"),
    )
    .unwrap()
}

fn tip(status: TipStatus, closed_ms: Option<i64>) -> Tip {
    Tip {
        code: ReceiptCode::parse("TB-7K3Q-X9MD").unwrap(),
        status,
        received_ms: RECEIVED,
        started_ms: RECEIVED - 60_000,
        channel: Channel::Zalo,
        alias: "alias-of-the-citizen".into(),
        lang: Lang::Vi,
        category: "drugs".into(),
        priority: Priority::High,
        priority_reasons: vec!["keyword:ma-tuy".into()],
        emergency: true,
        place: Place::Pin {
            lat: 20.85,
            lon: 105.34,
        },
        commune: Some("cao-phong".into()),
        mailbox: None,
        description: "Bán ma túy ở nhà số 12".into(),
        evidence: vec![Evidence {
            kind: EvidenceKind::Photo,
            file_id: "AgACAgUAAxkBAAI1".into(),
            size: Some(1000),
            mime: None,
            message_id: Some(1),
        }],
        contact_sealed: Some("sealed-phone".into()),
        seq: 3,
        acknowledged_ms: Some(RECEIVED + 60_000),
        acknowledged_by: Some("Hùng".into()),
        claimed_ms: None,
        claimed_by: None,
        closed_ms,
        closed_by: closed_ms.map(|_| "Lan".into()),
        disposition: closed_ms.map(|_| "verified".into()),
        duplicate_of: None,
        purged_ms: None,
    }
}

fn retention(closed: u32, open: u32) -> RetentionSettings {
    RetentionSettings {
        closed_tip_days: closed,
        open_tip_days: open,
        ..RetentionSettings::default()
    }
}

#[test]
fn a_closed_tip_is_due_its_closed_days_after_closing() {
    let closed = RECEIVED + 5 * DAY_MS;
    let t = tip(TipStatus::Closed, Some(closed));
    assert_eq!(due_ms(&t, &retention(90, 365)), closed + 90 * DAY_MS);
}

#[test]
fn an_open_tip_is_due_its_open_days_after_it_came_whatever_its_status() {
    for status in [
        TipStatus::Submitted,
        TipStatus::Acknowledged,
        TipStatus::InProgress,
    ] {
        let t = tip(status, None);
        assert_eq!(due_ms(&t, &retention(90, 365)), RECEIVED + 365 * DAY_MS);
    }
}

#[test]
fn a_closed_tip_without_its_closing_time_counts_from_when_it_came() {
    let t = tip(TipStatus::Closed, None);
    assert_eq!(due_ms(&t, &retention(30, 365)), RECEIVED + 30 * DAY_MS);
}

#[test]
fn only_tips_received_before_the_shorter_period_are_read() {
    let r = retention(90, 365);
    let now = RECEIVED + 100 * DAY_MS;
    assert_eq!(oldest_due_received_ms(&r, now), RECEIVED + 10 * DAY_MS);
    // A tip closed at once is due the moment its closed period passed.
    let t = tip(TipStatus::Closed, Some(RECEIVED));
    assert!(due_ms(&t, &r) <= RECEIVED + 90 * DAY_MS);
    assert!(t.received_ms < oldest_due_received_ms(&r, RECEIVED + 90 * DAY_MS) + 1);
}

#[test]
fn the_tombstone_keeps_the_statistics_and_nothing_that_identifies_or_describes() {
    let settings = settings();
    let t = tip(TipStatus::Closed, Some(RECEIVED + DAY_MS));
    let now = RECEIVED + 200 * DAY_MS;
    let stone = tombstone(&t, &settings, now);
    assert_eq!(stone.code, t.code);
    assert_eq!(stone.status, TipStatus::Closed);
    assert_eq!(stone.category, "drugs");
    assert_eq!(stone.commune.as_deref(), Some("cao-phong"));
    assert_eq!(stone.priority, Priority::High);
    assert_eq!(stone.channel, Channel::Zalo);
    assert_eq!(
        (stone.received_ms, stone.acknowledged_ms, stone.closed_ms),
        (t.received_ms, t.acknowledged_ms, t.closed_ms)
    );
    assert_eq!(stone.disposition.as_deref(), Some("verified"));
    assert_eq!(stone.purged_ms, Some(now));
    let json = serde_json::to_string(&stone).unwrap();
    for gone in [
        "ma túy",
        "AgACAgUAAxkBAAI1",
        "sealed-phone",
        "alias-of-the-citizen",
        "Hùng",
        "Lan",
        "105.34",
    ] {
        assert!(!json.contains(gone), "{gone} is still in {json}");
    }
}

#[test]
fn the_tombstone_keeps_a_picked_commune_when_the_tip_had_none_of_its_own() {
    let settings = settings();
    let mut t = tip(TipStatus::Submitted, None);
    t.commune = None;
    t.place = Place::Commune {
        id: "cao-phong".into(),
    };
    let stone = tombstone(&t, &settings, RECEIVED);
    assert_eq!(stone.commune.as_deref(), Some("cao-phong"));
    assert_eq!(stone.place, t.place);
}
