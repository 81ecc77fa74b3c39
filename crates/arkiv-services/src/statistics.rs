//! What the repository's statistics page (`/stats`) shows for a year: the
//! totals by month, the most downloaded items of a month and of the year,
//! and the year's figures by item type, series, subject, division and
//! creator. Every figure comes from the aggregates the roll-up keeps
//! (`arkiv_storage::usage`): a handful of index reads, whatever the size of
//! the repository. Labels (type names, subject names) are the repository's.

use crate::Repository;
use arkiv_model::browse::BrowseView;
use arkiv_model::usage::ItemCounts;
use arkiv_model::{Record, RecordId};
use arkiv_storage::{MonthUsage, UsagePeriod};

/// The views /stats has a table for, in the order it shows them.
pub const GROUP_VIEWS: [BrowseView; 5] =
    [BrowseView::Type, BrowseView::Series, BrowseView::Subject, BrowseView::Division, BrowseView::Creator];

/// Rows of a group table on the page; the CSV has up to [`CSV_ROWS`].
pub const PAGE_ROWS: i64 = 10;
pub const CSV_ROWS: i64 = 10_000;

/// An item among the most downloaded: its record (for the citation) and
/// figures.
#[derive(Debug, Clone)]
pub struct TopItem {
    pub id: RecordId,
    /// `None` when the record is no longer live (its figures still count).
    pub record: Option<Record>,
    pub counts: ItemCounts,
}

/// One group of a browse view: its value, its label, its figures.
#[derive(Debug, Clone)]
pub struct GroupFigures {
    pub value: String,
    pub label: String,
    pub counts: ItemCounts,
}

#[derive(Debug, Clone)]
pub struct GroupTable {
    pub view: BrowseView,
    pub rows: Vec<GroupFigures>,
}

/// A year's statistics.
#[derive(Debug, Clone)]
pub struct YearStatistics {
    pub year: i64,
    /// The twelve months of the year, January first, zero where nothing
    /// was counted.
    pub months: Vec<MonthUsage>,
    pub total: ItemCounts,
    /// The month whose top items are shown: the current one in the
    /// current year, else December.
    pub month: i64,
    pub top_month: Vec<TopItem>,
    pub top_year: Vec<TopItem>,
    pub groups: Vec<GroupTable>,
}

/// The current month as `year * 12 + month - 1`.
pub fn this_month(repo: &Repository) -> i64 {
    let today = repo.today();
    i64::from(today.year) * 12 + i64::from(today.month.unwrap_or(1)) - 1
}

/// The twelve months of `year`, zeros filled in.
pub async fn year_months(repo: &Repository, year: i64) -> anyhow::Result<Vec<MonthUsage>> {
    let counted = repo.store.repository_usage_by_month(year * 12, year * 12 + 11).await?;
    Ok((year * 12..year * 12 + 12)
        .map(|month| {
            let counts = counted.iter().find(|m| m.month == month).map(|m| m.counts).unwrap_or_default();
            MonthUsage { month, counts }
        })
        .collect())
}

/// The most downloaded items of `period`, with their records.
pub async fn top_items(repo: &Repository, period: UsagePeriod, limit: i64) -> anyhow::Result<Vec<TopItem>> {
    let top = repo.store.top_items(period, limit).await?;
    let ids: Vec<RecordId> = top.iter().map(|(id, _)| *id).collect();
    let mut records: std::collections::HashMap<RecordId, Record> = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for r in repo.store.get_records(chunk).await? {
            if let Some(id) = r.id.filter(|_| r.is_live()) {
                records.insert(id, r);
            }
        }
    }
    Ok(top.into_iter().map(|(id, counts)| TopItem { id, record: records.remove(&id), counts }).collect())
}

/// A browse view's groups in `year`, most downloaded first, labelled.
pub async fn group_table(repo: &Repository, view: BrowseView, year: i64, limit: i64) -> anyhow::Result<GroupTable> {
    let rows = repo.store.top_groups(view.as_str(), year, limit).await?;
    let types = repo.types();
    let subjects = repo.subjects();
    let rows = rows
        .into_iter()
        .map(|(value, counts)| {
            let label = match view {
                BrowseView::Type => types.label(&value).to_string(),
                BrowseView::Subject | BrowseView::Division => subjects.name(&value).to_string(),
                _ => value.clone(),
            };
            GroupFigures { value, label, counts }
        })
        .collect();
    Ok(GroupTable { view, rows })
}

/// Everything /stats shows for `year`.
pub async fn year_statistics(repo: &Repository, year: i64) -> anyhow::Result<YearStatistics> {
    let now = this_month(repo);
    let month = if now.div_euclid(12) == year { now } else { year * 12 + 11 };
    let months = year_months(repo, year).await?;
    let mut total = ItemCounts::default();
    for m in &months {
        total.add(&m.counts);
    }
    let mut groups = Vec::with_capacity(GROUP_VIEWS.len());
    for view in GROUP_VIEWS {
        groups.push(group_table(repo, view, year, PAGE_ROWS).await?);
    }
    Ok(YearStatistics {
        year,
        months,
        total,
        month,
        top_month: top_items(repo, UsagePeriod::Month(month), PAGE_ROWS).await?,
        top_year: top_items(repo, UsagePeriod::Year(year), PAGE_ROWS).await?,
        groups,
    })
}
