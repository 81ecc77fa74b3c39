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

/// EPrints' fields that hold a record's [`crate::Record::subtype`], one per
/// item type.
pub const SUBTYPE_FIELDS: [&str; 3] = ["monograph_type", "thesis_type", "pres_type"];

/// Whether records of `item_type` have a subtype that citations and
/// exports show.
pub fn has_subtype(item_type: &str) -> bool {
    matches!(item_type, "monograph" | "thesis" | "conference_item")
}

/// The EPrints field a record of `item_type` keeps its subtype in.
pub fn subtype_field(item_type: &str) -> &'static str {
    match item_type {
        "thesis" => "thesis_type",
        "conference_item" => "pres_type",
        _ => "monograph_type",
    }
}

/// The subtypes EPrints 3.4 offers for `item_type` (the options of the
/// publication flavour's `monograph_type`, `thesis_type` and `pres_type`,
/// `flavours/pub_lib/cfg.d/eprint_fields_pub.pl`, in its order);
/// empty for a type without a subtype. Imported records may hold other
/// keys (a repository's local options): those are kept, not refused.
pub fn subtype_keys(item_type: &str) -> &'static [&'static str] {
    match item_type {
        "monograph" => &[
            "technical_report",
            "project_report",
            "documentation",
            "manual",
            "working_paper",
            "discussion_paper",
            "other",
        ],
        "thesis" => &["diploma", "masters", "doctoral", "postdoctoral", "other"],
        "conference_item" => &["paper", "lecture", "speech", "poster", "keynote", "other"],
        _ => &[],
    }
}

/// The name of a subtype, as EPrints 3.4's English phrases give it
/// (`eprint_fieldopt_monograph_type_*`, `..._thesis_type_*`,
/// `..._pres_type_*`); an unknown key with its underscores as spaces and
/// its first letter capitalised.
pub fn subtype_label(key: &str) -> String {
    let known = match key {
        "technical_report" => "Technical Report",
        "project_report" => "Project Report",
        "documentation" => "Documentation",
        "manual" => "Manual",
        "working_paper" => "Working Paper",
        "discussion_paper" => "Discussion Paper",
        "doctoral" => "Doctoral",
        "postdoctoral" => "Post-Doctoral",
        "phd" => "PhD",
        "masters" => "Masters",
        "diploma" => "Diploma",
        "engd" => "EngD",
        "mphil" => "MPhil",
        "bachelors" => "Bachelors",
        "paper" => "Paper",
        "lecture" => "Lecture",
        "speech" => "Speech",
        "poster" => "Poster",
        "keynote" => "Keynote",
        "other" => "Other",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    let words = key.trim().replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether a thesis subtype is a master's degree or below, which citation
/// formats set apart from a doctorate (BibTeX's `mastersthesis`).
pub fn is_masters_subtype(key: &str) -> bool {
    matches!(key, "masters" | "bachelors" | "diploma" | "mphil")
}
