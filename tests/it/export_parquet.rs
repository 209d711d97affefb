//! `export-parquet` (issue #29): the Parquet rows of a fixture archive equal its stored articles field by
//! field (read back with the parquet crate), partitions and the manifest's checksums are right, a second run
//! with a later `--since` adds exactly the new rows, a run killed at any point leaves the folder readable
//! and the manifest true, and DuckDB, pandas and PySpark (scripts/parquet_*.py) count per campaign per day
//! what `digest --format json` counts (skipped without them unless MEDIAWATCH_REQUIRE_ENGINES=1).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, RecordBatch};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use mediawatch::index::Archive;
use mediawatch::model::{
    Affiliation, Article, CampaignHit, Forward, LangInfo, Post, Revision, TermHit, TermPosition,
};
use mediawatch::revisit::{Compared, Schedule, StoredVersion};
use mediawatch::store::Store;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

use crate::support::all_articles;

const CONFIG: &str = r#"
[index]
path = "index"

[[feeds]]
id = "gt"
url = "http://127.0.0.1:9/gt.xml"
name = "Global Times (fixture)"
affiliation = "state"
country = "CN"
typology = "SC"

[[feeds]]
id = "indie"
url = "http://127.0.0.1:9/indie.xml"
name = "Independent (fixture)"
affiliation = "independent"
country = "TW"

[[feeds]]
id = "tg"
url = "http://127.0.0.1:9/s/chan"
kind = "telegram"
name = "Channel (fixture)"
affiliation = "state"
country = "RU"

[[campaigns]]
id = "taiwan"
name = "Taiwan"
[campaigns.terms]
en = ["reunification"]

[[campaigns]]
id = "nato"
name = "NATO"
[campaigns.terms]
en = ["nato expansion"]
"#;

fn at(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(h, m, 7).unwrap())
}

fn hit(id: &str, terms: &[&str]) -> CampaignHit {
    CampaignHit {
        id: id.into(),
        score: terms.len() as f64 + 0.5,
        terms: terms
            .iter()
            .map(|t| TermHit {
                term: (*t).into(),
                lang: "en".into(),
                count: 2,
                positions: vec![TermPosition {
                    field: "text".into(),
                    start: 0,
                    end: t.len(),
                }],
            })
            .collect(),
    }
}

/// Article `i` of the fixture archive, published on `day` (every field set somewhere in the set).
fn article(i: usize, day: NaiveDate) -> Article {
    let feed = ["gt", "indie", "tg"][i % 3];
    let url = format!("https://{feed}.example/a/{i}");
    let published = at(day, (i % 24) as u32, (i * 7 % 60) as u32);
    let campaigns = match i % 5 {
        0 => vec![hit("taiwan", &["reunification"])],
        1 => vec![
            hit("taiwan", &["reunification"]),
            hit("nato", &["nato expansion", "nato"]),
        ],
        2 => vec![hit("nato", &["nato expansion"])],
        _ => vec![],
    };
    Article {
        id: format!("{:016x}", 0xa000 + i),
        url: url.clone(),
        final_url: format!("{url}?r=1"),
        feed: feed.into(),
        source_name: format!("Outlet {feed}"),
        affiliation: [
            Affiliation::State,
            Affiliation::Independent,
            Affiliation::State,
        ][i % 3],
        country: (i % 4 != 3).then(|| ["CN", "TW", "RU"][i % 3].into()),
        lang: LangInfo {
            lang: ["en", "zh", "ru"][i % 3].into(),
            script: (i % 2 == 0).then(|| ["Latn", "Hans", "Cyrl"][i % 3].into()),
            confidence: 0.25 + (i % 4) as f64 / 8.0,
            reliable: i % 2 == 0,
        },
        title: format!("Headline {i}: 台湾 «новости» \"quoted\""),
        text: format!("Body {i}\nsecond paragraph, with reunification and NATO expansion."),
        description: (i % 2 == 1).then(|| format!("Lead {i}")),
        authors: (0..i % 3).map(|k| format!("Author {k}")).collect(),
        // Article 4 has no publication time: dated (and partitioned) by its fetch time.
        published: (i != 4).then_some(published),
        modified: (i % 3 == 0).then(|| published + Duration::hours(2)),
        fetched_at: published + Duration::minutes(30),
        canonical_url: (i % 2 == 0).then(|| format!("{url}#canonical")),
        site_name: (i % 3 == 1).then(|| "Site".to_string()),
        image: (i % 4 == 0).then(|| format!("https://img.example/{i}.jpg")),
        section: (i % 5 == 0).then(|| "World".to_string()),
        tags: (0..i % 4).map(|k| format!("tag{k}")).collect(),
        campaigns,
        http_status: if i % 7 == 6 { 404 } else { 200 },
        text_source: if feed == "tg" { "post" } else { "page" }.into(),
        cluster: (i % 6 != 5).then(|| format!("{:016x}", 0xa000 + i - i % 2)),
        post: (feed == "tg").then(|| Post {
            channel: "chan".into(),
            views: (i % 2 == 0).then_some(1200 + i as u64),
            forwarded_from: (i % 4 == 2).then(|| Forward {
                name: "Origin".into(),
                channel: Some("origin".into()),
                url: Some(format!("https://t.me/origin/{i}")),
            }),
        }),
        revision: None,
    }
}

/// The fixture: `n` articles over October and November 2026 (two partitions); article 2 edited (three
/// versions, the page back at version 2, a campaign dropped), article 3 removed. Returns the config path.
fn fixture(dir: &Path, n: usize) -> PathBuf {
    let config = dir.join("feeds.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let index = dir.join("index");
    let first = NaiveDate::from_ymd_opt(2026, 10, 27).unwrap();
    let mut articles: Vec<Article> = (0..n)
        .map(|i| article(i, first + Duration::days((i % 9) as i64)))
        .collect();
    let edited_at = at(NaiveDate::from_ymd_opt(2026, 11, 10).unwrap(), 8, 0);
    articles[2].revision = Some(Revision {
        versions: 3,
        current: 2,
        edited_at: Some(edited_at),
        removed_at: None,
        restored_at: None,
        campaigns_seen: vec!["nato".into(), "taiwan".into()],
    });
    articles[3].revision = Some(Revision {
        versions: 1,
        current: 1,
        edited_at: None,
        removed_at: Some(edited_at),
        restored_at: None,
        campaigns_seen: vec![],
    });
    add(&index, &articles);
    let a = &articles[2];
    let version = |number: u32, title: &str, campaigns: Vec<CampaignHit>| StoredVersion {
        number,
        fetched_at: a.fetched_at + Duration::days(i64::from(number)),
        recorded_at: edited_at + Duration::hours(i64::from(number)),
        http_status: 200 + number as u16,
        final_url: format!("{}?v={number}", a.url),
        fields: Compared::new(
            title,
            &format!("Text of version {number}"),
            a.published
                .map(|p| p + Duration::minutes(i64::from(number))),
            &[format!("Writer {number}"), "Second".into()],
        ),
        fields_sha256: format!("{number:064x}"),
        snapshot_sha256: None,
        campaigns,
        changed: if number == 1 {
            vec![]
        } else {
            vec!["title".into(), "text".into()]
        },
    };
    let versions = vec![
        version(1, "First title", vec![hit("taiwan", &["reunification"])]),
        version(2, &a.title, a.campaigns.clone()),
        version(3, "Third title", vec![]),
    ];
    let store = Store::open(&index).unwrap();
    let versions: Vec<(String, StoredVersion, Option<&mediawatch::model::Page>)> = versions
        .into_iter()
        .map(|v| (a.id.clone(), v, None))
        .collect();
    store
        .commit_revisits(&[], &versions, &Schedule::default())
        .unwrap();
    config
}

fn add(index: &Path, articles: &[Article]) {
    let archive = Archive::open_or_create(index).unwrap();
    let mut w = archive.writer().unwrap();
    for (k, a) in articles.iter().enumerate() {
        w.upsert(a).unwrap();
        if k % 10 == 9 {
            w.commit().unwrap(); // several segments
        }
    }
    w.commit().unwrap();
}

fn mw(config: &Path, args: &[&str]) -> std::process::Output {
    crate::support::mw_with(config).args(args).output().unwrap()
}

fn export_ok(config: &Path, args: &[&str]) {
    let out = mw(config, &[&["export-parquet"], args].concat());
    assert!(
        out.status.success(),
        "export-parquet {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Every file of every run, as listed: (path, month, rows, bytes, sha256).
fn listed(m: &serde_json::Value) -> Vec<(String, String, u64, u64, String)> {
    m["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["files"].as_array().unwrap().iter())
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["month"].as_str().unwrap().to_string(),
                f["rows"].as_u64().unwrap(),
                f["bytes"].as_u64().unwrap(),
                f["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The export folder's files, relative, `/`-separated (the lock file left out).
fn files_in(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            for f in std::fs::read_dir(e.path()).unwrap() {
                out.insert(format!(
                    "{name}/{}",
                    f.unwrap().file_name().to_string_lossy()
                ));
            }
        } else if name != ".export.lock" {
            out.insert(name);
        }
    }
    out
}

/// Checks every listed file: its bytes and sha256 as listed, readable, its row count as listed, every
/// row in its month. Returns the rows.
fn check_listed(dir: &Path) -> Vec<Row> {
    let m = manifest(dir);
    let mut rows = Vec::new();
    for (path, month, n, bytes, sha) in listed(&m) {
        let data = std::fs::read(dir.join(&path)).unwrap();
        assert_eq!(data.len() as u64, bytes, "{path}");
        assert_eq!(hex::encode(Sha256::digest(&data)), sha, "{path}");
        assert!(path.starts_with(&format!("month={month}/part-r")), "{path}");
        let file_rows = read_rows(&dir.join(&path));
        assert_eq!(file_rows.len() as u64, n, "{path}");
        for r in &file_rows {
            let current = rows_article_month(&file_rows, r);
            assert_eq!(current, month, "a row of {} in {path}", r.article.id);
        }
        rows.extend(file_rows);
    }
    rows
}

/// The month of the current version of `r`'s article (every row of an article is in its partition).
fn rows_article_month(rows: &[Row], r: &Row) -> String {
    let current = rows
        .iter()
        .find(|c| c.is_current && c.article.id == r.article.id)
        .expect("each article's current row is in the file of its other versions");
    current.dated_at.format("%Y-%m").to_string()
}

/// A row read back.
#[derive(Debug, Clone)]
struct Row {
    article: Article,
    version: u32,
    is_current: bool,
    versions: u32,
    dated_at: DateTime<Utc>,
    recorded_at: Option<DateTime<Utc>>,
    changed: Vec<String>,
    typology: Option<String>,
}

fn read_rows(path: &Path) -> Vec<Row> {
    let file = std::fs::File::open(path).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let meta = builder.metadata().clone();
    let created_by = meta.file_metadata().created_by().unwrap_or_default();
    assert!(created_by.starts_with("mediawatch"), "{created_by}");
    for rg in meta.row_groups() {
        for c in rg.columns() {
            assert_eq!(
                c.compression(),
                parquet::basic::Compression::ZSTD(Default::default()),
                "{}",
                c.column_path()
            );
        }
    }
    let mut rows = Vec::new();
    for batch in builder.build().unwrap() {
        let batch = batch.unwrap();
        for i in 0..batch.num_rows() {
            rows.push(row_of(&batch, i));
        }
    }
    rows
}

fn col<'a>(b: &'a RecordBatch, name: &str) -> &'a dyn Array {
    b.column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .as_ref()
}

fn s(b: &RecordBatch, name: &str, i: usize) -> Option<String> {
    let a = col(b, name).as_string::<i32>();
    (!a.is_null(i)).then(|| a.value(i).to_string())
}

fn t(b: &RecordBatch, name: &str, i: usize) -> Option<DateTime<Utc>> {
    let c = col(b, name);
    assert_eq!(
        c.data_type(),
        &arrow_schema::DataType::Timestamp(arrow_schema::TimeUnit::Microsecond, Some("UTC".into())),
        "{name}"
    );
    let a = c.as_primitive::<TimestampMicrosecondType>();
    (!a.is_null(i)).then(|| DateTime::from_timestamp_micros(a.value(i)).unwrap())
}

fn strings(b: &RecordBatch, name: &str, i: usize) -> Vec<String> {
    let l = col(b, name).as_list::<i32>().value(i);
    let v = l.as_string::<i32>();
    (0..v.len()).map(|k| v.value(k).to_string()).collect()
}

fn int(b: &RecordBatch, name: &str, i: usize) -> i32 {
    col(b, name).as_primitive::<Int32Type>().value(i)
}

fn boolean(b: &RecordBatch, name: &str, i: usize) -> bool {
    col(b, name).as_boolean().value(i)
}

fn row_of(b: &RecordBatch, i: usize) -> Row {
    let req = |name: &str| s(b, name, i).unwrap_or_else(|| panic!("{name} is null"));
    let campaigns = {
        let list = col(b, "campaigns").as_list::<i32>().value(i);
        let st = list.as_struct();
        let ids = st.column_by_name("id").unwrap().as_string::<i32>();
        let scores = st
            .column_by_name("score")
            .unwrap()
            .as_primitive::<Float64Type>();
        let terms = st.column_by_name("terms").unwrap().as_list::<i32>();
        (0..st.len())
            .map(|k| {
                let ts = terms.value(k);
                let ts = ts.as_struct();
                let term = ts.column_by_name("term").unwrap().as_string::<i32>();
                let lang = ts.column_by_name("lang").unwrap().as_string::<i32>();
                let count = ts
                    .column_by_name("count")
                    .unwrap()
                    .as_primitive::<Int64Type>();
                CampaignHit {
                    id: ids.value(k).into(),
                    score: scores.value(k),
                    terms: (0..ts.len())
                        .map(|j| TermHit {
                            term: term.value(j).into(),
                            lang: lang.value(j).into(),
                            count: count.value(j) as usize,
                            positions: vec![],
                        })
                        .collect(),
                }
            })
            .collect()
    };
    let views = col(b, "post_views").as_primitive::<Int64Type>();
    let post = s(b, "post_channel", i).map(|channel| Post {
        channel,
        views: (!views.is_null(i)).then(|| views.value(i) as u64),
        forwarded_from: s(b, "forwarded_from_name", i).map(|name| Forward {
            name,
            channel: s(b, "forwarded_from_channel", i),
            url: s(b, "forwarded_from_url", i),
        }),
    });
    let version = int(b, "version", i) as u32;
    let versions = int(b, "versions", i) as u32;
    let revision = Revision {
        versions,
        current: version,
        edited_at: t(b, "edited_at", i),
        removed_at: t(b, "removed_at", i),
        restored_at: t(b, "restored_at", i),
        campaigns_seen: strings(b, "campaigns_seen", i),
    };
    let never_revisited = Revision {
        versions: 1,
        current: 1,
        ..Default::default()
    };
    let article = Article {
        id: req("id"),
        url: req("url"),
        final_url: req("final_url"),
        feed: req("feed"),
        source_name: req("source_name"),
        affiliation: Affiliation::parse(&req("affiliation")).unwrap(),
        country: s(b, "country", i),
        lang: LangInfo {
            lang: req("lang"),
            script: s(b, "script", i),
            confidence: col(b, "lang_confidence")
                .as_primitive::<Float64Type>()
                .value(i),
            reliable: boolean(b, "lang_reliable", i),
        },
        title: req("title"),
        text: req("text"),
        description: s(b, "description", i),
        authors: strings(b, "authors", i),
        published: t(b, "published", i),
        modified: t(b, "modified", i),
        fetched_at: t(b, "fetched_at", i).unwrap(),
        canonical_url: s(b, "canonical_url", i),
        site_name: s(b, "site_name", i),
        image: s(b, "image", i),
        section: s(b, "section", i),
        tags: strings(b, "tags", i),
        campaigns,
        http_status: int(b, "http_status", i) as u16,
        text_source: req("text_source"),
        cluster: s(b, "cluster", i),
        post,
        revision: (revision != never_revisited).then_some(revision),
    };
    Row {
        article,
        version,
        is_current: boolean(b, "is_current", i),
        versions,
        dated_at: t(b, "dated_at", i).unwrap(),
        recorded_at: t(b, "version_recorded_at", i),
        changed: strings(b, "changed_fields", i),
        typology: s(b, "typology", i),
    }
}

/// The stored article as the export writes it: the terms' match positions are not exported.
fn without_positions(mut a: Article) -> Article {
    for c in &mut a.campaigns {
        for t in &mut c.terms {
            t.positions.clear();
        }
    }
    a
}

#[test]
fn parquet_rows_equal_the_stored_articles_field_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture(dir.path(), 30);
    let out = dir.path().join("export");
    export_ok(&config, &[out.to_str().unwrap()]);

    let m = manifest(&out);
    assert_eq!(m["format"], "mediawatch-parquet/1");
    let runs = m["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["run"], 1);
    assert_eq!(run["query"], "");
    assert_eq!(run["matches"], 30);
    assert_eq!(run["rows"], 32, "30 articles and 2 earlier versions of one");
    assert_eq!(run["index_commit"]["articles"], 30);
    assert!(run["index_commit"]["segments"].as_array().unwrap().len() >= 3);
    // Two partitions, one file each; nothing else in the folder.
    let files = listed(&m);
    let paths: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        paths,
        [
            "month=2026-10/part-r00001-001.parquet",
            "month=2026-11/part-r00001-001.parquet"
        ]
    );
    let mut on_disk: BTreeSet<String> = paths.iter().map(|p| p.to_string()).collect();
    on_disk.insert("manifest.json".into());
    assert_eq!(files_in(&out), on_disk);

    let rows = check_listed(&out);
    assert_eq!(rows.len(), 32);
    let archive = Archive::open(&dir.path().join("index")).unwrap();
    let stored = all_articles(&archive);
    let current: BTreeMap<String, &Row> = rows
        .iter()
        .filter(|r| r.is_current)
        .map(|r| (r.article.url.clone(), r))
        .collect();
    assert_eq!(current.len(), 30);
    for (url, a) in &stored {
        let row = current[url];
        assert_eq!(row.article, without_positions(a.clone()), "{url}");
        assert_eq!(row.dated_at, a.dated_at(), "{url}");
        assert_eq!(
            row.typology.as_deref(),
            (a.feed == "gt").then_some("SC"),
            "{url}"
        );
    }
    // The edited article: its current row is version 2 (the page went back to it), and versions 1 and 3
    // have rows of their own with the fields the store keeps.
    let edited = &stored["https://tg.example/a/2"];
    let current_row = current["https://tg.example/a/2"];
    assert_eq!((current_row.version, current_row.versions), (2, 3));
    assert_eq!(current_row.changed, ["title", "text"]);
    assert!(current_row.recorded_at.is_some());
    let store = Store::open_read_only(&dir.path().join("index"))
        .unwrap()
        .unwrap();
    let versions = store.versions(&edited.id).unwrap();
    let earlier: Vec<&Row> = rows
        .iter()
        .filter(|r| !r.is_current && r.article.id == edited.id)
        .collect();
    assert_eq!(
        earlier.iter().map(|r| r.version).collect::<Vec<_>>(),
        [1, 3]
    );
    for r in earlier {
        let v = versions.iter().find(|v| v.number == r.version).unwrap();
        let mut want = without_positions(edited.clone());
        want.title = v.fields.title.clone();
        want.text = v.fields.text.clone();
        want.published = v.fields.published;
        want.authors = vec![format!("Writer {}", v.number), "Second".into()];
        want.final_url = v.final_url.clone();
        want.http_status = v.http_status;
        want.fetched_at = v.fetched_at;
        want.campaigns = without_positions(Article {
            campaigns: v.campaigns.clone(),
            ..edited.clone()
        })
        .campaigns;
        // The article's revision (versions, removal, campaigns seen) is the article's, on every row.
        want.revision = Some(Revision {
            current: r.version,
            ..edited.revision.clone().unwrap()
        });
        assert_eq!(r.article, want, "version {}", r.version);
        assert_eq!(r.recorded_at, Some(v.recorded_at));
        assert_eq!(r.changed, v.changed);
        assert_eq!(r.versions, 3);
    }
}

#[test]
fn filters_select_the_slice_and_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture(dir.path(), 30);
    let out = dir.path().join("export");
    export_ok(
        &config,
        &[
            out.to_str().unwrap(),
            "--campaign",
            "nato",
            "--since",
            "2026-11-01",
            "--query",
            "reunification",
        ],
    );
    let m = manifest(&out);
    let run = &m["runs"][0];
    assert_eq!(run["query"], "reunification");
    assert_eq!(run["filters"]["campaign"], "nato");
    assert_eq!(run["filters"]["since"], "2026-11-01");
    let rows = check_listed(&out);
    let archive = Archive::open(&dir.path().join("index")).unwrap();
    let since = at(NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(), 0, 0) - Duration::seconds(7);
    let want: BTreeSet<String> = all_articles(&archive)
        .into_values()
        .filter(|a| a.campaigns.iter().any(|c| c.id == "nato") && a.dated_at() >= since)
        .map(|a| a.id)
        .collect();
    let got: BTreeSet<String> = rows
        .iter()
        .filter(|r| r.is_current)
        .map(|r| r.article.id.clone())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
    assert_eq!(run["matches"], want.len());
    assert!(listed(&m).iter().all(|f| f.1 == "2026-11"));
}

/// Articles published in December 2026, after the fixture's.
fn december(from: usize, n: usize) -> Vec<Article> {
    let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
    (from..from + n)
        .map(|i| article(i, day + Duration::days((i % 3) as i64)))
        .collect()
}

#[test]
fn a_second_run_with_a_later_since_adds_exactly_the_new_rows() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture(dir.path(), 30);
    let out = dir.path().join("export");
    export_ok(&config, &[out.to_str().unwrap()]);
    let first = manifest(&out);
    let first_files = listed(&first);
    let mtimes: Vec<std::time::SystemTime> = first_files
        .iter()
        .map(|f| {
            std::fs::metadata(out.join(&f.0))
                .unwrap()
                .modified()
                .unwrap()
        })
        .collect();

    let new = december(100, 12);
    add(&dir.path().join("index"), &new);
    export_ok(&config, &[out.to_str().unwrap(), "--since", "2026-12-01"]);

    let m = manifest(&out);
    let runs = m["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0], first["runs"][0], "the first run's record is kept");
    assert_eq!(runs[1]["run"], 2);
    assert_eq!(runs[1]["filters"]["since"], "2026-12-01");
    assert_eq!(runs[1]["matches"], 12);
    assert_eq!(runs[1]["index_commit"]["articles"], 42);
    let second: Vec<String> = runs[1]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(second, ["month=2026-12/part-r00002-001.parquet"]);
    // The first run's files are untouched.
    for (f, t) in first_files.iter().zip(&mtimes) {
        let data = std::fs::read(out.join(&f.0)).unwrap();
        assert_eq!(hex::encode(Sha256::digest(&data)), f.4);
        assert_eq!(
            std::fs::metadata(out.join(&f.0))
                .unwrap()
                .modified()
                .unwrap(),
            *t
        );
    }
    // Exactly the new articles, once each, over both runs: every article once.
    let rows = check_listed(&out);
    let new_rows: BTreeSet<String> = read_rows(&out.join(&second[0]))
        .into_iter()
        .map(|r| r.article.id)
        .collect();
    assert_eq!(
        new_rows,
        new.iter().map(|a| a.id.clone()).collect::<BTreeSet<_>>()
    );
    let current: Vec<&Row> = rows.iter().filter(|r| r.is_current).collect();
    let ids: BTreeSet<&str> = current.iter().map(|r| r.article.id.as_str()).collect();
    assert_eq!((current.len(), ids.len()), (42, 42));
}

/// Runs the export with the test-only failure point `at` (the process aborts there, as a kill would).
fn killed_at(config: &Path, out: &Path, at: &str) {
    let status = crate::support::mw_with(config)
        .args(["export-parquet", out.to_str().unwrap()])
        .env("MEDIAWATCH_PARQUET_FAIL_AT", at)
        .output()
        .unwrap()
        .status;
    assert!(!status.success(), "the run did not stop at {at}");
}

#[test]
fn a_killed_export_leaves_the_folder_readable_and_the_manifest_true() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture(dir.path(), 30);
    let out = dir.path().join("export");

    // Killed in its first run: no manifest yet, or nothing listed.
    killed_at(&config, &out, "file:1");
    assert!(!out.join("manifest.json").exists());
    assert!(files_in(&out)
        .iter()
        .any(|f| f.ends_with(".parquet") || f.ends_with(".tmp")));

    export_ok(&config, &[out.to_str().unwrap()]);
    let good = manifest(&out);
    assert_eq!(good["runs"].as_array().unwrap().len(), 1);
    assert_eq!(good["runs"][0]["run"], 1);
    let mut expected: BTreeSet<String> = listed(&good).into_iter().map(|f| f.0).collect();
    expected.insert("manifest.json".into());
    assert_eq!(files_in(&out), expected, "the stopped run's files are gone");

    add(&dir.path().join("index"), &december(100, 12));
    for point in ["row:5", "file:1", "manifest"] {
        killed_at(&config, &out, point);
        // The manifest is the last good one, and every file it lists is whole.
        assert_eq!(manifest(&out), good, "killed at {point}");
        assert_eq!(check_listed(&out).len(), 32, "killed at {point}");
        let left: Vec<String> = files_in(&out).difference(&expected).cloned().collect();
        assert!(
            !left.is_empty(),
            "killed at {point}: it had written something"
        );
    }
    // The next run cleans up and adds its run.
    export_ok(&config, &[out.to_str().unwrap(), "--since", "2026-12-01"]);
    let m = manifest(&out);
    assert_eq!(m["runs"].as_array().unwrap().len(), 2);
    assert_eq!(m["runs"][1]["matches"], 12);
    let mut now: BTreeSet<String> = listed(&m).into_iter().map(|f| f.0).collect();
    now.insert("manifest.json".into());
    assert_eq!(files_in(&out), now);
    assert_eq!(check_listed(&out).len(), 44);
}

/// Any `*.tmp` file under `dir` (a file being written).
fn writing(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            std::fs::read_dir(e.path()).is_ok_and(|files| {
                files
                    .flatten()
                    .any(|f| f.file_name().to_string_lossy().ends_with(".tmp"))
            })
        })
    })
}

#[test]
fn a_sigkill_mid_export_leaves_the_manifest_true() {
    use std::os::unix::process::ExitStatusExt as _;
    let dir = tempfile::tempdir().unwrap();
    let config = fixture(dir.path(), 30);
    let out = dir.path().join("export");
    export_ok(&config, &[out.to_str().unwrap()]);
    let good = manifest(&out);
    // Enough December articles, with long texts, that the second run takes a while.
    let mut new = december(1000, 2000);
    for a in &mut new {
        a.text = format!("{} {}", a.text, a.id).repeat(60);
    }
    add(&dir.path().join("index"), &new);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mediawatch"))
        .arg("--config")
        .arg(&config)
        .args([
            "export-parquet",
            out.to_str().unwrap(),
            "--since",
            "2026-12-01",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !writing(&out) && child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "no file was started");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    if status.signal() == Some(9) {
        assert_eq!(
            manifest(&out),
            good,
            "killed mid-run: the manifest is the last run's"
        );
        assert_eq!(check_listed(&out).len(), 32);
        eprintln!("killed mid-run");
    } else {
        eprintln!("the export finished before the kill ({status}); checking its result");
    }
    export_ok(&config, &[out.to_str().unwrap(), "--since", "2026-12-01"]);
    let m = manifest(&out);
    let runs = m["runs"].as_array().unwrap();
    assert_eq!(runs.last().unwrap()["matches"], 2000);
    assert_eq!(runs[0], good["runs"][0]);
    let mut now: BTreeSet<String> = listed(&m).into_iter().map(|f| f.0).collect();
    now.insert("manifest.json".into());
    assert_eq!(files_in(&out), now, "what the killed run left is gone");
}

#[test]
fn export_errors_name_the_folder_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let config = fixture(dir.path(), 5);
    let out = dir.path().join("export");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("manifest.json"), "{ not json").unwrap();
    let o = mw(&config, &["export-parquet", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("manifest.json") && err.contains("another folder"),
        "{err}"
    );
    // A query error: exit 2, before the folder is touched (its manifest, broken or not, is left as it is).
    let o = mw(
        &config,
        &[
            "export-parquet",
            out.to_str().unwrap(),
            "--query",
            "title:(",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        std::fs::read(out.join("manifest.json")).unwrap(),
        b"{ not json"
    );
    // Another run writing into the folder: refused while it holds the lock.
    std::fs::remove_file(out.join("manifest.json")).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.join(".export.lock"))
        .unwrap();
    assert!(fs4::fs_std::FileExt::try_lock_exclusive(&lock).unwrap());
    let o = mw(&config, &["export-parquet", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("another export-parquet is writing"), "{err}");
    drop(lock);
    export_ok(&config, &[out.to_str().unwrap()]);
}

/// What the engines and the digest count: (day, campaign) -> articles.
type Counts = BTreeMap<(String, String), u64>;

fn engine_counts(csv: &str) -> Counts {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("day,campaign,articles"), "{csv}");
    lines
        .map(|l| {
            let p: Vec<&str> = l.split(',').collect();
            assert_eq!(p.len(), 3, "{l}");
            ((p[0].to_string(), p[1].to_string()), p[2].parse().unwrap())
        })
        .collect()
}

/// Which engines can run here: (script, the reason it cannot).
fn engines(python: &str) -> Vec<(&'static str, Option<String>)> {
    let has = |module: &str| {
        std::process::Command::new(python)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let java = std::process::Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    vec![
        (
            "parquet_duckdb.py",
            (!has("duckdb")).then(|| format!("{python} has no duckdb (pip install duckdb)")),
        ),
        (
            "parquet_pandas.py",
            (!has("pandas") || !has("pyarrow"))
                .then(|| format!("{python} has no pandas/pyarrow (pip install pandas pyarrow)")),
        ),
        (
            "parquet_pyspark.py",
            if !has("pyspark") {
                Some(format!("{python} has no pyspark (pip install pyspark)"))
            } else if !java {
                Some("no java on PATH (PySpark's local mode needs Java 17+)".into())
            } else {
                None
            },
        ),
    ]
}

#[test]
fn duckdb_pandas_and_pyspark_count_what_the_digest_counts() {
    let python = std::env::var("MEDIAWATCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let required = std::env::var("MEDIAWATCH_REQUIRE_ENGINES").is_ok_and(|v| v == "1");
    let available = engines(&python);
    for (script, why) in &available {
        if let Some(why) = why {
            assert!(
                !required,
                "MEDIAWATCH_REQUIRE_ENGINES=1 but {script} cannot run: {why}"
            );
            eprintln!("skipped {script}: {why}");
        }
    }
    if available.iter().all(|(_, why)| why.is_some()) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = fixture(dir.path(), 60);
    let out = dir.path().join("export");
    export_ok(&config, &[out.to_str().unwrap(), "--until", "2026-10-31"]);
    export_ok(&config, &[out.to_str().unwrap(), "--since", "2026-11-01"]);

    let (from, to) = ("2026-10-27", "2026-11-04");
    let digest = mw(
        &config,
        &["digest", "--from", from, "--to", to, "--format", "json"],
    );
    assert!(
        digest.status.success(),
        "{}",
        String::from_utf8_lossy(&digest.stderr)
    );
    let d: serde_json::Value = serde_json::from_slice(&digest.stdout).unwrap();
    let mut want = Counts::new();
    for c in d["campaigns"].as_array().unwrap() {
        for day in c["history"].as_array().unwrap() {
            let date = day["date"].as_str().unwrap();
            let n = day["count"].as_u64().unwrap();
            if (from..=to).contains(&date) && n > 0 {
                want.insert((date.into(), c["id"].as_str().unwrap().into()), n);
            }
        }
    }
    assert!(want.len() > 10, "{want:?}");
    let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    for (script, why) in available {
        if why.is_some() {
            continue;
        }
        let o = std::process::Command::new(&python)
            .arg(scripts.join(script))
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let got = engine_counts(&String::from_utf8(o.stdout).unwrap());
        assert_eq!(got, want, "{script}");
    }
}
