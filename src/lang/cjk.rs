//! Chinese, Japanese and Korean: kana means Japanese, Hangul Korean, Han alone Chinese; Simplified vs Traditional
//! by characters that only one of OpenCC's conversion tables changes.
//!
//! [`HanTables`] is this module's own table on purpose: the shared script table (`crate::text::script`) only says
//! whether a character is Han, and the fold (`crate::text::fold`) maps Traditional characters to Simplified ones;
//! telling the two scripts apart needs the characters that only one side uses, in both directions.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::hints::Hint;
use super::stats::Stats;
use super::{info, SHORT_TEXT_LETTERS};
use crate::model::LangInfo;
use crate::text::script::is_han;

/// Which side of the Simplified/Traditional divide a Han character marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HanMark {
    Neither,
    /// `t2s` changes it and it is not its own simplified form.
    Traditional,
    /// `s2t` changes it and it is not its own traditional form.
    Simplified,
}

/// Character marks from OpenCC's tables (via hanconv): a dense table for the main CJK blocks, a map for the rest.
struct HanTables {
    dense: Vec<HanMark>,
    sparse: HashMap<char, HanMark>,
}

const HAN_DENSE_BASE: u32 = 0x3400;
const HAN_DENSE_END: u32 = 0xA000;

impl HanTables {
    fn mark(&self, c: char) -> HanMark {
        let cp = c as u32;
        if (HAN_DENSE_BASE..HAN_DENSE_END).contains(&cp) {
            return self
                .dense
                .get((cp - HAN_DENSE_BASE) as usize)
                .copied()
                .unwrap_or(HanMark::Neither);
        }
        self.sparse.get(&c).copied().unwrap_or(HanMark::Neither)
    }
}

fn han_tables() -> &'static HanTables {
    static TABLES: OnceLock<HanTables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut tables = HanTables {
            dense: vec![HanMark::Neither; (HAN_DENSE_END - HAN_DENSE_BASE) as usize],
            sparse: HashMap::new(),
        };
        // Simplified first, Traditional second: a character in both lists counts as Traditional (as before).
        for (raw, mark) in [
            (hanconv::RawDictionary::STCharacters, HanMark::Simplified),
            (hanconv::RawDictionary::TSCharacters, HanMark::Traditional),
        ] {
            for (key, values) in raw.var_iter() {
                let mut chars = key.chars();
                let (Some(c), None) = (chars.next(), chars.next()) else {
                    continue;
                };
                if values.contains(&key) {
                    continue;
                }
                let cp = c as u32;
                match tables
                    .dense
                    .get_mut(cp.wrapping_sub(HAN_DENSE_BASE) as usize)
                {
                    Some(slot) if (HAN_DENSE_BASE..HAN_DENSE_END).contains(&cp) => *slot = mark,
                    _ => {
                        tables.sparse.insert(c, mark);
                    }
                }
            }
        }
        tables
    })
}

/// (Han characters, Traditional-only markers, Simplified-only markers).
pub(super) fn chinese_markers(text: &str) -> (usize, usize, usize) {
    let tables = han_tables();
    let (mut han, mut trad, mut simp) = (0, 0, 0);
    for ch in text.chars().filter(|c| is_han(*c)) {
        han += 1;
        match tables.mark(ch) {
            HanMark::Traditional => trad += 1,
            HanMark::Simplified => simp += 1,
            HanMark::Neither => {}
        }
    }
    (han, trad, simp)
}

pub(super) fn detect_cjk(text: &str, stats: &Stats, hints: &[Hint]) -> LangInfo {
    let total = stats.han + stats.kana + stats.hangul;
    let hint_is = |code: &str| hints.iter().any(|h| h.lang == code);
    let first_hint = hints.first().map(|h| h.lang.as_str());
    let short = total < SHORT_TEXT_LETTERS / 2;

    if stats.hangul > 0 && stats.hangul * 4 >= total && stats.hangul >= stats.kana {
        let conf = ratio(stats.hangul, total).max(0.5);
        return info("ko", Some("Kore"), conf, conf >= 0.5 && total >= 4);
    }
    // Japanese: kana is a large share of running Japanese text; Chinese uses it only in the odd brand name.
    let kana_share = ratio(stats.kana, total);
    if stats.kana > 0 && (kana_share >= 0.1 || (short && first_hint == Some("ja"))) {
        let conf = (kana_share * 4.0).clamp(0.5, 1.0);
        return info("ja", Some("Jpan"), conf, conf >= 0.5 && total >= 4);
    }
    // Han only: Chinese, unless a short text is declared Japanese or Korean (kanji-only headlines exist).
    if short && (first_hint == Some("ja") || first_hint == Some("ko")) && stats.kana == 0 {
        let (lang, script) = if first_hint == Some("ja") {
            ("ja", "Jpan")
        } else {
            ("ko", "Kore")
        };
        return info(lang, Some(script), 0.5, false);
    }
    let (han, trad, simp) = chinese_markers(text);
    let script = if trad > simp {
        "Hant"
    } else if simp > trad {
        "Hans"
    } else {
        // No evidence either way: a declared zh-TW / zh-Hant decides, else Simplified.
        match hints
            .iter()
            .find(|h| h.lang == "zh")
            .and_then(|h| h.traditional)
        {
            Some(true) => "Hant",
            _ => "Hans",
        }
    };
    let conf = if han >= 10 || hint_is("zh") { 1.0 } else { 0.7 };
    info("zh", Some(script), conf, han >= 4 || hint_is("zh"))
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_count_each_side() {
        assert_eq!(chinese_markers("臺灣是中文"), (5, 2, 0));
        assert_eq!(chinese_markers("台湾是中文"), (5, 0, 1));
        assert_eq!(chinese_markers("Taiwan"), (0, 0, 0));
        assert_eq!(chinese_markers(""), (0, 0, 0));
    }
}
