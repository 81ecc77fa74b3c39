//! `arkiv export FORMAT` for the registry's XML formats, end to end: the
//! EPrints corpus imported into a real repository, generated records added,
//! then `arkiv export mods|datacite|marcxml -o FILE` must write files the
//! official schemas accept, with live records only by default; and the
//! seed, imported with its PDF, must have its open-access file linked.

mod common;
use arkiv_testkit::checkers::{validate_xml, xmllint_ready};
use common::*;

const FORMATS: &[(&str, &str, &str)] = &[
    ("mods", "mods/mods-3-8.xsd", "<mods version=\"3.8\">"),
    ("datacite", "DATACITE_LIST", "<resource xmlns="),
    ("marcxml", "marc/MARC21slim.xsd", "<marc:record>"),
];

fn schema(name: &str) -> String {
    match name {
        "DATACITE_LIST" => {
            format!("{}/crates/arkiv-formats/tests/data/datacite-resources.xsd", env!("CARGO_MANIFEST_DIR"))
        }
        other => other.to_string(),
    }
}

#[test]
fn xml_exports_of_an_imported_corpus_and_generated_records_are_schema_valid() {
    let Some(shared) = shared() else { return };
    if !xmllint_ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = init_repo(&tmp.path().join("a"));
    let mut files: Vec<_> =
        std::fs::read_dir(shared.join("corpus/eprints_xml")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let mut args = vec!["import", "eprints-xml"];
    args.extend(names.iter().map(String::as_str));
    assert_eq!(import_counts(&arkiv(&repo, &args)), (105, 0));
    let out = arkiv(&repo, &["generate", "--count", "150", "--seed", "7"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let live = stdout(&arkiv(&repo, &["export", "jsonl", "--status", "live"])).lines().count();
    let all = stdout(&arkiv(&repo, &["export", "jsonl"])).lines().count();
    assert!(live > 100 && all >= live, "live {live}, all {all}");

    for (format, xsd, record_start) in FORMATS {
        let path = tmp.path().join(format!("{format}.xml"));
        let out = arkiv(&repo, &["export", format, "-o", path.to_str().unwrap()]);
        assert!(out.status.success(), "arkiv export {format}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("{live} records exported.")),
            "{format}: live records only by default: {}",
            stderr(&out)
        );
        let xml = std::fs::read(&path).unwrap();
        assert_eq!(String::from_utf8_lossy(&xml).matches(record_start).count(), live, "{format}: one record each");
        if let Err(e) = validate_xml(&xml, &schema(xsd)) {
            panic!("arkiv export {format} is not schema-valid:\n{e}");
        }
    }

    // --status picks other records, still valid.
    let out = arkiv(&repo, &["export", "marcxml", "--status", "inbox"]);
    assert!(out.status.success(), "{}", stderr(&out));
    validate_xml(&out.stdout, "marc/MARC21slim.xsd").unwrap();
    // Nonsense is refused with a message, not a panic.
    let out = arkiv(&repo, &["export", "mods", "--with-files"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--with-files is for eprints-xml"), "{}", stderr(&out));
    let out = arkiv(&repo, &["export", "nonsense"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("mods"), "the formats are listed: {}", stderr(&out));
}

#[test]
fn the_seed_exports_with_its_open_pdf_linked() {
    if !xmllint_ready() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = init_repo(&tmp.path().join("a"));
    assert_eq!(import_counts(&arkiv(&repo, &["import", "eprints-xml", seed_xml().to_str().unwrap()])), (1, 0));
    for (format, xsd, _) in FORMATS {
        let out = arkiv(&repo, &["export", format]);
        assert!(out.status.success(), "{}", stderr(&out));
        validate_xml(&out.stdout, &schema(xsd)).unwrap();
        let xml = stdout(&out);
        assert!(xml.contains("Jaroslewlcz"), "{format}: {xml}");
        if *format != "datacite" {
            assert!(xml.contains("/1/1/commentary_137.pdf"), "{format} links the open PDF: {xml}");
        }
    }
    let help = stdout(&arkiv(&repo, &["export", "--help"]));
    for id in ["eprints-xml", "jsonl", "mods", "datacite", "marcxml"] {
        assert!(help.contains(id), "--help lists {id}: {help}");
    }
}

/// An empty repository: MODS has no empty collection, so `arkiv export mods`
/// says there is nothing to export, writes nothing (no file with -o, an
/// older one left as it was) and exits with 3; the formats with an empty
/// form write it and exit with 0.
#[test]
fn an_empty_repository_exports_no_mods_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = init_repo(&tmp.path().join("a"));
    let out = arkiv(&repo, &["export", "mods"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert!(stderr(&out).contains("no records to export"), "{}", stderr(&out));
    let path = tmp.path().join("mods.xml");
    let out = arkiv(&repo, &["export", "mods", "-o", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(!path.exists(), "no file is created");
    std::fs::write(&path, "older").unwrap();
    assert_eq!(arkiv(&repo, &["export", "mods", "-o", path.to_str().unwrap()]).status.code(), Some(3));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "older");
    let out = arkiv(&repo, &["export", "marcxml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("0 records exported."), "{}", stderr(&out));
    if xmllint_ready() {
        validate_xml(&out.stdout, "marc/MARC21slim.xsd").unwrap();
    }
}
