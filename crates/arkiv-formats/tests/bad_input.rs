//! Broken and hostile EPrints XML. Each case checks two things: the bad
//! record is refused with an error that says what is wrong, and the good
//! records around it still come through (or, where the XML stream itself is
//! broken, those before it did and reading stops cleanly).

use arkiv_formats::{EprintsReader, FileData, ReadItem};
use std::io::{BufReader, Read};

const NS: &str = "http://eprints.org/ep2/data/2.0";

fn good(n: usize) -> String {
    format!("<eprint><eprintid>{n}</eprintid><type>article</type><title>Good {n}</title></eprint>")
}

fn export(records: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<eprints xmlns=\"{NS}\">\n{}\n</eprints>\n",
        records.join("\n")
    )
}

/// Each item as (position, title or error message).
fn outcomes(items: impl Iterator<Item = ReadItem>) -> Vec<(usize, Result<String, String>)> {
    items.map(|i| (i.position, i.result.map(|r| r.record.title).map_err(|e| e.message))).collect()
}

fn read(xml: &str) -> Vec<(usize, Result<String, String>)> {
    outcomes(EprintsReader::new(xml.as_bytes()))
}

/// Asserts: good 1, the bad record at 2 with an error containing `needle`,
/// good 3.
fn assert_sandwich(bad: &str, needle: &str) {
    let got = read(&export(&[good(1), bad.to_string(), good(3)]));
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], (1, Ok("Good 1".into())));
    assert_eq!(got[2], (3, Ok("Good 3".into())));
    assert_eq!(got[1].0, 2);
    let err = got[1].1.as_ref().expect_err("the bad record must fail");
    assert!(err.contains(needle), "error {err:?} should mention {needle:?}");
}

#[test]
fn good_records_read() {
    assert_eq!(read(&export(&[good(1), good(2)])), vec![(1, Ok("Good 1".into())), (2, Ok("Good 2".into()))]);
}

#[test]
fn malformed_xml_mid_file_stops_after_the_good_records() {
    let bad = "<eprint><title>Broken</titel></eprint>".to_string();
    let got = read(&export(&[good(1), good(2), bad, good(4)]));
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], (1, Ok("Good 1".into())));
    assert_eq!(got[1], (2, Ok("Good 2".into())));
    assert_eq!(got[2].0, 3);
    let err = got[2].1.as_ref().unwrap_err();
    assert!(err.contains("malformed XML") && err.contains("line"), "{err}");
    assert!(err.contains("reading stopped"), "{err}");
}

#[test]
fn a_syntax_error_between_records_also_stops_cleanly() {
    let xml = export(&[good(1), "<<>>".to_string(), good(3)]);
    let got = read(&xml);
    assert_eq!(got[0], (1, Ok("Good 1".into())));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[1].1.as_ref().unwrap_err().contains("malformed XML"));
}

#[test]
fn the_namespace_is_required() {
    for root in [
        "<eprints xmlns=\"http://example.org/not-eprints\">".to_string(),
        "<eprints>".to_string(),
        "<ep:eprints xmlns:ep=\"http://eprints.org/ep2/data/2.1\">".to_string(),
    ] {
        let close = if root.starts_with("<ep:") { "</ep:eprints>" } else { "</eprints>" };
        let xml = format!("{root}{}{close}", good(1));
        let got = read(&xml);
        assert_eq!(got.len(), 1, "one fatal error and nothing else: {got:?}");
        assert_eq!(got[0].0, 0);
        let err = got[0].1.as_ref().unwrap_err();
        assert!(err.contains("not EPrints XML") && err.contains(NS), "{err}");
    }
    // A prefix bound to the right namespace is the same thing.
    let xml =
        format!("<ep:eprints xmlns:ep=\"{NS}\"><ep:eprint><ep:title>Prefixed</ep:title></ep:eprint></ep:eprints>");
    assert_eq!(read(&xml), vec![(1, Ok("Prefixed".into()))]);
}

#[test]
fn a_single_eprint_root_is_read() {
    let xml = format!("<?xml version='1.0'?>\n<eprint xmlns='{NS}'><title>Alone</title></eprint>\n");
    assert_eq!(read(&xml), vec![(1, Ok("Alone".into()))]);
    let wrong = "<eprint><title>Alone</title></eprint>";
    assert_eq!(read(wrong)[0].0, 0);
    assert!(read(wrong)[0].1.as_ref().unwrap_err().contains("not EPrints XML"));
}

#[test]
fn a_record_without_a_title_is_refused() {
    assert_sandwich("<eprint><type>article</type></eprint>", "title");
    assert_sandwich("<eprint><title>   </title></eprint>", "needs a title");
    assert_sandwich("<eprint/>", "needs a title");
}

#[test]
fn a_ten_megabyte_title_is_refused() {
    // Streamed from a generator, so the test itself never holds it either.
    let head = export(&[good(1), "<eprint><title>".into()]);
    let head = head.rsplit_once("\n</eprints>").unwrap().0.to_string();
    let tail = format!("</title></eprint>\n{}\n</eprints>\n", good(3));
    let input = head.as_bytes().chain(std::io::repeat(b'x').take(10 << 20)).chain(tail.as_bytes());
    let got = outcomes(EprintsReader::new(BufReader::new(input)));
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], (1, Ok("Good 1".into())));
    assert_eq!(got[1], (2, Err("title: longer than 2000 characters".into())));
    assert_eq!(got[2], (3, Ok("Good 3".into())));
}

#[test]
fn a_title_just_over_the_limit_is_refused_and_one_at_it_is_not() {
    let at = format!("<eprint><title>{}</title></eprint>", "é".repeat(2000));
    let got = read(&export(&[at]));
    assert_eq!(got[0].1.as_ref().map(|t| t.chars().count()), Ok(2000));
    assert_sandwich(&format!("<eprint><title>{}</title></eprint>", "é".repeat(2001)), "longer than 2000 characters");
    // Escaped characters count once.
    let escaped = format!("<eprint><title>{}</title></eprint>", "&amp;".repeat(2000));
    assert_eq!(read(&export(&[escaped]))[0].1.as_ref().map(|t| t.len()), Ok(2000));
}

#[test]
fn any_text_over_a_mebibyte_is_refused() {
    let big = format!("<eprint><title>T</title><abstract>{}</abstract></eprint>", "a".repeat((1 << 20) + 1));
    assert_sandwich(&big, "abstract: text longer than 1048576 bytes");
    // Split by comments to slip under the limit piece by piece: still refused.
    let piece = "b".repeat(600 << 10);
    let split = format!("<eprint><title>T</title><note>{piece}<!-- -->{piece}</note></eprint>");
    assert_sandwich(&split, "note: text longer than");
    // Kept elements are bounded the same way.
    let extra = format!("<eprint><title>T</title><funders><item>{}</item></funders></eprint>", "c".repeat(2 << 20));
    assert_sandwich(&extra, "funders/item: text longer than");
}

#[test]
fn a_huge_tag_stops_reading() {
    let bad = format!("<eprint><title>T</title><rights note=\"{}\">x</rights></eprint>", "a".repeat(2 << 20));
    let got = read(&export(&[good(1), bad, good(3)]));
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], (1, Ok("Good 1".into())));
    assert!(got[1].1.as_ref().unwrap_err().contains("longer than"), "{got:?}");
}

fn nested(depth: usize) -> String {
    let mut s = String::with_capacity(depth * 8);
    for _ in 0..depth {
        s.push_str("<a>");
    }
    for _ in 0..depth {
        s.push_str("</a>");
    }
    s
}

#[test]
fn ten_thousand_levels_of_nesting_fail_the_record_only() {
    // 10,000 levels inside the record.
    let bad = format!("<eprint><title>Deep</title>{}</eprint>", nested(10_000));
    assert_sandwich(&bad, "nested deeper than 64");
}

#[test]
fn nesting_past_the_overall_bound_stops_reading() {
    let bad = format!("<eprint><title>Deeper</title>{}</eprint>", nested(50_001));
    let got = read(&export(&[good(1), bad, good(3)]));
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0], (1, Ok("Good 1".into())));
    assert_eq!(got[1].0, 2);
    assert!(got[1].1.as_ref().unwrap_err().contains("deeper than 50000"), "{got:?}");
    // Outside any record too.
    let xml = format!("<eprints xmlns=\"{NS}\">{}{}</eprints>", good(1), nested(200_000));
    let got = read(&xml);
    assert_eq!(got[0], (1, Ok("Good 1".into())));
    assert!(got[1].1.as_ref().unwrap_err().contains("deeper than 50000"), "{got:?}");
}

#[test]
fn a_billion_laughs_expand_to_nothing() {
    let mut doctype = String::from("<!DOCTYPE eprints [\n<!ENTITY lol \"lol\">\n");
    for i in 1..=9 {
        let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
        doctype.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10)));
    }
    doctype.push_str("]>\n");
    let body = export(&[good(1), "<eprint><title>&lol9;</title></eprint>".into(), good(3)]);
    let xml = body.replacen("<eprints", &format!("{doctype}<eprints"), 1);
    let got = read(&xml);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], (1, Ok("Good 1".into())));
    assert_eq!(got[2], (3, Ok("Good 3".into())));
    let err = got[1].1.as_ref().unwrap_err();
    assert!(err.contains("unknown entity &lol9;") && err.contains("never expanded"), "{err}");
    // In an attribute and in a kept element as well.
    let attr =
        format!("{doctype}{}", export(&[good(1), "<eprint><title>T</title><rights a=\"&lol3;\"/></eprint>".into()]));
    assert!(read(&attr)[1].1.as_ref().unwrap_err().contains("unknown entity &lol3;"));
    // The five predefined entities and character references are read.
    let ok = "<eprint><title>&lt;&gt;&amp;&quot;&apos; &#233;&#x2019;</title></eprint>";
    assert_eq!(read(&export(&[ok.into()]))[0].1, Ok("<>&\"' é’".into()));
}

#[test]
fn a_truncated_file_keeps_what_came_before() {
    let full = export(&[good(1), good(2), good(3)]);
    let cut = &full[..full.find("Good 3").unwrap()];
    let got = read(cut);
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[0], (1, Ok("Good 1".into())));
    assert_eq!(got[1], (2, Ok("Good 2".into())));
    assert_eq!(got[2].0, 3);
    assert!(got[2].1.as_ref().unwrap_err().contains("ends inside this record"), "{got:?}");

    // Cut between records: the records are fine, the file is not.
    let cut = &full[..full.find("</eprints>").unwrap()];
    let got = read(cut);
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got[3].0, 0);
    assert!(got[3].1.as_ref().unwrap_err().contains("before </eprints>"));
}

#[test]
fn an_empty_file_is_an_error() {
    let got = read("");
    assert_eq!(got.len(), 1);
    assert!(got[0].1.as_ref().unwrap_err().contains("no root element"));
    assert_eq!(read(&format!("<eprints xmlns=\"{NS}\"/>")), vec![]);
}

#[test]
fn bad_field_values_fail_their_record() {
    let rec = |inner: &str| format!("<eprint><title>T</title>{inner}</eprint>");
    assert_sandwich(&rec("<date>2014-13-45</date>"), "date: not a date");
    assert_sandwich(&rec("<date>May 2014</date>"), "date:");
    assert_sandwich(&rec("<eprint_status>published</eprint_status>"), "eprint_status");
    assert_sandwich(&rec("<eprintid>one</eprintid>"), "eprintid");
    assert_sandwich(&rec("<refereed>maybe</refereed>"), "refereed");
    assert_sandwich(&rec("<datestamp>yesterday</datestamp>"), "datestamp");
    assert_sandwich(&rec("<documents><document><pos>x</pos></document></documents>"), "documents/document/pos");
    assert_sandwich(
        &rec("<documents><document><pos>1</pos><date_embargo>soon</date_embargo></document></documents>"),
        "date_embargo",
    );
    assert_sandwich(
        &rec("<documents><document><pos>1</pos><files><file><filesize>-1</filesize><filename>a</filename></file></files></document></documents>"),
        "filesize",
    );
    assert_sandwich(
        &rec("<documents><document><pos>1</pos><files><file><url>x</url></file></files></document></documents>"),
        "without a filename",
    );
}

#[test]
fn an_unknown_security_value_fails_its_record() {
    let bad = "<eprint><title>T</title><documents><document><pos>1</pos><security>secret</security></document></documents></eprint>";
    assert_sandwich(bad, "documents/document/security: \"secret\" is not one of public, validuser, staffonly");
}

#[test]
fn control_characters_fail_their_record() {
    assert_sandwich("<eprint><title>Bell&#7;</title></eprint>", "title: contains control characters");
    assert_sandwich("<eprint><title>Raw \u{1} byte</title></eprint>", "title: contains control characters");
    assert_sandwich("<eprint><title>T</title><rights>\u{8}</rights></eprint>", "rights: contains control characters");
}

#[test]
fn embedded_files_are_decoded_and_garbage_is_refused() {
    let file = |data: &str| {
        format!(
            "<eprint><title>T</title><documents><document><pos>1</pos><files><file>\
             <filename>a.txt</filename><data encoding=\"base64\">{data}</data></file></files></document></documents></eprint>"
        )
    };
    // EPrints wraps base64 in lines; that is fine.
    let xml = export(&[file("SGVsbG8s\n  IHdvcmxk\nIQ==")]);
    let item = EprintsReader::new(xml.as_bytes()).next().unwrap().result.unwrap();
    assert_eq!(item.files[0].source, FileData::Embedded(b"Hello, world!".to_vec()));
    assert_eq!(item.record.documents[0].files[0].size, 13);

    assert_sandwich(&file("@@@ not base64 @@@"), "data: not valid base64");
    assert_sandwich(&file("SGVsbG8"), "not valid base64");
    let other = file("x").replace("base64", "uuencode");
    assert_sandwich(&other, "only encoding=\"base64\"");
}

#[test]
fn elements_that_are_not_records_are_reported_and_skipped() {
    let got = read(&export(&[good(1), "<note>stray</note>".into(), good(3)]));
    assert_eq!(got.len(), 3);
    assert_eq!(got[2], (3, Ok("Good 3".into())));
    assert!(got[1].1.as_ref().unwrap_err().contains("<note> is not an <eprint>"));
}

#[test]
fn other_encodings_are_refused_up_front() {
    let xml = export(&[good(1)]).replace("utf-8", "ISO-8859-1");
    let got = read(&xml);
    assert_eq!(got.len(), 1);
    assert!(got[0].1.as_ref().unwrap_err().contains("only UTF-8"));
}

#[test]
fn invalid_utf8_fails_its_record() {
    let mut bytes = export(&[good(1), "<eprint><title>T\u{FFFD}</title></eprint>".into(), good(3)]).into_bytes();
    let at = bytes.windows(3).position(|w| w == "\u{FFFD}".as_bytes()).unwrap();
    bytes.splice(at..at + 3, [0xff, 0xfe]);
    let got = outcomes(EprintsReader::new(bytes.as_slice()));
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got[1].1.as_ref().unwrap_err().contains("not UTF-8"));
    assert_eq!(got[2], (3, Ok("Good 3".into())));
}

#[test]
fn line_numbers_point_at_records() {
    let xml = export(&[good(1), good(2)]);
    let lines: Vec<_> = EprintsReader::new(xml.as_bytes()).map(|i| i.line).collect();
    assert_eq!(lines, vec![Some(3), Some(4)]);
}

#[test]
fn unknown_nested_elements_are_warned_about() {
    let rec = "<eprint><title>T</title><creators><item><name><family>Doe</family><lineage>Jr</lineage></name>\
               <show_email>TRUE</show_email></item></creators></eprint>";
    let item = EprintsReader::new(export(&[rec.into()]).as_bytes()).next().unwrap().result.unwrap();
    assert_eq!(item.record.creators[0].name.family, "Doe");
    assert_eq!(item.warnings, vec!["creators/item/show_email ignored", "creators/item/name/lineage ignored"]);
}
