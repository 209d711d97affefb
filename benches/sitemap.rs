//! Sitemap parsing benchmark: a 50,000-URL Google News sitemap, plain and gzipped (issue #23).
//!
//! `cargo bench --bench sitemap` (or `make bench`). The sitemap is generated in memory: every `<url>` has a
//! `loc`, a `lastmod` and a `news:news` block (publication, language, publication date, a title mixing
//! Chinese, Russian and English; keywords on one URL in three). Each variant (`plain`, `gzip`) is parsed
//! `MW_BENCH_SITEMAP_RUNS` times (default 15) with `mediawatch::source::sitemap::parse`; the median and
//! minimum wall time and the throughput over the uncompressed XML are printed.
//!
//! Peak memory is measured in a child process per variant (this binary re-run with `--child VARIANT`), so
//! that generating the document and the other variant's runs do not count: the child builds its input,
//! resets its peak RSS (`5` to `/proc/self/clear_refs`), reads VmHWM (the baseline: the input held in
//! memory), parses once and reads VmHWM again. Both are printed, with the difference (what parsing
//! costs at its peak) and the RSS still held by the listing afterwards.
//!
//! Targets: a median under 1 s per variant (the reader must take a full sitemap well within a pass), and
//! parsing at most 100 MB above the input at its peak. A MISS does not fail the process (benchmarks
//! report, they do not gate); a wrong entry count does.
//!
//! Run without `--bench` (as `cargo test --all-targets` does), it is a quick smoke run on 1,000 URLs.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context as _};
use mediawatch::source::{sitemap, Listing};
use url::Url;

/// URLs in the benchmark's sitemap (the protocol's cap).
const BENCH_URLS: usize = 50_000;
/// URLs in the smoke run (without `--bench`).
const SMOKE_URLS: usize = 1_000;
/// Default parses per variant (overridden by `MW_BENCH_SITEMAP_RUNS`).
const DEFAULT_RUNS: usize = 15;
/// Target: median parse time per variant, in ms.
const TARGET_MEDIAN_MS: f64 = 1_000.0;
/// Target: peak memory of parsing above the input held, in MB.
const TARGET_PEAK_DELTA_MB: f64 = 100.0;

/// Words titles are drawn from, so that no two titles are alike and gzip compresses as on a real site.
const WORDS: [&str; 48] = [
    "外交部",
    "台湾",
    "美方",
    "停止",
    "玩火",
    "国防部",
    "海峡",
    "回应",
    "黑客",
    "帝国",
    "网络",
    "安全",
    "专家",
    "倒打一耙",
    "声明",
    "坚决反对",
    "Захарова",
    "Запад",
    "террор",
    "России",
    "Китая",
    "МИД",
    "биолаборатории",
    "Украине",
    "угрожают",
    "безопасности",
    "Песков",
    "переговоры",
    "Пекина",
    "санкции",
    "US",
    "warned",
    "over",
    "Taiwan",
    "arms",
    "sales",
    "Strait",
    "transit",
    "Washington",
    "biggest",
    "hacker",
    "empire",
    "China",
    "rejects",
    "G7",
    "statement",
    "South",
    "Sea",
];

/// The next value of a small linear congruential generator (deterministic input, no dependency).
fn next(state: &mut u64) -> usize {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*state >> 33) as usize
}

/// A Google News sitemap of `n` URLs (UTF-8).
fn generate(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 420 + 512);
    out.extend_from_slice(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
          <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
          xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\n",
    );
    let mut state = 0x5eed_u64;
    for i in 0..n {
        let (hour, minute, second) = (
            (i / 3600) % 24,
            next(&mut state) % 60,
            next(&mut state) % 60,
        );
        let day = 1 + (i / 2000) % 28;
        let section = ["world", "china", "politics", "society"][next(&mut state) % 4];
        let (site, lang) = match i % 3 {
            0 => ("新华社", "zh"),
            1 => ("РИА Новости", "ru"),
            _ => ("Global Times", "en"),
        };
        let stamp = format!("2026-11-{day:02}T{hour:02}:{minute:02}:{second:02}+08:00");
        let id = next(&mut state) % 100_000_000;
        let _ = write!(
            out,
            "<url><loc>https://news.example.com/{section}/2026-11-{day:02}/doc-{id:08}.html</loc>\
             <lastmod>{stamp}</lastmod><news:news><news:publication><news:name>{site}</news:name>\
             <news:language>{lang}</news:language></news:publication>\
             <news:publication_date>{stamp}</news:publication_date><news:title>",
        );
        for w in 0..5 + next(&mut state) % 4 {
            if w > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(WORDS[next(&mut state) % WORDS.len()].as_bytes());
        }
        out.extend_from_slice(b"</news:title>");
        if i % 3 == 0 {
            let _ = write!(
                out,
                "<news:keywords>{}, {}, {}</news:keywords>",
                WORDS[next(&mut state) % WORDS.len()],
                WORDS[next(&mut state) % WORDS.len()],
                WORDS[next(&mut state) % WORDS.len()],
            );
        }
        out.extend_from_slice(b"</news:news></url>\n");
    }
    out.extend_from_slice(b"</urlset>\n");
    out
}

fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::default(),
    );
    enc.write_all(bytes)?;
    Ok(enc.finish()?)
}

/// The input of a variant: the plain XML, or its gzip (the plain XML is then dropped).
fn input(variant: &str, urls: usize) -> anyhow::Result<Vec<u8>> {
    let plain = generate(urls);
    match variant {
        "plain" => Ok(plain),
        "gzip" => gzip(&plain),
        other => bail!("variant must be plain or gzip, not {other:?}"),
    }
}

fn base() -> anyhow::Result<Url> {
    Ok(Url::parse("https://news.example.com/sitemap-news.xml")?)
}

/// Parses once and checks the count (a wrong count is a broken reader, not a slow one).
fn parse_checked(bytes: &[u8], base: &Url, urls: usize) -> anyhow::Result<Listing> {
    let listing = sitemap::parse("bench", bytes, base).map_err(|e| anyhow::anyhow!("{e}"))?;
    let with_news = listing
        .entries
        .iter()
        .filter(|e| e.title.is_some() && e.published.is_some() && e.language.is_some())
        .count();
    if listing.entries.len() != urls || with_news != urls || listing.skipped_without_link != 0 {
        bail!(
            "parsed {} entries ({with_news} with their news fields, {} without link), expected {urls}",
            listing.entries.len(),
            listing.skipped_without_link
        );
    }
    Ok(listing)
}

/// A /proc/self/status value in KiB (VmHWM: peak RSS, VmRSS: current); `None` without /proc.
fn proc_status_kb(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Child: build the input, reset the peak, parse once, print one `CHILD` line of KiB figures.
fn child(variant: &str, urls: usize) -> anyhow::Result<()> {
    let bytes = input(variant, urls)?;
    let base = base()?;
    // Resetting the peak RSS makes the baseline the input alone, not the generation's transient peak.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let baseline_hwm = proc_status_kb("VmHWM:").unwrap_or(0);
    let baseline_rss = proc_status_kb("VmRSS:").unwrap_or(0);
    let listing = parse_checked(&bytes, &base, urls)?;
    let peak_hwm = proc_status_kb("VmHWM:").unwrap_or(0);
    let after_rss = proc_status_kb("VmRSS:").unwrap_or(0);
    println!(
        "CHILD baseline_hwm_kb={baseline_hwm} peak_hwm_kb={peak_hwm} baseline_rss_kb={baseline_rss} \
         after_rss_kb={after_rss} hwm_reset={reset} entries={}",
        listing.entries.len()
    );
    Ok(())
}

/// What a child measured, in KiB.
struct Memory {
    baseline_hwm: u64,
    peak_hwm: u64,
    baseline_rss: u64,
    after_rss: u64,
    reset: bool,
}

fn spawn_child(variant: &str, urls: usize) -> anyhow::Result<Memory> {
    let out = Command::new(std::env::current_exe()?)
        .args(["--child", variant, "--urls", &urls.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("running the memory child")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("CHILD "))
        .with_context(|| format!("child {variant} printed no CHILD line ({})", out.status))?;
    let field = |name: &str| -> Option<&str> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    };
    let kb = |name: &str| field(name).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Ok(Memory {
        baseline_hwm: kb("baseline_hwm_kb"),
        peak_hwm: kb("peak_hwm_kb"),
        baseline_rss: kb("baseline_rss_kb"),
        after_rss: kb("after_rss_kb"),
        reset: field("hwm_reset") == Some("true"),
    })
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Median and minimum of `runs` parses, in seconds.
fn time_parses(bytes: &[u8], base: &Url, urls: usize, runs: usize) -> anyhow::Result<(f64, f64)> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let listing = parse_checked(bytes, base, urls)?;
        times.push(start.elapsed().as_secs_f64());
        drop(listing);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[0]))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    if let Some(variant) = arg("--child") {
        let urls = arg("--urls")
            .and_then(|v| v.parse().ok())
            .unwrap_or(BENCH_URLS);
        return child(variant, urls);
    }
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it: smoke run.
    let bench_mode = args.iter().any(|a| a == "--bench");
    let urls = if bench_mode { BENCH_URLS } else { SMOKE_URLS };
    let runs = match std::env::var("MW_BENCH_SITEMAP_RUNS") {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1_000).contains(n))
            .with_context(|| {
                format!("MW_BENCH_SITEMAP_RUNS={v:?} is not a number between 1 and 1000")
            })?,
        Err(_) if bench_mode => DEFAULT_RUNS,
        Err(_) => 2,
    };
    let plain = generate(urls);
    let gz = gzip(&plain)?;
    let base = base()?;
    let xml_mb = plain.len() as f64 / 1e6;
    println!(
        "sitemap: {}, {urls} URLs of a Google News sitemap, {:.1} MB XML ({} bytes per <url>), \
         {:.1} MB gzipped; {runs} parses per variant",
        if bench_mode {
            "benchmark"
        } else {
            "smoke run (no --bench)"
        },
        xml_mb,
        plain.len() / urls,
        gz.len() as f64 / 1e6,
    );
    println!(
        "{:<8} {:>9} {:>10} {:>9} {:>8} {:>13} {:>12} {:>12} {:>12}",
        "variant",
        "input_mb",
        "median_ms",
        "min_ms",
        "mb_per_s",
        "base_hwm_mb",
        "peak_hwm_mb",
        "parse_peak",
        "held_after"
    );
    let mut verdicts = Vec::new();
    for (variant, bytes) in [("plain", &plain), ("gzip", &gz)] {
        let (median, min) = time_parses(bytes, &base, urls, runs)?;
        let memory = spawn_child(variant, urls)?;
        let peak_delta = mb(memory.peak_hwm.saturating_sub(memory.baseline_hwm));
        println!(
            "{variant:<8} {:>9.1} {:>10.1} {:>9.1} {:>8.0} {:>13.1} {:>12.1} {:>12.1} {:>12.1}",
            bytes.len() as f64 / 1e6,
            median * 1e3,
            min * 1e3,
            xml_mb / median.max(1e-9),
            mb(memory.baseline_hwm),
            mb(memory.peak_hwm),
            peak_delta,
            mb(memory.after_rss.saturating_sub(memory.baseline_rss)),
        );
        if !memory.reset {
            println!(
                "sitemap note: {variant}: peak RSS could not be reset (/proc/self/clear_refs); \
                 the baseline includes generating the input"
            );
        }
        verdicts.push((variant, median * 1e3, peak_delta));
    }
    println!(
        "(mb_per_s over the uncompressed XML; base_hwm: the child's peak RSS with its input in memory; \
         parse_peak: peak above it while parsing; held_after: RSS the listing still holds, MB)"
    );
    if bench_mode {
        let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
        for (variant, median_ms, peak_delta) in verdicts {
            println!(
                "sitemap {} variant={variant} median_ms={median_ms:.1} target_ms<{TARGET_MEDIAN_MS:.0}",
                verdict(median_ms < TARGET_MEDIAN_MS)
            );
            println!(
                "sitemap {} variant={variant} parse_peak_mb={peak_delta:.1} target_mb<{TARGET_PEAK_DELTA_MB:.0}",
                verdict(peak_delta < TARGET_PEAK_DELTA_MB)
            );
        }
    } else {
        println!("sitemap smoke run: targets not checked (run `cargo bench --bench sitemap`)");
    }
    Ok(())
}
