//! Reading a source on a pass: its first document through the fetcher (conditional GET, body hash), the
//! reader of its kind ([`source::read`]), then the further documents the kind calls for: the sitemaps an index
//! names (depth cap, loop detection, only those that may hold URLs in the window, at most
//! [`MAX_SITEMAP_FILES`] files), and a Telegram channel's older pages when a pass finds nothing but new posts
//! (catching up after a pause, at most [`MAX_CATCH_UP_PAGES`]). Every document goes through the one fetcher.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha2::{Digest as _, Sha256};
use url::Url;

use super::{FeedOutcome, FetchKind, Pipeline};
use crate::fetch::{FetchError, Fetched, Origin, Validators};
use crate::model::{Entry, FeedSpec, Page, SourceKind};
use crate::source::{self, sitemap, Child, Listing};
use crate::store::FeedState;

/// Index levels followed below a sitemap index at most (index -> index -> index -> sitemap).
pub const MAX_SITEMAP_DEPTH: usize = 3;
/// Sitemap files fetched for one source on one pass at most (indexes included).
pub const MAX_SITEMAP_FILES: usize = 64;
/// Older pages of a Telegram channel read on one pass at most, when every post on the newest is new.
pub const MAX_CATCH_UP_PAGES: usize = 5;

/// The dates a read takes: `[since, until]`, either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    /// Nothing older.
    pub since: Option<DateTime<Utc>>,
    /// Nothing newer.
    pub until: Option<DateTime<Utc>>,
}

impl Window {
    /// The window of a regular pass: a sitemap's `max_age_days` back from now; every other kind takes what
    /// its document holds.
    pub fn regular(f: &FeedSpec, now: DateTime<Utc>) -> Window {
        match f.kind {
            SourceKind::Sitemap { max_age_days } => Window {
                since: Some(now - Duration::days(i64::from(max_age_days))),
                until: None,
            },
            _ => Window::default(),
        }
    }

    /// Whether a date falls in the window.
    pub fn contains(&self, d: DateTime<Utc>) -> bool {
        self.since.is_none_or(|s| d >= s) && self.until.is_none_or(|u| d <= u)
    }

    /// Whether a period of days (both ends included) meets the window.
    fn overlaps(&self, (start, end): (NaiveDate, NaiveDate)) -> bool {
        self.since.is_none_or(|s| end >= s.date_naive())
            && self.until.is_none_or(|u| start <= u.date_naive())
    }

    /// The entries of one sitemap file the window takes, and how many undated ones it could not place. An
    /// undated URL is taken when the file's own URL names a period (`sitemap-2026-11.xml`) that meets the
    /// window, or when the window is open at both ends.
    pub fn take(&self, entries: Vec<Entry>, file: &Url) -> (Vec<Entry>, usize) {
        let open = self.since.is_none() && self.until.is_none();
        let period_ok = open || sitemap::url_period(file).is_some_and(|p| self.overlaps(p));
        let mut undated = 0;
        let taken = entries
            .into_iter()
            .filter(|e| match source::entry_date(e) {
                Some(d) => self.contains(d),
                None if period_ok => true,
                None => {
                    undated += 1;
                    false
                }
            })
            .collect();
        (taken, undated)
    }
}

/// Reads a source on a regular pass: the first document with conditional GET, then what its kind follows.
pub(super) async fn read_source(
    p: &Pipeline,
    f: &FeedSpec,
    state: &FeedState,
    now: DateTime<Utc>,
) -> FeedOutcome {
    let validators = Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    let page = match p
        .fetch(
            FetchKind::Feed,
            &f.url,
            Origin::Config,
            Some(&validators),
            body_cap(p, f),
        )
        .await
    {
        Ok(Fetched::NotModified) => return FeedOutcome::NotModified,
        Ok(Fetched::Page(page)) => page,
        Err(e) => return failed(e),
    };
    let sha256 = hex::encode(Sha256::digest(&page.body));
    if state.body_sha256.as_deref() == Some(sha256.as_str()) {
        return FeedOutcome::Unchanged;
    }
    let listing = match source::read(f, &page, p.config.fetch.max_entries_per_feed) {
        Ok(listing) => listing,
        Err(e) => {
            return FeedOutcome::Failed {
                error: e.to_string(),
                retry_after: None,
            }
        }
    };
    let validators = Some((
        Validators {
            etag: page.etag.clone(),
            last_modified: page.last_modified.clone(),
        },
        sha256,
    ));
    match f.kind {
        SourceKind::Sitemap { .. } => {
            let is_index = !listing.children.is_empty();
            let window = Window::regular(f, now);
            let mut walk = SitemapWalk::start(&page.final_url, listing, window);
            let mut entries = Vec::new();
            let mut undated = 0;
            let mut read = 0;
            while let Some(file) = walk.next_file(p, f, &HashSet::new()).await {
                read += 1;
                let (taken, skipped) = window.take(file.listing.entries, &file.url);
                entries.extend(taken);
                undated += skipped;
            }
            let mut notices = walk.notices;
            if undated > 0 {
                notices.push(format!(
                    "{undated} sitemap URLs without a date were skipped (a pass takes the URLs dated in the \
                     last max_age_days; `mediawatch backfill` takes older ones)"
                ));
            }
            if read == 0 {
                if let Some(error) = walk.first_error {
                    // Every sitemap the index named failed: the source failed, it did not come back empty.
                    return FeedOutcome::Failed {
                        error,
                        retry_after: None,
                    };
                }
            }
            FeedOutcome::Entries {
                entries,
                // An index's sitemaps change under it: read it in full every pass.
                validators: if is_index { None } else { validators },
                notices,
            }
        }
        SourceKind::Telegram => {
            let mut notices = listing.notices.clone();
            let entries = catch_up(p, f, state, listing, &mut notices).await;
            FeedOutcome::Entries {
                entries,
                validators,
                notices,
            }
        }
        SourceKind::Rss | SourceKind::Html { .. } => FeedOutcome::Entries {
            entries: listing.entries,
            validators,
            notices: listing.notices,
        },
    }
}

/// A Telegram preview shows the newest posts only. When every post on it is new and the channel was read
/// before, posts may have been missed since: follow the older pages until one holds an archived post.
async fn catch_up(
    p: &Pipeline,
    f: &FeedSpec,
    state: &FeedState,
    first: Listing,
    notices: &mut Vec<String>,
) -> Vec<Entry> {
    let all_new = |l: &Listing| {
        !l.entries.is_empty()
            && l.entries
                .iter()
                .all(|e| !p.archive.contains_url(e.url.as_str()).unwrap_or(true))
    };
    let mut keep_going = state.last_success.is_some() && all_new(&first);
    let mut older = first.older.clone();
    let mut entries = first.entries;
    let mut pages = 0;
    let mut visited: HashSet<String> = HashSet::from([f.url.to_string()]);
    while keep_going && pages < MAX_CATCH_UP_PAGES {
        let Some(url) = older.take() else { break };
        if !visited.insert(url.to_string()) {
            notices.push(format!("older page {url} was already read; stopped there"));
            break;
        }
        pages += 1;
        let listing = match fetch_listing(p, f, &url).await {
            Ok(l) => l,
            Err(e) => {
                notices.push(format!("older page {url}: {e}"));
                break;
            }
        };
        keep_going = all_new(&listing);
        older = listing.older.clone();
        entries.extend(listing.entries);
    }
    if keep_going && pages == MAX_CATCH_UP_PAGES {
        notices.push(format!(
            "more than {MAX_CATCH_UP_PAGES} pages of new posts since the last pass; older ones are left to \
             `mediawatch backfill`"
        ));
    }
    entries
}

/// Fetches a further document of a source and reads it. On the source's own origin it is part of the
/// source the user configured (trusted as written, no robots.txt, like the first document); anywhere else
/// it is a link found in a document (the private-network guard and robots.txt apply).
pub(super) async fn fetch_listing(
    p: &Pipeline,
    f: &FeedSpec,
    url: &Url,
) -> Result<Listing, String> {
    let same_origin = url.scheme() == f.url.scheme()
        && url.host_str() == f.url.host_str()
        && url.port_or_known_default() == f.url.port_or_known_default();
    let origin = if same_origin {
        Origin::Config
    } else {
        Origin::Link
    };
    let page = fetch_page(p, f, url, origin)
        .await
        .map_err(|e| e.to_string())?;
    source::read(f, &page, p.config.fetch.max_entries_per_feed).map_err(|e| e.to_string())
}

/// The body cap of a source's documents: the configured one, or the protocol's 50 MB for sitemaps when
/// that is more (a full 50,000-URL sitemap is often over 10 MB).
pub(super) fn body_cap(p: &Pipeline, f: &FeedSpec) -> u64 {
    let configured = p.fetcher.max_body_bytes();
    match f.kind {
        SourceKind::Sitemap { .. } => configured.max(sitemap::MAX_BYTES as u64),
        _ => configured,
    }
}

async fn fetch_page(
    p: &Pipeline,
    f: &FeedSpec,
    url: &Url,
    origin: Origin,
) -> Result<Box<Page>, FetchError> {
    p.fetch(FetchKind::Further, url, origin, None, body_cap(p, f))
        .await?
        .into_page()
}

fn failed(e: FetchError) -> FeedOutcome {
    let retry_after = match &e {
        FetchError::Status { retry_after, .. } => *retry_after,
        _ => None,
    };
    FeedOutcome::Failed {
        error: e.to_string(),
        retry_after,
    }
}

/// One sitemap file (a `<urlset>`) reached by a walk.
pub(super) struct SitemapFile {
    /// Where it was fetched from.
    pub url: Url,
    /// What it holds.
    pub listing: Listing,
}

/// A walk through a sitemap index, breadth first: yields the `<urlset>` files whose index entry may hold URLs
/// in the window, fetching each once (loop detection), no deeper than [`MAX_SITEMAP_DEPTH`], no more than
/// [`MAX_SITEMAP_FILES`] fetched. What went wrong on the way is kept in `notices` (the walk goes on).
pub(super) struct SitemapWalk {
    queue: VecDeque<(Child, usize)>,
    first: Option<SitemapFile>,
    visited: HashSet<String>,
    window: Window,
    fetched: usize,
    /// Files that failed, loops, caps: for the pass report.
    pub notices: Vec<String>,
    /// The first failure, for a source all of whose sitemaps failed.
    pub first_error: Option<String>,
}

impl SitemapWalk {
    /// Starts from the source's first document, already read.
    pub fn start(url: &Url, listing: Listing, window: Window) -> SitemapWalk {
        let mut walk = SitemapWalk {
            queue: VecDeque::new(),
            first: None,
            visited: HashSet::from([url.to_string()]),
            window,
            fetched: 1,
            notices: listing.notices.clone(),
            first_error: None,
        };
        walk.add(url, listing, 0);
        walk
    }

    fn add(&mut self, url: &Url, listing: Listing, depth: usize) {
        if listing.children.is_empty() {
            if self.first.is_none() && depth == 0 {
                self.first = Some(SitemapFile {
                    url: url.clone(),
                    listing,
                });
            }
            return;
        }
        if depth >= MAX_SITEMAP_DEPTH {
            self.notices.push(format!(
                "sitemap index {url} is nested deeper than {MAX_SITEMAP_DEPTH} levels; its sitemaps were not read"
            ));
            return;
        }
        for child in listing.children {
            let may_hold = self
                .window
                .since
                .is_none_or(|since| sitemap::child_in_window(&child, since, self.window.until));
            if may_hold {
                self.queue.push_back((child, depth + 1));
            }
        }
    }

    /// The next `<urlset>` file of the walk; `done` names files to skip without fetching (a resumed backfill).
    pub async fn next_file(
        &mut self,
        p: &Pipeline,
        f: &FeedSpec,
        done: &HashSet<String>,
    ) -> Option<SitemapFile> {
        if let Some(first) = self.first.take() {
            return Some(first);
        }
        while let Some((child, depth)) = self.queue.pop_front() {
            let key = child.url.to_string();
            if !self.visited.insert(key.clone()) {
                self.notices.push(format!(
                    "sitemap index loop: {key} is listed again; read once"
                ));
                continue;
            }
            if done.contains(&key) {
                continue;
            }
            if self.fetched >= MAX_SITEMAP_FILES {
                self.notices.push(format!(
                    "more than {MAX_SITEMAP_FILES} sitemap files in reach; {} left for a later pass",
                    self.queue.len() + 1
                ));
                self.queue.clear();
                return None;
            }
            self.fetched += 1;
            match fetch_listing(p, f, &child.url).await {
                Ok(listing) => {
                    self.notices.extend(listing.notices.iter().cloned());
                    if listing.children.is_empty() {
                        return Some(SitemapFile {
                            url: child.url,
                            listing,
                        });
                    }
                    self.add(&child.url, listing, depth);
                }
                Err(e) => {
                    let msg = format!("sitemap {key}: {e}");
                    self.first_error.get_or_insert(msg.clone());
                    self.notices.push(msg);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn window_takes_dated_entries_in_range_and_undated_only_from_a_period_file() {
        let w = Window {
            since: Some(day("2026-11-01T00:00:00Z")),
            until: Some(day("2026-11-30T23:59:59Z")),
        };
        let url = |u: &str| Url::parse(u).unwrap();
        let mut old = Entry::new("f", url("https://x.example/old"));
        old.published = Some(day("2026-10-31T23:00:00Z"));
        let mut inside = Entry::new("f", url("https://x.example/in"));
        inside.modified = Some(day("2026-11-15T00:00:00Z"));
        let undated = Entry::new("f", url("https://x.example/undated"));
        let all = vec![old, inside, undated];
        let (taken, skipped) = w.take(all.clone(), &url("https://x.example/sitemap.xml"));
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].url.path(), "/in");
        assert_eq!(skipped, 1);
        let (taken, skipped) = Window::default().take(all, &url("https://x.example/sitemap.xml"));
        assert_eq!((taken.len(), skipped), (3, 0));
    }
}
