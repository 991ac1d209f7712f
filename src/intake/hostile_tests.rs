//! Hostile input for every inbound parser (issue 13): arbitrary bytes, arbitrary JSON, and
//! updates that are *almost* right (the real shape with a field of the wrong type, a huge
//! string, deep nesting, odd Unicode) go through [`classify`] for both channels' inbox entries
//! and through the Zalo parser directly. Whatever comes in, the outcome is an audience or
//! [`Inbound::Unreadable`], never a panic; a body that is not JSON is always unreadable.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::classify::{Inbound, classify};
use crate::channels::Registry;
use crate::channels::tests::registry;
use crate::channels::zalo::parse as zalo;
use crate::config::ReceiveMode;
use crate::privacy::Vault;
use crate::store::{InboxEntry, InboxKind};

fn channels() -> &'static Registry {
    static CHANNELS: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
    CHANNELS.get_or_init(|| registry(true, true, ReceiveMode::Polling))
}

fn vault() -> Vault {
    Vault::from_keys(b"0123456789abcdef0123456789abcdef", &[7u8; 32])
}

fn entry(kind: Option<InboxKind>, body: String) -> InboxEntry {
    InboxEntry {
        stream_id: "1-0".into(),
        kind,
        key: "42".into(),
        kind_raw: kind.map_or("??", InboxKind::as_str).to_owned(),
        body,
    }
}

/// Classifies and touches everything the intake reads of the result.
fn classify_fully(kind: Option<InboxKind>, body: String) -> Inbound {
    let inbound = classify(&entry(kind, body), channels(), &vault());
    let _ = inbound.lane_key();
    let _ = format!("{inbound:?}");
    inbound
}

const USER: i64 = 5_301;
const GROUP: i64 = -1_001_000_000_001;

fn user() -> Value {
    json!({"id": USER, "is_bot": false, "first_name": "Lan", "language_code": "vi"})
}

/// Real Telegram updates of every kind the intake reads.
fn telegram_templates() -> Vec<Value> {
    let private = json!({"id": USER, "type": "private", "first_name": "Lan"});
    let group = json!({"id": GROUP, "type": "supergroup", "title": "Trực ban"});
    let bot = json!({"id": 999, "is_bot": true, "first_name": "TipBot", "username": "tip_bot"});
    vec![
        json!({"update_id": 1, "message": {"message_id": 1, "date": 1_700_000_000,
            "from": user(), "chat": private, "text": "Có người bán ma túy"}}),
        json!({"update_id": 2, "message": {"message_id": 2, "date": 1_700_000_000,
            "from": user(), "chat": private, "text": "/start mb_cp-tn01",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}),
        json!({"update_id": 3, "message": {"message_id": 3, "date": 1_700_000_000,
            "from": user(), "chat": private, "caption": "ảnh",
            "photo": [{"file_id": "A", "file_unique_id": "a", "file_size": 10,
                "width": 90, "height": 90}]}}),
        json!({"update_id": 4, "message": {"message_id": 4, "date": 1_700_000_000,
            "from": user(), "chat": private,
            "location": {"latitude": 20.8, "longitude": 105.3}}}),
        json!({"update_id": 5, "message": {"message_id": 5, "date": 1_700_000_000,
            "from": user(), "chat": private,
            "contact": {"phone_number": "0912345678", "first_name": "Lan", "user_id": USER}}}),
        json!({"update_id": 6, "callback_query": {"id": "cb1", "from": user(),
            "chat_instance": "-1", "data": "cat:drugs", "message": {"message_id": 9,
            "from": bot, "chat": private, "date": 1_700_000_000, "text": "…"}}}),
        json!({"update_id": 7, "callback_query": {"id": "cb2", "from": user(),
            "chat_instance": "-1", "data": "dk:ack:TB-7K3Q-X9MD", "message": {"message_id": 9,
            "from": bot, "chat": group, "date": 1_700_000_000, "text": "…"}}}),
        json!({"update_id": 8, "message": {"message_id": 8, "date": 1_700_000_000,
            "from": user(), "chat": group, "text": "/tip TB-7K3Q-X9MD",
            "entities": [{"type": "bot_command", "offset": 0, "length": 4}]}}),
        json!({"update_id": 9, "message": {"message_id": 10, "date": 1_700_000_000,
            "from": user(), "chat": group, "text": "Xe màu gì?",
            "reply_to_message": {"message_id": 9, "date": 1_700_000_000, "text": "…",
                "from": bot, "chat": group}}}),
        json!({"update_id": 10, "my_chat_member": {"chat": group, "from": user(),
            "date": 1_700_000_000,
            "old_chat_member": {"user": bot, "status": "left"},
            "new_chat_member": {"user": bot, "status": "member"}}}),
        json!({"update_id": 11, "message": {"message_id": 11, "date": 1_700_000_000,
            "from": user(), "chat": {"id": -5, "type": "group", "title": "Cũ"},
            "migrate_to_chat_id": GROUP}}),
        json!({"update_id": 12, "edited_message": {"message_id": 1, "date": 1_700_000_000,
            "edit_date": 1_700_000_001, "from": user(), "chat": private, "text": "sửa"}}),
    ]
}

/// Real Zalo events, bare and in the `getUpdates` envelope.
fn zalo_templates() -> Vec<Value> {
    let message = |event: &str, fields: Value| {
        let mut msg = json!({"from": {"id": "u1", "display_name": "Lan", "is_bot": false},
            "chat": {"id": "u1", "chat_type": "PRIVATE"}, "message_id": "m1",
            "date": 1_750_316_131_602_i64});
        for (k, v) in fields.as_object().into_iter().flatten() {
            msg[k] = v.clone();
        }
        json!({"event_name": event, "message": msg})
    };
    let text = message("message.text.received", json!({"text": "Xin chào"}));
    vec![
        text.clone(),
        json!({"ok": true, "result": text}),
        message(
            "message.image.received",
            json!({"photo_url": "https://cdn.example.zalo/a.jpg", "caption": "ảnh"}),
        ),
        message(
            "message.voice.received",
            json!({"voice": {"url": "https://cdn.example.zalo/a.m4a"}}),
        ),
        message("message.sticker.received", json!({"sticker": "s1"})),
        message("message.unsupported.received", json!({})),
    ]
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        odd_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::hash_map("[a-z_]{1,12}", inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Strings that break naive code: empty, huge, right-to-left overrides, NULs, combining
/// marks, emoji, lone command slashes, values of the right name in the wrong place.
fn odd_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just(String::new()),
        Just("/".into()),
        Just("/start".into()),
        Just("dk:ack:".into()),
        Just("\u{202E}\u{0000}\u{FEFF}".into()),
        Just("e\u{0302}\u{0301}".repeat(5_000)),
        Just("😀".repeat(5_000)),
        (1usize..200_000).prop_map(|n| "a".repeat(n)),
    ]
}

/// Every JSON pointer in `v`.
fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| {
            let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
            out.push(p.clone());
            pointers(v, p, out);
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| {
            let p = format!("{at}/{i}");
            out.push(p.clone());
            pointers(v, p, out);
        }),
        _ => {}
    }
}

/// A template with a few of its fields replaced by other values (or removed): an update of
/// the right shape with the wrong content.
fn almost(templates: Vec<Value>) -> impl Strategy<Value = Value> {
    let n = templates.len();
    (
        0..n,
        proptest::collection::vec((any::<usize>(), any::<bool>(), any_json()), 1..4),
    )
        .prop_map(move |(i, edits)| {
            let mut v = templates[i].clone();
            for (pick, remove, with) in edits {
                let mut all = Vec::new();
                pointers(&v, String::new(), &mut all);
                let Some(p) = all.get(pick % all.len().max(1)).cloned() else {
                    continue;
                };
                if remove {
                    let (parent, key) = p.rsplit_once('/').unwrap_or(("", &p));
                    if let Some(Value::Object(m)) = v.pointer_mut(parent) {
                        m.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                } else if let Some(slot) = v.pointer_mut(&p) {
                    *slot = with;
                }
            }
            v
        })
}

/// `depth` nested arrays around a valid update, as a body: deeper than any parser recurses.
fn deeply_nested(depth: usize) -> String {
    format!(
        "{}{}{}",
        "[".repeat(depth),
        telegram_templates()[0],
        "]".repeat(depth)
    )
}

#[test]
fn the_templates_are_read_as_their_audiences() {
    // The generators start from updates the intake understands, so that their mutations
    // explore near the real shapes.
    for (i, t) in telegram_templates().into_iter().enumerate() {
        let got = classify_fully(Some(InboxKind::Telegram), t.to_string());
        assert!(
            !matches!(got, Inbound::Unreadable(_)),
            "template {i}: {got:?}"
        );
    }
    assert!(matches!(
        classify_fully(
            Some(InboxKind::Telegram),
            telegram_templates()[7].to_string()
        ),
        Inbound::GroupCommand(_)
    ));
    for (i, t) in zalo_templates().into_iter().enumerate() {
        let got = classify_fully(Some(InboxKind::Zalo), t.to_string());
        assert!(
            matches!(got, Inbound::Citizen { .. }),
            "template {i}: {got:?}"
        );
    }
}

#[test]
fn deep_nesting_and_an_empty_body_are_unreadable() {
    for kind in [InboxKind::Telegram, InboxKind::Zalo] {
        for body in [String::new(), deeply_nested(100_000), "{".repeat(100_000)] {
            let got = classify_fully(Some(kind), body);
            assert!(matches!(got, Inbound::Unreadable(_)), "{got:?}");
        }
    }
    assert!(matches!(
        classify_fully(None, "{}".into()),
        Inbound::Unreadable(_)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_in_any_entry_is_classified_without_a_panic(body in any::<String>()) {
        for kind in [Some(InboxKind::Telegram), Some(InboxKind::Zalo), Some(InboxKind::Tick), None] {
            let got = classify_fully(kind, body.clone());
            if kind != Some(InboxKind::Tick) && serde_json::from_str::<Value>(&body).is_err() {
                prop_assert!(matches!(got, Inbound::Unreadable(_)), "{:?}", got);
            }
        }
    }

    #[test]
    fn any_json_in_any_entry_is_classified_without_a_panic(v in any_json()) {
        for kind in [InboxKind::Telegram, InboxKind::Zalo] {
            classify_fully(Some(kind), v.to_string());
        }
    }

    #[test]
    fn an_almost_valid_telegram_update_is_read_or_unreadable(v in almost(telegram_templates())) {
        classify_fully(Some(InboxKind::Telegram), v.to_string());
    }

    #[test]
    fn an_almost_valid_zalo_event_is_read_or_unreadable(v in almost(zalo_templates())) {
        let got = classify_fully(Some(InboxKind::Zalo), v.to_string());
        let parsed = zalo::parse(v.to_string().as_bytes());
        // The two agree: what the parser refuses is unreadable, what it reads a citizen's.
        prop_assert_eq!(parsed.is_err(), matches!(got, Inbound::Unreadable(_)), "{:?}", got);
        if let Ok(inbound) = parsed {
            let _ = zalo::to_input(&inbound.kind);
        }
    }

    #[test]
    fn any_bytes_are_parsed_by_zalo_without_a_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2_000),
    ) {
        let _ = zalo::parse(&bytes).map(|i| zalo::to_input(&i.kind));
    }
}

#[test]
fn a_sealed_entry_opens_for_its_kind_and_a_tampered_or_moved_one_is_unreadable() {
    use super::classify::Unreadable;
    let update = telegram_templates()[0].to_string();
    let sealed = vault().seal_inbox("tg", &update);
    assert!(matches!(
        classify_fully(Some(InboxKind::Telegram), sealed.clone()),
        Inbound::Citizen { .. }
    ));
    // The same body under another kind, with another key, or with a byte changed.
    let sealed_zl = vault().seal_inbox("zl", &update);
    let other = Vault::from_keys(b"0123456789abcdef0123456789abcdef", &[8u8; 32]);
    let mut tampered = sealed.clone().into_bytes();
    let i = tampered.len() / 2;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    for body in [
        sealed_zl,
        other.seal_inbox("tg", &update),
        String::from_utf8(tampered).unwrap(),
    ] {
        assert!(matches!(
            classify_fully(Some(InboxKind::Telegram), body),
            Inbound::Unreadable(Unreadable::Sealed)
        ));
    }
    // The previous version's clear body is read as before.
    assert!(matches!(
        classify_fully(Some(InboxKind::Telegram), update),
        Inbound::Citizen { .. }
    ));
}
