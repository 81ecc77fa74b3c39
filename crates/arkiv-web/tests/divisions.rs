//! Divisions come along from EPrints as a second tree (issue 25): EPrints'
//! subjects file with its `divisions` branch and an EPrints export whose
//! records name divisions go in; over HTTP, the division view lists the
//! tree with its counts and each division's records, EPrints' two-menu
//! division addresses lead to the same lists, the landing page links the
//! division, the search filters and counts by division (a faculty finds
//! its schools' records), OAI-PMH has a set per division, and the deposit
//! form sets a record's divisions.

mod common;

use arkiv_services::config::AccountSettings;
use arkiv_services::import::{import_eprints_xml, ImportOptions};
use arkiv_services::subjects_import::{import_subjects, read_subjects};
use common::{csrf_field, start, EPRINTS_SUBJECTS};
use reqwest::StatusCode;

fn eprint(id: u32, title: &str, year: u32, division: &str) -> String {
    format!(
        "<eprint><eprintid>{id}</eprintid><eprint_status>archive</eprint_status><type>article</type>\
         <title>{title}</title><date>{year}</date><subjects><item>Q</item></subjects>\
         <divisions><item>{division}</item></divisions></eprint>\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn divisions_are_browsed_searched_harvested_and_deposited() {
    let site = start(AccountSettings::default()).await;
    let report =
        import_subjects(&site.repo, read_subjects(EPRINTS_SUBJECTS.as_bytes()).unwrap(), "subjects").await.unwrap();
    assert_eq!((report.imported, report.divisions, report.rejected.len()), (4, 3, 0), "{report:?}");

    let dir = tempfile::tempdir().unwrap();
    let xml = dir.path().join("export.xml");
    let records = [
        eprint(11, "Circuits of the school", 2014, "sch_ecs"),
        eprint(12, "Bridges of the faculty", 2015, "fac_eng"),
        eprint(13, "Contracts of the lawyers", 2014, "fac_law"),
    ];
    std::fs::write(&xml, format!("<eprints xmlns=\"http://eprints.org/ep2/data/2.0\">{}</eprints>", records.concat()))
        .unwrap();
    let imported =
        import_eprints_xml(&site.repo, &[xml], &ImportOptions::for_repository(&site.repo), &mut |_| {}).await.unwrap();
    assert_eq!(imported.imported, 3, "{:?}", imported.rejected);
    let id_of = |title: &str| {
        let repo = site.repo.clone();
        let title = title.to_string();
        async move {
            let page = repo.store.browse_page(arkiv_model::BrowseView::Year, "2014", None, 10).await.unwrap();
            let more = repo.store.browse_page(arkiv_model::BrowseView::Year, "2015", None, 10).await.unwrap();
            page.records.into_iter().chain(more.records).find(|r| r.title == title).unwrap().id.unwrap()
        }
    };
    let school = id_of("Circuits of the school").await;

    let get = |path: String| {
        let client = site.client.clone();
        let url = format!("{}{path}", site.base);
        async move {
            let res = client.get(&url).send().await.unwrap();
            let status = res.status();
            let location = res.headers().get("location").map(|l| l.to_str().unwrap().to_string());
            (status, location, res.text().await.unwrap())
        }
    };

    // The division view: the tree with each branch's count.
    let (status, _, html) = get("/view/division/".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Browse by division"), "{html}");
    let eng = html.find("Faculty of Engineering").expect("the faculty is listed");
    let branch = &html[eng..];
    assert!(branch.contains("2</span>"), "two records in the faculty's branch: {branch}");
    assert!(branch.contains("School of Electronics and Computer Science"));
    assert!(!html.contains(">Q Science<"), "subjects are not divisions");
    // A division's page lists its records.
    let (status, _, html) = get("/view/division/sch_ecs.html".into()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Circuits of the school") && !html.contains("Contracts of the lawyers"), "{html}");
    assert!(html.contains("Faculty of Engineering &gt; School of Electronics"), "the heading is the path: {html}");

    // EPrints' addresses of the division view and its two menus.
    for (old, to) in [
        ("/view/divisions/", "/view/division/"),
        ("/view/divisions/sch=5Fecs/", "/view/division/sch_ecs.html"),
        ("/view/divisions/fac=5Feng/2014.html", "/search?division=fac_eng&year=2014"),
        ("/view/divisions/fac=5Feng/2014.type.html", "/search?division=fac_eng&year=2014"),
    ] {
        let (status, location, _) = get(old.into()).await;
        assert_eq!((status, location.as_deref()), (StatusCode::MOVED_PERMANENTLY, Some(to)), "{old}");
    }

    // The search finds a faculty's records through its school, by year;
    // the index follows the store, so wait until it has all three.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let html = loop {
        let (_, _, html) = get("/search?division=fac_eng&year=2014".into()).await;
        if html.contains("Circuits of the school") {
            break html;
        }
        assert!(std::time::Instant::now() < deadline, "the search never found the school's record: {html}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(!html.contains("Bridges of the faculty"), "2015 is filtered out");
    assert!(!html.contains("Contracts of the lawyers"), "another faculty");
    let (_, _, html) = get("/search?q=*&year=2014".into()).await;
    assert!(html.contains("Division") && html.contains("Faculty of Law"), "the division facet: {html}");

    // The landing page names and links the division.
    let (_, _, html) = get(format!("/{school}/")).await;
    assert!(html.contains("/view/division/sch_ecs.html"), "{html}");
    assert!(html.contains("Faculty of Engineering &gt; School of Electronics and Computer Science"));

    // OAI-PMH: a set per division, down its path.
    let (_, _, xml) = get("/oai2?verb=ListSets".into()).await;
    assert!(xml.contains("<setSpec>division:fac_eng:sch_ecs</setSpec>"), "{xml}");
    assert!(xml.contains("<setName>Division: Faculty of Engineering</setName>"), "{xml}");
    let (_, _, xml) = get("/oai2?verb=ListIdentifiers&metadataPrefix=oai_dc&set=division:fac_eng".into()).await;
    assert_eq!(xml.matches("<identifier>").count(), 2, "the faculty's set holds its school's record too: {xml}");

    // The deposit form offers the divisions and keeps the one ticked.
    let depositor = site.session("depositor@example.org").await;
    let html = site.get("/workarea", &depositor).await.text().await.unwrap();
    let res =
        site.post("/workarea/new", &depositor, &[("csrf", &csrf_field(&html)), ("item_type", "policy_paper")]).await;
    let id: i64 = res.headers()["location"].to_str().unwrap().trim_start_matches("/deposit/").parse().unwrap();
    let html = site.get(&format!("/deposit/{id}"), &depositor).await.text().await.unwrap();
    assert!(html.contains("<legend>Divisions</legend>") && html.contains("value=\"fac_law\""), "{html}");
    let revision = html.split("name=\"revision\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let form = [
        ("csrf", csrf_field(&html)),
        ("revision", revision),
        ("title", "A deposited paper".into()),
        ("divisions_shown", "1".into()),
        ("divisions", "fac_law".into()),
        ("divisions", "Q".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = site.post(&format!("/deposit/{id}"), &depositor, &form).await;
    assert!(res.status().is_redirection() || res.status().is_success(), "{}", res.status());
    let record = site.repo.store.get_record(id).await.unwrap().unwrap();
    assert_eq!(record.divisions, ["fac_law"], "a subject is not taken as a division");
}
