//! Load benchmark of the whole citizen flow: a real redis-server, the fake Telegram Bot API and
//! tipline in this process; N citizens at once each send a full report (start, category, pin,
//! description, photo, anonymity, send). Prints throughput, step latency (update queued at the
//! fake → the bot's last reply to it received by the fake), Redis memory per stored tip and per
//! conversation in progress, and the peak RSS of this whole process (tipline, fake and load
//! generator together).
//!
//! Run: `cargo bench --bench flow` (BENCH_CITIZENS, BENCH_ROUNDS and BENCH_DRAFTS to change the
//! load).

use tipline_testkit as support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::FakeTelegram;
use tipline::config::ReceiveMode;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run_citizen(fake: FakeTelegram, id: i64, steps: Vec<(Value, usize)>) -> Vec<Duration> {
    let mut expected = fake.sent_count(id);
    let mut lat = Vec::with_capacity(steps.len());
    for (update, replies) in steps {
        expected += replies;
        let t0 = Instant::now();
        fake.push_update(update);
        fake.wait_sent(id, expected).await;
        lat.push(t0.elapsed());
    }
    lat
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn redis_used(t: &support::TestApp) -> i64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query(&mut t.redis())
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let citizens = env("BENCH_CITIZENS", 100) as i64;
    let rounds = env("BENCH_ROUNDS", 3);
    let drafts = env("BENCH_DRAFTS", 1000) as i64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let t = support::spawn_app_with(ReceiveMode::Polling, |s| {
            s.limits.messages_per_minute = 100_000;
            s.limits.tips_per_hour = 100_000;
        })
        .await;
        println!("tipline flow benchmark: {citizens} citizens at once, {rounds} rounds, 10 updates per report");

        let mem0 = redis_used(&t);
        let mut latencies = Vec::new();
        let started = Instant::now();
        for round in 0..rounds {
            let tasks: Vec<_> = (0..citizens)
                .map(|i| {
                    let id = 10_000 + i + round as i64 * 1_000_000;
                    tokio::spawn(run_citizen(t.fake.clone(), id, support::report_updates(id)))
                })
                .collect();
            for task in tasks {
                latencies.extend(task.await.unwrap());
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let tips = t.tip_codes().len();
        assert_eq!(tips, citizens as usize * rounds, "every report became a tip");
        let updates = latencies.len();
        latencies.sort();
        let mem_tips = redis_used(&t) - mem0;
        println!("updates processed      {updates}");
        println!("updates/s sustained    {:.0}", updates as f64 / elapsed);
        println!("tips/s                 {:.1}", tips as f64 / elapsed);
        println!(
            "step latency ms        p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            pct(&latencies, 0.5),
            pct(&latencies, 0.9),
            pct(&latencies, 0.99),
            pct(&latencies, 1.0)
        );
        println!(
            "redis bytes per tip    {} (tip, index, event, route, convo, 24 h dedupe marks)",
            mem_tips / tips as i64
        );

        // Conversations in progress: start many drafts and stop after the description.
        let mem1 = redis_used(&t);
        let chunk = 200;
        let mut next = 50_000_000i64;
        let end = next + drafts;
        while next < end {
            let tasks: Vec<_> = (next..(next + chunk).min(end))
                .map(|id| {
                    let steps = support::report_updates(id).into_iter().take(5).collect();
                    tokio::spawn(run_citizen(t.fake.clone(), id, steps))
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            next += chunk;
        }
        let per_draft = (redis_used(&t) - mem1) / drafts;
        println!("redis bytes per draft  {per_draft} ({drafts} conversations in progress, incl. dedupe marks)");
        println!(
            "peak RSS               {} MB (whole process: tipline + fake Telegram + load generator)",
            peak_rss_kb() / 1024
        );
    });
}
