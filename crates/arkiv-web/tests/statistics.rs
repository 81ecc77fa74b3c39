//! Usage statistics over real HTTP against a running server: browsers,
//! robots, double clicks, range requests, conditional requests, a
//! restricted document and a logged-in reader, each counted (or not) as
//! the COUNTER Code of Practice, Release 5.1, says, with the rule's
//! section named where it is checked. Visitors are told apart by the
//! address a trusted proxy reports (`X-Forwarded-For`), as behind a
//! reverse proxy; the repository runs on a clock the test sets, so double
//! clicks and sessions are exact seconds apart without the test waiting.

mod common;

use arkiv_model::usage::ItemCounts;
use arkiv_model::{DocumentSecurity, Record, Status, Timestamp};
use arkiv_services::clock::SetClock;
use arkiv_services::config::ServerSettings;
use arkiv_services::Config;
use arkiv_storage::RecordWrite;
use bytes::Bytes;
use common::{pdf_document, start_on_clock, Site};
use reqwest::StatusCode;
use std::sync::Arc;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const PDF: &[u8] = b"%PDF-1.4 an open paper, long enough for three ranges of ten bytes";

struct Visits {
    site: Site,
    clock: Arc<SetClock>,
    start: i64,
    id: i64,
}

impl Visits {
    /// Moves the repository's clock to `seconds` after the start.
    fn at(&self, seconds: i64) {
        self.clock.set(Timestamp(self.start + seconds));
    }

    async fn get(&self, path: &str, from: &str, agent: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.site.client.get(self.site.url(path)).header("x-forwarded-for", from);
        if !agent.is_empty() {
            req = req.header("user-agent", agent);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    async fn counted(&self) -> (ItemCounts, ItemCounts) {
        let day = self.start / 86_400;
        let days = self.site.repo.store.item_usage_by_day(self.id, day, day).await.unwrap();
        let row = |open: bool| days.iter().find(|d| d.open == open).map(|d| d.counts).unwrap_or_default();
        (row(true), row(false))
    }
}

async fn visits() -> Visits {
    let start = Timestamp::parse("2026-12-07 10:00:00").unwrap().0;
    let clock = Arc::new(SetClock::new(Timestamp(start)));
    let config = Config {
        server: ServerSettings { trusted_proxies: vec!["127.0.0.1".parse().unwrap()], ..Default::default() },
        ..Config::default()
    };
    let site = start_on_clock(config, clock.clone()).await;
    let open = site.repo.files.put(Bytes::from_static(PDF)).await.unwrap();
    let staff = site.repo.files.put(Bytes::from_static(b"%PDF-1.4 staff only")).await.unwrap();
    let mut r = Record::new("policy_paper", "A paper people read");
    r.status = Status::Archive;
    let mut restricted = pdf_document(2, "minutes.pdf", &staff, 19);
    restricted.security = DocumentSecurity::Staffonly;
    r.documents = vec![pdf_document(1, "paper.pdf", &open, PDF.len()), restricted];
    let id = site.repo.store.put_records(vec![RecordWrite::new(r, "test")]).await.unwrap()[0];
    Visits { site, clock, start, id }
}

#[tokio::test]
async fn views_and_downloads_are_counted_by_the_code_of_practice() {
    let v = visits().await;
    let page = format!("/{}/", v.id);
    let pdf = format!("/{}/1/paper.pdf", v.id);

    // §7.8 Internet robots and crawlers: agents on the COUNTER list (an
    // empty agent is on it) are never counted.
    v.at(0);
    for agent in [GOOGLEBOT, "curl/8.5.0", ""] {
        assert_eq!(v.get(&page, "198.51.100.9", agent, &[]).await.status(), StatusCode::OK);
        assert_eq!(v.get(&pdf, "198.51.100.9", agent, &[]).await.status(), StatusCode::OK);
    }

    // §7.2 Double-click filtering: A's clicks at 0 and 10 s are one
    // action (the second, a page-cache hit, kept); the one at 50 s, 40 s
    // after the last, is another. §7.3: one session, one unique item.
    for t in [0, 10, 50] {
        v.at(t);
        assert_eq!(v.get(&page, "192.0.2.1", FIREFOX, &[]).await.status(), StatusCode::OK);
    }

    // §3.3 A download is a Request and an Investigation; a HEAD delivers
    // nothing and is not counted.
    v.at(60);
    assert_eq!(v.get(&pdf, "192.0.2.2", FIREFOX, &[]).await.status(), StatusCode::OK);
    let head =
        v.site.client.head(v.site.url(&pdf)).header("x-forwarded-for", "192.0.2.2").header("user-agent", FIREFOX);
    assert_eq!(head.send().await.unwrap().status(), StatusCode::OK);

    // A PDF viewer's range requests (206) count once per file and
    // session, however many ranges and however far apart.
    for (t, range) in [(100, "bytes=0-9"), (140, "bytes=10-19"), (200, "bytes=20-29")] {
        v.at(t);
        let res = v.get(&pdf, "192.0.2.3", FIREFOX, &[("range", range)]).await;
        assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    }

    // §3.1.1 HTTP status codes: a 304 counts, errors and refusals do not.
    v.at(300);
    let etag = format!(
        "\"{}\"",
        v.site.repo.store.get_record(v.id).await.unwrap().unwrap().documents[0].files[0].sha256.clone().unwrap()
    );
    let res = v.get(&pdf, "192.0.2.4", FIREFOX, &[("if-none-match", &etag)]).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    let missing = format!("/{}/1/other.pdf", v.id);
    assert_eq!(v.get(&missing, "192.0.2.5", FIREFOX, &[]).await.status(), StatusCode::NOT_FOUND);
    let staff_only = format!("/{}/2/minutes.pdf", v.id);
    assert_eq!(v.get(&staff_only, "192.0.2.5", FIREFOX, &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(v.get("/999999/", "192.0.2.5", FIREFOX, &[]).await.status(), StatusCode::NOT_FOUND);

    // Access_Type: the editor may read the staff-only document; that
    // Request is Controlled. Their view of the page (the item has an open
    // document) is Open. A logged-in reader is known by their account.
    let editor = v.site.session("editor@example.org").await;
    v.at(400);
    let res = v.get(&staff_only, "203.0.113.7", FIREFOX, &[("cookie", &editor)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    v.at(410);
    assert_eq!(v.get(&page, "203.0.113.8", FIREFOX, &[("cookie", &editor)]).await.status(), StatusCode::OK);

    // §7.3 A user-session is an hour: A again in the next hour is unique
    // again.
    v.at(3700);
    assert_eq!(v.get(&page, "192.0.2.1", FIREFOX, &[]).await.status(), StatusCode::OK);

    // Nothing is counted before the roll-up; the page, cached meanwhile,
    // says 0.
    v.site.repo.usage.flush().await;
    let html = v.get(&page, "198.51.100.9", GOOGLEBOT, &[]).await.text().await.unwrap();
    assert!(html.contains("Downloads: <strong>0</strong>"), "{html}");
    assert_eq!(v.counted().await, (ItemCounts::default(), ItemCounts::default()));

    // The roll-up counts whole hours that ended two minutes ago or more.
    v.at(2 * 3600 + 180);
    let done = arkiv_services::usage::roll_up(&v.site.repo).await.unwrap();
    assert_eq!(done.hours, 2, "{done:?}");
    let (open, controlled) = v.counted().await;
    assert_eq!(
        open,
        ItemCounts { investigations: 7, unique_investigations: 6, requests: 3, unique_requests: 3 },
        "Open: A 2 views (1 unique) + 1 in the next hour, B's download, C's ranges, D's 304, the editor's view"
    );
    assert_eq!(
        controlled,
        ItemCounts { investigations: 1, unique_investigations: 1, requests: 1, unique_requests: 1 },
        "Controlled: the editor's download of the staff-only document"
    );
    let counts = v.site.repo.usage.counts();
    // A: 4 views (the click at 0 s merged into the one at 10 s before it
    // was written), B: 1, C: 3 ranges, D: 1, the editor: 2. Robots: 3
    // agents × 2 and the look at the page above.
    assert_eq!((counts.written, counts.merged, counts.robots, counts.dropped), (10, 1, 7, 0), "{counts:?}");

    // A roll-up drops the cached pages: the page now shows the figures
    // (once the cache has looked again, within a second).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let html = v.get(&page, "198.51.100.9", GOOGLEBOT, &[]).await.text().await.unwrap();
    assert!(html.contains("Downloads: <strong>4</strong> (4 in the last 12 months)"), "{html}");
    assert!(html.contains("Page views: <strong>4</strong>"), "{html}");
    assert!(html.contains("<tr><th scope=\"row\">December 2026</th><td>4</td><td>4</td></tr>"), "{html}");
    assert!(html.contains("<title>December 2026: 4 downloads</title>"), "the chart: {html}");

    // /stats: the year's totals, the item among the most downloaded of
    // the month and the year, the figures by item type, each as CSV.
    let stats = v.get("/stats?year=2026", "198.51.100.9", GOOGLEBOT, &[]).await;
    let status = stats.status();
    let html = stats.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("In 2026: <strong>4</strong> downloads, <strong>4</strong> page views."), "{html}");
    assert!(html.contains("<tr><th scope=\"row\">December 2026</th><td>4</td><td>4</td><td>4</td></tr>"), "{html}");
    assert_eq!(html.matches("A paper people read").count(), 2, "top of the month and of the year: {html}");
    assert!(html.contains(">Policy Paper</a></th><td>4</td><td>4</td>"), "by item type: {html}");
    let csv = v.get("/stats/items.csv?year=2026", "198.51.100.9", GOOGLEBOT, &[]).await.text().await.unwrap();
    assert!(csv.starts_with("\"id\",\"url\",\"title\",\"downloads\""), "{csv}");
    assert!(
        csv.contains(&format!("\"{}\",", v.id))
            && csv.contains("\"A paper people read\",\"4\",\"4\",\"8\",\"7\",\"4\""),
        "{csv}"
    );
    let csv = v.get("/stats/type.csv?year=2026", "198.51.100.9", GOOGLEBOT, &[]).await.text().await.unwrap();
    assert!(csv.contains("\"policy_paper\",\"Policy Paper\",\"4\""), "{csv}");
    // A browse page shows its group's own figures.
    let html = v.get("/view/type/policy_paper.html", "198.51.100.9", GOOGLEBOT, &[]).await.text().await.unwrap();
    assert!(html.contains("Downloads of these items: <strong>4</strong> (4 in the last 12 months)"), "{html}");
    // Bad input is told, not a server error; IRStats2's addresses lead here.
    for (path, status) in [
        ("/stats?year=banana", StatusCode::BAD_REQUEST),
        ("/stats?year=99999999999999999999", StatusCode::BAD_REQUEST),
        ("/stats?year=3000", StatusCode::BAD_REQUEST),
        ("/stats/passwords.csv", StatusCode::NOT_FOUND),
        ("/stats/months", StatusCode::NOT_FOUND),
        ("/cgi/stats/report", StatusCode::MOVED_PERMANENTLY),
    ] {
        assert_eq!(v.get(path, "198.51.100.9", GOOGLEBOT, &[]).await.status(), status, "{path}");
    }

    // Rolling up again counts nothing twice.
    assert_eq!(arkiv_services::usage::roll_up(&v.site.repo).await.unwrap().events, 0);
    assert_eq!(v.counted().await.0.investigations, 7);
}

/// Python that validates each (schema name, JSON) pair of stdin's JSON
/// array against the official COUNTER_SUSHI API specification's schemas
/// (OpenAPI 3.1, JSON Schema 2020-12), and prints the failures.
const VALIDATE: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
spec = json.load(open(sys.argv[1]))
registry = Registry().with_resource("urn:sushi", Resource.from_contents(spec, default_specification=__import__("referencing.jsonschema").jsonschema.DRAFT202012))
failures = []
for name, schema, doc in json.load(sys.stdin):
    v = Draft202012Validator(schema if schema is not None else {"$ref": "urn:sushi#/components/schemas/" + name}, registry=registry)
    for e in v.iter_errors(doc):
        failures.append(f"{name}: {e.message[:300]} at {list(e.absolute_path)}")
print(json.dumps(failures))
"#;

#[tokio::test]
async fn sushi_reports_follow_the_specification() {
    let v = visits().await;
    let page = format!("/{}/", v.id);
    let pdf = format!("/{}/1/paper.pdf", v.id);
    v.at(0);
    v.get(&page, "192.0.2.1", FIREFOX, &[]).await;
    v.at(100);
    v.get(&pdf, "192.0.2.1", FIREFOX, &[]).await;
    v.get(&pdf, "192.0.2.2", FIREFOX, &[]).await;
    v.site.repo.usage.flush().await;
    v.at(2 * 3600 + 180);
    arkiv_services::usage::roll_up(&v.site.repo).await.unwrap();

    // An admin adds a client on /admin.
    let admin = v.site.session("admin@example.org").await;
    let html = v.site.get("/admin", &admin).await.text().await.unwrap();
    let res =
        v.site.post("/admin/sushi", &admin, &[("csrf", &common::csrf_field(&html)), ("name", "Test Harvester")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let client = v.site.repo.store.sushi_clients().await.unwrap().pop().expect("a client");
    assert_eq!((client.name.as_str(), client.customer_id.as_str()), ("Test Harvester", "0000000000000000"));
    let html = v.site.get("/admin", &admin).await.text().await.unwrap();
    assert!(html.contains(&client.api_key), "the admin page shows the key to give");

    let auth =
        format!("customer_id={}&requestor_id={}&api_key={}", client.customer_id, client.requestor_id, client.api_key);
    let fetch = |path: String| {
        let site = &v.site;
        async move {
            let res = site.client.get(site.url(&path)).send().await.unwrap();
            let status = res.status().as_u16();
            let body: serde_json::Value =
                serde_json::from_str(&res.text().await.unwrap()).unwrap_or_else(|e| panic!("{path}: {e}"));
            (status, body)
        }
    };
    let mut checked: Vec<(String, Option<serde_json::Value>, serde_json::Value)> = Vec::new();

    // The status is public.
    let (status, body) = fetch("/sushi/r51/status".into()).await;
    assert_eq!((status, body[0]["Service_Active"].as_bool()), (200, Some(true)), "{body}");
    checked.push((
        "status".into(),
        Some(serde_json::json!({"type": "array", "items": {"$ref": "urn:sushi#/components/schemas/Status"}})),
        body,
    ));

    // Credentials: each missing or wrong one is the specification's exception.
    let wrong_key = format!("customer_id={}&requestor_id={}&api_key=nope", client.customer_id, client.requestor_id);
    let other_customer =
        format!("customer_id=someone-else&requestor_id={}&api_key={}", client.requestor_id, client.api_key);
    for (query, want_status, want_code) in [
        (String::new(), 401, 1030),
        ("customer_id=0000000000000000&requestor_id=nobody&api_key=x".to_string(), 401, 2000),
        (wrong_key, 401, 2020),
        (other_customer, 403, 2010),
    ] {
        let (status, body) = fetch(format!("/sushi/r51/reports?{query}")).await;
        let want_status = if want_code == 1030 { 400 } else { want_status };
        assert_eq!((status, body["Code"].as_i64()), (want_status, Some(want_code)), "{query}: {body}");
        checked.push((format!("Exception_{want_code}"), None, body));
    }

    // The reports this server has, and the members (the client itself).
    let (status, body) = fetch(format!("/sushi/r51/reports?{auth}")).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = body.as_array().unwrap().iter().map(|r| r["Report_ID"].as_str().unwrap()).collect();
    assert_eq!(ids, ["PR", "PR_P1", "IR", "IR_A1"]);
    assert_eq!(body[0]["First_Month_Available"], "2026-12");
    checked.push((
        "reports".into(),
        Some(serde_json::json!({"type": "array", "items": {"$ref": "urn:sushi#/components/schemas/Report"}})),
        body,
    ));
    let (_, body) = fetch(format!("/sushi/r51/members?{auth}")).await;
    assert_eq!(body[0]["Institution_Name"], "Test Harvester");
    checked.push((
        "members".into(),
        Some(serde_json::json!({"type": "array", "items": {"$ref": "urn:sushi#/components/schemas/Member"}})),
        body,
    ));

    // PR: the policy paper is a Report; one view and two downloads by two
    // users: 3 investigations, 2 unique; 2 requests, 2 unique.
    let dates = "begin_date=2026-12&end_date=2026-12";
    let (status, pr) = fetch(format!("/sushi/r51/reports/pr?{auth}&{dates}&attributes_to_show=Access_Method")).await;
    assert_eq!(status, 200, "{pr}");
    let perf = &pr["Report_Items"][0]["Attribute_Performance"][0];
    assert_eq!(perf["Data_Type"], "Report", "{pr}");
    assert_eq!(perf["Access_Method"], "Regular");
    assert_eq!(perf["Performance"]["Total_Item_Investigations"]["2026-12"], 3, "{pr}");
    assert_eq!(perf["Performance"]["Unique_Item_Investigations"]["2026-12"], 2, "{pr}");
    assert_eq!(perf["Performance"]["Total_Item_Requests"]["2026-12"], 2, "{pr}");
    checked.push(("PR".into(), None, pr));
    let (_, p1) = fetch(format!("/sushi/r51/reports/pr_p1?{auth}&{dates}")).await;
    assert_eq!(
        p1["Report_Items"][0]["Attribute_Performance"][0]["Performance"]["Unique_Item_Requests"]["2026-12"], 2,
        "{p1}"
    );
    checked.push(("PR_P1".into(), None, p1));

    // IR: the item, its identifiers, its Access_Type and year.
    let (status, ir) = fetch(format!(
        "/sushi/r51/reports/ir?{auth}&{dates}&attributes_to_show=Access_Type%7CYOP%7CAuthors%7CPublication_Date"
    ))
    .await;
    assert_eq!(status, 200, "{ir}");
    let item = &ir["Report_Items"][0]["Items"][0];
    assert_eq!(item["Item"], "A paper people read", "{ir}");
    assert!(item["Item_ID"]["URI"].as_str().unwrap().ends_with(&format!("/{}/", v.id)), "{ir}");
    assert_eq!(item["Attribute_Performance"][0]["Access_Type"], "Open", "{ir}");
    assert_eq!(item["Attribute_Performance"][0]["Performance"]["Total_Item_Requests"]["2026-12"], 2, "{ir}");
    checked.push(("IR".into(), None, ir));

    // IR_A1 (journal articles): none here, which the header says (3030).
    let (status, a1) = fetch(format!("/sushi/r51/reports/ir_a1?{auth}&{dates}")).await;
    assert_eq!(status, 200);
    assert_eq!(a1["Report_Items"], serde_json::json!([]));
    assert_eq!(a1["Report_Header"]["Exceptions"][0]["Code"], 3030, "{a1}");
    checked.push(("IR_A1".into(), None, a1));

    // Bad input: the specification's exceptions, never a server error.
    for (query, want_status, want_code) in [
        (format!("/sushi/r51/reports/dr?{auth}&{dates}"), 404, 3000),
        (format!("/sushi/r51/reports/tr_j1?{auth}&{dates}"), 404, 3000),
        (format!("/sushi/r51/reports/pr?{auth}&begin_date=2026-13&end_date=2026-12"), 400, 3020),
        (format!("/sushi/r51/reports/pr?{auth}&begin_date=2026-12&end_date=2026-01"), 400, 3020),
        (format!("/sushi/r51/reports/ir?{auth}&begin_date=2027-01&end_date=2027-02"), 400, 3020),
        (format!("/sushi/r51/reports/ir?{auth}&end_date=2026-12"), 400, 1030),
    ] {
        let (status, body) = fetch(query.clone()).await;
        assert_eq!((status, body["Code"].as_i64()), (want_status, Some(want_code)), "{query}: {body}");
        if want_code != 3000 {
            checked.push((format!("Exception_{want_code}"), None, body));
        }
    }
    // A huge range is cut at this month and says so (3031); an unknown
    // parameter is named (3050).
    let (status, body) =
        fetch(format!("/sushi/r51/reports/ir?{auth}&begin_date=1900-01&end_date=9999-12&colour=red")).await;
    assert_eq!(status, 200);
    let codes: Vec<i64> =
        body["Report_Header"]["Exceptions"].as_array().unwrap().iter().map(|e| e["Code"].as_i64().unwrap()).collect();
    assert_eq!(codes, [3050, 3031], "{body}");
    checked.push(("IR".into(), None, body));

    // The same reports as the Code's tables (TSV), from /stats.
    let tsv = v.site.get("/stats/counter/pr.tsv?begin_date=2026-12&end_date=2026-12", "").await.text().await.unwrap();
    let lines: Vec<&str> = tsv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "Report_Name\tPlatform Report", "{tsv}");
    assert_eq!(lines[14], "Platform\tData_Type\tMetric_Type\tReporting_Period_Total\tDec-2026", "{tsv}");
    assert!(lines.contains(&"Arkiv\tReport\tTotal_Item_Requests\t2\t2"), "{tsv}");
    let ir = v
        .site
        .get("/stats/counter/ir.tsv?begin_date=2026-12&end_date=2026-12&attributes_to_show=Access_Type", "")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        ir.lines()
            .any(|l| l.starts_with("A paper people read\t") && l.contains("\tReport\tOpen\tTotal_Item_Requests\t2\t2")),
        "{ir}"
    );
    // Without the month columns: the Code's Exclude_Monthly_Details
    // (section 3.3.8), said in the header's Report_Attributes.
    let totals = v
        .site
        .get("/stats/counter/pr.tsv?begin_date=2026-11&end_date=2026-12&Exclude_Monthly_Details=True", "")
        .await
        .text()
        .await
        .unwrap();
    let lines: Vec<&str> = totals.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[7], "Report_Attributes\tExclude_Monthly_Details=True", "{totals}");
    assert_eq!(lines[14], "Platform\tData_Type\tMetric_Type\tReporting_Period_Total", "{totals}");
    assert!(lines.contains(&"Arkiv\tReport\tTotal_Item_Requests\t2"), "{totals}");
    let bad = v.site.get("/stats/counter/ir.tsv?exclude_monthly_details=maybe", "").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let Some(shared) = arkiv_testkit::shared_dir() else { return };
    // The header rows are the official sample's, in its order.
    let sample = std::fs::read_to_string(shared.join("counter/samples/PR_sample_r51.tsv")).unwrap();
    let names = |t: &str| -> Vec<String> {
        t.trim_start_matches('\u{feff}').lines().take(13).map(|l| l.split('\t').next().unwrap().to_string()).collect()
    };
    assert_eq!(names(&tsv), names(&sample));
    assert_eq!(v.site.get("/stats/counter/dr.tsv", "").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(v.site.get("/stats/counter/pr.tsv?begin_date=nope", "").await.status(), StatusCode::BAD_REQUEST);

    // Every answer against the official schemas.
    let Some(python) = arkiv_testkit::checkers::python() else { return };
    let spec = shared.join("counter/COUNTER_SUSHI_API_r51.json");
    let input = serde_json::to_vec(&checked).unwrap();
    let out = arkiv_testkit::checkers::run_python(&python, VALIDATE, &[spec.to_str().unwrap()], &input);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let failures: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(failures.is_empty(), "{} answers checked; schema failures:\n{}", checked.len(), failures.join("\n"));
}

/// schemathesis, run against the official COUNTER_SUSHI specification
/// pointed at Arkiv, with a real client's credentials: generated requests
/// (valid and not) to every path never get a server error, and every
/// answer documented by the specification matches its schema.
#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_off_the_schema() {
    let v = visits().await;
    v.at(0);
    v.get(&format!("/{}/1/paper.pdf", v.id), "192.0.2.1", FIREFOX, &[]).await;
    v.site.repo.usage.flush().await;
    v.at(2 * 3600 + 180);
    arkiv_services::usage::roll_up(&v.site.repo).await.unwrap();
    let client = arkiv_storage::SushiClient {
        requestor_id: "schemathesis".into(),
        customer_id: "0000000000000000".into(),
        api_key: "a-key-for-the-test".into(),
        name: "schemathesis".into(),
        created: 0,
    };
    assert!(v.site.repo.store.add_sushi_client(&client).await.unwrap());

    let Some(shared) = arkiv_testkit::shared_dir() else { return };
    let Some(python) = arkiv_testkit::checkers::python() else { return };
    let cli = python.with_file_name("schemathesis");
    if !cli.exists() {
        arkiv_testkit::skip("schemathesis (run scripts/tools.sh)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        // Credentials that work, and a month with usage: the rest of each
        // request (filters, attributes, the report's path) is generated.
        "[parameters]\n\"query.customer_id\" = \"0000000000000000\"\n\"query.requestor_id\" = \"schemathesis\"\n\
         \"query.api_key\" = \"a-key-for-the-test\"\n\"query.begin_date\" = \"2026-12\"\n\"query.end_date\" = \"2026-12\"\n",
    )
    .unwrap();
    let spec = shared.join("counter/COUNTER_SUSHI_API_r51.json");
    let base = format!("{}/sushi", v.site.base);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(cli)
            .current_dir(dir.path())
            .arg("--config-file")
            .arg(&config)
            .args(["run", spec.to_str().unwrap(), "--url", &base])
            .args(["--checks", "not_a_server_error,response_schema_conformance,content_type_conformance"])
            .args(["--max-examples", "25", "--seed", "1", "--no-color", "--workers", "1"])
            .args(["--suppress-health-check", "all"])
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis failed:\n{said}");
    assert!(said.contains("/r51/reports/ir"), "schemathesis ran the Item Report: {said}");
}
