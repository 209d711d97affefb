//! Search over the archive: a query in tantivy syntax plus filters, to ranked [`Hit`]s with highlighted
//! snippets; counts over the whole match set ([`facets`], [`histogram`]); streamed exports of every
//! match with a [`Provenance`] record ([`export`]); and the output formats of the `search` command.
//!
//! Query syntax is tantivy's (terms, "phrases", `"phrase"~slop`, AND/OR/NOT, parentheses,
//! `field:value`), with AND as the default operator between terms. A bare term is matched in `title`
//! and `text` as written (folded) and in the stemmed fields of every language, so `Украины` finds
//! `Украина`; a quoted word or phrase, `title:` and `text:` match the exact (folded, unstemmed) form
//! only (a phrase of common words through the pairs fields, see [`crate::index`]). Filter fields: `feed`
//! (alias `source`), `lang`, `script`, `affiliation`, `country`, `campaign`, `cluster`, and
//! `published:[2026-01-01 TO 2026-02-01]` (days, inclusive; also `published:2026-01-05`,
//! `published:>=2026-01-01`).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::LazyLock;

use anyhow::Context;
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use sha2::{Digest, Sha256};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocId, DocSet, Score, SegmentReader, Term, TERMINATED};

use tantivy::query_grammar::{
    Delimiter, Occur as GrammarOccur, UserInputAst, UserInputLeaf, UserInputLiteral,
};

use crate::analysis;
use crate::index::Archive;
use crate::model::{Article, CampaignTerms, Hit};

/// What to search for.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// Query text in tantivy syntax; empty matches everything.
    pub query: String,
    /// Only this language (ISO 639-1).
    pub lang: Option<String>,
    /// Only articles tagged with this campaign id.
    pub campaign: Option<String>,
    /// Only this feed id.
    pub feed: Option<String>,
    /// Only this affiliation.
    pub affiliation: Option<String>,
    /// Only outlets of this country (as configured, e.g. `CN`).
    pub country: Option<String>,
    /// Only this script (`Hans`, `Hant`, `Cyrl`, `Latn`, ...).
    pub script: Option<String>,
    /// Published on or after this day (UTC).
    pub since: Option<NaiveDate>,
    /// Published on or before this day (UTC).
    pub until: Option<NaiveDate>,
    /// Hits returned at most.
    pub limit: usize,
    /// Order of the hits.
    pub sort: Sort,
}

/// Order of search hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Sort {
    /// Best match first.
    #[default]
    Relevance,
    /// Latest publication first (hits carry score 0).
    Newest,
    /// Earliest publication first (hits carry score 0).
    Oldest,
}

/// Search results.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SearchResults {
    /// The query as given.
    pub query: String,
    /// Number of matching articles (all, not only those returned).
    pub total: usize,
    /// The best `limit` hits.
    pub hits: Vec<Hit>,
}

/// A query the user got wrong: shown with a caret under the spot, exit status 2.
#[derive(Debug, thiserror::Error)]
pub struct QueryError {
    /// The query text.
    pub query: String,
    /// What is wrong.
    pub message: String,
    /// Byte offset in `query` where it goes wrong, when known.
    pub position: Option<usize>,
}

impl QueryError {
    fn at(query: &str, position: Option<usize>, message: impl Into<String>) -> QueryError {
        QueryError {
            query: query.to_string(),
            message: message.into(),
            position: position.map(|p| p.min(query.len())),
        }
    }

    /// 1-based character column of the position.
    pub fn column(&self) -> Option<usize> {
        let p = self.position?;
        let p = (0..=p).rev().find(|&i| self.query.is_char_boundary(i))?;
        Some(self.query[..p].chars().count() + 1)
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column() {
            Some(col) => write!(
                f,
                "bad query at column {col}: {}\n  {}\n  {}^",
                self.message,
                self.query,
                " ".repeat(col - 1)
            ),
            None => write!(f, "bad query {:?}: {}", self.query, self.message),
        }
    }
}

/// The fields a query may name (besides the alias `source`).
pub const QUERY_FIELDS: &[&str] = &[
    "title",
    "text",
    "feed",
    "lang",
    "script",
    "affiliation",
    "country",
    "campaign",
    "cluster",
    "published",
];

/// Parses the request into one tantivy query (user query AND filters).
pub fn build_query(archive: &Archive, req: &SearchRequest) -> Result<Box<dyn Query>, QueryError> {
    let f = archive.fields;
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !req.query.trim().is_empty() {
        let mut defaults = vec![f.title, f.text];
        defaults.extend(f.stems.iter().map(|&(_, field)| field));
        static QUERY_TOKENIZERS: LazyLock<tantivy::tokenizer::TokenizerManager> =
            LazyLock::new(analysis::query_tokenizers);
        let mut parser =
            QueryParser::new(archive.index().schema(), defaults, QUERY_TOKENIZERS.clone());
        parser.set_conjunction_by_default();
        parser.set_field_boost(f.title, 2.0);
        parser.set_field_boost(f.title_pairs, 2.0);
        for &(_, field) in &f.stems {
            parser.set_field_boost(field, 0.8);
        }
        let rewritten = rewrite_query(&req.query)?;
        let ast = tantivy::query_grammar::parse_query(&rewritten).map_err(|_| {
            parser_error(
                &req.query,
                tantivy::query::QueryParserError::SyntaxError(rewritten.clone()),
            )
        })?;
        let q = parser
            .build_query_from_user_input_ast(exact_phrases(ast, &f.stems))
            .map_err(|e| parser_error(&req.query, e))?;
        clauses.push((Occur::Must, q));
    }
    let term = |field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    };
    let filters: [(Field, Option<String>); 6] = [
        (f.lang, req.lang.as_ref().map(|v| v.to_ascii_lowercase())),
        (f.campaign, req.campaign.clone()),
        (f.feed, req.feed.clone()),
        (f.affiliation, req.affiliation.clone()),
        (f.country, req.country.clone()),
        (f.script, req.script.clone()),
    ];
    for (field, value) in filters {
        if let Some(v) = value {
            clauses.push((Occur::Must, term(field, &v)));
        }
    }
    if req.since.is_some() || req.until.is_some() {
        let from = req.since.map(day_start);
        let to = req.until.and_then(|d| d.succ_opt()).map(day_start);
        clauses.push((Occur::Must, archive.published_range(from, to)));
    }
    if clauses.is_empty() {
        return Ok(Box::new(tantivy::query::AllQuery));
    }
    if clauses.len() == 1 && clauses[0].0 == Occur::Must {
        if let Some((_, q)) = clauses.pop() {
            return Ok(q);
        }
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// Quoted phrases (and quoted words) match the exact form: an unfielded one is looked for in `title`
/// and `text`, not in the stemmed fields. The `title`/`text` side of a phrase without slop that has
/// two adjacent common words ([`analysis::is_common`]) is answered from the pairs fields: a two-word
/// phrase is one pair term, a longer one is the phrase AND its pairs (which narrow the documents whose
/// positions are read; weight 0, so the phrase alone ranks). A bare run of Han characters that jieba
/// cuts into several words is a phrase too (tantivy makes it one), so its `title`/`text` side takes
/// the same way and its stemmed-field side stays as it was.
fn exact_phrases(ast: UserInputAst, stems: &[(&str, Field)]) -> UserInputAst {
    match ast {
        UserInputAst::Clause(clauses) => UserInputAst::Clause(
            clauses
                .into_iter()
                .map(|(occur, a)| (occur, exact_phrases(a, stems)))
                .collect(),
        ),
        UserInputAst::Boost(a, boost) => {
            UserInputAst::Boost(Box::new(exact_phrases(*a, stems)), boost)
        }
        UserInputAst::Leaf(leaf) => match *leaf {
            UserInputLeaf::Literal(lit) if lit.delimiter != Delimiter::None && !lit.prefix => {
                match lit.field_name.as_deref() {
                    None => UserInputAst::Clause(vec![
                        (
                            Some(GrammarOccur::Should),
                            exact_phrase(lit.clone(), "title"),
                        ),
                        (Some(GrammarOccur::Should), exact_phrase(lit, "text")),
                    ]),
                    Some("title") => exact_phrase(lit, "title"),
                    Some("text") => exact_phrase(lit, "text"),
                    _ => literal(lit),
                }
            }
            UserInputLeaf::Literal(lit)
                if lit.delimiter == Delimiter::None
                    && !lit.prefix
                    && lit.phrase.chars().any(analysis::is_cjk)
                    && matches!(lit.field_name.as_deref(), None | Some("title" | "text"))
                    && !pairs_of_chain(&analysis::tokenize(&lit.phrase)).is_empty() =>
            {
                match lit.field_name.as_deref() {
                    Some("title") => exact_phrase(lit, "title"),
                    Some("text") => exact_phrase(lit, "text"),
                    _ => {
                        let mut clauses = vec![
                            (
                                Some(GrammarOccur::Should),
                                exact_phrase(lit.clone(), "title"),
                            ),
                            (
                                Some(GrammarOccur::Should),
                                exact_phrase(lit.clone(), "text"),
                            ),
                        ];
                        clauses.extend(stems.iter().map(|(lang, _)| {
                            (
                                Some(GrammarOccur::Should),
                                literal(UserInputLiteral {
                                    field_name: Some(format!("stem_{lang}")),
                                    ..lit.clone()
                                }),
                            )
                        }));
                        UserInputAst::Clause(clauses)
                    }
                }
            }
            other => UserInputAst::Leaf(Box::new(other)),
        },
    }
}

/// The common-word pairs ([`analysis::pair_term`]) a phrase of these tokens implies, when the tokens
/// are a plain chain (the first at position 0, each next one right after the one before, at its
/// [`analysis::token_width`]): then the phrase holds exactly where its tokens stand at those
/// distances, and a pair of two adjacent common tokens is in a document's pairs field exactly when
/// the two stand there. Anything else (a gap, words cut over each other) gives no pairs.
fn pairs_of_chain(tokens: &[tantivy::tokenizer::Token]) -> Vec<String> {
    let chain = tokens.first().is_some_and(|t| t.position == 0)
        && tokens
            .windows(2)
            .all(|w| w[1].position == w[0].position + analysis::token_width(&w[0].text));
    if tokens.len() < 2 || !chain {
        return Vec::new();
    }
    tokens
        .windows(2)
        .filter(|w| analysis::is_common(&w[0].text) && analysis::is_common(&w[1].text))
        .map(|w| analysis::pair_term(&w[0].text, &w[1].text))
        .collect()
}

/// One quoted literal in `field` (`title` or `text`), through `<field>_pairs` where that is exact.
fn exact_phrase(lit: UserInputLiteral, field: &'static str) -> UserInputAst {
    let phrase = UserInputLiteral {
        field_name: Some(field.to_string()),
        ..lit
    };
    if phrase.slop > 0 {
        return literal(phrase);
    }
    let tokens = analysis::tokenize(&phrase.phrase);
    let mut pairs: Vec<UserInputAst> = pairs_of_chain(&tokens)
        .into_iter()
        .map(|pair| {
            literal(UserInputLiteral {
                field_name: Some(format!("{field}_pairs")),
                phrase: pair,
                delimiter: Delimiter::DoubleQuotes,
                slop: 0,
                prefix: false,
            })
        })
        .collect();
    match (tokens.len(), pairs.len()) {
        (_, 0) => literal(phrase),
        (2, 1) => pairs.remove(0),
        _ => {
            let mut clauses = vec![(Some(GrammarOccur::Must), literal(phrase))];
            clauses.extend(pairs.into_iter().map(|p| {
                (
                    Some(GrammarOccur::Must),
                    UserInputAst::Boost(Box::new(p), 0.0.into()),
                )
            }));
            UserInputAst::Clause(clauses)
        }
    }
}

fn literal(lit: UserInputLiteral) -> UserInputAst {
    UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(lit)))
}

fn day_start(d: NaiveDate) -> tantivy::DateTime {
    let dt = Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
    tantivy::DateTime::from_timestamp_secs(dt.timestamp())
}

/// A parser error with the spot it is about: the grammar's own position for syntax errors, the field
/// name for unknown fields, the value for bad values.
fn parser_error(query: &str, e: tantivy::query::QueryParserError) -> QueryError {
    use tantivy::query::QueryParserError as E;
    match e {
        E::FieldDoesNotExist(name) => {
            let position = find_field(query, &name);
            QueryError::at(
                query,
                position,
                format!(
                    "unknown field `{name}`; fields are {} (and `source` for `feed`)",
                    QUERY_FIELDS.join(", ")
                ),
            )
        }
        E::SyntaxError(_) => {
            let (_, errors) = tantivy::query_grammar::parse_query_lenient(query);
            let position = errors.first().map(|e| e.pos).or(Some(query.len()));
            let detail = errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_else(|| "syntax error".into());
            QueryError::at(query, position, format!("syntax error: {detail}"))
        }
        other => {
            let (_, errors) = tantivy::query_grammar::parse_query_lenient(query);
            QueryError::at(query, errors.first().map(|e| e.pos), other.to_string())
        }
    }
}

fn find_field(query: &str, name: &str) -> Option<usize> {
    let needle = format!("{name}:");
    query.match_indices(&needle).map(|(i, _)| i).find(|&i| {
        query[..i]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "(+-".contains(c))
    })
}

static PUBLISHED: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"published:(?:([\[{])\s*(\S+)\s+TO\s+([^\]}\s]+)\s*([\]}])|(>=|<=|>|<)?(\d{4}-\d{2}-\d{2})\b)",
    )
    .expect("valid regex")
});

/// Field names researchers use that the index spells otherwise (`source:` is `feed:`), and days in
/// `published:` ranges turned into the instants tantivy wants (a day's end bound is the next midnight).
fn rewrite_query(query: &str) -> Result<String, QueryError> {
    let aliased = lower_lang(&and_not(&with_aliases(query)));
    let mut out = String::with_capacity(aliased.len());
    let mut last = 0;
    for caps in PUBLISHED.captures_iter(&aliased) {
        let Some(whole) = caps.get(0) else { continue };
        out.push_str(&aliased[last..whole.start()]);
        last = whole.end();
        // Positions in `aliased` equal those in `query` up to a `source:` before them; find the
        // value in the original for the error.
        let day = |text: &str| -> Result<Option<NaiveDate>, QueryError> {
            if text == "*" || text.contains('T') {
                return Ok(None);
            }
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    QueryError::at(
                        query,
                        query.find(text),
                        format!("{text:?} is not a day like 2026-01-31 in `published:`"),
                    )
                })
        };
        let next = |d: NaiveDate| d.succ_opt().unwrap_or(d);
        let instant = |d: NaiveDate| format!("{}T00:00:00Z", d.format("%Y-%m-%d"));
        if let (Some(open), Some(lo), Some(hi), Some(close)) =
            (caps.get(1), caps.get(2), caps.get(3), caps.get(4))
        {
            let lower = match (day(lo.as_str())?, open.as_str()) {
                (Some(d), "[") => format!("[{}", instant(d)),
                (Some(d), _) => format!("[{}", instant(next(d))),
                (None, o) => format!("{o}{}", lo.as_str()),
            };
            let upper = match (day(hi.as_str())?, close.as_str()) {
                (Some(d), "]") => format!("{}}}", instant(next(d))),
                (Some(d), _) => format!("{}}}", instant(d)),
                (None, c) => format!("{}{c}", hi.as_str()),
            };
            out.push_str(&format!("published:{lower} TO {upper}"));
        } else if let Some(d) = caps.get(6) {
            let Some(d) = day(d.as_str())? else { continue };
            let text = match caps.get(5).map(|m| m.as_str()) {
                Some(">=") => format!("published:>={}", instant(d)),
                Some(">") => format!("published:>={}", instant(next(d))),
                Some("<") => format!("published:<{}", instant(d)),
                Some("<=") => format!("published:<{}", instant(next(d))),
                _ => format!("published:[{} TO {}}}", instant(d), instant(next(d))),
            };
            out.push_str(&text);
        }
    }
    out.push_str(&aliased[last..]);
    Ok(out)
}

static LANG: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"(^|[\s(+-])lang:([A-Za-z]{2,3})\b").expect("valid regex"));

/// `lang:RU` is `lang:ru` (languages are indexed in lower case).
fn lower_lang(query: &str) -> String {
    LANG.replace_all(query, |c: &regex::Captures| {
        format!("{}lang:{}", &c[1], c[2].to_ascii_lowercase())
    })
    .into_owned()
}

static AND_NOT: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"\s+AND\s+NOT\s+").expect("valid regex"));

/// `a AND NOT b` as `a -b` outside quotes: tantivy reads it as `+a +(-b)`, and a clause of only
/// exclusions matches nothing.
fn and_not(query: &str) -> String {
    query
        .split('"')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 0 {
                AND_NOT.replace_all(part, " -").into_owned()
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\"")
}

/// `source:` is `feed:`.
fn with_aliases(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    while let Some(i) = rest.find("source:") {
        let at_word_start = rest[..i]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "(+-".contains(c));
        out.push_str(&rest[..i]);
        out.push_str(if at_word_start { "feed:" } else { "source:" });
        rest = &rest[i + "source:".len()..];
    }
    out.push_str(rest);
    out
}

/// Runs a search on the loaded commit.
pub fn search(archive: &Archive, req: &SearchRequest) -> anyhow::Result<SearchResults> {
    let (results, ()) = run(archive, &archive.searcher(), req, Nothing)?;
    Ok(results)
}

/// What a search page shows, counted in one pass over the matches: the hits, the facet counts and the
/// match count per day (see [`Overview::timeline`]).
#[derive(Debug, Clone)]
pub struct Overview {
    /// The hits, as [`search`] returns them.
    pub results: SearchResults,
    /// As [`facets`] counts them.
    pub facets: Facets,
    days: BTreeMap<NaiveDate, u64>,
}

impl Overview {
    /// The match count over time in buckets of `interval`, as [`histogram`] gives it.
    pub fn timeline(&self, interval: Interval) -> Vec<Bucket> {
        fill_buckets(rebucket(&self.days, interval), interval)
    }

    /// The first and last day with a match.
    pub fn span(&self) -> Option<(NaiveDate, NaiveDate)> {
        Some((*self.days.keys().next()?, *self.days.keys().next_back()?))
    }
}

/// [`search`], [`facets`] and the daily [`histogram`] of one request from a single pass over its
/// matches (the web's search page and API).
pub fn overview(archive: &Archive, req: &SearchRequest) -> anyhow::Result<Overview> {
    let searcher = archive.searcher();
    let facets = FacetCollector::new(archive, &searcher)?;
    let (results, ((total, maps), days)) =
        run(archive, &searcher, req, (facets, HistogramCollector))?;
    Ok(Overview {
        results,
        facets: facet_lists(total, maps),
        days,
    })
}

/// Runs the request's query for the count, the top hits and `extra` (which sees every match): in one
/// pass, or two when ranking by relevance can skip documents (see the comment inside).
fn run<C: Collector>(
    archive: &Archive,
    searcher: &tantivy::Searcher,
    req: &SearchRequest,
    extra: C,
) -> anyhow::Result<(SearchResults, C::Fruit)> {
    let query = build_query(archive, req)?;
    let limit = req.limit.max(1);
    let (total, top, fruit): (usize, Vec<(f32, tantivy::DocAddress)>, C::Fruit) = match req.sort {
        // Two passes: the best hits alone (block-max WAND skips the matches that cannot make the top),
        // then the count and the extras over every match without scoring (in blocks of documents).
        // One pass with both would score every match.
        // A phrase (quoted, or a word the analyzer cuts in several tokens, as Chinese often is) is
        // checked against positions for every candidate either way (no pruning): one pass.
        Sort::Relevance if needs_positions(&*query) => searcher
            .search(
                &*query,
                &(Count, TopDocs::with_limit(limit).order_by_score(), extra),
            )
            .context("search failed")?,
        Sort::Relevance => {
            let top = searcher
                .search(&*query, &TopDocs::with_limit(limit).order_by_score())
                .context("search failed")?;
            let (total, fruit) = searcher
                .search(&*query, &(Count, extra))
                .context("search failed")?;
            (total, top, fruit)
        }
        Sort::Newest | Sort::Oldest => {
            let order = if req.sort == Sort::Newest {
                tantivy::Order::Desc
            } else {
                tantivy::Order::Asc
            };
            let by_date = TopDocs::with_limit(limit)
                .order_by_fast_field::<tantivy::DateTime>("published", order);
            let (total, top, fruit) = searcher
                .search(&*query, &(Count, by_date, extra))
                .context("search failed")?;
            (
                total,
                top.into_iter().map(|(_, address)| (0.0, address)).collect(),
                fruit,
            )
        }
    };
    let mut snippets = Snippets::new(archive, searcher, &*query, !req.query.trim().is_empty());
    let mut hits = Vec::with_capacity(top.len());
    for (score, address) in top {
        let article = archive.article(searcher, address)?;
        let snippet = snippets.of(&article, address);
        hits.push(to_hit(article, score, snippet));
    }
    Ok((
        SearchResults {
            query: req.query.clone(),
            total,
            hits,
        },
        fruit,
    ))
}

/// Whether any term of `query` must be matched at positions (a phrase somewhere in it).
fn needs_positions(query: &dyn Query) -> bool {
    let mut positions = false;
    query.query_terms(&mut |_, needs| positions |= needs);
    positions
}

/// A collector that collects nothing (for [`run`] without extras).
struct Nothing;

impl Collector for Nothing {
    type Fruit = ();
    type Child = Nothing;

    fn for_segment(&self, _: u32, _: &SegmentReader) -> tantivy::Result<Nothing> {
        Ok(Nothing)
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, _: Vec<()>) -> tantivy::Result<()> {
        Ok(())
    }
}

impl SegmentCollector for Nothing {
    type Fruit = ();

    fn collect(&mut self, _: DocId, _: Score) {}

    fn harvest(self) {}
}

/// Snippet generators: the exact `text` field first, then the stemmed field of the article's language
/// (so a stemmed match is highlighted too). Built lazily, once per field.
struct Snippets<'a> {
    archive: &'a Archive,
    searcher: &'a tantivy::Searcher,
    query: &'a dyn Query,
    enabled: bool,
    /// Per field: the query's terms that occur in it, and the generator (none when no term occurs).
    generators: HashMap<Field, Option<(Vec<Term>, SnippetGenerator)>>,
}

impl<'a> Snippets<'a> {
    fn new(
        archive: &'a Archive,
        searcher: &'a tantivy::Searcher,
        query: &'a dyn Query,
        enabled: bool,
    ) -> Snippets<'a> {
        Snippets {
            archive,
            searcher,
            query,
            enabled,
            generators: HashMap::new(),
        }
    }

    /// The first fragment of the article's text with a match (or its first fragment when none has):
    /// the text is read in chunks of about [`SNIPPET_CHUNK`] bytes, so a match near the start costs a
    /// chunk's tokenizing, not the whole article's. A field is read only when the index says the
    /// document holds one of the query's terms in it: the exact field first (the forms the user typed;
    /// its analyzer is the cheaper one), else the stemmed field of the article's language (inflected
    /// forms); an article that matched by its title alone is not tokenized at all.
    fn of(
        &mut self,
        article: &Article,
        address: tantivy::DocAddress,
    ) -> Option<(String, Vec<std::ops::Range<usize>>)> {
        if !self.enabled {
            return None;
        }
        let f = self.archive.fields;
        let mut first = None;
        for field in [Some(f.text), f.stem(&article.lang.lang)]
            .into_iter()
            .flatten()
        {
            let (searcher, query) = (self.searcher, self.query);
            let generator = self.generators.entry(field).or_insert_with(|| {
                // The query's terms in this field that occur in the index, each scored as
                // `SnippetGenerator::create` scores them (rarer terms weigh more); looked up once.
                let mut terms = Vec::new();
                let mut scored = BTreeMap::new();
                let mut add = |term: &Term| {
                    let value = term.value();
                    let Some(text) = value.as_str() else {
                        return;
                    };
                    let df = searcher.doc_freq(term).unwrap_or(0);
                    if df > 0 && !scored.contains_key(text) {
                        scored.insert(text.to_string(), 1.0 / (1.0 + df as Score));
                        terms.push(term.clone());
                    }
                };
                query.query_terms(&mut |term, _| {
                    if term.field() == field {
                        add(term);
                    } else if term.field() == f.text_pairs && field == f.text {
                        // A phrase answered by its pair term: highlight its two words.
                        if let Some(pair) = term.value().as_str() {
                            for word in pair.split(' ') {
                                add(&Term::from_field_text(f.text, word));
                            }
                        }
                    }
                });
                if terms.is_empty() {
                    return None;
                }
                let tokenizer = searcher.index().tokenizer_for_field(field).ok()?;
                Some((terms, SnippetGenerator::new(scored, tokenizer, field, 240)))
            });
            let Some((terms, g)) = generator else {
                continue;
            };
            if !holds_any(searcher, address, field, terms) {
                continue;
            }
            for chunk in chunks(&article.text, SNIPPET_CHUNK).take(SNIPPET_MAX_CHUNKS) {
                let s = g.snippet(chunk);
                if s.fragment().trim().is_empty() {
                    continue;
                }
                let found = (s.fragment().to_string(), s.highlighted().to_vec());
                if !found.1.is_empty() {
                    return Some(found);
                }
                first.get_or_insert(found);
            }
        }
        first
    }
}

/// Whether the document at `address` holds one of `terms` (all of `field`), from the postings lists.
/// An error reads as "yes" (the snippet is then looked for in the text).
fn holds_any(
    searcher: &tantivy::Searcher,
    address: tantivy::DocAddress,
    field: Field,
    terms: &[Term],
) -> bool {
    let segment = searcher.segment_reader(address.segment_ord);
    let Ok(index) = segment.inverted_index(field) else {
        return true;
    };
    terms.iter().any(|term| {
        match index.read_postings(term, IndexRecordOption::Basic) {
            Ok(Some(mut postings)) => {
                // `seek` wants a target at or after the current document.
                let first = postings.doc();
                first == address.doc_id
                    || (first < address.doc_id && postings.seek(address.doc_id) == address.doc_id)
            }
            Ok(None) => false,
            Err(_) => true,
        }
    })
}

/// Bytes of text tokenized at a time when looking for a snippet.
const SNIPPET_CHUNK: usize = 500;
/// Chunks read at most (a match further in than ~100 KB gets the article's first fragment).
const SNIPPET_MAX_CHUNKS: usize = 200;

/// `text` in pieces of about `size` bytes, cut at a paragraph break, else a line break, else a space
/// or an ideographic full stop, else a character boundary, so words are rarely cut.
fn chunks(text: &str, size: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if rest.len() <= size + size / 2 {
            return Some(std::mem::take(&mut rest));
        }
        let mut end = size;
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let mut window_end = rest.len().min(end + size / 2);
        while !rest.is_char_boundary(window_end) {
            window_end -= 1;
        }
        let window = &rest[end..window_end];
        let after = |pat: &str| window.find(pat).map(|i| i + pat.len());
        let cut = end
            + after("\n\n")
                .or_else(|| after("\n"))
                .or_else(|| after(" "))
                .or_else(|| after("\u{3002}"))
                .unwrap_or(0);
        let (head, tail) = rest.split_at(cut);
        rest = tail;
        Some(head)
    })
}

/// The hit shown for an article. `snippet` is a fragment and its highlighted byte ranges.
fn to_hit(
    article: Article,
    score: f32,
    snippet: Option<(String, Vec<std::ops::Range<usize>>)>,
) -> Hit {
    let (snippet, highlights) = match snippet {
        Some((fragment, ranges)) => one_line_with(&fragment, &ranges),
        None => (one_line(&truncate_chars(&article.text, 240)), Vec::new()),
    };
    Hit {
        id: article.id,
        url: article.url,
        title: article.title,
        feed: article.feed,
        source_name: article.source_name,
        affiliation: article.affiliation.as_str().to_string(),
        country: article.country,
        lang: article.lang.lang,
        script: article.lang.script,
        published: article
            .published
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        campaigns: article.campaigns.iter().map(|c| c.id.clone()).collect(),
        campaign_terms: article
            .campaigns
            .iter()
            .map(|c| CampaignTerms {
                id: c.id.clone(),
                terms: c.terms.iter().map(|t| t.term.clone()).collect(),
            })
            .collect(),
        score,
        snippet,
        highlights,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// [`one_line`] that carries byte ranges of `s` over to the result.
fn one_line_with(s: &str, ranges: &[std::ops::Range<usize>]) -> (String, Vec<[usize; 2]>) {
    let mut out = String::with_capacity(s.len());
    // map[i] = offset in `out` of byte i of `s` (for the kept bytes; ends map to the next kept byte).
    let mut map = vec![0usize; s.len() + 1];
    let mut pending_space = false;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            let to = out.len() + usize::from(pending_space);
            map[i..i + c.len_utf8()].fill(to);
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        for (k, b) in (i..i + c.len_utf8()).enumerate() {
            map[b] = out.len() + k;
        }
        out.push(c);
    }
    map[s.len()] = out.len();
    let highlights = ranges
        .iter()
        .filter(|r| r.start < r.end && r.end <= s.len())
        .map(|r| {
            let start = map[r.start].min(out.len());
            let end = r
                .end
                .checked_sub(1)
                .map_or(start, |e| map[e] + 1)
                .min(out.len());
            [start, end.max(start)]
        })
        .filter(|[a, b]| a < b && out.is_char_boundary(*a) && out.is_char_boundary(*b))
        .collect();
    (out, highlights)
}

/// The first `n` characters of `s`, with an ellipsis when cut.
pub fn truncate_chars(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// Finds an article by id or URL.
pub fn find_article(archive: &Archive, id_or_url: &str) -> anyhow::Result<Option<Article>> {
    let f = archive.fields;
    let searcher = archive.searcher();
    for field in [f.id, f.url] {
        let q = TermQuery::new(
            Term::from_field_text(field, id_or_url),
            IndexRecordOption::Basic,
        );
        if let Some((_, address)) = searcher
            .search(&q, &TopDocs::with_limit(1).order_by_score())?
            .into_iter()
            .next()
        {
            return Ok(Some(archive.article(&searcher, address)?));
        }
    }
    Ok(None)
}

/// The near-duplicate cluster of an article: every member, first publisher first.
pub fn cluster_members(archive: &Archive, article: &Article) -> anyhow::Result<Vec<Article>> {
    let Some(cluster) = &article.cluster else {
        return Ok(vec![article.clone()]);
    };
    let searcher = archive.searcher();
    let q = TermQuery::new(
        Term::from_field_text(archive.fields.cluster, cluster),
        IndexRecordOption::Basic,
    );
    let docs = searcher.search(&q, &tantivy::collector::DocSetCollector)?;
    let mut members = Vec::with_capacity(docs.len());
    for address in docs {
        members.push(archive.article(&searcher, address)?);
    }
    members.sort_by(|a, b| {
        a.dated_at()
            .cmp(&b.dated_at())
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(members)
}

/// Output formats of `search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned text for a terminal.
    Table,
    /// One JSON object `{"query", "total", "hits"}`.
    Json,
    /// One hit per line.
    Jsonl,
    /// A header row, then one hit per row.
    Csv,
}

/// Writes results in the chosen format.
pub fn write_results(
    out: &mut dyn Write,
    results: &SearchResults,
    format: OutputFormat,
) -> anyhow::Result<()> {
    write_results_styled(out, results, format, false)
}

/// The columns of csv output and exports.
pub const CSV_HEADER: [&str; 13] = [
    "id",
    "url",
    "title",
    "feed",
    "source_name",
    "affiliation",
    "country",
    "lang",
    "script",
    "published",
    "campaigns",
    "score",
    "snippet",
];

/// A cell a spreadsheet will not run as a formula: archived titles are hostile, and `=HYPERLINK(...)`
/// in a CSV cell is code in Excel and LibreOffice. Such cells get a leading apostrophe.
pub fn csv_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// One CSV row of a hit, every cell spreadsheet-safe.
fn csv_row(h: &Hit) -> [String; 13] {
    [
        h.id.clone(),
        h.url.clone(),
        h.title.clone(),
        h.feed.clone(),
        h.source_name.clone(),
        h.affiliation.clone(),
        h.country.clone().unwrap_or_default(),
        h.lang.clone(),
        h.script.clone().unwrap_or_default(),
        h.published.clone().unwrap_or_default(),
        h.campaigns.join(";"),
        format!("{:.3}", h.score),
        h.snippet.clone(),
    ]
    .map(|cell| csv_safe(&cell))
}

/// The snippet with its highlights in bold (ANSI) for a terminal.
fn bold_snippet(h: &Hit, max_chars: usize) -> String {
    let cut = h
        .snippet
        .char_indices()
        .nth(max_chars)
        .map_or(h.snippet.len(), |(i, _)| i);
    let mut out = String::with_capacity(cut + 16 * h.highlights.len());
    let mut at = 0;
    for &[a, b] in &h.highlights {
        if a < at || b > cut {
            continue;
        }
        out.push_str(&h.snippet[at..a]);
        out.push_str("\x1b[1m");
        out.push_str(&h.snippet[a..b]);
        out.push_str("\x1b[0m");
        at = b;
    }
    out.push_str(&h.snippet[at..cut]);
    if cut < h.snippet.len() {
        out.push('…');
    }
    out
}

/// [`write_results`], with highlights in bold in the table when `bold` (a terminal).
pub fn write_results_styled(
    out: &mut dyn Write,
    results: &SearchResults,
    format: OutputFormat,
    bold: bool,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, results)?;
            writeln!(out)?;
        }
        OutputFormat::Jsonl => {
            for hit in &results.hits {
                serde_json::to_writer(&mut *out, hit)?;
                writeln!(out)?;
            }
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(CSV_HEADER)?;
            for h in &results.hits {
                w.write_record(csv_row(h))?;
            }
            w.flush()?;
        }
        OutputFormat::Table => {
            writeln!(
                out,
                "{} of {} matches for {:?}",
                results.hits.len(),
                results.total,
                results.query
            )?;
            for h in &results.hits {
                let date = h
                    .published
                    .as_deref()
                    .map_or("          ", |d| &d[..d.len().min(10)]);
                let campaigns = if h.campaigns.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", h.campaigns.join(", "))
                };
                writeln!(out)?;
                writeln!(
                    out,
                    "{date}  {:<5} {:<11} {}{campaigns}",
                    h.lang, h.affiliation, h.feed
                )?;
                writeln!(out, "  {}", h.title)?;
                writeln!(out, "  {}", h.url)?;
                if !h.snippet.is_empty() {
                    if bold {
                        writeln!(out, "  {}", bold_snippet(h, 200))?;
                    } else {
                        writeln!(out, "  {}", truncate_chars(&h.snippet, 200))?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date like 2026-11-28"))
}

/// Counts of the whole match set by one field's values.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FacetCount {
    /// The value (campaign id, feed id, ISO 639-1 language, affiliation, country).
    pub value: String,
    /// Matching articles with that value.
    pub count: u64,
}

/// Facet counts over every match, most frequent first. An article counts once per campaign it has.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Facets {
    /// Matching articles.
    pub total: u64,
    /// By campaign id (untagged articles are not counted).
    pub campaign: Vec<FacetCount>,
    /// By feed id.
    pub feed: Vec<FacetCount>,
    /// By language.
    pub lang: Vec<FacetCount>,
    /// By affiliation.
    pub affiliation: Vec<FacetCount>,
    /// By country (articles of outlets without one are not counted).
    pub country: Vec<FacetCount>,
    /// By script (`Hans`, `Hant`, `Cyrl`, `Latn`, ...).
    pub script: Vec<FacetCount>,
}

const FACET_FIELDS: [&str; 6] = [
    "campaign",
    "feed",
    "lang",
    "affiliation",
    "country",
    "script",
];

/// Counts term ordinals of string fast fields per segment, then resolves them to strings.
struct FacetCollector {
    /// Per facet field, its column in each segment (by segment ordinal).
    columns: Vec<Vec<Option<tantivy::columnar::StrColumn>>>,
}

impl FacetCollector {
    fn new(archive: &Archive, searcher: &tantivy::Searcher) -> tantivy::Result<FacetCollector> {
        Ok(FacetCollector {
            columns: archive.str_columns(searcher, &FACET_FIELDS)?,
        })
    }
}

struct FacetSegment {
    columns: Vec<Option<(tantivy::columnar::StrColumn, Vec<u64>)>>,
    total: u64,
}

impl Collector for FacetCollector {
    type Fruit = (u64, Vec<HashMap<String, u64>>);
    type Child = FacetSegment;

    fn for_segment(&self, ord: u32, _: &SegmentReader) -> tantivy::Result<FacetSegment> {
        let columns = self
            .columns
            .iter()
            .map(|by_segment| {
                by_segment.get(ord as usize).cloned().flatten().map(|c| {
                    let n = c.num_terms();
                    (c, vec![0; n])
                })
            })
            .collect();
        Ok(FacetSegment { columns, total: 0 })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<(u64, Vec<HashMap<String, u64>>)>,
    ) -> tantivy::Result<Self::Fruit> {
        let mut total = 0;
        let mut merged = vec![HashMap::new(); FACET_FIELDS.len()];
        for (t, maps) in fruits {
            total += t;
            for (into, map) in merged.iter_mut().zip(maps) {
                for (k, v) in map {
                    *into.entry(k).or_insert(0) += v;
                }
            }
        }
        Ok((total, merged))
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = (u64, Vec<HashMap<String, u64>>);

    fn collect(&mut self, doc: DocId, _: Score) {
        self.total += 1;
        for (column, counts) in self.columns.iter_mut().flatten() {
            for ord in column.ords().values_for_doc(doc) {
                if let Some(c) = counts.get_mut(ord as usize) {
                    *c += 1;
                }
            }
        }
    }

    /// A block of matches (counting without scoring): single-valued columns are read a block at a time.
    fn collect_block(&mut self, docs: &[DocId]) {
        self.total += docs.len() as u64;
        let mut ords = [None; 128];
        for (column, counts) in self.columns.iter_mut().flatten() {
            let column = column.ords();
            if column.get_cardinality() == tantivy::columnar::Cardinality::Multivalued {
                for &doc in docs {
                    for ord in column.values_for_doc(doc) {
                        if let Some(c) = counts.get_mut(ord as usize) {
                            *c += 1;
                        }
                    }
                }
                continue;
            }
            for block in docs.chunks(ords.len()) {
                let out = &mut ords[..block.len()];
                out.fill(None);
                column.first_vals(block, out);
                for ord in out.iter().flatten() {
                    if let Some(c) = counts.get_mut(*ord as usize) {
                        *c += 1;
                    }
                }
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        let mut maps = Vec::with_capacity(self.columns.len());
        for column in self.columns {
            let mut map = HashMap::new();
            if let Some((column, counts)) = column {
                let mut value = String::new();
                for (ord, count) in counts.into_iter().enumerate() {
                    value.clear();
                    if count > 0 && column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                        map.insert(value.clone(), count);
                    }
                }
            }
            maps.push(map);
        }
        (self.total, maps)
    }
}

/// Counts every match by campaign, feed, language, affiliation and country, from fast fields (no
/// document is loaded).
pub fn facets(archive: &Archive, req: &SearchRequest) -> anyhow::Result<Facets> {
    let query = build_query(archive, req)?;
    let searcher = archive.searcher();
    let (total, maps) = searcher
        .search(&*query, &FacetCollector::new(archive, &searcher)?)
        .context("facet counting failed")?;
    Ok(facet_lists(total, maps))
}

/// The facet collector's counts as lists, most frequent first.
fn facet_lists(total: u64, maps: Vec<HashMap<String, u64>>) -> Facets {
    let mut lists = maps.into_iter().map(|map| {
        let mut list: Vec<FacetCount> = map
            .into_iter()
            .map(|(value, count)| FacetCount { value, count })
            .collect();
        list.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        list
    });
    let mut next = || lists.next().unwrap_or_default();
    Facets {
        total,
        campaign: next(),
        feed: next(),
        lang: next(),
        affiliation: next(),
        country: next(),
        script: next(),
    }
}

/// Width of a histogram bucket. Weeks start on Monday (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// One UTC day.
    Day,
    /// Monday to Sunday (UTC).
    Week,
    /// A calendar month (UTC).
    Month,
}

impl Interval {
    /// The interval that keeps a timeline from `first` to `last` readable (at most ~120 bars).
    pub fn for_span(first: NaiveDate, last: NaiveDate) -> Interval {
        match (last - first).num_days() {
            ..=120 => Interval::Day,
            121..=840 => Interval::Week,
            _ => Interval::Month,
        }
    }

    /// The last day of the bucket starting on `start`.
    pub fn bucket_end(self, start: NaiveDate) -> NaiveDate {
        self.next(start).and_then(|d| d.pred_opt()).unwrap_or(start)
    }

    /// The first day of the bucket holding `day`.
    pub fn bucket_start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Interval::Day => day,
            Interval::Week => {
                day - chrono::Duration::days(i64::from(day.weekday().num_days_from_monday()))
            }
            Interval::Month => day.with_day(1).unwrap_or(day),
        }
    }

    fn next(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Interval::Day => start.succ_opt(),
            Interval::Week => start.checked_add_days(chrono::Days::new(7)),
            Interval::Month => start.checked_add_months(chrono::Months::new(1)),
        }
    }
}

/// Matches in one bucket of time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Bucket {
    /// First day of the bucket (UTC).
    pub start: NaiveDate,
    /// Matching articles dated in it (publication time, else fetch time).
    pub count: u64,
}

/// Counts matches per UTC day of the `published` fast field.
struct HistogramCollector;

struct HistogramSegment {
    dates: tantivy::columnar::Column<tantivy::DateTime>,
    days: DayCounts,
}

/// Counts by day number (days since 1970-01-01): a dense vector over the days seen, or a map when
/// hostile dates would spread it over centuries.
#[derive(Default)]
struct DayCounts {
    first: i64,
    dense: Vec<u64>,
    sparse: HashMap<i64, u64>,
}

/// Widest dense span, in days.
const MAX_DENSE_DAYS: i64 = 100_000;

impl DayCounts {
    #[inline]
    fn add(&mut self, day: i64) {
        if let Some(c) = usize::try_from(day - self.first)
            .ok()
            .and_then(|k| self.dense.get_mut(k))
        {
            *c += 1;
            return;
        }
        self.add_slow(day);
    }

    fn add_slow(&mut self, day: i64) {
        if self.dense.is_empty() && self.sparse.is_empty() {
            self.first = day;
            self.dense.push(1);
            return;
        }
        if !self.dense.is_empty() {
            let last = self.first + self.dense.len() as i64 - 1;
            let (lo, hi) = (self.first.min(day), last.max(day));
            if hi - lo < MAX_DENSE_DAYS {
                if day < self.first {
                    let grow = (self.first - day) as usize;
                    self.dense.splice(0..0, std::iter::repeat_n(0, grow));
                    self.first = day;
                } else if day > last {
                    self.dense.resize((day - self.first + 1) as usize, 0);
                }
                self.dense[(day - self.first) as usize] += 1;
                return;
            }
            // Too wide: move to the map.
            for (k, &c) in self.dense.iter().enumerate() {
                if c > 0 {
                    self.sparse.insert(self.first + k as i64, c);
                }
            }
            self.dense.clear();
        }
        *self.sparse.entry(day).or_insert(0) += 1;
    }

    fn into_dates(self) -> BTreeMap<NaiveDate, u64> {
        let dense = self
            .dense
            .into_iter()
            .enumerate()
            .filter(|&(_, c)| c > 0)
            .map(|(k, c)| (self.first + k as i64, c));
        let mut out = BTreeMap::new();
        for (day, c) in dense.chain(self.sparse) {
            if let Some(d) = chrono::DateTime::from_timestamp(day * 86_400, 0) {
                *out.entry(d.date_naive()).or_insert(0) += c;
            }
        }
        out
    }
}

impl Collector for HistogramCollector {
    type Fruit = BTreeMap<NaiveDate, u64>;
    type Child = HistogramSegment;

    fn for_segment(&self, _: u32, reader: &SegmentReader) -> tantivy::Result<HistogramSegment> {
        Ok(HistogramSegment {
            dates: reader.fast_fields().date("published")?,
            days: DayCounts::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut merged = BTreeMap::new();
        for fruit in fruits {
            for (k, v) in fruit {
                *merged.entry(k).or_insert(0) += v;
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for HistogramSegment {
    type Fruit = BTreeMap<NaiveDate, u64>;

    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some(when) = self.dates.first(doc) {
            self.days.add(when.into_timestamp_secs().div_euclid(86_400));
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        let mut dates = [None; 128];
        for block in docs.chunks(dates.len()) {
            let out = &mut dates[..block.len()];
            out.fill(None);
            self.dates.first_vals(block, out);
            for when in out.iter().flatten() {
                self.days.add(when.into_timestamp_secs().div_euclid(86_400));
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.days.into_dates()
    }
}

/// Most buckets a histogram fills with zeros between its first and last (beyond that, empty buckets
/// are left out).
const MAX_FILLED_BUCKETS: usize = 5000;

/// The match count over time, oldest bucket first, from the `published` fast field (no document is
/// loaded). Empty buckets between the first and the last are included.
pub fn histogram(
    archive: &Archive,
    req: &SearchRequest,
    interval: Interval,
) -> anyhow::Result<Vec<Bucket>> {
    let query = build_query(archive, req)?;
    let days = archive
        .searcher()
        .search(&*query, &HistogramCollector)
        .context("histogram counting failed")?;
    Ok(fill_buckets(rebucket(&days, interval), interval))
}

/// Day counts summed into buckets of `interval`.
fn rebucket(days: &BTreeMap<NaiveDate, u64>, interval: Interval) -> BTreeMap<NaiveDate, u64> {
    let mut out = BTreeMap::new();
    for (&day, &c) in days {
        *out.entry(interval.bucket_start(day)).or_insert(0) += c;
    }
    out
}

/// The buckets from the first to the last, empty ones included (up to [`MAX_FILLED_BUCKETS`]).
fn fill_buckets(counts: BTreeMap<NaiveDate, u64>, interval: Interval) -> Vec<Bucket> {
    let (Some(&first), Some(&last)) = (counts.keys().next(), counts.keys().next_back()) else {
        return Vec::new();
    };
    let mut buckets = Vec::new();
    let mut at = Some(first);
    while let Some(start) = at.filter(|d| *d <= last) {
        buckets.push(Bucket {
            start,
            count: counts.get(&start).copied().unwrap_or(0),
        });
        if buckets.len() > MAX_FILLED_BUCKETS {
            return counts
                .into_iter()
                .map(|(start, count)| Bucket { start, count })
                .collect();
        }
        at = interval.next(start);
    }
    buckets
}

/// Writes facets as text tables.
pub fn write_facets_table(out: &mut dyn Write, facets: &Facets) -> anyhow::Result<()> {
    writeln!(out, "facets over {} matches", facets.total)?;
    let groups = [
        ("campaign", &facets.campaign),
        ("feed", &facets.feed),
        ("lang", &facets.lang),
        ("affiliation", &facets.affiliation),
        ("country", &facets.country),
        ("script", &facets.script),
    ];
    for (name, list) in groups {
        writeln!(out, "\n{name}:")?;
        if list.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for c in list {
            writeln!(out, "  {:>8}  {}", c.count, c.value)?;
        }
    }
    Ok(())
}

/// Writes a histogram as a text chart (bars scaled to 50 characters).
pub fn write_histogram_table(
    out: &mut dyn Write,
    buckets: &[Bucket],
    interval: Interval,
) -> anyhow::Result<()> {
    let name = match interval {
        Interval::Day => "day",
        Interval::Week => "week (from Monday)",
        Interval::Month => "month",
    };
    writeln!(out, "matches by {name}")?;
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    for b in buckets {
        let width = (b.count * 50).div_ceil(max) as usize;
        let label = match interval {
            Interval::Month => b.start.format("%Y-%m").to_string(),
            _ => b.start.format("%Y-%m-%d").to_string(),
        };
        writeln!(out, "{label:<10} {:>7} {}", b.count, "█".repeat(width))?;
    }
    Ok(())
}

/// Formats of [`export`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// The csv columns of `search` ([`CSV_HEADER`]), header first.
    Csv,
    /// One hit object per line.
    Jsonl,
}

/// The index state an export read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IndexCommit {
    /// tantivy's opstamp of the commit.
    pub opstamp: u64,
    /// Its segments' ids.
    pub segments: Vec<String>,
    /// Articles in it.
    pub articles: u64,
}

/// What an export was, so it can be cited and reproduced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Provenance {
    /// The tool and its version.
    pub tool: String,
    /// The query as given.
    pub query: String,
    /// The filters besides the query (only those set).
    pub filters: BTreeMap<String, String>,
    /// Output format.
    pub format: ExportFormat,
    /// The index commit read.
    pub index_commit: IndexCommit,
    /// When the export ran (RFC 3339, UTC).
    pub exported_at: String,
    /// Rows written (= matching articles).
    pub matches: u64,
    /// sha256 of every byte written (header included), hex.
    pub sha256: String,
    /// Row order.
    pub order: String,
}

struct HashingWriter<'a> {
    inner: &'a mut dyn Write,
    hasher: Sha256,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The filters of a request, by name, for provenance.
pub fn request_filters(req: &SearchRequest) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    put("lang", req.lang.clone());
    put("campaign", req.campaign.clone());
    put("feed", req.feed.clone());
    put("affiliation", req.affiliation.clone());
    put("country", req.country.clone());
    put("script", req.script.clone());
    put("since", req.since.map(|d| d.to_string()));
    put("until", req.until.map(|d| d.to_string()));
    m
}

/// Streams every match (no cap; `limit` and `sort` are ignored) to `out`, one document at a time, in
/// index order (segment by segment, by document number: stable for a given index commit), and returns
/// the provenance record. Memory does not grow with the number of matches.
pub fn export(
    archive: &Archive,
    req: &SearchRequest,
    format: ExportFormat,
    out: &mut dyn Write,
) -> anyhow::Result<Provenance> {
    let query = build_query(archive, req)?;
    let searcher = archive.searcher();
    let opstamp = archive
        .index()
        .load_metas()
        .map(|m| m.opstamp)
        .unwrap_or_default();
    let segments: Vec<String> = searcher
        .segment_readers()
        .iter()
        .map(|s| s.segment_id().uuid_string())
        .collect();
    let weight = query
        .weight(EnableScoring::disabled_from_searcher(&searcher))
        .context("cannot prepare the export query")?;
    let hashing = HashingWriter {
        inner: out,
        hasher: Sha256::new(),
    };
    enum Sink<'a> {
        Csv(Box<csv::Writer<HashingWriter<'a>>>),
        Jsonl(HashingWriter<'a>),
    }
    let mut sink = match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(hashing);
            w.write_record(CSV_HEADER)?;
            Sink::Csv(Box::new(w))
        }
        ExportFormat::Jsonl => Sink::Jsonl(hashing),
    };
    let mut matches = 0u64;
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let alive = segment.alive_bitset();
        let mut scorer = weight.scorer(segment, 1.0)?;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                let address = tantivy::DocAddress::new(ord as u32, doc);
                let article = archive.article(&searcher, address)?;
                let hit = to_hit(article, 0.0, None);
                match &mut sink {
                    Sink::Csv(w) => w.write_record(csv_row(&hit))?,
                    Sink::Jsonl(w) => {
                        serde_json::to_writer(&mut *w, &hit)?;
                        w.write_all(b"\n")?;
                    }
                }
                matches += 1;
            }
            doc = scorer.advance();
        }
    }
    let mut hashing = match sink {
        Sink::Csv(w) => w
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write the export: {}", e.error()))?,
        Sink::Jsonl(w) => w,
    };
    hashing.flush()?;
    Ok(Provenance {
        tool: format!("mediawatch {}", env!("CARGO_PKG_VERSION")),
        query: req.query.clone(),
        filters: request_filters(req),
        format,
        index_commit: IndexCommit {
            opstamp,
            segments,
            articles: searcher.num_docs(),
        },
        exported_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        matches,
        sha256: hex::encode(hashing.hasher.finalize()),
        order: "index order (segment, document) of the commit".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_text_and_cut_at_breaks() {
        let text = format!(
            "{}\n\n{}{}",
            "word ".repeat(400),
            "字".repeat(900),
            "。尾".repeat(10)
        );
        let pieces: Vec<&str> = chunks(&text, 1500).collect();
        assert_eq!(pieces.concat(), text);
        assert!(pieces.len() > 1);
        // The first cut is at the paragraph break, not inside a word.
        assert!(pieces[0].ends_with("word \n\n"), "{:?}", &pieces[0][1990..]);
        assert!(pieces.iter().all(|p| p.len() <= 1500 + 750 + 4));
        // Any size on text mixing 1- to 4-byte characters: no panic, nothing lost.
        let mixed = "aé字𝄞 \n".repeat(50);
        for size in 1..60 {
            assert_eq!(
                chunks(&mixed, size).collect::<String>(),
                mixed,
                "size {size}"
            );
        }
        assert_eq!(chunks("", 10).count(), 0);
        assert_eq!(chunks("short", 1500).collect::<Vec<_>>(), ["short"]);
    }

    #[test]
    fn day_counts_stay_exact_when_dates_spread_over_centuries() {
        let mut c = DayCounts::default();
        for day in [20_000, 19_990, 20_000, -5, 2_900_000, 20_001] {
            c.add(day);
        }
        let dates = c.into_dates();
        let day = |n: i64| {
            chrono::DateTime::from_timestamp(n * 86_400, 0)
                .unwrap()
                .date_naive()
        };
        assert_eq!(dates.get(&day(20_000)), Some(&2));
        assert_eq!(dates.get(&day(-5)), Some(&1));
        assert_eq!(dates.get(&day(2_900_000)), Some(&1));
        assert_eq!(dates.values().sum::<u64>(), 6);
    }
}
