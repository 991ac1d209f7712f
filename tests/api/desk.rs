//! Officer cards: one per tip, in the routed group, with the files copied under it.

use tipline::config::{DeskRoute, ReceiveMode};

use crate::support::{Fault, TestApp, receipt_code, spawn_app_with, texts};

const DEFAULT_GROUP: i64 = -1_001_000_000_001;
const CAO_PHONG_DRUGS: i64 = -1_001_000_000_002;
const SUPERVISORS: i64 = -1_001_000_000_009;

async fn desk_app(minimal: bool) -> TestApp {
    spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DEFAULT_GROUP;
        s.desk.minimal_cards = minimal;
        s.desk.supervisor_group = SUPERVISORS;
        s.desk.routes = vec![DeskRoute {
            group: CAO_PHONG_DRUGS,
            districts: vec![],
            communes: vec!["cao-phong".into(), "muong-thang".into(), "thung-nai".into()],
            categories: vec!["drugs".into()],
            unit: String::new(),
        }];
    })
    .await
}

async fn report(t: &TestApp, id: i64, category: &str, commune: &str, photos: usize) -> String {
    let mut c = t.citizen(id);
    c.says("/report").await;
    c.presses(&format!("cat:{category}")).await;
    c.presses(&format!("com:{commune}")).await;
    c.says("Có người bán hàng cấm, số điện thoại 0912345678")
        .await;
    c.presses("go:next").await;
    for i in 0..photos {
        c.sends_photo(&format!("AgAD-{id}-{i}"), 1000, None).await;
    }
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    receipt_code(&c.presses("rv:send").await).unwrap()
}

async fn wait_cards(t: &TestApp, chat: i64, cards: usize, copies: usize) {
    t.fake
        .wait_until("cards and copies", |calls| {
            calls
                .iter()
                .filter(|c| c.method == "sendmessage" && c.chat_id() == Some(chat))
                .count()
                >= cards
                && calls
                    .iter()
                    .filter(|c| c.method == "copymessage" && c.chat_id() == Some(chat))
                    .count()
                    >= copies
        })
        .await;
    t.settle().await;
}

fn pending_desk_events(t: &TestApp) -> i64 {
    let summary: Vec<redis::Value> = redis::cmd("XPENDING")
        .arg(format!("{}:events", t.ns()))
        .arg("desk")
        .query(&mut t.redis())
        .unwrap();
    match &summary[0] {
        redis::Value::Int(n) => *n,
        other => panic!("{other:?}"),
    }
}

/// Waits until the desk has acknowledged every event it read.
async fn wait_desk_acked(t: &TestApp) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while pending_desk_events(t) != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "event never acknowledged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_tip_gets_one_card_in_the_routed_group_with_its_files_copied_under_it() {
    let t = desk_app(false).await;
    let code = report(&t, 6001, "drugs", "thung-nai", 2).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 2).await;

    let cards = t.fake.messages_to(CAO_PHONG_DRUGS);
    assert_eq!(cards.len(), 1, "{}", texts(&cards));
    let card = cards[0].text();
    assert!(card.contains(&format!("🟠 Tin báo {code}")), "{card}");
    assert!(card.contains("Loại: Ma túy"));
    assert!(card.contains("Địa điểm: Xã Thung Nai"));
    assert!(card.contains("Tệp đính kèm: 2"));
    assert!(card.contains("Người báo: ẩn danh"));
    assert!(card.contains("Có người bán hàng cấm"));
    assert!(
        !card.contains("Nguyễn") && !card.contains("6001"),
        "no identity: {card}"
    );

    let copies = t.fake.calls_of("copyMessage");
    assert_eq!(copies.len(), 2);
    for copy in &copies {
        assert_eq!(copy.chat_id(), Some(CAO_PHONG_DRUGS));
        assert_eq!(copy.body["from_chat_id"], 6001);
        assert_eq!(
            copy.body["reply_parameters"]["message_id"].as_i64(),
            cards[0].message_id,
            "files are replies to the card"
        );
    }
    assert!(
        t.fake.calls_of("forwardMessage").is_empty(),
        "never forwarded"
    );
    assert!(t.fake.messages_to(DEFAULT_GROUP).is_empty());
    wait_desk_acked(&t).await;
}

#[tokio::test]
async fn a_tip_no_route_matches_goes_to_the_default_group() {
    let t = desk_app(false).await;
    let code = report(&t, 6002, "theft", "thung-nai", 0).await;
    wait_cards(&t, DEFAULT_GROUP, 1, 0).await;
    let cards = t.fake.messages_to(DEFAULT_GROUP);
    assert_eq!(cards.len(), 1);
    assert!(cards[0].text().contains(&code));
    assert!(t.fake.messages_to(CAO_PHONG_DRUGS).is_empty());
}

#[tokio::test]
async fn minimal_cards_show_no_content_and_copy_no_files() {
    let t = desk_app(true).await;
    let code = report(&t, 6003, "drugs", "muong-thang", 1).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].text().to_owned();
    assert!(card.contains(&code), "{card}");
    assert!(card.contains("Xã/phường: Xã Mường Thàng"));
    assert!(card.contains("Mức độ: cao"));
    assert!(!card.contains("hàng cấm"), "no description: {card}");
    assert!(!card.contains("0912345678"));
    assert!(t.fake.calls_of("copyMessage").is_empty());
}

#[tokio::test]
async fn a_failing_copy_is_retried_without_a_second_card() {
    let t = desk_app(false).await;
    for _ in 0..4 {
        t.fake.fail_next("copyMessage", Fault::TooManyRequests(0));
    }
    report(&t, 6004, "drugs", "thung-nai", 2).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 2).await;
    assert_eq!(t.fake.messages_to(CAO_PHONG_DRUGS).len(), 1, "one card");
    assert_eq!(
        t.fake.calls_of("copyMessage").len(),
        2,
        "each file copied once"
    );
    assert_eq!(t.fake.calls_of("copyMessage!failed").len(), 4);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while pending_desk_events(&t) != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "event never acknowledged"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn officer_press(group: i64, officer: i64, name: &str, card: i64, data: &str) -> serde_json::Value {
    serde_json::json!({"callback_query": {"id": format!("q{officer}-{card}"), "chat_instance": "-5",
        "from": {"id": officer, "is_bot": false, "first_name": name},
        "data": data,
        "message": {"message_id": card, "date": 1_700_000_000, "text": "…",
            "from": {"id": 999, "is_bot": true, "first_name": "TipBot", "username": "tip_bot"},
            "chat": {"id": group, "type": "supergroup", "title": "Trực ban"}}}})
}

fn answers(t: &TestApp) -> Vec<String> {
    t.fake
        .calls_of("answerCallbackQuery")
        .iter()
        .filter_map(|c| c.body["text"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn acknowledging_edits_the_card_and_the_citizen_sees_the_status() {
    let t = desk_app(false).await;
    let code = report(&t, 6101, "drugs", "thung-nai", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].clone();
    assert_eq!(
        card.buttons(),
        vec![
            format!("dk:ack:{code}"),
            format!("dk:claim:{code}"),
            format!("dk:closemenu:{code}"),
            format!("dk:ask:{code}"),
            format!("dk:esc:{code}")
        ]
    );

    t.fake.push_update(officer_press(
        CAO_PHONG_DRUGS,
        501,
        "Hùng",
        card.message_id.unwrap(),
        &format!("dk:ack:{code}"),
    ));
    t.fake
        .wait_until("the card edited", |calls| {
            calls.iter().any(|c| c.method == "editmessagetext")
        })
        .await;
    t.settle().await;
    let edit = &t.fake.calls_of("editMessageText")[0];
    assert_eq!(edit.chat_id(), Some(CAO_PHONG_DRUGS));
    assert_eq!(edit.body["message_id"].as_i64(), card.message_id);
    assert!(edit.text().contains(&code));
    assert!(
        edit.text().contains("✅ Đã tiếp nhận: Hùng"),
        "{}",
        edit.text()
    );
    assert_eq!(
        edit.buttons(),
        vec![
            format!("dk:claim:{code}"),
            format!("dk:closemenu:{code}"),
            format!("dk:ask:{code}"),
            format!("dk:esc:{code}")
        ],
        "no Acknowledge button any more"
    );
    assert_eq!(answers(&t), vec!["Đã tiếp nhận tin báo."]);

    let events = t.events();
    assert_eq!(events[1]["type"], "acknowledged");
    assert_eq!(events[1]["seq"], "2");
    assert!(
        events[1]["actor"].starts_with("officer:o"),
        "{:?}",
        events[1]
    );
    assert!(!events[1]["actor"].contains("501"));
    assert!(
        !events[1].contains_key("ack_by") && !events[1].values().any(|v| v.contains("Hùng")),
        "events name officers by alias only: {:?}",
        events[1]
    );
    assert_eq!(t.tip(&code)["status"], "acknowledged");

    let mut c = t.citizen(6101);
    c.new_messages();
    let r = c.says(&format!("/status {code}")).await;
    let status_line = format!("Tin báo {code} (gửi lúc");
    assert!(
        r.iter()
            .any(|m| m.text().contains(&status_line) && m.text().contains("cán bộ đã nhận tin")),
        "{}",
        texts(&r)
    );
}

#[tokio::test]
async fn two_officers_pressing_at_once_give_one_acknowledgement() {
    let t = desk_app(false).await;
    let code = report(&t, 6102, "drugs", "thung-nai", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].message_id.unwrap();
    let data = format!("dk:ack:{code}");
    t.fake
        .push_update(officer_press(CAO_PHONG_DRUGS, 501, "Hùng", card, &data));
    t.fake
        .push_update(officer_press(CAO_PHONG_DRUGS, 502, "Lan", card, &data));
    t.settle().await;
    let mut got = answers(&t);
    got.sort();
    assert_eq!(
        got,
        vec![
            "Tin báo này đã có người tiếp nhận trước.",
            "Đã tiếp nhận tin báo."
        ]
    );
    let acks = t
        .events()
        .iter()
        .filter(|e| e["type"] == "acknowledged")
        .count();
    assert_eq!(acks, 1);
}

#[tokio::test]
async fn presses_from_other_chats_or_unlisted_officers_are_refused() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DEFAULT_GROUP;
        s.desk.officers = vec![501];
    })
    .await;
    let code = report(&t, 6103, "theft", "thung-nai", 0).await;
    wait_cards(&t, DEFAULT_GROUP, 1, 0).await;
    let card = t.fake.messages_to(DEFAULT_GROUP)[0].message_id.unwrap();
    let data = format!("dk:ack:{code}");
    t.fake
        .push_update(officer_press(-100_999, 501, "Hùng", card, &data));
    t.settle().await;
    t.fake
        .push_update(officer_press(DEFAULT_GROUP, 777, "Khách", card, &data));
    t.settle().await;
    assert_eq!(
        answers(&t),
        vec![
            "Nhóm này không phải nhóm trực được cấu hình; thao tác bị từ chối.",
            "Chỉ cán bộ có trong danh sách mới được thao tác trên thẻ tin báo; thao tác bị từ chối."
        ]
    );
    assert_eq!(t.tip(&code)["status"], "submitted");
    assert_eq!(t.events().len(), 1);
    t.fake
        .push_update(officer_press(DEFAULT_GROUP, 501, "Hùng", card, &data));
    t.settle().await;
    assert_eq!(t.tip(&code)["status"], "acknowledged");
}

#[tokio::test]
async fn the_citizen_is_told_once_when_their_tip_is_acknowledged() {
    let t = desk_app(false).await;
    let code = report(&t, 6104, "drugs", "thung-nai", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].message_id.unwrap();
    let mut c = t.citizen(6104);
    c.new_messages();
    let before = t.fake.messages_to(6104).len();
    t.fake.push_update(officer_press(
        CAO_PHONG_DRUGS,
        501,
        "Hùng",
        card,
        &format!("dk:ack:{code}"),
    ));
    t.fake
        .wait_until("the notice", |_| t.fake.messages_to(6104).len() > before)
        .await;
    t.settle().await;
    let r = c.new_messages();
    assert_eq!(r.len(), 1, "{}", texts(&r));
    assert!(
        r[0].text()
            .contains(&format!("Tin báo {code} của bạn đã được cán bộ tiếp nhận"))
    );
    assert!(
        !r[0].text().contains("Hùng"),
        "no officer name reaches the citizen"
    );
}

#[tokio::test]
async fn a_citizen_who_blocked_the_bot_is_marked_unreachable_not_retried() {
    let t = desk_app(false).await;
    let code = report(&t, 6105, "drugs", "thung-nai", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].message_id.unwrap();
    t.fake.fail_next("sendMessage", Fault::Blocked);
    t.fake.push_update(officer_press(
        CAO_PHONG_DRUGS,
        501,
        "Hùng",
        card,
        &format!("dk:ack:{code}"),
    ));
    t.fake
        .wait_until("the blocked notice", |calls| {
            calls.iter().any(|c| c.method == "sendmessage!failed")
        })
        .await;
    let key = format!("{}:unreachable:", t.ns());
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while t.redis_keys_holding(&key).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never marked unreachable"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // The mark is written before the event is acknowledged: wait for the work to finish (a
    // retried event would keep the notifier busy and fail this wait).
    t.process_until_idle().await;
    let pending: Vec<redis::Value> = redis::cmd("XPENDING")
        .arg(format!("{}:events", t.ns()))
        .arg("notify")
        .query(&mut t.redis())
        .unwrap();
    assert_eq!(
        pending[0],
        redis::Value::Int(0),
        "the event is done, not retried"
    );
    assert_eq!(t.fake.calls_of("sendMessage!failed").len(), 1);
    // Writing again clears the mark.
    t.citizen(6105).says("/help").await;
    assert!(t.redis_keys_holding(&key).is_empty());
}

#[tokio::test]
async fn claim_then_close_with_a_disposition_updates_the_card_and_tells_the_citizen_safely() {
    let t = desk_app(false).await;
    let code = report(&t, 6106, "drugs", "thung-nai", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].message_id.unwrap();
    let press = |officer: i64, name: &str, data: String| {
        t.fake
            .push_update(officer_press(CAO_PHONG_DRUGS, officer, name, card, &data));
    };

    press(501, "Hùng", format!("dk:claim:{code}"));
    t.settle().await;
    t.fake
        .wait_until("the claimed card", |calls| {
            calls
                .iter()
                .any(|c| c.method == "editmessagetext" && c.text().contains("Đang xử lý: Hùng"))
        })
        .await;

    // Close: the buttons turn into the dispositions, then one is chosen.
    press(502, "Lan", format!("dk:closemenu:{code}"));
    t.settle().await;
    let menu = t.fake.calls_of("editMessageReplyMarkup");
    let menu = menu.last().unwrap();
    assert_eq!(menu.chat_id(), Some(CAO_PHONG_DRUGS));
    assert!(
        menu.buttons()
            .contains(&format!("dk:close:{code}:unfounded")),
        "{:?}",
        menu.buttons()
    );
    assert!(menu.buttons().contains(&format!("dk:back:{code}")));

    let before = t.fake.messages_to(6106).len();
    press(502, "Lan", format!("dk:close:{code}:unfounded"));
    t.settle().await;
    t.fake
        .wait_until("the closed card and the notice", |calls| {
            calls
                .iter()
                .any(|c| c.method == "editmessagetext" && c.text().contains("Đã đóng"))
                && t.fake.messages_to(6106).len() > before
        })
        .await;
    let edits = t.fake.calls_of("editMessageText");
    let last = edits.last().unwrap();
    assert!(
        last.text().contains("🙋 Đang xử lý: Hùng"),
        "{}",
        last.text()
    );
    assert!(
        last.text().contains("🔒 Đã đóng: Không có cơ sở – Lan"),
        "{}",
        last.text()
    );
    assert!(last.buttons().is_empty(), "a closed card has no buttons");
    assert_eq!(t.tip(&code)["status"], "closed");

    let notice = t.fake.messages_to(6106).last().unwrap().text().to_owned();
    assert!(
        notice.contains(&format!(
            "Tin báo {code} của bạn đã được xem xét và khép lại"
        )),
        "{notice}"
    );
    assert!(
        !notice.contains("Không có cơ sở") && !notice.contains("Lan"),
        "no disposition or officer: {notice}"
    );

    // A late press on the old buttons changes nothing.
    press(501, "Hùng", format!("dk:close:{code}:spam"));
    t.settle().await;
    assert_eq!(answers(&t).last().unwrap(), "Tin báo này đã được đóng.");
    let kinds: Vec<String> = t.events().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(kinds, ["submitted", "claimed", "closed"]);
    assert_eq!(t.events()[2]["disposition"], "unfounded");

    // Both actions are in the audit trail, chained, naming the officers by alias only.
    let store = tipline::store::Store::connect(&t.redis.url(), t.ns())
        .await
        .unwrap();
    let key = crate::support::AUDIT_KEY.as_bytes();
    let intact = tipline::audit::verify(&store, key, None).await.unwrap();
    assert_eq!(intact.map(|i| i.records), Ok(2));
    let trail = t.redis_keys_holding("unfounded");
    assert!(trail.contains(&format!("{}:audit", t.ns())), "{trail:?}");
    assert!(
        t.redis_keys_holding("Lan")
            .iter()
            .all(|k| !k.ends_with(":audit"))
    );
}

async fn wait_message(t: &TestApp, chat: i64, needle: &str) {
    t.fake
        .wait_until(needle, |calls| {
            calls.iter().any(|c| {
                c.method == "sendmessage" && c.chat_id() == Some(chat) && c.text().contains(needle)
            })
        })
        .await;
}

#[tokio::test]
async fn an_unacknowledged_tip_is_announced_again_then_escalated() {
    let t = desk_app(false).await;
    let code = report(&t, 6201, "drugs", "thung-nai", 0).await; // high: 30 minutes
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].message_id;

    t.clock.advance(std::time::Duration::from_secs(29 * 60));
    t.fire_timers().await;
    assert_eq!(t.fake.messages_to(CAO_PHONG_DRUGS).len(), 1, "not yet due");

    t.clock.advance(std::time::Duration::from_secs(2 * 60));
    wait_message(&t, CAO_PHONG_DRUGS, "chưa ai tiếp nhận").await;
    let again = t.fake.messages_to(CAO_PHONG_DRUGS)[1].clone();
    assert!(again.text().contains(&code), "{}", again.text());
    assert_eq!(again.body["reply_parameters"]["message_id"].as_i64(), card);
    assert!(t.fake.messages_to(SUPERVISORS).is_empty());

    t.clock.advance(std::time::Duration::from_secs(30 * 60));
    wait_message(&t, SUPERVISORS, "Báo cáo chỉ huy").await;
    let escalated = &t.fake.messages_to(SUPERVISORS)[0];
    assert!(escalated.text().contains(&code));
    assert!(
        escalated.text().contains("Loại: Ma túy"),
        "the card comes along"
    );
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !t.events().iter().any(|e| e["type"] == "escalated") {
        assert!(tokio::time::Instant::now() < deadline, "no escalated event");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Nothing more fires later.
    t.clock.advance(std::time::Duration::from_secs(24 * 3600));
    t.fire_timers().await;
    assert_eq!(t.fake.messages_to(SUPERVISORS).len(), 1);
    assert_eq!(t.fake.messages_to(CAO_PHONG_DRUGS).len(), 2);
}

#[tokio::test]
async fn an_acknowledged_tip_is_not_announced_again() {
    let t = desk_app(false).await;
    let code = report(&t, 6202, "drugs", "thung-nai", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].message_id.unwrap();
    t.fake.push_update(officer_press(
        CAO_PHONG_DRUGS,
        501,
        "Hùng",
        card,
        &format!("dk:ack:{code}"),
    ));
    t.settle().await;
    t.clock.advance(std::time::Duration::from_secs(3 * 3600));
    t.fire_timers().await;
    assert_eq!(t.fake.messages_to(CAO_PHONG_DRUGS).len(), 1);
    assert!(t.fake.messages_to(SUPERVISORS).is_empty());
}

#[tokio::test]
async fn sla_timers_survive_a_restart() {
    let mut t = desk_app(false).await;
    let code = report(&t, 6203, "drugs", "thung-nai", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    t.kill();
    t.clock.advance(std::time::Duration::from_secs(31 * 60));
    t.start().await;
    wait_message(&t, CAO_PHONG_DRUGS, "chưa ai tiếp nhận").await;
    assert!(
        t.fake.messages_to(CAO_PHONG_DRUGS)[1]
            .text()
            .contains(&code)
    );
}

fn group_says(t: &TestApp, group: i64, officer: i64, text: &str) {
    let len = text.split(' ').next().unwrap().len();
    t.fake.push_update(
        serde_json::json!({"message": {"message_id": 900, "date": 1_700_000_000,
        "from": {"id": officer, "is_bot": false, "first_name": "Hùng"},
        "chat": {"id": group, "type": "supergroup", "title": "Trực ban"},
        "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len}]}}),
    );
}

#[tokio::test]
async fn pending_tip_and_stats_commands_answer_in_the_duty_group() {
    let t = desk_app(false).await;
    let first = report(&t, 6301, "drugs", "thung-nai", 0).await;
    let second = report(&t, 6302, "drugs", "muong-thang", 0).await;
    let third = report(&t, 6303, "drugs", "cao-phong", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 3, 0).await;
    let cards = t.fake.messages_to(CAO_PHONG_DRUGS);
    let card_of = |code: &str| {
        cards
            .iter()
            .find(|c| c.text().contains(code))
            .unwrap()
            .message_id
            .unwrap()
    };
    t.fake.push_update(officer_press(
        CAO_PHONG_DRUGS,
        501,
        "Hùng",
        card_of(&second),
        &format!("dk:ack:{second}"),
    ));
    t.fake.push_update(officer_press(
        CAO_PHONG_DRUGS,
        501,
        "Hùng",
        card_of(&third),
        &format!("dk:close:{third}:spam"),
    ));
    t.settle().await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while t.fake.calls_of("editMessageText").len() < 2 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    group_says(&t, CAO_PHONG_DRUGS, 501, "/pending");
    wait_message(&t, CAO_PHONG_DRUGS, "tin báo đang mở").await;
    let list = t
        .fake
        .messages_to(CAO_PHONG_DRUGS)
        .last()
        .unwrap()
        .text()
        .to_owned();
    assert!(list.starts_with("📋 2 tin báo đang mở"), "{list}");
    let (a, b) = (list.find(&first).unwrap(), list.find(&second).unwrap());
    assert!(a < b, "oldest first: {list}");
    assert!(
        list.contains("CHƯA TIẾP NHẬN") && list.contains("đã tiếp nhận"),
        "{list}"
    );
    assert!(
        !list.contains(&third),
        "closed tips are not pending: {list}"
    );

    group_says(&t, CAO_PHONG_DRUGS, 501, "/stats@tip_bot");
    wait_message(&t, CAO_PHONG_DRUGS, "Thống kê").await;
    let stats = t
        .fake
        .messages_to(CAO_PHONG_DRUGS)
        .last()
        .unwrap()
        .text()
        .to_owned();
    assert!(stats.contains("Tin báo hôm nay: 3"), "{stats}");
    assert!(stats.contains("Đang mở trong nhóm này: 2"), "{stats}");

    group_says(
        &t,
        CAO_PHONG_DRUGS,
        501,
        &format!("/tip {}", first.to_lowercase()),
    );
    t.fake
        .wait_until("the card again", |calls| {
            calls
                .iter()
                .filter(|c| {
                    c.method == "sendmessage"
                        && c.chat_id() == Some(CAO_PHONG_DRUGS)
                        && c.text().contains(&format!("Tin báo {first}"))
                })
                .count()
                == 2
        })
        .await;
    let again = t.fake.messages_to(CAO_PHONG_DRUGS).last().unwrap().clone();
    assert_eq!(again.buttons()[0], format!("dk:ack:{first}"));
    // Later changes edit the new card.
    t.fake.push_update(officer_press(
        CAO_PHONG_DRUGS,
        501,
        "Hùng",
        again.message_id.unwrap(),
        &format!("dk:ack:{first}"),
    ));
    t.fake
        .wait_until("the new card edited", |calls| {
            calls.iter().any(|c| {
                c.method == "editmessagetext" && c.body["message_id"].as_i64() == again.message_id
            })
        })
        .await;

    // Elsewhere: refused, no content.
    group_says(&t, -100_555, 501, "/pending");
    wait_message(&t, -100_555, "không phải nhóm trực").await;
    group_says(&t, CAO_PHONG_DRUGS, 501, "/tip TB-ZZZZ-ZZZZ");
    wait_message(&t, CAO_PHONG_DRUGS, "Không tìm thấy tin báo này").await;
}

fn officer_replies(t: &TestApp, group: i64, officer: i64, to: i64, text: &str) {
    t.fake.push_update(
        serde_json::json!({"message": {"message_id": 7000 + to, "date": 1_700_000_000,
        "from": {"id": officer, "is_bot": false, "first_name": "Hùng"},
        "chat": {"id": group, "type": "supergroup", "title": "Trực ban"},
        "text": text,
        "reply_to_message": {"message_id": to, "date": 1_700_000_000, "text": "…",
            "from": {"id": 999, "is_bot": true, "first_name": "TipBot", "username": "tip_bot"},
            "chat": {"id": group, "type": "supergroup", "title": "Trực ban"}}}}),
    );
}

#[tokio::test]
async fn an_officer_asks_and_the_citizen_answers_without_either_seeing_the_other() {
    let t = desk_app(false).await;
    let code = report(&t, 6401, "drugs", "thung-nai", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].message_id.unwrap();
    let mut c = t.citizen(6401);
    c.new_messages();

    t.fake.push_update(officer_press(
        CAO_PHONG_DRUGS,
        501,
        "Hùng",
        card,
        &format!("dk:ask:{code}"),
    ));
    t.settle().await;
    assert!(
        answers(&t)[0].contains("Trả lời"),
        "the Ask button explains how"
    );
    officer_replies(&t, CAO_PHONG_DRUGS, 501, card, "Người bán thường đi xe gì?");
    t.fake
        .wait_until("the question", |_| {
            t.fake
                .messages_to(6401)
                .iter()
                .any(|m| m.text().contains("Người bán thường đi xe gì?"))
        })
        .await;
    wait_message(&t, CAO_PHONG_DRUGS, "Đã chuyển câu hỏi").await;
    t.settle().await;
    let r = c.new_messages();
    let question = r
        .iter()
        .find(|m| m.text().contains("Cán bộ trực hỏi"))
        .unwrap();
    assert!(question.text().contains(&code));
    assert!(
        !question.text().contains("Hùng") && !question.text().contains("501"),
        "{}",
        question.text()
    );
    assert_eq!(question.buttons(), vec!["qa:done"]);

    let r = c.says("Xe Wave màu xanh, biển 28B1").await;
    assert!(
        r[0].text().contains("Đã chuyển câu trả lời"),
        "{}",
        texts(&r)
    );
    wait_message(&t, CAO_PHONG_DRUGS, "Xe Wave màu xanh").await;
    let relayed = t
        .fake
        .messages_to(CAO_PHONG_DRUGS)
        .into_iter()
        .find(|m| m.text().contains("Xe Wave màu xanh"))
        .unwrap();
    assert!(relayed.text().contains("Người báo trả lời"));
    assert_eq!(
        relayed.body["reply_parameters"]["message_id"].as_i64(),
        Some(card)
    );
    assert!(!relayed.text().contains("6401") && !relayed.text().contains("Nguyễn"));

    // The officer can reply to the relayed answer too.
    officer_replies(
        &t,
        CAO_PHONG_DRUGS,
        501,
        relayed.message_id.unwrap(),
        "Khoảng mấy giờ?",
    );
    t.fake
        .wait_until("the second question", |_| {
            t.fake
                .messages_to(6401)
                .iter()
                .any(|m| m.text().contains("Khoảng mấy giờ?"))
        })
        .await;
    t.settle().await;
    c.new_messages();

    let r = c.presses("qa:done").await;
    assert!(
        r[0].text().contains("Đã kết thúc phần trả lời"),
        "{}",
        texts(&r)
    );
    let r = c.says("xin chào").await;
    assert!(
        r[0].text().contains("/report"),
        "back to the usual conversation: {}",
        texts(&r)
    );

    let kinds: Vec<String> = t.events().iter().map(|e| e["type"].clone()).collect();
    assert_eq!(
        kinds,
        [
            "submitted",
            "info_requested",
            "citizen_replied",
            "info_requested"
        ]
    );
    assert_eq!(t.events()[2]["text"], "Xe Wave màu xanh, biển 28B1");
    assert!(t.events()[1]["actor"].starts_with("officer:o"));

    // After closing, a question is refused.
    t.fake.push_update(officer_press(
        CAO_PHONG_DRUGS,
        501,
        "Hùng",
        card,
        &format!("dk:close:{code}:handled"),
    ));
    t.settle().await;
    officer_replies(&t, CAO_PHONG_DRUGS, 501, card, "Còn gì nữa không?");
    wait_message(&t, CAO_PHONG_DRUGS, "đã đóng; câu hỏi không được chuyển").await;
}

/// Issue 13: an officer who deletes their question before the bot answers it, and an admin
/// who deletes a card, do not lose anything: the answers go without the reply (Telegram
/// would refuse "message to be replied not found"), and the intake goes on.
#[tokio::test]
async fn a_deleted_question_or_card_does_not_lose_the_answer_or_hold_the_intake() {
    let t = desk_app(false).await;
    let code = report(&t, 6402, "drugs", "thung-nai", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].message_id.unwrap();
    let mut c = t.citizen(6402);
    c.new_messages();

    // The officer's question (message 7000 + card) is deleted before the bot answers it.
    t.fake.delete_message(CAO_PHONG_DRUGS, 7000 + card);
    officer_replies(&t, CAO_PHONG_DRUGS, 501, card, "Ở số nhà mấy?");
    wait_message(&t, CAO_PHONG_DRUGS, "Đã chuyển câu hỏi").await;
    let told = t
        .fake
        .messages_to(CAO_PHONG_DRUGS)
        .into_iter()
        .find(|m| m.text().contains("Đã chuyển câu hỏi"))
        .unwrap();
    assert_eq!(
        told.body["reply_parameters"]["allow_sending_without_reply"],
        serde_json::json!(true)
    );
    t.fake
        .wait_until("the question", |_| {
            t.fake
                .messages_to(6402)
                .iter()
                .any(|m| m.text().contains("Ở số nhà mấy?"))
        })
        .await;
    t.settle().await;
    c.new_messages();

    // An admin deletes the card; the citizen's answer still reaches the group.
    t.fake.delete_message(CAO_PHONG_DRUGS, card);
    c.says("Số 12, ngõ 3").await;
    wait_message(&t, CAO_PHONG_DRUGS, "Số 12, ngõ 3").await;
    assert!(
        !t.fake.calls().iter().any(|c| c.method.ends_with("!failed")),
        "nothing was refused"
    );

    // And the line goes on: the next citizen gets their receipt.
    let next = report(&t, 6403, "theft", "thung-nai", 0).await;
    assert_ne!(next, code);
}

#[tokio::test]
async fn escalating_by_hand_posts_the_card_to_the_supervisors_once() {
    let t = desk_app(false).await;
    let code = report(&t, 6501, "drugs", "thung-nai", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].message_id.unwrap();
    let esc = format!("dk:esc:{code}");
    t.fake
        .push_update(officer_press(CAO_PHONG_DRUGS, 501, "Hùng", card, &esc));
    t.settle().await;
    t.fake
        .push_update(officer_press(CAO_PHONG_DRUGS, 502, "Lan", card, &esc));
    t.settle().await;
    let up = t.fake.messages_to(SUPERVISORS);
    assert_eq!(up.len(), 1, "{}", texts(&up));
    assert!(
        up[0]
            .text()
            .contains(&format!("Hùng chuyển báo cáo chỉ huy: tin báo {code}")),
        "{}",
        up[0].text()
    );
    assert!(up[0].text().contains("Loại: Ma túy"));
    assert_eq!(
        answers(&t),
        vec![
            "Đã báo cáo chỉ huy.",
            "Tin báo này đã được báo cáo chỉ huy."
        ]
    );
    assert_eq!(
        t.events()
            .iter()
            .filter(|e| e["type"] == "escalated")
            .count(),
        1
    );
    // The SLA timer later adds nothing.
    t.clock.advance(std::time::Duration::from_secs(2 * 3600));
    wait_message(&t, CAO_PHONG_DRUGS, "chưa ai tiếp nhận").await;
    t.fire_timers().await;
    assert_eq!(t.fake.messages_to(SUPERVISORS).len(), 1);
}

#[tokio::test]
async fn a_burst_of_200_tips_under_telegram_429s_gets_every_card_exactly_once() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DEFAULT_GROUP;
        s.limits.messages_per_minute = 1000;
        // Every card by itself: no summary card for 200 new citizens (tests/api/limits.rs).
        s.limits.new_citizens_per_hour = 1000;
        s.limits.new_citizens_per_commune_per_hour = 1000;
    })
    .await;
    for _ in 0..40 {
        t.fake.fail_next("sendMessage", Fault::TooManyRequests(0));
    }
    let reports: Vec<_> = (0..200)
        .map(|i| crate::support::report_updates(8000 + i))
        .collect();
    for step in 0..reports[0].len() {
        for r in &reports {
            t.fake.push_update(r[step].0.clone());
        }
    }
    t.settle().await;
    let codes = t.tip_codes();
    assert_eq!(codes.len(), 200);
    t.fake
        .wait_until("200 cards", |calls| {
            calls
                .iter()
                .filter(|c| c.method == "sendmessage" && c.chat_id() == Some(DEFAULT_GROUP))
                .count()
                >= 200
        })
        .await;
    wait_desk_acked(&t).await;
    let cards = t.fake.messages_to(DEFAULT_GROUP);
    assert_eq!(cards.len(), 200, "no card twice");
    for code in &codes {
        let n = cards
            .iter()
            .filter(|c| c.text().contains(code.as_str()))
            .count();
        assert_eq!(n, 1, "{code}");
    }
    assert_eq!(
        t.fake.calls_of("sendMessage!failed").len(),
        40,
        "the 429s were hit"
    );
}

#[tokio::test]
async fn a_group_that_became_a_supergroup_keeps_working() {
    const NEW: i64 = -1_009_999_000_002;
    let t = desk_app(false).await;
    // Telegram answers the first card with "upgraded to a supergroup".
    t.fake
        .fail_next_to("sendMessage", CAO_PHONG_DRUGS, Fault::Migrated(NEW));
    let code = report(&t, 6601, "drugs", "thung-nai", 0).await;
    t.fake
        .wait_until("the card in the supergroup", |calls| {
            calls.iter().any(|c| {
                c.method == "sendmessage" && c.chat_id() == Some(NEW) && c.text().contains(&code)
            })
        })
        .await;
    let card = t.fake.messages_to(NEW)[0].message_id.unwrap();
    // Presses and commands from the supergroup count as the configured group's.
    t.fake.push_update(officer_press(
        NEW,
        501,
        "Hùng",
        card,
        &format!("dk:ack:{code}"),
    ));
    t.settle().await;
    assert_eq!(t.tip(&code)["status"], "acknowledged");
    group_says(&t, NEW, 501, "/pending");
    wait_message(&t, NEW, "tin báo đang mở").await;

    // Later cards go straight to the new id; a service message is recorded the same way.
    let next = report(&t, 6602, "drugs", "thung-nai", 0).await;
    wait_message(&t, NEW, &next).await;
    assert!(t.fake.messages_to(CAO_PHONG_DRUGS).is_empty());
}

#[tokio::test]
async fn a_migration_service_message_is_recorded() {
    const NEW: i64 = -1_009_999_000_003;
    let t = desk_app(false).await;
    t.fake.push_update(
        serde_json::json!({"message": {"message_id": 1, "date": 1_700_000_000,
        "chat": {"id": CAO_PHONG_DRUGS, "type": "group", "title": "Trực ban"},
        "from": {"id": 501, "is_bot": false, "first_name": "Hùng"},
        "migrate_to_chat_id": NEW}}),
    );
    t.settle().await;
    let code = report(&t, 6603, "drugs", "thung-nai", 0).await;
    wait_message(&t, NEW, &code).await;
    assert!(t.fake.messages_to(CAO_PHONG_DRUGS).is_empty());
}

#[tokio::test]
async fn a_duty_group_cannot_act_on_another_groups_tip() {
    let t = desk_app(false).await;
    let routed = report(&t, 6701, "drugs", "thung-nai", 0).await; // Cao Phong drugs group
    let other = report(&t, 6702, "theft", "thung-nai", 0).await; // default group
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    wait_cards(&t, DEFAULT_GROUP, 1, 0).await;
    let default_card = t.fake.messages_to(DEFAULT_GROUP)[0].message_id.unwrap();
    // Made-up callback data on the default group's card, naming the other group's tip.
    t.fake.push_update(officer_press(
        DEFAULT_GROUP,
        501,
        "Hùng",
        default_card,
        &format!("dk:close:{routed}:spam"),
    ));
    t.settle().await;
    assert_eq!(answers(&t), vec!["Nút này không còn dùng được."]);
    assert_eq!(t.tip(&routed)["status"], "submitted");
    assert_eq!(t.tip(&other)["status"], "submitted");
}

#[tokio::test]
async fn a_question_that_cannot_reach_the_citizen_is_reported_under_the_card() {
    let t = desk_app(false).await;
    let code = report(&t, 6801, "drugs", "thung-nai", 0).await;
    wait_cards(&t, CAO_PHONG_DRUGS, 1, 0).await;
    let card = t.fake.messages_to(CAO_PHONG_DRUGS)[0].message_id.unwrap();
    t.fake.fail_next_to("sendMessage", 6801, Fault::Blocked);
    officer_replies(
        &t,
        CAO_PHONG_DRUGS,
        501,
        card,
        "Anh có thấy biển số xe không?",
    );
    wait_message(&t, CAO_PHONG_DRUGS, "Không chuyển được câu hỏi").await;
    let note = t
        .fake
        .messages_to(CAO_PHONG_DRUGS)
        .into_iter()
        .find(|m| m.text().contains("Không chuyển được"))
        .unwrap();
    assert!(note.text().contains(&code));
    assert_eq!(
        note.body["reply_parameters"]["message_id"].as_i64(),
        Some(card)
    );
}

#[tokio::test]
async fn a_minimal_card_can_show_an_excerpt_with_personal_data_blanked_out() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DEFAULT_GROUP;
        s.desk.minimal_cards = true;
        s.desk.minimal_excerpt_chars = 200;
    })
    .await;
    let code = report(&t, 6013, "drugs", "muong-thang", 0).await;
    wait_cards(&t, DEFAULT_GROUP, 1, 0).await;
    let card = t.fake.messages_to(DEFAULT_GROUP)[0].text().to_owned();
    assert!(card.contains(&code), "{card}");
    assert!(
        card.contains("Có người bán hàng cấm, số điện thoại [SĐT]"),
        "{card}"
    );
    assert!(!card.contains("0912345678"), "{card}");
}

#[tokio::test]
async fn a_card_telegram_keeps_refusing_does_not_hold_up_other_tips_and_goes_once() {
    let t = desk_app(false).await;
    // The drugs group's first card is refused four times ("retry after 1 s"): three tries,
    // then one more after a backoff, over three seconds.
    for _ in 0..4 {
        t.fake
            .fail_next_to("sendMessage", CAO_PHONG_DRUGS, Fault::TooManyRequests(1));
    }
    let stuck = report(&t, 6901, "drugs", "thung-nai", 0).await;
    let other = report(&t, 6902, "theft", "thung-nai", 0).await;
    wait_message(&t, DEFAULT_GROUP, &other).await;
    assert!(
        t.fake
            .messages_to(CAO_PHONG_DRUGS)
            .iter()
            .all(|m| !m.text().contains(&stuck)),
        "the other tip's card went while the first was still being retried"
    );
    wait_message(&t, CAO_PHONG_DRUGS, &stuck).await;
    wait_desk_acked(&t).await;
    let cards = |chat, code: &str| {
        t.fake
            .messages_to(chat)
            .iter()
            .filter(|m| m.text().contains(code))
            .count()
    };
    assert_eq!(cards(CAO_PHONG_DRUGS, &stuck), 1);
    assert_eq!(cards(DEFAULT_GROUP, &other), 1);
}

#[tokio::test]
async fn an_event_of_an_unknown_type_is_skipped_and_a_malformed_one_dead_lettered_at_once() {
    let t = desk_app(false).await;
    let events = format!("{}:events", t.ns());
    for fields in [
        // Written by a newer build, say: nothing for this desk to do.
        vec![("type", "reopened"), ("code", "TB-7K3Q-X9MD"), ("seq", "2")],
        // No retry can give it its disposition.
        vec![("type", "closed"), ("code", "TB-7K3Q-X9MD"), ("seq", "3")],
    ] {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&events).arg("*");
        for (k, v) in fields.into_iter().chain([("actor", "triage"), ("at", "1")]) {
            cmd.arg(k).arg(v);
        }
        let _: String = cmd.query(&mut t.redis()).unwrap();
    }
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let letters = loop {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(format!("{}:dlq:desk", t.ns()))
            .arg("-")
            .arg("+")
            .query(&mut t.redis())
            .unwrap();
        if !reply.ids.is_empty() {
            break reply.ids;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing dead-lettered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    wait_desk_acked(&t).await;
    assert_eq!(letters.len(), 1, "only the malformed event");
    assert_eq!(letters[0].get::<String>("type").as_deref(), Some("closed"));
    assert_eq!(
        letters[0].get::<String>("error").as_deref(),
        Some("event field `disposition` is missing")
    );
}
