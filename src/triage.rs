//! The triage decision on a tip at submit (DESIGN.md §6), rule-based and explainable: every
//! part of it records why, as short reasons an officer or auditor can read on the card and in
//! the forwarded tip:
//!
//! - `category:drugs=high`: the category's default priority;
//! - `keyword:drug-dealing=high`, `keyword:weapons-now=emergency`: keyword rules that matched;
//! - `emergency=urgent`: an emergency (from the conversation's patterns or a keyword rule)
//!   raised the priority;
//! - `duplicate-of:TB-7K3Q-X9MD(0.93)`: the same citizen sent a near-identical text within the
//!   window;
//! - `route:desk.routes[1]` or `route:default`: which routing rule picks the duty group.
//!
//! Hotspots (many tips of one category in one commune) are decided in the commit script,
//! where the count is exact, and raise a `hotspot` event with their own numbers.

use serde::{Deserialize, Serialize};

use crate::config::{Priority, Settings};
use crate::conversation::Draft;
use crate::rules::{Rules, normalise, similarity};

/// One of a citizen's recent tips, kept (for the duplicate window) to compare new ones with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recent {
    /// Its receipt code.
    pub code: String,
    /// When it was submitted (ms).
    pub at: i64,
    /// Its description, normalised ([`normalise`]).
    pub norm: String,
}

/// Longest normalised text kept for comparison.
const RECENT_CHARS: usize = 2000;

impl Recent {
    /// The entry for a tip about to be stored.
    pub fn new(code: &str, at: i64, description: &str) -> Self {
        Self {
            code: code.to_owned(),
            at,
            norm: normalise(description).chars().take(RECENT_CHARS).collect(),
        }
    }
}

/// What the rules decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The priority.
    pub priority: Priority,
    /// Whether the tip is an emergency.
    pub emergency: bool,
    /// The earlier tip this one very likely repeats.
    pub duplicate_of: Option<String>,
    /// Why, in the order the rules ran.
    pub reasons: Vec<String>,
}

fn name(p: Priority) -> &'static str {
    match p {
        Priority::Low => "low",
        Priority::Normal => "normal",
        Priority::High => "high",
        Priority::Urgent => "urgent",
    }
}

/// Decides on `draft`, submitted at `now_ms` by a citizen whose recent tips are `recent`.
pub fn decide(
    draft: &Draft,
    settings: &Settings,
    rules: &Rules,
    recent: &[Recent],
    now_ms: i64,
) -> Decision {
    let category_id = draft.category.as_deref().unwrap_or("other");
    let category = settings.category(category_id);
    let mut priority = category.map_or(Priority::Normal, |c| c.priority);
    let mut reasons = vec![match category {
        Some(c) => format!("category:{}={}", c.id, name(c.priority)),
        None => "default=normal".to_owned(),
    }];
    let mut emergency = draft.emergency;
    for hit in rules.evaluate(category_id, &draft.description) {
        if let Some(p) = hit.priority {
            reasons.push(format!("keyword:{}={}", hit.rule, name(p)));
            priority = priority.max(p);
        }
        if hit.emergency {
            reasons.push(format!("keyword:{}=emergency", hit.rule));
            emergency = true;
        }
    }
    if emergency && settings.emergency.priority > priority {
        priority = settings.emergency.priority;
        reasons.push(format!("emergency={}", name(priority)));
    }

    let mut duplicate_of = None;
    let dup = &settings.rules.duplicates;
    if dup.enabled && !draft.description.trim().is_empty() {
        let norm = normalise(&draft.description);
        let since = now_ms - (dup.window_mins * 60_000) as i64;
        let best = recent
            .iter()
            .filter(|r| r.at >= since)
            .map(|r| (similarity(&norm, &r.norm), r))
            .filter(|(s, _)| *s >= dup.similarity)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((score, r)) = best {
            reasons.push(format!("duplicate-of:{}({score:.2})", r.code));
            duplicate_of = Some(r.code.clone());
        }
    }

    if settings.desk.enabled {
        let commune = draft_commune(draft, settings);
        reasons.push(
            match settings
                .desk
                .route_index(settings, commune.as_deref(), category_id)
            {
                Some(i) => format!("route:desk.routes[{i}]"),
                None => "route:default".to_owned(),
            },
        );
    }
    Decision {
        priority,
        emergency,
        duplicate_of,
        reasons,
    }
}

/// The commune of a draft: picked, or the mailbox's.
pub fn draft_commune(draft: &Draft, settings: &Settings) -> Option<String> {
    match &draft.place {
        Some(crate::conversation::Place::Commune { id }) => Some(id.clone()),
        _ => draft
            .mailbox
            .as_deref()
            .and_then(|m| settings.mailbox(m))
            .map(|m| m.commune.clone()),
    }
}
