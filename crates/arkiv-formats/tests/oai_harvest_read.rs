//! OAI-PMH answers read with `arkiv_formats::harvest`: the recorded answers
//! of Zenodo (InvenioRDM) and Sickle's fixtures in `../shared/corpus/
//! oai_responses` (every file read without panic, concrete ones checked),
//! bad input, and a round trip: the EPrints corpus and the seed written
//! with Arkiv's own `oai_dc`, DataCite and EPrints XML writers, wrapped in a
//! `ListRecords` envelope and read back.
//!
//! What each format loses on the way, and so is not compared:
//! * `oai_dc`: editors and contributors come back as contributors (DC does
//!   not say who edited), people by name only; a person whose name is one
//!   word with no given name comes back a corporate creator (RIS's rule);
//!   the note is the second description, so a record with a note and no
//!   abstract gets it back as its abstract; the landing page is the
//!   `official_url` (the record's own becomes a related link); series and
//!   number come back as one series text; a book section's book comes back
//!   as its publication; volume, pages, place, institution as issuing body
//!   (written as publisher), subjects (they come back as keywords, each
//!   once), date type, ids, ORCIDs, documents' metadata;
//! * DataCite: the landing page as official_url when there is a DOI; a
//!   record with no creator, or no publisher, gets DataCite's `:unav` and
//!   the repository's name; institution comes back as publisher; subjects
//!   as keywords; a journal's number only when there is no series;
//!   a contributor's role beyond DataCite's few types, editors' ORCIDs
//!   aside; documents;
//! * EPrints XML: nothing the EPrints reader does not already lose (its
//!   own round trip is `roundtrip_prop.rs`); compared on the main fields.

use arkiv_formats::export::{self, fields, ExportContext};
use arkiv_formats::harvest::{
    read_identify, read_list_identifiers, read_list_sets, read_page, MetadataPrefix, OaiPage, MAX_DEPTH,
};
use arkiv_formats::{record_to_xml, ImportedRecord, WriteOptions};
use arkiv_model::{ItemTypes, Record};
use std::path::{Path, PathBuf};

fn oai_dir() -> Option<PathBuf> {
    arkiv_testkit::corpus_dir().map(|d| d.join("oai_responses"))
}

fn types() -> ItemTypes {
    ItemTypes::default()
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `metadataPrefix` the request names, `oai_dc` by default.
fn prefix_of(xml: &[u8]) -> MetadataPrefix {
    let text = String::from_utf8_lossy(xml);
    let prefix = text.split("metadataPrefix=\"").nth(1).and_then(|t| t.split('"').next()).unwrap_or("oai_dc");
    MetadataPrefix::parse(prefix).unwrap_or(MetadataPrefix::OaiDc)
}

#[test]
fn every_recorded_answer_reads_without_panic() {
    let Some(dir) = oai_dir() else { return };
    let mut files = 0;
    let mut records_read = 0;
    for sub in ["zenodo_inveniordm", "sickle_fixtures"] {
        let mut paths: Vec<_> = std::fs::read_dir(dir.join(sub)).unwrap().flatten().map(|e| e.path()).collect();
        paths.sort();
        assert!(!paths.is_empty(), "{sub} is empty");
        for path in paths {
            files += 1;
            let xml = read(&path);
            let name = path.file_name().unwrap().to_string_lossy().to_lowercase();
            let what = path.display();
            if name.contains("identify") && !name.contains("identifiers") {
                let id = read_identify(&xml).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(!id.granularity.is_empty(), "{what}");
            } else if name.contains("identifiers") {
                let page = read_list_identifiers(&xml).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(page.records.iter().all(|r| r.metadata.is_none()));
            } else if name.contains("sets") && !name.contains("nosethierarchy") {
                let sets = read_list_sets(&xml).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(!sets.sets.is_empty() || !sets.errors.is_empty(), "{what}");
            } else if name.contains("metadata_formats") || name.contains("metadataformats") {
                // Not a records answer: refused with a message, not a
                // panic; or an answer of errors only.
                match read_page(&xml, MetadataPrefix::OaiDc, &types()) {
                    Ok(page) => assert!(page.records.is_empty() && !page.errors.is_empty(), "{what}"),
                    Err(e) => assert!(e.message.contains("ListMetadataFormats"), "{what}: {e}"),
                }
            } else if name.contains("broken") {
                // Sickle's deliberately broken answer: an Err or a page.
                let _ = read_page(&xml, MetadataPrefix::OaiDc, &types());
            } else {
                let page = read_page(&xml, prefix_of(&xml), &types()).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(!page.records.is_empty() || !page.errors.is_empty(), "{what}: neither records nor errors");
                for r in &page.records {
                    if let Some(Ok(_)) = &r.metadata {
                        records_read += 1;
                    }
                }
            }
        }
    }
    assert!(files >= 50, "{files} files");
    assert!(records_read > 100, "{records_read} records read");
}

fn page(dir: &Path, file: &str) -> OaiPage {
    let xml = read(&dir.join(file));
    read_page(&xml, prefix_of(&xml), &types()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn ok(page: &OaiPage, i: usize) -> &ImportedRecord {
    let r = &page.records[i];
    match &r.metadata {
        Some(Ok(imported)) => imported,
        other => panic!("{}: {other:?}", r.identifier),
    }
}

#[test]
fn zenodo_answers() {
    let Some(dir) = oai_dir() else { return };
    let dir = dir.join("zenodo_inveniordm");
    let p = page(&dir, "list_records_0.xml");
    assert_eq!(p.records.len(), 50);
    assert_eq!(p.response_date.as_deref(), Some("2026-08-13T18:18:48Z"));
    let first = &p.records[0];
    assert_eq!(first.identifier, "oai:zenodo.org:20510666");
    assert_eq!(first.datestamp, "2026-06-02T13:19:56Z");
    assert_eq!(first.sets, ["software"]);
    assert!(!first.deleted);
    let r = &ok(&p, 0).record;
    assert_eq!(r.title, "Meika4/mabs_mds7_gaussians: mAbs.MDS7 Gaussians");
    assert_eq!(r.doi.as_deref(), Some("10.5281/zenodo.20510666"));
    assert_eq!(r.corp_creators[0].name, "Meika4");
    // dc:rights https://creativecommons.org/licenses/by/4.0/legalcode
    assert_eq!(r.license.as_deref(), Some("cc_by"));
    assert_eq!(r.item_type, "other");
    let second = &ok(&p, 1).record;
    assert_eq!(second.creators[0].name.inverted(), "Prasadi Zoysa, Kanakarathnage Kavindya");
    assert!(p.resumption_token.as_deref().unwrap().starts_with(".eJyNjtFugjAYhd_lv8alLSqDxAvdaDcVNkCocGMq"));
    assert_eq!(p.complete_list_size, Some(1345244));
    assert_eq!(p.cursor, Some(0));
    assert_eq!(p.token_expiration.as_deref(), Some("2026-08-13T18:20:51Z"));
    let ok_count = p.records.iter().filter(|r| matches!(r.metadata, Some(Ok(_)))).count();
    assert!(ok_count >= 45, "{ok_count} of 50 read");

    let bad = page(&dir, "list_records_10.xml");
    assert!(bad.records.is_empty());
    assert_eq!(bad.errors[0].code, "badResumptionToken");
    let missing = page(&dir, "id_does_not_exist_0.xml");
    assert_eq!(missing.errors[0].code, "idDoesNotExist");
    assert_eq!(missing.errors[0].message, "No matching identifier");

    let datacite = page(&dir, "get_record_1.xml");
    let r = &ok(&datacite, 0).record;
    assert_eq!(r.creators[0].name.inverted(), "Klar, Jochen");
    assert_eq!(r.creators[0].orcid.as_deref(), Some("0000-0002-5883-4273"));
    assert!(r.doi.is_some(), "{r:?}");

    let id = read_identify(&read(&dir.join("identify_1.xml"))).unwrap();
    assert_eq!(id.granularity, "YYYY-MM-DDThh:mm:ssZ");
}

#[test]
fn sickle_fixtures() {
    let Some(dir) = oai_dir() else { return };
    let dir = dir.join("sickle_fixtures");
    let p = page(&dir, "ListRecords.xml");
    let deleted = p.records.iter().find(|r| r.deleted).expect("ListRecords.xml has a deleted record");
    assert!(deleted.metadata.is_none());
    assert!(p.records.iter().any(|r| matches!(r.metadata, Some(Ok(_)))));
    let none = page(&dir, "noRecordsMatch.xml");
    assert_eq!(none.errors[0].code, "noRecordsMatch");
    assert!(none.records.is_empty());
    let id = read_identify(&read(&dir.join("Identify.xml"))).unwrap();
    assert_eq!(id.granularity, "YYYY-MM-DD");
    assert!(read_identify(&read(&dir.join("badArgument.xml"))).is_err());
    let utf8 = page(&dir, "GetRecord_utf8test.xml");
    assert_eq!(utf8.records.len(), 1);
}

// ---------------------------------------------------------------------------
// Bad input.

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-01T00:00:00Z</responseDate><request verb="ListRecords" metadataPrefix="oai_dc">https://x.example/oai</request>"#;

fn dc_record(id: &str, body: &str) -> String {
    format!(
        "<record><header><identifier>{id}</identifier><datestamp>2024-01-01</datestamp></header><metadata>\
         <oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">{body}</oai_dc:dc></metadata></record>"
    )
}

fn list(records: &str) -> String {
    format!("{HEAD}<ListRecords>{records}</ListRecords></OAI-PMH>")
}

#[test]
fn bad_answers_are_errors() {
    let dc = MetadataPrefix::OaiDc;
    let err = |xml: &str| read_page(xml.as_bytes(), dc, &types()).unwrap_err().message;
    let e = err(&format!("{HEAD}<ListRecords><record></ListRecords></OAI-PMH>"));
    assert!(e.contains("malformed"), "{e}");
    let e = err("");
    assert!(e.contains("empty"), "{e}");
    let e = err("<html><body>503</body></html>");
    assert!(e.contains("not an OAI-PMH answer"), "{e}");
    let e = err(&format!("{HEAD}<ListRecords>"));
    assert!(e.contains("truncated") || e.contains("malformed"), "{e}");
    let doctype = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\"/>";
    let e = err(doctype);
    assert!(e.contains("DOCTYPE"), "{e}");
    let deep = format!("{}{}", "<x>".repeat(MAX_DEPTH + 1), "</x>".repeat(MAX_DEPTH + 1));
    let e = err(&format!("{HEAD}<ListRecords>{deep}</ListRecords></OAI-PMH>"));
    assert!(e.contains("deeper"), "{e}");
    let e = err(&format!("{HEAD}<Identify/></OAI-PMH>"));
    assert!(e.contains("Identify"), "{e}");
    let latin1 =
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\"/>";
    assert!(err(latin1).contains("UTF-8"));
}

#[test]
fn a_bad_record_costs_only_itself() {
    let records = [
        dc_record("oai:x:1", "<dc:title>First</dc:title><dc:type>Article</dc:type>"),
        dc_record("oai:x:2", "<dc:creator>Nobody, Anne</dc:creator>"),
        "<record><header status=\"deleted\"><identifier>oai:x:3</identifier><datestamp>2024-01-02</datestamp><setSpec>a</setSpec></header></record>".to_string(),
        dc_record("oai:x:4", "<dc:title>Unknown &amp; entity &bogus;</dc:title>"),
        "<record><header><identifier>oai:x:5</identifier><datestamp>2024</datestamp></header><metadata><mods xmlns=\"http://www.loc.gov/mods/v3\"/></metadata></record>".to_string(),
        dc_record("oai:x:6", "<dc:title>Last</dc:title>"),
    ]
    .concat();
    let p = read_page(list(&records).as_bytes(), MetadataPrefix::OaiDc, &types()).unwrap();
    assert_eq!(p.records.len(), 6);
    assert_eq!(ok(&p, 0).record.title, "First");
    let e = |i: usize| match &p.records[i].metadata {
        Some(Err(e)) => e.message.clone(),
        other => panic!("{i}: {other:?}"),
    };
    assert!(e(1).contains("oai:x:2") && e(1).contains("title"), "{}", e(1));
    assert!(p.records[2].deleted && p.records[2].metadata.is_none());
    assert_eq!(p.records[2].sets, ["a"]);
    assert!(e(3).contains("entity"), "{}", e(3));
    assert!(e(4).contains("mods"), "{}", e(4));
    assert_eq!(ok(&p, 5).record.title, "Last");
    assert_eq!(p.resumption_token, None);
}

#[test]
fn a_page_with_only_an_error() {
    let xml = format!("{HEAD}<error code=\"noRecordsMatch\">No records.</error></OAI-PMH>");
    let p = read_page(xml.as_bytes(), MetadataPrefix::Datacite, &types()).unwrap();
    assert!(p.records.is_empty());
    assert_eq!((p.errors[0].code.as_str(), p.errors[0].message.as_str()), ("noRecordsMatch", "No records."));
}

// ---------------------------------------------------------------------------
// Round trip through Arkiv's own writers.

fn envelope(ctx: &ExportContext, records: &[Record], metadata: impl Fn(&Record) -> String) -> String {
    let mut body = String::new();
    for r in records {
        body.push_str(&format!(
            "<record><header><identifier>{}</identifier><datestamp>2024-01-01T00:00:00Z</datestamp><setSpec>x</setSpec></header><metadata>{}</metadata></record>\n",
            ctx.oai_identifier(r),
            metadata(r)
        ));
    }
    body.push_str("<resumptionToken/>");
    list(&body)
}

/// The default types and the corpus's local ones (`oral_history`...).
fn corpus_types(records: &[Record]) -> ItemTypes {
    let local: Vec<(String, String)> = records.iter().map(|r| (r.item_type.clone(), r.item_type.clone())).collect();
    let defaults = ItemTypes::default();
    ItemTypes::with_extra(local.iter().filter(|(k, _)| !defaults.contains(k)).map(|(k, v)| (k, v)))
}

fn read_back(xml: &str, prefix: MetadataPrefix, records: &[Record]) -> Vec<ImportedRecord> {
    let types = if prefix == MetadataPrefix::Ep3 { corpus_types(records) } else { types() };
    let page = read_page(xml.as_bytes(), prefix, &types).unwrap();
    assert_eq!(page.records.len(), records.len());
    assert_eq!(page.resumption_token, None);
    page.records
        .into_iter()
        .zip(records)
        .map(|(h, original)| match h.metadata {
            Some(Ok(imported)) => imported,
            other => panic!("{} ({:?}) as {}: {other:?}", h.identifier, original.title, prefix.as_str()),
        })
        .collect()
}

fn text(value: &Option<String>) -> Option<String> {
    fields::text(value).map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn people(r: &Record) -> Vec<String> {
    r.creators
        .iter()
        .map(|c| one_line(&c.name.inverted()))
        .chain(r.corp_creators.iter().map(|c| one_line(&c.name)))
        .collect()
}

fn corpus() -> Option<Vec<Record>> {
    let dir = arkiv_testkit::corpus_dir()?;
    let mut records = arkiv_testkit::eprints_corpus(&dir);
    assert!(records.len() > 100);
    let mut seed = arkiv_testkit::seed();
    seed.id = Some(1);
    records.insert(0, seed);
    for (i, r) in records.iter_mut().enumerate() {
        r.id = Some(i as i64 + 1);
    }
    Some(records)
}

#[test]
fn the_corpus_comes_back_from_oai_dc() {
    let Some(records) = corpus() else { return };
    let ctx = ExportContext::example();
    let xml = envelope(&ctx, &records, |r| {
        let mut s = String::new();
        export::dc::write_oai_dc(r, &ctx, &mut s);
        s
    });
    let types = types();
    for (original, back) in records.iter().zip(read_back(&xml, MetadataPrefix::OaiDc, &records)) {
        let read = &back.record;
        let what = format!("record {:?} ({})", original.id, original.item_type);
        // The writer's dc:type is the type's label.
        let label_type = if types.contains(&original.item_type) { original.item_type.clone() } else { "other".into() };
        assert_eq!(read.item_type, label_type, "{what}: type");
        assert_eq!(read.title, original.title.trim(), "{what}: title");
        assert_eq!(people(read).len(), people(original).len(), "{what}: creators");
        let names: Vec<String> = read.creators.iter().map(|c| c.name.inverted()).collect();
        for n in &names {
            assert!(people(original).iter().any(|o| o == n), "{what}: {n} was not a creator");
        }
        assert_eq!(read.date, original.date.filter(|d| d.is_valid()), "{what}: date");
        assert_eq!(read.doi, fields::bare_doi(original).map(str::to_string), "{what}: doi");
        assert_eq!(read.refereed, original.refereed, "{what}: refereed");
        assert_eq!(read.official_url.as_deref(), Some(ctx.record_url(original).as_str()), "{what}: landing page");
        let abstract_ = text(&original.abstract_text).or(text(&original.note));
        assert_eq!(read.abstract_text.as_deref().map(one_line), abstract_, "{what}: abstract");
        let publisher = text(&original.publisher).or(text(&original.institution));
        assert_eq!(read.publisher.as_deref().map(one_line), publisher, "{what}: publisher");
        let source = text(&original.publication).or(text(&original.book_title));
        assert_eq!(read.publication.as_deref().map(one_line), source, "{what}: source");
        assert_eq!(read.isbn, text(&original.isbn), "{what}: isbn");
        assert_eq!(read.issn, text(&original.issn), "{what}: issn");
        for l in &original.languages {
            assert!(read.languages.contains(&l.to_lowercase()), "{what}: language {l}");
        }
        for k in &original.keywords {
            assert!(read.keywords.iter().any(|r| r.eq_ignore_ascii_case(k.trim())), "{what}: keyword {k}");
        }
        if let Some(l) = text(&original.license) {
            assert_eq!(
                read.license.as_deref().map(|r| fields::license_url(r).unwrap_or_else(|| r.to_string())),
                Some(fields::license_url(&l).unwrap_or(l)),
                "{what}: licence"
            );
        }
        assert!(read.editors.is_empty(), "{what}: DC does not say who edited");
        assert_eq!(
            read.contributors.len(),
            original.editors.len() + original.contributors.len(),
            "{what}: contributors"
        );
    }
}

#[test]
fn the_corpus_comes_back_from_datacite() {
    let Some(records) = corpus() else { return };
    let ctx = ExportContext::example();
    let xml = envelope(&ctx, &records, |r| {
        let mut s = String::new();
        (export::datacite::DATACITE.oai.unwrap().element)(r, &ctx, &mut s);
        s
    });
    for (original, back) in records.iter().zip(read_back(&xml, MetadataPrefix::Datacite, &records)) {
        let read = &back.record;
        let what = format!("record {:?} ({})", original.id, original.item_type);
        assert_eq!(read.title, one_line(&original.title), "{what}: title");
        assert_eq!(read.doi, fields::bare_doi(original).map(str::to_string), "{what}: doi");
        assert_eq!(
            people(read),
            people(original).into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>(),
            "{what}: creators"
        );
        let orcids = |r: &Record| r.creators.iter().map(|c| c.orcid.clone()).collect::<Vec<_>>();
        if original.creators.iter().all(|c| c.orcid.as_deref().is_none_or(arkiv_model::validate::is_orcid)) {
            assert_eq!(orcids(read), orcids(original), "{what}: orcids");
        }
        assert_eq!(
            read.date,
            original.date.filter(|d| d.is_valid()).or(read.date.filter(|_| original.date.is_none())),
            "{what}: date"
        );
        let editors = |r: &Record| r.editors.iter().map(|e| one_line(&e.name.inverted())).collect::<Vec<_>>();
        assert_eq!(editors(read), editors(original), "{what}: editors");
        assert_eq!(read.abstract_text.as_deref().map(one_line), text(&original.abstract_text), "{what}: abstract");
        assert_eq!(read.note.as_deref().map(one_line), text(&original.note), "{what}: note");
        let publisher = text(&original.publisher).or(text(&original.institution));
        if let Some(p) = publisher {
            assert_eq!(read.publisher.as_deref().map(one_line), Some(p), "{what}: publisher");
        }
        assert_eq!(read.publication.as_deref().map(one_line), text(&original.publication), "{what}: journal");
        assert_eq!(
            read.volume,
            text(&original.volume).filter(|_| original.publication.is_some() || original.book_title.is_some()),
            "{what}: volume"
        );
        assert_eq!(read.series.as_deref().map(one_line), text(&original.series), "{what}: series");
        assert_eq!(read.isbn, text(&original.isbn), "{what}: isbn");
        assert_eq!(read.issn, text(&original.issn), "{what}: issn");
        let genre = fields::Genre::of(original);
        if genre != fields::Genre::Other {
            assert_eq!(fields::Genre::of(read), genre, "{what}: kind of work ({})", read.item_type);
        }
        for k in &original.keywords {
            assert!(read.keywords.iter().any(|r| r.eq_ignore_ascii_case(&one_line(k))), "{what}: keyword {k}");
        }
    }
}

#[test]
fn the_corpus_comes_back_from_ep3() {
    let Some(records) = corpus() else { return };
    let ctx = ExportContext::example();
    let opts = WriteOptions::default();
    let xml = envelope(&ctx, &records, |r| record_to_xml(r, &opts));
    for (original, back) in records.iter().zip(read_back(&xml, MetadataPrefix::Ep3, &records)) {
        let read = &back.record;
        let what = format!("record {:?}", original.id);
        assert_eq!(read.item_type, original.item_type, "{what}");
        assert_eq!(read.title, original.title, "{what}");
        assert_eq!(read.creators, original.creators, "{what}");
        assert_eq!(read.date, original.date, "{what}");
        assert_eq!(read.doi, original.doi, "{what}");
        assert_eq!(read.abstract_text, original.abstract_text, "{what}");
        assert_eq!(read.keywords, original.keywords, "{what}");
        assert_eq!(read.documents.len(), original.documents.len(), "{what}");
    }
}

#[test]
fn ep3_under_a_prefix_bound_above_it() {
    // The eprint's prefix is declared on <metadata>, not on the element.
    let xml = list(
        "<record><header><identifier>oai:x:1</identifier><datestamp>2024</datestamp></header>\
         <metadata xmlns:ep=\"http://eprints.org/ep2/data/2.0\"><ep:eprint><ep:eprintid>1</ep:eprintid>\
         <ep:type>article</ep:type><ep:title>Bound above</ep:title></ep:eprint></metadata></record>",
    );
    let p = read_page(xml.as_bytes(), MetadataPrefix::Ep3, &types()).unwrap();
    assert_eq!(ok(&p, 0).record.title, "Bound above");
}
