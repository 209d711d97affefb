//! What the commands print besides the library's own renderings: aligned tables (`feeds status`,
//! `similar`), one JSON object per line, RFC 3339 times, and the exit status of a run over many files.
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

/// The `feeds status` table of the rows `feeds status --format json` prints.
pub(super) fn write_feed_status_table(
    out: &mut impl Write,
    rows: &[crate::status::FeedStatus],
) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<26} {:<9} {:<20} {:>5} {:>8} {:>8} {:<20} last error",
        "feed", "health", "last success", "fails", "entries", "articles", "next due"
    )?;
    let s = |v: &Option<String>| v.as_deref().unwrap_or("-").to_string();
    for r in rows {
        writeln!(
            out,
            "{:<26} {:<9} {:<20} {:>5} {:>8} {:>8} {:<20} {}",
            r.id,
            r.health.as_str(),
            s(&r.last_success),
            r.consecutive_failures,
            r.entries_seen,
            r.articles_archived,
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
