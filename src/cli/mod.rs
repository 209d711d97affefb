//! The command line: argument definitions (clap) and one function per command, each a thin shell around
//! the library. Data goes to stdout, logs and progress to stderr.
//!
//! Here: the clap definitions (with [`FilterArgs`], the search filters `search`, `compare` and
//! `export-parquet` share), [`run`] and the archive commands; `compare.rs` the `compare` command,
//! `export_parquet.rs` the Parquet export, `feeds.rs` the `feeds` subcommands, `tools.rs` the commands that
//! run one stage on saved files, `output.rs` the tables and JSON lines they print.

mod alerts;
mod compare;
mod export_parquet;
mod feeds;
mod history;
mod output;
mod terms;
mod tools;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{self, ConfigError};
use crate::digest::{self, DigestFormat};
use crate::index::Archive;
use crate::pipeline;
use crate::search::{self, OutputFormat, QueryError, SearchRequest};

use alerts::{alerts_cmd, deliver_after_ingest};
use export_parquet::{export_parquet_cmd, ExportParquetArgs};
use feeds::feeds_cmd;
use output::{rfc3339, write_cluster_table};
use tools::{detect_charset_cmd, extract_cmd, han_convert_cmd, lang_cmd, parse_feed_cmd, tag_cmd};

/// Monitor news media for state-backed disinformation campaigns.
#[derive(Debug, Parser)]
#[command(name = "mediawatch", version, about, long_about = None)]
pub struct Cli {
    /// The config file.
    #[arg(long, global = true, default_value = "feeds.toml", value_name = "FILE")]
    pub config: PathBuf,
    /// More log output (-v: debug, -vv: trace). RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One pass: fetch every feed and new article, extract, detect language, tag, index, commit.
    Ingest {
        /// Fetch feeds that are under a backoff too.
        #[arg(long)]
        force: bool,
    },
    /// The daemon: poll each feed when it is due, commit after every pass, stop on SIGINT/SIGTERM.
    Run {
        /// Serve Prometheus metrics (OpenMetrics text) on http://ADDR/metrics: HOST:PORT, or a bare PORT
        /// on 127.0.0.1. Unauthenticated: any other host only as written (with a warning).
        #[arg(long, value_name = "ADDR", value_parser = crate::metrics::parse_addr)]
        metrics_addr: Option<std::net::SocketAddr>,
    },
    /// Archive a source's past: older sitemaps (by lastmod and the dates in their names) of a sitemap source,
    /// older pages of a Telegram channel, what an RSS feed holds. Polite (the one fetcher), resumable after
    /// an interruption (its position is kept in the state store), never a duplicate.
    Backfill(BackfillArgs),
    /// Search the archive (tantivy query syntax: terms, "phrases", AND/OR/NOT, field:value).
    Search(SearchArgs),
    /// Several queries over the same periods: one row per period and series (a query, or a query split
    /// by --by), with count, and with --normalize the total archived under the same source filters and
    /// the share.
    Compare(compare::CompareArgs),
    /// The archive, or the slice a query and the search filters select, as Parquet files partitioned by
    /// month (`DIR/month=YYYY-MM/part-*.parquet`) with `manifest.json` (provenance, sha256 of each file);
    /// a second run adds files (e.g. with a later --since). For DuckDB, pandas, Spark.
    ExportParquet(ExportParquetArgs),
    /// The terms that set a query's matches apart from the archive (or from another query's matches):
    /// stems, Chinese words and two-word phrases, scored by log-likelihood (G2), with an example each.
    Terms(terms::TermsArgs),
    /// Run the language and tagging stages alone on saved pages or text files (first line = title).
    Tag {
        /// Output format (one JSON object per file).
        #[arg(long, value_enum, default_value = "jsonl")]
        format: TagFormat,
        /// Files: HTML pages (extracted first) or plain text.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Re-apply the current campaign codebooks to the whole archive, without refetching.
    Retag,
    /// Rebuild the index with this version's schema from the articles it stores (after an upgrade).
    Reindex,
    /// List the near-duplicate cluster of an article (copies across outlets), first publisher first.
    Similar {
        /// Article id or URL.
        id_or_url: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: StatusFormat,
    },
    /// An archived article's versions as revisits found them: word diffs of title and text, the tags of
    /// each version, returns to earlier versions and its removal.
    History {
        /// Article id or URL.
        id_or_url: String,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: HistoryFormat,
    },
    /// Write the digest of one UTC day (default: yesterday) or of a period (--from/--to).
    Digest(DigestArgs),
    /// Run the extraction stage alone on saved pages (no config needed).
    Extract(ExtractArgs),
    /// Detect language and script: one result line per input line (no config needed).
    Lang(LangArgs),
    /// Convert Chinese text between scripts, line by line (stdin to stdout), with the OpenCC tables.
    #[command(hide = true)]
    HanConvert {
        /// `s2t` (Simplified to Traditional) or `t2s`.
        #[arg(value_parser = ["s2t", "t2s"])]
        direction: String,
    },
    /// Parse saved feed documents and report what was read (no config needed).
    ParseFeed(ParseFeedArgs),
    /// Report the charset each saved file decodes with, and why (no config needed).
    DetectCharset(DetectCharsetArgs),
    /// Validate the config and print a summary.
    CheckConfig,
    /// Verify the index folder (the index, its schema marker, every segment's stored articles, the state
    /// store): one line per finding with what to do; exit 1 when one needs action.
    Check {
        /// Rebuild what can be rebuilt (schema marker, feed state, near-duplicate signatures), under the
        /// writer lock; archived articles are never deleted.
        #[arg(long)]
        repair: bool,
    },
    /// Campaign codebooks: check them against their labelled examples.
    Campaigns {
        /// What to do.
        #[command(subcommand)]
        command: CampaignsCommand,
    },
    /// The web workspace: search, articles, campaigns, digests, feed health, JSON API, Atom feeds.
    /// Read-only; runs beside `run` on the same index.
    Serve {
        /// Address to listen on. Anything but loopback needs a token.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Token required on every request (overrides `[web] token`).
        #[arg(long, env = "MEDIAWATCH_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// List or add feeds.
    Feeds {
        /// What to do.
        #[command(subcommand)]
        command: FeedsCommand,
    },
    /// Saved searches that push (`[[alerts]]`): list them, try one, see the outbox.
    Alerts {
        /// What to do.
        #[command(subcommand)]
        command: AlertsCommand,
    },
}

/// `alerts` subcommands.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Every alert: id, when it fires, how it batches, where it delivers, its query and filters.
    List,
    /// What an alert would send over the archived articles (published since --since), without sending.
    Test {
        /// The alert's id.
        id: String,
        /// Only articles published on or after this UTC day (YYYY-MM-DD).
        #[arg(long, value_parser = search::parse_day)]
        since: Option<chrono::NaiveDate>,
    },
    /// The outbox: pending and failed deliveries with their errors (--all: delivered ones too).
    Outbox {
        /// Also list the delivered messages.
        #[arg(long)]
        all: bool,
    },
}

/// `search` arguments.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query; empty matches every article.
    pub query: String,
    /// The filters.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Hits shown at most (1 to 1,000,000; --all streams every match).
    #[arg(long, default_value_t = 20, value_parser = search::parse_limit)]
    pub limit: usize,
    /// Order of the hits.
    #[arg(long, value_enum, default_value = "relevance")]
    pub sort: SortArg,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<OutputFormatArg>,
    /// Also print counts by campaign, feed, lang, affiliation and country over every match (table, json).
    #[arg(long)]
    pub facets: bool,
    /// Also print the match count over time (table: a chart; json: buckets).
    #[arg(long, value_enum, value_name = "day|week|month")]
    pub histogram: Option<IntervalArg>,
    /// With --histogram: also count, per bucket, the archived articles under the same source filters
    /// (feed, affiliation, country, lang, script, dates; not the query, not --campaign) as `total`, and
    /// the attention share `count / total`.
    #[arg(long, requires = "histogram")]
    pub normalize: bool,
    /// Stream every match, without a limit (with --format csv or jsonl), and write a provenance record.
    #[arg(long)]
    pub all: bool,
    /// With --all: write the provenance record (JSON) to this file instead of stderr.
    #[arg(long, value_name = "FILE", requires = "all")]
    pub stamp: Option<PathBuf>,
}

/// The search filters, as `search` and `compare` take them.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only articles in this language (ISO 639-1).
    #[arg(long)]
    pub lang: Option<String>,
    /// Only articles tagged with this campaign id.
    #[arg(long)]
    pub campaign: Option<String>,
    /// Only articles from this feed id.
    #[arg(long)]
    pub feed: Option<String>,
    /// Only articles from outlets with this affiliation.
    #[arg(long, value_parser = ["state", "independent", "unknown"])]
    pub affiliation: Option<String>,
    /// Only articles from outlets of this country (as configured, e.g. CN).
    #[arg(long)]
    pub country: Option<String>,
    /// Only articles in this script (Hans, Hant, Cyrl, Latn, ...).
    #[arg(long)]
    pub script: Option<String>,
    /// Published on or after this UTC day (YYYY-MM-DD).
    #[arg(long, value_parser = search::parse_day)]
    pub since: Option<chrono::NaiveDate>,
    /// Published on or before this UTC day (YYYY-MM-DD).
    #[arg(long, value_parser = search::parse_day)]
    pub until: Option<chrono::NaiveDate>,
}

impl FilterArgs {
    /// The search request of `query` under these filters (first 20 hits by relevance), with a warning
    /// on stderr when the campaign is not in the config.
    pub fn request(self, config: &config::Config, query: String) -> SearchRequest {
        if let Some(c) = &self.campaign {
            if config.campaign(c).is_none() {
                eprintln!(
                    "mediawatch: warning: campaign {c:?} is not in {}",
                    config.path.display()
                );
            }
        }
        SearchRequest {
            query,
            lang: self.lang,
            campaign: self.campaign,
            feed: self.feed,
            affiliation: self.affiliation,
            country: self.country,
            script: self.script,
            since: self.since,
            until: self.until,
            limit: 20,
            offset: 0,
            sort: search::Sort::Relevance,
            changed: false,
        }
    }
}

/// `digest` arguments.
#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The UTC day (YYYY-MM-DD); default yesterday.
    #[arg(long, value_parser = search::parse_day, conflicts_with_all = ["from", "to"])]
    pub date: Option<chrono::NaiveDate>,
    /// First UTC day of a period (a week, a month); with --to.
    #[arg(long, value_parser = search::parse_day, requires = "to")]
    pub from: Option<chrono::NaiveDate>,
    /// Last UTC day of a period, inclusive; with --from.
    #[arg(long, value_parser = search::parse_day, requires = "from")]
    pub to: Option<chrono::NaiveDate>,
    /// Output format.
    #[arg(long, value_enum, default_value = "md")]
    pub format: DigestFormatArg,
    /// Write `YYYY-MM-DD.<ext>` (a period: `FROM_TO.<ext>`) into this folder instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `search --sort`: [`search::Sort`] as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SortArg {
    /// Best match first.
    Relevance,
    /// Latest publication first (hits carry score 0).
    Newest,
    /// Earliest publication first (hits carry score 0).
    Oldest,
    /// Latest change a revisit found first (never changed last; hits carry score 0).
    Changed,
}

impl From<SortArg> for search::Sort {
    fn from(a: SortArg) -> search::Sort {
        match a {
            SortArg::Relevance => search::Sort::Relevance,
            SortArg::Newest => search::Sort::Newest,
            SortArg::Oldest => search::Sort::Oldest,
            SortArg::Changed => search::Sort::Changed,
        }
    }
}

/// `search --format`: [`OutputFormat`] as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormatArg {
    /// Aligned text for a terminal.
    Table,
    /// One JSON object `{"query", "total", "hits"}`.
    Json,
    /// One hit per line.
    Jsonl,
    /// A header row, then one hit per row.
    Csv,
}

impl From<OutputFormatArg> for OutputFormat {
    fn from(a: OutputFormatArg) -> OutputFormat {
        match a {
            OutputFormatArg::Table => OutputFormat::Table,
            OutputFormatArg::Json => OutputFormat::Json,
            OutputFormatArg::Jsonl => OutputFormat::Jsonl,
            OutputFormatArg::Csv => OutputFormat::Csv,
        }
    }
}

/// `search --histogram`: [`search::Interval`] as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IntervalArg {
    /// One UTC day.
    Day,
    /// Monday to Sunday (UTC).
    Week,
    /// A calendar month (UTC).
    Month,
}

impl From<IntervalArg> for search::Interval {
    fn from(a: IntervalArg) -> search::Interval {
        match a {
            IntervalArg::Day => search::Interval::Day,
            IntervalArg::Week => search::Interval::Week,
            IntervalArg::Month => search::Interval::Month,
        }
    }
}

/// `digest --format`: [`DigestFormat`] as a flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DigestFormatArg {
    /// Markdown for chat and email.
    Md,
    /// One self-contained HTML file.
    Html,
    /// Every number, for other tools.
    Json,
}

impl From<DigestFormatArg> for DigestFormat {
    fn from(a: DigestFormatArg) -> DigestFormat {
        match a {
            DigestFormatArg::Md => DigestFormat::Md,
            DigestFormatArg::Html => DigestFormat::Html,
            DigestFormatArg::Json => DigestFormat::Json,
        }
    }
}

/// `extract` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExtractFormat {
    /// Title, blank line, text; files separated by a line of dashes.
    Text,
    /// A JSON array of objects.
    Json,
    /// One JSON object per file and line.
    Jsonl,
}

/// `extract` arguments.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: ExtractFormat,
    /// The page's URL (resolves relative links; used for every FILE).
    #[arg(long)]
    pub url: Option<url::Url>,
    /// Run the extraction stage alone: skip language detection (a separate pipeline stage) and
    /// leave `lang` and `script` out of the JSON output.
    #[arg(long)]
    pub no_lang: bool,
    /// Saved pages (.gz is decompressed).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// `lang` arguments.
#[derive(Debug, Args)]
pub struct LangArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: LangFormat,
    /// Which detector: ours (whatlang with script statistics and priors), or whatlang alone (for comparison).
    #[arg(long, value_enum, default_value = "mediawatch")]
    pub detector: Detector,
    /// A declared language to use as a prior (like a feed's `language`).
    #[arg(long)]
    pub hint: Option<String>,
    /// Input file; `-` or none reads standard input.
    pub file: Option<PathBuf>,
}

/// `lang` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LangFormat {
    /// `lang script confidence reliable`, tab-separated.
    Text,
    /// `{"lang", "script", "confidence", "reliable"}` per line.
    Jsonl,
}

/// Language detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Detector {
    /// mediawatch's detector.
    Mediawatch,
    /// whatlang's raw guess.
    Whatlang,
}

/// `parse-feed` arguments.
#[derive(Debug, Args)]
pub struct ParseFeedArgs {
    /// The URL the documents came from (resolves relative links).
    #[arg(long, default_value = "http://feed.invalid/")]
    pub url: url::Url,
    /// The source kind to read the documents as.
    #[arg(long, value_parser = ["rss", "sitemap", "html", "telegram"], default_value = "rss")]
    pub kind: String,
    /// CSS selector of the article links (`--kind html`).
    #[arg(long)]
    pub link_selector: Option<String>,
    /// Also print every entry.
    #[arg(long)]
    pub entries: bool,
    /// Saved feed documents (.gz is decompressed).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// `backfill` arguments.
#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// The feed id (from the config).
    #[arg(long)]
    pub feed: String,
    /// Oldest publication day taken (UTC, YYYY-MM-DD).
    #[arg(long, value_parser = search::parse_day)]
    pub since: chrono::NaiveDate,
    /// Newest publication day taken (UTC, YYYY-MM-DD; default today).
    #[arg(long, value_parser = search::parse_day)]
    pub until: Option<chrono::NaiveDate>,
}

/// `detect-charset` arguments.
#[derive(Debug, Args)]
pub struct DetectCharsetArgs {
    /// A `Content-Type` header value to apply, as a server would send it.
    #[arg(long)]
    pub content_type: Option<String>,
    /// Saved files (.gz is decompressed).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// `tag` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TagFormat {
    /// One JSON object per file.
    Jsonl,
}

/// `campaigns` subcommands.
#[derive(Debug, Subcommand)]
pub enum CampaignsCommand {
    /// Run every campaign's examples (`campaigns/<id>/positive|negative/*.txt` beside the config): precision
    /// and recall per campaign, the failing examples; exit 1 on any failure.
    Test,
    /// Candidate terms distinctive of a campaign's tagged articles against the untagged articles of the
    /// same outlets and period: how many more archived articles each would tag (the real tagger, with
    /// `min_terms`), whether it would tag a negative example; then TOML to paste into the config.
    Suggest {
        /// The campaign's id.
        id: String,
        /// Only articles in this language (ISO 639-1).
        #[arg(long)]
        lang: Option<String>,
        /// Suggestions at most (1 to 200).
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Articles analysed on each side (1 to 20000).
        #[arg(long, default_value_t = crate::search::terms::DEFAULT_SAMPLE)]
        sample: usize,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: StatusFormat,
    },
}

/// `history` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryFormat {
    /// Lines, with `[-removed-]` and `{+added+}` words.
    Text,
    /// One JSON object.
    Json,
}

/// `feeds status` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    /// Aligned text.
    Table,
    /// A JSON array.
    Json,
}

/// `feeds` subcommands.
#[derive(Debug, Subcommand)]
pub enum FeedsCommand {
    /// List the configured feeds.
    List,
    /// Per feed: health, last success, failures and last error, entries and articles, next due.
    Status {
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: StatusFormat,
    },
    /// Add the feeds of an OPML file to the config (ill-formed OPML is read as far as it can be).
    ImportOpml {
        /// The OPML file.
        file: PathBuf,
        /// Affiliation for imported feeds that carry none.
        #[arg(long, value_parser = ["state", "independent", "unknown"])]
        affiliation: Option<String>,
    },
    /// Fill missing affiliation / typology / country of feeds by host from a State Media Matrix CSV.
    Label {
        /// The CSV (State_Media_Matrix.csv format).
        #[arg(long = "from-asd", value_name = "FILE")]
        matrix: PathBuf,
        /// Report what would change without writing the config.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the configured feeds as OPML 2.0 (with mediawatch's labels as attributes).
    ExportOpml,
    /// List a site's candidate sources (feeds, sitemaps, Telegram channels), each checked, with the
    /// `feeds add` command for each.
    ///
    /// Candidates: the feeds the page links (`<link rel="alternate">`, else common feed paths), the sitemaps
    /// its origin's robots.txt names (else common sitemap paths) and the news sitemaps of their indexes, and
    /// the Telegram channels it links. When URL is itself a feed, a sitemap or a Telegram preview, that is
    /// what is listed. Section pages (`kind = "html"`) are not discovered: their link selector needs a human.
    /// URL is fetched as written; the URLs found from it are links (robots.txt and the private-network guard
    /// apply). Exits 1 when no candidate works.
    Discover {
        /// A site's home page, a section page, or a feed, sitemap or Telegram preview URL.
        url: url::Url,
        /// Output format.
        #[arg(long, value_enum, default_value = "table")]
        format: StatusFormat,
    },
    /// Append a feed to the config file, keeping its comments and layout.
    Add {
        /// The source's URL (a feed, a sitemap, a section page or a Telegram preview, by --kind).
        url: String,
        /// Unique id, [a-z0-9-].
        #[arg(long)]
        id: String,
        /// Outlet name.
        #[arg(long)]
        name: Option<String>,
        /// state | independent | unknown.
        #[arg(long)]
        affiliation: Option<String>,
        /// ISO 3166-1 alpha-2 country.
        #[arg(long)]
        country: Option<String>,
        /// ISO 639-1 language hint.
        #[arg(long)]
        language: Option<String>,
        /// What URL is: rss (default: RSS, Atom or JSON Feed), sitemap, html (a section page), telegram.
        #[arg(long, value_parser = ["rss", "sitemap", "html", "telegram"])]
        kind: Option<String>,
        /// sitemap: on a regular pass, take only URLs dated within this many days (default 2).
        #[arg(long, value_name = "N")]
        max_age_days: Option<u32>,
        /// html (required there): CSS selector of the article links.
        #[arg(long, value_name = "CSS")]
        link_selector: Option<String>,
        /// html: a link must match one of these URL regexes (repeatable).
        #[arg(long, value_name = "REGEX")]
        include: Vec<String>,
        /// html: a link matching one of these URL regexes is dropped (repeatable).
        #[arg(long, value_name = "REGEX")]
        exclude: Vec<String>,
        /// html: only links to the page's own site (default true).
        #[arg(long, value_name = "true|false")]
        same_site: Option<bool>,
    },
}

/// The exit status for an error: 2 for what the user must fix in the config or the query, else 1.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    if err
        .chain()
        .any(|e| e.is::<ConfigError>() || e.is::<QueryError>() || e.is::<search::CompareError>())
    {
        2
    } else {
        1
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "mediawatch=info",
        1 => "mediawatch=debug",
        _ => "mediawatch=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// Parses the command line and runs the command.
pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    match cli.command {
        Command::Ingest { force } => ingest(&cli.config, force),
        Command::Backfill(args) => backfill_cmd(&cli.config, args),
        Command::Run { metrics_addr } => run_daemon(&cli.config, metrics_addr),
        Command::Search(args) => search_cmd(&cli.config, args),
        Command::Compare(args) => compare::compare_cmd(&cli.config, args),
        Command::ExportParquet(args) => export_parquet_cmd(&cli.config, args),
        Command::Terms(args) => terms::terms_cmd(&cli.config, args),
        Command::Digest(args) => digest_cmd(&cli.config, args),
        Command::Tag { format: _, files } => tag_cmd(&cli.config, &files),
        Command::Retag => retag_cmd(&cli.config),
        Command::Reindex => reindex_cmd(&cli.config),
        Command::Similar { id_or_url, format } => similar_cmd(&cli.config, &id_or_url, format),
        Command::History { id_or_url, format } => {
            history::history_cmd(&cli.config, &id_or_url, format)
        }
        Command::Extract(args) => extract_cmd(args),
        Command::Lang(args) => lang_cmd(args),
        Command::HanConvert { direction } => han_convert_cmd(&direction),
        Command::ParseFeed(args) => parse_feed_cmd(args),
        Command::DetectCharset(args) => detect_charset_cmd(args),
        Command::CheckConfig => check_config(&cli.config),
        Command::Check { repair } => check_cmd(&cli.config, repair),
        Command::Feeds { command } => feeds_cmd(&cli.config, command),
        Command::Alerts { command } => alerts_cmd(&cli.config, command),
        Command::Serve { addr, token } => serve_cmd(&cli.config, addr, token),
        Command::Campaigns {
            command: CampaignsCommand::Test,
        } => campaigns_test(&cli.config),
        Command::Campaigns {
            command:
                CampaignsCommand::Suggest {
                    id,
                    lang,
                    limit,
                    sample,
                    format,
                },
        } => terms::suggest_cmd(&cli.config, &id, lang, limit, sample, format),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

fn ingest(config_path: &Path, force: bool) -> anyhow::Result<ExitCode> {
    let pipeline = pipeline::open_from(config_path)?;
    eprintln!(
        "mediawatch: ingesting {} feeds into {}",
        pipeline.config.feeds.len(),
        pipeline.config.index_path.display()
    );
    let options = pipeline::PassOptions { force, only: None };
    let runtime = runtime()?;
    let report = runtime.block_on(pipeline::ingest_pass(&pipeline, &options))?;
    finish_merges(&pipeline);
    deliver_after_ingest(&pipeline, &runtime)?;
    for f in &report.failures {
        eprintln!("mediawatch: failed: feed {} {}: {}", f.feed, f.url, f.error);
    }
    for n in &report.notices {
        eprintln!("mediawatch: notice: feed {} {}: {}", n.feed, n.url, n.error);
    }
    for (id, until) in &report.feeds_backed_off {
        eprintln!(
            "mediawatch: skipped: feed {id} is backed off until {until} (--force to fetch anyway)"
        );
    }
    if !report.feeds_unhealthy.is_empty() {
        eprintln!(
            "mediawatch: unhealthy feeds (failing {}+ times in a row): {}",
            crate::status::UNHEALTHY_AFTER,
            report.feeds_unhealthy.join(", ")
        );
    }
    eprintln!("mediawatch: {report}");
    Ok(ExitCode::SUCCESS)
}

fn backfill_cmd(config_path: &Path, args: BackfillArgs) -> anyhow::Result<ExitCode> {
    let pipeline = pipeline::open_from(config_path)?;
    let until = args
        .until
        .unwrap_or_else(|| chrono::Utc::now().date_naive());
    let request = pipeline::BackfillRequest {
        feed: args.feed.clone(),
        since: args.since.and_time(chrono::NaiveTime::MIN).and_utc(),
        until: until
            .and_hms_opt(23, 59, 59)
            .unwrap_or(until.and_time(chrono::NaiveTime::MIN))
            .and_utc(),
    };
    eprintln!(
        "mediawatch: backfilling feed {} from {} to {until}",
        args.feed, args.since
    );
    // Drawn on a terminal only (indicatif hides itself otherwise).
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("backfill {spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let report = runtime()?.block_on(pipeline::backfill(&pipeline, &request, &|at| {
        let reached = at
            .reached
            .map(|d| format!(", at {}", d.date_naive()))
            .unwrap_or_default();
        bar.set_message(format!(
            "{} documents read, {} articles archived{reached}",
            at.documents, at.archived
        ));
        bar.tick();
    }));
    bar.finish_and_clear();
    let report = report?;
    finish_merges(&pipeline);
    for f in &report.failures {
        eprintln!("mediawatch: failed: feed {} {}: {}", f.feed, f.url, f.error);
    }
    for n in &report.notices {
        eprintln!("mediawatch: notice: feed {}: {n}", args.feed);
    }
    eprintln!(
        "mediawatch: backfill of {}{}: {} documents read, {} entries in range ({} already archived), {} articles archived, {} pages failed{}",
        args.feed,
        if report.resumed { " (resumed)" } else { "" },
        report.documents,
        report.entries_in_range,
        report.already_archived,
        report.articles_archived,
        report.pages_failed,
        if report.pages_failed > 0 {
            " (run the same backfill again to retry them)"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Waits for the index merges of a writing command before it exits; a failure is only a warning (the
/// archive is committed, and the next writer merges again).
fn finish_merges(pipeline: &pipeline::Pipeline) {
    if let Err(e) = pipeline.finish_merges() {
        eprintln!("mediawatch: warning: {e:#}");
    }
}

fn serve_cmd(
    config_path: &Path,
    addr: std::net::SocketAddr,
    token: Option<String>,
) -> anyhow::Result<ExitCode> {
    let config = config::load(config_path)?;
    runtime()?.block_on(crate::web::serve(
        config,
        addr,
        token,
        crate::daemon::shutdown_signal(),
    ))?;
    eprintln!("mediawatch: server stopped");
    Ok(ExitCode::SUCCESS)
}

fn run_daemon(
    config_path: &Path,
    metrics_addr: Option<std::net::SocketAddr>,
) -> anyhow::Result<ExitCode> {
    let pipeline = pipeline::open_from(config_path)?;
    let runtime = runtime()?;
    // Bound before the first pass, so a taken port stops the daemon at once; served on the daemon's
    // runtime until it stops.
    let metrics = match metrics_addr {
        Some(addr) => {
            let listener = runtime.block_on(crate::metrics::bind(addr))?;
            let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
            runtime.spawn(crate::metrics::serve(
                listener,
                std::sync::Arc::clone(&metrics),
            ));
            Some(metrics)
        }
        None => None,
    };
    eprintln!(
        "mediawatch: daemon polling {} feeds into {} (SIGINT/SIGTERM to stop)",
        pipeline.config.feeds.len(),
        pipeline.config.index_path.display()
    );
    let passes = runtime.block_on(crate::daemon::run(
        &pipeline,
        metrics.as_deref(),
        crate::daemon::shutdown_signal(),
    ))?;
    finish_merges(&pipeline);
    eprintln!("mediawatch: stopped after {passes} passes; index committed");
    Ok(ExitCode::SUCCESS)
}

/// The config and the archive of a command that reads (one search at a time: each one may use every
/// core across the index's segments, see [`Archive::set_search_threads`]).
fn open_archive(config_path: &Path) -> anyhow::Result<(config::Config, Archive)> {
    let config = config::load(config_path)?;
    let mut archive = Archive::open(&config.index_path)?;
    archive.set_search_threads(search_threads())?;
    Ok((config, archive))
}

/// Threads of one search in a command: the cores, at most 8.
pub fn search_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

fn search_cmd(config_path: &Path, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let (config, archive) = open_archive(config_path)?;
    let req = SearchRequest {
        limit: args.limit,
        sort: args.sort.into(),
        ..args.filters.request(&config, args.query)
    };
    let terminal = std::io::stdout().is_terminal();
    let format = args.format.map_or(
        if terminal {
            OutputFormat::Table
        } else {
            OutputFormat::Jsonl
        },
        OutputFormat::from,
    );
    let interval = args.histogram.map(search::Interval::from);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.all {
        let export_format = match format {
            OutputFormat::Csv => search::ExportFormat::Csv,
            OutputFormat::Jsonl => search::ExportFormat::Jsonl,
            OutputFormat::Table | OutputFormat::Json => {
                eprintln!(
                    "mediawatch: --all streams every match: use it with --format csv or jsonl"
                );
                return Ok(ExitCode::from(2));
            }
        };
        if args.facets || interval.is_some() {
            eprintln!("mediawatch: --all cannot be combined with --facets or --histogram");
            return Ok(ExitCode::from(2));
        }
        let provenance = search::export(&archive, &req, export_format, &mut out)?;
        out.flush()?;
        let record = serde_json::to_string_pretty(&provenance)?;
        match &args.stamp {
            Some(path) => std::fs::write(path, format!("{record}\n")).with_context(|| {
                format!("cannot write the provenance record {}", path.display())
            })?,
            None => eprintln!("{record}"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    if (args.facets || interval.is_some())
        && !matches!(format, OutputFormat::Table | OutputFormat::Json)
    {
        eprintln!("mediawatch: --facets and --histogram print with --format table or json");
        return Ok(ExitCode::from(2));
    }
    let results = search::search(&archive, &req)?;
    let facets = if args.facets {
        Some(search::facets(&archive, &req)?)
    } else {
        None
    };
    let histogram = match interval {
        Some(interval) if args.normalize => Some((
            interval,
            Histogram::Shares(search::histogram_normalized(&archive, &req, interval)?),
        )),
        Some(interval) => Some((
            interval,
            Histogram::Counts(search::histogram(&archive, &req, interval)?),
        )),
        None => None,
    };
    if format == OutputFormat::Json && (facets.is_some() || histogram.is_some()) {
        let mut value = serde_json::to_value(&results)?;
        if let Some(obj) = value.as_object_mut() {
            if let Some(f) = &facets {
                obj.insert("facets".into(), serde_json::to_value(f)?);
            }
            match &histogram {
                Some((interval, Histogram::Counts(buckets))) => {
                    obj.insert(
                        "histogram".into(),
                        serde_json::json!({ "interval": interval, "buckets": buckets }),
                    );
                }
                Some((interval, Histogram::Shares(buckets))) => {
                    obj.insert(
                        "histogram".into(),
                        serde_json::json!({
                            "interval": interval,
                            "normalized": true,
                            "buckets": buckets,
                        }),
                    );
                }
                None => {}
            }
        }
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else {
        search::write_results(&mut out, &results, format, terminal)?;
        if let Some(f) = &facets {
            writeln!(out)?;
            search::write_facets_table(&mut out, f)?;
        }
        match &histogram {
            Some((interval, Histogram::Counts(buckets))) => {
                writeln!(out)?;
                search::write_histogram_table(&mut out, buckets, *interval)?;
            }
            Some((interval, Histogram::Shares(buckets))) => {
                writeln!(out)?;
                search::write_share_table(&mut out, buckets, *interval)?;
            }
            None => {}
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// `search --histogram`'s buckets: counts, or with `--normalize` counts, totals and shares.
enum Histogram {
    Counts(Vec<search::Bucket>),
    Shares(Vec<search::ShareBucket>),
}

fn campaigns_test(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = config::load(config_path)?;
    let tagger = crate::tag::Tagger::new(&config.campaigns)?;
    let dir = config_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let examples = crate::codebook::load_examples(dir, &config.campaigns)?;
    if examples.is_empty() {
        eprintln!(
            "mediawatch: no examples under {}",
            dir.join("campaigns").display()
        );
        return Ok(ExitCode::FAILURE);
    }
    let report = crate::codebook::evaluate(&tagger, &config.campaigns, &examples);
    print!("{report}");
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn reindex_cmd(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = config::load(config_path)?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("reindex {bar:40} {pos}/{len} articles ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let n = crate::index::reindex(&config.index_path, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    eprintln!(
        "mediawatch: rebuilt the index at {} from {n} stored articles in {:.1} s",
        config.index_path.join("tantivy").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

fn retag_cmd(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = config::load(config_path)?;
    let tagger = crate::tag::Tagger::new(&config.campaigns)?;
    let archive = Archive::open(&config.index_path)?;
    let bar = indicatif::ProgressBar::new(archive.num_articles());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "retag {bar:40} {pos}/{len} articles ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let report = pipeline::retag_archive(&config, &archive, &tagger, &|done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "mediawatch: retagged {} articles in {:.1} s ({:.0} articles/s), {} changed",
        report.articles,
        secs,
        report.articles as f64 / secs,
        report.changed
    );
    let mut out = std::io::stdout().lock();
    writeln!(out, "{:<36} {:>8} {:>8}", "campaign", "before", "after")?;
    for (id, before, after) in &report.counts {
        writeln!(out, "{id:<36} {before:>8} {after:>8}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn similar_cmd(
    config_path: &Path,
    id_or_url: &str,
    format: StatusFormat,
) -> anyhow::Result<ExitCode> {
    let (_, archive) = open_archive(config_path)?;
    let Some(article) = search::find_article(&archive, id_or_url)? else {
        eprintln!("mediawatch: no archived article with id or URL {id_or_url:?}");
        return Ok(ExitCode::FAILURE);
    };
    let members = search::cluster_members(&archive, &article)?;
    let forwards = search::forward_chain(&archive, &article)?;
    let first = members.first().map(|m| m.dated_at());
    let rows: Vec<serde_json::Value> = members
        .iter()
        .map(|m| {
            let when = m.dated_at();
            serde_json::json!({
                "id": m.id,
                "url": m.url,
                "title": m.title,
                "feed": m.feed,
                "source_name": m.source_name,
                "affiliation": m.affiliation,
                "country": m.country,
                "lang": m.lang.lang,
                "published": rfc3339(m.published),
                "delay_secs": first.map(|f| (when - f).num_seconds()),
                "cluster": m.cluster,
            })
        })
        .collect();
    let mut out = std::io::stdout().lock();
    match format {
        StatusFormat::Json => {
            serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({"cluster": article.cluster, "members": rows, "forwards": forwards}),
            )?;
            writeln!(out)?;
        }
        StatusFormat::Table => {
            write_cluster_table(&mut out, article.cluster.as_deref(), &members, &rows)?;
            output::write_forwards_table(&mut out, &forwards)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn digest_cmd(config_path: &Path, args: DigestArgs) -> anyhow::Result<ExitCode> {
    let (from, to) = match (args.date, args.from, args.to) {
        (_, Some(from), Some(to)) => (from, to),
        (Some(date), _, _) => (date, date),
        _ => {
            let yesterday = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
            (yesterday, yesterday)
        }
    };
    if let Err(e) = digest::check_period(from, to) {
        eprintln!("mediawatch: {e}");
        return Ok(ExitCode::from(2));
    }
    let (config, archive) = open_archive(config_path)?;
    // Feed states for the coverage section; read beside a running `ingest` or `run`.
    let store = crate::store::Store::open_read_only(&config.index_path)?;
    let data = digest::load(&archive, store.as_ref(), from, to)?;
    let d = digest::build_digest(&data, &config);
    let format = DigestFormat::from(args.format);
    match args.out {
        Some(dir) => {
            for path in digest::write_files(&d, &[format], &dir)? {
                eprintln!("mediawatch: wrote {}", path.display());
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(digest::render(&d, format).as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check_cmd(config_path: &Path, repair: bool) -> anyhow::Result<ExitCode> {
    let config = config::load(config_path)?;
    let dir = &config.index_path;
    if repair {
        for done in crate::check::repair(dir)? {
            println!("repaired: {done}");
        }
    }
    let findings = crate::check::check(dir);
    for f in &findings {
        println!("{f}");
    }
    if findings.is_empty() {
        println!(
            "ok: {} (index, schema marker, stored articles, state store)",
            dir.display()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}

fn check_config(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = config::load(config_path)?;
    crate::tag::Tagger::new(&config.campaigns).map_err(|e| ConfigError::Codebook {
        path: config.path.clone(),
        message: e.to_string(),
    })?;
    let state = config
        .feeds
        .iter()
        .filter(|f| f.affiliation == crate::model::Affiliation::State)
        .count();
    let terms: usize = config
        .campaigns
        .iter()
        .map(|c| c.terms.iter().map(|(_, t)| t.len()).sum::<usize>())
        .sum();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}: ok", config.path.display())?;
    writeln!(out, "  index:     {}", config.index_path.display())?;
    let kinds: Vec<String> = ["rss", "sitemap", "html", "telegram"]
        .iter()
        .filter_map(|k| {
            let n = config
                .feeds
                .iter()
                .filter(|f| f.kind.as_str() == *k)
                .count();
            (n > 0).then(|| format!("{n} {k}"))
        })
        .collect();
    writeln!(
        out,
        "  feeds:     {} ({} state-affiliated; {})",
        config.feeds.len(),
        state,
        kinds.join(", ")
    )?;
    writeln!(
        out,
        "  campaigns: {} ({} terms)",
        config.campaigns.len(),
        terms
    )?;
    for c in &config.campaigns {
        let langs: Vec<&str> = c.terms.iter().map(|(l, _)| l.as_str()).collect();
        writeln!(
            out,
            "    {:<32} min_terms={} languages={}",
            c.id,
            c.min_terms,
            langs.join(",")
        )?;
    }
    let r = &config.revisit;
    let covered = config.feeds.iter().filter(|f| r.covers(f)).count();
    let ages: Vec<String> = r.ages.iter().map(|d| config::format_age(*d)).collect();
    let affiliations: Vec<&str> = r.affiliations.iter().map(|a| a.as_str()).collect();
    writeln!(
        out,
        "  revisit:   {covered} feeds (affiliations {}{}), at ages {}, at most {} per pass",
        affiliations.join(","),
        r.feeds
            .as_ref()
            .map_or(String::new(), |ids| format!("; feeds {}", ids.join(","))),
        ages.join(", "),
        r.budget_per_pass
    )?;
    alerts::write_check(&mut out, &config)?;
    Ok(ExitCode::SUCCESS)
}
