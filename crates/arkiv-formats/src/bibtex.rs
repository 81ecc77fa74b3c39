//! Reading BibTeX and BibLaTeX: the inverse of [`crate::export::bibtex`],
//! one entry (`@type{key, field = value, ...}` or `@type(...)`) at a time.
//!
//! The input is cut into entries by a small scanner of its own, which
//! balances braces (and quotes, in an entry delimited by parentheses) and
//! holds at most one entry of at most [`MAX_ENTRY_BYTES`]; each entry is
//! then parsed on its own by the `biblatex` crate, which turns its LaTeX
//! into Unicode text: accents (`{\"o}`, `\'e` → ö, é), `--` and `---`
//! (en and em dash: a page range `12--34` reads `12-34`), escaped
//! specials (`\&`, `\textbackslash{}`), and braces that protect case
//! dropped (`{Kazakhstan's} attitude` → `Kazakhstan's attitude`). Text
//! between entries is ignored, as BibTeX ignores it; so are `@comment`
//! and `@preamble`. `@string` definitions apply to the entries after them,
//! as in BibTeX: each is expanded when it is defined, from the strings
//! defined before it, so a string that names itself or one defined after
//! it (`@string{a = b # a}`, `a` ↔ `b`) is undefined there, never a loop.
//! `jan` ... `dec` are the months when no `@string` says otherwise.
//!
//! Entry types, as the export writes them and as other tools do:
//!
//! | entry | item type |
//! |---|---|
//! | `article` | `article` (`journal`/`journaltitle` → `publication`) |
//! | `book`, `mvbook`, `collection`, `proceedings` | `book` |
//! | `incollection`, `inbook`, `inreference` | `book_section` (`booktitle` → `book_title`) |
//! | `inproceedings`, `conference` | `conference_item` (`booktitle` → `publication`, the proceedings) |
//! | `phdthesis`, `mastersthesis`, `thesis` | `thesis`, subtype `doctoral`/`masters` (BibLaTeX's `type` `phdthesis`/`mathesis`) |
//! | `techreport`, `report` | `report`, or the type its `type` names (below) |
//! | `dataset`, `patent` | `dataset`, `patent` |
//! | `misc`, `booklet`, `manual`, `unpublished`, `online`, `electronic`, `www` | `other` (`howpublished` → `publication`) |
//! | anything else | `other`, with a warning |
//!
//! A report's `type` is read as RIS's `M3` is: the label of one of the
//! repository's report types ("Policy Paper"), else of a monograph's
//! subtype ("Technical Report"), else of any of its types; else it is the
//! report's series (the export writes the series there when there is one,
//! for styles that print "type number": "OSW Commentary 137").
//!
//! Fields: `author` (people and, in double braces `{{UNESCO}}`, bodies:
//! corporate creators), `editor`, `title`, `series`, `volume`, `number`
//! (`issue` too), `pages` → `pagerange`, `pagetotal` → `pages`,
//! `publisher`, `institution`/`school` → `institution`,
//! `address`/`location` → `place_of_pub`, `year` + `month` or
//! BibLaTeX's `date` (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`; the start of a
//! range), `eventtitle` → `event_title`, `organization` (the event of a
//! BibTeX `@inproceedings`, which is how the export writes it; else the
//! institution), `doi` (bare), `url` → `official_url`, `isbn`, `issn`,
//! `eprint` with `eprinttype = arxiv` → `id_number` `arXiv:...`,
//! `abstract`, `keywords` (split at commas and semicolons), `note`,
//! `langid`/`language` → `languages` (ISO 639-1: babel's names of the
//! common languages become codes, anything else is kept lowercased).
//! Names are read as BibTeX reads them: "Family, Given", "Given Family",
//! "von Family, Given" (the particle kept with the family name), "Family,
//! Jr, Given" (the suffix kept with the given names).
//!
//! A field no model field takes (or a second value of a field that holds
//! one: `journal` and `journaltitle`), `crossref` and `xdata` among them
//! (parents are not looked up), is kept in `record.extra` as
//! `<name>text</name>`, named in [`ImportedRecord::unmapped`] and in a
//! warning, so that nothing read is lost silently. The entry's key is not
//! kept (Arkiv makes its own keys from the record); it names the entry in
//! its error messages.
//!
//! Bad input costs the entry it is in, never the file (each is an `Err`
//! item with the entry's position and line; the entries around it read
//! normally):
//!
//! * an entry that does not close (unbalanced braces) before the next line
//!   that starts with `@`, or before the end of the file: reading goes on
//!   at that `@`;
//! * an entry over [`MAX_ENTRY_BYTES`] (never held beyond the bound) or
//!   with braces nested deeper than [`MAX_BRACE_DEPTH`];
//! * an entry `biblatex` cannot parse (a missing comma or `=`, a closing
//!   brace with no opening one), or one that uses an undefined `@string`
//!   or one whose definition failed;
//! * an entry the model refuses ([`arkiv_model::validate`]: no title, text
//!   with control characters...).
//!
//! A `@string`, `@comment` or `@preamble` that cannot be read is an error
//! at position 0 (it is no record); a string over [`MAX_ENTRY_BYTES`]
//! once expanded, or past [`MAX_STRING_BYTES`] of strings in all, is
//! refused there too. Text that is not UTF-8 is read with replacement
//! characters and a warning (`.bib` files from old tools come in Latin-1).
//! Only an I/O error of the input itself stops reading.

use crate::eprints::clip;
use crate::export::fields;
use crate::labels::{bare_doi, is_web_url, report_kind, thesis_kind};
use crate::{ImportedRecord, ReadItem, RecordError};
use arkiv_model::{CorporateCreator, Creator, ExtraField, ItemTypes, PartialDate, PersonName, Record, Status};
use biblatex::{Chunk, Chunks, ChunksExt, Pair, RawBibliography, RawChunk, Spanned};
use std::collections::HashMap;
use std::io::{self, BufRead};

/// Most bytes one entry (or `@string`) may hold, from its `@` to its
/// closing brace.
pub const MAX_ENTRY_BYTES: usize = 1 << 20;
/// Deepest nesting of braces in an entry, its own braces included.
pub const MAX_BRACE_DEPTH: usize = 64;
/// Most bytes of expanded `@string` text a file may define in all.
pub const MAX_STRING_BYTES: usize = 16 << 20;

/// Reads BibTeX and BibLaTeX entries; see the module docs. Each item is one
/// entry, or the reason the entry at that position (or, at position 0, a
/// `@string`, `@comment` or `@preamble`) could not be read.
pub struct BibtexReader<R: BufRead> {
    input: R,
    types: ItemTypes,
    /// Line of the next byte.
    line: usize,
    /// Only spaces and tabs since the last line break.
    at_line_start: bool,
    /// An `@` at the start of a line, read while finishing the entry before
    /// it: the line where the next entry starts.
    pending_at: Option<usize>,
    /// Entries seen so far: the position of the current one.
    entries: usize,
    /// `@string` names (lowercased): the expanded text, or why it has none.
    strings: HashMap<String, Result<String, String>>,
    string_bytes: usize,
    done: bool,
}

/// One `@...` as the scanner cut it out.
struct Scanned {
    line: usize,
    /// The entry type, lowercased.
    kind: String,
    /// `@kind{...}`, parentheses turned into braces; empty after a failure.
    text: Vec<u8>,
    failure: Option<String>,
}

impl<R: BufRead> BibtexReader<R> {
    /// A reader that takes report types among the built-in item types.
    pub fn new(reader: R) -> Self {
        Self::with_types(reader, ItemTypes::default())
    }

    /// A reader for a repository with these item types: a report's `type`
    /// names one of them by its label, and records are checked against them.
    pub fn with_types(reader: R, types: ItemTypes) -> Self {
        BibtexReader {
            input: reader,
            types,
            line: 1,
            at_line_start: true,
            pending_at: None,
            entries: 0,
            strings: HashMap::new(),
            string_bytes: 0,
            done: false,
        }
    }

    /// The next byte, `None` at the end; counts lines.
    fn byte(&mut self) -> io::Result<Option<u8>> {
        let b = loop {
            match self.input.fill_buf() {
                Ok([]) => return Ok(None),
                Ok(buf) => break buf[0],
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        self.input.consume(1);
        if b == b'\n' {
            self.line += 1;
            self.at_line_start = true;
        } else if b != b' ' && b != b'\t' && b != b'\r' {
            self.at_line_start = false;
        }
        Ok(Some(b))
    }

    /// Skips text up to the next `@` and reads what follows it; `None` at
    /// the end of the input.
    fn scan(&mut self) -> io::Result<Option<Scanned>> {
        loop {
            let line = match self.pending_at.take() {
                Some(line) => line,
                None => loop {
                    match self.byte()? {
                        None => return Ok(None),
                        Some(b'@') => break self.line,
                        Some(_) => {}
                    }
                },
            };
            // The type: letters, digits and a few others, then `{` or `(`.
            let mut kind = String::new();
            let open = loop {
                match self.byte()? {
                    None => return Ok(None),
                    Some(b) if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                        if kind.len() < 64 {
                            kind.push(b.to_ascii_lowercase() as char);
                        }
                    }
                    Some(b' ' | b'\t' | b'\r' | b'\n') => {}
                    Some(b @ (b'{' | b'(')) if !kind.is_empty() => break b,
                    Some(b'@') => {
                        // `@@article{`, or an `@` in text: start again here.
                        self.pending_at = Some(self.line);
                        break 0;
                    }
                    Some(_) => break 0,
                }
            };
            if open == 0 {
                // Not an entry: text between entries.
                continue;
            }
            return self.body(line, kind, open).map(Some);
        }
    }

    /// Reads an entry's body up to its closing delimiter.
    fn body(&mut self, line: usize, kind: String, open: u8) -> io::Result<Scanned> {
        let mut text = Vec::with_capacity(256);
        text.push(b'@');
        text.extend_from_slice(kind.as_bytes());
        text.push(b'{');
        let mut failure = None;
        let mut depth = 0usize;
        let mut in_quote = false;
        let fail = |failure: &mut Option<String>, text: &mut Vec<u8>, message: String| {
            if failure.is_none() {
                *failure = Some(message);
                *text = Vec::new();
            }
        };
        loop {
            let at_start = self.at_line_start;
            let Some(b) = self.byte()? else {
                fail(&mut failure, &mut text, "the file ends inside it (unbalanced braces?)".into());
                break;
            };
            if b == b'@' && at_start {
                let message = format!("it does not close before line {}, where the next entry starts", self.line);
                fail(&mut failure, &mut text, message);
                self.pending_at = Some(self.line);
                break;
            }
            let mut keep = b;
            match b {
                b'\\' => {
                    // An escaped character is no delimiter (as biblatex reads it).
                    push(&mut text, &failure, b);
                    match self.byte()? {
                        Some(next) => keep = next,
                        None => continue,
                    }
                }
                b'{' => {
                    depth += 1;
                    if depth + 1 > MAX_BRACE_DEPTH {
                        fail(&mut failure, &mut text, format!("braces nested deeper than {MAX_BRACE_DEPTH}"));
                    }
                }
                b'}' if depth == 0 && open == b'{' => {
                    text.push(b'}');
                    break;
                }
                b'}' if depth == 0 => fail(&mut failure, &mut text, "a closing brace with no opening one".into()),
                b'}' => depth -= 1,
                b'"' if depth == 0 => in_quote = !in_quote,
                b')' if depth == 0 && !in_quote && open == b'(' => {
                    text.push(b'}');
                    break;
                }
                _ => {}
            }
            push(&mut text, &failure, keep);
            if failure.is_none() && text.len() > MAX_ENTRY_BYTES {
                fail(&mut failure, &mut text, format!("it holds more than {MAX_ENTRY_BYTES} bytes"));
            }
        }
        Ok(Scanned { line, kind, text, failure })
    }

    /// A `@string`'s definitions, expanded now from the strings before it.
    fn define(&mut self, text: &str) -> Result<(), String> {
        let raw = RawBibliography::parse(text).map_err(|e| format!("cannot be read: {}", e.kind))?;
        for pair in raw.abbreviations {
            let name = pair.key.v.to_lowercase();
            let mut value = String::new();
            let mut broken = None;
            for chunk in &pair.value.v {
                match chunk.v {
                    RawChunk::Normal(s) => value.push_str(s),
                    RawChunk::Abbreviation(a) => match self.strings.get(&a.to_lowercase()) {
                        Some(Ok(s)) => value.push_str(s),
                        Some(Err(_)) => {
                            broken.get_or_insert(format!("@string {a} is not usable"));
                        }
                        None => match month_name(a) {
                            Some(m) => value.push_str(m),
                            None => {
                                broken.get_or_insert(format!("@string {a} is not defined before it"));
                            }
                        },
                    },
                }
                if value.len() > MAX_ENTRY_BYTES {
                    broken.get_or_insert(format!("longer than {MAX_ENTRY_BYTES} bytes"));
                    value = String::new();
                }
            }
            let old = self.strings.get(&name).and_then(|v| v.as_ref().ok()).map_or(0, String::len);
            if broken.is_none() && self.string_bytes - old + value.len() > MAX_STRING_BYTES {
                broken = Some(format!("the file's strings hold more than {MAX_STRING_BYTES} bytes"));
            }
            let entry = match broken {
                Some(why) => Err(format!("@string {} refers to {why}", pair.key.v)),
                None => Ok(value),
            };
            self.string_bytes -= old;
            self.string_bytes += entry.as_ref().map_or(0, String::len);
            let failed = entry.as_ref().err().cloned();
            self.strings.insert(name, entry);
            if let Some(why) = failed {
                return Err(why);
            }
        }
        Ok(())
    }

    /// Parses and maps one entry's text.
    fn entry(&self, text: &str, kind: &str) -> Result<ImportedRecord, String> {
        let mut raw = RawBibliography::parse(text).map_err(|e| parse_error(text, &e))?;
        let Some(mut entry) = raw.entries.pop().map(|e| e.v) else {
            return Err("no entry could be read".into());
        };
        let key = entry.key.v.to_string();
        let with_key = |m: String| if key.is_empty() { m } else { format!("{key}: {m}") };
        // `crossref` and `xdata` are kept verbatim, not followed: an entry
        // read alone has no parent, and one naming itself would loop.
        let mut links = Vec::new();
        // DOIs and URLs are read as written: biblatex would turn a `--` in
        // them into an en dash, as it does in text.
        let raw_verbatim: Vec<(String, String)> = entry
            .fields
            .iter()
            .map(|p| (p.key.v.to_ascii_lowercase(), &p.value.v))
            .filter(|(name, value)| {
                (name == "doi" || name == "url") && value.iter().all(|c| matches!(c.v, RawChunk::Normal(_)))
            })
            .map(|(name, value)| (name, raw_text(value)))
            .collect();
        entry.fields.retain(|p| {
            let name = p.key.v.to_ascii_lowercase();
            let keep = name != "crossref" && name != "xdata";
            if !keep {
                links.push((name, raw_text(&p.value.v)));
            }
            keep
        });
        // The strings it uses, each given as the text it was defined as.
        let mut abbreviations: Vec<Pair<'_>> = Vec::new();
        for pair in &entry.fields {
            for chunk in &pair.value.v {
                if let RawChunk::Abbreviation(a) = chunk.v {
                    match self.strings.get(&a.to_lowercase()) {
                        Some(Ok(value)) => {
                            if !abbreviations.iter().any(|p| p.key.v == a) {
                                let value = vec![Spanned::zero(RawChunk::Normal(value.as_str()))];
                                abbreviations.push(Pair::new(Spanned::zero(a), Spanned::zero(value)));
                            }
                        }
                        Some(Err(why)) => return Err(with_key(format!("uses @string {a}, which failed: {why}"))),
                        None if month_name(a).is_some() => {}
                        None => {
                            return Err(with_key(format!("uses @string {a}, which is not defined before it")));
                        }
                    }
                }
            }
        }
        raw.entries = vec![Spanned::zero(entry)];
        raw.abbreviations = abbreviations;
        let bib = biblatex::Bibliography::from_raw(raw).map_err(|e| with_key(parse_error(text, &e)))?;
        let entry = bib.into_vec().pop().ok_or("no entry could be read")?;
        let mut fields: Vec<(String, Chunks)> = entry.fields.into_iter().collect();
        for (name, chunks) in &mut fields {
            if let Some((_, raw)) = raw_verbatim.iter().find(|(n, _)| n == name) {
                *chunks = vec![Spanned::zero(Chunk::Verbatim(raw.clone()))];
            }
        }
        // Keep the order stable but deterministic (biblatex sorts by name).
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        let imported = map_entry(kind, fields, links, &self.types);
        arkiv_model::validate(&imported.record, &self.types)
            .map(|()| imported)
            .map_err(|problems| with_key(problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")))
    }
}

fn push(text: &mut Vec<u8>, failure: &Option<String>, b: u8) {
    if failure.is_none() {
        text.push(b);
    }
}

/// biblatex's error, with the line of the entry it is on.
fn parse_error(text: &str, e: &biblatex::ParseError) -> String {
    let at = e.span.start.min(text.len());
    let line = text.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
    if line == 0 {
        format!("cannot be read: {}", e.kind)
    } else {
        format!("cannot be read: {} ({} lines into the entry)", e.kind, line)
    }
}

/// A raw field's text as written (for `crossref` and `xdata`, DOIs and URLs).
fn raw_text(field: &biblatex::Field<'_>) -> String {
    field
        .iter()
        .map(|c| match c.v {
            RawChunk::Normal(s) | RawChunk::Abbreviation(s) => s,
        })
        .collect::<Vec<_>>()
        .join(" # ")
}

fn month_name(abbr: &str) -> Option<&'static str> {
    let lower = abbr.to_ascii_lowercase();
    fields::MONTHS.iter().position(|m| *m == lower).map(|i| arkiv_model::date::MONTH_NAMES[i])
}

impl<R: BufRead> Iterator for BibtexReader<R> {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        while !self.done {
            let scanned = match self.scan() {
                Ok(Some(s)) => s,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    let message = format!("I/O error at line {}: {e}; reading stopped here", self.line);
                    return Some(ReadItem {
                        position: 0,
                        line: Some(self.line),
                        result: Err(RecordError::new(message)),
                    });
                }
            };
            let line = Some(scanned.line);
            let (text, lossy) = match String::from_utf8(scanned.text) {
                Ok(s) => (s, false),
                Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
            };
            let kind = scanned.kind.as_str();
            if matches!(kind, "string" | "comment" | "preamble") {
                let result = match scanned.failure {
                    Some(why) => Err(why),
                    None if kind == "string" => self.define(&text),
                    None => Ok(()),
                };
                if let Err(why) = result {
                    let message = format!("line {}: @{kind}: {why}", scanned.line);
                    return Some(ReadItem { position: 0, line, result: Err(RecordError::new(message)) });
                }
                continue;
            }
            self.entries += 1;
            let position = self.entries;
            let result = match scanned.failure {
                Some(why) => Err(why),
                None => self.entry(&text, kind).map(|mut imported| {
                    if lossy {
                        imported.warnings.push("text that is not UTF-8 read with replacement characters".into());
                    }
                    imported
                }),
            };
            let result = result.map_err(|m| RecordError::new(format!("entry {position} (@{kind}): {m}")));
            return Some(ReadItem { position, line, result });
        }
        None
    }
}

/// How an entry type reads the fields that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Article,
    Book,
    Chapter,
    Conference,
    Thesis,
    Report,
    Misc,
}

/// Maps an entry's fields to the model; see the module docs for the table.
fn map_entry(
    kind: &str,
    fields: Vec<(String, Chunks)>,
    links: Vec<(String, String)>,
    types: &ItemTypes,
) -> ImportedRecord {
    let mut m = Mapper::default();
    let (k, item_type, subtype) = match kind {
        "article" => (Kind::Article, "article", None),
        "book" | "mvbook" | "collection" | "mvcollection" | "proceedings" | "mvproceedings" => {
            (Kind::Book, "book", None)
        }
        "incollection" | "inbook" | "inreference" => (Kind::Chapter, "book_section", None),
        "inproceedings" | "conference" => (Kind::Conference, "conference_item", None),
        "phdthesis" => (Kind::Thesis, "thesis", Some("doctoral")),
        "mastersthesis" | "masterthesis" => (Kind::Thesis, "thesis", Some("masters")),
        "thesis" => (Kind::Thesis, "thesis", None),
        "techreport" | "report" => (Kind::Report, "report", None),
        "dataset" => (Kind::Misc, "dataset", None),
        "patent" => (Kind::Misc, "patent", None),
        "misc" | "booklet" | "manual" | "unpublished" | "online" | "electronic" | "www" => (Kind::Misc, "other", None),
        _ => {
            m.warn(format!("entry type @{kind} read as other"));
            (Kind::Misc, "other", None)
        }
    };
    // Imported records are the archive's, as EPrints XML's are.
    let mut r = Record { item_type: item_type.into(), status: Status::Archive, ..Default::default() };
    r.subtype = subtype.map(str::to_string);
    let has = |name: &str| fields.iter().any(|(n, _)| n == name);
    // The export's dialect decides what `organization` means in a
    // conference paper: BibTeX's event, BibLaTeX's institution.
    let biblatex = ["date", "journaltitle", "location", "langid", "eventtitle", "eprinttype"].iter().any(|f| has(f));
    let eprint_arxiv =
        fields.iter().any(|(n, v)| n == "eprinttype" && v.format_verbatim().trim().eq_ignore_ascii_case("arxiv"));
    let (mut year, mut month, mut date) = (None, None, None);
    let mut report_type = None;
    let mut title = None;
    for (name, chunks) in &fields {
        let value = fields::one_line(&chunks.format_verbatim());
        if value.is_empty() {
            continue;
        }
        let name = name.as_str();
        match (name, k) {
            ("author", _) => {
                for who in names(chunks) {
                    match who {
                        Name::Person(c) => r.creators.push(c),
                        Name::Body(name) => r.corp_creators.push(CorporateCreator { name, id: None }),
                    }
                }
            }
            ("editor", _) => {
                for who in names(chunks) {
                    r.editors.push(match who {
                        Name::Person(c) => c,
                        Name::Body(name) => Creator { name: PersonName::new(name, ""), ..Default::default() },
                    });
                }
            }
            ("title", _) => m.single(&mut title, name, value),
            ("journal" | "journaltitle", _) => m.single(&mut r.publication, name, value),
            ("booktitle", Kind::Conference) => m.single(&mut r.publication, name, value),
            ("booktitle", _) => m.single(&mut r.book_title, name, value),
            ("howpublished", _) => m.single(&mut r.publication, name, value),
            ("eventtitle", _) => m.single(&mut r.event_title, name, value),
            ("organization", Kind::Conference) if !biblatex => m.single(&mut r.event_title, name, value),
            ("organization" | "institution" | "school", _) => m.single(&mut r.institution, name, value),
            ("publisher", _) => m.single(&mut r.publisher, name, value),
            ("address" | "location", _) => m.single(&mut r.place_of_pub, name, value),
            ("year", _) => year = Some(value),
            ("month", _) => month = Some(value),
            ("date", _) => match parse_date(&value) {
                Some(d) => date = Some(d),
                None => {
                    m.warn(format!("date {:?} is not a date (YYYY-MM-DD); kept verbatim", clip(&value)));
                    m.unmapped(name, &value);
                }
            },
            ("type", Kind::Report) => report_type = Some(value),
            ("type", Kind::Thesis) => match value.to_ascii_lowercase().as_str() {
                "phdthesis" | "phd" => r.subtype = Some("doctoral".into()),
                "mathesis" | "masters" => r.subtype = Some("masters".into()),
                _ => match thesis_kind(&value) {
                    Some(key) => r.subtype = key.map(str::to_string),
                    None => m.unmapped(name, &value),
                },
            },
            ("series", _) => m.single(&mut r.series, name, value),
            ("volume", _) => m.single(&mut r.volume, name, value),
            ("number" | "issue", _) => m.single(&mut r.number, name, value),
            ("pages", _) => {
                let range = match fields::page_bounds(&value) {
                    (first, Some(last)) => format!("{first}-{last}"),
                    (only, None) => only,
                };
                m.single(&mut r.pagerange, name, range)
            }
            ("pagetotal", _) => m.single(&mut r.pages, name, value),
            ("doi", _) => {
                let doi = bare_doi(&value).to_string();
                match arkiv_model::validate::doi_problem(&doi) {
                    None => m.single(&mut r.doi, name, doi),
                    Some(problem) => {
                        m.warn(format!("doi: {problem}"));
                        m.unmapped(name, &value);
                    }
                }
            }
            ("url", _) if is_web_url(&value) => m.single(&mut r.official_url, name, value),
            ("isbn", _) => m.single(&mut r.isbn, name, value),
            ("issn", _) => m.single(&mut r.issn, name, value),
            ("eprint", _) if eprint_arxiv => m.single(&mut r.id_number, name, format!("arXiv:{value}")),
            ("eprinttype", _) if eprint_arxiv => {}
            ("abstract", _) => m.single(&mut r.abstract_text, name, value),
            ("keywords", _) => {
                r.keywords.extend(value.split([',', ';']).map(str::trim).filter(|k| !k.is_empty()).map(String::from))
            }
            ("note", _) => m.single(&mut r.note, name, value),
            ("langid" | "language", _) => {
                let code = language_code(&value);
                if !r.languages.contains(&code) {
                    r.languages.push(code);
                }
            }
            _ => m.unmapped(name, &value),
        }
    }
    for (name, value) in links {
        m.unmapped(&name, &value);
    }
    r.title = title.unwrap_or_default();
    r.date = date.or_else(|| {
        let y = year?;
        let d = match month.as_deref().and_then(month_number) {
            Some(mo) => format!("{y}-{mo:02}").parse().ok(),
            None => y.parse().ok(),
        };
        if d.is_none() {
            m.warn(format!("year {:?} is not a year; kept verbatim", clip(&y)));
            m.unmapped("year", &y);
        }
        d
    });
    if let Some(label) = report_type {
        match report_kind(&label, types) {
            Some((item_type, subtype)) => {
                r.item_type = item_type;
                r.subtype = subtype;
            }
            None if r.series.is_none() || r.series.as_deref() == Some(label.as_str()) => r.series = Some(label),
            None => m.unmapped("type", &label),
        }
    }
    r.extra = m.extra;
    ImportedRecord { record: r, files: Vec::new(), unmapped: m.unmapped, warnings: m.warnings }
}

#[derive(Default)]
struct Mapper {
    warnings: Vec<String>,
    unmapped: Vec<String>,
    extra: Vec<ExtraField>,
}

impl Mapper {
    fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Keeps a value no field takes, as an element the EPrints export
    /// writes back (the field's name made an XML name: `_` for anything
    /// else than letters, digits, `-` and `_`).
    fn unmapped(&mut self, name: &str, value: &str) {
        let mut element: String =
            name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        if !element.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            element.insert(0, '_');
        }
        self.extra.push(ExtraField {
            name: element.clone(),
            xml: format!("<{element}>{}</{element}>", crate::escape_markup(value)),
        });
        if !self.unmapped.iter().any(|u| u == name) {
            self.unmapped.push(name.into());
            self.warn(format!("field {name} has no field in the record; kept verbatim"));
        }
    }

    /// A field that holds one value: the first given; a different second
    /// one is kept as unmapped rather than lost.
    fn single(&mut self, field: &mut Option<String>, name: &str, value: String) {
        match field {
            None => *field = Some(value),
            Some(first) if *first == value => {}
            Some(_) => {
                self.warn(format!("{name} gives a second value of a field that holds one; kept verbatim"));
                self.unmapped(name, &value);
            }
        }
    }
}

enum Name {
    Person(Creator),
    Body(String),
}

/// A name list, split at `and`: a name wholly in braces is a body, any
/// other a person.
fn names(chunks: &Chunks) -> Vec<Name> {
    let list: Vec<Chunks> = chunks.parse().unwrap_or_default();
    list.into_iter()
        .filter_map(|name| {
            let parts: Vec<&Spanned<Chunk>> = name.iter().filter(|c| !c.v.get().trim().is_empty()).collect();
            if let [only] = parts.as_slice() {
                if let Chunk::Verbatim(body) = &only.v {
                    return Some(Name::Body(fields::one_line(body)));
                }
            }
            let p = biblatex::Person::parse(&name);
            let family = fields::one_line(&format!("{} {}", p.prefix, p.name));
            let given = fields::one_line(&format!("{} {}", p.given_name, p.suffix));
            if family.is_empty() && given.is_empty() {
                return None;
            }
            let (family, given) = if family.is_empty() { (given, String::new()) } else { (family, given) };
            Some(Name::Person(Creator { name: PersonName::new(family, given), ..Default::default() }))
        })
        .collect()
}

/// BibLaTeX's `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, or the start of a
/// range of them (`2014-05/2014-06`).
fn parse_date(value: &str) -> Option<PartialDate> {
    let start = value.split('/').next()?.trim();
    start.parse().ok()
}

/// `5`, `may`, `May`, `May.`: the month's number.
fn month_number(value: &str) -> Option<u8> {
    let v = value.trim().trim_end_matches('.').to_ascii_lowercase();
    if let Ok(n) = v.parse::<u8>() {
        return (1..=12).contains(&n).then_some(n);
    }
    let first = v.get(..3)?;
    fields::MONTHS.iter().position(|m| *m == first).map(|i| i as u8 + 1)
}

/// babel's and polyglossia's names of common languages as ISO 639-1
/// codes; anything else lowercased as given.
fn language_code(value: &str) -> String {
    let v = value.trim().to_lowercase();
    let code = match v.as_str() {
        "english" | "american" | "british" | "usenglish" | "ukenglish" | "australian" | "canadian" => "en",
        "german" | "ngerman" | "austrian" | "naustrian" | "swissgerman" | "nswissgerman" => "de",
        "french" | "francais" | "acadian" | "canadien" => "fr",
        "spanish" => "es",
        "italian" => "it",
        "portuguese" | "portuges" | "brazilian" | "brazil" => "pt",
        "dutch" => "nl",
        "polish" => "pl",
        "russian" => "ru",
        "ukrainian" => "uk",
        "czech" => "cs",
        "slovak" => "sk",
        "swedish" => "sv",
        "norwegian" | "norsk" | "nynorsk" => "no",
        "danish" => "da",
        "finnish" => "fi",
        "greek" => "el",
        "turkish" => "tr",
        "hungarian" | "magyar" => "hu",
        "kazakh" => "kk",
        "chinese" => "zh",
        "japanese" => "ja",
        "latin" => "la",
        _ => return v,
    };
    code.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_checks::{err, ok, outline};

    fn read(text: &str) -> Vec<ReadItem> {
        BibtexReader::new(text.as_bytes()).collect()
    }

    const ARTICLE: &str = r#"% exported by a reference manager
@article{jaroslewlcz2014kazakhstan-137,
  author = {Jaroslewicz, Aleksandra and Anna Kowalska and van der Berg, Jan and {{OSW} Centre for Eastern Studies}},
  title = {{Kazakhstan's} attitude towards {Russia}: M{\"u}ller's \'etude \& more},
  journal = {Journal of Eurasian Studies},
  year = {2014},
  month = may,
  volume = {5},
  number = {2},
  pages = {101--117},
  doi = {https://doi.org/10.1016/j.euras.2014.05.001},
  issn = {1879-3665},
  publisher = {Elsevier},
  address = {Amsterdam},
  url = {https://example.org/id/eprint/137/},
  abstract = {Less love,
    more fear.},
  keywords = {Kazakhstan, Eurasian Economic Union},
  language = {English},
  note = {Open access.},
  annote = {read twice}
}
"#;

    #[test]
    fn an_article() {
        let items = read(ARTICLE);
        assert_eq!(outline(&items), [(1, true)]);
        assert_eq!(items[0].line, Some(2));
        let imported = ok(&items[0]);
        let r = &imported.record;
        assert_eq!(r.item_type, "article");
        assert_eq!(r.status, Status::Archive);
        assert_eq!(r.title, "Kazakhstan's attitude towards Russia: Müller's étude & more");
        let names: Vec<_> = r.creators.iter().map(|c| c.name.inverted()).collect();
        assert_eq!(names, ["Jaroslewicz, Aleksandra", "Kowalska, Anna", "van der Berg, Jan"]);
        assert_eq!(r.corp_creators[0].name, "OSW Centre for Eastern Studies");
        assert_eq!(r.publication.as_deref(), Some("Journal of Eurasian Studies"));
        assert_eq!(r.date.unwrap().to_string(), "2014-05");
        assert_eq!((r.volume.as_deref(), r.number.as_deref()), (Some("5"), Some("2")));
        assert_eq!(r.pagerange.as_deref(), Some("101-117"));
        assert_eq!(r.issn.as_deref(), Some("1879-3665"));
        assert_eq!(r.publisher.as_deref(), Some("Elsevier"));
        assert_eq!(r.place_of_pub.as_deref(), Some("Amsterdam"));
        assert_eq!(r.doi.as_deref(), Some("10.1016/j.euras.2014.05.001"));
        assert_eq!(r.official_url.as_deref(), Some("https://example.org/id/eprint/137/"));
        assert_eq!(r.abstract_text.as_deref(), Some("Less love, more fear."));
        assert_eq!(r.keywords, ["Kazakhstan", "Eurasian Economic Union"]);
        assert_eq!(r.languages, ["en"]);
        assert_eq!(r.note.as_deref(), Some("Open access."));
        assert_eq!(imported.unmapped, ["annote"]);
        assert_eq!(r.extra, [ExtraField { name: "annote".into(), xml: "<annote>read twice</annote>".into() }]);
        assert!(imported.warnings.iter().any(|w| w.contains("annote")), "{:?}", imported.warnings);
    }

    #[test]
    fn reports_theses_and_proceedings() {
        let text = r#"
@techreport{a, title = {Russia's long war}, institution = {Centre for Eastern Studies},
  type = {OSW Commentary}, number = {137}, series = {OSW Commentary}, year = 2014}
@report{b, title = {Grid stability}, institution = {Lab}, type = {Working Paper}, date = {2020-03-04}}
@phdthesis{c, title = {Water}, school = {Nazarbayev University}}
@thesis{d, title = {Power}, institution = {KIMEP}, type = {mathesis}, langid = {russian}}
@inproceedings{e, title = {Pipelines}, booktitle = {Proceedings of the Forum},
  organization = {Astana Energy Forum}, institution = {KBTU}, editor = {Editor, Ed}}
@inproceedings{f, title = {Pipes}, booktitle = {Proceedings}, eventtitle = {Forum}, organization = {KBTU},
  location = {Almaty}}
@incollection{g, title = {A chapter}, booktitle = {The Book}, isbn = {978-3-16-148410-0}}
@online{h, title = {A page}, eprint = {2101.00001}, eprinttype = {arxiv}}
@weird(i, title = "Something (odd)", howpublished = {Leaflet})
"#;
        let items = read(text);
        assert_eq!(items.iter().filter(|i| i.result.is_ok()).count(), 9, "{items:?}");
        let report = &ok(&items[0]).record;
        assert_eq!(report.item_type, "report");
        assert_eq!((report.series.as_deref(), report.number.as_deref()), (Some("OSW Commentary"), Some("137")));
        assert_eq!(report.institution.as_deref(), Some("Centre for Eastern Studies"));
        let paper = &ok(&items[1]).record;
        assert_eq!(paper.item_type, "working_paper");
        assert_eq!(paper.date.unwrap().to_string(), "2020-03-04");
        let phd = &ok(&items[2]).record;
        assert_eq!((phd.item_type.as_str(), phd.subtype.as_deref()), ("thesis", Some("doctoral")));
        assert_eq!(phd.institution.as_deref(), Some("Nazarbayev University"));
        let ma = &ok(&items[3]).record;
        assert_eq!((ma.subtype.as_deref(), ma.languages.as_slice()), (Some("masters"), &["ru".to_string()][..]));
        let conf = &ok(&items[4]).record;
        assert_eq!(conf.item_type, "conference_item");
        assert_eq!(conf.publication.as_deref(), Some("Proceedings of the Forum"));
        assert_eq!(conf.event_title.as_deref(), Some("Astana Energy Forum"), "BibTeX's organization");
        assert_eq!(conf.institution.as_deref(), Some("KBTU"));
        assert_eq!(conf.editors[0].name.inverted(), "Editor, Ed");
        let conf = &ok(&items[5]).record;
        assert_eq!(conf.event_title.as_deref(), Some("Forum"));
        assert_eq!(conf.institution.as_deref(), Some("KBTU"), "BibLaTeX's organization");
        assert_eq!(conf.place_of_pub.as_deref(), Some("Almaty"));
        let chapter = &ok(&items[6]).record;
        assert_eq!(chapter.item_type, "book_section");
        assert_eq!(chapter.book_title.as_deref(), Some("The Book"));
        assert_eq!(chapter.isbn.as_deref(), Some("978-3-16-148410-0"));
        let online = &ok(&items[7]).record;
        assert_eq!(online.id_number.as_deref(), Some("arXiv:2101.00001"));
        let weird = ok(&items[8]);
        assert_eq!(weird.record.item_type, "other");
        assert_eq!(weird.record.title, "Something (odd)");
        assert_eq!(weird.record.publication.as_deref(), Some("Leaflet"));
        assert!(weird.warnings.iter().any(|w| w.contains("@weird")), "{:?}", weird.warnings);
    }

    #[test]
    fn strings_apply_to_later_entries_and_never_loop() {
        let text = r#"
@string{ jes = {Journal of } # "Eurasian Studies" }
@STRING(pub = "Elsevier")
@article{a, title = {One}, journal = jes, publisher = pub # { B.V.}, month = jan, year = 2000}
@string{a = b # a}
@string{x = {x}}
@string{x = x # x}
@string{c = d}
@string{d = c}
@article{b, title = {Two}, journal = a}
@article{c, title = {Three}, journal = d}
@article{d, title = {Four}, journal = x # undefinedname}
@article{e, title = {Five}, journal = x}
"#;
        let items = read(text);
        assert_eq!(
            outline(&items),
            [(1, true), (0, false), (0, false), (0, false), (2, false), (3, false), (4, false), (5, true)]
        );
        let r = &ok(&items[0]).record;
        assert_eq!(r.publication.as_deref(), Some("Journal of Eurasian Studies"));
        assert_eq!(r.publisher.as_deref(), Some("Elsevier B.V."));
        assert_eq!(r.date.unwrap().to_string(), "2000-01");
        assert!(err(&items[1]).contains("@string b is not defined"), "{}", err(&items[1]));
        assert!(err(&items[4]).contains("uses @string a, which failed"), "{}", err(&items[4]));
        assert!(err(&items[5]).contains("uses @string d"), "{}", err(&items[5]));
        assert!(err(&items[6]).contains("undefinedname"), "{}", err(&items[6]));
        assert_eq!(ok(&items[7]).record.publication.as_deref(), Some("xx"));
    }

    #[test]
    fn a_string_doubled_past_the_bound_is_refused() {
        let mut text = String::from("@string{s = {0123456789abcdef}}\n");
        for _ in 0..20 {
            text.push_str("@string{s = s # s}\n");
        }
        text.push_str("@misc{k, title = s}\n@misc{l, title = {After}}\n");
        let items = read(&text);
        let last = &items[items.len() - 2..];
        assert_eq!(outline(last), [(1, false), (2, true)]);
        assert!(err(&last[0]).contains("@string s"), "{}", err(&last[0]));
    }

    #[test]
    fn an_unbalanced_entry_costs_only_itself() {
        let text = "@misc{a, title = {First}}\n@misc{b, title = {Open\n  abstract = {x}\n@misc{c, title = {Third}}\n";
        let items = read(text);
        assert_eq!(outline(&items), [(1, true), (2, false), (3, true)]);
        assert!(err(&items[1]).contains("does not close before line 4"), "{}", err(&items[1]));
        assert_eq!((items[1].line, items[2].line), (Some(2), Some(4)));
        assert_eq!(ok(&items[2]).record.title, "Third");

        let items = read("@misc{a, title = {First}}\n@misc{b, title = {Cut off}\n");
        assert_eq!(outline(&items), [(1, true), (2, false)]);
        assert!(err(&items[1]).contains("the file ends inside it"), "{}", err(&items[1]));
    }

    #[test]
    fn an_entry_biblatex_refuses_costs_only_itself() {
        let text = "@misc{a, title = {First}}\n@misc{b, title {no equals}}\n@misc{c, title = {Third}}";
        let items = read(text);
        assert_eq!(outline(&items), [(1, true), (2, false), (3, true)]);
        assert!(err(&items[1]).starts_with("entry 2 (@misc): cannot be read"), "{}", err(&items[1]));
        // A crossref naming the entry itself is kept, not followed.
        let items = read("@misc{self, title = {Me}, crossref = {self}}");
        assert_eq!(ok(&items[0]).unmapped, ["crossref"]);
    }

    #[test]
    fn an_entry_over_the_bounds_costs_only_itself() {
        let big = "x".repeat(MAX_ENTRY_BYTES + 10);
        let text = format!("@misc{{a, title = {{First}}}}\n@misc{{b, title = {{Big}}, abstract = {{{big}}}}}\n@misc{{c, title = {{Third}}}}\n");
        let items = read(&text);
        assert_eq!(outline(&items), [(1, true), (2, false), (3, true)]);
        assert!(err(&items[1]).contains("more than 1048576 bytes"), "{}", err(&items[1]));

        let deep = format!("{}x{}", "{".repeat(MAX_BRACE_DEPTH + 5), "}".repeat(MAX_BRACE_DEPTH + 5));
        let text = format!("@misc{{b, title = {deep}}}\n@misc{{c, title = {{After}}}}\n");
        let items = read(&text);
        assert_eq!(outline(&items), [(1, false), (2, true)]);
        assert!(err(&items[0]).contains("nested deeper"), "{}", err(&items[0]));
        // Nesting of accents within the bound reads.
        let items = read(r#"@misc{n, title = {{\'{\'{e}}}}}"#);
        assert!(items[0].result.is_ok(), "{:?}", items[0].result);
    }

    #[test]
    fn an_entry_without_a_title_is_refused() {
        let text = "@misc{a, title = {First}}\n@article{nobody, author = {Nobody, Anne}}\n@misc{c, title = {Third}}";
        let items = read(text);
        assert_eq!(outline(&items), [(1, true), (2, false), (3, true)]);
        assert!(err(&items[1]).contains("nobody: ") && err(&items[1]).contains("title"), "{}", err(&items[1]));
    }

    #[test]
    fn latin1_comments_and_text_between_entries() {
        let latin1: &[u8] = b"junk text me@example.org\n@comment{ignored {braces}}\n@preamble{\"\\newcommand{\\x}{y}\"}\n@misc{a, title = {Caf\xe9}}\n";
        let items: Vec<_> = BibtexReader::new(latin1).collect();
        assert_eq!(outline(&items), [(1, true)]);
        let imported = ok(&items[0]);
        assert_eq!(imported.record.title, "Caf\u{fffd}");
        assert!(imported.warnings.iter().any(|w| w.contains("not UTF-8")), "{:?}", imported.warnings);
    }

    #[test]
    fn an_io_error_stops_reading() {
        struct Failing(usize);
        impl io::Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk gone"));
                }
                self.0 -= 1;
                let text = b"@misc{a, title = {One}}\n";
                buf[..text.len()].copy_from_slice(text);
                Ok(text.len())
            }
        }
        let items: Vec<_> = BibtexReader::new(io::BufReader::new(Failing(1))).collect();
        assert_eq!(outline(&items), [(1, true), (0, false)]);
        assert!(err(&items[1]).contains("disk gone"));
    }

    #[test]
    fn names_months_and_languages() {
        let list: Chunks = vec![Spanned::zero(Chunk::Normal("Ludwig van Beethoven and Doe, Jr, John".into()))];
        let got: Vec<String> = names(&list)
            .into_iter()
            .map(|n| match n {
                Name::Person(c) => c.name.inverted(),
                Name::Body(b) => b,
            })
            .collect();
        assert_eq!(got, ["van Beethoven, Ludwig", "Doe, John Jr"]);
        assert_eq!(month_number("May."), Some(5));
        assert_eq!(month_number("12"), Some(12));
        assert_eq!(month_number("13"), None);
        assert_eq!(language_code("ngerman"), "de");
        assert_eq!(language_code("EN"), "en");
        assert_eq!(parse_date("2014-05/2014-06").unwrap().to_string(), "2014-05");
    }
}
