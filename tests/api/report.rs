//! A citizen reports a tip, every way the issue names.

use rand::SeedableRng;
use rand::rngs::StdRng;
use tipline::codes::ReceiptCode;

use crate::support::{receipt_code, spawn_app, spawn_app_seeded, texts};

#[tokio::test]
async fn a_whole_report_with_two_photos_and_a_location_pin_gets_a_receipt() {
    let t = spawn_app().await;
    let mut c = t.citizen(7_324_561_890);

    let r = c.says("/start").await;
    assert!(r[0].text().contains("giữ bí mật"), "{}", texts(&r));
    assert!(r[0].text().contains("113"));
    assert!(r[0].text().contains("Telegram"));
    assert!(r[1].buttons().contains(&"cat:drugs".to_string()), "{r:?}");

    let r = c.presses("cat:drugs").await;
    assert!(r[0].text().contains("Việc xảy ra ở đâu"), "{}", texts(&r));
    assert_eq!(r[0].keyboard(), vec!["📍 Gửi vị trí hiện tại"]);
    assert_eq!(
        r[0].body["reply_markup"]["keyboard"][0][0]["request_location"],
        true
    );
    assert!(r[1].buttons().contains(&"com:thung-nai".to_string()));

    let r = c.sends_location(20.7069, 105.3311).await;
    assert!(r[1].text().contains("xã/phường nào"), "{}", texts(&r));
    let r = c.presses("com:cao-phong").await;
    assert!(r[0].text().contains("mô tả sự việc"), "{}", texts(&r));

    let r = c
        .says("Có nhóm thanh niên bán ma túy ở quán nước đầu xóm")
        .await;
    assert!(r[0].text().contains("Đã ghi nhận"), "{}", texts(&r));
    let r = c
        .says("Thường vào khoảng 9 giờ tối, đi xe máy biển 28B1-123.45")
        .await;
    assert_eq!(r.len(), 1);
    let r = c.presses("go:next").await;
    assert!(r[0].text().contains("bằng chứng"), "{}", texts(&r));

    let r = c.sends_photo("AgAD-one", 120_000, None).await;
    assert!(r[0].text().contains("1/10"), "{}", texts(&r));
    let r = c
        .sends_photo("AgAD-two", 230_000, Some("ảnh chụp từ xa"))
        .await;
    assert!(r[0].text().contains("2/10"), "{}", texts(&r));
    let r = c.presses("go:next").await;
    assert!(r[0].text().contains("ẩn danh"), "{}", texts(&r));
    assert_eq!(
        r[0].keyboard(),
        vec!["📞 Để lại số điện thoại", "🕶 Ẩn danh"]
    );

    let r = c.says("🕶 Ẩn danh").await;
    let review = &r[1];
    assert!(review.text().contains("Ma túy"), "{}", texts(&r));
    assert!(
        review
            .text()
            .contains("vị trí đã chia sẻ (20.70690, 105.33110)")
    );
    assert!(review.text().contains("đi xe máy biển 28B1-123.45"));
    assert!(review.text().contains("• Tệp đính kèm: 2"));
    assert!(review.text().contains("• Liên hệ: ẩn danh"));
    assert!(t.tip_codes().is_empty(), "nothing is stored before Send");

    let r = c.presses("rv:send").await;
    let code = receipt_code(&r).expect("a receipt code");
    assert!(r[0].text().contains("/status"), "{}", texts(&r));

    // The receipt came only after the tip was stored, with its event.
    assert_eq!(t.tip_codes(), vec![code.clone()]);
    let tip = t.tip(&code);
    assert_eq!(tip["category"], "drugs");
    assert_eq!(tip["status"], "submitted");
    assert_eq!(tip["priority"], "high");
    assert_eq!(tip["place"]["kind"], "pin");
    assert_eq!(tip["evidence"].as_array().unwrap().len(), 2);
    assert_eq!(tip["evidence"][0]["file_id"], "AgAD-one");
    assert!(
        tip["description"]
            .as_str()
            .unwrap()
            .contains("ảnh chụp từ xa")
    );
    assert_eq!(tip["contact_sealed"], serde_json::Value::Null);
    let events = t.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "submitted");
    assert_eq!(events[0]["code"], code);
    assert_eq!(events[0]["seq"], "1");

    // The citizen's Telegram identity is nowhere in Redis: not in the tip, the event, the
    // conversation, the dedupe marks or any key name (the raw updates are deleted once done).
    for needle in ["7324561890", "Nguyễn", "user7324561890"] {
        assert_eq!(
            t.redis_keys_holding(needle),
            Vec::<String>::new(),
            "{needle}"
        );
    }

    // Every pressed button's message lost its buttons; every press was answered (category,
    // commune, Next, Done, Send).
    assert_eq!(t.fake.calls_of("answerCallbackQuery").len(), 5);
    assert_eq!(t.fake.calls_of("editMessageReplyMarkup").len(), 5);
}

#[tokio::test]
async fn a_typed_address_and_a_commune_from_the_list_both_work_and_a_phone_is_sealed() {
    let t = spawn_app().await;
    let mut c = t.citizen(222);
    c.says("/report").await;
    c.presses("cat:theft").await;
    let r = c.says("Thôn Bưng, gần cầu treo").await;
    assert!(r[1].text().contains("xã/phường nào"), "{}", texts(&r));
    // The commune typed without diacritics, as many do.
    let r = c.says("thung nai").await;
    assert!(
        r[0].text().contains("Xã/phường: Xã Thung Nai"),
        "{}",
        texts(&r)
    );
    assert!(r[1].text().contains("mô tả"), "{}", texts(&r));
    c.says("Mất trộm xe máy Wave màu đỏ").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    let r = c.shares_contact("+84912345678", true).await;
    assert!(
        r[0].text().contains("Đã lưu số điện thoại"),
        "{}",
        texts(&r)
    );
    assert!(
        r[1].text()
            .contains("Thôn Bưng, gần cầu treo · Xã Thung Nai")
    );
    assert!(r[1].text().contains("••••••••678"), "{}", texts(&r));
    assert!(
        !r[1].text().contains("912345"),
        "the review shows the number masked"
    );

    // Edit the place: pick a commune instead.
    c.presses("rv:edit").await;
    c.presses("ed:place").await;
    let r = c.presses("com:thung-nai").await;
    let review = r.last().unwrap();
    assert!(review.text().contains("Xã Thung Nai"), "{}", texts(&r));
    let code = receipt_code(&c.presses("rv:send").await).unwrap();

    let tip = t.tip(&code);
    assert_eq!(
        tip["place"],
        serde_json::json!({"kind": "commune", "id": "thung-nai"})
    );
    assert_eq!(tip["commune"], "thung-nai");
    let sealed = tip["contact_sealed"].as_str().unwrap();
    assert!(!sealed.contains("912345678"));
    let raw: String = ::redis::cmd("HGET")
        .arg(format!("{}:tip:{code}", t.ns()))
        .arg("json")
        .query(&mut t.redis())
        .unwrap();
    assert!(
        !raw.contains("912345678"),
        "the phone number is stored sealed"
    );
    assert_eq!(
        t.redis_keys_holding("912345"),
        Vec::<String>::new(),
        "the number is nowhere in Redis in clear"
    );
}

#[tokio::test]
async fn a_mailbox_deep_link_presets_the_place_and_records_the_mailbox() {
    let t = spawn_app().await;
    let mut c = t.citizen(333);
    let r = c.says("/start mb_CP-TN01").await;
    assert!(r[0].text().contains("113"));
    let r = c.presses("cat:gambling").await;
    assert!(
        r[0].text().contains("gần hòm thư này, hay ở nơi khác"),
        "{}",
        texts(&r)
    );
    c.presses("pl:mailbox").await;
    let r = c.says("Có sới bạc sau chợ mỗi tối thứ bảy").await;
    assert!(r[0].text().contains("Đã ghi nhận"));
    c.presses("go:next").await;
    c.presses("go:next").await;
    let r = c.says("🕶 Ẩn danh").await;
    assert!(
        r[1].text().contains("Hòm thư Chợ Thung Nai (Xã Thung Nai)"),
        "{}",
        texts(&r)
    );
    let code = receipt_code(&c.presses("rv:send").await).unwrap();
    let tip = t.tip(&code);
    assert_eq!(tip["mailbox"], "CP-TN01");
    assert_eq!(tip["commune"], "thung-nai");
    assert_eq!(tip["place"]["kind"], "mailbox");
}

#[tokio::test]
async fn wrong_input_at_every_step_is_explained_and_changes_nothing() {
    let t = spawn_app().await;
    let mut c = t.citizen(444);
    c.says("/start").await;

    let r = c.says("ma túy").await;
    assert!(r[0].text().contains("chọn bằng các nút"), "{}", texts(&r));
    assert!(r[1].buttons().contains(&"cat:drugs".to_string()));
    let r = c.sends_sticker().await;
    assert!(r[0].text().contains("Nhãn dán"), "{}", texts(&r));

    c.presses("cat:fraud").await;
    let r = c.says("a").await;
    assert!(r[0].text().contains("Chưa rõ địa điểm"), "{}", texts(&r));
    let r = c.presses("cat:drugs").await; // an old button from the category message
    assert!(r[0].text().contains("không còn dùng được"), "{}", texts(&r));
    assert!(r[1].text().contains("Việc xảy ra ở đâu"), "{}", texts(&r));

    c.says("Chợ huyện").await;
    let r = c.presses("pl:unknown").await;
    assert!(
        r[0].buttons().is_empty(),
        "no Next before a description: {r:?}"
    );
    let r = c.sends_location(1.0, 2.0).await;
    assert!(r[0].text().contains("gõ nội dung"), "{}", texts(&r));
    c.says("Lừa đảo bán hàng qua mạng").await;
    c.presses("go:next").await;

    let r = c.sends_photo("AgAD-big", 25_000_000, None).await;
    assert!(r[0].text().contains("lớn hơn 20 MB"), "{}", texts(&r));
    let r = c.says("không có ảnh").await;
    assert!(r[1].text().contains("Bỏ qua"), "{}", texts(&r));
    c.presses("go:next").await;

    let r = c.shares_contact("+84900000000", false).await;
    assert!(r[0].text().contains("chính bạn"), "{}", texts(&r));
    let r = c.says("để sau").await;
    assert!(r[0].text().contains("«Ẩn danh»"), "{}", texts(&r));
    let r = c.says("🕶 Ẩn danh").await;
    let review = r.last().unwrap().text().to_owned();
    assert!(review.contains("Lừa đảo (cả trên mạng)"), "{review}");
    assert!(review.contains("Chợ huyện"));
    assert!(
        review.contains("Tệp đính kèm: không có"),
        "the oversized file was not taken"
    );

    let r = c.says("gửi đi").await;
    assert!(r[0].text().contains("chọn bằng các nút"), "{}", texts(&r));
    assert!(receipt_code(&c.presses("rv:send").await).is_some());
    assert_eq!(t.tip_codes().len(), 1);
}

#[tokio::test]
async fn cancel_mid_way_discards_the_draft_and_stores_nothing() {
    let t = spawn_app().await;
    let mut c = t.citizen(555);
    c.says("/start").await;
    c.presses("cat:drugs").await;
    c.says("Ngõ 5").await;
    c.presses("pl:unknown").await;
    let r = c.says("/cancel").await;
    assert!(r[0].text().contains("Đã hủy"), "{}", texts(&r));
    assert_eq!(r[0].body["reply_markup"]["remove_keyboard"], true);
    let r = c.says("/cancel").await;
    assert!(r[0].text().contains("Không có tin báo nào đang soạn"));
    assert!(t.tip_codes().is_empty());
    assert!(t.events().is_empty());
}

#[tokio::test]
async fn an_emergency_text_gets_call_113_at_once_and_an_urgent_tip() {
    let t = spawn_app().await;
    let mut c = t.citizen(666);
    c.says("/start").await;
    c.presses("cat:disorder").await;
    c.says("Xóm Mới").await;
    c.presses("pl:unknown").await;
    let r = c
        .says("Có người đang cầm dao đuổi chém nhau ngoài đường")
        .await;
    assert!(r[0].text().contains("GỌI NGAY 113"), "{}", texts(&r));
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).unwrap();
    let tip = t.tip(&code);
    assert_eq!(tip["priority"], "urgent");
    assert_eq!(tip["emergency"], true);
    assert_eq!(
        tip["priority_reasons"],
        serde_json::json!(["category:disorder=normal", "emergency=urgent"])
    );
    assert_eq!(t.events()[0]["priority"], "urgent");
}

#[tokio::test]
async fn an_english_speaker_is_answered_in_english_and_can_switch_language() {
    let t = spawn_app().await;
    let mut c = t.citizen(777);
    c.lang = "en";
    let r = c.says("/start").await;
    assert!(
        r[0].text().contains("identity stays confidential"),
        "{}",
        texts(&r)
    );
    let r = c.says("/lang").await;
    assert_eq!(r[0].buttons(), vec!["lang:vi", "lang:en"]);
    let r = c.presses("lang:vi").await;
    assert!(r[0].text().contains("tiếng Việt"), "{}", texts(&r));
    assert!(
        r[1].text().contains("Vụ việc bạn muốn báo"),
        "{}",
        texts(&r)
    );
}

#[tokio::test]
async fn a_receipt_code_that_already_exists_is_replaced_by_a_fresh_one() {
    let t = spawn_app_seeded(7).await;
    let mut rng = StdRng::seed_from_u64(7);
    let taken = ReceiptCode::generate(&mut rng).to_string();
    let fresh = ReceiptCode::generate(&mut rng).to_string();
    let old_tip = r#"{"placeholder":"an older tip"}"#;
    let _: () = ::redis::cmd("SET")
        .arg(format!("{}:tip:{taken}", t.ns()))
        .arg(old_tip)
        .query(&mut t.redis())
        .unwrap();

    let mut c = t.citizen(888);
    c.says("/report").await;
    c.presses("cat:other").await;
    c.says("Ngã ba Dũng Phong").await;
    c.presses("pl:unknown").await;
    c.says("Tụ tập đua xe ban đêm").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).unwrap();

    assert_eq!(code, fresh);
    let kept: String = ::redis::cmd("GET")
        .arg(format!("{}:tip:{taken}", t.ns()))
        .query(&mut t.redis())
        .unwrap();
    assert_eq!(kept, old_tip, "the existing tip is untouched");
    assert_eq!(t.tip(&fresh)["description"], "Tụ tập đua xe ban đêm");
    assert_eq!(t.events().len(), 1);
}

#[tokio::test]
async fn videos_voice_notes_and_documents_are_evidence_too() {
    let t = spawn_app().await;
    let mut c = t.citizen(999_001);
    c.says("/report").await;
    c.presses("cat:domestic").await;
    c.says("Tổ 3, khu phố 2").await;
    c.presses("pl:unknown").await;
    c.says("Người chồng thường xuyên đánh vợ").await;
    c.presses("go:next").await;
    let file = |kind: &str, id: &str, size: u64, mime: &str| {
        serde_json::json!({kind: {"file_id": id, "file_unique_id": format!("u{id}"),
            "file_size": size, "mime_type": mime, "duration": 5, "width": 640, "height": 480,
            "file_name": "ghi-am.pdf"}})
    };
    for (kind, id, mime) in [
        ("video", "BAAD-video", "video/mp4"),
        ("voice", "AwAD-voice", "audio/ogg"),
        ("document", "BQAD-doc", "application/pdf"),
    ] {
        let mut u = c.text_update("x");
        let msg = u["message"].as_object_mut().unwrap();
        msg.remove("text");
        for (k, v) in file(kind, id, 10_000, mime).as_object().unwrap() {
            msg.insert(k.clone(), v.clone());
        }
        let r = c.send(u).await;
        assert!(r[0].text().contains("Đã nhận"), "{kind}: {}", texts(&r));
    }
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let code = receipt_code(&c.presses("rv:send").await).unwrap();
    let kinds: Vec<String> = t.tip(&code)["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["video", "voice", "document"]);
    assert_eq!(t.tip(&code)["evidence"][2]["mime"], "application/pdf");
}

#[tokio::test]
async fn the_privacy_scan_sees_what_is_in_redis() {
    // The scan used above must be able to fail: raw updates in the inbox hold the name.
    let t = spawn_app().await;
    let _: String = ::redis::cmd("XADD")
        .arg(format!("{}:probe", t.ns()))
        .arg("*")
        .arg("body")
        .arg("Nguyễn Văn A 7324561890")
        .query(&mut t.redis())
        .unwrap();
    assert_eq!(t.redis_keys_holding("Nguyễn").len(), 1);
    assert_eq!(t.redis_keys_holding("7324561890").len(), 1);
}
