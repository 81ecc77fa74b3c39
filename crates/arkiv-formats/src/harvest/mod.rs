//! Reading OAI-PMH answers, for harvesting other repositories: the
//! envelope here, the metadata formats in [`dublin_core`] (`oai_dc`) and
//! [`datacite_xml`] (DataCite kernel 4), and `ep3` through the EPrints XML
//! reader ([`crate::EprintsReader`]), so that an EPrints record is mapped
//! one way whichever door it comes in by.
//!
//! An answer is one HTTP body, already in memory, so it is read into a small
//! tree first (element names resolved by namespace URI, never by prefix:
//! sources use any prefixes) and then walked. The tree is bounded:
//!
//! * elements nested deeper than [`MAX_DEPTH`] make the answer an `Err`
//!   (no OAI-PMH answer nests more than about twenty deep);
//! * the text of one element past [`MAX_TEXT_BYTES`] is not kept, and the
//!   record it is in fails (its metadata is `Some(Err(..))`);
//! * a `DOCTYPE` makes the answer an `Err`: no entity is ever declared or
//!   expanded, only XML's five predefined entities and character
//!   references are read.
//!
//! What is an `Err` of the whole answer (the harvester retries or stops
//! with the message): XML that is not well-formed, a root that is not
//! `OAI-PMH` in the OAI-PMH 2.0 namespace, an encoding other than UTF-8,
//! an answer to another verb than the function reads. What is not:
//!
//! * `<error code="...">` elements (`noRecordsMatch`, `badResumptionToken`,
//!   `idDoesNotExist`) go into [`OaiPage::errors`], beside any records;
//! * a record whose metadata cannot be mapped (no title, a shape other than
//!   the prefix's, a record the model refuses through
//!   [`arkiv_model::validate`]) is that record's `metadata: Some(Err(..))`,
//!   and the other records of the page read;
//! * a deleted record (`<header status="deleted">`) has `deleted: true` and
//!   `metadata: None`.
//!
//! An empty `<resumptionToken/>` (the last page of a list) is `None`, as is
//! an absent one; its `completeListSize`, `cursor` and `expirationDate` are
//! kept when given.
//!
//! Every record read is `Status::Archive` (it is live at its source). What
//! no field takes is kept in `record.extra` as a flat element
//! (`<dc_format>application/pdf</dc_format>`), named in
//! [`ImportedRecord::unmapped`] and in a warning: nothing read is lost
//! silently.

mod datacite_xml;
mod dublin_core;

use crate::{ImportedRecord, RecordError};
use arkiv_model::{ExtraField, ItemTypes, PartialDate};
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// The OAI-PMH 2.0 namespace.
pub const OAI_NS: &str = "http://www.openarchives.org/OAI/2.0/";
/// Deepest nesting of elements an answer may have.
pub const MAX_DEPTH: usize = 100;
/// Longest text of one element, in bytes after unescaping.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// The metadata formats Arkiv harvests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataPrefix {
    /// `oai_dc`: simple Dublin Core.
    OaiDc,
    /// `datacite`: the DataCite Metadata Schema (kernel 4).
    Datacite,
    /// `ep3`: EPrints 3 XML, one `<eprint>`.
    Ep3,
}

impl MetadataPrefix {
    pub fn as_str(self) -> &'static str {
        match self {
            MetadataPrefix::OaiDc => "oai_dc",
            MetadataPrefix::Datacite => "datacite",
            MetadataPrefix::Ep3 => "ep3",
        }
    }
    pub fn parse(prefix: &str) -> Option<Self> {
        match prefix {
            "oai_dc" => Some(MetadataPrefix::OaiDc),
            "datacite" | "oai_datacite" => Some(MetadataPrefix::Datacite),
            "ep3" | "eprints" => Some(MetadataPrefix::Ep3),
            _ => None,
        }
    }
}

/// An OAI-PMH error the source answered with (`<error code="...">`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OaiError {
    pub code: String,
    pub message: String,
}

/// One record of a `ListRecords` (or `GetRecord`) answer.
#[derive(Debug)]
pub struct HarvestedRecord {
    /// The header's `<identifier>`.
    pub identifier: String,
    /// The header's `<datestamp>`, as written.
    pub datestamp: String,
    /// `status="deleted"` in the header.
    pub deleted: bool,
    /// The header's `<setSpec>`s.
    pub sets: Vec<String>,
    /// The metadata, read as a record; `None` for a deleted record (and for
    /// every header of a `ListIdentifiers` answer).
    pub metadata: Option<Result<ImportedRecord, RecordError>>,
}

/// One OAI-PMH answer to `ListRecords` or `GetRecord` (or, through
/// [`read_list_identifiers`], `ListIdentifiers`).
#[derive(Debug, Default)]
pub struct OaiPage {
    pub response_date: Option<String>,
    pub records: Vec<HarvestedRecord>,
    /// The `<resumptionToken>`'s text; `None` when absent or empty (the
    /// list is complete).
    pub resumption_token: Option<String>,
    pub complete_list_size: Option<u64>,
    /// The errors the answer carries (`noRecordsMatch` among them).
    pub errors: Vec<OaiError>,
    /// The resumption token's `cursor`, when given.
    pub cursor: Option<u64>,
    /// The resumption token's `expirationDate`, as written.
    pub token_expiration: Option<String>,
}

/// What an `Identify` answer says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identify {
    pub repository_name: String,
    pub base_url: String,
    pub earliest_datestamp: String,
    /// `YYYY-MM-DD` or `YYYY-MM-DDThh:mm:ssZ`.
    pub granularity: String,
    /// `no`, `transient` or `persistent`.
    pub deleted_record: String,
}

/// One set of a `ListSets` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OaiSet {
    pub spec: String,
    pub name: String,
}

/// One `ListSets` answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OaiSets {
    pub sets: Vec<OaiSet>,
    /// As [`OaiPage::resumption_token`].
    pub resumption_token: Option<String>,
    pub complete_list_size: Option<u64>,
    pub errors: Vec<OaiError>,
}

/// Reads one `ListRecords` or `GetRecord` answer, its records' metadata as
/// `prefix` (see the module docs for what is an `Err`). `types` are the
/// harvesting repository's item types: records are mapped onto them and
/// checked against them.
pub fn read_page(xml: &[u8], prefix: MetadataPrefix, types: &ItemTypes) -> Result<OaiPage, RecordError> {
    let doc = parse(xml)?;
    let root = oai_root(&doc)?;
    let mut page = envelope(root);
    let Some(verb) = verb_element(root) else { return Ok(page) };
    if verb.name != "ListRecords" && verb.name != "GetRecord" {
        return Err(RecordError::new(format!(
            "a {} answer, not ListRecords or GetRecord: this page holds no records",
            verb.name
        )));
    }
    for record in verb.elems_named(OAI_NS, "record") {
        let scope = [&root.decls[..], &verb.decls, &record.decls];
        page.records.push(read_record(record, prefix, types, &scope, xml));
    }
    resumption(verb, &mut page);
    Ok(page)
}

/// Reads a `ListIdentifiers` answer: each header is a record whose
/// `metadata` is `None` (`deleted` tells which are gone).
pub fn read_list_identifiers(xml: &[u8]) -> Result<OaiPage, RecordError> {
    let doc = parse(xml)?;
    let root = oai_root(&doc)?;
    let mut page = envelope(root);
    let Some(verb) = verb_element(root) else { return Ok(page) };
    if verb.name != "ListIdentifiers" {
        return Err(RecordError::new(format!("a {} answer, not ListIdentifiers", verb.name)));
    }
    for header in verb.elems_named(OAI_NS, "header") {
        let (identifier, datestamp, deleted, sets) = read_header(header);
        page.records.push(HarvestedRecord { identifier, datestamp, deleted, sets, metadata: None });
    }
    resumption(verb, &mut page);
    Ok(page)
}

/// Reads a `ListSets` answer.
pub fn read_list_sets(xml: &[u8]) -> Result<OaiSets, RecordError> {
    let doc = parse(xml)?;
    let root = oai_root(&doc)?;
    let page = envelope(root);
    let mut sets = OaiSets { errors: page.errors, ..Default::default() };
    let Some(verb) = verb_element(root) else { return Ok(sets) };
    if verb.name != "ListSets" {
        return Err(RecordError::new(format!("a {} answer, not ListSets", verb.name)));
    }
    for set in verb.elems_named(OAI_NS, "set") {
        sets.sets.push(OaiSet { spec: set.child_text(OAI_NS, "setSpec"), name: set.child_text(OAI_NS, "setName") });
    }
    let mut token = OaiPage::default();
    resumption(verb, &mut token);
    (sets.resumption_token, sets.complete_list_size) = (token.resumption_token, token.complete_list_size);
    Ok(sets)
}

/// Reads an `Identify` answer. An answer that carries an OAI-PMH error
/// instead is an `Err` naming it.
pub fn read_identify(xml: &[u8]) -> Result<Identify, RecordError> {
    let doc = parse(xml)?;
    let root = oai_root(&doc)?;
    let page = envelope(root);
    let Some(identify) = root.child(OAI_NS, "Identify") else {
        return Err(match page.errors.first() {
            Some(e) => RecordError::new(format!("the source answered Identify with error {}: {}", e.code, e.message)),
            None => RecordError::new("not an Identify answer: no <Identify> element"),
        });
    };
    Ok(Identify {
        repository_name: identify.child_text(OAI_NS, "repositoryName"),
        base_url: identify.child_text(OAI_NS, "baseURL"),
        earliest_datestamp: identify.child_text(OAI_NS, "earliestDatestamp"),
        granularity: identify.child_text(OAI_NS, "granularity"),
        deleted_record: identify.child_text(OAI_NS, "deletedRecord"),
    })
}

fn oai_root(doc: &Node) -> Result<&Node, RecordError> {
    if doc.is(OAI_NS, "OAI-PMH") {
        return Ok(doc);
    }
    let ns = doc.ns.as_deref().map_or("no namespace".to_string(), |ns| format!("namespace {ns:?}"));
    Err(RecordError::new(format!(
        "not an OAI-PMH answer: the root element must be <OAI-PMH xmlns=\"{OAI_NS}\">; found <{}> in {ns}",
        doc.name
    )))
}

/// The response date and the errors of an answer.
fn envelope(root: &Node) -> OaiPage {
    let response_date = root.child(OAI_NS, "responseDate").map(|d| d.text.trim().to_string());
    let errors = root
        .elems_named(OAI_NS, "error")
        .map(|e| OaiError { code: e.attr("code").unwrap_or("").trim().to_string(), message: e.text.trim().to_string() })
        .collect();
    OaiPage { response_date, errors, ..Default::default() }
}

/// The element named after the verb, if any (an answer of errors has none).
fn verb_element(root: &Node) -> Option<&Node> {
    root.children
        .iter()
        .find(|c| c.ns.as_deref() == Some(OAI_NS) && !matches!(c.name.as_str(), "responseDate" | "request" | "error"))
}

fn resumption(verb: &Node, page: &mut OaiPage) {
    let Some(rt) = verb.child(OAI_NS, "resumptionToken") else { return };
    page.resumption_token = Some(rt.text.trim().to_string()).filter(|t| !t.is_empty());
    page.complete_list_size = rt.attr("completeListSize").and_then(|s| s.trim().parse().ok());
    page.cursor = rt.attr("cursor").and_then(|s| s.trim().parse().ok());
    page.token_expiration = rt.attr("expirationDate").map(|s| s.trim().to_string());
}

fn read_header(header: &Node) -> (String, String, bool, Vec<String>) {
    let identifier = header.child_text(OAI_NS, "identifier");
    let datestamp = header.child_text(OAI_NS, "datestamp");
    let deleted = header.attr("status").is_some_and(|s| s.trim() == "deleted");
    let sets = header.elems_named(OAI_NS, "setSpec").map(|s| s.text.trim().to_string()).collect();
    (identifier, datestamp, deleted, sets)
}

fn read_record(
    record: &Node,
    prefix: MetadataPrefix,
    types: &ItemTypes,
    scope: &[&[(String, String)]],
    xml: &[u8],
) -> HarvestedRecord {
    let (identifier, datestamp, deleted, sets) = match record.child(OAI_NS, "header") {
        Some(header) => read_header(header),
        None => Default::default(),
    };
    let metadata = if deleted {
        None
    } else {
        let result = if identifier.is_empty() {
            Err("the record's header has no identifier".to_string())
        } else {
            read_metadata(record, prefix, types, scope, xml, &identifier)
        };
        Some(result.map_err(|m| RecordError::new(format!("{identifier}: {m}"))))
    };
    HarvestedRecord { identifier, datestamp, deleted, sets, metadata }
}

fn read_metadata(
    record: &Node,
    prefix: MetadataPrefix,
    types: &ItemTypes,
    scope: &[&[(String, String)]],
    xml: &[u8],
    identifier: &str,
) -> Result<ImportedRecord, String> {
    let metadata = record.child(OAI_NS, "metadata").ok_or("the record has no <metadata>")?;
    let element = metadata.children.first().ok_or("the record's <metadata> is empty")?;
    if let Some(problem) = element.first_problem() {
        return Err(problem);
    }
    let imported = match prefix {
        MetadataPrefix::OaiDc => {
            expect(element, dublin_core::OAI_DC_NS, "dc", "oai_dc:dc")?;
            dublin_core::read(element, types, identifier)
        }
        MetadataPrefix::Datacite => {
            // oai_datacite wraps the resource: <oai_datacite><payload><resource>.
            let resource = if element.name == "oai_datacite" {
                element
                    .child_any("payload")
                    .and_then(|p| p.children.first())
                    .ok_or("<oai_datacite> holds no resource")?
            } else {
                element
            };
            if resource.name != "resource" || !resource.ns.as_deref().is_some_and(datacite_xml::is_datacite_ns) {
                return Err(shape(resource, "a DataCite kernel-4 <resource>"));
            }
            datacite_xml::read(resource, types, identifier)
        }
        MetadataPrefix::Ep3 => {
            let scope: Vec<_> = scope.iter().copied().chain([&metadata.decls[..]]).collect();
            read_ep3(element, &scope, xml)
        }
    }?;
    // An EPrints record's own item type (`oral_history`) is the caller's to
    // take or refuse, as the EPrints import takes a repository's local
    // types: only an ep3 record's other problems refuse it here.
    let local_type = prefix == MetadataPrefix::Ep3 && !types.contains(&imported.record.item_type);
    match arkiv_model::validate(&imported.record, types) {
        Ok(()) => Ok(imported),
        Err(problems) => {
            let problems: Vec<String> = problems
                .iter()
                .filter(|p| !(local_type && p.field == "type" && !imported.record.item_type.is_empty()))
                .map(ToString::to_string)
                .collect();
            if problems.is_empty() {
                Ok(imported)
            } else {
                Err(problems.join("; "))
            }
        }
    }
}

fn expect(element: &Node, ns: &str, name: &str, what: &str) -> Result<(), String> {
    if element.is(ns, name) {
        Ok(())
    } else {
        Err(shape(element, what))
    }
}

fn shape(element: &Node, what: &str) -> String {
    let ns = element.ns.as_deref().map_or("no namespace".to_string(), |ns| format!("namespace {ns:?}"));
    format!("the metadata is <{}> in {ns}, not {what}", element.name)
}

/// An `<eprint>` (or an `<eprints>` around one) read by the EPrints XML
/// reader: its bytes as they stand in the answer, inside an `<eprints>`
/// root that declares again every namespace its ancestors declared, so
/// that prefixes bound above it still resolve.
fn read_ep3(element: &Node, scope: &[&[(String, String)]], xml: &[u8]) -> Result<ImportedRecord, String> {
    let ns_ok = element.ns.as_deref() == Some(crate::EPRINTS_NS);
    if !ns_ok || (element.name != "eprint" && element.name != "eprints") {
        return Err(shape(element, "an EPrints XML <eprint>"));
    }
    let bytes = xml.get(element.start..element.end).ok_or("the <eprint> element's bytes are out of place")?;
    let mut wrapped = Vec::with_capacity(bytes.len() + 256);
    if element.name == "eprint" {
        wrapped.extend_from_slice(b"<arkiv-harvest:eprints xmlns:arkiv-harvest=\"");
        wrapped.extend_from_slice(crate::EPRINTS_NS.as_bytes());
        wrapped.push(b'"');
        let mut declared: Vec<&str> = Vec::new();
        // The innermost declaration of a prefix is the one in force.
        for (name, value) in scope.iter().rev().flat_map(|d| d.iter().rev()) {
            if declared.contains(&name.as_str()) || name == "xmlns:arkiv-harvest" {
                continue;
            }
            declared.push(name);
            wrapped.push(b' ');
            wrapped.extend_from_slice(name.as_bytes());
            wrapped.extend_from_slice(b"=\"");
            crate::escape_markup(value).bytes().for_each(|b| wrapped.push(b));
            wrapped.push(b'"');
        }
        wrapped.push(b'>');
        wrapped.extend_from_slice(bytes);
        wrapped.extend_from_slice(b"</arkiv-harvest:eprints>");
    } else {
        wrapped.extend_from_slice(bytes);
    }
    let mut items = crate::EprintsReader::new(&wrapped[..]);
    let first = items.next().ok_or("the <eprints> element holds no <eprint>")?;
    if items.next().is_some() {
        return Err("the metadata holds more than one <eprint>".into());
    }
    first.result.map_err(|e| e.message)
}

// ---------------------------------------------------------------------------
// The tree.

/// An element of an answer.
#[derive(Debug, Default)]
pub(crate) struct Node {
    /// The namespace URI, resolved.
    pub ns: Option<String>,
    /// The local name.
    pub name: String,
    /// Attributes by local name (their prefixes dropped), unescaped;
    /// namespace declarations are in `decls`.
    pub attrs: Vec<(String, String)>,
    /// `xmlns` and `xmlns:p` attributes as written (name, value).
    pub decls: Vec<(String, String)>,
    pub children: Vec<Node>,
    /// The element's own text (not its children's), unescaped.
    pub text: String,
    /// Byte range of the whole element in the answer.
    pub start: usize,
    pub end: usize,
    /// Why the element's content cannot be read (text too long, not
    /// UTF-8, an unknown entity).
    pub problem: Option<String>,
}

impl Node {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(ns)
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// The first child of this local name, in any namespace.
    pub fn child_any(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn elems_named<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    /// The trimmed text of the first such child, or "".
    pub fn child_text(&self, ns: &str, name: &str) -> String {
        self.child(ns, name).map(|c| c.text.trim().to_string()).unwrap_or_default()
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// All the text inside, children's too, words separated by one space.
    pub fn all_text(&self) -> String {
        let mut parts = Vec::new();
        self.collect_text(&mut parts);
        parts.join(" ").split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn collect_text<'a>(&'a self, parts: &mut Vec<&'a str>) {
        if !self.text.trim().is_empty() {
            parts.push(self.text.trim());
        }
        for c in &self.children {
            c.collect_text(parts);
        }
    }

    fn first_problem(&self) -> Option<String> {
        if let Some(p) = &self.problem {
            return Some(format!("<{}>: {p}", self.name));
        }
        self.children.iter().find_map(Node::first_problem)
    }
}

/// Reads an answer into its root element; see the module docs for the
/// bounds.
pub(crate) fn parse(xml: &[u8]) -> Result<Node, RecordError> {
    parse_inner(xml).map_err(|m| RecordError::new(format!("not a readable OAI-PMH answer: {m}")))
}

fn parse_inner(xml: &[u8]) -> Result<Node, String> {
    let mut reader = NsReader::from_reader(xml);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.trim_text_start = false;
    config.trim_text_end = false;
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let (ns, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (owned_ns(&resolved), event),
            Err(e) => return Err(format!("malformed XML at byte {}: {e}", reader.error_position())),
        };
        let after = reader.buffer_position() as usize;
        match event {
            Event::Decl(d) => {
                if let Some(Ok(enc)) = d.encoding() {
                    let enc = String::from_utf8_lossy(&enc).into_owned();
                    if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("utf8") {
                        return Err(format!("only UTF-8 is read; the answer declares {enc:?}"));
                    }
                }
            }
            Event::DocType(_) => {
                return Err("the answer has a DOCTYPE, which is refused (no entity is ever expanded)".into());
            }
            Event::PI(_) | Event::Comment(_) => {}
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                let _ = e;
                return Err("content after the root element".into());
            }
            Event::Start(e) => {
                if stack.len() + 1 > MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                let start = tag_start(xml, before, after);
                stack.push(node(ns, &e, start));
            }
            Event::Empty(e) => {
                let mut n = node(ns, &e, tag_start(xml, before, after));
                n.end = after;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(n),
                    None => root = Some(n),
                }
            }
            Event::End(_) => {
                let mut n = stack.pop().ok_or("an end tag without its start")?;
                n.end = after;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(n),
                    None => root = Some(n),
                }
            }
            Event::Text(t) => {
                let text = std::str::from_utf8(&t).map_err(|_| "text that is not UTF-8".to_string()).and_then(|raw| {
                    quick_xml::escape::unescape(&normalize_newlines(raw))
                        .map(|s| s.into_owned())
                        .map_err(|e| e.to_string())
                });
                add_text(&mut stack, text, root.is_some())?;
            }
            Event::GeneralRef(r) => {
                let text = resolve_reference(&r);
                add_text(&mut stack, text, root.is_some())?;
            }
            Event::CData(c) => {
                let text = std::str::from_utf8(&c)
                    .map(|s| normalize_newlines(s).into_owned())
                    .map_err(|_| "text that is not UTF-8".to_string());
                add_text(&mut stack, text, root.is_some())?;
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(format!("the answer ends inside <{}> (truncated?)", open.name));
                }
                return root.ok_or_else(|| "no root element: the answer is empty".to_string());
            }
        }
    }
}

/// Where the tag that ends at `after` begins: its `<`, the last one before
/// its end (a `<` cannot stand in an attribute value).
fn tag_start(xml: &[u8], before: usize, after: usize) -> usize {
    memchr::memrchr(b'<', &xml[..after.min(xml.len())]).unwrap_or(before)
}

fn owned_ns(resolved: &ResolveResult) -> Option<String> {
    match resolved {
        ResolveResult::Bound(ns) => Some(String::from_utf8_lossy(ns.as_ref()).into_owned()),
        _ => None,
    }
}

fn node(ns: Option<String>, e: &BytesStart, start: usize) -> Node {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut n = Node { ns, name, start, ..Default::default() };
    for attr in e.attributes().with_checks(true) {
        match attr {
            Ok(a) => {
                let key = a.key.as_ref();
                let value = match a.unescape_value() {
                    Ok(v) => v.into_owned(),
                    Err(err) => {
                        n.problem = Some(format!("an attribute that cannot be read: {err}"));
                        continue;
                    }
                };
                if key == b"xmlns" || key.starts_with(b"xmlns:") {
                    n.decls.push((String::from_utf8_lossy(key).into_owned(), value));
                } else {
                    n.attrs.push((String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned(), value));
                }
            }
            Err(err) => n.problem = Some(format!("a bad attribute: {err}")),
        }
    }
    n
}

fn add_text(stack: &mut [Node], text: Result<String, String>, after_root: bool) -> Result<(), String> {
    let Some(node) = stack.last_mut() else {
        return match text {
            Ok(t) if t.trim().is_empty() => Ok(()),
            _ if after_root => Err("content after the root element".into()),
            _ => Err("text before the root element".into()),
        };
    };
    match text {
        Ok(t) if node.text.len() + t.len() > MAX_TEXT_BYTES => {
            node.problem.get_or_insert_with(|| format!("text longer than {MAX_TEXT_BYTES} bytes"));
        }
        Ok(t) if node.problem.is_none() => node.text.push_str(&t),
        Ok(_) => {}
        Err(problem) => {
            node.problem.get_or_insert(problem);
        }
    }
    Ok(())
}

/// `&amp;`, `&#233;`: XML's five predefined entities and character
/// references; any other name is an entity a DTD would declare, which is
/// never read.
fn resolve_reference(reference: &quick_xml::events::BytesRef) -> Result<String, String> {
    let name = String::from_utf8_lossy(reference);
    match reference.resolve_char_ref() {
        Ok(Some(c)) => Ok(c.to_string()),
        Ok(None) => quick_xml::escape::resolve_predefined_entity(&name)
            .map(str::to_owned)
            .ok_or_else(|| format!("unknown entity &{name}; (entities are never expanded)")),
        Err(_) => Err(format!("bad character reference &{name};")),
    }
}

fn normalize_newlines(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains('\r') {
        raw.replace("\r\n", "\n").replace('\r', "\n").into()
    } else {
        raw.into()
    }
}

// ---------------------------------------------------------------------------
// What the metadata readers share.

/// Collects what a record's mapping could not place.
#[derive(Default)]
pub(crate) struct Mapper {
    pub warnings: Vec<String>,
    pub unmapped: Vec<String>,
    pub extra: Vec<ExtraField>,
    pub files: Vec<crate::FileSource>,
}

impl Mapper {
    pub fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Keeps a value no field takes as `<name>value</name>` in
    /// `record.extra`; `shown` is how the warning names the element.
    pub fn unmapped(&mut self, name: &str, shown: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        self.extra
            .push(ExtraField { name: name.into(), xml: format!("<{name}>{}</{name}>", crate::escape_markup(value)) });
        if !self.unmapped.iter().any(|u| u == name) {
            self.unmapped.push(name.into());
            self.warn(format!("{shown} has no field here; kept verbatim as <{name}>"));
        }
    }

    /// A field that holds one value: the first given; a different one after
    /// it is kept as unmapped.
    pub fn single(&mut self, field: &mut Option<String>, name: &str, shown: &str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            return;
        }
        match field {
            None => *field = Some(value.to_string()),
            Some(first) if first == value => {}
            Some(_) => self.unmapped(name, shown, value),
        }
    }

    pub fn into_record(self, mut record: arkiv_model::Record) -> ImportedRecord {
        record.extra = self.extra;
        ImportedRecord { record, files: self.files, unmapped: self.unmapped, warnings: self.warnings }
    }
}

/// A date as `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or a timestamp
/// (`2014-05-29T10:00:00Z`), with the precision written.
pub(crate) fn parse_date(value: &str) -> Option<PartialDate> {
    let value = value.trim();
    let date = value.split(['T', ' ']).next().unwrap_or("");
    date.parse::<PartialDate>().ok().filter(PartialDate::is_valid)
}

/// The DOI in a `https://doi.org/...` URL or a `doi:` name, bare; `None`
/// for anything else.
pub(crate) fn doi_of(value: &str) -> Option<String> {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    let prefix =
        ["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:", "info:doi/"]
            .iter()
            .find(|p| lower.starts_with(*p))?;
    let bare = v[prefix.len()..].trim();
    arkiv_model::validate::doi_problem(bare).is_none().then(|| bare.to_string())
}

/// A licence URL as Arkiv keeps the licence (the inverse of
/// [`crate::export::fields::license_url`]): a Creative Commons 4.0 licence
/// as its EPrints key (`cc_by_nc_nd`), another version as its SPDX id
/// (`CC-BY-SA-3.0`), CC0 as `cc0`, the software licences by their SPDX
/// ids; any other web address as itself.
pub(crate) fn license_from_url(url: &str) -> String {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = lower.trim_start_matches("https://").trim_start_matches("http://");
    if let Some(tail) = rest.strip_prefix("creativecommons.org/licenses/") {
        let mut parts = tail.split('/');
        let kind = parts.next().unwrap_or("");
        let version = parts.next().unwrap_or("4.0");
        const KINDS: [&str; 6] = ["by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd"];
        if KINDS.contains(&kind) {
            return if version == "4.0" || version.is_empty() {
                format!("cc_{}", kind.replace('-', "_"))
            } else {
                format!("CC-{}-{version}", kind.to_ascii_uppercase())
            };
        }
    }
    if rest.starts_with("creativecommons.org/publicdomain/zero/") {
        return "cc0".into();
    }
    for (tail, key) in [
        ("spdx.org/licenses/mit", "mit"),
        ("spdx.org/licenses/apache-2.0", "apache-2.0"),
        ("spdx.org/licenses/gpl-3.0-or-later", "gpl-3.0"),
    ] {
        if rest.starts_with(tail) {
            return key.into();
        }
    }
    url.to_string()
}

/// An item type (and subtype) from a common vocabulary's term: the COAR /
/// info:eu-repo types, OpenAIRE's and Zenodo's (`publication-article`),
/// DCMI types, DataCite's `resourceTypeGeneral`. `None` for a term none of
/// them has.
pub(crate) fn type_from_vocabulary(term: &str) -> Option<(&'static str, Option<&'static str>)> {
    let t = term.trim().to_ascii_lowercase();
    let t = t.strip_prefix("info:eu-repo/semantics/").unwrap_or(&t);
    let t = t.strip_prefix("publication-").unwrap_or(t);
    let t: String = t.chars().filter(|c| !matches!(c, ' ' | '_' | '-')).collect();
    Some(match t.as_str() {
        "article" | "journalarticle" | "contributiontoperiodical" | "review" | "datapaper" | "preprint" => {
            ("article", None)
        }
        "book" => ("book", None),
        "bookpart" | "bookchapter" | "section" | "booksection" => ("book_section", None),
        "conferenceobject"
        | "conferencepaper"
        | "conferenceposter"
        | "conferenceproceeding"
        | "conferenceproceedings"
        | "lecture"
        | "presentation"
        | "poster" => ("conference_item", None),
        "doctoralthesis" => ("thesis", Some("doctoral")),
        "masterthesis" | "mastersthesis" => ("thesis", Some("masters")),
        "bachelorthesis" => ("thesis", Some("bachelors")),
        "thesis" | "dissertation" => ("thesis", None),
        "report" | "technicalreport" | "reportpart" | "deliverable" | "projectdeliverable" => ("report", None),
        "workingpaper" => ("working_paper", None),
        "patent" => ("patent", None),
        "dataset" | "data" => ("dataset", None),
        "image" | "stillimage" | "figure" | "photo" => ("image", None),
        "movingimage" | "video" | "audiovisual" => ("video", None),
        "sound" | "audio" => ("audio", None),
        "physicalobject" => ("artefact", None),
        "lesson" | "teachingresource" | "learningobject" => ("teaching_resource", None),
        "text"
        | "other"
        | "software"
        | "computationalnotebook"
        | "event"
        | "collection"
        | "service"
        | "interactiveresource"
        | "workflow"
        | "model"
        | "standard"
        | "annotation" => ("other", None),
        _ => return None,
    })
}

/// The repository's type of this label ("Policy Paper", "Article"), by
/// key or label, case aside.
pub(crate) fn type_by_label(label: &str, types: &ItemTypes) -> Option<String> {
    let label = label.trim();
    types.iter().find(|(k, l)| l.eq_ignore_ascii_case(label) || k.eq_ignore_ascii_case(label)).map(|(k, _)| k.into())
}

/// A type term read against the repository's types: its own label first,
/// then the vocabularies (a vocabulary's type the repository lacks is
/// `other`; software is `software` where the repository has that type).
pub(crate) fn resolve_type(term: &str, types: &ItemTypes) -> Option<(String, Option<String>)> {
    if let Some(key) = type_by_label(term, types) {
        return Some((key, None));
    }
    let (key, subtype) = type_from_vocabulary(term)?;
    let lower = term.to_ascii_lowercase();
    if lower.ends_with("software") && types.contains("software") {
        return Some(("software".into(), None));
    }
    Some(if types.contains(key) { (key.into(), subtype.map(Into::into)) } else { ("other".into(), None) })
}

/// An ORCID iD bare (`0000-0002-1825-0097`) from any of its written forms.
pub(crate) fn bare_orcid(value: &str) -> Option<String> {
    let id = value.trim().trim_end_matches('/');
    let id = id.rsplit('/').next().unwrap_or(id).to_ascii_uppercase();
    arkiv_model::validate::is_orcid(&id).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2024-01-01T00:00:00Z</responseDate><request verb="ListRecords">https://x.example/oai</request>"#;

    fn page(body: &str) -> Result<OaiPage, RecordError> {
        read_page(format!("{HEAD}{body}</OAI-PMH>").as_bytes(), MetadataPrefix::OaiDc, &ItemTypes::default())
    }

    #[test]
    fn prefixes_by_namespace_not_by_name() {
        let xml = r#"<o:OAI-PMH xmlns:o="http://www.openarchives.org/OAI/2.0/"><o:ListRecords><o:record><o:header><o:identifier>oai:x:1</o:identifier><o:datestamp>2024-01-01</o:datestamp></o:header><o:metadata><d:dc xmlns:d="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:e="http://purl.org/dc/elements/1.1/"><e:title>T</e:title><e:type>Article</e:type></d:dc></o:metadata></o:record><o:resumptionToken completeListSize="3" cursor="0">abc</o:resumptionToken></o:ListRecords></o:OAI-PMH>"#;
        let p = read_page(xml.as_bytes(), MetadataPrefix::OaiDc, &ItemTypes::default()).unwrap();
        let r = p.records[0].metadata.as_ref().unwrap().as_ref().unwrap();
        assert_eq!((r.record.title.as_str(), r.record.item_type.as_str()), ("T", "article"));
        assert_eq!((p.resumption_token.as_deref(), p.complete_list_size, p.cursor), (Some("abc"), Some(3), Some(0)));
    }

    #[test]
    fn an_empty_token_ends_the_list_and_errors_are_kept() {
        let p = page("<ListRecords><resumptionToken completeListSize=\"5\"/></ListRecords>").unwrap();
        assert_eq!((p.resumption_token, p.complete_list_size), (None, Some(5)));
        let p = page(r#"<error code="noRecordsMatch">none</error>"#).unwrap();
        assert_eq!(p.errors, [OaiError { code: "noRecordsMatch".into(), message: "none".into() }]);
        assert_eq!(p.response_date.as_deref(), Some("2024-01-01T00:00:00Z"));
    }

    #[test]
    fn text_past_the_bound_costs_its_record() {
        let long = "x".repeat(MAX_TEXT_BYTES + 1);
        let rec = |id: &str, title: &str| {
            format!(
                "<record><header><identifier>{id}</identifier><datestamp>2024</datestamp></header><metadata><oai_dc:dc xmlns:oai_dc=\"http://www.openarchives.org/OAI/2.0/oai_dc/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>{title}</dc:title></oai_dc:dc></metadata></record>"
            )
        };
        let p = page(&format!("<ListRecords>{}{}</ListRecords>", rec("a", &long), rec("b", "Fine"))).unwrap();
        let err = p.records[0].metadata.as_ref().unwrap().as_ref().unwrap_err();
        assert!(err.message.contains("longer than"), "{err}");
        assert!(p.records[1].metadata.as_ref().unwrap().is_ok());
    }

    #[test]
    fn licences_and_types() {
        assert_eq!(license_from_url("https://creativecommons.org/licenses/by-nc-nd/4.0/"), "cc_by_nc_nd");
        assert_eq!(license_from_url("https://creativecommons.org/licenses/by/4.0/legalcode"), "cc_by");
        assert_eq!(license_from_url("https://creativecommons.org/licenses/by-sa/3.0/"), "CC-BY-SA-3.0");
        assert_eq!(license_from_url("https://creativecommons.org/publicdomain/zero/1.0/"), "cc0");
        for key in ["cc_by", "cc_by_nc_nd", "cc0", "mit", "CC-BY-SA-3.0"] {
            let url = crate::export::fields::license_url(key).unwrap();
            assert_eq!(crate::export::fields::license_url(&license_from_url(&url)), Some(url));
        }
        assert_eq!(type_from_vocabulary("info:eu-repo/semantics/article"), Some(("article", None)));
        assert_eq!(type_from_vocabulary("publication-article"), Some(("article", None)));
        assert_eq!(type_from_vocabulary("info:eu-repo/semantics/doctoralThesis"), Some(("thesis", Some("doctoral"))));
        assert_eq!(type_from_vocabulary("Dataset"), Some(("dataset", None)));
        assert_eq!(type_from_vocabulary("info:eu-repo/semantics/other"), Some(("other", None)));
        assert_eq!(type_from_vocabulary("Fish"), None);
        assert_eq!(parse_date("2014-05-29T10:00:00Z").map(|d| d.to_string()).as_deref(), Some("2014-05-29"));
        assert_eq!(doi_of("doi:10.1/x").as_deref(), Some("10.1/x"));
        assert_eq!(doi_of("https://example.org/10.1/x"), None);
    }
}
