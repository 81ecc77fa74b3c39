//! The public site over real HTTP: a temporary repository with live,
//! withdrawn and unpublished records, public and restricted files, served on
//! a free local port and read with an HTTP client as a browser would.

use arkiv_model::{Creator, Document, DocumentSecurity, PartialDate, Record, RecordId, Status, StoredFile, Subject};
use arkiv_services::{Config, Repository};
use arkiv_storage::RecordWrite;
use arkiv_testkit::html::{unescape, visible};
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{redirect, Client, Method, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use tempfile::TempDir;

const PDF: &[u8] = b"%PDF-1.4\n% public paper bytes for the test, long enough to be ranged over\n%%EOF\n";
const STAFF_SECRET: &[u8] = b"STAFF-ONLY-SECRET-BYTES-0123456789";
const EMBARGO_SECRET: &[u8] = b"EMBARGOED-SECRET-BYTES-9876543210";
const HTML_FILE: &[u8] = b"<html><script>alert(document.cookie)</script></html>";
const SEED_TITLE: &str = "Kazakhstan's attitude towards integration with Russia: less love, more fear";

struct Ids {
    seed: RecordId,
    inbox: RecordId,
    buffer: RecordId,
    withdrawn: RecordId,
    bulk: Vec<RecordId>,
}

struct Site {
    base: String,
    client: Client,
    repo: Arc<Repository>,
    ids: Ids,
    pdf_sha: String,
    _dir: TempDir,
}

fn stored(filename: &str, mime: Option<&str>, bytes: &[u8], sha: Option<String>) -> StoredFile {
    StoredFile {
        filename: filename.into(),
        mime_type: mime.map(Into::into),
        size: bytes.len() as u64,
        sha256: sha,
        ..Default::default()
    }
}

fn document(pos: u32, file: StoredFile) -> Document {
    Document { pos, main: Some(file.filename.clone()), files: vec![file], ..Default::default() }
}

/// A repository with everything the tests look at, and a server on it.
/// `templates` are written into the repository's templates directory first.
async fn start(templates: &[(&str, &str)]) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path(), Config::default()).await.unwrap();
    repo.put_subjects(
        arkiv_model::Scheme::Subjects,
        &[
            Subject { id: "geo".into(), name: "Geographical area".into(), parent: None },
            Subject { id: "casia".into(), name: "Central Asia".into(), parent: Some("geo".into()) },
            Subject { id: "kz".into(), name: "Kazakhstan".into(), parent: Some("casia".into()) },
        ],
    )
    .await
    .unwrap();

    let pdf_sha = repo.files.put(Bytes::from_static(PDF)).await.unwrap();
    let staff_sha = repo.files.put(Bytes::from_static(STAFF_SECRET)).await.unwrap();
    let embargo_sha = repo.files.put(Bytes::from_static(EMBARGO_SECRET)).await.unwrap();
    let html_sha = repo.files.put(Bytes::from_static(HTML_FILE)).await.unwrap();

    // 120 live working papers of 2013, for paging.
    let bulk: Vec<RecordWrite> = (0..120)
        .map(|i| {
            let mut r = Record::new("working_paper", &format!("Bulk paper {i:03}"));
            r.status = Status::Archive;
            r.creators.push(Creator::new("Writer", &format!("Number {}", i % 7)));
            r.date = Some(PartialDate::year(2013));
            r.series = Some("Bulk Series".into());
            RecordWrite::new(r, "test")
        })
        .collect();
    let bulk = repo.store.put_records(bulk).await.unwrap();

    let mut hidden = Record::new("report", "A draft nobody may see");
    hidden.status = Status::Inbox;
    let mut review = Record::new("report", "Under review, not public");
    review.status = Status::Buffer;
    let hidden_ids =
        repo.store.put_records(vec![RecordWrite::new(hidden, "test"), RecordWrite::new(review, "test")]).await.unwrap();

    // The seed record goes in last, so it is the latest addition.
    let mut seed = Record::new("policy_paper", SEED_TITLE);
    seed.status = Status::Archive;
    seed.creators.push(Creator::new("Jaroslewlcz", "Aleksandra"));
    seed.date = Some("2014-05-29".parse().unwrap());
    seed.series = Some("OSW Commentary".into());
    seed.number = Some("137".into());
    seed.ispublished = Some("pub".into());
    seed.subjects = vec!["kz".into()];
    seed.userid = Some(7);
    seed.abstract_text = Some("Kazakhstan is wary of <Russia> & its plans.\n\nA second paragraph.".into());
    let mut public = document(1, stored("osw commentary 137.pdf", Some("application/pdf"), PDF, Some(pdf_sha.clone())));
    public.license = Some("CC-BY-4.0".into());
    public.format = Some("application/pdf".into());
    let mut staff = document(2, stored("internal.pdf", Some("application/pdf"), STAFF_SECRET, Some(staff_sha)));
    staff.security = DocumentSecurity::Staffonly;
    let mut embargoed =
        document(3, stored("embargoed.pdf", Some("application/pdf"), EMBARGO_SECRET, Some(embargo_sha)));
    embargoed.embargo = Some("2999-01-01".parse().unwrap());
    let missing = document(4, stored("never-fetched.pdf", Some("application/pdf"), b"", None));
    let html = document(5, stored("page.html", Some("text/html"), HTML_FILE, Some(html_sha)));
    seed.documents = vec![public, staff, embargoed, missing, html];
    let seed_id = repo.store.put_records(vec![RecordWrite::new(seed, "test")]).await.unwrap()[0];

    let mut gone = Record::new("policy_paper", "An older edition");
    gone.status = Status::Deletion;
    gone.withdrawn_reason = Some("Superseded by the corrected edition".into());
    gone.replaced_by = Some(seed_id);
    gone.documents = vec![document(1, stored("old.pdf", Some("application/pdf"), PDF, Some(pdf_sha.clone())))];
    let withdrawn = repo.store.put_records(vec![RecordWrite::new(gone, "test")]).await.unwrap()[0];

    let tdir = dir.path().join(&repo.config.server.templates);
    for (name, source) in templates {
        std::fs::create_dir_all(&tdir).unwrap();
        std::fs::write(tdir.join(name), source).unwrap();
    }

    let repo = Arc::new(repo);
    let listener = arkiv_web::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(arkiv_web::serve(listener, repo.clone(), Default::default(), std::future::pending()));
    let client = Client::builder().redirect(redirect::Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();
    Site {
        base,
        client,
        repo,
        ids: Ids { seed: seed_id, inbox: hidden_ids[0], buffer: hidden_ids[1], withdrawn, bulk },
        pdf_sha,
        _dir: dir,
    }
}

impl Site {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{}", self.base, path)).send().await.unwrap()
    }

    async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{}", self.base, path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    async fn page(&self, path: &str) -> (StatusCode, HeaderMap, String) {
        let res = self.get(path).await;
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.text().await.unwrap())
    }

    fn pdf_path(&self) -> String {
        format!("/{}/1/osw%20commentary%20137.pdf", self.ids.seed)
    }
}

/// Record ids linked from the citation list of a page.
fn listed_ids(html: &str) -> Vec<RecordId> {
    let Some(start) = html.find("<ol class=\"citations\">") else { return Vec::new() };
    let list = &html[start..html[start..].find("</ol>").map(|e| start + e).unwrap_or(html.len())];
    list.split("href=\"/").skip(1).filter_map(|rest| rest.split_once("/\"").and_then(|(n, _)| n.parse().ok())).collect()
}

fn next_link(html: &str) -> Option<String> {
    let end = html.find("\" rel=\"next\"")?;
    let start = html[..end].rfind("href=\"")? + 6;
    Some(unescape(&html[start..end]))
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn the_home_page_lists_the_latest_addition_and_the_ways_in() {
    let site = start(&[]).await;
    let (status, headers, body) = site.page("/").await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").starts_with("text/html"));
    assert!(body.contains("Arkiv"), "repository name");
    assert!(body.contains(&Config::default().repository.description), "description");
    let latest = listed_ids(&body);
    assert_eq!(latest.first(), Some(&site.ids.seed), "the newest record comes first");
    assert_eq!(latest.len(), 10);
    assert!(!latest.contains(&site.ids.inbox) && !latest.contains(&site.ids.withdrawn));
    assert!(visible(&body).contains(SEED_TITLE));
    assert!(body.contains("<span class=\"figure\">121</span>"), "counts live records");
    for view in ["/view/year/", "/view/subject/", "/view/creator/", "/view/series/", "/view/type/"] {
        assert!(body.contains(&format!("href=\"{view}\"")), "{view}");
    }
    assert!(body.contains("<form class=\"home-search\" action=\"/search\" method=\"get\""), "a search box");
    assert!(!body.contains("<script"), "no script at all");
}

#[tokio::test]
async fn the_abstract_page_shows_the_citation_documents_and_details() {
    let site = start(&[]).await;
    let id = site.ids.seed;
    let (status, headers, body) = site.page(&format!("/{id}/")).await;
    assert_eq!(status, 200);
    let record = site.repo.store.get_record(id).await.unwrap().unwrap();
    let line = site.repo.citation(&record).to_string();
    assert_eq!(
        line,
        format!("Jaroslewlcz, Aleksandra (2014) {SEED_TITLE}. OSW Commentary No. 137, 29.05.2014. [Policy Paper]")
    );
    let start = body.find("<p class=\"citation-full\">").expect("citation paragraph");
    let end = start + body[start..].find("</p>").unwrap();
    assert_eq!(visible(&body[start..end]), line, "the citation line exactly");
    assert!(body.contains("Kazakhstan&#39;s"), "escaped, not raw");

    let text = visible(&body);
    assert!(text.contains("Actions (login required)"));
    assert!(body.contains("href=\"/login"));
    assert!(text.contains("Kazakhstan is wary of <Russia> & its plans."), "abstract, escaped in the source");
    assert!(!body.contains("<Russia>"));
    assert!(text.contains("A second paragraph."));
    for (label, value) in [
        ("Item Type", "Policy Paper"),
        ("Subjects", "Geographical area > Central Asia > Kazakhstan"),
        ("Series", "OSW Commentary"),
        ("Number", "137"),
        ("Date", "29 May 2014"),
        ("URI", &format!("http://127.0.0.1:8080/{id}/")),
    ] {
        let row = text.find(label).unwrap_or_else(|| panic!("row {label}"));
        assert!(text[row..].trim_start_matches(label).trim_start().starts_with(value), "{label}: {value}");
    }
    assert!(text.contains("Date Deposited") && text.contains("Last Modified"));
    assert!(!text.contains("Depositing User"), "a depositor's user id is not the public's");
    assert!(body.contains("href=\"/view/subject/kz.html\""));
    assert!(body.contains("href=\"/view/series/OSW%20Commentary.html\""));

    // Documents: the public one linked with size and licence; the others
    // listed but not linked.
    assert!(body.contains(&format!("href=\"{}\"", site.pdf_path())));
    assert!(text.contains(&format!("{} B", PDF.len())));
    assert!(text.contains("Licence: CC-BY-4.0"));
    assert!(!body.contains(&format!("href=\"/{id}/2/")), "staff-only is not linked");
    assert!(!body.contains(&format!("href=\"/{id}/3/")), "embargoed is not linked");
    assert!(text.contains("Embargoed until 1 January 2999"));
    assert!(body.contains("citation_pdf_url"));

    assert!(!header(&headers, "last-modified").is_empty());
    assert!(!header(&headers, "etag").is_empty());
}

#[tokio::test]
async fn eprints_addresses_lead_to_the_same_record() {
    let site = start(&[]).await;
    let id = site.ids.seed;
    let (status, _, body) = site.page(&format!("/id/eprint/{id}/")).await;
    assert_eq!(status, 200);
    assert!(visible(&body).contains(SEED_TITLE));
    for from in [format!("/{id}"), format!("/id/eprint/{id}"), format!("/00{id}/")] {
        let res = site.get(&from).await;
        assert_eq!(res.status(), 301, "{from}");
        assert_eq!(header(res.headers(), "location"), format!("/{id}/"));
    }
}

#[tokio::test]
async fn unpublished_withdrawn_and_unknown_records() {
    let site = start(&[]).await;
    for id in [site.ids.inbox, site.ids.buffer] {
        let (status, _, body) = site.page(&format!("/{id}/")).await;
        assert_eq!(status, 404, "record {id} is not public");
        assert!(!body.contains("nobody may see") && !body.contains("Under review"));
        assert_eq!(site.get(&format!("/id/eprint/{id}/")).await.status(), 404);
    }
    let (status, _, body) = site.page(&format!("/{}/", site.ids.withdrawn)).await;
    assert_eq!(status, 410);
    let text = visible(&body);
    assert!(text.contains("Superseded by the corrected edition"));
    assert!(text.contains("An older edition"), "the citation stays");
    assert!(body.contains(&format!("href=\"/{}/\"", site.ids.seed)), "links the replacement");

    for path in [
        "/999999/",
        "/abc/",
        "/99999999999999999999999/",
        "/0/",
        "/-1/",
        "/1.5/",
        "/%FF/",
        "/abc",
        "/99999999999999999999999",
        "/id/eprint/abc",
        "/id/eprint/0/",
        "/abc/linkset",
        "/-1/linkset.txt",
    ] {
        let (status, headers, body) = site.page(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(header(&headers, "content-type").starts_with("text/html"), "{path}");
        assert!(body.contains("href=\"/\"") && body.contains("href=\"/view/\""), "a helpful page for {path}");
    }
}

#[tokio::test]
async fn a_public_file_downloads_with_validators() {
    let site = start(&[]).await;
    let res = site.get(&site.pdf_path()).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(header(&h, "content-type"), "application/pdf");
    assert_eq!(header(&h, "content-length"), PDF.len().to_string());
    assert_eq!(header(&h, "etag"), format!("\"{}\"", site.pdf_sha));
    assert_eq!(header(&h, "accept-ranges"), "bytes");
    assert!(!header(&h, "last-modified").is_empty());
    assert_eq!(
        header(&h, "content-disposition"),
        "inline; filename=\"osw commentary 137.pdf\"; filename*=UTF-8''osw%20commentary%20137.pdf"
    );
    assert_eq!(header(&h, "x-content-type-options"), "nosniff");
    assert!(header(&h, "content-encoding").is_empty(), "files are never compressed");
    assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);

    let etag = header(&h, "etag").to_string();
    let res = site.get_with(&site.pdf_path(), &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), 304);
    assert_eq!(header(res.headers(), "etag"), etag);
    assert!(res.bytes().await.unwrap().is_empty());
    let lm = header(&h, "last-modified").to_string();
    assert_eq!(site.get_with(&site.pdf_path(), &[("if-modified-since", &lm)]).await.status(), 304);
    assert_eq!(site.get_with(&site.pdf_path(), &[("if-none-match", "\"other\"")]).await.status(), 200);

    let res = site.client.head(format!("{}{}", site.base, site.pdf_path())).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(res.headers(), "content-length"), PDF.len().to_string());
    assert_eq!(header(res.headers(), "content-type"), "application/pdf");
    assert!(res.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn byte_ranges() {
    let site = start(&[]).await;
    let len = PDF.len();
    let path = site.pdf_path();
    let cases: [(&str, usize, usize); 4] =
        [("bytes=0-9", 0, 9), ("bytes=-5", len - 5, len - 1), ("bytes=5-", 5, len - 1), ("bytes=3-99999", 3, len - 1)];
    for (range, a, b) in cases {
        let res = site.get_with(&path, &[("range", range)]).await;
        assert_eq!(res.status(), 206, "{range}");
        assert_eq!(header(res.headers(), "content-range"), format!("bytes {a}-{b}/{len}"), "{range}");
        assert_eq!(header(res.headers(), "content-length"), (b - a + 1).to_string());
        assert_eq!(res.bytes().await.unwrap().as_ref(), &PDF[a..=b], "{range}");
    }
    let res = site.get_with(&path, &[("range", "bytes=999999-")]).await;
    assert_eq!(res.status(), 416);
    assert_eq!(header(res.headers(), "content-range"), format!("bytes */{len}"));
    // Several ranges, or nonsense: the whole file.
    for range in ["bytes=0-1,4-5", "bytes=9-3", "pages=1-2", "bytes=x-"] {
        let res = site.get_with(&path, &[("range", range)]).await;
        assert_eq!(res.status(), 200, "{range}");
        assert_eq!(res.bytes().await.unwrap().as_ref(), PDF);
    }
    // If-Range: a stale tag gets the whole file, the current one the range.
    let res = site.get_with(&path, &[("range", "bytes=0-9"), ("if-range", "\"stale\"")]).await;
    assert_eq!(res.status(), 200);
    let tag = format!("\"{}\"", site.pdf_sha);
    let res = site.get_with(&path, &[("range", "bytes=0-9"), ("if-range", &tag)]).await;
    assert_eq!(res.status(), 206);
}

#[tokio::test]
async fn restricted_bytes_are_never_served() {
    let site = start(&[]).await;
    let id = site.ids.seed;
    for (path, secret) in
        [(format!("/{id}/2/internal.pdf"), STAFF_SECRET), (format!("/{id}/3/embargoed.pdf"), EMBARGO_SECRET)]
    {
        for extra in [vec![], vec![("range", "bytes=0-9")], vec![("if-none-match", "*")], vec![("range", "bytes=-5")]] {
            let res = site.get_with(&path, &extra).await;
            assert_eq!(res.status(), 403, "{path} {extra:?}");
            let body = res.bytes().await.unwrap();
            assert!(!body.windows(10).any(|w| secret.windows(10).any(|s| s == w)), "{path}: no secret bytes");
        }
        let res = site.client.head(format!("{}{}", site.base, path)).send().await.unwrap();
        assert_eq!(res.status(), 403);
    }
    let (status, _, body) = site.page(&format!("/{id}/4/never-fetched.pdf")).await;
    assert_eq!(status, 404);
    assert!(body.contains("does not hold its bytes"));
    // Files of records a visitor may not see.
    assert_eq!(site.get(&format!("/{}/1/old.pdf", site.ids.withdrawn)).await.status(), 410);
    assert_eq!(site.get(&format!("/{}/1/x.pdf", site.ids.inbox)).await.status(), 404);
    // Wrong position or name.
    assert_eq!(site.get(&format!("/{id}/9/internal.pdf")).await.status(), 404);
    assert_eq!(site.get(&format!("/{id}/1/internal.pdf")).await.status(), 404);
    assert_eq!(site.get(&format!("/{id}/x/internal.pdf")).await.status(), 404);
}

#[tokio::test]
async fn uploaded_pages_cannot_run_in_the_site() {
    let site = start(&[]).await;
    let res = site.get(&format!("/{}/5/page.html", site.ids.seed)).await;
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(header(h, "content-security-policy"), "sandbox");
    assert!(header(h, "content-disposition").starts_with("attachment;"));
    assert_eq!(header(h, "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn paths_cannot_climb_out() {
    let site = start(&[]).await;
    let id = site.ids.seed;
    for path in [
        format!("/{id}/1/..%2F..%2Farkiv.toml"),
        format!("/{id}/1/%2E%2E%2F%2E%2E%2Farkiv.toml"),
        format!("/{id}/1/%00"),
        format!("/{id}/1/osw%20commentary%20137.pdf%00"),
        format!("/{id}/1/..%5C..%5Carkiv.toml"),
        format!("/{id}/1/%FF%FE"),
        "/static/..%2F..%2FCargo.toml".to_string(),
        "/view/year/..%2F..%2Farkiv.toml".to_string(),
    ] {
        let res = site.get(&path).await;
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
        let body = res.text().await.unwrap();
        assert!(!body.contains("[repository]") && !body.contains("[package]"), "{path}");
    }
    // Targets a client library would tidy up first, sent as they are.
    for target in
        [format!("/{id}/1/%2E%2E"), format!("/{id}/1/../../arkiv.toml"), format!("/{id}/1/%2e%2e%2farkiv.toml")]
    {
        let status = raw_get(&site.base, target.as_bytes()).await;
        assert!((400..500).contains(&status), "{target}: {status}");
    }
}

#[tokio::test]
async fn the_year_view_pages_through_every_record_once() {
    let site = start(&[]).await;
    let (status, _, body) = site.page("/view/year/").await;
    assert_eq!(status, 200);
    let text = visible(&body);
    let y2014 = text.find("2014").expect("2014 listed");
    let y2013 = text.find("2013").expect("2013 listed");
    assert!(y2014 < y2013, "newest year first");
    assert!(body.contains("href=\"/view/year/2013.html\">2013</a> <span class=\"count\">120</span>"));

    let mut seen = Vec::new();
    let mut path = Some("/view/year/2013.html".to_string());
    let mut pages = Vec::new();
    while let Some(p) = path {
        let (status, _, body) = site.page(&p).await;
        assert_eq!(status, 200, "{p}");
        assert!(body.contains("<span class=\"figure\">120</span>"), "total on every page");
        let ids = listed_ids(&body);
        pages.push(ids.len());
        seen.extend(ids);
        path = next_link(&body);
        assert!(pages.len() < 10, "paging must end");
    }
    assert_eq!(pages, vec![50, 50, 20]);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 120, "each record exactly once");
    let mut bulk = site.ids.bulk.clone();
    bulk.sort();
    assert_eq!(sorted, bulk);

    let (status, _, body) = site.page("/view/year/2014.html").await;
    assert_eq!(status, 200);
    assert_eq!(listed_ids(&body), vec![site.ids.seed]);
}

#[tokio::test]
async fn the_other_views() {
    let site = start(&[]).await;
    let (status, _, body) = site.page("/view/").await;
    assert_eq!(status, 200);
    assert!(body.contains("href=\"/view/creator/\""));

    let (status, _, body) = site.page("/view/subject/").await;
    assert_eq!(status, 200);
    let text = visible(&body);
    assert!(text.contains("Geographical area") && text.contains("Kazakhstan"));
    assert!(body.contains("href=\"/view/subject/geo.html\">Geographical area</a> <span class=\"count\""));
    let (status, _, body) = site.page("/view/subject/kz.html").await;
    assert_eq!(status, 200);
    assert!(visible(&body).contains("Geographical area > Central Asia > Kazakhstan"));
    assert_eq!(listed_ids(&body), vec![site.ids.seed]);

    let (status, _, body) = site.page("/view/type/").await;
    assert_eq!(status, 200);
    assert!(visible(&body).contains("Working Paper"));
    let (_, _, body) = site.page("/view/type/working_paper.html").await;
    assert_eq!(listed_ids(&body).len(), 50);

    let (status, _, body) = site.page("/view/creator/").await;
    assert_eq!(status, 200);
    assert!(body.contains("href=\"/view/creator/Jaroslewlcz%2C%20Aleksandra.html\""));
    let (status, _, body) = site.page("/view/creator/Jaroslewlcz%2C%20Aleksandra.html").await;
    assert_eq!(status, 200);
    assert_eq!(listed_ids(&body), vec![site.ids.seed]);
    let (status, _, body) = site.page("/view/series/").await;
    assert_eq!(status, 200);
    assert!(visible(&body).contains("OSW Commentary"));

    for (path, want) in [
        ("/view/nope/", 404),
        ("/view/year/1066.html", 404),
        ("/view/year/2013.html?after=x", 400),
        ("/view/year/2013.html?after=x&id=y", 400),
        ("/view/year", 301),
        ("/view", 301),
    ] {
        assert_eq!(site.get(path).await.status(), want, "{path}");
    }
}

#[tokio::test]
async fn every_page_carries_the_security_headers() {
    let site = start(&[]).await;
    let id = site.ids.seed;
    for path in [
        "/".to_string(),
        format!("/{id}/"),
        "/view/year/".into(),
        "/nowhere".into(),
        "/static/arkiv.css".into(),
        format!("/{}/", site.ids.withdrawn),
    ] {
        let res = site.get(&path).await;
        let h = res.headers();
        if header(h, "content-type").starts_with("text/html") {
            assert_eq!(
                header(h, "content-security-policy"),
                "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
                "{path}"
            );
        }
        assert_eq!(header(h, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(h, "referrer-policy"), "strict-origin-when-cross-origin", "{path}");
    }
    let (status, headers, css) = site.page("/static/arkiv.css").await;
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").starts_with("text/css"));
    assert!(css.contains("@media print"));
    let (_, _, home) = site.page("/").await;
    assert!(!home.contains("style=") && !home.contains("<style") && !home.contains("<script"));
    assert!(!home.contains("http://") && !home.contains("https://"), "no external resources");
}

#[tokio::test]
async fn pages_are_compressed_and_revalidated() {
    let site = start(&[]).await;
    let (_, _, plain) = site.page("/").await;
    let res = site.get_with("/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(res.headers(), "content-encoding"), "gzip");
    let etag = header(res.headers(), "etag").to_string();
    assert!(!etag.is_empty());
    let zipped = res.bytes().await.unwrap();
    assert!(zipped.len() < plain.len());
    let mut unzipped = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(zipped.as_ref()), &mut unzipped).unwrap();
    assert_eq!(unzipped, plain);

    let res = site.get_with("/", &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), 304);
    assert!(res.bytes().await.unwrap().is_empty());
    let res = site.get_with(&format!("/{}/", site.ids.seed), &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), 200, "another page has another tag");
    let tag = header(res.headers(), "etag").to_string();
    let res = site.get_with(&format!("/{}/", site.ids.seed), &[("if-none-match", &tag)]).await;
    assert_eq!(res.status(), 304);
}

#[tokio::test]
async fn an_installation_can_override_a_template() {
    let site = start(&[(
        "home.html",
        "{% extends \"layout.html\" %}{% block main %}<h1>Welcome to {{ site.name }}, our own home page</h1><p>{{ latest|length }} new</p>{% endblock %}",
    )])
    .await;
    let (status, _, body) = site.page("/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Welcome to Arkiv, our own home page"));
    assert!(body.contains("<p>10 new</p>"));
    assert!(body.contains("<footer"), "the built-in layout still frames it");
    let home = visible(&body);
    for builtin in ["Latest additions", "Browse the collection", "Search the repository"] {
        assert!(!home.contains(builtin), "the built-in home page is replaced, yet shows {builtin:?}");
    }

    // Every other page is the built-in one: the abstract page shows what
    // only the built-in record.html lays out, and nothing of the override.
    let (status, _, body) = site.page(&format!("/{}/", site.ids.seed)).await;
    assert_eq!(status, 200);
    assert!(body.contains("<article class=\"record\">"), "the built-in abstract page");
    let page = visible(&body);
    for shown in [
        SEED_TITLE,
        "Full text",
        "osw commentary 137.pdf",
        "Abstract",
        "Kazakhstan is wary of <Russia> & its plans.",
        "Item details",
        "OSW Commentary",
    ] {
        assert!(page.contains(shown), "the built-in abstract page shows {shown:?}");
    }
    assert!(!page.contains("our own home page"));
    let (status, _, body) = site.page("/view/").await;
    assert_eq!(status, 200);
    assert!(body.contains("<h1>Browse the collection</h1>"), "the built-in list of views");
    assert!(body.contains("<ul class=\"view-list big\">") && body.contains("href=\"/view/year/\""));
}

#[tokio::test]
async fn the_abstract_page_is_quick() {
    let site = start(&[]).await;
    let path = format!("/{}/", site.ids.seed);
    site.page(&path).await;
    let n = 200;
    let t = std::time::Instant::now();
    for _ in 0..n {
        assert_eq!(site.get(&path).await.status(), 200);
    }
    let each = t.elapsed() / n;
    eprintln!("abstract page: {each:?} per request (debug build, including the client)");
    assert!(each < Duration::from_millis(100), "{each:?}");
}

/// A small deterministic generator, so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn percent(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| if b.is_ascii_alphanumeric() { (*b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[tokio::test]
async fn odd_requests_never_cause_a_server_error() {
    let site = start(&[]).await;
    let id = site.ids.seed.to_string();
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let prefixes = ["/", "/view/", "/view/year/", "/view/subject/", "/view/creator/", "/id/eprint/", "/static/"];
    let with_id = [format!("/{id}/"), format!("/{id}/1/"), format!("/{id}/2/"), format!("/{}/1/", site.ids.withdrawn)];
    let ranges = [
        "bytes=0-0",
        "bytes=-0",
        "bytes=0-",
        "bytes=-99999999999999999999999",
        "bytes=18446744073709551615-",
        "bytes=1-0",
        "bytes=,",
        "bytes=0-1,2-3,4-5",
        "bytes=\t0-1",
        "bytes= - ",
        "=",
        "bytes==0-1",
        "bytes=-1-2",
    ];
    let accepts = ["*/*", "application/json", "text/html;q=0", "image/png", "", "garbage;;;q=x", "text/*"];
    let mut failures = Vec::new();
    for i in 0..300 {
        let mut path = match rng.below(4) {
            0 => rng.pick(&prefixes).to_string(),
            1 => rng.pick(&with_id).clone(),
            2 => "/".repeat(1 + rng.below(3)),
            _ => format!("/{}/", percent(&rng.bytes(6))),
        };
        let segments = rng.below(3);
        for _ in 0..segments {
            path.push_str(&percent(&rng.bytes(12)));
            if rng.below(2) == 0 {
                path.push('/');
            }
        }
        if rng.below(4) == 0 {
            let tails = [
                ".html",
                ".pdf",
                "?after=%FF&id=1",
                "?after=&id=",
                "?id=9&after=a",
                "?after=a&after=b",
                "?from=-5&after=x&id=1",
            ];
            let tail: &&str = rng.pick(&tails);
            path.push_str(tail);
        }
        if i % 50 == 0 {
            path.push_str(&"a".repeat(4000 + rng.below(4000)));
        }
        let method = rng
            .pick(&[Method::GET, Method::GET, Method::GET, Method::HEAD, Method::POST, Method::OPTIONS, Method::DELETE])
            .clone();
        let mut req = site.client.request(method.clone(), format!("{}{}", site.base, path));
        if rng.below(2) == 0 {
            req = req.header("range", *rng.pick(&ranges));
        }
        if rng.below(3) == 0 {
            req = req.header("accept", *rng.pick(&accepts));
        }
        if rng.below(4) == 0 {
            req = req.header("if-none-match", *rng.pick(&["*", "\"x\"", "W/", "", ",,,"]));
        }
        if rng.below(5) == 0 {
            req = req.header(
                "if-modified-since",
                *rng.pick(&["yesterday", "Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"]),
            );
        }
        if rng.below(5) == 0 {
            req = req.header("accept-encoding", *rng.pick(&["gzip", "br;q=2, gzip;q=0", "*", "identity;q=0"]));
        }
        let res = req.send().await.unwrap();
        if res.status().is_server_error() {
            failures.push(format!("{method} {path} -> {}", res.status()));
        }
    }
    // Bytes no client library would send, written straight to the socket.
    let raw_targets: [&[u8]; 6] =
        [b"/\xff\xfe/", b"/1/1/../../arkiv.toml", b"/view/%", b"/%%%", b"//..//..//etc/passwd", b"/%C0%AE%C0%AE/"];
    for target in raw_targets {
        let status = raw_get(&site.base, target).await;
        if status >= 500 || status == 0 {
            failures.push(format!("raw {} -> {status}", String::from_utf8_lossy(target)));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Sends a GET with the request target exactly as given; the status code,
/// or 0 if the connection closed without an answer.
async fn raw_get(base: &str, target: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = b"GET ".to_vec();
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(&req).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}
