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
}

impl Document {
    /// The main file, or the first if `main` names none of them.
    pub fn main_file(&self) -> Option<&StoredFile> {
        let named = self.main.as_deref();
        self.files.iter().find(|f| Some(f.filename.as_str()) == named).or(self.files.first())
    }

    pub fn file(&self, filename: &str) -> Option<&StoredFile> {
        self.files.iter().find(|f| f.filename == filename)
    }
}
