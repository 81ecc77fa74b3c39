//! Records as JSON: the model's own serde form, either one record per line
//! (JSON Lines, for dumps and re-imports: streamable both ways, and one bad
//! line costs one record) or as one array (for API responses and tools that
//! want a single document, still written a record at a time).
//!
//! JSON is Arkiv's own format, so unlike EPrints XML nothing needs mapping:
//! the only choice made here is privacy. E-mail addresses of people, and the
//! staff-only extra fields of [`crate::eprints::PRIVATE_ELEMENTS`], are
//! written only when [`WriteOptions::include_private`] is set; a public
//! export ([`WriteOptions::public_on`]) leaves out more (see [`visible`]).

use crate::eprints::{is_private_extra, WriteOptions};
use crate::{FileData, FileSource, ImportedRecord, ReadItem, RecordError};
use arkiv_model::Record;
use std::borrow::Cow;
use std::io::{self, BufRead, Write};

/// The record as an export may show it: without e-mail addresses and
/// private extras unless private data was asked for; and, for the public
/// ([`WriteOptions::public_on`]), without the depositor's user id, without
/// a person's id that is an e-mail address, and with each document not
/// open that day reduced to what ARCHITECTURE.md's table allows (names,
/// formats, access, embargo date: no checksum, size or source).
/// Borrows when nothing is removed.
pub(crate) fn visible<'r>(record: &'r Record, opts: &WriteOptions) -> Cow<'r, Record> {
    if opts.include_private {
        return Cow::Borrowed(record);
    }
    let people = || record.creators.iter().chain(&record.editors).chain(record.contributors.iter().map(|c| &c.person));
    let has_email = people().any(|c| c.email.is_some());
    let has_private_extra = record.extra.iter().any(|e| is_private_extra(&e.name));
    let public_hides = opts.public_on.is_some_and(|today| {
        record.userid.is_some()
            || people().any(|c| c.id.as_deref().is_some_and(is_email_like))
            || record.documents.iter().any(|d| !d.is_open_access(today))
    });
    if !(has_email || has_private_extra || public_hides) {
        return Cow::Borrowed(record);
    }
    let mut r = record.clone();
    let public = opts.public_on.is_some();
    for c in r.creators.iter_mut().chain(r.editors.iter_mut()).chain(r.contributors.iter_mut().map(|c| &mut c.person)) {
        c.email = None;
        if public && c.id.as_deref().is_some_and(is_email_like) {
            c.id = None;
        }
    }
    r.extra.retain(|e| !is_private_extra(&e.name));
    if let Some(today) = opts.public_on {
        r.userid = None;
        for d in r.documents.iter_mut().filter(|d| !d.is_open_access(today)) {
            for f in &mut d.files {
                f.sha256 = None;
                f.size = 0;
                f.source_hash = None;
                f.source_url = None;
            }
        }
    }
    Cow::Owned(r)
}

/// Whether a person's id is an e-mail address (EPrints repositories often
/// key creators by address): such an id is private.
fn is_email_like(id: &str) -> bool {
    id.contains('@')
}

fn to_io(e: serde_json::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// Writes one record per line.
pub struct JsonLinesWriter<W: Write> {
    out: W,
}

impl<W: Write> JsonLinesWriter<W> {
    pub fn new(out: W) -> Self {
        JsonLinesWriter { out }
    }

    pub fn write_record(&mut self, record: &Record, opts: &WriteOptions) -> io::Result<()> {
        // Serialized to memory first so that a failure leaves no half line.
        let mut line = serde_json::to_vec(visible(record, opts).as_ref()).map_err(to_io)?;
        line.push(b'\n');
        self.out.write_all(&line)
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes one JSON array, a record at a time: `[`, records separated by
/// `,\n`, `]`.
pub struct JsonArrayWriter<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonArrayWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(b"[")?;
        Ok(JsonArrayWriter { out, first: true })
    }

    pub fn write_record(&mut self, record: &Record, opts: &WriteOptions) -> io::Result<()> {
        let json = serde_json::to_vec(visible(record, opts).as_ref()).map_err(to_io)?;
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        self.out.write_all(&json)
    }

    /// The output written so far (to drain a `Vec` between records).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"]\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes `records` as one JSON array and hands the writer back.
pub fn write_json_array<'r, W: Write>(
    out: W,
    records: impl IntoIterator<Item = &'r Record>,
    opts: &WriteOptions,
) -> io::Result<W> {
    let mut w = JsonArrayWriter::new(out)?;
    for r in records {
        w.write_record(r, opts)?;
    }
    w.finish()
}

/// Longest line read; a longer one is skipped (and reported) without being
/// held, like an over-long text in EPrints XML.
pub const MAX_JSON_LINE_BYTES: usize = 64 << 20;

/// Reads records from JSON Lines; blank lines are skipped. See [`read_json_lines`].
pub struct JsonLinesReader<R: BufRead> {
    input: R,
    line_no: usize,
    position: usize,
    max_line: usize,
    done: bool,
    buf: Vec<u8>,
}

/// Reads one record per line. A line that is not a record is an `Err` for
/// that position, and reading goes on; only an I/O error ends it.
pub fn read_json_lines<R: BufRead>(input: R) -> JsonLinesReader<R> {
    JsonLinesReader { input, line_no: 0, position: 0, max_line: MAX_JSON_LINE_BYTES, done: false, buf: Vec::new() }
}

impl<R: BufRead> JsonLinesReader<R> {
    /// Sets the longest line read (for tests and unusual dumps).
    pub fn with_max_line(mut self, max: usize) -> Self {
        self.max_line = max;
        self
    }

    /// Reads the next line into `buf`, keeping at most `max_line` bytes.
    /// Returns whether a line was there and whether it was too long.
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = self.input.fill_buf()?;
            if available.is_empty() {
                return Ok(any.then_some(too_long));
            }
            any = true;
            let (chunk, end) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            let room = self.max_line.saturating_sub(self.buf.len());
            if chunk.len() > room {
                too_long = true;
            }
            self.buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let used = end.unwrap_or(available.len());
            self.input.consume(used);
            if end.is_some() {
                return Ok(Some(too_long));
            }
        }
    }
}

impl<R: BufRead> Iterator for JsonLinesReader<R> {
    type Item = ReadItem;

    fn next(&mut self) -> Option<ReadItem> {
        while !self.done {
            let too_long = match self.read_line() {
                Ok(Some(t)) => t,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    let message = format!("read error after line {}: {e}", self.line_no);
                    return Some(ReadItem {
                        position: 0,
                        line: Some(self.line_no + 1),
                        result: Err(RecordError::new(message)),
                    });
                }
            };
            self.line_no += 1;
            if !too_long && self.buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.position += 1;
            let line = Some(self.line_no);
            let result = if too_long {
                Err(RecordError::new(format!("line {}: longer than {} bytes; skipped", self.line_no, self.max_line)))
            } else {
                serde_json::from_slice::<Record>(&self.buf)
                    .map(imported)
                    .map_err(|e| RecordError::new(format!("line {}: not a record: {e}", self.line_no)))
            };
            return Some(ReadItem { position: self.position, line, result });
        }
        None
    }
}

/// A JSON record as an import: its files are wherever their `source_url`
/// says, since a dump carries no bytes.
fn imported(record: Record) -> ImportedRecord {
    let files = record
        .documents
        .iter()
        .flat_map(|d| {
            d.files.iter().map(move |f| FileSource {
                doc_pos: d.pos,
                filename: f.filename.clone(),
                source: f.source_url.clone().map_or(FileData::None, FileData::Url),
            })
        })
        .collect();
    ImportedRecord { record, files, unmapped: Vec::new(), warnings: Vec::new() }
}
