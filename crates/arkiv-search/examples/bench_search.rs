//! The search benchmark behind BENCHMARKS.md's "Search" section (run it
//! through `scripts/bench-search.sh`):
//!
//!   cargo run --release -p arkiv-search --example bench_search -- COUNT
//!
//! It generates COUNT records in memory (the generator of `arkiv generate`,
//! seed 1, metadata only), then measures, in one process on the same
//! records:
//!
//! 1. Tantivy (Arkiv's index): indexing rate (records/s, `index_records` in
//!    batches of 1,000 plus the final commit), then the merge into one
//!    segment that `arkiv reindex` ends with (timed apart), index size on
//!    disk, and the
//!    latency of a fixed mix of 1,000 queries with all facets counted;
//! 2. SQLite FTS5, the floor to beat: the same records in an FTS5 table
//!    (unicode61 with diacritics removed, Porter stemming) beside a plain
//!    table of the facet columns, and the same query mix translated to
//!    FTS5 (`MATCH`, column filters, `LIMIT/OFFSET` for deep pages), with
//!    type, year and series counted by `GROUP BY` (Arkiv counts seven facets).
//!
//! The mix (drawn from the records with a fixed seed, so every run asks the
//! same): 300 one-word queries, 200 phrases, 200 fielded queries (creator,
//! title, year range, type, subject), 200 one-word queries with a type or
//! year filter, 100 deep pages (page 101 of 20 hits, reached by the cursor
//! for Tantivy and by `OFFSET 2000` for FTS5).
//!
//! With `--index-only` after COUNT it stops after indexing, with `--no-fts5`
//! after Arkiv's searches (both for profiling).
//!
//! Output: one line of JSON with the figures, for the script to format.
//! Peak memory is the process's high-water mark (VmHWM) after each part; it
//! counts the generated records the process holds. What serving searches
//! costs is reported apart when the index was built by an earlier run
//! (`BENCH_SEARCH_INDEX`, below), as in a server that opens an index: the
//! anonymous memory the 2,000 Arkiv queries added (RssAnon after minus
//! before) and the mapped file pages resident after them (RssFile: the
//! index's pages, and the program's own).

use anyhow::Result;

/// The allocator of the `arkiv` binary (src/main.rs), so that the figures
/// are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use arkiv_model::{Record, Status};
use arkiv_search::{Facet, SearchIndex, SearchRequest};
use arkiv_services::generate::{subject_tree, Generator, GeneratorOptions};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// One query of the mix, in terms both engines can answer.
#[derive(Debug, Clone)]
enum Query {
    Word(String),
    Phrase(String, String),
    Creator(String),
    Title(String),
    Years(i32, i32),
    Type(String),
    Subject(String),
    WordOfType(String, String),
    WordInYears(String, i32, i32),
    DeepPage(String),
}

impl Query {
    fn kind(&self) -> &'static str {
        match self {
            Query::Word(_) => "word",
            Query::Phrase(..) => "phrase",
            Query::Creator(_) | Query::Title(_) | Query::Years(..) | Query::Type(_) | Query::Subject(_) => "fielded",
            Query::WordOfType(..) | Query::WordInYears(..) => "faceted",
            Query::DeepPage(_) => "deep",
        }
    }
}

const DEEP_PAGES: usize = 100;
const PAGE: usize = 20;

fn main() -> Result<()> {
    let count: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let work = tempfile::tempdir()?;

    let started = Instant::now();
    let generator = Generator::new(GeneratorOptions { seed: 1, with_pdfs: false, first_id: None });
    let records: Vec<Record> = (0..count)
        .map(|i| {
            let mut r = generator.record(i).record;
            r.id = Some(i as i64 + 1);
            r.status = Status::Archive;
            r
        })
        .collect();
    let generate_secs = started.elapsed().as_secs_f64();
    let mix = query_mix(&records);

    // --- Tantivy ---
    // BENCH_SEARCH_INDEX=DIR keeps the index in DIR and, when DIR already
    // holds one of COUNT records, searches it without indexing again (for
    // profiling queries; the figures of BENCHMARKS.md index every time).
    let kept = std::env::var_os("BENCH_SEARCH_INDEX").map(std::path::PathBuf::from);
    let index_dir = kept.clone().unwrap_or_else(|| work.path().join("tantivy"));
    let index = Arc::new(SearchIndex::open(&index_dir)?);
    index.set_subjects(Arc::new(subject_tree()));
    let (mut add_secs, mut tantivy_index_secs, mut merge_secs) = (0.0, 0.0, 0.0);
    if kept.is_none() || index.num_docs() != count {
        // As `arkiv reindex` builds: no merges until the end.
        index.start_bulk_build();
        let started = Instant::now();
        let no_text = HashMap::new();
        for chunk in records.chunks(1000) {
            index.index_records(chunk, &no_text)?;
        }
        add_secs = started.elapsed().as_secs_f64();
        index.commit()?;
        tantivy_index_secs = started.elapsed().as_secs_f64();
        // As `arkiv reindex` leaves it: one segment (timed apart; searches
        // run on it).
        let started = Instant::now();
        index.merge_segments()?;
        merge_secs = started.elapsed().as_secs_f64();
    }
    let tantivy_bytes = dir_size(&index_dir);
    if std::env::args().nth(2).as_deref() == Some("--index-only") {
        // For profiling the indexing alone.
        println!(
            "{}",
            serde_json::json!({"records": count, "add_secs": add_secs, "index_secs": tantivy_index_secs, "merge_secs": merge_secs,
                "records_per_sec": count as f64 / tantivy_index_secs, "index_bytes": tantivy_bytes})
        );
        return Ok(());
    }
    // What serving searches adds to a process: the anonymous memory the
    // queries made (facet arrays, caches; the records held for the
    // benchmark are there before and after) and the index's pages mapped.
    // Only meaningful when this process did not index: memory the indexer
    // freed would be reused for the caches and hide them.
    let indexed_here = add_secs > 0.0;
    let anon_before = status_kib("RssAnon:");
    let tantivy = run_tantivy(&index, &mix, true)?;
    let tantivy_no_facets = run_tantivy(&index, &mix, false)?;
    let tantivy_hwm = peak_rss_kib();
    let search_anon_kib = (!indexed_here).then(|| status_kib("RssAnon:").saturating_sub(anon_before));
    let mapped_kib = (!indexed_here).then(|| status_kib("RssFile:"));
    if std::env::args().nth(2).as_deref() == Some("--no-fts5") {
        // For profiling Arkiv's searches alone.
        println!(
            "{}",
            serde_json::json!({"records": count, "records_per_sec": count as f64 / tantivy_index_secs,
                "latency": tantivy, "latency_without_facets": tantivy_no_facets,
                "search_anon_kib": search_anon_kib, "mapped_kib": mapped_kib})
        );
        return Ok(());
    }

    // --- SQLite FTS5 ---
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (fts_index_secs, fts_bytes, fts) = rt.block_on(run_fts5(&work.path().join("fts.db"), &records, &mix))?;
    let total_hwm = peak_rss_kib();

    println!(
        "{}",
        serde_json::json!({
            "records": count,
            "generate_secs": generate_secs,
            "tantivy": {
                "index_secs": tantivy_index_secs,
                "merge_secs": merge_secs,
                "records_per_sec": count as f64 / tantivy_index_secs,
                "index_bytes": tantivy_bytes,
                "latency": tantivy,
                "latency_without_facets": tantivy_no_facets,
                "peak_rss_kib": tantivy_hwm,
                "search_anon_kib": search_anon_kib,
                "mapped_kib": mapped_kib,
            },
            "fts5": {
                "index_secs": fts_index_secs,
                "records_per_sec": count as f64 / fts_index_secs,
                "index_bytes": fts_bytes,
                "latency": fts,
                "peak_rss_kib_after_both": total_hwm,
            },
        })
    );
    Ok(())
}

/// The 1,000 queries, drawn from the records with a fixed seed.
fn query_mix(records: &[Record]) -> Vec<Query> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
    let pick = |rng: &mut rand_chacha::ChaCha8Rng| records.choose(rng).expect("records");
    let title_words = |r: &Record| -> Vec<String> {
        r.title
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 4)
            .map(|w| w.to_lowercase())
            .collect()
    };
    let word = |rng: &mut rand_chacha::ChaCha8Rng| loop {
        let words = title_words(pick(rng));
        if let Some(w) = words.choose(rng) {
            return w.clone();
        }
    };
    let mut mix = Vec::with_capacity(1000);
    for _ in 0..300 {
        mix.push(Query::Word(word(&mut rng)));
    }
    while mix.len() < 500 {
        let r = pick(&mut rng);
        let words: Vec<String> =
            r.title.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase()).collect();
        if words.len() >= 2 {
            let i = rng.gen_range(0..words.len() - 1);
            mix.push(Query::Phrase(words[i].clone(), words[i + 1].clone()));
        }
    }
    while mix.len() < 700 {
        let r = pick(&mut rng);
        let q = match mix.len() % 5 {
            0 => r.creators.first().map(|c| Query::Creator(c.name.family.clone())),
            1 => Some(Query::Title(word(&mut rng))),
            2 => r.year().map(|y| Query::Years(y - 2, y)),
            3 => Some(Query::Type(r.item_type.clone())),
            _ => r.subjects.first().map(|s| Query::Subject(s.clone())),
        };
        mix.extend(q);
    }
    while mix.len() < 900 {
        let r = pick(&mut rng);
        let w = word(&mut rng);
        if mix.len() % 2 == 0 {
            mix.push(Query::WordOfType(w, r.item_type.clone()));
        } else if let Some(y) = r.year() {
            mix.push(Query::WordInYears(w, y - 4, y));
        }
    }
    // Deep pages need a word with more than DEEP_PAGES pages of hits: the
    // commonest title words.
    let mut freq: HashMap<String, usize> = HashMap::new();
    for r in records.iter().take(20_000) {
        for w in title_words(r) {
            *freq.entry(w).or_default() += 1;
        }
    }
    let mut common: Vec<(String, usize)> = freq.into_iter().collect();
    common.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let common: Vec<String> = common.into_iter().take(20).map(|(w, _)| w).collect();
    while mix.len() < 1000 {
        mix.push(Query::DeepPage(common[mix.len() % common.len()].clone()));
    }
    mix
}

fn tantivy_request(q: &Query) -> SearchRequest {
    let mut req = match q {
        Query::Word(w) | Query::DeepPage(w) => SearchRequest::new(w.clone()),
        Query::Phrase(a, b) => SearchRequest::new(format!("\"{a} {b}\"")),
        Query::Creator(c) => SearchRequest::new(format!("creator:{c}")),
        Query::Title(w) => SearchRequest::new(format!("title:{w}")),
        Query::Years(a, b) => SearchRequest::new(format!("year:{a}..{b}")),
        Query::Type(t) => SearchRequest::new(format!("type:{t}")),
        Query::Subject(s) => SearchRequest::new(format!("subject:{s}")),
        Query::WordOfType(w, t) => {
            let mut r = SearchRequest::new(w.clone());
            r.filters.push((Facet::Type, t.clone()));
            r
        }
        Query::WordInYears(w, a, b) => {
            let mut r = SearchRequest::new(w.clone());
            r.filters.push((Facet::Year, format!("{a}..{b}")));
            r
        }
    };
    req.page_size = PAGE;
    req
}

/// The mix on Tantivy, with every facet counted or (to see what facets
/// cost) none.
fn run_tantivy(index: &SearchIndex, mix: &[Query], facets: bool) -> Result<serde_json::Value> {
    // Warm up: the first searches load the index's files.
    for q in mix.iter().take(50) {
        index.search(&tantivy_request(q))?;
    }
    let mut times = Vec::with_capacity(mix.len());
    // BENCH_SEARCH_ONLY=KIND runs one kind of query (for profiling).
    let only = std::env::var("BENCH_SEARCH_ONLY").ok();
    // BENCH_SEARCH_SLOW=MS prints each query slower than MS (to stderr).
    let slow: Option<f64> = std::env::var("BENCH_SEARCH_SLOW").ok().and_then(|s| s.parse().ok());
    for q in mix.iter().filter(|q| only.as_deref().is_none_or(|k| k == q.kind())) {
        let mut req = tantivy_request(q);
        req.no_facets = !facets;
        if let Query::DeepPage(_) = q {
            // Reach the page by its cursor (not timed), then time the page.
            req.no_facets = true;
            for _ in 0..DEEP_PAGES {
                match index.search(&req)?.next_cursor {
                    Some(c) => req.cursor = Some(c),
                    None => break,
                }
            }
        }
        req.no_facets = !facets;
        let started = Instant::now();
        let results = index.search(&req)?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if slow.is_some_and(|s| ms >= s) {
            eprintln!("slow: {ms:.1} ms, {} hits: {q:?}", results.total);
        }
        times.push((q.kind(), ms));
        std::hint::black_box(results);
    }
    Ok(summarize(&times))
}

async fn run_fts5(path: &std::path::Path, records: &[Record], mix: &[Query]) -> Result<(f64, u64, serde_json::Value)> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
    sqlx::query(
        "CREATE VIRTUAL TABLE fts USING fts5(title, abstract, creators, keywords, subjects, series, \
         tokenize = 'porter unicode61 remove_diacritics 2')",
    )
    .execute(&pool)
    .await?;
    sqlx::query("CREATE TABLE meta (id INTEGER PRIMARY KEY, type TEXT, year INTEGER, series TEXT, subjects TEXT)")
        .execute(&pool)
        .await?;
    let started = Instant::now();
    for chunk in records.chunks(1000) {
        let mut tx = pool.begin().await?;
        for r in chunk {
            let creators: Vec<String> =
                r.creators.iter().map(|c| format!("{} {}", c.name.family, c.name.given)).collect();
            sqlx::query("INSERT INTO fts (rowid, title, abstract, creators, keywords, subjects, series) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(r.id)
                .bind(&r.title)
                .bind(r.abstract_text.as_deref().unwrap_or(""))
                .bind(creators.join("; "))
                .bind(r.keywords.join("; "))
                .bind(r.subjects.join(" "))
                .bind(r.series.as_deref().unwrap_or(""))
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO meta (id, type, year, series, subjects) VALUES (?, ?, ?, ?, ?)")
                .bind(r.id)
                .bind(&r.item_type)
                .bind(r.year())
                .bind(r.series.as_deref())
                .bind(format!(" {} ", r.subjects.join(" ")))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
    }
    for ddl in [
        "CREATE INDEX meta_type ON meta (type, id)",
        "CREATE INDEX meta_year ON meta (year, id)",
        "CREATE INDEX meta_series ON meta (series)",
    ] {
        sqlx::query(ddl).execute(&pool).await?;
    }
    sqlx::query("INSERT INTO fts (fts) VALUES ('optimize')").execute(&pool).await?;
    let index_secs = started.elapsed().as_secs_f64();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await?;
    let bytes = std::fs::metadata(path)?.len();

    for q in mix.iter().take(50) {
        fts_query(&pool, q).await?;
    }
    let mut times = Vec::with_capacity(mix.len());
    // BENCH_SEARCH_ONLY=KIND runs one kind of query (for profiling).
    let only = std::env::var("BENCH_SEARCH_ONLY").ok();
    for q in mix.iter().filter(|q| only.as_deref().is_none_or(|k| k == q.kind())) {
        let started = Instant::now();
        fts_query(&pool, q).await?;
        times.push((q.kind(), started.elapsed().as_secs_f64() * 1000.0));
    }
    Ok((index_secs, bytes, summarize(&times)))
}

/// A term as an FTS5 string literal (quoted, so punctuation is not syntax).
fn fts_term(w: &str) -> String {
    format!("\"{}\"", w.replace('"', "\"\""))
}

/// One query of the mix on FTS5: the page of hits, then the type, year
/// and series counts of all matches.
async fn fts_query(pool: &sqlx::SqlitePool, q: &Query) -> Result<()> {
    // (MATCH expression or None, extra WHERE on meta, offset)
    let (matching, filter, offset): (Option<String>, String, usize) = match q {
        Query::Word(w) => (Some(fts_term(w)), String::new(), 0),
        Query::DeepPage(w) => (Some(fts_term(w)), String::new(), DEEP_PAGES * PAGE),
        Query::Phrase(a, b) => (Some(format!("\"{} {}\"", a.replace('"', ""), b.replace('"', ""))), String::new(), 0),
        Query::Creator(c) => (Some(format!("creators : {}", fts_term(c))), String::new(), 0),
        Query::Title(w) => (Some(format!("title : {}", fts_term(w))), String::new(), 0),
        Query::Years(a, b) => (None, format!("m.year BETWEEN {a} AND {b}"), 0),
        Query::Type(t) => (None, format!("m.type = '{}'", t.replace('\'', "''")), 0),
        Query::Subject(s) => (None, format!("m.subjects LIKE '% {} %'", s.replace('\'', "''")), 0),
        Query::WordOfType(w, t) => (Some(fts_term(w)), format!("m.type = '{}'", t.replace('\'', "''")), 0),
        Query::WordInYears(w, a, b) => (Some(fts_term(w)), format!("m.year BETWEEN {a} AND {b}"), 0),
    };
    let (from, mut conds, order) = match &matching {
        Some(_) => ("fts JOIN meta m ON m.id = fts.rowid", vec!["fts MATCH ?1".to_string()], "fts.rank"),
        None => ("meta m", vec![], "m.id DESC"),
    };
    if !filter.is_empty() {
        conds.push(filter);
    }
    let where_clause = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
    let page = format!("SELECT m.id FROM {from} {where_clause} ORDER BY {order} LIMIT {PAGE} OFFSET {offset}");
    let mut statements = vec![page];
    for col in ["type", "year", "series"] {
        statements.push(format!("SELECT m.{col}, count(*) FROM {from} {where_clause} GROUP BY m.{col}"));
    }
    for sql in statements {
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()));
        if let Some(m) = &matching {
            query = query.bind(m);
        }
        let rows = query.fetch_all(pool).await?;
        std::hint::black_box(rows.first().map(|r| r.len()));
    }
    Ok(())
}

/// p50, p99 and max per kind of query and over the whole mix, in ms.
fn summarize(times: &[(&'static str, f64)]) -> serde_json::Value {
    fn stats(mut v: Vec<f64>) -> serde_json::Value {
        v.sort_by(|a, b| a.total_cmp(b));
        let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).saturating_sub(1).min(v.len() - 1)];
        serde_json::json!({ "n": v.len(), "p50_ms": at(0.50), "p99_ms": at(0.99), "max_ms": v[v.len() - 1] })
    }
    let mut out = serde_json::Map::new();
    out.insert("all".into(), stats(times.iter().map(|t| t.1).collect()));
    for kind in ["word", "phrase", "fielded", "faceted", "deep"] {
        let v: Vec<f64> = times.iter().filter(|t| t.0 == kind).map(|t| t.1).collect();
        if !v.is_empty() {
            out.insert(kind.into(), stats(v));
        }
    }
    serde_json::Value::Object(out)
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            total += if p.is_dir() { dir_size(&p) } else { e.metadata().map(|m| m.len()).unwrap_or(0) };
        }
    }
    total
}

/// The process's peak resident memory so far (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// A figure of /proc/self/status in KiB (`RssAnon:`: allocated memory
/// resident; `RssFile:`: pages of mapped files resident).
fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}
