//! Mutation fuzzer for every parser that reads network or user input (`make fuzz`). No coverage
//! guidance: cargo-fuzz needs nightly and libFuzzer, so this mutates seeds from `../shared/corpus` (read in
//! place), the repository's fixtures and `feeds.toml`, and runs each input under `catch_unwind` with a
//! clock. A panic, or an input over 1 s, is a finding: saved under `target/fuzz-findings/` and printed.
//!
//! ```text
//! MW_FUZZ_SECONDS=60 MW_FUZZ_SEED=1 cargo run --release --example fuzz -- [CORPUS_DIR] [TARGET...]
//! ```
//!
//! Per target it prints the inputs run, the seconds, the slowest input and the findings; it exits 1 when
//! anything was found. Keep each finding as a regression input under `tests/fixtures/fuzz/<target>/`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test tool: a panic of the harness is the report

mod targets;

use std::io::Read;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use targets::{Context, TARGETS};

/// An input slower than this is a finding.
const SLOW: Duration = Duration::from_secs(1);
/// Seeds larger than this are skipped (the corpora's big pages only slow the loop down).
const MAX_SEED: usize = 256 * 1024;
/// Mutated inputs are cut to this size.
const MAX_INPUT: usize = 1024 * 1024;
/// Seeds read per corpus directory at most.
const MAX_SEEDS_PER_DIR: usize = 200;

/// The last panic's message and place, set by the hook (the default hook would print every one).
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus_arg = args
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/corpus"));
    let corpus = corpus_arg;
    let chosen: Vec<&str> = if args.len() > 1 {
        args[1..].iter().map(String::as_str).collect()
    } else {
        TARGETS.to_vec()
    };
    let replaying = args.first().map(String::as_str) == Some("--replay");
    for t in chosen.iter().filter(|_| !replaying) {
        if !TARGETS.contains(t) {
            eprintln!(
                "unknown target {t:?}; the targets are {}",
                TARGETS.join(", ")
            );
            std::process::exit(2);
        }
    }
    let seconds: f64 = env_or("MW_FUZZ_SECONDS", 10.0);
    let seed: u64 = env_or("MW_FUZZ_SEED", 1);
    let findings_dir = repo.join("target/fuzz-findings");

    panic::set_hook(Box::new(|info| {
        let msg = match info.payload().downcast_ref::<&str>() {
            Some(s) => (*s).to_string(),
            None => info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "(non-string panic)".into()),
        };
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{msg} at {at}"));
    }));

    let ctx = Context::new(&repo);
    if replaying && args.len() > 2 {
        replay(&ctx, &args[1], &args[2..]);
        return;
    }
    println!(
        "fuzz: corpus {}, {seconds} s per target, seed {seed}",
        corpus.display()
    );
    println!(
        "{:<9} {:>8} {:>7} {:>10} {:>6} {:>9}",
        "target", "inputs", "seconds", "slowest", "seeds", "findings"
    );
    let mut total_findings = 0;
    for (i, target) in chosen.iter().enumerate() {
        let seeds = seeds_for(target, &repo, &corpus);
        let mut rng = Rng::new(seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let report = fuzz_one(&ctx, target, &seeds, &mut rng, seconds, &findings_dir);
        println!(
            "{:<9} {:>8} {:>7.1} {:>8.1}ms {:>6} {:>9}",
            target,
            report.inputs,
            report.elapsed.as_secs_f64(),
            report.slowest.as_secs_f64() * 1000.0,
            seeds.len(),
            report.findings
        );
        total_findings += report.findings;
    }
    if total_findings > 0 {
        println!(
            "{total_findings} finding(s) saved under {}: fix them and keep each input under tests/fixtures/fuzz/<target>/",
            findings_dir.display()
        );
        std::process::exit(1);
    }
}

/// One target's figures.
struct Report {
    inputs: u64,
    elapsed: Duration,
    slowest: Duration,
    findings: usize,
}

fn fuzz_one(
    ctx: &Context,
    target: &str,
    seeds: &[Vec<u8>],
    rng: &mut Rng,
    seconds: f64,
    findings_dir: &Path,
) -> Report {
    let start = Instant::now();
    let budget = Duration::from_secs_f64(seconds);
    let mut report = Report {
        inputs: 0,
        elapsed: Duration::ZERO,
        slowest: Duration::ZERO,
        findings: 0,
    };
    let mut seen = std::collections::HashSet::new();
    // The seeds themselves first, then mutants until the budget is spent.
    let mut next_seed = 0;
    while start.elapsed() < budget {
        let input = if next_seed < seeds.len() {
            next_seed += 1;
            seeds[next_seed - 1].clone()
        } else {
            mutate(seeds, rng)
        };
        let (outcome, took) =
            timed(|| panic::catch_unwind(AssertUnwindSafe(|| ctx.run(target, &input))));
        report.inputs += 1;
        report.slowest = report.slowest.max(took);
        let problem = match outcome {
            Err(_) => Some(
                LAST_PANIC
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take()
                    .unwrap_or_else(|| "panic".into()),
            ),
            Ok(()) if took > SLOW => Some(format!("slow: {:.2} s", took.as_secs_f64())),
            Ok(()) => None,
        };
        if let Some(problem) = problem {
            // One report per distinct panic place (or per slow input).
            let key = problem.split(" at ").nth(1).unwrap_or(&problem).to_string();
            if problem.starts_with("slow") || seen.insert(key) {
                report.findings += 1;
                save_finding(target, &input, &problem, findings_dir);
            }
        }
    }
    report.elapsed = start.elapsed();
    report
}

/// Runs `f` and returns its CPU time on this thread (from /proc, 10 ms ticks: the machine is shared, and
/// wall time under load would flag inputs that are not slow), or its wall time where /proc has none.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let (c0, t0) = (thread_cpu(), Instant::now());
    let out = f();
    let took = match (c0, thread_cpu()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => t0.elapsed(),
    };
    (out, took)
}

/// This thread's user + system CPU time, from /proc/thread-self/stat (assumes 100 ticks per second).
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at state, field 3; utime is 14.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// `--replay TARGET FILE...`: runs each file once and prints its time (a finding's reproduction).
fn replay(ctx: &Context, target: &str, files: &[String]) {
    for f in files {
        let input = std::fs::read(f).unwrap_or_else(|e| panic!("cannot read {f}: {e}"));
        let wall = Instant::now();
        let (outcome, cpu) =
            timed(|| panic::catch_unwind(AssertUnwindSafe(|| ctx.run(target, &input))));
        let panicked = outcome
            .is_err()
            .then(|| LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take());
        println!(
            "{f}: {} bytes, cpu {:.0} ms, wall {:.0} ms{}",
            input.len(),
            cpu.as_secs_f64() * 1000.0,
            wall.elapsed().as_secs_f64() * 1000.0,
            panicked
                .map(|p| format!(", PANIC {}", p.unwrap_or_default()))
                .unwrap_or_default()
        );
    }
}

fn save_finding(target: &str, input: &[u8], problem: &str, dir: &Path) {
    let _ = std::fs::create_dir_all(dir);
    let name = format!("{target}-{:016x}.bin", fnv(input));
    let path = dir.join(&name);
    let _ = std::fs::write(&path, input);
    let _ = std::fs::write(dir.join(format!("{name}.txt")), problem);
    let shown: String = String::from_utf8_lossy(&input[..input.len().min(300)])
        .escape_debug()
        .collect();
    println!(
        "FINDING {target}: {problem}\n  input {} ({} bytes): {shown}{}",
        path.display(),
        input.len(),
        if input.len() > 300 { "..." } else { "" }
    );
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("{name}={v:?} is not a valid value");
            std::process::exit(2);
        }),
        Err(_) => default,
    }
}

// ---- seeds ----

fn seeds_for(target: &str, repo: &Path, corpus: &Path) -> Vec<Vec<u8>> {
    let fx = repo.join("tests/fixtures");
    let feeds = || {
        let mut v = Vec::new();
        for d in [
            corpus.join("feedparser-tests/cases"),
            corpus.join("feed-rs-fixtures/cases"),
            corpus.join("rss-parser-fixtures"),
        ] {
            v.extend(read_dir_seeds(&d, &["xml", "rss", "atom", "rdf"]));
        }
        v.extend(read_dir_seeds(&fx.join("site/feeds"), &["xml"]));
        v.extend(read_dir_seeds(&fx.join("discover/feeds"), &["xml", "atom"]));
        v
    };
    let pages = || {
        let mut v = Vec::new();
        for d in [
            corpus.join("trafilatura-eval/html"),
            corpus.join("zyte-article-extraction/html"),
            corpus.join("gne-chinese-news/html"),
            corpus.join("mozilla-readability-pages/pages"),
        ] {
            v.extend(read_dir_seeds(&d, &["html", "gz"]));
        }
        v.extend(read_dir_seeds(&fx.join("extract"), &["html"]));
        v
    };
    let mut seeds: Vec<Vec<u8>> = match target {
        "feed" => feeds(),
        "sitemap" => {
            let mut v = read_dir_seeds(&fx.join("discover"), &["xml"]);
            v.extend(feeds().into_iter().take(100));
            v
        }
        "telegram" => {
            let mut v = read_dir_seeds(&fx.join("telegram"), &["html"]);
            v.extend(pages().into_iter().take(50));
            v
        }
        "section" => {
            let mut v = read_dir_seeds(&fx.join("site/sections"), &["html"]);
            v.extend(read_dir_seeds(&fx.join("discover"), &["html"]));
            v.extend(pages().into_iter().take(100));
            v
        }
        "charset" => {
            let mut v = read_dir_seeds(&corpus.join("chardet-encoding-feeds/files"), &[]);
            v.extend(feeds().into_iter().take(100));
            v
        }
        "extract" => pages(),
        "query" => QUERIES.iter().map(|q| q.as_bytes().to_vec()).collect(),
        "config" => {
            let mut v = Vec::new();
            for f in ["feeds.toml", "tests/fixtures/site/feeds.toml.template"] {
                if let Ok(b) = std::fs::read(repo.join(f)) {
                    v.push(b);
                }
            }
            v
        }
        _ => Vec::new(),
    };
    if seeds.is_empty() {
        seeds.push(b"<".to_vec());
    }
    seeds.sort();
    seeds.dedup();
    seeds
}

/// Query seeds: the syntax tantivy's parser accepts, with the fields the index has.
const QUERIES: &[&str] = &[
    "taiwan",
    "\"one china\" AND lang:zh",
    "title:sanctions OR text:nato",
    "feed:cgtn-en -campaign:hk",
    "published:[2026-01-01T00:00:00Z TO 2026-12-31T00:00:00Z]",
    "(ukraine OR україна) AND NOT script:Cyrl",
    "台湾 统一",
    "source:rt~2 \"special operation\"~3",
    "country:CN affiliation:state cluster:abc*",
    "text:\"a b c\"^2.5 +must -not",
    "IN [a b c]",
    "title:*",
];

/// Files under `dir` (recursively, sorted) whose extension is in `exts` (any when empty), gunzipped when
/// `.gz`, at most `MAX_SEEDS_PER_DIR` of at most `MAX_SEED` bytes.
fn read_dir_seeds(dir: &Path, exts: &[&str]) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        if out.len() >= MAX_SEEDS_PER_DIR {
            break;
        }
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !exts.is_empty() && !exts.contains(&ext) {
            continue;
        }
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        let bytes = if ext == "gz" {
            let mut s = Vec::new();
            if flate2::read::MultiGzDecoder::new(&bytes[..])
                .take(MAX_SEED as u64 + 1)
                .read_to_end(&mut s)
                .is_err()
            {
                continue;
            }
            s
        } else {
            bytes
        };
        if bytes.len() <= MAX_SEED {
            out.push(bytes);
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

// ---- mutations ----

/// xorshift64*: deterministic from `MW_FUZZ_SEED`, no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Snippets that parsers treat specially: markup, nesting openers, BOMs, encoding declarations, entities.
const TOKENS: &[&[u8]] = &[
    b"<div>",
    b"</div>",
    b"<",
    b">",
    b"&",
    b"&#x0;",
    b"&amp;",
    b"&#1234567890;",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"-->",
    b"<?xml version=\"1.0\" encoding=\"windows-1251\"?>",
    b"<?xml version=\"1.0\" encoding=\"utf-16\"?>",
    b"<?xml version=\"1.0\" encoding=\"bogus\"?>",
    b"<meta charset=\"gb2312\">",
    b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=shift_jis\">",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"\xFE\xFF",
    b"\xC3\x28",
    b"\xE2\x82",
    b"\xF0\x9F\x98",
    b"\xED\xA0\x80",
    b"\x00",
    b"<a href=\"javascript:x\">",
    b"<a href=\"//\">",
    b"<a href=\"http://[::1\">",
    b"<base href=\"http://\">",
    b"<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"datePublished\":\"",
    b"9999-99-99T99:99:99Z",
    b"<pubDate>",
    b"<item>",
    b"<entry>",
    b"<loc>",
    b"<url>",
    b"data-post=\"/\"",
    b"(",
    b")",
    b"\"",
    b"[",
    b"]",
    b"{",
    b"\\",
    b":",
    b"*",
    b"~",
    b"^",
    b"=",
    b"\n[[feeds]]\n",
    b"\n[[campaigns]]\n",
    b"'''",
    b"\r\n",
    b"\t",
    b"\xE5\x8F\xB0",
];

/// One mutant: a random seed (or a splice of two) with 1 to 8 mutations.
fn mutate(seeds: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    let rounds = 1 + rng.below(8);
    for _ in 0..rounds {
        let len = data.len();
        match rng.below(13) {
            // Flip a bit.
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            // Random byte.
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            // Insert random bytes.
            2 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                data.splice(i..i, bytes);
            }
            // Delete a range.
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(256));
                data.drain(i..i + n);
            }
            // Duplicate a chunk in place.
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(4096));
                let chunk = data[i..i + n].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(at..at, chunk);
            }
            // Splice: our head, another seed's tail.
            5 => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            // Deep nesting.
            6 => {
                let opener: &[u8] = [
                    &b"<div>"[..],
                    b"(",
                    b"[",
                    b"{",
                    b"<item>",
                    b"<b><i>",
                    b"<table><tr><td>",
                ][rng.below(7)];
                let n = [10_000, 1_000, 100_000][rng.below(3)];
                let i = rng.below(len + 1);
                data.splice(i..i, opener.repeat(n));
            }
            // A long run of one byte or token.
            7 => {
                let tok = TOKENS[rng.below(TOKENS.len())];
                let n = 1000 + rng.below(50_000) / tok.len().max(1);
                let i = rng.below(len + 1);
                data.splice(i..i, tok.repeat(n));
            }
            // Insert a token.
            8..=10 => {
                let tok = TOKENS[rng.below(TOKENS.len())];
                let i = rng.below(len + 1);
                data.splice(i..i, tok.iter().copied());
            }
            // Prefix a BOM or a declaration.
            11 => {
                let tok = TOKENS[12 + rng.below(9)];
                data.splice(0..0, tok.iter().copied());
            }
            // Truncate (often mid-character).
            _ if len > 0 => data.truncate(rng.below(len)),
            _ => data.push(rng.next() as u8),
        }
        data.truncate(MAX_INPUT);
    }
    data
}
