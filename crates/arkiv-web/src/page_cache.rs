//! Rendered abstract pages for visitors who are not logged in.
//!
//! EPrints writes every abstract page to a static file and rewrites it when
//! the record changes; that is why its pages are cheap to serve. This is
//! the same idea in memory: an anonymous visitor's abstract page is the same
//! bytes for everyone until something it shows changes, so the rendered
//! body and its ETag are kept, and a repeat view costs a lookup instead of
//! the store reads, a template render and a SHA-256 of the page.
//!
//! Staleness: before answering from the cache, [`PageCache::lookup`] makes
//! sure it has applied the change feed up to its newest sequence. If
//! anything was written since the cache last looked, the changed records'
//! pages are dropped first, with the pages that show them (the record a
//! new version succeeds, and the later versions of a changed record); many
//! changes at once drop everything. The newest sequence is read from the
//! store (one index read) after any write committed through the
//! repository's store (`ChangeFeed::local_writes`, so what a user just did
//! here shows on the next view) and otherwise at most every [`RECHECK`]: a
//! write by another process (an `arkiv import`, another node over PostgreSQL) shows
//! within that. (Reading the store on every view, as a first version did,
//! hands each view to a database thread and back; at 16 connections that
//! held a cached page to about a third of the ceiling's throughput.) A page also remembers the settings and subject tree it was
//! rendered with and the day (embargoes open at midnight): when either has
//! been replaced, or the day has turned, it is rendered afresh.
//!
//! A page rendered while a write commits is not kept: [`Miss`] carries the
//! sequence seen before the record was read, and [`PageCache::insert`]
//! keeps the page only if the cache has not moved past that sequence since.
//!
//! Logged-in users always get a fresh page (their Actions box, forms and
//! CSRF tokens are their own), and so does any `?style=` other than the
//! built-in styles (the key space stays bounded).
//!
//! Pages that show many records (home, the browse views) are kept too, by
//! address ([`views`], a layer on their routes), but only until the next
//! change of any record: which views a change touches is not worth
//! working out when a repository changes a few times an hour and is read
//! all day.

use crate::AppState;
use arkiv_model::{RecordId, SubjectTree};
use arkiv_services::settings::LiveSettings;
use arkiv_services::Repository;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes of page bodies kept at most (an abstract page is 10 to 40 KB, so
/// a few thousand pages: the records people are reading now).
pub const CAPACITY_BYTES: u64 = 64 << 20;
/// How long the cache trusts its last look at the change feed when this
/// process has written nothing since.
pub const RECHECK: std::time::Duration = std::time::Duration::from_millis(50);
/// Changes since the last look above which the whole cache is dropped
/// instead of finding the pages each one touches (a bulk import).
const MAX_TRACKED_CHANGES: i64 = 200;

/// Which page: the record and the Cite box's style, if one was asked.
type Key = (RecordId, Option<&'static str>);

/// A rendered page and what it was rendered from.
pub struct CachedPage {
    status: StatusCode,
    body: Bytes,
    etag: HeaderValue,
    headers: Vec<(header::HeaderName, HeaderValue)>,
    settings: Arc<LiveSettings>,
    subjects: Arc<SubjectTree>,
    day: arkiv_model::PartialDate,
    /// The change-feed sequence the cache had applied when the page was
    /// rendered (a view page is good only while it stays the newest).
    seq: i64,
    /// What a view of it counts as in the statistics (a cache hit counts
    /// like any other view).
    countable: Option<crate::usage::Countable>,
    /// How far the statistics were rolled up when it was rendered.
    rolled: i64,
}

#[derive(Clone)]
struct BodyWeight;

impl<K> quick_cache::Weighter<K, Arc<CachedPage>> for BodyWeight {
    fn weight(&self, _key: &K, page: &Arc<CachedPage>) -> u64 {
        page.body.len() as u64 + 512
    }
}

/// Bytes of view pages kept at most.
const VIEW_CAPACITY_BYTES: u64 = 16 << 20;
/// Longer addresses are not kept (cursors and filters make many).
const MAX_VIEW_KEY: usize = 512;

pub struct PageCache {
    pages: quick_cache::sync::Cache<Key, Arc<CachedPage>, BodyWeight>,
    /// Home and browse pages by address (path and query).
    views: quick_cache::sync::Cache<String, Arc<CachedPage>, BodyWeight>,
    /// The change-feed sequence whose changes have been applied to the
    /// cache (pages of records changed up to it are gone).
    synced: AtomicI64,
    /// One sync at a time.
    syncing: tokio::sync::Mutex<()>,
    /// When the store was last asked (ms since `started`), and the count of
    /// this process's writes read just before.
    checked_ms: AtomicU64,
    checked_writes: AtomicU64,
    started: std::time::Instant,
    /// [`RECHECK`] in milliseconds, unless the cache was made with another.
    recheck_ms: u64,
    /// How far the statistics' roll-up had counted when last asked (every
    /// [`USAGE_RECHECK_MS`]), and when that was: an abstract page shows its
    /// item's figures, so a page rendered before a roll-up (on any node) is
    /// rendered afresh after it.
    rolled: AtomicI64,
    rolled_checked_ms: AtomicU64,
    /// Lookups answered from the cache, and not (`/metrics`).
    hits: AtomicU64,
    misses: AtomicU64,
}

/// How often the cache asks how far the statistics are rolled up.
const USAGE_RECHECK_MS: u64 = 1000;

/// Not in the cache: render, then offer the page back with this.
pub struct Miss {
    seq: i64,
    rolled: i64,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache::new(CAPACITY_BYTES)
    }
}

impl PageCache {
    pub fn new(capacity_bytes: u64) -> Self {
        PageCache::with_recheck(capacity_bytes, RECHECK)
    }

    /// A cache that trusts its last look at the change feed for `recheck`
    /// while this process writes nothing (the server uses [`RECHECK`]; zero
    /// asks the store at every lookup).
    pub fn with_recheck(capacity_bytes: u64, recheck: std::time::Duration) -> Self {
        let items = (capacity_bytes / 20_000).max(16) as usize;
        PageCache {
            pages: quick_cache::sync::Cache::with_weighter(items, capacity_bytes, BodyWeight),
            views: quick_cache::sync::Cache::with_weighter(1000, VIEW_CAPACITY_BYTES, BodyWeight),
            synced: AtomicI64::new(-1),
            syncing: tokio::sync::Mutex::new(()),
            checked_ms: AtomicU64::new(0),
            checked_writes: AtomicU64::new(u64::MAX),
            started: std::time::Instant::now(),
            recheck_ms: u64::try_from(recheck.as_millis()).unwrap_or(u64::MAX),
            rolled: AtomicI64::new(-1),
            rolled_checked_ms: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Applies the change feed as far as it needs to (see the module docs);
    /// returns the sequence the cache stands at.
    async fn check(&self, repo: &Repository) -> anyhow::Result<i64> {
        let writes = repo.store.local_writes();
        let now_ms = self.started.elapsed().as_millis() as u64;
        let due = writes != self.checked_writes.load(Ordering::Acquire)
            || now_ms >= self.checked_ms.load(Ordering::Acquire).saturating_add(self.recheck_ms);
        if due {
            let last = repo.store.last_change().await?;
            if last != self.synced.load(Ordering::Acquire) {
                self.sync(repo, last).await?;
            }
            // Only now: a write counted after `writes` was read makes the
            // next lookup ask again.
            self.checked_ms.store(now_ms, Ordering::Release);
            self.checked_writes.store(writes, Ordering::Release);
        }
        let rolled_due = now_ms >= self.rolled_checked_ms.load(Ordering::Acquire).saturating_add(USAGE_RECHECK_MS)
            || self.rolled.load(Ordering::Acquire) < 0;
        if rolled_due {
            let rolled = repo.store.usage_rolled_through().await?;
            self.rolled.store(rolled, Ordering::Release);
            self.rolled_checked_ms.store(now_ms, Ordering::Release);
        }
        Ok(self.synced.load(Ordering::Acquire))
    }

    /// Whether a page still holds for what it was rendered with.
    fn current(page: &CachedPage, repo: &Repository) -> bool {
        Arc::ptr_eq(&page.settings, &repo.settings())
            && Arc::ptr_eq(&page.subjects, &repo.subjects())
            && page.day == repo.today()
    }

    /// The page for `key` if it is still what a render would give, after
    /// applying whatever the change feed says changed since the last look.
    pub async fn lookup(
        &self,
        repo: &Repository,
        id: RecordId,
        style: Option<&'static str>,
    ) -> anyhow::Result<Result<Arc<CachedPage>, Miss>> {
        let seq = self.check(repo).await?;
        let rolled = self.rolled.load(Ordering::Acquire);
        let key = (id, style);
        if let Some(page) = self.pages.get(&key) {
            if Self::current(&page, repo) && page.rolled == rolled {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(Ok(page));
            }
            self.pages.remove(&key);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        Ok(Err(Miss { seq, rolled }))
    }

    /// A home or browse page by address, if nothing changed since it was
    /// rendered.
    async fn lookup_view(&self, repo: &Repository, address: &str) -> anyhow::Result<Result<Arc<CachedPage>, Miss>> {
        let seq = self.check(repo).await?;
        if let Some(page) = self.views.get(address) {
            if page.seq == seq && page.rolled == self.rolled.load(Ordering::Acquire) && Self::current(&page, repo) {
                self.hits.fetch_add(1, Ordering::Relaxed);
                return Ok(Ok(page));
            }
            self.views.remove(address);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        Ok(Err(Miss { seq, rolled: self.rolled.load(Ordering::Acquire) }))
    }

    /// Drops the pages that changes up to `last` touch.
    async fn sync(&self, repo: &Repository, last: i64) -> anyhow::Result<()> {
        let _one = self.syncing.lock().await;
        let from = self.synced.load(Ordering::Acquire);
        if from >= last {
            return Ok(());
        }
        let changes =
            if from < 0 { Vec::new() } else { repo.store.changes_since(from, MAX_TRACKED_CHANGES + 1).await? };
        if from < 0 || changes.len() as i64 > MAX_TRACKED_CHANGES {
            self.pages.clear();
        } else {
            let mut ids: Vec<RecordId> = changes.iter().map(|c| c.record_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let mut touched = ids.clone();
            for record in repo.store.get_records(&ids).await? {
                touched.extend(record.succeeds);
            }
            for id in &ids {
                touched.extend(repo.store.later_versions(*id).await?);
            }
            for id in touched {
                for style in std::iter::once(None).chain(STYLES.iter().map(|s| Some(*s))) {
                    self.pages.remove(&(id, style));
                }
            }
        }
        // Everything up to `last` is applied (changes after it may have
        // been too: the next lookup sees a newer sequence and applies them
        // again, which only drops pages).
        self.synced.store(last, Ordering::Release);
        Ok(())
    }

    /// Keeps a page rendered after `miss`, unless a change was applied in
    /// the meantime (the page may show the record as it was before it).
    /// Returns the page as [`CachedPage::response`] answers it.
    pub async fn insert(
        &self,
        repo: &Repository,
        miss: Miss,
        key: (RecordId, Option<&'static str>),
        res: Response,
        if_none_match: Option<&str>,
    ) -> Response {
        match Self::freeze(repo, &miss, res).await {
            Ok(page) => {
                if self.synced.load(Ordering::Acquire) == miss.seq {
                    self.pages.insert(key, page.clone());
                }
                page.response(if_none_match)
            }
            Err(res) => res,
        }
    }

    /// The rendered response as a page to keep, or the response back if it
    /// cannot be shared (it sets a cookie, or its body fails).
    async fn freeze(repo: &Repository, miss: &Miss, res: Response) -> Result<Arc<CachedPage>, Response> {
        if res.headers().contains_key(header::SET_COOKIE) {
            return Err(res);
        }
        let (parts, body) = res.into_parts();
        // Pages are rendered whole: the body is already one piece.
        let body = match axum::body::to_bytes(body, usize::MAX).await {
            Ok(b) => b,
            Err(e) => return Err(crate::http::Problem::internal(format!("page body: {e}")).into_response()),
        };
        let etag = crate::http::weak_etag(&body);
        let headers: Vec<_> = [header::CONTENT_TYPE, header::LAST_MODIFIED, header::LINK, header::CACHE_CONTROL]
            .into_iter()
            .filter_map(|name| parts.headers.get(&name).map(|v| (name, v.clone())))
            .collect();
        Ok(Arc::new(CachedPage {
            status: parts.status,
            body,
            etag,
            headers,
            settings: repo.settings(),
            subjects: repo.subjects(),
            day: repo.today(),
            seq: miss.seq,
            countable: parts.extensions.get::<crate::usage::Countable>().copied(),
            rolled: miss.rolled,
        }))
    }

    /// Pages held now, abstract pages and views.
    /// Lookups answered from the cache and lookups that had to render,
    /// since the process started.
    pub fn hits_and_misses(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    pub fn len(&self) -> usize {
        self.pages.len() + self.views.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The layer on the home and browse routes: an anonymous GET is answered
/// from the view cache when no record has changed since the page was
/// rendered; a 200 HTML page rendered for one is kept. A store error while
/// checking only means the page is rendered as usual.
pub async fn views(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let address = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    if req.method() != Method::GET
        || crate::auth::session_of(req.extensions()).is_some()
        || address.len() > MAX_VIEW_KEY
    {
        return next.run(req).await;
    }
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string);
    let cache = &state.pages;
    let miss = match cache.lookup_view(&state.repo, &address).await {
        Ok(Ok(page)) => return page.response(if_none_match.as_deref()),
        Ok(Err(miss)) => miss,
        Err(e) => {
            tracing::warn!(error = %format!("{e:#}"), "page cache check failed");
            return next.run(req).await;
        }
    };
    let res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if res.status() != StatusCode::OK || !html {
        return res;
    }
    match PageCache::freeze(&state.repo, &miss, res).await {
        Ok(page) => {
            if cache.synced.load(Ordering::Acquire) == miss.seq {
                cache.views.insert(address, page.clone());
            }
            page.response(if_none_match.as_deref())
        }
        Err(res) => res,
    }
}

/// The built-in Cite-box styles, the only `?style=` values cached.
const STYLES: &[&str] = &["apa", "chicago-author-date", "harvard", "mla", "ieee"];

/// `?style=` as a cache key: `None` for no style, `Some(None)` for one that
/// is not cached.
pub fn style_key(style: Option<&str>) -> Option<Option<&'static str>> {
    match style {
        None => Some(None),
        Some(s) => STYLES.iter().find(|b| **b == s).map(|b| Some(*b)),
    }
}

impl CachedPage {
    /// The page, or a 304 if the browser already holds it.
    pub fn response(&self, if_none_match: Option<&str>) -> Response {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-cache"));
        let mut res = if self.status == StatusCode::OK
            && if_none_match.is_some_and(|h| crate::http::etag_matches(h, self.etag.to_str().unwrap_or("")))
        {
            crate::http::not_modified(&headers, self.etag.clone())
        } else {
            headers.insert(header::ETAG, self.etag.clone());
            (self.status, headers, self.body.clone()).into_response()
        };
        if let Some(countable) = self.countable {
            res.extensions_mut().insert(countable);
        }
        res
    }
}
