//! Search: the results page (`/search`), the advanced form
//! (`/search/advanced`), the same results as JSON (`/api/search`) and the
//! OpenSearch description (`/opensearch.xml`) that lets a browser add the
//! site as a search engine.
//!
//! Every parameter is optional and read leniently: an unknown or malformed
//! one is ignored, the query text is whatever the visitor typed (the search
//! crate reads any input, with warnings), so no input produces an error.
//! Searching is CPU work on the index: it runs on a blocking thread.
//!
//! Parameters (the same for the page and the API): `q`, the query; one per
//! facet filter (`type`, `year`, `subject`, `creator`, `series`, `language`,
//! `full_text`), repeatable, all of which must hold; `sort` (`relevance`,
//! `newest`, `oldest`, `title`); `cursor`, from the previous page; `size`,
//! hits per page (API; capped by the crate).

use crate::http::Problem;
use crate::present::{cite, query_value, CiteView};
use crate::AppState;
use arkiv_formats::escape_markup as xml_escape;
use arkiv_model::{Record, RecordId};
use arkiv_search::{Facet, SearchRequest, SearchResults, Sort};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::collections::HashMap;

/// Search: the page, the advanced form, the JSON API and OpenSearch.
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/search", get(search_page))
        .route("/search/advanced", get(advanced))
        .route("/api/search", get(api))
        .route("/opensearch.xml", get(opensearch))
}

/// The query text kept from a request (the crate reads less than this).
const MAX_Q_CHARS: usize = 4000;
/// Filters kept from a request, and the length of each value.
const MAX_FILTERS: usize = 20;
const MAX_FILTER_CHARS: usize = 300;
/// Values shown per facet in the sidebar.
const FACET_VALUES_SHOWN: usize = 30;

/// A search as the request's parameters state it.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pub q: String,
    pub filters: Vec<(Facet, String)>,
    pub sort: Sort,
    pub cursor: Option<String>,
    pub size: usize,
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

impl Params {
    /// Reads the parameters, ignoring what it does not understand.
    pub fn read(pairs: &[(String, String)]) -> Params {
        let mut p = Params::default();
        for (k, v) in pairs {
            match k.as_str() {
                "q" => {
                    if p.q.is_empty() {
                        p.q = cut(v, MAX_Q_CHARS);
                    }
                }
                "sort" => p.sort = Sort::parse(v).unwrap_or(p.sort),
                "cursor" => {
                    if !v.trim().is_empty() && v.len() <= 64 {
                        p.cursor = Some(v.trim().to_string());
                    }
                }
                "size" => p.size = v.trim().parse().unwrap_or(0),
                name => {
                    let Some(facet) = Facet::parse(name) else { continue };
                    let value = cut(v.trim(), MAX_FILTER_CHARS);
                    let pair = (facet, value);
                    if !pair.1.is_empty() && p.filters.len() < MAX_FILTERS && !p.filters.contains(&pair) {
                        p.filters.push(pair);
                    }
                }
            }
        }
        p
    }

    pub(crate) fn request(&self) -> SearchRequest {
        SearchRequest {
            query: self.q.clone(),
            filters: self.filters.clone(),
            sort: self.sort,
            cursor: self.cursor.clone(),
            page_size: self.size,
            ..Default::default()
        }
    }

    /// The address of this search (first page unless `cursor`), with
    /// `filters` instead of this one's.
    pub(crate) fn url(&self, path: &str, filters: &[(Facet, String)], cursor: Option<&str>) -> String {
        let mut parts = vec![format!("q={}", query_value(&self.q))];
        for (f, v) in filters {
            parts.push(format!("{}={}", f.as_str(), query_value(v)));
        }
        if self.sort != Sort::Relevance {
            parts.push(format!("sort={}", self.sort.as_str()));
        }
        if self.size != 0 {
            parts.push(format!("size={}", self.size));
        }
        if let Some(c) = cursor {
            parts.push(format!("cursor={}", query_value(c)));
        }
        format!("{path}?{}", parts.join("&"))
    }
}

pub(crate) fn pairs(query: Result<Query<Vec<(String, String)>>, QueryRejection>) -> Vec<(String, String)> {
    query.map(|Query(p)| p).unwrap_or_default()
}

/// Runs a search on a blocking thread. `Ok(None)`: search is unavailable.
pub(crate) async fn run(state: &AppState, req: SearchRequest) -> Result<Option<SearchResults>, Problem> {
    let Some(index) = state.search.clone() else { return Ok(None) };
    match tokio::task::spawn_blocking(move || index.search(&req)).await {
        Ok(Ok(r)) => Ok(Some(r)),
        Ok(Err(e)) => Err(Problem::internal(format!("search: {e:#}"))),
        Err(e) => Err(Problem::internal(format!("search task: {e}"))),
    }
}

/// The live records behind the hits, by id (a record withdrawn since it was
/// indexed is left out).
pub(crate) async fn records(state: &AppState, results: &SearchResults) -> Result<HashMap<RecordId, Record>, Problem> {
    let ids: Vec<RecordId> = results.hits.iter().map(|h| h.id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found = state.repo.store.get_records(&ids).await?;
    Ok(found.into_iter().filter(|r| r.is_live()).filter_map(|r| r.id.map(|id| (id, r))).collect())
}

/// A snippet as the crate makes it (escaped text, matches in `<b>`), made
/// safe to print unescaped whatever it holds: `<b>` and `</b>` are kept,
/// entities are kept, every other `<`, `>`, `"`, `'` and bare `&` is
/// escaped.
pub fn safe_snippet(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 16);
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if rest.starts_with("<b>") || rest.starts_with("</b>") {
            let n = if rest.starts_with("<b>") { 3 } else { 4 };
            out.push_str(&rest[..n]);
            rest = &rest[n..];
            continue;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '&' => {
                let entity =
                    rest[1..].find(';').filter(|&end| end > 0 && end <= 10).map(|end| &rest[1..1 + end]).filter(
                        |name| {
                            let name = name.strip_prefix('#').unwrap_or(name);
                            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric())
                        },
                    );
                if entity.is_some() {
                    out.push('&');
                } else {
                    out.push_str("&amp;");
                }
            }
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[derive(Serialize)]
struct SnippetView {
    field: &'static str,
    /// Safe HTML (see [`safe_snippet`]).
    html: String,
}

#[derive(Serialize)]
struct HitView {
    cite: CiteView,
    snippets: Vec<SnippetView>,
}

#[derive(Serialize)]
struct FacetValueView {
    label: String,
    count: u64,
    url: String,
    active: bool,
}

#[derive(Serialize)]
struct FacetView {
    name: &'static str,
    label: &'static str,
    values: Vec<FacetValueView>,
}

#[derive(Serialize)]
struct ActiveFilter {
    facet: &'static str,
    label: String,
    remove_url: String,
}

#[derive(Serialize)]
struct Hidden {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
struct SortOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct SearchPage {
    nav: &'static str,
    q: String,
    /// Whether a search was run (false: the form alone).
    searched: bool,
    available: bool,
    total: u64,
    hits: Vec<HitView>,
    facets: Vec<FacetView>,
    active: Vec<ActiveFilter>,
    hidden: Vec<Hidden>,
    sorts: Vec<SortOption>,
    next_url: Option<String>,
    warnings: Vec<String>,
    /// Feeds and exports of this search.
    machine: crate::pages::exports::SearchLinks,
}

fn facet_label(f: Facet) -> &'static str {
    match f {
        Facet::Type => "Item type",
        Facet::Year => "Year",
        Facet::Subject => "Subject",
        Facet::Creator => "Creator",
        Facet::Series => "Series",
        Facet::Language => "Language",
        Facet::FullText => "Full text",
        Facet::Division => "Division",
    }
}

fn value_label(state: &AppState, f: Facet, value: &str, label: Option<&str>) -> String {
    match f {
        Facet::Type => state.repo.types().label(value).to_string(),
        Facet::FullText => match value {
            "yes" => "With full text".into(),
            "no" => "Without full text".into(),
            v => v.into(),
        },
        Facet::Subject | Facet::Division => match label {
            Some(l) => l.to_string(),
            None => state.repo.subjects().get(value).map(|s| s.name.clone()).unwrap_or_else(|| value.to_string()),
        },
        _ => label.unwrap_or(value).to_string(),
    }
}

fn sort_label(s: Sort) -> &'static str {
    match s {
        Sort::Relevance => "Best match",
        Sort::Newest => "Newest first",
        Sort::Oldest => "Oldest first",
        Sort::Title => "Title A–Z",
    }
}

/// `/search`: the form, and results when there is something to search.
pub async fn search_page(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    let p = Params::read(&pairs(query));
    let searched = !p.q.trim().is_empty() || !p.filters.is_empty();
    let mut page = SearchPage {
        nav: "search",
        q: p.q.clone(),
        searched,
        available: state.search.is_some(),
        total: 0,
        hits: Vec::new(),
        facets: Vec::new(),
        active: active_filters(&state, &p),
        hidden: p.filters.iter().map(|(f, v)| Hidden { name: f.as_str(), value: v.clone() }).collect(),
        sorts: [Sort::Relevance, Sort::Newest, Sort::Oldest, Sort::Title]
            .into_iter()
            .map(|s| SortOption { value: s.as_str(), label: sort_label(s), selected: s == p.sort })
            .collect(),
        next_url: None,
        warnings: Vec::new(),
        machine: crate::pages::exports::search_links(&p),
    };
    if searched {
        match run(&state, p.request()).await? {
            None => page.warnings.push(
                "Search is not available at the moment. Please try again later, or browse the collection.".into(),
            ),
            Some(results) => {
                let found = records(&state, &results).await?;
                page.total = results.total;
                page.hits = hit_views(&state, &results, &found);
                page.next_url = results.next_cursor.as_deref().map(|c| p.url("/search", &p.filters, Some(c)));
                page.warnings = results.warnings.clone();
                page.facets = facet_views(&state, &p, &results);
            }
        }
    }
    state.page(StatusCode::OK, "search.html", page)
}

/// The filters a search applies, each with the address of the same search
/// without it.
fn active_filters(state: &AppState, p: &Params) -> Vec<ActiveFilter> {
    p.filters
        .iter()
        .map(|(f, v)| {
            let rest: Vec<_> = p.filters.iter().filter(|x| x.0 != *f || x.1 != *v).cloned().collect();
            ActiveFilter {
                facet: facet_label(*f),
                label: value_label(state, *f, v, None),
                remove_url: p.url("/search", &rest, None),
            }
        })
        .collect()
}

/// The results list: each live hit's citation and its snippets from the
/// abstract and the full text.
fn hit_views(state: &AppState, results: &SearchResults, found: &HashMap<RecordId, Record>) -> Vec<HitView> {
    results
        .hits
        .iter()
        .filter_map(|h| {
            let r = found.get(&h.id)?;
            let snippets = h
                .snippets
                .iter()
                .filter_map(|s| {
                    let field = match s.field.as_str() {
                        "abstract" => "Abstract",
                        "fulltext" => "Full text",
                        _ => return None,
                    };
                    Some(SnippetView { field, html: safe_snippet(&s.html) })
                })
                .collect();
            Some(HitView { cite: cite(&state.repo, r), snippets })
        })
        .collect()
}

/// The facets beside the results: the most frequent values of each (years
/// newest first), each a link that adds it to the search or, if applied,
/// marked so.
fn facet_views(state: &AppState, p: &Params, results: &SearchResults) -> Vec<FacetView> {
    let mut facets = Vec::new();
    for f in Facet::ALL {
        let Some(counts) = results.facets.get(&f) else { continue };
        let ordered: Vec<_> = if f == Facet::Year {
            counts.iter().rev().take(FACET_VALUES_SHOWN).collect()
        } else {
            counts.iter().take(FACET_VALUES_SHOWN).collect()
        };
        let values: Vec<FacetValueView> = ordered
            .into_iter()
            .filter(|c| c.count > 0)
            .map(|c| {
                let pair = (f, c.value.clone());
                let active = p.filters.contains(&pair);
                let mut with = p.filters.clone();
                if !active {
                    with.push(pair);
                }
                FacetValueView {
                    label: value_label(state, f, &c.value, Some(&c.label)),
                    count: c.count,
                    url: p.url("/search", &with, None),
                    active,
                }
            })
            .collect();
        if !values.is_empty() {
            facets.push(FacetView { name: f.as_str(), label: facet_label(f), values });
        }
    }
    facets
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], value.to_string()).into_response()
}

/// `/api/search`: the search page's results as JSON.
///
/// The same query language as `/search` (words, "phrases", field:value,
/// AND, OR, NOT), facet filters by name (`type=article`, `year=2014`,
/// `subject=...`, `creator=...`), `sort` and a `cursor` for the next page;
/// each hit with its citation line and address, and the facets' counts.
#[utoipa::path(get, path = "/api/search", tag = "search",
    params(("q" = Option<String>, Query, description = "The query"),
        ("sort" = Option<String>, Query, description = "relevance, newest, oldest, title"),
        ("cursor" = Option<String>, Query, description = "The next page: the `next` address carries it"),
        ("size" = Option<u32>, Query, description = "Hits per page")),
    responses((status = 200, description = "Hits, facets and the next page's address", body = Object),
        (status = "default", description = "A problem (RFC 9457)", body = crate::api::Problem, content_type = "application/problem+json")),
    security((), ("bearer" = [])))]
pub async fn api(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    let p = Params::read(&pairs(query));
    let Some(results) = run(&state, p.request()).await? else {
        return Ok(json(
            StatusCode::SERVICE_UNAVAILABLE,
            &serde_json::json!({ "error": "Search is not available at the moment." }),
        ));
    };
    let found = records(&state, &results).await?;
    let mut value = serde_json::to_value(&results)?;
    if let Some(hits) = value.get_mut("hits").and_then(|h| h.as_array_mut()) {
        hits.retain_mut(|hit| {
            let Some(id) = hit.get("id").and_then(|i| i.as_i64()) else { return false };
            let Some(r) = found.get(&(id as RecordId)) else { return false };
            if let Some(obj) = hit.as_object_mut() {
                obj.insert("citation".into(), state.repo.citation(r).to_string().into());
                obj.insert("url".into(), state.repo.record_url(r).into());
            }
            true
        });
    }
    if let (Some(obj), Some(c)) = (value.as_object_mut(), results.next_cursor.as_deref()) {
        obj.insert("next".into(), p.url("/api/search", &p.filters, Some(c)).into());
    }
    Ok(json(StatusCode::OK, &value))
}

#[derive(Serialize)]
struct TypeOption {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct AdvancedPage {
    nav: &'static str,
    types: Vec<TypeOption>,
}

/// Words for `field:(...)`: parentheses would end the group early, so they
/// become spaces; an unbalanced quote is dropped.
fn group_words(s: &str) -> String {
    let mut t: String = s.chars().map(|c| if c == '(' || c == ')' || c.is_control() { ' ' } else { c }).collect();
    if t.matches('"').count() % 2 == 1 {
        t = t.replace('"', " ");
    }
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn year(s: Option<&String>) -> Option<i64> {
    s.and_then(|v| v.trim().parse::<i64>().ok()).filter(|y| (0..=9999).contains(y))
}

/// The query the advanced form's fields stand for (empty: none filled in).
pub fn advanced_query(fields: &HashMap<String, String>) -> String {
    let mut parts = Vec::new();
    for name in ["title", "creator", "abstract", "subject", "series"] {
        if let Some(v) = fields.get(name) {
            let words = group_words(&cut(v, 1000));
            if !words.is_empty() {
                parts.push(format!("{name}:({words})"));
            }
        }
    }
    if let Some(t) = fields.get("type").map(|t| t.trim()) {
        if !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
            parts.push(format!("type:{t}"));
        }
    }
    match (year(fields.get("year_from")), year(fields.get("year_to"))) {
        (Some(a), Some(b)) => parts.push(format!("year:{}..{}", a.min(b), a.max(b))),
        (Some(a), None) => parts.push(format!("year:{a}..")),
        (None, Some(b)) => parts.push(format!("year:..{b}")),
        (None, None) => {}
    }
    parts.join(" ")
}

/// `/search/advanced`: a field per searchable field; once filled in, the
/// query they make is searched (`/search?q=...`).
pub async fn advanced(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    let mut fields = HashMap::new();
    for (k, v) in pairs(query) {
        fields.entry(k).or_insert(v);
    }
    let q = advanced_query(&fields);
    if !q.is_empty() {
        let location = format!("/search?q={}", query_value(&q));
        if let Ok(v) = HeaderValue::from_str(&location) {
            return Ok((StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response());
        }
    }
    let types =
        state.repo.types().iter().map(|(k, l)| TypeOption { value: k.to_string(), label: l.to_string() }).collect();
    state.page(StatusCode::OK, "search_advanced.html", AdvancedPage { nav: "search", types })
}

/// `/opensearch.xml`: an OpenSearch 1.1 description of the site's search.
pub async fn opensearch(State(state): State<AppState>) -> Response {
    let r = state.repo.settings();
    let base = state.repo.base_url();
    let short: String = r.name.chars().take(16).collect();
    let description =
        if r.description.trim().is_empty() { format!("Search {}", r.name) } else { cut(&r.description, 1000) };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <OpenSearchDescription xmlns=\"http://a9.com/-/spec/opensearch/1.1/\">\n\
         \x20 <ShortName>{short}</ShortName>\n\
         \x20 <LongName>{long}</LongName>\n\
         \x20 <Description>{description}</Description>\n\
         \x20 <InputEncoding>UTF-8</InputEncoding>\n\
         \x20 <OutputEncoding>UTF-8</OutputEncoding>\n\
         \x20 <Image height=\"16\" width=\"16\" type=\"image/svg+xml\">{base}/static/favicon.svg</Image>\n\
         \x20 <Url type=\"text/html\" method=\"get\" template=\"{base}/search?q={{searchTerms}}\"/>\n\
         \x20 <Url type=\"application/json\" method=\"get\" template=\"{base}/api/search?q={{searchTerms}}\"/>\n\
         </OpenSearchDescription>\n",
        short = xml_escape(&short),
        long = xml_escape(&cut(&r.name, 48)),
        description = xml_escape(&description),
        base = xml_escape(base),
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/opensearchdescription+xml")),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_keep_bold_and_nothing_else() {
        assert_eq!(safe_snippet("a <b>Russia</b> &amp; &lt;x&gt;"), "a <b>Russia</b> &amp; &lt;x&gt;");
        assert_eq!(
            safe_snippet("<script>x</script> <b onclick=1>"),
            "&lt;script&gt;x&lt;/script&gt; &lt;b onclick=1&gt;"
        );
        assert_eq!(safe_snippet("R & D \"q\" &#39; &;"), "R &amp; D &quot;q&quot; &#39; &amp;;");
        assert_eq!(safe_snippet("é<b>ж</b>&"), "é<b>ж</b>&amp;");
    }

    #[test]
    fn parameters_are_read_leniently() {
        let pairs: Vec<(String, String)> = [
            ("q", "a b"),
            ("type", "article"),
            ("type", "article"),
            ("bogus", "x"),
            ("sort", "sideways"),
            ("year", "2010..2014"),
            ("cursor", ""),
            ("size", "-3"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        let p = Params::read(&pairs);
        assert_eq!(p.q, "a b");
        assert_eq!(p.filters, vec![(Facet::Type, "article".into()), (Facet::Year, "2010..2014".into())]);
        assert_eq!(p.sort, Sort::Relevance);
        assert_eq!(p.cursor, None);
        assert_eq!(p.size, 0);
        assert_eq!(p.url("/search", &p.filters, None), "/search?q=a%20b&type=article&year=2010..2014");
    }

    #[test]
    fn the_advanced_form_builds_a_query() {
        let f = |pairs: &[(&str, &str)]| -> String {
            advanced_query(&pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect())
        };
        assert_eq!(
            f(&[
                ("title", "integration (Russia"),
                ("creator", "Jaroslewlcz"),
                ("year_from", "2014"),
                ("year_to", "2010")
            ]),
            "title:(integration Russia) creator:(Jaroslewlcz) year:2010..2014"
        );
        assert_eq!(f(&[("type", "policy_paper"), ("year_to", "2000")]), "type:policy_paper year:..2000");
        assert_eq!(f(&[("type", "x y"), ("year_from", "abc"), ("title", "  ")]), "");
        assert_eq!(f(&[("abstract", "\"less love")]), "abstract:(less love)");
    }
}
