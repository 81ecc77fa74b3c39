//! The real corpus: 105 EPrints records in 42 files from caltechlibrary's
//! eprinttools test data (`../shared/corpus/eprints_xml`, shared material
//! outside the repository). Every record must read, and survive a write and
//! a second read unchanged: that is the proof that every mapped field is
//! written back.

use arkiv_formats::{record_to_xml, EprintsReader, EprintsWriter, FileData, ImportedRecord, WriteOptions};
use arkiv_model::{DocumentSecurity, Record, Status};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

/// The CaltechAUTHORS EPrints exports, or `None` (skipped; a failure
/// under CI=true) without ../shared.
fn corpus_dir() -> Option<PathBuf> {
    arkiv_testkit::corpus_dir().map(|dir| dir.join("eprints_xml"))
}

fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    files
}

fn read_all(bytes: &[u8], what: &str) -> Vec<ImportedRecord> {
    EprintsReader::new(bytes)
        .map(|item| match item.result {
            Ok(r) => r,
            Err(e) => panic!("{what}: record {} (line {:?}) failed: {e}", item.position, item.line),
        })
        .collect()
}

fn read_file(path: &Path) -> Vec<ImportedRecord> {
    let reader = EprintsReader::new(BufReader::new(File::open(path).unwrap()));
    reader
        .map(|item| match item.result {
            Ok(r) => r,
            Err(e) => panic!("{}: record {} (line {:?}) failed: {e}", path.display(), item.position, item.line),
        })
        .collect()
}

fn write_all(records: &[Record], opts: &WriteOptions) -> Vec<u8> {
    let mut w = EprintsWriter::new(Vec::new()).unwrap();
    for r in records {
        w.write_record(r, opts).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn every_corpus_record_reads_and_round_trips() {
    let Some(dir) = corpus_dir() else { return };
    let files = corpus_files(&dir);
    assert_eq!(files.len(), 42, "the corpus has 42 files");
    let opts = WriteOptions { include_private: true, ..Default::default() };
    let mut count = 0;
    for path in &files {
        let imported = read_file(path);
        count += imported.len();
        let records: Vec<Record> = imported.iter().map(|i| i.record.clone()).collect();

        let xml = write_all(&records, &opts);
        let again = read_all(&xml, &format!("{} rewritten", path.display()));
        assert_eq!(again.len(), records.len());
        for (a, b) in records.iter().zip(&again) {
            assert_eq!(a, &b.record, "{} changed in a round trip", path.display());
        }
        // What the first read kept as unmapped is still all that is unmapped.
        for (a, b) in imported.iter().zip(&again) {
            assert_eq!(a.unmapped, b.unmapped);
            assert_eq!(a.files, b.files);
        }

        // One record alone, as a standalone element, reads back too.
        for r in &records {
            let one = record_to_xml(r, &opts);
            let back = read_all(one.as_bytes(), "standalone record");
            assert_eq!(back.len(), 1);
            assert_eq!(&back[0].record, r);
        }
    }
    assert_eq!(count, 105, "the corpus holds 105 <eprint> records");
}

#[test]
fn known_values_of_the_corpus_are_read() {
    let Some(dir) = corpus_dir() else { return };

    // An "import API" record: no eprintid, no status (so live), ORCIDs, funders.
    let shin = read_file(&dir.join("lemurprints-import-api-1.xml")).remove(0);
    let r = &shin.record;
    assert_eq!(r.id, None);
    assert_eq!(r.status, Status::Archive);
    assert_eq!(r.item_type, "article");
    assert_eq!(r.creators[0].name.family, "Shin");
    assert_eq!(r.creators[0].name.given, "T.");
    assert_eq!(r.creators[0].orcid.as_deref(), Some("0000-0002-6389-5409"));
    assert_eq!(r.creators[1].orcid, None);
    assert!(shin.unmapped.contains(&"funders".to_string()), "{:?}", shin.unmapped);
    let funders = r.extra.iter().find(|e| e.name == "funders").unwrap();
    assert!(funders.xml.starts_with("<funders>") && funders.xml.ends_with("</funders>"));
    assert!(funders.xml.contains("<agency>"), "{}", funders.xml);
    // ... and written back as it came.
    let xml = record_to_xml(r, &WriteOptions::default());
    assert!(xml.contains(&funders.xml));

    // A full archive record: ids, timestamps, documents with files.
    let one = read_file(&dir.join("lemurprints-1.xml")).remove(0);
    let r = &one.record;
    assert_eq!(r.id, Some(1));
    assert_eq!(r.title, "Disk-dispersal and planet-formation timescales");
    assert_eq!(r.creators[0].id.as_deref(), Some("Hillenbrand-L-A"));
    assert_eq!(r.date.unwrap().to_string(), "2008-08");
    assert_eq!(r.refereed, Some(true));
    assert_eq!(r.userid, Some(1));
    assert_eq!(r.datestamp.unwrap().to_eprints(), "2008-07-22 02:59:58");
    assert_eq!(r.subjects, vec!["cls"]);
    assert_eq!(r.related.len(), 2);
    assert_eq!(r.related[0].relation.as_deref(), Some("doi"));
    assert!(r.note.as_deref().unwrap().contains("\n\nReceived 11 March 2008"), "internal newlines are kept");
    assert_eq!(r.documents.len(), 3);
    let d = &r.documents[0];
    assert_eq!((d.pos, d.security, d.main.as_deref()), (1, DocumentSecurity::Public, Some("HILps08.pdf")));
    assert_eq!(d.files[0].filename, "HILps08.pdf");
    assert_eq!(d.files[0].size, 224677);
    assert_eq!(r.documents[1].files[0].source_hash, Some(("MD5".into(), "8b575120be7fc0c983e1daba5063272b".into())));
    assert_eq!(one.files[0].source, FileData::Url("https://ir.example.edu/11175/1/HILps08.pdf".into()));
    for kept in ["referencetext", "rights", "collection"] {
        assert!(one.unmapped.contains(&kept.to_string()), "{kept} kept in extra");
    }
    // Bookkeeping is dropped without a word; unknown nested elements are not.
    for gone in ["rev_number", "dir", "status_changed"] {
        assert!(!one.unmapped.contains(&gone.to_string()));
    }
    assert!(one.warnings.is_empty(), "{:?}", one.warnings);

    // `internal` is what this repository calls staff-only; show_email is not modelled.
    let call = read_file(&dir.join("lemurprints-8599.xml")).remove(0);
    let zip = call.record.documents.iter().find(|d| d.main.as_deref() == Some("Call 1915.zip")).unwrap();
    assert_eq!(zip.security, DocumentSecurity::Staffonly);
    assert!(call.warnings.contains(&"creators/item/show_email ignored".to_string()), "{:?}", call.warnings);

    // EPrints' monograph_type, thesis_type and pres_type are the record's
    // subtype, shown where EPrints shows them and written back as they came.
    let thesis = &call.record;
    assert_eq!(thesis.subtype(), Some("bachelors"));
    let line = arkiv_model::citation::citation_line(thesis, &arkiv_model::ItemTypes::default());
    assert!(line.contains("Bachelors thesis, California Institute of Technology"), "{line}");
    assert!(record_to_xml(thesis, &WriteOptions::default()).contains("<thesis_type>bachelors</thesis_type>"));
    let talk = read_file(&dir.join("lemurprints-76.xml")).remove(0).record;
    assert_eq!(talk.subtype(), Some("lecture"));
    // An article that kept a monograph_type from an earlier type: kept,
    // written back, shown nowhere.
    let article = read_file(&dir.join("test_eprint1.xml")).remove(0);
    assert_eq!(article.record.subtype.as_deref(), Some("discussion_paper"));
    assert_eq!(article.record.subtype(), None);
    assert!(!article.unmapped.contains(&"monograph_type".to_string()));
    assert!(record_to_xml(&article.record, &WriteOptions::default())
        .contains("<monograph_type>discussion_paper</monograph_type>"));

    // Keywords are one text in EPrints, a list in Arkiv.
    let all: Vec<ImportedRecord> = corpus_files(&dir).iter().flat_map(|p| read_file(p)).collect();
    let kw =
        all.iter().find(|i| i.record.keywords.first().map(String::as_str) == Some("Industrial relations")).unwrap();
    assert_eq!(kw.record.keywords, vec!["Industrial relations", "engineering", "World War II"]);
}

#[test]
fn exports_use_the_repository_base_url() {
    let Some(dir) = corpus_dir() else { return };
    let mut r = read_file(&dir.join("lemurprints-8599.xml")).remove(0).record;
    let opts = WriteOptions { base_url: Some("https://repo.example.org/".into()), ..Default::default() };
    let xml = record_to_xml(&r, &opts);
    let id = r.id.unwrap();
    assert!(xml.contains(&format!(
        "<eprint xmlns=\"http://eprints.org/ep2/data/2.0\" id=\"https://repo.example.org/id/eprint/{id}\">"
    )));
    // Bytes this repository does not hold keep the address they came from...
    assert!(!xml.contains(&format!("https://repo.example.org/{id}/1/")), "{xml}");
    let first = r.documents.iter().position(|d| d.pos == 1).unwrap();
    let original = r.documents[first].files[0].source_url.clone().unwrap();
    assert!(xml.contains(&format!("<url>{}</url>", original.replace('&', "&amp;"))), "{xml}");
    // ...and those it holds are served from it.
    r.documents[first].files[0].sha256 = Some("0".repeat(64));
    let xml = record_to_xml(&r, &opts);
    assert!(xml.contains(&format!("<url>https://repo.example.org/{id}/1/Call%201915.zip</url>")), "{xml}");
}

/// EPrints' derived documents (thumbnails, the text it indexed) are read as
/// derived from their source document, not as documents a depositor chose;
/// and every document and file keeps the id EPrints gave it, so that its
/// old address still answers.
#[test]
fn derived_documents_and_eprints_ids_are_kept() {
    let Some(dir) = corpus_dir() else { return };
    let (mut documents, mut derived, mut kinds) = (0, 0, std::collections::BTreeMap::new());
    for path in corpus_files(&dir) {
        for imported in read_file(&path) {
            let r = &imported.record;
            for d in &r.documents {
                documents += 1;
                assert!(d.eprints_docid.is_some(), "{}: document {} keeps its docid", path.display(), d.pos);
                assert!(d.files.iter().all(|f| f.eprints_fileid.is_some()), "{}: files keep their ids", path.display());
                if let Some(of) = &d.derived {
                    derived += 1;
                    *kinds.entry(of.kind.clone()).or_insert(0) += 1;
                    let source = r.documents.iter().find(|s| s.pos == of.of).expect("the source is in the record");
                    assert!(source.derived.is_none(), "{}: derived from a deposited document", path.display());
                }
            }
            assert!(
                !imported.warnings.iter().any(|w| w.contains("relation") || w.contains("docid")),
                "{}: {:?}",
                path.display(),
                imported.warnings
            );
        }
    }
    assert_eq!((derived, documents), (45, 76), "45 of the corpus's 76 documents are derived: {kinds:?}");
    assert!(kinds.contains_key("previewThumbnail") && kinds.contains_key("IndexCodes"), "{kinds:?}");
}
