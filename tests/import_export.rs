//! Records in and out through the real command line: the corpus, the seed,
//! generated records, and bad input. The corpus and the seed are also
//! pinned to their sources: each stored record is compared, field by field,
//! with what its EPrints XML says as read by this file's own small parser,
//! so that a field the importer drops fails even though the round trips
//! (Arkiv's output against Arkiv's output) would pass.

mod common;
use common::*;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

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

    // The records hold what the source files say, field by field (what the
    // round trip cannot tell: a field dropped on the way in stays dropped).
    let expected = assert_records_match_sources(&files, &a);
    // And the corpus does exercise the fields, so that the pin means something.
    let has = |key: &str| expected.iter().any(|r| r.get(key).is_some());
    let fields = "id status item_type title creators corp_creators editors date date_type ispublished series number \
                  abstract publisher publication institution department place_of_pub volume pages pagerange \
                  event_title official_url doi issn isbn id_number keywords subjects refereed related note \
                  datestamp lastmod documents extra";
    for key in fields.split_whitespace() {
        assert!(has(key), "no corpus record has {key}: the pin no longer covers it");
    }
    assert!(expected.iter().any(|r| r["creators"].as_array().is_some_and(|c| c.len() > 2)), "several creators");
    let files = expected.iter().flat_map(|r| r["documents"].as_array().into_iter().flatten());
    let files = files.flat_map(|d| d["files"].as_array().into_iter().flatten()).count();
    assert!(files > 50, "only {files} files pinned");
}

/// A repository that knows none of Caltech's local item types takes them
/// from the import (none of the 105 records is refused), says so, and
/// keeps them in its database: a later process (fsck, a server) knows them
/// without any change to arkiv.toml.
#[test]
fn local_item_types_are_taken_not_refused() {
    let Some(shared) = shared() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("plain");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_arkiv")).arg("init").arg(&repo).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let config = std::fs::read_to_string(repo.join("arkiv.toml")).unwrap();
    let mut files: Vec<_> =
        std::fs::read_dir(shared.join("corpus/eprints_xml")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    // EPrints' phrase file names one of the local types.
    let phrases = tmp.path().join("eprint_types.xml");
    std::fs::write(
        &phrases,
        r#"<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE phrases SYSTEM "entities.dtd">
<epp:phrases xmlns="http://www.w3.org/1999/xhtml" xmlns:epp="http://eprints.org/ep3/phrase">
  <epp:phrase id="eprint_typename_oral_history">Oral History</epp:phrase>
  <epp:phrase id="eprint_typename_article">Journal Article</epp:phrase>
</epp:phrases>"#,
    )
    .unwrap();
    let mut args = vec!["import", "eprints-xml", "--phrases", phrases.to_str().unwrap()];
    args.extend(names.iter().map(String::as_str));
    let out = arkiv(&repo, &args);
    assert_eq!(import_counts(&out), (105, 0), "{}", stdout(&out));
    let summary = stdout(&out);
    let line = summary.lines().find(|l| l.starts_with("item types this repository did not know")).expect(&summary);
    for t in ["journal_issue (", "lab_notes (", "oral_history \"Oral History\" (", "posted-content ("] {
        assert!(line.contains(t), "{line}");
    }
    assert!(!line.contains("Journal Article"), "a known type is not relabelled: {line}");
    assert_eq!(std::fs::read_to_string(repo.join("arkiv.toml")).unwrap(), config, "arkiv.toml is never written");
    let fsck = arkiv(&repo, &["fsck"]);
    assert!(stdout(&fsck).contains("105 records"), "{}", stdout(&fsck));
    assert!(!stdout(&fsck).contains("unknown item type"), "a later process knows the types: {}", stdout(&fsck));
    // Imported again elsewhere from the export, nothing is new any more.
    let export = tmp.path().join("export.xml");
    assert!(arkiv(&repo, &["export", "eprints-xml", "-o", export.to_str().unwrap()]).status.success());
    let out = arkiv(&repo, &["import", "eprints-xml", "--update", export.to_str().unwrap()]);
    assert_eq!(import_counts(&out), (105, 0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("did not know"), "{}", stdout(&out));
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
fn the_seed_record_holds_what_its_source_and_its_page_say() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = init_repo(&tmp.path().join("r"));
    let out = arkiv(&repo, &["import", "eprints-xml", seed_xml().to_str().unwrap()]);
    assert_eq!(import_counts(&out), (1, 0), "{}", stdout(&out));
    assert_records_match_sources(&[seed_xml()], &repo);
    let jsonl = stdout(&arkiv(&repo, &["export", "jsonl"]));

    // seed.xml was written from the record page in ../shared/seed: the
    // stored record says what the page says.
    let Some(shared) = shared() else { return };
    let page = std::fs::read_dir(shared.join("seed"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "txt"))
        .expect("the seed page");
    let page = std::fs::read_to_string(page).unwrap();
    let r: Value = serde_json::from_str(jsonl.trim()).unwrap();
    let text = |key: &str| r[key].as_str().unwrap_or_else(|| panic!("the record has no {key}")).to_string();
    let creator = &r["creators"][0]["name"];
    let date = text("date");
    let (y, m, d) = (&date[..4], &date[5..7], &date[8..10]);
    // "policy_paper" is shown as "Policy Paper".
    let type_label: Vec<String> = text("item_type").split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect();
    let citation = format!(
        "{}, {} ({y}) {}. {} No. {}, {d}.{m}.{y}. [{}]",
        creator["family"].as_str().unwrap(),
        creator["given"].as_str().unwrap(),
        text("title"),
        text("series"),
        text("number"),
        type_label.join(" ")
    );
    assert_eq!(page.lines().next().unwrap().trim(), citation, "the citation line of the page");
    let abstract_on_page = page.split_once("\nAbstract\n").unwrap().1.split("Actions (login required)").next().unwrap();
    assert_eq!(abstract_on_page.trim(), text("abstract"), "the abstract of the page");
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
        // A local type is taken (see local_item_types_are_taken_not_refused);
        // a value no type id can be is refused.
        "<eprint><eprintid>4</eprintid><type>pam phlet?</type><title>Unknown type</title></eprint>\n".to_string(),
        format!("<eprint><eprintid>5</eprintid><type>article</type><title>{huge_title}</title></eprint>\n"),
        good(6),
        format!("<eprint><eprintid>7</eprintid><type>article</type><title>Deep</title><note>{deep}</note></eprint>\n"),
        "<eprint><eprintid>8</eprintid><type>article</type><title>Escape</title><documents><document><pos>1</pos>\
         <files><file><filename>passwd</filename><url>../../../../../../etc/passwd</url></file></files>\
         </document></documents></eprint>\n"
            .to_string(),
        "<eprint><eprintid>9</eprintid><type>article</type><title>Laughs &lol9;</title></eprint>\n".to_string(),
        good(10),
        "<eprint><eprintid>11</eprintid><type>article</type><title>Smuggled DOI</title>\
         <doi>10.1234/x&gt;; rel=&quot;item&quot;, &lt;https://evil.example/m.pdf</doi></eprint>\n"
            .to_string(),
        "<eprint><eprintid>12</eprintid><type>article</type><title>Smuggled licence</title>\
         <license>https://example.org/l&gt;; rel=&quot;item&quot;</license></eprint>\n"
            .to_string(),
        good(13),
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
    assert_eq!(import_counts(&out), (5, 8), "{text}");
    for (position, words) in [
        (2, "title"),
        (4, "pam phlet?"),
        (5, "title"),
        (7, "deep"),
        (8, "outside"),
        (9, "entit"),
        (11, "doi: \"10.1234/x>; rel="),
        (12, "license: \"https://example.org/l>"),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with("rejected:") && l.contains(&format!("record {position}:")))
            .unwrap_or_else(|| panic!("record {position} is not reported: {text}"));
        assert!(line.to_lowercase().contains(words), "record {position}: {line}");
    }
    let live = stdout(&arkiv(&repo, &["export", "jsonl"]));
    assert_eq!(live.lines().count(), 5);
    for id in [1, 3, 6, 10, 13] {
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

/// A file name with a right-to-left override (`evil\u{202e}gpj.exe`, shown
/// as `evilexe.jpg`) or other invisible characters is stored without them.
#[test]
fn invisible_characters_leave_imported_file_names() {
    use base64::Engine;
    let tmp = tempfile::tempdir().unwrap();
    let repo = init_repo(&tmp.path().join("r"));
    let data = base64::engine::general_purpose::STANDARD.encode(b"MZ not really a program");
    let xml = format!(
        "<eprints xmlns=\"{NS}\"><eprint><eprintid>4</eprintid><type>report</type><title>Reversed</title>\
         <documents><document><pos>1</pos><security>public</security><main>evil\u{202e}gpj.exe</main>\
         <files><file><filename>evil\u{202e}gpj\u{200b}.exe</filename><data encoding=\"base64\">{data}</data>\
         </file></files></document></documents></eprint></eprints>"
    );
    let file = tmp.path().join("reversed.xml");
    std::fs::write(&file, xml).unwrap();
    let out = arkiv(&repo, &["import", "eprints-xml", file.to_str().unwrap()]);
    assert_eq!(import_counts(&out), (1, 0), "{}", stdout(&out));
    let record = stdout(&arkiv(&repo, &["export", "jsonl"]));
    assert!(record.contains("\"filename\":\"evilgpj.exe\""), "{record}");
    assert!(record.contains("\"main\":\"evilgpj.exe\""), "{record}");
    assert!(!record.contains('\u{202e}') && !record.contains("\\u202e") && !record.contains('\u{200b}'));
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

// Pinning imported records to their source XML. The round trips above
// compare Arkiv's output with Arkiv's output, so a field the importer drops
// on the way in would pass them; these helpers read the source files with
// a parser of the test's own (not Arkiv's reader) and say, field by field,
// what each record must hold, following the mapping the EPrints codec
// documents (crates/arkiv-formats/src/eprints/mod.rs).

/// Every record of the repository carries what its source `<eprint>` says,
/// and nothing is stored that no source record gave. Returns the expected
/// records, for the caller to check what the sources exercise.
fn assert_records_match_sources(sources: &[PathBuf], repo: &Path) -> Vec<Value> {
    let mut pool = stored_records(repo);
    let mut all_expected = Vec::new();
    let mut failures = Vec::new();
    for path in sources {
        let root = parse_xml(&std::fs::read_to_string(path).unwrap());
        let records: Vec<&El> = if root.name == "eprint" { vec![&root] } else { root.all("eprint").collect() };
        for (i, source) in records.into_iter().enumerate() {
            let at = format!("{} record {}", path.file_name().unwrap().to_string_lossy(), i + 1);
            let expected = expected_record(source);
            // Records are found by title (most corpus records have no id
            // and get one on import); identical records are interchangeable.
            let candidates: Vec<usize> = (0..pool.len()).filter(|&j| pool[j]["title"] == expected["title"]).collect();
            match candidates.iter().find(|&&j| pinned(&pool[j], &expected) == expected) {
                Some(&j) => {
                    pool.remove(j);
                }
                None if candidates.is_empty() => failures.push(format!("{at}: no record titled {}", expected["title"])),
                None => {
                    failures.push(format!("{at}: {}", differences(&expected, &pinned(&pool[candidates[0]], &expected))))
                }
            }
            all_expected.push(expected);
        }
    }
    assert!(failures.is_empty(), "{} records differ from their source:\n{}", failures.len(), failures.join("\n"));
    assert!(pool.is_empty(), "{} records stored that no source holds: {:?}", pool.len(), pool);
    all_expected
}

/// Every record of a repository as its store holds it, in Arkiv's JSON.
/// Not `export jsonl`: that is a public export, which leaves staff-only
/// fields out by design.
fn stored_records(repo: &Path) -> Vec<Value> {
    let ids: Vec<i64> = stdout(&arkiv(repo, &["export", "jsonl"]))
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["id"].as_i64().unwrap())
        .collect();
    let url = format!("sqlite://{}", repo.join("arkiv.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = arkiv_storage::open_store(&url).await.unwrap();
        let records = store.get_records(&ids).await.unwrap();
        assert_eq!(records.len(), ids.len(), "every exported id is in the store");
        records.iter().map(|r| serde_json::to_value(r).unwrap()).collect()
    })
}

/// What differs between two records, field by field, down to the nested
/// field (`documents[1].main`).
fn differences(expected: &Value, actual: &Value) -> String {
    let mut found = Vec::new();
    diff("", expected, actual, &mut found);
    found.join("; ")
}

fn diff(path: &str, expected: &Value, actual: &Value, found: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            let mut keys: Vec<&String> = e.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let path = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                match (e.get(k), a.get(k)) {
                    (Some(x), Some(y)) => diff(&path, x, y, found),
                    (x, y) => found.push(format!("{path}: source says {}, stored {}", show(x), show(y))),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                diff(&format!("{path}[{i}]"), x, y, found);
            }
        }
        _ if expected != actual => {
            found.push(format!("{path}: source says {}, stored {}", show(Some(expected)), show(Some(actual))))
        }
        _ => {}
    }
}

fn show(v: Option<&Value>) -> String {
    let s = v.map_or("nothing".to_string(), Value::to_string);
    if s.chars().count() > 300 {
        format!("{}…", s.chars().take(300).collect::<String>())
    } else {
        s
    }
}

/// A stored record reduced to what its source can say: the id Arkiv gave
/// a record without one, the datestamp and lastmod it stamped on one without
/// them and the SHA-256 of a stored file (only whether there is one counts)
/// are Arkiv's own; extra fields are compared as the elements they hold
/// rather than as their serialization.
fn pinned(stored: &Value, expected: &Value) -> Value {
    let mut r = stored.as_object().unwrap().clone();
    for key in ["id", "datestamp", "lastmod"] {
        if expected.get(key).is_none() {
            r.remove(key);
        }
    }
    for doc in r.get_mut("documents").and_then(Value::as_array_mut).into_iter().flatten() {
        for file in doc.get_mut("files").and_then(Value::as_array_mut).into_iter().flatten() {
            let file = file.as_object_mut().unwrap();
            if file.remove("sha256").is_some() {
                file.insert("stored".into(), json!(true));
            }
        }
    }
    for extra in r.get_mut("extra").and_then(Value::as_array_mut).into_iter().flatten() {
        let element = canonical(&parse_xml(extra["xml"].as_str().unwrap()));
        *extra = json!({ "name": extra["name"], "element": element });
    }
    Value::Object(r)
}

/// Top-level elements EPrints derives from its own storage and Arkiv
/// recomputes: not imported (mod.rs, RECOMPUTED_ELEMENTS).
const RECOMPUTED: &[&str] = &[
    "rev_number",
    "dir",
    "metadata_visibility",
    "status_changed",
    "item_issues_count",
    "full_text_status",
    "fileinfo",
];

/// Elements that map to a text field of the same meaning: (element, key in
/// Arkiv's JSON).
const TEXT_FIELDS: &[(&str, &str)] = &[
    ("date", "date"),
    ("date_type", "date_type"),
    ("ispublished", "ispublished"),
    ("series", "series"),
    ("number", "number"),
    ("publisher", "publisher"),
    ("institution", "institution"),
    ("department", "department"),
    ("place_of_pub", "place_of_pub"),
    ("pages", "pages"),
    ("pagerange", "pagerange"),
    ("publication", "publication"),
    ("book_title", "book_title"),
    ("volume", "volume"),
    ("event_title", "event_title"),
    ("official_url", "official_url"),
    ("doi", "doi"),
    ("isbn", "isbn"),
    ("issn", "issn"),
    ("id_number", "id_number"),
    ("abstract", "abstract"),
    ("note", "note"),
    ("license", "license"),
    ("withdrawn_reason", "withdrawn_reason"),
];

/// The record an `<eprint>` describes, in the shape of Arkiv's JSON.
fn expected_record(e: &El) -> Value {
    let mut r = Map::new();
    r.insert("status".into(), json!("archive"));
    r.insert("item_type".into(), json!(""));
    r.insert("title".into(), json!(""));
    let (mut creators, mut editors, mut contributors, mut corp) = (vec![], vec![], vec![], vec![]);
    let (mut keywords, mut subjects, mut languages, mut related) = (vec![], vec![], vec![], vec![]);
    let mut divisions = vec![];
    let (mut documents, mut extra) = (vec![], vec![]);
    let mut seen = HashSet::new();
    for n in &e.children {
        let name = n.name.as_str();
        // A single-valued field given twice: the first counts.
        if single_valued(name) && !seen.insert(name) {
            continue;
        }
        match name {
            "eprintid" => put(&mut r, "id", Some(json!(n.text.trim().parse::<i64>().unwrap()))),
            "eprint_status" => put(&mut r, "status", Some(json!(n.text.trim()))),
            "type" => put(&mut r, "item_type", Some(json!(n.text.trim()))),
            // EPrints' per-type kind fields are one subtype.
            "monograph_type" | "thesis_type" | "pres_type" => put(&mut r, "subtype", Some(json!(n.text.trim()))),
            "title" => put(&mut r, "title", Some(json!(n.text.trim()))),
            "creators" => creators.extend(n.all("item").filter_map(|i| person(i, false))),
            "editors" => editors.extend(n.all("item").filter_map(|i| person(i, false))),
            "contributors" => contributors.extend(n.all("item").filter_map(|i| person(i, true))),
            "corp_creators" => corp.extend(n.all("item").filter_map(corporate)),
            "keywords" => keywords.extend(
                n.text.split(['\n', '\r', ',', ';']).map(str::trim).filter(|k| !k.is_empty()).map(String::from),
            ),
            "subjects" => subjects.extend(n.all("item").filter_map(El::opt)),
            "divisions" => divisions.extend(n.all("item").filter_map(El::opt)),
            "language" => languages.extend(n.opt()),
            "languages" => languages.extend(n.all("item").filter_map(El::opt)),
            "related_url" => related.extend(n.all("item").filter_map(|i| {
                let url = i.child_text("url")?;
                let mut link = Map::new();
                link.insert("url".into(), json!(url));
                put(&mut link, "relation", i.child_text("type"));
                put(&mut link, "description", i.child_text("description"));
                Some(Value::Object(link))
            })),
            "refereed" => match n.text.trim().to_ascii_uppercase().as_str() {
                "TRUE" => put(&mut r, "refereed", Some(json!(true))),
                "FALSE" => put(&mut r, "refereed", Some(json!(false))),
                other => assert!(other.is_empty(), "refereed {other:?} in the corpus"),
            },
            // EPrints' user id: the depositor is the user `arkiv import users`
            // brought for it, and none until then (none is, here).
            "userid" => {}
            "replacedby" | "succeeds" => {
                let key = if name == "replacedby" { "replaced_by" } else { name };
                put(&mut r, key, n.opt().map(|s| json!(s.parse::<i64>().unwrap())));
            }
            "datestamp" | "lastmod" => put(&mut r, name, n.opt().map(|s| json!(unix_seconds(&s)))),
            "documents" => {
                let before = documents.len();
                documents.extend(n.all("document").enumerate().map(|(i, d)| document(d, before + i + 1)))
            }
            _ if RECOMPUTED.contains(&name) => {}
            _ => match TEXT_FIELDS.iter().find(|(element, _)| *element == name) {
                Some((_, key)) => put(&mut r, key, n.opt()),
                // Everything else is kept verbatim.
                None => extra.push(json!({ "name": name, "element": canonical(n) })),
            },
        }
    }
    resolve_derived(&mut documents);
    for (key, list) in [
        ("creators", creators),
        ("editors", editors),
        ("contributors", contributors),
        ("corp_creators", corp),
        ("related", related),
        ("documents", documents),
        ("extra", extra),
    ] {
        if !list.is_empty() {
            r.insert(key.into(), Value::Array(list));
        }
    }
    for (key, list) in
        [("keywords", keywords), ("subjects", subjects), ("divisions", divisions), ("languages", languages)]
    {
        if !list.is_empty() {
            r.insert(key.into(), json!(list));
        }
    }
    Value::Object(r)
}

/// Whether an element maps to a field that holds one value.
fn single_valued(name: &str) -> bool {
    let single = ["eprintid", "eprint_status", "type", "title", "refereed", "userid", "datestamp", "lastmod"];
    single.contains(&name) || ["replacedby", "succeeds"].contains(&name) || TEXT_FIELDS.iter().any(|(e, _)| *e == name)
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        map.insert(key.into(), v.into());
    }
}

/// A person of `creators`, `editors` or `contributors` (with the role).
fn person(item: &El, contributor: bool) -> Option<Value> {
    let (family, given) = match item.child("name") {
        Some(n) => (n.child_text("family").unwrap_or_else(|| n.text.trim().to_string()), n.child_text("given")),
        None => (String::new(), None),
    };
    let mut name = Map::new();
    name.insert("family".into(), json!(family));
    put(&mut name, "given", given);
    let mut p = Map::new();
    let (id, orcid, email) = (item.child_text("id"), item.child_text("orcid"), item.child_text("email"));
    if family.is_empty() && !name.contains_key("given") && id.is_none() && orcid.is_none() && email.is_none() {
        return None;
    }
    p.insert("name".into(), Value::Object(name));
    put(&mut p, "id", id);
    put(&mut p, "orcid", orcid);
    put(&mut p, "email", email);
    if contributor {
        p.insert("role".into(), json!(item.child_text("type").unwrap_or_default()));
    }
    Some(Value::Object(p))
}

/// `<item>Body</item>` or `<item><name>Body</name><id>..</id></item>`.
fn corporate(item: &El) -> Option<Value> {
    let (name, id) = if item.children.is_empty() {
        (item.text.trim().to_string(), None)
    } else {
        (item.child_text("name").unwrap_or_default(), item.child_text("id"))
    };
    if name.is_empty() && id.is_none() {
        return None;
    }
    let mut c = Map::new();
    c.insert("name".into(), json!(name));
    put(&mut c, "id", id);
    Some(Value::Object(c))
}

/// A derived document names its source by EPrints docid; Arkiv by position.
fn resolve_derived(documents: &mut [Value]) {
    let positions: Vec<(Value, Value)> =
        documents.iter().map(|d| (d["eprints_docid"].clone(), d["pos"].clone())).collect();
    for doc in documents.iter_mut() {
        let Some(from) = doc.as_object_mut().unwrap().remove("_derived_from") else { continue };
        let of = positions.iter().find(|(docid, _)| *docid == from[0]).map(|(_, pos)| pos.clone()).unwrap();
        doc["derived"] = json!({ "of": of, "kind": from[1] });
    }
}

fn document(d: &El, index: usize) -> Value {
    let mut doc = Map::new();
    let pos = d.child_text("pos").map_or(index as u64, |p| p.parse().unwrap());
    doc.insert("pos".into(), json!(pos));
    // EPrints' own ids, kept for its addresses.
    put(&mut doc, "eprints_docid", d.child_text("docid").map(|s| json!(s.parse::<i64>().unwrap())));
    // "Is a volatile version of" a document (EPrints' word for derived),
    // with the kind its other relation gives: resolved to a position by
    // `resolve_derived` once all the record's documents are known.
    let relations: Vec<(String, String)> = d
        .all("relation")
        .flat_map(|r| r.all("item"))
        .map(|i| (i.child_text("type").unwrap_or_default(), i.child_text("uri").unwrap_or_default()))
        .collect();
    if let Some((_, uri)) = relations.iter().find(|(t, _)| t.ends_with("/isVolatileVersionOf")) {
        let kind = relations
            .iter()
            .filter_map(|(t, _)| t.rsplit('/').next()?.strip_prefix("is")?.strip_suffix("VersionOf"))
            .find(|k| !k.is_empty() && *k != "Volatile")
            .unwrap_or("");
        let source: i64 = uri.rsplit('/').next().unwrap().parse().unwrap();
        doc.insert("_derived_from".into(), json!([source, kind]));
    }
    for (element, key) in [
        ("format", "format"),
        ("formatdesc", "format_description"),
        ("mime_type", "mime_type"),
        ("language", "language"),
        ("date_embargo", "embargo"),
        ("license", "license"),
        ("content", "content"),
        ("main", "main"),
    ] {
        put(&mut doc, key, d.child_text(element));
    }
    // EPrints' access levels, under the names Arkiv gives them.
    let security = match d.child_text("security").as_deref() {
        None | Some("public") => "public",
        Some("validuser" | "registered") => "validuser",
        Some("staffonly" | "internal" | "staff") => "staffonly",
        Some(other) => panic!("security {other:?} in the corpus"),
    };
    doc.insert("security".into(), json!(security));
    let mut files = Vec::new();
    for f in d.all("files").flat_map(|fs| fs.all("file")) {
        let mut file = Map::new();
        put(&mut file, "eprints_fileid", f.child_text("fileid").map(|s| json!(s.parse::<i64>().unwrap())));
        file.insert("filename".into(), json!(f.child_text("filename").unwrap()));
        put(&mut file, "mime_type", f.child_text("mime_type"));
        file.insert("size".into(), json!(f.child_text("filesize").map_or(0, |s| s.parse::<u64>().unwrap())));
        if let (Some(hash), Some(kind)) = (f.child_text("hash"), f.child_text("hash_type")) {
            file.insert("source_hash".into(), json!([kind, hash]));
        }
        match f.child_text("url") {
            // A file the export holds beside it is read and stored; where
            // it was says nothing about it any more.
            Some(url) if !url.starts_with("http://") && !url.starts_with("https://") => {
                file.insert("stored".into(), json!(true));
            }
            url => put(&mut file, "source_url", url),
        }
        files.push(Value::Object(file));
    }
    if !files.is_empty() {
        doc.insert("files".into(), Value::Array(files));
    }
    Value::Object(doc)
}

/// An element as names and trimmed text, for comparing an element kept
/// verbatim with its source whatever the whitespace between its children.
fn canonical(e: &El) -> Value {
    json!({ "name": e.name, "text": e.text.trim(), "children": e.children.iter().map(canonical).collect::<Vec<_>>() })
}

/// `YYYY-MM-DD hh:mm:ss` or `YYYY-MM-DD` (UTC, as EPrints writes them) as
/// seconds since 1970.
fn unix_seconds(s: &str) -> i64 {
    let mut n: Vec<i64> = s.split(['-', ' ', ':']).map(|p| p.parse().unwrap()).collect();
    n.resize(6, 0);
    let (y, m, d) = (n[0], n[1], n[2]);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + n[3] * 3600 + n[4] * 60 + n[5]
}

/// An element of a source file as this test reads it: its local name, the
/// text directly inside it (references resolved) and its child elements.
#[derive(Debug, Default)]
struct El {
    name: String,
    text: String,
    children: Vec<El>,
}

impl El {
    fn child(&self, name: &str) -> Option<&El> {
        self.children.iter().find(|c| c.name == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a El> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text; `None` when blank.
    fn opt(&self) -> Option<String> {
        Some(self.text.trim().to_string()).filter(|s| !s.is_empty())
    }

    fn child_text(&self, name: &str) -> Option<String> {
        self.child(name).and_then(El::opt)
    }
}

/// Parses an XML document into its root element: as much XML as EPrints
/// exports use (declarations, comments, a DOCTYPE without internal subset,
/// CDATA, the predefined entities and character references). Attributes and
/// namespaces are not needed to pin the fields and are passed over.
fn parse_xml(xml: &str) -> El {
    // What an XML parser does to line ends before anything else.
    let xml = xml.replace("\r\n", "\n").replace('\r', "\n");
    let mut stack = vec![El::default()];
    let mut rest = xml.as_str();
    let after = |s: &str, end: &str| s.find(end).map(|i| i + end.len()).expect("a construct is not closed");
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("<?") {
            rest = &r[after(r, "?>")..];
        } else if let Some(r) = rest.strip_prefix("<!--") {
            rest = &r[after(r, "-->")..];
        } else if let Some(r) = rest.strip_prefix("<![CDATA[") {
            let end = after(r, "]]>");
            stack.last_mut().unwrap().text.push_str(&r[..end - 3]);
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("<!") {
            rest = &r[after(r, ">")..];
        } else if let Some(r) = rest.strip_prefix("</") {
            let end = after(r, ">");
            let el = stack.pop().unwrap();
            assert_eq!(local(r[..end - 1].trim()), el.name, "mismatched end tag");
            stack.last_mut().unwrap().children.push(el);
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('<') {
            let end = tag_end(r);
            let (tag, empty) = match r[..end].strip_suffix('/') {
                Some(tag) => (tag, true),
                None => (&r[..end], false),
            };
            let el = El { name: local(tag.split_whitespace().next().unwrap()), ..El::default() };
            if empty {
                stack.last_mut().unwrap().children.push(el);
            } else {
                stack.push(el);
            }
            rest = &r[end + 1..];
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            stack.last_mut().unwrap().text.push_str(&unescape(&rest[..end]));
            rest = &rest[end..];
        }
    }
    assert_eq!(stack.len(), 1, "elements left open");
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "one root element");
    document.children.pop().unwrap()
}

/// The name without its namespace prefix.
fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap().to_string()
}

/// Where a start tag ends: the first `>` outside a quoted attribute value.
fn tag_end(s: &str) -> usize {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return i,
            _ => {}
        }
    }
    panic!("a start tag is not closed")
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = i + rest[i..].find(';').expect("an unterminated reference");
        let c = match &rest[i + 1..end] {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            r => {
                let code = match r.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
                    None => r.strip_prefix('#').unwrap_or_else(|| panic!("entity &{r};")).parse().unwrap(),
                };
                char::from_u32(code).unwrap()
            }
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}
