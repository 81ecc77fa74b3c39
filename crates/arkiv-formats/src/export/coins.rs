//! COinS: a record as an OpenURL 1.0 context object in KEV form (Z39.88-2004),
//! the `title` of the `<span class="Z3988">` on every abstract page, which
//! reference managers read; and the same as an export (EPrints' `COinS`
//! plugin), one context object per line. Hand-written: a few keys by rule,
//! which no crate carries.

use super::{ExportContext, ExportFormat, ExportWriter};
use arkiv_model::Record;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::io::{self, Write};

/// Everything but unreserved characters is escaped in a value.
const KEV: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub const COINS: ExportFormat = ExportFormat {
    id: "coins",
    label: "COinS (OpenURL context objects)",
    media_type: "text/plain; charset=utf-8",
    extension: "txt",
    writer: |ctx| Box::new(CoinsWriter { ctx: ctx.clone() }),
    list_may_be_empty: true,
    oai: None,
};

struct CoinsWriter {
    ctx: ExportContext,
}

impl ExportWriter for CoinsWriter {
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", context_object(&self.ctx, record))
    }
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn doi(record: &Record) -> Option<&str> {
    nonempty(&record.doi).map(|d| d.trim_start_matches("https://doi.org/").trim_start_matches("doi:"))
}

/// The COinS (OpenURL 1.0 KEV) context object of the record.
pub fn context_object(ctx: &ExportContext, record: &Record) -> String {
    let mut kv: Vec<(&str, String)> = vec![("ctx_ver", "Z39.88-2004".into())];
    let kind = record.item_type.as_str();
    let (fmt, genre, title_key) = match kind {
        "article" => ("journal", Some("article"), "atitle"),
        "book" => ("book", Some("book"), "btitle"),
        "book_section" => ("book", Some("bookitem"), "atitle"),
        "report" | "working_paper" | "policy_paper" | "monograph" => ("book", Some("report"), "btitle"),
        "conference_item" => ("book", Some("proceeding"), "atitle"),
        // Z39.88's dissertation format, which reference managers read as a
        // thesis (Zotero's `parseContextObject`); the `dc` format would
        // make it a web page.
        "thesis" => ("dissertation", None, "title"),
        _ => ("dc", None, "title"),
    };
    kv.push(("rft_val_fmt", format!("info:ofi/fmt:kev:mtx:{fmt}")));
    if let Some(g) = genre {
        kv.push(("rft.genre", g.into()));
    }
    kv.push((
        if title_key == "atitle" {
            "rft.atitle"
        } else if title_key == "btitle" {
            "rft.btitle"
        } else {
            "rft.title"
        },
        record.title.trim().into(),
    ));
    if kind == "article" {
        if let Some(j) = nonempty(&record.publication) {
            kv.push(("rft.jtitle", j.into()));
        }
    }
    if kind == "book_section" {
        if let Some(b) = nonempty(&record.book_title) {
            kv.push(("rft.btitle", b.into()));
        }
    }
    // A conference paper's proceedings are the book it is in.
    if kind == "conference_item" {
        if let Some(b) = super::fields::proceedings(record) {
            kv.push(("rft.btitle", b.into()));
        }
    }
    let author_key = if fmt == "dc" { "rft.creator" } else { "rft.au" };
    for c in &record.creators {
        kv.push((author_key, c.name.inverted()));
    }
    if let Some(d) = record.date {
        kv.push(("rft.date", d.to_string()));
    }
    for (key, value) in [
        ("rft.volume", &record.volume),
        ("rft.issn", &record.issn),
        ("rft.isbn", &record.isbn),
        ("rft.pub", &record.publisher),
        ("rft.series", &record.series),
    ] {
        if let Some(v) = nonempty(value) {
            if matches!(fmt, "journal" | "book") {
                kv.push((key, v.into()));
            }
        }
    }
    if let Some(range) = nonempty(&record.pagerange).filter(|_| matches!(fmt, "journal" | "book")) {
        kv.push(("rft.pages", range.into()));
    }
    if fmt == "dissertation" {
        if let Some(inst) = super::fields::issuing_body(record) {
            kv.push(("rft.inst", inst.trim().into()));
        }
        let degree = record.subtype().map(arkiv_model::subtype_label).unwrap_or_else(|| "PhD".into());
        kv.push(("rft.degree", degree));
    }
    if fmt == "dc" {
        kv.push(("rft.type", ctx.item_types.label(kind).into()));
        // Only the Dublin Core matrix has these keys.
        if let Some(abstract_text) = nonempty(&record.abstract_text) {
            kv.push(("rft.description", super::fields::one_line(abstract_text)));
        }
        for language in &record.languages {
            kv.push(("rft.language", language.trim().into()));
        }
        if let Some(license) = nonempty(&record.license) {
            kv.push(("rft.rights", super::fields::license_url(license).unwrap_or_else(|| license.into())));
        }
    }
    if let Some(d) = doi(record) {
        kv.push(("rft_id", format!("info:doi/{d}")));
    }
    kv.push(("rft_id", ctx.record_url(record)));
    kv.iter().map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, KEV))).collect::<Vec<_>>().join("&")
}
