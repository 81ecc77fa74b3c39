//! What a reference manager saves from an abstract page, path by path.
//!
//! Reference managers' importers cannot run here (Zotero's translators
//! need Zotero), so each path is read the way docs/reference-managers.md
//! writes down that Zotero's translators read it: unAPI (which format
//! `unAPI.js` picks from what `/unapi` offers, then that format's importer,
//! RIS.js), COinS (`parseContextObject`), the page's `citation_*` and
//! `DC.*` tags (Embedded Metadata.js) and JSON-LD. For a record of each
//! item type, every path must give the item type, the creators with their
//! roles, the date as precise as it is known, series and number,
//! institution, DOI, language, licence and PDF that it can carry.
//!
//! Before issue 27 this failed on every path: unAPI offered MARCXML, which
//! Zotero takes first and reads as a book with a year; the RIS gave a
//! report's number in `IS` and series in `T3`, which Zotero drops for a
//! report; the tags folded the series into the report number, had no
//! editors, a year for an article's month and the licence as a code; the
//! COinS made a thesis a web page.

mod common;

use arkiv_model::{Contributor, Creator, PartialDate, Record, RecordId, Status};
use arkiv_services::{Config, Repository};
use arkiv_storage::RecordWrite;
use bytes::Bytes;
use reqwest::{Client, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;

const PDF: &[u8] = b"%PDF-1.4\n% a paper\n%%EOF\n";

/// What an importer makes of a path: Zotero's item type and fields.
#[derive(Debug, Default, Clone, PartialEq)]
struct Saved {
    item_type: String,
    /// (family name, Zotero creator type), in order.
    creators: Vec<(String, String)>,
    fields: BTreeMap<&'static str, String>,
    /// Attachment URLs Zotero would download as PDFs.
    pdfs: Vec<String>,
}

impl Saved {
    fn set(&mut self, field: &'static str, value: &str) {
        if !value.trim().is_empty() {
            self.fields.insert(field, value.trim().to_string());
        }
    }
    fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }
}

/// One record and what every path must give for it.
struct Case {
    id: RecordId,
    zotero_type: &'static str,
    creators: Vec<(&'static str, &'static str)>,
    date: &'static str,
    /// Fields every path that carries them must give.
    fields: Vec<(&'static str, &'static str)>,
    pdf: bool,
}

fn pdf_document(name: &str, sha: &str) -> arkiv_model::Document {
    common::pdf_document(1, name, sha, PDF.len())
}

struct Site {
    base: String,
    client: Client,
    cases: Vec<Case>,
    _repo: Arc<Repository>,
    _dir: tempfile::TempDir,
}

async fn start() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path(), Config::default()).await.unwrap();
    let sha = repo.files.put(Bytes::from_static(PDF)).await.unwrap();
    let live = |item_type: &str, title: &str, family: &str| {
        let mut r = Record::new(item_type, title);
        r.status = Status::Archive;
        r.creators.push(Creator::new(family, "Ann"));
        r.languages = vec!["en".into()];
        r
    };

    let mut report = live("policy_paper", "Less love, more fear", "Jaroslewicz");
    report.date = Some("2014-05-29".parse().unwrap());
    report.series = Some("OSW Commentary".into());
    report.number = Some("137".into());
    report.institution = Some("Centre for Eastern Studies".into());
    report.doi = Some("10.5555/osw.137".into());
    report.license = Some("cc_by_nc_nd".into());
    report.documents = vec![pdf_document("commentary_137.pdf", &sha)];

    let mut article = live("article", "Steppe politics", "Nurlanova");
    article.date = Some("2019-03".parse().unwrap());
    article.publication = Some("Central Asian Survey".into());
    article.volume = Some("38".into());
    article.number = Some("2".into());
    article.doi = Some("10.5555/cas.2019.2".into());
    article.license = Some("CC-BY-4.0".into());
    article.documents = vec![pdf_document("article.pdf", &sha)];

    let mut chapter = live("book_section", "Borders in the steppe", "Kowalski");
    chapter.date = Some(PartialDate::year(2020));
    chapter.book_title = Some("Eurasia Rewired".into());
    chapter.publisher = Some("Steppe Press".into());
    chapter.editors.push(Creator::new("Editorova", "Eva"));

    let mut thesis = live("thesis", "Water and power", "Sadykova");
    thesis.date = Some("2018-09-01".parse().unwrap());
    thesis.institution = Some("Nazarbayev University".into());
    thesis.contributors.push(Contributor {
        role: "http://www.loc.gov/loc.terms/relators/THS".into(),
        person: Creator::new("Advisorov", "Adil"),
    });
    thesis.documents = vec![pdf_document("thesis.pdf", &sha)];

    let mut paper = live("conference_item", "Pipelines and promises", "Tokayeva");
    paper.date = Some("2016-06".parse().unwrap());
    paper.event_title = Some("Astana Energy Forum".into());
    paper.publication = Some("Proceedings of the Astana Energy Forum".into());

    let ids = repo
        .store
        .put_records(
            [report, article, chapter, thesis, paper].into_iter().map(|r| RecordWrite::new(r, "test")).collect(),
        )
        .await
        .unwrap();
    let author = |name| (name, "author");
    let cases = vec![
        Case {
            id: ids[0],
            zotero_type: "report",
            creators: vec![author("Jaroslewicz")],
            date: "2014-05-29",
            fields: vec![
                ("seriesTitle", "OSW Commentary"),
                ("reportNumber", "137"),
                ("institution", "Centre for Eastern Studies"),
                ("DOI", "10.5555/osw.137"),
                ("language", "en"),
                ("rights", "https://creativecommons.org/licenses/by-nc-nd/4.0/"),
            ],
            pdf: true,
        },
        Case {
            id: ids[1],
            zotero_type: "journalArticle",
            creators: vec![author("Nurlanova")],
            date: "2019-03",
            fields: vec![
                ("publicationTitle", "Central Asian Survey"),
                ("volume", "38"),
                ("issue", "2"),
                ("DOI", "10.5555/cas.2019.2"),
                ("language", "en"),
                ("rights", "https://creativecommons.org/licenses/by/4.0/"),
            ],
            pdf: true,
        },
        Case {
            id: ids[2],
            zotero_type: "bookSection",
            creators: vec![author("Kowalski"), ("Editorova", "editor")],
            date: "2020",
            fields: vec![("bookTitle", "Eurasia Rewired"), ("publisher", "Steppe Press"), ("language", "en")],
            pdf: false,
        },
        Case {
            id: ids[3],
            zotero_type: "thesis",
            creators: vec![author("Sadykova"), ("Advisorov", "contributor")],
            date: "2018-09-01",
            fields: vec![("university", "Nazarbayev University"), ("language", "en")],
            pdf: true,
        },
        Case {
            id: ids[4],
            zotero_type: "conferencePaper",
            creators: vec![author("Tokayeva")],
            date: "2016-06",
            fields: vec![
                ("conferenceName", "Astana Energy Forum"),
                ("proceedingsTitle", "Proceedings of the Astana Energy Forum"),
                ("language", "en"),
            ],
            pdf: false,
        },
    ];

    let (base, client, repo) = common::serve(repo).await;
    Site { base, client, cases, _repo: repo, _dir: dir }
}

impl Site {
    async fn get(&self, path: &str) -> (StatusCode, Option<String>, String) {
        let url = if path.starts_with("http") { path.to_string() } else { format!("{}{path}", self.base) };
        let res = self.client.get(url).send().await.unwrap();
        let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
        (res.status(), location, res.text().await.unwrap())
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// The value of `attr="..."` in the first tag of `html` that contains
/// `marker`.
fn attribute_after(html: &str, marker: &str, attr: &str) -> Option<String> {
    let at = html.find(marker)?;
    let tag_start = html[..=at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>').unwrap_or(html.len() - tag_start)];
    let needle = format!("{attr}=\"");
    let from = tag.find(&needle)? + needle.len();
    Some(unescape(&tag[from..from + tag[from..].find('"')?]))
}

/// `<meta name content>` pairs in document order.
fn meta_tags(html: &str) -> Vec<(String, String)> {
    let needle = "<meta name=\"";
    html.match_indices(needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            let name = &rest[..rest.find('"')?];
            let c = rest.find("content=\"")? + 9;
            let content = &rest[c..c + rest[c..].find('"')?];
            Some((name.to_string(), unescape(content)))
        })
        .collect()
}

/// The last name of a name as written "Family, Given" or "Given Family".
fn family(name: &str) -> String {
    match name.split_once(',') {
        Some((family, _)) => family.trim().to_string(),
        None => name.split_whitespace().last().unwrap_or("").to_string(),
    }
}

/// A date as Zotero stores it from "2014/05/29/", "2019/03//", "2020///"
/// (RIS) or "2014/05/29" and "2019-03" (tags): the parts that are there,
/// joined by "-".
fn zotero_date(s: &str) -> String {
    s.split(['/', '-']).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-")
}

/// unAPI.js: the format Zotero takes from a format list, by its own ranking
/// (`RECOGNIZABLE_FORMATS`, unAPI.js:38), recognising formats by name or
/// type as unAPI.js:98-126 does. `None` if it knows none.
fn zotero_unapi_choice(formats_xml: &str) -> Option<(String, &'static str)> {
    const RANKING: [&str; 10] =
        ["rdf_zotero", "rdf_bibliontology", "marc", "unimarc", "marcxml", "mods", "ris", "refer", "bibtex", "rdf_dc"];
    let mut found: BTreeMap<&'static str, String> = BTreeMap::new();
    for (i, _) in formats_xml.match_indices("<format ") {
        let tag = &formats_xml[i..i + formats_xml[i..].find('>').unwrap()];
        let attr = |a: &str| attribute_after(tag, "<format", a).unwrap_or_default();
        let (name, ty) = (attr("name"), attr("type"));
        let lower = name.to_lowercase();
        let word_after = |prefix: &str| {
            lower.strip_prefix(prefix).is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
        };
        let known = if let Some(k) =
            ["rdf_zotero", "rdf_bibliontology", "bibtex", "endnote", "rdf_dc"].into_iter().find(|k| *k == lower)
        {
            Some(k)
        } else if lower == "mods" || ty == "application/mods+xml" {
            Some("mods")
        } else if word_after("marc") || ty == "application/marc" {
            Some("marc")
        } else if word_after("unimarc") || ty == "application/unimarc" {
            Some("unimarc")
        } else if word_after("marcxml") || ty == "application/marcxml+xml" {
            Some("marcxml")
        } else if word_after("ris") {
            Some("ris")
        } else {
            None
        };
        if let Some(k) = known {
            found.insert(k, name);
        }
    }
    RANKING.iter().find_map(|k| found.get(k).map(|name| (name.clone(), *k)))
}

/// RIS.js's import of one RIS record, for the tags Arkiv writes (its
/// `fieldMap`, RIS.js:207 onwards).
fn zotero_ris(ris: &str) -> Saved {
    let mut s = Saved::default();
    let tags: Vec<(&str, &str)> = ris.lines().filter_map(|l| l.split_once("  - ")).collect();
    let ty = tags.iter().find(|(t, _)| *t == "TY").map(|(_, v)| *v).unwrap_or("");
    s.item_type = match ty {
        "JOUR" => "journalArticle",
        "BOOK" => "book",
        "CHAP" => "bookSection",
        "CONF" | "CPAPER" => "conferencePaper",
        "THES" => "thesis",
        "RPRT" => "report",
        "GEN" => "document",
        other => panic!("a RIS type Zotero maps elsewhere: {other}"),
    }
    .into();
    let it = s.item_type.clone();
    let is = |types: &[&str]| types.contains(&it.as_str());
    for (tag, value) in tags {
        match tag {
            "AU" | "A1" => s.creators.push((family(value), "author".into())),
            "A2" if is(&["journalArticle", "bookSection", "conferencePaper"]) => {
                s.creators.push((family(value), "editor".into()))
            }
            "A2" if is(&["book", "report"]) => s.creators.push((family(value), "seriesEditor".into())),
            "A3" if is(&["thesis"]) => s.creators.push((family(value), "contributor".into())),
            "A3" if is(&["book"]) => s.creators.push((family(value), "editor".into())),
            "A3" if is(&["bookSection", "conferencePaper"]) => s.creators.push((family(value), "seriesEditor".into())),
            "T2" if is(&["report"]) => s.set("seriesTitle", value),
            "T2" if is(&["bookSection"]) => s.set("bookTitle", value),
            "T2" if is(&["conferencePaper"]) => s.set("conferenceName", value),
            "T2" if is(&["journalArticle"]) => s.set("publicationTitle", value),
            "T2" if is(&["book"]) => s.set("series", value),
            "T3" if is(&["bookSection", "conferencePaper", "journalArticle", "book"]) => s.set("series", value),
            "C3" if is(&["conferencePaper"]) => s.set("proceedingsTitle", value),
            "SN" if is(&["report"]) => s.set("reportNumber", value),
            "SN" if is(&["journalArticle"]) => s.set("ISSN", value),
            "SN" => s.set("ISBN", value),
            "M3" if is(&["report"]) => s.set("reportType", value),
            "M3" if is(&["thesis"]) => s.set("thesisType", value),
            "PB" if is(&["report"]) => s.set("institution", value),
            "PB" if is(&["thesis"]) => s.set("university", value),
            "PB" => s.set("publisher", value),
            "IS" if !is(&["bookSection", "report", "thesis"]) => s.set("issue", value),
            "VL" => s.set("volume", value),
            "DA" => s.set("date", &zotero_date(value)),
            "DO" => s.set("DOI", value),
            "LA" => s.set("language", value),
            "UR" => s.set("url", value),
            "L1" => s.pdfs.push(value.to_string()),
            _ => {}
        }
    }
    s
}

/// `parseContextObject`'s reading of a COinS span's context object.
fn zotero_coins(co: &str) -> Saved {
    let decode = |v: &str| percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().to_string();
    let pairs: Vec<(String, String)> =
        co.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (k.to_string(), decode(v))).collect();
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let genre = get("rft.genre").unwrap_or("");
    let fmt = get("rft_val_fmt").unwrap_or("");
    let mut s = Saved {
        item_type: match fmt {
            "info:ofi/fmt:kev:mtx:journal" => "journalArticle",
            "info:ofi/fmt:kev:mtx:book" => match genre {
                "bookitem" => "bookSection",
                "conference" | "proceeding" => "conferencePaper",
                "report" => "report",
                "document" => "document",
                _ => "book",
            },
            "info:ofi/fmt:kev:mtx:dissertation" => "thesis",
            "info:ofi/fmt:kev:mtx:patent" => "patent",
            "info:ofi/fmt:kev:mtx:dc" => "webpage",
            other => panic!("a context object format no reader knows: {other}"),
        }
        .into(),
        ..Default::default()
    };
    for (k, v) in &pairs {
        match k.as_str() {
            "rft_id" if v.starts_with("info:doi/") => s.set("DOI", &v["info:doi/".len()..]),
            "rft_id" if v.starts_with("http") => s.set("url", v),
            "rft.btitle" if s.item_type == "bookSection" => s.set("bookTitle", v),
            "rft.btitle" if s.item_type == "conferencePaper" => s.set("proceedingsTitle", v),
            "rft.jtitle" if s.item_type == "journalArticle" => s.set("publicationTitle", v),
            "rft.date" => s.set("date", v),
            "rft.volume" => s.set("volume", v),
            "rft.issue" => s.set("issue", v),
            "rft.au" | "rft.creator" => s.creators.push((family(v), "author".into())),
            "rft.pub" if s.item_type == "report" => s.set("institution", v),
            "rft.pub" => s.set("publisher", v),
            "rft.series" => s.set("series", v),
            "rft.inst" if s.item_type == "thesis" => s.set("university", v),
            "rft.degree" if s.item_type == "thesis" => s.set("thesisType", v),
            _ => {}
        }
    }
    s
}

/// Embedded Metadata.js's reading of the page's tags.
fn zotero_embedded(tags: &[(String, String)]) -> Saved {
    let mut s = Saved::default();
    // The type: the last type-telling tag on the page (Embedded
    // Metadata.js:298-320).
    for (name, _) in tags {
        let t = match name.as_str() {
            "citation_journal_title" => "journalArticle",
            "citation_technical_report_institution" => "report",
            "citation_conference_title" | "citation_conference" => "conferencePaper",
            "citation_book_title" | "citation_inbook_title" => "bookSection",
            "citation_dissertation_institution" => "thesis",
            _ => continue,
        };
        s.item_type = t.into();
    }
    let first = |n: &str| tags.iter().find(|(name, _)| name == n).map(|(_, v)| v.as_str());
    // HIGHWIRE_MAPPINGS in its order, each tag present overwriting.
    let mappings: [(&str, &'static str); 15] = [
        ("citation_publication_date", "date"),
        ("citation_cover_date", "date"),
        ("citation_date", "date"),
        ("citation_journal_title", "publicationTitle"),
        ("citation_inbook_title", "bookTitle"),
        ("citation_volume", "volume"),
        ("citation_issue", "issue"),
        ("citation_series_title", "series"),
        ("citation_conference_title", "conferenceName"),
        ("citation_dissertation_institution", "university"),
        ("citation_technical_report_institution", "institution"),
        ("citation_technical_report_number", "reportNumber"),
        ("citation_publisher", "publisher"),
        ("citation_doi", "DOI"),
        ("citation_language", "language"),
    ];
    for (tag, field) in mappings {
        if let Some(v) = first(tag) {
            let v = if field == "date" { zotero_date(v) } else { v.to_string() };
            s.set(field, &v);
        }
    }
    for (name, value) in tags {
        match name.as_str() {
            "citation_author" => s.creators.push((family(value), "author".into())),
            "citation_editor" => s.creators.push((family(value), "editor".into())),
            "citation_pdf_url" => s.pdfs.push(value.clone()),
            "DC.rights" => s.set("rights", value),
            _ => {}
        }
    }
    s
}

/// Fields a path cannot carry, by path, with the reason (the importer's
/// fields, docs/reference-managers.md).
fn carried(path: &str, zotero_type: &str, field: &str) -> bool {
    match path {
        // RIS.js reads no licence tag Arkiv could write; a book section's
        // book title is read, its publisher too.
        "unapi-ris" => field != "rights",
        // The context objects have no keys for these (a report's number,
        // the series of a report, language and rights outside `dc`).
        "coins" => !matches!(
            field,
            "seriesTitle" | "reportNumber" | "rights" | "language" | "institution" | "conferenceName" | "issue"
        ),
        // The tags: Zotero fills a report's series from `series`, a field
        // a report lacks; the proceedings' title has no tag.
        "embedded" => !(zotero_type == "report" && field == "seriesTitle") && field != "proceedingsTitle",
        _ => true,
    }
}

fn check(path: &str, case: &Case, saved: &Saved, problems: &mut Vec<String>) {
    let mut fail = |what: String| problems.push(format!("{} via {path}: {what}", case.zotero_type));
    if saved.item_type != case.zotero_type {
        fail(format!("saved as {:?}", saved.item_type));
    }
    let creators: Vec<(String, String)> = case.creators.iter().map(|(n, r)| (n.to_string(), r.to_string())).collect();
    // COinS names authors only: a context object has no key for an editor
    // or an advisor. The tags have authors and editors, no advisors.
    let expected: Vec<_> = match path {
        "coins" => creators.into_iter().filter(|(_, r)| r == "author").collect(),
        "embedded" => creators.into_iter().filter(|(_, r)| r == "author" || r == "editor").collect(),
        _ => creators,
    };
    if saved.creators != expected {
        fail(format!("creators {:?}, not {expected:?}", saved.creators));
    }
    if saved.get("date") != Some(case.date) {
        fail(format!("date {:?}, not {:?}", saved.get("date"), case.date));
    }
    for (field, want) in &case.fields {
        // The series of a report is `seriesTitle` in Zotero; the tags and
        // COinS fill `series`.
        let got = saved.get(field).or(if *field == "seriesTitle" { saved.get("series") } else { None });
        if carried(path, case.zotero_type, field) && got != Some(want) {
            fail(format!("{field} {got:?}, not {want:?}"));
        }
    }
    if path != "coins" {
        let pdf_count = saved.pdfs.iter().filter(|u| u.ends_with(".pdf")).count();
        if case.pdf != (pdf_count == 1) {
            fail(format!("PDFs {:?}", saved.pdfs));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_a_reference_manager_takes_gives_the_record_as_it_is() {
    let site = start().await;
    let mut problems = Vec::new();

    // unAPI: what Zotero's button takes first, and the format it picks.
    let (status, _, formats) = site.get("/unapi").await;
    assert_eq!(status, StatusCode::OK);
    let (format_name, known) = zotero_unapi_choice(&formats).expect("unAPI offers a format Zotero reads");
    assert_eq!(known, "ris", "Zotero's unAPI reader would take {format_name}, not RIS, from:\n{formats}");

    for case in &site.cases {
        let (status, _, page) = site.get(&format!("/{}/", case.id)).await;
        assert_eq!(status, StatusCode::OK);

        let unapi_id = attribute_after(&page, "class=\"unapi-id\"", "title").expect("an unAPI id on the page");
        assert!(page.contains("rel=\"unapi-server\""), "the page names its unAPI server");
        let (_, _, offered) = site.get(&format!("/unapi?id={unapi_id}")).await;
        assert_eq!(
            zotero_unapi_choice(&offered).map(|(name, _)| name),
            Some(format_name.clone()),
            "the record's formats pick the same"
        );
        let (status, location, _) = site.get(&format!("/unapi?id={unapi_id}&format={format_name}")).await;
        assert_eq!(status, StatusCode::FOUND);
        let (status, _, ris) = site.get(&location.expect("unAPI redirects to the export")).await;
        assert_eq!(status, StatusCode::OK);
        check("unapi-ris", case, &zotero_ris(&ris), &mut problems);

        let co = attribute_after(&page, "class=\"Z3988\"", "title").expect("a COinS span");
        check("coins", case, &zotero_coins(&co), &mut problems);

        check("embedded", case, &zotero_embedded(&meta_tags(&page)), &mut problems);

        // JSON-LD: schema.org's type, the date as precise as it is known,
        // the licence as a URL.
        let start = page.find("<script type=\"application/ld+json\">").unwrap() + 35;
        let json: serde_json::Value =
            serde_json::from_str(&page[start..start + page[start..].find("</script>").unwrap()]).unwrap();
        let schema_type = match case.zotero_type {
            "report" => "Report",
            "journalArticle" | "conferencePaper" => "ScholarlyArticle",
            "bookSection" => "Chapter",
            "thesis" => "Thesis",
            _ => "CreativeWork",
        };
        if json["@type"] != schema_type {
            problems.push(format!("{} via JSON-LD: @type {}", case.zotero_type, json["@type"]));
        }
        if json["datePublished"] != case.date {
            problems.push(format!("{} via JSON-LD: datePublished {}", case.zotero_type, json["datePublished"]));
        }
        if let Some((_, rights)) = case.fields.iter().find(|(f, _)| *f == "rights") {
            if json["license"] != *rights {
                problems.push(format!("{} via JSON-LD: license {}", case.zotero_type, json["license"]));
            }
        }
    }
    assert!(problems.is_empty(), "what reference managers would save wrong:\n{}", problems.join("\n"));
}

/// A report's series and number are two things on every path, never "OSW
/// Commentary 137" in the number; and the formats catalogues read stay on
/// the export menu although unAPI no longer offers them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_s_number_is_its_number_and_catalogue_formats_stay_exported() {
    let site = start().await;
    let report = &site.cases[0];
    let (_, _, page) = site.get(&format!("/{}/", report.id)).await;
    let tags = meta_tags(&page);
    let number: Vec<_> = tags.iter().filter(|(n, _)| n == "citation_technical_report_number").collect();
    assert_eq!(number, [&("citation_technical_report_number".to_string(), "137".to_string())]);
    let (_, _, offered) = site.get("/unapi").await;
    for hidden in ["name=\"mods\"", "name=\"marcxml\""] {
        assert!(!offered.contains(hidden), "unAPI offers {hidden}, which Zotero would take before RIS");
    }
    for format in ["mods", "marcxml"] {
        let (status, _, body) = site.get(&format!("/{}/export/{format}", report.id)).await;
        assert_eq!(status, StatusCode::OK, "{format} is still exported");
        assert!(body.contains("Less love, more fear"));
        assert!(page.contains(&format!("/{}/export/{format}", report.id)), "the page still links {format}");
    }
    // MARC's names carry relator codes, which MARC importers read.
    let (_, _, marc) = site.get(&format!("/{}/export/marcxml", site.cases[2].id)).await;
    assert!(
        marc.contains("<marc:subfield code=\"e\">editor</marc:subfield>")
            && marc.contains("<marc:subfield code=\"4\">edt</marc:subfield>"),
        "an editor has $e and $4:\n{marc}"
    );
    // MODS: a thesis advisor is also a contributor, said before the
    // specific role, so importers without "thesis advisor" keep them out of
    // the authors; an article has its MARC genre.
    let (_, _, mods) = site.get(&format!("/{}/export/mods", site.cases[3].id)).await;
    let ctb = mods.find(">contributor<").expect("the advisor is a contributor");
    let ths = mods.find(">thesis advisor<").expect("and a thesis advisor");
    assert!(ctb < ths, "the specific role comes last, where Zotero's MODS reader looks last");
    let (_, _, mods) = site.get(&format!("/{}/export/mods", site.cases[1].id)).await;
    assert!(mods.contains("<genre authority=\"marcgt\">article</genre>"), "{mods}");
    // CSL-JSON: a conference paper's container is its proceedings, the
    // conference its event, so CSL processors print each once.
    let (_, _, csl) = site.get(&format!("/{}/export/csljson", site.cases[4].id)).await;
    let csl: serde_json::Value = serde_json::from_str(&csl).unwrap();
    assert_eq!(csl[0]["container-title"], "Proceedings of the Astana Energy Forum");
    assert_eq!(csl[0]["event-title"], "Astana Energy Forum");
}
