//! Benchmark of the understanding stages at archive scale (run by `make bench`):
//! - tagging articles/s with the repository's codebooks (all campaigns, one automaton);
//! - language detection articles/s;
//! - near-duplicate clustering: signature and insert+query cost per article with 100,000 articles indexed;
//! - `retag` throughput over an on-disk archive (target: at least 5,000 articles/s).
//!
//! Articles are generated (English, Russian, Chinese in both scripts) from small vocabularies with the
//! length of real news articles, and some carry campaign phrases. Sizes: MW_BENCH_ARTICLES (default
//! 100,000) and MW_BENCH_RETAG (default 20,000); without `--bench` (under `cargo test`) a small smoke run.

use std::path::Path;
use std::time::Instant;

use chrono::Utc;
use mediawatch::cluster::{self, ClusterIndex};
use mediawatch::index::Archive;
use mediawatch::model::{Affiliation, Article, LangInfo};
use mediawatch::tag::{TagInput, Tagger};

#[path = "common/synth.rs"]
mod synth;
use synth::env_usize;

const EN: &[&str] = &[
    "the",
    "government",
    "said",
    "on",
    "tuesday",
    "that",
    "talks",
    "with",
    "officials",
    "would",
    "continue",
    "in",
    "capital",
    "after",
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
    "according",
    "to",
    "statement",
    "week",
    "security",
    "border",
    "analysts",
    "expect",
    "new",
    "agreement",
    "between",
    "two",
    "sides",
    "despite",
    "tensions",
    "region",
];
const RU: &[&str] = &[
    "правительство",
    "заявило",
    "во",
    "вторник",
    "что",
    "переговоры",
    "с",
    "официальными",
    "лицами",
    "продолжатся",
    "в",
    "столице",
    "после",
    "встречи",
    "президент",
    "министр",
    "иностранных",
    "дел",
    "учения",
    "граница",
    "экономика",
    "санкции",
    "по",
    "данным",
    "заявлении",
    "неделе",
    "безопасность",
    "аналитики",
    "ожидают",
];
const ZH: &[&str] = &[
    "政府",
    "星期二",
    "表示",
    "会谈",
    "将",
    "继续",
    "首都",
    "会见",
    "总统",
    "外交部",
    "军事",
    "演习",
    "岛屿",
    "海峡",
    "贸易",
    "经济",
    "制裁",
    "报告",
    "根据",
    "声明",
    "本周",
    "安全",
    "边境",
    "分析人士",
    "预计",
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
    "臺獨勢力",
    "对台军售",
    "денацификация",
    "киевский режим",
    "коллективный Запад",
];

/// A tiny deterministic generator (xorshift), so runs are comparable.
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

fn article_text(rng: &mut Rng, i: usize) -> (String, String, &'static str) {
    let (words, sep, lang) = match i % 4 {
        0 | 1 => (EN, " ", "en"),
        2 => (RU, " ", "ru"),
        _ => (ZH, "", "zh"),
    };
    let target = if lang == "zh" { 1200 } else { 3500 };
    let mut text = String::with_capacity(target + 64);
    while text.len() < target {
        for _ in 0..12 {
            text.push_str(rng.pick(words));
            text.push_str(sep);
        }
        if rng.next() % 40 == 0 {
            text.push_str(rng.pick(PHRASES));
            text.push_str(sep);
        }
        text.push_str(if lang == "zh" { "。" } else { ".\n\n" });
    }
    let title: String = (0..8)
        .map(|_| rng.pick(words))
        .collect::<Vec<_>>()
        .join(sep);
    (title, text, lang)
}

fn per_sec(n: usize, started: Instant) -> f64 {
    n as f64 / started.elapsed().as_secs_f64().max(1e-9)
}

fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it: a small smoke run.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let (n_default, retag_default) = if bench_mode {
        (100_000, 20_000)
    } else {
        (2_000, 200)
    };
    let n = env_usize("MW_BENCH_ARTICLES", n_default);
    let n_retag = env_usize("MW_BENCH_RETAG", retag_default);
    if !bench_mode {
        println!("tagging: smoke run (no --bench)");
    }
    let config =
        mediawatch::config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml"))?;
    let tagger = Tagger::new(&config.campaigns)?;
    let terms: usize = config
        .campaigns
        .iter()
        .map(|c| c.terms.iter().map(|(_, t)| t.len()).sum::<usize>())
        .sum();

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let articles: Vec<(String, String, &str)> = (0..n).map(|i| article_text(&mut rng, i)).collect();
    let bytes: usize = articles.iter().map(|(t, x, _)| t.len() + x.len()).sum();
    println!(
        "tagging corpus articles={n} mean_bytes={} campaigns={} terms={terms}",
        bytes / n.max(1),
        config.campaigns.len()
    );

    let started = Instant::now();
    let mut tagged = 0usize;
    for (title, text, lang) in &articles {
        let hits = tagger.tag(&TagInput {
            title,
            text,
            lang,
            feed: "bench",
            affiliation: Affiliation::State,
            country: Some("CN"),
        });
        tagged += usize::from(!hits.is_empty());
    }
    println!(
        "tagging articles_per_s={:.0} tagged={tagged}",
        per_sec(n, started)
    );

    let sample = n.min(20_000);
    let started = Instant::now();
    for (title, text, _) in articles.iter().take(sample) {
        std::hint::black_box(mediawatch::lang::detect(&format!("{title}\n\n{text}"), &[]));
    }
    println!(
        "lang_detect articles_per_s={:.0} (first {sample})",
        per_sec(sample, started)
    );

    let started = Instant::now();
    let sigs: Vec<cluster::Signature> = articles
        .iter()
        .map(|(t, x, _)| cluster::signature(t, x))
        .collect();
    println!(
        "cluster signature articles_per_s={:.0}",
        per_sec(n, started)
    );
    let mut index = ClusterIndex::new();
    let started = Instant::now();
    let mut joined = 0usize;
    for (i, sig) in sigs.iter().enumerate() {
        let id = format!("{i:016x}");
        joined += usize::from(index.insert(&id, *sig) != id);
    }
    let us = started.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
    println!("cluster insert_query_us_per_article={us:.2} at_articles={n} joined_existing_cluster={joined}");

    // retag over an on-disk archive.
    let dir = tempfile::tempdir()?;
    let archive = Archive::open_or_create(dir.path())?;
    let mut writer = archive.writer()?;
    for (i, (title, text, lang)) in articles.iter().take(n_retag).enumerate() {
        writer.upsert(&Article {
            id: format!("{i:016x}"),
            url: format!("https://bench.example/{i}"),
            final_url: format!("https://bench.example/{i}"),
            feed: "bench".into(),
            source_name: "Bench".into(),
            affiliation: Affiliation::State,
            country: Some("CN".into()),
            lang: LangInfo {
                lang: (*lang).into(),
                script: None,
                confidence: 1.0,
                reliable: true,
            },
            title: title.clone(),
            text: text.clone(),
            description: None,
            authors: vec![],
            published: Some(Utc::now()),
            modified: None,
            fetched_at: Utc::now(),
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
        })?;
    }
    writer.commit()?;
    drop(writer);
    archive.reload()?;
    let started = Instant::now();
    let report = mediawatch::pipeline::retag_archive(&config, &archive, &tagger, &|_, _| {})?;
    let rate = per_sec(report.articles as usize, started);
    println!(
        "retag articles={} changed={} articles_per_s={rate:.0} target=5000 {}",
        report.articles,
        report.changed,
        if rate >= 5000.0 { "PASS" } else { "MISS" }
    );
    Ok(())
}
