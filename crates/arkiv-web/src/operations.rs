//! What operators and load balancers ask of a node, beside the site:
//! - `/health`: the process answers (a load balancer's liveness check);
//! - `/ready`: the database, the file store and the search index answer,
//!   and the index has caught up with the change feed since the process
//!   started (a node that has just come up with an empty index is kept out
//!   of the rotation until its search results are whole);
//! - `/metrics`: Prometheus' text format, for clients on loopback or a
//!   private network only (a public address gets 404: route names, memory
//!   and queue sizes are not for visitors);
//! - and [`observe`], the outermost middleware, which gives every request
//!   an id (the `X-Request-Id` a proxy sent, if it is a plausible one, else
//!   a new one), returns it in the response's `X-Request-Id`, counts the
//!   request by route and status with its latency, and logs one line for
//!   it (target `arkiv::request`; JSON lines with `--log-format json`).
//!
//! Counters and histograms are the `prometheus` crate's (the TiKV client,
//! without its protobuf part). Gauges of things this process does not
//! count itself (the pool, the feed's lag, the outbox, memory) are read
//! when `/metrics` is asked, each read bounded by [`CHECK_TIMEOUT`].

use crate::client_address::ClientAddress;
use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Router;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The header that carries a request's id both ways.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How long `/ready` and `/metrics` wait for each thing they ask.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Changes the search index may lag behind the feed and still count as
/// caught up when the node starts (it follows within a second afterwards).
pub const READY_LAG: i64 = 1000;

/// A request's id, in its extensions for handlers that log.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub fn routes() -> Router<AppState> {
    Router::new().route("/health", get(health)).route("/ready", get(ready)).route("/metrics", get(metrics))
}

/// The process's counters (see the module docs), one set per server.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    feed_lag: IntGaugeVec,
    index_documents: IntGauge,
    page_cache: IntCounterVec,
    mail_queue: IntGauge,
    job_runs: IntCounterVec,
    job_failures: IntCounterVec,
    memory: IntGauge,
    /// Whether the search index has once been within [`READY_LAG`].
    caught_up: std::sync::atomic::AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        // The names and labels are constants: registering them cannot fail.
        fn add<C: prometheus::core::Collector + Clone + 'static>(registry: &Registry, c: C) -> C {
            registry.register(Box::new(c.clone())).expect("metric names are unique and valid");
            c
        }
        let counters = |name: &str, help: &str, labels: &[&str]| {
            add(&registry, IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"))
        };
        let gauges = |name: &str, help: &str, labels: &[&str]| {
            add(&registry, IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric"))
        };
        let gauge = |name: &str, help: &str| add(&registry, IntGauge::new(name, help).expect("valid metric"));
        // 0.5 ms to 8 s: a cached page, a search, an export, an upload.
        let buckets = prometheus::exponential_buckets(0.0005, 2.0, 15).expect("valid buckets");
        let latency = add(
            &registry,
            HistogramVec::new(
                HistogramOpts::new("arkiv_http_request_duration_seconds", "Time to answer a request, by route.")
                    .buckets(buckets),
                &["route"],
            )
            .expect("valid metric"),
        );
        Metrics {
            requests: counters(
                "arkiv_http_requests_total",
                "Requests answered, by method, route (the path's pattern) and status.",
                &["method", "route", "status"],
            ),
            latency,
            pool: gauges(
                "arkiv_db_pool_connections",
                "Database connections of this node's pool: open, idle and the most it opens.",
                &["state"],
            ),
            feed_lag: gauges(
                "arkiv_change_feed_lag",
                "Changes in the feed a follower has not applied yet: this node's search index, the repository's citations rendered ahead.",
                &["follower"],
            ),
            index_documents: gauge("arkiv_search_index_documents", "Records in this node's search index."),
            page_cache: counters(
                "arkiv_page_cache_lookups_total",
                "Lookups in the cache of anonymous pages, by result (hit or miss).",
                &["result"],
            ),
            mail_queue: gauge("arkiv_mail_queue", "Messages SMTP has not taken yet."),
            job_runs: counters("arkiv_job_runs_total", "Runs of each background job on this node.", &["job"]),
            job_failures: counters("arkiv_job_failures_total", "Failed runs of each background job.", &["job"]),
            memory: gauge(
                "arkiv_memory_anonymous_bytes",
                "Anonymous resident memory of the process (RssAnon): the figure to watch.",
            ),
            registry,
            caught_up: Default::default(),
        }
    }

    fn observe(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.latency.with_label_values(&[route]).observe(took.as_secs_f64());
    }

    /// Brings a counter kept elsewhere (monotonic) up to `value`.
    fn set_counter(counters: &IntCounterVec, label: &str, value: u64) {
        let c = counters.with_label_values(&[label]);
        c.inc_by(value.saturating_sub(c.get()));
    }
}

/// The middleware of the module docs.
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| plausible_id(v))
        .map(str::to_owned)
        .unwrap_or_else(new_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    // The route's pattern (`/id/eprint/{id}`), never the path itself: a
    // bounded set of labels, and no tokens or addresses in the logs.
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let mut res = next.run(req).await;
    let route = route
        .or_else(|| res.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()))
        .unwrap_or_else(|| "unmatched".to_owned());
    let took = started.elapsed();
    let status = res.status().as_u16();
    state.metrics.observe(method.as_str(), &route, status, took);
    tracing::info!(
        target: "arkiv::request",
        request_id = %id,
        method = %method,
        route = %route,
        status,
        ms = took.as_secs_f64() * 1000.0,
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    res
}

/// An id a proxy may hand us: 1 to 64 letters, digits, `-`, `_`, `.`,
/// `:` (HAProxy's default `unique-id-format`, a UUID). Anything else is replaced, so
/// that no header can write into the logs.
fn plausible_id(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn new_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

async fn health() -> Response {
    ([(header::CACHE_CONTROL, "no-store")], "ok\n").into_response()
}

/// One thing `/ready` asks, and what it found.
async fn check<T, E: std::fmt::Display>(fut: impl std::future::Future<Output = Result<T, E>>) -> Result<T, String> {
    match tokio::time::timeout(CHECK_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    }
}

async fn ready(State(state): State<AppState>) -> Response {
    let repo = &state.repo;
    let (database, files, head) =
        tokio::join!(check(repo.store.ping()), check(repo.files.reachable()), check(repo.store.last_change()));
    let search = match (&state.search, head) {
        (None, _) => Err("the search index could not be opened".to_owned()),
        (Some(_), Err(e)) => Err(format!("the change feed cannot be read: {e}")),
        (Some(index), Ok(head)) => {
            let lag = head - index.indexed_seq();
            let caught_up = &state.metrics.caught_up;
            if lag <= READY_LAG {
                caught_up.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            if caught_up.load(std::sync::atomic::Ordering::Relaxed) {
                Ok(lag)
            } else {
                Err(format!("catching up with the change feed: {lag} changes behind"))
            }
        }
    };
    let ok = database.is_ok() && files.is_ok() && search.is_ok();
    let say = |r: &Result<(), String>| match r {
        Ok(()) => serde_json::Value::from("ok"),
        Err(e) => serde_json::Value::from(e.as_str()),
    };
    let body = serde_json::json!({
        "ready": ok,
        "database": say(&database),
        "files": say(&files),
        "search": match &search {
            Ok(lag) => serde_json::json!({ "ok": true, "lag": lag }),
            Err(e) => serde_json::Value::from(e.as_str()),
        },
    });
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    // A 503 that says what is down, not the site's error page.
    (status, [(header::CACHE_CONTROL, "no-store")], Extension(crate::http::OwnHeaders), axum::Json(body))
        .into_response()
}

/// Loopback, private (RFC 1918, fc00::/7), link-local, or CGNAT: where a
/// Prometheus server or a load balancer of the site's own would be.
fn internal(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            a.is_loopback()
                || a.is_private()
                || a.is_link_local()
                || (a.octets()[0] == 100 && a.octets()[1] & 0xc0 == 64)
        }
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => internal(IpAddr::V4(v4)),
            None => a.is_loopback() || (a.segments()[0] & 0xfe00) == 0xfc00 || (a.segments()[0] & 0xffc0) == 0xfe80,
        },
    }
}

async fn metrics(State(state): State<AppState>, ClientAddress(client): ClientAddress) -> Response {
    if !internal(client) {
        return crate::http::not_found().await.into_response();
    }
    let m = &state.metrics;
    let repo = &state.repo;
    let pool = repo.store.pool_use();
    m.pool.with_label_values(&["open"]).set(i64::from(pool.open));
    m.pool.with_label_values(&["idle"]).set(i64::from(pool.idle));
    m.pool.with_label_values(&["max"]).set(i64::from(pool.max));
    let (head, unsent, cited) = tokio::join!(
        check(repo.store.last_change()),
        check(repo.accounts.unsent_count()),
        check(arkiv_services::citations::position(repo))
    );
    if let (Some(index), Ok(head)) = (&state.search, &head) {
        m.feed_lag.with_label_values(&["search"]).set((head - index.indexed_seq()).max(0));
        m.index_documents.set(i64::try_from(index.num_docs()).unwrap_or(i64::MAX));
    }
    // The repository's one citation follower (on whichever node holds its
    // lease): every node reports the same lag.
    if let (Ok(head), Ok(cited)) = (&head, cited) {
        m.feed_lag.with_label_values(&["citations"]).set((head - cited).max(0));
    }
    if let Ok(n) = unsent {
        m.mail_queue.set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    let (hits, misses) = state.pages.hits_and_misses();
    Metrics::set_counter(&m.page_cache, "hit", hits);
    Metrics::set_counter(&m.page_cache, "miss", misses);
    for job in arkiv_services::jobs::job_counts() {
        Metrics::set_counter(&m.job_runs, job.name, job.runs());
        Metrics::set_counter(&m.job_failures, job.name, job.failures());
    }
    if let Some(bytes) = anonymous_memory() {
        m.memory.set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }
    let mut text = String::new();
    if let Err(e) = prometheus::TextEncoder::new().encode_utf8(&m.registry.gather(), &mut text) {
        tracing::warn!(error = %e, "the metrics could not be written");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    ([(header::CONTENT_TYPE, prometheus::TEXT_FORMAT), (header::CACHE_CONTROL, "no-store")], text).into_response()
}

/// RssAnon of /proc/self/status, in bytes (Linux; `None` elsewhere).
fn anonymous_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("RssAnon:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plausible_ids_are_taken_from_a_proxy() {
        assert!(plausible_id("0af7651916cd43dd8448eb211c80319c"));
        assert!(plausible_id("7F000001:C7E0_7F000001:1F90_5FE6E1B5_0001:1A2B"));
        assert!(plausible_id("a1b2-c3d4.e5_f6"));
        assert!(!plausible_id(""));
        assert!(!plausible_id("has space"));
        assert!(!plausible_id("line\nbreak"));
        assert!(!plausible_id(&"x".repeat(65)));
    }

    #[test]
    fn metrics_are_for_internal_addresses_only() {
        for a in
            ["127.0.0.1", "10.1.2.3", "192.168.0.9", "172.16.5.5", "100.64.0.1", "::1", "fd00::1", "::ffff:10.0.0.1"]
        {
            assert!(internal(a.parse().unwrap()), "{a}");
        }
        for a in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2001:db8::1", "::ffff:8.8.8.8"] {
            assert!(!internal(a.parse().unwrap()), "{a}");
        }
    }
}
