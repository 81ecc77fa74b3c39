//! The XML export of EPrints' `history` dataset: one `<history>` element
//! per thing done to an object (`create`, `modify`,
//! `move_buffer_to_archive`...), with who did it, when, and the object's
//! revision number after it. EPrints keeps the object's state at each
//! revision beside it (`documents/…/revisions/N.xml`, an `<eprint>` as its
//! XML export writes one); together they become an imported record's
//! earlier revisions.
//!
//! Written by hand on quick-xml's reader for the reasons the record reader
//! gives ([`super::reader`]): no crate reads this format, and a bad entry
//! must be reported by its line while the rest are read.

use arkiv_model::Timestamp;
use quick_xml::events::Event;

/// One `<history>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub historyid: i64,
    /// The EPrints user who did it; `None` for a script.
    pub userid: Option<i64>,
    /// EPrints' text for who did it (a user's name, a script's).
    pub actor: String,
    /// The dataset of the object: `eprint` for records.
    pub datasetid: String,
    pub objectid: i64,
    /// The object's revision after the action; not every action makes one.
    pub revision: Option<i64>,
    pub timestamp: Timestamp,
    pub action: String,
    pub details: Option<String>,
}

/// An entry, or why it could not be read, with the line its `<history>`
/// starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryLine {
    pub line: usize,
    pub result: Result<HistoryEntry, String>,
}

/// Longest text kept of one field (a rejection's `details` is a mail).
const MAX_TEXT_BYTES: usize = 64 << 10;
/// Deepest nesting read.
const MAX_DEPTH: usize = 16;

/// The entries of a history export, each with its line. Broken XML ends
/// the reading with an error saying where.
pub fn read_history(xml: &[u8]) -> Result<Vec<HistoryLine>, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut lines = super::reader::LineCounter::new(xml);
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut start_line = 0;
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| format!("line {}: not well-formed XML: {e}", lines.at(at)))?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "history" {
                    fields.clear();
                    start_line = lines.at(at);
                }
                path.push(name);
                if path.len() > MAX_DEPTH {
                    return Err(format!("line {}: elements nested too deep for a history export", lines.at(at)));
                }
            }
            Event::End(_) if path.pop().as_deref() == Some("history") => {
                out.push(HistoryLine { line: start_line, result: entry(&fields) });
            }
            Event::Text(_) | Event::GeneralRef(_) | Event::CData(_) => {
                // Only the text of a field directly inside <history>.
                let [.., parent, field] = path.as_slice() else { continue };
                if parent != "history" {
                    continue;
                }
                let text = super::reader::event_text(&event)
                    .unwrap_or_else(|| Ok(String::new()))
                    .map_err(|e| format!("line {}: {e}", lines.at(at)))?;
                match fields.iter_mut().find(|(n, _)| n == field) {
                    Some((_, value)) if value.len() + text.len() <= MAX_TEXT_BYTES => value.push_str(&text),
                    Some(_) => {}
                    None => fields.push((field.clone(), text.chars().take(MAX_TEXT_BYTES).collect())),
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// The entry the fields of one `<history>` make.
fn entry(fields: &[(String, String)]) -> Result<HistoryEntry, String> {
    let get = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty());
    let int = |name: &str| -> Result<Option<i64>, String> {
        get(name).map(|v| v.parse::<i64>().map_err(|_| format!("{name} {v:?} is not a number"))).transpose()
    };
    let historyid = int("historyid")?.ok_or("a history entry without a historyid")?;
    let objectid = int("objectid")?.ok_or_else(|| format!("history {historyid} names no objectid"))?;
    let timestamp = get("timestamp").ok_or_else(|| format!("history {historyid} has no timestamp"))?;
    let timestamp = Timestamp::parse(timestamp)
        .ok_or_else(|| format!("history {historyid}: the timestamp {timestamp:?} is not YYYY-MM-DD HH:MM:SS"))?;
    Ok(HistoryEntry {
        historyid,
        userid: int("userid")?.filter(|&u| u != 0),
        actor: get("actor").unwrap_or("").to_string(),
        datasetid: get("datasetid").unwrap_or("eprint").to_string(),
        objectid,
        revision: int("revision")?,
        timestamp,
        action: get("action").unwrap_or("other").to_string(),
        details: get("details").map(str::to_string),
    })
}

/// Where EPrints keeps an eprint's files below its archive's `documents`
/// directory: the id as eight digits in pairs (`00/00/01/23` for 123),
/// under a disk directory (`disk0`).
pub fn eprint_dir(eprintid: i64) -> String {
    let digits = format!("{:08}", eprintid.max(0));
    let pairs: Vec<&str> = (0..digits.len()).step_by(2).map(|i| &digits[i..(i + 2).min(digits.len())]).collect();
    pairs.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_read_and_each_bad_one_is_told_by_its_line() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?>
<histories xmlns="http://eprints.org/ep2/data/2.0">
  <history>
    <historyid>10</historyid><userid>3</userid><actor>Anna Nowak</actor>
    <datasetid>eprint</datasetid><objectid>123</objectid><revision>1</revision>
    <timestamp>2014-05-29 10:11:12</timestamp><action>create</action>
  </history>
  <history>
    <historyid>11</historyid><userid>0</userid><actor>bin/epadmin</actor>
    <datasetid>eprint</datasetid><objectid>123</objectid><revision>2</revision>
    <timestamp>2014-05-30</timestamp><action>modify</action><details>fixed &amp; done</details>
  </history>
  <history><historyid>12</historyid><objectid>x</objectid><timestamp>2014-05-30</timestamp></history>
  <history><historyid>13</historyid><objectid>5</objectid><timestamp>yesterday</timestamp></history>
</histories>"#;
        let lines = read_history(xml).unwrap();
        assert_eq!(lines.len(), 4);
        let first = lines[0].result.as_ref().unwrap();
        assert_eq!((first.historyid, first.userid, first.objectid, first.revision), (10, Some(3), 123, Some(1)));
        assert_eq!((first.actor.as_str(), first.action.as_str()), ("Anna Nowak", "create"));
        assert_eq!(first.timestamp, Timestamp::parse("2014-05-29T10:11:12Z").unwrap());
        let second = lines[1].result.as_ref().unwrap();
        assert_eq!((second.userid, second.details.as_deref()), (None, Some("fixed & done")), "userid 0 is a script");
        assert_eq!(lines[2].line, 13);
        assert!(lines[2].result.as_ref().unwrap_err().contains("objectid \"x\" is not a number"));
        assert!(lines[3].result.as_ref().unwrap_err().contains("\"yesterday\" is not"));
        assert!(read_history(b"<histories><history></histories>").is_err());
        assert_eq!(eprint_dir(123), "00/00/01/23");
    }
}
