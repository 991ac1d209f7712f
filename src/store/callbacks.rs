//! Answers of the triage service's callback API by idempotency key: a retried request gets
//! the answer of the first one instead of acting twice. An answer that cannot be read counts
//! as none.
//!
//! Keys: `cb:<hashed idempotency key>` (status and JSON body, a week).

use super::{Keys, Store};

impl Keys {
    /// A callback API request's stored answer, by its idempotency key.
    pub fn callback(&self, key: &str) -> String {
        format!("{}:cb:{key}", self.ns)
    }
}

/// Seconds a callback API answer is kept for its idempotency key.
const CALLBACK_ANSWER_TTL: u64 = 7 * 24 * 3600;

impl Store {
    /// The stored answer to a callback API call with this (hashed) idempotency key.
    pub async fn callback_answer(
        &self,
        key: &str,
    ) -> redis::RedisResult<Option<(axum::http::StatusCode, serde_json::Value)>> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.keys.callback(key))
            .query_async(&mut self.conn())
            .await?;
        Ok(raw
            .and_then(|r| serde_json::from_str::<(u16, serde_json::Value)>(&r).ok())
            .and_then(|(s, v)| Some((axum::http::StatusCode::from_u16(s).ok()?, v))))
    }

    /// Keeps the answer to a callback API call for its idempotency key.
    pub async fn callback_answer_set(
        &self,
        key: &str,
        answer: &(axum::http::StatusCode, serde_json::Value),
    ) -> redis::RedisResult<()> {
        let raw = serde_json::to_string(&(answer.0.as_u16(), &answer.1)).unwrap_or_default();
        redis::cmd("SET")
            .arg(self.keys.callback(key))
            .arg(raw)
            .arg("EX")
            .arg(CALLBACK_ANSWER_TTL)
            .query_async(&mut self.conn())
            .await
    }
}
