//! Text measures used by the thresholds: a weighted length (CJK characters
//! count for more, as one carries roughly a word) and a comma count that
//! includes the CJK and Arabic commas. Pure functions of a `&str`; no DOM.

/// Han, kana and Hangul ([`crate::text::script::is_cjk`]): scripts where one character carries
/// roughly a word's worth of text.
pub(super) use crate::text::script::is_cjk;

/// Length of a text for thresholds: non-space characters, CJK ones weighted.
pub(super) fn weighted_len(s: &str) -> f32 {
    if s.is_ascii() {
        return s.bytes().filter(|b| !b.is_ascii_whitespace()).count() as f32;
    }
    // Counted as integers (exact, so the result does not depend on the order
    // of the sum); ASCII bytes are counted without decoding.
    let (mut plain, mut cjk) = (0u32, 0u32);
    let mut rest = s;
    while !rest.is_empty() {
        let ascii = rest.bytes().take_while(u8::is_ascii).count();
        let (head, tail) = rest.split_at(ascii);
        // Same set as `char::is_whitespace` on ASCII (which includes \x0b).
        plain += head
            .bytes()
            .filter(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
            .count() as u32;
        rest = "";
        for (at, c) in tail.char_indices() {
            if c.is_ascii() {
                rest = &tail[at..];
                break;
            }
            if c.is_whitespace() {
                continue;
            }
            if is_cjk(c) {
                cjk += 1;
            } else {
                plain += 1;
            }
        }
    }
    plain as f32 + cjk as f32 * 2.5
}

/// Commas and their CJK/Arabic counterparts (',' '，' '、' '،' '；' '。'),
/// found by their UTF-8 bytes without decoding the text.
pub(super) fn count_commas(s: &str) -> u32 {
    let b = s.as_bytes();
    let ascii = memchr::memchr_iter(b',', b).count();
    // Lead bytes of U+FF0C/U+FF1B (EF BC ..), U+3001/U+3002 (E3 80 ..), U+060C (D8 8C).
    let other = memchr::memchr3_iter(0xEF, 0xE3, 0xD8, b)
        .filter(|&i| {
            matches!(
                b.get(i..),
                Some(
                    [0xEF, 0xBC, 0x8C | 0x9B, ..]
                        | [0xE3, 0x80, 0x81 | 0x82, ..]
                        | [0xD8, 0x8C, ..]
                )
            )
        })
        .count();
    (ascii + other) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_measures_match_char_by_char_definitions() {
        // The previous char-by-char `weighted_len` (pure ASCII text keeps its
        // `is_ascii_whitespace` rule, under which \x0b counts as a character).
        let weighted = |s: &str| -> f32 {
            if s.is_ascii() {
                return s.bytes().filter(|b| !b.is_ascii_whitespace()).count() as f32;
            }
            s.chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| if is_cjk(c) { 2.5 } else { 1.0 })
                .sum()
        };
        let commas = |s: &str| {
            s.chars()
                .filter(|c| matches!(c, ',' | '，' | '、' | '،' | '；' | '。'))
                .count() as u32
        };
        for s in [
            "",
            "  plain, ascii\ttext\x0b\n",
            "café, naïve — “quoted”\u{a0}non-breaking\u{2003}em space\x0b",
            "新华社北京电，国务院、新闻办公室；今天。 한국어 日本語のかな",
            "مرحبا، بالعالم , ok",
            "\u{ff0d}\u{ff1c}\u{3003}\u{60d} near misses",
            "𠀀 astral ideograph, 1",
        ]
        .into_iter()
        .map(str::to_string)
        .chain([
            // Long mixed texts: ASCII runs between other characters, \x0b.
            format!("{}é{}", "a b".repeat(10), " c\x0bd".repeat(20)),
            "ab é “ 新 \x0b 𠀀\u{3000}".repeat(40),
            format!("{}\x0b{}", "word ".repeat(13), "x".repeat(40)),
            format!("{}“{}新华社", "\x0b".repeat(31), "\t".repeat(33)),
        ]) {
            let s = s.as_str();
            assert_eq!(weighted_len(s), weighted(s), "{s:?}");
            assert_eq!(count_commas(s), commas(s), "{s:?}");
        }
        // Every character beyond ASCII, alone and between ASCII words.
        for c in (0x80..=0x10FFFFu32).filter_map(char::from_u32) {
            let alone = c.to_string();
            assert_eq!(weighted_len(&alone), weighted(&alone), "{c:?}");
            let mixed = format!("ab {c}\x0bcd{c}");
            assert_eq!(weighted_len(&mixed), weighted(&mixed), "{c:?}");
        }
    }
}
