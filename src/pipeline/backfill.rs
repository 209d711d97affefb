//! `mediawatch backfill`: archives a source's past over a date range, through the one fetcher and the same
//! archiving path as a regular pass ([`super::archive_entries`]), so its politeness is the same and nothing is
//! archived twice (entries are deduplicated against the committed index by URL, whoever archived them).
//!
//! - sitemap: walks the index to the sitemaps that may hold URLs in the range (their `lastmod`, the dates in
//!   their URLs), one file at a time: read it, take its URLs in the range, archive them, record it as done;
//! - telegram: pages back through the preview's `before=` links until the posts are older than the range;
//! - rss, html: whatever the document holds (an html section page's links carry no dates: all are taken).
//!
//! Resumable: the position (sitemap files done, the next Telegram page) is written to the state store after
//! each file's or page's commit, so a run that is killed starts again where its last commit left it.

use std::collections::HashSet;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use url::Url;

use super::read::{body_cap, fetch_listing, SitemapWalk, Window};
use super::{archive_entries, Failure, PassReport, Pipeline};
use crate::fetch::{Fetched, Origin};
use crate::model::{Entry, FeedSpec, SourceKind};
use crate::source;
use crate::store::BackfillState;

/// What to backfill.
#[derive(Debug, Clone, PartialEq)]
pub struct BackfillRequest {
    /// The feed id.
    pub feed: String,
    /// Oldest publication time taken.
    pub since: DateTime<Utc>,
    /// Newest publication time taken.
    pub until: DateTime<Utc>,
}

/// Where a backfill stands, for a progress bar.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackfillProgress {
    /// Documents (sitemap files, channel pages) read so far by this run.
    pub documents: usize,
    /// Articles archived so far by this run.
    pub archived: usize,
    /// The oldest date reached (Telegram) or the newest file's lastmod (sitemaps), when known.
    pub reached: Option<DateTime<Utc>>,
}

/// What a backfill did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackfillReport {
    /// Whether it resumed an interrupted run of the same range.
    pub resumed: bool,
    /// Documents read (sitemap files, channel pages, the feed).
    pub documents: usize,
    /// Entries found dated in the range.
    pub entries_in_range: usize,
    /// Of which already in the archive (by a regular pass or an earlier run).
    pub already_archived: usize,
    /// Articles archived by this run.
    pub articles_archived: usize,
    /// Pages that failed transiently (retried by running the backfill again).
    pub pages_failed: usize,
    /// Failures (pages, sitemap files).
    pub failures: Vec<Failure>,
    /// What was skipped or capped, in words.
    pub notices: Vec<String>,
}

/// Runs a backfill of one source over `[since, until]`. `progress` is called after each document.
pub async fn backfill(
    p: &Pipeline,
    request: &BackfillRequest,
    progress: &(dyn Fn(&BackfillProgress) + Sync),
) -> anyhow::Result<BackfillReport> {
    let f = p
        .config
        .feeds
        .iter()
        .find(|f| f.id == request.feed)
        .with_context(|| format!("no feed with id {:?} in the config", request.feed))?;
    anyhow::ensure!(
        request.since <= request.until,
        "--since ({}) is after --until ({})",
        request.since.date_naive(),
        request.until.date_naive()
    );
    let since = request.since.to_rfc3339();
    let until = request.until.to_rfc3339();
    let mut report = BackfillReport::default();
    let mut state = match p.store.backfill_state(&f.id)? {
        Some(s) if s.since == since && s.until == until && !s.finished => {
            report.resumed = true;
            s
        }
        _ => BackfillState {
            since,
            until,
            ..BackfillState::default()
        },
    };
    let window = Window {
        since: Some(request.since),
        until: Some(request.until),
    };
    let mut run = Run {
        p,
        f,
        report: &mut report,
        state: &mut state,
        progress,
        seen: HashSet::new(),
        position: BackfillProgress::default(),
    };
    match f.kind {
        SourceKind::Sitemap { .. } => run.sitemaps(window).await?,
        SourceKind::Telegram => run.channel_pages(window).await?,
        SourceKind::Rss | SourceKind::Html { .. } => run.one_document(window).await?,
    }
    run.state.finished = true;
    run.save()?;
    // The feed's own counters include what its backfills archived.
    let mut feed_state = p.store.feed_state(&f.id)?;
    feed_state.articles_archived += report.articles_archived as u64;
    p.store.put_feed_states(&[(f.id.clone(), feed_state)])?;
    Ok(report)
}

/// One backfill run's working state.
struct Run<'a> {
    p: &'a Pipeline,
    f: &'a FeedSpec,
    report: &'a mut BackfillReport,
    state: &'a mut BackfillState,
    progress: &'a (dyn Fn(&BackfillProgress) + Sync),
    /// URLs taken by this run (a URL in two sitemap files is archived once).
    seen: HashSet<String>,
    position: BackfillProgress,
}

impl Run<'_> {
    /// The source's first document, fetched as a configured URL (trusted, no robots.txt).
    async fn first_document(&mut self) -> anyhow::Result<(Url, source::Listing)> {
        let page = self
            .p
            .fetcher
            .get_capped(&self.f.url, Origin::Config, None, body_cap(self.p, self.f))
            .await
            .and_then(Fetched::into_page)
            .with_context(|| format!("feed {}: cannot fetch {}", self.f.id, self.f.url))?;
        let listing = source::read(self.f, &page, usize::MAX)
            .with_context(|| format!("feed {}: {}", self.f.id, self.f.url))?;
        Ok((page.final_url.clone(), listing))
    }

    async fn sitemaps(&mut self, window: Window) -> anyhow::Result<()> {
        let (url, listing) = self.first_document().await?;
        let mut walk = SitemapWalk::start(&url, listing, window);
        let done: HashSet<String> = self.state.done.iter().cloned().collect();
        let mut undated = 0;
        while let Some(file) = walk.next_file(self.p, self.f, &done).await {
            if done.contains(file.url.as_str()) {
                continue;
            }
            let (entries, skipped) = window.take(file.listing.entries, &file.url);
            undated += skipped;
            self.position.reached = self
                .position
                .reached
                .max(entries.iter().filter_map(source::entry_date).max());
            let failed = self.archive(entries).await?;
            // A file with a page that failed transiently is read again by the next run.
            if failed == 0 {
                self.state.done.push(file.url.to_string());
            }
            self.document_done()?;
        }
        self.report.notices.extend(walk.notices);
        if undated > 0 {
            self.report.notices.push(format!(
                "{undated} URLs without a date in sitemaps whose names carry no date were skipped"
            ));
        }
        if self.position.documents == 0 {
            if let Some(error) = walk.first_error {
                anyhow::bail!("feed {}: no sitemap could be read: {error}", self.f.id);
            }
        }
        Ok(())
    }

    async fn channel_pages(&mut self, window: Window) -> anyhow::Result<()> {
        let mut listing = match self.state.next_page.as_deref().map(Url::parse) {
            Some(Ok(url)) => fetch_listing(self.p, self.f, &url)
                .await
                .map_err(|e| anyhow::anyhow!("feed {}: {url}: {e}", self.f.id))?,
            _ => self.first_document().await?.1,
        };
        let mut visited: HashSet<String> = HashSet::new();
        let mut previous_oldest: Option<DateTime<Utc>> = None;
        loop {
            let oldest = listing.entries.iter().filter_map(|e| e.published).min();
            let older = listing.older.take();
            let (entries, _) = window.take(std::mem::take(&mut listing.entries), &self.f.url);
            self.position.reached = oldest.or(self.position.reached);
            self.archive(entries).await?;
            self.state.next_page = older.as_ref().map(Url::to_string);
            self.document_done()?;
            let past_range = oldest.is_some_and(|o| window.since.is_some_and(|s| o < s));
            let Some(url) = older.filter(|_| !past_range) else {
                break;
            };
            // An older page that does not go back in time (a loop, a broken mirror) ends the walk.
            let no_progress = match (oldest, previous_oldest) {
                (Some(now), Some(before)) => now >= before,
                (None, _) => true,
                _ => false,
            };
            if no_progress || !visited.insert(url.to_string()) {
                self.report.notices.push(format!(
                    "the channel's older page {url} does not go further back; stopped there"
                ));
                break;
            }
            previous_oldest = oldest;
            listing = fetch_listing(self.p, self.f, &url)
                .await
                .map_err(|e| anyhow::anyhow!("feed {}: {url}: {e}", self.f.id))?;
        }
        Ok(())
    }

    async fn one_document(&mut self, window: Window) -> anyhow::Result<()> {
        let (url, listing) = self.first_document().await?;
        let entries = match self.f.kind {
            // A section page's links carry no dates: the window cannot choose among them.
            SourceKind::Html { .. } => listing.entries,
            _ => window.take(listing.entries, &url).0,
        };
        self.archive(entries).await?;
        self.document_done()
    }

    /// Archives the entries not yet in the archive, through the pipeline's one archiving path; returns how
    /// many pages failed transiently.
    async fn archive(&mut self, entries: Vec<Entry>) -> anyhow::Result<usize> {
        self.report.entries_in_range += entries.len();
        let mut fresh = Vec::new();
        for e in entries {
            let key = e.url.to_string();
            if !self.seen.insert(key.clone()) {
                continue;
            }
            if self.p.archive.contains_url(&key)? {
                self.report.already_archived += 1;
                continue;
            }
            fresh.push((self.f, e));
        }
        let mut pass = PassReport::default();
        // A page that failed transiently is not pending: the next run reads its file again.
        archive_entries(self.p, fresh, &HashSet::new(), &mut pass).await?;
        self.report.articles_archived += pass.articles_archived;
        self.report.pages_failed += pass.pages_failed;
        self.report.failures.extend(pass.failures);
        // Backfill is not measured: what its fetches recorded is dropped, so it does not pile up.
        drop(self.p.take_fetches());
        self.state.archived += pass.articles_archived as u64;
        self.position.archived += pass.articles_archived;
        Ok(pass.pages_failed)
    }

    /// Records a document as done (after its commit) and reports progress.
    fn document_done(&mut self) -> anyhow::Result<()> {
        self.report.documents += 1;
        self.position.documents += 1;
        self.save()?;
        (self.progress)(&self.position);
        Ok(())
    }

    fn save(&mut self) -> anyhow::Result<()> {
        self.state.updated_at = Some(Utc::now());
        self.p.store.put_backfill_state(&self.f.id, self.state)
    }
}
