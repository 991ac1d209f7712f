//! Summary cards (issue 13): a ceiling on new tips from citizens not seen before, so that a
//! flood of fresh accounts cannot bury a duty group under cards. Above the per-citizen limits,
//! tips of new citizens are counted per hour, in their commune (`limits.
//! new_citizens_per_commune_per_hour`) and over all (`limits.new_citizens_per_hour`). A tip
//! over either ceiling is stored, receipted and forwarded like any other, and listed among its
//! group's open tips, but its card is not posted by itself: a timer posts one summary card per
//! group every `limits.summary_every_mins`, listing each such tip's code, category, commune
//! and time, and `/tip CODE` opens one (posts its card, which then becomes the tip's card).
//!
//! A citizen is *new* unless one of their earlier tips (the last 20 kept under their alias)
//! came at least `limits.known_citizen_after_hours` before this one: a conversation alone, or
//! accounts made ready the same day, do not make a citizen known; a tip a day earlier does.
//!
//! ```text
//! 50 fresh accounts → thung-nai   desk: 10 cards, 40 tips listed (ceiling 10 a commune)
//! timer, 10 min later             desk: one summary card: 40 lines, "/tip TB-… opens one"
//! officer: /tip TB-7K3Q-X9MD      desk: the tip's card, with its buttons
//! ```
//!
//! The decision is made once per tip and kept (`listed:<code>`), so a retried event is not
//! listed twice; a summary is taken with a lease and counts its posted parts, so a crash while
//! posting it posts only the rest, once (see `store/summary.rs`).

use std::sync::Arc;
use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::ChatId;
use tokio_util::sync::CancellationToken;

use crate::codes::ReceiptCode;
use crate::i18n::{Lang, Msg};
use crate::shared::Shared;
use crate::store::{Ceilings, Listing, NewTipCheck, Tip};

/// Characters of tip lines in one summary message (Telegram takes 4096 a message, counted in
/// UTF-16 units; the lines are Vietnamese text, one unit a character, and the header and footer
/// take the rest).
const PART_CHARS: usize = 3500;

/// How long a summary being posted is held by the replica posting it.
const LEASE_MS: i64 = 60_000;

/// Whether the card of a submitted `tip` waits for its group's summary instead of being posted
/// now. A tip whose card was posted before (a retried event) is never listed.
pub async fn listed(shared: &Shared, tip: &Tip) -> anyhow::Result<bool> {
    let code = tip.code.as_str();
    if shared.store.card(code).await?.is_some() {
        return Ok(false);
    }
    let settings = &shared.settings;
    let limits = &settings.limits;
    let check = NewTipCheck {
        code,
        alias: &tip.alias,
        received_ms: tip.received_ms,
        commune: tip.commune.as_deref(),
        group: settings
            .desk
            .group_for(settings, tip.commune.as_deref(), &tip.category),
    };
    let ceilings = Ceilings {
        per_commune: limits.new_citizens_per_commune_per_hour,
        per_hour: limits.new_citizens_per_hour,
        known_after_ms: (limits.known_citizen_after_hours * 3_600_000) as i64,
        due_ms: shared.clock.now_ms() + every_ms(shared),
    };
    let listing = shared.store.summary_list(&check, &ceilings).await?;
    if listing == Listing::Card {
        return Ok(false);
    }
    if listing == Listing::Now {
        shared.metrics.tips_summarised.inc();
        tracing::info!(tip = %code, "a new citizen's tip over the ceiling; listed for the summary card");
    }
    // The tip waits for an officer all the same.
    super::sla::start(shared, tip).await?;
    Ok(true)
}

/// Posts due summary cards every `every` until `shutdown`.
pub async fn run(shared: Arc<Shared>, every: Duration, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
        }
        if let Err(e) = fire_due(&shared).await {
            tracing::warn!(error = format!("{e:#}"), "summary cards failed; retrying");
        }
    }
}

/// Posts every summary card due now; returns how many were posted.
pub async fn fire_due(shared: &Shared) -> anyhow::Result<usize> {
    let now = shared.clock.now_ms();
    let mut posted = 0;
    for group in shared.store.summaries_due(now).await? {
        let Some(batch) = shared.store.summary_take(group, now, LEASE_MS).await? else {
            continue;
        };
        let lines = lines(shared, &batch.codes).await?;
        let parts = parts(&lines, PART_CHARS);
        let lang = Lang::parse(&shared.settings.desk.lang).unwrap_or_default();
        let bot = shared.telegram()?;
        for (i, part) in parts.iter().enumerate().skip(batch.posted) {
            let head = Msg::new("desk-summary-head")
                .arg("count", lines.len())
                .arg("part", i + 1)
                .arg("parts", parts.len());
            let foot = Msg::new("desk-summary-foot").arg("code", &batch.codes[0]);
            let text = format!(
                "{}\n{}\n{}",
                shared.texts.render(lang, &head),
                part.join("\n"),
                shared.texts.render(lang, &foot)
            );
            super::to_group(shared, group, |chat| {
                bot.send_message(ChatId(chat), text.clone())
                    .protect_content(true)
                    .send()
            })
            .await?;
            shared.store.summary_part_posted(group).await?;
        }
        shared
            .store
            .summary_done(group, now + every_ms(shared))
            .await?;
        shared.metrics.summaries_posted.inc();
        tracing::info!(tips = lines.len(), "summary card posted");
        posted += 1;
    }
    Ok(posted)
}

/// One line per listed tip: code, category, commune, time received.
async fn lines(shared: &Shared, codes: &[String]) -> anyhow::Result<Vec<String>> {
    let lang = Lang::parse(&shared.settings.desk.lang).unwrap_or_default();
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        let Ok(parsed) = ReceiptCode::parse(code) else {
            continue;
        };
        let Some(tip) = shared.store.tip(&parsed).await? else {
            continue; // Purged since it was listed.
        };
        let commune = tip
            .commune
            .as_deref()
            .and_then(|c| shared.settings.commune(c))
            .map_or_else(
                || shared.texts.get(lang, "card-commune-unknown"),
                |c| c.name.clone(),
            );
        out.push(
            shared.texts.render(
                lang,
                &Msg::new("desk-summary-line")
                    .arg("code", &tip.code)
                    .arg(
                        "category",
                        shared.settings.category_label(&tip.category, lang),
                    )
                    .arg("commune", commune)
                    .arg("time", shared.local_time(tip.received_ms)),
            ),
        );
    }
    Ok(out)
}

/// `lines` in parts of at most `budget` characters (a longer line is a part by itself).
fn parts(lines: &[String], budget: usize) -> Vec<Vec<String>> {
    let mut parts: Vec<Vec<String>> = Vec::new();
    let mut used = 0;
    for line in lines {
        let len = line.chars().count() + 1;
        match parts.last_mut() {
            Some(part) if used + len <= budget => part.push(line.clone()),
            _ => {
                parts.push(vec![line.clone()]);
                used = 0;
            }
        }
        used += len;
    }
    parts
}

fn every_ms(shared: &Shared) -> i64 {
    (shared.settings.limits.summary_every_mins * 60_000) as i64
}

/// Posts `msg` under the tip's card, or, for a tip listed in a summary (no card yet), in its
/// duty group by itself, so that an alert about it still reaches the group.
pub async fn under_card_or_in_group(shared: &Shared, tip: &Tip, msg: &Msg) -> anyhow::Result<()> {
    if shared.store.card(tip.code.as_str()).await?.is_some() {
        return super::relay::post_under_card(shared, tip, msg).await;
    }
    let Some(group) = shared.store.summary_listed(tip.code.as_str()).await? else {
        return Ok(());
    };
    let lang = Lang::parse(&shared.settings.desk.lang).unwrap_or_default();
    let text = shared.texts.render(lang, msg);
    let bot = shared.telegram()?;
    super::to_group(shared, group, |chat| {
        bot.send_message(ChatId(chat), text.clone())
            .protect_content(true)
            .send()
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines_are_split_into_parts_that_fit_a_message() {
        let line = |i: usize| format!("TB-AAAA-{i:04} · Ma túy · Xã Thung Nai · 14:05 04/12");
        let lines: Vec<String> = (0..40).map(line).collect();
        let one = parts(&lines, PART_CHARS);
        assert_eq!(one.len(), 1, "forty lines are one message");
        assert_eq!(one[0], lines);

        let many: Vec<String> = (0..200).map(line).collect();
        let split = parts(&many, PART_CHARS);
        assert!(split.len() > 1);
        assert_eq!(split.concat(), many, "every line once, in order");
        for part in &split {
            let chars: usize = part.iter().map(|l| l.chars().count() + 1).sum();
            assert!(chars <= PART_CHARS, "{chars}");
        }
        assert!(parts(&[], PART_CHARS).is_empty());
        let long = vec!["x".repeat(PART_CHARS * 2), "y".into()];
        assert_eq!(parts(&long, PART_CHARS).len(), 2);
    }
}
