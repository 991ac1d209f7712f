//! `/status`: status only, never content; unknown and malformed codes; rate limits.

use crate::support::{receipt_code, spawn_app, spawn_app_with, texts};
use tipline::config::ReceiveMode;

async fn submit(c: &mut crate::support::Citizen<'_>) -> String {
    c.says("/report").await;
    c.presses("cat:cyber").await;
    c.says("Trang mạng giả mạo ngân hàng").await;
    c.presses("pl:unknown").await;
    c.says("Tài khoản lừa đảo chuyển tiền 0912345678").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    receipt_code(&c.presses("rv:send").await).unwrap()
}

#[tokio::test]
async fn status_answers_for_own_unknown_and_malformed_codes_without_content() {
    let t = spawn_app().await;
    let mut c = t.citizen(1001);
    let code = submit(&mut c).await;

    let r = c.says(&format!("/status {code}")).await;
    assert_eq!(r.len(), 1);
    assert!(r[0].text().contains(&code), "{}", texts(&r));
    assert!(r[0].text().contains("đang chờ xử lý"));
    assert!(
        !r[0].text().contains("ngân hàng"),
        "status never shows the content"
    );

    // Forgiving: lower case, no dashes, O for 0.
    let sloppy = code.to_lowercase().replace('-', "").replace('0', "o");
    let r = c.says(&format!("/status {sloppy}")).await;
    assert!(r[0].text().contains(&code), "{}", texts(&r));

    let r = c.says("/status TB-ZZZZ-ZZZZ").await;
    assert!(
        r[0].text().contains("Không tìm thấy tin báo TB-ZZZZ-ZZZZ"),
        "{}",
        texts(&r)
    );
    let r = c.says("/status 12345").await;
    assert!(r[0].text().contains("không đúng dạng"), "{}", texts(&r));

    let r = c.says("/status").await;
    assert!(r[0].text().contains("gần đây"), "{}", texts(&r));
    assert!(r[1].text().contains(&code));

    // Someone else holding the code sees the status too (the code is the credential),
    // and someone without tips is told so.
    let mut other = t.citizen(1002);
    let r = other.says(&format!("/status {code}")).await;
    assert!(r[0].text().contains(&code));
    let r = other.says("/status").await;
    assert!(r[0].text().contains("chưa gửi tin báo"), "{}", texts(&r));
}

#[tokio::test]
async fn too_many_messages_a_minute_are_refused_once_then_ignored_until_the_minute_passes() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| s.limits.messages_per_minute = 5).await;
    t.align_clock(60);
    let mut c = t.citizen(1003);
    c.says("/start").await;
    c.presses("cat:drugs").await;
    c.says("Chợ huyện").await;
    c.presses("pl:unknown").await;
    let r = c.says("Bán hàng cấm").await;
    assert!(r[0].text().contains("Đã ghi nhận"), "{}", texts(&r));
    let r = c.says("thêm nữa").await;
    assert_eq!(r.len(), 1);
    assert!(r[0].text().contains("quá nhanh"), "{}", texts(&r));
    let r = c.says("và nữa").await;
    assert!(r.is_empty(), "{}", texts(&r));
    t.clock.advance(std::time::Duration::from_secs(61));
    let r = c.says("sau một phút").await;
    assert!(r[0].text().contains("Đã ghi nhận"), "{}", texts(&r));
    let draft: String = ::redis::cmd("KEYS")
        .arg(format!("{}:convo:*", t.ns()))
        .query::<Vec<String>>(&mut t.redis())
        .unwrap()
        .join(",");
    let raw: String = ::redis::cmd("GET")
        .arg(&draft)
        .query(&mut t.redis())
        .unwrap();
    assert!(
        raw.contains("Bán hàng cấm\\nsau một phút"),
        "refused messages changed nothing: {raw}"
    );
}

#[tokio::test]
async fn too_many_tips_an_hour_keep_the_draft_for_later() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| s.limits.tips_per_hour = 1).await;
    t.align_clock(3600);
    let mut c = t.citizen(1004);
    submit(&mut c).await;
    c.says("/report").await;
    c.presses("cat:other").await;
    c.says("Bãi đất trống").await;
    c.presses("pl:unknown").await;
    c.says("Đổ trộm rác thải").await;
    c.presses("go:next").await;
    c.presses("go:next").await;
    c.says("🕶 Ẩn danh").await;
    let r = c.presses("rv:send").await;
    assert!(r[0].text().contains("nhiều tin báo"), "{}", texts(&r));
    assert!(
        r[1].text().contains("Đổ trộm rác thải"),
        "the review is shown again"
    );
    assert_eq!(t.tip_codes().len(), 1);
    t.clock.advance(std::time::Duration::from_secs(3601));
    let r = c.presses("rv:send").await;
    assert!(receipt_code(&r).is_some(), "{}", texts(&r));
    assert_eq!(t.tip_codes().len(), 2);
}

#[tokio::test]
async fn status_lookups_are_rate_limited() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| s.limits.status_per_hour = 2).await;
    t.align_clock(3600);
    let mut c = t.citizen(1005);
    c.says("/status TB-AAAA-AAAA").await;
    c.says("/status TB-AAAA-AAAB").await;
    let r = c.says("/status TB-AAAA-AAAC").await;
    assert!(r[0].text().contains("tra cứu quá nhiều"), "{}", texts(&r));
}
