//! The duty group as a hard boundary (issue 14): only the listed officers act on cards; what the
//! bot puts in a group cannot be forwarded or saved; questions to a citizen are few, carry no
//! clickable link and end with a safety line; answers in minimal-card groups are masked.

use std::time::Duration;

use serde_json::json;
use tipline::config::ReceiveMode;
use tipline::i18n::{Lang, Texts};

use crate::support::{Call, TestApp, receipt_code, spawn_app_with};

const DUTY: i64 = -1_001_000_000_001;
const SUPERVISORS: i64 = -1_001_000_000_009;
/// On `desk.officers` (the test kit lists 501, 502, 555 and 601).
const OFFICER: i64 = 501;
/// A member of the duty group who is not a listed officer.
const MEMBER: i64 = 777;

async fn app(tweak: impl FnOnce(&mut tipline::config::Settings)) -> TestApp {
    spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY;
        s.desk.supervisor_group = SUPERVISORS;
        tweak(s);
    })
    .await
}

/// A drugs tip (high priority: 30 minutes to acknowledge) with `photos` photos; its code.
async fn report(t: &TestApp, id: i64, lang: &'static str, photos: usize) -> String {
    let mut c = t.citizen(id);
    c.lang = lang;
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses("com:thung-nai").await;
    c.says("Có người bán ma túy ở bãi sông, tối nào cũng có")
        .await;
    c.presses("go:next").await;
    for i in 0..photos {
        c.sends_photo(&format!("AgAD-{id}-{i}"), 1000, None).await;
    }
    c.presses("go:next").await;
    c.says(if lang == "vi" {
        "🕶 Ẩn danh"
    } else {
        "🕶 Anonymous"
    })
    .await;
    receipt_code(&c.presses("rv:send").await).unwrap()
}

/// The message id of the card of `code` in `chat`, once it is there.
async fn card_of(t: &TestApp, chat: i64, code: &str) -> i64 {
    t.fake
        .wait_until("the card", |calls| {
            calls.iter().any(|c| is_card(c, chat, code))
        })
        .await;
    t.process_until_idle().await;
    let calls = t.fake.calls_of("sendMessage");
    let card = calls.iter().find(|c| is_card(c, chat, code)).unwrap();
    card.message_id.unwrap()
}

fn is_card(c: &Call, chat: i64, code: &str) -> bool {
    c.method == "sendmessage" && c.chat_id() == Some(chat) && c.text().contains(code)
}

fn press(t: &TestApp, user: i64, card: i64, data: &str) {
    t.fake.push_update(json!({"callback_query": {
        "id": format!("q{user}-{}", t.fake.calls().len()), "chat_instance": "-5",
        "from": {"id": user, "is_bot": false, "first_name": "Hùng"},
        "data": data,
        "message": {"message_id": card, "date": 1_700_000_000, "text": "…",
            "from": {"id": 999, "is_bot": true, "first_name": "TipBot", "username": "tip_bot"},
            "chat": {"id": DUTY, "type": "supergroup", "title": "Trực ban"}}}}));
}

/// `user` writes `text` in the duty group as message `message_id`, in reply to bot message
/// `to` (none: not a reply); a leading `/` makes it a command.
fn says(t: &TestApp, user: i64, message_id: i64, to: Option<i64>, text: &str) {
    let mut msg = json!({"message_id": message_id, "date": 1_700_000_000,
        "from": {"id": user, "is_bot": false, "first_name": "Hùng"},
        "chat": {"id": DUTY, "type": "supergroup", "title": "Trực ban"},
        "text": text});
    if text.starts_with('/') {
        let len = text.split(' ').next().unwrap().len();
        msg["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
    }
    if let Some(to) = to {
        msg["reply_to_message"] = json!({"message_id": to, "date": 1_700_000_000, "text": "…",
            "from": {"id": 999, "is_bot": true, "first_name": "TipBot", "username": "tip_bot"},
            "chat": {"id": DUTY, "type": "supergroup", "title": "Trực ban"}});
    }
    t.fake.push_update(json!({"message": msg}));
}

/// The bot's answers in the duty group to message `message_id`.
fn answers_to(t: &TestApp, message_id: i64) -> Vec<String> {
    t.fake
        .messages_to(DUTY)
        .iter()
        .filter(|c| c.body["reply_parameters"]["message_id"].as_i64() == Some(message_id))
        .map(|c| c.text().to_owned())
        .collect()
}

fn events_of(t: &TestApp, kind: &str) -> Vec<std::collections::HashMap<String, String>> {
    t.events()
        .into_iter()
        .filter(|e| e["type"] == kind)
        .collect()
}

/// `tipline_desk_refused_total{reason=…}` as `/metrics` shows it (0 when absent).
async fn refused(t: &TestApp, reason: &str) -> f64 {
    let text = t.scrape_metrics().await;
    let line = format!("tipline_desk_refused_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&line))
        .map_or(0.0, |v| v.parse().unwrap())
}

fn texts(t: &TestApp) -> Texts {
    Texts::load(&t.settings.app.locales_dir).unwrap()
}

#[tokio::test]
async fn a_member_who_is_not_a_listed_officer_changes_nothing_and_is_told_why() {
    let t = app(|_| {}).await;
    let code = report(&t, 9_101, "vi", 0).await;
    let card = card_of(&t, DUTY, &code).await;
    let refusal = texts(&t).get(Lang::Vi, "desk-not-officer");
    assert_eq!(
        refusal,
        "Chỉ cán bộ có trong danh sách mới được thao tác trên thẻ tin báo; thao tác bị từ chối."
    );
    let mut citizen = t.citizen(9_101);
    citizen.new_messages();
    let before = t.fake.messages_to(DUTY).len();

    // A press: a short answer, the tip untouched.
    press(&t, MEMBER, card, &format!("dk:ack:{code}"));
    t.process_until_idle().await;
    let answered: Vec<String> = t
        .fake
        .calls_of("answerCallbackQuery")
        .iter()
        .filter_map(|c| c.body["text"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(answered, std::slice::from_ref(&refusal));
    assert_eq!(t.tip(&code)["status"], "submitted");

    // A reply to the card: refused in the group, nothing relayed to the citizen.
    says(
        &t,
        MEMBER,
        8_001,
        Some(card),
        "Cho tôi xin số điện thoại của bạn",
    );
    // Commands that show tips: refused too.
    says(&t, MEMBER, 8_002, None, &format!("/tip {code}"));
    says(&t, MEMBER, 8_003, None, "/pending");
    t.process_until_idle().await;
    assert_eq!(answers_to(&t, 8_001), std::slice::from_ref(&refusal));
    let after: Vec<String> = t.fake.messages_to(DUTY)[before..]
        .iter()
        .map(|c| c.text().to_owned())
        .collect();
    assert_eq!(
        after,
        [refusal.clone(), refusal.clone(), refusal],
        "no card again, no list"
    );
    assert!(
        citizen.new_messages().is_empty(),
        "nothing reached the citizen"
    );
    let kinds: Vec<String> = t.events().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(kinds, ["submitted"], "no event of any kind");
    assert_eq!(refused(&t, "not_officer").await, 4.0);

    // A listed officer is not refused.
    press(&t, OFFICER, card, &format!("dk:ack:{code}"));
    says(&t, OFFICER, 8_004, Some(card), "Người bán đi xe gì?");
    t.process_until_idle().await;
    assert_eq!(t.tip(&code)["status"], "acknowledged");
    assert_eq!(events_of(&t, "info_requested").len(), 1);
}

#[tokio::test]
async fn cards_files_copies_relays_and_reminders_in_groups_are_protected_from_forwarding() {
    let t = app(|_| {}).await;
    let code = report(&t, 9_201, "vi", 2).await;
    let card = card_of(&t, DUTY, &code).await;
    assert_eq!(t.fake.calls_of("copyMessage").len(), 2, "both files copied");

    // A copy of the card under /tip, a question and its relayed answer, the SLA's reminder and
    // escalation: everything the bot puts in a group.
    says(&t, OFFICER, 8_101, None, &format!("/tip {code}"));
    says(&t, OFFICER, 8_102, Some(card), "Người bán đi xe gì?");
    t.process_until_idle().await;
    let mut citizen = t.citizen(9_201);
    citizen.says("Xe Wave màu xanh").await;
    t.process_until_idle().await;
    assert!(
        t.fake
            .messages_to(DUTY)
            .iter()
            .any(|m| m.text().contains("Xe Wave màu xanh")),
        "the answer was relayed"
    );
    // Unacknowledged: announced again after 30 minutes, escalated to the supervisors after 60.
    t.clock.advance(Duration::from_secs(31 * 60));
    t.fire_timers().await;
    t.clock.advance(Duration::from_secs(30 * 60));
    t.fire_timers().await;
    assert!(!t.fake.messages_to(SUPERVISORS).is_empty(), "escalated");

    // A duty group that refuses a card: it goes to the supervisors, protected all the same.
    t.fake
        .refuse_chat(DUTY, Some(crate::support::Fault::ChatNotFound));
    let astray = report(&t, 9_202, "vi", 0).await;
    card_of(&t, SUPERVISORS, &astray).await;

    let to_groups: Vec<Call> = t
        .fake
        .calls()
        .into_iter()
        .filter(|c| {
            matches!(
                c.method.as_str(),
                "sendmessage" | "copymessage" | "sendphoto" | "senddocument"
            ) && c.chat_id().is_some_and(|chat| chat < 0)
        })
        .collect();
    assert!(to_groups.len() >= 9, "{}", to_groups.len());
    for c in &to_groups {
        assert!(
            c.protected(),
            "{} to {:?} unprotected: {}",
            c.method,
            c.chat_id(),
            c.text()
        );
    }
    // A citizen's own chat is not protected: the receipt is theirs to keep.
    assert!(t.fake.messages_to(9_201).iter().all(|c| !c.protected()));
}

#[tokio::test]
async fn questions_about_one_tip_are_limited_per_hour_and_the_officer_is_told() {
    let t = app(|s| s.desk.questions_per_tip_per_hour = 2).await;
    let code = report(&t, 9_301, "vi", 0).await;
    let card = card_of(&t, DUTY, &code).await;
    let other = report(&t, 9_302, "vi", 0).await;
    let other_card = card_of(&t, DUTY, &other).await;

    for (i, q) in ["Mấy người?", "Mấy giờ?", "Xe gì?"].iter().enumerate() {
        says(&t, OFFICER, 8_201 + i as i64, Some(card), q);
        t.process_until_idle().await;
    }
    // The first question's update delivered again changes nothing.
    says(&t, OFFICER, 8_201, Some(card), "Mấy người?");
    t.process_until_idle().await;
    assert_eq!(
        answers_to(&t, 8_203),
        [format!(
            "Tin báo {code} đã có 2 câu hỏi trong một giờ qua; câu hỏi này chưa được chuyển. Đề nghị thử lại sau."
        )]
    );
    let asked = |t: &TestApp, tip: &str| {
        events_of(t, "info_requested")
            .into_iter()
            .filter(|e| e["code"] == tip)
            .count()
    };
    assert_eq!(asked(&t, &code), 2);
    let questions = t
        .fake
        .messages_to(9_301)
        .iter()
        .filter(|m| m.text().contains("Cán bộ trực hỏi"))
        .count();
    assert_eq!(questions, 2, "the third was not sent");
    assert_eq!(refused(&t, "question_limit").await, 1.0);

    // Another tip has its own allowance; an hour later this one has its allowance back.
    says(&t, OFFICER, 8_301, Some(other_card), "Ở đâu?");
    t.process_until_idle().await;
    assert_eq!(asked(&t, &other), 1);
    t.clock.advance(Duration::from_secs(3_601));
    says(&t, OFFICER, 8_204, Some(card), "Xe gì?");
    t.process_until_idle().await;
    assert_eq!(asked(&t, &code), 3);
}

#[tokio::test]
async fn a_question_reaches_the_citizen_with_its_links_defanged_and_the_safety_line_last() {
    let t = app(|_| {}).await;
    let texts = texts(&t);
    let phishing = "Để xác minh, vào https://congan-xacminh.vn/otp hoặc nhắn t.me/hotro_congan, \
                    zalo.me/0912000111, @congan_hotro_bot";
    for (id, lang, locale) in [(9_401, "vi", Lang::Vi), (9_402, "en", Lang::En)] {
        let code = report(&t, id, lang, 0).await;
        let card = card_of(&t, DUTY, &code).await;
        says(&t, OFFICER, 8_400 + id, Some(card), phishing);
        t.process_until_idle().await;
        let messages = t.fake.messages_to(id);
        let question = messages.last().unwrap().text();
        for defanged in [
            "hxxps://congan-xacminh[.]vn/otp",
            "t[.]me/hotro_congan",
            "zalo[.]me/0912000111",
            "[@]congan_hotro_bot",
        ] {
            assert!(question.contains(defanged), "{defanged} in {question}");
        }
        for live in ["https://", "t.me/", "zalo.me/", " @congan"] {
            assert!(!question.contains(live), "{live} in {question}");
        }
        let safety = texts.get(locale, "notify-question-safety");
        assert!(question.ends_with(&safety), "{question}");
    }
    assert!(
        texts
            .get(Lang::Vi, "notify-question-safety")
            .contains("Công an không bao giờ yêu cầu bạn cung cấp mã OTP, mật khẩu, chuyển tiền hay gửi giấy tờ tùy thân")
    );
    assert!(
        texts
            .get(Lang::En, "notify-question-safety")
            .contains("the police never ask you here for OTP codes, passwords, money transfers or identity documents")
    );
    // The event keeps what the officer wrote, for the audit of a misused account.
    assert_eq!(events_of(&t, "info_requested")[0]["text"], phishing);
}

#[tokio::test]
async fn an_answer_in_a_minimal_card_group_has_its_personal_data_masked() {
    let t = app(|s| {
        s.desk.minimal_cards = true;
        s.desk.minimal_excerpt_chars = 300;
    })
    .await;
    let code = report(&t, 9_501, "vi", 0).await;
    let card = card_of(&t, DUTY, &code).await;
    says(
        &t,
        OFFICER,
        8_501,
        Some(card),
        "Anh/chị có thể để lại liên lạc?",
    );
    t.process_until_idle().await;
    let mut citizen = t.citizen(9_501);
    citizen
        .says("Gọi tôi 0912 345 678, CCCD 001099012345, xe của nó 29A-123.45")
        .await;
    t.process_until_idle().await;
    let relayed: Vec<String> = t
        .fake
        .messages_to(DUTY)
        .iter()
        .filter(|m| m.text().contains("Người báo trả lời"))
        .map(|m| m.text().to_owned())
        .collect();
    assert_eq!(relayed.len(), 1, "{relayed:?}");
    let answer = &relayed[0];
    for masked in ["[SĐT]", "[CCCD]", "[BIỂN SỐ]"] {
        assert!(answer.contains(masked), "{masked} in {answer}");
    }
    for clear in ["0912 345 678", "001099012345", "29A-123.45"] {
        assert!(!answer.contains(clear), "{clear} in {answer}");
    }
    assert!(answer.contains("Gọi tôi"), "the rest is shown: {answer}");
    // The triage service and the audit get the answer as given; only the group is masked.
    assert!(events_of(&t, "citizen_replied")[0]["text"].contains("0912 345 678"));
}

/// Runs `tipline check-config` on the shipped file with the desk enabled and `env` added.
fn check_config(env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tipline"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--config", "config/tipline.toml", "check-config"])
        .env("TIPLINE__DESK__ENABLED", "true")
        .env("TIPLINE_TELEGRAM_TOKEN", "123456:TEST-TOKEN")
        .env("TIPLINE_ALIAS_KEY", "test-alias-key-test-alias-key-test")
        .env("TIPLINE_ROUTE_KEY", "11".repeat(32))
        .env("TIPLINE_AUDIT_KEY", "a".repeat(32))
        .env("TIPLINE_LINK_KEY", "l".repeat(32));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test]
async fn check_config_refuses_a_desk_without_officers_and_warns_about_any_member() {
    let (ok, out) = check_config(&[]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("desk.officers: must list the Telegram user ids"),
        "{out}"
    );
    let (ok, out) = check_config(&[("TIPLINE__DESK__OFFICERS", "[501, 502]")]);
    assert!(ok, "{out}");
    assert!(!out.contains("warning"), "{out}");
    let (ok, out) = check_config(&[("TIPLINE__DESK__ALLOW_ANY_MEMBER", "true")]);
    assert!(ok, "{out}");
    assert!(
        out.contains("warning: desk.allow_any_member: every member of a duty group can act"),
        "{out}"
    );
}

#[tokio::test]
async fn links_a_citizen_writes_reach_the_duty_group_unclickable_and_readable() {
    let t = app(|_| {}).await;
    let mut c = t.citizen(14_501);
    c.says("/report").await;
    c.presses("cat:fraud").await;
    c.says("Trang https://vay-nhanh24h.xyz/otp, nhóm t.me/vaytien_nhanh")
        .await;
    c.presses("pl:unknown").await;
    c.says("Họ lừa qua trang https://vay-nhanh24h.xyz/otp và @hotro_vay247")
        .await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).unwrap();
    card_of(&t, DUTY, &code).await;
    let card = t
        .fake
        .messages_to(DUTY)
        .into_iter()
        .find(|m| is_card(m, DUTY, &code))
        .unwrap();
    let text = card.text();
    for planted in ["https://", "t.me/", " @hotro_vay247", "vay-nhanh24h.xyz"] {
        assert!(!text.contains(planted), "{planted} is clickable: {text}");
    }
    for readable in [
        "hxxps://vay-nhanh24h[.]xyz/otp",
        "t[.]me/vaytien_nhanh",
        "[@]hotro_vay247",
    ] {
        assert!(text.contains(readable), "{readable} not in: {text}");
    }
    // The stored tip keeps what the citizen wrote, as evidence.
    assert!(
        t.tip(&code)["description"]
            .as_str()
            .unwrap()
            .contains("https://vay-nhanh24h.xyz/otp")
    );
}
