//! Five tips of one week under the shipped configuration: acknowledged late, closed with a
//! disposition, a duplicate, one with phone numbers in the text, one claimed without an
//! acknowledgement. Their descriptions carry what breaks naive CSV and Excel: commas, quotes,
//! newlines, emoji, diacritics and text that Excel would run as a formula.

use std::path::Path;
use std::sync::LazyLock;

use chrono::NaiveDateTime;
use figment::providers::Env;

use crate::codes::ReceiptCode;
use crate::config::{Priority, Settings};
use crate::conversation::{Evidence, EvidenceKind, Place};
use crate::export::{ExportOptions, Row, RowContext};
use crate::i18n::Lang;
use crate::privacy::Channel;
use crate::store::{Tip, TipStatus};

static SETTINGS: LazyLock<Settings> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Settings::load_with(
        &root.join("config/tipline.toml"),
        Env::prefixed("TIPLINE_TEST_NOTHING__"),
    )
    .unwrap()
});

/// The shipped configuration.
pub(super) fn settings() -> &'static Settings {
    &SETTINGS
}

/// A local (+7) time as epoch ms.
pub(super) fn local(time: &str) -> i64 {
    NaiveDateTime::parse_from_str(time, "%Y-%m-%d %H:%M:%S")
        .unwrap()
        .and_utc()
        .timestamp_millis()
        - 7 * 3_600_000
}

/// When the export runs: Sunday noon at the end of week 2026-W48.
pub(super) fn now() -> i64 {
    local("2026-11-29 12:00:00")
}

const MIN: i64 = 60_000;

/// The row context of the fixture's exports.
pub(super) fn ctx<'a>(settings: &'a Settings, options: &'a ExportOptions) -> RowContext<'a> {
    RowContext {
        settings,
        options,
        unit: Some("Công an huyện Cao Phong".into()),
        now_ms: now(),
    }
}

fn photo(n: i64) -> Evidence {
    Evidence {
        kind: EvidenceKind::Photo,
        file_id: format!("AgACAgUAAxkBAAI{n}"),
        size: Some(1000),
        mime: None,
        message_id: Some(n),
    }
}

fn tip(code: &str, received: &str, category: &str, priority: Priority) -> Tip {
    let received_ms = local(received);
    Tip {
        code: ReceiptCode::parse(code).unwrap(),
        status: TipStatus::Submitted,
        received_ms,
        started_ms: received_ms - 5 * MIN,
        channel: Channel::Telegram,
        alias: String::new(),
        lang: Lang::Vi,
        category: category.into(),
        priority,
        priority_reasons: vec![],
        emergency: false,
        place: Place::Text {
            text: "gần chợ".into(),
        },
        commune: None,
        mailbox: None,
        description: String::new(),
        evidence: vec![],
        contact_sealed: Some("sealed-phone".into()),
        seq: 1,
        acknowledged_ms: None,
        acknowledged_by: Some("Hùng".into()),
        claimed_ms: None,
        claimed_by: None,
        closed_ms: None,
        closed_by: None,
        disposition: None,
        duplicate_of: None,
        purged_ms: None,
    }
}

/// The five tips, in the order received except the last.
pub(super) fn tips() -> Vec<Tip> {
    let mut late = tip(
        "TB-7K3Q-X9MD",
        "2026-11-23 08:15:00",
        "drugs",
        Priority::High,
    );
    late.status = TipStatus::Acknowledged;
    late.acknowledged_ms = Some(late.received_ms + 45 * MIN + 30_000);
    late.place = Place::Commune {
        id: "bac-phong".into(),
    };
    late.commune = Some("bac-phong".into());
    late.description = "Có người bán ma túy ở ngõ 5, gần \"quán Hoa\".\r\nHọ đến lúc 10 giờ \
                        tối 🚨, hôm qua cũng thế; ai cũng biết \"\"chỗ đó\"\"."
        .into();
    late.evidence = vec![photo(1), photo(2)];
    late.alias = "alias-1".into();

    let mut closed = tip(
        "TB-2222-AAAA",
        "2026-11-24 14:00:00",
        "theft",
        Priority::Normal,
    );
    closed.status = TipStatus::Closed;
    closed.mailbox = Some("CP-TN01".into());
    closed.commune = Some("thung-nai".into());
    closed.acknowledged_ms = Some(closed.received_ms + 3 * MIN);
    closed.claimed_ms = Some(closed.received_ms + 10 * MIN);
    closed.closed_ms = Some(closed.received_ms + 150 * MIN);
    closed.disposition = Some("handled".into());
    closed.description =
        "=HYPERLINK(\"http://x.example\",\"bấm\") Mất xe máy Wave màu đỏ, biển 28B1-123.45".into();
    closed.alias = "-alias-2".into();

    let mut duplicate = tip(
        "TB-3333-BBBB",
        "2026-11-29 11:00:00",
        "other",
        Priority::Low,
    );
    duplicate.channel = Channel::Zalo;
    duplicate.duplicate_of = Some("TB-7K3Q-X9MD".into());
    duplicate.description = "Lại là chỗ ngõ 5 đó,\nvẫn bán 💊".into();
    duplicate.alias = "alias-1".into();

    let mut phone = tip(
        "TB-4444-CCCC",
        "2026-11-25 09:00:00",
        "fraud",
        Priority::Normal,
    );
    phone.description =
        "Kẻ lừa đảo gọi từ 0912 345 678, bảo chuyển tiền; số khác: 0987654321. Ôi trời ơi!".into();
    phone.alias = "alias-4".into();

    let mut claimed = tip(
        "TB-5555-DDDD",
        "2026-11-25 21:30:00",
        "weapons",
        Priority::Urgent,
    );
    claimed.status = TipStatus::InProgress;
    claimed.emergency = true;
    claimed.claimed_ms = Some(claimed.received_ms + 2 * MIN);
    claimed.commune = Some("bac-phong".into());
    claimed.description = "- Có người cầm dao đòi chém nhau\t(ở quán nước)".into();
    claimed.alias = "alias-5".into();

    vec![late, closed, duplicate, phone, claimed]
}

/// The fixture's tips as rows exported with `options`.
pub(super) fn rows(options: &ExportOptions) -> Vec<Row> {
    let ctx = ctx(settings(), options);
    tips().iter().map(|t| Row::from_tip(t, &ctx)).collect()
}
