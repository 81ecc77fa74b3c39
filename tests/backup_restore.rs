//! `arkiv backup` and `arkiv restore` (issue 26), end to end with the real
//! binary: a SQLite repository with records (one with two revisions),
//! files, subjects and divisions, a user, live settings and usage
//! statistics is backed up, restored onto PostgreSQL, backed up from there,
//! restored onto SQLite again; every table holds the same rows at each
//! step, every file the same bytes, the records export the same and the
//! restored site serves the same pages, its figures included. A second
//! backup into the same directory copies no file again. A damaged backup
//! and a target that is not empty restore nothing. The tables of both
//! schemas are all in a backup, so a table a later migration adds cannot
//! be forgotten.

mod common;

use common::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SUBJECTS: &str = "\
subjects:Subjects:ROOT:0
divisions:University Structure:ROOT:0
fac_eng:Faculty of Engineering:divisions:1
Q:Q Science:subjects:1
QA:QA Mathematics:Q:1
";

fn ok(out: &std::process::Output, what: &str) -> String {
    assert!(out.status.success(), "{what}: {}\n{}", stdout(out), stderr(out));
    stdout(out)
}

fn p(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A SQLite repository with a bit of everything a backup must keep.
fn populated(dir: &Path) -> PathBuf {
    let repo = init_repo(dir);
    ok(&arkiv(&repo, &["import", "eprints-xml", p(&seed_xml())]), "import the seed");
    // A second revision of the seed.
    ok(&arkiv(&repo, &["import", "eprints-xml", "--update", p(&seed_xml())]), "import it again");
    ok(&arkiv(&repo, &["generate", "--count", "40", "--pdfs"]), "generate");
    let subjects = dir.join("subjects");
    std::fs::write(&subjects, SUBJECTS).unwrap();
    ok(&arkiv(&repo, &["import", "subjects", p(&subjects)]), "subjects");
    let mut child = Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .args(["--repo", p(&repo), "user", "add", "admin@example.org", "--name", "The admin", "--role", "admin"])
        .arg("--password-stdin")
        .env("ARKIV_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a correct horse battery\n").unwrap();
    let out = child.wait_with_output().unwrap();
    ok(&out, "user add");
    // The old server's download history, counted: two readers' downloads
    // of the seed's PDF and one view of its page, in June 2014.
    let log = dir.join("access.log");
    let agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let line = |who: &str, time: &str, path: &str| {
        format!("{who} - - [{time} +0000] \"GET {path} HTTP/1.1\" 200 5120 \"-\" \"{agent}\"\n")
    };
    let pdf = "/id/eprint/1/1/commentary_137.pdf";
    let lines = [
        line("192.0.2.1", "01/Jun/2014:10:00:00", pdf),
        line("192.0.2.2", "02/Jun/2014:11:00:00", pdf),
        line("192.0.2.3", "03/Jun/2014:12:00:00", "/id/eprint/1/"),
    ];
    std::fs::write(&log, lines.concat()).unwrap();
    ok(&arkiv(&repo, &["stats", "import-log", p(&log)]), "the download history");
    repo
}

/// Every table of a backup as sorted rows, booleans written as numbers
/// (PostgreSQL's BOOLEAN is SQLite's INTEGER), without the tables only one
/// backend has.
fn tables(backup: &Path) -> BTreeMap<String, Vec<String>> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    let mut out = BTreeMap::new();
    for t in manifest["tables"].as_array().unwrap() {
        let file = std::fs::File::open(backup.join(t["path"].as_str().unwrap())).unwrap();
        let mut lines = BufReader::new(flate2::read::GzDecoder::new(file)).lines();
        let header: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        let name = header["table"].as_str().unwrap().to_string();
        if name == "browse_pending" {
            continue;
        }
        let columns: Vec<String> =
            header["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
        let mut rows: Vec<String> = lines
            .map(|l| {
                let row: Vec<serde_json::Value> = serde_json::from_str(&l.unwrap()).unwrap();
                // By column name: the two schemas may order columns apart.
                let mut cells: Vec<(String, serde_json::Value)> = columns
                    .iter()
                    .cloned()
                    .zip(row.into_iter().map(|v| match v {
                        serde_json::Value::Bool(b) => serde_json::json!(b as i64),
                        other => other,
                    }))
                    .collect();
                cells.sort_by(|a, b| a.0.cmp(&b.0));
                serde_json::to_string(&cells).unwrap()
            })
            .collect();
        rows.sort();
        out.insert(name, rows);
    }
    out
}

fn files(backup: &Path) -> Vec<String> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(backup.join("manifest.json")).unwrap()).unwrap();
    manifest["files"].as_array().unwrap().iter().map(|f| f["sha256"].as_str().unwrap().to_string()).collect()
}

fn assert_same_tables(a: &BTreeMap<String, Vec<String>>, b: &BTreeMap<String, Vec<String>>, what: &str) {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "{what}: the same tables");
    for (name, rows) in a {
        // The migration bookkeeping is each database's own; the rest must match row for row.
        assert_eq!(rows.len(), b[name].len(), "{what}: table {name} has as many rows");
        if rows != &b[name] {
            let first = rows.iter().zip(&b[name]).find(|(x, y)| x != y);
            panic!("{what}: table {name} differs, first at {first:?}");
        }
    }
}

#[test]
fn a_repository_moves_to_postgres_and_back_whole() {
    let Some(db) = TestDatabase::create() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let a = populated(&tmp.path().join("a"));
    let out = tmp.path().join("backup-a");
    let said = ok(&arkiv(&a, &["backup", p(&out)]), "backup");
    assert!(said.contains("Backed up"), "{said}");
    let first = tables(&out);
    assert_eq!(first["records"].len(), 41, "the seed and 40 generated");
    assert!(first["revisions"].len() >= 42, "the seed's two revisions are both kept");
    assert!(first["subjects"].iter().any(|r| r.contains("\"fac_eng\"") && r.contains("\"divisions\"")), "the division");
    assert!(first["subjects"].iter().any(|r| r.contains("\"QA\"")), "the subjects");
    assert_eq!(first["users"].len(), 1);
    assert!(!first["usage_monthly"].is_empty() && !first["usage_daily"].is_empty(), "the statistics");
    assert!(files(&out).len() >= 41, "the seed's PDF and the generated ones");
    // A second backup into the same directory copies no file again.
    let again = ok(&arkiv(&a, &["backup", p(&out)]), "second backup");
    assert!(again.contains("(0 copied, 0 bytes;"), "{again}");
    assert_same_tables(&first, &tables(&out), "a second backup");

    // Onto PostgreSQL.
    let b = tmp.path().join("b");
    let said = ok(&arkiv(&a, &["restore", p(&out), "--to", p(&b), "--database", &db.url]), "restore on PostgreSQL");
    assert!(said.contains("Restored"), "{said}");
    let fsck = ok(&arkiv(&b, &["fsck"]), "fsck of the restored repository");
    assert!(fsck.contains("0 errors"), "{fsck}");
    assert_eq!(
        stdout(&arkiv(&a, &["export", "jsonl"])),
        stdout(&arkiv(&b, &["export", "jsonl"])),
        "the records export the same"
    );
    let out_b = tmp.path().join("backup-b");
    ok(&arkiv(&b, &["backup", p(&out_b)]), "backup from PostgreSQL");
    assert_same_tables(&first, &tables(&out_b), "SQLite, then PostgreSQL");
    assert_eq!(files(&out), files(&out_b), "every file's SHA-256");
    // The restored site serves the same pages (serving notes its own
    // state in `meta`, so after the backup of it).
    {
        let (served_a, served_b) = (serve(&a), serve(&b));
        for path in [
            "/",
            "/1/",
            "/1/export/bibtex",
            "/view/year/",
            "/view/division/",
            "/view/subject/",
            "/oai2?verb=ListSets",
            "/stats?year=2014",
        ] {
            let (status, body) = page(served_a.addr, path);
            assert!(status.contains("200"), "{path}: {status}");
            assert_eq!((status, body), page(served_b.addr, path), "{path} is served the same");
        }
        // Among them, the statistics kept across the move.
        let (_, landing) = page(served_b.addr, "/1/");
        assert!(landing.contains("Downloads: <strong>2</strong>"), "{landing}");
        assert!(landing.contains("Page views: <strong>1</strong>"), "{landing}");
    }

    // And back onto SQLite.
    let c = tmp.path().join("c");
    // Its settings name b's PostgreSQL database, which is not empty.
    let res = arkiv(&b, &["restore", p(&out_b), "--to", p(&c)]);
    assert!(stderr(&res).contains("already holds 41 records and 1 users"), "{}", stderr(&res));
    assert!(!c.exists());
    ok(&arkiv(&b, &["restore", p(&out_b), "--to", p(&c), "--database", "sqlite://arkiv.db"]), "restore on SQLite");
    let out_c = tmp.path().join("backup-c");
    ok(&arkiv(&c, &["backup", p(&out_c)]), "backup of the copy's copy");
    assert_same_tables(&first, &tables(&out_c), "and back on SQLite");
    // New records take ids after the restored ones on both backends.
    for repo in [&b, &c] {
        ok(&arkiv(repo, &["generate", "--count", "1", "--seed", "9"]), "a new record");
        let export = stdout(&arkiv(repo, &["export", "jsonl"]));
        assert_eq!(export.lines().count(), 42, "{}", repo.display());
    }
}

#[test]
fn a_damaged_backup_or_a_full_target_restores_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let a = init_repo(&tmp.path().join("a"));
    ok(&arkiv(&a, &["import", "eprints-xml", p(&seed_xml())]), "import the seed");
    let out = tmp.path().join("backup");
    ok(&arkiv(&a, &["backup", p(&out)]), "backup");

    // A byte changed in a table.
    let records = out.join("tables/records.jsonl.gz");
    let good = std::fs::read(&records).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x20;
    std::fs::write(&records, &bad).unwrap();
    let to = tmp.path().join("restored");
    let res = arkiv(&a, &["restore", p(&out), "--to", p(&to)]);
    assert!(!res.status.success());
    assert!(stderr(&res).contains("damaged") && stderr(&res).contains("tables/records.jsonl.gz"), "{}", stderr(&res));
    assert!(!to.exists(), "nothing half-restored");
    std::fs::write(&records, &good).unwrap();

    // A stored file cut short.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let sha = manifest["files"][0]["sha256"].as_str().unwrap().to_string();
    let file = out.join(format!("files/sha256/{}/{}/{sha}", &sha[..2], &sha[2..4]));
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let res = arkiv(&a, &["restore", p(&out), "--to", p(&to)]);
    assert!(stderr(&res).contains(&format!("file {sha}")), "{}", stderr(&res));
    assert!(!to.exists());
    std::fs::write(&file, &bytes).unwrap();

    // A backup without its manifest (cut short before it was written).
    std::fs::rename(out.join("manifest.json"), tmp.path().join("m")).unwrap();
    let res = arkiv(&a, &["restore", p(&out), "--to", p(&to)]);
    assert!(stderr(&res).contains("manifest.json is missing"), "{}", stderr(&res));
    std::fs::rename(tmp.path().join("m"), out.join("manifest.json")).unwrap();

    // A target directory that holds something, or a repository's database
    // that holds records.
    let res = arkiv(&a, &["restore", p(&out), "--to", p(&a)]);
    assert!(stderr(&res).contains("is not empty"), "{}", stderr(&res));
    assert_eq!(stdout(&arkiv(&a, &["export", "jsonl"])).lines().count(), 1, "the repository is untouched");
    let full_db = format!("sqlite://{}", p(&a.join("arkiv.db")));
    let res = arkiv(&a, &["restore", p(&out), "--to", p(&to), "--database", &full_db]);
    assert!(stderr(&res).contains("already holds 1 records"), "{}", stderr(&res));
    assert!(!to.exists());

    // Intact, it restores.
    ok(&arkiv(&a, &["restore", p(&out), "--to", p(&to)]), "restore");
    assert_eq!(stdout(&arkiv(&a, &["export", "jsonl"])), stdout(&arkiv(&to, &["export", "jsonl"])));
}

/// Every table of either schema is in a backup of that backend, and a
/// restore onto the other backend has it too (or it is a backend's own
/// working table, `LOCAL_TABLES`): a table a later issue adds to one
/// schema only fails here.
#[test]
fn every_table_of_both_schemas_is_backed_up() {
    let Some(db) = TestDatabase::create() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let local = ["browse_pending"];
    let names = |repo: &Path| -> Vec<String> {
        let out = tmp.path().join(format!("backup-{}", repo.file_name().unwrap().to_str().unwrap()));
        ok(&arkiv(repo, &["backup", p(&out)]), "backup");
        tables(&out).into_keys().collect()
    };
    let sqlite = init_repo(&tmp.path().join("s"));
    let pg = tmp.path().join("pg");
    let out = Command::new(env!("CARGO_BIN_EXE_arkiv")).args(["init", p(&pg), "--database", &db.url]).output().unwrap();
    ok(&out, "init on PostgreSQL");
    let (s, g) = (names(&sqlite), names(&pg));
    assert!(s.len() >= 17 && s.contains(&"records".to_string()) && s.contains(&"users".to_string()), "{s:?}");
    for t in &s {
        assert!(g.contains(t) || local.contains(&t.as_str()), "table {t} is in SQLite's schema but not PostgreSQL's");
    }
    for t in &g {
        assert!(s.contains(t), "table {t} is in PostgreSQL's schema but not SQLite's");
    }
}

/// A backup taken while an import runs holds a state the import had
/// committed: its records and its note of how far it got come from one
/// snapshot, so the restored repository takes the import up with
/// `--resume` and ends with every record of the file once.
#[test]
fn a_backup_during_an_import_restores_a_committed_state() {
    const RECORDS: usize = 3000;
    let tmp = tempfile::tempdir().unwrap();
    let export = tmp.path().join("gen.xml");
    ok(&arkiv(tmp.path(), &["generate", "--count", &RECORDS.to_string(), "--seed", "5", "-o", p(&export)]), "generate");
    let a = init_repo(&tmp.path().join("a"));
    let config = a.join("arkiv.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace("batch_size = 10000", "batch_size = 100");
    assert!(text.contains("batch_size = 100\n"));
    std::fs::write(&config, text).unwrap();
    let mut import = Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .args(["--repo", p(&a), "import", "eprints-xml", p(&export)])
        .env("ARKIV_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(import.stderr.take().unwrap()).lines();
    // Once a batch is committed, back up while the import goes on.
    loop {
        let line = lines.next().expect("the import reports its batches").unwrap();
        if line.starts_with("committed: ") {
            break;
        }
    }
    let out = tmp.path().join("backup");
    ok(&arkiv(&a, &["backup", p(&out)]), "backup during the import");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(import.wait().unwrap().success(), "the import finished: {rest:?}");

    let b = tmp.path().join("b");
    ok(&arkiv(&a, &["restore", p(&out), "--to", p(&b)]), "restore");
    let held = stdout(&arkiv(&b, &["export", "jsonl"])).lines().count();
    assert!(held > 0 && held.is_multiple_of(100), "whole batches only: {held}");
    eprintln!("the backup held {held} of {RECORDS} records");
    let resumed = arkiv(&b, &["import", "eprints-xml", "--resume", p(&export)]);
    let said = ok(&resumed, "resume on the restored repository");
    assert!(held == RECORDS || said.contains(&format!("{held} records skipped")), "{said}");
    let titles: std::collections::BTreeSet<String> = stdout(&arkiv(&b, &["export", "jsonl"]))
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["title"].as_str().unwrap().to_string())
        .collect();
    let count = stdout(&arkiv(&b, &["export", "jsonl"])).lines().count();
    assert_eq!(count, RECORDS, "every record of the file, once");
    assert!(titles.len() > RECORDS / 2, "{} distinct titles", titles.len());
}
