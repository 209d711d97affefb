//! Character classes by Unicode block: the one table of Han, kana and Hangul for every stage.
//!
//! - [`is_han`]: CJK ideographs (URO, extensions A to H, compatibility ideographs) and the two
//!   ideographic signs that stand in Han text (々 U+3005, 〇 U+3007, as in 二〇二四年).
//! - [`is_kana`]: Hiragana, Katakana (with the prolonged sound mark), their phonetic extensions and
//!   half-width Katakana; not the Katakana middle dot (・), which separates words.
//! - [`is_hangul`]: syllables, Jamo and their extensions, compatibility Jamo.
//! - [`is_cjk`]: any of the three: scripts where one character carries roughly a word's worth of text.
//! - [`is_unspaced`]: a wider class for word boundaries: every script written without spaces between
//!   words (the three above, Thai, Lao, Myanmar, Khmer) and the CJK symbols and punctuation that sit
//!   inside such text, so a term match next to one is not inside a word.

/// A Han character (see the module doc).
#[inline]
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'        // Extension A
        | '\u{4E00}'..='\u{9FFF}'      // Unified Ideographs
        | '\u{F900}'..='\u{FAFF}'      // Compatibility Ideographs
        | '\u{20000}'..='\u{2FFFF}'    // Extensions B-F, compatibility supplement
        | '\u{30000}'..='\u{323AF}'    // Extensions G, H
        | '\u{3005}' | '\u{3007}')
}

/// A kana character (see the module doc).
#[inline]
pub fn is_kana(c: char) -> bool {
    matches!(c,
        '\u{3041}'..='\u{309F}'        // Hiragana
        | '\u{30A1}'..='\u{30FA}'      // Katakana
        | '\u{30FC}'..='\u{30FF}'      // prolonged sound mark, iteration marks, digraph
        | '\u{31F0}'..='\u{31FF}'      // Katakana phonetic extensions
        | '\u{FF66}'..='\u{FF9D}') // half-width Katakana
}

/// A Hangul character (see the module doc).
#[inline]
pub fn is_hangul(c: char) -> bool {
    matches!(c,
        '\u{AC00}'..='\u{D7AF}'        // syllables
        | '\u{1100}'..='\u{11FF}'      // Jamo
        | '\u{3130}'..='\u{318F}'      // compatibility Jamo
        | '\u{A960}'..='\u{A97F}'      // Jamo extended A
        | '\u{D7B0}'..='\u{D7FF}') // Jamo extended B
}

/// Han, kana or Hangul.
#[inline]
pub fn is_cjk(c: char) -> bool {
    // Most text is ASCII or Cyrillic: one comparison rules them out.
    c >= '\u{1100}' && (is_han(c) || is_kana(c) || is_hangul(c))
}

/// A character of a script written without spaces between words, or CJK punctuation (see the module
/// doc). Wider than [`is_cjk`] on purpose: it decides where words end, not how text is weighed or cut.
#[inline]
pub fn is_unspaced(c: char) -> bool {
    is_cjk(c)
        || matches!(c,
            '\u{0E00}'..='\u{0EFF}'        // Thai, Lao
            | '\u{1000}'..='\u{109F}'      // Myanmar
            | '\u{1780}'..='\u{17FF}'      // Khmer
            | '\u{2E80}'..='\u{2FDF}'      // CJK and Kangxi radicals
            | '\u{3000}'..='\u{30FF}'      // CJK symbols and punctuation, all of the kana blocks
            | '\u{FF9E}'..='\u{FF9F}') // half-width sound marks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        for c in ['中', '國', '㐀', '𠀀', '々', '〇', '\u{31350}'] {
            assert!(is_han(c) && is_cjk(c) && is_unspaced(c), "{c}");
        }
        for c in ['あ', 'カ', 'ー', 'ｶ', 'ㇰ'] {
            assert!(is_kana(c) && is_cjk(c) && !is_han(c), "{c}");
        }
        for c in ['한', 'ᄀ', 'ㄱ', '\u{A960}', '\u{D7B0}'] {
            assert!(is_hangul(c) && is_cjk(c), "{c}");
        }
        for c in ['a', 'я', 'é', '1', ' ', '・', '。', 'ก'] {
            assert!(!is_cjk(c), "{c}");
        }
        for c in ['・', '。', 'ก', 'ກ', 'က', 'ក', '⺀', 'ﾞ'] {
            assert!(is_unspaced(c) && !is_cjk(c), "{c}");
        }
        for c in ['a', 'я', '1', '-'] {
            assert!(!is_unspaced(c), "{c}");
        }
    }
}
