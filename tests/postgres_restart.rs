//! PostgreSQL restarted under load (issue 32): a node serving reads and
//! taking writes through the REST API while its database server is
//! stopped and started again. The pool recovers by itself (no restart of
//! the node), no acknowledged write is lost, and requests fail only while
//! the database is down.
//!
//! The test runs a PostgreSQL cluster of its own (`scripts/postgres.sh` on
//! a free port and a directory of its own): restarting the suite's shared
//! server would break the tests running beside it. Skipped where the
//! suite's PostgreSQL is not configured (`ARKIV_TEST_POSTGRES_URL`), failed
//! under `CI=true`.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A PostgreSQL cluster of this test's own, stopped and removed when
/// dropped.
struct OwnCluster {
    port: u16,
    dir: PathBuf,
}

impl OwnCluster {
    fn script(&self, args: &[&str]) -> Output {
        Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres.sh"))
            .args(args)
            .env("ARKIV_PG_PORT", self.port.to_string())
            .env("ARKIV_PG_DIR", &self.dir)
            .output()
            .expect("scripts/postgres.sh runs")
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let _ = self.script(&["stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_postgres_restart_under_load_loses_no_acknowledged_write() {
    if arkiv_testkit::postgres::server_url().is_none() {
        return;
    }
    let cluster = OwnCluster { port: free_port(), dir: format!("/tmp/arkiv-pg-restart-{}", std::process::id()).into() };
    let started = cluster.script(&[]);
    assert!(started.status.success(), "postgres.sh: {}", stderr(&started));
    let url = stdout(&started).lines().last().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let init = Command::new(env!("CARGO_BIN_EXE_arkiv"))
        .args(["init", repo.to_str().unwrap(), "--database", &url])
        .output()
        .unwrap();
    assert!(init.status.success(), "init: {}", stderr(&init));
    // The load is one token's: lift the API's rate limit, so that what
    // fails is the database's doing.
    let config = repo.join("arkiv.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("requests_per_minute = 600"), "{text}");
    std::fs::write(&config, text.replace("requests_per_minute = 600", "requests_per_minute = 1000000")).unwrap();
    let token = admin_token(&repo, "read,deposit");
    let node = serve(&repo);
    let addr = node.addr;

    let stop = Arc::new(AtomicBool::new(false));
    // (sent, answered, whether it went through) of every write and read.
    let outcomes = Arc::new(Mutex::new(Vec::<(Duration, Duration, bool)>::new()));
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let t0 = Instant::now();
    let workers: Vec<_> = (0..3)
        .map(|w| {
            let (stop, outcomes, acknowledged, token) =
                (stop.clone(), outcomes.clone(), acknowledged.clone(), token.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let sent = t0.elapsed();
                    let ok = if w == 0 {
                        let id = post_draft(addr, &token, &format!("Restart {n}")).ok().and_then(|r| r.created_id());
                        acknowledged.lock().unwrap().extend(id);
                        id.is_some()
                    } else {
                        http(addr, "GET", "/api/me", &[("Authorization", &token)], "").is_ok_and(|r| r.status == 200)
                    };
                    outcomes.lock().unwrap().push((sent, t0.elapsed(), ok));
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_secs(2));
    let down_at = t0.elapsed();
    let stopped = cluster.script(&["stop"]);
    assert!(stopped.status.success(), "stop: {}", stderr(&stopped));
    std::thread::sleep(Duration::from_secs(2));
    let restarted = cluster.script(&[]);
    assert!(restarted.status.success(), "start: {}", stderr(&restarted));
    let up_at = t0.elapsed();
    std::thread::sleep(Duration::from_secs(5));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let outcomes = outcomes.lock().unwrap().clone();
    let acknowledged = acknowledged.lock().unwrap().clone();
    let before = outcomes.iter().filter(|(sent, _, _)| *sent < down_at).count();
    let failed_before = outcomes.iter().filter(|(sent, _, ok)| *sent < down_at && !ok).count();
    // Sent while the database was down: each waits for a connection (the
    // pool's acquire timeout is 30 s) and is answered once it is back, or
    // fails.
    let while_down: Vec<_> = outcomes.iter().filter(|(sent, _, _)| *sent >= down_at && *sent < up_at).collect();
    let waited = while_down.iter().filter(|(_, answered, ok)| *ok && *answered >= up_at).count();
    let failed_while_down = while_down.iter().filter(|(_, _, ok)| !ok).count();
    // The pool's first attempts after the restart may still meet a dead
    // connection; within two seconds every request goes through again.
    let settle = up_at + Duration::from_secs(2);
    let failed_after: Vec<_> = outcomes.iter().filter(|(sent, _, ok)| *sent >= settle && !ok).collect();
    let after = outcomes.iter().filter(|(sent, _, _)| *sent >= settle).count();
    let slowest = outcomes.iter().map(|(sent, answered, _)| *answered - *sent).max().unwrap_or_default();
    eprintln!(
        "database down from {down_at:?} to {up_at:?}: {before} requests before ({failed_before} failed); {} sent \
         while down, {waited} of them answered once it was back, {failed_while_down} failed; {after} after it \
         settled ({} failed); the slowest answer {slowest:?}; {} writes acknowledged",
        while_down.len(),
        failed_after.len(),
        acknowledged.len()
    );
    assert_eq!(failed_before, 0);
    // (Those sent before the stop had taken effect were answered at once.)
    assert!(waited + failed_while_down > 0, "the outage was met, else this test tests nothing");
    assert!(after > 20, "requests went on after the restart: {after}");
    assert!(failed_after.is_empty(), "the pool recovered without a restart of the node: {failed_after:?}");
    assert!(acknowledged.len() > 20, "{}", acknowledged.len());

    assert_eq!(
        stored_records(&url, &acknowledged),
        acknowledged.len(),
        "every acknowledged write survived the restart"
    );
    drop(node);
}
