//! What each channel says it can do, how it reads an update and a webhook call, and which
//! channels the registry gives.

use std::collections::HashMap;
use std::path::Path;

use axum::http::HeaderMap;
use figment::providers::Env;
use serde_json::json;

use super::telegram::TelegramChannel;
use super::zalo::ZaloChannel;
use super::*;
use crate::config::{ReceiveMode, Secrets, Settings};
use crate::conversation::{EvidenceKind, Input};
use crate::i18n::Texts;
use crate::privacy::Channel;
use crate::store::InboxKind;

const ZALO_SECRET: &str = "zalo-webhook-secret";
const TG_SECRET: &str = "tg-webhook-secret";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped configuration with both channels' switches and modes as given; tokens (and
/// webhook secrets) for both.
pub(crate) fn registry(telegram: bool, zalo: bool, mode: ReceiveMode) -> Registry {
    let mut settings = Settings::load_with(
        &root().join("config/tipline.toml"),
        Env::prefixed("TIPLINE_TEST_NOTHING__"),
    )
    .expect("the shipped configuration loads");
    settings.telegram.enabled = telegram;
    settings.telegram.mode = mode;
    settings.zalo.enabled = zalo;
    settings.zalo.mode = mode;
    // Never called: no test here sends or polls.
    settings.telegram.api_url = "http://127.0.0.1:9".into();
    settings.zalo.api_url = "http://127.0.0.1:9".into();
    let route_key = "07".repeat(32);
    let env: HashMap<&str, &str> = HashMap::from([
        ("TIPLINE_TELEGRAM_TOKEN", "123:abc"),
        ("TIPLINE_TELEGRAM_WEBHOOK_SECRET", TG_SECRET),
        ("TIPLINE_ZALO_TOKEN", "zalo-token"),
        ("TIPLINE_ZALO_WEBHOOK_SECRET", ZALO_SECRET),
        ("TIPLINE_ALIAS_KEY", "0123456789abcdef0123456789abcdef"),
        ("TIPLINE_ROUTE_KEY", &route_key),
    ]);
    let secrets = Secrets::from_lookup(&settings, |k| env.get(k).map(|v| (*v).to_owned()))
        .expect("the test secrets are valid");
    let texts = Texts::load(&root().join("locales")).expect("the locale files load");
    Registry::build(&Setup {
        settings: &settings,
        secrets: &secrets,
        texts: &texts,
        default_lang: crate::i18n::Lang::Vi,
    })
    .expect("the channels build")
}

fn ids<'a>(channels: impl Iterator<Item = &'a dyn CitizenChannel>) -> Vec<Channel> {
    channels.map(|c| c.id()).collect()
}

#[test]
fn telegram_has_buttons_pins_contact_cards_and_hosted_files() {
    let caps = telegram::CAPABILITIES;
    assert_eq!(caps.choices, Choices::Buttons);
    assert!(caps.location_pin && caps.contact_button);
    assert_eq!(caps.files, Files::Hosted);
    assert!(caps.file_kinds.contains(&EvidenceKind::Document));
    assert!(caps.file_kinds.contains(&EvidenceKind::Video));
    assert_eq!(caps.max_text_chars, 4096);
    assert!(caps.app_language, "Telegram says the app's language");
    assert!(!caps.automated_notice);
    assert_eq!(caps.text_variant, None);
}

#[test]
fn zalo_has_numbered_menus_typed_phone_numbers_expiring_links_and_the_automated_notice() {
    let caps = zalo::CAPABILITIES;
    assert_eq!(caps.choices, Choices::NumberedMenu);
    assert!(!caps.location_pin && !caps.contact_button);
    assert_eq!(caps.files, Files::Links);
    assert_eq!(caps.file_kinds, [EvidenceKind::Photo, EvidenceKind::Voice]);
    assert_eq!(caps.max_text_chars, zalo::MAX_TEXT_CHARS);
    assert!(!caps.app_language);
    assert!(caps.automated_notice, "Zalo's terms");
    assert_eq!(caps.text_variant, Some("zalo"));
}

#[test]
fn the_registry_gives_each_enabled_channel_and_knows_the_disabled_ones() {
    let both = registry(true, true, ReceiveMode::Polling);
    assert_eq!(ids(both.enabled()), [Channel::Telegram, Channel::Zalo]);
    let tg_only = registry(true, false, ReceiveMode::Polling);
    assert_eq!(ids(tg_only.enabled()), [Channel::Telegram]);
    let zalo_only = registry(false, true, ReceiveMode::Polling);
    assert_eq!(ids(zalo_only.enabled()), [Channel::Zalo]);
    // A disabled channel still reads what its inbox entries hold.
    assert_eq!(ids(tg_only.all()), [Channel::Telegram, Channel::Zalo]);

    for channel in [Channel::Telegram, Channel::Zalo] {
        let c = both
            .get(channel)
            .expect("every stored channel is registered");
        assert_eq!(c.id(), channel);
        let by_kind = both
            .by_inbox(c.inbox_kind())
            .expect("its inbox kind is known");
        assert_eq!(by_kind.id(), channel);
        assert_eq!(both.capabilities(channel), *c.capabilities());
    }
    assert!(both.by_inbox(InboxKind::Tick).is_none());
    // The stored tags of `seen` marks.
    assert_eq!(
        both.get(Channel::Telegram).map(|c| c.seen_tag()),
        Some("tg")
    );
    assert_eq!(both.get(Channel::Zalo).map(|c| c.seen_tag()), Some("zl"));
    // The desk finds Telegram's client; a disabled channel has none.
    assert!(
        both.find::<TelegramChannel>()
            .and_then(|t| t.bot())
            .is_some()
    );
    assert!(
        zalo_only
            .find::<TelegramChannel>()
            .and_then(|t| t.bot())
            .is_none()
    );
    assert!(
        tg_only
            .find::<ZaloChannel>()
            .and_then(|z| z.client())
            .is_none()
    );
}

#[test]
fn webhook_routes_exist_only_for_enabled_channels_in_webhook_mode() {
    let hooks = registry(true, true, ReceiveMode::Webhook);
    let paths: Vec<&str> = hooks.all().filter_map(|c| c.webhook_path()).collect();
    assert_eq!(paths.len(), 2);
    let polling = registry(true, true, ReceiveMode::Polling);
    assert_eq!(polling.all().filter_map(|c| c.webhook_path()).count(), 0);
    let tg_only = registry(true, false, ReceiveMode::Webhook);
    assert_eq!(
        ids(tg_only.all().filter(|c| c.webhook_path().is_some())),
        [Channel::Telegram]
    );
}

fn zalo_text(text: &str) -> String {
    json!({"ok": true, "result": {
        "event_name": "message.text.received",
        "message": {
            "message_id": "m1", "date": 1_700_000_000_000_i64, "text": text,
            "from": {"id": "u1", "display_name": "A"}, "chat": {"id": "u1", "chat_type": "PRIVATE"}
        }
    }})
    .to_string()
}

#[test]
fn a_zalo_text_is_a_citizen_update_with_what_was_typed_and_no_language() {
    let reg = registry(false, true, ReceiveMode::Webhook);
    let zalo = reg.get(Channel::Zalo).expect("registered");
    let Ok(Parsed::Citizen(upd)) = zalo.parse(&zalo_text("2")) else {
        panic!("a citizen's text");
    };
    assert_eq!((upd.user_id.as_str(), upd.chat.as_str()), ("u1", "u1"));
    assert_eq!(upd.typed.as_deref(), Some("2"));
    assert_eq!(upd.input, Some(Input::Text("2".into())));
    assert_eq!((upd.lang, upd.press), (None, None));
    assert!(zalo.parse("{").is_err());
}

#[test]
fn a_telegram_button_press_is_a_citizen_update_with_its_press_and_language() {
    let reg = registry(true, false, ReceiveMode::Polling);
    let tg = reg.get(Channel::Telegram).expect("registered");
    let user = json!({"id": 42, "is_bot": false, "first_name": "A", "language_code": "en"});
    let body = json!({"update_id": 7, "callback_query": {
        "id": "cb1", "from": user, "chat_instance": "x", "data": "report",
        "message": {"message_id": 5, "date": 0, "chat": {"id": 42, "type": "private", "first_name": "A"},
                    "from": {"id": 1, "is_bot": true, "first_name": "bot"}, "text": "hi"}
    }})
    .to_string();
    let Ok(Parsed::Citizen(upd)) = tg.parse(&body) else {
        panic!("a citizen's press");
    };
    assert_eq!(upd.chat, "42");
    assert_eq!(upd.lang, Some(crate::i18n::Lang::En));
    assert_eq!(
        upd.press,
        Some(Press {
            id: "cb1".into(),
            message: Some(5)
        })
    );
    assert_eq!(upd.typed, None);
    assert!(tg.parse("[]").is_err());
}

#[test]
fn each_channel_checks_its_own_webhook_secret_and_answers_as_its_platform_expects() {
    let reg = registry(true, true, ReceiveMode::Webhook);
    let (tg, zalo) = (
        reg.get(Channel::Telegram).expect("registered"),
        reg.get(Channel::Zalo).expect("registered"),
    );
    let body = zalo_text("xin chào");
    let mut headers = HeaderMap::new();
    assert_eq!(
        zalo.webhook(&headers, body.as_bytes()),
        Err(WebhookError::WrongSecret { status: 403 })
    );
    assert_eq!(
        tg.webhook(&headers, b"{}"),
        Err(WebhookError::WrongSecret { status: 401 })
    );
    headers.insert(
        zalo::SECRET_HEADER,
        ZALO_SECRET.parse().expect("a header value"),
    );
    assert_eq!(
        zalo.webhook(&headers, body.as_bytes()),
        Ok(Webhook::Store { key: "m1".into() })
    );
    let follow = json!({"event_name": "follow"}).to_string();
    assert_eq!(
        zalo.webhook(&headers, follow.as_bytes()),
        Ok(Webhook::Ignore)
    );
    headers.insert(
        telegram::SECRET_HEADER,
        TG_SECRET.parse().expect("a header value"),
    );
    assert!(matches!(
        tg.webhook(&headers, b"not json"),
        Err(WebhookError::BadBody(_))
    ));
    let update = json!({"update_id": 9, "message": {
        "message_id": 3, "date": 0, "text": "hi",
        "chat": {"id": 42, "type": "private", "first_name": "A"},
        "from": {"id": 42, "is_bot": false, "first_name": "A"}
    }})
    .to_string();
    assert_eq!(
        tg.webhook(&headers, update.as_bytes()),
        Ok(Webhook::Store { key: "9".into() })
    );
}

#[tokio::test]
async fn a_disabled_channel_refuses_to_send() {
    let reg = registry(false, false, ReceiveMode::Polling);
    let out = Outgoing {
        id: "x".into(),
        text: "x".into(),
        keyboard: OutKeyboard::None,
    };
    for c in reg.all() {
        assert!(!c.enabled());
        assert!(matches!(
            c.send("1", &out).await,
            Err(SendError::Refused(_))
        ));
    }
}
