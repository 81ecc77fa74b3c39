//! JSON Lines and JSON arrays: streaming, per-line errors, privacy.

use arkiv_formats::{read_json_lines, write_json_array, JsonArrayWriter, JsonLinesWriter, WriteOptions};
use arkiv_model::{Creator, ExtraField, Record};

fn sample(n: i64) -> Record {
    let mut r = Record::new("article", &format!("Record {n}"));
    r.id = Some(n);
    let mut c = Creator::new("Doe", "Jane");
    c.email = Some("jane@example.org".into());
    r.creators.push(c);
    r.extra.push(ExtraField {
        name: "contact_email".into(),
        xml: "<contact_email>desk@example.org</contact_email>".into(),
    });
    r.extra.push(ExtraField {
        name: "funders".into(),
        xml: "<funders><item><agency>NSF</agency></item></funders>".into(),
    });
    r
}

#[test]
fn lines_carry_one_record_each_and_bad_lines_cost_one_record() {
    let mut w = JsonLinesWriter::new(Vec::new());
    let private = WriteOptions { include_private: true, ..Default::default() };
    w.write_record(&sample(1), &private).unwrap();
    w.write_record(&sample(2), &private).unwrap();
    let mut bytes = w.finish().unwrap();
    assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), 2);
    bytes.extend_from_slice(b"\n{\"title\": 42}\nnot json at all\n");
    bytes.extend_from_slice(serde_json::to_string(&sample(3)).unwrap().as_bytes());

    let items: Vec<_> = read_json_lines(bytes.as_slice()).collect();
    let summary: Vec<_> = items.iter().map(|i| (i.position, i.line, i.result.is_ok())).collect();
    assert_eq!(
        summary,
        vec![(1, Some(1), true), (2, Some(2), true), (3, Some(4), false), (4, Some(5), false), (5, Some(6), true)]
    );
    assert!(items[2].result.as_ref().unwrap_err().message.starts_with("line 4: not a record"));
    assert_eq!(items[4].result.as_ref().unwrap().record, sample(3));
    assert_eq!(items[0].result.as_ref().unwrap().record, sample(1));
}

#[test]
fn an_over_long_line_is_skipped_without_being_held() {
    let long = format!("{{\"item_type\":\"article\",\"title\":\"{}\"}}\n", "x".repeat(10_000));
    let input = format!("{long}{}\n", serde_json::to_string(&sample(2)).unwrap());
    let items: Vec<_> = read_json_lines(input.as_bytes()).with_max_line(1000).collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].result.as_ref().unwrap_err().message.contains("longer than 1000 bytes"));
    assert_eq!(items[1].result.as_ref().unwrap().record, sample(2));
}

#[test]
fn public_json_has_no_private_data() {
    let mut w = JsonLinesWriter::new(Vec::new());
    w.write_record(&sample(1), &WriteOptions::default()).unwrap();
    let text = String::from_utf8(w.finish().unwrap()).unwrap();
    assert!(!text.contains("jane@example.org"));
    assert!(!text.contains("desk@example.org"));
    assert!(text.contains("NSF"), "public extras stay");
}

#[test]
fn arrays_are_one_json_document() {
    let records = vec![sample(1), sample(2), sample(3)];
    let opts = WriteOptions { include_private: true, ..Default::default() };
    let bytes = write_json_array(Vec::new(), &records, &opts).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with("[{") && text.ends_with("}]\n"));
    assert_eq!(text.matches(",\n").count(), 2);
    let back: Vec<Record> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, records);

    let empty = JsonArrayWriter::new(Vec::new()).unwrap().finish().unwrap();
    assert_eq!(empty, b"[]\n");
    assert_eq!(serde_json::from_slice::<Vec<Record>>(&empty).unwrap(), vec![]);
}
