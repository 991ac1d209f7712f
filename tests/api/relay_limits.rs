//! Long texts fit the platforms' limits (issue 13): what the bot relays between a citizen and
//! the officers is split into messages Telegram takes, counted as Telegram counts (UTF-16 code
//! units), instead of being refused for length. The fake Telegram refuses a longer text with
//! Telegram's own 400 "message is too long", so without the split these tests fail.

use serde_json::json;
use tipline::config::ReceiveMode;

use crate::support::{TestApp, receipt_code, spawn_app_with};

const DUTY_GROUP: i64 = -1_001_000_000_001;
const OFFICER: i64 = 501;

async fn app() -> TestApp {
    spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
    })
    .await
}

fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// `text` without any whitespace, to compare a text with the parts it was sent in.
fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Vietnamese sentences with emoji (two UTF-16 units each), `chars` characters long.
fn long_text(sentence: &str, chars: usize) -> String {
    sentence.chars().cycle().take(chars).collect()
}

fn officer_replies(t: &TestApp, message_id: i64, to: i64, text: &str) {
    t.fake.push_update(
        json!({"message": {"message_id": message_id, "date": 1_700_000_000,
        "from": {"id": OFFICER, "is_bot": false, "first_name": "Hùng"},
        "chat": {"id": DUTY_GROUP, "type": "supergroup", "title": "Trực ban"},
        "text": text,
        "reply_to_message": {"message_id": to, "date": 1_700_000_000, "text": "…",
            "from": {"id": 999, "is_bot": true, "first_name": "TipBot", "username": "tip_bot"},
            "chat": {"id": DUTY_GROUP, "type": "supergroup", "title": "Trực ban"}}}}),
    );
}

/// Reports a tip as citizen `id` and returns its code and its card's message id.
async fn report(t: &TestApp, id: i64) -> (String, i64) {
    let mut c = t.citizen(id);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses("com:thung-nai").await;
    c.says("Có người bán ma túy ở bãi sông").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).expect("a receipt");
    t.fake
        .wait_until("the card", |calls| {
            calls.iter().any(|c| {
                c.method == "sendmessage"
                    && c.chat_id() == Some(DUTY_GROUP)
                    && c.text().contains(&code)
            })
        })
        .await;
    let card = t.fake.messages_to(DUTY_GROUP)[0].message_id.unwrap();
    (code, card)
}

#[tokio::test]
async fn a_citizens_ten_thousand_character_answer_reaches_the_duty_group_in_several_messages() {
    let t = app().await;
    let (code, card) = report(&t, 6_601).await;
    officer_replies(&t, 8_001, card, "Người bán đi xe gì?");
    t.fake
        .wait_until("the question", |_| {
            t.fake
                .messages_to(6_601)
                .iter()
                .any(|m| m.text().contains("Người bán đi xe gì?"))
        })
        .await;
    t.settle().await;

    let answer = long_text(
        "Xe máy màu xanh 🛵 đỗ ở đầu hẻm lúc tối, người lái đội mũ đỏ. Họ đi cùng nhau!\n\n",
        10_000,
    );
    assert!(units(&answer) > 2 * 4096, "longer than two messages");
    let mut c = t.citizen(6_601);
    c.new_messages();
    let r = c.says(&answer).await;
    assert!(
        r[0].text().contains("Đã chuyển câu trả lời"),
        "{}",
        r[0].text()
    );

    // The desk posts the answer under the card in parts, every one taken by Telegram.
    let wanted = squeezed(&answer);
    t.fake
        .wait_until("the whole answer under the card", |calls| {
            let under_card: String = calls
                .iter()
                .filter(|c| {
                    c.method == "sendmessage"
                        && c.chat_id() == Some(DUTY_GROUP)
                        && c.body["reply_parameters"]["message_id"].as_i64() == Some(card)
                })
                .map(|c| squeezed(c.text()))
                .collect();
            under_card.contains(&wanted)
        })
        .await;
    t.settle().await;
    let parts: Vec<_> = t
        .fake
        .messages_to(DUTY_GROUP)
        .into_iter()
        .filter(|c| c.body["reply_parameters"]["message_id"].as_i64() == Some(card))
        .collect();
    assert_eq!(
        parts.len(),
        3,
        "10 000 characters with emoji: three messages"
    );
    assert!(
        parts[0].text().contains(&code),
        "the first part says which tip"
    );
    for p in &parts {
        assert!(units(p.text()) <= 4096, "{} units", units(p.text()));
    }
    assert!(
        parts
            .iter()
            .all(|p| !p.text().starts_with(char::is_whitespace)),
        "cut at whitespace, which is dropped"
    );
    assert!(
        parts[..2].iter().all(|p| p.text().ends_with('!')),
        "cut between paragraphs"
    );
    let refused = t.fake.calls_of("sendmessage!failed");
    assert!(
        refused.is_empty(),
        "Telegram refused {} messages",
        refused.len()
    );

    // Each part is the tip's: an officer replying to the last one asks the citizen again.
    let last = parts.last().unwrap().message_id.unwrap();
    officer_replies(&t, 8_002, last, "Mũ đỏ loại nào?");
    t.fake
        .wait_until("the second question", |_| {
            t.fake
                .messages_to(6_601)
                .iter()
                .any(|m| m.text().contains("Mũ đỏ loại nào?"))
        })
        .await;
}

#[tokio::test]
async fn an_officers_long_question_reaches_the_citizen_in_parts_with_the_button_under_the_last() {
    let t = app().await;
    let (_code, card) = report(&t, 6_602).await;
    let mut c = t.citizen(6_602);
    c.new_messages();

    // As long as Telegram lets an officer write (4096 units); the notice around it makes the
    // message to the citizen longer than that.
    let question = long_text("Anh chị thấy người đó mấy lần 🤔 vào giờ nào? ", 3_980);
    assert!(units(&question) <= 4096 && units(&question) > 4000);
    officer_replies(&t, 8_003, card, &question);
    let wanted = squeezed(&question);
    t.fake
        .wait_until("the whole question", |_| {
            let got: String = t
                .fake
                .messages_to(6_602)
                .iter()
                .map(|m| squeezed(m.text()))
                .collect();
            got.contains(&wanted)
                && t.fake.messages_to(6_602).last().unwrap().buttons() == ["qa:done"]
        })
        .await;
    t.settle().await;
    let got = c.new_messages();
    // Cut at the notice's paragraph breaks; the question stays in one piece.
    assert_eq!(
        got.len(),
        3,
        "{:?}",
        got.iter().map(|m| units(m.text())).collect::<Vec<_>>()
    );
    assert!(
        got[1].text().contains(question.trim()),
        "the question in one piece"
    );
    assert!(got.iter().all(|m| units(m.text()) <= 4096));
    assert!(got[..2].iter().all(|m| m.buttons().is_empty()));
    assert_eq!(
        got[2].buttons(),
        vec!["qa:done"],
        "the button under the last part"
    );
    assert!(t.fake.calls_of("sendmessage!failed").is_empty());
}

#[tokio::test]
async fn the_fake_refuses_a_text_longer_than_telegram_takes_as_telegram_does() {
    // The tests above rely on it: 2049 emoji are 4098 UTF-16 units, over the limit, though
    // only 2049 characters.
    let t = app().await;
    let url = format!("{}/bot123:abc/sendMessage", t.fake.url());
    let http = reqwest::Client::new();
    let send = |text: String| {
        http.post(&url)
            .json(&json!({"chat_id": DUTY_GROUP, "text": text}))
            .send()
    };
    let over = send("😀".repeat(2049)).await.unwrap();
    assert_eq!(over.status(), 400);
    let body: serde_json::Value = over.json().await.unwrap();
    assert_eq!(body["description"], "Bad Request: message is too long");
    assert_eq!(send("😀".repeat(2048)).await.unwrap().status(), 200);
}

#[tokio::test]
async fn a_description_of_three_thousand_emoji_is_reviewed_receipted_and_carded() {
    // 3000 characters is the description's limit (`limits.description_max_chars`); as emoji
    // they are 6000 UTF-16 units, more than a Telegram message holds: the review shows the
    // first 1500 characters, and the card shortens the description to fit.
    let t = app().await;
    let mut c = t.citizen(6_603);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    c.presses("com:thung-nai").await;
    let description = "🚨".repeat(3_000);
    c.says(&description).await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    let review = c.says("🕶 Ẩn danh").await;
    assert!(review.iter().all(|m| units(m.text()) <= 4096));
    assert!(
        review
            .last()
            .unwrap()
            .buttons()
            .iter()
            .any(|b| b == "rv:send")
    );
    let code = receipt_code(&c.presses("rv:send").await).expect("a receipt");
    t.fake
        .wait_until("the card", |calls| {
            calls.iter().any(|c| {
                c.method == "sendmessage"
                    && c.chat_id() == Some(DUTY_GROUP)
                    && c.text().contains(&code)
            })
        })
        .await;
    let card = t.fake.messages_to(DUTY_GROUP)[0].clone();
    assert!(units(card.text()) <= 4096);
    assert!(
        card.text().contains("🚨🚨🚨…"),
        "the description cut with an ellipsis"
    );
    assert!(t.fake.calls_of("sendmessage!failed").is_empty());
}

#[tokio::test]
async fn a_long_text_to_a_zalo_citizen_goes_in_parts_of_at_most_2000_utf16_units() {
    // Zalo documents 2000 characters and runs on Java, whose strings count UTF-16 units; the
    // fake refuses more than 2000 units, so parts of 2000 emoji (4000 units) would fail.
    let z = tipline_testkit::fake_zalo::FakeZalo::start().await;
    let url = z.url();
    let t = spawn_app_with(ReceiveMode::Polling, move |s| {
        s.zalo.enabled = true;
        s.zalo.api_url = url;
        s.zalo.mode = ReceiveMode::Polling;
        s.zalo.poll_timeout_secs = 1;
    })
    .await;
    let text = long_text("Anh chị thấy người đó mấy lần 🤔🤔 vào giờ nào? ", 5_000);
    let out = tipline::channels::Outgoing {
        id: "notify-question".into(),
        text: text.clone(),
        keyboard: tipline::channels::OutKeyboard::Inline(vec![vec![(
            "✅ Xong".into(),
            "qa:done".into(),
        )]]),
    };
    let route = tipline::privacy::Route {
        channel: tipline::privacy::Channel::Zalo,
        chat: "z-long".into(),
    };
    tipline::outbound::send(&t.app().shared, &route, &out)
        .await
        .expect("every part taken");
    let parts = z.messages_to("z-long");
    assert!(parts.len() >= 3, "{} parts", parts.len());
    assert!(
        parts.iter().all(|p| units(p) <= 2000),
        "{:?}",
        parts.iter().map(|p| units(p)).collect::<Vec<_>>()
    );
    let joined: String = parts.iter().map(|p| squeezed(p)).collect();
    assert!(
        joined.contains(&squeezed(&text)),
        "the whole text, in order"
    );
    assert!(
        parts.last().unwrap().contains("1. ✅ Xong"),
        "the menu under the last part"
    );
}
