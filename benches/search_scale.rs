//! Search at archive scale, side by side with SQLite FTS5 (issue #6), and the digest of one day (issue #7).
//!
//! A synthetic multilingual archive (default 1,000,000 articles, ~45% English, ~30% Chinese, ~25% Russian,
//! Zipf vocabularies, a year of dates, 40 feeds, some campaign tags; see `search_scale/corpus.rs`) is built
//! twice from the same seed: once through mediawatch (`index::ArchiveWriter`, `search::search`), once in
//! SQLite FTS5 (`search_scale/fts5.rs`). Each side runs in its own process, so that its peak memory
//! (VmHWM) is its own; this binary is the driver, runs both and prints the table with the ratios.
//!
//! Measured per side: indexing articles/s (document generation excluded), index size on disk against the
//! raw text (title + text, UTF-8), peak memory, and p50/p99 latency of eight query types, each with many
//! different queries: term, phrase, boolean (a AND (b OR c)), Chinese term, term + language + 30-day
//! window, facets over a broad match, daily histogram over a broad match, newest first. Also the digest of
//! one day (mediawatch only). Both sides must agree on the match counts of the term, phrase, boolean and
//! filtered queries: a mismatch fails the run.
//!
//! Sizes: MW_BENCH_SEARCH_ARTICLES (default 1,000,000), MW_BENCH_SEARCH_QUERIES per type (default 100).
//! MW_BENCH_SEARCH_DIR: where the two indexes go (default: a temporary directory, removed afterwards).
//! MW_CORPUS: the shared corpus (default ../shared/corpus), read in place for vocabularies.
//! Without `--bench` (under `cargo test --all-targets`) a smoke run of 400 articles.
//! MW_BENCH_SEARCH_PARALLEL=1 runs the two sides at the same time (half the wall time on a shared machine).
//! A side alone: `search_scale --side mediawatch|fts5 --n N --dir DIR [--queries Q]` prints one JSON line;
//! `search_scale --report OURS_OUT FTS5_OUT` prints the table from two such outputs; `--side mediawatch
//! --probe` (same --n, --dir) splits the term and boolean latency of an existing index into its stages.

/// The binary's allocator (src/main.rs), so that indexing and searching allocate as `reindex`, `ingest`
/// and `serve` do (the FTS5 side's SQLite allocates with the C library's malloc either way).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "common/synth.rs"]
mod synth;
use synth::env_usize;
#[path = "search_scale/corpus.rs"]
mod corpus;
#[path = "search_scale/fts5.rs"]
mod fts5;
#[path = "search_scale/ours.rs"]
mod ours;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use corpus::{Corpus, Query};

/// Latency of one query type.
#[derive(Debug, Serialize, Deserialize)]
pub struct QueryStats {
    pub name: String,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Match count of each query, in order.
    pub counts: Vec<u64>,
}

/// What one side measured.
#[derive(Debug, Serialize, Deserialize)]
pub struct Outcome {
    pub side: String,
    pub n: usize,
    pub raw_bytes: u64,
    pub index_secs: f64,
    pub gen_secs: f64,
    pub index_bytes: u64,
    pub peak_rss_kb: u64,
    pub notes: String,
    pub digest_ms: Option<f64>,
    pub queries: Vec<QueryStats>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// Runs every query of every type (after two untimed warm-up queries per type), timing each.
pub fn run_queries(
    queries: &[(&'static str, Vec<Query>)],
    mut run: impl FnMut(&Query) -> anyhow::Result<u64>,
) -> anyhow::Result<Vec<QueryStats>> {
    let mut out = Vec::new();
    for (name, qs) in queries {
        for q in qs.iter().rev().take(2) {
            run(q)?;
        }
        let mut lat = Vec::with_capacity(qs.len());
        let mut counts = Vec::with_capacity(qs.len());
        for q in qs {
            let t = Instant::now();
            counts.push(run(q)?);
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        lat.sort_by(f64::total_cmp);
        out.push(QueryStats {
            name: (*name).to_string(),
            p50_ms: percentile(&lat, 0.50),
            p99_ms: percentile(&lat, 0.99),
            max_ms: lat.last().copied().unwrap_or(0.0),
            counts,
        });
    }
    Ok(out)
}

/// Total size of the files under `dir`.
pub fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Peak resident set size of this process (VmHWM), in KiB; 0 where /proc is absent.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load_config() -> anyhow::Result<mediawatch::config::Config> {
    Ok(mediawatch::config::load(
        &manifest_dir().join("feeds.toml"),
    )?)
}

fn corpus_for(config: &mediawatch::config::Config) -> Corpus {
    let dir = std::env::var_os("MW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../shared/corpus"));
    Corpus::new(
        &dir,
        config.campaigns.iter().map(|c| c.id.clone()).collect(),
    )
}

/// One side, in this process: prints `RESULT <json>` on stdout.
fn child(args: &[String]) -> anyhow::Result<()> {
    let side = arg(args, "--side").unwrap_or_default();
    let n: usize = arg(args, "--n").and_then(|v| v.parse().ok()).unwrap_or(400);
    let per_type: usize = arg(args, "--queries")
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let dir = PathBuf::from(arg(args, "--dir").unwrap_or_else(|| "search-bench".into()));
    let config = load_config()?;
    let corpus = corpus_for(&config);
    let queries = corpus::queries(&corpus, n, per_type);
    if args.iter().any(|a| a == "--probe") {
        for line in ours::probe(&dir.join("mediawatch"), &queries)? {
            println!("probe {line}");
        }
        return Ok(());
    }
    let outcome = match side.as_str() {
        "mediawatch" => ours::side(&corpus, &config, n, &dir.join("mediawatch"), &queries)?,
        "fts5" => fts5::side(&corpus, n, &dir.join("fts5"), &queries)?,
        other => anyhow::bail!("--side must be mediawatch or fts5, not {other:?}"),
    };
    println!("RESULT {}", serde_json::to_string(&outcome)?);
    Ok(())
}

fn spawn(side: &str, n: usize, per_type: usize, dir: &Path) -> anyhow::Result<Outcome> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(["--side", side, "--n", &n.to_string()])
        .args(["--queries", &per_type.to_string()])
        .arg("--dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        anyhow::bail!("the {side} side failed ({}): {stdout}", out.status);
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| anyhow::anyhow!("the {side} side printed no RESULT line: {stdout}"))?;
    Ok(serde_json::from_str(line)?)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn status(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

/// Query types whose match counts must be equal on both sides (same words, same tokenization).
const STRICT: &[&str] = &["term", "phrase", "boolean", "filtered"];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--side") {
        return child(&args);
    }
    if let (Some(a), Some(b)) = (arg(&args, "--report"), args.last()) {
        // `--report OURS FTS5`: the table from the RESULT lines of two `--side` runs made by hand.
        let read = |path: &str| -> anyhow::Result<Outcome> {
            let text = std::fs::read_to_string(path)?;
            let line = text
                .lines()
                .find_map(|l| l.strip_prefix("RESULT "))
                .ok_or_else(|| anyhow::anyhow!("no RESULT line in {path}"))?;
            Ok(serde_json::from_str(line)?)
        };
        let (ours, fts) = (read(&a)?, read(b)?);
        summary(&ours);
        summary(&fts);
        println!(
            "raw text {:.1} MB; {}; {}",
            ours.raw_bytes as f64 / 1e6,
            ours.notes,
            fts.notes
        );
        print_table(&ours, &fts);
        return check_counts(&ours, &fts);
    }
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it: a smoke run.
    let bench_mode = args.iter().any(|a| a == "--bench");
    let (n_default, q_default) = if bench_mode {
        (1_000_000, 100)
    } else {
        (400, 8)
    };
    let n = env_usize("MW_BENCH_SEARCH_ARTICLES", n_default).max(10);
    let per_type = env_usize("MW_BENCH_SEARCH_QUERIES", q_default).max(1);
    let temp;
    let dir = match std::env::var_os("MW_BENCH_SEARCH_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            temp = tempfile::Builder::new()
                .prefix("mw-search-bench")
                .tempdir()?;
            temp.path().to_path_buf()
        }
    };
    if !bench_mode {
        println!("search_scale: smoke run (no --bench)");
    }
    let config = load_config()?;
    let corpus = corpus_for(&config);
    let load_before = loadavg();
    println!(
        "search_scale: {n} articles, {per_type} queries per type; vocabularies: {}; {} cores, load {load_before}",
        corpus.source,
        std::thread::available_parallelism().map_or(0, |p| p.get()),
    );
    for line in ours::profile(&corpus, if bench_mode { 2_000 } else { 50 }) {
        println!("  profile {line}");
    }
    let started = Instant::now();
    let parallel = env_usize("MW_BENCH_SEARCH_PARALLEL", 0) == 1;
    let (ours, fts) = if parallel {
        // Both sides at once: half the wall time on a shared machine, at the price of each side's
        // timings including the other's load.
        std::thread::scope(|s| {
            let a = s.spawn(|| spawn("mediawatch", n, per_type, &dir));
            let b = s.spawn(|| spawn("fts5", n, per_type, &dir));
            let join = |h: std::thread::ScopedJoinHandle<'_, anyhow::Result<Outcome>>| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a side's thread panicked")))
            };
            (join(a), join(b))
        })
    } else {
        let ours = spawn("mediawatch", n, per_type, &dir);
        if let Ok(o) = &ours {
            summary(o);
        }
        (ours, spawn("fts5", n, per_type, &dir))
    };
    let (ours, fts) = (ours?, fts?);
    if parallel {
        summary(&ours);
    }
    summary(&fts);
    println!(
        "raw text {:.1} MB ({:.0} bytes/article); {}; {}; wall {:.0} s; load {load_before} -> {}",
        ours.raw_bytes as f64 / 1e6,
        ours.raw_bytes as f64 / n as f64,
        ours.notes,
        fts.notes,
        started.elapsed().as_secs_f64(),
        loadavg()
    );
    if ours.raw_bytes != fts.raw_bytes {
        anyhow::bail!(
            "the sides indexed different documents ({} vs {} raw bytes)",
            ours.raw_bytes,
            fts.raw_bytes
        );
    }
    print_table(&ours, &fts);
    check_counts(&ours, &fts)
}

/// One side's figures, printed as soon as it is done (a long run keeps them if the other side fails).
fn summary(o: &Outcome) {
    let latencies: Vec<String> = o
        .queries
        .iter()
        .map(|q| format!("{} {:.1}/{:.1}", q.name, q.p50_ms, q.p99_ms))
        .collect();
    println!(
        "{}: {} articles indexed in {:.1} s ({:.0}/s), {:.1} MB on disk, peak RSS {:.0} MB; p50/p99 ms: {}",
        o.side,
        o.n,
        o.index_secs,
        o.n as f64 / o.index_secs.max(1e-9),
        o.index_bytes as f64 / 1e6,
        o.peak_rss_kb as f64 / 1024.0,
        latencies.join(", ")
    );
}

fn print_table(ours: &Outcome, fts: &Outcome) {
    let rate = |o: &Outcome| o.n as f64 / o.index_secs.max(1e-9);
    let mb = |b: u64| b as f64 / 1e6;
    println!(
        "{:<26} {:>12} {:>12} {:>10}  {:<22} status",
        "metric", "mediawatch", "fts5", "fts5/ours", "target"
    );
    let row = |name: &str, a: f64, b: f64, ratio: f64, target: &str, st: &str| {
        println!("{name:<26} {a:>12.1} {b:>12.1} {ratio:>10.2}  {target:<22} {st}");
    };
    let (ra, rb) = (rate(ours), rate(fts));
    row(
        "index articles/s",
        ra,
        rb,
        rb / ra.max(1e-9),
        ">= 5000/s",
        status(ra >= 5000.0),
    );
    row(
        "index seconds",
        ours.index_secs,
        fts.index_secs,
        fts.index_secs / ours.index_secs.max(1e-9),
        "",
        "",
    );
    let raw = ours.raw_bytes.max(1) as f64;
    row(
        "index MB",
        mb(ours.index_bytes),
        mb(fts.index_bytes),
        fts.index_bytes as f64 / ours.index_bytes.max(1) as f64,
        "",
        "",
    );
    let (xa, xb) = (ours.index_bytes as f64 / raw, fts.index_bytes as f64 / raw);
    row(
        "index size / raw text",
        xa,
        xb,
        xb / xa.max(1e-9),
        "<= 1.5x",
        status(xa <= 1.5),
    );
    row(
        "peak RSS MB (VmHWM)",
        ours.peak_rss_kb as f64 / 1024.0,
        fts.peak_rss_kb as f64 / 1024.0,
        fts.peak_rss_kb as f64 / ours.peak_rss_kb.max(1) as f64,
        "",
        "",
    );
    for (a, b) in ours.queries.iter().zip(&fts.queries) {
        let ratio50 = b.p50_ms / a.p50_ms.max(1e-9);
        let needs_5x = ["term", "phrase", "boolean"].contains(&a.name.as_str());
        row(
            &format!("{} p50 ms", a.name),
            a.p50_ms,
            b.p50_ms,
            ratio50,
            if needs_5x { "fts5/ours >= 5" } else { "" },
            if needs_5x { status(ratio50 >= 5.0) } else { "" },
        );
        row(
            &format!("{} p99 ms", a.name),
            a.p99_ms,
            b.p99_ms,
            b.p99_ms / a.p99_ms.max(1e-9),
            "< 50 ms",
            status(a.p99_ms < 50.0),
        );
    }
    if let Some(d) = ours.digest_ms {
        println!(
            "{:<26} {d:>12.1} {:>12} {:>10}  {:<22} {}",
            "digest one day ms",
            "-",
            "-",
            "< 2000 ms",
            status(d < 2000.0)
        );
    }
    println!(
        "(document generation excluded from indexing: mediawatch {:.1} s, fts5 {:.1} s)",
        ours.gen_secs, fts.gen_secs
    );
}

/// mediawatch stems by each article's language (FTS5's unicode61 does not), so a bare word also finds
/// its inflected forms: every query must find at least what FTS5 finds (a miss is a failure), and the
/// queries where it finds more are counted and printed.
fn check_counts(ours: &Outcome, fts: &Outcome) -> anyhow::Result<()> {
    let mut failures = Vec::new();
    for (a, b) in ours.queries.iter().zip(&fts.queries) {
        let fewer = a
            .counts
            .iter()
            .zip(&b.counts)
            .filter(|(x, y)| x < y)
            .count();
        let more = a
            .counts
            .iter()
            .zip(&b.counts)
            .filter(|(x, y)| x > y)
            .count();
        let matches: u64 = a.counts.iter().sum();
        println!(
            "counts {:<10} queries={:<4} matches(mediawatch)={:<10} matches(fts5)={:<10} fewer={fewer} more(stemming)={more}",
            a.name,
            a.counts.len(),
            matches,
            b.counts.iter().sum::<u64>()
        );
        if STRICT.contains(&a.name.as_str()) {
            if fewer > 0 || a.counts.len() != b.counts.len() {
                failures.push(format!("{}: {fewer} queries find fewer than FTS5", a.name));
            }
            if matches == 0 {
                failures.push(format!("{}: no query matched anything", a.name));
            }
        }
    }
    if failures.is_empty() {
        println!("counts check: PASS (term, phrase, boolean, filtered find every FTS5 match, query by query)");
        Ok(())
    } else {
        anyhow::bail!("counts check FAILED: {}", failures.join("; "))
    }
}
