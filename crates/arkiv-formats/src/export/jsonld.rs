//! schema.org JSON-LD: the description of a record search engines read
//! from the abstract page (Google Dataset Search, Scholar's structured
//! data) and linked-data clients fetch as an export.
//!
//! Built as a `serde_json::Value` (no JSON-LD crate is needed to *write*
//! JSON-LD: it is plain JSON with an `@context`). One record is one node;
//! a list is one document with the nodes in `@graph`, streamed. Files are
//! described (as `associatedMedia`, or a Dataset's `distribution`) only
//! when [`ExportContext::is_open_access`] says anyone may read them, and
//! no e-mail address is ever written. A new version names the record it
//! succeeds (`isBasedOn`).

use super::{ExportContext, ExportFormat, ExportWriter};
use arkiv_model::{Creator, Record};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

/// The schema.org type of an item type. Types schema.org has no word for
/// are `CreativeWork`, which every consumer understands.
pub fn schema_type(item_type: &str) -> &'static str {
    match item_type {
        "article" | "conference_item" => "ScholarlyArticle",
        "book" => "Book",
        "book_section" => "Chapter",
        "thesis" => "Thesis",
        "report" | "working_paper" | "policy_paper" | "monograph" => "Report",
        "dataset" => "Dataset",
        "image" => "ImageObject",
        "video" => "VideoObject",
        "audio" => "AudioObject",
        "composition" => "MusicComposition",
        "teaching_resource" => "LearningResource",
        _ => "CreativeWork",
    }
}

/// An ORCID iD as its URL, whichever way it was stored.
pub fn orcid_url(orcid: &str) -> Option<String> {
    let bare = orcid.trim().trim_start_matches("https://orcid.org/").trim_start_matches("http://orcid.org/");
    arkiv_model::validate::is_orcid(bare).then(|| format!("https://orcid.org/{bare}"))
}

use super::fields::license_url;

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn person(c: &Creator) -> Value {
    let mut p = Map::new();
    p.insert("@type".into(), "Person".into());
    if let Some(url) = c.orcid.as_deref().and_then(orcid_url) {
        p.insert("@id".into(), url.into());
    }
    let full = format!("{} {}", c.name.given, c.name.family).trim().to_string();
    p.insert("name".into(), full.into());
    if !c.name.given.trim().is_empty() {
        p.insert("givenName".into(), c.name.given.trim().into());
    }
    p.insert("familyName".into(), c.name.family.trim().into());
    Value::Object(p)
}

/// The record as one schema.org node (with its own `@context`).
pub fn record_jsonld(record: &Record, ctx: &ExportContext) -> Value {
    let mut node = record_node(record, ctx);
    if let Value::Object(map) = &mut node {
        map.insert("@context".into(), "https://schema.org".into());
    }
    node
}

/// The record's node without `@context`, as it sits in a `@graph`.
pub fn record_node(record: &Record, ctx: &ExportContext) -> Value {
    let url = ctx.record_url(record);
    let kind = schema_type(&record.item_type);
    let mut n = Map::new();
    n.insert("@type".into(), kind.into());
    n.insert("@id".into(), url.clone().into());
    n.insert("url".into(), url.into());
    n.insert("name".into(), record.title.trim().into());
    let mut authors: Vec<Value> = record.creators.iter().map(person).collect();
    authors.extend(record.corp_creators.iter().map(|c| json!({"@type": "Organization", "name": c.name})));
    if !authors.is_empty() {
        n.insert("author".into(), authors.into());
    }
    if !record.editors.is_empty() {
        n.insert("editor".into(), record.editors.iter().map(person).collect::<Vec<_>>().into());
    }
    if let Some(d) = record.date {
        n.insert("datePublished".into(), d.to_string().into());
    }
    if let Some(t) = record.lastmod {
        n.insert("dateModified".into(), t.to_iso8601().into());
    }
    if let Some(p) = nonempty(&record.publisher).or(nonempty(&record.institution)) {
        n.insert("publisher".into(), json!({"@type": "Organization", "name": p}));
    }
    let number = nonempty(&record.number).or(nonempty(&record.id_number));
    if kind == "Report" {
        if let Some(num) = number {
            n.insert("reportNumber".into(), num.into());
        }
    }
    // Where the item was published: a journal (with its volume), a book,
    // or a series (with the item's number in it).
    if let Some(journal) = nonempty(&record.publication) {
        let mut periodical = json!({"@type": "Periodical", "name": journal});
        if let Some(issn) = nonempty(&record.issn) {
            periodical["issn"] = issn.into();
        }
        let container = match nonempty(&record.volume) {
            Some(v) => json!({"@type": "PublicationVolume", "volumeNumber": v, "isPartOf": periodical}),
            None => periodical,
        };
        n.insert("isPartOf".into(), container);
    } else if let Some(book) = nonempty(&record.book_title) {
        n.insert("isPartOf".into(), json!({"@type": "Book", "name": book}));
    } else if let Some(series) = nonempty(&record.series) {
        let mut s = json!({"@type": "CreativeWorkSeries", "name": series});
        if let Some(issn) = nonempty(&record.issn) {
            s["issn"] = issn.into();
        }
        n.insert("isPartOf".into(), s);
        if let Some(num) = number.filter(|_| kind != "Report") {
            n.insert("position".into(), num.into());
        }
    }
    if let Some(range) = nonempty(&record.pagerange) {
        n.insert("pagination".into(), range.into());
        if let Some((start, end)) = range.split_once('-') {
            n.insert("pageStart".into(), start.trim().into());
            n.insert("pageEnd".into(), end.trim().into());
        }
    } else if let Some(pages) =
        nonempty(&record.pages).filter(|_| kind == "Book" || kind == "Thesis" || kind == "Report")
    {
        n.insert("numberOfPages".into(), pages.into());
    }
    let mut identifiers = Vec::new();
    if let Some(doi) = nonempty(&record.doi) {
        let doi = doi.trim_start_matches("https://doi.org/").trim_start_matches("doi:");
        let doi_url = format!("https://doi.org/{doi}");
        identifiers.push(json!({"@type": "PropertyValue", "propertyID": "DOI", "value": doi, "url": doi_url}));
        n.insert("sameAs".into(), doi_url.into());
    }
    if let Some(isbn) = nonempty(&record.isbn) {
        if kind == "Book" {
            n.insert("isbn".into(), isbn.into());
        } else {
            identifiers.push(json!({"@type": "PropertyValue", "propertyID": "ISBN", "value": isbn}));
        }
    }
    if !identifiers.is_empty() {
        n.insert("identifier".into(), identifiers.into());
    }
    let languages: Vec<&str> = record.languages.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
    match languages.as_slice() {
        [] => {}
        [one] => {
            n.insert("inLanguage".into(), (*one).into());
        }
        many => {
            n.insert("inLanguage".into(), many.to_vec().into());
        }
    }
    let keywords: Vec<&str> = record.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect();
    if !keywords.is_empty() {
        n.insert("keywords".into(), keywords.into());
    }
    if !record.subjects.is_empty() {
        let about: Vec<Value> =
            record.subjects.iter().map(|s| json!({"@type": "Thing", "name": ctx.subjects.path_label(s)})).collect();
        n.insert("about".into(), about.into());
    }
    // A new version points to the record it succeeds. schema.org has no
    // "previous version" property: `isBasedOn` ("a resource from which this
    // work is derived or from which it is a modification or adaptation") is
    // the one that holds for a revised work, and the one Google documents
    // for a dataset's sources. (`workExample`/`exampleOfWork` tie editions
    // to an abstract work, which Arkiv does not model; `version` is a
    // number, not a link.) The earlier record is named by its page, which is
    // its `@id` in its own JSON-LD.
    if let Some(earlier) = ctx.earlier_version_url(record) {
        n.insert("isBasedOn".into(), json!({"@id": earlier, "url": earlier}));
    }
    if let Some(a) = nonempty(&record.abstract_text) {
        n.insert("abstract".into(), a.into());
        n.insert("description".into(), a.into());
    }
    let license = nonempty(&record.license)
        .or_else(|| ctx.open_documents(record).find_map(|(d, _)| nonempty(&d.license)))
        .map(|l| license_url(l).unwrap_or_else(|| l.to_string()));
    if let Some(l) = license {
        n.insert("license".into(), l.into());
    }
    let media: Vec<Value> = ctx
        .open_documents(record)
        .filter_map(|(doc, url)| {
            let url = url?;
            let file = doc.main_file()?;
            let mut m = Map::new();
            m.insert("@type".into(), (if kind == "Dataset" { "DataDownload" } else { "MediaObject" }).into());
            m.insert("name".into(), file.filename.clone().into());
            m.insert("contentUrl".into(), url.into());
            if let Some(mime) = file.mime_type.as_deref().or(doc.mime_type.as_deref()) {
                m.insert("encodingFormat".into(), mime.into());
            }
            if file.size > 0 {
                m.insert("contentSize".into(), file.size.to_string().into());
            }
            Some(Value::Object(m))
        })
        .collect();
    if !media.is_empty() {
        let key = if kind == "Dataset" { "distribution" } else { "associatedMedia" };
        n.insert(key.into(), media.into());
    }
    // Where the work is held: a dataset's catalogue, any other work's
    // provider.
    let holder = json!({"name": ctx.repository_name, "url": format!("{}/", ctx.base_url)});
    if kind == "Dataset" {
        n.insert(
            "includedInDataCatalog".into(),
            json!({"@type": "DataCatalog", "name": holder["name"], "url": holder["url"]}),
        );
    } else {
        n.insert("provider".into(), json!({"@type": "Organization", "name": holder["name"], "url": holder["url"]}));
    }
    Value::Object(n)
}

/// The record's JSON-LD as the body of an HTML `<script
/// type="application/ld+json">`: `<`, `>` and `&` are written as JSON
/// escapes, so no value (a title with `</script>` in it) can end the
/// script element or open a comment, and the JSON means the same.
pub fn html_script_body(record: &Record, ctx: &ExportContext) -> String {
    escape_for_html(&record_jsonld(record, ctx).to_string())
}

fn escape_for_html(json: &str) -> String {
    json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// JSON-LD export: one document with every record a node of its `@graph`.
pub const JSONLD: ExportFormat = ExportFormat {
    id: "jsonld",
    label: "JSON-LD (schema.org)",
    media_type: "application/ld+json",
    extension: "jsonld",
    writer: |ctx| Box::new(JsonLdWriter { ctx: ctx.clone(), first: true }),
    list_may_be_empty: true,
    oai: None,
};

struct JsonLdWriter {
    ctx: ExportContext,
    first: bool,
}

impl ExportWriter for JsonLdWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"{\"@context\":\"https://schema.org\",\"@graph\":[\n")
    }
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        if !std::mem::take(&mut self.first) {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *out, &record_node(record, &self.ctx))?;
        Ok(())
    }
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"\n]}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arkiv_model::{Document, DocumentSecurity, StoredFile};

    fn ctx() -> ExportContext {
        ExportContext::example()
    }

    fn doc(pos: u32, name: &str) -> Document {
        let file = StoredFile {
            filename: name.into(),
            mime_type: Some("application/pdf".into()),
            size: 10,
            sha256: Some("ab".repeat(32)),
            ..Default::default()
        };
        Document { pos, main: Some(name.into()), files: vec![file], ..Default::default() }
    }

    fn paper() -> Record {
        let mut r = Record::new("working_paper", "A </script> title & more");
        r.id = Some(137);
        let mut c = Creator::new("Jaroslewicz", "Aleksandra");
        c.orcid = Some("0000-0002-1825-0097".into());
        c.email = Some("secret@example.org".into());
        r.creators.push(c);
        r.date = Some("2014-05".parse().unwrap());
        r.series = Some("OSW Commentary".into());
        r.number = Some("137".into());
        r.doi = Some("10.1234/abc".into());
        let mut staff = doc(2, "internal.pdf");
        staff.security = DocumentSecurity::Staffonly;
        let mut embargoed = doc(3, "embargoed.pdf");
        embargoed.embargo = Some("2999".parse().unwrap());
        r.documents = vec![doc(1, "paper.pdf"), staff, embargoed];
        r
    }

    #[test]
    fn a_paper_says_what_it_is_and_only_its_open_files() {
        let v = record_jsonld(&paper(), &ctx());
        assert_eq!(v["@context"], "https://schema.org");
        assert_eq!(v["@type"], "Report");
        assert_eq!(v["reportNumber"], "137");
        assert_eq!(v["datePublished"], "2014-05");
        assert_eq!(v["author"][0]["@id"], "https://orcid.org/0000-0002-1825-0097");
        assert_eq!(v["author"][0]["familyName"], "Jaroslewicz");
        assert_eq!(v["isPartOf"]["@type"], "CreativeWorkSeries");
        assert_eq!(v["sameAs"], "https://doi.org/10.1234/abc");
        assert_eq!(v["identifier"][0]["propertyID"], "DOI");
        let media = v["associatedMedia"].as_array().unwrap();
        assert_eq!(media.len(), 1);
        assert_eq!(media[0]["contentUrl"], "https://repo.example.org/137/1/paper.pdf");
        let text = v.to_string();
        assert!(!text.contains("internal.pdf") && !text.contains("embargoed.pdf") && !text.contains("secret@"));
    }

    #[test]
    fn a_new_version_is_based_on_the_record_it_succeeds() {
        let mut r = paper();
        assert!(record_jsonld(&r, &ctx()).get("isBasedOn").is_none());
        r.succeeds = Some(120);
        let v = record_jsonld(&r, &ctx());
        assert_eq!(v["isBasedOn"]["@id"], "https://repo.example.org/120/");
        assert_eq!(v["isBasedOn"]["url"], "https://repo.example.org/120/");
        // The earlier record's node in a list has that @id: the graph links.
        let mut earlier = paper();
        earlier.id = Some(120);
        assert_eq!(record_node(&earlier, &ctx())["@id"], v["isBasedOn"]["@id"]);
    }

    #[test]
    fn the_script_body_cannot_close_the_script() {
        let body = html_script_body(&paper(), &ctx());
        assert!(!body.contains('<') && !body.contains('>'));
        let back: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(back["name"], "A </script> title & more");
    }

    #[test]
    fn a_list_is_one_graph() {
        let mut out = Vec::new();
        super::super::write_all(&JSONLD, &ctx(), [&paper(), &paper()], &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["@graph"].as_array().unwrap().len(), 2);
        let mut out = Vec::new();
        super::super::write_all(&JSONLD, &ctx(), [], &mut out).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["@graph"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn licences_become_urls() {
        assert_eq!(license_url("CC-BY-4.0").as_deref(), Some("https://creativecommons.org/licenses/by/4.0/"));
        assert_eq!(license_url("cc_by_nc_4").as_deref(), Some("https://creativecommons.org/licenses/by-nc/4.0/"));
        assert_eq!(license_url("all rights reserved"), None);
        assert_eq!(schema_type("book_section"), "Chapter");
        assert_eq!(
            orcid_url("https://orcid.org/0000-0002-1825-0097").as_deref(),
            Some("https://orcid.org/0000-0002-1825-0097")
        );
    }
}
