//! The rules a record must satisfy before it is stored. They are the same for
//! every way in (import and the deposit form today; SWORD and a REST API
//! when they come), which is why they live here and not in any of those.

use crate::item_type::ItemTypes;
use crate::record::Record;

/// Upper bounds on field sizes. A title of ten megabytes is an attack or an
/// accident, never a title.
pub const MAX_TITLE_CHARS: usize = 2_000;
pub const MAX_ABSTRACT_CHARS: usize = 100_000;
pub const MAX_FIELD_CHARS: usize = 10_000;
pub const MAX_LIST_LEN: usize = 10_000;

/// One reason a record was refused, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ValidationError {
    pub field: String,
    pub problem: String,
}

fn err(field: &str, problem: impl Into<String>) -> ValidationError {
    ValidationError { field: field.into(), problem: problem.into() }
}

/// Checks a record; returns every problem found, not just the first.
pub fn validate(record: &Record, types: &ItemTypes) -> Result<(), Vec<ValidationError>> {
    let mut problems = Vec::new();
    if let Some(id) = record.id {
        if id <= 0 {
            problems.push(err("id", format!("record ids are positive; {id} is not")));
        }
    }
    if record.title.trim().is_empty() {
        problems.push(err("title", "a record needs a title"));
    }
    check_text(&mut problems, "title", &record.title, MAX_TITLE_CHARS);
    if record.item_type.is_empty() {
        problems.push(err("type", "a record needs an item type"));
    } else if !types.contains(&record.item_type) {
        problems.push(err(
            "type",
            format!(
                "unknown item type {:?} (a repository can add it under [types] in arkiv.toml)",
                clip(&record.item_type)
            ),
        ));
    }
    if let Some(a) = &record.abstract_text {
        check_text(&mut problems, "abstract", a, MAX_ABSTRACT_CHARS);
    }
    if let Some(n) = &record.note {
        check_text(&mut problems, "note", n, MAX_ABSTRACT_CHARS);
    }
    let short_fields = [
        ("date_type", &record.date_type),
        ("ispublished", &record.ispublished),
        ("series", &record.series),
        ("number", &record.number),
        ("publisher", &record.publisher),
        ("institution", &record.institution),
        ("department", &record.department),
        ("place_of_pub", &record.place_of_pub),
        ("pages", &record.pages),
        ("pagerange", &record.pagerange),
        ("publication", &record.publication),
        ("book_title", &record.book_title),
        ("volume", &record.volume),
        ("event_title", &record.event_title),
        ("official_url", &record.official_url),
        ("doi", &record.doi),
        ("isbn", &record.isbn),
        ("issn", &record.issn),
        ("id_number", &record.id_number),
        ("license", &record.license),
        ("withdrawn_reason", &record.withdrawn_reason),
    ];
    for (name, value) in short_fields {
        if let Some(v) = value {
            check_text(&mut problems, name, v, MAX_FIELD_CHARS);
        }
    }
    // The DOI and the licence become URIs in the Signposting `Link`
    // header: a value that is not one could carry links of its own.
    if let Some(problem) = record.doi.as_deref().and_then(doi_problem) {
        problems.push(err("doi", problem));
    }
    if let Some(problem) = record.license.as_deref().and_then(license_problem) {
        problems.push(err("license", problem));
    }
    for (name, len) in [
        ("creators", record.creators.len()),
        ("editors", record.editors.len()),
        ("contributors", record.contributors.len()),
        ("keywords", record.keywords.len()),
        ("subjects", record.subjects.len()),
        ("divisions", record.divisions.len()),
        ("documents", record.documents.len()),
    ] {
        if len > MAX_LIST_LEN {
            problems.push(err(name, format!("{len} entries; at most {MAX_LIST_LEN}")));
        }
    }
    let people = record
        .creators
        .iter()
        .map(|c| ("creators", c))
        .chain(record.editors.iter().map(|c| ("editors", c)))
        .chain(record.contributors.iter().map(|c| ("contributors", &c.person)));
    for (i, (field, c)) in people.enumerate() {
        if c.name.family.trim().is_empty() && c.name.given.trim().is_empty() {
            problems.push(err(field, format!("person {} has no name", i + 1)));
        }
        for text in [Some(&c.name.family), Some(&c.name.given), c.id.as_ref(), c.email.as_ref()].into_iter().flatten() {
            check_text(&mut problems, field, text, MAX_FIELD_CHARS);
        }
        if let Some(o) = &c.orcid {
            if !is_orcid(o) {
                problems.push(err(field, format!("{:?} is not an ORCID iD", clip(o))));
            }
        }
    }
    for c in &record.contributors {
        check_text(&mut problems, "contributors", &c.role, MAX_FIELD_CHARS);
    }
    for c in &record.corp_creators {
        check_text(&mut problems, "corp_creators", &c.name, MAX_FIELD_CHARS);
        if let Some(id) = &c.id {
            check_text(&mut problems, "corp_creators", id, MAX_FIELD_CHARS);
        }
    }
    for (field, list) in [
        ("keywords", &record.keywords),
        ("subjects", &record.subjects),
        ("divisions", &record.divisions),
        ("languages", &record.languages),
    ] {
        for k in list {
            check_text(&mut problems, field, k, MAX_FIELD_CHARS);
        }
    }
    for link in &record.related {
        for text in [Some(&link.url), link.relation.as_ref(), link.description.as_ref()].into_iter().flatten() {
            check_text(&mut problems, "related", text, MAX_FIELD_CHARS);
        }
    }
    if record.related.len() > MAX_LIST_LEN
        || record.corp_creators.len() > MAX_LIST_LEN
        || record.extra.len() > MAX_LIST_LEN
    {
        problems.push(err("record", format!("a list holds more than {MAX_LIST_LEN} entries")));
    }
    for e in &record.extra {
        check_text(&mut problems, "extra", &e.name, MAX_FIELD_CHARS);
        check_text(&mut problems, "extra", &e.xml, MAX_ABSTRACT_CHARS * 10);
    }
    if let Some(d) = record.date {
        if !d.is_valid() {
            problems.push(err("date", format!("{d} is not a date")));
        }
    }
    let mut positions = std::collections::HashSet::new();
    for d in &record.documents {
        if d.pos == 0 || !positions.insert(d.pos) {
            problems.push(err("documents", format!("document position {} is zero or repeated", d.pos)));
        }
        if let Some(e) = d.embargo {
            if !e.is_valid() {
                problems.push(err("documents", format!("embargo {e} of document {} is not a date", d.pos)));
            }
        }
        if let Some(problem) = d.license.as_deref().and_then(license_problem) {
            problems.push(err("documents", format!("the licence of document {}: {problem}", d.pos)));
        }
        let doc_texts = [&d.format, &d.format_description, &d.mime_type, &d.language, &d.license, &d.content, &d.main];
        for text in doc_texts.into_iter().flatten() {
            check_text(&mut problems, "documents", text, MAX_FIELD_CHARS);
        }
        for f in &d.files {
            if !is_safe_filename(&f.filename) {
                problems.push(err("documents", format!("unsafe file name {:?}", clip(&f.filename))));
            }
            if let Some(h) = &f.sha256 {
                if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
                    problems.push(err("documents", format!("{:?} is not a SHA-256", clip(h))));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn clip(s: &str) -> String {
    let mut c: String = s.chars().take(60).collect();
    if c.len() < s.len() {
        c.push('…');
    }
    c
}

/// Length bound, and no control characters but tab and newlines (XML 1.0
/// cannot carry them, and no one types them on purpose).
fn check_text(problems: &mut Vec<ValidationError>, field: &str, text: &str, max_chars: usize) {
    // Bytes first: a text of no more bytes than the limit has no more
    // characters, and counting characters is a pass over the text.
    if text.len() > max_chars && (text.len() > max_chars * 4 || text.chars().count() > max_chars) {
        problems.push(err(field, format!("longer than {max_chars} characters")));
    }
    if may_hold_control_chars(text)
        && text
            .chars()
            .any(|c| (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    {
        problems.push(err(field, "contains control characters"));
    }
}

/// Whether `text` has a byte that begins a control character (C0 but tab,
/// line feed and return; DEL; C1, which UTF-8 writes as 0xC2 0x80-0x9F) or
/// U+FFFE/U+FFFF (0xEF 0xBF 0xBE/BF). `false` proves there is none; `true`
/// means a closer look, by character, is needed. A pass over bytes that the
/// compiler vectorizes: every field of every imported record goes through
/// it, and most text never needs the closer look.
pub fn may_hold_control_chars(text: &str) -> bool {
    text.bytes().fold(false, |seen, b| {
        seen | ((b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r') | (b == 0x7F) | (b == 0xC2) | (b == 0xEF))
    })
}

/// A file name that can stand as the last segment of a URL path and as a
/// name on disk: no separators, no `..`, no control characters, and no
/// invisible ones ([`is_invisible`]: a stored name is cleaned first, by
/// [`clean_filename`]).
pub fn is_safe_filename(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && !name.chars().any(|c| c.is_control() || is_invisible(c))
}

/// Characters that change how a name reads without being seen:
/// bidirectional controls (a right-to-left override shows
/// `evil\u{202e}gpj.exe` as `evilexe.jpg`), zero-width characters, the
/// byte-order mark, invisible operators, interlinear annotations and tag
/// characters.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// A file name without invisible characters ([`is_invisible`]), as it is
/// stored: what the upload and the import apply before anything else.
pub fn clean_filename(name: &str) -> String {
    name.chars().filter(|&c| !is_invisible(c)).collect()
}

/// [`clean_filename`] applied to every file name and main-file name of
/// `record`'s documents.
pub fn clean_file_names(record: &mut Record) {
    for d in &mut record.documents {
        if let Some(main) = &mut d.main {
            if main.chars().any(is_invisible) {
                *main = clean_filename(main);
            }
        }
        for f in &mut d.files {
            if f.filename.chars().any(is_invisible) {
                f.filename = clean_filename(&f.filename);
            }
        }
    }
}

/// Characters no DOI and no licence URL may hold: they end a URI or a
/// parameter in a `Link` header (space, quote) or are not text at all.
fn breaks_a_uri(c: char) -> bool {
    c.is_whitespace() || c.is_control() || c == '"'
}

/// Why `doi` is not a DOI, or `None` if it is one: `10.`, the registrant's
/// number (digits and dots), `/` and a suffix, optionally after
/// `https://doi.org/` or `doi:`. The suffix may hold `<`, `>` and `;` (old
/// SICI DOIs do); it may not hold white space, control characters or `"`.
pub fn doi_problem(doi: &str) -> Option<String> {
    let d = doi.trim();
    let lower = d.to_ascii_lowercase();
    let prefix = ["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"]
        .into_iter()
        .find(|p| lower.starts_with(p))
        .map_or(0, str::len);
    let bare = &d[prefix..];
    let ok = bare.strip_prefix("10.").and_then(|rest| rest.split_once('/')).is_some_and(|(registrant, suffix)| {
        !registrant.is_empty()
            && registrant.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && !suffix.is_empty()
            && !suffix.chars().any(breaks_a_uri)
    });
    (!ok).then(|| format!("{:?} is not a DOI (a DOI reads 10.1234/abc: no spaces, quotes or line breaks)", clip(doi)))
}

/// Why `license` cannot be a licence, or `None`: a name or an SPDX id
/// (`CC-BY-4.0`) is free text, but a web address must be an `http(s)`
/// URL with a host and no white space, quotes or angle brackets, because
/// it is written into the Signposting `Link` header.
pub fn license_problem(license: &str) -> Option<String> {
    let l = license.trim();
    let lower = l.to_ascii_lowercase();
    if !(lower.contains("://") || lower.starts_with("http:") || lower.starts_with("https:")) {
        return None;
    }
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| {
        !r.is_empty()
            && !r.starts_with('/')
            && !l.chars().any(|c| breaks_a_uri(c) || matches!(c, '<' | '>' | '{' | '}' | '|' | '\\' | '^' | '`'))
    });
    (!ok).then(|| {
        format!(
            "{:?} is not a web address a licence can have (https://..., with no spaces, quotes or angle brackets)",
            clip(license)
        )
    })
}

/// `0000-0002-1825-0097`, with the ISO 7064 11,2 check digit.
pub fn is_orcid(s: &str) -> bool {
    let s = s.trim().trim_start_matches("https://orcid.org/").trim_start_matches("http://orcid.org/");
    // Four groups of four, hyphens between them.
    let groups: Vec<&str> = s.split('-').collect();
    if groups.len() != 4 || groups.iter().any(|g| g.len() != 4) {
        return false;
    }
    let digits: Vec<char> = s.chars().filter(|c| *c != '-').collect();
    let mut total = 0u32;
    for c in &digits[..15] {
        let Some(d) = c.to_digit(10) else { return false };
        total = (total + d) * 2;
    }
    let check = (12 - total % 11) % 11;
    let expected = if check == 10 { 'X' } else { char::from_digit(check, 10).unwrap_or('?') };
    digits[15] == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_needs_a_title_and_a_known_type() {
        let types = ItemTypes::default();
        assert!(validate(&Record::new("policy_paper", "A title"), &types).is_ok());
        let problems = validate(&Record::new("pamphlet", " "), &types).unwrap_err();
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["title", "type"]);
    }

    #[test]
    fn dates_built_by_hand_must_be_real() {
        let mut r = Record::new("article", "T");
        r.date = Some(crate::PartialDate { year: 2014, month: Some(13), day: Some(40) });
        assert_eq!(validate(&r, &ItemTypes::default()).unwrap_err()[0].field, "date");
    }

    #[test]
    fn problems_name_the_field_they_are_in() {
        let mut r = Record::new("article", "T");
        r.editors.push(crate::Creator::new("", ""));
        r.languages.push("en\u{0}".into());
        let fields: Vec<_> = validate(&r, &ItemTypes::default()).unwrap_err().into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["editors", "languages"]);
    }

    #[test]
    fn huge_titles_are_refused() {
        let r = Record::new("article", &"x".repeat(10 * 1024 * 1024));
        let problems = validate(&r, &ItemTypes::default()).unwrap_err();
        assert!(problems[0].problem.contains("longer than"));
    }

    #[test]
    fn orcids_are_checked() {
        assert!(is_orcid("0000-0002-1825-0097"));
        assert!(is_orcid("0000-0003-3108-8271"));
        assert!(is_orcid("https://orcid.org/0000-0002-1694-233X"));
        assert!(!is_orcid("0000-0002-1825-0098"));
        assert!(!is_orcid("not an orcid"));
        assert!(!is_orcid("0000000218250097---"));
        assert!(!is_orcid("00-00000218250-097-"));
    }

    #[test]
    fn dois_and_licence_urls_are_checked() {
        let types = ItemTypes::default();
        let with = |doi: Option<&str>, license: Option<&str>, doc_license: Option<&str>| {
            let mut r = Record::new("article", "T");
            r.doi = doi.map(str::to_string);
            r.license = license.map(str::to_string);
            r.documents.push(crate::Document {
                pos: 1,
                license: doc_license.map(str::to_string),
                ..Default::default()
            });
            validate(&r, &types).err().unwrap_or_default().into_iter().map(|p| p.field).collect::<Vec<_>>()
        };
        for good in [
            "10.1080/02634937.2019.1234567",
            "https://doi.org/10.1117/12.790042",
            "doi:10.48550/arXiv.2101.00001",
            "10.1002/(SICI)1097-4636(199702)34:2<161::AID-JBM3>3.0.CO;2-P",
        ] {
            assert_eq!(with(Some(good), None, None), Vec::<String>::new(), "{good}");
        }
        let smuggled = "10.1234/x>; rel=\"item\"; type=\"application/pdf\", <https://evil.example/malware.pdf";
        for bad in [smuggled, "not a doi", "10.1234/", "10.1234/a b", "10.1234/a\r\nLink: x", "11.1234/x"] {
            assert_eq!(with(Some(bad), None, None), ["doi"], "{bad:?}");
        }
        for good in ["CC-BY-4.0", "cc_by", "other", "https://creativecommons.org/licenses/by/4.0/"] {
            assert_eq!(with(None, Some(good), Some(good)), Vec::<String>::new(), "{good}");
        }
        let smuggled = "https://example.org/l>; rel=\"item\", <https://evil.example/x.exe";
        for bad in [smuggled, "https://example.org/a b", "http://", "https://x.org/\"quoted\""] {
            assert_eq!(with(None, Some(bad), None), ["license"], "{bad:?}");
            assert_eq!(with(None, None, Some(bad)), ["documents"], "{bad:?}");
        }
        let problems = validate(&Record { doi: Some(smuggled.into()), ..Record::new("article", "T") }, &types);
        assert!(problems.unwrap_err()[0].problem.contains("is not a DOI"));
    }

    #[test]
    fn invisible_characters_are_stripped_from_file_names() {
        assert_eq!(clean_filename("evil\u{202e}gpj.exe"), "evilgpj.exe");
        assert_eq!(clean_filename("\u{feff}a\u{200b}b\u{2066}c\u{2069}\u{200f}.pdf\u{e0041}"), "abc.pdf");
        assert_eq!(clean_filename("Łódź – raport.pdf"), "Łódź – raport.pdf", "visible text is kept");
        assert!(!is_safe_filename("evil\u{202e}gpj.exe"), "another way in is refused");
        let mut r = Record::new("article", "T");
        r.documents.push(crate::Document {
            pos: 1,
            main: Some("evil\u{202e}gpj.exe".into()),
            files: vec![crate::StoredFile { filename: "evil\u{202e}gpj.exe".into(), ..Default::default() }],
            ..Default::default()
        });
        assert_eq!(validate(&r, &ItemTypes::default()).unwrap_err()[0].field, "documents");
        clean_file_names(&mut r);
        assert_eq!(
            (r.documents[0].main.as_deref(), r.documents[0].files[0].filename.as_str()),
            (Some("evilgpj.exe"), "evilgpj.exe")
        );
        assert!(validate(&r, &ItemTypes::default()).is_ok());
    }

    #[test]
    fn file_names_cannot_escape() {
        assert!(is_safe_filename("paper.pdf"));
        for bad in ["", "..", "../etc/passwd", "a/b", "a\\b", "a\0b"] {
            assert!(!is_safe_filename(bad), "{bad:?}");
        }
    }
}
