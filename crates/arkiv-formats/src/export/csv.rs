//! CSV: one row per record under a header, for spreadsheets and scripts.
//! RFC 4180 quoting and CR LF line ends, UTF-8, written with the `csv`
//! crate. The column set is fixed ([`COLUMNS`]) so that scripts reading
//! exports keep working; lists (creators, keywords, files) are joined with
//! `; ` inside one cell. Every cell is quoted, and one a spreadsheet would
//! read as a formula is prefixed with `'` ([`neutralise`]).

use super::{ExportContext, ExportFormat, ExportWriter};
use arkiv_model::Record;
use std::io::{self, Write};

pub const CSV: ExportFormat = ExportFormat {
    id: "csv",
    label: "CSV",
    media_type: "text/csv; charset=utf-8",
    extension: "csv",
    writer: |ctx| Box::new(CsvWriter { ctx: ctx.clone() }),
    list_may_be_empty: true,
    oai: None,
};

/// The header row. Adding a column at the end is compatible; renaming or
/// reordering is not.
pub const COLUMNS: [&str; 20] = [
    "id",
    "url",
    "type",
    "title",
    "creators",
    "date",
    "series",
    "number",
    "publisher",
    "institution",
    "doi",
    "isbn",
    "issn",
    "keywords",
    "subjects",
    "language",
    "abstract",
    "license",
    "files",
    "editors",
];

struct CsvWriter {
    ctx: ExportContext,
}

/// A cell as a spreadsheet may safely open it. One that begins with `=`,
/// `+`, `-`, `@`, a tab or a carriage return would be read as a formula
/// (and run: `=HYPERLINK(...)`, DDE); it gets a single quote before it, as
/// OWASP's advice on CSV injection has it, so it shows as the text it is.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

fn row(out: &mut dyn Write, cells: &[String]) -> io::Result<()> {
    // A small writer a row: csv's own buffer is flushed into `out` at once,
    // so the export streams. Every cell is quoted (OWASP's other half of
    // the advice: a quoted cell is not split or re-read by the importer).
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Always)
        .buffer_capacity(1024)
        .from_writer(out);
    writer.write_record(cells.iter().map(|c| neutralise(c).into_owned())).map_err(io::Error::other)?;
    writer.flush()
}

impl ExportWriter for CsvWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        row(out, &COLUMNS.map(String::from))
    }
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        row(out, &cells(record, &self.ctx))
    }
}

fn opt(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or("").to_string()
}

/// The cells of one record, in the order of [`COLUMNS`].
pub fn cells(record: &Record, ctx: &ExportContext) -> Vec<String> {
    let people = |list: &[arkiv_model::Creator]| list.iter().map(|c| c.name.inverted()).collect::<Vec<_>>();
    let mut creators = people(&record.creators);
    creators.extend(record.corp_creators.iter().map(|c| c.name.clone()));
    let files: Vec<String> = ctx.open_documents(record).filter_map(|(_, url)| url).collect();
    let license = record
        .license
        .clone()
        .or_else(|| ctx.open_documents(record).find_map(|(d, _)| d.license.clone()))
        .unwrap_or_default();
    vec![
        record.id.map(|i| i.to_string()).unwrap_or_default(),
        ctx.record_url(record),
        record.item_type.clone(),
        record.title.clone(),
        creators.join("; "),
        record.date.map(|d| d.to_string()).unwrap_or_default(),
        opt(&record.series),
        opt(&record.number),
        opt(&record.publisher),
        opt(&record.institution),
        opt(&record.doi),
        opt(&record.isbn),
        opt(&record.issn),
        record.keywords.join("; "),
        record.subjects.iter().map(|s| ctx.subjects.name(s)).collect::<Vec<_>>().join("; "),
        record.languages.join("; "),
        opt(&record.abstract_text),
        license,
        files.join("; "),
        people(&record.editors).join("; "),
    ]
}
