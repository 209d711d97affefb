//! Distinctive terms at archive scale (issue #28): `search::terms::terms` over a query matching about 5%
//! of the archive (50,000 of 1,000,000 articles; target: p50 under 1 s), against the whole archive (the
//! index's term counts) and against a second query of about the same size (`--vs`, a second sample).
//!
//! The archive is the search benchmark's synthetic one (`search_scale/corpus.rs`: English, Chinese and
//! Russian, Zipf vocabularies, a year of dates), written through `index::ArchiveWriter`. The query is the
//! English word whose document frequency is nearest 5% of the archive.
//!
//! Sizes: MW_BENCH_TERMS_ARTICLES (default 1,000,000), MW_BENCH_TERMS_RUNS (default 7, after one warm-up).
//! MW_BENCH_TERMS_DIR: where the index goes, kept and reused when it already holds that many articles
//! (default: a temporary directory, removed afterwards). MW_CORPUS: the shared corpus (vocabulary heads).
//! Without `--bench` (under `cargo test --all-targets`) a smoke run of 2,000 articles.

#[path = "common/synth.rs"]
mod synth;
use synth::env_usize;
#[allow(dead_code)]
#[path = "search_scale/corpus.rs"]
mod corpus;

use std::path::{Path, PathBuf};
use std::time::Instant;

use mediawatch::index::Archive;
use mediawatch::model::Article;
use mediawatch::search::terms::{self, TermsRequest};
use mediawatch::search::SearchRequest;

use corpus::Corpus;

const TARGET_MS: f64 = 1000.0;

/// The search benchmark's article without script, campaigns or a fetch delay (what this bench indexed).
fn article(corpus: &Corpus, i: usize) -> Article {
    let mut a = corpus::article(corpus, corpus.doc(i));
    a.lang.script = None;
    a.campaigns.clear();
    a.fetched_at = a.published.unwrap_or_default();
    a
}

fn build(corpus: &Corpus, n: usize, dir: &Path) -> anyhow::Result<Archive> {
    if dir.join("tantivy/meta.json").exists() {
        let archive = Archive::open(dir)?;
        if archive.num_articles() == n as u64 {
            eprintln!("  reusing the index at {} ({n} articles)", dir.display());
            return Ok(archive);
        }
        anyhow::bail!(
            "{} holds {} articles, not {n}: remove it or choose another MW_BENCH_TERMS_DIR",
            dir.display(),
            archive.num_articles()
        );
    }
    let archive = Archive::open_or_create(dir)?;
    let mut writer = archive.writer()?;
    let started = Instant::now();
    for i in 0..n {
        writer.upsert(&article(corpus, i))?;
        if (i + 1) % 100_000 == 0 {
            eprintln!(
                "  {} articles, {:.0} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    writer.commit()?;
    writer.finish()?;
    archive.reload()?;
    eprintln!(
        "  indexed {n} articles in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(archive)
}

/// The English words whose document frequency in `text` is nearest `want`, nearest first.
fn words_near(archive: &Archive, corpus: &Corpus, want: u64) -> Vec<(String, u64)> {
    let searcher = archive.searcher();
    let mut found: Vec<(String, u64)> = corpus
        .en
        .words
        .iter()
        .take(5000)
        .filter(|w| !terms::is_stop(w, "en"))
        .map(|w| {
            let term = tantivy::Term::from_field_text(archive.fields.text, w);
            (w.clone(), searcher.doc_freq(&term).unwrap_or(0))
        })
        .collect();
    found.sort_by_key(|(_, df)| df.abs_diff(want));
    found
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[k.min(sorted.len() - 1)]
}

fn time(archive: &Archive, req: &TermsRequest, runs: usize) -> anyhow::Result<(Vec<f64>, usize)> {
    let report = terms::terms(archive, req)?; // warm-up
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let r = terms::terms(archive, req)?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
        std::hint::black_box(r);
    }
    ms.sort_by(f64::total_cmp);
    Ok((ms, report.matches))
}

fn main() -> anyhow::Result<()> {
    let bench = std::env::args().any(|a| a == "--bench");
    let n = if bench {
        env_usize("MW_BENCH_TERMS_ARTICLES", 1_000_000)
    } else {
        2_000
    };
    let runs = env_usize("MW_BENCH_TERMS_RUNS", if bench { 7 } else { 1 }).max(1);
    let corpus_dir = std::env::var_os("MW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    let corpus = Corpus::new(&corpus_dir, Vec::new());
    let temp;
    let dir = match std::env::var_os("MW_BENCH_TERMS_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            temp = tempfile::tempdir()?;
            temp.path().to_path_buf()
        }
    };
    eprintln!("terms: {n} articles in {}", dir.display());
    let archive = build(&corpus, n, &dir)?;
    let want = (n as u64 / 20).max(1);
    let near = words_near(&archive, &corpus, want);
    let (Some((fg, fg_df)), Some((bg, bg_df))) = (near.first(), near.get(1)) else {
        anyhow::bail!("no English word in the archive");
    };
    let request = |vs: Option<String>| TermsRequest {
        search: SearchRequest {
            query: fg.clone(),
            ..SearchRequest::default()
        },
        vs,
        ..TermsRequest::default()
    };
    println!(
        "terms: {n} articles; foreground {fg:?} (in the text of {fg_df} articles), sample {}",
        terms::DEFAULT_SAMPLE
    );
    println!("  background query {bg:?} (in the text of {bg_df} articles)");
    for (name, req) in [
        ("vs the archive", request(None)),
        ("vs a query", request(Some(bg.clone()))),
    ] {
        let (ms, matches) = time(&archive, &req, runs)?;
        let p50 = percentile(&ms, 0.5);
        let verdict = if n >= 1_000_000 && matches >= 40_000 {
            if p50 < TARGET_MS {
                "PASS"
            } else {
                "MISS"
            }
        } else {
            "(target is for 50,000 of 1,000,000)"
        };
        println!(
            "  {name:<15} {matches} matches: p50 {p50:.0} ms, max {:.0} ms over {runs} runs (target < {TARGET_MS:.0} ms) {verdict}",
            ms.last().copied().unwrap_or(0.0)
        );
    }
    Ok(())
}
