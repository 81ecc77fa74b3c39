//! Search over real HTTP: a temporary repository with the seed record
//! (imported from `data/seed/seed.xml`) and generated records, served on a
//! free local port with the search index's follower running, read with an
//! HTTP client.

use arkiv_model::{RecordId, Status};
use arkiv_services::import::{import_eprints_xml, ImportOptions};
use arkiv_services::{Config, Repository};
use arkiv_storage::RecordWrite;
use arkiv_testkit::html::{unescape, visible};
use reqwest::{redirect, Client, StatusCode};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

const SEED_TITLE: &str = "Kazakhstan's attitude towards integration with Russia: less love, more fear";

struct Site {
    base: String,
    client: Client,
    repo: Arc<Repository>,
    seed: RecordId,
    _dir: TempDir,
}

async fn start(generated: u64) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path(), Config::default()).await.unwrap();
    // The generator's subject tree first, so the seed's subjects have names.
    arkiv_services::populate::add_generated(&repo, 0, 3, false, &mut |_| {}).await.unwrap();
    let seed_xml = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/seed/seed.xml");
    let report =
        import_eprints_xml(&repo, &[seed_xml], &ImportOptions::for_repository(&repo), &mut |_| {}).await.unwrap();
    assert_eq!(report.imported, 1, "{:?}", report.rejected);
    let seed = report.last_id.expect("the seed's id");
    arkiv_services::populate::add_generated(&repo, generated, 3, false, &mut |_| {}).await.unwrap();

    let repo = Arc::new(repo);
    let listener = arkiv_web::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(arkiv_web::serve(listener, repo.clone(), Default::default(), std::future::pending()));
    let client = Client::builder().redirect(redirect::Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();
    let site = Site { base, client, repo, seed, _dir: dir };
    // The follower indexes what is in the store: wait until the seed is found.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, json) = site.api("/api/search?q=Kazakhstan").await;
        if status == 200 && hit_ids(&json).contains(&seed) {
            break;
        }
        assert!(Instant::now() < deadline, "the follower did not index the seed within 10 s: {status} {json}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    site
}

impl Site {
    async fn page(&self, path: &str) -> (StatusCode, String, String) {
        let res = self.client.get(format!("{}{}", self.base, path)).send().await.unwrap();
        let status = res.status();
        let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        (status, ct, res.text().await.unwrap())
    }

    async fn api(&self, path: &str) -> (StatusCode, Value) {
        let (status, ct, body) = self.page(path).await;
        if status == 200 {
            assert_eq!(ct, "application/json", "{path}");
        }
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }
}

fn hit_ids(json: &Value) -> Vec<RecordId> {
    json["hits"].as_array().map(|h| h.iter().filter_map(|h| h["id"].as_i64()).collect()).unwrap_or_default()
}

/// Record ids linked from the results list, in order.
fn listed_ids(html: &str) -> Vec<RecordId> {
    let Some(start) = html.find("<ol class=\"citations") else { return Vec::new() };
    let list = &html[start..html[start..].find("</ol>").map(|e| start + e).unwrap_or(html.len())];
    list.split("<span class=\"citation\">")
        .skip(1)
        .filter_map(|li| {
            li.split_once("href=\"/").and_then(|(_, rest)| rest.split_once("/\"")).and_then(|(n, _)| n.parse().ok())
        })
        .collect()
}

/// The results count shown on a page.
fn total(html: &str) -> u64 {
    let at = html.find("id=\"results-h\"").expect("a results heading");
    let rest = &html[at..];
    let start = rest.find("<span class=\"figure\">").unwrap() + "<span class=\"figure\">".len();
    rest[start..rest[start..].find('<').unwrap() + start].parse().unwrap()
}

/// The facet links of a page: (address, count).
fn facet_links(html: &str) -> Vec<(String, u64)> {
    let Some(start) = html.find("<aside class=\"facets\"") else { return Vec::new() };
    let aside = &html[start..];
    aside
        .split("<li><a href=\"")
        .skip(1)
        .filter_map(|item| {
            let (href, rest) = item.split_once('"')?;
            let c = rest.split("<span class=\"count\">").nth(1)?.split('<').next()?.parse().ok()?;
            Some((unescape(href), c))
        })
        .collect()
}

#[tokio::test]
async fn the_seed_is_found_facets_narrow_and_the_api_answers() {
    let site = start(60).await;

    let (status, ct, html) = site.page("/search?q=Kazakhstan+Russia+integration").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/html"));
    let ids = listed_ids(&html);
    assert_eq!(ids.first(), Some(&site.seed), "the seed comes first: {ids:?}");
    let seed = site.repo.store.get_records(&[site.seed]).await.unwrap().remove(0);
    let line = site.repo.citation(&seed).to_string();
    assert!(visible(&html).contains(&line), "the seed's citation line: {line}");
    assert!(line.contains(SEED_TITLE));
    assert!(html.contains("<label for=\"search-q\""), "a labelled search box");
    assert!(html.contains("name=\"sort\""), "a sort choice");
    assert!(!html.contains("<script"), "no script");
    assert!(html.contains("<b>"), "highlighted matches");

    // Facets: a link narrows the results to its count.
    let (_, _, html) = site.page("/search?q=Russia").await;
    let all = total(&html);
    assert!(all > 1, "several records mention Russia ({all})");
    let links = facet_links(&html);
    assert!(!links.is_empty(), "facet links");
    let (href, count) = links.iter().find(|(_, c)| *c < all).cloned().expect("a facet value that narrows");
    assert!(href.starts_with("/search?q=Russia&"), "{href}");
    let (status, _, narrowed) = site.page(&href).await;
    assert_eq!(status, 200);
    assert_eq!(total(&narrowed), count, "{href}");
    assert!(narrowed.contains("class=\"remove\""), "the active filter can be removed");

    // Paging by cursor: every hit once.
    let (_, first) = site.api("/api/search?q=Russia&size=5").await;
    let mut seen = hit_ids(&first);
    let mut next = first["next"].as_str().map(str::to_string);
    while let Some(path) = next {
        let (status, page) = site.api(&path).await;
        assert_eq!(status, 200);
        seen.extend(hit_ids(&page));
        next = page["next"].as_str().map(str::to_string);
    }
    let n = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), n, "no hit twice");
    assert_eq!(n as u64, all, "every hit once");

    // The API: the crate's results plus citation lines and addresses.
    let (status, json) = site.api("/api/search?q=Kazakhstan+Russia+integration").await;
    assert_eq!(status, 200);
    assert!(json["total"].as_u64().unwrap() >= 1);
    let hit = &json["hits"][0];
    assert_eq!(hit["id"].as_i64(), Some(site.seed));
    assert_eq!(hit["citation"].as_str(), Some(line.as_str()));
    assert!(hit["url"].as_str().unwrap().ends_with(&format!("/{}/", site.seed)));
    assert!(hit["snippets"].is_array());
    for facet in ["type", "year"] {
        assert!(json["facets"][facet].is_array(), "facet {facet}: {}", json["facets"]);
    }
    assert!(json["warnings"].is_array());
}

#[tokio::test]
async fn odd_input_never_fails_and_the_site_offers_search() {
    let site = start(10).await;
    let long = "a".repeat(10_000);
    let odd = [
        "q=%3A",
        "q=%2F",
        "q=%22((",
        "q=)",
        "q=-",
        "q=*",
        "q=title%3A",
        "q=year%3A99999999999999999999",
        "q=%00%01%1F%7F",
        "q=%FF%FE",
        "q=%E2%80%AE%EF%BB%BF",
        "q=NOT+NOT+OR+AND",
        "q=((((((((((((((((((((((((((((((((((((((((a",
        "q=Kazakhstan&sort=sideways&cursor=zz-zz&size=-1",
        "q=Kazakhstan&cursor=ffffffffffffffffff-1&size=99999999999999999999999",
        "q=Kazakhstan&year=abc&subject=nowhere&type=&language=%00&full_text=maybe",
        "q=&type=policy_paper",
        "q=a&q=b&q",
        "%%%=%%%",
        "q=%",
        "",
    ];
    let mut targets: Vec<String> = odd.iter().map(|s| s.to_string()).collect();
    targets.push(format!("q={long}"));
    targets.push(format!("q=Kazakhstan&creator={long}"));
    targets.push(format!("q=x{}", "&type=a".repeat(200)));
    for t in &targets {
        for path in ["/search", "/api/search", "/search/advanced"] {
            let (status, _, body) = site.page(&format!("{path}?{t}")).await;
            let shown: String = t.chars().take(60).collect();
            assert!(
                status == 200 || (path == "/search/advanced" && status == 303),
                "{path}?{shown} -> {status}: {}",
                body.chars().take(300).collect::<String>()
            );
        }
    }
    // Empty: the form alone.
    let (status, _, html) = site.page("/search").await;
    assert_eq!(status, 200);
    assert!(html.contains("<form") && !html.contains("id=\"results-h\""));

    // The advanced form builds a query.
    let (_, _, form) = site.page("/search/advanced").await;
    for field in ["title", "creator", "abstract", "subject", "series", "type", "year_from", "year_to"] {
        assert!(form.contains(&format!("name=\"{field}\"")), "{field}");
    }
    let res = site
        .client
        .get(format!(
            "{}/search/advanced?title=integration&creator=Jaroslewlcz&year_from=2010&year_to=2014&type=",
            site.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(location, "/search?q=title%3A%28integration%29%20creator%3A%28Jaroslewlcz%29%20year%3A2010..2014");
    let (_, _, html) = site.page(&location).await;
    assert_eq!(listed_ids(&html), vec![site.seed]);

    // OpenSearch: well-formed XML with the search template, linked from pages.
    let (status, ct, xml) = site.page("/opensearch.xml").await;
    assert_eq!(status, 200);
    assert_eq!(ct, "application/opensearchdescription+xml");
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut templates = Vec::new();
    let mut root = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Eof => break,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if root.is_none() {
                    root = Some(name.clone());
                    let ns = e.try_get_attribute("xmlns").unwrap().unwrap();
                    assert_eq!(ns.unescape_value().unwrap(), "http://a9.com/-/spec/opensearch/1.1/");
                }
                if name == "Url" {
                    templates
                        .push(e.try_get_attribute("template").unwrap().unwrap().unescape_value().unwrap().to_string());
                }
            }
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("OpenSearchDescription"));
    let base_url = &site.repo.config.repository.base_url;
    assert!(templates.contains(&format!("{base_url}/search?q={{searchTerms}}")), "{templates:?}");

    // The home page: a search box, and the OpenSearch link in its head.
    let (_, _, home) = site.page("/").await;
    assert!(home.contains("<form class=\"home-search\" action=\"/search\" method=\"get\""));
    assert!(home.contains("<label for=\"home-q\""));
    assert!(
        home.contains("<link rel=\"search\" type=\"application/opensearchdescription+xml\" href=\"/opensearch.xml\"")
    );
    let (_, _, record) = site.page(&format!("/{}/", site.seed)).await;
    assert!(record.contains("<form class=\"site-search\" action=\"/search\""), "the header's search box");
}

#[tokio::test]
async fn a_withdrawn_record_leaves_the_results() {
    let site = start(5).await;
    let (_, before) = site.api("/api/search?q=Kazakhstan").await;
    let before = before["total"].as_u64().unwrap();
    let mut record = site.repo.store.get_records(&[site.seed]).await.unwrap().remove(0);
    record.status = Status::Deletion;
    record.withdrawn_reason = Some("Withdrawn for the test".into());
    site.repo.store.put_records(vec![RecordWrite::new(record, "test")]).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (status, json) = site.api("/api/search?q=Kazakhstan&no_facets=1").await;
        assert_eq!(status, 200);
        let (_, _, html) = site.page("/search?q=Kazakhstan").await;
        // The index itself forgot it (not only the pages, which show live
        // records alone): the total counts one less.
        let gone = json["total"].as_u64() == Some(before - 1);
        if gone && !hit_ids(&json).contains(&site.seed) && !listed_ids(&html).contains(&site.seed) {
            break;
        }
        assert!(Instant::now() < deadline, "the withdrawn record is still found: {json}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
