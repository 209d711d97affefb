//! The mediawatch side: articles written with `index::ArchiveWriter` (real schema, `mw` tokenizer, stored
//! JSON), searched with `search::search` / `search::build_query` (real parser, filters, sort).

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use mediawatch::index::Archive;
use mediawatch::model::Article;
use mediawatch::search::{self, SearchRequest, Sort};

use crate::corpus::{self, Corpus, Query, DAYS, START_SECS};
use crate::{run_queries, Outcome};

/// Indexes documents `0..n` into `dir`; returns (seconds spent writing, seconds spent generating).
fn build(corpus: &Corpus, n: usize, dir: &Path) -> anyhow::Result<(f64, f64, u64)> {
    let archive = Archive::open_or_create(dir)?;
    let mut writer = archive.writer()?;
    let mut generating = Duration::ZERO;
    let started = Instant::now();
    let mut raw = 0u64;
    for i in 0..n {
        let t = Instant::now();
        let a = corpus::article(corpus, corpus.doc(i));
        raw += (a.title.len() + a.text.len()) as u64;
        generating += t.elapsed();
        writer.upsert(&a)?;
        if (i + 1) % 100_000 == 0 {
            eprintln!(
                "  mediawatch: {} articles, {:.0} s",
                i + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    writer.commit()?;
    drop(writer);
    // `ArchiveWriter` has no way to wait for the merges its commit started: a plain writer on the same
    // index commits (which schedules merges by the default policy) and waits for them, so the size and the
    // segment count below are those of a settled index.
    let settle: tantivy::IndexWriter = archive.index().writer_with_num_threads(1, 15_000_000)?;
    let mut settle = settle;
    settle.commit()?;
    settle.wait_merging_threads()?;
    // The merged-away segments' files are deleted by a garbage collection that may still be running
    // when the merge returns: collect now, so the size measured is the settled index's (one run
    // measured 733 MB for the 238 MB index).
    let gc: tantivy::IndexWriter = archive.index().writer_with_num_threads(1, 15_000_000)?;
    gc.garbage_collect_files().wait()?;
    drop(gc);
    let total = started.elapsed().as_secs_f64();
    let gen = generating.as_secs_f64();
    Ok((total - gen, gen, raw))
}

/// Bytes of the files of merged-away segments that tantivy's garbage collection has not deleted yet
/// (it runs in the background and may lag behind the last merge): segment files (`<32 hex>.<ext>`) in
/// `dir/tantivy` whose segment is not live. The index size reported is the directory's size without them;
/// the whole directory is printed beside it (`on_disk_bytes`).
fn stale_segment_bytes(archive: &Archive, dir: &Path) -> anyhow::Result<u64> {
    let live: HashSet<String> = archive
        .index()
        .searchable_segment_metas()?
        .iter()
        .map(|m| m.id().uuid_string())
        .collect();
    let mut stale = 0;
    for entry in std::fs::read_dir(dir.join("tantivy"))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let segment = name
            .get(..33)
            .and_then(|s| s.strip_suffix('.'))
            .filter(|id| id.bytes().all(|b| b.is_ascii_hexdigit()));
        if segment.is_some_and(|id| !live.contains(id)) {
            stale += entry.metadata()?.len();
        }
    }
    Ok(stale)
}

fn day(d: i64) -> Option<NaiveDate> {
    Utc.timestamp_opt(START_SECS + d * 86_400, 0)
        .single()
        .map(|t| t.date_naive())
}

fn request(q: &Query) -> SearchRequest {
    let mut req = SearchRequest {
        limit: 20,
        ..SearchRequest::default()
    };
    match q {
        Query::Term(w) | Query::Facets(w) | Query::Histogram(w) => req.query = w.clone(),
        Query::Phrase(a, b) => req.query = format!("\"{a} {b}\""),
        Query::Boolean(a, b, c) => req.query = format!("{a} AND ({b} OR {c})"),
        Query::Chinese(s) => req.query = s.clone(),
        Query::Filtered {
            word,
            lang,
            since_day,
            until_day,
        } => {
            req.query = word.clone();
            req.lang = Some((*lang).to_string());
            req.since = day(*since_day);
            req.until = day(*until_day);
        }
        Query::Newest(w) => {
            req.query = w.clone();
            req.sort = Sort::Newest;
        }
    }
    req
}

/// Facet counts (campaign, feed, lang, affiliation, country) over the request's matches: `search::facets`.
/// Returns the number of matches and the number of buckets.
fn facets(archive: &Archive, req: &SearchRequest) -> anyhow::Result<(u64, usize)> {
    let f = search::facets(archive, req)?;
    let buckets =
        f.campaign.len() + f.feed.len() + f.lang.len() + f.affiliation.len() + f.country.len();
    Ok((f.total, buckets))
}

/// Daily histogram over the request's matches: `search::histogram` with `Interval::Day`.
/// Returns the number of matches (sum of the buckets) and the number of non-empty buckets.
fn histogram(archive: &Archive, req: &SearchRequest) -> anyhow::Result<(u64, usize)> {
    let list = search::histogram(archive, req, search::Interval::Day)?;
    let total = list.iter().map(|b| b.count).sum();
    Ok((total, list.iter().filter(|b| b.count != 0).count()))
}

/// One day's digest as `make run` and the daemon write it: `digest::load` (fast-field counts over the
/// 28-day window, then the day's tagged articles) + `digest::build_digest` + the html rendering.
fn digest_one_day(
    archive: &Archive,
    date: NaiveDate,
    config: &mediawatch::config::Config,
) -> anyhow::Result<usize> {
    let data = mediawatch::digest::load(archive, None, date, date)?;
    let d = mediawatch::digest::build_digest(&data, config);
    let html = mediawatch::digest::render(&d, mediawatch::digest::DigestFormat::Html);
    anyhow::ensure!(!html.is_empty(), "empty digest");
    Ok(d.total)
}

/// Runs one query; returns its match count.
fn run(archive: &Archive, q: &Query) -> anyhow::Result<u64> {
    let req = request(q);
    Ok(match q {
        Query::Facets(_) => facets(archive, &req)?.0,
        Query::Histogram(_) => histogram(archive, &req)?.0,
        _ => search::search(archive, &req)?.total as u64,
    })
}

/// The whole mediawatch side.
pub fn side(
    corpus: &Corpus,
    config: &mediawatch::config::Config,
    n: usize,
    dir: &Path,
    queries: &[(&'static str, Vec<Query>)],
) -> anyhow::Result<Outcome> {
    // `--reuse` (MW_BENCH_SEARCH_REUSE=1) queries the index already in `dir` when it holds `n`
    // articles: no indexing figures then (0), the queries and the digest measured again.
    let reuse = crate::env_usize("MW_BENCH_SEARCH_REUSE", 0) == 1
        && Archive::open(dir).is_ok_and(|a| a.num_articles() == n as u64);
    let (index_secs, gen_secs, raw) = if reuse {
        eprintln!(
            "  mediawatch: reusing the {n} articles in {}",
            dir.display()
        );
        (0.0, 0.0, 0)
    } else {
        build(corpus, n, dir)?
    };
    let mut archive = Archive::open(dir)?;
    // As the CLI opens it: one search at a time, each over the segments on every core
    // (MW_BENCH_SEARCH_THREADS to weigh another number).
    let threads = crate::env_usize("MW_BENCH_SEARCH_THREADS", mediawatch::cli::search_threads());
    archive.set_search_threads(threads)?;
    archive.reload()?;
    let segments = archive.searcher().segment_readers().len();
    // MW_BENCH_SEARCH_WARM=1: first warm the index as `serve` does when it starts (the index's files,
    // search files first, read into the page cache within half the memory available), timed apart
    // from the queries.
    let warm = if crate::env_usize("MW_BENCH_SEARCH_WARM", 0) == 1 {
        let plan = archive.warmup(mediawatch::index::warm_budget().unwrap_or(u64::MAX));
        let t = Instant::now();
        let bytes = plan.read()?;
        format!(
            " warm_bytes={bytes} warm_skipped={} warm_ms={:.0}",
            plan.skipped,
            t.elapsed().as_secs_f64() * 1e3
        )
    } else {
        String::new()
    };
    let stats = run_queries(queries, |q| run(&archive, q))?;
    // Digest of the middle day of the year.
    let date = day(DAYS / 2).unwrap_or_default();
    let t = Instant::now();
    let day_total = digest_one_day(&archive, date, config)?;
    let digest_ms = t.elapsed().as_secs_f64() * 1e3;
    let on_disk = crate::dir_size(dir);
    let live = on_disk.saturating_sub(stale_segment_bytes(&archive, dir)?);
    Ok(Outcome {
        side: "mediawatch".into(),
        n,
        raw_bytes: raw,
        index_secs,
        gen_secs,
        index_bytes: live,
        peak_rss_kb: crate::peak_rss_kb(),
        notes: format!(
            "segments={segments} on_disk_bytes={on_disk} digest_day={date} digest_articles={day_total} search_threads={threads}{warm}{}",
            if reuse { " reused" } else { "" }
        ),
        digest_ms: Some(digest_ms),
        queries: stats,
    })
}

/// Where indexing time goes, on a sample: the `mw` tokenizer and the stored JSON, per language.
pub fn profile(corpus: &Corpus, sample: usize) -> Vec<String> {
    let mut out = Vec::new();
    for lang in ["en", "zh", "ru"] {
        let docs: Vec<Article> = (0..sample * 4)
            .map(|i| corpus::article(corpus, corpus.doc(i)))
            .filter(|a| a.lang.lang == lang)
            .take(sample)
            .collect();
        let bytes: usize = docs.iter().map(|a| a.title.len() + a.text.len()).sum();
        let t = Instant::now();
        let mut tokens = 0;
        for a in &docs {
            tokens += mediawatch::analysis::tokenize(&a.title).len();
            tokens += mediawatch::analysis::tokenize(&a.text).len();
        }
        let tok = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut json = 0;
        for a in &docs {
            json += serde_json::to_vec(a).map(|v| v.len()).unwrap_or(0);
        }
        let ser = t.elapsed().as_secs_f64();
        let m = docs.len().max(1) as f64;
        out.push(format!(
            "{lang}: {} docs, {:.0} bytes/doc, {:.0} tokens/doc; mw tokenizer {:.1} us/doc ({:.0} MB/s); JSON {:.1} us/doc, {:.0} bytes/doc",
            docs.len(),
            bytes as f64 / m,
            tokens as f64 / m,
            tok * 1e6 / m,
            bytes as f64 / tok.max(1e-9) / 1e6,
            ser * 1e6 / m,
            json as f64 / m
        ));
    }
    out
}

/// Where a term query's time goes, on an index built by [`side`]: the query alone (count + top 20 ids),
/// plus reading the 20 stored articles, and the whole `search::search` (which adds the snippets).
pub fn probe(dir: &Path, queries: &[(&'static str, Vec<Query>)]) -> anyhow::Result<Vec<String>> {
    use tantivy::collector::{Count, TopDocs};
    let archive = Archive::open(dir)?;
    archive.reload()?;
    let mut out = Vec::new();
    for (name, qs) in queries
        .iter()
        .filter(|(n, _)| ["term", "phrase", "boolean", "chinese"].contains(n))
    {
        let core = |q: &Query, load: bool| -> anyhow::Result<u64> {
            let query = search::build_query(&archive, &request(q))?;
            let searcher = archive.searcher();
            let (total, top) =
                searcher.search(&*query, &(Count, TopDocs::with_limit(20).order_by_score()))?;
            if load {
                for (_, address) in top {
                    archive.article(&searcher, address)?;
                }
            }
            Ok(total as u64)
        };
        let stages = [
            run_queries(&[(name, qs.clone())], |q| core(q, false))?,
            run_queries(&[(name, qs.clone())], |q| core(q, true))?,
            run_queries(&[(name, qs.clone())], |q| run(&archive, q))?,
        ];
        let p50: Vec<String> = stages
            .iter()
            .flat_map(|s| s.iter().map(|q| format!("{:.2}", q.p50_ms)))
            .collect();
        out.push(format!(
            "{name} p50 ms: query+count+top20 {} | + read 20 stored articles {} | whole search::search (+ snippets) {}",
            p50[0], p50[1], p50[2]
        ));
        // The slowest queries of the type, with the document frequency of their words in `text`.
        let searcher = archive.searcher();
        let df = |w: &str| -> u64 {
            let term = tantivy::Term::from_field_text(archive.fields.text, w);
            searcher.doc_freq(&term).unwrap_or(0)
        };
        let mut timed = Vec::new();
        for q in qs {
            let t = Instant::now();
            let total = run(&archive, q)?;
            timed.push((t.elapsed().as_secs_f64() * 1e3, total, q));
        }
        timed.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (ms, total, q) in timed.iter().take(if ["phrase", "chinese"].contains(name) {
            20
        } else {
            5
        }) {
            let words: Vec<String> = match q {
                Query::Term(a) => vec![a.clone()],
                Query::Phrase(a, b) => vec![a.clone(), b.clone()],
                Query::Boolean(a, b, c) => vec![a.clone(), b.clone(), c.clone()],
                // The Chinese run's tokens, as the index cut them.
                Query::Chinese(a) => mediawatch::analysis::tokenize(a)
                    .into_iter()
                    .map(|t| t.text)
                    .collect(),
                _ => Vec::new(),
            };
            let dfs: Vec<String> = words.iter().map(|w| format!("{w}:{}", df(w))).collect();
            out.push(format!(
                "{name} slow: {ms:.1} ms, {total} matches, df {}",
                dfs.join(" ")
            ));
        }
    }
    Ok(out)
}
