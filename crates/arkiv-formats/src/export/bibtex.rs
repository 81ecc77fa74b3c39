//! BibTeX and BibLaTeX, the bibliographies LaTeX users cite from. Both are
//! hand-written: the Rust crates of the field parse `.bib` files, none
//! writes them with control over entry types and escaping.
//!
//! The two dialects share one writer. They differ where the formats do:
//! BibTeX (`plain.bst` and its kin) knows `@techreport`, `@phdthesis`,
//! `year` + `month` macros and `journal`; BibLaTeX knows `@report` with a
//! `type`, `@thesis`, `@dataset`, a `date` at its own precision and
//! `journaltitle`. Text stays UTF-8 in both (BibLaTeX reads it natively;
//! BibTeX passes it through), with only LaTeX's special characters escaped.
//! Entries whose mandatory fields are missing (an "article" without a
//! journal) fall back to `@misc`, so that bibtex and biber have nothing to
//! warn about that the export could have avoided.
//!
//! Keys are `{family}{year}{titleword}-{id}` in ASCII
//! (`jaroslewlcz2014kazakhstan-137`). The record's id makes the key unique
//! across the repository, so that `.bib` files downloaded one record at a
//! time can be concatenated into one bibliography without two entries
//! sharing a key, and a record has the same key in every export it appears
//! in. The readable part is there for the writer citing it. A record
//! without an id (a preview, a record read from a file) has the readable
//! part alone, made unique within one export by the writer's set of keys
//! already used: the second of a kind gets `a`, the third `b`...

use super::fields::{self, Genre};
use super::{ExportContext, ExportFormat, ExportWriter};
use arkiv_model::{Creator, Record};
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

/// BibTeX, for `plain.bst` and the styles derived from it.
pub const BIBTEX: ExportFormat = ExportFormat {
    id: "bibtex",
    label: "BibTeX",
    media_type: "application/x-bibtex; charset=utf-8",
    extension: "bib",
    writer: |ctx| Box::new(BibWriter::new(ctx, Dialect::Bibtex)),
    list_may_be_empty: true,
    oai: None,
};

/// BibLaTeX (biber's data model).
pub const BIBLATEX: ExportFormat = ExportFormat {
    id: "biblatex",
    label: "BibLaTeX",
    media_type: "application/x-bibtex; charset=utf-8",
    extension: "bib",
    writer: |ctx| Box::new(BibWriter::new(ctx, Dialect::Biblatex)),
    list_may_be_empty: true,
    oai: None,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Bibtex,
    Biblatex,
}

/// Writes `.bib` entries; keeps the keys it has given out.
pub struct BibWriter {
    ctx: ExportContext,
    dialect: Dialect,
    keys: KeySet,
    entry: String,
}

impl BibWriter {
    pub fn new(ctx: &ExportContext, dialect: Dialect) -> Self {
        BibWriter { ctx: ctx.clone(), dialect, keys: KeySet::default(), entry: String::with_capacity(4096) }
    }
}

/// The citation keys one export has given out (BibTeX keys, CSL-JSON ids),
/// so that no two entries share one.
#[derive(Debug, Default)]
pub struct KeySet {
    keys: HashSet<String>,
    /// Per base key, the suffix to try next: a million records by one
    /// author in one year cost one look-up each, not a walk through `a`,
    /// `b`... every time.
    next_suffix: HashMap<String, usize>,
}

impl KeySet {
    /// The key for `record`, unique among the keys given out so far.
    pub fn unique_key(&mut self, record: &Record) -> String {
        let base = record_key(record);
        if self.keys.insert(base.clone()) {
            return base;
        }
        let next = self.next_suffix.entry(base.clone()).or_insert(0);
        loop {
            let candidate = format!("{base}{}", alphabetic_suffix(*next));
            *next += 1;
            if self.keys.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

impl ExportWriter for BibWriter {
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let key = self.keys.unique_key(record);
        let mut entry = std::mem::take(&mut self.entry);
        entry.clear();
        write_entry(record, &key, self.dialect, &self.ctx, &mut entry);
        let result = out.write_all(entry.as_bytes());
        self.entry = entry;
        result
    }
}

/// `a`, `b`... `z`, `aa`, `ab`...: the suffix of the (n+2)th entry with one
/// base key.
fn alphabetic_suffix(mut n: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'a' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII")
}

/// Words too common to name an entry by.
const STOP_WORDS: &[&str] = &[
    "a", "an", "the", "on", "of", "in", "and", "for", "to", "at", "by", "with", "from", "der", "die", "das", "le",
    "la", "les", "el", "il", "un", "une",
];

/// `jaroslewlcz2014kazakhstan-137`: the readable key and the record's id,
/// which no other record of the repository has.
pub fn record_key(record: &Record) -> String {
    match record.id {
        Some(id) => format!("{}-{id}", base_key(record)),
        None => base_key(record),
    }
}

/// `jaroslewlcz2014kazakhstan`: first creator's family name, year, first
/// significant title word, folded to lowercase ASCII.
pub fn base_key(record: &Record) -> String {
    let who = record
        .creators
        .iter()
        .chain(record.editors.iter())
        .map(|c| c.name.family.as_str())
        .find(|f| !f.trim().is_empty())
        .map(ascii_word)
        .or_else(|| record.corp_creators.first().map(|c| ascii_word(c.name.split_whitespace().next().unwrap_or(""))))
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "anon".to_string());
    let year = record.year().map(|y| y.to_string()).unwrap_or_else(|| "nd".to_string());
    let word = record
        .title
        .split(|c: char| c.is_whitespace() || c == '-' || c == '/')
        .map(|w| ascii_word(w.split('\'').next().unwrap_or(w).split('’').next().unwrap_or(w)))
        .find(|w| !w.is_empty() && !STOP_WORDS.contains(&w.as_str()))
        .unwrap_or_default();
    format!("{who}{year}{word}")
}

/// Lowercase ASCII letters and digits of `s`, Latin diacritics folded
/// (`Müller` → `muller`), everything else dropped: key characters every
/// BibTeX implementation accepts.
fn ascii_word(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            continue;
        }
        let folded = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
            'æ' => "ae",
            'ç' | 'ć' | 'č' | 'ĉ' => "c",
            'ď' | 'đ' | 'ð' => "d",
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
            'ğ' | 'ģ' => "g",
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => "i",
            'ķ' => "k",
            'ł' | 'ľ' | 'ļ' | 'ĺ' => "l",
            'ñ' | 'ń' | 'ň' | 'ņ' => "n",
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
            'œ' => "oe",
            'ř' | 'ŕ' => "r",
            'ś' | 'š' | 'ş' | 'ș' => "s",
            'ß' => "ss",
            'ť' | 'ţ' | 'ț' => "t",
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' => "u",
            'ý' | 'ÿ' => "y",
            'ź' | 'ż' | 'ž' => "z",
            'þ' => "th",
            // Cyrillic (Russian, Ukrainian, Belarusian, Kazakh letters),
            // transliterated as passports and library catalogues do
            // (BGN/PCGN-like, without diacritics): a key names the author
            // it cites instead of falling back to `anon`.
            'а' | 'ә' => "a",
            'б' => "b",
            'в' => "v",
            'г' | 'ґ' | 'ғ' => "g",
            'д' => "d",
            'е' | 'ё' | 'э' => "e",
            'є' => "ie",
            'ж' => "zh",
            'з' => "z",
            'и' | 'і' | 'ї' | 'й' => "i",
            'к' => "k",
            'қ' => "q",
            'л' => "l",
            'м' => "m",
            'н' | 'ң' => "n",
            'о' | 'ө' => "o",
            'п' => "p",
            'р' => "r",
            'с' => "s",
            'т' => "t",
            'у' | 'ұ' | 'ү' | 'ў' => "u",
            'ф' => "f",
            'х' => "kh",
            'һ' => "h",
            'ц' => "ts",
            'ч' => "ch",
            'ш' => "sh",
            'щ' => "shch",
            'ы' => "y",
            'ю' => "yu",
            'я' => "ya",
            _ => "",
        };
        out.push_str(folded);
    }
    out
}

/// Escapes LaTeX's special characters, keeping every other character
/// (UTF-8) as it is. Braces become `\textbraceleft{}`, not `\{`: BibTeX
/// counts `\{` as a brace and would find the value unbalanced.
pub fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' => out.push_str("\\textbraceleft{}"),
            '}' => out.push_str("\\textbraceright{}"),
            '%' | '&' | '$' | '#' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '^' => out.push_str("\\^{}"),
            '~' => out.push_str("\\~{}"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape(&fields::one_line(s), &mut out);
    out
}

/// A title with the words whose capitals must survive a style's
/// lowercasing (proper nouns, acronyms: any capital but the title's first
/// letter) in braces: `{Kazakhstan's} attitude towards {Russia}`.
pub fn protected_title(title: &str) -> String {
    let mut out = String::with_capacity(title.len() + 16);
    for (i, word) in title.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let mut caps = word.chars().filter(|c| c.is_uppercase());
        let protect = if i == 0 { word.chars().skip(1).any(char::is_uppercase) } else { caps.next().is_some() };
        if protect {
            // Trailing punctuation stays outside: `{Russia}:`.
            let end = word.rfind(char::is_alphanumeric).map(|i| i + word[i..].chars().next().map_or(1, char::len_utf8));
            let (core, rest) = word.split_at(end.unwrap_or(word.len()));
            out.push('{');
            escape(core, &mut out);
            out.push('}');
            escape(rest, &mut out);
        } else {
            escape(word, &mut out);
        }
    }
    out
}

/// A URL or DOI as BibTeX and biber read them: verbatim, so not escaped,
/// but with the characters that would end or unbalance the value encoded.
fn verbatim(s: &str) -> String {
    s.trim().replace('{', "%7B").replace('}', "%7D").replace('\\', "%5C").replace(char::is_whitespace, "%20")
}

/// One name of a name list: `Family, Given`. The word `and` inside a part
/// is braced (`Pat {and} Sam`) so the list is not split there. A part
/// holding a comma cannot be written in the inverted form (bibtex would
/// split it, biber refuses the entry even with the comma braced), so such
/// a name is written whole in braces, as a corporate name is:
/// `{Jr. O'Brien, Pat}` is better than an entry dropped.
fn person(c: &Creator) -> Option<String> {
    let part = |s: &str| {
        escaped(s)
            .split(' ')
            .map(|w| if w.eq_ignore_ascii_case("and") { format!("{{{w}}}") } else { w.to_string() })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let family = c.name.family.trim();
    if family.is_empty() {
        return None;
    }
    let given = c.name.given.trim();
    Some(if family.contains(',') || given.contains(',') {
        format!("{{{}}}", escaped(format!("{given} {family}").trim()))
    } else if given.is_empty() {
        part(family)
    } else {
        format!("{}, {}", part(family), part(given))
    })
}

fn names(record: &Record, editors: bool) -> Option<String> {
    let mut list: Vec<String> = if editors {
        record.editors.iter().filter_map(person).collect()
    } else {
        record.creators.iter().filter_map(person).collect()
    };
    if !editors {
        // A body as author: braced, so it is never split into given and
        // family names.
        list.extend(
            record
                .corp_creators
                .iter()
                .filter(|c| !c.name.trim().is_empty())
                .map(|c| format!("{{{}}}", escaped(&c.name))),
        );
    }
    (!list.is_empty()).then(|| list.join(" and "))
}

/// Fields biber's data model allows in every BibLaTeX entry type.
const BIBLATEX_GLOBAL: &[&str] = &["abstract", "date", "doi", "eprint", "eprinttype", "keywords", "langid", "url"];

/// Fields biber's data model allows per BibLaTeX entry type (of those this
/// writer writes); others would be dropped by biber with a warning, so they
/// are not written.
fn biblatex_allows(kind: &str, name: &str) -> bool {
    let own: &[&str] = match kind {
        "article" => &[
            "author",
            "editor",
            "issn",
            "issue",
            "journaltitle",
            "note",
            "number",
            "pages",
            "series",
            "title",
            "volume",
        ],
        "book" => &[
            "author",
            "editor",
            "isbn",
            "location",
            "note",
            "number",
            "pages",
            "pagetotal",
            "publisher",
            "series",
            "title",
            "volume",
        ],
        "incollection" => &[
            "author",
            "booktitle",
            "editor",
            "isbn",
            "location",
            "note",
            "number",
            "pages",
            "publisher",
            "series",
            "title",
            "volume",
        ],
        "inproceedings" => &[
            "author",
            "booktitle",
            "editor",
            "eventtitle",
            "isbn",
            "location",
            "note",
            "number",
            "organization",
            "pages",
            "publisher",
            "series",
            "title",
            "volume",
        ],
        "report" => &["author", "institution", "location", "note", "number", "pages", "pagetotal", "title", "type"],
        "thesis" => &["author", "institution", "location", "note", "pages", "pagetotal", "title", "type"],
        "dataset" => {
            &["author", "editor", "location", "note", "number", "organization", "publisher", "series", "title", "type"]
        }
        "patent" => &["author", "location", "note", "number", "title", "type"],
        _ => &["author", "editor", "howpublished", "location", "note", "organization", "title", "type"],
    };
    BIBLATEX_GLOBAL.contains(&name) || own.contains(&name)
}

/// One entry being written: its fields go through the data model of its
/// dialect.
struct EntryOut<'o> {
    out: &'o mut String,
    kind: &'static str,
    dialect: Dialect,
}

impl EntryOut<'_> {
    fn field(&mut self, name: &str, value: &str) {
        if self.dialect == Dialect::Biblatex && !biblatex_allows(self.kind, name) {
            return;
        }
        if self.dialect == Dialect::Biblatex && name == "volume" && !value.bytes().all(|b| b.is_ascii_digit()) {
            // biber wants an integer and drops anything else with a warning.
            return;
        }
        let _ = writeln!(self.out, "  {name} = {{{value}}},");
    }

    fn text(&mut self, name: &str, value: Option<&str>) {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            self.field(name, &escaped(v));
        }
    }
}

/// The entry type and the fields naming the larger work and issuing body,
/// chosen by genre and by which fields the record has.
fn entry_type(record: &Record, dialect: Dialect) -> &'static str {
    let has_container = fields::container(record).is_some();
    let bibtex = dialect == Dialect::Bibtex;
    match Genre::of(record) {
        Genre::Article if has_container => "article",
        Genre::Book => "book",
        Genre::BookSection if has_container => "incollection",
        Genre::Conference if has_container => "inproceedings",
        Genre::Thesis if bibtex && fields::is_masters_thesis(record) => "mastersthesis",
        Genre::Thesis if bibtex => "phdthesis",
        Genre::Thesis => "thesis",
        // `@techreport` (BibTeX) and `@report` (BibLaTeX) require an
        // institution; without one, bibtex warns and styles print a
        // dangling comma, so such a report is a `@misc`, which requires
        // nothing.
        Genre::Report if fields::issuing_body(record).is_none() => "misc",
        Genre::Report if bibtex => "techreport",
        Genre::Report => "report",
        Genre::Dataset if !bibtex => "dataset",
        Genre::Patent if !bibtex && fields::text(&record.id_number).is_some() => "patent",
        _ => "misc",
    }
}

/// One `.bib` entry for `record` under `key`.
pub fn write_entry(record: &Record, key: &str, dialect: Dialect, ctx: &ExportContext, out: &mut String) {
    let kind = entry_type(record, dialect);
    let bibtex = dialect == Dialect::Bibtex;
    let _ = writeln!(out, "@{kind}{{{key},");
    let mut e = EntryOut { out, kind, dialect };
    if let Some(a) = names(record, false) {
        e.field("author", &a);
    }
    if let Some(ed) = names(record, true) {
        e.field("editor", &ed);
    }
    e.field("title", &protected_title(&record.title));
    let container = fields::container(record);
    match kind {
        "article" => e.text(if bibtex { "journal" } else { "journaltitle" }, container),
        "incollection" | "inproceedings" => e.text("booktitle", container),
        "misc" => e.text("howpublished", container.or(fields::text(&record.publisher))),
        _ => {}
    }
    if kind == "inproceedings" && container != fields::text(&record.event_title) {
        e.text(if bibtex { "organization" } else { "eventtitle" }, fields::text(&record.event_title));
    }
    match kind {
        "techreport" | "report" => {
            e.text("institution", fields::issuing_body(record));
            // Styles print `type number`: "OSW Commentary 137".
            let label = fields::text(&record.series)
                .map(str::to_string)
                .unwrap_or_else(|| fields::kind_label(record, &ctx.item_types));
            e.text("type", Some(&label));
        }
        "phdthesis" | "mastersthesis" | "thesis" => {
            e.text(if bibtex { "school" } else { "institution" }, fields::issuing_body(record));
            if !bibtex {
                let level = if fields::is_masters_thesis(record) { "mathesis" } else { "phdthesis" };
                e.field("type", level);
            }
        }
        "misc" => {}
        _ => {
            e.text("publisher", fields::text(&record.publisher));
            if kind != "book" {
                e.text(if bibtex { "institution" } else { "organization" }, fields::text(&record.institution));
            }
        }
    }
    if kind == "book" || kind == "misc" {
        e.text(if bibtex { "institution" } else { "organization" }, fields::text(&record.institution));
    }
    e.text(if bibtex { "address" } else { "location" }, fields::text(&record.place_of_pub));
    if let Some(date) = record.date {
        if bibtex {
            e.field("year", &format!("{:04}", date.year));
            if let Some(m) = date.month {
                // A macro, unbraced: styles print it in their language.
                let _ = writeln!(e.out, "  month = {},", fields::MONTHS[usize::from(m.clamp(1, 12)) - 1]);
            }
        } else {
            e.field("date", &date.to_string());
        }
    }
    e.text("series", fields::text(&record.series));
    e.text("volume", fields::text(&record.volume));
    e.text(
        "number",
        fields::text(&record.number).or(if kind == "patent" { fields::text(&record.id_number) } else { None }),
    );
    if let Some(range) = fields::text(&record.pagerange) {
        let pages = match fields::page_bounds(range) {
            (first, Some(last)) => format!("{}--{}", escaped(&first), escaped(&last)),
            (only, None) => escaped(&only),
        };
        e.field("pages", &pages);
    } else if let Some(count) = fields::text(&record.pages) {
        e.text("pagetotal", Some(count));
    }
    if let Some(doi) = fields::bare_doi(record) {
        e.field("doi", &verbatim(doi));
    }
    e.text("isbn", fields::text(&record.isbn));
    e.text("issn", fields::text(&record.issn));
    if !bibtex {
        if let Some(arxiv) = fields::text(&record.id_number).and_then(|i| i.strip_prefix("arXiv:")) {
            e.field("eprint", &verbatim(arxiv));
            e.field("eprinttype", "arxiv");
        }
        if let Some(lang) = record.languages.first().filter(|l| !l.trim().is_empty()) {
            e.field("langid", &escaped(lang));
        }
    }
    e.field("url", &verbatim(&ctx.record_url(record)));
    e.text("abstract", fields::text(&record.abstract_text));
    let keywords: Vec<&str> = record.keywords.iter().map(|k| k.trim()).filter(|k| !k.is_empty()).collect();
    if !keywords.is_empty() {
        e.field("keywords", &escaped(&keywords.join(", ")));
    }
    e.text("note", fields::text(&record.note));
    out.push_str("}\n\n");
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_run_past_z() {
        assert_eq!(alphabetic_suffix(0), "a");
        assert_eq!(alphabetic_suffix(25), "z");
        assert_eq!(alphabetic_suffix(26), "aa");
        assert_eq!(alphabetic_suffix(27), "ab");
    }

    #[test]
    fn keys_transliterate_cyrillic() {
        let mut r = Record::new("report", "Оборона Казахстана");
        r.creators.push(arkiv_model::Creator::new("Щербакова", "Юлия"));
        r.date = Some(arkiv_model::PartialDate::year(2021));
        assert_eq!(base_key(&r), "shcherbakova2021oborona");
    }

    #[test]
    fn keys_fold_diacritics() {
        let mut r = Record::new("article", "Über die Ökonomie");
        r.creators.push(Creator::new("Müller-Łukasiewicz", "Jan"));
        r.date = Some("2001".parse().unwrap());
        assert_eq!(base_key(&r), "mullerlukasiewicz2001uber");
    }

    #[test]
    fn titles_keep_capitals_in_braces() {
        assert_eq!(protected_title("Kazakhstan's attitude to Russia"), "Kazakhstan's attitude to {Russia}");
        assert_eq!(protected_title("DNA & 50% of R_x"), "{DNA} \\& 50\\% of {R\\_x}");
    }
}
