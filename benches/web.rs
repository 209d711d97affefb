//! Load test of the web workspace (run by `make bench` through scripts/bench_web.sh): an archive of
//! generated articles (English, Russian, Chinese; tagged with the repository's codebooks, spread over the
//! repository's feeds and 180 days) is served on 127.0.0.1 by the real router, and `wrk` drives the
//! search page and the search API with 32 connections for 10 s each. Prints requests/s and p99 per route
//! and PASS/MISS against the target p99 < 100 ms.
//!
//! Sizes: MW_BENCH_WEB_ARTICLES (default 20,000), MW_BENCH_WEB_SECS (10), MW_BENCH_WEB_CONNS (32).
//! Without `--bench` (under `cargo test --all-targets`) a smoke run: 300 articles, a few requests over
//! a plain socket, no wrk.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use mediawatch::index::Archive;
use mediawatch::model::{Article, LangInfo};
use mediawatch::tag::{TagInput, Tagger};
use mediawatch::web::{self, AppState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const EN: &[&str] = &[
    "the",
    "government",
    "said",
    "talks",
    "officials",
    "would",
    "continue",
    "capital",
    "meeting",
    "president",
    "minister",
    "foreign",
    "military",
    "exercise",
    "island",
    "strait",
    "trade",
    "economy",
    "sanctions",
    "report",
    "statement",
    "week",
    "security",
    "border",
    "analysts",
    "agreement",
    "sides",
];
const RU: &[&str] = &[
    "правительство",
    "заявило",
    "переговоры",
    "продолжатся",
    "столице",
    "встречи",
    "президент",
    "министр",
    "учения",
    "граница",
    "экономика",
    "санкции",
    "безопасность",
    "аналитики",
    "ожидают",
];
const ZH: &[&str] = &[
    "政府",
    "表示",
    "会谈",
    "继续",
    "首都",
    "会见",
    "总统",
    "外交部",
    "军事",
    "演习",
    "海峡",
    "贸易",
    "经济",
    "制裁",
    "报告",
    "声明",
    "安全",
    "边境",
    "分析人士",
    "协议",
];
const PHRASES: &[&str] = &[
    "national reunification",
    "Taiwan independence forces",
    "arms sales to Taiwan",
    "denazification",
    "Kyiv regime",
    "collective West",
    "NATO expansion",
    "祖国统一",
    "台独势力",
    "денацификация",
];

/// Deterministic xorshift, so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[(self.next() % words.len() as u64) as usize]
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn build_archive(dir: &Path, config: &mediawatch::config::Config, n: usize) -> anyhow::Result<()> {
    let tagger = Tagger::new(&config.campaigns)?;
    let archive = Archive::open_or_create(dir)?;
    let mut w = archive.writer()?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let start = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    for i in 0..n {
        let (words, sep, lang, script) = match i % 4 {
            0 | 1 => (EN, " ", "en", "Latn"),
            2 => (RU, " ", "ru", "Cyrl"),
            _ => (ZH, "", "zh", "Hans"),
        };
        let mut text = String::new();
        while text.len() < 2500 {
            for _ in 0..12 {
                text.push_str(rng.pick(words));
                text.push_str(sep);
            }
            if rng.next() % 8 == 0 {
                text.push_str(rng.pick(PHRASES));
                text.push_str(sep);
            }
            text.push_str(if lang == "zh" { "。" } else { ".\n\n" });
        }
        let title: String = (0..8)
            .map(|_| rng.pick(words))
            .collect::<Vec<_>>()
            .join(sep);
        let feed = &config.feeds[(rng.next() % config.feeds.len() as u64) as usize];
        let published = start + chrono::Duration::minutes((rng.next() % (180 * 24 * 60)) as i64);
        let url = format!("{}bench/{i}", feed.url);
        let campaigns = tagger.tag(&TagInput::for_feed(feed, &title, &text, lang));
        w.upsert(&Article {
            id: mediawatch::pipeline::article_id(&url),
            final_url: url.clone(),
            url,
            feed: feed.id.clone(),
            source_name: feed.name.clone(),
            affiliation: feed.affiliation,
            country: feed.country.clone(),
            lang: LangInfo {
                lang: lang.into(),
                script: Some(script.into()),
                confidence: 0.9,
                reliable: true,
            },
            title,
            text,
            description: None,
            authors: vec![],
            published: Some(published),
            modified: None,
            fetched_at: published,
            canonical_url: None,
            site_name: None,
            image: None,
            section: None,
            tags: vec![],
            campaigns,
            http_status: 200,
            text_source: "page".into(),
            cluster: None,
            post: None,
            revision: None,
        })?;
    }
    w.commit()?;
    Ok(())
}

/// One GET over a plain socket: the status line.
async fn get(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<String> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    let text = String::from_utf8_lossy(&out);
    Ok(text.lines().next().unwrap_or("").to_string())
}

/// User + system CPU time of this process so far, in ms (from /proc/self/stat, in clock ticks of
/// 10 ms).
fn process_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at state; utime and stime are the
    // 14th and 15th fields of the line.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
}

/// Requests/s and p99 (ms) from wrk's output with --latency.
fn parse_wrk(out: &str) -> Option<(f64, f64)> {
    let rps = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))?
        .trim()
        .parse()
        .ok()?;
    let p99 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))?
        .trim();
    let ms = if let Some(v) = p99.strip_suffix("us") {
        v.parse::<f64>().ok()? / 1000.0
    } else if let Some(v) = p99.strip_suffix("ms") {
        v.parse().ok()?
    } else if let Some(v) = p99.strip_suffix('s') {
        v.parse::<f64>().ok()? * 1000.0
    } else {
        return None;
    };
    Some((rps, ms))
}

fn main() -> anyhow::Result<()> {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let n = env_usize(
        "MW_BENCH_WEB_ARTICLES",
        if bench_mode { 20_000 } else { 300 },
    );
    let secs = env_usize("MW_BENCH_WEB_SECS", 10);
    let conns = env_usize("MW_BENCH_WEB_CONNS", 32);
    let config =
        mediawatch::config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml"))?;
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    build_archive(dir.path(), &config, n)?;
    println!(
        "web: archive of {n} generated articles in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let archive = Archive::open(dir.path())?;
        let state = Arc::new(AppState::new(config.clone(), archive, None));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, web::router(state)).await });
        let routes = [
            ("search page", "/search?q=sanctions+talks&sort=relevance"),
            ("search API", "/api/search?q=reunification&lang=en"),
        ];
        for (_, path) in routes {
            let status = get(addr, path).await?;
            anyhow::ensure!(status.contains(" 200 "), "{path}: {status}");
        }
        if !bench_mode {
            println!("web: smoke run (no --bench): routes answer 200; load test skipped");
            return Ok(());
        }
        // Where a search page's time goes, in this thread alone (no load).
        {
            let archive = Archive::open(dir.path())?;
            let req = mediawatch::search::SearchRequest {
                query: "sanctions talks".into(),
                limit: 20,
                ..Default::default()
            };
            let time = |f: &dyn Fn() -> anyhow::Result<()>| -> anyhow::Result<f64> {
                f()?;
                let t = Instant::now();
                for _ in 0..20 {
                    f()?;
                }
                Ok(t.elapsed().as_secs_f64() * 1000.0 / 20.0)
            };
            let matches = mediawatch::search::search(&archive, &req)?.total;
            let mut no_text = req.clone();
            no_text.query = "title:sanctions AND title:talks".into();
            println!(
                "web: probe of q=\"sanctions talks\" ({matches} matches), ms per call: search {:.2} | overview (search + facets + timeline) {:.2} | facets {:.2} | histogram {:.2} | count only {:.2}",
                time(&|| mediawatch::search::search(&archive, &req).map(|_| ()))?,
                time(&|| mediawatch::search::overview(&archive, &req).map(|_| ()))?,
                time(&|| mediawatch::search::facets(&archive, &req).map(|_| ()))?,
                time(&|| mediawatch::search::histogram(&archive, &req, mediawatch::search::Interval::Day).map(|_| ()))?,
                time(&|| {
                    let q = mediawatch::search::build_query(&archive, &req)?;
                    archive.searcher().search(&*q, &tantivy::collector::Count)?;
                    Ok(())
                })?,
            );
            let (archive, req) = (&archive, &req);
            let top = |read: bool| {
                move || -> anyhow::Result<()> {
                    let q = mediawatch::search::build_query(archive, req)?;
                    let searcher = archive.searcher();
                    let top = searcher.search(&*q, &tantivy::collector::TopDocs::with_limit(20).order_by_score())?;
                    if read {
                        for (_, a) in top {
                            archive.article(&searcher, a)?;
                        }
                    }
                    Ok(())
                }
            };
            println!(
                "web: probe, ms per call: top 20 ids {:.2} | + read the 20 articles {:.2}",
                time(&top(false))?,
                time(&top(true))?
            );
        }
        let mut missed = false;
        for (name, path) in routes {
            let url = format!("http://{addr}{path}");
            let cpu_before = process_cpu_ms();
            let out = tokio::task::spawn_blocking({
                let url = url.clone();
                move || {
                    Command::new("wrk")
                        .args(["-t2", &format!("-c{conns}"), &format!("-d{secs}s"), "--latency", &url])
                        .output()
                }
            })
            .await?;
            let out = match out {
                Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
                Ok(o) => anyhow::bail!("wrk failed: {}", String::from_utf8_lossy(&o.stderr)),
                Err(e) => {
                    println!("web: wrk not found ({e}): install Debian's wrk; load test skipped");
                    return Ok(());
                }
            };
            let Some((rps, p99)) = parse_wrk(&out) else {
                anyhow::bail!("cannot read wrk's output:\n{out}");
            };
            // The server's CPU time per request (this process only, not wrk's): unlike requests/s it
            // does not move with whatever else the machine runs.
            let requests = out
                .split_whitespace()
                .zip(out.split_whitespace().skip(1))
                .find(|(_, w)| *w == "requests")
                .and_then(|(n, _)| n.parse::<f64>().ok())
                .unwrap_or(0.0);
            let cpu_ms_per_request = match (cpu_before, process_cpu_ms()) {
                (Some(a), Some(b)) if requests > 0.0 => format!("{:.2}", (b - a) / requests),
                _ => "-".into(),
            };
            // Requests that time out or fail are not in wrk's latency figures: they make it a MISS.
            let non2xx = out
                .lines()
                .find(|l| l.contains("Non-2xx") || l.contains("Socket errors"));
            let pass = p99 < 100.0 && non2xx.is_none();
            missed |= !pass;
            println!(
                "web {name}: {path} articles={n} connections={conns} duration={secs}s requests_per_s={rps:.0} p99_ms={p99:.1} server_cpu_ms_per_request={cpu_ms_per_request} target_p99_ms=100 {}{}",
                if pass { "PASS" } else { "MISS" },
                non2xx.map(|l| format!(" ({})", l.trim())).unwrap_or_default()
            );
        }
        if missed {
            println!("web: a target was missed (reported, not gating)");
        }
        Ok(())
    })
}
