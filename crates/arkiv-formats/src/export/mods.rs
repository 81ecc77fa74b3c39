//! MODS 3.8 (the Library of Congress's Metadata Object Description Schema),
//! as library catalogues and discovery layers harvest it: one `<mods>`
//! element per record, a `<modsCollection>` around a list, and the OAI-PMH
//! `mods` metadata format. The schema has no empty collection (at least one
//! `<mods>`), so an empty list is refused, never written
//! ([`super::ExportFormat::list_may_be_empty`]).
//!
//! Written by hand (through [`super::xml::XmlOut`]) because no crate writes
//! MODS; the mapping follows the Library of Congress's MARC-to-MODS and
//! EPrints' own MODS export where they agree. Only open-access files are
//! linked, and no creator's e-mail address or local id is written. A new
//! version of an earlier record says so (`relatedItem type="otherVersion"`).

use super::xml::{
    bare_doi, bare_orcid, iso639_2b, one_line, page_range, present, record_license, relator_code, relator_term, XmlOut,
};
use super::{ExportContext, ExportFormat, ExportWriter, OaiFormat};
use arkiv_model::{Creator, Record};
use std::io::{self, Write};

pub const MODS_NS: &str = "http://www.loc.gov/mods/v3";
pub const MODS_SCHEMA: &str = "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

pub const MODS: ExportFormat = ExportFormat {
    id: "mods",
    label: "MODS 3.8",
    media_type: "application/mods+xml; charset=utf-8",
    extension: "xml",
    writer: |ctx| Box::new(ModsWriter { ctx: ctx.clone() }),
    // `modsCollection` requires at least one `mods` (MODS 3.8 schema).
    list_may_be_empty: false,
    oai: Some(OaiFormat { prefix: "mods", schema: MODS_SCHEMA, namespace: MODS_NS, element: mods_element }),
};

/// The record as a standalone `<mods>` element declaring its namespaces, as
/// OAI-PMH embeds it.
pub fn mods_element(record: &Record, ctx: &ExportContext, out: &mut String) {
    let location = format!("{MODS_NS} {MODS_SCHEMA}");
    let mut x = XmlOut::new(out, 0);
    x.open("mods", &[("xmlns", MODS_NS), ("xmlns:xsi", XSI_NS), ("version", "3.8"), ("xsi:schemaLocation", &location)]);
    write_body(record, ctx, &mut x);
    x.close("mods");
}

struct ModsWriter {
    ctx: ExportContext,
}

impl ExportWriter for ModsWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        write!(
            out,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<modsCollection xmlns=\"{MODS_NS}\" xmlns:xsi=\"{XSI_NS}\" xsi:schemaLocation=\"{MODS_NS} {MODS_SCHEMA}\">\n"
        )
    }
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let mut s = String::new();
        let mut x = XmlOut::new(&mut s, 1);
        x.open("mods", &[("version", "3.8")]);
        write_body(record, &self.ctx, &mut x);
        x.close("mods");
        out.write_all(s.as_bytes())
    }
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"</modsCollection>\n")
    }
}

/// MODS's `typeOfResource` and a MARC genre term (`marcgt`) for an item type.
///
/// Importers type a record by the `marcgt` genre (Zotero's MODS.js,
/// `fromMarcGenre`: "technical report" is a report, "article" a journal
/// article, "thesis" a thesis), so every type that has a term gets one. A
/// monograph is EPrints' numbered grey literature (technical reports,
/// working and discussion papers), a report, not a book. A book section has
/// no term: its `host` item makes it a chapter.
fn resource_type(item_type: &str) -> (&'static str, Option<&'static str>) {
    match item_type {
        "book" => ("text", Some("book")),
        "thesis" => ("text", Some("thesis")),
        "conference_item" => ("text", Some("conference publication")),
        "report" | "working_paper" | "policy_paper" | "monograph" => ("text", Some("technical report")),
        "patent" => ("text", Some("patent")),
        "article" => ("text", Some("article")),
        "book_section" | "teaching_resource" | "other" => ("text", None),
        "dataset" => ("software, multimedia", Some("database")),
        "image" => ("still image", Some("picture")),
        "video" => ("moving image", Some("videorecording")),
        "audio" => ("sound recording", Some("sound")),
        "composition" => ("notated music", None),
        "artefact" => ("three dimensional object", None),
        "exhibition" | "performance" | "experiment" => ("mixed material", None),
        _ => ("text", None),
    }
}

fn write_name(x: &mut XmlOut, person: &Creator, code: Option<&str>, term: &str) {
    let name = &person.name;
    if name.family.trim().is_empty() && name.given.trim().is_empty() {
        return;
    }
    x.open("name", &[("type", "personal")]);
    x.leaf("namePart", &[("type", "family")], &one_line(&name.family));
    x.leaf("namePart", &[("type", "given")], &one_line(&name.given));
    x.leaf("displayForm", &[], &one_line(&name.inverted()));
    // Every creator who is not an author is also a contributor (`ctb`),
    // said first: an importer that cannot use the specific role for the
    // item type (Zotero has no "thesis advisor", and no editor of a
    // report) then keeps the person as a contributor instead of making
    // them an author. Zotero's MODS.js (`processCreator`) takes the last
    // role it can use, so the specific role, written after, wins where it
    // fits.
    if !matches!(code, Some("aut") | Some("ctb")) {
        x.open("role", &[]);
        x.leaf("roleTerm", &[("type", "code"), ("authority", "marcrelator")], "ctb");
        x.leaf("roleTerm", &[("type", "text"), ("authority", "marcrelator")], "contributor");
        x.close("role");
    }
    x.open("role", &[]);
    if let Some(code) = code {
        x.leaf("roleTerm", &[("type", "code"), ("authority", "marcrelator")], code);
    }
    x.leaf("roleTerm", &[("type", "text"), ("authority", "marcrelator")], term);
    x.close("role");
    if let Some(orcid) = person.orcid.as_deref().and_then(bare_orcid) {
        x.leaf(
            "nameIdentifier",
            &[("type", "orcid"), ("typeURI", "https://orcid.org")],
            &format!("https://orcid.org/{orcid}"),
        );
    }
    x.close("name");
}

fn write_body(record: &Record, ctx: &ExportContext, x: &mut XmlOut) {
    x.open("titleInfo", &[]);
    x.leaf("title", &[], &one_line(&record.title));
    x.close("titleInfo");

    for creator in &record.creators {
        write_name(x, creator, Some("aut"), "author");
    }
    for corporate in &record.corp_creators {
        if corporate.name.trim().is_empty() {
            continue;
        }
        x.open("name", &[("type", "corporate")]);
        x.leaf("namePart", &[], &one_line(&corporate.name));
        x.open("role", &[]);
        x.leaf("roleTerm", &[("type", "code"), ("authority", "marcrelator")], "aut");
        x.leaf("roleTerm", &[("type", "text"), ("authority", "marcrelator")], "author");
        x.close("role");
        x.close("name");
    }
    for editor in &record.editors {
        write_name(x, editor, Some("edt"), "editor");
    }
    for contributor in &record.contributors {
        write_name(
            x,
            &contributor.person,
            relator_code(&contributor.role).as_deref(),
            &relator_term(&contributor.role),
        );
    }

    let (type_of_resource, marc_genre) = resource_type(&record.item_type);
    x.leaf("typeOfResource", &[], type_of_resource);
    if let Some(genre) = marc_genre {
        x.leaf("genre", &[("authority", "marcgt")], genre);
    }
    x.leaf("genre", &[("authority", "local"), ("type", &record.item_type)], ctx.item_types.label(&record.item_type));
    // The kind within the type ("Working Paper", "PhD thesis"), named by
    // the EPrints field it comes from.
    if record.subtype().is_some() {
        let field = arkiv_model::subtype_field(&record.item_type);
        x.leaf(
            "genre",
            &[("authority", "local"), ("type", field)],
            &super::fields::kind_label(record, &ctx.item_types),
        );
    }

    let publisher = present(&record.publisher).or(present(&record.institution));
    if record.date.is_some_and(|d| d.is_valid()) || publisher.is_some() || present(&record.place_of_pub).is_some() {
        x.open("originInfo", &[("eventType", "publication")]);
        if let Some(place) = present(&record.place_of_pub) {
            x.open("place", &[]);
            x.leaf("placeTerm", &[("type", "text")], &one_line(place));
            x.close("place");
        }
        x.opt_leaf("publisher", &[], publisher.map(one_line).as_deref());
        if let Some(date) = record.date.filter(|d| d.is_valid()) {
            let date = date.to_string();
            let attrs = [("encoding", "w3cdtf"), ("keyDate", "yes")];
            match record.date_type.as_deref() {
                Some("completed") => x.leaf("dateCreated", &attrs, &date),
                Some("submitted") => {
                    x.leaf("dateOther", &[("encoding", "w3cdtf"), ("keyDate", "yes"), ("type", "submitted")], &date)
                }
                _ => x.leaf("dateIssued", &attrs, &date),
            }
        }
        x.close("originInfo");
    }

    for language in &record.languages {
        x.open("language", &[]);
        match iso639_2b(language) {
            Some(code) => x.leaf("languageTerm", &[("type", "code"), ("authority", "iso639-2b")], code),
            None if language.trim().len() == 2 => {
                x.leaf("languageTerm", &[("type", "code"), ("authority", "iso639-1")], language)
            }
            None => x.leaf("languageTerm", &[("type", "text")], language),
        }
        x.close("language");
    }

    let open: Vec<_> = ctx.open_documents(record).collect();
    let media_types: Vec<&str> = {
        let mut m: Vec<&str> = open
            .iter()
            .filter_map(|(d, _)| d.mime_type.as_deref().or(d.main_file().and_then(|f| f.mime_type.as_deref())))
            .collect();
        m.sort();
        m.dedup();
        m
    };
    if present(&record.pages).is_some() || !media_types.is_empty() {
        x.open("physicalDescription", &[]);
        for m in &media_types {
            x.leaf("internetMediaType", &[], m);
        }
        if let Some(pages) = present(&record.pages) {
            let extent =
                if pages.chars().all(|c| c.is_ascii_digit()) { format!("{pages} pages") } else { one_line(pages) };
            x.leaf("extent", &[], &extent);
        }
        x.close("physicalDescription");
    }

    x.opt_leaf("abstract", &[], present(&record.abstract_text));
    x.opt_leaf("note", &[], present(&record.note));

    for subject in &record.subjects {
        x.open("subject", &[("authority", "local")]);
        x.leaf("topic", &[], ctx.subjects.name(subject));
        x.close("subject");
    }
    for keyword in &record.keywords {
        if keyword.trim().is_empty() {
            continue;
        }
        x.open("subject", &[]);
        x.leaf("topic", &[], &one_line(keyword));
        x.close("subject");
    }

    if let Some(series) = present(&record.series) {
        x.open("relatedItem", &[("type", "series")]);
        x.open("titleInfo", &[]);
        x.leaf("title", &[], &one_line(series));
        x.opt_leaf("partNumber", &[], present(&record.number));
        x.close("titleInfo");
        x.close("relatedItem");
    }
    let host = present(&record.publication).or(present(&record.book_title)).or(present(&record.event_title));
    if let Some(host) = host {
        x.open("relatedItem", &[("type", "host")]);
        x.open("titleInfo", &[]);
        x.leaf("title", &[], &one_line(host));
        x.close("titleInfo");
        if present(&record.publication).is_some() {
            x.opt_leaf("identifier", &[("type", "issn")], present(&record.issn));
        }
        let volume = present(&record.volume);
        // A journal issue's number; a series number went with the series.
        let issue = present(&record.number).filter(|_| present(&record.series).is_none());
        let range = present(&record.pagerange);
        if volume.is_some() || issue.is_some() || range.is_some() {
            x.open("part", &[]);
            if let Some(volume) = volume {
                x.open("detail", &[("type", "volume")]);
                x.leaf("number", &[], volume);
                x.close("detail");
            }
            if let Some(issue) = issue {
                x.open("detail", &[("type", "issue")]);
                x.leaf("number", &[], issue);
                x.close("detail");
            }
            if let Some(range) = range {
                let (start, end) = page_range(range);
                x.open("extent", &[("unit", "pages")]);
                x.opt_leaf("start", &[], start.as_deref());
                x.opt_leaf("end", &[], end.as_deref());
                x.close("extent");
            }
            if let Some(date) = record.date.filter(|d| d.is_valid()) {
                x.leaf("date", &[("encoding", "w3cdtf")], &date.to_string());
            }
            x.close("part");
        }
        x.close("relatedItem");
    }
    // A new version names the earlier record it succeeds. MODS's word for
    // another version of the same resource is `otherVersion` (`preceding`
    // is a serial's earlier title, not an earlier version); the earlier
    // record is identified by its landing page, as DataCite's
    // `IsNewVersionOf` does.
    if let Some(earlier) = ctx.earlier_version_url(record) {
        x.open("relatedItem", &[("type", "otherVersion"), ("displayLabel", "Earlier version")]);
        x.leaf("identifier", &[("type", "uri")], &earlier);
        x.close("relatedItem");
    }

    if let Some(doi) = present(&record.doi).and_then(bare_doi) {
        x.leaf("identifier", &[("type", "doi")], &doi);
    }
    x.opt_leaf("identifier", &[("type", "isbn")], present(&record.isbn));
    if present(&record.publication).is_none() {
        x.opt_leaf("identifier", &[("type", "issn")], present(&record.issn));
    }
    x.opt_leaf("identifier", &[("type", "local")], present(&record.id_number));
    let landing = ctx.record_url(record);
    x.leaf("identifier", &[("type", "uri")], &landing);

    x.open("location", &[]);
    x.leaf("url", &[("access", "object in context"), ("usage", "primary display")], &landing);
    for (_, url) in &open {
        if let Some(url) = url {
            x.leaf("url", &[("access", "raw object")], url);
        }
    }
    x.close("location");

    if let Some(license) = record_license(record, ctx) {
        // The licence's URL where it has a known one: `cc_by` means nothing
        // to a catalogue.
        let text = super::fields::license_url(&license).unwrap_or(license);
        x.leaf("accessCondition", &[("type", "use and reproduction")], &text);
    }
    if !record.documents.is_empty() {
        let text = if open.len() == record.documents.len() {
            "Open access"
        } else if open.is_empty() {
            "Restricted access"
        } else {
            "Partly open access"
        };
        x.leaf("accessCondition", &[("type", "restriction on access")], text);
    }

    x.open("recordInfo", &[]);
    x.leaf("recordContentSource", &[], &ctx.repository_name);
    if let Some(created) = record.datestamp {
        x.leaf("recordCreationDate", &[("encoding", "w3cdtf")], &created.day());
    }
    if let Some(changed) = record.lastmod {
        x.leaf("recordChangeDate", &[("encoding", "w3cdtf")], &changed.day());
    }
    x.leaf("recordIdentifier", &[("source", &ctx.repository_name)], &ctx.oai_identifier(record));
    x.close("recordInfo");
}
