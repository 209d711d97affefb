//! The search module's results in the shapes the pages need: facets (capped per facet) and timelines
//! (with each bucket's last day) from `search::overview` (or `search::facets` / `search::histogram`),
//! snippet segments from the highlight ranges of the hits, and the web's exports (provenance record
//! first, spreadsheet-safe CSV cells).

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use serde::Serialize;

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
const FACET_SIZE: usize = 50;

/// Facet counts over every match of `req`: `search::facets` (fast-field counts), at most
/// `FACET_SIZE` values per facet.
pub fn facets(archive: &Archive, req: &SearchRequest) -> anyhow::Result<Facets> {
    Ok(facets_view(search::facets(archive, req)?))
}

/// The search module's facet counts, at most `FACET_SIZE` values per facet.
pub fn facets_view(f: search::Facets) -> Facets {
    let take = |list: Vec<search::FacetCount>| -> Vec<FacetCount> {
        list.into_iter()
            .filter(|c| c.count > 0)
            .take(FACET_SIZE)
            .map(|c| FacetCount {
                value: c.value,
                count: c.count,
            })
            .collect()
    };
    Facets {
        campaign: take(f.campaign),
        feed: take(f.feed),
        lang: take(f.lang),
        script: take(f.script),
        affiliation: take(f.affiliation),
        country: take(f.country),
    }
}

pub use crate::search::Interval;

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

/// Matches of `req` per bucket, every bucket from the first match to the last (empty ones included):
/// `search::histogram` (fast-field counts), with each bucket's last day added for the timeline.
pub fn histogram(
    archive: &Archive,
    req: &SearchRequest,
    interval: Interval,
) -> anyhow::Result<Vec<Bucket>> {
    Ok(timeline_view(
        search::histogram(archive, req, interval)?,
        interval,
    ))
}

/// The search module's buckets with each bucket's last day added.
pub fn timeline_view(buckets: Vec<search::Bucket>, interval: Interval) -> Vec<Bucket> {
    buckets
        .into_iter()
        .map(|b| Bucket {
            start: b.start,
            end: interval.bucket_end(b.start),
            count: b.count,
        })
        .collect()
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

pub use crate::search::csv_safe;

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
/// The snippet of a hit split at the highlight ranges `search::search` found (stemmed matches included).
pub fn snippet_segments(snippet: &str, highlights: &[[usize; 2]]) -> Vec<Segment> {
    segments(snippet, highlights.iter().map(|&[a, b]| a..b).collect())
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
    fn snippet_segments_follow_the_highlight_ranges() {
        // Ranges as search::search gives them, in any order; one overlapping, one past the end.
        let s = snippet_segments(
            "Reunification is near, said the TAIWAN office",
            &[[32, 38], [0, 13], [2, 5], [40, 99]],
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
        assert_eq!(
            Interval::Week.bucket_start(d("2026-11-29")),
            d("2026-11-23")
        );
        assert_eq!(Interval::Month.bucket_end(d("2026-02-01")), d("2026-02-28"));
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
