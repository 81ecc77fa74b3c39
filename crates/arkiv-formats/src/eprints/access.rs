//! EPrints' `access` table as it leaves EPrints: the views of abstract
//! pages and the downloads of documents its `LogHandler` noted (one row
//! each, robots by its own list already left out), which IRStats2 counts
//! from. A repository that moves keeps that history through
//! `arkiv stats import-access`.
//!
//! Two forms are read, told apart by their first byte:
//! - the XML export of the access dataset (`bin/export REPO access XML`):
//!   `<access>` elements, one after the other, never nested;
//! - a dump of the table with a header row: CSV (`SELECT ... INTO OUTFILE`
//!   with a header, a spreadsheet's export) or the tab-separated text of
//!   `mysql -B -e 'SELECT * FROM access'` (`NULL` for an empty cell and
//!   backslash escapes). The time is one `datestamp` column or EPrints' SQL
//!   columns `datestamp_year` … `datestamp_second`.
//!
//! Both are read row by row from a stream in bounded memory: an element or
//! line longer than [`MAX_ACCESS_BYTES`] is one error and skipped, and a
//! broken row is one error with its line while the others are read.
//!
//! Hand-written on quick-xml and csv: no crate reads EPrints' datasets,
//! and the reader must carry on past a broken row.
//!
//! The fields, from perl_lib/EPrints/DataObj/Access.pm and
//! perl_lib/EPrints/Apache/LogHandler.pm: `datestamp` (UTC, EPrints'
//! `get_iso_timestamp`), `requester_id` (the client address),
//! `requester_user_agent`, `service_type_id` (`?abstract=yes` for a view,
//! `?fulltext=yes` for a download), `referent_id` (the eprint id; old
//! versions wrote an OAI identifier ending in it) and `referent_docid`.

use super::users::Item;
use std::io::BufRead;

/// The longest `<access>` element or table line read: a row is a few
/// hundred bytes; a user agent of kilobytes is already hostile.
pub const MAX_ACCESS_BYTES: usize = 64 * 1024;

/// What an access was of (`service_type_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    /// `?abstract=yes`: a view of the abstract page.
    Abstract,
    /// `?fulltext=yes`: a download of a document.
    Fulltext,
    /// Anything else a local configuration wrote.
    Other(String),
}

/// One row of the access table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// Unix seconds (EPrints keeps UTC).
    pub at: i64,
    /// `requester_id`: the client's address as EPrints saw it.
    pub requester: String,
    /// Empty when EPrints had none.
    pub user_agent: String,
    pub service: Service,
    pub eprintid: u64,
    /// EPrints' document id, for a download.
    pub docid: Option<u64>,
}

/// The rows of an access export, each with the line it starts on.
pub struct AccessReader<R> {
    form: Form<R>,
}

enum Form<R> {
    Xml(XmlRows<R>),
    Table(TableRows<R>),
}

impl<R: BufRead> AccessReader<R> {
    /// Opens an export, telling its form by its first bytes. An error only
    /// when a table's header names no access columns.
    pub fn new(mut input: R) -> Result<Self, String> {
        let first = loop {
            let buf = input.fill_buf().map_err(|e| format!("cannot read the file: {e}"))?;
            if buf.is_empty() {
                break None;
            }
            // A byte-order mark and leading blanks say nothing of the form.
            let skip = buf
                .iter()
                .position(|b| !b.is_ascii_whitespace() && ![0xef, 0xbb, 0xbf].contains(b))
                .unwrap_or(buf.len());
            if skip < buf.len() {
                break Some(buf[skip]);
            }
            let n = buf.len();
            input.consume(n);
        };
        let form = match first {
            Some(b'<') | None => Form::Xml(XmlRows { input, buf: Vec::new(), line: 1, eof: false, failed: None }),
            Some(_) => Form::Table(TableRows::new(input)?),
        };
        Ok(AccessReader { form })
    }
}

impl<R: BufRead> Iterator for AccessReader<R> {
    type Item = Item<Access>;

    fn next(&mut self) -> Option<Item<Access>> {
        match &mut self.form {
            Form::Xml(rows) => rows.next(),
            Form::Table(rows) => rows.next(),
        }
    }
}

/// The cells of a row, by field name, as either form gives them.
#[derive(Default)]
struct Cells {
    datestamp: Option<String>,
    /// datestamp_year … datestamp_second.
    parts: [Option<String>; 6],
    requester_id: Option<String>,
    requester_user_agent: Option<String>,
    service_type_id: Option<String>,
    referent_id: Option<String>,
    referent_docid: Option<String>,
}

const PART_NAMES: [&str; 6] =
    ["datestamp_year", "datestamp_month", "datestamp_day", "datestamp_hour", "datestamp_minute", "datestamp_second"];

impl Cells {
    /// The slot of a field, if it is one the import reads.
    fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
        Some(match name {
            "datestamp" => &mut self.datestamp,
            "requester_id" => &mut self.requester_id,
            "requester_user_agent" => &mut self.requester_user_agent,
            "service_type_id" => &mut self.service_type_id,
            "referent_id" => &mut self.referent_id,
            "referent_docid" => &mut self.referent_docid,
            _ => return PART_NAMES.iter().position(|p| *p == name).map(|i| &mut self.parts[i]),
        })
    }

    fn into_access(self) -> Result<Access, String> {
        let at = match (&self.datestamp, &self.parts[0]) {
            (Some(d), _) => parse_datestamp(d)?,
            (None, Some(_)) => {
                let number = |i: usize| -> Result<u32, String> {
                    let cell = self.parts[i].as_deref().unwrap_or("0");
                    cell.trim().parse().map_err(|_| format!("{} {cell:?} is not a number", PART_NAMES[i]))
                };
                unix_time([number(0)?, number(1)?, number(2)?, number(3)?, number(4)?, number(5)?])?
            }
            (None, None) => return Err("the row has no datestamp".into()),
        };
        let requester = self.requester_id.unwrap_or_default();
        if requester.is_empty() {
            return Err("the row has no requester_id".into());
        }
        let service = match self.service_type_id.as_deref().map(str::trim) {
            Some("?abstract=yes") => Service::Abstract,
            Some("?fulltext=yes") => Service::Fulltext,
            Some(other) if !other.is_empty() => Service::Other(other.to_string()),
            _ => return Err("the row has no service_type_id".into()),
        };
        // Access.pm's get_referent_id: the digits the id ends in (old
        // versions wrote `oai:host:123`).
        let referent = self.referent_id.unwrap_or_default();
        let digits = referent.trim().rsplit(|c: char| !c.is_ascii_digit()).next().unwrap_or("");
        let eprintid = digits
            .parse::<u64>()
            .ok()
            .filter(|&id| id > 0)
            .ok_or_else(|| format!("the referent_id {referent:?} names no eprint"))?;
        let docid = match self.referent_docid.as_deref().map(str::trim) {
            None | Some("") | Some("0") => None,
            Some(d) => Some(d.parse::<u64>().map_err(|_| format!("the referent_docid {d:?} is not a number"))?),
        };
        Ok(Access {
            at,
            requester,
            user_agent: self.requester_user_agent.unwrap_or_default(),
            service,
            eprintid,
            docid,
        })
    }
}

/// `2014-05-29 10:11:12` as EPrints writes a timestamp (also with `T` and
/// a final `Z`), as Unix seconds.
fn parse_datestamp(text: &str) -> Result<i64, String> {
    let bad = || format!("the datestamp {text:?} is not YYYY-MM-DD hh:mm:ss");
    let t = text.trim().trim_end_matches('Z');
    let (date, time) = t.split_once([' ', 'T']).ok_or_else(bad)?;
    let mut numbers = [0u32; 6];
    let fields = date.split('-').chain(time.split(':'));
    let mut n = 0;
    for field in fields {
        if n == 6 || field.is_empty() || field.len() > 4 || !field.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        numbers[n] = field.parse().map_err(|_| bad())?;
        n += 1;
    }
    if n < 5 {
        return Err(bad());
    }
    unix_time(numbers)
}

fn unix_time([year, month, day, hour, minute, second]: [u32; 6]) -> Result<i64, String> {
    let bad = || format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02} is not a time");
    let month = time::Month::try_from(u8::try_from(month).map_err(|_| bad())?).map_err(|_| bad())?;
    let year = i32::try_from(year).ok().filter(|y| (1990..=9999).contains(y)).ok_or_else(bad)?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(day).map_err(|_| bad())?).map_err(|_| bad())?;
    let time = time::Time::from_hms(
        u8::try_from(hour).map_err(|_| bad())?,
        u8::try_from(minute).map_err(|_| bad())?,
        u8::try_from(second).map_err(|_| bad())?,
    )
    .map_err(|_| bad())?;
    Ok(date.with_time(time).assume_utc().unix_timestamp())
}

/// The `<access>` elements of an XML export, cut out of the stream one at
/// a time (EPrints writes them flat, its text escaped, so `<access>` or
/// `<access ` opens one and nothing else) and parsed each on its own.
struct XmlRows<R> {
    input: R,
    /// Unread bytes; `buf[0]` is on line `line`.
    buf: Vec<u8>,
    line: usize,
    eof: bool,
    /// Why the stream ended early (a broken gzip, a read error): told once,
    /// as the last item.
    failed: Option<String>,
}

/// Where the first `<access>` start tag in `bytes` begins (never
/// `<accessid>` or `<accesses>`).
fn access_start(bytes: &[u8]) -> Option<usize> {
    memchr::memmem::find_iter(bytes, b"<access")
        .find(|&at| matches!(bytes.get(at + 7), Some(b'>' | b' ' | b'\t' | b'\r' | b'\n' | b'/')))
}

impl<R: BufRead> XmlRows<R> {
    /// Reads more of the stream into `buf`; false at its end.
    fn fill(&mut self) -> bool {
        if self.eof {
            return false;
        }
        let mut chunk = [0u8; 16 * 1024];
        match std::io::Read::read(&mut self.input, &mut chunk) {
            Ok(0) => {
                self.eof = true;
                false
            }
            Err(e) => {
                self.eof = true;
                self.failed = Some(format!("the file cannot be read on: {e}"));
                false
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// Drops `n` bytes from the front, keeping the line count.
    fn drop_front(&mut self, n: usize) {
        self.line += memchr::memchr_iter(b'\n', &self.buf[..n]).count();
        self.buf.drain(..n);
    }

    fn next(&mut self) -> Option<Item<Access>> {
        loop {
            let Some(start) = access_start(&self.buf) else {
                // Keep a tail a start tag may begin in.
                let keep = self.buf.len().min(8);
                self.drop_front(self.buf.len() - keep);
                if !self.fill() {
                    return self.failed.take().map(|why| Item { line: self.line, result: Err(why) });
                }
                continue;
            };
            self.drop_front(start);
            let line = self.line;
            loop {
                let end = memchr::memmem::find(&self.buf, b"</access>");
                let next_start = access_start(&self.buf[1..]).map(|n| n + 1);
                match (end, next_start) {
                    (_, Some(next)) if end.is_none_or(|e| next < e) => {
                        self.drop_front(next);
                        return Some(Item { line, result: Err("an <access> element without its </access>".into()) });
                    }
                    (Some(e), _) => {
                        let end = e + "</access>".len();
                        let result = read_access_element(&self.buf[..end]);
                        self.drop_front(end);
                        return Some(Item { line, result });
                    }
                    _ => {}
                }
                if self.buf.len() > MAX_ACCESS_BYTES {
                    let keep = 8;
                    self.drop_front(self.buf.len() - keep);
                    return Some(Item {
                        line,
                        result: Err(format!("the <access> element is longer than {MAX_ACCESS_BYTES} bytes")),
                    });
                }
                if !self.fill() {
                    let n = self.buf.len();
                    self.drop_front(n);
                    return Some(Item { line, result: Err("the file ends inside an <access> element".into()) });
                }
            }
        }
    }
}

/// One `<access>` element: its child elements' texts.
fn read_access_element(chunk: &[u8]) -> Result<Access, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(chunk);
    let mut cells = Cells::default();
    let mut depth = 0usize;
    let mut field: Option<String> = None;
    let mut text = String::new();
    loop {
        let event = reader.read_event().map_err(|e| format!("the <access> element is not well-formed XML: {e}"))?;
        match &event {
            Event::Start(e) => {
                depth += 1;
                if depth == 2 {
                    field = Some(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                    text.clear();
                }
            }
            Event::End(_) => {
                if depth == 2 {
                    if let Some(slot) = field.take().and_then(|name| cells.slot(&name)) {
                        *slot = Some(std::mem::take(&mut text).trim().to_string());
                    }
                }
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            Event::Eof => return Err("the <access> element ends early".into()),
            _ => {
                if depth == 2 {
                    if let Some(t) = super::reader::event_text(&event) {
                        text.push_str(&t?);
                    }
                }
            }
        }
    }
    cells.into_access()
}

/// The rows of a table dump with a header row, one line each.
struct TableRows<R> {
    input: R,
    /// The field each column holds, by position, as the header names it
    /// (lower case); [`Cells::slot`] says which the import reads.
    columns: Vec<String>,
    tabs: bool,
    line: usize,
    /// The stream failed: nothing more is read.
    done: bool,
}

impl<R: BufRead> TableRows<R> {
    fn new(mut input: R) -> Result<Self, String> {
        let mut header = Vec::new();
        let complete = read_bounded_line(&mut input, &mut header).map_err(|e| format!("cannot read the file: {e}"))?;
        if !complete {
            return Err("the header line is longer than an access table's".into());
        }
        let header = String::from_utf8_lossy(&header).trim_start_matches('\u{feff}').trim_end().to_string();
        let tabs = header.contains('\t');
        let names = split_row(header.as_bytes(), tabs).unwrap_or_default();
        let columns: Vec<String> =
            names.iter().map(|n| n.as_deref().unwrap_or("").trim().to_ascii_lowercase()).collect();
        let has = |field: &str| columns.iter().any(|c| c == field);
        if !(has("requester_id") && has("service_type_id") && has("referent_id"))
            || !(has("datestamp") || has("datestamp_year"))
        {
            return Err("the file is neither EPrints' XML export of the access dataset nor a table whose header \
                        names datestamp (or datestamp_year ...), requester_id, service_type_id and referent_id"
                .into());
        }
        Ok(TableRows { input, columns, tabs, line: 1, done: false })
    }

    fn next(&mut self) -> Option<Item<Access>> {
        let mut raw = Vec::with_capacity(512);
        loop {
            if self.done {
                return None;
            }
            raw.clear();
            let complete = match read_bounded_line(&mut self.input, &mut raw) {
                Ok(complete) => complete,
                Err(e) => {
                    self.done = true;
                    return Some(Item { line: self.line + 1, result: Err(format!("the file cannot be read on: {e}")) });
                }
            };
            if raw.is_empty() {
                return None;
            }
            self.line += 1;
            let line = self.line;
            if !complete {
                return Some(Item { line, result: Err(format!("the line is longer than {MAX_ACCESS_BYTES} bytes")) });
            }
            let trimmed = raw.trim_ascii_end();
            if trimmed.is_empty() {
                continue;
            }
            let result = split_row(trimmed, self.tabs).and_then(|cells| self.access(cells));
            return Some(Item { line, result });
        }
    }

    fn access(&self, values: Vec<Option<String>>) -> Result<Access, String> {
        let mut cells = Cells::default();
        for (column, value) in self.columns.iter().zip(values) {
            if let Some(slot) = cells.slot(column) {
                *slot = value;
            }
        }
        cells.into_access()
    }
}

/// Reads one line into `out` (without holding more than
/// [`MAX_ACCESS_BYTES`] of it); false when it was longer, its rest
/// skipped.
fn read_bounded_line(input: &mut impl BufRead, out: &mut Vec<u8>) -> std::io::Result<bool> {
    use std::io::Read;
    let n = input.by_ref().take(MAX_ACCESS_BYTES as u64 + 1).read_until(b'\n', out)?;
    if n <= MAX_ACCESS_BYTES || out.ends_with(b"\n") {
        return Ok(true);
    }
    let mut rest = Vec::new();
    loop {
        rest.clear();
        let m = input.by_ref().take(64 * 1024).read_until(b'\n', &mut rest)?;
        if m == 0 || rest.ends_with(b"\n") {
            return Ok(false);
        }
    }
}

/// The cells of one line: CSV with quotes, or mysql's tab-separated text
/// (`NULL` is no value, `\t`, `\n` and `\\` are escapes).
fn split_row(line: &[u8], tabs: bool) -> Result<Vec<Option<String>>, String> {
    let text = std::str::from_utf8(line).map_err(|_| "the line is not UTF-8".to_string())?;
    if tabs {
        return Ok(text
            .split('\t')
            .map(|cell| {
                (cell != "NULL" && cell != "\\N").then(|| {
                    let mut out = String::with_capacity(cell.len());
                    let mut chars = cell.chars();
                    while let Some(c) = chars.next() {
                        if c != '\\' {
                            out.push(c);
                            continue;
                        }
                        match chars.next() {
                            Some('t') => out.push('\t'),
                            Some('n') => out.push('\n'),
                            Some('0') => {}
                            Some(other) => out.push(other),
                            None => out.push('\\'),
                        }
                    }
                    out
                })
            })
            .collect());
    }
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).buffer_capacity(line.len() + 1).from_reader(line);
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(_) => Ok(record.iter().map(|c| (!c.is_empty() && c != "NULL").then(|| c.to_string())).collect()),
        Err(e) => Err(format!("a CSV line that cannot be read: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Vec<(usize, Result<Access, String>)> {
        AccessReader::new(bytes).unwrap().map(|i| (i.line, i.result)).collect()
    }

    const XML: &str = r#"<?xml version="1.0" encoding="utf-8" ?>
<accesses xmlns="http://eprints.org/ep2/data/2.0">
  <access id="http://repo.example/id/access/1">
    <accessid>1</accessid>
    <datestamp>2014-05-29 10:11:12</datestamp>
    <requester_id>192.0.2.1</requester_id>
    <requester_user_agent>Mozilla/5.0 (X11; Linux x86_64) &amp; more</requester_user_agent>
    <referring_entity_id>https://www.google.com/</referring_entity_id>
    <service_type_id>?fulltext=yes</service_type_id>
    <referent_id>1</referent_id>
    <referent_docid>3456</referent_docid>
  </access>
  <access id="http://repo.example/id/access/2">
    <datestamp>2014-05-29 10:11:12</datestamp>
    <requester_id>192.0.2.1</requester_id>
  <access id="http://repo.example/id/access/3">
    <datestamp>2014-02-30 10:11:12</datestamp>
    <requester_id>192.0.2.1</requester_id>
    <service_type_id>?abstract=yes</service_type_id>
    <referent_id>1</referent_id>
  </access>
  <access>
    <datestamp>2015-01-01T00:00:00Z</datestamp>
    <requester_id>192.0.2.9</requester_id>
    <service_type_id>?abstract=yes</service_type_id>
    <referent_id>oai:repo.example:7</referent_id>
  </access>
</accesses>
"#;

    #[test]
    fn the_xml_export_is_read_row_by_row_and_a_broken_one_costs_itself() {
        let rows = read(XML.as_bytes());
        assert_eq!(rows.len(), 4, "{rows:?}");
        let (line, first) = &rows[0];
        assert_eq!(*line, 3);
        let first = first.as_ref().unwrap();
        assert_eq!(first.at, 1_401_358_272);
        assert_eq!(first.requester, "192.0.2.1");
        assert_eq!(first.user_agent, "Mozilla/5.0 (X11; Linux x86_64) & more");
        assert_eq!(first.service, Service::Fulltext);
        assert_eq!((first.eprintid, first.docid), (1, Some(3456)));
        assert_eq!(rows[1].0, 13);
        assert!(rows[1].1.as_ref().unwrap_err().contains("without its </access>"), "{rows:?}");
        assert_eq!(rows[2].0, 16);
        assert!(rows[2].1.as_ref().unwrap_err().contains("is not a time"), "{rows:?}");
        let last = rows[3].1.as_ref().unwrap();
        assert_eq!((last.eprintid, last.service.clone(), last.at), (7, Service::Abstract, 1_420_070_400));
    }

    #[test]
    fn a_mysql_dump_and_a_csv_give_the_same_rows() {
        let tsv = "accessid\tdatestamp_year\tdatestamp_month\tdatestamp_day\tdatestamp_hour\tdatestamp_minute\t\
                   datestamp_second\trequester_id\trequester_user_agent\trequester_country\t\
                   requester_institution\treferring_entity_id\tservice_type_id\treferent_id\treferent_docid\n\
                   1\t2014\t5\t29\t10\t11\t12\t192.0.2.1\tMozilla/5.0\\tx\tNULL\tNULL\t\t?fulltext=yes\t1\t3456\n\
                   2\t2014\t5\t29\t10\t11\t12\t192.0.2.1\tNULL\tNULL\tNULL\t\t?abstract=yes\t1\tNULL\n";
        let csv = "datestamp,requester_id,requester_user_agent,service_type_id,referent_id,referent_docid\n\
                   2014-05-29 10:11:12,192.0.2.1,\"Mozilla/5.0\tx\",?fulltext=yes,1,3456\n\
                   \n\
                   2014-05-29 10:11:12,192.0.2.1,,?abstract=yes,1,\n\
                   2014-05-29 10:11:12,,,?abstract=yes,1,\n";
        let from_tsv = read(tsv.as_bytes());
        let from_csv = read(csv.as_bytes());
        assert_eq!(from_tsv.len(), 2);
        assert_eq!(from_tsv[0].1, from_csv[0].1);
        assert_eq!(from_tsv[1].1, from_csv[1].1);
        assert_eq!(from_csv[1].0, 4, "blank lines keep the count");
        assert_eq!(from_csv[0].1.as_ref().unwrap().user_agent, "Mozilla/5.0\tx");
        assert_eq!(from_tsv[1].1.as_ref().unwrap().docid, None);
        assert!(from_csv[2].1.as_ref().unwrap_err().contains("requester_id"));
    }

    #[test]
    fn a_file_of_neither_form_is_refused_and_long_rows_are_skipped() {
        assert!(AccessReader::new(&b"userid,password\n1,x\n"[..]).is_err());
        let mut xml = String::from("<accesses>\n<access><requester_user_agent>");
        xml.push_str(&"a".repeat(MAX_ACCESS_BYTES * 2));
        xml.push_str("</requester_user_agent></access>\n");
        xml.push_str(XML.split("<accesses xmlns=\"http://eprints.org/ep2/data/2.0\">").nth(1).unwrap());
        let rows = read(xml.as_bytes());
        assert!(rows[0].1.as_ref().unwrap_err().contains("longer than"), "{:?}", rows[0]);
        assert_eq!(rows.iter().filter(|r| r.1.is_ok()).count(), 2, "{rows:?}");
        assert_eq!(rows.last().unwrap().1.as_ref().unwrap().eprintid, 7);
        let mut csv = String::from("datestamp,requester_id,service_type_id,referent_id\n");
        csv.push_str(&format!("2014-05-29 10:11:12,{},?abstract=yes,1\n", "a".repeat(MAX_ACCESS_BYTES)));
        csv.push_str("2014-05-29 10:11:12,192.0.2.1,?abstract=yes,1\n");
        let rows = read(csv.as_bytes());
        assert_eq!(rows.len(), 2);
        assert!(rows[0].1.is_err());
        assert_eq!(rows[1].0, 3);
        assert!(rows[1].1.is_ok());
    }

    /// A stream that breaks (a damaged gzip) is told once, then ends.
    #[test]
    fn a_broken_stream_is_told_once_and_ends() {
        struct Breaks(&'static [u8]);
        impl std::io::Read for Breaks {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("corrupt deflate stream"));
                }
                let n = out.len().min(self.0.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let xml: &'static str = XML.split("  <access id=\"http://repo.example/id/access/2\">").next().unwrap();
        let csv = "datestamp,requester_id,service_type_id,referent_id\n2014-05-29 10:11:12,192.0.2.1,?abstract=yes,1\n";
        for bytes in [xml, csv] {
            // At most 10: a reader that kept failing would never end.
            let rows: Vec<_> =
                AccessReader::new(std::io::BufReader::new(Breaks(bytes.as_bytes()))).unwrap().take(10).collect();
            assert_eq!(rows.len(), 2, "{rows:?}");
            assert!(rows[0].result.is_ok());
            assert!(rows[1].result.as_ref().unwrap_err().contains("corrupt deflate stream"), "{rows:?}");
        }
    }

    #[test]
    fn any_cut_of_an_export_reads_without_a_panic() {
        for end in 0..XML.len() {
            let _ = read(&XML.as_bytes()[..end]);
        }
    }
}
