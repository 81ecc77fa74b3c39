//! The seed record: the policy paper whose page Arkiv was started from,
//! written by hand as EPrints XML (`data/seed/seed.xml` at the root) with its PDF beside
//! it. It must read, round-trip, and cite exactly as its page does.

use arkiv_formats::{record_to_xml, EprintsReader, FileData, ImportedRecord, WriteOptions};
use arkiv_model::citation::citation_line;
use arkiv_model::{validate, DocumentSecurity, ItemTypes, Status};
use md5::{Digest, Md5};
use std::path::{Path, PathBuf};

fn data_dir() -> PathBuf {
    // The one seed fixture of the project, shared with the demo.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/seed")
}

fn read_seed() -> ImportedRecord {
    let bytes = std::fs::read(data_dir().join("seed.xml")).unwrap();
    let mut items: Vec<_> = EprintsReader::new(bytes.as_slice()).collect();
    assert_eq!(items.len(), 1);
    let item = items.remove(0);
    assert_eq!(item.position, 1);
    item.result.unwrap()
}

#[test]
fn the_seed_reads_with_every_field() {
    let imported = read_seed();
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    assert!(imported.unmapped.is_empty(), "{:?}", imported.unmapped);
    let r = &imported.record;
    assert_eq!(r.id, Some(1));
    assert_eq!(r.status, Status::Archive);
    assert_eq!(r.item_type, "policy_paper");
    assert_eq!(r.title, "Kazakhstan's attitude towards integration with Russia: less love, more fear");
    assert_eq!(r.creators.len(), 1);
    assert_eq!((r.creators[0].name.family.as_str(), r.creators[0].name.given.as_str()), ("Jaroslewlcz", "Aleksandra"));
    assert_eq!(r.date.unwrap().to_string(), "2014-05-29");
    assert_eq!(r.date_type.as_deref(), Some("published"));
    assert_eq!(r.ispublished.as_deref(), Some("pub"));
    assert_eq!(r.series.as_deref(), Some("OSW Commentary"));
    assert_eq!(r.number.as_deref(), Some("137"));
    assert_eq!(r.publisher.as_deref(), Some("OSW Centre for Eastern Studies"));
    assert_eq!(r.place_of_pub.as_deref(), Some("Warsaw"));
    assert_eq!(r.subjects, vec!["geo-casia-kz", "geo-rus"]);
    assert_eq!(r.keywords, vec!["Kazakhstan", "Russia", "Eurasian Union", "Crimea", "Central Asia"]);
    assert_eq!(r.languages, vec!["en"]);
    let abstract_text = r.abstract_text.as_deref().unwrap();
    assert!(abstract_text.starts_with("Russia’s annexation of Crimea and destabilization of Ukraine"));
    assert!(abstract_text.ends_with("which Russia could interpret as a pretext for interfering."));

    // The abstract is the seed page's, character for character, curly
    // apostrophes included (when the shared seed is at hand).
    if let Some(shared) = arkiv_testkit::shared_dir() {
        let seed_page = shared.join("seed/000_bfd2832161cd7a6f.txt");
        let page = std::fs::read_to_string(&seed_page).unwrap_or_else(|e| panic!("{}: {e}", seed_page.display()));
        assert_eq!(page.lines().nth(2).unwrap(), abstract_text);
    }

    let d = &r.documents[0];
    assert_eq!(d.pos, 1);
    assert_eq!(d.format.as_deref(), Some("application/pdf"));
    assert_eq!(d.security, DocumentSecurity::Public);
    assert_eq!(d.license.as_deref(), Some("cc_by"));
    assert_eq!(d.main.as_deref(), Some("commentary_137.pdf"));
    assert_eq!(d.files[0].source_url.as_deref(), Some("files/commentary_137.pdf"));

    assert_eq!(validate(r, &ItemTypes::default()), Ok(()));
}

#[test]
fn the_seed_cites_as_its_page_does() {
    let r = read_seed().record;
    assert_eq!(
        citation_line(&r, &ItemTypes::default()),
        "Jaroslewlcz, Aleksandra (2014) Kazakhstan's attitude towards integration with Russia: less love, more fear. OSW Commentary No. 137, 29.05.2014. [Policy Paper]"
    );
}

#[test]
fn the_seed_round_trips() {
    let first = read_seed();
    let xml = record_to_xml(&first.record, &WriteOptions::default());
    let again: Vec<_> = EprintsReader::new(xml.as_bytes()).collect();
    assert_eq!(again.len(), 1);
    let again = again.into_iter().next().unwrap().result.unwrap();
    assert_eq!(again.record, first.record);
    assert_eq!(again.files, first.files);
}

/// The file the seed's `<url>` names is there, relative to the XML, and is
/// the file the XML describes: its size and MD5 match, and it is a PDF whose
/// cross-reference table points at its objects.
#[test]
fn the_seed_document_is_beside_it_and_matches() {
    let imported = read_seed();
    assert_eq!(imported.files.len(), 1);
    let source = &imported.files[0];
    assert_eq!((source.doc_pos, source.filename.as_str()), (1, "commentary_137.pdf"));
    let FileData::Url(url) = &source.source else { panic!("expected a URL, got {:?}", source.source) };
    assert_eq!(url, "files/commentary_137.pdf");
    let pdf = std::fs::read(data_dir().join(url)).unwrap();

    let file = &imported.record.documents[0].files[0];
    assert_eq!(file.size, pdf.len() as u64);
    assert!(pdf.len() < 4096, "a small fixture");
    let (kind, hash) = file.source_hash.clone().unwrap();
    assert_eq!(kind, "MD5");
    let digest: String = Md5::digest(&pdf).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(digest, hash);

    check_pdf(&pdf);
}

fn check_pdf(pdf: &[u8]) {
    assert!(pdf.starts_with(b"%PDF-1.4\n"));
    let text = std::str::from_utf8(pdf).expect("the fixture PDF is plain ASCII");
    assert!(text.trim_end().ends_with("%%EOF"));
    let startxref: usize = text.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
    assert!(text[startxref..].starts_with("xref\n0 6\n"), "startxref points at the table");
    let entries: Vec<&str> = text[startxref..].lines().skip(2).take(6).collect();
    assert_eq!(entries[0], "0000000000 65535 f ");
    for (n, entry) in entries.iter().enumerate().skip(1) {
        let offset: usize = entry[..10].parse().unwrap();
        assert!(text[offset..].starts_with(&format!("{n} 0 obj\n")), "object {n} is where the table says");
    }
    let length: usize = text.split("/Length ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    let stream_start = text.find("stream\n").unwrap() + "stream\n".len();
    assert_eq!(&text[stream_start + length..stream_start + length + "\nendstream".len()], "\nendstream");
    assert!(
        text.contains("(Kazakhstan's attitude towards integration with Russia:) '"),
        "the PDF carries the title as text"
    );
}
