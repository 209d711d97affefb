//! Sources: one reader per kind of document a `[[feeds]]` entry may point at, all behind [`read`].
//!
//! A reader turns one fetched document into a [`Listing`]: the entries it names (articles to archive, or, for
//! Telegram, whole posts), the further documents of the same source (a sitemap index's sitemaps, a channel
//! preview's older page) and what to report. Readers do no I/O: the pipeline fetches every document through
//! the one fetcher and decides which further documents to follow (`pipeline`, regular passes and backfill).
//!
//! - `feed`: RSS 0.9x/1.0/2.0, Atom and JSON Feed (feed-rs), `kind = "rss"`;
//! - `sitemap`: sitemaps, sitemap indexes and Google News sitemaps, plain or gzipped, `kind = "sitemap"`;
//! - `section`: a section or listing page whose links a CSS selector picks, `kind = "html"`;
//! - `telegram`: a public channel's web preview (`t.me/s/<channel>`), `kind = "telegram"`;
//! - `discover`: candidate sources of a site (feed links, common paths, robots.txt `Sitemap:` lines).

use chrono::{DateTime, Utc};
use url::Url;

use crate::model::{Entry, FeedSpec, Page, SourceKind};

pub mod discover;
pub mod feed;
pub mod section;
pub mod sitemap;
pub mod telegram;

/// What a reader found in one document of a source.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// The document's own title (a feed's or channel's title), when it has one.
    pub title: Option<String>,
    /// Entries with a usable http(s) link, in document order.
    pub entries: Vec<Entry>,
    /// Further documents of the source to read (the sitemaps a sitemap index names), in document order.
    pub children: Vec<Child>,
    /// The next older page of the source (a Telegram preview's `before=` link), when there is one.
    pub older: Option<Url>,
    /// Entries dropped because they had no usable http(s) link.
    pub skipped_without_link: usize,
    /// Entries beyond a cap (the per-pass cap of feeds, the protocol's 50,000 URLs of a sitemap).
    pub skipped_over_cap: usize,
    /// What to report that does not fail the source (a sitemap over the protocol's caps, say).
    pub notices: Vec<String>,
}

/// A further document named by a source document (a sitemap in a sitemap index).
#[derive(Debug, Clone, PartialEq)]
pub struct Child {
    /// Its absolute URL.
    pub url: Url,
    /// Its `lastmod`, when given.
    pub lastmod: Option<DateTime<Utc>>,
}

/// Why a document could not be read as its source kind: the reason, in words a user can act on
/// (a changed Telegram layout, a selector that matches nothing, not a sitemap).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// The date an entry is filed under when a source is read by date: its publication time, else its
/// modification time (a sitemap's `lastmod`).
pub fn entry_date(e: &Entry) -> Option<DateTime<Utc>> {
    e.published.or(e.modified)
}

/// Reads one fetched document of `spec`'s source with the reader of its kind. `max_entries` caps the
/// entries of a feed document (sitemaps have the protocol's own cap; the pipeline caps what it takes).
pub fn read(spec: &FeedSpec, page: &Page, max_entries: usize) -> Result<Listing, SourceError> {
    let content_type = page.content_type.as_deref();
    let base = &page.final_url;
    match &spec.kind {
        SourceKind::Rss => {
            let parsed = feed::parse(&spec.id, &page.body, content_type, base, max_entries)
                .map_err(|e| SourceError(e.to_string()))?;
            Ok(Listing {
                title: parsed.title,
                entries: parsed.entries,
                skipped_without_link: parsed.skipped_without_link,
                skipped_over_cap: parsed.skipped_over_cap,
                ..Listing::default()
            })
        }
        SourceKind::Sitemap { .. } => sitemap::parse(&spec.id, &page.body, base),
        SourceKind::Html { .. } => {
            let rules = section::LinkRules::from_kind(&spec.kind)
                .ok_or_else(|| SourceError("not an html source".into()))?;
            section::parse(&spec.id, &page.body, content_type, base, &rules)
        }
        SourceKind::Telegram => telegram::parse(&spec.id, &page.body, content_type, base),
    }
}
