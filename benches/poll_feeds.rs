//! Fetcher benchmark: polling many feeds through the real pipeline, against a local server.
//!
//! `cargo bench --bench poll_feeds` (or `make bench`). A small HTTP/1.1 server (keep-alive, tokio
//! `TcpListener`, own thread) on 127.0.0.1 serves N feeds (`MW_BENCH_FEEDS`, default 5,000) at
//! `/feed/{i}.xml`, each with an ETag (a matching `If-None-Match` gets 304), and ~3 KB article pages at
//! `/article/{i}/{n}.html`. A temporary `feeds.toml` lists the N feeds, and two passes of
//! `mediawatch::pipeline::ingest_pass` run against it:
//!
//! - cycle 1, cold: every feed answers 200 and its one item's page is fetched, extracted and archived;
//! - cycle 2, steady state (the one this benchmark is about): one feed in 20 has a new item (a new ETag,
//!   so 200 with the new item above the old one), every other feed answers 304.
//!
//! For each cycle it prints feeds, 304s, new articles, wall time and feeds/s, then the process's peak RSS
//! (VmHWM, the server included), and a PASS/MISS line against the targets: a cycle of 5,000 feeds in
//! under 30 s, memory under 300 MB. A MISS does not fail the process (benchmarks report, they do not
//! gate); an error from a pass does.
//!
//! With `MW_BENCH_MIXED=1` the sources are of mixed kinds (feed i: rss, sitemap, html section page, Telegram
//! preview, in turn), every kind read through the one pipeline; targets: a cycle of 5,000 in under 60 s,
//! memory under 400 MB.
//!
//! Run without `--bench` (as `cargo test --all-targets` does), it is a quick smoke run on 20 sources (both
//! scenarios) that fails when the counts are not the expected ones.

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
use mediawatch::pipeline::{self, PassOptions, PassReport};
use synth::{fmt_mb, proc_status_mb, Lcg, WORDS};

/// Default number of feeds (overridden by `MW_BENCH_FEEDS`).
const DEFAULT_FEEDS: usize = 5_000;
/// Feeds in the smoke run (without `--bench`).
const SMOKE_FEEDS: usize = 20;
/// One feed in this many has a new item in cycle 2.
const NEW_EVERY: usize = 20;
/// A pass taking longer than this is an error (the benchmark must stop by itself).
const PASS_TIMEOUT: Duration = Duration::from_secs(600);
/// Target: a full cycle of 5,000 feeds in under 30 s.
const TARGET_CYCLE_S: f64 = 30.0;
/// Target: peak memory under 300 MB.
const TARGET_RSS_MB: f64 = 300.0;
/// Target with mixed sources (`MW_BENCH_MIXED=1`): a cycle of 5,000 in under 60 s.
const TARGET_MIXED_CYCLE_S: f64 = 60.0;
/// Target with mixed sources: peak memory under 400 MB.
const TARGET_MIXED_RSS_MB: f64 = 400.0;

/// What the server serves, and what it counts.
struct Site {
    feeds: usize,
    /// Mixed sources: feed i is of kind `i % 4` (rss, sitemap, html section page, Telegram preview).
    mixed: bool,
    /// Per feed, the number of its newest item (0 in cycle 1). The feed lists items newest..0 (at most 3).
    generation: Vec<AtomicU32>,
    port: AtomicU32,
    feed_200: AtomicU64,
    feed_304: AtomicU64,
    articles: AtomicU64,
    robots: AtomicU64,
    other: AtomicU64,
    bytes_out: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    feed_200: u64,
    feed_304: u64,
    articles: u64,
    robots: u64,
    other: u64,
    bytes_out: u64,
}

impl Site {
    fn new(feeds: usize, mixed: bool) -> Site {
        Site {
            feeds,
            mixed,
            generation: (0..feeds).map(|_| AtomicU32::new(0)).collect(),
            port: AtomicU32::new(0),
            feed_200: AtomicU64::new(0),
            feed_304: AtomicU64::new(0),
            articles: AtomicU64::new(0),
            robots: AtomicU64::new(0),
            other: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
        }
    }

    /// Reads and resets the request counters.
    fn take_counts(&self) -> Counts {
        Counts {
            feed_200: self.feed_200.swap(0, Ordering::Relaxed),
            feed_304: self.feed_304.swap(0, Ordering::Relaxed),
            articles: self.articles.swap(0, Ordering::Relaxed),
            robots: self.robots.swap(0, Ordering::Relaxed),
            other: self.other.swap(0, Ordering::Relaxed),
            bytes_out: self.bytes_out.swap(0, Ordering::Relaxed),
        }
    }

    fn etag(&self, feed: usize, generation: u32) -> String {
        format!("\"f{feed}-g{generation}\"")
    }

    /// Answers one GET: status line, headers and body.
    fn respond(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> (&'static str, Vec<String>, Vec<u8>) {
        if path == "/robots.txt" {
            self.robots.fetch_add(1, Ordering::Relaxed);
            return (
                "200 OK",
                vec!["Content-Type: text/plain; charset=utf-8".into()],
                b"User-agent: *\nAllow: /\n".to_vec(),
            );
        }
        let source = [
            ("/feed/", ".xml", "application/rss+xml; charset=utf-8"),
            ("/sitemap/", ".xml", "application/xml; charset=utf-8"),
            ("/section/", ".html", "text/html; charset=utf-8"),
            ("/s/tg", "", "text/html; charset=utf-8"),
        ]
        .iter()
        .enumerate()
        .find_map(|(kind, (prefix, suffix, ct))| {
            let i = path
                .strip_prefix(prefix)?
                .strip_suffix(suffix)?
                .parse::<usize>()
                .ok()
                .filter(|i| *i < self.feeds && kind_of(*i, self.mixed) == kind)?;
            Some((i, kind, *ct))
        });
        if let Some((i, kind, content_type)) = source {
            let generation = self.generation[i].load(Ordering::Relaxed);
            let etag = self.etag(i, generation);
            if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
                self.feed_304.fetch_add(1, Ordering::Relaxed);
                return (
                    "304 Not Modified",
                    vec![format!("ETag: {etag}")],
                    Vec::new(),
                );
            }
            self.feed_200.fetch_add(1, Ordering::Relaxed);
            let port = self.port.load(Ordering::Relaxed);
            let body = match kind {
                1 => sitemap(port, i, generation),
                2 => section(port, i, generation),
                3 => telegram(i, generation),
                _ => rss(port, i, generation),
            };
            return (
                "200 OK",
                vec![
                    format!("Content-Type: {content_type}"),
                    format!("ETag: {etag}"),
                ],
                body.into_bytes(),
            );
        }
        if let Some((i, n)) = path
            .strip_prefix("/article/")
            .and_then(|s| s.strip_suffix(".html"))
            .and_then(|s| s.split_once('/'))
            .and_then(|(i, n)| Some((i.parse::<usize>().ok()?, n.parse::<u32>().ok()?)))
            .filter(|(i, _)| *i < self.feeds)
        {
            self.articles.fetch_add(1, Ordering::Relaxed);
            let port = self.port.load(Ordering::Relaxed);
            return (
                "200 OK",
                vec!["Content-Type: text/html; charset=utf-8".into()],
                article_html(port, i, n).into_bytes(),
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

fn sentence(rng: &mut Lcg, words: usize) -> String {
    let mut s = String::new();
    for k in 0..words {
        if k > 0 {
            s.push(' ');
        }
        let w = WORDS[rng.next(WORDS.len())];
        if k == 0 {
            let mut c = w.chars();
            if let Some(first) = c.next() {
                s.extend(first.to_uppercase());
                s.push_str(c.as_str());
            }
        } else {
            s.push_str(w);
        }
    }
    s.push('.');
    s
}

fn title(i: usize, n: u32) -> String {
    let mut rng = Lcg::new(i, u64::from(n));
    let mut t = sentence(&mut rng, 7);
    t.pop();
    format!("{t} ({i}/{n})")
}

/// The kind of source `i`: 0 rss, 1 sitemap, 2 html section page, 3 Telegram preview (always 0 unless mixed).
fn kind_of(i: usize, mixed: bool) -> usize {
    if mixed {
        i % 4
    } else {
        0
    }
}

/// Whether source `i` gets a new item between the cycles: one in [`NEW_EVERY`], of every kind.
fn has_new(i: usize, mixed: bool) -> bool {
    if mixed {
        i % (NEW_EVERY * 4) < 4
    } else {
        i % NEW_EVERY == 0
    }
}

/// The items of source `i` at `generation`: item numbers, newest first, with their publication time.
fn items(i: usize, generation: u32) -> Vec<(u32, chrono::DateTime<chrono::Utc>)> {
    (generation.saturating_sub(2)..=generation)
        .rev()
        .map(|n| {
            let minutes = 60 * 24 - (n as i64 * 30) - (i % 600) as i64;
            (n, chrono::Utc::now() - chrono::Duration::minutes(minutes))
        })
        .collect()
}

/// A Google News sitemap listing the same items as the feed would.
fn sitemap(port: u32, i: usize, generation: u32) -> String {
    let base = format!("http://127.0.0.1:{port}");
    let mut urls = String::new();
    for (n, date) in items(i, generation) {
        urls.push_str(&format!(
            "<url><loc>{base}/article/{i}/{n}.html</loc><lastmod>{d}</lastmod><news:news><news:publication>             <news:name>Bench outlet {i}</news:name><news:language>en</news:language></news:publication>             <news:publication_date>{d}</news:publication_date><news:title>{t}</news:title></news:news></url>\n",
            d = date.to_rfc3339(),
            t = title(i, n),
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\n{urls}</urlset>\n"
    )
}

/// A section page: navigation, then the items' links in `ul.headlines`.
fn section(port: u32, i: usize, generation: u32) -> String {
    let mut links = String::new();
    for (n, _) in items(i, generation) {
        links.push_str(&format!(
            "<li><a href=\"/article/{i}/{n}.html\">{t}</a></li>\n",
            t = title(i, n)
        ));
    }
    format!(
        "<!DOCTYPE html><html><head><title>World | Bench outlet {i}</title></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav>\
         <ul class=\"headlines\">\n{links}</ul><footer>http://127.0.0.1:{port}/</footer></body></html>\n"
    )
}

/// A Telegram channel preview (the public `t.me/s/<channel>` layout) with the items as posts, oldest first.
fn telegram(i: usize, generation: u32) -> String {
    let mut posts = String::new();
    for (n, date) in items(i, generation).into_iter().rev() {
        let mut rng = Lcg::new(i, u64::from(n) + 2000);
        let text = format!("{}<br/>{}", title(i, n), sentence(&mut rng, 30));
        posts.push_str(&format!(
            "<div class=\"tgme_widget_message_wrap js-widget_message_wrap\"><div class=\"tgme_widget_message \
             text_not_supported_wrap js-widget_message\" data-post=\"tg{i}/{id}\"><div class=\"tgme_widget_message_bubble\">\
             <div class=\"tgme_widget_message_author accent_color\"><a class=\"tgme_widget_message_owner_name\" \
             href=\"https://t.me/tg{i}\"><span dir=\"auto\">Bench channel {i}</span></a></div>\
             <div class=\"tgme_widget_message_text js-message_text\" dir=\"auto\">{text}</div>\
             <div class=\"tgme_widget_message_footer compact js-message_footer\"><div class=\"tgme_widget_message_info \
             short js-message_info\"><span class=\"tgme_widget_message_views\">{views}</span><span class=\"copyonly\"> \
             views</span><span class=\"tgme_widget_message_meta\"><a class=\"tgme_widget_message_date\" \
             href=\"https://t.me/tg{i}/{id}\"><time datetime=\"{d}\" class=\"time\">00:00</time></a></span></div></div>\
             </div></div></div>\n",
            id = n + 1,
            views = 1000 + rng.next(9000),
            d = date.to_rfc3339(),
        ));
    }
    format!(
        "<!DOCTYPE html><html><head><meta property=\"og:title\" content=\"Bench channel {i}\">\
         <link rel=\"canonical\" href=\"https://t.me/s/tg{i}\"></head><body><section class=\"tgme_channel_history \
         js-message_history\">\n{posts}</section></body></html>\n"
    )
}

/// A feed with its newest item `generation` and up to two older ones.
fn rss(port: u32, i: usize, generation: u32) -> String {
    let base = format!("http://127.0.0.1:{port}");
    let mut items = String::new();
    for n in (generation.saturating_sub(2)..=generation).rev() {
        let mut rng = Lcg::new(i, u64::from(n) + 1000);
        let summary = sentence(&mut rng, 24);
        let minutes = 60 * 24 - (n as i64 * 30) - (i % 600) as i64;
        let date = (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc2822();
        items.push_str(&format!(
            "<item><title>{title}</title><link>{base}/article/{i}/{n}.html</link>\
             <guid isPermaLink=\"true\">{base}/article/{i}/{n}.html</guid><pubDate>{date}</pubDate>\
             <description>{summary}</description></item>\n",
            title = title(i, n),
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>Bench outlet {i}</title><link>{base}/</link><description>Feed {i} of the poll_feeds \
         benchmark</description><language>en</language>\n{items}</channel></rss>\n"
    )
}

/// A ~3 KB news page: head metadata, navigation, the article, related links, footer.
fn article_html(port: u32, i: usize, n: u32) -> String {
    let mut rng = Lcg::new(i, u64::from(n));
    let t = title(i, n);
    let mut body = String::new();
    for p in 0..5 {
        let sentences = 3 + rng.next(2);
        let para: Vec<String> = (0..sentences)
            .map(|_| {
                let words = 9 + rng.next(8);
                sentence(&mut rng, words)
            })
            .collect();
        let mut para = para.join(" ");
        if p == 2 && i % 7 == 0 {
            para.push_str(" Beijing again called for peaceful reunification.");
        }
        body.push_str(&format!("      <p>{para}</p>\n"));
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{t} | Bench Outlet {i}</title>
  <meta name="description" content="Article {n} of outlet {i}.">
  <meta property="og:title" content="{t}">
  <meta property="og:site_name" content="Bench Outlet {i}">
  <meta property="article:published_time" content="2025-01-01T08:00:00Z">
  <link rel="canonical" href="http://127.0.0.1:{port}/article/{i}/{n}.html">
  <link rel="stylesheet" href="/static/site.css">
  <script>window.dataLayer = window.dataLayer || [];</script>
</head>
<body>
  <header class="site-header"><a href="/">Bench Outlet {i}</a>
    <nav><ul><li><a href="/world">World</a></li><li><a href="/politics">Politics</a></li>
    <li><a href="/business">Business</a></li><li><a href="/opinion">Opinion</a></li></ul></nav>
  </header>
  <main>
    <article>
      <h1>{t}</h1>
      <p class="byline">By <span class="author">Staff Reporter</span> · <time datetime="2025-01-01T08:00:00Z">1 January 2025</time></p>
{body}    </article>
    <aside class="related"><h2>Related</h2><ul>
      <li><a href="/article/{i}/{r1}.html">Earlier coverage from this desk</a></li>
      <li><a href="/article/{i}/{r2}.html">Analysis: what the talks mean</a></li>
    </ul></aside>
  </main>
  <footer><p>© 2025 Bench Outlet {i}. All rights reserved.</p><a href="/privacy">Privacy</a> <a href="/contact">Contact</a></footer>
</body>
</html>
"#,
        r1 = n + 100,
        r2 = n + 200,
    )
}

impl http_site::Site for Site {
    fn respond(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> (&'static str, Vec<String>, Vec<u8>) {
        Site::respond(self, path, if_none_match)
    }

    fn sent(&self, bytes: usize) {
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }
}

/// Starts the site's server ([`http_site::start`]) and tells the site its port.
fn start_server(site: Arc<Site>) -> anyhow::Result<SocketAddr> {
    let addr = http_site::start(Arc::clone(&site), "bench-server")?;
    site.port.store(u32::from(addr.port()), Ordering::Relaxed);
    Ok(addr)
}

fn write_config(
    dir: &Path,
    addr: SocketAddr,
    feeds: usize,
    mixed: bool,
) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join("feeds.toml");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(
        f,
        "[index]\npath = \"index\"\n\n[fetch]\nuser_agent = \"mediawatch-bench/0.1 (+poll_feeds benchmark)\"\n\
         concurrency = 64\nper_host = 64\ntimeout_secs = 20\nallow_private_networks = true\nhost_delay_ms = 0\n"
    )?;
    for i in 0..feeds {
        let source = match kind_of(i, mixed) {
            1 => format!("kind = \"sitemap\"\nurl = \"http://{addr}/sitemap/{i}.xml\""),
            2 => format!(
                "kind = \"html\"\nurl = \"http://{addr}/section/{i}.html\"\nlink_selector = \"ul.headlines a\""
            ),
            3 => format!("kind = \"telegram\"\nurl = \"http://{addr}/s/tg{i}\""),
            _ => format!("url = \"http://{addr}/feed/{i}.xml\""),
        };
        writeln!(
            f,
            "[[feeds]]\nid = \"bench-{i}\"\n{source}\nname = \"Bench outlet {i}\"\n\
             affiliation = \"{}\"\nlanguage = \"en\"\n",
            if i % 3 == 0 { "state" } else { "independent" }
        )?;
    }
    writeln!(
        f,
        "[[campaigns]]\nid = \"bench-reunification\"\nname = \"Reunification narrative\"\n\
         [campaigns.terms]\nen = [\"reunification\", \"separatis*\"]\n"
    )?;
    f.flush()?;
    Ok(path)
}

struct Cycle {
    wall_s: f64,
    report: PassReport,
    counts: Counts,
}

fn run_cycle(
    rt: &tokio::runtime::Runtime,
    p: &pipeline::Pipeline,
    site: &Site,
    cycle: u32,
) -> anyhow::Result<Cycle> {
    let name = if site.mixed {
        "poll_sources"
    } else {
        "poll_feeds"
    };
    site.take_counts();
    let start = Instant::now();
    let report = rt
        .block_on(async {
            tokio::time::timeout(
                PASS_TIMEOUT,
                pipeline::ingest_pass(p, &PassOptions::default()),
            )
            .await
        })
        .map_err(|_| {
            anyhow::anyhow!(
                "cycle {cycle}: pass did not finish in {} s",
                PASS_TIMEOUT.as_secs()
            )
        })?
        .with_context(|| format!("cycle {cycle}: ingest pass failed"))?;
    let wall_s = start.elapsed().as_secs_f64();
    let counts = site.take_counts();
    let feeds = site.feeds;
    println!(
        "{name} cycle={cycle} feeds={feeds} feeds_ok={} not_modified={} failed={} entries_seen={} \
         new_articles={} tagged={} from_feed_text={} pages_failed={} wall_s={wall_s:.2} feeds_per_s={:.0} \
         rss_mb={} peak_rss_mb={}",
        report.feeds_ok,
        report.feeds_not_modified,
        report.feeds_failed,
        report.entries_seen,
        report.articles_archived,
        report.articles_tagged,
        report.articles_from_feed,
        report.pages_failed,
        feeds as f64 / wall_s,
        fmt_mb(proc_status_mb("VmRSS:")),
        fmt_mb(proc_status_mb("VmHWM:")),
    );
    println!(
        "{name} cycle={cycle} server: feed_200={} feed_304={} articles={} robots={} other={} bytes_out={}",
        counts.feed_200, counts.feed_304, counts.articles, counts.robots, counts.other, counts.bytes_out
    );
    for f in report.failures.iter().take(5) {
        println!(
            "{name} cycle={cycle} failure: feed={} url={} error={}",
            f.feed, f.url, f.error
        );
    }
    if report.failures.len() > 5 {
        println!(
            "{name} cycle={cycle} ... {} failures in all",
            report.failures.len()
        );
    }
    Ok(Cycle {
        wall_s,
        report,
        counts,
    })
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it: smoke run.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let feeds = match std::env::var("MW_BENCH_FEEDS") {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .with_context(|| {
                format!("MW_BENCH_FEEDS={v:?} is not a number between 1 and 1000000")
            })?,
        Err(_) if bench_mode => DEFAULT_FEEDS,
        Err(_) => SMOKE_FEEDS,
    };
    // A benchmark measures one scenario per process (peak memory is the process's); the smoke run checks both.
    let mixed_env = std::env::var("MW_BENCH_MIXED").is_ok_and(|v| v == "1");
    let scenarios: &[bool] = match (bench_mode, mixed_env) {
        (true, m) => {
            if m {
                &[true]
            } else {
                &[false]
            }
        }
        (false, _) => &[false, true],
    };
    let mut problems = Vec::new();
    for &mixed in scenarios {
        problems.extend(scenario(feeds, mixed, bench_mode)?);
    }
    if !bench_mode && !problems.is_empty() {
        bail!("smoke run: {}", problems.join("; "));
    }
    Ok(())
}

/// Two cycles over `feeds` sources (RSS only, or mixed kinds); returns the count problems found.
fn scenario(feeds: usize, mixed: bool, bench_mode: bool) -> anyhow::Result<Vec<String>> {
    let name = if mixed { "poll_sources" } else { "poll_feeds" };
    let expected_new = (0..feeds).filter(|i| has_new(*i, mixed)).count();
    let posts_new = (0..feeds)
        .filter(|i| has_new(*i, mixed) && kind_of(*i, mixed) == 3)
        .count();
    println!(
        "{name}: {} on 127.0.0.1, {feeds} {}; cycle 1 cold (200 + page each), cycle 2 steady \
         ({expected_new} sources with a new item, the rest 304)",
        if bench_mode {
            "benchmark"
        } else {
            "smoke run (no --bench)"
        },
        if mixed {
            "sources (rss, sitemap, html section page, Telegram preview in turn)"
        } else {
            "feeds"
        }
    );

    let site = Arc::new(Site::new(feeds, mixed));
    let addr = start_server(Arc::clone(&site))?;
    let dir = tempfile::Builder::new().prefix("mw-poll-feeds").tempdir()?;
    let config_path = write_config(dir.path(), addr, feeds, mixed)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let open_start = Instant::now();
    let p = pipeline::open_from(&config_path)?;
    println!(
        "{name} open: config+archive+store in {:.2} s",
        open_start.elapsed().as_secs_f64()
    );

    let c1 = run_cycle(&rt, &p, &site, 1)?;
    // Between cycles the site changes: one source in NEW_EVERY gets a new item (and so a new ETag).
    for i in (0..feeds).filter(|i| has_new(*i, mixed)) {
        site.generation[i].fetch_add(1, Ordering::Relaxed);
    }
    let c2 = run_cycle(&rt, &p, &site, 2)?;

    let peak = proc_status_mb("VmHWM:");
    println!(
        "{name} peak_rss_mb={} (whole process: pipeline, local server and runtime)",
        fmt_mb(peak)
    );

    // Expected counts: a wrong count is a broken benchmark or a pipeline bug, not a slow run.
    let mut problems = Vec::new();
    if c1.report.articles_archived != feeds || c1.report.feeds_ok != feeds {
        problems.push(format!(
            "{name} cycle 1 archived {} articles from {} ok sources, expected {feeds}",
            c1.report.articles_archived, c1.report.feeds_ok
        ));
    }
    if c2.report.feeds_not_modified != feeds - expected_new
        || c2.report.articles_archived != expected_new
        || c2.counts.articles != (expected_new - posts_new) as u64
    {
        problems.push(format!(
            "{name} cycle 2: {} not modified, {} archived, {} pages fetched; expected {}, {expected_new}, {}",
            c2.report.feeds_not_modified,
            c2.report.articles_archived,
            c2.counts.articles,
            feeds - expected_new,
            expected_new - posts_new
        ));
    }
    for problem in &problems {
        println!("{name} WARN {problem}");
    }

    if bench_mode {
        // Targets are for 5,000 sources; the time target scales with their number.
        let (cycle_s, rss_mb) = if mixed {
            (TARGET_MIXED_CYCLE_S, TARGET_MIXED_RSS_MB)
        } else {
            (TARGET_CYCLE_S, TARGET_RSS_MB)
        };
        let target_s = cycle_s * feeds as f64 / DEFAULT_FEEDS as f64;
        let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
        for (n, c) in [(1, &c1), (2, &c2)] {
            println!(
                "{name} {} cycle={n} wall_s={:.2} target_s<{target_s:.1}",
                verdict(c.wall_s < target_s),
                c.wall_s
            );
        }
        println!(
            "{name} {} peak_rss_mb={} target_mb<{rss_mb:.0}",
            verdict(peak.is_some_and(|mb| mb < rss_mb)),
            fmt_mb(peak)
        );
    } else {
        println!("{name} smoke run: targets not checked (run `cargo bench --bench poll_feeds`)");
    }

    drop(p);
    drop(rt);
    dir.close()?;
    Ok(problems)
}
