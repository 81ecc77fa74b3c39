//! A killed import, run again, never imports twice (issue 21).
//!
//! Each batch of an import commits with a note of how far into its file the
//! import got, the file known by the SHA-256 of its bytes. An import of
//! records without ids killed with SIGKILL, then run again plainly, is
//! refused (naming `--resume`) and writes nothing; `--resume` imports the
//! rest, so every record of the file is there once; a finished file run
//! again is refused (naming `--again`), and `--again` imports it anew. A
//! file whose records all carry ids imports again without a flag.
//!
//! Every test runs on SQLite and on a fresh PostgreSQL database of the
//! server `ARKIV_TEST_POSTGRES_URL` names (skipped without it, except under
//! `CI=true`), through the real `arkiv` binary but for the last, which
//! holds the store to its part: a note commits with its batch or not at all.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Records of the generated file, none with an id.
const RECORDS: u64 = 4000;
/// Records per batch: forty batches, so that a kill after the first commit
/// lands well inside the import.
const BATCH: u64 = 100;
/// `arkiv import`'s exit status when it refuses a file (nothing written).
const REFUSED: i32 = 4;

#[derive(Clone, Copy, Debug)]
enum Db {
    Sqlite,
    Postgres,
}

#[test]
fn a_killed_import_is_refused_then_resumed_and_every_record_lands_once_sqlite() {
    a_killed_import_is_refused_then_resumed_and_every_record_lands_once(Db::Sqlite);
}

#[test]
fn a_killed_import_is_refused_then_resumed_and_every_record_lands_once_postgres() {
    a_killed_import_is_refused_then_resumed_and_every_record_lands_once(Db::Postgres);
}

#[test]
fn files_whose_records_all_carry_ids_import_again_without_a_flag_sqlite() {
    files_whose_records_all_carry_ids_import_again_without_a_flag(Db::Sqlite);
}

#[test]
fn files_whose_records_all_carry_ids_import_again_without_a_flag_postgres() {
    files_whose_records_all_carry_ids_import_again_without_a_flag(Db::Postgres);
}

#[test]
fn an_import_note_commits_with_its_batch_or_not_at_all_sqlite() {
    an_import_note_commits_with_its_batch_or_not_at_all(Db::Sqlite);
}

#[test]
fn an_import_note_commits_with_its_batch_or_not_at_all_postgres() {
    an_import_note_commits_with_its_batch_or_not_at_all(Db::Postgres);
}

fn a_killed_import_is_refused_then_resumed_and_every_record_lands_once(db: Db) {
    let tmp = tempfile::tempdir().unwrap();
    let Some(repo) = Repo::new(db, tmp.path(), "repo") else { return };
    let export = tmp.path().join("gen.xml");
    let out = arkiv(tmp.path(), &["generate", "--count", &RECORDS.to_string(), "--seed", "9", "-o", path(&export)]);
    assert!(out.status.success(), "{}", stderr(&out));
    // What the file holds, by title: what one whole import of it gives.
    let Some(reference) = Repo::new(Db::Sqlite, tmp.path(), "reference") else { return };
    assert_eq!(import_counts(&reference.import(&[path(&export)])), (RECORDS, 0));
    let expected = titles(&reference.dir);
    assert_eq!(expected.values().sum::<u64>(), RECORDS);

    // Killed (SIGKILL) as soon as it says a batch is committed.
    let stored = repo.import_killed_after_the_first_commit(&export);
    assert!(
        (BATCH..RECORDS).contains(&stored) && stored.is_multiple_of(BATCH),
        "{db:?}: {stored} records stored after the kill"
    );

    // Run again plainly: refused, nothing written, and told how to go on.
    let out = repo.import(&[path(&export)]);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(REFUSED), "{db:?}: {said}{}", stdout(&out));
    for what in ["gen.xml", "did not finish", &format!("committed {stored} records"), "--resume", "--again"] {
        assert!(said.contains(what), "{db:?}: the refusal does not say {what:?}: {said}");
    }
    assert_eq!(titles(&repo.dir).values().sum::<u64>(), stored, "{db:?}: the refused run wrote records");

    // A copy under another name is the same file: refused too.
    std::fs::create_dir(tmp.path().join("moved")).unwrap();
    let moved = tmp.path().join("moved/renamed.xml");
    std::fs::copy(&export, &moved).unwrap();
    let out = repo.import(&[path(&moved)]);
    assert_eq!(out.status.code(), Some(REFUSED), "{db:?}: a renamed copy: {}", stderr(&out));
    assert!(stderr(&out).contains("--resume"), "{db:?}: {}", stderr(&out));
    assert_eq!(titles(&repo.dir).values().sum::<u64>(), stored, "{db:?}: the refused copy wrote records");

    // --resume: the rest, and each record of the file is there once.
    let out = repo.import(&["--resume", path(&export)]);
    assert!(out.status.success(), "{db:?}: --resume failed: {}{}", stderr(&out), stdout(&out));
    assert_eq!(import_counts(&out), (RECORDS - stored, 0), "{db:?}: {}", stdout(&out));
    assert!(
        stdout(&out).contains(&format!("{stored} records skipped")),
        "{db:?}: the report does not say {stored} records were skipped: {}",
        stdout(&out)
    );
    assert_eq!(titles(&repo.dir), expected, "{db:?}: after --resume, the repository is not the file once");

    // Finished: run again plainly, refused, naming --again.
    let out = repo.import(&[path(&export)]);
    let said = stderr(&out);
    assert_eq!(out.status.code(), Some(REFUSED), "{db:?}: a finished file ran again: {said}{}", stdout(&out));
    assert!(said.contains("imported already") && said.contains("--again"), "{db:?}: {said}");
    assert_eq!(titles(&repo.dir), expected, "{db:?}: the refused run wrote records");

    // --again: the whole file anew, every record a second time.
    let out = repo.import(&["--again", path(&export)]);
    assert!(out.status.success(), "{db:?}: --again failed: {}", stderr(&out));
    assert_eq!(import_counts(&out), (RECORDS, 0), "{db:?}: {}", stdout(&out));
    let twice: BTreeMap<String, u64> = expected.iter().map(|(t, n)| (t.clone(), 2 * n)).collect();
    assert_eq!(titles(&repo.dir), twice, "{db:?}: after --again");
}

fn files_whose_records_all_carry_ids_import_again_without_a_flag(db: Db) {
    let tmp = tempfile::tempdir().unwrap();
    let Some(repo) = Repo::new(db, tmp.path(), "repo") else { return };
    let seed = seed_xml();
    let out = repo.import(&[path(&seed)]);
    assert_eq!(import_counts(&out), (1, 0), "{db:?}: {}", stderr(&out));
    // Not refused: the record is rejected as existing, as ever...
    let out = repo.import(&[path(&seed)]);
    assert_eq!(out.status.code(), Some(2), "{db:?}: {}{}", stderr(&out), stdout(&out));
    assert!(stdout(&out).contains("already exists"), "{db:?}: {}", stdout(&out));
    // ...and with --update it becomes a new revision.
    let out = repo.import(&["--update", path(&seed)]);
    assert!(out.status.success(), "{db:?}: --update again: {}{}", stderr(&out), stdout(&out));
    assert_eq!(import_counts(&out), (1, 0), "{db:?}");
    assert_eq!(titles(&repo.dir).values().sum::<u64>(), 1, "{db:?}");
}

fn an_import_note_commits_with_its_batch_or_not_at_all(db: Db) {
    use arkiv_model::{Record, Status, Timestamp};
    use arkiv_storage::{ImportNote, RecordWrite, StoreError};
    let tmp = tempfile::tempdir().unwrap();
    let Some(repo) = Repo::new(db, tmp.path(), "repo") else { return };
    let url = match &repo.postgres {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", repo.dir.join("arkiv.db").display()),
    };
    let record = |title: &str| Record {
        title: title.into(),
        item_type: "article".into(),
        status: Status::Archive,
        ..Record::default()
    };
    let note = |position: u64, records: u64| ImportNote {
        sha256: "ab".repeat(32),
        file_name: "export.xml".into(),
        position,
        records,
        new_ids: records,
        started_at: Timestamp(1_700_000_000),
        updated_at: Timestamp(1_700_000_000 + position as i64),
        finished: false,
    };
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = arkiv_storage::open_store(&url).await.unwrap();
        let ids = store.put_records_noted(vec![RecordWrite::new(record("one"), "import")], Some(note(1, 1))).await;
        let existing = ids.unwrap()[0];
        assert_eq!(store.import_progress(&"ab".repeat(32)).await.unwrap(), Some(note(1, 1)), "{db:?}");

        // A batch the database refuses (a stale revision) takes its note
        // with it: the import stands where its last commit left it.
        let stale = RecordWrite {
            expected_revision: Some(7),
            ..RecordWrite::new(store.get_record(existing).await.unwrap().unwrap(), "import")
        };
        let refused = store
            .put_records_noted(vec![RecordWrite::new(record("two"), "import"), stale], Some(note(3, 2)))
            .await
            .expect_err("the batch has a conflict");
        assert!(matches!(refused, StoreError::Conflict { .. }), "{db:?}: {refused:?}");
        assert_eq!(store.import_progress(&"ab".repeat(32)).await.unwrap(), Some(note(1, 1)), "{db:?}");
        assert_eq!(store.max_record_id().await.unwrap(), existing, "{db:?}: the refused batch wrote a record");

        // The next batch moves it on, with its records.
        let ids = store.put_records_noted(vec![RecordWrite::new(record("two"), "import")], Some(note(3, 2))).await;
        assert!(store.get_record(ids.unwrap()[0]).await.unwrap().is_some());
        assert_eq!(store.import_progress(&"ab".repeat(32)).await.unwrap(), Some(note(3, 2)), "{db:?}");
    });
}

/// A repository for one test, on one backend, with batches of [`BATCH`]
/// records.
struct Repo {
    dir: PathBuf,
    postgres: Option<TestDatabase>,
}

impl Repo {
    /// `None` (after saying why) for PostgreSQL without a server to test on.
    fn new(db: Db, parent: &Path, name: &str) -> Option<Repo> {
        let dir = parent.join(name);
        let postgres = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(TestDatabase::create()?),
        };
        let mut init = Command::new(env!("CARGO_BIN_EXE_arkiv"));
        init.arg("init").arg(&dir);
        if let Some(db) = &postgres {
            init.args(["--database", &db.url]);
        }
        let out = init.output().unwrap();
        assert!(out.status.success(), "init failed: {}", stderr(&out));
        let config = dir.join("arkiv.toml");
        let text =
            std::fs::read_to_string(&config).unwrap().replace("batch_size = 10000", &format!("batch_size = {BATCH}"));
        assert!(text.contains(&format!("batch_size = {BATCH}\n")), "the batch size is set");
        std::fs::write(&config, text).unwrap();
        Some(Repo { dir, postgres })
    }

    fn import(&self, args: &[&str]) -> Output {
        arkiv(&self.dir, &[&["import", "eprints-xml"], args].concat())
    }

    /// Starts an import of `file`, kills it with SIGKILL as soon as it
    /// reports its first committed batch, and returns how many records the
    /// repository then holds.
    fn import_killed_after_the_first_commit(&self, file: &Path) -> u64 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_arkiv"))
            .args(["--repo", path(&self.dir), "import", "eprints-xml", path(file)])
            .env("ARKIV_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let mut said = Vec::new();
        loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) if line.starts_with("committed: ") => break,
                Ok(line) => said.push(line),
                Err(e) => panic!("no batch reported committed ({e:?}): {said:?}"),
            }
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        reader.join().unwrap();
        assert!(!status.success(), "the import had finished before the kill");
        titles(&self.dir).values().sum()
    }
}

/// The repository's records by title, each with how many records have it.
fn titles(repo: &Path) -> BTreeMap<String, u64> {
    let out = arkiv(repo, &["export", "jsonl"]);
    assert!(out.status.success(), "export: {}", stderr(&out));
    let mut titles = BTreeMap::new();
    for line in stdout(&out).lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        *titles.entry(record["title"].as_str().unwrap().to_string()).or_insert(0) += 1;
    }
    titles
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}
