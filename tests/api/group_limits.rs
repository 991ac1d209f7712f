//! Commands in a duty group are limited per chat (issue 13): a script (or a stuck client) in a
//! duty group cannot keep the intake busy; the group gets `desk.commands_per_minute` answers a
//! minute, one notice, then silence.

use std::time::{Duration, Instant};

use tipline::config::ReceiveMode;

use crate::support::{TestApp, receipt_code, spawn_app_with};

const DUTY_GROUP: i64 = -1_001_000_000_001;

async fn app() -> TestApp {
    // The default limit: a real duty group never reaches it.
    spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
    })
    .await
}

fn command(t: &TestApp, message_id: i64, text: &str) {
    let len = text.split(' ').next().unwrap_or_default().len();
    t.fake.push_update(serde_json::json!({"message": {
        "message_id": message_id, "date": 1_700_000_000,
        "from": {"id": 501, "is_bot": false, "first_name": "Hùng"},
        "chat": {"id": DUTY_GROUP, "type": "supergroup", "title": "Trực ban"},
        "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len}]}}));
}

async fn metric(t: &TestApp, name: &str) -> String {
    let text = t.scrape_metrics().await;
    text.lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_hundred_commands_in_a_minute_get_thirty_answers_and_one_notice_and_a_report_goes_through()
 {
    let t = app().await;
    assert_eq!(t.settings.desk.commands_per_minute, 30);
    t.align_clock(60);
    for i in 0..100 {
        command(&t, 20_000 + i, "/stats");
    }

    // A citizen reports meanwhile: every step is answered and the receipt comes at once.
    let started = Instant::now();
    let mut c = t.citizen(5_401);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses("com:thung-nai").await;
    c.says("Có người bán ma túy ở bãi sông").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).expect("a receipt");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "the report took {took:?}");

    t.process_until_idle().await;
    let to_group: Vec<String> = t
        .fake
        .messages_to(DUTY_GROUP)
        .iter()
        .map(|m| m.text().to_owned())
        .filter(|text| !text.contains(&code))
        .collect();
    assert_eq!(to_group.len(), 31, "30 answers and one notice");
    let notices: Vec<_> = to_group
        .iter()
        .filter(|t| t.contains("quá nhiều lệnh"))
        .collect();
    assert_eq!(notices.len(), 1, "one notice");
    assert!(
        t.fake
            .messages_to(DUTY_GROUP)
            .iter()
            .any(|m| m.text().contains(&code)),
        "the card is posted"
    );
    assert_eq!(
        metric(&t, "tipline_group_commands_limited_total").await,
        "tipline_group_commands_limited_total 70"
    );

    // The next minute the group is answered again.
    t.clock.advance(Duration::from_secs(60));
    command(&t, 30_000, "/stats");
    t.process_until_idle().await;
    let last = t
        .fake
        .messages_to(DUTY_GROUP)
        .last()
        .unwrap()
        .text()
        .to_owned();
    assert!(last.contains("Thống kê"), "{last}");
}
