//! Receipt codes (DESIGN.md §5, a contract): `TB-XXXX-XXXX`, eight random Crockford base32
//! characters. The code is the citizen's only handle on a tip, so parsing forgives what people
//! get wrong when they copy it from a phone screen: case, a missing dash, spaces, O for 0, I/L
//! for 1. Generation is random; uniqueness is enforced by the store, which asks for a fresh code
//! when a generated one already exists.

use std::fmt;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Crockford's base32 alphabet: digits and letters without I, L, O, U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A receipt code in canonical form, e.g. `TB-7K3Q-X9MD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReceiptCode(String);

/// Why a text is not a receipt code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// After removing the prefix, dashes and spaces, not exactly eight characters remain.
    #[error("a receipt code has 8 characters after TB-")]
    WrongLength,
    /// A character outside Crockford's base32 (for example U or a punctuation mark).
    #[error("a receipt code contains only digits and letters other than U")]
    BadCharacter,
}

impl ReceiptCode {
    /// Draws a fresh random code (40 bits).
    pub fn generate<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let mut body = String::with_capacity(8);
        for _ in 0..8 {
            body.push(ALPHABET[rng.random_range(0..32)] as char);
        }
        Self::from_body(&body)
    }

    fn from_body(body: &str) -> Self {
        Self(format!("TB-{}-{}", &body[..4], &body[4..]))
    }

    /// Parses what a citizen typed: case-insensitive, dashes and spaces optional, the `TB`
    /// prefix optional, O read as 0 and I/L read as 1.
    pub fn parse(input: &str) -> Result<Self, CodeError> {
        let mut cleaned: String = input
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '_' | '.' | '\u{2010}'..='\u{2015}'))
            .flat_map(char::to_uppercase)
            .collect();
        if cleaned.chars().count() == 10 && cleaned.starts_with("TB") {
            cleaned.drain(..2);
        }
        if cleaned.chars().count() != 8 {
            return Err(CodeError::WrongLength);
        }
        let mut body = String::with_capacity(8);
        for c in cleaned.chars() {
            let c = match c {
                'O' => '0',
                'I' | 'L' => '1',
                other => other,
            };
            if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) {
                return Err(CodeError::BadCharacter);
            }
            body.push(c);
        }
        Ok(Self::from_body(&body))
    }

    /// The canonical text, `TB-XXXX-XXXX`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ReceiptCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ReceiptCode {
    type Error = CodeError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ReceiptCode> for String {
    fn from(code: ReceiptCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_codes_have_the_contract_format() {
        let re = regex::Regex::new("^TB-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$").unwrap();
        let mut rng = rand::rng();
        for _ in 0..1000 {
            let code = ReceiptCode::generate(&mut rng);
            assert!(re.is_match(code.as_str()), "{code}");
        }
    }

    #[test]
    fn parsing_forgives_case_dashes_and_lookalike_letters() {
        let cases = [
            ("TB-7K3Q-X9MD", "TB-7K3Q-X9MD"),
            ("tb-7k3q-x9md", "TB-7K3Q-X9MD"),
            ("TB7K3QX9MD", "TB-7K3Q-X9MD"),
            ("7K3Q-X9MD", "TB-7K3Q-X9MD"),
            ("7k3qx9md", "TB-7K3Q-X9MD"),
            (" TB 7K3Q X9MD ", "TB-7K3Q-X9MD"),
            ("TB-O0IL-1234", "TB-0011-1234"),
            ("TB–7K3Q–X9MD", "TB-7K3Q-X9MD"),
        ];
        for (input, want) in cases {
            assert_eq!(ReceiptCode::parse(input).unwrap().as_str(), want, "{input}");
        }
    }

    #[test]
    fn malformed_codes_are_refused_with_a_reason() {
        assert_eq!(ReceiptCode::parse(""), Err(CodeError::WrongLength));
        assert_eq!(ReceiptCode::parse("TB-123"), Err(CodeError::WrongLength));
        assert_eq!(
            ReceiptCode::parse("TB-7K3Q-X9MDX"),
            Err(CodeError::WrongLength)
        );
        assert_eq!(
            ReceiptCode::parse("TB-7K3U-X9MD"),
            Err(CodeError::BadCharacter)
        );
        assert_eq!(
            ReceiptCode::parse("TB-7K3?-X9MD"),
            Err(CodeError::BadCharacter)
        );
        assert_eq!(
            ReceiptCode::parse("TB-7K3Đ-X9MD"),
            Err(CodeError::BadCharacter)
        );
    }

    proptest! {
        #[test]
        fn every_generated_code_parses_back_to_itself(seed in any::<u64>()) {
            use rand::SeedableRng;
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let code = ReceiptCode::generate(&mut rng);
            prop_assert_eq!(ReceiptCode::parse(code.as_str()).unwrap(), code.clone());
            let sloppy = code.as_str().replace('-', "").to_lowercase();
            prop_assert_eq!(ReceiptCode::parse(&sloppy).unwrap(), code);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,20}") {
            let _ = ReceiptCode::parse(&s);
        }
    }
}
