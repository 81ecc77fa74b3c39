//! What the citation round trips share (RIS, BibTeX, CSL-JSON): the
//! records they send through a writer and back, the export itself, and
//! what a read record is expected to hold where the writer normalises.
//!
//! Each test file that uses it says `mod common;`; not every file uses
//! every helper.
#![allow(dead_code)]

use arkiv_formats::export::{self, fields, fields::Genre, ExportContext};
use arkiv_formats::{ImportedRecord, ReadItem};
use arkiv_model::{ItemTypes, Record};

/// The EPrints corpus, each record given an id (1, 2...) for the messages;
/// `None` where the corpus is not checked out.
pub fn corpus() -> Option<Vec<Record>> {
    let dir = arkiv_testkit::corpus_dir()?;
    let mut records = arkiv_testkit::eprints_corpus(&dir);
    assert!(records.len() > 100, "the corpus holds 105 records; read {}", records.len());
    for (i, r) in records.iter_mut().enumerate() {
        r.id = Some(i as i64 + 1);
    }
    Some(records)
}

/// The seed record, with id 1.
pub fn seed() -> Record {
    let mut seed = arkiv_testkit::seed();
    seed.id = Some(1);
    seed
}

/// `records` written with `format` in the example repository's context.
pub fn export(format: &export::ExportFormat, records: &[Record]) -> String {
    let mut out = Vec::new();
    export::write_all(format, &ExportContext::example(), records, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// A text field as the writers give it: on one line; `None` when empty.
pub fn text(value: &Option<String>) -> Option<String> {
    fields::text(value).map(fields::one_line).filter(|s| !s.is_empty())
}

/// The type a reader gives a record of `original`'s type when the writer
/// gives its genre and a report's kind label (RIS's `TY` and `M3`,
/// CSL-JSON's `type` and `genre`): a monograph's subtype named like an
/// item type comes back as that type, one of a local subtype as a report.
pub fn expected_type(original: &Record) -> String {
    let types = ItemTypes::default();
    match Genre::of(original) {
        Genre::Article => "article".into(),
        Genre::Book => "book".into(),
        Genre::BookSection => "book_section".into(),
        Genre::Conference => "conference_item".into(),
        Genre::Thesis => "thesis".into(),
        Genre::Dataset => "dataset".into(),
        Genre::Patent => "patent".into(),
        Genre::Other => "other".into(),
        Genre::Report => match (original.item_type.as_str(), original.subtype()) {
            ("monograph", Some(key)) => {
                let label = arkiv_model::subtype_label(key);
                if let Some((key, _)) = types.iter().find(|(_, l)| l.eq_ignore_ascii_case(&label)) {
                    key.to_string()
                } else if arkiv_model::subtype_keys("monograph").contains(&key) {
                    "monograph".into()
                } else {
                    "report".into()
                }
            }
            (key, _) => key.to_string(),
        },
    }
}

/// Checks each record against the item read back for it with `check`: as
/// many items as records, in order, each read (`format` names the
/// dialect in a failure).
pub fn check_each(records: &[Record], items: &[ReadItem], format: &str, check: impl Fn(&Record, &ImportedRecord)) {
    assert_eq!(items.len(), records.len(), "{format}: items read");
    for (i, (original, item)) in records.iter().zip(items).enumerate() {
        assert_eq!(item.position, i + 1, "{format}: position");
        let back = item.result.as_ref().unwrap_or_else(|e| panic!("record {:?} ({format}): {e}", original.id));
        check(original, back);
    }
}

/// A page range as the writers give it: first and last page joined by a
/// hyphen, each on one line.
pub fn expected_pagerange(original: &Record) -> Option<String> {
    fields::text(&original.pagerange).map(|range| match fields::page_bounds(range) {
        (first, Some(last)) => format!("{}-{}", fields::one_line(&first), fields::one_line(&last)),
        (first, None) => fields::one_line(&first),
    })
}

/// A report's or thesis's issuing body comes back as its institution (and
/// no publisher); anyone else's publisher as the publisher.
pub fn assert_publisher(original: &Record, read: &Record, what: &str) {
    if matches!(Genre::of(original), Genre::Report | Genre::Thesis) {
        let body = fields::issuing_body(original).map(fields::one_line);
        assert_eq!((read.institution.clone(), read.publisher.clone()), (body, None), "{what}: issuing body");
    } else {
        assert_eq!(read.publisher, text(&original.publisher), "{what}: publisher");
    }
}
