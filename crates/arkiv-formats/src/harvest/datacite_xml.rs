//! A DataCite kernel-4 `<resource>` as a record: the inverse of
//! [`crate::export::datacite`], and what Zenodo serves as `datacite`.
//!
//! | property | field |
//! |---|---|
//! | `identifier` DOI | doi (URL type: official_url) |
//! | `creators` | `Organizational` → corporate creators; else a person from `givenName`/`familyName`, else from `creatorName` by RIS's rule; an ORCID `nameIdentifier` → orcid; `:unav` skipped |
//! | `titles` | the first without `titleType`; the others unmapped |
//! | `publisher` | publisher |
//! | `publicationYear`, `dates` | date: an `Issued` date (else `Submitted`, `Created`, which set date_type) to its precision, else the year; other dates unmapped |
//! | `resourceType` | its text as the repository's type label, a monograph's subtype or "X thesis"; else `resourceTypeGeneral` through the vocabularies; else `other` with a warning |
//! | `subjects` | keywords |
//! | `contributors` | `Editor` → editors; `Supervisor`, `Researcher`, `Sponsor`, `DataCollector` and the rest → contributors with the MARC relator; organisations unmapped |
//! | `language` | languages |
//! | `alternateIdentifiers` | ISBN, ISSN, arXiv/Local → id_number, URL → official_url; the header's OAI id dropped |
//! | `relatedIdentifiers` | ISSN `IsPublishedIn` → issn; DOI and URL → related links (relation = `relationType`) |
//! | `relatedItems` | a Journal → publication, volume, issue, pages, ISSN; a Book → book_title, ISBN |
//! | `sizes` | "N pages" → pages |
//! | `rightsList` | a licence URI → licence ([`super::license_from_url`]); text alone → licence; access rights unmapped |
//! | `descriptions` | `Abstract` → abstract; `SeriesInformation` → series (and "Series, 12" → number); `Other` → note |
//! | anything else (`formats`, `fundingReferences`, `geoLocations`, `version`...) | unmapped, as its text |

use super::{bare_orcid, doi_of, license_from_url, parse_date, resolve_type, type_by_label, Mapper, Node};
use crate::eprints::clip;
use crate::labels::{author, is_web_url, person, Author};
use crate::ImportedRecord;
use arkiv_model::{Contributor, CorporateCreator, Creator, ItemTypes, PersonName, Record, RelatedLink, Status};

const RELATORS: &str = "http://www.loc.gov/loc.terms/relators/";

/// Kernel 4 (and the kernel 3 namespace, whose shape is the same for what
/// is read here).
pub(crate) fn is_datacite_ns(ns: &str) -> bool {
    ns == "http://datacite.org/schema/kernel-4" || ns == "http://datacite.org/schema/kernel-3"
}

fn unmapped(m: &mut Mapper, e: &Node, value: &str) {
    m.unmapped(&format!("datacite_{}", e.name), &format!("DataCite <{}>", e.name), value);
}

pub(crate) fn read(resource: &Node, types: &ItemTypes, oai_identifier: &str) -> Result<ImportedRecord, String> {
    let mut m = Mapper::default();
    let mut r = Record { status: Status::Archive, ..Default::default() };
    let mut title = None;
    let mut year = None;
    let mut dated: Option<(u8, arkiv_model::PartialDate, Option<&str>)> = None;
    let mut resource_type = None;
    for e in &resource.children {
        match e.name.as_str() {
            "identifier" => {
                let v = e.text.trim();
                match e.attr("identifierType").unwrap_or("").to_ascii_uppercase().as_str() {
                    "DOI" => match doi_of(&format!("doi:{}", v.trim_start_matches("doi:"))).or_else(|| doi_of(v)) {
                        Some(doi) => r.doi = Some(doi),
                        None => unmapped(&mut m, e, v),
                    },
                    "URL" => r.official_url = Some(v.to_string()).filter(|v| !v.is_empty()),
                    _ => unmapped(&mut m, e, v),
                }
            }
            "creators" => {
                for c in e.children.iter().filter(|c| c.name == "creator") {
                    creator(&mut r, c);
                }
            }
            "titles" => {
                for t in e.children.iter().filter(|t| t.name == "title") {
                    let v = t.all_text();
                    if t.attr("titleType").is_none() && title.is_none() {
                        title = Some(v).filter(|v| v != ":unas" && v != ":unav");
                    } else {
                        unmapped(&mut m, t, &v);
                    }
                }
            }
            "publisher" => {
                let v = e.all_text();
                if v != ":unav" {
                    m.single(&mut r.publisher, "datacite_publisher", "DataCite <publisher>", &v);
                }
            }
            "publicationYear" => match e.text.trim().parse::<i32>() {
                Ok(y) if (0..=9999).contains(&y) => year = Some(y),
                _ => unmapped(&mut m, e, &e.all_text()),
            },
            "resourceType" => resource_type = Some((e.attr("resourceTypeGeneral").unwrap_or(""), e.all_text())),
            "subjects" => {
                for s in &e.children {
                    let v = s.all_text();
                    if !v.is_empty() && !r.keywords.iter().any(|k| k.eq_ignore_ascii_case(&v)) {
                        r.keywords.push(v);
                    }
                }
            }
            "contributors" => {
                for c in e.children.iter().filter(|c| c.name == "contributor") {
                    contributor(&mut m, &mut r, c);
                }
            }
            "dates" => {
                for d in &e.children {
                    let kind = d.attr("dateType").unwrap_or("");
                    let rank = match kind {
                        "Issued" => Some((3, None)),
                        "Submitted" => Some((2, Some("submitted"))),
                        "Created" => Some((1, Some("completed"))),
                        _ => None,
                    };
                    match (rank, parse_date(&d.text).filter(|_| !d.text.contains('/'))) {
                        (Some((rank, date_type)), Some(date)) if dated.is_none_or(|(best, ..)| rank > best) => {
                            dated = Some((rank, date, date_type));
                        }
                        _ => unmapped(&mut m, d, &format!("{kind} {}", d.all_text())),
                    }
                }
            }
            "language" => {
                let l = e.all_text().to_lowercase();
                if !l.is_empty() {
                    r.languages.push(l);
                }
            }
            "alternateIdentifiers" => {
                for a in &e.children {
                    let v = a.all_text();
                    match a.attr("alternateIdentifierType").unwrap_or("").to_ascii_lowercase().as_str() {
                        "isbn" => m.single(&mut r.isbn, "datacite_alternateIdentifier", "DataCite ISBN", &v),
                        "issn" => m.single(&mut r.issn, "datacite_alternateIdentifier", "DataCite ISSN", &v),
                        "arxiv" | "local" => {
                            m.single(&mut r.id_number, "datacite_alternateIdentifier", "DataCite identifier", &v)
                        }
                        "url" if r.official_url.is_none() => r.official_url = Some(v),
                        "oai" if v == oai_identifier => {}
                        _ => unmapped(&mut m, a, &v),
                    }
                }
            }
            "relatedIdentifiers" => {
                for a in &e.children {
                    related(&mut m, &mut r, a);
                }
            }
            "relatedItems" => {
                for item in &e.children {
                    related_item(&mut m, &mut r, item);
                }
            }
            "sizes" => {
                for s in &e.children {
                    let v = s.all_text();
                    match v.strip_suffix(" pages").filter(|n| n.bytes().all(|b| b.is_ascii_digit())) {
                        Some(n) if r.pages.is_none() => r.pages = Some(n.to_string()),
                        _ => unmapped(&mut m, s, &v),
                    }
                }
            }
            "rightsList" => {
                let mut texts = Vec::new();
                let mut from_uri = None;
                for right in &e.children {
                    let uri = right.attr("rightsURI").unwrap_or("").trim();
                    let text = right.all_text();
                    if uri.starts_with("info:eu-repo/semantics/") {
                        unmapped(&mut m, right, if text.is_empty() { uri } else { &text });
                    } else if is_web_url(uri) && from_uri.is_none() {
                        from_uri = Some(license_from_url(uri));
                    } else if !text.is_empty() {
                        texts.push((right, text));
                    }
                }
                // The text beside a licence URI is its name or SPDX id.
                let mut texts = texts.into_iter();
                let licence = from_uri.or_else(|| texts.next().map(|(_, t)| t));
                if r.license.is_none() {
                    r.license = licence;
                }
                if r.license.as_deref().is_some_and(|l| l.starts_with("http")) {
                    for (right, text) in texts {
                        unmapped(&mut m, right, &text);
                    }
                }
            }
            "descriptions" => {
                for d in &e.children {
                    let v = d.text.trim().to_string();
                    let v = if v.is_empty() { d.all_text() } else { v };
                    match d.attr("descriptionType").unwrap_or("") {
                        "Abstract" if r.abstract_text.is_none() => r.abstract_text = Some(v),
                        "SeriesInformation" if r.series.is_none() => {
                            let (series, number) = series_and_number(&v);
                            r.series = Some(series);
                            r.number = number;
                        }
                        "Other" if r.note.is_none() => r.note = Some(v),
                        _ => unmapped(&mut m, d, &v),
                    }
                }
            }
            _ => unmapped(&mut m, e, &e.all_text()),
        }
    }
    r.title = title.unwrap_or_default();
    r.date = match (dated, year) {
        (Some((_, date, date_type)), _) => {
            r.date_type = date_type.map(Into::into);
            Some(date)
        }
        (None, Some(y)) => Some(arkiv_model::PartialDate::year(y)),
        (None, None) => None,
    };
    let (item_type, subtype) = match resource_type {
        Some((general, text)) => match kind_from_label(&text, types)
            .or_else(|| resolve_type(general, types))
            .or_else(|| resolve_type(&text, types))
        {
            Some(found) => found,
            None => {
                m.warn(format!(
                    "resource type {:?} ({general}) is no type this repository knows; read as other",
                    clip(&text)
                ));
                m.unmapped("datacite_resourceType", "DataCite <resourceType>", &format!("{general} {text}"));
                ("other".into(), None)
            }
        },
        None => {
            m.warn("no resourceType; read as other".into());
            ("other".into(), None)
        }
    };
    r.item_type = item_type;
    r.subtype = subtype;
    Ok(m.into_record(r))
}

/// `resourceType`'s text as Arkiv writes it (`fields::kind_label`): the
/// repository's type label ("Policy Paper"), a monograph's subtype
/// ("Technical Report"), a thesis's ("PhD thesis").
fn kind_from_label(label: &str, types: &ItemTypes) -> Option<(String, Option<String>)> {
    let label = label.trim();
    if label.is_empty() {
        return None;
    }
    if let Some(key) = type_by_label(label, types) {
        return Some((key, None));
    }
    if let Some(words) = label.strip_suffix(" thesis") {
        let key = arkiv_model::subtype_keys("thesis")
            .iter()
            .find(|k| arkiv_model::subtype_label(k).eq_ignore_ascii_case(words.trim()))?;
        return Some(("thesis".into(), Some(key.to_string())));
    }
    let key = arkiv_model::subtype_keys("monograph")
        .iter()
        .find(|k| arkiv_model::subtype_label(k).eq_ignore_ascii_case(label))?;
    Some(("monograph".into(), Some(key.to_string())))
}

/// "OSW Commentary, 137": the series and, after the last comma, a number
/// when that is one word holding a digit.
fn series_and_number(text: &str) -> (String, Option<String>) {
    if let Some((series, number)) = text.rsplit_once(", ") {
        let number = number.trim();
        if !number.contains(' ') && number.bytes().any(|b| b.is_ascii_digit()) && !series.trim().is_empty() {
            return (series.trim().to_string(), Some(number.to_string()));
        }
    }
    (text.trim().to_string(), None)
}

/// A person of a `creator` or `contributor`: given and family names when
/// given, else the display name by RIS's rule; its ORCID.
fn read_person(e: &Node, name_element: &str) -> Option<Result<Creator, CorporateCreator>> {
    let name = e.child_any(name_element);
    let display = name.map(Node::all_text).unwrap_or_default();
    if display.is_empty() || display == ":unav" || display == ":unas" {
        return None;
    }
    let kind = name.and_then(|n| n.attr("nameType")).unwrap_or("");
    if kind == "Organizational" {
        return Some(Err(CorporateCreator { name: display, id: None }));
    }
    let given = e.child_any("givenName").map(Node::all_text).unwrap_or_default();
    let family = e.child_any("familyName").map(Node::all_text).unwrap_or_default();
    let mut c = if !family.is_empty() {
        Creator { name: PersonName::new(family, given), ..Default::default() }
    } else if kind == "Personal" {
        person(&display)
    } else {
        match author(&display) {
            Author::Person(c) => c,
            Author::Body(b) => return Some(Err(b)),
        }
    };
    c.orcid = e
        .children
        .iter()
        .filter(|i| i.name == "nameIdentifier")
        .filter(|i| i.attr("nameIdentifierScheme").is_some_and(|s| s.eq_ignore_ascii_case("ORCID")))
        .find_map(|i| bare_orcid(&i.text));
    Some(Ok(c))
}

fn creator(r: &mut Record, c: &Node) {
    match read_person(c, "creatorName") {
        Some(Ok(p)) => r.creators.push(p),
        Some(Err(body)) => r.corp_creators.push(body),
        None => {}
    }
}

fn contributor(m: &mut Mapper, r: &mut Record, c: &Node) {
    let kind = c.attr("contributorType").unwrap_or("Other");
    match read_person(c, "contributorName") {
        Some(Ok(p)) if kind == "Editor" => r.editors.push(p),
        Some(Ok(p)) => {
            let code = match kind {
                "Supervisor" => "THS",
                "Researcher" => "RES",
                "Sponsor" => "SPN",
                "DataCollector" => "COM",
                _ => "CTB",
            };
            r.contributors.push(Contributor { role: format!("{RELATORS}{code}"), person: p });
        }
        Some(Err(body)) => unmapped(m, c, &format!("{kind} {}", body.name)),
        None => {}
    }
}

fn related(m: &mut Mapper, r: &mut Record, a: &Node) {
    let v = a.all_text();
    let relation = a.attr("relationType").map(str::to_string);
    match a.attr("relatedIdentifierType").unwrap_or("").to_ascii_uppercase().as_str() {
        "ISSN" if relation.as_deref() == Some("IsPublishedIn") && r.issn.is_none() => r.issn = Some(v),
        "DOI" => match doi_of(&format!("doi:{}", v.trim_start_matches("doi:"))).or_else(|| doi_of(&v)) {
            Some(doi) => {
                r.related.push(RelatedLink { url: format!("https://doi.org/{doi}"), relation, description: None })
            }
            None => unmapped(m, a, &v),
        },
        "URL" if is_web_url(&v) => r.related.push(RelatedLink { url: v, relation, description: None }),
        kind => unmapped(m, a, &format!("{} {kind} {v}", relation.as_deref().unwrap_or(""))),
    }
}

fn related_item(m: &mut Mapper, r: &mut Record, item: &Node) {
    let kind = item.attr("relatedItemType").unwrap_or("");
    let title = item.child_any("titles").and_then(|t| t.child_any("title")).map(Node::all_text).unwrap_or_default();
    let journal = match kind {
        "Journal" if r.publication.is_none() => true,
        "Book" if r.book_title.is_none() => false,
        _ => return unmapped(m, item, &item.all_text()),
    };
    if journal {
        r.publication = Some(title).filter(|t| !t.is_empty());
    } else {
        r.book_title = Some(title).filter(|t| !t.is_empty());
    }
    let text = |name: &str| item.child_any(name).map(Node::all_text).filter(|t| !t.is_empty());
    if let Some(id) = item.child_any("relatedItemIdentifier") {
        match id.attr("relatedItemIdentifierType").unwrap_or("") {
            "ISSN" if r.issn.is_none() => r.issn = Some(id.all_text()),
            "ISBN" if r.isbn.is_none() => r.isbn = Some(id.all_text()),
            _ => unmapped(m, id, &id.all_text()),
        }
    }
    r.volume = text("volume").or(r.volume.take());
    if let Some(issue) = text("issue") {
        r.number.get_or_insert(issue);
    }
    r.pagerange = match (text("firstPage"), text("lastPage")) {
        (Some(first), Some(last)) => Some(format!("{first}-{last}")),
        (first, last) => first.or(last).or(r.pagerange.take()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zenodo_software_record() {
        let xml = r#"<resource xmlns="http://datacite.org/schema/kernel-4">
          <identifier identifierType="DOI">10.5281/zenodo.10357859</identifier>
          <creators><creator><creatorName nameType="Personal">Klar, Jochen</creatorName><givenName>Jochen</givenName><familyName>Klar</familyName><nameIdentifier nameIdentifierScheme="ORCID">0000-0002-5883-4273</nameIdentifier></creator>
          <creator><creatorName nameType="Organizational">RDMO</creatorName></creator></creators>
          <titles><title>RDMO</title><title titleType="Subtitle">sub</title></titles>
          <publisher>Zenodo</publisher><publicationYear>2023</publicationYear>
          <dates><date dateType="Issued">2023-12-11</date><date dateType="Updated">2024-01-01</date></dates>
          <resourceType resourceTypeGeneral="Software"/>
          <subjects><subject>research data</subject></subjects>
          <contributors><contributor contributorType="Editor"><contributorName>Doe, Jane</contributorName></contributor></contributors>
          <relatedIdentifiers><relatedIdentifier relatedIdentifierType="URL" relationType="IsSupplementTo">https://github.com/rdmorganiser/rdmo/tree/2.0.2</relatedIdentifier></relatedIdentifiers>
          <rightsList><rights rightsURI="https://www.apache.org/licenses/LICENSE-2.0">Apache License 2.0</rights><rights rightsURI="info:eu-repo/semantics/openAccess">Open Access</rights></rightsList>
          <descriptions><description descriptionType="Abstract">RDMO is a tool.</description></descriptions>
          <version>2.0.2</version>
        </resource>"#;
        let node = super::super::parse(xml.as_bytes()).unwrap();
        let i = read(&node, &ItemTypes::default(), "oai:zenodo.org:10357859").unwrap();
        let r = &i.record;
        assert_eq!((r.title.as_str(), r.item_type.as_str()), ("RDMO", "other"));
        assert_eq!(r.doi.as_deref(), Some("10.5281/zenodo.10357859"));
        assert_eq!(r.creators[0].name.inverted(), "Klar, Jochen");
        assert_eq!(r.creators[0].orcid.as_deref(), Some("0000-0002-5883-4273"));
        assert_eq!(r.corp_creators[0].name, "RDMO");
        assert_eq!(r.date.unwrap().to_string(), "2023-12-11");
        assert_eq!(r.editors[0].name.inverted(), "Doe, Jane");
        assert_eq!(r.related[0].relation.as_deref(), Some("IsSupplementTo"));
        assert_eq!(r.license.as_deref(), Some("https://www.apache.org/licenses/LICENSE-2.0"));
        assert_eq!(r.abstract_text.as_deref(), Some("RDMO is a tool."));
        assert_eq!(i.unmapped, ["datacite_title", "datacite_date", "datacite_rights", "datacite_version"]);
        assert_eq!(series_and_number("OSW Commentary, 137"), ("OSW Commentary".into(), Some("137".into())));
        assert_eq!(series_and_number("Studies, Essays"), ("Studies, Essays".into(), None));
    }
}
