//! Officer cards in the duty groups: which tip a bot message in a group belongs to (cards and
//! relayed answers, so an officer's reply reaches the right citizen), the open tips of each
//! group, the ids of groups that became supergroups, and the Telegram file ids of a Zalo tip's
//! files once uploaded under its card. Where a card is (`card:<code>`) is read and written in
//! `events.rs`; [`Store::record_posted`] writes it here with the rest in one transaction.
//!
//! Keys: `card:<code>` (hash: chat, message, copied), `cardmsg:<chat>:<message>` (tip code,
//! 90 days), `open:<group>` (codes scored by received time), `migrated:<old>` and
//! `migrated_from:<new>` (group ids), `tgcopy:<code>` (hash: file index → Telegram file id),
//! `offduty` (codes of tips whose card is not in their duty group, scored by when it went
//! astray; field `astray` of `card:<code>` says why, issue 13).

use super::{Keys, Store};

/// How long a group message stays linked to its tip.
const CARD_MESSAGE_TTL_SECS: i64 = 90 * 24 * 3600;

impl Keys {
    /// Where a tip's officer card is.
    pub fn card(&self, code: &str) -> String {
        format!("{}:card:{code}", self.ns)
    }
    /// Which tip a bot message in a duty group belongs to.
    pub fn card_message(&self, chat: i64, message: i32) -> String {
        format!("{}:cardmsg:{chat}:{message}", self.ns)
    }
    /// Open tips of a duty group, scored by received time.
    pub fn open(&self, group: i64) -> String {
        format!("{}:open:{group}", self.ns)
    }
    /// Set for an hour after a chat that is not a duty group was told so (issue 13).
    pub fn refused(&self, chat: i64) -> String {
        format!("{}:refused:{chat}", self.ns)
    }
    /// Commands chat `chat` sent in minute `minute` (unix minutes), for 2 minutes (issue 13).
    pub fn commands(&self, chat: i64, minute: i64) -> String {
        format!("{}:commands:{chat}:{minute}", self.ns)
    }
    /// The id a migrated group has now.
    pub fn migrated(&self, old: i64) -> String {
        format!("{}:migrated:{old}", self.ns)
    }
    /// The id a group had in the configuration before it migrated.
    pub fn migrated_from(&self, new: i64) -> String {
        format!("{}:migrated_from:{new}", self.ns)
    }
    /// Tips whose card is not in their duty group (posted to the supervisors, or nowhere).
    pub fn offduty(&self) -> String {
        format!("{}:offduty", self.ns)
    }
    /// Telegram file ids of a Zalo tip's files, uploaded under its card.
    pub fn telegram_copies(&self, code: &str) -> String {
        format!("{}:tgcopy:{code}", self.ns)
    }
}

impl Store {
    /// Remembers that a bot message in a group belongs to `code` (cards, relayed answers),
    /// so that an officer's reply to it reaches the right citizen.
    pub async fn card_message_set(
        &self,
        chat: i64,
        message: i32,
        code: &str,
    ) -> redis::RedisResult<()> {
        redis::cmd("SET")
            .arg(self.keys.card_message(chat, message))
            .arg(code)
            .arg("EX")
            .arg(CARD_MESSAGE_TTL_SECS)
            .query_async(&mut self.conn())
            .await
    }

    /// The tip a group message belongs to.
    pub async fn card_message(
        &self,
        chat: i64,
        message: i32,
    ) -> redis::RedisResult<Option<String>> {
        redis::cmd("GET")
            .arg(self.keys.card_message(chat, message))
            .query_async(&mut self.conn())
            .await
    }

    /// Lists a tip among its group's open tips.
    pub async fn open_add(
        &self,
        group: i64,
        code: &str,
        received_ms: i64,
    ) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("ZADD")
            .arg(self.keys.open(group))
            .arg(received_ms)
            .arg(code)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Takes a closed tip off its group's open tips.
    pub async fn open_remove(&self, group: i64, code: &str) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("ZREM")
            .arg(self.keys.open(group))
            .arg(code)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// A group's open tips, oldest first.
    pub async fn open_list(&self, group: i64, limit: usize) -> redis::RedisResult<Vec<String>> {
        redis::cmd("ZRANGE")
            .arg(self.keys.open(group))
            .arg(0)
            .arg(limit.saturating_sub(1))
            .query_async(&mut self.conn())
            .await
    }

    /// Records that group `old` became supergroup `new`.
    pub async fn migrate_group(&self, old: i64, new: i64) -> redis::RedisResult<()> {
        redis::pipe()
            .atomic()
            .cmd("SET")
            .arg(self.keys.migrated(old))
            .arg(new)
            .ignore()
            .cmd("SET")
            .arg(self.keys.migrated_from(new))
            .arg(old)
            .ignore()
            .query_async(&mut self.conn())
            .await
    }

    /// The id to send to for a group known as `id` (its supergroup's, once migrated).
    pub async fn group_now(&self, id: i64) -> redis::RedisResult<i64> {
        let new: Option<i64> = redis::cmd("GET")
            .arg(self.keys.migrated(id))
            .query_async(&mut self.conn())
            .await?;
        Ok(new.unwrap_or(id))
    }

    /// The id the configuration knows a group by (its id before migrating, if it did).
    pub async fn group_configured(&self, id: i64) -> redis::RedisResult<i64> {
        let old: Option<i64> = redis::cmd("GET")
            .arg(self.keys.migrated_from(id))
            .query_async(&mut self.conn())
            .await?;
        Ok(old.unwrap_or(id))
    }

    /// Counts a command of group `chat` in minute `minute` (unix minutes) and returns how many
    /// it has sent in that minute, this one included. The count lasts two minutes.
    pub async fn command_count(&self, chat: i64, minute: i64) -> redis::RedisResult<u64> {
        let key = self.keys.commands(chat, minute);
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .ignore()
            .expire(&key, 120)
            .ignore()
            .get(&key)
            .query_async(&mut self.conn())
            .await?;
        Ok(count)
    }

    /// Whether chat `chat`, which is not a duty group, is due the refusal: at most once per
    /// `window_secs`, so that a stranger's group flooding commands gets one answer, not one
    /// per command.
    pub async fn refusal_due(&self, chat: i64, window_secs: u64) -> redis::RedisResult<bool> {
        let set: Option<String> = redis::cmd("SET")
            .arg(self.keys.refused(chat))
            .arg(1)
            .arg("NX")
            .arg("EX")
            .arg(window_secs)
            .query_async(&mut self.conn())
            .await?;
        Ok(set.is_some())
    }

    /// Records the Telegram file id of file `index` of tip `code` (uploaded under its card).
    pub async fn telegram_copy_set(
        &self,
        code: &str,
        index: usize,
        file_id: &str,
    ) -> redis::RedisResult<()> {
        redis::cmd("HSET")
            .arg(self.keys.telegram_copies(code))
            .arg(index)
            .arg(file_id)
            .query_async(&mut self.conn())
            .await
    }

    /// The Telegram file id of file `index` of tip `code`, if it was uploaded.
    pub async fn telegram_copy(
        &self,
        code: &str,
        index: usize,
    ) -> redis::RedisResult<Option<String>> {
        redis::cmd("HGET")
            .arg(self.keys.telegram_copies(code))
            .arg(index)
            .query_async(&mut self.conn())
            .await
    }
}

/// The card record itself: where it is and whether its files were copied under it.
impl Store {
    /// Where a tip's officer card is: (chat, message id, files copied so far).
    pub async fn card(&self, code: &str) -> redis::RedisResult<Option<(i64, i32, usize)>> {
        let (chat, message, copied): (Option<i64>, Option<i32>, Option<usize>) =
            redis::cmd("HMGET")
                .arg(self.keys.card(code))
                .arg("chat")
                .arg("message")
                .arg("copied")
                .query_async(&mut self.conn())
                .await?;
        Ok(chat.zip(message).map(|(c, m)| (c, m, copied.unwrap_or(0))))
    }

    /// Records where a tip's card was posted.
    pub async fn set_card(&self, code: &str, chat: i64, message: i32) -> redis::RedisResult<()> {
        self.card_hset(code, chat, message)
            .query_async(&mut self.conn())
            .await
    }

    /// The card record of a freshly posted card: where it is, no file copied yet.
    fn card_hset(&self, code: &str, chat: i64, message: i32) -> redis::Cmd {
        let mut cmd = redis::cmd("HSET");
        cmd.arg(self.keys.card(code))
            .arg("chat")
            .arg(chat)
            .arg("message")
            .arg(message)
            .arg("copied")
            .arg(0);
        cmd
    }

    /// Records that one more file of a tip was copied under its card.
    pub async fn card_copied(&self, code: &str) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("HINCRBY")
            .arg(self.keys.card(code))
            .arg("copied")
            .arg(1)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }
}

/// A card just posted, as [`Store::record_posted`] records it.
#[derive(Debug)]
pub struct PostedCard<'a> {
    /// The tip.
    pub code: &'a str,
    /// The chat it is in.
    pub chat: i64,
    /// Its message id there.
    pub message: i32,
    /// The tip's duty group, as configured (its open tips list the tip).
    pub group: i64,
    /// When the tip was submitted.
    pub received_ms: i64,
    /// Files already dealt with: a minimal card takes none, so all of them count.
    pub files_done: usize,
    /// Posted outside its duty group: why, and the dead letter (`dlq:desk`, the event's fields
    /// and `error`) that lists it for `tipline dlq replay --group desk`.
    pub astray: Option<(&'a str, Vec<(String, String)>)>,
}

/// Cards not in their duty group (issue 13).
impl Store {
    /// Records, in one step, where a tip's card was posted, that the message belongs to the
    /// tip, that the tip is open in its duty group and, for a card outside it, why, with its
    /// dead letter; a card in its duty group clears those marks.
    pub async fn record_posted(
        &self,
        card: &PostedCard<'_>,
        now_ms: i64,
    ) -> redis::RedisResult<()> {
        let mut pipe = redis::pipe();
        pipe.atomic()
            .add_command(self.card_hset(card.code, card.chat, card.message))
            .ignore()
            .cmd("HSET")
            .arg(self.keys.card(card.code))
            .arg("copied")
            .arg(card.files_done)
            .ignore()
            .cmd("SET")
            .arg(self.keys.card_message(card.chat, card.message))
            .arg(card.code)
            .arg("EX")
            .arg(CARD_MESSAGE_TTL_SECS)
            .ignore()
            .cmd("ZADD")
            .arg(self.keys.open(card.group))
            .arg(card.received_ms)
            .arg(card.code)
            .ignore();
        match &card.astray {
            Some((why, letter)) => {
                pipe.cmd("HSET")
                    .arg(self.keys.card(card.code))
                    .arg("astray")
                    .arg(why)
                    .ignore()
                    .cmd("ZADD")
                    .arg(self.keys.offduty())
                    .arg(now_ms)
                    .arg(card.code)
                    .ignore();
                let xadd = pipe.cmd("XADD").arg(self.keys.dlq("desk")).arg("*");
                for (k, v) in letter {
                    xadd.arg(k).arg(v);
                }
                xadd.ignore();
            }
            None => {
                pipe.cmd("HDEL")
                    .arg(self.keys.card(card.code))
                    .arg("astray")
                    .ignore()
                    .cmd("ZREM")
                    .arg(self.keys.offduty())
                    .arg(card.code)
                    .ignore();
            }
        }
        pipe.query_async(&mut self.conn()).await
    }

    /// Why a tip's card is not in its duty group, if it is not.
    pub async fn card_astray(&self, code: &str) -> redis::RedisResult<Option<String>> {
        redis::cmd("HGET")
            .arg(self.keys.card(code))
            .arg("astray")
            .query_async(&mut self.conn())
            .await
    }

    /// Counts a tip among those whose card is not in its duty group (no group took it).
    pub async fn offduty_add(&self, code: &str, now_ms: i64) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("ZADD")
            .arg(self.keys.offduty())
            .arg(now_ms)
            .arg(code)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// The tip's card is home, or no longer needs to be (closed, its dead letter dropped).
    pub async fn offduty_remove(&self, code: &str) -> redis::RedisResult<()> {
        let _: i64 = redis::cmd("ZREM")
            .arg(self.keys.offduty())
            .arg(code)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// How many tips have their card outside their duty group.
    pub async fn offduty_count(&self) -> redis::RedisResult<u64> {
        redis::cmd("ZCARD")
            .arg(self.keys.offduty())
            .query_async(&mut self.conn())
            .await
    }
}
