//! Settings of the triage rules applied when a tip is submitted: keyword rules that raise its
//! priority or flag it as an emergency, near-duplicate detection, and hotspot alerts.
//!
//! Keyword patterns are checked here by compiling them exactly as [`crate::rules::Rules`] does,
//! so a pattern that passes `tipline check-config` cannot fail at start.

use std::collections::HashSet;

use serde::Deserialize;

use super::{Priority, Problem, Settings};

/// Longest time window, in minutes (30 days).
const MAX_WINDOW_MINS: u64 = 30 * 24 * 60;

/// Triage rules: keywords, duplicates and hotspots.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// Keyword rules, applied in this order.
    #[serde(default)]
    pub keywords: Vec<KeywordRule>,
    /// Linking a tip to a very similar earlier one from the same citizen.
    #[serde(default)]
    pub duplicates: DuplicateSettings,
    /// Alerts when many tips of one category come from one commune.
    #[serde(default)]
    pub hotspots: HotspotSettings,
}

/// A pattern that raises a tip's priority or flags it as an emergency.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeywordRule {
    /// Stable id shown in the tip's reasons (`[a-z0-9_-]`, at most 32 characters, unique).
    pub name: String,
    /// Regular expression, case-insensitive, written in Vietnamese with diacritics; it also
    /// matches text typed without any diacritics.
    pub pattern: String,
    /// Raise the tip to at least this priority.
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Flag the tip as an emergency.
    #[serde(default)]
    pub emergency: bool,
    /// Apply only to tips of these category ids; empty applies to every category.
    #[serde(default)]
    pub categories: Vec<String>,
}

/// Near-duplicate detection among one citizen's tips.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DuplicateSettings {
    /// Whether duplicates are looked for at all.
    pub enabled: bool,
    /// How far back, in minutes, earlier tips are compared.
    pub window_mins: u64,
    /// Similarity (0 exclusive to 1 inclusive, see [`crate::rules::similarity`]) at or above
    /// which two texts are duplicates.
    pub similarity: f64,
}

impl Default for DuplicateSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            window_mins: 1440,
            similarity: 0.85,
        }
    }
}

/// Hotspot alerts ("điểm nóng"): many tips of one category in one commune.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HotspotSettings {
    /// Whether alerts are raised at all.
    pub enabled: bool,
    /// Tips that make a hotspot.
    pub count: u32,
    /// Within this many minutes.
    pub window_mins: u64,
}

impl Default for HotspotSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            count: 3,
            window_mins: 1440,
        }
    }
}

impl RuleSettings {
    /// Adds every problem of the `rules` section to `p`.
    pub(super) fn validate(&self, settings: &Settings, p: &mut Vec<Problem>) {
        let mut seen = HashSet::new();
        for (i, rule) in self.keywords.iter().enumerate() {
            rule.validate(&format!("rules.keywords[{i}]"), &mut seen, settings, p);
        }
        self.duplicates.validate(p);
        self.hotspots.validate(p);
    }
}

impl KeywordRule {
    fn validate<'a>(
        &'a self,
        key: &str,
        seen: &mut HashSet<&'a str>,
        settings: &Settings,
        p: &mut Vec<Problem>,
    ) {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 32
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !name_ok {
            p.push(Problem::new(
                format!("{key}.name"),
                "must be 1-32 characters of a-z, 0-9, _ or -",
            ));
        } else if !seen.insert(self.name.as_str()) {
            p.push(Problem::new(
                format!("{key}.name"),
                format!("\"{}\" is used twice", self.name),
            ));
        }
        if let Err(e) = crate::text::check_pattern(&self.pattern) {
            p.push(Problem::new(format!("{key}.pattern"), e));
        }
        if self.priority.is_none() && !self.emergency {
            p.push(Problem::new(
                key,
                "sets neither priority nor emergency, so it would do nothing",
            ));
        }
        for c in &self.categories {
            if settings.category(c).is_none() {
                p.push(Problem::new(
                    format!("{key}.categories"),
                    format!("\"{c}\" is not the id of a configured category"),
                ));
            }
        }
    }
}

impl DuplicateSettings {
    fn validate(&self, p: &mut Vec<Problem>) {
        // Written so that NaN fails too.
        if !(self.similarity > 0.0 && self.similarity <= 1.0) {
            p.push(Problem::new(
                "rules.duplicates.similarity",
                "must be above 0 and at most 1",
            ));
        }
        check_window("rules.duplicates.window_mins", self.window_mins, p);
    }
}

impl HotspotSettings {
    fn validate(&self, p: &mut Vec<Problem>) {
        if !(2..=1000).contains(&self.count) {
            p.push(Problem::new(
                "rules.hotspots.count",
                "must be between 2 and 1000",
            ));
        }
        check_window("rules.hotspots.window_mins", self.window_mins, p);
    }
}

fn check_window(key: &str, minutes: u64, p: &mut Vec<Problem>) {
    if !(1..=MAX_WINDOW_MINS).contains(&minutes) {
        p.push(Problem::new(
            key,
            format!("must be between 1 and {MAX_WINDOW_MINS} minutes"),
        ));
    }
}
