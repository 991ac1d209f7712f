//! Export benchmark: 100,000 tips (BENCH_TIPS) seeded into a real redis-server, then the same
//! week exported as CSV, XLSX and JSON Lines through tipline's export path (Redis pages →
//! rows → writer). Prints the time and the peak memory of each export; the peak is reset
//! before each one (`/proc/self/clear_refs`), so it is what the export itself needed on top of
//! the process.
//!
//! Run: `cargo bench --bench export`.

use tipline_testkit as support;

use std::time::Instant;

use tipline::app::{Options, Shared};
use tipline::codes::ReceiptCode;
use tipline::config::{Priority, ReceiveMode};
use tipline::conversation::Place;
use tipline::export::source::{Filter, export};
use tipline::export::{Format, Output, Writer, week};
use tipline::i18n::Lang;
use tipline::privacy::Channel;
use tipline::store::{Tip, TipStatus};

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::var("BENCH_TIPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let redis = support::RedisServer::start();
        let fake = support::FakeTelegram::start().await;
        let mut settings = support::settings(&redis, &fake, ReceiveMode::Polling);
        settings.telegram.enabled = false;
        let secrets = support::secrets(&settings);
        let shared = Shared::build(settings, &secrets, &Options::default()).await.unwrap();
        let range = week::iso_week("2026-W48", 7).unwrap();

        let t0 = Instant::now();
        let mut conn = redis.conn();
        let categories = ["drugs", "theft", "fraud", "gambling", "other"];
        let communes = ["thung-nai", "muong-thang", "cao-phong"];
        for chunk in (0..n).collect::<Vec<_>>().chunks(2000) {
            let mut pipe = ::redis::pipe();
            for &i in chunk {
                let code = ReceiptCode::parse(&format!("TB-{:04}-{:04}", i / 10_000, i % 10_000))
                    .unwrap();
                let received_ms = range.from_ms + (i as i64 * 6_048) % (7 * 86_400_000);
                let tip = Tip {
                    code: code.clone(),
                    status: TipStatus::Submitted,
                    received_ms,
                    started_ms: received_ms - 120_000,
                    channel: Channel::Telegram,
                    alias: format!("c{:020x}", i),
                    lang: Lang::Vi,
                    category: categories[i % categories.len()].into(),
                    priority: Priority::Normal,
                    priority_reasons: vec!["category:drugs=high".into()],
                    emergency: false,
                    place: Place::Commune { id: communes[i % 3].into() },
                    commune: Some(communes[i % 3].into()),
                    mailbox: None,
                    description: format!("Tin báo số {i}: có người lạ bán hàng cấm, gọi 0912 345 678, \"xe máy\" biển 28B1-123.45"),
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
                };
                let key = format!("{{tl}}:tip:{code}");
                pipe.cmd("HSET")
                    .arg(&key)
                    .arg("json")
                    .arg(serde_json::to_string(&tip).unwrap())
                    .arg("status")
                    .arg(if i % 3 == 0 { "closed" } else { "acknowledged" })
                    .arg("seq")
                    .arg(2)
                    .arg("ack_ms")
                    .arg(received_ms + (i as i64 % 300) * 60_000)
                    .ignore();
                pipe.cmd("ZADD")
                    .arg("{tl}:tips")
                    .arg(received_ms)
                    .arg(code.as_str())
                    .ignore();
            }
            let _: () = pipe.query(&mut conn).unwrap();
        }
        println!("seeded {n} tips in {:.1} s", t0.elapsed().as_secs_f64());
        println!("process RSS before exports: {} MB", status_kb("VmRSS:") / 1024);

        let dir = tempfile::tempdir().unwrap();
        for format in [Format::Csv, Format::Jsonl, Format::Xlsx] {
            let _ = std::fs::write("/proc/self/clear_refs", "5");
            let before = status_kb("VmRSS:");
            let path = dir.path().join(format!("bench.{}", format.extension()));
            let t0 = Instant::now();
            let mut w = Writer::new(format, Output::path(&path), &shared.settings.export).unwrap();
            let count = export(shared.export_reads(), &range, &Filter::default(), &mut [&mut w], None, "bench")
                .await
                .unwrap();
            w.finish().unwrap();
            let secs = t0.elapsed().as_secs_f64();
            let size = std::fs::metadata(&path).unwrap().len();
            println!(
                "{format:>5}: {count} tips in {secs:.2} s ({:.0} tips/s), file {:.1} MB, peak RSS {} MB (+{} MB over the {} MB before)",
                count as f64 / secs,
                size as f64 / 1e6,
                status_kb("VmHWM:") / 1024,
                status_kb("VmHWM:").saturating_sub(before) / 1024,
                before / 1024,
            );
        }
    });
}
