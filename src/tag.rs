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
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use anyhow::{bail, Context};
use unicode_normalization::char::{canonical_combining_class, is_combining_mark};
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use crate::model::{CampaignHit, CampaignSpec, TermHit, TermPosition};

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
    let t2s = t2s_table();
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
            n.text.push(t2s.simplify(ch));
        } else if single && is_stable_cyrillic(ch) {
            n.text.push(lowercase_cyrillic(ch));
        } else {
            let seg = text.get(start..end).unwrap_or_default();
            if is_nfkc_quick(seg.chars()) == IsNormalized::Yes {
                for c in seg.chars() {
                    push_folded(&mut n.text, c, t2s);
                }
            } else {
                for c in seg.nfkc() {
                    push_folded(&mut n.text, c, t2s);
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
fn push_folded(out: &mut String, c: char, t2s: &T2s) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    if is_cjk(c) {
        out.push(t2s.simplify(c));
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

/// Traditional -> Simplified, single characters only (OpenCC `TSCharacters`, first choice), so byte offsets can
/// be mapped back one character at a time. Phrase-level conversions are deliberately not applied: terms and text
/// get the same character mapping, so they still match each other.
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

fn t2s_table() -> &'static T2s {
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

/// Scripts without spaces between words: Han, kana, Hangul, Thai, Lao, Khmer, Myanmar (and CJK symbols).
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'          // Thai, Lao
        | '\u{1000}'..='\u{109F}'        // Myanmar
        | '\u{1100}'..='\u{11FF}'        // Hangul Jamo
        | '\u{1780}'..='\u{17FF}'        // Khmer
        | '\u{2E80}'..='\u{2FDF}'        // CJK radicals
        | '\u{3000}'..='\u{303F}'        // CJK symbols
        | '\u{3040}'..='\u{30FF}'        // kana
        | '\u{3130}'..='\u{318F}'        // Hangul compatibility Jamo
        | '\u{31F0}'..='\u{31FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{A960}'..='\u{A97F}'
        | '\u{AC00}'..='\u{D7FF}'        // Hangul syllables
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF66}'..='\u{FF9F}'        // half-width kana
        | '\u{20000}'..='\u{3134F}')
}

/// A character that continues a word of an alphabetic script (so a match next to it is inside a word).
fn is_word_char(c: char) -> bool {
    (c.is_alphanumeric() || is_combining_mark(c) || c == '_') && !is_cjk(c)
}

// ---------------------------------------------------------------------------------------------------------------
// Tagger

/// One codebook term of one campaign, after normalisation.
#[derive(Debug, Clone)]
struct Term {
    /// As written in the config.
    written: String,
    /// The language list it came from.
    lang: String,
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
}

/// Where a pattern of the automaton is used: campaign index, term index.
type TermRef = (usize, usize);

/// Tags articles with campaigns. Built once from the codebook; `tag` is cheap and thread-safe.
#[derive(Debug, Clone)]
pub struct Tagger {
    campaigns: Vec<Campaign>,
    /// One automaton over the distinct normalised patterns of all terms of all campaigns.
    automaton: AhoCorasick,
    /// For each pattern id: the terms that use it.
    users: Vec<Vec<TermRef>>,
}

impl Tagger {
    /// Compiles all terms of all campaigns into one automaton. Fails (naming the campaign and term) on a term that
    /// is empty after normalisation, has no letter or digit, is a lone `*`, or has `*` anywhere but at its ends;
    /// and on a campaign without terms, with `min_terms` of 0, or with `min_terms` above its number of distinct
    /// terms (it could never match).
    pub fn new(campaigns: &[CampaignSpec]) -> anyhow::Result<Tagger> {
        let mut compiled = Vec::with_capacity(campaigns.len());
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_ids: HashMap<String, usize> = HashMap::new();
        let mut users: Vec<Vec<TermRef>> = Vec::new();
        for (ci, spec) in campaigns.iter().enumerate() {
            if spec.min_terms == 0 {
                bail!("campaign {:?}: min_terms must be at least 1", spec.id);
            }
            let mut terms: Vec<Term> = Vec::new();
            // Within a campaign: normalised pattern + wildcards -> term index (duplicates merge).
            let mut seen: HashMap<(String, bool, bool), usize> = HashMap::new();
            for (lang, list) in &spec.terms {
                for written in list {
                    let CompiledTerm {
                        pattern,
                        boundary_start,
                        boundary_end,
                        wild_start,
                        wild_end,
                    } = compile_term(written).with_context(|| {
                        format!("campaign {:?}, {lang} term {written:?}", spec.id)
                    })?;
                    let key = (pattern.clone(), boundary_start, boundary_end);
                    if seen.contains_key(&key) {
                        continue;
                    }
                    let ti = terms.len();
                    seen.insert(key, ti);
                    terms.push(Term {
                        written: written.clone(),
                        lang: lang.clone(),
                        boundary_start,
                        boundary_end,
                        wild_start,
                        wild_end,
                    });
                    let pid = match pattern_ids.get(&pattern) {
                        Some(&pid) => pid,
                        None => {
                            let pid = patterns.len();
                            pattern_ids.insert(pattern.clone(), pid);
                            patterns.push(pattern);
                            users.push(Vec::new());
                            pid
                        }
                    };
                    if let Some(u) = users.get_mut(pid) {
                        u.push((ci, ti));
                    }
                }
            }
            if terms.is_empty() {
                bail!("campaign {:?} has no terms", spec.id);
            }
            if spec.min_terms > terms.len() {
                bail!(
                    "campaign {:?}: min_terms is {} but it has only {} distinct terms (after normalisation), so it \
                     could never match",
                    spec.id,
                    spec.min_terms,
                    terms.len()
                );
            }
            compiled.push(Campaign {
                id: spec.id.clone(),
                min_terms: spec.min_terms,
                terms,
            });
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .context("building the campaign term automaton")?;
        Ok(Tagger {
            campaigns: compiled,
            automaton,
            users,
        })
    }

    /// Campaigns whose rules match `title` + `text`, with the evidence, in codebook order (terms in codebook
    /// order too). `lang` is the article's detected ISO 639-1 language (may be "und"); it does not restrict which
    /// terms are tried.
    pub fn tag(&self, title: &str, text: &str, lang: &str) -> Vec<CampaignHit> {
        let _ = lang; // all lists are tried on every article (see the module docs)
                      // Per campaign, per term: (count, positions).
        let mut found: Vec<Vec<(usize, Vec<TermPosition>)>> = self
            .campaigns
            .iter()
            .map(|c| vec![(0, Vec::new()); c.terms.len()])
            .collect();
        for (field, original) in [("title", title), ("text", text)] {
            if original.is_empty() {
                continue;
            }
            self.scan(field, original, &mut found);
        }
        let mut hits = Vec::new();
        for (campaign, per_term) in self.campaigns.iter().zip(found) {
            let mut terms = Vec::new();
            let mut score = 0usize;
            for (term, (count, positions)) in campaign.terms.iter().zip(per_term) {
                if count > 0 {
                    score += count;
                    terms.push(TermHit {
                        term: term.written.clone(),
                        lang: term.lang.clone(),
                        count,
                        positions,
                    });
                }
            }
            if !terms.is_empty() && terms.len() >= campaign.min_terms {
                hits.push(CampaignHit {
                    id: campaign.id.clone(),
                    score: score as f64,
                    terms,
                });
            }
        }
        hits
    }

    /// Scans one field and adds its matches to `found`.
    fn scan(&self, field: &str, original: &str, found: &mut [Vec<(usize, Vec<TermPosition>)>]) {
        let norm = normalize(original);
        let hay = norm.as_str();
        // Per term: end of its last counted match in this field (counts are non-overlapping per term).
        let mut last_end: HashMap<TermRef, usize> = HashMap::new();
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
                slot.0 += 1;
                if slot.1.len() < MAX_POSITIONS {
                    if let Some(r) = norm.original_range(s..e) {
                        slot.1.push(TermPosition {
                            field: field.to_string(),
                            start: r.start,
                            end: r.end,
                        });
                    }
                }
            }
        }
    }
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
fn compile_term(written: &str) -> anyhow::Result<CompiledTerm> {
    let trimmed = written.trim();
    if trimmed.is_empty() {
        bail!("empty term");
    }
    let prefix_wild = trimmed.starts_with('*');
    let suffix_wild = trimmed.ends_with('*');
    let core = trimmed.trim_start_matches('*').trim_end_matches('*').trim();
    if core.is_empty() {
        bail!("a term cannot be only '*'");
    }
    if core.contains('*') {
        bail!("'*' is only allowed at the start or end of a term");
    }
    let pattern = normalize(core).text.trim().to_string();
    if !pattern.chars().any(char::is_alphanumeric) {
        bail!("a term needs at least one letter or digit");
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
        }
    }

    fn tagger(terms: &[(&str, &[&str])]) -> Tagger {
        Tagger::new(&[campaign("c", 1, terms)]).expect("valid codebook")
    }

    /// Total count of matches of a one-campaign tagger (0 when the campaign did not tag).
    fn count(t: &Tagger, text: &str) -> usize {
        t.tag("", text, "und")
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
        let hit = &t.tag("", "x ＮＡＴＯ y", "en")[0].terms[0];
        assert_eq!((hit.positions[0].start, hit.positions[0].end), (2, 14));
    }

    #[test]
    fn one_zh_list_matches_both_scripts_with_original_offsets() {
        let t = tagger(&[("zh", &["台湾", "台独"])]);
        let text = "臺灣與台灣，反對臺獨。台湾";
        let hits = t.tag("", text, "zh");
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
            t.tag("", "The Kiev regime. The Kiev regime again.", "en")
                .is_empty(),
            "same term twice is 1"
        );
        let hits = t.tag(
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
        let hits = t.tag(
            "Kiev regime",
            "US biolabs and Taiwan independence forces",
            "en",
        );
        let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["taiwan", "biolabs", "ukraine"]);
        assert!(t.tag("Weather", "Sunny tomorrow.", "en").is_empty());
        assert!(t.tag("", "", "und").is_empty());
    }

    #[test]
    fn positions_in_title_and_text() {
        let t = tagger(&[("en", &["Taiwan"])]);
        let title = "Why Taiwan matters";
        let text = "Taiwan. Again: Taiwan.";
        let hits = t.tag(title, text, "en");
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
        let hits = t.tag("", text, "en");
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
        let h = &t.tag("", &text, "en")[0].terms[0];
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
        let hits = t.tag("", "台灣 Taiwan", "und");
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
            push_folded(&mut general, c, t2s_table());
            assert_eq!(lowercase_cyrillic(c).to_string(), general, "U+{cp:04X}");
        }
    }

    #[test]
    fn empty_codebook_tags_nothing() {
        let t = Tagger::new(&[]).expect("an empty codebook is valid");
        assert!(t.tag("Taiwan", "台独", "zh").is_empty());
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
            let _ = t.tag(text, text, "und");
        }
    }
}
