//! Simple Dublin Core as OAI-PMH's `oai_dc` schema defines it: the one
//! format every harvester reads. Written by hand (a dozen flat elements;
//! no crate models oai_dc) following what EPrints' own oai_dc export says of
//! a record, so harvesters of a migrated repository see the same fields:
//! the item type's label and the peer-review status as `dc:type`, creators
//! as "Family, Given", subjects by name, the landing page and each
//! open-access file URL as `dc:identifier`, the licence as its URL in
//! `dc:rights`, the series and number as `dc:relation`.
//!
//! Only open-access documents are named (their URL, format and language);
//! creators' e-mail addresses never appear.

use super::{ExportContext, ExportFormat, ExportWriter, OaiFormat};
use crate::eprints::escape_text;
use arkiv_model::{PersonName, Record};
use std::io::{self, Write};

pub const OAI_DC_NS: &str = "http://www.openarchives.org/OAI/2.0/oai_dc/";
pub const OAI_DC_SCHEMA: &str = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd";
pub const DC_NS: &str = "http://purl.org/dc/elements/1.1/";

/// Dublin Core: `/{id}/export/dc`, and OAI-PMH's `oai_dc`.
pub const DC: ExportFormat = ExportFormat {
    id: "dc",
    label: "Dublin Core",
    media_type: "application/xml; charset=utf-8",
    extension: "xml",
    writer: |ctx| Box::new(DcWriter { ctx: ctx.clone() }),
    list_may_be_empty: true,
    oai: Some(OaiFormat { prefix: "oai_dc", schema: OAI_DC_SCHEMA, namespace: OAI_DC_NS, element: write_oai_dc }),
};

/// A list of records as a file: the `oai_dc:dc` elements inside one
/// `dcCollection` root (oai_dc defines no list element of its own).
struct DcWriter {
    ctx: ExportContext,
}

impl ExportWriter for DcWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<dcCollection>\n")
    }
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let mut s = String::with_capacity(2048);
        write_oai_dc(record, &self.ctx, &mut s);
        s.push('\n');
        out.write_all(s.as_bytes())
    }
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"</dcCollection>\n")
    }
}

fn element(out: &mut String, name: &str, value: &str) {
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    out.push_str("<dc:");
    out.push_str(name);
    out.push('>');
    escape_text(value, out);
    out.push_str("</dc:");
    out.push_str(name);
    out.push('>');
}

fn person(name: &PersonName) -> String {
    if name.given.trim().is_empty() {
        name.family.clone()
    } else {
        format!("{}, {}", name.family, name.given)
    }
}

/// The record as one `<oai_dc:dc>` element declaring its namespaces.
pub fn write_oai_dc(record: &Record, ctx: &ExportContext, out: &mut String) {
    out.push_str("<oai_dc:dc xmlns:oai_dc=\"");
    out.push_str(OAI_DC_NS);
    out.push_str("\" xmlns:dc=\"");
    out.push_str(DC_NS);
    out.push_str("\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"");
    out.push_str(OAI_DC_NS);
    out.push(' ');
    out.push_str(OAI_DC_SCHEMA);
    out.push_str("\">");
    element(out, "title", &record.title);
    for c in &record.creators {
        element(out, "creator", &person(&c.name));
    }
    for c in &record.corp_creators {
        element(out, "creator", &c.name);
    }
    // Subject names and keywords, each once (a keyword is often a
    // subject's name too, and harvesters would list it twice).
    let mut said: Vec<String> = Vec::new();
    let names =
        record.subjects.iter().map(|id| ctx.subjects.name(id)).chain(record.keywords.iter().map(String::as_str));
    for name in names {
        let key = name.trim().to_lowercase();
        if !key.is_empty() && !said.contains(&key) {
            said.push(key);
            element(out, "subject", name);
        }
    }
    if let Some(a) = &record.abstract_text {
        element(out, "description", a);
    }
    if let Some(n) = &record.note {
        element(out, "description", n);
    }
    let publisher = record.publisher.as_deref().or(record.institution.as_deref());
    if let Some(p) = publisher {
        element(out, "publisher", p);
    }
    for e in &record.editors {
        element(out, "contributor", &person(&e.name));
    }
    for c in &record.contributors {
        element(out, "contributor", &person(&c.person.name));
    }
    if let Some(d) = &record.date {
        element(out, "date", &d.to_string());
    }
    element(out, "type", ctx.item_types.label(&record.item_type));
    match record.refereed {
        Some(true) => element(out, "type", "PeerReviewed"),
        Some(false) => element(out, "type", "NonPeerReviewed"),
        None => {}
    }
    element(out, "identifier", &ctx.record_url(record));
    let mut formats = Vec::new();
    let mut languages: Vec<String> = record.languages.clone();
    for (doc, url) in ctx.open_documents(record) {
        if let Some(url) = url {
            element(out, "identifier", &url);
        }
        let mime = doc.mime_type.clone().or_else(|| doc.main_file().and_then(|f| f.mime_type.clone()));
        if let Some(m) = mime.filter(|m| !formats.contains(m)) {
            formats.push(m);
        }
        if let Some(l) = doc.language.clone().filter(|l| !languages.contains(l)) {
            languages.push(l);
        }
    }
    if let Some(doi) = &record.doi {
        let doi = doi.trim();
        let bare = doi.trim_start_matches("https://doi.org/").trim_start_matches("http://dx.doi.org/");
        element(out, "identifier", &format!("https://doi.org/{bare}"));
    }
    for (scheme, value) in [("ISBN", &record.isbn), ("ISSN", &record.issn)] {
        if let Some(v) = value {
            element(out, "identifier", &format!("{scheme} {v}"));
        }
    }
    for f in &formats {
        element(out, "format", f);
    }
    if let Some(p) = record.publication.as_deref().or(record.book_title.as_deref()) {
        element(out, "source", p);
    }
    // The series and number a report is known by ("OSW Commentary 137").
    // Simple DC has no series element; what a work is part of goes in
    // dc:relation (qualified DC's dcterms:isPartOf refines it). A journal
    // article's number is its issue, told by dc:source's journal instead.
    let series = super::fields::text(&record.series);
    let number = super::fields::text(&record.number);
    if let Some(series) = series.filter(|_| record.publication.is_none()) {
        match number {
            Some(n) => element(out, "relation", &format!("{series} {n}")),
            None => element(out, "relation", series),
        }
    }
    for l in &languages {
        element(out, "language", l);
    }
    if let Some(u) = &record.official_url {
        element(out, "relation", u);
    }
    for r in &record.related {
        element(out, "relation", &r.url);
    }
    let mut rights: Vec<&str> = record.license.iter().map(String::as_str).collect();
    for (doc, _) in ctx.open_documents(record) {
        if let Some(l) = doc.license.as_deref().filter(|l| !rights.contains(l)) {
            rights.push(l);
        }
    }
    // A licence as its address where it has one (`cc_by` is EPrints'
    // code, which no harvester reads): the URL DRIVER and OpenAIRE ask for.
    for r in rights {
        element(out, "rights", &super::fields::license_url(r).unwrap_or_else(|| r.to_string()));
    }
    out.push_str("</oai_dc:dc>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use arkiv_model::{Creator, Document, DocumentSecurity, StoredFile};

    fn ctx() -> ExportContext {
        ExportContext::example()
    }

    #[test]
    fn licence_as_url_subjects_once_series_and_number() {
        let mut r = Record::new("policy_paper", "Kazakhstan");
        r.id = Some(1);
        r.license = Some("cc_by_nc_nd".into());
        r.keywords = vec!["Kazakhstan".into(), "kazakhstan".into(), "Russia".into()];
        r.series = Some("OSW Commentary".into());
        r.number = Some("137".into());
        let mut out = String::new();
        write_oai_dc(&r, &ctx(), &mut out);
        assert!(out.contains("<dc:rights>https://creativecommons.org/licenses/by-nc-nd/4.0/</dc:rights>"), "{out}");
        assert_eq!(out.matches("<dc:subject>").count(), 2, "Kazakhstan once, Russia: {out}");
        assert!(out.contains("<dc:relation>OSW Commentary 137</dc:relation>"), "{out}");
        r.license = Some("a licence of our own".into());
        let mut out = String::new();
        write_oai_dc(&r, &ctx(), &mut out);
        assert!(out.contains("<dc:rights>a licence of our own</dc:rights>"), "one without a URL stays as it is: {out}");
    }

    #[test]
    fn names_open_files_only_and_never_emails() {
        let mut r = Record::new("article", "Rock & <Roll>");
        r.id = Some(12);
        let mut c = Creator::new("Curie", "Marie");
        c.email = Some("marie@example.org".into());
        r.creators.push(c);
        r.refereed = Some(true);
        let file = |name: &str| StoredFile { filename: name.into(), sha256: Some("ab".into()), ..Default::default() };
        r.documents.push(Document {
            pos: 1,
            files: vec![file("open.pdf")],
            mime_type: Some("application/pdf".into()),
            ..Default::default()
        });
        r.documents.push(Document {
            pos: 2,
            files: vec![file("closed.pdf")],
            security: DocumentSecurity::Staffonly,
            ..Default::default()
        });
        let mut s = String::new();
        write_oai_dc(&r, &ctx(), &mut s);
        assert!(s.contains("<dc:title>Rock &amp; &lt;Roll&gt;</dc:title>"), "{s}");
        assert!(s.contains("<dc:creator>Curie, Marie</dc:creator>"));
        assert!(s.contains("<dc:type>Article</dc:type><dc:type>PeerReviewed</dc:type>"));
        assert!(s.contains("<dc:identifier>https://repo.example.org/12/</dc:identifier>"));
        assert!(s.contains("<dc:identifier>https://repo.example.org/12/1/open.pdf</dc:identifier>"));
        assert!(!s.contains("closed.pdf"));
        assert!(!s.contains("marie@"));
    }
}
