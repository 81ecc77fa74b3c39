//! The statistics' storage benchmark: writes N usage events (default
//! 10,000,000) spread over 30 days and 1,000,000 items into a fresh store,
//! rolls them all up, and prints what it took and what it keeps: events
//! written per second, the roll-up's events per second, bytes on disk per
//! event before the events are purged, and per item-day after.
//!
//!   cargo run --release -p arkiv-storage --example bench_usage -- [EVENTS] [DATABASE_URL]
//!
//! Without a URL, a SQLite file in a temporary directory. The events are
//! deterministic (a fixed linear congruential stream): popular items get
//! most views, as in a real repository; 70 % page views, 25 % downloads,
//! 5 % range requests; one visitor in 200,000 per event.

use arkiv_model::usage::{file_target, UsageEvent, UsageKind};
use arkiv_storage::open_stores;
use std::time::Instant;

const ITEMS: i64 = 1_000_000;
const DAYS: i64 = 30;
const VISITORS: u64 = 200_000;
const BATCH: usize = 2000;

struct Stream(u64);

impl Stream {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 17
    }
}

fn peak_rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

fn anon_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb / 1024)
        .unwrap_or(0)
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map(|d| d.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum()).unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let events: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000_000);
    let tmp = tempfile::tempdir().unwrap();
    let url = args.get(2).cloned().unwrap_or_else(|| format!("sqlite://{}", tmp.path().join("arkiv.db").display()));
    let (store, _) = open_stores(&url).await.expect("open the store");
    let sqlite = url.starts_with("sqlite:");
    let empty = if sqlite { dir_bytes(tmp.path()) } else { 0 };

    let start_at = 1_764_547_200; // 2025-12-01 00:00 UTC
    let span = DAYS * 86_400;
    let mut rng = Stream(42);
    let t = Instant::now();
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..events {
        // Time in order (as the server writes them), items skewed towards
        // the popular: the square of a uniform draw.
        let at = start_at + (i as i64 * span) / events as i64;
        let u = (rng.next() % 1_000_000) as f64 / 1_000_000.0;
        let record_id = 1 + ((u * u) * ITEMS as f64) as i64;
        let kind = match rng.next() % 100 {
            0..70 => UsageKind::Page,
            70..95 => UsageKind::Download,
            _ => UsageKind::PartialDownload,
        };
        let target = if kind == UsageKind::Page { 0 } else { file_target(1, "paper.pdf") };
        let visitor = (rng.next() % VISITORS) as i64;
        batch.push(UsageEvent { at, record_id, target, kind, open: !rng.next().is_multiple_of(10), visitor });
        if batch.len() == BATCH {
            store.add_usage_events(&batch).await.unwrap();
            batch.clear();
        }
    }
    store.add_usage_events(&batch).await.unwrap();
    let write_secs = t.elapsed().as_secs_f64();
    let with_events = if sqlite { dir_bytes(tmp.path()) } else { 0 };

    let t = Instant::now();
    let done = store.roll_up_usage(start_at + span).await.unwrap();
    let roll_secs = t.elapsed().as_secs_f64();
    assert_eq!(done.events, events, "every event rolled up");
    let with_aggregates = if sqlite { dir_bytes(tmp.path()) } else { 0 };
    // An Item Report's read for the whole period, as the SUSHI API walks
    // it: a page of 500 items at a time, from the first to the last.
    let (from, to) = (2025 * 12 + 11, 2026 * 12);
    let t = Instant::now();
    let (mut after, mut first_page, mut items, mut rows) = (0, None, 0u64, 0u64);
    loop {
        let page = store.item_usage_page(from, to, after, 500).await.unwrap();
        let Some(last) = page.last() else { break };
        first_page.get_or_insert(t.elapsed());
        after = last.record_id;
        rows += page.len() as u64;
        items += page.iter().map(|r| r.record_id).collect::<std::collections::BTreeSet<_>>().len() as u64;
    }
    let walk = t.elapsed();

    println!("events: {events}");
    println!("items: {ITEMS}, days: {DAYS}, visitors: {VISITORS}");
    println!("write: {:.1} s, {:.0} events/s", write_secs, events as f64 / write_secs);
    println!(
        "roll-up: {:.1} s, {:.0} events/s, {} hours (one transaction each), {} item-months",
        roll_secs,
        events as f64 / roll_secs,
        done.hours,
        done.items
    );
    println!(
        "item report read: first 500 items in {:.1} ms; all {items} items ({rows} item-month-access rows) in {:.1} s",
        first_page.unwrap_or_default().as_secs_f64() * 1000.0,
        walk.as_secs_f64()
    );
    if sqlite {
        let per_event = (with_events - empty) as f64 / events as f64;
        let aggregates = with_aggregates.saturating_sub(with_events) as f64;
        println!("bytes on disk per event (the row and its index, before the roll-up): {per_event:.1}");
        println!(
            "bytes on disk the roll-up added (daily, monthly, yearly rows and indexes): {:.0} MB, {:.1} per item-month-access row",
            aggregates / 1e6,
            aggregates / rows.max(1) as f64
        );
    }
    // VmHWM counts the database pages SQLite read through its memory map
    // (the file cache, not this process's memory); RssAnon is its own.
    println!(
        "peak RSS (with the database's mapped pages): {} MB; own memory at the end (RssAnon): {} MB",
        peak_rss_mb(),
        anon_mb()
    );
}
