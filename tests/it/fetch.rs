//! The fetcher on a hostile web, one case each, against servers on 127.0.0.1: conditional GET, a lying
//! server, 429 + Retry-After, timeouts, endless bodies, gzip bombs, redirect loops, redirects and links to
//! private addresses, robots.txt, per-host limits and delays, a Big5 page with a wrong header, and the
//! daemon's shutdown on SIGTERM.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mediawatch::config::FetchSettings;
use mediawatch::fetch::{FetchError, Fetched, Fetcher, Origin};
use mediawatch::pipeline::{self, PassOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{one_item_rss, site_server, write_config};

fn settings(allow_private: bool) -> FetchSettings {
    FetchSettings {
        allow_private_networks: allow_private,
        timeout_secs: 2,
        max_body_bytes: 1_000_000,
        host_delay_ms: 0,
        ..Default::default()
    }
}

fn url(base: &str, p: &str) -> Url {
    Url::parse(&format!("{base}{p}")).unwrap()
}

/// A raw HTTP/1.1 server: `respond` gets the request path and writes the whole response to the socket.
/// Stops with the test's runtime.
struct RawServer {
    base: String,
}

async fn raw_server<F, Fut>(respond: F) -> RawServer
where
    F: Fn(String, tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let respond = Arc::new(respond);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let respond = respond.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let p = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                respond(p, sock).await;
            });
        }
    });
    RawServer { base }
}

#[tokio::test]
async fn conditional_get_sends_validators_and_304_costs_no_parsing() {
    let server = site_server().await;
    Mock::given(method("GET"))
        .and(path("/feeds/en.xml"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    let body = std::fs::read(crate::support::site_dir().join("feeds/en.xml")).unwrap();
    Mock::given(method("GET"))
        .and(path("/feeds/en.xml"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .insert_header("content-type", "application/rss+xml")
                .set_body_bytes(body),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), 5, "");
    let p = pipeline::open_from(&config).unwrap();
    let only = PassOptions {
        force: false,
        only: Some(["fx-en".to_string()].into()),
    };
    let first = pipeline::ingest_pass(&p, &only).await.unwrap();
    assert_eq!(first.articles_archived, 3, "{first}");
    assert_eq!(
        p.store.feed_state("fx-en").unwrap().etag.as_deref(),
        Some("\"v1\"")
    );
    let second = pipeline::ingest_pass(&p, &only).await.unwrap();
    assert_eq!(second.feeds_not_modified, 1, "{second}");
    assert_eq!(second.entries_seen, 0, "a 304 is not parsed: {second}");
    let requests = server.received_requests().await.unwrap();
    let feed_requests: Vec<_> = requests
        .iter()
        .filter(|r| r.url.path() == "/feeds/en.xml")
        .collect();
    assert_eq!(feed_requests.len(), 2);
    assert_eq!(
        feed_requests[1].headers.get("if-none-match").unwrap(),
        "\"v1\""
    );
}

#[tokio::test]
async fn lying_server_with_the_same_body_is_not_parsed_again() {
    // The fixture server sends no validators at all: every pass is a 200 with the same body.
    let server = site_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), 5, "");
    let p = pipeline::open_from(&config).unwrap();
    pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    let again = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(again.feeds_unchanged, 4, "{again}");
    assert_eq!(again.entries_seen, 0, "{again}");
}

#[tokio::test]
async fn too_many_requests_with_retry_after_backs_off_until_forced() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "120"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("feeds.toml");
    std::fs::write(
        &config,
        format!(
            "[fetch]\nhost_delay_ms = 0\n[[feeds]]\nid = \"busy\"\nurl = \"{}/feed.xml\"\n",
            server.uri()
        ),
    )
    .unwrap();
    let p = pipeline::open_from(&config).unwrap();
    let before = chrono::Utc::now();
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.feeds_failed, 1);
    let state = p.store.feed_state("busy").unwrap();
    let wait = (state.backoff_until.unwrap() - before).num_seconds();
    assert!((119..=121).contains(&wait), "backoff of {wait} s");
    assert!(state.backoff_reason.unwrap().contains("120"));
    let skipped = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(skipped.feeds_backed_off.len(), 1, "{skipped}");
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "no request while backed off"
    );
    let forced = PassOptions {
        force: true,
        only: None,
    };
    pipeline::ingest_pass(&p, &forced).await.unwrap();
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "--force fetches"
    );
}

#[tokio::test]
async fn slow_server_hits_the_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let fetcher = Fetcher::new(&settings(true), &[]).unwrap();
    let started = Instant::now();
    let err = fetcher
        .get(&url(&server.uri(), "/slow"), Origin::Config, None)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Timeout(2)), "{err:?}");
    // For a page, robots.txt comes first; a host that does not answer it is not crawled (RFC 9309).
    let err = fetcher
        .get(&url(&server.uri(), "/page"), Origin::Link, None)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::RobotsUnreachable(_)), "{err:?}");
    assert!(err.is_transient());
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn endless_body_stops_at_the_cap() {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let server = raw_server(move |_, mut sock| {
        let counter = counter.clone();
        async move {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ntransfer-encoding: chunked\r\n\r\n")
                .await;
            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "a".repeat(64 * 1024));
            // Bounded: at most 64 MiB, and it stops as soon as the client hangs up.
            for _ in 0..1024 {
                if sock.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
                counter.fetch_add(64 * 1024, Ordering::SeqCst);
            }
        }
    })
    .await;
    let fetcher = Fetcher::new(&settings(true), &[]).unwrap();
    let err = fetcher
        .get(&url(&server.base, "/endless"), Origin::Link, None)
        .await
        .unwrap_err();
    assert_eq!(err, FetchError::TooLarge(1_000_000));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        sent.load(Ordering::SeqCst) < 16 * 1024 * 1024,
        "the client stopped reading"
    );
}

#[tokio::test]
async fn gzip_bomb_stops_at_the_cap_after_decompression() {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&vec![b' '; 20 * 1024 * 1024]).unwrap();
    let bomb = enc.finish().unwrap();
    assert!(
        bomb.len() < 1_000_000,
        "the compressed body is under the cap"
    );
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .insert_header("content-type", "text/html")
                .set_body_bytes(bomb),
        )
        .mount(&server)
        .await;
    let fetcher = Fetcher::new(&settings(true), &[]).unwrap();
    let err = fetcher
        .get(&url(&server.uri(), "/bomb"), Origin::Link, None)
        .await
        .unwrap_err();
    assert_eq!(err, FetchError::TooLarge(1_000_000));
}

#[tokio::test]
async fn redirect_loop_is_detected() {
    let server = MockServer::start().await;
    for (from, to) in [("/a", "/b"), ("/b", "/a")] {
        Mock::given(method("GET"))
            .and(path(from))
            .respond_with(ResponseTemplate::new(302).insert_header("location", to))
            .mount(&server)
            .await;
    }
    let fetcher = Fetcher::new(&settings(true), &[]).unwrap();
    let err = fetcher
        .get(&url(&server.uri(), "/a"), Origin::Link, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, FetchError::Redirect(m) if m.contains("loop")),
        "{err:?}"
    );
}

#[tokio::test]
async fn private_addresses_are_refused_for_links_and_redirects() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/secret", server.uri()).as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/ok.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<rss/>"))
        .mount(&server)
        .await;
    let feed = url(&server.uri(), "/feed.xml");
    let ok = url(&server.uri(), "/ok.xml");
    let fetcher = Fetcher::new(&settings(false), &[feed.clone(), ok.clone()]).unwrap();
    // The config's URL is trusted as written, even on 127.0.0.1 ...
    assert!(matches!(
        fetcher.get(&ok, Origin::Config, None).await,
        Ok(Fetched::Page(_))
    ));
    // ... but not where it redirects to.
    let err = fetcher.get(&feed, Origin::Config, None).await.unwrap_err();
    assert!(
        matches!(&err, FetchError::Blocked(m) if m.contains("not a public address")),
        "{err:?}"
    );
    // A link found in a feed is never fetched from a private address: no request is sent.
    let err = fetcher
        .get(&url(&server.uri(), "/link"), Origin::Link, None)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Blocked(_)), "{err:?}");
    let err = fetcher
        .get(
            &Url::parse("http://localhost:9/x").unwrap(),
            Origin::Link,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Blocked(_)), "{err:?}");
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(paths, ["/ok.xml", "/feed.xml"]);
}

#[tokio::test]
async fn robots_txt_disallow_is_honoured_for_pages_only() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/robots.txt"))
        .respond_with(ResponseTemplate::new(200).set_body_string("User-agent: *\nDisallow: /private/\n\nUser-agent: mediawatch\nDisallow: /no-mw/\nCrawl-delay: 0\n"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<p>ok</p>"))
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    let fetcher = Fetcher::new(&settings(true), &[]).unwrap();
    let err = fetcher
        .get(&url(&server.uri(), "/no-mw/page.html"), Origin::Link, None)
        .await
        .unwrap_err();
    assert_eq!(err, FetchError::Disallowed);
    // Our group replaces the `*` group, as RFC 9309 says: /private/ is allowed for mediawatch.
    assert!(fetcher
        .get(&url(&server.uri(), "/private/a.html"), Origin::Link, None)
        .await
        .is_ok());
    // Feeds from the config are not subject to robots.txt.
    assert!(fetcher
        .get(&url(&server.uri(), "/no-mw/feed.xml"), Origin::Config, None)
        .await
        .is_ok());
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        paths,
        ["/robots.txt", "/private/a.html", "/no-mw/feed.xml"],
        "robots.txt fetched once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_limit_and_host_delay_are_respected() {
    // Counted by the handler itself: in flight from reading the request until just before the response
    // is written, a window the client's per-host permit covers entirely.
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max_in_flight = Arc::new(AtomicUsize::new(0));
    let (inf, max) = (in_flight.clone(), max_in_flight.clone());
    let server = raw_server(move |_, mut sock| {
        let (inf, max) = (inf.clone(), max.clone());
        async move {
            let now = inf.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(150)).await;
            inf.fetch_sub(1, Ordering::SeqCst);
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
                .await;
        }
    })
    .await;
    let s = FetchSettings {
        per_host: 2,
        concurrency: 16,
        ..settings(true)
    };
    let fetcher = Arc::new(Fetcher::new(&s, &[]).unwrap());
    let robots = url(&server.base, "/robots.txt");
    let _ = fetcher.get(&robots, Origin::Config, None).await;
    max_in_flight.store(0, Ordering::SeqCst);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (f, u) = (fetcher.clone(), url(&server.base, &format!("/p{i}")));
        tasks.push(tokio::spawn(async move {
            f.get(&u, Origin::Link, None).await.is_ok()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    assert_eq!(
        max_in_flight.load(Ordering::SeqCst),
        2,
        "two in flight, never more"
    );
    assert_eq!(in_flight.load(Ordering::SeqCst), 0);

    // host_delay_ms spaces request starts to one host.
    let s = FetchSettings {
        host_delay_ms: 300,
        per_host: 4,
        ..settings(true)
    };
    let fetcher = Arc::new(Fetcher::new(&s, &[]).unwrap());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (f, u) = (fetcher.clone(), url(&server.base, &format!("/d{i}")));
        tasks.push(tokio::spawn(async move {
            f.get(&u, Origin::Config, None).await.is_ok()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "4 starts 300 ms apart: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn big5_page_with_a_wrong_header_is_archived_readable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(one_item_rss("/big5.html", "臺灣新聞")),
        )
        .mount(&server)
        .await;
    let html = "<html><head><title>立法院審查國防預算</title></head><body><article><h1>立法院審查國防預算</h1>\
        <p>中央社記者今天報導，立法院將在下週審查國防預算，朝野黨團對於軍購項目仍有不同意見，預計將有激烈辯論。</p>\
        <p>行政院長表示，政府會持續與各方溝通，確保臺灣的安全與穩定，並強調國防自主的重要性。</p></article></body></html>";
    let (big5, _, _) = encoding_rs::BIG5.encode(html);
    Mock::given(method("GET"))
        .and(path("/big5.html"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html; charset=gb2312")
                .set_body_bytes(big5.into_owned()),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("feeds.toml");
    std::fs::write(
        &config,
        format!(
            "[fetch]\nhost_delay_ms = 0\nallow_private_networks = true\n[[feeds]]\nid = \"tw\"\nurl = \"{}/feed.xml\"\n",
            server.uri()
        ),
    )
    .unwrap();
    let p = pipeline::open_from(&config).unwrap();
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.articles_archived, 1, "{report}");
    let results = mediawatch::search::search(
        &p.archive,
        &mediawatch::search::SearchRequest {
            query: "確保臺灣的安全".into(),
            limit: 5,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(results.total, 1);
    assert_eq!(results.hits[0].script.as_deref(), Some("Hant"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_shuts_down_on_sigterm_with_the_index_intact() {
    let server = site_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), 5, "");
    let (mut child, rx) = crate::support::start_run(&config, &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut log = Vec::new();
    while !log.iter().any(|l: &String| l.contains("pass done")) {
        assert!(Instant::now() < deadline, "no pass finished: {log:?}");
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            log.push(line);
        }
    }
    let exit = crate::support::terminate(&mut child, Duration::from_secs(10));
    assert!(exit.success(), "{exit:?}");
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
        log.push(line);
    }
    assert!(log.iter().any(|l| l.contains("index committed")), "{log:?}");
    // The index and the store open (no lock left behind) and hold the whole site.
    let p = pipeline::open_from(&config).unwrap();
    assert_eq!(p.archive.num_articles(), 11);
    assert!(p.store.feed_state("fx-en").unwrap().next_due.is_some());
}
