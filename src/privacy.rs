//! Privacy by construction (DESIGN.md §2.3). A citizen's platform id is turned into an alias at
//! the edge, with a keyed HMAC, so stored tips, officer cards and logs carry only the alias.
//! The way back to the citizen (channel and chat id) and a shared phone number are sealed with
//! XChaCha20-Poly1305 under a key from the environment; Redis holds only ciphertext.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::Secrets;

/// A messaging platform a citizen reaches us through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Telegram.
    Telegram,
    /// Zalo.
    Zalo,
}

impl Channel {
    /// Short name used in keys and data: `tg`, `zalo`.
    pub fn short(self) -> &'static str {
        match self {
            Self::Telegram => "tg",
            Self::Zalo => "zalo",
        }
    }
}

/// Where to send a message so that it reaches one citizen. Its `Debug` hides the chat.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The platform.
    pub channel: Channel,
    /// The platform's chat id, as text (Telegram ids are numbers, Zalo's are strings).
    pub chat: String,
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Route({:?}, [REDACTED])", self.channel)
    }
}

/// A sealed value could not be opened: wrong key or tampered data.
#[derive(Debug, thiserror::Error)]
#[error("sealed data could not be opened (wrong TIPLINE_ROUTE_KEY or corrupted value)")]
pub struct OpenError;

/// Turns identities into aliases and seals routes; built once from the secrets.
#[derive(Clone)]
pub struct Vault {
    alias_mac: Hmac<Sha256>,
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault([REDACTED])")
    }
}

impl Vault {
    /// Builds the vault from the environment's keys.
    pub fn new(secrets: &Secrets) -> Self {
        Self::from_keys(
            secrets.alias_key.expose_secret().as_bytes(),
            &secrets.route_key,
        )
    }

    /// Builds the vault from raw keys.
    pub fn from_keys(alias_key: &[u8], route_key: &[u8; 32]) -> Self {
        Self {
            // HMAC accepts keys of any length, so this cannot fail.
            alias_mac: <Hmac<Sha256> as Mac>::new_from_slice(alias_key)
                .expect("HMAC takes any key"),
            cipher: XChaCha20Poly1305::new(route_key.into()),
        }
    }

    /// The alias of a platform user: `c` and 20 hex digits (80 bits) of
    /// HMAC-SHA256(key, "<channel>:<user id>"). Stable for one key, meaningless without it.
    pub fn alias(&self, channel: Channel, user_id: &str) -> String {
        let mut mac = self.alias_mac.clone();
        mac.update(channel.short().as_bytes());
        mac.update(b":");
        mac.update(user_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("c{}", hex::encode(&digest[..10]))
    }

    /// The actor name of an officer: `officer:o…`, an alias kept apart from citizens' aliases
    /// (another HMAC domain), so that an officer who once reported a tip as a citizen cannot be
    /// linked to it through the events.
    pub fn officer_actor(&self, channel: Channel, user_id: &str) -> String {
        let mut mac = self.alias_mac.clone();
        mac.update(b"officer:");
        mac.update(channel.short().as_bytes());
        mac.update(b":");
        mac.update(user_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("officer:o{}", hex::encode(&digest[..10]))
    }

    /// Seals bytes: base64url of a random 24-byte nonce followed by the ciphertext.
    pub fn seal(&self, plain: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plain)
            .expect("XChaCha20-Poly1305 encryption of in-memory data does not fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        B64.encode(out)
    }

    /// Opens what [`Vault::seal`] sealed.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, OpenError> {
        let raw = B64.decode(sealed).map_err(|_| OpenError)?;
        if raw.len() < 24 {
            return Err(OpenError);
        }
        let (nonce, body) = raw.split_at(24);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), body)
            .map_err(|_| OpenError)
    }

    /// Seals a route.
    pub fn seal_route(&self, route: &Route) -> String {
        // Serialising a struct of a string and an enum cannot fail.
        self.seal(&serde_json::to_vec(route).expect("route serialises"))
    }

    /// Opens a sealed route.
    pub fn open_route(&self, sealed: &str) -> Result<Route, OpenError> {
        serde_json::from_slice(&self.open(sealed)?).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault() -> Vault {
        Vault::from_keys(b"0123456789abcdef0123456789abcdef", &[7u8; 32])
    }

    #[test]
    fn aliases_are_stable_per_key_and_differ_per_user_and_channel() {
        let v = vault();
        let a = v.alias(Channel::Telegram, "111");
        assert_eq!(a, v.alias(Channel::Telegram, "111"));
        assert_ne!(a, v.alias(Channel::Telegram, "112"));
        assert_ne!(a, v.alias(Channel::Zalo, "111"));
        assert!(!a.contains("111"));
        let other = Vault::from_keys(b"another-key-another-key-another-k", &[7u8; 32]);
        assert_ne!(a, other.alias(Channel::Telegram, "111"));
    }

    #[test]
    fn sealed_routes_open_with_the_key_and_not_without_it() {
        let v = vault();
        let route = Route {
            channel: Channel::Telegram,
            chat: "123456789".into(),
        };
        let sealed = v.seal_route(&route);
        assert!(!sealed.contains("123456789"));
        assert_ne!(sealed, v.seal_route(&route), "nonces are random");
        assert_eq!(v.open_route(&sealed).unwrap(), route);
        let wrong = Vault::from_keys(b"0123456789abcdef0123456789abcdef", &[8u8; 32]);
        assert!(wrong.open_route(&sealed).is_err());
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(v.open_route(&String::from_utf8(tampered).unwrap()).is_err());
    }
}
