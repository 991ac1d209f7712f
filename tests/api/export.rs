//! Exports, admin commands and the weekly report: tips seeded at chosen times go out in every
//! format and read back field by field; week boundaries fall at local midnight; only admins
//! get files; the weekly report goes out once however many runners there are.

use std::collections::HashMap;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde_json::Value;
use tipline::app::{App, Options};
use tipline::codes::ReceiptCode;
use tipline::config::{Priority, ReceiveMode};
use tipline::conversation::Place;
use tipline::export::source::{Filter, export};
use tipline::export::week;
use tipline::export::{Format, Output, Writer};
use tipline::i18n::Lang;
use tipline::privacy::Channel;
use tipline::store::{Tip, TipStatus};

use crate::support::{TestApp, secrets, spawn_app_with};

const ADMIN: i64 = 777_001;
const ADMIN_CHAT: i64 = -1_009_000_000_001;

/// A local (+7) time as epoch ms.
fn local_ms(local: &str) -> i64 {
    NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S%.3f")
        .unwrap()
        .and_utc()
        .timestamp_millis()
        - 7 * 3_600_000
}

fn tip(code: &str, received: &str, category: &str, commune: &str, text: &str) -> Tip {
    let received_ms = local_ms(received);
    Tip {
        code: ReceiptCode::parse(code).unwrap(),
        status: TipStatus::Submitted,
        received_ms,
        started_ms: received_ms - 60_000,
        channel: Channel::Telegram,
        alias: "c00112233445566778899".into(),
        lang: Lang::Vi,
        category: category.into(),
        priority: Priority::Normal,
        priority_reasons: vec![format!("category:{category}=normal")],
        emergency: false,
        place: Place::Commune { id: commune.into() },
        commune: Some(commune.into()),
        mailbox: None,
        description: text.into(),
        evidence: vec![],
        contact_sealed: None,
        seq: 1,
        acknowledged_ms: None,
        acknowledged_by: None,
        claimed_ms: None,
        claimed_by: None,
        closed_ms: None,
        closed_by: None,
        disposition: None,
        duplicate_of: None,
        purged_ms: None,
    }
}

/// Stores a tip the way the commit script does (hash + time index), with extra hash fields.
fn seed(t: &TestApp, tip: &Tip, extra: &[(&str, &str)]) {
    let key = format!("{}:tip:{}", t.ns(), tip.code);
    let mut c = t.redis();
    let mut cmd = ::redis::cmd("HSET");
    cmd.arg(&key)
        .arg("json")
        .arg(serde_json::to_string(tip).unwrap())
        .arg("status")
        .arg(serde_json::to_value(tip.status).unwrap().as_str().unwrap())
        .arg("seq")
        .arg(1);
    for (k, v) in extra {
        cmd.arg(*k).arg(*v);
    }
    let _: () = cmd.query(&mut c).unwrap();
    let _: () = ::redis::cmd("ZADD")
        .arg(format!("{}:tips", t.ns()))
        .arg(tip.received_ms)
        .arg(tip.code.as_str())
        .query(&mut c)
        .unwrap();
}

const TRICKY: &str = "Ông \"Tư\" bán ma túy, hàng tuần\nvào tối thứ Bảy; gọi 0912 345 678 😀";

fn seed_weeks(t: &TestApp) {
    // Around the start and end of 2026-W48 (Mon 23 Nov – Sun 29 Nov, local time).
    seed(
        t,
        &tip(
            "TB-AAAA-0001",
            "2026-11-22 23:59:59.999",
            "drugs",
            "thung-nai",
            "cuối tuần 47",
        ),
        &[],
    );
    seed(
        t,
        &tip(
            "TB-AAAA-0002",
            "2026-11-23 00:00:00.000",
            "drugs",
            "thung-nai",
            TRICKY,
        ),
        &[],
    );
    let mut acked = tip(
        "TB-AAAA-0003",
        "2026-11-25 09:30:00.000",
        "theft",
        "muong-thang",
        "Mất xe máy, biển 28B1-123.45",
    );
    acked.status = TipStatus::Closed;
    seed(
        t,
        &acked,
        &[
            ("status", "closed"),
            ("ack_ms", &(acked.received_ms + 90 * 60_000).to_string()),
            ("close_ms", &(acked.received_ms + 3 * 3_600_000).to_string()),
            ("disposition", "handled"),
        ],
    );
    seed(
        t,
        &tip(
            "TB-AAAA-0004",
            "2026-11-29 23:59:59.999",
            "fraud",
            "thung-nai",
            "Lừa đảo qua mạng, đòi chuyển khoản",
        ),
        &[],
    );
    seed(
        t,
        &tip(
            "TB-AAAA-0005",
            "2026-11-30 00:00:00.000",
            "drugs",
            "thung-nai",
            "đầu tuần 49",
        ),
        &[],
    );
    // Across the year end: 2026-W53 is Mon 28 Dec 2026 – Sun 3 Jan 2027.
    seed(
        t,
        &tip(
            "TB-AAAA-0006",
            "2026-12-31 12:00:00.000",
            "other",
            "thung-nai",
            "giao thừa",
        ),
        &[],
    );
    seed(
        t,
        &tip(
            "TB-AAAA-0007",
            "2027-01-03 23:59:59.000",
            "other",
            "thung-nai",
            "chủ nhật",
        ),
        &[],
    );
    seed(
        t,
        &tip(
            "TB-AAAA-0008",
            "2027-01-04 00:00:00.000",
            "other",
            "thung-nai",
            "tuần 1",
        ),
        &[],
    );
}

async fn export_codes(t: &TestApp, spec: &str, filter: &Filter) -> Vec<String> {
    let range = week::iso_week(spec, 7).unwrap();
    let mut out = Vec::new();
    {
        let mut w =
            Writer::new(Format::Jsonl, Output::stream(&mut out), &t.settings.export).unwrap();
        export(
            t.app().shared.export_reads(),
            &range,
            filter,
            &mut [&mut w],
            None,
            "admin:test",
        )
        .await
        .unwrap();
        w.finish().unwrap();
    }
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["code"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn weeks_start_and_end_at_local_midnight_including_across_the_year_end() {
    let t = spawn_app_with(ReceiveMode::Polling, |_| {}).await;
    seed_weeks(&t);
    let all = Filter::default();
    assert_eq!(export_codes(&t, "2026-W47", &all).await, ["TB-AAAA-0001"]);
    assert_eq!(
        export_codes(&t, "2026-W48", &all).await,
        ["TB-AAAA-0002", "TB-AAAA-0003", "TB-AAAA-0004"]
    );
    assert_eq!(export_codes(&t, "2026-W49", &all).await, ["TB-AAAA-0005"]);
    assert_eq!(
        export_codes(&t, "2026-W53", &all).await,
        ["TB-AAAA-0006", "TB-AAAA-0007"]
    );
    assert_eq!(export_codes(&t, "2027-W01", &all).await, ["TB-AAAA-0008"]);
    let drugs = Filter {
        category: Some("drugs".into()),
        ..Filter::default()
    };
    assert_eq!(export_codes(&t, "2026-W48", &drugs).await, ["TB-AAAA-0002"]);
    let bac_phong = Filter {
        commune: Some("muong-thang".into()),
        ..Filter::default()
    };
    assert_eq!(
        export_codes(&t, "2026-W48", &bac_phong).await,
        ["TB-AAAA-0003"]
    );
    let closed = Filter {
        status: Some(TipStatus::Closed),
        ..Filter::default()
    };
    assert_eq!(
        export_codes(&t, "2026-W48", &closed).await,
        ["TB-AAAA-0003"]
    );

    // Every export is audited: who, which range, how many.
    let audit: ::redis::streams::StreamRangeReply = ::redis::cmd("XRANGE")
        .arg(format!("{}:audit", t.ns()))
        .arg("-")
        .arg("+")
        .query(&mut t.redis())
        .unwrap();
    let details: Vec<String> = audit
        .ids
        .iter()
        .filter(|id| id.get::<String>("action").as_deref() == Some("export"))
        .map(|id| id.get::<String>("detail").unwrap_or_default())
        .collect();
    assert_eq!(details.len(), 8);
    assert!(
        details.contains(&"2026-W48 3 tips".to_owned()),
        "{details:?}"
    );
}

#[tokio::test]
async fn a_week_exports_to_csv_xlsx_and_jsonl_and_reads_back_field_by_field() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.export.description = tipline::export::DescriptionMode::Full;
    })
    .await;
    seed_weeks(&t);
    let range = week::iso_week("2026-W48", 7).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<_> = ["csv", "xlsx", "jsonl"]
        .iter()
        .map(|ext| dir.path().join(format!("w48.{ext}")))
        .collect();
    {
        let opts = &t.settings.export;
        let mut csv_w = Writer::new(Format::Csv, Output::path(&paths[0]), opts).unwrap();
        let mut xlsx_w = Writer::new(Format::Xlsx, Output::path(&paths[1]), opts).unwrap();
        let mut jsonl_w = Writer::new(Format::Jsonl, Output::path(&paths[2]), opts).unwrap();
        let n = export(
            t.app().shared.export_reads(),
            &range,
            &Filter::default(),
            &mut [&mut csv_w, &mut xlsx_w, &mut jsonl_w],
            None,
            "admin:test",
        )
        .await
        .unwrap();
        assert_eq!(n, 3);
        for w in [csv_w, xlsx_w, jsonl_w] {
            assert_eq!(w.finish().unwrap().total, 3);
        }
    }

    // CSV: BOM, then RFC 4180; the tricky description survives.
    let raw = std::fs::read(&paths[0]).unwrap();
    assert!(raw.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let mut reader = csv::Reader::from_reader(&raw[3..]);
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<HashMap<String, String>> = reader
        .records()
        .map(|r| {
            headers
                .iter()
                .zip(r.unwrap().iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["code"], "TB-AAAA-0002");
    assert_eq!(rows[0]["received_at"], "2026-11-23 00:00:00");
    assert_eq!(rows[0]["description"], TRICKY);
    assert_eq!(rows[0]["commune_name"], "Xã Thung Nai");
    assert_eq!(rows[0]["category_label"], "Ma túy");
    assert_eq!(rows[1]["status"], "closed");
    assert_eq!(rows[1]["disposition"], "handled");
    assert_eq!(rows[1]["minutes_to_ack"], "90.0");
    assert_eq!(rows[1]["minutes_to_close"], "180.0");
    assert!(
        !headers.iter().any(|h| h == "alias"),
        "no alias unless allowed"
    );
    assert!(!String::from_utf8_lossy(&raw).contains("c00112233445566778899"));

    // JSONL: the same values, typed.
    let lines: Vec<Value> = std::fs::read_to_string(&paths[2])
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (line, row) in lines.iter().zip(&rows) {
        for (k, v) in row {
            let got = match &line[k.as_str()] {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                Value::Number(n) => {
                    let f = n.as_f64().unwrap();
                    if k.starts_with("minutes") {
                        format!("{f:.1}")
                    } else {
                        n.to_string()
                    }
                }
                Value::Bool(b) => b.to_string(),
                other => other.to_string(),
            };
            if k == "received_at" {
                assert!(got.starts_with(&v.replace(' ', "T")), "{k}: {got} vs {v}");
                assert!(got.ends_with("+07:00"), "{got}");
            } else {
                assert_eq!(&got, v, "{k}");
            }
        }
    }

    // XLSX: the tips sheet has the same cells.
    use calamine::{Reader, open_workbook_auto};
    let mut book = open_workbook_auto(&paths[1]).unwrap();
    let names = book.sheet_names().to_vec();
    assert_eq!(names.len(), 2, "{names:?}");
    let sheet = book.worksheet_range(&names[0]).unwrap();
    let cells: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(cells.len(), 4, "a header and three tips");
    let code_col = headers.iter().position(|h| h == "code").unwrap();
    let desc_col = headers.iter().position(|h| h == "description").unwrap();
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(cells[i + 1][code_col], row["code"]);
        assert_eq!(cells[i + 1][desc_col], row["description"]);
    }
}

async fn admin_app() -> TestApp {
    spawn_app_with(ReceiveMode::Polling, |s| {
        s.admin.users = vec![ADMIN as u64];
    })
    .await
}

fn uploads_to(t: &TestApp, chat: i64) -> Vec<crate::support::Call> {
    t.fake
        .calls()
        .into_iter()
        .filter(|c| {
            matches!(c.method.as_str(), "senddocument" | "sendphoto") && c.chat_id() == Some(chat)
        })
        .collect()
}

#[tokio::test]
async fn admins_get_the_log_and_statistics_in_chat_and_everyone_else_is_refused() {
    let t = admin_app().await;
    seed_weeks(&t);

    let mut stranger = t.citizen(555_001);
    let refused = stranger.says("/export 2026-W48").await;
    assert!(
        crate::support::texts(&refused).contains("chỉ dành cho quản trị viên"),
        "{}",
        crate::support::texts(&refused)
    );
    stranger.says("/stats").await;
    assert!(
        uploads_to(&t, 555_001).is_empty(),
        "no files for a non-admin"
    );

    let mut admin = t.citizen(ADMIN);
    let bad = admin.says("/export tuần trước").await;
    assert!(crate::support::texts(&bad).contains("không phải là một tuần"));

    admin.says("/export 2026-W48").await;
    let files = uploads_to(&t, ADMIN);
    let names: Vec<String> = files.iter().filter_map(|c| c.file_name()).collect();
    assert_eq!(names, ["tipline-2026-W48.csv", "tipline-2026-W48.xlsx"]);
    let caption = files[0].body["caption"].as_str().unwrap();
    assert!(caption.contains("3 tin"), "{caption}");
    let csv = files[0].body["document"].as_str().unwrap();
    assert!(
        csv.starts_with('\u{feff}'),
        "BOM: {:?}",
        csv.chars().take(20).collect::<String>()
    );
    assert!(csv.contains("TB-AAAA-0003"));
    assert!(!csv.contains("TB-AAAA-0005"), "another week");
    assert!(csv.contains("[SĐT]"), "descriptions redacted by default");
    assert!(!csv.contains("0912 345 678"));

    let replies = admin.says("/stats 2026-W48").await;
    let text = crate::support::texts(&replies);
    assert!(text.contains("2026-W48"), "{text}");
    let photo = uploads_to(&t, ADMIN)
        .into_iter()
        .find(|c| c.method == "sendphoto")
        .expect("a chart");
    assert_eq!(photo.file_name().as_deref(), Some("tipline-2026-W48.png"));
    assert!(photo.body["photo"].as_str().unwrap().contains("PNG"));
}

#[tokio::test]
async fn the_weekly_report_goes_out_once_with_two_runners_and_after_downtime() {
    let mut t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.admin.users = vec![ADMIN as u64];
        s.admin.report_chat = ADMIN_CHAT;
        s.admin.report_at = "mon 07:00".into();
    })
    .await;
    seed_weeks(&t);
    // Monday 30 Nov, 06:59 local: not yet.
    t.stop().await;
    t.clock.jump_to(local_ms("2026-11-30 06:59:00.000"));
    t.settings.admin.weekly_report = true;
    t.start().await;
    // A second runner on the same Redis (no Telegram receiver of its own).
    let mut second_settings = t.settings.clone();
    second_settings.app.instance = "second".into();
    second_settings.telegram.mode = ReceiveMode::Webhook;
    let second = App::start(
        second_settings.clone(),
        secrets(&second_settings),
        Options {
            clock: t.clock.clone(),
            sweep_every: Duration::from_millis(20),
            code_seed: None,
        },
    )
    .await
    .unwrap();
    t.fire_timers().await;
    assert!(uploads_to(&t, ADMIN_CHAT).is_empty(), "not before 07:00");

    t.clock.advance(Duration::from_secs(120));
    t.fake
        .wait_until("the weekly report", |calls| {
            calls
                .iter()
                .filter(|c| c.method == "senddocument" && c.chat_id() == Some(ADMIN_CHAT))
                .count()
                >= 2
        })
        .await;
    for _ in 0..3 {
        t.fire_timers().await;
    }
    let uploads = uploads_to(&t, ADMIN_CHAT);
    let names: Vec<String> = uploads.iter().filter_map(|c| c.file_name()).collect();
    assert_eq!(
        names,
        [
            "tipline-2026-W48.png",
            "tipline-2026-W48.csv",
            "tipline-2026-W48.xlsx"
        ],
        "exactly once"
    );
    let summaries = t.fake.messages_to(ADMIN_CHAT);
    assert_eq!(summaries.len(), 1);
    assert!(
        summaries[0].text().contains("Báo cáo tuần 2026-W48"),
        "{}",
        summaries[0].text()
    );
    second.stop().await.expect("no role failed");

    // Down over the next Monday morning; back on Tuesday: that week's report goes out then.
    t.stop().await;
    t.clock.jump_to(local_ms("2026-12-08 10:00:00.000"));
    t.start().await;
    t.fake
        .wait_until("the next report", |calls| {
            calls
                .iter()
                .any(|c| c.file_name().as_deref() == Some("tipline-2026-W49.xlsx"))
        })
        .await;
    for _ in 0..3 {
        t.fire_timers().await;
    }
    let weekly: Vec<String> = uploads_to(&t, ADMIN_CHAT)
        .iter()
        .filter_map(|c| c.file_name())
        .filter(|n| n.ends_with(".xlsx"))
        .collect();
    assert_eq!(weekly, ["tipline-2026-W48.xlsx", "tipline-2026-W49.xlsx"]);
}

#[tokio::test]
async fn every_mailbox_gets_a_poster_whose_qr_opens_its_deep_link() {
    let t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.posters.bot_username = "HomThuCaoPhong_bot".into();
    })
    .await;
    let shared = &t.app().shared;
    let dir = tempfile::tempdir().unwrap();
    for mailbox in &shared.settings.mailboxes {
        let files =
            tipline::posters::write_poster(&shared.settings, &shared.texts, mailbox, dir.path())
                .unwrap();
        let svg = std::fs::read_to_string(&files[0]).unwrap();
        for word in mailbox.name.split_whitespace() {
            assert!(
                svg.contains(&tipline::render::escape(word)),
                "{word} of {}",
                mailbox.name
            );
        }
        let png = std::fs::read(&files[1]).unwrap();
        let pixmap = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
        let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
        let data = pixmap.data();
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            let i = (y * w + x) * 4;
            ((u32::from(data[i]) + u32::from(data[i + 1]) + u32::from(data[i + 2])) / 3) as u8
        });
        let grids = img.detect_grids();
        let decoded: Vec<String> = grids.iter().map(|g| g.decode().unwrap().1).collect();
        assert_eq!(
            decoded,
            [format!(
                "https://t.me/HomThuCaoPhong_bot?start=mb_{}",
                mailbox.code
            )]
        );
    }
}

#[tokio::test]
async fn an_admin_who_cannot_be_reached_does_not_make_the_others_get_the_report_again() {
    const GONE: i64 = 424_242;
    let mut t = spawn_app_with(ReceiveMode::Polling, |s| {
        s.admin.users = vec![GONE as u64, ADMIN as u64];
        s.admin.report_at = "mon 07:00".into();
    })
    .await;
    seed_weeks(&t);
    t.stop().await;
    t.clock.jump_to(local_ms("2026-11-30 08:00:00.000"));
    t.settings.admin.weekly_report = true;
    // The first admin never opened the bot: Telegram refuses every message to them.
    for _ in 0..3 {
        t.fake
            .fail_next_to("sendMessage", GONE, crate::support::Fault::Blocked);
    }
    t.start().await;
    t.fake
        .wait_until("the report to the reachable admin", |calls| {
            calls
                .iter()
                .filter(|c| c.method == "senddocument" && c.chat_id() == Some(ADMIN))
                .count()
                >= 2
        })
        .await;
    // Many sweeps later (every 50 ms), still once.
    for _ in 0..3 {
        t.fire_timers().await;
    }
    let names: Vec<String> = uploads_to(&t, ADMIN)
        .iter()
        .filter_map(|c| c.file_name())
        .collect();
    assert_eq!(
        names,
        [
            "tipline-2026-W48.png",
            "tipline-2026-W48.csv",
            "tipline-2026-W48.xlsx"
        ]
    );
    assert_eq!(t.fake.messages_to(ADMIN).len(), 1);
}
