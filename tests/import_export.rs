//! Records in and out through the real command line: the corpus, the seed,
//! generated records, and bad input.

mod common;
use common::*;
use std::path::Path;

#[test]
fn all_corpus_records_import_and_survive_a_round_trip() {
    let Some(shared) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(&tmp.path().join("a"));
    let mut files: Vec<_> =
        std::fs::read_dir(shared.join("corpus/eprints_xml")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut args = vec!["import", "eprints-xml"];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = arkiv(&a, &args);
    assert_eq!(import_counts(&out), (105, 0), "{}", stdout(&out));
    assert!(stdout(&out).contains("kept verbatim, not mapped to Arkiv fields: "), "unmapped fields are reported");
    assert!(stdout(&out).contains("funders (22)"));

    // Export, import the export elsewhere, export again: identical.
    let first = tmp.path().join("first.xml");
    assert!(arkiv(&a, &["export", "eprints-xml", "-o", first.to_str().unwrap()]).status.success());
    let b = init_repo(&tmp.path().join("b"));
    let out = arkiv(&b, &["import", "eprints-xml", first.to_str().unwrap()]);
    assert_eq!(import_counts(&out), (105, 0), "{}", stdout(&out));
    let second = tmp.path().join("second.xml");
    assert!(arkiv(&b, &["export", "eprints-xml", "-o", second.to_str().unwrap()]).status.success());
    let (x, y) = (std::fs::read_to_string(&first).unwrap(), std::fs::read_to_string(&second).unwrap());
    assert_eq!(x.matches("<eprint ").count(), 105);
    assert!(x == y, "the export of the re-imported export differs");
    // And the JSON form of every record is the same in both repositories.
    let ja = stdout(&arkiv(&a, &["export", "jsonl"]));
    let jb = stdout(&arkiv(&b, &["export", "jsonl"]));
    assert_eq!(ja.lines().count(), 105);
    assert!(ja == jb, "records differ after the round trip");
}

#[test]
fn the_seed_imports_with_its_pdf_and_exports_back_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(&tmp.path().join("a"));
    let out = arkiv(&a, &["import", "eprints-xml", seed_xml().to_str().unwrap()]);
    assert_eq!(import_counts(&out), (1, 0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 files stored"));
    let fsck = arkiv(&a, &["fsck"]);
    assert!(fsck.status.success(), "{}", stdout(&fsck));
    assert!(stdout(&fsck).contains("1 records and 1 files checked: 0 errors"), "{}", stdout(&fsck));

    let export = tmp.path().join("export.xml");
    let out = arkiv(&a, &["export", "eprints-xml", "--with-files", "-o", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let xml = std::fs::read_to_string(&export).unwrap();
    assert!(xml.contains("<family>Jaroslewlcz</family>"));
    assert!(xml.contains("<url>export.xml.files/1/1/commentary_137.pdf</url>"), "{xml}");
    let pdf = std::fs::read(tmp.path().join("export.xml.files/1/1/commentary_137.pdf")).unwrap();
    assert_eq!(
        pdf,
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/seed/files/commentary_137.pdf")).unwrap()
    );

    let b = init_repo(&tmp.path().join("b"));
    let out = arkiv(&b, &["import", "eprints-xml", export.to_str().unwrap()]);
    assert_eq!(import_counts(&out), (1, 0), "{}", stdout(&out));
    assert!(arkiv(&b, &["fsck"]).status.success());
    assert_eq!(stdout(&arkiv(&a, &["export", "jsonl"])), stdout(&arkiv(&b, &["export", "jsonl"])));

    // Importing it again does not overwrite the record unasked...
    let out = arkiv(&b, &["import", "eprints-xml", export.to_str().unwrap()]);
    assert_eq!(import_counts(&out), (0, 1));
    assert!(stdout(&out).contains("record 1 already exists"), "{}", stdout(&out));
    // ...but does with --update.
    let out = arkiv(&b, &["import", "eprints-xml", "--update", export.to_str().unwrap()]);
    assert_eq!(import_counts(&out), (1, 0));
}

#[test]
fn generated_records_with_pdfs_survive_export_and_import() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(&tmp.path().join("a"));
    let gen = tmp.path().join("gen.xml");
    let out = arkiv(&a, &["generate", "--count", "300", "--pdfs", "--seed", "7", "-o", gen.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = arkiv(&a, &["import", "eprints-xml", gen.to_str().unwrap()]);
    assert_eq!(import_counts(&out), (300, 0), "{}", stdout(&out));
    assert!(stdout(&out).contains("300 files stored"));
    let export = tmp.path().join("out.xml");
    assert!(arkiv(&a, &["export", "eprints-xml", "--with-files", "-o", export.to_str().unwrap()]).status.success());
    let b = init_repo(&tmp.path().join("b"));
    assert_eq!(import_counts(&arkiv(&b, &["import", "eprints-xml", export.to_str().unwrap()])), (300, 0));
    let fsck = arkiv(&b, &["fsck"]);
    assert!(stdout(&fsck).contains("300 records and 300 files checked: 0 errors"), "{}", stdout(&fsck));
    assert_eq!(stdout(&arkiv(&a, &["export", "jsonl"])), stdout(&arkiv(&b, &["export", "jsonl"])));
    // The same seed gives the same records.
    let again = tmp.path().join("again.xml");
    assert!(arkiv(&a, &["generate", "--count", "300", "--seed", "7", "--pdfs", "-o", again.to_str().unwrap()])
        .status
        .success());
    let again = std::fs::read_to_string(&again).unwrap().replace("again.xml.files/", "gen.xml.files/");
    assert!(std::fs::read_to_string(&gen).unwrap() == again, "the same seed gave other records");
}

const NS: &str = "http://eprints.org/ep2/data/2.0";

fn good(id: u32) -> String {
    format!("<eprint><eprintid>{id}</eprintid><type>article</type><title>Good record {id}</title></eprint>\n")
}

#[test]
fn bad_records_are_reported_with_their_position_and_the_rest_land() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = init_repo(&tmp.path().join("r"));
    let export_dir = tmp.path().join("export");
    std::fs::create_dir_all(&export_dir).unwrap();
    let deep = format!("{}{}", "<x>".repeat(10_000), "</x>".repeat(10_000));
    let huge_title = "T".repeat(10 * 1024 * 1024);
    let records = [
        good(1),
        "<eprint><eprintid>2</eprintid><type>article</type></eprint>\n".to_string(),
        good(3),
        "<eprint><eprintid>4</eprintid><type>pamphlet</type><title>Unknown type</title></eprint>\n".to_string(),
        format!("<eprint><eprintid>5</eprintid><type>article</type><title>{huge_title}</title></eprint>\n"),
        good(6),
        format!("<eprint><eprintid>7</eprintid><type>article</type><title>Deep</title><note>{deep}</note></eprint>\n"),
        "<eprint><eprintid>8</eprintid><type>article</type><title>Escape</title><documents><document><pos>1</pos>\
         <files><file><filename>passwd</filename><url>../../../../../../etc/passwd</url></file></files>\
         </document></documents></eprint>\n"
            .to_string(),
        "<eprint><eprintid>9</eprintid><type>article</type><title>Laughs &lol9;</title></eprint>\n".to_string(),
        good(10),
    ];
    let xml = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE eprints [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\
         <!ENTITY lol9 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>\n<eprints xmlns=\"{NS}\">\n{}</eprints>\n",
        records.concat()
    );
    let file = export_dir.join("mixed.xml");
    std::fs::write(&file, xml).unwrap();
    let out = arkiv(&repo, &["import", "eprints-xml", file.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "rejections make the exit code 2");
    assert_eq!(import_counts(&out), (4, 6), "{text}");
    for (position, words) in [(2, "title"), (4, "pamphlet"), (5, "title"), (7, "deep"), (8, "outside"), (9, "entit")] {
        let line = text
            .lines()
            .find(|l| l.starts_with("rejected:") && l.contains(&format!("record {position}:")))
            .unwrap_or_else(|| panic!("record {position} is not reported: {text}"));
        assert!(line.to_lowercase().contains(words), "record {position}: {line}");
    }
    let live = stdout(&arkiv(&repo, &["export", "jsonl"]));
    assert_eq!(live.lines().count(), 4);
    for id in [1, 3, 6, 10] {
        assert!(live.contains(&format!("Good record {id}")));
    }
}

#[test]
fn broken_files_keep_what_came_before_and_other_files_still_import() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = init_repo(&tmp.path().join("r"));
    let truncated = tmp.path().join("truncated.xml");
    let full = format!("<eprints xmlns=\"{NS}\">{}{}{}</eprints>", good(1), good(2), good(3));
    std::fs::write(&truncated, &full[..full.len() - 60]).unwrap();
    let wrong_ns = tmp.path().join("wrong.xml");
    std::fs::write(&wrong_ns, format!("<eprints xmlns=\"http://example.org/other\">{}</eprints>", good(4))).unwrap();
    let malformed = tmp.path().join("malformed.xml");
    std::fs::write(
        &malformed,
        format!("<eprints xmlns=\"{NS}\">{}<eprint><title>oops</eprint>{}</eprints>", good(5), good(6)),
    )
    .unwrap();
    let fine = tmp.path().join("fine.xml");
    std::fs::write(&fine, format!("<eprints xmlns=\"{NS}\">{}</eprints>", good(7))).unwrap();
    let missing = tmp.path().join("missing.xml");
    let paths = [&truncated, &wrong_ns, &malformed, &fine, &missing];
    let mut args = vec!["import", "eprints-xml"];
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = arkiv(&repo, &args);
    let text = stdout(&out);
    let live = stdout(&arkiv(&repo, &["export", "jsonl"]));
    // Records before the damage landed; the file after it too.
    for id in [1, 2, 5, 7] {
        assert!(live.contains(&format!("Good record {id}")), "record {id} missing; {text}");
    }
    assert!(!live.contains("Good record 4"), "a wrong namespace is refused");
    assert!(text.contains("wrong.xml") && text.to_lowercase().contains("namespace"), "{text}");
    assert!(text.contains("truncated.xml"), "{text}");
    assert!(text.contains("malformed.xml"), "{text}");
    assert!(text.contains("missing.xml: cannot open"), "{text}");
}

#[test]
fn documents_embedded_as_base64_are_stored_by_their_checksum() {
    use base64::Engine;
    let tmp = tempfile::tempdir().unwrap();
    let repo = init_repo(&tmp.path().join("r"));
    let pdf = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/seed/files/commentary_137.pdf")).unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(&pdf);
    let xml = format!(
        "<eprints xmlns=\"{NS}\"><eprint><eprintid>3</eprintid><type>report</type><title>Embedded</title>\
         <documents><document><pos>1</pos><format>application/pdf</format><security>public</security>\
         <main>report.pdf</main><files><file><filename>report.pdf</filename>\
         <data encoding=\"base64\">{data}</data></file></files></document></documents></eprint></eprints>"
    );
    let file = tmp.path().join("embedded.xml");
    std::fs::write(&file, xml).unwrap();
    let out = arkiv(&repo, &["import", "eprints-xml", file.to_str().unwrap()]);
    assert_eq!(import_counts(&out), (1, 0), "{}", stdout(&out));
    assert!(stdout(&out).contains("1 files stored"));
    let record = stdout(&arkiv(&repo, &["export", "jsonl"]));
    let sha = sha256_hex(&pdf);
    assert!(record.contains(&format!("\"sha256\":\"{sha}\"")), "{record}");
    assert!(record.contains(&format!("\"size\":{}", pdf.len())));
    let stored = repo.join("files/sha256").join(&sha[..2]).join(&sha[2..4]).join(&sha);
    assert_eq!(std::fs::read(stored).unwrap(), pdf, "the bytes are filed under their SHA-256");
    assert!(arkiv(&repo, &["fsck"]).status.success());
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
