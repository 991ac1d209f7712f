//! Whole-configuration checks: every problem is collected with its key, so one run of
//! `tipline check-config` shows all of them.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;

use super::{ReceiveMode, Settings};
use crate::i18n::Texts;

/// One thing wrong with the configuration, at a dotted key such as `limits.tips_per_hour`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the offending value (`categories[2].id`); empty for the file itself.
    pub key: String,
    /// What is wrong and what would be right.
    pub message: String,
}

impl Problem {
    /// A problem at `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

pub(super) fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Settings {
    /// Every problem in these settings; empty when they can be used.
    pub fn validate(&self) -> Vec<Problem> {
        let mut p = Vec::new();
        let mut bad = |key: &str, msg: &str| p.push(Problem::new(key, msg));

        let ns = &self.app.namespace;
        let tag_ok = ns.matches('{').count() == 1
            && ns.matches('}').count() == 1
            && ns
                .find('{')
                .zip(ns.find('}'))
                .is_some_and(|(a, b)| b > a + 1);
        if !tag_ok {
            bad(
                "app.namespace",
                "must contain exactly one non-empty Redis hash tag, e.g. \"{tl}\"",
            );
        }
        if !matches!(self.app.default_lang.as_str(), "vi" | "en") {
            bad("app.default_lang", "must be \"vi\" or \"en\"");
        }
        if !(-12..=14).contains(&self.app.utc_offset_hours) {
            bad("app.utc_offset_hours", "must be between -12 and 14");
        }
        if !matches!(self.app.log_format.as_str(), "pretty" | "json") {
            bad("app.log_format", "must be \"pretty\" or \"json\"");
        }
        if let Err(e) = Texts::load(&self.app.locales_dir) {
            bad("app.locales_dir", &e.to_string());
        }
        if let Err(e) = redis::Client::open(self.redis.url.as_str()) {
            bad("redis.url", &format!("is not a Redis URL: {e}"));
        }

        let tg = &self.telegram;
        match reqwest::Url::parse(&tg.api_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => bad("telegram.api_url", "must be an http(s) URL"),
        }
        if !(1..=50).contains(&tg.poll_timeout_secs) {
            bad("telegram.poll_timeout_secs", "must be between 1 and 50");
        }
        if !tg.webhook_path.starts_with('/') {
            bad("telegram.webhook_path", "must start with /");
        }
        if tg.mode == ReceiveMode::Webhook && !tg.webhook_url.is_empty() {
            match reqwest::Url::parse(&tg.webhook_url) {
                Ok(u) if u.scheme() == "https" => {}
                _ => bad(
                    "telegram.webhook_url",
                    "must be an https URL (Telegram posts only to HTTPS)",
                ),
            }
        }
        let z = &self.zalo;
        match reqwest::Url::parse(&z.api_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => bad("zalo.api_url", "must be an http(s) URL"),
        }
        if !(1..=50).contains(&z.poll_timeout_secs) {
            bad("zalo.poll_timeout_secs", "must be between 1 and 50");
        }
        if !z.webhook_path.starts_with('/') {
            bad("zalo.webhook_path", "must start with /");
        }
        if z.enabled && z.webhook_path == tg.webhook_path {
            bad(
                "zalo.webhook_path",
                "must differ from telegram.webhook_path",
            );
        }
        if !z.webhook_url.is_empty() && !z.webhook_url.starts_with("https://") {
            bad(
                "zalo.webhook_url",
                "must be an https URL (Zalo posts only to HTTPS)",
            );
        }
        if self.http.listen.parse::<SocketAddr>().is_err() {
            bad(
                "http.listen",
                "must be an address and port such as 0.0.0.0:8080",
            );
        }

        if !self.http.public_url.is_empty() {
            match reqwest::Url::parse(&self.http.public_url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                _ => bad("http.public_url", "must be an http(s) URL or empty"),
            }
        }
        if self.app.instance.len() > 64
            || !self
                .app
                .instance
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            bad(
                "app.instance",
                "must be at most 64 characters of A-Z, a-z, 0-9, ., _ or -",
            );
        }

        let l = &self.limits;
        if !(10..=20_000).contains(&l.description_max_chars) {
            bad(
                "limits.description_max_chars",
                "must be between 10 and 20000",
            );
        }
        if l.evidence_max_files > 50 {
            bad("limits.evidence_max_files", "must be at most 50");
        }
        if l.evidence_max_bytes == 0 {
            bad("limits.evidence_max_bytes", "must be more than 0");
        }
        if l.messages_per_minute == 0 {
            bad("limits.messages_per_minute", "must be at least 1");
        }
        if l.tips_per_hour == 0 {
            bad("limits.tips_per_hour", "must be at least 1");
        }
        if l.status_per_hour == 0 {
            bad("limits.status_per_hour", "must be at least 1");
        }
        if l.new_citizens_per_commune_per_hour == 0 {
            bad(
                "limits.new_citizens_per_commune_per_hour",
                "must be at least 1",
            );
        }
        if l.new_citizens_per_hour == 0 {
            bad("limits.new_citizens_per_hour", "must be at least 1");
        }
        if !(1..=1440).contains(&l.summary_every_mins) {
            bad("limits.summary_every_mins", "must be between 1 and 1440");
        }
        if !(1..=24 * 90).contains(&l.known_citizen_after_hours) {
            bad(
                "limits.known_citizen_after_hours",
                "must be between 1 and 2160 (90 days)",
            );
        }
        if l.draft_expire_after_secs < 60 {
            bad("limits.draft_expire_after_secs", "must be at least 60");
        }
        if l.draft_remind_after_secs == 0 || l.draft_remind_after_secs >= l.draft_expire_after_secs
        {
            bad(
                "limits.draft_remind_after_secs",
                "must be more than 0 and less than limits.draft_expire_after_secs",
            );
        }

        if self.emergency.patterns.is_empty() {
            bad("emergency.patterns", "needs at least one pattern");
        }
        for (i, pat) in self.emergency.patterns.iter().enumerate() {
            if let Err(e) = regex::Regex::new(pat) {
                bad(
                    &format!("emergency.patterns[{i}]"),
                    &format!("is not a valid regular expression: {e}"),
                );
            }
        }

        if self.categories.is_empty() {
            bad("categories", "needs at least one category");
        }
        if self.categories.len() > 30 {
            bad("categories", "at most 30 categories fit on a phone screen");
        }
        let mut seen = HashSet::new();
        for (i, c) in self.categories.iter().enumerate() {
            if !is_id(&c.id) {
                bad(
                    &format!("categories[{i}].id"),
                    "must be 1-32 characters of a-z, 0-9, _ or -",
                );
            } else if !seen.insert(c.id.as_str()) {
                bad(
                    &format!("categories[{i}].id"),
                    &format!("\"{}\" is used twice", c.id),
                );
            }
            if c.vi.trim().is_empty() {
                bad(&format!("categories[{i}].vi"), "must not be empty");
            }
            if c.en.trim().is_empty() {
                bad(&format!("categories[{i}].en"), "must not be empty");
            }
        }

        self.validate_geography(&mut p);
        self.desk.validate(self, &mut p);
        self.rules.validate(self, &mut p);
        self.triage.validate(self, &mut p);
        self.admin.validate(self, &mut p);
        self.posters.validate(&mut p);
        self.retention.validate(&mut p);
        for (i, kind) in self.notify.on.iter().enumerate() {
            if !super::NOTICES.iter().any(|(k, _)| k == kind) {
                let known: Vec<&str> = super::NOTICES.iter().map(|(k, _)| *k).collect();
                p.push(Problem::new(
                    format!("notify.on[{i}]"),
                    format!("\"{kind}\" is not one of: {}", known.join(", ")),
                ));
            }
        }
        p
    }

    /// What is valid but weakens a protection, each with its key; `check-config` prints them
    /// and `run` logs them at start.
    pub fn warnings(&self) -> Vec<Problem> {
        let mut w = Vec::new();
        self.desk.warnings(&mut w);
        self.geography_warnings(&mut w);
        w
    }
}
