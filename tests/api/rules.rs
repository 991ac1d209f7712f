//! Triage rules at submit, end to end: keyword rules raise the priority (with and without
//! diacritics), a near-identical tip from the same citizen is linked to the first, and the
//! third tip of one category in one commune raises one hotspot alert in the duty group.

use tipline::config::ReceiveMode;

use crate::support::{TestApp, receipt_code, spawn_app_with};

const GROUP: i64 = -1_001_000_000_001;

async fn app() -> TestApp {
    spawn_app_with(ReceiveMode::Polling, |s| {
        s.desk.enabled = true;
        s.desk.default_group = GROUP;
    })
    .await
}

async fn report(t: &TestApp, id: i64, category: &str, commune: &str, text: &str) -> String {
    let mut c = t.citizen(id);
    c.says("/report").await;
    c.presses(&format!("cat:{category}")).await;
    c.presses(&format!("com:{commune}")).await;
    c.says(text).await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    receipt_code(&c.presses("rv:send").await).expect("a receipt")
}

fn reasons(t: &TestApp, code: &str) -> Vec<String> {
    t.tip(code)["priority_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn keyword_rules_raise_the_priority_with_or_without_diacritics_and_say_why() {
    let t = app().await;
    let cases = [
        // (category, text, priority, a reason that must be there)
        (
            "other",
            "Có mấy đứa trẻ em bị dụ đi bán vé số",
            "high",
            "keyword:children=high",
        ),
        (
            "other",
            "co may dua tre em bi du di ban ve so",
            "high",
            "keyword:children=high",
        ),
        (
            "other",
            "Hàng xóm hát karaoke quá khuya",
            "low",
            "category:other=low",
        ),
        (
            "drugs",
            "Thấy họ giao ma túy ở cổng chợ",
            "high",
            "keyword:drug-dealing=high",
        ),
        (
            "other",
            "Nhà bên cạnh có súng, tôi thấy họ cất",
            "urgent",
            "keyword:weapons-now=emergency",
        ),
        (
            "other",
            "nha ben canh co sung, toi thay ho cat",
            "urgent",
            "keyword:weapons-now=emergency",
        ),
    ];
    for (i, (category, text, priority, reason)) in cases.iter().enumerate() {
        let code = report(&t, 9100 + i as i64, category, "thung-nai", text).await;
        let tip = t.tip(&code);
        assert_eq!(tip["priority"], *priority, "{text}: {tip}");
        let why = reasons(&t, &code);
        assert!(why.iter().any(|r| r == reason), "{text}: {why:?}");
        assert!(why.iter().any(|r| r == "route:default"), "{why:?}");
    }
    // The weapons rule flags an emergency for officers.
    let weapons = t.tip_codes();
    assert!(
        weapons
            .iter()
            .filter(|c| t.tip(c)["emergency"] == true)
            .count()
            >= 2
    );
}

#[tokio::test]
async fn a_near_identical_tip_from_the_same_citizen_is_linked_to_the_first() {
    let t = app().await;
    let first = report(
        &t,
        9201,
        "theft",
        "muong-thang",
        "Tối qua kẻ gian bẻ khóa lấy trộm xe máy Wave màu đỏ trước cửa nhà văn hóa xóm Bưng",
    )
    .await;
    // Same story, typed again without diacritics and with a typo.
    let again = report(
        &t,
        9201,
        "theft",
        "muong-thang",
        "toi qua ke gian be khoa lay trom xe may Wave mau do truoc cua nha van hoa xom Bung!",
    )
    .await;
    // Another citizen with the same words is not a duplicate: it is corroboration.
    let other = report(
        &t,
        9202,
        "theft",
        "muong-thang",
        "Tối qua kẻ gian bẻ khóa lấy trộm xe máy Wave màu đỏ trước cửa nhà văn hóa xóm Bưng",
    )
    .await;
    // The same citizen with a different story is not either.
    let different = report(
        &t,
        9201,
        "theft",
        "muong-thang",
        "Có người lạ đi xe không biển số dò xét các nhà trong xóm",
    )
    .await;

    assert_eq!(t.tip(&again)["duplicate_of"], first.as_str());
    assert!(
        reasons(&t, &again)
            .iter()
            .any(|r| r.starts_with(&format!("duplicate-of:{first}("))),
        "{:?}",
        reasons(&t, &again)
    );
    for code in [&first, &other, &different] {
        assert!(t.tip(code)["duplicate_of"].is_null(), "{code}");
    }
    t.fake
        .wait_until("four cards", |calls| {
            calls
                .iter()
                .filter(|c| c.method == "sendmessage" && c.chat_id() == Some(GROUP))
                .count()
                >= 4
        })
        .await;
    let card = t
        .fake
        .messages_to(GROUP)
        .into_iter()
        .find(|c| c.text().contains(&again))
        .unwrap();
    assert!(
        card.text()
            .contains(&format!("Có thể trùng với tin báo {first}")),
        "{}",
        card.text()
    );
}

#[tokio::test]
async fn the_third_tip_of_a_kind_in_one_commune_raises_one_hotspot_alert() {
    let t = app().await;
    let mut codes = Vec::new();
    for i in 0..4 {
        codes.push(
            report(
                &t,
                9300 + i,
                "drugs",
                "thung-nai",
                &format!("Điểm bán ma túy thứ {i} gần trường học"),
            )
            .await,
        );
    }
    // A different commune does not count towards it.
    report(
        &t,
        9310,
        "drugs",
        "muong-thang",
        "Có người bán ma túy ở bến đò",
    )
    .await;
    t.settle().await;

    let hotspots: Vec<_> = t
        .events()
        .into_iter()
        .filter(|e| e["type"] == "hotspot")
        .collect();
    assert_eq!(hotspots.len(), 1, "one alert per window: {hotspots:?}");
    let h = &hotspots[0];
    assert_eq!(h["code"], codes[2]);
    assert_eq!(h["seq"], "2");
    assert_eq!(h["commune"], "thung-nai");
    assert_eq!(h["category"], "drugs");
    assert_eq!(h["count"], "3");
    assert_eq!(h["codes"], codes[..3].join(","));

    t.fake
        .wait_until("the alert in the duty group", |calls| {
            calls
                .iter()
                .any(|c| c.chat_id() == Some(GROUP) && c.text().contains("Điểm nóng"))
        })
        .await;
    let alert = t
        .fake
        .messages_to(GROUP)
        .into_iter()
        .find(|c| c.text().contains("Điểm nóng"))
        .unwrap();
    let text = alert.text();
    assert!(
        text.contains("3 người dân báo loại “Ma túy” tại Xã Thung Nai trong 24 giờ qua (3 tin báo"),
        "{text}"
    );
    for code in &codes[..3] {
        assert!(text.contains(code.as_str()), "{text}");
    }
}
