//! Feed health as users see it: one vocabulary (`new`, `ok`, `failing`, `unhealthy`) and one row per
//! configured feed, worked out here once for `feeds status`, the web workspace's feeds page and API,
//! and the digest's coverage section. Pure: the caller reads the feed states from the store.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::model::{Affiliation, FeedSpec};
use crate::store::FeedState;

/// Consecutive failures after which a feed is unhealthy (it is still tried after each backoff).
pub const UNHEALTHY_AFTER: u32 = 5;

/// A feed's health as shown to users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Never fetched.
    New,
    /// Last fetch succeeded.
    Ok,
    /// Failing, fewer than [`UNHEALTHY_AFTER`] times in a row.
    Failing,
    /// Failed at least [`UNHEALTHY_AFTER`] times in a row.
    Unhealthy,
}

impl Health {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::New => "new",
            Health::Ok => "ok",
            Health::Failing => "failing",
            Health::Unhealthy => "unhealthy",
        }
    }
}

/// The health of a feed from its state.
pub fn health(state: &FeedState) -> Health {
    match state.consecutive_failures {
        0 if state.last_success.is_none() && state.last_attempt.is_none() => Health::New,
        0 => Health::Ok,
        n if n >= UNHEALTHY_AFTER => Health::Unhealthy,
        _ => Health::Failing,
    }
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One feed's health and polling state, as `feeds status`, the web and the API show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FeedStatus {
    /// Feed id.
    pub id: String,
    /// Feed URL.
    pub url: String,
    /// Source kind: rss, sitemap, html or telegram.
    pub kind: &'static str,
    /// Outlet name.
    pub name: String,
    /// Affiliation.
    pub affiliation: Affiliation,
    /// ISO 3166-1 country.
    pub country: Option<String>,
    /// Health ([`health`]).
    pub health: Health,
    /// Last successful fetch (RFC 3339, seconds).
    pub last_success: Option<String>,
    /// Last attempt.
    pub last_attempt: Option<String>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// The last error.
    pub last_error: Option<String>,
    /// Backoff end.
    pub backoff_until: Option<String>,
    /// Backoff reason.
    pub backoff_reason: Option<String>,
    /// Entries seen, all passes.
    pub entries_seen: u64,
    /// Articles archived, all passes.
    pub articles_archived: u64,
    /// Entries whose page failed transiently and is to be tried again ([`crate::store::PendingEntry`]).
    pub pending: u64,
    /// Archived articles whose revisit is due now and not yet done (the revisit backlog), where the
    /// caller read it (`feeds status`); not serialised when not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revisits_due: Option<u64>,
    /// Polling interval.
    pub interval_secs: Option<u64>,
    /// Next fetch.
    pub next_due: Option<String>,
}

/// The status of one feed from its state (the default state when the store has none: `new`) and its
/// count of pending entries.
pub fn feed_status(feed: &FeedSpec, state: Option<&FeedState>, pending: u64) -> FeedStatus {
    let default = FeedState::default();
    let s = state.unwrap_or(&default);
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
    FeedStatus {
        id: feed.id.clone(),
        url: feed.url.to_string(),
        kind: feed.kind.as_str(),
        name: feed.name.clone(),
        affiliation: feed.affiliation,
        country: feed.country.clone(),
        health: health(s),
        last_success: time(s.last_success),
        last_attempt: time(s.last_attempt),
        consecutive_failures: s.consecutive_failures,
        last_error: s.last_error.clone(),
        backoff_until: time(s.backoff_until),
        backoff_reason: s.backoff_reason.clone(),
        entries_seen: s.entries_seen,
        articles_archived: s.articles_archived,
        pending,
        revisits_due: None,
        interval_secs: s.interval_secs,
        next_due: time(s.next_due),
    }
}

/// The status of every feed, in the order given, from the states and pending counts the store holds.
pub fn feed_statuses<'a>(
    feeds: impl IntoIterator<Item = &'a FeedSpec>,
    states: &HashMap<String, FeedState>,
    pending: &HashMap<String, u64>,
) -> Vec<FeedStatus> {
    feeds
        .into_iter()
        .map(|f| {
            let n = pending.get(&f.id).copied().unwrap_or(0);
            feed_status(f, states.get(&f.id), n)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary() {
        let mut s = FeedState::default();
        assert_eq!(health(&s).as_str(), "new");
        s.last_attempt = Some(Utc::now());
        s.last_success = s.last_attempt;
        assert_eq!(health(&s).as_str(), "ok");
        s.consecutive_failures = UNHEALTHY_AFTER - 1;
        assert_eq!(health(&s).as_str(), "failing");
        s.consecutive_failures = UNHEALTHY_AFTER;
        assert_eq!(health(&s).as_str(), "unhealthy");
        assert_eq!(serde_json::to_value(Health::New).unwrap(), "new");
        assert_eq!(Health::Unhealthy.to_string(), "unhealthy");
    }
}
