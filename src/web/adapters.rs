//! What the web workspace computes itself until the search module provides it. One function per feature;
//! when `search::facets`, `search::histogram`, `search::export` and highlight ranges on `Hit` land, the
//! integrator replaces the bodies of [`facets`], [`histogram`], [`export`] and [`snippet_segments`] with
//! calls to them (the types here mirror the announced ones) and nothing else in `src/web` changes.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use chrono::{Datelike, NaiveDate, Utc};
use serde::Serialize;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::{AggContextParams, AggregationCollector};

use crate::index::Archive;
use crate::model::Article;
use crate::search::{self, SearchRequest};

/// One value of a facet and the number of matching articles with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacetCount {
    /// The value (campaign id, feed id, language, ...).
    pub value: String,
    /// Matching articles.
    pub count: u64,
}

/// Counts of every match by field (all matches, not only the page shown).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facets {
    /// By campaign id.
    pub campaign: Vec<FacetCount>,
    /// By feed id.
    pub feed: Vec<FacetCount>,
    /// By language.
    pub lang: Vec<FacetCount>,
    /// By script.
    pub script: Vec<FacetCount>,
    /// By affiliation.
    pub affiliation: Vec<FacetCount>,
    /// By country.
    pub country: Vec<FacetCount>,
}

impl Facets {
    /// The counts of a facet by its parameter name.
    pub fn get(&self, name: &str) -> &[FacetCount] {
        match name {
            "campaign" => &self.campaign,
            "feed" => &self.feed,
            "lang" => &self.lang,
            "script" => &self.script,
            "affiliation" => &self.affiliation,
            "country" => &self.country,
            _ => &[],
        }
    }
}

/// Values listed per facet at most.
const FACET_SIZE: u32 = 50;

/// Facet counts over every match of `req`.
///
/// Adapter until `search::facets` lands: a tantivy terms aggregation over the fast fields, with the
/// query `search::build_query` makes.
pub fn facets(archive: &Archive, req: &SearchRequest) -> anyhow::Result<Facets> {
    let query = search::build_query(archive, req)?;
    let names = [
        "campaign",
        "feed",
        "lang",
        "script",
        "affiliation",
        "country",
    ];
    let mut spec = serde_json::Map::new();
    for name in names {
        spec.insert(
            name.to_string(),
            serde_json::json!({"terms": {"field": name, "size": FACET_SIZE}}),
        );
    }
    let aggs: Aggregations = serde_json::from_value(serde_json::Value::Object(spec))
        .context("facet aggregation request")?;
    let collector = AggregationCollector::from_aggs(aggs, AggContextParams::default());
    let result = archive
        .searcher()
        .search(&*query, &collector)
        .context("facet aggregation failed")?;
    let json = serde_json::to_value(&result)?;
    let read = |name: &str| -> Vec<FacetCount> {
        json[name]["buckets"]
            .as_array()
            .map(|buckets| {
                buckets
                    .iter()
                    .filter_map(|b| {
                        Some(FacetCount {
                            value: b["key"].as_str()?.to_string(),
                            count: b["doc_count"].as_u64()?,
                        })
                    })
                    .filter(|f| f.count > 0)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Facets {
        campaign: read("campaign"),
        feed: read("feed"),
        lang: read("lang"),
        script: read("script"),
        affiliation: read("affiliation"),
        country: read("country"),
    })
}

/// Width of a timeline bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// One UTC day.
    Day,
    /// A week starting on Monday.
    Week,
    /// A calendar month.
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

    /// The first day of the bucket holding `day`.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Interval::Day => day,
            Interval::Week => {
                day - chrono::Duration::days(day.weekday().num_days_from_monday().into())
            }
            Interval::Month => day.with_day(1).unwrap_or(day),
        }
    }

    /// The last day of the bucket starting on `start`.
    pub fn end_of(self, start: NaiveDate) -> NaiveDate {
        match self {
            Interval::Day => start,
            Interval::Week => start + chrono::Duration::days(6),
            Interval::Month => start
                .checked_add_months(chrono::Months::new(1))
                .and_then(|d| d.pred_opt())
                .unwrap_or(start),
        }
    }
}

/// Matches in one timeline bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// First day of the bucket.
    pub start: NaiveDate,
    /// Last day of the bucket.
    pub end: NaiveDate,
    /// Matching articles dated in it.
    pub count: u64,
}

/// Matches of `req` per bucket, every bucket from the first match to the last (empty ones included).
///
/// Adapter until `search::histogram` lands: a tantivy date histogram by day over `published`, rolled up
/// into weeks or months here.
pub fn histogram(
    archive: &Archive,
    req: &SearchRequest,
    interval: Interval,
) -> anyhow::Result<Vec<Bucket>> {
    let days = daily_counts(archive, req)?;
    let mut buckets: BTreeMap<NaiveDate, u64> = BTreeMap::new();
    let (Some(first), Some(last)) = (days.keys().next(), days.keys().next_back()) else {
        return Ok(Vec::new());
    };
    let mut start = interval.start_of(*first);
    while start <= *last {
        buckets.insert(start, 0);
        start = interval.end_of(start) + chrono::Duration::days(1);
    }
    for (day, count) in &days {
        *buckets.entry(interval.start_of(*day)).or_default() += count;
    }
    Ok(buckets
        .into_iter()
        .map(|(start, count)| Bucket {
            start,
            end: interval.end_of(start),
            count,
        })
        .collect())
}

/// Match counts per UTC day (days with matches only).
fn daily_counts(
    archive: &Archive,
    req: &SearchRequest,
) -> anyhow::Result<BTreeMap<NaiveDate, u64>> {
    let query = search::build_query(archive, req)?;
    let aggs: Aggregations = serde_json::from_value(serde_json::json!({
        "days": {"date_histogram": {"field": "published", "fixed_interval": "1d", "min_doc_count": 1}}
    }))
    .context("histogram aggregation request")?;
    let collector = AggregationCollector::from_aggs(aggs, AggContextParams::default());
    let result = archive
        .searcher()
        .search(&*query, &collector)
        .context("histogram aggregation failed")?;
    let json = serde_json::to_value(&result)?;
    let mut out = BTreeMap::new();
    for b in json["days"]["buckets"].as_array().into_iter().flatten() {
        let count = b["doc_count"].as_u64().unwrap_or(0);
        let day = b["key_as_string"]
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc).date_naive());
        if let (Some(day), true) = (day, count > 0) {
            *out.entry(day).or_default() += count;
        }
    }
    Ok(out)
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A header row, then one article per row.
    Csv,
    /// The provenance record on the first line, then one article (the stored JSON) per line.
    Jsonl,
}

/// Where an export came from: enough to reproduce it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    /// "mediawatch".
    pub tool: &'static str,
    /// Crate version.
    pub version: &'static str,
    /// When the export was made (RFC 3339).
    pub generated_at: String,
    /// The query as run (with script/country filters folded in).
    pub query: String,
    /// Filters besides the query.
    pub filters: BTreeMap<String, String>,
    /// Articles in the archive at the loaded commit.
    pub archive_articles: u64,
    /// Matching articles (all exported).
    pub matches: u64,
}

/// Provenance of exporting `req` on the loaded commit.
pub fn provenance(archive: &Archive, req: &SearchRequest, matches: u64) -> Provenance {
    let mut filters = BTreeMap::new();
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            filters.insert(k.to_string(), v.clone());
        }
    };
    put("lang", &req.lang);
    put("campaign", &req.campaign);
    put("feed", &req.feed);
    put("affiliation", &req.affiliation);
    put("since", &req.since.map(|d| d.to_string()));
    put("until", &req.until.map(|d| d.to_string()));
    Provenance {
        tool: "mediawatch",
        version: env!("CARGO_PKG_VERSION"),
        generated_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        query: req.query.clone(),
        filters,
        archive_articles: archive.num_articles(),
        matches,
    }
}

/// Writes every match of `req` (oldest first) in `format`; returns the provenance record.
///
/// Adapter until `search::export` lands: every matching document is collected, read and written one by
/// one (memory holds the addresses, not the articles).
pub fn export(
    archive: &Archive,
    req: &SearchRequest,
    format: ExportFormat,
    out: &mut dyn Write,
) -> anyhow::Result<Provenance> {
    let query = search::build_query(archive, req)?;
    let searcher = archive.searcher();
    let mut docs: Vec<_> = searcher
        .search(&*query, &tantivy::collector::DocSetCollector)
        .context("export search failed")?
        .into_iter()
        .collect();
    docs.sort();
    let prov = provenance(archive, req, docs.len() as u64);
    match format {
        ExportFormat::Jsonl => {
            serde_json::to_writer(&mut *out, &serde_json::json!({ "provenance": &prov }))?;
            writeln!(out)?;
            for address in docs {
                let article = archive.article(&searcher, address)?;
                serde_json::to_writer(&mut *out, &article)?;
                writeln!(out)?;
            }
        }
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(CSV_COLUMNS)?;
            for address in docs {
                let article = archive.article(&searcher, address)?;
                w.write_record(csv_row(&article).iter().map(|c| csv_safe(c)))?;
            }
            w.flush()?;
        }
    }
    Ok(prov)
}

const CSV_COLUMNS: [&str; 15] = [
    "id",
    "url",
    "final_url",
    "title",
    "feed",
    "source_name",
    "affiliation",
    "country",
    "lang",
    "script",
    "published",
    "fetched_at",
    "http_status",
    "campaigns",
    "cluster",
];

fn csv_row(a: &Article) -> [String; 15] {
    let time = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    [
        a.id.clone(),
        a.url.clone(),
        a.final_url.clone(),
        a.title.clone(),
        a.feed.clone(),
        a.source_name.clone(),
        a.affiliation.as_str().to_string(),
        a.country.clone().unwrap_or_default(),
        a.lang.lang.clone(),
        a.lang.script.clone().unwrap_or_default(),
        a.published.map(time).unwrap_or_default(),
        time(a.fetched_at),
        a.http_status.to_string(),
        a.campaigns
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>()
            .join(";"),
        a.cluster.clone().unwrap_or_default(),
    ]
}

/// A cell a spreadsheet will not run as a formula: archived titles are hostile, and `=HYPERLINK(...)`
/// in a CSV cell is code in Excel and LibreOffice. Such cells get a leading apostrophe.
pub fn csv_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// A piece of text, highlighted or not.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// The text (escaped when rendered, like everything archived).
    pub text: String,
    /// Whether it is a match.
    pub mark: bool,
}

/// Splits `text` at the byte ranges `marks` (any order, overlaps merged, ranges off char boundaries or
/// out of bounds dropped).
pub fn segments(text: &str, mut marks: Vec<std::ops::Range<usize>>) -> Vec<Segment> {
    marks.retain(|r| {
        r.start < r.end
            && r.end <= text.len()
            && text.is_char_boundary(r.start)
            && text.is_char_boundary(r.end)
    });
    marks.sort_by_key(|r| (r.start, r.end));
    let mut out = Vec::new();
    let mut at = 0;
    for r in marks {
        let start = r.start.max(at);
        if start >= r.end {
            continue;
        }
        if start > at {
            out.push(Segment {
                text: text[at..start].to_string(),
                mark: false,
            });
        }
        out.push(Segment {
            text: text[start..r.end].to_string(),
            mark: true,
        });
        at = r.end;
    }
    if at < text.len() {
        out.push(Segment {
            text: text[at..].to_string(),
            mark: false,
        });
    }
    out
}

/// Ranges of every occurrence of `terms` in `text` (ASCII case-insensitive, leftmost-longest).
pub fn term_ranges(text: &str, terms: &[&str]) -> Vec<std::ops::Range<usize>> {
    let terms: Vec<&str> = terms
        .iter()
        .copied()
        .filter(|t| !t.trim().is_empty())
        .collect();
    if terms.is_empty() {
        return Vec::new();
    }
    match aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(&terms)
    {
        Ok(ac) => ac.find_iter(text).map(|m| m.range()).collect(),
        Err(_) => Vec::new(),
    }
}

/// The snippet of a hit split into highlighted parts.
///
/// Adapter until `Hit` carries highlight ranges: the plain words of the query (field clauses, operators
/// and syntax dropped) are found in the snippet.
pub fn snippet_segments(snippet: &str, query: &str) -> Vec<Segment> {
    let words: Vec<&str> = query
        .split(|c: char| c.is_whitespace() || "\"()[]{}^~*+-!".contains(c))
        .filter(|w| !w.is_empty() && !w.contains(':'))
        .filter(|w| !matches!(*w, "AND" | "OR" | "NOT" | "TO" | "IN"))
        .collect();
    segments(snippet, term_ranges(snippet, &words))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_merge_overlaps_and_drop_bad_ranges() {
        let s = segments(
            "Taiwan reunification talks",
            vec![7..20, 0..6, 3..9, 20..99, 1..1],
        );
        let parts: Vec<(&str, bool)> = s.iter().map(|s| (s.text.as_str(), s.mark)).collect();
        assert_eq!(
            parts,
            [
                ("Taiwan", true),
                (" re", true),
                ("unification", true),
                (" talks", false)
            ]
        );
        let joined: String = s.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(joined, "Taiwan reunification talks");
        // "é" is two bytes: a range ending inside it is dropped, not a panic.
        let s = segments("café", vec![0..4, 9..12]);
        assert_eq!(
            s,
            [Segment {
                text: "café".into(),
                mark: false
            }]
        );
    }

    #[test]
    fn snippet_words_ignore_fields_and_operators() {
        let s = snippet_segments(
            "Reunification is near, said the TAIWAN office",
            "taiwan AND reunification NOT feed:x",
        );
        let marked: Vec<&str> = s
            .iter()
            .filter(|s| s.mark)
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(marked, ["Reunification", "TAIWAN"]);
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(
            csv_safe("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(csv_safe("@SUM(1)"), "'@SUM(1)");
        assert_eq!(csv_safe("plain"), "plain");
    }

    #[test]
    fn intervals_cover_their_span() {
        let d = |s: &str| search::parse_day(s).unwrap();
        assert_eq!(Interval::Week.start_of(d("2026-11-29")), d("2026-11-23"));
        assert_eq!(Interval::Month.end_of(d("2026-02-01")), d("2026-02-28"));
        assert_eq!(
            Interval::for_span(d("2026-01-01"), d("2026-03-01")),
            Interval::Day
        );
        assert_eq!(
            Interval::for_span(d("2024-01-01"), d("2026-03-01")),
            Interval::Week
        );
        assert_eq!(
            Interval::for_span(d("2020-01-01"), d("2026-03-01")),
            Interval::Month
        );
    }
}
