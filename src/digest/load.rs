//! Reading a digest's [`DigestData`] from the archive: one pass over the fast columns of every segment
//! (no stored document is read for counting), then the period's tagged articles, the members of
//! multi-outlet clusters and the period's forwards of the origins that can be listed (with those origins)
//! from the doc store.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::columnar::StrColumn;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, SegmentReader, Term};

use super::{window, DigestData, NO_COUNTRY, TOP_CLUSTERS};
use crate::index::Archive;
use crate::model::Article;
use crate::store::{FeedState, Store};

const DAY: i64 = 86_400;

/// The articles dated on `date` (UTC), sorted by URL. Reads every document of the day: for small days and
/// tests; the digest itself uses [`load`].
pub fn load_day(archive: &Archive, date: NaiveDate) -> anyhow::Result<Vec<Article>> {
    let (_, start, end) = window(date, date);
    let query = archive.published_range(
        Some(tantivy::DateTime::from_timestamp_secs(start.timestamp())),
        Some(tantivy::DateTime::from_timestamp_secs(end.timestamp())),
    );
    let searcher = archive.searcher();
    let docs = searcher.search(&*query, &DocSetCollector)?;
    let mut articles = Vec::with_capacity(docs.len());
    for address in docs {
        articles.push(archive.article(&searcher, address)?);
    }
    articles.sort_by(|a, b| a.url.cmp(&b.url));
    Ok(articles)
}

/// Everything a digest of `from..=to` needs, from the archive's loaded commit and (when given) the store.
pub fn load(
    archive: &Archive,
    store: Option<&Store>,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<DigestData> {
    anyhow::ensure!(
        from <= to,
        "digest period: --from {from} is after --to {to}"
    );
    let (lo, start, hi) = window(from, to);
    let (lo, start, hi) = (lo.timestamp(), start.timestamp(), hi.timestamp());
    let feed_states: BTreeMap<String, FeedState> = match store {
        Some(s) => s
            .feed_states()
            .context("cannot read feed states for the digest")?
            .into_iter()
            .collect(),
        None => BTreeMap::new(),
    };
    let mut d = DigestData {
        from,
        to,
        feed_states,
        ..Default::default()
    };
    let searcher = archive.searcher();
    let mut tagged: BTreeMap<String, Vec<DocAddress>> = BTreeMap::new();
    let mut clusters: HashMap<String, Vec<(DocAddress, String)>> = HashMap::new();
    let mut forwards: HashMap<String, Vec<(DocAddress, String)>> = HashMap::new();
    let mut last_seen: BTreeMap<String, i64> = BTreeMap::new();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        scan_segment(
            segment,
            ord as u32,
            (lo, start, hi),
            &mut d,
            &mut tagged,
            &mut clusters,
            &mut forwards,
            &mut last_seen,
        )
        .with_context(|| format!("cannot read the fast fields of segment {ord}"))?;
    }
    d.feed_last_article = last_seen
        .into_iter()
        .filter_map(|(f, t)| Some((f, DateTime::<Utc>::from_timestamp(t, 0)?)))
        .collect();

    for (campaign, addresses) in tagged {
        let mut articles = Vec::with_capacity(addresses.len());
        for a in addresses {
            articles.push(archive.article(&searcher, a)?);
        }
        d.tagged.insert(campaign, articles);
    }
    let mut multi: Vec<(String, Vec<DocAddress>)> = clusters
        .into_iter()
        .filter(|(_, m)| m.iter().map(|(_, f)| f).collect::<BTreeSet<_>>().len() >= 2)
        .map(|(id, m)| (id, m.into_iter().map(|(a, _)| a).collect()))
        .collect();
    multi.sort();
    for (id, addresses) in multi {
        let mut members = Vec::with_capacity(addresses.len() + 1);
        for a in addresses {
            members.push(archive.article(&searcher, a)?);
        }
        if !members.iter().any(|a| a.id == id) {
            if let Some(first) = article_by(archive, &searcher, archive.fields.id, &id)? {
                members.push(first);
            }
        }
        d.clusters.push(members);
    }

    // Forwards: only the origins that can make the top list are read (most forwarding channels first:
    // every origin with at least as many channels as the last of the top ones, so ties on channels are
    // still ordered by time), with their archived origins.
    let mut origins: Vec<(String, Vec<DocAddress>, usize)> = forwards
        .into_iter()
        .map(|(url, m)| {
            let channels = m.iter().map(|(_, f)| f).collect::<BTreeSet<_>>().len();
            (url, m.into_iter().map(|(a, _)| a).collect(), channels)
        })
        .collect();
    let mut counts: Vec<usize> = origins.iter().map(|(_, _, c)| *c).collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let least = counts
        .get(TOP_CLUSTERS.saturating_sub(1))
        .copied()
        .unwrap_or(0);
    origins.retain(|(_, _, c)| *c >= least);
    origins.sort();
    for (url, addresses, _) in origins {
        for a in addresses {
            d.forwards.push(archive.article(&searcher, a)?);
        }
        if let Some(origin) = article_by(archive, &searcher, archive.fields.url, &url)? {
            d.forward_origins.insert(url, origin);
        }
    }
    if let Some(store) = store {
        d.changes = changes(archive, &searcher, store, start, hi)?;
    }
    Ok(d)
}

/// The revisited articles with a change, removal or restore that may fall in `[start, hi)` (seconds):
/// their revisit rows, kept versions and current index documents. A kept version that cannot be read is
/// left out with a warning (`mediawatch check` names it), so the digest is still written.
fn changes(
    archive: &Archive,
    searcher: &Searcher,
    store: &Store,
    start: i64,
    hi: i64,
) -> anyhow::Result<Vec<super::ArticleChanges>> {
    let within = |t: &DateTime<Utc>| (start..hi).contains(&t.timestamp());
    let mut out = Vec::new();
    let states = store
        .revisit_states()
        .context("cannot read the revisit rows for the digest's changed and removed articles")?;
    for (id, state) in states {
        // A version fetched in the period was recorded at or after its fetch, so `edited_at` (the last
        // change found) is then at or after the period's start.
        let maybe = state.removed_at.as_ref().is_some_and(within)
            || state.restored_at.as_ref().is_some_and(within)
            || state.returns.iter().any(|(t, _)| within(t))
            || state.edited_at.is_some_and(|t| t.timestamp() >= start);
        if !maybe {
            continue;
        }
        let versions = if state.hashes.len() > 1 {
            store.versions(&id).unwrap_or_else(|e| {
                tracing::warn!(article = %id, error = %e,
                    "unreadable versions left out of the digest (run `mediawatch check`)");
                Vec::new()
            })
        } else {
            Vec::new()
        };
        let article = article_by(archive, searcher, archive.fields.id, &id)?;
        out.push(super::ArticleChanges {
            id,
            state,
            versions,
            article,
        });
    }
    Ok(out)
}

/// The article whose raw `field` (id or url) is `value`.
fn article_by(
    archive: &Archive,
    searcher: &Searcher,
    field: tantivy::schema::Field,
    value: &str,
) -> anyhow::Result<Option<Article>> {
    let q = TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    );
    let top = searcher.search(&q, &TopDocs::with_limit(1).order_by_score())?;
    match top.first() {
        Some((_, address)) => Ok(Some(archive.article(searcher, *address)?)),
        None => Ok(None),
    }
}

/// A string fast column with its ordinals resolved lazily (once per ordinal and segment).
struct Dict {
    column: Option<StrColumn>,
    names: HashMap<u64, String>,
}

impl Dict {
    fn new(segment: &SegmentReader, field: &str) -> anyhow::Result<Dict> {
        Ok(Dict {
            column: segment.fast_fields().str(field)?,
            names: HashMap::new(),
        })
    }

    fn ords(&self, doc: u32) -> Vec<u64> {
        match &self.column {
            Some(c) => c.term_ords(doc).collect(),
            None => Vec::new(),
        }
    }

    fn first(&self, doc: u32) -> Option<u64> {
        self.column.as_ref()?.term_ords(doc).next()
    }

    fn name(&mut self, ord: u64) -> anyhow::Result<&str> {
        if !self.names.contains_key(&ord) {
            let mut s = String::new();
            if let Some(c) = &self.column {
                c.ord_to_str(ord, &mut s)?;
            }
            self.names.insert(ord, s);
        }
        Ok(self.names.get(&ord).map_or("", |s| s.as_str()))
    }

    /// Resolves many ordinals in one sorted walk of the dictionary (one lookup each would decode a block
    /// per ordinal).
    fn resolve(&mut self, mut ords: Vec<u64>) -> anyhow::Result<()> {
        let Some(c) = &self.column else {
            return Ok(());
        };
        ords.retain(|o| !self.names.contains_key(o));
        ords.sort_unstable();
        ords.dedup();
        let mut found = Vec::with_capacity(ords.len());
        c.dictionary().sorted_ords_to_term_cb(&ords, |b| {
            found.push(String::from_utf8_lossy(b).into_owned())
        })?;
        anyhow::ensure!(found.len() == ords.len(), "dictionary lookup incomplete");
        self.names.extend(ords.into_iter().zip(found));
        Ok(())
    }

    fn name_or(&mut self, ord: Option<u64>, default: &str) -> anyhow::Result<String> {
        Ok(match ord {
            Some(o) => self.name(o)?.to_string(),
            None => default.to_string(),
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn scan_segment(
    segment: &SegmentReader,
    segment_ord: u32,
    (lo, start, hi): (i64, i64, i64),
    d: &mut DigestData,
    tagged: &mut BTreeMap<String, Vec<DocAddress>>,
    clusters: &mut HashMap<String, Vec<(DocAddress, String)>>,
    forwards: &mut HashMap<String, Vec<(DocAddress, String)>>,
    last_seen: &mut BTreeMap<String, i64>,
) -> anyhow::Result<()> {
    let fast = segment.fast_fields();
    let published = fast.date("published")?;
    let mut feed = Dict::new(segment, "feed")?;
    let mut campaign = Dict::new(segment, "campaign")?;
    let mut affiliation = Dict::new(segment, "affiliation")?;
    let mut country = Dict::new(segment, "country")?;
    let mut lang = Dict::new(segment, "lang")?;
    let mut cluster = Dict::new(segment, "cluster")?;
    let mut forwarded = Dict::new(segment, "forwarded_from")?;
    let alive = segment.alive_bitset();
    let first_day = NaiveDate::from_num_days_from_ce_opt(0).unwrap_or_default();
    let lo_day = DateTime::<Utc>::from_timestamp(lo, 0).map_or(first_day, |t| t.date_naive());

    // Per segment, counts keyed by ordinals; names are resolved once at the end.
    let mut feed_last: HashMap<u64, i64> = HashMap::new();
    let mut daily_total: HashMap<i64, u64> = HashMap::new();
    let mut daily_campaign: HashMap<(u64, i64), u64> = HashMap::new();
    let mut by_aff: HashMap<Option<u64>, u64> = HashMap::new();
    let mut by_feed: HashMap<u64, u64> = HashMap::new();
    type Split = HashMap<(u64, Option<u64>), u64>;
    let (mut s_aff, mut s_country, mut s_lang): (Split, Split, Split) = Default::default();
    let mut seg_tagged: HashMap<u64, Vec<u32>> = HashMap::new();
    let mut seg_clusters: HashMap<u64, Vec<(u32, Option<u64>)>> = HashMap::new();
    let mut seg_forwards: HashMap<u64, Vec<(u32, Option<u64>)>> = HashMap::new();
    let mut period_total = 0u64;

    for doc in 0..segment.max_doc() {
        if alive.is_some_and(|a| !a.is_alive(doc)) {
            continue;
        }
        let Some(t) = published.first(doc) else {
            continue;
        };
        let t = t.into_timestamp_secs();
        if t >= hi {
            continue;
        }
        let f = feed.first(doc);
        if let Some(f) = f {
            let last = feed_last.entry(f).or_insert(t);
            *last = (*last).max(t);
        }
        if t < lo {
            continue;
        }
        let day = (t - lo) / DAY;
        *daily_total.entry(day).or_default() += 1;
        let mut cs = campaign.ords(doc);
        cs.sort_unstable();
        cs.dedup();
        for c in &cs {
            *daily_campaign.entry((*c, day)).or_default() += 1;
        }
        if t < start {
            continue;
        }
        period_total += 1;
        let a = affiliation.first(doc);
        *by_aff.entry(a).or_default() += 1;
        if let Some(f) = f {
            *by_feed.entry(f).or_default() += 1;
        }
        if !cs.is_empty() {
            let co = country.first(doc);
            let la = lang.first(doc);
            for c in &cs {
                *s_aff.entry((*c, a)).or_default() += 1;
                *s_country.entry((*c, co)).or_default() += 1;
                *s_lang.entry((*c, la)).or_default() += 1;
                seg_tagged.entry(*c).or_default().push(doc);
            }
        }
        if let Some(cl) = cluster.first(doc) {
            seg_clusters.entry(cl).or_default().push((doc, f));
        }
        if let Some(origin) = forwarded.first(doc) {
            seg_forwards.entry(origin).or_default().push((doc, f));
        }
    }

    d.total += period_total;
    cluster.resolve(seg_clusters.keys().copied().collect())?;
    forwarded.resolve(seg_forwards.keys().copied().collect())?;
    feed.resolve(feed_last.keys().copied().collect())?;
    for (f, t) in feed_last {
        let name = feed.name(f)?.to_string();
        let last = last_seen.entry(name).or_insert(t);
        *last = (*last).max(t);
    }
    for (day, n) in daily_total {
        *d.daily_total
            .entry(lo_day + chrono::Duration::days(day))
            .or_default() += n;
    }
    for ((c, day), n) in daily_campaign {
        *d.daily_campaign
            .entry(campaign.name(c)?.to_string())
            .or_default()
            .entry(lo_day + chrono::Duration::days(day))
            .or_default() += n;
    }
    for (a, n) in by_aff {
        *d.by_affiliation
            .entry(affiliation.name_or(a, "unknown")?)
            .or_default() += n;
    }
    for (f, n) in by_feed {
        *d.by_feed.entry(feed.name(f)?.to_string()).or_default() += n;
    }
    for ((c, a), n) in s_aff {
        let key = affiliation.name_or(a, "unknown")?;
        let split = d.splits.entry(campaign.name(c)?.to_string()).or_default();
        *split.affiliation.entry(key).or_default() += n;
    }
    for ((c, co), n) in s_country {
        let key = country.name_or(co, NO_COUNTRY)?;
        let split = d.splits.entry(campaign.name(c)?.to_string()).or_default();
        *split.country.entry(key).or_default() += n;
    }
    for ((c, la), n) in s_lang {
        let key = lang.name_or(la, "und")?;
        let split = d.splits.entry(campaign.name(c)?.to_string()).or_default();
        *split.lang.entry(key).or_default() += n;
    }
    for (c, docs) in seg_tagged {
        tagged
            .entry(campaign.name(c)?.to_string())
            .or_default()
            .extend(
                docs.into_iter()
                    .map(|doc| DocAddress::new(segment_ord, doc)),
            );
    }
    for (cl, docs) in seg_clusters {
        let id = cluster.name(cl)?.to_string();
        let entry = clusters.entry(id).or_default();
        for (doc, f) in docs {
            let f = feed.name_or(f, "")?;
            entry.push((DocAddress::new(segment_ord, doc), f));
        }
    }
    for (origin, docs) in seg_forwards {
        let url = forwarded.name(origin)?.to_string();
        let entry = forwards.entry(url).or_default();
        for (doc, f) in docs {
            let f = feed.name_or(f, "")?;
            entry.push((DocAddress::new(segment_ord, doc), f));
        }
    }
    Ok(())
}
