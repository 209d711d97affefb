//! The digest: what a desk editor reads in two minutes for one UTC day (or a `from..=to` period).
//!
//! - Headline: articles archived, feeds that delivered, share from state-affiliated outlets, campaigns that
//!   spiked.
//! - Per campaign: the period's count against its 7- and 28-day baselines, a spike flag ([`spike_test`]), a
//!   28-day chart, the split by affiliation, country and language, the top articles.
//! - Amplification: near-duplicate clusters published by two or more outlets in the period, and the
//!   period's Telegram forwards by origin post (who forwarded it, how long after, seen how often).
//! - Coverage: feeds that were failing or silent, so a reader knows what the numbers miss.
//!
//! The data flow is `load` (index + store → [`DigestData`], plain data) → [`build_digest`] (pure) →
//! [`render`] (md, self-contained html, json). Tests build [`DigestData`] directly, or with
//! [`DigestData::from_articles`], which must agree with [`load`] on the same articles.
//!
//! [`load`] scales with the archive: one pass over the fast columns (publication date, campaign, feed,
//! affiliation, country, language, cluster, forwarded_from) counts everything; only the period's tagged
//! articles, the members of multi-outlet clusters and the forwards of the listed origins (with the
//! archived origins) are read from the doc store.
//!
//! All archived text is escaped on output: titles come from hostile sources.

pub mod chart;
mod load;
mod render;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::model::{Affiliation, Article, Forward};
use crate::status::Health;
use crate::store::FeedState;

pub use load::{load, load_day};
pub use render::render;

/// Articles listed per campaign at most.
pub const TOP_ARTICLES: usize = 10;
/// Days of the long baseline (and of the chart before the period).
pub const BASELINE_DAYS: i64 = 28;
/// Days of the short baseline.
pub const SHORT_BASELINE_DAYS: i64 = 7;
/// A spike needs at least this many articles in the period.
pub const SPIKE_MIN_COUNT: u64 = 5;
/// A spike needs a one-sided Poisson tail probability below this.
pub const SPIKE_P_VALUE: f64 = 0.01;
/// The 28-day daily mean is floored at this, so a campaign with no history needs more than a handful.
pub const BASELINE_FLOOR: f64 = 0.5;
/// The longest period a digest covers.
pub const MAX_PERIOD_DAYS: i64 = 366;
/// Amplification clusters listed at most, and forwarded origins listed at most.
pub const TOP_CLUSTERS: usize = 20;
/// Changed or removed articles listed at most (the rest are counted: "and K more").
pub const TOP_CHANGES: usize = TOP_CLUSTERS;

/// The footnote every rendering carries: the spike rule in words.
pub fn spike_rule() -> String {
    format!(
        "A campaign spikes when the period holds at least {SPIKE_MIN_COUNT} of its articles and a Poisson \
         test says so: with λ = (its mean daily count over the {BASELINE_DAYS} days before the period, at \
         least {BASELINE_FLOOR}) × (days in the period), the probability of seeing at least that many \
         articles by chance, P(X ≥ count), is below {SPIKE_P_VALUE}. Change is count against λ."
    )
}

/// Plain inputs of a digest: counts over the window `from - 28 days ..= to`, the period's candidate
/// articles and clusters, and the feed states. [`load`] reads them from the archive; tests build them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DigestData {
    /// First day of the period (UTC).
    pub from: NaiveDate,
    /// Last day of the period (UTC), inclusive.
    pub to: NaiveDate,
    /// Articles per day in the window (missing days count 0).
    pub daily_total: BTreeMap<NaiveDate, u64>,
    /// Per campaign id, tagged articles per day in the window.
    pub daily_campaign: BTreeMap<String, BTreeMap<NaiveDate, u64>>,
    /// Articles in the period.
    pub total: u64,
    /// Articles in the period per affiliation (`state`, `independent`, `unknown`).
    pub by_affiliation: BTreeMap<String, u64>,
    /// Articles in the period per feed id.
    pub by_feed: BTreeMap<String, u64>,
    /// Per feed id, the newest article dated before the end of the period.
    pub feed_last_article: BTreeMap<String, DateTime<Utc>>,
    /// Per campaign id, the period's split by affiliation, country and language.
    pub splits: BTreeMap<String, Splits>,
    /// Per campaign id, the period's tagged articles (candidates for the top list).
    pub tagged: BTreeMap<String, Vec<Article>>,
    /// Clusters with members from two or more feeds in the period: their members (the period's, plus the
    /// first publisher when it is older).
    pub clusters: Vec<Vec<Article>>,
    /// Telegram posts dated in the period that forward a post named by its URL (`forwarded_from`); [`load`]
    /// may leave out the forwards of origins that cannot make the top [`TOP_CLUSTERS`].
    pub forwards: Vec<Article>,
    /// The archived origins of those forwards (any date), by URL.
    pub forward_origins: BTreeMap<String, Article>,
    /// Feed states from the store, by feed id (empty when there is no store).
    pub feed_states: BTreeMap<String, FeedState>,
    /// Revisited articles with a change, removal or restore that may fall in the period (from the store;
    /// [`build_digest`] keeps those whose times do).
    pub changes: Vec<ArticleChanges>,
}

/// One revisited article as the store keeps it: its revisit row, its kept versions and (when still in
/// the index) the article as it reads now.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleChanges {
    /// Article id.
    pub id: String,
    /// Its revisit row (removal, restore and return times).
    pub state: crate::revisit::RevisitState,
    /// Its kept versions, oldest first (empty when none was kept).
    pub versions: Vec<crate::revisit::StoredVersion>,
    /// The article in the index (its current version), None when it is not there.
    pub article: Option<Article>,
}

/// A campaign's split of the period's articles.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Splits {
    /// Per affiliation.
    pub affiliation: BTreeMap<String, u64>,
    /// Per country (`-` when the outlet has none).
    pub country: BTreeMap<String, u64>,
    /// Per language (`und` when unknown).
    pub lang: BTreeMap<String, u64>,
}

/// Key used in splits for a missing country.
pub const NO_COUNTRY: &str = "-";

impl DigestData {
    /// The same aggregation as [`load`], over articles in memory (any dates: those outside the window are
    /// ignored, except for the feeds' last article and the origins of the period's forwards).
    pub fn from_articles(
        from: NaiveDate,
        to: NaiveDate,
        articles: &[Article],
        feed_states: BTreeMap<String, FeedState>,
    ) -> DigestData {
        let (lo, start, hi) = window(from, to);
        let mut d = DigestData {
            from,
            to,
            feed_states,
            ..Default::default()
        };
        let mut clusters: BTreeMap<&str, Vec<&Article>> = BTreeMap::new();
        for a in articles {
            let t = a.dated_at();
            if t >= hi {
                continue;
            }
            let last = d.feed_last_article.entry(a.feed.clone()).or_insert(t);
            *last = (*last).max(t);
            if t < lo {
                continue;
            }
            let day = t.date_naive();
            *d.daily_total.entry(day).or_default() += 1;
            let campaigns: BTreeSet<&str> = a.campaigns.iter().map(|h| h.id.as_str()).collect();
            for c in &campaigns {
                *d.daily_campaign
                    .entry((*c).to_string())
                    .or_default()
                    .entry(day)
                    .or_default() += 1;
            }
            if t < start {
                continue;
            }
            d.total += 1;
            *d.by_affiliation
                .entry(a.affiliation.as_str().to_string())
                .or_default() += 1;
            *d.by_feed.entry(a.feed.clone()).or_default() += 1;
            for c in &campaigns {
                let s = d.splits.entry((*c).to_string()).or_default();
                *s.affiliation
                    .entry(a.affiliation.as_str().to_string())
                    .or_default() += 1;
                *s.country
                    .entry(a.country.clone().unwrap_or_else(|| NO_COUNTRY.into()))
                    .or_default() += 1;
                *s.lang.entry(a.lang.lang.clone()).or_default() += 1;
                d.tagged
                    .entry((*c).to_string())
                    .or_default()
                    .push(a.clone());
            }
            if let Some(cl) = &a.cluster {
                clusters.entry(cl.as_str()).or_default().push(a);
            }
            if crate::index::forwarded_url(a).is_some() {
                d.forwards.push(a.clone());
            }
        }
        let origins: BTreeSet<&str> = d
            .forwards
            .iter()
            .filter_map(crate::index::forwarded_url)
            .collect();
        for a in articles {
            if origins.contains(a.url.as_str()) {
                d.forward_origins.insert(a.url.clone(), a.clone());
            }
        }
        for (id, mut members) in clusters {
            let feeds: BTreeSet<&str> = members.iter().map(|a| a.feed.as_str()).collect();
            if feeds.len() < 2 {
                continue;
            }
            if !members.iter().any(|a| a.id == id) {
                if let Some(first) = articles.iter().find(|a| a.id == id) {
                    members.push(first);
                }
            }
            d.clusters
                .push(members.into_iter().cloned().collect::<Vec<_>>());
        }
        d
    }

    /// Days in the period.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
}

/// `(window start, period start, period end)` as instants: `[lo, start)` is the baseline, `[start, hi)`
/// the period.
fn window(from: NaiveDate, to: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>, DateTime<Utc>) {
    let start = from.and_time(chrono::NaiveTime::MIN).and_utc();
    let hi = to.and_time(chrono::NaiveTime::MIN).and_utc() + Duration::days(1);
    (start - Duration::days(BASELINE_DAYS), start, hi)
}

/// The digest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    /// The (last) UTC day of the digest; equal to `to`.
    pub date: NaiveDate,
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period (inclusive).
    pub to: NaiveDate,
    /// Days in the period.
    pub days: i64,
    /// Articles archived with a date in the period.
    pub total: usize,
    /// Of which from state-affiliated outlets.
    pub from_state: usize,
    /// `from_state / total` (None when there are no articles).
    pub state_share: Option<f64>,
    /// Feeds in the config.
    pub feeds_configured: usize,
    /// Configured feeds with at least one article in the period.
    pub feeds_delivered: usize,
    /// Ids of the campaigns that spiked.
    pub spiking: Vec<String>,
    /// The spike rule in words.
    pub spike_rule: String,
    /// Per campaign, in config order.
    pub campaigns: Vec<CampaignDigest>,
    /// Near-duplicate clusters across outlets, most outlets first.
    pub amplification: Vec<ClusterDigest>,
    /// The period's Telegram forwards by origin post, most forwarding channels first.
    pub forwards: Vec<ForwardDigest>,
    /// Articles found edited, removed or restored in the period (by revisits).
    pub changes: ChangesDigest,
    /// Feeds failing, unhealthy, silent in the period, or never fetched (`new`).
    pub coverage: Vec<CoverageIssue>,
    /// Per configured feed, in config order (silent feeds count 0), then any other feed in the archive.
    pub feeds: Vec<FeedCount>,
}

/// One campaign's part of the digest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignDigest {
    /// Campaign id.
    pub id: String,
    /// Campaign name.
    pub name: String,
    /// Tagged articles in the period.
    pub count: usize,
    /// Of which from state-affiliated outlets.
    pub from_state: usize,
    /// Mean tagged articles per day over the 7 days before the period.
    pub baseline_7d: f64,
    /// Mean tagged articles per day over the 28 days before the period.
    pub baseline_28d: f64,
    /// λ of the spike test: max(baseline_28d, floor) × days.
    pub expected: f64,
    /// `count / expected - 1`, in percent.
    pub change_pct: f64,
    /// P(X ≥ count) for X ~ Poisson(expected).
    pub p_value: f64,
    /// The spike flag ([`spike_rule`]).
    pub spike: bool,
    /// Daily counts from 28 days before the period to its last day (the chart).
    pub history: Vec<DayCount>,
    /// The period's split by affiliation, country and language.
    pub split: Splits,
    /// The top articles, strongest evidence first.
    pub articles: Vec<DigestArticle>,
}

/// A day's count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DayCount {
    /// UTC day.
    pub date: NaiveDate,
    /// Articles.
    pub count: u64,
}

/// An article as listed in the digest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigestArticle {
    /// Article id.
    pub id: String,
    /// URL.
    pub url: String,
    /// Headline.
    pub title: String,
    /// Feed id.
    pub feed: String,
    /// Outlet name.
    pub source_name: String,
    /// Outlet affiliation.
    pub affiliation: Affiliation,
    /// Outlet country.
    pub country: Option<String>,
    /// Language.
    pub lang: String,
    /// Publication time (RFC 3339, UTC; the fetch time when the article had none).
    pub published: String,
    /// The campaign terms that matched (empty outside a campaign list).
    pub terms: Vec<String>,
}

/// A cluster of near-identical articles from two or more outlets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterDigest {
    /// Cluster id (the first publisher's article id).
    pub id: String,
    /// Distinct feeds in the cluster.
    pub outlets: usize,
    /// The first publisher (possibly before the period).
    pub first: DigestArticle,
    /// The others, earliest first.
    pub copies: Vec<ClusterCopy>,
    /// The first publisher is state-affiliated and at least one copy is not.
    pub state_to_non_state: bool,
}

/// A copy in a cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterCopy {
    /// The copy.
    #[serde(flatten)]
    pub article: DigestArticle,
    /// Minutes after the first publisher.
    pub delay_minutes: i64,
}

/// A post forwarded in the period, with its forwards.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForwardDigest {
    /// The original post.
    pub origin: ForwardOrigin,
    /// Distinct feeds (channels) that forwarded it in the period.
    pub channels: usize,
    /// The forwards dated in the period, earliest first.
    pub forwards: Vec<ForwardCopy>,
    /// The origin is an archived state-affiliated post and at least one forwarding channel is not state.
    pub state_to_non_state: bool,
}

/// The post a forward names: archived, or known only by what the forwards say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForwardOrigin {
    /// The original post, `https://t.me/<channel>/<id>`.
    pub url: String,
    /// Outlet name when archived, else the name the forward shows.
    pub name: String,
    /// The origin channel's username, when known.
    pub channel: Option<String>,
    /// The archived post (None when its channel is not monitored).
    pub article: Option<DigestArticle>,
    /// Its view count when read (archived).
    pub views: Option<u64>,
}

/// A forward of an origin.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForwardCopy {
    /// The forwarding post (its feed, outlet name and affiliation are the forwarding channel's).
    #[serde(flatten)]
    pub article: DigestArticle,
    /// The forwarding channel's username.
    pub channel: Option<String>,
    /// The forward's view count when read.
    pub views: Option<u64>,
    /// Minutes after the origin, when the origin is archived.
    pub delay_minutes: Option<i64>,
}

/// The "Changed and removed" section: what revisits found in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangesDigest {
    /// Whether any configured feed is revisited (`[revisit]`); when not, nothing can be listed.
    pub tracked: bool,
    /// Articles with a change, removal or restore found in the period.
    pub count: usize,
    /// The first [`TOP_CHANGES`] of them: state outlets first, then independent, then unknown; then by
    /// the time of their last change in the period.
    pub articles: Vec<ChangeDigest>,
}

/// An article edited, removed or restored in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeDigest {
    /// The article (its current title; `published` is its publication time).
    #[serde(flatten)]
    pub article: DigestArticle,
    /// When its last change in the period was found (RFC 3339, UTC).
    pub changed_at: String,
    /// What changed, in one line ("title, text changed; lost campaign x", "removed (HTTP 404)").
    pub summary: String,
    /// The fields that differ between the version before the period's first edit and the version after
    /// its last (`title`, `text`, `published`, `byline`).
    pub fields: Vec<String>,
    /// Campaigns the article's text gained over the period's edits.
    pub campaigns_gained: Vec<String>,
    /// Campaigns it lost.
    pub campaigns_lost: Vec<String>,
    /// Versions the page showed in the period, in order (new ones and returns to earlier ones).
    pub versions_shown: Vec<u32>,
    /// Why it was judged gone, when its removal was found in the period.
    pub removed: Option<String>,
    /// Whether it came back after a removal in the period.
    pub restored: bool,
}

/// A feed the numbers may miss.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoverageIssue {
    /// Feed id.
    pub feed: String,
    /// Outlet name.
    pub name: String,
    /// The feed's health in the one vocabulary of [`crate::status`] when it is not `ok`: `failing` or
    /// `unhealthy` (its last fetches failed), `new` (never fetched, no article); `silent` for a healthy
    /// feed with no article in the period.
    pub status: String,
    /// Since when: the last successful fetch (failing) or the last article (silent); None when never.
    pub since: Option<String>,
    /// Failures in a row (failing).
    pub consecutive_failures: u32,
    /// The last error (failing).
    pub last_error: Option<String>,
    /// The newest article of the feed before the end of the period.
    pub last_article: Option<String>,
}

/// Article count of one feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedCount {
    /// Feed id.
    pub id: String,
    /// Outlet name.
    pub name: String,
    /// Articles in the period.
    pub count: usize,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// One-sided Poisson tail P(X ≥ k) for X ~ Poisson(lambda), summed in log space (no underflow for large
/// lambda).
pub fn poisson_tail(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    // log P(X = k) = -λ + k ln λ - ln k!
    let ln_fact: f64 = (1..=k).map(|i| (i as f64).ln()).sum();
    let mut ln_term = -lambda + k as f64 * lambda.ln() - ln_fact;
    let mut sum = 0.0f64;
    let mut i = k;
    // Terms fall once i > λ; stop when they no longer matter.
    let limit = k + 1000 + (10.0 * lambda) as u64;
    while i < limit {
        let term = ln_term.exp();
        sum += term;
        if i as f64 > lambda && term < sum * 1e-17 {
            break;
        }
        i += 1;
        ln_term += lambda.ln() - (i as f64).ln();
    }
    sum.min(1.0)
}

/// The spike test: `(expected, p_value, spike)` for `count` articles in `days` days against a 28-day
/// daily mean `baseline_28d` ([`spike_rule`]).
pub fn spike_test(count: u64, baseline_28d: f64, days: i64) -> (f64, f64, bool) {
    let expected = baseline_28d.max(BASELINE_FLOOR) * days.max(1) as f64;
    let p = poisson_tail(count, expected);
    (expected, p, count >= SPIKE_MIN_COUNT && p < SPIKE_P_VALUE)
}

fn listed(a: &Article, campaign: Option<&str>) -> DigestArticle {
    DigestArticle {
        id: a.id.clone(),
        url: a.url.clone(),
        title: a.title.clone(),
        feed: a.feed.clone(),
        source_name: a.source_name.clone(),
        affiliation: a.affiliation,
        country: a.country.clone(),
        lang: a.lang.lang.clone(),
        published: rfc3339(a.dated_at()),
        terms: campaign.map_or_else(Vec::new, |c| {
            a.campaigns
                .iter()
                .filter(|h| h.id == c)
                .flat_map(|h| h.terms.iter().map(|t| t.term.clone()))
                .collect()
        }),
    }
}

/// Builds the digest from plain data (pure).
pub fn build_digest(data: &DigestData, config: &Config) -> Digest {
    let days = data.days();
    let from = data.from;
    let campaigns: Vec<CampaignDigest> = config
        .campaigns
        .iter()
        .map(|c| {
            let daily = data.daily_campaign.get(&c.id);
            let on = |d: NaiveDate| daily.and_then(|m| m.get(&d)).copied().unwrap_or(0);
            let mean_before = |n: i64| -> f64 {
                (1..=n).map(|i| on(from - Duration::days(i))).sum::<u64>() as f64 / n as f64
            };
            let count: u64 = (0..days).map(|i| on(from + Duration::days(i))).sum();
            let baseline_28d = mean_before(BASELINE_DAYS);
            let (expected, p_value, spike) = spike_test(count, baseline_28d, days);
            let count = count as usize;
            let history = (-BASELINE_DAYS..days)
                .map(|i| {
                    let date = from + Duration::days(i);
                    DayCount {
                        date,
                        count: on(date),
                    }
                })
                .collect();
            let split = data.splits.get(&c.id).cloned().unwrap_or_default();
            let mut tagged: Vec<(&Article, f64)> = data
                .tagged
                .get(&c.id)
                .map(|v| v.as_slice())
                .unwrap_or_default()
                .iter()
                .filter_map(|a| {
                    a.campaigns
                        .iter()
                        .find(|h| h.id == c.id)
                        .map(|h| (a, h.score))
                })
                .collect();
            // Strongest evidence first, then newest, then URL for a stable order.
            tagged.sort_by(|(a, sa), (b, sb)| {
                sb.partial_cmp(sa)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(b.dated_at().cmp(&a.dated_at()))
                    .then(a.url.cmp(&b.url))
            });
            CampaignDigest {
                id: c.id.clone(),
                name: c.name.clone(),
                count,
                from_state: split.affiliation.get("state").copied().unwrap_or(0) as usize,
                baseline_7d: mean_before(SHORT_BASELINE_DAYS),
                baseline_28d,
                expected,
                change_pct: (count as f64 / expected - 1.0) * 100.0,
                p_value,
                spike,
                history,
                split,
                articles: tagged
                    .iter()
                    .take(TOP_ARTICLES)
                    .map(|(a, _)| listed(a, Some(&c.id)))
                    .collect(),
            }
        })
        .collect();

    let mut amplification: Vec<ClusterDigest> = data
        .clusters
        .iter()
        .filter_map(|members| {
            let mut members: Vec<&Article> = members.iter().collect();
            members.sort_by(|a, b| a.dated_at().cmp(&b.dated_at()).then(a.id.cmp(&b.id)));
            members.dedup_by(|a, b| a.id == b.id);
            let first = *members.first()?;
            let outlets = members
                .iter()
                .map(|a| a.feed.as_str())
                .collect::<BTreeSet<_>>()
                .len();
            if outlets < 2 {
                return None;
            }
            let copies: Vec<ClusterCopy> = members[1..]
                .iter()
                .map(|a| ClusterCopy {
                    article: listed(a, None),
                    delay_minutes: (a.dated_at() - first.dated_at()).num_minutes(),
                })
                .collect();
            Some(ClusterDigest {
                id: first.cluster.clone().unwrap_or_else(|| first.id.clone()),
                outlets,
                state_to_non_state: first.affiliation == Affiliation::State
                    && copies
                        .iter()
                        .any(|c| c.article.affiliation != Affiliation::State),
                first: listed(first, None),
                copies,
            })
        })
        .collect();
    amplification.sort_by(|a, b| {
        b.outlets
            .cmp(&a.outlets)
            .then(a.first.published.cmp(&b.first.published))
            .then(a.id.cmp(&b.id))
    });
    amplification.truncate(TOP_CLUSTERS);
    let forwards = forward_digests(data);
    let changes = change_digests(data, config);

    let mut feeds: Vec<FeedCount> = config
        .feeds
        .iter()
        .map(|f| FeedCount {
            id: f.id.clone(),
            name: f.name.clone(),
            count: data.by_feed.get(&f.id).copied().unwrap_or(0) as usize,
        })
        .collect();
    for (id, n) in &data.by_feed {
        if config.feed(id).is_none() {
            let name = data
                .tagged
                .values()
                .flatten()
                .find(|a| &a.feed == id)
                .map_or_else(|| id.clone(), |a| a.source_name.clone());
            feeds.push(FeedCount {
                id: id.clone(),
                name,
                count: *n as usize,
            });
        }
    }

    let coverage = config
        .feeds
        .iter()
        .filter_map(|f| {
            let last_article = data.feed_last_article.get(&f.id).copied().map(rfc3339);
            let delivered = data.by_feed.get(&f.id).copied().unwrap_or(0);
            let state = data.feed_states.get(&f.id);
            let health = state.map_or(Health::New, crate::status::health);
            let (status, since) = match health {
                Health::Failing | Health::Unhealthy => (
                    health.as_str(),
                    state.and_then(|s| s.last_success).map(rfc3339),
                ),
                _ if delivered > 0 => return None,
                Health::New if last_article.is_none() => (health.as_str(), None),
                _ => ("silent", last_article.clone()),
            };
            Some(CoverageIssue {
                feed: f.id.clone(),
                name: f.name.clone(),
                status: status.into(),
                since,
                consecutive_failures: state.map_or(0, |s| s.consecutive_failures),
                last_error: state
                    .filter(|s| s.consecutive_failures > 0)
                    .and_then(|s| s.last_error.clone()),
                last_article,
            })
        })
        .collect();

    let from_state = data.by_affiliation.get("state").copied().unwrap_or(0) as usize;
    Digest {
        date: data.to,
        from: data.from,
        to: data.to,
        days,
        total: data.total as usize,
        from_state,
        state_share: (data.total > 0).then(|| from_state as f64 / data.total as f64),
        feeds_configured: config.feeds.len(),
        feeds_delivered: config
            .feeds
            .iter()
            .filter(|f| data.by_feed.get(&f.id).is_some_and(|n| *n > 0))
            .count(),
        spiking: campaigns
            .iter()
            .filter(|c| c.spike)
            .map(|c| c.id.clone())
            .collect(),
        spike_rule: spike_rule(),
        campaigns,
        amplification,
        forwards,
        changes,
        coverage,
        feeds,
    }
}

/// The period's forwards grouped by origin: most forwarding channels first, then the origin's time (the
/// first forward's when the origin is not archived), at most [`TOP_CLUSTERS`].
fn forward_digests(data: &DigestData) -> Vec<ForwardDigest> {
    let mut by_origin: BTreeMap<&str, Vec<&Article>> = BTreeMap::new();
    for a in &data.forwards {
        if let Some(url) = crate::index::forwarded_url(a) {
            by_origin.entry(url).or_default().push(a);
        }
    }
    let mut out: Vec<(DateTime<Utc>, ForwardDigest)> = by_origin
        .into_iter()
        .filter_map(|(url, mut forwards)| {
            forwards.sort_by(|a, b| a.dated_at().cmp(&b.dated_at()).then(a.id.cmp(&b.id)));
            forwards.dedup_by(|a, b| a.id == b.id);
            let first = *forwards.first()?;
            let archived = data.forward_origins.get(url);
            let said: Option<&Forward> = first.post.as_ref()?.forwarded_from.as_ref();
            let origin = ForwardOrigin {
                url: url.to_string(),
                name: archived.map_or_else(
                    || said.map_or_else(String::new, |f| f.name.clone()),
                    |o| o.source_name.clone(),
                ),
                channel: archived
                    .and_then(|o| o.post.as_ref().map(|p| p.channel.clone()))
                    .or_else(|| said.and_then(|f| f.channel.clone())),
                article: archived.map(|o| listed(o, None)),
                views: archived.and_then(|o| o.post.as_ref()?.views),
            };
            let copies: Vec<ForwardCopy> = forwards
                .iter()
                .map(|a| ForwardCopy {
                    article: listed(a, None),
                    channel: a.post.as_ref().map(|p| p.channel.clone()),
                    views: a.post.as_ref().and_then(|p| p.views),
                    delay_minutes: archived.map(|o| (a.dated_at() - o.dated_at()).num_minutes()),
                })
                .collect();
            let channels = forwards
                .iter()
                .map(|a| a.feed.as_str())
                .collect::<BTreeSet<_>>()
                .len();
            let when = archived.map_or_else(|| first.dated_at(), |o| o.dated_at());
            Some((
                when,
                ForwardDigest {
                    state_to_non_state: archived
                        .is_some_and(|o| o.affiliation == Affiliation::State)
                        && forwards.iter().any(|a| a.affiliation != Affiliation::State),
                    origin,
                    channels,
                    forwards: copies,
                },
            ))
        })
        .collect();
    out.sort_by(|(ta, a), (tb, b)| {
        b.channels
            .cmp(&a.channels)
            .then(ta.cmp(tb))
            .then(a.origin.url.cmp(&b.origin.url))
    });
    out.truncate(TOP_CLUSTERS);
    out.into_iter().map(|(_, f)| f).collect()
}

/// What one article's revisits found in `[start, hi)`, None when nothing.
fn article_change(
    c: &ArticleChanges,
    config: &Config,
    start: DateTime<Utc>,
    hi: DateTime<Utc>,
) -> Option<(DateTime<Utc>, ChangeDigest)> {
    enum Event {
        Shows(u32),
        Removed,
        Restored,
    }
    let within = |t: DateTime<Utc>| start <= t && t < hi;
    let mut timeline: Vec<(DateTime<Utc>, Event)> = c
        .versions
        .iter()
        .filter(|v| v.number > 1)
        .map(|v| (v.fetched_at, Event::Shows(v.number)))
        .chain(c.state.returns.iter().map(|(t, k)| (*t, Event::Shows(*k))))
        .chain(c.state.removed_at.map(|t| (t, Event::Removed)))
        .chain(c.state.restored_at.map(|t| (t, Event::Restored)))
        .collect();
    timeline.sort_by_key(|(t, _)| *t);
    let (mut shown, mut before, mut last) = (1u32, None, None);
    let mut versions_shown = Vec::new();
    let (mut removed, mut restored) = (None, false);
    let mut tail: Vec<String> = Vec::new();
    for (t, event) in &timeline {
        let in_period = within(*t);
        match event {
            Event::Shows(k) => {
                if in_period {
                    before.get_or_insert(shown);
                    versions_shown.push(*k);
                }
                shown = *k;
            }
            Event::Removed if in_period => {
                let why = c.state.removed_why.clone().unwrap_or_else(|| "gone".into());
                tail.push(format!("removed ({why})"));
                removed = Some(why);
            }
            Event::Restored if in_period => {
                tail.push("restored".into());
                restored = true;
            }
            _ => {}
        }
        if in_period {
            last = Some(*t);
        }
    }
    let last = last?;
    let version = |n: u32| c.versions.iter().find(|v| v.number == n);
    let mut parts = Vec::new();
    let (mut fields, mut gained, mut lost) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(from) = before {
        let to = *versions_shown.last().unwrap_or(&from);
        match (version(from), version(to)) {
            _ if from == to => parts.push(format!("edited and back to version {to}")),
            (Some(a), Some(b)) => {
                fields = b
                    .fields
                    .changed_fields(&a.fields)
                    .into_iter()
                    .map(String::from)
                    .collect();
                let ids = |v: &crate::revisit::StoredVersion| -> BTreeSet<String> {
                    v.campaigns.iter().map(|h| h.id.clone()).collect()
                };
                let (old, new) = (ids(a), ids(b));
                gained = new.difference(&old).cloned().collect();
                lost = old.difference(&new).cloned().collect();
                parts.push(if fields.is_empty() {
                    "edited".to_string()
                } else {
                    format!("{} changed", fields.join(", "))
                });
                parts.extend(lost.iter().map(|c| format!("lost campaign {c}")));
                parts.extend(gained.iter().map(|c| format!("gained campaign {c}")));
            }
            _ => parts.push(format!("edited (now version {to})")),
        }
    }
    parts.extend(tail);
    let article = match &c.article {
        Some(a) => listed(a, None),
        None => {
            let spec = config.feed(&c.state.feed);
            let title = c
                .versions
                .iter()
                .find(|v| v.number == shown)
                .map(|v| v.fields.title.clone())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| c.state.url.clone());
            DigestArticle {
                id: c.id.clone(),
                url: c.state.url.clone(),
                title,
                feed: c.state.feed.clone(),
                source_name: spec.map_or_else(|| c.state.feed.clone(), |f| f.name.clone()),
                affiliation: spec.map_or(Affiliation::Unknown, |f| f.affiliation),
                country: spec.and_then(|f| f.country.clone()),
                lang: "und".into(),
                published: rfc3339(c.state.first_archived),
                terms: Vec::new(),
            }
        }
    };
    Some((
        last,
        ChangeDigest {
            article,
            changed_at: rfc3339(last),
            summary: parts.join("; "),
            fields,
            campaigns_gained: gained,
            campaigns_lost: lost,
            versions_shown,
            removed,
            restored,
        },
    ))
}

/// The period's edits, removals and restores: state outlets first, then independent, then unknown, each
/// by the time of the last change in the period; at most [`TOP_CHANGES`] listed, all counted.
fn change_digests(data: &DigestData, config: &Config) -> ChangesDigest {
    let (_, start, hi) = window(data.from, data.to);
    let rank = |a: Affiliation| match a {
        Affiliation::State => 0,
        Affiliation::Independent => 1,
        Affiliation::Unknown => 2,
    };
    let mut found: Vec<(DateTime<Utc>, ChangeDigest)> = data
        .changes
        .iter()
        .filter_map(|c| article_change(c, config, start, hi))
        .collect();
    found.sort_by(|(ta, a), (tb, b)| {
        rank(a.article.affiliation)
            .cmp(&rank(b.article.affiliation))
            .then(ta.cmp(tb))
            .then(a.article.url.cmp(&b.article.url))
    });
    let count = found.len();
    found.truncate(TOP_CHANGES);
    ChangesDigest {
        tracked: !data.changes.is_empty() || config.feeds.iter().any(|f| config.revisit.covers(f)),
        count,
        articles: found.into_iter().map(|(_, c)| c).collect(),
    }
}

/// The digest of one day from that day's articles alone (no history, no store): the original entry point,
/// kept for callers that hold articles in memory.
pub fn build(date: NaiveDate, articles: &[Article], config: &Config) -> Digest {
    build_digest(
        &DigestData::from_articles(date, date, articles, BTreeMap::new()),
        config,
    )
}

/// Output formats of the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestFormat {
    /// Markdown for chat and email.
    Md,
    /// One self-contained HTML file.
    Html,
    /// Every number, for other tools.
    Json,
}

impl DigestFormat {
    /// Every format.
    pub const ALL: [DigestFormat; 3] = [DigestFormat::Md, DigestFormat::Html, DigestFormat::Json];

    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            DigestFormat::Md => "md",
            DigestFormat::Html => "html",
            DigestFormat::Json => "json",
        }
    }
}

/// The file stem of a digest: `YYYY-MM-DD` for a day, `FROM_TO` for a period.
pub fn file_stem(from: NaiveDate, to: NaiveDate) -> String {
    if from == to {
        from.to_string()
    } else {
        format!("{from}_{to}")
    }
}

/// Writes the digest in each format into `dir` (created if needed); returns the paths written.
pub fn write_files(
    d: &Digest,
    formats: &[DigestFormat],
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stem = file_stem(d.from, d.to);
    let mut written = Vec::new();
    for f in formats {
        let path = dir.join(format!("{stem}.{}", f.extension()));
        // Write beside, then rename: a reader never sees half a digest.
        let tmp = dir.join(format!(".{stem}.{}.tmp", f.extension()));
        std::fs::write(&tmp, render(d, *f))
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Why a digest period is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// `from` after `to`.
    #[error("--from {from} is after --to {to}")]
    Reversed {
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
    },
    /// Before 1970 or after 9999.
    #[error("{from}..{to} is outside the years 1970 to 9999")]
    OutOfRange {
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
    },
    /// Longer than [`MAX_PERIOD_DAYS`].
    #[error("{from}..{to} is {days} days; a digest covers at most {MAX_PERIOD_DAYS}")]
    TooLong {
        /// First day.
        from: NaiveDate,
        /// Last day.
        to: NaiveDate,
        /// Days in the period.
        days: i64,
    },
}

/// Checks a digest period: `from <= to`, at most [`MAX_PERIOD_DAYS`], years 1970..=9999.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> Result<(), PeriodError> {
    use chrono::Datelike;
    if from > to {
        return Err(PeriodError::Reversed { from, to });
    }
    if from.year() < 1970 || to.year() > 9999 {
        return Err(PeriodError::OutOfRange { from, to });
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_PERIOD_DAYS {
        return Err(PeriodError::TooLong { from, to, days });
    }
    Ok(())
}

/// The days the daemon still owes a digest for at `now`: every complete UTC day after `last_written`, at
/// most the `max_days` most recent, oldest first. A day counts as complete [`DIGEST_GRACE`] after its
/// midnight, so the first pass after midnight has archived its late articles.
pub fn due_days(
    last_written: Option<NaiveDate>,
    now: DateTime<Utc>,
    max_days: i64,
) -> Vec<NaiveDate> {
    let yesterday = (now - DIGEST_GRACE).date_naive() - Duration::days(1);
    let oldest = yesterday - Duration::days(max_days.max(1) - 1);
    let start = last_written.map_or(yesterday, |l| (l + Duration::days(1)).max(oldest));
    start.iter_days().take_while(|d| *d <= yesterday).collect()
}

/// How long after midnight UTC the daemon waits before writing yesterday's digest.
pub const DIGEST_GRACE: Duration = Duration::minutes(5);

/// Days the daemon catches up at most after a restart.
pub const CATCH_UP_DAYS: i64 = 7;

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn post(
        url: &str,
        feed: &str,
        aff: Affiliation,
        t: DateTime<Utc>,
        origin: Option<&str>,
    ) -> Article {
        Article {
            id: format!("id-{url}"),
            url: url.into(),
            final_url: url.into(),
            feed: feed.into(),
            source_name: feed.to_uppercase(),
            affiliation: aff,
            country: None,
            lang: crate::model::LangInfo {
                lang: "en".into(),
                script: None,
                confidence: 1.0,
                reliable: true,
            },
            title: String::new(),
            text: String::new(),
            description: None,
            authors: vec![],
            published: Some(t),
            modified: None,
            fetched_at: t,
            canonical_url: None,
            site_name: None,
            image: None,
            section: None,
            tags: vec![],
            campaigns: vec![],
            http_status: 0,
            text_source: "feed".into(),
            cluster: None,
            post: Some(crate::model::Post {
                channel: feed.into(),
                views: None,
                forwarded_from: origin.map(|u| Forward {
                    name: "origin".into(),
                    channel: None,
                    url: Some(u.into()),
                }),
            }),
            revision: None,
        }
    }

    #[test]
    fn forwards_by_channels_then_time_deduplicated_and_capped() {
        let t0 = DateTime::parse_from_rfc3339("2026-11-27T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut data = DigestData::default();
        // 25 origins (not archived) forwarded once each, the later ones first in the data.
        for i in (0..25).rev() {
            let t = t0 + Duration::minutes(i);
            data.forwards.push(post(
                &format!("f{i}"),
                "c",
                Affiliation::Independent,
                t,
                Some(&format!("o{i}")),
            ));
        }
        // An archived state origin forwarded by two channels, one forward listed twice; a state origin
        // forwarded by a state channel only.
        let origin = post("s", "s", Affiliation::State, t0 + Duration::hours(5), None);
        data.forward_origins.insert("s".into(), origin);
        let copy = post(
            "x1",
            "x",
            Affiliation::Unknown,
            t0 + Duration::hours(6),
            Some("s"),
        );
        data.forwards.extend([copy.clone(), copy]);
        data.forwards.push(post(
            "y1",
            "y",
            Affiliation::State,
            t0 + Duration::hours(7),
            Some("s"),
        ));
        data.forward_origins.insert(
            "s2".into(),
            post("s2", "s", Affiliation::State, t0 - Duration::hours(1), None),
        );
        data.forwards
            .push(post("y2", "y", Affiliation::State, t0, Some("s2")));

        let out = forward_digests(&data);
        assert_eq!(out.len(), TOP_CLUSTERS);
        assert_eq!((out[0].origin.url.as_str(), out[0].channels), ("s", 2));
        assert_eq!(
            out[0].forwards.len(),
            2,
            "the forward listed twice counts once"
        );
        assert_eq!(out[0].forwards[0].delay_minutes, Some(60));
        assert!(out[0].state_to_non_state);
        // Then one channel each, by the origin's time (the archived one's, else the first forward's).
        let rest: Vec<&str> = out[1..4].iter().map(|f| f.origin.url.as_str()).collect();
        assert_eq!(rest, ["s2", "o0", "o1"]);
        assert!(!out[1].state_to_non_state, "state to state");
        assert_eq!(out[2].forwards[0].delay_minutes, None);
        assert_eq!(out[2].origin.name, "origin");
        assert_eq!(out[19].origin.url, "o17");
    }

    #[test]
    fn poisson_tail_known_values() {
        // P(X >= 1 | 1) = 1 - e^-1
        assert!((poisson_tail(1, 1.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        // P(X >= 3 | 0.5) = 1 - e^-0.5 (1 + 0.5 + 0.125)
        let p = 1.0 - (-0.5f64).exp() * 1.625;
        assert!((poisson_tail(3, 0.5) - p).abs() < 1e-12);
        assert_eq!(poisson_tail(0, 3.0), 1.0);
        // Large lambda does not underflow: the median is near lambda.
        let p = poisson_tail(100_000, 100_000.0);
        assert!(p > 0.4 && p < 0.6, "{p}");
        assert!(poisson_tail(130, 100.0) < 0.01);
    }

    #[test]
    fn spike_needs_count_and_significance() {
        // No history: the floor makes λ = 0.5; 4 articles are significant but below the minimum count.
        assert!(!spike_test(4, 0.0, 1).2);
        assert!(spike_test(5, 0.0, 1).2);
        // 10 a day on average: 15 is not a spike (p ≈ 0.08), 20 is (p ≈ 0.003).
        let (_, p, s) = spike_test(15, 10.0, 1);
        assert!(!s && p > 0.05, "{p}");
        let (_, p, s) = spike_test(20, 10.0, 1);
        assert!(s && p < 0.01, "{p}");
        // A week is compared with 7 × the daily mean.
        assert!(!spike_test(75, 10.0, 7).2);
    }

    #[test]
    fn due_days_catch_up_once_and_bounded() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // Before the grace: yesterday is still the day before.
        assert!(due_days(Some(day("2026-11-26")), at("2026-11-28T00:02:00Z"), 7).is_empty());
        assert_eq!(
            due_days(Some(day("2026-11-26")), at("2026-11-28T00:10:00Z"), 7),
            vec![day("2026-11-27")]
        );
        // Written already: nothing.
        assert!(due_days(Some(day("2026-11-27")), at("2026-11-28T13:00:00Z"), 7).is_empty());
        // First start: only yesterday.
        assert_eq!(
            due_days(None, at("2026-11-28T13:00:00Z"), 7),
            vec![day("2026-11-27")]
        );
        // Down for three days: the three missed days, oldest first.
        assert_eq!(
            due_days(Some(day("2026-11-24")), at("2026-11-28T13:00:00Z"), 7),
            vec![day("2026-11-25"), day("2026-11-26"), day("2026-11-27")]
        );
        // Down for a month: the last 7 only.
        let days = due_days(Some(day("2026-10-01")), at("2026-11-28T13:00:00Z"), 7);
        assert_eq!(days.len(), 7);
        assert_eq!(days[0], day("2026-11-21"));
        assert_eq!(days[6], day("2026-11-27"));
    }

    #[test]
    fn changes_are_bounded_with_the_rest_counted() {
        let config = crate::config::parse(
            "[[feeds]]\nid = \"s\"\nurl = \"http://s.example/rss\"\nname = \"S\"\naffiliation = \"state\"\n",
            std::path::Path::new("feeds.toml"),
        )
        .unwrap();
        let t0 = DateTime::parse_from_rfc3339("2026-11-27T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut data = DigestData {
            from: day("2026-11-27"),
            to: day("2026-11-27"),
            ..Default::default()
        };
        for i in 0..(TOP_CHANGES as i64 + 5) {
            let url = format!("http://s.example/{i}");
            let mut state = crate::revisit::RevisitState::new(&url, "s", t0, None, None);
            state.removed_at = Some(t0 + Duration::minutes(i));
            state.removed_why = Some("HTTP 410".into());
            data.changes.push(ArticleChanges {
                id: format!("id{i}"),
                state,
                versions: vec![],
                article: None,
            });
        }
        let d = build_digest(&data, &config);
        assert_eq!(d.changes.count, TOP_CHANGES + 5);
        assert_eq!(d.changes.articles.len(), TOP_CHANGES);
        assert_eq!(d.changes.articles[0].article.url, "http://s.example/0");
        assert_eq!(d.changes.articles[0].summary, "removed (HTTP 410)");
        assert_eq!(
            d.changes.articles[0].article.affiliation,
            Affiliation::State
        );
        let md = render(&d, DigestFormat::Md);
        assert!(md.contains("- … and 5 more\n\n## Coverage"), "{md}");
        assert!(render(&d, DigestFormat::Html).contains("… and 5 more</p>\n<h2 id=\"coverage\">"));
        // No revisits configured and none stored: the section says edits are not tracked.
        let mut off = config.clone();
        off.revisit.budget_per_pass = 0;
        let empty = build_digest(
            &DigestData {
                changes: vec![],
                ..data
            },
            &off,
        );
        assert!(!empty.changes.tracked);
        assert!(render(&empty, DigestFormat::Md).contains("Revisits are off"));
    }
}
