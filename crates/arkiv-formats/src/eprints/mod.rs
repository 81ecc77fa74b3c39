//! EPrints 3 XML (`http://eprints.org/ep2/data/2.0`): the format EPrints'
//! "EP3 XML" export plugin writes and its import plugin reads. It is how a
//! repository moves from EPrints to Arkiv and how Arkiv hands records back,
//! so the mapping is one to one wherever the model allows: the element names
//! are the model's field names, and what the model has no field for is kept
//! verbatim in [`arkiv_model::ExtraField`]s and written back out.
//!
//! Where the mapping is not one to one, and why:
//!
//! * A record without `eprint_status` is read as live (`archive`): files
//!   without it (EPrints' import-API files) list published items.
//! * Blank elements are read as absent, and text is trimmed (line breaks
//!   inside an abstract or note are kept).
//! * `keywords` is one text in EPrints and a list in Arkiv: read split on
//!   line breaks, commas and semicolons, written joined with `, `.
//! * `language` and `languages/item` are both read; `languages` is written,
//!   since the model's field is a list.
//! * `corp_creators/item` is read as text or as `name` + `id` (repositories
//!   configure it both ways) and written as `name` + `id`.
//! * A file's `<url>` becomes its `source_url` and a [`FileSource`] the
//!   importer fetches; `<data encoding="base64">` becomes the bytes.
//! * `withdrawn_reason` has no EPrints element, and a file's `sha256` is the
//!   key of Arkiv's own store; neither is written.
//!
//! The codec is written by hand on quick-xml's event reader rather than with
//! a serde mapping or a DOM crate. No crate maps EPrints XML, and serde-style
//! mapping cannot do what an importer needs here: keep unknown elements as
//! XML, carry on after a bad record, bound the size of every text node and
//! the nesting depth *while* reading (a 10 MB title must be refused without
//! being held), and stream a file of any size in constant memory.

pub mod access;
pub mod history;
pub mod paths;
pub mod phrases;
mod reader;
pub mod subjects;
pub mod users;
mod writer;

// The import types are shared with the JSON codec and live at the crate
// root; they are re-exported here so that EPrints code needs one path.
pub use crate::{FileData, FileSource, ImportedRecord, ReadItem, RecordError};
pub use reader::{EprintsReader, ReaderLimits};
pub use writer::{check_extra, encode_path_segment, record_to_xml, EprintsWriter, WriteOptions};

/// The namespace of EPrints 3 XML. Both the reader and the writer insist on
/// it: without it a file is not EPrints XML, whatever its element names.
pub const EPRINTS_NS: &str = "http://eprints.org/ep2/data/2.0";

/// Top-level elements of `<eprint>` that the codec maps to [`arkiv_model::Record`]
/// fields. Listed so that the writer can refuse an extra field that would be
/// read back as one of them.
pub const MAPPED_ELEMENTS: &[&str] = &[
    "eprintid",
    "eprint_status",
    "type",
    "monograph_type",
    "thesis_type",
    "pres_type",
    "title",
    "creators",
    "corp_creators",
    "editors",
    "contributors",
    "date",
    "date_type",
    "ispublished",
    "series",
    "number",
    "publisher",
    "institution",
    "department",
    "place_of_pub",
    "pages",
    "pagerange",
    "publication",
    "book_title",
    "volume",
    "event_title",
    "official_url",
    "doi",
    "isbn",
    "issn",
    "id_number",
    "keywords",
    "subjects",
    "divisions",
    "language",
    "languages",
    "abstract",
    "note",
    "license",
    "refereed",
    "related_url",
    "userid",
    "datestamp",
    "lastmod",
    "replacedby",
    "succeeds",
    // Not an EPrints field: the reason shown on a withdrawn record's
    // tombstone, written so that an Arkiv export loses nothing.
    "withdrawn_reason",
    "documents",
];

/// Top-level elements that EPrints derives from other data or from its own
/// storage (revision counter, disk directory, cached flags). Arkiv keeps its
/// own equivalents, recomputed on every save, so importing EPrints' values
/// would only store numbers that are wrong the moment the record changes.
/// They are dropped silently: they are not data anyone entered.
pub const RECOMPUTED_ELEMENTS: &[&str] = &[
    "rev_number",
    "dir",
    "metadata_visibility",
    "status_changed",
    "item_issues_count",
    "full_text_status",
    "fileinfo",
];

/// EPrints' bookkeeping inside `<document>` and `<file>`: the owning
/// record's id, revision counter, display order and file times. They refer
/// to EPrints' database, mean nothing in Arkiv, and are dropped silently.
/// (The document's and file's own ids are kept, for their old addresses,
/// and so are relations, which say which documents are derived.) Any other
/// unknown element there is reported as a warning.
pub const DOCUMENT_BOOKKEEPING: &[&str] = &["rev_number", "eprintid", "placement", "datasetid", "objectid", "mtime"];

/// Unmapped elements that EPrints shows only to staff: the depositor's
/// contact address and notes to the editors. Kept in `extra` like any other
/// unmapped element, but written only when private data is asked for
/// ([`WriteOptions::include_private`]), as are creators' addresses. Any
/// other element whose name ends in `email` is treated the same way.
pub const PRIVATE_ELEMENTS: &[&str] = &["contact_email", "suggestions"];

/// Whether an extra field may appear only in a private export.
pub fn is_private_extra(name: &str) -> bool {
    PRIVATE_ELEMENTS.contains(&name) || name.ends_with("email")
}

/// Characters a record's text may not contain: the model's rule (control
/// characters but tab and line breaks). Most of them cannot be carried by XML
/// 1.0 at all, and none is ever typed on purpose.
pub(crate) fn is_forbidden_char(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Characters XML 1.0 cannot carry in any form, not even as a reference:
/// the rule [`escape_into`] applies byte by byte, kept here as the test's
/// reference.
#[cfg(test)]
fn is_xml_illegal(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// Escapes character data. `\r` is written as a reference because a parser
/// would otherwise normalise it to `\n`; characters XML cannot carry are left
/// out, since one of them would make the whole export unreadable.
pub(crate) fn escape_text(s: &str, out: &mut String) {
    escape_into(s, out, Escape::Text);
}

/// Escapes an attribute value for double quotes. Whitespace other than the
/// space is referenced because attribute-value normalisation would turn it
/// into spaces.
pub(crate) fn escape_attr(s: &str, out: &mut String) {
    escape_into(s, out, Escape::Attribute);
}

/// How [`escape_into`] treats quotes and whitespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Character data: `\r` as a reference, quotes as they are.
    Text,
    /// A double-quoted attribute: quotes and all whitespace but the space
    /// as references.
    Attribute,
    /// Text or attribute where whitespace may be normalised (OAI-PMH's
    /// envelope): quotes as references, whitespace as it is.
    Loose,
}

/// Bytes [`escape_into`] must stop at: every ASCII control character, `&`,
/// `<`, `>`, `"` and 0xEF (the lead byte of U+FFFE/U+FFFF). A table lookup
/// per byte lets the common run of plain text be skipped in a tight loop;
/// the `match` below then decides, per mode, what a stop byte becomes.
const STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'&' as usize] = true;
    t[b'<' as usize] = true;
    t[b'>' as usize] = true;
    t[b'"' as usize] = true;
    t[0xEF] = true;
    t
};

/// The one escaping loop of every XML Arkiv writes (it was the largest
/// single cost of an OAI-PMH page): it skips runs of plain bytes by table
/// lookup and copies them whole, stopping only at the few that need a
/// reference or must go, instead of pushing each char. Every byte it stops
/// at is ASCII or the lead byte of U+FFFE/U+FFFF (EF BF BE/BF), so the
/// slices fall on char boundaries.
pub fn escape_into(s: &str, out: &mut String, mode: Escape) {
    let attr = mode == Escape::Attribute;
    let loose = mode == Escape::Loose;
    let bytes = s.as_bytes();
    out.reserve(bytes.len());
    let (mut start, mut i) = (0, 0);
    loop {
        while i < bytes.len() && !STOP[bytes[i] as usize] {
            i += 1;
        }
        if i >= bytes.len() {
            break;
        }
        let reference = match bytes[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'\r' if !loose => "&#13;",
            b'"' if attr || loose => "&quot;",
            b'\t' if attr => "&#9;",
            b'\n' if attr => "&#10;",
            b'\t' | b'\n' | b'\r' | b'"' => {
                i += 1;
                continue;
            }
            0..=0x1f => "",
            0xEF if bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) => {
                out.push_str(&s[start..i]);
                i += 3;
                start = i;
                continue;
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&s[start..i]);
        out.push_str(reference);
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
}

/// Text escaped for XML or HTML, as character data or a double-quoted
/// attribute value (`& < > "` as references; characters XML 1.0 cannot
/// carry dropped): the one escaper every hand-written document of Arkiv's
/// uses (feeds, sitemaps, OpenSearch, unAPI, error pages, citations).
pub fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    escape_into(s, &mut out, Escape::Loose);
    out
}

/// Keywords as EPrints keeps them, one text, split into entries: on line
/// breaks, commas and semicolons, since exports use all three.
pub fn split_keywords(text: &str) -> Vec<String> {
    text.split(['\n', '\r', ',', ';']).map(str::trim).filter(|k| !k.is_empty()).map(String::from).collect()
}

/// A value as it may appear in an error message: short, whatever its size.
pub(crate) fn clip(s: &str) -> String {
    let mut c: String = s.chars().take(60).collect();
    if c.len() < s.len() {
        c.push('…');
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_split_on_all_three_separators() {
        assert_eq!(split_keywords("a; b,c\n d ;; "), vec!["a", "b", "c", "d"]);
        assert!(split_keywords(" , ").is_empty());
    }

    #[test]
    fn escaping_keeps_what_xml_can_carry() {
        let mut s = String::new();
        escape_text("a<b>&c\r\n\u{1}d", &mut s);
        assert_eq!(s, "a&lt;b&gt;&amp;c&#13;\nd");
        let mut a = String::new();
        escape_attr("\"x\"\t", &mut a);
        assert_eq!(a, "&quot;x&quot;&#9;");
    }
}

#[cfg(test)]
mod escape_tests {
    use super::*;

    /// The byte loop gives what the char-by-char rules say, for every
    /// character class it treats specially and for multi-byte text.
    #[test]
    fn escaping_matches_the_char_rules() {
        let slow = |s: &str, attr: bool| {
            let mut out = String::new();
            for c in s.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '\r' => out.push_str("&#13;"),
                    '"' if attr => out.push_str("&quot;"),
                    '\t' if attr => out.push_str("&#9;"),
                    '\n' if attr => out.push_str("&#10;"),
                    c if is_xml_illegal(c) => {}
                    c => out.push(c),
                }
            }
            out
        };
        for s in [
            "",
            "plain",
            "a&b<c>d\"e'f",
            "tab\tnl\ncr\r",
            "\u{0}\u{8}\u{b}\u{1f}x",
            "Łódź “quoted” \u{fffe}\u{ffff}\u{fffd}\u{effe}",
            "Москва 東京 😀&",
        ] {
            for attr in [false, true] {
                let mut fast = String::new();
                escape_into(s, &mut fast, if attr { Escape::Attribute } else { Escape::Text });
                assert_eq!(fast, slow(s, attr), "{s:?} attr={attr}");
            }
        }
        let mut loose = String::new();
        escape_into("a\"b\r\n\t\u{1}<\u{ffff}", &mut loose, Escape::Loose);
        assert_eq!(loose, "a&quot;b\r\n\t&lt;");
    }
}
