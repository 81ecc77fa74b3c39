//! Word pairs: a token filter that turns a stream of words into the stream
//! of its adjacent pairs (`less love more` → `less love`, `love more`).
//!
//! Why: a phrase query checks word positions in every record that holds all
//! of its words. For a phrase of common words (`"of the"`, `"and the"`)
//! that is most of the repository, and at 1,000,000 records such a phrase
//! took half a second (BENCHMARKS.md). Indexed as pairs, a two-word phrase
//! is one term whose posting list is exactly the records that hold it, and a
//! longer phrase is the conjunction of its pairs: no positions are read.
//! Every field a phrase searches (title, abstract, full text, names,
//! subjects, series, identifiers) has a pairs field beside it, and no field
//! keeps positions.
//!
//! Pairs are indexed without frequencies (`schema.rs` says why), and the
//! analyzers of the index make them from the memo of the field's words
//! (`memo.rs`) rather than with this filter; the filter is the reference
//! the memo is tested against, and what the pipelines in `schema.rs` use.
//!
//! A longer phrase found by its pairs may, rarely, match a record that
//! holds every pair of the phrase but not the phrase in one piece
//! (`"a b c"` in a record with `a b` and, elsewhere, `b c`): the price of
//! never reading positions.

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Separates the two words of a pair in the term. A space: no token holds
/// one, and the term reads naturally when the index is inspected.
pub const PAIR_SEPARATOR: char = ' ';

/// The pair term of two adjacent (analysed) words.
pub fn pair(first: &str, second: &str) -> String {
    let mut s = String::with_capacity(first.len() + 1 + second.len());
    s.push_str(first);
    s.push(PAIR_SEPARATOR);
    s.push_str(second);
    s
}

/// Makes `token` the word `first`, or the pair `first second`, at
/// `position` and spanning `from..to` of the source (shared with the memo
/// analyzers of `memo.rs`, which must give the same tokens).
pub(crate) fn fill_token(
    token: &mut Token,
    first: &str,
    second: Option<&str>,
    position: usize,
    from: usize,
    to: usize,
) {
    token.text.clear();
    token.text.push_str(first);
    if let Some(second) = second {
        token.text.push(PAIR_SEPARATOR);
        token.text.push_str(second);
    }
    token.position = position;
    token.offset_from = from;
    token.offset_to = to;
    token.position_length = 1;
}

/// The filter: emits one token per pair of adjacent tokens.
#[derive(Clone, Copy, Debug, Default)]
pub struct WordPairs;

impl TokenFilter for WordPairs {
    type Tokenizer<T: Tokenizer> = WordPairsFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> WordPairsFilter<T> {
        WordPairsFilter { inner: tokenizer }
    }
}

#[derive(Clone)]
pub struct WordPairsFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for WordPairsFilter<T> {
    type TokenStream<'a> = WordPairsStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        WordPairsStream { tail: self.inner.token_stream(text), previous: None, token: Token::default() }
    }
}

pub struct WordPairsStream<T> {
    tail: T,
    /// The last word seen: its text, position and start offset.
    previous: Option<(String, usize, usize)>,
    token: Token,
}

impl<T: TokenStream> TokenStream for WordPairsStream<T> {
    fn advance(&mut self) -> bool {
        while self.tail.advance() {
            let word = self.tail.token();
            let adjacent = self.previous.as_ref().filter(|(_, position, _)| position + 1 == word.position);
            if let Some((text, position, from)) = adjacent {
                fill_token(&mut self.token, text, Some(&word.text), *position, *from, word.offset_to);
            }
            let emitted = adjacent.is_some();
            match &mut self.previous {
                Some((text, position, from)) => {
                    text.clear();
                    text.push_str(&word.text);
                    *position = word.position;
                    *from = word.offset_from;
                }
                None => self.previous = Some((word.text.clone(), word.position, word.offset_from)),
            }
            if emitted {
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
    use crate::schema::stem_pairs_analyzer as pairs_analyzer;

    fn pairs(text: &str) -> Vec<String> {
        let mut a = pairs_analyzer();
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            out.push(s.token().text.clone());
        }
        out
    }

    #[test]
    fn adjacent_words_become_pairs_of_their_stems() {
        assert_eq!(pairs("Less love, more fear"), vec!["less love", "love more", "more fear"]);
        assert_eq!(pairs("integrating Russia"), vec!["integr russia"]);
        assert!(pairs("one").is_empty());
        assert!(pairs("").is_empty());
    }
}
