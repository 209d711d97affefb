//! Language and script identification for article text.
//!
//! [`detect`] decides the dominant writing system of a text with its own character statistics (one pass over at
//! most the first [`MAX_ANALYSED_CHARS`] characters), then the language within that script:
//!
//! - Han / kana / Hangul: kana means Japanese, Hangul means Korean, Han alone means Chinese; Simplified vs
//!   Traditional is told by characters that only one of OpenCC's conversion tables changes (`cjk`).
//! - Cyrillic: letters that only some languages use (Ukrainian і ї є ґ, Belarusian ў, Russian ы э ъ ё, Kazakh
//!   ә ғ қ ң ө ұ ү һ, Serbian/Macedonian ј љ њ ...) are strong evidence; whatlang, restricted to the Cyrillic
//!   languages that the letters allow, decides the rest. whatlang has no Kazakh model: Kazakh is letters and a
//!   few common words only. A Latin `i` typed inside a Cyrillic word counts as `і`.
//! - Latin, Arabic and the other multi-language scripts: whatlang restricted to that script's languages, run on
//!   the letters of the dominant script only (so an English menu on a Russian page does not vote), with
//!   Persian/Urdu/Arabic letter checks.
//! - Function words: very frequent words that belong to one language group only ("the", "und", "что", "това",
//!   ...) overrule whatlang when it is unsure (short texts), e.g. a short English sentence whatlang calls French.
//! - A Cyrillic text with no marker letter, no declared language and a very unsure result is taken as Russian
//!   (the likeliest Cyrillic language in news); with a declared language the hint decides instead.
//! - Mongolian (ө ү without і or Kazakh letters) is recognised by letters only, like Kazakh.
//! - Declared languages (`hints`) act as priors: they win when the text is short or whatlang is unsure, unless
//!   the letters rule them out (a `ru` hint never turns a text with ї into Russian).
//!
//! Deliberately not done: detecting several languages per document or per paragraph, languages whatlang does not
//! know (other than Kazakh and Mongolian), romanised text (e.g. pinyin), and Traditional-Chinese *vocabulary* (Taiwan vs Hong
//! Kong usage); the script is told by character forms only.
//!
//! Layout, one file per stage: `stats` counts the letters of each script in one pass and picks the family;
//! the family's detector then runs: `cjk` (which also holds the Simplified/Traditional character table),
//! `cyrillic` (marker letters, Kazakh and Mongolian), or `with_whatlang` (whatlang restricted to the allowed
//! languages, also the last step of the Cyrillic detector); `words` holds the function-word votes that correct
//! whatlang, and the `hints` module parses declared languages.

use whatlang::Lang;

use crate::model::LangInfo;

mod cjk;
mod cyrillic;
mod hints;
mod stats;
mod with_whatlang;
mod words;

use cjk::detect_cjk;
use cyrillic::detect_cyrillic;
use hints::Hint;
use stats::{Family, Stats};
use with_whatlang::detect_with_whatlang;

/// How many characters of a text are analysed; the rest is ignored (the dominant language of a news article is
/// settled long before that, and this bounds the cost per article).
pub const MAX_ANALYSED_CHARS: usize = 20_000;

/// Below this many letters a text counts as short: declared languages (hints) then weigh more than whatlang.
const SHORT_TEXT_LETTERS: usize = 40;

/// Detects the dominant language and script of `text`.
///
/// `hints` are declared languages in priority order (the feed's configured language, then the page's declared
/// `<html lang>`), in any spelling such as "zh-CN", "ru", "en-US"; they are used as priors when the text is short
/// or whatlang is unsure. Returns [`LangInfo::unknown`] for text without letters.
pub fn detect(text: &str, hints: &[&str]) -> LangInfo {
    let sample = cap_chars(text, MAX_ANALYSED_CHARS);
    let stats = Stats::collect(sample);
    let hint_tags: Vec<Hint> = hints.iter().filter_map(|h| Hint::parse(h)).collect();
    let Some(family) = stats.dominant_family() else {
        return LangInfo::unknown();
    };
    match family {
        Family::Cjk => detect_cjk(sample, &stats, &hint_tags),
        Family::Cyrillic => detect_cyrillic(sample, &stats, &hint_tags),
        Family::Other(script) => detect_with_whatlang(sample, script, &stats, &hint_tags),
    }
}

/// ISO 639-1 code where one exists (whatlang gives ISO 639-3), e.g. `Cmn` -> "zh", `Rus` -> "ru"; else the
/// ISO 639-3 code.
pub fn iso639_1(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
    }
}

/// Normalises a declared language tag ("zh-Hant-TW", "ru_RU", "EN") to its ISO 639-1 primary subtag, lowercase,
/// if it is one (two ASCII letters). A few common three-letter and legacy spellings are mapped too ("zho", "cmn",
/// "rus", "ukr", "iw", "in", ...). Returns None for anything else (e.g. "und", "x-default", "").
pub fn normalize_tag(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    if primary.len() == 2 && primary.bytes().all(|b| b.is_ascii_lowercase()) {
        let code = match primary.as_str() {
            "iw" => "he",
            "in" => "id",
            "ji" => "yi",
            "no" => "nb",
            other => other,
        };
        return Some(code.to_string());
    }
    if primary.len() == 3 && primary.bytes().all(|b| b.is_ascii_lowercase()) {
        let mapped = match primary.as_str() {
            "zho" | "chi" | "cmn" | "yue" => Some("zh"),
            "kaz" => Some("kk"),
            "fas" | "per" => Some("fa"),
            "arb" => Some("ar"),
            _ => Lang::from_code(primary.as_str()).map(iso639_1),
        };
        return mapped.filter(|c| c.len() == 2).map(str::to_string);
    }
    None
}

fn lang_from_639_1(code: &str) -> Option<Lang> {
    Lang::all().iter().copied().find(|l| iso639_1(*l) == code)
}

/// The first `max` characters of `text` (a prefix ending on a char boundary).
fn cap_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i], // i comes from char_indices: a char boundary
        None => text,
    }
}

fn info(lang: &str, script: Option<&str>, confidence: f64, reliable: bool) -> LangInfo {
    LangInfo {
        lang: lang.to_string(),
        script: script.map(str::to_string),
        confidence: confidence.clamp(0.0, 1.0),
        reliable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (label, text, hints, expected lang, expected script)
    const CASES: &[(&str, &str, &[&str], &str, &str)] = &[
        ("en short", "The ministry denied the report on Tuesday.", &[], "en", "Latn"),
        (
            "en long",
            "Officials in Washington said the new sanctions would target companies that supply components to the \
             military, while critics argued that the measures came too late to change the course of the war.",
            &[],
            "en",
            "Latn",
        ),
        ("zh-Hans short", "台湾是中国领土不可分割的一部分。", &[], "zh", "Hans"),
        ("zh-Hant short", "臺灣是一個民主國家，人民選擇自己的政府。", &[], "zh", "Hant"),
        (
            "zh-Hans long",
            "外交部发言人在例行记者会上表示，台湾问题纯属中国内政，不容任何外部势力干涉。中方敦促有关国家恪守一个中国原则，\
             停止向台湾出售武器，停止与台湾进行官方往来。",
            &[],
            "zh",
            "Hans",
        ),
        (
            "zh-Hant long",
            "行政院長今天在立法院答詢時表示，政府將持續強化國防實力，並與理念相近的國家深化合作，共同維護臺海和平與穩定。\
             他也呼籲國人團結，面對對岸的軍事壓力與認知作戰。",
            &[],
            "zh",
            "Hant",
        ),
        ("ru short", "Путин провёл переговоры с президентом.", &[], "ru", "Cyrl"),
        (
            "ru long",
            "Министерство иностранных дел России заявило, что западные страны продолжают поставлять оружие Киеву, \
             несмотря на призывы к мирным переговорам. По словам официального представителя ведомства, это лишь \
             затягивает конфликт.",
            &[],
            "ru",
            "Cyrl",
        ),
        ("uk short", "Україна отримала нову допомогу від партнерів.", &[], "uk", "Cyrl"),
        (
            "uk long",
            "Президент України заявив, що країна продовжить боротьбу за свою незалежність і територіальну цілісність. \
             Він подякував міжнародним партнерам за підтримку та закликав посилити санкції проти агресора.",
            &[],
            "uk",
            "Cyrl",
        ),
        ("be short", "Беларусь і Украіна маюць доўгую гісторыю.", &[], "be", "Cyrl"),
        (
            "be long",
            "Улады краіны паведамілі, што новы закон павінен узмацніць кантроль над незалежнымі сродкамі масавай \
             інфармацыі. Праваабаронцы лічаць, што гэта чарговы крок да поўнай забароны свабоднага слова ў Беларусі.",
            &[],
            "be",
            "Cyrl",
        ),
        ("kk", "Қазақстан Республикасының Президенті жаңа заңға қол қойды.", &[], "kk", "Cyrl"),
        ("ja short", "日本政府は台湾海峡の平和を重視している。", &[], "ja", "Jpan"),
        (
            "ja long",
            "防衛省によると、中国海軍の艦艇が沖縄本島と宮古島の間を通過し、太平洋に向かったという。政府は警戒監視を続けている。",
            &[],
            "ja",
            "Jpan",
        ),
        ("ko short", "한국 정부는 북한의 미사일 발사를 규탄했다.", &[], "ko", "Kore"),
        ("ko with hanja", "韓國 정부는 北韓의 미사일 발사를 강력히 규탄했다고 밝혔다.", &[], "ko", "Kore"),
        ("ar", "قالت وزارة الخارجية إن المفاوضات ستستأنف الأسبوع المقبل في القاهرة.", &[], "ar", "Arab"),
        ("fa", "وزارت امور خارجه گفت که مذاکرات هفته آینده در تهران از سر گرفته می‌شود.", &[], "fa", "Arab"),
        ("de", "Die Bundesregierung hat neue Sanktionen gegen Russland beschlossen.", &[], "de", "Latn"),
        ("fr", "Le gouvernement a annoncé de nouvelles mesures contre la désinformation.", &[], "fr", "Latn"),
        ("es", "El gobierno anunció nuevas medidas contra la desinformación en las redes.", &[], "es", "Latn"),
        ("vi", "Chính phủ Việt Nam đã công bố các biện pháp mới về an ninh mạng.", &[], "vi", "Latn"),
        // Mixed pages: the dominant language wins, not the menu's.
        (
            "zh with English words",
            "Home | News | Login 国务院台湾事务办公室发言人今天表示，民进党当局勾连外部势力谋独挑衅，严重损害台海和平稳定。",
            &[],
            "zh",
            "Hans",
        ),
        (
            "ru with a Latin sentence",
            "Как заявил представитель НАТО, «We stand with Ukraine». Однако в Москве это заявление назвали \
             очередной провокацией и пообещали ответные меры в ближайшее время.",
            &[],
            "ru",
            "Cyrl",
        ),
        (
            "be with Latin i for і",
            "У вынiку атрымалася моцная жывёлiна.",
            &[],
            "be",
            "Cyrl",
        ),
        ("kk with one Kazakh letter", "Ол 2000 жылдары машина апатынан қайтыс болды.", &[], "kk", "Cyrl"),
        ("mn", "Монгол улсын Ерөнхийлөгч айлчлал хийлээ.", &[], "mn", "Cyrl"),
        ("bg", "Ето защо този закон е важен за страната.", &[], "bg", "Cyrl"),
        // Function words correct whatlang on short texts (it says fr / bg here).
        ("en short, whatlang says fr", "It is much less destructive.", &[], "en", "Latn"),
        ("ru unmarked, whatlang says bg", "Теперь все понятно.", &[], "ru", "Cyrl"),
        // Hints decide short ambiguous texts ...
        ("hint uk on ambiguous Cyrillic", "Новини дня", &["uk"], "uk", "Cyrl"),
        ("hint ru on ambiguous Cyrillic", "Новини дня", &["ru-RU"], "ru", "Cyrl"),
        ("hint ja on kanji-only headline", "日本経済新聞", &["ja"], "ja", "Jpan"),
        ("hint zh-TW on marker-free Han", "中文", &["zh-TW"], "zh", "Hant"),
        ("no hint on marker-free Han", "中文", &[], "zh", "Hans"),
        ("zh-TW hint vs Simplified characters", "台湾是中国领土不可分割的一部分。", &["zh-TW"], "zh", "Hans"),
        // ... but not against the letters.
        ("ru hint vs Ukrainian letters", "Київ, Україна, їжа", &["ru"], "uk", "Cyrl"),
        ("uk hint vs Russian letters", "Это объявление", &["uk"], "ru", "Cyrl"),
    ];

    #[test]
    fn detects_language_and_script() {
        let mut failures = Vec::new();
        for (label, text, hints, lang, script) in CASES {
            let got = detect(text, hints);
            if got.lang != *lang || got.script.as_deref() != Some(*script) {
                failures.push(format!("{label}: expected {lang}/{script}, got {got:?}"));
            }
            assert!(
                (0.0..=1.0).contains(&got.confidence),
                "{label}: confidence {}",
                got.confidence
            );
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn long_texts_are_reliable() {
        for (label, text, _, _, _) in CASES.iter().filter(|c| c.0.ends_with("long")) {
            assert!(detect(text, &[]).reliable, "{label}");
        }
    }

    #[test]
    fn empty_and_letterless_text_is_und() {
        for text in ["", "   ", "12345 67.89 !!! ---", "\u{0}\u{1}"] {
            let got = detect(text, &["en"]);
            assert_eq!(got, LangInfo::unknown(), "{text:?}");
        }
    }

    #[test]
    fn chinese_script_both_ways() {
        let script = |text: &str| detect(text, &[]).script;
        assert_eq!(script("台湾是中国的一部分").as_deref(), Some("Hans"));
        assert_eq!(script("臺灣是中華民國的一部分").as_deref(), Some("Hant"));
        // Conversions of the same text land on opposite sides.
        let s = "两岸关系发展的历史经验证明，国家统一是大势所趋。";
        assert_eq!(script(&hanconv::s2t(s)).as_deref(), Some("Hant"));
        assert_eq!(
            script(&hanconv::t2s(hanconv::s2t(s))).as_deref(),
            Some("Hans")
        );
    }

    #[test]
    fn iso_codes() {
        assert_eq!(iso639_1(Lang::Cmn), "zh");
        assert_eq!(iso639_1(Lang::Rus), "ru");
        assert_eq!(iso639_1(Lang::Pes), "fa");
        assert_eq!(iso639_1(Lang::Bel), "be");
        for lang in Lang::all() {
            assert_eq!(iso639_1(*lang).len(), 2, "{lang:?}");
        }
    }

    #[test]
    fn normalizes_tags() {
        let cases = [
            ("zh-Hant-TW", Some("zh")),
            ("ru_RU", Some("ru")),
            ("EN", Some("en")),
            ("en-US", Some("en")),
            (" uk ", Some("uk")),
            ("iw", Some("he")),
            ("rus", Some("ru")),
            ("zho", Some("zh")),
            ("und", None),
            ("x-default", None),
            ("", None),
            ("english", None),
        ];
        for (tag, want) in cases {
            assert_eq!(normalize_tag(tag).as_deref(), want, "{tag}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let odd = [
            "\u{FEFF}\u{200B}",
            "ё",
            "ї",
            "한",
            "の",
            "\u{10FFFF}",
            "a\u{0301}\u{0301}\u{0301}",
            "ｆｕｌｌ ｗｉｄｔｈ",
        ];
        for t in odd {
            let _ = detect(t, &["zz", "", "zh-Hant"]);
        }
        let long = "Россия ".repeat(10_000);
        assert_eq!(detect(&long, &[]).lang, "ru");
    }
}
