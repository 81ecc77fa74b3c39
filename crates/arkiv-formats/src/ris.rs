//! Reading RIS, the tagged format EndNote, Zotero and Mendeley export: the
//! inverse of [`crate::export::ris`], one record (`TY` ... `ER`) at a time.
//!
//! Hand-written, as the writer is: RIS is a line format of two-letter tags,
//! and a tag means different fields in different reference types (Zotero's
//! RIS.js `fieldMap`), which no crate reads. This reader takes each tag as
//! the writer gives it, so that what Arkiv exports comes back as it was:
//!
//! * a `RPRT`'s `T2` is its series, `SN` its number, `M3` its kind (the
//!   label of one of the repository's report types, else of a monograph's
//!   subtype, else of any of its types; else plain `report`, the `M3` kept)
//!   and `PB` its issuing body (`institution`); `T3` and `IS` mean nothing
//!   there;
//! * a `CONF`'s `T2` is the event and `C3` the proceedings;
//! * a `THES`'s `M3` is its kind ("Masters thesis" → subtype `masters`) and
//!   `PB` its institution;
//! * otherwise `T2` is the container (a chapter's book, else the journal or
//!   the larger work), `T3` the series, `IS` the number and `SN` an ISSN
//!   (`NNNN-NNNX`) or else an ISBN.
//! * a `BOOK`'s, `THES`'s or `RPRT`'s `SP` without an `EP` is its page
//!   count (`pages`), as the writer gives it and Zotero reads it; anyone
//!   else's `SP` and `EP` are a page range.
//!
//! `AU`/`A1` "Family, Given" is a person; a name without a comma is an
//! organisation (a corporate creator) when it is one word or more than
//! three ("UNESCO", "OSW Centre for Eastern Studies"), else a person whose
//! name is all family name: which word of "Anna Kowalska" is the family
//! name is not guessed. `A3` is a contributor: a thesis's advisor (MARC
//! relator THS), anyone else's contributor (CTB). `L1` links are the
//! documents, one per link, their bytes left for the importer to fetch.
//! A tag no field takes (or a second value of a field that holds one) is
//! kept in `record.extra` as `<XX>value</XX>`, named in
//! [`ImportedRecord::unmapped`] and in a warning, so that nothing read is
//! lost silently.
//!
//! Bad input costs the record it is in, never the file (each is an `Err`
//! item; the records around it read normally):
//!
//! * lines outside a record (a tag before any `TY`, text after an `ER`):
//!   one error at position 0, and everything up to the next `TY` skipped;
//! * a record without `ER`, at the end of the file or before the next `TY`
//!   (which then starts the next record);
//! * a record the model refuses ([`arkiv_model::validate`]: no title, an
//!   unknown item type, text with control characters...);
//! * a line over [`MAX_LINE_BYTES`], a record over [`MAX_RECORD_LINES`]
//!   lines or [`MAX_RECORD_BYTES`] of text: the excess is never held in
//!   memory, the record fails and the reader goes on after its `ER`.
//!
//! Text that is not UTF-8 is read with replacement characters and a
//! warning: RIS files from old EndNote versions come in Windows code pages,
//! and a mangled accent is better than a lost record. Only an I/O error
//! of the input itself stops reading.

use crate::eprints::clip;
use crate::labels::{author, bare_doi, is_web_url, person, report_kind, thesis_kind, Author};
use crate::{FileData, FileSource, ImportedRecord, ReadItem, RecordError};
use arkiv_model::{Contributor, Document, ExtraField, ItemTypes, PartialDate, Record, Status, StoredFile};
use std::io::{self, BufRead};

/// Longest line kept, in bytes; the rest of a longer line is skipped.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// Most lines one record may have, `TY` and `ER` included.
pub const MAX_RECORD_LINES: usize = 10_000;
/// Most text one record may hold, in bytes as read.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

const RELATOR_THESIS_ADVISOR: &str = "http://www.loc.gov/loc.terms/relators/THS";
const RELATOR_CONTRIBUTOR: &str = "http://www.loc.gov/loc.terms/relators/CTB";

/// Reads RIS records; see the module docs. Each item is one record, or the
/// reason the record at that position (or, at position 0, the lines
/// outside any record) could not be read.
pub struct RisReader<R: BufRead> {
    input: R,
    types: ItemTypes,
    buf: Vec<u8>,
    /// Lines read so far: the number of the last one.
    line_no: usize,
    /// `TY` lines seen so far: the position of the current record.
    records: usize,
    /// A `TY` line read while finishing the record before it.
    pending: Option<Line>,
    done: bool,
}

struct Line {
    number: usize,
    kind: LineKind,
    /// Bytes kept (at most [`MAX_LINE_BYTES`]).
    len: usize,
    too_long: bool,
    lossy: bool,
}

enum LineKind {
    Blank,
    Tag([u8; 2], String),
    Text(String),
}

impl<R: BufRead> RisReader<R> {
    /// A reader that takes `M3` labels among the built-in item types.
    pub fn new(reader: R) -> Self {
        Self::with_types(reader, ItemTypes::default())
    }

    /// A reader for a repository with these item types: a report's `M3`
    /// names one of them by its label, and records are checked against them.
    pub fn with_types(reader: R, types: ItemTypes) -> Self {
        RisReader { input: reader, types, buf: Vec::new(), line_no: 0, records: 0, pending: None, done: false }
    }

    /// The next line, at most [`MAX_LINE_BYTES`] of it kept; `None` at the
    /// end of the input.
    fn read_line(&mut self) -> io::Result<Option<Line>> {
        self.buf.clear();
        // Room for the line ending too, which is not part of the limit.
        let cap = MAX_LINE_BYTES + 2;
        let mut dropped = false;
        let mut read_any = false;
        loop {
            let available = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            read_any = true;
            let (used, ends) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            let keep = used.min(cap - self.buf.len());
            dropped |= keep < used;
            self.buf.extend_from_slice(&available[..keep]);
            self.input.consume(used);
            if ends {
                break;
            }
        }
        if !read_any {
            return Ok(None);
        }
        self.line_no += 1;
        let mut bytes: &[u8] = &self.buf;
        if self.line_no == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        while let [rest @ .., b'\n' | b'\r'] = bytes {
            bytes = rest;
        }
        let too_long = dropped || bytes.len() > MAX_LINE_BYTES;
        if too_long {
            bytes = &bytes[..bytes.len().min(MAX_LINE_BYTES)];
        }
        let len = bytes.len();
        let (text, lossy) = match std::str::from_utf8(bytes) {
            Ok(s) => (s.to_string(), false),
            Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
        };
        let kind = if text.trim().is_empty() {
            LineKind::Blank
        } else if let Some((tag, value)) = parse_tag(&text) {
            LineKind::Tag(tag, value.to_string())
        } else {
            LineKind::Text(text)
        };
        Ok(Some(Line { number: self.line_no, kind, len, too_long, lossy }))
    }

    /// The pending line or the next one; an I/O error ends reading.
    fn next_line(&mut self) -> Result<Option<Line>, String> {
        if let Some(line) = self.pending.take() {
            return Ok(Some(line));
        }
        self.read_line().map_err(|e| {
            self.done = true;
            format!("I/O error after line {}: {e}; reading stopped here", self.line_no)
        })
    }

    /// Skips lines outside any record, up to the next `TY`.
    fn stray(&mut self, first: Line) -> ReadItem {
        let what = match &first.kind {
            LineKind::Tag(tag, _) => format!("tag {}", tag_name(tag)),
            _ => "text".to_string(),
        };
        let mut message =
            format!("line {}: {what} outside a record (no TY before it); skipped up to the next TY", first.number);
        loop {
            match self.next_line() {
                Ok(Some(line)) if is_ty(&line) => {
                    self.pending = Some(line);
                    break;
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    message = format!("{message}; {e}");
                    break;
                }
            }
        }
        ReadItem { position: 0, line: Some(first.number), result: Err(RecordError::new(message)) }
    }

    /// Reads the record whose `TY` line is `ty`, up to its `ER`.
    fn read_record(&mut self, ty: Line) -> ReadItem {
        self.records += 1;
        let position = self.records;
        let start = ty.number;
        let fail = |message: String| ReadItem { position, line: Some(start), result: Err(RecordError::new(message)) };
        let mut raw = RawRecord::default();
        raw.add_line(&ty, position);
        if let LineKind::Tag(tag, value) = ty.kind {
            raw.fields.push((tag, value));
        }
        loop {
            let line = match self.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => return fail(format!("record {position} has no ER: the file ends inside it")),
                Err(e) => return fail(format!("record {position}: {e}")),
            };
            if is_ty(&line) {
                let message = format!("record {position} has no ER before the next TY (line {})", line.number);
                self.pending = Some(line);
                return fail(message);
            }
            raw.add_line(&line, position);
            match line.kind {
                LineKind::Tag(tag, _) if &tag == b"ER" => break,
                LineKind::Tag(tag, value) => raw.push(tag, value),
                LineKind::Text(text) => raw.continue_value(&text),
                LineKind::Blank => {}
            }
        }
        let result = match raw.failure.take() {
            Some(message) => Err(message),
            None => map_record(raw, &self.types).and_then(|imported| {
                arkiv_model::validate(&imported.record, &self.types)
                    .map(|()| imported)
                    .map_err(|problems| problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
            }),
        };
        ReadItem {
            position,
            line: Some(start),
            result: result.map_err(|m| RecordError::new(format!("record {position}: {m}"))),
        }
    }
}

impl<R: BufRead> Iterator for RisReader<R> {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        while !self.done {
            let line = match self.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => return Some(ReadItem { position: 0, line: None, result: Err(RecordError::new(e)) }),
            };
            match line.kind {
                LineKind::Blank => {}
                _ if is_ty(&line) => return Some(self.read_record(line)),
                _ => return Some(self.stray(line)),
            }
        }
        None
    }
}

fn is_ty(line: &Line) -> bool {
    matches!(&line.kind, LineKind::Tag(tag, _) if tag == b"TY")
}

fn tag_name(tag: &[u8; 2]) -> &str {
    // parse_tag admits ASCII letters and digits only.
    std::str::from_utf8(tag).unwrap_or("??")
}

/// `XX  - value`: an upper-case letter, an upper-case letter or a digit,
/// one or more spaces (the specification says two; exporters differ), a
/// hyphen, then nothing or a space and the value.
fn parse_tag(line: &str) -> Option<([u8; 2], &str)> {
    let b = line.as_bytes();
    if b.len() < 4 || !b[0].is_ascii_uppercase() || !(b[1].is_ascii_uppercase() || b[1].is_ascii_digit()) {
        return None;
    }
    let spaces = b[2..].iter().take_while(|&&c| c == b' ').count();
    let dash = 2 + spaces;
    if spaces == 0 || b.get(dash) != Some(&b'-') {
        return None;
    }
    match b.get(dash + 1) {
        None => Some(([b[0], b[1]], "")),
        Some(b' ') => Some(([b[0], b[1]], line[dash + 2..].trim())),
        Some(_) => None,
    }
}

/// A record's tags as read, before mapping.
#[derive(Default)]
struct RawRecord {
    fields: Vec<([u8; 2], String)>,
    lines: usize,
    bytes: usize,
    /// Lines that were not UTF-8.
    lossy: Vec<usize>,
    failure: Option<String>,
}

impl RawRecord {
    /// Counts a line against the record's bounds.
    fn add_line(&mut self, line: &Line, position: usize) {
        self.lines += 1;
        self.bytes += line.len;
        if line.too_long {
            self.fail(format!("line {} is longer than {MAX_LINE_BYTES} bytes", line.number));
        } else if self.lines > MAX_RECORD_LINES {
            self.fail(format!("record {position} has more than {MAX_RECORD_LINES} lines"));
        } else if self.bytes > MAX_RECORD_BYTES {
            self.fail(format!("record {position} holds more than {MAX_RECORD_BYTES} bytes of text"));
        }
        if line.lossy && self.lossy.len() < 10 {
            self.lossy.push(line.number);
        }
    }

    fn fail(&mut self, message: String) {
        if self.failure.is_none() {
            self.failure = Some(message);
            // The rest of a failed record is only skipped: what it held
            // so far need not stay in memory until its ER.
            self.fields = Vec::new();
        }
    }

    fn push(&mut self, tag: [u8; 2], value: String) {
        if self.failure.is_none() {
            self.fields.push((tag, value));
        }
    }

    /// A line that is not a tag line continues the value before it, as
    /// exporters wrap long abstracts.
    fn continue_value(&mut self, text: &str) {
        if self.failure.is_some() {
            return;
        }
        if let Some((_, value)) = self.fields.last_mut() {
            if !value.is_empty() {
                value.push(' ');
            }
            value.push_str(text.trim());
        }
    }
}

/// How a reference type reads the tags that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Report,
    Conference,
    Thesis,
    Chapter,
    Other,
}

/// Maps a record's tags to the model; see the module docs for the table.
fn map_record(raw: RawRecord, types: &ItemTypes) -> Result<ImportedRecord, String> {
    let mut fields = raw.fields.into_iter();
    let ty = fields.next().map(|(_, v)| v.trim().to_ascii_uppercase()).unwrap_or_default();
    let mut m = Mapper::default();
    let (kind, item_type) = match ty.as_str() {
        "JOUR" => (Kind::Other, "article"),
        "BOOK" => (Kind::Other, "book"),
        "CHAP" => (Kind::Chapter, "book_section"),
        "CONF" | "CPAPER" => (Kind::Conference, "conference_item"),
        "THES" => (Kind::Thesis, "thesis"),
        "RPRT" => (Kind::Report, "report"),
        "DATA" => (Kind::Other, "dataset"),
        "PAT" => (Kind::Other, "patent"),
        "GEN" => (Kind::Other, "other"),
        _ => {
            m.warn(format!("reference type {:?} read as other", clip(&ty)));
            (Kind::Other, "other")
        }
    };
    // Imported records are the archive's, as EPrints XML's are.
    let mut r = Record { item_type: item_type.into(), status: Status::Archive, ..Default::default() };
    let mut title = None;
    let (mut py, mut da) = (None, None);
    let (mut first_page, mut last_page) = (None, None);
    for (tag, value) in fields {
        if value.is_empty() {
            continue;
        }
        let name = tag_name(&tag);
        match (name, kind) {
            ("AU" | "A1", _) => match author(&value) {
                Author::Person(c) => r.creators.push(c),
                Author::Body(c) => r.corp_creators.push(c),
            },
            ("A2" | "ED", _) => r.editors.push(person(&value)),
            ("A3", _) => {
                let role = if kind == Kind::Thesis { RELATOR_THESIS_ADVISOR } else { RELATOR_CONTRIBUTOR };
                r.contributors.push(Contributor { role: role.into(), person: person(&value) });
            }
            ("TI" | "T1", _) => m.single(&mut title, name, value),
            ("T2", Kind::Report) => m.single(&mut r.series, name, value),
            ("T2", Kind::Conference) => m.single(&mut r.event_title, name, value),
            ("T2", Kind::Chapter) => m.single(&mut r.book_title, name, value),
            ("T2", _) => m.single(&mut r.publication, name, value),
            // EndNote's and Mendeley's journal tags, where T2 is not given.
            ("JF" | "JO", Kind::Other) if r.publication.is_none() => r.publication = Some(value),
            ("C3", Kind::Conference) => m.single(&mut r.publication, name, value),
            // Zotero drops a report's T3 and IS: its series and number are T2 and SN.
            ("T3", kind) if kind != Kind::Report => m.single(&mut r.series, name, value),
            ("IS", kind) if kind != Kind::Report => m.single(&mut r.number, name, value),
            ("SN", Kind::Report) => m.single(&mut r.number, name, value),
            ("SN", _) if is_issn(&value) => m.single(&mut r.issn, name, value),
            ("SN", _) => m.single(&mut r.isbn, name, value),
            ("M3", Kind::Report) => match report_kind(&value, types) {
                Some((item_type, subtype)) => {
                    r.item_type = item_type;
                    r.subtype = subtype;
                }
                None => m.unmapped(name, &value),
            },
            ("M3", Kind::Thesis) => match thesis_kind(&value) {
                Some(subtype) => r.subtype = subtype.map(str::to_string),
                None => m.unmapped(name, &value),
            },
            ("PY" | "Y1", _) => m.date(&mut py, name, &value),
            ("DA", _) => m.date(&mut da, name, &value),
            ("VL", _) => m.single(&mut r.volume, name, value),
            ("SP", _) => m.single(&mut first_page, name, value),
            ("EP", _) => m.single(&mut last_page, name, value),
            // What the writer puts in a report's or thesis's PB is its
            // issuing body.
            ("PB", Kind::Report | Kind::Thesis) => m.single(&mut r.institution, name, value),
            ("PB", _) => m.single(&mut r.publisher, name, value),
            ("CY", _) => m.single(&mut r.place_of_pub, name, value),
            ("DO", _) => match arkiv_model::validate::doi_problem(&value) {
                None => m.single(&mut r.doi, name, bare_doi(&value).to_string()),
                Some(problem) => {
                    m.warn(format!("DO: {problem}"));
                    m.unmapped(name, &value);
                }
            },
            ("UR", _) if is_web_url(&value) => m.single(&mut r.official_url, name, value),
            ("L1", _) => m.file(&mut r, &value),
            ("AB" | "N2", _) => m.single(&mut r.abstract_text, name, value),
            ("KW", _) => r.keywords.push(value),
            ("LA", _) => r.languages.push(value.to_lowercase()),
            ("N1", _) => m.single(&mut r.note, name, value),
            ("ID", _) => {}
            _ => m.unmapped(name, &value),
        }
    }
    r.title = title.unwrap_or_default();
    // DA is the full date; PY, the year, is what older exporters give.
    r.date = match (py, da) {
        (Some(p), Some(d)) if d.precision() > p.precision() => Some(d),
        (p, d) => p.or(d),
    };
    // A book's, thesis's or report's lone `SP` is its page count, as the
    // writer gives it (and Zotero's RIS.js reads it: `numPages`).
    if matches!(ty.as_str(), "BOOK" | "THES" | "RPRT") && last_page.is_none() {
        r.pages = first_page.take();
    }
    r.pagerange = match (first_page, last_page) {
        (Some(first), Some(last)) => Some(format!("{first}-{last}")),
        (first, last) => first.or(last),
    };
    if let Some(first) = raw.lossy.first() {
        m.warn(format!("text that is not UTF-8 (from line {first}) read with replacement characters"));
    }
    r.extra = m.extra;
    Ok(ImportedRecord { record: r, files: m.files, unmapped: m.unmapped, warnings: m.warnings })
}

#[derive(Default)]
struct Mapper {
    warnings: Vec<String>,
    unmapped: Vec<String>,
    extra: Vec<ExtraField>,
    files: Vec<FileSource>,
}

impl Mapper {
    fn warn(&mut self, w: String) {
        // A record may repeat one unknown tag thousands of times; the
        // report needs it once.
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Keeps a value no field takes, as an element the EPrints export
    /// writes back.
    fn unmapped(&mut self, tag: &str, value: &str) {
        self.extra
            .push(ExtraField { name: tag.into(), xml: format!("<{tag}>{}</{tag}>", crate::escape_markup(value)) });
        if !self.unmapped.iter().any(|u| u == tag) {
            self.unmapped.push(tag.into());
            self.warn(format!("tag {tag} has no field in this reference type; kept verbatim"));
        }
    }

    /// A field that holds one value: the first given; a different second
    /// one is kept as unmapped rather than lost.
    fn single(&mut self, field: &mut Option<String>, tag: &str, value: String) {
        match field {
            None => *field = Some(value),
            Some(first) if *first == value => {}
            Some(_) => {
                self.warn(format!("{tag} given more than once; the first is used, the others kept verbatim"));
                self.unmapped(tag, &value);
            }
        }
    }

    fn date(&mut self, field: &mut Option<PartialDate>, tag: &str, value: &str) {
        match parse_date(value) {
            Some(date) if field.is_none() => *field = Some(date),
            Some(date) if *field == Some(date) => {}
            parsed => {
                if parsed.is_none() {
                    self.warn(format!("{tag} {:?} is not a date (YYYY/MM/DD/); kept verbatim", clip(value)));
                }
                self.unmapped(tag, value);
            }
        }
    }

    /// An `L1` link: a document of its own, whose file the importer fetches
    /// (http, https) or finds beside the RIS file (a relative path, a
    /// `file:` URL).
    fn file(&mut self, r: &mut Record, url: &str) {
        let lower = url.to_ascii_lowercase();
        let readable = ["http://", "https://", "file://"].iter().any(|p| lower.starts_with(p));
        // EndNote's `internal-pdf://` and the like name a file inside a
        // library, not a place the importer could read.
        if !readable && url.contains("://") {
            self.warn(format!("L1 {:?} is not a location a file can be read from; left out", clip(url)));
            return;
        }
        let path = url.split(['?', '#']).next().unwrap_or("");
        let segment = path.rsplit(['/', '\\']).next().unwrap_or("");
        let filename = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        let filename = arkiv_model::validate::clean_filename(&filename);
        if !arkiv_model::validate::is_safe_filename(&filename) {
            self.warn(format!("L1 {:?} names no file; left out", clip(url)));
            return;
        }
        let pos = r.documents.len() as u32 + 1;
        r.documents.push(Document {
            pos,
            main: Some(filename.clone()),
            files: vec![StoredFile { filename: filename.clone(), source_url: Some(url.into()), ..Default::default() }],
            ..Default::default()
        });
        self.files.push(FileSource { doc_pos: pos, filename, source: FileData::Url(url.into()) });
    }
}

/// `2014`, `2014/05//`, `2014/05/29/` (a fourth part, RIS's "other
/// information", is ignored); `2014-05-29` too, as some exporters write it.
fn parse_date(value: &str) -> Option<PartialDate> {
    let value = value.trim();
    let sep = if value.contains('/') { '/' } else { '-' };
    let mut parts = value.split(sep).map(str::trim);
    let year = parts.next().filter(|y| y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))?;
    let month = parts.next().filter(|m| !m.is_empty());
    let day = parts.next().filter(|d| !d.is_empty());
    let iso = match (month, day) {
        (Some(m), Some(d)) => format!("{year}-{m:0>2}-{d:0>2}"),
        (Some(m), None) => format!("{year}-{m:0>2}"),
        _ => year.to_string(),
    };
    iso.parse().ok()
}

/// An ISSN's shape, `NNNN-NNNX`; anything else in `SN` is an ISBN.
fn is_issn(value: &str) -> bool {
    let b = value.trim().as_bytes();
    b.len() == 9
        && b[4] == b'-'
        && b[..4].iter().chain(&b[5..8]).all(u8::is_ascii_digit)
        && (b[8].is_ascii_digit() || b[8] == b'X' || b[8] == b'x')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_checks::{err, ok, outline};
    use arkiv_model::PersonName;

    fn read(text: &str) -> Vec<ReadItem> {
        RisReader::new(text.as_bytes()).collect()
    }

    const ARTICLE: &str = "TY  - JOUR
AU  - Jaroslewicz, Aleksandra
AU  - Kowalska, Anna
AU  - OSW Centre for Eastern Studies
TI  - Kazakhstan's attitude towards integration with Russia
T2  - Journal of Eurasian Studies
PY  - 2014
DA  - 2014/05//
VL  - 5
IS  - 2
SP  - 101
EP  - 117
SN  - 1879-3665
PB  - Elsevier
CY  - Amsterdam
DO  - https://doi.org/10.1016/j.euras.2014.05.001
UR  - https://www.sciencedirect.com/science/article/pii/S1879366514000207
L1  - https://repo.example.org/7/1/my%20paper.pdf
AB  - Less love,
more fear.
KW  - Kazakhstan
KW  - Eurasian Economic Union
LA  - EN
N1  - Open access.
M1  - 12
ER  - 
";

    #[test]
    fn proceedings_without_an_event_come_back_as_proceedings() {
        let mut paper = Record::new("conference_item", "Pipelines");
        paper.publication = Some("Proceedings of the Forum".into());
        let mut text = String::new();
        crate::export::ris::write_record(&paper, &crate::export::ExportContext::example(), &mut text);
        assert!(text.contains("C3  - Proceedings of the Forum\r\n") && !text.contains("T2  - "), "{text}");
        let items = read(&text);
        let r = &ok(&items[0]).record;
        assert_eq!((r.publication.as_deref(), r.event_title.as_deref()), (Some("Proceedings of the Forum"), None));
    }

    #[test]
    fn a_page_count_comes_back() {
        let ctx = crate::export::ExportContext::example();
        let mut book = Record::new("book", "A long book");
        book.pages = Some("412".into());
        let mut thesis = Record::new("thesis", "A thesis");
        thesis.pages = Some("180".into());
        let mut chapter = Record::new("book_section", "A chapter");
        chapter.pages = Some("30".into());
        chapter.pagerange = Some("5-34".into());
        let mut text = String::new();
        for r in [&book, &thesis, &chapter] {
            crate::export::ris::write_record(r, &ctx, &mut text);
        }
        let items = read(&text);
        assert_eq!(ok(&items[0]).record.pages.as_deref(), Some("412"));
        assert_eq!(ok(&items[0]).record.pagerange, None);
        assert_eq!(ok(&items[1]).record.pages.as_deref(), Some("180"));
        // A part's pages are its range; its page count is not written.
        assert_eq!(ok(&items[2]).record.pagerange.as_deref(), Some("5-34"));
        // A book's first and last page stay a range.
        let items = read("TY  - BOOK\r\nTI  - Pages\r\nSP  - 3\r\nEP  - 9\r\nER  - \r\n");
        assert_eq!(
            (ok(&items[0]).record.pagerange.as_deref(), ok(&items[0]).record.pages.as_deref()),
            (Some("3-9"), None)
        );
    }

    #[test]
    fn a_zotero_journal_article() {
        let items = read(ARTICLE);
        assert_eq!(outline(&items), [(1, true)]);
        assert_eq!(items[0].line, Some(1));
        let imported = ok(&items[0]);
        let r = &imported.record;
        assert_eq!(r.item_type, "article");
        assert_eq!(r.status, Status::Archive);
        assert_eq!(r.title, "Kazakhstan's attitude towards integration with Russia");
        let names: Vec<_> = r.creators.iter().map(|c| c.name.inverted()).collect();
        assert_eq!(names, ["Jaroslewicz, Aleksandra", "Kowalska, Anna"]);
        assert_eq!(r.corp_creators[0].name, "OSW Centre for Eastern Studies");
        assert_eq!(r.publication.as_deref(), Some("Journal of Eurasian Studies"));
        assert_eq!(r.date.unwrap().to_string(), "2014-05", "DA is more precise than PY");
        assert_eq!((r.volume.as_deref(), r.number.as_deref()), (Some("5"), Some("2")));
        assert_eq!(r.pagerange.as_deref(), Some("101-117"));
        assert_eq!((r.issn.as_deref(), r.isbn.as_deref()), (Some("1879-3665"), None));
        assert_eq!((r.publisher.as_deref(), r.institution.as_deref()), (Some("Elsevier"), None));
        assert_eq!(r.place_of_pub.as_deref(), Some("Amsterdam"));
        assert_eq!(r.doi.as_deref(), Some("10.1016/j.euras.2014.05.001"));
        assert!(r.official_url.as_deref().unwrap().starts_with("https://www.sciencedirect.com/"));
        assert_eq!(r.abstract_text.as_deref(), Some("Less love, more fear."));
        assert_eq!(r.keywords, ["Kazakhstan", "Eurasian Economic Union"]);
        assert_eq!(r.languages, ["en"]);
        assert_eq!(r.note.as_deref(), Some("Open access."));
        assert_eq!(
            imported.files,
            [FileSource {
                doc_pos: 1,
                filename: "my paper.pdf".into(),
                source: FileData::Url("https://repo.example.org/7/1/my%20paper.pdf".into()),
            }]
        );
        assert_eq!(r.documents.len(), 1);
        assert_eq!(r.documents[0].files[0].filename, "my paper.pdf");
        assert_eq!(imported.unmapped, ["M1"]);
        assert_eq!(r.extra, [ExtraField { name: "M1".into(), xml: "<M1>12</M1>".into() }]);
        assert!(imported.warnings.iter().any(|w| w.contains("M1")), "{:?}", imported.warnings);
    }

    #[test]
    fn a_policy_paper_with_its_series_and_number() {
        let text = "TY  - RPRT
AU  - Menkiszak, Marek
TI  - Russia's long war
T2  - OSW Commentary
SN  - 137
M3  - policy paper
PB  - Centre for Eastern Studies
DA  - 2014/05/29/
PY  - 2014
ER  - 

TY  - RPRT
TI  - Grid stability
M3  - Technical Report
ER  - 

TY  - RPRT
TI  - A kind no one has
M3  - Briefing note
ER  - 
";
        let items = read(text);
        assert_eq!(outline(&items), [(1, true), (2, true), (3, true)]);
        let paper = &ok(&items[0]).record;
        assert_eq!(paper.item_type, "policy_paper");
        assert_eq!((paper.series.as_deref(), paper.number.as_deref()), (Some("OSW Commentary"), Some("137")));
        assert_eq!(paper.institution.as_deref(), Some("Centre for Eastern Studies"));
        assert_eq!(paper.publisher, None);
        assert_eq!(paper.isbn, None);
        assert_eq!(paper.date.unwrap().to_string(), "2014-05-29");
        let monograph = &ok(&items[1]).record;
        assert_eq!(
            (monograph.item_type.as_str(), monograph.subtype.as_deref()),
            ("monograph", Some("technical_report"))
        );
        let other = ok(&items[2]);
        assert_eq!(other.record.item_type, "report");
        assert_eq!(other.unmapped, ["M3"]);
    }

    #[test]
    fn per_type_tags() {
        let text = "TY  - CONF
TI  - Pipelines
T2  - Astana Energy Forum
C3  - Proceedings of the Forum
T3  - Energy Series
ER  - 
TY  - THES
TI  - Water and power
A3  - Baimukhamedov, Erlan
M3  - Masters thesis
PB  - Nazarbayev University
ER  - 
TY  - CHAP
TI  - A chapter
T2  - The Book
A2  - Editor, Ed
SN  - 978-3-16-148410-0
ER  - 
TY  - WEIRD
TI  - Something
AU  - UNESCO
AU  - Anna Kowalska
ER  - 
";
        let items = read(text);
        assert_eq!(outline(&items), [(1, true), (2, true), (3, true), (4, true)]);
        let conf = &ok(&items[0]).record;
        assert_eq!(conf.event_title.as_deref(), Some("Astana Energy Forum"));
        assert_eq!(conf.publication.as_deref(), Some("Proceedings of the Forum"));
        assert_eq!(conf.series.as_deref(), Some("Energy Series"));
        let thesis = &ok(&items[1]).record;
        assert_eq!(thesis.subtype.as_deref(), Some("masters"));
        assert_eq!(thesis.institution.as_deref(), Some("Nazarbayev University"));
        assert_eq!(thesis.contributors[0].role, RELATOR_THESIS_ADVISOR);
        let chapter = &ok(&items[2]).record;
        assert_eq!(chapter.book_title.as_deref(), Some("The Book"));
        assert_eq!(chapter.isbn.as_deref(), Some("978-3-16-148410-0"));
        assert_eq!(chapter.editors[0].name.inverted(), "Editor, Ed");
        let other = ok(&items[3]);
        assert_eq!(other.record.item_type, "other");
        assert!(other.warnings.iter().any(|w| w.contains("WEIRD")));
        assert_eq!(other.record.corp_creators[0].name, "UNESCO");
        assert_eq!(other.record.creators[0].name, PersonName::new("Anna Kowalska", ""));
    }

    #[test]
    fn a_wrapped_abstract_continues() {
        let text = "TY  - GEN\nTI  - A title\n   that wraps\nAB  - First line\nsecond line\n\n  third line\nER  -\n";
        let items = read(text);
        let r = &ok(&items[0]).record;
        assert_eq!(r.title, "A title that wraps");
        assert_eq!(r.abstract_text.as_deref(), Some("First line second line third line"));
    }

    #[test]
    fn a_tag_before_any_ty_costs_only_the_lines_before_the_next_ty() {
        let text =
            "AU  - Stray, Tag\nTI  - No type\n\nTY  - GEN\nTI  - First\nER  - \nTY  - GEN\nTI  - Second\nER  - \n";
        let items = read(text);
        assert_eq!(outline(&items), [(0, false), (1, true), (2, true)]);
        assert!(err(&items[0]).contains("tag AU outside a record"), "{}", err(&items[0]));
        assert_eq!(items[0].line, Some(1));
        assert_eq!((items[1].line, items[2].line), (Some(4), Some(7)));
        assert_eq!(ok(&items[2]).record.title, "Second");
    }

    #[test]
    fn a_record_cut_off_by_the_end_of_the_file() {
        let items = read("TY  - GEN\nTI  - First\nER  - \nTY  - GEN\nTI  - Cut off\n");
        assert_eq!(outline(&items), [(1, true), (2, false)]);
        assert_eq!(err(&items[1]), "record 2 has no ER: the file ends inside it");
        assert_eq!(items[1].line, Some(4));
    }

    #[test]
    fn a_record_cut_off_by_the_next_ty() {
        let text = "TY  - GEN\nTI  - First\nER  - \nTY  - GEN\nTI  - No end\nTY  - GEN\nTI  - Third\nER  - \n";
        let items = read(text);
        assert_eq!(outline(&items), [(1, true), (2, false), (3, true)]);
        assert!(err(&items[1]).contains("no ER before the next TY (line 6)"), "{}", err(&items[1]));
        assert_eq!(ok(&items[2]).record.title, "Third");
        assert_eq!(items[2].line, Some(6));
    }

    #[test]
    fn a_record_without_a_title_is_refused() {
        let text =
            "TY  - GEN\nTI  - First\nER  - \nTY  - JOUR\nAU  - Nobody, Anne\nER  - \nTY  - GEN\nTI  - Third\nER  - \n";
        let items = read(text);
        assert_eq!(outline(&items), [(1, true), (2, false), (3, true)]);
        assert!(err(&items[1]).contains("title"), "{}", err(&items[1]));
        // The model's other rules too: a control character.
        let items = read("TY  - GEN\nTI  - Bell \u{7}\nER  - \n");
        assert!(err(&items[0]).contains("control"), "{}", err(&items[0]));
    }

    #[test]
    fn a_line_of_two_mebibytes_costs_its_record() {
        let long = "x".repeat(2 << 20);
        let text = format!("TY  - GEN\nTI  - First\nER  - \nTY  - GEN\nTI  - Long\nAB  - {long}\nKW  - k\nER  - \nTY  - GEN\nTI  - Third\nER  - \n");
        let items = read(&text);
        assert_eq!(outline(&items), [(1, true), (2, false), (3, true)]);
        assert!(err(&items[1]).contains("line 6 is longer than"), "{}", err(&items[1]));
        assert_eq!(items[2].line, Some(9));
        // A line of exactly the limit is kept.
        let exact = format!("TY  - GEN\nTI  - {}\nER  - \n", "y".repeat(MAX_LINE_BYTES - 6));
        let items = read(&exact);
        assert!(err(&items[0]).contains("title: longer than"), "the model's bound, not the line's");
    }

    #[test]
    fn a_record_past_the_bounds_is_skipped_to_its_er() {
        let mut text = String::from("TY  - GEN\nTI  - Many\n");
        for i in 0..MAX_RECORD_LINES {
            text.push_str(&format!("KW  - k{i}\n"));
        }
        text.push_str("ER  - \nTY  - GEN\nTI  - After\nER  - \n");
        let items = read(&text);
        assert_eq!(outline(&items), [(1, false), (2, true)]);
        assert!(err(&items[0]).contains("more than 10000 lines"), "{}", err(&items[0]));

        let line = format!("AB  - {}\n", "z".repeat(MAX_LINE_BYTES - 16));
        let mut text = String::from("TY  - GEN\nTI  - Big\n");
        for _ in 0..17 {
            text.push_str(&line);
        }
        text.push_str("ER  - \nTY  - GEN\nTI  - After\nER  - \n");
        let items = read(&text);
        assert_eq!(outline(&items), [(1, false), (2, true)]);
        assert!(err(&items[0]).contains("bytes of text"), "{}", err(&items[0]));
    }

    #[test]
    fn crlf_a_bom_and_latin1() {
        let text = "\u{feff}TY  - JOUR\r\nTI  - Windows\r\nAB  - wrapped\r\n line\r\nER  - \r\n\r\n";
        let items = read(text);
        assert_eq!(outline(&items), [(1, true)]);
        let r = &ok(&items[0]).record;
        assert_eq!((r.title.as_str(), r.abstract_text.as_deref()), ("Windows", Some("wrapped line")));

        let latin1: &[u8] = b"TY  - GEN\r\nTI  - Caf\xe9\r\nER  - \r\n";
        let items: Vec<_> = RisReader::new(latin1).collect();
        let imported = ok(&items[0]);
        assert_eq!(imported.record.title, "Caf\u{fffd}");
        assert!(imported.warnings.iter().any(|w| w.contains("not UTF-8")), "{:?}", imported.warnings);
    }

    #[test]
    fn tag_lines_are_read_leniently() {
        assert_eq!(parse_tag("TY  - JOUR"), Some((*b"TY", "JOUR")));
        assert_eq!(parse_tag("A1 - Family, Given"), Some((*b"A1", "Family, Given")));
        assert_eq!(parse_tag("ER  -"), Some((*b"ER", "")));
        assert_eq!(parse_tag("ER  - "), Some((*b"ER", "")));
        assert_eq!(parse_tag("ab  - x"), None);
        assert_eq!(parse_tag("TY - -x"), Some((*b"TY", "-x")));
        assert_eq!(parse_tag("TY  -JOUR"), None);
        assert_eq!(parse_tag("1A  - x"), None);
    }

    #[test]
    fn dates_and_identifiers() {
        let d = |s: &str| parse_date(s).map(|d| d.to_string());
        assert_eq!(d("2014").as_deref(), Some("2014"));
        assert_eq!(d("2014///").as_deref(), Some("2014"));
        assert_eq!(d("2014/05//").as_deref(), Some("2014-05"));
        assert_eq!(d("2014/5/9/Spring").as_deref(), Some("2014-05-09"));
        assert_eq!(d("2014-05-29").as_deref(), Some("2014-05-29"));
        assert_eq!(d("2014/13//"), None);
        assert_eq!(d("Spring 2014"), None);
        assert!(is_issn("0028-0836") && is_issn("2049-363x") && !is_issn("978-3-16-148410-0"));
    }
}
