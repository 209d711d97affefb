//! `mediawatch check [--repair]` on an index folder damaged in the ways issue #24 lists, and the errors
//! the other commands give on it (naming the file and what to do).

use std::path::Path;

use crate::support::{mw_with as mw, site_server, write_config};

fn output(config: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = mw(config).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_names_the_damaged_files_and_repair_rebuilds_what_it_can() {
    let server = site_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), 120, "");
    let index = dir.path().join("index");
    tokio::task::block_in_place(|| {
        mw(&config).arg("ingest").assert().success();
        let (code, text) = output(&config, &["check"]);
        assert_eq!(code, Some(0), "{text}");
        let archived = mediawatch::index::Archive::open(&index)
            .unwrap()
            .num_articles();
        assert!(archived > 0);

        // A 4 kB state store and a garbled schema marker.
        std::fs::OpenOptions::new()
            .write(true)
            .open(index.join("state.redb"))
            .unwrap()
            .set_len(4096)
            .unwrap();
        std::fs::write(index.join("index-schema-version"), "\u{0}\u{0}garbage").unwrap();

        // The commands that stop on them say which file and what to do.
        let (code, text) = output(&config, &["ingest"]);
        assert_ne!(code, Some(0), "{text}");
        assert!(
            text.contains("index-schema-version") && text.contains("garbled"),
            "{text}"
        );
        assert!(!text.contains("schema 1"), "{text}");

        let (code, text) = output(&config, &["check"]);
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains("index-schema-version"), "{text}");
        assert!(
            text.contains("state.redb") && text.contains("check --repair"),
            "{text}"
        );

        let (code, text) = output(&config, &["check", "--repair"]);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("repaired: "), "{text}");
        let (code, text) = output(&config, &["check"]);
        assert_eq!(code, Some(0), "{text}");

        // Nothing archived was lost, and the next pass works.
        assert_eq!(
            mediawatch::index::Archive::open(&index)
                .unwrap()
                .num_articles(),
            archived
        );
        mw(&config).arg("ingest").assert().success();
    });
}

#[test]
fn a_4k_state_store_is_named_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "http://127.0.0.1:9", 1, "");
    let index = dir.path().join("index");
    std::fs::create_dir_all(&index).unwrap();
    // A real store cut to 4 kB (redb alone says "failed to fill whole buffer").
    drop(mediawatch::store::Store::open(&index).unwrap());
    std::fs::OpenOptions::new()
        .write(true)
        .open(index.join("state.redb"))
        .unwrap()
        .set_len(4096)
        .unwrap();
    let (code, text) = output(&config, &["feeds", "status"]);
    assert_ne!(code, Some(0), "{text}");
    assert!(
        text.contains("state.redb") && text.contains("check --repair"),
        "{text}"
    );
    assert!(!text.contains("another `mediawatch ingest`"), "{text}");
}
