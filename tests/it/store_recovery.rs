//! The state store after a writer crash (readers keep working, the next writer repairs it) and the store
//! tied to the index it describes (losing the index makes the next ingest archive everything again).

use std::path::Path;
use std::time::Duration;

use crate::support::{mount, mw_with as mw, one_item_rss, site_server, write_config};

/// Starts `ingest` with a feed whose document hangs, waits until it is requested (the store is open for
/// writing by then), and SIGKILLs it.
async fn kill_ingest_while_the_store_is_open(server: &wiremock::MockServer, config: &Path) {
    let bin = env!("CARGO_BIN_EXE_mediawatch");
    let mut child = std::process::Command::new(bin)
        .arg("--config")
        .arg(config)
        .args(["ingest", "--force"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let requests = server.received_requests().await.unwrap_or_default();
        if requests.iter().any(|r| r.url.path() == "/hang/feed.xml") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the hanging feed was never requested"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_keep_working_after_a_writer_is_killed() {
    let server = site_server().await;
    // Answers the first pass at once, then hangs (for the pass that is killed).
    let hang = one_item_rss("/articles/en/drills.html", "Drills");
    mount(&server, "/hang/feed.xml", 200, &hang, None, Some(1)).await;
    mount(
        &server,
        "/hang/feed.xml",
        200,
        &hang,
        Some(Duration::from_secs(60)),
        None,
    )
    .await;
    let extra = format!(
        "[[feeds]]\nid = \"hang\"\nurl = \"{}/hang/feed.xml\"\n",
        server.uri()
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), 120, &extra);
    tokio::task::block_in_place(|| mw(&config).arg("ingest").assert().success());
    kill_ingest_while_the_store_is_open(&server, &config).await;

    let store_file = dir.path().join("index/state.redb");
    let before = std::fs::read(&store_file).unwrap();
    tokio::task::block_in_place(|| {
        // `feeds status`: the state of the last commit, with a warning naming the file.
        let out = mw(&config)
            .args(["feeds", "status", "--format", "json"])
            .assert()
            .success()
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("state.redb") && stderr.contains("not closed cleanly"),
            "{stderr}"
        );
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 5);
        for row in rows {
            assert_eq!(row["health"], "ok", "{row}");
        }
        // `digest` reads the feed states for its coverage section.
        let out = mw(&config)
            .args(["digest", "--date", "2026-11-25", "--format", "json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let digest: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(digest["total"], 2, "{digest}");
        assert_eq!(digest["feeds"].as_array().unwrap().len(), 5);
    });
    // The web workspace reads the store per request: its feeds page, API and article pages answer.
    let loaded = mediawatch::config::load(&config).unwrap();
    let archive = mediawatch::index::Archive::open(&loaded.index_path).unwrap();
    let router = mediawatch::web::router(std::sync::Arc::new(mediawatch::web::AppState::new(
        loaded, archive, None,
    )));
    let feeds = crate::web::get(&router, "/api/feeds").await;
    assert_eq!(feeds.status, 200, "{}", feeds.body);
    let rows: serde_json::Value = serde_json::from_str(&feeds.body).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(5), "{rows}");
    let id = mediawatch::pipeline::article_id(&format!("{}/articles/en/drills.html", server.uri()));
    for uri in [
        "/feeds".to_string(),
        format!("/articles/{id}"),
        format!("/api/articles/{id}"),
    ] {
        let answer = crate::web::get(&router, &uri).await;
        assert_eq!(answer.status, 200, "{uri}: {}", answer.body);
    }
    // In process: the last commit's feed states, and a handle that refuses writes.
    let reader = mediawatch::store::Store::open_read_only(&dir.path().join("index"))
        .unwrap()
        .unwrap();
    assert_eq!(reader.feed_states().unwrap().len(), 5);
    assert!(reader.put_feed_states(&[]).is_err());
    drop(reader);
    assert!(
        std::fs::read(&store_file).unwrap() == before,
        "a reader never writes the store"
    );

    // The next writer repairs the file: readers open it without the warning again.
    server.reset().await;
    crate::support::mount_site(&server).await;
    mount(&server, "/hang/feed.xml", 200, &hang, None, None).await;
    tokio::task::block_in_place(|| {
        mw(&config).args(["ingest", "--force"]).assert().success();
        let out = mw(&config)
            .args(["feeds", "status", "--format", "json"])
            .assert()
            .success()
            .get_output()
            .clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("not closed cleanly"), "{stderr}");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn losing_the_index_makes_the_next_ingest_archive_everything_again() {
    use mediawatch::pipeline::{self, PassOptions};
    use mediawatch::store::BackfillState;

    let server = site_server().await;
    for lost in ["tantivy/meta.json", "tantivy"] {
        let dir = tempfile::tempdir().unwrap();
        let config = write_config(dir.path(), &server.uri(), 5, "");
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        {
            let p = pipeline::open_from(&config).unwrap();
            let report = pipeline::ingest_pass(&p, &PassOptions::default())
                .await
                .unwrap();
            assert_eq!(report.articles_archived, 11, "{lost}: {report}");
            // A second pass finds every feed unchanged (the validators at work).
            let report = pipeline::ingest_pass(&p, &PassOptions::default())
                .await
                .unwrap();
            assert_eq!(report.feeds_unchanged, 4, "{lost}: {report}");
            p.store.set_last_digest(day).unwrap();
            let position = BackfillState {
                since: "2026-11-01T00:00:00Z".into(),
                until: "2026-11-30T00:00:00Z".into(),
                done: vec!["http://127.0.0.1/sitemap-1.xml".into()],
                archived: 11,
                ..Default::default()
            };
            p.store.put_backfill_state("fx-en", &position).unwrap();
        }
        let index = dir.path().join("index").join(lost);
        if index.is_dir() {
            std::fs::remove_dir_all(&index).unwrap();
        } else {
            std::fs::remove_file(&index).unwrap();
        }

        let p = pipeline::open_from(&config).unwrap();
        assert_eq!(p.archive.num_articles(), 0, "{lost}");
        // What described the lost index is gone; the rest of the store stands.
        let states = p.store.feed_states().unwrap();
        assert_eq!(states.len(), 4, "{lost}");
        for (id, state) in &states {
            assert_eq!(state.etag, None, "{lost}: {id}");
            assert_eq!(state.last_modified, None, "{lost}: {id}");
            assert_eq!(state.body_sha256, None, "{lost}: {id}");
            assert!(state.last_success.is_some(), "{lost}: {id}: health kept");
            assert!(state.entries_seen > 0, "{lost}: {id}: counters kept");
        }
        assert_eq!(p.store.backfill_state("fx-en").unwrap(), None, "{lost}");
        assert!(p.store.signatures().unwrap().is_empty(), "{lost}");
        assert_eq!(p.store.last_digest().unwrap(), Some(day), "{lost}");

        let report = pipeline::ingest_pass(&p, &PassOptions::default())
            .await
            .unwrap();
        assert_eq!(report.feeds_unchanged, 0, "{lost}: {report}");
        assert_eq!(report.articles_archived, 11, "{lost}: {report}");
        assert_eq!(p.store.signatures().unwrap().len(), 11, "{lost}");
        drop(p);
        // Reopened: the store now describes the new index, and nothing is archived twice.
        let p = pipeline::open_from(&config).unwrap();
        assert_eq!(p.archive.num_articles(), 11, "{lost}");
        let report = pipeline::ingest_pass(&p, &PassOptions::default())
            .await
            .unwrap();
        assert_eq!(report.feeds_unchanged, 4, "{lost}: {report}");
        assert_eq!(report.articles_archived, 0, "{lost}: {report}");
    }
}
