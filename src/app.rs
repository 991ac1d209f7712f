//! One tipline process: builds the shared parts, starts every role as a task (HTTP server,
//! Telegram poller, intake, draft sweeper), and stops them on one shutdown signal. Each loop
//! stops only between units of work; a task that ends is logged with how it ended.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, FixedOffset};
use rand::SeedableRng;
use rand::rngs::StdRng;
use regex::RegexSet;
use secrecy::ExposeSecret;
use teloxide::Bot;
use teloxide::prelude::Requester;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::channels::telegram;
use crate::codes::ReceiptCode;
use crate::config::{Secrets, Settings, TelegramMode};
use crate::consumer::Consumer;
use crate::i18n::{Lang, Texts};
use crate::intake::{self, Intake};
use crate::privacy::Vault;
use crate::store::Store;

/// Wall-clock time in ms, with an offset that tests move forward instead of waiting.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
    moved: Arc<tokio::sync::Notify>,
}

impl Clock {
    /// Now, in ms since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        wall + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves this clock (and its clones) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
        self.moved.notify_waiters();
    }

    /// Sets this clock (and its clones) so that now is `ms` (tests start at a chosen time).
    pub fn jump_to(&self, ms: i64) {
        let wall = self.now_ms() - self.offset_ms.load(Ordering::Relaxed);
        self.offset_ms.store(ms - wall, Ordering::Relaxed);
        self.moved.notify_waiters();
    }

    /// Waits until this clock has moved on by `d`: in real time, or at once when a test
    /// advances it past the end. Backoff waits use it, so a test can skip hours.
    pub async fn sleep(&self, d: Duration) {
        let until = self.now_ms() + d.as_millis() as i64;
        loop {
            let moved = self.moved.notified();
            tokio::pin!(moved);
            moved.as_mut().enable();
            let left = until - self.now_ms();
            if left <= 0 {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(left as u64)) => {}
                _ = moved => {}
            }
        }
    }
}

/// What every role of a process shares.
pub struct Shared {
    /// The configuration.
    pub settings: Settings,
    /// Locale texts.
    pub texts: Texts,
    /// Aliases and sealed routes.
    pub vault: Vault,
    /// Compiled emergency patterns.
    pub emergency: RegexSet,
    /// Compiled keyword rules.
    pub rules: crate::rules::Rules,
    /// Redis.
    pub store: Store,
    /// Telegram client for sending, when the channel is enabled.
    pub tg: Option<Bot>,
    /// Zalo client, when the channel is enabled.
    pub zalo: Option<crate::channels::zalo::client::ZaloClient>,
    /// HTTP client for fetching files by URL (Zalo images and voice notes).
    pub http: reqwest::Client,
    /// Language for citizens whose app says neither vi nor en.
    pub default_lang: Lang,
    /// The clock.
    pub clock: Clock,
    /// This process's name among replicas (in consumer names).
    pub instance: String,
    /// Counters and gauges for `/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// Signs and checks evidence download links.
    pub links: crate::forward::sign::LinkSigner,
    /// Where receipt codes are drawn from.
    codes: Mutex<StdRng>,
}

impl Shared {
    /// Builds the shared parts: texts, patterns, the Redis connection and the Telegram
    /// client. Fails when Redis cannot be reached or the locale files are broken.
    pub async fn build(
        settings: Settings,
        secrets: &Secrets,
        opts: &Options,
    ) -> anyhow::Result<Self> {
        let texts = Texts::load(&settings.app.locales_dir).context("loading locale files")?;
        let emergency = crate::conversation::emergency_patterns(&settings)
            .context("compiling emergency.patterns")?;
        let rules = crate::rules::Rules::compile(&settings.rules)
            .map_err(anyhow::Error::msg)
            .context("compiling rules.keywords")?;
        let store = Store::connect(&settings.redis.url, &settings.app.namespace)
            .await
            .context("connecting to Redis")?;
        let tg_settings = &settings.telegram;
        let tg = match (tg_settings.enabled, secrets.telegram_token_str()) {
            (true, Some(token)) => Some(telegram::bot(
                token,
                &tg_settings.api_url,
                Duration::from_secs(15),
            )?),
            _ => None,
        };
        let zalo = match (settings.zalo.enabled, secrets.zalo_token_str()) {
            (true, Some(token)) => Some(crate::channels::zalo::client::ZaloClient::new(
                &settings.zalo.api_url,
                token,
                Duration::from_secs(u64::from(settings.zalo.poll_timeout_secs) + 15),
            )?),
            _ => None,
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        let default_lang = Lang::parse(&settings.app.default_lang).unwrap_or_default();
        let instance = match settings.app.instance.as_str() {
            "" => std::env::var("HOSTNAME")
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| format!("{:08x}", rand::random::<u32>())),
            name => name.to_owned(),
        };
        Ok(Self {
            vault: Vault::new(secrets),
            links: crate::forward::sign::LinkSigner::new(
                secrets.alias_key.expose_secret().as_bytes(),
            ),
            settings,
            texts,
            emergency,
            rules,
            store,
            tg,
            zalo,
            http,
            default_lang,
            clock: opts.clock.clone(),
            instance,
            metrics: crate::metrics::Metrics::new(),
            codes: Mutex::new(match opts.code_seed {
                Some(seed) => StdRng::seed_from_u64(seed),
                None => StdRng::from_os_rng(),
            }),
        })
    }

    /// Draws a receipt code (uniqueness is checked when the tip is committed).
    pub fn next_code(&self) -> ReceiptCode {
        // A poisoned lock only means another thread panicked mid-draw; the RNG is still usable.
        let mut rng = self.codes.lock().unwrap_or_else(|e| e.into_inner());
        ReceiptCode::generate(&mut *rng)
    }

    /// The Telegram client, or an error when the channel is disabled.
    pub fn telegram(&self) -> anyhow::Result<&Bot> {
        self.tg
            .as_ref()
            .context("the Telegram channel is disabled in the configuration")
    }

    /// `HH:MM dd/mm/yyyy` in local time.
    pub fn local_time(&self, ms: i64) -> String {
        let offset = FixedOffset::east_opt(self.settings.app.utc_offset_hours * 3600)
            .unwrap_or_else(|| FixedOffset::east_opt(7 * 3600).expect("+7 is a valid offset"));
        DateTime::from_timestamp_millis(ms)
            .map(|t| {
                t.with_timezone(&offset)
                    .format("%H:%M %d/%m/%Y")
                    .to_string()
            })
            .unwrap_or_default()
    }
}

/// Options a test or the CLI sets besides the configuration.
#[derive(Clone, Debug)]
pub struct Options {
    /// The clock.
    pub clock: Clock,
    /// How often the draft sweeper looks for due reminders.
    pub sweep_every: Duration,
    /// Seed for receipt codes; `None` (the default) seeds from the operating system.
    pub code_seed: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Clock::default(),
            sweep_every: Duration::from_secs(15),
            code_seed: None,
        }
    }
}

/// A running process.
pub struct App {
    /// Address the HTTP server listens on.
    pub http_addr: SocketAddr,
    /// The shared parts (tests read the store and clock through it).
    pub shared: Arc<Shared>,
    shutdown: CancellationToken,
    tasks: Vec<(&'static str, JoinHandle<()>)>,
}

impl App {
    /// Builds everything and starts every role. Fails when Redis cannot be reached or the
    /// locale files are broken.
    pub async fn start(
        settings: Settings,
        secrets: Secrets,
        opts: Options,
    ) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared::build(settings, &secrets, &opts).await?);
        shared
            .store
            .ensure_inbox()
            .await
            .context("creating the inbox")?;
        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();

        let listener = tokio::net::TcpListener::bind(&shared.settings.http.listen)
            .await
            .with_context(|| format!("binding http.listen {}", shared.settings.http.listen))?;
        let http_addr = listener.local_addr()?;
        let router = crate::http::router(
            shared.clone(),
            secrets
                .telegram_webhook_secret
                .as_ref()
                .map(|s| s.expose_secret().to_owned()),
            secrets
                .triage_api_token
                .as_ref()
                .map(|s| s.expose_secret().to_owned()),
            secrets
                .zalo_webhook_secret
                .as_ref()
                .map(|s| s.expose_secret().to_owned()),
        );
        let token = shutdown.clone();
        tasks.push((
            "http",
            tokio::spawn(async move {
                let res = axum::serve(listener, router)
                    .with_graceful_shutdown(async move { token.cancelled().await })
                    .await;
                if let Err(e) = res {
                    tracing::error!(error = %e, "http server failed");
                }
            }),
        ));

        if let (Some(token), true) = (secrets.telegram_token_str(), tg_settings_enabled(&shared)) {
            let tgs = &shared.settings.telegram;
            match tgs.mode {
                TelegramMode::Polling => {
                    let poll_timeout = Duration::from_secs(u64::from(tgs.poll_timeout_secs) + 15);
                    let bot = telegram::bot(token, &tgs.api_url, poll_timeout)?;
                    let (store, secs, stop) = (
                        shared.store.clone(),
                        tgs.poll_timeout_secs,
                        shutdown.clone(),
                    );
                    tasks.push((
                        "telegram-poll",
                        tokio::spawn(telegram::poll::run(bot, store, secs, stop)),
                    ));
                }
                TelegramMode::Webhook if !tgs.webhook_url.is_empty() => {
                    register_webhook(&shared, &secrets).await?;
                }
                TelegramMode::Webhook => {}
            }
        }

        if let Some(zalo) = &shared.zalo {
            let zs = &shared.settings.zalo;
            match zs.mode {
                TelegramMode::Polling => {
                    if let Err(e) = zalo.delete_webhook().await {
                        tracing::warn!(error = %e, "zalo deleteWebhook failed; polling anyway");
                    }
                    tasks.push((
                        "zalo-poll",
                        tokio::spawn(crate::channels::zalo::poll::run(
                            zalo.clone(),
                            shared.store.clone(),
                            u64::from(zs.poll_timeout_secs),
                            shutdown.clone(),
                        )),
                    ));
                }
                TelegramMode::Webhook if !zs.webhook_url.is_empty() => {
                    let secret = secrets
                        .zalo_webhook_secret
                        .as_ref()
                        .map(|s| s.expose_secret().to_owned())
                        .unwrap_or_default();
                    zalo.set_webhook(&zs.webhook_url, &secret)
                        .await
                        .context("zalo setWebhook")?;
                    tracing::info!("zalo webhook registered");
                }
                TelegramMode::Webhook => {}
            }
        }
        if shared.settings.desk.enabled && shared.tg.is_some() {
            let desk =
                Consumer::new(shared.clone(), crate::desk::Desk::new(shared.clone())).await?;
            tasks.push(("desk", tokio::spawn(desk.run(shutdown.clone()))));
            tasks.push((
                "sla",
                tokio::spawn(crate::desk::sla::run(
                    shared.clone(),
                    opts.sweep_every,
                    shutdown.clone(),
                )),
            ));
        }
        if shared.settings.notify.enabled && shared.tg.is_some() {
            let notify =
                Consumer::new(shared.clone(), crate::notify::Notify::new(shared.clone())).await?;
            tasks.push(("notify", tokio::spawn(notify.run(shutdown.clone()))));
        }
        if shared.settings.triage.enabled {
            let secret = secrets
                .triage_secret
                .as_ref()
                .context("TIPLINE_TRIAGE_SECRET is not set")?;
            let forwarder = crate::forward::Forwarder::new(
                shared.clone(),
                secret.expose_secret().as_bytes(),
                shared.links.clone(),
            )?;
            tasks.push(("forward", tokio::spawn(forwarder.run(shutdown.clone()))));
        }
        if shared.settings.admin.weekly_report && shared.tg.is_some() {
            tasks.push((
                "weekly",
                tokio::spawn(crate::admin::run_weekly(
                    shared.clone(),
                    opts.sweep_every,
                    shutdown.clone(),
                )),
            ));
        }
        let intake = Intake::new(shared.clone()).await?;
        tasks.push(("intake", tokio::spawn(intake.run(shutdown.clone()))));
        tasks.push((
            "sweeper",
            tokio::spawn(intake::run_sweeper(
                shared.clone(),
                opts.sweep_every,
                shutdown.clone(),
            )),
        ));
        tracing::info!(%http_addr, "tipline started");
        Ok(Self {
            http_addr,
            shared,
            shutdown,
            tasks,
        })
    }

    /// A token that stops the app when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops every task at its next safe point and waits for all of them.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for (name, task) in self.tasks {
            match task.await {
                Ok(()) => tracing::info!(task = name, "stopped"),
                Err(e) => tracing::error!(task = name, error = %e, "ended abnormally"),
            }
        }
    }

    /// Waits until the shutdown token is cancelled, then stops.
    pub async fn run_until_stopped(self) {
        self.shutdown.cancelled().await;
        self.stop().await;
    }

    /// Aborts every task at once, as a crash would (tests use it).
    pub fn kill(self) {
        for (_, task) in &self.tasks {
            task.abort();
        }
    }
}

fn tg_settings_enabled(shared: &Shared) -> bool {
    shared.settings.telegram.enabled
}

async fn register_webhook(shared: &Shared, secrets: &Secrets) -> anyhow::Result<()> {
    let tgs = &shared.settings.telegram;
    let bot = shared.telegram()?;
    let url = reqwest::Url::parse(&tgs.webhook_url).context("telegram.webhook_url")?;
    let mut req = bot.set_webhook(url);
    req.allowed_updates = Some(vec![
        teloxide::types::AllowedUpdate::Message,
        teloxide::types::AllowedUpdate::CallbackQuery,
    ]);
    req.secret_token = secrets
        .telegram_webhook_secret
        .as_ref()
        .map(|s| s.expose_secret().to_owned());
    req.await.context("setWebhook")?;
    tracing::info!("telegram webhook registered");
    Ok(())
}
