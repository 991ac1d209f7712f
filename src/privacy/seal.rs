//! The sealed format (DESIGN.md §2.7): `v1.<kid>.<base64url(nonce ‖ ciphertext)>`, sealed with
//! XChaCha20-Poly1305 under a key that `kid` names, with associated data that says what the
//! value is (an inbox entry's kind), so a value moved to another place does not open there.
//!
//! The key id is a fingerprint of the route key (`TIPLINE_ROUTE_KEY`): a future rotation adds a
//! key, seals with it and still opens what older keys sealed, each by its id. A value without
//! the prefix was written before key ids (routes and phones of the previous version): it opens
//! with the current key and no associated data.
//!
//! Keys for other purposes (the inbox, the dedupe marks) are derived from the route key with
//! HKDF-SHA256 (RFC 5869), so one secret in the environment still serves them all and none of
//! them can open another's values.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::OpenError;

/// The version tag that starts every sealed value.
const VERSION: &str = "v1";

/// HKDF-SHA256 for one 32-byte output (extract then one expand block): a key for `info`,
/// derived from `ikm`. The salt is fixed: the route key is already uniformly random.
pub fn derive(ikm: &[u8; 32], info: &[u8]) -> [u8; 32] {
    let mac = |key: &[u8], parts: &[&[u8]]| {
        // HMAC takes a key of any length, so this cannot fail.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes()
    };
    let prk = mac(b"tipline hkdf salt v1", &[ikm]);
    mac(&prk, &[info, &[1u8]]).into()
}

/// One key for sealing, with its id.
#[derive(Clone)]
pub struct SealKey {
    kid: String,
    cipher: XChaCha20Poly1305,
}

impl SealKey {
    /// The key `key`, named by `kid` (short, of `[0-9a-z]`, no dot).
    pub fn new(kid: &str, key: &[u8; 32]) -> Self {
        Self {
            kid: kid.to_owned(),
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    /// The key's id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Seals `plain` with associated data `ad`: `v1.<kid>.<base64url(nonce ‖ ciphertext)>`.
    pub fn seal(&self, plain: &[u8], ad: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: ad,
                },
            )
            .expect("XChaCha20-Poly1305 encryption of in-memory data does not fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{VERSION}.{}.{}", self.kid, B64.encode(out))
    }

    /// Opens the base64url body of a sealed value (nonce and ciphertext).
    fn open_body(&self, body: &str, ad: &[u8]) -> Result<Vec<u8>, OpenError> {
        let raw = B64.decode(body).map_err(|_| OpenError)?;
        if raw.len() < 24 {
            return Err(OpenError);
        }
        let (nonce, ct) = raw.split_at(24);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: ad })
            .map_err(|_| OpenError)
    }
}

/// Whether `value` is in the sealed format (else it was written before it, in clear or as a
/// value without a key id).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with("v1.")
}

/// The keys that open sealed values: the current one (which seals) and older ones by id.
#[derive(Clone)]
pub struct Keyring {
    current: SealKey,
    older: Vec<SealKey>,
}

impl Keyring {
    /// A ring whose current key is `current`.
    pub fn new(current: SealKey) -> Self {
        Self {
            current,
            older: Vec::new(),
        }
    }

    /// Adds a key that still opens what it sealed (a key rotated out).
    pub fn with_older(mut self, key: SealKey) -> Self {
        if key.kid != self.current.kid {
            self.older.push(key);
        }
        self
    }

    /// The key that seals.
    pub fn current(&self) -> &SealKey {
        &self.current
    }

    /// Opens a value in the sealed format by its key id; `Err` for any other value, an
    /// unknown id, a wrong key or tampered data.
    pub fn open(&self, value: &str, ad: &[u8]) -> Result<Vec<u8>, OpenError> {
        let mut parts = value.splitn(3, '.');
        let (Some(VERSION), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(OpenError);
        };
        std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.kid == kid)
            .ok_or(OpenError)?
            .open_body(body, ad)
    }

    /// Opens a value sealed before key ids (base64url of nonce and ciphertext, no associated
    /// data): it names no key, so the current key is tried, then each older one (a route key
    /// rotated out may have sealed it).
    pub fn open_legacy(&self, value: &str) -> Result<Vec<u8>, OpenError> {
        std::iter::once(&self.current)
            .chain(&self.older)
            .find_map(|k| k.open_body(value, b"").ok())
            .ok_or(OpenError)
    }
}

/// The id of a route key: 8 hex digits of a key derived from it for that purpose alone, so the
/// id says nothing about the key.
pub fn key_id(route_key: &[u8; 32]) -> String {
    hex::encode(&derive(route_key, b"tipline key id")[..4])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(key: u8) -> Keyring {
        let k = [key; 32];
        Keyring::new(SealKey::new(&key_id(&k), &k))
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_associated_data_only() {
        let r = ring(1);
        let sealed = r.current().seal(b"{\"user\":987654321987}", b"inbox:tg");
        assert!(is_sealed(&sealed));
        assert!(sealed.starts_with(&format!("v1.{}.", key_id(&[1; 32]))));
        assert!(!sealed.contains("987654321987"));
        assert_eq!(
            r.open(&sealed, b"inbox:tg").unwrap(),
            b"{\"user\":987654321987}"
        );
        assert_ne!(
            sealed,
            r.current().seal(b"{\"user\":987654321987}", b"inbox:tg")
        );
        // Another kind as associated data, another key, a tampered byte: nothing opens.
        assert!(r.open(&sealed, b"inbox:zl").is_err());
        assert!(ring(2).open(&sealed, b"inbox:tg").is_err());
        let mut bytes = sealed.clone().into_bytes();
        let i = bytes.len() - 3;
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        assert!(
            r.open(&String::from_utf8(bytes).unwrap(), b"inbox:tg")
                .is_err()
        );
        // A key id changed to another's: no key by that id.
        let forged = sealed.replacen(&key_id(&[1; 32]), "00000000", 1);
        assert!(r.open(&forged, b"inbox:tg").is_err());
        assert!(r.open("v1.x", b"").is_err() && r.open("{}", b"").is_err());
    }

    #[test]
    fn an_older_key_still_opens_what_it_sealed_after_a_rotation() {
        let old = ring(1);
        let sealed = old.current().seal(b"route", b"");
        let rotated = ring(2).with_older(old.current().clone());
        assert_eq!(rotated.open(&sealed, b"").unwrap(), b"route");
        assert_ne!(rotated.current().kid(), old.current().kid());
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_by_route_key() {
        let k = [9u8; 32];
        assert_ne!(derive(&k, b"inbox"), derive(&k, b"marks"));
        assert_ne!(derive(&k, b"inbox"), derive(&[8; 32], b"inbox"));
        assert_eq!(derive(&k, b"inbox"), derive(&k, b"inbox"));
        assert_eq!(key_id(&k).len(), 8);
    }
}
