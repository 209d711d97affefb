//! One pass of the pipeline: fetch every feed, fetch the pages of entries not yet archived, extract,
//! detect language, tag, index, commit, then record feed state, then revisit the archived articles that
//! are due ([`revisit_pass`], `revisit.rs`). [`ingest_pass`] is the only function that runs a pass; the
//! `ingest` command and the daemon (`run`, for the feeds that are due) call it.
//!
//! Crash safety: nothing is recorded as done before the index commit that holds it. New pages are archived
//! in batches of [`COMMIT_BATCH`], each ending in a commit; then the pending entries (pages that failed
//! transiently, [`crate::store::PendingEntry`]) and feed validators (ETag, Last-Modified, body hash) are
//! stored. Validators are kept even when a page failed: the pending entry carries what the next pass needs,
//! so the feed can answer 304 while each pass takes its due pending entries (backoff and last attempt in
//! [`schedule`]) through the same archiving path. Only a feed with more new entries than a pass takes is
//! read in full again. The archive (the committed index) tells which entries are already in.
//!
//! Segments: the [`Pipeline`] keeps its index writer from one pass to the next, so the merges each commit
//! schedules run in the background between passes (the daemon's index stays at a bounded number of
//! segments); [`Pipeline::finish_merges`] waits for them before a process exits.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Duration, Utc};
use futures_util::stream::{self, StreamExt};
use sha2::{Digest as _, Sha256};
use tracing::{info, warn};

use crate::charset;
use crate::cluster::{self, ClusterIndex, Signature};
use crate::config::Config;
use crate::extract::{self, ExtractOptions};
use crate::fetch::{FetchError, Fetched, Fetcher, Origin, Validators};
use crate::index::{Archive, ArchiveWriter};
use crate::lang;
use crate::model::{Article, Entry, Extracted, FeedSpec, Page};
use crate::schedule;
use crate::source;
use crate::store::{FeedState, PendingEntry, Store};
use crate::tag::Tagger;

mod backfill;
mod read;
mod revisit;

pub use backfill::{backfill, BackfillReport, BackfillRequest};
pub use revisit::{revisit_pass, revisit_schedule, RevisitReport};

/// Everything a pass needs, built once per process.
pub struct Pipeline {
    /// The checked config.
    pub config: Config,
    /// The archive.
    pub archive: Archive,
    /// The state store.
    pub store: Store,
    /// The HTTP client.
    pub fetcher: Fetcher,
    /// Compiled campaign matcher.
    pub tagger: Arc<Tagger>,
    /// Near-duplicate index of every archived article, rebuilt from the store at open.
    pub clusters: std::sync::Mutex<ClusterIndex>,
    /// The one-writer lock, taken before the archive and store are opened.
    pub writer_lock: crate::index::WriterLock,
    /// The archive's writer, kept from one pass to the next so the segment merges its commits schedule
    /// run in the background between passes (a writer dropped after its commit abandons them). Taken
    /// out for a pass's archiving and put back after its last commit; `None` before the first pass,
    /// after [`Pipeline::finish_merges`], and after a pass that failed (its writer is dropped with
    /// whatever it had not committed).
    writer: std::sync::Mutex<Option<ArchiveWriter>>,
    /// The fetches made through [`Pipeline::fetch`] since a pass last took them (into its report).
    fetches: std::sync::Mutex<Vec<FetchRecord>>,
    /// Notified when a pass enqueued alert messages (the daemon's delivery loop waits on it).
    pub alerts_enqueued: tokio::sync::Notify,
    /// Seconds the alerts' clock runs ahead of the system's: 0, unless a test of hourly and daily
    /// batching moved it ([`Pipeline::advance_alert_clock`]).
    alert_clock_ahead: std::sync::atomic::AtomicI64,
}

impl Pipeline {
    /// Opens the archive and store in the config's index folder and builds the fetcher and tagger.
    pub fn open(config: Config) -> anyhow::Result<Pipeline> {
        let writer_lock = crate::index::WriterLock::acquire(&config.index_path)?;
        let archive = Archive::open_or_create(&config.index_path)?;
        let store = Store::open(&config.index_path)?;
        // The store's validators describe one index: after the index was lost (or on the first open of
        // a store from before identities) they are dropped, so every feed is read in full again.
        let identity = archive.identity()?;
        if let Some(untied) = store.tie_to_index(&identity)? {
            if untied.dropped_anything() {
                let why = match &untied.previous {
                    Some(_) => format!(
                        "was written for another index than {} (the index was lost and created anew?)",
                        config.index_path.join("tantivy").display()
                    ),
                    None => "names no index (written by an older mediawatch)".to_string(),
                };
                warn!(
                    "the state store {} {why}: dropped the validators of {} feeds, {} near-duplicate \
                     signatures and {} backfill positions, so every feed is read in full and archived again",
                    config.index_path.join("state.redb").display(),
                    untied.feed_validators,
                    untied.signatures,
                    untied.backfill_positions,
                );
            }
        }
        let trusted: Vec<url::Url> = config.feeds.iter().map(|f| f.url.clone()).collect();
        let fetcher = Fetcher::new(&config.fetch, &trusted)?;
        let tagger = Arc::new(Tagger::new(&config.campaigns)?);
        crate::alert::eval::init_marks(&store, &config.alerts)?;
        let mut clusters = ClusterIndex::new();
        // Oldest first, so every cluster's id is its first publisher's.
        for (id, _, bytes) in store.signatures()? {
            if let Some(sig) = Signature::from_bytes(&bytes) {
                clusters.insert(&id, sig);
            }
        }
        Ok(Pipeline {
            config,
            archive,
            store,
            fetcher,
            tagger,
            clusters: std::sync::Mutex::new(clusters),
            writer_lock,
            writer: std::sync::Mutex::new(None),
            fetches: std::sync::Mutex::new(Vec::new()),
            alerts_enqueued: tokio::sync::Notify::new(),
            alert_clock_ahead: std::sync::atomic::AtomicI64::new(0),
        })
    }

    /// The instant the alerts are evaluated at: now, plus what [`Pipeline::advance_alert_clock`] added.
    pub fn alert_clock(&self) -> DateTime<Utc> {
        let ahead = self
            .alert_clock_ahead
            .load(std::sync::atomic::Ordering::Relaxed);
        Utc::now() + Duration::seconds(ahead)
    }

    /// Moves the alerts' clock ahead by `by` (tests: passes an hour or a day apart without waiting).
    pub fn advance_alert_clock(&self, by: Duration) {
        self.alert_clock_ahead
            .fetch_add(by.num_seconds(), std::sync::atomic::Ordering::Relaxed);
    }

    /// The kept writer, or a new one.
    fn take_writer(&self) -> anyhow::Result<ArchiveWriter> {
        let kept = locked(&self.writer).take();
        match kept {
            Some(writer) => Ok(writer),
            None => self.archive.writer(),
        }
    }

    /// Keeps a writer whose last operation was a commit for the next pass.
    fn keep_writer(&self, writer: ArchiveWriter) {
        *locked(&self.writer) = Some(writer);
    }

    /// Fetches through the fetcher ([`Fetcher::get_timed`]) and records the fetch (what it was for, its
    /// outcome, its request time) for the report of the pass that makes it.
    pub(crate) async fn fetch(
        &self,
        kind: FetchKind,
        url: &url::Url,
        origin: Origin,
        validators: Option<&Validators>,
        cap: u64,
    ) -> Result<Fetched, FetchError> {
        let (result, took) = self.fetcher.get_timed(url, origin, validators, cap).await;
        let outcome = match &result {
            Ok(Fetched::Page(_)) => FetchOutcome::Ok,
            Ok(Fetched::NotModified) => FetchOutcome::NotModified,
            Err(_) => FetchOutcome::Error,
        };
        locked(&self.fetches).push(FetchRecord {
            kind,
            outcome,
            took,
        });
        result
    }

    /// The fetches recorded since the last call (those of a pass that failed go to the next one).
    pub(crate) fn take_fetches(&self) -> Vec<FetchRecord> {
        std::mem::take(&mut *locked(&self.fetches))
    }

    /// Waits for the index merges still running, then releases the kept writer. One-shot commands
    /// (`ingest`, `backfill`) and the daemon call it before exiting, so the segments their commits left
    /// are merged even when the process does not live to the next pass. A later pass opens a new writer.
    pub fn finish_merges(&self) -> anyhow::Result<()> {
        let kept = locked(&self.writer).take();
        match kept {
            Some(writer) => writer.finish(),
            None => Ok(()),
        }
    }
}

/// The data behind `mutex`, also after a thread panicked while holding it (the pipeline's mutexes hold a
/// kept writer or a list, never half-updated state).
fn locked<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One failure during a pass, for the log and the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The feed concerned.
    pub feed: String,
    /// The URL that failed.
    pub url: String,
    /// What went wrong.
    pub error: String,
}

/// What a fetch was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchKind {
    /// A source's first document (its feed, sitemap, section page or channel preview).
    Feed,
    /// A further document of a source: a sitemap index's sitemaps, a channel's older pages.
    Further,
    /// An article's page.
    Page,
    /// An archived article's page fetched again ([`revisit_pass`]).
    Revisit,
}

impl FetchKind {
    /// Lowercase name (the metrics' `kind` label).
    pub fn as_str(self) -> &'static str {
        match self {
            FetchKind::Feed => "feed",
            FetchKind::Further => "further",
            FetchKind::Page => "page",
            FetchKind::Revisit => "revisit",
        }
    }
}

/// How a fetch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchOutcome {
    /// A 2xx response with its body.
    Ok,
    /// 304 Not Modified.
    NotModified,
    /// A failure: an error status, a timeout, a refusal, the network.
    Error,
}

impl FetchOutcome {
    /// Lowercase name (the metrics' `outcome` label).
    pub fn as_str(self) -> &'static str {
        match self {
            FetchOutcome::Ok => "ok",
            FetchOutcome::NotModified => "not_modified",
            FetchOutcome::Error => "error",
        }
    }
}

/// One fetch of a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchRecord {
    /// What it was for.
    pub kind: FetchKind,
    /// How it ended.
    pub outcome: FetchOutcome,
    /// How long its request took; `None` when none was sent (refused before: robots.txt, a private address).
    pub took: Option<std::time::Duration>,
}

/// What a pass should do.
#[derive(Debug, Clone, Default)]
pub struct PassOptions {
    /// Fetch feeds even when they are under a backoff.
    pub force: bool,
    /// Only these feed ids (None: every configured feed).
    pub only: Option<HashSet<String>>,
}

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassReport {
    /// Feeds fetched and parsed (including 304 and unchanged bodies).
    pub feeds_ok: usize,
    /// Feeds that answered 304 Not Modified.
    pub feeds_not_modified: usize,
    /// Feeds whose body had not changed since the last pass.
    pub feeds_unchanged: usize,
    /// Feeds that failed (fetch or parse).
    pub feeds_failed: usize,
    /// Feeds skipped because they are under a backoff: id and until when.
    pub feeds_backed_off: Vec<(String, DateTime<Utc>)>,
    /// Feeds that have failed [`crate::status::UNHEALTHY_AFTER`] times or more in a row, after this pass.
    pub feeds_unhealthy: Vec<String>,
    /// Entries read from feed documents.
    pub entries_seen: usize,
    /// Entries not yet in the archive.
    pub entries_new: usize,
    /// Articles written to the archive.
    pub articles_archived: usize,
    /// Of which tagged with at least one campaign.
    pub articles_tagged: usize,
    /// Articles whose text came from the feed because the page could not be used.
    pub articles_from_feed: usize,
    /// Pages whose markup cost more than the extraction work budget ([`extract::work_budget`]): archived
    /// with the feed's text (counted in `articles_from_feed` too; each one is also a notice).
    pub pages_over_budget: usize,
    /// Pages that failed and will be retried by a later pass (pending).
    pub pages_failed: usize,
    /// Pending pages (failed in an earlier pass) tried again in this pass.
    pub pages_retried: usize,
    /// Every failure.
    pub failures: Vec<Failure>,
    /// What sources reported without failing (a sitemap over the protocol's caps, entries left for the next
    /// pass, undated sitemap URLs skipped).
    pub notices: Vec<Failure>,
    /// Every fetch the pass made (and those of a pass before it that failed), in no particular order.
    pub fetches: Vec<FetchRecord>,
    /// Alert messages enqueued after its commits ([`crate::alert::eval`]).
    pub alert_messages: usize,
    /// What the pass's revisits of archived articles found.
    pub revisits: RevisitReport,
}

impl std::fmt::Display for PassReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "feeds: {} ok ({} not modified, {} unchanged), {} failed, {} backed off, {} unhealthy; \
             entries: {} seen, {} new; articles: {} archived ({} tagged, {} from feed text); pages failed: {}, \
             retried: {}, over the extraction budget: {}",
            self.feeds_ok,
            self.feeds_not_modified,
            self.feeds_unchanged,
            self.feeds_failed,
            self.feeds_backed_off.len(),
            self.feeds_unhealthy.len(),
            self.entries_seen,
            self.entries_new,
            self.articles_archived,
            self.articles_tagged,
            self.articles_from_feed,
            self.pages_failed,
            self.pages_retried,
            self.pages_over_budget
        )?;
        if self.revisits.revisited > 0 || self.revisits.over_budget > 0 {
            write!(f, "; {}", self.revisits)?;
        }
        Ok(())
    }
}

enum FeedOutcome {
    NotModified,
    Unchanged,
    Entries {
        entries: Vec<Entry>,
        /// The response's validators (the body itself is dropped once parsed); None when the next pass must
        /// read the source in full whatever its first document says (a sitemap index: its sitemaps change
        /// under it).
        validators: Option<(Validators, String)>,
        /// What to report that did not fail the source.
        notices: Vec<String>,
    },
    Failed {
        error: String,
        retry_after: Option<u64>,
    },
}

enum PageOutcome {
    /// The article, its page's snapshot, and why the page's text was not used when extraction gave up on it
    /// (over the work budget: the feed's text stands for it).
    Archived(Box<Article>, Option<Box<Page>>, Option<String>),
    /// A transient failure: the entry, the error and the HTTP status (0: no response).
    Retry {
        entry: Box<Entry>,
        error: String,
        status: u16,
    },
}

/// What [`archive_entries`] did, beyond the counts it adds to the report.
#[derive(Default)]
pub(crate) struct Archived {
    /// Articles archived (and committed) per feed.
    pub per_feed: HashMap<String, u64>,
    /// The URLs archived (and committed).
    pub urls: HashSet<String>,
    /// Entries whose page failed transiently: the entry, the error and the HTTP status (0: no response).
    pub retry: Vec<(Entry, String, u16)>,
}

/// Whether the articles an [`archive_entries`] archives fire the alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alerts {
    /// Regular passes: new articles are journaled for the alerts and the alerts evaluated after the
    /// commits.
    Fire,
    /// Backfill: the past is not news; its articles fire nothing.
    Quiet,
}

/// New pages processed, archived and committed together. Bounds a pass's memory.
pub const COMMIT_BATCH: usize = 256;

/// Runs one ingest pass over the configured feeds (all, or `options.only`), skipping feeds under a
/// backoff unless `options.force`.
pub async fn ingest_pass(p: &Pipeline, options: &PassOptions) -> anyhow::Result<PassReport> {
    let mut report = PassReport::default();
    let concurrency = p.config.fetch.concurrency.max(1);
    let now = Utc::now();

    // 1. Feeds.
    let mut states: HashMap<String, FeedState> = HashMap::new();
    let mut selected: Vec<&FeedSpec> = Vec::new();
    for f in &p.config.feeds {
        if options
            .only
            .as_ref()
            .is_some_and(|only| !only.contains(&f.id))
        {
            continue;
        }
        let state = p.store.feed_state(&f.id)?;
        match schedule::backed_off_until(&state, now) {
            Some(until) if !options.force => {
                info!(feed = %f.id, until = %until, reason = state.backoff_reason.as_deref().unwrap_or(""), "feed backed off, skipped");
                report.feeds_backed_off.push((f.id.clone(), until));
                if crate::status::health(&state) == crate::status::Health::Unhealthy {
                    report.feeds_unhealthy.push(f.id.clone());
                }
            }
            _ => selected.push(f),
        }
        states.insert(f.id.clone(), state);
    }
    let outcomes: Vec<(&FeedSpec, FeedOutcome)> = stream::iter(selected)
        .map(|f| {
            let state = states.get(&f.id).cloned().unwrap_or_default();
            async move { (f, read::read_source(p, f, &state, now).await) }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;

    // 2. New entries (the committed archive decides what is new), after the pending ones of the feeds
    // read without failure: an entry that is pending waits for its own due time.
    let mut pending: HashMap<String, (&FeedSpec, PendingEntry)> = HashMap::new();
    for (f, outcome) in &outcomes {
        if !matches!(outcome, FeedOutcome::Failed { .. }) {
            for pe in p.store.pending(&f.id)? {
                pending.insert(pe.entry.url.to_string(), (*f, pe));
            }
        }
    }
    let mut seen_in_pass: HashSet<String> = HashSet::new();
    // Feeds that must be read in full next pass (entries left over).
    let mut retry_feeds: HashSet<String> = HashSet::new();
    let mut new_entries: Vec<(&FeedSpec, Entry)> = Vec::new();
    let mut new_per_feed: HashMap<String, usize> = HashMap::new();
    let mut feed_results: Vec<(&FeedSpec, FeedOutcome)> = Vec::new();
    for (f, outcome) in outcomes {
        match &outcome {
            FeedOutcome::Failed { error, .. } => {
                warn!(feed = %f.id, url = %f.url, %error, "feed failed");
                report.feeds_failed += 1;
                report.failures.push(Failure {
                    feed: f.id.clone(),
                    url: f.url.to_string(),
                    error: error.clone(),
                });
            }
            FeedOutcome::NotModified => {
                report.feeds_ok += 1;
                report.feeds_not_modified += 1;
            }
            FeedOutcome::Unchanged => {
                report.feeds_ok += 1;
                report.feeds_unchanged += 1;
            }
            FeedOutcome::Entries {
                entries, notices, ..
            } => {
                report.feeds_ok += 1;
                report.entries_seen += entries.len();
                for n in notices {
                    warn!(feed = %f.id, notice = %n, "source notice");
                    report.notices.push(Failure {
                        feed: f.id.clone(),
                        url: f.url.to_string(),
                        error: n.clone(),
                    });
                }
                let mut fresh: Vec<Entry> = Vec::new();
                for e in entries {
                    let key = e.url.to_string();
                    if seen_in_pass.contains(&key)
                        || pending.contains_key(&key)
                        || p.archive.contains_url(&key)?
                    {
                        continue;
                    }
                    seen_in_pass.insert(key);
                    fresh.push(e.clone());
                }
                // A source that names more new articles than a pass takes (a sitemap of a whole outlet) gives
                // its newest; the rest wait for the next pass, which must then read the source in full.
                let cap = p.config.fetch.max_entries_per_feed;
                if fresh.len() > cap {
                    fresh.sort_by_key(|e| std::cmp::Reverse(source::entry_date(e)));
                    let left = fresh.len() - cap;
                    fresh.truncate(cap);
                    retry_feeds.insert(f.id.clone());
                    report.notices.push(Failure {
                        feed: f.id.clone(),
                        url: f.url.to_string(),
                        error: format!(
                            "{left} more new articles than max_entries_per_feed = {cap}; taken next pass"
                        ),
                    });
                }
                new_per_feed.insert(f.id.clone(), fresh.len());
                info!(feed = %f.id, entries = entries.len(), new = fresh.len(), "source read");
                new_entries.extend(fresh.into_iter().map(|e| (f, e)));
            }
        }
        feed_results.push((f, outcome));
    }
    report.entries_new = new_entries.len();
    // Pending entries that are due (all of them when forced); those found in the archive are done.
    let mut resolved: Vec<(String, String)> = Vec::new();
    let mut last_tries: HashSet<String> = HashSet::new();
    for (url, (f, pe)) in &pending {
        if p.archive.contains_url(url)? {
            resolved.push((f.id.clone(), url.clone()));
        } else if options.force || pe.next_try <= now {
            if schedule::is_last_page_attempt(pe.attempts) {
                last_tries.insert(url.clone());
            }
            report.pages_retried += 1;
            new_entries.push((*f, pe.entry.clone()));
        }
    }

    // 3-4. Pages in batches, committed as they go.
    let archived = archive_entries(p, new_entries, &last_tries, Alerts::Fire, &mut report).await?;

    // 5. Pending entries, after the commit: the archived ones removed, the failed ones (again) added.
    let after = Utc::now();
    for (url, (f, _)) in &pending {
        if archived.urls.contains(url) {
            resolved.push((f.id.clone(), url.clone()));
        }
    }
    let failed: Vec<PendingEntry> = archived
        .retry
        .into_iter()
        .map(|(entry, error, status)| {
            let attempts = pending
                .get(entry.url.as_str())
                .map_or(0, |(_, pe)| pe.attempts)
                .saturating_add(1);
            PendingEntry {
                entry,
                attempts,
                last_error: error,
                last_status: status,
                next_try: schedule::page_retry_at(attempts, after),
            }
        })
        .collect();
    p.store.update_pending(&failed, &resolved)?;
    let archived_per_feed = archived.per_feed;

    // 6. Feed state, after the commit and the pending entries.
    let mut updates = Vec::new();
    for (f, outcome) in feed_results {
        let mut state = states.remove(&f.id).unwrap_or_default();
        let new = new_per_feed.get(&f.id).copied().unwrap_or(0);
        match outcome {
            FeedOutcome::Failed { error, retry_after } => {
                schedule::after_failure(&mut state, &error, retry_after, now);
                if crate::status::health(&state) == crate::status::Health::Unhealthy {
                    report.feeds_unhealthy.push(f.id.clone());
                }
            }
            FeedOutcome::NotModified | FeedOutcome::Unchanged => {
                schedule::after_success(&mut state, f, &p.config.fetch, 0, now);
            }
            FeedOutcome::Entries {
                entries,
                validators,
                ..
            } => {
                schedule::after_success(&mut state, f, &p.config.fetch, new, now);
                state.entries_seen += entries.len() as u64;
                // Validators unless new entries were left over (the next pass reads the feed in full to
                // find them); a failed page is pending, so it needs no full read.
                let keep = validators.filter(|_| !retry_feeds.contains(&f.id));
                let (validators, sha256) = keep.unzip();
                let validators = validators.unwrap_or_default();
                state.etag = validators.etag;
                state.last_modified = validators.last_modified;
                state.body_sha256 = sha256;
            }
        }
        state.articles_archived += archived_per_feed.get(&f.id).copied().unwrap_or(0);
        updates.push((f.id.clone(), state));
    }
    p.store.put_feed_states(&updates)?;

    // 7. Revisits of archived articles that are due, after the new articles, within their budget.
    report.revisits = revisit_pass(p, Utc::now()).await?;
    report.fetches = p.take_fetches();
    Ok(report)
}

/// Archives new entries in batches of [`COMMIT_BATCH`], oldest first: fetch the page (unless the entry is
/// the whole article), extract, detect, tag, then cluster, archive and commit each batch, so memory stays
/// bounded by the batch and a crash keeps what was committed. An entry whose URL is in `last_tries` is
/// archived with the feed's text when its page fails transiently again. Counts go to `report`. Returns
/// what was archived and the entries to retry. The one archiving path of regular passes and backfill.
pub(crate) async fn archive_entries(
    p: &Pipeline,
    mut new_entries: Vec<(&FeedSpec, Entry)>,
    last_tries: &HashSet<String>,
    alerts: Alerts,
    report: &mut PassReport,
) -> anyhow::Result<Archived> {
    let journal = alerts == Alerts::Fire && !p.config.alerts.is_empty();
    let concurrency = p.config.fetch.concurrency.max(1);
    new_entries.sort_by(|(_, a), (_, b)| {
        a.published
            .cmp(&b.published)
            .then_with(|| a.url.cmp(&b.url))
    });
    // On an error (or a cancelled pass) the writer is dropped here with what it had not committed.
    let mut writer = p.take_writer()?;
    let mut archived = Archived::default();
    let mut batches = new_entries.into_iter().peekable();
    while batches.peek().is_some() {
        let batch: Vec<(&FeedSpec, Entry)> = batches.by_ref().take(COMMIT_BATCH).collect();
        let mut page_outcomes: Vec<(String, PageOutcome)> = stream::iter(batch)
            .map(|(f, e)| {
                let last_try = last_tries.contains(e.url.as_str());
                async move { (f.id.clone(), process_entry(p, f, e, last_try).await) }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        // No await from here to the commit: a cancelled pass never leaves half a batch.
        let signatures = assign_clusters(p, &mut page_outcomes);
        let mut snapshots = Vec::new();
        let mut revisit_rows = Vec::new();
        let mut archived_urls = Vec::new();
        let mut archived_ids = Vec::new();
        for (feed_id, outcome) in &page_outcomes {
            match outcome {
                PageOutcome::Archived(article, page, gave_up) => {
                    if let Some(why) = gave_up {
                        report.pages_over_budget += 1;
                        report.notices.push(Failure {
                            feed: feed_id.clone(),
                            url: article.url.clone(),
                            error: why.clone(),
                        });
                    }
                    writer.upsert(article)?;
                    report.articles_archived += 1;
                    if !article.campaigns.is_empty() {
                        report.articles_tagged += 1;
                    }
                    if article.text_source == "feed" {
                        report.articles_from_feed += 1;
                    }
                    *archived.per_feed.entry(feed_id.clone()).or_default() += 1;
                    archived_urls.push(article.url.clone());
                    archived_ids.push(article.id.clone());
                    if let Some(page) = page {
                        snapshots.push((article.id.clone(), &**page));
                        let revisited = article.text_source != "post"
                            && p.config
                                .feed(feed_id)
                                .is_some_and(|f| p.config.revisit.covers(f));
                        if revisited {
                            revisit_rows.push((
                                article.id.clone(),
                                crate::revisit::RevisitState::new(
                                    &article.url,
                                    feed_id,
                                    page.fetched_at,
                                    page.etag.clone(),
                                    page.last_modified.clone(),
                                ),
                            ));
                        }
                    }
                }
                PageOutcome::Retry { entry, error, .. } => {
                    report.pages_failed += 1;
                    report.failures.push(Failure {
                        feed: feed_id.clone(),
                        url: entry.url.to_string(),
                        error: error.clone(),
                    });
                }
            }
        }
        // Snapshots and signatures first: an orphan is harmless, a committed article without one is not.
        p.store.put_snapshots(&snapshots)?;
        p.store.put_signatures(&signatures)?;
        p.store
            .add_revisit_states(&revisit_rows, &revisit_schedule(&p.config))?;
        // The alerts' journal too: an id whose article this commit does not hold matches nothing.
        if journal && !archived_ids.is_empty() {
            p.store.journal_alert_batch(&archived_ids)?;
        }
        writer.commit()?;
        archived.urls.extend(archived_urls);
        archived
            .retry
            .extend(page_outcomes.into_iter().filter_map(|(_, o)| match o {
                PageOutcome::Retry {
                    entry,
                    error,
                    status,
                } => Some((*entry, error, status)),
                PageOutcome::Archived(..) => None,
            }));
    }
    // Commit once even with nothing new, so the pass ends on a commit.
    writer.commit()?;
    p.keep_writer(writer);
    p.archive.reload()?;
    if journal {
        evaluate_alerts(p, report);
    }
    Ok(archived)
}

/// Evaluates the alerts over what the commits journaled and wakes the delivery loop. A failure is
/// logged, not the pass's: the commits stand, and the journal keeps the batches for the next pass.
fn evaluate_alerts(p: &Pipeline, report: &mut PassReport) {
    match crate::alert::eval::evaluate(&p.archive, &p.store, &p.config.alerts, p.alert_clock()) {
        Ok(done) => {
            report.alert_messages += done.messages;
            if done.messages > 0 {
                info!(
                    messages = done.messages,
                    articles = done.articles,
                    "alerts fired"
                );
                p.alerts_enqueued.notify_one();
            }
        }
        Err(e) => {
            warn!(error = %format!("{e:#}"), "alerts not evaluated; tried again after the next commit")
        }
    }
}

/// Gives each new article its near-duplicate cluster, oldest first; returns the signatures to store.
fn assign_clusters(
    p: &Pipeline,
    outcomes: &mut [(String, PageOutcome)],
) -> Vec<(String, i64, Vec<u8>)> {
    let mut articles: Vec<&mut Article> = outcomes
        .iter_mut()
        .filter_map(|(_, o)| match o {
            PageOutcome::Archived(a, ..) => Some(&mut **a),
            PageOutcome::Retry { .. } => None,
        })
        .collect();
    articles.sort_by(|a, b| {
        a.dated_at()
            .cmp(&b.dated_at())
            .then_with(|| a.id.cmp(&b.id))
    });
    // A poisoned lock means a panic elsewhere mid-insert; the index is still usable.
    let mut index = p.clusters.lock().unwrap_or_else(|e| e.into_inner());
    let mut rows = Vec::with_capacity(articles.len());
    for a in articles {
        let sig = cluster::signature(&a.title, &a.text);
        a.cluster = Some(index.insert(&a.id, sig));
        let when = a.dated_at().timestamp();
        rows.push((a.id.clone(), when, sig.to_bytes().to_vec()));
    }
    rows
}

/// Fetches, extracts and assembles one entry's article. A transient failure is to be retried, unless
/// `last_try`: then, as after a permanent failure, the article is the feed's text with the HTTP status.
async fn process_entry(p: &Pipeline, f: &FeedSpec, entry: Entry, last_try: bool) -> PageOutcome {
    if entry.text.is_some() {
        // The entry is the whole article (a Telegram post): nothing to fetch. Its part of the source's
        // document is its snapshot.
        let now = Utc::now();
        let article = assemble(f, &entry, None, 0, None, &p.tagger, now);
        let snapshot = entry.snapshot.map(|html| {
            Box::new(Page {
                url: entry.url.clone(),
                final_url: entry.url.clone(),
                status: 200,
                content_type: Some("text/html; charset=utf-8".into()),
                etag: None,
                last_modified: None,
                headers: Vec::new(),
                body: html.into_bytes(),
                fetched_at: now,
            })
        });
        return PageOutcome::Archived(Box::new(article), snapshot, None);
    }
    let fetched = p
        .fetch(
            FetchKind::Page,
            &entry.url,
            Origin::Link,
            None,
            p.fetcher.max_body_bytes(),
        )
        .await;
    let (page, status) = match fetched {
        Ok(Fetched::Page(page)) => {
            let status = page.status;
            (Some(page), status)
        }
        Ok(Fetched::NotModified) => (None, 304),
        Err(e) => {
            let code = match &e {
                FetchError::Status { status, .. } => *status,
                _ => 0,
            };
            if e.is_transient() && !last_try {
                warn!(feed = %f.id, url = %entry.url, error = %e, "page failed, pending: will retry");
                return PageOutcome::Retry {
                    error: e.to_string(),
                    entry: Box::new(entry),
                    status: code,
                };
            }
            if e.is_transient() {
                warn!(feed = %f.id, url = %entry.url, error = %e, attempts = schedule::PAGE_ATTEMPTS,
                    "page failed on its last attempt, archiving the feed's text");
            } else {
                warn!(feed = %f.id, url = %entry.url, error = %e, "page unusable, archiving the feed's text");
            }
            (None, code)
        }
    };
    let feed = f.clone();
    let kept = entry.clone();
    let tagger = Arc::clone(&p.tagger);
    // Extraction and tagging are CPU work: keep them off the I/O threads.
    let job = tokio::task::spawn_blocking(move || {
        let mut gave_up = None;
        let extracted = page
            .as_deref()
            .and_then(|pg| match extract_page(&feed, pg) {
                Ok(extracted) => extracted,
                Err(e) => {
                    // As for a permanent page failure: the feed's text is archived (assemble, "feed").
                    warn!(feed = %feed.id, url = %pg.final_url, error = %e, "page over the extraction budget, archiving the feed's text");
                    gave_up = Some(e.to_string());
                    None
                }
            });
        let article = assemble(
            &feed,
            &entry,
            page.as_deref(),
            status,
            extracted,
            &tagger,
            Utc::now(),
        );
        (article, page, gave_up)
    });
    match job.await {
        Ok((article, page, gave_up)) => PageOutcome::Archived(Box::new(article), page, gave_up),
        Err(e) => PageOutcome::Retry {
            entry: Box::new(kept),
            error: format!("extraction crashed: {e}"),
            status,
        },
    }
}

/// Extracts a fetched page with its feed's selectors under the per-page work budget (None when it is not
/// HTML or text; an error when its markup costs more than [`extract::work_budget`]). CPU work: call it off
/// the I/O threads.
pub(crate) fn extract_page(
    feed: &FeedSpec,
    page: &Page,
) -> Result<Option<Extracted>, extract::ExtractError> {
    if !is_html(page) {
        return Ok(None);
    }
    let text = charset::decode(&page.body, page.content_type.as_deref()).text;
    let options = ExtractOptions {
        content_selector: feed.content_selector.clone(),
        remove_selectors: feed.remove_selectors.clone(),
    };
    let (extracted, _work) = extract::extract_checked(
        &text,
        Some(&page.final_url),
        &options,
        extract::work_budget(text.len()),
    )?;
    Ok(Some(extracted))
}

fn is_html(page: &Page) -> bool {
    match page.content_type.as_deref() {
        Some(ct) => {
            let ct = ct.to_ascii_lowercase();
            ct.contains("html") || ct.starts_with("text/plain") || ct.is_empty()
        }
        None => true,
    }
}

/// The article id for a URL: the first 16 hex digits of its sha256.
pub fn article_id(url: &str) -> String {
    hex::encode(&Sha256::digest(url.as_bytes())[..8])
}

/// Builds the archived article from the feed entry and what the page gave (pure).
pub fn assemble(
    feed: &FeedSpec,
    entry: &Entry,
    page: Option<&Page>,
    http_status: u16,
    extracted: Option<Extracted>,
    tagger: &Tagger,
    now: chrono::DateTime<Utc>,
) -> Article {
    let extracted = extracted.unwrap_or_default();
    // An entry that is the whole article (a Telegram post) is archived as it is. Otherwise the page's text
    // wins unless extraction found (almost) nothing that the feed has.
    let page_chars = extracted.text.chars().count();
    let (text, text_source) = match &entry.text {
        Some(post_text) => (post_text.clone(), "post"),
        None => {
            let feed_text = entry
                .content
                .as_deref()
                .or(entry.summary.as_deref())
                .map(extract::html_fragment_to_text)
                .unwrap_or_default();
            if page_chars > 0 && page_chars * 2 >= feed_text.chars().count() {
                (extracted.text.clone(), "page")
            } else {
                (feed_text, "feed")
            }
        }
    };
    let is_post = text_source == "post";
    let title = entry
        .title
        .clone()
        .or_else(|| extracted.title.clone())
        .unwrap_or_else(|| if is_post { "(post)" } else { "(untitled)" }.to_string());
    let not_future = |d: &chrono::DateTime<Utc>| *d <= now + Duration::days(1);
    let published = entry
        .published
        .filter(not_future)
        .or(extracted.published.filter(not_future));
    let mut hints: Vec<&str> = Vec::new();
    if let Some(l) = feed.language.as_deref() {
        hints.push(l);
    }
    if let Some(l) = extracted.language.as_deref() {
        hints.push(l);
    }
    if let Some(l) = entry.language.as_deref() {
        hints.push(l);
    }
    let lang = if !is_post {
        lang::detect(&format!("{title}\n\n{text}"), &hints)
    } else if text.trim().is_empty() {
        // A post with only media has no text to detect: its title is a placeholder such as "(photo)".
        crate::model::LangInfo::unknown()
    } else {
        // A post's title is its first line: detect on the text alone so that line does not count twice.
        lang::detect(&text, &hints)
    };
    let input = crate::tag::TagInput::for_feed(feed, &title, &text, &lang.lang);
    let campaigns = tagger.tag(&input);
    let url = entry.url.to_string();
    Article {
        id: article_id(&url),
        final_url: page.map_or_else(|| url.clone(), |pg| pg.final_url.to_string()),
        url,
        feed: feed.id.clone(),
        source_name: feed.name.clone(),
        affiliation: feed.affiliation,
        country: feed.country.clone(),
        lang,
        title,
        text,
        description: extracted.description.or_else(|| {
            entry
                .summary
                .as_deref()
                .map(extract::html_fragment_to_text)
                .filter(|s| !s.is_empty())
        }),
        authors: if entry.authors.is_empty() {
            extracted.authors
        } else {
            entry.authors.clone()
        },
        published,
        modified: extracted.modified.filter(not_future),
        fetched_at: page.map_or(now, |pg| pg.fetched_at),
        canonical_url: extracted.canonical_url,
        site_name: extracted.site_name,
        image: extracted.image,
        section: extracted.section,
        tags: if extracted.tags.is_empty() {
            entry.keywords.clone()
        } else {
            extracted.tags
        },
        campaigns,
        http_status,
        text_source: text_source.to_string(),
        cluster: None,
        post: entry.post.clone(),
        revision: None,
    }
}

/// Reads a config and opens everything for a pass, with the config path in errors.
pub fn open_from(config_path: &std::path::Path) -> anyhow::Result<Pipeline> {
    let config = crate::config::load(config_path)?;
    Pipeline::open(config)
        .with_context(|| format!("cannot open the archive for {}", config_path.display()))
}

/// What a retag did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RetagReport {
    /// Articles read.
    pub articles: u64,
    /// Articles whose campaign tags changed (and were re-indexed).
    pub changed: u64,
    /// Tagged articles per campaign id before and after, in campaign order then any retired id.
    pub counts: Vec<(String, u64, u64)>,
}

/// The campaign tags of an archived article under the current codebook (its stored source labels).
pub fn retag_article(article: &Article, tagger: &Tagger) -> Vec<crate::model::CampaignHit> {
    let input = crate::tag::TagInput {
        title: &article.title,
        text: &article.text,
        lang: &article.lang.lang,
        feed: &article.feed,
        affiliation: article.affiliation,
        country: article.country.as_deref(),
    };
    tagger.tag(&input)
}

/// Re-applies the current codebook to every archived article, without refetching, and commits.
/// Only articles whose tags change are re-indexed. `progress(done, total)` is called as it goes.
pub fn retag_archive(
    config: &Config,
    archive: &Archive,
    tagger: &Tagger,
    progress: &dyn Fn(u64, u64),
) -> anyhow::Result<RetagReport> {
    let searcher = archive.searcher();
    let docs = searcher.search(
        &tantivy::query::AllQuery,
        &tantivy::collector::DocSetCollector,
    )?;
    let mut docs: Vec<_> = docs.into_iter().collect();
    docs.sort();
    let total = docs.len() as u64;
    let mut writer = archive.writer()?;
    let mut report = RetagReport::default();
    let mut before: HashMap<String, u64> = HashMap::new();
    let mut after: HashMap<String, u64> = HashMap::new();
    for (i, address) in docs.into_iter().enumerate() {
        let mut article = archive.article(&searcher, address)?;
        let hits = retag_article(&article, tagger);
        for h in &article.campaigns {
            *before.entry(h.id.clone()).or_default() += 1;
        }
        for h in &hits {
            *after.entry(h.id.clone()).or_default() += 1;
        }
        report.articles += 1;
        if hits != article.campaigns {
            article.campaigns = hits;
            writer.upsert(&article)?;
            report.changed += 1;
        }
        if i % 1000 == 0 {
            progress(i as u64, total);
        }
    }
    writer.commit()?;
    if let Err(e) = writer.finish() {
        warn!(error = %format!("{e:#}"), "retag committed; its segments were not merged");
    }
    archive.reload()?;
    progress(total, total);
    let mut ids: Vec<String> = config.campaigns.iter().map(|c| c.id.clone()).collect();
    let mut retired: Vec<String> = before
        .keys()
        .filter(|k| !ids.contains(k))
        .cloned()
        .collect();
    retired.sort();
    ids.extend(retired);
    report.counts = ids
        .into_iter()
        .map(|id| {
            let (b, a) = (
                before.get(&id).copied().unwrap_or(0),
                after.get(&id).copied().unwrap_or(0),
            );
            (id, b, a)
        })
        .collect();
    Ok(report)
}
