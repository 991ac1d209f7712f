//! Every tip reaches a human (issue 13): a card its duty group refuses goes to the supervisors
//! (or as an outline), is counted on `/metrics`, and comes home on a replay; the SLA clock runs
//! from submit, also for a tip that has no card; `/tip` posts a card that was never posted.

use std::time::Duration;

use tipline::config::ReceiveMode;
use tipline::desk::replay::{Replay, replay};

use crate::support::{Fault, TestApp, receipt_code, spawn_app_with};

const DUTY: i64 = -1_001_000_000_001;
const SUPERVISORS: i64 = -1_001_000_000_009;

async fn app() -> TestApp {
    spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY;
        s.desk.supervisor_group = SUPERVISORS;
    })
    .await
}

/// A drugs tip (high priority: 30 minutes to acknowledge) with `photos` photos.
async fn report(t: &TestApp, id: i64, photos: usize) -> String {
    let mut c = t.citizen(id);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses("com:thung-nai").await;
    c.says("Có người bán ma túy ở bãi sông, số điện thoại 0912345678")
        .await;
    c.presses("go:next").await;
    for i in 0..photos {
        c.sends_photo(&format!("AgAD-{id}-{i}"), 1000, None).await;
    }
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    receipt_code(&c.presses("rv:send").await).expect("a receipt")
}

/// Texts of the messages `chat` received that mention `needle`.
fn said(t: &TestApp, chat: i64, needle: &str) -> Vec<String> {
    t.fake
        .messages_to(chat)
        .iter()
        .map(|m| m.text().to_owned())
        .filter(|text| text.contains(needle))
        .collect()
}

/// Cards of `code` in `chat` (the card shows the tip's kind).
fn cards(t: &TestApp, chat: i64, code: &str) -> usize {
    said(t, chat, code)
        .iter()
        .filter(|text| text.contains("Loại: Ma túy"))
        .count()
}

/// The `/metrics` lines that start with `prefix`.
async fn metric(t: &TestApp, prefix: &str) -> Vec<String> {
    let text = t.scrape_metrics().await;
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// The dead letters of the desk: (id, error).
fn desk_letters(t: &TestApp) -> Vec<(String, String)> {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(format!("{}:dlq:desk", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    reply
        .ids
        .into_iter()
        .map(|e| {
            let error = e.get::<String>("error").unwrap_or_default();
            (e.id, error)
        })
        .collect()
}

fn group_says(t: &TestApp, group: i64, message_id: i64, text: &str) {
    let len = text.split(' ').next().unwrap_or_default().len();
    t.fake.push_update(serde_json::json!({"message": {
        "message_id": message_id, "date": 1_700_000_000,
        "from": {"id": 501, "is_bot": false, "first_name": "Hùng"},
        "chat": {"id": group, "type": "supergroup", "title": "Trực ban"},
        "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len}]}}));
}

#[tokio::test]
async fn a_card_the_kicked_bot_cannot_post_reaches_the_supervisors_and_a_replay_brings_it_home() {
    let t = app().await;
    t.fake.refuse_chat(DUTY, Some(Fault::Kicked));
    let code = report(&t, 7101, 1).await;
    t.process_until_idle().await;

    // The supervisors have the full card, under a banner that says why, in plain words, and
    // the file under it; the duty group took nothing.
    let fallback = said(&t, SUPERVISORS, &code);
    assert_eq!(fallback.len(), 1, "{fallback:?}");
    assert!(
        fallback[0].contains("không đăng được thẻ này vào nhóm trực của nó")
            && fallback[0].contains("bot đã bị xóa khỏi nhóm")
            && fallback[0].contains("tipline dlq replay --group desk")
            && fallback[0].contains("Loại: Ma túy"),
        "{}",
        fallback[0]
    );
    assert!(t.fake.messages_to(DUTY).is_empty());
    let copies = t.fake.calls_of("copyMessage");
    assert_eq!(copies.len(), 1);
    assert_eq!(copies[0].chat_id(), Some(SUPERVISORS));

    // Raised on /metrics, and listed as a dead letter of the desk for the operator.
    assert_eq!(
        metric(&t, "tipline_desk_card_fallbacks_total").await,
        ["tipline_desk_card_fallbacks_total{reason=\"kicked\",to=\"supervisors\"} 1"]
    );
    assert_eq!(
        metric(&t, "tipline_desk_cards_off_duty").await,
        ["tipline_desk_cards_off_duty 1"]
    );
    let letters = desk_letters(&t);
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert!(letters[0].1.starts_with("fallback: kicked"), "{letters:?}");

    // A replay while the group is still broken says so and keeps the letter.
    let shared = t.app().shared.clone();
    let id = letters[0].0.clone();
    let still = replay(&shared, &id, "admin:test").await.unwrap();
    assert!(
        matches!(&still, Replay::Failed(why) if why.contains("still refuses")),
        "{still:?}"
    );
    assert_eq!(desk_letters(&t).len(), 1);

    // The bot is back in the group: the replay posts the card there with its file, tells the
    // supervisors, and the tip no longer counts as outside its duty group.
    t.fake.refuse_chat(DUTY, None);
    assert_eq!(
        replay(&shared, &id, "admin:test").await.unwrap(),
        Replay::Done
    );
    assert_eq!(cards(&t, DUTY, &code), 1);
    let card = t.fake.messages_to(DUTY)[0].message_id;
    let home_copies: Vec<_> = t
        .fake
        .calls_of("copyMessage")
        .into_iter()
        .filter(|c| c.chat_id() == Some(DUTY))
        .collect();
    assert_eq!(home_copies.len(), 1);
    assert_eq!(
        home_copies[0].body["reply_parameters"]["message_id"].as_i64(),
        card
    );
    assert_eq!(
        said(&t, SUPERVISORS, "đã được đăng vào nhóm trực của nó").len(),
        1
    );
    assert!(desk_letters(&t).is_empty());
    assert_eq!(
        metric(&t, "tipline_desk_cards_off_duty").await,
        ["tipline_desk_cards_off_duty 0"]
    );
    let audited = t.redis_keys_holding("dlq_replay");
    assert!(
        audited.contains(&format!("{}:audit", t.ns())),
        "{audited:?}"
    );
    assert_eq!(
        replay(&shared, &id, "admin:test").await.unwrap(),
        Replay::Unknown,
        "a replay is done once"
    );

    // Later edits go to the card in the duty group.
    t.fake.push_update(
        serde_json::json!({"callback_query": {"id": "q1", "chat_instance": "-5",
        "from": {"id": 501, "is_bot": false, "first_name": "Hùng"},
        "data": format!("dk:ack:{code}"),
        "message": {"message_id": card, "date": 1_700_000_000, "text": "…",
            "chat": {"id": DUTY, "type": "supergroup", "title": "Trực ban"}}}}),
    );
    t.process_until_idle().await;
    let edits = t.fake.calls_of("editMessageText");
    assert!(
        edits
            .iter()
            .any(|e| e.chat_id() == Some(DUTY) && e.body["message_id"].as_i64() == card),
        "{edits:?}"
    );
}

#[tokio::test]
async fn a_card_refused_for_its_content_goes_to_its_duty_group_as_an_outline() {
    let t = app().await;
    t.fake.fail_next_to("sendMessage", DUTY, Fault::TooLong);
    let code = report(&t, 7102, 1).await;
    t.process_until_idle().await;
    let outline = said(&t, DUTY, &code);
    assert_eq!(outline.len(), 1, "{outline:?}");
    assert!(
        outline[0].contains("chỉ hiển thị thông tin tóm lược")
            && outline[0].contains("Xã/phường: Xã Thung Nai")
            && outline[0].contains("Nhận lúc:"),
        "{}",
        outline[0]
    );
    assert!(
        !outline[0].contains("bãi sông") && !outline[0].contains("0912345678"),
        "no content: {}",
        outline[0]
    );
    assert!(t.fake.calls_of("copyMessage").is_empty(), "no files either");
    assert!(t.fake.messages_to(SUPERVISORS).is_empty());
    assert_eq!(
        metric(&t, "tipline_desk_card_fallbacks_total").await,
        ["tipline_desk_card_fallbacks_total{reason=\"message_refused\",to=\"duty_outline\"} 1"]
    );
}

#[tokio::test]
async fn a_card_no_group_takes_is_dead_lettered_and_tip_posts_it_once_the_group_is_fixed() {
    let t = app().await;
    t.fake.refuse_chat(DUTY, Some(Fault::Kicked));
    t.fake.refuse_chat(SUPERVISORS, Some(Fault::ChatNotFound));
    let code = report(&t, 7103, 0).await;
    t.process_until_idle().await;

    // Given up at once (no retry can help), with the reason; raised on /metrics.
    let letters = desk_letters(&t);
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(
        letters[0].1,
        format!(
            "no group took the card: duty group {DUTY}: kicked; supervisors' group: chat_not_found"
        )
    );
    assert_eq!(
        metric(&t, "tipline_desk_card_fallbacks_total").await,
        ["tipline_desk_card_fallbacks_total{reason=\"kicked\",to=\"dead_letter\"} 1"]
    );
    assert_eq!(
        metric(&t, "tipline_desk_cards_off_duty").await,
        ["tipline_desk_cards_off_duty 1"]
    );

    // The bot is back in the duty group: an officer asks for the tip, which has no card yet.
    t.fake.refuse_chat(DUTY, None);
    group_says(&t, DUTY, 901, &format!("/tip {code}"));
    t.process_until_idle().await;
    assert_eq!(cards(&t, DUTY, &code), 1);
    assert_eq!(
        metric(&t, "tipline_desk_cards_off_duty").await,
        ["tipline_desk_cards_off_duty 0"]
    );

    // Its card exists now: replaying the dead letter posts no second one.
    let shared = t.app().shared.clone();
    let outcome = replay(&shared, &letters[0].0, "admin:test").await.unwrap();
    assert_eq!(outcome, Replay::Done);
    assert_eq!(cards(&t, DUTY, &code), 1, "no second card");
    assert!(desk_letters(&t).is_empty());
}

#[tokio::test]
async fn tip_in_a_group_that_is_not_the_tips_is_refused() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY;
        s.desk.supervisor_group = SUPERVISORS;
        s.desk.routes = vec![tipline::config::DeskRoute {
            group: -1_001_000_000_002,
            districts: vec![],
            communes: vec![],
            categories: vec!["theft".into()],
            unit: String::new(),
        }];
    })
    .await;
    let code = report(&t, 7104, 0).await;
    t.process_until_idle().await;
    group_says(&t, -1_001_000_000_002, 902, &format!("/tip {code}"));
    t.process_until_idle().await;
    assert_eq!(cards(&t, -1_001_000_000_002, &code), 0);
    assert_eq!(said(&t, -1_001_000_000_002, "Không tìm thấy").len(), 1);
}

#[tokio::test]
async fn the_sla_clock_runs_from_submit_even_for_a_tip_without_a_card() {
    let t = app().await;
    t.fake.refuse_chat(DUTY, Some(Fault::Kicked));
    t.fake.refuse_chat(SUPERVISORS, Some(Fault::Kicked));
    let code = report(&t, 7105, 0).await;
    t.process_until_idle().await;
    assert_eq!(desk_letters(&t).len(), 1, "no group took the card");

    // The duty group is fixed but nobody replays: the tip has no card, and its timer, started
    // at submit, still announces it there when its 30 minutes are up.
    t.fake.refuse_chat(DUTY, None);
    t.clock.advance(Duration::from_secs(29 * 60));
    t.fire_timers().await;
    assert!(said(&t, DUTY, &code).is_empty(), "not yet due");
    t.clock.advance(Duration::from_secs(2 * 60));
    t.fire_timers().await;
    let again = said(&t, DUTY, "chưa ai tiếp nhận");
    assert_eq!(again.len(), 1, "{again:?}");
    assert!(again[0].contains(&code) && again[0].contains("31 phút"));
}

#[tokio::test]
async fn a_card_posted_late_is_due_from_submit_not_from_when_it_was_posted() {
    let t = app().await;
    // Telegram fails for the duty group (502) for the first 25 minutes after submit.
    t.fake.refuse_chat(DUTY, Some(Fault::BadGateway));
    let code = report(&t, 7106, 0).await;
    t.fake
        .wait_until("a failed attempt", |calls| {
            calls
                .iter()
                .any(|c| c.method == "sendmessage!failed" && c.chat_id() == Some(DUTY))
        })
        .await;
    t.clock.advance(Duration::from_secs(25 * 60));
    t.fake.refuse_chat(DUTY, None);
    t.process_until_idle().await;
    assert_eq!(cards(&t, DUTY, &code), 1);

    // Six minutes after the card was posted, 31 after submit: due.
    t.clock.advance(Duration::from_secs(6 * 60));
    t.fire_timers().await;
    let again = said(&t, DUTY, "chưa ai tiếp nhận");
    assert_eq!(again.len(), 1, "{again:?}");
    assert!(again[0].contains(&code));
}

#[tokio::test]
async fn supervisors_can_act_on_a_fallback_card_and_dropping_its_letter_stops_the_alert() {
    let t = app().await;
    t.fake.refuse_chat(DUTY, Some(Fault::NoRights));
    let code = report(&t, 7107, 0).await;
    t.process_until_idle().await;
    let card = t.fake.messages_to(SUPERVISORS)[0].clone();
    assert!(
        card.text()
            .contains("bot không có quyền gửi tin nhắn trong nhóm"),
        "{}",
        card.text()
    );
    t.fake.push_update(
        serde_json::json!({"callback_query": {"id": "q2", "chat_instance": "-5",
        "from": {"id": 601, "is_bot": false, "first_name": "Lan"},
        "data": format!("dk:ack:{code}"),
        "message": {"message_id": card.message_id, "date": 1_700_000_000, "text": "…",
            "chat": {"id": SUPERVISORS, "type": "supergroup", "title": "Chỉ huy"}}}}),
    );
    t.process_until_idle().await;
    assert_eq!(t.tip(&code)["status"], "acknowledged");
    assert!(
        t.fake
            .calls_of("editMessageText")
            .iter()
            .any(|e| e.chat_id() == Some(SUPERVISORS)),
        "the fallback card shows who acknowledged"
    );

    // The operator decides the card stays with the supervisors: dropping its letter ends the
    // alert.
    let letters = desk_letters(&t);
    assert!(
        letters[0].1.starts_with("fallback: no_rights"),
        "{letters:?}"
    );
    let shared = t.app().shared.clone();
    assert!(
        tipline::desk::replay::drop_letter(&shared, &letters[0].0)
            .await
            .unwrap()
    );
    assert!(desk_letters(&t).is_empty());
    assert_eq!(
        metric(&t, "tipline_desk_cards_off_duty").await,
        ["tipline_desk_cards_off_duty 0"]
    );
}

/// Runs `tipline dlq --group desk <args>` as an operator would, against the test's Redis and
/// fake Telegram: (success, stdout, stderr).
async fn dlq_cli(t: &TestApp, args: &[&str]) -> (bool, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_tipline"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--config", "config/tipline.toml", "dlq", "--group", "desk"])
        .args(args)
        .env("TIPLINE__REDIS__URL", t.redis.url())
        .env("TIPLINE__TELEGRAM__API_URL", t.fake.url())
        .env("TIPLINE__DESK__ENABLED", "true")
        .env("TIPLINE__DESK__DEFAULT_GROUP", DUTY.to_string())
        .env("TIPLINE__DESK__SUPERVISOR_GROUP", SUPERVISORS.to_string())
        .env("TIPLINE__DESK__OFFICERS", "[501]")
        .env("TIPLINE_TELEGRAM_TOKEN", "123456:TEST-TOKEN")
        .env("TIPLINE_ALIAS_KEY", "test-alias-key-test-alias-key-test")
        .env("TIPLINE_ROUTE_KEY", "11".repeat(32))
        .env("RUST_LOG", "warn");
    // The fake Telegram runs on this test's runtime: wait for the process off it.
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_operator_lists_the_fallback_cards_and_replays_them_home_with_the_cli() {
    let t = app().await;
    t.fake.refuse_chat(DUTY, Some(Fault::ChatNotFound));
    let code = report(&t, 7108, 0).await;
    t.process_until_idle().await;
    assert_eq!(said(&t, SUPERVISORS, &code).len(), 1);

    let (ok, listed, _) = dlq_cli(&t, &["list"]).await;
    assert!(ok);
    assert!(
        listed.contains(&code) && listed.contains("fallback: chat_not_found"),
        "{listed}"
    );
    let (ok, _, err) = dlq_cli(&t, &["replay", "--all"]).await;
    assert!(!ok, "the group is still broken");
    assert!(err.contains("still refuses"), "{err}");

    t.fake.refuse_chat(DUTY, None);
    let (ok, out, err) = dlq_cli(&t, &["replay", "--all"]).await;
    assert!(ok, "{out}{err}");
    assert_eq!(cards(&t, DUTY, &code), 1);
    assert!(desk_letters(&t).is_empty());
}
