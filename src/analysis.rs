//! Text analysis for the full-text index: one tokenizer, `mw`, used at index and at query time, that
//! does the right thing per script.
//!
//! - Han, Hiragana and Katakana runs: each character is folded Traditional -> Simplified (OpenCC tables
//!   through hanconv, character by character so offsets stay exact), then the run is cut into overlapping
//!   character bigrams (a one-character run is one unigram). A query of several Chinese characters becomes
//!   a phrase of bigrams, so it finds exactly the articles containing that string, in either script.
//! - Everything else: runs of letters and digits (Latin, Cyrillic, Hangul, Arabic, ...), lowercased,
//!   with ё folded to е.
//!
//! Deliberately not here yet: stemming and dictionary word segmentation (see README "Non-goals").

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name the tokenizer is registered under.
pub const TOKENIZER: &str = "mw";

/// Longest token kept, in bytes (longer runs are junk such as base64).
const MAX_TOKEN_BYTES: usize = 80;

/// The `mw` tokenizer. Stateless.
#[derive(Debug, Clone, Default)]
pub struct MwTokenizer;

/// The tokens of one text.
pub struct MwTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for MwTokenizer {
    type TokenStream<'a> = MwTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MwTokenStream {
        MwTokenStream {
            tokens: tokenize(text),
            index: 0,
        }
    }
}

impl TokenStream for MwTokenStream {
    fn advance(&mut self) -> bool {
        self.index += 1;
        self.index <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.index - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.index - 1]
    }
}

/// True for characters handled as CJK runs.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF   // Hiragana, Katakana
        | 0x3400..=0x4DBF // CJK Extension A
        | 0x4E00..=0x9FFF // CJK Unified Ideographs
        | 0xF900..=0xFAFF // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F) // Extensions B-F, compatibility supplement
}

/// Folds one Han character Traditional -> Simplified when the mapping is one character.
pub fn fold_han(c: char) -> char {
    if !is_cjk(c) {
        return c;
    }
    let mut buf = [0u8; 4];
    let s: &str = c.encode_utf8(&mut buf);
    let converted = hanconv::t2s(s);
    let mut chars = converted.chars();
    match (chars.next(), chars.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

fn fold_word(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        for l in c.to_lowercase() {
            out.push(if l == 'ё' { 'е' } else { l });
        }
    }
    out
}

/// Tokenizes `text` (see the module doc).
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut position = 0;
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if is_cjk(c) {
            let mut run: Vec<(usize, char)> = Vec::new();
            while let Some(&(i, ch)) = chars.peek() {
                if !is_cjk(ch) {
                    break;
                }
                run.push((i, fold_han(ch)));
                chars.next();
            }
            let end_of = |k: usize| {
                run.get(k + 1)
                    .map_or_else(|| run_end(text, &run), |&(i, _)| i)
            };
            if run.len() == 1 {
                tokens.push(token(run[0].0, end_of(0), position, run[0].1.to_string()));
                position += 1;
            } else {
                for k in 0..run.len() - 1 {
                    let mut s = String::with_capacity(8);
                    s.push(run[k].1);
                    s.push(run[k + 1].1);
                    tokens.push(token(run[k].0, end_of(k + 1), position, s));
                    position += 1;
                }
            }
        } else if c.is_alphanumeric() {
            let mut end = start;
            while let Some(&(i, ch)) = chars.peek() {
                if !ch.is_alphanumeric() || is_cjk(ch) {
                    break;
                }
                end = i + ch.len_utf8();
                chars.next();
            }
            let word = &text[start..end];
            if word.len() <= MAX_TOKEN_BYTES {
                tokens.push(token(start, end, position, fold_word(word)));
                position += 1;
            }
        } else {
            chars.next();
        }
    }
    tokens
}

fn run_end(text: &str, run: &[(usize, char)]) -> usize {
    run.last().map_or(0, |&(i, _)| {
        // The original character's length, not the folded one's.
        i + text[i..].chars().next().map_or(0, char::len_utf8)
    })
}

fn token(from: usize, to: usize, position: usize, text: String) -> Token {
    Token {
        offset_from: from,
        offset_to: to,
        position,
        text,
        position_length: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn words_are_lowercased_and_yo_folded() {
        assert_eq!(
            texts("Taiwan's Ёлка, КИЕВ-2026"),
            ["taiwan", "s", "елка", "киев", "2026"]
        );
    }

    #[test]
    fn cjk_runs_become_folded_bigrams() {
        assert_eq!(texts("臺灣海峽"), ["台湾", "湾海", "海峡"]);
        assert_eq!(texts("台湾海峡"), ["台湾", "湾海", "海峡"]);
        assert_eq!(texts("在 台"), ["在", "台"]);
        assert_eq!(texts("AI技术"), ["ai", "技术"]);
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "x 臺灣海峽";
        let toks = tokenize(text);
        assert_eq!(&text[toks[1].offset_from..toks[1].offset_to], "臺灣");
        assert_eq!(&text[toks[3].offset_from..toks[3].offset_to], "海峽");
        assert_eq!(
            toks.iter().map(|t| t.position).collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
    }

    #[test]
    fn junk_is_dropped() {
        assert!(texts(&"a".repeat(200)).is_empty());
        assert!(texts("  ,,; — !").is_empty());
    }
}
