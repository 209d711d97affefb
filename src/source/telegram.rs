//! Public Telegram channel previews (`t.me/s/<channel>`). STUB.

use url::Url;

use super::{Listing, SourceError};

/// Reads a channel preview page: one entry per post, and the older page.
pub fn parse(
    feed_id: &str,
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<Listing, SourceError> {
    let _ = (feed_id, bytes, content_type, base);
    Err(SourceError("telegram reader not written yet".into()))
}
