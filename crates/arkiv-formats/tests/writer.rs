//! What the EPrints XML writer promises beyond round trips: escaping,
//! element order, privacy, URLs, and that a bad extra field cannot break an
//! export.

use arkiv_formats::{record_to_xml, EprintsReader, EprintsWriter, WriteOptions};
use arkiv_model::{Creator, Document, ExtraField, Record, StoredFile};

fn read_one(xml: &[u8]) -> Record {
    let mut items = EprintsReader::new(xml).collect::<Vec<_>>();
    assert_eq!(items.len(), 1);
    items.remove(0).result.unwrap().record
}

#[test]
fn markup_in_text_is_escaped() {
    let mut r = Record::new("article", "</title><title>Injected & <b>bold</b> ]]> \"quoted\"");
    r.abstract_text = Some("Line one\r\nline two\n\ttabbed".into());
    let xml = record_to_xml(&r, &WriteOptions::default());
    assert!(xml.contains("&lt;/title&gt;&lt;title&gt;Injected &amp; &lt;b&gt;bold&lt;/b&gt; ]]&gt;"), "{xml}");
    assert_eq!(read_one(xml.as_bytes()), r);
}

#[test]
fn elements_follow_eprints_order() {
    let mut r = Record::new("policy_paper", "T");
    r.id = Some(7);
    r.creators.push(Creator::new("Doe", "Jane"));
    r.documents.push(Document { pos: 1, ..Default::default() });
    r.extra.push(ExtraField { name: "funders".into(), xml: "<funders/>".into() });
    let xml = record_to_xml(&r, &WriteOptions::default());
    let at = |tag: &str| xml.find(tag).unwrap_or_else(|| panic!("{tag} missing from {xml}"));
    assert!(at("<eprintid>") < at("<eprint_status>"));
    assert!(at("<eprint_status>") < at("<type>"));
    assert!(at("<type>") < at("<title>"));
    assert!(at("<title>") < at("<creators>"));
    assert!(at("<creators>") < at("<funders/>"));
    assert!(at("<funders/>") < at("<documents>"));
    assert!(xml.starts_with("<eprint xmlns=\"http://eprints.org/ep2/data/2.0\">\n  <eprintid>7</eprintid>\n"));
}

#[test]
fn private_data_only_when_asked() {
    let mut r = Record::new("article", "T");
    let mut c = Creator::new("Doe", "Jane");
    c.email = Some("jane@example.org".into());
    r.creators.push(c.clone());
    r.editors.push(c);
    r.extra.push(ExtraField {
        name: "contact_email".into(),
        xml: "<contact_email>desk@example.org</contact_email>".into(),
    });
    r.extra.push(ExtraField { name: "suggestions".into(), xml: "<suggestions>Please fix</suggestions>".into() });
    r.extra.push(ExtraField { name: "rights".into(), xml: "<rights>CC BY</rights>".into() });

    let public = record_to_xml(&r, &WriteOptions::default());
    for secret in ["jane@example.org", "desk@example.org", "Please fix"] {
        assert!(!public.contains(secret), "{secret} leaked: {public}");
    }
    assert!(public.contains("<rights>CC BY</rights>"));

    let private = record_to_xml(&r, &WriteOptions { include_private: true, ..Default::default() });
    assert_eq!(read_one(private.as_bytes()), r);
}

#[test]
fn files_point_where_asked() {
    let mut r = Record::new("article", "T");
    let file = StoredFile {
        filename: "paper v2.pdf".into(),
        size: 10,
        source_url: Some("https://old.example.edu/1/1/paper.pdf".into()),
        ..Default::default()
    };
    r.documents.push(Document { pos: 1, files: vec![file], ..Default::default() });

    // No id yet, no base: the URL it came from.
    let xml =
        record_to_xml(&r, &WriteOptions { base_url: Some("https://repo.example.org".into()), ..Default::default() });
    assert!(xml.contains("<url>https://old.example.edu/1/1/paper.pdf</url>"));
    assert!(xml.contains("<eprint xmlns=\"http://eprints.org/ep2/data/2.0\">"), "no id attribute without an id");

    r.id = Some(42);
    let xml =
        record_to_xml(&r, &WriteOptions { base_url: Some("https://repo.example.org/".into()), ..Default::default() });
    // Bytes the repository does not hold are not served by it.
    assert!(xml.contains("<url>https://old.example.edu/1/1/paper.pdf</url>"), "{xml}");
    r.documents[0].files[0].sha256 = Some("a".repeat(64));
    let xml =
        record_to_xml(&r, &WriteOptions { base_url: Some("https://repo.example.org/".into()), ..Default::default() });
    assert!(xml.contains("id=\"https://repo.example.org/id/eprint/42\""));
    assert!(xml.contains("<url>https://repo.example.org/42/1/paper%20v2.pdf</url>"), "{xml}");

    let opts = WriteOptions {
        file_url: Some(Box::new(|r: &Record, pos: u32, f: &StoredFile| {
            Some(format!("files/{}-{pos}-{}", r.id.unwrap(), f.filename))
        })),
        ..Default::default()
    };
    let xml = record_to_xml(&r, &opts);
    assert!(xml.contains("<url>files/42-1-paper v2.pdf</url>"), "{xml}");
}

#[test]
fn a_bad_extra_field_cannot_break_the_export() {
    let mut r = Record::new("article", "Kept");
    r.extra.push(ExtraField { name: "rights".into(), xml: "</eprint><eprint><title>Forged</title>".into() });
    r.extra.push(ExtraField { name: "title".into(), xml: "<title>Second title</title>".into() });
    r.extra.push(ExtraField { name: "funders".into(), xml: "<funders><item>NSF</item></funders>".into() });
    let mut w = EprintsWriter::new(Vec::new()).unwrap();
    w.write_record(&r, &WriteOptions::default()).unwrap();
    let xml = w.finish().unwrap();
    let text = String::from_utf8(xml.clone()).unwrap();
    assert!(!text.contains("Forged") && !text.contains("Second title"));
    let back = read_one(&xml);
    assert_eq!(back.title, "Kept");
    assert_eq!(back.extra, vec![r.extra[2].clone()]);
}

#[test]
fn characters_xml_cannot_carry_are_left_out() {
    let r = Record::new("article", "Bell\u{7} and NUL\u{0}");
    let xml = record_to_xml(&r, &WriteOptions::default());
    assert_eq!(read_one(xml.as_bytes()).title, "Bell and NUL");
}

#[test]
fn an_empty_export_is_valid() {
    let xml = EprintsWriter::new(Vec::new()).unwrap().finish().unwrap();
    assert_eq!(
        String::from_utf8(xml.clone()).unwrap(),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<eprints xmlns=\"http://eprints.org/ep2/data/2.0\">\n</eprints>\n"
    );
    assert_eq!(EprintsReader::new(xml.as_slice()).count(), 0);
}
