//! Export ranges in local time (`app.utc_offset_hours`; Asia/Ho_Chi_Minh is +7 all year): an
//! ISO week `2026-W48` runs from Monday 00:00 to the next Monday 00:00 local; `--from/--to` take
//! whole local days, both included.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Weekday};

/// A half-open range of received times, `[from_ms, to_ms)`, with a label for file names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// First millisecond included (UTC epoch ms).
    pub from_ms: i64,
    /// First millisecond not included.
    pub to_ms: i64,
    /// `2026-W48` or `2026-11-01_2026-11-30`.
    pub label: String,
}

fn local_midnight_ms(date: NaiveDate, offset_hours: i32) -> i64 {
    let local: NaiveDateTime = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    local.and_utc().timestamp_millis() - i64::from(offset_hours) * 3_600_000
}

/// The local date of `ms`.
pub fn local_date(ms: i64, offset_hours: i32) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(ms + i64::from(offset_hours) * 3_600_000)
        .map(|t| t.date_naive())
        .unwrap_or_default()
}

/// The ISO week `spec` (`2026-W48`, also `2026W48`, `2026-w5`).
pub fn iso_week(spec: &str, offset_hours: i32) -> Result<Range, String> {
    let bad = || format!("\"{spec}\" is not an ISO week such as 2026-W48");
    let upper = spec.trim().to_ascii_uppercase();
    let (year, week) = upper.split_once('W').ok_or_else(bad)?;
    let year: i32 = year.trim_end_matches('-').parse().map_err(|_| bad())?;
    let week: u32 = week.parse().map_err(|_| bad())?;
    let monday = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
        .ok_or_else(|| format!("{year} has no week {week}"))?;
    Ok(week_from(monday, offset_hours))
}

fn week_from(monday: NaiveDate, offset_hours: i32) -> Range {
    let iso = monday.iso_week();
    Range {
        from_ms: local_midnight_ms(monday, offset_hours),
        to_ms: local_midnight_ms(monday + Duration::days(7), offset_hours),
        label: format!("{}-W{:02}", iso.year(), iso.week()),
    }
}

/// Whole local days `from` to `to` (`YYYY-MM-DD`), both included.
pub fn days(from: &str, to: &str, offset_hours: i32) -> Result<Range, String> {
    let parse = |s: &str| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| format!("\"{s}\" is not a date such as 2026-11-23"))
    };
    let (a, b) = (parse(from)?, parse(to)?);
    if b < a {
        return Err(format!("--to {to} is before --from {from}"));
    }
    Ok(Range {
        from_ms: local_midnight_ms(a, offset_hours),
        to_ms: local_midnight_ms(b + Duration::days(1), offset_hours),
        label: format!("{a}_{b}"),
    })
}

/// The last full ISO week before the one `now_ms` falls in.
pub fn last_full_week(now_ms: i64, offset_hours: i32) -> Range {
    let today = local_date(now_ms, offset_hours);
    let this_monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    week_from(this_monday - Duration::days(7), offset_hours)
}

/// When the weekly report for the week before `now_ms` is due: that week's end plus
/// `weekday_offset_mins` (e.g. 7 h for Monday 07:00).
pub fn report_due_ms(now_ms: i64, offset_hours: i32, after_week_mins: i64) -> (Range, i64) {
    let week = last_full_week(now_ms, offset_hours);
    let due = week.to_ms + after_week_mins * 60_000;
    (week, due)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(local: &str) -> i64 {
        // A local (+7) time as UTC epoch ms.
        NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp_millis()
            - 7 * 3_600_000
    }

    #[test]
    fn iso_weeks_run_from_local_monday_midnight() {
        for (spec, from, to, label) in [
            (
                "2026-W48",
                "2026-11-23 00:00:00",
                "2026-11-30 00:00:00",
                "2026-W48",
            ),
            (
                "2026w48",
                "2026-11-23 00:00:00",
                "2026-11-30 00:00:00",
                "2026-W48",
            ),
            (
                "2026-W53",
                "2026-12-28 00:00:00",
                "2027-01-04 00:00:00",
                "2026-W53",
            ),
            (
                "2027-W01",
                "2027-01-04 00:00:00",
                "2027-01-11 00:00:00",
                "2027-W01",
            ),
            // ISO week 1 of 2026 starts in 2025.
            (
                "2026-W1",
                "2025-12-29 00:00:00",
                "2026-01-05 00:00:00",
                "2026-W01",
            ),
        ] {
            let r = iso_week(spec, 7).unwrap();
            assert_eq!((r.from_ms, r.to_ms), (ms(from), ms(to)), "{spec}");
            assert_eq!(r.label, label);
        }
        assert!(iso_week("2025-W53", 7).is_err(), "2025 has 52 weeks");
        for bad in [
            "",
            "2026",
            "W48",
            "2026-W",
            "2026-W0",
            "2026-W54",
            "twenty-W1",
        ] {
            assert!(iso_week(bad, 7).is_err(), "{bad}");
        }
    }

    #[test]
    fn day_ranges_include_both_days() {
        let r = days("2026-11-01", "2026-11-30", 7).unwrap();
        assert_eq!(r.from_ms, ms("2026-11-01 00:00:00"));
        assert_eq!(r.to_ms, ms("2026-12-01 00:00:00"));
        assert!(days("2026-11-30", "2026-11-01", 7).is_err());
        assert!(days("30/11/2026", "2026-12-01", 7).is_err());
    }

    #[test]
    fn the_last_full_week_is_the_one_before() {
        // Monday 00:00:01 local is already in the new week.
        let r = last_full_week(ms("2026-11-30 00:00:01"), 7);
        assert_eq!(r.label, "2026-W48");
        // Sunday 23:59 local is still in W48, so the last full week is W47.
        let r = last_full_week(ms("2026-11-29 23:59:00"), 7);
        assert_eq!(r.label, "2026-W47");
        // Across the year end.
        assert_eq!(
            last_full_week(ms("2027-01-05 10:00:00"), 7).label,
            "2026-W53"
        );
        let (week, due) = report_due_ms(ms("2026-11-30 08:00:00"), 7, 7 * 60);
        assert_eq!(week.label, "2026-W48");
        assert_eq!(due, ms("2026-11-30 07:00:00"));
    }
}
