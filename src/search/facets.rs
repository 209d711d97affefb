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
