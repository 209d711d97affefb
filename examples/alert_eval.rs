//! How long evaluating the alerts after a commit takes (issue #27's target: 1,000 alerts against a
//! commit of 256 articles under 100 ms): builds an archive of BASE synthetic articles (default 20,000),
//! commits 256 more and journals them as the pipeline does, then times `alert::eval::evaluate` with
//! 1,000 alerts (terms, phrases, OR, filters). A first look before `make bench` gets its bench. Run in
//! release:
//!
//! ```text
//! cargo run --release --example alert_eval -- [BASE] [ALERTS]
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)] // a measurement tool: a panic is the report

use std::time::Instant;

use chrono::{Duration, Utc};
use mediawatch::index::Archive;
use mediawatch::model::{
    Affiliation, AlertBatch, AlertOn, AlertSpec, Article, CampaignHit, LangInfo,
};
use mediawatch::store::Store;

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

fn article(i: u64) -> Article {
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
    }
}

fn alert(k: usize) -> AlertSpec {
    let a = WORDS[k % WORDS.len()];
    let b = WORDS[(k / WORDS.len() + 1) % WORDS.len()];
    if std::env::var_os("ALERT_EVAL_RARE").is_some() {
        // Alerts that match nothing: the fixed cost of each alert's search.
        return AlertSpec {
            query: format!("nomatch{k} OR \"never {a}\""),
            ..alert_with(k, String::new())
        };
    }
    let query = match k % 4 {
        0 => a.to_string(),
        1 => format!("{a} AND {b}"),
        2 => format!("\"the {a}\" OR {b}"),
        _ => format!("{a} -{b}"),
    };
    alert_with(k, query)
}

fn alert_with(k: usize, query: String) -> AlertSpec {
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

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let base: u64 = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    let n_alerts: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1_000);
    let tmp = tempfile::tempdir()?;
    let archive = Archive::open_or_create(tmp.path())?;
    let store = Store::open(tmp.path())?;
    let mut writer = archive.writer()?;
    for i in 0..base {
        writer.upsert(&article(i))?;
    }
    writer.commit()?;
    let alerts: Vec<AlertSpec> = (0..n_alerts).map(alert).collect();
    mediawatch::alert::eval::init_marks(&store, &alerts)?;
    let mut times = Vec::new();
    for round in 0..5u64 {
        let ids: Vec<String> = (0..256)
            .map(|j| {
                let a = article(base + round * 256 + j);
                writer.upsert(&a).unwrap();
                a.id
            })
            .collect();
        store.journal_alert_batch(&ids)?;
        writer.commit()?;
        archive.reload()?;
        let t = Instant::now();
        let done = mediawatch::alert::eval::evaluate(&archive, &store, &alerts, Utc::now())?;
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        println!(
            "commit {round}: {n_alerts} alerts over 256 new articles (archive {}): {ms:.1} ms, {} messages, {} articles",
            base + (round + 1) * 256,
            done.messages,
            done.articles
        );
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "median {:.1} ms, max {:.1} ms",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    Ok(())
}
