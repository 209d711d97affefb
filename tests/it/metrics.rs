//! `run --metrics-addr`: the daemon serves its Prometheus metrics on loopback; values after a pass over the
//! fixture site (tests/fixtures/site/EXPECTED.md), and the address errors.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

use crate::support::{free_port, mw_with, site_server, start_run, terminate, write_config};

/// GET `path` on 127.0.0.1:`port`: the response's head and body.
fn get(port: u16, path: &str) -> std::io::Result<(String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Ok((head.to_string(), body.to_string()))
}

/// The samples of an OpenMetrics text: `name{labels}` (as written) to value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap();
            (key.to_string(), value.parse::<f64>().unwrap())
        })
        .collect()
}

fn stop(mut child: Child) {
    let exit = terminate(&mut child, Duration::from_secs(20));
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_serves_the_metrics_of_its_passes() {
    let server = site_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), 5, "");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let (child, rx) = start_run(&config, &["--metrics-addr", &addr]);

    // Scraped until the first pass is counted (the counts follow the "pass done" line).
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut log = Vec::new();
    let (head, m) = loop {
        while let Ok(line) = rx.try_recv() {
            log.push(line);
        }
        if let Ok((head, body)) = get(port, "/metrics") {
            let m = samples(&body);
            if m.get("mediawatch_passes_total{outcome=\"ok\"}")
                .is_some_and(|n| *n >= 1.0)
            {
                assert!(body.ends_with("# EOF\n"), "{body}");
                break (head, m);
            }
        }
        assert!(
            Instant::now() < deadline,
            "no pass counted on /metrics: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{head}"
    );
    let v = |key: &str| -> f64 {
        *m.get(key)
            .unwrap_or_else(|| panic!("{key} not scraped: {m:?}"))
    };
    // EXPECTED.md: 4 feeds, 11 items (10 pages, one 404 archived with the feed's text), 7 tagged.
    assert_eq!(v("mediawatch_passes_total{outcome=\"failed\"}"), 0.0);
    assert_eq!(v("mediawatch_articles_archived_total"), 11.0);
    assert_eq!(v("mediawatch_articles_tagged_total"), 7.0);
    assert_eq!(v("mediawatch_feeds{health=\"ok\"}"), 4.0);
    assert_eq!(v("mediawatch_feeds{health=\"new\"}"), 0.0);
    assert_eq!(v("mediawatch_feeds{health=\"failing\"}"), 0.0);
    assert_eq!(
        v("mediawatch_fetches_total{kind=\"feed\",outcome=\"ok\"}"),
        4.0
    );
    assert_eq!(
        v("mediawatch_fetches_total{kind=\"page\",outcome=\"ok\"}"),
        10.0
    );
    assert_eq!(
        v("mediawatch_fetches_total{kind=\"page\",outcome=\"error\"}"),
        1.0
    );
    assert_eq!(
        v("mediawatch_fetch_duration_seconds_count{kind=\"feed\"}"),
        4.0
    );
    assert_eq!(
        v("mediawatch_fetch_duration_seconds_count{kind=\"page\"}"),
        11.0
    );
    assert!(v("mediawatch_fetch_duration_seconds_sum{kind=\"page\"}") > 0.0);
    assert_eq!(v("mediawatch_pending_entries"), 0.0);
    assert!(v("mediawatch_index_segments") >= 1.0);
    assert!(v("mediawatch_index_size_bytes") > 0.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let committed = v("mediawatch_last_commit_timestamp_seconds");
    assert!(
        (now - 120.0..=now + 1.0).contains(&committed),
        "last commit at {committed}, now {now}"
    );
    // Only /metrics is served.
    let (head, _) = get(port, "/").unwrap();
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    stop(child);
}

#[test]
fn run_metrics_addr_in_use_or_malformed_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "http://127.0.0.1:9", 5, "");
    // Taken: exit 1, naming the address, before any pass.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = mw_with(&config)
        .args(["run", "--metrics-addr", &addr])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot serve metrics on {addr}")),
        "{stderr}"
    );
    assert!(!stderr.contains("pass starting"), "{stderr}");
    // Malformed: a usage error (exit 2) saying what to give.
    for bad in ["metrics.example.org:9464", "99999"] {
        let out = mw_with(&config)
            .args(["run", "--metrics-addr", bad])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("--metrics-addr") && stderr.contains("HOST:PORT"),
            "{stderr}"
        );
    }
}
