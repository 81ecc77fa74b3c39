//! An item's usage as its abstract page shows it: downloads and page views
//! in total and over the last twelve months, and a bar chart of downloads
//! by month drawn as inline SVG (no script), with the same figures in a
//! table behind it for screen readers and for copying. Built from the
//! item's monthly aggregates (one index range, `Usage::item_usage_by_month`).

use arkiv_model::usage::ItemCounts;
use arkiv_storage::MonthUsage;
use serde::Serialize;

/// Chart geometry, in SVG user units.
const BAR_WIDTH: i64 = 20;
const BAR_GAP: i64 = 6;
const CHART_HEIGHT: i64 = 80;

#[derive(Debug, Serialize)]
pub(crate) struct UsageView {
    pub downloads: i64,
    pub views: i64,
    pub downloads_year: i64,
    pub views_year: i64,
    /// The last twelve months, oldest first (the current one last).
    pub months: Vec<MonthView>,
    pub chart_width: i64,
    pub chart_height: i64,
}

#[derive(Debug, Serialize)]
pub(crate) struct MonthView {
    /// "May 2014".
    pub label: String,
    /// "May".
    pub short: &'static str,
    pub downloads: i64,
    pub views: i64,
    /// The bar: left edge, top and height.
    pub x: i64,
    pub y: i64,
    pub height: i64,
}

/// The view of `months` (oldest first) as of `this_month`
/// (`year * 12 + month - 1`).
pub(crate) fn usage_view(months: &[MonthUsage], this_month: i64) -> UsageView {
    let mut total = ItemCounts::default();
    for m in months {
        total.add(&m.counts);
    }
    let first = this_month - 11;
    let mut year = Vec::with_capacity(12);
    for month in first..=this_month {
        let counts = months.iter().find(|m| m.month == month).map(|m| m.counts).unwrap_or_default();
        year.push((month, counts));
    }
    let highest = year.iter().map(|(_, c)| c.requests).max().unwrap_or(0).max(1);
    let mut views = Vec::with_capacity(12);
    for (i, (month, c)) in year.iter().enumerate() {
        let height = (c.requests * CHART_HEIGHT + highest - 1) / highest;
        let (y, m) = (month.div_euclid(12), (month.rem_euclid(12) + 1) as u8);
        let name = super::month_name(m);
        views.push(MonthView {
            label: format!("{name} {y}"),
            short: &name[..3],
            downloads: c.requests,
            views: c.page_views(),
            x: i as i64 * (BAR_WIDTH + BAR_GAP),
            y: CHART_HEIGHT - height,
            height,
        });
    }
    UsageView {
        downloads: total.requests,
        views: total.page_views(),
        downloads_year: year.iter().map(|(_, c)| c.requests).sum(),
        views_year: year.iter().map(|(_, c)| c.page_views()).sum(),
        months: views,
        chart_width: 12 * (BAR_WIDTH + BAR_GAP) - BAR_GAP,
        chart_height: CHART_HEIGHT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month(month: i64, requests: i64, investigations: i64) -> MonthUsage {
        MonthUsage {
            month,
            counts: ItemCounts { investigations, unique_investigations: 0, requests, unique_requests: 0 },
        }
    }

    #[test]
    fn totals_the_year_and_bars() {
        let now = 2026 * 12 + 11; // December 2026
        let v = usage_view(&[month(2024 * 12, 5, 9), month(now - 1, 10, 30), month(now, 5, 5)], now);
        assert_eq!((v.downloads, v.views, v.downloads_year, v.views_year), (20, 24, 15, 20));
        assert_eq!(v.months.len(), 12);
        assert_eq!(v.months[11].label, "December 2026");
        assert_eq!(v.months[0].label, "January 2026");
        assert_eq!((v.months[10].height, v.months[10].y), (80, 0), "the highest bar fills the chart");
        assert_eq!(v.months[11].height, 40);
        assert_eq!(v.months[0].height, 0);
    }
}
