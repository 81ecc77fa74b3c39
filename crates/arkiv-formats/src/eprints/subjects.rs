//! EPrints' subject trees as they leave EPrints: the subjects file
//! ([`read_subjects_file`]) and the XML export of the subject dataset
//! ([`read_subjects_xml`]).
//!
//! The subjects file (`cfg/subjects`, read by `bin/import_subjects`) has
//! one subject a line, `KEY:TITLE:PARENT_KEY(S):CANADD?`, parents separated
//! by commas, `ROOT` the top, `#` comments, `%3A` for a colon inside a
//! field (perl_lib/EPrints/Plugin/Import/FlatSubjects.pm:56-80). Read
//! line by line: a bad line is reported with its number and the others
//! are read. Hand-written: a line format no crate knows.

/// One subject as the file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatSubject {
    pub id: String,
    pub name: String,
    /// Parent ids, in the file's order (`ROOT` for the top).
    pub parents: Vec<String>,
    /// Whether depositors may file items under it.
    pub depositable: bool,
}

/// A line of the file that holds a subject, or why it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectLine {
    /// From 1.
    pub line: usize,
    pub result: Result<FlatSubject, String>,
}

/// The subjects of an EPrints XML export of the subject dataset
/// (`<subjects><subject><subjectid>…<name><item><name>…</name><lang>…`
/// `</lang></item></name><parents><item>…</item></parents>`
/// `<depositable>TRUE</depositable></subject>`), each with the line its
/// `<subject>` starts on. A name in English is preferred, else the first.
/// Broken XML ends the reading with an error saying where.
pub fn read_subjects_xml(xml: &[u8]) -> Result<Vec<SubjectLine>, String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let (mut id, mut names, mut parents, mut depositable, mut start_line) =
        (String::new(), Vec::<(String, String)>::new(), Vec::new(), false, 0);
    let (mut item_name, mut item_lang) = (String::new(), String::new());
    let mut lines = super::reader::LineCounter::new(xml);
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| format!("line {}: not well-formed XML: {e}", lines.at(at)))?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if name == "subject" {
                    (id, names, parents, depositable, start_line) =
                        (String::new(), Vec::new(), Vec::new(), false, lines.at(at));
                }
                path.push(name);
                if path.len() > 16 {
                    return Err(format!("line {}: elements nested too deep for a subject export", lines.at(at)));
                }
            }
            Event::End(_) => {
                let closed = path.pop().unwrap_or_default();
                let inside = |n: &str| path.last().is_some_and(|p| p == n);
                if closed == "item" && inside("name") && !item_name.is_empty() {
                    names.push((std::mem::take(&mut item_name), std::mem::take(&mut item_lang)));
                } else if closed == "subject" {
                    let name = names.iter().find(|(_, l)| l == "en").or(names.first()).map(|(n, _)| n.clone());
                    let result = match (id.trim(), name) {
                        ("", _) => Err("a subject without a subjectid".to_string()),
                        (i, None) => Err(format!("subject {i} has no name")),
                        (i, Some(n)) if parents.is_empty() && i != "ROOT" => {
                            Err(format!("subject {i} ({n}) has no parent"))
                        }
                        (i, Some(n)) => Ok(FlatSubject {
                            id: i.to_string(),
                            name: n.trim().to_string(),
                            parents: std::mem::take(&mut parents),
                            depositable,
                        }),
                    };
                    out.push(SubjectLine { line: start_line, result });
                }
            }
            Event::Text(_) | Event::GeneralRef(_) | Event::CData(_) => {
                let text = super::reader::event_text(&event)
                    .unwrap_or_else(|| Ok(String::new()))
                    .map_err(|e| format!("line {}: {e}", lines.at(at)))?;
                let here: Vec<&str> = path.iter().rev().take(3).map(String::as_str).collect();
                match here.as_slice() {
                    ["subjectid", "subject", ..] => id.push_str(&text),
                    ["depositable", "subject", ..] => depositable = text.trim() == "TRUE",
                    ["item", "parents", "subject"] => parents.push(text.trim().to_string()),
                    ["name", "item", "name"] => item_name.push_str(&text),
                    ["lang", "item", "name"] => item_lang.push_str(text.trim()),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// Every subject line of `text` (comments and blank lines left out).
pub fn read_subjects_file(text: &str) -> Vec<SubjectLine> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| SubjectLine { line: i + 1, result: read_line(l) })
        .collect()
}

fn read_line(line: &str) -> Result<FlatSubject, String> {
    let fields: Vec<String> = line.trim_end_matches(['\r', '\n']).split(':').map(|f| f.replace("%3A", ":")).collect();
    if fields.len() < 3 {
        return Err(format!("{:?} is not KEY:TITLE:PARENTS:CANADD", line.chars().take(80).collect::<String>()));
    }
    let id = fields[0].trim().to_string();
    let name = fields[1].trim().to_string();
    if id.is_empty() {
        return Err("a subject without a key".into());
    }
    if name.is_empty() {
        return Err(format!("subject {id} has no title"));
    }
    let parents: Vec<String> = fields[2].split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
    if parents.is_empty() {
        return Err(format!("subject {id} has no parent (the top ones have ROOT)"));
    }
    // Perl truth: empty and "0" are false.
    let depositable = fields.get(3).map(|f| f.trim()).is_some_and(|f| !f.is_empty() && f != "0");
    Ok(FlatSubject { id, name, parents, depositable })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_xml_export_of_subjects_reads_as_the_file_does() {
        let xml = br#"<?xml version="1.0" encoding="utf-8"?>
<subjects xmlns="http://eprints.org/ep2/data/2.0">
  <subject>
    <subjectid>subjects</subjectid>
    <name><item><name>Subjects</name><lang>en</lang></item></name>
    <parents><item>ROOT</item></parents>
    <depositable>FALSE</depositable>
  </subject>
  <subject>
    <subjectid>QA75</subjectid>
    <name><item><name>Informatyka</name><lang>pl</lang></item><item><name>Computer science &amp; more</name><lang>en</lang></item></name>
    <parents><item>QA</item><item>T1</item></parents>
    <depositable>TRUE</depositable>
  </subject>
  <subject><subjectid>nameless</subjectid><parents><item>QA</item></parents></subject>
</subjects>"#;
        let lines = read_subjects_xml(xml).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[1].line, 9);
        let qa75 = lines[1].result.as_ref().unwrap();
        assert_eq!(qa75.name, "Computer science & more", "English is preferred");
        assert_eq!(qa75.parents, ["QA", "T1"]);
        assert!(qa75.depositable);
        assert!(!lines[0].result.as_ref().unwrap().depositable);
        assert!(lines[2].result.as_ref().unwrap_err().contains("nameless has no name"));
        assert!(read_subjects_xml(b"<subjects><subject></subjects>").unwrap_err().contains("line 1"));
    }

    #[test]
    fn lines_of_the_pub_flavours_file_read_as_eprints_reads_them() {
        let text = "# a comment\n\nsubjects:Subjects:ROOT:0\nQA75:Electronic computers. Computer science:QA,T1:1\n\
                    x%3Ay:A colon%3A inside:subjects:1\nbroken line\n:no key:subjects:1\nnoparent:No parent::1\n";
        let lines = read_subjects_file(text);
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[0].line, 3);
        let qa = lines[1].result.as_ref().unwrap();
        assert_eq!(qa.parents, ["QA", "T1"]);
        assert!(qa.depositable);
        assert!(!lines[0].result.as_ref().unwrap().depositable);
        let colon = lines[2].result.as_ref().unwrap();
        assert_eq!((colon.id.as_str(), colon.name.as_str()), ("x:y", "A colon: inside"));
        assert_eq!(lines[3].line, 6);
        assert!(lines[3].result.as_ref().unwrap_err().contains("is not KEY:TITLE:PARENTS:CANADD"));
        assert!(lines[4].result.is_err() && lines[5].result.is_err());
    }
}
