//! Text analysis for the full-text index. One tokenizer, `mw`, does the right thing per script, and
//! per-language analyzers `mw_<lang>` add a stemmer and diacritic folding on top of it.
//!
//! - Han runs: folded Traditional -> Simplified with OpenCC's Taiwan-phrase table (`tw2sp`, so 軟體 and
//!   软件 meet; a run whose conversion changes its length is folded character by character, so offsets
//!   stay exact), then cut by jieba in search mode (words, plus the dictionary words inside longer
//!   words). How Han runs are cut is a [`CjkMode`]; jieba search mode won the measurement against
//!   bigrams (README "Chinese search", test `chinese_modes_measured`). Every token sits at the position
//!   of its first character, so a query of several words is a phrase of words at the right distances.
//! - Kana (with the kanji around them) and Hangul runs: bigrams too (Japanese and Korean are searchable
//!   by substring, no dictionary).
//! - Everything else: runs of letters and digits (Latin, Cyrillic, Arabic, ...), lowercased, with ё folded
//!   to е.
//!
//! The `mw_<lang>` analyzers (see [`STEM_LANGS`]) feed the per-language stemmed fields of the index:
//! `mw`, then ASCII folding of Latin diacritics (so `securite` finds `sécurité`), then tantivy's Snowball
//! stemmer for the language.

use std::sync::LazyLock;

use crate::text::fold::simplify_char;
use crate::text::script::{is_cjk, is_hangul, is_kana};

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, Stemmer, TextAnalyzer, Token, TokenStream, Tokenizer,
    TokenizerManager,
};

/// The name the tokenizer is registered under.
pub const TOKENIZER: &str = "mw";

/// Longest token kept, in bytes (longer runs are junk such as base64).
const MAX_TOKEN_BYTES: usize = 80;

/// Languages (ISO 639-1) with a Snowball stemmer in tantivy, each with its stemmed field `stem_<lang>`.
pub const STEM_LANGS: [(&str, Language); 18] = [
    ("ar", Language::Arabic),
    ("da", Language::Danish),
    ("de", Language::German),
    ("el", Language::Greek),
    ("en", Language::English),
    ("es", Language::Spanish),
    ("fi", Language::Finnish),
    ("fr", Language::French),
    ("hu", Language::Hungarian),
    ("it", Language::Italian),
    ("nl", Language::Dutch),
    ("no", Language::Norwegian),
    ("pt", Language::Portuguese),
    ("ro", Language::Romanian),
    ("ru", Language::Russian),
    ("sv", Language::Swedish),
    ("ta", Language::Tamil),
    ("tr", Language::Turkish),
];

/// The analyzer name of a stemmed language field.
pub fn stem_tokenizer(lang: &str) -> String {
    format!("mw_{lang}")
}

/// Registers `mw` and every `mw_<lang>` analyzer. Custom tokenizers are not stored in an index: this
/// must run every time an index is opened.
pub fn register(manager: &TokenizerManager) {
    manager.register(TOKENIZER, MwTokenizer::default());
    manager.register(PAIRS_TOKENIZER, PairsTokenizer);
    for (lang, language) in STEM_LANGS {
        manager.register(
            &stem_tokenizer(lang),
            TextAnalyzer::builder(MwTokenizer::default())
                .filter(AsciiFoldingFilter)
                .filter(Stemmer::new(language))
                .build(),
        );
    }
}

/// The analyzer of the `title_pairs` and `text_pairs` fields ([`PairsTokenizer`]).
pub const PAIRS_TOKENIZER: &str = "mw_pairs";

/// The analyzers a query is parsed with: those of [`register`], except that a value in a pairs field
/// is one pair term as [`pair_term`] spells it and is taken as it is (the query was rewritten to it
/// from the phrase's own tokens, see `crate::search`).
pub fn query_tokenizers() -> TokenizerManager {
    let manager = TokenizerManager::default();
    register(&manager);
    manager.register(PAIRS_TOKENIZER, tantivy::tokenizer::RawTokenizer::default());
    manager
}

/// The common-word pairs of a text: one token per two adjacent tokens that are both common
/// ([`is_common`]), spelled as [`pair_term`] spells them (`"of the"`, `"не это"`, `"的 我们"`): see
/// [`common_pairs`] for the exact definition, which is what a phrase query of the two tokens matches.
/// Lucene's CommonGrams idea: a phrase such as "of the" is then one term lookup instead of a position
/// check on hundreds of thousands of documents. This is the index side; a query names a pair term
/// directly, through [`query_tokenizers`].
#[derive(Debug, Clone, Default)]
pub struct PairsTokenizer;

impl Tokenizer for PairsTokenizer {
    type TokenStream<'a> = MwTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MwTokenStream {
        MwTokenStream {
            tokens: common_pairs(text),
            index: 0,
        }
    }
}

/// The tokens of [`PairsTokenizer`]: the pairs `a` at position `p`, `b` at `p + width(a)` of
/// [`tokenize`] with both words common ([`is_common`], [`pairs_of`]), which is what a phrase query of
/// the two tokens matches. A text without CJK characters takes a fast path that folds its words in one
/// scan; a text with some takes its pairs from the jieba pass of the `text`/`title` field just before
/// ([`tokenize`] leaves them on the thread), or cuts the text itself when that pass did not happen.
pub fn common_pairs(text: &str) -> Vec<Token> {
    if text.chars().any(is_cjk) {
        return take_stashed_pairs(text).unwrap_or_else(|| pairs_of(&tokenize(text)));
    }
    let mut out = Vec::new();
    // The previous word if it is common and nothing but separators (or skipped over-long words, which
    // take no position) came since: (offset_from, folded word).
    let mut previous: Option<(usize, String)> = None;
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if is_word_char(c) {
            let mut end = start;
            while let Some(&(i, ch)) = chars.peek() {
                if !is_word_char(ch) {
                    break;
                }
                end = i + ch.len_utf8();
                chars.next();
            }
            if end - start > MAX_TOKEN_BYTES {
                continue;
            }
            let word = fold_word(&text[start..end]);
            if !is_common(&word) {
                previous = None;
                continue;
            }
            if let Some((from, a)) = previous.take() {
                out.push(token(from, end, out.len(), pair_term(&a, &word)));
            }
            previous = Some((start, word));
        } else {
            chars.next();
        }
    }
    out
}

/// How many positions a token of [`tokenize`] spans: a CJK token sits at its first character's
/// position and the next token of a chain starts one position per character later; any other token
/// takes one position.
pub fn token_width(token: &str) -> usize {
    if token.chars().next().is_some_and(is_cjk) {
        token.chars().count()
    } else {
        1
    }
}

/// The common-word pairs of a token list: every `a`, `b` with `b.position == a.position +
/// token_width(a)` and both common, in the order of `a` then `b` in the list, spelled by
/// [`pair_term`], offsets from `a`'s start to `b`'s end.
pub fn pairs_of(tokens: &[Token]) -> Vec<Token> {
    let mut common: Vec<&Token> = tokens.iter().filter(|t| is_common(&t.text)).collect();
    if common.len() < 2 {
        return Vec::new();
    }
    common.sort_by_key(|t| t.position);
    let mut out = Vec::new();
    for a in &common {
        let next = a.position + token_width(&a.text);
        let from = common.partition_point(|t| t.position < next);
        for b in common[from..].iter().take_while(|t| t.position == next) {
            out.push(token(
                a.offset_from,
                b.offset_to,
                out.len(),
                pair_term(&a.text, &b.text),
            ));
        }
    }
    out
}

/// Pairs worked out by [`tokenize`] for the last few texts with CJK characters on this thread (text,
/// pairs): tantivy tokenizes a document's fields one after another on one thread (`title`, `text`,
/// then the pairs fields), so the pairs fields need no second jieba pass.
const STASH: usize = 6;

thread_local! {
    static PAIRS_STASH: std::cell::RefCell<std::collections::VecDeque<(String, Vec<Token>)>> =
        const { std::cell::RefCell::new(std::collections::VecDeque::new()) };
}

fn stash_pairs(text: &str, tokens: &[Token]) {
    let pairs = pairs_of(tokens);
    PAIRS_STASH.with(|stash| {
        let mut stash = stash.borrow_mut();
        if stash.len() == STASH {
            stash.pop_front();
        }
        stash.push_back((text.to_string(), pairs));
    });
}

fn take_stashed_pairs(text: &str) -> Option<Vec<Token>> {
    PAIRS_STASH.with(|stash| {
        let mut stash = stash.borrow_mut();
        let at = stash.iter().rposition(|(t, _)| t == text)?;
        stash.remove(at).map(|(_, pairs)| pairs)
    })
}

/// The `text_pairs` term of two adjacent tokens (tokens never hold a space).
pub fn pair_term(a: &str, b: &str) -> String {
    let mut s = String::with_capacity(a.len() + b.len() + 1);
    s.push_str(a);
    s.push(' ');
    s.push_str(b);
    s
}

/// Whether a token (as [`tokenize`] folds it) is one of the most frequent words of a language we
/// monitor: articles, prepositions, pronouns, auxiliaries and particles ([`COMMON_WORDS`]). A phrase
/// of two of them is answered from the pairs fields.
pub fn is_common(token: &str) -> bool {
    static SET: LazyLock<std::collections::HashSet<&'static str>> = LazyLock::new(|| {
        COMMON_WORDS
            .iter()
            .flat_map(|(_, words)| words.split_whitespace())
            .collect()
    });
    SET.contains(token)
}

/// The common words per language, written for mediawatch (lower case, ё as е, as the tokenizer folds
/// them; Chinese in Simplified characters, as Han runs are folded, and as jieba cuts them). Kept short:
/// every word here adds the pairs it makes to the index, so only function words found in a large share
/// of all articles belong (for Chinese: particles, pronouns, prepositions, conjunctions, auxiliaries,
/// adverbs of negation and degree, localizers, and the verbs of being, having and saying).
pub const COMMON_WORDS: [(&str, &str); 10] = [
    (
        "en",
        "a about above after again against all also am an and any are as at be because been before \
         being below between both but by can could did do does doing down during each few for from \
         further had has have having he her here hers herself him himself his how i if in into is it \
         its itself just me more most my myself no nor not now of off on once only or other our ours \
         ourselves out over own s said same she should so some such t than that the their theirs them \
         themselves then there these they this those through to too under until up very was we were \
         what when where which while who whom why will with would you your yours yourself",
    ),
    (
        "ru",
        "а без более бы был была были было быть в вам вас весь во вот все всего всех вы где да даже \
         для до его ее если есть еще же за здесь и из или им их к как какой когда кто ли между меня \
         мне может мы на над нас не него нее нет ни них но ну о об он она они от очень по под после \
         при про раз с свою себе себя со так также там тем то того тоже только том тот ты у уже чем \
         что чтобы эти это этого этой этом этот я которые который которого которая которых котором \
         никогда будет можно них всегда",
    ),
    (
        "uk",
        "і й та в у на з із до що не як це він вона вони ми ви я ти за від по про для але або якщо так \
         також його її їх був була було були є бути вже ще який яка які цей ця ці той тому через після \
         між при над під без",
    ),
    (
        "de",
        "der die das den dem des ein eine einen einem einer eines und oder aber nicht ist sind war \
         wurde werden wird hat haben zu zum zur im in mit von vom für auf an am aus bei als auch es sie \
         er wir ich ihr sich dass so wie nach um noch nur über vor durch bis",
    ),
    (
        "fr",
        "le la les l de du des d un une et ou en à au aux dans par pour sur avec que qu qui ne n pas \
         est sont a été il elle ils nous vous je se s son sa ses leur plus ce cette ces y mais comme",
    ),
    (
        "es",
        "el la los las de del y o en a al un una que por para con no es son se su sus lo como más pero \
         ha fue le les ya este esta",
    ),
    (
        "it",
        "il lo la i gli le di da in con su per tra fra e o che non è un una del della dei delle al \
         alla",
    ),
    (
        "pt",
        "o a os as de do da dos das em no na nos nas um uma e ou que não é com por para se",
    ),
    ("nl", "de het een en van in is op te dat die niet met voor zijn"),
    (
        "zh",
        "的 了 着 过 之 地 得 所 是 有 在 和 与 及 以及 或 或者 而 并 并且 但 但是 而且 也 都 就 还 \
         又 再 才 只 不 没 没有 很 更 最 已 已经 曾 将 会 能 可 可以 要 应 应该 把 被 让 给 对 对于 向 \
         从 自 于 以 为 为了 因 因为 所以 如果 虽然 由 由于 这 那 这个 那个 这些 那些 这样 这种 其 \
         其中 此 该 各 每 我 你 他 她 它 我们 你们 他们 她们 它们 自己 个 等 一 一个 上 下 中 里 说 \
         表示",
    ),
];

/// How Han runs are cut into tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CjkMode {
    /// Overlapping character bigrams.
    Bigrams,
    /// jieba words (default mode, HMM on).
    Jieba,
    /// jieba search mode: words plus the dictionary words inside longer words (the index's choice).
    #[default]
    JiebaSearch,
    /// jieba search-mode words and bigrams, both at their character positions.
    JiebaAndBigrams,
}

/// The `mw` tokenizer.
#[derive(Debug, Clone, Default)]
pub struct MwTokenizer {
    /// How Han runs are cut.
    pub mode: CjkMode,
}

/// The tokens of one text.
pub struct MwTokenStream {
    tokens: Vec<Token>,
    index: usize,
}

impl Tokenizer for MwTokenizer {
    type TokenStream<'a> = MwTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> MwTokenStream {
        MwTokenStream {
            tokens: tokenize_with(text, self.mode),
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

/// A letter or digit of a word run: ASCII and basic Cyrillic without the general Unicode tables.
#[inline]
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else if ('\u{0410}'..='\u{044F}').contains(&c) {
        true
    } else {
        c.is_alphanumeric()
    }
}

/// Folds a Han run: OpenCC `tw2sp` (Taiwan phrases to mainland ones) when it keeps the length, so each
/// folded character still stands for one original character; else character by character.
fn fold_run(original: &str, chars: &[(usize, char)]) -> Vec<char> {
    let phrase: Vec<char> = hanconv::tw2sp(original).chars().collect();
    if phrase.len() == chars.len() {
        phrase
    } else {
        chars.iter().map(|&(_, c)| simplify_char(c)).collect()
    }
}

fn fold_word(word: &str) -> String {
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        // Basic Cyrillic: А-Я -> а-я without the general Unicode tables.
        if ('\u{0410}'..='\u{042F}').contains(&c) {
            out.push(char::from_u32(c as u32 + 0x20).unwrap_or(c));
            continue;
        }
        if ('\u{0430}'..='\u{044F}').contains(&c) {
            out.push(c);
            continue;
        }
        for l in c.to_lowercase() {
            out.push(if l == 'ё' { 'е' } else { l });
        }
    }
    out
}

/// The one jieba instance (its dictionary ships inside the crate: nothing is downloaded).
static JIEBA: LazyLock<tantivy_jieba::jieba_rs::Jieba> =
    LazyLock::new(tantivy_jieba::jieba_rs::Jieba::new);

/// Tokenizes `text` the way the index does (see the module doc).
pub fn tokenize(text: &str) -> Vec<Token> {
    tokenize_with(text, CjkMode::default())
}

/// Tokenizes `text`, cutting Han runs as `mode` says.
pub fn tokenize_with(text: &str, mode: CjkMode) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut has_cjk = false;
    let mut position = 0;
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if is_cjk(c) {
            has_cjk = true;
            let hangul = is_hangul(c);
            let mut run: Vec<(usize, char)> = Vec::new();
            while let Some(&(i, ch)) = chars.peek() {
                if !is_cjk(ch) || is_hangul(ch) != hangul {
                    break;
                }
                run.push((i, ch));
                chars.next();
            }
            let end = run_end(text, &run);
            let original = &text[start..end];
            let folded = if hangul {
                run.iter().map(|&(_, c)| c).collect()
            } else {
                fold_run(original, &run)
            };
            let has_kana = run.iter().any(|&(_, c)| is_kana(c));
            let mode = if hangul || has_kana {
                CjkMode::Bigrams
            } else {
                mode
            };
            cut_run(&run, &folded, end, position, mode, &mut tokens);
            position += run.len() + 1;
        } else if is_word_char(c) {
            let mut end = start;
            while let Some(&(i, ch)) = chars.peek() {
                if !is_word_char(ch) || is_cjk(ch) {
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
    if has_cjk && mode == CjkMode::default() {
        stash_pairs(text, &tokens);
    }
    tokens
}

/// Tokens of one CJK run: `run` holds the original characters with their byte offsets, `folded` the
/// folded characters (same length), `end` the byte offset after the run, `base` the position of its
/// first character. Every token sits at the position of its first character.
fn cut_run(
    run: &[(usize, char)],
    folded: &[char],
    end: usize,
    base: usize,
    mode: CjkMode,
    out: &mut Vec<Token>,
) {
    let first = out.len();
    let offset = |k: usize| run.get(k).map_or(end, |&(i, _)| i);
    let span = |from: usize, to: usize| -> String { folded[from..to].iter().collect() };
    if matches!(mode, CjkMode::Bigrams | CjkMode::JiebaAndBigrams) {
        if run.len() == 1 {
            out.push(token(offset(0), end, base, span(0, 1)));
        } else {
            for k in 0..run.len() - 1 {
                out.push(token(offset(k), offset(k + 2), base + k, span(k, k + 2)));
            }
        }
    }
    if mode == CjkMode::Bigrams {
        return;
    }
    let folded_text: String = folded.iter().collect();
    let words = match mode {
        CjkMode::Jieba => JIEBA.cut(&folded_text, true),
        _ => JIEBA.cut_for_search(&folded_text, true),
    };
    for w in words {
        if w.end <= w.start || w.end > run.len() {
            continue;
        }
        // Bigrams already hold every two-character word.
        if mode == CjkMode::JiebaAndBigrams && w.end - w.start <= 2 && run.len() > 1 {
            continue;
        }
        out.push(token(
            offset(w.start),
            offset(w.end),
            base + w.start,
            w.word.to_string(),
        ));
    }
    if mode == CjkMode::JiebaAndBigrams {
        out[first..].sort_by_key(|t| (t.position, t.offset_to));
    }
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
    fn common_pairs_are_the_adjacent_tokens_that_are_both_common() {
        let pairs =
            |s: &str| -> Vec<String> { common_pairs(s).into_iter().map(|t| t.text).collect() };
        assert_eq!(
            pairs("The Independence of the Taiwan, OF THE the"),
            ["of the", "of the", "the the"]
        );
        assert!(pairs("Taiwan independence activists of").is_empty());
        assert_eq!(
            pairs("Он сказал, что не это, а то"),
            ["что не", "не это", "это а", "а то"]
        );
        assert_eq!(
            pairs("我们的国家和他们的"),
            ["我们 的", "和 他们", "他们 的"]
        );
        // Words across a gap (a space, a Han run of one character) are not adjacent.
        assert!(pairs("的 我们").is_empty());
        // The definition: tokens at p and p + width of `tokenize`, both common. Han runs between
        // words, over-long words (no position), punctuation and case are all in here.
        let long = "x".repeat(MAX_TOKEN_BYTES + 1);
        for text in [
            "the 台湾 of the 的 is",
            &format!("of {long} the, and: in. TO it"),
            "国台办表示，台湾是中国的一部分 and the army, 反对 the 台独 of",
            "Власти Украины, у Запада — и не только; ёлка ещё не",
            "l'armée de la défense et à la mer",
            "他说，我们的国家是一个和平的国家。中华人民共和国的他们也在这里",
            "the的 是the 我们的of the 這個是臺灣的",
        ] {
            let tokens = tokenize(text);
            let mut want = Vec::new();
            for a in &tokens {
                let width = a.text.chars().count();
                let width = if a.text.chars().all(is_cjk) { width } else { 1 };
                for b in tokens.iter().filter(|b| b.position == a.position + width) {
                    if is_common(&a.text) && is_common(&b.text) {
                        want.push(pair_term(&a.text, &b.text));
                    }
                }
            }
            assert_eq!(pairs(text), want, "{text}");
        }
        // A word and the Han run right after it are adjacent; a Han run and the word after it are not.
        assert_eq!(pairs("the 台湾 of the 的 is"), ["of the", "the 的"]);
        // The stash left by the `text` field's pass gives the same pairs as a pass of its own.
        let text = "他说，我们的国家是一个和平的国家 and the army";
        let fresh = pairs(text);
        assert!(fresh.len() >= 2, "{fresh:?}");
        tokenize(text);
        assert_eq!(pairs(text), fresh);
    }

    #[test]
    fn words_are_lowercased_and_yo_folded() {
        assert_eq!(
            texts("Taiwan's Ёлка, КИЕВ-2026"),
            ["taiwan", "s", "елка", "киев", "2026"]
        );
    }

    fn bigrams(s: &str) -> Vec<String> {
        tokenize_with(s, CjkMode::Bigrams)
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn han_runs_are_folded_then_cut_into_words() {
        assert_eq!(texts("臺灣海峽"), texts("台湾海峡"));
        assert!(texts("台湾海峡").contains(&"台湾".to_string()));
        assert_eq!(texts("AI技术"), ["ai", "技术"]);
        // Taiwan vocabulary meets the mainland's (OpenCC tw2sp), punctuation is dropped.
        assert_eq!(texts("軟體，"), ["软件"]);
        assert_eq!(texts("软件"), ["软件"]);
    }

    #[test]
    fn bigram_mode_cuts_overlapping_pairs() {
        assert_eq!(bigrams("臺灣海峽"), ["台湾", "湾海", "海峡"]);
        assert_eq!(bigrams("在 台"), ["在", "台"]);
    }

    #[test]
    fn japanese_and_korean_are_bigrams() {
        assert_eq!(texts("東京です"), ["东京", "京で", "です"]);
        assert_eq!(texts("서울에서 회담"), ["서울", "울에", "에서", "회담"]);
    }

    #[test]
    fn offsets_point_into_the_original_text() {
        let text = "x 臺灣海峽";
        let toks = tokenize_with(text, CjkMode::Bigrams);
        assert_eq!(&text[toks[1].offset_from..toks[1].offset_to], "臺灣");
        assert_eq!(&text[toks[3].offset_from..toks[3].offset_to], "海峽");
        let positions: Vec<usize> = toks.iter().map(|t| t.position).collect();
        assert_eq!(positions, [0, 1, 2, 3]);
        for t in tokenize(text) {
            assert!(text.is_char_boundary(t.offset_from) && text.is_char_boundary(t.offset_to));
            assert!(t.offset_from < t.offset_to);
        }
    }

    #[test]
    fn jieba_modes_cut_words_at_character_positions() {
        let toks = tokenize_with("台湾海峡局势", CjkMode::Jieba);
        let words: Vec<(&str, usize)> =
            toks.iter().map(|t| (t.text.as_str(), t.position)).collect();
        assert_eq!(words, [("台湾海峡", 0), ("局势", 4)]);
        let both = tokenize_with("台湾海峡局势", CjkMode::JiebaAndBigrams);
        assert!(both.iter().any(|t| t.text == "台湾海峡" && t.position == 0));
        assert!(both.iter().any(|t| t.text == "峡局" && t.position == 3));
    }

    #[test]
    fn stemmed_analyzers_stem_and_fold() {
        let manager = TokenizerManager::default();
        register(&manager);
        let stems = |lang: &str, text: &str| -> Vec<String> {
            let mut analyzer = manager.get(&stem_tokenizer(lang)).expect("registered");
            let mut stream = analyzer.token_stream(text);
            let mut out = Vec::new();
            while let Some(t) = stream.next() {
                out.push(t.text.clone());
            }
            out
        };
        assert_eq!(stems("ru", "Украины"), stems("ru", "Украина"));
        assert_eq!(stems("en", "sanctions"), stems("en", "sanction"));
        assert_eq!(stems("fr", "Sécurité"), stems("fr", "securite"));
        assert_eq!(stems("de", "Sanktionen"), stems("de", "Sanktion"));
    }

    #[test]
    fn junk_is_dropped() {
        assert!(texts(&"a".repeat(200)).is_empty());
        assert!(texts("  ,,; — !「」。、").is_empty());
    }

    /// The labelled set the Han-run modes are measured on (README "Chinese search"). Texts are ours.
    const DOCS: &[&str] = &[
        "解放军东部战区在台湾海峡举行联合战备警巡。",
        "國台辦批評民進黨當局推動台獨分裂活動。",
        "中华人民共和国外交部发言人表示，台湾是中国领土不可分割的一部分。",
        "海外华人社团举行春节联欢活动。",
        "乌克兰总统呼吁西方国家加强对俄罗斯的制裁。",
        "美国对俄罗斯实施新一轮经济制裁措施。",
        "台湾独立运动的支持者在台北集会。",
        "这家软件公司在北京发布了新的人工智能模型。",
        "這家軟體公司在臺北發表新的人工智慧模型。",
        "北京市气象台发布寒潮蓝色预警。",
        "两岸关系和平发展符合两岸同胞共同利益。",
        "人民日报发表评论员文章，批评美国干涉中国内政。",
        "专家认为和平统一是解决台湾问题的最佳方式。",
        "香港特区政府宣布新的国家安全条例草案。",
        "科学家研究生命起源的新发现。",
        "南京市长江大桥迎来通车五十周年。",
        "乌克兰东部顿涅茨克地区局势紧张。",
        "外交部长王毅会见来访的俄罗斯外长拉夫罗夫。",
    ];

    /// Queries and the documents a researcher expects (by meaning, not by string).
    const QUERIES: &[(&str, &[usize])] = &[
        ("台湾", &[0, 2, 6, 12]),
        ("台独", &[1]),
        ("华人", &[3]),
        ("制裁", &[4, 5]),
        ("人民", &[2, 11]),
        ("软件", &[7, 8]),
        ("人工智能", &[7, 8]),
        ("和平", &[10, 12]),
        ("台湾海峡", &[0]),
        ("独立", &[6]),
        ("两岸", &[10]),
        ("战备警巡", &[0]),
        ("俄罗斯", &[4, 5, 17]),
        ("生命", &[14]),
        ("研究", &[14]),
        ("市长", &[]),
        ("长江", &[15]),
        ("顿涅茨克", &[16]),
        ("东部", &[0, 16]),
        ("拉夫罗夫", &[17]),
        ("外长", &[17]),
        ("部长", &[17]),
        ("乌克兰 局势", &[16]),
        ("警巡", &[0]),
        ("解放军", &[0]),
        ("王毅", &[17]),
        ("台北", &[6, 8]),
        ("起源", &[14]),
        ("特区", &[13]),
        ("条例", &[13]),
        ("蓝色预警", &[9]),
        ("北京", &[7, 9]),
        ("寒潮 预警", &[9]),
        ("统一", &[12]),
        ("国家安全", &[13]),
        ("安全", &[13]),
        ("香港", &[13]),
        ("民进党", &[1]),
    ];

    struct Measured {
        tp: usize,
        fp: usize,
        fn_: usize,
        index_bytes: u64,
        tokens: usize,
        terms: usize,
        tokens_per_sec: f64,
        misses: Vec<String>,
    }

    fn measure(mode: CjkMode) -> Measured {
        use std::collections::BTreeSet;
        use tantivy::collector::DocSetCollector;
        use tantivy::query::QueryParser;
        use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, STORED};
        use tantivy::{doc, Index};

        let mut b = Schema::builder();
        let text = b.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("m")
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        );
        let n = b.add_u64_field("n", STORED);
        let dir = tempfile::tempdir().expect("tempdir");
        let index = Index::create_in_dir(dir.path(), b.build()).expect("index");
        index.tokenizers().register("m", MwTokenizer { mode });
        let mut w: tantivy::IndexWriter = index
            .writer_with_num_threads(1, 15_000_000)
            .expect("writer");
        for (i, d) in DOCS.iter().enumerate() {
            w.add_document(doc!(text => *d, n => i as u64))
                .expect("add");
        }
        w.commit().expect("commit");
        w.wait_merging_threads().expect("merges");
        // Terms, postings and positions (the part that depends on the tokenizer).
        let index_bytes: u64 = std::fs::read_dir(dir.path())
            .expect("read_dir")
            .flatten()
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                [".idx", ".pos", ".term"].iter().any(|x| name.ends_with(x))
            })
            .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
            .sum();
        let searcher = index.reader().expect("reader").searcher();
        let mut parser = QueryParser::for_index(&index, vec![text]);
        parser.set_conjunction_by_default();
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        let mut misses = Vec::new();
        for (q, expected) in QUERIES {
            let query = parser.parse_query(q).expect("query");
            let found: BTreeSet<usize> = searcher
                .search(&query, &DocSetCollector)
                .expect("search")
                .into_iter()
                .map(|a| a.doc_id as usize)
                .collect();
            let expected: BTreeSet<usize> = expected.iter().copied().collect();
            tp += found.intersection(&expected).count();
            fp += found.difference(&expected).count();
            fn_ += expected.difference(&found).count();
            if found != expected {
                misses.push(format!("{q}: found {found:?}, expected {expected:?}"));
            }
        }
        let mut terms = BTreeSet::new();
        let mut tokens = 0;
        for d in DOCS {
            for t in tokenize_with(d, mode) {
                tokens += 1;
                terms.insert(t.text);
            }
        }
        let long: String = DOCS.concat().repeat(1000);
        tokenize_with("预热", mode);
        let started = std::time::Instant::now();
        let count = tokenize_with(&long, mode).len();
        let tokens_per_sec = count as f64 / started.elapsed().as_secs_f64().max(1e-9);
        Measured {
            tp,
            fp,
            fn_,
            index_bytes,
            tokens,
            terms: terms.len(),
            tokens_per_sec,
            misses,
        }
    }

    /// Prints the comparison (`cargo test --lib chinese_modes -- --nocapture`) and checks the choice.
    #[test]
    fn chinese_modes_measured() {
        let mut f1s = Vec::new();
        for mode in [
            CjkMode::Bigrams,
            CjkMode::Jieba,
            CjkMode::JiebaSearch,
            CjkMode::JiebaAndBigrams,
        ] {
            let m = measure(mode);
            let p = m.tp as f64 / (m.tp + m.fp).max(1) as f64;
            let r = m.tp as f64 / (m.tp + m.fn_).max(1) as f64;
            let f1 = 2.0 * p * r / (p + r).max(1e-9);
            eprintln!(
                "{mode:?}: precision {p:.3} recall {r:.3} F1 {f1:.3}; {} tokens, {} distinct terms, {} bytes of terms+postings+positions; {:.0} tokens/s",
                m.tokens, m.terms, m.index_bytes, m.tokens_per_sec
            );
            for miss in &m.misses {
                eprintln!("    {miss}");
            }
            f1s.push((mode, f1, r));
        }
        // The index's mode finds everything expected and has the best F1 of those that do.
        let best = f1s
            .iter()
            .filter(|(_, _, r)| *r >= 1.0)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(mode, _, _)| *mode);
        assert_eq!(best, Some(CjkMode::default()));
    }
}
