//! The index's schema: which fields a record becomes, how their text is
//! analysed, and the record → document mapping.
//!
//! Text is analysed by two analyzers, registered under [`FOLD`] and [`STEM`]:
//! both split on anything that is not a letter or digit (Unicode-aware, so
//! Cyrillic, Greek or Arabic words are words; CJK and other unspaced
//! scripts one character a token, see [`crate::words`]), drop tokens over 64 bytes,
//! lower-case (Unicode) and fold diacritics to ASCII where an ASCII form
//! exists (`Jarosiéwicz` → `jarosiewicz`, `Łódź` → `lodz`; Cyrillic stays
//! Cyrillic). [`STEM`] then stems: Russian Snowball for Cyrillic tokens,
//! English for the others (see [`crate::stem`]). Title and
//! abstract are indexed both ways: the stemmed field finds `integrating`
//! for `integration`, the unstemmed one ranks exact forms higher and serves
//! prefix queries (`integr*`) against real words. Names, series and
//! identifiers are never stemmed. Every field a phrase searches has a twin
//! holding its adjacent word pairs (`title_pairs`, ...; see
//! [`crate::pairs`]), and no field keeps positions.
//!
//! Facets are tantivy facet fields (`/policy_paper`, `/2014`, the subject's
//! path of ids from the root, ...): tantivy indexes every ancestor of a
//! facet path, so filtering on a subject also finds records filed under its
//! descendants, and counting the children of a path drills down the tree.
//!
//! Sorting and cursors use fast fields: `id`, `date_key` (yyyymmdd, with a
//! missing month or day as 00) and `title_key` (the first eight bytes of the
//! folded, lower-cased title: titles that share eight bytes are then ordered
//! by id, which keeps the cursor exact and the order nearly alphabetical).

use arkiv_model::{PartialDate, Record, SubjectTree};
use tantivy::schema::{
    Facet, FacetOptions, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, TextAnalyzer, TextAnalyzerBuilder, Tokenizer,
};
use tantivy::{Index, TantivyDocument};

/// Analyzer name: Unicode words, lower-cased, accents folded.
pub const FOLD: &str = "arkiv_fold";
/// Analyzer name: as [`FOLD`], then English stemming.
pub const STEM: &str = "arkiv_stem";
/// Analyzer names: as [`STEM`] and as [`FOLD`], then adjacent words as
/// pairs (see [`crate::pairs`]).
pub const STEM_PAIRS: &str = "arkiv_stem_pairs";
pub const FOLD_PAIRS: &str = "arkiv_fold_pairs";

/// Bumped whenever the schema or the analysis changes: an index of another
/// version is rebuilt from the store on open. 9: the fast fields'
/// dictionaries written without zstd (an index of 8 may hold blocks this
/// build cannot read).
pub const SCHEMA_VERSION: u32 = 9;

/// The most bytes of extracted full text kept per record.
pub const MAX_FULL_TEXT_BYTES: usize = 2 << 20;

/// Unicode words, long ones dropped, lower-cased, accents folded: what
/// every analyzer starts with.
fn folded_words() -> TextAnalyzerBuilder<impl Tokenizer> {
    TextAnalyzer::builder(crate::words::WordTokenizer::default())
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
}

pub fn fold_analyzer() -> TextAnalyzer {
    folded_words().build()
}

pub fn stem_analyzer() -> TextAnalyzer {
    folded_words().filter(crate::stem::ScriptStemmer).build()
}

pub fn stem_pairs_analyzer() -> TextAnalyzer {
    folded_words().filter(crate::stem::ScriptStemmer).filter(crate::pairs::WordPairs).build()
}

pub fn fold_pairs_analyzer() -> TextAnalyzer {
    folded_words().filter(crate::pairs::WordPairs).build()
}

/// Registers the analyzers an index of this schema needs.
/// They give what the pipelines above give, through a per-thread memo
/// that lets a field's twins reuse its analysis ([`crate::memo`]).
pub fn register_analyzers(index: &Index) {
    use crate::memo::{MemoTokenizer, Output};
    let memo = |output| TextAnalyzer::from(MemoTokenizer::new(output));
    index.tokenizers().register(FOLD, memo(Output::Folded));
    index.tokenizers().register(STEM, memo(Output::Stemmed));
    index.tokenizers().register(STEM_PAIRS, memo(Output::StemmedPairs));
    index.tokenizers().register(FOLD_PAIRS, memo(Output::FoldedPairs));
}

/// The fields, looked up once.
#[derive(Debug, Clone)]
pub struct Fields {
    pub id: Field,
    pub title: Field,
    pub title_x: Field,
    pub creator: Field,
    pub abstract_: Field,
    pub abstract_x: Field,
    /// The word pairs of each field a phrase searches (see
    /// [`crate::pairs`]), analysed as the field is.
    pub title_pairs: Field,
    pub abstract_pairs: Field,
    pub fulltext_pairs: Field,
    pub creator_pairs: Field,
    pub subject_pairs: Field,
    pub series_pairs: Field,
    pub ident_pairs: Field,
    pub subject: Field,
    pub series: Field,
    pub ident: Field,
    pub fulltext: Field,
    pub date_key: Field,
    pub title_key: Field,
    pub year: Field,
    pub f_type: Field,
    pub f_year: Field,
    pub f_subject: Field,
    pub f_creator: Field,
    pub f_series: Field,
    pub f_language: Field,
    pub f_fulltext: Field,
    /// Each division of the record and each of its ancestors, flat (so a
    /// filter on a faculty finds the records of its departments).
    pub f_division: Field,
    /// 1 on a record indexed while the text of one of its files was still
    /// being extracted (see [`crate::text_jobs`]): what finds it again.
    pub text_pending: Field,
}

fn text(analyzer: &str, stored: bool) -> TextOptions {
    let opts = TextOptions::default().set_indexing_options(
        // No positions: phrases are searched by word pairs (see
        // crate::pairs); positions were about 30% of the index.
        TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::WithFreqs),
    );
    if stored {
        opts.set_stored()
    } else {
        opts
    }
}

/// Pairs keep neither positions (that is their point) nor frequencies: a
/// phrase ranks by how rare it is and how short the field, not by how often
/// it recurs in one record. Frequencies cost indexing about 7% and the index
/// about 3% (BENCHMARKS.md), and a phrase repeated in an abstract says
/// little more than the phrase once.
fn pairs_options(analyzer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::Basic),
    )
}

pub fn build_schema() -> Schema {
    let mut b = Schema::builder();
    b.add_u64_field("id", INDEXED | STORED | FAST);
    b.add_text_field("title", text(STEM, true));
    b.add_text_field("title_x", text(FOLD, false));
    b.add_text_field("creator", text(FOLD, false));
    b.add_text_field("abstract", text(STEM, true));
    b.add_text_field("abstract_x", text(FOLD, false));
    b.add_text_field("subject", text(STEM, false));
    b.add_text_field("series", text(FOLD, false));
    b.add_text_field("ident", text(FOLD, false));
    b.add_text_field("fulltext", text(STEM, true));
    for f in ["title_pairs", "abstract_pairs", "fulltext_pairs", "subject_pairs"] {
        b.add_text_field(f, pairs_options(STEM_PAIRS));
    }
    for f in ["creator_pairs", "series_pairs", "ident_pairs"] {
        b.add_text_field(f, pairs_options(FOLD_PAIRS));
    }
    b.add_i64_field("date_key", FAST);
    b.add_u64_field("title_key", FAST);
    b.add_i64_field("year", INDEXED | FAST);
    for f in ["f_type", "f_year", "f_subject", "f_creator", "f_series", "f_language", "f_fulltext", "f_division"] {
        b.add_facet_field(f, FacetOptions::default());
    }
    b.add_u64_field("text_pending", INDEXED);
    b.build()
}

impl Fields {
    pub fn new(schema: &Schema) -> tantivy::Result<Fields> {
        let f = |name: &str| schema.get_field(name);
        Ok(Fields {
            id: f("id")?,
            title: f("title")?,
            title_x: f("title_x")?,
            creator: f("creator")?,
            abstract_: f("abstract")?,
            abstract_x: f("abstract_x")?,
            title_pairs: f("title_pairs")?,
            abstract_pairs: f("abstract_pairs")?,
            fulltext_pairs: f("fulltext_pairs")?,
            creator_pairs: f("creator_pairs")?,
            subject_pairs: f("subject_pairs")?,
            series_pairs: f("series_pairs")?,
            ident_pairs: f("ident_pairs")?,
            subject: f("subject")?,
            series: f("series")?,
            ident: f("ident")?,
            fulltext: f("fulltext")?,
            date_key: f("date_key")?,
            title_key: f("title_key")?,
            year: f("year")?,
            f_type: f("f_type")?,
            f_year: f("f_year")?,
            f_subject: f("f_subject")?,
            f_creator: f("f_creator")?,
            f_series: f("f_series")?,
            f_language: f("f_language")?,
            f_fulltext: f("f_fulltext")?,
            f_division: f("f_division")?,
            text_pending: f("text_pending")?,
        })
    }
}

/// A facet from path segments. Tantivy separates segments by NUL; a NUL
/// inside a value (never legitimate) becomes a space, so one value stays one
/// segment.
pub fn facet_of<I>(parts: I) -> Facet
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    Facet::from_path(parts.into_iter().map(|p| p.as_ref().replace('\0', " ")))
}

/// `2014-05-29` → 20140529; `2014` → 20140000; no date → 0.
pub fn date_key(date: Option<&PartialDate>) -> i64 {
    match date {
        Some(d) => d.year as i64 * 10_000 + d.month.unwrap_or(0) as i64 * 100 + d.day.unwrap_or(0) as i64,
        None => 0,
    }
}

/// The title's sort key: its first eight bytes once folded and lower-cased,
/// words joined by single spaces, big-endian.
pub fn title_key(title: &str) -> u64 {
    let mut analyzer = fold_analyzer();
    let mut stream = analyzer.token_stream(title);
    let mut bytes = Vec::with_capacity(8);
    while bytes.len() < 8 && stream.advance() {
        if !bytes.is_empty() {
            bytes.push(b' ');
        }
        bytes.extend_from_slice(stream.token().text.as_bytes());
    }
    bytes.resize(8, 0);
    u64::from_be_bytes(bytes[..8].try_into().unwrap_or([0; 8]))
}

/// Whether a document's text may be indexed: the same rule as downloads
/// ([`arkiv_model::Document::is_open_access`]).
pub fn document_is_public(doc: &arkiv_model::Document, today: PartialDate) -> bool {
    doc.is_open_access(today)
}

/// A creator's name as indexed and faceted: "Family, Given".
pub fn person_label(c: &arkiv_model::Creator) -> String {
    c.name.inverted()
}

/// Cuts `s` to at most `max` bytes at a character boundary.
pub fn truncate_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Adds `text` to a field and to the field of its word pairs.
fn add_with_pairs(doc: &mut TantivyDocument, field: Field, pairs: Field, text: &str) {
    doc.add_text(field, text);
    doc.add_text(pairs, text);
}

/// The document a record becomes. `full_text` is the extracted text of its
/// public documents (already cut to size by the caller or here).
pub fn record_document(
    fields: &Fields,
    record: &Record,
    id: u64,
    subjects: &SubjectTree,
    full_text: Option<&str>,
) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_u64(fields.id, id);
    doc.add_text(fields.title, &record.title);
    doc.add_text(fields.title_x, &record.title);
    doc.add_text(fields.title_pairs, &record.title);
    for c in record.creators.iter().chain(&record.editors) {
        add_with_pairs(&mut doc, fields.creator, fields.creator_pairs, &format!("{} {}", c.name.family, c.name.given));
    }
    for c in &record.contributors {
        let name = format!("{} {}", c.person.name.family, c.person.name.given);
        add_with_pairs(&mut doc, fields.creator, fields.creator_pairs, &name);
    }
    for c in &record.corp_creators {
        add_with_pairs(&mut doc, fields.creator, fields.creator_pairs, &c.name);
    }
    if let Some(a) = record.abstract_text.as_deref() {
        doc.add_text(fields.abstract_, a);
        doc.add_text(fields.abstract_x, a);
        doc.add_text(fields.abstract_pairs, a);
    }
    for k in &record.keywords {
        add_with_pairs(&mut doc, fields.subject, fields.subject_pairs, k);
    }
    for s in record.subjects.iter().filter(|s| !s.trim().is_empty()) {
        add_with_pairs(&mut doc, fields.subject, fields.subject_pairs, &subjects.path_label(s));
        let path: Vec<String> = {
            let p = subjects.path(s);
            if p.is_empty() {
                vec![s.clone()]
            } else {
                p.iter().map(|s| s.id.clone()).collect()
            }
        };
        doc.add_facet(fields.f_subject, facet_of(path));
    }
    // Divisions: their names are searched as subjects are; the facet holds
    // each division and its ancestors as values of their own.
    let mut divisions: Vec<&str> = Vec::new();
    for d in record.divisions.iter().map(|d| d.trim()).filter(|d| !d.is_empty()) {
        add_with_pairs(&mut doc, fields.subject, fields.subject_pairs, &subjects.path_label(d));
        let path = subjects.path(d);
        if path.is_empty() {
            divisions.push(d);
        }
        divisions.extend(path.iter().map(|s| s.id.as_str()));
    }
    divisions.sort_unstable();
    divisions.dedup();
    for d in divisions {
        doc.add_facet(fields.f_division, facet_of([d]));
    }
    for s in record.series.iter().chain(&record.number).chain(&record.publication).chain(&record.publisher) {
        add_with_pairs(&mut doc, fields.series, fields.series_pairs, s);
    }
    if let Some(s) = record.series.as_deref().filter(|s| !s.trim().is_empty()) {
        doc.add_facet(fields.f_series, facet_of([s.trim()]));
    }
    for i in [&record.doi, &record.isbn, &record.issn, &record.id_number, &record.official_url].into_iter().flatten() {
        add_with_pairs(&mut doc, fields.ident, fields.ident_pairs, i);
    }
    let mut has_text = false;
    if let Some(t) = full_text.filter(|t| !t.trim().is_empty()) {
        let t = truncate_at_char(t, MAX_FULL_TEXT_BYTES);
        doc.add_text(fields.fulltext, t);
        doc.add_text(fields.fulltext_pairs, t);
        has_text = true;
    }
    doc.add_facet(fields.f_fulltext, facet_of([if has_text { "yes" } else { "no" }]));
    doc.add_i64(fields.date_key, date_key(record.date.as_ref()));
    doc.add_u64(fields.title_key, title_key(&record.title));
    if let Some(y) = record.year() {
        doc.add_i64(fields.year, y as i64);
        doc.add_facet(fields.f_year, facet_of([y.to_string()]));
    }
    let item_type = if record.item_type.trim().is_empty() { "other" } else { record.item_type.trim() };
    doc.add_facet(fields.f_type, facet_of([item_type]));
    let mut seen = std::collections::BTreeSet::new();
    for c in &record.creators {
        let label = person_label(c);
        if !label.trim().is_empty() && seen.insert(label.clone()) {
            doc.add_facet(fields.f_creator, facet_of([label]));
        }
    }
    for c in &record.corp_creators {
        if !c.name.trim().is_empty() && seen.insert(c.name.clone()) {
            doc.add_facet(fields.f_creator, facet_of([c.name.trim()]));
        }
    }
    for l in &record.languages {
        let l = l.trim().to_lowercase();
        if !l.is_empty() {
            doc.add_facet(fields.f_language, facet_of([l]));
        }
    }
    doc
}
