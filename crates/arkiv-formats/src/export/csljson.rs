//! CSL-JSON, the input of every Citation Style Language processor
//! (citeproc-js in Zotero and Mendeley, pandoc, citeproc-py). One JSON
//! array of items, valid against the CSL-JSON schema; built with
//! serde_json.
//!
//! Item ids are the BibTeX keys of the same record (unique across the
//! repository), so a document citing `@jaroslewlcz2014kazakhstan-137` works
//! with either file.

use super::bibtex::KeySet;
use super::fields::{self, Genre};
use super::{ExportContext, ExportFormat, ExportWriter};
use arkiv_model::{Creator, Record};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

pub const CSL_JSON: ExportFormat = ExportFormat {
    id: "csljson",
    label: "CSL-JSON",
    media_type: "application/vnd.citationstyles.csl+json",
    extension: "json",
    writer: |ctx| Box::new(CslJsonWriter { ctx: ctx.clone(), keys: KeySet::default(), first: true }),
    list_may_be_empty: true,
    oai: None,
};

struct CslJsonWriter {
    ctx: ExportContext,
    keys: KeySet,
    first: bool,
}

impl ExportWriter for CslJsonWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"[")
    }
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let id = self.keys.unique_key(record);
        out.write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        serde_json::to_writer(&mut *out, &csl_item(record, &self.ctx, &id))?;
        Ok(())
    }
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"\n]\n")
    }
}

/// The CSL type of a record.
pub fn csl_type(record: &Record) -> &'static str {
    match Genre::of(record) {
        Genre::Article => "article-journal",
        Genre::Book => "book",
        Genre::BookSection => "chapter",
        Genre::Conference => "paper-conference",
        Genre::Thesis => "thesis",
        Genre::Report => "report",
        Genre::Dataset => "dataset",
        Genre::Patent => "patent",
        Genre::Other => "document",
    }
}

fn name(c: &Creator) -> Option<Value> {
    let family = c.name.family.trim();
    if family.is_empty() {
        return None;
    }
    let given = c.name.given.trim();
    Some(if given.is_empty() { json!({ "family": family }) } else { json!({ "family": family, "given": given }) })
}

/// One CSL-JSON item.
pub fn csl_item(record: &Record, ctx: &ExportContext, id: &str) -> Value {
    let mut item = Map::new();
    let mut set = |k: &str, v: Option<&str>| {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            item.insert(k.to_string(), Value::String(v.to_string()));
        }
    };
    set("id", Some(id));
    set("citation-key", Some(id));
    set("type", Some(csl_type(record)));
    set("title", Some(&record.title));
    let genre = Genre::of(record);
    // A conference paper's container is its proceedings; the conference's
    // name is `event-title`. Given as both, processors print it twice.
    let container = match genre {
        Genre::Conference => fields::proceedings(record),
        _ => fields::container(record),
    };
    set("container-title", container);
    set("collection-title", fields::text(&record.series));
    // A number within a series is the series' number (`collection-number`,
    // which CSL styles print after the series: "OSW Commentary No. 137");
    // as `number` beside a `genre`, processors print "Policy Paper No. 137;
    // OSW Commentary" instead. A report without a series keeps `number`.
    let in_series = fields::text(&record.series).is_some();
    let (publisher, number_key) = match genre {
        Genre::Article => (fields::text(&record.publisher), "issue"),
        Genre::Report | Genre::Thesis if in_series => (fields::issuing_body(record), "collection-number"),
        Genre::Report | Genre::Thesis => (fields::issuing_body(record), "number"),
        _ if in_series => (fields::text(&record.publisher), "collection-number"),
        _ => (fields::text(&record.publisher), "number"),
    };
    set("publisher", publisher);
    set("publisher-place", fields::text(&record.place_of_pub));
    set(number_key, fields::text(&record.number));
    set("volume", fields::text(&record.volume));
    set("page", fields::text(&record.pagerange));
    set("number-of-pages", fields::text(&record.pages));
    if matches!(genre, Genre::Report | Genre::Thesis) {
        set("genre", Some(fields::kind_label(record, &ctx.item_types).as_str()));
    }
    set("event-title", fields::text(&record.event_title));
    set("DOI", fields::bare_doi(record));
    set("ISBN", fields::text(&record.isbn));
    set("ISSN", fields::text(&record.issn));
    set("URL", Some(&ctx.record_url(record)));
    set("abstract", fields::text(&record.abstract_text));
    let keywords: Vec<&str> = record.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect();
    set("keyword", Some(&keywords.join(", ")));
    set("language", record.languages.first().map(String::as_str));
    set("note", fields::text(&record.note));
    let mut authors: Vec<Value> = record.creators.iter().filter_map(name).collect();
    authors.extend(
        record.corp_creators.iter().filter(|c| !c.name.trim().is_empty()).map(|c| json!({ "literal": c.name.trim() })),
    );
    if !authors.is_empty() {
        item.insert("author".into(), Value::Array(authors));
    }
    let editors: Vec<Value> = record.editors.iter().filter_map(name).collect();
    if !editors.is_empty() {
        item.insert("editor".into(), Value::Array(editors));
    }
    if let Some(date) = record.date {
        let mut parts = vec![Value::from(date.year)];
        parts.extend(date.month.map(Value::from));
        parts.extend(date.day.filter(|_| date.month.is_some()).map(Value::from));
        item.insert("issued".into(), json!({ "date-parts": [parts] }));
    }
    Value::Object(item)
}
