//! The revisit pass: archived articles whose next age is reached ([`crate::revisit::RevisitState`]) are
//! fetched again through the one fetcher ([`Pipeline::fetch`], `FetchKind::Revisit`: the same per-host
//! permits, delays, robots.txt and private-network guard as every page), with a conditional GET from the
//! validators of their last page, at most `[revisit] budget_per_pass` per pass, oldest due first. A page
//! is extracted with its feed's selectors and compared on its extracted fields only
//! ([`crate::revisit::Compared`]); a new version re-indexes the article with that version's title, text
//! and campaign tags, and is kept in the store with its snapshot. 404/410 or a redirect to a page that is
//! not the article marks it removed; a timeout, 5xx or 429 is tried again at a later pass.
//!
//! Crash safety: the index commit of the visits that re-index their article comes first, then one store
//! transaction with their new versions and revisit rows. A crash between the two leaves the rows as they
//! were, so the next pass revisits those articles again and finds the same change again: nothing
//! committed is lost, and no version is written twice (versions are inserted under their number, never
//! replaced). The rows of visits that change nothing in the index are committed to the store alone.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use sha2::{Digest as _, Sha256};
use tracing::{info, warn};

use super::{extract_page, retag_article, FetchKind, Pipeline, COMMIT_BATCH};
use crate::config::Config;
use crate::fetch::{FetchError, Fetched, Origin, Validators};
use crate::model::{Article, Extracted, FeedSpec, Page};
use crate::revisit::{self, Compared, Found, RevisitState, Schedule, StoredVersion};

/// What a revisit pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevisitReport {
    /// Articles due.
    pub due: usize,
    /// Due articles left for a later pass by the budget.
    pub over_budget: usize,
    /// Articles fetched again.
    pub revisited: usize,
    /// Of which answered 304 Not Modified.
    pub not_modified: usize,
    /// Of which returned a page whose compared fields had not changed.
    pub unchanged: usize,
    /// New versions found.
    pub new_versions: usize,
    /// Returns to an earlier version.
    pub returns: usize,
    /// Articles found removed (first seen gone in this pass).
    pub removed: usize,
    /// Articles back after being removed.
    pub restored: usize,
    /// Revisits that failed transiently (tried again later) or for good (stage skipped).
    pub failed: usize,
    /// Due rows whose article is not in the archive (never committed), skipped.
    pub missing: usize,
}

impl std::fmt::Display for RevisitReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "revisits: {} due ({} over budget), {} fetched ({} not modified, {} unchanged), {} new versions, \
             {} returns, {} removed, {} restored, {} failed",
            self.due,
            self.over_budget,
            self.revisited,
            self.not_modified,
            self.unchanged,
            self.new_versions,
            self.returns,
            self.removed,
            self.restored,
            self.failed
        )
    }
}

/// How a revisit's fetch ended, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// 304.
    NotModified,
    /// A page (compared, or judged not the article).
    Page,
    /// 404/410, or redirected to a page that is not the article.
    Gone,
    /// A failure (transient or not), or nothing to compare.
    Failed,
    /// The article is not in the archive (a row whose article was never committed): skipped, its row
    /// left as it is.
    Missing,
}

/// One revisit's result, applied after the fetches of its batch.
struct Visit {
    id: String,
    ending: Ending,
    state: RevisitState,
    /// The article to re-index (new fields, or a new revision), if anything changed.
    article: Option<Article>,
    /// Versions to keep, with the page of each (None: a copy of the first snapshot).
    versions: Vec<(StoredVersion, Option<Page>)>,
}

/// The revisit schedule of `config`: its `[revisit]` ages and the feeds it covers ([`Schedule`]; the
/// store's due table is kept under it).
pub fn revisit_schedule(config: &Config) -> Schedule {
    let settings = &config.revisit;
    Schedule {
        ages: settings.ages.clone(),
        feeds: config
            .feeds
            .iter()
            .filter(|f| settings.covers(f))
            .map(|f| f.id.clone())
            .collect(),
    }
}

/// Revisits the archived articles due at `now`, within `[revisit] budget_per_pass`, oldest due first.
/// Only the rows that are due are read (the store's due table), so a pass with nothing due costs one
/// small read. The fetches run in batches of [`COMMIT_BATCH`]; each batch's rows whose article is not
/// re-indexed (a 304, an unchanged page, a failure) are committed to the store after it, and the visits
/// that change the index wait until [`COMMIT_BATCH`] of them (or the pass's end) for one index commit,
/// then their store commit (see the module doc): an index commit costs far more than a store commit.
pub async fn revisit_pass(p: &Pipeline, now: DateTime<Utc>) -> anyhow::Result<RevisitReport> {
    let settings = &p.config.revisit;
    let mut report = RevisitReport::default();
    if settings.budget_per_pass == 0 || settings.ages.is_empty() {
        return Ok(report);
    }
    let schedule = revisit_schedule(&p.config);
    p.store.sync_revisit_due(&schedule)?;
    let due = p
        .store
        .revisit_due(&schedule, now, settings.budget_per_pass)?;
    if !due.stale.is_empty() {
        warn!(
            entries = due.stale.len(),
            "revisit due entries that no longer match their row, dropped"
        );
        p.store.drop_stale_due(&due.stale)?;
    }
    report.due = due.due;
    report.over_budget = due.due.saturating_sub(due.rows.len());
    if due.rows.is_empty() {
        return Ok(report);
    }
    let concurrency = p.config.fetch.concurrency.max(1);
    let mut held: Vec<Visit> = Vec::new();
    let mut rows = due.rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<(String, RevisitState, &FeedSpec)> = rows
            .by_ref()
            .take(COMMIT_BATCH)
            .filter_map(|(id, state)| {
                let feed = p.config.feed(&state.feed)?;
                Some((id, state, feed))
            })
            .collect();
        let outcomes: Vec<anyhow::Result<Visit>> = stream::iter(batch)
            .map(|(id, state, feed)| revisit_one(p, feed, id, state, now))
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let mut plain = Vec::with_capacity(outcomes.len());
        for outcome in outcomes {
            let visit = outcome?;
            if visit.ending == Ending::Missing {
                report.missing += 1;
            } else if visit.article.is_some() {
                held.push(visit);
            } else {
                plain.push(visit);
            }
        }
        commit_visits(p, &plain, &schedule, &mut report, now)?;
        if held.len() >= COMMIT_BATCH || rows.peek().is_none() {
            commit_visits(p, &held, &schedule, &mut report, now)?;
            held.clear();
        }
    }
    info!(%report, "revisit pass done");
    Ok(report)
}

/// Commits visits: the index first (the articles as their pages are now), when any is re-indexed, then
/// one store transaction with their versions and rows (see the module doc); counts them into the report.
fn commit_visits(
    p: &Pipeline,
    visits: &[Visit],
    schedule: &Schedule,
    report: &mut RevisitReport,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if visits.is_empty() {
        return Ok(());
    }
    let changed: Vec<&Article> = visits.iter().filter_map(|v| v.article.as_ref()).collect();
    if !changed.is_empty() {
        let mut writer = p.take_writer()?;
        for article in &changed {
            writer.upsert(article)?;
        }
        writer.commit()?;
        p.keep_writer(writer);
        p.archive.reload()?;
    }
    let states: Vec<(String, RevisitState)> = visits
        .iter()
        .map(|v| (v.id.clone(), v.state.clone()))
        .collect();
    let versions: Vec<(String, StoredVersion, Option<&Page>)> = visits
        .iter()
        .flat_map(|v| {
            v.versions
                .iter()
                .map(|(version, page)| (v.id.clone(), version.clone(), page.as_ref()))
        })
        .collect();
    p.store.commit_revisits(&states, &versions, schedule)?;
    for v in visits {
        tally(report, v, now);
    }
    Ok(())
}

/// Counts one visit into the report from the row it left.
fn tally(report: &mut RevisitReport, v: &Visit, now: DateTime<Utc>) {
    report.revisited += 1;
    match v.ending {
        Ending::NotModified => report.not_modified += 1,
        Ending::Failed => report.failed += 1,
        Ending::Page | Ending::Gone | Ending::Missing => {}
    }
    let s = &v.state;
    let changed =
        s.edited_at == Some(now) || s.removed_at == Some(now) || s.restored_at == Some(now);
    if v.ending == Ending::Page && !changed {
        report.unchanged += 1;
    }
    if s.removed_at == Some(now) {
        report.removed += 1;
    }
    if s.restored_at == Some(now) {
        report.restored += 1;
    }
    report.new_versions += v.versions.iter().filter(|(ver, _)| ver.number > 1).count();
    if s.returns.last().is_some_and(|(at, _)| *at == now) {
        report.returns += 1;
    }
}

/// Fetches one due article again and decides what it found. The archived article is read from the index
/// only when the answer needs it: a page, a removal, or a 304 that changes its revision (back after a
/// removal); a plain 304 reads nothing.
async fn revisit_one(
    p: &Pipeline,
    feed: &FeedSpec,
    id: String,
    mut state: RevisitState,
    now: DateTime<Utc>,
) -> anyhow::Result<Visit> {
    let ages = &p.config.revisit.ages;
    let mut visit = Visit {
        id,
        ending: Ending::Failed,
        state: state.clone(),
        article: None,
        versions: Vec::new(),
    };
    let Ok(url) = url::Url::parse(&state.url) else {
        warn!(url = %state.url, "revisit row with an unreadable URL: no more revisits");
        state.stage = ages.len();
        visit.state = state;
        return Ok(visit);
    };
    let validators = Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    let fetched = p
        .fetch(
            FetchKind::Revisit,
            &url,
            Origin::Link,
            Some(&validators),
            p.fetcher.max_body_bytes(),
        )
        .await;
    state.revisited_at = Some(now);
    let before = state.revision();
    let page = match fetched {
        Ok(Fetched::NotModified) => {
            // The server says the page is the one we have: present, unchanged.
            visit.ending = Ending::NotModified;
            restore(&mut state, now);
            state.advance(ages, now);
            if state.revision() != before {
                let Some(article) = p.archive.article_by_url(&state.url)? else {
                    visit.ending = Ending::Missing;
                    return Ok(visit);
                };
                visit.article = reindexed(&article, &state, before);
            }
            visit.state = state;
            return Ok(visit);
        }
        Ok(Fetched::Page(page)) => page,
        Err(FetchError::Status { status, .. }) if revisit::is_gone(status) => {
            let Some(article) = p.archive.article_by_url(&state.url)? else {
                visit.ending = Ending::Missing;
                return Ok(visit);
            };
            visit.ending = Ending::Gone;
            mark_removed(&mut state, &format!("HTTP {status}"), now);
            state.advance(ages, now);
            visit.article = reindexed(&article, &state, before);
            visit.state = state;
            return Ok(visit);
        }
        Err(e) => {
            if e.is_transient() {
                warn!(url = %url, error = %e, "revisit failed, tried again later (not a removal)");
                state.failed(ages, now);
            } else {
                warn!(url = %url, error = %e, "revisit unusable, this age skipped");
                state.advance(ages, now);
            }
            visit.state = state;
            return Ok(visit);
        }
    };
    let Some(article) = p.archive.article_by_url(&state.url)? else {
        visit.ending = Ending::Missing;
        return Ok(visit);
    };
    let current = current_fields(p, feed, &visit.id, &state, &article).await?;
    let feed_owned = feed.clone();
    let job = tokio::task::spawn_blocking(move || {
        let extracted = extract_page(&feed_owned, &page).unwrap_or_else(|e| {
            warn!(url = %page.final_url, error = %e, "revisit: page over the extraction budget");
            None
        });
        (extracted, page)
    })
    .await;
    match job {
        Ok((Some(extracted), page)) => {
            visit.ending = Ending::Page;
            found_page(
                p, visit, state, article, current, extracted, *page, before, now,
            )
            .await
        }
        Ok((None, _)) => {
            warn!(url = %url, "revisit returned no HTML, this age skipped");
            state.advance(ages, now);
            visit.state = state;
            Ok(visit)
        }
        Err(e) => {
            warn!(url = %url, error = %e, "revisit extraction crashed, this age skipped");
            state.advance(ages, now);
            visit.state = state;
            Ok(visit)
        }
    }
}

/// A revisit that returned a page, extracted: removed (redirected away), same, a return or a new version.
#[allow(clippy::too_many_arguments)]
async fn found_page(
    p: &Pipeline,
    mut visit: Visit,
    mut state: RevisitState,
    article: Article,
    current: Compared,
    extracted: Extracted,
    page: Page,
    before: Option<crate::model::Revision>,
    now: DateTime<Utc>,
) -> anyhow::Result<Visit> {
    let ages = &p.config.revisit.ages;
    let fields = Compared::of(&extracted);
    let gone = revisit::not_the_article(&page.url, &page.final_url, &fields, &current)
        .or_else(|| revisit::soft_not_found(&fields, &current));
    if let Some(why) = gone {
        visit.ending = Ending::Gone;
        mark_removed(&mut state, &why, now);
        state.advance(ages, now);
        visit.article = reindexed(&article, &state, before);
        visit.state = state;
        return Ok(visit);
    }
    restore(&mut state, now);
    state.etag = page.etag.clone();
    state.last_modified = page.last_modified.clone();
    if state.hashes.is_empty() {
        // The first revisit that returned a page: version 1 is the first snapshot, extracted now.
        state.hashes.push(current.sha256());
    }
    // The tags of the version the page showed before this revisit: the archived article's, unless a pass
    // whose store write was lost already re-indexed it past that version (then that version's fields,
    // tagged again).
    let shown = article.revision.as_ref().map_or(1, |r| r.current.max(1));
    let before_campaigns = if shown == state.current.max(1) {
        article.campaigns.clone()
    } else {
        let mut then = article.clone();
        then.title = current.title.clone();
        then.text = current.text.clone();
        retag_article(&then, &p.tagger)
    };
    let hash = fields.sha256();
    let found = revisit::record(&mut state, &hash, &fields, &current, now);
    state.advance(ages, now);
    let updated = match &found {
        Found::Same | Found::OverCap => None,
        Found::Earlier(_) | Found::New(..) => {
            Some(with_page(&article, &extracted, &page, &p.tagger))
        }
    };
    if let Some(new) = &updated {
        // Each version is the archived article between two changes: the tags before and after this one
        // are every version's (the index's `campaign_dropped` is what the current one lacks of them).
        state.saw_campaigns(&before_campaigns);
        state.saw_campaigns(&new.campaigns);
    }
    if let Found::New(number, changed) = &found {
        info!(url = %article.url, version = number, changed = ?changed, "new version");
        if *number == 2 {
            // Version 1 is kept the first time the article changes (from the index and its first snapshot).
            visit.versions.push((
                StoredVersion {
                    number: 1,
                    fetched_at: article.fetched_at,
                    recorded_at: now,
                    http_status: article.http_status,
                    final_url: article.final_url.clone(),
                    fields: current.clone(),
                    fields_sha256: current.sha256(),
                    snapshot_sha256: p
                        .store
                        .snapshot(&visit.id)?
                        .map(|(_, body)| hex::encode(Sha256::digest(&body))),
                    campaigns: before_campaigns.clone(),
                    changed: Vec::new(),
                },
                None,
            ));
        }
        let new = updated.as_ref().unwrap_or(&article);
        visit.versions.push((
            StoredVersion {
                number: *number,
                fetched_at: page.fetched_at,
                recorded_at: now,
                http_status: page.status,
                final_url: page.final_url.to_string(),
                fields: fields.clone(),
                fields_sha256: hash.clone(),
                snapshot_sha256: Some(hex::encode(Sha256::digest(&page.body))),
                campaigns: new.campaigns.clone(),
                changed: changed.iter().map(|c| c.to_string()).collect(),
            },
            Some(page),
        ));
    }
    visit.article = match updated {
        Some(mut a) => {
            a.revision = state.revision();
            Some(a)
        }
        None => reindexed(&article, &state, before),
    };
    visit.state = state;
    Ok(visit)
}

/// The compared fields of the version the page showed last: the kept version, else (version 1 before
/// any change) the first snapshot extracted again with the feed's selectors, else (no snapshot) the
/// archived article's own fields.
async fn current_fields(
    p: &Pipeline,
    feed: &FeedSpec,
    id: &str,
    state: &RevisitState,
    article: &Article,
) -> anyhow::Result<Compared> {
    if state.current > 1 || !state.hashes.is_empty() {
        if let Some(v) = p
            .store
            .versions(id)?
            .into_iter()
            .find(|v| v.number == state.current)
        {
            return Ok(v.fields);
        }
    }
    let own = || {
        Compared::new(
            &article.title,
            &article.text,
            article.published,
            &article.authors,
        )
    };
    let Some((meta, body)) = p.store.snapshot(id)? else {
        return Ok(own());
    };
    let (Ok(url), Ok(final_url)) = (url::Url::parse(&meta.url), url::Url::parse(&meta.final_url))
    else {
        return Ok(own());
    };
    let page = Page {
        url,
        final_url,
        status: meta.status,
        content_type: meta.content_type,
        etag: None,
        last_modified: None,
        headers: Vec::new(),
        body,
        fetched_at: meta.fetched_at,
    };
    let feed = Arc::new(feed.clone());
    let extracted =
        tokio::task::spawn_blocking(move || extract_page(&feed, &page).ok().flatten()).await;
    Ok(match extracted {
        Ok(Some(e)) => Compared::of(&e),
        _ => own(),
    })
}

/// The article as a new page shows it: title, text, date, byline and metadata from the extraction
/// (each kept from before when the page has none), fetch details, and campaign tags recomputed.
fn with_page(
    article: &Article,
    extracted: &Extracted,
    page: &Page,
    tagger: &crate::tag::Tagger,
) -> Article {
    let mut a = article.clone();
    if let Some(title) = extracted.title.as_ref().filter(|t| !t.trim().is_empty()) {
        a.title = title.clone();
    }
    if !extracted.text.trim().is_empty() {
        a.text = extracted.text.clone();
        a.text_source = "page".into();
    }
    a.published = extracted.published.or(article.published);
    a.modified = extracted.modified.or(article.modified);
    a.authors = extracted.authors.clone();
    if extracted.description.is_some() {
        a.description = extracted.description.clone();
    }
    a.final_url = page.final_url.to_string();
    a.fetched_at = page.fetched_at;
    a.http_status = page.status;
    a.campaigns = retag_article(&a, tagger);
    a
}

/// The article with its new revision, when the revision changed (None: nothing to re-index).
fn reindexed(
    article: &Article,
    state: &RevisitState,
    before: Option<crate::model::Revision>,
) -> Option<Article> {
    let revision = state.revision();
    if revision == before && article.revision == revision {
        return None;
    }
    let mut a = article.clone();
    a.revision = revision;
    Some(a)
}

/// Marks the article gone at `now` (the first time only: the time is when it was first seen gone).
fn mark_removed(state: &mut RevisitState, why: &str, now: DateTime<Utc>) {
    if state.removed_at.is_none() {
        info!(url = %state.url, why, "article removed");
        state.removed_at = Some(now);
        state.removed_why = Some(why.to_string());
    }
}

/// The article is there again: a removal is over.
fn restore(state: &mut RevisitState, now: DateTime<Utc>) {
    if state.removed_at.take().is_some() {
        info!(url = %state.url, "article back after its removal");
        state.removed_why = None;
        state.restored_at = Some(now);
    }
}
