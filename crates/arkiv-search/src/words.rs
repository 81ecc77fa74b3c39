//! Splitting text into words, for every script.
//!
//! As tantivy's `SimpleTokenizer`: a word is a run of letters and digits
//! (Unicode's alphanumerics, so Cyrillic, Greek, Arabic, Hebrew, Devanagari
//! are words as they are) — except in the scripts written without spaces
//! (Han, Hiragana, Katakana, Hangul syllables, Thai, Lao, Khmer, Myanmar,
//! Tibetan), where each character is its own token. A query word in those
//! scripts then holds several tokens and is searched as a phrase of them
//! (see [`crate::query`]), which finds the sequence wherever it stands: the
//! usual unigram approach when no dictionary segmenter is at hand.

use std::str::CharIndices;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

#[derive(Clone, Default)]
pub struct WordTokenizer {
    token: Token,
}

pub struct WordTokenStream<'a> {
    text: &'a str,
    chars: std::iter::Peekable<CharIndices<'a>>,
    token: &'a mut Token,
}

/// Whether `c` belongs to a script written without spaces between words.
pub fn is_unspaced(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'   // Thai, Lao
        | '\u{0F00}'..='\u{0FFF}' // Tibetan
        | '\u{1000}'..='\u{109F}' // Myanmar
        | '\u{1780}'..='\u{17FF}' // Khmer
        | '\u{2E80}'..='\u{2FDF}' // CJK radicals
        | '\u{3040}'..='\u{30FF}' // Hiragana, Katakana
        | '\u{3100}'..='\u{31FF}' // Bopomofo, Katakana extensions
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified
        | '\u{AC00}'..='\u{D7AF}' // Hangul syllables
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility
        | '\u{FF66}'..='\u{FF9F}' // half-width Katakana
        | '\u{20000}'..='\u{3134F}' // CJK extensions B–G
    )
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordTokenStream<'a> {
        self.token.reset();
        WordTokenStream { text, chars: text.char_indices().peekable(), token: &mut self.token }
    }
}

impl TokenStream for WordTokenStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        self.token.position = self.token.position.wrapping_add(1);
        while let Some((from, c)) = self.chars.next() {
            if !c.is_alphanumeric() {
                continue;
            }
            let mut to = from + c.len_utf8();
            if !is_unspaced(c) {
                while let Some(&(i, n)) = self.chars.peek() {
                    if !n.is_alphanumeric() || is_unspaced(n) {
                        break;
                    }
                    to = i + n.len_utf8();
                    self.chars.next();
                }
            }
            self.token.offset_from = from;
            self.token.offset_to = to;
            self.token.text.push_str(&self.text[from..to]);
            return true;
        }
        false
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        let mut t = WordTokenizer::default();
        let mut st = t.token_stream(s);
        let mut out = Vec::new();
        while st.advance() {
            out.push(st.token().text.clone());
        }
        out
    }

    #[test]
    fn spaced_and_unspaced_scripts() {
        assert_eq!(words("Kazakhstan's attitude, 2014!"), ["Kazakhstan", "s", "attitude", "2014"]);
        assert_eq!(words("Интеграция России"), ["Интеграция", "России"]);
        assert_eq!(words("日本語のテキストABC"), ["日", "本", "語", "の", "テ", "キ", "ス", "ト", "ABC"]);
        assert_eq!(words("한국어 정책"), ["한", "국", "어", "정", "책"]);
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("::"), Vec::<String>::new());
    }
}
