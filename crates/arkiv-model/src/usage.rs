//! Usage as COUNTER Release 5.1 counts it: the rules that turn what the
//! server saw (views of abstract pages, downloads) into the four item
//! metrics of its reports. Pure functions, so that the server, a log
//! import and the tests count alike.
//!
//! The Code of Practice's rules, each where it is applied:
//! - §3.3.2 (Investigations and Requests): an abstract page is an
//!   Investigation; a download of a document is a Request and also an
//!   Investigation of the item.
//! - §7.2 (double-click filtering): clicks on one URL by one user within
//!   30 seconds of the previous one count once (the last is kept), chains
//!   included. [`count_hour`] keeps an event only if the same visitor's next
//!   event on the same target comes more than 30 seconds later.
//! - §7.3 (unique items): Unique_Item_Investigations and
//!   Unique_Item_Requests count an item once per user-session; the session
//!   is the surrogate the Code allows, visitor + date + hour of the day.
//! - A `206` partial download (a PDF viewer fetching ranges) is counted once
//!   per file per user-session, whatever the ranges: the Code names 200 and
//!   304 only, and a reader paging through a PDF is one download.
//! - §7.8 and §7.9 (robots, bulk downloads) are decided before an event is
//!   kept at all, by the user agent (the service's robots list).

use crate::RecordId;
use std::collections::{HashMap, HashSet, VecDeque};

/// Seconds within which a second click on the same URL replaces the first
/// (Code of Practice §7.2).
pub const DOUBLE_CLICK_SECONDS: i64 = 30;

/// What was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UsageKind {
    /// The abstract page: an Investigation.
    Page,
    /// A whole document (200 or 304): a Request.
    Download,
    /// Part of a document (206): a Request, once per file and session.
    PartialDownload,
}

impl UsageKind {
    pub fn code(self) -> i64 {
        match self {
            UsageKind::Page => 1,
            UsageKind::Download => 2,
            UsageKind::PartialDownload => 3,
        }
    }

    pub fn from_code(code: i64) -> Option<UsageKind> {
        Some(match code {
            1 => UsageKind::Page,
            2 => UsageKind::Download,
            3 => UsageKind::PartialDownload,
            _ => return None,
        })
    }

    pub fn is_request(self) -> bool {
        self != UsageKind::Page
    }
}

/// One view or download as kept until the roll-up counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UsageEvent {
    /// Unix seconds.
    pub at: i64,
    pub record_id: RecordId,
    /// 0 for the abstract page; else a hash of the document's position and
    /// file name ([`file_target`]): the URL double clicks are found on.
    pub target: i64,
    pub kind: UsageKind,
    /// COUNTER's Access_Type: Open, else Controlled.
    pub open: bool,
    /// The visitor, as a keyed hash (never an address).
    pub visitor: i64,
}

/// The counts of one item on one day for one Access_Type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ItemCounts {
    pub investigations: i64,
    pub unique_investigations: i64,
    pub requests: i64,
    pub unique_requests: i64,
}

impl ItemCounts {
    pub fn add(&mut self, other: &ItemCounts) {
        self.investigations += other.investigations;
        self.unique_investigations += other.unique_investigations;
        self.requests += other.requests;
        self.unique_requests += other.unique_requests;
    }

    /// Views of the abstract page: Investigations that were not downloads.
    pub fn page_views(&self) -> i64 {
        (self.investigations - self.requests).max(0)
    }
}

/// Where counts go: the item, the UTC day (days since 1970-01-01) and the
/// Access_Type (true: Open).
pub type CountKey = (RecordId, i64, bool);

/// The Access_Type of a view of a record's abstract page: Open when the
/// public may read one of its documents or it has none (the page is then
/// the whole item), else Controlled. One rule for the live site and for
/// the history imports.
pub fn view_is_open(record: &crate::Record, today: crate::PartialDate) -> bool {
    record.documents.is_empty() || record.documents.iter().any(|d| d.is_open_access(today))
}

/// The target of a document's file: a hash of its position and name,
/// never 0 (the abstract page's target).
pub fn file_target(pos: u32, filename: &str) -> i64 {
    // FNV-1a: stable across builds and platforms, which a hash kept in the
    // database must be (std's hasher is randomly keyed per process).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in pos.to_le_bytes().iter().chain(filename.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    ((h >> 1) as i64).max(1)
}

/// A month (`year * 12 + month - 1`, as the aggregates key months) as
/// `yyyy-mm`: SUSHI's month keys and dates, the tables' CSV.
pub fn month_key(month: i64) -> String {
    format!("{:04}-{:02}", month.div_euclid(12), month.rem_euclid(12) + 1)
}

/// The UTC day of a Unix time, as days since 1970-01-01.
pub fn day_of(at: i64) -> i64 {
    at.div_euclid(86_400)
}

/// The month of a day, as `year * 12 + month - 1`.
pub fn month_of_day(day: i64) -> i64 {
    let date = crate::Timestamp(day * 86_400).date();
    i64::from(date.year) * 12 + i64::from(date.month.unwrap_or(1)) - 1
}

/// Counts `events`, which are every event of one or more whole hours
/// (sessions are hours, so a session is never split between two calls),
/// plus, for the double-click rule, any that follow within
/// [`DOUBLE_CLICK_SECONDS`] of the last hour's end. Only events with
/// `at < until` are counted; the later ones only decide whether an earlier
/// click was a double click.
pub fn count_hour(events: &[UsageEvent], until: i64) -> HashMap<CountKey, ItemCounts> {
    // Group by visitor and target, in time order, to find double clicks.
    let mut by_click: Vec<&UsageEvent> = events.iter().collect();
    by_click.sort_by_key(|e| (e.visitor, e.record_id, e.target, e.at));
    let mut counts: HashMap<CountKey, ItemCounts> = HashMap::new();
    // Unique per user-session, item and Access_Type: a report's rows are
    // per Access_Type, and a session that read an item both ways is unique
    // in each.
    let mut unique_investigations: HashSet<(i64, i64, RecordId, bool)> = HashSet::new();
    let mut unique_requests: HashSet<(i64, i64, RecordId, bool)> = HashSet::new();
    let mut partial_seen: HashSet<(i64, i64, RecordId, i64)> = HashSet::new();
    for (i, e) in by_click.iter().enumerate() {
        if e.at >= until {
            continue;
        }
        let session = e.at.div_euclid(3600);
        let key = (e.record_id, day_of(e.at), e.open);
        // §7.3: a user-session is visitor + date + hour.
        let first_investigation = unique_investigations.insert((e.visitor, session, e.record_id, e.open));
        let first_request = e.kind.is_request() && unique_requests.insert((e.visitor, session, e.record_id, e.open));
        let c = counts.entry(key).or_default();
        if first_investigation {
            c.unique_investigations += 1;
        }
        if first_request {
            c.unique_requests += 1;
        }
        // §7.2: the first of two clicks within 30 seconds is removed.
        let next = by_click.get(i + 1).filter(|n| {
            n.visitor == e.visitor
                && n.record_id == e.record_id
                && n.target == e.target
                && n.kind.is_request() == e.kind.is_request()
        });
        if next.is_some_and(|n| n.at - e.at <= DOUBLE_CLICK_SECONDS) {
            continue;
        }
        // A 206: once per file per session, whatever the ranges (the range
        // a double click replaced is not the one that counts).
        if e.kind == UsageKind::PartialDownload && !partial_seen.insert((e.visitor, session, e.record_id, e.target)) {
            continue;
        }
        c.investigations += 1;
        if e.kind.is_request() {
            c.requests += 1;
        }
    }
    counts.retain(|_, c| *c != ItemCounts::default());
    counts
}

/// Events held back for the double-click window before they are kept, so
/// that a click which another click by the same visitor on the same URL
/// replaces within [`DOUBLE_CLICK_SECONDS`] (§7.2: the first is removed)
/// is never written at all. Only clicks in the same hour are merged: the
/// earlier one may be its session's unique item (§7.3). What is left counts
/// exactly as the roll-up would have counted everything: a reader who
/// reloads a page, or a PDF viewer fetching ranges, costs one row.
#[derive(Debug, Default)]
pub struct ClickWindow {
    /// Each key's latest click, and whether it must be kept: a click that
    /// came within the window of one in the previous hour decides that
    /// one is a double click (the Code's 30 seconds know no hours), so it
    /// is written, never merged into a later one.
    latest: HashMap<ClickKey, (UsageEvent, bool)>,
    /// Each held click's key with a time no later than its click's, oldest
    /// first: [`ClickWindow::settled`] looks at the front only, so letting
    /// go costs what is let go, never a walk over all that is held. A
    /// key's entry may be older than its click (a later click replaced the
    /// one it was queued for); it is queued again with the newer time when
    /// it comes up. One entry per held key.
    arrivals: VecDeque<(i64, ClickKey)>,
    ready: Vec<UsageEvent>,
    /// Clicks merged into a later one.
    pub merged: u64,
}

/// Who clicked what: the visitor, the item, the URL and whether a request.
type ClickKey = (i64, RecordId, i64, bool);

/// Clicks held at most; past it, all are let go (the roll-up still finds
/// their double clicks, only less cheaply).
const WINDOW_CAP: usize = 100_000;

impl ClickWindow {
    /// Takes an event (events come in time order).
    pub fn push(&mut self, e: UsageEvent) {
        let key = (e.visitor, e.record_id, e.target, e.kind.is_request());
        match self.latest.insert(key, (e, false)) {
            None => self.arrivals.push_back((e.at, key)),
            Some((previous, kept)) => {
                let within = e.at >= previous.at && e.at - previous.at <= DOUBLE_CLICK_SECONDS;
                // Merged only within an hour: each hour is a user-session,
                // and the earlier click may be its session's unique one.
                let same_hour = e.at.div_euclid(3600) == previous.at.div_euclid(3600);
                if within && same_hour && !kept {
                    self.merged += 1;
                } else {
                    self.ready.push(previous);
                    if within && !same_hour {
                        self.latest.insert(key, (e, true));
                    }
                }
            }
        }
    }

    /// The events no later click can replace any more, or all when the
    /// window is full. Clicks still to come are at `now` or later, and one
    /// exactly [`DOUBLE_CLICK_SECONDS`] after another replaces it, so a
    /// click is let go once it is more than that before `now`.
    pub fn settled(&mut self, now: i64) -> Vec<UsageEvent> {
        if self.latest.len() > WINDOW_CAP {
            return self.all();
        }
        let mut out = std::mem::take(&mut self.ready);
        let horizon = now - DOUBLE_CLICK_SECONDS - 1;
        while let Some(&(at, key)) = self.arrivals.front() {
            if at > horizon {
                break;
            }
            self.arrivals.pop_front();
            match self.latest.get(&key) {
                Some((e, _)) if e.at <= horizon => {
                    out.push(*e);
                    self.latest.remove(&key);
                }
                // Replaced by a later click: wait for that one.
                Some((e, _)) => self.arrivals.push_back((e.at, key)),
                None => {}
            }
        }
        out.sort_by_key(|e| e.at);
        out
    }

    /// Every event held.
    pub fn all(&mut self) -> Vec<UsageEvent> {
        let mut out = std::mem::take(&mut self.ready);
        out.extend(self.latest.drain().map(|(_, (e, _))| e));
        self.arrivals.clear();
        out.sort_by_key(|e| e.at);
        out
    }

    pub fn is_empty(&self) -> bool {
        self.latest.is_empty() && self.ready.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(at: i64, visitor: i64) -> UsageEvent {
        UsageEvent { at, record_id: 1, target: 0, kind: UsageKind::Page, open: true, visitor }
    }

    fn pdf(at: i64, visitor: i64, kind: UsageKind) -> UsageEvent {
        UsageEvent { at, record_id: 1, target: file_target(1, "a.pdf"), kind, open: true, visitor }
    }

    const T0: i64 = 1_718_458_860; // 2024-06-15 13:41:00 UTC

    fn counts(events: &[UsageEvent]) -> ItemCounts {
        let mut total = ItemCounts::default();
        for c in count_hour(events, i64::MAX).values() {
            total.add(c);
        }
        total
    }

    #[test]
    fn the_code_s_double_click_examples() {
        // §7.2: 10:01:00 and 10:01:29 are one action; 10:01:00 and
        // 10:01:35 are two.
        assert_eq!(counts(&[page(T0, 7), page(T0 + 29, 7)]).investigations, 1);
        assert_eq!(counts(&[page(T0, 7), page(T0 + 35, 7)]).investigations, 2);
        // A chain of clicks each within 30 seconds of the last is one.
        assert_eq!(counts(&[page(T0, 7), page(T0 + 25, 7), page(T0 + 50, 7)]).investigations, 1);
        // Other visitors are other users.
        assert_eq!(counts(&[page(T0, 7), page(T0 + 5, 8)]).investigations, 2);
    }

    #[test]
    fn a_download_is_a_request_and_an_investigation() {
        let c = counts(&[page(T0, 7), pdf(T0 + 10, 7, UsageKind::Download)]);
        assert_eq!(c, ItemCounts { investigations: 2, unique_investigations: 1, requests: 1, unique_requests: 1 });
        assert_eq!(c.page_views(), 1);
    }

    #[test]
    fn unique_items_are_per_visitor_and_hour() {
        // Same hour: one unique; the next hour is another session.
        let c = counts(&[page(T0, 7), page(T0 + 600, 7), page(T0 + 3600, 7)]);
        assert_eq!((c.investigations, c.unique_investigations), (3, 2));
    }

    #[test]
    fn ranges_count_once_per_file_and_session() {
        let c = counts(&[
            pdf(T0, 7, UsageKind::PartialDownload),
            pdf(T0 + 40, 7, UsageKind::PartialDownload),
            pdf(T0 + 90, 7, UsageKind::PartialDownload),
        ]);
        assert_eq!((c.requests, c.unique_requests), (1, 1));
    }

    #[test]
    fn events_past_the_end_only_decide_double_clicks() {
        // The end is always an hour's end, so the later click is in the
        // next session: it counts there, and this one is replaced by it.
        let until = T0 + 10;
        let c = count_hour(&[page(T0, 7), page(T0 + 20, 7)], until);
        let total: i64 = c.values().map(|c| c.investigations).sum();
        assert_eq!(total, 0, "the first click is replaced by one after the end: {c:?}");
    }

    /// What the window keeps counts as what it was given counts.
    #[test]
    fn the_window_keeps_what_counts() {
        let events = [
            page(T0, 7),
            page(T0 + 10, 7),
            page(T0 + 50, 7),
            page(T0 + 5, 8),
            pdf(T0 + 60, 7, UsageKind::PartialDownload),
            pdf(T0 + 70, 7, UsageKind::PartialDownload),
            page(T0 + 1139, 7), // 13:59:59
            page(T0 + 1150, 7), // 14:00:10, the next session
        ];
        let mut sorted = events.to_vec();
        sorted.sort_by_key(|e| e.at);
        let mut window = ClickWindow::default();
        for e in &sorted {
            window.push(*e);
        }
        let mut kept = window.settled(T0 + 1100);
        kept.extend(window.all());
        assert_eq!(window.merged, 2, "the click at 0 s and the first range");
        assert_eq!(counts(&kept), counts(&events));
        assert!(window.is_empty());
    }

    /// Let go a little at a time, as the writer does, the window still
    /// keeps what counts: no click is let go while a later one could still
    /// replace it, and none is lost.
    #[test]
    fn the_window_let_go_bit_by_bit_keeps_what_counts() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n) as i64
        };
        let mut events = Vec::new();
        let mut at = T0;
        for _ in 0..5_000 {
            at += next(12);
            let visitor = next(4);
            events.push(match next(3) {
                0 => page(at, visitor),
                1 => pdf(at, visitor, UsageKind::Download),
                _ => pdf(at, visitor, UsageKind::PartialDownload),
            });
        }
        let mut window = ClickWindow::default();
        let mut kept = Vec::new();
        for e in &events {
            window.push(*e);
            if next(5) == 0 {
                kept.extend(window.settled(e.at));
            }
        }
        kept.extend(window.all());
        assert!(window.merged > 100, "the test makes double clicks: {}", window.merged);
        assert_eq!(kept.len() as u64 + window.merged, events.len() as u64);
        assert_eq!(counts(&kept), counts(&events));
    }

    /// A click exactly 30 seconds after another still replaces it (§7.2),
    /// so the earlier is not let go at that moment.
    #[test]
    fn the_window_holds_a_click_for_the_whole_thirty_seconds() {
        let mut window = ClickWindow::default();
        window.push(page(T0, 7));
        assert!(window.settled(T0 + 30).is_empty());
        window.push(page(T0 + 30, 7));
        assert_eq!(window.merged, 1);
        assert_eq!(window.settled(T0 + 61).len(), 1);
    }

    #[test]
    fn months_and_days() {
        assert_eq!(day_of(T0), 19_889);
        assert_eq!(month_of_day(19_889), 2024 * 12 + 5);
    }
}
