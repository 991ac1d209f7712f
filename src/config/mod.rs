//! Configuration: typed settings loaded from `config/tipline.toml`, overridden by environment
//! variables `TIPLINE__SECTION__KEY`, and checked as a whole before anything starts. Secrets are
//! not settings: they come only from the environment ([`Secrets`]) and never print.
//!
//! Loading fails on the first value of a wrong type (with its key); [`Settings::validate`] then
//! lists every remaining problem with its key, which is what `tipline check-config` prints.

mod admin;
mod desk;
mod export;
mod forward;
mod geography;
mod report;
mod retention;
mod rules;
mod secrets;
mod validate;

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Serialize};

pub use admin::{AdminSettings, PosterSettings};
pub use desk::{DeskRoute, DeskSettings, Disposition, SlaSettings};
pub use export::{DescriptionMode, ExportOptions};
pub use forward::ForwardSettings;
pub use geography::{Commune, FormerUnit, Mailbox};
pub use report::ReportSettings;
pub use retention::RetentionSettings;
pub use rules::{DuplicateSettings, HotspotSettings, KeywordRule, RuleSettings};
pub use secrets::{SecretError, Secrets, audit_key};
pub use validate::Problem;

/// Everything tipline reads from its configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Process-wide settings.
    pub app: AppSettings,
    /// Where Redis is.
    pub redis: RedisSettings,
    /// The Telegram channel.
    pub telegram: TelegramSettings,
    /// The Zalo channel.
    #[serde(default)]
    pub zalo: ZaloSettings,
    /// The HTTP server (webhooks, health).
    pub http: HttpSettings,
    /// Per-citizen limits on what a tip may hold and how fast they may write.
    pub limits: LimitSettings,
    /// Which kinds of evidence are taken (voice notes, video notes).
    #[serde(default)]
    pub report: ReportSettings,
    /// Texts that make the bot tell the citizen to call 113.
    pub emergency: EmergencySettings,
    /// Officer cards in Telegram groups.
    pub desk: DeskSettings,
    /// What citizens are told about their tips.
    pub notify: NotifySettings,
    /// Triage rules applied at submit: keywords, duplicates, hotspots.
    #[serde(default)]
    pub rules: RuleSettings,
    /// The forwarder's settings: where the police triage service is and how hard to try. The
    /// section is named after the service it points at (`[triage]`, a key deployments use).
    #[serde(default)]
    pub triage: ForwardSettings,
    /// Admins: exports and statistics in chat, the weekly report.
    #[serde(default)]
    pub admin: AdminSettings,
    /// Hòm thư ANTT 4.0 posters.
    #[serde(default)]
    pub posters: PosterSettings,
    /// What exports may reveal.
    #[serde(default)]
    pub export: ExportOptions,
    /// How long tips and dead letters are kept.
    #[serde(default)]
    pub retention: RetentionSettings,
    /// Tip categories, in the order the citizen sees them.
    pub categories: Vec<Category>,
    /// Communes and wards a citizen can pick from.
    #[serde(default)]
    pub communes: Vec<Commune>,
    /// Hòm thư ANTT 4.0 mailboxes (QR deep links).
    #[serde(default)]
    pub mailboxes: Vec<Mailbox>,
    /// Former commune ids that mailboxes and routes named, rewritten at load to the current
    /// ones (see `geography.rs`), for `check-config` to report.
    #[serde(skip)]
    pub(crate) resolved: Vec<Problem>,
}

/// Process-wide settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSettings {
    /// Prefix of every Redis key; must hold one hash tag such as `{tl}`.
    pub namespace: String,
    /// Folder with `vi.ftl` and `en.ftl`, relative to the working directory.
    pub locales_dir: PathBuf,
    /// Language of a citizen who has not chosen one and whose app does not say.
    pub default_lang: String,
    /// Offset of local time from UTC in hours (Asia/Ho_Chi_Minh is +7, without daylight saving).
    pub utc_offset_hours: i32,
    /// `pretty` for people, `json` for log collectors.
    pub log_format: String,
    /// This process's name among replicas (its consumer names in Redis). Empty takes the
    /// `HOSTNAME` environment variable, else a random name.
    #[serde(default)]
    pub instance: String,
    /// The province (or centrally run city) the deployment serves, e.g. "Phú Thọ": local
    /// government is province → commune/ward since 1 July 2025. Exports, the triage payload
    /// and posters name it.
    #[serde(default)]
    pub province: String,
}

/// Where Redis is. `Debug` hides the URL, which may hold a password.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://host:port/db` or `unix:///path/to/socket`.
    pub url: String,
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RedisSettings { url: [REDACTED] }")
    }
}

/// How tipline talks to the Telegram Bot API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    /// Whether the Telegram channel runs at all.
    pub enabled: bool,
    /// Base URL of the Bot API; a local Bot API server or a fake in tests.
    pub api_url: String,
    /// `polling` (default) or `webhook`.
    pub mode: ReceiveMode,
    /// Seconds a `getUpdates` long poll waits for updates.
    pub poll_timeout_secs: u32,
    /// Public HTTPS URL Telegram posts updates to in webhook mode; tipline registers it with
    /// `setWebhook` at start. Empty in webhook mode means "already registered by hand".
    #[serde(default)]
    pub webhook_url: String,
    /// Path of the webhook route on tipline's own HTTP server.
    pub webhook_path: String,
}

/// The Zalo Bot Platform's API (`zalo.api_url` by default).
pub const ZALO_BOT_API: &str = "https://bot-api.zaloplatforms.com";

/// How tipline talks to the Zalo Bot Platform.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ZaloSettings {
    /// Whether the Zalo channel runs at all.
    pub enabled: bool,
    /// Base URL of the Bot API (`https://bot-api.zaloplatforms.com`; the older
    /// `https://bot-api.zapps.me` also answers).
    pub api_url: String,
    /// `webhook` (production: Zalo posts to tipline) or `polling` (development).
    pub mode: ReceiveMode,
    /// Seconds a `getUpdates` call waits in polling mode.
    pub poll_timeout_secs: u32,
    /// Public HTTPS URL Zalo posts to; tipline registers it at start (empty: registered by
    /// hand).
    pub webhook_url: String,
    /// Path of the webhook route on tipline's own HTTP server.
    pub webhook_path: String,
}

impl Default for ZaloSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            api_url: ZALO_BOT_API.into(),
            mode: ReceiveMode::Webhook,
            poll_timeout_secs: 25,
            webhook_url: String::new(),
            webhook_path: "/zalo/webhook".into(),
        }
    }
}

/// How updates arrive from a platform (Telegram, Zalo): asked for, or posted to us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiveMode {
    /// tipline asks the platform with `getUpdates`.
    Polling,
    /// The platform posts to tipline's HTTP server.
    Webhook,
}

/// The HTTP server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// Address to listen on, e.g. `0.0.0.0:8080`; port 0 picks a free port.
    pub listen: String,
    /// The address the outside world reaches this server at (e.g. `https://tipline.example`),
    /// for the evidence download links sent to the triage service.
    #[serde(default)]
    pub public_url: String,
}

/// Limits that keep tips small and citizens from flooding the line.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// Longest description, in characters, over all its messages.
    pub description_max_chars: usize,
    /// Most files one tip may carry.
    pub evidence_max_files: usize,
    /// Largest file, in bytes (Telegram lets bots download at most 20 MB).
    pub evidence_max_bytes: u64,
    /// Messages and button presses one citizen may send per minute.
    pub messages_per_minute: u32,
    /// Tips one citizen may submit per hour.
    pub tips_per_hour: u32,
    /// `/status` lookups one citizen may make per hour.
    pub status_per_hour: u32,
    /// Seconds of silence after which an unfinished report gets one reminder.
    pub draft_remind_after_secs: u64,
    /// Seconds of silence after which an unfinished report is discarded.
    pub draft_expire_after_secs: u64,
    /// Tips an hour from new citizens in one commune that get a card each; the rest of the
    /// hour's go into the duty group's summary card (stored, receipted and forwarded all the
    /// same).
    #[serde(default = "default_new_per_commune")]
    pub new_citizens_per_commune_per_hour: u32,
    /// The same ceiling over all communes (and tips without one).
    #[serde(default = "default_new_per_hour")]
    pub new_citizens_per_hour: u32,
    /// Minutes between a duty group's summary cards.
    #[serde(default = "default_summary_every")]
    pub summary_every_mins: u64,
    /// A citizen is new unless one of their earlier tips came at least this many hours before.
    #[serde(default = "default_known_after")]
    pub known_citizen_after_hours: u64,
}

fn default_new_per_commune() -> u32 {
    10
}
fn default_new_per_hour() -> u32 {
    30
}
fn default_summary_every() -> u64 {
    10
}
fn default_known_after() -> u64 {
    24
}

/// Emergency recognition.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmergencySettings {
    /// Regular expressions (case-insensitive) over the description.
    pub patterns: Vec<String>,
    /// The priority an emergency tip gets.
    pub priority: Priority,
}

/// How soon a tip needs an officer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    /// Can wait for the weekly review.
    Low,
    /// The usual.
    Normal,
    /// Look at it today.
    High,
    /// Now.
    Urgent,
}

/// A tip category.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable id used in data and buttons (`[a-z0-9_-]`, at most 32 characters).
    pub id: String,
    /// Vietnamese label.
    pub vi: String,
    /// English label.
    pub en: String,
    /// Priority a tip of this category starts with.
    pub priority: Priority,
}

/// Event types a citizen can be told about (the values `notify.on` accepts), with the message
/// that tells them.
pub const NOTICES: &[(&str, &str)] = &[
    ("acknowledged", "notify-acknowledged"),
    ("closed", "notify-closed"),
];

/// Notices to citizens when their tip changes state.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Whether notices are sent at all.
    pub enabled: bool,
    /// The event types that send a notice (see [`NOTICES`]).
    pub on: Vec<String>,
}

/// A configuration that could not be used, with every problem found.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct ConfigError(pub Vec<Problem>);

impl Settings {
    /// Loads `path`, applies `TIPLINE__SECTION__KEY` overrides from the environment, and
    /// validates the result.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::load_with(path, Env::prefixed("TIPLINE__").split("__"))
    }

    /// Loads `path` with the given environment provider (tests pass their own).
    pub fn load_with(path: &Path, env: Env) -> Result<Self, ConfigError> {
        if !path.exists() {
            return Err(ConfigError(vec![Problem::new(
                "",
                format!("config file {} does not exist", path.display()),
            )]));
        }
        let figment = Figment::new().merge(Toml::file(path)).merge(env);
        let mut settings: Settings = figment.extract().map_err(|err| {
            ConfigError(
                err.into_iter()
                    .map(|e| Problem::new(e.path.join("."), e.kind.to_string()))
                    .collect(),
            )
        })?;
        let problems = settings.validate();
        if problems.is_empty() {
            settings.resolve_former_ids();
            Ok(settings)
        } else {
            Err(ConfigError(problems))
        }
    }

    /// Looks a category up by id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// A category's label in `lang`; the id itself for an unknown category.
    pub fn category_label(&self, id: &str, lang: crate::i18n::Lang) -> String {
        self.category(id).map_or(id.to_owned(), |c| {
            if lang == crate::i18n::Lang::Vi {
                c.vi.clone()
            } else {
                c.en.clone()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn shipped() -> String {
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/tipline.toml"))
            .unwrap()
    }

    pub(super) fn load_text(text: &str) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        let text = text.replace(
            "locales_dir = \"locales\"",
            &format!("locales_dir = \"{}/locales\"", env!("CARGO_MANIFEST_DIR")),
        );
        std::fs::write(&path, text).unwrap();
        Settings::load_with(&path, Env::prefixed("TIPLINE_TEST_NOTHING__"))
    }

    #[test]
    fn the_shipped_configuration_is_valid() {
        let s = load_text(&shipped()).unwrap();
        assert!(s.categories.len() >= 10);
        assert!(s.category("drugs").is_some());
        assert_eq!(s.mailbox("cp-tn01").unwrap().commune, "thung-nai");
    }

    #[test]
    fn every_semantic_problem_is_reported_with_its_key() {
        let text = shipped()
            .replace("namespace = \"{tl}\"", "namespace = \"tl\"")
            .replace("tips_per_hour = 5", "tips_per_hour = 0")
            .replace("id = \"theft\"", "id = \"drugs\"")
            .replace(
                "name = \"Nhà văn hóa Bắc Phong\"\ncommune = \"thung-nai\"",
                "name = \"Nhà văn hóa Bắc Phong\"\ncommune = \"atlantis\"",
            )
            .replace("listen = \"127.0.0.1:8080\"", "listen = \"here\"")
            .replace("\"(đâm|chém|bắn)", "\"((đâm|chém|bắn)");
        let err = load_text(&text).unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
        for want in [
            "app.namespace",
            "limits.tips_per_hour",
            "categories[1].id",
            "mailboxes[1].commune",
            "http.listen",
            "emergency.patterns[1]",
        ] {
            assert!(keys.contains(&want), "{want} missing from {keys:?}");
        }
        assert_eq!(err.0.len(), 6, "{err}");
    }

    #[test]
    fn the_new_citizen_ceilings_are_checked_and_default_when_absent() {
        let text = shipped()
            .replace("new_citizens_per_hour = 30", "new_citizens_per_hour = 0")
            .replace("summary_every_mins = 10", "summary_every_mins = 0");
        let err = load_text(&text).unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["limits.new_citizens_per_hour", "limits.summary_every_mins"]
        );
        // A configuration from before issue 13 loads with the defaults.
        let old = shipped().replace("new_citizens_per_commune_per_hour = 10\n", "");
        let s = load_text(&old).unwrap();
        assert_eq!(s.limits.new_citizens_per_commune_per_hour, 10);
        assert_eq!(s.limits.known_citizen_after_hours, 24);
    }

    #[test]
    fn desk_routes_are_checked_and_route_by_commune_former_commune_and_category() {
        let text = shipped()
            .replace(
                "enabled = false\ndefault_group = -1001000000001",
                "enabled = true\ndefault_group = 5",
            )
            .replace("officers = []", "officers = [501]")
            + "\n[[desk.routes]]\ngroup = -100777\ndistricts = [\"Nowhere\"]\ncommunes = [\"atlantis\"]\ncategories = [\"tax\"]\n";
        let err = load_text(&text).unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "desk.default_group",
                "desk.routes[0].communes",
                "desk.routes[0].districts",
                "desk.routes[0].categories"
            ],
            "{err}"
        );

        let mut s = load_text(&shipped()).unwrap();
        s.desk.default_group = -1;
        s.desk.routes = vec![
            DeskRoute {
                group: -2,
                districts: vec![],
                communes: vec!["thung-nai".into()],
                categories: vec!["drugs".into()],
                unit: String::new(),
            },
            DeskRoute {
                group: -3,
                districts: vec![],
                communes: vec!["cao-phong".into(), "thung-nai".into()],
                categories: vec![],
                unit: String::new(),
            },
        ];
        assert_eq!(s.desk.group_for(&s, Some("thung-nai"), "drugs"), -2);
        assert_eq!(s.desk.group_for(&s, Some("thung-nai"), "theft"), -3);
        // Former communes route as the communes they were merged into.
        assert_eq!(s.desk.group_for(&s, Some("bac-phong"), "drugs"), -2);
        assert_eq!(s.desk.group_for(&s, Some("tt-cao-phong"), "drugs"), -3);
        assert_eq!(s.desk.group_for(&s, Some("tay-phong"), "drugs"), -1);
        assert_eq!(s.desk.group_for(&s, None, "drugs"), -1);

        // The deprecated district routes still work where communes still name a district.
        s.communes[1].district = "Cao Phong".into();
        s.desk.routes[1].districts = vec!["Cao Phong".into()];
        s.desk.routes[1].communes = vec![];
        assert_eq!(s.desk.group_for(&s, Some("nam-phong"), "theft"), -3);
        assert_eq!(s.desk.group_for(&s, Some("thung-nai"), "theft"), -1);
        let keys: Vec<String> = s.warnings().into_iter().map(|w| w.key).collect();
        assert!(
            keys.contains(&"communes[1].district".to_owned())
                && keys.contains(&"desk.routes[1].districts".to_owned()),
            "{keys:?}"
        );
    }

    #[test]
    fn desk_commands_per_minute_is_checked() {
        assert_eq!(load_text(&shipped()).unwrap().desk.commands_per_minute, 30);
        let text = shipped().replace("commands_per_minute = 30", "commands_per_minute = 0");
        let err = load_text(&text).unwrap_err();
        assert_eq!(err.0[0].key, "desk.commands_per_minute", "{err}");
    }

    #[test]
    fn forwarding_settings_are_checked() {
        let text = shipped()
            .replace(
                "[triage]\n# Forward every tip and every change of it to the police triage service (docs/triage-api.md).\nenabled = false\nurl = \"\"",
                "[triage]\nenabled = true\nurl = \"ftp://x\"",
            )
            .replace("concurrency = 8", "concurrency = 0")
            .replace("backoff_initial_ms = 1000", "backoff_initial_ms = 0")
            .replace("evidence_url_ttl_secs = 604800", "evidence_url_ttl_secs = 5");
        let err = load_text(&text).unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "triage.url",
                "http.public_url",
                "triage.concurrency",
                "triage.backoff_initial_ms",
                "triage.evidence_url_ttl_secs"
            ],
            "{err}"
        );
        let mut s = load_text(&shipped()).unwrap();
        s.triage.enabled = true;
        let err = Secrets::from_lookup(&s, |k| match k {
            "TIPLINE_TELEGRAM_TOKEN" => Some("1:x".into()),
            "TIPLINE_ALIAS_KEY" => Some("k".repeat(32)),
            "TIPLINE_ROUTE_KEY" => Some("ab".repeat(32)),
            "TIPLINE_TRIAGE_SECRET" => Some("short".into()),
            "TIPLINE_TRIAGE_API_TOKEN" => Some("short".into()),
            _ => None,
        })
        .unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["TIPLINE_TRIAGE_SECRET", "TIPLINE_TRIAGE_API_TOKEN"]);
    }

    #[test]
    fn a_wrong_type_or_unknown_key_names_the_key() {
        let err = load_text(&shipped().replace("tips_per_hour = 5", "tips_per_hour = \"five\""))
            .unwrap_err();
        assert_eq!(err.0[0].key, "limits.tips_per_hour", "{err}");
        let err = load_text(&shipped().replace("[limits]", "[limits]\ncolour = 1")).unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail API returns its own large error
    fn environment_variables_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(
            &path,
            shipped().replace(
                "locales_dir = \"locales\"",
                &format!("locales_dir = \"{}/locales\"", env!("CARGO_MANIFEST_DIR")),
            ),
        )
        .unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("TIPLINE__LIMITS__TIPS_PER_HOUR", "9");
            jail.set_env("TIPLINE__REDIS__URL", "redis://10.1.2.3:6380/2");
            let s = Settings::load(&path).unwrap();
            assert_eq!(s.limits.tips_per_hour, 9);
            assert_eq!(s.redis.url, "redis://10.1.2.3:6380/2");
            Ok(())
        });
    }

    #[test]
    fn secrets_are_required_validated_and_never_printed() {
        let s = load_text(&shipped()).unwrap();
        let err = Secrets::from_lookup(&s, |_| None).unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "TIPLINE_TELEGRAM_TOKEN",
                "TIPLINE_ALIAS_KEY",
                "TIPLINE_ROUTE_KEY"
            ]
        );
        let env = |k: &str| match k {
            "TIPLINE_TELEGRAM_TOKEN" => Some("123:SECRET-TOKEN".to_owned()),
            "TIPLINE_ALIAS_KEY" => Some("k".repeat(32)),
            "TIPLINE_ROUTE_KEY" => Some("ab".repeat(32)),
            _ => None,
        };
        let ok = Secrets::from_lookup(&s, env).unwrap();
        assert!(!format!("{ok:?}").contains("SECRET"));
        assert_eq!(ok.route_key, [0xab; 32]);
    }
}
