//! Parsing Zalo updates, numbered menus and message splitting.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::client::ZaloClient;
use super::menu::{MenuOption, options, render_text, resolve};
use super::parse::{ParseError, ZaloKind, parse, parse_value, to_input};
use super::verify_secret;
use crate::channels::fit::{pieces, split};
use crate::channels::{OutKeyboard, Outgoing, SendError};
use crate::conversation::{Command, Evidence, EvidenceKind, Input};

/// The text update exactly as zalo.md §1.9 quotes the docs.
const DOCS_TEXT: &str = r#"{
  "ok": true,
  "result": {
    "event_name": "message.text.received",
    "message": {
      "from": { "id": "6ede9afa66b88fe6d6a9", "display_name": "Ted", "is_bot": false },
      "chat": { "id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE" },
      "text": "Xin chào",
      "message_id": "2d758cb5e222177a4e35",
      "date": 1750316131602
    }
  }
}"#;

/// The image update of zalo.md §1.9 (field `photo_url`).
const DOCS_IMAGE: &str = r#"{
  "ok": true,
  "result": {
    "event_name": "message.image.received",
    "message": {
      "from": { "id": "6ede9afa66b88fe6d6a9", "display_name": "Ted", "is_bot": false },
      "chat": { "id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE" },
      "photo_url": "https://cdn.example.zalo/abc.jpg",
      "caption": "Xe máy không biển số đỗ trước cổng trường",
      "message_id": "3e864cb5e222177a4e99",
      "date": 1750316231602
    }
  }
}"#;

/// The "location" of zalo.md §1.9: an unsupported event without a sender name.
const DOCS_UNSUPPORTED: &str = r#"{ "ok": true, "result": { "event_name": "message.unsupported.received",
  "message": { "from": {"id": "6ede9afa66b88fe6d6a9", "is_bot": false},
               "chat": {"id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE"},
               "message_id": "4f975cb5e222177a4eaa", "date": 1750316331602 } } }"#;

fn bare(wrapped: &str) -> Value {
    let v: Value = serde_json::from_str(wrapped).unwrap();
    v["result"].clone()
}

fn message(event: &str, fields: Value) -> Value {
    let mut msg = json!({
        "from": {"id": "u1", "display_name": "Lan", "is_bot": false},
        "chat": {"id": "u1", "chat_type": "PRIVATE"},
        "message_id": "m1",
        "date": 1750316131602_i64,
    });
    for (k, v) in fields.as_object().unwrap() {
        msg[k] = v.clone();
    }
    json!({"event_name": event, "message": msg})
}

#[test]
fn the_docs_text_sample_parses_wrapped_and_bare_alike() {
    let wrapped = parse(DOCS_TEXT.as_bytes()).unwrap();
    let unwrapped = parse_value(&bare(DOCS_TEXT)).unwrap();
    assert_eq!(wrapped, unwrapped);
    assert_eq!(wrapped.message_id, "2d758cb5e222177a4e35");
    assert_eq!(wrapped.chat_id, "6ede9afa66b88fe6d6a9");
    assert_eq!(wrapped.user_id, "6ede9afa66b88fe6d6a9");
    assert_eq!(wrapped.user_name.as_deref(), Some("Ted"));
    assert_eq!(wrapped.date_ms, 1750316131602);
    assert_eq!(wrapped.kind, ZaloKind::Text("Xin chào".into()));
}

#[test]
fn an_image_is_read_from_photo_url_or_photo_in_either_envelope() {
    let expected = ZaloKind::Image {
        url: "https://cdn.example.zalo/abc.jpg".into(),
        caption: Some("Xe máy không biển số đỗ trước cổng trường".into()),
    };
    assert_eq!(parse(DOCS_IMAGE.as_bytes()).unwrap().kind, expected);
    assert_eq!(parse_value(&bare(DOCS_IMAGE)).unwrap().kind, expected);

    let with_photo = DOCS_IMAGE.replace("\"photo_url\"", "\"photo\"");
    assert_eq!(parse(with_photo.as_bytes()).unwrap().kind, expected);
    assert_eq!(
        parse_value(&bare(&with_photo)).unwrap().kind,
        expected,
        "bare, with `photo`"
    );
}

#[test]
fn an_image_url_is_found_in_arrays_objects_and_attachments() {
    let url = "https://cdn.example.zalo/big.jpg";
    for fields in [
        json!({"photo": ["https://cdn.example.zalo/small.jpg", url]}),
        json!({"photo": {"url": url}}),
        json!({"attachments": [{"type": "image", "payload": {"url": url}}]}),
        json!({"photo_url": 42, "photo": url}),
    ] {
        let kind = parse_value(&message("message.image.received", fields.clone()))
            .unwrap()
            .kind;
        assert_eq!(
            kind,
            ZaloKind::Image {
                url: url.into(),
                caption: None
            },
            "{fields}"
        );
    }
}

#[test]
fn an_image_or_voice_without_a_usable_url_is_unsupported() {
    for (event, fields) in [
        ("message.image.received", json!({})),
        (
            "message.image.received",
            json!({"photo": "file:///etc/passwd"}),
        ),
        ("message.image.received", json!({"photo_url": ""})),
        ("message.voice.received", json!({})),
        ("message.text.received", json!({})),
    ] {
        let kind = parse_value(&message(event, fields)).unwrap().kind;
        assert_eq!(kind, ZaloKind::Unsupported, "{event}");
    }
}

#[test]
fn voice_sticker_unsupported_and_unknown_events_parse() {
    let voice = message(
        "message.voice.received",
        json!({"voice_url": "https://cdn.example.zalo/v.aac", "duration": 7}),
    );
    assert_eq!(
        parse_value(&voice).unwrap().kind,
        ZaloKind::Voice {
            url: "https://cdn.example.zalo/v.aac".into(),
            duration_secs: Some(7)
        }
    );
    let sticker = message(
        "message.sticker.received",
        json!({"sticker": "abc", "url": "https://stickers.example/abc.png"}),
    );
    assert_eq!(parse_value(&sticker).unwrap().kind, ZaloKind::Sticker);
    let docs = parse(DOCS_UNSUPPORTED.as_bytes()).unwrap();
    assert_eq!(docs.kind, ZaloKind::Unsupported);
    assert_eq!(docs.user_name, None);
    let location = message("message.location.received", json!({}));
    assert_eq!(parse_value(&location).unwrap().kind, ZaloKind::Unsupported);
}

#[test]
fn numeric_ids_dates_in_seconds_and_a_missing_side_are_tolerated() {
    let v = json!({"event_name": "message.text.received", "message": {
        "from": {"id": 123456789012_i64}, "message_id": 77, "date": 1750316131, "text": "hi"}});
    let got = parse_value(&v).unwrap();
    assert_eq!(got.message_id, "77");
    assert_eq!(got.chat_id, "123456789012");
    assert_eq!(got.user_id, "123456789012");
    assert_eq!(got.date_ms, 1750316131000);

    let v = json!({"event_name": "message.text.received", "message": {
        "chat": {"id": "c9"}, "message_id": "m", "text": "hi"}});
    let got = parse_value(&v).unwrap();
    assert_eq!((got.chat_id.as_str(), got.user_id.as_str()), ("c9", "c9"));
    assert_eq!(got.date_ms, 0);
}

#[test]
fn text_is_nfc_normalised() {
    // "chào" typed with a combining grave accent.
    let v = message("message.text.received", json!({"text": "Xin cha\u{300}o"}));
    assert_eq!(
        parse_value(&v).unwrap().kind,
        ZaloKind::Text("Xin chào".into())
    );
}

#[test]
fn malformed_bodies_are_errors() {
    let no_event = json!({"message": {"message_id": "m", "chat": {"id": "c"}}});
    let no_message = json!({"event_name": "message.text.received"});
    let no_id = json!({"event_name": "message.text.received",
        "message": {"chat": {"id": "c"}, "text": "x"}});
    let no_chat = json!({"event_name": "message.text.received",
        "message": {"message_id": "m", "text": "x"}});
    let group = message(
        "message.text.received",
        json!({"chat": {"id": "g", "chat_type": "GROUP"}}),
    );
    let bot = message(
        "message.text.received",
        json!({"from": {"id": "b", "is_bot": true}}),
    );
    let cases = [
        (no_event, ParseError::NoEvent),
        (no_message, ParseError::NoMessage),
        (no_id, ParseError::NoMessageId),
        (no_chat, ParseError::NoChat),
        (group, ParseError::NotACitizen("a group chat")),
        (bot, ParseError::NotACitizen("sent by a bot")),
        (
            json!({"event_name": "x", "message": "hi"}),
            ParseError::Shape,
        ),
        (json!([1, 2]), ParseError::Shape),
        (json!({"ok": false, "error_code": 408}), ParseError::NoEvent),
        (json!({"ok": true, "result": {}}), ParseError::NoEvent),
    ];
    for (body, expected) in cases {
        assert_eq!(parse_value(&body), Err(expected), "{body}");
    }
    assert!(matches!(parse(b""), Err(ParseError::Json(_))));
    assert!(matches!(parse(b"<html>"), Err(ParseError::Json(_))));
}

#[test]
fn errors_and_debug_never_show_content_ids_or_names() {
    let err =
        parse(br#"{"event_name": "message.text.received", "text": "Nguyen Van A"#).unwrap_err();
    assert!(!err.to_string().contains("Nguyen"), "{err}");
    let err = parse_value(&json!({"event_name": "x", "message": "Nguyen Van A"})).unwrap_err();
    assert!(!err.to_string().contains("Nguyen"), "{err}");

    let shown = format!("{:?}", parse(DOCS_IMAGE.as_bytes()).unwrap());
    for secret in ["6ede9afa", "3e864cb5", "Ted", "cdn.example", "Xe máy"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    let shown = format!("{:?}", parse(DOCS_TEXT.as_bytes()).unwrap());
    assert!(!shown.contains("Xin"), "{shown}");
}

#[test]
fn to_input_maps_each_kind() {
    assert_eq!(
        to_input(&ZaloKind::Text("Có người bán".into())),
        Some(Input::Text("Có người bán".into()))
    );
    assert_eq!(
        to_input(&ZaloKind::Text("/start mb_q7".into())),
        Some(Input::Command(Command::Start(Some("mb_q7".into()))))
    );
    assert_eq!(
        to_input(&ZaloKind::Text("/huy".into())),
        Some(Input::Command(Command::Cancel))
    );
    let evidence = |kind| Evidence {
        kind,
        file_id: "https://cdn.example.zalo/x".into(),
        size: None,
        mime: None,
        message_id: None,
    };
    assert_eq!(
        to_input(&ZaloKind::Image {
            url: "https://cdn.example.zalo/x".into(),
            caption: Some("ở đây".into())
        }),
        Some(Input::Media(
            evidence(EvidenceKind::Photo),
            Some("ở đây".into())
        ))
    );
    assert_eq!(
        to_input(&ZaloKind::Voice {
            url: "https://cdn.example.zalo/x".into(),
            duration_secs: Some(3)
        }),
        Some(Input::Media(evidence(EvidenceKind::Voice), None))
    );
    assert_eq!(to_input(&ZaloKind::Sticker), None);
    assert_eq!(to_input(&ZaloKind::Unsupported), None);
}

#[test]
fn the_webhook_secret_is_compared_trimmed_and_never_matches_an_empty_one() {
    assert!(verify_secret(Some("s3cret-token"), "s3cret-token"));
    assert!(verify_secret(Some(" s3cret-token\r"), "s3cret-token"));
    assert!(!verify_secret(Some("s3cret-tokex"), "s3cret-token"));
    assert!(!verify_secret(None, "s3cret-token"));
    assert!(!verify_secret(Some(""), ""));
}

// ---- menus ----

const HINT: &str = "Trả lời bằng số hoặc tên mục.";

fn out(keyboard: OutKeyboard) -> Outgoing {
    Outgoing {
        id: "ask-category".into(),
        text: "Tin báo liên quan đến việc gì?".into(),
        keyboard,
    }
}

fn categories() -> OutKeyboard {
    let b = |l: &str, d: &str| (l.to_owned(), d.to_owned());
    OutKeyboard::Inline(vec![
        vec![b("💊 Ma túy", "cat:drugs"), b("🔓 Trộm cắp", "cat:theft")],
        vec![
            b("🎲 Cờ bạc", "cat:gambling"),
            b("🚗 Giao thông", "cat:traffic"),
        ],
        vec![b("❓ Khác", "cat:other")],
    ])
}

#[test]
fn inline_buttons_become_numbered_lines_and_a_hint() {
    assert_eq!(
        render_text(&out(categories()), HINT),
        "Tin báo liên quan đến việc gì?\n\n\
         1. 💊 Ma túy\n2. 🔓 Trộm cắp\n3. 🎲 Cờ bạc\n4. 🚗 Giao thông\n5. ❓ Khác\n\
         Trả lời bằng số hoặc tên mục."
    );
    assert_eq!(
        render_text(&out(categories()), " "),
        "Tin báo liên quan đến việc gì?\n\n\
         1. 💊 Ma túy\n2. 🔓 Trộm cắp\n3. 🎲 Cờ bạc\n4. 🚗 Giao thông\n5. ❓ Khác",
        "no hint line for an empty hint"
    );
}

#[test]
fn keyboards_without_a_zalo_equivalent_leave_the_text_alone() {
    for k in [
        OutKeyboard::None,
        OutKeyboard::Remove,
        OutKeyboard::Location("📍 Gửi vị trí".into()),
        OutKeyboard::Inline(vec![]),
    ] {
        assert_eq!(
            render_text(&out(k.clone()), HINT),
            "Tin báo liên quan đến việc gì?",
            "{k:?}"
        );
    }
}

#[test]
fn a_contact_request_offers_only_the_anonymous_choice() {
    let k = OutKeyboard::Contact {
        share: "📞 Chia sẻ số điện thoại".into(),
        anonymous: "🕶 Ẩn danh".into(),
    };
    assert_eq!(
        options(&out(k.clone())),
        vec![MenuOption {
            label: "🕶 Ẩn danh".into(),
            data: crate::buttons::ButtonData::Anonymous.encode()
        }]
    );
    assert_eq!(
        render_text(&out(k), HINT),
        format!("Tin báo liên quan đến việc gì?\n\n1. 🕶 Ẩn danh\n{HINT}")
    );
}

#[test]
fn resolve_reads_numbers_labels_and_prefixes() {
    let opts = options(&out(categories()));
    let cases: &[(&str, Option<&str>)] = &[
        ("2", Some("cat:theft")),
        (" 2. ", Some("cat:theft")),
        ("2)", Some("cat:theft")),
        ("số 2", Some("cat:theft")),
        ("Số 5", Some("cat:other")),
        ("so 1", Some("cat:drugs")),
        ("#4", Some("cat:traffic")),
        ("0", None),
        ("6", None),
        ("99", None),
        ("-1", None),
        ("💊 Ma túy", Some("cat:drugs")),
        ("ma túy", Some("cat:drugs")),
        ("MA TUY", Some("cat:drugs")),
        ("ma tuy!", Some("cat:drugs")),
        ("trom cap", Some("cat:theft")),
        ("Trộm", Some("cat:theft")),
        ("giao", Some("cat:traffic")),
        ("co bac", Some("cat:gambling")),
        ("khac", Some("cat:other")),
        ("kh", None),
        ("ma", None),
        ("", None),
        ("   ", None),
        ("💊", None),
        ("Có người bán ma túy ở hẻm 12", None),
        ("trộm cắp xe máy", None),
    ];
    for (reply, expected) in cases {
        assert_eq!(
            resolve(&opts, reply).as_deref(),
            *expected,
            "reply {reply:?}"
        );
    }
}

#[test]
fn resolve_refuses_an_ambiguous_reply_and_prefers_an_exact_label() {
    let opt = |l: &str, d: &str| MenuOption {
        label: l.into(),
        data: d.into(),
    };
    let opts = vec![
        opt("Phường Bến Nghé", "com:bn"),
        opt("Phường Bến Thành", "com:bt"),
        opt("Ma túy", "cat:drugs"),
        opt("Ma túy tổng hợp", "cat:synthetic"),
        opt("Đồng Hới", "com:dh"),
        opt("Dong Hoi", "com:dh2"),
    ];
    assert_eq!(resolve(&opts, "phuong ben"), None);
    assert_eq!(resolve(&opts, "phường bến t").as_deref(), Some("com:bt"));
    assert_eq!(resolve(&opts, "ma tuy").as_deref(), Some("cat:drugs"));
    assert_eq!(
        resolve(&opts, "ma tuy tong").as_deref(),
        Some("cat:synthetic")
    );
    assert_eq!(resolve(&opts, "dong hoi"), None, "two labels fold alike");
    assert_eq!(resolve(&[], "1"), None);
}

// ---- splitting ----

#[test]
fn split_keeps_a_text_that_fits_and_cuts_one_that_does_not() {
    let exactly = "a".repeat(2000);
    assert_eq!(split(&exactly, 2000), vec![exactly.clone()]);

    let one_more = "a".repeat(2001);
    assert_eq!(split(&one_more, 2000), vec!["a".repeat(2000), "a".into()]);

    let words = format!("{} {}", "a".repeat(1000), "b".repeat(1000));
    assert_eq!(
        split(&words, 2000),
        vec!["a".repeat(1000), "b".repeat(1000)],
        "2001 characters cut at the space"
    );

    // Characters, not bytes: "ệ" is 3 bytes.
    let vietnamese = "ệ".repeat(2000);
    assert_eq!(split(&vietnamese, 2000).len(), 1);

    let word = "x".repeat(2500);
    assert_eq!(split(&word, 2000), vec!["x".repeat(2000), "x".repeat(500)]);
    let after = format!("ab {word}");
    assert_eq!(
        split(&after, 2000),
        vec!["ab".into(), "x".repeat(2000), "x".repeat(500)],
        "a long word starts a new part before it is cut"
    );

    assert!(split("", 2000).is_empty());
    assert!(split(" \n\n ", 2000).is_empty());
    assert_eq!(split("  hi  ", 2000), vec!["  hi  "]);
}

#[test]
fn split_prefers_paragraphs_then_lines_then_sentences_then_words() {
    let cases: &[(&str, usize, &[&str])] = &[
        (
            "aaa bbb.\n\nccc. ddd\neee",
            20,
            &["aaa bbb.", "ccc. ddd\neee"],
        ),
        (
            "aaa. bbb\nccc ddd eee fff",
            14,
            &["aaa. bbb", "ccc ddd eee", "fff"],
        ),
        ("aaa bbb. ccc ddd eee", 15, &["aaa bbb.", "ccc ddd eee"]),
        ("Một! Hai? Ba… bốn năm", 14, &["Một! Hai? Ba…", "bốn năm"]),
        ("aaa bbb ccc ddd", 8, &["aaa bbb", "ccc ddd"]),
        ("a\r\n\r\nb  c", 4, &["a", "b  c"]),
    ];
    for (text, max, expected) in cases {
        assert_eq!(split(text, *max), *expected, "{text:?} at {max}");
    }
}

#[test]
fn a_long_paragraph_is_cut_after_sentences() {
    let sentence = "Có một người đàn ông lạ thường đứng ở đầu hẻm vào buổi tối. ";
    let paragraph = sentence.repeat(60); // about 3600 characters
    let parts = split(&paragraph, 2000);
    assert_eq!(parts.len(), 2);
    for p in &parts {
        assert!(p.chars().count() <= 2000);
        assert!(p.ends_with('.'), "{p:?}");
    }
}

proptest! {
    #[test]
    fn split_parts_fit_and_rejoin_to_the_text(
        text in "[ab đệ.!?…\n\t]{0,400}",
        max in 1usize..40,
    ) {
        let pieces = pieces(&text, max);
        let joined: String = pieces.iter().map(|(p, s)| format!("{p}{s}")).collect();
        let expected = if text.chars().count() <= max { text.as_str() } else { text.trim() };
        if text.trim().is_empty() {
            prop_assert!(pieces.is_empty());
        } else {
            prop_assert_eq!(joined.as_str(), expected);
        }
        let several = pieces.len() > 1;
        for (i, (part, sep)) in pieces.iter().enumerate() {
            prop_assert!(!part.is_empty());
            prop_assert!(part.chars().count() <= max);
            prop_assert!(sep.chars().all(char::is_whitespace));
            if several {
                prop_assert_eq!(part.trim(), *part);
            }
            let last = i + 1 == pieces.len();
            if !last && sep.is_empty() {
                // Cut inside a word: only when that word alone is longer than the limit.
                prop_assert!(!part.contains(char::is_whitespace));
                prop_assert_eq!(part.chars().count(), max);
            }
        }
        prop_assert_eq!(
            split(&text, max),
            pieces.iter().map(|(p, _)| p.to_string()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn resolve_finds_every_option_by_number_and_by_label(
        labels in proptest::collection::btree_set("[a-z]{3,8}( [a-z]{2,6})?", 1..8),
    ) {
        let opts: Vec<MenuOption> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| MenuOption { label: format!("✅ {l}"), data: format!("d{i}") })
            .collect();
        for (i, o) in opts.iter().enumerate() {
            prop_assert_eq!(resolve(&opts, &(i + 1).to_string()), Some(o.data.clone()));
            prop_assert_eq!(resolve(&opts, &o.label.to_uppercase()), Some(o.data.clone()));
        }
        prop_assert_eq!(resolve(&opts, &(opts.len() + 1).to_string()), None);
    }
}

// ---- the client ----

#[test]
fn api_errors_are_classified() {
    use super::client::classify;
    let cases: &[(i64, &str, &str)] = &[
        (429, "Quota exceeded", "transient"),
        (408, "Request timeout", "transient"),
        (500, "", "transient"),
        (503, "Service unavailable", "transient"),
        (403, "Internal server error", "transient"),
        (403, "Forbidden", "blocked"),
        (400, "User has blocked the bot", "blocked"),
        (404, "user unfollowed the OA", "blocked"),
        (400, "Người dùng đã chặn bot", "blocked"),
        (400, "Bad request", "refused"),
        (401, "Unauthorized", "refused"),
        (404, "Not Found", "refused"),
        (426, "testWebhook limit", "refused"),
        (-1, "weird", "refused"),
    ];
    for (code, description, expected) in cases {
        let got = match classify(*code, description) {
            SendError::Transient(_) => "transient",
            SendError::Blocked => "blocked",
            SendError::Refused(_) => "refused",
            SendError::Migrated(_) => "migrated",
        };
        assert_eq!(got, *expected, "{code} {description:?}");
    }
}

#[tokio::test]
async fn the_token_shows_in_no_error_and_no_debug() {
    use std::time::Duration;
    // Nothing listens on port 1: the request fails in the transport.
    let client = ZaloClient::new(
        "http://127.0.0.1:1/",
        "123456:TOP-SECRET",
        Duration::from_secs(2),
    )
    .unwrap();
    assert!(!format!("{client:?}").contains("TOP-SECRET"));
    match client.get_me().await {
        Err(SendError::Transient(why)) => assert!(!why.contains("TOP-SECRET"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.send_message("c1", " \n ").await,
        Err(SendError::Refused(_))
    ));
    assert!(matches!(
        client.set_webhook("https://x.example/zalo", "short").await,
        Err(SendError::Refused(_))
    ));
}
