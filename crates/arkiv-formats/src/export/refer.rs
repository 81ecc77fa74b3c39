//! EndNote's tagged import format (Refer with EndNote's tags): `%0` the
//! reference type, then one `%X value` line per field. Hand-written for the
//! same reason as RIS: a line format whose conventions no crate carries.
//!
//! Records are separated by a blank line; values are one line each.

use super::fields::{self, Genre};
use super::{ExportContext, ExportFormat, ExportWriter};
use arkiv_model::Record;
use std::io::{self, Write};

pub const REFER: ExportFormat = ExportFormat {
    id: "refer",
    label: "EndNote",
    media_type: "application/x-endnote-refer; charset=utf-8",
    extension: "enw",
    writer: |ctx| Box::new(ReferWriter { ctx: ctx.clone() }),
    list_may_be_empty: true,
    oai: None,
};

struct ReferWriter {
    ctx: ExportContext,
}

impl ExportWriter for ReferWriter {
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let mut text = String::with_capacity(2048);
        write_record(record, &self.ctx, &mut text);
        out.write_all(text.as_bytes())
    }
}

/// EndNote's name of the reference type.
pub fn refer_type(record: &Record) -> &'static str {
    match Genre::of(record) {
        Genre::Article => "Journal Article",
        Genre::Book => "Book",
        Genre::BookSection => "Book Section",
        Genre::Conference => "Conference Paper",
        Genre::Thesis => "Thesis",
        Genre::Report => "Report",
        Genre::Dataset => "Dataset",
        Genre::Patent => "Patent",
        Genre::Other => "Generic",
    }
}

fn tag(out: &mut String, tag: &str, value: &str) {
    let value = fields::one_line(value);
    if value.is_empty() {
        return;
    }
    out.push('%');
    out.push_str(tag);
    out.push(' ');
    out.push_str(&value);
    out.push('\n');
}

fn opt(out: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        tag(out, name, v);
    }
}

pub fn write_record(record: &Record, ctx: &ExportContext, out: &mut String) {
    tag(out, "0", refer_type(record));
    for c in &record.creators {
        tag(out, "A", &c.name.inverted());
    }
    // EndNote reads a trailing comma as "a corporate name, do not invert".
    for c in &record.corp_creators {
        if !c.name.trim().is_empty() {
            tag(out, "A", &format!("{},", c.name.trim()));
        }
    }
    for e in &record.editors {
        tag(out, "E", &e.name.inverted());
    }
    tag(out, "T", &record.title);
    match Genre::of(record) {
        Genre::Article => opt(out, "J", fields::container(record)),
        _ => opt(out, "B", fields::container(record)),
    }
    opt(out, "S", fields::text(&record.series));
    if let Some(date) = record.date {
        tag(out, "D", &format!("{:04}", date.year));
        if date.month.is_some() {
            tag(out, "8", &date.to_string());
        }
    }
    opt(out, "V", fields::text(&record.volume));
    opt(out, "N", fields::text(&record.number));
    if let Some(range) = fields::text(&record.pagerange) {
        tag(out, "P", range);
    }
    let publisher = match Genre::of(record) {
        Genre::Report | Genre::Thesis => fields::issuing_body(record),
        _ => fields::text(&record.publisher),
    };
    opt(out, "I", publisher);
    opt(out, "C", fields::text(&record.place_of_pub));
    if matches!(Genre::of(record), Genre::Report | Genre::Thesis) {
        tag(out, "9", ctx.item_types.label(&record.item_type));
    }
    opt(out, "@", fields::text(&record.isbn).or(fields::text(&record.issn)));
    opt(out, "R", fields::bare_doi(record));
    tag(out, "U", &ctx.record_url(record));
    opt(out, "X", fields::text(&record.abstract_text));
    for k in &record.keywords {
        tag(out, "K", k);
    }
    for lang in &record.languages {
        tag(out, "G", lang);
    }
    opt(out, "Z", fields::text(&record.note));
    out.push('\n');
}
