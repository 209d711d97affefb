//! Character statistics: one pass over the text counts letters per script and the marker letters of Cyrillic
//! and Arabic, and picks the script family that decides which detector runs.

use whatlang::Script;

use crate::text::script::{is_han, is_hangul, is_kana};

/// The script groups that decide which detector runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Family {
    /// Han, kana and Hangul.
    Cjk,
    Cyrillic,
    /// A whatlang script other than Cyrillic and the CJK ones.
    Other(Script),
}

/// Letter counts from one pass over the text.
#[derive(Debug, Default)]
pub(super) struct Stats {
    pub(super) han: usize,
    pub(super) kana: usize,
    pub(super) hangul: usize,
    pub(super) cyrillic: usize,
    /// Letters of the other whatlang scripts, indexed by [`script_index`].
    pub(super) other: [usize; SCRIPTS],
    /// Cyrillic marker letters (lowercased).
    pub(super) cyr: CyrLetters,
    /// Arabic-script marker letters.
    pub(super) arab: ArabLetters,
}

/// Number of whatlang scripts.
const SCRIPTS: usize = 25;

/// Position of `script` in `Script::all()` (which has [`SCRIPTS`] entries), for counting without hashing.
fn script_index(script: Script) -> usize {
    Script::all()
        .iter()
        .position(|s| *s == script)
        .unwrap_or(0)
        .min(SCRIPTS - 1)
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct CyrLetters {
    /// і
    pub(super) i_dot: usize,
    /// ї є ґ (Ukrainian only)
    pub(super) uk_only: usize,
    /// ў
    pub(super) short_u: usize,
    /// ы э
    pub(super) yery_e: usize,
    /// ё
    pub(super) yo: usize,
    /// ъ
    pub(super) hard: usize,
    /// и
    pub(super) i: usize,
    /// щ
    pub(super) shcha: usize,
    /// ә ғ қ ұ һ (Kazakh; not Russian/Ukrainian/Belarusian/Mongolian)
    pub(super) kk_only: usize,
    /// ң ө ү (Kazakh, also Kyrgyz/Mongolian/Tatar)
    pub(super) kk_shared: usize,
    /// ө ү (Mongolian uses these but not ң or і)
    pub(super) mn: usize,
    /// ј љ њ ћ ђ џ ѓ ќ ѕ (Serbian / Macedonian)
    pub(super) south: usize,
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ArabLetters {
    /// پ چ ژ گ (Persian and Urdu, not Arabic)
    pub(super) pers: usize,
    /// ی ک (Persian/Urdu forms of yeh and kaf)
    pub(super) pers_forms: usize,
    /// ي ك ة ى (Arabic forms)
    pub(super) arab_forms: usize,
    /// ے ٹ ڈ ڑ ں ہ ھ (Urdu)
    pub(super) urdu: usize,
}

impl Stats {
    /// Counts the letters of `text` by script. `#[inline]`: its one caller is `detect`, and as a
    /// function of its own it compiled to 2% more instructions in language detection (callgrind).
    /// The Latin-i test is written out here and in `cyrillic_text` on purpose: a shared iterator over
    /// (char, is-Cyrillic-i) pairs cost another 2%.
    #[inline]
    pub(super) fn collect(text: &str) -> Stats {
        let mut s = Stats::default();
        let mut prev = ' ';
        let mut chars = text.chars().peekable();
        while let Some(ch) = chars.next() {
            let next = chars.peek().copied().unwrap_or(' ');
            let current = prev;
            prev = ch;
            if ch.is_ascii() {
                if (ch == 'i' || ch == 'I') && (is_cyrillic(current) || is_cyrillic(next)) {
                    // A Latin i typed for Cyrillic і inside a Ukrainian/Belarusian word (common on the web).
                    s.cyrillic += 1;
                    s.cyr.i_dot += 1;
                } else if ch.is_ascii_alphabetic() {
                    s.other[script_index(Script::Latin)] += 1;
                }
                continue;
            }
            if is_han(ch) {
                s.han += 1;
            } else if is_kana(ch) {
                s.kana += 1;
            } else if is_hangul(ch) {
                s.hangul += 1;
            } else if is_cyrillic(ch) {
                s.cyrillic += 1;
                s.count_cyrillic(ch);
            } else if ch.is_alphabetic() {
                if let Some(script) = script_of(ch) {
                    if script == Script::Arabic {
                        s.count_arabic(ch);
                    }
                    s.other[script_index(script)] += 1;
                }
            }
        }
        s
    }

    fn count_cyrillic(&mut self, ch: char) {
        let c = &mut self.cyr;
        match ch {
            'і' | 'І' => c.i_dot += 1,
            'ї' | 'Ї' | 'є' | 'Є' | 'ґ' | 'Ґ' => c.uk_only += 1,
            'ў' | 'Ў' => c.short_u += 1,
            'ы' | 'Ы' | 'э' | 'Э' => c.yery_e += 1,
            'ё' | 'Ё' => c.yo += 1,
            'ъ' | 'Ъ' => c.hard += 1,
            'и' | 'И' => c.i += 1,
            'щ' | 'Щ' => c.shcha += 1,
            'ә' | 'Ә' | 'ғ' | 'Ғ' | 'қ' | 'Қ' | 'ұ' | 'Ұ' | 'һ' | 'Һ' => c.kk_only += 1,
            'ң' | 'Ң' => c.kk_shared += 1,
            'ө' | 'Ө' | 'ү' | 'Ү' => {
                c.kk_shared += 1;
                c.mn += 1;
            }
            'ј' | 'Ј' | 'љ' | 'Љ' | 'њ' | 'Њ' | 'ћ' | 'Ћ' | 'ђ' | 'Ђ' | 'џ' | 'Џ' | 'ѓ' | 'Ѓ'
            | 'ќ' | 'Ќ' | 'ѕ' | 'Ѕ' => c.south += 1,
            _ => {}
        }
    }

    fn count_arabic(&mut self, ch: char) {
        let a = &mut self.arab;
        match ch {
            'پ' | 'چ' | 'ژ' | 'گ' => a.pers += 1,
            'ی' | 'ک' => a.pers_forms += 1,
            'ي' | 'ك' | 'ة' | 'ى' => a.arab_forms += 1,
            'ے' | 'ٹ' | 'ڈ' | 'ڑ' | 'ں' | 'ہ' | 'ھ' => a.urdu += 1,
            _ => {}
        }
    }

    /// The script family with the most letters; a CJK character weighs as much as two alphabetic letters (it
    /// carries about a word's worth of text), so a Chinese article with English names stays Chinese.
    pub(super) fn dominant_family(&self) -> Option<Family> {
        let cjk = 2 * (self.han + self.kana + self.hangul);
        let mut best: Option<(Family, usize)> = None;
        let mut consider = |f: Family, n: usize| {
            if n > 0 && best.is_none_or(|(_, b)| n > b) {
                best = Some((f, n));
            }
        };
        consider(Family::Cjk, cjk);
        consider(Family::Cyrillic, self.cyrillic);
        // Deterministic order: iterate the scripts in whatlang's order, not the map's.
        for (script, &n) in Script::all().iter().zip(self.other.iter()) {
            consider(Family::Other(*script), n);
        }
        best.map(|(f, _)| f)
    }

    pub(super) fn letters(&self) -> usize {
        self.han + self.kana + self.hangul + self.cyrillic + self.other.iter().sum::<usize>()
    }
}

pub(super) fn is_cyrillic(ch: char) -> bool {
    matches!(ch, '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}')
}

/// The whatlang script of a non-ASCII, non-CJK, non-Cyrillic letter, by Unicode block.
pub(super) fn script_of(ch: char) -> Option<Script> {
    let s = match ch {
        '\u{00C0}'..='\u{02AF}'
        | '\u{1D00}'..='\u{1DBF}'
        | '\u{1E00}'..='\u{1EFF}'
        | '\u{2C60}'..='\u{2C7F}'
        | '\u{A720}'..='\u{A7FF}'
        | '\u{AB30}'..='\u{AB6F}'
        | '\u{FF21}'..='\u{FF3A}'
        | '\u{FF41}'..='\u{FF5A}' => Script::Latin,
        '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' => Script::Greek,
        '\u{0530}'..='\u{058F}' => Script::Armenian,
        '\u{0590}'..='\u{05FF}' => Script::Hebrew,
        '\u{0600}'..='\u{06FF}'
        | '\u{0750}'..='\u{077F}'
        | '\u{08A0}'..='\u{08FF}'
        | '\u{FB50}'..='\u{FDFF}'
        | '\u{FE70}'..='\u{FEFF}' => Script::Arabic,
        '\u{0900}'..='\u{097F}' => Script::Devanagari,
        '\u{0980}'..='\u{09FF}' => Script::Bengali,
        '\u{0A00}'..='\u{0A7F}' => Script::Gurmukhi,
        '\u{0A80}'..='\u{0AFF}' => Script::Gujarati,
        '\u{0B00}'..='\u{0B7F}' => Script::Oriya,
        '\u{0B80}'..='\u{0BFF}' => Script::Tamil,
        '\u{0C00}'..='\u{0C7F}' => Script::Telugu,
        '\u{0C80}'..='\u{0CFF}' => Script::Kannada,
        '\u{0D00}'..='\u{0D7F}' => Script::Malayalam,
        '\u{0D80}'..='\u{0DFF}' => Script::Sinhala,
        '\u{0E00}'..='\u{0E7F}' => Script::Thai,
        '\u{1000}'..='\u{109F}' => Script::Myanmar,
        '\u{10A0}'..='\u{10FF}' | '\u{1C90}'..='\u{1CBF}' => Script::Georgian,
        '\u{1200}'..='\u{139F}' => Script::Ethiopic,
        '\u{1780}'..='\u{17FF}' => Script::Khmer,
        _ => return None,
    };
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_i_inside_a_cyrillic_word_counts_as_i_dot() {
        let s = Stats::collect("вынiку i");
        assert_eq!(s.cyr.i_dot, 1);
        assert_eq!(s.cyrillic, 6);
        assert_eq!(s.other[script_index(Script::Latin)], 1);
    }

    #[test]
    fn a_cjk_character_weighs_two_letters() {
        assert_eq!(
            Stats::collect("中文 abc").dominant_family(),
            Some(Family::Cjk)
        );
        assert_eq!(
            Stats::collect("中文 abcde").dominant_family(),
            Some(Family::Other(Script::Latin))
        );
        assert_eq!(Stats::collect("12 -- !").dominant_family(), None);
    }
}
