//! Usage statistics as COUNTER Release 5.1 counts them: what the site
//! notes of each view and download ([`UsageRecorder`]), and the roll-up
//! that turns those notes into the figures pages and reports show
//! ([`roll_up`], run every few minutes by [`run_statistics`]).
//!
//! The request path never waits for statistics. A page or download hands
//! its [`Visit`] to [`UsageRecorder::note`], which drops robots (the
//! official COUNTER list, compiled once) and puts the rest on a bounded
//! queue; when the queue is full the visit is dropped and counted as
//! dropped (shown on `/admin`). One task per process writes the queue in
//! batches. Before a visit is written, who made it (their account, else
//! their address and user agent) becomes a 64-bit keyed hash under the
//! day's key, which every node reads from the database and which is
//! deleted once its day is counted: no address or user agent is stored,
//! and after that day no hash can be tied to one.
//!
//! Counting (double clicks, unique items per session, ranges) is the
//! model's (`arkiv_model::usage`); the roll-up's exactness across nodes is
//! the store's (`arkiv_storage::usage`).
//!
//! Views by the record's depositor and by staff count like anyone's: the
//! Code of Practice counts every user's genuine use and names no such
//! exception, and figures that left them out could not be compared with
//! another platform's. The double-click and session rules keep a depositor
//! reloading their own page from counting more than once a session.

use crate::Repository;
use arkiv_model::usage::{day_of, ClickWindow, UsageEvent, UsageKind};
use arkiv_model::{RecordId, Timestamp};
use arkiv_storage::{RecordStore, RollUp};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The COUNTER robots list (github.com/atmire/COUNTER-Robots, MIT
/// licence), as `../shared/counter/COUNTER_Robots_list.json` has it.
const ROBOTS_JSON: &str = include_str!("../data/COUNTER_Robots_list.json");

/// Every pattern of the list as one case-insensitive automaton: one pass
/// over a user agent, whatever the list's length.
static ROBOTS: LazyLock<regex::Regex> = LazyLock::new(|| {
    #[derive(serde::Deserialize)]
    struct Entry {
        pattern: String,
    }
    let entries: Vec<Entry> = serde_json::from_str(ROBOTS_JSON).expect("the built-in robots list is JSON");
    let alternation: Vec<String> = entries.iter().map(|e| format!("(?:{})", e.pattern)).collect();
    regex::RegexBuilder::new(&alternation.join("|"))
        .case_insensitive(true)
        .size_limit(64 << 20)
        .build()
        .expect("the built-in robots list compiles")
});

/// Whether a user agent is a robot or crawler by the COUNTER list (an
/// empty or one-character agent is one: the list says so).
pub fn is_robot(user_agent: &str) -> bool {
    // Remembered per thread: a site sees the same few hundred agents again
    // and again, and a map look-up is cheaper than the automaton. Bounded:
    // cleared when full.
    thread_local! {
        static SEEN: std::cell::RefCell<std::collections::HashMap<String, bool>> = Default::default();
    }
    const REMEMBERED: usize = 4096;
    const MAX_REMEMBERED_AGENT: usize = 512;
    SEEN.with(|seen| {
        if let Some(&robot) = seen.borrow().get(user_agent) {
            return robot;
        }
        let robot = ROBOTS.is_match(user_agent);
        // Browsers' agents are short; a long one (a stranger's junk) is
        // matched each time rather than kept: at most 4096 × 512 bytes a
        // thread.
        if user_agent.len() <= MAX_REMEMBERED_AGENT {
            let mut seen = seen.borrow_mut();
            if seen.len() >= REMEMBERED {
                seen.clear();
            }
            seen.insert(user_agent.to_string(), robot);
        }
        robot
    })
}

/// How long after an hour ends its events are counted: time for every
/// node's queue to reach the database.
pub const SETTLE_SECONDS: i64 = 120;

/// How often [`run_statistics`] rolls up.
pub const ROLL_UP_EVERY: Duration = Duration::from_secs(300);

/// Visits written per batch at most.
const BATCH: usize = 2000;

/// How often the writer writes what has settled (and the longest a visit
/// waits after its double-click window).
const WRITE_EVERY: Duration = Duration::from_millis(500);

/// How long the writer lets visits gather between wake-ups when the queue
/// is not full: at 50,000 visits a second, 2,500 wait, well within the
/// queue (`[statistics] queue`, 65,536 by default).
const GATHER: Duration = Duration::from_millis(50);

/// Who made a visit, before it is hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visitor {
    /// A logged-in user (COUNTER's most reliable identity, §7.2 option 4).
    Account(i64),
    /// Anyone else: address and user agent (§7.2 option 1).
    Address(IpAddr, String),
}

/// A view or download the site served, as its handler reports it.
#[derive(Debug, Clone)]
pub struct Visit {
    pub record_id: RecordId,
    /// 0 for the abstract page, else `arkiv_model::usage::file_target`.
    pub target: i64,
    pub kind: UsageKind,
    /// Access_Type: Open (true) or Controlled.
    pub open: bool,
    pub visitor: Visitor,
    pub user_agent: String,
}

enum Message {
    Visit(i64, Visit),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// What this process has noted (the admin page shows it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RecorderCounts {
    pub written: u64,
    /// Double clicks merged into the click that replaced them before
    /// anything was written (they would not count anyway).
    pub merged: u64,
    pub robots: u64,
    pub dropped: u64,
}

/// The queue between the site and the database (see the module docs).
pub struct UsageRecorder {
    store: Arc<dyn RecordStore>,
    enabled: bool,
    capacity: usize,
    queue: OnceLock<mpsc::Sender<Message>>,
    written: Arc<AtomicU64>,
    merged: Arc<AtomicU64>,
    robots: AtomicU64,
    dropped: Arc<AtomicU64>,
}

impl UsageRecorder {
    pub fn new(store: Arc<dyn RecordStore>, settings: &crate::config::StatisticsSettings) -> Self {
        UsageRecorder {
            store,
            enabled: settings.enabled,
            capacity: settings.queue.max(1),
            queue: OnceLock::new(),
            written: Arc::default(),
            merged: Arc::default(),
            robots: AtomicU64::new(0),
            dropped: Arc::default(),
        }
    }

    /// The queue, its writer started on first use (on the caller's
    /// runtime: the server's).
    fn queue(&self) -> &mpsc::Sender<Message> {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(self.capacity);
            let counters =
                Counters { written: self.written.clone(), merged: self.merged.clone(), dropped: self.dropped.clone() };
            tokio::spawn(write_visits(self.store.clone(), rx, counters));
            tx
        })
    }

    /// Notes a visit at `at` (Unix seconds). Never waits: a robot is left
    /// out, and a visit that finds the queue full is dropped and counted.
    pub fn note(&self, at: Timestamp, visit: Visit) {
        if !self.enabled {
            return;
        }
        if is_robot(&visit.user_agent) {
            self.robots.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self.queue().try_send(Message::Visit(at.0, visit)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until every visit noted before the call is written (or
    /// dropped): at shutdown, and in tests before a roll-up.
    pub async fn flush(&self) {
        let Some(queue) = self.queue.get() else { return };
        let (tx, rx) = oneshot::channel();
        if queue.send(Message::Flush(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    pub fn counts(&self) -> RecorderCounts {
        RecorderCounts {
            written: self.written.load(Ordering::Relaxed),
            merged: self.merged.load(Ordering::Relaxed),
            robots: self.robots.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// What the writer counts, shared with the recorder.
struct Counters {
    written: Arc<AtomicU64>,
    merged: Arc<AtomicU64>,
    dropped: Arc<AtomicU64>,
}

/// The writer: takes what is queued (up to [`BATCH`]), hashes the
/// visitors, holds them for the double-click window (`ClickWindow`), and
/// writes what has settled, in one batch.
async fn write_visits(store: Arc<dyn RecordStore>, mut rx: mpsc::Receiver<Message>, counters: Counters) {
    let Counters { written, merged, dropped } = counters;
    let mut keys = DayKeys::default();
    let mut window = ClickWindow::default();
    let mut latest = 0;
    let mut messages = Vec::with_capacity(BATCH);
    let mut last_write = std::time::Instant::now();
    loop {
        // A second without visits still lets the settled ones go.
        let received = tokio::time::timeout(Duration::from_secs(1), rx.recv_many(&mut messages, BATCH)).await;
        let closed = matches!(received, Ok(0));
        // A busy site's visits are taken in bulk: unless the queue gave a
        // full batch, the writer waits a moment for more before it wakes
        // again, instead of being woken (a thread switch) for every visit.
        let pause =
            matches!(received, Ok(n) if n > 0 && n < BATCH) && !messages.iter().any(|m| matches!(m, Message::Flush(_)));
        let mut flushes = Vec::new();
        for message in messages.drain(..) {
            match message {
                Message::Visit(at, visit) => match keys.key(&*store, day_of(at)).await {
                    Ok(key) => {
                        latest = latest.max(at);
                        window.push(UsageEvent {
                            at,
                            record_id: visit.record_id,
                            target: visit.target,
                            kind: visit.kind,
                            open: visit.open,
                            visitor: visitor_hash(&key, &visit.visitor),
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the day's statistics key could not be read; a visit is dropped");
                        dropped.fetch_add(1, Ordering::Relaxed);
                    }
                },
                Message::Flush(done) => flushes.push(done),
            }
        }
        // Writes go out at most every WRITE_EVERY, so that a busy site
        // writes a few large batches a second rather than one per wake-up.
        if closed || !flushes.is_empty() || last_write.elapsed() >= WRITE_EVERY {
            last_write = std::time::Instant::now();
            let events = if closed || !flushes.is_empty() {
                window.all()
            } else {
                window.settled(latest.max(Timestamp::now().0))
            };
            if !events.is_empty() {
                match store.add_usage_events(&events).await {
                    Ok(()) => {
                        written.fetch_add(events.len() as u64, Ordering::Relaxed);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, visits = events.len(), "visits could not be written; dropped");
                        dropped.fetch_add(events.len() as u64, Ordering::Relaxed);
                    }
                }
            }
            merged.store(window.merged, Ordering::Relaxed);
        }
        for done in flushes {
            let _ = done.send(());
        }
        if closed {
            return;
        }
        if pause {
            tokio::time::sleep(GATHER).await;
        }
    }
}

/// The day's key, read once per day per process.
#[derive(Default)]
struct DayKeys {
    current: Option<(i64, String)>,
}

impl DayKeys {
    async fn key(&mut self, store: &dyn RecordStore, day: i64) -> arkiv_storage::Result<String> {
        if let Some((d, key)) = &self.current {
            if *d == day {
                return Ok(key.clone());
            }
        }
        let fresh = crate::accounts::tokens::random_token();
        let key = store.usage_key(day, &fresh).await?;
        // Keep the newest day: a late visit of yesterday does not evict today.
        if self.current.as_ref().is_none_or(|(d, _)| *d < day) {
            self.current = Some((day, key.clone()));
        }
        Ok(key)
    }
}

/// The keyed hash of a visitor: the first 8 bytes of SHA-256 over the key
/// and the identity, as a signed integer.
pub fn visitor_hash(key: &str, visitor: &Visitor) -> i64 {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    match visitor {
        Visitor::Account(id) => {
            h.update(b"\0account\0");
            h.update(id.to_le_bytes());
        }
        Visitor::Address(ip, agent) => {
            h.update(b"\0address\0");
            h.update(ip.to_string().as_bytes());
            h.update(b"\0");
            h.update(agent.as_bytes());
        }
    }
    let digest = h.finalize();
    i64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Counts every whole hour that ended at least [`SETTLE_SECONDS`] ago,
/// then deletes counted events older than `[statistics] keep_events_days`
/// and the keys of days before yesterday.
pub async fn roll_up(repo: &Repository) -> anyhow::Result<RollUp> {
    let now = repo.now().0;
    let until = (now - SETTLE_SECONDS).div_euclid(3600) * 3600;
    let done = repo.store.roll_up_usage(until).await?;
    let keep = i64::from(repo.config.statistics.keep_events_days) * 86_400;
    repo.store.purge_usage(until - keep, day_of(now) - 1).await?;
    Ok(done)
}

/// Rolls up at once and then every [`ROLL_UP_EVERY`], until dropped.
pub async fn run_statistics(repo: Arc<Repository>) {
    if !repo.config.statistics.enabled {
        return;
    }
    let mut every = tokio::time::interval(ROLL_UP_EVERY);
    let mut dropped_before = 0;
    loop {
        every.tick().await;
        let dropped = repo.usage.counts().dropped;
        if dropped > dropped_before {
            tracing::warn!(
                dropped = dropped - dropped_before,
                "visits were dropped from the statistics: the queue to the database was full ([statistics] queue)"
            );
            dropped_before = dropped;
        }
        // One node rolls up for all (`leases`); the others skip their turn.
        let Some(done) =
            crate::leases::run_leased(&repo, crate::leases::STATISTICS, ROLL_UP_EVERY * 2, roll_up(&repo)).await
        else {
            continue;
        };
        match done {
            Ok(done) if done.events > 0 => {
                tracing::info!(events = done.events, hours = done.hours, items = done.items, "usage rolled up")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "usage could not be rolled up"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_by_the_official_list() {
        for robot in [
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
            "curl/8.5.0",
            "python-requests/2.31.0",
            "Wget/1.21",
            "",
            "-",
            "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
        ] {
            assert!(is_robot(robot), "{robot:?} is a robot");
        }
        for person in [
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        ] {
            assert!(!is_robot(person), "{person:?} is a person");
        }
    }

    #[test]
    fn visitors_hash_apart_and_by_key() {
        let a = Visitor::Address("192.0.2.1".parse().unwrap(), "Firefox".into());
        let b = Visitor::Address("192.0.2.1".parse().unwrap(), "Safari".into());
        assert_ne!(visitor_hash("k", &a), visitor_hash("k", &b));
        assert_ne!(visitor_hash("k", &a), visitor_hash("other day", &a));
        assert_eq!(visitor_hash("k", &a), visitor_hash("k", &a.clone()));
    }
}
