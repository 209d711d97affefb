//! The SQLite FTS5 peer (rusqlite, bundled SQLite): the same documents and the same queries.
//!
//! Layout: `docs` (id, url UNIQUE, lang, feed, affiliation, country, campaign, published) with an index on
//! each filter column; `fts` (title, text) with `unicode61` for English and Russian; `fts_zh` (title, text)
//! with `trigram` for Chinese, because `unicode61` cannot segment Chinese (a whole run of Han characters
//! is one token, so a word inside it is never found). Routing each document to the table whose tokenizer
//! handles its language is the fair setup: a trigram table for all three languages is larger and slower on
//! the English and Russian queries, and `unicode61` alone would find no Chinese term. Trigram MATCH needs at
//! least 3 characters, which is why the Chinese queries are 3-character strings (mediawatch matches them
//! as a phrase of bigrams: the same substring semantics).
//!
//! Loading: rows in transactions of 10,000, the filter indexes built after the load, then `optimize` on
//! both FTS tables (the counterpart of tantivy's merges) and a WAL checkpoint. Queries compute what
//! `search::search` computes: the total count and the top 20 (bm25 with title weighted 2, as mediawatch
//! boosts the title 2x) with their metadata and a snippet.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};

use crate::corpus::{Corpus, Lang, Query, START_SECS};
use crate::{run_queries, Outcome};

fn open(path: &Path) -> anyhow::Result<Connection> {
    let db = Connection::open(path)?;
    db.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;",
    )?;
    Ok(db)
}

fn build(corpus: &Corpus, n: usize, path: &Path) -> anyhow::Result<(f64, f64, u64)> {
    let mut db = open(path)?;
    db.execute_batch(
        "CREATE TABLE docs(id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE, lang TEXT NOT NULL,
             feed TEXT NOT NULL, affiliation TEXT NOT NULL, country TEXT, campaign TEXT,
             published INTEGER NOT NULL);
         CREATE VIRTUAL TABLE fts USING fts5(title, text, tokenize='unicode61');
         CREATE VIRTUAL TABLE fts_zh USING fts5(title, text, tokenize='trigram');",
    )?;
    let started = Instant::now();
    let mut generating = Duration::ZERO;
    let mut raw = 0u64;
    let mut i = 0;
    while i < n {
        let tx = db.transaction()?;
        {
            let mut ins_doc = tx.prepare_cached(
                "INSERT INTO docs(id, url, lang, feed, affiliation, country, campaign, published)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            let mut ins_fts =
                tx.prepare_cached("INSERT INTO fts(rowid, title, text) VALUES (?1, ?2, ?3)")?;
            let mut ins_zh =
                tx.prepare_cached("INSERT INTO fts_zh(rowid, title, text) VALUES (?1, ?2, ?3)")?;
            let end = (i + 10_000).min(n);
            for k in i..end {
                let t = Instant::now();
                let doc = corpus.doc(k);
                let url = doc.url(corpus);
                raw += (doc.title.len() + doc.text.len()) as u64;
                generating += t.elapsed();
                let feed = &corpus.feeds[doc.feed];
                ins_doc.execute(params![
                    k as i64,
                    url,
                    doc.lang.code(),
                    feed.id,
                    feed.affiliation.as_str(),
                    feed.country,
                    doc.campaign.map(|c| corpus.campaigns[c].as_str()),
                    doc.published
                ])?;
                let ins = if doc.lang == Lang::Zh {
                    &mut ins_zh
                } else {
                    &mut ins_fts
                };
                ins.execute(params![k as i64, doc.title, doc.text])?;
            }
            i = end;
        }
        tx.commit()?;
        if i % 100_000 == 0 {
            eprintln!(
                "  fts5: {i} articles, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    db.execute_batch(
        "CREATE INDEX docs_lang ON docs(lang);
         CREATE INDEX docs_feed ON docs(feed);
         CREATE INDEX docs_affiliation ON docs(affiliation);
         CREATE INDEX docs_country ON docs(country);
         CREATE INDEX docs_campaign ON docs(campaign);
         CREATE INDEX docs_published ON docs(published);
         INSERT INTO fts(fts) VALUES('optimize');
         INSERT INTO fts_zh(fts_zh) VALUES('optimize');
         ANALYZE;",
    )?;
    db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let total = started.elapsed().as_secs_f64();
    let gen = generating.as_secs_f64();
    Ok((total - gen, gen, raw))
}

fn quoted(w: &str) -> String {
    format!("\"{}\"", w.replace('"', "\"\""))
}

const TOP: &str = "SELECT f.rowid, f.title, snippet(fts, 1, '', '', '…', 32), d.url, d.feed, d.lang, d.published
     FROM fts f JOIN docs d ON d.id = f.rowid WHERE fts MATCH ?1 ORDER BY bm25(fts, 2.0, 1.0) LIMIT 20";

/// Top 20 rows of a statement (all columns read), for the hits part of a search.
fn top(db: &Connection, sql: &str, p: &[&dyn rusqlite::ToSql]) -> anyhow::Result<usize> {
    let mut st = db.prepare_cached(sql)?;
    let mut rows = st.query(p)?;
    let mut k = 0;
    while let Some(row) = rows.next()? {
        let _id: i64 = row.get(0)?;
        let _title: String = row.get(1)?;
        k += 1;
    }
    Ok(k)
}

fn count(db: &Connection, sql: &str, p: &[&dyn rusqlite::ToSql]) -> anyhow::Result<u64> {
    let mut st = db.prepare_cached(sql)?;
    Ok(st.query_row(p, |r| r.get::<_, i64>(0))? as u64)
}

/// A full-text query as `search::search` runs it: the top 20 and the total.
fn plain(db: &Connection, m: &str) -> anyhow::Result<u64> {
    top(db, TOP, &[&m])?;
    count(db, "SELECT count(*) FROM fts WHERE fts MATCH ?1", &[&m])
}

/// Runs one query; returns its match count.
fn run(db: &Connection, q: &Query) -> anyhow::Result<u64> {
    match q {
        Query::Term(w) => plain(db, &quoted(w)),
        Query::Phrase(a, b) => plain(db, &quoted(&format!("{a} {b}"))),
        Query::Boolean(a, b, c) => plain(
            db,
            &format!("{} AND ({} OR {})", quoted(a), quoted(b), quoted(c)),
        ),
        Query::Chinese(s) => {
            let m = quoted(s);
            top(
                db,
                "SELECT f.rowid, f.title, snippet(fts_zh, 1, '', '', '…', 32), d.url, d.feed, d.lang, d.published
                 FROM fts_zh f JOIN docs d ON d.id = f.rowid WHERE fts_zh MATCH ?1
                 ORDER BY bm25(fts_zh, 2.0, 1.0) LIMIT 20",
                &[&m],
            )?;
            count(
                db,
                "SELECT count(*) FROM fts_zh WHERE fts_zh MATCH ?1",
                &[&m],
            )
        }
        Query::Filtered {
            word,
            lang,
            since_day,
            until_day,
        } => {
            let m = quoted(word);
            let from = START_SECS + since_day * 86_400;
            let to = START_SECS + (until_day + 1) * 86_400;
            top(
                db,
                "SELECT f.rowid, f.title, snippet(fts, 1, '', '', '…', 32), d.url, d.feed, d.lang, d.published
                 FROM fts f JOIN docs d ON d.id = f.rowid
                 WHERE fts MATCH ?1 AND d.lang = ?2 AND d.published >= ?3 AND d.published < ?4
                 ORDER BY bm25(fts, 2.0, 1.0) LIMIT 20",
                &[&m, lang, &from, &to],
            )?;
            count(
                db,
                "SELECT count(*) FROM fts f JOIN docs d ON d.id = f.rowid
                 WHERE fts MATCH ?1 AND d.lang = ?2 AND d.published >= ?3 AND d.published < ?4",
                &[&m, lang, &from, &to],
            )
        }
        Query::Facets(w) => {
            // One pass: group by all five columns, then roll each facet up.
            let m = quoted(w);
            let mut st = db.prepare_cached(
                "SELECT d.lang, d.feed, d.affiliation, d.country, d.campaign, count(*)
                 FROM fts f JOIN docs d ON d.id = f.rowid WHERE fts MATCH ?1 GROUP BY 1, 2, 3, 4, 5",
            )?;
            let mut facets: [std::collections::HashMap<Option<String>, u64>; 5] =
                Default::default();
            let mut rows = st.query([&m])?;
            let mut total = 0;
            while let Some(row) = rows.next()? {
                let c = row.get::<_, i64>(5)? as u64;
                total += c;
                for (k, facet) in facets.iter_mut().enumerate() {
                    *facet.entry(row.get::<_, Option<String>>(k)?).or_default() += c;
                }
            }
            Ok(total)
        }
        Query::Histogram(w) => {
            let m = quoted(w);
            let mut st = db.prepare_cached(
                "SELECT d.published / 86400, count(*) FROM fts f JOIN docs d ON d.id = f.rowid
                 WHERE fts MATCH ?1 GROUP BY 1",
            )?;
            let mut rows = st.query([&m])?;
            let mut total = 0;
            while let Some(row) = rows.next()? {
                total += row.get::<_, i64>(1)? as u64;
            }
            Ok(total)
        }
        Query::Newest(w) => {
            let m = quoted(w);
            top(
                db,
                "SELECT f.rowid, f.title, d.url, d.feed, d.lang, d.published
                 FROM fts f JOIN docs d ON d.id = f.rowid WHERE fts MATCH ?1
                 ORDER BY d.published DESC LIMIT 20",
                &[&m],
            )?;
            count(db, "SELECT count(*) FROM fts WHERE fts MATCH ?1", &[&m])
        }
    }
}

/// The whole FTS5 side.
pub fn side(
    corpus: &Corpus,
    n: usize,
    dir: &Path,
    queries: &[(&'static str, Vec<Query>)],
) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("fts5.sqlite");
    let (index_secs, gen_secs, raw) = build(corpus, n, &path)?;
    let db = open(&path)?;
    let stats = run_queries(queries, |q| run(&db, q))?;
    let version: String = db.query_row("SELECT sqlite_version()", [], |r| r.get(0))?;
    Ok(Outcome {
        side: "fts5".into(),
        n,
        raw_bytes: raw,
        index_secs,
        gen_secs,
        index_bytes: crate::dir_size(dir),
        peak_rss_kb: crate::peak_rss_kb(),
        notes: format!("sqlite={version}"),
        digest_ms: None,
        queries: stats,
    })
}
