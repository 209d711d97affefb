//! Evaluating the alerts after a commit: each `on = "match"` alert's search runs among the articles
//! journaled since its mark ([`crate::store::Store::journal_alert_batch`], written before each index
//! commit), never over the whole archive; its message, if any, is enqueued in the outbox and its mark
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
                    last_fired: None,
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
            last_fired: None,
        });
        if alert.on != AlertOn::Match {
            // Spike alerts do not read the journal (issue #27, second half): never hold it back.
            new_marks.push((
                alert.id.clone(),
                AlertMark {
                    batch: last,
                    ..mark
                },
            ));
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
