//! Reading EPrints 3 XML, one `<eprint>` at a time.
//!
//! The reader is a loop over quick-xml events with three guards around it,
//! because an import file is input from outside and may be huge, broken or
//! hostile:
//!
//! * a byte-level `Guard` under quick-xml that caps how much of one text
//!   node or tag quick-xml may buffer, so that a 10 MB title is cut off at
//!   the limit (and the record refused) instead of being read whole;
//! * depth counters instead of recursion, so that deep nesting costs neither
//!   stack nor unbounded memory;
//! * a per-record tree that is built only up to those bounds and then mapped
//!   to a [`Record`], so that one bad record is reported and the next one is
//!   read normally.
//!
//! Only a broken XML stream (a syntax error, a truncated file) ends reading
//! early: after it, where the next record begins cannot be known reliably.

use super::{clip, is_forbidden_char, split_keywords, DOCUMENT_BOOKKEEPING, EPRINTS_NS, RECOMPUTED_ELEMENTS};
use crate::{FileData, FileSource, ImportedRecord, ReadItem, RecordError};
use arkiv_model::{
    Contributor, CorporateCreator, Creator, Derivation, Document, DocumentSecurity, ExtraField, PartialDate,
    PersonName, Record, RelatedLink, Status, StoredFile, Timestamp,
};
use base64::Engine;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{self, BufRead, Read};

/// Bounds the reader enforces while it reads. The defaults suit any real
/// EPrints export; an importer of unusually large embedded files can raise
/// `max_embedded_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderLimits {
    /// Longest text of one element, in bytes as written (1 MiB). Also bounds
    /// a single tag, comment or CDATA section.
    pub max_text_bytes: usize,
    /// Longest title, in characters after trimming (the model's bound).
    pub max_title_chars: usize,
    /// All the text of one record together, embedded files aside.
    pub max_record_text_bytes: usize,
    /// All the base64 text of the files embedded in one record.
    pub max_embedded_bytes: usize,
    /// Deepest nesting of elements inside an `<eprint>`.
    pub max_record_depth: usize,
    /// Deepest nesting anywhere in the file; past it reading stops. The
    /// parser keeps the name of every open element to match end tags, so
    /// this bounds its memory; a record nested deeper than
    /// `max_record_depth` but within this fails alone.
    pub max_depth: usize,
}

impl Default for ReaderLimits {
    fn default() -> Self {
        ReaderLimits {
            max_text_bytes: 1 << 20,
            max_title_chars: arkiv_model::validate::MAX_TITLE_CHARS,
            max_record_text_bytes: 32 << 20,
            max_embedded_bytes: 256 << 20,
            max_record_depth: 64,
            // quick-xml 0.38 counts open elements in a u16 (it panics, or
            // wraps in a release build, past 65,535): the bound stays well
            // under it. EPrints records nest about ten deep; a record nested past
            // `max_record_depth` but within this fails alone.
            max_depth: 50_000,
        }
    }
}

/// A title is refused above `max_title_chars`, but it is written escaped, so
/// its byte length may be several times that. This many bytes per character
/// covers any escape but absurdly zero-padded character references.
const TITLE_BYTES_PER_CHAR: usize = 10;

/// quick-xml's event buffer is kept between events up to this size.
const KEEP_BUFFER_BYTES: usize = 4 << 20;

/// Reads `<eprint>` records from EPrints 3 XML; see the module docs. Each
/// item is one record or the reason it was refused; an `Err` at position 0,
/// or after broken XML, is the last item.
pub struct EprintsReader<R: BufRead> {
    xml: NsReader<Guard<R>>,
    buf: Vec<u8>,
    phase: Phase,
    limits: ReaderLimits,
    /// Nesting depth of the element being read, the root being 1.
    depth: usize,
    /// Whether quick-xml's last event was text: then it has already taken
    /// the `<` of the next tag, and the next read is markup.
    last_was_text: bool,
    /// Child elements of the root seen so far: the position of the current one.
    items: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the root element.
    Prolog,
    /// Inside `<eprints>`, between records.
    InRoot,
    /// After the root element: only whitespace, comments and PIs may follow.
    Epilog,
    Done,
}

/// Line numbers of byte positions in a document read front to back, for
/// the small readers' messages. Each call counts only the newlines since
/// the one before, so a reader that asks at every element (the history
/// reader asks at each of a million entries) stays linear in the size of
/// its input; a position before the last is counted from the start.
pub(super) struct LineCounter<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        LineCounter { bytes, pos: 0, line: 1 }
    }

    /// The line (1-based) byte `pos` is on.
    pub fn at(&mut self, pos: u64) -> usize {
        let pos = (pos as usize).min(self.bytes.len());
        if pos < self.pos {
            (self.pos, self.line) = (0, 1);
        }
        self.line += memchr::memchr_iter(b'\n', &self.bytes[self.pos..pos]).count();
        self.pos = pos;
        self.line
    }
}

/// The text a text, entity-reference or CDATA event stands for, unescaped,
/// or why it cannot be read; `None` for any other event. For the small
/// readers beside the record reader (subjects, history, users), which take
/// quick-xml's events as they come.
pub(super) fn event_text(event: &quick_xml::events::Event) -> Option<Result<String, String>> {
    use quick_xml::events::Event;
    Some(match event {
        Event::Text(t) => std::str::from_utf8(t)
            .map_err(|_| "text that is not UTF-8".to_string())
            .and_then(|raw| quick_xml::escape::unescape(raw).map(|s| s.into_owned()).map_err(|e| e.to_string())),
        Event::GeneralRef(r) => resolve_reference(r),
        Event::CData(c) => Ok(String::from_utf8_lossy(c).into_owned()),
        _ => return None,
    })
}

/// The text an entity reference (`&amp;`, `&#233;`) stands for. quick-xml
/// reports each reference as an event of its own; only XML's five
/// predefined entities and character references mean anything without a
/// DTD, and EPrints exports use nothing else.
pub(super) fn resolve_reference(reference: &quick_xml::events::BytesRef) -> Result<String, String> {
    let name = String::from_utf8_lossy(reference);
    match reference.resolve_char_ref() {
        Ok(Some(c)) => Ok(c.to_string()),
        Ok(None) => quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned).ok_or_else(|| {
            format!(
                "unknown entity &{name}; (only the five predefined entities and character references are \
                     read; entities declared in a DOCTYPE are never expanded)"
            )
        }),
        Err(_) => Err(format!("bad character reference &{name};")),
    }
}

impl<R: BufRead> EprintsReader<R> {
    pub fn new(reader: R) -> Self {
        Self::with_limits(reader, ReaderLimits::default())
    }

    pub fn with_limits(reader: R, limits: ReaderLimits) -> Self {
        let mut xml = NsReader::from_reader(Guard::new(reader));
        let config = xml.config_mut();
        // Mismatched end tags mean the stream is broken; quick-xml tells us.
        config.check_end_names = true;
        config.expand_empty_elements = false;
        config.trim_text_start = false;
        config.trim_text_end = false;
        EprintsReader { xml, buf: Vec::new(), phase: Phase::Prolog, limits, depth: 0, last_was_text: false, items: 0 }
    }

    /// 1-based line the reader has reached.
    fn line(&mut self) -> usize {
        self.xml.get_mut().line + 1
    }

    fn fatal(&mut self, position: usize, message: String) -> ReadItem {
        self.phase = Phase::Done;
        let line = self.line();
        ReadItem { position, line: Some(line), result: Err(RecordError::new(message)) }
    }

    /// Reads one event and turns it into an owned [`Ev`], so that the
    /// reader's borrow ends here. `limit` caps the text (or markup) quick-xml
    /// may buffer for it. `Err` is a broken stream, described.
    fn read(&mut self, limit: usize) -> Result<Ev, String> {
        self.xml.get_mut().begin(!self.last_was_text, limit);
        self.buf.clear();
        // One large embedded file must not pin its size for the rest of a
        // multi-gigabyte import.
        if self.buf.capacity() > KEEP_BUFFER_BYTES {
            self.buf = Vec::new();
        }
        let result = self.xml.read_resolved_event_into(&mut self.buf);
        let (resolved, event) = match result {
            Ok(ok) => ok,
            Err(e) => {
                let guard = self.xml.get_mut();
                return Err(format!("malformed XML at byte {} (line {}): {e}", guard.offset, guard.line + 1));
            }
        };
        // An entity reference splits a text into pieces; they are one text
        // for the size limit.
        self.last_was_text = matches!(event, Event::Text(_) | Event::GeneralRef(_));
        Ok(match event {
            Event::Start(e) => Ev::Start(Tag::from_event(&resolved, &e, false)),
            Event::Empty(e) => Ev::Empty(Tag::from_event(&resolved, &e, true)),
            Event::End(_) => Ev::End,
            Event::Text(t) => match std::str::from_utf8(&t) {
                Ok(raw) => match quick_xml::escape::unescape(&normalize_newlines(raw)) {
                    Ok(s) => Ev::Text(s.into_owned()),
                    Err(e) => Ev::BadText(describe_text_error(e.into())),
                },
                Err(_) => Ev::BadText("text is not UTF-8".into()),
            },
            Event::GeneralRef(r) => match resolve_reference(&r) {
                Ok(text) => Ev::Text(text),
                Err(problem) => Ev::BadText(problem),
            },
            Event::CData(c) => match std::str::from_utf8(&c) {
                Ok(s) => Ev::Text(normalize_newlines(s).into_owned()),
                Err(_) => Ev::BadText("text is not UTF-8".into()),
            },
            Event::Decl(d) => {
                let encoding = match d.encoding() {
                    Some(Ok(enc)) => Some(String::from_utf8_lossy(&enc).into_owned()),
                    _ => None,
                };
                Ev::Decl { encoding }
            }
            Event::Eof => Ev::Eof,
            Event::Comment(_) | Event::PI(_) | Event::DocType(_) => Ev::Ignorable,
        })
    }

    /// Whether the guard cut the text just read short.
    fn take_truncated(&mut self) -> bool {
        std::mem::take(&mut self.xml.get_mut().truncated)
    }

    /// Reads a record whose start tag (`start`) has just been read.
    fn read_record(&mut self, start: Tag) -> ReadItem {
        let empty = start.empty;
        let position = self.items;
        let line = Some(self.line());
        let mut tree = TreeBuilder::new(start, self.limits);
        let base = self.depth;
        if empty {
            self.depth -= 1;
        } else {
            loop {
                let limit = tree.text_limit();
                let ev = match self.read(limit) {
                    Ok(ev) => ev,
                    Err(e) => return self.fatal(position, format!("record {position}: {e}; reading stopped here")),
                };
                if self.take_truncated() {
                    tree.text_too_long();
                }
                match ev {
                    Ev::Start(tag) => {
                        self.depth += 1;
                        if self.depth > self.limits.max_depth {
                            let msg = format!(
                                "record {position}: elements nested deeper than {}; reading stopped here",
                                self.limits.max_depth
                            );
                            return self.fatal(position, msg);
                        }
                        tree.open(tag);
                    }
                    Ev::Empty(tag) => {
                        tree.open(tag);
                        tree.close();
                    }
                    Ev::End => {
                        self.depth -= 1;
                        if self.depth < base {
                            break;
                        }
                        tree.close();
                    }
                    Ev::Text(text) => tree.text(text),
                    Ev::BadText(problem) => tree.fail_here(&problem),
                    Ev::Eof => {
                        let msg = format!("record {position}: the file ends inside this record (truncated?)");
                        return self.fatal(position, msg);
                    }
                    Ev::Decl { .. } | Ev::Ignorable => {}
                }
            }
        }
        let result = tree.finish().and_then(|root| map_record(root, &self.limits));
        ReadItem { position, line, result: result.map_err(RecordError::new) }
    }

    /// Skips the rest of an element whose start tag has just been read,
    /// counting depth only. `Err` is a broken stream.
    fn skip_element(&mut self) -> Result<(), String> {
        let base = self.depth;
        loop {
            let limit = self.limits.max_text_bytes;
            let ev = self.read(limit)?;
            self.take_truncated();
            match ev {
                Ev::Start(_) => {
                    self.depth += 1;
                    if self.depth > self.limits.max_depth {
                        return Err(format!("elements nested deeper than {}", self.limits.max_depth));
                    }
                }
                Ev::End => {
                    self.depth -= 1;
                    if self.depth < base {
                        return Ok(());
                    }
                }
                Ev::Eof => return Err("the file ends inside an element (truncated?)".into()),
                _ => {}
            }
        }
    }
}

impl<R: BufRead> Iterator for EprintsReader<R> {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        loop {
            let limit = self.limits.max_text_bytes;
            match self.phase {
                Phase::Done => return None,
                Phase::Prolog => {
                    let ev = match self.read(limit) {
                        Ok(ev) => ev,
                        Err(e) => return Some(self.fatal(0, e)),
                    };
                    match ev {
                        Ev::Decl { encoding: Some(enc) }
                            if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("utf8") =>
                        {
                            return Some(self.fatal(0, format!("only UTF-8 is read; the file declares {enc:?}")));
                        }
                        Ev::Decl { .. } | Ev::Ignorable => {}
                        Ev::Text(t) if t.trim().is_empty() => {}
                        Ev::Text(_) | Ev::BadText(_) => {
                            return Some(self.fatal(0, "text before the root element: not an EPrints XML file".into()))
                        }
                        Ev::Start(tag) | Ev::Empty(tag) if tag.ns_ok && tag.name == "eprints" => {
                            if tag.empty {
                                self.phase = Phase::Epilog;
                            } else {
                                self.depth = 1;
                                self.phase = Phase::InRoot;
                            }
                        }
                        Ev::Start(tag) | Ev::Empty(tag) if tag.ns_ok && tag.name == "eprint" => {
                            // A single-record export: the record is the root.
                            self.depth = 1;
                            self.items = 1;
                            self.phase = Phase::Epilog;
                            return Some(self.read_record(tag));
                        }
                        Ev::Start(tag) | Ev::Empty(tag) => {
                            let found = match &tag.ns {
                                _ if tag.ns_ok => format!("<{}> in the EPrints namespace", tag.name),
                                Some(ns) => format!("<{}> in namespace {ns:?}", tag.name),
                                None => format!("<{}> in no namespace", tag.name),
                            };
                            let msg = format!("not EPrints XML: the root element must be <eprints xmlns=\"{EPRINTS_NS}\">; found {found}");
                            return Some(self.fatal(0, msg));
                        }
                        Ev::End => return Some(self.fatal(0, "an end tag before any element".into())),
                        Ev::Eof => return Some(self.fatal(0, "no root element: the file is empty".into())),
                    }
                }
                Phase::InRoot => {
                    let ev = match self.read(limit) {
                        Ok(ev) => ev,
                        Err(e) => {
                            let msg = format!("{e}; reading stopped after record {}", self.items);
                            return Some(self.fatal(0, msg));
                        }
                    };
                    self.take_truncated();
                    match ev {
                        Ev::Start(tag) => {
                            self.depth += 1;
                            self.items += 1;
                            if tag.ns_ok && tag.name == "eprint" {
                                return Some(self.read_record(tag));
                            }
                            let position = self.items;
                            let line = Some(self.line());
                            if let Err(e) = self.skip_element() {
                                return Some(self.fatal(position, format!("{e}; reading stopped here")));
                            }
                            return Some(ReadItem { position, line, result: Err(not_a_record(&tag)) });
                        }
                        Ev::Empty(tag) => {
                            self.items += 1;
                            if tag.ns_ok && tag.name == "eprint" {
                                self.depth += 1;
                                return Some(self.read_record(tag));
                            }
                            let line = Some(self.line());
                            return Some(ReadItem { position: self.items, line, result: Err(not_a_record(&tag)) });
                        }
                        Ev::End => {
                            self.depth = 0;
                            self.phase = Phase::Epilog;
                        }
                        Ev::Eof => {
                            let msg =
                                format!("the file ends before </eprints> (truncated?) after record {}", self.items);
                            return Some(self.fatal(0, msg));
                        }
                        // Stray text between records carries nothing.
                        Ev::Text(_) | Ev::BadText(_) | Ev::Decl { .. } | Ev::Ignorable => {}
                    }
                }
                Phase::Epilog => {
                    let ev = match self.read(limit) {
                        Ok(ev) => ev,
                        Err(e) => return Some(self.fatal(0, e)),
                    };
                    match ev {
                        Ev::Eof => {
                            self.phase = Phase::Done;
                            return None;
                        }
                        Ev::Text(t) if t.trim().is_empty() => {}
                        Ev::Ignorable => {}
                        _ => return Some(self.fatal(0, "content after the root element".into())),
                    }
                }
            }
        }
    }
}

fn not_a_record(tag: &Tag) -> RecordError {
    RecordError::new(format!("<{}> is not an <eprint> record; skipped", tag.name))
}

/// XML's end-of-line handling (XML 1.0, 2.11): a parser reads `\r\n` and a
/// lone `\r` as `\n`. quick-xml leaves that to its user. It must happen on
/// the raw text, before references are expanded, so that `&#13;` still
/// stands for a carriage return.
fn normalize_newlines(raw: &str) -> Cow<'_, str> {
    if raw.contains('\r') {
        Cow::Owned(raw.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(raw)
    }
}

fn describe_text_error(e: quick_xml::Error) -> String {
    match e {
        quick_xml::Error::Escape(quick_xml::escape::EscapeError::UnrecognizedEntity(_, name)) => format!(
            "unknown entity &{name}; (only the five predefined entities and character references are read; \
             entities declared in a DOCTYPE are never expanded)"
        ),
        quick_xml::Error::Escape(e) => format!("bad character reference: {e}"),
        quick_xml::Error::Encoding(_) => "text is not UTF-8".into(),
        other => other.to_string(),
    }
}

/// An owned quick-xml event: what the record reader needs of it.
#[derive(Debug)]
enum Ev {
    Start(Tag),
    Empty(Tag),
    End,
    /// Text or CDATA, unescaped.
    Text(String),
    /// Text that cannot be read (unknown entity, bad UTF-8): the record's
    /// problem, not the stream's.
    BadText(String),
    Decl {
        encoding: Option<String>,
    },
    /// Comments, processing instructions, DOCTYPE: nothing a record needs.
    Ignorable,
    Eof,
}

/// A start tag: local name, whether it is in the EPrints namespace, and its
/// attributes (namespace declarations left out).
#[derive(Debug)]
struct Tag {
    name: String,
    /// The namespace, when it is not EPrints'.
    ns: Option<String>,
    ns_ok: bool,
    empty: bool,
    attrs: Result<Vec<(String, String)>, String>,
}

impl Tag {
    fn from_event(resolved: &ResolveResult, e: &BytesStart, empty: bool) -> Tag {
        // Compared as bytes; only a foreign namespace is kept, for the
        // message that names it (every element of a record is EPrints').
        let (ns_ok, ns) = match resolved {
            ResolveResult::Bound(ns) if ns.as_ref() == EPRINTS_NS.as_bytes() => (true, None),
            ResolveResult::Bound(ns) => (false, Some(String::from_utf8_lossy(ns.as_ref()).into_owned())),
            _ => (false, None),
        };
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        let mut attrs = Vec::new();
        let mut problem = None;
        for attr in e.attributes().with_checks(true) {
            match attr {
                Ok(a) => {
                    let key = a.key.as_ref();
                    if key == b"xmlns" || key.starts_with(b"xmlns:") {
                        continue;
                    }
                    match a.unescape_value() {
                        Ok(v) => attrs.push((String::from_utf8_lossy(key).into_owned(), v.into_owned())),
                        Err(e) => problem = Some(format!("attribute of <{name}>: {}", describe_text_error(e))),
                    }
                }
                Err(e) => problem = Some(format!("bad attribute in <{name}>: {e}")),
            }
        }
        Tag { name, ns, ns_ok, empty, attrs: problem.map_or(Ok(attrs), Err) }
    }
}

/// Wraps the input under quick-xml. It counts lines and bytes, and it stops
/// quick-xml from buffering more than a limit of one text node: past the
/// limit it drops the rest of the text up to the next `<`, so quick-xml sees
/// a short text followed by the next tag, the stream stays in step, and the
/// record can be refused without the text ever being held. A tag, comment
/// or CDATA section over the limit cannot be cut without losing step, so it
/// is an I/O error, which ends reading.
///
/// It relies on how quick-xml consumes input: a text read takes the text and
/// the `<` after it; a markup read takes everything up to its `>`.
struct Guard<R> {
    inner: R,
    /// Whether quick-xml is reading text (up to a `<`) rather than markup.
    in_text: bool,
    /// Bytes taken since the current text or markup began.
    run: usize,
    limit: usize,
    /// Set when text was dropped; the reader takes it after each event.
    truncated: bool,
    /// Line breaks consumed.
    line: usize,
    /// Bytes consumed, dropped ones included.
    offset: u64,
}

impl<R: BufRead> Guard<R> {
    fn new(inner: R) -> Self {
        Guard { inner, in_text: true, run: 0, limit: usize::MAX, truncated: false, line: 0, offset: 0 }
    }

    /// Called before each quick-xml read with the state quick-xml is in.
    fn begin(&mut self, in_text: bool, limit: usize) {
        self.in_text = in_text;
        self.run = 0;
        self.limit = limit;
    }
}

impl<R: BufRead> Read for Guard<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            out[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Guard<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.in_text && self.run >= self.limit {
            loop {
                let available = self.inner.fill_buf()?;
                if available.is_empty() {
                    break;
                }
                let (n, found) = match memchr::memchr(b'<', available) {
                    Some(i) => (i, true),
                    None => (available.len(), false),
                };
                let newlines = memchr::memchr_iter(b'\n', &available[..n]).count();
                self.inner.consume(n);
                self.line += newlines;
                self.offset += n as u64;
                self.truncated |= n > 0;
                if found {
                    break;
                }
            }
        } else if !self.in_text && self.run >= self.limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a tag, comment or CDATA section longer than {} bytes", self.limit),
            ));
        }
        let allowance = self.limit - self.run.min(self.limit);
        let in_text = self.in_text;
        let available = self.inner.fill_buf()?;
        // Never hand quick-xml more than the allowance (the input may be
        // one big buffer already), unless the text ends within it.
        if allowance >= available.len() {
            return Ok(available);
        }
        match in_text.then(|| memchr::memchr(b'<', available)).flatten() {
            Some(i) if i <= allowance => Ok(available),
            _ => Ok(&available[..allowance]),
        }
    }

    fn consume(&mut self, amt: usize) {
        if amt == 0 {
            return;
        }
        // The bytes are already buffered (that is the contract of consume),
        // so this fill_buf does no I/O; it only lets us look at them.
        let (newlines, lt) = match self.inner.fill_buf() {
            Ok(buf) => {
                let bytes = &buf[..amt.min(buf.len())];
                (
                    memchr::memchr_iter(b'\n', bytes).count(),
                    if self.in_text { memchr::memchr(b'<', bytes) } else { None },
                )
            }
            Err(_) => (0, None),
        };
        self.line += newlines;
        self.offset += amt as u64;
        match (self.in_text, lt) {
            (true, Some(i)) => {
                self.in_text = false;
                self.run = amt - i - 1;
            }
            _ => self.run += amt,
        }
        self.inner.consume(amt);
    }
}

/// One element of a record as read: enough to map it to the model, and to
/// write an unknown one back as it came.
#[derive(Debug)]
struct Node {
    name: String,
    ns_ok: bool,
    attrs: Vec<(String, String)>,
    children: Vec<Child>,
    /// Bytes of text directly inside, to enforce the per-element bound even
    /// when the text comes in pieces (split by comments or CDATA).
    text_bytes: usize,
}

#[derive(Debug)]
enum Child {
    Elem(Node),
    Text(String),
}

impl Node {
    fn elems(&self) -> impl Iterator<Item = &Node> {
        self.children.iter().filter_map(|c| match c {
            Child::Elem(n) => Some(n),
            Child::Text(_) => None,
        })
    }

    /// The text directly inside, pieces joined, not trimmed.
    fn raw_text(&self) -> String {
        let mut s = String::new();
        for c in &self.children {
            if let Child::Text(t) = c {
                s.push_str(t);
            }
        }
        s
    }
}

/// Builds the tree of one record while enforcing the bounds. After the first
/// problem it stops building and only waits for the record's end, so a
/// refused record costs no more memory than it had when refused.
struct TreeBuilder {
    stack: Vec<Node>,
    failure: Option<String>,
    limits: ReaderLimits,
    text_total: usize,
    embedded_total: usize,
}

impl TreeBuilder {
    fn new(start: Tag, limits: ReaderLimits) -> Self {
        let mut b = TreeBuilder { stack: Vec::new(), failure: None, limits, text_total: 0, embedded_total: 0 };
        let attrs = match start.attrs {
            Ok(a) => a,
            Err(e) => {
                b.failure = Some(e);
                Vec::new()
            }
        };
        b.stack.push(Node { name: start.name, ns_ok: start.ns_ok, attrs, children: Vec::new(), text_bytes: 0 });
        b
    }

    /// `documents/document/title`: where a problem is, for messages.
    fn path(&self) -> String {
        self.stack.iter().skip(1).map(|n| n.name.as_str()).collect::<Vec<_>>().join("/")
    }

    fn fail(&mut self, message: String) {
        if self.failure.is_none() {
            self.failure = Some(message);
        }
    }

    fn fail_here(&mut self, problem: &str) {
        let path = self.path();
        let place = if path.is_empty() { "eprint".to_string() } else { path };
        self.fail(format!("{place}: {problem}"));
    }

    fn is_title(&self) -> bool {
        self.stack.len() == 2 && self.stack[1].name == "title"
    }

    fn is_embedded_data(&self) -> bool {
        let n = self.stack.len();
        n >= 2 && self.stack[n - 1].name == "data" && self.stack[n - 2].name == "file"
    }

    /// How many bytes of text the element being read may hold.
    fn text_limit(&self) -> usize {
        if self.failure.is_some() {
            self.limits.max_text_bytes
        } else if self.is_title() {
            self.limits.max_title_chars.saturating_mul(TITLE_BYTES_PER_CHAR).min(self.limits.max_text_bytes)
        } else if self.is_embedded_data() {
            self.limits.max_embedded_bytes
        } else {
            self.limits.max_text_bytes
        }
    }

    fn text_too_long(&mut self) {
        if self.failure.is_some() {
            return;
        }
        if self.is_title() {
            self.fail(format!("title: longer than {} characters", self.limits.max_title_chars));
        } else if self.is_embedded_data() {
            let max = self.limits.max_embedded_bytes;
            self.fail_here(&format!("embedded files of this record exceed {max} bytes of base64"));
        } else {
            let max = self.limits.max_text_bytes;
            self.fail_here(&format!("text longer than {max} bytes"));
        }
    }

    fn open(&mut self, tag: Tag) {
        if self.failure.is_some() {
            return;
        }
        if self.stack.len() > self.limits.max_record_depth {
            let max = self.limits.max_record_depth;
            self.fail(format!("elements nested deeper than {max} levels inside <eprint>"));
            return;
        }
        match tag.attrs {
            Ok(attrs) => {
                self.stack.push(Node { name: tag.name, ns_ok: tag.ns_ok, attrs, children: Vec::new(), text_bytes: 0 })
            }
            Err(e) => self.fail(e),
        }
    }

    fn close(&mut self) {
        if self.failure.is_some() || self.stack.len() < 2 {
            return;
        }
        if let Some(node) = self.stack.pop() {
            if let Some(parent) = self.stack.last_mut() {
                parent.children.push(Child::Elem(node));
            }
        }
    }

    fn text(&mut self, text: String) {
        if self.failure.is_some() {
            return;
        }
        if arkiv_model::may_hold_control_chars(&text) && text.chars().any(is_forbidden_char) {
            self.fail_here("contains control characters");
            return;
        }
        let limit = self.text_limit();
        let embedded = self.is_embedded_data();
        let Some(top) = self.stack.last_mut() else { return };
        top.text_bytes += text.len();
        if top.text_bytes > limit {
            self.text_too_long();
            return;
        }
        if embedded {
            self.embedded_total += text.len();
            if self.embedded_total > self.limits.max_embedded_bytes {
                self.text_too_long();
                return;
            }
        } else {
            self.text_total += text.len();
            if self.text_total > self.limits.max_record_text_bytes {
                let max = self.limits.max_record_text_bytes;
                self.fail(format!("the record's text exceeds {max} bytes"));
                return;
            }
        }
        top.children.push(Child::Text(text));
    }

    fn finish(mut self) -> Result<Node, String> {
        if let Some(f) = self.failure {
            return Err(f);
        }
        // The end of <eprint> closes everything (quick-xml checks nesting),
        // so only the root is left.
        self.stack.truncate(1);
        self.stack.pop().ok_or_else(|| "empty record".to_string())
    }
}

/// Maps a record's tree to the model; see the crate docs for the mapping.
fn map_record(root: Node, limits: &ReaderLimits) -> Result<ImportedRecord, String> {
    let mut m = Mapper { warnings: Vec::new(), unmapped: Vec::new(), files: Vec::new(), derivations: Vec::new() };
    let mut r = Record { status: Status::Archive, ..Default::default() };
    let mut seen: HashSet<&str> = HashSet::new();
    let mut has_title = false;
    if !root.raw_text().trim().is_empty() {
        m.warn("text directly inside <eprint> ignored".into());
    }
    for n in root.elems() {
        let name = n.name.as_str();
        if !n.ns_ok {
            m.warn(format!("<{name}> in another namespace ignored"));
            continue;
        }
        let is_list = matches!(
            name,
            "creators"
                | "corp_creators"
                | "editors"
                | "contributors"
                | "keywords"
                | "subjects"
                | "divisions"
                | "language"
                | "languages"
                | "related_url"
                | "documents"
        );
        let is_extra = !super::MAPPED_ELEMENTS.contains(&name);
        if !is_list && !is_extra && !seen.insert(name) {
            m.warn(format!("<{name}> appears more than once; only the first is used"));
            continue;
        }
        match name {
            "eprintid" => {
                let id = m.int(n, name)?;
                if id < 1 {
                    return Err(format!("eprintid: {id} is not a record id"));
                }
                r.id = Some(id);
            }
            "eprint_status" => {
                let s = m.leaf(n, name);
                r.status = Status::parse(&s).ok_or_else(|| {
                    format!("eprint_status: {:?} is not one of inbox, buffer, archive, deletion", clip(&s))
                })?;
            }
            "type" => r.item_type = m.leaf(n, name),
            // One field per item type in EPrints, one subtype here.
            "monograph_type" | "thesis_type" | "pres_type" => {
                if let Some(value) = m.opt(n, name) {
                    r.subtype = Some(value);
                }
            }
            "title" => {
                let t = m.leaf(n, name);
                // Bytes first: no more bytes than the limit, no more characters.
                if t.len() > limits.max_title_chars && t.chars().count() > limits.max_title_chars {
                    return Err(format!("title: longer than {} characters", limits.max_title_chars));
                }
                has_title = !t.is_empty();
                r.title = t;
            }
            "creators" => r.creators.extend(m.people(n, name)),
            "editors" => r.editors.extend(m.people(n, name)),
            "corp_creators" => r.corp_creators.extend(m.corp_creators(n)),
            "contributors" => r.contributors.extend(m.contributors(n)),
            "date" => r.date = m.date(n, name)?,
            "date_type" => r.date_type = m.opt(n, name),
            "ispublished" => r.ispublished = m.opt(n, name),
            "series" => r.series = m.opt(n, name),
            "number" => r.number = m.opt(n, name),
            "publisher" => r.publisher = m.opt(n, name),
            "institution" => r.institution = m.opt(n, name),
            "department" => r.department = m.opt(n, name),
            "place_of_pub" => r.place_of_pub = m.opt(n, name),
            "pages" => r.pages = m.opt(n, name),
            "pagerange" => r.pagerange = m.opt(n, name),
            "publication" => r.publication = m.opt(n, name),
            "book_title" => r.book_title = m.opt(n, name),
            "volume" => r.volume = m.opt(n, name),
            "event_title" => r.event_title = m.opt(n, name),
            "official_url" => r.official_url = m.opt(n, name),
            "doi" => r.doi = m.opt(n, name),
            "isbn" => r.isbn = m.opt(n, name),
            "issn" => r.issn = m.opt(n, name),
            "id_number" => r.id_number = m.opt(n, name),
            "abstract" => r.abstract_text = m.opt(n, name),
            "note" => r.note = m.opt(n, name),
            "license" => r.license = m.opt(n, name),
            "keywords" => r.keywords.extend(split_keywords(&m.leaf(n, name))),
            "subjects" => r.subjects.extend(m.items(n, name)),
            "divisions" => r.divisions.extend(m.items(n, name)),
            "language" => r.languages.extend(m.opt(n, name)),
            "languages" => r.languages.extend(m.items(n, name)),
            "refereed" => {
                r.refereed = match m.leaf(n, name).to_ascii_uppercase().as_str() {
                    "" => None,
                    "TRUE" => Some(true),
                    "FALSE" => Some(false),
                    other => return Err(format!("refereed: {:?} is neither TRUE nor FALSE", clip(other))),
                }
            }
            "related_url" => r.related.extend(m.related(n)),
            "userid" => r.userid = Some(m.int(n, name)?),
            "datestamp" => r.datestamp = m.timestamp(n, name)?,
            "lastmod" => r.lastmod = m.timestamp(n, name)?,
            "replacedby" => r.replaced_by = Some(m.int(n, name)?),
            "succeeds" => r.succeeds = Some(m.int(n, name)?),
            "withdrawn_reason" => r.withdrawn_reason = m.opt(n, name),
            "documents" => {
                for d in n.elems() {
                    if d.name != "document" || !d.ns_ok {
                        m.warn(format!("documents/{} ignored", d.name));
                        continue;
                    }
                    let doc = m.document(d, r.documents.len() + 1)?;
                    r.documents.push(doc);
                }
                m.resolve_derivations(&mut r.documents);
            }
            _ if RECOMPUTED_ELEMENTS.contains(&name) => {}
            _ => {
                let xml = m.serialize(n);
                m.unmapped.push(n.name.clone());
                r.extra.push(ExtraField { name: n.name.clone(), xml });
            }
        }
    }
    if !has_title {
        return Err("title: a record needs a title, and this one has none".into());
    }
    Ok(ImportedRecord { record: r, files: m.files, unmapped: m.unmapped, warnings: m.warnings })
}

struct Mapper {
    warnings: Vec<String>,
    unmapped: Vec<String>,
    files: Vec<FileSource>,
    /// Derived documents found so far: (index from 1 among the record's
    /// documents, the source's EPrints docid, the kind).
    derivations: Vec<(usize, i64, String)>,
}

impl Mapper {
    fn warn(&mut self, w: String) {
        // A pathological record could repeat one unknown element a million
        // times; the report needs each kind once.
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Child elements other than `known` are reported and dropped.
    fn check_children(&mut self, n: &Node, path: &str, known: &[&str]) {
        for c in n.elems() {
            if !c.ns_ok || !known.contains(&c.name.as_str()) {
                self.warn(format!("{path}/{} ignored", c.name));
            }
        }
    }

    /// The trimmed text of a field that holds only text.
    fn leaf(&mut self, n: &Node, path: &str) -> String {
        self.check_children(n, path, &[]);
        n.raw_text().trim().to_string()
    }

    fn opt(&mut self, n: &Node, path: &str) -> Option<String> {
        Some(self.leaf(n, path)).filter(|s| !s.is_empty())
    }

    fn child_opt(&mut self, n: &Node, name: &str, path: &str) -> Option<String> {
        let c = n.elems().find(|c| c.ns_ok && c.name == name)?;
        self.opt(c, &format!("{path}/{name}"))
    }

    fn int(&mut self, n: &Node, path: &str) -> Result<i64, String> {
        let s = self.leaf(n, path);
        s.parse().map_err(|_| format!("{path}: {:?} is not a whole number", clip(&s)))
    }

    fn date(&mut self, n: &Node, path: &str) -> Result<Option<PartialDate>, String> {
        match self.opt(n, path) {
            None => Ok(None),
            Some(s) => s.parse().map(Some).map_err(|e| format!("{path}: {e}")),
        }
    }

    fn timestamp(&mut self, n: &Node, path: &str) -> Result<Option<Timestamp>, String> {
        match self.opt(n, path) {
            None => Ok(None),
            Some(s) => Timestamp::parse(&s)
                .map(Some)
                .ok_or_else(|| format!("{path}: {:?} is not a date and time (YYYY-MM-DD hh:mm:ss)", clip(&s))),
        }
    }

    /// `<x><item>a</item><item>b</item></x>` → `[a, b]`.
    fn items(&mut self, n: &Node, path: &str) -> Vec<String> {
        self.check_children(n, path, &["item"]);
        let item_path = format!("{path}/item");
        let mut out = Vec::new();
        for item in n.elems().filter(|c| c.ns_ok && c.name == "item") {
            out.extend(self.opt(item, &item_path));
        }
        out
    }

    fn name(&mut self, n: &Node, path: &str) -> PersonName {
        self.check_children(n, path, &["family", "given"]);
        let family = self.child_opt(n, "family", path);
        let given = self.child_opt(n, "given", path).unwrap_or_default();
        // A name written as plain text (`<name>Doe</name>`) is taken whole
        // as the family name rather than lost.
        let family = family.unwrap_or_else(|| n.raw_text().trim().to_string());
        PersonName { family, given }
    }

    /// A person of `creators`, `editors` or `contributors`; `None` for an
    /// item with nothing in it.
    fn person(&mut self, item: &Node, path: &str, extra_known: &[&str]) -> Option<Creator> {
        let mut known = vec!["name", "id", "orcid", "email"];
        known.extend_from_slice(extra_known);
        self.check_children(item, path, &known);
        let name = match item.elems().find(|c| c.ns_ok && c.name == "name") {
            Some(n) => self.name(n, &format!("{path}/name")),
            None => PersonName::default(),
        };
        let c = Creator {
            name,
            id: self.child_opt(item, "id", path),
            orcid: self.child_opt(item, "orcid", path),
            email: self.child_opt(item, "email", path),
        };
        let empty = c.name.family.is_empty() && c.name.given.is_empty() && c.id.is_none() && c.orcid.is_none();
        (!empty || c.email.is_some()).then_some(c)
    }

    fn people(&mut self, n: &Node, path: &str) -> Vec<Creator> {
        self.check_children(n, path, &["item"]);
        let item_path = format!("{path}/item");
        let mut out = Vec::new();
        for item in n.elems().filter(|c| c.ns_ok && c.name == "item") {
            out.extend(self.person(item, &item_path, &[]));
        }
        out
    }

    fn contributors(&mut self, n: &Node) -> Vec<Contributor> {
        self.check_children(n, "contributors", &["item"]);
        let mut out = Vec::new();
        for item in n.elems().filter(|c| c.ns_ok && c.name == "item") {
            let role = self.child_opt(item, "type", "contributors/item");
            if let Some(person) = self.person(item, "contributors/item", &["type"]) {
                out.push(Contributor { role: role.unwrap_or_default(), person });
            }
        }
        out
    }

    /// Either `<item>Body</item>` or `<item><name>Body</name><id>..</id></item>`:
    /// EPrints repositories configure the field both ways.
    fn corp_creators(&mut self, n: &Node) -> Vec<CorporateCreator> {
        self.check_children(n, "corp_creators", &["item"]);
        let mut out = Vec::new();
        for item in n.elems().filter(|c| c.ns_ok && c.name == "item") {
            let path = "corp_creators/item";
            let cc = if item.elems().next().is_none() {
                CorporateCreator { name: item.raw_text().trim().to_string(), id: None }
            } else {
                self.check_children(item, path, &["name", "id"]);
                CorporateCreator {
                    name: self.child_opt(item, "name", path).unwrap_or_default(),
                    id: self.child_opt(item, "id", path),
                }
            };
            if !cc.name.is_empty() || cc.id.is_some() {
                out.push(cc);
            }
        }
        out
    }

    fn related(&mut self, n: &Node) -> Vec<RelatedLink> {
        self.check_children(n, "related_url", &["item"]);
        let mut out = Vec::new();
        for item in n.elems().filter(|c| c.ns_ok && c.name == "item") {
            let path = "related_url/item";
            self.check_children(item, path, &["url", "type", "description"]);
            let link = RelatedLink {
                url: self.child_opt(item, "url", path).unwrap_or_default(),
                relation: self.child_opt(item, "type", path),
                description: self.child_opt(item, "description", path),
            };
            if link.url.is_empty() {
                if link.relation.is_some() || link.description.is_some() {
                    self.warn("related_url/item without a url ignored".into());
                }
                continue;
            }
            out.push(link);
        }
        out
    }

    fn document(&mut self, d: &Node, index: usize) -> Result<Document, String> {
        const PATH: &str = "documents/document";
        let mut doc = Document::default();
        let mut pos = None;
        for c in d.elems() {
            let name = c.name.as_str();
            if !c.ns_ok {
                self.warn(format!("{PATH}/{name} ignored"));
                continue;
            }
            let path = format!("{PATH}/{name}");
            match name {
                "pos" => {
                    let s = self.leaf(c, &path);
                    let p: u32 = s.parse().map_err(|_| format!("{path}: {:?} is not a position", clip(&s)))?;
                    if p == 0 {
                        return Err(format!("{path}: positions start at 1"));
                    }
                    pos = Some(p);
                }
                "format" => doc.format = self.opt(c, &path),
                "formatdesc" => doc.format_description = self.opt(c, &path),
                "mime_type" => doc.mime_type = self.opt(c, &path),
                "language" => doc.language = self.opt(c, &path),
                "security" => {
                    if let Some(s) = self.opt(c, &path) {
                        doc.security = DocumentSecurity::parse(&s).ok_or_else(|| {
                            format!("{path}: {:?} is not one of public, validuser, staffonly", clip(&s))
                        })?;
                    }
                }
                "date_embargo" => doc.embargo = self.date(c, &path)?,
                "license" => doc.license = self.opt(c, &path),
                "content" => doc.content = self.opt(c, &path),
                "main" => doc.main = self.opt(c, &path),
                "docid" => doc.eprints_docid = Some(self.int(c, &path)?),
                "relation" => self.relation(c, index, &path),
                "files" => {}
                _ if DOCUMENT_BOOKKEEPING.contains(&name) => {}
                _ => self.warn(format!("{path} ignored")),
            }
        }
        doc.pos = match pos {
            Some(p) => p,
            None => {
                self.warn(format!("a document without <pos> placed at {index}"));
                u32::try_from(index).map_err(|_| "too many documents".to_string())?
            }
        };
        for files in d.elems().filter(|c| c.ns_ok && c.name == "files") {
            self.check_children(files, &format!("{PATH}/files"), &["file"]);
            for f in files.elems().filter(|c| c.ns_ok && c.name == "file") {
                let (file, source) = self.file(f)?;
                self.files.push(FileSource { doc_pos: doc.pos, filename: file.filename.clone(), source });
                doc.files.push(file);
            }
        }
        Ok(doc)
    }

    /// Notes what a document's `<relation>` says about where it comes
    /// from: "is a volatile version of" (EPrints' word for derived) and
    /// "is a small thumbnail version of" (or another kind) the document
    /// at `/id/document/D`. Resolved to that document's position once
    /// the whole record is read ([`Mapper::resolve_derivations`]); what a
    /// document derives from is all Arkiv keeps (the other direction,
    /// "has … version", is the same fact told by the source).
    fn relation(&mut self, n: &Node, index: usize, path: &str) {
        self.check_children(n, path, &["item"]);
        let (mut volatile, mut kind, mut source) = (false, String::new(), None);
        for item in n.elems().filter(|c| c.ns_ok && c.name == "item") {
            let ty = self.child_opt(item, "type", &format!("{path}/item")).unwrap_or_default();
            let uri = self.child_opt(item, "uri", &format!("{path}/item")).unwrap_or_default();
            let Some(name) = ty.rsplit('/').next().and_then(|t| t.strip_prefix("is")?.strip_suffix("VersionOf")) else {
                continue;
            };
            let docid = uri.rsplit_once("/id/document/").and_then(|(_, d)| d.trim_end_matches('/').parse::<i64>().ok());
            match name {
                "Volatile" => {
                    volatile = true;
                    source = source.or(docid);
                }
                "" => {}
                other => {
                    kind = other.to_string();
                    source = source.or(docid);
                }
            }
        }
        if volatile {
            match source {
                Some(docid) => self.derivations.push((index, docid, kind)),
                None => self.warn(format!("{path}: a derived document whose source is not named ignored")),
            }
        }
    }

    /// Marks the documents the relations named as derived, now that every
    /// document's position and docid are known.
    fn resolve_derivations(&mut self, documents: &mut [Document]) {
        for (index, source_docid, kind) in std::mem::take(&mut self.derivations) {
            let source = documents.iter().find(|d| d.eprints_docid == Some(source_docid)).map(|d| d.pos);
            match (source, documents.get_mut(index - 1)) {
                (Some(of), Some(doc)) if of != doc.pos => doc.derived = Some(Derivation { of, kind }),
                _ => self.warn(format!(
                    "documents/document/relation: the source document {source_docid} is not in this record; the document is kept as an ordinary one"
                )),
            }
        }
    }

    fn file(&mut self, f: &Node) -> Result<(StoredFile, FileData), String> {
        const PATH: &str = "documents/document/files/file";
        let mut file = StoredFile::default();
        let (mut hash, mut hash_type, mut size, mut data) = (None, None, None, None);
        for c in f.elems() {
            let name = c.name.as_str();
            if !c.ns_ok {
                self.warn(format!("{PATH}/{name} ignored"));
                continue;
            }
            let path = format!("{PATH}/{name}");
            match name {
                "filename" => file.filename = self.leaf(c, &path),
                "mime_type" => file.mime_type = self.opt(c, &path),
                "filesize" => {
                    if let Some(s) = self.opt(c, &path) {
                        size = Some(s.parse::<u64>().map_err(|_| format!("{path}: {:?} is not a size", clip(&s)))?);
                    }
                }
                "hash" => hash = self.opt(c, &path),
                "hash_type" => hash_type = self.opt(c, &path),
                "url" => file.source_url = self.opt(c, &path),
                "fileid" => file.eprints_fileid = Some(self.int(c, &path)?),
                "data" => data = Some(self.embedded(c, &path)?),
                _ if DOCUMENT_BOOKKEEPING.contains(&name) => {}
                _ => self.warn(format!("{path} ignored")),
            }
        }
        if file.filename.is_empty() {
            return Err(format!("{PATH}: a file without a filename"));
        }
        match (hash, hash_type) {
            (Some(h), Some(t)) => file.source_hash = Some((t, h)),
            (Some(_), None) => self.warn(format!("{PATH}/hash without hash_type ignored")),
            _ => {}
        }
        file.size = size.or(data.as_ref().map(|d: &Vec<u8>| d.len() as u64)).unwrap_or(0);
        let source = match (data, &file.source_url) {
            (Some(bytes), _) => FileData::Embedded(bytes),
            (None, Some(url)) => FileData::Url(url.clone()),
            (None, None) => FileData::None,
        };
        Ok((file, source))
    }

    fn embedded(&mut self, c: &Node, path: &str) -> Result<Vec<u8>, String> {
        let encoding = c.attrs.iter().find(|(k, _)| k == "encoding").map(|(_, v)| v.trim());
        if encoding != Some("base64") {
            return Err(format!("{path}: only encoding=\"base64\" is read, not {encoding:?}"));
        }
        self.check_children(c, path, &[]);
        // EPrints breaks base64 into lines; the engine wants it unbroken.
        let mut text = String::new();
        for child in &c.children {
            if let Child::Text(t) = child {
                text.extend(t.chars().filter(|ch| !ch.is_ascii_whitespace()));
            }
        }
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| format!("{path}: not valid base64 ({e})"))
    }

    /// An unknown element as XML, start tag to end tag, for `Record::extra`.
    /// Namespace declarations are left out (the element is written back
    /// inside the EPrints namespace), and so are attributes with a prefix
    /// other than `xml:`, which would need one.
    fn serialize(&mut self, n: &Node) -> String {
        let mut out = String::new();
        self.serialize_into(n, &mut out);
        out
    }

    fn serialize_into(&mut self, n: &Node, out: &mut String) {
        // The tree is at most `max_record_depth` deep, so recursion is bounded.
        out.push('<');
        out.push_str(&n.name);
        for (k, v) in &n.attrs {
            if k.contains(':') && !k.starts_with("xml:") {
                self.warn(format!("attribute {k} of <{}> ignored", n.name));
                continue;
            }
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            super::escape_attr(v, out);
            out.push('"');
        }
        if n.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in &n.children {
            match c {
                Child::Text(t) => super::escape_text(t, out),
                Child::Elem(e) => self.serialize_into(e, out),
            }
        }
        out.push_str("</");
        out.push_str(&n.name);
        out.push('>');
    }
}

#[cfg(test)]
mod line_counter_tests {
    use super::LineCounter;

    #[test]
    fn lines_are_counted_forward_and_again_from_the_start_when_asked_behind() {
        let text = b"a\nb\n\nc\nd";
        let mut lines = LineCounter::new(text);
        assert_eq!([lines.at(0), lines.at(2), lines.at(5), lines.at(8), lines.at(99)], [1, 2, 4, 5, 5]);
        assert_eq!(lines.at(3), 2, "behind the last position");
        assert_eq!(lines.at(7), 5);
    }
}
