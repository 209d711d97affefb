//! The one exporter: every match of a request streamed as csv or jsonl (the `search` command's columns)
//! to any writer, and the [`Provenance`] record that lets an export be cited and checked (every filter,
//! the index commit read, the sha256 of the bytes written). The CLI (`search --all`) and the web's
//! downloads both write through [`export`], so the same request on the same commit gives the same bytes.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use chrono::Utc;
use sha2::{Digest, Sha256};
use tantivy::query::EnableScoring;
use tantivy::{DocSet, TERMINATED};

use super::print::{csv_row, write_jsonl, CSV_HEADER};
use super::{build_query, to_hit, SearchRequest};
use crate::index::Archive;
use crate::model::Article;

/// Formats of [`export`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// The csv columns of `search` ([`CSV_HEADER`]), header first.
    Csv,
    /// One hit object per line.
    Jsonl,
}

/// The index state an export read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IndexCommit {
    /// tantivy's opstamp of the commit.
    pub opstamp: u64,
    /// Its segments' ids.
    pub segments: Vec<String>,
    /// Articles in it.
    pub articles: u64,
}

/// What an export was, so it can be cited and reproduced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Provenance {
    /// The tool and its version.
    pub tool: String,
    /// The query as given.
    pub query: String,
    /// The filters besides the query (only those set).
    pub filters: BTreeMap<String, String>,
    /// Output format.
    pub format: ExportFormat,
    /// The index commit read.
    pub index_commit: IndexCommit,
    /// When the export ran (RFC 3339, UTC).
    pub exported_at: String,
    /// Rows written (= matching articles).
    pub matches: u64,
    /// sha256 of every byte written (header included), hex.
    pub sha256: String,
    /// Row order.
    pub order: String,
    /// Which version of each article a row is ([`ROWS`]).
    pub rows: String,
}

/// What every export's rows are, for the provenance record: revisits (#26) can find an article edited
/// after it was archived, and the index holds what its page said last.
pub const ROWS: &str = "each row is the article's current version as of this export: what its page said at the last revisit that returned it (column/field `version` is that version's number, 1 when never revisited or unchanged; `versions` counts the versions found; `edited`, `removed` as of the last revisit). Earlier versions, with their fields, campaign tags and word diffs: `mediawatch history ID_OR_URL`.";

struct HashingWriter<'a> {
    inner: &'a mut dyn Write,
    hasher: Sha256,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The filters of a request, by name, for provenance.
pub fn request_filters(req: &SearchRequest) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    put("lang", req.lang.clone());
    put("campaign", req.campaign.clone());
    put("feed", req.feed.clone());
    put("affiliation", req.affiliation.clone());
    put("country", req.country.clone());
    put("script", req.script.clone());
    put("since", req.since.map(|d| d.to_string()));
    put("until", req.until.map(|d| d.to_string()));
    m
}

/// What [`for_each_match`] read: the index commit and how many articles matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Streamed {
    /// The index commit read.
    pub index_commit: IndexCommit,
    /// Articles passed to the callback (= matching articles).
    pub matches: u64,
}

/// The one iteration behind every export: calls `total` once with the number of matches, then `each`
/// with every matching article (no cap; `limit` and `sort` are ignored), one document at a time, in index
/// order (segment by segment, by document number: stable for a given index commit). Memory does not grow
/// with the number of matches. An error from `each` stops the iteration and is returned.
pub fn for_each_match(
    archive: &Archive,
    req: &SearchRequest,
    total: impl FnOnce(u64),
    mut each: impl FnMut(Article) -> anyhow::Result<()>,
) -> anyhow::Result<Streamed> {
    let query = build_query(archive, req)?;
    let searcher = archive.searcher();
    let opstamp = archive
        .index()
        .load_metas()
        .map(|m| m.opstamp)
        .unwrap_or_default();
    let segments: Vec<String> = searcher
        .segment_readers()
        .iter()
        .map(|s| s.segment_id().uuid_string())
        .collect();
    let weight = query
        .weight(EnableScoring::disabled_from_searcher(&searcher))
        .context("cannot prepare the export query")?;
    let mut count = 0u64;
    for segment in searcher.segment_readers() {
        count += u64::from(weight.count(segment)?);
    }
    total(count);
    let mut matches = 0u64;
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let alive = segment.alive_bitset();
        let mut scorer = weight.scorer(segment, 1.0)?;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                let address = tantivy::DocAddress::new(ord as u32, doc);
                each(archive.article(&searcher, address)?)?;
                matches += 1;
            }
            doc = scorer.advance();
        }
    }
    Ok(Streamed {
        index_commit: IndexCommit {
            opstamp,
            segments,
            articles: searcher.num_docs(),
        },
        matches,
    })
}

/// Streams every match (no cap; `limit` and `sort` are ignored) to `out` through [`for_each_match`] and
/// returns the provenance record. Memory does not grow with the number of matches.
pub fn export(
    archive: &Archive,
    req: &SearchRequest,
    format: ExportFormat,
    out: &mut dyn Write,
) -> anyhow::Result<Provenance> {
    let hashing = HashingWriter {
        inner: out,
        hasher: Sha256::new(),
    };
    enum Sink<'a> {
        Csv(Box<csv::Writer<HashingWriter<'a>>>),
        Jsonl(HashingWriter<'a>),
    }
    let mut sink = match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(hashing);
            w.write_record(CSV_HEADER)?;
            Sink::Csv(Box::new(w))
        }
        ExportFormat::Jsonl => Sink::Jsonl(hashing),
    };
    let streamed = for_each_match(
        archive,
        req,
        |_| {},
        |article| {
            let hit = to_hit(article, 0.0, None);
            match &mut sink {
                Sink::Csv(w) => w.write_record(csv_row(&hit))?,
                Sink::Jsonl(w) => write_jsonl(w, &hit)?,
            }
            Ok(())
        },
    )?;
    let mut hashing = match sink {
        Sink::Csv(w) => w
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write the export: {}", e.error()))?,
        Sink::Jsonl(w) => w,
    };
    hashing.flush()?;
    Ok(Provenance {
        tool: tool(),
        query: req.query.clone(),
        filters: request_filters(req),
        format,
        index_commit: streamed.index_commit,
        exported_at: now_rfc3339(),
        matches: streamed.matches,
        sha256: hex::encode(hashing.hasher.finalize()),
        order: ORDER.into(),
        rows: ROWS.into(),
    })
}

/// The tool and its version, as provenance records name it.
pub fn tool() -> String {
    format!("mediawatch {}", env!("CARGO_PKG_VERSION"))
}

/// Now, RFC 3339 to the second (UTC), as provenance records date an export.
pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The row order of [`for_each_match`], for provenance records.
pub const ORDER: &str = "index order (segment, document) of the commit";
