//! No one can silence the line (issue 13): replies the platform refuses for good end their
//! update instead of holding the intake.

use tipline::config::ReceiveMode;

use crate::support::{Fault, TestApp, receipt_code, spawn_app_with};

const DUTY_GROUP: i64 = -1_001_000_000_001;
/// A stranger's group the bot was added to, where it may not write.
const STRANGERS: i64 = -1_009_999_999_999;
const ADMIN: i64 = 4_242;

async fn app() -> TestApp {
    spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
        s.admin.users = vec![ADMIN as u64];
    })
    .await
}

fn group_command(t: &TestApp, group: i64, message_id: i64, text: &str) {
    let len = text.split(' ').next().unwrap_or_default().len();
    t.fake.push_update(serde_json::json!({"message": {
        "message_id": message_id, "date": 1_700_000_000,
        "from": {"id": 777, "is_bot": false, "first_name": "Kẻ lạ"},
        "chat": {"id": group, "type": "supergroup", "title": "Nhóm lạ"},
        "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len}]}}));
}

/// The `tipline_replies_refused_total` lines of `/metrics`, as Prometheus scrapes them.
async fn refused_metric(t: &TestApp) -> String {
    let text = t.scrape_metrics().await;
    text.lines()
        .filter(|l| l.starts_with("tipline_replies_refused_total{"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[tokio::test]
async fn three_hundred_commands_from_a_group_where_the_bot_may_not_write_do_not_hold_up_a_report() {
    let t = app().await;
    t.fake.refuse_chat(STRANGERS, Some(Fault::NoRights));
    for i in 0..300 {
        group_command(&t, STRANGERS, 10_000 + i, "/pending");
    }

    // A citizen reports while the 300 are worked: every step is answered, the receipt comes,
    // and the card reaches the duty group.
    let mut c = t.citizen(5_301);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses("com:thung-nai").await;
    c.says("Có người bán ma túy ở bãi sông").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).expect("a receipt");
    t.fake
        .wait_until("the card in the duty group", |calls| {
            calls.iter().any(|call| {
                call.method == "sendmessage"
                    && call.chat_id() == Some(DUTY_GROUP)
                    && call.text().contains(&code)
            })
        })
        .await;

    // The stranger's group was answered once (a refusal a chat gets at most once an hour),
    // Telegram refused that answer, and the refusal ended its update: nothing is left in the
    // inbox, nothing is retried.
    t.process_until_idle().await;
    let refusals = t
        .fake
        .calls()
        .iter()
        .filter(|call| call.method == "sendmessage!failed" && call.chat_id() == Some(STRANGERS))
        .count();
    assert_eq!(refusals, 1, "one answer per chat per hour, not retried");
    let metric = refused_metric(&t).await;
    assert!(
        metric.contains("audience=\"group\"")
            && metric.contains("reason=\"refused\"")
            && metric.trim_end().ends_with(" 1"),
        "{metric}"
    );
}

#[tokio::test]
async fn a_refused_reply_ends_its_update_and_is_counted() {
    let t = app().await;
    // A duty group where the bot lost the right to write: each answer is refused for good.
    t.fake.refuse_chat(DUTY_GROUP, Some(Fault::NoRights));
    for i in 0..20 {
        group_command(&t, DUTY_GROUP, 20_000 + i, "/stats");
    }
    t.process_until_idle().await;
    let refusals = t
        .fake
        .calls()
        .iter()
        .filter(|call| call.method == "sendmessage!failed" && call.chat_id() == Some(DUTY_GROUP))
        .count();
    assert_eq!(refusals, 20, "each command answered once, none retried");
    assert!(refused_metric(&t).await.trim_end().ends_with(" 20"));
    let mut c = t.citizen(5_303);
    assert!(!c.says("/start").await.is_empty(), "citizens are answered");
}

#[tokio::test]
async fn an_admin_who_blocked_the_bot_does_not_hold_up_the_intake() {
    let t = app().await;
    t.fake.refuse_chat(ADMIN, Some(Fault::Blocked));
    let admin = t.citizen(ADMIN);
    let update = admin.text_update("/stats");
    t.fake.push_update(update);
    t.process_until_idle().await;
    assert!(
        t.fake
            .calls()
            .iter()
            .any(|call| call.method.ends_with("!failed") && call.chat_id() == Some(ADMIN)),
        "the answer was tried"
    );

    let mut c = t.citizen(5_302);
    let replies = c.says("/start").await;
    assert!(!replies.is_empty(), "the next citizen is answered");
}

/// Telegram's `my_chat_member` update: the bot was added to `group` by someone.
fn bot_added(t: &TestApp, group: i64) {
    let bot = serde_json::json!({"id": 424_242, "is_bot": true, "first_name": "TipBot",
        "username": "tip_bot"});
    t.fake.push_update(serde_json::json!({"my_chat_member": {
        "chat": {"id": group, "type": "supergroup", "title": "Nhóm"},
        "from": {"id": 777, "is_bot": false, "first_name": "Kẻ lạ"},
        "date": 1_700_000_000,
        "old_chat_member": {"user": bot.clone(), "status": "left"},
        "new_chat_member": {"user": bot, "status": "member"}}}));
}

fn left(t: &TestApp) -> Vec<Option<i64>> {
    t.fake
        .calls()
        .iter()
        .filter(|c| c.method == "leavechat")
        .map(|c| c.chat_id())
        .collect()
}

#[tokio::test]
async fn the_bot_leaves_a_group_that_is_not_a_duty_group_and_stays_in_its_own() {
    let t = app().await;
    bot_added(&t, STRANGERS);
    bot_added(&t, DUTY_GROUP);
    t.process_until_idle().await;
    assert_eq!(left(&t), vec![Some(STRANGERS)]);
}

#[tokio::test]
async fn a_unit_can_have_the_bot_stay_silent_in_unknown_groups() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
        s.desk.leave_unknown_groups = false;
    })
    .await;
    bot_added(&t, STRANGERS);
    t.process_until_idle().await;
    assert!(left(&t).is_empty());
    assert!(
        t.fake.messages_to(STRANGERS).is_empty(),
        "nothing is said there either"
    );
}
