//! OpenURL ContextObjects in XML (Z39.88-2004, `info:ofi/fmt:xml:xsd:ctx`):
//! what EPrints' `ContextObject` export plugin gives, for link resolvers
//! and the services that read them. Each record is a `<ctx:context-object>`
//! whose referent carries the record's identifiers and its metadata by
//! value in the OpenURL metadata format of its kind: a journal article
//! (`info:ofi/fmt:xml:xsd:journal`), a book, chapter, report or conference
//! paper (`…:book`), a thesis (`…:dissertation`), anything else as Dublin
//! Core (`…:oai_dc`).
//!
//! Written by hand because no crate writes these schemas. The element
//! names and which record fields feed them follow EPrints' plugin
//! (perl_lib/EPrints/Plugin/Export/ContextObject.pm and its Journal, Book
//! and Dissertation parts at github:eprints/eprints3.4 ca3f7929), with two
//! corrections: each format's own root element (`journal`, `book`,
//! `dissertation`; EPrints writes `journal` for all) and its elements in
//! the order of the OpenURL KEV matrices the XML formats were drawn from
//! (EPrints writes a Perl hash's order). The schemas themselves are not in
//! this project's set (`../shared/xsd`), so no test validates against them.

use super::xml::{bare_doi, XmlOut};
use super::{ExportContext, ExportFormat, ExportWriter};
use arkiv_model::Record;
use std::io::{self, Write};

const CTX_NS: &str = "info:ofi/fmt:xml:xsd:ctx";
const CTX_SCHEMA: &str = "http://www.openurl.info/registry/docs/info:ofi/fmt:xml:xsd:ctx";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

pub const CONTEXT_OBJECT: ExportFormat = ExportFormat {
    id: "context_object",
    label: "OpenURL ContextObject (XML)",
    media_type: "text/xml; charset=utf-8",
    extension: "xml",
    writer: |ctx| Box::new(ContextObjectWriter { ctx: ctx.clone() }),
    list_may_be_empty: true,
    oai: None,
};

struct ContextObjectWriter {
    ctx: ExportContext,
}

impl ExportWriter for ContextObjectWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        write!(
            out,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ctx:context-objects xmlns:ctx=\"{CTX_NS}\" xmlns:xsi=\"{XSI_NS}\" xsi:schemaLocation=\"{CTX_NS} {CTX_SCHEMA}\">\n"
        )
    }

    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let mut s = String::new();
        context_object(&self.ctx, record, &mut XmlOut::new(&mut s, 1));
        out.write_all(s.as_bytes())
    }

    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"</ctx:context-objects>\n")
    }
}

/// The OpenURL metadata format a record's kind takes: its namespace, root
/// element and prefix, and the `genre` it names (EPrints' mappings).
struct Kind {
    name: &'static str,
    prefix: &'static str,
    genre: Option<&'static str>,
}

fn kind_of(item_type: &str) -> Kind {
    let (name, prefix, genre) = match item_type {
        "article" => ("journal", "jnl", Some("article")),
        "book" => ("book", "bk", Some("book")),
        "book_section" => ("book", "bk", Some("bookitem")),
        "conference_item" => ("book", "bk", Some("proceeding")),
        "report" | "working_paper" | "policy_paper" | "monograph" => ("book", "bk", Some("report")),
        "thesis" => ("dissertation", "dis", None),
        _ => ("oai_dc", "oai_dc", None),
    };
    Kind { name, prefix, genre }
}

fn text(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn context_object(ctx: &ExportContext, record: &Record, x: &mut XmlOut) {
    let timestamp = record.lastmod.map(|t| t.to_iso8601()).unwrap_or_default();
    let identifier = ctx.record_url(record);
    let mut attrs = vec![("version", "Z39.88-2004"), ("identifier", identifier.as_str())];
    if !timestamp.is_empty() {
        attrs.push(("timestamp", timestamp.as_str()));
    }
    x.open("ctx:context-object", &attrs);
    x.open("ctx:referent", &[]);
    x.leaf("ctx:identifier", &[], &format!("info:{}", ctx.oai_identifier(record)));
    if let Some(doi) = text(&record.doi).and_then(bare_doi) {
        x.leaf("ctx:identifier", &[], &format!("info:doi/{doi}"));
    }
    x.leaf("ctx:identifier", &[], &identifier);
    let kind = kind_of(&record.item_type);
    let ns = format!("info:ofi/fmt:xml:xsd:{}", kind.name);
    x.open("ctx:metadata-by-val", &[]);
    x.leaf("ctx:format", &[], &ns);
    x.open("ctx:metadata", &[]);
    if kind.name == "oai_dc" {
        dublin_core(ctx, record, x);
    } else {
        let root = format!("{}:{}", kind.prefix, kind.name);
        let location = format!("{ns} http://www.openurl.info/registry/docs/{ns}");
        x.open(&root, &[(&format!("xmlns:{}", kind.prefix), &ns), ("xsi:schemaLocation", &location)]);
        entity(record, &kind, x);
        x.close(&root);
    }
    x.close("ctx:metadata");
    x.close("ctx:metadata-by-val");
    x.close("ctx:referent");
    x.close("ctx:context-object");
}

/// A journal, book or dissertation entity, its elements in the order of
/// the format's KEV matrix.
fn entity(record: &Record, kind: &Kind, x: &mut XmlOut) {
    let el = |name: &str| format!("{}:{name}", kind.prefix);
    if !record.creators.is_empty() {
        x.open(&el("authors"), &[]);
        for c in &record.creators {
            x.open(&el("author"), &[]);
            x.leaf(&el("aulast"), &[], &c.name.family);
            x.leaf(&el("aufirst"), &[], &c.name.given);
            x.close(&el("author"));
        }
        x.close(&el("authors"));
    }
    let date = record.date.map(|d| d.to_string());
    match kind.name {
        "journal" => {
            x.leaf(&el("atitle"), &[], &record.title);
            x.opt_leaf(&el("jtitle"), &[], text(&record.publication));
            x.opt_leaf(&el("date"), &[], date.as_deref());
            x.opt_leaf(&el("volume"), &[], text(&record.volume));
            x.opt_leaf(&el("issue"), &[], text(&record.number));
            x.opt_leaf(&el("pages"), &[], text(&record.pagerange));
            x.opt_leaf(&el("issn"), &[], text(&record.issn));
            x.opt_leaf(&el("isbn"), &[], text(&record.isbn));
        }
        "book" => {
            let whole = matches!(kind.genre, Some("book") | Some("report"));
            if whole {
                x.leaf(&el("btitle"), &[], &record.title);
            } else {
                x.opt_leaf(&el("btitle"), &[], text(&record.book_title).or(text(&record.event_title)));
                x.leaf(&el("atitle"), &[], &record.title);
            }
            x.opt_leaf(&el("place"), &[], text(&record.place_of_pub));
            x.opt_leaf(&el("pub"), &[], text(&record.publisher).or(text(&record.institution)));
            x.opt_leaf(&el("date"), &[], date.as_deref());
            x.opt_leaf(&el("tpages"), &[], text(&record.pages));
            let series = match (text(&record.series), text(&record.number)) {
                (Some(s), Some(n)) => Some(format!("{s} {n}")),
                (Some(s), None) => Some(s.to_string()),
                _ => None,
            };
            x.opt_leaf(&el("series"), &[], series.as_deref());
            x.opt_leaf(&el("pages"), &[], text(&record.pagerange));
            x.opt_leaf(&el("issn"), &[], text(&record.issn));
            x.opt_leaf(&el("isbn"), &[], text(&record.isbn));
        }
        _ => {
            x.leaf(&el("title"), &[], &record.title);
            x.opt_leaf(&el("inst"), &[], text(&record.institution));
            x.opt_leaf(&el("date"), &[], date.as_deref());
            x.opt_leaf(&el("tpages"), &[], text(&record.pages));
            x.opt_leaf(&el("isbn"), &[], text(&record.isbn));
        }
    }
    x.opt_leaf(&el("genre"), &[], kind.genre);
}

/// Anything without an OpenURL format of its own, as Dublin Core (what
/// EPrints' `other` type gives).
fn dublin_core(ctx: &ExportContext, record: &Record, x: &mut XmlOut) {
    const OAI_DC: &str = "http://www.openarchives.org/OAI/2.0/oai_dc/";
    const DC: &str = "http://purl.org/dc/elements/1.1/";
    let location = format!("{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd");
    x.open("oai_dc:dc", &[("xmlns:oai_dc", OAI_DC), ("xmlns:dc", DC), ("xsi:schemaLocation", &location)]);
    x.leaf("dc:title", &[], &record.title);
    for c in &record.creators {
        x.leaf("dc:creator", &[], &c.name.inverted());
    }
    for c in &record.corp_creators {
        x.leaf("dc:creator", &[], &c.name);
    }
    x.opt_leaf("dc:publisher", &[], text(&record.publisher).or(text(&record.institution)));
    x.opt_leaf("dc:date", &[], record.date.map(|d| d.to_string()).as_deref());
    x.leaf("dc:type", &[], ctx.item_types.label(&record.item_type));
    x.leaf("dc:identifier", &[], &ctx.record_url(record));
    x.close("oai_dc:dc");
}

#[cfg(test)]
mod tests {
    use super::*;
    use arkiv_model::Creator;

    #[test]
    fn each_kind_takes_its_format_with_its_elements_in_order() {
        let ctx = ExportContext::example();
        let mut r = Record::new("policy_paper", "Kazakhstan's attitude & Russia");
        r.id = Some(1);
        r.creators.push(Creator::new("Jaroslewlcz", "Aleksandra"));
        r.series = Some("OSW Commentary".into());
        r.number = Some("137".into());
        r.date = Some("2014-05-29".parse().unwrap());
        r.doi = Some("10.1234/abc".into());
        let mut s = String::new();
        context_object(&ctx, &r, &mut XmlOut::new(&mut s, 0));
        assert!(s.contains("<ctx:format>info:ofi/fmt:xml:xsd:book</ctx:format>"), "{s}");
        assert!(s.contains("<bk:book xmlns:bk=\"info:ofi/fmt:xml:xsd:book\""), "{s}");
        assert!(s.contains("attitude &amp; Russia</bk:btitle>"), "escaped: {s}");
        assert!(s.contains("<bk:series>OSW Commentary 137</bk:series>"), "{s}");
        assert!(s.contains("<ctx:identifier>info:doi/10.1234/abc</ctx:identifier>"), "{s}");
        let order = ["<bk:authors>", "<bk:btitle>", "<bk:date>", "<bk:series>", "<bk:genre>report"];
        let at: Vec<usize> = order.iter().map(|o| s.find(o).unwrap_or_else(|| panic!("{o}: {s}"))).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "the KEV matrix's order: {s}");

        let mut article = Record::new("article", "A paper");
        article.publication = Some("A Journal".into());
        let mut s = String::new();
        context_object(&ctx, &article, &mut XmlOut::new(&mut s, 0));
        assert!(
            s.contains("<jnl:atitle>A paper</jnl:atitle>") && s.contains("<jnl:jtitle>A Journal</jnl:jtitle>"),
            "{s}"
        );
        let mut other = Record::new("dataset", "Data");
        other.id = Some(2);
        let mut s = String::new();
        context_object(&ctx, &other, &mut XmlOut::new(&mut s, 0));
        assert!(
            s.contains("<ctx:format>info:ofi/fmt:xml:xsd:oai_dc</ctx:format>")
                && s.contains("<dc:title>Data</dc:title>"),
            "{s}"
        );
    }
}
