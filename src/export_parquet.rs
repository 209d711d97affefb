//! The archive as Parquet open data (`export-parquet`): every match of a request, through the one
//! exporter's iteration ([`search::for_each_match`]), written as Hive-partitioned Parquet files
//! (`DIR/month=YYYY-MM/part-rRRRRR-SSS.parquet`, by the month of [`Article::dated_at`]) with a
//! `manifest.json` beside them: the provenance of each run (query, filters, index commit, counts) and the
//! path, rows, bytes and sha256 of each file.
//!
//! Rows: one per article, its current version (`is_current = true`, `version` = the version its page
//! showed at the last revisit), and one per other stored version of an edited article (`is_current =
//! false`), with the fields a version keeps (title, text, published, byline, final URL, HTTP status,
//! fetch time, campaign tags) and the article's other fields. An article's rows share its partition.
//!
//! Safe to kill: a file is written as `*.parquet.tmp`, fsynced and renamed; the manifest is rewritten
//! (tmp, fsync, rename) only after every file of the run is in place, so it never lists a file that is
//! half-written. The next run removes what a killed run left (tmp files, and part files the manifest does
//! not list) and never touches a listed file: a second run adds files and a run to the manifest.
//!
//! Memory is bounded whatever the archive size or span: rows are buffered per month partition in batches
//! of at most [`BATCH_ROWS`] rows or [`BATCH_BYTES`] of text, [`PENDING_BYTES`] in all partitions
//! together (past it, the largest batch is encoded early); a row group closes at [`ROW_GROUP_ROWS`] rows
//! or [`ROW_GROUP_BYTES`] encoded; and when the open partitions' writers together hold more than
//! [`BUFFER_BYTES`], the largest closes its row group early (so an archive whose index order mixes many
//! months gets smaller row groups). A file closes at [`FILE_ROWS`] rows.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use arrow_array::builder::{
    BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, ListArray, RecordBatch, StructArray};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::index::Archive;
use crate::model::Article;
use crate::revisit::StoredVersion;
use crate::search::{self, IndexCommit, SearchRequest};
use crate::store::Store;

/// Rows at most in one row group (a unit DuckDB, Spark and pyarrow scan in parallel).
pub const ROW_GROUP_ROWS: usize = 65_536;
/// Encoded bytes at most in one row group (long texts: a group closes before it reaches the row cap).
pub const ROW_GROUP_BYTES: usize = 128 << 20;
/// Rows at most in one file; the month's next rows go to its next file.
pub const FILE_ROWS: u64 = 1_000_000;
/// Rows buffered per partition before they are encoded as one Arrow batch.
pub const BATCH_ROWS: usize = 4096;
/// Text bytes (title, text, description) buffered per partition before they are encoded.
pub const BATCH_BYTES: usize = 8 << 20;
/// Text bytes buffered in all partitions together before the largest batch is encoded early.
pub const PENDING_BYTES: usize = 32 << 20;
/// What the open writers may hold together (row groups in progress) before the largest closes its group.
pub const BUFFER_BYTES: usize = 128 << 20;
/// The manifest's file name in the export folder.
pub const MANIFEST: &str = "manifest.json";
/// The export format's name and version in the manifest.
pub const FORMAT: &str = "mediawatch-parquet/1";
/// What a row is, for the manifest.
pub const ROWS: &str = "one row per article with is_current = true: its current version (column `version`: the version its page showed at the last revisit, 1 when never revisited or unchanged; `versions`: versions found). One more row per other stored version of an edited article, with is_current = false: that version's title, text, published, authors (its byline), final_url, http_status, fetched_at and campaigns (tagged under the codebooks of when it was found), the article's other fields. Count articles with is_current = true.";
/// How files are partitioned, for the manifest.
pub const PARTITIONING: &str = "hive: month=YYYY-MM of dated_at (publication time, else fetch time, UTC; the digest's day); every row of an article is in its current version's partition";
/// The test-only failure points (`row:N`, `file:N`, `manifest`): the process aborts there, as a kill would.
const FAIL_ENV: &str = "MEDIAWATCH_PARQUET_FAIL_AT";

/// One file of a run, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Path from the export folder, `/`-separated (`month=2026-11/part-r00001-001.parquet`).
    pub path: String,
    /// Its partition, `YYYY-MM`.
    pub month: String,
    /// Rows in it.
    pub rows: u64,
    /// Its size.
    pub bytes: u64,
    /// sha256 of its bytes, hex.
    pub sha256: String,
}

/// One run of `export-parquet` into a folder: the provenance record of `search --all` and its files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// 1 for the first run into the folder, then 2, ...
    pub run: u32,
    /// The tool and its version.
    pub tool: String,
    /// The query as given (empty: every article).
    pub query: String,
    /// The filters besides the query (only those set).
    pub filters: BTreeMap<String, String>,
    /// The index commit read.
    pub index_commit: IndexCommit,
    /// When the run started (RFC 3339, UTC).
    pub exported_at: String,
    /// Articles that matched (= rows with is_current = true).
    pub matches: u64,
    /// Rows written (articles and their other versions).
    pub rows: u64,
    /// Order of the rows within a partition.
    pub order: String,
    /// The files it wrote.
    pub files: Vec<FileRecord>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// [`PARTITIONING`].
    pub partitioning: String,
    /// [`ROWS`].
    pub rows: String,
    /// Compression and row groups.
    pub layout: String,
    /// Every run, oldest first.
    pub runs: Vec<RunRecord>,
}

impl Manifest {
    fn new() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            partitioning: PARTITIONING.into(),
            rows: ROWS.into(),
            layout: format!(
                "zstd (level 3); row groups of at most {ROW_GROUP_ROWS} rows or {} MiB encoded; files of at most {FILE_ROWS} rows",
                ROW_GROUP_BYTES >> 20
            ),
            runs: Vec::new(),
        }
    }

    /// Every file of every run.
    pub fn files(&self) -> impl Iterator<Item = &FileRecord> {
        self.runs.iter().flat_map(|r| r.files.iter())
    }

    /// Reads `DIR/manifest.json`; None when there is none.
    pub fn read(dir: &Path) -> anyhow::Result<Option<Manifest>> {
        let path = dir.join(MANIFEST);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let manifest: Manifest = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} is not a mediawatch Parquet manifest: export into another folder, or move it away",
                path.display()
            )
        })?;
        anyhow::ensure!(
            manifest.format == FORMAT,
            "{} is in format {:?}, this version writes {FORMAT:?}: export into another folder",
            path.display(),
            manifest.format
        );
        Ok(Some(manifest))
    }
}

/// One row: an article as it is now, or another stored version of it.
#[derive(Debug, Clone)]
struct Row {
    /// The article's fields, a version's substituted for an earlier version.
    article: Article,
    version: u32,
    is_current: bool,
    versions: u32,
    recorded_at: Option<DateTime<Utc>>,
    changed: Vec<String>,
}

impl Row {
    fn text_bytes(&self) -> usize {
        let a = &self.article;
        a.title.len() + a.text.len() + a.description.as_ref().map_or(0, String::len) + 256
    }
}

/// The rows of one matching article: its current version, then its other stored versions.
fn rows_of(article: Article, store: Option<&Store>) -> anyhow::Result<Vec<Row>> {
    let (versions, current) = article
        .revision
        .as_ref()
        .map_or((1, 1), |r| (r.versions.max(1), r.current.max(1)));
    let stored: Vec<StoredVersion> = match store {
        Some(s) if versions > 1 => s.versions(&article.id)?,
        _ => Vec::new(),
    };
    let mine = stored.iter().find(|v| v.number == current);
    let mut rows = Vec::with_capacity(stored.len().max(1));
    for v in stored.iter().filter(|v| v.number != current) {
        let mut a = article.clone();
        a.title = v.fields.title.clone();
        a.text = v.fields.text.clone();
        a.published = v.fields.published;
        a.authors = v
            .fields
            .byline
            .split("; ")
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        a.final_url = v.final_url.clone();
        a.http_status = v.http_status;
        a.fetched_at = v.fetched_at;
        a.campaigns = v.campaigns.clone();
        rows.push(Row {
            article: a,
            version: v.number,
            is_current: false,
            versions,
            recorded_at: Some(v.recorded_at),
            changed: v.changed.clone(),
        });
    }
    rows.insert(
        0,
        Row {
            version: current,
            is_current: true,
            versions,
            recorded_at: mine.map(|v| v.recorded_at),
            changed: mine.map(|v| v.changed.clone()).unwrap_or_default(),
            article,
        },
    );
    Ok(rows)
}

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

fn term_fields() -> Fields {
    Fields::from(vec![
        Field::new("term", DataType::Utf8, false),
        Field::new("lang", DataType::Utf8, false),
        Field::new("count", DataType::Int64, false),
    ])
}

fn campaign_fields() -> Fields {
    Fields::from(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("score", DataType::Float64, false),
        Field::new("terms", list_of(DataType::Struct(term_fields())), false),
    ])
}

/// The Arrow schema of every file (README "Analysing the archive elsewhere" lists the columns).
pub fn schema() -> SchemaRef {
    let s = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    let t = |name: &str, nullable: bool| Field::new(name, ts(), nullable);
    let strings = |name: &str| Field::new(name, list_of(DataType::Utf8), false);
    Arc::new(Schema::new(vec![
        s("id", false),
        Field::new("version", DataType::Int32, false),
        Field::new("is_current", DataType::Boolean, false),
        Field::new("versions", DataType::Int32, false),
        t("version_recorded_at", true),
        strings("changed_fields"),
        s("url", false),
        s("final_url", false),
        s("feed", false),
        s("source_name", false),
        s("affiliation", false),
        s("country", true),
        s("typology", true),
        s("lang", false),
        s("script", true),
        Field::new("lang_confidence", DataType::Float64, false),
        Field::new("lang_reliable", DataType::Boolean, false),
        s("title", false),
        s("text", false),
        s("description", true),
        strings("authors"),
        t("dated_at", false),
        t("published", true),
        t("modified", true),
        t("fetched_at", false),
        s("canonical_url", true),
        s("site_name", true),
        s("image", true),
        s("section", true),
        strings("tags"),
        Field::new(
            "campaigns",
            list_of(DataType::Struct(campaign_fields())),
            false,
        ),
        Field::new("http_status", DataType::Int32, false),
        s("text_source", false),
        s("cluster", true),
        s("post_channel", true),
        Field::new("post_views", DataType::Int64, true),
        s("forwarded_from_name", true),
        s("forwarded_from_channel", true),
        s("forwarded_from_url", true),
        t("edited_at", true),
        t("removed_at", true),
        t("restored_at", true),
        strings("campaigns_seen"),
    ]))
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The rows as one Arrow batch of [`schema`]; `typology` maps feed ids to their typology.
fn to_batch(
    schema: &SchemaRef,
    rows: &[Row],
    typology: &BTreeMap<String, String>,
) -> anyhow::Result<RecordBatch> {
    fn strs<'a>(rows: &'a [Row], f: impl Fn(&'a Row) -> Option<&'a str>) -> ArrayRef {
        let mut b = StringBuilder::new();
        for r in rows {
            b.append_option(f(r));
        }
        Arc::new(b.finish())
    }
    fn times(rows: &[Row], f: impl Fn(&Row) -> Option<DateTime<Utc>>) -> ArrayRef {
        let mut b = TimestampMicrosecondBuilder::new().with_timezone("UTC");
        for r in rows {
            b.append_option(f(r).map(micros));
        }
        Arc::new(b.finish())
    }
    fn lists<'a>(rows: &'a [Row], f: impl Fn(&'a Row) -> &'a [String]) -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in rows {
            for v in f(r) {
                b.values().append_value(v);
            }
            b.append(true);
        }
        Arc::new(b.finish())
    }
    fn ints(rows: &[Row], f: impl Fn(&Row) -> i32) -> ArrayRef {
        let mut b = Int32Builder::new();
        for r in rows {
            b.append_value(f(r));
        }
        Arc::new(b.finish())
    }
    fn bools(rows: &[Row], f: impl Fn(&Row) -> bool) -> ArrayRef {
        let mut b = BooleanBuilder::new();
        for r in rows {
            b.append_value(f(r));
        }
        Arc::new(b.finish())
    }
    let revision = |r: &Row| r.article.revision.clone();
    let forward = |r: &Row| {
        r.article
            .post
            .as_ref()
            .and_then(|p| p.forwarded_from.clone())
    };
    let mut confidence = Float64Builder::new();
    let mut views = Int64Builder::new();
    for r in rows {
        confidence.append_value(r.article.lang.confidence);
        views.append_option(
            r.article
                .post
                .as_ref()
                .and_then(|p| p.views)
                .map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
        );
    }
    let columns: Vec<ArrayRef> = vec![
        strs(rows, |r| Some(&r.article.id)),
        ints(rows, |r| i32::try_from(r.version).unwrap_or(i32::MAX)),
        bools(rows, |r| r.is_current),
        ints(rows, |r| i32::try_from(r.versions).unwrap_or(i32::MAX)),
        times(rows, |r| r.recorded_at),
        lists(rows, |r| &r.changed),
        strs(rows, |r| Some(&r.article.url)),
        strs(rows, |r| Some(&r.article.final_url)),
        strs(rows, |r| Some(&r.article.feed)),
        strs(rows, |r| Some(&r.article.source_name)),
        strs(rows, |r| Some(r.article.affiliation.as_str())),
        strs(rows, |r| r.article.country.as_deref()),
        strs(rows, |r| typology.get(&r.article.feed).map(String::as_str)),
        strs(rows, |r| Some(&r.article.lang.lang)),
        strs(rows, |r| r.article.lang.script.as_deref()),
        Arc::new(confidence.finish()),
        bools(rows, |r| r.article.lang.reliable),
        strs(rows, |r| Some(&r.article.title)),
        strs(rows, |r| Some(&r.article.text)),
        strs(rows, |r| r.article.description.as_deref()),
        lists(rows, |r| &r.article.authors),
        times(rows, |r| Some(r.article.dated_at())),
        times(rows, |r| r.article.published),
        times(rows, |r| r.article.modified),
        times(rows, |r| Some(r.article.fetched_at)),
        strs(rows, |r| r.article.canonical_url.as_deref()),
        strs(rows, |r| r.article.site_name.as_deref()),
        strs(rows, |r| r.article.image.as_deref()),
        strs(rows, |r| r.article.section.as_deref()),
        lists(rows, |r| &r.article.tags),
        campaigns(rows),
        ints(rows, |r| i32::from(r.article.http_status)),
        strs(rows, |r| Some(&r.article.text_source)),
        strs(rows, |r| r.article.cluster.as_deref()),
        strs(rows, |r| {
            r.article.post.as_ref().map(|p| p.channel.as_str())
        }),
        Arc::new(views.finish()),
        {
            let mut b = StringBuilder::new();
            for r in rows {
                b.append_option(forward(r).map(|f| f.name));
            }
            Arc::new(b.finish())
        },
        {
            let mut b = StringBuilder::new();
            for r in rows {
                b.append_option(forward(r).and_then(|f| f.channel));
            }
            Arc::new(b.finish())
        },
        {
            let mut b = StringBuilder::new();
            for r in rows {
                b.append_option(forward(r).and_then(|f| f.url));
            }
            Arc::new(b.finish())
        },
        times(rows, |r| revision(r).and_then(|v| v.edited_at)),
        times(rows, |r| revision(r).and_then(|v| v.removed_at)),
        times(rows, |r| revision(r).and_then(|v| v.restored_at)),
        {
            let mut b = ListBuilder::new(StringBuilder::new());
            for r in rows {
                if let Some(rev) = &r.article.revision {
                    for c in &rev.campaigns_seen {
                        b.values().append_value(c);
                    }
                }
                b.append(true);
            }
            Arc::new(b.finish())
        },
    ];
    RecordBatch::try_new(schema.clone(), columns).context("cannot build the Parquet rows")
}

/// `campaigns`: per row a list of {id, score, terms: list of {term, lang, count}}.
fn campaigns(rows: &[Row]) -> ArrayRef {
    let mut offsets = vec![0i32];
    let mut ids = StringBuilder::new();
    let mut scores = Float64Builder::new();
    let mut term_offsets = vec![0i32];
    let mut terms = StringBuilder::new();
    let mut langs = StringBuilder::new();
    let mut counts = Int64Builder::new();
    let (mut n_campaigns, mut n_terms) = (0i32, 0i32);
    for r in rows {
        for c in &r.article.campaigns {
            ids.append_value(&c.id);
            scores.append_value(c.score);
            for t in &c.terms {
                terms.append_value(&t.term);
                langs.append_value(&t.lang);
                counts.append_value(i64::try_from(t.count).unwrap_or(i64::MAX));
                n_terms += 1;
            }
            term_offsets.push(n_terms);
            n_campaigns += 1;
        }
        offsets.push(n_campaigns);
    }
    let term_struct = StructArray::new(
        term_fields(),
        vec![
            Arc::new(terms.finish()),
            Arc::new(langs.finish()),
            Arc::new(counts.finish()),
        ],
        None,
    );
    let term_list = ListArray::new(
        Arc::new(Field::new("item", DataType::Struct(term_fields()), true)),
        OffsetBuffer::new(ScalarBuffer::from(term_offsets)),
        Arc::new(term_struct),
        None,
    );
    let campaign_struct = StructArray::new(
        campaign_fields(),
        vec![
            Arc::new(ids.finish()),
            Arc::new(scores.finish()),
            Arc::new(term_list),
        ],
        None,
    );
    Arc::new(ListArray::new(
        Arc::new(Field::new(
            "item",
            DataType::Struct(campaign_fields()),
            true,
        )),
        OffsetBuffer::new(ScalarBuffer::from(offsets)),
        Arc::new(campaign_struct),
        None,
    ))
}

/// A file being written: every byte goes through sha256 and is counted.
struct HashingFile {
    file: File,
    hasher: Sha256,
    bytes: u64,
}

impl Write for HashingFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// One open file of a month partition.
struct Part {
    month: String,
    rel: String,
    tmp: PathBuf,
    path: PathBuf,
    writer: ArrowWriter<HashingFile>,
    rows: u64,
    pending: Vec<Row>,
    pending_bytes: usize,
}

/// Is `name` a file this exporter writes (`part-r<digits>-<digits>.parquet`, or its `.tmp`)?
fn is_part_name(name: &str) -> bool {
    let base = name.strip_suffix(".tmp").unwrap_or(name);
    let Some(inner) = base
        .strip_prefix("part-r")
        .and_then(|s| s.strip_suffix(".parquet"))
    else {
        return false;
    };
    let mut it = inner.split('-');
    matches!((it.next(), it.next(), it.next()), (Some(a), Some(b), None)
        if !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit()))
}

fn fail_point(what: &str) {
    if std::env::var(FAIL_ENV).is_ok_and(|v| v == what) {
        // As a SIGKILL would: no destructor, no buffered byte written.
        std::process::abort();
    }
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync the folder {}", dir.display()))
}

/// The writer's bounds (the constants above; smaller in tests).
#[derive(Debug, Clone, Copy)]
struct Limits {
    batch_rows: usize,
    batch_bytes: usize,
    pending_bytes: usize,
    buffer_bytes: usize,
    file_rows: u64,
}

const LIMITS: Limits = Limits {
    batch_rows: BATCH_ROWS,
    batch_bytes: BATCH_BYTES,
    pending_bytes: PENDING_BYTES,
    buffer_bytes: BUFFER_BYTES,
    file_rows: FILE_ROWS,
};

struct Writer<'a> {
    dir: &'a Path,
    limits: Limits,
    run: u32,
    schema: SchemaRef,
    props: WriterProperties,
    typology: &'a BTreeMap<String, String>,
    open: BTreeMap<String, Part>,
    next_seq: BTreeMap<String, u32>,
    done: Vec<FileRecord>,
    rows: u64,
    /// Text bytes buffered in every partition's pending rows.
    pending_bytes: usize,
}

impl Writer<'_> {
    fn push(&mut self, row: Row) -> anyhow::Result<()> {
        let month = row.article.dated_at().format("%Y-%m").to_string();
        self.push_to(month, row)
    }

    /// Adds `row` to `month`'s partition (the month of its article, for every version).
    fn push_to(&mut self, month: String, row: Row) -> anyhow::Result<()> {
        if !self.open.contains_key(&month) {
            let part = self.open_part(&month)?;
            self.open.insert(month.clone(), part);
        }
        let Some(part) = self.open.get_mut(&month) else {
            anyhow::bail!("the partition {month} is not open");
        };
        let bytes = row.text_bytes();
        part.pending_bytes += bytes;
        part.pending.push(row);
        let full = part.pending.len() >= self.limits.batch_rows
            || part.pending_bytes >= self.limits.batch_bytes;
        self.pending_bytes += bytes;
        self.rows += 1;
        fail_point(&format!("row:{}", self.rows));
        if full {
            self.write_pending(&month)?;
        }
        // Many partitions each filling a batch: the largest goes first.
        while self.pending_bytes > self.limits.pending_bytes {
            let Some(largest) = self
                .open
                .iter()
                .max_by_key(|(_, p)| p.pending_bytes)
                .map(|(m, _)| m.clone())
            else {
                break;
            };
            self.write_pending(&largest)?;
        }
        Ok(())
    }

    fn open_part(&mut self, month: &str) -> anyhow::Result<Part> {
        let seq = self.next_seq.entry(month.to_string()).or_insert(0);
        *seq += 1;
        let folder = format!("month={month}");
        let name = format!("part-r{:05}-{:03}.parquet", self.run, seq);
        let dir = self.dir.join(&folder);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the partition folder {}", dir.display()))?;
        let path = dir.join(&name);
        let tmp = dir.join(format!("{name}.tmp"));
        let file =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let writer = ArrowWriter::try_new(
            HashingFile {
                file,
                hasher: Sha256::new(),
                bytes: 0,
            },
            self.schema.clone(),
            Some(self.props.clone()),
        )
        .with_context(|| format!("cannot start the Parquet file {}", tmp.display()))?;
        Ok(Part {
            month: month.to_string(),
            rel: format!("{folder}/{name}"),
            tmp,
            path,
            writer,
            rows: 0,
            pending: Vec::new(),
            pending_bytes: 0,
        })
    }

    fn write_pending(&mut self, month: &str) -> anyhow::Result<()> {
        let Some(part) = self.open.get_mut(month) else {
            return Ok(());
        };
        if part.pending.is_empty() {
            return Ok(());
        }
        let batch = to_batch(&self.schema, &part.pending, self.typology)?;
        part.writer
            .write(&batch)
            .with_context(|| format!("cannot write {}", part.tmp.display()))?;
        part.rows += part.pending.len() as u64;
        part.pending.clear();
        self.pending_bytes -= part.pending_bytes;
        part.pending_bytes = 0;
        if part.rows >= self.limits.file_rows {
            self.close(month)?;
        }
        self.limit_memory()
    }

    /// Closes the largest row groups in progress while the open writers hold more than [`BUFFER_BYTES`].
    fn limit_memory(&mut self) -> anyhow::Result<()> {
        loop {
            let total: usize = self.open.values().map(|p| p.writer.memory_size()).sum();
            if total <= self.limits.buffer_bytes {
                return Ok(());
            }
            let Some(part) = self
                .open
                .values_mut()
                .max_by_key(|p| p.writer.memory_size())
            else {
                return Ok(());
            };
            if part.writer.memory_size() == 0 {
                return Ok(());
            }
            part.writer
                .flush()
                .with_context(|| format!("cannot write {}", part.tmp.display()))?;
        }
    }

    /// Finishes `month`'s open file: footer, fsync, rename, folder fsync.
    fn close(&mut self, month: &str) -> anyhow::Result<()> {
        self.write_pending(month)?;
        let Some(part) = self.open.remove(month) else {
            return Ok(());
        };
        let Part {
            month,
            rel,
            tmp,
            path,
            writer,
            rows,
            ..
        } = part;
        let mut out = writer
            .into_inner()
            .with_context(|| format!("cannot finish {}", tmp.display()))?;
        out.flush()?;
        out.file
            .sync_all()
            .with_context(|| format!("cannot sync {}", tmp.display()))?;
        std::fs::rename(&tmp, &path)
            .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
        if let Some(parent) = path.parent() {
            sync_dir(parent)?;
        }
        self.done.push(FileRecord {
            path: rel,
            month,
            rows,
            bytes: out.bytes,
            sha256: hex::encode(out.hasher.finalize()),
        });
        fail_point(&format!("file:{}", self.done.len()));
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<(Vec<FileRecord>, u64)> {
        let months: Vec<String> = self.open.keys().cloned().collect();
        for m in months {
            self.close(&m)?;
        }
        self.done.sort_by(|a, b| a.path.cmp(&b.path));
        Ok((self.done, self.rows))
    }
}

/// Removes what a killed run left in `dir`: `*.parquet.tmp` files, and part files that `manifest` does not
/// list. Other files are left alone. Returns how many were removed.
fn clean_strays(dir: &Path, manifest: &Manifest) -> anyhow::Result<usize> {
    let listed: std::collections::HashSet<&str> =
        manifest.files().map(|f| f.path.as_str()).collect();
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let folder = entry.file_name().to_string_lossy().into_owned();
        if !folder.starts_with("month=") || !entry.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(entry.path())
            .with_context(|| format!("cannot list {}", entry.path().display()))?
        {
            let file = file.with_context(|| format!("cannot list {}", entry.path().display()))?;
            let name = file.file_name().to_string_lossy().into_owned();
            let rel = format!("{folder}/{name}");
            if is_part_name(&name) && (name.ends_with(".tmp") || !listed.contains(rel.as_str())) {
                std::fs::remove_file(file.path()).with_context(|| {
                    format!(
                        "cannot remove {} (left by a stopped export)",
                        file.path().display()
                    )
                })?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Writes `manifest` as `DIR/manifest.json`: tmp file, fsync, rename, folder fsync.
fn write_manifest(dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let path = dir.join(MANIFEST);
    let tmp = dir.join(format!("{MANIFEST}.tmp"));
    let mut bytes = serde_json::to_vec_pretty(manifest)?;
    bytes.push(b'\n');
    let mut f = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(&bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(f);
    fail_point("manifest");
    std::fs::rename(&tmp, &path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    sync_dir(dir)
}

/// An exclusive lock on the export folder (`DIR/.export.lock`), so two runs never write one folder.
fn lock(dir: &Path) -> anyhow::Result<File> {
    crate::index::try_lock_file(&dir.join(".export.lock"))?.with_context(|| {
        format!(
            "another export-parquet is writing into {}: wait for it to finish",
            dir.display()
        )
    })
}

/// What to export and where.
pub struct ExportRequest<'a> {
    /// The export folder (created when missing).
    pub dir: &'a Path,
    /// Query and filters, as `search --all` takes them.
    pub search: &'a SearchRequest,
    /// Feed id to typology, from the config (the archive does not store it).
    pub typology: &'a BTreeMap<String, String>,
}

/// Progress callbacks of [`export`].
pub trait Progress {
    /// The number of matching articles, once, before the first row.
    fn total(&mut self, articles: u64);
    /// One more article written (with its versions).
    fn article(&mut self);
}

/// No progress shown.
pub struct Quiet;

impl Progress for Quiet {
    fn total(&mut self, _: u64) {}
    fn article(&mut self) {}
}

/// One run of `export-parquet`: removes what a killed run left, writes the matches of `req.search` (and
/// the other stored versions of edited ones, from `store`) as new files, then adds the run to the
/// manifest. Returns the run's record.
pub fn export(
    archive: &Archive,
    store: Option<&Store>,
    req: &ExportRequest<'_>,
    progress: &mut dyn Progress,
) -> anyhow::Result<RunRecord> {
    let dir = req.dir;
    // A query error is the user's to fix (exit 2), before anything in the folder changes.
    search::build_query(archive, req.search)?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the export folder {}", dir.display()))?;
    let _lock = lock(dir)?;
    let mut manifest = Manifest::read(dir)?.unwrap_or_else(Manifest::new);
    let removed = clean_strays(dir, &manifest)?;
    if removed > 0 {
        tracing::info!(removed, "removed the files a stopped export left");
    }
    let _ = std::fs::remove_file(dir.join(format!("{MANIFEST}.tmp")));
    let run = manifest.runs.last().map_or(1, |r| r.run + 1);
    let exported_at = search::now_rfc3339();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        .set_created_by(search::tool())
        .build();
    let mut writer = Writer {
        dir,
        limits: LIMITS,
        run,
        schema: schema(),
        props,
        typology: req.typology,
        open: BTreeMap::new(),
        next_seq: BTreeMap::new(),
        done: Vec::new(),
        rows: 0,
        pending_bytes: 0,
    };
    let progress = std::cell::RefCell::new(progress);
    let streamed = search::for_each_match(
        archive,
        req.search,
        |n| progress.borrow_mut().total(n),
        |article| {
            for row in rows_of(article, store)? {
                writer.push(row)?;
            }
            progress.borrow_mut().article();
            Ok(())
        },
    )?;
    let (files, rows) = writer.finish()?;
    let record = RunRecord {
        run,
        tool: search::tool(),
        query: req.search.query.clone(),
        filters: search::request_filters(req.search),
        index_commit: streamed.index_commit,
        exported_at,
        matches: streamed.matches,
        rows,
        order: format!("within a file: {}", search::ORDER),
        files,
    };
    manifest.runs.push(record.clone());
    write_manifest(dir, &manifest)?;
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{sample_article, Revision};

    #[test]
    fn part_names_are_told_from_other_files() {
        for name in [
            "part-r00001-001.parquet",
            "part-r00012-104.parquet.tmp",
            "part-r1-1.parquet",
        ] {
            assert!(is_part_name(name), "{name}");
        }
        for name in [
            "part-r00001-001.parquet.bak",
            "part-00001-001.parquet",
            "part-r00001.parquet",
            "part-r-001.parquet",
            "part-r00001-0x1.parquet",
            "part-r00001-001-2.parquet",
            "notes.parquet",
            "manifest.json",
        ] {
            assert!(!is_part_name(name), "{name}");
        }
    }

    #[test]
    fn strays_are_the_tmp_and_unlisted_part_files_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let month = dir.path().join("month=2026-11");
        std::fs::create_dir_all(&month).expect("mkdir");
        for name in [
            "part-r00001-001.parquet",
            "part-r00002-001.parquet",
            "part-r00002-002.parquet.tmp",
            "mine.parquet",
            "README",
        ] {
            std::fs::write(month.join(name), b"x").expect("write");
        }
        std::fs::write(dir.path().join("part-r00009-001.parquet"), b"x").expect("write");
        let mut manifest = Manifest::new();
        manifest.runs.push(RunRecord {
            run: 1,
            tool: String::new(),
            query: String::new(),
            filters: BTreeMap::new(),
            index_commit: IndexCommit {
                opstamp: 0,
                segments: vec![],
                articles: 0,
            },
            exported_at: String::new(),
            matches: 1,
            rows: 1,
            order: String::new(),
            files: vec![FileRecord {
                path: "month=2026-11/part-r00001-001.parquet".into(),
                month: "2026-11".into(),
                rows: 1,
                bytes: 1,
                sha256: String::new(),
            }],
        });
        assert_eq!(clean_strays(dir.path(), &manifest).expect("clean"), 2);
        let mut left: Vec<String> = std::fs::read_dir(&month)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["README", "mine.parquet", "part-r00001-001.parquet"]);
        assert!(dir.path().join("part-r00009-001.parquet").exists());
    }

    #[test]
    fn an_article_without_a_store_is_one_current_row() {
        let mut a = sample_article(1, "t".into(), "x".into());
        assert_eq!(
            rows_of(a.clone(), None)
                .expect("rows")
                .iter()
                .map(|r| (r.version, r.is_current, r.versions))
                .collect::<Vec<_>>(),
            [(1, true, 1)]
        );
        a.revision = Some(Revision {
            versions: 4,
            current: 3,
            ..Default::default()
        });
        let rows = rows_of(a, None).expect("rows");
        assert_eq!(
            rows.iter()
                .map(|r| (r.version, r.is_current, r.versions))
                .collect::<Vec<_>>(),
            [(3, true, 4)]
        );
        let batch = to_batch(&schema(), &rows, &BTreeMap::new()).expect("batch");
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.num_columns(), schema().fields().len());
    }

    #[test]
    fn buffers_stay_bounded_over_many_interleaved_months_and_every_row_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let limits = Limits {
            batch_rows: 50,
            batch_bytes: 20_000,
            pending_bytes: 60_000,
            buffer_bytes: 200_000,
            file_rows: 120,
        };
        let typology = BTreeMap::new();
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("level")))
            .build();
        let mut w = Writer {
            dir: dir.path(),
            limits,
            run: 7,
            schema: schema(),
            props,
            typology: &typology,
            open: BTreeMap::new(),
            next_seq: BTreeMap::new(),
            done: Vec::new(),
            rows: 0,
            pending_bytes: 0,
        };
        let months = 12u32;
        let n = 1200u32;
        for i in 0..n {
            // Index order mixes the months, as a random one would.
            let mut a = sample_article(i, format!("title {i}"), format!("text {i} ").repeat(40));
            let m = (i * 7) % months;
            a.published =
                chrono::DateTime::from_timestamp(1_700_000_000 + i64::from(m) * 31 * 86_400, 0);
            w.push(Row {
                article: a,
                version: 1,
                is_current: true,
                versions: 1,
                recorded_at: None,
                changed: vec![],
            })
            .expect("push");
            assert!(
                w.pending_bytes <= limits.pending_bytes,
                "pending {}",
                w.pending_bytes
            );
            let held: usize = w.open.values().map(|p| p.writer.memory_size()).sum();
            assert!(held <= limits.buffer_bytes, "held {held}");
        }
        let (files, rows) = w.finish().expect("finish");
        assert_eq!(rows, u64::from(n));
        assert_eq!(files.iter().map(|f| f.rows).sum::<u64>(), u64::from(n));
        assert!(files.len() >= months as usize);
        assert!(files
            .iter()
            .all(|f| f.rows <= limits.file_rows + limits.batch_rows as u64));
        let mut read = 0;
        for f in &files {
            assert!(f
                .path
                .starts_with(&format!("month={}/part-r00007-", f.month)));
            let file = File::open(dir.path().join(&f.path)).expect("open");
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .expect("parquet")
                    .build()
                    .expect("reader");
            for batch in reader {
                read += batch.expect("batch").num_rows();
            }
        }
        assert_eq!(read, n as usize);
    }
}
