//! The `alerts` subcommands (list, test, outbox), the deliveries `ingest` makes after its pass, and the
//! alerts' lines of `check-config`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use super::AlertsCommand;
use crate::config::{self, Config};
use crate::index::Archive;
use crate::model::{AlertOn, AlertSpec};
use crate::store::{DeliveryState, Store};

pub(super) fn alerts_cmd(config_path: &Path, command: AlertsCommand) -> anyhow::Result<ExitCode> {
    let config = config::load(config_path)?;
    let mut out = std::io::stdout().lock();
    match command {
        AlertsCommand::List => {
            for a in &config.alerts {
                writeln!(out, "{}", summary(a))?;
            }
        }
        AlertsCommand::Test { id, since } => {
            let Some(alert) = config.alert(&id) else {
                let ids: Vec<&str> = config.alerts.iter().map(|a| a.id.as_str()).collect();
                eprintln!(
                    "mediawatch: no alert {id:?} in {} (alerts: {})",
                    config.path.display(),
                    if ids.is_empty() {
                        "none".to_string()
                    } else {
                        ids.join(", ")
                    }
                );
                return Ok(ExitCode::from(2));
            };
            let archive = Archive::open(&config.index_path)?;
            if alert.on == AlertOn::Spike {
                // The spike test now; --since does not apply (the window is the last 24 hours).
                let now = chrono::Utc::now();
                let spike = crate::alert::eval::spike(&archive, alert, now)?;
                eprintln!(
                    "mediawatch: alert {id:?} fires on spikes: {} matches in the last 24 hours, {} in the {} days before (λ = {:.2}, p = {:.4}): {}",
                    spike.count,
                    spike.before,
                    crate::digest::BASELINE_DAYS,
                    spike.expected,
                    spike.p_value,
                    if spike.spike {
                        "a spike (it fires once per spike)"
                    } else {
                        "no spike; it would send nothing"
                    }
                );
                if spike.spike {
                    let message = crate::alert::message(alert, spike.hits, spike.count, now);
                    serde_json::to_writer_pretty(&mut out, &message)?;
                    writeln!(out)?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            match crate::alert::eval::dry_run(&archive, alert, since, chrono::Utc::now())? {
                Some(message) => {
                    serde_json::to_writer_pretty(&mut out, &message)?;
                    writeln!(out)?;
                }
                None => eprintln!(
                    "mediawatch: alert {id:?} matches no archived article; it would send nothing"
                ),
            }
        }
        AlertsCommand::Outbox { all } => {
            let Some(store) = Store::open_read_only(&config.index_path)? else {
                eprintln!(
                    "mediawatch: no state store in {} yet: nothing was sent",
                    config.index_path.display()
                );
                return Ok(ExitCode::SUCCESS);
            };
            let mut shown = 0;
            for e in store.outbox()? {
                for d in &e.deliveries {
                    if !all && d.state == DeliveryState::Delivered {
                        continue;
                    }
                    shown += 1;
                    let when = match d.state {
                        DeliveryState::Pending => format!(
                            "next {}",
                            super::output::rfc3339(Some(d.next_attempt)).unwrap_or_default()
                        ),
                        _ => super::output::rfc3339(d.done_at).unwrap_or_default(),
                    };
                    writeln!(
                        out,
                        "{:>6} {:<24} {:<9} {:<8} {:>3} tries  {} articles  {}  {}  {}",
                        e.seq,
                        e.message.alert,
                        d.state.as_str(),
                        d.channel,
                        d.attempts,
                        e.message.total,
                        when,
                        d.target,
                        d.last_error.as_deref().unwrap_or("")
                    )?;
                }
            }
            if shown == 0 {
                eprintln!(
                    "mediawatch: the outbox has no {}deliveries",
                    if all { "" } else { "pending or failed " }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One line of `alerts list` and `check-config`.
fn summary(a: &AlertSpec) -> String {
    let filters: Vec<String> = a
        .filters()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut to: Vec<String> = Vec::new();
    if let Some(w) = &a.webhook {
        to.push(format!(
            "webhook {w}{}",
            if a.secret_env.is_some() {
                " (signed)"
            } else {
                ""
            }
        ));
    }
    if !a.email.is_empty() {
        to.push(format!("email {}", a.email.join(",")));
    }
    if a.atom {
        to.push(format!("atom /alerts/{}.atom", a.id));
    }
    let on = match a.on {
        AlertOn::Match => "match",
        AlertOn::Spike => "spike",
    };
    let batch = match a.batch {
        crate::model::AlertBatch::Immediate => "immediate",
        crate::model::AlertBatch::Hourly => "hourly",
        crate::model::AlertBatch::Daily => "daily",
    };
    format!(
        "{:<24} on={on} batch={batch} query={:?}{}{} -> {}",
        a.id,
        a.query,
        if filters.is_empty() { "" } else { " " },
        filters.join(" "),
        to.join("; ")
    )
}

/// `check-config`'s alert lines: each alert, then the environment variables named and unset.
pub(super) fn write_check(out: &mut impl Write, config: &Config) -> std::io::Result<()> {
    if config.alerts.is_empty() {
        return Ok(());
    }
    writeln!(out, "  alerts:    {}", config.alerts.len())?;
    for a in &config.alerts {
        writeln!(out, "    {}", summary(a))?;
    }
    if let Some(s) = &config.smtp {
        writeln!(
            out,
            "  smtp:      {}:{} ({})",
            s.host,
            s.port,
            if s.starttls {
                "STARTTLS"
            } else {
                "no TLS: local relay only"
            }
        )?;
    }
    for (name, set) in config.secret_variables() {
        if !set {
            writeln!(out, "  unset:     environment variable {name} is not set (needed to sign or send alerts)")?;
        }
    }
    Ok(())
}

/// After `ingest`'s pass: one attempt at every due delivery (later retries wait for the next `ingest` or
/// for `run`).
pub(super) fn deliver_after_ingest(
    pipeline: &crate::pipeline::Pipeline,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<()> {
    if crate::alert::deliver::next_due(&pipeline.store)?.is_none() {
        return Ok(());
    }
    let deliverer = crate::alert::deliver::Deliverer::new(&pipeline.config.fetch.user_agent)?
        .with_smtp(pipeline.config.smtp.clone());
    let done = runtime.block_on(deliverer.deliver_due(&pipeline.store, chrono::Utc::now()))?;
    eprintln!(
        "mediawatch: alerts: {} delivered, {} to retry, {} failed",
        done.delivered, done.retrying, done.failed
    );
    Ok(())
}
