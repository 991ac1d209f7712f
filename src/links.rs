//! The two signatures of the forwarding contract (docs/triage-api.md):
//!
//! - `X-Tipline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` on every
//!   request to the triage service, with the secret both sides share, so the receiver knows the
//!   body came from tipline and is recent;
//! - evidence download links `…/api/v1/evidence/<code>/<n>?exp=<unix>&sig=<hex>`, signed with
//!   a key only tipline knows, so a link works for the triage service until it expires and a
//!   changed or made-up link does not work at all.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The `X-Tipline-Signature` header value for `body` sent at `unix` seconds.
pub fn signature_header(secret: &[u8], unix: i64, body: &[u8]) -> String {
    let t = unix.to_string();
    let mac = hmac(secret, &[t.as_bytes(), b".", body]);
    format!("t={t},v1={}", hex::encode(mac))
}

/// Checks a `X-Tipline-Signature` header the way a receiver should: the HMAC matches and the
/// timestamp is within `tolerance_secs` of `now_unix`. (tipline itself only signs; this is the
/// reference check the tests and the documentation follow.)
pub fn verify_header(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: i64,
) -> bool {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    // `abs_diff`: a hostile `t` (i64::MIN) must not overflow a subtraction.
    if now_unix.abs_diff(t) > tolerance_secs.unsigned_abs() {
        return false;
    }
    let want = hmac(secret, &[t.to_string().as_bytes(), b".", body]);
    v1.iter().any(|got| bool::from(got.as_slice().ct_eq(&want)))
}

/// Signs and checks evidence download links.
#[derive(Clone)]
pub struct LinkSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for LinkSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSigner([REDACTED])")
    }
}

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Signature missing, malformed or wrong.
    BadSignature,
    /// Signed, but past its expiry.
    Expired,
}

impl LinkSigner {
    /// A signer whose key is derived from `secret` (the alias key), for this purpose only.
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac(secret, &[b"tipline/evidence-link/v1"]),
        }
    }

    fn mac(&self, code: &str, index: usize, exp: i64) -> String {
        hex::encode(hmac(
            &self.key,
            &[
                code.as_bytes(),
                b"/",
                index.to_string().as_bytes(),
                b"/",
                exp.to_string().as_bytes(),
            ],
        ))
    }

    /// The path and query of the link to file `index` of tip `code`, valid until `exp` (unix).
    pub fn path(&self, code: &str, index: usize, exp: i64) -> String {
        format!(
            "/api/v1/evidence/{code}/{index}?exp={exp}&sig={}",
            self.mac(code, index, exp)
        )
    }

    /// Checks a link's signature, then its expiry against `now_unix`.
    pub fn check(
        &self,
        code: &str,
        index: usize,
        exp: i64,
        sig: &str,
        now_unix: i64,
    ) -> Result<(), LinkError> {
        let want = self.mac(code, index, exp);
        if !bool::from(want.as_bytes().ct_eq(sig.to_ascii_lowercase().as_bytes())) {
            return Err(LinkError::BadSignature);
        }
        if now_unix >= exp {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_any_change_breaks_it() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let body = br#"{"schema":"tipline.event.v1"}"#;
        let h = signature_header(secret, 1_800_000_000, body);
        assert!(h.starts_with("t=1800000000,v1="));
        assert!(verify_header(secret, &h, body, 1_800_000_100, 300));
        assert!(!verify_header(secret, &h, b"{}", 1_800_000_100, 300));
        assert!(!verify_header(
            b"another secret of the same size!",
            &h,
            body,
            1_800_000_100,
            300
        ));
        assert!(
            !verify_header(secret, &h, body, 1_800_001_000, 300),
            "too old"
        );
        assert!(!verify_header(secret, "v1=00", body, 1_800_000_000, 300));
        let hostile = "t=-9223372036854775808,v1=00";
        assert!(!verify_header(secret, hostile, body, 1_800_000_000, 300));
        // Known answer, the same as `printf '%s' "1800000000.$BODY" | openssl dgst -sha256 -hmac "$SECRET"`.
        assert_eq!(
            h,
            "t=1800000000,v1=".to_owned() + &hex::encode(hmac(secret, &[b"1800000000.", body]))
        );
    }

    #[test]
    fn links_are_refused_when_changed_or_expired() {
        let s = LinkSigner::new(b"an alias key of at least 32 chars!!");
        let path = s.path("TB-7K3Q-X9MD", 2, 1000);
        let sig = path.rsplit("sig=").next().unwrap();
        assert_eq!(s.check("TB-7K3Q-X9MD", 2, 1000, sig, 999), Ok(()));
        assert_eq!(
            s.check("TB-7K3Q-X9MD", 2, 1000, sig, 1000),
            Err(LinkError::Expired)
        );
        assert_eq!(
            s.check("TB-7K3Q-X9MD", 3, 1000, sig, 999),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            s.check("TB-7K3Q-X9MD", 2, 2000, sig, 999),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            s.check("TB-7K3Q-X9MX", 2, 1000, sig, 999),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            s.check("TB-7K3Q-X9MD", 2, 1000, "", 999),
            Err(LinkError::BadSignature)
        );
        let other = LinkSigner::new(b"another key of at least 32 chars!!!");
        assert_eq!(
            other.check("TB-7K3Q-X9MD", 2, 1000, sig, 999),
            Err(LinkError::BadSignature)
        );
    }

    proptest::proptest! {
        /// Headers from anyone: never valid without the secret, never a panic (a `t` of
        /// i64::MIN used to overflow the age check).
        #[test]
        fn no_made_up_signature_header_verifies_or_panics(
            header in "(t=-?[0-9]{0,20},?|v1=[0-9a-f]{0,70},?|[ -~]{0,20}){0,4}",
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            now in proptest::num::i64::ANY,
            tolerance in proptest::num::i64::ANY,
        ) {
            let secret = b"0123456789abcdef0123456789abcdef";
            proptest::prop_assert!(!verify_header(secret, &header, &body, now, tolerance));
        }

        #[test]
        fn no_made_up_link_verifies_or_panics(
            code in "\\PC{0,20}",
            index in proptest::num::usize::ANY,
            exp in proptest::num::i64::ANY,
            sig in "[0-9a-fA-F]{0,70}|\\PC{0,80}",
            now in proptest::num::i64::ANY,
        ) {
            let s = LinkSigner::new(b"an alias key of at least 32 chars!!");
            proptest::prop_assert_eq!(
                s.check(&code, index, exp, &sig, now),
                Err(LinkError::BadSignature)
            );
            // The genuine signature of the same link passes exactly when it has not expired.
            let path = s.path(&code, index, exp);
            let genuine = path.rsplit("sig=").next().unwrap_or_default();
            let want = if now >= exp { Err(LinkError::Expired) } else { Ok(()) };
            proptest::prop_assert_eq!(s.check(&code, index, exp, genuine, now), want);
        }
    }
}
