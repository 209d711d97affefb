//! Sources beyond RSS, end to end on 127.0.0.1: sitemap indexes (plain, gzipped and news sitemaps, a loop,
//! an old sitemap not fetched, oversized files), section pages, Telegram channel previews (posts, forwards,
//! views, pagination, a changed layout), and a backfill killed with SIGKILL and resumed.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mediawatch::index::Archive;
use mediawatch::model::Article;
use mediawatch::pipeline::{self, PassOptions};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{all_articles, requests_to, site_server, status_row};

/// A config with only `feeds` (TOML `[[feeds]]` tables), the fixture site's fetch settings.
fn config(dir: &Path, feeds: &str) -> PathBuf {
    let path = dir.join("feeds.toml");
    std::fs::write(
        &path,
        format!(
            "[index]\npath = \"index\"\n\n[fetch]\nuser_agent = \"mediawatch-test/0.1\"\nconcurrency = 4\n\
             per_host = 4\ntimeout_secs = 10\nhost_delay_ms = 0\nallow_private_networks = true\n\n{feeds}\n\
             [[campaigns]]\nid = \"fx-ukraine\"\nname = \"Ukraine\"\n[campaigns.terms]\n\
             en = [\"Ukraine\"]\nru = [\"Украин*\"]\n"
        ),
    )
    .unwrap();
    path
}

fn paths(articles: &BTreeMap<String, Article>) -> Vec<String> {
    articles
        .keys()
        .map(|u| url::Url::parse(u).unwrap().path().to_string())
        .collect()
}

async fn serve(server: &MockServer, route: &str, content_type: &str, body: Vec<u8>) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", content_type)
                .set_body_bytes(body),
        )
        .with_priority(1)
        .mount(server)
        .await;
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn urlset(urls: &[(String, Option<DateTime<Utc>>)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (loc, lastmod) in urls {
        s.push_str(&format!("<url><loc>{loc}</loc>"));
        if let Some(d) = lastmod {
            s.push_str(&format!("<lastmod>{}</lastmod>", d.to_rfc3339()));
        }
        s.push_str("</url>\n");
    }
    s.push_str("</urlset>\n");
    s
}

fn index(children: &[(String, DateTime<Utc>)]) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (loc, lastmod) in children {
        s.push_str(&format!(
            "<sitemap><loc>{loc}</loc><lastmod>{}</lastmod></sitemap>\n",
            lastmod.to_rfc3339()
        ));
    }
    s.push_str("</sitemapindex>\n");
    s
}

async fn with_query(server: &MockServer, query: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.query() == Some(query))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sitemap_index_with_news_gzipped_nested_old_and_looping_sitemaps() {
    let server = site_server().await;
    let base = server.uri();
    let now = Utc::now();
    let hour_ago = now - chrono::Duration::hours(1);
    let long_ago = now - chrono::Duration::days(40);
    serve(
        &server,
        "/sitemap_index.xml",
        "application/xml",
        index(&[
            (format!("{base}/sitemaps/news.xml"), hour_ago),
            (format!("{base}/sitemaps/plain.xml.gz"), hour_ago),
            (format!("{base}/sitemaps/old.xml"), long_ago),
            (format!("{base}/sitemaps/nested.xml"), hour_ago),
            (format!("{base}/sitemap_index.xml"), hour_ago),
        ])
        .into_bytes(),
    )
    .await;
    let news = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\n\
         <url><loc>{base}/articles/en/drills.html</loc><news:news><news:publication><news:name>China Horizon Daily</news:name>\
         <news:language>en</news:language></news:publication><news:publication_date>{}</news:publication_date>\
         <news:title>PLA drills near Taiwan (sitemap title)</news:title><news:keywords>Taiwan, drills</news:keywords></news:news></url>\n\
         <url><loc>/articles/ru/sochi.html</loc><news:news><news:publication><news:name>Вестник</news:name>\
         <news:language>ru</news:language></news:publication><news:publication_date>{}</news:publication_date>\
         <news:title>Сочи</news:title></news:news></url>\n\
         <url><loc>{base}/articles/en/marathon.html</loc><news:news><news:publication><news:name>X</news:name>\
         <news:language>en</news:language></news:publication><news:publication_date>{}</news:publication_date>\
         <news:title>Too old for a regular pass</news:title></news:news></url>\n</urlset>\n",
        hour_ago.to_rfc3339(),
        hour_ago.to_rfc3339(),
        long_ago.to_rfc3339(),
    );
    serve(
        &server,
        "/sitemaps/news.xml",
        "application/xml",
        news.into_bytes(),
    )
    .await;
    serve(
        &server,
        "/sitemaps/plain.xml.gz",
        "application/x-gzip",
        gzip(
            urlset(&[(
                format!("{base}/articles/zh-hans/taihai.html"),
                Some(hour_ago),
            )])
            .as_bytes(),
        ),
    )
    .await;
    serve(
        &server,
        "/sitemaps/old.xml",
        "application/xml",
        urlset(&[(
            format!("{base}/articles/zh-hant/strait.html"),
            Some(long_ago),
        )])
        .into_bytes(),
    )
    .await;
    serve(
        &server,
        "/sitemaps/nested.xml",
        "application/xml",
        index(&[(format!("{base}/sitemaps/deep.xml"), hour_ago)]).into_bytes(),
    )
    .await;
    serve(
        &server,
        "/sitemaps/deep.xml",
        "application/xml",
        urlset(&[
            (
                format!("{base}/articles/ru/peregovory.html"),
                Some(hour_ago),
            ),
            (format!("{base}/articles/en/kyiv-talks.html"), None),
        ])
        .into_bytes(),
    )
    .await;

    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "[[feeds]]\nid = \"sm\"\nkind = \"sitemap\"\nurl = \"{base}/sitemap_index.xml\"\nname = \"Sitemap outlet\"\n\
             affiliation = \"state\"\n"
        ),
    );
    let p = pipeline::open_from(&cfg).unwrap();
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.feeds_ok, 1, "{report}: {:?}", report.failures);
    let articles = all_articles(&p.archive);
    assert_eq!(
        paths(&articles),
        [
            "/articles/en/drills.html",
            "/articles/ru/peregovory.html",
            "/articles/ru/sochi.html",
            "/articles/zh-hans/taihai.html",
        ],
        "{report}"
    );
    // The news extension: the sitemap's title and keywords are the article's.
    let drills = articles
        .values()
        .find(|a| a.url.ends_with("/drills.html"))
        .unwrap();
    assert_eq!(drills.title, "PLA drills near Taiwan (sitemap title)");
    // The old sitemap was never fetched; the loop and the undated URL were reported.
    assert_eq!(requests_to(&server, "/sitemaps/old.xml").await, 0);
    assert_eq!(requests_to(&server, "/sitemap_index.xml").await, 1);
    let notices: Vec<&str> = report.notices.iter().map(|n| n.error.as_str()).collect();
    assert!(notices.iter().any(|n| n.contains("loop")), "{notices:?}");
    assert!(
        notices.iter().any(|n| n.contains("without a date")),
        "{notices:?}"
    );
    // A second pass reads the index in full again (its sitemaps change under it) and archives nothing twice.
    let again = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(again.articles_archived, 0, "{again}");
    assert_eq!(requests_to(&server, "/sitemap_index.xml").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_sitemaps_are_capped_and_reported_and_a_gzip_bomb_stops_at_the_cap() {
    let server = site_server().await;
    let base = server.uri();
    let now = Utc::now();
    let long_ago = now - chrono::Duration::days(400);
    // 50,010 URLs, all too old to fetch, 12 MB: more than the configured body cap (10 MB), within the
    // protocol's 50 MB, so it is read, up to the protocol's 50,000 URLs, and reported.
    let mut big = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let long_path = "world/asia-pacific/cross-strait-relations/".repeat(4);
    for i in 0..50_010 {
        big.push_str(&format!(
            "<url><loc>{base}/{long_path}{i}.html</loc><lastmod>{}</lastmod></url>\n",
            long_ago.format("%Y-%m-%d")
        ));
    }
    big.push_str("</urlset>\n");
    assert!(big.len() > 10_000_000, "{}", big.len());
    serve(&server, "/big.xml", "application/xml", big.into_bytes()).await;
    // 60 MB of zeros behind a 60 kB gzip: more than the protocol's 50 MB uncompressed.
    let bomb = gzip(&vec![b' '; 60 * 1024 * 1024]);
    assert!(bomb.len() < 200_000);
    serve(&server, "/bomb.xml.gz", "application/x-gzip", bomb).await;

    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "[[feeds]]\nid = \"big\"\nkind = \"sitemap\"\nurl = \"{base}/big.xml\"\n\n\
             [[feeds]]\nid = \"bomb\"\nkind = \"sitemap\"\nurl = \"{base}/bomb.xml.gz\"\n"
        ),
    );
    let p = pipeline::open_from(&cfg).unwrap();
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.articles_archived, 0, "{report}");
    let big_notice = report
        .notices
        .iter()
        .find(|n| n.feed == "big")
        .map(|n| n.error.clone())
        .unwrap_or_default();
    assert!(big_notice.contains("50,000"), "{:?}", report.notices);
    let bomb_failure = report
        .failures
        .iter()
        .find(|f| f.feed == "bomb")
        .map(|f| f.error.clone())
        .unwrap_or_default();
    assert!(bomb_failure.contains("50 MB"), "{:?}", report.failures);
    // The failure is the source's state: `feeds status` says failing, with the reason.
    let bomb_row = status_row(&cfg, "bomb");
    assert_eq!(bomb_row["health"], "failing", "{bomb_row}");
    assert!(
        bomb_row["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("50 MB"),
        "{bomb_row}"
    );
}

/// Monthly sitemaps of 2025 behind an index; the second month's file hangs on its first request, so the
/// backfill is killed while it waits; the second run resumes after the first month (not fetched again)
/// and archives the rest: no duplicate, nothing missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_killed_with_sigkill_resumes_with_no_duplicate_and_nothing_missing() {
    let server = site_server().await;
    let base = server.uri();
    let day = |s: &str| {
        DateTime::parse_from_rfc3339(&format!("{s}T12:00:00Z"))
            .unwrap()
            .with_timezone(&Utc)
    };
    let months = [
        (
            "2025-01",
            vec!["/articles/en/drills.html", "/articles/ru/sochi.html"],
        ),
        (
            "2025-02",
            vec!["/articles/zh-hans/taihai.html", "/articles/ru/tayvan.html"],
        ),
        ("2025-03", vec!["/articles/zh-hant/strait.html"]),
    ];
    let children: Vec<(String, DateTime<Utc>)> = months
        .iter()
        .map(|(m, _)| {
            (
                format!("{base}/sitemaps/sitemap-{m}.xml"),
                day(&format!("{m}-28")),
            )
        })
        .collect();
    serve(
        &server,
        "/sitemap_index.xml",
        "application/xml",
        index(&children).into_bytes(),
    )
    .await;
    for (m, pages) in &months {
        let body = urlset(
            &pages
                .iter()
                .map(|p| (format!("{base}{p}"), Some(day(&format!("{m}-15")))))
                .collect::<Vec<_>>(),
        );
        let route = format!("/sitemaps/sitemap-{m}.xml");
        if *m == "2025-02" {
            // First request: hangs until the process is killed.
            Mock::given(method("GET"))
                .and(path(route.as_str()))
                .respond_with(
                    ResponseTemplate::new(200)
                        .insert_header("content-type", "application/xml")
                        .set_body_string(body.clone())
                        .set_delay(Duration::from_secs(60)),
                )
                .up_to_n_times(1)
                .with_priority(1)
                .mount(&server)
                .await;
            Mock::given(method("GET"))
                .and(path(route.as_str()))
                .respond_with(
                    ResponseTemplate::new(200)
                        .insert_header("content-type", "application/xml")
                        .set_body_string(body),
                )
                .with_priority(2)
                .mount(&server)
                .await;
        } else {
            serve(&server, &route, "application/xml", body.into_bytes()).await;
        }
    }
    // A regular pass first: the files are too old for it, so it archives nothing, and the backfill must
    // not be confused by its state.
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "[[feeds]]\nid = \"sm\"\nkind = \"sitemap\"\nurl = \"{base}/sitemap_index.xml\"\n"
        ),
    );
    let bin = env!("CARGO_BIN_EXE_mediawatch");
    let run = |args: &[&str]| {
        std::process::Command::new(bin)
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["ingest"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut child = std::process::Command::new(bin)
        .arg("--config")
        .arg(&cfg)
        .args([
            "backfill",
            "--feed",
            "sm",
            "--since",
            "2025-01-01",
            "--until",
            "2025-12-31",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while requests_to(&server, "/sitemaps/sitemap-2025-02.xml").await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the second month was never requested"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // What the first run committed: the first month.
    {
        let archive = Archive::open(&dir.path().join("index")).unwrap();
        let got = paths(&all_articles(&archive));
        assert_eq!(got, ["/articles/en/drills.html", "/articles/ru/sochi.html"]);
    }

    let out = run(&[
        "backfill",
        "--feed",
        "sm",
        "--since",
        "2025-01-01",
        "--until",
        "2025-12-31",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("(resumed)"), "{stderr}");
    let archive = Archive::open(&dir.path().join("index")).unwrap();
    let got = paths(&all_articles(&archive)); // panics on a duplicate
    assert_eq!(
        got,
        [
            "/articles/en/drills.html",
            "/articles/ru/sochi.html",
            "/articles/ru/tayvan.html",
            "/articles/zh-hans/taihai.html",
            "/articles/zh-hant/strait.html",
        ]
    );
    // The first month's file was read once: the resumed run skipped it.
    assert_eq!(
        requests_to(&server, "/sitemaps/sitemap-2025-01.xml").await,
        1
    );
    // A regular pass afterwards archives nothing twice; a new backfill of the same range neither.
    let out = run(&["ingest"]);
    assert!(out.status.success());
    let out = run(&[
        "backfill",
        "--feed",
        "sm",
        "--since",
        "2025-01-01",
        "--until",
        "2025-12-31",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("0 articles archived"), "{stderr}");
    assert_eq!(
        all_articles(&Archive::open(&dir.path().join("index")).unwrap()).len(),
        5
    );
}

fn telegram_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/telegram")
            .join(name),
    )
    .unwrap()
}

/// The post URLs the reader finds in a fixture page.
fn posts_in(name: &str) -> Vec<String> {
    let base = url::Url::parse("http://127.0.0.1/s/x").unwrap();
    mediawatch::source::telegram::parse("x", &telegram_fixture(name), None, &base)
        .unwrap()
        .entries
        .iter()
        .map(|e| e.url.to_string())
        .collect()
}

/// Serves the fixture channel: the newest page, and the older ones behind `before=`.
async fn serve_channel(server: &MockServer) {
    for (before, page) in [
        ("1201", "channel-older.html"),
        ("1195", "channel-oldest.html"),
    ] {
        Mock::given(method("GET"))
            .and(path("/s/mw_state_news"))
            .and(wiremock::matchers::query_param("before", before))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "text/html; charset=utf-8")
                    .set_body_bytes(telegram_fixture(page)),
            )
            .with_priority(1)
            .mount(server)
            .await;
    }
    for (route, page) in [
        ("/s/mw_state_news", "channel.html"),
        ("/s/mw_ministry", "ministry.html"),
        ("/s/mw_redesigned", "changed-layout.html"),
    ] {
        Mock::given(method("GET"))
            .and(path(route))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "text/html; charset=utf-8")
                    .set_body_bytes(telegram_fixture(page)),
            )
            .with_priority(2)
            .mount(server)
            .await;
    }
}

fn telegram_feeds(base: &str) -> String {
    format!(
        "[[feeds]]\nid = \"tg-state\"\nkind = \"telegram\"\nurl = \"{base}/s/mw_state_news\"\nname = \"State news\"\n\
         affiliation = \"state\"\ncountry = \"RU\"\nlanguage = \"ru\"\n\n\
         [[feeds]]\nid = \"tg-ministry\"\nkind = \"telegram\"\nurl = \"{base}/s/mw_ministry\"\nname = \"Ministry\"\n\
         affiliation = \"state\"\ncountry = \"RU\"\nlanguage = \"ru\"\n\n\
         [[feeds]]\nid = \"tg-redesigned\"\nkind = \"telegram\"\nurl = \"{base}/s/mw_redesigned\"\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_posts_are_archived_with_views_and_forwards_and_a_changed_layout_fails_clearly() {
    let server = MockServer::start().await;
    serve_channel(&server).await;
    let base = server.uri();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &telegram_feeds(&base));
    let p = pipeline::open_from(&cfg).unwrap();
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    let expected: Vec<String> = posts_in("channel.html")
        .into_iter()
        .chain(posts_in("ministry.html"))
        .collect();
    assert!(expected.len() >= 8, "{expected:?}");
    assert_eq!(report.articles_archived, expected.len(), "{report}");
    let articles = all_articles(&p.archive);
    let mut got: Vec<&String> = articles.keys().collect();
    got.sort();
    let mut want: Vec<&String> = expected.iter().collect();
    want.sort();
    assert_eq!(got, want);
    for a in articles.values() {
        assert_eq!(a.text_source, "post", "{}", a.url);
        assert!(a.url.starts_with("https://t.me/"), "{}", a.url);
        assert!(a.post.is_some(), "{}", a.url);
    }
    // The forward and its origin, both archived; the forward carries the origin's post URL.
    let forward = &articles["https://t.me/mw_state_news/1202"];
    let from = forward
        .post
        .as_ref()
        .and_then(|p| p.forwarded_from.as_ref())
        .expect("a forward");
    assert_eq!(from.url.as_deref(), Some("https://t.me/mw_ministry/3105"));
    assert!(articles.contains_key("https://t.me/mw_ministry/3105"));
    // The post as the preview showed it is the article's snapshot (its provenance).
    let (meta, body) = p.store.snapshot(&forward.id).unwrap().expect("a snapshot");
    assert_eq!(meta.url, "https://t.me/mw_state_news/1202");
    let body = String::from_utf8(body).unwrap();
    assert!(body.contains("data-post=\"mw_state_news/1202\""), "{body}");
    assert!(
        !body.contains("mw_state_news/1203"),
        "one post per snapshot"
    );
    assert!(articles.values().any(|a| a
        .post
        .as_ref()
        .and_then(|p| p.views)
        .is_some_and(|v| v >= 1000)));
    // No page was fetched for a post, and no older page on a first read.
    let requests = server.received_requests().await.unwrap_or_default();
    assert!(
        requests
            .iter()
            .all(|r| r.url.path().starts_with("/s/") && r.url.query().is_none()),
        "{:?}",
        requests
            .iter()
            .map(|r| r.url.to_string())
            .collect::<Vec<_>>()
    );
    // The redesigned channel: a failure with the reason, never a silent zero.
    let failure = report
        .failures
        .iter()
        .find(|f| f.feed == "tg-redesigned")
        .expect("the redesigned channel fails");
    assert!(failure.error.contains("layout"), "{}", failure.error);
    let row = status_row(&cfg, "tg-redesigned");
    assert_eq!(row["health"], "failing", "{row}");
    assert_eq!(row["kind"], "telegram", "{row}");
    assert!(
        row["last_error"].as_str().unwrap().contains("layout"),
        "{row}"
    );
    // `similar` on the ministry's original shows who forwarded it, and how long after.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mediawatch"))
        .arg("--config")
        .arg(&cfg)
        .args([
            "similar",
            "https://t.me/mw_ministry/3105",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let similar: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let down = &similar["forwards"]["downstream"][0];
    assert_eq!(
        down["forwarder"]["url"], "https://t.me/mw_state_news/1202",
        "{similar}"
    );
    assert_eq!(down["forwarder"]["feed"], "tg-state", "{similar}");
    assert_eq!(down["delay_secs"], 5 * 3600 + 15 * 60, "{similar}");
    // A second pass archives nothing twice.
    let again = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(again.articles_archived, 0, "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_backfill_pages_back_to_since_and_stops_there() {
    let server = MockServer::start().await;
    serve_channel(&server).await;
    let base = server.uri();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &telegram_feeds(&base));
    let bin = env!("CARGO_BIN_EXE_mediawatch");
    // Back to 2026-11-15: the newest page and the older one (20-25 Nov); the oldest page (10-12 Nov) is
    // reached only because the older page's last post is still in range... it is not: the walk stops
    // after the first page whose oldest post is before --since.
    let out = std::process::Command::new(bin)
        .arg("--config")
        .arg(&cfg)
        .args([
            "backfill",
            "--feed",
            "tg-state",
            "--since",
            "2026-11-15",
            "--until",
            "2026-11-30",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let archive = Archive::open(&dir.path().join("index")).unwrap();
    let articles = all_articles(&archive);
    let mut want: Vec<String> = posts_in("channel.html")
        .into_iter()
        .chain(posts_in("channel-older.html"))
        .collect();
    want.sort();
    let got: Vec<String> = articles.keys().cloned().collect();
    assert_eq!(got, want, "{stderr}");
    assert!(articles
        .values()
        .all(|a| a.published.unwrap() >= "2026-11-15T00:00:00Z".parse::<DateTime<Utc>>().unwrap()));
    assert_eq!(with_query(&server, "before=1201").await, 1);
    // The older page's posts reach 2026-11-20 only, so the walk goes on to the oldest page, whose posts
    // are all before --since: read, none taken, and the walk stops there (it has no older page anyway).
    assert!(with_query(&server, "before=1195").await <= 1);
    // Then the whole of November: the oldest page too, and nothing twice.
    let out = std::process::Command::new(bin)
        .arg("--config")
        .arg(&cfg)
        .args([
            "backfill",
            "--feed",
            "tg-state",
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-30",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let all = all_articles(&Archive::open(&dir.path().join("index")).unwrap());
    assert_eq!(
        all.len(),
        posts_in("channel.html").len()
            + posts_in("channel-older.html").len()
            + posts_in("channel-oldest.html").len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn section_page_links_are_followed_filtered_and_a_selector_matching_nothing_fails() {
    let server = site_server().await;
    let base = server.uri();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "[[feeds]]\nid = \"world\"\nkind = \"html\"\nurl = \"{base}/sections/world.html\"\nname = \"World section\"\n\
             affiliation = \"state\"\nlink_selector = \"ul.headlines a\"\nexclude = ['/video/']\n\n\
             [[feeds]]\nid = \"moved\"\nkind = \"html\"\nurl = \"{base}/sections/world.html\"\n\
             link_selector = \"div.story-list a\"\n"
        ),
    );
    let p = pipeline::open_from(&cfg).unwrap();
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    let articles = all_articles(&p.archive);
    assert_eq!(
        paths(&articles),
        [
            "/articles/en/drills.html",
            "/articles/en/kyiv-talks.html",
            "/articles/ru/sochi.html",
            "/articles/ru/tayvan.html",
            "/articles/zh-hans/taihai.html",
        ],
        "{report}"
    );
    // Each article page was fetched and extracted like a feed entry's.
    for a in articles.values() {
        assert_eq!(a.text_source, "page", "{}", a.url);
        assert_eq!(a.feed, "world");
        assert!(a.text.len() > 200, "{}", a.url);
    }
    // The excluded link was never requested, the off-site one neither (its host does not resolve here,
    // and the request would have failed the page).
    assert_eq!(
        requests_to(&server, "/video/2026/11/parade-rehearsal.html").await,
        0
    );
    assert_eq!(report.pages_failed, 0, "{:?}", report.failures);
    let moved = report
        .failures
        .iter()
        .find(|f| f.feed == "moved")
        .expect("the selector that matches nothing fails its source");
    assert!(moved.error.contains("matched nothing"), "{}", moved.error);
}

/// A channel read once, then found with nothing but new posts: the pass follows its older pages until
/// it meets archived posts, so the posts published between the two passes are not lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_pass_catches_up_through_older_pages_after_a_pause() {
    let server = MockServer::start().await;
    // First pass: the channel as it was (only its oldest page's posts).
    Mock::given(method("GET"))
        .and(path("/s/mw_state_news"))
        .and(wiremock::matchers::query_param_is_missing("before"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html; charset=utf-8")
                .set_body_bytes(telegram_fixture("channel-oldest.html")),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    serve_channel(&server).await;
    let base = server.uri();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        &format!(
            "[[feeds]]\nid = \"tg-state\"\nkind = \"telegram\"\nurl = \"{base}/s/mw_state_news\"\n"
        ),
    );
    let p = pipeline::open_from(&cfg).unwrap();
    let first = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(
        first.articles_archived,
        posts_in("channel-oldest.html").len()
    );
    // Second pass: the newest page holds only new posts; the older page too; the oldest is archived.
    let second = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(
        second.articles_archived,
        posts_in("channel.html").len() + posts_in("channel-older.html").len(),
        "{second}"
    );
    assert_eq!(with_query(&server, "before=1201").await, 1);
    assert_eq!(with_query(&server, "before=1195").await, 1);
    assert_eq!(
        all_articles(&p.archive).len(),
        posts_in("channel.html").len()
            + posts_in("channel-older.html").len()
            + posts_in("channel-oldest.html").len()
    );
}
