//! [`SearchIndex`]: the index on disk, written by one follower and read by
//! any number of searches at once.
//!
//! Layout of the index directory (`root`):
//!
//! ```text
//! root/CURRENT          the name of the generation being served ("gen-000002")
//! root/gen-000002/      a tantivy index
//! root/text-cache/      extracted texts by SHA-256 (see crate::extract)
//! ```
//!
//! A rebuild ([`crate::follow::reindex`]) writes a new generation beside the
//! served one and then replaces `CURRENT` by a rename: readers keep the old
//! generation until they notice ([`SearchIndex::reload_if_swapped`], called
//! by the follower on every poll), so searches never see a half-built
//! index. Each commit carries as payload the last change-feed sequence
//! applied ([`SearchIndex::indexed_seq`]): what was committed is exactly
//! what the payload says, so a restart resumes where the last commit left
//! off. An index of another [`SCHEMA_VERSION`], or one that cannot be
//! opened, is replaced by a new empty generation, which the follower then
//! fills from sequence 0: the index holds nothing the store does not.

use crate::collect::{top_by_key, top_by_score, Matches};
use crate::facet_ords::{count_facets, FacetOrdsCache};
use crate::query::{facet_query, parse, parse_years, Compiler};
use crate::request::{
    Cursor, Facet, FacetCount, Hit, SearchRequest, SearchResults, Snippet, Sort, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE,
};
use crate::schema::{build_schema, record_document, register_analyzers, Fields, SCHEMA_VERSION};
use anyhow::{Context, Result};
use arkiv_model::{Record, RecordId, SubjectTree};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tantivy::collector::DocSetCollector;
use tantivy::directory::MmapDirectory;
use tantivy::query::{AllQuery, EmptyQuery, EnableScoring, Query, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Total, ranked hits (one more than a page), facet counts.
type Outcome = (u64, Vec<crate::collect::Ranked>, BTreeMap<Facet, Vec<FacetCount>>);

const CURRENT: &str = "CURRENT";
/// Memory the index writer may buffer before it writes segments (shared by
/// its threads; tantivy asks at least 15 MB of each).
const WRITER_MEMORY: usize = 64 << 20;
/// Indexing threads at most: one per core, up to this many. Tantivy hands
/// each added document to one of them, so a reindex or a large import uses
/// every core; a small commit (the follower's usual second's worth) still
/// fills only one segment.
const MAX_WRITER_THREADS: usize = 4;
/// At most this many facet filters are applied.
const MAX_FILTERS: usize = 20;

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    version: u32,
    seq: i64,
}

/// One generation of the index, open.
struct Generation {
    name: String,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    writer: Mutex<Option<IndexWriter<TantivyDocument>>>,
    seq: AtomicI64,
    /// Being built from scratch: no merges until [`SearchIndex::merge_segments`].
    bulk: AtomicBool,
    /// The facet ordinals of the segments searched so far.
    facet_ords: FacetOrdsCache,
}

impl Generation {
    /// Opens (or creates) the generation in `dir`. `Ok(None)` when what is
    /// there is of another schema or version.
    fn open(dir: &Path, name: &str) -> Result<Option<Generation>> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let directory = MmapDirectory::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
        let schema = build_schema();
        let index = if Index::exists(&directory)? {
            let index = Index::open(directory)?;
            if index.schema() != schema {
                return Ok(None);
            }
            index
        } else {
            Index::create(directory, schema.clone(), IndexSettings::default())?
        };
        let seq = match index.load_metas()?.payload {
            Some(p) => match serde_json::from_str::<Payload>(&p) {
                Ok(p) if p.version == SCHEMA_VERSION => p.seq,
                _ => return Ok(None),
            },
            None => 0,
        };
        register_analyzers(&index);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::OnCommitWithDelay).try_into()?;
        let fields = Fields::new(&index.schema())?;
        Ok(Some(Generation {
            name: name.to_string(),
            index,
            reader,
            fields,
            writer: Mutex::new(None),
            seq: AtomicI64::new(seq),
            bulk: AtomicBool::new(false),
            facet_ords: FacetOrdsCache::default(),
        }))
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut IndexWriter<TantivyDocument>) -> Result<T>) -> Result<T> {
        let mut guard = self.writer.lock().map_err(|_| anyhow::anyhow!("index writer lock poisoned"))?;
        if guard.is_none() {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_WRITER_THREADS);
            let w = self
                .index
                .writer_with_num_threads(threads, WRITER_MEMORY)
                .context("cannot open the index for writing (is another arkiv process following this repository?)")?;
            if self.bulk.load(Ordering::Acquire) {
                w.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
            }
            *guard = Some(w);
        }
        f(guard.as_mut().expect("writer just made"))
    }
}

/// The search index of a repository. Share it as `Arc<SearchIndex>`:
/// searches take `&self` and run concurrently with the follower's writes.
/// Searching is synchronous CPU work: call it from `spawn_blocking` in async
/// code.
pub struct SearchIndex {
    root: PathBuf,
    current: RwLock<Arc<Generation>>,
    subjects: RwLock<Arc<SubjectTree>>,
}

fn read_current(root: &Path) -> Option<String> {
    let name = std::fs::read_to_string(root.join(CURRENT)).ok()?;
    let name = name.trim();
    (name.starts_with("gen-") && !name.contains(['/', '\\']) && root.join(name).is_dir()).then(|| name.to_string())
}

fn generations(root: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with("gen-"))
        .collect();
    out.sort();
    out
}

fn next_generation(root: &Path) -> String {
    let last = generations(root).iter().filter_map(|n| n[4..].parse::<u64>().ok()).max().unwrap_or(0);
    format!("gen-{:06}", last + 1)
}

impl SearchIndex {
    /// Opens the index in `root`, creating it (empty, at sequence 0) if
    /// missing, unreadable or of another schema version.
    pub fn open(root: &Path) -> Result<SearchIndex> {
        std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
        if let Some(name) = read_current(root) {
            match Generation::open(&root.join(&name), &name) {
                Ok(Some(g)) => return Ok(SearchIndex::from_generation(root, g)),
                Ok(None) => tracing::info!("search index {name} is of another version: starting a new one"),
                Err(e) => tracing::warn!("search index {name} cannot be opened ({e:#}): starting a new one"),
            }
        }
        let fresh = SearchIndex::create_unpublished(root)?;
        fresh.publish()?;
        Ok(fresh)
    }

    /// A new, empty generation in `root`, not yet served: fill it, commit,
    /// then [`SearchIndex::publish`] it.
    pub fn create_unpublished(root: &Path) -> Result<SearchIndex> {
        std::fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
        let name = next_generation(root);
        let g = Generation::open(&root.join(&name), &name)?
            .ok_or_else(|| anyhow::anyhow!("a new index generation is unreadable"))?;
        Ok(SearchIndex::from_generation(root, g))
    }

    fn from_generation(root: &Path, g: Generation) -> SearchIndex {
        SearchIndex {
            root: root.to_path_buf(),
            current: RwLock::new(Arc::new(g)),
            subjects: RwLock::new(Arc::new(SubjectTree::default())),
        }
    }

    /// Makes this generation the one served (atomically, by a rename of
    /// `CURRENT`) and removes generations older than the one it replaces.
    pub fn publish(&self) -> Result<()> {
        let name = self.generation().name.clone();
        let previous = read_current(&self.root);
        crate::extract::write_atomically(&self.root, CURRENT, name.as_bytes())
            .with_context(|| format!("cannot write {}", self.root.join(CURRENT).display()))?;
        for g in generations(&self.root) {
            if g != name && Some(&g) != previous.as_ref() {
                let _ = std::fs::remove_dir_all(self.root.join(&g));
            }
        }
        Ok(())
    }

    fn generation(&self) -> Arc<Generation> {
        self.current.read().expect("index lock").clone()
    }

    /// The directory the index lives in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where extracted texts are cached (see [`crate::Extractor::with_cache`]).
    pub fn text_cache_dir(&self) -> PathBuf {
        self.root.join("text-cache")
    }

    /// If another process published a new generation (`arkiv reindex`),
    /// switch to it. Returns whether it switched.
    pub fn reload_if_swapped(&self) -> Result<bool> {
        let Some(name) = read_current(&self.root) else { return Ok(false) };
        if name == self.generation().name {
            return Ok(false);
        }
        match Generation::open(&self.root.join(&name), &name)? {
            Some(g) => {
                *self.current.write().expect("index lock") = Arc::new(g);
                tracing::info!("search index switched to {name}");
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The subject tree used to index subject paths and label subject facets.
    pub fn set_subjects(&self, tree: Arc<SubjectTree>) {
        *self.subjects.write().expect("subject lock") = tree;
    }

    pub fn subjects(&self) -> Arc<SubjectTree> {
        self.subjects.read().expect("subject lock").clone()
    }

    /// The last change-feed sequence whose changes are committed.
    pub fn indexed_seq(&self) -> i64 {
        self.generation().seq.load(Ordering::SeqCst)
    }

    /// Number of records in the index (as of the last reload).
    pub fn num_docs(&self) -> u64 {
        self.generation().reader.searcher().num_docs()
    }

    /// Adds or replaces records: a live record is (re)indexed, any other is
    /// removed. `full_texts` holds the extracted text of those that have
    /// some. Records without an id are skipped. Visible after
    /// [`SearchIndex::commit`].
    pub fn index_records(&self, records: &[Record], full_texts: &HashMap<RecordId, String>) -> Result<()> {
        self.index_records_pending(records, full_texts, &HashSet::new())
    }

    /// As [`SearchIndex::index_records`], and the live records named in
    /// `text_pending` are marked as still owed the text of a file being
    /// extracted: [`SearchIndex::text_pending_ids`] finds them again, in
    /// this process or after a restart. Indexing a record again without
    /// the mark clears it.
    pub fn index_records_pending(
        &self,
        records: &[Record],
        full_texts: &HashMap<RecordId, String>,
        text_pending: &HashSet<RecordId>,
    ) -> Result<()> {
        let g = self.generation();
        let subjects = self.subjects();
        g.with_writer(|w| {
            for r in records {
                let Some(id) = r.id else { continue };
                w.delete_term(Term::from_field_u64(g.fields.id, id as u64));
                if r.is_live() {
                    let text = full_texts.get(&id).map(String::as_str);
                    let mut doc = record_document(&g.fields, r, id as u64, &subjects, text);
                    if text_pending.contains(&id) {
                        doc.add_u64(g.fields.text_pending, 1);
                    }
                    w.add_document(doc)?;
                }
            }
            Ok(())
        })
    }

    /// The committed records marked as owed a text (see
    /// [`SearchIndex::index_records_pending`]) whose id is above `after`:
    /// the first `limit` of them, ascending.
    pub fn text_pending_ids(&self, after: RecordId, limit: usize) -> Result<Vec<RecordId>> {
        let g = self.generation();
        let searcher = g.reader.searcher();
        let query = TermQuery::new(Term::from_field_u64(g.fields.text_pending, 1), IndexRecordOption::Basic);
        let found = searcher.search(&query, &DocSetCollector)?;
        let mut ids = Vec::with_capacity(found.len());
        for address in found {
            let column = searcher.segment_reader(address.segment_ord).fast_fields().u64("id")?;
            if let Some(id) = column.first(address.doc_id) {
                ids.push(id as RecordId);
            }
        }
        ids.retain(|id| *id > after);
        ids.sort_unstable();
        ids.truncate(limit);
        Ok(ids)
    }

    /// Removes a record. Visible after [`SearchIndex::commit`].
    pub fn delete(&self, id: RecordId) -> Result<()> {
        let g = self.generation();
        g.with_writer(|w| {
            w.delete_term(Term::from_field_u64(g.fields.id, id as u64));
            Ok(())
        })
    }

    /// Commits what was written, keeping the indexed sequence.
    pub fn commit(&self) -> Result<()> {
        self.commit_at(self.indexed_seq())
    }

    /// Commits what was written as having applied the change feed up to
    /// `seq`, and makes it searchable at once.
    pub fn commit_at(&self, seq: i64) -> Result<()> {
        let g = self.generation();
        g.with_writer(|w| {
            let payload = serde_json::to_string(&Payload { version: SCHEMA_VERSION, seq })?;
            let mut prepared = w.prepare_commit()?;
            prepared.set_payload(&payload);
            prepared.commit()?;
            Ok(())
        })?;
        g.seq.store(seq, Ordering::SeqCst);
        g.reader.reload()?;
        Ok(())
    }

    /// Starts a build from scratch (`arkiv reindex`): segments are not
    /// merged as they are written (the merge policy would merge and merge
    /// again what [`SearchIndex::merge_segments`] merges once at the end,
    /// on the same cores); `merge_segments` ends it.
    pub fn start_bulk_build(&self) {
        let g = self.generation();
        g.bulk.store(true, Ordering::Release);
        let guard = g.writer.lock();
        if let Ok(Some(w)) = guard.as_deref() {
            w.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        }
    }

    /// The segments a search visits now.
    pub fn segment_count(&self) -> Result<usize> {
        Ok(self.generation().index.searchable_segment_ids()?.len())
    }

    /// Merges every segment of the index into one and waits for it (what
    /// `arkiv reindex` ends with). A search visits each segment: facet
    /// dictionaries are walked and the creator and series candidates
    /// looked up once per segment (`top_values.rs`), so a freshly built
    /// index of many segments answers slower than the same records in one.
    /// The follower's later commits add small segments again, which the
    /// merge policy folds in as they accumulate.
    pub fn merge_segments(&self) -> Result<()> {
        let g = self.generation();
        g.bulk.store(false, Ordering::Release);
        let mut guard = g.writer.lock().map_err(|_| anyhow::anyhow!("index writer lock poisoned"))?;
        // A segment cannot be in two merges: let those the merge policy
        // started after the last commits finish, then merge with a writer
        // that starts none of its own.
        if let Some(writer) = guard.take() {
            writer.wait_merging_threads()?;
        }
        let ids = g.index.searchable_segment_ids()?;
        if ids.len() > 1 {
            let mut writer: IndexWriter<TantivyDocument> = g.index.writer_with_num_threads(1, WRITER_MEMORY)?;
            writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
            writer.merge(&ids).wait()?;
            writer.wait_merging_threads()?;
        }
        // The next write opens a writer with the default policy again.
        drop(guard);
        g.reader.reload()?;
        Ok(())
    }

    /// Runs a search. Fails only on I/O errors of the index: any query text,
    /// filter value or cursor gives results, possibly with warnings.
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults> {
        let g = self.generation();
        let searcher = g.reader.searcher();
        let subjects = self.subjects();
        let parsed = parse(&req.query);
        let mut warnings = parsed.warnings.clone();
        let page_size = match req.page_size {
            0 => DEFAULT_PAGE_SIZE,
            n => n.min(MAX_PAGE_SIZE),
        };
        let after = match req.cursor.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(c) => match Cursor::decode(c) {
                Some(c) => Some(c),
                None => {
                    warnings.push("The page link was not understood; showing the first page.".into());
                    None
                }
            },
            None => None,
        };
        let sort = if parsed.node.is_none() && req.sort == Sort::Relevance { Sort::Newest } else { req.sort };

        // Filters.
        let mut filters: Vec<Box<dyn Query>> = Vec::new();
        let mut subject_path: Vec<String> = Vec::new();
        if req.filters.len() > MAX_FILTERS {
            warnings.push(format!("Only the first {MAX_FILTERS} filters were applied."));
        }
        for (facet, value) in req.filters.iter().take(MAX_FILTERS) {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let f = &g.fields;
            let q = match facet {
                Facet::Type => facet_query(f.f_type, &[value]),
                Facet::Creator => facet_query(f.f_creator, &[value]),
                Facet::Series => facet_query(f.f_series, &[value]),
                Facet::Division => facet_query(f.f_division, &[value]),
                Facet::Language => facet_query(f.f_language, &[&value.to_lowercase()]),
                Facet::FullText => facet_query(f.f_fulltext, &[&value.to_lowercase()]),
                Facet::Subject => {
                    let mut path: Vec<String> = subjects.path(value).iter().map(|s| s.id.clone()).collect();
                    if path.is_empty() {
                        path = vec![value.to_string()];
                    }
                    let refs: Vec<&str> = path.iter().map(String::as_str).collect();
                    let q = facet_query(f.f_subject, &refs);
                    if path.len() > subject_path.len() {
                        subject_path = path;
                    }
                    q
                }
                Facet::Year => match parse_years(value) {
                    Some((from, to)) => {
                        let b = |y: Option<i64>| match y {
                            Some(y) => Bound::Included(Term::from_field_i64(f.year, y)),
                            None => Bound::Unbounded,
                        };
                        Box::new(RangeQuery::new(b(from), b(to)))
                    }
                    None => {
                        warnings.push(format!("The year filter {value:?} is not a year or a range; it was ignored."));
                        continue;
                    }
                },
            };
            filters.push(q);
        }

        let mut compiler = Compiler::new(&g.fields);
        let compile = |compiler: &mut Compiler, node: Option<&crate::query::Node>, warnings: &mut Vec<String>| {
            let main: Box<dyn Query> = match node {
                None => Box::new(AllQuery),
                Some(n) => match compiler.compile(n) {
                    Some(q) => q,
                    None => {
                        warnings.push("Nothing in the query can be searched for.".into());
                        Box::new(EmptyQuery)
                    }
                },
            };
            main
        };

        let mut main = compile(&mut compiler, parsed.node.as_ref(), &mut warnings);
        let mut relaxed_node = None;
        let mut outcome = self.run(&g, &searcher, &*main, &filters, sort, after, page_size, req, &subject_path)?;
        if outcome.0 == 0 {
            if let Some(relaxed) = parsed.relaxed() {
                if let Some(q) = compiler.compile(&relaxed) {
                    let again = self.run(&g, &searcher, &*q, &filters, sort, after, page_size, req, &subject_path)?;
                    if again.0 > 0 {
                        warnings.push("No record has all of these words; showing records with any of them.".into());
                        outcome = again;
                        main = q;
                        relaxed_node = Some(relaxed);
                    }
                }
            }
        }
        let (total, ranked, facet_counts) = outcome;

        // Snippets, from the words of the stored fields (phrases as
        // phrases, not as the pairs they were searched by).
        let highlight = match &relaxed_node {
            Some(n) => Compiler::for_highlighting(&g.fields).compile(n),
            None => parsed.node.as_ref().and_then(|n| Compiler::for_highlighting(&g.fields).compile(n)),
        }
        .unwrap_or(main);
        let snippet_gen = |field, chars| -> Option<SnippetGenerator> {
            let mut s = SnippetGenerator::create(&searcher, &*highlight, field).ok()?;
            s.set_max_num_chars(chars);
            Some(s)
        };
        let gens: Vec<(&str, Option<SnippetGenerator>)> = vec![
            ("title", snippet_gen(g.fields.title, 500)),
            ("abstract", snippet_gen(g.fields.abstract_, 240)),
            ("fulltext", snippet_gen(g.fields.fulltext, 240)),
        ];
        let mut hits = Vec::with_capacity(page_size);
        let more = ranked.len() > page_size;
        for r in ranked.iter().take(page_size) {
            let mut snippets = Vec::new();
            if gens.iter().any(|(_, s)| s.is_some()) {
                if let Ok(doc) = searcher.doc::<TantivyDocument>(r.addr) {
                    for (name, gen) in &gens {
                        if let Some(gen) = gen {
                            let s = gen.snippet_from_doc(&doc);
                            if !s.is_empty() && !s.highlighted().is_empty() {
                                snippets.push(Snippet { field: name.to_string(), html: s.to_html() });
                            }
                        }
                    }
                }
            }
            hits.push(Hit { id: r.cursor.id as RecordId, score: r.score, snippets });
        }
        let next_cursor = if more { hits.last().map(|_| ranked[page_size - 1].cursor.encode()) } else { None };
        Ok(SearchResults { total, hits, facets: facet_counts, next_cursor, warnings })
    }

    /// One search: the matches of every segment (one pass without scores
    /// for the query and one for each filter, their bits then intersected),
    /// the page (see [`crate::collect`]), and the facets counted over the
    /// matches (see [`crate::facet_ords`]). Filters never change scores:
    /// they only mask the matches, so ranking by relevance still skips
    /// blocks by the query's own scores.
    #[allow(clippy::too_many_arguments)]
    fn run(
        &self,
        g: &Generation,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        filters: &[Box<dyn Query>],
        sort: Sort,
        after: Option<Cursor>,
        page_size: usize,
        req: &SearchRequest,
        subject_path: &[String],
    ) -> Result<Outcome> {
        let limit = page_size + 1;
        let unscored = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
        let filters = filters
            .iter()
            .map(|f| f.weight(EnableScoring::disabled_from_searcher(searcher)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let scored = if sort == Sort::Relevance {
            Some(query.weight(EnableScoring::enabled_from_searcher(searcher))?)
        } else {
            None
        };
        let mut matches = Vec::with_capacity(searcher.segment_readers().len());
        let mut ranked = Vec::new();
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            let mut m = Matches::of(&*unscored, reader)?;
            for f in &filters {
                if m.count == 0 {
                    break;
                }
                m.intersect(&Matches::of(&**f, reader)?);
            }
            ranked.extend(match &scored {
                Some(weight) => top_by_score(&**weight, reader, ord as u32, &m, after, limit)?,
                None => top_by_key(reader, ord as u32, &m, sort, after, limit)?,
            });
            matches.push(m);
        }
        ranked.sort();
        ranked.truncate(limit);
        let total: u64 = matches.iter().map(|m| m.count as u64).sum();
        let facets = if req.no_facets {
            BTreeMap::new()
        } else {
            count_facets(searcher, &g.facet_ords, &matches, subject_path, &self.subjects())?
        };
        Ok((total, ranked, facets))
    }
}
