//! The OAI-PMH provider over real HTTP, on a repository of more than 2,000
//! records written through the real store: the corpora of ../shared (the
//! seed, CaltechAUTHORS EPrints, arXiv, Zenodo) and generated records.
//!
//! - every response of a harvest (every verb, every metadata format, every
//!   error) validates against the official schemas with xmllint;
//! - every record is harvested exactly once per format, with and without a
//!   set, with from/until, and while records are withdrawn between pages;
//! - a resumption token keeps working on a restarted server, and a forged
//!   one is refused;
//! - three independent harvesters from PyPI (sickle, oaipmh-scythe, pyoai)
//!   see the same records;
//! - the schema check itself accepts real providers' recorded answers and
//!   refuses broken ones.

use arkiv_formats::export::oai_formats;
use arkiv_model::{Record, Status};
use arkiv_services::{Config, Repository};
use arkiv_storage::RecordWrite;
use arkiv_testkit::checkers;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SCHEMA: &str = "oai-pmh-driver.xsd";
const BASE_URL: &str = "https://oai.example.org";

struct Server {
    endpoint: String,
    client: reqwest::Client,
}

async fn serve(repo: Arc<Repository>) -> Server {
    let listener = arkiv_web::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/oai2", listener.local_addr().unwrap());
    tokio::spawn(arkiv_web::serve(listener, repo, Default::default(), std::future::pending()));
    Server { endpoint, client: reqwest::Client::new() }
}

impl Server {
    async fn get(&self, query: &str) -> String {
        let res = self.client.get(format!("{}?{query}", self.endpoint)).send().await.unwrap();
        assert_eq!(res.status(), 200, "?{query}");
        assert_eq!(res.headers()["content-type"], "text/xml; charset=utf-8");
        res.text().await.unwrap()
    }
}

/// EPrints XML has no published schema, so the OAI-PMH schema's strict
/// wildcard cannot check it: its records are parsed back with our reader
/// instead, and replaced by an empty oai_dc element for the envelope check.
fn without_ep3(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(i) = rest.find("<metadata><eprint ") {
        let end = rest[i..].find("</metadata>").unwrap() + i;
        let ep3 = &rest[i + 10..end];
        let list = format!("<eprints xmlns=\"{}\">{ep3}</eprints>", arkiv_formats::EPRINTS_NS);
        let read: Vec<_> = arkiv_formats::EprintsReader::new(list.as_bytes()).collect();
        assert!(read.len() == 1 && read[0].result.is_ok(), "ep3 record does not read back: {ep3}");
        out.push_str(&rest[..i]);
        out.push_str("<metadata><oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\"/>");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The schema check every response is put through: xmllint against the
/// OAI-PMH schema and the schemas of the metadata formats. `Err` holds
/// xmllint's complaints.
fn schema_check(xml: &str) -> Result<(), String> {
    checkers::validate_xml(without_ep3(xml).as_bytes(), SCHEMA)
}

fn validate(xml: &str, what: &str) {
    if let Err(e) = schema_check(xml) {
        panic!(
            "{what}: not schema-valid:\n{}\n{}",
            e.lines().filter(|l| !l.contains("parser warning")).take(8).collect::<Vec<_>>().join("\n"),
            &xml[..xml.len().min(1500)]
        );
    }
}

fn error_code(xml: &str) -> Option<String> {
    let i = xml.find("<error code=\"")? + 13;
    Some(xml[i..i + xml[i..].find('"')?].to_string())
}

/// Text of every `<tag ...>...</tag>` in order (the responses are ours and
/// simple; the schema check has already vouched for their shape).
fn elements<'x>(xml: &'x str, tag: &str) -> Vec<&'x str> {
    let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        if !after.starts_with(['>', ' ']) {
            rest = after;
            continue;
        }
        let start = after.find('>').unwrap() + 1;
        let end = after.find(&close).unwrap();
        found.push(&after[start..end]);
        rest = &after[end..];
    }
    found
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn token_of(xml: &str) -> Option<String> {
    elements(xml, "resumptionToken").first().map(|t| unescape(t)).filter(|t| !t.is_empty())
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// (identifier, deleted) of every header of a whole list, each page
/// validated when `check` is set. `pause` runs after the first page.
async fn harvest(server: &Server, verb: &str, query: &str, check: bool) -> Vec<(String, bool)> {
    let mut seen = Vec::new();
    let mut xml = server.get(&format!("verb={verb}&{query}")).await;
    loop {
        if check {
            validate(&xml, &format!("{verb} {query}"));
        }
        if error_code(&xml).as_deref() == Some("noRecordsMatch") {
            return seen;
        }
        assert_eq!(error_code(&xml), None, "{verb} {query}: {xml}");
        for h in xml.split("<header").skip(1) {
            let id = unescape(elements(&format!("<header{h}"), "identifier")[0]);
            seen.push((id, h.starts_with(" status=\"deleted\"")));
        }
        match token_of(&xml) {
            Some(t) => xml = server.get(&format!("verb={verb}&resumptionToken={}", encode(&t))).await,
            None => return seen,
        }
    }
}

fn assert_once(seen: &[(String, bool)], what: &str) -> usize {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (id, _) in seen {
        *counts.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).map(|(id, _)| *id).take(5).collect();
    assert!(twice.is_empty(), "{what}: harvested more than once: {twice:?}");
    seen.len()
}

async fn build_repository(dir: &std::path::Path, corpus: &std::path::Path) -> Repository {
    let mut config = Config::default();
    config.repository.base_url = BASE_URL.into();
    let repo = Repository::init(dir, config).await.unwrap();
    let records = arkiv_testkit::all_records(corpus);
    let corpus_count = records.len();
    for chunk in records.chunks(200) {
        let batch = chunk.iter().cloned().map(|r| RecordWrite::new(r, "test")).collect();
        repo.store.put_records(batch).await.unwrap();
    }
    // Some with stored PDFs (the driver set), the rest without, to 2,100.
    arkiv_services::populate::add_generated(&repo, 40, 1, true, &mut |_| {}).await.unwrap();
    let rest = 2_100u64.saturating_sub(corpus_count as u64 + 40);
    arkiv_services::populate::add_generated(&repo, rest, 2, false, &mut |_| {}).await.unwrap();
    repo
}

async fn withdraw(repo: &Repository, id: i64) {
    let mut r: Record = repo.store.get_record(id).await.unwrap().unwrap();
    r.status = Status::Deletion;
    r.lastmod = None;
    repo.store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap();
}

/// The schema check the harvest tests rely on, on real providers' answers
/// (`../shared/corpus/oai_responses`: responses of Zenodo as recorded by
/// oaipmh-scythe's tests, and the sickle client's fixtures). It accepts
/// every valid one and refuses each broken one for the reason it is broken,
/// so a check that passes everything (a schema that no longer loads, a
/// catalog that no longer finds the metadata schemas) fails here rather
/// than vouching for Arkiv's responses.
#[test]
fn the_schema_check_accepts_real_providers_answers_and_refuses_broken_ones() {
    let Some(corpus) = arkiv_testkit::corpus_dir() else { return arkiv_testkit::skip("../shared/corpus") };
    if !checkers::xmllint_ready() {
        return arkiv_testkit::skip("xmllint and ../shared/xsd");
    }
    let dir = corpus.join("oai_responses");
    // The broken ones, with what xmllint must say about them.
    let broken = [
        // Text loose in <oai_dc:dc> (sickle's fixtures for its own parser).
        ("sickle_fixtures/ListRecords.xml", "Character content other than whitespace"),
        ("sickle_fixtures/ListRecords2.xml", "Character content other than whitespace"),
        ("sickle_fixtures/ListRecords3.xml", "Character content other than whitespace"),
        ("sickle_fixtures/ListRecords4.xml", "Expected is ( {http://www.openarchives.org/OAI/2.0/}identifier )"),
        ("sickle_fixtures/ListRecordsBroken.xml", "parser error"),
        // The OAI-PMH specification's own badArgument example: until="…T03:020:00Z".
        ("sickle_fixtures/badArgument.xml", "'2002-06-01T03:020:00Z' is not a valid value"),
        ("sickle_fixtures/undefinedError.xml", "'undefinedError' is not an element of the set"),
        // A real answer that is wrong: a repositoryIdentifier without a dot.
        ("zenodo_inveniordm/identify_1.xml", "The value 'agora' is not accepted by the pattern"),
    ];
    let mut checked = 0;
    for provider in ["zenodo_inveniordm", "sickle_fixtures"] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(provider)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for path in files {
            let name = format!("{provider}/{}", path.file_name().unwrap().to_string_lossy());
            let xml = std::fs::read_to_string(&path).unwrap();
            match (schema_check(&xml), broken.iter().find(|(b, _)| *b == name)) {
                (Ok(()), None) => {}
                (Err(e), None) => panic!("{name}: a valid answer is refused:\n{e}"),
                (Ok(()), Some(_)) => panic!("{name}: a broken answer passes"),
                (Err(e), Some((_, why))) => assert!(e.contains(why), "{name}: refused, but not for {why:?}:\n{e}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 50, "{checked} recorded responses");

    // Real answers broken the way a provider could break them: the check
    // reaches into the envelope, the header and DataCite metadata.
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let dc = read("zenodo_inveniordm/list_records_0.xml");
    let datacite = read("zenodo_inveniordm/list_records_4.xml");
    let titles = (datacite.find("<titles>").unwrap(), datacite.find("</titles>").unwrap() + 9);
    for (what, xml, why) in [
        (
            "no responseDate",
            dc.replacen("<responseDate>", "<responsedate>", 1).replacen("</responseDate>", "</responsedate>", 1),
            "responsedate",
        ),
        ("a datestamp that is no date", dc.replacen("<datestamp>2026-", "<datestamp>2026/", 1), "datestamp"),
        ("a DataCite record without titles", format!("{}{}", &datacite[..titles.0], &datacite[titles.1..]), "titles"),
    ] {
        let e = schema_check(&xml).err().unwrap_or_else(|| panic!("{what}: passes"));
        assert!(e.contains(why), "{what}: refused, but not for {why:?}:\n{e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oai_pmh_harvests() {
    let Some(corpus) = arkiv_testkit::corpus_dir() else { return arkiv_testkit::skip("../shared/corpus") };
    if !checkers::xmllint_ready() {
        return arkiv_testkit::skip("xmllint and ../shared/xsd");
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = Arc::new(build_repository(dir.path(), &corpus).await);
    let server = serve(repo.clone()).await;
    let visible = repo.store.oai_count(&Default::default()).await.unwrap() as usize;
    assert!(visible >= 2_000, "{visible} records");

    // Identify, ListMetadataFormats, ListSets, GetRecord: valid, and saying
    // what a harvester needs.
    let identify = server.get("verb=Identify").await;
    validate(&identify, "Identify");
    assert!(identify.contains("<deletedRecord>persistent</deletedRecord>"));
    assert!(identify.contains("<sampleIdentifier>oai:oai.example.org:1</sampleIdentifier>"));
    let formats = server.get("verb=ListMetadataFormats").await;
    validate(&formats, "ListMetadataFormats");
    let prefixes: Vec<&str> = oai_formats().map(|(_, o)| o.prefix).collect();
    for p in &prefixes {
        assert!(formats.contains(&format!("<metadataPrefix>{p}</metadataPrefix>")), "{p}");
    }
    validate(&server.get("verb=ListMetadataFormats&identifier=oai:oai.example.org:1").await, "formats of 1");
    let sets = server.get("verb=ListSets").await;
    validate(&sets, "ListSets");
    let specs: Vec<String> = elements(&sets, "setSpec").into_iter().map(unescape).collect();
    for wanted in ["driver", "type:article"] {
        assert!(specs.iter().any(|s| s == wanted), "{wanted} in {specs:?}");
    }
    assert!(specs.iter().any(|s| s.starts_with("subject:") && s.matches(':').count() >= 2), "a nested subject set");
    for p in &prefixes {
        let xml = server.get(&format!("verb=GetRecord&metadataPrefix={p}&identifier=oai:oai.example.org:1")).await;
        validate(&xml, &format!("GetRecord {p}"));
        assert!(xml.contains("<metadata>"), "{p}");
    }

    // Every error code, each response valid.
    let errors = [
        ("", "badVerb"),
        ("verb=Nonsense", "badVerb"),
        ("verb=Identify&verb=Identify", "badVerb"),
        ("verb=Identify&extra=1", "badArgument"),
        ("verb=ListRecords", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&resumptionToken=x", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2020-01-01&until=2020-01-01T00:00:00Z", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=2021-01-01&until=2020-01-01", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=yesterday", "badArgument"),
        ("verb=ListRecords&metadataPrefix=oai_dc&set=not%20a%20spec", "badArgument"),
        ("verb=ListRecords&resumptionToken=bogus", "badResumptionToken"),
        ("verb=ListSets&resumptionToken=bogus", "badResumptionToken"),
        ("verb=ListRecords&metadataPrefix=nope", "cannotDisseminateFormat"),
        ("verb=GetRecord&metadataPrefix=nope&identifier=oai:oai.example.org:1", "cannotDisseminateFormat"),
        ("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:elsewhere.org:1", "idDoesNotExist"),
        ("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:oai.example.org:99999999", "idDoesNotExist"),
        ("verb=ListMetadataFormats&identifier=junk", "idDoesNotExist"),
        ("verb=ListRecords&metadataPrefix=oai_dc&from=1990-01-01&until=1990-01-02", "noRecordsMatch"),
        ("verb=ListIdentifiers&metadataPrefix=oai_dc&set=type:no-such-type", "noRecordsMatch"),
    ];
    for (query, code) in errors {
        let xml = server.get(query).await;
        validate(&xml, query);
        assert_eq!(error_code(&xml).as_deref(), Some(code), "?{query}");
    }
    // POST and EPrints' address answer the same.
    let posted = server
        .client
        .post(&server.endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("verb=Identify")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    validate(&posted, "POST Identify");
    let not_a_form =
        server.client.post(&server.endpoint).header("content-type", "text/plain").body("verb=Identify").send().await;
    assert_eq!(not_a_form.unwrap().status(), 415, "a POST must send its arguments as a form");
    let cgi = server.client.get(server.endpoint.replace("/oai2", "/cgi/oai2?verb=Identify")).send().await.unwrap();
    assert_eq!(cgi.status(), 200);

    // Whole harvests: every record once, every format; a set; dates.
    let all_dc = harvest(&server, "ListIdentifiers", "metadataPrefix=oai_dc", false).await;
    for p in &prefixes {
        let all = harvest(&server, "ListRecords", &format!("metadataPrefix={p}"), true).await;
        assert_eq!(assert_once(&all, p), visible, "ListRecords {p}");
        let ids = harvest(&server, "ListIdentifiers", &format!("metadataPrefix={p}"), true).await;
        assert_eq!(ids, all, "ListIdentifiers {p}");
    }
    let articles = harvest(&server, "ListIdentifiers", "metadataPrefix=oai_dc&set=type:article", true).await;
    let expected = repo
        .store
        .oai_count(&arkiv_storage::OaiQuery { set: Some("type:article".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(assert_once(&articles, "type:article"), expected as usize);
    assert!(expected > 0);
    let driver = harvest(&server, "ListRecords", "metadataPrefix=oai_dc&set=driver", true).await;
    assert!(!driver.is_empty(), "generated records with open PDFs are in driver");
    let old = harvest(&server, "ListIdentifiers", "metadataPrefix=oai_dc&until=2020-01-01", true).await;
    let new = harvest(&server, "ListIdentifiers", "metadataPrefix=oai_dc&from=2020-01-02", true).await;
    assert!(!old.is_empty() && !new.is_empty(), "the corpora's old lastmods and today's");
    assert_eq!(old.len() + new.len(), visible, "from/until split the repository exactly");

    // Withdrawals between pages: a record already sent and one still ahead.
    let first = server.get("verb=ListIdentifiers&metadataPrefix=oai_dc").await;
    let token = token_of(&first).unwrap();
    let page_one: Vec<String> = elements(&first, "identifier").into_iter().map(unescape).collect();
    let id_of = |s: &str| s.rsplit(':').next().unwrap().parse::<i64>().unwrap();
    let behind = id_of(&page_one[10]);
    let ahead = id_of(&all_dc.iter().skip(page_one.len() + 25).find(|(_, deleted)| !deleted).unwrap().0);
    let before = arkiv_model::Timestamp::now();
    withdraw(&repo, behind).await;
    withdraw(&repo, ahead).await;
    let mut seen: Vec<(String, bool)> = page_one.iter().map(|i| (i.clone(), false)).collect();
    // The rest of the harvest, on a restarted server over the same
    // repository: the token is all it needs.
    let reopened = Arc::new(Repository::open(dir.path()).await.unwrap());
    let restarted = serve(reopened).await;
    let mut xml = restarted.get(&format!("verb=ListIdentifiers&resumptionToken={}", encode(&token))).await;
    validate(&xml, "resumed after a restart");
    assert!(xml.contains(&format!("cursor=\"{}\"", page_one.len())));
    loop {
        for h in xml.split("<header").skip(1) {
            seen.push((
                unescape(elements(&format!("<header{h}"), "identifier")[0]),
                h.starts_with(" status=\"deleted\""),
            ));
        }
        match token_of(&xml) {
            Some(t) => xml = restarted.get(&format!("verb=ListIdentifiers&resumptionToken={}", encode(&t))).await,
            None => break,
        }
    }
    assert_eq!(assert_once(&seen, "harvest with withdrawals"), visible);
    let ahead_id = format!("oai:oai.example.org:{ahead}");
    assert!(
        seen.iter().any(|(i, d)| *i == ahead_id && *d),
        "a record withdrawn before the walk reached it is sent deleted"
    );
    // An incremental harvest since then reports both deleted, forever.
    let since = harvest(
        &server,
        "ListIdentifiers",
        &format!("metadataPrefix=oai_dc&from={}", encode(&before.to_iso8601())),
        true,
    )
    .await;
    let deleted: Vec<i64> = since.iter().filter(|(_, d)| *d).map(|(i, _)| id_of(i)).collect();
    assert!(deleted.contains(&behind) && deleted.contains(&ahead), "{deleted:?}");
    let gone =
        server.get(&format!("verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:oai.example.org:{behind}")).await;
    validate(&gone, "GetRecord of a withdrawn record");
    assert!(gone.contains("<header status=\"deleted\">") && !gone.contains("<metadata>"));
    // A token altered by one character is refused.
    let forged = token.replacen("!0!", "!1!", 1).replacen("ListIdentifiers!oai_dc", "ListIdentifiers!ep3", 1);
    assert_ne!(forged, token);
    let xml = server.get(&format!("verb=ListIdentifiers&resumptionToken={}", encode(&forged))).await;
    assert_eq!(error_code(&xml).as_deref(), Some("badResumptionToken"));

    // Three clients from PyPI, every format, with and without a set and dates.
    let Some(python) = checkers::python() else { return arkiv_testkit::skip("the Python harvesters") };
    let mut selections = Vec::new();
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for p in &prefixes {
        for (label, args, query) in [
            ("all", serde_json::json!({}), format!("metadataPrefix={p}")),
            ("article", serde_json::json!({"set": "type:article"}), format!("metadataPrefix={p}&set=type:article")),
            (
                "dated",
                serde_json::json!({"from": "2000-01-01T00:00:00Z", "until": "2020-01-01T00:00:00Z"}),
                format!("metadataPrefix={p}&from=2000-01-01T00:00:00Z&until=2020-01-01T00:00:00Z"),
            ),
        ] {
            let n = harvest(&server, "ListIdentifiers", &query, false).await.len();
            assert!(n > 0, "{query}");
            expected.insert(format!("{p}/{label}"), n);
            selections.push(serde_json::json!([label, p, args]));
        }
    }
    let script = include_str!("oai_harvest.py");
    let out =
        checkers::run_python(&python, script, &[&server.endpoint, &serde_json::to_string(&selections).unwrap()], b"");
    assert!(out.status.success(), "harvesters failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let counts: BTreeMap<String, [usize; 3]> = serde_json::from_slice(&out.stdout).unwrap();
    for client in ["sickle", "scythe", "pyoai"] {
        for verb in ["ListIdentifiers", "ListRecords"] {
            for (key, n) in &expected {
                let got = counts
                    .get(&format!("{client}/{verb}/{key}"))
                    .unwrap_or_else(|| panic!("{client} {verb} {key} missing"));
                assert_eq!(got[0], *n, "{client} {verb} {key}: distinct identifiers");
                assert_eq!(got[1], *n, "{client} {verb} {key}: each exactly once");
            }
        }
    }
    assert!(counts.values().any(|c| c[2] > 0), "deleted records reach the harvesters");
}

/// Waits until the page `token` names has been made ahead (the server
/// starts it as it sends the page before); fails after a deadline.
async fn made_ahead(repo: &Repository, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !repo.oai_ahead.is_ready(token) {
        assert!(Instant::now() < deadline, "the page after was not made ahead within a minute");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The page after a list page is made while the harvester reads this one
/// (`arkiv_services::oai::ahead`): a page made before a record changed is
/// not served, and a page made ahead of an unchanged repository is served
/// and is the page a fresh request gets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_made_ahead_show_what_changed_in_between() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.repository.base_url = BASE_URL.into();
    let repo = Arc::new(Repository::init(dir.path(), config).await.unwrap());
    arkiv_services::populate::add_generated(&repo, 1_600, 3, false, &mut |_| {}).await.unwrap();
    let server = serve(repo.clone()).await;
    let page_after = |xml: &str| format!("verb=ListRecords&resumptionToken={}", encode(&token_of(xml).unwrap()));
    let id_of = |s: &str| unescape(s).rsplit(':').next().unwrap().parse::<i64>().unwrap();
    // `<responseDate>` is when a page was made: the one part of a page made
    // ahead that may differ from a fresh one.
    let undated = |xml: &str| {
        let (start, end) = (xml.find("<responseDate>").unwrap() + 14, xml.find("</responseDate>").unwrap());
        assert!(arkiv_services::oai::parse_datestamp(&xml[start..end], false).is_ok(), "{}", &xml[start..end]);
        format!("{}<responseDate>…{}", &xml[..start - 14], &xml[end..])
    };

    let first = server.get("verb=ListRecords&metadataPrefix=oai_dc").await;
    let last_sent = id_of(elements(&first, "identifier").last().unwrap());
    // The second page is made; then a record it holds changes.
    made_ahead(&repo, &token_of(&first).unwrap()).await;
    let mut id = last_sent + 3;
    let mut record = loop {
        match repo.store.get_record(id).await.unwrap() {
            Some(r) if r.status == Status::Archive => break r,
            _ => id += 1,
        }
    };
    record.title = "Retitled while the harvest was under way".into();
    record.lastmod = None;
    repo.store.put_records(vec![RecordWrite::new(record, "test")]).await.unwrap();
    let taken = repo.oai_ahead.taken();
    let second = server.get(&page_after(&first)).await;
    assert_eq!(repo.oai_ahead.taken(), taken, "the page made before the change is not served");
    assert!(elements(&second, "identifier").iter().any(|i| id_of(i) == id), "record {id} is on the second page");
    assert!(second.contains("<dc:title>Retitled while the harvest was under way</dc:title>"), "the change shows");

    // Nothing changes now: the third page is served as it was made ahead,
    // and it is the page a fresh request for the same token gets (a page
    // made ahead is taken once: the second request makes it afresh).
    made_ahead(&repo, &token_of(&second).unwrap()).await;
    let third = server.get(&page_after(&second)).await;
    assert_eq!(repo.oai_ahead.taken(), taken + 1, "the third page is the one made ahead");
    let fresh = server.get(&page_after(&second)).await;
    assert_eq!(repo.oai_ahead.taken(), taken + 1, "the same request again gets a page made for it");
    assert!(third.contains("<record>") && token_of(&third).is_some());
    assert_eq!(undated(&third), undated(&fresh));
}
