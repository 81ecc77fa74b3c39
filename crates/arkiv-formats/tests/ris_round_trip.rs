//! Every record of the EPrints corpus, and the seed, written with the RIS
//! export and read back with the RIS reader: the fields the writer carries
//! come back as the writer put them (after its own normalisations: text on
//! one line, a page range as first and last page, a bare DOI).
//!
//! What the writer loses, and so is not compared:
//! * a local item type (`teaching_resource`, `image`...) is written `GEN`
//!   and comes back as `other`; a monograph whose subtype is named like an
//!   item type ("Working Paper") comes back as that type, and one of a
//!   local subtype as a `report`;
//! * a report's container (`publication`, `book_title`): a `RPRT`'s `T2`
//!   is its series, and the writer gives it no other tag;
//! * a report's `id_number`, written in `SN` when it has no number, comes
//!   back as its number; its ISBN and ISSN are not written;
//! * `UR` is the record's page in the exporting repository, not its
//!   `official_url`, which is not written (reading puts that page there);
//! * a person whose name is one word and has no given name is read as a
//!   corporate creator, which is how RIS gives an organisation (names are
//!   compared as the `AU` lines they make, in order, not by kind);
//! * date type, status, subjects, divisions, licence, refereed, related
//!   links, ids and ORCIDs of people, a contributor's role, documents that
//!   are not open, and the metadata of those that are (only their URLs).

use arkiv_formats::export::{self, fields, fields::Genre, ExportContext};
use arkiv_formats::ris::RisReader;
use arkiv_formats::{FileData, ImportedRecord};
use arkiv_model::Record;

mod common;

use common::{expected_type, text};

fn ris(records: &[Record]) -> String {
    common::export(&export::ris::RIS, records)
}

/// The `AU` lines a record makes: people inverted, then bodies.
fn authors(r: &Record) -> Vec<String> {
    let people = r.creators.iter().map(|c| fields::one_line(&c.name.inverted()));
    people.chain(r.corp_creators.iter().map(|c| fields::one_line(&c.name))).filter(|s| !s.is_empty()).collect()
}

fn editors(r: &Record) -> Vec<String> {
    r.editors.iter().map(|c| fields::one_line(&c.name.inverted())).filter(|s| !s.is_empty()).collect()
}

fn check(original: &Record, back: &ImportedRecord) {
    let read = &back.record;
    let what = format!("record {:?} ({})", original.id, original.item_type);
    let genre = Genre::of(original);
    let report = genre == Genre::Report;
    assert_eq!(read.item_type, expected_type(original), "{what}: type");
    assert_eq!(read.title, fields::one_line(&original.title), "{what}: title");
    assert_eq!(authors(read), authors(original), "{what}: creators");
    assert_eq!(editors(read), editors(original), "{what}: editors");
    assert_eq!(read.date, original.date, "{what}: date");
    let doi = fields::bare_doi(original).map(fields::one_line);
    assert_eq!(read.doi, doi, "{what}: doi");
    assert_eq!(read.volume, text(&original.volume), "{what}: volume");
    let number = if report { text(&original.number).or(text(&original.id_number)) } else { text(&original.number) };
    assert_eq!(read.number, number, "{what}: number");
    let pagerange = common::expected_pagerange(original);
    assert_eq!(read.pagerange, pagerange, "{what}: pagerange");
    common::assert_publisher(original, read, &what);
    assert_eq!(read.place_of_pub, text(&original.place_of_pub), "{what}: place of publication");
    assert_eq!(read.series, text(&original.series), "{what}: series");
    if !report {
        let container = |r: &Record| fields::container(r).map(fields::one_line);
        assert_eq!(container(read), container(original), "{what}: container");
        let sn = |r: &Record| text(&r.isbn).or(text(&r.issn));
        assert_eq!(sn(read), sn(original), "{what}: ISBN or ISSN");
    }
    let keywords: Vec<String> =
        original.keywords.iter().map(|k| fields::one_line(k)).filter(|k| !k.is_empty()).collect();
    assert_eq!(read.keywords, keywords, "{what}: keywords");
    assert_eq!(read.abstract_text, text(&original.abstract_text), "{what}: abstract");
    assert_eq!(read.note, text(&original.note), "{what}: note");
    let languages: Vec<String> = original.languages.iter().map(|l| fields::one_line(l).to_lowercase()).collect();
    assert_eq!(read.languages, languages, "{what}: languages");
    assert!(back.unmapped.is_empty(), "{what}: the writer's own tags all have a field: {:?}", back.unmapped);
}

fn round_trip(records: &[Record]) {
    let text = ris(records);
    let items: Vec<_> = RisReader::new(text.as_bytes()).collect();
    common::check_each(records, &items, "RIS", check);
}

#[test]
fn the_eprints_corpus_comes_back_from_ris() {
    let Some(records) = common::corpus() else { return };
    round_trip(&records);
}

#[test]
fn the_seed_comes_back_from_ris_with_its_file() {
    let mut seed = common::seed();
    round_trip(std::slice::from_ref(&seed));
    // Its open document, once its bytes are here, is an L1 link and comes
    // back as a document whose file the importer fetches.
    for d in &mut seed.documents {
        for f in &mut d.files {
            f.sha256 = Some("0".repeat(64));
        }
    }
    let ctx = ExportContext::example();
    let urls: Vec<String> = ctx.open_documents(&seed).filter_map(|(_, url)| url).collect();
    assert!(!urls.is_empty(), "the seed has an open document");
    let text = ris(std::slice::from_ref(&seed));
    let back = RisReader::new(text.as_bytes()).next().unwrap().result.unwrap();
    check(&seed, &back);
    let got: Vec<(u32, String)> = back
        .files
        .iter()
        .map(|f| match &f.source {
            FileData::Url(url) => (f.doc_pos, url.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    let want: Vec<(u32, String)> = urls.into_iter().enumerate().map(|(i, u)| (i as u32 + 1, u)).collect();
    assert_eq!(got, want);
    let names: Vec<&str> = back.record.documents.iter().map(|d| d.files[0].filename.as_str()).collect();
    assert_eq!(names, ["commentary_137.pdf"]);
}
