//! The SWORD documents an item is described by: the service document, the
//! deposit receipt and the statements, shaped from the repository and an
//! [`Outcome`] for `arkiv_formats::sword` to write. Every address a client
//! follows is built here, so the receipt, the statement and the routes
//! agree on them.

use crate::AppState;
use arkiv_formats::sword as doc;
use arkiv_model::{Record, RecordId, Status};
use arkiv_services::sword::Outcome;

/// Where a container's parts are, under EPrints' `/id/eprint/N`.
pub struct Addresses {
    pub edit: String,
    pub edit_media: String,
    pub statement_atom: String,
    pub statement_ore: String,
}

impl Addresses {
    pub fn of(state: &AppState, id: RecordId) -> Self {
        let base = format!("{}/id/eprint/{id}", state.repo.base_url());
        Addresses {
            edit_media: format!("{base}/contents"),
            statement_atom: format!("{base}/statement.atom"),
            statement_ore: format!("{base}/statement.rdf"),
            edit: base,
        }
    }
}

const GENERATOR: (&str, &str) = ("https://github.com/arkiv-repository/arkiv", env!("CARGO_PKG_VERSION"));

pub fn collection_href(state: &AppState) -> String {
    format!("{}/id/contents", state.repo.base_url())
}

/// The service document: one workspace, one collection (the workarea of
/// whoever deposits), what it takes.
pub fn service_document(state: &AppState, mediation: bool) -> String {
    let settings = state.repo.settings();
    let href = collection_href(state);
    let treatment = format!(
        "Deposits land in your workarea (In-Progress: true) or go to the review buffer (In-Progress: false), \
         where an editor checks them before they go live. A deposit that lacks what the deposit form requires \
         is still taken, as a {:?} unless its metadata names an item type; the receipt says what is missing.",
        state.repo.config.sword.default_item_type
    );
    doc::service_document(&doc::ServiceDocument {
        title: &settings.name,
        max_upload_kb: state.repo.config.import.max_file_bytes / 1024,
        collections: vec![doc::Collection {
            href: &href,
            title: "Deposits",
            description: "Items deposited into this repository's workarea and review.",
            accept: vec!["*/*"],
            accept_packaging: vec![doc::PACKAGE_SIMPLE_ZIP, doc::PACKAGE_BINARY, doc::PACKAGE_EPRINTS_XML],
            policy: "Deposits are reviewed by the repository's editors before they go live.",
            mediation,
            treatment: &treatment,
        }],
    })
}

/// Where the item is, in words, for a receipt's treatment and a
/// statement's state.
fn state_of(record: &Record) -> (&'static str, String) {
    match record.status {
        Status::Inbox => (doc::STATE_IN_PROGRESS, "In the depositor's workarea: not submitted yet.".into()),
        Status::Buffer => (doc::STATE_IN_REVIEW, "Submitted: an editor reviews it before it goes live.".into()),
        Status::Archive => (doc::STATE_ARCHIVED, "Live in the archive.".into()),
        Status::Deletion => (
            doc::STATE_WITHDRAWN,
            format!("Withdrawn: {}", record.withdrawn_reason.as_deref().unwrap_or("no reason given")),
        ),
    }
}

/// The page a person opens for the item: its abstract page once live,
/// else its deposit page.
fn alternate(state: &AppState, record: &Record, id: RecordId) -> String {
    if record.is_live() {
        state.repo.record_url(record)
    } else {
        format!("{}/deposit/{id}", state.repo.base_url())
    }
}

/// Each document's main file: its address and type.
fn files(state: &AppState, record: &Record, id: RecordId) -> Vec<(String, String)> {
    record
        .documents
        .iter()
        .filter_map(|d| {
            let f = d.main_file()?;
            let url =
                format!("{}/id/eprint/{id}/{}/{}", state.repo.base_url(), d.pos, crate::present::segment(&f.filename));
            Some((url, f.mime_type.clone().unwrap_or_else(|| "application/octet-stream".into())))
        })
        .collect()
}

/// The deposit receipt.
pub fn receipt(state: &AppState, outcome: &Outcome) -> String {
    let record = &outcome.record;
    let id = record.id.unwrap_or_default();
    let at = Addresses::of(state, id);
    let (_, where_now) = state_of(record);
    let mut treatment = where_now;
    if !outcome.missing.is_empty() {
        treatment.push_str(&format!(" Before it can go live it needs: {}.", outcome.missing.join(", ")));
    }
    for note in &outcome.notes {
        treatment.push_str(&format!(" Not kept: {note}."));
    }
    let updated = record.lastmod.map(|t| t.to_iso8601()).unwrap_or_default();
    let alternate = alternate(state, record, id);
    let files = files(state, record, id);
    let creators: Vec<String> = record.creators.iter().map(|c| c.name.inverted()).collect();
    let date = record.date.map(|d| d.to_string());
    let mut dcterms: Vec<(&str, &str)> = vec![("title", record.title.as_str())];
    dcterms.extend(creators.iter().map(|c| ("creator", c.as_str())));
    if let Some(a) = &record.abstract_text {
        dcterms.push(("abstract", a));
    }
    if let Some(d) = &date {
        dcterms.push(("issued", d));
    }
    if let Some(p) = &record.publisher {
        dcterms.push(("publisher", p));
    }
    if let Some(doi) = &record.doi {
        dcterms.push(("identifier", doi));
    }
    doc::deposit_receipt(&doc::Receipt {
        edit_iri: &at.edit,
        edit_media_iri: &at.edit_media,
        statement_atom_iri: &at.statement_atom,
        statement_ore_iri: &at.statement_ore,
        alternate: &alternate,
        title: if record.title.is_empty() { "(untitled)" } else { &record.title },
        updated: &updated,
        summary: record.abstract_text.as_deref(),
        authors: creators.iter().map(String::as_str).collect(),
        dcterms,
        packaging: vec![doc::PACKAGE_BINARY],
        treatment: &treatment,
        verbose: None,
        original_deposits: files.iter().map(|(u, t)| (u.as_str(), t.as_str())).collect(),
        content_type: "application/octet-stream",
        generator: GENERATOR,
    })
}

/// The statement, as Atom (`ore` false) or OAI-ORE.
pub fn statement(state: &AppState, outcome: &Outcome, depositor: &str, ore: bool) -> String {
    let record = &outcome.record;
    let id = record.id.unwrap_or_default();
    let at = Addresses::of(state, id);
    let (term, description) = state_of(record);
    let updated = record.lastmod.map(|t| t.to_iso8601()).unwrap_or_default();
    let files = files(state, record, id);
    let s = doc::Statement {
        edit_iri: &at.edit,
        statement_iri: if ore { &at.statement_ore } else { &at.statement_atom },
        title: &record.title,
        updated: &updated,
        state: (term, &description),
        files: files
            .iter()
            .map(|(uri, mime)| doc::StatementFile {
                uri,
                mime_type: mime,
                deposited_on: &updated,
                deposited_by: depositor,
                on_behalf_of: None,
                packaging: doc::PACKAGE_BINARY,
                original_deposit: true,
            })
            .collect(),
    };
    if ore {
        doc::statement_ore(&s)
    } else {
        doc::statement_atom(&s)
    }
}

/// A SWORD error document.
pub fn error(href: &str, title: &str, summary: &str) -> String {
    let now = arkiv_model::Timestamp::now().to_iso8601();
    doc::error_document(&doc::SwordError {
        href,
        title,
        summary,
        updated: &now,
        treatment: "Nothing was deposited or changed.",
        verbose: None,
        generator: GENERATOR,
    })
}
