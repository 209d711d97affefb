//! Revisit benchmark (#26): one revisit pass over N archived articles through the real pipeline, against
//! a local server.
//!
//! `cargo bench --bench revisit` (or `make bench`). The local HTTP/1.1 server of the pipeline benches
//! (`benches/common/http_site.rs`, 127.0.0.1) serves N articles (`MW_BENCH_REVISITS`, default 10,000) at
//! `/article/{i}.html`, each with an ETag (a matching `If-None-Match` gets 304), listed by N/200 RSS feeds of
//! state outlets (200 items each). Then:
//!
//! - archive (timed apart, not the figure): one `ingest_pass` fetches, extracts and archives every article;
//!   each gets its revisit row with its page's ETag;
//! - the site changes: one article in 20 gets a new ETag (its revisit answers 200, the page), half of those
//!   with an edited text (a new version), half with the same text (unchanged); the other 95% answer 304;
//! - the revisit pass (the figure): `revisit_pass` two hours later (ages `["1h", "6h"]`), budget >= N;
//! - a second pass at the same time, with nothing due (it must cost next to nothing).
//!
//! It prints the pass's counts, wall time, revisits/s and peak RSS (VmHWM, reset before the pass, the
//! server included), then PASS/MISS against the target (the pass of 10,000 under 30 s, scaled with N). The
//! counts are checked (N due, 95% 304s, the edited ones as new versions, their versions stored): a wrong
//! count fails the process, so no figure is reported for a pass that did not do the work.
//!
//! Then the store at scale (`MW_BENCH_REVISIT_ROWS`, default 1,000,000 rows, written directly: no pages, no
//! index): reading and decoding every revisit row (`Store::revisit_states`, what a pass did before the due
//! table) beside the due table (`Store::revisit_due`) with nothing due and with a budget (500) due, and the
//! one-time computation of the due table when the ages change.
//!
//! Run without `--bench` (as `cargo test --all-targets` does), it is a quick smoke run on 400 articles
//! (and 20,000 store rows).

#[path = "common/http_site.rs"]
mod http_site;
#[path = "common/synth.rs"]
mod synth;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use mediawatch::pipeline::{self, PassOptions};
use synth::{fmt_mb, proc_status_mb, Lcg, WORDS};

/// Default number of archived articles (overridden by `MW_BENCH_REVISITS`).
const DEFAULT_ARTICLES: usize = 10_000;
/// Articles in the smoke run (without `--bench`).
const SMOKE_ARTICLES: usize = 400;
/// Items per feed (the default `max_entries_per_feed`).
const PER_FEED: usize = 200;
/// One article in this many answers with a page (the others 304).
const PAGE_EVERY: usize = 20;
/// Target: the pass over 10,000 articles in under 30 s.
const TARGET_PASS_S: f64 = 30.0;
/// A pass longer than this is an error (the benchmark must stop by itself).
const PASS_TIMEOUT: Duration = Duration::from_secs(1200);

/// What the server serves, and what it counts.
struct Site {
    articles: usize,
    /// Per article, its generation (0 as archived; 1 after the change: a new ETag).
    generation: Vec<AtomicU32>,
    /// The server's port (for the feeds' links).
    port: AtomicU32,
    page_200: AtomicU64,
    page_304: AtomicU64,
    other: AtomicU64,
}

/// Whether article `i` answers with a page at the revisit (a new ETag).
fn answers_page(i: usize) -> bool {
    i % PAGE_EVERY == 0
}

/// Whether article `i`'s page is edited at the revisit (half of those that answer with a page).
fn edited(i: usize) -> bool {
    i % (2 * PAGE_EVERY) == 0
}

impl Site {
    fn take(&self) -> (u64, u64, u64) {
        (
            self.page_200.swap(0, Ordering::Relaxed),
            self.page_304.swap(0, Ordering::Relaxed),
            self.other.swap(0, Ordering::Relaxed),
        )
    }
}

impl http_site::Site for Site {
    fn respond(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> (&'static str, Vec<String>, Vec<u8>) {
        if path == "/robots.txt" {
            return (
                "200 OK",
                vec!["Content-Type: text/plain".into()],
                b"User-agent: *\nAllow: /\n".to_vec(),
            );
        }
        if let Some(f) = path
            .strip_prefix("/feed/")
            .and_then(|s| s.strip_suffix(".xml"))
            .and_then(|s| s.parse::<usize>().ok())
        {
            return (
                "200 OK",
                vec!["Content-Type: application/rss+xml; charset=utf-8".into()],
                rss(self.port.load(Ordering::Relaxed), f, self.articles).into_bytes(),
            );
        }
        if let Some(i) = path
            .strip_prefix("/article/")
            .and_then(|s| s.strip_suffix(".html"))
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|i| *i < self.articles)
        {
            let generation = self.generation[i].load(Ordering::Relaxed);
            let etag = format!("\"a{i}-g{generation}\"");
            if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
                self.page_304.fetch_add(1, Ordering::Relaxed);
                return (
                    "304 Not Modified",
                    vec![format!("ETag: {etag}")],
                    Vec::new(),
                );
            }
            self.page_200.fetch_add(1, Ordering::Relaxed);
            let text_generation = if edited(i) { generation } else { 0 };
            return (
                "200 OK",
                vec![
                    "Content-Type: text/html; charset=utf-8".into(),
                    format!("ETag: {etag}"),
                ],
                article_html(i, text_generation).into_bytes(),
            );
        }
        self.other.fetch_add(1, Ordering::Relaxed);
        (
            "404 Not Found",
            vec!["Content-Type: text/plain".into()],
            b"not found\n".to_vec(),
        )
    }
}

/// Feed `f`: articles `f*200 .. f*200+199` (those below `articles`).
fn rss(port: u32, f: usize, articles: usize) -> String {
    let mut items = String::new();
    let published = chrono::Utc::now() - chrono::Duration::hours(1);
    for i in (f * PER_FEED..((f + 1) * PER_FEED).min(articles)).rev() {
        items.push_str(&format!(
            "<item><title>Story {i}</title><link>http://127.0.0.1:{port}/article/{i}.html</link><guid>article-{i}</guid>\
             <pubDate>{}</pubDate></item>\n",
            published.to_rfc2822()
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Outlet {f}</title>\
         <link>/</link><description>Revisit bench feed {f}</description>\n{items}</channel></rss>\n"
    )
}

/// A ~2.5 KB news page whose text depends on the article and its text generation.
fn article_html(i: usize, generation: u32) -> String {
    let mut rng = Lcg::new(i, 0);
    let mut body = String::new();
    for _ in 0..5 {
        let words: Vec<&str> = (0..40).map(|_| WORDS[rng.next(WORDS.len())]).collect();
        body.push_str(&format!("      <p>{}.</p>\n", words.join(" ")));
    }
    if generation > 0 {
        body.push_str(&format!(
            "      <p>Update {generation}: the ministry later withdrew the statement on reunification.</p>\n"
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Story {i} | Outlet</title>\
         <meta property=\"article:published_time\" content=\"2026-12-01T08:00:00Z\"></head>\n<body>\
         <header><a href=\"/\">Outlet</a><nav><a href=\"/world\">World</a></nav></header>\n<main><article>\
         <h1>Story {i}: talks resume</h1>\n{body}    </article></main>\n<footer>Outlet</footer></body></html>\n"
    )
}

fn write_config(
    dir: &Path,
    addr: SocketAddr,
    feeds: usize,
    budget: usize,
) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join("feeds.toml");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(
        f,
        "[index]\npath = \"index\"\n\n[fetch]\nuser_agent = \"mediawatch-bench/0.1 (+revisit benchmark)\"\n\
         concurrency = 64\nper_host = 64\ntimeout_secs = 20\nallow_private_networks = true\nhost_delay_ms = 0\n\n\
         [revisit]\nages = [\"1h\", \"6h\"]\nbudget_per_pass = {budget}\n"
    )?;
    for i in 0..feeds {
        writeln!(
            f,
            "[[feeds]]\nid = \"rv-{i}\"\nurl = \"http://{addr}/feed/{i}.xml\"\nname = \"Outlet {i}\"\n\
             affiliation = \"state\"\nlanguage = \"en\"\n"
        )?;
    }
    writeln!(
        f,
        "[[campaigns]]\nid = \"bench-reunification\"\nname = \"Reunification narrative\"\n\
         [campaigns.terms]\nen = [\"reunification\"]\n"
    )?;
    f.flush()?;
    Ok(path)
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it: smoke run.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let n = match std::env::var("MW_BENCH_REVISITS") {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (PAGE_EVERY * 2..=1_000_000).contains(n))
            .with_context(|| {
                format!("MW_BENCH_REVISITS={v:?} is not a number between 40 and 1000000")
            })?,
        Err(_) if bench_mode => DEFAULT_ARTICLES,
        Err(_) => SMOKE_ARTICLES,
    };
    let feeds = n.div_ceil(PER_FEED);
    let expect_pages = (0..n).filter(|i| answers_page(*i)).count();
    let expect_edited = (0..n).filter(|i| edited(*i)).count();
    println!(
        "revisit: {} on 127.0.0.1, {n} archived articles in {feeds} feeds; one pass: {} answer 304, \
         {expect_pages} a page ({expect_edited} edited)",
        if bench_mode { "benchmark" } else { "smoke run (no --bench)" },
        n - expect_pages
    );

    let site = Arc::new(Site {
        articles: n,
        generation: (0..n).map(|_| AtomicU32::new(0)).collect(),
        port: AtomicU32::new(0),
        page_200: AtomicU64::new(0),
        page_304: AtomicU64::new(0),
        other: AtomicU64::new(0),
    });
    let addr = http_site::start(Arc::clone(&site), "bench-server")?;
    site.port.store(u32::from(addr.port()), Ordering::Relaxed);
    let dir = tempfile::Builder::new().prefix("mw-revisit").tempdir()?;
    let config_path = write_config(dir.path(), addr, feeds, n)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let p = pipeline::open_from(&config_path)?;

    // Archive every article (timed apart).
    let start = Instant::now();
    let report = rt
        .block_on(pipeline::ingest_pass(&p, &PassOptions::default()))
        .context("archiving pass failed")?;
    let archive_s = start.elapsed().as_secs_f64();
    if report.articles_archived != n {
        bail!(
            "the archiving pass archived {} articles, expected {n}: {report}",
            report.articles_archived
        );
    }
    println!(
        "revisit archive: {n} articles in {archive_s:.2} s ({:.0}/s), peak_rss_mb={}",
        n as f64 / archive_s,
        fmt_mb(proc_status_mb("VmHWM:"))
    );

    // The site changes, then one pass two hours later revisits every article (all due at the first age).
    for i in (0..n).filter(|i| answers_page(*i)) {
        site.generation[i].store(1, Ordering::Relaxed);
    }
    site.take();
    let now = chrono::Utc::now() + chrono::Duration::hours(2);
    // Reset the peak RSS (VmHWM) so the figure is the pass's (Linux; ignored where it cannot be).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let start = Instant::now();
    let r = rt
        .block_on(async {
            tokio::time::timeout(PASS_TIMEOUT, pipeline::revisit_pass(&p, now)).await
        })
        .map_err(|_| {
            anyhow::anyhow!(
                "the revisit pass did not finish in {} s",
                PASS_TIMEOUT.as_secs()
            )
        })?
        .context("revisit pass failed")?;
    let pass_s = start.elapsed().as_secs_f64();
    let pass_peak = proc_status_mb("VmHWM:");
    let (got_200, got_304, other) = site.take();
    println!("revisit pass: {r}");
    println!(
        "revisit pass: revisits={} wall_s={pass_s:.2} revisits_per_s={:.0} peak_rss_mb={} \
         server: page_200={got_200} page_304={got_304} other={other}",
        r.revisited,
        r.revisited as f64 / pass_s,
        fmt_mb(pass_peak)
    );

    // Nothing is due any more at `now`: a pass must cost next to nothing.
    let start = Instant::now();
    let idle = rt.block_on(pipeline::revisit_pass(&p, now))?;
    let idle_s = start.elapsed().as_secs_f64();
    println!(
        "revisit idle pass (nothing due): wall_ms={:.2} due={}",
        idle_s * 1000.0,
        idle.due
    );

    // The counts: a wrong one is a broken benchmark or a pipeline bug, not a slow run.
    let mut problems = Vec::new();
    let mut expect = |what: &str, got: usize, want: usize| {
        if got != want {
            problems.push(format!("{what}: {got}, expected {want}"));
        }
    };
    expect("due", r.due, n);
    expect("revisited", r.revisited, n);
    expect("not modified (304)", r.not_modified, n - expect_pages);
    expect("server 304s", got_304 as usize, n - expect_pages);
    expect("server pages", got_200 as usize, expect_pages);
    expect("unchanged pages", r.unchanged, expect_pages - expect_edited);
    expect("new versions", r.new_versions, expect_edited);
    expect("failed", r.failed + r.missing + r.removed, 0);
    expect("due in the idle pass", idle.due + idle.revisited, 0);
    let mut stored = 0;
    for i in (0..n).filter(|i| edited(*i)) {
        let url = format!("http://{addr}/article/{i}.html");
        let article = p
            .archive
            .article_by_url(&url)?
            .with_context(|| format!("{url} not archived"))?;
        stored += p.store.versions(&article.id)?.len();
    }
    expect(
        "versions stored (1 and 2 of each edited)",
        stored,
        2 * expect_edited,
    );
    for problem in &problems {
        println!("revisit WARN {problem}");
    }
    if !problems.is_empty() {
        bail!(
            "revisit bench: wrong counts, no figure: {}",
            problems.join("; ")
        );
    }
    if bench_mode {
        let target_s = TARGET_PASS_S * n as f64 / DEFAULT_ARTICLES as f64;
        println!(
            "revisit {} pass wall_s={pass_s:.2} target_s<{target_s:.1} ({n} revisits)",
            if pass_s < target_s { "PASS" } else { "MISS" }
        );
    } else {
        println!("revisit smoke run: counts right; target not checked (run `cargo bench --bench revisit`)");
    }
    drop(p);
    drop(rt);
    dir.close()?;
    let rows = match std::env::var("MW_BENCH_REVISIT_ROWS") {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1_000..=10_000_000).contains(n))
            .with_context(|| {
                format!("MW_BENCH_REVISIT_ROWS={v:?} is not a number between 1000 and 10000000")
            })?,
        Err(_) if bench_mode => 1_000_000,
        Err(_) => 20_000,
    };
    store_at_scale(rows)
}

/// The store alone with `rows` revisit rows (archived one a second): the full scan beside the due table.
fn store_at_scale(rows: usize) -> anyhow::Result<()> {
    use mediawatch::revisit::{RevisitState, Schedule};
    const BUDGET: usize = 500;
    let dir = tempfile::Builder::new()
        .prefix("mw-revisit-store")
        .tempdir()?;
    let store = mediawatch::store::Store::open(dir.path())?;
    let hour = Duration::from_secs(3600);
    let schedule = Schedule {
        ages: vec![hour, 6 * hour],
        feeds: ["rv".to_string()].into(),
    };
    let t0 =
        chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")?.with_timezone(&chrono::Utc);
    let start = Instant::now();
    let mut chunk = Vec::with_capacity(10_000);
    for i in 0..rows {
        let at = t0 + chrono::Duration::seconds(i as i64);
        let url = format!("http://outlet.example/article/{i}.html");
        chunk.push((
            format!("{i:016x}"),
            RevisitState::new(&url, "rv", at, Some(format!("\"a{i}\"")), None),
        ));
        if chunk.len() == 10_000 || i + 1 == rows {
            store.add_revisit_states(&chunk, &schedule)?;
            chunk.clear();
        }
    }
    let write_s = start.elapsed().as_secs_f64();
    let file_mb = std::fs::metadata(store.path())?.len() as f64 / 1e6;
    // Nothing due: before the first age of the first row. A budget due: the first BUDGET rows' first age.
    let idle = t0 + chrono::Duration::minutes(30);
    let busy =
        t0 + chrono::Duration::from_std(hour)? + chrono::Duration::seconds(BUDGET as i64 - 1);
    let start = Instant::now();
    let all = store.revisit_states()?;
    let due_by_scan = all
        .iter()
        .filter(|(_, s)| schedule.due_at(s).is_some_and(|at| at <= busy))
        .count();
    let scan_s = start.elapsed().as_secs_f64();
    drop(all);
    // The first read after the full scan pays for it (redb's cache, 150-180 ms at 1,000,000 rows; a read
    // after a write does not): timed apart, then the median of 5 idle reads.
    let start = Instant::now();
    let none = store.revisit_due(&schedule, idle, BUDGET)?;
    let first_s = start.elapsed().as_secs_f64();
    let mut idle_runs: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            let _ = store.revisit_due(&schedule, idle, BUDGET);
            start.elapsed().as_secs_f64()
        })
        .collect();
    idle_runs.sort_by(f64::total_cmp);
    let idle_s = idle_runs[2];
    let start = Instant::now();
    let some = store.revisit_due(&schedule, busy, BUDGET)?;
    let busy_s = start.elapsed().as_secs_f64();
    let other = Schedule {
        ages: vec![2 * hour, 6 * hour],
        ..schedule.clone()
    };
    let start = Instant::now();
    let rebuilt = store.sync_revisit_due(&other)?;
    let rebuild_s = start.elapsed().as_secs_f64();
    println!(
        "revisit store: rows={rows} written_s={write_s:.1} file_mb={file_mb:.0}; read+decode every row (before the due \
         table) {:.1} ms; due table, nothing due {:.3} ms (the first, after the full scan, {:.1} ms); {BUDGET} due {:.1} ms; \
         recomputed for new ages {:.1} s",
        scan_s * 1000.0,
        idle_s * 1000.0,
        first_s * 1000.0,
        busy_s * 1000.0,
        rebuild_s
    );
    if none.due != 0
        || !none.rows.is_empty()
        || some.rows.len() != BUDGET.min(rows)
        || due_by_scan != BUDGET.min(rows)
        || !rebuilt
    {
        bail!(
            "revisit store: wrong counts: nothing due gave {} rows, {BUDGET} due gave {} (scan {due_by_scan}), recomputed {rebuilt}",
            none.rows.len(),
            some.rows.len()
        );
    }
    drop(store);
    dir.close()?;
    Ok(())
}
