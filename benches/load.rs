//! The load harness (issue 7): a real `redis-server`, the fake Telegram Bot API and a fake
//! triage service in this process; tipline itself as a separate process (the release binary),
//! so its memory is measured alone. Then the same load against a bare teloxide echo bot on the
//! same kind of fake, for scale.
//!
//! Phases:
//! 1. N citizens at once each send whole reports (start, category, pin, its commune,
//!    description, Next, photo, Done, anonymous, Send: 10 updates); an officer acknowledges
//!    every card. Prints
//!    updates/s, tips/s, step latency (update queued at the fake → the bot's last reply to it
//!    received), submit → officer card, Redis bytes per tip.
//! 2. BENCH_DRAFTS conversations left in progress: tipline's peak RSS, Redis bytes per draft.
//! 3. Forwarding: BENCH_EVENTS events queued at once, delivered to a triage service that
//!    answers at once: events/s.
//! 4. The bare teloxide echo bot under the same updates: updates/s, and tipline's ratio to it.
//!
//! Telegram's own send limits (about 30 messages/s per bot, 20/minute per group) are lifted
//! here: the fake answers at once. `BENCH_SOAK_SECS` runs the soak instead (see [`soak`]).
//! `BENCH_SMOKE=1` runs a few seconds of everything (CI: `BENCH_SMOKE=1 cargo test --bench load`).

use tipline_testkit as support;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{FakeTelegram, FakeTriage, Reply};

const GROUP: i64 = -1_001_000_000_001;

static PERF_STARTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn redis_used(redis: &support::RedisServer) -> i64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query(&mut redis.conn())
        .unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU seconds (user + system) a process has used so far ("self" for this one).
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds Redis has used so far.
fn redis_cpu(redis: &support::RedisServer) -> f64 {
    let info: String = redis::cmd("INFO")
        .arg("cpu")
        .query(&mut redis.conn())
        .unwrap();
    ["used_cpu_sys:", "used_cpu_user:"]
        .iter()
        .filter_map(|k| info.lines().find_map(|l| l.strip_prefix(k)))
        .filter_map(|v| v.trim().parse::<f64>().ok())
        .sum()
}

/// tipline as a child process, configured through the environment against the fakes.
struct Tipline {
    child: Child,
}

impl Tipline {
    fn start(
        redis: &support::RedisServer,
        fake: &FakeTelegram,
        triage: &FakeTriage,
        extra: &[(&str, &str)],
    ) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let public = format!("http://{listen}");
        // BENCH_PERF=<file>: the first tipline runs under `perf record` (call graphs).
        let perf = std::env::var("BENCH_PERF")
            .ok()
            .filter(|_| !PERF_STARTED.swap(true, std::sync::atomic::Ordering::Relaxed));
        let mut cmd = match &perf {
            Some(out) => {
                let mut c = Command::new("perf");
                c.args(["record", "-F", "999", "-g", "-o", out, "--"])
                    .arg(env!("CARGO_BIN_EXE_tipline"));
                c
            }
            None => Command::new(env!("CARGO_BIN_EXE_tipline")),
        };
        cmd.arg("run")
            .arg("--config")
            .arg(root.join("config/tipline.toml"))
            .current_dir(root)
            .env("RUST_LOG", "warn")
            .env("TIPLINE__APP__INSTANCE", "load")
            .env("TIPLINE__REDIS__URL", redis.url())
            .env("TIPLINE__TELEGRAM__API_URL", fake.url())
            .env("TIPLINE__TELEGRAM__POLL_TIMEOUT_SECS", "5")
            .env("TIPLINE__HTTP__LISTEN", &listen)
            .env("TIPLINE__HTTP__PUBLIC_URL", &public)
            .env("TIPLINE__LIMITS__MESSAGES_PER_MINUTE", "100000")
            .env("TIPLINE__LIMITS__TIPS_PER_HOUR", "100000")
            // Every tip of the load is a new citizen's: no summary cards, a card each.
            .env("TIPLINE__LIMITS__NEW_CITIZENS_PER_HOUR", "10000000")
            .env(
                "TIPLINE__LIMITS__NEW_CITIZENS_PER_COMMUNE_PER_HOUR",
                "10000000",
            )
            .env("TIPLINE__DESK__ENABLED", "true")
            .env("TIPLINE__DESK__DEFAULT_GROUP", GROUP.to_string())
            .env("TIPLINE__DESK__OFFICERS", "[501]")
            .env("TIPLINE__TRIAGE__ENABLED", "true")
            .env("TIPLINE__TRIAGE__URL", triage.url())
            .env("TIPLINE__TRIAGE__CONCURRENCY", "32")
            .env("TIPLINE__TRIAGE__BACKOFF_INITIAL_MS", "200")
            .env("TIPLINE__TRIAGE__BACKOFF_MAX_SECS", "5")
            .env("TIPLINE_TELEGRAM_TOKEN", "123456:LOAD-TOKEN")
            .env("TIPLINE_ALIAS_KEY", "load-alias-key-load-alias-key-load")
            .env("TIPLINE_ROUTE_KEY", "22".repeat(32))
            .env("TIPLINE_TRIAGE_SECRET", support::TRIAGE_SECRET)
            .stdout(Stdio::null());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("starting the tipline binary");
        Self { child }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn peak_rss_mb(&self) -> u64 {
        status_kb(self.pid(), "VmHWM:") / 1024
    }

    /// SIGTERM, then wait: the graceful stop (under perf, perf passes it on and writes its
    /// data).
    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let _ = self.child.wait();
    }
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

/// Presses «Tiếp nhận» on every card as it appears, as a duty officer would.
async fn officer(fake: FakeTelegram, stop: tokio_util::sync::CancellationToken) -> usize {
    let mut acked = HashSet::new();
    let mut seen = 0;
    while !stop.is_cancelled() {
        let calls = fake.calls_from(seen);
        for c in &calls {
            if c.method != "sendmessage" || c.chat_id() != Some(GROUP) {
                continue;
            }
            if let Some(data) = c.buttons().into_iter().find(|b| b.starts_with("dk:ack:"))
                && acked.insert(data.clone())
            {
                fake.push_update(json!({"callback_query": {"id": format!("ack{}", acked.len()),
                    "chat_instance": "-5", "data": data,
                    "from": {"id": 501, "is_bot": false, "first_name": "Hùng"},
                    "message": {"message_id": c.message_id.unwrap(), "date": 1_700_000_000,
                        "text": "…", "chat": {"id": GROUP, "type": "supergroup", "title": "Trực ban"},
                        "from": {"id": support::fake_telegram::BOT_ID, "is_bot": true,
                            "first_name": "TipBot", "username": "tip_bot"}}}}));
            }
        }
        seen += calls.len();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    acked.len()
}

/// Receipt (the citizen's "TB-…" message) → the card in the duty group, per tip.
fn submit_to_card(fake: &FakeTelegram) -> Vec<Duration> {
    let re = regex::Regex::new(r"TB-[0-9A-Z]{4}-[0-9A-Z]{4}").unwrap();
    let mut receipts = HashMap::new();
    let mut cards = HashMap::new();
    for c in fake.calls_of("sendMessage") {
        let Some(code) = re.find(c.text()).map(|m| m.as_str().to_owned()) else {
            continue;
        };
        if c.chat_id() == Some(GROUP) {
            cards.entry(code).or_insert(c.at);
        } else if c.text().trim() != "" && c.text().len() < 400 {
            receipts.entry(code).or_insert(c.at);
        }
    }
    let mut out: Vec<Duration> = receipts
        .iter()
        .filter_map(|(code, at)| {
            cards
                .get(code)
                .map(|card| card.saturating_duration_since(*at))
        })
        .collect();
    out.sort();
    out
}

/// Waits until `done` (at most `secs`); whether it came.
async fn wait_until(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    true
}

async fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Phase 4: a bare teloxide bot that echoes every message and button press.
async fn echo_bot(fake: &FakeTelegram) -> teloxide::dispatching::ShutdownToken {
    use teloxide::prelude::*;
    let bot = Bot::new("123456:ECHO").set_api_url(reqwest::Url::parse(&fake.url()).unwrap());
    let handler = dptree::entry()
        .branch(
            Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
                bot.send_message(msg.chat.id, msg.text().unwrap_or("📎").to_owned())
                    .await?;
                respond(())
            }),
        )
        .branch(Update::filter_callback_query().endpoint(
            |bot: Bot, q: CallbackQuery| async move {
                if let Some(m) = q.message {
                    bot.send_message(m.chat().id, "ok").await?;
                }
                respond(())
            },
        ));
    let mut dispatcher = Dispatcher::builder(bot, handler).build();
    let token = dispatcher.shutdown_token();
    tokio::spawn(async move { dispatcher.dispatch().await });
    token
}

async fn load(
    fake: &FakeTelegram,
    citizens: i64,
    rounds: usize,
    base: i64,
    echo: bool,
) -> (Vec<Duration>, f64) {
    let mut latencies = Vec::new();
    let started = Instant::now();
    for round in 0..rounds {
        let tasks: Vec<_> = (0..citizens)
            .map(|i| {
                let id = base + i + round as i64 * 1_000_000;
                let mut steps = support::report_updates(id);
                if echo {
                    for s in &mut steps {
                        s.1 = 1;
                    }
                }
                tokio::spawn(run_citizen(fake.clone(), id, steps))
            })
            .collect();
        for task in tasks {
            latencies.extend(task.await.unwrap());
        }
    }
    (latencies, started.elapsed().as_secs_f64())
}

/// Phase 1b: citizens arriving at a steady pace so that `rate` updates/s reach the bot (each
/// sends their next update when the previous one is answered), for `secs`. The step
/// latencies, and the update rate achieved.
async fn steady(fake: &FakeTelegram, rate: usize, secs: u64, base: i64) -> (Vec<Duration>, f64) {
    let per_report = support::report_updates(0).len();
    let every = Duration::from_secs_f64(per_report as f64 / rate as f64);
    let citizens = (secs as f64 / every.as_secs_f64()) as i64;
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..citizens {
        ticker.tick().await;
        let id = base + i;
        tasks.push(tokio::spawn(run_citizen(
            fake.clone(),
            id,
            support::report_updates(id),
        )));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let achieved = latencies.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    (latencies, achieved)
}

fn main() {
    let smoke = std::env::var("BENCH_SMOKE").is_ok();
    let citizens = env("BENCH_CITIZENS", if smoke { 10 } else { 100 }) as i64;
    let rounds = env("BENCH_ROUNDS", if smoke { 1 } else { 10 });
    let drafts = env("BENCH_DRAFTS", if smoke { 50 } else { 10_000 }) as i64;
    let events = env("BENCH_EVENTS", if smoke { 200 } else { 20_000 });
    let steady_rate = env("BENCH_STEADY_RATE", if smoke { 200 } else { 1000 });
    let steady_secs = env("BENCH_STEADY_SECS", if smoke { 2 } else { 20 }) as u64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(secs) = std::env::var("BENCH_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return rt.block_on(soak(secs, env("BENCH_RATE", 300)));
    }
    rt.block_on(async move {
        let redis = support::RedisServer::start();
        let fake = FakeTelegram::start().await;
        let triage = FakeTriage::start().await;
        let app = Tipline::start(&redis, &fake, &triage, &[]);
        wait_for("tipline to poll", 30, || fake.get_updates_calls() > 0).await;
        println!("tipline load harness: {citizens} citizens at once, {rounds} rounds, 10 updates per report, an officer acknowledging every card");

        // Phase 1.
        let stop = tokio_util::sync::CancellationToken::new();
        let officer_task = tokio::spawn(officer(fake.clone(), stop.clone()));
        let mem0 = redis_used(&redis);
        let cpu0 = (cpu_secs(&app.pid().to_string()), redis_cpu(&redis), cpu_secs("self"));
        let calls0 = fake.call_count();
        let (mut latencies, elapsed) = load(&fake, citizens, rounds, 10_000, false).await;
        let cpu = (
            cpu_secs(&app.pid().to_string()) - cpu0.0,
            redis_cpu(&redis) - cpu0.1,
            cpu_secs("self") - cpu0.2,
        );
        let tips = citizens as usize * rounds;
        wait_for("every card", 60, || submit_to_card(&fake).len() >= tips).await;
        let cards = submit_to_card(&fake);
        wait_for("every tip and acknowledgement forwarded", 120, || triage.delivered().len() >= tips * 2).await;
        let api_calls = fake.call_count() - calls0;
        stop.cancel();
        let acked = officer_task.await.unwrap();
        latencies.sort();
        let updates = latencies.len();
        let per_tip = (redis_used(&redis) - mem0) / tips as i64;
        let rate = updates as f64 / elapsed;
        println!("updates processed        {updates} in {elapsed:.1} s ({acked} cards acknowledged)");
        println!("updates/s sustained      {rate:.0}");
        println!(
            "Bot API calls per update {:.2} (replies, button answers, cleared buttons, cards, card redraws, notices; getUpdates not counted)",
            api_calls as f64 / updates as f64
        );
        println!("tips/s                   {:.1}", tips as f64 / elapsed);
        println!(
            "CPU s in the load        tipline {:.2}, redis {:.2}, fakes and load generator {:.2} (of {:.2} on 2 cores); tipline {:.0} µs per update",
            cpu.0, cpu.1, cpu.2, 2.0 * elapsed, cpu.0 * 1e6 / updates as f64
        );
        println!(
            "step latency ms          p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            pct(&latencies, 0.5), pct(&latencies, 0.9), pct(&latencies, 0.99), pct(&latencies, 1.0)
        );
        println!(
            "submit → card ms         p50 {:.1}  p99 {:.1}",
            pct(&cards, 0.5), pct(&cards, 0.99)
        );
        println!("redis bytes per tip      {per_tip} (tip, events, card, audit, dedupe marks, forwarding state)");
        println!("tipline peak RSS         {} MB after phase 1", app.peak_rss_mb());

        // Phase 1b: a steady rate, below saturation.
        let stop = tokio_util::sync::CancellationToken::new();
        let officer_task = tokio::spawn(officer(fake.clone(), stop.clone()));
        let (steady_lat, achieved) = steady(&fake, steady_rate, steady_secs, 30_000_000).await;
        stop.cancel();
        officer_task.await.unwrap();
        println!(
            "steady {steady_rate}/s for {steady_secs} s  achieved {achieved:.0} updates/s; step latency ms p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
            pct(&steady_lat, 0.5), pct(&steady_lat, 0.9), pct(&steady_lat, 0.99), pct(&steady_lat, 1.0)
        );

        // Phase 2: conversations in progress.
        let mem1 = redis_used(&redis);
        let mut next = 50_000_000i64;
        let end = next + drafts;
        while next < end {
            let tasks: Vec<_> = (next..(next + 200).min(end))
                .map(|id| {
                    let steps = support::report_updates(id).into_iter().take(5).collect();
                    tokio::spawn(run_citizen(fake.clone(), id, steps))
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            next += 200;
        }
        println!(
            "redis bytes per draft    {} ({drafts} conversations in progress)",
            (redis_used(&redis) - mem1) / drafts
        );
        println!("tipline peak RSS         {} MB with {drafts} conversations in progress", app.peak_rss_mb());
        // Everything forwarded before phase 3 measures forwarding alone.
        let all_events = || -> usize {
            redis::cmd("XLEN").arg("{tl}:events").query(&mut redis.conn()).unwrap_or(0)
        };
        let delivered_keys = || triage.delivered().into_iter().map(|r| r.key).collect::<HashSet<_>>().len();
        wait_for("the forwarding backlog", 300, || delivered_keys() >= all_events()).await;
        app.stop();

        // Phase 3: forwarding alone.
        let codes: Vec<String> = redis::cmd("ZRANGE").arg("{tl}:tips").arg(0).arg(-1).query(&mut redis.conn()).unwrap();
        let mut conn = redis.conn();
        for chunk in (0..events).collect::<Vec<_>>().chunks(1000) {
            let mut pipe = redis::pipe();
            for &i in chunk {
                let code = &codes[i % codes.len()];
                let seq: i64 = redis::cmd("HINCRBY").arg(format!("{{tl}}:tip:{code}")).arg("seq").arg(1).query(&mut conn).unwrap();
                pipe.cmd("XADD").arg("{tl}:events").arg("*").arg("type").arg("noted").arg("code").arg(code)
                    .arg("seq").arg(seq).arg("actor").arg("triage").arg("at").arg(1_800_000_000_000i64)
                    .arg("text").arg("ghi chú").ignore();
            }
            let _: () = pipe.query(&mut conn).unwrap();
        }
        let before = triage.delivered().len();
        let redis_cpu0 = redis_cpu(&redis);
        let started = Instant::now();
        let forwarder = Tipline::start(&redis, &fake, &triage, &[
            ("TIPLINE__DESK__ENABLED", "false"),
            ("TIPLINE__NOTIFY__ENABLED", "false"),
        ]);
        wait_for("the first forwarded event", 600, || triage.delivered().len() > before).await;
        let first = started.elapsed().as_secs_f64();
        wait_for("the forwarded backlog", 600, || triage.delivered().len() >= before + events).await;
        let secs = started.elapsed().as_secs_f64();
        println!("forwarding start-up      {first:.2} s to the first delivery; then {:.0} events/s", events as f64 / (secs - first));
        let persistence: String = redis::cmd("INFO").arg("persistence").query(&mut redis.conn()).unwrap();
        let rewrites = persistence.lines().find_map(|l| l.strip_prefix("aof_rewrites:")).unwrap_or("?").trim().to_owned();
        println!("forward events/s         {:.0} ({events} events, triage answering at once, start-up included)", events as f64 / secs);
        println!(
            "CPU s in forwarding      tipline {:.2}, redis {:.2} (of {:.2} on 2 cores); AOF rewrites so far {rewrites}",
            cpu_secs(&forwarder.pid().to_string()), redis_cpu(&redis) - redis_cpu0, 2.0 * secs
        );
        forwarder.stop();

        // Phase 4: the bare teloxide echo bot.
        let echo_fake = FakeTelegram::start().await;
        let token = echo_bot(&echo_fake).await;
        let echo_cpu0 = cpu_secs("self");
        let (mut echo_lat, echo_elapsed) = load(&echo_fake, citizens, rounds, 10_000, true).await;
        let echo_cpu = cpu_secs("self") - echo_cpu0;
        echo_lat.sort();
        let echo_rate = echo_lat.len() as f64 / echo_elapsed;
        if let Ok(f) = token.shutdown() {
            f.await;
        }
        println!("echo bot updates/s       {echo_rate:.0} (bare teloxide Dispatcher, same updates, one reply each)");
        println!(
            "echo bot CPU s           {echo_cpu:.2} for the bot, the fake and the load generator together (of {:.2} on 2 cores); {:.2} Bot API calls per update",
            2.0 * echo_elapsed,
            echo_fake.call_count() as f64 / echo_lat.len() as f64
        );
        println!(
            "echo bot step ms         p50 {:.2}  p99 {:.2}",
            pct(&echo_lat, 0.5), pct(&echo_lat, 0.99)
        );
        println!("tipline / echo           {:.2}", rate / echo_rate);
    });
}

/// Soak: a steady `rate` of updates per second for `secs`, with Redis restarted at a third and
/// the triage service down for two minutes (or a third of the run) from the half; then checks
/// that every submitted tip got a receipt, exactly one card and every event delivered once.
async fn soak(secs: u64, rate: usize) {
    let redis = support::RedisServer::start();
    let fake = FakeTelegram::start().await;
    let triage = FakeTriage::start().await;
    let app = Tipline::start(&redis, &fake, &triage, &[]);
    println!(
        "soak: {rate} updates/s for {secs} s; Redis restarted at {} s, triage down from {} s for {} s",
        secs / 3,
        secs / 2,
        (secs / 3).min(120)
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let officer_task = tokio::spawn(officer(fake.clone(), stop.clone()));
    let started = Instant::now();
    let per_report = 9;
    let reports_per_sec = (rate / per_report).max(1);
    let mut handles = Vec::new();
    let mut id = 70_000_000i64;
    let mut restarted = false;
    let mut down_until = None;
    while started.elapsed().as_secs() < secs {
        let t = started.elapsed().as_secs();
        if !restarted && t >= secs / 3 {
            redis.restart();
            restarted = true;
            println!("  {t} s: Redis restarted");
        }
        if down_until.is_none() && t >= secs / 2 {
            triage.set_default(Some(Reply::Status(503)));
            down_until = Some(t + (secs / 3).min(120));
            println!("  {t} s: triage service down");
        }
        if down_until.is_some_and(|d| t >= d) {
            triage.set_default(None);
            down_until = Some(u64::MAX);
            println!("  {t} s: triage service back");
        }
        for _ in 0..reports_per_sec {
            id += 1;
            let fake = fake.clone();
            handles.push(tokio::spawn(async move {
                for (update, _) in support::report_updates(id) {
                    fake.push_update(update);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                id
            }));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    triage.set_default(None);
    let mut ids = Vec::new();
    for h in handles {
        ids.push(h.await.unwrap());
    }
    println!("reports sent             {}", ids.len());
    let re = regex::Regex::new(r"TB-[0-9A-Z]{4}-[0-9A-Z]{4}").unwrap();
    // One pass over the fake's calls (cloning them per citizen would take minutes).
    let receipted = |fake: &FakeTelegram| {
        let got: HashSet<i64> = fake
            .calls_of("sendMessage")
            .iter()
            .filter(|m| re.is_match(m.text()) && m.text().contains("Mã tin báo của bạn"))
            .filter_map(|m| m.chat_id())
            .collect();
        ids.iter().filter(|id| got.contains(id)).count()
    };
    let drained = wait_until(300, || receipted(&fake) == ids.len()).await;
    println!(
        "reports with a receipt   {} of {}{}",
        receipted(&fake),
        ids.len(),
        if drained { "" } else { " (gave up waiting)" }
    );
    let events = || -> u64 {
        redis::cmd("XLEN")
            .arg("{tl}:events")
            .query(&mut redis.conn())
            .unwrap_or(0)
    };
    let delivered_keys = || {
        triage
            .delivered()
            .into_iter()
            .map(|r| r.key)
            .collect::<HashSet<String>>()
            .len() as u64
    };
    let forwarded = wait_until(900, || delivered_keys() >= events()).await;
    println!(
        "events                   {}; delivered {}{}",
        events(),
        delivered_keys(),
        if forwarded { "" } else { " (gave up waiting)" }
    );
    let codes: Vec<String> = redis::cmd("ZRANGE")
        .arg("{tl}:tips")
        .arg(0)
        .arg(-1)
        .query(&mut redis.conn())
        .unwrap();
    // Cards: the first message of each tip in the duty group that carries its buttons.
    let count_cards = |fake: &FakeTelegram| {
        fake.messages_to(GROUP)
            .iter()
            .filter_map(|m| {
                m.buttons()
                    .iter()
                    .any(|b| b.starts_with("dk:"))
                    .then(|| re.find(m.text()).map(|c| c.as_str().to_owned()))
                    .flatten()
            })
            .fold(HashMap::<String, usize>::new(), |mut acc, c| {
                *acc.entry(c).or_default() += 1;
                acc
            })
    };
    // The desk catches up after the load: wait for every card, and for the events of the
    // acknowledgements to be forwarded too.
    let all_cards = wait_until(300, || count_cards(&fake).len() >= codes.len()).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    officer_task.await.unwrap();
    let forwarded = wait_until(300, || delivered_keys() >= events()).await;
    println!(
        "events after the desk    {}; delivered {}{}{}",
        events(),
        delivered_keys(),
        if forwarded { "" } else { " (gave up waiting)" },
        if all_cards {
            ""
        } else {
            "; gave up waiting for cards"
        }
    );
    let cards = count_cards(&fake);
    let delivered = triage.delivered();
    let mut per_key: HashMap<String, usize> = HashMap::new();
    for r in &delivered {
        *per_key.entry(r.key.clone()).or_default() += 1;
    }
    let lost_tips = ids.len() as i64 - codes.len() as i64;
    let missing_cards = codes.iter().filter(|c| !cards.contains_key(*c)).count();
    let double_cards = cards.values().filter(|n| **n > 1).count();
    let dup_forwards = per_key.values().filter(|n| **n > 1).count();
    println!(
        "tips stored              {} (lost {lost_tips})",
        codes.len()
    );
    println!("cards missing / doubled  {missing_cards} / {double_cards}");
    println!("events delivered twice   {dup_forwards}");
    println!("tipline peak RSS         {} MB", app.peak_rss_mb());
    app.stop();
}
