//! The archive: a tantivy index in `<index>/tantivy`, its schema, and the one writer.
//!
//! Each article is one document keyed by its URL (update = delete + add). Searchable text fields use the
//! `mw` tokenizer ([`crate::analysis`]); filter fields are raw strings with fast columns; the whole
//! [`Article`] is stored once as JSON (`doc`), which is what search results and digests read back.
//! Searching lives in [`crate::search`]; this module knows the layout and nothing about output.
//!
//! Stemming: besides the exact `title` and `text` fields, an article's title and text go into the stemmed
//! field of its detected language, `stem_<lang>` (analyzer `mw_<lang>`, see [`crate::analysis`]), when
//! tantivy has a stemmer for it. A query is parsed against every stemmed field, each with its own
//! language's stemmer, so the query side needs no language.
//!
//! Phrases: `title_pairs` and `text_pairs` hold the adjacent word pairs of the title and text whose
//! words are both common ("of the", "не это"; [`crate::analysis::PairsTokenizer`]), one term each,
//! without positions. A two-word phrase of common words is one lookup there instead of a position
//! check on every document holding both words; a longer one uses its pairs to narrow the documents
//! whose positions are checked (see [`crate::search`]).
//!
//! One writer: [`WriterLock`] (an OS lock on `<index>/writer.lock`, which holds the PID and start time) is
//! taken before anything else is opened for writing; the OS lock dies with its process, so a lock file
//! left by a crash never blocks.

use std::ops::Bound;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tantivy::collector::Count;
use tantivy::query::{Query, TermQuery};
use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, Schema, TextFieldIndexing,
    TextOptions, Value, FAST, INDEXED, STRING,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

mod files;

pub use files::{warm_budget, ArchiveDirectory, Warmup};

use crate::analysis::{stem_tokenizer, PAIRS_TOKENIZER, STEM_LANGS, TOKENIZER};
use crate::model::Article;

/// Field handles of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// Article id (raw).
    pub id: Field,
    /// Entry URL (raw): the unique key.
    pub url: Field,
    /// Feed id (raw, fast).
    pub feed: Field,
    /// ISO 639-1 language (raw, fast).
    pub lang: Field,
    /// Script (raw, fast).
    pub script: Field,
    /// Affiliation (raw, fast).
    pub affiliation: Field,
    /// Country (raw, fast).
    pub country: Field,
    /// Campaign ids (raw, multi-valued, fast).
    pub campaign: Field,
    /// Near-duplicate cluster id (raw, fast).
    pub cluster: Field,
    /// The original post a Telegram post forwards, `post.forwarded_from.url` (raw, fast, not stored:
    /// the stored article JSON stays what output reads). Absent when the article forwards nothing, or
    /// when the preview named the origin without linking it.
    pub forwarded_from: Field,
    /// Versions a revisit found (1 until one found a change; u64, indexed, fast).
    pub versions: Field,
    /// Whether a revisit found another version (bool, indexed, fast).
    pub edited: Field,
    /// Whether the article is gone from its site (bool, indexed, fast).
    pub removed: Field,
    /// The last time a revisit found an edit, a removal or a return ([`crate::model::Revision::last_change`];
    /// date, indexed, fast; absent when never).
    pub changed_at: Field,
    /// Campaign ids an earlier version was tagged with that the current one is not (raw, multi-valued,
    /// fast): `campaign_dropped:X` finds the articles whose edits dropped narrative X.
    pub campaign_dropped: Field,
    /// Headline (analysed).
    pub title: Field,
    /// Main text (analysed).
    pub text: Field,
    /// The text's adjacent pairs of common words (`"of the"`), without positions: what a two-word
    /// phrase of common words is answered from (see [`crate::analysis::PairsTokenizer`]).
    pub text_pairs: Field,
    /// The same for the title.
    pub title_pairs: Field,
    /// Publication time (feed, else page, else fetch time), indexed and fast.
    pub published: Field,
    /// The whole article as JSON (stored only).
    pub doc: Field,
    /// Title and text stemmed by the article's language: `(lang, field)` for every [`STEM_LANGS`].
    pub stems: [(&'static str, Field); STEM_LANGS.len()],
}

impl Fields {
    /// The stemmed field of a language, if tantivy has a stemmer for it.
    pub fn stem(&self, lang: &str) -> Option<Field> {
        self.stems.iter().find(|(l, _)| *l == lang).map(|&(_, f)| f)
    }
}

/// Version of the schema (in `<index>/index-schema-version`); an index written with another one is
/// refused with what to do.
///
/// 3: the article JSON is stored as text (tantivy reads stored bytes one byte at a time, text in one
/// copy: a tenth of the time of reading a hit).
/// 4: `title_pairs`, `text_pairs`: the pairs of adjacent common words (such phrases as one term).
/// 5: the pairs fields hold the pairs of common Han words too (an index of 4 lacks them: its Chinese
/// phrases of common words would find nothing).
/// 6: the tokenizer takes Han, kana and Hangul from the one script table (`text::script`): 々 and 〇
/// (as in 二〇二四年), Han extensions G-H, half-width kana and Hangul Jamo extensions now join CJK runs,
/// and the Katakana middle dot (・) separates words (an index of 5 cut them otherwise).
/// 7: `forwarded_from`: the original post a Telegram post forwards (forward chains; an index of 6 lacks
/// it, so its forwards would have no forwarders).
/// 8: `versions`, `edited`, `removed`: what revisits found (an index of 7 lacks them: `edited:true` would
/// find nothing).
/// 9: `changed_at`, `campaign_dropped`: when a revisit last found a change, and the campaigns edits
/// dropped (an index of 8 lacks them: `/changes` would list nothing).
pub const SCHEMA_VERSION: u32 = 9;

/// Builds the schema and its field handles.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let analysed = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let pairs = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(PAIRS_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let date = DateOptions::from(INDEXED)
        .set_fast()
        .set_precision(DateTimePrecision::Seconds);
    let stems = STEM_LANGS.map(|(lang, _)| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(&stem_tokenizer(lang))
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        (lang, b.add_text_field(&format!("stem_{lang}"), options))
    });
    let fields = Fields {
        id: b.add_text_field("id", STRING),
        url: b.add_text_field("url", STRING),
        feed: b.add_text_field("feed", STRING | FAST),
        lang: b.add_text_field("lang", STRING | FAST),
        script: b.add_text_field("script", STRING | FAST),
        affiliation: b.add_text_field("affiliation", STRING | FAST),
        country: b.add_text_field("country", STRING | FAST),
        campaign: b.add_text_field("campaign", STRING | FAST),
        cluster: b.add_text_field("cluster", STRING | FAST),
        forwarded_from: b.add_text_field("forwarded_from", STRING | FAST),
        versions: b.add_u64_field("versions", INDEXED | FAST),
        edited: b.add_bool_field("edited", INDEXED | FAST),
        removed: b.add_bool_field("removed", INDEXED | FAST),
        changed_at: b.add_date_field("changed_at", date.clone()),
        campaign_dropped: b.add_text_field("campaign_dropped", STRING | FAST),
        title: b.add_text_field("title", analysed.clone()),
        text: b.add_text_field("text", analysed),
        text_pairs: b.add_text_field("text_pairs", pairs.clone()),
        title_pairs: b.add_text_field("title_pairs", pairs),
        published: b.add_date_field("published", date),
        doc: b.add_text_field("doc", TextOptions::default().set_stored()),
        stems,
    };
    (b.build(), fields)
}

/// An open archive (read side). Cheap to search concurrently.
pub struct Archive {
    index: Index,
    reader: IndexReader,
    /// Field handles.
    pub fields: Fields,
    path: PathBuf,
    /// String fast columns opened per segment (opening one reads its dictionary's index: worth doing
    /// once per segment, not once per query). Segments gone from the loaded commit are dropped.
    str_columns: std::sync::Mutex<StrColumnCache>,
}

type StrColumnCache = std::collections::HashMap<
    (tantivy::index::SegmentId, &'static str),
    Option<tantivy::columnar::StrColumn>,
>;

/// The reader of `index` (at `path`), reloaded by hand ([`Archive::reload`]).
fn open_reader(index: &Index, path: &Path) -> anyhow::Result<IndexReader> {
    index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .with_context(|| {
            format!(
                "cannot read the index at {}: run `mediawatch check` to see which file is damaged and what to do",
                path.display()
            )
        })
}

impl Archive {
    /// The string fast columns `names` of every segment of `searcher`: per name, by segment ordinal
    /// (`None` where a segment has no value for it).
    pub fn str_columns(
        &self,
        searcher: &Searcher,
        names: &[&'static str],
    ) -> tantivy::Result<Vec<Vec<Option<tantivy::columnar::StrColumn>>>> {
        let mut cache = self
            .str_columns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let readers = searcher.segment_readers();
        let live: std::collections::HashSet<tantivy::index::SegmentId> =
            readers.iter().map(|r| r.segment_id()).collect();
        cache.retain(|(id, _), _| live.contains(id));
        let mut out = Vec::with_capacity(names.len());
        for &name in names {
            let mut by_segment = Vec::with_capacity(readers.len());
            for reader in readers {
                let key = (reader.segment_id(), name);
                let column = match cache.get(&key) {
                    Some(c) => c.clone(),
                    None => {
                        let c = reader.fast_fields().str(name)?;
                        cache.insert(key, c.clone());
                        c
                    }
                };
                by_segment.push(column);
            }
            out.push(by_segment);
        }
        Ok(out)
    }

    /// Opens the index in `<dir>/tantivy`, creating it if absent. An index written with an older schema
    /// is refused with what to do.
    pub fn open_or_create(dir: &Path) -> anyhow::Result<Archive> {
        let path = dir.join("tantivy");
        let existed = path.join("meta.json").exists();
        if existed {
            check_schema_version(dir)?;
        }
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        if !existed {
            // A new index: whatever identity file a lost one left behind no longer describes it.
            // Written before the index, so a crash in between cannot leave the old identity on it.
            write_new_identity(&path)?;
        }
        let (schema, fields) = schema();
        let directory = ArchiveDirectory::open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let index = Index::open_or_create(directory, schema).with_context(|| {
            format!(
                "cannot open the index at {}: run `mediawatch check` to see which file is damaged and what to do",
                path.display()
            )
        })?;
        if !existed {
            write_schema_version(dir)?;
        }
        Self::from_index(index, fields, path)
    }

    /// This index's identity: a random id in `<index>/tantivy/index-id`, written when the index is
    /// created (and kept by `reindex`), so that state recorded about an index (the store's feed
    /// validators) can tell it from a new one made after the old was lost. An index from before this
    /// file, or with the file garbled, gets a new identity here; call it under the writer lock.
    pub fn identity(&self) -> anyhow::Result<String> {
        let file = self.path.join(IDENTITY_FILE);
        match std::fs::read_to_string(&file) {
            Ok(text) if uuid::Uuid::try_parse(text.trim()).is_ok() => Ok(text.trim().to_string()),
            Ok(_) => write_new_identity(&self.path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => write_new_identity(&self.path),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", file.display())),
        }
    }

    /// Opens an existing index read-only in spirit (fails if absent).
    pub fn open(dir: &Path) -> anyhow::Result<Archive> {
        let path = dir.join("tantivy");
        if !path.join("meta.json").exists() {
            anyhow::bail!(
                "no archive at {}: run `mediawatch ingest` first",
                path.display()
            );
        }
        Self::open_or_create(dir)
    }

    fn from_index(index: Index, fields: Fields, path: PathBuf) -> anyhow::Result<Archive> {
        // Custom tokenizers are not stored in the index: register on every open.
        crate::analysis::register(index.tokenizers());
        let reader = open_reader(&index, &path)?;
        Ok(Archive {
            index,
            reader,
            fields,
            path,
            str_columns: Default::default(),
        })
    }

    /// Lets one search run over the segments on `threads` threads (tantivy's multi-threaded executor):
    /// a shorter wait for one search at a time, as the CLI runs them (the counts of a broad match at
    /// 10,000,000 articles take about half as long on 2 cores); 1 searches in the calling thread. A
    /// server that already runs one search per core gains nothing from it (see README, "Search at
    /// scale") and keeps 1. Reloads the reader (the executor is the index's, taken when it is made).
    pub fn set_search_threads(&mut self, threads: usize) -> anyhow::Result<()> {
        if threads > 1 {
            self.index.set_multithread_executor(threads)?;
        } else {
            self.index.set_executor(tantivy::Executor::single_thread());
        }
        self.reader = open_reader(&self.index, &self.path)?;
        Ok(())
    }

    /// What a warm-up of the loaded commit within `budget` bytes reads (see [`Warmup`]): for a
    /// long-running reader, once when it starts.
    pub fn warmup(&self, budget: u64) -> Warmup {
        Warmup::plan(&self.searcher(), &self.path, budget)
    }

    /// The tantivy index.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// A searcher on the last loaded commit.
    pub fn searcher(&self) -> Searcher {
        self.reader.searcher()
    }

    /// Loads the latest commit.
    pub fn reload(&self) -> anyhow::Result<()> {
        self.reader.reload()?;
        Ok(())
    }

    /// Opens the single writer. A second writer (another process) gets "locked by PID ...".
    pub fn writer(&self) -> anyhow::Result<ArchiveWriter> {
        let lock = match self.path.parent() {
            Some(dir) if !self.path.as_os_str().is_empty() => Some(WriterLock::acquire(dir)?),
            _ => None,
        };
        // One indexing thread per core (at most 4): tokenizing (jieba, stemmers) is the indexing cost.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4));
        let budget = threads * 48_000_000;
        let writer = self.index.writer_with_num_threads(threads, budget).map_err(|e| match e {
            tantivy::TantivyError::LockFailure(..) => anyhow::anyhow!(
                "the index at {} is locked by another writer (is another `mediawatch ingest` running?)",
                self.path.display()
            ),
            other => anyhow::Error::new(other).context("cannot open the index writer"),
        })?;
        Ok(ArchiveWriter {
            writer,
            fields: self.fields,
            path: self.path.clone(),
            _lock: lock,
        })
    }

    /// The archived article with this entry URL (committed and loaded).
    pub fn article_by_url(&self, url: &str) -> anyhow::Result<Option<Article>> {
        let q = TermQuery::new(
            Term::from_field_text(self.fields.url, url),
            IndexRecordOption::Basic,
        );
        let searcher = self.searcher();
        let found = searcher.search(
            &q,
            &tantivy::collector::TopDocs::with_limit(1).order_by_score(),
        )?;
        match found.first() {
            Some((_, address)) => Ok(Some(self.article(&searcher, *address)?)),
            None => Ok(None),
        }
    }

    /// Whether the committed index holds an article with this URL.
    pub fn contains_url(&self, url: &str) -> anyhow::Result<bool> {
        let q = TermQuery::new(
            Term::from_field_text(self.fields.url, url),
            IndexRecordOption::Basic,
        );
        Ok(self.searcher().search(&q, &Count)? > 0)
    }

    /// The last commit on disk (not necessarily the loaded one): its segments, the size of the index
    /// folder's files, and when it was made (its payload, written by [`ArchiveWriter::commit`]; for a
    /// commit from before that, the modification time of `meta.json`).
    pub fn stats(&self) -> anyhow::Result<IndexStats> {
        let cannot = || format!("cannot read the index at {}", self.path.display());
        let metas = self.index.load_metas().with_context(cannot)?;
        let mut size_bytes = 0;
        for entry in std::fs::read_dir(&self.path).with_context(cannot)? {
            // A file removed between the listing and its metadata (a merge's leftovers) is not counted.
            if let Ok(meta) = entry.and_then(|e| e.metadata()) {
                if meta.is_file() {
                    size_bytes += meta.len();
                }
            }
        }
        let last_commit = metas
            .payload
            .as_deref()
            .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .or_else(|| {
                let modified = std::fs::metadata(self.path.join("meta.json"))
                    .and_then(|m| m.modified())
                    .ok()?;
                Some(chrono::DateTime::<chrono::Utc>::from(modified))
            });
        Ok(IndexStats {
            segments: metas.segments.len() as u64,
            size_bytes,
            last_commit,
        })
    }

    /// Number of articles in the loaded commit.
    pub fn num_articles(&self) -> u64 {
        self.searcher().num_docs()
    }

    /// Reads the stored article of a document.
    pub fn article(&self, searcher: &Searcher, address: DocAddress) -> anyhow::Result<Article> {
        let doc: TantivyDocument = searcher.doc(address).with_context(|| {
            let segment = searcher.segment_reader(address.segment_ord).segment_id();
            format!(
                "cannot read a stored article from {}: run `mediawatch check`",
                self.path
                    .join(format!("{}.store", segment.uuid_string()))
                    .display()
            )
        })?;
        let json = doc
            .get_first(self.fields.doc)
            .and_then(|v| v.as_str())
            .context("document without stored article")?;
        Ok(serde_json::from_str(json)?)
    }

    /// A query for `published` in `[from, to)`.
    pub fn published_range(
        &self,
        from: Option<tantivy::DateTime>,
        to: Option<tantivy::DateTime>,
    ) -> Box<dyn Query> {
        self.date_range(self.fields.published, from, to)
    }

    /// A query for the date field `f` (`published`, `changed_at`) in `[from, to)`; a document without
    /// a value in `f` never matches.
    pub fn date_range(
        &self,
        f: Field,
        from: Option<tantivy::DateTime>,
        to: Option<tantivy::DateTime>,
    ) -> Box<dyn Query> {
        if from.is_none() && to.is_none() {
            return Box::new(tantivy::query::ExistsQuery::new(
                self.index.schema().get_field_name(f).to_string(),
                false,
            ));
        }
        let lower = from.map_or(Bound::Unbounded, |d| {
            Bound::Included(Term::from_field_date(f, d))
        });
        let upper = to.map_or(Bound::Unbounded, |d| {
            Bound::Excluded(Term::from_field_date(f, d))
        });
        Box::new(tantivy::query::RangeQuery::new(lower, upper))
    }
}

/// The index on disk at its last commit ([`Archive::stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexStats {
    /// Segments of the last commit.
    pub segments: u64,
    /// Bytes of the files in the index folder (the last commit's, and those merges have not yet removed).
    pub size_bytes: u64,
    /// When the last commit was made.
    pub last_commit: Option<chrono::DateTime<chrono::Utc>>,
}

/// The one writer of the archive.
///
/// Each commit lets tantivy's merge policy schedule merges of the segments it leaves; they run on the
/// writer's merge threads *after* the commit returns, and are abandoned when the writer is dropped. So a
/// writer is either kept for the next commits (the daemon keeps one for as long as its [`Pipeline`]),
/// or ended with [`ArchiveWriter::finish`], which waits for them; one dropped right after its commit
/// leaves a segment or two more on disk every time, for good.
///
/// [`Pipeline`]: crate::pipeline::Pipeline
pub struct ArchiveWriter {
    writer: IndexWriter,
    fields: Fields,
    path: PathBuf,
    _lock: Option<WriterLock>,
}

impl ArchiveWriter {
    /// Adds (or replaces, by URL) an article. Visible after [`ArchiveWriter::commit`].
    pub fn upsert(&mut self, article: &Article) -> anyhow::Result<()> {
        let f = &self.fields;
        self.writer
            .delete_term(Term::from_field_text(f.url, &article.url));
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &article.id);
        doc.add_text(f.url, &article.url);
        doc.add_text(f.feed, &article.feed);
        doc.add_text(f.lang, &article.lang.lang);
        if let Some(script) = &article.lang.script {
            doc.add_text(f.script, script);
        }
        doc.add_text(f.affiliation, article.affiliation.as_str());
        if let Some(country) = &article.country {
            doc.add_text(f.country, country);
        }
        for hit in &article.campaigns {
            doc.add_text(f.campaign, &hit.id);
        }
        if let Some(cluster) = &article.cluster {
            doc.add_text(f.cluster, cluster);
        }
        if let Some(origin) = forwarded_url(article) {
            doc.add_text(f.forwarded_from, origin);
        }
        let revision = article.revision.as_ref();
        doc.add_u64(
            f.versions,
            u64::from(revision.map_or(1, |r| r.versions.max(1))),
        );
        doc.add_bool(f.edited, revision.is_some_and(|r| r.edited()));
        doc.add_bool(f.removed, revision.is_some_and(|r| r.removed()));
        if let Some((_, at)) = revision.and_then(|r| r.last_change()) {
            doc.add_date(
                f.changed_at,
                tantivy::DateTime::from_timestamp_secs(at.timestamp()),
            );
        }
        for id in revision
            .map(|r| r.campaigns_dropped(&article.campaigns))
            .unwrap_or_default()
        {
            doc.add_text(f.campaign_dropped, &id);
        }
        doc.add_text(f.title, &article.title);
        doc.add_text(f.text, &article.text);
        doc.add_text(f.title_pairs, &article.title);
        doc.add_text(f.text_pairs, &article.text);
        if let Some(stem) = f.stem(&article.lang.lang) {
            doc.add_text(stem, &article.title);
            doc.add_text(stem, &article.text);
        }
        let when = article.dated_at();
        doc.add_date(
            f.published,
            tantivy::DateTime::from_timestamp_secs(when.timestamp()),
        );
        doc.add_text(f.doc, serde_json::to_string(article)?);
        let added = self.writer.add_document(doc).map_err(anyhow::Error::new);
        named_io(added, &self.path, || {
            format!(
                "cannot add an article to the index at {}: an indexing thread failed (is the disk holding it \
                 full or read-only? free space there and run again; what was committed is intact)",
                self.path.display()
            )
        })?;
        Ok(())
    }

    /// Makes everything added so far durable and visible to new readers. The commit's payload is its time
    /// (RFC 3339), read back by [`Archive::stats`].
    pub fn commit(&mut self) -> anyhow::Result<()> {
        let commit = |writer: &mut IndexWriter| -> tantivy::Result<u64> {
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&chrono::Utc::now().to_rfc3339());
            prepared.commit()
        };
        let committed = commit(&mut self.writer).map_err(anyhow::Error::new);
        named_io(committed, &self.path, || {
            format!(
                "the index commit at {} failed (is the disk holding it full or read-only? free space there \
                 and run again; the last commit is intact)",
                self.path.display()
            )
        })?;
        Ok(())
    }

    /// Drops everything added since the last commit.
    pub fn rollback(&mut self) -> anyhow::Result<()> {
        self.writer.rollback()?;
        Ok(())
    }

    /// Waits for the merges that the commits scheduled (and those their results call for), then
    /// releases the writer and its lock. Anything not committed is dropped, as on a drop. A merge that
    /// fails leaves the committed index as it was (a merge is swapped in whole or not at all).
    pub fn finish(self) -> anyhow::Result<()> {
        let ArchiveWriter {
            writer,
            path,
            _lock: lock,
            ..
        } = self;
        let merged = writer.wait_merging_threads().map_err(anyhow::Error::new);
        let result = named_io(merged, &path, || {
            format!(
                "merging the index segments at {} failed (the committed index is intact; the next \
                 writer merges them again: is the disk full?)",
                path.display()
            )
        });
        drop(lock);
        result
    }
}

/// Adds to an error of the index writer what happened: a full disk named as such (see [`disk`]), anything
/// else with `otherwise`. An indexing thread that failed on a full disk makes the writer's later calls
/// fail with only "killed or panicked": the disk is checked then too.
///
/// [`disk`]: crate::disk
fn named_io<T>(
    result: anyhow::Result<T>,
    path: &Path,
    otherwise: impl FnOnce() -> String,
) -> anyhow::Result<T> {
    result.map_err(|e| {
        let full = crate::disk::is_full(&e)
            || (e.to_string().contains("killed") && disk_is_nearly_full(path));
        if full {
            let message = crate::disk::full_message(path);
            e.context(message)
        } else {
            e.context(otherwise())
        }
    })
}

/// Whether less than 1 MB is free on the disk holding `path` (when the error itself does not say why).
fn disk_is_nearly_full(path: &Path) -> bool {
    fs4::available_space(path).is_ok_and(|free| free < 1_000_000)
}

/// The URL of the original post an article forwards (`post.forwarded_from.url`), what the
/// `forwarded_from` field holds.
pub fn forwarded_url(article: &Article) -> Option<&str> {
    article
        .post
        .as_ref()?
        .forwarded_from
        .as_ref()?
        .url
        .as_deref()
        .filter(|u| !u.is_empty())
}

/// Rebuilds the index in `<dir>/tantivy` with this version's schema from the article JSON stored in each
/// document, whatever schema wrote it. The new index is built beside the old one and swapped in only when
/// complete, under the writer lock. `progress(done, total)` is called as it goes. Returns the articles
/// written.
pub fn reindex(dir: &Path, progress: &dyn Fn(u64, u64)) -> anyhow::Result<u64> {
    let _lock = WriterLock::acquire(dir)?;
    let old_path = dir.join("tantivy");
    if !old_path.join("meta.json").exists() {
        anyhow::bail!("no archive at {}: nothing to rebuild", old_path.display());
    }
    let old = Index::open_in_dir(&old_path)
        .with_context(|| format!("cannot open the old index at {}", old_path.display()))?;
    let doc_field = old.schema().get_field("doc").with_context(|| {
        format!(
            "the index at {} stores no articles (`doc` field): it cannot be rebuilt, only re-ingested",
            old_path.display()
        )
    })?;
    let reader: IndexReader = old
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let searcher = reader.searcher();
    let total = searcher.num_docs();
    let new_path = dir.join("tantivy.reindex");
    if new_path.exists() {
        std::fs::remove_dir_all(&new_path)
            .with_context(|| format!("cannot remove {}", new_path.display()))?;
    }
    std::fs::create_dir_all(&new_path)
        .with_context(|| format!("cannot create {}", new_path.display()))?;
    let (schema, fields) = schema();
    let index = Index::create_in_dir(&new_path, schema)
        .with_context(|| format!("cannot create {}", new_path.display()))?;
    // The rebuilt index holds the same articles: it keeps the old one's identity, if it has one.
    let identity = old_path.join(IDENTITY_FILE);
    if identity.exists() {
        std::fs::copy(&identity, new_path.join(IDENTITY_FILE))
            .with_context(|| format!("cannot copy {}", identity.display()))?;
    }
    let archive = Archive::from_index(index, fields, new_path.clone())?;
    let mut writer = archive.writer()?;
    let mut done = 0u64;
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        for doc_id in segment.doc_ids_alive() {
            let address = DocAddress::new(ord as u32, doc_id);
            let doc: TantivyDocument = searcher.doc(address).with_context(|| {
                format!(
                    "cannot read a stored article from {}: run `mediawatch check`",
                    old_path
                        .join(format!("{}.store", segment.segment_id().uuid_string()))
                        .display()
                )
            })?;
            let article: Article = doc
                .get_first(doc_field)
                // Schemas 1 and 2 stored the JSON as bytes, 3 as text.
                .and_then(|v| v.as_bytes().or_else(|| v.as_str().map(str::as_bytes)))
                .context("document without stored article")
                .and_then(|bytes| Ok(serde_json::from_slice(bytes)?))
                .with_context(|| {
                    format!("document {doc_id} of segment {ord} of the old index is unreadable")
                })?;
            writer.upsert(&article)?;
            done += 1;
            if done % 10_000 == 0 {
                writer.commit()?;
                progress(done, total);
            }
        }
    }
    writer.commit()?;
    writer.finish()?;
    drop(archive);
    drop(searcher);
    drop(reader);
    drop(old);
    let backup = dir.join(format!(
        "tantivy.old-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S")
    ));
    std::fs::rename(&old_path, &backup)
        .with_context(|| format!("cannot move {} away", old_path.display()))?;
    std::fs::rename(&new_path, &old_path)
        .with_context(|| format!("cannot move {} into place", new_path.display()))?;
    write_schema_version(dir)?;
    if let Err(e) = std::fs::remove_dir_all(&backup) {
        tracing::warn!("cannot remove the old index {}: {e}", backup.display());
    }
    progress(done, total);
    Ok(done)
}

/// The identity file inside the tantivy folder (tantivy deletes only files it manages).
const IDENTITY_FILE: &str = "index-id";

/// Writes a new random identity into the tantivy folder `path` and returns it.
fn write_new_identity(path: &Path) -> anyhow::Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    let file = path.join(IDENTITY_FILE);
    std::fs::write(&file, format!("{id}\n"))
        .with_context(|| format!("cannot write {}", file.display()))?;
    Ok(id)
}

/// The schema marker file, `<dir>/index-schema-version`.
pub fn schema_version_file(dir: &Path) -> PathBuf {
    dir.join("index-schema-version")
}

/// What the schema marker says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaMarker {
    /// No marker (an index from before markers, or none yet).
    Missing,
    /// The schema version written.
    Version(u32),
    /// Unreadable or not a number: why.
    Garbled(String),
}

/// Reads the schema marker of the index folder `dir`.
pub fn read_schema_marker(dir: &Path) -> SchemaMarker {
    match std::fs::read(schema_version_file(dir)) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => SchemaMarker::Missing,
        Err(e) => SchemaMarker::Garbled(format!("unreadable: {e}")),
        Ok(bytes) => match std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            Some(v) => SchemaMarker::Version(v),
            None => SchemaMarker::Garbled(format!(
                "{:?} is not a version number",
                String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
            )),
        },
    }
}

/// Rewrites the schema marker of `dir` for an index whose stored schema is this version's; refuses
/// (saying to reindex) an index with another schema.
pub fn rewrite_schema_marker(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("tantivy");
    let index = Index::open_in_dir(&path)
        .with_context(|| format!("cannot open the index at {}", path.display()))?;
    if index.schema() != schema().0 {
        anyhow::bail!(
            "the index at {} was not written with this version's schema (marker not rewritten): run \
             `mediawatch reindex`",
            path.display()
        );
    }
    write_schema_version(dir)
}

fn write_schema_version(dir: &Path) -> anyhow::Result<()> {
    let file = schema_version_file(dir);
    std::fs::write(&file, format!("{SCHEMA_VERSION}\n"))
        .with_context(|| format!("cannot write {}", file.display()))
}

/// Refuses an index written with another schema, saying what to do.
fn check_schema_version(dir: &Path) -> anyhow::Result<()> {
    let file = schema_version_file(dir);
    let found = match read_schema_marker(dir) {
        SchemaMarker::Version(v) => v,
        // Indexes from before the marker had none: schema 1.
        SchemaMarker::Missing => 1,
        SchemaMarker::Garbled(why) => anyhow::bail!(
            "the schema marker {} is garbled ({why}), so the schema of the index beside it is unknown: \
             run `mediawatch check --repair` (it rewrites the marker when the index has this version's schema)",
            file.display()
        ),
    };
    if found != SCHEMA_VERSION {
        anyhow::bail!(
            "the index at {} was written by {} mediawatch (index schema {found}, this one reads {SCHEMA_VERSION}) \
             and must be rebuilt: run `mediawatch reindex` (it rebuilds the index from the articles it stores)",
            dir.join("tantivy").display(),
            if found < SCHEMA_VERSION { "an older" } else { "a newer" },
        );
    }
    Ok(())
}

/// The one-writer lock: an OS advisory lock (`flock`, through fs4) on `<index>/writer.lock`, which
/// also holds the PID and start time of the process that writes, for the "locked by PID" message. The
/// OS lock dies with its process (a crash, `kill -9`, a reboot), so a lock file left behind never blocks,
/// whatever PID it names. Taking it again in the process that holds it is allowed (and that guard does
/// not release it).
#[derive(Debug)]
pub struct WriterLock {
    path: PathBuf,
    /// The held lock, in the guard that took it; `None` in a guard taken again by the same process.
    held: Option<HeldLock>,
}

#[derive(Debug)]
struct HeldLock {
    /// The open lock file: closing it releases the OS lock.
    _file: std::fs::File,
    /// The key in [`HELD_HERE`].
    key: PathBuf,
}

/// Lock files this process holds (canonical paths): the OS lock conflicts with a second open of the same
/// file even within one process, so taking it again is answered from here.
static HELD_HERE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// A live process holds the lock.
#[derive(Debug, thiserror::Error)]
#[error("the index at {dir} is locked by {} (started {started}): another `mediawatch ingest`, `run`, `retag` or `reindex` is writing; wait for it or stop it (lock file {lock})", pid.map_or_else(|| "another process".to_string(), |p| format!("PID {p}")))]
pub struct LockedError {
    /// The index folder.
    pub dir: String,
    /// The holder's PID, as it wrote (`None` if it has not written it yet).
    pub pid: Option<u32>,
    /// When the holder took the lock (RFC 3339), as it wrote.
    pub started: String,
    /// The lock file.
    pub lock: String,
}

impl WriterLock {
    /// Takes the lock of the index folder `dir`, or fails at once with [`LockedError`] if another
    /// process holds it.
    pub fn acquire(dir: &Path) -> anyhow::Result<WriterLock> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("writer.lock");
        let key = std::fs::canonicalize(dir)
            .with_context(|| format!("cannot resolve {}", dir.display()))?
            .join("writer.lock");
        let mut held_here = HELD_HERE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if held_here.contains(&key) {
            return Ok(WriterLock { path, held: None });
        }
        for _ in 0..3 {
            let Some(mut file) = try_lock_file(&path)? else {
                return Err(locked_error(dir, &path).into());
            };
            // The last holder removes the file before it lets go: if that happened between our open and
            // our lock, we hold a file nobody else will open. Open the one at the path again.
            if !is_file_at(&file, &path) {
                continue;
            }
            use std::io::Write;
            let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            file.set_len(0)
                .and_then(|()| writeln!(file, "pid={}\nstarted={started}", std::process::id()))
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            held_here.push(key.clone());
            return Ok(WriterLock {
                path,
                held: Some(HeldLock { _file: file, key }),
            });
        }
        anyhow::bail!(
            "cannot take the index lock {}: it was removed three times while being taken; \
             other mediawatch processes are starting and stopping, try again",
            path.display()
        )
    }
}

/// Opens (creating it if missing, never truncating) the file at `path` and takes an exclusive OS lock
/// on it (`flock` through fs4) without waiting: `None` when another open file holds it. The lock goes
/// when the returned file closes.
pub fn try_lock_file(path: &Path) -> anyhow::Result<Option<std::fs::File>> {
    use fs4::fs_std::FileExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    let locked = file
        .try_lock_exclusive()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(locked.then_some(file))
}

/// The refusal when another process holds the lock: its PID and start time as it wrote them. The
/// holder writes them just after it takes the lock, so an empty file is read again for a moment.
fn locked_error(dir: &Path, path: &Path) -> LockedError {
    let mut text = String::new();
    for _ in 0..20 {
        text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains("started=") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .map(str::trim)
            .map(String::from)
    };
    LockedError {
        dir: dir.display().to_string(),
        pid: field("pid").and_then(|p| p.parse::<u32>().ok()),
        started: field("started").unwrap_or_else(|| "?".into()),
        lock: path.display().to_string(),
    }
}

/// Whether the open `file` is still the file at `path` (not removed or replaced since it was opened).
#[cfg(unix)]
fn is_file_at(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Elsewhere the lock file is never removed (see [`WriterLock`]'s `Drop`), so it is always the same.
#[cfg(not(unix))]
fn is_file_at(_file: &std::fs::File, _path: &Path) -> bool {
    true
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        let mut held_here = HELD_HERE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held_here.retain(|k| *k != held.key);
        // Removed while still locked (a process that opened it meanwhile sees it gone and opens the new
        // one); the OS lock goes when the file closes, just after.
        #[cfg(unix)]
        let _ = std::fs::remove_file(&self.path);
        drop(held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_kept_by_reopen_and_reindex_and_new_for_a_new_index() {
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open_or_create(dir.path()).unwrap();
        let id = archive.identity().unwrap();
        assert_eq!(archive.identity().unwrap(), id);
        drop(archive);
        assert_eq!(Archive::open(dir.path()).unwrap().identity().unwrap(), id);
        reindex(dir.path(), &|_, _| {}).unwrap();
        assert_eq!(Archive::open(dir.path()).unwrap().identity().unwrap(), id);
        // The index is lost (its identity file is not): the index created in its place is another.
        std::fs::remove_file(dir.path().join("tantivy/meta.json")).unwrap();
        let other = Archive::open_or_create(dir.path())
            .unwrap()
            .identity()
            .unwrap();
        assert_ne!(other, id);
        // A garbled identity file is replaced, not trusted.
        std::fs::write(dir.path().join("tantivy").join(IDENTITY_FILE), "x").unwrap();
        let third = Archive::open(dir.path()).unwrap().identity().unwrap();
        assert!(uuid::Uuid::try_parse(&third).is_ok() && third != other);
    }
}
