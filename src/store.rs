//! The embedded state store (redb, one file `state.redb` in the index folder): per-feed fetch state and
//! raw page snapshots with their HTTP metadata (provenance, and re-extraction without refetching).
//!
//! It deliberately does not record which articles are archived: the committed tantivy index is the only
//! source of truth for that, so a crash between the index commit and a store write can never make the
//! store claim an article the index lacks. Feed validators are written only after the index commit that
//! covers their entries. Pending entries (pages that failed transiently, to be tried again) are entries
//! NOT archived, also written after that commit. The alerts' journal holds the ids of each batch about
//! to be committed (written before its commit: an id the index lacks matches nothing, so it claims
//! nothing), the alerts' marks over it and their outbox, written together after the commits.

use std::io::{Read, Write};
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use redb::{
    ConcurrencyMode, Database, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable,
    ReadableTableMetadata, TableDefinition, TableHandle,
};
use serde::{Deserialize, Serialize};

use crate::model::{Entry, Page};
use crate::revisit::{RevisitState, Schedule, StoredVersion};

const FEEDS: TableDefinition<&str, &[u8]> = TableDefinition::new("feeds");
const SNAPSHOTS: TableDefinition<&str, &[u8]> = TableDefinition::new("snapshots");
/// article id -> 8-byte LE publication timestamp + near-duplicate signature bytes.
const SIGNATURES: TableDefinition<&str, &[u8]> = TableDefinition::new("signatures");
/// Small named values: `last_digest` (the last day the daemon wrote a digest for, `YYYY-MM-DD`).
const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
/// Backfill positions by feed id (JSON [`BackfillState`]).
const BACKFILL: TableDefinition<&str, &[u8]> = TableDefinition::new("backfill");
/// Entries whose page failed transiently, by (feed id, entry URL) (JSON [`PendingEntry`]). Entries NOT
/// archived: written after the index commit of the pass that failed them, removed once archived.
const PENDING: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("pending");
/// The alerts' journal: batch sequence number -> JSON list of the article ids that batch archived.
/// Written before the index commit that holds them (an id whose article was never committed matches
/// nothing); a batch is removed once every alert's mark is past it.
const ALERT_BATCHES: TableDefinition<u64, &[u8]> = TableDefinition::new("alert_batches");
/// Alert id -> JSON [`AlertMark`]: the last journal batch the alert was evaluated over.
const ALERT_MARKS: TableDefinition<&str, &[u8]> = TableDefinition::new("alert_marks");
/// Message sequence number -> JSON [`OutboxEntry`]: every alert message and its deliveries.
const ALERT_OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("alert_outbox");
/// Message sequence number -> when its next delivery attempt is due (whole Unix seconds: a delivery
/// is due in the second its time falls in), for the messages
/// with a pending delivery only: a delivery round reads these, not the whole outbox.
const ALERT_DUE: TableDefinition<u64, i64> = TableDefinition::new("alert_due");
/// Revisit schedule and memory by article id (JSON [`RevisitState`]).
const REVISITS: TableDefinition<&str, &[u8]> = TableDefinition::new("revisits");
/// Kept versions by (article id, version number) (JSON [`StoredVersion`]); only inserted, never replaced.
const VERSIONS: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("versions");
/// The page snapshot of each kept version, by (article id, version number), in the snapshots' layout.
const VERSION_SNAPSHOTS: TableDefinition<(&str, u32), &[u8]> =
    TableDefinition::new("version_snapshots");
/// Revisit rows by when they are next due: (due time in Unix microseconds, article id). Derived from
/// `revisits` under the [`Schedule`] whose fingerprint `meta` holds as `revisit_schedule`, and written in
/// the same transactions as those rows, so a pass reads the rows that are due and no other.
const REVISIT_DUE: TableDefinition<(i64, &str), ()> = TableDefinition::new("revisit_due");
/// The [`Schedule::fingerprint`] the due table was computed under.
const REVISIT_SCHEDULE: &str = "revisit_schedule";
const LAST_DIGEST: &str = "last_digest";
/// The last alert journal batch removed (the journal's numbers go on after it).
const ALERT_BATCH_FLOOR: &str = "alert_batch_floor";
/// The identity of the index ([`crate::index::Archive::identity`]) the feed validators describe.
const INDEX_ID: &str = "index_id";

/// What we remember about one feed between passes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeedState {
    /// `ETag` of the last good response.
    pub etag: Option<String>,
    /// `Last-Modified` of the last good response.
    pub last_modified: Option<String>,
    /// sha256 of the last processed body (servers that ignore conditional GET).
    pub body_sha256: Option<String>,
    /// Last time a fetch succeeded (200 or 304).
    pub last_success: Option<DateTime<Utc>>,
    /// Last time a fetch was tried.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// The last error message.
    pub last_error: Option<String>,
    /// Entries seen in feed documents, all passes.
    pub entries_seen: u64,
    /// Articles archived from this feed, all passes.
    pub articles_archived: u64,
    /// No fetch before this time (failure backoff or the server's `Retry-After`).
    #[serde(default)]
    pub backoff_until: Option<DateTime<Utc>>,
    /// Why the backoff.
    #[serde(default)]
    pub backoff_reason: Option<String>,
    /// Current polling interval of the daemon.
    #[serde(default)]
    pub interval_secs: Option<u64>,
    /// When the daemon fetches the feed next.
    #[serde(default)]
    pub next_due: Option<DateTime<Utc>>,
    /// Last pass that found new entries.
    #[serde(default)]
    pub last_new_entries: Option<DateTime<Utc>>,
}

/// An entry whose page failed transiently, kept to be tried again by later passes of its feed (so the
/// feed's validators can be saved and the feed need not be read in full to find it again). NOT archived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingEntry {
    /// The entry as its feed gave it (its `feed_id` and `url` are the row's key).
    pub entry: Entry,
    /// Attempts so far (each one failed transiently).
    pub attempts: u32,
    /// The last attempt's error.
    pub last_error: String,
    /// The last attempt's HTTP status (0: no response, such as a timeout).
    pub last_status: u16,
    /// When the next attempt is due ([`crate::schedule::page_retry_at`]).
    pub next_try: DateTime<Utc>,
}

/// Where a backfill of one source stands, so an interrupted one resumes (`mediawatch backfill`). Written after
/// each commit: what it names as done is in the archive.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BackfillState {
    /// The range asked for, RFC 3339: a run with another range starts over.
    pub since: String,
    /// End of the range, RFC 3339.
    pub until: String,
    /// Sitemap files read in full and archived.
    #[serde(default)]
    pub done: Vec<String>,
    /// The next page to read (a Telegram channel's older page), when the walk is paged.
    #[serde(default)]
    pub next_page: Option<String>,
    /// Whether the whole range has been read.
    #[serde(default)]
    pub finished: bool,
    /// Articles archived by this backfill so far.
    #[serde(default)]
    pub archived: u64,
    /// Last update.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// The alerts' journal ([`Store::alert_batches`]): its batches (sequence number, article ids), oldest
/// first, and the last sequence number ever given.
pub type AlertJournal = (Vec<(u64, Vec<String>)>, u64);

/// Where an alert stands: the journal batches it has been evaluated over, and its last message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertMark {
    /// The last journal batch evaluated (batches after it are new to the alert).
    pub batch: u64,
    /// When its last message was enqueued (hourly and daily alerts wait for their period).
    #[serde(default)]
    pub last_fired: Option<DateTime<Utc>>,
    /// A spike alert's ongoing spike: when the one it fired for began (None when it is not spiking).
    #[serde(default)]
    pub spike_since: Option<DateTime<Utc>>,
}

/// One alert message in the outbox, with the state of each of its deliveries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The message's sequence number (its key; 0 before [`Store::commit_alert_evaluation`] gives it one).
    #[serde(default)]
    pub seq: u64,
    /// The message (the webhook's JSON body).
    pub message: crate::model::AlertMessage,
    /// Sent as `Idempotency-Key` with every attempt: the same for every retry of this message.
    pub idempotency_key: String,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
    /// One per channel (a webhook now; email later).
    pub deliveries: Vec<Delivery>,
}

impl OutboxEntry {
    /// When its earliest pending delivery is due (None when none is pending).
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.deliveries
            .iter()
            .filter(|d| d.state == DeliveryState::Pending)
            .map(|d| d.next_attempt)
            .min()
    }
}

/// What [`Store::recent_outbox`] read: the newest entries of each alert, newest first, and each alert's
/// number of entries in the outbox.
#[derive(Debug, Clone, Default)]
pub struct RecentOutbox {
    /// Entries, newest first (at most the asked number per alert).
    pub entries: Vec<OutboxEntry>,
    /// Entries per alert id in the outbox.
    pub counts: std::collections::HashMap<String, usize>,
}

/// The state of one delivery of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// `webhook`.
    pub channel: String,
    /// Where: the webhook URL.
    pub target: String,
    /// The name of the environment variable holding the HMAC key, read at each attempt.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// Pending, delivered or failed.
    pub state: DeliveryState,
    /// Attempts so far.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt: DateTime<Utc>,
    /// The last attempt's error.
    #[serde(default)]
    pub last_error: Option<String>,
    /// When the receiver acknowledged it (2xx), or when it was given up.
    #[serde(default)]
    pub done_at: Option<DateTime<Utc>>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Not yet acknowledged; tried again at `next_attempt`.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Refused for good (4xx), or retried for the whole retry window.
    Failed,
}

impl DeliveryState {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }
}

/// What [`Store::tie_to_index`] dropped because the store described another index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Untied {
    /// The identity the store recorded before (None: a store from before identities, or a new one).
    pub previous: Option<String>,
    /// Feeds whose validators were dropped.
    pub feed_validators: usize,
    /// Near-duplicate signatures dropped.
    pub signatures: u64,
    /// Backfill positions dropped.
    pub backfill_positions: u64,
}

impl Untied {
    /// Whether anything was dropped.
    pub fn dropped_anything(&self) -> bool {
        self.feed_validators > 0 || self.signatures > 0 || self.backfill_positions > 0
    }
}

/// Feed states by id, and the ids of those that do not decode ([`Store::feed_states_checked`]).
pub type FeedStates = (Vec<(String, FeedState)>, Vec<String>);

/// HTTP metadata of a stored page snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Requested URL.
    pub url: String,
    /// URL after redirects.
    pub final_url: String,
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// When it was fetched.
    pub fetched_at: DateTime<Utc>,
    /// Body length before compression.
    pub body_len: usize,
    /// Every response header (name, value).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

/// The store handle: one writer process at a time (redb locks the file), any number of readers beside it.
pub struct Store {
    db: Db,
    /// The file, for errors.
    path: std::path::PathBuf,
}

enum Db {
    Write(Database),
    Read(ReadOnlyDatabase),
    /// Read-only too: a file left unclean, repaired in memory ([`open_unclean_in_memory`]).
    RepairedInMemory(Database),
}

/// The rows of `table` that can be read, in key order, as owned keys and values; the first error (the
/// table cannot be opened, or a row cannot be read: the rest of the table is then left) goes to
/// `unread`. A table that does not exist has no rows.
fn copy_rows<K, O>(
    txn: &ReadTransaction,
    table: TableDefinition<K, &[u8]>,
    unread: &mut Vec<String>,
) -> Vec<(O, Vec<u8>)>
where
    K: redb::Key + 'static,
    for<'a> K::SelfType<'a>: OwnedKey<O>,
{
    let mut rows = Vec::new();
    let name = table.name().to_string();
    let t = match txn.open_table(table) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return rows,
        Err(e) => {
            unread.push(format!("table `{name}` ({e})"));
            return rows;
        }
    };
    let iter = match t.iter() {
        Ok(i) => i,
        Err(e) => {
            unread.push(format!("table `{name}` ({e})"));
            return rows;
        }
    };
    for row in iter {
        match row {
            Ok((k, v)) => rows.push((k.value().owned(), v.value().to_vec())),
            Err(e) => {
                unread.push(format!("table `{name}` after {} rows ({e})", rows.len()));
                break;
            }
        }
    }
    rows
}

/// A borrowed redb key as an owned value ([`copy_rows`]).
trait OwnedKey<O> {
    fn owned(&self) -> O;
}

impl OwnedKey<String> for &str {
    fn owned(&self) -> String {
        (*self).to_string()
    }
}

impl OwnedKey<(String, u32)> for (&str, u32) {
    fn owned(&self) -> (String, u32) {
        (self.0.to_string(), self.1)
    }
}

/// The store's page cache. redb's default (1 GiB) fills as the file grows and is never given back: a
/// daemon's memory grew with every article archived (about 2.4 kB each, the store's growth, in the
/// 30-minute soak). The store is read by key (a feed's state, an article's snapshot) and written in
/// small batches, so a small cache costs little.
const CACHE_BYTES: usize = 32 << 20;

impl Store {
    /// Opens or creates `state.redb` in `dir` for writing. A second writer gets a clear error.
    pub fn open(dir: &Path) -> anyhow::Result<Store> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("state.redb");
        let db = match redb::Builder::new()
        .set_cache_size(CACHE_BYTES)
            .set_concurrency_mode(ConcurrencyMode::SingleWriter)
            .create(&path)
        {
            Ok(db) => db,
            Err(e @ redb::DatabaseError::DatabaseAlreadyOpen) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot open the state store {} for writing (is another `mediawatch ingest` or `run` using it?)",
                        path.display()
                    )
                })
            }
            Err(e) => return Err(damaged(&path, e)),
        };
        let store = Store {
            db: Db::Write(db),
            path,
        };
        store.named((|| -> anyhow::Result<()> {
            let txn = store.writable()?.begin_write()?;
            txn.open_table(FEEDS)?;
            txn.open_table(SNAPSHOTS)?;
            txn.open_table(SIGNATURES)?;
            txn.open_table(META)?;
            txn.open_table(BACKFILL)?;
            txn.open_table(PENDING)?;
            txn.open_table(REVISITS)?;
            txn.open_table(VERSIONS)?;
            txn.open_table(VERSION_SNAPSHOTS)?;
            txn.open_table(REVISIT_DUE)?;
            txn.open_table(ALERT_BATCHES)?;
            txn.open_table(ALERT_MARKS)?;
            txn.open_table(ALERT_OUTBOX)?;
            txn.open_table(ALERT_DUE)?;
            txn.commit()?;
            Ok(())
        })())?;
        Ok(store)
    }

    /// Opens `state.redb` in `dir` read-only; works while a writer (`ingest`, `run`) has it open.
    /// None when there is no store yet.
    pub fn open_read_only(dir: &Path) -> anyhow::Result<Option<Store>> {
        let path = dir.join("state.redb");
        if !path.exists() {
            return Ok(None);
        }
        match redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .set_concurrency_mode(ConcurrencyMode::SingleWriter)
            .open_read_only(&path)
        {
            Ok(db) => Ok(Some(Store {
                db: Db::Read(db),
                path,
            })),
            // The file was left by a writer that did not close it (killed, or a failed commit) and no
            // writer is running to repair it: redb refuses a read-only open of such a file.
            Err(redb::DatabaseError::RepairAborted) => {
                let db = open_unclean_in_memory(&path)?;
                warn_unclean(&path);
                Ok(Some(Store {
                    db: Db::RepairedInMemory(db),
                    path,
                }))
            }
            Err(e) => Err(damaged(&path, e)),
        }
    }

    /// Reads every table and decodes every value: what cannot be read, by table and key.
    pub fn verify(&self) -> anyhow::Result<StoreHealth> {
        let txn = self.begin_read()?;
        let mut problems = Vec::new();
        let bad_feed_states = bad_keys(&txn, FEEDS, &mut problems, |v| {
            serde_json::from_slice::<FeedState>(v).is_ok()
        });
        let bad_snapshots = bad_keys(&txn, SNAPSHOTS, &mut problems, |v| {
            decode_snapshot(v).is_ok()
        });
        let bad_signatures = bad_keys(&txn, SIGNATURES, &mut problems, |v| v.len() >= 8);
        let bad_backfill = bad_keys(&txn, BACKFILL, &mut problems, |v| {
            serde_json::from_slice::<BackfillState>(v).is_ok()
        });
        let bad_revisits = bad_keys(&txn, REVISITS, &mut problems, |v| {
            serde_json::from_slice::<RevisitState>(v).is_ok()
        });
        let mut bad_versions = bad_numbered_keys(&txn, VERSIONS, &mut problems, |v| {
            serde_json::from_slice::<StoredVersion>(v).is_ok()
        });
        bad_versions.extend(bad_numbered_keys(
            &txn,
            VERSION_SNAPSHOTS,
            &mut problems,
            |v| decode_snapshot(v).is_ok(),
        ));
        let bad_alert_batches = bad_seqs(&txn, ALERT_BATCHES, &mut problems, |v| {
            serde_json::from_slice::<Vec<String>>(v).is_ok()
        });
        let bad_alert_marks = bad_keys(&txn, ALERT_MARKS, &mut problems, |v| {
            serde_json::from_slice::<AlertMark>(v).is_ok()
        });
        let bad_alert_outbox = bad_seqs(&txn, ALERT_OUTBOX, &mut problems, |v| {
            serde_json::from_slice::<OutboxEntry>(v).is_ok()
        });
        match txn.open_table(META) {
            Ok(t) => {
                if let Err(e) = t
                    .iter()
                    .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                {
                    problems.push(format!("table `meta` unreadable: {e}"));
                }
            }
            Err(redb::TableError::TableDoesNotExist(_)) => {}
            Err(e) => problems.push(format!("table `meta` unreadable: {e}")),
        }
        Ok(StoreHealth {
            problems,
            bad_feed_states,
            bad_snapshots,
            bad_signatures,
            bad_backfill,
            bad_revisits,
            bad_versions,
            bad_alert_batches,
            bad_alert_marks,
            bad_alert_outbox,
        })
    }

    /// Drops the feed states and backfill positions named (unreadable ones: relearned by the next pass).
    pub fn drop_rows(&self, feeds: &[String], backfill: &[String]) -> anyhow::Result<()> {
        self.named((|| -> anyhow::Result<()> {
            let txn = self.writable()?.begin_write()?;
            {
                let mut table = txn.open_table(FEEDS)?;
                for id in feeds {
                    table.remove(id.as_str())?;
                }
                let mut table = txn.open_table(BACKFILL)?;
                for id in backfill {
                    table.remove(id.as_str())?;
                }
            }
            txn.commit()?;
            Ok(())
        })())
    }

    /// Drops the alert rows named (unreadable ones): journal batches (their articles fire no alert),
    /// marks (the alert starts again at the journal's end when the pipeline opens) and outbox messages
    /// (with their due time).
    pub fn drop_alert_rows(
        &self,
        batches: &[u64],
        marks: &[String],
        outbox: &[u64],
    ) -> anyhow::Result<()> {
        self.named((|| -> anyhow::Result<()> {
            let txn = self.writable()?.begin_write()?;
            {
                let mut table = txn.open_table(ALERT_BATCHES)?;
                for seq in batches {
                    table.remove(*seq)?;
                }
                let mut table = txn.open_table(ALERT_MARKS)?;
                for id in marks {
                    table.remove(id.as_str())?;
                }
                let mut table = txn.open_table(ALERT_OUTBOX)?;
                let mut due = txn.open_table(ALERT_DUE)?;
                for seq in outbox {
                    table.remove(*seq)?;
                    due.remove(*seq)?;
                }
            }
            txn.commit()?;
            Ok(())
        })())
    }

    /// Writes an alert journal batch, mark and outbox message that do not decode (for tests of `check`).
    #[cfg(test)]
    pub(crate) fn put_garbled_alert_rows_for_test(&self, seq: u64, alert: &str) {
        let txn = self.writable().unwrap().begin_write().unwrap();
        let garbled = b"{not json".as_slice();
        txn.open_table(ALERT_BATCHES)
            .unwrap()
            .insert(seq, garbled)
            .unwrap();
        txn.open_table(ALERT_MARKS)
            .unwrap()
            .insert(alert, garbled)
            .unwrap();
        txn.open_table(ALERT_OUTBOX)
            .unwrap()
            .insert(seq, garbled)
            .unwrap();
        txn.open_table(ALERT_DUE)
            .unwrap()
            .insert(seq, 0i64)
            .unwrap();
        txn.commit().unwrap();
    }

    /// Writes a feed state that does not decode (for tests of `check`).
    #[cfg(test)]
    pub(crate) fn put_garbled_feed_state_for_test(&self, feed_id: &str) {
        let txn = self.writable().unwrap().begin_write().unwrap();
        txn.open_table(FEEDS)
            .unwrap()
            .insert(feed_id, b"{not json".as_slice())
            .unwrap();
        txn.commit().unwrap();
    }

    /// Writes a revisit row and a version 1 record that do not decode (for tests of `check`).
    #[cfg(test)]
    pub(crate) fn put_garbled_revisit_for_test(&self, article_id: &str) {
        let txn = self.writable().unwrap().begin_write().unwrap();
        txn.open_table(REVISITS)
            .unwrap()
            .insert(article_id, b"{not json".as_slice())
            .unwrap();
        txn.open_table(VERSIONS)
            .unwrap()
            .insert((article_id, 1), b"{not json".as_slice())
            .unwrap();
        txn.commit().unwrap();
    }

    /// Replaces every near-duplicate signature with these, in one transaction.
    pub fn replace_signatures(&self, rows: &[(String, i64, Vec<u8>)]) -> anyhow::Result<()> {
        let txn = self.writable()?.begin_write()?;
        txn.open_table(SIGNATURES)?.retain(|_, _| false)?;
        txn.commit()?;
        self.put_signatures(rows)
    }

    /// The JSON row under `key` in `table`, `None` when the table or the row is absent; a row that
    /// does not decode is an error naming it (`what` and the key).
    fn json_row<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        key: &str,
        what: &str,
    ) -> anyhow::Result<Option<T>> {
        self.named((|| -> anyhow::Result<Option<T>> {
            let txn = self.begin_read()?;
            let Some(table) = read_table(&txn, table)? else {
                return Ok(None);
            };
            match table.get(key)? {
                Some(v) => Ok(Some(
                    serde_json::from_slice(v.value())
                        .with_context(|| format!("corrupt {what} {key}"))?,
                )),
                None => Ok(None),
            }
        })())
    }

    /// Names the file in an error of a store operation, and what to do.
    fn named<T>(&self, result: anyhow::Result<T>) -> anyhow::Result<T> {
        result.map_err(|e| {
            if crate::disk::is_full(&e) {
                let message = crate::disk::full_message(&self.path);
                return e.context(message);
            }
            e.context(format!(
                "the state store {} cannot be read or written (damaged?): run `mediawatch check`, and \
                 `mediawatch check --repair` to rebuild what it finds (the archive is not touched)",
                self.path.display()
            ))
        })
    }

    fn begin_read(&self) -> anyhow::Result<ReadTransaction> {
        Ok(match &self.db {
            Db::Write(d) | Db::RepairedInMemory(d) => d.begin_read()?,
            Db::Read(d) => d.begin_read()?,
        })
    }

    fn writable(&self) -> anyhow::Result<&Database> {
        match &self.db {
            Db::Write(d) => Ok(d),
            Db::Read(_) | Db::RepairedInMemory(_) => {
                anyhow::bail!("the state store was opened read-only")
            }
        }
    }

    /// Ties the store to the index `index_id` names. When the store last described another index (the
    /// index was lost and created anew, or the store predates identities), what claims that index's
    /// contents is dropped in one transaction: every feed's validators (ETag, Last-Modified, body hash;
    /// else an unchanged feed would never be read again and its articles never archived again), the
    /// near-duplicate signatures (of articles the index may no longer hold; archiving again writes them
    /// again) and the backfill positions (their "done" files were archived there). A feed's counters,
    /// health and schedule, the page snapshots (provenance, rewritten when archived again) and the last
    /// digest day (a fact about digest files, not about the index) are kept. Returns what was dropped,
    /// None when the store already described this index.
    pub fn tie_to_index(&self, index_id: &str) -> anyhow::Result<Option<Untied>> {
        self.named((|| -> anyhow::Result<Option<Untied>> {
            let txn = self.writable()?.begin_write()?;
            let mut dropped = Untied::default();
            {
                let mut meta = txn.open_table(META)?;
                let recorded = meta.get(INDEX_ID)?.map(|v| v.value().to_string());
                if recorded.as_deref() == Some(index_id) {
                    drop(meta);
                    txn.abort()?;
                    return Ok(None);
                }
                dropped.previous = recorded;
                meta.insert(INDEX_ID, index_id)?;
            }
            {
                let mut feeds = txn.open_table(FEEDS)?;
                let mut reset = Vec::new();
                for row in feeds.iter()? {
                    let (k, v) = row?;
                    let Ok(mut state) = serde_json::from_slice::<FeedState>(v.value()) else {
                        continue;
                    };
                    if state.etag.is_some()
                        || state.last_modified.is_some()
                        || state.body_sha256.is_some()
                    {
                        state.etag = None;
                        state.last_modified = None;
                        state.body_sha256 = None;
                        reset.push((k.value().to_string(), serde_json::to_vec(&state)?));
                    }
                }
                for (id, state) in &reset {
                    feeds.insert(id.as_str(), state.as_slice())?;
                }
                dropped.feed_validators = reset.len();
            }
            {
                let mut signatures = txn.open_table(SIGNATURES)?;
                dropped.signatures = signatures.len()?;
                signatures.retain(|_, _| false)?;
            }
            {
                let mut backfill = txn.open_table(BACKFILL)?;
                dropped.backfill_positions = backfill.len()?;
                backfill.retain(|_, _| false)?;
            }
            txn.commit()?;
            Ok(Some(dropped))
        })())
    }

    /// The state of one feed (default when never fetched).
    pub fn feed_state(&self, feed_id: &str) -> anyhow::Result<FeedState> {
        Ok(self
            .json_row(FEEDS, feed_id, "state for feed")?
            .unwrap_or_default())
    }

    /// All feed states by id. A state that does not decode (a damaged store) is left out with a warning
    /// (the feed shows as new); [`Store::feed_states_checked`] names them.
    pub fn feed_states(&self) -> anyhow::Result<Vec<(String, FeedState)>> {
        let (states, unreadable) = self.feed_states_checked()?;
        for feed in unreadable {
            tracing::warn!(
                file = %self.path.display(),
                feed,
                "a feed state does not decode and is left out (the feed shows as new); \
                 run `mediawatch check --repair`"
            );
        }
        Ok(states)
    }

    /// All feed states by id, and apart the ids of those that do not decode, in one read.
    pub fn feed_states_checked(&self) -> anyhow::Result<FeedStates> {
        self.named((|| -> anyhow::Result<FeedStates> {
            let txn = self.begin_read()?;
            let table = txn.open_table(FEEDS)?;
            let (mut states, mut unreadable) = (Vec::new(), Vec::new());
            for row in table.iter()? {
                let (k, v) = row?;
                match serde_json::from_slice(v.value()) {
                    Ok(state) => states.push((k.value().to_string(), state)),
                    Err(_) => unreadable.push(k.value().to_string()),
                }
            }
            Ok((states, unreadable))
        })())
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes several feed states in one durable transaction.
    pub fn put_feed_states(&self, states: &[(String, FeedState)]) -> anyhow::Result<()> {
        self.named((|| -> anyhow::Result<()> {
            let txn = self.writable()?.begin_write()?;
            {
                let mut table = txn.open_table(FEEDS)?;
                for (id, state) in states {
                    table.insert(id.as_str(), serde_json::to_vec(state)?.as_slice())?;
                }
            }
            txn.commit()?;
            Ok(())
        })())
    }

    /// Stores the raw page under the article id, compressed, with its HTTP metadata.
    pub fn put_snapshots(&self, snapshots: &[(String, &Page)]) -> anyhow::Result<()> {
        self.named((|| -> anyhow::Result<()> {
            if snapshots.is_empty() {
                return Ok(());
            }
            let txn = self.writable()?.begin_write()?;
            {
                let mut table = txn.open_table(SNAPSHOTS)?;
                for (id, page) in snapshots {
                    table.insert(id.as_str(), encode_snapshot(page)?.as_slice())?;
                }
            }
            txn.commit()?;
            Ok(())
        })())
    }

    /// Stores near-duplicate signatures with the article's publication time (seconds).
    pub fn put_signatures(&self, rows: &[(String, i64, Vec<u8>)]) -> anyhow::Result<()> {
        self.named((|| -> anyhow::Result<()> {
            if rows.is_empty() {
                return Ok(());
            }
            let txn = self.writable()?.begin_write()?;
            {
                let mut table = txn.open_table(SIGNATURES)?;
                for (id, published, sig) in rows {
                    let mut value = published.to_le_bytes().to_vec();
                    value.extend_from_slice(sig);
                    table.insert(id.as_str(), value.as_slice())?;
                }
            }
            txn.commit()?;
            Ok(())
        })())
    }

    /// Every stored signature: (article id, publication time, signature bytes), oldest first.
    pub fn signatures(&self) -> anyhow::Result<Vec<(String, i64, Vec<u8>)>> {
        self.named((|| -> anyhow::Result<Vec<(String, i64, Vec<u8>)>> {
            let txn = self.begin_read()?;
            let Some(table) = read_table(&txn, SIGNATURES)? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for row in table.iter()? {
                let (k, v) = row?;
                let v = v.value();
                if v.len() >= 8 {
                    let published =
                        i64::from_le_bytes([v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]]);
                    out.push((k.value().to_string(), published, v[8..].to_vec()));
                }
            }
            out.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            Ok(out)
        })())
    }

    /// The last day the daemon wrote a digest for (None before the first).
    pub fn last_digest(&self) -> anyhow::Result<Option<chrono::NaiveDate>> {
        self.named((|| -> anyhow::Result<Option<chrono::NaiveDate>> {
            let txn = self.begin_read()?;
            let Some(table) = read_table(&txn, META)? else {
                return Ok(None);
            };
            let Some(v) = table.get(LAST_DIGEST)? else {
                return Ok(None);
            };
            let day =
                chrono::NaiveDate::parse_from_str(v.value(), "%Y-%m-%d").with_context(|| {
                    format!("corrupt {LAST_DIGEST} in the state store: {:?}", v.value())
                })?;
            Ok(Some(day))
        })())
    }

    /// Records the last day a digest was written for.
    pub fn set_last_digest(&self, day: chrono::NaiveDate) -> anyhow::Result<()> {
        self.named((|| -> anyhow::Result<()> {
            let txn = self.writable()?.begin_write()?;
            {
                let mut table = txn.open_table(META)?;
                table.insert(LAST_DIGEST, day.to_string().as_str())?;
            }
            txn.commit()?;
            Ok(())
        })())
    }

    /// Where the backfill of a feed stands (None when none was started).
    pub fn backfill_state(&self, feed_id: &str) -> anyhow::Result<Option<BackfillState>> {
        self.json_row(BACKFILL, feed_id, "backfill position for feed")
    }

    /// Records where the backfill of a feed stands, durably.
    pub fn put_backfill_state(&self, feed_id: &str, state: &BackfillState) -> anyhow::Result<()> {
        self.named((|| -> anyhow::Result<()> {
            let txn = self.writable()?.begin_write()?;
            {
                let mut table = txn.open_table(BACKFILL)?;
                table.insert(feed_id, serde_json::to_vec(state)?.as_slice())?;
            }
            txn.commit()?;
            Ok(())
        })())
    }

    /// The pending entries of a feed (pages that failed transiently and are to be tried again), in URL
    /// order. A row that does not parse (written by another version) is skipped with a warning.
    pub fn pending(&self, feed_id: &str) -> anyhow::Result<Vec<PendingEntry>> {
        let txn = self.begin_read()?;
        let Some(table) = read_table(&txn, PENDING)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in table.range((feed_id, "")..)? {
            let (k, v) = row?;
            let (feed, url) = k.value();
            if feed != feed_id {
                break;
            }
            match serde_json::from_slice::<PendingEntry>(v.value()) {
                Ok(p) => out.push(p),
                Err(e) => tracing::warn!(feed = feed, url = url, error = %e,
                    "unreadable pending entry in the state store, skipped (the feed lists it again after a change)"),
            }
        }
        Ok(out)
    }

    /// How many pending entries each feed has (feeds with none are absent).
    pub fn pending_counts(&self) -> anyhow::Result<std::collections::HashMap<String, u64>> {
        let txn = self.begin_read()?;
        let Some(table) = read_table(&txn, PENDING)? else {
            return Ok(Default::default());
        };
        let mut counts = std::collections::HashMap::new();
        for row in table.iter()? {
            let (k, _) = row?;
            *counts.entry(k.value().0.to_string()).or_default() += 1;
        }
        Ok(counts)
    }

    /// In one durable transaction: writes `put` (each under its entry's feed and URL) and removes the
    /// entries `remove` names (feed id, URL). Call only after the index commit that archived the removed
    /// ones.
    pub fn update_pending(
        &self,
        put: &[PendingEntry],
        remove: &[(String, String)],
    ) -> anyhow::Result<()> {
        if put.is_empty() && remove.is_empty() {
            return Ok(());
        }
        let txn = self.writable()?.begin_write()?;
        {
            let mut table = txn.open_table(PENDING)?;
            for (feed, url) in remove {
                table.remove((feed.as_str(), url.as_str()))?;
            }
            for p in put {
                let url = p.entry.url.to_string();
                table.insert(
                    (p.entry.feed_id.as_str(), url.as_str()),
                    serde_json::to_vec(p)?.as_slice(),
                )?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Adds the revisit rows of newly archived articles, keeping any row already there (its versions),
    /// with their due times under `schedule`. Written with the batch's snapshots, before its index commit:
    /// a row whose article was never committed is skipped by the revisit pass.
    pub fn add_revisit_states(
        &self,
        rows: &[(String, RevisitState)],
        schedule: &Schedule,
    ) -> anyhow::Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        self.named((|| -> anyhow::Result<()> {
            let txn = self.writable()?.begin_write()?;
            due_table_under(&txn, schedule)?;
            {
                let mut table = txn.open_table(REVISITS)?;
                let mut due = txn.open_table(REVISIT_DUE)?;
                for (id, state) in rows {
                    if table.get(id.as_str())?.is_none() {
                        table.insert(id.as_str(), serde_json::to_vec(state)?.as_slice())?;
                        if let Some(at) = schedule.due_at(state) {
                            due.insert((at.timestamp_micros(), id.as_str()), ())?;
                        }
                    }
                }
            }
            txn.commit()?;
            Ok(())
        })())
    }

    /// Makes the due table agree with `schedule` (see [`due_table_under`]); returns whether it had to be
    /// computed again. The revisit pass calls it first, so a change of `[revisit] ages` or of the covered
    /// feeds takes effect at once.
    pub fn sync_revisit_due(&self, schedule: &Schedule) -> anyhow::Result<bool> {
        self.named((|| -> anyhow::Result<bool> {
            if let Ok(txn) = self.begin_read() {
                if let Ok(meta) = txn.open_table(META) {
                    let recorded = meta.get(REVISIT_SCHEDULE)?.map(|v| v.value().to_string());
                    if recorded.as_deref() == Some(schedule.fingerprint().as_str()) {
                        return Ok(false);
                    }
                }
            }
            let txn = self.writable()?.begin_write()?;
            let rebuilt = due_table_under(&txn, schedule)?;
            txn.commit()?;
            Ok(rebuilt)
        })())
    }

    /// The revisit rows due at `now` under `schedule`, oldest due first (then by id), at most `limit`,
    /// read from the due table: rows due later are not read. `due` counts every entry due at `now`
    /// (keys only). An entry whose row is gone, does not decode or is due at another time is returned
    /// in `stale` (for [`Store::drop_stale_due`]), not as a row.
    pub fn revisit_due(
        &self,
        schedule: &Schedule,
        now: DateTime<Utc>,
        limit: usize,
    ) -> anyhow::Result<DueRevisits> {
        self.named((|| -> anyhow::Result<DueRevisits> {
            let txn = self.begin_read()?;
            let mut out = DueRevisits::default();
            let (due, rows) = match (txn.open_table(REVISIT_DUE), txn.open_table(REVISITS)) {
                (Ok(due), Ok(rows)) => (due, rows),
                (Err(redb::TableError::TableDoesNotExist(_)), _)
                | (_, Err(redb::TableError::TableDoesNotExist(_))) => return Ok(out),
                (Err(e), _) | (_, Err(e)) => return Err(e.into()),
            };
            let end = now.timestamp_micros();
            for entry in due.range(..(end.saturating_add(1), ""))? {
                let (key, _) = entry?;
                let (at, id) = key.value();
                if at > end {
                    break;
                }
                if out.rows.len() >= limit {
                    out.due += 1;
                    continue;
                }
                let state = match rows.get(id)? {
                    Some(v) => serde_json::from_slice::<RevisitState>(v.value()).ok(),
                    None => None,
                };
                match state {
                    Some(state)
                        if schedule.due_at(&state).map(|t| t.timestamp_micros()) == Some(at) =>
                    {
                        out.due += 1;
                        out.rows.push((id.to_string(), state));
                    }
                    _ => out.stale.push((at, id.to_string())),
                }
            }
            Ok(out)
        })())
    }

    /// How many revisits are due at `now` (entries of the due table, keys only: the revisit backlog).
    pub fn revisits_due_count(&self, now: DateTime<Utc>) -> anyhow::Result<u64> {
        self.named((|| -> anyhow::Result<u64> {
            let txn = self.begin_read()?;
            let Some(due) = read_table(&txn, REVISIT_DUE)? else {
                return Ok(0);
            };
            let mut n = 0;
            for entry in due.range(..(now.timestamp_micros().saturating_add(1), ""))? {
                entry?;
                n += 1;
            }
            Ok(n)
        })())
    }

    /// How many revisits are due at `now` per feed (feeds with none are absent): the due entries and
    /// their rows (entries whose row does not decode are left out).
    pub fn revisits_due_by_feed(
        &self,
        now: DateTime<Utc>,
    ) -> anyhow::Result<std::collections::HashMap<String, u64>> {
        self.named(
            (|| -> anyhow::Result<std::collections::HashMap<String, u64>> {
                let txn = self.begin_read()?;
                let mut counts = std::collections::HashMap::new();
                let (due, rows) = match (txn.open_table(REVISIT_DUE), txn.open_table(REVISITS)) {
                    (Ok(due), Ok(rows)) => (due, rows),
                    (Err(redb::TableError::TableDoesNotExist(_)), _)
                    | (_, Err(redb::TableError::TableDoesNotExist(_))) => return Ok(counts),
                    (Err(e), _) | (_, Err(e)) => return Err(e.into()),
                };
                for entry in due.range(..(now.timestamp_micros().saturating_add(1), ""))? {
                    let (key, _) = entry?;
                    let Some(row) = rows.get(key.value().1)? else {
                        continue;
                    };
                    if let Ok(state) = serde_json::from_slice::<RevisitState>(row.value()) {
                        *counts.entry(state.feed).or_default() += 1;
                    }
                }
                Ok(counts)
            })(),
        )
    }

    /// Removes due entries [`Store::revisit_due`] found stale.
    pub fn drop_stale_due(&self, stale: &[(i64, String)]) -> anyhow::Result<()> {
        if stale.is_empty() {
            return Ok(());
        }
        self.named((|| -> anyhow::Result<()> {
            let txn = self.writable()?.begin_write()?;
            {
                let mut due = txn.open_table(REVISIT_DUE)?;
                for (at, id) in stale {
                    due.remove((*at, id.as_str()))?;
                }
            }
            txn.commit()?;
            Ok(())
        })())
    }

    /// Every revisit row by article id. A row that does not decode is skipped with a warning.
    pub fn revisit_states(&self) -> anyhow::Result<Vec<(String, RevisitState)>> {
        self.named((|| -> anyhow::Result<Vec<(String, RevisitState)>> {
            let txn = self.begin_read()?;
            let Some(table) = read_table(&txn, REVISITS)? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for row in table.iter()? {
                let (k, v) = row?;
                match serde_json::from_slice(v.value()) {
                    Ok(state) => out.push((k.value().to_string(), state)),
                    Err(e) => tracing::warn!(article = k.value(), error = %e,
                        "unreadable revisit row in the state store, skipped (run `mediawatch check`)"),
                }
            }
            Ok(out)
        })())
    }

    /// The revisit row of one article.
    pub fn revisit_state(&self, article_id: &str) -> anyhow::Result<Option<RevisitState>> {
        self.json_row(REVISITS, article_id, "revisit row for article")
    }

    /// In one durable transaction, after the index commit of a revisit pass: the new versions (each with
    /// its page; version 1 without one takes a copy of the article's first snapshot) and the revisit rows,
    /// each moved in the due table to its next due time under `schedule`.
    /// A version already stored under its number is kept as it is (versions are never overwritten).
    pub fn commit_revisits(
        &self,
        states: &[(String, RevisitState)],
        versions: &[(String, StoredVersion, Option<&Page>)],
        schedule: &Schedule,
    ) -> anyhow::Result<()> {
        if states.is_empty() && versions.is_empty() {
            return Ok(());
        }
        self.named((|| -> anyhow::Result<()> {
            let txn = self.writable()?.begin_write()?;
            due_table_under(&txn, schedule)?;
            {
                let mut rows = txn.open_table(VERSIONS)?;
                let mut pages = txn.open_table(VERSION_SNAPSHOTS)?;
                let first = txn.open_table(SNAPSHOTS)?;
                for (id, version, page) in versions {
                    let key = (id.as_str(), version.number);
                    if rows.get(key)?.is_some() {
                        tracing::warn!(article = %id, version = version.number,
                            "a version with this number is already stored: kept, the new one dropped");
                        continue;
                    }
                    rows.insert(key, serde_json::to_vec(version)?.as_slice())?;
                    let snapshot = match page {
                        Some(page) => Some(encode_snapshot(page)?),
                        None => first.get(id.as_str())?.map(|v| v.value().to_vec()),
                    };
                    if let Some(bytes) = snapshot {
                        pages.insert(key, bytes.as_slice())?;
                    }
                }
                let mut table = txn.open_table(REVISITS)?;
                let mut due = txn.open_table(REVISIT_DUE)?;
                for (id, state) in states {
                    let before = table
                        .get(id.as_str())?
                        .and_then(|v| serde_json::from_slice::<RevisitState>(v.value()).ok())
                        .and_then(|old| schedule.due_at(&old));
                    if let Some(at) = before {
                        due.remove((at.timestamp_micros(), id.as_str()))?;
                    }
                    table.insert(id.as_str(), serde_json::to_vec(state)?.as_slice())?;
                    if let Some(at) = schedule.due_at(state) {
                        due.insert((at.timestamp_micros(), id.as_str()), ())?;
                    }
                }
            }
            txn.commit()?;
            Ok(())
        })())
    }

    /// The kept versions of an article, oldest first (none until a revisit found a change).
    pub fn versions(&self, article_id: &str) -> anyhow::Result<Vec<StoredVersion>> {
        self.named((|| -> anyhow::Result<Vec<StoredVersion>> {
            let txn = self.begin_read()?;
            let Some(table) = read_table(&txn, VERSIONS)? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for row in table.range((article_id, 0)..=(article_id, u32::MAX))? {
                let (k, v) = row?;
                let version = serde_json::from_slice(v.value()).with_context(|| {
                    format!("corrupt version {} of article {article_id}", k.value().1)
                })?;
                out.push(version);
            }
            Ok(out)
        })())
    }

    /// The page of a kept version: metadata and the raw body bytes.
    pub fn version_snapshot(
        &self,
        article_id: &str,
        number: u32,
    ) -> anyhow::Result<Option<(SnapshotMeta, Vec<u8>)>> {
        self.named((|| -> anyhow::Result<Option<(SnapshotMeta, Vec<u8>)>> {
            let txn = self.begin_read()?;
            let Some(table) = read_table(&txn, VERSION_SNAPSHOTS)? else {
                return Ok(None);
            };
            match table.get((article_id, number))? {
                Some(v) => Ok(Some(decode_snapshot(v.value())?)),
                None => Ok(None),
            }
        })())
    }

    /// Copies what redb can still read of the revisit rows, kept versions and their pages
    /// (`revisits`, `versions`, `version_snapshots`) from the store file `from` (one `check --repair` moved
    /// aside) into this store, keeping any row this store already has. The file is only read. A file or
    /// table that cannot be read, or a table that stops being readable at a row, is named in
    /// [`Salvaged::unread`] (what was read before it is copied).
    pub fn salvage_revisits(&self, from: &Path) -> anyhow::Result<Salvaged> {
        let mut out = Salvaged::default();
        let old = match redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .open_read_only(from)
        {
            Ok(db) => Db::Read(db),
            Err(redb::DatabaseError::RepairAborted) => match open_unclean_in_memory(from) {
                Ok(db) => Db::RepairedInMemory(db),
                Err(e) => {
                    out.unread.push(format!("the file ({e:#})"));
                    return Ok(out);
                }
            },
            Err(e) => {
                out.unread.push(format!("the file ({e})"));
                return Ok(out);
            }
        };
        let old = Store {
            db: old,
            path: from.to_path_buf(),
        };
        let read = match old.begin_read() {
            Ok(t) => t,
            Err(e) => {
                out.unread.push(format!("the file ({e:#})"));
                return Ok(out);
            }
        };
        let revisits = copy_rows(&read, REVISITS, &mut out.unread);
        let versions = copy_rows(&read, VERSIONS, &mut out.unread);
        let pages = copy_rows(&read, VERSION_SNAPSHOTS, &mut out.unread);
        self.named((|| -> anyhow::Result<()> {
            let txn = self.writable()?.begin_write()?;
            {
                let mut table = txn.open_table(REVISITS)?;
                for (k, v) in &revisits {
                    if table.get(k.as_str())?.is_none() {
                        table.insert(k.as_str(), v.as_slice())?;
                        out.revisits += 1;
                    }
                }
                for (def, rows, n) in [
                    (VERSIONS, &versions, &mut out.versions),
                    (VERSION_SNAPSHOTS, &pages, &mut out.version_pages),
                ] {
                    let mut table = txn.open_table(def)?;
                    for ((id, number), v) in rows {
                        if table.get((id.as_str(), *number))?.is_none() {
                            table.insert((id.as_str(), *number), v.as_slice())?;
                            *n += 1;
                        }
                    }
                }
            }
            txn.commit()?;
            Ok(())
        })())?;
        Ok(out)
    }

    /// Journals the ids of a batch of articles about to be committed, for the alerts; returns the batch's
    /// sequence number. Call before the index commit (an id never committed matches nothing later).
    pub fn journal_alert_batch(&self, ids: &[String]) -> anyhow::Result<u64> {
        self.named((|| -> anyhow::Result<u64> {
            let txn = self.writable()?.begin_write()?;
            let seq;
            {
                let mut table = txn.open_table(ALERT_BATCHES)?;
                let last = table.last()?.map(|(k, _)| k.value());
                let floor = txn
                    .open_table(META)?
                    .get(ALERT_BATCH_FLOOR)?
                    .and_then(|v| v.value().parse::<u64>().ok());
                seq = last.or(floor).unwrap_or(0) + 1;
                table.insert(seq, serde_json::to_vec(ids)?.as_slice())?;
            }
            txn.commit()?;
            Ok(seq)
        })())
    }

    /// The journal's batches (sequence number, article ids), oldest first, and the last sequence number
    /// ever given (0 before the first).
    pub fn alert_batches(&self) -> anyhow::Result<AlertJournal> {
        self.named((|| -> anyhow::Result<AlertJournal> {
            let txn = self.begin_read()?;
            let floor = match txn.open_table(META) {
                Ok(t) => t
                    .get(ALERT_BATCH_FLOOR)?
                    .and_then(|v| v.value().parse::<u64>().ok())
                    .unwrap_or(0),
                Err(redb::TableError::TableDoesNotExist(_)) => 0,
                Err(e) => return Err(e.into()),
            };
            let Some(table) = read_table(&txn, ALERT_BATCHES)? else {
                return Ok((Vec::new(), floor));
            };
            let mut out = Vec::new();
            for row in table.iter()? {
                let (k, v) = row?;
                let ids: Vec<String> = serde_json::from_slice(v.value())
                    .with_context(|| format!("corrupt alert journal batch {}", k.value()))?;
                out.push((k.value(), ids));
            }
            let last = out.last().map_or(floor, |(seq, _)| (*seq).max(floor));
            Ok((out, last))
        })())
    }

    /// Every alert's mark, by alert id.
    pub fn alert_marks(&self) -> anyhow::Result<std::collections::HashMap<String, AlertMark>> {
        self.named(
            (|| -> anyhow::Result<std::collections::HashMap<String, AlertMark>> {
                let txn = self.begin_read()?;
                let Some(table) = read_table(&txn, ALERT_MARKS)? else {
                    return Ok(Default::default());
                };
                let mut out = std::collections::HashMap::new();
                for row in table.iter()? {
                    let (k, v) = row?;
                    let mark: AlertMark = serde_json::from_slice(v.value())
                        .with_context(|| format!("corrupt mark of alert {}", k.value()))?;
                    out.insert(k.value().to_string(), mark);
                }
                Ok(out)
            })(),
        )
    }

    /// In one durable transaction: enqueues `messages` (each given the next sequence number), sets the
    /// alerts' `marks`, removes the marks of alerts not in `keep` and the journal batches at or before
    /// `drop_through`. So a crash either enqueues a message and advances its alert's mark, or neither:
    /// nothing is lost and nothing is enqueued twice. Returns the messages' sequence numbers.
    pub fn commit_alert_evaluation(
        &self,
        messages: &[OutboxEntry],
        marks: &[(String, AlertMark)],
        keep: &[String],
        drop_through: Option<u64>,
    ) -> anyhow::Result<Vec<u64>> {
        self.named((|| -> anyhow::Result<Vec<u64>> {
            let txn = self.writable()?.begin_write()?;
            let mut seqs = Vec::with_capacity(messages.len());
            {
                let mut outbox = txn.open_table(ALERT_OUTBOX)?;
                let mut due = txn.open_table(ALERT_DUE)?;
                let first = outbox.last()?.map_or(0, |(k, _)| k.value()) + 1;
                for (next, m) in (first..).zip(messages) {
                    let mut m = m.clone();
                    m.seq = next;
                    outbox.insert(next, serde_json::to_vec(&m)?.as_slice())?;
                    if let Some(at) = m.next_due() {
                        due.insert(next, at.timestamp())?;
                    }
                    seqs.push(next);
                }
                let mut table = txn.open_table(ALERT_MARKS)?;
                for (id, mark) in marks {
                    table.insert(id.as_str(), serde_json::to_vec(mark)?.as_slice())?;
                }
                let stale: Vec<String> = table
                    .iter()?
                    .filter_map(|row| row.ok().map(|(k, _)| k.value().to_string()))
                    .filter(|id| !keep.contains(id))
                    .collect();
                for id in stale {
                    table.remove(id.as_str())?;
                }
                if let Some(through) = drop_through {
                    let mut batches = txn.open_table(ALERT_BATCHES)?;
                    let mut floor = 0;
                    loop {
                        let Some(k) = batches.first()?.map(|(k, _)| k.value()) else {
                            break;
                        };
                        if k > through {
                            break;
                        }
                        floor = k;
                        batches.remove(k)?;
                    }
                    if floor > 0 {
                        // The sequence goes on from the last number given, even with the journal empty.
                        let mut meta = txn.open_table(META)?;
                        let old = meta
                            .get(ALERT_BATCH_FLOOR)?
                            .and_then(|v| v.value().parse::<u64>().ok())
                            .unwrap_or(0);
                        meta.insert(ALERT_BATCH_FLOOR, floor.max(old).to_string().as_str())?;
                    }
                }
            }
            txn.commit()?;
            Ok(seqs)
        })())
    }

    /// Every outbox entry, oldest first.
    pub fn outbox(&self) -> anyhow::Result<Vec<OutboxEntry>> {
        self.named((|| -> anyhow::Result<Vec<OutboxEntry>> {
            let txn = self.begin_read()?;
            let Some(table) = read_table(&txn, ALERT_OUTBOX)? else {
                return Ok(Vec::new());
            };
            let mut out = Vec::new();
            for row in table.iter()? {
                let (k, v) = row?;
                let mut entry: OutboxEntry = serde_json::from_slice(v.value())
                    .with_context(|| format!("corrupt alert outbox entry {}", k.value()))?;
                entry.seq = k.value();
                out.push(entry);
            }
            Ok(out)
        })())
    }

    /// The newest `per_alert` outbox entries of each alert (of `alert` only, when given), newest first,
    /// and how many entries each alert has in all: for the web's `/alerts` and Atom feeds, which so
    /// decode in full only the messages they show (each other row's alert id is read and the rest of its
    /// JSON skipped).
    pub fn recent_outbox(
        &self,
        alert: Option<&str>,
        per_alert: usize,
    ) -> anyhow::Result<RecentOutbox> {
        #[derive(Deserialize)]
        struct Head {
            message: HeadMessage,
        }
        #[derive(Deserialize)]
        struct HeadMessage {
            alert: String,
        }
        self.named((|| -> anyhow::Result<RecentOutbox> {
            let mut out = RecentOutbox::default();
            let txn = self.begin_read()?;
            let Some(table) = read_table(&txn, ALERT_OUTBOX)? else {
                return Ok(out);
            };
            for row in table.iter()?.rev() {
                let (k, v) = row?;
                let head: Head = serde_json::from_slice(v.value())
                    .with_context(|| format!("corrupt alert outbox entry {}", k.value()))?;
                if alert.is_some_and(|a| a != head.message.alert) {
                    continue;
                }
                let count = out.counts.entry(head.message.alert).or_default();
                *count += 1;
                if *count <= per_alert {
                    let mut entry: OutboxEntry = serde_json::from_slice(v.value())
                        .with_context(|| format!("corrupt alert outbox entry {}", k.value()))?;
                    entry.seq = k.value();
                    out.entries.push(entry);
                }
            }
            Ok(out)
        })())
    }

    /// Writes back one outbox entry (after a delivery attempt), durably.
    pub fn put_outbox_entry(&self, entry: &OutboxEntry) -> anyhow::Result<()> {
        self.named((|| -> anyhow::Result<()> {
            let txn = self.writable()?.begin_write()?;
            {
                let mut table = txn.open_table(ALERT_OUTBOX)?;
                table.insert(entry.seq, serde_json::to_vec(entry)?.as_slice())?;
                let mut due = txn.open_table(ALERT_DUE)?;
                match entry.next_due() {
                    Some(at) => due.insert(entry.seq, at.timestamp())?,
                    None => due.remove(entry.seq)?,
                };
            }
            txn.commit()?;
            Ok(())
        })())
    }

    /// How many outbox messages have a delivery still pending (the rows of the due table).
    pub fn outbox_pending(&self) -> anyhow::Result<u64> {
        self.named((|| -> anyhow::Result<u64> {
            let txn = self.begin_read()?;
            match txn.open_table(ALERT_DUE) {
                Ok(t) => Ok(t.len()?),
                Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
                Err(e) => Err(e.into()),
            }
        })())
    }

    /// The outbox entries with a delivery due at or before `now`, oldest first.
    pub fn due_outbox(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<OutboxEntry>> {
        self.named((|| -> anyhow::Result<Vec<OutboxEntry>> {
            let txn = self.begin_read()?;
            let (due, outbox) = match (txn.open_table(ALERT_DUE), txn.open_table(ALERT_OUTBOX)) {
                (Ok(d), Ok(o)) => (d, o),
                (Err(redb::TableError::TableDoesNotExist(_)), _)
                | (_, Err(redb::TableError::TableDoesNotExist(_))) => return Ok(Vec::new()),
                (Err(e), _) | (_, Err(e)) => return Err(e.into()),
            };
            let mut out = Vec::new();
            for row in due.iter()? {
                let (k, at) = row?;
                if at.value() > now.timestamp() {
                    continue;
                }
                if let Some(v) = outbox.get(k.value())? {
                    let mut entry: OutboxEntry = serde_json::from_slice(v.value())
                        .with_context(|| format!("corrupt alert outbox entry {}", k.value()))?;
                    entry.seq = k.value();
                    out.push(entry);
                }
            }
            Ok(out)
        })())
    }

    /// When the earliest pending delivery is due (None when none is pending).
    pub fn next_outbox_due(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        self.named((|| -> anyhow::Result<Option<DateTime<Utc>>> {
            let txn = self.begin_read()?;
            let Some(due) = read_table(&txn, ALERT_DUE)? else {
                return Ok(None);
            };
            let mut min: Option<i64> = None;
            for row in due.iter()? {
                let at = row?.1.value();
                min = Some(min.map_or(at, |m| m.min(at)));
            }
            Ok(min.and_then(|t| DateTime::from_timestamp(t, 0)))
        })())
    }

    /// Removes the outbox entries enqueued before `before` that have no pending delivery (kept for
    /// `alerts outbox` and, later, the web's alert pages until then); returns how many.
    pub fn prune_outbox(&self, before: DateTime<Utc>) -> anyhow::Result<usize> {
        self.named((|| -> anyhow::Result<usize> {
            let txn = self.writable()?.begin_write()?;
            let mut removed = 0;
            {
                let mut table = txn.open_table(ALERT_OUTBOX)?;
                let due = txn.open_table(ALERT_DUE)?;
                let mut old = Vec::new();
                for row in table.iter()? {
                    let (k, v) = row?;
                    let Ok(entry) = serde_json::from_slice::<OutboxEntry>(v.value()) else {
                        continue;
                    };
                    if entry.created_at >= before {
                        break;
                    }
                    if due.get(k.value())?.is_none() && entry.next_due().is_none() {
                        old.push(k.value());
                    }
                }
                for k in old {
                    table.remove(k)?;
                    removed += 1;
                }
            }
            txn.commit()?;
            Ok(removed)
        })())
    }

    /// The stored page of an article: metadata and the raw body bytes.
    pub fn snapshot(&self, article_id: &str) -> anyhow::Result<Option<(SnapshotMeta, Vec<u8>)>> {
        self.named((|| -> anyhow::Result<Option<(SnapshotMeta, Vec<u8>)>> {
            let txn = self.begin_read()?;
            let table = txn.open_table(SNAPSHOTS)?;
            match table.get(article_id)? {
                Some(v) => Ok(Some(decode_snapshot(v.value())?)),
                None => Ok(None),
            }
        })())
    }
}

/// What [`Store::salvage_revisits`] copied from a store file moved aside.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Salvaged {
    /// Revisit rows copied.
    pub revisits: u64,
    /// Kept versions copied.
    pub versions: u64,
    /// Pages of kept versions copied.
    pub version_pages: u64,
    /// What could not be read (the whole file, a table, or the rest of a table from a row on).
    pub unread: Vec<String>,
}

impl Salvaged {
    /// Whether every revisit row, version and page of the old file was copied.
    pub fn complete(&self) -> bool {
        self.unread.is_empty()
    }
}

/// The revisit rows due at a time ([`Store::revisit_due`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DueRevisits {
    /// Rows due, oldest due first, at most the limit asked for.
    pub rows: Vec<(String, RevisitState)>,
    /// Entries due in all (beyond the limit too).
    pub due: usize,
    /// Due entries that no longer describe their row: (due time in microseconds, article id).
    pub stale: Vec<(i64, String)>,
}

/// Makes the due table of `txn` agree with `schedule`: when `meta` records another schedule's
/// fingerprint, or none (a store from before the table), the table is emptied and filled again from
/// every revisit row (rows that do not decode are left out, as the pass skips them), and the
/// fingerprint recorded. Returns whether it was computed again.
fn due_table_under(txn: &redb::WriteTransaction, schedule: &Schedule) -> anyhow::Result<bool> {
    let fingerprint = schedule.fingerprint();
    let mut meta = txn.open_table(META)?;
    if meta
        .get(REVISIT_SCHEDULE)?
        .map(|v| v.value() == fingerprint)
        == Some(true)
    {
        return Ok(false);
    }
    let mut due = txn.open_table(REVISIT_DUE)?;
    due.retain(|_, _| false)?;
    let rows = txn.open_table(REVISITS)?;
    let mut n = 0u64;
    for row in rows.iter()? {
        let (k, v) = row?;
        let Ok(state) = serde_json::from_slice::<RevisitState>(v.value()) else {
            continue;
        };
        if let Some(at) = schedule.due_at(&state) {
            due.insert((at.timestamp_micros(), k.value()), ())?;
            n += 1;
        }
    }
    meta.insert(REVISIT_SCHEDULE, fingerprint.as_str())?;
    tracing::info!(
        rows = n,
        "revisit due table computed (new store, or [revisit] ages or feeds changed)"
    );
    Ok(true)
}

/// What [`Store::verify`] found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreHealth {
    /// Tables or rows that could not be read at all.
    pub problems: Vec<String>,
    /// Feeds whose state does not decode.
    pub bad_feed_states: Vec<String>,
    /// Articles whose page snapshot does not decode.
    pub bad_snapshots: Vec<String>,
    /// Articles whose signature is too short.
    pub bad_signatures: Vec<String>,
    /// Feeds whose backfill position does not decode.
    pub bad_backfill: Vec<String>,
    /// Articles whose revisit row does not decode (they are not revisited).
    pub bad_revisits: Vec<String>,
    /// Kept versions (`id#number`) whose record or snapshot does not decode.
    pub bad_versions: Vec<String>,
    /// Alert journal batches whose article ids do not decode.
    pub bad_alert_batches: Vec<u64>,
    /// Alerts whose mark does not decode.
    pub bad_alert_marks: Vec<String>,
    /// Outbox messages that do not decode.
    pub bad_alert_outbox: Vec<u64>,
}

/// The keys of `table` whose value `decodes` rejects; a table or row that cannot be read at all is added
/// to `problems` (a table that does not exist yet has nothing wrong with it).
fn bad_keys(
    txn: &ReadTransaction,
    table: TableDefinition<&str, &[u8]>,
    problems: &mut Vec<String>,
    decodes: impl Fn(&[u8]) -> bool,
) -> Vec<String> {
    bad_rows(txn, table, problems, decodes, |k| k.to_string())
}

/// [`bad_keys`] for the tables keyed by (article id, version number): the bad keys as `id#number`.
fn bad_numbered_keys(
    txn: &ReadTransaction,
    table: TableDefinition<(&str, u32), &[u8]>,
    problems: &mut Vec<String>,
    decodes: impl Fn(&[u8]) -> bool,
) -> Vec<String> {
    bad_rows(txn, table, problems, decodes, |(id, n)| format!("{id}#{n}"))
}

/// The rows of `table` whose value `decodes` rejects, each named by `name_of` its key.
fn bad_rows<K: redb::Key + 'static, N>(
    txn: &ReadTransaction,
    table: TableDefinition<K, &[u8]>,
    problems: &mut Vec<String>,
    decodes: impl Fn(&[u8]) -> bool,
    name_of: impl for<'a> Fn(K::SelfType<'a>) -> N,
) -> Vec<N> {
    let name = table.name().to_string();
    let mut bad = Vec::new();
    let table = match txn.open_table(table) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return bad,
        Err(e) => {
            problems.push(format!("table `{name}` unreadable: {e}"));
            return bad;
        }
    };
    match table.iter() {
        Ok(rows) => {
            for row in rows {
                match row {
                    Ok((k, v)) if !decodes(v.value()) => bad.push(name_of(k.value())),
                    Ok(_) => {}
                    Err(e) => problems.push(format!("table `{name}` unreadable: {e}")),
                }
            }
        }
        Err(e) => problems.push(format!("table `{name}` unreadable: {e}")),
    }
    bad
}

/// [`bad_keys`] for a table keyed by sequence number (the alerts' journal and outbox).
fn bad_seqs(
    txn: &ReadTransaction,
    table: TableDefinition<u64, &[u8]>,
    problems: &mut Vec<String>,
    decodes: impl Fn(&[u8]) -> bool,
) -> Vec<u64> {
    bad_rows(txn, table, problems, decodes, |seq| seq)
}

/// `table` of `txn` for reading; None when it does not exist yet (nothing was ever stored in it, or the
/// store was written by a version without it).
fn read_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &ReadTransaction,
    table: TableDefinition<K, V>,
) -> anyhow::Result<Option<redb::ReadOnlyTable<K, V>>> {
    match txn.open_table(table) {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The error for a store file redb cannot open: names the file and says what to do.
fn damaged(path: &Path, e: redb::DatabaseError) -> anyhow::Error {
    anyhow::Error::new(e).context(format!(
        "the state store {} is damaged or is not a state store: run `mediawatch check --repair` (it moves \
         the file aside and starts feed state afresh; the archive is not touched)",
        path.display()
    ))
}

/// Says that the store is read at its last commit; `serve` opens the store per request, so at most once
/// every ten minutes.
fn warn_unclean(path: &Path) {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST_WARNED: AtomicI64 = AtomicI64::new(i64::MIN);
    let now = Utc::now().timestamp();
    if now.saturating_sub(LAST_WARNED.load(Ordering::Relaxed)) < 600 {
        return;
    }
    LAST_WARNED.store(now, Ordering::Relaxed);
    tracing::warn!(
        "the state store {} was not closed cleanly (an `ingest` or `run` was killed or failed): reading \
         its last commit, repaired in memory; feed state may be stale. The next `mediawatch ingest` or \
         `run` repairs the file",
        path.display()
    );
}

/// Opens a store file that needs a repair without writing to it: redb repairs it (back to its last
/// commit) through a copy-on-write backend whose writes stay in memory. [`Store`] refuses writes
/// through it, like any read-only handle.
fn open_unclean_in_memory(path: &Path) -> anyhow::Result<Database> {
    let backend = CopyOnWrite::open(path)
        .with_context(|| format!("cannot read the state store {}", path.display()))?;
    redb::Builder::new()
        .set_cache_size(CACHE_BYTES)
        .create_with_backend(backend)
        .with_context(|| {
            format!(
                "cannot read the state store {} (not closed cleanly, and it cannot be repaired in memory): \
                 run `mediawatch ingest` to repair it, or `mediawatch check --repair` to move it aside and start \
                 feed state afresh",
                path.display()
            )
        })
}

/// A redb storage backend over a file opened read-only: writes (a repair's) go to memory pages, reads
/// see them over the file. Takes no locks; the file is never written.
#[derive(Debug)]
struct CopyOnWrite {
    file: std::sync::Mutex<std::fs::File>,
    state: std::sync::Mutex<Overlay>,
}

#[derive(Debug)]
struct Overlay {
    /// Current length of the storage.
    len: u64,
    /// Bytes of the file below this offset show through where no page was written.
    file_visible: u64,
    /// Written pages by page number.
    pages: std::collections::HashMap<u64, Box<[u8]>>,
}

const OVERLAY_PAGE: u64 = 4096;

impl CopyOnWrite {
    fn open(path: &Path) -> std::io::Result<CopyOnWrite> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        Ok(CopyOnWrite {
            file: std::sync::Mutex::new(file),
            state: std::sync::Mutex::new(Overlay {
                len,
                file_visible: len,
                pages: Default::default(),
            }),
        })
    }

    /// One page as stored: the written copy, else the file's bytes (zeros past what shows through).
    fn page(&self, state: &Overlay, number: u64, out: &mut [u8]) -> std::io::Result<()> {
        if let Some(page) = state.pages.get(&number) {
            out.copy_from_slice(page);
            return Ok(());
        }
        out.fill(0);
        let start = number * OVERLAY_PAGE;
        if start < state.file_visible {
            let n = (state.file_visible - start).min(OVERLAY_PAGE) as usize;
            use std::io::Seek;
            let mut file = self
                .file
                .lock()
                .map_err(|_| std::io::Error::other("poisoned"))?;
            file.seek(std::io::SeekFrom::Start(start))?;
            file.read_exact(&mut out[..n])?;
        }
        Ok(())
    }
}

fn lock_overlay(
    m: &std::sync::Mutex<Overlay>,
) -> std::io::Result<std::sync::MutexGuard<'_, Overlay>> {
    m.lock().map_err(|_| std::io::Error::other("poisoned"))
}

impl redb::StorageBackend for CopyOnWrite {
    fn len(&self) -> std::io::Result<u64> {
        Ok(lock_overlay(&self.state)?.len)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> std::io::Result<()> {
        let state = lock_overlay(&self.state)?;
        let end = offset
            .checked_add(out.len() as u64)
            .filter(|&end| end <= state.len)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        let mut page = vec![0u8; OVERLAY_PAGE as usize];
        let mut pos = offset;
        while pos < end {
            let number = pos / OVERLAY_PAGE;
            self.page(&state, number, &mut page)?;
            let from = (pos % OVERLAY_PAGE) as usize;
            let n = ((end - pos) as usize).min(OVERLAY_PAGE as usize - from);
            let at = (pos - offset) as usize;
            out[at..at + n].copy_from_slice(&page[from..from + n]);
            pos += n as u64;
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> std::io::Result<()> {
        let mut state = lock_overlay(&self.state)?;
        if len < state.len {
            // What is cut off reads as zeros if the storage grows again.
            state.file_visible = state.file_visible.min(len);
            let keep = len.div_ceil(OVERLAY_PAGE);
            state.pages.retain(|&n, _| n < keep);
            if len % OVERLAY_PAGE != 0 {
                if let Some(page) = state.pages.get_mut(&(len / OVERLAY_PAGE)) {
                    page[(len % OVERLAY_PAGE) as usize..].fill(0);
                }
            }
        }
        state.len = len;
        Ok(())
    }

    fn sync_data(&self) -> std::io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> std::io::Result<()> {
        let mut state = lock_overlay(&self.state)?;
        let end = offset
            .checked_add(data.len() as u64)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        let mut pos = offset;
        while pos < end {
            let number = pos / OVERLAY_PAGE;
            if !state.pages.contains_key(&number) {
                let mut page = vec![0u8; OVERLAY_PAGE as usize].into_boxed_slice();
                self.page(&state, number, &mut page)?;
                state.pages.insert(number, page);
            }
            let from = (pos % OVERLAY_PAGE) as usize;
            let n = ((end - pos) as usize).min(OVERLAY_PAGE as usize - from);
            let at = (pos - offset) as usize;
            if let Some(page) = state.pages.get_mut(&number) {
                page[from..from + n].copy_from_slice(&data[at..at + n]);
            }
            pos += n as u64;
        }
        state.len = state.len.max(end);
        Ok(())
    }
}

/// Layout: u32 LE length of the JSON metadata, the metadata, then the gzip body.
fn encode_snapshot(page: &Page) -> anyhow::Result<Vec<u8>> {
    let meta = SnapshotMeta {
        url: page.url.to_string(),
        final_url: page.final_url.to_string(),
        status: page.status,
        content_type: page.content_type.clone(),
        fetched_at: page.fetched_at,
        body_len: page.body.len(),
        headers: page.headers.clone(),
    };
    let meta = serde_json::to_vec(&meta)?;
    let mut out = Vec::with_capacity(meta.len() + page.body.len() / 3 + 16);
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&meta);
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    gz.write_all(&page.body)?;
    Ok(gz.finish()?)
}

fn decode_snapshot(bytes: &[u8]) -> anyhow::Result<(SnapshotMeta, Vec<u8>)> {
    anyhow::ensure!(bytes.len() >= 4, "snapshot too short");
    let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    anyhow::ensure!(bytes.len() >= 4 + len, "snapshot metadata truncated");
    let meta: SnapshotMeta = serde_json::from_slice(&bytes[4..4 + len])?;
    // `body_len` is read from the file: a damaged one must not ask for terabytes up front.
    let mut body = Vec::with_capacity(meta.body_len.min(64 << 20));
    flate2::read::GzDecoder::new(&bytes[4 + len..]).read_to_end(&mut body)?;
    Ok((meta, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_with_a_huge_body_len_is_read_without_asking_for_it() {
        // Regression: `body_len` of 2^45 aborted the process on the allocation.
        let meta = br#"{"url":"http://x.example/","final_url":"http://x.example/","status":200,"content_type":null,"fetched_at":"2026-12-07T00:00:00Z","body_len":35184372088832}"#;
        let mut bytes = (meta.len() as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(meta);
        let mut gz = flate2::write::GzEncoder::new(bytes, flate2::Compression::default());
        gz.write_all(b"<p>hi</p>").unwrap();
        let (meta, body) = decode_snapshot(&gz.finish().unwrap()).unwrap();
        assert_eq!(
            (meta.body_len, body.as_slice()),
            (1 << 45, &b"<p>hi</p>"[..])
        );
    }

    #[test]
    fn feed_states_that_do_not_decode_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .put_feed_states(&[("a".to_string(), FeedState::default())])
            .unwrap();
        store.put_garbled_feed_state_for_test("g");
        let (states, unreadable) = store.feed_states_checked().unwrap();
        let ids: Vec<String> = states.into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["a"]);
        assert_eq!(unreadable, ["g"]);
        assert_eq!(store.feed_states().unwrap().len(), 1);
        // One row read alone: an absent one is the default (or none), a garbled one an error naming it.
        assert_eq!(store.feed_state("none").unwrap(), FeedState::default());
        let err = format!("{:#}", store.feed_state("g").unwrap_err());
        assert!(err.contains("corrupt state for feed g"), "{err}");
        assert!(store.revisit_state("none").unwrap().is_none());
        store.put_garbled_revisit_for_test("r");
        let err = format!("{:#}", store.revisit_state("r").unwrap_err());
        assert!(err.contains("corrupt revisit row for article r"), "{err}");
        assert!(store.backfill_state("none").unwrap().is_none());
    }

    #[test]
    fn pending_entries_are_kept_per_feed_counted_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let pending = |feed: &str, url: &str, attempts: u32| PendingEntry {
            entry: Entry::new(feed, url::Url::parse(url).unwrap()),
            attempts,
            last_error: "timed out".into(),
            last_status: 0,
            next_try: Utc::now(),
        };
        // Feed ids that prefix one another must not mix ("a" and "ab").
        let rows = [
            pending("a", "http://x.example/1", 1),
            pending("a", "http://x.example/2", 3),
            pending("ab", "http://x.example/1", 1),
        ];
        store.update_pending(&rows, &[]).unwrap();
        assert_eq!(store.pending("a").unwrap(), rows[..2]);
        assert_eq!(store.pending("ab").unwrap(), rows[2..]);
        assert!(store.pending("b").unwrap().is_empty());
        let counts = store.pending_counts().unwrap();
        assert_eq!((counts["a"], counts["ab"], counts.len()), (2, 1, 2));
        let again = pending("a", "http://x.example/2", 4);
        store
            .update_pending(
                std::slice::from_ref(&again),
                &[("a".into(), "http://x.example/1".into())],
            )
            .unwrap();
        assert_eq!(store.pending("a").unwrap(), [again]);
        drop(store);
        let read_only = Store::open_read_only(dir.path()).unwrap().unwrap();
        assert_eq!(read_only.pending_counts().unwrap()["a"], 1);
    }

    #[test]
    fn revisit_rows_are_added_once_and_versions_never_overwritten() {
        use crate::revisit::Compared;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t = Utc::now();
        let row = RevisitState::new("http://a.example/1", "f", t, Some("\"e1\"".into()), None);
        let schedule = Schedule {
            ages: vec![std::time::Duration::from_secs(3600)],
            feeds: ["f".to_string()].into(),
        };
        store
            .add_revisit_states(&[("id1".into(), row.clone())], &schedule)
            .unwrap();
        let mut later = row.clone();
        later.first_archived = t + chrono::Duration::hours(1);
        store
            .add_revisit_states(&[("id1".into(), later)], &schedule)
            .unwrap();
        assert_eq!(
            store.revisit_state("id1").unwrap(),
            Some(row.clone()),
            "an archived article's row is kept when it is added again"
        );
        let page = |body: &str| Page {
            url: url::Url::parse("http://a.example/1").unwrap(),
            final_url: url::Url::parse("http://a.example/1").unwrap(),
            status: 200,
            content_type: Some("text/html".into()),
            etag: None,
            last_modified: None,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
            fetched_at: t,
        };
        let first = page("<p>first</p>");
        store.put_snapshots(&[("id1".into(), &first)]).unwrap();
        let version = |n: u32, text: &str| StoredVersion {
            number: n,
            fetched_at: t,
            recorded_at: t,
            http_status: 200,
            final_url: "http://a.example/1".into(),
            fields: Compared::new("T", text, None, &[]),
            fields_sha256: Compared::new("T", text, None, &[]).sha256(),
            snapshot_sha256: None,
            campaigns: Vec::new(),
            changed: Vec::new(),
        };
        let second = page("<p>second</p>");
        let mut updated = row.clone();
        updated.current = 2;
        store
            .commit_revisits(
                &[("id1".into(), updated.clone())],
                &[
                    ("id1".into(), version(1, "first"), None),
                    ("id1".into(), version(2, "second"), Some(&second)),
                ],
                &schedule,
            )
            .unwrap();
        // Number 2 again: refused, the first one stays.
        store
            .commit_revisits(
                &[],
                &[("id1".into(), version(2, "other"), Some(&first))],
                &schedule,
            )
            .unwrap();
        let versions = store.versions("id1").unwrap();
        assert_eq!(versions, [version(1, "first"), version(2, "second")]);
        assert_eq!(
            store.version_snapshot("id1", 1).unwrap().unwrap().1,
            first.body
        );
        assert_eq!(
            store.version_snapshot("id1", 2).unwrap().unwrap().1,
            second.body
        );
        assert_eq!(store.revisit_state("id1").unwrap(), Some(updated));
        assert_eq!(store.revisit_states().unwrap().len(), 1);
        assert!(store.versions("id2").unwrap().is_empty());
        assert!(store.verify().unwrap().problems.is_empty());
    }

    #[test]
    fn the_due_table_reads_only_rows_due_and_follows_the_schedule() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let h = |n: i64| t + chrono::Duration::hours(n);
        let hours = |hs: &[u64]| -> Vec<std::time::Duration> {
            hs.iter()
                .map(|n| std::time::Duration::from_secs(n * 3600))
                .collect()
        };
        let schedule = Schedule {
            ages: hours(&[1, 6]),
            feeds: ["f".to_string()].into(),
        };
        let row = |url: &str, feed: &str, at| RevisitState::new(url, feed, at, None, None);
        store
            .add_revisit_states(
                &[
                    ("a".into(), row("http://x.example/a", "f", t)),
                    ("b".into(), row("http://x.example/b", "f", h(10))),
                    ("c".into(), row("http://x.example/c", "other", t)),
                ],
                &schedule,
            )
            .unwrap();
        let ids = |d: &DueRevisits| d.rows.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>();
        // b's row is garbled: a pass at 2h must not read it (it is due at 11h), so it is not even stale.
        store.put_garbled_revisit_for_test("b");
        let due = store.revisit_due(&schedule, h(2), 10).unwrap();
        assert_eq!(
            (ids(&due), due.due, due.stale.len()),
            (vec!["a".to_string()], 1, 0)
        );
        assert!(store.revisit_due(&schedule, t, 10).unwrap().rows.is_empty());
        // At 12h b's entry is read, and found stale (its row no longer decodes).
        let due = store.revisit_due(&schedule, h(12), 10).unwrap();
        assert_eq!(
            (ids(&due), due.stale.clone()),
            (
                vec!["a".to_string()],
                vec![(h(11).timestamp_micros(), "b".to_string())]
            )
        );
        store.drop_stale_due(&due.stale).unwrap();
        assert!(store
            .revisit_due(&schedule, h(12), 10)
            .unwrap()
            .stale
            .is_empty());
        // The limit bounds the rows read, not the count.
        assert_eq!(store.revisit_due(&schedule, h(12), 0).unwrap().due, 1);
        assert_eq!(store.revisits_due_count(h(12)).unwrap(), 1);
        assert_eq!(store.revisits_due_count(t).unwrap(), 0);

        // A revisit moves the row to its next age.
        let mut a = store.revisit_state("a").unwrap().unwrap();
        a.advance(&schedule.ages, h(2));
        store
            .commit_revisits(&[("a".into(), a)], &[], &schedule)
            .unwrap();
        assert!(store
            .revisit_due(&schedule, h(5), 10)
            .unwrap()
            .rows
            .is_empty());
        assert_eq!(ids(&store.revisit_due(&schedule, h(6), 10).unwrap()), ["a"]);

        // Other ages (and feeds): the table is computed again, once, and rows are due by them.
        let sooner = Schedule {
            ages: hours(&[1, 3]),
            feeds: ["f".to_string(), "other".to_string()].into(),
        };
        assert!(store.sync_revisit_due(&sooner).unwrap());
        assert!(!store.sync_revisit_due(&sooner).unwrap());
        // Oldest due first: c at its first age (1h), a at its second (3h).
        assert_eq!(
            ids(&store.revisit_due(&sooner, h(3), 10).unwrap()),
            ["c", "a"]
        );
        // And back: the old schedule's due times again (a at 6h; c's feed not covered).
        assert!(store.sync_revisit_due(&schedule).unwrap());
        assert!(store
            .revisit_due(&schedule, h(5), 10)
            .unwrap()
            .rows
            .is_empty());
        assert_eq!(ids(&store.revisit_due(&schedule, h(6), 10).unwrap()), ["a"]);
    }

    #[test]
    fn feed_state_and_snapshot_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.feed_state("x").unwrap(), FeedState::default());
        let state = FeedState {
            etag: Some("\"abc\"".into()),
            consecutive_failures: 2,
            ..Default::default()
        };
        store
            .put_feed_states(&[("x".into(), state.clone())])
            .unwrap();
        assert_eq!(store.feed_state("x").unwrap(), state);

        let page = Page {
            url: url::Url::parse("http://a.example/1").unwrap(),
            final_url: url::Url::parse("http://a.example/1?r").unwrap(),
            status: 200,
            content_type: Some("text/html; charset=gbk".into()),
            etag: None,
            last_modified: None,
            headers: vec![("server".into(), "test".into())],
            body: "<p>台湾</p>".repeat(100).into_bytes(),
            fetched_at: Utc::now(),
        };
        store.put_snapshots(&[("id1".into(), &page)]).unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let reader = Store::open_read_only(dir.path()).unwrap().unwrap();
        assert_eq!(
            reader.feed_state("x").unwrap(),
            state,
            "a reader beside the writer"
        );
        assert!(reader.put_feed_states(&[]).is_err());
        let (meta, body) = store.snapshot("id1").unwrap().unwrap();
        assert_eq!(meta.final_url, "http://a.example/1?r");
        assert_eq!(meta.headers, page.headers);
        assert_eq!(body, page.body);
        assert!(store.snapshot("nope").unwrap().is_none());

        assert_eq!(store.last_digest().unwrap(), None);
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        store.set_last_digest(day).unwrap();
        assert_eq!(store.last_digest().unwrap(), Some(day));
    }

    #[test]
    fn copy_on_write_backend_never_writes_the_file() {
        use redb::StorageBackend;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let original: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &original).unwrap();
        let b = CopyOnWrite::open(&path).unwrap();
        assert_eq!(b.len().unwrap(), 10_000);
        // A write across a page boundary shows through reads; the rest reads from the file.
        b.write(4090, &[7; 20]).unwrap();
        let mut out = vec![0; 40];
        b.read(4080, &mut out).unwrap();
        assert_eq!(&out[..10], &original[4080..4090]);
        assert_eq!(&out[10..30], &[7; 20]);
        assert_eq!(&out[30..], &original[4110..4120]);
        // Cut, then grown again: what was cut reads as zeros, not as the file's bytes.
        b.set_len(5000).unwrap();
        assert!(b.read(4990, &mut out).is_err(), "past the end");
        b.set_len(12_000).unwrap();
        b.read(4990, &mut out).unwrap();
        assert_eq!(&out[..10], &original[4990..5000]);
        assert_eq!(&out[10..], &[0; 30]);
        b.write(11_990, &[9; 20]).unwrap();
        assert_eq!(b.len().unwrap(), 12_010);
        assert_eq!(std::fs::read(&path).unwrap(), original);
    }

    fn outbox_entry(alert: &str, created_at: DateTime<Utc>) -> OutboxEntry {
        OutboxEntry {
            seq: 0,
            message: crate::model::AlertMessage {
                alert: alert.into(),
                name: alert.into(),
                query: String::new(),
                fired_at: String::new(),
                articles: Vec::new(),
                total: 1,
                more: 0,
            },
            idempotency_key: format!("key-{alert}"),
            created_at,
            deliveries: vec![Delivery {
                channel: "webhook".into(),
                target: "http://127.0.0.1:9/".into(),
                secret_env: None,
                state: DeliveryState::Pending,
                attempts: 0,
                next_attempt: created_at,
                last_error: None,
                done_at: None,
            }],
        }
    }

    #[test]
    fn recent_outbox_keeps_the_newest_per_alert_and_counts_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.recent_outbox(None, 2).unwrap().entries.is_empty());
        let now = Utc::now();
        let entries: Vec<OutboxEntry> = ["x", "y", "x", "x", "y"]
            .iter()
            .map(|a| outbox_entry(a, now))
            .collect();
        store
            .commit_alert_evaluation(&entries, &[], &[], None)
            .unwrap();
        let recent = store.recent_outbox(None, 2).unwrap();
        let got: Vec<(u64, &str)> = recent
            .entries
            .iter()
            .map(|e| (e.seq, e.message.alert.as_str()))
            .collect();
        assert_eq!(got, [(5, "y"), (4, "x"), (3, "x"), (2, "y")]);
        assert_eq!(recent.counts["x"], 3);
        assert_eq!(recent.counts["y"], 2);
        let only_x = store.recent_outbox(Some("x"), 10).unwrap();
        let seqs: Vec<u64> = only_x.entries.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [4, 3, 1]);
        assert_eq!(only_x.counts.len(), 1);
    }

    #[test]
    fn the_alert_journal_marks_and_outbox_move_together() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.alert_batches().unwrap(), (Vec::new(), 0));
        assert_eq!(store.journal_alert_batch(&["a".into()]).unwrap(), 1);
        assert_eq!(
            store
                .journal_alert_batch(&["b".into(), "c".into()])
                .unwrap(),
            2
        );
        let t0 = Utc::now() - chrono::Duration::days(40);
        let mark = |batch| AlertMark {
            batch,
            ..Default::default()
        };
        let seqs = store
            .commit_alert_evaluation(
                &[outbox_entry("x", t0), outbox_entry("y", Utc::now())],
                &[("x".into(), mark(2)), ("gone".into(), mark(2))],
                &["x".into()],
                Some(2),
            )
            .unwrap();
        assert_eq!(seqs, vec![1, 2]);
        // The journal is empty, and its numbers go on; the mark of an alert not kept is dropped.
        assert_eq!(store.alert_batches().unwrap(), (Vec::new(), 2));
        assert_eq!(store.journal_alert_batch(&["d".into()]).unwrap(), 3);
        let marks = store.alert_marks().unwrap();
        assert_eq!(marks.keys().collect::<Vec<_>>(), vec!["x"]);
        // Both messages are due; the next due time is the earliest.
        assert_eq!(store.due_outbox(Utc::now()).unwrap().len(), 2);
        assert_eq!(
            store.next_outbox_due().unwrap().map(|t| t.timestamp()),
            Some(t0.timestamp())
        );
        // Delivered: no longer due, and pruned once older than the cut; a pending one never is.
        let mut first = store.due_outbox(Utc::now()).unwrap().remove(0);
        assert_eq!(first.seq, 1);
        first.deliveries[0].state = DeliveryState::Delivered;
        store.put_outbox_entry(&first).unwrap();
        assert_eq!(store.due_outbox(Utc::now()).unwrap().len(), 1);
        assert_eq!(
            store
                .prune_outbox(Utc::now() + chrono::Duration::days(1))
                .unwrap(),
            1
        );
        let left = store.outbox().unwrap();
        assert_eq!((left.len(), left[0].seq), (1, 2));
    }
}
