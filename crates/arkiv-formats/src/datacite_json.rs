//! Reading DataCite's REST API JSON (`api.datacite.org/dois/{doi}`, and the
//! lists `api.datacite.org/dois?...` answers), for importing by DOI.
//!
//! [`read_doi`] takes one DOI's answer, `{"data":{"id","type":"dois",
//! "attributes":{...}}}`, or the bare attributes. [`DataciteJsonReader`]
//! reads a file: the API's list answer (records at `data`, an array), a
//! JSON array of records, JSON Lines, or one record; each record is found
//! by the splitter the CSL-JSON reader uses (see [`crate::csl_json`]).
//!
//! Types, from `types.resourceTypeGeneral` and the free `resourceType` (the
//! inverse of [`crate::export::datacite`], which writes the item type's
//! label or the subtype's there): `Report` → the repository's report type
//! or monograph subtype of that label ("Policy Paper", "Working Paper"),
//! else `report`; `Dissertation` → `thesis` ("Masters thesis" → subtype
//! `masters`); `JournalArticle`, `Preprint` (not yet published) →
//! `article`; `Book`, `ConferenceProceeding` → `book`; `BookChapter` →
//! `book_section`; `ConferencePaper` → `conference_item`; `Dataset`;
//! `Image`; `Audiovisual` → `video`; `Sound` → `audio`; `PhysicalObject` →
//! `artefact`; anything else (`Text`, `Event`, `Software`...) → the
//! repository's type whose label `resourceType` is ("Patent", "Teaching
//! Resource"), else `other`. A `resourceType` that decided nothing is kept.
//!
//! Fields: `titles` (the first without a `titleType`, a `Subtitle` joined
//! to it; alternative and translated titles kept); `creators` → persons
//! (`familyName`/`givenName`, else `name` "Family, Given"; ORCID from
//! `nameIdentifiers`), `nameType` `Organizational` (or a name with neither
//! part nor comma) → corporate creators; `contributors` of type `Editor` →
//! editors, persons of the other types → contributors (Supervisor → THS,
//! Researcher → RES, Sponsor → SPN, DataCollector → COM, else the type as
//! the role), organisations kept; `publisher` (a string or `{name}`) → a
//! report's or thesis's institution, else the publisher; the `Issued` date
//! of `dates` (to its precision), else `publicationYear` → date, the other
//! dates kept; `subjects` → keywords; `language`; `doi`; `url` →
//! `official_url`; ISBN, ISSN (also a related ISSN `IsPublishedIn`), arXiv
//! and Local alternate identifiers; `relatedIdentifiers` → related links;
//! `container` (and a journal `relatedItem`) → journal or series, volume,
//! issue, pages; `sizes` "N pages" → pages; `rightsList` → licence (a
//! Creative Commons URL or SPDX id as its SPDX id), the access right
//! (`info:eu-repo/semantics/...`) kept; `descriptions`: `Abstract` →
//! abstract, `SeriesInformation` → series (", number" split off, as the
//! export writes it), `Other` → note, the rest kept. `fundingReferences`,
//! `geoLocations`, `formats`, `version` and anything else are kept in
//! `record.extra`, named in [`ImportedRecord::unmapped`] and in a warning.
//! The API's bookkeeping (`xml`, the whole record again as base64;
//! counts and their histories; `state`, `created`, `registered`...) is not
//! kept, nor `relationships` outside the attributes.

use crate::csl_json::items::{self, JsonItems, ListPaths, Mapper};
use crate::{ImportedRecord, ReadItem, RecordError};
use arkiv_model::{Contributor, CorporateCreator, Creator, ItemTypes, Record, RelatedLink, Status};
use serde_json::{Map, Value};
use std::io::BufRead;

const PATHS: ListPaths = ListPaths { wrappers: &[], lists: &["data"] };

/// One DOI as DataCite's API answers for it (`{"data":{...}}`, or the
/// bare attributes).
pub fn read_doi(json: &[u8], types: &ItemTypes) -> Result<ImportedRecord, RecordError> {
    let object = items::parse_object(json).map_err(RecordError::new)?;
    items::map_checked(object, types, map_doi).map_err(RecordError::new)
}

/// Reads a file of DataCite JSON records, one [`ReadItem`] each; see the
/// module docs.
pub struct DataciteJsonReader<R: BufRead> {
    items: JsonItems<R>,
    types: ItemTypes,
}

impl<R: BufRead> DataciteJsonReader<R> {
    pub fn new(reader: R) -> Self {
        Self::with_types(reader, ItemTypes::default())
    }
    pub fn with_types(reader: R, types: ItemTypes) -> Self {
        DataciteJsonReader { items: JsonItems::new(reader, PATHS), types }
    }
}

impl<R: BufRead> Iterator for DataciteJsonReader<R> {
    type Item = ReadItem;
    fn next(&mut self) -> Option<ReadItem> {
        let raw = self.items.next()?;
        Some(items::read_item(raw, &self.types, map_doi))
    }
}

const BOOKKEEPING: &[&str] = &[
    "xml",
    "prefix",
    "suffix",
    "identifiers",
    "metadataVersion",
    "schemaVersion",
    "source",
    "isActive",
    "state",
    "reason",
    "viewCount",
    "viewsOverTime",
    "downloadCount",
    "downloadsOverTime",
    "referenceCount",
    "citationCount",
    "citationsOverTime",
    "partCount",
    "partOfCount",
    "versionCount",
    "versionOfCount",
    "created",
    "registered",
    "published",
    "updated",
];

/// The attributes inside an API answer (`data.attributes`), or the
/// attributes themselves.
fn unwrap(mut object: Map<String, Value>) -> Result<Map<String, Value>, String> {
    if let Some(errors) = object.get("errors") {
        return Err(format!("the API answered with errors: {errors}"));
    }
    if let Some(data) = object.remove("data") {
        object = match data {
            Value::Object(o) => o,
            Value::Array(_) => return Err("a list of records, not one: read it with DataciteJsonReader".into()),
            other => return Err(format!("data is {}, not a record", items::kind_of(&other))),
        };
    }
    if object.get("type").and_then(Value::as_str) == Some("dois") || object.contains_key("attributes") {
        let id = object.get("id").cloned();
        let mut attributes = match object.remove("attributes") {
            Some(Value::Object(a)) => a,
            _ => return Err("the record has no attributes".into()),
        };
        if !attributes.contains_key("doi") {
            if let Some(id) = id {
                attributes.insert("doi".into(), id);
            }
        }
        return Ok(attributes);
    }
    Ok(object)
}

/// Maps one record's attributes to the model; see the module docs.
pub(crate) fn map_doi(object: Map<String, Value>, types: &ItemTypes) -> Result<ImportedRecord, String> {
    let mut a = unwrap(object)?;
    let mut m = Mapper::default();
    let mut r = Record { status: Status::Archive, ..Default::default() };
    // The type first: where the publisher goes depends on it.
    let type_info = a.remove("types");
    let general = type_info.as_ref().and_then(|t| items::text(t.get("resourceTypeGeneral"))).unwrap_or_default();
    let specific = type_info.as_ref().and_then(|t| items::text(t.get("resourceType")));
    let mut specific_used = false;
    let by_label = |label: &Option<String>| {
        label.as_ref().and_then(|l| types.iter().find(|(_, tl)| tl.eq_ignore_ascii_case(l)).map(|(k, _)| k.to_string()))
    };
    r.item_type = match general.as_str() {
        "Report" => match specific.as_deref().and_then(|s| crate::labels::report_kind(s, types)) {
            Some((item_type, subtype)) => {
                specific_used = true;
                r.subtype = subtype;
                item_type
            }
            None => "report".into(),
        },
        "Dissertation" => {
            if let Some(kind) = specific.as_deref().and_then(crate::labels::thesis_kind) {
                specific_used = true;
                r.subtype = kind.map(str::to_string);
            }
            "thesis".into()
        }
        "JournalArticle" => "article".into(),
        "Preprint" => {
            r.ispublished = Some("unpub".into());
            "article".into()
        }
        "Book" | "ConferenceProceeding" => "book".into(),
        "BookChapter" => "book_section".into(),
        "ConferencePaper" => "conference_item".into(),
        "Dataset" => "dataset".into(),
        "Image" => "image".into(),
        "Audiovisual" => "video".into(),
        "Sound" => "audio".into(),
        "PhysicalObject" => "artefact".into(),
        _ => match by_label(&specific) {
            Some(key) => {
                specific_used = true;
                key
            }
            None => {
                m.warn(format!("DataCite type {general:?} ({specific:?}) has no item type of its own; read as other"));
                if let Some(t) = &type_info {
                    m.unmapped("types", t);
                    specific_used = true;
                }
                "other".into()
            }
        },
    };
    // The label of the type itself ("Article", "Dataset") says nothing more.
    if !specific_used && specific.is_some() && by_label(&specific).as_deref() != Some(r.item_type.as_str()) {
        m.unmapped("resourceType", &Value::String(specific.clone().unwrap_or_default()));
    }
    let issuing_body =
        matches!(r.item_type.as_str(), "thesis") || arkiv_model::item_type::is_serial_grey_literature(&r.item_type);
    let mut title = None;
    let mut year = None;
    let mut affiliations = Vec::new();
    for (key, value) in a {
        if items::is_empty(&value) || BOOKKEEPING.contains(&key.as_str()) {
            continue;
        }
        let t = || items::text(Some(&value));
        match key.as_str() {
            "doi" => {
                if let Some(v) = t() {
                    let doi = items::doi(&mut m, &key, &v);
                    m.single(&mut r.doi, &key, doi);
                }
            }
            "url" => m.single(&mut r.official_url, &key, t()),
            "titles" => {
                let mut subtitle = None;
                for entry in value.as_array().into_iter().flatten() {
                    let text = items::text(entry.get("title"));
                    match entry.get("titleType").and_then(Value::as_str) {
                        None if title.is_none() => title = text,
                        Some("Subtitle") if subtitle.is_none() => subtitle = text,
                        _ => m.unmapped("titles", entry),
                    }
                }
                if let (Some(t), Some(s)) = (&mut title, subtitle) {
                    *t = format!("{t}: {s}");
                }
            }
            "creators" => {
                for c in value.as_array().into_iter().flatten() {
                    collect_affiliations(c, &mut affiliations);
                    match name(c) {
                        Some(Name::Person(p)) => r.creators.push(p),
                        Some(Name::Body(n)) => r.corp_creators.push(CorporateCreator { name: n, id: None }),
                        None => m.unmapped("creators", c),
                    }
                }
            }
            "contributors" => {
                for c in value.as_array().into_iter().flatten() {
                    collect_affiliations(c, &mut affiliations);
                    let kind = c.get("contributorType").and_then(Value::as_str).unwrap_or("Other");
                    match (name(c), kind) {
                        (Some(Name::Person(p)), "Editor") => r.editors.push(p),
                        (Some(Name::Person(p)), kind) => {
                            let role = match kind {
                                "Supervisor" => format!("{}THS", items::RELATOR),
                                "Researcher" => format!("{}RES", items::RELATOR),
                                "Sponsor" => format!("{}SPN", items::RELATOR),
                                "DataCollector" => format!("{}COM", items::RELATOR),
                                other => other.to_string(),
                            };
                            r.contributors.push(Contributor { role, person: p });
                        }
                        _ => m.unmapped("contributors", c),
                    }
                }
            }
            "publisher" => {
                let publisher = t().or_else(|| items::text(value.get("name")));
                if issuing_body {
                    m.single(&mut r.institution, &key, publisher);
                } else {
                    m.single(&mut r.publisher, &key, publisher);
                }
            }
            "publicationYear" => year = t().and_then(|y| y.parse::<i32>().ok()),
            "dates" => {
                for d in value.as_array().into_iter().flatten() {
                    let parsed = items::text(d.get("date")).and_then(|s| s.parse::<arkiv_model::PartialDate>().ok());
                    match (d.get("dateType").and_then(Value::as_str), parsed) {
                        (Some("Issued"), Some(date)) if r.date.is_none() => r.date = Some(date),
                        _ => m.unmapped("dates", d),
                    }
                }
            }
            "subjects" => {
                for s in value.as_array().into_iter().flatten() {
                    if let Some(subject) = items::text(s.get("subject")) {
                        if !r.keywords.contains(&subject) {
                            r.keywords.push(subject);
                        }
                    }
                }
            }
            "language" => r.languages.extend(t()),
            "alternateIdentifiers" => {
                for id in value.as_array().into_iter().flatten() {
                    let v = items::text(id.get("alternateIdentifier"));
                    match id.get("alternateIdentifierType").and_then(Value::as_str) {
                        Some("ISBN") if r.isbn.is_none() => r.isbn = v,
                        Some("ISSN") if r.issn.is_none() => r.issn = v,
                        Some("arXiv" | "Local") if r.id_number.is_none() => r.id_number = v,
                        _ => m.unmapped("alternateIdentifiers", id),
                    }
                }
            }
            "relatedIdentifiers" => {
                for rel in value.as_array().into_iter().flatten() {
                    let Some(id) = items::text(rel.get("relatedIdentifier")) else { continue };
                    let kind = rel.get("relatedIdentifierType").and_then(Value::as_str).unwrap_or("");
                    let relation = rel.get("relationType").and_then(Value::as_str).map(str::to_string);
                    if kind == "ISSN" && relation.as_deref() == Some("IsPublishedIn") && r.issn.is_none() {
                        r.issn = Some(id);
                        continue;
                    }
                    let url = match kind {
                        "DOI" if !id.contains("://") => format!("https://doi.org/{id}"),
                        "URL" | "DOI" => id,
                        _ => {
                            m.unmapped("relatedIdentifiers", rel);
                            continue;
                        }
                    };
                    r.related.push(RelatedLink { url, relation, description: None });
                }
            }
            "container" => {
                let title = items::text(value.get("title"));
                let series = matches!(value.get("type").and_then(Value::as_str), Some("Series" | "BookSeries"));
                if series {
                    m.single(&mut r.series, "container", title);
                } else {
                    m.single(&mut r.publication, "container", title);
                }
                m.single(&mut r.volume, "container", items::text(value.get("volume")));
                m.single(&mut r.number, "container", items::text(value.get("issue")));
                let range = pages(items::text(value.get("firstPage")), items::text(value.get("lastPage")));
                m.single(&mut r.pagerange, "container", range);
            }
            "relatedItems" => {
                for item in value.as_array().into_iter().flatten() {
                    let kind = item.get("relatedItemType").and_then(Value::as_str);
                    let title = item.get("titles").and_then(|t| t.get(0)).and_then(|t| items::text(t.get("title")));
                    let host = match kind {
                        Some("Journal") if r.publication.is_none() => &mut r.publication,
                        Some("Book") if r.book_title.is_none() => &mut r.book_title,
                        _ => {
                            m.unmapped("relatedItems", item);
                            continue;
                        }
                    };
                    *host = title;
                    m.single(&mut r.volume, "relatedItems", items::text(item.get("volume")));
                    m.single(&mut r.number, "relatedItems", items::text(item.get("issue")));
                    let range = pages(items::text(item.get("firstPage")), items::text(item.get("lastPage")));
                    m.single(&mut r.pagerange, "relatedItems", range);
                }
            }
            "sizes" => {
                for s in value.as_array().into_iter().flatten() {
                    let text = items::text(Some(s)).unwrap_or_default();
                    match text.strip_suffix(" pages").filter(|n| n.bytes().all(|b| b.is_ascii_digit())) {
                        Some(n) if r.pages.is_none() => r.pages = Some(n.to_string()),
                        _ => m.unmapped("sizes", s),
                    }
                }
            }
            "rightsList" => {
                for right in value.as_array().into_iter().flatten() {
                    let uri = items::text(right.get("rightsUri"));
                    let spdx = items::text(right.get("rightsIdentifier"));
                    let licence = match (&uri, &spdx) {
                        (Some(u), _) if u.starts_with("info:eu-repo/") => None,
                        (Some(u), _) => Some(items::licence(u)),
                        (None, Some(id)) => spdx_id(id),
                        (None, None) => None,
                    };
                    match licence {
                        Some(l) if r.license.is_none() => r.license = Some(l),
                        _ => m.unmapped("rightsList", right),
                    }
                }
            }
            "descriptions" => {
                for d in value.as_array().into_iter().flatten() {
                    let text = d.get("description").and_then(Value::as_str).and_then(items::paragraphs);
                    match d.get("descriptionType").and_then(Value::as_str) {
                        Some("Abstract") if r.abstract_text.is_none() => r.abstract_text = text,
                        Some("SeriesInformation") if r.series.is_none() => {
                            let text = text.unwrap_or_default();
                            match text.rsplit_once(", ").filter(|(_, n)| !n.contains(' ') && r.number.is_none()) {
                                Some((series, number)) => {
                                    r.series = Some(series.to_string());
                                    r.number = Some(number.to_string());
                                }
                                None => r.series = Some(text),
                            }
                        }
                        Some("Other") if r.note.is_none() => r.note = text,
                        _ => m.unmapped("descriptions", d),
                    }
                }
            }
            _ => m.unmapped(&key, &value),
        }
    }
    r.title = title.unwrap_or_default();
    if let Some(y) = year {
        match r.date {
            None => r.date = Some(arkiv_model::PartialDate::year(y)),
            Some(d) if d.year == y => {}
            Some(_) => m.unmapped("publicationYear", &Value::from(y)),
        }
    }
    for a in affiliations {
        m.unmapped("affiliation", &Value::String(a));
    }
    Ok(m.finish(r))
}

fn pages(first: Option<String>, last: Option<String>) -> Option<String> {
    match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f}-{l}")),
        (f, l) => f.or(l),
    }
}

/// `cc-by-4.0` (DataCite lower-cases SPDX ids) → `CC-BY-4.0`; other ids
/// as given.
fn spdx_id(id: &str) -> Option<String> {
    let id = id.trim();
    if id.is_empty() || id.contains(' ') {
        return None;
    }
    Some(if id.to_ascii_lowercase().starts_with("cc") { id.to_ascii_uppercase() } else { id.to_string() })
}

enum Name {
    Person(Creator),
    Body(String),
}

fn name(c: &Value) -> Option<Name> {
    let field = |k: &str| items::text(c.get(k)).unwrap_or_default();
    let (full, family, given) = (field("name"), field("familyName"), field("givenName"));
    let organisational = c.get("nameType").and_then(Value::as_str) == Some("Organizational");
    let mut person = if organisational || (family.is_empty() && given.is_empty() && !full.contains(", ")) {
        if full.is_empty() {
            return None;
        }
        return Some(Name::Body(full));
    } else if family.is_empty() && given.is_empty() {
        let (f, g) = full.split_once(", ").unwrap_or((&full, ""));
        items::person(f, g)
    } else {
        items::person(&family, &given)
    };
    person.orcid = c
        .get("nameIdentifiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|n| {
            n.get("nameIdentifierScheme").and_then(Value::as_str).is_some_and(|s| s.eq_ignore_ascii_case("ORCID"))
        })
        .find_map(|n| n.get("nameIdentifier").and_then(Value::as_str).and_then(items::orcid));
    Some(Name::Person(person))
}

fn collect_affiliations(c: &Value, out: &mut Vec<String>) {
    let affs: Vec<String> = c
        .get("affiliation")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| items::text(Some(a)).or_else(|| items::text(a.get("name"))))
        .collect();
    if !affs.is_empty() {
        out.push(format!("{}: {}", items::text(c.get("name")).unwrap_or_default(), affs.join("; ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOI: &str = r#"{"data":{"id":"10.5438/zhyx-n122","type":"dois","attributes":{
      "doi":"10.5438/zhyx-n122","xml":"PD94bWwg",
      "creators":[{"name":"Vierkant, Paul","nameType":"Personal","givenName":"Paul","familyName":"Vierkant","affiliation":["DataCite"],
         "nameIdentifiers":[{"nameIdentifier":"https://orcid.org/0000-0003-4448-3844","nameIdentifierScheme":"ORCID"}]},
         {"name":"DataCite","nameType":"Organizational"},{"name":"Edmunds, Rorie"}],
      "titles":[{"title":"Member Survey"},{"title":"2022","titleType":"Subtitle"},{"title":"Umfrage","titleType":"TranslatedTitle"}],
      "publisher":"DataCite","publicationYear":2023,"dates":[{"date":"2023-01-31","dateType":"Issued"},{"date":"2023-02-01","dateType":"Updated"}],
      "types":{"resourceTypeGeneral":"Report","resourceType":"Working Paper"},
      "contributors":[{"name":"Severini, Simone","givenName":"Simone","familyName":"Severini","contributorType":"Editor"},
         {"name":"Boss, Big","contributorType":"Supervisor"},{"name":"ETH","nameType":"Organizational","contributorType":"HostingInstitution"}],
      "subjects":[{"subject":"surveys"},{"subject":"surveys"}],"language":"en","url":"https://datacite.org/blog/x/",
      "rightsList":[{"rights":"CC BY 4.0","rightsUri":"https://creativecommons.org/licenses/by/4.0/legalcode"},{"rights":"info:eu-repo/semantics/openAccess"}],
      "descriptions":[{"description":"At the end of 2022.","descriptionType":"Abstract"},{"description":"DataCite Papers, 7","descriptionType":"SeriesInformation"}],
      "fundingReferences":[{"funderName":"EC"}],"sizes":["13 pages"],"viewCount":4}}}"#;

    #[test]
    fn one_doi_answer() {
        let imported = read_doi(DOI.as_bytes(), &ItemTypes::default()).unwrap();
        let r = &imported.record;
        assert_eq!((r.item_type.as_str(), r.subtype.as_deref()), ("working_paper", None));
        assert_eq!(r.title, "Member Survey: 2022");
        assert_eq!(r.creators[0].name.inverted(), "Vierkant, Paul");
        assert_eq!(r.creators[0].orcid.as_deref(), Some("0000-0003-4448-3844"));
        assert_eq!(r.creators[1].name.inverted(), "Edmunds, Rorie");
        assert_eq!(r.corp_creators[0].name, "DataCite");
        assert_eq!(r.editors[0].name.inverted(), "Severini, Simone");
        assert!(r.contributors[0].role.ends_with("THS"));
        assert_eq!((r.institution.as_deref(), r.publisher.as_deref()), (Some("DataCite"), None));
        assert_eq!(r.date.unwrap().to_string(), "2023-01-31");
        assert_eq!(r.keywords, ["surveys"]);
        assert_eq!(r.license.as_deref(), Some("CC-BY-4.0"));
        assert_eq!((r.series.as_deref(), r.number.as_deref()), (Some("DataCite Papers"), Some("7")));
        assert_eq!(r.abstract_text.as_deref(), Some("At the end of 2022."));
        assert_eq!(r.pages.as_deref(), Some("13"));
        assert_eq!(r.doi.as_deref(), Some("10.5438/zhyx-n122"));
        assert_eq!(r.official_url.as_deref(), Some("https://datacite.org/blog/x/"));
        let mut unmapped = imported.unmapped.clone();
        unmapped.sort();
        assert_eq!(unmapped, ["affiliation", "contributors", "dates", "fundingReferences", "rightsList", "titles"]);
        assert!(!r.extra.iter().any(|e| e.xml.contains("PD94bWwg")), "the API's copy of the XML is not kept");
    }

    #[test]
    fn a_list_answer_and_errors() {
        let text = r#"{"data":[{"id":"10.1/a","type":"dois","attributes":{"titles":[{"title":"A"}],"types":{"resourceTypeGeneral":"Dataset"}}},
          {"id":"10.1/b","type":"dois","attributes":{"titles":[],"types":{"resourceTypeGeneral":"Software"}}}],"meta":{"total":2}}"#;
        let items: Vec<_> = DataciteJsonReader::new(text.as_bytes()).collect();
        assert_eq!(items.len(), 2);
        let a = &items[0].result.as_ref().unwrap().record;
        assert_eq!((a.item_type.as_str(), a.doi.as_deref()), ("dataset", Some("10.1/a")));
        assert!(items[1].result.as_ref().unwrap_err().message.contains("title"));
        let e = read_doi(br#"{"errors":[{"status":"404","title":"not found"}]}"#, &ItemTypes::default()).unwrap_err();
        assert!(e.message.contains("not found"), "{e}");
    }
}
