//! Starting a deposit from what the depositor already has: a DOI in any
//! common form (`10.1234/abc`, `doi:10.1234/abc`, `https://doi.org/…`,
//! `https://dx.doi.org/…`), a BibTeX entry or a RIS record, pasted into one
//! box of the deposit form.
//!
//! A DOI is asked of Crossref (`{crossref_url}/works/{doi}`) and, when
//! Crossref does not know it (404), of DataCite (`{datacite_url}/dois/{doi}`).
//! Each answer is bounded ([`MAX_ANSWER_BYTES`]) and timed (`[doi]
//! timeout_seconds`), and whatever goes wrong is one [`LookupError`] whose
//! words a depositor understands. Pasted text is read by the importers'
//! readers; only its first record is used.
//!
//! Nothing here writes: [`DoiLookup::lookup`] returns the record the input
//! describes, and [`form_fill`] what of it the deposit form can show. The
//! draft changes only when the depositor saves the form.
//!
//! An outbound client, not an interface (as `fetch.rs`): the services
//! layer serves no HTTP, but it may ask another service.

use crate::config::DoiSettings;
use crate::workflow::metadata::{form_fields, form_values};
use arkiv_formats::{ImportedRecord, ReadItem};
use arkiv_model::ItemTypes;
use futures::StreamExt;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::io::Cursor;
use std::sync::LazyLock;
use std::time::Duration;

/// Largest answer read from Crossref or DataCite (a work with thousands of
/// references is a few hundred KiB).
pub const MAX_ANSWER_BYTES: usize = 4 << 20;

/// Where a record came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Crossref { doi: String },
    DataCite { doi: String },
    Bibtex,
    Ris,
}

impl Source {
    /// "Crossref (DOI 10.1234/abc)", "the BibTeX entry pasted".
    pub fn describe(&self) -> String {
        match self {
            Source::Crossref { doi } => format!("Crossref (DOI {doi})"),
            Source::DataCite { doi } => format!("DataCite (DOI {doi})"),
            Source::Bibtex => "the BibTeX entry pasted".into(),
            Source::Ris => "the RIS record pasted".into(),
        }
    }
}

/// A record found for what was pasted.
#[derive(Debug, Clone)]
pub struct Found {
    pub imported: ImportedRecord,
    pub source: Source,
    /// What the depositor should know of the lookup itself ("only the
    /// first of 3 records was used").
    pub notes: Vec<String>,
}

/// Why nothing was found, in the depositor's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("Paste a DOI, a BibTeX entry or a RIS record first.")]
    Empty,
    #[error(
        "This is not recognised as a DOI (10.1234/abc, doi:10.1234/abc or https://doi.org/10.1234/abc), \
         a BibTeX entry (@article{{…}}) or a RIS record (TY  - …)."
    )]
    NotRecognised,
    #[error(
        "Neither Crossref nor DataCite knows the DOI {doi}. Check it for typing errors, or fill in the form by hand."
    )]
    NotFound { doi: String },
    #[error("{service} is not answering properly (HTTP {status}); try again later.")]
    ServiceFailed { service: &'static str, status: u16 },
    #[error("{service} refused to look up the DOI {doi} (HTTP {status}).")]
    Refused { service: &'static str, doi: String, status: u16 },
    #[error("{service} did not answer within {seconds} seconds; try again later.")]
    Timeout { service: &'static str, seconds: u64 },
    #[error("The lookup could not reach {host}: {cause}. Try again later.")]
    Unreachable { host: String, cause: String },
    #[error("{service}'s answer for the DOI {doi} could not be read: {why}.")]
    BadAnswer { service: &'static str, doi: String, why: String },
    #[error("The {format} could not be read: {why}.")]
    Unreadable { format: &'static str, why: String },
}

/// What a depositor pasted, recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pasted<'a> {
    Doi(String),
    Bibtex(&'a str),
    Ris(&'a str),
}

/// The DOI in `input`, in its bare form (`10.1234/abc`), if `input` is one
/// DOI in any common form: bare, `doi:`, `info:doi/`, or a `doi.org` or
/// `dx.doi.org` address (percent-decoded). The case is kept: DOIs are
/// case-insensitive, and the services answer either.
pub fn normalise_doi(input: &str) -> Option<String> {
    let s = input.trim();
    if s.is_empty() {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let mut doi = s.to_string();
    let url_prefixes = ["https://", "http://", ""];
    let hosts = ["doi.org/", "dx.doi.org/", "www.doi.org/"];
    'found: {
        for scheme in url_prefixes {
            for host in hosts {
                let prefix = format!("{scheme}{host}");
                if lower.starts_with(&prefix) {
                    doi = percent_decode_str(&s[prefix.len()..]).decode_utf8().ok()?.into_owned();
                    break 'found;
                }
            }
        }
        for prefix in ["doi:", "info:doi/"] {
            if lower.starts_with(prefix) {
                doi = s[prefix.len()..].trim_start().to_string();
                break 'found;
            }
        }
    }
    let (prefix, suffix) = doi.split_once('/')?;
    let registrant = prefix.strip_prefix("10.")?;
    let first = registrant.split('.').next().unwrap_or("");
    let valid_registrant = first.len() >= 4
        && registrant.split('.').all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    let valid_suffix = !suffix.is_empty() && !suffix.chars().any(|c| c.is_whitespace() || c.is_control());
    (valid_registrant && valid_suffix).then_some(doi)
}

static BIBTEX_START: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"(?m)^[ \t]*@[A-Za-z]+[ \t]*[{(]").expect("a valid pattern"));
static RIS_START: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"(?m)^[ \t]*TY[ \t]*-").expect("a valid pattern"));

/// What `input` is: a DOI (one token), or else BibTeX or RIS, whichever
/// starts first; `None` for anything else.
pub fn recognise(input: &str) -> Option<Pasted<'_>> {
    if let Some(doi) = normalise_doi(input) {
        return Some(Pasted::Doi(doi));
    }
    let bibtex = BIBTEX_START.find(input).map(|m| m.start());
    let ris = RIS_START.find(input).map(|m| m.start());
    match (bibtex, ris) {
        (Some(b), Some(r)) if r < b => Some(Pasted::Ris(input)),
        (Some(_), _) => Some(Pasted::Bibtex(input)),
        (None, Some(_)) => Some(Pasted::Ris(input)),
        (None, None) => None,
    }
}

/// Looks up DOIs and reads pasted records; one per request is fine (the
/// client is cheap beside the lookup).
pub struct DoiLookup {
    client: reqwest::Client,
    settings: DoiSettings,
    timeout: Duration,
}

impl DoiLookup {
    pub fn new(settings: &DoiSettings) -> Result<DoiLookup, String> {
        let timeout = Duration::from_secs(settings.timeout_seconds.max(1));
        let mailto = settings.mailto.trim();
        let agent = if mailto.is_empty() {
            format!("Arkiv/{} (DOI lookup)", env!("CARGO_PKG_VERSION"))
        } else {
            format!("Arkiv/{} (DOI lookup; mailto:{mailto})", env!("CARGO_PKG_VERSION"))
        };
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(agent)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| format!("cannot start the HTTP client: {e}"))?;
        Ok(DoiLookup { client, settings: settings.clone(), timeout })
    }

    /// The record `input` describes, and where it came from.
    pub async fn lookup(&self, input: &str, types: &ItemTypes) -> Result<Found, LookupError> {
        if input.trim().is_empty() {
            return Err(LookupError::Empty);
        }
        match recognise(input).ok_or(LookupError::NotRecognised)? {
            Pasted::Doi(doi) => self.lookup_doi(&doi, types).await,
            Pasted::Ris(text) => {
                let items = arkiv_formats::ris::RisReader::with_types(Cursor::new(text.as_bytes()), types.clone());
                let (imported, notes) = first_record(items, "RIS record")?;
                Ok(Found { imported, source: Source::Ris, notes })
            }
            Pasted::Bibtex(text) => {
                let items =
                    arkiv_formats::bibtex::BibtexReader::with_types(Cursor::new(text.as_bytes()), types.clone());
                let (imported, notes) = first_record(items, "BibTeX entry")?;
                Ok(Found { imported, source: Source::Bibtex, notes })
            }
        }
    }

    /// Crossref first; DataCite when Crossref says 404.
    pub async fn lookup_doi(&self, doi: &str, types: &ItemTypes) -> Result<Found, LookupError> {
        let mut url = format!("{}/works/{}", self.settings.crossref_url.trim_end_matches('/'), encode_doi(doi));
        let mailto = self.settings.mailto.trim();
        if !mailto.is_empty() {
            url.push_str("?mailto=");
            url.extend(utf8_percent_encode(mailto, NON_ALPHANUMERIC));
        }
        if let Some(body) = self.get("Crossref", &url, doi).await? {
            let imported = read_answer("Crossref", doi, &body, |json| arkiv_formats::crossref::read_work(json, types))?;
            return Ok(Found { imported, source: Source::Crossref { doi: doi.to_string() }, notes: Vec::new() });
        }
        let url = format!("{}/dois/{}", self.settings.datacite_url.trim_end_matches('/'), encode_doi(doi));
        match self.get("DataCite", &url, doi).await? {
            Some(body) => {
                let imported =
                    read_answer("DataCite", doi, &body, |json| arkiv_formats::datacite_json::read_doi(json, types))?;
                Ok(Found { imported, source: Source::DataCite { doi: doi.to_string() }, notes: Vec::new() })
            }
            None => Err(LookupError::NotFound { doi: doi.to_string() }),
        }
    }

    /// The body of a successful answer, `None` for a 404, bounded in time
    /// (connection to last byte) and size.
    async fn get(&self, service: &'static str, url: &str, doi: &str) -> Result<Option<Vec<u8>>, LookupError> {
        let seconds = self.timeout.as_secs();
        let timeout = LookupError::Timeout { service, seconds };
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                LookupError::Timeout { service, seconds }
            } else {
                LookupError::Unreachable { host: host_of(url), cause: root_cause(&e) }
            }
        };
        let work = async {
            let res = self
                .client
                .get(url)
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(transport)?;
            let status = res.status();
            if status == reqwest::StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                return Err(LookupError::ServiceFailed { service, status: status.as_u16() });
            }
            if !status.is_success() {
                return Err(LookupError::Refused { service, doi: doi.to_string(), status: status.as_u16() });
            }
            let too_large = || LookupError::BadAnswer {
                service,
                doi: doi.to_string(),
                why: format!("it is larger than {} MiB", MAX_ANSWER_BYTES >> 20),
            };
            if res.content_length().is_some_and(|n| n > MAX_ANSWER_BYTES as u64) {
                return Err(too_large());
            }
            let mut body = Vec::new();
            let mut stream = res.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(transport)?;
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Some(body))
        };
        tokio::time::timeout(self.timeout, work).await.unwrap_or(Err(timeout))
    }
}

/// A service's answer as a record: JSON first, then the reader's mapping.
fn read_answer(
    service: &'static str,
    doi: &str,
    body: &[u8],
    read: impl FnOnce(&[u8]) -> Result<ImportedRecord, arkiv_formats::RecordError>,
) -> Result<ImportedRecord, LookupError> {
    let bad = |why: String| LookupError::BadAnswer { service, doi: doi.to_string(), why };
    serde_json::from_slice::<serde::de::IgnoredAny>(body).map_err(|e| bad(format!("it is not JSON ({e})")))?;
    let mut imported = read(body).map_err(|e| bad(e.message))?;
    if imported.record.doi.as_deref().is_none_or(|d| d.trim().is_empty()) {
        imported.record.doi = Some(doi.to_string());
    }
    Ok(imported)
}

/// The first record a reader yields, and a note if there were more (or
/// broken ones before it).
fn first_record(
    items: impl Iterator<Item = ReadItem>,
    format: &'static str,
) -> Result<(ImportedRecord, Vec<String>), LookupError> {
    let mut found = None;
    let mut first_error = None;
    let mut records = 0usize;
    let mut skipped = 0usize;
    // The form body is bounded (64 KiB), so this is a few hundred items at most.
    for item in items {
        match item.result {
            Ok(imported) => {
                records += 1;
                if found.is_none() {
                    found = Some(imported);
                }
            }
            Err(e) => {
                if found.is_none() {
                    skipped += 1;
                    if first_error.is_none() {
                        first_error = Some(e.message);
                    }
                }
            }
        }
    }
    let Some(imported) = found else {
        let why = first_error.unwrap_or_else(|| "no record was found in it".into());
        return Err(LookupError::Unreadable { format, why });
    };
    let mut notes = Vec::new();
    if records > 1 {
        notes.push(format!("The text holds {records} records; only the first was used."));
    }
    if skipped > 0 {
        let first_error = first_error.unwrap_or_default();
        notes.push(format!("{skipped} record(s) before it could not be read ({first_error})."));
    }
    Ok((imported, notes))
}

/// A DOI as a path: `/` kept (both services take it as it is), the rest
/// of what is not unreserved percent-encoded.
fn encode_doi(doi: &str) -> String {
    const PATH: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');
    utf8_percent_encode(doi, PATH).to_string()
}

/// `api.crossref.org`, or `127.0.0.1:8080` with a port given.
fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => url.to_string(),
        },
        Err(_) => url.to_string(),
    }
}

/// The innermost error's words (reqwest's own say only "error sending
/// request").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// What of a found record the deposit form can show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormFill {
    /// The item type to show the form for: the record's, if the repository
    /// knows it, else the draft's.
    pub item_type: String,
    /// Form values to show in place of the draft's, by field name; fields
    /// not named keep the draft's values.
    pub values: Vec<(String, String)>,
    /// The labels of the fields filled in.
    pub filled: Vec<String>,
    /// What the record holds that the form could not take.
    pub not_carried: Vec<String>,
}

/// The deposit form's values from a found record, for a draft of type
/// `draft_type`.
pub fn form_fill(found: &Found, draft_type: &str, types: &ItemTypes) -> FormFill {
    let record = &found.imported.record;
    let mut filled = Vec::new();
    let mut not_carried = Vec::new();
    let item_type = if types.contains(&record.item_type) {
        filled.push(format!("Item type ({})", types.label(&record.item_type)));
        record.item_type.clone()
    } else {
        if !record.item_type.is_empty() {
            not_carried.push(format!("the item type {:?}, which this repository does not have", record.item_type));
        }
        draft_type.to_string()
    };
    let fields = form_fields(&item_type);
    let mut values = Vec::new();
    for (name, value) in form_values(record) {
        if value.trim().is_empty() {
            continue;
        }
        match fields.iter().find(|f| f.name == name) {
            Some(f) => {
                filled.push(f.label.to_string());
                values.push((name.to_string(), value));
            }
            None => {
                let label = field_label(name);
                let shown: String = value.lines().next().unwrap_or("").chars().take(80).collect();
                not_carried.push(format!("{label}: {shown} (the form for this type has no such field)"));
            }
        }
    }
    // The form's order, not the map's.
    filled.sort_by_key(|label| {
        fields.iter().position(|f| f.label == label.as_str()).map_or(0, |p| p + 1)
        // the item type first
    });
    let names = |people: usize, what: &str| (people > 0).then(|| format!("{people} {what}"));
    if let Some(n) = names(record.editors.len(), "editor(s)") {
        not_carried.push(n);
    }
    if let Some(n) = names(record.contributors.len(), "contributor(s)") {
        not_carried.push(n);
    }
    if !found.imported.files.is_empty() {
        not_carried.push(format!(
            "links to {} file(s), which are not fetched: upload the files below",
            found.imported.files.len()
        ));
    }
    if !found.imported.unmapped.is_empty() {
        not_carried.push(format!("what no field takes: {}", found.imported.unmapped.join(", ")));
    }
    not_carried.extend(found.imported.warnings.iter().cloned());
    FormFill { item_type, values, filled, not_carried }
}

/// A field's label on any type's form.
fn field_label(name: &str) -> &str {
    ["article", "book", "book_section", "thesis", "conference_item", "monograph", "report", "other"]
        .iter()
        .flat_map(|t| form_fields(t))
        .find(|f| f.name == name)
        .map_or(name, |f| f.label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dois_are_recognised_in_every_common_form() {
        let want = Some("10.7554/eLife.01567".to_string());
        for input in [
            "10.7554/eLife.01567",
            "  10.7554/eLife.01567\n",
            "doi:10.7554/eLife.01567",
            "DOI: 10.7554/eLife.01567",
            "info:doi/10.7554/eLife.01567",
            "https://doi.org/10.7554/eLife.01567",
            "http://doi.org/10.7554/eLife.01567",
            "HTTPS://DOI.ORG/10.7554/eLife.01567",
            "https://dx.doi.org/10.7554/eLife.01567",
            "http://dx.doi.org/10.7554/eLife.01567",
            "doi.org/10.7554/eLife.01567",
            "https://doi.org/10.7554%2FeLife.01567",
        ] {
            assert_eq!(normalise_doi(input), want, "{input:?}");
        }
        assert_eq!(normalise_doi("10.1002/(SICI)1097-4636").as_deref(), Some("10.1002/(SICI)1097-4636"));
        assert_eq!(normalise_doi("10.1000.10/123").as_deref(), Some("10.1000.10/123"));
    }

    #[test]
    fn what_is_not_a_doi_is_refused() {
        for input in [
            "",
            "hello",
            "10.7554",
            "10.7554/",
            "11.7554/x",
            "10.12/x",
            "10.abcd/x",
            "10.7554/eLife 01567",
            "https://example.org/10.7554/eLife.01567",
            "doi:",
        ] {
            assert_eq!(normalise_doi(input), None, "{input:?}");
        }
    }

    #[test]
    fn pasted_text_is_told_apart() {
        assert_eq!(recognise("doi:10.1234/abc"), Some(Pasted::Doi("10.1234/abc".into())));
        let bib = "% from Zotero\n@article{key2020,\n  title = {A title},\n}\n";
        assert_eq!(recognise(bib), Some(Pasted::Bibtex(bib)));
        let ris = "TY  - JOUR\nTI  - A title\nER  - \n";
        assert_eq!(recognise(ris), Some(Pasted::Ris(ris)));
        let ris_mentioning_bibtex = "TY  - JOUR\nAB  - about\n@misc{x,\nER  - \n";
        assert_eq!(recognise(ris_mentioning_bibtex), Some(Pasted::Ris(ris_mentioning_bibtex)));
        assert_eq!(recognise("just some words about 10.1234/abc"), None);
        assert_eq!(recognise("lorem ipsum"), None);
    }

    #[test]
    fn dois_are_encoded_as_paths() {
        assert_eq!(encode_doi("10.7554/eLife.01567"), "10.7554/eLife.01567");
        assert_eq!(encode_doi("10.1002/(SICI)1097#4?x y"), "10.1002/%28SICI%291097%234%3Fx%20y");
        assert_eq!(host_of("https://api.crossref.org/works/x"), "api.crossref.org");
        assert_eq!(host_of("http://127.0.0.1:9/dois/x"), "127.0.0.1:9");
    }

    #[tokio::test]
    async fn pasted_ris_is_read_and_only_its_first_record_used() {
        let lookup = DoiLookup::new(&DoiSettings::default()).unwrap();
        let text = "TY  - JOUR\nTI  - First\nAU  - Doe, Jane\nPY  - 2020\nER  - \nTY  - JOUR\nTI  - Second\nER  - \n";
        let found = lookup.lookup(text, &ItemTypes::default()).await.unwrap();
        assert_eq!(found.source, Source::Ris);
        assert_eq!(found.imported.record.title, "First");
        assert!(found.notes.iter().any(|n| n.contains("only the first")), "{:?}", found.notes);
        let fill = form_fill(&found, "other", &ItemTypes::default());
        assert_eq!(fill.item_type, "article");
        assert!(fill.values.contains(&("title".into(), "First".into())), "{:?}", fill.values);
        assert!(fill.filled.contains(&"Title".to_string()), "{:?}", fill.filled);
    }

    #[tokio::test]
    async fn garbage_and_nothing_are_refused_without_asking_anyone() {
        let settings = DoiSettings { crossref_url: "http://127.0.0.1:1".into(), ..DoiSettings::default() };
        let lookup = DoiLookup::new(&settings).unwrap();
        let types = ItemTypes::default();
        assert_eq!(lookup.lookup("  \n", &types).await.unwrap_err(), LookupError::Empty);
        assert_eq!(lookup.lookup("no idea", &types).await.unwrap_err(), LookupError::NotRecognised);
    }
}
