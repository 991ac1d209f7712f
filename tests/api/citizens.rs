//! Citizens as they really are (issue 15): a report told by voice alone, and a report started
//! by whatever the citizen sends first.

use serde_json::Value;
use tipline::config::ReceiveMode;

use crate::support::{Call, Citizen, FakeTriage, TestApp, receipt_code, spawn_app_with, texts};

const DUTY_GROUP: i64 = -1_001_000_000_015;

async fn app(triage: &FakeTriage) -> TestApp {
    let url = triage.url();
    spawn_app_with(ReceiveMode::Polling, move |s| {
        s.triage.enabled = true;
        s.triage.url = url;
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
    })
    .await
}

/// A voice note of `secs` seconds, as Telegram sends it.
async fn says_by_voice(c: &mut Citizen<'_>, file_id: &str, secs: u64) -> Vec<Call> {
    let mut u = c.text_update("x");
    let msg = u["message"].as_object_mut().unwrap();
    msg.remove("text");
    msg.insert(
        "voice".into(),
        serde_json::json!({"file_id": file_id, "file_unique_id": format!("u-{file_id}"),
            "duration": secs, "mime_type": "audio/ogg", "file_size": 9_000}),
    );
    c.send(u).await
}

#[tokio::test]
async fn a_report_told_only_by_voice_reaches_the_officers_voice_first() {
    let triage = FakeTriage::start().await;
    let t = app(&triage).await;
    let mut c = t.citizen(15_001);
    c.says("/report").await;
    c.presses("cat:drugs").await;
    let asked = c.presses("com:thung-nai").await;
    assert!(
        texts(&asked).contains("Không tiện gõ chữ? Giữ nút micro và kể lại"),
        "{}",
        texts(&asked)
    );
    c.sends_photo("AgAD-VOICE-PHOTO", 40_000, None).await;
    let heard = says_by_voice(&mut c, "AwAD-VOICE-1", 42).await;
    assert!(
        texts(&heard).contains("Đã nhận tin nhắn thoại"),
        "{}",
        texts(&heard)
    );
    let next = c.presses("go:next").await;
    assert!(texts(&next).contains("bằng chứng"), "{}", texts(&next));
    c.presses("go:next").await;
    let review = c.says("🕶 Ẩn danh").await;
    assert!(
        texts(&review).contains("Nội dung: 🎙️ kể bằng 1 tin nhắn thoại"),
        "{}",
        texts(&review)
    );
    let code = receipt_code(&c.presses("rv:send").await).expect("a receipt");
    t.process_until_idle().await;

    // The card says the voice notes are the description; the voice goes first under it.
    t.fake
        .wait_until("the card and its two copies", |calls| {
            calls
                .iter()
                .filter(|c| c.method == "copymessage" && c.chat_id() == Some(DUTY_GROUP))
                .count()
                >= 2
        })
        .await;
    let card = t.fake.messages_to(DUTY_GROUP)[0].text().to_owned();
    assert!(
        card.contains(&code)
            && card.contains("🎙️ Người báo kể bằng 1 tin nhắn thoại, gửi ngay dưới thẻ này."),
        "{card}"
    );
    let copies = t.fake.calls_of("copyMessage");
    let voice_message = copies[0].body["message_id"].as_i64().unwrap();
    let photo_message = copies[1].body["message_id"].as_i64().unwrap();
    assert!(
        voice_message > photo_message,
        "the voice note, sent second, is copied first"
    );

    // The triage service gets the voice note first and an empty description.
    triage.wait_delivered(1).await;
    let tip: &Value = &triage.delivered()[0].json["tip"];
    assert_eq!(tip["description"], "");
    assert_eq!(tip["evidence"][0]["kind"], "voice");
    assert_eq!(tip["evidence"][1]["kind"], "photo");
}

#[tokio::test]
async fn a_photo_sent_before_anything_else_becomes_the_first_part_of_a_report() {
    let triage = FakeTriage::start().await;
    let t = app(&triage).await;
    let mut c = t.citizen(15_002);
    let first = c
        .sends_photo("AgAD-FIRST-PHOTO", 50_000, Some("Bãi cát lậu ở bến Mường"))
        .await;
    let said = texts(&first);
    assert!(
        said.contains("Tệp bạn vừa gửi đã được giữ lại cho một tin báo mới")
            && said.contains("thuộc loại nào"),
        "{said}"
    );
    assert_eq!(
        first.len(),
        2,
        "one word of thanks and the question: {said}"
    );
    c.presses("cat:smuggling").await;
    c.presses("com:thung-nai").await;
    // The caption is the description already: «Tiếp tục» goes on.
    let evidence = c.presses("go:next").await;
    assert!(
        texts(&evidence).contains("bằng chứng"),
        "{}",
        texts(&evidence)
    );
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).expect("a receipt");
    let tip = t.tip(&code);
    assert_eq!(tip["description"], "Bãi cát lậu ở bến Mường");
    assert_eq!(tip["evidence"][0]["file_id"], "AgAD-FIRST-PHOTO");

    // After the receipt, a thank-you starts nothing.
    let thanks = c.says("Cảm ơn").await;
    assert!(texts(&thanks).contains("/report"), "{}", texts(&thanks));
    t.process_until_idle().await;
    assert_eq!(t.tip_codes().len(), 1);
}

#[tokio::test]
async fn an_old_commune_name_and_an_old_mailbox_code_resolve_to_the_new_commune() {
    let triage = FakeTriage::start().await;
    let url = triage.url();
    let t = spawn_app_with(ReceiveMode::Polling, move |s| {
        s.triage.enabled = true;
        s.triage.url = url;
        s.desk.enabled = true;
        s.desk.default_group = DUTY_GROUP;
        // The mailbox got a new code; old posters still carry the old one.
        let m = s
            .mailboxes
            .iter_mut()
            .find(|m| m.code == "CP-BP01")
            .unwrap();
        m.code = "TN-02".into();
        m.former_codes = vec!["CP-BP01".into()];
    })
    .await;

    // A typed place, and the commune given by its name before 1 July 2025, without diacritics.
    let mut c = t.citizen(15_003);
    c.says("/report").await;
    c.presses("cat:theft").await;
    let asked = c.says("Đầu cầu treo, xóm Bưng").await;
    assert!(texts(&asked).contains("xã/phường nào"), "{}", texts(&asked));
    let found = c.says("xa bac phong").await;
    assert!(
        texts(&found).contains("Xã/phường: Xã Thung Nai"),
        "{}",
        texts(&found)
    );
    c.says("Mất trộm trâu").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    let review = c.says("🕶 Ẩn danh").await;
    assert!(
        texts(&review).contains("Đầu cầu treo, xóm Bưng · Xã Thung Nai"),
        "{}",
        texts(&review)
    );
    let code = receipt_code(&c.presses("rv:send").await).expect("a receipt");
    assert_eq!(t.tip(&code)["commune"], "thung-nai");
    triage.wait_delivered(1).await;
    let sent = &triage.delivered()[0].json["tip"]["commune"];
    assert_eq!(
        (sent["id"].as_str(), sent["province"].as_str()),
        (Some("thung-nai"), Some("Phú Thọ"))
    );

    // An old poster's code opens the renamed mailbox, which is in the new commune.
    let mut d = t.citizen(15_004);
    d.says("/start mb_CP-BP01").await;
    let asked = d.presses("cat:theft").await;
    assert!(
        texts(&asked).contains("«Nhà văn hóa Bắc Phong» (Xã Thung Nai)"),
        "{}",
        texts(&asked)
    );
    d.presses("pl:mailbox").await;
    d.says("Mất trộm xe đạp").await;
    d.presses("go:next").await;
    d.presses("go:next").await;
    d.says("🕶 Ẩn danh").await;
    let code = receipt_code(&d.presses("rv:send").await).expect("a receipt");
    let tip = t.tip(&code);
    assert_eq!(
        (tip["mailbox"].as_str(), tip["commune"].as_str()),
        (Some("TN-02"), Some("thung-nai"))
    );
}
