//! The browse entries of a bulk load, held in memory until they go into the
//! browse index at once, in its key order.
//!
//! A bulk load (see `bulk_load`) defers the browse index: written batch by
//! batch, each batch's entries land on pages all over it. They used to wait
//! in a table of their own and be sorted and copied when the load ended,
//! which wrote each entry three times over: at 1,000,000 records (6.3
//! million entries) that was 30 s of a 66 s import (BENCHMARKS.md). Here
//! they wait in memory, compactly (a record's sort key once, each distinct
//! value once, 8 bytes an entry: about 140 bytes a record), and are written
//! once, sorted, when the load ends or when they outgrow
//! [`MEMORY_BUDGET`].
//!
//! Memory dies with the process, so the database says what it lacks: the
//! `meta` key [`COMPLETE_THROUGH`] names the last change whose browse
//! entries the `browse` table holds. Memory vouches only for the changes
//! this store wrote after it, and only for records it saw no entry leave:
//! - a record whose entries change again during the load (a removal) is
//!   *dirty*;
//! - a change this store did not write (another process on the database,
//!   or the run before a `kill -9`) leaves a *gap* in the change sequence.
//!
//! [`PendingBrowse::flush`] rebuilds the entries of dirty records and of
//! records changed in gaps from the records as stored, which is also how the
//! next opening of the database finishes a load whose process died: it
//! starts from an empty memory that vouches for nothing after
//! [`COMPLETE_THROUGH`].

use crate::queries::write_meta;
use crate::rows::BrowseChange;
use crate::sql::Backend;
use crate::sqlite::{insert_browse_rows, SqliteStore};
use crate::Result;
use arkiv_model::browse::browse_entries;
use arkiv_model::{BrowseEntry, BrowseView, RecordId};
use sqlx::SqliteConnection;
use std::collections::{HashMap, HashSet};

/// `meta` key of the last change whose browse entries `browse` holds, while
/// a bulk load keeps later ones in memory.
pub(crate) const COMPLETE_THROUGH: &str = "bulk_load.browse_complete_through";

/// Memory the pending entries may take before they are written out during
/// the load (about 1.9 million records' worth). A load of 10 million records
/// then writes into the browse index five times, each time in key order.
const MEMORY_BUDGET: usize = 256 << 20;

/// Records whose entries are rebuilt from the store per query.
const REBUILD_CHUNK: usize = 500;

/// A record with entries in memory, and where its sort key lies in `keys`.
struct Slot {
    id: RecordId,
    key_start: usize,
    key_len: u32,
}

pub(crate) struct PendingBrowse {
    /// Change after which `browse` may lack entries (as in `meta`).
    complete_through: i64,
    /// Last change whose entries memory holds; later ones are a gap.
    through: i64,
    /// Ranges of changes (exclusive bounds) written by others while memory
    /// kept up: their records' entries are rebuilt.
    gaps: Vec<(i64, i64)>,
    /// Distinct (view, value) pairs, each stored once.
    values: Vec<(BrowseView, Box<str>)>,
    /// Bytes the values take, here and in `value_index`, kept as they come.
    value_bytes: usize,
    /// Per view (by its position in `BrowseView::ALL`), each value's index.
    value_index: [HashMap<Box<str>, u32>; BrowseView::ALL.len()],
    /// The sort keys of the slots, end to end.
    keys: String,
    slots: Vec<Slot>,
    /// (value, slot) of each entry.
    entries: Vec<(u32, u32)>,
    dirty: HashSet<RecordId>,
    /// Memory budget (a field, so tests can make flushes happen early).
    budget: usize,
}

impl PendingBrowse {
    /// Memory for a load whose `browse` table is complete through change
    /// `complete_through`, and that vouches for nothing after it.
    pub(crate) fn new(complete_through: i64) -> Self {
        PendingBrowse {
            complete_through,
            through: complete_through,
            gaps: Vec::new(),
            values: Vec::new(),
            value_bytes: 0,
            value_index: Default::default(),
            keys: String::new(),
            slots: Vec::new(),
            entries: Vec::new(),
            dirty: HashSet::new(),
            budget: MEMORY_BUDGET,
        }
    }

    pub(crate) fn with_budget(mut self, bytes: usize) -> Self {
        self.budget = bytes;
        self
    }

    /// Forgets everything: memory vouches for nothing after
    /// `complete_through` (the next flush rebuilds it from the records).
    pub(crate) fn reset(&mut self, complete_through: i64) {
        *self = PendingBrowse::new(complete_through).with_budget(self.budget);
    }

    pub(crate) fn complete_through(&self) -> i64 {
        self.complete_through
    }

    /// Takes in a committed batch whose change-feed entries are `first..=last`.
    pub(crate) fn record(&mut self, first: i64, last: i64, changes: &[BrowseChange]) {
        if first > self.through + 1 {
            self.gaps.push((self.through, first));
        }
        self.through = self.through.max(last);
        for change in changes {
            if !change.remove.is_empty() {
                self.dirty.insert(change.id);
            }
            self.add(change.id, &change.add);
        }
    }

    fn add(&mut self, id: RecordId, entries: &[BrowseEntry]) {
        let mut slot: Option<(u32, &str)> = None;
        for e in entries {
            let s = match slot {
                Some((s, key)) if key == e.sort_key => s,
                _ => {
                    let s = self.slots.len() as u32;
                    self.slots.push(Slot { id, key_start: self.keys.len(), key_len: e.sort_key.len() as u32 });
                    self.keys.push_str(&e.sort_key);
                    slot = Some((s, e.sort_key.as_str()));
                    s
                }
            };
            let index = &mut self.value_index[view_position(e.view)];
            let value = match index.get(e.value.as_str()) {
                Some(&v) => v,
                None => {
                    let v = self.values.len() as u32;
                    self.values.push((e.view, e.value.as_str().into()));
                    self.value_bytes += 2 * (e.value.len() + 48);
                    index.insert(e.value.as_str().into(), v);
                    v
                }
            };
            self.entries.push((value, s));
        }
    }

    fn key(&self, slot: &Slot) -> &str {
        &self.keys[slot.key_start..slot.key_start + slot.key_len as usize]
    }

    /// Roughly the memory held, in bytes.
    fn bytes(&self) -> usize {
        self.keys.capacity()
            + self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.entries.capacity() * 8
            + self.value_bytes
            + self.dirty.capacity() * 16
    }

    pub(crate) fn over_budget(&self) -> bool {
        self.bytes() > self.budget
    }

    /// Writes every pending entry into `browse` on `tx` (inside its
    /// transaction), rebuilding the entries memory does not vouch for, and
    /// moves [`COMPLETE_THROUGH`] to the last change. Memory is then empty.
    /// If the transaction does not commit, the caller calls
    /// [`PendingBrowse::reset`] with the mark before the flush: the next
    /// flush rebuilds everything after it from the store.
    pub(crate) async fn flush(&mut self, tx: &mut SqliteConnection) -> Result<()> {
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM changes").fetch_one(&mut *tx).await?;
        if last > self.through {
            self.gaps.push((self.through, last + 1));
        }
        for (after, before) in std::mem::take(&mut self.gaps) {
            let ids: Vec<RecordId> =
                sqlx::query_scalar("SELECT DISTINCT record_id FROM changes WHERE seq > ? AND seq < ?")
                    .bind(after)
                    .bind(before)
                    .fetch_all(&mut *tx)
                    .await?;
            self.dirty.extend(ids);
        }
        if !self.dirty.is_empty() {
            let dirty = std::mem::take(&mut self.dirty);
            let slots = &self.slots;
            self.entries.retain(|&(_, s)| !dirty.contains(&slots[s as usize].id));
            let mut ids: Vec<RecordId> = dirty.into_iter().collect();
            ids.sort_unstable();
            for chunk in ids.chunks(REBUILD_CHUNK) {
                let stored = <SqliteStore as Backend>::current(tx, chunk).await?;
                for (id, (record, _)) in &stored {
                    self.add(*id, &browse_entries(record));
                }
            }
        }
        self.write(tx).await?;
        write_meta(tx, COMPLETE_THROUGH, &last.to_string()).await?;
        self.reset(last);
        Ok(())
    }

    /// The entries, sorted in `browse`'s key order (view and value as text,
    /// then sort key, then record) and inserted in that order, so that each
    /// insert appends to the page the one before it filled.
    async fn write(&self, tx: &mut SqliteConnection) -> Result<()> {
        // Ranks, so that the sort below compares integers: values by (view,
        // value) as the table orders text, slots by (sort key, record).
        let mut by_value: Vec<u32> = (0..self.values.len() as u32).collect();
        by_value.sort_unstable_by(|&a, &b| {
            let (va, a) = &self.values[a as usize];
            let (vb, b) = &self.values[b as usize];
            (va.as_str(), a).cmp(&(vb.as_str(), b))
        });
        let mut by_slot: Vec<u32> = (0..self.slots.len() as u32).collect();
        by_slot.sort_unstable_by(|&a, &b| {
            let (a, b) = (&self.slots[a as usize], &self.slots[b as usize]);
            (self.key(a), a.id).cmp(&(self.key(b), b.id))
        });
        let rank = |order: &[u32]| {
            let mut rank = vec![0u32; order.len()];
            for (r, &i) in order.iter().enumerate() {
                rank[i as usize] = r as u32;
            }
            rank
        };
        let (value_rank, slot_rank) = (rank(&by_value), rank(&by_slot));
        let mut sorted: Vec<u64> = self
            .entries
            .iter()
            .map(|&(v, s)| (u64::from(value_rank[v as usize]) << 32) | u64::from(slot_rank[s as usize]))
            .collect();
        sorted.sort_unstable();
        tracing::debug!(
            entries = sorted.len(),
            values = self.values.len(),
            records = self.slots.len(),
            "browse entries sorted"
        );
        // A record's sort key may be in memory twice (written twice), so
        // equal rows are told apart by content, not rank.
        let mut rows: Vec<(&'static str, &str, &str, RecordId)> = Vec::with_capacity(ROWS_PER_STATEMENT);
        let mut previous: Option<(&'static str, &str, &str, RecordId)> = None;
        for packed in sorted {
            let (view, value) = &self.values[by_value[(packed >> 32) as usize] as usize];
            let slot = &self.slots[by_slot[(packed & 0xffff_ffff) as usize] as usize];
            let row = (view.as_str(), &**value, self.key(slot), slot.id);
            if previous == Some(row) {
                continue;
            }
            previous = Some(row);
            rows.push(row);
            if rows.len() == ROWS_PER_STATEMENT {
                insert_rows(tx, &rows).await?;
                rows.clear();
            }
        }
        insert_rows(tx, &rows).await
    }
}

fn view_position(view: BrowseView) -> usize {
    BrowseView::ALL.iter().position(|v| *v == view).expect("every view is in ALL")
}

/// Rows a flush writes per round of statements.
const ROWS_PER_STATEMENT: usize = 4096;

/// OR IGNORE: an entry rebuilt for a dirty record may be there already.
async fn insert_rows(tx: &mut SqliteConnection, rows: &[(&str, &str, &str, RecordId)]) -> Result<()> {
    insert_browse_rows(tx, rows, "OR IGNORE").await
}
