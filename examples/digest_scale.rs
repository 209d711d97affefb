//! How the digest scales: builds an on-disk archive of N synthetic articles (default 1,000,000) spread
//! over a year, then times `digest::load` + `build_digest` + rendering for the last day, a week and a
//! month. Run in release:
//!
//! ```text
//! cargo run --release --example digest_scale -- 1000000 [INDEX_DIR]
//! ```
//!
//! With INDEX_DIR the archive is kept (and reused when it already has N articles).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool: a panic is the report

use std::path::PathBuf;
use std::time::Instant;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use mediawatch::digest::{self, DigestFormat};
use mediawatch::index::Archive;
use mediawatch::model::{Affiliation, Article, CampaignHit, LangInfo, TermHit};

const FEEDS: usize = 40;
const CAMPAIGNS: [&str; 5] = ["taiwan", "hk", "ukraine", "nato", "sanctions"];
const DAYS: i64 = 365;

fn config() -> mediawatch::config::Config {
    let mut toml = String::new();
    for f in 0..FEEDS {
        let aff = ["state", "independent", "unknown"][f % 3];
        let country = ["CN", "RU", "TW", "US"][f % 4];
        toml.push_str(&format!(
            "[[feeds]]\nid = \"f{f}\"\nurl = \"http://f{f}.example/rss\"\naffiliation = \"{aff}\"\ncountry = \"{country}\"\n"
        ));
    }
    for c in CAMPAIGNS {
        toml.push_str(&format!(
            "[[campaigns]]\nid = \"{c}\"\nname = \"{c}\"\n[campaigns.terms]\nen = [\"{c}\"]\n"
        ));
    }
    mediawatch::config::parse(&toml, std::path::Path::new("feeds.toml")).unwrap()
}

fn article(i: u64, n: u64, last_day: NaiveDate) -> Article {
    let f = (i % FEEDS as u64) as usize;
    let start = Utc.from_utc_datetime(
        &(last_day - Duration::days(DAYS - 1))
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    );
    let secs = (i as i128 * (DAYS as i128 * 86_400) / n as i128) as i64;
    let published = start + Duration::seconds(secs);
    let url = format!("http://f{f}.example/a/{i}");
    let id = format!("{i:016x}");
    // ~6% of articles are tagged; 1% are copies of the article 7 before (another feed).
    let campaigns = if i % 17 == 0 {
        let c = CAMPAIGNS[(i / 17 % CAMPAIGNS.len() as u64) as usize];
        vec![CampaignHit {
            id: c.into(),
            score: (i % 5) as f64 + 1.0,
            terms: vec![TermHit {
                term: c.into(),
                lang: "en".into(),
                count: 1,
                positions: vec![],
            }],
        }]
    } else {
        vec![]
    };
    let cluster = if i % 100 == 7 {
        format!("{:016x}", i - 7)
    } else {
        id.clone()
    };
    Article {
        id,
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
        title: format!("Synthetic headline number {i}"),
        text: format!("Synthetic body {i} about the strait, the front and the summit."),
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
        cluster: Some(cluster),
        post: None,
        revision: None,
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let keep = args.next().map(PathBuf::from);
    let tmp = tempfile::tempdir()?;
    let dir = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let last_day = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    let archive = Archive::open_or_create(&dir)?;
    if archive.num_articles() != n {
        anyhow::ensure!(
            archive.num_articles() == 0,
            "{} holds another archive",
            dir.display()
        );
        let t = Instant::now();
        let mut w = archive.writer()?;
        for i in 0..n {
            w.upsert(&article(i, n, last_day))?;
            if i % 200_000 == 199_999 {
                w.commit()?;
                eprintln!("indexed {} in {:.0?}", i + 1, t.elapsed());
            }
        }
        w.commit()?;
        drop(w);
        archive.reload()?;
        eprintln!("indexed {n} articles in {:.1?}", t.elapsed());
    }
    archive.reload()?;
    let searcher = archive.searcher();
    println!(
        "archive: {} articles in {} segments at {}",
        archive.num_articles(),
        searcher.segment_readers().len(),
        dir.display()
    );
    let config = config();
    for (label, from) in [
        ("day", last_day),
        ("week", last_day - Duration::days(6)),
        ("month", last_day - Duration::days(29)),
    ] {
        // Best of three (the first run also warms the page cache).
        let mut best = None;
        let mut total = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let data = digest::load(&archive, None, from, last_day)?;
            let d = digest::build_digest(&data, &config);
            let mut bytes = 0;
            for f in DigestFormat::ALL {
                bytes += digest::render(&d, f).len();
            }
            let e = t.elapsed();
            total = d.total;
            assert!(bytes > 0);
            best = Some(best.map_or(e, |b: std::time::Duration| b.min(e)));
        }
        println!(
            "digest {label} ({from}..={last_day}): {total} articles in the period, load+build+render {:.3?} (best of 3)",
            best.unwrap_or_default()
        );
    }
    Ok(())
}
