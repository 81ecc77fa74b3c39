//! RIS, the tagged format every reference manager imports (EndNote,
//! Zotero, Mendeley, Citavi). Hand-written: a line format of two-letter
//! tags, simpler to write than to wrap, and no crate covers its per-type
//! conventions.
//!
//! Each record is a block from `TY` to `ER`, one value per line, lines
//! ended CR LF as the specification has them. Repeatable tags (`AU`, `KW`)
//! come once per value. Dates keep their precision: `DA  - 2014/05//` for a
//! month.

use super::fields::{self, Genre};
use super::{ExportContext, ExportFormat, ExportWriter};
use arkiv_model::Record;
use std::io::{self, Write};

pub const RIS: ExportFormat = ExportFormat {
    id: "ris",
    label: "RIS",
    media_type: "application/x-research-info-systems; charset=utf-8",
    extension: "ris",
    writer: |ctx| Box::new(RisWriter { ctx: ctx.clone() }),
    list_may_be_empty: true,
    oai: None,
};

struct RisWriter {
    ctx: ExportContext,
}

impl ExportWriter for RisWriter {
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let mut text = String::with_capacity(2048);
        write_record(record, &self.ctx, &mut text);
        out.write_all(text.as_bytes())
    }
}

/// The RIS type of a record: reports and papers are `RPRT`.
pub fn ris_type(record: &Record) -> &'static str {
    match Genre::of(record) {
        Genre::Article => "JOUR",
        Genre::Book => "BOOK",
        Genre::BookSection => "CHAP",
        Genre::Conference => "CONF",
        Genre::Thesis => "THES",
        Genre::Report => "RPRT",
        Genre::Dataset => "DATA",
        Genre::Patent => "PAT",
        Genre::Other => "GEN",
    }
}

fn tag(out: &mut String, tag: &str, value: &str) {
    let value = fields::one_line(value);
    if value.is_empty() {
        return;
    }
    out.push_str(tag);
    out.push_str("  - ");
    out.push_str(&value);
    out.push_str("\r\n");
}

fn opt(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        tag(out, name, v);
    }
}

pub fn write_record(record: &Record, ctx: &ExportContext, out: &mut String) {
    tag(out, "TY", ris_type(record));
    for c in &record.creators {
        tag(out, "AU", &c.name.inverted());
    }
    for c in &record.corp_creators {
        tag(out, "AU", &c.name);
    }
    for e in &record.editors {
        tag(out, "A2", &e.name.inverted());
    }
    // Thesis advisors and other contributors: the "tertiary" authors.
    for c in &record.contributors {
        tag(out, "A3", &c.person.name.inverted());
    }
    tag(out, "TI", &record.title);
    let genre = Genre::of(record);
    // A report's series and number. Importers read a `RPRT` by the tags
    // the RIS specification's table for that reference type gives it, not
    // by the tags' general names: Zotero (RIS.js, `fieldMap`) takes `T2` as the report's series title,
    // `SN` as its report number and `M3` as its report type, and drops
    // `T3` and `IS` for a report. So a report's series goes in `T2`, its
    // number in `SN` (an ISBN or ISSN of a report is then left out: it
    // would be read as the number), its kind in `M3`.
    let report = genre == Genre::Report;
    if report {
        opt(out, "T2", fields::text(&record.series));
        tag(out, "M3", &fields::kind_label(record, &ctx.item_types));
    } else if genre == Genre::Conference {
        // Zotero's RIS.js: a `CONF`'s T2 is the conference's name, C3 the
        // proceedings' title. Proceedings without a named event are still
        // C3: in T2 they would be read as the conference.
        opt(out, "T2", fields::text(&record.event_title));
        opt(out, "C3", fields::proceedings(record));
        opt(out, "T3", fields::text(&record.series));
    } else {
        opt(out, "T2", fields::container(record));
        opt(out, "T3", fields::text(&record.series));
    }
    if genre == Genre::Thesis {
        // Zotero's thesis type (RIS.js: M3 is thesisType for a thesis).
        let kind = match record.subtype() {
            Some(_) => fields::kind_label(record, &ctx.item_types),
            None => "PhD thesis".to_string(),
        };
        tag(out, "M3", &kind);
    }
    if let Some(date) = record.date {
        tag(out, "PY", &format!("{:04}", date.year));
        let part = |p: Option<u8>| p.map(|v| format!("{v:02}")).unwrap_or_default();
        tag(out, "DA", &format!("{:04}/{}/{}/", date.year, part(date.month), part(date.day)));
    }
    opt(out, "VL", fields::text(&record.volume));
    if !report {
        opt(out, "IS", fields::text(&record.number));
    }
    if let Some(range) = fields::text(&record.pagerange) {
        let (first, last) = fields::page_bounds(range);
        tag(out, "SP", &first);
        opt(out, "EP", last.as_deref());
    } else if matches!(genre, Genre::Book | Genre::Thesis | Genre::Report) {
        // A whole work's page count: Zotero's RIS.js reads a lone `SP` of
        // a book or thesis as its number of pages, and so does the reader.
        opt(out, "SP", fields::text(&record.pages));
    }
    let publisher = match genre {
        Genre::Report | Genre::Thesis => fields::issuing_body(record),
        _ => fields::text(&record.publisher),
    };
    opt(out, "PB", publisher);
    opt(out, "CY", fields::text(&record.place_of_pub));
    if report {
        opt(out, "SN", fields::text(&record.number).or(fields::text(&record.id_number)));
    } else {
        opt(out, "SN", fields::text(&record.isbn).or(fields::text(&record.issn)));
    }
    opt(out, "DO", fields::bare_doi(record));
    tag(out, "UR", &ctx.record_url(record));
    for (_, url) in ctx.open_documents(record) {
        opt(out, "L1", url.as_deref());
    }
    opt(out, "AB", fields::text(&record.abstract_text));
    for k in &record.keywords {
        tag(out, "KW", k);
    }
    for lang in &record.languages {
        tag(out, "LA", lang);
    }
    opt(out, "N1", fields::text(&record.note));
    out.push_str("ER  - \r\n\r\n");
}
