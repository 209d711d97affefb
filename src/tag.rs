//! Campaign tagging: which narrative campaigns' codebook terms occur in an article, with the evidence.
//!
//! All terms of all campaigns are normalised once ([`normalize`]) and compiled into ONE Aho-Corasick automaton;
//! an article's title and text are each normalised once and scanned once. A campaign tags an article when at
//! least `min_terms` distinct terms of it match. Every term list of a campaign is tried on every article whatever
//! its language (a Russian article may quote an English slogan); the list a term came from is only reported.
//!
//! Matching rules (each is tested below):
//! - Text and terms are normalised the same way: NFKC, Unicode lowercase, ё→е, Greek final sigma → σ, curly
//!   apostrophes → `'`, runs of whitespace → one space, and Traditional → Simplified Chinese character by
//!   character (OpenCC's character table via hanconv), so one `zh` list matches both scripts.
//! - Alphabetic scripts match on word boundaries: the character before and after a match must not be a letter,
//!   digit or combining mark of an alphabetic script. A term ending in `*` is a prefix (`Taiwan*` matches
//!   "Taiwanese"); one starting with `*` is a suffix. `*` elsewhere is an error.
//! - CJK (Han, kana, Hangul) and other scripts written without spaces (Thai, Lao, Khmer, Myanmar) have no word
//!   boundaries: their terms match as substrings. A boundary is only checked on a term's edge where the term
//!   itself has an alphabetic character.
//! - A wildcard term's reported position covers the whole word it matched ("Taiwan*" → "Taiwanese").
//! - Counts are non-overlapping per term. Different terms may match overlapping text (`台独` and `台独分子` both
//!   count); terms of one campaign that normalise to the same string are merged into the first one written.
//! - Positions are byte offsets into the ORIGINAL title/text (at most [`MAX_POSITIONS`] per term).
//!
//! Deliberately not done: stemming or morphology (write `Тайван*` for Russian case endings), phrase proximity,
//! negation or context, Traditional-Chinese *vocabulary* differences (資訊/信息: list both spellings), and
//! regular expressions.

use std::collections::HashMap;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use crate::model::{Affiliation, CampaignHit, CampaignSpec, FeedSpec, TermHit, TermPosition};
use crate::text::fold::simplify_char;
use crate::text::script::is_unspaced;

/// At most this many positions are kept per term (the count covers all matches).
pub const MAX_POSITIONS: usize = 10;

/// A text after [`normalize`], with a map back to byte offsets of the original.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalized {
    /// The normalised text.
    pub text: String,
    /// Where runs of the normalised text came from, ascending in both offsets, ending with a sentinel
    /// `(text.len(), original.len())`. Only changes of mapping are stored, so a plain ASCII or Cyrillic text
    /// needs a handful of entries rather than one per character.
    spans: Vec<Span>,
}

/// The start of a run of normalised text and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    /// Byte offset in the normalised text.
    norm: usize,
    /// Byte offset in the original text.
    orig: usize,
    /// True for a run of characters that each became one character of the same UTF-8 length (ASCII, Cyrillic,
    /// most Han): offsets inside map one to one. False for one source segment whose output differs in length
    /// (full-width forms, ligatures, whitespace runs, combining sequences): offsets inside widen to the segment.
    linear: bool,
}

impl Normalized {
    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The byte range of the original text that produced `range` of the normalised text. A range starting or
    /// ending inside the output of one source segment (e.g. inside the "fi" that "ﬁ" became) widens to that
    /// whole segment. Returns None for a range outside the normalised text or not on its character boundaries.
    pub fn original_range(&self, range: Range<usize>) -> Option<Range<usize>> {
        let (start, end) = (range.start, range.end);
        if start > end || !self.text.is_char_boundary(start) || !self.text.is_char_boundary(end) {
            return None;
        }
        // The span containing byte `start`.
        let si = self
            .spans
            .partition_point(|s| s.norm <= start)
            .checked_sub(1)?;
        let sp = self.spans.get(si)?;
        let orig_start = if sp.linear {
            sp.orig + (start - sp.norm)
        } else {
            sp.orig
        };
        if end == start {
            return Some(orig_start..orig_start);
        }
        // The span containing byte `end - 1`.
        let ei = self
            .spans
            .partition_point(|s| s.norm < end)
            .checked_sub(1)?;
        let ep = self.spans.get(ei)?;
        let orig_end = if ep.linear {
            ep.orig + (end - ep.norm)
        } else {
            self.spans.get(ei + 1)?.orig
        };
        Some(orig_start..orig_end.max(orig_start))
    }

    /// Records that normalised output from `norm` on came from original offset `orig`.
    fn push_span(&mut self, norm: usize, orig: usize, linear: bool) {
        if linear {
            if let Some(last) = self.spans.last() {
                // Same offset difference as the current linear run: nothing to record.
                if last.linear && last.norm.checked_add(orig) == norm.checked_add(last.orig) {
                    return;
                }
            }
        }
        self.spans.push(Span { norm, orig, linear });
    }
}

/// Normalises `text` for matching: NFKC, Unicode lowercase, ё→е, ς→σ, curly apostrophes → `'`, whitespace runs →
/// one space, invisible format characters (soft hyphen, zero-width space/joiners, BOM, direction marks) dropped,
/// Traditional → Simplified Chinese (character by character). The result maps back to byte offsets of `text`
/// with [`Normalized::original_range`]. Used for both codebook terms and article text; search and UI code can
/// reuse it to highlight matches the same way.
pub fn normalize(text: &str) -> Normalized {
    let mut n = Normalized {
        text: String::with_capacity(text.len() + text.len() / 8),
        spans: Vec::new(),
    };
    let mut iter = text.char_indices().peekable();
    while let Some((start, ch)) = iter.next() {
        let before = n.text.len();
        // Whitespace run -> one space.
        if ch.is_whitespace() {
            let mut end = start + ch.len_utf8();
            while let Some(&(i, c)) = iter.peek() {
                if !c.is_whitespace() {
                    break;
                }
                end = i + c.len_utf8();
                iter.next();
            }
            n.text.push(' ');
            n.push_span(before, start, end == start + 1);
            continue;
        }
        if is_ignorable(ch) {
            continue;
        }
        // A segment: one starter plus the combining characters that follow it (NFKC composes within it).
        let mut end = start + ch.len_utf8();
        while let Some(&(i, c)) = iter.peek() {
            if is_common_starter(c) || canonical_combining_class(c) == 0 {
                break;
            }
            end = i + c.len_utf8();
            iter.next();
        }
        let single = end == start + ch.len_utf8();
        if single && ch.is_ascii() {
            // ASCII: NFKC-stable, lowercase is one char.
            n.text.push(ch.to_ascii_lowercase());
        } else if single && is_stable_cjk(ch) {
            n.text.push(simplify_char(ch));
        } else if single && is_stable_cyrillic(ch) {
            n.text.push(lowercase_cyrillic(ch));
        } else {
            let seg = text.get(start..end).unwrap_or_default();
            if is_nfkc_quick(seg.chars()) == IsNormalized::Yes {
                for c in seg.chars() {
                    push_folded(&mut n.text, c);
                }
            } else {
                for c in seg.nfkc() {
                    push_folded(&mut n.text, c);
                }
            }
        }
        let produced = n.text.get(before..).unwrap_or_default();
        let linear = single && produced.len() == end - start && produced.chars().nth(1).is_none();
        n.push_span(before, start, linear);
    }
    let len = n.text.len();
    n.spans.push(Span {
        norm: len,
        orig: text.len(),
        linear: false,
    });
    n
}

/// Invisible format characters that only affect rendering or line breaking; dropped before matching.
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Lowercases and folds one NFKC character into `out`.
fn push_folded(out: &mut String, c: char) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    if is_unspaced(c) {
        out.push(simplify_char(c));
        return;
    }
    if c.is_whitespace() {
        // NFKC of e.g. U+3000 or a no-break space; a space next to another space is harmless for matching.
        out.push(' ');
        return;
    }
    for l in c.to_lowercase() {
        let l = match l {
            'ё' => 'е',
            'ς' => 'σ',
            '\u{2019}' | '\u{2018}' | '\u{02BC}' => '\'',
            other => other,
        };
        out.push(l);
    }
}

/// Characters of common scripts that are certainly starters (canonical combining class 0), checked without a
/// table lookup.
fn is_common_starter(c: char) -> bool {
    c.is_ascii() || is_stable_cyrillic(c) || is_stable_cjk(c)
}

/// Cyrillic letters (not the combining marks U+0483..U+0489), all of which NFKC leaves alone.
fn is_stable_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{0482}' | '\u{048A}'..='\u{052F}')
}

/// Lowercase of a Cyrillic letter (one char for all of U+0400..U+052F), with ё folded to е.
fn lowercase_cyrillic(c: char) -> char {
    let lower = match c {
        'А'..='Я' => char::from_u32(c as u32 + 0x20).unwrap_or(c),
        'Ѐ'..='Џ' => char::from_u32(c as u32 + 0x50).unwrap_or(c),
        'а'..='я' | 'ѐ'..='џ' => c,
        _ => c.to_lowercase().next().unwrap_or(c),
    };
    if lower == 'ё' {
        'е'
    } else {
        lower
    }
}

/// Han, kana and Hangul syllables that NFKC leaves alone (not compatibility ideographs or half-width forms).
fn is_stable_cjk(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7A3}')
}

/// A character that continues a word of an alphabetic script (so a match next to it is inside a word).
fn is_word_char(c: char) -> bool {
    (c.is_alphanumeric() || is_combining_mark(c) || c == '_') && !is_unspaced(c)
}

// ---------------------------------------------------------------------------------------------------------------
// Tagger

/// What [`Tagger::tag`] looks at: the article and its source (for `feeds` / `affiliations` / `countries`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TagInput<'a> {
    /// Headline.
    pub title: &'a str,
    /// Main text.
    pub text: &'a str,
    /// Detected ISO 639-1 language ("und" when unknown); reported only, it restricts nothing.
    pub lang: &'a str,
    /// Feed id of the source ("" when unknown).
    pub feed: &'a str,
    /// Affiliation of the source.
    pub affiliation: Affiliation,
    /// ISO 3166-1 alpha-2 country of the source.
    pub country: Option<&'a str>,
}

impl<'a> TagInput<'a> {
    /// An article from a configured feed.
    pub fn for_feed(feed: &'a FeedSpec, title: &'a str, text: &'a str, lang: &'a str) -> Self {
        TagInput {
            title,
            text,
            lang,
            feed: &feed.id,
            affiliation: feed.affiliation,
            country: feed.country.as_deref(),
        }
    }

    /// A text from no known source: campaigns restricted to feeds, affiliations or countries do not tag it.
    pub fn text(title: &'a str, text: &'a str, lang: &'a str) -> Self {
        TagInput {
            title,
            text,
            lang,
            ..TagInput::default()
        }
    }
}

/// Why a campaign did or did not tag an article ([`Tagger::explain`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// Campaign id.
    pub id: String,
    /// What [`Tagger::tag`] decides: `text_match && source_ok`.
    pub tagged: bool,
    /// The rules on the text hold: `min_terms`, `all`, `near`, `none`.
    pub text_match: bool,
    /// The source passes `feeds`, `affiliations` and `countries`.
    pub source_ok: bool,
    /// Distinct main terms that matched.
    pub main_terms: usize,
    /// The campaign's `min_terms`.
    pub min_terms: usize,
    /// Per `all` group: whether one of its terms matched.
    pub all_groups: Vec<bool>,
    /// Per `near` rule: whether it holds.
    pub near: Vec<bool>,
    /// The `none` terms that matched (as written).
    pub vetoed_by: Vec<String>,
    /// The evidence a hit would carry (see [`Tagger::tag`]).
    pub terms: Vec<TermHit>,
    /// The score a hit would carry.
    pub score: f64,
}

impl Explanation {
    /// One line: which conditions held and which did not.
    pub fn why(&self) -> String {
        let mut parts = vec![format!(
            "{} of min_terms {} main terms",
            self.main_terms, self.min_terms
        )];
        let list = |v: &[bool], want: bool| -> String {
            v.iter()
                .enumerate()
                .filter(|(_, &b)| b == want)
                .map(|(i, _)| (i + 1).to_string())
                .collect::<Vec<_>>()
                .join(",")
        };
        if !self.all_groups.is_empty() {
            let missing = list(&self.all_groups, false);
            if missing.is_empty() {
                parts.push("all groups matched".to_string());
            } else {
                parts.push(format!("all groups missing: {missing}"));
            }
        }
        if !self.near.is_empty() {
            let holding = list(&self.near, true);
            if holding.is_empty() {
                parts.push("no near rule holds".to_string());
            } else {
                parts.push(format!("near rules holding: {holding}"));
            }
        }
        if !self.vetoed_by.is_empty() {
            parts.push(format!(
                "vetoed by none terms: {}",
                self.vetoed_by.join(", ")
            ));
        }
        if !self.source_ok {
            parts.push("source excluded by feeds/affiliations/countries".to_string());
        }
        parts.join("; ")
    }
}

/// What a term is for in its campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Role {
    /// `[campaigns.terms]`: counted for `min_terms`.
    Main,
    /// `all` group (index).
    All(usize),
    /// `none`.
    Veto,
    /// `near` rule (index), side 0 or 1.
    Near(usize, usize),
}

/// One codebook term of one campaign, after normalisation.
#[derive(Debug, Clone)]
struct Term {
    /// As written in the config.
    written: String,
    /// The language list it came from (main terms) or the rule ("all:1", "near:2", "none").
    lang: String,
    /// What it is for.
    role: Role,
    /// Its pattern in the automaton.
    pid: usize,
    /// Check for a word boundary before / after the match.
    boundary_start: bool,
    boundary_end: bool,
    /// Written with a leading / trailing `*`: the reported match widens to the whole word.
    wild_start: bool,
    wild_end: bool,
}

#[derive(Debug, Clone)]
struct Campaign {
    id: String,
    min_terms: usize,
    terms: Vec<Term>,
    /// Number of `all` groups.
    all_groups: usize,
    /// Per `near` rule: term index of each side, and `within`.
    near: Vec<(usize, usize, usize)>,
    feeds: Vec<String>,
    affiliations: Vec<Affiliation>,
    countries: Vec<String>,
}

impl Campaign {
    fn source_ok(&self, input: &TagInput<'_>) -> bool {
        (self.feeds.is_empty() || self.feeds.iter().any(|f| f == input.feed))
            && (self.affiliations.is_empty() || self.affiliations.contains(&input.affiliation))
            && (self.countries.is_empty()
                || input
                    .country
                    .is_some_and(|c| self.countries.iter().any(|x| x.eq_ignore_ascii_case(c))))
    }
}

/// Where a pattern of the automaton is used: campaign index, term index.
type TermRef = (usize, usize);

/// At most this many match spans per `near` term and field are compared (the count covers all matches).
const MAX_NEAR_SPANS: usize = 256;

/// Matches of one term in one article.
#[derive(Debug, Clone, Default)]
struct Found {
    count: usize,
    positions: Vec<TermPosition>,
    /// Normalised byte spans in the field being scanned (`near` terms only; cleared after each field).
    spans: Vec<(usize, usize)>,
}

/// Matches of all terms, and which `near` rules hold, per campaign.
struct ScanState {
    found: Vec<Vec<Found>>,
    near_ok: Vec<Vec<bool>>,
}

/// Tags articles with campaigns. Built once from the codebook; `tag` is cheap and thread-safe.
#[derive(Debug, Clone)]
pub struct Tagger {
    campaigns: Vec<Campaign>,
    /// One automaton over the distinct normalised patterns of all terms of all campaigns.
    automaton: AhoCorasick,
    /// For each pattern id: the terms that use it.
    users: Vec<Vec<TermRef>>,
}

/// Why a codebook term is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermError {
    /// Nothing but spaces.
    #[error("empty term")]
    Empty,
    /// `*` alone.
    #[error("a term cannot be only '*'")]
    OnlyWildcard,
    /// A `*` inside the term.
    #[error("'*' is only allowed at the start or end of a term")]
    InnerWildcard,
    /// No letter or digit after normalisation.
    #[error("a term needs at least one letter or digit")]
    NoLetterOrDigit,
}

/// Why campaigns do not compile into a [`Tagger`]; each names the campaign (the config reports most of
/// these earlier, with their line).
#[derive(Debug, thiserror::Error)]
pub enum CodebookError {
    /// `min_terms` of 0.
    #[error("campaign {campaign:?}: min_terms must be at least 1")]
    ZeroMinTerms {
        /// Campaign id.
        campaign: String,
    },
    /// An `all` group without terms.
    #[error("campaign {campaign:?}: all group {group} is empty")]
    EmptyAllGroup {
        /// Campaign id.
        campaign: String,
        /// 1-based group number.
        group: usize,
    },
    /// A `near` rule with `within` 0.
    #[error("campaign {campaign:?}: near rule {rule}: within must be at least 1")]
    ZeroWithin {
        /// Campaign id.
        campaign: String,
        /// 1-based rule number.
        rule: usize,
    },
    /// A bad term (`lang` is the language, or `all:N`, `none`, `near:N`).
    #[error("campaign {campaign:?}, {lang} term {term:?}: {error}")]
    Term {
        /// Campaign id.
        campaign: String,
        /// Where the term is listed.
        lang: String,
        /// The term as written.
        term: String,
        /// What is wrong with it.
        error: TermError,
    },
    /// No main terms.
    #[error("campaign {campaign:?} has no terms")]
    NoTerms {
        /// Campaign id.
        campaign: String,
    },
    /// `min_terms` above the number of distinct main terms.
    #[error(
        "campaign {campaign:?}: min_terms is {min_terms} but it has only {distinct} distinct terms (after \
         normalisation), so it could never match"
    )]
    MinTermsUnreachable {
        /// Campaign id.
        campaign: String,
        /// The configured `min_terms`.
        min_terms: usize,
        /// Distinct main terms after normalisation.
        distinct: usize,
    },
    /// A `near` rule without two terms.
    #[error("campaign {campaign:?}: near rule {rule} needs two terms")]
    NearNeedsTwoTerms {
        /// Campaign id.
        campaign: String,
        /// 1-based rule number.
        rule: usize,
    },
    /// A `near` rule whose two terms normalise to one.
    #[error(
        "campaign {campaign:?}: near rule {rule}: its two terms are the same after normalisation"
    )]
    NearSameTerms {
        /// Campaign id.
        campaign: String,
        /// 1-based rule number.
        rule: usize,
    },
    /// The automaton over every term could not be built.
    #[error("building the campaign term automaton: {0}")]
    Automaton(aho_corasick::BuildError),
}

/// Checks one codebook term as the tagger will: the config uses it to report bad terms with their line.
pub fn check_term(term: &str) -> Result<(), TermError> {
    compile_term(term).map(|_| ())
}

/// Builds the automaton: collects distinct patterns and the terms using them.
#[derive(Default)]
struct Patterns {
    patterns: Vec<String>,
    ids: HashMap<String, usize>,
    users: Vec<Vec<TermRef>>,
}

impl Patterns {
    fn id(&mut self, pattern: String, user: TermRef) -> usize {
        let pid = match self.ids.get(&pattern) {
            Some(&pid) => pid,
            None => {
                let pid = self.patterns.len();
                self.ids.insert(pattern.clone(), pid);
                self.patterns.push(pattern);
                self.users.push(Vec::new());
                pid
            }
        };
        if let Some(u) = self.users.get_mut(pid) {
            u.push(user);
        }
        pid
    }
}

impl Tagger {
    /// Compiles all terms of all campaigns (main terms and the terms of `all`, `none` and `near`) into one
    /// automaton. Fails (naming the campaign and term) on a term that is empty after normalisation, has no letter
    /// or digit, is a lone `*`, or has `*` anywhere but at its ends; and on a campaign without main terms, with
    /// `min_terms` of 0 or above its number of distinct main terms (it could never match), with an empty `all`
    /// group, or with a `near` rule whose `within` is 0 or whose two terms are the same after normalisation.
    pub fn new(campaigns: &[CampaignSpec]) -> Result<Tagger, CodebookError> {
        let mut compiled = Vec::with_capacity(campaigns.len());
        let mut pats = Patterns::default();
        for (ci, spec) in campaigns.iter().enumerate() {
            if spec.min_terms == 0 {
                return Err(CodebookError::ZeroMinTerms {
                    campaign: spec.id.clone(),
                });
            }
            // (role, language label, terms)
            let mut lists: Vec<(Role, String, Vec<&String>)> = Vec::new();
            for (lang, list) in &spec.terms {
                lists.push((Role::Main, lang.clone(), list.iter().collect()));
            }
            for (g, group) in spec.all.iter().enumerate() {
                if group.is_empty() {
                    return Err(CodebookError::EmptyAllGroup {
                        campaign: spec.id.clone(),
                        group: g + 1,
                    });
                }
                lists.push((
                    Role::All(g),
                    format!("all:{}", g + 1),
                    group.iter().collect(),
                ));
            }
            lists.push((Role::Veto, "none".to_string(), spec.none.iter().collect()));
            for (r, rule) in spec.near.iter().enumerate() {
                if rule.within == 0 {
                    return Err(CodebookError::ZeroWithin {
                        campaign: spec.id.clone(),
                        rule: r + 1,
                    });
                }
                for (side, t) in rule.terms.iter().enumerate() {
                    lists.push((Role::Near(r, side), format!("near:{}", r + 1), vec![t]));
                }
            }
            let mut terms: Vec<Term> = Vec::new();
            // Within a campaign and role: normalised pattern + boundaries -> term index (duplicates merge).
            let mut seen: HashMap<(Role, String, bool, bool), usize> = HashMap::new();
            let mut near_sides: HashMap<(usize, usize), usize> = HashMap::new();
            for (role, lang, list) in lists {
                for written in list {
                    let CompiledTerm {
                        pattern,
                        boundary_start,
                        boundary_end,
                        wild_start,
                        wild_end,
                    } = compile_term(written).map_err(|error| CodebookError::Term {
                        campaign: spec.id.clone(),
                        lang: lang.clone(),
                        term: written.clone(),
                        error,
                    })?;
                    let key = (role, pattern.clone(), boundary_start, boundary_end);
                    if let Some(&ti) = seen.get(&key) {
                        if let Role::Near(r, s) = role {
                            near_sides.insert((r, s), ti);
                        }
                        continue;
                    }
                    let ti = terms.len();
                    seen.insert(key, ti);
                    if let Role::Near(r, s) = role {
                        near_sides.insert((r, s), ti);
                    }
                    let pid = pats.id(pattern, (ci, ti));
                    terms.push(Term {
                        written: written.clone(),
                        lang: lang.clone(),
                        role,
                        pid,
                        boundary_start,
                        boundary_end,
                        wild_start,
                        wild_end,
                    });
                }
            }
            let main = terms.iter().filter(|t| t.role == Role::Main).count();
            if main == 0 {
                return Err(CodebookError::NoTerms {
                    campaign: spec.id.clone(),
                });
            }
            if spec.min_terms > main {
                return Err(CodebookError::MinTermsUnreachable {
                    campaign: spec.id.clone(),
                    min_terms: spec.min_terms,
                    distinct: main,
                });
            }
            let mut near = Vec::with_capacity(spec.near.len());
            for (r, rule) in spec.near.iter().enumerate() {
                let (Some(&a), Some(&b)) = (near_sides.get(&(r, 0)), near_sides.get(&(r, 1)))
                else {
                    return Err(CodebookError::NearNeedsTwoTerms {
                        campaign: spec.id.clone(),
                        rule: r + 1,
                    });
                };
                let same = terms.get(a).map(|t| t.pid) == terms.get(b).map(|t| t.pid);
                if same {
                    return Err(CodebookError::NearSameTerms {
                        campaign: spec.id.clone(),
                        rule: r + 1,
                    });
                }
                near.push((a, b, rule.within));
            }
            compiled.push(Campaign {
                id: spec.id.clone(),
                min_terms: spec.min_terms,
                terms,
                all_groups: spec.all.len(),
                near,
                feeds: spec.feeds.clone(),
                affiliations: spec.affiliations.clone(),
                countries: spec.countries.clone(),
            });
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&pats.patterns)
            .map_err(CodebookError::Automaton)?;
        Ok(Tagger {
            campaigns: compiled,
            automaton,
            users: pats.users,
        })
    }

    /// Campaigns whose rules match the article and whose restrictions admit its source, with the evidence, in
    /// codebook order. A hit's `terms` are the matched main terms in codebook order (with their language), then
    /// the evidence of the rules: the matched terms of `all` groups (language "all:N", N counted from 1) and
    /// the terms of the `near` rules that hold ("near:N"), each pattern reported once. `score` is the sum of the
    /// counts of the reported terms. `none` terms are never reported (a match removes the tag).
    pub fn tag(&self, input: &TagInput<'_>) -> Vec<CampaignHit> {
        let state = self.scan_all(input);
        let mut hits = Vec::new();
        for (ci, campaign) in self.campaigns.iter().enumerate() {
            let (Some(found), Some(near_ok)) = (state.found.get(ci), state.near_ok.get(ci)) else {
                continue;
            };
            let c = conditions(campaign, found, near_ok);
            if c.text_match() && campaign.source_ok(input) {
                let (terms, score) = evidence(campaign, found, near_ok);
                hits.push(CampaignHit {
                    id: campaign.id.clone(),
                    score,
                    terms,
                });
            }
        }
        hits
    }

    /// [`Tagger::tag`] on a text from no known source (restricted campaigns do not tag it).
    pub fn tag_text(&self, title: &str, text: &str, lang: &str) -> Vec<CampaignHit> {
        self.tag(&TagInput::text(title, text, lang))
    }

    /// For every campaign, in codebook order, whether and why it tags the article.
    pub fn explain(&self, input: &TagInput<'_>) -> Vec<Explanation> {
        let state = self.scan_all(input);
        let mut out = Vec::with_capacity(self.campaigns.len());
        for (ci, campaign) in self.campaigns.iter().enumerate() {
            let (Some(found), Some(near_ok)) = (state.found.get(ci), state.near_ok.get(ci)) else {
                continue;
            };
            let c = conditions(campaign, found, near_ok);
            let text_match = c.text_match();
            let source_ok = campaign.source_ok(input);
            let (terms, score) = evidence(campaign, found, near_ok);
            out.push(Explanation {
                id: campaign.id.clone(),
                tagged: text_match && source_ok,
                text_match,
                source_ok,
                main_terms: c.main,
                min_terms: campaign.min_terms,
                all_groups: c.all,
                near: near_ok.clone(),
                vetoed_by: campaign
                    .terms
                    .iter()
                    .zip(found)
                    .filter(|(t, f)| t.role == Role::Veto && f.count > 0)
                    .map(|(t, _)| t.written.clone())
                    .collect(),
                terms,
                score,
            });
        }
        out
    }

    /// Scans title and text.
    fn scan_all(&self, input: &TagInput<'_>) -> ScanState {
        let mut state = ScanState {
            found: self
                .campaigns
                .iter()
                .map(|c| vec![Found::default(); c.terms.len()])
                .collect(),
            near_ok: self
                .campaigns
                .iter()
                .map(|c| vec![false; c.near.len()])
                .collect(),
        };
        for (field, original) in [("title", input.title), ("text", input.text)] {
            if original.is_empty() {
                continue;
            }
            self.scan(field, original, &mut state);
        }
        state
    }

    /// Scans one field and adds its matches to `state`, then checks the `near` rules on this field.
    fn scan(&self, field: &str, original: &str, state: &mut ScanState) {
        let norm = normalize(original);
        let hay = norm.as_str();
        let found = &mut state.found;
        // Per term: end of its last counted match in this field (counts are non-overlapping per term).
        let mut last_end: HashMap<TermRef, usize> = HashMap::new();
        let mut any_near = false;
        for m in self.automaton.find_overlapping_iter(hay) {
            let (s, e) = (m.start(), m.end());
            let Some(users) = self.users.get(m.pattern().as_usize()) else {
                continue;
            };
            let before_ok = hay
                .get(..s)
                .and_then(|h| h.chars().next_back())
                .is_none_or(|c| !is_word_char(c));
            let after_ok = hay
                .get(e..)
                .and_then(|h| h.chars().next())
                .is_none_or(|c| !is_word_char(c));
            for &(ci, ti) in users {
                let Some(term) = self.campaigns.get(ci).and_then(|c| c.terms.get(ti)) else {
                    continue;
                };
                if (term.boundary_start && !before_ok) || (term.boundary_end && !after_ok) {
                    continue;
                }
                // A wildcard term reports the whole word it matched ("Taiwan*" -> "Taiwanese").
                let s = if term.wild_start {
                    word_start(hay, s)
                } else {
                    s
                };
                let e = if term.wild_end { word_end(hay, e) } else { e };
                if last_end.get(&(ci, ti)).is_some_and(|&le| s < le) {
                    continue;
                }
                last_end.insert((ci, ti), e);
                let Some(slot) = found.get_mut(ci).and_then(|c| c.get_mut(ti)) else {
                    continue;
                };
                slot.count += 1;
                if matches!(term.role, Role::Near(..)) && slot.spans.len() < MAX_NEAR_SPANS {
                    slot.spans.push((s, e));
                    any_near = true;
                }
                if slot.positions.len() < MAX_POSITIONS {
                    if let Some(r) = norm.original_range(s..e) {
                        slot.positions.push(TermPosition {
                            field: field.to_string(),
                            start: r.start,
                            end: r.end,
                        });
                    }
                }
            }
        }
        if !any_near {
            return;
        }
        let mut tokens: Option<Vec<(usize, usize)>> = None;
        for (ci, campaign) in self.campaigns.iter().enumerate() {
            let (Some(f), Some(ok)) = (found.get_mut(ci), state.near_ok.get_mut(ci)) else {
                continue;
            };
            for (&(a, b, within), holds) in campaign.near.iter().zip(ok.iter_mut()) {
                if *holds {
                    continue;
                }
                let (Some(fa), Some(fb)) = (f.get(a), f.get(b)) else {
                    continue;
                };
                if fa.spans.is_empty() || fb.spans.is_empty() {
                    continue;
                }
                let toks = tokens.get_or_insert_with(|| tokenize(hay));
                *holds = spans_near(toks, &fa.spans, &fb.spans, within);
            }
            for &(a, b, _) in &campaign.near {
                for ti in [a, b] {
                    if let Some(slot) = f.get_mut(ti) {
                        slot.spans.clear();
                    }
                }
            }
        }
    }
}

/// Which of a campaign's text conditions hold.
struct Conditions {
    main: usize,
    min_terms: usize,
    all: Vec<bool>,
    near: bool,
    vetoed: bool,
}

impl Conditions {
    fn text_match(&self) -> bool {
        self.main > 0
            && self.main >= self.min_terms
            && self.all.iter().all(|&b| b)
            && self.near
            && !self.vetoed
    }
}

fn conditions(campaign: &Campaign, found: &[Found], near_ok: &[bool]) -> Conditions {
    let mut c = Conditions {
        main: 0,
        min_terms: campaign.min_terms,
        all: vec![false; campaign.all_groups],
        near: near_ok.is_empty() || near_ok.iter().any(|&b| b),
        vetoed: false,
    };
    for (term, f) in campaign.terms.iter().zip(found) {
        if f.count == 0 {
            continue;
        }
        match term.role {
            Role::Main => c.main += 1,
            Role::All(g) => {
                if let Some(slot) = c.all.get_mut(g) {
                    *slot = true;
                }
            }
            Role::Veto => c.vetoed = true,
            Role::Near(..) => {}
        }
    }
    c
}

/// The reported terms and score of a campaign (see [`Tagger::tag`]).
fn evidence(campaign: &Campaign, found: &[Found], near_ok: &[bool]) -> (Vec<TermHit>, f64) {
    let mut terms = Vec::new();
    let mut reported: Vec<usize> = Vec::new();
    let mut score = 0usize;
    // Main terms first, then rule evidence.
    for pass in [true, false] {
        for (term, f) in campaign.terms.iter().zip(found) {
            if f.count == 0 || (term.role == Role::Main) != pass {
                continue;
            }
            let report = match term.role {
                Role::Main | Role::All(_) => true,
                Role::Near(r, _) => near_ok.get(r).copied().unwrap_or(false),
                Role::Veto => false,
            };
            if !report || reported.contains(&term.pid) {
                continue;
            }
            reported.push(term.pid);
            score += f.count;
            terms.push(TermHit {
                term: term.written.clone(),
                lang: term.lang.clone(),
                count: f.count,
                positions: f.positions.clone(),
            });
        }
    }
    (terms, score as f64)
}

/// The tokens of a normalised text, as byte ranges: each run of word characters of an alphabetic script is one
/// token, and so is each CJK letter (Han character, kana, Hangul syllable). Spaces and punctuation are not.
fn tokenize(hay: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut word: Option<usize> = None;
    for (i, c) in hay.char_indices() {
        if is_word_char(c) {
            word.get_or_insert(i);
            continue;
        }
        if let Some(s) = word.take() {
            out.push((s, i));
        }
        if is_unspaced(c) && c.is_alphanumeric() {
            out.push((i, i + c.len_utf8()));
        }
    }
    if let Some(s) = word {
        out.push((s, hay.len()));
    }
    out
}

/// First and last token index covered by the byte span `s..e`.
fn token_span(tokens: &[(usize, usize)], s: usize, e: usize) -> Option<(usize, usize)> {
    let first = tokens.partition_point(|t| t.1 <= s);
    let end = tokens.partition_point(|t| t.0 < e);
    (first < end).then(|| (first, end - 1))
}

/// Whether a span of `a` and a span of `b` are at most `within` tokens apart (overlapping spans are 0 apart).
fn spans_near(
    tokens: &[(usize, usize)],
    a: &[(usize, usize)],
    b: &[(usize, usize)],
    within: usize,
) -> bool {
    let ta: Vec<(usize, usize)> = a
        .iter()
        .filter_map(|&(s, e)| token_span(tokens, s, e))
        .collect();
    let tb: Vec<(usize, usize)> = b
        .iter()
        .filter_map(|&(s, e)| token_span(tokens, s, e))
        .collect();
    ta.iter().any(|x| {
        tb.iter().any(|y| {
            // Overlapping spans are 0 apart.
            let gap = y.0.saturating_sub(x.1).max(x.0.saturating_sub(y.1));
            gap <= within
        })
    })
}

/// Start of the word that contains byte `i` of `hay` (alphabetic word characters only).
fn word_start(hay: &str, i: usize) -> usize {
    let Some(head) = hay.get(..i) else {
        return i;
    };
    let mut start = i;
    for (j, c) in head.char_indices().rev() {
        if !is_word_char(c) {
            break;
        }
        start = j;
    }
    start
}

/// End of the word that continues at byte `i` of `hay`.
fn word_end(hay: &str, i: usize) -> usize {
    let Some(tail) = hay.get(i..) else {
        return i;
    };
    let len = tail.find(|c: char| !is_word_char(c)).unwrap_or(tail.len());
    i + len
}

/// A codebook term after normalisation.
struct CompiledTerm {
    pattern: String,
    boundary_start: bool,
    boundary_end: bool,
    wild_start: bool,
    wild_end: bool,
}

/// Normalises and checks one codebook term.
fn compile_term(written: &str) -> Result<CompiledTerm, TermError> {
    let trimmed = written.trim();
    if trimmed.is_empty() {
        return Err(TermError::Empty);
    }
    let prefix_wild = trimmed.starts_with('*');
    let suffix_wild = trimmed.ends_with('*');
    let core = trimmed.trim_start_matches('*').trim_end_matches('*').trim();
    if core.is_empty() {
        return Err(TermError::OnlyWildcard);
    }
    if core.contains('*') {
        return Err(TermError::InnerWildcard);
    }
    let pattern = normalize(core).text.trim().to_string();
    if !pattern.chars().any(char::is_alphanumeric) {
        return Err(TermError::NoLetterOrDigit);
    }
    let first_word = pattern.chars().next().is_some_and(is_word_char);
    let last_word = pattern.chars().next_back().is_some_and(is_word_char);
    Ok(CompiledTerm {
        pattern,
        boundary_start: first_word && !prefix_wild,
        boundary_end: last_word && !suffix_wild,
        wild_start: prefix_wild,
        wild_end: suffix_wild,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NearRule;

    fn campaign(id: &str, min_terms: usize, terms: &[(&str, &[&str])]) -> CampaignSpec {
        CampaignSpec {
            id: id.to_string(),
            name: id.to_string(),
            description: String::new(),
            min_terms,
            terms: terms
                .iter()
                .map(|(l, ts)| (l.to_string(), ts.iter().map(|t| t.to_string()).collect()))
                .collect(),
            ..CampaignSpec::default()
        }
    }

    fn tagger(terms: &[(&str, &[&str])]) -> Tagger {
        Tagger::new(&[campaign("c", 1, terms)]).expect("valid codebook")
    }

    /// Total count of matches of a one-campaign tagger (0 when the campaign did not tag).
    fn count(t: &Tagger, text: &str) -> usize {
        t.tag_text("", text, "und")
            .first()
            .map_or(0, |h| h.score as usize)
    }

    #[test]
    fn word_boundaries_and_wildcards() {
        // (terms, text, expected count)
        let cases: &[(&[&str], &str, usize)] = &[
            (
                &["unification"],
                "peaceful reunification of the motherland",
                0,
            ),
            (&["unification"], "unification, now!", 1),
            (&["Taiwan"], "Taiwanese voters", 0),
            (&["Taiwan"], "Taiwan's election; TAIWAN votes", 2),
            (&["Taiwan*"], "Taiwanese voters in Taiwan", 2),
            (&["*unification"], "reunification and unification", 2),
            (&["separatist forces"], "the separatist   forces of", 1),
            (&["separatist forces"], "separatist\n\tforces", 1),
            (&["separatist forces"], "separatist, forces", 0),
            (&["нацисты"], "киевские неонацисты и нацисты", 1),
            (&["Тайван*"], "Тайваня, Тайваню и Тайвань", 3),
            (&["Taiwan"], "在Taiwan的", 1),
        ];
        for (terms, text, want) in cases {
            let t = tagger(&[("en", terms)]);
            assert_eq!(count(&t, text), *want, "{terms:?} in {text:?}");
        }
    }

    #[test]
    fn case_yo_and_nfkc_folding() {
        let cases: &[(&str, &str)] = &[
            ("Kiev regime", "the KIEV REGIME said"),
            ("киевский режим", "КИЕВСКИЙ РЕЖИМ"),
            ("всё", "Всё решено"),
            ("все", "ВСЁ решено"),
            ("всё", "все решено"),
            ("nazi", "ｎａｚｉ regime"), // full-width Latin
            ("NATO", "ＮＡＴＯ"),
            ("café", "cafe\u{0301} society"), // decomposed é
        ];
        for (term, text) in cases {
            let t = tagger(&[("xx", &[term])]);
            assert_eq!(count(&t, text), 1, "{term:?} in {text:?}");
        }
        // Full-width match maps back to the original (3-byte) characters.
        let t = tagger(&[("en", &["nato"])]);
        let hit = &t.tag_text("", "x ＮＡＴＯ y", "en")[0].terms[0];
        assert_eq!((hit.positions[0].start, hit.positions[0].end), (2, 14));
    }

    #[test]
    fn one_zh_list_matches_both_scripts_with_original_offsets() {
        let t = tagger(&[("zh", &["台湾", "台独"])]);
        let text = "臺灣與台灣，反對臺獨。台湾";
        let hits = t.tag_text("", text, "zh");
        assert_eq!(hits.len(), 1);
        let taiwan = &hits[0].terms[0];
        assert_eq!(taiwan.term, "台湾");
        assert_eq!(taiwan.lang, "zh");
        assert_eq!(taiwan.count, 3);
        let spans: Vec<&str> = taiwan
            .positions
            .iter()
            .map(|p| &text[p.start..p.end])
            .collect();
        assert_eq!(spans, ["臺灣", "台灣", "台湾"]);
        let duli = &hits[0].terms[1];
        assert_eq!(duli.count, 1);
        assert_eq!(
            &text[duli.positions[0].start..duli.positions[0].end],
            "臺獨"
        );
        // A Traditional term matches Simplified text as well.
        let t = tagger(&[("zh", &["臺獨"])]);
        assert_eq!(count(&t, "反对台独"), 1);
        // CJK matches are substrings: no word boundaries.
        let t = tagger(&[("zh", &["统一"])]);
        assert_eq!(count(&t, "祖国和平统一大业"), 1);
    }

    #[test]
    fn min_terms_needs_distinct_terms() {
        let spec = campaign(
            "c",
            2,
            &[
                ("en", &["Kiev regime", "neo-Nazis"]),
                ("ru", &["киевский режим"]),
            ],
        );
        let t = Tagger::new(&[spec]).expect("valid");
        assert!(
            t.tag_text("", "The Kiev regime. The Kiev regime again.", "en")
                .is_empty(),
            "same term twice is 1"
        );
        let hits = t.tag_text(
            "",
            "The Kiev regime and its neo-Nazis; киевский режим.",
            "en",
        );
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].terms.len(), 3);
        assert_eq!(hits[0].score, 3.0);
        assert_eq!(hits[0].terms[2].lang, "ru");
    }

    #[test]
    fn campaigns_in_config_order_and_no_match_is_absent() {
        let t = Tagger::new(&[
            campaign(
                "taiwan",
                1,
                &[("en", &["Taiwan independence"]), ("zh", &["台独"])],
            ),
            campaign("biolabs", 1, &[("en", &["biolab*"])]),
            campaign("ukraine", 1, &[("en", &["Kiev regime"])]),
        ])
        .expect("valid");
        let hits = t.tag_text(
            "Kiev regime",
            "US biolabs and Taiwan independence forces",
            "en",
        );
        let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["taiwan", "biolabs", "ukraine"]);
        assert!(t.tag_text("Weather", "Sunny tomorrow.", "en").is_empty());
        assert!(t.tag_text("", "", "und").is_empty());
    }

    #[test]
    fn positions_in_title_and_text() {
        let t = tagger(&[("en", &["Taiwan"])]);
        let title = "Why Taiwan matters";
        let text = "Taiwan. Again: Taiwan.";
        let hits = t.tag_text(title, text, "en");
        let h = &hits[0].terms[0];
        assert_eq!(h.count, 3);
        let got: Vec<(&str, usize, usize)> = h
            .positions
            .iter()
            .map(|p| (p.field.as_str(), p.start, p.end))
            .collect();
        assert_eq!(got, [("title", 4, 10), ("text", 0, 6), ("text", 15, 21)]);
    }

    #[test]
    fn wildcard_positions_cover_the_word() {
        let t = tagger(&[("en", &["Taiwan*", "*nazis"])]);
        let text = "Taiwanese and neonazis";
        let hits = t.tag_text("", text, "en");
        let spans: Vec<&str> = hits[0]
            .terms
            .iter()
            .map(|h| &text[h.positions[0].start..h.positions[0].end])
            .collect();
        assert_eq!(spans, ["Taiwanese", "neonazis"]);
    }

    #[test]
    fn positions_are_capped_but_counts_are_not() {
        let t = tagger(&[("en", &["nato"])]);
        let text = "NATO ".repeat(25);
        let h = &t.tag_text("", &text, "en")[0].terms[0];
        assert_eq!(h.count, 25);
        assert_eq!(h.positions.len(), MAX_POSITIONS);
    }

    #[test]
    fn shared_terms_across_campaigns_and_duplicates() {
        let t = Tagger::new(&[
            campaign("a", 1, &[("en", &["Taiwan"])]),
            campaign("b", 2, &[("zh", &["台湾", "臺灣"]), ("en", &["Taiwan"])]),
        ])
        .expect("valid");
        let hits = t.tag_text("", "台灣 Taiwan", "und");
        assert_eq!(hits.len(), 2);
        // In "b", 台湾 and 臺灣 are one term after folding: 台湾 + Taiwan = 2 distinct.
        let b = &hits[1];
        let terms: Vec<&str> = b.terms.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(terms, ["台湾", "Taiwan"]);
    }

    #[test]
    fn bad_terms_are_errors_naming_campaign_and_term() {
        let bad: &[(&str, &str)] = &[
            ("", "empty"),
            ("   ", "empty"),
            ("*", "only"),
            ("**", "only"),
            ("Tai*wan", "start or end"),
            ("!!!", "letter or digit"),
        ];
        for (term, why) in bad {
            let err = Tagger::new(&[campaign("bad-one", 1, &[("en", &[term])])]).expect_err(term);
            let msg = format!("{err:#}");
            assert!(
                msg.contains("bad-one") && msg.contains(&format!("{term:?}")),
                "{msg}"
            );
            assert!(msg.contains(why), "{msg}");
        }
        assert!(Tagger::new(&[campaign("zero", 0, &[("en", &["x"])])]).is_err());
        assert!(Tagger::new(&[campaign("none", 1, &[])]).is_err());
        // 台湾 and 臺灣 are one term after folding: min_terms 2 could never be met.
        let err = Tagger::new(&[campaign("dup", 2, &[("zh", &["台湾", "臺灣"])])])
            .expect_err("unreachable min_terms");
        assert!(format!("{err:#}").contains("dup"));
    }

    #[test]
    fn normalize_maps_back_to_original() {
        let text = "Ёлка  ＡＢ\u{00A0}ﬁx 臺灣";
        let n = normalize(text);
        assert_eq!(n.as_str(), "елка ab fix 台湾");
        let find = |s: &str| {
            let i = n.as_str().find(s).expect("present");
            n.original_range(i..i + s.len()).map(|r| &text[r])
        };
        assert_eq!(find("елка"), Some("Ёлка"));
        assert_eq!(find("ab"), Some("ＡＢ"));
        assert_eq!(find("fix"), Some("ﬁx"));
        assert_eq!(find("ix"), Some("ﬁx")); // inside a ligature: widened to the whole source character
        assert_eq!(find("台湾"), Some("臺灣"));
        assert_eq!(find("лка"), Some("лка"));
        assert_eq!(n.original_range(0..1000), None);
        assert_eq!(n.original_range(1..2), None, "inside a two-byte char");
        // Soft hyphens and zero-width spaces do not break words or matches.
        let text = "Tai\u{00AD}wan and Tai\u{200B}wanese";
        let n = normalize(text);
        assert_eq!(n.as_str(), "taiwan and taiwanese");
        assert_eq!(
            n.original_range(0..6).map(|r| &text[r]),
            Some("Tai\u{00AD}wan")
        );
        let t = tagger(&[("en", &["Taiwan"])]);
        assert_eq!(count(&t, text), 1);
        // A plain text needs few spans.
        assert!(normalize(&"Россия и Китай. ".repeat(100)).spans.len() < 5);
    }

    #[test]
    fn cyrillic_fast_path_agrees_with_the_general_one() {
        for cp in 0x0400u32..=0x052F {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            if !is_stable_cyrillic(c) {
                continue;
            }
            assert_eq!(
                c.to_string().nfkc().collect::<String>(),
                c.to_string(),
                "U+{cp:04X} not NFKC-stable"
            );
            let mut general = String::new();
            push_folded(&mut general, c);
            assert_eq!(lowercase_cyrillic(c).to_string(), general, "U+{cp:04X}");
        }
    }

    fn ruled(f: impl FnOnce(&mut CampaignSpec)) -> Tagger {
        let mut spec = campaign(
            "r",
            1,
            &[
                ("en", &["reunification"]),
                ("zh", &["统一"]),
                ("ru", &["воссоединени*"]),
            ],
        );
        f(&mut spec);
        Tagger::new(&[spec]).expect("valid")
    }

    fn tags(t: &Tagger, text: &str) -> bool {
        !t.tag_text("", text, "und").is_empty()
    }

    #[test]
    fn all_groups_in_every_script() {
        let t = ruled(|c| {
            c.all = vec![
                vec!["Taiwan*".into(), "台湾".into(), "Тайван*".into()],
                vec!["Beijing".into(), "北京".into(), "Пекин*".into()],
            ];
        });
        let cases: &[(&str, bool)] = &[
            ("Beijing wants reunification with Taiwan", true),
            ("Beijing wants reunification", false), // group 1 missing
            ("Korean reunification; Taiwanese voters", false), // group 2 missing
            ("北京称两岸统一，台湾必须接受", true),
            ("北京稱兩岸統一，臺灣必須接受", true), // Traditional text, Simplified terms
            ("北京稱統一", false),
            ("Пекин выступает за воссоединение с Тайванем", true),
            ("Пекин выступает за воссоединение Кореи", false),
        ];
        for (text, want) in cases {
            assert_eq!(tags(&t, text), *want, "{text}");
        }
        let hit = &t.tag_text("", "Beijing wants reunification with Taiwan", "en")[0];
        let terms: Vec<(&str, &str)> = hit
            .terms
            .iter()
            .map(|h| (h.term.as_str(), h.lang.as_str()))
            .collect();
        assert_eq!(
            terms,
            [
                ("reunification", "en"),
                ("Taiwan*", "all:1"),
                ("Beijing", "all:2")
            ]
        );
        assert_eq!(hit.score, 3.0);
        let e = &t.explain(&TagInput::text("", "Beijing wants reunification", "en"))[0];
        assert_eq!(e.all_groups, [false, true]);
        assert!(e.why().contains("all groups missing: 1"), "{}", e.why());
    }

    #[test]
    fn none_vetoes_in_every_script() {
        let t = ruled(|c| {
            c.none = vec![
                "fact check".into(),
                "事实查核".into(),
                "фактчекинг*".into(),
                "President Lai".into(),
            ];
        });
        let cases: &[(&str, bool)] = &[
            ("Peaceful reunification is inevitable", true),
            ("Fact check: reunification claim", false),
            ("FACT   CHECK: reunification", false),
            ("President Lai rejects reunification", false),
            ("和平统一", true),
            ("事實查核：和平統一說法有誤", false), // Traditional veto, Simplified term
            ("事实查核：和平统一", false),
            ("мирное воссоединение", true),
            ("Фактчекинг: мирное воссоединение", false),
        ];
        for (text, want) in cases {
            assert_eq!(tags(&t, text), *want, "{text}");
        }
        let e = &t.explain(&TagInput::text("Fact check", "reunification", "en"))[0];
        assert_eq!(e.vetoed_by, ["fact check"]);
        assert!(!e.text_match && e.main_terms == 1);
        // A veto in the title counts too.
        assert!(!tags(&t, "x") && t.tag_text("Fact check", "reunification", "en").is_empty());
    }

    #[test]
    fn near_counts_words_and_cjk_characters() {
        let near = |a: &str, b: &str, within: usize| NearRule {
            terms: [a.to_string(), b.to_string()],
            within,
        };
        let t = ruled(|c| {
            c.near = vec![
                near("Taiwan*", "interfer*", 3),
                near("台", "干涉", 5),
                near("Тайван*", "вмешательств*", 2),
            ];
        });
        let cases: &[(&str, bool)] = &[
            // Tokens: Taiwan(0) reunification(1) gross(2) interference(3): distance 3.
            ("Taiwan reunification gross interference", true),
            ("Taiwan reunification: very gross interference", false), // distance 4
            ("interference, reunification, Taiwanese", true),         // order does not matter
            ("Taiwan-reunification-interference", true),              // '-' separates words
            // CJK: each character is a token; 台 ... 干 distance 5 in 对台军售严重干涉.
            ("统一：对台军售严重干涉", true),
            ("统一：对臺軍售嚴重干涉", true),      // Traditional
            ("统一：对台军售十分严重干涉", false), // distance 7
            ("统一 Taiwan 的 interference", true), // mixed: Taiwan(0) 的(1) interference(2)
            ("воссоединение Тайваня и вмешательство", true),
            ("воссоединение Тайваня и грубое вмешательство", false),
            ("reunification", false), // no near rule holds
        ];
        for (text, want) in cases {
            assert_eq!(tags(&t, text), *want, "{text}");
        }
        // Near is checked within one field: title and text do not pair.
        assert!(t
            .tag_text("Taiwan", "reunification interference", "en")
            .is_empty());
        // Evidence: the near terms of the rule that holds.
        let hit = &t.tag_text("", "Taiwan reunification gross interference", "en")[0];
        let langs: Vec<&str> = hit.terms.iter().map(|h| h.lang.as_str()).collect();
        assert_eq!(langs, ["en", "near:1", "near:1"]);
        let e = &t.explain(&TagInput::text("", "reunification", "en"))[0];
        assert_eq!(e.near, [false, false, false]);
        assert!(e.why().contains("no near rule holds"));
    }

    #[test]
    fn bad_rules_are_errors() {
        let near = |a: &str, b: &str, within: usize| NearRule {
            terms: [a.to_string(), b.to_string()],
            within,
        };
        let build = |f: &dyn Fn(&mut CampaignSpec)| {
            let mut spec = campaign("bad", 1, &[("en", &["x"])]);
            f(&mut spec);
            Tagger::new(&[spec])
                .map(|_| ())
                .map_err(|e| format!("{e:#}"))
        };
        let err = build(&|c| c.all = vec![vec![]]).unwrap_err();
        assert!(err.contains("all group 1 is empty"), "{err}");
        let err = build(&|c| c.near = vec![near("a", "b", 0)]).unwrap_err();
        assert!(err.contains("within"), "{err}");
        let err = build(&|c| c.near = vec![near("台湾", "臺灣", 3)]).unwrap_err();
        assert!(err.contains("same"), "{err}");
        let err = build(&|c| c.none = vec!["Tai*wan".into()]).unwrap_err();
        assert!(err.contains("bad") && err.contains("Tai*wan"), "{err}");
        assert!(check_term("Tai*wan").is_err() && check_term("Taiwan*").is_ok());
    }

    #[test]
    fn source_restrictions() {
        let t = ruled(|c| {
            c.feeds = vec!["xinhua-en".into(), "cgtn".into()];
            c.affiliations = vec![Affiliation::State];
            c.countries = vec!["CN".into()];
        });
        let input = |feed, affiliation, country| TagInput {
            title: "",
            text: "peaceful reunification",
            lang: "en",
            feed,
            affiliation,
            country,
        };
        assert_eq!(
            t.tag(&input("xinhua-en", Affiliation::State, Some("CN")))
                .len(),
            1
        );
        assert_eq!(
            t.tag(&input("cgtn", Affiliation::State, Some("cn"))).len(),
            1
        );
        assert!(t
            .tag(&input("bbc", Affiliation::State, Some("CN")))
            .is_empty());
        assert!(t
            .tag(&input("cgtn", Affiliation::Independent, Some("CN")))
            .is_empty());
        assert!(t
            .tag(&input("cgtn", Affiliation::State, Some("RU")))
            .is_empty());
        assert!(t.tag(&input("cgtn", Affiliation::State, None)).is_empty());
        assert!(t.tag_text("", "peaceful reunification", "en").is_empty());
        let e = &t.explain(&input("bbc", Affiliation::State, Some("CN")))[0];
        assert!(e.text_match && !e.source_ok && !e.tagged);
        assert!(e.why().contains("source excluded"));
    }

    #[test]
    fn empty_codebook_tags_nothing() {
        let t = Tagger::new(&[]).expect("an empty codebook is valid");
        assert!(t.tag_text("Taiwan", "台独", "zh").is_empty());
    }

    #[test]
    fn every_normalized_range_maps_to_a_valid_original_range() {
        let text = "Ёлка  ＡＢ\u{00A0}ﬁx 臺灣 e\u{0301}t\u{00AD}é İstanbul ǅ 𠀀 ｶﾀｶﾅ \t\n Ως 한국";
        let n = normalize(text);
        let norm = n.as_str();
        let bounds: Vec<usize> = norm
            .char_indices()
            .map(|(i, _)| i)
            .chain([norm.len()])
            .collect();
        for (a, &i) in bounds.iter().enumerate() {
            for &j in bounds.iter().skip(a + 1).take(4) {
                let r = n.original_range(i..j).expect("valid range");
                assert!(
                    text.is_char_boundary(r.start) && text.is_char_boundary(r.end),
                    "{i}..{j} -> {r:?}"
                );
                let back = normalize(&text[r.clone()]);
                assert!(
                    back.as_str().contains(&norm[i..j]),
                    "{i}..{j} {:?} -> {:?}",
                    &norm[i..j],
                    &text[r]
                );
            }
        }
    }

    #[test]
    fn never_panics_on_odd_text() {
        let t = tagger(&[("en", &["a"]), ("zh", &["中"])]);
        for text in [
            "\u{0301}a",
            "a\u{0301}",
            "\u{FEFF}",
            "İ",
            "ǅ",
            "\u{10FFFF}中",
            "ß",
            "ﷺ a",
        ] {
            let _ = t.tag_text(text, text, "und");
        }
    }
}
