//! The per-citizen flood limit, and the time an update counts at for every per-citizen limit
//! (messages a minute, tips an hour, `/status` lookups an hour).
//!
//! An update counts in the minute the citizen sent it, by the platform's clock (Telegram's
//! `date`, Zalo's), not in the minute the intake works it: after an outage the backlog of one
//! citizen's messages, written over several minutes, comes in one burst, and counted "now" it
//! would fill one minute's window and throw most of it away. The send time is clamped to
//! `[now − 24 h, now]`, so that a wrong clock cannot pick a window in the future nor spread a
//! flood over windows long gone (Telegram keeps undelivered updates for 24 hours). An update
//! the platform does not date (a Telegram button press) counts when it is worked.
//!
//! A press that sends the report («Gửi», or its number typed from a numbered menu) is never
//! dropped by the flood limit: it is a decision, not a flood, and the tip limit
//! (`limits.tips_per_hour`) still applies to it.
//!
//! ```text
//! citizen: 35 messages in 4 minutes   intake (after an outage, in 2 s): 4 windows, none over
//! citizen: 31st message this minute   bot: "you are sending too fast" (once), then ignored
//! citizen: [Gửi] as the 40th          intake: sent on, receipt
//! ```

use super::Intake;
use crate::buttons::ButtonData;
use crate::conversation::{Conversation, Input, Reply};
use crate::i18n::{Lang, Msg};
use crate::outbound::render_for;
use crate::privacy::Route;

/// How far back a send time is believed (Telegram keeps undelivered updates for 24 hours).
pub(super) const SENT_MAX_AGE_MS: i64 = 24 * 3600 * 1000;

/// The time an update counts at for per-citizen limits: when it was sent, if the platform says
/// so, never later than now and never earlier than [`SENT_MAX_AGE_MS`] before now.
pub(super) fn counted_at(sent_ms: Option<i64>, now_ms: i64) -> i64 {
    sent_ms.map_or(now_ms, |sent| {
        sent.clamp(now_ms.saturating_sub(SENT_MAX_AGE_MS), now_ms)
    })
}

/// Whether `input` sends the report under review: never dropped by the flood limit.
pub(super) fn finishes_report(input: Option<&Input>) -> bool {
    matches!(input, Some(Input::Button(Some(ButtonData::ReviewSend))))
}

impl Intake {
    /// Applies the per-minute message limit to the `count`th message of its minute, unless it
    /// sends the report. Over it, the citizen is told once per window, the update is marked
    /// processed, and `true` comes back.
    pub(super) async fn flooded(
        &self,
        route: &Route,
        lang: Lang,
        count: u64,
        input: Option<&Input>,
        stored: Option<&Conversation>,
        seen_key: &str,
    ) -> anyhow::Result<bool> {
        let sh = &self.shared;
        let limit = u64::from(sh.settings.limits.messages_per_minute);
        if count <= limit {
            return Ok(false);
        }
        if finishes_report(input) {
            tracing::info!("a report's send over the per-minute limit let through");
            return Ok(false);
        }
        tracing::info!("message over the per-minute limit ignored");
        sh.metrics.flood_dropped.inc();
        let mut replies = Vec::new();
        if count == limit + 1 {
            let lang = stored.map_or(lang, |c| c.lang);
            replies.push(render_for(
                &sh.channels.capabilities(route.channel),
                &Reply::text(Msg::new("flood-messages")),
                lang,
                &sh.texts,
            ));
        }
        sh.store.mark_seen(seen_key).await?;
        self.deliver(route, &replies).await.map_err(|(_, e)| e)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::rate_window;

    const NOW: i64 = 1_750_000_000_000;

    #[test]
    fn a_send_time_counts_as_given_within_the_last_day() {
        assert_eq!(counted_at(Some(NOW - 90_000), NOW), NOW - 90_000);
        assert_eq!(counted_at(Some(NOW), NOW), NOW);
        assert_eq!(
            counted_at(Some(NOW - SENT_MAX_AGE_MS), NOW),
            NOW - SENT_MAX_AGE_MS
        );
    }

    #[test]
    fn a_send_time_in_the_future_or_too_old_is_clamped_and_a_missing_one_is_now() {
        assert_eq!(counted_at(Some(NOW + 3_600_000), NOW), NOW);
        assert_eq!(counted_at(Some(i64::MAX), NOW), NOW);
        assert_eq!(counted_at(Some(0), NOW), NOW - SENT_MAX_AGE_MS);
        assert_eq!(counted_at(Some(i64::MIN), NOW), NOW - SENT_MAX_AGE_MS);
        assert_eq!(counted_at(None, NOW), NOW);
        // A clock near the epoch does not overflow.
        assert_eq!(counted_at(Some(i64::MIN), i64::MIN + 5), i64::MIN);
    }

    #[test]
    fn a_backlog_sent_over_four_minutes_counts_in_four_windows() {
        // 40 messages, one every 6 s from the start of a minute, worked in one burst later.
        let start = NOW - NOW.rem_euclid(60_000) - 10 * 60_000;
        let mut per_window = std::collections::BTreeMap::<i64, u32>::new();
        for i in 0..40 {
            let at = counted_at(Some(start + i * 6_000), NOW + 2_000);
            *per_window.entry(rate_window(at, 60)).or_default() += 1;
        }
        assert_eq!(per_window.len(), 4, "{per_window:?}");
        assert!(per_window.values().all(|&n| n == 10), "{per_window:?}");
        // Counted when worked, all 40 would have fallen in one.
        assert_eq!(rate_window(NOW, 60), rate_window(NOW + 2_000 - 1, 60));
    }

    #[test]
    fn windows_split_at_their_boundaries_also_before_the_epoch() {
        assert_eq!(rate_window(59_999, 60), 0);
        assert_eq!(rate_window(60_000, 60), 1);
        assert_eq!(rate_window(-1, 60), -1);
        assert_eq!(rate_window(3_600_000 * 5 + 1, 3600), 5);
    }

    #[test]
    fn only_the_send_press_finishes_a_report() {
        assert!(finishes_report(Some(&Input::button("rv:send"))));
        assert!(!finishes_report(Some(&Input::button("rv:edit"))));
        assert!(!finishes_report(Some(&Input::button("go:next"))));
        assert!(!finishes_report(Some(&Input::Text("rv:send".into()))));
        assert!(!finishes_report(None));
    }
}
