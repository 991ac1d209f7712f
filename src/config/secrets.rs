//! Secrets come only from the environment, never from a file, and never print: `Debug` shows
//! `[REDACTED]` (secrecy's `SecretString`).

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::Sha256;

use super::{Problem, ReceiveMode, Settings};

/// The secrets one process needs.
#[derive(Clone)]
pub struct Secrets {
    /// `TIPLINE_TELEGRAM_TOKEN`: the bot token from BotFather.
    pub telegram_token: Option<SecretString>,
    /// `TIPLINE_TELEGRAM_WEBHOOK_SECRET`: the `X-Telegram-Bot-Api-Secret-Token` value.
    pub telegram_webhook_secret: Option<SecretString>,
    /// `TIPLINE_ALIAS_KEY`: HMAC key that turns platform ids into aliases.
    pub alias_key: SecretString,
    /// `TIPLINE_ROUTE_KEY`: 32-byte key (64 hex characters) that encrypts routes and contacts.
    pub route_key: [u8; 32],
    /// `TIPLINE_ROUTE_KEYS_RETIRED`: route keys rotated out (64 hex characters each, separated
    /// by commas): what they sealed still opens, by its key id; nothing new is sealed with them.
    pub retired_route_keys: Vec<[u8; 32]>,
    /// `TIPLINE_ZALO_TOKEN`: the Zalo bot's token.
    pub zalo_token: Option<SecretString>,
    /// `TIPLINE_ZALO_WEBHOOK_SECRET`: the `X-Bot-Api-Secret-Token` Zalo sends with each event.
    pub zalo_webhook_secret: Option<SecretString>,
    /// `TIPLINE_TRIAGE_SECRET`: the key of the `X-Tipline-Signature` HMAC on forwarded events.
    pub triage_secret: Option<SecretString>,
    /// `TIPLINE_TRIAGE_API_TOKEN`: the bearer token the triage service calls back with; the
    /// callback API refuses every call while it is unset.
    pub triage_api_token: Option<SecretString>,
    /// `TIPLINE_AUDIT_KEY`: the key of the audit chain's HMAC (see [`audit_key`]).
    pub audit_key: std::sync::Arc<SecretBox<Vec<u8>>>,
    /// `TIPLINE_LINK_KEY`: the key that signs evidence links (see [`link_key`]).
    pub link_key: std::sync::Arc<SecretBox<Vec<u8>>>,
    /// What is allowed but weaker than it should be (a key derived from another), for
    /// `check-config` and the start-up log.
    pub warnings: Vec<Problem>,
}

/// The evidence links' key: `TIPLINE_LINK_KEY` (at least 32 characters), or, while it is
/// unset, the alias key, from which the links were signed before the key existed (so links
/// handed out before an upgrade keep working until they expire). With its own key, whoever
/// holds the alias key (to recognise a citizen's alias) cannot make download links, and the
/// link key can be changed (every link handed out stops working) without splitting citizens
/// from their earlier tips.
pub fn link_key(get: impl Fn(&str) -> Option<String>) -> Result<Option<Vec<u8>>, Problem> {
    match get("TIPLINE_LINK_KEY").filter(|v| !v.trim().is_empty()) {
        Some(key) if key.trim().len() < 32 => Err(Problem::new(
            "TIPLINE_LINK_KEY",
            "must be at least 32 characters (e.g. `openssl rand -hex 32`)",
        )),
        Some(key) => Ok(Some(key.trim().as_bytes().to_vec())),
        None => Ok(None),
    }
}

/// The audit chain's key: `TIPLINE_AUDIT_KEY` (at least 32 characters), or, while it is unset,
/// one derived from `TIPLINE_ALIAS_KEY` (HMAC-SHA256 of a fixed label), so that an upgrade
/// keeps running; a deployment sets its own so that the alias key's holders cannot rewrite
/// the trail. `tipline audit verify` reads it the same way.
pub fn audit_key(get: impl Fn(&str) -> Option<String>) -> Result<Vec<u8>, Problem> {
    let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
    if let Some(key) = non_empty("TIPLINE_AUDIT_KEY") {
        if key.trim().len() < 32 {
            return Err(Problem::new(
                "TIPLINE_AUDIT_KEY",
                "must be at least 32 characters (e.g. `openssl rand -hex 32`)",
            ));
        }
        return Ok(key.trim().as_bytes().to_vec());
    }
    match non_empty("TIPLINE_ALIAS_KEY") {
        Some(alias) => {
            // An HMAC takes a key of any length, so `new_from_slice` cannot fail.
            let mut mac = Hmac::<Sha256>::new_from_slice(alias.as_bytes())
                .expect("HMAC accepts any key length");
            mac.update(b"tipline audit chain");
            Ok(mac.finalize().into_bytes().to_vec())
        }
        None => Err(Problem::new(
            "TIPLINE_AUDIT_KEY",
            "is not set (nor TIPLINE_ALIAS_KEY to derive it from)",
        )),
    }
}

/// Keys of `TIPLINE_ROUTE_KEYS_RETIRED`: 64 hex characters each, separated by commas.
fn retired_keys(value: &str) -> Result<Vec<[u8; 32]>, &'static str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(|k| {
            let mut key = [0u8; 32];
            hex::decode_to_slice(k, &mut key)
                .map(|()| key)
                .map_err(|_| "must be route keys of 64 hex characters, separated by commas")
        })
        .collect()
}

/// Secrets that are missing or malformed.
#[derive(Debug, thiserror::Error)]
#[error("missing or invalid secrets:\n{}", .0.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
pub struct SecretError(pub Vec<Problem>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets([REDACTED])")
    }
}

impl Secrets {
    /// Reads the secrets these settings need from the process environment.
    pub fn from_env(settings: &Settings) -> Result<Self, SecretError> {
        Self::from_lookup(settings, |k| std::env::var(k).ok())
    }

    /// Reads the secrets through `get` (tests pass a map).
    pub fn from_lookup(
        settings: &Settings,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SecretError> {
        let mut problems = Vec::new();
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());

        let telegram_token = non_empty("TIPLINE_TELEGRAM_TOKEN").map(SecretString::from);
        if settings.telegram.enabled && telegram_token.is_none() {
            problems.push(Problem::new(
                "TIPLINE_TELEGRAM_TOKEN",
                "is not set (the bot token from @BotFather)",
            ));
        }
        let telegram_webhook_secret = non_empty("TIPLINE_TELEGRAM_WEBHOOK_SECRET");
        if let Some(s) = &telegram_webhook_secret
            && (s.len() > 256
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        {
            problems.push(Problem::new(
                "TIPLINE_TELEGRAM_WEBHOOK_SECRET",
                "must be 1-256 characters of A-Z, a-z, 0-9, _ or - (Telegram's rule)",
            ));
        }
        if settings.telegram.enabled
            && settings.telegram.mode == ReceiveMode::Webhook
            && telegram_webhook_secret.is_none()
        {
            problems.push(Problem::new(
                "TIPLINE_TELEGRAM_WEBHOOK_SECRET",
                "is not set, and webhook mode needs it",
            ));
        }

        let alias_key = non_empty("TIPLINE_ALIAS_KEY").unwrap_or_default();
        if alias_key.len() < 32 {
            problems.push(Problem::new(
                "TIPLINE_ALIAS_KEY",
                "must be set to at least 32 characters (e.g. `openssl rand -hex 32`)",
            ));
        }
        let mut route_key = [0u8; 32];
        match non_empty("TIPLINE_ROUTE_KEY").map(|v| hex::decode_to_slice(v.trim(), &mut route_key))
        {
            Some(Ok(())) => {}
            _ => problems.push(Problem::new(
                "TIPLINE_ROUTE_KEY",
                "must be set to 64 hex characters (e.g. `openssl rand -hex 32`)",
            )),
        }

        let retired_route_keys = non_empty("TIPLINE_ROUTE_KEYS_RETIRED")
            .map(|v| retired_keys(&v))
            .unwrap_or(Ok(Vec::new()))
            .unwrap_or_else(|why| {
                problems.push(Problem::new("TIPLINE_ROUTE_KEYS_RETIRED", why));
                Vec::new()
            });

        let zalo_token = non_empty("TIPLINE_ZALO_TOKEN");
        if settings.zalo.enabled && zalo_token.is_none() {
            problems.push(Problem::new(
                "TIPLINE_ZALO_TOKEN",
                "is not set (the Zalo bot's token)",
            ));
        }
        let zalo_webhook_secret = non_empty("TIPLINE_ZALO_WEBHOOK_SECRET");
        if let Some(s) = &zalo_webhook_secret
            && !(8..=256).contains(&s.len())
        {
            problems.push(Problem::new(
                "TIPLINE_ZALO_WEBHOOK_SECRET",
                "must be 8-256 characters (Zalo's rule)",
            ));
        }
        if settings.zalo.enabled
            && settings.zalo.mode == ReceiveMode::Webhook
            && zalo_webhook_secret.is_none()
        {
            problems.push(Problem::new(
                "TIPLINE_ZALO_WEBHOOK_SECRET",
                "is not set, and the Zalo webhook needs it",
            ));
        }
        let triage_secret = non_empty("TIPLINE_TRIAGE_SECRET");
        if settings.triage.enabled && triage_secret.as_ref().is_none_or(|s| s.len() < 32) {
            problems.push(Problem::new(
                "TIPLINE_TRIAGE_SECRET",
                "must be set to at least 32 characters when triage.enabled (shared with the triage service)",
            ));
        }
        let triage_api_token = non_empty("TIPLINE_TRIAGE_API_TOKEN");
        if triage_api_token.as_ref().is_some_and(|s| s.len() < 32) {
            problems.push(Problem::new(
                "TIPLINE_TRIAGE_API_TOKEN",
                "must be at least 32 characters when set",
            ));
        }

        let audit_key = audit_key(&get).unwrap_or_else(|p| {
            // Unset with no alias key to derive it from: the alias key's problem says it.
            if non_empty("TIPLINE_AUDIT_KEY").is_some() {
                problems.push(p);
            }
            Vec::new()
        });

        let mut warnings = Vec::new();
        if non_empty("TIPLINE_AUDIT_KEY").is_none() {
            warnings.push(Problem::new(
                "TIPLINE_AUDIT_KEY",
                "is not set: the audit chain's key is derived from TIPLINE_ALIAS_KEY, so whoever \
                 holds the alias key can rewrite the trail; set its own (`tipline gen-keys`)",
            ));
        }
        let link_key = link_key(&get)
            .unwrap_or_else(|p| {
                problems.push(p);
                None
            })
            .unwrap_or_else(|| {
                warnings.push(Problem::new(
                    "TIPLINE_LINK_KEY",
                    "is not set: evidence links are signed with TIPLINE_ALIAS_KEY, so whoever \
                     holds the alias key can make download links; set its own (`tipline gen-keys`)",
                ));
                alias_key.as_bytes().to_vec()
            });

        if !problems.is_empty() {
            return Err(SecretError(problems));
        }
        Ok(Self {
            telegram_token,
            telegram_webhook_secret: telegram_webhook_secret.map(SecretString::from),
            alias_key: SecretString::from(alias_key),
            route_key,
            retired_route_keys,
            zalo_token: zalo_token.map(SecretString::from),
            zalo_webhook_secret: zalo_webhook_secret.map(SecretString::from),
            triage_secret: triage_secret.map(SecretString::from),
            triage_api_token: triage_api_token.map(SecretString::from),
            audit_key: std::sync::Arc::new(SecretBox::new(Box::new(audit_key))),
            link_key: std::sync::Arc::new(SecretBox::new(Box::new(link_key))),
            warnings,
        })
    }

    /// The Zalo token as text, for the Zalo client only.
    pub fn zalo_token_str(&self) -> Option<&str> {
        self.zalo_token.as_ref().map(|s| s.expose_secret())
    }

    /// The bot token as text, for the Telegram client only.
    pub fn telegram_token_str(&self) -> Option<&str> {
        self.telegram_token.as_ref().map(|s| s.expose_secret())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(extra: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut env: std::collections::HashMap<String, String> = [
            ("TIPLINE_TELEGRAM_TOKEN", "123456:TOKEN"),
            ("TIPLINE_ALIAS_KEY", "an-alias-key-of-at-least-32-chars!!"),
            ("TIPLINE_ROUTE_KEY", &"11".repeat(32)),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        env.retain(|_, v| !v.is_empty());
        move |k| env.get(k).cloned()
    }

    fn settings() -> Settings {
        super::super::tests::load_text(&super::super::tests::shipped()).unwrap()
    }

    #[test]
    fn the_link_key_is_its_own_and_falls_back_to_the_alias_key_with_a_warning() {
        let s = settings();
        let own = Secrets::from_lookup(
            &s,
            lookup(&[
                ("TIPLINE_LINK_KEY", &"ab".repeat(32)),
                ("TIPLINE_AUDIT_KEY", &"cd".repeat(32)),
            ]),
        )
        .unwrap();
        assert_eq!(own.link_key.expose_secret(), "ab".repeat(32).as_bytes());
        assert!(
            own.warnings.is_empty(),
            "{:?}",
            own.warnings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        );

        // Unset: links are signed as before the key existed, and both derived keys are named.
        let derived = Secrets::from_lookup(&s, lookup(&[])).unwrap();
        assert_eq!(
            derived.link_key.expose_secret(),
            b"an-alias-key-of-at-least-32-chars!!"
        );
        let keys: Vec<&str> = derived.warnings.iter().map(|w| w.key.as_str()).collect();
        assert_eq!(keys, ["TIPLINE_AUDIT_KEY", "TIPLINE_LINK_KEY"]);

        // Too short is refused, named.
        let Err(e) = Secrets::from_lookup(&s, lookup(&[("TIPLINE_LINK_KEY", "short")])) else {
            panic!("a short link key is accepted");
        };
        assert!(e.to_string().contains("TIPLINE_LINK_KEY"), "{e}");
    }

    #[test]
    fn retired_route_keys_are_read_by_commas_and_a_bad_one_is_named() {
        let (a, b) = ("11".repeat(32), "ab".repeat(32));
        let keys = retired_keys(&format!(" {a} ,{b},")).unwrap();
        assert_eq!(keys, vec![[0x11; 32], [0xab; 32]]);
        assert!(retired_keys("1234").is_err());
        assert!(retired_keys(&format!("{a},zz")).is_err());
    }
}
