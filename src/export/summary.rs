//! The summary of an export: counts by category, commune, mailbox, priority, status and local
//! day, SLA breaches, and response times. Every writer fills one while it writes, so the
//! summary sheet, the chat message and the file always describe the same rows.
//!
//! Percentiles interpolate linearly between the two nearest values, as Excel's `MEDIAN` and
//! `PERCENTILE.INC` do, so an admin can check them against the tips sheet.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::Row;
use super::row::status_id;
use crate::config::{Priority, Settings};
use crate::i18n::Lang;

/// How many categories the chat summary names before it sums up the rest.
const TOP_CATEGORIES: usize = 5;

/// Response times in minutes, with their median and 90th percentile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Durations(Vec<f64>);

impl Durations {
    /// Adds one duration.
    pub fn push(&mut self, minutes: f64) {
        self.0.push(minutes);
    }

    /// The durations, in the order added.
    pub fn values(&self) -> &[f64] {
        &self.0
    }

    /// How many durations there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The median; `None` without durations.
    pub fn median(&self) -> Option<f64> {
        self.percentile(50.0)
    }

    /// The 90th percentile; `None` without durations.
    pub fn p90(&self) -> Option<f64> {
        self.percentile(90.0)
    }

    /// The `p`th percentile (0 to 100), interpolated like Excel's `PERCENTILE.INC`.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.0.is_empty() {
            return None;
        }
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = (p.clamp(0.0, 100.0) / 100.0) * (sorted.len() - 1) as f64;
        let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
        let (a, b) = (sorted[lo], sorted[hi]);
        Some(a + (b - a) * (rank - lo as f64))
    }
}

/// What an export held, by the numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Number of tips.
    pub total: u64,
    /// Tips whose first officer action came after their SLA, or had not come in time.
    pub sla_breaches: u64,
    /// Tips by category id.
    pub by_category: BTreeMap<String, u64>,
    /// Tips by commune id; `""` counts tips without a known commune.
    pub by_commune: BTreeMap<String, u64>,
    /// Tips by mailbox code; `""` counts tips that came through no mailbox.
    pub by_mailbox: BTreeMap<String, u64>,
    /// Tips by priority.
    pub by_priority: BTreeMap<Priority, u64>,
    /// Tips by status id (`submitted`, `acknowledged`, `in_progress`, `closed`).
    pub by_status: BTreeMap<String, u64>,
    /// Tips by the local day they were received.
    pub by_day: BTreeMap<NaiveDate, u64>,
    /// Minutes to the first officer action, of the tips that had one.
    pub ack_minutes: Durations,
    /// Minutes to closing, of the closed tips.
    pub close_minutes: Durations,
    /// Vietnamese category labels by id, as the rows carried them.
    pub category_labels: BTreeMap<String, String>,
    /// Commune names by id, as the rows carried them.
    pub commune_names: BTreeMap<String, String>,
    /// Mailbox names by code, as the rows carried them.
    pub mailbox_names: BTreeMap<String, String>,
}

impl Summary {
    /// Counts one row in.
    pub fn add(&mut self, row: &Row) {
        self.total += 1;
        self.sla_breaches += u64::from(row.sla_breached);
        bump(&mut self.by_category, row.category.clone());
        bump(
            &mut self.by_commune,
            row.commune.clone().unwrap_or_default(),
        );
        bump(
            &mut self.by_mailbox,
            row.mailbox.clone().unwrap_or_default(),
        );
        *self.by_priority.entry(row.priority).or_default() += 1;
        bump(&mut self.by_status, status_id(row.status).to_owned());
        *self.by_day.entry(row.received_at.date_naive()).or_default() += 1;
        if let Some(m) = row.minutes_to_ack {
            self.ack_minutes.push(m);
        }
        if let Some(m) = row.minutes_to_close {
            self.close_minutes.push(m);
        }
        learn(
            &mut self.category_labels,
            &row.category,
            Some(&row.category_label),
        );
        if let Some(id) = &row.commune {
            learn(&mut self.commune_names, id, row.commune_name.as_ref());
        }
        if let Some(code) = &row.mailbox {
            learn(&mut self.mailbox_names, code, row.mailbox_name.as_ref());
        }
    }

    /// Categories by count, largest first (ties by id).
    pub fn top_categories(&self) -> Vec<(&str, u64)> {
        largest_first(&self.by_category)
    }

    /// A short plain-text summary for a chat message: total, the five largest categories,
    /// median time to acknowledge and SLA breaches. Category labels come from `settings` in
    /// `lang`.
    pub fn text(&self, settings: &Settings, lang: Lang) -> String {
        let t = Texts::of(lang);
        let mut lines = vec![format!("{} {}", t.total, count(self.total, t.tips, lang))];
        let top = self.top_categories();
        if !top.is_empty() {
            lines.push(t.by_category.to_owned());
        }
        for (id, n) in top.iter().take(TOP_CATEGORIES) {
            let label = settings.category_label(id, lang);
            lines.push(format!("• {label}: {}", group_thousands(*n, lang)));
        }
        if top.len() > TOP_CATEGORIES {
            let rest = &top[TOP_CATEGORIES..];
            let n: u64 = rest.iter().map(|(_, n)| n).sum();
            let others = (t.others)(rest.len());
            lines.push(format!("• {others}: {}", group_thousands(n, lang)));
        }
        let ack = match (self.ack_minutes.median(), self.ack_minutes.p90()) {
            (Some(m), Some(p)) => format!(
                "{} {unit} ({} {} {unit})",
                minutes(m, lang),
                t.p90,
                minutes(p, lang),
                unit = t.minutes,
            ),
            _ => t.none.to_owned(),
        };
        lines.push(format!("{} {ack}", t.median_ack));
        lines.push(format!(
            "{} {}",
            t.breaches,
            count(self.sla_breaches, t.tips, lang)
        ));
        lines.join("\n")
    }
}

/// The `(key, count)` pairs of `map`, largest count first (ties by key).
pub(crate) fn largest_first(map: &BTreeMap<String, u64>) -> Vec<(&str, u64)> {
    let mut all: Vec<(&str, u64)> = map.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    all
}

fn bump(map: &mut BTreeMap<String, u64>, key: String) {
    *map.entry(key).or_default() += 1;
}

fn learn(map: &mut BTreeMap<String, String>, key: &str, label: Option<&String>) {
    if let Some(label) = label
        && !map.contains_key(key)
    {
        map.insert(key.to_owned(), label.clone());
    }
}

/// The phrases of [`Summary::text`]. They live here rather than in the locale files because
/// the export is an admin tool whose wording follows `docs/export.md`.
struct Texts {
    total: &'static str,
    tips: &'static str,
    by_category: &'static str,
    others: fn(usize) -> String,
    median_ack: &'static str,
    minutes: &'static str,
    p90: &'static str,
    none: &'static str,
    breaches: &'static str,
}

impl Texts {
    fn of(lang: Lang) -> Self {
        match lang {
            Lang::Vi => Texts {
                total: "Tổng số tin báo:",
                tips: "tin",
                by_category: "Theo loại tin:",
                others: |n| format!("{n} loại khác"),
                median_ack: "Thời gian tiếp nhận (trung vị):",
                minutes: "phút",
                p90: "90% tin trong vòng",
                none: "chưa có tin nào được tiếp nhận",
                breaches: "Quá hạn tiếp nhận:",
            },
            Lang::En => Texts {
                total: "Tips:",
                tips: "",
                by_category: "By category:",
                others: |n| format!("{n} other categories"),
                median_ack: "Median time to acknowledge:",
                minutes: "min",
                p90: "90% within",
                none: "no tip acknowledged yet",
                breaches: "SLA breaches:",
            },
        }
    }
}

fn count(n: u64, unit: &str, lang: Lang) -> String {
    let n = group_thousands(n, lang);
    if unit.is_empty() {
        n
    } else {
        format!("{n} {unit}")
    }
}

/// `1234567` as `1.234.567` in Vietnamese, `1,234,567` in English.
fn group_thousands(n: u64, lang: Lang) -> String {
    let sep = if lang == Lang::Vi { '.' } else { ',' };
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(d);
    }
    out
}

/// Minutes with one decimal, with a decimal comma in Vietnamese.
fn minutes(m: f64, lang: Lang) -> String {
    let s = format!("{m:.1}");
    if lang == Lang::Vi {
        s.replace('.', ",")
    } else {
        s
    }
}
