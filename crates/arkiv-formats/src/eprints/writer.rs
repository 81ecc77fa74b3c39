//! Writing EPrints 3 XML: a whole export as a stream of records, or one
//! record as a standalone `<eprint>` element.
//!
//! The output is what EPrints' own import reads: the EPrints namespace, its
//! element names, its element order (identifiers and status first,
//! documents last). It is written by hand into a string per record, then
//! written out in one call, so that a record that cannot be written leaves
//! nothing half-written in the stream. Every mapped field is written; so is
//! every extra field kept from an import, verbatim. Private data (creators'
//! e-mail addresses) is written only when asked for.

use super::{escape_attr, escape_text, EPRINTS_NS, MAPPED_ELEMENTS, RECOMPUTED_ELEMENTS};
use arkiv_model::{Creator, Document, ExtraField, Record, StoredFile};
use std::fmt;
use std::io::{self, Write};

/// How records are written, for every codec of this crate. The JSON codecs
/// use only `include_private`.
#[derive(Default)]
pub struct WriteOptions {
    /// The repository's public base URL (`https://repo.example.org`), for
    /// `<eprint id="{base}/id/eprint/{id}">` and for file URLs
    /// `{base}/{id}/{pos}/{filename}` of files whose bytes are stored. Without
    /// it, and for files never stored, a file's URL is the one it was
    /// imported from, if any.
    pub base_url: Option<String>,
    /// Whether to write what only staff may see: creators', editors' and
    /// contributors' e-mail addresses, and the extra fields listed in
    /// [`super::PRIVATE_ELEMENTS`]. Public exports leave it `false`.
    pub include_private: bool,
    /// Set for what the public reads (the registry's `ep3` and `json`
    /// exports, OAI-PMH `ep3`): the record as the public may see it on that
    /// day ([`crate::json::visible`]): no depositor's user id, no person's
    /// id that is an e-mail address, and of a document not open that day
    /// only its name, format, access and embargo date (no checksum, size
    /// or source). `None` for the staff's dumps (`arkiv export`).
    pub public_on: Option<arkiv_model::PartialDate>,
    /// A file's `<url>`, overriding `base_url` (for signed or proxied
    /// download links). `None` from it leaves the URL out.
    #[allow(clippy::type_complexity)]
    pub file_url: Option<Box<dyn Fn(&Record, u32, &StoredFile) -> Option<String> + Send + Sync>>,
}

impl fmt::Debug for WriteOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteOptions")
            .field("base_url", &self.base_url)
            .field("include_private", &self.include_private)
            .field("public_on", &self.public_on)
            .field("file_url", &self.file_url.as_ref().map(|_| "Fn"))
            .finish()
    }
}

impl WriteOptions {
    fn base(&self) -> Option<&str> {
        self.base_url.as_deref().map(|b| b.trim_end_matches('/')).filter(|b| !b.is_empty())
    }

    fn file_url(&self, record: &Record, pos: u32, file: &StoredFile) -> Option<String> {
        if let Some(f) = &self.file_url {
            return f(record, pos, file);
        }
        match (self.base(), record.id, &file.sha256) {
            // Only files whose bytes this repository holds are served by it;
            // the others keep the address they came from.
            (Some(base), Some(id), Some(_)) => {
                Some(format!("{base}/{id}/{pos}/{}", encode_path_segment(&file.filename)))
            }
            _ => file.source_url.clone(),
        }
    }
}

/// Writes an EPrints XML export: the declaration and `<eprints>` root on
/// [`new`](Self::new), one `<eprint>` per [`write_record`](Self::write_record),
/// the closing tag on [`finish`](Self::finish).
pub struct EprintsWriter<W: Write> {
    out: W,
    buf: String,
}

impl<W: Write> EprintsWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        write!(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<eprints xmlns=\"{EPRINTS_NS}\">\n")?;
        Ok(EprintsWriter { out, buf: String::new() })
    }

    pub fn write_record(&mut self, record: &Record, opts: &WriteOptions) -> io::Result<()> {
        self.buf.clear();
        render(&crate::json::visible(record, opts), opts, 1, false, &mut self.buf);
        self.out.write_all(self.buf.as_bytes())
    }

    /// The output written so far (to drain a `Vec` between records).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Closes the root element, flushes, and hands the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"</eprints>\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One record as a standalone `<eprint xmlns="...">` element, without an XML
/// declaration, so that it can be embedded (an OAI-PMH `<metadata>`) or
/// served alone; [`super::EprintsReader`] reads it as a single-record file.
pub fn record_to_xml(record: &Record, opts: &WriteOptions) -> String {
    let mut out = String::new();
    render(&crate::json::visible(record, opts), opts, 0, true, &mut out);
    out
}

/// Why an extra field cannot be written back, if it cannot. The writer
/// leaves such a field out: written, it would make the whole export
/// unreadable, or be read back as something else. Extra fields from
/// [`super::EprintsReader`] always pass; this is for those that came another
/// way (a JSON import, an API call), which should be checked on the way in.
pub fn check_extra(extra: &ExtraField) -> Result<(), String> {
    use quick_xml::events::Event;
    let name = extra.name.as_str();
    if MAPPED_ELEMENTS.contains(&name) || RECOMPUTED_ELEMENTS.contains(&name) || name == "eprint" {
        return Err(format!("{name:?} is an element Arkiv maps itself"));
    }
    if name.contains(':') {
        return Err(format!("{name:?}: a prefixed name needs a namespace declaration"));
    }
    if extra.xml.chars().any(super::is_forbidden_char) {
        return Err(format!("{name}: contains control characters"));
    }
    let mut reader = quick_xml::Reader::from_str(&extra.xml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| format!("{name}: not well-formed XML: {e}"))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if depth == 0 {
                    roots += 1;
                    if roots > 1 || e.name().as_ref() != name.as_bytes() {
                        return Err(format!("{name}: must be one <{name}> element"));
                    }
                }
                for attr in e.attributes().with_checks(true) {
                    let attr = attr.map_err(|e| format!("{name}: bad attribute: {e}"))?;
                    let key = attr.key.as_ref();
                    if key == b"xmlns" || key.starts_with(b"xmlns:") {
                        return Err(format!("{name}: namespace declarations are not kept"));
                    }
                    attr.unescape_value().map_err(|e| format!("{name}: {e}"))?;
                }
                if e.name().as_ref().contains(&b':') {
                    return Err(format!("{name}: prefixed element names are not kept"));
                }
                if matches!(event, Event::Start(_)) {
                    depth += 1;
                }
            }
            Event::End(_) => depth -= 1,
            Event::Text(t) => {
                let text = t.decode().map_err(|e| format!("{name}: {e}"))?;
                if depth == 0 && !text.trim().is_empty() {
                    return Err(format!("{name}: text outside the element"));
                }
            }
            Event::GeneralRef(r) if depth > 0 => {
                super::reader::resolve_reference(&r).map_err(|e| format!("{name}: {e}"))?;
            }
            Event::CData(_) | Event::Comment(_) if depth > 0 => {}
            Event::Eof => break,
            _ => return Err(format!("{name}: only an element may be kept")),
        }
    }
    if roots == 1 && depth == 0 {
        Ok(())
    } else {
        Err(format!("{name}: must be one complete <{name}> element"))
    }
}

/// Indented element writing into a string.
struct Out<'a> {
    s: &'a mut String,
}

impl Out<'_> {
    fn indent(&mut self, level: usize) {
        for _ in 0..level {
            self.s.push_str("  ");
        }
    }

    fn open(&mut self, level: usize, name: &str) {
        self.indent(level);
        self.s.push('<');
        self.s.push_str(name);
        self.s.push_str(">\n");
    }

    fn close(&mut self, level: usize, name: &str) {
        self.indent(level);
        self.s.push_str("</");
        self.s.push_str(name);
        self.s.push_str(">\n");
    }

    /// `<name>text</name>`, always, even when empty.
    fn leaf(&mut self, level: usize, name: &str, text: &str) {
        self.indent(level);
        self.s.push('<');
        self.s.push_str(name);
        self.s.push('>');
        escape_text(text, self.s);
        self.s.push_str("</");
        self.s.push_str(name);
        self.s.push_str(">\n");
    }

    /// A field that is left out when absent or blank: the reader reads a
    /// blank element as absent, so writing one would say nothing.
    fn opt(&mut self, level: usize, name: &str, value: Option<&str>) {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            self.leaf(level, name, v);
        }
    }

    fn person(&mut self, level: usize, c: &Creator, opts: &WriteOptions, role: Option<&str>) {
        self.open(level, "item");
        self.opt(level + 1, "type", role);
        if !c.name.family.is_empty() || !c.name.given.is_empty() {
            self.open(level + 1, "name");
            self.opt(level + 2, "family", Some(&c.name.family));
            self.opt(level + 2, "given", Some(&c.name.given));
            self.close(level + 1, "name");
        }
        self.opt(level + 1, "id", c.id.as_deref());
        self.opt(level + 1, "orcid", c.orcid.as_deref());
        if opts.include_private {
            self.opt(level + 1, "email", c.email.as_deref());
        }
        self.close(level, "item");
    }

    fn people(&mut self, level: usize, name: &str, people: &[Creator], opts: &WriteOptions) {
        if people.is_empty() {
            return;
        }
        self.open(level, name);
        for c in people {
            self.person(level + 1, c, opts, None);
        }
        self.close(level, name);
    }

    fn items(&mut self, level: usize, name: &str, items: &[String]) {
        let items: Vec<&String> = items.iter().filter(|i| !i.trim().is_empty()).collect();
        if items.is_empty() {
            return;
        }
        self.open(level, name);
        for i in items {
            self.leaf(level + 1, "item", i);
        }
        self.close(level, name);
    }
}

fn render(r: &Record, opts: &WriteOptions, level: usize, standalone: bool, s: &mut String) {
    let mut o = Out { s };
    o.indent(level);
    o.s.push_str("<eprint");
    if standalone {
        o.s.push_str(" xmlns=\"");
        o.s.push_str(EPRINTS_NS);
        o.s.push('"');
    }
    if let (Some(base), Some(id)) = (opts.base(), r.id) {
        o.s.push_str(" id=\"");
        escape_attr(&format!("{base}/id/eprint/{id}"), o.s);
        o.s.push('"');
    }
    o.s.push_str(">\n");
    let l = level + 1;

    if let Some(id) = r.id {
        o.leaf(l, "eprintid", &id.to_string());
    }
    o.leaf(l, "eprint_status", r.status.as_str());
    o.leaf(l, "type", &r.item_type);
    if let Some(u) = r.userid {
        o.leaf(l, "userid", &u.to_string());
    }
    if let Some(t) = r.datestamp {
        o.leaf(l, "datestamp", &t.to_eprints());
    }
    if let Some(t) = r.lastmod {
        o.leaf(l, "lastmod", &t.to_eprints());
    }
    if let Some(id) = r.replaced_by {
        o.leaf(l, "replacedby", &id.to_string());
    }
    if let Some(id) = r.succeeds {
        o.leaf(l, "succeeds", &id.to_string());
    }
    o.opt(l, "withdrawn_reason", r.withdrawn_reason.as_deref());
    o.leaf(l, "title", &r.title);
    o.people(l, "creators", &r.creators, opts);
    if !r.corp_creators.is_empty() {
        o.open(l, "corp_creators");
        for c in &r.corp_creators {
            o.open(l + 1, "item");
            o.opt(l + 2, "name", Some(&c.name));
            o.opt(l + 2, "id", c.id.as_deref());
            o.close(l + 1, "item");
        }
        o.close(l, "corp_creators");
    }
    o.people(l, "editors", &r.editors, opts);
    if !r.contributors.is_empty() {
        o.open(l, "contributors");
        for c in &r.contributors {
            o.person(l + 1, &c.person, opts, Some(&c.role));
        }
        o.close(l, "contributors");
    }
    o.opt(l, "ispublished", r.ispublished.as_deref());
    o.items(l, "subjects", &r.subjects);
    o.items(l, "divisions", &r.divisions);
    let keywords: Vec<&str> = r.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect();
    if !keywords.is_empty() {
        o.leaf(l, "keywords", &keywords.join(", "));
    }
    o.opt(l, "abstract", r.abstract_text.as_deref());
    o.opt(l, "note", r.note.as_deref());
    if let Some(d) = r.date {
        o.leaf(l, "date", &d.to_string());
    }
    o.opt(l, arkiv_model::subtype_field(&r.item_type), r.subtype.as_deref());
    for (name, value) in [
        ("date_type", &r.date_type),
        ("series", &r.series),
        ("number", &r.number),
        ("publication", &r.publication),
        ("volume", &r.volume),
        ("book_title", &r.book_title),
        ("event_title", &r.event_title),
        ("publisher", &r.publisher),
        ("place_of_pub", &r.place_of_pub),
        ("institution", &r.institution),
        ("department", &r.department),
        ("pages", &r.pages),
        ("pagerange", &r.pagerange),
        ("isbn", &r.isbn),
        ("issn", &r.issn),
        ("doi", &r.doi),
        ("id_number", &r.id_number),
        ("official_url", &r.official_url),
    ] {
        o.opt(l, name, value.as_deref());
    }
    let related: Vec<_> = r.related.iter().filter(|x| !x.url.trim().is_empty()).collect();
    if !related.is_empty() {
        o.open(l, "related_url");
        for link in related {
            o.open(l + 1, "item");
            o.leaf(l + 2, "url", &link.url);
            o.opt(l + 2, "type", link.relation.as_deref());
            o.opt(l + 2, "description", link.description.as_deref());
            o.close(l + 1, "item");
        }
        o.close(l, "related_url");
    }
    if let Some(b) = r.refereed {
        o.leaf(l, "refereed", if b { "TRUE" } else { "FALSE" });
    }
    o.items(l, "languages", &r.languages);
    o.opt(l, "license", r.license.as_deref());
    for extra in &r.extra {
        if (opts.include_private || !super::is_private_extra(&extra.name)) && check_extra(extra).is_ok() {
            o.indent(l);
            o.s.push_str(&extra.xml);
            o.s.push('\n');
        }
    }
    if !r.documents.is_empty() {
        o.open(l, "documents");
        for d in &r.documents {
            let dl = l + 1;
            o.open(dl, "document");
            if let Some(docid) = d.eprints_docid {
                o.leaf(dl + 1, "docid", &docid.to_string());
            }
            o.leaf(dl + 1, "pos", &d.pos.to_string());
            o.opt(dl + 1, "format", d.format.as_deref());
            o.opt(dl + 1, "formatdesc", d.format_description.as_deref());
            o.opt(dl + 1, "mime_type", d.mime_type.as_deref());
            o.opt(dl + 1, "language", d.language.as_deref());
            o.leaf(dl + 1, "security", d.security.as_str());
            if let Some(e) = d.embargo {
                o.leaf(dl + 1, "date_embargo", &e.to_string());
            }
            o.opt(dl + 1, "license", d.license.as_deref());
            o.opt(dl + 1, "content", d.content.as_deref());
            o.opt(dl + 1, "main", d.main.as_deref());
            write_derivation(&mut o, dl + 1, r, d, opts);
            if !d.files.is_empty() {
                o.open(dl + 1, "files");
                for f in &d.files {
                    let fl = dl + 2;
                    o.open(fl, "file");
                    if let Some(fileid) = f.eprints_fileid {
                        o.leaf(fl + 1, "fileid", &fileid.to_string());
                    }
                    o.leaf(fl + 1, "filename", &f.filename);
                    o.opt(fl + 1, "mime_type", f.mime_type.as_deref());
                    // No size is a size not known (or, in a public export,
                    // not said): the reader reads it back as 0.
                    if f.size > 0 {
                        o.leaf(fl + 1, "filesize", &f.size.to_string());
                    }
                    if let Some((kind, hash)) = &f.source_hash {
                        o.opt(fl + 1, "hash", Some(hash));
                        o.opt(fl + 1, "hash_type", Some(kind));
                    }
                    let url = opts.file_url(r, d.pos, f);
                    o.opt(fl + 1, "url", url.as_deref());
                    o.close(fl, "file");
                }
                o.close(dl + 1, "files");
            }
            o.close(dl, "document");
        }
        o.close(l, "documents");
    }
    o.close(level, "eprint");
}

/// A derived document's `<relation>`, as EPrints writes it: "is a volatile
/// version of" its source, and "is a small thumbnail version of" (or
/// whatever it is), the source named by its EPrints address. Written only
/// when the source has an EPrints docid to name; the reader needs no more.
fn write_derivation(o: &mut Out<'_>, level: usize, r: &Record, d: &Document, opts: &WriteOptions) {
    let Some(derived) = &d.derived else { return };
    let Some(source) = r.documents.iter().find(|s| s.pos == derived.of).and_then(|s| s.eprints_docid) else { return };
    let base = opts.base_url.as_deref().unwrap_or("").trim_end_matches('/');
    let uri = format!("{base}/id/document/{source}");
    o.open(level, "relation");
    let mut kinds = vec!["Volatile"];
    if !derived.kind.is_empty() {
        kinds.push(derived.kind.as_str());
    }
    for kind in kinds {
        o.open(level + 1, "item");
        o.leaf(level + 2, "type", &format!("http://eprints.org/relation/is{kind}VersionOf"));
        o.leaf(level + 2, "uri", &uri);
        o.close(level + 1, "item");
    }
    o.close(level, "relation");
}

/// Percent-encodes a file name for use as the last segment of a URL path
/// (`Call 1915.pdf` → `Call%201915.pdf`).
/// Percent-encodes a file name for use as one URL path segment.
pub fn encode_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
            )
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_encoded_in_urls() {
        assert_eq!(encode_path_segment("Call 1915.pdf"), "Call%201915.pdf");
        assert_eq!(encode_path_segment("a/b?c#d%é"), "a%2Fb%3Fc%23d%25%C3%A9");
    }

    #[test]
    fn extras_must_be_one_element_of_their_name() {
        let ok = |name: &str, xml: &str| check_extra(&ExtraField { name: name.into(), xml: xml.into() });
        assert!(ok("funders", "<funders><item><agency>NSF</agency></item></funders>").is_ok());
        assert!(ok("rights", "<rights/>").is_ok());
        assert!(ok("funders", "<funders>").is_err());
        assert!(ok("funders", "<funders/><funders/>").is_err());
        assert!(ok("funders", "<other/>").is_err());
        assert!(ok("funders", "</eprint><eprint><title>x</title></eprint><funders/>").is_err());
        assert!(ok("title", "<title>x</title>").is_err());
        assert!(ok("funders", "<funders>&lol;</funders>").is_err());
        assert!(ok("funders", "<funders>\u{1}</funders>").is_err());
        assert!(ok("x", "<!DOCTYPE x><x/>").is_err());
    }
}
