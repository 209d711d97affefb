//! The search caches of a long-running reader (the web workspace), in one place:
//!
//! - **answers**: a whole [`Overview`] per [`SearchRequest`] (query, filters, order, page size), for
//!   the loaded commit only, as Elasticsearch's shard request cache: the first request of a commit that
//!   sees a different commit (other segments, or the same segments with other deletes) drops them all,
//!   and an answer computed on one commit is never stored for another;
//! - **counts**: what a request counts in one segment (matches, facets, matches per day), keyed by the
//!   segment, its deletes and the request's query and filters. Segments are immutable: after a commit
//!   that adds a small segment, only that one is counted again, and a request that differs only in page
//!   or order counts nothing. An entry whose segment was merged away or had documents deleted is
//!   never looked up again and leaves by age.
//!
//! Both are bounded by an estimate of their bytes (least recently used out first). Every count stays
//! exact: a cached count is the count of an immutable segment with the same deletes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;
use lru::LruCache;
use tantivy::index::SegmentId;
use tantivy::{Opstamp, Searcher, SegmentReader};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score};

use super::facets::{FacetCollector, FacetSegment, FacetTable, TableSegment};
use super::histogram::{HistogramCollector, HistogramSegment};
use super::{Overview, SearchRequest, Sort};
use crate::index::Archive;

/// Default budget of each part (answers, counts), in bytes.
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// The caches of one archive reader (see the module doc). Share one per open archive.
pub struct SearchCache {
    inner: Mutex<Inner>,
    budget: usize,
    /// Held while a facet table is read: one reader at a time, the others then find it.
    reading: Mutex<()>,
}

/// What a cache holds and has done: for tests and the bench.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Answers served from the cache.
    pub answer_hits: u64,
    /// Answers computed.
    pub answer_misses: u64,
    /// Segment counts served from the cache.
    pub count_hits: u64,
    /// Segment counts computed.
    pub count_misses: u64,
    /// Answers held now.
    pub answers: usize,
    /// Segment counts held now.
    pub counts: usize,
    /// Estimated bytes held now (answers and counts).
    pub bytes: usize,
    /// Bytes of the facet tables held now (14 a document of the loaded commit).
    pub table_bytes: usize,
}

/// A loaded commit: its segments with their delete opstamps.
type Commit = BTreeMap<SegmentId, Option<Opstamp>>;

/// A segment as counted: its id and its deletes.
pub(super) type SegmentKey = (SegmentId, Option<Opstamp>);

struct Inner {
    commit: Commit,
    answers: Bounded<SearchRequest, Arc<Overview>>,
    counts: Bounded<(SegmentKey, SearchRequest), Arc<SegmentCounts>>,
    /// The facet tables of the loaded commit's segments (outside the budget: 14 bytes a document).
    tables: HashMap<SegmentId, Arc<FacetTable>>,
    stats: CacheStats,
}

/// What one request counts in one segment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SegmentCounts {
    /// Matches.
    pub total: u64,
    /// Per facet field (in `facets::FACET_FIELDS` order), matches per value.
    pub facets: Vec<HashMap<String, u64>>,
    /// Matches per UTC day.
    pub days: BTreeMap<NaiveDate, u64>,
}

impl SegmentCounts {
    fn bytes(&self) -> usize {
        let facets: usize = self
            .facets
            .iter()
            .flat_map(|m| m.keys())
            .map(|k| k.len() + 48)
            .sum();
        128 + facets + self.days.len() * 32
    }
}

impl Default for SearchCache {
    fn default() -> SearchCache {
        SearchCache::new(DEFAULT_CACHE_BYTES)
    }
}

impl SearchCache {
    /// Caches of at most about `budget` bytes each (answers, counts); 0 keeps no answer and no count
    /// (the facet tables are kept either way).
    pub fn new(budget: usize) -> SearchCache {
        SearchCache {
            inner: Mutex::new(Inner {
                commit: Commit::new(),
                answers: Bounded::new(budget),
                counts: Bounded::new(budget),
                tables: HashMap::new(),
                stats: CacheStats::default(),
            }),
            budget,
            reading: Mutex::new(()),
        }
    }

    /// What it holds and has done so far.
    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            answers: inner.answers.map.len(),
            counts: inner.counts.map.len(),
            bytes: inner.answers.bytes + inner.counts.bytes,
            table_bytes: inner.tables.values().map(|t| t.bytes()).sum(),
            ..inner.stats
        }
    }

    /// Drops the answers and the counts (the facet tables and the counters stay).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.answers.clear();
        inner.counts.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The data stays consistent between statements: a panic elsewhere leaves nothing half done.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The answer to `req` on `searcher`'s commit, if computed before on that commit.
    pub(super) fn answer(&self, searcher: &Searcher, req: &SearchRequest) -> Option<Overview> {
        let mut inner = self.lock();
        inner.follow(searcher.generation().segments());
        let found = inner.answers.get(req).map(|o| Overview::clone(o));
        if found.is_some() {
            inner.stats.answer_hits += 1;
        } else {
            inner.stats.answer_misses += 1;
        }
        found
    }

    /// Keeps `answer` to `req`, computed on `searcher`'s commit.
    pub(super) fn keep_answer(&self, searcher: &Searcher, req: &SearchRequest, answer: &Overview) {
        let bytes = answer_bytes(answer);
        if bytes > self.budget / 4 {
            return;
        }
        let mut inner = self.lock();
        inner.follow(searcher.generation().segments());
        inner
            .answers
            .put(req.clone(), Arc::new(answer.clone()), bytes);
    }

    /// The facet table of segment `ord` of `searcher`, read now if not held.
    fn table(
        &self,
        searcher: &Searcher,
        facets: &FacetCollector,
        ord: u32,
    ) -> tantivy::Result<Option<Arc<FacetTable>>> {
        let reader = searcher.segment_reader(ord);
        if let Some(t) = self.lock().tables.get(&reader.segment_id()) {
            return Ok(Some(t.clone()));
        }
        // Read outside the cache's lock (a segment of a million documents takes tens of ms), one at
        // a time: requests that need the same table wait for it instead of reading it too.
        let _reading = self.reading.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = self.lock().tables.get(&reader.segment_id()) {
            return Ok(Some(t.clone()));
        }
        let table = Arc::new(FacetTable::build(facets, ord, reader)?);
        let mut inner = self.lock();
        inner.follow(searcher.generation().segments());
        if inner.commit.contains_key(&reader.segment_id()) {
            inner.tables.insert(reader.segment_id(), table.clone());
        }
        Ok(Some(table))
    }

    /// The counts of `req` in the segment `reader`, if counted before (with the same deletes).
    pub(super) fn counts(
        &self,
        reader: &SegmentReader,
        req: &SearchRequest,
    ) -> Option<Arc<SegmentCounts>> {
        let key = (segment_key(reader), counts_key(req));
        let mut inner = self.lock();
        let found = inner.counts.get(&key).cloned();
        if found.is_some() {
            inner.stats.count_hits += 1;
        } else {
            inner.stats.count_misses += 1;
        }
        found
    }

    /// Keeps the counts of `req` in the segment `segment`.
    pub(super) fn keep_counts(
        &self,
        segment: SegmentKey,
        req: &SearchRequest,
        counts: Arc<SegmentCounts>,
    ) {
        let bytes = counts.bytes();
        if bytes > self.budget / 4 {
            return;
        }
        let mut inner = self.lock();
        inner.counts.put((segment, counts_key(req)), counts, bytes);
    }
}

impl Inner {
    /// Makes `commit` the one the answers are for, dropping them all when it is another.
    fn follow(&mut self, commit: &Commit) {
        if &self.commit != commit {
            self.tables.retain(|id, _| commit.contains_key(id));
            self.commit = commit.clone();
            self.answers.clear();
        }
    }
}

/// An LRU map bounded by the bytes its values are estimated to hold (least recently used out first).
struct Bounded<K: std::hash::Hash + Eq, V> {
    map: LruCache<K, (V, usize)>,
    bytes: usize,
    budget: usize,
}

impl<K: std::hash::Hash + Eq, V> Bounded<K, V> {
    fn new(budget: usize) -> Bounded<K, V> {
        Bounded {
            map: LruCache::unbounded(),
            bytes: 0,
            budget,
        }
    }

    fn get(&mut self, key: &K) -> Option<&V> {
        self.map.get(key).map(|(v, _)| v)
    }

    fn put(&mut self, key: K, value: V, bytes: usize) {
        if let Some((_, old)) = self.map.put(key, (value, bytes)) {
            self.bytes -= old;
        }
        self.bytes += bytes;
        while self.bytes > self.budget {
            let Some((_, (_, b))) = self.map.pop_lru() else {
                break;
            };
            self.bytes -= b;
        }
    }

    fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }
}

/// A segment as its counts are keyed: id and deletes.
pub(super) fn segment_key(reader: &SegmentReader) -> SegmentKey {
    (reader.segment_id(), reader.delete_opstamp())
}

/// What counts depend on: the query and the filters, not the order or the hits' page.
fn counts_key(req: &SearchRequest) -> SearchRequest {
    SearchRequest {
        limit: 0,
        offset: 0,
        sort: Sort::Relevance,
        ..req.clone()
    }
}

/// A rough estimate of an answer's bytes in memory.
fn answer_bytes(o: &Overview) -> usize {
    let hits: usize = o
        .results
        .hits
        .iter()
        .map(|h| {
            512 + h.url.len()
                + h.title.len()
                + h.snippet.len()
                + h.highlights.len() * 16
                + h.campaigns.iter().map(|c| c.len() + 24).sum::<usize>()
                + h.campaign_terms
                    .iter()
                    .flat_map(|c| &c.terms)
                    .map(|t| t.len() + 24)
                    .sum::<usize>()
        })
        .sum();
    let f = &o.facets;
    let facets: usize = [
        &f.campaign,
        &f.feed,
        &f.lang,
        &f.affiliation,
        &f.country,
        &f.script,
    ]
    .iter()
    .flat_map(|l| l.iter())
    .map(|c| c.value.len() + 40)
    .sum();
    256 + o.results.query.len() + hits + facets + o.days.len() * 32
}

/// Counts a request (matches, facets, matches per day) segment by segment, taking each segment's
/// counts from the cache where it has them and keeping those it makes. Without a cache it counts
/// every segment.
pub(super) struct Counter<'a> {
    cache: Option<&'a SearchCache>,
    req: &'a SearchRequest,
    facets: FacetCollector,
    /// Per segment ordinal: its key and its cached counts.
    segments: Vec<(SegmentKey, Option<Arc<SegmentCounts>>)>,
    /// Per segment ordinal: its facet table (segments to count, with a cache).
    tables: Vec<Option<Arc<FacetTable>>>,
}

/// [`Counter`]'s fruit: matches, matches per facet value (per facet field), matches per day.
pub(super) type Counts = (u64, Vec<HashMap<String, u64>>, BTreeMap<NaiveDate, u64>);

impl<'a> Counter<'a> {
    pub(super) fn new(
        archive: &Archive,
        searcher: &Searcher,
        cache: Option<&'a SearchCache>,
        req: &'a SearchRequest,
    ) -> tantivy::Result<Counter<'a>> {
        let segments = searcher
            .segment_readers()
            .iter()
            .map(|r| (segment_key(r), cache.and_then(|c| c.counts(r, req))))
            .collect::<Vec<_>>();
        let facets = FacetCollector::new(archive, searcher)?;
        let mut tables = Vec::with_capacity(segments.len());
        for (ord, (_, counted)) in segments.iter().enumerate() {
            tables.push(match (cache, counted) {
                (Some(cache), None) => cache.table(searcher, &facets, ord as u32)?,
                _ => None,
            });
        }
        Ok(Counter {
            cache,
            req,
            facets,
            segments,
            tables,
        })
    }

    /// The counts when the cache had every segment's.
    pub(super) fn all_cached(&self) -> Option<Counts> {
        let cached: Option<Vec<Arc<SegmentCounts>>> =
            self.segments.iter().map(|(_, c)| c.clone()).collect();
        Some(merge(cached?.iter().map(|c| &**c)))
    }
}

/// Sums segments' counts.
fn merge<'c>(all: impl Iterator<Item = &'c SegmentCounts>) -> Counts {
    let mut total = 0;
    let mut facets: Vec<HashMap<String, u64>> = Vec::new();
    let mut days = BTreeMap::new();
    for c in all {
        total += c.total;
        if facets.len() < c.facets.len() {
            facets.resize_with(c.facets.len(), HashMap::new);
        }
        for (into, map) in facets.iter_mut().zip(&c.facets) {
            for (k, v) in map {
                *into.entry(k.clone()).or_insert(0) += v;
            }
        }
        for (d, v) in &c.days {
            *days.entry(*d).or_insert(0) += v;
        }
    }
    (total, facets, days)
}

/// One segment's part of a [`Counter`]: its cached counts, or the collectors counting it.
pub(super) enum CounterSegment {
    Cached(u32, Arc<SegmentCounts>),
    Table(u32, Box<TableSegment>),
    Live(u32, Box<(FacetSegment, HistogramSegment)>),
}

impl Collector for Counter<'_> {
    type Fruit = Counts;
    type Child = CounterSegment;

    fn for_segment(&self, ord: u32, reader: &SegmentReader) -> tantivy::Result<CounterSegment> {
        if let Some((_, Some(cached))) = self.segments.get(ord as usize) {
            return Ok(CounterSegment::Cached(ord, cached.clone()));
        }
        if let Some(Some(table)) = self.tables.get(ord as usize) {
            let segment = TableSegment::new(&self.facets, table.clone(), ord, reader)?;
            return Ok(CounterSegment::Table(ord, Box::new(segment)));
        }
        Ok(CounterSegment::Live(
            ord,
            Box::new((
                self.facets.for_segment(ord, reader)?,
                HistogramCollector.for_segment(ord, reader)?,
            )),
        ))
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<(u32, bool, Arc<SegmentCounts>)>,
    ) -> tantivy::Result<Counts> {
        if let Some(cache) = self.cache {
            for (ord, fresh, counts) in &fruits {
                if let (true, Some((key, _))) = (*fresh, self.segments.get(*ord as usize)) {
                    cache.keep_counts(*key, self.req, counts.clone());
                }
            }
        }
        Ok(merge(fruits.iter().map(|(_, _, c)| &**c)))
    }
}

impl SegmentCollector for CounterSegment {
    /// Segment ordinal, whether counted now (not from the cache), the counts.
    type Fruit = (u32, bool, Arc<SegmentCounts>);

    fn collect(&mut self, doc: DocId, score: Score) {
        match self {
            CounterSegment::Cached(..) => {}
            CounterSegment::Table(_, t) => t.collect(doc, score),
            CounterSegment::Live(_, c) => {
                c.0.collect(doc, score);
                c.1.collect(doc, score);
            }
        }
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        match self {
            CounterSegment::Cached(..) => {}
            CounterSegment::Table(_, t) => t.collect_block(docs),
            CounterSegment::Live(_, c) => {
                c.0.collect_block(docs);
                c.1.collect_block(docs);
            }
        }
    }

    fn harvest(self) -> Self::Fruit {
        match self {
            CounterSegment::Cached(ord, counts) => (ord, false, counts),
            CounterSegment::Table(ord, t) => {
                let (total, facets, days) = t.harvest();
                (
                    ord,
                    true,
                    Arc::new(SegmentCounts {
                        total,
                        facets,
                        days,
                    }),
                )
            }
            CounterSegment::Live(ord, c) => {
                let (facets, days) = *c;
                let (total, facets) = facets.harvest();
                let days = days.harvest();
                (
                    ord,
                    true,
                    Arc::new(SegmentCounts {
                        total,
                        facets,
                        days,
                    }),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{sample_article, Article, CampaignHit};
    use crate::search::{overview, overview_cached};

    const WORDS: [&str; 6] = [
        "sanctions",
        "talks",
        "border",
        "trade",
        "minister",
        "island",
    ];

    /// Article `i`: two of [`WORDS`] (by `i`), one of three feeds and two languages, a country on
    /// every third, a campaign on every fifth, a day by `i` (article 119 in 1800).
    fn article(i: u32) -> Article {
        let text = format!(
            "The {} and the {} were discussed this week by officials.",
            WORDS[i as usize % WORDS.len()],
            WORDS[(i as usize / 2) % WORDS.len()]
        );
        let mut a = sample_article(i * 7, format!("Report {i}"), text);
        a.feed = ["tass-en", "rt-en", "xinhua-en"][i as usize % 3].into();
        if i % 4 == 0 {
            a.lang.lang = "ru".into();
        }
        if i % 3 == 0 {
            a.country = Some("RU".into());
        }
        if i == 119 {
            // Days spread over more than a u16 of days: this segment's days come from the column.
            a.published = chrono::DateTime::from_timestamp(-5_364_662_400, 0);
        }
        if i % 5 == 0 {
            a.campaigns = vec![CampaignHit {
                id: "nato-expansion".into(),
                score: 1.0,
                terms: vec![],
            }];
        }
        a
    }

    fn requests() -> Vec<SearchRequest> {
        let day = |s: &str| crate::search::parse_day(s).unwrap();
        let base = SearchRequest {
            limit: 5,
            ..Default::default()
        };
        vec![
            base.clone(),
            SearchRequest {
                lang: Some("ru".into()),
                ..base.clone()
            },
            SearchRequest {
                campaign: Some("nato-expansion".into()),
                sort: Sort::Newest,
                ..base.clone()
            },
            SearchRequest {
                query: "sanctions".into(),
                ..base.clone()
            },
            SearchRequest {
                query: "sanctions".into(),
                limit: 10,
                ..base.clone()
            },
            // A later page: other hits, the same counts.
            SearchRequest {
                query: "sanctions".into(),
                limit: 10,
                offset: 10,
                ..base.clone()
            },
            SearchRequest {
                query: "\"border and the\"".into(),
                feed: Some("rt-en".into()),
                ..base.clone()
            },
            SearchRequest {
                query: "trade OR island".into(),
                since: Some(day("2023-11-16")),
                until: Some(day("2023-11-20")),
                sort: Sort::Oldest,
                ..base
            },
        ]
    }

    /// Every request through the cache (twice: computed, then served) equals the uncached overview.
    fn assert_cache_is_fresh(archive: &Archive, cache: &SearchCache) {
        for req in requests() {
            let fresh = overview(archive, &req).unwrap();
            for round in 0..2 {
                let cached = overview_cached(archive, cache, &req).unwrap();
                let ids = |o: &Overview| -> Vec<String> {
                    o.results.hits.iter().map(|h| h.id.clone()).collect()
                };
                assert_eq!(cached.results.total, fresh.results.total, "{req:?} {round}");
                assert_eq!(cached.facets, fresh.facets, "{req:?} {round}");
                assert_eq!(cached.days, fresh.days, "{req:?} {round}");
                assert_eq!(ids(&cached), ids(&fresh), "{req:?} {round}");
            }
        }
    }

    fn add(archive: &Archive, ids: impl Iterator<Item = u32>) {
        let mut w = archive.writer().unwrap();
        for i in ids {
            w.upsert(&article(i)).unwrap();
        }
        w.commit().unwrap();
        archive.reload().unwrap();
    }

    fn total(archive: &Archive, cache: &SearchCache, req: &SearchRequest) -> usize {
        overview_cached(archive, cache, req).unwrap().results.total
    }

    #[test]
    fn cached_counts_equal_fresh_counts_after_commits_updates_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open_or_create(dir.path()).unwrap();
        add(&archive, 0..120);
        let cache = SearchCache::default();
        assert_cache_is_fresh(&archive, &cache);
        let first = cache.stats();
        assert!(first.answer_hits >= requests().len() as u64, "{first:?}");
        // Counted through the segments' facet tables (the uncached overview reads the columns).
        assert!(first.table_bytes >= 120 * 14, "{first:?}");
        // The "sanctions" requests differ in their hits only: after the first, they count nothing.
        assert!(first.count_hits > 0, "{first:?}");

        // A commit adds a segment: the old segments' counts serve again, the new one is counted.
        add(&archive, 120..150);
        let before = cache.stats();
        assert_cache_is_fresh(&archive, &cache);
        let after = cache.stats();
        assert!(after.count_hits > before.count_hits, "{before:?} {after:?}");
        assert!(
            after.count_misses > before.count_misses,
            "{before:?} {after:?}"
        );

        // Updates (an article rewritten with another language and campaign) and deletes change
        // counts of old segments: they are counted again, not served stale.
        let ru = SearchRequest {
            lang: Some("ru".into()),
            limit: 5,
            ..Default::default()
        };
        let ru_before = total(&archive, &cache, &ru);
        let mut w = archive.writer().unwrap();
        let mut moved = article(1);
        moved.lang.lang = "ru".into();
        moved.campaigns = article(0).campaigns;
        w.upsert(&moved).unwrap();
        w.commit().unwrap();
        archive.reload().unwrap();
        assert_eq!(total(&archive, &cache, &ru), ru_before + 1);
        assert_cache_is_fresh(&archive, &cache);
    }

    #[test]
    fn an_answer_of_a_previous_commit_is_never_served() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open_or_create(dir.path()).unwrap();
        add(&archive, 0..30);
        let cache = SearchCache::default();
        let req = SearchRequest {
            query: "sanctions".into(),
            limit: 20,
            ..Default::default()
        };
        let was = total(&archive, &cache, &req);
        assert!(was > 0);
        // Committed but not loaded: the loaded commit's answer, as a fresh search gives it.
        let mut w = archive.writer().unwrap();
        for i in (30..60).filter(|i| i % WORDS.len() as u32 == 0) {
            w.upsert(&article(i)).unwrap();
        }
        w.commit().unwrap();
        assert_eq!(total(&archive, &cache, &req), was);
        archive.reload().unwrap();
        let now = total(&archive, &cache, &req);
        assert_eq!(now, overview(&archive, &req).unwrap().results.total);
        assert_eq!(now, was + 5);
        // Reloading the same commit again keeps the answers (same segments, same deletes).
        let hits = cache.stats().answer_hits;
        archive.reload().unwrap();
        total(&archive, &cache, &req);
        assert_eq!(cache.stats().answer_hits, hits + 1);
    }

    #[test]
    fn a_cache_stays_within_its_budget() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open_or_create(dir.path()).unwrap();
        add(&archive, 0..60);
        let cache = SearchCache::new(16 << 10);
        for (i, word) in WORDS.iter().enumerate() {
            for limit in 1..10 {
                let req = SearchRequest {
                    query: (*word).into(),
                    limit: limit + i,
                    ..Default::default()
                };
                overview_cached(&archive, &cache, &req).unwrap();
                assert!(cache.stats().bytes <= 2 * (16 << 10), "{:?}", cache.stats());
            }
        }
        let none = SearchCache::new(0);
        overview_cached(&archive, &none, &requests()[3]).unwrap();
        assert_eq!(none.stats().answers + none.stats().counts, 0);
    }
}
