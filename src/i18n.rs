//! Texts that people read, in Vietnamese and English, from editable Fluent files
//! (`locales/vi.ftl`, `locales/en.ftl`). Code refers to messages by id; tests assert on the same
//! ids. Loading checks that both files parse, hold the same ids, and hold every id the code uses,
//! so a translator's slip fails `check-config`, not a citizen's conversation.

use std::collections::BTreeSet;
use std::path::Path;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};
use serde::{Deserialize, Serialize};
use unic_langid::langid;
use unicode_normalization::UnicodeNormalization;

/// A language a person can be answered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Tiếng Việt, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// Parses `vi`/`en` (also `vi-VN`, `en-US`); anything else is `None`.
    pub fn parse(code: &str) -> Option<Self> {
        let lower = code.trim().to_ascii_lowercase();
        match lower.split(['-', '_']).next() {
            Some("vi") => Some(Self::Vi),
            Some("en") => Some(Self::En),
            _ => None,
        }
    }

    /// Both languages, Vietnamese first.
    pub const ALL: [Lang; 2] = [Lang::Vi, Lang::En];

    /// The two-letter code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Vi => "vi",
            Self::En => "en",
        }
    }
}

/// A message to render: its id in the locale files and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Msg {
    /// Message id, e.g. `ask-category`.
    pub id: String,
    /// Named arguments, e.g. `code` → `TB-7K3Q-X9MD`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<(String, String)>,
}

impl Msg {
    /// A message without arguments.
    pub fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            args: Vec::new(),
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, name: &str, value: impl ToString) -> Self {
        self.args.push((name.to_owned(), value.to_string()));
        self
    }
}

/// Locale files that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TextsError {
    /// A file is missing or unreadable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A file has Fluent syntax errors.
    #[error("{path} has Fluent syntax errors: {detail}")]
    Syntax {
        /// The file.
        path: String,
        /// The errors.
        detail: String,
    },
    /// Message ids missing from a file.
    #[error("{lang}.ftl lacks the messages: {ids}")]
    Missing {
        /// The language.
        lang: &'static str,
        /// Comma-separated ids.
        ids: String,
    },
}

/// Both locale bundles, ready to format.
pub struct Texts {
    vi: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Texts")
    }
}

/// Every message id the code uses; both locale files must define each.
pub const REQUIRED: &[&str] = &[
    "welcome",
    "help",
    "ask-category",
    "ask-place",
    "ask-place-commune",
    "ask-commune",
    "button-commune-unknown",
    "commune-found",
    "commune-not-found",
    "commune-several",
    "expect-commune",
    "ask-near-mailbox",
    "button-near-mailbox",
    "button-elsewhere",
    "button-share-location",
    "ask-description",
    "description-added",
    "description-too-long",
    "description-empty",
    "report-started",
    "description-voice-added",
    "review-voice-description",
    "card-voice-description",
    "ask-evidence",
    "evidence-added",
    "evidence-too-large",
    "evidence-too-many",
    "evidence-voice-refused",
    "evidence-video-note-refused",
    "desk-file-withheld",
    "ask-contact",
    "button-share-phone",
    "button-anonymous",
    "contact-anonymous",
    "contact-saved",
    "contact-not-own",
    "review",
    "review-anonymous",
    "review-no-evidence",
    "place-pin",
    "place-commune",
    "place-mailbox",
    "place-text",
    "button-next",
    "button-done",
    "button-skip",
    "button-send",
    "button-edit",
    "button-cancel",
    "button-back",
    "ask-edit",
    "edit-category",
    "edit-place",
    "edit-description",
    "edit-evidence",
    "edit-contact",
    "receipt",
    "cancelled",
    "nothing-to-cancel",
    "expect-button",
    "expect-place",
    "expect-description",
    "expect-evidence",
    "expect-contact",
    "stale-button",
    "unsupported-sticker",
    "unsupported-message",
    "unknown-command",
    "emergency",
    "emergency-no-draft",
    "status-usage",
    "status-malformed",
    "status-unknown",
    "status-line",
    "status-list",
    "status-none",
    "status-submitted",
    "status-acknowledged",
    "status-in-progress",
    "status-closed",
    "status-purged",
    "lang-choose",
    "lang-set",
    "flood-messages",
    "flood-tips",
    "flood-status",
    "draft-reminder",
    "draft-expired",
    "mailbox-unknown",
    "report-in-progress",
    "button-pressed",
    "button-report",
    "card",
    "card-minimal",
    "card-contact-anonymous",
    "card-contact-phone",
    "card-commune-unknown",
    "card-emergency",
    "priority-low",
    "priority-normal",
    "priority-high",
    "priority-urgent",
    "button-desk-ack",
    "card-acked",
    "desk-acked",
    "desk-already-acked",
    "desk-unknown-tip",
    "desk-stale-button",
    "desk-not-allowed",
    "desk-commands-limited",
    "desk-not-officer",
    "notify-acknowledged",
    "notify-closed",
    "button-desk-claim",
    "button-desk-close",
    "card-claimed",
    "card-closed",
    "desk-claimed",
    "desk-closed",
    "desk-already-claimed",
    "desk-already-closed",
    "sla-reminder",
    "sla-escalated",
    "card-outline",
    "desk-card-outline",
    "desk-fallback-banner",
    "desk-fallback-why-kicked",
    "desk-fallback-why-not-found",
    "desk-fallback-why-no-rights",
    "desk-fallback-why-message",
    "desk-fallback-resolved",
    "pending-head",
    "pending-line",
    "pending-none",
    "pending-state-new",
    "pending-state-acked",
    "pending-state-claimed",
    "stats",
    "notify-question",
    "answer-sent",
    "answer-ended",
    "answer-text-only",
    "button-answer-done",
    "desk-relay-sent",
    "desk-relay-closed",
    "desk-citizen-replied",
    "button-desk-escalate",
    "card-escalated",
    "desk-escalated",
    "desk-already-escalated",
    "desk-no-supervisor",
    "button-desk-ask",
    "desk-ask-how",
    "desk-relay-failed",
    "desk-citizen-replied-minimal",
    "triage-actor",
    "zalo-menu-hint",
    "welcome-zalo",
    "admin-refused",
    "admin-bad-week",
    "admin-export-caption",
    "admin-stats-title",
    "admin-weekly-header",
    "admin-audit-head",
    "admin-failed",
    "poster-title",
    "poster-step-1",
    "poster-step-2",
    "poster-step-3",
    "poster-step-4",
    "poster-promise",
    "poster-emergency",
    "poster-scan",
    "poster-zalo",
    "desk-triage-note",
    "desk-hotspot",
    "desk-summary-head",
    "desk-summary-line",
    "desk-summary-foot",
    "card-duplicate",
    "card-reasons",
    "card-minimal-excerpt",
    "line-unavailable",
    "desk-relay-rate-limited",
    "desk-citizen-replied-masked",
    "notify-question-safety",
];

impl Texts {
    /// Loads `vi.ftl` and `en.ftl` from `dir` and checks them against [`REQUIRED`] and each
    /// other.
    pub fn load(dir: &Path) -> Result<Self, TextsError> {
        let vi = load_bundle(dir, "vi")?;
        let en = load_bundle(dir, "en")?;
        let ids_vi = ids(dir, "vi")?;
        let ids_en = ids(dir, "en")?;
        for (lang, mine, other) in [("vi", &ids_vi, &ids_en), ("en", &ids_en, &ids_vi)] {
            let missing: Vec<&str> = REQUIRED
                .iter()
                .copied()
                .filter(|id| !mine.contains(*id))
                .chain(other.difference(mine).map(String::as_str))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if !missing.is_empty() {
                return Err(TextsError::Missing {
                    lang,
                    ids: missing.join(", "),
                });
            }
        }
        Ok(Self { vi, en })
    }

    /// Formats `msg` in `lang`. An unknown id (impossible after [`Texts::load`] for ids in
    /// [`REQUIRED`]) renders as the id itself rather than failing a conversation.
    pub fn render(&self, lang: Lang, msg: &Msg) -> String {
        let bundle = match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        };
        let Some(pattern) = bundle.get_message(&msg.id).and_then(|m| m.value()) else {
            return msg.id.clone();
        };
        let mut args = FluentArgs::new();
        for (k, v) in &msg.args {
            args.set(k.as_str(), v.as_str());
        }
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
        nfc(&text)
    }

    /// Whether `id` is in the locale files of `lang`.
    pub fn has(&self, lang: Lang, id: &str) -> bool {
        match lang {
            Lang::Vi => self.vi.has_message(id),
            Lang::En => self.en.has_message(id),
        }
    }

    /// Shortcut for a message without arguments.
    pub fn get(&self, lang: Lang, id: &str) -> String {
        self.render(lang, &Msg::new(id))
    }
}

/// `s` in Unicode NFC (precomposed: "ồ" as one character), as every text is stored and sent.
/// Text that is already NFC (nearly all) is only checked, not normalised again.
pub fn nfc(s: &str) -> String {
    match unicode_normalization::is_nfc_quick(s.chars()) {
        unicode_normalization::IsNormalized::Yes => s.to_owned(),
        _ => s.nfc().collect(),
    }
}

fn read(dir: &Path, lang: &str) -> Result<(String, String), TextsError> {
    let path = dir.join(format!("{lang}.ftl"));
    let display = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|source| TextsError::Read {
        path: display.clone(),
        source,
    })?;
    Ok((display, text.nfc().collect()))
}

fn load_bundle(dir: &Path, lang: &str) -> Result<FluentBundle<FluentResource>, TextsError> {
    let (path, text) = read(dir, lang)?;
    let resource = FluentResource::try_new(text).map_err(|(_, errs)| TextsError::Syntax {
        path: path.clone(),
        detail: errs
            .iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join("; "),
    })?;
    let id = if lang == "vi" {
        langid!("vi")
    } else {
        langid!("en")
    };
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .map_err(|errs| TextsError::Syntax {
            path,
            detail: format!("{errs:?}"),
        })?;
    Ok(bundle)
}

fn ids(dir: &Path, lang: &str) -> Result<BTreeSet<String>, TextsError> {
    let (_, text) = read(dir, lang)?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let (id, _) = l.split_once('=')?;
            let id = id.trim_end();
            let first = id.chars().next()?;
            (first.is_ascii_alphabetic()
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .then(|| id.to_owned())
        })
        .collect())
}
