//! Triage rules applied at submit (DESIGN.md §6), in their first form: the category's default
//! priority, raised to the emergency priority when the text matched an emergency pattern.
//! Each decision records why, so an officer or auditor can read it.

use crate::config::{Priority, Settings};
use crate::conversation::Draft;

/// A priority and the rules that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The priority.
    pub priority: Priority,
    /// Why, e.g. `category:drugs=high`, `emergency=urgent`.
    pub reasons: Vec<String>,
}

/// The priority of a draft about to be submitted.
pub fn prioritise(draft: &Draft, settings: &Settings) -> Decision {
    let category = draft
        .category
        .as_deref()
        .and_then(|id| settings.category(id));
    let mut priority = category.map_or(Priority::Normal, |c| c.priority);
    let mut reasons = vec![match category {
        Some(c) => format!("category:{}={}", c.id, name(c.priority)),
        None => "default=normal".to_owned(),
    }];
    if draft.emergency && settings.emergency.priority > priority {
        priority = settings.emergency.priority;
        reasons.push(format!("emergency={}", name(priority)));
    }
    Decision { priority, reasons }
}

fn name(p: Priority) -> &'static str {
    match p {
        Priority::Low => "low",
        Priority::Normal => "normal",
        Priority::High => "high",
        Priority::Urgent => "urgent",
    }
}
