//! A full disk during ingest: the error says the disk is full and names it, the archive keeps what was
//! committed, and the next ingest after space is freed archives the rest. The disk is a 1 MB tmpfs in a
//! private mount namespace (`unshare -rm`), so the test needs neither root nor a real full disk.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::support::{mount, site_server, write_config};

/// Whether this machine lets us mount a tmpfs in a private namespace. CI must (the test then runs);
/// elsewhere the test says it was skipped.
fn can_mount_tmpfs() -> bool {
    Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /tmp"])
        .status()
        .is_ok_and(|s| s.success())
}

/// Deterministic text of `words` words from a large vocabulary (compresses about as news text does).
fn text(seed: u64, words: usize) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = String::new();
    for i in 0..words {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let w = (x >> 33) % 20_000;
        write!(out, "w{w:x}q{} ", w % 7).unwrap();
        if i % 15 == 14 {
            out.push_str(".\n");
        }
    }
    out
}

const BIG_PAGES: usize = 60;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_named_and_loses_nothing_committed() {
    if !can_mount_tmpfs() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must be able to mount a tmpfs with `unshare -rm` for this test"
        );
        eprintln!("skipped: `unshare -rm` cannot mount a tmpfs on this machine");
        return;
    }
    let server = site_server().await;
    let mut items = String::new();
    for n in 0..BIG_PAGES {
        let route = format!("/big/{n}.html");
        let body = format!(
            "<html><head><title>Report {n}</title></head><body><article><h1>Report {n}</h1><p>{}</p>\
             </article></body></html>",
            text(n as u64, 6_000)
        );
        mount(&server, &route, 200, &body, None, None).await;
        write!(
            items,
            "<item><title>Report {n}</title><link>{route}</link><guid>{route}</guid>\
             <pubDate>Tue, 24 Nov 2026 12:00:00 +0000</pubDate></item>"
        )
        .unwrap();
    }
    let feed = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>"#
    );
    mount(&server, "/big/feed.xml", 200, &feed, None, None).await;

    let dir = tempfile::tempdir().unwrap();
    let small = write_config(dir.path(), &server.uri(), 5, "");
    let big = dir.path().join("feeds-big.toml");
    std::fs::write(
        &big,
        std::fs::read_to_string(&small).unwrap()
            + &format!(
                "\n[[feeds]]\nid = \"big\"\nname = \"Big\"\nurl = \"{}/big/feed.xml\"\n",
                server.uri()
            ),
    )
    .unwrap();
    let index = dir.path().join("index");
    std::fs::create_dir_all(&index).unwrap();

    // Everything runs inside one private mount namespace, where the index folder is a 1 MB tmpfs:
    // ingest the fixture site (fits), ingest 60 large pages (does not), count, free space, ingest again.
    let d = dir.path().display();
    let bin = env!("CARGO_BIN_EXE_mediawatch");
    let script = format!(
        r#"set -u
cd "{d}"
mount -t tmpfs -o size=1m tmpfs "{d}/index" || exit 90
count() {{ "{bin}" --config "{d}/feeds.toml" search --all --format jsonl '' 2>/dev/null | wc -l; }}
"{bin}" --config "{d}/feeds.toml" ingest > 1.out 2> 1.err; echo $? > 1.rc
count > 1.count
"{bin}" --config "{d}/feeds-big.toml" ingest > 2.out 2> 2.err; echo $? > 2.rc
count > 2.count
mount -o remount,size=64m "{d}/index" || exit 91
"{bin}" --config "{d}/feeds-big.toml" ingest > 3.out 2> 3.err; echo $? > 3.rc
count > 3.count
"#
    );
    let status = Command::new("unshare")
        .args(["-rm", "sh", "-c", &script])
        .env("RUST_LOG", "warn")
        .status()
        .unwrap();
    assert!(status.success(), "the namespace script failed: {status}");
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let number = |name: &str| read(name).trim().parse::<usize>().unwrap();

    assert_eq!(
        number("1.rc"),
        0,
        "the first ingest fits: {}",
        read("1.err")
    );
    let first = number("1.count");
    assert!(first >= 8, "the fixture site was archived: {first}");

    // The disk fills up: exit 1 with a message that says so and names the folder and its file system.
    let err = read("2.err");
    assert_eq!(number("2.rc"), 1, "{err}");
    assert_full_disk_message(&err, &index);
    // Nothing committed was lost; nothing half-written was added.
    assert_eq!(number("2.count"), first, "{err}");

    // With space freed, the next ingest archives the large feed too.
    assert_eq!(number("3.rc"), 0, "{}", read("3.err"));
    assert_eq!(number("3.count"), first + BIG_PAGES, "{}", read("3.err"));
}

fn assert_full_disk_message(err: &str, index: &Path) {
    let last = err.lines().rfind(|l| l.contains("error")).unwrap_or(err);
    assert!(last.contains("is full"), "{err}");
    assert!(
        last.contains(&format!("mounted at {}", index.display())),
        "names the file system: {err}"
    );
    assert!(last.contains(&index.display().to_string()), "{err}");
    for wrong in ["damaged", "killed", "panicked", "another ingest", "panic"] {
        assert!(!last.contains(wrong), "misleading `{wrong}`: {err}");
    }
}
