//! When to fetch a feed again: backoff after failures, `Retry-After`, health, and the adaptive polling
//! interval of the daemon. Pure functions over [`FeedState`]; the pass and the daemon call them.
//!
//! - A 429 or 503 with `Retry-After` backs off for that long (at most [`MAX_RETRY_AFTER`]).
//! - Any other failure backs off exponentially: [`BACKOFF_BASE`] × 2^(failures-1), at most [`BACKOFF_MAX`].
//! - [`crate::status::UNHEALTHY_AFTER`] consecutive failures mark a feed unhealthy. It is still tried after each backoff
//!   and shown by `feeds status` and in every pass summary: never silently forgotten.
//! - After a success the polling interval halves when the feed had new entries and grows by half when it
//!   had none, within `[fetch] min_interval_secs..max_interval_secs`. A per-feed `interval_secs` fixes it.
//! - A page that failed transiently is pending: tried again at the feed's next pass, then after
//!   [`PAGE_RETRY_BASE`] × 2^(attempts-2) (at most [`BACKOFF_MAX`]); its [`PAGE_ATTEMPTS`]th attempt is its
//!   last, after which the entry is archived with the feed's text.

use chrono::{DateTime, Duration, Utc};

use crate::config::FetchSettings;
use crate::model::FeedSpec;
use crate::store::FeedState;

/// First backoff after a failure.
pub const BACKOFF_BASE: Duration = Duration::minutes(5);
/// Longest failure backoff.
pub const BACKOFF_MAX: Duration = Duration::hours(24);
/// Longest server-requested backoff honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::days(7);

/// Attempts at a page that fails transiently before its entry is archived with the feed's text
/// (`text_source = "feed"`, the last HTTP status): the first pass's attempt and four retries.
pub const PAGE_ATTEMPTS: u32 = 5;
/// Wait before a pending page's third attempt; it doubles for each later one (the second is at the
/// feed's next pass).
pub const PAGE_RETRY_BASE: Duration = Duration::minutes(5);

/// When a page that has now failed `attempts` times (transiently) is next due: the feed's next pass after
/// the first failure, then [`PAGE_RETRY_BASE`] × 2^(attempts-2), at most [`BACKOFF_MAX`].
pub fn page_retry_at(attempts: u32, now: DateTime<Utc>) -> DateTime<Utc> {
    if attempts <= 1 {
        return now;
    }
    let exponent = (attempts - 2).min(20);
    now + (PAGE_RETRY_BASE * 2i32.pow(exponent)).min(BACKOFF_MAX)
}

/// Whether the attempt after `attempts` failed ones is a page's last ([`PAGE_ATTEMPTS`]).
pub fn is_last_page_attempt(attempts: u32) -> bool {
    attempts.saturating_add(1) >= PAGE_ATTEMPTS
}

/// The backoff in force at `now`, if any: until when.
pub fn backed_off_until(state: &FeedState, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    state.backoff_until.filter(|until| *until > now)
}

/// Whether the daemon should fetch the feed at `now`.
pub fn is_due(state: &FeedState, now: DateTime<Utc>) -> bool {
    backed_off_until(state, now).is_none() && state.next_due.is_none_or(|due| due <= now)
}

/// Records a failed fetch: failure count, error, backoff and next due time.
pub fn after_failure(
    state: &mut FeedState,
    error: &str,
    retry_after_secs: Option<u64>,
    now: DateTime<Utc>,
) {
    state.last_attempt = Some(now);
    state.consecutive_failures = state.consecutive_failures.saturating_add(1);
    state.last_error = Some(error.to_string());
    let wait = match retry_after_secs {
        Some(secs) => Duration::seconds(secs.min(i64::MAX as u64) as i64).min(MAX_RETRY_AFTER),
        None => {
            let exponent = state.consecutive_failures.saturating_sub(1).min(20);
            (BACKOFF_BASE * 2i32.pow(exponent)).min(BACKOFF_MAX)
        }
    };
    state.backoff_until = Some(now + wait);
    state.backoff_reason = Some(match retry_after_secs {
        Some(secs) => format!("server asked to retry after {secs} s"),
        None => format!("{} consecutive failures", state.consecutive_failures),
    });
    state.next_due = state.backoff_until;
}

/// Records a successful fetch (200 or 304): clears failures and backoff, adapts the interval.
pub fn after_success(
    state: &mut FeedState,
    feed: &FeedSpec,
    settings: &FetchSettings,
    new_entries: usize,
    now: DateTime<Utc>,
) {
    state.last_attempt = Some(now);
    state.last_success = Some(now);
    state.consecutive_failures = 0;
    state.last_error = None;
    state.backoff_until = None;
    state.backoff_reason = None;
    let interval = match feed.interval_secs {
        Some(fixed) => fixed,
        None => {
            let current = state.interval_secs.unwrap_or(settings.min_interval_secs);
            let next = if new_entries > 0 {
                current / 2
            } else {
                current + current / 2
            };
            next.clamp(settings.min_interval_secs, settings.max_interval_secs)
        }
    };
    state.interval_secs = Some(interval);
    if new_entries > 0 {
        state.last_new_entries = Some(now);
    }
    state.next_due = Some(now + Duration::seconds(interval as i64));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{health, Health};

    fn feed(interval: Option<u64>) -> FeedSpec {
        FeedSpec {
            id: "f".into(),
            url: url::Url::parse("http://f.example/rss").unwrap(),
            name: "F".into(),
            affiliation: Default::default(),
            country: None,
            language: None,
            typology: None,
            interval_secs: interval,
            content_selector: None,
            remove_selectors: vec![],
            kind: crate::model::SourceKind::Rss,
        }
    }

    #[test]
    fn exponential_backoff_and_health() {
        let now = Utc::now();
        let mut s = FeedState::default();
        assert_eq!(health(&s), Health::New);
        let mut waits = Vec::new();
        for _ in 0..8 {
            after_failure(&mut s, "HTTP status 500", None, now);
            waits.push((s.backoff_until.unwrap() - now).num_minutes());
        }
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640]);
        assert_eq!(health(&s), Health::Unhealthy);
        for _ in 0..20 {
            after_failure(&mut s, "x", None, now);
        }
        assert_eq!(s.backoff_until.unwrap() - now, BACKOFF_MAX);
        assert!(!is_due(&s, now));
        assert!(is_due(&s, now + BACKOFF_MAX + Duration::seconds(1)));
    }

    #[test]
    fn pending_pages_back_off_exponentially_and_have_a_last_attempt() {
        let now = Utc::now();
        let waits: Vec<i64> = (1..=7)
            .map(|n| (page_retry_at(n, now) - now).num_minutes())
            .collect();
        assert_eq!(waits, [0, 5, 10, 20, 40, 80, 160]);
        assert_eq!(page_retry_at(u32::MAX, now) - now, BACKOFF_MAX);
        let last: Vec<bool> = (0..PAGE_ATTEMPTS + 1).map(is_last_page_attempt).collect();
        assert_eq!(last, [false, false, false, false, true, true]);
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let now = Utc::now();
        let mut s = FeedState::default();
        after_failure(&mut s, "HTTP status 429", Some(120), now);
        assert_eq!(
            backed_off_until(&s, now),
            Some(now + Duration::seconds(120))
        );
        assert_eq!(health(&s), Health::Failing);
        after_failure(&mut s, "HTTP status 503", Some(100 * 86_400), now);
        assert_eq!(s.backoff_until, Some(now + MAX_RETRY_AFTER));
    }

    #[test]
    fn interval_adapts_within_bounds_and_success_clears_backoff() {
        let settings = FetchSettings {
            min_interval_secs: 600,
            max_interval_secs: 4000,
            ..Default::default()
        };
        let now = Utc::now();
        let mut s = FeedState::default();
        after_failure(&mut s, "x", None, now);
        let mut intervals = Vec::new();
        for new in [0, 0, 0, 0, 0, 3, 1] {
            after_success(&mut s, &feed(None), &settings, new, now);
            intervals.push(s.interval_secs.unwrap());
        }
        assert_eq!(intervals, [900, 1350, 2025, 3037, 4000, 2000, 1000]);
        assert_eq!(s.consecutive_failures, 0);
        assert!(s.backoff_until.is_none());
        assert_eq!(health(&s), Health::Ok);
        assert_eq!(s.next_due, Some(now + Duration::seconds(1000)));
        after_success(&mut s, &feed(Some(300)), &settings, 0, now);
        assert_eq!(s.interval_secs, Some(300), "a per-feed interval is fixed");
    }
}
