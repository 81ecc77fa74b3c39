//! MODS 3.8, DataCite 4.5, MARCXML and Dublin Core exports checked the way
//! a harvester or a catalogue would: every corpus record (the seed, the
//! EPrints corpus, arXiv, Zenodo) and a set of hand-made records with every
//! field (and with none), written one by one (the OAI-PMH element) and as
//! one list, must validate against the official schemas with xmllint; an
//! empty list of every format is either valid or refused; and the seed must
//! say what a cataloguer expects of it.

use arkiv_formats::export::{self, ExportContext, ExportFormat};
use arkiv_model::{
    Contributor, CorporateCreator, Creator, Document, DocumentSecurity, PartialDate, Record, RelatedLink, Status,
    StoredFile, Subject, SubjectTree, Timestamp,
};
use arkiv_testkit::checkers::{validate_xml, validate_xml_many, xmllint_ready};
use std::sync::Arc;

const MODS_XSD: &str = "mods/mods-3-8.xsd";
const DATACITE_XSD: &str = "datacite/kernel-4.5/metadata.xsd";
const MARC_XSD: &str = "marc/MARC21slim.xsd";

const OAI_DC_XSD: &str = "oai/oai_dc.xsd";

fn datacite_list_xsd() -> String {
    format!("{}/tests/data/datacite-resources.xsd", env!("CARGO_MANIFEST_DIR"))
}

/// `<dcCollection>` around oai_dc elements (oai_dc has no list element).
fn dc_list_xsd() -> String {
    format!("{}/tests/data/dc-collection.xsd", env!("CARGO_MANIFEST_DIR"))
}

fn ctx() -> ExportContext {
    let s = |id: &str, name: &str, parent: Option<&str>| Subject {
        id: id.into(),
        name: name.into(),
        parent: parent.map(Into::into),
    };
    ExportContext {
        base_url: "https://repo.example.org".into(),
        repository_name: "Example Repository".into(),
        oai_host: "repo.example.org".into(),
        subjects: Arc::new(SubjectTree::new(vec![
            s("geo", "Geographical area", None),
            s("geo-casia", "Central Asia", Some("geo")),
            s("geo-casia-kz", "Kazakhstan", Some("geo-casia")),
            s("geo-rus", "Russia", Some("geo")),
        ])),
        item_types: Default::default(),
        today: "2026-11-28".parse().unwrap(),
    }
}

fn stored(name: &str) -> StoredFile {
    StoredFile {
        filename: name.into(),
        mime_type: Some("application/pdf".into()),
        size: 10,
        sha256: Some("ab".repeat(32)),
        ..Default::default()
    }
}

/// Records by hand, one of each default item type, with every field filled
/// (control characters and markup included), with nothing but a title, and
/// with documents open, restricted and under embargo.
fn made_records() -> Vec<Record> {
    let mut records = Vec::new();
    for (i, (item_type, _)) in arkiv_model::item_type::DEFAULT_TYPES.iter().enumerate() {
        let mut r = Record::new(item_type, &format!("The <b>{item_type}</b> & its \"title\"\u{1}\nover two lines"));
        r.id = Some(9000 + i as i64);
        r.status = Status::Archive;
        let mut author = Creator::new("Kowalska", "Anna Maria");
        author.orcid = Some("https://orcid.org/0000-0002-1825-0097".into());
        author.email = Some("anna@example.org".into());
        author.id = Some("anna@example.org".into());
        r.creators = vec![author, Creator::new("Plato", "")];
        r.corp_creators = vec![CorporateCreator { name: "OSW Centre for Eastern Studies".into(), id: None }];
        r.editors = vec![Creator::new("Editor", "Eve")];
        r.contributors = vec![
            Contributor {
                role: "http://www.loc.gov/loc.terms/relators/THS".into(),
                person: Creator::new("Advisor", "Ada"),
            },
            Contributor { role: "helper".into(), person: Creator::new("Helper", "Hal") },
        ];
        r.date = Some(["2014", "2014-05", "2014-05-29"][i % 3].parse().unwrap());
        r.date_type = Some(["published", "submitted", "completed"][i % 3].into());
        r.series = (i % 2 == 0).then(|| "OSW Commentary".into());
        r.number = Some("137".into());
        r.publisher = Some("Publisher & Sons".into());
        r.institution = Some("University of Warsaw".into());
        // A new version of an earlier record (DataCite: IsNewVersionOf).
        r.succeeds = (i % 4 == 1).then_some(8999);
        r.place_of_pub = Some("Warsaw".into());
        r.pages = Some("24".into());
        r.pagerange = Some("12–34".into());
        r.publication = (i % 3 == 0).then(|| "Journal of Things".into());
        r.book_title = (i % 3 == 1).then(|| "A Book of Chapters".into());
        r.event_title = Some("A Conference".into());
        r.volume = Some("7".into());
        r.doi = (i % 2 == 1).then(|| "https://doi.org/10.1234/abc.def".into());
        r.isbn = Some("978-3-16-148410-0".into());
        r.issn = Some("0031-8949".into());
        r.id_number = Some("arXiv:0704.0001".into());
        r.keywords = vec!["energy".into(), "gas < oil".into()];
        r.subjects = vec!["geo-casia-kz".into(), "unknown-subject".into()];
        r.languages = vec![["en", "pl", "de-AT", "xx", "English"][i % 5].into()];
        r.abstract_text = Some("An abstract with <markup> & ampersands.\r\nAnd a second line.".into());
        r.note = Some("A note.".into());
        r.license = (i % 2 == 0).then(|| ["cc_by", "https://example.org/licence", "all rights reserved"][i % 3].into());
        r.related = vec![
            RelatedLink { url: "https://doi.org/10.5555/xyz".into(), relation: Some("pub".into()), description: None },
            RelatedLink {
                url: "https://data.example.org/1".into(),
                relation: Some("IsSupplementedBy".into()),
                description: None,
            },
            RelatedLink { url: "not a url".into(), relation: None, description: None },
        ];
        r.datestamp = Timestamp::parse("2015-01-02 03:04:05");
        r.lastmod = Timestamp::parse("2016-02-03 04:05:06");
        r.documents = vec![
            Document {
                pos: 1,
                mime_type: Some("application/pdf".into()),
                license: Some("cc_by_nc".into()),
                files: vec![stored("open file.pdf")],
                ..Default::default()
            },
            Document {
                pos: 2,
                security: DocumentSecurity::Staffonly,
                files: vec![stored("secret-staff.pdf")],
                ..Default::default()
            },
            Document {
                pos: 3,
                embargo: Some("2030".parse().unwrap()),
                files: vec![stored("secret-embargo.pdf")],
                ..Default::default()
            },
        ];
        records.push(r);
    }
    let mut bare = Record::new("local_type_nobody_knows", "Bare");
    bare.id = Some(9100);
    records.push(bare);
    let mut untitled = Record::new("article", "   ");
    untitled.id = Some(9101);
    untitled.creators = vec![Creator::new("", "")];
    untitled.date = Some(PartialDate { year: 2014, month: Some(13), day: None });
    records.push(untitled);
    let mut restricted = Record::new("policy_paper", "Only restricted files");
    restricted.id = Some(9102);
    restricted.documents = vec![Document {
        pos: 1,
        security: DocumentSecurity::Validuser,
        files: vec![stored("secret-registered.pdf")],
        ..Default::default()
    }];
    records.push(restricted);
    records
}

fn corpus_records() -> Option<Vec<Record>> {
    let dir = arkiv_testkit::corpus_dir()?;
    let mut records = arkiv_testkit::all_records(&dir);
    records.extend(made_records());
    Some(records)
}

fn list(format: &ExportFormat, records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    export::write_all(format, &ctx(), records, &mut out).unwrap();
    out
}

fn element(format: &ExportFormat, record: &Record) -> Vec<u8> {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    (format.oai.expect("an OAI format").element)(record, &ctx(), &mut s);
    s.into_bytes()
}

fn check_format(format: &ExportFormat, record_schema: &str, list_schema: &str) {
    if !xmllint_ready() {
        return;
    }
    let Some(records) = corpus_records() else { return };
    assert!(records.len() > 1300, "the corpora are all here: {}", records.len());
    let one_by_one: Vec<Vec<u8>> = records.iter().map(|r| element(format, r)).collect();
    if let Err(e) = validate_xml_many(&one_by_one, record_schema) {
        panic!("{} records do not validate one by one:\n{e}", format.id);
    }
    let whole = list(format, &records);
    if let Err(e) = validate_xml(&whole, list_schema) {
        panic!("the {} list does not validate:\n{e}", format.id);
    }
    // A single record through the list writer validates too.
    validate_xml(&list(format, &records[..1]), list_schema).unwrap();
    check_empty_list(format, list_schema);
}

/// An empty list is valid where the format says it may be empty; where it
/// says not (MODS: `modsCollection` needs at least one `mods`), `write_all`
/// refuses it with nothing written, and the empty form the writer would
/// make is indeed invalid (so the refusal is needed, and a schema that
/// came to allow it would show here).
fn check_empty_list(format: &ExportFormat, list_schema: &str) {
    let mut out = Vec::new();
    let written = export::write_all(format, &ctx(), &[], &mut out);
    if format.list_may_be_empty {
        written.unwrap();
        if let Err(e) = validate_xml(&out, list_schema) {
            panic!("the empty {} list does not validate:\n{e}", format.id);
        }
    } else {
        let e = written.expect_err("an empty list is refused");
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("no records to export"), "{e}");
        assert!(out.is_empty(), "nothing is written");
        let mut writer = (format.writer)(&ctx());
        writer.begin(&mut out).unwrap();
        writer.end(&mut out).unwrap();
        assert!(validate_xml(&out, list_schema).is_err(), "{}: the empty form is valid after all", format.id);
    }
}

/// Every format's empty list (a search or browse export with no hits,
/// `arkiv export` of an empty repository) is valid in its own terms or
/// refused: the XML lists against their schemas, EPrints XML (no published
/// schema) read back as no record, the JSON ones parsed, the text ones
/// written without error.
#[test]
fn every_format_s_empty_list_is_valid_or_refused() {
    let list_schemas = [
        ("mods", MODS_XSD.to_string()),
        ("datacite", datacite_list_xsd()),
        ("marcxml", MARC_XSD.into()),
        ("dc", dc_list_xsd()),
    ];
    for format in export::FORMATS {
        if let Some((_, schema)) = list_schemas.iter().find(|(id, _)| *id == format.id) {
            if xmllint_ready() {
                check_empty_list(format, schema);
            }
            continue;
        }
        assert!(format.list_may_be_empty, "{}: only MODS refuses an empty list", format.id);
        let mut out = Vec::new();
        export::write_all(format, &ctx(), &[], &mut out).unwrap();
        match format.id {
            "ep3" => {
                let text = String::from_utf8(out.clone()).unwrap();
                assert!(text.contains("<eprints") && text.trim_end().ends_with("</eprints>"), "{text}");
                assert_eq!(arkiv_formats::EprintsReader::new(&out[..]).count(), 0, "{text}");
            }
            "json" | "csljson" | "jsonld" => {
                let v: serde_json::Value =
                    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{}: {e}", format.id));
                let items = if format.id == "jsonld" { &v["@graph"] } else { &v };
                assert_eq!(items.as_array().map(Vec::len), Some(0), "{}: {v}", format.id);
            }
            _ => assert!(std::str::from_utf8(&out).is_ok(), "{}", format.id),
        }
    }
    assert!(!export::find("mods").unwrap().list_may_be_empty, "MODS refuses an empty list");
}

#[test]
fn mods_validates_over_the_corpora() {
    check_format(&export::mods::MODS, MODS_XSD, MODS_XSD);
}

#[test]
fn datacite_validates_over_the_corpora() {
    check_format(&export::datacite::DATACITE, DATACITE_XSD, &datacite_list_xsd());
}

#[test]
fn marcxml_validates_over_the_corpora() {
    check_format(&export::marcxml::MARCXML, MARC_XSD, MARC_XSD);
}

#[test]
fn dublin_core_validates_over_the_corpora() {
    check_format(&export::dc::DC, OAI_DC_XSD, &dc_list_xsd());
}

#[test]
fn datacite_lists_validate_against_the_newest_kernel_too() {
    if !xmllint_ready() {
        return;
    }
    let records = made_records();
    let docs: Vec<Vec<u8>> = records.iter().map(|r| element(&export::datacite::DATACITE, r)).collect();
    validate_xml_many(&docs, "datacite/kernel-4.7/metadata.xsd").unwrap();
}

fn seed_text(format: &ExportFormat) -> String {
    let mut seed = arkiv_testkit::seed();
    seed.id = Some(1);
    String::from_utf8(list(format, &[seed])).unwrap()
}

#[test]
fn the_seed_reads_right_in_mods() {
    let xml = seed_text(&export::mods::MODS);
    for expected in [
        "<title>Kazakhstan's attitude towards integration with Russia: less love, more fear</title>",
        "<namePart type=\"family\">Jaroslewlcz</namePart>",
        "<namePart type=\"given\">Aleksandra</namePart>",
        "<roleTerm type=\"code\" authority=\"marcrelator\">aut</roleTerm>",
        "<dateIssued encoding=\"w3cdtf\" keyDate=\"yes\">2014-05-29</dateIssued>",
        "<publisher>OSW Centre for Eastern Studies</publisher>",
        "<placeTerm type=\"text\">Warsaw</placeTerm>",
        "<relatedItem type=\"series\">",
        "<title>OSW Commentary</title>",
        "<partNumber>137</partNumber>",
        "<genre authority=\"local\" type=\"policy_paper\">Policy Paper</genre>",
        "<languageTerm type=\"code\" authority=\"iso639-2b\">eng</languageTerm>",
        "<topic>Kazakhstan</topic>",
        "<topic>Eurasian Union</topic>",
        "<url access=\"object in context\" usage=\"primary display\">https://repo.example.org/1/</url>",
        "<typeOfResource>text</typeOfResource>",
        "<accessCondition type=\"use and reproduction\">https://creativecommons.org/licenses/by/4.0/</accessCondition>",
        "<recordIdentifier source=\"Example Repository\">oai:repo.example.org:1</recordIdentifier>",
    ] {
        assert!(xml.contains(expected), "MODS of the seed lacks {expected}:\n{xml}");
    }
    // The seed's PDF was read from XML with no bytes stored: it has no URL.
    assert!(!xml.contains("commentary_137.pdf"), "{xml}");
}

#[test]
fn the_seed_reads_right_in_datacite() {
    let xml = seed_text(&export::datacite::DATACITE);
    for expected in [
        "<identifier identifierType=\"URL\">https://repo.example.org/1/</identifier>",
        "<creatorName nameType=\"Personal\">Jaroslewlcz, Aleksandra</creatorName>",
        "<familyName>Jaroslewlcz</familyName>",
        "<title>Kazakhstan's attitude towards integration with Russia: less love, more fear</title>",
        "<publisher>OSW Centre for Eastern Studies</publisher>",
        "<publicationYear>2014</publicationYear>",
        "<resourceType resourceTypeGeneral=\"Report\">Policy Paper</resourceType>",
        "<date dateType=\"Issued\">2014-05-29</date>",
        "<language>en</language>",
        "<description descriptionType=\"SeriesInformation\">OSW Commentary, 137</description>",
        "<subject subjectScheme=\"Example Repository\">Kazakhstan</subject>",
        "<rights rightsURI=\"https://creativecommons.org/licenses/by/4.0/\" rightsIdentifier=\"CC-BY-4.0\"",
    ] {
        assert!(xml.contains(expected), "DataCite of the seed lacks {expected}:\n{xml}");
    }
}

#[test]
fn the_seed_reads_right_in_marcxml() {
    let xml = seed_text(&export::marcxml::MARCXML);
    let leader = xml.split("<marc:leader>").nth(1).unwrap().split('<').next().unwrap();
    assert_eq!(&leader[5..8], "nam", "a new record of a monograph text: {leader:?}");
    let f008 = xml.split("<marc:controlfield tag=\"008\">").nth(1).unwrap().split('<').next().unwrap();
    assert_eq!(f008.len(), 40);
    assert_eq!(&f008[6..11], "s2014", "{f008:?}");
    assert_eq!(&f008[23..25], "ot", "online, a technical report: {f008:?}");
    assert_eq!(&f008[35..38], "eng");
    for expected in [
        "<marc:datafield tag=\"100\" ind1=\"1\" ind2=\" \">\n      <marc:subfield code=\"a\">Jaroslewlcz, Aleksandra</marc:subfield>\n      <marc:subfield code=\"e\">author</marc:subfield>",
        "<marc:datafield tag=\"245\" ind1=\"1\" ind2=\"0\">\n      <marc:subfield code=\"a\">Kazakhstan's attitude towards integration with Russia: less love, more fear</marc:subfield>",
        "<marc:subfield code=\"b\">OSW Centre for Eastern Studies</marc:subfield>\n      <marc:subfield code=\"c\">2014</marc:subfield>",
        "<marc:datafield tag=\"490\" ind1=\"1\" ind2=\" \">\n      <marc:subfield code=\"a\">OSW Commentary</marc:subfield>\n      <marc:subfield code=\"v\">137</marc:subfield>",
        "<marc:datafield tag=\"830\" ind1=\" \" ind2=\"0\">",
        "<marc:subfield code=\"a\">Policy Paper</marc:subfield>",
        "<marc:datafield tag=\"856\" ind1=\"4\" ind2=\"0\">\n      <marc:subfield code=\"u\">https://repo.example.org/1/</marc:subfield>",
        "<marc:datafield tag=\"653\" ind1=\" \" ind2=\" \">\n      <marc:subfield code=\"a\">Crimea</marc:subfield>",
    ] {
        assert!(xml.contains(expected), "MARCXML of the seed lacks {expected}:\n{xml}");
    }
}

#[test]
fn restricted_files_and_email_addresses_never_leave() {
    let records = made_records();
    for format in [&export::mods::MODS, &export::datacite::DATACITE, &export::marcxml::MARCXML] {
        let xml = String::from_utf8(list(format, &records)).unwrap();
        // DataCite describes the work, not its files; the others link them.
        if format.id != "datacite" {
            assert!(
                xml.contains("https://repo.example.org/9000/1/open%20file.pdf"),
                "{}: the open file is linked",
                format.id
            );
        }
        for secret in ["secret-staff", "secret-embargo", "secret-registered", "anna@example.org"] {
            assert!(!xml.contains(secret), "{} exports {secret}", format.id);
        }
        assert!(xml.contains("0000-0002-1825-0097"), "{}: the ORCID is there", format.id);
    }
}

#[test]
fn a_new_version_names_the_record_it_succeeds_in_datacite() {
    let record = made_records().into_iter().find(|r| r.succeeds.is_some()).expect("a new version among the records");
    let xml = String::from_utf8(element(&export::datacite::DATACITE, &record)).unwrap();
    let expected =
        "<relatedIdentifier relatedIdentifierType=\"URL\" relationType=\"IsNewVersionOf\">https://repo.example.org/8999/</relatedIdentifier>";
    assert!(xml.contains(expected), "{xml}");
}

#[test]
fn a_new_version_names_the_record_it_succeeds_in_mods() {
    let record = made_records().into_iter().find(|r| r.succeeds.is_some()).expect("a new version among the records");
    let xml = String::from_utf8(element(&export::mods::MODS, &record)).unwrap();
    let expected = "<relatedItem type=\"otherVersion\" displayLabel=\"Earlier version\">\n    <identifier type=\"uri\">https://repo.example.org/8999/</identifier>\n  </relatedItem>";
    assert!(xml.contains(expected), "{xml}");
    // Its own landing page stays its identifier; the earlier one is only
    // inside the relatedItem.
    assert_eq!(xml.matches("https://repo.example.org/8999/").count(), 1, "{xml}");
    if xmllint_ready() {
        validate_xml(xml.as_bytes(), MODS_XSD).unwrap();
        validate_xml(&list(&export::mods::MODS, std::slice::from_ref(&record)), MODS_XSD).unwrap();
    }
    // A record that succeeds nothing (or, by a bad import, itself) says nothing.
    let mut alone = record.clone();
    alone.succeeds = alone.id;
    let xml = String::from_utf8(element(&export::mods::MODS, &alone)).unwrap();
    assert!(!xml.contains("otherVersion"), "{xml}");
}

#[test]
fn a_record_without_creators_gets_datacite_unav_and_a_doi_when_it_has_one() {
    let records = made_records();
    let bare = records.iter().find(|r| r.title == "Bare").unwrap();
    let xml = String::from_utf8(element(&export::datacite::DATACITE, bare)).unwrap();
    assert!(xml.contains("<creatorName>:unav</creatorName>"), "{xml}");
    assert!(xml.contains("<publisher>Example Repository</publisher>"), "{xml}");
    assert!(xml.contains("<publicationYear>2026</publicationYear>"), "{xml}");
    let with_doi = records.iter().find(|r| r.doi.is_some()).unwrap();
    let xml = String::from_utf8(element(&export::datacite::DATACITE, with_doi)).unwrap();
    assert!(xml.contains("<identifier identifierType=\"DOI\">10.1234/abc.def</identifier>"), "{xml}");
    assert!(xml.contains("<alternateIdentifier alternateIdentifierType=\"URL\">https://repo.example.org/"), "{xml}");
}

#[test]
fn the_three_are_registered_for_export_and_oai_pmh() {
    for (id, prefix) in [("mods", "mods"), ("datacite", "datacite"), ("marcxml", "marc21")] {
        let format = export::find(id).unwrap_or_else(|| panic!("{id} is in FORMATS"));
        assert_eq!(format.oai.unwrap().prefix, prefix);
        assert!(export::oai_formats().any(|(_, o)| o.prefix == prefix));
    }
}

/// The OpenURL ContextObject export has no schema in this project's set,
/// so over the corpora it is checked for what can be: well-formed XML with
/// one context object per record, each naming the format its kind takes.
#[test]
fn context_objects_are_well_formed_over_the_corpora() {
    let Some(records) = corpus_records() else { return };
    let format = export::find("context_object").expect("registered");
    let xml = String::from_utf8(list(format, &records)).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut objects, mut depth) = (0, 0usize);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                depth += 1;
                if e.name().as_ref() == b"ctx:context-object" {
                    objects += 1;
                }
            }
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!((objects, depth), (records.len(), 0));
    for format in ["journal", "book", "dissertation", "oai_dc"] {
        assert!(xml.contains(&format!("<ctx:format>info:ofi/fmt:xml:xsd:{format}</ctx:format>")), "{format}");
    }
}
