//! Reading Crossref's REST API works (`api.crossref.org/works/{doi}`, and
//! the lists `api.crossref.org/works?...` answers), for importing by DOI.
//!
//! [`read_work`] takes one DOI's answer, `{"status":"ok","message-type":
//! "work","message":{...}}`, or the bare work. [`CrossrefReader`] reads a
//! file: the API's list answer (items at `message.items`), a bare
//! `{"items":[...]}`, a JSON array of works, JSON Lines, or one work; each
//! work is found by the splitter the CSL-JSON reader uses (see
//! [`crate::csl_json`]) and is one [`ReadItem`].
//!
//! Types: `journal-article` → `article`; `book-chapter`, `book-section`,
//! `book-part`, `book-track`, `reference-entry` → `book_section`;
//! `proceedings-article` → `conference_item`; `report`,
//! `report-component` → `report`; `dissertation` → `thesis`;
//! `posted-content` (preprints) → `article` not yet published
//! (`ispublished` `unpub`); `dataset`, `database` → `dataset`; `book`,
//! `monograph`, `edited-book`, `reference-book` → `book`; `standard` →
//! `report`; anything else (`journal-issue`, `component`, `peer-review`,
//! `other`...) → `other`, the type kept.
//!
//! Fields: `title` (an array: the first is the title, others kept) with
//! `subtitle` → "Title: Subtitle"; `author` → creators (`family`/`given`,
//! `ORCID` as a bare iD), an author with only a `name` a corporate creator;
//! `editor` → editors, `translator` → contributors (TRL); `issued` (else
//! `published`, `published-print`, `published-online`) → date, to the
//! precision of its `date-parts`; the other publication dates, when they
//! differ, kept; `container-title` → a chapter's book, else the journal or
//! proceedings; `volume`, `issue` → number, `page` → pagerange;
//! `publisher` (a report's or dissertation's issuing body: its
//! institution), `publisher-location` → place; `institution` →
//! institution; `event.name` → event title;
//! `DOI` (bare); `resource.primary.URL` (the publisher's page) →
//! `official_url` (Crossref's `URL`, the DOI's resolver, is not kept
//! twice); the first `ISBN` and `ISSN` (the others kept); `abstract`, JATS,
//! as text (paragraphs kept, markup and its "Abstract" title taken out);
//! `subject` → keywords; `language`; `license` → licence (the version of
//! record's, else the first; a Creative Commons URL as its SPDX id, as
//! [`crate::export::fields::license_url`] reads it back); `relation` →
//! related links; `alternative-id` → `id_number`.
//!
//! Kept in `record.extra` (named in [`ImportedRecord::unmapped`] and in a
//! warning): `funder` (the model has no funders), affiliations, `link`,
//! `reference`, `short-container-title`, and whatever else the work holds.
//! The API's own bookkeeping (`indexed`, `deposited`, `created`, `score`,
//! `member`, `prefix`, `source`, `reference-count`, `references-count`,
//! `is-referenced-by-count`, `content-domain`, `issn-type`, `isbn-type`,
//! `update-policy`) describes the API's copy, not the work, and is not
//! kept.

use crate::csl_json::items::{self, JsonItems, ListPaths, Mapper};
use crate::{ImportedRecord, ReadItem, RecordError};
use arkiv_model::{Contributor, CorporateCreator, ItemTypes, Record, RelatedLink, Status};
use serde_json::{Map, Value};
use std::io::BufRead;

/// Where a file's works may sit: the list answer's `message.items`.
const PATHS: ListPaths = ListPaths { wrappers: &["message"], lists: &["items"] };

/// One work as Crossref's API answers for one DOI (the whole answer,
/// `{"status":"ok","message":{...}}`, or the bare work).
pub fn read_work(json: &[u8], types: &ItemTypes) -> Result<ImportedRecord, RecordError> {
    let object = items::parse_object(json).map_err(RecordError::new)?;
    items::map_checked(object, types, map_work).map_err(RecordError::new)
}

/// Reads a file of Crossref works, one [`ReadItem`] each; see the module
/// docs.
pub struct CrossrefReader<R: BufRead> {
    items: JsonItems<R>,
    types: ItemTypes,
}

impl<R: BufRead> CrossrefReader<R> {
    pub fn new(reader: R) -> Self {
        Self::with_types(reader, ItemTypes::default())
    }
    pub fn with_types(reader: R, types: ItemTypes) -> Self {
        CrossrefReader { items: JsonItems::new(reader, PATHS), types }
    }
}

impl<R: BufRead> Iterator for CrossrefReader<R> {
    type Item = ReadItem;
    fn next(&mut self) -> Option<ReadItem> {
        let raw = self.items.next()?;
        Some(items::read_item(raw, &self.types, map_work))
    }
}

const BOOKKEEPING: &[&str] = &[
    "indexed",
    "deposited",
    "created",
    "score",
    "member",
    "prefix",
    "source",
    "reference-count",
    "references-count",
    "is-referenced-by-count",
    "content-domain",
    "issn-type",
    "isbn-type",
    "update-policy",
];

/// The work inside an API answer, or the work itself.
fn unwrap(mut object: Map<String, Value>) -> Result<Map<String, Value>, String> {
    if object.contains_key("message") && object.contains_key("status") || object.contains_key("message-type") {
        let status = object.get("status").and_then(Value::as_str).unwrap_or("ok");
        if status != "ok" {
            return Err(format!(
                "the API answered {status:?}: {}",
                object.get("message").map(|m| m.to_string()).unwrap_or_default()
            ));
        }
        match object.remove("message") {
            Some(Value::Object(work)) => {
                if work.contains_key("items") {
                    return Err("a list of works, not one work: read it with CrossrefReader".into());
                }
                object = work;
            }
            _ => return Err("the API's answer holds no work (no message object)".into()),
        }
    }
    Ok(object)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Chapter,
    Report,
    Other,
}

/// Maps one work to the model; see the module docs.
pub(crate) fn map_work(object: Map<String, Value>, _types: &ItemTypes) -> Result<ImportedRecord, String> {
    let mut work = unwrap(object)?;
    let mut m = Mapper::default();
    let type_value = work.remove("type");
    let type_name = items::text(type_value.as_ref()).unwrap_or_default();
    let (kind, item_type) = match type_name.as_str() {
        "journal-article" => (Kind::Other, "article"),
        "book-chapter" | "book-section" | "book-part" | "book-track" | "reference-entry" => {
            (Kind::Chapter, "book_section")
        }
        "proceedings-article" => (Kind::Other, "conference_item"),
        "report" | "report-component" | "standard" => (Kind::Report, "report"),
        "dissertation" => (Kind::Report, "thesis"),
        "posted-content" => (Kind::Other, "article"),
        "dataset" | "database" => (Kind::Other, "dataset"),
        "book" | "monograph" | "edited-book" | "reference-book" => (Kind::Other, "book"),
        other => {
            m.warn(format!("Crossref type {other:?} has no item type of its own; read as other"));
            if let Some(v) = &type_value {
                m.unmapped("type", v);
            }
            (Kind::Other, "other")
        }
    };
    let mut r = Record { item_type: item_type.into(), status: Status::Archive, ..Default::default() };
    if type_name == "posted-content" {
        r.ispublished = Some("unpub".into());
    }
    let mut subtitle = None;
    let mut dates: Vec<(&'static str, Value)> = Vec::new();
    let mut licences: Vec<Value> = Vec::new();
    let mut affiliations: Vec<String> = Vec::new();
    for (key, value) in work {
        if items::is_empty(&value) || BOOKKEEPING.contains(&key.as_str()) {
            continue;
        }
        let t = || items::texts(Some(&value)).into_iter().next();
        match key.as_str() {
            "title" => {
                let mut titles = items::texts(Some(&value)).into_iter();
                r.title = titles.next().unwrap_or_default();
                for other in titles {
                    m.unmapped("title", &Value::String(other));
                }
            }
            "subtitle" => subtitle = t(),
            "author" | "editor" | "translator" => {
                for person in value.as_array().into_iter().flatten() {
                    let field = |k: &str| items::text(person.get(k)).unwrap_or_default();
                    let (family, given, name) = (field("family"), field("given"), field("name"));
                    let affs: Vec<String> = person
                        .get("affiliation")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|a| items::text(a.get("name")))
                        .collect();
                    let shown = if family.is_empty() { name.clone() } else { format!("{family}, {given}") };
                    if !affs.is_empty() {
                        affiliations.push(format!("{shown}: {}", affs.join("; ")));
                    }
                    if family.is_empty() && given.is_empty() {
                        if name.is_empty() {
                            m.unmapped(&key, person);
                        } else if key == "author" {
                            r.corp_creators.push(CorporateCreator { name, id: None });
                        } else {
                            m.unmapped(&key, person);
                        }
                        continue;
                    }
                    let mut c = items::person(&family, &given);
                    if let Some(o) = person.get("ORCID").and_then(Value::as_str) {
                        c.orcid = items::orcid(o);
                        if c.orcid.is_none() {
                            m.warn(format!("{o:?} is not an ORCID iD; kept verbatim"));
                            m.unmapped("ORCID", &Value::String(o.into()));
                        }
                    }
                    match key.as_str() {
                        "author" => r.creators.push(c),
                        "editor" => r.editors.push(c),
                        _ => r.contributors.push(Contributor { role: format!("{}TRL", items::RELATOR), person: c }),
                    }
                }
            }
            "issued" => dates.insert(0, ("issued", value)),
            "published" | "published-print" | "published-online" => {
                let name = match key.as_str() {
                    "published" => "published",
                    "published-print" => "published-print",
                    _ => "published-online",
                };
                dates.push((name, value))
            }
            "container-title" => {
                let mut titles = items::texts(Some(&value)).into_iter();
                let first = titles.next();
                if kind == Kind::Chapter {
                    m.single(&mut r.book_title, &key, first);
                } else {
                    m.single(&mut r.publication, &key, first);
                }
                for other in titles {
                    m.unmapped(&key, &Value::String(other));
                }
            }
            "volume" => m.single(&mut r.volume, &key, t()),
            "issue" => m.single(&mut r.number, &key, t()),
            "page" => m.single(&mut r.pagerange, &key, t()),
            // What issues a report or dissertation is its institution.
            "publisher" if kind == Kind::Report => m.single(&mut r.institution, &key, t()),
            "publisher" => m.single(&mut r.publisher, &key, t()),
            "publisher-location" => m.single(&mut r.place_of_pub, &key, t()),
            "institution" => {
                let names: Vec<String> =
                    value.as_array().into_iter().flatten().filter_map(|i| items::text(i.get("name"))).collect();
                match names.split_first() {
                    Some((first, rest)) => {
                        m.single(&mut r.institution, &key, Some(first.clone()));
                        for other in rest {
                            m.unmapped("institution", &Value::String(other.clone()));
                        }
                    }
                    None => m.unmapped(&key, &value),
                }
            }
            "event" => {
                let name = items::text(value.get("name"));
                if name.is_none() || value.as_object().is_some_and(|o| o.len() > 1) {
                    m.unmapped(&key, &value);
                }
                m.single(&mut r.event_title, &key, name);
            }
            "DOI" => {
                if let Some(v) = t() {
                    let doi = items::doi(&mut m, &key, &v);
                    m.single(&mut r.doi, &key, doi);
                }
            }
            "URL" => {
                let url = t().unwrap_or_default();
                if !url.to_ascii_lowercase().contains("doi.org/") {
                    m.single(&mut r.official_url, &key, Some(url));
                }
            }
            "resource" => {
                let primary = value.get("primary").and_then(|p| items::text(p.get("URL")));
                match primary {
                    Some(url) => r.official_url = Some(url),
                    None => m.unmapped(&key, &value),
                }
            }
            "ISBN" | "ISSN" => {
                let mut all = items::texts(Some(&value)).into_iter();
                let field = if key == "ISBN" { &mut r.isbn } else { &mut r.issn };
                *field = all.next();
                for other in all {
                    m.unmapped(&key, &Value::String(other));
                }
            }
            "abstract" => r.abstract_text = value.as_str().and_then(items::jats_text),
            "subject" => r.keywords.extend(items::texts(Some(&value))),
            "language" => r.languages.extend(t()),
            "license" => licences.extend(value.as_array().into_iter().flatten().cloned()),
            "relation" => {
                for (relation, targets) in value.as_object().into_iter().flatten() {
                    for target in targets.as_array().into_iter().flatten() {
                        let Some(id) = items::text(target.get("id")) else { continue };
                        let is_doi = target.get("id-type").and_then(Value::as_str) == Some("doi");
                        let url = if is_doi && !id.contains("://") { format!("https://doi.org/{id}") } else { id };
                        r.related.push(RelatedLink { url, relation: Some(relation.clone()), description: None });
                    }
                }
            }
            "alternative-id" => {
                let mut all = items::texts(Some(&value)).into_iter();
                r.id_number = all.next();
                for other in all {
                    m.unmapped(&key, &Value::String(other));
                }
            }
            _ => m.unmapped(&key, &value),
        }
    }
    if let Some(sub) = subtitle {
        if r.title.is_empty() {
            m.unmapped("subtitle", &Value::String(sub));
        } else {
            r.title = format!("{}: {sub}", r.title);
        }
    }
    // The date: `issued` (Crossref's earliest of print and online), else
    // the first publication date that has one; the others kept when they
    // say something else.
    for (name, value) in dates {
        let parsed = items::date_parts(&value).map(|(d, _)| d);
        match (r.date, parsed) {
            (None, Some(d)) => r.date = Some(d),
            (Some(have), Some(d)) if have == d => {}
            _ if name == "issued" && parsed.is_none() => m.unmapped(name, &value),
            _ => m.unmapped(name, &value),
        }
    }
    // The licence of the version of record, else the first.
    let url = |l: &Value| items::text(l.get("URL"));
    let vor = licences.iter().position(|l| l.get("content-version").and_then(Value::as_str) == Some("vor"));
    if let Some(chosen) = vor.or((!licences.is_empty()).then_some(0)) {
        if let Some(u) = url(&licences[chosen]) {
            r.license = Some(items::licence(&u));
        }
        let mut seen = vec![url(&licences[chosen])];
        for l in &licences {
            let u = url(l);
            if !seen.contains(&u) {
                m.unmapped("license", l);
                seen.push(u);
            }
        }
    }
    for a in affiliations {
        m.unmapped("affiliation", &Value::String(a));
    }
    Ok(m.finish(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORK: &str = r#"{"status":"ok","message-type":"work","message":{
      "indexed":{"date-parts":[[2022,9,8]]},"type":"journal-article","DOI":"10.7554/eLife.01567",
      "title":["Sequential and coupled"],"subtitle":["a study"],
      "author":[{"given":"Laura","family":"Wade","ORCID":"http://orcid.org/0000-0002-1825-0097","affiliation":[{"name":"Lausanne"}]},
                {"name":"The Consortium","sequence":"additional"}],
      "container-title":["eLife"],"volume":"3","issue":"1","page":"e01567",
      "issued":{"date-parts":[[2014,2,11]]},"published-print":{"date-parts":[[2014]]},
      "publisher":"eLife Sciences Publications, Ltd","ISSN":["2050-084X","2050-084Y"],
      "URL":"http://dx.doi.org/10.7554/elife.01567","resource":{"primary":{"URL":"https://elifesciences.org/articles/01567"}},
      "abstract":"<jats:title>Abstract</jats:title><jats:p>Among   various &amp; advantages,</jats:p>\n<jats:p>their <jats:italic>small</jats:italic> size.</jats:p>",
      "subject":["Neuroscience"],"language":"en",
      "license":[{"URL":"http://creativecommons.org/licenses/by/3.0/","content-version":"vor"},{"URL":"http://creativecommons.org/licenses/by/3.0/","content-version":"am"}],
      "funder":[{"name":"SNSF","DOI":"10.13039/501100001711"}],
      "relation":{"has-preprint":[{"id-type":"doi","id":"10.1101/123","asserted-by":"subject"}]}
    }}"#;

    #[test]
    fn one_work_answer() {
        let imported = read_work(WORK.as_bytes(), &ItemTypes::default()).unwrap();
        let r = &imported.record;
        assert_eq!(r.item_type, "article");
        assert_eq!(r.title, "Sequential and coupled: a study");
        assert_eq!(r.creators[0].name.inverted(), "Wade, Laura");
        assert_eq!(r.creators[0].orcid.as_deref(), Some("0000-0002-1825-0097"));
        assert_eq!(r.corp_creators[0].name, "The Consortium");
        assert_eq!(r.publication.as_deref(), Some("eLife"));
        assert_eq!(
            (r.volume.as_deref(), r.number.as_deref(), r.pagerange.as_deref()),
            (Some("3"), Some("1"), Some("e01567"))
        );
        assert_eq!(r.date.unwrap().to_string(), "2014-02-11");
        assert_eq!(r.doi.as_deref(), Some("10.7554/eLife.01567"));
        assert_eq!(r.official_url.as_deref(), Some("https://elifesciences.org/articles/01567"));
        assert_eq!(r.issn.as_deref(), Some("2050-084X"));
        assert_eq!(r.abstract_text.as_deref(), Some("Among various & advantages,\n\ntheir small size."));
        assert_eq!(
            (r.keywords.as_slice(), r.languages.as_slice()),
            (&["Neuroscience".to_string()][..], &["en".to_string()][..])
        );
        assert_eq!(r.license.as_deref(), Some("CC-BY-3.0"));
        assert_eq!(r.related[0].url, "https://doi.org/10.1101/123");
        assert_eq!(imported.unmapped, ["ISSN", "funder", "published-print", "affiliation"]);
        // The bare work reads the same.
        let bare = &WORK[WORK.find("\"message\":").unwrap() + 10..WORK.len() - 1];
        assert_eq!(read_work(bare.as_bytes(), &ItemTypes::default()).unwrap(), imported);
    }

    #[test]
    fn answers_that_are_not_a_work() {
        let types = ItemTypes::default();
        let e = read_work(br#"{"status":"failed","message":"Resource not found."}"#, &types).unwrap_err();
        assert!(e.message.contains("failed"), "{e}");
        let e = read_work(b"Resource not found.", &types).unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{e}");
        let e = read_work(br#"{"type":"journal-article","title":[]}"#, &types).unwrap_err();
        assert!(e.message.contains("title"), "{e}");
    }

    #[test]
    fn a_list_answer_through_the_reader() {
        let text = r#"{"status":"ok","message-type":"work-list","message":{"total-results":3,"items":[
          {"type":"book-chapter","title":["A chapter"],"container-title":["The Book"]},
          {"type":"proceedings-article","title":["A paper"]},
          {"type":"posted-content","title":["A preprint"]},
          {"type":"journal-issue","title":[]}
        ],"items-per-page":20}}"#;
        let items: Vec<_> = CrossrefReader::new(text.as_bytes()).collect();
        let outline: Vec<_> = items.iter().map(|i| (i.position, i.line, i.result.is_ok())).collect();
        assert_eq!(outline, [(1, Some(2), true), (2, Some(3), true), (3, Some(4), true), (4, Some(5), false)]);
        let chapter = &items[0].result.as_ref().unwrap().record;
        assert_eq!((chapter.item_type.as_str(), chapter.book_title.as_deref()), ("book_section", Some("The Book")));
        let preprint = &items[2].result.as_ref().unwrap().record;
        assert_eq!(preprint.ispublished.as_deref(), Some("unpub"));
    }
}
