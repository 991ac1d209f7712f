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
