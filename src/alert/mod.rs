//! Alerts (`[[alerts]]`, issue #27): saved searches that push. This file is the pure part: the search
//! request of an alert (the same query and filters as `mediawatch search`), the message built from its
//! hits ([`message`], at most [`MAX_ARTICLES`] articles), the webhook body and its signature
//! ([`body`], [`signature`]), and the retry rule ([`retry_at`], [`outcome`]). Beside it: `eval` runs the
//! alerts over the articles a commit added and enqueues their messages in the store's outbox (with the
//! alerts' marks, in one transaction); `deliver` POSTs the outbox's messages to their webhooks
//! and `email` mails them.

pub mod deliver;
pub mod email;
pub mod eval;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::model::{AlertArticle, AlertBatch, AlertMessage, AlertSpec, Hit};
use crate::search::{SearchRequest, Sort};

/// Articles one message holds at most; `total` and `more` say what was left out.
pub const MAX_ARTICLES: usize = 50;

/// How long a delivery that fails transiently (no connection, timeout, 5xx, 408, 429) is retried: an
/// attempt that fails after this long since the message was enqueued is the last.
pub const RETRY_WINDOW: Duration = Duration::hours(24);

/// The first retry's delay; each further one doubles, up to [`MAX_RETRY_DELAY`].
pub const FIRST_RETRY_DELAY: Duration = Duration::seconds(30);

/// The longest delay between two attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::hours(1);

/// How long a message whose deliveries are all done (delivered or failed) stays in the outbox.
pub const KEEP_DONE: Duration = Duration::days(30);

/// The header that carries the body's HMAC-SHA256 when the alert has a secret.
pub const SIGNATURE_HEADER: &str = "X-Mediawatch-Signature";

/// The search an alert runs: its query and filters, newest first, [`MAX_ARTICLES`] hits.
pub fn request(alert: &AlertSpec) -> SearchRequest {
    SearchRequest {
        query: alert.query.clone(),
        lang: alert.lang.clone(),
        campaign: alert.campaign.clone(),
        feed: alert.feed.clone(),
        affiliation: alert.affiliation.clone(),
        country: alert.country.clone(),
        script: alert.script.clone(),
        since: None,
        until: None,
        limit: MAX_ARTICLES,
        offset: 0,
        sort: Sort::Newest,
        changed: false,
    }
}

/// The message of an alert that matched `total` articles, the first of which are `hits` (at most
/// [`MAX_ARTICLES`] are kept).
pub fn message(
    alert: &AlertSpec,
    hits: Vec<Hit>,
    total: usize,
    fired_at: DateTime<Utc>,
) -> AlertMessage {
    let articles: Vec<AlertArticle> = hits
        .into_iter()
        .take(MAX_ARTICLES)
        .map(|h| AlertArticle {
            id: h.id,
            url: h.url,
            title: h.title,
            feed: h.feed,
            source_name: h.source_name,
            affiliation: h.affiliation,
            country: h.country,
            lang: h.lang,
            published: h.published,
            campaigns: h.campaigns,
            snippet: h.snippet,
        })
        .collect();
    let total = total.max(articles.len());
    AlertMessage {
        alert: alert.id.clone(),
        name: alert.name.clone(),
        query: alert.query.clone(),
        fired_at: fired_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        more: total - articles.len(),
        articles,
        total,
    }
}

/// The webhook's JSON body of a message (the bytes that are signed and sent).
pub fn body(message: &AlertMessage) -> Vec<u8> {
    // Serializing plain strings, numbers and lists cannot fail.
    serde_json::to_vec(message).unwrap_or_default()
}

/// The `X-Mediawatch-Signature` value: `sha256=` and the hex HMAC-SHA256 of `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether an alert that last fired at `last_fired` may fire again at `now`: at once when immediate,
/// after an hour or a day since its last message otherwise.
pub fn may_fire(batch: AlertBatch, last_fired: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    let period = match batch {
        AlertBatch::Immediate => return true,
        AlertBatch::Hourly => Duration::hours(1),
        AlertBatch::Daily => Duration::days(1),
    };
    last_fired.is_none_or(|t| now - t >= period)
}

/// An error and its sources on one line (reqwest's and lettre's own messages alone say little).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// The rolling window a spike alert counts its matches in (the digest's one-day period).
pub const SPIKE_WINDOW: Duration = Duration::hours(24);

/// A spike alert's test at `now`: `count` matches dated in the last [`SPIKE_WINDOW`], against `before`
/// matches in the [`crate::digest::BASELINE_DAYS`] days before that window. The digest's rule
/// ([`crate::digest::spike_test`]) with a one-day period: `(expected, p_value, spike)`.
pub fn spike_test(count: usize, before: usize) -> (f64, f64, bool) {
    let baseline = before as f64 / crate::digest::BASELINE_DAYS as f64;
    crate::digest::spike_test(count as u64, baseline, 1)
}

/// The windows of a spike alert's test at `now`: the last 24 hours from their start on, and the
/// baseline's 28 days before them, `(baseline_start, window_start)`.
pub fn spike_windows(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = now - SPIKE_WINDOW;
    (start - Duration::days(crate::digest::BASELINE_DAYS), start)
}

/// Once per spike: whether a spike alert fires, given whether it spikes now and the start of the spike
/// it already fired for (kept in its mark), and the spike start to keep. A spike that goes on fires
/// nothing more; one that ended clears the start, so the next spike fires again.
pub fn spike_step(
    spiking: bool,
    since: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (bool, Option<DateTime<Utc>>) {
    match (spiking, since) {
        (false, _) => (false, None),
        (true, None) => (true, Some(now)),
        (true, Some(start)) => (false, Some(start)),
    }
}

/// What an attempt's answer means for the delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: acknowledged, done.
    Delivered,
    /// Try again later (no connection, timeout, 5xx, 408, 429).
    Retry(String),
    /// Refused for good (other 4xx, a redirect): recorded as failed.
    Refused(String),
}

/// The outcome of an HTTP answer's status.
pub fn outcome(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        408 | 429 | 500..=599 => Outcome::Retry(format!("the receiver answered {status}")),
        300..=399 => Outcome::Refused(format!(
            "the receiver answered {status} (a redirect): webhooks are not redirected, put the final URL in the config"
        )),
        _ => Outcome::Refused(format!("the receiver answered {status}")),
    }
}

/// When to try again after `attempts` failed attempts of a message enqueued at `created_at`, the last
/// at `now`: `FIRST_RETRY_DELAY` doubled each time up to `MAX_RETRY_DELAY`; None once the attempt at
/// `now` came [`RETRY_WINDOW`] or more after `created_at` (give up).
pub fn retry_at(
    attempts: u32,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if now - created_at >= RETRY_WINDOW {
        return None;
    }
    let doublings = attempts.saturating_sub(1).min(20);
    let delay = (FIRST_RETRY_DELAY * 2i32.pow(doublings)).min(MAX_RETRY_DELAY);
    // The last attempt falls at the window's end, not after it.
    Some((now + delay).min(created_at + RETRY_WINDOW))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> AlertSpec {
        AlertSpec {
            id: "a".into(),
            name: "A".into(),
            query: "taiwan".into(),
            lang: Some("en".into()),
            campaign: None,
            feed: None,
            affiliation: Some("state".into()),
            country: None,
            script: None,
            on: crate::model::AlertOn::Match,
            batch: AlertBatch::Immediate,
            webhook: None,
            secret_env: None,
            email: Vec::new(),
            atom: true,
        }
    }

    fn hit(i: usize) -> Hit {
        Hit {
            id: format!("id{i}"),
            url: format!("http://x.example/{i}"),
            title: format!("t{i}"),
            feed: "f".into(),
            source_name: "F".into(),
            affiliation: "state".into(),
            country: Some("CN".into()),
            lang: "en".into(),
            script: Some("Latn".into()),
            published: None,
            campaigns: vec!["c".into()],
            campaign_terms: Vec::new(),
            score: 0.0,
            snippet: "s".into(),
            highlights: Vec::new(),
            version: 1,
            versions: 1,
            edited: false,
            removed: false,
            changed_at: None,
            change: None,
            campaign_dropped: Vec::new(),
        }
    }

    #[test]
    fn a_spike_is_the_digests_rule_over_one_day_and_fires_once() {
        // No history: λ is the floor 0.5, so 4 are not a spike and 5 are.
        assert!(!spike_test(4, 0).2);
        assert!(spike_test(5, 0).2);
        // One a day for 28 days: λ = 1; 4 are not a spike (p ≈ 0.019), 5 are (p ≈ 0.0037).
        let (expected, p, spike) = spike_test(4, 28);
        assert!((expected - 1.0).abs() < 1e-9 && p > 0.01 && !spike, "{p}");
        let (_, p, spike) = spike_test(5, 28);
        assert!(p < 0.01 && spike, "{p}");
        // Ten a day: 15 in a day are not a spike, 25 are.
        assert!(!spike_test(15, 280).2);
        assert!(spike_test(25, 280).2);

        let t = |h: i64| {
            DateTime::parse_from_rfc3339("2026-12-07T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc)
                + Duration::hours(h)
        };
        let (baseline_start, start) = spike_windows(t(48));
        assert_eq!((start, baseline_start), (t(24), t(24) - Duration::days(28)));
        // Quiet, then a spike (fires), still spiking at the next passes (silent), over, and a new one.
        assert_eq!(spike_step(false, None, t(0)), (false, None));
        assert_eq!(spike_step(true, None, t(1)), (true, Some(t(1))));
        assert_eq!(spike_step(true, Some(t(1)), t(2)), (false, Some(t(1))));
        assert_eq!(spike_step(true, Some(t(1)), t(20)), (false, Some(t(1))));
        assert_eq!(spike_step(false, Some(t(1)), t(30)), (false, None));
        assert_eq!(spike_step(true, None, t(40)), (true, Some(t(40))));
    }

    #[test]
    fn the_request_is_the_search_of_the_alert() {
        let r = request(&alert());
        assert_eq!(r.query, "taiwan");
        assert_eq!(r.lang.as_deref(), Some("en"));
        assert_eq!(r.affiliation.as_deref(), Some("state"));
        assert_eq!((r.limit, r.sort), (MAX_ARTICLES, Sort::Newest));
    }

    #[test]
    fn a_message_keeps_fifty_articles_and_counts_the_rest() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T15:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let m = message(&alert(), (0..60).map(hit).collect(), 75, now);
        assert_eq!((m.articles.len(), m.total, m.more), (50, 75, 25));
        assert_eq!(m.fired_at, "2026-12-07T15:00:00Z");
        let v: serde_json::Value = serde_json::from_slice(&body(&m)).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        for k in [
            "alert", "name", "query", "fired_at", "articles", "total", "more",
        ] {
            assert!(keys.contains(&k), "{k} missing from {keys:?}");
        }
        let a = v["articles"][0].as_object().unwrap();
        let mut keys: Vec<&str> = a.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "affiliation",
                "campaigns",
                "country",
                "feed",
                "id",
                "lang",
                "published",
                "snippet",
                "source_name",
                "title",
                "url"
            ]
        );
    }

    #[test]
    fn signature_is_the_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn status_and_retry_rules() {
        assert_eq!(outcome(204), Outcome::Delivered);
        assert!(matches!(outcome(503), Outcome::Retry(_)));
        assert!(matches!(outcome(429), Outcome::Retry(_)));
        assert!(matches!(outcome(404), Outcome::Refused(_)));
        assert!(matches!(outcome(301), Outcome::Refused(_)));
        let t0 = Utc::now();
        assert_eq!(retry_at(1, t0, t0), Some(t0 + Duration::seconds(30)));
        assert_eq!(retry_at(3, t0, t0), Some(t0 + Duration::seconds(120)));
        assert_eq!(retry_at(30, t0, t0), Some(t0 + Duration::hours(1)));
        // Near the window's end the last attempt falls on it; after it, give up.
        let late = t0 + Duration::hours(24) - Duration::minutes(5);
        assert_eq!(retry_at(30, t0, late), Some(t0 + Duration::hours(24)));
        assert_eq!(retry_at(30, t0, t0 + Duration::hours(24)), None);
        // Retries span at least the window: sum the delays until give-up.
        let (mut now, mut n) = (t0, 0);
        while let Some(next) = retry_at(n + 1, t0, now) {
            now = next;
            n += 1;
        }
        assert!(now - t0 >= RETRY_WINDOW && n < 60, "{n} attempts");
    }

    #[test]
    fn hourly_and_daily_alerts_wait_for_their_period() {
        let t = Utc::now();
        assert!(may_fire(AlertBatch::Immediate, Some(t), t));
        assert!(may_fire(AlertBatch::Hourly, None, t));
        assert!(!may_fire(
            AlertBatch::Hourly,
            Some(t - Duration::minutes(59)),
            t
        ));
        assert!(may_fire(
            AlertBatch::Hourly,
            Some(t - Duration::minutes(60)),
            t
        ));
        assert!(!may_fire(
            AlertBatch::Daily,
            Some(t - Duration::hours(23)),
            t
        ));
    }
}
