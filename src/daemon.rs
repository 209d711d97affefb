//! `mediawatch run`: the daemon. It schedules each feed by its due time ([`crate::schedule`]), runs
//! [`ingest_pass`] over the feeds that are due (each pass commits the index), and shuts down cleanly on
//! SIGINT or SIGTERM. After each look at the schedule it writes the digests it owes
//! ([`write_due_digests`]): yesterday's shortly after midnight UTC, once, and after a restart the days it
//! missed (at most [`digest::CATCH_UP_DAYS`]). The last day written is kept in the store. The passes share
//! the pipeline's index writer, so the segment merges their commits schedule run between passes.
//!
//! Shutdown drops a pass that is still fetching: its fetches are abandoned, nothing of it is written,
//! and the next start fetches those feeds again. A pass that has reached its commit has no await point
//! left, so it always finishes: the index is committed and the store consistent when the process exits.
//!
//! With [`Metrics`] (`run --metrics-addr`), each pass's report is counted, and the gauges (feeds by
//! health, pending pages, the index's segments, size and last commit) are read at start and after each pass.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use tracing::{info, warn};

use crate::digest;
use crate::metrics::{ArchiveGauges, Metrics};
use crate::pipeline::{ingest_pass, PassOptions, Pipeline};
use crate::schedule;

/// Longest sleep between two looks at the schedule.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// The delivery loop's pause after a round that failed.
const RETRY_PAUSE: Duration = Duration::from_secs(5);

/// Runs passes until `shutdown` completes, recording them in `metrics` if given, and beside them, when
/// an alert has a webhook or email, the alerts' delivery loop ([`deliver_alerts`]). Returns the number of passes
/// run.
pub async fn run(
    p: &Pipeline,
    metrics: Option<&Metrics>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<u64> {
    if !p
        .config
        .alerts
        .iter()
        .any(|a| a.webhook.is_some() || !a.email.is_empty())
        && p.store.next_outbox_due()?.is_none()
    {
        return passes(p, metrics, shutdown).await;
    }
    let deliverer = crate::alert::deliver::Deliverer::new(&p.config.fetch.user_agent)?
        .with_smtp(p.config.smtp.clone());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let passes = async {
        let result = passes(p, metrics, shutdown).await;
        let _ = stop.send(true);
        result
    };
    let (result, ()) = tokio::join!(passes, deliver_alerts(p, &deliverer, metrics, stopped));
    result
}

/// The alerts' delivery loop: delivers what is due in the outbox, then sleeps until the next retry is
/// due (at most [`MAX_SLEEP`]) or a pass enqueues messages; ends when `stopped` turns true. A delivery
/// cut by the shutdown is resent at the next start, with the same `Idempotency-Key`.
pub async fn deliver_alerts(
    p: &Pipeline,
    deliverer: &crate::alert::deliver::Deliverer,
    metrics: Option<&Metrics>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *stopped.borrow() {
            return;
        }
        let mut failed = false;
        tokio::select! {
            result = deliverer.deliver_due(&p.store, Utc::now()) => {
                match result {
                    Ok(done) => {
                        if let Some(m) = metrics {
                            // The gauge first: a scrape that sees the round's counts sees its outbox.
                            match p.store.outbox_pending() {
                                Ok(n) => m.set_alert_outbox_pending(n),
                                Err(e) => warn!(error = %format!("{e:#}"), "metrics: cannot read the alert outbox"),
                            }
                            m.record_deliveries(&done);
                        }
                    }
                    Err(e) => {
                        warn!(error = %format!("{e:#}"), "alert delivery round failed; tried again shortly");
                        failed = true;
                    }
                }
            }
            _ = stopped.changed() => return,
        }
        let sleep = match crate::alert::deliver::next_due(&p.store) {
            Ok(Some(at)) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(MAX_SLEEP),
            Ok(None) => MAX_SLEEP,
            Err(e) => {
                warn!(error = %format!("{e:#}"), "cannot read the alert outbox");
                MAX_SLEEP
            }
        };
        // A round that failed (the store) is not retried in a tight loop.
        let sleep = if failed {
            sleep.max(RETRY_PAUSE)
        } else {
            sleep
        };
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = p.alerts_enqueued.notified() => {}
            _ = stopped.changed() => return,
        }
    }
}

/// The passes: until `shutdown` completes.
async fn passes(
    p: &Pipeline,
    metrics: Option<&Metrics>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<u64> {
    tokio::pin!(shutdown);
    let mut passes = 0u64;
    if let Some(m) = metrics {
        update_gauges(p, m);
    }
    loop {
        let now = Utc::now();
        let states: std::collections::HashMap<String, _> =
            p.store.feed_states()?.into_iter().collect();
        let due: HashSet<String> = p
            .config
            .feeds
            .iter()
            .filter(|f| states.get(&f.id).is_none_or(|s| schedule::is_due(s, now)))
            .map(|f| f.id.clone())
            .collect();
        if !due.is_empty() {
            info!(feeds = due.len(), "pass starting");
            let options = PassOptions {
                force: false,
                only: Some(due),
            };
            tokio::select! {
                result = ingest_pass(p, &options) => {
                    passes += 1;
                    match &result {
                        Ok(report) => info!(%report, "pass done"),
                        Err(e) => warn!(error = %format!("{e:#}"), "pass failed"),
                    }
                    if let Some(m) = metrics {
                        match &result {
                            Ok(report) => m.record_pass(report),
                            Err(_) => m.record_failed_pass(),
                        }
                        update_gauges(p, m);
                    }
                }
                () = &mut shutdown => {
                    info!("shutdown: the pass in flight was dropped before its commit; nothing half-written");
                    return Ok(passes);
                }
            }
        }
        match write_due_digests(p, Utc::now()) {
            Ok(days) if !days.is_empty() => {
                info!(?days, dir = %p.config.digest_dir.display(), "digests written")
            }
            Ok(_) => {}
            Err(e) => {
                warn!(error = %format!("{e:#}"), "digest failed; retried after the next pass")
            }
        }
        let sleep = next_wake(p)?;
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = &mut shutdown => {
                info!("shutdown");
                return Ok(passes);
            }
        }
    }
}

/// Reads the gauges' values from the store and the index into `m`; what cannot be read keeps its last
/// value, with a warning.
fn update_gauges(p: &Pipeline, m: &Metrics) {
    match archive_gauges(p) {
        Ok(g) => m.set_archive(&g),
        Err(e) => warn!(error = %format!("{e:#}"), "metrics: cannot read the index or the store"),
    }
}

/// Feeds by health, pending pages, the revisit backlog, the index's state and the alert messages pending,
/// for the metrics.
fn archive_gauges(p: &Pipeline) -> anyhow::Result<ArchiveGauges> {
    let states: std::collections::HashMap<String, _> = p.store.feed_states()?.into_iter().collect();
    let mut feeds: Vec<(crate::status::Health, u64)> = Vec::new();
    for f in &p.config.feeds {
        let h = states
            .get(&f.id)
            .map_or(crate::status::Health::New, crate::status::health);
        match feeds.iter_mut().find(|(health, _)| *health == h) {
            Some((_, n)) => *n += 1,
            None => feeds.push((h, 1)),
        }
    }
    let pending_entries = p.store.pending_counts()?.values().sum();
    let revisits_due = p.store.revisits_due_count(Utc::now())?;
    Ok(ArchiveGauges {
        feeds,
        pending_entries,
        revisits_due,
        index: Some(p.archive.stats()?),
        alert_outbox_pending: p.store.outbox_pending()?,
    })
}

/// Writes the digests owed at `now` ([`digest::due_days`] after the store's last digest) into the config's
/// `[digest] out_dir`, in every format, oldest day first, recording each day in the store once its files
/// are written. Returns the days written.
pub fn write_due_digests(p: &Pipeline, now: DateTime<Utc>) -> anyhow::Result<Vec<NaiveDate>> {
    let days = digest::due_days(p.store.last_digest()?, now, digest::CATCH_UP_DAYS);
    if days.is_empty() {
        return Ok(days);
    }
    p.archive.reload()?;
    for day in &days {
        let data = digest::load(&p.archive, Some(&p.store), *day, *day)?;
        let d = digest::build_digest(&data, &p.config);
        digest::write_files(&d, &digest::DigestFormat::ALL, &p.config.digest_dir)?;
        p.store.set_last_digest(*day)?;
    }
    Ok(days)
}

/// How long until the next feed is due (at most [`MAX_SLEEP`], at least one second).
fn next_wake(p: &Pipeline) -> anyhow::Result<Duration> {
    let now = Utc::now();
    let states: std::collections::HashMap<String, _> = p.store.feed_states()?.into_iter().collect();
    let soonest = p
        .config
        .feeds
        .iter()
        .filter_map(|f| {
            let s = states.get(&f.id)?;
            let due = s.next_due?;
            Some(s.backoff_until.map_or(due, |b| b.max(due)))
        })
        .min();
    let wait = soonest.map_or(MAX_SLEEP, |t| (t - now).to_std().unwrap_or(Duration::ZERO));
    Ok(wait.clamp(Duration::from_secs(1), MAX_SLEEP))
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
