//! The streaming splitter the three JSON readers share: it finds each item
//! of a JSON file without parsing the file as a whole, so that a file of
//! 100,000 items is read in the space of one, and one malformed item costs
//! only itself.
//!
//! A file is a sequence of top-level JSON values (one, or JSON Lines: one
//! per line; any white space between them will do):
//!
//! * an array: each element is an item;
//! * an object holding a list of items at one of the reader's list paths
//!   (Crossref: `message.items` or `items`; DataCite: `data`): each element
//!   of that array is an item, and the rest of the object (the API's
//!   `status`, `total-results`, `meta`, `links`...) is skipped;
//! * any other object: one item, the whole object (a reader unwraps
//!   `{"message": work}` or `{"data": doi}` itself).
//!
//! The scanner tracks strings, escapes and nesting only: it decides where
//! an item starts and ends, and leaves checking the item's JSON to
//! serde_json, item by item. Inside an array, commas and white space
//! between items are skipped (a missing or doubled comma costs nothing).
//! An item over [`MAX_ITEM_BYTES`] or nested deeper than [`MAX_DEPTH`] is
//! scanned to its end without being held, and is an error. A closing
//! bracket that does not match closes up to its opener, so that a broken
//! item ends where it most likely ends. A file whose first byte (after a
//! byte-order mark and white space) opens no array or object is not JSON:
//! one error, and reading stops; the same for anything but a value between
//! top-level values. Only an I/O error stops reading otherwise.

use std::io::{self, BufRead};

/// Largest item held, in bytes of JSON.
pub const MAX_ITEM_BYTES: usize = 16 << 20;
/// Deepest nesting of arrays and objects inside one item.
pub const MAX_DEPTH: usize = 100;

/// Where a reader's items may sit inside a top-level object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListPaths {
    /// Keys whose object value is entered to look for a list (Crossref's
    /// `message`).
    pub wrappers: &'static [&'static str],
    /// Keys whose array value is the list of items (`items`, `data`).
    pub lists: &'static [&'static str],
}

impl ListPaths {
    pub const NONE: ListPaths = ListPaths { wrappers: &[], lists: &[] };
}

/// One item as found: its bytes, or why they could not be taken.
#[derive(Debug)]
pub(crate) struct RawItem {
    /// 1-based; 0 for an error that belongs to no item.
    pub position: usize,
    pub line: usize,
    pub bytes: Result<Vec<u8>, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between top-level values.
    Top,
    /// Inside a list of items; `wrappers` objects around it still to close.
    InList {
        wrappers: usize,
    },
    Done,
}

pub(crate) struct JsonItems<R: BufRead> {
    input: R,
    paths: ListPaths,
    chunk: Vec<u8>,
    at: usize,
    line: usize,
    position: usize,
    state: State,
    started: bool,
    io_error: Option<io::Error>,
}

/// Whether a scan stands inside a JSON string, where brackets and commas
/// are text: the lexing both scans need.
#[derive(Default)]
struct InString {
    inside: bool,
    escaped: bool,
}

impl InString {
    /// Takes a byte inside a string; true when it is the quote that
    /// closes it.
    fn closes(&mut self, b: u8) -> bool {
        if self.escaped {
            self.escaped = false;
        } else if b == b'\\' {
            self.escaped = true;
        } else if b == b'"' {
            self.inside = false;
            return true;
        }
        false
    }
}

/// How the scan of one value ended.
struct Scanned {
    /// Bytes held (empty when not capturing or past a bound).
    bytes: Vec<u8>,
    problem: Option<String>,
    /// The file ended inside the value.
    truncated: bool,
}

impl<R: BufRead> JsonItems<R> {
    pub fn new(input: R, paths: ListPaths) -> Self {
        JsonItems {
            input,
            paths,
            chunk: Vec::new(),
            at: 0,
            line: 1,
            position: 0,
            state: State::Top,
            started: false,
            io_error: None,
        }
    }

    /// The next byte without taking it; `None` at the end or on an I/O
    /// error (kept in `io_error`).
    fn peek(&mut self) -> Option<u8> {
        if self.at < self.chunk.len() {
            return Some(self.chunk[self.at]);
        }
        if self.io_error.is_some() {
            return None;
        }
        loop {
            match self.input.fill_buf() {
                Ok(b) => {
                    self.chunk.clear();
                    self.chunk.extend_from_slice(b);
                    let n = b.len();
                    self.input.consume(n);
                    self.at = 0;
                    return self.chunk.first().copied();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.io_error = Some(e);
                    return None;
                }
            }
        }
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        if b == b'\n' {
            self.line += 1;
        }
        Some(b)
    }

    fn skip_ws(&mut self) {
        if !self.started {
            self.started = true;
            if self.peek() == Some(0xEF) && self.chunk[self.at..].starts_with(b"\xEF\xBB\xBF") {
                self.at += 3;
            }
        }
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.bump();
        }
    }

    /// Scans one value starting at the next byte (not white space),
    /// holding its bytes if `capture`.
    fn scan_value(&mut self, capture: bool) -> Scanned {
        let mut out = Scanned { bytes: Vec::new(), problem: None, truncated: false };
        let mut holding = capture;
        let start_line = self.line;
        // Openers up to MAX_DEPTH; deeper ones are only counted.
        let mut stack: Vec<u8> = Vec::new();
        let mut deeper: usize = 0;
        let mut string = InString::default();
        let mut scalar = false;
        loop {
            let Some(b) = self.peek() else {
                out.truncated = true;
                break;
            };
            if scalar
                && !string.inside
                && (matches!(b, b',' | b']' | b'}' | b'[' | b'{' | b'"') || b.is_ascii_whitespace())
            {
                break;
            }
            self.bump();
            let mut done = false;
            if string.inside {
                done = string.closes(b) && stack.is_empty() && deeper == 0;
            } else {
                match b {
                    b'"' => string.inside = true,
                    b'{' | b'[' => {
                        if stack.len() < MAX_DEPTH {
                            stack.push(b);
                        } else {
                            deeper += 1;
                            if out.problem.is_none() {
                                out.problem = Some(format!("nested deeper than {MAX_DEPTH} levels"));
                            }
                            holding = false;
                            out.bytes = Vec::new();
                        }
                    }
                    b'}' | b']' => {
                        if deeper > 0 {
                            deeper -= 1;
                        } else {
                            let opener = if b == b'}' { b'{' } else { b'[' };
                            match stack.iter().rposition(|&o| o == opener) {
                                Some(i) => {
                                    if i + 1 != stack.len() && out.problem.is_none() {
                                        out.problem = Some(format!(
                                            "a {:?} on line {} closes a bracket that is still open inside it",
                                            b as char, self.line
                                        ));
                                    }
                                    stack.truncate(i);
                                }
                                None => {
                                    if out.problem.is_none() {
                                        out.problem =
                                            Some(format!("an unmatched {:?} on line {}", b as char, self.line));
                                    }
                                    stack.clear();
                                }
                            }
                        }
                        done = stack.is_empty() && deeper == 0;
                    }
                    _ if stack.is_empty() && deeper == 0 => scalar = true,
                    _ => {}
                }
            }
            if holding {
                if out.bytes.len() < MAX_ITEM_BYTES {
                    out.bytes.push(b);
                } else {
                    holding = false;
                    out.bytes = Vec::new();
                    if out.problem.is_none() {
                        out.problem = Some(format!("larger than {MAX_ITEM_BYTES} bytes"));
                    }
                }
            }
            if done {
                break;
            }
        }
        let complete_scalar = scalar && !string.inside;
        if out.truncated && out.problem.is_none() && !complete_scalar {
            out.problem = Some(format!("the file ends inside it (it starts on line {start_line})"));
        } else if out.truncated && complete_scalar {
            // A number or word at the very end is complete.
            out.truncated = false;
        }
        out
    }

    /// Reads a JSON string (the next byte is its quote) as text, appending
    /// its bytes to `capture`.
    fn read_key(&mut self, capture: &mut Option<Vec<u8>>) -> Option<String> {
        let scanned = self.scan_value(true);
        if scanned.truncated {
            return None;
        }
        if let Some(c) = capture {
            c.extend_from_slice(&scanned.bytes);
        }
        let key: String = serde_json::from_slice(&scanned.bytes).unwrap_or_default();
        Some(key)
    }

    /// A top-level object: a list of items at one of the paths (then the
    /// state is `InList` and `None` is returned), or one item.
    fn top_object(&mut self, line: usize) -> Option<RawItem> {
        let mut held = Some(Vec::new());
        let mut failure: Option<String> = None;
        let mut depth = 0usize;
        let push = |held: &mut Option<Vec<u8>>, bytes: &[u8], failure: &mut Option<String>| {
            if let Some(h) = held {
                if h.len() + bytes.len() > MAX_ITEM_BYTES {
                    *held = None;
                    failure.get_or_insert(format!("larger than {MAX_ITEM_BYTES} bytes"));
                } else {
                    h.extend_from_slice(bytes);
                }
            }
        };
        self.bump();
        push(&mut held, b"{", &mut failure);
        depth += 1;
        let problem = |this: &mut Self, what: &str| {
            this.position += 1;
            Some(RawItem {
                position: this.position,
                line,
                bytes: Err(format!("{what} (line {}); the object starting on line {line} is skipped", this.line)),
            })
        };
        loop {
            self.skip_ws();
            match self.peek() {
                None => {
                    self.state = State::Done;
                    return problem(self, "the file ends inside an object");
                }
                Some(b'}') => {
                    self.bump();
                    push(&mut held, b"}", &mut failure);
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    continue;
                }
                Some(b',') => {
                    self.bump();
                    push(&mut held, b",", &mut failure);
                    continue;
                }
                Some(b'"') => {}
                Some(_) => {
                    // Not a key: hand the rest to the generic scan, which
                    // finds the object's end; serde_json reports the error.
                    let rest = self.scan_rest(depth);
                    push(&mut held, &rest.bytes, &mut failure);
                    if rest.truncated {
                        self.state = State::Done;
                    }
                    break;
                }
            }
            let Some(key) = self.read_key(&mut held) else {
                self.state = State::Done;
                return problem(self, "the file ends inside an object");
            };
            self.skip_ws();
            if self.peek() == Some(b':') {
                self.bump();
                push(&mut held, b":", &mut failure);
            }
            self.skip_ws();
            let next = self.peek();
            if next == Some(b'[') && self.paths.lists.contains(&key.as_str()) {
                self.bump();
                self.state = State::InList { wrappers: depth };
                return None;
            }
            if next == Some(b'{') && self.paths.wrappers.contains(&key.as_str()) {
                self.bump();
                push(&mut held, b"{", &mut failure);
                depth += 1;
                continue;
            }
            let value_line = self.line;
            let value = self.scan_value(true);
            if value.truncated {
                // JSON Lines with one line cut short: the lines after it are
                // read again as values of their own, not lost inside it.
                let resumed = self.resume_at_next_line(&value.bytes, value_line);
                let item = problem(self, "the file ends inside an object");
                if !resumed {
                    self.state = State::Done;
                }
                return item;
            }
            push(&mut held, &value.bytes, &mut failure);
            if let Some(p) = value.problem {
                // Past a bound, or broken: the object is not held whole.
                held = None;
                failure.get_or_insert(p);
            }
            if value.truncated {
                self.state = State::Done;
                return problem(self, "the file ends inside an object");
            }
        }
        self.position += 1;
        let bytes = match (held, failure) {
            (Some(bytes), None) => Ok(bytes),
            (_, Some(f)) => Err(f),
            (None, None) => Err(format!("larger than {MAX_ITEM_BYTES} bytes")),
        };
        Some(RawItem { position: self.position, line, bytes })
    }

    /// The rest of `depth` open objects or arrays, up to their close.
    fn scan_rest(&mut self, depth: usize) -> Scanned {
        let mut out = Scanned { bytes: Vec::new(), problem: None, truncated: false };
        let mut open = depth;
        let mut string = InString::default();
        while open > 0 {
            let Some(b) = self.bump() else {
                out.truncated = true;
                break;
            };
            if out.bytes.len() < MAX_ITEM_BYTES {
                out.bytes.push(b);
            }
            if string.inside {
                string.closes(b);
            } else {
                match b {
                    b'"' => string.inside = true,
                    b'{' | b'[' => open += 1,
                    b'}' | b']' => open -= 1,
                    _ => {}
                }
            }
        }
        out
    }

    /// After a value that ran to the end of the file: reads again from
    /// the first line of its bytes (which started on `first_line`) that
    /// starts an object, so that one record cut short in the middle of a
    /// file costs only itself. False when there is no such line (or the
    /// value was too large to be held).
    fn resume_at_next_line(&mut self, bytes: &[u8], first_line: usize) -> bool {
        let mut line = first_line;
        for (i, &b) in bytes.iter().enumerate() {
            if b != b'\n' {
                continue;
            }
            line += 1;
            let rest = &bytes[i + 1..];
            let indent = rest.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\r')).count();
            if rest.get(indent) == Some(&b'{') {
                self.chunk = rest.to_vec();
                self.at = 0;
                self.line = line;
                return true;
            }
        }
        false
    }

    fn fail_file(&mut self, message: String) -> Option<RawItem> {
        self.state = State::Done;
        Some(RawItem { position: 0, line: self.line, bytes: Err(message) })
    }

    fn next_raw(&mut self) -> Option<RawItem> {
        loop {
            match self.state {
                State::Done => return None,
                State::Top => {
                    self.skip_ws();
                    let line = self.line;
                    match self.peek() {
                        None => {
                            self.state = State::Done;
                            return None;
                        }
                        Some(b'[') => {
                            self.bump();
                            self.state = State::InList { wrappers: 0 };
                        }
                        Some(b'{') => {
                            if let Some(item) = self.top_object(line) {
                                return Some(item);
                            }
                        }
                        Some(b) => {
                            let what = if self.position == 0 && line == 1 {
                                "this is not JSON: the file starts with"
                            } else {
                                "this is not JSON from here on: the values end and then comes"
                            };
                            let shown = if b.is_ascii_graphic() {
                                format!("{:?}", b as char)
                            } else {
                                format!("byte {b:#04x}")
                            };
                            return self
                                .fail_file(format!("line {line}: {what} {shown}, not [ or {{; reading stopped"));
                        }
                    }
                }
                State::InList { wrappers } => {
                    while let Some(b' ' | b'\t' | b'\n' | b'\r' | b',') = self.peek() {
                        self.bump();
                    }
                    let line = self.line;
                    match self.peek() {
                        None => {
                            return self.fail_file(format!(
                                "line {line}: the file ends inside the list of items (no closing ])"
                            ));
                        }
                        Some(b']') => {
                            self.bump();
                            if wrappers > 0 {
                                let rest = self.scan_rest(wrappers);
                                if rest.truncated {
                                    return self.fail_file(format!(
                                        "line {}: the file ends inside the object around the list",
                                        self.line
                                    ));
                                }
                            }
                            self.state = State::Top;
                        }
                        Some(b'}') => {
                            // A list cut short by its wrapper's end.
                            return self
                                .fail_file(format!("line {line}: a }} where the list of items should end with ]"));
                        }
                        Some(_) => {
                            self.position += 1;
                            let scanned = self.scan_value(true);
                            if scanned.truncated && !self.resume_at_next_line(&scanned.bytes, line) {
                                self.state = State::Done;
                            }
                            let bytes = match scanned.problem {
                                Some(p) => Err(p),
                                None => Ok(scanned.bytes),
                            };
                            return Some(RawItem { position: self.position, line, bytes });
                        }
                    }
                }
            }
        }
    }
}

impl<R: BufRead> Iterator for JsonItems<R> {
    type Item = RawItem;

    fn next(&mut self) -> Option<RawItem> {
        let item = self.next_raw();
        if let Some(e) = self.io_error.take() {
            self.state = State::Done;
            let message = format!("I/O error after line {}: {e}; reading stopped here", self.line);
            return Some(match item {
                Some(RawItem { position, line, bytes: Err(_) }) if position > 0 => {
                    RawItem { position, line, bytes: Err(message) }
                }
                Some(ok @ RawItem { bytes: Ok(_), .. }) => {
                    // Cannot happen: an I/O error ends the value unfinished.
                    ok
                }
                _ => RawItem { position: 0, line: self.line, bytes: Err(message) },
            });
        }
        item
    }
}

/// Parses one item's bytes as a JSON object.
pub(crate) fn parse_object(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!("not a JSON object but {}", kind_of(&other))),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}

pub(crate) fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------
// What the three readers share once an item is parsed.

use crate::{ImportedRecord, ReadItem, RecordError};
use arkiv_model::{Creator, ExtraField, ItemTypes, PartialDate, PersonName, Record};
use serde_json::Value;

pub(crate) const RELATOR: &str = "http://www.loc.gov/loc.terms/relators/";

/// Turns a raw item into a [`ReadItem`] with `map`, the record checked
/// against the model.
pub(crate) fn read_item(
    raw: RawItem,
    types: &ItemTypes,
    map: impl FnOnce(serde_json::Map<String, Value>, &ItemTypes) -> Result<ImportedRecord, String>,
) -> ReadItem {
    let RawItem { position, line, bytes } = raw;
    let result = bytes.and_then(|b| parse_object(&b)).and_then(|object| map_checked(object, types, map));
    let result = result
        .map_err(|m| RecordError::new(if position == 0 { m } else { format!("item {position} (line {line}): {m}") }));
    ReadItem { position, line: Some(line), result }
}

/// `map`, then [`arkiv_model::validate`].
pub(crate) fn map_checked(
    object: serde_json::Map<String, Value>,
    types: &ItemTypes,
    map: impl FnOnce(serde_json::Map<String, Value>, &ItemTypes) -> Result<ImportedRecord, String>,
) -> Result<ImportedRecord, String> {
    let imported = map(object, types)?;
    arkiv_model::validate(&imported.record, types)
        .map(|()| imported)
        .map_err(|problems| problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))
}

/// Collects what a mapping drops or keeps aside.
#[derive(Default)]
pub(crate) struct Mapper {
    pub warnings: Vec<String>,
    pub unmapped: Vec<String>,
    pub extra: Vec<ExtraField>,
}

impl Mapper {
    pub fn warn(&mut self, w: String) {
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Keeps a value no field takes in `record.extra`, as an element named
    /// after the key whose text is the value (a string as it is, anything
    /// else as its JSON).
    pub fn unmapped(&mut self, key: &str, value: &Value) {
        if is_empty(value) {
            return;
        }
        let name = xml_name(key);
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        self.extra
            .push(ExtraField { name: name.clone(), xml: format!("<{name}>{}</{name}>", crate::escape_markup(&text)) });
        if !self.unmapped.contains(&name) {
            self.unmapped.push(name);
        }
    }

    /// A field that holds one value: the first given; a different second
    /// one is kept as unmapped rather than lost.
    pub fn single(&mut self, field: &mut Option<String>, key: &str, value: Option<String>) {
        let Some(value) = value.filter(|v| !v.is_empty()) else { return };
        match field {
            None => *field = Some(value),
            Some(first) if *first == value => {}
            Some(_) => {
                self.warn(format!("{key} gives a second value for a field that holds one; kept verbatim"));
                self.unmapped(key, &Value::String(value));
            }
        }
    }

    /// The record with what was kept aside, and one warning naming it.
    pub fn finish(mut self, mut record: Record) -> ImportedRecord {
        if !self.unmapped.is_empty() {
            self.warnings.push(format!("kept verbatim, no field takes them: {}", self.unmapped.join(", ")));
        }
        record.extra = self.extra;
        ImportedRecord { record, files: Vec::new(), unmapped: self.unmapped, warnings: self.warnings }
    }
}

pub(crate) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.iter().all(is_empty),
        Value::Object(o) => o.values().all(is_empty),
        _ => false,
    }
}

/// A key as an XML element name: letters, digits, `-`, `_` and `.`, not
/// starting with a digit, `-` or `.`.
fn xml_name(key: &str) -> String {
    let mut name: String =
        key.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    name
}

/// Text of a string or number, trimmed and on one line; `None` for empty
/// or anything else.
pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => crate::export::fields::one_line(s),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// The first text of a string or of an array of strings (Crossref gives
/// titles as arrays); the others after it.
pub(crate) fn texts(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(|x| text(Some(x))).collect(),
        other => text(other).into_iter().collect(),
    }
}

/// Text keeping its paragraphs (abstracts): runs of spaces collapsed,
/// blank lines kept.
pub(crate) fn paragraphs(s: &str) -> Option<String> {
    let paras: Vec<String> = s.split("\n\n").map(crate::export::fields::one_line).filter(|p| !p.is_empty()).collect();
    (!paras.is_empty()).then(|| paras.join("\n\n"))
}

/// A person from family and given names; particles and suffixes joined to
/// them (`van` + `Beethoven`; `Martin Luther` + `Jr.`).
pub(crate) fn person(family: &str, given: &str) -> Creator {
    Creator {
        name: PersonName::new(crate::export::fields::one_line(family), crate::export::fields::one_line(given)),
        ..Default::default()
    }
}

/// `0000-0002-1825-0097` from an ORCID iD in any of its forms, if it is one.
pub(crate) fn orcid(value: &str) -> Option<String> {
    let v = value.trim();
    let bare = v.rsplit('/').next().unwrap_or(v).trim().to_ascii_uppercase();
    arkiv_model::validate::is_orcid(&bare).then_some(bare)
}

/// A DOI without its resolver, if it is a DOI.
pub(crate) fn doi(m: &mut Mapper, key: &str, value: &str) -> Option<String> {
    match arkiv_model::validate::doi_problem(value) {
        None => Some(crate::labels::bare_doi(value.trim()).to_string()),
        Some(problem) => {
            m.warn(format!("{key}: {problem}"));
            m.unmapped(key, &Value::String(value.into()));
            None
        }
    }
}

/// A date from CSL's and Crossref's `{"date-parts": [[2014, 5, 29]]}`
/// (parts may be numbers or strings; a second part is the end of a
/// range, which the model cannot hold), else from its `raw` or `literal`
/// when that is an ISO date.
pub(crate) fn date_parts(v: &Value) -> Option<(PartialDate, bool)> {
    let parts = v.get("date-parts").and_then(Value::as_array);
    if let Some(first) = parts.and_then(|p| p.first()).and_then(Value::as_array) {
        let n: Vec<i64> = first
            .iter()
            .map_while(|x| match x {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .collect();
        let date = match n.as_slice() {
            [y, m, d, ..] => PartialDate { year: *y as i32, month: Some(*m as u8), day: Some(*d as u8) },
            [y, m] => PartialDate { year: *y as i32, month: Some(*m as u8), day: None },
            [y] => PartialDate::year(*y as i32),
            [] => return None,
        };
        let in_range = |x: &i64| (0..=9999).contains(x);
        if !n.iter().all(in_range) || !date.is_valid() {
            return None;
        }
        return Some((date, parts.is_some_and(|p| p.len() > 1)));
    }
    let raw = v.get("raw").or_else(|| v.get("literal")).and_then(Value::as_str).or_else(|| v.as_str())?;
    raw.trim().parse().ok().map(|d| (d, false))
}

/// A licence as the model keeps it: a Creative Commons URL as its SPDX id
/// (`https://creativecommons.org/licenses/by-nc/4.0/` → `CC-BY-NC-4.0`,
/// the inverse of [`crate::export::fields::license_url`]), CC0 as
/// `CC0-1.0`, SPDX's own pages as their id; any other URL as it is.
pub(crate) fn licence(url: &str) -> String {
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).unwrap_or(&lower);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    if let Some(tail) = rest.strip_prefix("creativecommons.org/licenses/") {
        let mut parts = tail.split('/').filter(|p| !p.is_empty());
        if let (Some(kind), Some(version)) = (parts.next(), parts.next()) {
            const KINDS: [&str; 6] = ["by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd"];
            if KINDS.contains(&kind) && version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                return format!("CC-{}-{version}", kind.to_ascii_uppercase());
            }
        }
    }
    if rest.starts_with("creativecommons.org/publicdomain/zero/1.0") {
        return "CC0-1.0".into();
    }
    if let Some(id) = rest.strip_prefix("spdx.org/licenses/") {
        let id = id.trim_end_matches('/').trim_end_matches(".html");
        if !id.is_empty() && !id.contains('/') {
            // SPDX ids are case-sensitive: the original spelling, which
            // ends the URL as the lower-cased one does.
            let end = u.trim_end_matches('/').trim_end_matches(".html").len();
            return u[end - id.len()..end].to_string();
        }
    }
    u.to_string()
}

/// Text of a JATS fragment (Crossref's abstracts): its markup taken out,
/// each paragraph a paragraph, titles ("Abstract") left out, entities
/// decoded.
pub(crate) fn jats_text(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = s;
    let mut skip_depth = 0usize;
    while let Some(lt) = rest.find('<') {
        if skip_depth == 0 {
            out.push_str(&rest[..lt]);
        }
        let Some(gt) = rest[lt..].find('>') else {
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        let name = tag.trim_start_matches('/').split([' ', '/', '\t', '\n']).next().unwrap_or("");
        let local = name.rsplit(':').next().unwrap_or(name);
        let closing = tag.starts_with('/');
        if local == "title" && !tag.ends_with('/') {
            if closing {
                skip_depth = skip_depth.saturating_sub(1);
            } else {
                skip_depth += 1;
            }
        }
        if matches!(local, "p" | "sec" | "title" | "list-item") {
            out.push_str("\n\n");
        } else if local == "break" {
            out.push('\n');
        }
        rest = &rest[lt + gt + 1..];
    }
    if skip_depth == 0 {
        out.push_str(rest);
    }
    paragraphs(&decode_entities(&out))
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|&e| e <= 10);
        let decoded = end.and_then(|e| {
            let name = &after[..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str, paths: ListPaths) -> Vec<(usize, usize, Result<String, String>)> {
        JsonItems::new(text.as_bytes(), paths)
            .map(|i| (i.position, i.line, i.bytes.map(|b| String::from_utf8(b).unwrap())))
            .collect()
    }

    const CROSSREF: ListPaths = ListPaths { wrappers: &["message"], lists: &["items"] };

    #[test]
    fn arrays_lines_and_single_objects() {
        let items = split("\u{feff} [ {\"a\": \"]}\\\"\"},\n {\"b\": [1, {}]} ]", ListPaths::NONE);
        assert_eq!(items, [(1, 1, Ok("{\"a\": \"]}\\\"\"}".into())), (2, 2, Ok("{\"b\": [1, {}]}".into()))]);
        let items = split("{\"a\":1}\n{\"b\":2}\n\n{\"c\":3}\n", ListPaths::NONE);
        let lines: Vec<_> = items.iter().map(|i| (i.0, i.1)).collect();
        assert_eq!(lines, [(1, 1), (2, 2), (3, 4)]);
        assert_eq!(split("[]", ListPaths::NONE), []);
        assert_eq!(split("  ", ListPaths::NONE), []);
    }

    #[test]
    fn a_list_inside_a_wrapper() {
        let text = r#"{"status":"ok","message":{"total":2,"items":[{"x":1},{"y":[2]}],"next":"z"}}"#;
        let items = split(text, CROSSREF);
        assert_eq!(items.iter().map(|i| i.2.clone().unwrap()).collect::<Vec<_>>(), ["{\"x\":1}", "{\"y\":[2]}"]);
        // A single work in the same wrapper is one item, wrapper and all.
        let text = r#"{"status":"ok","message":{"title":["T"]}}"#;
        assert_eq!(split(text, CROSSREF), [(1, 1, Ok(text.into()))]);
        // Without the paths, a wrapper is an item.
        assert_eq!(split(r#"{"items":[{}]}"#, ListPaths::NONE).len(), 1);
    }

    #[test]
    fn bad_input() {
        let items = split("TY  - JOUR\n", ListPaths::NONE);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].0, 0);
        assert!(items[0].2.as_ref().unwrap_err().contains("not JSON"));
        let items = split("[{\"a\":1},{\"b\":", ListPaths::NONE);
        assert_eq!(items.len(), 2);
        assert!(items[1].2.as_ref().unwrap_err().contains("ends inside"), "{items:?}");
        let items = split("[{\"a\":[}, {\"b\":1}]", ListPaths::NONE);
        assert_eq!(items.len(), 2, "{items:?}");
        assert!(items[0].2.is_err() && items[1].2.is_ok());
        let deep = format!("[{}{}, {{}}]", "[".repeat(1000), "]".repeat(1000));
        let items = split(&deep, ListPaths::NONE);
        assert_eq!(items.len(), 2);
        assert!(items[0].2.as_ref().unwrap_err().contains("nested deeper"));
        let items = split("[{\"a\":1},\n{\"b\":2}", ListPaths::NONE);
        assert_eq!(items.last().unwrap().0, 0, "{items:?}");
    }
}
