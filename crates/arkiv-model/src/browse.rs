//! Browse views: the lists by year, item type, subject, division, creator and series
//! that EPrints calls "views". The model decides which entries a record
//! contributes; the store keeps them in an ordered table so that a page of
//! any view is one range read, whatever the view's size.

use crate::record::Record;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrowseView {
    Year,
    Type,
    Subject,
    Creator,
    Series,
    Division,
}

impl BrowseView {
    pub const ALL: [BrowseView; 6] = [
        BrowseView::Year,
        BrowseView::Type,
        BrowseView::Subject,
        BrowseView::Division,
        BrowseView::Creator,
        BrowseView::Series,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            BrowseView::Year => "year",
            BrowseView::Type => "type",
            BrowseView::Subject => "subject",
            BrowseView::Creator => "creator",
            BrowseView::Series => "series",
            BrowseView::Division => "division",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        BrowseView::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn label(&self) -> &'static str {
        match self {
            BrowseView::Year => "Year",
            BrowseView::Type => "Item type",
            BrowseView::Subject => "Subject",
            BrowseView::Creator => "Creator",
            BrowseView::Series => "Series",
            BrowseView::Division => "Division",
        }
    }
}

/// One line of a view: record `record_id` is listed under `value` of `view`,
/// in `sort_key` order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BrowseEntry {
    pub view: BrowseView,
    pub value: String,
    pub sort_key: String,
}

/// Longest value or sort key kept; longer ones are cut at a character
/// boundary (a browse list needs no more to be ordered and found).
const MAX_KEY_BYTES: usize = 200;

fn cut(s: &str) -> String {
    let mut end = s.len().min(MAX_KEY_BYTES);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The order of a record within any view: first creator, then title, folded
/// to lower case so that case does not scatter a list.
pub fn sort_key(record: &Record) -> String {
    let who = record
        .creators
        .first()
        .map(|c| c.name.inverted())
        .or_else(|| record.corp_creators.first().map(|c| c.name.clone()))
        .unwrap_or_default();
    cut(&format!("{} {}", who, record.title).trim().to_lowercase())
}

/// The entries a record contributes to the browse views: none unless live.
pub fn browse_entries(record: &Record) -> Vec<BrowseEntry> {
    if !record.is_live() {
        return Vec::new();
    }
    let key = sort_key(record);
    let mut out = Vec::new();
    let mut add = |view: BrowseView, value: &str| {
        let value = cut(value.trim());
        if !value.is_empty() {
            out.push(BrowseEntry { view, value, sort_key: key.clone() });
        }
    };
    if let Some(y) = record.year() {
        add(BrowseView::Year, &format!("{y:04}"));
    }
    add(BrowseView::Type, &record.item_type);
    for s in &record.subjects {
        add(BrowseView::Subject, s);
    }
    for d in &record.divisions {
        add(BrowseView::Division, d);
    }
    for c in &record.creators {
        add(BrowseView::Creator, &c.name.inverted());
    }
    if let Some(s) = &record.series {
        add(BrowseView::Series, s);
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Creator, Status};

    #[test]
    fn only_live_records_are_browsable() {
        let mut r = Record::new("policy_paper", "Title");
        r.creators.push(Creator::new("Doe", "Jane"));
        r.creators.push(Creator::new("Doe", "Jane"));
        assert!(browse_entries(&r).is_empty());
        r.status = Status::Archive;
        let views: Vec<_> = browse_entries(&r).into_iter().map(|e| (e.view, e.value)).collect();
        assert_eq!(views, vec![(BrowseView::Type, "policy_paper".into()), (BrowseView::Creator, "Doe, Jane".into())]);
    }
}
