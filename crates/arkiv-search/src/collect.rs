//! Which documents match, and which of them rank first.
//!
//! A search makes two passes over each segment. The first, without scores,
//! sets a bit per matching document ([`Matches`]): the total and the facet
//! counts are read from those bits (see [`crate::facet_ords`]). The second
//! finds the page: by relevance it scores with tantivy's block-max WAND
//! ([`top_by_score`]), which skips whole blocks of documents that cannot
//! reach the page, so a word found in 870,000 records does not score them
//! all; by date or title it reads the sort key of each match ([`TopAfter`]).
//!
//! Deep paging: both keep the best `limit` hits strictly after a cursor.
//! Tantivy's `TopDocs` pages by offset, which costs as much as the offset
//! is deep; these keep `limit` entries whatever the page, so page 5,000
//! costs what page 1 does.
//!
//! Every sort is mapped to an ascending `(key, id)`: the key is the sort
//! value turned so that smaller comes first (a score or a date is inverted),
//! and the record id breaks ties, so the order is total and a cursor names
//! one exact position. Scores are rounded to [`SCORE_QUANTUM`] first: block-
//! max WAND and a plain pass may add a document's term scores in different
//! orders, which can change the last bit of the sum, and a cursor must
//! compare equal to the score it was made from on the next page.

use crate::request::{Cursor, Sort};
use std::collections::BinaryHeap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

/// Scores are ranked in steps of this much (BM25 scores of a search run
/// from about 0.1 to 50; a step is far below any difference that means
/// something, and far above the error of a floating-point sum).
pub const SCORE_QUANTUM: f32 = 1.0 / 1024.0;

fn quantized(score: f32) -> f32 {
    (score / SCORE_QUANTUM).round() * SCORE_QUANTUM
}

/// The documents of one segment that match a query (deleted ones never do),
/// a bit each.
pub struct Matches {
    bits: Vec<u64>,
    pub count: u32,
    pub max_doc: u32,
}

impl Matches {
    /// One pass over the segment without scoring.
    pub fn of(weight: &dyn Weight, reader: &SegmentReader) -> tantivy::Result<Matches> {
        let max_doc = reader.max_doc();
        let mut bits = vec![0u64; (max_doc as usize).div_ceil(64)];
        let alive = reader.alive_bitset();
        weight.for_each_no_score(reader, &mut |docs: &[DocId]| {
            for &doc in docs {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    bits[(doc >> 6) as usize] |= 1 << (doc & 63);
                }
            }
        })?;
        let count = bits.iter().map(|w| w.count_ones()).sum();
        Ok(Matches { bits, count, max_doc })
    }

    /// Keeps only the documents `other` holds too (a filter).
    pub fn intersect(&mut self, other: &Matches) {
        for (w, o) in self.bits.iter_mut().zip(&other.bits) {
            *w &= o;
        }
        self.count = self.bits.iter().map(|w| w.count_ones()).sum();
    }

    /// How many matches `bits` (one bit per document of the segment) holds.
    pub fn count_in(&self, bits: &[u64]) -> u32 {
        self.bits.iter().zip(bits).map(|(a, b)| (a & b).count_ones()).sum()
    }

    #[inline]
    pub fn contains(&self, doc: DocId) -> bool {
        self.bits.get((doc >> 6) as usize).is_some_and(|w| w & (1 << (doc & 63)) != 0)
    }

    /// Calls `f` with each matching document, in order.
    pub fn for_each(&self, f: &mut impl FnMut(DocId)) {
        for (i, &word) in self.bits.iter().enumerate() {
            let mut w = word;
            while w != 0 {
                f((i as u32) << 6 | w.trailing_zeros());
                w &= w - 1;
            }
        }
    }

    /// Calls `f` with each document of the segment that does not match
    /// (deleted ones included), in order.
    pub fn for_each_other(&self, f: &mut impl FnMut(DocId)) {
        for (i, &word) in self.bits.iter().enumerate() {
            let mut w = !word;
            let base = (i as u32) << 6;
            if base + 64 > self.max_doc {
                w &= (1u64 << (self.max_doc - base)) - 1;
            }
            while w != 0 {
                f(base | w.trailing_zeros());
                w &= w - 1;
            }
        }
    }
}

/// The best `limit` hits by relevance strictly after `after`, among
/// `matches`, by block-max WAND: `weight` must score.
pub fn top_by_score(
    weight: &dyn Weight,
    reader: &SegmentReader,
    segment: SegmentOrdinal,
    matches: &Matches,
    after: Option<Cursor>,
    limit: usize,
) -> tantivy::Result<Vec<Ranked>> {
    if limit == 0 || matches.count == 0 {
        return Ok(Vec::new());
    }
    let ids = reader.fast_fields().u64("id")?;
    let mut heap: BinaryHeap<Ranked> = BinaryHeap::with_capacity(limit + 1);
    let mut threshold = f32::MIN;
    weight.for_each_pruning(f32::MIN, reader, &mut |doc, score| {
        if !matches.contains(doc) {
            return threshold;
        }
        let key = sort_key(Sort::Relevance, score, 0, 0);
        // The id is read only when the key alone cannot decide.
        if let Some(after) = after {
            if key < after.key {
                return threshold;
            }
        }
        if heap.len() >= limit && heap.peek().is_some_and(|worst| key > worst.cursor.key) {
            return threshold;
        }
        let cursor = Cursor { key, id: ids.first(doc).unwrap_or(0) };
        if after.is_some_and(|after| cursor <= after) {
            return threshold;
        }
        if heap.len() >= limit {
            match heap.peek() {
                Some(worst) if cursor < worst.cursor => {
                    heap.pop();
                }
                _ => return threshold,
            }
        }
        heap.push(Ranked { cursor, score, addr: DocAddress::new(segment, doc) });
        if heap.len() >= limit {
            if let Some(worst) = heap.peek() {
                // WAND skips what scores at most the threshold: stay a step
                // below the worst kept, so that a document rounding to its
                // score (and winning on id) is still offered.
                threshold = quantized(worst.score) - 2.0 * SCORE_QUANTUM;
            }
        }
        threshold
    })?;
    Ok(heap.into_sorted_vec())
}

/// The best `limit` hits of `matches` by date or title strictly after
/// `after` (no scores needed).
pub fn top_by_key(
    reader: &SegmentReader,
    segment: SegmentOrdinal,
    matches: &Matches,
    sort: Sort,
    after: Option<Cursor>,
    limit: usize,
) -> tantivy::Result<Vec<Ranked>> {
    let mut top = TopAfter { sort, after, limit }.for_segment(segment, reader)?;
    matches.for_each(&mut |doc| top.collect(doc, 0.0));
    Ok(top.harvest())
}

/// One collected hit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    pub cursor: Cursor,
    pub score: Score,
    pub addr: DocAddress,
}

impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.cursor.cmp(&other.cursor)
    }
}

/// A score as a u32 that orders as the float does (for finite scores).
fn ordered_bits(score: f32) -> u32 {
    let s = if score.is_nan() { 0.0 } else { score };
    let b = s.to_bits();
    if b & 0x8000_0000 != 0 {
        !b
    } else {
        b | 0x8000_0000
    }
}

pub fn sort_key(sort: Sort, score: Score, date_key: i64, title_key: u64) -> u64 {
    match sort {
        Sort::Relevance => (u32::MAX - ordered_bits(quantized(score))) as u64,
        Sort::Newest => {
            if date_key <= 0 {
                u64::MAX
            } else {
                (i64::MAX - date_key) as u64
            }
        }
        Sort::Oldest => {
            if date_key <= 0 {
                u64::MAX
            } else {
                date_key as u64
            }
        }
        Sort::Title => title_key,
    }
}

pub struct TopAfter {
    pub sort: Sort,
    pub after: Option<Cursor>,
    pub limit: usize,
}

pub struct TopAfterSegment {
    sort: Sort,
    after: Option<Cursor>,
    limit: usize,
    segment: SegmentOrdinal,
    id: Column<u64>,
    date: Column<i64>,
    title: Column<u64>,
    heap: BinaryHeap<Ranked>,
}

impl Collector for TopAfter {
    type Fruit = Vec<Ranked>;
    type Child = TopAfterSegment;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<TopAfterSegment> {
        let ff = reader.fast_fields();
        Ok(TopAfterSegment {
            sort: self.sort,
            after: self.after,
            limit: self.limit,
            segment,
            id: ff.u64("id")?,
            date: ff.i64("date_key")?,
            title: ff.u64("title_key")?,
            heap: BinaryHeap::with_capacity(self.limit + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort == Sort::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<Vec<Ranked>>) -> tantivy::Result<Vec<Ranked>> {
        let mut all: Vec<Ranked> = fruits.into_iter().flatten().collect();
        all.sort();
        all.truncate(self.limit);
        Ok(all)
    }
}

impl SegmentCollector for TopAfterSegment {
    type Fruit = Vec<Ranked>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.limit == 0 {
            return;
        }
        let key = match self.sort {
            Sort::Relevance => sort_key(self.sort, score, 0, 0),
            Sort::Newest | Sort::Oldest => sort_key(self.sort, score, self.date.first(doc).unwrap_or(0), 0),
            Sort::Title => sort_key(self.sort, score, 0, self.title.first(doc).unwrap_or(0)),
        };
        if self.heap.len() >= self.limit && self.heap.peek().is_some_and(|worst| key > worst.cursor.key) {
            return;
        }
        let cursor = Cursor { key, id: self.id.first(doc).unwrap_or(0) };
        if let Some(after) = self.after {
            if cursor <= after {
                return;
            }
        }
        if self.heap.len() >= self.limit {
            match self.heap.peek() {
                Some(worst) if cursor < worst.cursor => {
                    self.heap.pop();
                }
                _ => return,
            }
        }
        self.heap.push(Ranked { cursor, score, addr: DocAddress::new(self.segment, doc) });
    }

    fn harvest(self) -> Vec<Ranked> {
        self.heap.into_sorted_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_order_as_the_sort_says() {
        assert!(sort_key(Sort::Relevance, 2.0, 0, 0) < sort_key(Sort::Relevance, 1.0, 0, 0));
        assert!(sort_key(Sort::Relevance, 0.5, 0, 0) < sort_key(Sort::Relevance, 0.0, 0, 0));
        assert!(sort_key(Sort::Newest, 0.0, 20140529, 0) < sort_key(Sort::Newest, 0.0, 20100000, 0));
        assert!(sort_key(Sort::Newest, 0.0, 20100000, 0) < sort_key(Sort::Newest, 0.0, 0, 0));
        assert!(sort_key(Sort::Oldest, 0.0, 20100000, 0) < sort_key(Sort::Oldest, 0.0, 20140529, 0));
        assert!(sort_key(Sort::Oldest, 0.0, 20140529, 0) < sort_key(Sort::Oldest, 0.0, 0, 0));
    }
}
