//! The statistics never make a page wait: a visit that finds the queue to
//! the database full is dropped and counted as dropped, at once, and the
//! visits that were queued are all written.

use arkiv_model::usage::UsageKind;
use arkiv_model::Timestamp;
use arkiv_services::config::StatisticsSettings;
use arkiv_services::usage::{Visit, Visitor};
use arkiv_services::{Config, Repository};

fn visit(i: u8) -> Visit {
    Visit {
        record_id: 1,
        target: 0,
        kind: UsageKind::Page,
        open: true,
        visitor: Visitor::Address(std::net::IpAddr::from([192, 0, 2, i]), "Firefox".into()),
        user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0".into(),
    }
}

// One thread: the writer cannot run while the loop below notes visits, so
// the queue is full after ten of them, as under a burst on a busy server.
#[tokio::test(flavor = "current_thread")]
async fn a_full_queue_drops_and_counts_and_never_waits() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config { statistics: StatisticsSettings { queue: 10, ..Default::default() }, ..Config::default() };
    let repo = Repository::init(dir.path(), config).await.unwrap();
    let at = Timestamp::parse("2026-12-07 10:00:00").unwrap();
    for i in 0..250u8 {
        repo.usage.note(at, visit(i));
    }
    let counts = repo.usage.counts();
    assert_eq!((counts.written, counts.dropped), (0, 240), "{counts:?}");
    repo.usage.flush().await;
    let counts = repo.usage.counts();
    assert_eq!((counts.written, counts.dropped), (10, 240), "{counts:?}");
}

/// The robots list built into the binary is the official one in
/// ../shared/counter: a newer list there fails this test until the copy in
/// `crates/arkiv-services/data/` is replaced.
#[test]
fn the_built_in_robots_list_is_the_official_one() {
    let Some(shared) = arkiv_testkit::shared_dir() else { return };
    let official = std::fs::read_to_string(shared.join("counter/COUNTER_Robots_list.json")).unwrap();
    let ours = include_str!("../data/COUNTER_Robots_list.json");
    assert!(official == ours, "crates/arkiv-services/data/COUNTER_Robots_list.json differs from ../shared's");
    // Every pattern of it is applied: each one's own example would be a
    // robot (spot-checked on patterns without anchors or classes).
    let entries: Vec<serde_json::Value> = serde_json::from_str(ours).unwrap();
    let mut checked = 0;
    for e in &entries {
        let p = e["pattern"].as_str().unwrap();
        if p.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-') && p.len() > 3 {
            let agent = format!("Mozilla/5.0 (compatible; {p}/1.0)");
            assert!(arkiv_services::usage::is_robot(&agent), "{agent:?} is not taken for a robot");
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} patterns checked");
}
