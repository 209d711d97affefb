//! `compare`: several queries over the same periods ([`search::compare`]), with the search filters
//! ([`super::FilterArgs`], the flags and checks of `search`), printed as a table, CSV or JSON.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::Args;

use super::{open_archive, FilterArgs, IntervalArg};
use crate::search::{self, By, CompareFormat, CompareRequest};

/// `compare` arguments.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// A query (repeatable, at most 10; empty matches every article).
    #[arg(long = "query", value_name = "Q", required = true)]
    pub queries: Vec<String>,
    /// Split each query by this field: one series per value.
    #[arg(long, value_enum)]
    pub by: Option<ByArg>,
    /// Width of a period (weeks start on Monday).
    #[arg(
        long,
        value_enum,
        default_value = "week",
        value_name = "day|week|month"
    )]
    pub interval: IntervalArg,
    /// Also count each period's archived articles under the same source filters and by-value (feed,
    /// affiliation, country, lang, script, dates; not the query, not --campaign) and the share
    /// count / total.
    #[arg(long)]
    pub normalize: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: CompareFormatArg,
    /// The search filters.
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// `compare --by`: [`By`] as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ByArg {
    /// The outlet's affiliation.
    Affiliation,
    /// The feed id.
    Feed,
    /// The outlet's country.
    Country,
    /// The article's language.
    Lang,
}

impl From<ByArg> for By {
    fn from(a: ByArg) -> By {
        match a {
            ByArg::Affiliation => By::Affiliation,
            ByArg::Feed => By::Feed,
            ByArg::Country => By::Country,
            ByArg::Lang => By::Lang,
        }
    }
}

/// `compare --format`: [`CompareFormat`] as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompareFormatArg {
    /// Aligned text, one block per series.
    Table,
    /// A header row, then one row per series and period.
    Csv,
    /// One JSON object: the series and their rows.
    Json,
}

impl From<CompareFormatArg> for CompareFormat {
    fn from(a: CompareFormatArg) -> CompareFormat {
        match a {
            CompareFormatArg::Table => CompareFormat::Table,
            CompareFormatArg::Csv => CompareFormat::Csv,
            CompareFormatArg::Json => CompareFormat::Json,
        }
    }
}

/// Runs `compare`: a bad request (too many queries, a query twice, reversed dates, a bad query) exits 2.
pub fn compare_cmd(config_path: &Path, args: CompareArgs) -> anyhow::Result<ExitCode> {
    let (config, archive) = open_archive(config_path)?;
    let req = CompareRequest {
        queries: args.queries,
        filters: args.filters.request(&config, String::new()),
        by: args.by.map(By::from),
        interval: args.interval.into(),
        normalize: args.normalize,
    };
    let comparison = search::compare(&archive, &req)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    search::write_compare(&mut out, &comparison, args.format.into())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
