//! Facet counts: every match counted by campaign, feed, language, affiliation, country and script
//! from string fast fields (term ordinals per segment, resolved to strings once), no document loaded.

use std::collections::HashMap;

use anyhow::Context;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentReader};

use super::{build_query, SearchRequest};
use crate::index::Archive;

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
pub(super) struct FacetCollector {
    /// Per facet field, its column in each segment (by segment ordinal).
    columns: Vec<Vec<Option<tantivy::columnar::StrColumn>>>,
}

impl FacetCollector {
    pub(super) fn new(
        archive: &Archive,
        searcher: &tantivy::Searcher,
    ) -> tantivy::Result<FacetCollector> {
        Ok(FacetCollector {
            columns: archive.str_columns(searcher, &FACET_FIELDS)?,
        })
    }
}

pub(super) struct FacetSegment {
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

/// No value in a [`FacetTable`] row.
const NONE: u16 = u16::MAX;

/// A segment's facet ordinals and publication day, one row of `u16`s per document, read once from its
/// columns (12 bytes a document): counting a match is then one row read instead of a column read per
/// field (each through the column's codec and, for optional columns, its rank index). A field whose
/// column is multi-valued (campaigns) or has too many values, or days spread over more than 179 years,
/// stay with the column reads. Built for long-running readers ([`super::SearchCache`] keeps one per
/// segment); a segment is immutable, so its table never goes stale (deleted documents never match).
pub(super) struct FacetTable {
    /// Per facet field ([`FACET_FIELDS`] order) whether the table holds it, then the day.
    held: [bool; 7],
    rows: Vec<[u16; 7]>,
    first_day: i64,
    /// Days from the first to the last (when held).
    day_span: usize,
}

impl FacetTable {
    /// Reads the table of segment `ord` (`columns` as [`FacetCollector`] holds them).
    pub(super) fn build(
        collector: &FacetCollector,
        ord: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetTable> {
        let max_doc = reader.max_doc();
        let mut rows = vec![[NONE; 7]; max_doc as usize];
        let mut held = [false; 7];
        let docs: Vec<DocId> = (0..max_doc).collect();
        let mut vals = [None; 128];
        for (k, by_segment) in collector.columns.iter().enumerate() {
            let Some(column) = by_segment.get(ord as usize).cloned().flatten() else {
                continue;
            };
            let column = column.ords();
            if column.get_cardinality() == tantivy::columnar::Cardinality::Multivalued
                || column.max_value() >= u64::from(NONE)
            {
                continue;
            }
            held[k] = true;
            for (block, out_rows) in docs.chunks(128).zip(rows.chunks_mut(128)) {
                let out = &mut vals[..block.len()];
                out.fill(None);
                column.first_vals(block, out);
                for (row, v) in out_rows.iter_mut().zip(out.iter()) {
                    // Below NONE: checked against the column's max value above.
                    row[k] = v.map_or(NONE, |v| v as u16);
                }
            }
        }
        let dates = reader.fast_fields().date("published")?;
        let day = |d: tantivy::DateTime| d.into_timestamp_secs().div_euclid(86_400);
        let (lo, hi) = (dates.min_value(), dates.max_value());
        let first_day = day(lo);
        let mut day_span = 0;
        if max_doc > 0
            && dates.get_cardinality() != tantivy::columnar::Cardinality::Multivalued
            && day(hi) - first_day < i64::from(NONE)
        {
            held[6] = true;
            day_span = (day(hi) - first_day) as usize + 1;
            let mut vals = [None; 128];
            for (block, out_rows) in docs.chunks(128).zip(rows.chunks_mut(128)) {
                let out = &mut vals[..block.len()];
                out.fill(None);
                dates.first_vals(block, out);
                for (row, v) in out_rows.iter_mut().zip(out.iter()) {
                    row[6] = v.map_or(NONE, |d| (day(d) - first_day) as u16);
                }
            }
        }
        Ok(FacetTable {
            held,
            rows,
            first_day,
            day_span,
        })
    }

    /// Estimated bytes.
    pub(super) fn bytes(&self) -> usize {
        self.rows.len() * std::mem::size_of::<[u16; 7]>() + 64
    }
}

/// Counts one segment's matches through its [`FacetTable`] (the fields it holds) and the columns (the
/// others): what [`FacetSegment`] and the histogram's segment collector count, in one pass.
pub(super) struct TableSegment {
    table: std::sync::Arc<FacetTable>,
    /// The fields the table does not hold, counted from their columns.
    rest: FacetSegment,
    /// Per facet field the table holds, its column (to name the values) and counts by ordinal.
    held: Vec<Option<(tantivy::columnar::StrColumn, Vec<u64>)>>,
    /// Counts by day offset.
    days: Vec<u64>,
    /// The histogram's collector when the table does not hold days.
    dates: Option<super::histogram::HistogramSegment>,
}

impl TableSegment {
    pub(super) fn new(
        collector: &FacetCollector,
        table: std::sync::Arc<FacetTable>,
        ord: u32,
        reader: &SegmentReader,
    ) -> tantivy::Result<TableSegment> {
        let mut rest = collector.for_segment(ord, reader)?;
        // The fields the table holds leave the column collector (it counts what stays).
        let held = rest
            .columns
            .iter_mut()
            .enumerate()
            .map(|(k, column)| if table.held[k] { column.take() } else { None })
            .collect();
        let (days, dates) = if table.held[6] {
            (vec![0; table.day_span], None)
        } else {
            let dates = super::histogram::HistogramCollector.for_segment(ord, reader)?;
            (Vec::new(), Some(dates))
        };
        Ok(TableSegment {
            table,
            rest,
            held,
            days,
            dates,
        })
    }

    #[inline]
    fn count_row(&mut self, doc: DocId) {
        let Some(row) = self.table.rows.get(doc as usize) else {
            return;
        };
        for (k, held) in self.held.iter_mut().enumerate() {
            if let Some(c) = held
                .as_mut()
                .and_then(|(_, c)| c.get_mut(usize::from(row[k])))
            {
                *c += 1;
            }
        }
        if let Some(c) = self.days.get_mut(usize::from(row[6])) {
            *c += 1;
        }
    }

    /// Matches, per facet field the count by value, and the count per day.
    pub(super) fn harvest(
        self,
    ) -> (
        u64,
        Vec<HashMap<String, u64>>,
        std::collections::BTreeMap<chrono::NaiveDate, u64>,
    ) {
        let TableSegment {
            table,
            mut rest,
            held,
            days,
            dates,
        } = self;
        // The held fields back in the column collector's places, to resolve all values at once.
        for (into, held) in rest.columns.iter_mut().zip(held) {
            if held.is_some() {
                *into = held;
            }
        }
        let (total, maps) = SegmentCollector::harvest(rest);
        let days = match dates {
            Some(d) => SegmentCollector::harvest(d),
            None => days
                .into_iter()
                .enumerate()
                .filter(|&(_, c)| c > 0)
                .filter_map(|(k, c)| {
                    let secs = (table.first_day + k as i64) * 86_400;
                    Some((chrono::DateTime::from_timestamp(secs, 0)?.date_naive(), c))
                })
                .collect(),
        };
        (total, maps, days)
    }

    pub(super) fn collect_block(&mut self, docs: &[DocId]) {
        for &doc in docs {
            self.count_row(doc);
        }
        self.rest.collect_block(docs);
        if let Some(d) = &mut self.dates {
            d.collect_block(docs);
        }
    }

    pub(super) fn collect(&mut self, doc: DocId, score: Score) {
        self.count_row(doc);
        self.rest.collect(doc, score);
        if let Some(d) = &mut self.dates {
            d.collect(doc, score);
        }
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
pub(super) fn facet_lists(total: u64, maps: Vec<HashMap<String, u64>>) -> Facets {
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
