//! `[retention]`: how long a tip's content is kept before the purge replaces it with a
//! tombstone (`crate::retention`), and how long dead letters are kept. Drafts keep their own
//! timer (`limits.draft_expire_after_secs`).

use serde::Deserialize;

use super::Problem;

/// How long things are kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionSettings {
    /// Whether the purge runs by itself (`tipline purge` works either way).
    pub enabled: bool,
    /// Days after closing that a closed tip's content is kept.
    pub closed_tip_days: u32,
    /// Days after submitting that a tip never closed keeps its content.
    pub open_tip_days: u32,
    /// Days a dead letter (intake, desk, notify, forward) is kept.
    pub dead_letter_days: u32,
    /// Minutes between two purge runs (one replica runs each, under a lease).
    pub every_mins: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            closed_tip_days: 90,
            open_tip_days: 365,
            dead_letter_days: 30,
            every_mins: 60,
        }
    }
}

impl RetentionSettings {
    pub(super) fn validate(&self, p: &mut Vec<Problem>) {
        let mut bad = |k: &str, m: &str| p.push(Problem::new(format!("retention.{k}"), m));
        if !(1..=3650).contains(&self.closed_tip_days) {
            bad("closed_tip_days", "must be 1 to 3650 days");
        }
        if !(1..=3650).contains(&self.open_tip_days) {
            bad("open_tip_days", "must be 1 to 3650 days");
        } else if self.open_tip_days < self.closed_tip_days {
            bad(
                "open_tip_days",
                "must be at least retention.closed_tip_days (an open tip is never purged sooner than a closed one)",
            );
        }
        if !(1..=3650).contains(&self.dead_letter_days) {
            bad("dead_letter_days", "must be 1 to 3650 days");
        } else if self.dead_letter_days > self.closed_tip_days {
            bad(
                "dead_letter_days",
                "must be at most retention.closed_tip_days (a dead letter holds a tip's content)",
            );
        }
        if !(1..=1440).contains(&self.every_mins) {
            bad("every_mins", "must be 1 to 1440 minutes");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(r: &RetentionSettings) -> Vec<String> {
        let mut p = Vec::new();
        r.validate(&mut p);
        p.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(
            problems(&RetentionSettings::default()),
            Vec::<String>::new()
        );
    }

    #[test]
    fn each_bad_value_is_named_by_its_key() {
        let bad = RetentionSettings {
            enabled: true,
            closed_tip_days: 0,
            open_tip_days: 4000,
            dead_letter_days: 0,
            every_mins: 0,
        };
        let p = problems(&bad).join("\n");
        for key in [
            "retention.closed_tip_days",
            "retention.open_tip_days",
            "retention.dead_letter_days",
            "retention.every_mins",
        ] {
            assert!(p.contains(key), "{key} missing in:\n{p}");
        }
    }

    #[test]
    fn an_open_tip_may_not_go_before_a_closed_one_nor_a_dead_letter_outlive_it() {
        let r = RetentionSettings {
            closed_tip_days: 90,
            open_tip_days: 30,
            dead_letter_days: 120,
            ..RetentionSettings::default()
        };
        let p = problems(&r).join("\n");
        assert!(p.contains("retention.open_tip_days"), "{p}");
        assert!(p.contains("retention.dead_letter_days"), "{p}");
    }
}
