//! Traditional -> Simplified Chinese folding (OpenCC's tables, via hanconv). Two granularities, each
//! for a reason:
//!
//! - [`simplify_char`]: one character at a time (OpenCC `TSCharacters`, single-character mappings
//!   only), from a table built once. Byte offsets stay mappable one character at a time, which the
//!   tagger (evidence positions) and the index tokenizer (highlight offsets) need.
//! - [`simplify`]: OpenCC's phrase-level `t2s` over a whole text, for the copy detector's shingles,
//!   where offsets do not matter and phrases (乾燥 vs 幹部) fold better.
//!
//! The index tokenizer also tries OpenCC's `tw2sp` (Taiwan phrases to mainland ones) on each Han run
//! first and keeps it when it keeps the run's length (see `analysis`): that is vocabulary, not
//! character folding, and only the tokenizer wants it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use super::script::is_han;

/// The Simplified form of one character (itself when it has none, or when OpenCC maps it to several
/// characters or several choices).
#[inline]
pub fn simplify_char(c: char) -> char {
    if (c as u32) < T2S_BASE {
        return c;
    }
    table().simplify(c)
}

/// `text` with OpenCC's phrase-level Traditional -> Simplified conversion when it holds any Han
/// character; borrowed as it is otherwise.
pub fn simplify(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_han) {
        Cow::Owned(hanconv::t2s(text))
    } else {
        Cow::Borrowed(text)
    }
}

/// Single-character mappings: a dense table for the main CJK blocks, a map for the rest. (`lang`'s
/// `HanTables` has the same shape on purpose but another content: which characters only Simplified
/// or only Traditional writing uses, for telling the scripts apart.)
struct T2s {
    /// Indexed by `c - T2S_BASE` for the main CJK blocks (fast path).
    dense: Vec<char>,
    /// The rest (compatibility and supplementary ideographs).
    sparse: HashMap<char, char>,
}

const T2S_BASE: u32 = 0x3400;
const T2S_END: u32 = 0xA000;

impl T2s {
    fn simplify(&self, c: char) -> char {
        let cp = c as u32;
        if (T2S_BASE..T2S_END).contains(&cp) {
            return self
                .dense
                .get((cp - T2S_BASE) as usize)
                .copied()
                .unwrap_or(c);
        }
        self.sparse.get(&c).copied().unwrap_or(c)
    }
}

fn table() -> &'static T2s {
    static TABLE: OnceLock<T2s> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut dense: Vec<char> = (T2S_BASE..T2S_END)
            .map(|cp| char::from_u32(cp).unwrap_or('\u{FFFD}'))
            .collect();
        let mut sparse = HashMap::new();
        for (k, v) in hanconv::RawDictionary::TSCharacters.iter() {
            let mut kc = k.chars();
            let mut vc = v.chars();
            let (Some(from), Some(to), None, None) = (kc.next(), vc.next(), kc.next(), vc.next())
            else {
                continue;
            };
            let cp = from as u32;
            match dense.get_mut(cp.wrapping_sub(T2S_BASE) as usize) {
                Some(slot) if (T2S_BASE..T2S_END).contains(&cp) => *slot = to,
                _ => {
                    sparse.insert(from, to);
                }
            }
        }
        T2s { dense, sparse }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_and_texts() {
        assert_eq!(simplify_char('臺'), '台');
        assert_eq!(simplify_char('灣'), '湾');
        assert_eq!(simplify_char('台'), '台');
        assert_eq!(simplify_char('a'), 'a');
        assert_eq!(simplify_char('я'), 'я');
        assert_eq!(simplify("臺灣軍演"), "台湾军演");
        assert!(matches!(simplify("Taiwan drills"), Cow::Borrowed(_)));
    }

    #[test]
    fn one_character_agrees_with_opencc_on_every_han_character() {
        let mut differ = Vec::new();
        for c in (0x3400u32..0x3_1350)
            .filter_map(char::from_u32)
            .filter(|&c| is_han(c))
        {
            let mut buf = [0u8; 4];
            let converted = hanconv::t2s(c.encode_utf8(&mut buf));
            let mut chars = converted.chars();
            let opencc = match (chars.next(), chars.next()) {
                (Some(single), None) => single,
                _ => c,
            };
            if opencc != simplify_char(c) {
                differ.push((c, opencc, simplify_char(c)));
            }
        }
        assert!(
            differ.is_empty(),
            "{} differ, e.g. {:?}",
            differ.len(),
            &differ[..differ.len().min(20)]
        );
    }
}
