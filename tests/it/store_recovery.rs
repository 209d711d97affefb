//! The state store after a writer crash (readers keep working, the next writer repairs it) and the store
//! tied to the index it describes (losing the index makes the next ingest archive everything again).

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

use crate::support::{mount, one_item_rss, site_server, write_config};

fn mw(config: &Path) -> Command {
    let mut c = Command::cargo_bin("mediawatch").unwrap();
    c.arg("--config").arg(config);
    c
}

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
