//! Sitemaps (sitemaps.org 0.9): `<urlset>` files, `<sitemapindex>` files and the Google News extension,
//! plain or gzipped. STUB: replaced by the sitemap reader.

use url::Url;

use super::{Listing, SourceError};

/// The protocol's cap on URLs in one file.
pub const MAX_URLS: usize = 50_000;
/// The protocol's cap on one file's uncompressed size.
pub const MAX_BYTES: usize = 50 * 1024 * 1024;

/// Reads a sitemap or sitemap index (gzipped or not). `base` is the URL it was fetched from.
pub fn parse(feed_id: &str, bytes: &[u8], base: &Url) -> Result<Listing, SourceError> {
    let _ = (feed_id, bytes, base);
    Err(SourceError("sitemap reader not written yet".into()))
}

/// STUB: the date range a date-partitioned sitemap's URL names.
pub fn url_period(url: &Url) -> Option<(chrono::NaiveDate, chrono::NaiveDate)> {
    let _ = url;
    None
}

/// STUB: whether a sitemap named in an index may hold URLs dated in `[since, until]`.
pub fn child_in_window(
    child: &super::Child,
    since: chrono::DateTime<chrono::Utc>,
    until: Option<chrono::DateTime<chrono::Utc>>,
) -> bool {
    let _ = until;
    child.lastmod.is_none_or(|l| l >= since)
}
