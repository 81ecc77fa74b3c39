//! What machines read on an abstract page: Highwire Press `citation_*`
//! tags (as Google Scholar's inclusion guidelines ask), Dublin Core meta
//! tags, schema.org JSON-LD, links to every export format, COinS and unAPI
//! for reference managers, the Cite box, and FAIR Signposting (the `Link`
//! header of the page and the linkset at `/{id}/linkset`).
//!
//! Everything is computed from the record and the export registry, so a
//! format added to [`arkiv_formats::export::FORMATS`] appears on the page,
//! in the headers and in the linkset at once. Files are named only if
//! [`arkiv_formats::export::ExportContext::is_open_access`] says anyone may
//! read them today.

use crate::http::Problem;
use crate::pages::exports::{public_record, unapi_id};
use crate::pages::RecordPath;
use crate::present::record_path;
use crate::AppState;
use arkiv_formats::export::{self, jsonld, styles, ExportContext};
use arkiv_model::{PartialDate, Record};
use axum::extract::State;
use axum::http::header::{self, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

pub fn routes() -> Router<AppState> {
    Router::new().route("/{id}/linkset", get(linkset_json)).route("/{id}/linkset.txt", get(linkset_text))
}

#[derive(Serialize)]
pub struct Meta {
    pub name: &'static str,
    pub content: String,
}

#[derive(Serialize)]
pub struct ExportLink {
    pub url: String,
    pub label: &'static str,
    /// The media type without parameters, for `<link type>`.
    pub media_type: &'static str,
}

#[derive(Serialize)]
pub struct StyleOption {
    pub id: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// The Cite box: the styles to pick from and the record in the picked one.
#[derive(Serialize)]
pub struct CiteBox {
    pub styles: Vec<StyleOption>,
    /// Escaped HTML from [`styles::render`], printed as is.
    pub html: String,
    pub text: String,
}

/// Everything of this module the abstract page template shows.
#[derive(Serialize)]
pub struct Landing {
    /// `citation_*` then `DC.*` meta tags.
    pub meta: Vec<Meta>,
    /// The JSON-LD, safe inside `<script>` (see [`jsonld::html_script_body`]).
    pub jsonld: String,
    pub exports: Vec<ExportLink>,
    /// The COinS context object (the `title` of a `Z3988` span).
    pub coins: String,
    pub unapi_id: String,
    pub cite: CiteBox,
    pub linkset: String,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn bare_media_type(t: &'static str) -> &'static str {
    t.split(';').next().unwrap_or(t).trim()
}

/// `YYYY/MM/DD` when the day is known, else the year alone: the two forms
/// Scholar's guidelines name for `citation_publication_date`.
fn scholar_date(d: PartialDate) -> String {
    match (d.month, d.day) {
        (Some(m), Some(day)) => format!("{:04}/{m:02}/{day:02}", d.year),
        _ => format!("{:04}", d.year),
    }
}

/// The record's DOI without a resolver prefix.
fn doi(record: &Record) -> Option<&str> {
    nonempty(&record.doi).map(|d| d.trim_start_matches("https://doi.org/").trim_start_matches("doi:"))
}

/// The open-access files anyone may download, with their URLs and types.
fn open_files<'r>(ctx: &'r ExportContext, record: &'r Record) -> impl Iterator<Item = (String, String)> + 'r {
    ctx.open_documents(record).filter_map(|(doc, url)| {
        let url = url?;
        let file = doc.main_file()?;
        let mime = file.mime_type.clone().or(doc.mime_type.clone()).unwrap_or_else(|| {
            if file.filename.to_ascii_lowercase().ends_with(".pdf") {
                "application/pdf"
            } else {
                "application/octet-stream"
            }
            .into()
        });
        Some((url, mime))
    })
}

/// Highwire Press tags per Google Scholar's inclusion guidelines, then
/// Dublin Core.
pub fn meta_tags(ctx: &ExportContext, record: &Record) -> Vec<Meta> {
    let mut m = Vec::new();
    let mut add = |name: &'static str, value: &str| {
        let value = value.trim();
        if !value.is_empty() {
            m.push(Meta { name, content: value.to_string() });
        }
    };
    add("citation_title", &record.title);
    for c in &record.creators {
        add("citation_author", &c.name.inverted());
    }
    for c in &record.corp_creators {
        add("citation_author", &c.name);
    }
    // Editors: Zotero's page reader files them as editors (Embedded
    // Metadata.js, `citation_editor`); Scholar ignores the tag.
    for e in &record.editors {
        add("citation_editor", &e.name.inverted());
    }
    if let Some(d) = record.date {
        add("citation_publication_date", &scholar_date(d));
        // The date as precise as it is known ("2019-03"): Scholar's form
        // above has only a full date or a year, and Zotero's page reader
        // takes `citation_date` over it (Embedded Metadata.js reads the
        // tags in the order of its HIGHWIRE_MAPPINGS and the last wins).
        if d.month.is_some() && d.day.is_none() {
            add("citation_date", &d.to_string());
        }
    }
    let kind = record.item_type.as_str();
    match kind {
        "article" => {
            add("citation_journal_title", nonempty(&record.publication).unwrap_or(""));
            add("citation_volume", nonempty(&record.volume).unwrap_or(""));
            add("citation_issue", nonempty(&record.number).unwrap_or(""));
        }
        "report" | "working_paper" | "policy_paper" | "monograph" => {
            let institution =
                nonempty(&record.institution).or(nonempty(&record.publisher)).unwrap_or(&ctx.repository_name);
            add("citation_technical_report_institution", institution);
            // The number alone: the series has its own tag below.
            add(
                "citation_technical_report_number",
                nonempty(&record.number).or(nonempty(&record.id_number)).unwrap_or(""),
            );
        }
        "thesis" => add("citation_dissertation_institution", nonempty(&record.institution).unwrap_or("")),
        "conference_item" => add("citation_conference_title", nonempty(&record.event_title).unwrap_or("")),
        "book_section" => add("citation_inbook_title", nonempty(&record.book_title).unwrap_or("")),
        _ => {}
    }
    if kind != "article" {
        add("citation_series_title", nonempty(&record.series).unwrap_or(""));
    }
    if let Some(range) = nonempty(&record.pagerange) {
        let (first, last) = range.split_once('-').unwrap_or((range, ""));
        add("citation_firstpage", first);
        add("citation_lastpage", last);
    }
    if kind != "report" && kind != "working_paper" && kind != "policy_paper" {
        add("citation_publisher", nonempty(&record.publisher).unwrap_or(""));
    }
    add("citation_doi", doi(record).unwrap_or(""));
    add("citation_isbn", nonempty(&record.isbn).unwrap_or(""));
    add("citation_issn", nonempty(&record.issn).unwrap_or(""));
    for l in &record.languages {
        add("citation_language", l);
    }
    let keywords: Vec<&str> = record.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect();
    add("citation_keywords", &keywords.join("; "));
    add("citation_abstract_html_url", &ctx.record_url(record));
    for (url, mime) in open_files(ctx, record) {
        if mime == "application/pdf" {
            add("citation_pdf_url", &url);
        }
    }
    // Dublin Core, last resort of harvesters that read nothing else.
    add("DC.title", &record.title);
    for c in &record.creators {
        add("DC.creator", &c.name.inverted());
    }
    if let Some(d) = record.date {
        add("DC.date", &d.to_string());
    }
    add("DC.type", ctx.item_types.label(kind));
    add("DC.publisher", nonempty(&record.publisher).or(nonempty(&record.institution)).unwrap_or(""));
    for s in &record.subjects {
        add("DC.subject", &ctx.subjects.path_label(s));
    }
    for k in &keywords {
        add("DC.subject", k);
    }
    add("DC.description", nonempty(&record.abstract_text).unwrap_or(""));
    add("DC.identifier", &ctx.record_url(record));
    if let Some(d) = doi(record) {
        add("DC.identifier", &format!("https://doi.org/{d}"));
    }
    for l in &record.languages {
        add("DC.language", l);
    }
    // The licence's URL where it has one: `cc_by_nc_nd` means nothing to a
    // reader's "Rights" field.
    if let Some(license) = nonempty(&record.license) {
        add("DC.rights", &arkiv_formats::export::fields::license_url(license).unwrap_or_else(|| license.to_string()));
    }
    m
}

/// Formatted citations are dear to render (hayagriva walks the whole CSL
/// style: most of an abstract page's time), so the last few thousand are
/// kept, keyed by record, its revision and the style; every write makes a
/// new revision, so a new key (its last-modified second would not: two
/// edits in one second, or an import that keeps the date, would show the
/// old citation). Bounded: when full it starts again empty.
struct CiteCache {
    map: Mutex<HashMap<CiteKey, Arc<styles::FormattedCitation>>>,
}

/// Record id, revision number, style name.
type CiteKey = (i64, i64, &'static str);

const CITE_CACHE_ENTRIES: usize = 4096;

static CITE_CACHE: LazyLock<CiteCache> = LazyLock::new(|| CiteCache { map: Mutex::new(HashMap::new()) });

impl CiteCache {
    fn get_or_render(
        &self,
        style: &'static str,
        record: &Record,
        revision: i64,
        ctx: &ExportContext,
    ) -> Option<Arc<styles::FormattedCitation>> {
        let key = (record.id.unwrap_or(0), revision, style);
        if let Some(hit) = self.map.lock().expect("cite cache lock").get(&key) {
            return Some(hit.clone());
        }
        let rendered = Arc::new(styles::render(style, record, ctx)?);
        let mut map = self.map.lock().expect("cite cache lock");
        if map.len() >= CITE_CACHE_ENTRIES {
            map.clear();
        }
        map.insert(key, rendered.clone());
        Some(rendered)
    }
}

/// The style a page shows: the one asked for, or the first when none or an
/// unknown one is asked for.
fn picked_style(style: Option<&str>) -> Option<&'static styles::CitationStyle> {
    styles::STYLES.iter().find(|s| Some(s.id) == style).or(styles::STYLES.first())
}

/// The citation the follower rendered ahead (`arkiv_services::citations`),
/// when the page shows the default style and the stored one is of this
/// revision and today's renderer: a first view then runs no CSL processor.
pub async fn stored_citation(
    state: &AppState,
    ctx: &ExportContext,
    record: &Record,
    revision: i64,
    style: Option<&str>,
) -> Option<styles::FormattedCitation> {
    if picked_style(style)?.id != arkiv_services::citations::default_style() {
        return None;
    }
    arkiv_services::citations::stored(&state.repo, ctx, record.id?, revision).await
}

/// The Cite box in the style asked for (the first style when none or an
/// unknown one is asked for): `stored` when given, else rendered (or from
/// the cache of recent renderings).
pub fn cite_box(
    ctx: &ExportContext,
    record: &Record,
    revision: i64,
    style: Option<&str>,
    stored: Option<styles::FormattedCitation>,
) -> CiteBox {
    let picked = picked_style(style);
    let rendered = match stored {
        Some(cited) => Some(Arc::new(cited)),
        None => picked.and_then(|s| CITE_CACHE.get_or_render(s.id, record, revision, ctx)),
    };
    CiteBox {
        styles: styles::STYLES
            .iter()
            .map(|s| StyleOption { id: s.id, label: s.label, selected: Some(s.id) == picked.map(|p| p.id) })
            .collect(),
        html: rendered.as_ref().map(|r| r.html.clone()).unwrap_or_default(),
        text: rendered.map(|r| r.text.clone()).unwrap_or_default(),
    }
}

/// The export links of a record, in the registry's order.
pub fn export_links(record: &Record) -> Vec<ExportLink> {
    let id = record.id.unwrap_or(0);
    export::FORMATS
        .iter()
        .map(|f| ExportLink {
            url: format!("/{id}/export/{}", f.id),
            label: f.label,
            media_type: bare_media_type(f.media_type),
        })
        .collect()
}

pub fn landing(
    ctx: &ExportContext,
    record: &Record,
    revision: i64,
    style: Option<&str>,
    stored: Option<styles::FormattedCitation>,
) -> Landing {
    let id = record.id.unwrap_or(0);
    Landing {
        meta: meta_tags(ctx, record),
        jsonld: jsonld::html_script_body(record, ctx),
        exports: export_links(record),
        coins: arkiv_formats::export::coins::context_object(ctx, record),
        unapi_id: unapi_id(ctx, record),
        cite: cite_box(ctx, record, revision, style, stored),
        linkset: format!("/{id}/linkset"),
    }
}

/// One typed link of FAIR Signposting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub href: String,
    pub rel: &'static str,
    pub media_type: Option<String>,
}

/// The Signposting links of a live record's landing page.
pub fn signposts(ctx: &ExportContext, record: &Record) -> Vec<Link> {
    let id = record.id.unwrap_or(0);
    let link = |href: String, rel: &'static str, t: Option<&str>| Link { href, rel, media_type: t.map(str::to_string) };
    let mut links = Vec::new();
    let cite_as = doi(record).map(|d| format!("https://doi.org/{d}")).unwrap_or_else(|| ctx.record_url(record));
    links.push(link(cite_as, "cite-as", None));
    for c in &record.creators {
        if let Some(url) = c.orcid.as_deref().and_then(jsonld::orcid_url) {
            links.push(link(url, "author", None));
        }
    }
    for f in export::FORMATS {
        links.push(link(
            format!("{}/{id}/export/{}", ctx.base_url, f.id),
            "describedby",
            Some(bare_media_type(f.media_type)),
        ));
    }
    for (url, mime) in open_files(ctx, record) {
        links.push(link(url, "item", Some(&mime)));
    }
    links.push(link(format!("https://schema.org/{}", jsonld::schema_type(&record.item_type)), "type", None));
    links.push(link("https://schema.org/AboutPage".into(), "type", None));
    let license =
        nonempty(&record.license).or_else(|| ctx.open_documents(record).find_map(|(d, _)| nonempty(&d.license)));
    if let Some(url) = license.and_then(arkiv_formats::export::fields::license_url) {
        links.push(link(url, "license", None));
    }
    links.push(link(format!("{}/{id}/linkset", ctx.base_url), "linkset", Some("application/linkset+json")));
    links.push(link(format!("{}/{id}/linkset.txt", ctx.base_url), "linkset", Some("application/linkset")));
    links
}

/// `uri` as it may stand in a `Link` header or a linkset: every byte
/// outside RFC 3986's unreserved and reserved characters is
/// percent-encoded, and so are `,` and `;` (which end a link or a
/// parameter for a naive reader of the header), and `%` unless it begins
/// an escape already. A DOI or a licence, whatever it holds, stays one URI
/// and adds no link of its own.
pub fn link_uri(uri: &str) -> String {
    let bytes = uri.as_bytes();
    let mut out = String::with_capacity(uri.len());
    for (i, &b) in bytes.iter().enumerate() {
        let kept = b.is_ascii_alphanumeric()
            || b"-._~:/?#[]@!$&'()*+=".contains(&b)
            || (b == b'%'
                && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit));
        if kept {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A media type as a `type` parameter may carry it, or `None` (a stored
/// type is text from an import or a browser; one that is not a plain
/// `type/subtype` is left out rather than quoted).
fn link_media_type(t: &str) -> Option<&str> {
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b));
    t.split_once('/').is_some_and(|(a, b)| token(a) && token(b)).then_some(t)
}

fn link_value(l: &Link, anchor: Option<&str>) -> String {
    let mut s = format!("<{}>; rel=\"{}\"", link_uri(&l.href), l.rel);
    if let Some(t) = l.media_type.as_deref().and_then(link_media_type) {
        s.push_str(&format!("; type=\"{t}\""));
    }
    if let Some(a) = anchor {
        s.push_str(&format!("; anchor=\"{}\"", link_uri(a)));
    }
    s
}

/// The `Link` header of the landing page. Every URI in it goes through
/// [`link_uri`], so the value is always a valid header and each link is
/// the one we meant.
pub fn link_header(links: &[Link]) -> Option<HeaderValue> {
    let value = links.iter().map(|l| link_value(l, None)).collect::<Vec<_>>().join(", ");
    HeaderValue::from_str(&value).ok()
}

/// `/{id}/linkset`: the landing page's links as RFC 9264 JSON.
pub async fn linkset_json(State(state): State<AppState>, RecordPath(id): RecordPath) -> Result<Response, Problem> {
    let record = public_record(&state, id).await?;
    let ctx = state.repo.export_context();
    let mut context = serde_json::Map::new();
    context.insert("anchor".into(), link_uri(&ctx.record_url(&record)).into());
    for l in signposts(&ctx, &record).into_iter().filter(|l| l.rel != "linkset") {
        let mut target = serde_json::Map::new();
        target.insert("href".into(), link_uri(&l.href).into());
        if let Some(t) = l.media_type.as_deref().and_then(link_media_type) {
            target.insert("type".into(), t.into());
        }
        let entry = context.entry(l.rel).or_insert_with(|| serde_json::Value::Array(Vec::new()));
        if let Some(list) = entry.as_array_mut() {
            list.push(target.into());
        }
    }
    let body = serde_json::json!({ "linkset": [context] }).to_string();
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/linkset+json"))], body).into_response())
}

/// `/{id}/linkset.txt`: the same links in RFC 9264's `application/linkset`
/// form (Link header syntax, one link a line, each with its anchor).
pub async fn linkset_text(State(state): State<AppState>, RecordPath(id): RecordPath) -> Result<Response, Problem> {
    let record = public_record(&state, id).await?;
    let ctx = state.repo.export_context();
    let anchor = ctx.record_url(&record);
    let lines: Vec<String> =
        signposts(&ctx, &record).iter().filter(|l| l.rel != "linkset").map(|l| link_value(l, Some(&anchor))).collect();
    let body = format!("{}\n", lines.join(",\n"));
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/linkset"))], body).into_response())
}

/// The `Link` a file download carries back to its landing page
/// (Signposting's `collection`); `base_url` without a trailing slash.
pub fn collection_link(base_url: &str, id: arkiv_model::RecordId) -> Option<HeaderValue> {
    HeaderValue::from_str(&format!("<{}>; rel=\"collection\"", link_uri(&format!("{base_url}{}", record_path(id)))))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_are_rendered_once_per_record_state() {
        let ctx = ExportContext {
            base_url: "https://repo.example.org".into(),
            repository_name: "R".into(),
            oai_host: "repo.example.org".into(),
            subjects: Default::default(),
            item_types: Default::default(),
            today: "2026-01-01".parse().unwrap(),
        };
        let mut r = Record::new("report", "A cached title");
        r.id = Some(987_654);
        r.lastmod = Some(arkiv_model::Timestamp(1));
        let first = CITE_CACHE.get_or_render("apa", &r, 1, &ctx).unwrap();
        let again = CITE_CACHE.get_or_render("apa", &r, 1, &ctx).unwrap();
        assert!(Arc::ptr_eq(&first, &again), "the second page view reuses the rendering");
        assert!(first.text.contains("A cached title"));
        // An edit in the same second: the revision tells it apart.
        r.title = "An edited title".into();
        let edited = CITE_CACHE.get_or_render("apa", &r, 2, &ctx).unwrap();
        assert!(edited.text.contains("An edited title"), "an edit is a new key: {}", edited.text);
    }

    #[test]
    fn scholar_dates_are_a_full_date_or_a_year() {
        assert_eq!(scholar_date("2014-05-29".parse().unwrap()), "2014/05/29");
        assert_eq!(scholar_date("2014-05".parse().unwrap()), "2014");
        assert_eq!(scholar_date("2014".parse().unwrap()), "2014");
    }
}
