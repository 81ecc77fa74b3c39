//! The record: one item of the repository (a policy paper, a thesis...) with
//! its metadata and documents. Field names follow EPrints' so that an export
//! from EPrints maps one to one and back.

use crate::date::{PartialDate, Timestamp};
use crate::document::Document;
use crate::person::{Contributor, CorporateCreator, Creator};
use serde::{Deserialize, Serialize};

/// A record's id: stable, never reused, the number in `/{id}/`.
pub type RecordId = i64;

/// Where a record is in its life. The names are EPrints' `eprint_status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The depositor's workarea.
    #[default]
    Inbox,
    /// Submitted, under review.
    Buffer,
    /// Live and public.
    Archive,
    /// Withdrawn: a tombstone stands where the page was.
    Deletion,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Inbox, Status::Buffer, Status::Archive, Status::Deletion];

    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Inbox => "inbox",
            Status::Buffer => "buffer",
            Status::Archive => "archive",
            Status::Deletion => "deletion",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s.trim())
    }

    pub fn label(&self) -> &'static str {
        match self {
            Status::Inbox => "User workarea",
            Status::Buffer => "Under review",
            Status::Archive => "Live archive",
            Status::Deletion => "Withdrawn",
        }
    }
}

/// A link to something related (EPrints' `related_url`): a dataset, a
/// published version, a DOI of another work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RelatedLink {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An element of an imported record that Arkiv does not model, kept as the
/// XML it came as so that nothing is lost and an export writes it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ExtraField {
    /// Element name, e.g. `funders`.
    pub name: String,
    /// The element's serialized XML, start tag to end tag, without namespace
    /// declarations.
    pub xml: String,
}

/// One item of the repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// `None` until the store assigns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<RecordId>,
    #[serde(default)]
    pub status: Status,
    /// Item type key; see [`crate::ItemTypes`].
    pub item_type: String,
    /// The kind of work within its item type, which EPrints keeps in one
    /// field per type: a monograph's `monograph_type` (`technical_report`,
    /// `working_paper`, `discussion_paper`...), a thesis' `thesis_type`
    /// (`phd`, `masters`...), a conference item's `pres_type` (`paper`,
    /// `poster`...). EPrints' option key; [`crate::subtype_label`] names
    /// it. Read it through [`Record::subtype`], which also finds it in
    /// records imported before it was modelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtype: Option<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creators: Vec<Creator>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub corp_creators: Vec<CorporateCreator>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub editors: Vec<Creator>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributors: Vec<Contributor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<PartialDate>,
    /// `published`, `submitted`, `completed` (or a local value such as `degree`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_type: Option<String>,
    /// `pub`, `inpress`, `submitted`, `unpub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ispublished: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<String>,
    /// Number within the series (a report or paper number), or a journal
    /// issue's number: EPrints uses one field for both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_of_pub: Option<String>,
    /// Page count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<String>,
    /// Page range within a larger work: `12-34`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagerange: Option<String>,
    /// The journal or larger work this appeared in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publication: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub book_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub official_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isbn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issn: Option<String>,
    /// Other identifier (EPrints' `id_number`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    /// Free keywords, one per entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// Subject ids; names and tree in [`crate::SubjectTree`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// Division ids (EPrints' `divisions`: the faculty, department or
    /// programme the work belongs to), in the same tree space as subjects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub divisions: Vec<String>,
    /// ISO 639 language codes of the work.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    #[serde(rename = "abstract", default, skip_serializing_if = "Option::is_none")]
    pub abstract_text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Licence of the record as a whole (SPDX id or URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refereed: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<RelatedLink>,
    /// The depositing user's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userid: Option<i64>,
    /// When the record was first made live.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datestamp: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lastmod: Option<Timestamp>,
    /// Why a withdrawn record was withdrawn (shown on its tombstone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_reason: Option<String>,
    /// An editor's note to the depositor when an item goes back to the
    /// workarea ("please add the series number"); cleared when the item
    /// is submitted again. Never exported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_note: Option<String>,
    /// The record that replaces a withdrawn one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<RecordId>,
    /// The earlier version this record is a new version of (EPrints'
    /// `succeeds`); both stay live, each page linking to the other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub succeeds: Option<RecordId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Document>,
    /// Imported elements Arkiv does not model, kept verbatim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<ExtraField>,
}

impl Record {
    pub fn new(item_type: &str, title: &str) -> Self {
        Record { item_type: item_type.into(), title: title.into(), ..Default::default() }
    }

    /// The record's [`Record::subtype`] key, for the item types that have
    /// one (monographs, theses, conference items; EPrints keeps a stale
    /// `monograph_type` on an article whose type was changed, and shows it
    /// nowhere): the field, else (for a record imported before the field
    /// existed) the text of a kept `monograph_type`, `thesis_type` or
    /// `pres_type` element.
    pub fn subtype(&self) -> Option<&str> {
        if !crate::item_type::has_subtype(&self.item_type) {
            return None;
        }
        if let Some(s) = self.subtype.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            return Some(s);
        }
        self.extra.iter().filter(|e| crate::SUBTYPE_FIELDS.contains(&e.name.as_str())).find_map(|e| {
            let inner = &e.xml[e.xml.find('>')? + 1..e.xml.rfind("</")?];
            Some(inner.trim()).filter(|s| !s.is_empty() && !s.contains('<'))
        })
    }

    pub fn year(&self) -> Option<i32> {
        self.date.map(|d| d.year)
    }

    pub fn is_live(&self) -> bool {
        self.status == Status::Archive
    }

    /// Every stored file of every document, with the document's position.
    pub fn files(&self) -> impl Iterator<Item = (u32, &crate::StoredFile)> {
        self.documents.iter().flat_map(|d| d.files.iter().map(move |f| (d.pos, f)))
    }

    pub fn document(&self, pos: u32) -> Option<&Document> {
        self.documents.iter().find(|d| d.pos == pos)
    }
}
