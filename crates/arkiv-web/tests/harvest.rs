//! OAI-PMH harvesting (`arkiv_services::harvest`) over real HTTP:
//!
//! - one Arkiv harvests another in each format it offers (oai_dc, ep3,
//!   DataCite): every live record arrives once; a second run asks only for
//!   what changed; an edit at the source updates, a withdrawal withdraws;
//!   a record edited here is not overwritten but becomes a conflict that
//!   an admin sees on /admin/harvests with both versions and resolves; the
//!   harvested records are served again with OAI-PMH provenance, valid
//!   against the official schemas;
//! - Zenodo's recorded answers (../shared/corpus/oai_responses), served by
//!   a stand-in, are harvested across resumption tokens;
//! - a source that answers 503 with Retry-After is waited for; one that
//!   sends invalid XML, loops its resumption tokens, fails with 500, or
//!   never answers stops the run with a clear error, keeping the pages
//!   before it and not moving the next run's `from`.

mod common;

use arkiv_formats::harvest::MetadataPrefix;
use arkiv_model::{Record, Status};
use arkiv_services::harvest::{harvest, HarvestOptions, HarvestReport, HarvestSource};
use arkiv_services::{Config, Repository};
use arkiv_storage::RecordWrite;
use arkiv_testkit::checkers;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

async fn empty_repo(config: Config) -> (Repository, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path(), config).await.unwrap();
    (repo, dir)
}

fn quick_config() -> Config {
    let mut config = Config::default();
    config.harvest.retries = 2;
    config.harvest.timeout_seconds = 2;
    config
}

async fn run(repo: &Repository, source: &HarvestSource) -> HarvestReport {
    harvest(repo, source, &HarvestOptions::default(), &mut |_| {}).await.unwrap()
}

/// Live records of the EPrints corpus and the seed, or a generated set
/// when ../shared is absent (and a failure under CI).
fn source_records() -> Vec<Record> {
    let mut records = vec![arkiv_testkit::seed()];
    match arkiv_testkit::corpus_dir() {
        Some(dir) => records.extend(arkiv_testkit::eprints_corpus(&dir)),
        None => arkiv_testkit::skip("../shared/corpus: harvesting the EPrints corpus"),
    }
    for r in &mut records {
        r.id = None;
        r.status = Status::Archive;
        r.datestamp = None;
        r.lastmod = None;
    }
    records
}

async fn titles(repo: &Repository) -> Vec<String> {
    let ids = repo.store.live_ids(0, i64::MAX).await.unwrap();
    let ids: Vec<_> = ids.into_iter().map(|(id, _)| id).collect();
    let mut titles: Vec<String> =
        repo.store.get_records(&ids).await.unwrap().into_iter().map(|r| one_line(&r.title)).collect();
    titles.sort();
    titles
}

/// The body of a GET.
async fn body(client: &reqwest::Client, url: String) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// Text as one line: DataCite's reader joins the lines of a title.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

async fn edit(repo: &Repository, id: i64, actor: &str, change: impl FnOnce(&mut Record)) {
    let (mut record, revision) = repo.store.get_record_with_revision(id).await.unwrap().unwrap();
    change(&mut record);
    record.lastmod = None;
    repo.store
        .put_records(vec![RecordWrite { record, actor: actor.into(), expected_revision: Some(revision) }])
        .await
        .unwrap();
}

/// The target's record that holds the source's record `source_id`.
async fn harvested_copy(target: &Repository, source_name: &str, source_id: i64) -> i64 {
    let identifier = format!("oai:oai.example.org:{source_id}");
    let entries = target.store.harvested_entries(source_name, std::slice::from_ref(&identifier)).await.unwrap();
    assert_eq!(entries.len(), 1, "{identifier} was harvested");
    entries[0].record_id
}

#[tokio::test]
async fn one_arkiv_harvests_another_and_keeps_it_current() {
    let mut config = Config::default();
    config.repository.base_url = "https://oai.example.org".into();
    let (source_repo, _source_dir) = empty_repo(config).await;
    let records = source_records();
    let writes = records.into_iter().map(|r| RecordWrite::new(r, "import")).collect();
    let source_ids = source_repo.store.put_records(writes).await.unwrap();
    let (base, _, source_repo) = common::serve(source_repo).await;
    let endpoint = format!("{base}/oai2");
    let expected = titles(&source_repo).await;

    for prefix in [MetadataPrefix::OaiDc, MetadataPrefix::Datacite] {
        let (target, _dir) = empty_repo(quick_config()).await;
        let source = HarvestSource::new("partner", &endpoint, None, prefix).unwrap();
        let report = run(&target, &source).await;
        assert!(report.complete && report.error.is_none(), "{prefix:?}: {report:?}");
        assert_eq!(
            report.created as usize,
            expected.len(),
            "{prefix:?}: every live record once: {:?}",
            report.rejected
        );
        assert_eq!(titles(&target).await, expected, "{prefix:?}: the same titles");
    }

    // EPrints XML carries the most; the rest of the test follows it.
    let mut config = quick_config();
    config.repository.base_url = "https://mirror.example.org".into();
    let (target, target_dir) = empty_repo(config).await;
    let source = HarvestSource::new("partner", &endpoint, None, MetadataPrefix::Ep3).unwrap();
    let first = run(&target, &source).await;
    assert!(first.complete, "{first:?}");
    assert_eq!(first.created as usize, expected.len(), "{:?}", first.rejected);
    assert_eq!(titles(&target).await, expected);
    let seed_copy = harvested_copy(&target, "partner", source_ids[0]).await;
    let seed = target.store.get_record(seed_copy).await.unwrap().unwrap();
    let original = source_repo.store.get_record(source_ids[0]).await.unwrap().unwrap();
    assert_eq!(seed.creators, original.creators, "ep3 keeps the creators");
    assert_eq!(seed.abstract_text, original.abstract_text);
    assert_eq!(seed.status, Status::Archive);

    // A second run asks only for what changed since the first began.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = run(&target, &source).await;
    assert!(second.complete, "{second:?}");
    assert!(second.from.is_some(), "incremental: {second:?}");
    assert_eq!((second.created, second.updated), (0, 0), "{second:?}");

    // An edit at the source updates the copy; a withdrawal withdraws it.
    edit(&source_repo, source_ids[1], "editor", |r| r.title = "Renamed at the source".into()).await;
    edit(&source_repo, source_ids[2], "editor", |r| {
        r.status = Status::Deletion;
        r.withdrawn_reason = Some("duplicate".into());
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let third = run(&target, &source).await;
    assert_eq!((third.created, third.updated, third.withdrawn), (0, 1, 1), "{third:?}");
    let renamed = harvested_copy(&target, "partner", source_ids[1]).await;
    assert_eq!(target.store.get_record(renamed).await.unwrap().unwrap().title, "Renamed at the source");
    let withdrawn = harvested_copy(&target, "partner", source_ids[2]).await;
    assert_eq!(target.store.get_record(withdrawn).await.unwrap().unwrap().status, Status::Deletion);

    // Edited here, then at the source: the local edit stays, a conflict waits.
    edit(&target, renamed, "editor@example.org", |r| r.title = "Corrected here".into()).await;
    edit(&source_repo, source_ids[1], "editor", |r| r.title = "Renamed again at the source".into()).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let fourth = run(&target, &source).await;
    assert_eq!((fourth.updated, fourth.conflicts), (0, 1), "{fourth:?}");
    assert_eq!(target.store.get_record(renamed).await.unwrap().unwrap().title, "Corrected here");
    let conflicts = target.store.harvest_conflicts(10).await.unwrap();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].incoming.as_ref().unwrap().title, "Renamed again at the source");

    // Provenance: the copy is served with where it came from, valid.
    let site = common::serve_site(target, target_dir).await;
    let (target_base, client) = (site.base.clone(), site.client.clone());
    let get_record = "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:mirror.example.org";
    let xml = body(&client, format!("{target_base}/oai2?{get_record}:{seed_copy}")).await;
    assert!(xml.contains("<provenance"), "{xml}");
    assert!(xml.contains(&format!("<identifier>oai:oai.example.org:{}</identifier>", source_ids[0])), "{xml}");
    assert!(xml.contains(&format!("<baseURL>{endpoint}</baseURL>")), "{xml}");
    if checkers::xmllint_ready() {
        checkers::validate_xml(xml.as_bytes(), "oai-pmh-driver.xsd").unwrap();
    }
    let listed = body(&client, format!("{target_base}/oai2?verb=ListRecords&metadataPrefix=oai_dc")).await;
    assert!(listed.matches("<provenance").count() >= expected.len() - 1, "every live harvested record has its origin");
    if checkers::xmllint_ready() {
        checkers::validate_xml(listed.as_bytes(), "oai-pmh-driver.xsd").unwrap();
    }

    // The conflict on /admin/harvests: both versions, for admins only.
    let depositor = site.session("depositor@example.org").await;
    assert_eq!(site.get("/admin/harvests", &depositor).await.status(), 403);
    let admin = site.session("admin@example.org").await;
    let page = site.get("/admin/harvests", &admin).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Corrected here") && html.contains("Renamed again at the source"), "both versions: {html}");
    assert!(html.contains(&endpoint), "the source's progress");
    let identifier = format!("oai:oai.example.org:{}", source_ids[1]);
    let choice = [("source", "partner"), ("identifier", identifier.as_str()), ("choice", "take")];
    assert_eq!(site.post("/admin/harvests/resolve", &admin, &choice).await.status(), 403, "no CSRF token");
    let csrf = common::csrf_field(&html);
    let mut form = choice.to_vec();
    form.push(("csrf", &csrf));
    assert_eq!(site.post("/admin/harvests/resolve", &depositor, &form).await.status(), 403);
    assert_eq!(site.post("/admin/harvests/resolve", &admin, &form).await.status(), 303);
    let record = site.repo.store.get_record(renamed).await.unwrap().unwrap();
    assert_eq!(record.title, "Renamed again at the source", "the source's version taken");
    assert!(site.repo.store.harvest_conflicts(10).await.unwrap().is_empty());
    let html = site.get("/admin/harvests", &admin).await.text().await.unwrap();
    assert!(html.contains("No conflict is waiting"));
}

// --- a stand-in source ------------------------------------------------------

/// What the stand-in answers one request with.
enum Answer {
    Xml(String),
    Status(u16, Option<&'static str>),
    Hang,
}

type Script = Arc<dyn Fn(&HashMap<String, String>) -> Answer + Send + Sync>;

/// A source on a free local port answering each request as `script` says;
/// its base URL and the requests it saw.
async fn stand_in(script: Script) -> (String, Arc<Mutex<Vec<HashMap<String, String>>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/oai",
        axum::routing::get(move |Query(q): Query<HashMap<String, String>>| {
            let script = script.clone();
            let log = log.clone();
            async move {
                log.lock().unwrap().push(q.clone());
                let answer: Response = match script(&q) {
                    Answer::Xml(xml) => ([("content-type", "text/xml")], xml).into_response(),
                    Answer::Status(code, retry_after) => {
                        let mut r = (StatusCode::from_u16(code).unwrap(), "unavailable").into_response();
                        if let Some(seconds) = retry_after {
                            r.headers_mut().insert("retry-after", seconds.parse().unwrap());
                        }
                        r
                    }
                    Answer::Hang => {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                        StatusCode::OK.into_response()
                    }
                };
                answer
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/oai", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

fn recorded(name: &str) -> Option<String> {
    let Some(dir) = arkiv_testkit::corpus_dir() else {
        arkiv_testkit::skip("../shared/corpus/oai_responses: the recorded Zenodo answers");
        return None;
    };
    Some(std::fs::read_to_string(dir.join("oai_responses/zenodo_inveniordm").join(name)).unwrap())
}

fn token_of(xml: &str) -> String {
    let start = xml.find("<resumptionToken").unwrap();
    let open = xml[start..].find('>').unwrap() + start + 1;
    let close = xml[open..].find("</resumptionToken>").unwrap() + open;
    xml[open..close].to_string()
}

fn without_token(xml: &str) -> String {
    let token = token_of(xml);
    xml.replace(&format!(">{token}</resumptionToken>"), "></resumptionToken>")
}

/// An OAI-PMH page of `n` oai_dc records numbered from `first`, with `token`.
fn page(first: usize, n: usize, token: Option<&str>) -> String {
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-12-01T10:00:00Z</responseDate><request verb="ListRecords">http://x/oai</request><ListRecords>"#,
    );
    for i in first..first + n {
        out.push_str(&format!(
            r#"<record><header><identifier>oai:stand-in:{i}</identifier><datestamp>2026-11-01</datestamp></header><metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Paper {i}</dc:title><dc:creator>Kowalska, Anna</dc:creator><dc:date>2026</dc:date><dc:type>Text</dc:type></oai_dc:dc></metadata></record>"#
        ));
    }
    if let Some(t) = token {
        out.push_str(&format!("<resumptionToken>{t}</resumptionToken>"));
    }
    out.push_str("</ListRecords></OAI-PMH>");
    out
}

const IDENTIFY: &str = r#"<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-12-01T10:00:00Z</responseDate><request verb="Identify">http://x/oai</request><Identify><repositoryName>Stand-in</repositoryName><baseURL>http://x/oai</baseURL><protocolVersion>2.0</protocolVersion><adminEmail>a@example.org</adminEmail><earliestDatestamp>2000-01-01</earliestDatestamp><deletedRecord>persistent</deletedRecord><granularity>YYYY-MM-DD</granularity></Identify></OAI-PMH>"#;

fn scripted(pages: impl Fn(Option<&str>) -> Answer + Send + Sync + 'static) -> Script {
    Arc::new(move |q| match q.get("verb").map(String::as_str) {
        Some("Identify") => Answer::Xml(IDENTIFY.into()),
        _ => pages(q.get("resumptionToken").map(String::as_str)),
    })
}

#[tokio::test]
async fn zenodos_recorded_answers_are_harvested_across_resumption_tokens() {
    let (Some(identify), Some(p5), Some(p9), Some(p8), Some(p4)) = (
        recorded("identify_1.xml"),
        recorded("list_records_5.xml"),
        recorded("list_records_9.xml"),
        recorded("list_records_8.xml"),
        recorded("list_records_4.xml"),
    ) else {
        return;
    };
    let (t5, t9) = (token_of(&p5), token_of(&p9));
    let (want5, want9) = (t5.clone(), t9.clone());
    let p4 = without_token(&p4);
    let script: Script = Arc::new(move |q| {
        match (q.get("verb").map(String::as_str), q.get("metadataPrefix").map(String::as_str), q.get("resumptionToken"))
        {
            (Some("Identify"), _, _) => Answer::Xml(identify.clone()),
            (_, Some("datacite"), None) => Answer::Xml(p4.clone()),
            (_, _, None) => Answer::Xml(p5.clone()),
            (_, _, Some(t)) if *t == t5 => Answer::Xml(p9.clone()),
            (_, _, Some(t)) if *t == t9 => Answer::Xml(p8.clone()),
            _ => Answer::Status(400, None),
        }
    });
    let (base, seen) = stand_in(script).await;
    let (target, _dir) = empty_repo(quick_config()).await;
    let source = HarvestSource::new("zenodo", &base, None, MetadataPrefix::OaiDc).unwrap();
    let report = run(&target, &source).await;
    assert!(report.complete, "{report:?}");
    assert_eq!(report.pages, 3);
    // Nine records on three pages, one of them deleted (never taken here,
    // so nothing to withdraw).
    assert_eq!((report.created, report.withdrawn), (8, 0), "{report:?}");
    assert!(report.rejected.is_empty(), "{report:?}");
    let asked: Vec<_> = seen.lock().unwrap().iter().filter_map(|q| q.get("resumptionToken").cloned()).collect();
    assert_eq!(asked, vec![want5, want9], "each token followed once");
    let titles = titles(&target).await;
    assert!(titles.iter().all(|t| !t.is_empty()));

    let source = HarvestSource::new("zenodo-datacite", &base, None, MetadataPrefix::Datacite).unwrap();
    let report = run(&target, &source).await;
    assert!(report.complete, "{report:?}");
    assert!(report.created >= 45, "most of Zenodo's 50 DataCite records land: {report:?}");
    for (identifier, why) in &report.rejected {
        assert!(identifier.starts_with("oai:zenodo.org:") && !why.is_empty());
    }
}

#[tokio::test]
async fn a_source_asking_to_wait_is_waited_for() {
    let calls = Arc::new(Mutex::new(0));
    let counter = calls.clone();
    let (base, _) = stand_in(scripted(move |_| {
        let mut n = counter.lock().unwrap();
        *n += 1;
        if *n == 1 {
            Answer::Status(503, Some("1"))
        } else {
            Answer::Xml(page(1, 5, None))
        }
    }))
    .await;
    let (target, _dir) = empty_repo(quick_config()).await;
    let source = HarvestSource::new("slow", &base, None, MetadataPrefix::OaiDc).unwrap();
    let started = Instant::now();
    let report = run(&target, &source).await;
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After obeyed");
    assert!(report.complete && report.created == 5, "{report:?}");
}

#[tokio::test]
async fn a_broken_source_stops_the_run_and_keeps_what_came_before() {
    // Page 1 fine, page 2 not XML at all.
    let (base, _) = stand_in(scripted(|token| match token {
        None => Answer::Xml(page(1, 10, Some("next"))),
        Some(_) => Answer::Xml("<OAI-PMH><ListRecords><record>".into()),
    }))
    .await;
    let (target, _dir) = empty_repo(quick_config()).await;
    let source = HarvestSource::new("broken", &base, None, MetadataPrefix::OaiDc).unwrap();
    let report = run(&target, &source).await;
    assert!(!report.complete);
    assert!(report.error.as_deref().unwrap().contains("not an OAI-PMH answer"), "{report:?}");
    assert_eq!(report.created, 10, "page 1 landed whole");
    let row = target.store.harvest_source("broken").await.unwrap().unwrap();
    assert!(row.harvested_until.is_none(), "an unfinished run does not move `from`");
    assert!(row.last_error.is_some());
    // The next run starts over, and takes nothing twice.
    let again = run(&target, &source).await;
    assert_eq!((again.created, again.unchanged), (0, 10), "{again:?}");
    assert!(again.from.is_none());

    // A loop of resumption tokens.
    let (base, seen) = stand_in(scripted(|token| match token {
        None => Answer::Xml(page(1, 3, Some("same"))),
        Some(_) => Answer::Xml(page(4, 3, Some("same"))),
    }))
    .await;
    let source = HarvestSource::new("looping", &base, None, MetadataPrefix::OaiDc).unwrap();
    let report = run(&target, &source).await;
    assert!(report.error.as_deref().unwrap().contains("second time"), "{report:?}");
    assert_eq!(report.created, 6);
    assert_eq!(seen.lock().unwrap().len(), 3, "Identify, the first page, the token once");

    // 500 on every attempt: retried, then a clear error.
    let (base, seen) = stand_in(scripted(|_| Answer::Status(500, None))).await;
    let source = HarvestSource::new("failing", &base, None, MetadataPrefix::OaiDc).unwrap();
    let report = run(&target, &source).await;
    let error = report.error.unwrap();
    assert!(error.contains("HTTP 500") && error.contains("3 attempts"), "{error}");
    assert_eq!(seen.lock().unwrap().len(), 4, "Identify, then three attempts");

    // Never answers: given up after the timeout, each attempt.
    let (base, _) = stand_in(Arc::new(|_| Answer::Hang)).await;
    let mut config = quick_config();
    config.harvest.retries = 0;
    config.harvest.timeout_seconds = 1;
    let (patient, _dir2) = empty_repo(config).await;
    let source = HarvestSource::new("silent", &base, None, MetadataPrefix::OaiDc).unwrap();
    let started = Instant::now();
    let report = run(&patient, &source).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(report.error.unwrap().contains("no answer within 1 s"));

    // A record without a title is refused by its identifier; the rest land.
    let (base, _) =
        stand_in(scripted(|_| Answer::Xml(page(1, 3, None).replace("<dc:title>Paper 2</dc:title>", "")))).await;
    let source = HarvestSource::new("untitled", &base, None, MetadataPrefix::OaiDc).unwrap();
    let report = run(&target, &source).await;
    assert!(report.complete);
    assert_eq!(report.created, 2);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].0, "oai:stand-in:2");
}

#[tokio::test]
async fn configured_sources_are_harvested_when_their_interval_has_passed() {
    let (base, seen) = stand_in(scripted(|_| Answer::Xml(page(1, 4, None)))).await;
    let mut config = quick_config();
    config.harvest.sources.push(arkiv_services::config::ScheduledHarvest {
        name: "nightly".into(),
        url: base,
        set: None,
        prefix: "oai_dc".into(),
        every_hours: 24,
    });
    let (target, _dir) = empty_repo(config).await;
    arkiv_services::harvest::harvest_due(&target).await;
    let row = target.store.harvest_source("nightly").await.unwrap().expect("harvested on the first hourly run");
    assert_eq!(row.records, 4);
    assert!(row.last_error.is_none() && row.harvested_until.is_some(), "{row:?}");
    let asked = seen.lock().unwrap().len();
    // An hour later the interval has not passed: the source is not asked.
    arkiv_services::harvest::harvest_due(&target).await;
    assert_eq!(seen.lock().unwrap().len(), asked, "not due again within every_hours");
}
