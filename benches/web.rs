//! Load test of the web workspace (run by `make bench` through scripts/bench_web.sh): an archive of
//! generated articles (English, Russian, Chinese; tagged with the repository's codebooks, spread over the
//! repository's feeds and 180 days) is served on 127.0.0.1 by the real router, and `wrk` drives the
//! search page and the search API with 32 connections for 10 s each, through a Lua script that cycles
//! a query mix (see [`query_mix`]: 1,500 distinct searches drawn Zipf-like, so that no single cached
//! answer carries the run). Prints requests/s, p99 and the server's CPU per request per route, what the
//! search cache served, and PASS/MISS against the target p99 < 100 ms. The server's caches are emptied
//! before each route.
//!
//! Sizes: MW_BENCH_WEB_ARTICLES (default 20,000; `make bench` runs 1,000,000), MW_BENCH_WEB_SECS (10),
//! MW_BENCH_WEB_CONNS (32). MW_BENCH_WEB_DIR keeps the archive in that folder and reuses it when it
//! holds as many articles (building 1,000,000 takes minutes).
//! Without `--bench` (under `cargo test --all-targets`) a smoke run: 300 articles, a few requests over
//! a plain socket, no wrk.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use mediawatch::index::Archive;
use mediawatch::model::{Article, LangInfo};
use mediawatch::search::{SearchCache, DEFAULT_CACHE_BYTES};
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

/// Distinct searches in the load test's mix, and the length of the request sequence drawn from them.
const MIX_DISTINCT: usize = 1500;
const MIX_DRAWS: usize = 60_000;

/// The query strings of the load test: `MIX_DISTINCT` distinct (query, filters, order, page)
/// combinations drawn from the archive's vocabularies (broad single words of each language, pairs,
/// quoted phrases, an empty query), filtered by campaign, language, feed or a date window, then
/// `MIX_DRAWS` requests drawn from them Zipf-like (rank r with weight 1/r: a few searches are
/// frequent, most are rare), seeded so runs are comparable. Returns (sequence, distinct in it).
fn query_mix(config: &mediawatch::config::Config) -> (Vec<String>, usize) {
    let mut rng = Rng(0x5EED_0F5E_A2C4);
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let start = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("a valid day");
    let mut distinct: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while distinct.len() < MIX_DISTINCT {
        let q = match rng.next() % 10 {
            0 => String::new(),
            1..=3 => rng.pick(EN).to_string(),
            4 => rng.pick(RU).to_string(),
            5 => rng.pick(ZH).to_string(),
            6 | 7 => format!("{} {}", rng.pick(EN), rng.pick(EN)),
            _ => format!("\"{}\"", rng.pick(PHRASES)),
        };
        let mut params = vec![format!("q={}", enc(&q))];
        let filters = rng.next() % 8;
        if filters & 1 == 1 && !config.campaigns.is_empty() {
            let c = &config.campaigns[(rng.next() % config.campaigns.len() as u64) as usize];
            params.push(format!("campaign={}", enc(&c.id)));
        }
        if filters & 2 == 2 {
            params.push(format!("lang={}", rng.pick(&["en", "ru", "zh"])));
        }
        if filters & 4 == 4 {
            let from = start + chrono::Duration::days((rng.next() % 170) as i64);
            let to = from + chrono::Duration::days(1 + (rng.next() % 30) as i64);
            params.push(format!("since={from}&until={to}"));
        }
        if rng.next() % 6 == 0 {
            let feed = &config.feeds[(rng.next() % config.feeds.len() as u64) as usize];
            params.push(format!("feed={}", enc(&feed.id)));
        }
        if rng.next() % 4 == 0 {
            params.push("sort=newest".into());
        }
        if rng.next() % 5 == 0 {
            params.push(format!("page={}", 2 + rng.next() % 3));
        }
        let path = params.join("&");
        if seen.insert(path.clone()) {
            distinct.push(path);
        }
    }
    // Zipf over the ranks: cumulative weights 1/r, one draw by binary search each.
    let mut cumulative = Vec::with_capacity(distinct.len());
    let mut sum = 0.0;
    for r in 1..=distinct.len() {
        sum += 1.0 / r as f64;
        cumulative.push(sum);
    }
    let mut drawn = std::collections::HashSet::new();
    let sequence = (0..MIX_DRAWS)
        .map(|_| {
            let x = (rng.next() % 1_000_000_007) as f64 / 1_000_000_007.0 * sum;
            let rank = cumulative
                .partition_point(|&c| c < x)
                .min(distinct.len() - 1);
            drawn.insert(rank);
            distinct[rank].clone()
        })
        .collect();
    (sequence, drawn.len())
}

/// A wrk script that sends `route?<query>` for each query of `mix` in turn; each wrk thread starts at
/// its own place in the sequence.
fn wrk_script(route: &str, mix: &[String]) -> String {
    let mut lua = String::from("local paths = {\n");
    for q in mix {
        lua.push_str(&format!(
            "  \"{route}?{}\",\n",
            q.replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    lua.push_str(
        "}\nlocal n = 0\nlocal i = 0\nfunction setup(thread)\n  thread:set(\"start\", n * 7919)\n  n = n + 1\nend\n\
         function init(args)\n  i = tonumber(start) or 0\nend\n\
         function request()\n  i = i + 1\n  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n",
    );
    lua
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
    // MW_BENCH_WEB_DIR keeps the archive there and reuses it when it holds `n` articles (building
    // 1,000,000 takes minutes: one build serves a before and an after run).
    let tmp = tempfile::tempdir()?;
    let dir = match std::env::var_os("MW_BENCH_WEB_DIR") {
        Some(d) => std::path::PathBuf::from(d),
        None => tmp.path().to_path_buf(),
    };
    let existing = Archive::open(&dir).map(|a| a.num_articles()).ok();
    if existing == Some(n as u64) {
        println!(
            "web: reusing the archive of {n} articles in {}",
            dir.display()
        );
    } else {
        anyhow::ensure!(
            existing.is_none(),
            "{} holds an archive of {} articles, not {n}: remove it or choose another MW_BENCH_WEB_DIR",
            dir.display(),
            existing.unwrap_or(0)
        );
        std::fs::create_dir_all(&dir)?;
        let started = Instant::now();
        build_archive(&dir, &config, n)?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "web: archive of {n} generated articles in {secs:.1} s ({:.0} articles/s, tagging included)",
            n as f64 / secs
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        // Two servers of the same archive: as deployed, and without answers or counts kept (every
        // request computed: what a search not seen since the last commit costs).
        let mut servers = Vec::new();
        for (label, budget) in [("cached", DEFAULT_CACHE_BYTES), ("nothing kept", 0)] {
            let mut state = AppState::new(config.clone(), Archive::open(&dir)?, None);
            state.search_cache = SearchCache::new(budget);
            let state = Arc::new(state);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let router = web::router(state.clone());
            tokio::spawn(async move { axum::serve(listener, router).await });
            servers.push((label, state, addr));
        }
        let addr = servers[0].2;
        let routes = [("search page", "/search"), ("search API", "/api/search")];
        let (mix, drawn) = query_mix(&config);
        // Every search of the mix is valid: a sample of the distinct ones answers 200 on both routes.
        let mut sample: Vec<&String> = mix.iter().collect();
        sample.sort();
        sample.dedup();
        // (Few under --bench: each would warm the server's caches before the timed run.)
        for q in sample.iter().step_by(if bench_mode { 150 } else { 10 }) {
            for (_, route) in routes {
                let path = format!("{route}?{q}");
                let status = get(addr, &path).await?;
                anyhow::ensure!(status.contains(" 200 "), "{path}: {status}");
            }
        }
        println!(
            "web: query mix of {} requests over {drawn} distinct searches (Zipf-like over {MIX_DISTINCT}; the most frequent is {:.1}% of requests)",
            mix.len(),
            100.0 / (1..=MIX_DISTINCT).map(|r| 1.0 / r as f64).sum::<f64>()
        );
        if !bench_mode {
            println!("web: smoke run (no --bench): routes answer 200; load test skipped");
            return Ok(());
        }
        // Where a search page's time goes, in this thread alone (no load).
        {
            let archive = Archive::open(&dir)?;
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
            // The web's miss: through a cache that keeps no answer and no count, its facet tables
            // read (the first call).
            let tables = SearchCache::new(0);
            let started = Instant::now();
            mediawatch::search::overview_cached(&archive, &tables, &req)?;
            println!(
                "web: probe, ms per call: overview through the facet tables {:.2} (reading the tables of {} articles, once: {:.0} ms, {:.1} MB)",
                time(&|| mediawatch::search::overview_cached(&archive, &tables, &req).map(|_| ()))?,
                archive.num_articles(),
                started.elapsed().as_secs_f64() * 1000.0,
                tables.stats().table_bytes as f64 / 1e6
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
        for ((name, route), (label, state, addr)) in servers
            .iter()
            .flat_map(|server| routes.iter().map(move |route| (*route, server)))
        {
            let url = format!("http://{addr}");
            let script = tmp.path().join(format!("mix{}.lua", route.replace('/', "_")));
            std::fs::write(&script, wrk_script(route, &mix))?;
            // Each route starts with empty caches (the page's answers would serve the API's run).
            state.search_cache.clear();
            let cache_before = state.search_cache.stats();
            let cpu_before = process_cpu_ms();
            let out = tokio::task::spawn_blocking({
                let script = script.display().to_string();
                move || {
                    Command::new("wrk")
                        .args(["-t2", &format!("-c{conns}"), &format!("-d{secs}s"), "--latency", "-s", &script, &url])
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
            let cache = state.search_cache.stats();
            let answers = cache.answer_hits - cache_before.answer_hits;
            let computed = cache.answer_misses - cache_before.answer_misses;
            let segments = cache.count_hits - cache_before.count_hits;
            let counted = cache.count_misses - cache_before.count_misses;
            println!(
                "web {name} ({label}): cache: {answers} answers served, {computed} computed ({:.0}% served); segment counts {segments} served, {counted} counted; {} answers and {} segment counts held, ~{:.1} MB",
                100.0 * answers as f64 / (answers + computed).max(1) as f64,
                cache.answers,
                cache.counts,
                cache.bytes as f64 / 1e6
            );
            let pass = p99 < 100.0 && non2xx.is_none();
            missed |= !pass;
            println!(
                "web {name} ({label}): {route} (query mix) articles={n} connections={conns} duration={secs}s requests_per_s={rps:.0} p99_ms={p99:.1} server_cpu_ms_per_request={cpu_ms_per_request} target_p99_ms=100 {}{}",
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
