//! What a record's abstract page and tombstone show, as the view models
//! their templates read: the metadata rows, the documents with their
//! access, licences, the citation. Pure functions of the record and the
//! repository's labels; the handler in `pages/record.rs` reads the store.

use crate::pages::landing;
use crate::present::{
    cite, date_label, day_label, doi_link, download_path, format_label, human_size, record_path, safe_link,
    timestamp_label, value_path, CiteView,
};
use crate::AppState;
use arkiv_formats::export::ExportContext;
use arkiv_model::{BrowseView, Record};
use arkiv_services::access::{restriction, Restriction};
use serde::Serialize;

/// One entry of a metadata row: text, linked where there is somewhere to go.
#[derive(Serialize)]
pub(crate) struct Item {
    pub(crate) text: String,
    pub(crate) url: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct Row {
    pub(crate) label: &'static str,
    pub(crate) items: Vec<Item>,
}

#[derive(Serialize)]
pub(crate) struct FileView {
    filename: String,
    url: Option<String>,
    size: String,
}

#[derive(Serialize)]
pub(crate) struct DocView {
    pos: u32,
    format: String,
    /// A short tag for the file icon: "PDF", "DOCX", or "FILE".
    badge: String,
    content: Option<String>,
    language: Option<String>,
    license: Option<Item>,
    /// Why the bytes cannot be had, in words; `None` if they can.
    restriction: Option<String>,
    /// Where to ask the depositor for a copy, for restricted documents.
    copy_url: Option<String>,
    main: Option<FileView>,
    others: Vec<FileView>,
}

#[derive(Serialize)]
pub(crate) struct AbstractPage {
    nav: &'static str,
    cite: CiteView,
    type_label: String,
    uri: String,
    documents: Vec<DocView>,
    abstract_paragraphs: Vec<String>,
    pub(crate) rows: Vec<Row>,
    /// What machines read: meta tags, JSON-LD, exports, COinS, the Cite box.
    landing: landing::Landing,
    login_url: String,
    actions: crate::pages::account::RecordActions,
    /// Downloads and views, when statistics are kept.
    pub(crate) usage: Option<super::usage::UsageView>,
}

pub(crate) fn abstract_ctx(
    state: &AppState,
    export: &ExportContext,
    record: &Record,
    revision: i64,
    style: Option<&str>,
    stored_citation: Option<arkiv_formats::export::styles::FormattedCitation>,
) -> AbstractPage {
    let repo = &state.repo;
    let id = record.id.unwrap_or(0);
    let today = repo.today();
    // Derived documents (EPrints' thumbnails and extracted text) are served
    // at their addresses but not listed: the reader chose none of them.
    let documents: Vec<DocView> =
        record.documents.iter().filter(|d| d.is_deposited()).map(|d| doc_view(id, d, today)).collect();
    AbstractPage {
        nav: "",
        cite: cite(repo, record),
        type_label: repo.types().label(&record.item_type).to_string(),
        uri: repo.record_url(record),
        documents,
        abstract_paragraphs: paragraphs(record.abstract_text.as_deref().unwrap_or("")),
        rows: rows(state, record),
        landing: landing::landing(export, record, revision, style, stored_citation),
        login_url: format!("/login?target={}", crate::present::query_value(&record_path(id))),
        actions: crate::pages::account::record_actions(record, revision),
        usage: None,
    }
}

/// Paragraphs of an abstract: split at blank lines, inner line breaks
/// folded into spaces (imports often wrap lines at 72 columns).
fn paragraphs(text: &str) -> Vec<String> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n").map(|p| p.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|p| !p.is_empty()).collect()
}

fn doc_view(id: i64, doc: &arkiv_model::Document, today: arkiv_model::PartialDate) -> DocView {
    let restricted = restriction(doc, today);
    let restriction_text = match restricted {
        None => None,
        Some(Restriction::Security(security)) => Some(format!("Restricted: {}", security.label().to_lowercase())),
        Some(Restriction::Embargo(until)) => Some(format!("Embargoed until {}", date_label(until))),
    };
    let file_view = |f: &arkiv_model::StoredFile| FileView {
        filename: f.filename.clone(),
        url: (restricted.is_none() && f.sha256.is_some()).then(|| download_path(id, doc.pos, &f.filename)),
        // A restricted file's size is not the public's to know (see
        // ARCHITECTURE.md, "What the public sees of a record").
        size: if restricted.is_none() { human_size(f.size) } else { String::new() },
    };
    let main = doc.main_file();
    let main_name = main.map(|f| f.filename.as_str());
    let format = format_label(doc);
    DocView {
        pos: doc.pos,
        badge: badge(&format, main_name.unwrap_or("")),
        format,
        content: doc.content.as_deref().map(content_label),
        language: doc.language.clone(),
        license: doc.license.as_deref().filter(|l| !l.trim().is_empty()).map(license_item),
        copy_url: restricted.is_some().then(|| format!("/copy-request/{id}/{}", doc.pos)),
        restriction: restriction_text
            .or_else(|| main.filter(|f| f.sha256.is_none()).map(|_| "File not held by the repository".to_string())),
        main: main.map(file_view),
        others: doc.files.iter().filter(|f| Some(f.filename.as_str()) != main_name).map(file_view).collect(),
    }
}

/// The icon's tag: a short format name, else the file's extension.
fn badge(format: &str, filename: &str) -> String {
    let ext = filename.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let pick = if format.len() <= 4 && format.is_ascii() { format } else { ext };
    if pick.is_empty() || pick.len() > 4 || !pick.bytes().all(|b| b.is_ascii_alphanumeric()) {
        "FILE".into()
    } else {
        pick.to_ascii_uppercase()
    }
}

/// EPrints' content roles, as readers know them.
fn content_label(c: &str) -> String {
    match c {
        "published" => "Published Version".into(),
        "accepted" => "Accepted Version".into(),
        "submitted" => "Submitted Version".into(),
        "supplemental" => "Supplemental Material".into(),
        "cover" => "Cover Image".into(),
        other => other.to_string(),
    }
}

/// A licence as text, linked when it is a URL or a Creative Commons id,
/// either SPDX's (`CC-BY-4.0`) or EPrints' (`cc_by`, `cc_by_nc_4`).
fn license_item(l: &str) -> Item {
    let l = l.trim();
    if let Some(url) = safe_link(l) {
        return Item { text: l.to_string(), url: Some(url) };
    }
    let lower = l.to_ascii_lowercase();
    if lower == "cc0-1.0" || lower == "cc_public_domain" || lower == "cc0" {
        return Item {
            text: "Creative Commons Public Domain Dedication (CC0)".into(),
            url: Some("https://creativecommons.org/publicdomain/zero/1.0/".into()),
        };
    }
    // SPDX: cc-by-nc-4.0.
    if let Some((kind, version)) = lower.strip_prefix("cc-").and_then(|rest| rest.rsplit_once('-')) {
        if cc_name(kind).is_some() && !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Item {
                text: l.to_string(),
                url: Some(format!("https://creativecommons.org/licenses/{kind}/{version}/")),
            };
        }
    }
    // EPrints: cc_by_nc, optionally with a major version (cc_by_nc_4).
    if let Some(rest) = lower.strip_prefix("cc_") {
        let (kind, version) = match rest.rsplit_once('_') {
            Some((k, v)) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                (k.replace('_', "-"), Some(format!("{v}.0")))
            }
            _ => (rest.replace('_', "-"), None),
        };
        if let Some(name) = cc_name(&kind) {
            return match version {
                Some(v) => Item {
                    text: format!("Creative Commons {name} {v}"),
                    url: Some(format!("https://creativecommons.org/licenses/{kind}/{v}/")),
                },
                None => Item { text: format!("Creative Commons {name}"), url: None },
            };
        }
    }
    Item { text: l.to_string(), url: None }
}

fn cc_name(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "by" => "Attribution",
        "by-sa" => "Attribution-ShareAlike",
        "by-nd" => "Attribution-NoDerivatives",
        "by-nc" => "Attribution-NonCommercial",
        "by-nc-sa" => "Attribution-NonCommercial-ShareAlike",
        "by-nc-nd" => "Attribution-NonCommercial-NoDerivatives",
        _ => return None,
    })
}

fn text(s: impl Into<String>) -> Item {
    Item { text: s.into(), url: None }
}

fn rows(state: &AppState, r: &Record) -> Vec<Row> {
    let repo = &state.repo;
    let subjects = repo.subjects();
    let nonempty = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let mut rows = Vec::new();
    let mut add = |label: &'static str, items: Vec<Item>| {
        if !items.is_empty() {
            rows.push(Row { label, items });
        }
    };
    add(
        "Item Type",
        vec![Item {
            text: repo.types().label(&r.item_type).to_string(),
            url: Some(value_path(BrowseView::Type, &r.item_type)),
        }],
    );
    add(
        "Creators",
        r.creators
            .iter()
            .map(|c| {
                let name = c.name.inverted();
                Item { url: Some(value_path(BrowseView::Creator, &name)), text: name }
            })
            .collect(),
    );
    add("Corporate Creators", r.corp_creators.iter().map(|c| text(c.name.clone())).collect());
    add("Editors", r.editors.iter().map(|c| text(c.name.inverted())).collect());
    add(
        "Subjects",
        r.subjects
            .iter()
            .map(|s| Item { text: subjects.path_label(s), url: Some(value_path(BrowseView::Subject, s)) })
            .collect(),
    );
    add(
        "Divisions",
        r.divisions
            .iter()
            .map(|d| Item { text: subjects.path_label(d), url: Some(value_path(BrowseView::Division, d)) })
            .collect(),
    );
    add(
        "Series",
        nonempty(&r.series)
            .map(|s| Item { url: Some(value_path(BrowseView::Series, &s)), text: s })
            .into_iter()
            .collect(),
    );
    add("Number", nonempty(&r.number).map(text).into_iter().collect());
    add("Date", r.date.map(|d| text(date_label(d))).into_iter().collect());
    add("Publisher", nonempty(&r.publisher).map(text).into_iter().collect());
    add("Institution", nonempty(&r.institution).map(text).into_iter().collect());
    add("Place of Publication", nonempty(&r.place_of_pub).map(text).into_iter().collect());
    add("Publication", nonempty(&r.publication).map(text).into_iter().collect());
    add("Pages", nonempty(&r.pages).map(text).into_iter().collect());
    let keywords: Vec<&str> = r.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect();
    add("Keywords", if keywords.is_empty() { vec![] } else { vec![text(keywords.join(", "))] });
    add("DOI", nonempty(&r.doi).map(|d| Item { url: doi_link(&d), text: d }).into_iter().collect());
    add("Official URL", nonempty(&r.official_url).map(|u| Item { url: safe_link(&u), text: u }).into_iter().collect());
    add("ISBN", nonempty(&r.isbn).map(text).into_iter().collect());
    add("ISSN", nonempty(&r.issn).map(text).into_iter().collect());
    add(
        "Related URLs",
        r.related
            .iter()
            .filter(|l| !l.url.trim().is_empty())
            .map(|l| Item {
                text: l.description.clone().filter(|d| !d.trim().is_empty()).unwrap_or_else(|| l.url.clone()),
                url: safe_link(&l.url),
            })
            .collect(),
    );
    add("Licence", nonempty(&r.license).map(|l| license_item(&l)).into_iter().collect());
    let dash = || text("—");
    add("Date Deposited", vec![r.datestamp.map(|t| text(timestamp_label(t))).unwrap_or_else(dash)]);
    add("Last Modified", vec![r.lastmod.map(|t| text(timestamp_label(t))).unwrap_or_else(dash)]);
    let uri = repo.record_url(r);
    add("URI", vec![Item { text: uri.clone(), url: safe_link(&uri) }]);
    rows
}

#[derive(Serialize)]
pub(crate) struct Tombstone {
    nav: &'static str,
    actions: crate::pages::account::RecordActions,
    cite: CiteView,
    reason: Option<String>,
    replaced_by: Option<String>,
    withdrawn: Option<String>,
}

pub(crate) fn tombstone(state: &AppState, record: &Record, revision: i64) -> Tombstone {
    Tombstone {
        actions: crate::pages::account::record_actions(record, revision),
        nav: "",
        cite: cite(&state.repo, record),
        reason: record.withdrawn_reason.clone().filter(|r| !r.trim().is_empty()),
        replaced_by: record.replaced_by.filter(|&id| id > 0).map(record_path),
        withdrawn: record.lastmod.map(day_label),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abstracts_keep_paragraphs_and_fold_lines() {
        assert_eq!(paragraphs("One\ntwo.\r\n\r\nThree.\n\n\n"), vec!["One two.", "Three."]);
        assert!(paragraphs("  ").is_empty());
    }

    #[test]
    fn creative_commons_ids_link_to_their_deeds() {
        assert_eq!(license_item("CC-BY-4.0").url.as_deref(), Some("https://creativecommons.org/licenses/by/4.0/"));
        assert_eq!(
            license_item("cc-by-nc-nd-3.0").url.as_deref(),
            Some("https://creativecommons.org/licenses/by-nc-nd/3.0/")
        );
        assert_eq!(license_item("all rights reserved").url, None);
        assert_eq!(license_item("cc_by").text, "Creative Commons Attribution");
        assert_eq!(license_item("cc_by_nc_4").url.as_deref(), Some("https://creativecommons.org/licenses/by-nc/4.0/"));
        assert_eq!(
            license_item("cc_public_domain").url.as_deref(),
            Some("https://creativecommons.org/publicdomain/zero/1.0/")
        );
        assert_eq!(license_item("javascript:x").url, None);
    }
}
