//! EPrints' phrase files (`cfg/lang/en/phrases/*.xml`), read for what an
//! import needs from them: the names of item types. A repository's local
//! types (`oral_history`, `lab_notes`) are named there as
//! `<epp:phrase id="eprint_typename_oral_history">Oral History</epp:phrase>`,
//! and an import that takes such a type labels it with that name rather
//! than its id.
//!
//! A phrase may hold markup (`<epc:pin>`, HTML); its text is what is kept,
//! with runs of white space made one space. Phrase files use the HTML
//! entities EPrints' `entities.dtd` declares (`&nbsp;`, `&ndash;`);
//! quick-xml's reader does no DTD, so the common ones are read from a table
//! here, and any other is kept as written (a label is for reading, and one
//! odd entity is no reason to lose the rest).

use quick_xml::events::Event;
use std::collections::BTreeMap;

/// The prefix of the phrase ids that name item types.
const TYPE_NAME: &str = "eprint_typename_";

/// Deepest nesting read: a phrase file is a list of phrases with a little
/// markup inside each.
const MAX_DEPTH: usize = 32;

/// The item type names of a phrase file: type id → name. Broken XML ends
/// the reading with an error saying on which line.
pub fn read_type_names(xml: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut lines = super::reader::LineCounter::new(xml);
    let mut names = BTreeMap::new();
    let mut depth = 0usize;
    // The type whose phrase is open, the depth it opened at, and its text.
    let mut open: Option<(String, usize, String)> = None;
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| format!("line {}: not well-formed XML: {e}", lines.at(at)))?;
        match event {
            Event::Start(e) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!("line {}: elements nested too deep for a phrase file", lines.at(at)));
                }
                if open.is_none() && e.local_name().as_ref() == b"phrase" {
                    let id = e
                        .try_get_attribute("id")
                        .map_err(|e| format!("line {}: {e}", lines.at(at)))?
                        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()));
                    if let Some(item_type) = id.as_deref().and_then(|id| id.strip_prefix(TYPE_NAME)) {
                        open = Some((item_type.to_string(), depth, String::new()));
                    }
                }
            }
            Event::End(_) => {
                if let Some((item_type, at_depth, text)) = open.take() {
                    if at_depth == depth {
                        let name = text.split_whitespace().collect::<Vec<_>>().join(" ");
                        if !name.is_empty() && !item_type.is_empty() {
                            names.insert(item_type, name);
                        }
                    } else {
                        open = Some((item_type, at_depth, text));
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => {
                if let Some((_, _, text)) = open.as_mut() {
                    let raw =
                        std::str::from_utf8(&t).map_err(|_| format!("line {}: text is not UTF-8", lines.at(at)))?;
                    let s = quick_xml::escape::unescape(raw).map_err(|e| format!("line {}: {e}", lines.at(at)))?;
                    text.push_str(&s);
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, _, text)) = open.as_mut() {
                    match super::reader::resolve_reference(&r) {
                        Ok(s) => text.push_str(&s),
                        Err(_) => {
                            let name = String::from_utf8_lossy(&r).into_owned();
                            match html_entity(&name) {
                                Some(c) => text.push(c),
                                None => text.push_str(&format!("&{name};")),
                            }
                        }
                    }
                }
            }
            Event::CData(c) => {
                if let Some((_, _, text)) = open.as_mut() {
                    text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(names)
}

/// The HTML entities phrase files use most (from the XHTML sets EPrints'
/// `entities.dtd` includes).
fn html_entity(name: &str) -> Option<char> {
    Some(match name {
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "middot" => '·',
        "bull" => '•',
        "times" => '×',
        "eacute" => 'é',
        "egrave" => 'è',
        "aacute" => 'á',
        "agrave" => 'à',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "auml" => 'ä',
        "szlig" => 'ß',
        "ccedil" => 'ç',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_read_with_their_markup_flattened() {
        let xml = br#"<?xml version="1.0" encoding="utf-8" standalone="no"?>
<!DOCTYPE phrases SYSTEM "entities.dtd">
<epp:phrases xmlns="http://www.w3.org/1999/xhtml" xmlns:epp="http://eprints.org/ep3/phrase" xmlns:epc="http://eprints.org/ep3/control">
  <epp:phrase id="eprint_typename_oral_history">Oral
     History</epp:phrase>
  <epp:phrase id="eprint_typename_lab_notes">Lab&nbsp;notes &amp; <em>logs</em></epp:phrase>
  <epp:phrase id="eprint_typename_empty"></epp:phrase>
  <epp:phrase id="eprint_typename_odd">Odd&zzz;one</epp:phrase>
  <epp:phrase id="eprint_fieldname_title">Title</epp:phrase>
</epp:phrases>"#;
        let names = read_type_names(xml).unwrap();
        assert_eq!(names.get("oral_history").map(String::as_str), Some("Oral History"));
        assert_eq!(names.get("lab_notes").map(String::as_str), Some("Lab notes & logs"));
        assert_eq!(names.get("odd").map(String::as_str), Some("Odd&zzz;one"), "an unknown entity is kept as written");
        assert_eq!(names.len(), 3, "only type names, and none empty: {names:?}");
        let broken = read_type_names(b"<epp:phrases>\n<epp:phrase id=\"eprint_typename_x\">X</epp:phrases>");
        assert!(broken.unwrap_err().starts_with("line 2"), "says where");
    }
}
