//! The most frequent values of a flat facet with many values (creators,
//! series) among a search's matches, without naming every value the index
//! knows.
//!
//! Tantivy's `FacetCollector` walks a segment's whole facet dictionary on
//! every search to map ordinals to the requested facet's children, then
//! turns every value met into its text. For the creator facet that is
//! every creator of the repository, on every search: it made a search of
//! 20,000 records take 14 ms instead of 3 (BENCHMARKS.md), and it grows with
//! the repository, not with the matches. Here the matches are counted per
//! ordinal in a plain array ([`crate::facet_ords`]); only the best
//! [`CANDIDATES_PER_SEGMENT`] ordinals of each segment are turned into
//! text, and the candidates' exact totals are then summed over all segments
//! by looking each one up in each segment's dictionary.
//!
//! Exactness: every count shown is exact. Which values are shown is exact
//! with one segment (an index after `arkiv reindex` or a merge); with
//! several, a value that is in no segment's best
//! [`CANDIDATES_PER_SEGMENT`] could be missing from the top list, which
//! takes a value spread thinly over many segments while hundreds of others
//! are more frequent in each.

use tantivy::fastfield::FacetReader;
use tantivy::schema::Facet as TFacet;

/// How many of a segment's most frequent values become candidates.
pub const CANDIDATES_PER_SEGMENT: usize = 256;

/// One segment's counts, kept until [`top_values`] needs a candidate's
/// count there.
pub struct SegmentCounts {
    reader: FacetReader,
    counts: Vec<u32>,
    /// The segment's best values as text, with their counts here.
    best: Vec<(String, u32)>,
}

impl SegmentCounts {
    /// A segment's `counts` of matches per ordinal of `reader`'s dictionary;
    /// names its best values.
    pub fn new(reader: FacetReader, counts: Vec<u32>) -> SegmentCounts {
        let mut nonzero: Vec<(u32, u32)> =
            counts.iter().enumerate().filter(|(_, n)| **n > 0).map(|(ord, n)| (ord as u32, *n)).collect();
        if nonzero.len() > CANDIDATES_PER_SEGMENT {
            nonzero.select_nth_unstable_by(CANDIDATES_PER_SEGMENT - 1, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            nonzero.truncate(CANDIDATES_PER_SEGMENT);
        }
        // One pass over the dictionary for all candidates, in ordinal order:
        // a lookup each would decode a dictionary block per candidate.
        nonzero.sort_unstable_by_key(|(ord, _)| *ord);
        let ords: Vec<u64> = nonzero.iter().map(|(ord, _)| *ord as u64).collect();
        let mut values = Vec::with_capacity(ords.len());
        let complete = reader
            .facet_dict()
            .sorted_ords_to_term_cb(&ords, |bytes| {
                // A one-level facet's encoded form is its value (levels are
                // separated by NUL bytes).
                let text = String::from_utf8_lossy(bytes);
                values.push(text.rsplit('\0').next().unwrap_or_default().to_string());
            })
            .unwrap_or(false);
        let best = if complete && values.len() == nonzero.len() {
            values.into_iter().zip(nonzero).map(|(v, (_, n))| (v, n)).collect()
        } else {
            Vec::new()
        };
        SegmentCounts { reader, counts, best }
    }

    /// A value's count in this segment (one dictionary lookup when it was
    /// not among the best).
    fn count_of(&self, value: &str) -> tantivy::Result<u32> {
        if let Some((_, n)) = self.best.iter().find(|(v, _)| v == value) {
            return Ok(*n);
        }
        let facet = TFacet::from_path([value]);
        let ord = self.reader.facet_dict().term_ord(facet.encoded_str())?;
        Ok(ord.and_then(|o| self.counts.get(o as usize).copied()).unwrap_or(0))
    }
}

/// The `limit` most frequent values over all segments, `(value, count)`,
/// most frequent first, ties by value.
pub fn top_values(segments: &[SegmentCounts], limit: usize) -> tantivy::Result<Vec<(String, u64)>> {
    let mut candidates: Vec<&str> = segments.iter().flat_map(|s| s.best.iter().map(|(v, _)| v.as_str())).collect();
    candidates.sort_unstable();
    candidates.dedup();
    let mut totals: Vec<(String, u64)> = Vec::with_capacity(candidates.len());
    for value in candidates {
        let mut total = 0u64;
        for s in segments {
            total += s.count_of(value)? as u64;
        }
        totals.push((value.to_string(), total));
    }
    totals.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    totals.truncate(limit);
    Ok(totals)
}
