//! Several queries over the same periods (`mediawatch compare`, the web's `/compare`): one series per
//! query, or per query and value of a field (`--by affiliation|feed|country|lang`), each a count per
//! period, and with `normalize` the period's total (archived articles under the same source filters and
//! the same by-value, [`SearchRequest::source_filters`]) and the share `count / total`.
//!
//! Counting is one pass per query (and one for the totals) with a collector keyed by (day, by-value)
//! over fast fields ([`super::histogram`]), so a series' counts are those of `search --histogram` with
//! the same filters (and `--<by> VALUE`). The rest is pure: [`assemble`] turns the day counts into
//! [`Series`] of [`Row`]s on one axis of periods, and [`write_compare`] prints them (table, csv, json).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Context;
use chrono::NaiveDate;
use serde::Serialize;

use super::histogram::{rebucket, share, KeyedDays, KeyedHistogramCollector};
use super::print::csv_safe;
use super::{build_query, Interval, SearchRequest};
use crate::index::Archive;

/// Queries one comparison takes at most.
pub const MAX_QUERIES: usize = 10;

/// Rows (series × periods) one comparison returns at most: beyond, narrow the dates, widen the
/// interval or pick a `by` with fewer values.
pub const MAX_COMPARE_ROWS: usize = 200_000;

/// The field a comparison splits each query by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// The outlet's affiliation (state, independent, unknown).
    Affiliation,
    /// The feed id.
    Feed,
    /// The outlet's country.
    Country,
    /// The article's language.
    Lang,
}

impl By {
    /// Every value, in the order help texts list them.
    pub const ALL: [By; 4] = [By::Affiliation, By::Feed, By::Country, By::Lang];

    /// The index field (a single-valued string fast field).
    pub fn field(self) -> &'static str {
        match self {
            By::Affiliation => "affiliation",
            By::Feed => "feed",
            By::Country => "country",
            By::Lang => "lang",
        }
    }

    /// `affiliation`, `feed`, `country` or `lang`.
    pub fn parse(s: &str) -> Option<By> {
        By::ALL.into_iter().find(|b| b.field() == s)
    }
}

/// What to compare.
#[derive(Debug, Clone)]
pub struct CompareRequest {
    /// The queries (tantivy syntax; empty matches every article), one series each (or one per by-value).
    pub queries: Vec<String>,
    /// The filters every query is ANDed with, as `search` takes them (its `query`, `limit`, `sort` are
    /// not read).
    pub filters: SearchRequest,
    /// Split each query by this field's values.
    pub by: Option<By>,
    /// Width of a period.
    pub interval: Interval,
    /// Also count each period's total and share.
    pub normalize: bool,
}

/// A comparison the user asked wrongly (exit status 2, a 400 on the web).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompareError {
    /// No query.
    #[error("compare needs at least one query (--query Q, repeatable)")]
    NoQuery,
    /// More than [`MAX_QUERIES`].
    #[error(
        "compare takes at most {MAX_QUERIES} queries ({0} given): split them over several runs"
    )]
    TooManyQueries(usize),
    /// The same query twice.
    #[error("query {0:?} is given twice")]
    Duplicate(String),
    /// `since` after `until`.
    #[error("--since {0} is after --until {1}")]
    Reversed(NaiveDate, NaiveDate),
    /// Over [`MAX_COMPARE_ROWS`].
    #[error(
        "{series} series over {periods}+ periods are more than {MAX_COMPARE_ROWS} rows: narrow the \
         dates (--since, --until), widen the interval or split by a field with fewer values"
    )]
    TooManyRows {
        /// Series.
        series: usize,
        /// Periods counted before stopping.
        periods: usize,
    },
}

impl CompareRequest {
    /// Checks the queries' number and uniqueness and the dates' order (not the query syntax: that is
    /// the search's, when it runs).
    pub fn check(&self) -> Result<(), CompareError> {
        if self.queries.is_empty() {
            return Err(CompareError::NoQuery);
        }
        if self.queries.len() > MAX_QUERIES {
            return Err(CompareError::TooManyQueries(self.queries.len()));
        }
        let mut seen = BTreeSet::new();
        for q in &self.queries {
            if !seen.insert(q.trim()) {
                return Err(CompareError::Duplicate(q.clone()));
            }
        }
        if let (Some(a), Some(b)) = (self.filters.since, self.filters.until) {
            if a > b {
                return Err(CompareError::Reversed(a, b));
            }
        }
        Ok(())
    }

    /// The search request of one query (its matches are a series' counts).
    pub fn search_request(&self, query: &str) -> SearchRequest {
        SearchRequest {
            query: query.to_string(),
            ..self.filters.clone()
        }
    }
}

/// One period of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// First day of the period (UTC).
    pub start: NaiveDate,
    /// Matching articles dated in it.
    pub count: u64,
    /// With `normalize`: archived articles under the source filters (and the series' by-value) dated in
    /// it; else `None`.
    pub total: Option<u64>,
    /// With `normalize`: `count / total`, `None` when `total` is 0; else `None`.
    pub share: Option<f64>,
}

/// One line of the comparison: a query, or a query and a by-value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// `query`, or `query | by-value` (`(all)` for the empty query, `(none)` for articles without a
    /// value).
    pub label: String,
    /// The query as given.
    pub query: String,
    /// The value of the `by` field (`None`: no `by`, or articles without a value).
    pub by_value: Option<String>,
    /// One row per period, every series on the same periods.
    pub rows: Vec<Row>,
}

/// The answer of [`compare`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Width of a period.
    pub interval: Interval,
    /// The split field.
    pub by: Option<By>,
    /// Whether totals and shares were counted.
    pub normalize: bool,
    /// Query by query (in the order given), by-values in order, articles without a value last.
    pub series: Vec<Series>,
}

/// Counts every query of `req` (one pass each, plus one for the totals with `normalize`) on one
/// searcher, then [`assemble`]s the series.
pub fn compare(archive: &Archive, req: &CompareRequest) -> anyhow::Result<Comparison> {
    req.check()?;
    let searcher = archive.searcher();
    let field = req.by.map(By::field);
    let count = |r: &SearchRequest| -> anyhow::Result<KeyedDays> {
        let query = build_query(archive, r)?;
        let collector = KeyedHistogramCollector::new(archive, &searcher, field)?;
        searcher
            .search(&*query, &collector)
            .context("compare counting failed")
    };
    let mut counts = Vec::with_capacity(req.queries.len());
    for q in &req.queries {
        counts.push(count(&req.search_request(q))?);
    }
    let totals = if req.normalize {
        Some(count(&req.filters.source_filters())?)
    } else {
        None
    };
    Ok(assemble(req, &counts, totals.as_ref())?)
}

/// The series of `req` from each query's day counts by value (`counts`, in query order) and, with
/// `normalize`, the totals' (pure). The periods run from `since` (else the first match of any query) to
/// `until` (else the last), every series on all of them, empty periods as zeros.
pub fn assemble(
    req: &CompareRequest,
    counts: &[KeyedDays],
    totals: Option<&KeyedDays>,
) -> Result<Comparison, CompareError> {
    let interval = req.interval;
    let bucketed: Vec<BTreeMap<Option<&str>, BTreeMap<NaiveDate, u64>>> = counts
        .iter()
        .map(|by_value| {
            by_value
                .iter()
                .map(|(k, days)| (k.as_deref(), rebucket(days, interval)))
                .collect()
        })
        .collect();
    // The series' keys: without `by`, one per query; with it, every value any query matched (so each
    // query has the same series), values in order, none last.
    let keys: Vec<Option<&str>> = if req.by.is_none() {
        vec![None]
    } else {
        let values: BTreeSet<Option<&str>> =
            bucketed.iter().flat_map(|m| m.keys().copied()).collect();
        let mut keys: Vec<Option<&str>> = values.iter().copied().filter(Option::is_some).collect();
        if values.contains(&None) {
            keys.push(None);
        }
        keys
    };
    let series_count = keys.len() * req.queries.len();
    let starts = bucketed
        .iter()
        .flat_map(|m| m.values())
        .flat_map(|b| b.keys().copied());
    let (lo, hi) = starts.fold(
        (None, None),
        |(lo, hi): (Option<NaiveDate>, Option<NaiveDate>), d| {
            (
                Some(lo.map_or(d, |l| l.min(d))),
                Some(hi.map_or(d, |h| h.max(d))),
            )
        },
    );
    let first = req.filters.since.map(|d| interval.bucket_start(d)).or(lo);
    let last = req.filters.until.map(|d| interval.bucket_start(d)).or(hi);
    let mut periods = Vec::new();
    if let (Some(first), Some(last)) = (first.or(last), last.or(first)) {
        let mut at = Some(first);
        while let Some(start) = at.filter(|d| *d <= last) {
            periods.push(start);
            if series_count.saturating_mul(periods.len()) > MAX_COMPARE_ROWS {
                return Err(CompareError::TooManyRows {
                    series: series_count,
                    periods: periods.len(),
                });
            }
            at = interval.next(start);
        }
    }
    let totals: Option<BTreeMap<Option<&str>, BTreeMap<NaiveDate, u64>>> = totals.map(|t| {
        t.iter()
            .map(|(k, days)| (k.as_deref(), rebucket(days, interval)))
            .collect()
    });
    let empty = BTreeMap::new();
    let mut series = Vec::with_capacity(series_count);
    for (query, by_value) in req.queries.iter().zip(&bucketed) {
        for &key in &keys {
            let matched = by_value.get(&key).unwrap_or(&empty);
            let total_of = totals.as_ref().map(|t| t.get(&key).unwrap_or(&empty));
            let rows = periods
                .iter()
                .map(|&start| {
                    let count = matched.get(&start).copied().unwrap_or(0);
                    let total = total_of.map(|t| t.get(&start).copied().unwrap_or(0));
                    Row {
                        start,
                        count,
                        total,
                        share: total.and_then(|t| share(count, t)),
                    }
                })
                .collect();
            series.push(Series {
                label: label(query, req.by.map(|_| key)),
                query: query.clone(),
                by_value: key.map(str::to_string),
                rows,
            });
        }
    }
    Ok(Comparison {
        interval,
        by: req.by,
        normalize: req.normalize,
        series,
    })
}

/// `query`, or `query | value`.
fn label(query: &str, by_value: Option<Option<&str>>) -> String {
    let q = if query.trim().is_empty() {
        "(all)"
    } else {
        query.trim()
    };
    match by_value {
        None => q.to_string(),
        Some(v) => format!("{q} | {}", v.unwrap_or("(none)")),
    }
}

/// Output formats of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareFormat {
    /// Aligned text, one block per series.
    Table,
    /// A header row ([`COMPARE_CSV_HEADER`]), then one row per series and period.
    Csv,
    /// The [`Comparison`] as one JSON object.
    Json,
}

/// The columns of `compare --format csv` (and `/compare.csv`). `total` and `share` are empty without
/// `normalize`, and `share` also when `total` is 0.
pub const COMPARE_CSV_HEADER: [&str; 7] = [
    "series", "query", "by_value", "start", "count", "total", "share",
];

/// Writes a comparison in `format`.
pub fn write_compare(
    out: &mut dyn Write,
    c: &Comparison,
    format: CompareFormat,
) -> anyhow::Result<()> {
    match format {
        CompareFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, c)?;
            writeln!(out)?;
        }
        CompareFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(COMPARE_CSV_HEADER)?;
            for s in &c.series {
                for r in &s.rows {
                    w.write_record([
                        csv_safe(&s.label),
                        csv_safe(&s.query),
                        csv_safe(s.by_value.as_deref().unwrap_or("")),
                        r.start.to_string(),
                        r.count.to_string(),
                        r.total.map(|t| t.to_string()).unwrap_or_default(),
                        r.share.map(|s| s.to_string()).unwrap_or_default(),
                    ])?;
                }
            }
            w.flush()?;
        }
        CompareFormat::Table => {
            let by =
                c.by.map(|b| format!(", by {}", b.field()))
                    .unwrap_or_default();
            let normalized = if c.normalize {
                ", with totals and shares"
            } else {
                ""
            };
            writeln!(
                out,
                "{} series by {}{by}{normalized}",
                c.series.len(),
                c.interval.as_str()
            )?;
            for s in &c.series {
                writeln!(out, "\n{}", s.label)?;
                for r in &s.rows {
                    let period = match c.interval {
                        Interval::Month => r.start.format("%Y-%m").to_string(),
                        _ => r.start.to_string(),
                    };
                    match (r.total, r.share) {
                        (Some(total), Some(share)) => writeln!(
                            out,
                            "  {period:<10} {:>8} of {total:>8}  {:>7.3}%",
                            r.count,
                            share * 100.0
                        )?,
                        (Some(total), None) => {
                            writeln!(out, "  {period:<10} {:>8} of {total:>8}        -", r.count)?
                        }
                        _ => writeln!(out, "  {period:<10} {:>8}", r.count)?,
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        super::super::parse_day(s).unwrap()
    }

    fn days(pairs: &[(&str, u64)]) -> BTreeMap<NaiveDate, u64> {
        pairs.iter().map(|&(s, c)| (d(s), c)).collect()
    }

    fn request(queries: &[&str], by: Option<By>, normalize: bool) -> CompareRequest {
        CompareRequest {
            queries: queries.iter().map(|q| q.to_string()).collect(),
            filters: SearchRequest::default(),
            by,
            interval: Interval::Week,
            normalize,
        }
    }

    #[test]
    fn series_share_one_axis_of_periods_with_zeros_and_shares() {
        let mut a = KeyedDays::new();
        a.insert(
            Some("state".into()),
            days(&[("2026-11-02", 2), ("2026-11-20", 1)]),
        );
        let mut b = KeyedDays::new();
        b.insert(Some("independent".into()), days(&[("2026-11-10", 3)]));
        b.insert(None, days(&[("2026-11-11", 1)]));
        let mut totals = KeyedDays::new();
        totals.insert(
            Some("state".into()),
            days(&[("2026-11-03", 8), ("2026-11-18", 4)]),
        );
        totals.insert(Some("independent".into()), days(&[("2026-11-12", 6)]));
        let req = request(&["taiwan", ""], Some(By::Affiliation), true);
        let c = assemble(&req, &[a, b], Some(&totals)).unwrap();
        let labels: Vec<&str> = c.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "taiwan | independent",
                "taiwan | state",
                "taiwan | (none)",
                "(all) | independent",
                "(all) | state",
                "(all) | (none)",
            ]
        );
        // Weeks from Monday 2026-11-02 to the week of 2026-11-20 (Monday 11-16): three periods each.
        for s in &c.series {
            let starts: Vec<String> = s.rows.iter().map(|r| r.start.to_string()).collect();
            assert_eq!(
                starts,
                ["2026-11-02", "2026-11-09", "2026-11-16"],
                "{}",
                s.label
            );
        }
        let state = &c.series[1];
        let got: Vec<(u64, Option<u64>, Option<f64>)> = state
            .rows
            .iter()
            .map(|r| (r.count, r.total, r.share))
            .collect();
        assert_eq!(
            got,
            [
                (2, Some(8), Some(0.25)),
                (0, Some(0), None),
                (1, Some(4), Some(0.25))
            ]
        );
        // Articles without a value have no total of their own in this one: 0, no share, never NaN.
        assert_eq!(c.series[5].rows[1].count, 1);
        assert_eq!(c.series[5].rows[1].share, None);
    }

    #[test]
    fn without_normalize_there_are_no_totals_and_the_dates_bound_the_axis() {
        let mut a = KeyedDays::new();
        a.insert(None, days(&[("2026-03-10", 4)]));
        let mut req = request(&["x"], None, false);
        req.interval = Interval::Month;
        req.filters.since = Some(d("2026-01-15"));
        req.filters.until = Some(d("2026-04-02"));
        let c = assemble(&req, &[a], None).unwrap();
        let rows: Vec<(String, u64, Option<u64>)> = c.series[0]
            .rows
            .iter()
            .map(|r| (r.start.to_string(), r.count, r.total))
            .collect();
        assert_eq!(
            rows,
            [
                ("2026-01-01".to_string(), 0, None),
                ("2026-02-01".to_string(), 0, None),
                ("2026-03-01".to_string(), 4, None),
                ("2026-04-01".to_string(), 0, None),
            ]
        );
        // A query without matches still has its series (of zeros).
        let c = assemble(
            &request(&["x", "y"], None, false),
            &[KeyedDays::new(), KeyedDays::new()],
            None,
        )
        .unwrap();
        assert_eq!(c.series.len(), 2);
        assert!(c.series.iter().all(|s| s.rows.is_empty()));
    }

    #[test]
    fn bad_requests_are_clear_errors() {
        assert_eq!(
            request(&[], None, false).check(),
            Err(CompareError::NoQuery)
        );
        let many: Vec<String> = (0..=MAX_QUERIES).map(|i| format!("q{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let err = request(&refs, None, false).check().unwrap_err();
        assert_eq!(err, CompareError::TooManyQueries(MAX_QUERIES + 1));
        assert!(
            err.to_string().contains("at most 10 queries (11 given)"),
            "{err}"
        );
        assert!(matches!(
            request(&["a", " a "], None, false).check(),
            Err(CompareError::Duplicate(_))
        ));
        let mut r = request(&["a"], None, false);
        r.filters.since = Some(d("2026-02-01"));
        r.filters.until = Some(d("2026-01-01"));
        assert!(matches!(r.check(), Err(CompareError::Reversed(..))));
        // Centuries of days: refused before the rows are built.
        let mut r = request(&["a", "b"], None, false);
        r.interval = Interval::Day;
        r.filters.since = Some(d("1500-01-01"));
        r.filters.until = Some(d("2026-01-01"));
        assert!(matches!(
            assemble(&r, &[KeyedDays::new(), KeyedDays::new()], None),
            Err(CompareError::TooManyRows { series: 2, .. })
        ));
        assert_eq!(By::parse("lang"), Some(By::Lang));
        assert_eq!(By::parse("colour"), None);
    }

    #[test]
    fn csv_and_json_shapes() {
        let mut a = KeyedDays::new();
        a.insert(None, days(&[("2026-11-02", 1)]));
        let mut t = KeyedDays::new();
        t.insert(None, days(&[("2026-11-02", 4)]));
        let c = assemble(&request(&["=cmd"], None, true), &[a], Some(&t)).unwrap();
        let mut out = Vec::new();
        write_compare(&mut out, &c, CompareFormat::Csv).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "series,query,by_value,start,count,total,share\n'=cmd,'=cmd,,2026-11-02,1,4,0.25\n"
        );
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["interval"], "week");
        assert_eq!(v["series"][0]["rows"][0]["share"], 0.25);
    }
}
