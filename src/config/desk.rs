//! Settings of the officer desk: which Telegram group gets which tips, and how much a card
//! shows.

use serde::Deserialize;

use super::{Problem, Settings};

/// Where officer cards go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskSettings {
    /// Whether cards are posted at all.
    pub enabled: bool,
    /// Group that gets every tip no route matches (a supergroup id, `-100…`).
    pub default_group: i64,
    /// Language of the cards (`vi` or `en`).
    pub lang: String,
    /// Post only code, category, commune and priority; no description, no files.
    pub minimal_cards: bool,
    /// Characters of the description a minimal card shows, with phone numbers, citizen ids
    /// and licence plates blanked out; 0 shows none.
    #[serde(default)]
    pub minimal_excerpt_chars: usize,
    /// The unit of the default group, as exports name it.
    #[serde(default)]
    pub default_unit: String,
    /// Routes, tried in order; the first that matches wins.
    #[serde(default)]
    pub routes: Vec<DeskRoute>,
    /// Telegram ids of the officers allowed to act on cards: press their buttons, ask the
    /// citizen by replying, and use `/pending`, `/tip` and `/stats`. With the desk enabled it
    /// must not be empty unless `allow_any_member` is set.
    #[serde(default)]
    pub officers: Vec<u64>,
    /// Lets every member of a duty group act, as if all were listed in `officers` (a unit's
    /// explicit choice; `check-config` warns about it).
    #[serde(default)]
    pub allow_any_member: bool,
    /// Questions officers may send the citizen of one tip within an hour; more are refused in
    /// the group and nothing is sent.
    #[serde(default = "five")]
    pub questions_per_tip_per_hour: u32,
    /// How a tip can be closed, in the order the buttons show.
    pub dispositions: Vec<Disposition>,
    /// Group that gets tips nobody acknowledged in twice their SLA time; 0 for none.
    #[serde(default)]
    pub supervisor_group: i64,
    /// Whether the bot leaves a group it is added to that is not a configured duty or
    /// supervisor group (`false`: it stays and keeps silent there, answering commands with
    /// one refusal an hour at most).
    #[serde(default = "yes")]
    pub leave_unknown_groups: bool,
    /// Commands a duty or supervisor group gets answered in one minute; above it the group is
    /// told once to slow down and the rest of the minute's commands go unanswered.
    #[serde(default = "commands_per_minute")]
    pub commands_per_minute: u32,
    /// Minutes a tip may wait for an acknowledgement, by priority.
    pub sla: SlaSettings,
}

/// Minutes to acknowledge, by priority.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSettings {
    /// Urgent tips.
    pub urgent: u64,
    /// High-priority tips.
    pub high: u64,
    /// Normal tips.
    pub normal: u64,
    /// Low-priority tips.
    pub low: u64,
}

/// A way to close a tip.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disposition {
    /// Stable id (`[a-z0-9_-]`, at most 16 characters: it rides in button data).
    pub id: String,
    /// Vietnamese label.
    pub vi: String,
    /// English label.
    pub en: String,
}

/// One routing rule: tips of these places and categories go to `group`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskRoute {
    /// The group.
    pub group: i64,
    /// Districts (as in `communes[].district`); empty matches any.
    #[serde(default)]
    pub districts: Vec<String>,
    /// Commune ids; empty matches any.
    #[serde(default)]
    pub communes: Vec<String>,
    /// Category ids; empty matches any.
    #[serde(default)]
    pub categories: Vec<String>,
    /// The unit this group belongs to, as exports name it (e.g. "Đội CSMT Công an huyện Cao
    /// Phong").
    #[serde(default)]
    pub unit: String,
}

impl DeskSettings {
    /// The group for a tip of `category` in `commune` (an id, if known).
    pub fn group_for(&self, settings: &Settings, commune: Option<&str>, category: &str) -> i64 {
        self.route_index(settings, commune, category)
            .map_or(self.default_group, |i| self.routes[i].group)
    }

    /// Which of `routes` a tip of `category` in `commune` takes (the first that matches), or
    /// `None` for the default group.
    pub fn route_index(
        &self,
        settings: &Settings,
        commune: Option<&str>,
        category: &str,
    ) -> Option<usize> {
        // A commune merged into another routes as the new one.
        let commune = commune.map(|c| settings.commune_id(c));
        let district = commune
            .and_then(|c| settings.commune(c))
            .map(|c| c.district.as_str());
        self.routes.iter().position(|r| {
            (r.communes.is_empty() || commune.is_some_and(|c| r.communes.iter().any(|x| x == c)))
                && (r.districts.is_empty()
                    || district.is_some_and(|d| r.districts.iter().any(|x| x == d)))
                && (r.categories.is_empty() || r.categories.iter().any(|x| x == category))
        })
    }

    /// Whether `chat` is one of the configured duty groups.
    pub fn is_desk_group(&self, chat: i64) -> bool {
        chat == self.default_group || self.routes.iter().any(|r| r.group == chat)
    }

    /// Whether `user` may act on cards (buttons, questions, commands): a listed officer, or
    /// anyone where the unit opted out with `allow_any_member`.
    pub fn may_act(&self, user: u64) -> bool {
        self.allow_any_member || self.officers.contains(&user)
    }

    /// What is allowed but weakens the duty group as a boundary, for `check-config` and the
    /// start-up log.
    pub(super) fn warnings(&self, w: &mut Vec<Problem>) {
        if self.enabled && self.allow_any_member {
            w.push(Problem::new(
                "desk.allow_any_member",
                "every member of a duty group can act on cards and ask citizens questions; \
                 list the officers in desk.officers instead",
            ));
        }
    }

    pub(super) fn validate(&self, settings: &Settings, p: &mut Vec<Problem>) {
        if !matches!(self.lang.as_str(), "vi" | "en") {
            p.push(Problem::new("desk.lang", "must be \"vi\" or \"en\""));
        }
        if self.enabled && self.default_group >= 0 {
            p.push(Problem::new(
                "desk.default_group",
                "must be a group id (negative, e.g. -1001234567890) when the desk is enabled",
            ));
        }
        if !(1..=600).contains(&self.commands_per_minute) {
            p.push(Problem::new(
                "desk.commands_per_minute",
                "must be between 1 and 600",
            ));
        }
        if self.enabled && self.officers.is_empty() && !self.allow_any_member {
            p.push(Problem::new(
                "desk.officers",
                "must list the Telegram user ids of the officers allowed to act on cards when \
                 the desk is enabled (or set desk.allow_any_member = true to let every member \
                 of a duty group act)",
            ));
        }
        if self.officers.contains(&0) {
            p.push(Problem::new("desk.officers", "0 is not a Telegram user id"));
        }
        if !(1..=60).contains(&self.questions_per_tip_per_hour) {
            p.push(Problem::new(
                "desk.questions_per_tip_per_hour",
                "must be between 1 and 60",
            ));
        }
        if self.supervisor_group > 0 {
            p.push(Problem::new(
                "desk.supervisor_group",
                "must be a group id (negative) or 0 for none",
            ));
        }
        for (key, minutes) in [
            ("urgent", self.sla.urgent),
            ("high", self.sla.high),
            ("normal", self.sla.normal),
            ("low", self.sla.low),
        ] {
            if minutes == 0 || minutes > 7 * 24 * 60 {
                p.push(Problem::new(
                    format!("desk.sla.{key}"),
                    "must be between 1 and 10080 minutes",
                ));
            }
        }
        if self.dispositions.is_empty() {
            p.push(Problem::new(
                "desk.dispositions",
                "needs at least one disposition",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, d) in self.dispositions.iter().enumerate() {
            let ok = !d.id.is_empty()
                && d.id.len() <= 16
                && d.id.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !ok {
                p.push(Problem::new(
                    format!("desk.dispositions[{i}].id"),
                    "must be 1-16 characters of a-z, 0-9, _ or -",
                ));
            } else if !seen.insert(d.id.as_str()) {
                p.push(Problem::new(
                    format!("desk.dispositions[{i}].id"),
                    format!("\"{}\" is used twice", d.id),
                ));
            }
            if d.vi.trim().is_empty() || d.en.trim().is_empty() {
                p.push(Problem::new(
                    format!("desk.dispositions[{i}]"),
                    "needs vi and en labels",
                ));
            }
        }
        for (i, r) in self.routes.iter().enumerate() {
            if r.group >= 0 {
                p.push(Problem::new(
                    format!("desk.routes[{i}].group"),
                    "must be a group id (negative, e.g. -1001234567890)",
                ));
            }
            for c in &r.communes {
                if settings.commune(c).is_none() {
                    p.push(Problem::new(
                        format!("desk.routes[{i}].communes"),
                        format!("\"{c}\" is not the id of a configured commune"),
                    ));
                }
            }
            for d in &r.districts {
                if !settings.communes.iter().any(|c| &c.district == d) {
                    p.push(Problem::new(
                        format!("desk.routes[{i}].districts"),
                        format!("no configured commune is in district \"{d}\""),
                    ));
                }
            }
            for c in &r.categories {
                if settings.category(c).is_none() {
                    p.push(Problem::new(
                        format!("desk.routes[{i}].categories"),
                        format!("\"{c}\" is not the id of a configured category"),
                    ));
                }
            }
        }
    }
}

fn yes() -> bool {
    true
}

/// A duty group busy with real work sends a few commands a minute; 30 is never reached but
/// by a script.
fn commands_per_minute() -> u32 {
    30
}

fn five() -> u32 {
    5
}

#[cfg(test)]
mod tests {
    use super::super::tests::{load_text, shipped};

    /// The shipped configuration with the desk enabled and `officers` as given.
    fn enabled(officers: &str) -> String {
        shipped()
            .replace(
                "enabled = false\ndefault_group = -1001000000001",
                "enabled = true\ndefault_group = -1001000000001",
            )
            .replace("officers = []", officers)
    }

    #[test]
    fn an_enabled_desk_without_officers_or_the_opt_out_is_refused() {
        let err = load_text(&enabled("officers = []")).unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["desk.officers"], "{err}");
        assert!(
            err.to_string().contains("desk.allow_any_member = true"),
            "the message says how to opt out: {err}"
        );
        // The shipped file, with the desk off, needs no officers.
        assert!(load_text(&shipped()).unwrap().desk.officers.is_empty());
    }

    #[test]
    fn listed_officers_may_act_and_nobody_else() {
        let s = load_text(&enabled("officers = [501, 502]")).unwrap();
        assert!(s.desk.may_act(501) && s.desk.may_act(502));
        assert!(!s.desk.may_act(777));
        assert!(s.warnings().is_empty());
        assert_eq!(s.desk.questions_per_tip_per_hour, 5, "the default");
    }

    #[test]
    fn allowing_any_member_is_valid_but_warned_about() {
        let s = load_text(
            &enabled("officers = []\nallow_any_member = true")
                .replace("allow_any_member = false\n", ""),
        )
        .unwrap();
        assert!(s.desk.may_act(777));
        let warnings = s.warnings();
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].key, "desk.allow_any_member");
        // With the desk off there is nothing to warn about.
        let off =
            load_text(&shipped().replace("allow_any_member = false", "allow_any_member = true"))
                .unwrap();
        assert!(off.warnings().is_empty());
    }

    #[test]
    fn the_question_limit_and_officer_ids_are_checked() {
        let text = enabled("officers = [0]").replace(
            "questions_per_tip_per_hour = 5",
            "questions_per_tip_per_hour = 0",
        );
        let err = load_text(&text).unwrap_err();
        let keys: Vec<&str> = err.0.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["desk.officers", "desk.questions_per_tip_per_hour"],
            "{err}"
        );
        // A configuration from before these keys loads with their defaults.
        let old = shipped()
            .replace("allow_any_member = false\n", "")
            .replace("questions_per_tip_per_hour = 5\n", "");
        let s = load_text(&old).unwrap();
        assert!(!s.desk.allow_any_member);
        assert_eq!(s.desk.questions_per_tip_per_hour, 5);
    }
}
