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

use crate::config::{Priority, Settings};
use crate::conversation::Draft;
use crate::rules::{Rules, normalise, similarity};

pub use crate::store::Recent;

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

/// The commune of a draft, by its current id: picked as the place, given for a typed address
/// or a pin, or the mailbox's when it happened near the mailbox.
pub fn draft_commune(draft: &Draft, settings: &Settings) -> Option<String> {
    use crate::conversation::Place;
    let id = match &draft.place {
        Some(Place::Commune { id }) => Some(id.clone()),
        Some(Place::Mailbox { code }) => settings.mailbox(code).map(|m| m.commune.clone()),
        _ => draft.commune.clone(),
    };
    id.map(|id| settings.commune_id(&id).to_owned())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use figment::providers::Env;
    use proptest::prelude::*;

    use super::*;
    use crate::config::DeskRoute;
    use crate::conversation::Place;

    fn fixture() -> &'static (Settings, Rules) {
        static F: std::sync::OnceLock<(Settings, Rules)> = std::sync::OnceLock::new();
        F.get_or_init(|| {
            let s = settings();
            let rules = Rules::compile(&s.rules).unwrap();
            (s, rules)
        })
    }

    fn settings() -> Settings {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut s = Settings::load_with(
            &root.join("config/tipline.toml"),
            Env::prefixed("TIPLINE_TEST_NOTHING__"),
        )
        .unwrap();
        s.desk.enabled = true;
        s.desk.default_group = -1;
        s.desk.routes = vec![
            DeskRoute {
                group: -2,
                districts: vec![],
                communes: vec!["thung-nai".into()],
                categories: vec!["drugs".into()],
                unit: String::new(),
            },
            DeskRoute {
                group: -3,
                districts: vec![],
                communes: vec!["cao-phong".into(), "muong-thang".into(), "thung-nai".into()],
                categories: vec![],
                unit: String::new(),
            },
        ];
        s
    }

    /// (category, commune, text, emergency from the conversation) → (priority, reasons, duplicate)
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        &'a str,
        bool,
        Priority,
        &'a [&'a str],
        Option<&'a str>,
    );

    fn draft(category: &str, commune: Option<&str>, text: &str, emergency: bool) -> Draft {
        Draft {
            category: Some(category.into()),
            place: commune.map(|c| Place::Commune { id: c.into() }),
            description: text.into(),
            emergency,
            ..Draft::default()
        }
    }

    #[test]
    fn decisions_and_their_reasons() {
        let s = settings();
        let rules = Rules::compile(&s.rules).unwrap();
        let now = 1_800_000_000_000;
        let recent = vec![
            Recent::new(
                "TB-AAAA-AAAA",
                now - 3_600_000,
                "Có người bán ma túy ở quán nước đầu xóm Bưng",
            ),
            Recent::new(
                "TB-BBBB-BBBB",
                now - 3 * 86_400_000,
                "Trộm chó ban đêm ở xóm Trên",
            ),
        ];
        // (category, commune, text, emergency from the conversation) → (priority, reasons, duplicate)
        let cases: &[Case] = &[
            (
                "fraud",
                None,
                "Gọi điện giả danh công an",
                false,
                Priority::Normal,
                &["category:fraud=normal", "route:default"],
                None,
            ),
            (
                "drugs",
                Some("thung-nai"),
                "Người lạ hay đến đây",
                false,
                Priority::High,
                &["category:drugs=high", "route:desk.routes[0]"],
                None,
            ),
            (
                "theft",
                Some("thung-nai"),
                "Mất trộm gà",
                false,
                Priority::Normal,
                &["category:theft=normal", "route:desk.routes[1]"],
                None,
            ),
            (
                "other",
                None,
                "Bọn trẻ con bị dụ dỗ",
                false,
                Priority::High,
                &[
                    "category:other=low",
                    "keyword:children=high",
                    "route:default",
                ],
                None,
            ),
            (
                "other",
                None,
                "bon tre con bi du do",
                false,
                Priority::High,
                &[
                    "category:other=low",
                    "keyword:children=high",
                    "route:default",
                ],
                None,
            ),
            (
                "other",
                None,
                "Có người đang đánh nhau",
                true,
                Priority::Urgent,
                &["category:other=low", "emergency=urgent", "route:default"],
                None,
            ),
            (
                "other",
                None,
                "Họ giấu súng trong nhà kho",
                false,
                Priority::Urgent,
                &[
                    "category:other=low",
                    "keyword:weapons-now=urgent",
                    "keyword:weapons-now=emergency",
                    "route:default",
                ],
                None,
            ),
            // drug-dealing applies to the drugs category only.
            (
                "other",
                None,
                "Họ bán ma túy ngoài chợ",
                false,
                Priority::Low,
                &["category:other=low", "route:default"],
                None,
            ),
            (
                "drugs",
                None,
                "co nguoi ban ma tuy o quan nuoc dau xom Bung",
                false,
                Priority::High,
                &[
                    "category:drugs=high",
                    "keyword:drug-dealing=high",
                    "duplicate-of:TB-AAAA-AAAA(1.00)",
                    "route:default",
                ],
                Some("TB-AAAA-AAAA"),
            ),
            // Outside the window, however similar.
            (
                "theft",
                None,
                "Trộm chó ban đêm ở xóm Trên",
                false,
                Priority::Normal,
                &["category:theft=normal", "route:default"],
                None,
            ),
        ];
        for (cat, commune, text, emergency, priority, reasons, dup) in cases {
            let d = decide(
                &draft(cat, *commune, text, *emergency),
                &s,
                &rules,
                &recent,
                now,
            );
            assert_eq!(d.priority, *priority, "{text}: {d:?}");
            assert_eq!(d.reasons, *reasons, "{text}");
            assert_eq!(d.duplicate_of.as_deref(), *dup, "{text}");
            assert_eq!(
                d.emergency,
                *emergency || d.reasons.iter().any(|r| r.ends_with("=emergency"))
            );
        }
    }

    proptest! {
        #[test]
        fn the_rules_only_ever_raise_the_category_priority(text in "\\PC{0,200}", cat in 0usize..10) {
            let (s, rules) = fixture();
            let category = &s.categories[cat];
            let d = decide(&draft(&category.id, None, &text, false), s, rules, &[], 0);
            prop_assert!(d.priority >= category.priority);
            prop_assert_eq!(&d.reasons[0], &format!("category:{}={}", category.id, name(category.priority)));
        }

        #[test]
        fn a_tip_always_duplicates_its_own_text_within_the_window(text in "[a-zđơưâêôăà-ỹ ]{3,120}") {
            prop_assume!(!normalise(&text).is_empty());
            let (s, rules) = fixture();
            let recent = [Recent::new("TB-AAAA-AAAA", 0, &text)];
            let d = decide(&draft("other", None, &text, false), s, rules, &recent, 60_000);
            prop_assert_eq!(d.duplicate_of.as_deref(), Some("TB-AAAA-AAAA"));
        }
    }
}
