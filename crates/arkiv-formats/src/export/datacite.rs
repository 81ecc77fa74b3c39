//! DataCite Metadata Schema 4.5 (namespace `http://datacite.org/schema/kernel-4`),
//! the XML a DOI is registered with and that Zenodo serves over OAI-PMH as
//! `datacite`: one `<resource>` per record.
//!
//! Written by hand (through [`super::xml::XmlOut`]) because no crate writes
//! DataCite XML. The six mandatory properties are always present:
//!
//! - `identifier`: the record's DOI. A record without one gets its landing
//!   page with `identifierType="URL"`. The 4.x schema leaves
//!   `identifierType` free (only registration requires DOI), and URL is one
//!   of the types the OpenAIRE guidelines for data archives accept for
//!   resources that have no DOI, so harvesters keep a resolvable id.
//! - `creators`: persons with given and family names and their ORCID,
//!   organisations as `Organizational`; a record with no creator gets
//!   `:unav`, DataCite's standard value for "unavailable".
//! - `titles`, `publisher` (the record's, else its institution, else the
//!   repository's name), `publicationYear` (the record's date, else the
//!   year it went live, else this year), `resourceType` with
//!   `resourceTypeGeneral` mapped from the item type.
//!
//! A list has no wrapper in the DataCite schema (its `resource` is the only
//! root). A list export is `<resources>` in no namespace around complete
//! `<resource>` elements, each declaring its own namespace and
//! schemaLocation, so each one can be cut out and validated or registered
//! on its own; nothing pretends to be a DataCite element that is not.
//!
//! Only open-access files count as available; no e-mail address leaves.

use super::xml::{
    bare_doi, bare_orcid, license_spdx, one_line, page_range, present, record_license, relator_code, xs_language,
    XmlOut,
};
use super::{ExportContext, ExportFormat, ExportWriter, OaiFormat};
use arkiv_model::{Creator, Record};
use std::io::{self, Write};

pub const DATACITE_NS: &str = "http://datacite.org/schema/kernel-4";
pub const DATACITE_SCHEMA: &str = "http://schema.datacite.org/meta/kernel-4.5/metadata.xsd";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";

pub const DATACITE: ExportFormat = ExportFormat {
    id: "datacite",
    label: "DataCite XML 4.5",
    media_type: "application/vnd.datacite.datacite+xml; charset=utf-8",
    extension: "xml",
    writer: |ctx| Box::new(DataciteWriter { ctx: ctx.clone() }),
    list_may_be_empty: true,
    oai: Some(OaiFormat {
        prefix: "datacite",
        schema: DATACITE_SCHEMA,
        namespace: DATACITE_NS,
        element: datacite_element,
    }),
};

/// The record as a standalone `<resource>` declaring its namespaces.
pub fn datacite_element(record: &Record, ctx: &ExportContext, out: &mut String) {
    write_resource(record, ctx, out, 0);
}

struct DataciteWriter {
    ctx: ExportContext,
}

impl ExportWriter for DataciteWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<resources>\n")
    }
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let mut s = String::new();
        write_resource(record, &self.ctx, &mut s, 1);
        out.write_all(s.as_bytes())
    }
    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"</resources>\n")
    }
}

/// `resourceTypeGeneral` for an item type.
fn resource_type_general(item_type: &str) -> &'static str {
    match item_type {
        "article" => "JournalArticle",
        "book" => "Book",
        "book_section" => "BookChapter",
        "conference_item" => "ConferencePaper",
        "thesis" => "Dissertation",
        "monograph" | "report" | "working_paper" | "policy_paper" => "Report",
        "dataset" => "Dataset",
        "image" => "Image",
        "video" => "Audiovisual",
        "audio" => "Sound",
        "artefact" => "PhysicalObject",
        "exhibition" | "performance" => "Event",
        "patent" | "teaching_resource" | "composition" => "Text",
        _ => "Other",
    }
}

/// A contributor role (a MARC relator) as a DataCite `contributorType`.
fn contributor_type(role: &str) -> &'static str {
    match relator_code(role).as_deref() {
        Some("edt") => "Editor",
        Some("ths" | "dgs") => "Supervisor",
        Some("res") => "Researcher",
        Some("spn" | "fnd") => "Sponsor",
        Some("com") => "DataCollector",
        _ => "Other",
    }
}

/// The DataCite relation for an EPrints `related_url` type (`pub`, `doi`,
/// `arxiv`...) or a relation already named in DataCite's terms.
fn relation_type(relation: Option<&str>) -> &'static str {
    const NAMED: &[&str] = &[
        "IsCitedBy",
        "Cites",
        "IsSupplementTo",
        "IsSupplementedBy",
        "IsContinuedBy",
        "Continues",
        "IsNewVersionOf",
        "IsPreviousVersionOf",
        "IsPartOf",
        "HasPart",
        "IsPublishedIn",
        "IsReferencedBy",
        "References",
        "IsDocumentedBy",
        "Documents",
        "IsCompiledBy",
        "Compiles",
        "IsVariantFormOf",
        "IsOriginalFormOf",
        "IsIdenticalTo",
        "IsReviewedBy",
        "Reviews",
        "IsDerivedFrom",
        "IsSourceOf",
        "Describes",
        "IsDescribedBy",
        "HasVersion",
        "IsVersionOf",
        "Requires",
        "IsRequiredBy",
        "Obsoletes",
        "IsObsoletedBy",
    ];
    let relation = relation.unwrap_or("").trim();
    if let Some(named) = NAMED.iter().find(|n| n.eq_ignore_ascii_case(relation)) {
        return named;
    }
    match relation.to_ascii_lowercase().as_str() {
        // The publisher's version, a preprint, a PubMed Central copy: the
        // same work in another form.
        "pub" | "doi" | "arxiv" | "pmc" | "posted-content" => "IsVariantFormOf",
        "dataset" | "data" | "supplement" => "IsSupplementedBy",
        _ => "References",
    }
}

fn write_person(x: &mut XmlOut, person: &Creator, element: &str, name_element: &str, attrs: &[(&str, &str)]) -> bool {
    let name = &person.name;
    let display = one_line(&name.inverted());
    if display.is_empty() {
        return false;
    }
    x.open(element, attrs);
    x.leaf(name_element, &[("nameType", "Personal")], &display);
    x.leaf("givenName", &[], &one_line(&name.given));
    x.leaf("familyName", &[], &one_line(&name.family));
    if let Some(orcid) = person.orcid.as_deref().and_then(bare_orcid) {
        x.leaf("nameIdentifier", &[("nameIdentifierScheme", "ORCID"), ("schemeURI", "https://orcid.org")], &orcid);
    }
    x.close(element);
    true
}

fn write_resource(record: &Record, ctx: &ExportContext, out: &mut String, depth: usize) {
    let location = format!("{DATACITE_NS} {DATACITE_SCHEMA}");
    let mut x = XmlOut::new(out, depth);
    x.open("resource", &[("xmlns", DATACITE_NS), ("xmlns:xsi", XSI_NS), ("xsi:schemaLocation", &location)]);
    let landing = ctx.record_url(record);
    let doi = present(&record.doi).and_then(bare_doi);
    match &doi {
        Some(doi) => x.leaf("identifier", &[("identifierType", "DOI")], doi),
        None => x.leaf("identifier", &[("identifierType", "URL")], &landing),
    }

    x.open("creators", &[]);
    let mut any_creator = false;
    for creator in &record.creators {
        any_creator |= write_person(&mut x, creator, "creator", "creatorName", &[]);
    }
    for corporate in &record.corp_creators {
        let name = one_line(&corporate.name);
        if !name.is_empty() {
            x.open("creator", &[]);
            x.leaf("creatorName", &[("nameType", "Organizational")], &name);
            x.close("creator");
            any_creator = true;
        }
    }
    if !any_creator {
        x.open("creator", &[]);
        x.leaf("creatorName", &[], ":unav");
        x.close("creator");
    }
    x.close("creators");

    x.open("titles", &[]);
    let title = one_line(&record.title);
    x.leaf("title", &[], if title.is_empty() { ":unas" } else { &title });
    x.close("titles");

    let publisher = present(&record.publisher)
        .or(present(&record.institution))
        .map(one_line)
        .unwrap_or_else(|| one_line(&ctx.repository_name));
    x.leaf("publisher", &[], if publisher.is_empty() { ":unav" } else { &publisher });

    let year = record
        .date
        .filter(|d| d.is_valid())
        .map(|d| d.year)
        .or_else(|| record.datestamp.and_then(|t| t.day()[..4].parse().ok()))
        .unwrap_or(ctx.today.year);
    x.leaf("publicationYear", &[], &format!("{:04}", year.clamp(0, 9999)));
    x.leaf(
        "resourceType",
        &[("resourceTypeGeneral", resource_type_general(&record.item_type))],
        // "Working Paper", "PhD thesis" where the record says which kind.
        &super::fields::kind_label(record, &ctx.item_types),
    );

    let keywords: Vec<String> = record.keywords.iter().map(|k| one_line(k)).filter(|k| !k.is_empty()).collect();
    if !record.subjects.is_empty() || !keywords.is_empty() {
        x.open("subjects", &[]);
        for subject in &record.subjects {
            x.leaf("subject", &[("subjectScheme", &ctx.repository_name)], ctx.subjects.name(subject));
        }
        for keyword in &keywords {
            x.leaf("subject", &[], keyword);
        }
        x.close("subjects");
    }

    if !record.editors.is_empty() || !record.contributors.is_empty() {
        x.open("contributors", &[]);
        for editor in &record.editors {
            write_person(&mut x, editor, "contributor", "contributorName", &[("contributorType", "Editor")]);
        }
        for contributor in &record.contributors {
            write_person(
                &mut x,
                &contributor.person,
                "contributor",
                "contributorName",
                &[("contributorType", contributor_type(&contributor.role))],
            );
        }
        x.close("contributors");
    }

    let issued = record.date.filter(|d| d.is_valid());
    if issued.is_some() || record.datestamp.is_some() || record.lastmod.is_some() {
        x.open("dates", &[]);
        if let Some(date) = issued {
            let kind = match record.date_type.as_deref() {
                Some("submitted") => "Submitted",
                Some("completed") => "Created",
                _ => "Issued",
            };
            x.leaf("date", &[("dateType", kind)], &date.to_string());
        }
        if let Some(live) = record.datestamp {
            x.leaf("date", &[("dateType", "Available")], &live.day());
        }
        if let Some(changed) = record.lastmod {
            x.leaf("date", &[("dateType", "Updated")], &changed.day());
        }
        x.close("dates");
    }

    if let Some(language) = record.languages.iter().find_map(|l| xs_language(l)) {
        x.leaf("language", &[], &language);
    }

    x.open("alternateIdentifiers", &[]);
    if doi.is_some() {
        x.leaf("alternateIdentifier", &[("alternateIdentifierType", "URL")], &landing);
    }
    x.leaf("alternateIdentifier", &[("alternateIdentifierType", "OAI")], &ctx.oai_identifier(record));
    x.opt_leaf("alternateIdentifier", &[("alternateIdentifierType", "ISBN")], present(&record.isbn));
    if present(&record.publication).is_none() {
        x.opt_leaf("alternateIdentifier", &[("alternateIdentifierType", "ISSN")], present(&record.issn));
    }
    if let Some(other) = present(&record.id_number) {
        let kind = if other.starts_with("arXiv:") { "arXiv" } else { "Local" };
        x.leaf("alternateIdentifier", &[("alternateIdentifierType", kind)], other);
    }
    x.close("alternateIdentifiers");

    let related: Vec<(String, &str, &str)> = record
        .related
        .iter()
        .filter_map(|link| {
            let url = link.url.trim();
            if url.is_empty() {
                return None;
            }
            let relation = relation_type(link.relation.as_deref());
            Some(match bare_doi(url).filter(|_| url.contains("doi")) {
                Some(doi) => (doi, "DOI", relation),
                None if url.starts_with("http://") || url.starts_with("https://") => (url.to_string(), "URL", relation),
                None => return None,
            })
        })
        .collect();
    // A new version names the record it succeeds by its landing page (both
    // stay live; DataCite's pair is IsNewVersionOf / IsPreviousVersionOf).
    let mut related = related;
    if let Some(earlier) = ctx.earlier_version_url(record) {
        related.push((earlier, "URL", "IsNewVersionOf"));
    }
    let host_issn = present(&record.issn).filter(|_| present(&record.publication).is_some());
    if !related.is_empty() || host_issn.is_some() {
        x.open("relatedIdentifiers", &[]);
        if let Some(issn) = host_issn {
            x.leaf("relatedIdentifier", &[("relatedIdentifierType", "ISSN"), ("relationType", "IsPublishedIn")], issn);
        }
        for (value, kind, relation) in &related {
            x.leaf("relatedIdentifier", &[("relatedIdentifierType", kind), ("relationType", relation)], value);
        }
        x.close("relatedIdentifiers");
    }

    let open: Vec<_> = ctx.open_documents(record).collect();
    let mut formats: Vec<&str> = open
        .iter()
        .filter_map(|(d, _)| d.mime_type.as_deref().or(d.main_file().and_then(|f| f.mime_type.as_deref())))
        .collect();
    formats.sort();
    formats.dedup();
    if let Some(pages) = present(&record.pages) {
        x.open("sizes", &[]);
        let size = if pages.chars().all(|c| c.is_ascii_digit()) { format!("{pages} pages") } else { one_line(pages) };
        x.leaf("size", &[], &size);
        x.close("sizes");
    }
    if !formats.is_empty() {
        x.open("formats", &[]);
        for f in &formats {
            x.leaf("format", &[], f);
        }
        x.close("formats");
    }

    let license = record_license(record, ctx);
    let access = if record.documents.is_empty() {
        None
    } else if !open.is_empty() {
        Some(("info:eu-repo/semantics/openAccess", "Open Access"))
    } else if record
        .documents
        .iter()
        .any(|d| d.embargo.is_some_and(|e| !arkiv_model::document::embargo_over(e, ctx.today)))
    {
        Some(("info:eu-repo/semantics/embargoedAccess", "Embargoed Access"))
    } else {
        Some(("info:eu-repo/semantics/restrictedAccess", "Restricted Access"))
    };
    if license.is_some() || access.is_some() {
        x.open("rightsList", &[]);
        if let Some(license) = &license {
            match super::fields::license_url(license) {
                Some(url) => match license_spdx(&url) {
                    Some(spdx) => x.leaf(
                        "rights",
                        &[
                            ("rightsURI", &url),
                            ("rightsIdentifier", &spdx),
                            ("rightsIdentifierScheme", "SPDX"),
                            ("schemeURI", "https://spdx.org/licenses/"),
                        ],
                        &spdx,
                    ),
                    None => x.leaf("rights", &[("rightsURI", &url)], license),
                },
                None => x.leaf("rights", &[], license),
            }
        }
        if let Some((uri, text)) = access {
            x.leaf("rights", &[("rightsURI", uri)], text);
        }
        x.close("rightsList");
    }

    let series = present(&record.series).map(|s| match present(&record.number) {
        Some(n) => format!("{}, {}", one_line(s), one_line(n)),
        None => one_line(s),
    });
    if present(&record.abstract_text).is_some() || series.is_some() || present(&record.note).is_some() {
        x.open("descriptions", &[]);
        x.opt_leaf("description", &[("descriptionType", "Abstract")], present(&record.abstract_text));
        x.opt_leaf("description", &[("descriptionType", "SeriesInformation")], series.as_deref());
        x.opt_leaf("description", &[("descriptionType", "Other")], present(&record.note));
        x.close("descriptions");
    }

    write_host(record, &mut x);
    x.close("resource");
}

/// The journal or book the record appeared in, as a DataCite `relatedItem`
/// (volume, issue, pages), the way Zenodo describes journal articles.
fn write_host(record: &Record, x: &mut XmlOut) {
    let (host, kind, relation) = if let Some(journal) = present(&record.publication) {
        (journal, "Journal", "IsPublishedIn")
    } else if let Some(book) = present(&record.book_title) {
        (book, "Book", "IsPartOf")
    } else {
        return;
    };
    x.open("relatedItems", &[]);
    x.open("relatedItem", &[("relatedItemType", kind), ("relationType", relation)]);
    let identifier = if kind == "Journal" {
        present(&record.issn).map(|i| ("ISSN", i))
    } else {
        present(&record.isbn).map(|i| ("ISBN", i))
    };
    if let Some((scheme, value)) = identifier {
        x.leaf("relatedItemIdentifier", &[("relatedItemIdentifierType", scheme)], value);
    }
    x.open("titles", &[]);
    x.leaf("title", &[], &one_line(host));
    x.close("titles");
    x.opt_leaf("volume", &[], present(&record.volume));
    if present(&record.series).is_none() {
        x.opt_leaf("issue", &[], present(&record.number));
    }
    if let Some(range) = present(&record.pagerange) {
        let (first, last) = page_range(range);
        x.opt_leaf("firstPage", &[], first.as_deref());
        x.opt_leaf("lastPage", &[], last.as_deref());
    }
    x.close("relatedItem");
    x.close("relatedItems");
}
