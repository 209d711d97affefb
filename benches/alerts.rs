//! Alerts benchmark (issue #27): `cargo bench --bench alerts` (or `make bench`).
//!
//! 1. **Evaluation**: an archive of `MW_BENCH_ALERT_ARCHIVE` synthetic articles (default 20,000), then
//!    `MW_BENCH_ALERT_COMMITS` commits (default 9) of 256 more, journaled as the pipeline journals them,
//!    each followed by `alert::eval::evaluate` with `MW_BENCH_ALERTS` alerts (default 1,000: terms,
//!    phrases, OR, NOT, filters). Two alert sets: alerts that match nothing (the fixed cost of an alert; the
//!    target, under 100 ms per commit) and alerts that almost all match (~50 articles read and snippeted
//!    per message: the worst case). Median and max per commit.
//! 2. **Commit to webhook**: the real pipeline against a local feed server (`common/http_site.rs`) with one
//!    new article per round, and a webhook receiver (axum) on 127.0.0.1 recording when each POST arrives;
//!    the config has the same number of alerts, one of which matches the new article. Each round runs
//!    `ingest_pass` beside `daemon::deliver_alerts` (as `run` does: woken by the pass that enqueued), and
//!    the delay is the POST's arrival minus the pass's last index commit (its payload time, taken just before
//!    the commit). `MW_BENCH_ALERT_ROUNDS` rounds (default 100); median, p99, max; target p99 under 1 s.
//!
//! Figures and PASS/MISS lines are printed; a MISS does not fail the process (benchmarks report, they do
//! not gate), an error does. Run without `--bench` (as `cargo test --all-targets` does), it is a quick
//! smoke run on small numbers that fails when the counts are not the expected ones.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool: a panic is the report

#[path = "common/http_site.rs"]
mod http_site;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use anyhow::{bail, Context as _};
use chrono::{DateTime, Duration, Utc};
use mediawatch::alert::deliver::Deliverer;
use mediawatch::index::Archive;
use mediawatch::model::{
    Affiliation, AlertBatch, AlertOn, AlertSpec, Article, CampaignHit, LangInfo,
};
use mediawatch::pipeline::{self, PassOptions};
use mediawatch::store::Store;

/// The binary's allocator, so the figures are those of `run`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Target: 1,000 alerts over a commit of 256 articles.
const TARGET_EVAL_MS: f64 = 100.0;
/// Target: p99 of commit to webhook receipt.
const TARGET_DELAY_P99_MS: f64 = 1000.0;
/// A POST not received this long after its pass is an error (the benchmark stops by itself).
const RECEIPT_TIMEOUT: StdDuration = StdDuration::from_secs(30);

const WORDS: [&str; 12] = [
    "strait",
    "summit",
    "front",
    "sanctions",
    "drills",
    "talks",
    "border",
    "election",
    "pipeline",
    "harbor",
    "satellite",
    "grain",
];

/// `name` from the environment, else `default`.
fn env_number(name: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000_000).contains(n))
            .with_context(|| format!("{name}={v:?} is not a number between 1 and 10000000")),
        Err(_) => Ok(default),
    }
}

fn synthetic(i: u64) -> Article {
    let f = (i % 40) as usize;
    let url = format!("http://f{f}.example/a/{i}");
    let w = |k: u64| WORDS[((i / k) % WORDS.len() as u64) as usize];
    let published = Utc::now() - Duration::minutes(i as i64 % 10_000);
    Article {
        id: format!("{i:016x}"),
        url: url.clone(),
        final_url: url,
        feed: format!("f{f}"),
        source_name: format!("Outlet {f}"),
        affiliation: [
            Affiliation::State,
            Affiliation::Independent,
            Affiliation::Unknown,
        ][f % 3],
        country: Some(["CN", "RU", "TW", "US"][f % 4].into()),
        lang: LangInfo {
            lang: ["en", "zh", "ru"][(i % 3) as usize].into(),
            script: None,
            confidence: 1.0,
            reliable: true,
        },
        title: format!("Headline {i} on the {} and the {}", w(1), w(7)),
        text: format!(
            "Body {i}: officials spoke about the {} near the {}, then the {} and the {}.",
            w(1),
            w(3),
            w(5),
            w(11)
        ),
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
        campaigns: if i % 17 == 0 {
            vec![CampaignHit {
                id: "taiwan".into(),
                score: 1.0,
                terms: vec![],
            }]
        } else {
            vec![]
        },
        http_status: 200,
        text_source: "page".into(),
        cluster: None,
        post: None,
        revision: None,
    }
}

/// Alert `k`: one that matches nothing (`rare`), else a mix of terms, AND, phrases with OR, NOT.
fn synthetic_alert(k: usize, rare: bool) -> AlertSpec {
    let a = WORDS[k % WORDS.len()];
    let b = WORDS[(k / WORDS.len() + 1) % WORDS.len()];
    let query = if rare {
        format!("nomatch{k} OR \"never {a}\"")
    } else {
        match k % 4 {
            0 => a.to_string(),
            1 => format!("{a} AND {b}"),
            2 => format!("\"the {a}\" OR {b}"),
            _ => format!("{a} -{b}"),
        }
    };
    AlertSpec {
        id: format!("a{k}"),
        name: format!("Alert {k}"),
        query,
        lang: (k % 5 == 0).then(|| "en".to_string()),
        campaign: (k % 7 == 0).then(|| "taiwan".to_string()),
        feed: None,
        affiliation: (k % 3 == 0).then(|| "state".to_string()),
        country: None,
        script: None,
        on: AlertOn::Match,
        batch: AlertBatch::Immediate,
        webhook: Some(url::Url::parse("http://127.0.0.1:9/hook").unwrap()),
        secret_env: None,
        email: vec![],
        atom: false,
    }
}

/// The median, p99 and max of `v` (sorted here).
fn percentiles(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
    (at(0.5), at(0.99), v[v.len() - 1])
}

/// Part 1: times `evaluate` over `commits` commits of 256 articles on an archive of `base`, for the
/// alerts that match nothing and those that almost all match. Returns a problem list for the smoke run.
fn evaluation(base: u64, n_alerts: usize, commits: u64) -> anyhow::Result<Vec<String>> {
    let tmp = tempfile::tempdir()?;
    let archive = Archive::open_or_create(&tmp.path().join("index"))?;
    // One store per alert set: each has its own journal and marks over the same commits.
    let sets: Vec<(&str, Vec<AlertSpec>, Store)> =
        [("match nothing", true), ("almost all match", false)]
            .into_iter()
            .enumerate()
            .map(|(i, (name, rare))| {
                let dir = tmp.path().join(format!("store{i}"));
                std::fs::create_dir_all(&dir)?;
                let alerts: Vec<AlertSpec> =
                    (0..n_alerts).map(|k| synthetic_alert(k, rare)).collect();
                let store = Store::open(&dir)?;
                mediawatch::alert::eval::init_marks(&store, &alerts)?;
                Ok((name, alerts, store))
            })
            .collect::<anyhow::Result<_>>()?;
    let mut writer = archive.writer()?;
    let t = Instant::now();
    for i in 0..base {
        writer.upsert(&synthetic(i))?;
    }
    writer.commit()?;
    println!(
        "archive of {base} synthetic articles built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); sets.len()];
    let mut messages = vec![0usize; sets.len()];
    for round in 0..commits {
        let ids: Vec<String> = (0..256)
            .map(|j| {
                let a = synthetic(base + round * 256 + j);
                writer.upsert(&a).map(|()| a.id)
            })
            .collect::<anyhow::Result<_>>()?;
        for (_, _, store) in &sets {
            store.journal_alert_batch(&ids)?;
        }
        writer.commit()?;
        archive.reload()?;
        for (s, (_, alerts, store)) in sets.iter().enumerate() {
            let t = Instant::now();
            let done = mediawatch::alert::eval::evaluate(&archive, store, alerts, Utc::now())?;
            times[s].push(t.elapsed().as_secs_f64() * 1000.0);
            messages[s] += done.messages;
        }
    }
    writer.finish()?;
    let mut problems = Vec::new();
    for (s, (name, _, _)) in sets.iter().enumerate() {
        let (median, _, max) = percentiles(&mut times[s]);
        println!(
            "evaluation, {n_alerts} alerts that {name}, {commits} commits of 256 (archive {base}+): median {median:.1} ms, max {max:.1} ms, {} messages",
            messages[s]
        );
        if s == 0 {
            println!(
                "{} evaluation: median {median:.1} ms (target < {TARGET_EVAL_MS} ms)",
                if median < TARGET_EVAL_MS {
                    "PASS"
                } else {
                    "MISS"
                }
            );
        }
    }
    if messages[0] != 0 {
        problems.push(format!(
            "alerts that match nothing sent {} messages",
            messages[0]
        ));
    }
    if messages[1] == 0 {
        problems.push("alerts that almost all match sent nothing".into());
    }
    Ok(problems)
}

/// The feed server of part 2: a feed of the newest three rounds' articles, and their pages.
struct FeedSite {
    round: AtomicU64,
    port: AtomicU32,
}

impl http_site::Site for FeedSite {
    fn respond(
        &self,
        path: &str,
        _if_none_match: Option<&str>,
    ) -> (&'static str, Vec<String>, Vec<u8>) {
        let round = self.round.load(Ordering::SeqCst);
        let port = self.port.load(Ordering::SeqCst);
        if path == "/robots.txt" {
            return (
                "200 OK",
                vec!["Content-Type: text/plain; charset=utf-8".into()],
                b"User-agent: *\nAllow: /\n".to_vec(),
            );
        }
        if path == "/feed.xml" {
            let pub_date = Utc::now().to_rfc2822();
            let items: String = (round.saturating_sub(2)..=round)
                .rev()
                .map(|r| {
                    format!(
                        "<item><title>Harbor report {r}</title><link>http://127.0.0.1:{port}/a/{r}.html</link>\
                         <guid>http://127.0.0.1:{port}/a/{r}.html</guid><pubDate>{pub_date}</pubDate>\
                         <description>The harbor, round {r}.</description></item>"
                    )
                })
                .collect();
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>Bench</title>{items}</channel></rss>"
            );
            return (
                "200 OK",
                vec!["Content-Type: application/rss+xml; charset=utf-8".into()],
                body.into_bytes(),
            );
        }
        if let Some(r) = path
            .strip_prefix("/a/")
            .and_then(|s| s.strip_suffix(".html"))
        {
            let para = format!(
                "<p>Officials at the harbor spoke at length on round {r} of the talks, the shipping lanes and \
                 the new customs rules, which traders said would slow the grain and the fuel coming in.</p>"
            );
            let body = format!(
                "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Harbor report {r}</title></head>\
                 <body><article><h1>Harbor report {r}</h1>{}</article></body></html>",
                para.repeat(6)
            );
            return (
                "200 OK",
                vec!["Content-Type: text/html; charset=utf-8".into()],
                body.into_bytes(),
            );
        }
        (
            "404 Not Found",
            vec!["Content-Type: text/plain".into()],
            b"not found".to_vec(),
        )
    }
}

/// A POST the receiver got: when, and its alert id.
type Receipt = (DateTime<Utc>, String);

/// Starts the webhook receiver on 127.0.0.1: every POST's arrival time and alert id go to the channel.
async fn receiver(
    tx: tokio::sync::mpsc::UnboundedSender<Receipt>,
) -> anyhow::Result<std::net::SocketAddr> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: axum::body::Bytes| {
            let at = Utc::now();
            let tx = tx.clone();
            async move {
                let alert = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["alert"].as_str().map(str::to_string))
                    .unwrap_or_default();
                let _ = tx.send((at, alert));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

/// Part 2: commit to webhook receipt over `rounds` passes with `n_alerts` alerts in the config.
async fn delay(rounds: u64, n_alerts: usize) -> anyhow::Result<Vec<String>> {
    let site = Arc::new(FeedSite {
        round: AtomicU64::new(0),
        port: AtomicU32::new(0),
    });
    let site_addr = http_site::start(Arc::clone(&site), "alerts-bench-site")?;
    site.port
        .store(u32::from(site_addr.port()), Ordering::SeqCst);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let hook_addr = receiver(tx).await?;
    let tmp = tempfile::tempdir()?;
    let mut config = format!(
        "[index]\npath = \"index\"\n\n[fetch]\nuser_agent = \"mediawatch-bench/0.1 (+alerts benchmark)\"\n\
         concurrency = 4\nper_host = 4\ntimeout_secs = 10\nallow_private_networks = true\nhost_delay_ms = 0\n\n\
         [[feeds]]\nid = \"bench\"\nurl = \"http://{site_addr}/feed.xml\"\nname = \"Bench outlet\"\n\
         affiliation = \"state\"\nlanguage = \"en\"\n\n\
         [[alerts]]\nid = \"hit\"\nquery = \"harbor\"\nwebhook = \"http://{hook_addr}/hook\"\n\n"
    );
    for k in 1..n_alerts {
        config += &format!(
            "[[alerts]]\nid = \"a{k}\"\nquery = 'nomatch{k} OR \"never {}\"'\nwebhook = \"http://{hook_addr}/hook\"\n\n",
            WORDS[k % WORDS.len()]
        );
    }
    let config_path = tmp.path().join("feeds.toml");
    std::fs::write(&config_path, config)?;
    let p = pipeline::open_from(&config_path)?;
    let deliverer = Deliverer::new("mediawatch-bench/0.1 (+alerts benchmark)")?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut commit_to_receipt = Vec::new();
    let mut commit_to_enqueued = Vec::new();
    let mut problems = Vec::new();
    let passes = async {
        let result: anyhow::Result<()> = async {
            for round in 0..rounds {
                site.round.store(round, Ordering::SeqCst);
                let report = pipeline::ingest_pass(&p, &PassOptions::default()).await?;
                let enqueued = Utc::now();
                if (report.articles_archived, report.alert_messages) != (1, 1) {
                    bail!("round {round}: expected 1 article and 1 message: {report}");
                }
                let commit = p
                    .archive
                    .stats()?
                    .last_commit
                    .context("the index's last commit has no time")?;
                let (at, alert) = tokio::time::timeout(RECEIPT_TIMEOUT, rx.recv())
                    .await
                    .with_context(|| format!("round {round}: no POST within {RECEIPT_TIMEOUT:?}"))?
                    .context("the receiver stopped")?;
                if alert != "hit" {
                    bail!("round {round}: the receiver got alert {alert:?}, not \"hit\"");
                }
                let ms = |d: Duration| d.num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0;
                commit_to_receipt.push(ms(at - commit));
                commit_to_enqueued.push(ms(enqueued - commit));
            }
            Ok(())
        }
        .await;
        let _ = stop.send(true);
        result
    };
    let (result, ()) = tokio::join!(
        passes,
        mediawatch::daemon::deliver_alerts(&p, &deliverer, None, stopped)
    );
    result?;
    p.finish_merges()?;
    let (median, p99, max) = percentiles(&mut commit_to_receipt);
    let (e_median, _, e_max) = percentiles(&mut commit_to_enqueued);
    println!(
        "commit to webhook receipt, {rounds} rounds, {n_alerts} alerts in the config: median {median:.1} ms, p99 {p99:.1} ms, max {max:.1} ms \
         (commit to the pass's end, the evaluation included: median {e_median:.1} ms, max {e_max:.1} ms)"
    );
    println!(
        "{} commit to webhook: p99 {p99:.1} ms (target < {TARGET_DELAY_P99_MS} ms)",
        if p99 < TARGET_DELAY_P99_MS {
            "PASS"
        } else {
            "MISS"
        }
    );
    if commit_to_receipt.iter().any(|d| *d < 0.0) {
        problems.push("a POST arrived before its commit".into());
    }
    Ok(problems)
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it: smoke run.
    let bench = std::env::args().any(|a| a == "--bench");
    let (base, n_alerts, commits, rounds) = if bench {
        (
            env_number("MW_BENCH_ALERT_ARCHIVE", 20_000)?,
            env_number("MW_BENCH_ALERTS", 1_000)?,
            env_number("MW_BENCH_ALERT_COMMITS", 9)?,
            env_number("MW_BENCH_ALERT_ROUNDS", 100)?,
        )
    } else {
        (2_000, 50, 2, 3)
    };
    let mut problems = evaluation(base as u64, n_alerts, commits as u64)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    problems.extend(rt.block_on(delay(rounds as u64, n_alerts))?);
    if !problems.is_empty() {
        bail!("alerts bench: {}", problems.join("; "));
    }
    Ok(())
}
