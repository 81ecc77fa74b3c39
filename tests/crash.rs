//! Crash safety: an import killed with SIGKILL part-way through loses no
//! record it reported as committed, leaves no half-written record, and the
//! repository takes the next import as if nothing had happened.
//!
//! Where each kill lands comes from a seed, different on every run so that,
//! over many CI runs, every phase of a batch gets hit, and printed so that a
//! failure can be replayed: `ARKIV_CRASH_SEED=N cargo test --test crash`. A
//! kill point is counted in the import's own progress (so many batches
//! reported committed, then a fraction of the next batch's time), not in
//! milliseconds from the start: it lands inside the import however fast or
//! loaded the machine is, and a replay hits the same batch.

mod common;
use common::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const RECORDS: u64 = 20_000;
const BATCH: u64 = 250;
const ROUNDS: u64 = 5;
const MORE: u64 = 3 * BATCH + 50;

#[test]
fn kill_9_during_an_import_loses_nothing_reported_done() {
    let seed = match std::env::var("ARKIV_CRASH_SEED") {
        Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("ARKIV_CRASH_SEED={s:?} is not a whole number")),
        Err(_) => {
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
            now.as_secs() ^ u64::from(now.subsec_nanos())
        }
    };
    eprintln!("crash seed: {seed}; replay with ARKIV_CRASH_SEED={seed}");
    let replay = format!("replay with ARKIV_CRASH_SEED={seed}");
    let mut rng = seed;

    let tmp = tempfile::tempdir().unwrap();
    let scratch = init_repo(&tmp.path().join("scratch"));
    let export = tmp.path().join("gen.xml");
    let out =
        arkiv(&scratch, &["generate", "--count", &RECORDS.to_string(), "--seed", "3", "-o", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // What is imported after each kill: a few batches and a part of one,
    // so that the store has to take new batches on top of the crashed one.
    let more = tmp.path().join("more.xml");
    let out = arkiv(&scratch, &["generate", "--count", &MORE.to_string(), "--seed", "4", "-o", more.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    for round in 0..ROUNDS {
        // At least two batches in (so that a batch's time can be measured),
        // at most half the import: the rest of it takes far longer than the
        // fraction of a batch waited after the kill point.
        let batches = 2 + next(&mut rng) % (RECORDS / BATCH / 2 - 1);
        let fraction = (next(&mut rng) % 1000) as f64 / 1000.0;

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
        // The "committed" lines, read on a thread, each with when it came.
        let (tx, rx) = mpsc::channel::<(u64, Instant)>();
        let stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // A kill can cut the last line short; what it does say was
                // still printed after the commit.
                let count =
                    line.strip_prefix("committed: ").and_then(|rest| rest.split_whitespace().next()?.parse().ok());
                if let Some(n) = count {
                    let _ = tx.send((n, Instant::now()));
                }
            }
        });

        // Wait for the kill point's batch to be reported...
        let started = Instant::now();
        let deadline = started + Duration::from_secs(300);
        let mut first = None;
        let mut reported = 0;
        let reached = loop {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok((n, at)) => {
                    let (n0, t0) = *first.get_or_insert((n, at));
                    reported = n;
                    if n >= batches * BATCH {
                        // ...and time a batch by the ones reported so far.
                        let timed = (n - n0) / BATCH;
                        let per_batch = if timed > 0 { (at - t0) / timed as u32 } else { at - started };
                        break at + per_batch.mul_f64(fraction);
                    }
                }
                Err(e) => panic!("round {round}: {reported} records reported committed, then {e:?}; {replay}"),
            }
        };
        // Then a fraction of the next batch's time, still reading.
        while let Ok((n, _)) = rx.recv_timeout(reached.saturating_duration_since(Instant::now())) {
            reported = n;
        }
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        reader.join().unwrap();
        while let Ok((n, _)) = rx.try_recv() {
            reported = n;
        }
        assert!(!status.success(), "round {round}: the import had finished before the kill; {replay}");

        let live = stdout(&arkiv(&repo, &["export", "jsonl"]));
        let stored = live.lines().count() as u64;
        assert!(stored >= reported, "round {round}: {reported} reported committed, only {stored} stored; {replay}");
        assert!(
            0 < stored && stored < RECORDS,
            "round {round}: the kill did not land inside the import: {stored} of {RECORDS} records stored; {replay}"
        );
        assert!(
            stored.is_multiple_of(BATCH),
            "round {round}: {stored} records is not a whole number of batches: a batch was half written; {replay}"
        );
        let fsck = arkiv(&repo, &["fsck"]);
        assert!(fsck.status.success(), "round {round}: fsck after kill -9: {}; {replay}", stdout(&fsck));
        // Browse lists hold every live record their counts say (a bulk load
        // the kill cut short was finished when the export opened the store).
        for (value, counted, listed) in browse_by_type(&repo) {
            assert_eq!(listed, counted, "round {round}: type {value}: {counted} counted, {listed} listed; {replay}");
        }
        // Every stored record is whole: it parses, and its title is there.
        for line in live.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["title"].as_str().is_some_and(|t| !t.is_empty()), "round {round}: {line}; {replay}");
        }
        eprintln!(
            "round {round}: killed {fraction} of a batch after batch {batches}; {reported} reported, {stored} stored \
             (bulk load after {bulk_after})"
        );

        // An import after the kill completes beside what survived (the
        // generated records carry no ids, so they are all new records).
        let out = arkiv(&repo, &["import", "eprints-xml", more.to_str().unwrap()]);
        assert_eq!(import_counts(&out), (MORE, 0), "round {round}: import after the kill; {replay}");
        let live = stdout(&arkiv(&repo, &["export", "jsonl"]));
        let ids: HashSet<i64> = live
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["id"].as_i64().unwrap())
            .collect();
        assert_eq!(live.lines().count() as u64, stored + MORE, "round {round}: after the second import; {replay}");
        assert_eq!(ids.len() as u64, stored + MORE, "round {round}: ids given twice; {replay}");
        let fsck = arkiv(&repo, &["fsck"]);
        assert!(fsck.status.success(), "round {round}: fsck after the second import: {}; {replay}", stdout(&fsck));
        for (value, counted, listed) in browse_by_type(&repo) {
            assert_eq!(listed, counted, "round {round}: after the second import, type {value}; {replay}");
        }
    }
}

/// The next number of the test's generator (SplitMix64): the kill points
/// need only be spread and reproducible from the seed.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// For each item type in the browse view: its count and how many records its
/// pages list, read through the store.
fn browse_by_type(repo: &Path) -> Vec<(String, i64, i64)> {
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
