//! Privacy by construction (DESIGN.md §2.3). A citizen's platform id is turned into an alias at
//! the edge, with a keyed HMAC, so stored tips, officer cards and logs carry only the alias.
//! The way back to the citizen (channel and chat id) and a shared phone number are sealed with
//! XChaCha20-Poly1305 under a key from the environment; Redis holds only ciphertext. Every
//! inbound update is sealed too, before the inbox has it, under a key derived from the route
//! key with the entry's kind as associated data; the dedupe marks of updates are keyed hashes
//! (`seal.rs` has the format, the key ids and the derivation).

mod seal;

use std::borrow::Cow;

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::config::Secrets;

pub use seal::{Keyring, SealKey, derive, is_sealed, key_id};

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

/// HKDF info of the inbox key.
const INBOX_INFO: &[u8] = b"tipline inbox v1";
/// HKDF info of the dedupe marks' key.
const MARKS_INFO: &[u8] = b"tipline marks v1";

/// Associated data of an inbox entry of `kind`.
fn inbox_ad(kind: &str) -> String {
    format!("inbox:{kind}")
}

/// A sealed value could not be opened: wrong key or tampered data.
#[derive(Debug, thiserror::Error)]
#[error("sealed data could not be opened (wrong TIPLINE_ROUTE_KEY or corrupted value)")]
pub struct OpenError;

/// Turns identities into aliases and seals routes; built once from the secrets.
#[derive(Clone)]
pub struct Vault {
    alias_mac: Hmac<Sha256>,
    /// Routes and phones: the route key itself.
    routes: Keyring,
    /// Inbox entries: a key derived from the route key (`tipline inbox v1`).
    inbox: Keyring,
    /// The dedupe marks' keyed hash: a key derived from the route key (`tipline marks v1`).
    marks: Hmac<Sha256>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault([REDACTED])")
    }
}

impl Vault {
    /// Builds the vault from the environment's keys: the route key seals, retired route keys
    /// (`TIPLINE_ROUTE_KEYS_RETIRED`) still open what they sealed.
    pub fn new(secrets: &Secrets) -> Self {
        let vault = Self::from_keys(
            secrets.alias_key.expose_secret().as_bytes(),
            &secrets.route_key,
        );
        secrets
            .retired_route_keys
            .iter()
            .fold(vault, |v, key| v.with_older_route_key(key))
    }

    /// Builds the vault from raw keys.
    pub fn from_keys(alias_key: &[u8], route_key: &[u8; 32]) -> Self {
        let kid = key_id(route_key);
        Self {
            // HMAC accepts keys of any length, so this cannot fail.
            alias_mac: <Hmac<Sha256> as Mac>::new_from_slice(alias_key)
                .expect("HMAC takes any key"),
            routes: Keyring::new(SealKey::new(&kid, route_key)),
            inbox: Keyring::new(SealKey::new(&kid, &derive(route_key, INBOX_INFO))),
            marks: <Hmac<Sha256> as Mac>::new_from_slice(&derive(route_key, MARKS_INFO))
                .expect("HMAC takes any key"),
        }
    }

    /// Adds an older route key (one rotated out): what it sealed still opens, by its key id.
    /// New values are sealed with the current key.
    pub fn with_older_route_key(mut self, route_key: &[u8; 32]) -> Self {
        let kid = key_id(route_key);
        self.routes = self.routes.with_older(SealKey::new(&kid, route_key));
        self.inbox = self
            .inbox
            .with_older(SealKey::new(&kid, &derive(route_key, INBOX_INFO)));
        self
    }

    /// The id of the key new values are sealed with (`v1.<kid>.…`).
    pub fn key_id(&self) -> &str {
        self.routes.current().kid()
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

    /// Seals bytes (a route, a phone number): `v1.<kid>.<base64url(nonce ‖ ciphertext)>`.
    pub fn seal(&self, plain: &[u8]) -> String {
        self.routes.current().seal(plain, b"")
    }

    /// Opens what [`Vault::seal`] sealed, or a value sealed before key ids (base64url without
    /// a prefix), which opens with the current key or a retired one.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, OpenError> {
        if is_sealed(sealed) {
            self.routes.open(sealed, b"")
        } else {
            self.routes.open_legacy(sealed)
        }
    }

    /// `sealed` sealed again under the current key, or `None` when it already is (a value of
    /// a retired key, or one sealed before key ids, is opened and sealed again).
    pub fn reseal(&self, sealed: &str) -> Result<Option<String>, OpenError> {
        let current = format!("v1.{}.", self.key_id());
        if sealed.starts_with(&current) {
            return Ok(None);
        }
        Ok(Some(self.seal(&self.open(sealed)?)))
    }

    /// Seals an inbox entry's body, its kind (`tg`, `zl`, …) as associated data: a body moved
    /// to an entry of another kind does not open.
    pub fn seal_inbox(&self, kind: &str, body: &str) -> String {
        self.inbox
            .current()
            .seal(body.as_bytes(), inbox_ad(kind).as_bytes())
    }

    /// Opens an inbox entry's body. A body in the sealed format must open (else `Err`: a wrong
    /// key, another kind, tampered); any other body was written in clear by a version before
    /// sealing (or is a draft timer's empty body) and comes back as it is, borrowed.
    pub fn open_inbox<'a>(&self, kind: &str, body: &'a str) -> Result<Cow<'a, str>, OpenError> {
        if !is_sealed(body) {
            return Ok(Cow::Borrowed(body));
        }
        let plain = self.inbox.open(body, inbox_ad(kind).as_bytes())?;
        String::from_utf8(plain)
            .map(Cow::Owned)
            .map_err(|_| OpenError)
    }

    /// The keyed hash that stands for a platform's update (or other) id in a key name: 24 hex
    /// digits (96 bits) of HMAC-SHA256 under a key derived from the route key, of
    /// "<tag>:<id>". Stable for one key; the id cannot be read back or guessed from it.
    pub fn mark(&self, tag: &str, id: &str) -> String {
        let mut mac = self.marks.clone();
        mac.update(tag.as_bytes());
        mac.update(b":");
        mac.update(id.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..12])
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

    #[test]
    fn routes_sealed_before_key_ids_still_open() {
        let v = vault();
        // How the previous version sealed: base64url of nonce and ciphertext, no prefix.
        use base64::Engine;
        use chacha20poly1305::aead::{Aead, KeyInit};
        let cipher = chacha20poly1305::XChaCha20Poly1305::new((&[7u8; 32]).into());
        let nonce = [3u8; 24];
        let mut old = nonce.to_vec();
        old.extend(
            cipher
                .encrypt((&nonce).into(), b"0987654321".as_slice())
                .unwrap(),
        );
        let old = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(old);
        assert_eq!(v.open(&old).unwrap(), b"0987654321");
        let new = v.seal(b"0987654321");
        assert!(new.starts_with(&format!("v1.{}.", v.key_id())));
        assert_eq!(v.open(&new).unwrap(), b"0987654321");
        // After a rotation both still open: the new key seals, the retired one opens by id.
        let rotated = Vault::from_keys(b"0123456789abcdef0123456789abcdef", &[2u8; 32])
            .with_older_route_key(&[7u8; 32]);
        assert_eq!(rotated.open(&new).unwrap(), b"0987654321");
        assert!(
            rotated
                .seal(b"x")
                .starts_with(&format!("v1.{}.", rotated.key_id()))
        );
        assert_ne!(rotated.key_id(), v.key_id());
        // Sealed again under the new key, it opens without the retired one.
        let again = rotated.reseal(&new).unwrap().unwrap();
        assert!(rotated.reseal(&again).unwrap().is_none(), "already current");
        let new_only = Vault::from_keys(b"0123456789abcdef0123456789abcdef", &[2u8; 32]);
        assert_eq!(new_only.open(&again).unwrap(), b"0987654321");
        assert!(new_only.open(&new).is_err());
        assert_eq!(
            rotated
                .reseal(&old)
                .unwrap()
                .map(|s| rotated.open(&s).unwrap()),
            Some(b"0987654321".to_vec())
        );
    }

    #[test]
    fn inbox_bodies_are_sealed_by_kind_and_clear_bodies_of_before_still_read() {
        let v = vault();
        let body =
            r#"{"update_id":1,"message":{"from":{"id":987654321987,"first_name":"Canary"}}}"#;
        let sealed = v.seal_inbox("tg", body);
        assert!(!sealed.contains("987654321987") && !sealed.contains("Canary"));
        assert_eq!(v.open_inbox("tg", &sealed).unwrap(), body);
        assert!(v.open_inbox("zl", &sealed).is_err(), "the kind is bound");
        // The route key does not open an inbox body (another derived key), nor another vault.
        assert!(v.open(&sealed).is_err());
        let other = Vault::from_keys(b"0123456789abcdef0123456789abcdef", &[8u8; 32]);
        assert!(other.open_inbox("tg", &sealed).is_err());
        // A body of the previous version, in clear, comes back as it is.
        assert!(matches!(
            v.open_inbox("tg", body),
            Ok(std::borrow::Cow::Borrowed(b)) if b == body
        ));
        // A rotated vault opens the old key's bodies.
        let rotated = other.with_older_route_key(&[7u8; 32]);
        assert_eq!(rotated.open_inbox("tg", &sealed).unwrap(), body);
    }

    #[test]
    fn marks_are_keyed_stable_and_hide_the_id() {
        let v = vault();
        let m = v.mark("tg", "987654321987");
        assert_eq!(m, v.mark("tg", "987654321987"));
        assert_ne!(m, v.mark("zalo", "987654321987"));
        assert!(!m.contains("987654321987") && m.len() == 24);
        let other = Vault::from_keys(b"0123456789abcdef0123456789abcdef", &[8u8; 32]);
        assert_ne!(m, other.mark("tg", "987654321987"));
    }
}
