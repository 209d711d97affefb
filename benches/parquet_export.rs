//! `export-parquet` at archive scale (issue #29): the synthetic archive of the search benchmark
//! (`search_scale/corpus.rs`: multilingual, Zipf vocabularies, a year of dates, 40 feeds, campaign tags;
//! default 1,000,000 articles) is indexed once, then exported twice by the release binary, half of it
//! (`--until` at half the year) and all of it, each into a fresh folder, to show whether memory grows
//! with the number of articles (the writer's buffers are bounded: memory climbs while they fill, up to
//! a few hundred thousand articles, then stays; below that, a smaller export uses less). Per export: articles/s (wall), peak memory of the process (VmHWM,
//! which counts the index pages it mapped and read, and the peak of RssAnon, its heap: what the
//! exporter's buffers hold), the bytes written against the raw text (title + text, UTF-8), files and row
//! groups. Then DuckDB's time for the articles per campaign per day over the whole export
//! (`scripts/parquet_duckdb.py`, median of 3, Python start included), when `MW_PYTHON` (default python3)
//! has duckdb. Targets: memory flat (the full export's RssAnon peak within 1.25x the half's) and the
//! heap (RssAnon) under 500 MB; VmHWM, which also counts the index pages mapped, is printed beside.
//!
//! MW_BENCH_PARQUET_ARTICLES (default 1,000,000), MW_BENCH_PARQUET_DIR (default: a temporary folder; an
//! index already there with that many articles is reused), MW_CORPUS (default ../shared/corpus).
//! Without `--bench` (under `cargo test --all-targets`) a smoke run of 300 articles.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool: a panic is the report

#[allow(dead_code)] // the search benchmark's generator; its query sets are not used here
#[path = "search_scale/corpus.rs"]
mod corpus;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use mediawatch::index::Archive;
use mediawatch::model::{Article, TermHit};

use corpus::{Corpus, Doc, DAYS, START_SECS};

const CAMPAIGNS: [&str; 5] = ["taiwan", "hk", "ukraine", "nato", "sanctions"];

/// The search benchmark's article, with each campaign's matched term and a cluster (exported columns).
fn article(corpus: &Corpus, doc: Doc) -> Article {
    let mut a = corpus::article(corpus, doc);
    for c in &mut a.campaigns {
        c.terms = vec![TermHit {
            term: c.id.clone(),
            lang: a.lang.lang.clone(),
            count: 1,
            positions: vec![],
        }];
    }
    a.cluster = Some(a.id.clone());
    a
}

/// Indexes articles `0..n` into `dir/index` (unless it holds them already); returns the raw text bytes.
fn build(corpus: &Corpus, n: usize, dir: &Path) -> u64 {
    let index = dir.join("index");
    let raw_file = dir.join("raw_text_bytes");
    let archive = Archive::open_or_create(&index).unwrap();
    if archive.num_articles() == n as u64 {
        if let Some(raw) = std::fs::read_to_string(&raw_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
        {
            eprintln!("reusing the archive of {n} articles at {}", index.display());
            return raw;
        }
    }
    assert_eq!(
        archive.num_articles(),
        0,
        "{} holds another archive",
        index.display()
    );
    let started = Instant::now();
    let mut w = archive.writer().unwrap();
    let mut raw = 0u64;
    for i in 0..n {
        let a = article(corpus, corpus.doc(i));
        raw += (a.title.len() + a.text.len()) as u64;
        w.upsert(&a).unwrap();
        if (i + 1) % 100_000 == 0 {
            w.commit().unwrap();
            eprintln!(
                "  indexed {} articles, {:.0} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    w.commit().unwrap();
    drop(w);
    std::fs::write(&raw_file, raw.to_string()).unwrap();
    eprintln!(
        "indexed {n} articles in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    raw
}

/// A value of /proc/PID/status in MB.
fn status_mb(pid: u32, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

struct Run {
    articles: u64,
    rows: u64,
    seconds: f64,
    hwm_mb: f64,
    anon_mb: f64,
    bytes: u64,
    files: usize,
    row_groups: usize,
}

/// Runs `export-parquet OUT ARGS` with the release binary, sampling its memory every 50 ms.
fn export(config: &Path, out: &Path, args: &[&str]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mediawatch"))
        .arg("--config")
        .arg(config)
        .arg("export-parquet")
        .arg(out)
        .args(args)
        .spawn()
        .unwrap();
    let pid = child.id();
    let (mut hwm, mut anon) = (0f64, 0f64);
    let status = loop {
        if let Some(h) = status_mb(pid, "VmHWM:") {
            hwm = hwm.max(h);
        }
        if let Some(a) = status_mb(pid, "RssAnon:") {
            anon = anon.max(a);
        }
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let seconds = started.elapsed().as_secs_f64();
    assert!(status.success(), "export-parquet failed");
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let run = &m["runs"][0];
    let files = run["files"].as_array().unwrap();
    let mut row_groups = 0;
    for f in files {
        let file = std::fs::File::open(out.join(f["path"].as_str().unwrap())).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
        row_groups += parquet::file::reader::FileReader::metadata(&reader).num_row_groups();
    }
    Run {
        articles: run["matches"].as_u64().unwrap(),
        rows: run["rows"].as_u64().unwrap(),
        seconds,
        hwm_mb: hwm,
        anon_mb: anon,
        bytes: files.iter().map(|f| f["bytes"].as_u64().unwrap()).sum(),
        files: files.len(),
        row_groups,
    }
}

/// Median wall time of `scripts/parquet_duckdb.py OUT` over three runs, and its line count; None when
/// the Python has no duckdb.
fn duckdb(out: &Path) -> Option<(f64, usize)> {
    let python = std::env::var("MW_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = Command::new(&python)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has {
        eprintln!("DuckDB: skipped ({python} has no duckdb: pip install duckdb, or set MW_PYTHON)");
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/parquet_duckdb.py");
    let mut times = Vec::new();
    let mut lines = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let o = Command::new(&python)
            .arg(&script)
            .arg(out)
            .output()
            .unwrap();
        times.push(t.elapsed().as_secs_f64());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        lines = o.stdout.iter().filter(|b| **b == b'\n').count() - 1;
    }
    times.sort_by(f64::total_cmp);
    Some((times[1], lines))
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::var("MW_BENCH_PARQUET_ARTICLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if bench_mode { 1_000_000 } else { 300 });
    let tmp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("MW_BENCH_PARQUET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir).unwrap();
    let corpus_dir = std::env::var_os("MW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let corpus = Corpus::new(
        &corpus_dir,
        CAMPAIGNS.iter().map(|c| c.to_string()).collect(),
    );
    let raw = build(&corpus, n, &dir);
    let config = dir.join("feeds.toml");
    let mut toml = format!(
        "[index]\npath = {:?}\n",
        dir.join("index").to_string_lossy()
    );
    for c in CAMPAIGNS {
        toml.push_str(&format!(
            "[[campaigns]]\nid = \"{c}\"\nname = \"{c}\"\n[campaigns.terms]\nen = [\"{c}\"]\n"
        ));
    }
    std::fs::write(&config, toml).unwrap();

    let half_day = Utc
        .timestamp_opt(START_SECS + DAYS / 2 * 86_400, 0)
        .single()
        .unwrap()
        .date_naive()
        .to_string();
    let mut runs = Vec::new();
    for (label, args) in [
        ("half (--until)", vec!["--until", half_day.as_str()]),
        ("all", vec![]),
    ] {
        let out = dir.join(format!("export-{}", runs.len()));
        let _ = std::fs::remove_dir_all(&out);
        let run = export(&config, &out, &args);
        println!(
            "export-parquet, {label}: {} articles ({} rows) in {:.1} s = {:.0} articles/s; peak VmHWM {:.0} MB, RssAnon {:.0} MB; {} files, {} row groups, {:.1} MB",
            run.articles,
            run.rows,
            run.seconds,
            run.articles as f64 / run.seconds,
            run.hwm_mb,
            run.anon_mb,
            run.files,
            run.row_groups,
            run.bytes as f64 / 1e6
        );
        runs.push((out, run));
    }
    let (full_dir, full) = &runs[1];
    let half = &runs[0].1;
    println!(
        "raw text (title + text) {:.1} MB; Parquet {:.1} MB = {:.2}x the raw text",
        raw as f64 / 1e6,
        full.bytes as f64 / 1e6,
        full.bytes as f64 / raw.max(1) as f64
    );
    let flat = full.anon_mb <= half.anon_mb * 1.25 + 16.0;
    println!(
        "memory: RssAnon peak {:.0} MB at {} articles, {:.0} MB at {}: {}; under 500 MB: {}; VmHWM (with the index pages mapped) {:.0} MB",
        half.anon_mb,
        half.articles,
        full.anon_mb,
        full.articles,
        if flat { "flat: PASS" } else { "grows: MISS" },
        if full.anon_mb < 500.0 { "PASS" } else { "MISS" },
        full.hwm_mb
    );
    if let Some((secs, lines)) = duckdb(full_dir) {
        println!(
            "DuckDB (scripts/parquet_duckdb.py): articles per campaign per day over {} articles: {lines} (day, campaign) rows in {secs:.2} s (median of 3, Python start included)",
            full.articles
        );
    }
}
