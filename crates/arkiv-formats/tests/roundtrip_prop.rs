//! Random records survive EPrints XML and JSON Lines: write, read, equal.
//!
//! The generated records stay within what the formats promise to carry:
//! text is trimmed and non-empty where the reader reads blank as absent;
//! keywords hold no separator (EPrints keeps keywords as one text);
//! `sha256` is Arkiv's own and not part of EPrints XML (an import stores the
//! bytes and computes it again).

use arkiv_formats::{read_json_lines, EprintsReader, EprintsWriter, JsonLinesWriter, WriteOptions};
use arkiv_model::{
    Contributor, CorporateCreator, Creator, Document, DocumentSecurity, ExtraField, PartialDate, PersonName, Record,
    RelatedLink, Status, StoredFile, Timestamp,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

/// Any printable text: every Unicode character but control, format,
/// surrogate, private-use and unassigned ones; trimmed, non-empty.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("\\PC{{1,{max}}}"))
        .unwrap()
        .prop_map(|s| s.trim().to_string())
        .prop_filter("blank", |s| !s.is_empty())
}

/// Several lines, as an abstract has.
fn paragraphs() -> impl Strategy<Value = String> {
    vec(text(80), 1..4).prop_map(|lines| lines.join("\n\n"))
}

fn keyword() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[^,;\\pC]{1,30}")
        .unwrap()
        .prop_map(|s| s.trim().to_string())
        .prop_filter("blank", |s| !s.is_empty())
}

fn date() -> impl Strategy<Value = PartialDate> {
    (1000i32..=9999, option::of((1u8..=12, option::of(1u8..=28)))).prop_map(|(year, md)| PartialDate {
        year,
        month: md.map(|(m, _)| m),
        day: md.and_then(|(_, d)| d),
    })
}

fn creator() -> impl Strategy<Value = Creator> {
    (
        text(40),
        option::of(text(30)),
        option::of(text(20)),
        option::of("[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]"),
        option::of("[a-z]{1,8}@[a-z]{1,8}\\.org"),
    )
        .prop_map(|(family, given, id, orcid, email)| Creator {
            name: PersonName { family, given: given.unwrap_or_default() },
            id,
            orcid,
            email,
        })
}

fn security() -> impl Strategy<Value = DocumentSecurity> {
    prop_oneof![Just(DocumentSecurity::Public), Just(DocumentSecurity::Validuser), Just(DocumentSecurity::Staffonly)]
}

fn file() -> impl Strategy<Value = StoredFile> {
    (
        text(40),
        option::of("[a-z]{1,10}/[a-z0-9.+-]{1,20}"),
        any::<u64>(),
        option::of(("MD5|SHA1", "[0-9a-f]{32}")),
        option::of(text(60)),
        option::of(1..i64::MAX),
    )
        .prop_map(|(filename, mime_type, size, source_hash, source_url, eprints_fileid)| StoredFile {
            filename,
            mime_type,
            size,
            sha256: None,
            source_hash: source_hash.map(|(k, h)| (k.to_string(), h)),
            source_url,
            eprints_fileid,
        })
}

fn document() -> impl Strategy<Value = Document> {
    (
        option::of(text(20)),
        option::of(text(40)),
        option::of(text(20)),
        option::of("[a-z]{2}"),
        security(),
        option::of(date()),
        option::of(text(20)),
        option::of(text(20)),
        (vec(file(), 0..3), option::of(1..i64::MAX)),
    )
        .prop_map(
            |(format, format_description, mime_type, language, security, embargo, license, content, (files, docid))| {
                Document {
                    pos: 0,
                    format,
                    format_description,
                    mime_type,
                    language,
                    security,
                    embargo,
                    license,
                    content,
                    main: files.first().map(|f| f.filename.clone()),
                    files,
                    eprints_docid: docid,
                    derived: None,
                }
            },
        )
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![Just(Status::Inbox), Just(Status::Buffer), Just(Status::Archive), Just(Status::Deletion)]
}

/// An unmapped element as the reader writes it: text escaped, nothing else.
fn extra() -> impl Strategy<Value = ExtraField> {
    ("[a-z]{1,10}_x", vec(text(30), 1..3)).prop_map(|(name, items)| {
        let mut xml = format!("<{name}>");
        for i in items {
            let escaped = i.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            xml.push_str(&format!("<item>{escaped}</item>"));
        }
        xml.push_str(&format!("</{name}>"));
        ExtraField { name, xml }
    })
}

prop_compose! {
    fn record()(
        (id, status, item_type, title) in (option::of(1i64..1_000_000_000), status(), "[a-z_]{1,20}", text(200)),
        (creators, editors, corp, contributors) in (
            vec(creator(), 0..4),
            vec(creator(), 0..2),
            vec((text(60), option::of(text(20))), 0..2),
            vec(("[a-z]{3}|http://id\\.loc\\.gov/vocabulary/relators/[a-z]{3}", creator()), 0..2),
        ),
        (date, date_type, ispublished, series, number, publisher, place_of_pub) in (
            option::of(date()),
            option::of("published|submitted|completed"),
            option::of("pub|inpress|submitted|unpub"),
            option::of(text(60)),
            option::of(text(10)),
            option::of(text(60)),
            option::of(text(30)),
        ),
        (publication, volume, pagerange, doi, isbn, issn, official_url) in (
            option::of(text(60)),
            option::of(text(10)),
            option::of(text(15)),
            option::of(text(40)),
            option::of(text(20)),
            option::of(text(20)),
            option::of(text(60)),
        ),
        (institution, department, pages, book_title, event_title, id_number, note) in (
            option::of(text(40)),
            option::of(text(40)),
            option::of("[0-9]{1,4}"),
            option::of(text(60)),
            option::of(text(60)),
            option::of(text(30)),
            option::of(paragraphs()),
        ),
        (keywords, subjects, languages, abstract_text, license, refereed) in (
            vec(keyword(), 0..5),
            vec(text(20), 0..3),
            vec("[a-z]{2,3}", 0..3),
            option::of(paragraphs()),
            option::of(text(30)),
            option::of(any::<bool>()),
        ),
        (related, userid, datestamp, lastmod, replaced_by, succeeds) in (
            vec((text(80), option::of(text(20)), option::of(text(60))), 0..3),
            option::of(any::<i64>()),
            option::of(0i64..4_102_444_800),
            option::of(0i64..4_102_444_800),
            option::of(any::<i64>()),
            option::of(any::<i64>()),
        ),
        (documents, extra, divisions, subtype) in (
            vec(document(), 0..3),
            vec(extra(), 0..2),
            vec(text(20), 0..3),
            option::of(text(20)),
        ),
    ) -> Record {
        let documents = documents
            .into_iter()
            .enumerate()
            .map(|(i, mut d)| { d.pos = i as u32 + 1; d })
            .collect();
        // Any text will do for the reason a record was withdrawn.
        let withdrawn_reason = note.clone();
        Record {
            id, status, item_type, subtype, title, creators, editors,
            corp_creators: corp.into_iter().map(|(name, id)| CorporateCreator { name, id }).collect(),
            contributors: contributors.into_iter().map(|(role, person)| Contributor { role, person }).collect(),
            date, date_type, ispublished, series, number, publisher, institution, department, place_of_pub,
            pages, pagerange, publication, book_title, volume, event_title, official_url, doi, isbn, issn,
            id_number, keywords, subjects, divisions, languages, abstract_text, note, license, refereed,
            related: related.into_iter().map(|(url, relation, description)| RelatedLink { url, relation, description }).collect(),
            userid,
            datestamp: datestamp.map(Timestamp),
            lastmod: lastmod.map(Timestamp),
            withdrawn_reason,
            // Not in EPrints XML: a workflow note, kept by the JSON dump only.
            review_note: None,
            replaced_by,
            succeeds,
            documents,
            extra,
        }
    }
}

fn private() -> WriteOptions {
    WriteOptions { include_private: true, ..Default::default() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn records_survive_eprints_xml(records in vec(record(), 1..4)) {
        let mut w = EprintsWriter::new(Vec::new()).unwrap();
        for r in &records {
            w.write_record(r, &private()).unwrap();
        }
        let xml = w.finish().unwrap();
        let read: Vec<_> = EprintsReader::new(xml.as_slice()).collect();
        prop_assert_eq!(read.len(), records.len());
        for (item, original) in read.into_iter().zip(&records) {
            let imported = item.result.map_err(|e| TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&xml))))?;
            prop_assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
            prop_assert_eq!(&imported.record, original);
        }
    }

    #[test]
    fn records_survive_json_lines(records in vec(record(), 1..4)) {
        let mut w = JsonLinesWriter::new(Vec::new());
        for r in &records {
            w.write_record(r, &private()).unwrap();
        }
        let json = w.finish().unwrap();
        let read: Vec<Record> = read_json_lines(json.as_slice()).map(|i| i.result.unwrap().record).collect();
        prop_assert_eq!(read, records);
    }

    #[test]
    fn public_exports_carry_no_email(r in record()) {
        let xml = arkiv_formats::record_to_xml(&r, &WriteOptions::default());
        prop_assert!(!xml.contains("<email>"));
        let back = EprintsReader::new(xml.as_bytes()).next().unwrap().result.unwrap().record;
        prop_assert!(back.creators.iter().chain(&back.editors).all(|c| c.email.is_none()));
    }
}
