//! `mediawatch terms`: the distinctive terms of a query's matches ([`crate::search::terms`]) as a table,
//! JSON or CSV.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;

use super::FilterArgs;

use crate::search::terms::{self, TermsReport, TermsRequest};

/// `terms` arguments.
#[derive(Debug, Args)]
pub struct TermsArgs {
    /// The foreground query (tantivy syntax, as `search` takes it); empty matches every article.
    pub query: String,
    /// The search filters, as `search` takes them.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Background: a sample of this query's matches under the same filters (default: the archive
    /// under the same filters).
    #[arg(long, value_name = "QUERY", conflicts_with = "vs_all")]
    pub vs: Option<String>,
    /// Background: the archive under the same filters (the default): without filters the index's term
    /// counts, with filters a uniform sample of the filtered archive.
    #[arg(long)]
    pub vs_all: bool,
    /// Terms shown at most (1 to 1000).
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
    /// Foreground articles analysed: the best N matches by relevance (1 to 20000).
    #[arg(long, default_value_t = terms::DEFAULT_SAMPLE)]
    pub sample: usize,
    /// Foreground articles a term must occur in.
    #[arg(long, default_value_t = terms::DEFAULT_MIN_DOCS)]
    pub min_docs: usize,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: TermsFormat,
}

/// `terms --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TermsFormat {
    /// Aligned text, then one example line per term.
    Table,
    /// One JSON object: the counts of both sides and the terms.
    Json,
    /// A header row, then one term per row.
    Csv,
}

pub(super) fn terms_cmd(config_path: &Path, args: TermsArgs) -> anyhow::Result<ExitCode> {
    let (config, archive) = super::open_archive(config_path)?;
    let req = TermsRequest {
        search: args.filters.request(&config, args.query),
        vs: args.vs,
        limit: args.limit,
        sample: args.sample,
        min_docs: args.min_docs,
        uniform: false,
    };
    if let Err(e) = terms::check_request(&req) {
        eprintln!("mediawatch: {e}");
        return Ok(ExitCode::from(2));
    }
    let report = terms::terms(&archive, &req)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        TermsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        TermsFormat::Csv => write_csv(&mut out, &report)?,
        TermsFormat::Table => write_table(&mut out, &report)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The CSV columns of `terms --format csv`.
pub const CSV_HEADER: [&str; 11] = [
    "term",
    "kind",
    "lang",
    "fg_count",
    "fg_size",
    "bg_count",
    "bg_size",
    "score",
    "example_id",
    "example_url",
    "example_snippet",
];

fn write_csv(out: &mut impl Write, report: &TermsReport) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    for t in &report.terms {
        let ex = t.example.as_ref();
        let safe = crate::search::csv_safe;
        w.write_record([
            safe(&t.term).as_str(),
            t.kind,
            safe(&t.lang).as_str(),
            &t.fg_count.to_string(),
            &t.fg_size.to_string(),
            &t.bg_count.to_string(),
            &t.bg_size.to_string(),
            &format!("{:.2}", t.score),
            &ex.map_or(String::new(), |e| safe(&e.id)),
            &ex.map_or(String::new(), |e| safe(&e.url)),
            &ex.map_or(String::new(), |e| safe(&e.snippet)),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_table(out: &mut impl Write, report: &TermsReport) -> anyhow::Result<()> {
    let background = match &report.vs {
        Some(q) => format!(
            "{} of {} matches of {q:?}",
            report.background_sample, report.background_matches
        ),
        None => format!(
            "the whole archive ({} articles, index counts)",
            report.background_matches
        ),
    };
    writeln!(
        out,
        "{} of {} matches analysed ({}), against {background}",
        report.sample,
        report.matches,
        if report.sampling == "uniform" {
            "a uniform sample"
        } else {
            "the best by relevance"
        }
    )?;
    if report.terms.is_empty() {
        writeln!(out, "no distinctive terms")?;
        return Ok(());
    }
    let width = term_width(report.terms.iter().map(|t| t.term.as_str()));
    writeln!(
        out,
        "{:<width$}  {:<6} {:<4} {:>13} {:>17} {:>9}",
        "term", "kind", "lang", "foreground", "background", "G2"
    )?;
    for t in &report.terms {
        let term: String = t.term.chars().take(40).collect();
        let pad = width.saturating_sub(term.chars().count());
        writeln!(
            out,
            "{term}{}  {:<6} {:<4} {:>13} {:>17} {:>9.1}",
            " ".repeat(pad),
            t.kind,
            t.lang,
            format!("{}/{}", t.fg_count, t.fg_size),
            format!("{}/{}", t.bg_count, t.bg_size),
            t.score
        )?;
    }
    writeln!(out)?;
    for t in &report.terms {
        if let Some(e) = &t.example {
            writeln!(out, "{}: {} ({})", t.term, e.snippet, e.url)?;
        }
    }
    Ok(())
}

/// Suggestions at most (`campaigns suggest --limit`).
const MAX_SUGGESTIONS: usize = 200;

pub(super) fn suggest_cmd(
    config_path: &Path,
    id: &str,
    lang: Option<String>,
    limit: usize,
    sample: usize,
    format: super::StatusFormat,
) -> anyhow::Result<ExitCode> {
    if !(1..=MAX_SUGGESTIONS).contains(&limit) {
        eprintln!("mediawatch: --limit {limit} is not from 1 to {MAX_SUGGESTIONS}");
        return Ok(ExitCode::from(2));
    }
    if !(1..=terms::MAX_SAMPLE).contains(&sample) {
        eprintln!(
            "mediawatch: --sample {sample} is not from 1 to {} articles",
            terms::MAX_SAMPLE
        );
        return Ok(ExitCode::from(2));
    }
    let (config, archive) = super::open_archive(config_path)?;
    let Some(spec) = config.campaign(id) else {
        let ids: Vec<&str> = config.campaigns.iter().map(|c| c.id.as_str()).collect();
        eprintln!(
            "mediawatch: no campaign {id:?} in {} (campaigns: {})",
            config.path.display(),
            ids.join(", ")
        );
        return Ok(ExitCode::from(2));
    };
    let dir = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let examples = crate::codebook::load_examples(dir, &config.campaigns)?;
    let req = crate::suggest::SuggestRequest {
        lang,
        limit,
        sample,
    };
    let report = crate::suggest::suggest(&archive, spec, &examples, &req)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match format {
        super::StatusFormat::Json => {
            let value = serde_json::json!({
                "report": report,
                "toml": crate::suggest::toml_snippet(spec, &report.suggestions),
            });
            serde_json::to_writer_pretty(&mut out, &value)?;
            writeln!(out)?;
        }
        super::StatusFormat::Table => write_suggestions(&mut out, spec, &report)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write_suggestions(
    out: &mut impl Write,
    spec: &crate::model::CampaignSpec,
    report: &crate::suggest::SuggestReport,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "campaign {}: {} of {} tagged articles analysed, against {} untagged ones of the same outlets and period",
        report.campaign, report.tagged_sample, report.tagged, report.background_matches
    )?;
    if report.suggestions.is_empty() {
        writeln!(out, "no suggestion")?;
        return Ok(());
    }
    let width = term_width(report.suggestions.iter().map(|s| s.term.as_str()));
    writeln!(
        out,
        "{:<width$}  {:<4} {:>11} {:>15} {:>8} {:>10}  examples",
        "term", "lang", "tagged", "untagged", "G2", "would tag"
    )?;
    for s in &report.suggestions {
        let term: String = s.term.chars().take(40).collect();
        let pad = width.saturating_sub(term.chars().count());
        let would = if s.holding > s.checked {
            format!(">={}", s.would_tag)
        } else {
            s.would_tag.to_string()
        };
        let mut examples = Vec::new();
        for p in &s.breaks {
            examples.push(format!("BREAKS {}", p.display()));
        }
        for p in &s.fixes {
            examples.push(format!("fixes {}", p.display()));
        }
        if examples.is_empty() {
            examples.push("ok".into());
        }
        writeln!(
            out,
            "{term}{}  {:<4} {:>11} {:>15} {:>8.1} {:>10}  {}",
            " ".repeat(pad),
            s.lang,
            format!("{}/{}", s.from.fg_count, s.from.fg_size),
            format!("{}/{}", s.from.bg_count, s.from.bg_size),
            s.from.score,
            would,
            examples.join("; ")
        )?;
    }
    writeln!(out)?;
    write!(
        out,
        "{}",
        crate::suggest::toml_snippet(spec, &report.suggestions)
    )?;
    Ok(())
}

/// The width of a table's term column: its longest term (in characters, at most 40) or the header's.
fn term_width<'a>(terms: impl Iterator<Item = &'a str>) -> usize {
    terms
        .map(|t| t.chars().count())
        .chain(["term".len()])
        .max()
        .unwrap_or(4)
        .min(40)
}
