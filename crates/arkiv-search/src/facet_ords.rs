//! Counting facets over a set of matches: each segment's facet ordinals
//! copied once into flat arrays, then counted per match with one array read
//! per value.
//!
//! Why: tantivy keeps a document's facet ordinals in a compressed
//! multi-valued column, which costs tens of nanoseconds a document and
//! field to read. A search for a common word matches most of the
//! repository, and counting seven facets that way over 870,000 matches took
//! about 100 ms (BENCHMARKS.md). Segments never change once written (a
//! deletion only hides documents), so their ordinals can be copied into
//! plain arrays the first time a search meets the segment, and kept while
//! the segment lives: a few bytes per record and facet.
//!
//! A field with few values in a segment (a type, a language, whether there
//! is full text, the years) keeps instead a bit set per value, and a
//! value's count is the popcount of its bits and the matches': a few
//! microseconds whatever the matches. Fields with many values (creators,
//! subjects, series) are counted document by document: over the matching
//! documents, or, when they are more than half of the segment, over the
//! others, subtracted from totals kept beside the arrays, so a search
//! matching nearly everything (an empty query, a common word) costs what
//! one matching nearly nothing does. Deleted documents are never matches,
//! so they fall on the subtracted side and cancel against the totals,
//! which count every document.

use crate::collect::Matches;
use crate::request::{Facet, FacetCount};
use crate::top_values::{top_values, SegmentCounts};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use tantivy::index::SegmentId;
use tantivy::{DocId, SegmentReader, Term};

/// The facet field each facet is counted on.
pub fn field_name(facet: Facet) -> &'static str {
    match facet {
        Facet::Type => "f_type",
        Facet::Year => "f_year",
        Facet::Subject => "f_subject",
        Facet::Creator => "f_creator",
        Facet::Series => "f_series",
        Facet::Language => "f_language",
        Facet::FullText => "f_fulltext",
        Facet::Division => "f_division",
    }
}

/// No value (in a field with at most one value per document).
const NONE: u32 = u32::MAX;

/// A field with at most this many values in a segment (a type, a language,
/// whether there is full text; the years of most repositories) keeps a bit
/// set of its documents per value instead of ordinals per document: a
/// value's count is then the popcount of its bits and the matches', 64
/// documents a word, whatever the share of matches. A bit set costs an
/// eighth of a byte per document, so this bounds the cost at 16 bytes per
/// document and field.
const MAX_VALUES_AS_BITS: usize = 128;

/// One facet field's ordinals, document by document. Ordinals are those of
/// the segment's facet dictionary (so, in the order of the facets' paths).
pub struct FieldOrds {
    /// Where each document's ordinals (sorted, each once) start in `ords`
    /// (one more entry than documents); `None` when no document has more
    /// than one, and `ords` then holds one per document ([`NONE`] for
    /// none): a type, a year, a series.
    starts: Option<Vec<u32>>,
    ords: Vec<u32>,
    /// How many documents (deleted ones included) hold each ordinal.
    totals: Vec<u32>,
    /// Instead of `starts` and `ords` (then empty), when the field has few
    /// values ([`MAX_VALUES_AS_BITS`]): each ordinal's documents as bits.
    bits: Option<Vec<Vec<u64>>>,
}

impl FieldOrds {
    fn read(reader: &SegmentReader, field: &str) -> tantivy::Result<FieldOrds> {
        let facets = reader.facet_reader(field)?;
        let max_doc = reader.max_doc();
        let mut starts = Vec::with_capacity(max_doc as usize + 1);
        let mut ords = Vec::with_capacity(max_doc as usize);
        let mut totals = vec![0u32; facets.num_facets()];
        starts.push(0);
        let mut of_doc: Vec<u32> = Vec::new();
        let mut single = true;
        for doc in 0..max_doc {
            of_doc.clear();
            of_doc.extend(facets.facet_ords(doc).map(|o| o as u32));
            of_doc.sort_unstable();
            of_doc.dedup();
            single &= of_doc.len() <= 1;
            for &ord in &of_doc {
                if let Some(t) = totals.get_mut(ord as usize) {
                    *t += 1;
                }
            }
            ords.extend_from_slice(&of_doc);
            starts.push(ords.len() as u32);
        }
        if totals.len() <= MAX_VALUES_AS_BITS {
            let words = (max_doc as usize).div_ceil(64);
            let mut bits = vec![vec![0u64; words]; totals.len()];
            for (doc, w) in starts.windows(2).enumerate() {
                for &ord in &ords[w[0] as usize..w[1] as usize] {
                    bits[ord as usize][doc >> 6] |= 1 << (doc & 63);
                }
            }
            return Ok(FieldOrds { starts: None, ords: Vec::new(), totals, bits: Some(bits) });
        }
        if single {
            let mut one = vec![NONE; max_doc as usize];
            for (doc, w) in starts.windows(2).enumerate() {
                if w[1] > w[0] {
                    one[doc] = ords[w[0] as usize];
                }
            }
            return Ok(FieldOrds { starts: None, ords: one, totals, bits: None });
        }
        ords.shrink_to_fit();
        Ok(FieldOrds { starts: Some(starts), ords, totals, bits: None })
    }

    /// Adds one document's values to `counts`, through `slot_of` when
    /// given (a document counts once per slot: its ordinals are sorted and
    /// a slot's ordinals contiguous).
    #[inline]
    fn add(&self, doc: DocId, slot_of: Option<&[u32]>, counts: &mut [u32]) {
        let doc = doc as usize;
        let ords = match &self.starts {
            None => std::slice::from_ref(&self.ords[doc]),
            Some(starts) => &self.ords[starts[doc] as usize..starts[doc + 1] as usize],
        };
        let mut previous = NONE;
        for &ord in ords {
            let slot = match slot_of {
                None => ord,
                Some(map) => map.get(ord as usize).copied().unwrap_or(NONE),
            };
            if slot != NONE && slot != previous {
                if let Some(c) = counts.get_mut(slot as usize) {
                    *c += 1;
                }
            }
            previous = slot;
        }
    }
}

/// A field counted by slots instead of ordinals: a subject's children,
/// each standing for its whole subtree. `slot_of` maps each ordinal to its
/// slot ([`u32::MAX`] for none); `totals` are the slots' totals over every
/// document (their terms' document frequencies, used when counting the
/// others).
pub struct Slots<'a> {
    pub slot_of: &'a [u32],
    pub totals: &'a [u32],
}

/// The ordinals of every facet field of one segment.
pub struct SegmentOrds {
    fields: Vec<(Facet, FieldOrds)>,
}

impl SegmentOrds {
    fn read(reader: &SegmentReader) -> tantivy::Result<SegmentOrds> {
        let mut fields = Vec::with_capacity(Facet::ALL.len());
        for facet in Facet::ALL {
            fields.push((facet, FieldOrds::read(reader, field_name(facet))?));
        }
        Ok(SegmentOrds { fields })
    }

    /// How many matches hold each ordinal of each facet (each slot, for
    /// the facets in `slots`), in the order of [`Facet::ALL`]: by popcount
    /// for fields kept as bits, else by one pass over the matches, or over
    /// the others when they are fewer.
    pub fn count(&self, matches: &Matches, slots: &[(Facet, Slots)]) -> Vec<Vec<u32>> {
        /// One field: its ordinals, its slots if counted by slot, and the
        /// totals of what is counted.
        type Plan<'a> = (&'a FieldOrds, Option<&'a [u32]>, &'a [u32]);
        let plan: Vec<Plan> = self
            .fields
            .iter()
            .map(|(facet, field)| match slots.iter().find(|(f, _)| f == facet).map(|(_, s)| s) {
                Some(s) => (field, Some(s.slot_of), s.totals),
                None => (field, None, field.totals.as_slice()),
            })
            .collect();
        // Fields kept as bits are counted by popcount (a slot's bits are
        // the union of its ordinals'); the others document by document.
        let mut counts: Vec<Vec<u32>> = plan
            .iter()
            .map(|(field, slot_of, totals)| match (&field.bits, slot_of) {
                (Some(bits), None) => bits.iter().map(|b| matches.count_in(b)).collect(),
                (Some(bits), Some(slot_of)) => {
                    let mut unions: Vec<Option<Vec<u64>>> = vec![None; totals.len()];
                    for (ord, b) in bits.iter().enumerate() {
                        let slot = slot_of.get(ord).copied().unwrap_or(NONE);
                        if let Some(u) = unions.get_mut(slot as usize) {
                            match u {
                                Some(u) => u.iter_mut().zip(b).for_each(|(x, y)| *x |= y),
                                None => *u = Some(b.clone()),
                            }
                        }
                    }
                    unions.iter().map(|u| u.as_deref().map_or(0, |u| matches.count_in(u))).collect()
                }
                (None, _) => vec![0u32; totals.len()],
            })
            .collect();
        let by_doc: Vec<usize> = (0..plan.len()).filter(|&i| plan[i].0.bits.is_none()).collect();
        if by_doc.is_empty() {
            return counts;
        }
        let complement = matches.count as usize * 2 > matches.max_doc as usize;
        {
            #[allow(clippy::type_complexity)]
            let mut targets: Vec<(&FieldOrds, Option<&[u32]>, &mut Vec<u32>)> = counts
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| by_doc.contains(i))
                .map(|(i, c)| (plan[i].0, plan[i].1, c))
                .collect();
            let mut add = |doc: DocId| {
                for (field, slot_of, c) in targets.iter_mut() {
                    field.add(doc, *slot_of, c);
                }
            };
            if complement {
                matches.for_each_other(&mut add);
            } else {
                matches.for_each(&mut add);
            }
        }
        if complement {
            for &i in &by_doc {
                for (n, t) in counts[i].iter_mut().zip(plan[i].2) {
                    *n = t.saturating_sub(*n);
                }
            }
        }
        counts
    }
}

/// The arrays of the segments a generation of the index has served, made on
/// first use and dropped once their segment is gone (merged away).
#[derive(Default)]
pub struct FacetOrdsCache {
    segments: Mutex<HashMap<SegmentId, Arc<OnceLock<Arc<SegmentOrds>>>>>,
}

impl FacetOrdsCache {
    /// The arrays of `reader`'s segment. `live` are the segments of the
    /// searcher in use: any other is forgotten.
    pub fn get(&self, reader: &SegmentReader, live: &[SegmentId]) -> tantivy::Result<Arc<SegmentOrds>> {
        let cell = {
            let mut map = self.segments.lock().unwrap_or_else(|e| e.into_inner());
            if !map.contains_key(&reader.segment_id()) {
                map.retain(|id, _| live.contains(id));
            }
            map.entry(reader.segment_id()).or_default().clone()
        };
        if let Some(ords) = cell.get() {
            return Ok(ords.clone());
        }
        // Two searches may read the same segment at once; one result is kept.
        let ords = Arc::new(SegmentOrds::read(reader)?);
        Ok(cell.get_or_init(|| ords).clone())
    }
}

/// Every facet's counts over the matches of each segment of `searcher`
/// (`matches[i]` for segment `i`), as the search page shows them: the
/// subject facet one level under `subject_path` (the root when empty),
/// years in order, the others most frequent first.
pub fn count_facets(
    searcher: &tantivy::Searcher,
    cache: &FacetOrdsCache,
    matches: &[Matches],
    subject_path: &[String],
    subjects: &arkiv_model::SubjectTree,
) -> tantivy::Result<BTreeMap<Facet, Vec<FacetCount>>> {
    let live: Vec<SegmentId> = searcher.segment_readers().iter().map(|r| r.segment_id()).collect();
    let mut segments = Vec::with_capacity(live.len());
    for (reader, m) in searcher.segment_readers().iter().zip(matches) {
        segments.push((reader, m, cache.get(reader, &live)?));
    }
    // One pass per segment counts every facet.
    let mut counted: Vec<(Vec<Vec<u32>>, Children)> = Vec::with_capacity(segments.len());
    for (reader, m, ords) in &segments {
        let children = Children::of(reader, field_name(Facet::Subject), subject_path)?;
        let slots = [(Facet::Subject, Slots { slot_of: &children.slot_of, totals: &children.totals })];
        counted.push((ords.count(m, &slots), children));
    }
    let mut out = BTreeMap::new();
    for (i, facet) in Facet::ALL.into_iter().enumerate() {
        let name = field_name(facet);
        let mut values: Vec<FacetCount> = match facet {
            Facet::Creator | Facet::Series => {
                let mut per_segment = Vec::with_capacity(segments.len());
                for ((reader, _, _), (counts, _)) in segments.iter().zip(&mut counted) {
                    let counts = std::mem::take(&mut counts[i]);
                    per_segment.push(SegmentCounts::new(reader.facet_reader(name)?, counts));
                }
                top_values(&per_segment, facet.max_values())?
                    .into_iter()
                    .map(|(value, count)| FacetCount { label: value.clone(), value, count })
                    .collect()
            }
            _ => {
                let mut sums: HashMap<String, u64> = HashMap::new();
                for ((reader, _, _), (counts, children)) in segments.iter().zip(&counted) {
                    let named: Vec<(String, u32)> = if facet == Facet::Subject {
                        children.names.iter().cloned().zip(counts[i].iter().copied()).collect()
                    } else {
                        values_of(reader, name, &counts[i])?
                    };
                    for (value, n) in named {
                        if n > 0 {
                            *sums.entry(value).or_default() += n as u64;
                        }
                    }
                }
                sums.into_iter()
                    .map(|(value, count)| {
                        let label = if matches!(facet, Facet::Subject | Facet::Division) {
                            subjects.name(&value).to_string()
                        } else {
                            value.clone()
                        };
                        FacetCount { value, label, count }
                    })
                    .collect()
            }
        };
        if facet == Facet::Year {
            values.sort_by_key(|v| (v.value.parse::<i64>().unwrap_or(i64::MAX), v.value.clone()));
        } else if !matches!(facet, Facet::Creator | Facet::Series) {
            values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        }
        values.truncate(facet.max_values());
        out.insert(facet, values);
    }
    Ok(out)
}

/// The values (a one-level facet's only part) of the ordinals counted
/// more than zero times, with their counts.
fn values_of(reader: &SegmentReader, field_name: &str, counts: &[u32]) -> tantivy::Result<Vec<(String, u32)>> {
    let facets = reader.facet_reader(field_name)?;
    let ords: Vec<u64> = (0..counts.len()).filter(|&o| counts[o] > 0).map(|o| o as u64).collect();
    let mut out = Vec::with_capacity(ords.len());
    let mut next = ords.iter();
    facets.facet_dict().sorted_ords_to_term_cb(&ords, |bytes| {
        if let Some(&ord) = next.next() {
            let text = String::from_utf8_lossy(bytes);
            out.push((text.rsplit('\0').next().unwrap_or_default().to_string(), counts[ord as usize]));
        }
    })?;
    Ok(out)
}

/// The children of a facet path in one segment: which slot each ordinal
/// of the dictionary falls in (the child it is, or is under), each child's
/// value, and how many documents hold it or a value under it.
struct Children {
    slot_of: Vec<u32>,
    names: Vec<String>,
    totals: Vec<u32>,
}

impl Children {
    fn of(reader: &SegmentReader, field_name: &str, path: &[String]) -> tantivy::Result<Children> {
        let facets = reader.facet_reader(field_name)?;
        let field = reader.schema().get_field(field_name)?;
        let inverted = reader.inverted_index(field)?;
        let parent = crate::schema::facet_of(path.iter());
        // Facets are encoded as their path's parts joined by NUL bytes; the
        // root is empty.
        let mut prefix = parent.encoded_str().as_bytes().to_vec();
        if !prefix.is_empty() {
            prefix.push(0);
        }
        let mut slot_of = vec![u32::MAX; facets.num_facets()];
        let (mut names, mut totals): (Vec<String>, Vec<u32>) = (Vec::new(), Vec::new());
        let mut stream = facets.facet_dict().prefix_range(&prefix).into_stream()?;
        while stream.advance() {
            let rest = &stream.key()[prefix.len()..];
            let child = rest.split(|b| *b == 0).next().unwrap_or_default();
            if child.is_empty() {
                continue;
            }
            let name = String::from_utf8_lossy(child);
            if names.last().map(String::as_str) != Some(&*name) {
                let mut facet_path: Vec<String> = path.to_vec();
                facet_path.push(name.to_string());
                let term = Term::from_facet(field, &crate::schema::facet_of(facet_path.iter()));
                totals.push(inverted.doc_freq(&term)?);
                names.push(name.into_owned());
            }
            if let Some(s) = slot_of.get_mut(stream.term_ord() as usize) {
                *s = (names.len() - 1) as u32;
            }
        }
        Ok(Children { slot_of, names, totals })
    }
}
