//! What a search asks and what it answers: plain data, serializable, so a
//! web handler can read a request from a query string and write results as
//! JSON without wrapping anything.

use arkiv_model::RecordId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A facet: a dimension results are counted and filtered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Facet {
    /// Item type key (`policy_paper`).
    Type,
    /// Year of the record's date: counts per year form a histogram; a filter
    /// value is a year or a range (`2010..2014`).
    Year,
    /// Subject id; a filter also matches the subject's descendants, and the
    /// counts are those of the children of the deepest subject filtered on
    /// (the top level when none): drilling down the tree.
    Subject,
    /// Creator as "Family, Given", or a corporate creator's name.
    Creator,
    Series,
    /// ISO 639 code as the record has it.
    Language,
    /// `yes` or `no`: whether text of a public document is indexed.
    FullText,
    /// Division id; a filter also matches the division's descendants, and
    /// the counts are per division, ancestors included.
    Division,
}

impl Facet {
    pub const ALL: [Facet; 8] = [
        Facet::Type,
        Facet::Year,
        Facet::Subject,
        Facet::Division,
        Facet::Creator,
        Facet::Series,
        Facet::Language,
        Facet::FullText,
    ];

    /// The name used in URLs and JSON (`type`, `year`, ..., `full_text`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Facet::Type => "type",
            Facet::Year => "year",
            Facet::Subject => "subject",
            Facet::Creator => "creator",
            Facet::Series => "series",
            Facet::Language => "language",
            Facet::FullText => "full_text",
            Facet::Division => "division",
        }
    }

    pub fn parse(s: &str) -> Option<Facet> {
        Facet::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }

    /// How many values are returned at most.
    pub fn max_values(&self) -> usize {
        match self {
            Facet::Year => 1000,
            Facet::Creator | Facet::Series => 25,
            _ => 100,
        }
    }
}

/// The order of hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Best match first. An empty query has no relevance: it sorts newest.
    #[default]
    Relevance,
    /// By the record's date, latest first; undated records last.
    Newest,
    /// By the record's date, earliest first; undated records last.
    Oldest,
    /// By title, A to Z (folded, case-insensitive).
    Title,
}

impl Sort {
    pub fn as_str(&self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
            Sort::Title => "title",
        }
    }

    pub fn parse(s: &str) -> Option<Sort> {
        [Sort::Relevance, Sort::Newest, Sort::Oldest, Sort::Title].into_iter().find(|x| x.as_str() == s.trim())
    }
}

/// Where the next page starts: after the hit with this sort key and id. Its
/// text form ([`Cursor::encode`]) is opaque to visitors and put in URLs; a
/// cursor that does not decode is ignored with a warning (first page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    /// Ascending position key under the request's sort.
    pub key: u64,
    pub id: u64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{:x}-{:x}", self.key, self.id)
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let (k, i) = s.trim().split_once('-')?;
        if k.len() > 16 || i.len() > 16 {
            return None;
        }
        Some(Cursor { key: u64::from_str_radix(k, 16).ok()?, id: u64::from_str_radix(i, 16).ok()? })
    }
}

/// Hits per page by default and at most.
pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;

/// A search.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SearchRequest {
    /// What the visitor typed; anything goes (see [`crate::query`]).
    pub query: String,
    /// Facet filters, all of which must hold.
    #[serde(default)]
    pub filters: Vec<(Facet, String)>,
    #[serde(default)]
    pub sort: Sort,
    /// From [`SearchResults::next_cursor`]; `None` for the first page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Hits per page; 0 means [`DEFAULT_PAGE_SIZE`], capped at [`MAX_PAGE_SIZE`].
    #[serde(default)]
    pub page_size: usize,
    /// Whether the visitor may read restricted documents. Only the text of
    /// public, unembargoed documents is indexed today, so every full-text
    /// snippet is readable by anyone; the flag is kept so handlers pass it
    /// already when restricted text is indexed.
    #[serde(default)]
    pub can_read_restricted: bool,
    /// Skip counting facets (cheaper, e.g. for an API call that wants hits).
    #[serde(default)]
    pub no_facets: bool,
}

impl SearchRequest {
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest { query: query.into(), ..Default::default() }
    }
}

/// A highlighted passage: HTML-escaped text with matches in `<b>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippet {
    /// `title`, `abstract` or `fulltext`.
    pub field: String,
    pub html: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    pub id: RecordId,
    /// Relevance score (0 when sorting by something else than relevance and
    /// the query is empty).
    pub score: f32,
    /// Highlighted passages, title first; only fields with a match.
    pub snippets: Vec<Snippet>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    /// The value as a filter takes it.
    pub value: String,
    /// For subjects: the subject's name; otherwise the value.
    pub label: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// Records matching the query and filters.
    pub total: u64,
    pub hits: Vec<Hit>,
    /// Counts per value, for the records matching query and filters. Years
    /// in year order; the others by count, highest first.
    pub facets: BTreeMap<Facet, Vec<FacetCount>>,
    /// `None` on the last page.
    pub next_cursor: Option<String>,
    /// For the visitor: how the query was read, if not as typed.
    pub warnings: Vec<String>,
}
