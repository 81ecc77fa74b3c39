//! The export formats: every way a record or a list of records leaves Arkiv
//! as a file a reference manager, a harvester or a catalogue reads (BibTeX,
//! RIS, CSL-JSON, MODS, DataCite, MARCXML, Dublin Core, JSON-LD, CSV...).
//!
//! One table, [`FORMATS`], lists them; the abstract page's export links, the
//! export URLs of search results and browse views, `arkiv export` and the
//! OAI-PMH provider's metadata formats are all read from it, so a format
//! added here appears everywhere at once.
//!
//! Each format is an [`ExportWriter`]: `begin` writes what comes before the
//! first record (an XML root, a CSV header line, a JSON `[`), `record` one
//! record, `end` what closes the list. Writers stream: they keep no more
//! than one record, plus whatever small state the format needs across
//! records (BibTeX keys already used, so that keys are unique within an
//! export). A writer is a pure function of the records and the
//! [`ExportContext`]: no I/O but the `Write` it is given.
//!
//! What may go out: exports are public. A creator's e-mail address never
//! does; a document's file is named (with its download URL) only if
//! [`ExportContext::is_open_access`] says anyone may read it today.

pub mod bibtex;
pub mod citation;
pub mod coins;
pub mod context_object;
pub mod csljson;
pub mod csv;
pub mod datacite;
pub mod dc;
pub mod fields;
pub mod jsonld;
pub mod marcxml;
pub mod mods;
pub mod refer;
pub mod ris;
pub mod styles;
mod xml;

use crate::eprints::{EprintsWriter, WriteOptions};
use crate::json::JsonArrayWriter;
use arkiv_model::{Document, ItemTypes, PartialDate, Record, StoredFile, SubjectTree};
use std::io::{self, Write};
use std::sync::Arc;

/// What a format needs to know beyond the record: the repository it comes
/// from.
#[derive(Debug, Clone)]
pub struct ExportContext {
    /// Public base URL without a trailing slash: `https://repo.example.org`.
    /// A record's page is `{base_url}/{id}/`, a file
    /// `{base_url}/{id}/{pos}/{filename}`.
    pub base_url: String,
    /// The repository's name (publisher of last resort, DataCite's
    /// `publisher` when a record names none).
    pub repository_name: String,
    /// The host part of OAI identifiers: `oai:{oai_host}:{id}`.
    pub oai_host: String,
    /// Names and paths of the subject ids records carry.
    pub subjects: Arc<SubjectTree>,
    /// Labels of the item types.
    pub item_types: ItemTypes,
    /// The day the export is made, for embargoes.
    pub today: PartialDate,
}

impl ExportContext {
    /// The context of an example repository at `https://repo.example.org`
    /// on 2026-11-28, with no subjects and the built-in types: what tests,
    /// examples and benchmarks export with.
    pub fn example() -> ExportContext {
        ExportContext {
            base_url: "https://repo.example.org".into(),
            repository_name: "Example".into(),
            oai_host: "repo.example.org".into(),
            today: "2026-11-28".parse().expect("a valid date"),
            subjects: Default::default(),
            item_types: Default::default(),
        }
    }

    /// The record's landing page: `{base_url}/{id}/`.
    pub fn record_url(&self, record: &Record) -> String {
        format!("{}/{}/", self.base_url, record.id.unwrap_or(0))
    }

    /// The landing page of the earlier record this one is a new version of
    /// (`Record::succeeds`), for the formats that state the relation:
    /// DataCite's `IsNewVersionOf`, MODS's `otherVersion`, schema.org's
    /// `isBasedOn`. `None` when there is none (or it names the record
    /// itself, which no workflow makes but an import could).
    pub fn earlier_version_url(&self, record: &Record) -> Option<String> {
        let earlier = record.succeeds.filter(|&e| e > 0 && Some(e) != record.id)?;
        Some(format!("{}/{earlier}/", self.base_url))
    }

    /// The record's OAI-PMH identifier, as EPrints makes it: `oai:HOST:ID`.
    pub fn oai_identifier(&self, record: &Record) -> String {
        format!("oai:{}:{}", self.oai_host, record.id.unwrap_or(0))
    }

    /// Whether anyone may read the document today (public, embargo over).
    pub fn is_open_access(&self, doc: &Document) -> bool {
        doc.is_open_access(self.today)
    }

    /// The download URL of a file whose bytes this repository holds.
    pub fn file_url(&self, record: &Record, pos: u32, file: &StoredFile) -> Option<String> {
        file.sha256.as_ref()?;
        Some(format!("{}/{}/{pos}/{}", self.base_url, record.id?, crate::eprints::encode_path_segment(&file.filename)))
    }

    /// The documents anyone may read, each with the URL of its main file
    /// (when its bytes are here). Derived documents (thumbnails, extracted
    /// text) are not among them: they are not what was deposited, and a
    /// thumbnail given as a paper's full text would mislead every harvester.
    pub fn open_documents<'r>(
        &'r self,
        record: &'r Record,
    ) -> impl Iterator<Item = (&'r Document, Option<String>)> + 'r {
        record
            .documents
            .iter()
            .filter(|d| d.is_deposited() && self.is_open_access(d))
            .map(move |d| (d, d.main_file().and_then(|f| self.file_url(record, d.pos, f))))
    }
}

/// Writes a list of records in one format. See the module documentation.
pub trait ExportWriter: Send {
    fn begin(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()>;
    fn end(&mut self, _out: &mut dyn Write) -> io::Result<()> {
        Ok(())
    }
}

/// How OAI-PMH serves a format: its `metadataPrefix`, schema and namespace,
/// and the record as one element to embed in `<metadata>` (no XML
/// declaration; the element declares its own namespaces).
#[derive(Clone, Copy)]
pub struct OaiFormat {
    pub prefix: &'static str,
    pub schema: &'static str,
    pub namespace: &'static str,
    pub element: fn(&Record, &ExportContext, &mut String),
}

/// One export format. `id` is the URL segment (`/{id}/export/{format}`) and
/// the name `arkiv export` takes.
#[derive(Clone, Copy)]
pub struct ExportFormat {
    pub id: &'static str,
    /// What a person calls it: "BibTeX", "MODS 3.8".
    pub label: &'static str,
    /// Content-Type of a response, charset included where it applies.
    pub media_type: &'static str,
    /// File name extension of a download, without the dot.
    pub extension: &'static str,
    pub writer: fn(&ExportContext) -> Box<dyn ExportWriter>,
    /// Whether the list form is valid with no record in it. Only MODS's is
    /// not (`modsCollection` needs at least one `mods`); the others have an
    /// empty form their schema or reader accepts (an empty XML root, `[]`,
    /// a CSV header, an empty BibTeX file). Whoever writes a list that may
    /// come out empty checks this first and says "nothing to export" rather
    /// than write what the format refuses; [`write_all`] refuses it too.
    pub list_may_be_empty: bool,
    /// Set for the formats OAI-PMH serves.
    pub oai: Option<OaiFormat>,
}

impl std::fmt::Debug for ExportFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportFormat").field("id", &self.id).finish()
    }
}

/// Every export format, in the order the abstract page lists them.
pub static FORMATS: &[ExportFormat] = &[
    bibtex::BIBTEX,
    bibtex::BIBLATEX,
    ris::RIS,
    refer::REFER,
    csljson::CSL_JSON,
    styles::APA,
    styles::CHICAGO,
    styles::HARVARD,
    styles::MLA,
    styles::IEEE,
    citation::TEXT,
    citation::HTML,
    coins::COINS,
    context_object::CONTEXT_OBJECT,
    dc::DC,
    mods::MODS,
    datacite::DATACITE,
    marcxml::MARCXML,
    EP3,
    jsonld::JSONLD,
    JSON,
    csv::CSV,
];

/// The format with this id.
pub fn find(id: &str) -> Option<&'static ExportFormat> {
    FORMATS.iter().find(|f| f.id == id)
}

/// The formats OAI-PMH serves.
pub fn oai_formats() -> impl Iterator<Item = (&'static ExportFormat, &'static OaiFormat)> {
    FORMATS.iter().filter_map(|f| f.oai.as_ref().map(|o| (f, o)))
}

/// Writes `records` in `format` to `out`: a whole export in one call. No
/// record in a format whose list cannot be empty is an `InvalidInput`
/// error ([`EmptyList`] inside), with nothing written.
pub fn write_all<'r>(
    format: &ExportFormat,
    ctx: &ExportContext,
    records: impl IntoIterator<Item = &'r Record>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut records = records.into_iter().peekable();
    if records.peek().is_none() && !format.list_may_be_empty {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, EmptyList { format: format.label }));
    }
    let mut writer = (format.writer)(ctx);
    writer.begin(out)?;
    for record in records {
        writer.record(record, out)?;
    }
    writer.end(out)
}

/// A list with no record in a format that has no empty list form.
#[derive(Debug, thiserror::Error)]
#[error("no records to export: a {format} list needs at least one record")]
pub struct EmptyList {
    /// The format's label ("MODS 3.8").
    pub format: &'static str,
}

/// Public exports give a file's download URL only for documents anyone may
/// read today: a restricted file's address is not for the public either;
/// and they show the record as the public may see it today
/// (`WriteOptions::public_on`).
fn public_options(ctx: &ExportContext) -> WriteOptions {
    let (base, today) = (ctx.base_url.clone(), ctx.today);
    WriteOptions {
        base_url: Some(ctx.base_url.clone()).filter(|b| !b.is_empty()),
        file_url: Some(Box::new(move |record: &Record, pos: u32, file: &StoredFile| {
            let open = record.document(pos).is_some_and(|d| d.is_open_access(today));
            match (open, base.is_empty(), record.id, &file.sha256) {
                (false, _, _, _) => None,
                (true, false, Some(id), Some(_)) => {
                    Some(format!("{base}/{id}/{pos}/{}", crate::eprints::encode_path_segment(&file.filename)))
                }
                (true, _, _, _) => file.source_url.clone(),
            }
        })),
        public_on: Some(today),
        ..Default::default()
    }
}

/// EPrints 3 XML, as EPrints' own export and OAI-PMH `ep3` write it.
pub const EP3: ExportFormat = ExportFormat {
    id: "ep3",
    label: "EPrints XML",
    media_type: "application/xml; charset=utf-8",
    extension: "xml",
    writer: |ctx| {
        DumpWriter::boxed(
            ctx,
            EprintsWriter::new,
            EprintsWriter::write_record,
            EprintsWriter::get_mut,
            EprintsWriter::finish,
        )
    },
    // An empty `<eprints>`, as EPrints itself writes for no record (EPrints
    // XML has no published schema; the reader reads it back as nothing).
    list_may_be_empty: true,
    oai: Some(OaiFormat {
        prefix: "ep3",
        schema: "http://eprints.org/ep2/data/2.0",
        namespace: crate::EPRINTS_NS,
        element: |record, ctx, out| out.push_str(&crate::record_to_xml(record, &public_options(ctx))),
    }),
};

/// The model's own JSON (an array of records), as `arkiv export json` and
/// `/{id}/export/json` give it.
pub const JSON: ExportFormat = ExportFormat {
    id: "json",
    label: "JSON",
    media_type: "application/json",
    extension: "json",
    writer: |ctx| {
        DumpWriter::boxed(
            ctx,
            JsonArrayWriter::new,
            JsonArrayWriter::write_record,
            JsonArrayWriter::get_mut,
            JsonArrayWriter::finish,
        )
    },
    list_may_be_empty: true,
    oai: None,
};

/// A public export through one of the full dumps' document writers
/// (EPrints XML, the JSON array), which write into a buffer: each call
/// passes on what the buffer took. Function pointers rather than a trait,
/// so that the writers keep their own inherent API.
struct DumpWriter<D> {
    options: WriteOptions,
    start: fn(Vec<u8>) -> io::Result<D>,
    add: fn(&mut D, &Record, &WriteOptions) -> io::Result<()>,
    buffer: fn(&mut D) -> &mut Vec<u8>,
    finish: fn(D) -> io::Result<Vec<u8>>,
    inner: Option<D>,
}

impl<D: Send + 'static> DumpWriter<D> {
    fn boxed(
        ctx: &ExportContext,
        start: fn(Vec<u8>) -> io::Result<D>,
        add: fn(&mut D, &Record, &WriteOptions) -> io::Result<()>,
        buffer: fn(&mut D) -> &mut Vec<u8>,
        finish: fn(D) -> io::Result<Vec<u8>>,
    ) -> Box<dyn ExportWriter> {
        Box::new(DumpWriter { options: public_options(ctx), start, add, buffer, finish, inner: None })
    }
}

impl<D: Send> ExportWriter for DumpWriter<D> {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let mut inner = (self.start)(Vec::new())?;
        out.write_all(&std::mem::take((self.buffer)(&mut inner)))?;
        self.inner = Some(inner);
        Ok(())
    }
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let inner = self.inner.as_mut().expect("begin was called");
        (self.add)(inner, record, &self.options)?;
        out.write_all(&std::mem::take((self.buffer)(inner)))
    }
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        let inner = self.inner.take().expect("begin was called");
        out.write_all(&(self.finish)(inner)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ExportContext {
        ExportContext::example()
    }

    #[test]
    fn ids_are_unique_and_found() {
        for f in FORMATS {
            assert_eq!(FORMATS.iter().filter(|g| g.id == f.id).count(), 1, "{} listed twice", f.id);
            assert!(find(f.id).is_some());
        }
    }

    #[test]
    fn ep3_and_json_lists_parse_back() {
        let mut record = Record::new("article", "A title");
        record.id = Some(7);
        let mut xml = Vec::new();
        write_all(&EP3, &ctx(), [&record, &record], &mut xml).unwrap();
        let read: Vec<_> = crate::EprintsReader::new(&xml[..]).collect();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].result.as_ref().unwrap().record.title, "A title");

        let mut json = Vec::new();
        write_all(&JSON, &ctx(), [&record], &mut json).unwrap();
        let parsed: Vec<Record> = serde_json::from_slice(&json).unwrap();
        assert_eq!(parsed[0].id, Some(7));
    }

    #[test]
    fn public_exports_give_no_url_of_a_restricted_file() {
        let mut record = Record::new("article", "A title");
        record.id = Some(7);
        let file =
            |name: &str| StoredFile { filename: name.into(), sha256: Some("ab".repeat(32)), ..Default::default() };
        let open = Document { pos: 1, files: vec![file("open.pdf")], ..Default::default() };
        let staff = Document {
            pos: 2,
            security: arkiv_model::DocumentSecurity::Staffonly,
            files: vec![file("staff.pdf")],
            ..Default::default()
        };
        let embargoed = Document {
            pos: 3,
            embargo: Some("2999".parse().unwrap()),
            files: vec![file("later.pdf")],
            ..Default::default()
        };
        record.documents = vec![open, staff, embargoed];
        for format in [&EP3, &JSON] {
            let mut out = Vec::new();
            write_all(format, &ctx(), [&record], &mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            if format.id == "ep3" {
                assert!(text.contains("https://repo.example.org/7/1/open.pdf"), "{text}");
            }
            assert!(!text.contains("/7/2/staff.pdf") && !text.contains("/7/3/later.pdf"), "{}: {text}", format.id);
        }
    }

    #[test]
    fn restricted_documents_are_not_open() {
        let mut doc = Document { pos: 1, ..Default::default() };
        assert!(ctx().is_open_access(&doc));
        doc.embargo = Some("2027".parse().unwrap());
        assert!(!ctx().is_open_access(&doc), "embargoed to the end of 2027");
        doc.embargo = Some("2026-11".parse().unwrap());
        assert!(!ctx().is_open_access(&doc), "a month-precision embargo lasts to the month's end");
        doc.embargo = Some("2026-11-28".parse().unwrap());
        assert!(ctx().is_open_access(&doc));
        doc.security = arkiv_model::DocumentSecurity::Validuser;
        assert!(!ctx().is_open_access(&doc));
    }
}
