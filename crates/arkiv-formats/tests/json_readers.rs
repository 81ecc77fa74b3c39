//! The three JSON readers on recorded data: Crossref's and DataCite's API
//! answers (`../shared/corpus/doi_api_responses`), the CSL test suite's
//! 1,078 items, bad input, and a round trip of the EPrints corpus and the
//! seed through Arkiv's CSL-JSON export and the CSL-JSON reader.
//!
//! What the CSL-JSON export loses, and so the round trip does not compare:
//! * a local item type (`teaching_resource`, `image`...) is written
//!   `document` and comes back as `other`; a monograph whose subtype is
//!   named like an item type ("Working Paper") comes back as that type;
//!   a conference item's subtype (`pres_type`) is not written; a thesis's
//!   subtype comes back only when it is one the exports name ("Masters
//!   thesis", "PhD thesis");
//! * `URL` is the record's page in the exporting repository, not its
//!   `official_url`, which is not written (reading puts that page there);
//! * a person with no family name is not written; corporate creators come
//!   back after the people (CSL gives both in one list, literals last);
//! * keywords are written as one comma-joined string, so a keyword holding
//!   a comma or semicolon comes back split;
//! * only the first language is written;
//! * text is read on one line (abstracts and notes keep their paragraphs);
//! * `id_number`, date type, status, subtypes of other types, subjects,
//!   divisions, licence, refereed, related links, contributors, ids and
//!   ORCIDs of people, documents and files are not written.

use arkiv_formats::crossref::{read_work, CrossrefReader};
use arkiv_formats::csl_json::{CslJsonReader, MAX_DEPTH, MAX_ITEM_BYTES};
use arkiv_formats::datacite_json::{read_doi, DataciteJsonReader};
use arkiv_formats::export::{self, fields, fields::Genre, ExportContext};
use arkiv_formats::{ImportedRecord, ReadItem};
use arkiv_model::{ItemTypes, Record};
use std::path::PathBuf;

mod common;

use common::{expected_type, text};

fn responses() -> Option<PathBuf> {
    arkiv_testkit::corpus_dir().map(|d| d.join("doi_api_responses"))
}

fn ok(item: &ReadItem) -> &ImportedRecord {
    item.result.as_ref().unwrap_or_else(|e| panic!("item {} (line {:?}): {e}", item.position, item.line))
}

#[test]
fn the_elife_work_from_crossref() {
    let Some(dir) = responses() else { return };
    let json = std::fs::read(dir.join("crossref/work_10.7554_elife.01567.json")).unwrap();
    let imported = read_work(&json, &ItemTypes::default()).unwrap();
    let r = &imported.record;
    assert_eq!(r.item_type, "article");
    assert_eq!(
        r.title,
        "Automated quantitative histology reveals vascular morphodynamics during Arabidopsis hypocotyl secondary growth"
    );
    let authors: Vec<String> = r.creators.iter().map(|c| c.name.inverted()).collect();
    assert_eq!(
        authors,
        ["Sankar, Martial", "Nieminen, Kaisa", "Ragni, Laura", "Xenarios, Ioannis", "Hardtke, Christian S"]
    );
    assert_eq!(r.doi.as_deref(), Some("10.7554/elife.01567"));
    assert_eq!(r.publication.as_deref(), Some("eLife"));
    assert_eq!(r.volume.as_deref(), Some("3"));
    assert_eq!(r.date.unwrap().to_string(), "2014-02-11");
    assert_eq!(r.license.as_deref(), Some("CC-BY-3.0"));
    assert_eq!(r.publisher.as_deref(), Some("eLife Sciences Publications, Ltd"));
    let abstract_text = r.abstract_text.as_deref().unwrap();
    assert!(abstract_text.starts_with("Among various advantages"), "{abstract_text}");
    assert!(!abstract_text.contains('<'), "JATS markup taken out: {abstract_text}");
    assert!(imported.unmapped.contains(&"funder".to_string()), "{:?}", imported.unmapped);
    assert!(r.extra.iter().any(|e| e.name == "funder" && e.xml.contains("Swiss National Science Foundation")));
    // The same work wrapped in the API's answer reads the same.
    let wrapped = format!(r#"{{"status":"ok","message-type":"work","message":{}}}"#, String::from_utf8(json).unwrap());
    assert_eq!(read_work(wrapped.as_bytes(), &ItemTypes::default()).unwrap(), imported);
}

#[test]
fn a_crossref_list_with_a_work_without_doi() {
    let Some(dir) = responses() else { return };
    let file = std::fs::File::open(dir.join("crossref/works_list_missing_doi.json")).unwrap();
    let items: Vec<ReadItem> = CrossrefReader::new(std::io::BufReader::new(file)).collect();
    assert_eq!(items.len(), 20);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item.position, i + 1);
        let r = &ok(item).record;
        assert_eq!(r.item_type, "article");
        assert!(!r.title.is_empty());
    }
    assert_eq!(ok(&items[0]).record.doi, None, "the first work has no DOI, and reads without one");
    assert_eq!(ok(&items[0]).record.publication.as_deref(), Some("AAPG Bulletin"));
    assert_eq!(ok(&items[0]).record.date.unwrap().to_string(), "1987");
    assert_eq!(ok(&items[1]).record.doi.as_deref(), Some("10.1306/64ed9fd8-1724-11d7-8645000102c1865d"));
}

#[test]
fn datacite_answers() {
    let Some(dir) = responses() else { return };
    let types = ItemTypes::default();
    let read = |name: &str| {
        let json = std::fs::read(dir.join("datacite").join(name)).unwrap();
        read_doi(&json, &types).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let lipics = read("10.4230_lipics.tqc.2013.93.json");
    let r = &lipics.record;
    assert_eq!((r.item_type.as_str(), r.doi.as_deref()), ("conference_item", Some("10.4230/lipics.tqc.2013.93")));
    assert_eq!(r.title, "The Minimum Size of Qubit Unextendible Product Bases");
    assert_eq!(r.creators[0].name.inverted(), "Johnston, Nathaniel");
    let editors: Vec<String> = r.editors.iter().map(|e| e.name.inverted()).collect();
    assert_eq!(editors, ["Severini, Simone", "Brandao, Fernando"]);
    assert_eq!(r.date.unwrap().to_string(), "2013");
    assert_eq!((r.license.as_deref(), r.pages.as_deref()), (Some("CC-BY-3.0"), Some("13")));
    assert!(r.abstract_text.as_deref().unwrap().starts_with("We investigate"));

    let survey = read("10.5438_zhyx-n122.json");
    let r = &survey.record;
    assert_eq!((r.item_type.as_str(), r.date.unwrap().year), ("other", 2023));
    assert_eq!(r.creators[1].orcid.as_deref(), Some("0000-0003-4448-3844"));
    assert_eq!(r.license.as_deref(), Some("CC-BY-4.0"));
    assert!(survey.unmapped.contains(&"types".to_string()), "{:?}", survey.unmapped);

    for (name, doi, creators) in [
        ("10.5061_dryad.8515.json", "10.5061/dryad.8515", 8),
        ("10.6071_z7wc73.json", "10.6071/z7wc73", 6),
        ("10.6084_m9.figshare.1449060.json", "10.6084/m9.figshare.1449060", 4),
    ] {
        let r = read(name).record;
        assert_eq!(r.item_type, "dataset", "{name}");
        assert_eq!(r.doi.as_deref(), Some(doi), "{name}");
        assert_eq!(r.creators.len() + r.corp_creators.len(), creators, "{name}");
        assert!(r.date.is_some() && r.publisher.is_some(), "{name}");
        assert!(!r.extra.iter().any(|e| e.name == "xml"), "{name}: the API's base64 copy is not kept");
    }

    // The sixth is a list answer: refused by read_doi, read by the reader.
    let sample = std::fs::read(dir.join("datacite/sample.json")).unwrap();
    let e = read_doi(&sample, &types).unwrap_err();
    assert!(e.message.contains("DataciteJsonReader"), "{e}");
    let items: Vec<ReadItem> = DataciteJsonReader::new(&sample[..]).collect();
    assert_eq!(items.len(), 100);
    let refused: Vec<_> = items.iter().filter(|i| i.result.is_err()).collect();
    for item in &refused {
        let message = &item.result.as_ref().unwrap_err().message;
        assert!(item.position > 0 && message.starts_with(&format!("item {} (line ", item.position)), "{message}");
    }
    assert!(refused.len() <= 5, "{} of 100 refused: {:?}", refused.len(), refused.first().map(|i| &i.result));
    let general: std::collections::BTreeSet<_> =
        items.iter().filter_map(|i| i.result.as_ref().ok()).map(|i| i.record.item_type.clone()).collect();
    assert!(general.contains("image") && general.contains("dataset") && general.contains("article"), "{general:?}");
}

#[test]
fn the_csl_test_suite_items() {
    let Some(dir) = arkiv_testkit::corpus_dir() else { return };
    let file = std::fs::File::open(dir.join("csl_testsuite_items_1078.json")).unwrap();
    let items: Vec<ReadItem> = CslJsonReader::new(std::io::BufReader::new(file)).collect();
    assert_eq!(items.len(), 1078);
    let mut refused = Vec::new();
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item.position, i + 1);
        assert!(item.line.is_some());
        if let Err(e) = &item.result {
            assert!(e.message.starts_with(&format!("item {} (line 1): ", item.position)), "{}", e.message);
            refused.push(e.message.clone());
        }
    }
    // The suite's items test citation processors, not records: 424 have
    // no title (a citation can do without one; a record cannot), and each
    // is refused for that.
    let read = items.len() - refused.len();
    assert!(refused.iter().all(|m| m.contains("title: a record needs a title")), "{:?}", refused.first());
    assert_eq!((read, refused.len()), (654, 424));
    // Read items keep what no field takes.
    let kept = items.iter().filter_map(|i| i.result.as_ref().ok()).filter(|i| !i.unmapped.is_empty()).count();
    assert!(kept > 0);
}

// ---------------------------------------------------------------------------
// Bad input

fn csl(text: &str) -> Vec<ReadItem> {
    CslJsonReader::new(text.as_bytes()).collect()
}

fn outline(items: &[ReadItem]) -> Vec<(usize, bool)> {
    items.iter().map(|i| (i.position, i.result.is_ok())).collect()
}

fn message(item: &ReadItem) -> &str {
    &item.result.as_ref().unwrap_err().message
}

const GOOD: &str = r#"{"type":"book","title":"Good"}"#;

#[test]
fn a_broken_item_among_good_ones() {
    let text = format!("[\n{GOOD},\n{{\"type\":\"book\",\"title\":\"x\" \"oops\"}},\n{{\"a\":[}},\n{GOOD}\n]");
    let items = csl(&text);
    assert_eq!(outline(&items), [(1, true), (2, false), (3, false), (4, true)]);
    assert!(message(&items[1]).starts_with("item 2 (line 3): not valid JSON"), "{}", message(&items[1]));
    assert!(message(&items[2]).starts_with("item 3 (line 4): "), "{}", message(&items[2]));
    assert_eq!(items[3].line, Some(5));
}

#[test]
fn a_truncated_file() {
    let items = csl(&format!("[{GOOD}, {GOOD}, {{\"type\":\"book\",\"ti"));
    assert_eq!(outline(&items), [(1, true), (2, true), (3, false)]);
    assert!(message(&items[2]).contains("the file ends inside it"), "{}", message(&items[2]));
    // Cut between items: the good ones read, then one error for the file.
    let items = csl(&format!("[{GOOD},\n{GOOD},"));
    assert_eq!(outline(&items), [(1, true), (2, true), (0, false)]);
    assert!(message(&items[2]).contains("no closing ]"), "{}", message(&items[2]));
    // In a string: the rest of the file is that string.
    let items = csl(&format!("[{GOOD}, {{\"title\":\"never closed}}, {GOOD}]"));
    assert_eq!(outline(&items), [(1, true), (2, false)]);
}

#[test]
fn deep_nesting_is_bounded() {
    let deep = format!(
        "[{{\"type\":\"book\",\"title\":\"Deep\",\"x\":{}{}}}, {GOOD}]",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let items = csl(&deep);
    assert_eq!(outline(&items), [(1, false), (2, true)]);
    assert!(message(&items[0]).contains(&format!("nested deeper than {MAX_DEPTH} levels")), "{}", message(&items[0]));
    // A single deep object at the top.
    let deep = format!("{{\"x\":{}{}}}\n{GOOD}\n", "{\"y\":".repeat(5_000), "}".repeat(5_000));
    let items = csl(&deep);
    assert_eq!(outline(&items), [(1, false), (2, true)]);
}

#[test]
fn an_oversized_item_is_not_held() {
    let big = "x".repeat(MAX_ITEM_BYTES + 10);
    let text = format!("[{GOOD}, {{\"type\":\"book\",\"title\":\"Big\",\"abstract\":\"{big}\"}}, {GOOD}]");
    let items = csl(&text);
    assert_eq!(outline(&items), [(1, true), (2, false), (3, true)]);
    assert!(message(&items[1]).contains(&format!("larger than {MAX_ITEM_BYTES} bytes")), "{}", message(&items[1]));
    // One just under the bound reads, and the model refuses its abstract.
    let under = "y".repeat(200_000);
    let items = csl(&format!("[{{\"type\":\"book\",\"title\":\"Long\",\"abstract\":\"{under}\"}}]"));
    assert!(message(&items[0]).contains("abstract: longer than"), "{}", message(&items[0]));
}

#[test]
fn a_file_that_is_not_json() {
    for text in ["TY  - JOUR\nTI  - x\nER  - \n", "<?xml version=\"1.0\"?><eprints/>", "\u{0}\u{1}binary"] {
        let items = csl(text);
        assert_eq!(outline(&items), [(0, false)], "{text:?}");
        assert!(message(&items[0]).contains("not JSON"), "{}", message(&items[0]));
        let items: Vec<_> = CrossrefReader::new(text.as_bytes()).collect();
        assert_eq!(outline(&items), [(0, false)]);
        let items: Vec<_> = DataciteJsonReader::new(text.as_bytes()).collect();
        assert_eq!(outline(&items), [(0, false)]);
    }
    assert!(csl("").is_empty());
}

#[test]
fn an_io_error_stops_reading() {
    struct Failing(usize);
    impl std::io::Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                self.0 = 1;
                let head = br#"[{"type":"book","title":"One"}, {"type":"bo"#;
                buf[..head.len()].copy_from_slice(head);
                return Ok(head.len());
            }
            Err(std::io::Error::other("disk gone"))
        }
    }
    let items: Vec<_> = CslJsonReader::new(std::io::BufReader::new(Failing(0))).collect();
    assert_eq!(outline(&items), [(1, true), (2, false)]);
    assert!(message(&items[1]).contains("disk gone"), "{}", message(&items[1]));
}

// ---------------------------------------------------------------------------
// Round trip

fn csl_json(records: &[Record]) -> Vec<u8> {
    common::export(&export::csljson::CSL_JSON, records).into_bytes()
}

fn paragraphs(value: &Option<String>) -> Option<String> {
    let paras: Vec<String> =
        fields::text(value)?.split("\n\n").map(fields::one_line).filter(|p| !p.is_empty()).collect();
    (!paras.is_empty()).then(|| paras.join("\n\n"))
}

fn people(list: &[arkiv_model::Creator]) -> Vec<(String, String)> {
    list.iter()
        .filter(|c| !c.name.family.trim().is_empty())
        .map(|c| (fields::one_line(&c.name.family), fields::one_line(&c.name.given)))
        .collect()
}

fn check(original: &Record, back: &ImportedRecord) {
    let read = &back.record;
    let what = format!("record {:?} ({})", original.id, original.item_type);
    let genre = Genre::of(original);
    assert_eq!(read.item_type, expected_type(original), "{what}: type");
    if genre == Genre::Thesis
        && original.subtype().is_some_and(|s| ["masters", "doctoral", "phd", "diploma", "mphil"].contains(&s))
    {
        assert_eq!(read.subtype.as_deref(), original.subtype(), "{what}: thesis type");
    }
    assert_eq!(read.title, fields::one_line(&original.title), "{what}: title");
    assert_eq!(people(&read.creators), people(&original.creators), "{what}: creators");
    let bodies = |r: &Record| -> Vec<String> {
        r.corp_creators.iter().map(|c| fields::one_line(&c.name)).filter(|n| !n.is_empty()).collect()
    };
    assert_eq!(bodies(read), bodies(original), "{what}: corporate creators");
    assert_eq!(people(&read.editors), people(&original.editors), "{what}: editors");
    assert_eq!(read.date, original.date, "{what}: date");
    assert_eq!(read.doi, fields::bare_doi(original).map(fields::one_line), "{what}: doi");
    let container = match genre {
        Genre::Conference => fields::proceedings(original),
        _ => fields::container(original),
    };
    let read_container = if genre == Genre::BookSection { &read.book_title } else { &read.publication };
    assert_eq!(*read_container, container.map(fields::one_line), "{what}: container");
    assert_eq!(read.series, text(&original.series), "{what}: series");
    assert_eq!(read.number, text(&original.number), "{what}: number");
    common::assert_publisher(original, read, &what);
    assert_eq!(read.place_of_pub, text(&original.place_of_pub), "{what}: place");
    assert_eq!(read.volume, text(&original.volume), "{what}: volume");
    assert_eq!(read.pagerange, text(&original.pagerange), "{what}: pagerange");
    assert_eq!(read.pages, text(&original.pages), "{what}: pages");
    assert_eq!(read.event_title, text(&original.event_title), "{what}: event");
    assert_eq!(read.isbn, text(&original.isbn), "{what}: isbn");
    assert_eq!(read.issn, text(&original.issn), "{what}: issn");
    assert_eq!(read.official_url, Some(ExportContext::example().record_url(original)), "{what}: URL");
    assert_eq!(read.abstract_text, paragraphs(&original.abstract_text), "{what}: abstract");
    assert_eq!(read.note, paragraphs(&original.note), "{what}: note");
    let keywords: Vec<String> = original
        .keywords
        .iter()
        .flat_map(|k| k.split([',', ';']))
        .map(fields::one_line)
        .filter(|k| !k.is_empty())
        .collect();
    assert_eq!(read.keywords, keywords, "{what}: keywords");
    let language: Vec<String> = original.languages.iter().take(1).map(|l| fields::one_line(l)).collect();
    assert_eq!(read.languages, language, "{what}: language");
    assert!(back.unmapped.is_empty(), "{what}: the writer's own fields all have a place: {:?}", back.unmapped);
}

fn round_trip(records: &[Record]) {
    let json = csl_json(records);
    let items: Vec<_> = CslJsonReader::new(&json[..]).collect();
    common::check_each(records, &items, "CSL-JSON", check);
}

#[test]
fn the_eprints_corpus_comes_back_from_csl_json() {
    let Some(records) = common::corpus() else { return };
    round_trip(&records);
}

#[test]
fn the_seed_comes_back_from_csl_json() {
    round_trip(std::slice::from_ref(&common::seed()));
}
