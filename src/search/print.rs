//! Hits as text: the `search` command's table (highlights in bold on a terminal), json, jsonl and csv
//! output, its facet and histogram tables, and the csv row and jsonl line the exporter writes too.

use std::io::Write;

use super::{truncate_chars, Bucket, Facets, Interval, SearchResults, ShareBucket};
use crate::model::Hit;

/// Output formats of `search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned text for a terminal.
    Table,
    /// One JSON object `{"query", "total", "hits"}`.
    Json,
    /// One hit per line.
    Jsonl,
    /// A header row, then one hit per row.
    Csv,
}

/// The columns of csv output and exports. New columns are appended, so the positions scripts rely on do
/// not move: `version` (the current version's number, the one the row's fields are; 1 when never
/// revisited or unchanged), `versions` (distinct versions found), `edited` and `removed` (`true`/`false`).
pub const CSV_HEADER: [&str; 17] = [
    "id",
    "url",
    "title",
    "feed",
    "source_name",
    "affiliation",
    "country",
    "lang",
    "script",
    "published",
    "campaigns",
    "score",
    "snippet",
    "version",
    "versions",
    "edited",
    "removed",
];

/// A cell a spreadsheet will not run as a formula: archived titles are hostile, and `=HYPERLINK(...)`
/// in a CSV cell is code in Excel and LibreOffice. Such cells get a leading apostrophe.
pub(crate) fn csv_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// One CSV row of a hit, every cell spreadsheet-safe.
pub(super) fn csv_row(h: &Hit) -> [String; 17] {
    [
        h.id.clone(),
        h.url.clone(),
        h.title.clone(),
        h.feed.clone(),
        h.source_name.clone(),
        h.affiliation.clone(),
        h.country.clone().unwrap_or_default(),
        h.lang.clone(),
        h.script.clone().unwrap_or_default(),
        h.published.clone().unwrap_or_default(),
        h.campaigns.join(";"),
        format!("{:.3}", h.score),
        h.snippet.clone(),
        h.version.to_string(),
        h.versions.to_string(),
        h.edited.to_string(),
        h.removed.to_string(),
    ]
    .map(|cell| csv_safe(&cell))
}

/// One hit as a line of JSON.
pub(super) fn write_jsonl(out: &mut dyn Write, hit: &Hit) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, hit)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// The snippet with its highlights in bold (ANSI) for a terminal.
fn bold_snippet(h: &Hit, max_chars: usize) -> String {
    let cut = h
        .snippet
        .char_indices()
        .nth(max_chars)
        .map_or(h.snippet.len(), |(i, _)| i);
    let mut out = String::with_capacity(cut + 16 * h.highlights.len());
    let mut at = 0;
    for &[a, b] in &h.highlights {
        if a < at || b > cut {
            continue;
        }
        out.push_str(&h.snippet[at..a]);
        out.push_str("\x1b[1m");
        out.push_str(&h.snippet[a..b]);
        out.push_str("\x1b[0m");
        at = b;
    }
    out.push_str(&h.snippet[at..cut]);
    if cut < h.snippet.len() {
        out.push('…');
    }
    out
}

/// Writes results in the chosen format, with highlights in bold in the table when `bold` (a terminal).
pub fn write_results(
    out: &mut dyn Write,
    results: &SearchResults,
    format: OutputFormat,
    bold: bool,
) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, results)?;
            writeln!(out)?;
        }
        OutputFormat::Jsonl => {
            for hit in &results.hits {
                write_jsonl(&mut *out, hit)?;
            }
        }
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(CSV_HEADER)?;
            for h in &results.hits {
                w.write_record(csv_row(h))?;
            }
            w.flush()?;
        }
        OutputFormat::Table => {
            writeln!(
                out,
                "{} of {} matches for {:?}",
                results.hits.len(),
                results.total,
                results.query
            )?;
            for h in &results.hits {
                let date = h
                    .published
                    .as_deref()
                    .map_or("          ", |d| &d[..d.len().min(10)]);
                let campaigns = if h.campaigns.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", h.campaigns.join(", "))
                };
                writeln!(out)?;
                writeln!(
                    out,
                    "{date}  {:<5} {:<11} {}{campaigns}",
                    h.lang, h.affiliation, h.feed
                )?;
                writeln!(out, "  {}", h.title)?;
                writeln!(out, "  {}", h.url)?;
                if !h.snippet.is_empty() {
                    if bold {
                        writeln!(out, "  {}", bold_snippet(h, 200))?;
                    } else {
                        writeln!(out, "  {}", truncate_chars(&h.snippet, 200))?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Writes facets as text tables.
pub fn write_facets_table(out: &mut dyn Write, facets: &Facets) -> anyhow::Result<()> {
    writeln!(out, "facets over {} matches", facets.total)?;
    let groups = [
        ("campaign", &facets.campaign),
        ("feed", &facets.feed),
        ("lang", &facets.lang),
        ("affiliation", &facets.affiliation),
        ("country", &facets.country),
        ("script", &facets.script),
    ];
    for (name, list) in groups {
        writeln!(out, "\n{name}:")?;
        if list.is_empty() {
            writeln!(out, "  (none)")?;
        }
        for c in list {
            writeln!(out, "  {:>8}  {}", c.count, c.value)?;
        }
    }
    Ok(())
}

/// Writes a histogram as a text chart (bars scaled to 50 characters).
pub fn write_histogram_table(
    out: &mut dyn Write,
    buckets: &[Bucket],
    interval: Interval,
) -> anyhow::Result<()> {
    writeln!(out, "matches by {}", interval_name(interval))?;
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    for b in buckets {
        let width = (b.count * 50).div_ceil(max) as usize;
        let label = bucket_label(b.start, interval);
        writeln!(out, "{label:<10} {:>7} {}", b.count, "█".repeat(width))?;
    }
    Ok(())
}

/// Writes an attention-share histogram as a text chart: count, total and share per bucket, bars scaled
/// to the largest share (50 characters).
pub fn write_share_table(
    out: &mut dyn Write,
    buckets: &[ShareBucket],
    interval: Interval,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "share of the archived articles under the same source filters, by {}",
        interval_name(interval)
    )?;
    let max = buckets
        .iter()
        .filter_map(|b| b.share)
        .fold(0.0_f64, f64::max);
    for b in buckets {
        let (share, width) = match b.share {
            Some(s) if max > 0.0 => (
                format!("{:>7.3}%", s * 100.0),
                (s / max * 50.0).ceil() as usize,
            ),
            Some(s) => (format!("{:>7.3}%", s * 100.0), 0),
            None => ("       -".to_string(), 0),
        };
        writeln!(
            out,
            "{:<10} {:>7} of {:>7} {share} {}",
            bucket_label(b.start, interval),
            b.count,
            b.total,
            "█".repeat(width)
        )?;
    }
    Ok(())
}

fn interval_name(interval: Interval) -> &'static str {
    match interval {
        Interval::Day => "day",
        Interval::Week => "week (from Monday)",
        Interval::Month => "month",
    }
}

fn bucket_label(start: chrono::NaiveDate, interval: Interval) -> String {
    match interval {
        Interval::Month => start.format("%Y-%m").to_string(),
        _ => start.format("%Y-%m-%d").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(
            csv_safe("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(csv_safe("@SUM(1)"), "'@SUM(1)");
        assert_eq!(csv_safe("plain"), "plain");
    }
}
