//! Deep paging: a collector that keeps the best `limit` hits strictly after
//! a cursor. Tantivy's `TopDocs` pages by offset, which costs as much as the
//! offset is deep; this collector keeps `limit` entries whatever the page,
//! so page 5,000 costs what page 1 does.
//!
//! Every sort is mapped to an ascending `(key, id)`: the key is the sort
//! value turned so that smaller comes first (a score or a date is inverted),
//! and the record id breaks ties, so the order is total and a cursor names
//! one exact position.

use crate::request::{Cursor, Sort};
use std::collections::BinaryHeap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

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
        Sort::Relevance => (u32::MAX - ordered_bits(score)) as u64,
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
        let id = self.id.first(doc).unwrap_or(0);
        let key = sort_key(self.sort, score, self.date.first(doc).unwrap_or(0), self.title.first(doc).unwrap_or(0));
        let cursor = Cursor { key, id };
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
