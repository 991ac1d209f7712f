//! The numbered menu last shown to a Zalo chat: Zalo has no buttons, so a citizen types a
//! number or a label, and what it means is what the last message showed. Kept two days, as
//! JSON pairs `[[label, data], …]`; one that cannot be read counts as no menu.
//!
//! Keys: `zmenu:<chat alias>`.

use super::{Keys, Store};

/// How long a shown menu is remembered.
const MENU_TTL_SECS: i64 = 2 * 24 * 3600;

impl Keys {
    /// The numbered menu last shown to a Zalo chat (keyed by its alias).
    pub fn zalo_menu(&self, chat_alias: &str) -> String {
        format!("{}:zmenu:{chat_alias}", self.ns)
    }
}

/// One numbered choice of a menu, as shown and stored (the Zalo channel builds and resolves
/// them; the store keeps the last ones shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuOption {
    /// What the citizen reads (and may type back).
    pub label: String,
    /// What the conversation receives, as a button press.
    pub data: String,
}

impl Store {
    /// Keeps the menu last shown to a Zalo chat (two days), or forgets it when the last
    /// message had none.
    pub async fn zalo_menu_set(
        &self,
        chat_alias: &str,
        options: &[MenuOption],
    ) -> redis::RedisResult<()> {
        let key = self.keys.zalo_menu(chat_alias);
        if options.is_empty() {
            return redis::cmd("DEL")
                .arg(key)
                .query_async(&mut self.conn())
                .await;
        }
        let pairs: Vec<(&str, &str)> = options
            .iter()
            .map(|o| (o.label.as_str(), o.data.as_str()))
            .collect();
        redis::cmd("SET")
            .arg(key)
            .arg(serde_json::to_string(&pairs).unwrap_or_default())
            .arg("EX")
            .arg(MENU_TTL_SECS)
            .query_async(&mut self.conn())
            .await
    }

    /// The menu last shown to a Zalo chat, if it had one.
    pub async fn zalo_menu(&self, chat_alias: &str) -> redis::RedisResult<Option<Vec<MenuOption>>> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.keys.zalo_menu(chat_alias))
            .query_async(&mut self.conn())
            .await?;
        Ok(raw
            .and_then(|r| serde_json::from_str::<Vec<(String, String)>>(&r).ok())
            .map(|pairs| {
                pairs
                    .into_iter()
                    .map(|(label, data)| MenuOption { label, data })
                    .collect()
            }))
    }
}
