//! Revisions: every change to a record is kept as a full snapshot with who
//! made it, when, and which fields changed, so old states stay readable and
//! a diff can always be shown.

use crate::date::Timestamp;
use crate::record::{Record, RecordId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub record_id: RecordId,
    /// 1 for the first state, then 2, 3...
    pub number: i64,
    /// Who made the change: a user name, `import`, `system`.
    pub actor: String,
    pub at: Timestamp,
    /// Top-level field names that differ from the previous revision.
    pub changed: Vec<String>,
    pub record: Record,
}

/// The top-level fields that differ between two states of a record, by their
/// serialized names (`title`, `creators`, `documents`...). Bookkeeping fields
/// (`lastmod`) are left out: they change on every save and say nothing.
pub fn changed_fields(old: Option<&Record>, new: &Record) -> Vec<String> {
    let new_v = serde_json::to_value(new).unwrap_or_default();
    let old_v = old.map(|o| serde_json::to_value(o).unwrap_or_default()).unwrap_or_default();
    let empty = serde_json::Map::new();
    let new_m = new_v.as_object().unwrap_or(&empty);
    let old_m = old_v.as_object().unwrap_or(&empty);
    let mut names: Vec<String> = new_m
        .keys()
        .chain(old_m.keys())
        .filter(|k| *k != "lastmod" && new_m.get(*k) != old_m.get(*k))
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_names_what_differs() {
        let a = Record::new("article", "One");
        let mut b = a.clone();
        b.title = "Two".into();
        b.lastmod = Some(Timestamp(5));
        b.keywords.push("x".into());
        assert_eq!(changed_fields(Some(&a), &b), vec!["keywords", "title"]);
        assert!(changed_fields(Some(&a), &a).is_empty());
        assert!(changed_fields(None, &a).contains(&"title".to_string()));
    }
}
