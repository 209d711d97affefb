//! Distinctive terms: what sets a query's matches apart from a background (`mediawatch terms`, the
//! search page's panel, `/api/terms`, `campaigns suggest`).
//!
//! - **Foreground**: the query's best [`TermsRequest::sample`] matches by relevance (as Elasticsearch's
//!   `sampler` under `significant_text` does; a seeded uniform sample when the query has no words or
//!   [`TermsRequest::uniform`] asks), re-analysed from their stored text with the index's own
//!   analyzers ([`Sample`]): in a language with a stemmer, the stems of `mw_<lang>` over title and text
//!   (the `stem_<lang>` field; a stem is shown by its most frequent surface form in the sample); in any
//!   other language, the words of `mw` over the text (the `text` field; Chinese words from jieba, with
//!   Traditional folded to Simplified, so 臺灣 and 台湾 are one word); and two-word phrases (adjacent
//!   words of the text, the `text` field). Function words (a stop-word list per language, the `nltk`
//!   lists of the `stop-words` crate, plus [`crate::analysis::is_common`]), numbers and one-letter words
//!   are never terms.
//! - **Background**: by default the archive under the request's filters. With no filter, the whole
//!   archive from the index's term dictionaries (`doc_freq` of the field the term lives in; for a phrase
//!   that may still rank, a phrase query's count; a stem's background is its language's articles, the
//!   stemmed field holds nothing else), with the foreground's estimated share taken out (the foreground
//!   is part of the archive). With filters, whose per-term counts the dictionaries do not hold (one
//!   query per term), a seeded uniform sample of the filtered archive, analysed the same way
//!   (`background = "filtered"`; it includes the foreground, which makes the contrast conservative).
//!   With `--vs QUERY`: a sample of that query's matches under the same filters, analysed the same way.
//! - **Score**: Dunning's log-likelihood ratio G² ([`g2`]) on the 2×2 table of documents with and without
//!   the term, foreground sample against background, over-represented terms only. G² behaves on small
//!   counts, where chi-square and pointwise mutual information overrate rare words. Terms under
//!   [`MIN_G2`] (p < 0.001 for one degree of freedom) are not listed.
//!
//! The scoring is pure ([`g2`], [`rank`]) on plain counts; [`terms`] gathers the counts from an archive.

use std::collections::HashMap;
use std::sync::LazyLock;

use anyhow::Context;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::PhraseQuery;
use tantivy::query_grammar::{Occur as GrammarOccur, UserInputAst, UserInputLeaf};
use tantivy::tokenizer::TokenizerManager;
use tantivy::Term;

use super::{build_query, SearchRequest};
use crate::analysis::{self, is_common, stem_tokenizer, token_width, tokenize, STEM_LANGS};
use crate::index::Archive;
use crate::model::Article;

/// Foreground documents analysed by default.
pub const DEFAULT_SAMPLE: usize = 1000;
/// The most foreground documents one request may analyse.
pub const MAX_SAMPLE: usize = 20_000;
/// Foreground documents a term must occur in by default.
pub const DEFAULT_MIN_DOCS: usize = 3;
/// The most terms one request returns.
pub const MAX_TERMS: usize = 1000;
/// Phrases whose background count is looked up (a phrase query each) at most, per request: those that
/// may still rank, most frequent in the foreground first (see [`terms`]).
const PHRASE_LOOKUPS: usize = 30;
/// The lowest G² listed: 10.83, the chi-square critical value of one degree of freedom at p < 0.001
/// (Rayson and Garside's cut-off for keywords); below it a contrast is within chance on these counts.
pub const MIN_G2: f64 = 10.83;
/// Characters of context on each side of a term in its example snippet.
const SNIPPET_SIDE: usize = 60;

/// What `mediawatch terms` asks.
#[derive(Debug, Clone)]
pub struct TermsRequest {
    /// The foreground: a query and its filters (`limit` and `sort` are not used).
    pub search: SearchRequest,
    /// The background query (same filters), instead of the archive under the filters.
    pub vs: Option<String>,
    /// Terms returned at most.
    pub limit: usize,
    /// Foreground (and `vs` background) documents analysed at most.
    pub sample: usize,
    /// Foreground documents a term must occur in.
    pub min_docs: usize,
    /// Sample uniformly (seeded) instead of taking the best matches by relevance; a query without
    /// words (filters only) is always sampled so, since its matches all score alike.
    pub uniform: bool,
}

impl Default for TermsRequest {
    fn default() -> TermsRequest {
        TermsRequest {
            search: SearchRequest::default(),
            vs: None,
            limit: 25,
            sample: DEFAULT_SAMPLE,
            min_docs: DEFAULT_MIN_DOCS,
            uniform: false,
        }
    }
}

/// Where a term lives in the index, which decides its background count and its population.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TermKey {
    /// A stem of `stem_<lang>` (title and text of the language's articles).
    Stem(&'static str, String),
    /// A word of `text` (languages without a stemmer, Chinese words).
    Word(String),
    /// Two adjacent words of `text`: the first, the second, and the second's position after the first.
    Phrase(String, String, usize),
}

impl TermKey {
    /// The language whose articles a term's counts are over (stems only; the others are over all).
    pub fn scope(&self) -> Option<&'static str> {
        match self {
            TermKey::Stem(lang, _) => Some(lang),
            _ => None,
        }
    }
}

/// One term's counts in a [`Sample`].
#[derive(Debug, Clone, Default)]
pub struct TermStat {
    /// Documents of the sample holding it.
    pub docs: usize,
    /// Surface forms (as the `mw` tokenizer folds them) by occurrences.
    pub surfaces: HashMap<String, usize>,
    /// Documents by language.
    pub langs: HashMap<String, usize>,
    /// Where it first occurred: document index in the sample, in the title or not, byte range.
    pub first: (usize, bool, std::ops::Range<usize>),
}

impl TermStat {
    /// The most frequent surface form (ties: the alphabetically first).
    pub fn surface(&self) -> String {
        let mut best: Option<(&String, usize)> = None;
        for (s, &n) in &self.surfaces {
            if best.is_none_or(|(b, bn)| n > bn || (n == bn && s < b)) {
                best = Some((s, n));
            }
        }
        best.map(|(s, _)| s.clone()).unwrap_or_default()
    }

    fn lang(&self) -> String {
        let mut best: Option<(&String, usize)> = None;
        for (s, &n) in &self.langs {
            if best.is_none_or(|(b, bn)| n > bn || (n == bn && s < b)) {
                best = Some((s, n));
            }
        }
        best.map(|(s, _)| s.clone()).unwrap_or_default()
    }
}

/// Documents analysed as the index analyses them: per term, how many hold it (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// Documents analysed.
    pub docs: usize,
    /// Documents by language.
    pub docs_by_lang: HashMap<String, usize>,
    /// Per term.
    pub terms: HashMap<TermKey, TermStat>,
}

/// The stemmed analyzers, registered as the index registers them.
static ANALYZERS: LazyLock<TokenizerManager> = LazyLock::new(|| {
    let manager = TokenizerManager::default();
    analysis::register(&manager);
    manager
});

/// Stop words per language, folded as the tokenizer folds them (`nltk` lists of `stop-words`).
static STOP_WORDS: LazyLock<HashMap<&'static str, std::collections::HashSet<String>>> =
    LazyLock::new(|| {
        let mut out = HashMap::new();
        for lang in stop_words::available_languages() {
            let words = stop_words::lookup(lang).unwrap_or_default();
            let set = words
                .iter()
                .flat_map(|w| tokenize(w).into_iter().map(|t| t.text))
                .collect();
            out.insert(*lang, set);
        }
        out
    });

/// Whether a folded token of a text in `lang` is a function word, a number or too short to be a term.
pub fn is_stop(token: &str, lang: &str) -> bool {
    if is_common(token) {
        return true;
    }
    let mut chars = token.chars();
    let Some(first) = chars.next() else {
        return true;
    };
    let cjk = crate::text::script::is_cjk(first);
    if chars.next().is_none() {
        // One letter, or one Han character (particles, measure words).
        return true;
    }
    if !cjk && token.chars().all(|c| c.is_numeric()) {
        return true;
    }
    STOP_WORDS.get(lang).is_some_and(|s| s.contains(token))
}

impl Sample {
    /// Adds one document (its title, text and detected language). A term counts once per document;
    /// its surface forms count once per document each.
    pub fn add(&mut self, title: &str, text: &str, lang: &str) {
        let doc = self.docs;
        self.docs += 1;
        match self.docs_by_lang.get_mut(lang) {
            Some(n) => *n += 1,
            None => {
                self.docs_by_lang.insert(lang.to_string(), 1);
            }
        }
        let stem_lang = STEM_LANGS.iter().find(|(l, _)| *l == lang).map(|(l, _)| *l);
        // This document's terms: where each first occurs, and (stems) its surface forms.
        let mut local: HashMap<TermKey, (bool, std::ops::Range<usize>, Vec<String>)> =
            HashMap::new();
        for (in_title, field) in [(true, title), (false, text)] {
            // The words of the field as `mw` cuts them (folded), in order: (position, word, range).
            let mut words: Vec<(usize, String, std::ops::Range<usize>)> = Vec::new();
            if let Some(l) = stem_lang {
                // One pass of the stemmed analyzer: `mw`, then folding and stemming, which change a
                // token's text but keep its offsets and position.
                let mut analyzer = ANALYZERS.get(&stem_tokenizer(l)).expect("registered");
                let mut stream = analyzer.token_stream(field);
                while stream.advance() {
                    let token = stream.token_mut();
                    let range = token.offset_from..token.offset_to;
                    let Some(original) = field.get(range.clone()) else {
                        continue;
                    };
                    let surface = fold(original);
                    if is_stop(&surface, lang) {
                        continue;
                    }
                    let key = TermKey::Stem(l, std::mem::take(&mut token.text));
                    let entry = local
                        .entry(key)
                        .or_insert_with(|| (in_title, range.clone(), Vec::new()));
                    if !entry.2.contains(&surface) {
                        entry.2.push(surface.clone());
                    }
                    if !in_title {
                        words.push((token.position, surface, range));
                    }
                }
            } else if !in_title {
                for t in tokenize(field) {
                    if is_stop(&t.text, lang) {
                        continue;
                    }
                    let range = t.offset_from..t.offset_to;
                    local
                        .entry(TermKey::Word(t.text.clone()))
                        .or_insert_with(|| (false, range.clone(), Vec::new()));
                    words.push((t.position, t.text, range));
                }
            }
            if in_title {
                continue;
            }
            // Two-word phrases of the text: b right after a (`token_width` positions).
            let mut order: Vec<usize> = (0..words.len()).collect();
            order.sort_by_key(|&k| words[k].0);
            let mut pairs: Vec<(usize, usize)> = Vec::new();
            for &ka in &order {
                let (pos, a, _) = &words[ka];
                let next = pos + token_width(a);
                let from = order.partition_point(|&k| words[k].0 < next);
                for &kb in order[from..].iter().take_while(|&&k| words[k].0 == next) {
                    pairs.push((ka, kb));
                }
            }
            let mut seen: std::collections::HashSet<(&str, &str)> = Default::default();
            for (ka, kb) in pairs {
                let (a, b) = (&words[ka], &words[kb]);
                if !seen.insert((a.1.as_str(), b.1.as_str())) {
                    continue;
                }
                let key = TermKey::Phrase(a.1.clone(), b.1.clone(), token_width(&a.1));
                local
                    .entry(key)
                    .or_insert_with(|| (false, a.2.start..b.2.end, Vec::new()));
            }
        }
        for (key, (in_title, range, surfaces)) in local {
            let shown = match &key {
                TermKey::Phrase(a, b, _) => Some(phrase_surface(a, b)),
                TermKey::Word(w) => Some(w.clone()),
                TermKey::Stem(..) => None,
            };
            let stat = self.terms.entry(key).or_insert_with(|| TermStat {
                first: (doc, in_title, range),
                ..TermStat::default()
            });
            stat.docs += 1;
            match stat.langs.get_mut(lang) {
                Some(n) => *n += 1,
                None => {
                    stat.langs.insert(lang.to_string(), 1);
                }
            }
            match shown {
                Some(shown) => {
                    if stat.surfaces.is_empty() {
                        stat.surfaces.insert(shown, 0);
                    }
                    for n in stat.surfaces.values_mut() {
                        *n += 1;
                    }
                }
                None => {
                    for surface in surfaces {
                        *stat.surfaces.entry(surface).or_default() += 1;
                    }
                }
            }
        }
    }

    /// Adds the counts of `other`, a sample of the documents that come after this one's.
    pub fn merge(&mut self, other: Sample) {
        let offset = self.docs;
        self.docs += other.docs;
        for (lang, n) in other.docs_by_lang {
            *self.docs_by_lang.entry(lang).or_default() += n;
        }
        for (key, stat) in other.terms {
            match self.terms.entry(key) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    let mut stat = stat;
                    stat.first.0 += offset;
                    v.insert(stat);
                }
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    let mine = o.get_mut();
                    mine.docs += stat.docs;
                    for (s, n) in stat.surfaces {
                        *mine.surfaces.entry(s).or_default() += n;
                    }
                    for (l, n) in stat.langs {
                        *mine.langs.entry(l).or_default() += n;
                    }
                }
            }
        }
    }

    /// Documents a term's counts are over: its language's for a stem, all for the others.
    pub fn size(&self, key: &TermKey) -> usize {
        match key.scope() {
            Some(lang) => self.docs_by_lang.get(lang).copied().unwrap_or(0),
            None => self.docs,
        }
    }
}

/// A word as the `mw` tokenizer folds it (lowercase, ё as е): its surface form.
fn fold(word: &str) -> String {
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .collect()
}

/// A phrase as shown: two Han words side by side, others with a space.
fn phrase_surface(a: &str, b: &str) -> String {
    let cjk = |s: &str| s.chars().next().is_some_and(crate::text::script::is_cjk);
    if cjk(a) && cjk(b) {
        format!("{a}{b}")
    } else {
        format!("{a} {b}")
    }
}

/// Dunning's log-likelihood ratio G² of a term in `k` of `n` foreground documents and `bk` of `bn`
/// background documents (the 2×2 table of documents with and without it), signed: positive when the
/// term is more frequent in the foreground, negative when less. Counts may be fractional (a
/// background with the foreground's estimated share taken out); they are clamped to `0..=n`.
pub fn g2(k: f64, n: f64, bk: f64, bn: f64) -> f64 {
    let n = n.max(0.0);
    let bn = bn.max(0.0);
    let k = k.clamp(0.0, n);
    let bk = bk.clamp(0.0, bn);
    if n <= 0.0 || bn <= 0.0 {
        return 0.0;
    }
    let xlx = |x: f64| if x > 0.0 { x * x.ln() } else { 0.0 };
    let (a, b, c, d) = (k, n - k, bk, bn - bk);
    let g = 2.0
        * (xlx(a) + xlx(b) + xlx(c) + xlx(d) - xlx(a + b) - xlx(c + d) - xlx(a + c) - xlx(b + d)
            + xlx(a + b + c + d));
    let g = g.max(0.0);
    match (k * bn).partial_cmp(&(bk * n)) {
        Some(std::cmp::Ordering::Greater) => g,
        Some(std::cmp::Ordering::Less) => -g,
        _ => 0.0,
    }
}

/// One term's counts, ready to score.
#[derive(Debug, Clone, PartialEq)]
pub struct Counts {
    /// Foreground sample documents holding it.
    pub fg: usize,
    /// Foreground sample documents (in its scope).
    pub fg_size: usize,
    /// Background documents holding it (the foreground's estimated share taken out when the background
    /// holds the foreground).
    pub bg: f64,
    /// Background documents (likewise).
    pub bg_size: f64,
}

/// The background's counts with the foreground taken out: `bg` of `bg_size` documents hold the term,
/// and the foreground, `population` documents of which `fg` of `fg_size` sampled hold it, is part of
/// them. The sample's rate is scaled to the foreground's population (`fg / fg_size * population`).
pub fn without_foreground(
    bg: u64,
    bg_size: u64,
    fg: usize,
    fg_size: usize,
    population: f64,
) -> (f64, f64) {
    if fg_size == 0 {
        return (bg as f64, bg_size as f64);
    }
    let share = fg as f64 / fg_size as f64 * population;
    let rest = (bg as f64 - share).max(0.0);
    let rest_size = (bg_size as f64 - population).max(rest).max(1.0);
    (rest, rest_size)
}

/// Scores and orders candidates: over-represented only, with G² of at least [`MIN_G2`], at least `min_docs` foreground
/// documents, best first (ties: more foreground documents, then the key), at most `limit`.
pub fn rank<K: Ord + Clone>(
    candidates: Vec<(K, Counts)>,
    min_docs: usize,
    limit: usize,
) -> Vec<(K, Counts, f64)> {
    let mut scored: Vec<(K, Counts, f64)> = candidates
        .into_iter()
        .filter(|(_, c)| c.fg >= min_docs.max(1))
        .map(|(k, c)| {
            let s = g2(c.fg as f64, c.fg_size as f64, c.bg, c.bg_size);
            (k, c, s)
        })
        .filter(|(_, _, s)| *s >= MIN_G2)
        .collect();
    scored.sort_by(|a, b| {
        b.2.total_cmp(&a.2)
            .then(b.1.fg.cmp(&a.1.fg))
            .then(a.0.cmp(&b.0))
    });
    scored.truncate(limit);
    scored
}

/// An example of a term in one foreground article.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TermExample {
    /// Article id.
    pub id: String,
    /// Article URL.
    pub url: String,
    /// Headline.
    pub title: String,
    /// A short window of the title or text around the term, on one line.
    pub snippet: String,
}

/// One distinctive term.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DistinctiveTerm {
    /// The term as shown: a stem's most frequent surface form, a word, or a phrase.
    pub term: String,
    /// `stem`, `word` or `phrase`.
    pub kind: &'static str,
    /// The language of most foreground articles holding it.
    pub lang: String,
    /// For a stem: the stem itself (what the index holds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stem: Option<String>,
    /// Foreground sample documents holding it.
    pub fg_count: usize,
    /// Foreground sample documents (its language's for a stem).
    pub fg_size: usize,
    /// Background documents holding it (rounded; see [`without_foreground`]).
    pub bg_count: u64,
    /// Background documents.
    pub bg_size: u64,
    /// G², signed (only positive ones are listed).
    pub score: f64,
    /// Where it occurs in one foreground article.
    pub example: Option<TermExample>,
    /// Every surface form seen in the sample with its occurrences, most frequent first.
    #[serde(skip)]
    pub surfaces: Vec<(String, usize)>,
}

/// What [`terms`] found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TermsReport {
    /// The foreground query.
    pub query: String,
    /// The background query (`None`: the archive, whole or under the filters: see `background`).
    pub vs: Option<String>,
    /// `archive` (the whole archive, from the index), `filtered` (a sample of the archive under the
    /// filters) or `query` (a sample of the `vs` query's matches).
    pub background: &'static str,
    /// Articles matching the foreground query.
    pub matches: usize,
    /// Foreground articles analysed.
    pub sample: usize,
    /// How they were chosen: `relevance` (the best matches) or `uniform` (a seeded uniform sample).
    pub sampling: &'static str,
    /// Articles in the background: the archive, the filtered archive, or the `vs` query's matches.
    pub background_matches: usize,
    /// Background articles analysed (0 for the whole archive, which is read from the index).
    pub background_sample: usize,
    /// The terms, best first.
    pub terms: Vec<DistinctiveTerm>,
}

/// Checks a request's numbers (the CLI and the web take these from users).
pub fn check_request(req: &TermsRequest) -> Result<(), String> {
    if !(1..=MAX_TERMS).contains(&req.limit) {
        return Err(format!(
            "limit {} is not from 1 to {MAX_TERMS} terms",
            req.limit
        ));
    }
    if !(1..=MAX_SAMPLE).contains(&req.sample) {
        return Err(format!(
            "sample {} is not from 1 to {MAX_SAMPLE} articles",
            req.sample
        ));
    }
    if req.min_docs == 0 {
        return Err("min-docs must be at least 1".to_string());
    }
    Ok(())
}

/// Whether a request's samples are uniform (see [`TermsRequest::uniform`]).
fn uniform(req: &TermsRequest, search: &SearchRequest) -> bool {
    req.uniform || !has_words(&search.query)
}

/// Whether a query holds words (or phrases) to rank by, rather than only filter fields (`feed:x`,
/// `affiliation:state`, `published:[a TO b]`, ...) and negated words, whose matches all score alike:
/// those are sampled uniformly, not by an order that would be the index's. Read from the query as the
/// search parses it, so a quoted filter value (`feed:"a b"`) is one filter.
pub fn has_words(query: &str) -> bool {
    super::query::parse(query).is_ok_and(|ast| ranks(&ast))
}

/// Whether `ast` has a clause that scores: a word or phrase, in a text field or none, not under NOT.
fn ranks(ast: &UserInputAst) -> bool {
    match ast {
        UserInputAst::Clause(clauses) => clauses
            .iter()
            .any(|(occur, a)| *occur != Some(GrammarOccur::MustNot) && ranks(a)),
        UserInputAst::Boost(a, _) => ranks(a),
        UserInputAst::Leaf(leaf) => match leaf.as_ref() {
            UserInputLeaf::Literal(l) => is_text_field(l.field_name.as_deref()),
            UserInputLeaf::Regex { field, .. } => is_text_field(field.as_deref()),
            UserInputLeaf::All
            | UserInputLeaf::Range { .. }
            | UserInputLeaf::Set { .. }
            | UserInputLeaf::Exists { .. } => false,
        },
    }
}

/// Unfielded, `title`, `text`, or a field that is not one of the filters.
fn is_text_field(field: Option<&str>) -> bool {
    field.is_none_or(|f| {
        let f = f.to_ascii_lowercase();
        f == "title" || f == "text" || !super::QUERY_FIELDS.contains(&&*f)
    })
}

/// `sample` matches of `req`, read and analysed, with the match count and the articles: the best by
/// relevance, or with `uniform` a uniform sample seeded by each match's segment and document (the same
/// sample for the same index commit): the matches whose hash of (segment id, document) is smallest.
pub fn sample_matches(
    archive: &Archive,
    searcher: &tantivy::Searcher,
    req: &SearchRequest,
    sample: usize,
    uniform: bool,
) -> anyhow::Result<(usize, Sample, Vec<Article>)> {
    let query = build_query(archive, req)?;
    let limit = sample.max(1);
    let (total, top): (usize, Vec<tantivy::DocAddress>) = if uniform {
        let by_hash = TopDocs::with_limit(limit).tweak_score(|reader: &tantivy::SegmentReader| {
            let seed = seed_of(&reader.segment_id().uuid_string());
            move |doc: tantivy::DocId, _score: tantivy::Score| {
                // Largest first: the complement of the hash, so the smallest hashes are taken.
                u64::MAX - mix(seed ^ u64::from(doc))
            }
        });
        let (total, top) = searcher
            .search(&*query, &(Count, by_hash))
            .context("search failed")?;
        (total, top.into_iter().map(|(_, a)| a).collect())
    } else {
        let (total, top) = searcher
            .search(
                &*query,
                &(Count, TopDocs::with_limit(limit).order_by_score()),
            )
            .context("search failed")?;
        (total, top.into_iter().map(|(_, a)| a).collect())
    };
    // Reading and analysing is the cost: split over the cores (at most 4), in order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
    let chunk = top.len().div_ceil(threads).max(1);
    let parts: Vec<anyhow::Result<(Sample, Vec<Article>)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = top
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || -> anyhow::Result<(Sample, Vec<Article>)> {
                    let mut analysed = Sample::default();
                    let mut articles = Vec::with_capacity(part.len());
                    for address in part {
                        let article = archive.article(searcher, *address)?;
                        analysed.add(&article.title, &article.text, &article.lang.lang);
                        articles.push(article);
                    }
                    Ok((analysed, articles))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("analysing the sample failed")))
            })
            .collect()
    });
    let mut analysed = Sample::default();
    let mut articles = Vec::with_capacity(top.len());
    for part in parts {
        let (sample, mut read) = part?;
        analysed.merge(sample);
        articles.append(&mut read);
    }
    Ok((total, analysed, articles))
}

/// A segment's seed: FNV-1a of its id.
fn seed_of(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// splitmix64's finalizer: a well-spread hash of a 64-bit value.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The distinctive terms of a query's matches (see the module doc).
pub fn terms(archive: &Archive, req: &TermsRequest) -> anyhow::Result<TermsReport> {
    check_request(req).map_err(|e| anyhow::anyhow!(e))?;
    let searcher = archive.searcher();
    let (matches, fg, articles) = sample_matches(
        archive,
        &searcher,
        &req.search,
        req.sample,
        uniform(req, &req.search),
    )?;
    let candidates: Vec<(&TermKey, &TermStat)> = fg
        .terms
        .iter()
        .filter(|(_, s)| s.docs >= req.min_docs.max(1))
        .collect();
    let mut ranked: Vec<(TermKey, Counts, f64)>;
    let (background, background_matches, background_sample);
    // The archive under the filters: the index's term counts cover every article, so with filters the
    // background is a uniform sample of the filtered archive (the query "" under the same filters).
    let filtered = req.vs.is_none() && !super::request_filters(&req.search).is_empty();
    let vs = if filtered {
        Some(String::new())
    } else {
        req.vs.clone()
    };
    match &vs {
        Some(vs) => {
            let bg_req = SearchRequest {
                query: vs.clone(),
                ..req.search.clone()
            };
            let (bg_total, bg, _) = sample_matches(
                archive,
                &searcher,
                &bg_req,
                req.sample,
                uniform(req, &bg_req),
            )?;
            let rows = candidates
                .iter()
                .map(|(key, stat)| {
                    let counts = Counts {
                        fg: stat.docs,
                        fg_size: fg.size(key),
                        bg: bg.terms.get(*key).map_or(0, |s| s.docs) as f64,
                        bg_size: bg.size(key) as f64,
                    };
                    ((*key).clone(), counts)
                })
                .collect();
            ranked = rank(rows, req.min_docs, req.limit);
            background = if filtered { "filtered" } else { "query" };
            background_matches = bg_total;
            background_sample = bg.docs;
        }
        None => {
            let stats = ArchiveCounts::new(archive, &searcher);
            let population = |key: &TermKey| -> f64 {
                // The foreground's population in the term's scope, estimated from the sample's share.
                if fg.docs == 0 {
                    return 0.0;
                }
                matches as f64 * fg.size(key) as f64 / fg.docs as f64
            };
            let counts = |key: &TermKey, stat: &TermStat, bg: u64| -> Counts {
                let bg_size = stats.size(key.scope());
                let (bg, bg_size) =
                    without_foreground(bg, bg_size, stat.docs, fg.size(key), population(key));
                Counts {
                    fg: stat.docs,
                    fg_size: fg.size(key),
                    bg,
                    bg_size,
                }
            };
            let mut rows = Vec::new();
            let mut phrases = Vec::new();
            for (key, stat) in &candidates {
                match key {
                    TermKey::Phrase(..) => phrases.push((*key, *stat)),
                    _ => rows.push(((*key).clone(), counts(key, stat, stats.of(key)))),
                }
            }
            // A phrase's background count is a phrase query: look up only those that may still rank.
            // The best a phrase can score is with no background document at all, and that grows with
            // its foreground count: take them by that count and stop at the first whose best cannot
            // pass the `limit`-th score so far.
            let mut best: Vec<f64> = rank(rows.clone(), req.min_docs, req.limit)
                .into_iter()
                .map(|(_, _, s)| s)
                .collect();
            phrases.sort_by(|a, b| b.1.docs.cmp(&a.1.docs).then(a.0.cmp(b.0)));
            for (lookups, (key, stat)) in phrases.into_iter().enumerate() {
                let bar = if best.len() >= req.limit {
                    best.last().copied().unwrap_or(MIN_G2)
                } else {
                    MIN_G2
                };
                let ceiling = counts(key, stat, 0);
                if lookups >= PHRASE_LOOKUPS
                    || g2(
                        ceiling.fg as f64,
                        ceiling.fg_size as f64,
                        0.0,
                        ceiling.bg_size,
                    ) < bar
                {
                    break;
                }
                let c = counts(key, stat, stats.of(key));
                let score = g2(c.fg as f64, c.fg_size as f64, c.bg, c.bg_size);
                rows.push((key.clone(), c));
                best.push(score);
                best.sort_by(|a, b| b.total_cmp(a));
                best.truncate(req.limit);
            }
            ranked = rank(rows, req.min_docs, req.limit);
            background = "archive";
            background_matches = searcher.num_docs() as usize;
            background_sample = 0;
        }
    }
    let terms = ranked
        .drain(..)
        .filter_map(|(key, counts, score)| {
            let stat = fg.terms.get(&key)?;
            Some(distinctive(&key, stat, &counts, score, &articles))
        })
        .collect();
    Ok(TermsReport {
        query: req.search.query.clone(),
        vs: req.vs.clone(),
        background,
        matches,
        sample: fg.docs,
        sampling: if uniform(req, &req.search) {
            "uniform"
        } else {
            "relevance"
        },
        background_matches,
        background_sample,
        terms,
    })
}

fn distinctive(
    key: &TermKey,
    stat: &TermStat,
    counts: &Counts,
    score: f64,
    articles: &[Article],
) -> DistinctiveTerm {
    let (kind, stem) = match key {
        TermKey::Stem(_, s) => ("stem", Some(s.clone())),
        TermKey::Word(_) => ("word", None),
        TermKey::Phrase(..) => ("phrase", None),
    };
    let (doc, in_title, range) = &stat.first;
    let example = articles.get(*doc).map(|a| {
        let field = if *in_title { &a.title } else { &a.text };
        TermExample {
            id: a.id.clone(),
            url: a.url.clone(),
            title: a.title.clone(),
            snippet: window(field, range.clone()),
        }
    });
    let mut surfaces: Vec<(String, usize)> =
        stat.surfaces.iter().map(|(s, n)| (s.clone(), *n)).collect();
    surfaces.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    DistinctiveTerm {
        term: stat.surface(),
        kind,
        lang: key.scope().map_or_else(|| stat.lang(), str::to_string),
        stem,
        fg_count: counts.fg,
        fg_size: counts.fg_size,
        bg_count: counts.bg.round() as u64,
        bg_size: counts.bg_size.round() as u64,
        score,
        example,
        surfaces,
    }
}

/// A window of `text` around `range`: [`SNIPPET_SIDE`] characters each side, on one line, with `…`
/// where it was cut.
pub fn window(text: &str, range: std::ops::Range<usize>) -> String {
    let start = range.start.min(text.len());
    let end = range.end.clamp(start, text.len());
    if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
        return super::one_line(&super::truncate_chars(text, 2 * SNIPPET_SIDE));
    }
    let before: Vec<(usize, char)> = text[..start].char_indices().collect();
    let from = before
        .len()
        .checked_sub(SNIPPET_SIDE)
        .map_or(0, |i| before[i].0);
    let to = text[end..]
        .char_indices()
        .nth(SNIPPET_SIDE)
        .map_or(text.len(), |(i, _)| end + i);
    let mut out = String::new();
    if from > 0 {
        out.push('…');
    }
    out.push_str(&text[from..to]);
    if to < text.len() {
        out.push('…');
    }
    super::one_line(&out)
}

/// Background counts from the index's term dictionaries.
struct ArchiveCounts<'a> {
    archive: &'a Archive,
    searcher: &'a tantivy::Searcher,
    sizes: std::cell::RefCell<HashMap<Option<&'static str>, u64>>,
}

impl<'a> ArchiveCounts<'a> {
    fn new(archive: &'a Archive, searcher: &'a tantivy::Searcher) -> ArchiveCounts<'a> {
        ArchiveCounts {
            archive,
            searcher,
            sizes: Default::default(),
        }
    }

    /// Articles of a language (`Some`), or all.
    fn size(&self, lang: Option<&'static str>) -> u64 {
        *self.sizes.borrow_mut().entry(lang).or_insert_with(|| {
            let n = match lang {
                Some(l) => self
                    .searcher
                    .doc_freq(&Term::from_field_text(self.archive.fields.lang, l))
                    .unwrap_or(0),
                None => self.searcher.num_docs(),
            };
            n.min(self.searcher.num_docs())
        })
    }

    fn of(&self, key: &TermKey) -> u64 {
        let f = self.archive.fields;
        match key {
            TermKey::Stem(lang, stem) => f.stem(lang).map_or(0, |field| {
                self.searcher
                    .doc_freq(&Term::from_field_text(field, stem))
                    .unwrap_or(0)
            }),
            TermKey::Word(w) => self
                .searcher
                .doc_freq(&Term::from_field_text(f.text, w))
                .unwrap_or(0),
            TermKey::Phrase(a, b, width) => {
                let query = PhraseQuery::new_with_offset(vec![
                    (0, Term::from_field_text(f.text, a)),
                    (*width, Term::from_field_text(f.text, b)),
                ]);
                self.searcher.search(&query, &Count).unwrap_or(0) as u64
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g2_matches_a_hand_computed_table() {
        // 10 of 100 foreground documents, 20 of 1000 background ones. Expected cells
        // E = row total * column total / 1100: 2.72727, 97.27273, 27.27273, 972.72727.
        // G² = 2 Σ O ln(O/E) = 2 (10 ln(10/2.72727) + 90 ln(90/97.27273) + 20 ln(20/27.27273)
        //   + 980 ln(980/972.72727)) = 2 (12.99283 - 6.99381 - 6.20310 + 7.29985) = 14.19154.
        let g = g2(10.0, 100.0, 20.0, 1000.0);
        assert!((g - 14.19154).abs() < 1e-4, "{g}");
        // Under-represented: negative, same magnitude as the mirrored table.
        let under = g2(2.0, 1000.0, 10.0, 100.0);
        assert!(under < 0.0, "{under}");
        // Equal rates: zero.
        assert!(g2(5.0, 50.0, 10.0, 100.0).abs() < 1e-9);
        // Degenerate sizes never divide by zero.
        assert_eq!(g2(0.0, 0.0, 1.0, 10.0), 0.0);
        assert_eq!(g2(1.0, 10.0, 0.0, 0.0), 0.0);
        assert!(g2(3.0, 3.0, 0.0, 1000.0).is_finite());
    }

    #[test]
    fn the_foreground_share_is_taken_out_of_the_background() {
        // 50 of 100 sampled hold it, the foreground has 1000 documents: about 500 of them do.
        let (rest, size) = without_foreground(600, 10_000, 50, 100, 1000.0);
        assert!((rest - 100.0).abs() < 1e-9);
        assert!((size - 9000.0).abs() < 1e-9);
        // Never below zero.
        let (rest, size) = without_foreground(10, 100, 100, 100, 100.0);
        assert_eq!(rest, 0.0);
        assert!(size >= 1.0);
    }

    #[test]
    fn rank_keeps_over_represented_terms_with_enough_documents() {
        let c = |fg, bg: f64| Counts {
            fg,
            fg_size: 100,
            bg,
            bg_size: 1000.0,
        };
        let ranked = rank(
            vec![
                ("rare-in-fg", c(2, 0.0)),
                ("even", c(10, 100.0)),
                ("strong", c(40, 10.0)),
                ("weaker", c(20, 10.0)),
                ("under", c(5, 500.0)),
            ],
            3,
            10,
        );
        let keys: Vec<&str> = ranked.iter().map(|(k, _, _)| *k).collect();
        assert_eq!(keys, ["strong", "weaker"]);
        assert_eq!(rank(vec![("strong", c(40, 10.0))], 3, 0).len(), 0);
    }

    #[test]
    fn samples_count_documents_stems_words_and_phrases() {
        let mut s = Sample::default();
        s.add(
            "Власти Украины",
            "Украина и Украине: киевский режим снова просит оружие.",
            "ru",
        );
        s.add("臺灣", "臺灣海峽的局勢", "zh");
        s.add("台湾", "台湾海峡局势紧张", "zh");
        s.add("The news", "The Kiev regime said the Kiev regime.", "en");
        assert_eq!(s.docs, 4);
        let stem = s
            .terms
            .iter()
            .find(|(k, _)| matches!(k, TermKey::Stem("ru", st) if st.starts_with("украин")))
            .map(|(_, v)| v)
            .expect("stem of Украина");
        assert_eq!(stem.docs, 1);
        assert_eq!(stem.surfaces.values().sum::<usize>(), 3);
        // Simplified and Traditional are one word.
        assert_eq!(s.terms[&TermKey::Word("台湾".into())].docs, 2);
        // A phrase, once per document.
        let phrase = TermKey::Phrase("kiev".into(), "regime".into(), 1);
        assert_eq!(s.terms[&phrase].docs, 1);
        assert_eq!(s.terms[&phrase].surface(), "kiev regime");
        // Function words and single letters are never terms.
        for key in s.terms.keys() {
            let text = match key {
                TermKey::Stem(_, t) | TermKey::Word(t) => t.clone(),
                TermKey::Phrase(a, b, _) => format!("{a} {b}"),
            };
            for w in ["the", "и", "的", "said"] {
                assert!(!text.split(' ').any(|x| x == w), "{key:?}");
            }
        }
        assert_eq!(s.size(&TermKey::Stem("ru", "x".into())), 1);
        assert_eq!(s.size(&TermKey::Word("x".into())), 4);
    }

    #[test]
    fn windows_cut_on_characters() {
        let text = "Ein sehr langer Satz über den Konflikt im Südchinesischen Meer und die Folgen für die Region, die niemand vorhersah.";
        let at = text.find("Konflikt").unwrap();
        let w = window(text, at..at + "Konflikt".len());
        assert!(w.contains("Konflikt"), "{w}");
        let text = "台湾".repeat(100);
        let w = window(&text, 300..306);
        assert!(w.starts_with('…') && w.ends_with('…'), "{w}");
        assert_eq!(window("abc", 10..20), "abc");
    }

    #[test]
    fn queries_of_filter_fields_alone_have_no_words() {
        for q in [
            "",
            "feed:xinhua-en",
            "(affiliation:state AND -lang:en)",
            "source:ria-ru published:[2026-01-01 TO 2026-02-01] campaign:c",
            // A quoted filter value is one filter; negated words do not score.
            "feed:\"a b\"",
            "feed:xinhua-en -taiwan",
            "campaign:c AND NOT \"one china\"",
            "feed: IN [a b] published:>2026-01-01",
            // Does not parse: the search fails, nothing to rank.
            "taiwan AND (",
        ] {
            assert!(!has_words(q), "{q}");
            assert_eq!(
                super::super::query::parse(q).is_ok(),
                !q.ends_with('('),
                "{q}"
            );
        }
        // Nested past the limit: refused before tantivy's recursive grammar sees it (20,000
        // parentheses overflow a test thread's stack there), so no words and no crash.
        let deep = format!("{}taiwan{}", "(".repeat(20_000), ")".repeat(20_000));
        assert!(super::super::query::parse(&deep).is_err());
        assert!(!has_words(&deep));
        for q in [
            "taiwan",
            "feed:xinhua-en taiwan",
            "title:taiwan",
            "\"one china\"",
            "published:[2026-01-01 TO 2026-02-01] junta",
            "(taiwan OR feed:x) AND lang:zh",
            "taiwan^2 -feed:x",
            "Title:taiwan",
            "stem_en:sanction",
        ] {
            assert!(has_words(q), "{q}");
        }
    }
}
