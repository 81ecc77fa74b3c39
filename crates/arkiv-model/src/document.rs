//! Documents: the files a record carries (full text, supplements, covers),
//! with who may read them and when.

use crate::date::PartialDate;
use serde::{Deserialize, Serialize};

/// Who may download a document. EPrints calls these `public`, `validuser`
/// and `staffonly`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentSecurity {
    #[default]
    Public,
    /// Any logged-in user.
    Validuser,
    /// Repository staff only.
    Staffonly,
}

impl DocumentSecurity {
    pub fn as_str(&self) -> &'static str {
        match self {
            DocumentSecurity::Public => "public",
            DocumentSecurity::Validuser => "validuser",
            DocumentSecurity::Staffonly => "staffonly",
        }
    }

    /// Reads EPrints' values; `internal` is the name some EPrints
    /// repositories (Caltech's among them) give to staff-only access.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "public" => Some(DocumentSecurity::Public),
            "validuser" | "registered" => Some(DocumentSecurity::Validuser),
            "staffonly" | "internal" | "staff" => Some(DocumentSecurity::Staffonly),
            _ => None,
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            DocumentSecurity::Public => "Anyone",
            DocumentSecurity::Validuser => "Registered users only",
            DocumentSecurity::Staffonly => "Repository staff only",
        }
    }
}

/// One file of a document. Its bytes live in the file store under their
/// SHA-256; `sha256` is `None` when the bytes never reached the store (an
/// import that referenced a remote URL it could not fetch). Such a file is
/// listed but cannot be downloaded, and `arkiv fsck` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StoredFile {
    pub filename: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// In bytes; 0 when not known (or, in a public export of a restricted
    /// document, not said), and then left out of the JSON.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// A checksum that came with the file from elsewhere (EPrints writes MD5),
    /// kept so that it can be checked and written back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_hash: Option<(String, String)>,
    /// Where the file was found when it was imported, if not from local bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// EPrints' id of this file (`<fileid>`), kept at import so that the
    /// address EPrints gave it, `/id/file/F`, still answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eprints_fileid: Option<i64>,
}

/// How a document was made from another document of its record, as
/// EPrints derives thumbnails and the text it indexes from a PDF. A derived
/// document is not listed on the record's page or in its exports; it is
/// served where EPrints served it (a thumbnail at
/// `/N/P.hassmallThumbnailVersion/FILE`, P being its source's position).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Derivation {
    /// The position of the document it was made from.
    pub of: u32,
    /// What it is, in EPrints' words: `smallThumbnail`, `mediumThumbnail`,
    /// `previewThumbnail`, `lightboxThumbnail`, `IndexCodes`, or empty when
    /// EPrints said only that it is derived.
    pub kind: String,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A document of a record: one or more files (the main one named by `main`)
/// with format, access rights and licence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Document {
    /// Position within the record, from 1; part of the download URL
    /// `/{id}/{pos}/{filename}`.
    pub pos: u32,
    /// EPrints' format (`application/pdf`, `text`, `other`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format_description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default)]
    pub security: DocumentSecurity,
    /// Until this date the document is served as if `staffonly`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargo: Option<PartialDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Content role: `published`, `accepted`, `submitted`, `supplemental`,
    /// `cover`...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Filename of the main file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<StoredFile>,
    /// EPrints' id of this document (`<docid>`), kept at import so that the
    /// address EPrints gave it, `/id/document/D`, still answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eprints_docid: Option<i64>,
    /// Set when the document was made from another one (a thumbnail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub derived: Option<Derivation>,
}

impl Document {
    /// Whether this document is one a reader chose to deposit, not one
    /// derived from another (see [`Derivation`]).
    pub fn is_deposited(&self) -> bool {
        self.derived.is_none()
    }

    /// The main file, or the first if `main` names none of them.
    pub fn main_file(&self) -> Option<&StoredFile> {
        let named = self.main.as_deref();
        self.files.iter().find(|f| Some(f.filename.as_str()) == named).or(self.files.first())
    }

    pub fn file(&self, filename: &str) -> Option<&StoredFile> {
        self.files.iter().find(|f| f.filename == filename)
    }

    /// Whether anyone may read this document on `today` (a full date):
    /// security `public` and no embargo, or one that has run out. Every way
    /// out (downloads, exports, feeds, search snippets, OAI-PMH) asks this.
    pub fn is_open_access(&self, today: PartialDate) -> bool {
        self.security == DocumentSecurity::Public && self.embargo.is_none_or(|until| embargo_over(until, today))
    }
}

/// True once the embargo date has come. A date known only to the year or the
/// month is read as its last day: "embargoed until 2030" must not open on
/// the first of January if the depositor meant the end of the year, and
/// releasing late is the mistake that can be undone.
pub fn embargo_over(until: PartialDate, today: PartialDate) -> bool {
    embargo_end(until) <= (today.year, today.month.unwrap_or(1), today.day.unwrap_or(1))
}

/// The day (year, month, day) an embargo is over: the date itself, or the
/// last day of its month or year when that is all it gives.
pub fn embargo_end(until: PartialDate) -> (i32, u8, u8) {
    let month = until.month.unwrap_or(12).clamp(1, 12);
    let day = until.day.unwrap_or_else(|| crate::date::days_in_month(until.year, month));
    (until.year, month, day)
}

/// The next day on which one of `documents` comes out of embargo, after
/// `today`, as the number YYYYMMDD (how the store indexes it, so the
/// embargo job finds what is due without reading every record).
pub fn next_embargo_end(documents: &[Document], today: PartialDate) -> Option<i64> {
    documents
        .iter()
        .filter_map(|d| d.embargo)
        .filter(|&until| !embargo_over(until, today))
        .map(|until| {
            let (y, m, d) = embargo_end(until);
            i64::from(y) * 10_000 + i64::from(m) * 100 + i64::from(d)
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embargoed(until: &str) -> Document {
        Document { embargo: Some(until.parse().unwrap()), ..Default::default() }
    }

    #[test]
    fn the_next_embargo_end_is_the_earliest_still_ahead() {
        let today: PartialDate = "2026-11-29".parse().unwrap();
        let docs = [embargoed("2026-11-01"), embargoed("2027"), embargoed("2027-02"), Document::default()];
        // 2026-11-01 is over; a month ends on its last day, a year on 31 December.
        assert_eq!(next_embargo_end(&docs, today), Some(20270228));
        assert_eq!(next_embargo_end(&docs[..2], today), Some(20271231));
        assert_eq!(next_embargo_end(&docs[..1], today), None);
        // The day itself: not yet over on the eve, over on the day.
        assert!(!embargoed("2027-02").is_open_access("2027-02-27".parse().unwrap()));
        assert!(embargoed("2027-02").is_open_access("2027-02-28".parse().unwrap()));
    }
}
