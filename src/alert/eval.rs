//! Evaluating the alerts after a commit: each `on = "match"` alert's search runs among the articles
//! journaled since its mark ([`crate::store::Store::journal_alert_batch`], written before each index
//! commit), never over the whole archive; each `on = "spike"` alert with new articles since its mark
//! runs the digest's spike test over the archive's last 24 hours ([`spike`]) and fires once per spike
//! (the spike's start kept in its mark). A message, if any, is enqueued in the outbox and the marks
//! advanced in one store transaction. A retag or a reindex journals nothing, so they fire nothing; an
//! alert new to the config starts at the journal's end ([`init_marks`]).

use chrono::{DateTime, Utc};

use crate::index::Archive;
use crate::model::{AlertMessage, AlertOn, AlertSpec};
use crate::search::Among;
use crate::store::{AlertMark, Delivery, DeliveryState, OutboxEntry, Store};

/// What one evaluation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluated {
    /// Messages enqueued.
    pub messages: usize,
    /// Articles they name in all (their `total`s).
    pub articles: usize,
}

/// Gives every alert without a mark one at the journal's end, so an alert added to the config fires
/// for articles archived after it, not for the archive it joins. Call when the pipeline opens.
pub fn init_marks(store: &Store, alerts: &[AlertSpec]) -> anyhow::Result<()> {
    let marks = store.alert_marks()?;
    let (_, last) = store.alert_batches()?;
    let new: Vec<(String, AlertMark)> = alerts
        .iter()
        .filter(|a| !marks.contains_key(&a.id))
        .map(|a| {
            (
                a.id.clone(),
                AlertMark {
                    batch: last,
                    ..Default::default()
                },
            )
        })
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    let keep: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
    store.commit_alert_evaluation(&[], &new, &keep, None)?;
    Ok(())
}

/// Runs the `on = "match"` alerts over the journaled batches past their marks (on the archive's loaded
/// commit: reload it after the commit first), enqueues their messages and advances their marks, in one
/// store transaction; then drops the batches every alert is past.
pub fn evaluate(
    archive: &Archive,
    store: &Store,
    alerts: &[AlertSpec],
    now: DateTime<Utc>,
) -> anyhow::Result<Evaluated> {
    let (batches, last) = store.alert_batches()?;
    if batches.is_empty() {
        return Ok(Evaluated::default());
    }
    let marks = store.alert_marks()?;
    let mut messages = Vec::new();
    let mut new_marks = Vec::new();
    let mut done = Evaluated::default();
    let mut among_by_mark: std::collections::HashMap<u64, Among> = Default::default();
    for alert in alerts {
        let mark = marks.get(&alert.id).copied().unwrap_or(AlertMark {
            batch: last,
            ..Default::default()
        });
        if alert.on == AlertOn::Spike {
            // Spike alerts hold no batch back: they count the archive's last 24 hours, tested again
            // whenever new articles came.
            let mut next = AlertMark {
                batch: last,
                ..mark
            };
            if batches.iter().any(|(seq, _)| *seq > mark.batch) {
                let spike = spike(archive, alert, now).map_err(|e| {
                    e.context(format!("alert {:?}: its spike test failed", alert.id))
                })?;
                let (fire, since) = super::spike_step(spike.spike, mark.spike_since, now);
                next.spike_since = since;
                if fire {
                    let message = super::message(alert, spike.hits, spike.count, now);
                    done.messages += 1;
                    done.articles += message.total;
                    messages.push(entry(alert, message, now));
                    next.last_fired = Some(now);
                }
            }
            new_marks.push((alert.id.clone(), next));
            continue;
        }
        if !super::may_fire(alert.batch, mark.last_fired, now) {
            new_marks.push((alert.id.clone(), mark));
            continue;
        }
        let ids: Vec<String> = batches
            .iter()
            .filter(|(seq, _)| *seq > mark.batch)
            .flat_map(|(_, ids)| ids.iter().cloned())
            .collect();
        let mut next = AlertMark {
            batch: last,
            ..mark
        };
        if !ids.is_empty() {
            // The documents of the new ids, found once for every alert with the same mark.
            let among = match among_by_mark.entry(mark.batch) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(Among::new(archive, &ids)?)
                }
            };
            if among.is_empty() {
                new_marks.push((alert.id.clone(), next));
                continue;
            }
            let results = crate::search::search_among(archive, among, &super::request(alert))
                .map_err(|e| e.context(format!("alert {:?}: its search failed", alert.id)))?;
            if results.total > 0 {
                let message = super::message(alert, results.hits, results.total, now);
                done.messages += 1;
                done.articles += message.total;
                messages.push(entry(alert, message, now));
                next.last_fired = Some(now);
            }
        }
        new_marks.push((alert.id.clone(), next));
    }
    let keep: Vec<String> = alerts.iter().map(|a| a.id.clone()).collect();
    let through = new_marks.iter().map(|(_, m)| m.batch).min().unwrap_or(last);
    store.commit_alert_evaluation(&messages, &new_marks, &keep, Some(through))?;
    Ok(done)
}

/// What an alert would send over the articles archived since `since` (`alerts test`): its search over
/// the archive, nothing enqueued. None when nothing matches.
pub fn dry_run(
    archive: &Archive,
    alert: &AlertSpec,
    since: Option<chrono::NaiveDate>,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<AlertMessage>> {
    let mut req = super::request(alert);
    req.since = since;
    let results = crate::search::search(archive, &req)?;
    Ok((results.total > 0).then(|| super::message(alert, results.hits, results.total, now)))
}

/// A spike alert's test at one instant: its matches in the last 24 hours (the newest, and their
/// count), the 28 days before, and the digest's verdict.
#[derive(Debug, Clone)]
pub struct Spike {
    /// Matches dated in the last 24 hours.
    pub count: usize,
    /// Matches dated in the 28 days before them.
    pub before: usize,
    /// λ of the test (the 28-day daily mean, floored).
    pub expected: f64,
    /// P(X ≥ count) under λ.
    pub p_value: f64,
    /// The digest's spike flag.
    pub spike: bool,
    /// The newest matches of the last 24 hours (at most [`super::MAX_ARTICLES`]).
    pub hits: Vec<crate::model::Hit>,
}

/// The spike test of `alert` (its query and filters, the campaign among them) on the archive's loaded
/// commit at `now` ([`super::spike_test`]).
pub fn spike(archive: &Archive, alert: &AlertSpec, now: DateTime<Utc>) -> anyhow::Result<Spike> {
    let req = super::request(alert);
    let (baseline_start, start) = super::spike_windows(now);
    // Articles dated after `now` (a clock ahead at the source) count as recent.
    let recent = crate::search::search_within(archive, &req, start, None)?;
    let before = crate::search::count_within(archive, &req, baseline_start, Some(start))?;
    let (expected, p_value, spike) = super::spike_test(recent.total, before);
    Ok(Spike {
        count: recent.total,
        before,
        expected,
        p_value,
        spike,
        hits: recent.hits,
    })
}

/// The outbox entry of a message: one delivery for the alert's webhook, one per email address.
fn entry(alert: &AlertSpec, message: AlertMessage, now: DateTime<Utc>) -> OutboxEntry {
    let pending = |channel: &str, target: String, secret_env: Option<String>| Delivery {
        channel: channel.into(),
        target,
        secret_env,
        state: DeliveryState::Pending,
        attempts: 0,
        next_attempt: now,
        last_error: None,
        done_at: None,
    };
    let deliveries = alert
        .webhook
        .iter()
        .map(|url| pending("webhook", url.to_string(), alert.secret_env.clone()))
        .chain(
            alert
                .email
                .iter()
                .map(|to| pending("email", to.clone(), None)),
        )
        .collect();
    OutboxEntry {
        seq: 0,
        message,
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        created_at: now,
        deliveries,
    }
}
