//! Rules applied to a tip's text at submit: keyword rules that raise its priority or flag an
//! emergency, a similarity measure for near-duplicate tips, and recognisers for personal data
//! ([`pii`]); and the defanging of links in officers' questions ([`defang`]). How a keyword
//! pattern matches Vietnamese typed with or without diacritics is in [`crate::text`].

pub mod defang;
pub mod pii;

#[cfg(test)]
mod tests;

use crate::config::{Priority, RuleSettings};
use crate::text::{Pattern, Prepared};

pub use crate::text::{check_pattern, fold, fold_tones, normalise, similarity};

/// The keyword rules, compiled once at start.
#[derive(Debug, Clone)]
pub struct Rules {
    rules: Vec<Compiled>,
}

/// A keyword rule that matched a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The rule's name, as configured.
    pub rule: String,
    /// The priority it raises the tip to at least, if any.
    pub priority: Option<Priority>,
    /// Whether it flags the tip as an emergency.
    pub emergency: bool,
}

#[derive(Debug, Clone)]
struct Compiled {
    name: String,
    pattern: Pattern,
    priority: Option<Priority>,
    emergency: bool,
    categories: Vec<String>,
}

impl Rules {
    /// Compiles the configured keyword rules; the error names the rule whose pattern fails.
    pub fn compile(settings: &RuleSettings) -> Result<Rules, String> {
        let rules = settings
            .keywords
            .iter()
            .map(|k| {
                let pattern = Pattern::new(&k.pattern)
                    .map_err(|e| format!("keyword rule \"{}\": {e}", k.name))?;
                Ok(Compiled {
                    name: k.name.clone(),
                    pattern,
                    priority: k.priority,
                    emergency: k.emergency,
                    categories: k.categories.clone(),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Rules { rules })
    }

    /// The rules that apply to a tip of `category` and match `text`, in configuration order.
    pub fn evaluate(&self, category: &str, text: &str) -> Vec<Hit> {
        let text = Prepared::new(text);
        self.rules
            .iter()
            .filter(|r| r.categories.is_empty() || r.categories.iter().any(|c| c == category))
            .filter(|r| r.pattern.is_match(&text))
            .map(|r| Hit {
                rule: r.name.clone(),
                priority: r.priority,
                emergency: r.emergency,
            })
            .collect()
    }
}
