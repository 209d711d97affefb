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
//! `published:>=2026-01-01`). What revisits found: `versions`, `edited`, `removed`, `changed_at` (days
//! as in `published`) and `campaign_dropped` (campaigns an edit dropped).
//!
//! This file holds the request and result types and the execution ([`search`], [`overview`]); beside
//! it: `query` (parsing and rewriting, [`QueryError`]), `snippet` (snippets and highlight ranges),
//! `facets` and `histogram` (one collector each; `histogram` also the attention share and the
//! by-field counts of `compare`), `compare` (several queries over the same periods), `export` (the one exporter and its [`Provenance`]),
//! `forwards` (Telegram forward chains, [`forward_chain`]), `terms` (distinctive terms of a query's
//! matches against a background, [`terms::terms`]) and `print` (the `search` command's table,
//! json, jsonl and csv output).

mod among;
mod cache;
mod compare;
mod export;
mod facets;
mod forwards;
mod histogram;
mod print;
mod query;
mod snippet;
pub mod terms;

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::query::{Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, Score, SegmentReader, Term};

use crate::index::Archive;
use crate::model::{Article, CampaignTerms, Hit};

pub use among::Among;
pub use cache::{CacheStats, SearchCache, DEFAULT_CACHE_BYTES};
pub use compare::{
    assemble, compare, write_compare, By, CompareError, CompareFormat, CompareRequest, Comparison,
    Row, Series, COMPARE_CSV_HEADER, MAX_COMPARE_ROWS, MAX_QUERIES,
};
pub use export::{
    export, for_each_match, now_rfc3339, request_filters, tool, ExportFormat, IndexCommit,
    Provenance, Streamed, ORDER,
};
pub use facets::{facets, FacetCount, Facets};
pub use forwards::{
    forward_chain, ForwardChain, ForwardLink, ForwardNode, MAX_DOWNSTREAM_ARTICLES,
    MAX_DOWNSTREAM_LEVELS, MAX_UPSTREAM_STEPS,
};
pub use histogram::{
    histogram, histogram_normalized, share, with_totals, Bucket, Interval, ShareBucket,
};
pub(crate) use print::csv_safe;
pub use print::{
    write_facets_table, write_histogram_table, write_results, write_share_table, OutputFormat,
    CSV_HEADER,
};
pub use query::{
    build_query, check_query, parse_day, DayError, QueryError, MAX_NESTING, MAX_QUERY_BYTES,
    QUERY_FIELDS,
};
pub use snippet::truncate_chars;

use cache::Counter;
use facets::facet_lists;
pub use histogram::KeyedDays;
use histogram::{fill_buckets, rebucket};
use snippet::{one_line, one_line_with, Snippets};

/// What to search for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
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
    /// Best hits skipped before the `limit` returned (where a page starts; 0 for the first): only the
    /// returned hits are read and snippeted.
    pub offset: usize,
    /// Order of the hits.
    pub sort: Sort,
    /// Only articles a revisit found changed (edited, removed or restored: those with a `changed_at`);
    /// `since` and `until` then bound the change time instead of the publication time (`/changes`).
    pub changed: bool,
}

impl SearchRequest {
    /// The request's source filters alone: feed, affiliation, country, lang, script and the days
    /// (`since`, `until`), without the query and the campaign. What an attention share divides by: the
    /// archived articles of the same outlets, languages and period ([`histogram_normalized`],
    /// [`compare()`]). From the first hit on (`offset` 0): a page of hits is no filter.
    pub fn source_filters(&self) -> SearchRequest {
        SearchRequest {
            query: String::new(),
            campaign: None,
            offset: 0,
            ..self.clone()
        }
    }
}

/// Order of search hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Sort {
    /// Best match first.
    #[default]
    Relevance,
    /// Latest publication first (hits carry score 0).
    Newest,
    /// Earliest publication first (hits carry score 0).
    Oldest,
    /// Latest change a revisit found first (`changed_at`; never changed last; hits carry score 0).
    Changed,
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

/// The most hits one search returns (`--limit`; the web's `max_offset` may not pass it either). Every
/// match, however many, is for [`export`] (`search --all`), which streams them.
pub const MAX_LIMIT: usize = 1_000_000;

/// A `--limit` outside 1..=[`MAX_LIMIT`], or not a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a number of hits from 1 to {MAX_LIMIT}; --all streams every match")]
pub struct LimitError(pub String);

/// Parses a hit limit (`search --limit`): 1 to [`MAX_LIMIT`].
pub fn parse_limit(s: &str) -> Result<usize, LimitError> {
    s.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| LimitError(s.to_string()))
}

/// Runs a search on the loaded commit.
pub fn search(archive: &Archive, req: &SearchRequest) -> anyhow::Result<SearchResults> {
    let query = build_query(archive, req)?;
    let (results, ()) = run(archive, &archive.searcher(), req, query, Nothing, None)?;
    Ok(results)
}

/// [`search`] among the articles of `among` only (an alert over a commit's new articles): the same
/// query, filters, order and hits, never a look at the rest of the archive's matches.
pub fn search_among(
    archive: &Archive,
    among: &Among,
    req: &SearchRequest,
) -> anyhow::Result<SearchResults> {
    let query = among.restrict(build_query(archive, req)?);
    let (results, ()) = run(archive, &among.searcher, req, query, Nothing, None)?;
    Ok(results)
}

/// [`search`] among the articles dated (publication time, else fetch time) from `from` on, and before
/// `to` when given: an instant window, where `since`/`until` are whole days (a spike alert's rolling
/// 24 hours).
pub fn search_within(
    archive: &Archive,
    req: &SearchRequest,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> anyhow::Result<SearchResults> {
    let query = within(archive, req, from, to)?;
    let (results, ()) = run(archive, &archive.searcher(), req, query, Nothing, None)?;
    Ok(results)
}

/// The number of [`search_within`]'s matches, without reading a hit.
pub fn count_within(
    archive: &Archive,
    req: &SearchRequest,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> anyhow::Result<usize> {
    let query = within(archive, req, from, to)?;
    Ok(archive.searcher().search(&query, &Count)?)
}

fn within(
    archive: &Archive,
    req: &SearchRequest,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) -> anyhow::Result<Box<dyn Query>> {
    let instant = |t: DateTime<Utc>| tantivy::DateTime::from_timestamp_secs(t.timestamp());
    Ok(Box::new(tantivy::query::BooleanQuery::new(vec![
        (tantivy::query::Occur::Must, build_query(archive, req)?),
        (
            tantivy::query::Occur::Must,
            archive.published_range(Some(instant(from)), to.map(instant)),
        ),
    ])))
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
/// matches.
pub fn overview(archive: &Archive, req: &SearchRequest) -> anyhow::Result<Overview> {
    overview_with(archive, None, req)
}

/// [`overview`] through `cache` (the web's search page and API): the answer itself when this commit
/// gave it before, else each segment's counts that the cache holds (see [`SearchCache`]); every count
/// stays exact.
pub fn overview_cached(
    archive: &Archive,
    cache: &SearchCache,
    req: &SearchRequest,
) -> anyhow::Result<Overview> {
    overview_with(archive, Some(cache), req)
}

fn overview_with(
    archive: &Archive,
    cache: Option<&SearchCache>,
    req: &SearchRequest,
) -> anyhow::Result<Overview> {
    let searcher = archive.searcher();
    if let Some(answer) = cache.and_then(|c| c.answer(&searcher, req)) {
        return Ok(answer);
    }
    let query = build_query(archive, req)?;
    let counter = Counter::new(archive, &searcher, cache, req)?;
    let (results, (total, maps, days)) = match counter.all_cached() {
        // Every segment counted before: the hits alone.
        Some(counts) => run(
            archive,
            &searcher,
            req,
            query,
            counter,
            Some((counts.0, counts)),
        )?,
        None => run(archive, &searcher, req, query, counter, None)?,
    };
    let answer = Overview {
        results,
        facets: facet_lists(total, maps),
        days,
    };
    if let Some(cache) = cache {
        cache.keep_answer(&searcher, req, &answer);
    }
    Ok(answer)
}

/// Runs `query` (built from `req`) in `req`'s order and limit: the hits and `extra`'s fruit, in one
/// pass, or two when ranking by relevance can skip documents (see the comment inside). `known`: the
/// number of matches and `extra`'s fruit when known already (then ranking by relevance reads the best
/// hits alone).
fn run<C: Collector>(
    archive: &Archive,
    searcher: &tantivy::Searcher,
    req: &SearchRequest,
    query: Box<dyn Query>,
    extra: C,
    known: Option<(u64, C::Fruit)>,
) -> anyhow::Result<(SearchResults, C::Fruit)> {
    // A backstop for callers that did not check (`--limit` and the web's page bounds do): tantivy
    // allocates room for twice the limit per segment up front.
    let limit = req.limit.clamp(1, MAX_LIMIT);
    let offset = req.offset.min(MAX_LIMIT);
    let top_docs = || TopDocs::with_limit(limit).and_offset(offset);
    let (total, top, fruit): (usize, Vec<(f32, tantivy::DocAddress)>, C::Fruit) = match req.sort {
        // Two passes: the best hits alone (block-max WAND skips the matches that cannot make the top),
        // then the count and the extras over every match without scoring (in blocks of documents).
        // One pass with both would score every match.
        // A phrase (quoted, or a word the analyzer cuts in several tokens, as Chinese often is) is
        // checked against positions for every candidate either way (no pruning): one pass.
        Sort::Relevance if known.is_none() && needs_positions(&*query) => searcher
            .search(&*query, &(Count, top_docs().order_by_score(), extra))
            .context("search failed")?,
        Sort::Relevance => {
            let top = searcher
                .search(&*query, &top_docs().order_by_score())
                .context("search failed")?;
            let (total, fruit) = match known {
                Some((total, fruit)) => (total as usize, fruit),
                None => searcher
                    .search(&*query, &(Count, extra))
                    .context("search failed")?,
            };
            (total, top, fruit)
        }
        Sort::Newest | Sort::Oldest | Sort::Changed => {
            let (field, order) = match req.sort {
                Sort::Oldest => ("published", tantivy::Order::Asc),
                Sort::Changed => ("changed_at", tantivy::Order::Desc),
                _ => ("published", tantivy::Order::Desc),
            };
            let by_date = top_docs().order_by_fast_field::<tantivy::DateTime>(field, order);
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
    let last_change = article.revision.as_ref().and_then(|r| r.last_change());
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
        version: article.revision.as_ref().map_or(1, |r| r.current.max(1)),
        versions: article.revision.as_ref().map_or(1, |r| r.versions.max(1)),
        edited: article.revision.as_ref().is_some_and(|r| r.edited()),
        removed: article.revision.as_ref().is_some_and(|r| r.removed()),
        changed_at: last_change
            .map(|(_, at)| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        change: last_change.map(|(kind, _)| kind),
        campaign_dropped: article
            .revision
            .as_ref()
            .map(|r| r.campaigns_dropped(&article.campaigns))
            .unwrap_or_default(),
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
