//! Stemming by script: a token in Cyrillic letters goes through the Russian
//! Snowball stemmer, any other through the English one.
//!
//! Records carry languages, but a query does not say which language its
//! words are in, and titles mix languages (an English paper on
//! "Евразийский союз"). The script is known per token, and Cyrillic is,
//! in this repository's material, overwhelmingly Russian; Latin-script
//! words of other languages (Polish, German, French) get the English
//! stemmer, which mostly strips nothing from them, and are matched exactly
//! or by accent-folded form through the unstemmed fields.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Words kept in each thread's stem cache before it starts afresh (about
/// 100 bytes a word, so 5 MB a thread; searches run on a pool of threads,
/// each with its own). Word frequencies follow Zipf's law, so a small cache
/// answers most tokens of real text: the Snowball algorithms were a quarter
/// of the indexing thread's time, and a hit costs one hash lookup and no
/// allocation.
const STEM_CACHE_WORDS: usize = 50_000;

thread_local! {
    /// Word (lower-cased, folded as the tokens arrive) to its stem.
    static STEM_CACHE: RefCell<FxHashMap<String, String>> = RefCell::new(FxHashMap::default());
}

type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<rustc_hash::FxHasher>>;

/// The two Snowball stemmers, behind the thread's cache.
pub struct Stems {
    english: frostem::Stemmer,
    russian: frostem::Stemmer,
}

impl Default for Stems {
    fn default() -> Self {
        Self::new()
    }
}

impl Stems {
    pub fn new() -> Self {
        Stems {
            english: frostem::Stemmer::new(frostem::Algorithm::English),
            russian: frostem::Stemmer::new(frostem::Algorithm::Russian),
        }
    }

    /// Replaces a word (lower-cased and folded) by its stem.
    pub fn stem(&self, word: &mut String) {
        STEM_CACHE.with_borrow_mut(|cache| {
            if let Some(stem) = cache.get(word.as_str()) {
                word.clear();
                word.push_str(stem);
                return;
            }
            let stemmer = if word.chars().any(is_cyrillic) { &self.russian } else { &self.english };
            let stemmed: String = stemmer.stem(word).into_owned();
            if cache.len() >= STEM_CACHE_WORDS {
                cache.clear();
            }
            cache.insert(std::mem::replace(word, stemmed.clone()), stemmed);
        });
    }
}

/// The filter: English or Russian Snowball stemming by the token's script.
#[derive(Clone, Copy, Debug, Default)]
pub struct ScriptStemmer;

impl TokenFilter for ScriptStemmer {
    type Tokenizer<T: Tokenizer> = ScriptStemmerFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> ScriptStemmerFilter<T> {
        ScriptStemmerFilter { inner: tokenizer }
    }
}

#[derive(Clone)]
pub struct ScriptStemmerFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for ScriptStemmerFilter<T> {
    type TokenStream<'a> = ScriptStemmerStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        ScriptStemmerStream { tail: self.inner.token_stream(text), stems: Stems::new() }
    }
}

pub struct ScriptStemmerStream<T> {
    tail: T,
    stems: Stems,
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}')
}

impl<T: TokenStream> TokenStream for ScriptStemmerStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        self.stems.stem(&mut self.tail.token_mut().text);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}
