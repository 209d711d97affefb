//! Attention share and compare at archive scale (issue #28): a synthetic archive of short articles
//! (default 1,000,000; MW_BENCH_COMPARE_ARTICLES) over 52 weeks from 40 feeds, with three topic words
//! at known rates (taiwan 5%, sanctions 3%, summit 1%), then, each timed over many runs (p50, p90):
//!
//! - `compare` of the 3 queries × 52 weeks (`search::compare`, counts; target p50 < 200 ms, PASS/MISS),
//!   the same with `normalize` (totals and shares), and split by affiliation with `normalize`;
//! - the weekly histogram of one query, plain (`search::histogram`) and normalised
//!   (`search::histogram_normalized`: the same plus a second pass over the source filters): the ratio.
//!
//! MW_BENCH_COMPARE_DIR keeps the archive there (reused when it holds N articles). Without `--bench`
//! (under `cargo test --all-targets`) a smoke run of 3,000 articles that checks the answers and no target.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool: a panic is the report

#[path = "common/synth.rs"]
mod synth;

use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use mediawatch::index::Archive;
use mediawatch::model::{Affiliation, Article, LangInfo};
use mediawatch::search::{self, By, CompareRequest, Interval, SearchRequest};

const FEEDS: usize = 40;
const WEEKS: i64 = 52;
/// (word, articles per 1,000 that hold it)
const TOPICS: [(&str, usize); 3] = [("taiwan", 50), ("sanctions", 30), ("summit", 10)];

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 12, 1).unwrap() // a Monday
}

fn article(i: usize, n: usize) -> Article {
    let f = i % FEEDS;
    let mut rng = synth::Lcg::new(i, 28);
    let span = WEEKS * 7 * 86_400;
    let secs = (i as i128 * span as i128 / n as i128) as i64;
    let published = Utc.from_utc_datetime(&first_day().and_hms_opt(0, 0, 0).unwrap())
        + chrono::Duration::seconds(secs);
    let mut words: Vec<&str> = (0..14)
        .map(|_| synth::WORDS[rng.next(synth::WORDS.len())])
        .collect();
    for (k, (word, per_mille)) in TOPICS.iter().enumerate() {
        // Feeds differ: state feeds (f % 3 == 0) say the topics twice as often.
        let rate = if f % 3 == 0 {
            per_mille * 2
        } else {
            *per_mille
        };
        if synth::Lcg::new(i, 100 + k as u64).next(1000) < rate {
            words.insert(rng.next(words.len()), word);
        }
    }
    let url = format!("http://f{f}.example/a/{i}");
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
            lang: "en".into(),
            script: Some("Latn".into()),
            confidence: 1.0,
            reliable: true,
        },
        title: format!("Report {i}"),
        text: words.join(" "),
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
        campaigns: vec![],
        http_status: 200,
        text_source: "page".into(),
        cluster: None,
        post: None,
        revision: None,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let k = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// Runs `f` `runs` times after two untimed runs: (p50, p90) in ms.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    for _ in 0..2 {
        std::hint::black_box(f());
    }
    let mut ms: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    (percentile(&ms, 0.5), percentile(&ms, 0.9))
}

fn main() -> anyhow::Result<()> {
    let bench = std::env::args().any(|a| a == "--bench");
    let n: usize = if bench {
        std::env::var("MW_BENCH_COMPARE_ARTICLES")
            .ok()
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(1_000_000)
    } else {
        3_000
    };
    let runs = if bench { 21 } else { 3 };
    let tmp = tempfile::tempdir()?;
    let dir = std::env::var("MW_BENCH_COMPARE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    let archive = Archive::open_or_create(&dir)?;
    if archive.num_articles() != n as u64 {
        anyhow::ensure!(
            archive.num_articles() == 0,
            "{} holds another archive",
            dir.display()
        );
        let t = Instant::now();
        let mut w = archive.writer()?;
        for i in 0..n {
            w.upsert(&article(i, n))?;
            if i % 200_000 == 199_999 {
                w.commit()?;
                eprintln!("indexed {} in {:.0?}", i + 1, t.elapsed());
            }
        }
        w.commit()?;
        w.finish()?;
        archive.reload()?;
        eprintln!("indexed {n} articles in {:.1?}", t.elapsed());
    }
    archive.reload()?;
    println!(
        "archive: {} articles in {} segments",
        archive.num_articles(),
        archive.searcher().segment_readers().len()
    );

    let until = first_day() + chrono::Duration::days(WEEKS * 7 - 1);
    let filters = SearchRequest {
        since: Some(first_day()),
        until: Some(until),
        ..Default::default()
    };
    let request = |normalize: bool, by: Option<By>| CompareRequest {
        queries: TOPICS.iter().map(|(w, _)| w.to_string()).collect(),
        filters: filters.clone(),
        by,
        interval: Interval::Week,
        normalize,
    };

    // The answers first: 3 series of 52 weeks, each the search's own count.
    let c = search::compare(&archive, &request(true, None))?;
    assert_eq!(c.series.len(), 3);
    for s in &c.series {
        assert_eq!(s.rows.len(), WEEKS as usize, "{}", s.label);
        let sum: u64 = s.rows.iter().map(|r| r.count).sum();
        let total = search::search(
            &archive,
            &SearchRequest {
                query: s.query.clone(),
                limit: 1,
                ..filters.clone()
            },
        )?
        .total as u64;
        assert_eq!(sum, total, "{}", s.label);
        let all: u64 = s.rows.iter().filter_map(|r| r.total).sum();
        assert_eq!(all, n as u64);
        println!(
            "  {:<10} {total:>8} matches, {:.2}% of the archive",
            s.label,
            100.0 * total as f64 / n as f64
        );
    }

    let target = Duration::from_millis(200).as_secs_f64() * 1000.0;
    let verdict = |p50: f64| match (bench, p50 < target) {
        (false, _) => "smoke run",
        (true, true) => "PASS",
        (true, false) => "MISS",
    };
    let (p50, p90) = time(runs, || {
        search::compare(&archive, &request(false, None)).unwrap()
    });
    println!(
        "compare 3 queries x 52 weeks:                  p50 {p50:8.1} ms  p90 {p90:8.1} ms  (target p50 < {target:.0} ms: {})",
        verdict(p50)
    );
    let (p50n, p90n) = time(runs, || {
        search::compare(&archive, &request(true, None)).unwrap()
    });
    println!(
        "compare 3 queries x 52 weeks, normalize:       p50 {p50n:8.1} ms  p90 {p90n:8.1} ms  ({})",
        verdict(p50n)
    );
    let (p50b, p90b) = time(runs, || {
        search::compare(&archive, &request(true, Some(By::Affiliation))).unwrap()
    });
    println!("compare 3 queries x 52 weeks, by affiliation, normalize: p50 {p50b:8.1} ms  p90 {p90b:8.1} ms");

    let one = SearchRequest {
        query: TOPICS[0].0.into(),
        ..filters.clone()
    };
    let (h50, h90) = time(runs, || {
        search::histogram(&archive, &one, Interval::Week).unwrap()
    });
    let (s50, s90) = time(runs, || {
        search::histogram_normalized(&archive, &one, Interval::Week).unwrap()
    });
    println!(
        "histogram by week of {:?}, plain:      p50 {h50:8.1} ms  p90 {h90:8.1} ms",
        one.query
    );
    println!(
        "histogram by week of {:?}, normalized: p50 {s50:8.1} ms  p90 {s90:8.1} ms",
        one.query
    );
    println!(
        "normalized / plain histogram (p50): {:.2}x",
        s50 / h50.max(1e-9)
    );
    Ok(())
}
