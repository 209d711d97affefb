//! The match count over time: every match counted per UTC day of the `published` fast field, then
//! summed into buckets of an [`Interval`] (no document loaded).

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentReader};

use super::{build_query, SearchRequest};
use crate::index::Archive;

/// Width of a histogram bucket. Weeks start on Monday (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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

    /// `day`, `week` or `month` (the `--histogram` and `interval=` values).
    pub fn parse(s: &str) -> Option<Interval> {
        match s {
            "day" => Some(Interval::Day),
            "week" => Some(Interval::Week),
            "month" => Some(Interval::Month),
            _ => None,
        }
    }

    /// `day`, `week` or `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// The first day of the bucket after the one starting on `start`.
    pub(super) fn next(self, start: NaiveDate) -> Option<NaiveDate> {
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

/// One bucket of an attention-share histogram (`search --histogram --normalize`): the matches, the
/// archived articles under the same source filters ([`SearchRequest::source_filters`]), and their ratio.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ShareBucket {
    /// First day of the bucket (UTC).
    pub start: NaiveDate,
    /// Matching articles dated in it.
    pub count: u64,
    /// Archived articles under the request's source filters dated in it (the query and campaign left
    /// out).
    pub total: u64,
    /// `count / total`; `None` (JSON `null`) when `total` is 0.
    pub share: Option<f64>,
}

/// `count / total`, or `None` when `total` is 0 (never NaN).
pub fn share(count: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| count as f64 / total as f64)
}

/// The buckets of `counts` with each one's total from `totals` (matched by start; a bucket missing from
/// `totals` has total 0) and the share.
pub fn with_totals(counts: &[Bucket], totals: &[Bucket]) -> Vec<ShareBucket> {
    let totals: HashMap<NaiveDate, u64> = totals.iter().map(|b| (b.start, b.count)).collect();
    counts
        .iter()
        .map(|b| {
            let total = totals.get(&b.start).copied().unwrap_or(0);
            ShareBucket {
                start: b.start,
                count: b.count,
                total,
                share: share(b.count, total),
            }
        })
        .collect()
}

/// Counts matches per UTC day of the `published` fast field.
pub(super) struct HistogramCollector;

pub(super) struct HistogramSegment {
    dates: tantivy::columnar::Column<tantivy::DateTime>,
    days: DayCounts,
}

/// Counts by day number (days since 1970-01-01): a dense vector over the days seen, or a map when
/// hostile dates would spread it over centuries.
#[derive(Default)]
pub(super) struct DayCounts {
    first: i64,
    dense: Vec<u64>,
    sparse: HashMap<i64, u64>,
}

/// Widest dense span, in days.
const MAX_DENSE_DAYS: i64 = 100_000;

impl DayCounts {
    #[inline]
    pub(super) fn add(&mut self, day: i64) {
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

    pub(super) fn into_dates(self) -> BTreeMap<NaiveDate, u64> {
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

/// Counts matches per UTC day and per value of one single-valued string fast field (`compare --by`):
/// [`HistogramCollector`]'s counting, one [`DayCounts`] per term ordinal of the segment's column (and one
/// for articles without a value). Without a field, every match counts under `None`.
pub(super) struct KeyedHistogramCollector {
    /// The field's column in each segment (by segment ordinal); empty without a field.
    columns: Vec<Option<tantivy::columnar::StrColumn>>,
}

impl KeyedHistogramCollector {
    /// Keyed by `field` (a string fast field), or by nothing.
    pub(super) fn new(
        archive: &Archive,
        searcher: &tantivy::Searcher,
        field: Option<&'static str>,
    ) -> tantivy::Result<KeyedHistogramCollector> {
        let columns = match field {
            Some(name) => archive
                .str_columns(searcher, &[name])?
                .into_iter()
                .next()
                .unwrap_or_default(),
            None => Vec::new(),
        };
        Ok(KeyedHistogramCollector { columns })
    }
}

/// Day counts by value (`None`: no value, or no field).
pub type KeyedDays = HashMap<Option<String>, BTreeMap<NaiveDate, u64>>;

pub(super) struct KeyedHistogramSegment {
    dates: tantivy::columnar::Column<tantivy::DateTime>,
    column: Option<tantivy::columnar::StrColumn>,
    by_ord: Vec<DayCounts>,
    none: DayCounts,
}

impl Collector for KeyedHistogramCollector {
    type Fruit = KeyedDays;
    type Child = KeyedHistogramSegment;

    fn for_segment(
        &self,
        ord: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<KeyedHistogramSegment> {
        let column = self.columns.get(ord as usize).cloned().flatten();
        let terms = column.as_ref().map_or(0, |c| c.num_terms());
        Ok(KeyedHistogramSegment {
            dates: reader.fast_fields().date("published")?,
            column,
            by_ord: (0..terms).map(|_| DayCounts::default()).collect(),
            none: DayCounts::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<KeyedDays>) -> tantivy::Result<KeyedDays> {
        let mut merged = KeyedDays::new();
        for fruit in fruits {
            for (key, days) in fruit {
                let into = merged.entry(key).or_default();
                for (d, c) in days {
                    *into.entry(d).or_insert(0) += c;
                }
            }
        }
        Ok(merged)
    }
}

impl KeyedHistogramSegment {
    #[inline]
    fn add(&mut self, when: tantivy::DateTime, ord: Option<u64>) {
        let day = when.into_timestamp_secs().div_euclid(86_400);
        match ord.and_then(|o| self.by_ord.get_mut(o as usize)) {
            Some(days) => days.add(day),
            None => self.none.add(day),
        }
    }
}

impl SegmentCollector for KeyedHistogramSegment {
    type Fruit = KeyedDays;

    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some(when) = self.dates.first(doc) {
            let ord = self.column.as_ref().and_then(|c| c.ords().first(doc));
            self.add(when, ord);
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        let mut dates = [None; 128];
        let mut ords = [None; 128];
        for block in docs.chunks(dates.len()) {
            let when = &mut dates[..block.len()];
            when.fill(None);
            self.dates.first_vals(block, when);
            let ord = &mut ords[..block.len()];
            ord.fill(None);
            if let Some(c) = &self.column {
                c.ords().first_vals(block, ord);
            }
            for (w, o) in when.iter().zip(ord.iter()) {
                if let Some(w) = w {
                    self.add(*w, *o);
                }
            }
        }
    }

    fn harvest(self) -> KeyedDays {
        let mut out = KeyedDays::new();
        let none = self.none.into_dates();
        if !none.is_empty() {
            out.insert(None, none);
        }
        if let Some(column) = &self.column {
            let mut value = String::new();
            for (ord, days) in self.by_ord.into_iter().enumerate() {
                let days = days.into_dates();
                value.clear();
                if !days.is_empty() && column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                    out.insert(Some(value.clone()), days);
                }
            }
        }
        out
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

/// [`histogram`] with each bucket's total and share: the totals are a second [`histogram`] of the
/// request's source filters alone ([`SearchRequest::source_filters`]), counted by the same collector.
pub fn histogram_normalized(
    archive: &Archive,
    req: &SearchRequest,
    interval: Interval,
) -> anyhow::Result<Vec<ShareBucket>> {
    let counts = histogram(archive, req, interval)?;
    let totals = histogram(archive, &req.source_filters(), interval)?;
    Ok(with_totals(&counts, &totals))
}

/// Day counts summed into buckets of `interval`.
pub(super) fn rebucket(
    days: &BTreeMap<NaiveDate, u64>,
    interval: Interval,
) -> BTreeMap<NaiveDate, u64> {
    let mut out = BTreeMap::new();
    for (&day, &c) in days {
        *out.entry(interval.bucket_start(day)).or_insert(0) += c;
    }
    out
}

/// The buckets from the first to the last, empty ones included (up to [`MAX_FILLED_BUCKETS`]).
pub(super) fn fill_buckets(counts: BTreeMap<NaiveDate, u64>, interval: Interval) -> Vec<Bucket> {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn intervals_cover_their_span() {
        let d = |s: &str| super::super::parse_day(s).unwrap();
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
