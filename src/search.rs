//! Search over the archive: a query in tantivy syntax plus filters, to ranked [`Hit`]s, and the output
//! formats of the `search` command (table, json, jsonl, csv).
//!
//! Query syntax is tantivy's (terms, "phrases", AND/OR/NOT, `field:value`), with AND as the default
//! operator between terms. Searchable fields: `title`, `text` (the defaults), and the filter fields
//! `feed`, `lang`, `script`, `affiliation`, `country`, `campaign`.

use std::io::Write;

use anyhow::Context;
use chrono::{NaiveDate, TimeZone, Utc};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::snippet::SnippetGenerator;
use tantivy::Term;

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

/// A query the user got wrong: shown as is, exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("bad query {query:?}: {message}")]
pub struct QueryError {
    /// The query text.
    pub query: String,
    /// What is wrong.
    pub message: String,
}

/// Parses the request into one tantivy query (user query AND filters).
pub fn build_query(archive: &Archive, req: &SearchRequest) -> Result<Box<dyn Query>, QueryError> {
    let f = archive.fields;
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !req.query.trim().is_empty() {
        let mut parser = QueryParser::for_index(archive.index(), vec![f.title, f.text]);
        parser.set_conjunction_by_default();
        parser.set_field_boost(f.title, 2.0);
        let q = parser
            .parse_query(&with_aliases(&req.query))
            .map_err(|e| QueryError {
                query: req.query.clone(),
                message: e.to_string(),
            })?;
        clauses.push((Occur::Must, q));
    }
    let term = |field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    };
    if let Some(v) = &req.lang {
        clauses.push((Occur::Must, term(f.lang, &v.to_ascii_lowercase())));
    }
    if let Some(v) = &req.campaign {
        clauses.push((Occur::Must, term(f.campaign, v)));
    }
    if let Some(v) = &req.feed {
        clauses.push((Occur::Must, term(f.feed, v)));
    }
    if let Some(v) = &req.affiliation {
        clauses.push((Occur::Must, term(f.affiliation, v)));
    }
    if req.since.is_some() || req.until.is_some() {
        let day = |d: NaiveDate| {
            let dt = Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
            tantivy::DateTime::from_timestamp_secs(dt.timestamp())
        };
        let from = req.since.map(day);
        let to = req.until.and_then(|d| d.succ_opt()).map(day);
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

/// Field names researchers use that the index spells otherwise: `source:` is `feed:`.
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
    let query = build_query(archive, req)?;
    let searcher = archive.searcher();
    let limit = req.limit.max(1);
    let (total, top): (usize, Vec<(f32, tantivy::DocAddress)>) = match req.sort {
        Sort::Relevance => searcher
            .search(
                &*query,
                &(Count, TopDocs::with_limit(limit).order_by_score()),
            )
            .context("search failed")?,
        Sort::Newest | Sort::Oldest => {
            let order = if req.sort == Sort::Newest {
                tantivy::Order::Desc
            } else {
                tantivy::Order::Asc
            };
            let by_date = TopDocs::with_limit(limit)
                .order_by_fast_field::<tantivy::DateTime>("published", order);
            let (total, top) = searcher
                .search(&*query, &(Count, by_date))
                .context("search failed")?;
            (
                total,
                top.into_iter().map(|(_, address)| (0.0, address)).collect(),
            )
        }
    };
    let snippets = if req.query.trim().is_empty() {
        None
    } else {
        SnippetGenerator::create(&searcher, &*query, archive.fields.text)
            .ok()
            .map(|mut g| {
                g.set_max_num_chars(240);
                g
            })
    };
    let mut hits = Vec::with_capacity(top.len());
    for (score, address) in top {
        let article = archive.article(&searcher, address)?;
        let snippet = snippets
            .as_ref()
            .map(|g| g.snippet(&article.text))
            .map(|s| (s.fragment().to_string(), s.highlighted().to_vec()))
            .filter(|(fragment, _)| !fragment.trim().is_empty());
        hits.push(to_hit(article, score, snippet));
    }
    Ok(SearchResults {
        query: req.query.clone(),
        total,
        hits,
    })
}

/// The hit shown for an article. `snippet` is a fragment and its highlighted byte ranges.
fn to_hit(
    article: Article,
    score: f32,
    snippet: Option<(String, Vec<std::ops::Range<usize>>)>,
) -> Hit {
    let snippet = match snippet {
        Some((fragment, _)) => one_line(&fragment),
        None => one_line(&truncate_chars(&article.text, 240)),
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
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
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
            w.write_record([
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
            ])?;
            for h in &results.hits {
                w.write_record([
                    h.id.as_str(),
                    &h.url,
                    &h.title,
                    &h.feed,
                    &h.source_name,
                    &h.affiliation,
                    h.country.as_deref().unwrap_or(""),
                    &h.lang,
                    h.script.as_deref().unwrap_or(""),
                    h.published.as_deref().unwrap_or(""),
                    &h.campaigns.join(";"),
                    &format!("{:.3}", h.score),
                    &h.snippet,
                ])?;
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
                    writeln!(out, "  {}", truncate_chars(&h.snippet, 200))?;
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
