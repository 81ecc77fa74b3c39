//! Every address an EPrints 3.4 repository served still answers (issue
//! 24): the table below holds the list, each entry with the EPrints source
//! (github:eprints/eprints3.4 at ca3f7929, the publication flavour) that
//! serves or builds it, checked against the demo repository over HTTP. An
//! entry answers 200 itself or 301 to its Arkiv address, whose page is then
//! fetched too and must answer 200 with what the old address showed.
//! `docs/eprints-3.4-urls.md` is the inventory the list was drawn from.
//!
//! Besides the demo (the seed record, id 1, and generated records), the
//! repository holds one record imported from EPrints XML as an EPrints
//! 3.4 export gives it: document and file ids, and a thumbnail derived
//! from its PDF.

use arkiv_services::demo::open_or_create;
use arkiv_services::import::{import_eprints_xml, ImportOptions};
use reqwest::{redirect, Client, StatusCode};
use std::sync::Arc;

/// An EPrints export of a paper with a PDF (docid 9001, fileid 7001) and
/// the small thumbnail EPrints made of it (docid 9002, fileid 7002).
const IMPORTED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<eprints xmlns="http://eprints.org/ep2/data/2.0">
  <eprint id="https://old.example.org/id/eprint/4242">
    <eprintid>4242</eprintid>
    <eprint_status>archive</eprint_status>
    <type>policy_paper</type>
    <title>Energy security on the Caspian shelf</title>
    <creators><item><name><family>Nowak</family><given>Anna</given></name></item></creators>
    <date>2014</date>
    <divisions><item>div-prog-caucasia</item></divisions>
    <documents>
      <document>
        <docid>9001</docid>
        <pos>1</pos>
        <format>application/pdf</format>
        <security>public</security>
        <main>paper.pdf</main>
        <relation>
          <item><type>http://eprints.org/relation/hassmallThumbnailVersion</type><uri>/id/document/9002</uri></item>
        </relation>
        <files><file>
          <fileid>7001</fileid>
          <filename>paper.pdf</filename>
          <mime_type>application/pdf</mime_type>
          <data encoding="base64">JVBERi0xLjQgcGFwZXI=</data>
        </file></files>
      </document>
      <document>
        <docid>9002</docid>
        <pos>2</pos>
        <format>image/png</format>
        <security>public</security>
        <main>preview.png</main>
        <relation>
          <item><type>http://eprints.org/relation/isVolatileVersionOf</type><uri>/id/document/9001</uri></item>
          <item><type>http://eprints.org/relation/issmallThumbnailVersionOf</type><uri>/id/document/9001</uri></item>
          <item><type>http://eprints.org/relation/isVersionOf</type><uri>/id/document/9001</uri></item>
        </relation>
        <files><file>
          <fileid>7002</fileid>
          <filename>preview.png</filename>
          <mime_type>image/png</mime_type>
          <data encoding="base64">iVBORw0KGgo=</data>
        </file></files>
      </document>
    </documents>
  </eprint>
</eprints>
"#;

/// One address: what EPrints serves there, and what Arkiv must answer.
struct Entry {
    /// The EPrints address (`{T}` is the imported record's id).
    path: &'static str,
    /// 200, 301 or 404.
    status: u16,
    /// For a 301: where it must lead (a prefix when it ends with `*`).
    to: &'static str,
    /// What the page finally reached must contain.
    shows: &'static str,
    /// Where EPrints serves or builds the address.
    source: &'static str,
}

const fn e(path: &'static str, status: u16, to: &'static str, shows: &'static str, source: &'static str) -> Entry {
    Entry { path, status, to, shows, source }
}

/// Part of the seed's title that HTML, XML and JSON all write as is.
const SEED_TITLE: &str = "towards integration with Russia";

const ENTRIES: &[Entry] = &[
    // Abstract pages (already served before issue 24).
    e("/1/", 200, "", SEED_TITLE, "perl_lib/EPrints/Apache/Rewrite.pm:474-478"),
    e("/1", 301, "/1/", SEED_TITLE, "perl_lib/EPrints/Apache/Rewrite.pm:474-478"),
    e("/id/eprint/1/", 200, "", SEED_TITLE, "perl_lib/EPrints/Apache/Rewrite.pm:595-621"),
    e("/id/eprint/1", 301, "/1/", SEED_TITLE, "perl_lib/EPrints/Apache/Rewrite.pm:513-516"),
    e("/id/eprint/1/index.html", 301, "/1/", SEED_TITLE, "perl_lib/EPrints/Apache/Rewrite.pm:595-604"),
    // Documents, long format (flavours/pub_lib/cfg.d/20_baseurls.pl:38) and short.
    e(
        "/id/eprint/1/1/commentary_137.pdf",
        301,
        "/1/1/commentary_137.pdf",
        "%PDF",
        "perl_lib/EPrints/Apache/Rewrite.pm:522-591; perl_lib/EPrints/DataObj/Document.pm:664-667",
    ),
    e("/1/1/commentary_137.pdf", 200, "", "%PDF", "perl_lib/EPrints/Apache/Rewrite.pm:456-473"),
    e("/id/eprint/1/1", 301, "/1/1/commentary_137.pdf", "%PDF", "perl_lib/EPrints/Apache/Rewrite.pm:532-535"),
    e("/id/eprint/1/contents", 301, "/1/1/commentary_137.pdf", "%PDF", "perl_lib/EPrints/Apache/CRUD.pm:1529-1554, 1610-1633"),
    e("/id/eprint/{T}/contents", 301, "/{T}/1/paper.pdf", "%PDF-1.4 paper", "perl_lib/EPrints/Apache/CRUD.pm:1529-1554"),
    e("/id/eprint/{T}/1/paper.pdf", 301, "/{T}/1/paper.pdf", "%PDF-1.4 paper", "perl_lib/EPrints/Apache/Rewrite.pm:522-591"),
    e(
        "/id/eprint/{T}/1.hassmallThumbnailVersion/paper.pdf",
        301,
        "/{T}/2/preview.png",
        "PNG",
        "lib/cfg.d/doc_rewrite.pl:2-21; perl_lib/EPrints/Apache/Rewrite.pm:540-541; perl_lib/EPrints/DataObj/Document.pm:1832-1863",
    ),
    e(
        "/{T}/1.hassmallThumbnailVersion/paper.pdf",
        301,
        "/{T}/2/preview.png",
        "PNG",
        "perl_lib/EPrints/Apache/Rewrite.pm:729-730",
    ),
    e("/id/eprint/{T}/1.hasmediumThumbnailVersion/paper.pdf", 404, "", "", "lib/cfg.d/doc_rewrite.pl:11-15"),
    e("/id/document/9001", 301, "/{T}/1/paper.pdf", "%PDF-1.4 paper", "perl_lib/EPrints/Apache/CRUD.pm:1647-1657"),
    e(
        "/id/document/9001.hassmallThumbnailVersion",
        301,
        "/{T}/2/preview.png",
        "PNG",
        "perl_lib/EPrints/Apache/CRUD.pm:352-361, 711-724",
    ),
    e("/id/file/7001", 301, "/{T}/1/paper.pdf", "%PDF-1.4 paper", "perl_lib/EPrints/Apache/CRUD.pm:1637-1657; perl_lib/EPrints/DataObj/File.pm:1197-1203"),
    e("/id/file/7002", 301, "/{T}/2/preview.png", "PNG", "perl_lib/EPrints/DataObj/File.pm:1197-1203"),
    e("/id/document/123456789", 404, "", "", "perl_lib/EPrints/Apache/CRUD.pm:1647-1657"),
    // Exports of one record (perl_lib/EPrints/Plugin/Export.pm:321-349, cgi/export:56-117).
    e("/cgi/export/eprint/1/BibTeX/repo-eprint-1.bib", 301, "/1/export/bibtex", "@", "perl_lib/EPrints/Plugin/Export.pm:321-349; flavours/pub_lib/plugins/EPrints/Plugin/Export/BibTeX.pm:34-39"),
    e("/cgi/export/eprint/1/RIS/repo-eprint-1.ris", 301, "/1/export/ris", "TY  -", "flavours/pub_lib/plugins/EPrints/Plugin/Export/RIS.pm:325-329"),
    e("/cgi/export/eprint/1/EndNote/repo-eprint-1.enw", 301, "/1/export/refer", "%0", "flavours/pub_lib/plugins/EPrints/Plugin/Export/EndNote.pm:30-33"),
    e("/cgi/export/eprint/1/Refer/repo-eprint-1.refer", 301, "/1/export/refer", "%T", "flavours/pub_lib/plugins/EPrints/Plugin/Export/Refer.pm:21-25"),
    e("/cgi/export/eprint/1/DC/repo-eprint-1.txt", 301, "/1/export/dc", SEED_TITLE, "flavours/pub_lib/plugins/EPrints/Plugin/Export/DC.pm:25-27"),
    e("/cgi/export/eprint/1/MODS/repo-eprint-1.xml", 301, "/1/export/mods", "<mods", "flavours/pub_lib/plugins/EPrints/Plugin/Export/MODS.pm:24-26"),
    e("/cgi/export/eprint/1/XML/repo-eprint-1.xml", 301, "/1/export/ep3", "<eprints", "perl_lib/EPrints/Plugin/Export/XML.pm:21-27"),
    e("/cgi/export/eprint/1/JSON/repo-eprint-1.js", 301, "/1/export/json", "\"title\"", "perl_lib/EPrints/Plugin/Export/JSON.pm:21-25"),
    e("/cgi/export/eprint/1/CSV/repo-eprint-1.csv", 301, "/1/export/csv", SEED_TITLE, "perl_lib/EPrints/Plugin/Export/CSV.pm:25-26"),
    e("/cgi/export/eprint/1/Text/repo-eprint-1.txt", 301, "/1/export/text", "Jaroslewlcz, Aleksandra (2014)", "perl_lib/EPrints/Plugin/Export/Text.pm:21-23"),
    e("/cgi/export/eprint/1/HTML/repo-eprint-1.html", 301, "/1/export/html", "<p class=\"citation\">", "perl_lib/EPrints/Plugin/Export/HTML.pm:25-29"),
    e("/cgi/export/eprint/1/COinS/repo-eprint-1.txt", 301, "/1/export/coins", "ctx_ver=Z39.88-2004", "perl_lib/EPrints/Plugin/Export/COinS.pm:50-52"),
    e("/cgi/export/eprint/1/METS/repo-eprint-1.xml", 404, "", "BibTeX, RIS", "flavours/pub_lib/plugins/EPrints/Plugin/Export/METS.pm:30-34"),
    e("/cgi/export/1/BibTeX/repo-eprint-1.bib", 301, "/1/export/bibtex", "@", "cgi/export:114-117"),
    e("/cgi/export/1", 301, "/1/", SEED_TITLE, "cgi/export:59-63, 363-381"),
    e("/cgi/export_redirect?eprintid=1&format=RIS", 301, "/1/export/ris", "TY  -", "cgi/export_redirect:10-19"),
    // Exports of a view (cgi/exportview:67-139; perl_lib/EPrints/Update/Views.pm:1856-1857).
    e("/cgi/exportview/year/2014/BibTeX/2014.bib", 301, "/view/year/2014/export/bibtex", "@", "cgi/exportview:67-139"),
    e(
        "/cgi/exportview/creators/Jaroslewlcz=3AAleksandra=3A=3A/RIS/Jaroslewlcz=3AAleksandra=3A=3A.ris",
        301,
        "/view/creator/Jaroslewlcz%2C%20Aleksandra/export/ris",
        "Kazakhstan",
        "cgi/exportview:67-139; perl_lib/EPrints/Utils.pm:1385-1440",
    ),
    // Search (cgi/search; flavours/pub_lib/cfg.d/eprint_search_simple.pl, eprint_search_advanced.pl).
    e("/cgi/search", 301, "/search", "", "cgi/search:50-54"),
    e("/cgi/search/simple?q=Kazakhstan", 301, "/search?q=Kazakhstan", SEED_TITLE, "cgi/search:83-87; flavours/pub_lib/cfg.d/eprint_search_simple.pl:2-29"),
    e(
        "/cgi/search/archive/simple?q=Kazakhstan&_action_search=Search&_order=bytitle&basic_srchtype=ALL&_satisfyall=ALL",
        301,
        "/search?q=Kazakhstan",
        SEED_TITLE,
        "cgi/search:63-69, 104-127; flavours/pub_lib/lang/en/templates/default.xml:68-75",
    ),
    e(
        "/cgi/search/archive/advanced?title=Kazakhstan&creators_name=Jaroslewlcz&date=2010-2015&_action_search=Search",
        301,
        "/search?q=*",
        SEED_TITLE,
        "cgi/search:104-127; flavours/pub_lib/cfg.d/eprint_search_advanced.pl:2-33",
    ),
    e("/cgi/search/advanced", 301, "/search/advanced", "", "cgi/search:83-87"),
    e(
        "/cgi/search/archive/simple/export_repo_BibTeX.bib?screen=Search&dataset=archive&_action_export=1&output=BibTeX&exp=1%7C1%7C-date%2Fcreators_name%2Ftitle%7Carchive%7C-%7Cq%3Aq%3AALL%3AIN%3AKazakhstan%7C-%7C&n=",
        301,
        "/search/export/bibtex?q=Kazakhstan",
        "@",
        "perl_lib/EPrints/Plugin/Screen/Search.pm:180-201; perl_lib/EPrints/Search.pm:513-558",
    ),
    // Lists and feeds.
    e("/cgi/latest", 301, "/", "", "cgi/latest:39-145"),
    e("/cgi/latest_tool", 301, "/", "", "cgi/latest_tool:39-218"),
    e("/cgi/latest_tool?output=RSS2", 301, "/feed/rss", "<rss", "cgi/latest_tool:100-149; flavours/pub_lib/lang/en/static/index.xpage:5-6"),
    e("/cgi/latest_tool?output=Atom&mode=default", 301, "/feed/atom", "<feed", "cgi/latest_tool:100-149"),
    e("/cgi/opensearchdescription", 301, "/opensearch.xml", "OpenSearchDescription", "cgi/opensearchdescription:9-64"),
    // Accounts and requests.
    e("/cgi/users/home", 301, "/workarea", "", "cgi/users/home:43-46"),
    e("/cgi/users/login", 301, "/login", "", "cgi/users/login:42-57"),
    e("/cgi/register", 301, "/register", "", "cgi/register:39-47"),
    e("/cgi/reset_password", 301, "/password/forgot", "", "cgi/reset_password"),
    e("/cgi/request_doc?docid=9001", 301, "/copy-request/{T}/1", "", "cgi/request_doc:39-43"),
    e("/cgi/request_doc?eprintid=1", 301, "/1/", SEED_TITLE, "cgi/request_doc:39-43"),
    e("/cgi/stats/report", 301, "/stats", "Usage statistics", "IRStats2, an EPrints Bazaar package: not in core"),
    e("/cgi/stats/report/eprint/1", 301, "/1/", SEED_TITLE, "IRStats2: an eprint's report, now on its page"),
    e("/cgi/oai2?verb=Identify", 200, "", "<Identify>", "cgi/oai2:38-62"),
    // Views (flavours/pub_lib/cfg.d/views.pl:32-106; perl_lib/EPrints/Update/Views.pm).
    e("/view/", 200, "", "Year", "perl_lib/EPrints/Update/Views.pm:257-264"),
    e("/view/year/", 200, "", "2014", "flavours/pub_lib/cfg.d/views.pl:33-48"),
    e("/view/year/2014.html", 200, "", SEED_TITLE, "flavours/pub_lib/cfg.d/views.pl:33-48"),
    e("/view/year/2014.type.html", 301, "/view/year/2014.html", SEED_TITLE, "perl_lib/EPrints/Update/Views.pm:652-660, 2092-2145"),
    e("/view/year/2014.default.html", 301, "/view/year/2014.html", SEED_TITLE, "perl_lib/EPrints/Update/Views.pm:2137-2140"),
    e("/view/subjects/", 301, "/view/subject/", "", "flavours/pub_lib/cfg.d/views.pl:49-63"),
    e("/view/subjects/geo-casia-kz.html", 301, "/view/subject/geo-casia-kz.html", SEED_TITLE, "flavours/pub_lib/cfg.d/views.pl:49-63"),
    // Divisions: two menus, a division and then its years (views.pl:64-85).
    e("/view/divisions/", 301, "/view/division/", "Research programmes", "flavours/pub_lib/cfg.d/views.pl:64-85"),
    e(
        "/view/divisions/div-prog-caucasia.html",
        301,
        "/view/division/div-prog-caucasia.html",
        "Caspian shelf",
        "perl_lib/EPrints/MetaField.pm:839-882 (browse_link)",
    ),
    e(
        "/view/divisions/div-prog-caucasia/",
        301,
        "/view/division/div-prog-caucasia.html",
        "Caspian shelf",
        "perl_lib/EPrints/Update/Views.pm:391-526",
    ),
    e(
        "/view/divisions/div-prog-caucasia/2014.html",
        301,
        "/search?division=div-prog-caucasia&year=2014",
        "Caspian shelf",
        "perl_lib/EPrints/Update/Views.pm:391-526",
    ),
    e(
        "/cgi/exportview/divisions/div-prog-caucasia/2014/BibTeX/div-prog-caucasia_2014.bib",
        301,
        "/view/division/div-prog-caucasia/export/bibtex",
        "Nowak",
        "cgi/exportview:67-139; perl_lib/EPrints/Update/Views.pm:1856-1857",
    ),
    e("/view/creators/", 301, "/view/creator/", "", "flavours/pub_lib/cfg.d/views.pl:86-105"),
    e("/view/creators/index.J.html", 301, "/view/creator/", "", "perl_lib/EPrints/Update/Views.pm:1262-1271"),
    e(
        "/view/creators/Jaroslewlcz=3AAleksandra=3A=3A.html",
        301,
        "/view/creator/Jaroslewlcz%2C%20Aleksandra.html",
        SEED_TITLE,
        "perl_lib/EPrints/Utils.pm:1385-1410; perl_lib/EPrints/MetaField/Multipart.pm:304-315",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_eprints_address_answers() {
    let dir = tempfile::tempdir().unwrap();
    let repo = open_or_create(&dir.path().join("demo"), "http://repo.example.org", 30, &mut |_| {}).await.unwrap();
    let xml = dir.path().join("imported.xml");
    std::fs::write(&xml, IMPORTED).unwrap();
    let report = import_eprints_xml(&repo, &[xml], &ImportOptions::for_repository(&repo), &mut |_| {}).await.unwrap();
    assert_eq!(report.imported, 1, "{:?}", report.rejected);
    let imported = repo.store.eprints_id_record("document", 9001).await.unwrap().expect("docid 9001 noted");
    let repo = Arc::new(repo);
    let listener = arkiv_web::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(arkiv_web::serve(listener, repo.clone(), Default::default(), std::future::pending()));
    let client = Client::builder().redirect(redirect::Policy::none()).build().unwrap();
    // The search index follows the store: wait until it has both records.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for q in ["Kazakhstan", "Caspian"] {
        loop {
            let json = client.get(format!("{base}/api/search?q={q}")).send().await.unwrap().text().await.unwrap();
            if !json.contains("\"total\":0") && json.contains("\"total\"") {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the search index never found {q}: {json}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    let t = imported.to_string();
    let mut failures = Vec::new();
    for entry in ENTRIES {
        let path = entry.path.replace("{T}", &t);
        let res = client.get(format!("{base}{path}")).send().await.unwrap();
        let status = res.status().as_u16();
        let location = res.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or("").to_string();
        let mut problems = Vec::new();
        if status != entry.status {
            problems.push(format!("answered {status}, not {}", entry.status));
        }
        let body = if status == 301 {
            let to = entry.to.replace("{T}", &t);
            let fits = match to.strip_suffix('*') {
                Some(prefix) => location.starts_with(prefix),
                None => location == to,
            };
            if !fits {
                problems.push(format!("led to {location:?}, not {to:?}"));
            }
            let next = client.get(format!("{base}{location}")).send().await.unwrap();
            if next.status() != StatusCode::OK && !entry.shows.is_empty() {
                problems.push(format!("{location} answered {}", next.status()));
            }
            String::from_utf8_lossy(&next.bytes().await.unwrap()).into_owned()
        } else {
            String::from_utf8_lossy(&res.bytes().await.unwrap()).into_owned()
        };
        if !entry.shows.is_empty() && !body.contains(entry.shows) {
            problems.push(format!("does not show {:?}", entry.shows));
        }
        if !problems.is_empty() {
            failures.push(format!("{path} ({}): {}", entry.source, problems.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} EPrints addresses fail:\n{}",
        failures.len(),
        ENTRIES.len(),
        failures.join("\n")
    );

    // The thumbnail is served at its addresses but not listed on the page.
    let page = client.get(format!("{base}/{t}/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("paper.pdf"), "the PDF is listed");
    assert!(!page.contains("preview.png"), "the thumbnail EPrints derived from it is not");
}
