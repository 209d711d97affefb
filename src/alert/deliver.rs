//! Delivery from the outbox. Email goes through [`super::email`] (one mail per address, the same retry
//! rule: a 4xx or no connection is retried, a 5xx refusal is failed). Webhooks: one JSON POST per message, with `Idempotency-Key` (the same for
//! every attempt of a message) and, when the alert names a secret variable, `X-Mediawatch-Signature:
//! sha256=<hex HMAC-SHA256 of the body>`. A delivery is marked done only after the receiver's 2xx; no
//! connection, a timeout, 5xx, 408 or 429 is retried with exponential backoff for
//! [`super::RETRY_WINDOW`]; any other answer is recorded as failed. Each attempt's result is written to
//! the store before the next, so a killed process resends at most the message in flight (with the same
//! key, for the receiver to drop).
//!
//! Webhook URLs come from the config and are trusted as written, like feed URLs: no private-network
//! guard (a receiver on the same host or network is the common case), but no redirects either.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::Outcome;
use crate::config::SmtpSettings;
use crate::store::{Delivery, DeliveryState, OutboxEntry, Store};

/// Time allowed for one POST, answer included.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What one round of deliveries did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    /// Acknowledged by the receiver.
    pub delivered: usize,
    /// Failed transiently, to be tried again.
    pub retrying: usize,
    /// Refused for good, or given up after the retry window.
    pub failed: usize,
}

/// The webhook client and the mail relay.
pub struct Deliverer {
    client: reqwest::Client,
    smtp: Option<SmtpSettings>,
}

impl Deliverer {
    /// A client with the config's User-Agent, a 10-second timeout and no redirects.
    pub fn new(user_agent: &str) -> anyhow::Result<Deliverer> {
        // Installing twice is harmless: the second call changes nothing.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("cannot build the webhook client")?;
        Ok(Deliverer { client, smtp: None })
    }

    /// The same, sending the `email` deliveries through `smtp` (the config's `[smtp]`).
    pub fn with_smtp(mut self, smtp: Option<SmtpSettings>) -> Deliverer {
        self.smtp = smtp;
        self
    }

    /// Attempts every delivery that is due at `now`, oldest message first, writing each result to the
    /// store before the next attempt.
    pub async fn deliver_due(
        &self,
        store: &Store,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Delivered> {
        let mut done = Delivered::default();
        let pruned = store.prune_outbox(now - super::KEEP_DONE)?;
        if pruned > 0 {
            info!(
                messages = pruned,
                "alert outbox: old delivered and failed messages removed"
            );
        }
        for mut entry in store.due_outbox(now)? {
            let due: Vec<usize> = entry
                .deliveries
                .iter()
                .enumerate()
                // Due in whole seconds, as the store's due table has them: a round never waits
                // for the rest of a second.
                .filter(|(_, d)| {
                    d.state == DeliveryState::Pending
                        && d.next_attempt.timestamp() <= now.timestamp()
                })
                .map(|(i, _)| i)
                .collect();
            if due.is_empty() {
                continue;
            }
            for i in due {
                let result = self.attempt(&entry, &entry.deliveries[i]).await;
                let at = Utc::now();
                let d = &mut entry.deliveries[i];
                d.attempts += 1;
                match result {
                    Outcome::Delivered => {
                        d.state = DeliveryState::Delivered;
                        d.done_at = Some(at);
                        d.last_error = None;
                        done.delivered += 1;
                        info!(alert = %entry.message.alert, seq = entry.seq, target = %d.target, "alert delivered");
                    }
                    Outcome::Retry(why) => {
                        match super::retry_at(d.attempts, entry.created_at, at) {
                            Some(next) => {
                                d.next_attempt = next;
                                d.last_error = Some(why);
                                done.retrying += 1;
                            }
                            None => {
                                give_up(
                                    d,
                                    format!(
                                        "{why}; gave up after {} attempts over 24 hours",
                                        d.attempts
                                    ),
                                    at,
                                );
                                done.failed += 1;
                            }
                        }
                    }
                    Outcome::Refused(why) => {
                        give_up(d, why, at);
                        done.failed += 1;
                    }
                }
                if d.state != DeliveryState::Delivered {
                    warn!(alert = %entry.message.alert, seq = entry.seq, target = %d.target,
                        state = d.state.as_str(), error = d.last_error.as_deref().unwrap_or(""),
                        "alert delivery failed");
                }
                store.put_outbox_entry(&entry)?;
            }
        }
        Ok(done)
    }

    /// One attempt at a delivery: a mail for `email`, a POST for `webhook`.
    async fn attempt(&self, entry: &OutboxEntry, d: &Delivery) -> Outcome {
        if d.channel == "email" {
            return match &self.smtp {
                Some(smtp) => {
                    super::email::send(smtp, &entry.message, &entry.idempotency_key, &d.target)
                        .await
                }
                None => Outcome::Retry(
                    "the config has no [smtp] section: add it (the relay that sends alert email) and restart"
                        .into(),
                ),
            };
        }
        self.post(entry, d).await
    }

    /// One POST of a message to a delivery's webhook.
    async fn post(&self, entry: &OutboxEntry, d: &Delivery) -> Outcome {
        let body = super::body(&entry.message);
        let mut req = self
            .client
            .post(&d.target)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", &entry.idempotency_key);
        if let Some(name) = &d.secret_env {
            match std::env::var(name) {
                Ok(key) if !key.is_empty() => {
                    req = req.header(
                        super::SIGNATURE_HEADER,
                        super::signature(key.as_bytes(), &body),
                    );
                }
                _ => {
                    return Outcome::Retry(format!(
                    "the environment variable {name} (secret_env) is unset: set it and restart; \
                         the message is not sent unsigned"
                ))
                }
            }
        }
        match req.body(body).send().await {
            Ok(resp) => super::outcome(resp.status().as_u16()),
            Err(e) => Outcome::Retry(format!(
                "cannot reach {}: {}",
                d.target,
                super::error_chain(&e)
            )),
        }
    }
}

/// Marks a delivery failed for good.
fn give_up(d: &mut Delivery, why: String, at: DateTime<Utc>) {
    d.state = DeliveryState::Failed;
    d.last_error = Some(why);
    d.done_at = Some(at);
}

/// When the earliest pending delivery is due (None when none is pending).
pub fn next_due(store: &Store) -> anyhow::Result<Option<DateTime<Utc>>> {
    store.next_outbox_due()
}
