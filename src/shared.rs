//! What every role of a process shares: the configuration, texts, keys, the Redis store, the
//! citizen channels ([`Registry`]), the clock, metrics and the roles' health. Built once per process (and by
//! the CLI subcommands that need Redis); fails when Redis cannot be reached or the locale files
//! are broken.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, FixedOffset};
use rand::SeedableRng;
use rand::rngs::StdRng;
use regex::RegexSet;
use secrecy::ExposeSecret;
use teloxide::Bot;

use crate::channels::telegram::TelegramChannel;
use crate::channels::{Registry, Setup};
use crate::clock::Clock;
use crate::codes::ReceiptCode;
use crate::config::{Secrets, Settings};
use crate::i18n::{Lang, Texts};
use crate::privacy::Vault;
use crate::store::Store;
use crate::supervise::Health;

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
    /// The citizen channels: parsing, sending, receiving, capabilities.
    pub channels: Registry,
    /// Telegram's client, when the channel is enabled: the officer desk, the notices to duty
    /// groups and the admin commands are on Telegram by design. The same client as the
    /// Telegram channel's.
    pub tg: Option<Bot>,
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
    pub links: crate::links::LinkSigner,
    /// Which roles have failed (`/readyz`).
    pub health: Arc<Health>,
    /// Where receipt codes are drawn from.
    codes: Mutex<StdRng>,
}

impl Shared {
    /// Builds the shared parts: texts, patterns, the Redis connection and the channels'
    /// clients. Fails when Redis cannot be reached or the locale files are broken.
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
        let vault = Vault::new(secrets);
        let store = Store::connect(&settings.redis.url, &settings.app.namespace)
            .await
            .context("connecting to Redis")?
            .sealed(vault.clone())
            .with_audit_key(secrets.audit_key.expose_secret());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .context("building the HTTP client")?;
        let default_lang = Lang::parse(&settings.app.default_lang).unwrap_or_default();
        let channels = Registry::build(&Setup {
            settings: &settings,
            secrets,
            texts: &texts,
            default_lang,
        })
        .context("building the channels' clients")?;
        let tg = channels
            .find::<TelegramChannel>()
            .and_then(|t| t.bot().cloned());
        let instance = match settings.app.instance.as_str() {
            // Not the machine's host name: two processes on one machine would share consumer
            // names and take each other's pending events (and the forwarder's per-tip order).
            "" => match std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()) {
                Some(host) => host,
                None => {
                    tracing::warn!(
                        "app.instance and HOSTNAME are not set: this process's consumer names \
                         change at each restart, so a restarted process takes its own pending \
                         events back only after they have been idle for a while; set \
                         app.instance to a stable name per process"
                    );
                    format!("{:08x}", rand::random::<u32>())
                }
            },
            name => name.to_owned(),
        };
        Ok(Self {
            vault,
            links: crate::links::LinkSigner::new(secrets.link_key.expose_secret()),
            settings,
            texts,
            emergency,
            rules,
            store,
            channels,
            tg,
            http,
            default_lang,
            clock: opts.clock.clone(),
            instance,
            metrics: crate::metrics::Metrics::new(),
            health: Arc::new(Health::default()),
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

    /// What an export reads, taken now.
    pub fn export_reads(&self) -> crate::export::source::Reads<'_> {
        crate::export::source::Reads {
            store: &self.store,
            settings: &self.settings,
            now_ms: self.clock.now_ms(),
        }
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
