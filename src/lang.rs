//! Language and script identification for article text.
//!
//! [`detect`] decides the dominant writing system of a text with its own character statistics (one pass over at
//! most the first [`MAX_ANALYSED_CHARS`] characters), then the language within that script:
//!
//! - Han / kana / Hangul: kana means Japanese, Hangul means Korean, Han alone means Chinese; Simplified vs
//!   Traditional is told by [`chinese_script`] (characters that only one of OpenCC's conversion tables changes).
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

use std::collections::HashMap;
use std::sync::OnceLock;

use whatlang::{Detector, Lang, Script};

use crate::model::LangInfo;
use crate::text::script::{is_han, is_hangul, is_kana};

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

/// "Hans" or "Hant" for a Chinese text, by character statistics; None when the text has no Han characters.
///
/// Counts characters that only Traditional writing uses (OpenCC's Traditional-to-Simplified table changes them and
/// does not list them as their own simplified form) against characters that only Simplified writing uses. A text
/// with Han characters but no marker either way (e.g. "中文") is reported as "Hans".
pub fn chinese_script(text: &str) -> Option<&'static str> {
    let (han, trad, simp) = chinese_markers(cap_chars(text, MAX_ANALYSED_CHARS));
    if han == 0 {
        None
    } else if trad > simp {
        Some("Hant")
    } else {
        Some("Hans")
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

// ---------------------------------------------------------------------------------------------------------------
// Hints

/// A declared language: ISO 639-1 code plus, for Chinese, whether the tag says Traditional.
#[derive(Debug, Clone)]
struct Hint {
    lang: String,
    /// Some(true) for zh-Hant / zh-TW / zh-HK / zh-MO, Some(false) for zh-Hans / zh-CN / zh-SG, None otherwise.
    traditional: Option<bool>,
}

impl Hint {
    fn parse(tag: &str) -> Option<Hint> {
        let lang = normalize_tag(tag)?;
        let mut traditional = None;
        if lang == "zh" {
            for sub in tag.split(['-', '_']).skip(1) {
                match sub.to_ascii_lowercase().as_str() {
                    "hant" | "tw" | "hk" | "mo" => traditional = Some(true),
                    "hans" | "cn" | "sg" => traditional = Some(false),
                    _ => {}
                }
            }
        }
        Some(Hint { lang, traditional })
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Character statistics

/// The script groups that decide which detector runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Han, kana and Hangul.
    Cjk,
    Cyrillic,
    /// A whatlang script other than Cyrillic and the CJK ones.
    Other(Script),
}

/// Letter counts from one pass over the text.
#[derive(Debug, Default)]
struct Stats {
    han: usize,
    kana: usize,
    hangul: usize,
    cyrillic: usize,
    /// Letters of the other whatlang scripts, indexed by [`script_index`].
    other: [usize; SCRIPTS],
    /// Cyrillic marker letters (lowercased).
    cyr: CyrLetters,
    /// Arabic-script marker letters.
    arab: ArabLetters,
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
struct CyrLetters {
    /// і
    i_dot: usize,
    /// ї є ґ (Ukrainian only)
    uk_only: usize,
    /// ў
    short_u: usize,
    /// ы э
    yery_e: usize,
    /// ё
    yo: usize,
    /// ъ
    hard: usize,
    /// и
    i: usize,
    /// щ
    shcha: usize,
    /// ә ғ қ ұ һ (Kazakh; not Russian/Ukrainian/Belarusian/Mongolian)
    kk_only: usize,
    /// ң ө ү (Kazakh, also Kyrgyz/Mongolian/Tatar)
    kk_shared: usize,
    /// ө ү (Mongolian uses these but not ң or і)
    mn: usize,
    /// ј љ њ ћ ђ џ ѓ ќ ѕ (Serbian / Macedonian)
    south: usize,
}

#[derive(Debug, Default, Clone, Copy)]
struct ArabLetters {
    /// پ چ ژ گ (Persian and Urdu, not Arabic)
    pers: usize,
    /// ی ک (Persian/Urdu forms of yeh and kaf)
    pers_forms: usize,
    /// ي ك ة ى (Arabic forms)
    arab_forms: usize,
    /// ے ٹ ڈ ڑ ں ہ ھ (Urdu)
    urdu: usize,
}

impl Stats {
    fn collect(text: &str) -> Stats {
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
    fn dominant_family(&self) -> Option<Family> {
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

    fn letters(&self) -> usize {
        self.han + self.kana + self.hangul + self.cyrillic + self.other.iter().sum::<usize>()
    }
}

fn is_cyrillic(ch: char) -> bool {
    matches!(ch, '\u{0400}'..='\u{052F}' | '\u{1C80}'..='\u{1C8F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}')
}

/// The whatlang script of a non-ASCII, non-CJK, non-Cyrillic letter, by Unicode block.
fn script_of(ch: char) -> Option<Script> {
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

/// The first `max` characters of `text` (a prefix ending on a char boundary).
fn cap_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((i, _)) => &text[..i], // i comes from char_indices: a char boundary
        None => text,
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

/// The Cyrillic words of `text` (apostrophes kept), with a Latin `i` next to a Cyrillic letter read as `і`.
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

// ---------------------------------------------------------------------------------------------------------------
// Chinese, Japanese, Korean

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
fn chinese_markers(text: &str) -> (usize, usize, usize) {
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

fn detect_cjk(text: &str, stats: &Stats, hints: &[Hint]) -> LangInfo {
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

// ---------------------------------------------------------------------------------------------------------------
// Cyrillic

fn detect_cyrillic(text: &str, stats: &Stats, hints: &[Hint]) -> LangInfo {
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

// ---------------------------------------------------------------------------------------------------------------
// whatlang scripts

fn detect_with_whatlang(text: &str, script: Script, stats: &Stats, hints: &[Hint]) -> LangInfo {
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
fn pick_with_whatlang(
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

// ---------------------------------------------------------------------------------------------------------------
// Function words

/// Very frequent words that, among the languages listed here, belong to one group only. A group is a set of
/// languages whatlang tells apart well enough by itself (e.g. Danish/Norwegian/Swedish), so votes only correct
/// whatlang across groups (English taken for French, Russian for Bulgarian ...). Words listed for two groups are
/// dropped when the table is built, so the lists may overlap without harm.
const FUNCTION_WORDS: &[(&[Lang], &[&str])] = &[
    (
        &[Lang::Eng],
        &[
            "the", "and", "you", "your", "with", "that", "this", "have", "has", "had", "are",
            "were", "from", "they", "them", "their", "there", "which", "would", "could", "should",
            "been", "what", "about", "these", "those", "when", "where", "who", "not", "but", "how",
            "its", "it", "our", "does", "did", "just", "like", "more", "some", "than", "then",
            "only", "also", "into", "after", "said", "she", "his", "can", "one", "out", "get",
            "new", "or", "if", "any", "very", "i'm", "don't", "it's",
        ],
    ),
    (
        &[Lang::Deu],
        &[
            "der", "das", "und", "ist", "nicht", "ein", "eine", "einen", "einem", "einer", "ich",
            "sich", "mit", "auf", "für", "von", "zu", "wird", "wurde", "sind", "oder", "aber",
            "noch", "nur", "werden", "über", "auch", "dem", "vom", "zum", "zur", "bei", "nach",
            "sie", "wir", "ihr", "ihre", "dass", "daß", "wenn", "kann", "können", "haben", "hat",
            "hier", "im", "bis", "durch", "gegen", "unter", "sehr", "schon", "mehr", "diese",
            "dieser", "dieses", "alle", "jetzt", "immer", "wieder", "keine", "kein", "mich", "mir",
            "dich", "uns", "sein", "seine", "gibt", "viel", "viele", "ob", "beim",
        ],
    ),
    (
        &[Lang::Fra],
        &[
            "les", "des", "une", "pas", "pour", "dans", "qui", "sur", "aux", "cette", "ces", "ils",
            "elle", "elles", "nous", "vous", "sont", "avec", "été", "être", "très", "leur",
            "leurs", "ont", "au", "plus", "fait", "tout", "tous", "comme", "avait", "était",
            "peut", "aussi", "bien", "chez", "ses", "notre", "votre", "même", "quand", "donc",
            "alors", "encore", "après", "avant", "depuis", "lui", "c'est", "d'un", "d'une", "l'on",
            "qu'il", "n'est", "j'ai",
        ],
    ),
    (
        &[Lang::Spa],
        &[
            "el", "los", "las", "del", "y", "muy", "pero", "hay", "fue", "sus", "cuando", "desde",
            "también", "tambien", "está", "ese", "esa", "eso", "yo", "usted", "ustedes",
            "nosotros", "ellos", "ellas", "hasta", "donde", "sin", "otro", "otra", "otros",
            "otras", "mismo", "misma", "puede", "tiene", "tienen", "hacer", "aquí", "aqui", "así",
            "asi", "qué", "cómo", "hace", "mucho", "muchos", "más", "según", "porque", "la", "lo",
            "una", "con", "por", "para", "como",
        ],
    ),
    (&[Lang::Spa, Lang::Cat], &["el", "del", "al", "en", "un"]),
    (
        &[Lang::Por],
        &[
            "não", "nao", "uma", "um", "com", "mais", "foi", "ele", "ela", "eles", "você", "voce",
            "também", "muito", "muita", "isso", "isto", "pelo", "pela", "seu", "sua", "dos", "das",
            "em", "ao", "aos", "os", "até", "onde", "já", "há", "tem", "mas", "ou", "meu", "minha",
            "nós", "eu", "está", "por", "para", "como", "porque", "são",
        ],
    ),
    (
        &[Lang::Ita],
        &[
            "il", "della", "delle", "degli", "dei", "che", "non", "sono", "è", "questo", "questa",
            "anche", "più", "molto", "nel", "nella", "gli", "alla", "alle", "sul", "sulla",
            "essere", "stato", "hanno", "perché", "così", "ancora", "dove", "tutto", "tutti",
            "fatto", "ci", "con", "una", "per", "come",
        ],
    ),
    (
        &[Lang::Cat],
        &[
            "els", "amb", "és", "però", "aquest", "aquesta", "també", "molt", "més", "seva",
            "dels", "als", "això", "quan", "perquè", "fins", "són", "per", "una", "la", "el",
            "del", "al", "en", "un",
        ],
    ),
    (
        &[Lang::Nld, Lang::Afr],
        &[
            "het", "een", "niet", "ook", "maar", "hulle", "jy", "sy", "vir", "omdat", "deur",
            "wat", "hierdie", "naar", "zijn", "wordt", "worden", "hij", "wij", "bij", "deze",
            "dit", "heeft", "hebben", "geen", "veel", "ek", "van", "die", "nie",
        ],
    ),
    (
        &[Lang::Dan, Lang::Nob, Lang::Swe],
        &[
            "og", "ikke", "inte", "jeg", "jag", "det", "och", "att", "til", "till", "på", "med",
            "som", "har", "efter", "blev", "hvor", "når", "också", "også", "være", "vara", "havde",
            "hade", "skal", "ska", "meget", "mycket", "mig", "sig", "hun", "hon", "hvad", "vad",
            "eller", "fra", "från", "av",
        ],
    ),
    (
        &[Lang::Rus],
        &[
            "что",
            "это",
            "мне",
            "меня",
            "его",
            "ее",
            "её",
            "уже",
            "только",
            "если",
            "когда",
            "был",
            "была",
            "было",
            "были",
            "быть",
            "нет",
            "вот",
            "тоже",
            "здесь",
            "сейчас",
            "теперь",
            "потом",
            "очень",
            "надо",
            "нужно",
            "чтобы",
            "себя",
            "который",
            "которые",
            "которая",
            "которого",
            "которых",
            "также",
            "можно",
            "будет",
            "будут",
            "еще",
            "ещё",
            "него",
            "ему",
            "лишь",
            "даже",
            "почему",
            "потому",
            "хорошо",
            "ничего",
            "никогда",
            "всегда",
            "сегодня",
            "сразу",
            "более",
            "время",
            "года",
            "году",
            "человек",
            "мы",
            "вы",
            "ты",
            "их",
            "всех",
            "после",
            "между",
            "со",
            "об",
            "бы",
            "ведь",
            "чем",
            "тем",
            "как",
            "так",
            "он",
            "она",
            "они",
            "все",
            "тебя",
            "кто",
            "где",
            "или",
            "того",
            "к",
            "вдруг",
            "уж",
            "есть",
            "ней",
            "чтоб",
            "будто",
            "чего",
            "тогда",
            "какой",
            "совсем",
            "почти",
            "нее",
            "куда",
            "зачем",
            "наконец",
            "другой",
            "хоть",
            "больше",
            "тот",
            "всего",
            "какая",
            "разве",
            "впрочем",
            "иногда",
            "лучше",
            "чуть",
            "нельзя",
            "такой",
            "конечно",
            "всю",
            "ей",
            "вас",
            "опять",
            "нибудь",
            "самый",
            "теперь",
            "сказал",
            "сказала",
            "говорит",
            "знаю",
            "здесь",
            "тут",
        ],
    ),
    (
        &[Lang::Ukr],
        &[
            "що",
            "це",
            "він",
            "вона",
            "вони",
            "але",
            "або",
            "від",
            "вже",
            "був",
            "була",
            "було",
            "були",
            "бути",
            "мені",
            "його",
            "її",
            "цей",
            "ця",
            "ці",
            "цього",
            "який",
            "яка",
            "яке",
            "які",
            "якщо",
            "тепер",
            "потім",
            "дуже",
            "треба",
            "також",
            "року",
            "років",
            "щоб",
            "можна",
            "буде",
            "має",
            "немає",
            "нема",
            "хоча",
            "тобто",
            "завжди",
            "й",
            "і",
            "як",
            "так",
            "та",
            "ще",
            "де",
            "того",
            "ми",
            "ви",
            "ти",
            "мене",
            "тут",
            "вас",
            "нас",
        ],
    ),
    (
        &[Lang::Bel],
        &[
            "гэта",
            "што",
            "яго",
            "але",
            "ці",
            "ўсё",
            "калі",
            "таксама",
            "вельмі",
            "трэба",
            "можна",
            "і",
            "як",
        ],
    ),
    (
        &[Lang::Bul, Lang::Mkd, Lang::Srp],
        &[
            "е",
            "се",
            "са",
            "ще",
            "със",
            "във",
            "към",
            "това",
            "тази",
            "този",
            "тези",
            "които",
            "която",
            "който",
            "което",
            "беше",
            "бяха",
            "няма",
            "има",
            "след",
            "като",
            "си",
            "ги",
            "го",
            "му",
            "пък",
            "вече",
            "още",
            "тук",
            "сега",
            "защото",
            "обаче",
            "според",
            "чрез",
            "всички",
            "нещо",
            "нищо",
            "днес",
            "че",
            "ние",
            "вие",
            "тя",
            "як",
            "ти",
            "ми",
            "ви",
            "мене",
            "он",
            "она",
            "они",
            "где",
            "бил",
            "била",
            "било",
            "били",
            "трябва",
            "както",
            "когато",
            "където",
            "кой",
            "коя",
            "какво",
            "защо",
            "колко",
            "също",
            "година",
            "години",
            "хора",
            "ни",
            "им",
            "ѝ",
            "съм",
            "сме",
            "сте",
            "нашата",
            "је",
            "од",
        ],
    ),
];

/// Word -> index into [`FUNCTION_WORDS`], for words that belong to exactly one group.
fn function_words() -> &'static HashMap<&'static str, usize> {
    static MAP: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: HashMap<&'static str, Option<usize>> = HashMap::new();
        for (gi, (_, words)) in FUNCTION_WORDS.iter().enumerate() {
            for w in *words {
                map.entry(*w)
                    .and_modify(|g| {
                        if *g != Some(gi) {
                            *g = None;
                        }
                    })
                    .or_insert(Some(gi));
            }
        }
        map.into_iter()
            .filter_map(|(w, g)| g.map(|g| (w, g)))
            .collect()
    })
}

/// At most this many words are looked up (the vote is settled long before).
const MAX_VOTING_WORDS: usize = 2_000;

/// Function-word votes per group, and how many words were looked at.
struct Votes {
    counts: Vec<usize>,
    words: usize,
}

impl Votes {
    /// Votes for one language: the sum over the groups that contain it.
    fn for_lang(&self, lang: Lang) -> usize {
        FUNCTION_WORDS
            .iter()
            .zip(&self.counts)
            .filter(|((langs, _), _)| langs.contains(&lang))
            .map(|(_, n)| *n)
            .sum()
    }

    /// The allowed languages with the most votes (ties kept, e.g. a whole group) and their votes; None when no
    /// word voted.
    fn leaders(&self, allowed: &[Lang]) -> Option<(Vec<Lang>, usize)> {
        let scored: Vec<(Lang, usize)> = allowed.iter().map(|l| (*l, self.for_lang(*l))).collect();
        let best = scored.iter().map(|(_, n)| *n).max().filter(|n| *n > 0)?;
        Some((
            scored
                .into_iter()
                .filter(|(_, n)| *n == best)
                .map(|(l, _)| l)
                .collect(),
            best,
        ))
    }
}

/// Counts function words of the groups that contain an allowed language.
fn word_votes(text: &str, allowed: &[Lang]) -> Votes {
    let table = function_words();
    let mut counts = vec![0usize; FUNCTION_WORDS.len()];
    let usable: Vec<bool> = FUNCTION_WORDS
        .iter()
        .map(|(langs, _)| langs.iter().any(|l| allowed.contains(l)))
        .collect();
    let mut word = String::new();
    let mut words = 0usize;
    let ru_group = FUNCTION_WORDS
        .iter()
        .position(|(langs, _)| langs == &[Lang::Rus])
        .filter(|_| allowed.contains(&Lang::Rus));
    for raw in text
        .split(|c: char| !(c.is_alphabetic() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .take(MAX_VOTING_WORDS)
    {
        words += 1;
        word.clear();
        for c in raw.trim_matches(['\'', '’']).chars() {
            if c == '’' {
                word.push('\'');
            } else {
                word.extend(c.to_lowercase());
            }
        }
        // Russian adjective endings that Ukrainian and the South Slavic languages do not use.
        if ru_group.is_some()
            && word.chars().count() >= 4
            && ["ая", "яя", "ое"].iter().any(|e| word.ends_with(e))
        {
            if let Some(n) = ru_group.and_then(|g| counts.get_mut(g)) {
                *n += 1;
            }
            continue;
        }
        if let Some(&gi) = table.get(word.as_str()) {
            if usable.get(gi).copied().unwrap_or(false) {
                if let Some(n) = counts.get_mut(gi) {
                    *n += 1;
                }
            }
        }
    }
    Votes { counts, words }
}

fn lang_from_639_1(code: &str) -> Option<Lang> {
    Lang::all().iter().copied().find(|l| iso639_1(*l) == code)
}

fn is_mark(ch: char) -> bool {
    unicode_normalization::char::is_combining_mark(ch)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
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
        assert_eq!(chinese_script("台湾是中国的一部分"), Some("Hans"));
        assert_eq!(chinese_script("臺灣是中華民國的一部分"), Some("Hant"));
        assert_eq!(chinese_script("Taiwan"), None);
        assert_eq!(chinese_script(""), None);
        // Conversions of the same text land on opposite sides.
        let s = "两岸关系发展的历史经验证明，国家统一是大势所趋。";
        assert_eq!(chinese_script(&hanconv::s2t(s)), Some("Hant"));
        assert_eq!(chinese_script(&hanconv::t2s(hanconv::s2t(s))), Some("Hans"));
        assert_eq!(
            detect(&hanconv::s2t(s), &[]).script.as_deref(),
            Some("Hant")
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
