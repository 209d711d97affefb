//! whatlang, restricted to the languages a script (and its marker letters) allows, run on the letters of the
//! dominant script only; function-word votes and declared languages correct it. Latin, Arabic and the other
//! multi-language scripts start in [`detect_with_whatlang`]; the Cyrillic detector ends in [`pick_with_whatlang`].

use whatlang::{Detector, Lang, Script};

use super::hints::Hint;
use super::stats::{script_of, Stats};
use super::words::word_votes;
use super::{cap_chars, info, iso639_1, lang_from_639_1, SHORT_TEXT_LETTERS};
use crate::model::LangInfo;

pub(super) fn detect_with_whatlang(
    text: &str,
    script: Script,
    stats: &Stats,
    hints: &[Hint],
) -> LangInfo {
    let filtered = if script == Script::Latin {
        filter_text(text, |ch| {
            ch.is_ascii_alphabetic()
                || script_of(ch) == Some(Script::Latin)
                || ch == '\''
                || is_mark(ch)
        })
    } else {
        filter_text(text, |ch| script_of(ch) == Some(script) || is_mark(ch))
    };
    let mut allowed: Vec<Lang> = script.langs().to_vec();
    if allowed.is_empty() {
        return info("und", Some(script_code(script)), 0.0, false);
    }
    if script == Script::Arabic {
        let a = stats.arab;
        // Persian and Urdu letters rule Arabic out; Urdu letters rule Persian out; Arabic-only forms the reverse.
        if a.pers + a.pers_forms > 0 && a.arab_forms * 4 < a.pers + a.pers_forms {
            allowed.retain(|l| *l != Lang::Ara);
        }
        if a.arab_forms > 0 && a.pers + a.pers_forms == 0 {
            allowed.retain(|l| *l == Lang::Ara);
        }
        if a.urdu == 0 && a.pers + a.pers_forms > 0 {
            allowed.retain(|l| *l != Lang::Urd);
        }
        if allowed.is_empty() {
            allowed = script.langs().to_vec();
        }
    }
    pick_with_whatlang(&filtered, script, allowed, stats, hints)
}

/// Runs whatlang restricted to `allowed`, corrects it with function-word votes, then lets a declared language win
/// when the text is short or the detection is unsure (and the declared language is allowed by the letters).
pub(super) fn pick_with_whatlang(
    text: &str,
    script: Script,
    allowed: Vec<Lang>,
    stats: &Stats,
    hints: &[Hint],
) -> LangInfo {
    let code = script_code(script);
    let letters = stats.letters();
    let hint_lang: Option<Lang> = hints
        .iter()
        .filter_map(|h| lang_from_639_1(&h.lang))
        .find(|l| allowed.contains(l));
    if let [only] = allowed.as_slice() {
        return info(iso639_1(*only), Some(code), 1.0, letters >= 10);
    }
    // whatlang's cost grows with the text; a few thousand letters settle the language of an article.
    let text = cap_at_word(text, MAX_WHATLANG_CHARS);
    let Some(det) = Detector::with_allowlist(allowed.clone()).detect(text) else {
        return match hint_lang {
            Some(h) => info(iso639_1(h), Some(code), 0.3, false),
            None => info("und", Some(code), 0.0, false),
        };
    };
    let (mut pick, mut confidence, mut reliable) =
        (det.lang(), det.confidence(), det.is_reliable());
    let votes = word_votes(text, &allowed);
    if let Some((leaders, best)) = votes.leaders(&allowed) {
        let for_pick = votes.for_lang(pick);
        if leaders.contains(&pick) {
            // Function words agree with whatlang.
            if best >= 2 {
                confidence = confidence.max(0.9);
                reliable = true;
            } else {
                confidence = confidence.max(0.5);
            }
        } else if (best >= 2
            || (for_pick == 0 && !reliable && (script == Script::Cyrillic || confidence < 0.5)))
            && best > 2 * for_pick
            && (script == Script::Cyrillic || best * 5 >= votes.words)
            && (!reliable || (best >= 3 && for_pick == 0))
        {
            pick = match leaders.as_slice() {
                [one] => *one,
                _ => Detector::with_allowlist(leaders.clone())
                    .detect_lang(text)
                    .unwrap_or(pick),
            };
            confidence = (0.5 + 0.1 * best as f64).min(0.95);
            reliable = best >= 3;
        }
    }
    let unsure = letters < SHORT_TEXT_LETTERS || !reliable;
    if let Some(h) = hint_lang {
        if h != pick && unsure {
            // Pairwise: does the text clearly prefer our pick over the declared language?
            let pair = Detector::with_allowlist(vec![h, pick]).detect(text);
            let clear = pair.as_ref().is_some_and(|p| {
                p.lang() == pick && p.confidence() >= 0.9 && letters >= SHORT_TEXT_LETTERS
            }) || votes.for_lang(pick) >= 2 + 2 * votes.for_lang(h);
            if !clear {
                return info(iso639_1(h), Some(code), 0.5, false);
            }
        }
        if h == pick {
            return info(iso639_1(h), Some(code), confidence.max(0.9), true);
        }
    }
    info(
        iso639_1(pick),
        Some(code),
        confidence,
        reliable && letters >= 10,
    )
}

/// ISO 15924 code of a whatlang script.
fn script_code(script: Script) -> &'static str {
    match script {
        Script::Arabic => "Arab",
        Script::Armenian => "Armn",
        Script::Bengali => "Beng",
        Script::Cyrillic => "Cyrl",
        Script::Devanagari => "Deva",
        Script::Ethiopic => "Ethi",
        Script::Georgian => "Geor",
        Script::Greek => "Grek",
        Script::Gujarati => "Gujr",
        Script::Gurmukhi => "Guru",
        Script::Hangul => "Kore",
        Script::Hebrew => "Hebr",
        Script::Hiragana | Script::Katakana => "Jpan",
        Script::Kannada => "Knda",
        Script::Khmer => "Khmr",
        Script::Latin => "Latn",
        Script::Malayalam => "Mlym",
        Script::Mandarin => "Hani",
        Script::Myanmar => "Mymr",
        Script::Oriya => "Orya",
        Script::Sinhala => "Sinh",
        Script::Tamil => "Taml",
        Script::Telugu => "Telu",
        Script::Thai => "Thai",
    }
}

/// At most this many characters of the (script-filtered) text go to whatlang.
const MAX_WHATLANG_CHARS: usize = 2_000;

/// The first `max` characters of `text`, cut back to the last space when there is one.
fn cap_at_word(text: &str, max: usize) -> &str {
    let capped = cap_chars(text, max);
    if capped.len() == text.len() {
        return text;
    }
    match capped.rfind(' ') {
        Some(i) if i > 0 => &capped[..i], // the position of an ASCII space: a char boundary
        _ => capped,
    }
}

/// Keeps the characters for which `keep` is true and replaces every run of others by one space, so whatlang sees
/// only the dominant script's words.
fn filter_text(text: &str, keep: impl Fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for ch in text.chars() {
        if keep(ch) {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(ch);
        } else {
            gap = true;
        }
    }
    out
}

fn is_mark(ch: char) -> bool {
    unicode_normalization::char::is_combining_mark(ch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_at_word_cuts_back_to_a_space() {
        assert_eq!(cap_at_word("one two three", 9), "one two");
        assert_eq!(cap_at_word("one two", 9), "one two");
        assert_eq!(cap_at_word("onetwothree", 5), "onetw");
    }

    #[test]
    fn filter_text_joins_kept_runs_with_one_space() {
        assert_eq!(
            filter_text("abc, де -- f", |c| c.is_ascii_alphabetic()),
            "abc f"
        );
        assert_eq!(filter_text("12 ab", |c| c.is_ascii_alphabetic()), "ab");
    }
}
