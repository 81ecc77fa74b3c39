//! "Start from a DOI, BibTeX or RIS" on the deposit page, over real HTTP:
//! a stand-in for Crossref and DataCite on 127.0.0.1 answers with the
//! recorded answers of `../shared/corpus/doi_api_responses/` (Crossref
//! 404 for DataCite's DOIs), and the deposit form comes back filled in, or
//! with a message beside the box a depositor understands: not found, a
//! failing service, one that never answers (within the configured
//! timeout), one that cannot be reached, text that is no record. After
//! every case the draft in the store is as it was: nothing is saved until
//! the depositor presses Save. Another user's draft and a form without its
//! CSRF token are refused as the form itself is.

mod common;

use arkiv_model::Record;
use arkiv_services::config::DoiSettings;
use arkiv_services::Config;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response as AxumResponse};
use axum::routing::get;
use axum::Router;
use common::{csrf_field, start_with, Site};
use reqwest::StatusCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the stand-in behaves.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Answers from the corpus, 404 for what it does not hold.
    Corpus,
    /// Crossref answers 500 for everything.
    CrossrefFails,
}

#[derive(Clone)]
struct StandIn {
    crossref: Arc<HashMap<String, Vec<u8>>>,
    datacite: Arc<HashMap<String, Vec<u8>>>,
    mode: Mode,
    /// Each request: "crossref DOI" or "datacite DOI", with its User-Agent.
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl StandIn {
    fn load(mode: Mode) -> Option<StandIn> {
        let dir = arkiv_testkit::corpus_dir()?.join("doi_api_responses");
        let crossref_file = dir.join("crossref/work_10.7554_elife.01567.json");
        let mut crossref = HashMap::new();
        crossref.insert("10.7554/elife.01567".to_string(), std::fs::read(&crossref_file).unwrap());
        let mut datacite = HashMap::new();
        for entry in std::fs::read_dir(dir.join("datacite")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            // 10.5438_zhyx-n122.json is the answer for 10.5438/zhyx-n122.
            if let Some((prefix, suffix)) = name.split_once('_').filter(|_| name.starts_with("10.")) {
                datacite.insert(format!("{prefix}/{suffix}").to_lowercase(), std::fs::read(&path).unwrap());
            }
        }
        assert!(datacite.len() >= 5, "the recorded DataCite answers");
        Some(StandIn {
            crossref: Arc::new(crossref),
            datacite: Arc::new(datacite),
            mode,
            seen: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Serves on a free port; the base URL.
    async fn serve(&self) -> String {
        let app = Router::new()
            .route("/works/{*doi}", get(crossref_work))
            .route("/dois/{*doi}", get(datacite_doi))
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().map(|(what, _)| what.clone()).collect()
    }

    fn note(&self, what: String, headers: &HeaderMap) {
        let agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        self.seen.lock().unwrap().push((what, agent));
    }
}

async fn crossref_work(State(s): State<StandIn>, Path(doi): Path<String>, headers: HeaderMap) -> AxumResponse {
    s.note(format!("crossref {doi}"), &headers);
    if s.mode == Mode::CrossrefFails {
        return (AxumStatus::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    match s.crossref.get(&doi.to_lowercase()) {
        // As Crossref answers: the work inside its envelope.
        Some(work) => {
            let body = format!(
                r#"{{"status":"ok","message-type":"work","message-version":"1.0.0","message":{}}}"#,
                String::from_utf8_lossy(work)
            );
            ([("content-type", "application/json")], body).into_response()
        }
        None => (AxumStatus::NOT_FOUND, "Resource not found.").into_response(),
    }
}

async fn datacite_doi(State(s): State<StandIn>, Path(doi): Path<String>, headers: HeaderMap) -> AxumResponse {
    s.note(format!("datacite {doi}"), &headers);
    match s.datacite.get(&doi.to_lowercase()) {
        Some(body) => ([("content-type", "application/vnd.api+json")], body.clone()).into_response(),
        None => (
            AxumStatus::NOT_FOUND,
            [("content-type", "application/vnd.api+json")],
            r#"{"errors":[{"status":"404","title":"The resource you are looking for doesn't exist."}]}"#,
        )
            .into_response(),
    }
}

/// A server that takes connections and never answers.
async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    base
}

/// An address where nothing listens.
async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}")
}

async fn site_over(crossref: &str, datacite: &str) -> Site {
    let doi = DoiSettings {
        crossref_url: crossref.to_string(),
        datacite_url: datacite.to_string(),
        timeout_seconds: 1,
        mailto: "repository@example.org".into(),
    };
    start_with(Config { doi, ..Config::default() }).await
}

/// A new draft of `item_type` in the depositor's workarea: its id.
async fn new_draft(site: &Site, who: &str, item_type: &str) -> i64 {
    let token = csrf_field(&site.get("/workarea", who).await.text().await.unwrap());
    let res = site.post("/workarea/new", who, &[("csrf", &token), ("item_type", item_type)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    location.trim_start_matches("/deposit/").parse().expect("redirected to the new item")
}

/// A site whose Crossref and DataCite are at these addresses, a
/// depositor's session on it, and a new draft of theirs.
async fn depositor_draft(crossref: &str, datacite: &str) -> (Site, String, i64) {
    let site = site_over(crossref, datacite).await;
    let depositor = site.session("depositor@example.org").await;
    let id = new_draft(&site, &depositor, "other").await;
    (site, depositor, id)
}

async fn stored(site: &Site, id: i64) -> (Record, i64) {
    site.repo.store.get_record_with_revision(id).await.unwrap().expect("the draft")
}

/// Whether the page says `words` (the templates escape `/` and quotes).
fn says(html: &str, words: &str) -> bool {
    unescape(html).contains(words)
}

/// Posts `source` to the box; the status and the page.
async fn fill(site: &Site, id: i64, who: &str, source: &str) -> (StatusCode, String) {
    let token = csrf_field(&site.get(&format!("/deposit/{id}"), who).await.text().await.unwrap());
    let res = site.post(&format!("/deposit/{id}/fill"), who, &[("csrf", &token), ("source", source)]).await;
    (res.status(), res.text().await.unwrap())
}

/// A form field's value on the page: an input's `value`, a textarea's
/// text, a select's selected option.
fn form_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..];
    if tag.starts_with("<textarea") {
        let open_end = tag.find('>')? + 1;
        let close = tag.find("</textarea>")?;
        return Some(unescape(&tag[open_end..close]));
    }
    if tag.starts_with("<select") {
        let close = tag.find("</select>")?;
        let options = &tag[..close];
        let selected = options.find(" selected")?;
        let option_start = options[..selected].rfind("value=\"")? + 7;
        return Some(unescape(options[option_start..].split('"').next()?));
    }
    let tag_end = tag.find('>')?;
    let value_at = tag[..tag_end].find("value=\"")? + 7;
    Some(unescape(tag[value_at..].split('"').next()?))
}

/// Each named field of the form holds the value given.
fn assert_form(html: &str, expected: &[(&str, &str)]) {
    for (name, value) in expected {
        assert_eq!(form_value(html, name).as_deref(), Some(*value), "the form's {name}");
    }
}

fn unescape(s: &str) -> String {
    s.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&amp;", "&")
}

/// The message beside the box, if any.
fn fill_error(html: &str) -> Option<String> {
    let at = html.find("id=\"fill-error\"")?;
    let text = &html[at..];
    let start = text.find('>')? + 1;
    let end = text.find("</p>")?;
    Some(unescape(&text[start..end]))
}

struct Case<'a> {
    site: &'a Site,
    id: i64,
    who: &'a str,
}

impl Case<'_> {
    /// Fills, checks that the draft in the store did not change, and gives
    /// the answer.
    async fn fill(&self, source: &str) -> (StatusCode, String) {
        let before = stored(self.site, self.id).await;
        let answer = fill(self.site, self.id, self.who, source).await;
        assert_eq!(stored(self.site, self.id).await, before, "nothing is saved by filling the form with {source:?}");
        answer
    }

    /// A failed lookup: 422, the form as it was, and the message beside the box.
    async fn refused(&self, source: &str) -> String {
        let (status, html) = self.fill(source).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{html}");
        assert_eq!(form_value(&html, "title").as_deref(), Some(""), "the form is unchanged");
        let shown = form_value(&html, "source").unwrap_or_default();
        assert_eq!(shown.trim(), source.trim(), "what was pasted is shown again");
        fill_error(&html).unwrap_or_else(|| panic!("a message beside the box in:\n{html}"))
    }
}

#[tokio::test]
async fn a_crossref_doi_fills_the_form_and_nothing_is_saved() {
    let Some(stand_in) = StandIn::load(Mode::Corpus) else { return };
    let base = stand_in.serve().await;
    let (site, depositor, id) = depositor_draft(&base, &base).await;
    let case = Case { site: &site, id, who: &depositor };

    for pasted in ["https://doi.org/10.7554/eLife.01567", "doi:10.7554/eLife.01567", "10.7554/eLife.01567"] {
        let (status, html) = case.fill(pasted).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert_eq!(fill_error(&html), None);
        assert!(says(&html, "Filled in from Crossref (DOI 10.7554/eLife.01567)"), "{html}");
        assert!(says(&html, "nothing is saved yet"));
        assert_eq!(form_value(&html, "item_type").as_deref(), Some("article"));
        assert_eq!(
            form_value(&html, "title").as_deref(),
            Some(
                "Automated quantitative histology reveals vascular morphodynamics during Arabidopsis hypocotyl \
                 secondary growth"
            )
        );
        assert_form(&html, &[("publication", "eLife"), ("volume", "3"), ("date", "2014-02-11")]);
        assert!(form_value(&html, "doi").unwrap().eq_ignore_ascii_case("10.7554/eLife.01567"));
        let creators = form_value(&html, "creators").unwrap();
        assert!(creators.lines().count() >= 2, "{creators}");
        assert!(says(&html, "Filled: Item type (Article), Title, Authors"), "{html}");
    }
    // Crossref alone was asked, politely.
    let seen = stand_in.seen.lock().unwrap().clone();
    assert!(seen.iter().all(|(what, _)| what.starts_with("crossref ")), "{seen:?}");
    assert!(seen.iter().all(|(_, agent)| agent.contains("Arkiv/") && agent.contains("mailto:repository@example.org")));

    // Saving the filled form is what changes the draft.
    let (_, html) = case.fill("10.7554/eLife.01567").await;
    let form_start = html.find("class=\"deposit-form\"").unwrap();
    let revision = html[form_start..].split("name=\"revision\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    let mut form = vec![("csrf".to_string(), csrf_field(&html)), ("revision".to_string(), revision.to_string())];
    for name in ["item_type", "title", "creators", "date", "publication", "volume", "doi"] {
        form.push((name.to_string(), form_value(&html, name).unwrap()));
    }
    let res = site.client.post(site.url(&format!("/deposit/{id}"))).header("cookie", &depositor).form(&form).send();
    assert_eq!(res.await.unwrap().status(), StatusCode::SEE_OTHER);
    let (record, _) = stored(&site, id).await;
    assert_eq!(record.item_type, "article");
    assert!(record.title.starts_with("Automated quantitative histology"));
    assert_eq!(record.publication.as_deref(), Some("eLife"));
}

#[tokio::test]
async fn a_datacite_doi_is_asked_of_datacite_when_crossref_does_not_know_it() {
    let Some(stand_in) = StandIn::load(Mode::Corpus) else { return };
    let base = stand_in.serve().await;
    let (site, depositor, id) = depositor_draft(&base, &base).await;
    let case = Case { site: &site, id, who: &depositor };

    let (status, html) = case.fill("https://dx.doi.org/10.5438/zhyx-n122").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(says(&html, "Filled in from DataCite (DOI 10.5438/zhyx-n122)"), "{html}");
    assert_eq!(form_value(&html, "title").as_deref(), Some("DataCite Member Survey 2022"));
    assert!(form_value(&html, "creators").unwrap().contains("Edmunds, Rorie"));
    assert!(form_value(&html, "date").unwrap().starts_with("2023"));
    assert_eq!(stand_in.seen(), ["crossref 10.5438/zhyx-n122", "datacite 10.5438/zhyx-n122"]);
}

#[tokio::test]
async fn a_doi_neither_knows_is_not_found() {
    let Some(stand_in) = StandIn::load(Mode::Corpus) else { return };
    let base = stand_in.serve().await;
    let (site, depositor, id) = depositor_draft(&base, &base).await;
    let case = Case { site: &site, id, who: &depositor };

    let message = case.refused("10.9999/no-such-thing").await;
    assert!(message.contains("Neither Crossref nor DataCite knows the DOI 10.9999/no-such-thing"), "{message}");
    assert_eq!(stand_in.seen(), ["crossref 10.9999/no-such-thing", "datacite 10.9999/no-such-thing"]);
}

#[tokio::test]
async fn a_failing_crossref_is_said_so() {
    let Some(stand_in) = StandIn::load(Mode::CrossrefFails) else { return };
    let base = stand_in.serve().await;
    let (site, depositor, id) = depositor_draft(&base, &base).await;
    let case = Case { site: &site, id, who: &depositor };

    let message = case.refused("10.7554/eLife.01567").await;
    assert_eq!(message, "Crossref is not answering properly (HTTP 500); try again later.");
    assert_eq!(stand_in.seen(), ["crossref 10.7554/eLife.01567"], "DataCite is asked only after a 404");
}

#[tokio::test]
async fn a_service_that_never_answers_is_given_up_on_in_time() {
    let silent = silent_server().await;
    let (site, depositor, id) = depositor_draft(&silent, &silent).await;
    let case = Case { site: &site, id, who: &depositor };

    let started = Instant::now();
    let message = case.refused("10.7554/eLife.01567").await;
    assert_eq!(message, "Crossref did not answer within 1 seconds; try again later.");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_service_that_cannot_be_reached_is_said_so() {
    let closed = closed_port().await;
    let (site, depositor, id) = depositor_draft(&closed, &closed).await;
    let case = Case { site: &site, id, who: &depositor };

    let message = case.refused("doi:10.7554/eLife.01567").await;
    let host = closed.trim_start_matches("http://");
    assert!(message.starts_with(&format!("The lookup could not reach {host}: ")), "{message}");
}

const RIS: &str = "\
TY  - JOUR
TI  - Dust on the steppe: a field report
AU  - Kowalska, Anna
AU  - Smith, John
PY  - 2019
T2  - Journal of Tests
VL  - 12
IS  - 3
SP  - 45
EP  - 67
DO  - 10.1234/ris.1
KW  - steppe
KW  - dust
AB  - What the wind carries.
ER  - 
TY  - JOUR
TI  - A second record
ER  - 
";

#[tokio::test]
async fn pasted_ris_fills_the_form() {
    let closed = closed_port().await;
    let (site, depositor, id) = depositor_draft(&closed, &closed).await;
    let case = Case { site: &site, id, who: &depositor };

    let (status, html) = case.fill(RIS).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(says(&html, "Filled in from the RIS record pasted"), "{html}");
    assert!(says(&html, "The text holds 2 records; only the first was used."), "{html}");
    assert_form(
        &html,
        &[
            ("item_type", "article"),
            ("title", "Dust on the steppe: a field report"),
            ("creators", "Kowalska, Anna\nSmith, John"),
            ("date", "2019"),
            ("publication", "Journal of Tests"),
            ("volume", "12"),
            ("number", "3"),
            ("pagerange", "45-67"),
            ("doi", "10.1234/ris.1"),
            ("keywords", "steppe\ndust"),
            ("abstract", "What the wind carries."),
        ],
    );
}

const BIBTEX: &str = "\
@article{kowalska2019,
  author = {Kowalska, Anna and Smith, John},
  title = {Dust on the steppe: a field report},
  journal = {Journal of Tests},
  year = {2019},
  volume = {12},
  number = {3},
  pages = {45--67},
  doi = {10.1234/bib.1},
}
";

#[tokio::test]
async fn pasted_bibtex_fills_the_form() {
    let closed = closed_port().await;
    let (site, depositor, id) = depositor_draft(&closed, &closed).await;
    let case = Case { site: &site, id, who: &depositor };

    let (status, html) = case.fill(BIBTEX).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(says(&html, "Filled in from the BibTeX entry pasted"), "{html}");
    assert_form(
        &html,
        &[
            ("item_type", "article"),
            ("title", "Dust on the steppe: a field report"),
            ("creators", "Kowalska, Anna\nSmith, John"),
            ("date", "2019"),
            ("publication", "Journal of Tests"),
            ("volume", "12"),
            ("doi", "10.1234/bib.1"),
        ],
    );
}

#[tokio::test]
async fn garbage_is_not_recognised() {
    let closed = closed_port().await;
    let (site, depositor, id) = depositor_draft(&closed, &closed).await;
    let case = Case { site: &site, id, who: &depositor };

    for garbage in ["the paper I wrote last year", "10.12/x", "<script>alert(1)</script>"] {
        let message = case.refused(garbage).await;
        assert!(message.starts_with("This is not recognised as a DOI"), "{message}");
    }
    let (status, html) = case.fill("").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fill_error(&html).as_deref(), Some("Paste a DOI, a BibTeX entry or a RIS record first."));
    // A RIS record that is broken says why.
    let message = case.refused("TY  - JOUR\nAU  - Nobody, No\nER  - \n").await;
    assert!(message.starts_with("The RIS record could not be read: "), "{message}");
}

#[tokio::test]
async fn another_users_draft_and_a_forged_form_are_refused() {
    let Some(stand_in) = StandIn::load(Mode::Corpus) else { return };
    let base = stand_in.serve().await;
    let site = site_over(&base, &base).await;
    let depositor = site.session("depositor@example.org").await;
    let other = site.session("other@example.org").await;
    let id = new_draft(&site, &depositor, "other").await;
    let before = stored(&site, id).await;

    // Another depositor: as the form itself answers them.
    let token = csrf_field(&site.get("/workarea", &other).await.text().await.unwrap());
    let form = [("csrf", token.as_str()), ("revision", "1"), ("title", "x")];
    let save = site.post(&format!("/deposit/{id}"), &other, &form).await.status();
    assert!(save.is_client_error(), "{save}");
    let res = site.post(&format!("/deposit/{id}/fill"), &other, &[("csrf", &token), ("source", RIS)]).await;
    assert_eq!(res.status(), save);
    assert!(!res.text().await.unwrap().contains("Dust on the steppe"));

    // No token, or a wrong one.
    let res = site.post(&format!("/deposit/{id}/fill"), &depositor, &[("source", RIS)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = site.post(&format!("/deposit/{id}/fill"), &depositor, &[("csrf", &token), ("source", RIS)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Nobody logged in.
    let res = site.post(&format!("/deposit/{id}/fill"), "", &[("csrf", &token), ("source", RIS)]).await;
    assert!(res.status().is_client_error() || res.status().is_redirection(), "{}", res.status());

    assert_eq!(stored(&site, id).await, before);
    assert!(stand_in.seen().is_empty(), "no lookup for a refused form: {:?}", stand_in.seen());
}
