//! Codecs between bytes and Arkiv records: EPrints 3 XML in and out, and
//! JSON (lines or one array).
//!
//! Every codec here is a pure function of bytes and records. A reader takes
//! whatever `BufRead` it is given and yields records one at a time; a writer
//! takes a `Write` and records. Nothing here opens a file, fetches a URL,
//! touches the file store or validates against a repository's configuration:
//! a reader reports what a file says (including where a document's bytes can
//! be found, as [`FileSource`]) and the caller decides what to do with it.
//! That keeps the codecs testable on byte strings and usable from the
//! importer, the exporter and the OAI-PMH provider alike.
//!
//! Readers stream: they never hold more than one record in memory, so a
//! multi-gigabyte export is read in constant space, and one bad record costs
//! only that record (see [`ReadItem`]).

pub mod access_log;
pub mod bibtex;
pub mod crossref;
pub mod csl_json;
pub mod datacite_json;
pub mod eprints;
pub mod export;
pub mod harvest;
pub mod json;
mod labels;
#[cfg(test)]
mod read_checks;
pub mod ris;
pub mod sword;

pub use eprints::{escape_markup, record_to_xml, EprintsReader, EprintsWriter, ReaderLimits, WriteOptions, EPRINTS_NS};
pub use json::{read_json_lines, write_json_array, JsonArrayWriter, JsonLinesReader, JsonLinesWriter};

use arkiv_model::Record;

/// One step of reading an import file: a record, or why the record at that
/// place could not be read.
#[derive(Debug)]
pub struct ReadItem {
    /// 1-based index of the record in the file (the `<eprint>` element, the
    /// JSON line); 0 for an error that belongs to no record (a wrong root
    /// element, a file that ends between records).
    pub position: usize,
    /// Line of the file where the record starts (or where a file-level error
    /// was found), when the codec can tell.
    pub line: Option<usize>,
    pub result: Result<ImportedRecord, RecordError>,
}

/// A record as read from an import file, with what the file said about its
/// documents' bytes and what could not be carried over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRecord {
    pub record: Record,
    /// Where the bytes of each file of each document can be found.
    pub files: Vec<FileSource>,
    /// Names of the elements that were kept verbatim in `record.extra`.
    pub unmapped: Vec<String>,
    /// Things that were dropped or guessed, for the import report.
    pub warnings: Vec<String>,
}

/// The bytes of one file of an imported document, or where to get them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSource {
    /// The document's `pos`.
    pub doc_pos: u32,
    pub filename: String,
    pub source: FileData,
}

#[derive(Clone, PartialEq, Eq)]
pub enum FileData {
    /// The file's bytes were in the import file (EPrints' `<data
    /// encoding="base64">`), decoded.
    Embedded(Vec<u8>),
    /// The file's `<url>` as written: a path relative to the import file, a
    /// `file://` URL or an `http(s)://` URL. Resolving it is the caller's job.
    Url(String),
    /// The import file says nothing about where the bytes are.
    None,
}

impl std::fmt::Debug for FileData {
    // Embedded files can be megabytes; a debug print of a record should not be.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileData::Embedded(bytes) => write!(f, "Embedded({} bytes)", bytes.len()),
            FileData::Url(url) => f.debug_tuple("Url").field(url).finish(),
            FileData::None => f.write_str("None"),
        }
    }
}

/// Why one record (or, at position 0, the file) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RecordError {
    pub message: String,
}

impl RecordError {
    pub fn new(message: impl Into<String>) -> Self {
        RecordError { message: message.into() }
    }
}
