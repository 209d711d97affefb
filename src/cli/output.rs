//! What the commands print besides the library's own renderings: aligned tables (`feeds status`,
//! `similar` and its forward chain), one JSON object per line, RFC 3339 times, and the exit status of a
//! run over many files.
//! No colours here: search results are styled by `search::write_results_styled`.

use std::io::Write;
use std::process::ExitCode;

use chrono::{DateTime, Utc};

/// A time as printed in JSON and tables: RFC 3339, whole seconds, `Z`.
pub(super) fn rfc3339(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// One JSON object and a newline (JSON lines).
pub(super) fn write_json_line(
    out: &mut impl Write,
    value: &impl serde::Serialize,
) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// Failure when any file of a run failed (the others were still processed and printed).
pub(super) fn exit_status(failed: bool) -> ExitCode {
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The `feeds status` table of the rows `feeds status --format json` prints. `revisited` names the feeds
/// whose articles are revisited: when there are any, a `revisits due` column shows their backlog (`-` for
/// the other feeds); when there are none (revisits off), the column is left out.
pub(super) fn write_feed_status_table(
    out: &mut impl Write,
    rows: &[crate::status::FeedStatus],
    revisited: &std::collections::HashSet<&str>,
) -> anyhow::Result<()> {
    let revisits = !revisited.is_empty();
    let due_col = |v: &str| {
        if revisits {
            format!(" {v:>12}")
        } else {
            String::new()
        }
    };
    writeln!(
        out,
        "{:<26} {:<9} {:<20} {:>5} {:>8} {:>8} {:>7}{} {:<20} last error",
        "feed",
        "health",
        "last success",
        "fails",
        "entries",
        "articles",
        "pending",
        due_col("revisits due"),
        "next due"
    )?;
    let s = |v: &Option<String>| v.as_deref().unwrap_or("-").to_string();
    for r in rows {
        let due = match r.revisits_due {
            Some(n) if revisited.contains(r.id.as_str()) => n.to_string(),
            _ => "-".to_string(),
        };
        writeln!(
            out,
            "{:<26} {:<9} {:<20} {:>5} {:>8} {:>8} {:>7}{} {:<20} {}",
            r.id,
            r.health.as_str(),
            s(&r.last_success),
            r.consecutive_failures,
            r.entries_seen,
            r.articles_archived,
            r.pending,
            due_col(&due),
            s(&r.next_due),
            crate::search::truncate_chars(&s(&r.last_error), 60)
        )?;
    }
    Ok(())
}

/// The `similar` table: the cluster, then one line per member (with its row of `similar --format json`),
/// first publisher first.
pub(super) fn write_cluster_table(
    out: &mut impl Write,
    cluster: Option<&str>,
    members: &[crate::model::Article],
    rows: &[serde_json::Value],
) -> anyhow::Result<()> {
    writeln!(
        out,
        "cluster {} ({} articles), first publisher first:",
        cluster.unwrap_or("-"),
        rows.len()
    )?;
    for (m, r) in members.iter().zip(rows) {
        let delay = r["delay_secs"].as_i64().unwrap_or(0);
        writeln!(
            out,
            "{:<20} +{:>6} min  {:<11} {:<2} {:<16} {}\n    {}",
            r["published"].as_str().unwrap_or("undated"),
            delay / 60,
            m.affiliation,
            m.country.as_deref().unwrap_or("-"),
            m.feed,
            m.title,
            m.url
        )?;
    }
    Ok(())
}

/// A delay as the `similar` table shows it: `+2h05m` (hours grow past a day), `-0h10m` before the origin.
fn fmt_delay(secs: i64) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let minutes = secs.unsigned_abs() / 60;
    format!("{sign}{}h{:02}m", minutes / 60, minutes % 60)
}

/// A post of a forward chain in one line: its URL (or its name when the forward named it without a link)
/// and its outlet or name.
fn forward_label(n: &crate::search::ForwardNode) -> String {
    match (&n.url, n.archived) {
        (Some(url), true) => format!("{url} ({})", n.name),
        (Some(url), false) => format!("{url} ({}, not archived)", n.name),
        (None, _) => format!("{:?} (not archived, no link)", n.name),
    }
}

/// The `similar` table's "Forwards" block: one line per forward, `origin -> forwarder  +2h05m  (views)`,
/// from the furthest origin down to this article, then its forwards breadth-first. Nothing when the
/// article has no forward either way.
pub(super) fn write_forwards_table(
    out: &mut impl Write,
    chain: &crate::search::ForwardChain,
) -> anyhow::Result<()> {
    if chain.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "\nForwards ({} upstream, {} downstream{}):",
        chain.upstream.len(),
        chain.downstream.len(),
        if chain.truncated {
            ", limit reached"
        } else {
            ""
        }
    )?;
    for link in chain.upstream.iter().rev().chain(&chain.downstream) {
        writeln!(
            out,
            "{} -> {}  {}  ({})",
            forward_label(&link.origin),
            forward_label(&link.forwarder),
            link.delay_secs.map_or_else(|| "+?".to_string(), fmt_delay),
            link.forwarder
                .views
                .map_or_else(|| "views unknown".to_string(), |v| format!("{v} views"))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_read_as_hours_and_minutes() {
        assert_eq!(fmt_delay(0), "+0h00m");
        assert_eq!(fmt_delay(59), "+0h00m");
        assert_eq!(fmt_delay(2 * 3600 + 5 * 60), "+2h05m");
        assert_eq!(fmt_delay(26 * 3600 + 60), "+26h01m");
        assert_eq!(fmt_delay(-600), "-0h10m");
    }
}
