//! SWORD v2 (<http://swordapp.github.io/SWORDv2-Profile/SWORDProfile.html>)
//! documents: the Atom entry a depositor sends, and the service document,
//! deposit receipt, statements (Atom and OAI-ORE) and error document Arkiv
//! answers with. Pure functions of bytes and values: the web layer owns the
//! HTTP exchange, the service layer the deposit; both only hand values here.
//!
//! Written by hand because no Rust crate reads or writes SWORD or AtomPub
//! documents, and the few dozen elements involved do not justify a generic
//! serializer. The writers escape every value they are given; the reader is
//! namespace-aware (depositors bind Atom to a prefix or to the default
//! namespace, both are common) and bounded, since the body comes from
//! outside: no DOCTYPE (so no entity expansion), limited nesting, text size
//! and term count.
//!
//! The shapes follow what the python `sword2` client, the most used SWORD
//! client, parses with lxml: qualified names are looked up by namespace, and
//! a state description it strips must never be missing.

use crate::eprints::{escape_attr, escape_text};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

pub const SWORD_NS: &str = "http://purl.org/net/sword/terms/";
pub const ATOM_NS: &str = "http://www.w3.org/2005/Atom";
pub const APP_NS: &str = "http://www.w3.org/2007/app";
pub const DCTERMS_NS: &str = "http://purl.org/dc/terms/";
/// Dublin Core's legacy element set, which older clients still send.
const DC_ELEMENTS_NS: &str = "http://purl.org/dc/elements/1.1/";
const RDF_NS: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
const ORE_NS: &str = "http://www.openarchives.org/ore/terms/";

/// Package formats.
pub const PACKAGE_SIMPLE_ZIP: &str = "http://purl.org/net/sword/package/SimpleZip";
pub const PACKAGE_BINARY: &str = "http://purl.org/net/sword/package/Binary";
pub const PACKAGE_EPRINTS_XML: &str = "http://eprints.org/ep2/data/2.0";

/// States in statements (term URIs).
pub const STATE_IN_PROGRESS: &str = "http://purl.org/net/sword/terms/state/inProgress";
pub const STATE_IN_REVIEW: &str = "http://purl.org/net/sword/terms/state/inReview";
pub const STATE_ARCHIVED: &str = "http://purl.org/net/sword/terms/state/archived";
pub const STATE_WITHDRAWN: &str = "http://purl.org/net/sword/terms/state/withdrawn";

/// SWORD error URIs (the profile's section 12).
pub const ERROR_CONTENT: &str = "http://purl.org/net/sword/error/ErrorContent";
pub const ERROR_CHECKSUM_MISMATCH: &str = "http://purl.org/net/sword/error/ErrorChecksumMismatch";
pub const ERROR_BAD_REQUEST: &str = "http://purl.org/net/sword/error/ErrorBadRequest";
pub const ERROR_TARGET_OWNER_UNKNOWN: &str = "http://purl.org/net/sword/error/TargetOwnerUnknown";
pub const ERROR_MEDIATION_NOT_ALLOWED: &str = "http://purl.org/net/sword/error/MediationNotAllowed";
pub const ERROR_METHOD_NOT_ALLOWED: &str = "http://purl.org/net/sword/error/MethodNotAllowed";
pub const ERROR_MAX_UPLOAD_SIZE_EXCEEDED: &str = "http://purl.org/net/sword/error/MaxUploadSizeExceeded";

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
const STATE_SCHEME: &str = "http://purl.org/net/sword/terms/state";
const REL_ADD: &str = "http://purl.org/net/sword/terms/add";
const REL_STATEMENT: &str = "http://purl.org/net/sword/terms/statement";
const REL_ORIGINAL_DEPOSIT: &str = "http://purl.org/net/sword/terms/originalDeposit";

/// Deepest nesting of elements an entry may have (the root being 1). Real
/// entries nest three deep (entry, author, name).
const MAX_DEPTH: usize = 32;
const MAX_TEXT_BYTES: usize = 1 << 20;
const MAX_TERMS: usize = 10_000;

/// What an Atom entry deposit says, as (term, value) pairs in document order.
///
/// Terms are Dublin Core terms' local names (`title`, `abstract`, `creator`,
/// `isPartOf`...; any `dcterms:*` or legacy `dc:*` child of the entry is kept
/// under its own local name). Atom's own elements map: `atom:title` to
/// `title`, `atom:summary` to `abstract`, `atom:author/atom:name` to
/// `creator`, `atom:contributor/atom:name` to `contributor`, and
/// `atom:category/@term` to `subject`. Values are trimmed, empty ones left
/// out, repeats kept: the caller decides what a second title or a creator
/// given both as Atom author and as `dcterms:creator` means. An Atom text of
/// `type="html"` comes as its markup; making it safe is the caller's job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryMetadata {
    pub terms: Vec<(String, String)>,
}

impl EntryMetadata {
    /// The first value of `term`.
    pub fn first(&self, term: &str) -> Option<&str> {
        self.terms.iter().find(|(t, _)| t == term).map(|(_, v)| v.as_str())
    }

    /// Every value of `term`, in document order.
    pub fn all<'a>(&'a self, term: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.terms.iter().filter(move |(t, _)| t == term).map(|(_, v)| v.as_str())
    }
}

/// Why an Atom entry deposit was refused. Each message is a whole sentence
/// for the depositor (it goes into a SWORD error document's summary).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// Not well-formed XML (quick-xml's message and the byte position), or
    /// a DOCTYPE declaration.
    #[error("{0}")]
    Malformed(String),
    /// The root element is not atom:entry.
    #[error("{0}")]
    NotAnEntry(String),
    /// Nested deeper than 32 elements, one text longer than 1 MiB, or more
    /// than 10,000 terms.
    #[error("{0}")]
    TooLarge(String),
}

/// Reads an Atom entry deposit (the caller has already bounded the body's
/// size). Only the entry's children, and the names of its authors and
/// contributors, are read; `atom:id`, links and foreign extensions are
/// passed over.
pub fn parse_entry(xml: &[u8]) -> Result<EntryMetadata, EntryError> {
    let mut reader = NsReader::from_reader(xml);
    reader.config_mut().check_end_names = true;
    let mut meta = EntryMetadata::default();
    let (mut depth, mut root_seen) = (0usize, false);
    // The term being gathered and its element's depth. Descendants' text
    // counts too, so that an XHTML title reads as its words.
    let mut capture: Option<(String, usize)> = None;
    let mut text = String::new();
    // Inside atom:author or atom:contributor: the term their name is.
    let mut person: Option<&'static str> = None;
    loop {
        let at = reader.buffer_position();
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(ok) => ok,
            Err(e) => return Err(malformed(&e.to_string(), reader.error_position())),
        };
        let ns = match resolved {
            ResolveResult::Bound(ns) if ns.as_ref() == ATOM_NS.as_bytes() => Some(ATOM_NS),
            ResolveResult::Bound(ns) if [DCTERMS_NS, DC_ELEMENTS_NS].iter().any(|d| ns.as_ref() == d.as_bytes()) => {
                Some(DCTERMS_NS)
            }
            _ => None,
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let level = depth + 1;
                if level > MAX_DEPTH {
                    return Err(EntryError::TooLarge(format!(
                        "the Atom entry nests elements more than {MAX_DEPTH} deep (at byte {at})"
                    )));
                }
                if level == 1 {
                    if root_seen {
                        return Err(malformed("a second root element follows the entry", at));
                    }
                    root_seen = true;
                    if ns != Some(ATOM_NS) || e.local_name().as_ref() != b"entry" {
                        let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                        return Err(EntryError::NotAnEntry(format!(
                            "the document is not an Atom entry: its root element is <{name}>, not <entry> in the \
                             namespace {ATOM_NS}"
                        )));
                    }
                } else if capture.is_none() {
                    match (ns, level, e.local_name().as_ref()) {
                        (Some(ATOM_NS), 2, b"author") => person = Some("creator"),
                        (Some(ATOM_NS), 2, b"contributor") => person = Some("contributor"),
                        (Some(ATOM_NS), 2, b"category") => {
                            let term = e.try_get_attribute("term").map_err(|err| malformed(&err.to_string(), at))?;
                            if let Some(term) = term {
                                let value = term.unescape_value().map_err(|err| malformed(&err.to_string(), at))?;
                                push(&mut meta, "subject".into(), &value)?;
                            }
                        }
                        (_, _, _) if empty => {}
                        (Some(ATOM_NS), 2, b"title") => capture = Some(("title".into(), level)),
                        (Some(ATOM_NS), 2, b"summary") => capture = Some(("abstract".into(), level)),
                        (Some(ATOM_NS), 3, b"name") => capture = person.map(|p| (p.to_string(), level)),
                        (Some(DCTERMS_NS), 2, name) => {
                            capture = Some((String::from_utf8_lossy(name).into_owned(), level));
                        }
                        _ => {}
                    }
                    text.clear();
                }
                if !empty {
                    depth = level;
                }
            }
            Event::End(_) => {
                if let Some((term, _)) = capture.take_if(|(_, d)| *d == depth) {
                    push(&mut meta, term, &text)?;
                }
                if depth == 2 {
                    person = None;
                }
                depth = depth.saturating_sub(1);
            }
            // Since quick-xml 0.38 a text event holds no references: each
            // comes as a `GeneralRef` of its own.
            Event::Text(ref t) if capture.is_some() => append(&mut text, utf8(t, at)?, at)?,
            Event::CData(ref c) if capture.is_some() => append(&mut text, utf8(c, at)?, at)?,
            Event::GeneralRef(ref r) => {
                // Resolved wherever it is: an unknown entity is an error even
                // in an element that is not read.
                let resolved = match r.resolve_char_ref().map_err(|e| malformed(&e.to_string(), at))? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = utf8(r, at)?;
                        let entity = quick_xml::escape::resolve_predefined_entity(name);
                        entity.ok_or_else(|| malformed(&format!("unknown entity &{name};"), at))?.to_string()
                    }
                };
                if capture.is_some() {
                    append(&mut text, &resolved, at)?;
                }
            }
            Event::DocType(_) => {
                // A DTD's entities are the way to billion-laughs and external
                // entity attacks; no SWORD client sends one.
                return Err(EntryError::Malformed(format!(
                    "the Atom entry has a DOCTYPE declaration at byte {at}: DOCTYPE declarations are not accepted"
                )));
            }
            Event::Eof if depth > 0 => return Err(malformed("the document ends inside the entry", at)),
            Event::Eof if !root_seen => {
                return Err(EntryError::NotAnEntry("the document is not an Atom entry: it has no root element".into()));
            }
            Event::Eof => return Ok(meta),
            _ => {}
        }
    }
}

fn utf8(bytes: &[u8], at: u64) -> Result<&str, EntryError> {
    std::str::from_utf8(bytes).map_err(|_| malformed("text that is not UTF-8", at))
}

fn malformed(message: &str, at: u64) -> EntryError {
    EntryError::Malformed(format!("the Atom entry is not well-formed XML: {message} at byte {at}"))
}

fn append(text: &mut String, more: &str, at: u64) -> Result<(), EntryError> {
    if text.len() + more.len() > MAX_TEXT_BYTES {
        let kib = MAX_TEXT_BYTES >> 10;
        return Err(EntryError::TooLarge(format!("the Atom entry has a text longer than {kib} KiB (at byte {at})")));
    }
    text.push_str(more);
    Ok(())
}

fn push(meta: &mut EntryMetadata, term: String, value: &str) -> Result<(), EntryError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(());
    }
    if meta.terms.len() >= MAX_TERMS {
        return Err(EntryError::TooLarge(format!("the Atom entry has more than {MAX_TERMS} metadata elements")));
    }
    meta.terms.push((term, value.to_string()));
    Ok(())
}

/// An indenting element writer like the exports' `XmlOut` (which is private
/// to `export`), plus the empty elements with attributes that SWORD's links
/// and RDF resources are. Attributes with blank values are left out: an
/// empty `href` would read as a relative IRI, an empty `type` as a bad one.
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn new() -> Self {
        Xml { out: XML_DECL.to_string(), depth: 0 }
    }

    fn tag(&mut self, name: &str, attrs: &[(&str, &str)], end: &str) {
        self.out.extend(std::iter::repeat_n("  ", self.depth).chain(["<", name]));
        for (key, value) in attrs.iter().filter(|(_, v)| !v.trim().is_empty()) {
            self.out.extend([" ", key, "=\""]);
            escape_attr(value, &mut self.out);
            self.out.push('"');
        }
        self.out.push_str(end);
    }

    fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.tag(name, attrs, ">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.out.extend(std::iter::repeat_n("  ", self.depth).chain(["</", name, ">\n"]));
    }

    /// `<name attrs>text</name>`, or nothing when `text` is blank.
    fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        if !text.trim().is_empty() {
            self.tag(name, attrs, ">");
            escape_text(text.trim(), &mut self.out);
            self.out.extend(["</", name, ">\n"]);
        }
    }

    fn opt_leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: Option<&str>) {
        self.leaf(name, attrs, text.unwrap_or(""));
    }

    fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.tag(name, attrs, "/>\n");
    }

    /// An Atom link, unless its target is blank.
    fn link(&mut self, rel: &str, href: &str, media_type: &str) {
        if !href.trim().is_empty() {
            self.empty("atom:link", &[("rel", rel), ("href", href), ("type", media_type)]);
        }
    }

    /// An RDF property pointing at a resource, unless the resource is blank.
    fn resource(&mut self, name: &str, uri: &str) {
        if !uri.trim().is_empty() {
            self.empty(name, &[("rdf:resource", uri)]);
        }
    }
}

pub struct ServiceDocument<'a> {
    /// The repository's name (the workspace's title).
    pub title: &'a str,
    /// sword:maxUploadSize, in kB (the profile's unit).
    pub max_upload_kb: u64,
    pub collections: Vec<Collection<'a>>,
}

pub struct Collection<'a> {
    pub href: &'a str,
    pub title: &'a str,
    /// dcterms:abstract of the collection.
    pub description: &'a str,
    /// app:accept values, e.g. `*/*`; each is written twice, plain and with
    /// `alternate="multipart-related"`, as the profile requires.
    pub accept: Vec<&'a str>,
    pub accept_packaging: Vec<&'a str>,
    /// sword:collectionPolicy
    pub policy: &'a str,
    /// sword:mediation
    pub mediation: bool,
    /// sword:treatment
    pub treatment: &'a str,
}

/// `<app:service>` with sword:version 2.0, sword:maxUploadSize, one
/// workspace and its collections.
pub fn service_document(doc: &ServiceDocument) -> String {
    let mut x = Xml::new();
    x.open(
        "app:service",
        &[("xmlns:app", APP_NS), ("xmlns:atom", ATOM_NS), ("xmlns:sword", SWORD_NS), ("xmlns:dcterms", DCTERMS_NS)],
    );
    x.leaf("sword:version", &[], "2.0");
    x.leaf("sword:maxUploadSize", &[], &doc.max_upload_kb.to_string());
    x.open("app:workspace", &[]);
    x.leaf("atom:title", &[], doc.title);
    for c in &doc.collections {
        x.open("app:collection", &[("href", c.href)]);
        x.leaf("atom:title", &[], c.title);
        for accept in &c.accept {
            x.leaf("app:accept", &[], accept);
            x.leaf("app:accept", &[("alternate", "multipart-related")], accept);
        }
        x.leaf("sword:collectionPolicy", &[], c.policy);
        x.leaf("dcterms:abstract", &[], c.description);
        x.leaf("sword:mediation", &[], if c.mediation { "true" } else { "false" });
        x.leaf("sword:treatment", &[], c.treatment);
        for packaging in &c.accept_packaging {
            x.leaf("sword:acceptPackaging", &[], packaging);
        }
        x.close("app:collection");
    }
    x.close("app:workspace");
    x.close("app:service");
    x.out
}

pub struct Receipt<'a> {
    /// The Edit-IRI: also atom:id, the Location, and the SE-IRI
    /// (rel="http://purl.org/net/sword/terms/add").
    pub edit_iri: &'a str,
    /// The EM-IRI (rel="edit-media").
    pub edit_media_iri: &'a str,
    /// The statements (rel="http://purl.org/net/sword/terms/statement"), as
    /// `application/atom+xml;type=feed` and `application/rdf+xml`.
    pub statement_atom_iri: &'a str,
    pub statement_ore_iri: &'a str,
    /// The abstract page (rel="alternate", type text/html).
    pub alternate: &'a str,
    pub title: &'a str,
    /// RFC 3339, e.g. "2026-12-07T10:00:00Z" (atom:updated).
    pub updated: &'a str,
    pub summary: Option<&'a str>,
    pub authors: Vec<&'a str>,
    /// dcterms elements to echo (term local name, value).
    pub dcterms: Vec<(&'a str, &'a str)>,
    /// sword:packaging values (what the EM-IRI can be fetched as).
    pub packaging: Vec<&'a str>,
    /// sword:treatment: what the server did, including what is still missing.
    pub treatment: &'a str,
    /// sword:verboseDescription.
    pub verbose: Option<&'a str>,
    /// rel="http://purl.org/net/sword/terms/originalDeposit" links: (href, media type).
    pub original_deposits: Vec<(&'a str, &'a str)>,
    /// The container's media type: atom:content src=edit_media_iri type=this.
    pub content_type: &'a str,
    /// atom:generator uri and version.
    pub generator: (&'a str, &'a str),
}

/// Whether `name` can stand as an element's local name. The echoed
/// dcterms terms may come from a depositor's entry; a name is never
/// escaped, so anything else is left out rather than written.
fn is_local_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// An `<atom:entry>` deposit receipt, declaring the atom, sword and dcterms
/// prefixes on the root.
pub fn deposit_receipt(r: &Receipt) -> String {
    let mut x = Xml::new();
    x.open("atom:entry", &[("xmlns:atom", ATOM_NS), ("xmlns:sword", SWORD_NS), ("xmlns:dcterms", DCTERMS_NS)]);
    x.leaf("atom:title", &[], r.title);
    x.leaf("atom:id", &[], r.edit_iri);
    x.leaf("atom:updated", &[], r.updated);
    for author in &r.authors {
        if !author.trim().is_empty() {
            x.open("atom:author", &[]);
            x.leaf("atom:name", &[], author);
            x.close("atom:author");
        }
    }
    x.opt_leaf("atom:summary", &[("type", "text")], r.summary);
    x.empty("atom:generator", &[("uri", r.generator.0), ("version", r.generator.1)]);
    for (term, value) in &r.dcterms {
        if is_local_name(term) {
            x.leaf(&format!("dcterms:{term}"), &[], value);
        }
    }
    if !r.edit_media_iri.trim().is_empty() {
        x.empty("atom:content", &[("type", r.content_type), ("src", r.edit_media_iri)]);
    }
    x.link("edit", r.edit_iri, "");
    x.link("edit-media", r.edit_media_iri, "");
    x.link(REL_ADD, r.edit_iri, "");
    x.link("alternate", r.alternate, "text/html");
    x.link(REL_STATEMENT, r.statement_atom_iri, "application/atom+xml;type=feed");
    x.link(REL_STATEMENT, r.statement_ore_iri, "application/rdf+xml");
    for (href, media_type) in &r.original_deposits {
        x.link(REL_ORIGINAL_DEPOSIT, href, media_type);
    }
    for packaging in &r.packaging {
        x.leaf("sword:packaging", &[], packaging);
    }
    x.leaf("sword:treatment", &[], r.treatment);
    x.opt_leaf("sword:verboseDescription", &[], r.verbose);
    x.close("atom:entry");
    x.out
}

pub struct Statement<'a> {
    /// The container's Edit-IRI: the ORE aggregation.
    pub edit_iri: &'a str,
    /// This statement's IRI: the ORE resource map, the Atom feed's id.
    pub statement_iri: &'a str,
    pub title: &'a str,
    pub updated: &'a str,
    /// (term URI, description). A blank description is replaced by one for
    /// the term: the python sword2 client calls `.strip()` on the state's
    /// text and crashes when the element is empty.
    pub state: (&'a str, &'a str),
    pub files: Vec<StatementFile<'a>>,
}

pub struct StatementFile<'a> {
    pub uri: &'a str,
    pub mime_type: &'a str,
    /// "YYYY-MM-DDThh:mm:ssZ" (the python client parses exactly that format).
    pub deposited_on: &'a str,
    pub deposited_by: &'a str,
    pub on_behalf_of: Option<&'a str>,
    pub packaging: &'a str,
    pub original_deposit: bool,
}

/// The state's description, never blank.
fn state_description<'a>(term: &str, description: &'a str) -> &'a str {
    if !description.trim().is_empty() {
        return description;
    }
    match term {
        STATE_IN_PROGRESS => "The deposit is in progress",
        STATE_IN_REVIEW => "The deposit is being reviewed",
        STATE_ARCHIVED => "The deposit is archived",
        STATE_WITHDRAWN => "The deposit has been withdrawn",
        _ => "The state of the deposit is not known",
    }
}

/// The file name a file's URI ends with, percent-decoded, or the URI itself
/// when it ends with none.
fn file_name(uri: &str) -> String {
    let path = uri.split(['?', '#']).next().unwrap_or(uri).trim_end_matches('/');
    let last = path.rsplit('/').next().unwrap_or(path);
    let name = percent_encoding::percent_decode_str(last).decode_utf8_lossy();
    if name.trim().is_empty() {
        uri.to_string()
    } else {
        name.into_owned()
    }
}

/// Who a file was deposited on behalf of, if also by whom: the python
/// client reads the depositor's text whenever `depositedOnBehalfOf` is
/// present, and crashes when `depositedBy` is not.
fn on_behalf_of<'a>(f: &StatementFile<'a>) -> Option<&'a str> {
    f.on_behalf_of.filter(|_| !f.deposited_by.trim().is_empty())
}

/// The Atom statement: an `<atom:feed>` with the state as a category and one
/// entry per file.
pub fn statement_atom(s: &Statement) -> String {
    let mut x = Xml::new();
    x.open("atom:feed", &[("xmlns:atom", ATOM_NS), ("xmlns:sword", SWORD_NS)]);
    x.leaf("atom:id", &[], s.statement_iri);
    x.leaf("atom:title", &[], s.title);
    x.leaf("atom:updated", &[], s.updated);
    x.link("self", s.statement_iri, "application/atom+xml;type=feed");
    let (term, description) = s.state;
    x.leaf(
        "atom:category",
        &[("scheme", STATE_SCHEME), ("term", term), ("label", "State")],
        state_description(term, description),
    );
    for f in &s.files {
        x.open("atom:entry", &[]);
        x.leaf("atom:id", &[], f.uri);
        x.leaf("atom:title", &[], &file_name(f.uri));
        x.leaf("atom:updated", &[], f.deposited_on);
        x.empty("atom:content", &[("type", f.mime_type), ("src", f.uri)]);
        if f.original_deposit {
            // "Orignal" is the profile's spelling, which clients may match.
            x.empty(
                "atom:category",
                &[("scheme", SWORD_NS), ("term", REL_ORIGINAL_DEPOSIT), ("label", "Orignal Deposit")],
            );
        }
        x.leaf("sword:depositedOn", &[], f.deposited_on);
        x.leaf("sword:depositedBy", &[], f.deposited_by);
        x.opt_leaf("sword:depositedOnBehalfOf", &[], on_behalf_of(f));
        x.leaf("sword:packaging", &[], f.packaging);
        x.close("atom:entry");
    }
    x.close("atom:feed");
    x.out
}

/// The OAI-ORE statement as RDF/XML. Every node is an `rdf:Description`
/// with `rdf:type`, not a typed node element, because the python client
/// looks for `rdf:Description` elements only.
pub fn statement_ore(s: &Statement) -> String {
    let mut x = Xml::new();
    x.open(
        "rdf:RDF",
        &[("xmlns:rdf", RDF_NS), ("xmlns:ore", ORE_NS), ("xmlns:sword", SWORD_NS), ("xmlns:dcterms", DCTERMS_NS)],
    );
    x.open("rdf:Description", &[("rdf:about", s.statement_iri)]);
    x.resource("rdf:type", &format!("{ORE_NS}ResourceMap"));
    x.resource("ore:describes", s.edit_iri);
    x.leaf("dcterms:modified", &[], s.updated);
    x.close("rdf:Description");

    let (term, description) = s.state;
    x.open("rdf:Description", &[("rdf:about", s.edit_iri)]);
    x.resource("rdf:type", &format!("{ORE_NS}Aggregation"));
    x.resource("ore:isDescribedBy", s.statement_iri);
    x.leaf("dcterms:title", &[], s.title);
    for f in &s.files {
        x.resource("ore:aggregates", f.uri);
    }
    for f in s.files.iter().filter(|f| f.original_deposit) {
        x.resource("sword:originalDeposit", f.uri);
    }
    x.resource("sword:state", term);
    x.close("rdf:Description");

    for f in &s.files {
        x.open("rdf:Description", &[("rdf:about", f.uri)]);
        x.leaf("dcterms:format", &[], f.mime_type);
        x.resource("sword:packaging", f.packaging);
        x.leaf("sword:depositedOn", &[("rdf:datatype", "http://www.w3.org/2001/XMLSchema#dateTime")], f.deposited_on);
        x.leaf("sword:depositedBy", &[], f.deposited_by);
        x.opt_leaf("sword:depositedOnBehalfOf", &[], on_behalf_of(f));
        x.close("rdf:Description");
    }

    if !term.trim().is_empty() {
        x.open("rdf:Description", &[("rdf:about", term)]);
        x.leaf("sword:stateDescription", &[], state_description(term, description));
        x.close("rdf:Description");
    }
    x.close("rdf:RDF");
    x.out
}

pub struct SwordError<'a> {
    /// One of the ERROR_* URIs (the sword:error element's href).
    pub href: &'a str,
    pub title: &'a str,
    /// atom:summary: the plain explanation for a person.
    pub summary: &'a str,
    pub updated: &'a str,
    pub treatment: &'a str,
    pub verbose: Option<&'a str>,
    pub generator: (&'a str, &'a str),
}

/// A `<sword:error href=...>` document.
pub fn error_document(e: &SwordError) -> String {
    let mut x = Xml::new();
    x.open("sword:error", &[("xmlns:sword", SWORD_NS), ("xmlns:atom", ATOM_NS), ("href", e.href)]);
    x.leaf("atom:title", &[], e.title);
    x.leaf("atom:updated", &[], e.updated);
    x.empty("atom:generator", &[("uri", e.generator.0), ("version", e.generator.1)]);
    x.leaf("atom:summary", &[], e.summary);
    x.leaf("sword:treatment", &[], e.treatment);
    x.opt_leaf("sword:verboseDescription", &[], e.verbose);
    x.close("sword:error");
    x.out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = r#"<entry xmlns="http://www.w3.org/2005/Atom" xmlns:dcterms="http://purl.org/dc/terms/">"#;

    /// An element read back: namespace, local name, attributes by qualified
    /// name, and its own text.
    #[derive(Debug)]
    struct El {
        ns: String,
        name: String,
        attrs: Vec<(String, String)>,
        text: String,
    }

    impl El {
        fn attr(&self, key: &str) -> Option<&str> {
            self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
        }
        fn is(&self, ns: &str, name: &str) -> bool {
            self.ns == ns && self.name == name
        }
    }

    /// Reads a written document back with quick-xml; anything not
    /// well-formed fails the test.
    fn read_back(xml: &str) -> Vec<El> {
        assert!(xml.starts_with(XML_DECL), "{xml}");
        let mut reader = NsReader::from_str(xml);
        let (mut els, mut open) = (Vec::<El>::new(), Vec::new());
        loop {
            let (resolved, event) = reader.read_resolved_event().unwrap_or_else(|e| panic!("{e} in {xml}"));
            let ns = match resolved {
                ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
                _ => String::new(),
            };
            let text = match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let attrs = (e.attributes().map(Result::unwrap))
                        .map(|a| (String::from_utf8_lossy(a.key.as_ref()).into(), a.unescape_value().unwrap().into()))
                        .collect();
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    els.push(El { ns, name, attrs, text: String::new() });
                    if matches!(event, Event::Start(_)) {
                        open.push(els.len() - 1);
                    }
                    continue;
                }
                Event::End(_) => {
                    open.pop();
                    continue;
                }
                Event::Text(t) => String::from_utf8(t.to_vec()).unwrap(),
                Event::GeneralRef(r) => quick_xml::escape::resolve_xml_entity(utf8(&r, 0).unwrap()).unwrap().into(),
                Event::Eof => break,
                _ => continue,
            };
            if let Some(&i) = open.last() {
                els[i].text.push_str(&text);
            }
        }
        assert!(open.is_empty(), "{xml}");
        els
    }

    fn texts<'a>(els: &'a [El], ns: &str, name: &str) -> Vec<&'a str> {
        els.iter().filter(|e| e.is(ns, name)).map(|e| e.text.as_str()).collect()
    }

    fn flat(xml: &str) -> String {
        let meta = parse_entry(xml.as_bytes()).unwrap();
        meta.terms.iter().map(|(t, v)| format!("{t}={v}")).collect::<Vec<_>>().join("; ")
    }

    fn refused(xml: &str) -> EntryError {
        parse_entry(xml.as_bytes()).unwrap_err()
    }

    #[test]
    fn reads_the_entry_the_python_sword2_client_sends() {
        let xml = r#"<?xml version="1.0" ?><entry xmlns="http://www.w3.org/2005/Atom" xmlns:dcterms="http://purl.org/dc/terms/"><title>Carbon pricing and competitiveness: a policy brief</title><id>urn:uuid:1234</id><updated>2026-12-07T10:00:00Z</updated><author><name>Doe, Jane</name></author><dcterms:abstract>Abstract text</dcterms:abstract><dcterms:creator>Doe, Jane</dcterms:creator></entry>"#;
        let expected = "title=Carbon pricing and competitiveness: a policy brief; creator=Doe, Jane; \
                        abstract=Abstract text; creator=Doe, Jane";
        assert_eq!(flat(xml), expected);
        let meta = parse_entry(xml.as_bytes()).unwrap();
        assert_eq!((meta.first("abstract"), meta.all("creator").count()), (Some("Abstract text"), 2));
    }

    #[test]
    fn prefixed_atom_legacy_dc_and_categories_read_the_same() {
        let xml = r#"<atom:entry xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
              xmlns:t="http://purl.org/dc/terms/" xmlns:x="urn:other">
            <atom:title> Prefixed title </atom:title><atom:summary>Sum</atom:summary>
            <atom:contributor><atom:name>Roe, R.</atom:name><atom:email>r@example.org</atom:email></atom:contributor>
            <atom:category term="economics"/><atom:category scheme="urn:s" term="policy" label="Policy"/>
            <dc:date>2026</dc:date><t:isPartOf>Series 4</t:isPartOf><t:rights>  </t:rights>
            <x:title>not Atom</x:title><atom:name>not inside an author</atom:name>
        </atom:entry>"#;
        let expected = "title=Prefixed title; abstract=Sum; contributor=Roe, R.; subject=economics; \
                        subject=policy; date=2026; isPartOf=Series 4";
        assert_eq!(flat(xml), expected);
    }

    #[test]
    fn a_feed_is_not_an_entry() {
        let err = refused(r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>"#);
        assert!(matches!(err, EntryError::NotAnEntry(_)) && err.to_string().contains("<feed>"), "{err:?}");
        // Atom's element name in no namespace is not Atom's entry.
        assert!(matches!(refused("<entry><title>x</title></entry>"), EntryError::NotAnEntry(_)));
        assert!(matches!(refused("  "), EntryError::NotAnEntry(_)));
    }

    #[test]
    fn broken_xml_is_malformed_with_a_position() {
        let err = refused(r#"<entry xmlns="http://www.w3.org/2005/Atom"><title>x</entry>"#);
        let message = err.to_string();
        assert!(matches!(err, EntryError::Malformed(_)), "{err:?}");
        assert!(message.starts_with("the Atom entry is not well-formed XML: ") && message.contains("at byte"));
        assert!(matches!(refused(&format!("{ENTRY}<title>x</title>")), EntryError::Malformed(_)));
        assert!(matches!(refused(&format!("{ENTRY}<title>&nbsp;</title></entry>")), EntryError::Malformed(_)));
    }

    #[test]
    fn deep_nesting_long_text_and_many_terms_are_too_large() {
        let deep = format!("{ENTRY}{}{}</entry>", "<x>".repeat(39), "</x>".repeat(39));
        let long = format!("{ENTRY}<title>{}</title></entry>", "a".repeat(2 << 20));
        let many = format!("{ENTRY}{}</entry>", "<title>t</title>".repeat(10_001));
        for xml in [deep, long, many] {
            assert!(matches!(refused(&xml), EntryError::TooLarge(_)));
        }
    }

    #[test]
    fn a_doctype_is_refused_before_any_entity_is_expanded() {
        let mut xml = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE entry [\n<!ENTITY lol0 \"lol\">\n");
        for i in 1..10 {
            xml.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", format!("&lol{};", i - 1).repeat(10)));
        }
        xml.push_str(&format!("]>\n{ENTRY}<title>&lol9;</title></entry>"));
        let started = std::time::Instant::now();
        let err = refused(&xml);
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(matches!(err, EntryError::Malformed(_)), "{err:?}");
        assert!(err.to_string().contains("DOCTYPE declarations are not accepted"), "{err}");
    }

    #[test]
    fn references_are_unescaped() {
        let xml = format!(
            "{ENTRY}<title>A &amp; B</title><dcterms:publisher>Caf&#233; <![CDATA[<Press>]]></dcterms:publisher></entry>"
        );
        assert_eq!(flat(&xml), "title=A & B; publisher=Café <Press>");
    }

    #[test]
    fn service_document_has_version_and_both_accept_forms() {
        let collection = Collection {
            href: "https://repo.example/sword/collections/article",
            title: "Articles",
            description: "Journal articles",
            accept: vec!["*/*"],
            accept_packaging: vec![PACKAGE_SIMPLE_ZIP, PACKAGE_BINARY],
            policy: "Open access only",
            mediation: false,
            treatment: "Deposits are reviewed before they go live",
        };
        let doc = ServiceDocument { title: "Arkiv & Co", max_upload_kb: 512_000, collections: vec![collection] };
        let els = read_back(&service_document(&doc));
        assert!(els[0].is(APP_NS, "service"));
        assert_eq!(texts(&els, SWORD_NS, "version"), ["2.0"]);
        assert_eq!(texts(&els, SWORD_NS, "maxUploadSize"), ["512000"]);
        assert_eq!(texts(&els, ATOM_NS, "title"), ["Arkiv & Co", "Articles"]);
        let accepts = els.iter().filter(|e| e.is(APP_NS, "accept")).map(|e| (e.attr("alternate"), &*e.text));
        assert_eq!(accepts.collect::<Vec<_>>(), [(None, "*/*"), (Some("multipart-related"), "*/*")]);
        assert_eq!(texts(&els, SWORD_NS, "mediation"), ["false"]);
        assert_eq!(texts(&els, SWORD_NS, "acceptPackaging"), [PACKAGE_SIMPLE_ZIP, PACKAGE_BINARY]);
    }

    #[test]
    fn receipt_links_carry_the_profile_rels_and_text_is_escaped() {
        let r = Receipt {
            edit_iri: "https://repo.example/sword/edit/42",
            edit_media_iri: "https://repo.example/sword/edit-media/42",
            statement_atom_iri: "https://repo.example/sword/statement/42.atom",
            statement_ore_iri: "https://repo.example/sword/statement/42.rdf",
            alternate: "https://repo.example/42/",
            title: "Prices <&\"> quantities",
            updated: "2026-12-07T10:00:00Z",
            summary: Some("A summary"),
            authors: vec!["Doe, Jane", " "],
            dcterms: vec![("abstract", "An abstract"), ("bad name", "dropped")],
            packaging: vec![PACKAGE_SIMPLE_ZIP],
            treatment: "Stored as a draft; a licence is still missing",
            verbose: None,
            original_deposits: vec![("https://repo.example/sword/file/42/1/paper.pdf", "application/pdf")],
            content_type: "application/zip",
            generator: ("https://arkiv.example/", "1.0"),
        };
        let xml = deposit_receipt(&r);
        assert!(xml.contains("Prices &lt;&amp;") && !xml.contains("dropped"), "{xml}");
        let els = read_back(&xml);
        assert!(els[0].is(ATOM_NS, "entry"));
        assert_eq!(texts(&els, ATOM_NS, "title"), [r.title]);
        assert_eq!(texts(&els, ATOM_NS, "id"), [r.edit_iri]);
        let links: Vec<_> = (els.iter().filter(|e| e.is(ATOM_NS, "link")))
            .map(|l| (l.attr("rel").unwrap(), l.attr("href").unwrap(), l.attr("type").unwrap_or("")))
            .collect();
        let sword = "http://purl.org/net/sword/terms/";
        let expected = [
            ("edit", r.edit_iri, ""),
            ("edit-media", r.edit_media_iri, ""),
            (&format!("{sword}add"), r.edit_iri, ""),
            ("alternate", r.alternate, "text/html"),
            (&format!("{sword}statement"), r.statement_atom_iri, "application/atom+xml;type=feed"),
            (&format!("{sword}statement"), r.statement_ore_iri, "application/rdf+xml"),
            (&format!("{sword}originalDeposit"), r.original_deposits[0].0, "application/pdf"),
        ];
        assert_eq!(links, expected.map(|(rel, href, t)| (rel as &str, href, t)));
        let content = els.iter().find(|e| e.is(ATOM_NS, "content")).unwrap();
        assert_eq!((content.attr("src"), content.attr("type")), (Some(r.edit_media_iri), Some("application/zip")));
        assert_eq!(texts(&els, ATOM_NS, "name"), ["Doe, Jane"]);
        assert_eq!(texts(&els, DCTERMS_NS, "abstract"), ["An abstract"]);
        assert_eq!(texts(&els, SWORD_NS, "treatment"), [r.treatment]);
    }

    fn statement(description: &'static str) -> Statement<'static> {
        let file = |uri, mime_type, deposited_on, original_deposit: bool| StatementFile {
            uri,
            mime_type,
            deposited_on,
            deposited_by: "jdoe",
            on_behalf_of: original_deposit.then_some("rroe"),
            packaging: PACKAGE_BINARY,
            original_deposit,
        };
        Statement {
            edit_iri: "https://repo.example/sword/edit/42",
            statement_iri: "https://repo.example/sword/statement/42.atom",
            title: "Prices & quantities",
            updated: "2026-12-07T10:00:00Z",
            state: (STATE_IN_REVIEW, description),
            files: vec![
                file("https://repo.example/file/42/1/my%20paper.pdf", "application/pdf", "2026-12-07T10:00:00Z", true),
                file("https://repo.example/file/42/2/data.csv", "text/csv", "2026-12-07T10:05:00Z", false),
            ],
        }
    }

    #[test]
    fn atom_statement_state_always_has_text() {
        for description in ["Under review", "  "] {
            let els = read_back(&statement_atom(&statement(description)));
            assert!(els[0].is(ATOM_NS, "feed"));
            let categories: Vec<_> = els.iter().filter(|e| e.is(ATOM_NS, "category")).collect();
            let state = categories[0];
            assert_eq!(state.attr("scheme"), Some("http://purl.org/net/sword/terms/state"));
            assert_eq!((state.attr("term"), state.attr("label")), (Some(STATE_IN_REVIEW), Some("State")));
            assert!(!state.text.trim().is_empty());
            assert!(description.trim().is_empty() || state.text == description);
            assert_eq!(texts(&els, ATOM_NS, "title"), ["Prices & quantities", "my paper.pdf", "data.csv"]);
            assert_eq!(categories.len(), 2, "one original deposit");
            assert_eq!(categories[1].attr("term"), Some("http://purl.org/net/sword/terms/originalDeposit"));
            assert_eq!(texts(&els, SWORD_NS, "depositedOn"), ["2026-12-07T10:00:00Z", "2026-12-07T10:05:00Z"]);
            assert_eq!(texts(&els, SWORD_NS, "depositedOnBehalfOf"), ["rroe"]);
        }
    }

    #[test]
    fn ore_statement_names_the_aggregation_and_each_file() {
        let s = statement("");
        let els = read_back(&statement_ore(&s));
        assert!(els[0].is(RDF_NS, "RDF"));
        let about = els.iter().filter(|e| e.is(RDF_NS, "Description")).map(|d| d.attr("rdf:about"));
        let (files, state) = ([s.files[0].uri, s.files[1].uri], STATE_IN_REVIEW);
        let expected = [s.statement_iri, s.edit_iri, files[0], files[1], state].map(Some);
        assert_eq!(about.collect::<Vec<_>>(), expected);
        let resources = |name: &str| -> Vec<&str> {
            els.iter().filter(|e| e.name == name).filter_map(|e| e.attr("rdf:resource")).collect()
        };
        assert_eq!(resources("aggregates"), files);
        assert_eq!(resources("originalDeposit"), [files[0]]);
        assert_eq!((resources("state"), resources("describes")), (vec![state], vec![s.edit_iri]));
        // What the python client checks before it reads anything else.
        assert_eq!(resources("isDescribedBy"), [s.statement_iri]);
        assert!(resources("type").contains(&"http://www.openarchives.org/ore/terms/Aggregation"));
        assert!(!texts(&els, SWORD_NS, "stateDescription")[0].trim().is_empty());
    }

    #[test]
    fn error_document_root_is_sword_error_with_the_href() {
        let e = SwordError {
            href: ERROR_CHECKSUM_MISMATCH,
            title: "Checksum mismatch",
            summary: "The file's MD5 <is> not what Content-MD5 said",
            updated: "2026-12-07T10:00:00Z",
            treatment: "Nothing was stored",
            verbose: Some("expected abc, got def"),
            generator: ("https://arkiv.example/", "1.0"),
        };
        let els = read_back(&error_document(&e));
        assert!(els[0].is(SWORD_NS, "error"));
        assert_eq!(els[0].attr("href"), Some(ERROR_CHECKSUM_MISMATCH));
        assert_eq!(texts(&els, ATOM_NS, "summary"), [e.summary]);
        assert_eq!(texts(&els, SWORD_NS, "verboseDescription"), ["expected abc, got def"]);
    }
}
