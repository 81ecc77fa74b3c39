//! What an operator and a load balancer ask of a node (issue 32), over real
//! HTTP: `/health`, `/ready` (and its 503 when the file store is gone),
//! `/metrics` in Prometheus' text format (requests by route and status
//! with latencies, the pool, the feed's lag, memory; refused to a public
//! client behind a trusted proxy), and the request id every response
//! carries.

mod common;

use arkiv_services::config::ServerSettings;
use arkiv_services::Config;
use common::start_with;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

fn behind_proxy() -> Config {
    Config {
        server: ServerSettings { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..Default::default() },
        ..Config::default()
    }
}

/// The value of the sample `name{labels}` (labels as written, in order),
/// if the exposition has it.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok()).flatten()
    })
}

/// `/ready` until it says ready (the search follower's first catch-up is
/// asynchronous), at most 10 s.
async fn ready_body(site: &common::Site) -> (StatusCode, serde_json::Value) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let res = site.client.get(site.url("/ready")).send().await.unwrap();
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap();
        if status == StatusCode::OK || Instant::now() > deadline {
            return (status, body);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn health_and_ready_answer_and_every_response_carries_its_request_id() {
    let site = start_with(behind_proxy()).await;
    let res = site.client.get(site.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), "ok\n");

    let (status, body) = ready_body(&site).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ready"], true);
    assert_eq!(body["database"], "ok");
    assert_eq!(body["files"], "ok");
    assert_eq!(body["search"]["ok"], true, "{body}");
    assert!(body["search"]["lag"].as_i64().unwrap() <= arkiv_web::operations::READY_LAG);

    // An id the proxy gave is kept; a page, a 404 and a 405 all carry one.
    let res = site
        .client
        .get(site.url(&format!("/id/eprint/{}/", site.live)))
        .header("X-Request-Id", "7F000001:C7E0_7F000001:1F90_5FE6E1B5_0001:1A2B")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-request-id"], "7F000001:C7E0_7F000001:1F90_5FE6E1B5_0001:1A2B");
    // One that could write into a log line is replaced by a fresh one.
    let res = site.client.get(site.url("/no/such/page")).header("X-Request-Id", "a\" b=c").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 16, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let other = site.client.get(site.url("/no/such/page")).send().await.unwrap();
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id, "ids are new for each request");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status_with_their_latency() {
    let site = start_with(behind_proxy()).await;
    let page = format!("/id/eprint/{}/", site.live);
    for _ in 0..3 {
        assert_eq!(site.client.get(site.url(&page)).send().await.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(site.client.get(site.url("/id/eprint/999999/")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let nowhere = "/no/such/page/in/any/route";
    assert_eq!(site.client.get(site.url(nowhere)).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    let res = site.client.get(site.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    let route = "/id/eprint/{id}/";
    assert_eq!(
        sample(&text, &format!("arkiv_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"200\"}}")),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, &format!("arkiv_http_requests_total{{method=\"GET\",route=\"{route}\",status=\"404\"}}")),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "arkiv_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"),
        Some(1.0),
        "a path no route knows is counted under one label, not its own"
    );
    assert!(!text.contains(nowhere));
    // The histogram: four requests of the route, all under the last bucket.
    assert_eq!(sample(&text, &format!("arkiv_http_request_duration_seconds_count{{route=\"{route}\"}}")), Some(4.0));
    assert_eq!(
        sample(&text, &format!("arkiv_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}}")),
        Some(4.0)
    );
    assert!(sample(&text, &format!("arkiv_http_request_duration_seconds_sum{{route=\"{route}\"}}")).unwrap() > 0.0);
    // Abstract pages go through the page cache: a render, then hits.
    assert!(sample(&text, "arkiv_page_cache_lookups_total{result=\"hit\"}").unwrap() >= 2.0, "{text}");
    assert!(sample(&text, "arkiv_page_cache_lookups_total{result=\"miss\"}").unwrap() >= 1.0);
    // What the node reads when asked.
    assert!(sample(&text, "arkiv_db_pool_connections{state=\"max\"}").unwrap() >= 1.0);
    assert!(sample(&text, "arkiv_db_pool_connections{state=\"open\"}").unwrap() >= 1.0);
    assert_eq!(sample(&text, "arkiv_mail_queue"), Some(0.0));
    let memory = sample(&text, "arkiv_memory_anonymous_bytes").unwrap();
    assert!(memory > 1e6 && memory < 4e9, "{memory}");
    assert!(sample(&text, "arkiv_change_feed_lag{follower=\"search\"}").is_some(), "{text}");
    assert!(sample(&text, "arkiv_search_index_documents").is_some());
    // The citations rendered ahead: this site runs no follower of them, so
    // they lag by every change until one has caught up.
    let head = site.repo.store.last_change().await.unwrap() as f64;
    assert!(head >= 1.0);
    assert_eq!(sample(&text, "arkiv_change_feed_lag{follower=\"citations\"}"), Some(head), "{text}");
    arkiv_services::citations::catch_up(&site.repo).await.unwrap();
    let text = site.client.get(site.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert_eq!(sample(&text, "arkiv_change_feed_lag{follower=\"citations\"}"), Some(0.0), "{text}");
    // The previous scrapes are counted in the next.
    let text = site.client.get(site.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert_eq!(sample(&text, "arkiv_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}"), Some(2.0));
}

#[tokio::test]
async fn metrics_are_not_for_a_public_client() {
    let site = start_with(behind_proxy()).await;
    // Through the trusted proxy on a public visitor's behalf: no such page.
    let res = site.client.get(site.url("/metrics")).header("X-Forwarded-For", "203.0.113.7").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(!res.text().await.unwrap().contains("arkiv_http_requests_total"));
    // The same proxy scraping for a monitoring host on the private network.
    let res = site.client.get(site.url("/metrics")).header("X-Forwarded-For", "10.0.0.5").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// A file store that refuses connections: `/ready` says which part is
/// down, within its timeouts, while `/health` and pages without files
/// carry on.
#[cfg(feature = "s3")]
#[tokio::test]
async fn ready_is_503_and_says_so_when_the_file_store_is_gone() {
    use arkiv_services::config::{S3Settings, StorageSettings};
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = Config {
        storage: StorageSettings { files: "s3://gone/site".into(), ..Default::default() },
        s3: S3Settings {
            endpoint: format!("http://127.0.0.1:{closed}"),
            allow_http: true,
            access_key_id: "k".into(),
            secret_access_key: "s".into(),
            connect_timeout_secs: 1,
            timeout_secs: 1,
            retries: 0,
            ..Default::default()
        },
        ..behind_proxy()
    };
    let site = start_with(config).await;
    let started = Instant::now();
    let res = site.client.get(site.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(body["ready"], false);
    assert_eq!(body["database"], "ok");
    assert_ne!(body["files"], "ok", "{body}");
    assert_eq!(site.client.get(site.url("/health")).send().await.unwrap().status(), StatusCode::OK);
    let page = format!("/id/eprint/{}/", site.live);
    assert_eq!(site.client.get(site.url(&page)).send().await.unwrap().status(), StatusCode::OK);
}
