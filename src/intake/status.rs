//! `/status`: a citizen looks up one tip by its receipt code, or lists their own recent tips.
//! The code is the only credential (DESIGN.md §5), so lookups by code are rate limited per
//! citizen; the status line shows nothing but the code, the time received and the state.
//!
//! ```text
//! citizen: /status TB-7K3Q-X9MD        bot: TB-7K3Q-X9MD, received 12/03 14:05: in progress
//! citizen: /status                     bot: your recent tips, one line each (at most 5)
//! ```

use super::Intake;
use crate::codes::ReceiptCode;
use crate::conversation::Reply;
use crate::i18n::{Lang, Msg};
use crate::store::Tip;

impl Intake {
    /// The status of tip `code`, unless `alias` asked too often in the hour of `counted_ms`.
    pub(super) async fn status(
        &self,
        alias: &str,
        seen_key: &str,
        code: &ReceiptCode,
        lang: Lang,
        counted_ms: i64,
    ) -> anyhow::Result<Reply> {
        let sh = &self.shared;
        let n = sh
            .store
            .rate_hit("status", alias, seen_key, counted_ms, 3600)
            .await?;
        if n > u64::from(sh.settings.limits.status_per_hour) {
            return Ok(Reply::text(Msg::new("flood-status")));
        }
        Ok(match sh.store.tip(code).await? {
            Some(tip) => self.status_line(&tip, lang),
            None => Reply::text(Msg::new("status-unknown").arg("code", code)),
        })
    }

    /// One line on a tip: its code, when it came, where it stands.
    fn status_line(&self, tip: &Tip, lang: Lang) -> Reply {
        let sh = &self.shared;
        Reply::text(
            Msg::new("status-line")
                .arg("code", &tip.code)
                .arg("time", sh.local_time(tip.received_ms))
                .arg("status", sh.texts.get(lang, status_msg(tip))),
        )
    }

    /// The citizen's own recent tips, one line each.
    pub(super) async fn status_list(&self, alias: &str, lang: Lang) -> anyhow::Result<Vec<Reply>> {
        let codes = self.shared.store.my_tips(alias, 5).await?;
        let mut lines = Vec::new();
        for code in codes {
            if let Ok(code) = ReceiptCode::parse(&code)
                && let Some(tip) = self.shared.store.tip(&code).await?
            {
                lines.push(self.status_line(&tip, lang));
            }
        }
        if lines.is_empty() {
            return Ok(vec![Reply::text(Msg::new("status-none"))]);
        }
        let mut out = vec![Reply::text(Msg::new("status-list"))];
        out.extend(lines);
        Ok(out)
    }
}

/// The message id of where a tip stands; a purged tip says its details are gone.
fn status_msg(tip: &Tip) -> &'static str {
    if tip.purged_ms.is_some() {
        "status-purged"
    } else {
        tip.status.msg_id()
    }
}
