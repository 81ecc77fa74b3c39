//! Presentation: the small conversions from model values to what a page
//! shows (sizes, dates, citation parts) and the site's URL scheme.
//!
//! Templates get plain strings from here rather than model types, so an
//! installation's own templates need no Rust knowledge, and every URL the
//! site prints is built (and percent-encoded) in one place. The view models
//! of whole pages live in submodules (`record`: the abstract page and the
//! tombstone).

pub mod record;
pub(crate) mod usage;

use arkiv_model::date::month_name;
use arkiv_model::{BrowseView, Document, PartialDate, Record, RecordId, Timestamp};
use arkiv_services::Repository;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Serialize;

/// Characters left bare in a path segment: RFC 3986's unreserved set.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Characters left bare in a query value.
const QUERY: &AsciiSet = SEGMENT;

/// One path segment, percent-encoded. `.` and `..` are encoded too, so a
/// segment can never be read as a step up the path.
pub fn segment(s: &str) -> String {
    if s == "." || s == ".." {
        return s.replace('.', "%2E");
    }
    utf8_percent_encode(s, SEGMENT).to_string()
}

pub fn query_value(s: &str) -> String {
    utf8_percent_encode(s, QUERY).to_string()
}

pub fn record_path(id: RecordId) -> String {
    format!("/{id}/")
}

pub fn download_path(id: RecordId, pos: u32, filename: &str) -> String {
    format!("/{id}/{pos}/{}", segment(filename))
}

pub fn view_path(view: BrowseView) -> String {
    format!("/view/{}/", view.as_str())
}

pub fn value_path(view: BrowseView, value: &str) -> String {
    format!("/view/{}/{}.html", view.as_str(), segment(value))
}

/// A citation line in its three parts, with the record's address, so a
/// template can link or emphasise the title and keep the text identical.
#[derive(Debug, Clone, Serialize)]
pub struct CiteView {
    pub id: RecordId,
    pub url: String,
    pub lead: String,
    pub title: String,
    pub tail: String,
}

pub fn cite(repo: &Repository, record: &Record) -> CiteView {
    let c = repo.citation(record);
    let id = record.id.unwrap_or(0);
    CiteView { id, url: record_path(id), lead: c.lead, title: c.title, tail: c.tail }
}

/// "1.4 MB": decimal units, as operating systems show file sizes.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// "29 May 2014", "May 2014" or "2014": never more precise than the data.
pub fn date_label(d: PartialDate) -> String {
    match (d.month, d.day) {
        (Some(m), Some(day)) => format!("{day} {} {:04}", month_name(m), d.year),
        (Some(m), None) => format!("{} {:04}", month_name(m), d.year),
        _ => format!("{:04}", d.year),
    }
}

/// "29 May 2014" (UTC).
pub fn day_label(t: Timestamp) -> String {
    match t.day().parse::<PartialDate>() {
        Ok(d) => date_label(d),
        Err(_) => t.day(),
    }
}

/// "29 May 2014 10:03" (UTC).
pub fn timestamp_label(t: Timestamp) -> String {
    let s = t.to_eprints();
    let day: PartialDate = match s[..10].parse() {
        Ok(d) => d,
        Err(_) => return s,
    };
    format!("{} {}", date_label(day), &s[11..16])
}

/// An address worth linking: only http(s), so a stored `javascript:` URL
/// stays text.
pub fn safe_link(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")).then(|| url.to_string())
}

/// The DOI as a resolver link.
pub fn doi_link(doi: &str) -> Option<String> {
    let doi = doi.trim();
    let bare = doi
        .strip_prefix("https://doi.org/")
        .or_else(|| doi.strip_prefix("http://dx.doi.org/"))
        .or_else(|| doi.strip_prefix("doi:"))
        .unwrap_or(doi);
    bare.starts_with("10.").then(|| format!("https://doi.org/{}", bare))
}

/// What kind of file a document is, in words: "PDF", or the format given.
pub fn format_label(doc: &Document) -> String {
    if let Some(d) = doc.format_description.as_deref().filter(|d| !d.trim().is_empty()) {
        return d.trim().to_string();
    }
    let mime = doc.mime_type.as_deref().or(doc.main_file().and_then(|f| f.mime_type.as_deref()));
    let format = doc.format.as_deref().or(mime).unwrap_or("other");
    match format {
        "application/pdf" | "pdf" => "PDF".into(),
        "text" | "text/plain" => "Text".into(),
        "text/html" | "html" => "HTML".into(),
        "image" => "Image".into(),
        "video" => "Video".into(),
        "audio" => "Audio".into(),
        "archive" | "application/zip" => "Archive".into(),
        "slideshow" => "Slideshow".into(),
        "spreadsheet" => "Spreadsheet".into(),
        "other" => "Other".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1000), "1.0 kB");
        assert_eq!(human_size(1_400_000), "1.4 MB");
        assert_eq!(human_size(25_000_000), "25 MB");
        assert_eq!(human_size(999_999), "1.0 MB");
        assert_eq!(human_size(u64::MAX), "18447 PB");
    }

    #[test]
    fn dates_keep_their_precision() {
        assert_eq!(date_label("2014-05-29".parse().unwrap()), "29 May 2014");
        assert_eq!(date_label("2014-05".parse().unwrap()), "May 2014");
        assert_eq!(date_label("2014".parse().unwrap()), "2014");
        assert_eq!(timestamp_label(Timestamp::parse("2010-09-17 23:03:48").unwrap()), "17 September 2010 23:03");
    }

    #[test]
    fn urls_are_encoded_and_never_climb() {
        assert_eq!(download_path(7, 1, "a b/ü.pdf"), "/7/1/a%20b%2F%C3%BC.pdf");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(value_path(BrowseView::Creator, "Doe, Jane"), "/view/creator/Doe%2C%20Jane.html");
    }

    #[test]
    fn only_web_links_are_linked() {
        assert_eq!(safe_link(" https://x.org/a "), Some("https://x.org/a".into()));
        assert_eq!(safe_link("javascript:alert(1)"), None);
        assert_eq!(safe_link("HTTP://X"), Some("HTTP://X".into()));
        assert_eq!(doi_link("doi:10.1/x"), Some("https://doi.org/10.1/x".into()));
        assert_eq!(doi_link("nonsense"), None);
    }
}
