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
//! Counting visits the matching documents, or, when they are more than half
//! of the segment, the others, and subtracts from totals kept beside the
//! arrays: a search matching nearly everything (an empty query, a common
//! word) then costs what one matching nearly nothing does. Deleted
//! documents are never matches, so they fall on the subtracted side and
//! cancel against the totals, which count every document.

use crate::collect::Matches;
use crate::request::{Facet, FacetCount};
use crate::top_values::{TopValues, TopValuesSegment};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use tantivy::collector::{Collector, SegmentCollector};
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
    }
}

/// No value (in a field with at most one value per document).
const NONE: u32 = u32::MAX;

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
        if single {
            let mut one = vec![NONE; max_doc as usize];
            for (doc, w) in starts.windows(2).enumerate() {
                if w[1] > w[0] {
                    one[doc] = ords[w[0] as usize];
                }
            }
            return Ok(FieldOrds { starts: None, ords: one, totals });
        }
        ords.shrink_to_fit();
        Ok(FieldOrds { starts: Some(starts), ords, totals })
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

/// What to count of one field: every ordinal, or slots (a subject's
/// children, each standing for its whole subtree) with their totals over
/// every document (their terms' document frequencies, used when counting
/// the others).
pub enum Counting<'a> {
    Ords,
    Slots { slot_of: &'a [u32], totals: &'a [u32] },
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

    /// How many matches hold each ordinal (or slot) of each facet, in the
    /// order of [`Facet::ALL`]: one pass over the matches, or over the
    /// others when they are fewer.
    pub fn count(&self, matches: &Matches, how: &[(Facet, Counting)]) -> Vec<Vec<u32>> {
        let plan: Vec<(&FieldOrds, Option<&[u32]>, &[u32])> = self
            .fields
            .iter()
            .map(|(facet, field)| match how.iter().find(|(f, _)| f == facet).map(|(_, c)| c) {
                Some(Counting::Slots { slot_of, totals }) => (field, Some(*slot_of), *totals),
                _ => (field, None, field.totals.as_slice()),
            })
            .collect();
        let mut counts: Vec<Vec<u32>> = plan.iter().map(|(_, _, totals)| vec![0u32; totals.len()]).collect();
        let mut add = |doc: DocId| {
            for ((field, slot_of, _), c) in plan.iter().zip(counts.iter_mut()) {
                field.add(doc, *slot_of, c);
            }
        };
        if matches.count as usize * 2 > matches.max_doc as usize {
            matches.for_each_other(&mut add);
            for ((_, _, totals), c) in plan.iter().zip(counts.iter_mut()) {
                for (n, t) in c.iter_mut().zip(*totals) {
                    *n = t.saturating_sub(*n);
                }
            }
        } else {
            matches.for_each(&mut add);
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
        let how = [(Facet::Subject, Counting::Slots { slot_of: &children.slot_of, totals: &children.totals })];
        counted.push((ords.count(m, &how), children));
    }
    let mut out = BTreeMap::new();
    for (i, facet) in Facet::ALL.into_iter().enumerate() {
        let name = field_name(facet);
        let mut values: Vec<FacetCount> = match facet {
            Facet::Creator | Facet::Series => {
                let top = TopValues { field_name: name, limit: facet.max_values() };
                let mut fruits = Vec::with_capacity(segments.len());
                for ((reader, _, _), (counts, _)) in segments.iter().zip(&mut counted) {
                    let counts = std::mem::take(&mut counts[i]);
                    fruits.push(TopValuesSegment::from_counts(reader.facet_reader(name)?, counts).harvest());
                }
                top.merge_fruits(fruits)?
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
                        let label = if facet == Facet::Subject { subjects.name(&value).to_string() } else { value.clone() };
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
