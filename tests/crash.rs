//! Crash safety: an import killed with SIGKILL at arbitrary moments loses no
//! record it reported as committed and leaves no half-written record.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const RECORDS: u64 = 20_000;
const BATCH: u64 = 250;

#[test]
fn kill_9_during_an_import_loses_nothing_reported_done() {
    let tmp = tempfile::tempdir().unwrap();
    let scratch = init_repo(&tmp.path().join("scratch"));
    let export = tmp.path().join("gen.xml");
    let out =
        arkiv(&scratch, &["generate", "--count", &RECORDS.to_string(), "--seed", "3", "-o", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Kill points spread over the import, different on every run of the
    // test so that, over many CI runs, every phase of a batch gets hit.
    let salt = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64;
    for round in 0..5u64 {
        let repo = init_repo(&tmp.path().join(format!("r{round}")));
        let config = repo.join("arkiv.toml");
        // Every other round is a bulk load from its first record (indexes
        // and browse entries deferred; a kill leaves them to the next open).
        let bulk_after = if round % 2 == 0 { 0 } else { RECORDS + 1 };
        let text = std::fs::read_to_string(&config)
            .unwrap()
            .replace("batch_size = 10000", &format!("batch_size = {BATCH}"))
            .replace("bulk_load_after = 0\n", &format!("bulk_load_after = {bulk_after}\n"));
        assert!(text.contains(&format!("batch_size = {BATCH}\n")), "the batch size is set");
        assert!(text.contains(&format!("bulk_load_after = {bulk_after}\n")), "the bulk load is set");
        std::fs::write(&config, text).unwrap();

        let mut child = Command::new(env!("CARGO_BIN_EXE_arkiv"))
            .args(["--repo", repo.to_str().unwrap(), "import", "eprints-xml", export.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read the "committed" lines on a thread; kill after a delay.
        let (tx, rx) = mpsc::channel::<u64>();
        let stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // A kill can cut the last line short; what it does say was
                // still printed after the commit.
                let count =
                    line.strip_prefix("committed: ").and_then(|rest| rest.split_whitespace().next()?.parse().ok());
                if let Some(n) = count {
                    let _ = tx.send(n);
                }
            }
        });
        let delay = Duration::from_millis(150 + (salt.wrapping_mul(round + 7) % 900) + round * 300);
        let started = Instant::now();
        let mut reported = 0;
        while started.elapsed() < delay {
            if let Ok(n) = rx.recv_timeout(Duration::from_millis(5)) {
                reported = n;
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        while let Ok(n) = rx.try_recv() {
            reported = n;
        }

        let live = stdout(&arkiv(&repo, &["export", "jsonl"]));
        let stored = live.lines().count() as u64;
        assert!(stored >= reported, "round {round}: {reported} reported committed, only {stored} stored");
        assert!(
            stored % BATCH == 0 || stored == RECORDS,
            "round {round}: {stored} records is not a whole number of batches: a batch was half written"
        );
        let fsck = arkiv(&repo, &["fsck"]);
        assert!(fsck.status.success(), "round {round}: fsck after kill -9: {}", stdout(&fsck));
        // Browse lists hold every live record their counts say (a bulk load
        // the kill cut short was finished when the export opened the store).
        for (value, counted, listed) in browse_by_type(&repo) {
            assert_eq!(listed, counted, "round {round}: type {value}: {counted} counted, {listed} listed");
        }
        // Every stored record is whole: it parses, and its title is there.
        for line in live.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["title"].as_str().is_some_and(|t| !t.is_empty()));
        }
        eprintln!("round {round}: killed after {delay:?}; {reported} reported, {stored} stored (bulk load after {bulk_after})");
    }
}

/// For each item type in the browse view: its count and how many records its
/// pages list, read through the store.
fn browse_by_type(repo: &std::path::Path) -> Vec<(String, i64, i64)> {
    use arkiv_model::BrowseView;
    let url = format!("sqlite://{}", repo.join("arkiv.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = arkiv_storage::open_store(&url).await.unwrap();
        let mut out = Vec::new();
        for v in store.browse_values(BrowseView::Type, None, 100).await.unwrap() {
            let mut listed = 0;
            let mut cursor = None;
            loop {
                let page = store.browse_page(BrowseView::Type, &v.value, cursor.as_ref(), 1000).await.unwrap();
                listed += page.records.len() as i64;
                cursor = page.next;
                if cursor.is_none() {
                    break;
                }
            }
            out.push((v.value, v.count, listed));
        }
        out
    })
}
