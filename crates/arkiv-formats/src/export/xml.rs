//! What the hand-written XML exports (MODS, DataCite, MARCXML) share: an
//! indenting element writer over a `String` that escapes every text and
//! attribute value, and the small normalisations of identifiers (DOI, ORCID,
//! ISO 639 language codes) all three need.
//!
//! Why by hand: no Rust crate models MODS, DataCite or MARC 21, and a
//! generic serializer (serde over quick-xml) cannot express their mixed
//! attribute-and-text elements or their namespace prefixes without
//! more ceremony than the few dozen elements each writes. The escaping is
//! the EPrints codec's, so every XML Arkiv writes drops the same characters
//! XML 1.0 cannot carry.

use crate::eprints::{escape_attr, escape_text};

/// Writes indented elements into `out`. Text and attribute values are
/// escaped here, so callers pass them as they are.
pub(crate) struct XmlOut<'a> {
    out: &'a mut String,
    depth: usize,
}

impl<'a> XmlOut<'a> {
    /// Starts writing at `depth` levels of indentation (two spaces each).
    pub fn new(out: &'a mut String, depth: usize) -> Self {
        XmlOut { out, depth }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn tag(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            escape_attr(value, self.out);
            self.out.push('"');
        }
    }

    /// `<name attrs>` on its own line; the caller closes it with [`Self::close`].
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.tag(name, attrs);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    pub fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// `<name attrs>text</name>`, or nothing when `text` is blank: every
    /// schema here either forbids empty values or gives them no meaning.
    pub fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        self.indent();
        self.tag(name, attrs);
        self.out.push('>');
        escape_text(text, self.out);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// [`Self::leaf`] for an optional value.
    pub fn opt_leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: Option<&str>) {
        if let Some(text) = text {
            self.leaf(name, attrs, text);
        }
    }
}

/// Whether a value has anything but whitespace.
pub(crate) fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Collapses runs of whitespace (line breaks in titles, tabs) to one space.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A DOI without its resolver or `doi:` prefix: `10.1234/abc`. `None` for
/// anything that does not start with `10.` once the prefix is gone.
pub(crate) fn bare_doi(doi: &str) -> Option<String> {
    let doi = doi.trim();
    let lower = doi.to_ascii_lowercase();
    let rest = ["https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:"]
        .iter()
        .find_map(|p| lower.starts_with(p).then(|| &doi[p.len()..]))
        .unwrap_or(doi)
        .trim();
    rest.starts_with("10.").then(|| rest.to_string()).filter(|d| d.len() > 3 && !d.contains(char::is_whitespace))
}

/// An ORCID iD as its sixteen characters with hyphens (`0000-0002-1825-0097`),
/// from either that form or its `https://orcid.org/` URL. `None` for
/// anything else.
pub(crate) fn bare_orcid(orcid: &str) -> Option<String> {
    let id = orcid.trim().trim_end_matches('/');
    let id = id.rsplit('/').next().unwrap_or(id);
    let ok = id.len() == 19
        && id.chars().enumerate().all(|(i, c)| match i {
            4 | 9 | 14 => c == '-',
            18 => c.is_ascii_digit() || c == 'X',
            _ => c.is_ascii_digit(),
        });
    ok.then(|| id.to_string())
}

/// ISO 639-1 two-letter codes to ISO 639-2/B three-letter ones (the
/// bibliographic codes MARC and MODS catalogues use), for the languages
/// repositories most often record. A three-letter code passes through.
pub(crate) fn iso639_2b(code: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &str)] = &[
        ("ar", "ara"),
        ("be", "bel"),
        ("bg", "bul"),
        ("bs", "bos"),
        ("ca", "cat"),
        ("cs", "cze"),
        ("cy", "wel"),
        ("da", "dan"),
        ("de", "ger"),
        ("el", "gre"),
        ("en", "eng"),
        ("eo", "epo"),
        ("es", "spa"),
        ("et", "est"),
        ("eu", "baq"),
        ("fa", "per"),
        ("fi", "fin"),
        ("fr", "fre"),
        ("ga", "gle"),
        ("gl", "glg"),
        ("he", "heb"),
        ("hi", "hin"),
        ("hr", "hrv"),
        ("hu", "hun"),
        ("hy", "arm"),
        ("id", "ind"),
        ("is", "ice"),
        ("it", "ita"),
        ("ja", "jpn"),
        ("ka", "geo"),
        ("kk", "kaz"),
        ("ko", "kor"),
        ("ky", "kir"),
        ("la", "lat"),
        ("lt", "lit"),
        ("lv", "lav"),
        ("mk", "mac"),
        ("mn", "mon"),
        ("ms", "may"),
        ("nb", "nob"),
        ("nl", "dut"),
        ("nn", "nno"),
        ("no", "nor"),
        ("pl", "pol"),
        ("pt", "por"),
        ("ro", "rum"),
        ("ru", "rus"),
        ("sk", "slo"),
        ("sl", "slv"),
        ("sq", "alb"),
        ("sr", "srp"),
        ("sv", "swe"),
        ("tg", "tgk"),
        ("th", "tha"),
        ("tk", "tuk"),
        ("tr", "tur"),
        ("uk", "ukr"),
        ("ur", "urd"),
        ("uz", "uzb"),
        ("vi", "vie"),
        ("zh", "chi"),
    ];
    let code = code.trim().to_ascii_lowercase();
    let code = code.split(['-', '_']).next().unwrap_or("");
    if let Some((_, b)) = TABLE.iter().find(|(one, _)| *one == code) {
        return Some(b);
    }
    TABLE.iter().find(|(_, b)| *b == code).map(|(_, b)| *b).or_else(|| {
        // A three-letter code not in the table is kept if it looks like one.
        const OTHERS: &[&str] = &["mul", "und", "zxx", "mis"];
        OTHERS.iter().find(|o| **o == code).copied()
    })
}

/// A language code fit for `xs:language` (`en`, `pt-BR`), or `None`.
pub(crate) fn xs_language(code: &str) -> Option<String> {
    let code = code.trim().replace('_', "-");
    let mut parts = code.split('-');
    let first = parts.next()?;
    let ok = (1..=8).contains(&first.len())
        && first.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    ok.then_some(code)
}

/// `12-34` (or `12–34`, `12 - 34`) as its first and last page.
pub(crate) fn page_range(range: &str) -> (Option<String>, Option<String>) {
    let range = range.trim();
    match range.split_once(['-', '–', '—']) {
        Some((start, end)) => (
            Some(start.trim().to_string()).filter(|s| !s.is_empty()),
            Some(end.trim().to_string()).filter(|s| !s.is_empty()),
        ),
        None => (Some(range.to_string()).filter(|s| !s.is_empty()), None),
    }
}

/// The SPDX identifier of a licence [`super::fields::license_url`] knows, for DataCite's
/// `rightsIdentifier`.
pub(crate) fn license_spdx(url: &str) -> Option<String> {
    let tail = url.strip_prefix("https://creativecommons.org/licenses/")?;
    let kind = tail.split('/').next()?;
    Some(format!("CC-{}-4.0", kind.to_ascii_uppercase()))
}

/// The licence of a record: its own, else that of its first open document.
pub(crate) fn record_license(record: &arkiv_model::Record, ctx: &super::ExportContext) -> Option<String> {
    present(&record.license).map(str::to_string).or_else(|| {
        record.documents.iter().filter(|d| ctx.is_open_access(d)).find_map(|d| present(&d.license).map(str::to_string))
    })
}

/// A contributor role as a MARC relator code (`ths`), from EPrints'
/// contributor types, which are relator URIs
/// (`http://www.loc.gov/loc.terms/relators/THS`), or from a bare code.
/// `None` for a role in words.
pub(crate) fn relator_code(role: &str) -> Option<String> {
    let tail = role.trim().trim_end_matches('/').rsplit('/').next().unwrap_or("");
    (tail.len() == 3 && tail.chars().all(|c| c.is_ascii_alphabetic())).then(|| tail.to_ascii_lowercase())
}

/// A role's words for display: a relator code's term where known, else the
/// role as written.
pub(crate) fn relator_term(role: &str) -> String {
    const TERMS: &[(&str, &str)] = &[
        ("aut", "author"),
        ("edt", "editor"),
        ("ths", "thesis advisor"),
        ("trl", "translator"),
        ("ivr", "interviewer"),
        ("ive", "interviewee"),
        ("ill", "illustrator"),
        ("ctb", "contributor"),
        ("pht", "photographer"),
        ("dgs", "degree supervisor"),
        ("rev", "reviewer"),
        ("com", "compiler"),
        ("res", "researcher"),
        ("pbl", "publisher"),
        ("spn", "sponsor"),
        ("fnd", "funder"),
        ("dtc", "data contributor"),
    ];
    match relator_code(role) {
        Some(code) => TERMS.iter().find(|(c, _)| *c == code).map(|(_, t)| t.to_string()).unwrap_or(code),
        None => one_line(role),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_normalise() {
        assert_eq!(bare_doi("https://doi.org/10.1/X").as_deref(), Some("10.1/X"));
        assert_eq!(bare_doi("doi:10.7907/hqr4-6h98").as_deref(), Some("10.7907/hqr4-6h98"));
        assert_eq!(bare_doi("not a doi"), None);
        assert_eq!(bare_orcid("https://orcid.org/0000-0002-1825-009X").as_deref(), Some("0000-0002-1825-009X"));
        assert_eq!(bare_orcid("jane@example.org"), None);
        assert_eq!(iso639_2b("en"), Some("eng"));
        assert_eq!(iso639_2b("de-AT"), Some("ger"));
        assert_eq!(iso639_2b("pol"), Some("pol"));
        assert_eq!(iso639_2b("English"), None);
        assert_eq!(xs_language("pt_BR").as_deref(), Some("pt-BR"));
        assert_eq!(xs_language("Eng lish"), None);
        assert_eq!(page_range("12–34"), (Some("12".into()), Some("34".into())));
        assert_eq!(
            crate::export::fields::license_url("cc_by").as_deref(),
            Some("https://creativecommons.org/licenses/by/4.0/")
        );
        assert_eq!(license_spdx("https://creativecommons.org/licenses/by-nc/4.0/").as_deref(), Some("CC-BY-NC-4.0"));
    }

    #[test]
    fn values_are_escaped_and_blanks_left_out() {
        let mut s = String::new();
        let mut x = XmlOut::new(&mut s, 0);
        x.open("a", &[("k", "\"<&")]);
        x.leaf("b", &[], "x < y & z");
        x.leaf("c", &[], "   ");
        x.close("a");
        assert_eq!(s, "<a k=\"&quot;&lt;&amp;\">\n  <b>x &lt; y &amp; z</b>\n</a>\n");
    }
}
