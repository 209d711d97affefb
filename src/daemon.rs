//! `mediawatch run`: the daemon. It schedules each feed by its due time ([`crate::schedule`]), runs
//! [`ingest_pass`] over the feeds that are due (each pass commits the index), and shuts down cleanly on
//! SIGINT or SIGTERM.
//!
//! Shutdown drops a pass that is still fetching: its fetches are abandoned, nothing of it is written,
//! and the next start fetches those feeds again. A pass that has reached its commit has no await point
//! left, so it always finishes: the index is committed and the store consistent when the process exits.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use tracing::{info, warn};

use crate::pipeline::{ingest_pass, PassOptions, Pipeline};
use crate::schedule;

/// Longest sleep between two looks at the schedule.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Runs passes until `shutdown` completes. Returns the number of passes run.
pub async fn run(p: &Pipeline, shutdown: impl Future<Output = ()>) -> anyhow::Result<u64> {
    tokio::pin!(shutdown);
    let mut passes = 0u64;
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
                    match result {
                        Ok(report) => info!(%report, "pass done"),
                        Err(e) => warn!(error = %format!("{e:#}"), "pass failed"),
                    }
                }
                () = &mut shutdown => {
                    info!("shutdown: the pass in flight was dropped before its commit; nothing half-written");
                    return Ok(passes);
                }
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
