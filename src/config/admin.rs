//! Admins (provincial and district police who report upward each week): who they are, where
//! the automatic weekly report goes and when, and what the Hòm thư posters link to.

use serde::Deserialize;

use super::{Problem, Settings};

/// Admin access and the weekly report.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// Telegram user ids allowed `/export` and `/stats` in a private chat with the bot.
    pub users: Vec<u64>,
    /// Whether the weekly report is sent by itself.
    pub weekly_report: bool,
    /// Where it goes: a chat id (an admin group, `-100…`, or a user id); 0 sends it to each
    /// admin in `users` privately.
    pub report_chat: i64,
    /// Local day and time it goes out, for the week that just ended: `mon 07:00`.
    pub report_at: String,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            users: Vec::new(),
            weekly_report: false,
            report_chat: 0,
            report_at: "mon 07:00".into(),
        }
    }
}

/// Hòm thư ANTT 4.0 posters.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PosterSettings {
    /// The bot's Telegram username (without @): posters link to `https://t.me/<it>?start=mb_<code>`.
    pub bot_username: String,
    /// A link for a second, Zalo QR code on each poster (e.g. `https://zalo.me/<OA id>`); empty:
    /// none.
    pub zalo_url: String,
}

impl AdminSettings {
    /// Minutes after the week's end (Monday 00:00 local) the report is due, from `report_at`.
    pub fn report_offset_mins(&self) -> Option<i64> {
        let (day, time) = self.report_at.trim().split_once(' ')?;
        let day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .position(|d| d.eq_ignore_ascii_case(day.trim()))? as i64;
        let (h, m) = time.trim().split_once(':')?;
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        ((0..24).contains(&h) && (0..60).contains(&m)).then_some(day * 1440 + h * 60 + m)
    }

    /// Whether `user` is an admin.
    pub fn is_admin(&self, user: u64) -> bool {
        self.users.contains(&user)
    }

    pub(super) fn validate(&self, _settings: &Settings, p: &mut Vec<Problem>) {
        if self.report_offset_mins().is_none() {
            p.push(Problem::new(
                "admin.report_at",
                "must be a day and a local time such as \"mon 07:00\"",
            ));
        }
        if self.weekly_report && self.users.is_empty() && self.report_chat == 0 {
            p.push(Problem::new(
                "admin.weekly_report",
                "needs admin.report_chat or at least one id in admin.users",
            ));
        }
    }
}

impl PosterSettings {
    pub(super) fn validate(&self, p: &mut Vec<Problem>) {
        let u = &self.bot_username;
        let well_formed = (5..=32).contains(&u.len())
            && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !u.is_empty() && !well_formed {
            p.push(Problem::new(
                "posters.bot_username",
                "must be the bot's username without @ (5-32 characters of A-Z, a-z, 0-9, _)",
            ));
        }
        if !self.zalo_url.is_empty() && !self.zalo_url.starts_with("https://") {
            p.push(Problem::new(
                "posters.zalo_url",
                "must be an https:// link or empty",
            ));
        }
    }
}
