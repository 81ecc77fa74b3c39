//! Text analysed once for a field and its twins.
//!
//! A record's title goes into three fields: `title` (stemmed words),
//! `title_x` (folded words, unstemmed) and `title_pairs` (pairs of the
//! stemmed words); its abstract likewise, its names, subjects, series and
//! identifiers into two each. Analysed field by field, every text would be
//! split into words, lower-cased and folded two or three times, and
//! tokenizing was about a fifth of the indexing threads' time (perf,
//! 100,000 records; BENCHMARKS.md has the gain). The analyzers registered
//! on the index therefore share a small per-thread memo: the first field
//! to analyse a text keeps its folded words and their stems, and the twin
//! fields, which tantivy indexes moments later on the same thread, read
//! them from there.
//!
//! The memo is keyed by the text itself (compared byte for byte, not only
//! by hash), and analysis is a pure function of the text, so an entry can
//! never be stale; it is only ever too small, which costs a second
//! analysis, never a wrong token. A test checks that each memo analyzer
//! gives exactly what the plain pipeline of [`crate::schema`] gives.

use crate::pairs::fill_token;
use crate::stem::Stems;
use std::cell::RefCell;
use std::hash::{BuildHasher, BuildHasherDefault};
use std::rc::Rc;
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

/// Texts kept per thread: more than one record's worth (a record has about
/// twenty texts), so that a field's twins find it. With
/// [`MAX_MEMO_TEXT_BYTES`], a thread's memo holds at most 4 MB of text
/// (and about as much again of words); a record's worth is a few KB.
const MEMO_TEXTS: usize = 64;
/// Longer texts (full texts of documents) are analysed without the memo:
/// they would push out everything else and are rarely analysed twice.
const MAX_MEMO_TEXT_BYTES: usize = 64 << 10;

/// What an analyzer gives: the words of a text, folded or stemmed, or the
/// pairs of either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Folded,
    Stemmed,
    FoldedPairs,
    StemmedPairs,
}

/// A list of tokens in one buffer: no allocation per word.
#[derive(Default)]
struct Words {
    text: String,
    /// Per word: end of its text in `text`, position, offsets in the source.
    words: Vec<(u32, u32, u32, u32)>,
}

impl Words {
    fn push(&mut self, text: &str, position: usize, from: usize, to: usize) {
        self.text.push_str(text);
        self.words.push((self.text.len() as u32, position as u32, from as u32, to as u32));
    }

    fn word(&self, i: usize) -> (&str, usize, usize, usize) {
        let start = if i == 0 { 0 } else { self.words[i - 1].0 as usize };
        let (end, position, from, to) = self.words[i];
        (&self.text[start..end as usize], position as usize, from as usize, to as usize)
    }
}

/// One text's analysis: its folded words and their stems.
struct Entry {
    hash: u64,
    text: Box<str>,
    folded: Rc<Words>,
    /// Made when a stemming analyzer first asks.
    stemmed: Option<Rc<Words>>,
}

#[derive(Default)]
struct Memo {
    entries: Vec<Entry>,
    /// Where the next entry goes once the memo is full (oldest first out).
    next: usize,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

type Hasher = BuildHasherDefault<rustc_hash::FxHasher>;

/// An analyzer of the index: the words of [`crate::schema`]'s pipeline,
/// through the memo.
#[derive(Clone)]
pub struct MemoTokenizer {
    output: Output,
    fold: TextAnalyzer,
}

impl MemoTokenizer {
    pub fn new(output: Output) -> Self {
        MemoTokenizer { output, fold: crate::schema::fold_analyzer() }
    }

    fn folded(&mut self, text: &str) -> Words {
        let mut words = Words::default();
        let mut stream = self.fold.token_stream(text);
        while stream.advance() {
            let t = stream.token();
            words.push(&t.text, t.position, t.offset_from, t.offset_to);
        }
        words
    }

    fn words(&mut self, text: &str) -> Rc<Words> {
        let stem = matches!(self.output, Output::Stemmed | Output::StemmedPairs);
        if text.len() > MAX_MEMO_TEXT_BYTES {
            let folded = self.folded(text);
            return Rc::new(if stem { stemmed(&folded) } else { folded });
        }
        let hash = Hasher::default().hash_one(text);
        let found = MEMO.with_borrow_mut(|memo| {
            let entry = memo.entries.iter_mut().find(|e| e.hash == hash && &*e.text == text)?;
            if !stem {
                return Some(entry.folded.clone());
            }
            Some(entry.stemmed.get_or_insert_with(|| Rc::new(stemmed(&entry.folded))).clone())
        });
        if let Some(words) = found {
            return words;
        }
        let folded = Rc::new(self.folded(text));
        let stems = stem.then(|| Rc::new(stemmed(&folded)));
        let entry = Entry { hash, text: text.into(), folded: folded.clone(), stemmed: stems.clone() };
        MEMO.with_borrow_mut(|memo| {
            if memo.entries.len() < MEMO_TEXTS {
                memo.entries.push(entry);
            } else {
                let at = memo.next;
                memo.entries[at] = entry;
                memo.next = (at + 1) % MEMO_TEXTS;
            }
        });
        stems.unwrap_or(folded)
    }
}

fn stemmed(folded: &Words) -> Words {
    let stems = Stems::new();
    let mut out =
        Words { text: String::with_capacity(folded.text.len()), words: Vec::with_capacity(folded.words.len()) };
    let mut word = String::new();
    for i in 0..folded.words.len() {
        let (text, position, from, to) = folded.word(i);
        word.clear();
        word.push_str(text);
        stems.stem(&mut word);
        out.push(&word, position, from, to);
    }
    out
}

impl Tokenizer for MemoTokenizer {
    type TokenStream<'a> = MemoStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MemoStream {
        let pairs = matches!(self.output, Output::FoldedPairs | Output::StemmedPairs);
        MemoStream { words: self.words(text), next: 0, pairs, token: Token::default() }
    }
}

/// The words of one text, or their adjacent pairs (as [`crate::pairs`]
/// makes them: only words at consecutive positions pair up).
pub struct MemoStream {
    words: Rc<Words>,
    next: usize,
    pairs: bool,
    token: Token,
}

impl TokenStream for MemoStream {
    fn advance(&mut self) -> bool {
        let n = self.words.words.len();
        if !self.pairs {
            if self.next >= n {
                return false;
            }
            let (text, position, from, to) = self.words.word(self.next);
            self.next += 1;
            fill_token(&mut self.token, text, None, position, from, to);
            return true;
        }
        while self.next + 1 < n {
            let (first, position, from, _) = self.words.word(self.next);
            let (second, next_position, _, to) = self.words.word(self.next + 1);
            self.next += 1;
            if position + 1 == next_position {
                fill_token(&mut self.token, first, Some(second), position, from, to);
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

#[cfg(test)]
mod tests {
    use super::{MemoTokenizer, Output, MAX_MEMO_TEXT_BYTES};
    use crate::schema;
    use tantivy::tokenizer::{TextAnalyzer, TokenStream};

    fn tokens(mut analyzer: TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    /// Whatever the memo holds and in whatever order the fields ask, each
    /// analyzer gives what the plain pipeline gives: indexing and queries
    /// (which use the plain pipelines) must agree on every term.
    #[test]
    fn memo_analyzers_give_what_the_pipelines_give() {
        let long_word = "x".repeat(80);
        let huge = "integration of the customs union ".repeat(MAX_MEMO_TEXT_BYTES / 20);
        let texts = [
            "Kazakhstan's attitude towards integration with Russia: less love, more fear",
            "Jarosiéwicz, Aleksandra",
            "Евразийский экономический союз и интеграция",
            "Geographical area > Central Asia > Kazakhstan",
            &format!("before {long_word} after the word"),
            "日本語のテキスト and English",
            "",
            "   ",
            "10.1000/182 ISBN 978-3-16-148410-0",
            "OSW Commentary 137",
            &huge,
        ];
        let pipelines = [
            (Output::Folded, schema::fold_analyzer as fn() -> TextAnalyzer),
            (Output::Stemmed, schema::stem_analyzer),
            (Output::FoldedPairs, schema::fold_pairs_analyzer),
            (Output::StemmedPairs, schema::stem_pairs_analyzer),
        ];
        // Twice over, in two orders: first analyses and memo hits both.
        for round in 0..2 {
            for text in texts {
                for i in 0..pipelines.len() {
                    let (output, pipeline) = pipelines[if round == 0 { i } else { pipelines.len() - 1 - i }];
                    let memo = TextAnalyzer::from(MemoTokenizer::new(output));
                    assert_eq!(tokens(memo, text), tokens(pipeline(), text), "{output:?} of {:.40}", text);
                }
            }
        }
    }
}
