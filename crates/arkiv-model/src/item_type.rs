//! Item types ("Policy Paper", "Working Paper"...). Each repository has its
//! own list, as in EPrints: the defaults below, plus whatever its
//! configuration adds, so a repository moving from EPrints keeps local types
//! such as `oral_history`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An item type's key as stored in records and exports (`policy_paper`).
pub type ItemType = String;

/// The types a repository accepts, each with the label readers see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemTypes {
    labels: BTreeMap<String, String>,
}

/// The default types: those of the brief plus EPrints' stock list.
pub const DEFAULT_TYPES: &[(&str, &str)] = &[
    ("article", "Article"),
    ("book", "Book"),
    ("book_section", "Book Section"),
    ("monograph", "Monograph"),
    ("conference_item", "Conference or Workshop Item"),
    ("thesis", "Thesis"),
    ("report", "Report"),
    ("working_paper", "Working Paper"),
    ("policy_paper", "Policy Paper"),
    ("dataset", "Dataset"),
    ("patent", "Patent"),
    ("artefact", "Artefact"),
    ("exhibition", "Show/Exhibition"),
    ("composition", "Composition"),
    ("performance", "Performance"),
    ("image", "Image"),
    ("video", "Video"),
    ("audio", "Audio"),
    ("experiment", "Experiment"),
    ("teaching_resource", "Teaching Resource"),
    ("other", "Other"),
];

impl Default for ItemTypes {
    fn default() -> Self {
        ItemTypes { labels: DEFAULT_TYPES.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }
}

impl ItemTypes {
    /// The defaults plus `extra` (key → label); an extra entry may also
    /// relabel a default type.
    pub fn with_extra<'a>(extra: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        let mut types = ItemTypes::default();
        for (k, v) in extra {
            types.labels.insert(k.clone(), v.clone());
        }
        types
    }

    pub fn contains(&self, key: &str) -> bool {
        self.labels.contains_key(key)
    }

    /// The label, or the key itself for a type the repository does not know
    /// (an old record whose type was later removed still renders).
    pub fn label<'a>(&'a self, key: &'a str) -> &'a str {
        self.labels.get(key).map(String::as_str).unwrap_or(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Types whose citation shows series, number and the full date, as EPrints'
/// citations do for grey literature.
pub fn is_serial_grey_literature(key: &str) -> bool {
    matches!(key, "policy_paper" | "working_paper" | "report" | "monograph")
}
