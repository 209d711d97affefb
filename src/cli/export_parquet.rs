//! `mediawatch export-parquet DIR`: the archive, or the slice a query and the search filters select, as
//! Hive-partitioned Parquet files with a manifest ([`crate::export_parquet`]). Reads the index and the
//! store read-only, beside a running writer.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::export_parquet::{self, ExportRequest, Progress};
use crate::store::Store;

use super::{open_archive, FilterArgs};

/// `export-parquet` arguments.
#[derive(Debug, Args)]
pub struct ExportParquetArgs {
    /// The export folder: `month=YYYY-MM/part-*.parquet` and `manifest.json` (created when missing; a
    /// second run adds files and a run to the manifest).
    pub dir: PathBuf,
    /// Only articles matching this query (the search syntax); default: every article.
    #[arg(long, default_value = "")]
    pub query: String,
    /// The search filters, as `search` takes them.
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// A progress bar on a terminal (indicatif draws nothing otherwise).
struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn total(&mut self, articles: u64) {
        self.0.set_length(articles);
    }

    fn article(&mut self) {
        self.0.inc(1);
    }
}

pub(super) fn export_parquet_cmd(
    config_path: &Path,
    args: ExportParquetArgs,
) -> anyhow::Result<ExitCode> {
    let (config, archive) = open_archive(config_path)?;
    let store = Store::open_read_only(&config.index_path)?;
    let typology: BTreeMap<String, String> = config
        .feeds
        .iter()
        .filter_map(|f| Some((f.id.clone(), f.typology.clone()?)))
        .collect();
    let req = args.filters.request(&config, args.query);
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(0)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "export-parquet {bar:40} {pos}/{len} articles ({per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let record = export_parquet::export(
        &archive,
        store.as_ref(),
        &ExportRequest {
            dir: &args.dir,
            search: &req,
            typology: &typology,
        },
        &mut Bar(bar.clone()),
    )?;
    bar.finish_and_clear();
    let bytes: u64 = record.files.iter().map(|f| f.bytes).sum();
    eprintln!(
        "mediawatch: run {} wrote {} articles ({} rows with earlier versions) in {} files, {:.1} MB, to {} in {:.1} s; manifest: {}",
        record.run,
        record.matches,
        record.rows,
        record.files.len(),
        bytes as f64 / 1e6,
        args.dir.display(),
        started.elapsed().as_secs_f64(),
        args.dir.join(export_parquet::MANIFEST).display()
    );
    Ok(ExitCode::SUCCESS)
}
