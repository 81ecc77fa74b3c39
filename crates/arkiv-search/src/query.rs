//! The query language, and a parser that accepts anything.
//!
//! Tantivy's own `QueryParser` rejects unbalanced quotes and parentheses,
//! unknown fields and stray operators, and its lenient mode drops what it
//! does not understand without saying so. Visitors paste titles with colons,
//! DOIs with slashes and half-closed quotes, so Arkiv parses its own small
//! language here and turns *every* input into a query plus warnings that
//! tell the visitor what was read differently from what they typed:
//!
//! - words, all of which must match somewhere (`Kazakhstan Russia`); if no
//!   record has them all, the search is repeated with any of them (see
//!   [`ParsedQuery::relaxed`]);
//! - `"phrases"` (an unclosed quote runs to the end);
//! - `field:word`, `field:"a phrase"`, `field:(a OR b)` with the fields of
//!   [`FIELD_NAMES`]; `year:2014`, `year:2010..2014`, `year:2010-2014`,
//!   `year:..2000`; `type:policy_paper`; `lang:ru`. An unknown field name is
//!   part of the word (`http://…`, `10.1000/x:y` are searched as written);
//! - `AND`, `OR`, `NOT` (upper case; also `&&`, `||`, `-word`, `!word`),
//!   parentheses; AND binds tighter than OR, adjacency means AND;
//! - `integr*`: words starting with `integr` (at least two letters first).
//!
//! Bounds: the input is cut to [`MAX_QUERY_CHARS`], at most [`MAX_ATOMS`]
//! words are searched, parentheses nest at most [`MAX_DEPTH`] deep; control
//! characters are spaces. A word that holds several tokens once analysed
//! (`Kazakhstan's`, `10.1103/PhysRevD.76.013009`) is searched as a phrase of
//! them, which is how DOIs and hyphenated names are found.
//!
//! Parsing ([`parse`]) is pure and never fails; compiling to a tantivy query
//! ([`Compiler`]) happens in [`crate::SearchIndex::search`].

use crate::schema::{fold_analyzer, stem_analyzer, Fields};
use std::ops::Bound;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, RegexQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::Term;

/// Input beyond this many characters is ignored (with a warning).
pub const MAX_QUERY_CHARS: usize = 1000;
/// At most this many words and phrases are searched.
pub const MAX_ATOMS: usize = 32;
/// Parentheses nest at most this deep.
pub const MAX_DEPTH: usize = 8;
/// A prefix needs at least this many characters before the `*`.
pub const MIN_PREFIX_CHARS: usize = 2;

/// Where a word is looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Any,
    Title,
    Creator,
    Abstract,
    Subject,
    Series,
    Ident,
    FullText,
}

/// Field names a visitor may write before a colon, and what they mean.
pub const FIELD_NAMES: &[(&str, FieldName)] = &[
    ("title", FieldName::Text(Target::Title)),
    ("creator", FieldName::Text(Target::Creator)),
    ("author", FieldName::Text(Target::Creator)),
    ("editor", FieldName::Text(Target::Creator)),
    ("abstract", FieldName::Text(Target::Abstract)),
    ("subject", FieldName::Text(Target::Subject)),
    ("keyword", FieldName::Text(Target::Subject)),
    ("keywords", FieldName::Text(Target::Subject)),
    ("series", FieldName::Text(Target::Series)),
    ("doi", FieldName::Text(Target::Ident)),
    ("isbn", FieldName::Text(Target::Ident)),
    ("issn", FieldName::Text(Target::Ident)),
    ("id", FieldName::Text(Target::Ident)),
    ("fulltext", FieldName::Text(Target::FullText)),
    ("text", FieldName::Text(Target::FullText)),
    ("type", FieldName::Type),
    ("year", FieldName::Year),
    ("lang", FieldName::Language),
    ("language", FieldName::Language),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldName {
    Text(Target),
    Type,
    Year,
    Language,
}

fn field_name(s: &str) -> Option<FieldName> {
    FIELD_NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(s)).map(|(_, f)| *f)
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Word { target: Target, text: String, prefix: bool },
    Phrase { target: Target, text: String },
    Year { from: Option<i64>, to: Option<i64> },
    Type(String),
    Language(String),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

/// What [`parse`] makes of an input.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedQuery {
    /// `None`: the input asks for nothing (empty, or only punctuation), which
    /// [`crate::SearchIndex::search`] takes as "every record".
    pub node: Option<Node>,
    /// Messages for the visitor about what was read differently.
    pub warnings: Vec<String>,
}

impl ParsedQuery {
    /// For a query of plain words joined by adjacency only: the same words
    /// joined by OR, tried when no record has them all.
    pub fn relaxed(&self) -> Option<Node> {
        match &self.node {
            Some(Node::And(items))
                if items.len() > 1
                    && items.iter().all(|n| {
                        matches!(n, Node::Word { target: Target::Any, .. } | Node::Phrase { target: Target::Any, .. })
                    }) =>
            {
                Some(Node::Or(items.clone()))
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Phrase(String),
    Word(String),
    Field(FieldName, String),
    And,
    Or,
    Not,
}

fn is_quote(c: char) -> bool {
    matches!(c, '"' | '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}')
}

fn is_word_char(c: char) -> bool {
    !(c.is_whitespace() || c == '(' || c == ')' || is_quote(c))
}

fn lex(input: &str, warnings: &mut Vec<String>) -> Vec<Tok> {
    let chars: Vec<char> = input.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            toks.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            toks.push(Tok::RParen);
            i += 1;
        } else if is_quote(c) {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && !is_quote(chars[j]) {
                j += 1;
            }
            if j >= chars.len() {
                warnings.push("A quotation mark was not closed: the phrase runs to the end of the query.".into());
            }
            toks.push(Tok::Phrase(chars[start..j.min(chars.len())].iter().collect()));
            i = j + 1;
        } else {
            let start = i;
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            match word.as_str() {
                "AND" | "&&" | "&" => toks.push(Tok::And),
                "OR" | "||" | "|" => toks.push(Tok::Or),
                "NOT" => toks.push(Tok::Not),
                _ => {
                    let mut w = word.as_str();
                    // `-word` excludes; a dash standing alone (a pasted
                    // "Title - Subtitle") or before punctuation (`-->`) is
                    // just a dash, and `+-J` is a word.
                    let second_is_alnum = w.chars().nth(1).is_some_and(|c| c.is_alphanumeric() || is_quote(c));
                    if (w.starts_with('-') || w.starts_with('!')) && second_is_alnum {
                        toks.push(Tok::Not);
                        w = &w[1..];
                    }
                    while let Some(rest) = w.strip_prefix('+') {
                        w = rest;
                    }
                    if let Some((name, rest)) = w.split_once(':') {
                        if let Some(f) = field_name(name) {
                            toks.push(Tok::Field(f, name.to_lowercase()));
                            if !rest.is_empty() {
                                toks.push(Tok::Word(rest.to_string()));
                            }
                            continue;
                        }
                    }
                    if !w.is_empty() {
                        toks.push(Tok::Word(w.to_string()));
                    }
                }
            }
        }
    }
    toks
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    atoms: usize,
    warnings: Vec<String>,
    warned_atoms: bool,
    warned_depth: bool,
}

/// Parses anything; never fails, never panics.
pub fn parse(input: &str) -> ParsedQuery {
    let mut warnings = Vec::new();
    let input = if input.chars().count() > MAX_QUERY_CHARS {
        warnings.push(format!("The query was cut to its first {MAX_QUERY_CHARS} characters."));
        let end = input.char_indices().nth(MAX_QUERY_CHARS).map(|(i, _)| i).unwrap_or(input.len());
        &input[..end]
    } else {
        input
    };
    let toks = lex(input, &mut warnings);
    let mut p = Parser { toks, pos: 0, atoms: 0, warnings, warned_atoms: false, warned_depth: false };
    let mut parts = Vec::new();
    loop {
        if let Some(n) = p.parse_or(Target::Any, 0) {
            parts.push(n);
        }
        match p.peek() {
            None => break,
            Some(Tok::RParen) => {
                p.pos += 1;
                p.warnings.push("A closing parenthesis had no opening one and was ignored.".into());
            }
            // Unreachable (parse_or stops only at the end or at `)`), but a
            // parser that must terminate on any input always moves on.
            Some(_) => p.pos += 1,
        }
    }
    let node = match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Node::And(parts)),
    };
    let node = node.map(simplify);
    ParsedQuery { node, warnings: p.warnings }
}

fn simplify(n: Node) -> Node {
    match n {
        Node::And(mut v) if v.len() == 1 => simplify(v.pop().expect("one")),
        Node::Or(mut v) if v.len() == 1 => simplify(v.pop().expect("one")),
        Node::And(v) => Node::And(v.into_iter().map(simplify).collect()),
        Node::Or(v) => Node::Or(v.into_iter().map(simplify).collect()),
        Node::Not(b) => Node::Not(Box::new(simplify(*b))),
        other => other,
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn parse_or(&mut self, target: Target, depth: usize) -> Option<Node> {
        let mut alts = Vec::new();
        if let Some(n) = self.parse_and(target, depth) {
            alts.push(n);
        }
        while let Some(Tok::Or) = self.peek() {
            self.pos += 1;
            if let Some(n) = self.parse_and(target, depth) {
                alts.push(n);
            }
        }
        match alts.len() {
            0 => None,
            1 => alts.pop(),
            _ => Some(Node::Or(alts)),
        }
    }

    fn parse_and(&mut self, target: Target, depth: usize) -> Option<Node> {
        let mut items = Vec::new();
        loop {
            match self.peek() {
                None | Some(Tok::Or) | Some(Tok::RParen) => break,
                Some(Tok::And) => {
                    self.pos += 1;
                }
                Some(_) => {
                    if let Some(n) = self.parse_unary(target, depth) {
                        items.push(n);
                    }
                }
            }
        }
        match items.len() {
            0 => None,
            1 => items.pop(),
            _ => Some(Node::And(items)),
        }
    }

    fn parse_unary(&mut self, target: Target, depth: usize) -> Option<Node> {
        let mut negate = false;
        while let Some(Tok::Not) = self.peek() {
            self.pos += 1;
            negate = !negate;
        }
        match self.peek() {
            None | Some(Tok::Or) | Some(Tok::RParen) | Some(Tok::And) => return None,
            _ => {}
        }
        let n = self.parse_primary(target, depth)?;
        Some(if negate { Node::Not(Box::new(n)) } else { n })
    }

    fn atom(&mut self) -> bool {
        if self.atoms >= MAX_ATOMS {
            if !self.warned_atoms {
                self.warned_atoms = true;
                self.warnings.push(format!("Only the first {MAX_ATOMS} words of the query were searched."));
            }
            return false;
        }
        self.atoms += 1;
        true
    }

    fn parse_primary(&mut self, target: Target, depth: usize) -> Option<Node> {
        match self.next()? {
            Tok::LParen => {
                if depth >= MAX_DEPTH {
                    if !self.warned_depth {
                        self.warned_depth = true;
                        self.warnings
                            .push(format!("Parentheses nest at most {MAX_DEPTH} deep; deeper ones were ignored."));
                    }
                    return None;
                }
                let inner = self.parse_or(target, depth + 1);
                match self.peek() {
                    Some(Tok::RParen) => self.pos += 1,
                    _ => self.warnings.push("A parenthesis was not closed: it was closed at the end.".into()),
                }
                inner
            }
            Tok::RParen | Tok::And | Tok::Or | Tok::Not => None,
            Tok::Phrase(text) => {
                if text.trim().is_empty() || !self.atom() {
                    return None;
                }
                Some(Node::Phrase { target, text })
            }
            Tok::Word(w) => self.word(target, w),
            Tok::Field(f, name) => {
                // The value: the next word, phrase or group.
                match self.peek() {
                    Some(Tok::Word(_)) | Some(Tok::Phrase(_)) | Some(Tok::LParen) => {}
                    _ => {
                        self.warnings.push(format!("`{name}:` needs something after it; it was ignored."));
                        return None;
                    }
                }
                match f {
                    FieldName::Text(t) => self.parse_primary(if target == Target::Any { t } else { target }, depth),
                    FieldName::Year | FieldName::Type | FieldName::Language => {
                        let value = match self.next() {
                            Some(Tok::Word(w)) | Some(Tok::Phrase(w)) => w,
                            _ => {
                                // A group after year:/type:/lang: is not supported: skip it.
                                self.skip_group();
                                self.warnings
                                    .push(format!("`{name}:` takes one value; the group after it was ignored."));
                                return None;
                            }
                        };
                        if !self.atom() {
                            return None;
                        }
                        match f {
                            FieldName::Year => match parse_years(&value) {
                                Some((from, to)) => Some(Node::Year { from, to }),
                                None => {
                                    self.warnings.push(format!(
                                        "`year:{value}` is not a year or a range such as 2010..2014; it was ignored."
                                    ));
                                    None
                                }
                            },
                            FieldName::Type => {
                                let v = value.trim().to_lowercase().replace([' ', '-'], "_");
                                (!v.is_empty()).then_some(Node::Type(v))
                            }
                            _ => {
                                let v = value.trim().to_lowercase();
                                (!v.is_empty()).then_some(Node::Language(v))
                            }
                        }
                    }
                }
            }
        }
    }

    fn skip_group(&mut self) {
        let mut depth = 0usize;
        while let Some(t) = self.next() {
            match t {
                Tok::LParen => depth += 1,
                Tok::RParen => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return;
                    }
                }
                _ if depth == 0 => return,
                _ => {}
            }
        }
    }

    fn word(&mut self, target: Target, w: String) -> Option<Node> {
        let (text, prefix) = match w.strip_suffix('*') {
            Some(stem) => {
                let stem = stem.trim_end_matches('*');
                let letters = stem.chars().filter(|c| c.is_alphanumeric()).count();
                if letters < MIN_PREFIX_CHARS {
                    self.warnings.push(format!(
                        "`{w}`: a prefix needs at least {MIN_PREFIX_CHARS} letters before the *; searched as a word."
                    ));
                    (stem.to_string(), false)
                } else {
                    (stem.to_string(), true)
                }
            }
            None => (w, false),
        };
        if !text.chars().any(|c| c.is_alphanumeric()) {
            return None;
        }
        if !self.atom() {
            return None;
        }
        Some(Node::Word { target, text, prefix })
    }
}

/// `2014`, `2010..2014`, `2010-2014`, `..2000`, `2000..`, `>=2000`, `<2000`.
pub fn parse_years(s: &str) -> Option<(Option<i64>, Option<i64>)> {
    let s = s.trim();
    let year = |t: &str| -> Option<Option<i64>> {
        let t = t.trim();
        if t.is_empty() || t == "*" {
            return Some(None);
        }
        if t.len() > 4 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok().map(Some)
    };
    if let Some(rest) = s.strip_prefix(">=") {
        return Some((year(rest)?, None)).filter(|r| r.0.is_some());
    }
    if let Some(rest) = s.strip_prefix("<=") {
        return Some((None, year(rest)?)).filter(|r| r.1.is_some());
    }
    if let Some(rest) = s.strip_prefix('>') {
        return Some((year(rest)?.map(|y| y + 1), None)).filter(|r| r.0.is_some());
    }
    if let Some(rest) = s.strip_prefix('<') {
        return Some((None, year(rest)?.map(|y| y - 1))).filter(|r| r.1.is_some());
    }
    let (a, b) = if let Some((a, b)) = s.split_once("..") {
        (a, b)
    } else if let Some((a, b)) = s.split_once('-') {
        (a, b)
    } else {
        let y = year(s)??;
        return Some((Some(y), Some(y)));
    };
    let (from, to) = (year(a)?, year(b)?);
    if from.is_none() && to.is_none() {
        return None;
    }
    match (from, to) {
        (Some(f), Some(t)) if f > t => Some((Some(t), Some(f))),
        r => Some(r),
    }
}

/// Turns parsed queries into tantivy queries for one index's fields.
pub struct Compiler<'a> {
    fields: &'a Fields,
    fold: TextAnalyzer,
    stem: TextAnalyzer,
    /// Phrases searched by their word pairs (see [`crate::pairs`]); off
    /// for highlighting, which needs the words of the fields themselves.
    pairs: bool,
}

#[derive(Clone, Copy)]
enum Analysis {
    Fold,
    Stem,
}

impl<'a> Compiler<'a> {
    pub fn new(fields: &'a Fields) -> Self {
        Compiler { fields, fold: fold_analyzer(), stem: stem_analyzer(), pairs: true }
    }

    /// A compiler whose queries name the words of the stored fields, for
    /// [`tantivy::snippet::SnippetGenerator`]: phrases stay phrases.
    pub fn for_highlighting(fields: &'a Fields) -> Self {
        Compiler { pairs: false, ..Compiler::new(fields) }
    }

    /// How a phrase (two or more tokens) is searched in `field`: by the
    /// pairs field beside it, or not at all for the unstemmed twins of the
    /// title and abstract (their stemmed pairs already find every exact
    /// form), or (`Some(None)`, when highlighting) by positions.
    fn phrase_by_pairs(&self, field: Field) -> Option<Option<Field>> {
        let f = self.fields;
        if !self.pairs {
            return Some(None);
        }
        match field {
            x if x == f.title => Some(Some(f.title_pairs)),
            x if x == f.abstract_ => Some(Some(f.abstract_pairs)),
            x if x == f.fulltext => Some(Some(f.fulltext_pairs)),
            x if x == f.creator => Some(Some(f.creator_pairs)),
            x if x == f.subject => Some(Some(f.subject_pairs)),
            x if x == f.series => Some(Some(f.series_pairs)),
            x if x == f.ident => Some(Some(f.ident_pairs)),
            // title_x and abstract_x (every field a target searches is
            // above or one of these).
            _ => None,
        }
    }

    /// The fields a target searches, how each is analysed, and its boost.
    fn fields_of(&self, target: Target) -> Vec<(Field, Analysis, f32)> {
        let f = self.fields;
        use Analysis::*;
        match target {
            Target::Any => vec![
                (f.title, Stem, 2.0),
                (f.title_x, Fold, 3.0),
                (f.creator, Fold, 3.0),
                (f.abstract_, Stem, 1.0),
                (f.abstract_x, Fold, 1.0),
                (f.subject, Stem, 1.5),
                (f.series, Fold, 1.5),
                (f.ident, Fold, 5.0),
                (f.fulltext, Stem, 0.5),
            ],
            Target::Title => vec![(f.title, Stem, 1.0), (f.title_x, Fold, 1.5)],
            Target::Creator => vec![(f.creator, Fold, 1.0)],
            Target::Abstract => vec![(f.abstract_, Stem, 1.0), (f.abstract_x, Fold, 1.5)],
            Target::Subject => vec![(f.subject, Stem, 1.0)],
            Target::Series => vec![(f.series, Fold, 1.0)],
            Target::Ident => vec![(f.ident, Fold, 1.0)],
            Target::FullText => vec![(f.fulltext, Stem, 1.0)],
        }
    }

    fn tokens(&mut self, a: Analysis, text: &str) -> Vec<String> {
        let analyzer = match a {
            Analysis::Fold => &mut self.fold,
            Analysis::Stem => &mut self.stem,
        };
        let mut out = Vec::new();
        let mut stream = analyzer.token_stream(text);
        while stream.advance() {
            out.push(stream.token().text.clone());
            if out.len() >= 64 {
                break;
            }
        }
        out
    }

    /// The tantivy query for a node; `None` when it can match nothing
    /// meaningful (a word of punctuation only).
    pub fn compile(&mut self, node: &Node) -> Option<Box<dyn Query>> {
        match node {
            Node::Word { target, text, prefix } => self.text_query(*target, text, *prefix),
            Node::Phrase { target, text } => self.text_query(*target, text, false),
            Node::Year { from, to } => {
                let b = |y: &Option<i64>, incl: bool| match y {
                    Some(y) => {
                        let t = Term::from_field_i64(self.fields.year, *y);
                        if incl {
                            Bound::Included(t)
                        } else {
                            Bound::Excluded(t)
                        }
                    }
                    None => Bound::Unbounded,
                };
                Some(Box::new(RangeQuery::new(b(from, true), b(to, true))))
            }
            Node::Type(t) => Some(facet_query(self.fields.f_type, &[t.as_str()])),
            Node::Language(l) => Some(facet_query(self.fields.f_language, &[l.as_str()])),
            Node::And(items) => {
                let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                let mut positive = false;
                for item in items {
                    match item {
                        Node::Not(inner) => {
                            if let Some(q) = self.compile(inner) {
                                clauses.push((Occur::MustNot, q));
                            }
                        }
                        other => {
                            if let Some(q) = self.compile(other) {
                                clauses.push((Occur::Must, q));
                                positive = true;
                            }
                        }
                    }
                }
                if clauses.is_empty() {
                    return None;
                }
                if !positive {
                    clauses.push((Occur::Must, Box::new(AllQuery)));
                }
                Some(Box::new(BooleanQuery::new(clauses)))
            }
            Node::Or(items) => {
                let clauses: Vec<(Occur, Box<dyn Query>)> =
                    items.iter().filter_map(|n| self.compile(n)).map(|q| (Occur::Should, q)).collect();
                if clauses.is_empty() {
                    None
                } else {
                    Some(Box::new(BooleanQuery::new(clauses)))
                }
            }
            Node::Not(inner) => {
                let q = self.compile(inner)?;
                Some(Box::new(BooleanQuery::new(vec![(Occur::Must, Box::new(AllQuery)), (Occur::MustNot, q)])))
            }
        }
    }

    fn text_query(&mut self, target: Target, text: &str, prefix: bool) -> Option<Box<dyn Query>> {
        let mut alts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, analysis, boost) in self.fields_of(target) {
            let analysis = if prefix { Analysis::Fold } else { analysis };
            let tokens = self.tokens(analysis, text);
            let q: Option<Box<dyn Query>> = if prefix {
                prefix_query(field, &tokens)
            } else {
                match tokens.len() {
                    0 => None,
                    1 => Some(Box::new(TermQuery::new(
                        Term::from_field_text(field, &tokens[0]),
                        IndexRecordOption::WithFreqs,
                    ))),
                    _ => match self.phrase_by_pairs(field) {
                        None => None,
                        // Only for highlighting (never run: the index keeps
                        // no positions).
                        Some(None) => Some(Box::new(PhraseQuery::new(
                            tokens.iter().map(|t| Term::from_field_text(field, t)).collect(),
                        ))),
                        Some(Some(pairs)) => Some(pairs_query(pairs, &tokens)),
                    },
                }
            };
            if let Some(q) = q {
                alts.push((Occur::Should, if boost == 1.0 { q } else { Box::new(BoostQuery::new(q, boost)) }));
            }
        }
        match alts.len() {
            0 => None,
            1 => alts.pop().map(|(_, q)| q),
            _ => Some(Box::new(BooleanQuery::new(alts))),
        }
    }
}

/// A phrase as the conjunction of its word pairs.
fn pairs_query(field: Field, tokens: &[String]) -> Box<dyn Query> {
    let mut terms: Vec<Box<dyn Query>> = tokens
        .windows(2)
        .map(|w| {
            Box::new(TermQuery::new(
                Term::from_field_text(field, &crate::pairs::pair(&w[0], &w[1])),
                // As the pairs fields are indexed: without frequencies.
                IndexRecordOption::Basic,
            )) as Box<dyn Query>
        })
        .collect();
    if terms.len() == 1 {
        return terms.pop().expect("one pair");
    }
    Box::new(BooleanQuery::new(terms.into_iter().map(|q| (Occur::Must, q)).collect()))
}

/// Records under a facet path (or any of its descendants).
pub fn facet_query(field: Field, path: &[&str]) -> Box<dyn Query> {
    let facet = crate::schema::facet_of(path.iter().copied());
    Box::new(TermQuery::new(Term::from_facet(field, &facet), IndexRecordOption::Basic))
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if !c.is_alphanumeric() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `integr*`: the last token as a prefix, the tokens before it as a phrase.
fn prefix_query(field: Field, tokens: &[String]) -> Option<Box<dyn Query>> {
    let (last, before) = tokens.split_last()?;
    let regex: Box<dyn Query> = Box::new(RegexQuery::from_pattern(&format!("{}.*", regex_escape(last)), field).ok()?);
    if before.is_empty() {
        return Some(regex);
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, regex)];
    for t in before {
        clauses.push((
            Occur::Must,
            Box::new(TermQuery::new(Term::from_field_text(field, t), IndexRecordOption::WithFreqs)),
        ));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(t: &str) -> Node {
        Node::Word { target: Target::Any, text: t.into(), prefix: false }
    }

    #[test]
    fn plain_words_are_anded() {
        let p = parse("Kazakhstan Russia integration");
        assert_eq!(p.node, Some(Node::And(vec![w("Kazakhstan"), w("Russia"), w("integration")])));
        assert!(p.warnings.is_empty());
        assert!(p.relaxed().is_some());
    }

    #[test]
    fn fields_operators_and_groups() {
        let p = parse("title:\"less love\" AND (creator:Jaroslewlcz OR -russia) year:2010..2014 type:policy_paper");
        let Some(Node::And(items)) = p.node else { panic!("{:?}", p.node) };
        assert_eq!(items[0], Node::Phrase { target: Target::Title, text: "less love".into() });
        assert_eq!(
            items[1],
            Node::Or(vec![
                Node::Word { target: Target::Creator, text: "Jaroslewlcz".into(), prefix: false },
                Node::Not(Box::new(w("russia")))
            ])
        );
        assert_eq!(items[2], Node::Year { from: Some(2010), to: Some(2014) });
        assert_eq!(items[3], Node::Type("policy_paper".into()));
    }

    #[test]
    fn broken_input_is_read_with_warnings() {
        let p = parse("\"unclosed (phrase");
        assert_eq!(p.node, Some(Node::Phrase { target: Target::Any, text: "unclosed (phrase".into() }));
        assert_eq!(p.warnings.len(), 1);
        let p = parse("((a b");
        assert!(p.node.is_some());
        assert!(!p.warnings.is_empty());
        let p = parse("a ) b");
        assert_eq!(p.node, Some(Node::And(vec![w("a"), w("b")])));
        assert_eq!(parse(":: / ( ) \"\"").node, None);
        assert_eq!(parse("foo:bar").node, Some(w("foo:bar")));
        assert_eq!(parse("http://x.org/a").node, Some(w("http://x.org/a")));
        let p = parse("title:");
        assert_eq!(p.node, None);
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(
            parse("integr*").node,
            Some(Node::Word { target: Target::Any, text: "integr".into(), prefix: true })
        );
        assert!(matches!(parse("a*").node, Some(Node::Word { prefix: false, .. })));
        assert!(!parse(&"x ".repeat(5000)).warnings.is_empty());
        assert!(parse(&"(".repeat(500)).node.is_none());
    }

    #[test]
    fn years() {
        assert_eq!(parse_years("2014"), Some((Some(2014), Some(2014))));
        assert_eq!(parse_years("2014-2010"), Some((Some(2010), Some(2014))));
        assert_eq!(parse_years("..2000"), Some((None, Some(2000))));
        assert_eq!(parse_years(">2000"), Some((Some(2001), None)));
        assert_eq!(parse_years("abc"), None);
        assert_eq!(parse_years(".."), None);
        assert_eq!(parse_years("99999"), None);
    }
}
