//! Every record of the EPrints corpus, and the seed, written with the
//! BibTeX export and read back with the BibTeX reader: the fields the
//! writer carries come back as the writer put them (after its own
//! normalisations: text on one line, a page range as first and last page,
//! a bare DOI). The BibLaTeX export is read back too, for the fields both
//! dialects write alike (type, title, names, the full date, DOI, abstract,
//! keywords, language).
//!
//! What the writer loses, and so is not compared:
//! * the item type where the entry type cannot carry it: an article, book
//!   section or conference item without a container, a report without an
//!   issuing body, a local item type, and (BibTeX) a dataset or patent are
//!   `@misc` and come back as `other`; a report's kind is its `type` only
//!   when it has no series (else the series is written there), so it comes
//!   back as `report` unless the label names a type;
//! * a thesis's subtype beyond doctoral or master's;
//! * the day of a date in BibTeX (`year` and `month` only);
//! * the container of a book, thesis or report, the publisher of a thesis,
//!   report or `@misc` that has a container (`howpublished` is one of the
//!   two), the event of a conference item whose container is the event;
//! * `url` is the record's page in the exporting repository, not its
//!   `official_url`, which is not written (reading puts that page there);
//! * names are compared as "Given Family", people and bodies together,
//!   unordered: a person whose name holds a comma is written whole in
//!   braces and comes back as a body; a person with no given name and a
//!   family name of several words comes back split into given and family;
//! * keywords holding a comma or semicolon come back split there;
//! * a title's `--` comes back as an en dash (LaTeX's ligature);
//! * the `id_number` (but a BibLaTeX arXiv eprint), date type, status,
//!   subjects, divisions, licence, refereed, related links, ids and ORCIDs
//!   of people, contributors, documents.

use arkiv_formats::bibtex::BibtexReader;
use arkiv_formats::export::{self, fields, fields::Genre, ExportContext};
use arkiv_formats::{ImportedRecord, ReadItem};
use arkiv_model::{ItemTypes, Record};

mod common;

use common::{export, text};

/// The entry type the writer gives `r` (the BibTeX dialect).
fn entry_type(r: &Record) -> &'static str {
    let has_container = fields::container(r).is_some();
    match Genre::of(r) {
        Genre::Article if has_container => "article",
        Genre::Book => "book",
        Genre::BookSection if has_container => "incollection",
        Genre::Conference if has_container => "inproceedings",
        Genre::Thesis => "thesis",
        Genre::Report if fields::issuing_body(r).is_some() => "report",
        _ => "misc",
    }
}

/// The label the reader takes a report's `type` for: the type it names.
fn kind_of(label: &str) -> Option<String> {
    let types = ItemTypes::default();
    if let Some((key, _)) = types
        .iter()
        .filter(|(k, _)| arkiv_model::item_type::is_serial_grey_literature(k))
        .find(|(_, l)| l.eq_ignore_ascii_case(label))
    {
        return Some(key.to_string());
    }
    if arkiv_model::subtype_keys("monograph").iter().any(|k| arkiv_model::subtype_label(k).eq_ignore_ascii_case(label))
    {
        return Some("monograph".into());
    }
    let found = types.iter().find(|(_, l)| l.eq_ignore_ascii_case(label)).map(|(k, _)| k.to_string());
    found
}

fn report_type_label(r: &Record) -> String {
    text(&r.series).unwrap_or_else(|| fields::kind_label(r, &ItemTypes::default()))
}

fn expected_type(r: &Record) -> String {
    match entry_type(r) {
        "article" => "article".into(),
        "book" => "book".into(),
        "incollection" => "book_section".into(),
        "inproceedings" => "conference_item".into(),
        "thesis" => "thesis".into(),
        "report" => kind_of(&report_type_label(r)).unwrap_or_else(|| "report".into()),
        _ => "other".into(),
    }
}

/// Every name the entry's `author` (or `editor`) list gives, as "Given
/// Family", sorted.
fn names(people: &[arkiv_model::Creator], bodies: &[String]) -> Vec<String> {
    let mut all: Vec<String> = people
        .iter()
        .filter(|c| !c.name.family.trim().is_empty())
        .map(|c| fields::one_line(&format!("{} {}", c.name.given, c.name.family)))
        .chain(bodies.iter().map(|b| fields::one_line(b)))
        .filter(|s| !s.is_empty())
        .collect();
    all.sort();
    all
}

fn authors(r: &Record) -> Vec<String> {
    names(&r.creators, &r.corp_creators.iter().map(|c| c.name.clone()).collect::<Vec<_>>())
}

fn editors(r: &Record) -> Vec<String> {
    names(&r.editors, &[])
}

fn keywords(r: &Record) -> Vec<String> {
    r.keywords.iter().flat_map(|k| k.split([',', ';'])).map(fields::one_line).filter(|k| !k.is_empty()).collect()
}

/// The fields both dialects write alike.
fn check_common(original: &Record, read: &Record, what: &str) {
    assert_eq!(read.title, fields::one_line(&original.title).replace("--", "–"), "{what}: title");
    assert_eq!(authors(read), authors(original), "{what}: creators");
    let doi = fields::bare_doi(original).map(fields::one_line);
    assert_eq!(read.doi, doi, "{what}: doi");
    assert_eq!(read.abstract_text, text(&original.abstract_text), "{what}: abstract");
    assert_eq!(keywords(read), keywords(original), "{what}: keywords");
    let url = ExportContext::example().record_url(original);
    assert_eq!(read.official_url.as_deref(), Some(url.as_str()), "{what}: url");
}

fn check_bibtex(original: &Record, back: &ImportedRecord) {
    let read = &back.record;
    let what = format!("record {:?} ({})", original.id, original.item_type);
    let kind = entry_type(original);
    assert_eq!(read.item_type, expected_type(original), "{what}: type");
    check_common(original, read, &what);
    assert_eq!(editors(read), editors(original), "{what}: editors");
    let date = original.date.map(|d| match d.month {
        Some(m) => format!("{:04}-{m:02}", d.year),
        None => format!("{:04}", d.year),
    });
    assert_eq!(read.date.map(|d| d.to_string()), date, "{what}: date");
    assert_eq!(read.volume, text(&original.volume), "{what}: volume");
    assert_eq!(read.number, text(&original.number), "{what}: number");
    let pagerange = common::expected_pagerange(original);
    assert_eq!(read.pagerange, pagerange, "{what}: pagerange");
    if pagerange.is_none() {
        assert_eq!(read.pages, text(&original.pages), "{what}: page count");
    }
    assert_eq!(read.place_of_pub, text(&original.place_of_pub), "{what}: place of publication");
    assert_eq!((read.isbn.clone(), read.issn.clone()), (text(&original.isbn), text(&original.issn)), "{what}: ids");
    assert_eq!(read.note, text(&original.note), "{what}: note");
    assert!(read.languages.is_empty(), "{what}: BibTeX writes no language");
    match kind {
        "report" | "thesis" => {
            let body = fields::issuing_body(original).map(fields::one_line);
            assert_eq!(read.institution, body, "{what}: issuing body");
        }
        _ => assert_eq!(read.institution, text(&original.institution), "{what}: institution"),
    }
    if matches!(kind, "article" | "book" | "incollection" | "inproceedings") {
        assert_eq!(read.publisher, text(&original.publisher), "{what}: publisher");
    }
    let container = |r: &Record| fields::container(r).map(fields::one_line);
    match kind {
        "article" | "incollection" | "inproceedings" => {
            assert_eq!(container(read), container(original), "{what}: container")
        }
        "misc" => {
            let howpublished = container(original).or(text(&original.publisher));
            assert_eq!(read.publication, howpublished, "{what}: howpublished");
        }
        _ => {}
    }
    if kind == "inproceedings" {
        let event = text(&original.event_title).filter(|e| Some(e) != container(original).as_ref());
        assert_eq!(read.event_title, event, "{what}: event");
    }
    let series = match kind {
        "report" if text(&original.series).is_none() => {
            let label = report_type_label(original);
            kind_of(&label).is_none().then_some(label)
        }
        _ => text(&original.series),
    };
    assert_eq!(read.series, series, "{what}: series");
    if kind == "thesis" {
        let masters = |r: &Record| fields::is_masters_thesis(r);
        assert_eq!(masters(read), masters(original), "{what}: degree");
    }
    assert!(back.unmapped.is_empty(), "{what}: the writer's own fields all have a place: {:?}", back.unmapped);
}

fn check_biblatex(original: &Record, back: &ImportedRecord) {
    let read = &back.record;
    let what = format!("record {:?} ({}, BibLaTeX)", original.id, original.item_type);
    check_common(original, read, &what);
    assert_eq!(read.date, original.date, "{what}: date");
    let language: Vec<String> =
        original.languages.iter().take(1).map(|l| l.trim().to_lowercase()).filter(|l| !l.is_empty()).collect();
    assert_eq!(read.languages, language, "{what}: language");
}

fn read_all(text: &str) -> Vec<ReadItem> {
    BibtexReader::new(text.as_bytes()).collect()
}

fn round_trip(records: &[Record]) {
    let items = read_all(&export(&export::bibtex::BIBTEX, records));
    common::check_each(records, &items, "BibTeX", check_bibtex);
    let items = read_all(&export(&export::bibtex::BIBLATEX, records));
    common::check_each(records, &items, "BibLaTeX", check_biblatex);
}

#[test]
fn the_eprints_corpus_comes_back_from_bibtex() {
    let Some(records) = common::corpus() else { return };
    round_trip(&records);
}

#[test]
fn the_seed_comes_back_from_bibtex() {
    round_trip(std::slice::from_ref(&common::seed()));
}

#[test]
fn one_broken_entry_among_many_costs_only_itself() {
    let mut records = Vec::new();
    for i in 0..50 {
        let mut r = Record::new("article", &format!("Article number {i}"));
        r.id = Some(i + 1);
        r.publication = Some("Journal".into());
        records.push(r);
    }
    let text = export(&export::bibtex::BIBTEX, &records);
    // The 20th entry loses its closing brace; the 35th its title.
    let mut entries: Vec<String> = text.split("\n\n").filter(|e| !e.trim().is_empty()).map(String::from).collect();
    entries[19] = entries[19].trim_end().trim_end_matches('}').to_string();
    entries[34] = entries[34].lines().filter(|l| !l.trim_start().starts_with("title")).collect::<Vec<_>>().join("\n");
    let text = entries.join("\n\n") + "\n";
    let items: Vec<_> = BibtexReader::new(text.as_bytes()).collect();
    assert_eq!(items.len(), 50);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item.position, i + 1);
        if i == 19 || i == 34 {
            assert!(item.result.is_err(), "entry {} should fail", i + 1);
        } else {
            let r = item.result.as_ref().unwrap_or_else(|e| panic!("entry {}: {e}", i + 1));
            assert_eq!(r.record.title, format!("Article number {i}"));
        }
    }
}
