//! The read side of an export: tips received in a range come out of Redis a page at a time
//! (codes by time from `{tl}:tips`, then one pipeline of hashes), pass the filters, become
//! [`Row`]s and go to every writer at once, so memory stays flat however many tips there are.
//! Every export is recorded in the audit trail (who, range, formats, count).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};

use super::week::{Range, local_date};
use super::{Row, RowContext, Writer};
use crate::config::Settings;
use crate::render::chart::DaySeries;
use crate::store::{Store, Tip, TipStatus};

/// Tips fetched per round trip.
const PAGE: usize = 500;

/// Which tips of the range an export keeps.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Only this commune id.
    pub commune: Option<String>,
    /// Only this category id.
    pub category: Option<String>,
    /// Only tips in this state.
    pub status: Option<TipStatus>,
}

impl Filter {
    /// Whether `tip` is exported; communes compare by their current ids, so that a filter
    /// on a commune keeps the tips of the units merged into it too.
    fn keeps(&self, tip: &Tip, settings: &Settings) -> bool {
        self.commune.as_deref().is_none_or(|c| {
            tip.commune
                .as_deref()
                .is_some_and(|t| settings.commune_id(t) == settings.commune_id(c))
        }) && self.category.as_deref().is_none_or(|c| tip.category == c)
            && self.status.is_none_or(|s| tip.status == s)
    }
}

/// Tips per local day and category, for the chart.
#[derive(Debug, Clone, Default)]
pub struct Daily {
    counts: BTreeMap<(NaiveDate, String), u32>,
}

impl Daily {
    fn add(&mut self, tip: &Tip, offset_hours: i32) {
        let day = local_date(tip.received_ms, offset_hours);
        *self.counts.entry((day, tip.category.clone())).or_default() += 1;
    }

    /// The chart's data for every day of `range`, categories in configuration order.
    pub fn series(&self, range: &Range, settings: &Settings, title: String) -> DaySeries {
        let offset = settings.app.utc_offset_hours;
        let first = local_date(range.from_ms, offset);
        let last = local_date(range.to_ms - 1, offset);
        let days: Vec<NaiveDate> = (0..=(last - first).num_days())
            .map(|i| first + Duration::days(i))
            .collect();
        let mut series = Vec::new();
        for category in &settings.categories {
            let counts: Vec<u32> = days
                .iter()
                .map(|d| {
                    self.counts
                        .get(&(*d, category.id.clone()))
                        .copied()
                        .unwrap_or(0)
                })
                .collect();
            if counts.iter().any(|n| *n > 0) {
                series.push((category.vi.clone(), counts));
            }
        }
        DaySeries {
            title,
            days: days.iter().map(|d| d.format("%d/%m").to_string()).collect(),
            series,
        }
    }
}

/// The acting unit of a tip: the name of the routing rule that sends it to a duty group, or
/// `desk.default_unit`.
pub fn unit_of(settings: &Settings, tip: &Tip) -> Option<String> {
    let desk = &settings.desk;
    let name = match desk.route_index(settings, tip.commune.as_deref(), &tip.category) {
        Some(i) => &desk.routes[i].unit,
        None => &desk.default_unit,
    };
    Some(name.clone()).filter(|n| !n.is_empty())
}

/// What an export reads: the tips in Redis, the settings (units, export options, time zone)
/// and the time it is taken. Nothing else of the process: an export runs the same from the
/// CLI, an admin's chat and the weekly report.
#[derive(Clone, Copy)]
pub struct Reads<'a> {
    /// Where the tips and the audit trail are.
    pub store: &'a Store,
    /// The configuration.
    pub settings: &'a Settings,
    /// Now, by the app's clock (ms).
    pub now_ms: i64,
}

/// Streams the tips of `range` that pass `filter` into every writer (and `daily`), records the
/// export in the audit trail as done by `actor`, and returns how many tips went out.
pub async fn export(
    reads: Reads<'_>,
    range: &Range,
    filter: &Filter,
    writers: &mut [&mut Writer<'_>],
    mut daily: Option<&mut Daily>,
    actor: &str,
) -> anyhow::Result<u64> {
    let Reads {
        store,
        settings,
        now_ms,
    } = reads;
    let mut offset = 0;
    let mut count = 0u64;
    loop {
        let (scanned, page) = store
            .tips_page(range.from_ms, range.to_ms, offset, PAGE)
            .await?;
        if scanned == 0 {
            break;
        }
        offset += scanned;
        for tip in page.iter().filter(|t| filter.keeps(t, settings)) {
            let ctx = RowContext {
                settings,
                options: &settings.export,
                unit: unit_of(settings, tip),
                now_ms,
            };
            let row = Row::from_tip(tip, &ctx);
            for w in writers.iter_mut() {
                w.write(&row)?;
            }
            if let Some(d) = daily.as_deref_mut() {
                d.add(tip, settings.app.utc_offset_hours);
            }
            count += 1;
        }
    }
    crate::audit::append(
        store,
        now_ms,
        actor,
        "export",
        "",
        &format!("{} {} tips", range.label, count),
    )
    .await?;
    tracing::info!(range = %range.label, tips = count, "export written");
    Ok(count)
}
