//! Cyrillic: marker letters decide Kazakh and Mongolian (whatlang has no model for either) and narrow the
//! languages whatlang may choose among; an unmarked, unsure text without hints is taken as Russian.

use whatlang::{Lang, Script};

use super::hints::Hint;
use super::info;
use super::stats::{is_cyrillic, Stats};
use super::with_whatlang::pick_with_whatlang;
use super::words::MAX_VOTING_WORDS;
use crate::model::LangInfo;

pub(super) fn detect_cyrillic(text: &str, stats: &Stats, hints: &[Hint]) -> LangInfo {
    let c = stats.cyr;
    let n = stats.cyrillic.max(1);
    let filtered = cyrillic_text(text);

    // Kazakh: whatlang has no model; its letters (and a few of its commonest words) decide. One Kazakh letter per
    // 300 Cyrillic letters is far more than a Russian text quoting a Kazakh name has.
    let kk_words = kazakh_words(&filtered);
    if c.kk_only >= 2
        || (c.kk_only >= 1
            && (c.kk_shared >= 1 || c.i_dot >= 1 || kk_words >= 1 || c.kk_only * 300 >= n))
        || (c.kk_shared >= 1 && c.i_dot >= 1 && c.short_u == 0 && c.uk_only == 0)
        || (kk_words >= 2 && c.i_dot >= 1 && c.short_u == 0 && c.uk_only == 0)
    {
        let conf = ((c.kk_only + c.kk_shared) as f64 * 20.0 / n as f64).clamp(0.6, 1.0);
        return info("kk", Some("Cyrl"), conf, true);
    }

    // Mongolian (no whatlang model either): ө ү without ң, і or the Kazakh letters.
    if c.mn >= 1
        && c.mn == c.kk_shared
        && c.i_dot == 0
        && c.kk_only == 0
        && c.short_u == 0
        && c.uk_only == 0
    {
        return info("mn", Some("Cyrl"), 0.6, c.mn >= 2);
    }

    // Which languages the letters allow (a few stray letters are tolerated in long texts: quotes, names).
    let tol = n / 150;
    let ru_letters = c.yery_e + c.yo + c.hard;
    let mut allowed: Vec<Lang> = Vec::new();
    let uk_ok = c.yery_e + c.yo <= tol && c.short_u <= tol;
    let be_ok = c.i + c.shcha + c.hard <= tol + c.i_dot / 20 && c.uk_only <= tol;
    let ru_ok = c.i_dot + c.uk_only + c.short_u <= tol;
    let south_ok = c.yery_e + c.yo <= tol && c.i_dot + c.uk_only + c.short_u <= tol;
    if ru_ok {
        allowed.push(Lang::Rus);
    }
    if uk_ok {
        allowed.push(Lang::Ukr);
    }
    if be_ok {
        allowed.push(Lang::Bel);
    }
    if south_ok {
        allowed.extend([Lang::Bul, Lang::Mkd, Lang::Srp]);
    }
    if c.south > tol {
        allowed.retain(|l| matches!(l, Lang::Mkd | Lang::Srp));
    }
    // Strong positive evidence narrows further.
    let strong_uk = c.uk_only > 0 && uk_ok;
    let strong_be = c.short_u > 0 && be_ok;
    if strong_uk && !strong_be {
        allowed.retain(|l| *l == Lang::Ukr);
    } else if strong_be && !strong_uk {
        allowed.retain(|l| *l == Lang::Bel);
    } else if ru_letters > 0 && ru_ok && !south_ok {
        // ы э ё ъ without і: Russian (Belarusian also has ы э ё but always with і / ў in running text).
        if c.i_dot == 0 && c.short_u == 0 {
            allowed.retain(|l| *l == Lang::Rus || (*l == Lang::Bel && c.i == 0));
        }
    }
    if allowed.is_empty() {
        // Contradictory letters (e.g. a Ukrainian text quoting Russian): fall back to the big three.
        allowed = vec![Lang::Rus, Lang::Ukr, Lang::Bel];
    }
    let ru_allowed = allowed.contains(&Lang::Rus);
    let mut found = pick_with_whatlang(&filtered, Script::Cyrillic, allowed, stats, hints);
    // No letter of its own, no function word, whatlang barely prefers it, nothing declared: for a text without
    // any marker letter, Russian is by far the likeliest Cyrillic language in news, so it wins the tie.
    let unmarked = c.hard + c.i_dot + c.uk_only + c.short_u + c.south == 0;
    if ru_allowed
        && unmarked
        && hints.is_empty()
        && found.lang != "ru"
        && found.confidence < RU_PRIOR_BELOW
    {
        found.lang = "ru".to_string();
        found.reliable = false;
    }
    found
}

/// Below this confidence an unmarked Cyrillic text without hints is taken as Russian (see `detect_cyrillic`).
const RU_PRIOR_BELOW: f64 = 0.3;

/// Frequent Kazakh words written without the Kazakh-only letters (whatlang has no Kazakh model).
const KAZAKH_WORDS: &[&str] = &[
    "мен",
    "деп",
    "еді",
    "екен",
    "бар",
    "сол",
    "осы",
    "біз",
    "ол",
    "олар",
    "бір",
    "бен",
    "пен",
    "емес",
    "жоқ",
    "керек",
    "болды",
    "болып",
    "кейін",
    "жылы",
    "жыл",
    "бойынша",
    "барлық",
    "бірі",
    "туралы",
    "түрде",
    "үшін",
    "мысалы",
];

/// How many of the first words of `text` are in [`KAZAKH_WORDS`].
fn kazakh_words(text: &str) -> usize {
    text.split(|c: char| !c.is_alphabetic())
        .take(MAX_VOTING_WORDS)
        .filter(|w| !w.is_empty() && w.chars().count() <= 8)
        .filter(|w| {
            let lower = w.to_lowercase();
            KAZAKH_WORDS.contains(&lower.as_str())
        })
        .count()
}

/// The Cyrillic words of `text` (apostrophes kept), with a Latin `i` next to a Cyrillic letter read as `і`
/// (the same test as in `Stats::collect`, written out in both loops on purpose: see there).
fn cyrillic_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    let mut prev = ' ';
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        let next = chars.peek().copied().unwrap_or(' ');
        let current = prev;
        prev = ch;
        let mapped = if (ch == 'i' || ch == 'I') && (is_cyrillic(current) || is_cyrillic(next)) {
            Some(if ch == 'i' { 'і' } else { 'І' })
        } else if is_cyrillic(ch) || matches!(ch, '\'' | '’' | 'ʼ') {
            Some(ch)
        } else {
            None
        };
        match mapped {
            Some(c) => {
                if gap && !out.is_empty() {
                    out.push(' ');
                }
                gap = false;
                out.push(c);
            }
            None => gap = true,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cyrillic_text_keeps_cyrillic_words_only() {
        assert_eq!(
            cyrillic_text("NATO: вынiку, п'ять — iPhone"),
            "выніку п'ять"
        );
        assert_eq!(kazakh_words("Біз бен олар мен Москва"), 4);
    }
}
