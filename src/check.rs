//! `mediawatch check [--repair]`: verifies the index folder (the tantivy index, its schema marker, every
//! segment's stored articles, the state store and its near-duplicate signatures) and returns plain
//! findings (what, which file, what to do); the repair rebuilds what can be rebuilt and never touches
//! the archived articles.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use tantivy::schema::Value;
use tantivy::{Index, TantivyDocument};

use crate::index::{SchemaMarker, SCHEMA_VERSION};
use crate::model::Article;
use crate::store::Store;

/// One thing that needs action.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The file (or folder) concerned.
    pub file: PathBuf,
    /// What is wrong.
    pub what: String,
    /// What to do.
    pub todo: String,
    /// Whether `check --repair` fixes it.
    pub repairable: bool,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; {}", self.file.display(), self.what, self.todo)
    }
}

fn finding(file: PathBuf, what: String, todo: &str, repairable: bool) -> Finding {
    Finding {
        file,
        what,
        todo: todo.to_string(),
        repairable,
    }
}

const REPAIR: &str = "run `mediawatch check --repair`";

/// Checks the index folder `dir` (the config's `index_path`). Empty when all is well.
pub fn check(dir: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    let tantivy_dir = dir.join("tantivy");
    let meta = tantivy_dir.join("meta.json");
    let mut archive_ids: Option<HashSet<String>> = None;
    if !meta.exists() {
        out.push(finding(
            tantivy_dir.clone(),
            "no archive here".into(),
            "run `mediawatch ingest` to create one (or point `index_path` at the right folder)",
            false,
        ));
    } else {
        match open_index(&tantivy_dir) {
            Err(f) => out.push(f),
            Ok(index) => {
                check_marker(dir, &index, &mut out);
                let mut ids = HashSet::new();
                out.extend(walk_articles(&tantivy_dir, &index, &mut |a| {
                    ids.insert(a.id);
                }));
                archive_ids = Some(ids);
            }
        }
    }
    check_store(dir, archive_ids.as_ref(), &mut out);
    out
}

/// Opens the tantivy index, or the finding that says why not.
fn open_index(tantivy_dir: &Path) -> Result<Index, Finding> {
    let meta = tantivy_dir.join("meta.json");
    Index::open_in_dir(tantivy_dir).map_err(|e| {
        let garbled = std::fs::read(&meta)
            .ok()
            .is_some_and(|b| serde_json::from_slice::<serde_json::Value>(&b).is_err());
        if garbled {
            finding(
                meta,
                format!("garbled, the index cannot be opened ({e})"),
                "restore the index folder from a backup (the segment files hold the articles but cannot be \
                 read without it; `reindex` needs it too), or move `tantivy/` aside and run `mediawatch \
                 ingest` to archive what the feeds still offer",
                false,
            )
        } else {
            finding(
                tantivy_dir.to_path_buf(),
                format!("the index cannot be opened: {e}"),
                "restore the index folder from a backup",
                false,
            )
        }
    })
}

fn check_marker(dir: &Path, index: &Index, out: &mut Vec<Finding>) {
    let file = crate::index::schema_version_file(dir);
    let same_schema = index.schema() == crate::index::schema().0;
    let (what, repairable) = match crate::index::read_schema_marker(dir) {
        SchemaMarker::Version(v) if v == SCHEMA_VERSION => return,
        SchemaMarker::Version(v) => (
            format!("index schema {v}, this mediawatch reads {SCHEMA_VERSION}"),
            false,
        ),
        SchemaMarker::Missing => ("missing".to_string(), same_schema),
        SchemaMarker::Garbled(why) => (format!("garbled: {why}"), same_schema),
    };
    let todo = if repairable {
        "run `mediawatch check --repair` (the index has this version's schema: the marker is rewritten)"
    } else {
        "run `mediawatch reindex` (it rebuilds the index with this version's schema from its stored articles)"
    };
    out.push(finding(file, what, todo, repairable));
}

/// Reads every stored document of every segment; calls `each` with every article; returns a finding per
/// segment whose files cannot be read.
fn walk_articles(tantivy_dir: &Path, index: &Index, each: &mut dyn FnMut(Article)) -> Vec<Finding> {
    let mut out = Vec::new();
    let todo = "the articles in this segment cannot be read: restore the index folder from a backup; \
                `mediawatch reindex` keeps the articles of the other segments only if the segment is \
                removed from meta.json first";
    let segments = match index.searchable_segments() {
        Ok(s) => s,
        Err(e) => {
            out.push(finding(
                tantivy_dir.join("meta.json"),
                format!("cannot list the segments: {e}"),
                "restore the index folder from a backup",
                false,
            ));
            return out;
        }
    };
    let doc_field = index.schema().get_field("doc").ok();
    for segment in segments {
        let name = segment.id().uuid_string();
        let store_file = tantivy_dir.join(format!("{name}.store"));
        let reader = match tantivy::SegmentReader::open(&segment) {
            Ok(r) => r,
            Err(e) => {
                use tantivy::directory::error::OpenReadError;
                let file = match &e {
                    tantivy::TantivyError::OpenReadError(
                        OpenReadError::IoError { filepath, .. }
                        | OpenReadError::FileDoesNotExist(filepath),
                    ) => tantivy_dir.join(filepath),
                    _ => tantivy_dir.join(format!("{name}.*")),
                };
                out.push(finding(
                    file,
                    format!("segment unreadable: {e}"),
                    todo,
                    false,
                ));
                continue;
            }
        };
        let store = match reader.get_store_reader(8) {
            Ok(s) => s,
            Err(e) => {
                out.push(finding(
                    store_file,
                    format!("stored articles unreadable: {e}"),
                    todo,
                    false,
                ));
                continue;
            }
        };
        let (mut bad, mut first_error) = (0u64, None);
        for doc in store.iter::<TantivyDocument>(reader.alive_bitset()) {
            let article = doc.map_err(|e| e.to_string()).and_then(|doc| {
                let json = doc_field
                    .and_then(|f| doc.get_first(f))
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| "a document without its stored article".to_string())?;
                serde_json::from_str::<Article>(json).map_err(|e| e.to_string())
            });
            match article {
                Ok(a) => each(a),
                Err(e) => {
                    bad += 1;
                    first_error.get_or_insert(e);
                }
            }
        }
        if bad > 0 {
            out.push(finding(
                store_file,
                format!(
                    "{bad} stored articles unreadable (first: {})",
                    first_error.unwrap_or_default()
                ),
                todo,
                false,
            ));
        }
    }
    out
}

fn check_store(dir: &Path, archive_ids: Option<&HashSet<String>>, out: &mut Vec<Finding>) {
    let file = dir.join("state.redb");
    let store = match Store::open_read_only(dir) {
        Ok(Some(s)) => s,
        Ok(None) => return,
        Err(e) => {
            out.push(finding(
                file,
                format!("the state store cannot be opened: {:#}", e),
                "run `mediawatch check --repair` (it moves the file aside and starts feed state afresh: \
                 every feed is read in full once more; the revisits' versions it can still read are copied \
                 over; the archive is not touched)",
                true,
            ));
            return;
        }
    };
    let health = match store.verify() {
        Ok(h) => h,
        Err(e) => {
            out.push(finding(file, format!("unreadable: {e:#}"), REPAIR, true));
            return;
        }
    };
    for p in &health.problems {
        out.push(finding(
            file.clone(),
            p.clone(),
            "run `mediawatch check --repair` (it moves the file aside and starts feed state afresh)",
            true,
        ));
    }
    if !health.bad_feed_states.is_empty() {
        out.push(finding(
            file.clone(),
            format!(
                "the state of {} feeds does not decode ({})",
                health.bad_feed_states.len(),
                health.bad_feed_states.join(", ")
            ),
            "run `mediawatch check --repair` (drops it; the next pass relearns it)",
            true,
        ));
    }
    if !health.bad_backfill.is_empty() {
        out.push(finding(
            file.clone(),
            format!(
                "the backfill position of {} feeds does not decode ({})",
                health.bad_backfill.len(),
                health.bad_backfill.join(", ")
            ),
            "run `mediawatch check --repair` (drops it; the next backfill starts over, without duplicates)",
            true,
        ));
    }
    if !health.bad_revisits.is_empty() {
        out.push(finding(
            file.clone(),
            format!(
                "the revisit rows of {} articles do not decode ({})",
                health.bad_revisits.len(),
                health.bad_revisits.join(", ")
            ),
            "those articles are not revisited; their archived text and any kept versions are intact",
            false,
        ));
    }
    if !health.bad_versions.is_empty() {
        out.push(finding(
            file.clone(),
            format!(
                "{} kept versions (or their page snapshots) do not decode (first: {})",
                health.bad_versions.len(),
                health.bad_versions[0]
            ),
            "the archived articles are intact; only those versions' records are lost (`history` fails on them)",
            false,
        ));
    }
    let alerts = alert_rows(&health);
    if !alerts.is_empty() {
        out.push(finding(
            file.clone(),
            format!("alert rows do not decode: {}", alerts.join("; ")),
            "run `mediawatch check --repair` (drops them: a dropped journal batch fires no alert, a \
             dropped mark starts its alert again at the journal's end, a dropped message is not sent; \
             until then alert evaluation or delivery fails on them)",
            true,
        ));
    }
    if !health.bad_snapshots.is_empty() {
        out.push(finding(
            file.clone(),
            format!(
                "{} page snapshots do not decode (first: {})",
                health.bad_snapshots.len(),
                health.bad_snapshots[0]
            ),
            "their articles are archived; only the raw pages (provenance) are lost",
            false,
        ));
    }
    if let Some(ids) = archive_ids {
        let signed: HashSet<String> = store
            .signatures()
            .map(|rows| rows.into_iter().map(|(id, _, _)| id).collect())
            .unwrap_or_default();
        let missing = ids.iter().filter(|id| !signed.contains(*id)).count();
        if missing > 0 || !health.bad_signatures.is_empty() {
            out.push(finding(
                file,
                format!(
                    "{missing} archived articles have no near-duplicate signature and {} signatures are \
                     garbled (new articles would not be clustered with them)",
                    health.bad_signatures.len()
                ),
                "run `mediawatch check --repair` (recomputes them from the archive)",
                true,
            ));
        }
    }
}

/// What `repair` says about the revisits' versions of a store it moved aside to `aside`: how many were
/// copied into the new store, and where those that could not be read are and how to get them back.
fn salvaged_message(s: &crate::store::Salvaged, aside: &Path) -> String {
    let copied = format!(
        "copied {} revisit rows, {} kept versions and {} version pages from it into the new store",
        s.revisits, s.versions, s.version_pages
    );
    if s.complete() {
        return format!("{copied} (every one it held: `mediawatch history` shows them as before)");
    }
    format!(
        "{copied}; could not read {}. The versions not copied are only in {}: keep that file. A backup of \
         state.redb from before the damage, put in place of the new one, has them (then run `mediawatch \
         check`); the index still holds each article's current version and its counts (versions, edited, \
         removed)",
        s.unread.join(", "),
        aside.display()
    )
}

/// The alert rows of the store that do not decode, one phrase per table (none when all decode).
fn alert_rows(health: &crate::store::StoreHealth) -> Vec<String> {
    let mut out = Vec::new();
    let seqs = |v: &[u64]| v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
    if !health.bad_alert_batches.is_empty() {
        out.push(format!(
            "{} journal batches ({})",
            health.bad_alert_batches.len(),
            seqs(&health.bad_alert_batches)
        ));
    }
    if !health.bad_alert_marks.is_empty() {
        out.push(format!(
            "the marks of {} alerts ({})",
            health.bad_alert_marks.len(),
            health.bad_alert_marks.join(", ")
        ));
    }
    if !health.bad_alert_outbox.is_empty() {
        out.push(format!(
            "{} outbox messages ({})",
            health.bad_alert_outbox.len(),
            seqs(&health.bad_alert_outbox)
        ));
    }
    out
}

/// Repairs what [`check`] found repairable, under the writer lock: rewrites the schema marker (when the
/// index has this version's schema), moves an unopenable store aside and starts a new one, drops feed
/// states and backfill positions that do not decode, recomputes the near-duplicate signatures from the
/// archive. Never deletes an archived article. Returns what it did.
pub fn repair(dir: &Path) -> anyhow::Result<Vec<String>> {
    let _lock = crate::index::WriterLock::acquire(dir)?;
    let mut done = Vec::new();
    let found = check(dir);
    let marker = crate::index::schema_version_file(dir);
    if found.iter().any(|f| f.repairable && f.file == marker) {
        crate::index::rewrite_schema_marker(dir)?;
        done.push(format!(
            "rewrote {} (schema {SCHEMA_VERSION}, read from the index)",
            marker.display()
        ));
    }
    let store_file = dir.join("state.redb");
    if !found.iter().any(|f| f.repairable && f.file == store_file) {
        return Ok(done);
    }
    let mut fresh = false;
    let store = match Store::open(dir) {
        Ok(s) if s.verify()?.problems.is_empty() => s,
        opened => {
            drop(opened);
            let aside = dir.join(format!(
                "state.redb.damaged-{}",
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ));
            std::fs::rename(&store_file, &aside).map_err(|e| {
                anyhow::anyhow!(
                    "cannot move {} aside to {}: {e}",
                    store_file.display(),
                    aside.display()
                )
            })?;
            done.push(format!(
                "moved the damaged state store aside to {} and started a new one (every feed is read in \
                 full once more; the archive is not touched)",
                aside.display()
            ));
            fresh = true;
            let store = Store::open(dir)?;
            done.push(salvaged_message(&store.salvage_revisits(&aside)?, &aside));
            store
        }
    };
    let health = store.verify()?;
    if !health.bad_feed_states.is_empty() || !health.bad_backfill.is_empty() {
        store.drop_rows(&health.bad_feed_states, &health.bad_backfill)?;
        done.push(format!(
            "dropped {} feed states and {} backfill positions that did not decode (relearned next pass)",
            health.bad_feed_states.len(),
            health.bad_backfill.len()
        ));
    }
    let alerts = alert_rows(&health);
    if !alerts.is_empty() {
        store.drop_alert_rows(
            &health.bad_alert_batches,
            &health.bad_alert_marks,
            &health.bad_alert_outbox,
        )?;
        done.push(format!(
            "dropped alert rows that did not decode: {}",
            alerts.join("; ")
        ));
    }
    let tantivy_dir = dir.join("tantivy");
    if tantivy_dir.join("meta.json").exists() {
        if let Ok(index) = open_index(&tantivy_dir) {
            if fresh {
                // The new store describes this index (else the next ingest warns that it names none);
                // before the signatures, which tying a store to an index drops.
                if let Ok(archive) = crate::index::Archive::open(dir) {
                    store.tie_to_index(&archive.identity()?)?;
                }
            }
            let mut rows = Vec::new();
            walk_articles(&tantivy_dir, &index, &mut |a| {
                let sig = crate::cluster::signature(&a.title, &a.text);
                let when = a.dated_at().timestamp();
                rows.push((a.id, when, sig.to_bytes().to_vec()));
            });
            store.replace_signatures(&rows)?;
            done.push(format!(
                "recomputed {} near-duplicate signatures from the archive",
                rows.len()
            ));
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Article;

    fn article(i: u32) -> Article {
        crate::model::sample_article(
            i,
            format!("Title number {i}"),
            format!("Some text about drills and exercises number {i} in the region."),
        )
    }

    /// An index folder with three archived articles, their signatures and one feed state.
    fn healthy() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let archive = crate::index::Archive::open_or_create(dir.path()).unwrap();
        let mut w = archive.writer().unwrap();
        let mut rows = Vec::new();
        for i in 0..3 {
            let a = article(i);
            w.upsert(&a).unwrap();
            let sig = crate::cluster::signature(&a.title, &a.text);
            rows.push((
                a.id.clone(),
                a.dated_at().timestamp(),
                sig.to_bytes().to_vec(),
            ));
        }
        w.commit().unwrap();
        w.finish().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.tie_to_index(&archive.identity().unwrap()).unwrap();
        store.put_signatures(&rows).unwrap();
        store
            .put_feed_states(&[("f".into(), crate::store::FeedState::default())])
            .unwrap();
        dir
    }

    fn names(findings: &[Finding], file: &str) -> bool {
        findings
            .iter()
            .any(|f| f.file.to_string_lossy().contains(file))
    }

    #[test]
    fn a_healthy_folder_has_no_findings() {
        let dir = healthy();
        assert_eq!(check(dir.path()), vec![]);
    }

    #[test]
    fn a_truncated_store_is_named_and_repaired_without_touching_the_archive() {
        let dir = healthy();
        let file = dir.path().join("state.redb");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&file)
            .unwrap()
            .set_len(4096)
            .unwrap();
        let found = check(dir.path());
        assert!(
            names(&found, "state.redb") && found.iter().all(|f| f.repairable),
            "{found:?}"
        );
        // The writers' own error names the file and what to do.
        let err = format!("{:#}", Store::open(dir.path()).err().unwrap());
        assert!(
            err.contains("state.redb") && err.contains("check --repair"),
            "{err}"
        );
        let done = repair(dir.path()).unwrap();
        assert!(done.iter().any(|d| d.contains("moved")), "{done:?}");
        // Nothing could be read from the truncated file: the message says where the versions are.
        let aside = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().contains("state.redb.damaged-"))
            .unwrap();
        let said = done
            .iter()
            .find(|d| d.contains("kept versions"))
            .unwrap_or_else(|| panic!("{done:?}"));
        assert!(
            said.contains("could not read the file")
                && said.contains(&format!("only in {}", aside.display()))
                && said.contains("backup"),
            "{said}"
        );
        assert_eq!(check(dir.path()), vec![]);
        assert_eq!(
            crate::index::Archive::open(dir.path())
                .unwrap()
                .num_articles(),
            3
        );
        assert_eq!(
            Store::open(dir.path()).unwrap().signatures().unwrap().len(),
            3
        );
    }

    #[test]
    fn a_garbled_schema_marker_is_said_garbled_and_rewritten() {
        let dir = healthy();
        std::fs::write(dir.path().join("index-schema-version"), "\u{1}zz").unwrap();
        let err = format!(
            "{:#}",
            crate::index::Archive::open(dir.path()).err().unwrap()
        );
        assert!(
            err.contains("garbled") && err.contains("index-schema-version"),
            "{err}"
        );
        assert!(!err.contains("schema 1"), "{err}");
        let found = check(dir.path());
        assert!(names(&found, "index-schema-version"), "{found:?}");
        repair(dir.path()).unwrap();
        assert_eq!(check(dir.path()), vec![]);
        assert!(crate::index::Archive::open(dir.path()).is_ok());
    }

    #[test]
    fn a_garbled_meta_json_is_named_and_left_with_what_to_do() {
        let dir = healthy();
        std::fs::write(
            dir.path().join("tantivy/meta.json"),
            "{\"segments\": [garbage",
        )
        .unwrap();
        let found = check(dir.path());
        assert!(names(&found, "meta.json"), "{found:?}");
        let f = found
            .iter()
            .find(|f| f.file.ends_with("meta.json"))
            .unwrap();
        assert!(!f.repairable && f.todo.contains("backup"), "{f:?}");
        repair(dir.path()).unwrap();
        assert!(names(&check(dir.path()), "meta.json"));
    }

    #[test]
    fn a_garbled_segment_store_is_named() {
        let dir = healthy();
        let store = std::fs::read_dir(dir.path().join("tantivy"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "store"))
            .unwrap();
        let mut bytes = std::fs::read(&store).unwrap();
        let n = bytes.len();
        for b in &mut bytes[..n.saturating_sub(40).max(1)] {
            *b ^= 0x5a;
        }
        std::fs::write(&store, bytes).unwrap();
        let found = check(dir.path());
        let name = store.file_name().unwrap().to_string_lossy().to_string();
        assert!(names(&found, &name), "{found:?}");
    }

    #[test]
    fn a_garbled_block_in_a_segment_store_is_named_by_check_and_by_reading() {
        let dir = healthy();
        let store = std::fs::read_dir(dir.path().join("tantivy"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "store"))
            .unwrap();
        let mut bytes = std::fs::read(&store).unwrap();
        let n = bytes.len().min(64);
        for b in &mut bytes[..n] {
            *b ^= 0xa5;
        }
        std::fs::write(&store, bytes).unwrap();
        let name = store.file_name().unwrap().to_string_lossy().to_string();
        let found = check(dir.path());
        assert!(names(&found, &name), "{found:?}");
        // What `search` and the web do to show an article names the file too.
        let err = match crate::index::Archive::open(dir.path()) {
            Err(e) => format!("{e:#}"),
            Ok(archive) => {
                let searcher = archive.searcher();
                let mut errors = String::new();
                for (ord, segment) in searcher.segment_readers().iter().enumerate() {
                    for doc in segment.doc_ids_alive() {
                        let address = tantivy::DocAddress::new(ord as u32, doc);
                        if let Err(e) = archive.article(&searcher, address) {
                            errors.push_str(&format!("{e:#}\n"));
                        }
                    }
                }
                errors
            }
        };
        assert!(err.contains(&name), "{err}");
    }

    #[test]
    fn dropped_signatures_and_garbled_feed_state_are_found_and_rebuilt() {
        let dir = healthy();
        {
            let store = Store::open(dir.path()).unwrap();
            store.replace_signatures(&[]).unwrap();
            store.put_garbled_feed_state_for_test("g");
        }
        let found = check(dir.path());
        assert!(
            found
                .iter()
                .any(|f| f.what.contains("3 archived articles have no")),
            "{found:?}"
        );
        assert!(found.iter().any(|f| f.what.contains("(g)")), "{found:?}");
        repair(dir.path()).unwrap();
        assert_eq!(check(dir.path()), vec![]);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.signatures().unwrap().len(), 3);
        assert_eq!(store.feed_states().unwrap().len(), 1);
    }

    #[test]
    fn undecodable_revisit_rows_and_versions_are_named_and_never_repaired_away() {
        let dir = healthy();
        Store::open(dir.path())
            .unwrap()
            .put_garbled_revisit_for_test("abc");
        let found = check(dir.path());
        let revisits = found
            .iter()
            .find(|f| {
                f.what
                    .contains("revisit rows of 1 articles do not decode (abc)")
            })
            .unwrap_or_else(|| panic!("{found:?}"));
        assert!(!revisits.repairable);
        let versions = found
            .iter()
            .find(|f| f.what.contains("1 kept versions") && f.what.contains("abc#1"))
            .unwrap_or_else(|| panic!("{found:?}"));
        assert!(!versions.repairable);
        assert_eq!(found.len(), 2, "and not a damaged store: {found:?}");
        // Repair leaves the store (and every version in it) where it is.
        repair(dir.path()).unwrap();
        assert!(dir.path().join("state.redb").exists());
        assert_eq!(check(dir.path()).len(), 2);
    }

    #[test]
    fn repair_copies_the_revisits_versions_into_the_new_store() {
        use crate::revisit::{Compared, RevisitState, StoredVersion};
        let dir = healthy();
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let version = |number: u32, title: &str| {
            let fields = Compared::new(title, "Text.", None, &[]);
            StoredVersion {
                number,
                fetched_at: at,
                recorded_at: at,
                http_status: 200,
                final_url: "https://fixture.example/0".into(),
                fields_sha256: fields.sha256(),
                fields,
                snapshot_sha256: None,
                campaigns: vec![],
                changed: vec![],
            }
        };
        let page = crate::model::Page {
            url: url::Url::parse("https://fixture.example/0").unwrap(),
            final_url: url::Url::parse("https://fixture.example/0").unwrap(),
            status: 200,
            content_type: Some("text/html".into()),
            etag: None,
            last_modified: None,
            headers: vec![],
            body: b"<html><title>Edited</title></html>".to_vec(),
            fetched_at: at,
        };
        let mut state = RevisitState::new("https://fixture.example/0", "f", at, None, None);
        state.hashes = vec![
            version(1, "First").fields_sha256,
            version(2, "Edited").fields_sha256,
        ];
        state.current = 2;
        let id = article(0).id;
        {
            let store = Store::open(dir.path()).unwrap();
            store
                .commit_revisits(
                    &[(id.clone(), state.clone())],
                    &[
                        (id.clone(), version(1, "First"), None),
                        (id.clone(), version(2, "Edited"), Some(&page)),
                    ],
                    &crate::revisit::Schedule::default(),
                )
                .unwrap();
        }
        // Damage that makes the store unopenable for writing though redb still reads its other tables:
        // the `meta` table replaced by one of another type.
        {
            let db = redb::Database::open(dir.path().join("state.redb")).unwrap();
            let txn = db.begin_write().unwrap();
            txn.delete_table(redb::TableDefinition::<&str, &str>::new("meta"))
                .unwrap();
            txn.open_table(redb::TableDefinition::<&str, u64>::new("meta"))
                .unwrap();
            txn.commit().unwrap();
        }
        assert!(Store::open(dir.path()).is_err());
        assert!(check(dir.path()).iter().any(|f| f.repairable));
        let done = repair(dir.path()).unwrap();
        assert!(done.iter().any(|d| d.contains("moved")), "{done:?}");
        assert!(
            done.iter().any(|d| d.contains(
                "copied 1 revisit rows, 2 kept versions and 1 version pages from it into the new store \
                 (every one it held"
            )),
            "{done:?}"
        );
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.revisit_state(&id).unwrap(), Some(state));
        let titles: Vec<String> = store
            .versions(&id)
            .unwrap()
            .into_iter()
            .map(|v| v.fields.title)
            .collect();
        assert_eq!(titles, ["First", "Edited"]);
        let (_, body) = store.version_snapshot(&id, 2).unwrap().unwrap();
        assert_eq!(body, page.body);
        drop(store);
        assert_eq!(check(dir.path()), vec![]);
    }

    #[test]
    fn garbled_alert_rows_are_found_and_dropped_and_the_good_ones_kept() {
        let dir = healthy();
        {
            let store = Store::open(dir.path()).unwrap();
            let good = store.journal_alert_batch(&["a1".to_string()]).unwrap();
            store.put_garbled_alert_rows_for_test(good + 1, "bad-alert");
            // Unreadable, the alerts can neither be evaluated nor delivered.
            assert!(store.alert_batches().is_err());
            assert!(store.alert_marks().is_err());
            assert!(store.outbox().is_err());
        }
        let found = check(dir.path());
        let f = found
            .iter()
            .find(|f| f.what.contains("alert rows do not decode"))
            .unwrap_or_else(|| panic!("{found:?}"));
        assert!(
            f.what.contains("1 journal batches (2)")
                && f.what.contains("the marks of 1 alerts (bad-alert)")
                && f.what.contains("1 outbox messages (2)")
                && f.repairable,
            "{f:?}"
        );
        let done = repair(dir.path()).unwrap();
        assert!(
            done.iter().any(|d| d.contains("dropped alert rows")),
            "{done:?}"
        );
        assert_eq!(check(dir.path()), vec![]);
        let store = Store::open(dir.path()).unwrap();
        let (batches, _) = store.alert_batches().unwrap();
        assert_eq!(batches.len(), 1, "the good batch is kept");
        assert!(store.alert_marks().unwrap().is_empty());
        assert!(store.outbox().unwrap().is_empty());
        assert_eq!(store.next_outbox_due().unwrap(), None);
    }
}
