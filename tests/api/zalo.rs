//! Citizens on Zalo: the same conversation with numbered menus instead of buttons, over the
//! fake Zalo Bot API (getUpdates in most tests, the webhook in others).

use std::time::Duration;

use serde_json::{Value, json};
use tipline::config::ReceiveMode;

use crate::support::fake_zalo::{self, FakeZalo, PhotoField, post_webhook, wrapped};
use crate::support::{TestApp, ZALO_SECRET, spawn_app_with};

const GROUP: i64 = -1_001_000_000_001;

async fn zalo_app(zalo: &FakeZalo, mode: ReceiveMode, desk: bool) -> TestApp {
    let url = zalo.url();
    spawn_app_with(ReceiveMode::Polling, move |s| {
        s.zalo.enabled = true;
        s.zalo.api_url = url;
        s.zalo.mode = mode;
        s.zalo.poll_timeout_secs = 1;
        if desk {
            s.desk.enabled = true;
            s.desk.default_group = GROUP;
        }
    })
    .await
}

/// Waits until every queued update was fetched and every inbox entry handled.
async fn settle(t: &TestApp, z: &FakeZalo) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let inbox = format!("{}:inbox", t.ns());
    let mut quiet = 0;
    while quiet < 3 {
        let len: u64 = ::redis::cmd("XLEN")
            .arg(&inbox)
            .query(&mut t.redis())
            .unwrap();
        quiet = if z.pending_updates() == 0 && len == 0 {
            quiet + 1
        } else {
            0
        };
        assert!(
            tokio::time::Instant::now() < deadline,
            "zalo updates not handled"
        );
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}

/// A citizen on Zalo.
struct Citizen<'a> {
    t: &'a TestApp,
    z: &'a FakeZalo,
    chat: String,
    read: usize,
}

impl<'a> Citizen<'a> {
    fn new(t: &'a TestApp, z: &'a FakeZalo, chat: &str) -> Self {
        Self {
            t,
            z,
            chat: chat.into(),
            read: 0,
        }
    }

    async fn sends(&mut self, update: Value) -> String {
        self.z.push_update(update);
        settle(self.t, self.z).await;
        self.new_text()
    }

    async fn says(&mut self, text: &str) -> String {
        let u = self.z.text_update(&self.chat, text);
        self.sends(u).await
    }

    fn new_text(&mut self) -> String {
        let all = self.z.messages_to(&self.chat);
        let new = all[self.read.min(all.len())..].join("\n---\n");
        self.read = all.len();
        new
    }
}

fn receipt(text: &str) -> Option<String> {
    // The last one: the help text shows an example code.
    regex::Regex::new(r"TB-[0-9A-Z]{4}-[0-9A-Z]{4}")
        .unwrap()
        .find_iter(text)
        .last()
        .map(|m| m.as_str().to_owned())
}

/// A whole report by numbered menus and typed labels, with a photo and a typed phone number.
async fn report(c: &mut Citizen<'_>, description: &str) -> String {
    let hello = c.says("Xin chào").await;
    assert!(hello.contains("hệ thống tự động"), "{hello}");
    assert!(hello.contains("1. 📝 Gửi tin báo"), "{hello}");
    let categories = c.says("1").await;
    assert!(categories.contains("Ma túy"), "{categories}");
    let place = c.says("ma tuy").await;
    assert!(place.contains("Gõ địa chỉ"), "{place}");
    assert!(place.contains("Xã Thung Nai"), "{place}");
    let asked = c.says("xa thung nai").await;
    assert!(asked.contains("mô tả sự việc"), "{asked}");
    let added = c.says(description).await;
    assert!(added.contains("1. ➡️ Tiếp tục"), "{added}");
    let evidence = c.says("1").await;
    assert!(evidence.contains("ảnh hay ghi âm"), "{evidence}");
    let photo = c.z.image_update(
        &c.chat,
        &c.z.file_url("anh-1.jpg"),
        None,
        PhotoField::PhotoUrl,
    );
    let got = c.sends(photo).await;
    assert!(got.contains("1/"), "{got}");
    assert!(got.contains("1. ✅ Xong"), "{got}");
    let contact = c.says("xong").await;
    assert!(contact.contains("gõ số điện thoại"), "{contact}");
    let review = c.says("0912 345 678").await;
    assert!(review.contains("Kiểm tra lại"), "{review}");
    // The number is sealed from the moment it is typed, not only once the tip is stored.
    for needle in ["0912345678", "0912 345 678", "912345678"] {
        assert!(
            c.t.redis_keys_holding(needle).is_empty(),
            "{needle} in Redis"
        );
    }
    let done = c.says("1").await;
    receipt(&done).unwrap_or_else(|| panic!("no receipt in {done}"))
}

#[tokio::test]
async fn a_whole_report_by_numbered_menus_becomes_a_tip() {
    let z = FakeZalo::start().await;
    let t = zalo_app(&z, ReceiveMode::Polling, false).await;
    let mut c = Citizen::new(&t, &z, "7a1b2c3d4e5f");
    let code = report(
        &mut c,
        "Có người bán ma túy ở quán nước đầu xóm, tối nào cũng có",
    )
    .await;

    let tip = t.tip(&code);
    assert_eq!(tip["channel"], "zalo");
    assert_eq!(tip["category"], "drugs");
    assert_eq!(tip["commune"], "thung-nai");
    assert_eq!(tip["evidence"][0]["kind"], "photo");
    assert_eq!(tip["evidence"][0]["file_id"], z.file_url("anh-1.jpg"));
    assert!(
        tip["contact_sealed"].is_string(),
        "the typed number is kept, sealed"
    );
    assert!(
        !t.redis_keys_holding("0912345678")
            .iter()
            .any(|k| !k.contains(":inbox"))
    );
    // Zalo's ids never reach the tip.
    assert!(!tip.to_string().contains("7a1b2c3d4e5f"));
    // No message talks of buttons; every menu says how to answer.
    for m in z.messages_to("7a1b2c3d4e5f") {
        assert!(!m.contains("bấm"), "{m}");
        assert!(m.chars().count() <= 2000);
    }
}

#[tokio::test]
async fn wrong_numbers_free_text_stickers_and_hidden_messages_get_clear_answers() {
    let z = FakeZalo::start().await;
    let t = zalo_app(&z, ReceiveMode::Polling, false).await;
    let mut c = Citizen::new(&t, &z, "wrong1");
    c.says("/report").await;
    for wrong in ["99", "0", "con mèo"] {
        let answer = c.says(wrong).await;
        assert!(answer.contains("1. "), "{wrong}: the menu again: {answer}");
        assert!(answer.contains("Ma túy"), "{answer}");
    }
    let sticker = z.sticker_update("wrong1");
    let answer = c.sends(sticker).await;
    assert!(!answer.is_empty(), "a sticker gets a friendly note");
    let hidden = z.unsupported_update("wrong1");
    let answer = c.sends(hidden).await;
    assert!(answer.contains("Zalo không cho hệ thống xem"), "{answer}");
    // Still choosing a category: a number works now.
    let place = c.says("2").await;
    assert!(place.contains("Việc xảy ra ở đâu"), "{place}");
    assert!(t.tip_codes().is_empty());
}

#[tokio::test]
async fn a_zalo_tip_reaches_the_duty_group_with_its_photo_and_an_officer_asks_back() {
    let z = FakeZalo::start().await;
    let t = zalo_app(&z, ReceiveMode::Polling, true).await;
    let mut c = Citizen::new(&t, &z, "c9d8e7");
    let code = report(&mut c, "Nhóm thanh niên bán ma túy ở bãi sông").await;
    t.fake
        .wait_until("the card and the uploaded photo", |calls| {
            calls
                .iter()
                .any(|c| c.method == "sendmessage" && c.chat_id() == Some(GROUP))
                && calls
                    .iter()
                    .any(|c| c.method == "sendphoto" && c.chat_id() == Some(GROUP))
        })
        .await;
    let photo = t
        .fake
        .calls_of("sendPhoto")
        .into_iter()
        .find(|c| c.chat_id() == Some(GROUP))
        .unwrap();
    // Uploaded, not linked; named after the tip and cleaned of its EXIF GPS.
    assert_eq!(photo.file_name().unwrap(), format!("{code}-1.jpg"));
    let uploaded = t.fake.uploaded(photo.message_id.unwrap()).unwrap();
    assert!(uploaded.starts_with(&[0xFF, 0xD8, 0xFF]), "a JPEG");
    assert!(!uploaded.windows(4).any(|w| w == b"Exif"), "no EXIF left");
    assert!(
        photo.protected(),
        "the upload cannot be forwarded (issue 14)"
    );
    assert!(t.fake.calls_of("copyMessage").is_empty());
    let card = t
        .fake
        .messages_to(GROUP)
        .into_iter()
        .find(|m| m.text().contains(&code))
        .unwrap();

    // The officer replies to the card: the question reaches the citizen on Zalo.
    t.fake.push_update(json!({"message": {"message_id": 9001, "date": 1_700_000_000,
        "from": {"id": 501, "is_bot": false, "first_name": "Hùng"},
        "chat": {"id": GROUP, "type": "supergroup", "title": "Trực ban"},
        "text": "Người bán đi xe gì?",
        "reply_to_message": {"message_id": card.message_id.unwrap(), "date": 1_700_000_000, "text": "…",
            "from": {"id": 999, "is_bot": true, "first_name": "TipBot", "username": "tip_bot"},
            "chat": {"id": GROUP, "type": "supergroup", "title": "Trực ban"}}}}));
    z.wait_until("the question", |calls| {
        calls
            .iter()
            .any(|c| c.text().contains("Người bán đi xe gì?"))
    })
    .await;
    let question = c.new_text();
    assert!(question.contains("gõ «Xong»"), "{question}");
    assert!(
        !question.contains("1. "),
        "no numbered menu: a number is an answer"
    );
    assert!(!question.contains("Hùng"), "no officer name");

    let sent = c.says("Xe Wave màu xanh").await;
    assert!(sent.contains("Đã chuyển câu trả lời"), "{sent}");
    // "How many?" "2": a number is an answer too.
    c.says("2").await;
    t.fake
        .wait_until("the answer under the card", |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(GROUP) && c.text().contains("Xe Wave màu xanh"))
        })
        .await;
    t.fake
        .wait_until("the number under the card", |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(GROUP) && c.text().ends_with("\n2"))
        })
        .await;
    let ended = c.says("xong").await;
    assert!(ended.contains("Đã kết thúc"), "{ended}");
}

#[tokio::test]
async fn the_webhook_checks_its_secret_and_a_redelivered_event_makes_no_second_tip() {
    let z = FakeZalo::start().await;
    let t = zalo_app(&z, ReceiveMode::Webhook, false).await;
    let url = format!("{}/zalo/webhook", t.base_url());
    let http = reqwest::Client::new();
    let chat = "wh1";
    let hello = wrapped(z.text_update(chat, "Xin chào"));
    assert_eq!(
        post_webhook(&http, &url, Some("wrong-secret-123"), &hello).await,
        403
    );
    assert_eq!(post_webhook(&http, &url, None, &hello).await, 403);
    assert_eq!(
        post_webhook(&http, &url, Some(ZALO_SECRET), &json!({"nonsense": true})).await,
        400
    );
    let raw = http
        .post(&url)
        .header(fake_zalo::SECRET_HEADER, ZALO_SECRET)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    assert!(z.messages_to(chat).is_empty(), "nothing was answered");

    // A whole report through the webhook, events in both envelopes.
    let steps = [
        "Xin chào",
        "1",
        "2",
        "Chợ Cao Phong, cổng phía đông",
        // The commune the typed place names, offered first: 1. Xã Cao Phong.
        "1",
        "Kẻ gian bẻ khóa lấy trộm xe máy trước cổng chợ",
        "1",
        "1",
        "1",
    ];
    for (i, text) in steps.iter().enumerate() {
        let u = z.text_update(chat, text);
        let body = if i % 2 == 0 { wrapped(u) } else { u };
        assert_eq!(
            post_webhook(&http, &url, Some(ZALO_SECRET), &body).await,
            200
        );
        settle(&t, &z).await;
    }
    let last = z.messages_to(chat).join("\n");
    assert!(last.contains("Kiểm tra lại"), "{last}");
    let send = z.text_update(chat, "1");
    assert_eq!(
        post_webhook(&http, &url, Some(ZALO_SECRET), &send).await,
        200
    );
    settle(&t, &z).await;
    let code = receipt(&z.messages_to(chat).join("\n")).expect("a receipt");
    let messages = z.messages_to(chat).len();

    // Zalo delivers the same event again: no second tip, nothing sent again.
    assert_eq!(
        post_webhook(&http, &url, Some(ZALO_SECRET), &wrapped(send)).await,
        200
    );
    settle(&t, &z).await;
    assert_eq!(t.tip_codes(), [code]);
    assert_eq!(z.messages_to(chat).len(), messages);
}

#[tokio::test]
async fn a_message_over_2000_characters_goes_in_parts() {
    let z = FakeZalo::start().await;
    let t = zalo_app(&z, ReceiveMode::Polling, false).await;
    let sentence = "Người lạ mặt thường xuyên qua lại khu vực này vào ban đêm. ";
    let text = format!(
        "{}\n\n{}",
        sentence.repeat(30).trim_end(),
        sentence.repeat(20).trim_end()
    );
    assert!(text.chars().count() > 2900);
    let out = tipline::channels::Outgoing {
        id: "test-long".into(),
        text: text.clone(),
        keyboard: tipline::channels::OutKeyboard::Inline(vec![vec![(
            "✅ Xong".into(),
            "qa:done".into(),
        )]]),
    };
    let route = tipline::privacy::Route {
        channel: tipline::privacy::Channel::Zalo,
        chat: "long1".into(),
    };
    tipline::outbound::send(&t.app().shared, &route, &out)
        .await
        .unwrap();
    let parts = z.messages_to("long1");
    assert!(parts.len() >= 2, "{parts:?}");
    assert!(
        parts
            .iter()
            .all(|p| p.chars().count() <= 2000 && !p.trim().is_empty())
    );
    // Split at the paragraph, then between sentences: no word is cut.
    assert!(parts[0].trim_end().ends_with("ban đêm."), "{}", parts[0]);
    let joined: String = parts.join(" ");
    assert_eq!(
        joined
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .matches("ban đêm.")
            .count(),
        50
    );
    // The menu comes at the end, once.
    assert!(parts.last().unwrap().contains("1. ✅ Xong"));
    assert_eq!(joined.matches("1. ✅ Xong").count(), 1);
}

#[tokio::test]
async fn a_zalo_photo_stays_downloadable_for_the_triage_service_through_its_telegram_copy() {
    let z = FakeZalo::start().await;
    let triage = crate::support::FakeTriage::start().await;
    let url = z.url();
    let triage_url = triage.url();
    let t = spawn_app_with(ReceiveMode::Polling, move |s| {
        s.zalo.enabled = true;
        s.zalo.api_url = url;
        s.zalo.mode = ReceiveMode::Polling;
        s.zalo.poll_timeout_secs = 1;
        s.desk.enabled = true;
        s.desk.default_group = GROUP;
        s.triage.enabled = true;
        s.triage.url = triage_url;
        s.http.public_url = "https://tipline.test".into();
    })
    .await;
    let mut c = Citizen::new(&t, &z, "ev1");
    report(&mut c, "Ảnh chụp kẻ bán ma túy ở bến xe").await;
    t.fake
        .wait_until("the photo under the card", |calls| {
            calls
                .iter()
                .any(|c| c.method == "sendphoto" && c.chat_id() == Some(GROUP))
        })
        .await;
    triage.wait_delivered(1).await;
    let link = triage.delivered()[0].json["tip"]["evidence"][0]["url"]
        .as_str()
        .unwrap()
        .replace("https://tipline.test", &t.base_url());
    // Wait until the desk recorded the copy (it does so right after the upload).
    for _ in 0..100 {
        let copy: Option<String> = ::redis::cmd("HGET")
            .arg(format!(
                "{}:tgcopy:{}",
                t.ns(),
                triage.delivered()[0].code()
            ))
            .arg(0)
            .query(&mut t.redis())
            .unwrap();
        if copy.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resp = t.http.get(&link).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.unwrap();
    let photo = t
        .fake
        .calls_of("sendPhoto")
        .into_iter()
        .find(|c| c.chat_id() == Some(GROUP))
        .unwrap();
    assert_eq!(
        body.to_vec(),
        t.fake.uploaded(photo.message_id.unwrap()).unwrap(),
        "served from Telegram's clean copy, not Zalo's link"
    );
    let asked = t.fake.calls_of("getFile");
    assert!(asked.iter().any(|c| {
        c.body["file_id"]
            .as_str()
            .unwrap_or("")
            .starts_with("tgcopy-")
    }));
}
