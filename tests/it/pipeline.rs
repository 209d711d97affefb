//! End-to-end: the fixture site (English, Simplified and Traditional Chinese, Russian; UTF-8, GBK and
//! windows-1251) served on 127.0.0.1, ingested by the real pipeline, then searched and digested.
//! Expected values come from tests/fixtures/site/EXPECTED.md.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use mediawatch::index::Archive;
use mediawatch::model::Article;
use mediawatch::pipeline::{self, PassOptions, Pipeline};
use mediawatch::search::{self, SearchRequest};

use crate::support::{self, mount, one_item_rss, requests_to, site_server, write_config};
use wiremock::{Request, Respond, ResponseTemplate};

fn search(archive: &Archive, query: &str, f: impl FnOnce(&mut SearchRequest)) -> Vec<String> {
    let mut req = SearchRequest {
        query: query.to_string(),
        limit: 100,
        ..Default::default()
    };
    f(&mut req);
    let results = search::search(archive, &req).unwrap();
    assert_eq!(
        results.total,
        results.hits.len(),
        "{query}: limit too small"
    );
    let mut paths: Vec<String> = results
        .hits
        .iter()
        .map(|h| url::Url::parse(&h.url).unwrap().path().to_string())
        .collect();
    paths.sort();
    paths
}

fn all_articles(archive: &Archive) -> BTreeMap<String, Article> {
    support::all_articles(archive)
        .into_iter()
        .map(|(url, a)| (url::Url::parse(&url).unwrap().path().to_string(), a))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_ingest_search_and_second_pass() {
    let server = site_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), 5, "");
    let p = pipeline::open_from(&config).unwrap();

    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.feeds_ok, 4, "{report}");
    assert_eq!(report.feeds_failed, 0, "{report}");
    assert_eq!(report.entries_seen, 11, "{report}");
    assert_eq!(report.articles_archived, 11, "{report}");
    assert_eq!(
        report.articles_from_feed, 1,
        "the 404 page's text comes from the feed: {report}"
    );
    assert_eq!(report.articles_tagged, 7, "{report}");

    let a = all_articles(&p.archive);
    assert_eq!(a.len(), 11);
    // Languages and charsets: GBK feed, windows-1251 feed and page decoded right.
    let expect = [
        ("/articles/en/drills.html", "en", &["fx-taiwan"][..]),
        ("/articles/en/kyiv-talks.html", "en", &["fx-ukraine"]),
        ("/articles/en/marathon.html", "en", &[]),
        ("/articles/zh-hans/taihai.html", "zh", &["fx-taiwan"]),
        (
            "/articles/zh-hans/wukelan-tanpan.html",
            "zh",
            &["fx-ukraine"],
        ),
        ("/articles/zh-hans/weather.html", "zh", &[]),
        ("/articles/zh-hant/baseball.html", "zh", &[]),
        ("/articles/zh-hant/strait.html", "zh", &["fx-taiwan"]),
        ("/articles/ru/tayvan.html", "ru", &["fx-taiwan"]),
        ("/articles/ru/peregovory.html", "ru", &["fx-ukraine"]),
        ("/articles/ru/sochi.html", "ru", &[]),
    ];
    for (path, lang, campaigns) in expect {
        let art = &a[path];
        assert_eq!(art.lang.lang, lang, "{path}");
        let got: Vec<&str> = art.campaigns.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(got, campaigns, "{path}");
        assert!(!art.text.contains('\u{FFFD}'), "{path}: mojibake in text");
        assert!(!art.title.contains('\u{FFFD}'), "{path}: mojibake in title");
    }
    assert_eq!(
        a["/articles/zh-hans/weather.html"].title,
        "寒潮来袭 北方多地迎来入冬以来首场大范围降雪"
    );
    assert!(
        a["/articles/zh-hans/weather.html"]
            .text
            .contains("寒潮蓝色预警"),
        "GBK page decoded"
    );
    assert!(
        a["/articles/ru/tayvan.html"].text.contains("Украина"),
        "windows-1251 page decoded"
    );
    assert_eq!(
        a["/articles/ru/sochi.html"].title,
        "В Сочи открылся горнолыжный сезон"
    );
    let missing = &a["/articles/zh-hans/wukelan-tanpan.html"];
    assert_eq!(missing.text_source, "feed");
    assert_eq!(missing.http_status, 404);
    assert!(missing.text.contains("非军事化"));
    assert_eq!(a["/articles/en/drills.html"].text_source, "page");
    // Feed date first; the weather item is 20 Nov in UTC.
    assert_eq!(
        a["/articles/zh-hans/weather.html"]
            .published
            .unwrap()
            .to_rfc3339(),
        "2026-11-20T23:00:00+00:00"
    );
    // Matched terms are kept with the hit.
    let drills = &a["/articles/en/drills.html"].campaigns[0];
    let terms: Vec<&str> = drills.terms.iter().map(|t| t.term.as_str()).collect();
    assert!(
        terms.contains(&"reunification") && terms.contains(&"separatis*"),
        "{terms:?}"
    );

    // Provenance: the raw page bytes (GBK, undecoded) with their HTTP metadata.
    let weather = &a["/articles/zh-hans/weather.html"];
    let (meta, body) = p
        .store
        .snapshot(&weather.id)
        .unwrap()
        .expect("snapshot stored");
    assert_eq!(
        body,
        std::fs::read(crate::support::site_dir().join("articles/zh-hans/weather.html")).unwrap()
    );
    assert_eq!(meta.status, 200);
    assert_eq!(meta.final_url, weather.final_url);
    assert!(
        meta.headers
            .iter()
            .any(|(k, v)| k == "content-type" && v == "text/html"),
        "{:?}",
        meta.headers
    );
    assert!(
        p.store.snapshot(&missing.id).unwrap().is_none(),
        "no page, no snapshot"
    );

    // Search: phrase, Chinese characters in both scripts, filters.
    assert_eq!(
        search(&p.archive, "\"joint combat readiness patrol\"", |_| {}),
        ["/articles/en/drills.html"]
    );
    assert!(search(&p.archive, "\"combat joint readiness patrol\"", |_| {}).is_empty());
    let strait = [
        "/articles/zh-hans/taihai.html",
        "/articles/zh-hant/strait.html",
    ];
    assert_eq!(search(&p.archive, "台湾海峡", |_| {}), strait);
    assert_eq!(search(&p.archive, "臺灣海峽", |_| {}), strait);
    assert_eq!(
        search(&p.archive, "寒潮蓝色预警", |_| {}),
        ["/articles/zh-hans/weather.html"]
    );
    // Exact form in `text:`; a bare word is stemmed by the article's language (issue #6).
    assert_eq!(
        search(&p.archive, "text:Украины", |_| {}),
        ["/articles/ru/peregovory.html"]
    );
    assert_eq!(
        search(&p.archive, "Украины", |_| {}),
        ["/articles/ru/peregovory.html", "/articles/ru/tayvan.html"]
    );
    assert_eq!(
        search(&p.archive, "", |r| r.campaign = Some("fx-ukraine".into())),
        [
            "/articles/en/kyiv-talks.html",
            "/articles/ru/peregovory.html",
            "/articles/zh-hans/wukelan-tanpan.html"
        ]
    );
    assert_eq!(
        search(&p.archive, "", |r| r.lang = Some("ru".into())),
        [
            "/articles/ru/peregovory.html",
            "/articles/ru/sochi.html",
            "/articles/ru/tayvan.html"
        ]
    );
    assert_eq!(
        search(&p.archive, "", |r| {
            r.lang = Some("ru".into());
            r.campaign = Some("fx-taiwan".into());
        }),
        ["/articles/ru/tayvan.html"]
    );
    assert_eq!(
        search(&p.archive, "", |r| r.affiliation =
            Some("independent".into())),
        [
            "/articles/zh-hant/baseball.html",
            "/articles/zh-hant/strait.html"
        ]
    );
    let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    assert_eq!(
        search(&p.archive, "", |r| {
            r.since = Some(day);
            r.until = Some(day);
        }),
        [
            "/articles/en/marathon.html",
            "/articles/zh-hans/weather.html"
        ]
    );
    assert_eq!(search(&p.archive, "feed:fx-zh-hant", |_| {}).len(), 2);
    assert_eq!(
        search(&p.archive, "source:fx-zh-hant", |_| {}).len(),
        2,
        "source: is feed:"
    );
    // Newest and oldest first, by publication time.
    let order = |sort| {
        let req = SearchRequest {
            query: String::new(),
            lang: Some("ru".into()),
            limit: 10,
            sort,
            ..Default::default()
        };
        search::search(&p.archive, &req)
            .unwrap()
            .hits
            .into_iter()
            .map(|h| url::Url::parse(&h.url).unwrap().path().to_string())
            .collect::<Vec<_>>()
    };
    let newest = [
        "/articles/ru/tayvan.html",
        "/articles/ru/peregovory.html",
        "/articles/ru/sochi.html",
    ];
    assert_eq!(order(search::Sort::Newest), newest);
    let mut oldest = newest.to_vec();
    oldest.reverse();
    assert_eq!(order(search::Sort::Oldest), oldest);

    // Digest counts equal search counts for the same day and campaign.
    let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let articles = mediawatch::digest::load_day(&p.archive, day).unwrap();
    let d = mediawatch::digest::build(day, &articles, &p.config);
    let taiwan = search(&p.archive, "", |r| {
        r.campaign = Some("fx-taiwan".into());
        r.since = Some(day);
        r.until = Some(day);
    });
    assert_eq!(d.campaigns[0].id, "fx-taiwan");
    assert_eq!(d.campaigns[0].count, taiwan.len());
    assert_eq!(d.campaigns[0].count, 2);
    assert_eq!(d.total, 2);

    // A second pass archives nothing twice.
    let again = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(again.articles_archived, 0, "{again}");
    assert_eq!(again.entries_new, 0, "{again}");
    assert_eq!(
        again.feeds_unchanged, 4,
        "unchanged bodies are not parsed again: {again}"
    );
    assert_eq!(all_articles(&p.archive).len(), 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_feed_and_slow_page_leave_the_rest_intact() {
    let server = site_server().await;
    // The slow page times out on the first pass only.
    mount(
        &server,
        "/extra/feed.xml",
        200,
        &one_item_rss("/slow/page.html", "Slow page"),
        None,
        None,
    )
    .await;
    let slow_html = "<html><body><article><h1>Slow page</h1><p>Talks on peaceful reunification resumed, officials said on Tuesday after a long pause.</p></article></body></html>";
    mount(
        &server,
        "/slow/page.html",
        200,
        slow_html,
        Some(Duration::from_secs(4)),
        Some(1),
    )
    .await;
    mount(&server, "/slow/page.html", 200, slow_html, None, None).await;
    let extra = r#"
[[feeds]]
id = "gone"
url = "{BASE}/feeds/does-not-exist.xml"

[[feeds]]
id = "extra"
url = "{BASE}/extra/feed.xml"
"#
    .replace("{BASE}", &server.uri());
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), 1, &extra);
    let p = pipeline::open_from(&config).unwrap();

    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.feeds_failed, 1, "{report}");
    assert_eq!(report.feeds_ok, 5, "{report}");
    assert_eq!(report.articles_archived, 11, "{report}");
    assert_eq!(report.pages_failed, 1, "{report}");
    let errors: Vec<(&str, &str)> = report
        .failures
        .iter()
        .map(|f| (f.feed.as_str(), f.error.as_str()))
        .collect();
    assert!(
        errors
            .iter()
            .any(|(f, e)| *f == "gone" && e.contains("404")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|(f, e)| *f == "extra" && e.contains("timed out")),
        "{errors:?}"
    );
    let state = p.store.feed_state("gone").unwrap();
    assert_eq!(state.consecutive_failures, 1);
    assert!(state.last_error.unwrap().contains("404"));

    // Next pass: the feed with the failed page is read again and its page archived; nothing twice.
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.articles_archived, 1, "{report}");
    assert_eq!(report.pages_failed, 0, "{report}");
    let a = all_articles(&p.archive);
    assert_eq!(a.len(), 12);
    assert!(a["/slow/page.html"].text.contains("peaceful reunification"));
    // The 404 feed is under a backoff now: skipped and reported, not fetched, unless forced.
    let backed_off: Vec<&str> = report
        .feeds_backed_off
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(backed_off, ["gone"], "{report}");
    assert_eq!(p.store.feed_state("gone").unwrap().consecutive_failures, 1);
    let forced = PassOptions {
        force: true,
        only: Some(["gone".to_string()].into()),
    };
    let report = pipeline::ingest_pass(&p, &forced).await.unwrap();
    assert_eq!(report.feeds_failed, 1, "{report}");
    assert_eq!(report.feeds_ok, 0, "only the chosen feed: {report}");
    assert_eq!(p.store.feed_state("gone").unwrap().consecutive_failures, 2);
}

/// The `pending` of a feed's row of `feeds status --format json`.
fn pending_in_status(config: &std::path::Path, id: &str) -> serde_json::Value {
    support::status_row(config, id)["pending"].clone()
}

const EXTRA_FEED: &str = r#"
[[feeds]]
id = "extra"
url = "{BASE}/extra/feed.xml"
"#;

fn only_extra(force: bool) -> PassOptions {
    PassOptions {
        force,
        only: Some(["extra".to_string()].into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_timed_out_is_pending_and_its_feed_keeps_conditional_get() {
    let server = site_server().await;
    mount(
        &server,
        "/extra/feed.xml",
        200,
        &one_item_rss("/flaky/page.html", "Flaky page"),
        None,
        None,
    )
    .await;
    let html = "<html><body><article><h1>Flaky page</h1><p>Talks on peaceful reunification resumed, officials said on Tuesday after a long pause.</p></article></body></html>";
    mount(
        &server,
        "/flaky/page.html",
        200,
        html,
        Some(Duration::from_secs(4)),
        Some(1),
    )
    .await;
    mount(&server, "/flaky/page.html", 200, html, None, None).await;
    let dir = tempfile::tempdir().unwrap();
    let extra = EXTRA_FEED.replace("{BASE}", &server.uri());
    let config = write_config(dir.path(), &server.uri(), 1, &extra);
    let p = pipeline::open_from(&config).unwrap();

    let report = pipeline::ingest_pass(&p, &only_extra(false)).await.unwrap();
    assert_eq!(report.pages_failed, 1, "{report}");
    assert_eq!(report.articles_archived, 0, "{report}");
    // The feed's validators are saved although its page failed; the page is pending.
    assert!(p.store.feed_state("extra").unwrap().body_sha256.is_some());
    let pending = p.store.pending("extra").unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].attempts, 1);
    assert!(pending[0].last_error.contains("timed out"), "{pending:?}");
    assert_eq!(pending_in_status(&config, "extra"), 1);

    // Next pass: the feed is unchanged (not read in full) and only the pending page is fetched again.
    let report = pipeline::ingest_pass(&p, &only_extra(false)).await.unwrap();
    assert_eq!(report.feeds_unchanged, 1, "{report}");
    assert_eq!(report.entries_seen, 0, "{report}");
    assert_eq!(report.pages_retried, 1, "{report}");
    assert_eq!(report.articles_archived, 1, "{report}");
    assert_eq!(requests_to(&server, "/extra/feed.xml").await, 2);
    assert_eq!(requests_to(&server, "/flaky/page.html").await, 2);
    let a = all_articles(&p.archive);
    assert_eq!(a.len(), 1);
    assert_eq!(a["/flaky/page.html"].text_source, "page");
    assert!(a["/flaky/page.html"]
        .text
        .contains("peaceful reunification"));
    assert!(p.store.pending("extra").unwrap().is_empty());
    assert_eq!(pending_in_status(&config, "extra"), 0);

    // Nothing pending, nothing new: the page is not fetched again.
    let report = pipeline::ingest_pass(&p, &only_extra(false)).await.unwrap();
    assert_eq!(report.pages_retried, 0, "{report}");
    assert_eq!(requests_to(&server, "/flaky/page.html").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_never_recovers_is_archived_with_the_feed_text_after_the_last_attempt() {
    let server = site_server().await;
    mount(
        &server,
        "/extra/feed.xml",
        200,
        &one_item_rss("/down/page.html", "Down page"),
        None,
        None,
    )
    .await;
    mount(&server, "/down/page.html", 503, "busy", None, None).await;
    let dir = tempfile::tempdir().unwrap();
    let extra = EXTRA_FEED.replace("{BASE}", &server.uri());
    let config = write_config(dir.path(), &server.uri(), 1, &extra);
    let p = pipeline::open_from(&config).unwrap();
    let attempts = mediawatch::schedule::PAGE_ATTEMPTS as usize;

    // First attempt, then the second at the next pass.
    for pass in 1..=2 {
        let report = pipeline::ingest_pass(&p, &only_extra(false)).await.unwrap();
        assert_eq!(report.pages_failed, 1, "pass {pass}: {report}");
        assert_eq!(report.articles_archived, 0, "pass {pass}: {report}");
    }
    assert_eq!(requests_to(&server, "/down/page.html").await, 2);
    // The third waits for its backoff: an unforced pass does not fetch the page.
    let report = pipeline::ingest_pass(&p, &only_extra(false)).await.unwrap();
    assert_eq!(report.pages_retried, 0, "{report}");
    assert_eq!(requests_to(&server, "/down/page.html").await, 2);
    let pending = p.store.pending("extra").unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].attempts, 2);
    assert_eq!(pending[0].last_status, 503);
    assert!(pending[0].next_try > chrono::Utc::now());
    // Forced passes take it at once, up to the last attempt.
    for _ in 3..attempts {
        let report = pipeline::ingest_pass(&p, &only_extra(true)).await.unwrap();
        assert_eq!(report.pages_failed, 1, "{report}");
    }
    assert_eq!(pending_in_status(&config, "extra"), 1);
    let report = pipeline::ingest_pass(&p, &only_extra(true)).await.unwrap();
    assert_eq!(report.pages_failed, 0, "{report}");
    assert_eq!(report.articles_archived, 1, "{report}");
    assert_eq!(report.articles_from_feed, 1, "{report}");
    assert_eq!(requests_to(&server, "/down/page.html").await, attempts);
    let a = all_articles(&p.archive);
    let article = &a["/down/page.html"];
    assert_eq!(article.text_source, "feed");
    assert_eq!(article.http_status, 503);
    assert!(
        article.text.contains("reunification talks"),
        "{}",
        article.text
    );
    assert!(p.store.pending("extra").unwrap().is_empty());
    assert_eq!(pending_in_status(&config, "extra"), 0);
    // Done for good.
    let report = pipeline::ingest_pass(&p, &only_extra(true)).await.unwrap();
    assert_eq!(report.pages_retried, 0, "{report}");
    assert_eq!(requests_to(&server, "/down/page.html").await, attempts);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_over_the_extraction_budget_is_archived_with_the_feed_text() {
    let server = site_server().await;
    mount(
        &server,
        "/extra/feed.xml",
        200,
        &one_item_rss("/hostile/page.html", "Hostile page"),
        None,
        None,
    )
    .await;
    // 3,000 levels deep (the pre-scan keeps 512), then 50,000 paragraphs: each would cost html5ever a walk
    // down the stack and the tree two nodes, 40 ns of work a byte, twice the budget's 20.
    let html = "<div>".repeat(2999) + &"<p>x</p>".repeat(50_000);
    mount(&server, "/hostile/page.html", 200, &html, None, None).await;
    let dir = tempfile::tempdir().unwrap();
    let extra = EXTRA_FEED.replace("{BASE}", &server.uri());
    let config = write_config(dir.path(), &server.uri(), 1, &extra);
    let p = pipeline::open_from(&config).unwrap();

    let report = pipeline::ingest_pass(&p, &only_extra(false)).await.unwrap();
    assert_eq!(report.articles_archived, 1, "{report}");
    assert_eq!(report.articles_from_feed, 1, "{report}");
    assert_eq!(report.pages_over_budget, 1, "{report}");
    assert_eq!(report.pages_failed, 0, "{report}");
    assert!(
        report.to_string().contains("over the extraction budget: 1"),
        "{report}"
    );
    let notice = &report.notices[0];
    assert!(notice.url.ends_with("/hostile/page.html"), "{notice:?}");
    assert!(notice.error.contains("work budget"), "{notice:?}");
    let a = all_articles(&p.archive);
    let article = &a["/hostile/page.html"];
    assert_eq!(article.text_source, "feed");
    assert_eq!(article.http_status, 200);
    assert!(
        article.text.contains("reunification talks"),
        "{}",
        article.text
    );
    // Archived for good: not pending, not fetched again.
    assert!(p.store.pending("extra").unwrap().is_empty());
    let report = pipeline::ingest_pass(&p, &only_extra(true)).await.unwrap();
    assert_eq!(report.articles_archived, 0, "{report}");
    assert_eq!(requests_to(&server, "/hostile/page.html").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_killed_mid_pass_is_completed_by_the_next() {
    let server = site_server().await;
    mount(
        &server,
        "/extra/feed.xml",
        200,
        &one_item_rss("/slow/page.html", "Slow page"),
        None,
        None,
    )
    .await;
    let slow_html = "<html><body><article><h1>Slow page</h1><p>Officials met again on Tuesday to discuss the harbour project and its funding.</p></article></body></html>";
    // First request hangs long enough for the process to be killed while it waits.
    mount(
        &server,
        "/slow/page.html",
        200,
        slow_html,
        Some(Duration::from_secs(30)),
        Some(1),
    )
    .await;
    mount(&server, "/slow/page.html", 200, slow_html, None, None).await;
    let extra = format!(
        "[[feeds]]\nid = \"extra\"\nurl = \"{}/extra/feed.xml\"\n",
        server.uri()
    );
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), 60, &extra);

    let bin = env!("CARGO_BIN_EXE_mediawatch");
    let mut child = std::process::Command::new(bin)
        .arg("--config")
        .arg(&config)
        .arg("ingest")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the slow page has been requested (every other page is fetched by then or soon).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let requests = server.received_requests().await.unwrap_or_default();
        if requests.iter().any(|r| r.url.path() == "/slow/page.html") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the slow page was never requested"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let status = std::process::Command::new(bin)
        .arg("--config")
        .arg(&config)
        .arg("ingest")
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let p: Pipeline = pipeline::open_from(&config).unwrap();
    let a = all_articles(&p.archive); // panics on a duplicate
    assert_eq!(a.len(), 12, "{:?}", a.keys().collect::<Vec<_>>());
    assert!(a.contains_key("/slow/page.html"));
    // A third pass adds nothing.
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.articles_archived, 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_across_outlets_share_a_cluster_with_the_first_publisher_first() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let body = "The foreign ministry spokesperson said on Monday that the so-called independence forces on the island \
        are colluding with external powers, and warned that any attempt to split the country would be met with resolute \
        countermeasures. The spokesperson added that national reunification is an unstoppable historical trend and \
        that compatriots across the strait share a common future. Observers noted that the statement came a day after \
        a foreign naval vessel transited the strait, the third such passage this year, and that military exercises \
        near the island have become more frequent in recent months.";
    let other = "Fishermen in the southern port reported a record catch of mackerel this week, as warmer waters pushed \
        shoals closer to the coast. The harbour authority said it would extend opening hours at the fish market, and \
        local restaurants expect a busy weekend. Officials also mentioned the strait and the island, but only to \
        warn sailors about a storm forecast for Thursday, when winds could reach gale force along the coast and \
        ferries to the outlying islands may be cancelled until the weather improves.";
    let page = |header: &str, title: &str, text: &str, footer: &str| {
        format!("<html><body><header>{header}</header><article><h1>{title}</h1><p>{text}</p></article><footer>{footer}</footer></body></html>")
    };
    let rss = |items: &[(&str, &str, &str)]| {
        let items: String = items
            .iter()
            .map(|(link, title, date)| format!("<item><title>{title}</title><link>{link}</link><guid>{link}</guid><pubDate>{date}</pubDate></item>"))
            .collect();
        format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>x</title>{items}</channel></rss>")
    };
    let routes = [
        (
            "/state/feed.xml",
            rss(&[(
                "/state/a.html",
                "Spokesperson warns separatists",
                "Mon, 23 Nov 2026 08:00:00 +0000",
            )]),
        ),
        (
            "/state/a.html",
            page(
                "State News Agency",
                "Spokesperson warns separatists",
                body,
                "(c) State News Agency",
            ),
        ),
        (
            "/blog/feed.xml",
            rss(&[
                (
                    "/blog/copy.html",
                    "Beijing: reunification unstoppable",
                    "Mon, 23 Nov 2026 11:30:00 +0000",
                ),
                (
                    "/blog/fish.html",
                    "Record mackerel catch",
                    "Mon, 23 Nov 2026 12:00:00 +0000",
                ),
            ]),
        ),
        (
            "/blog/copy.html",
            page(
                "Asia Daily Blog - news you can trust",
                "Beijing: reunification unstoppable",
                body,
                "Share this story. Subscribe to our newsletter.",
            ),
        ),
        (
            "/blog/fish.html",
            page(
                "Asia Daily Blog",
                "Record mackerel catch",
                other,
                "Share this story.",
            ),
        ),
    ];
    for (route, content) in routes {
        Mock::given(method("GET"))
            .and(path(route))
            .respond_with(ResponseTemplate::new(200).set_body_string(content))
            .mount(&server)
            .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("feeds.toml");
    std::fs::write(
        &config,
        format!(
            "[fetch]\nhost_delay_ms = 0\nallow_private_networks = true\n\
             [[feeds]]\nid = \"blog\"\nurl = \"{0}/blog/feed.xml\"\naffiliation = \"independent\"\n\
             [[feeds]]\nid = \"agency\"\nurl = \"{0}/state/feed.xml\"\naffiliation = \"state\"\n",
            server.uri()
        ),
    )
    .unwrap();
    let p = pipeline::open_from(&config).unwrap();
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.articles_archived, 3, "{report}");
    let a = all_articles(&p.archive);
    let original = &a["/state/a.html"];
    assert_eq!(
        original.cluster.as_deref(),
        Some(original.id.as_str()),
        "the first publisher names the cluster"
    );
    assert_eq!(
        a["/blog/copy.html"].cluster, original.cluster,
        "the copy joins it"
    );
    assert_eq!(
        a["/blog/fish.html"].cluster.as_deref(),
        Some(a["/blog/fish.html"].id.as_str()),
        "same topic words, different text"
    );
    let members = mediawatch::search::cluster_members(&p.archive, &a["/blog/copy.html"]).unwrap();
    let feeds: Vec<&str> = members.iter().map(|m| m.feed.as_str()).collect();
    assert_eq!(feeds, ["agency", "blog"]);
    drop(p);
    // A later pass (new process) keeps clustering against what is archived.
    Mock::given(method("GET"))
        .and(path("/blog2/feed.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_string(rss(&[(
            "/blog2/again.html",
            "Copy again",
            "Tue, 24 Nov 2026 09:00:00 +0000",
        )])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/blog2/again.html"))
        .respond_with(ResponseTemplate::new(200).set_body_string(page(
            "Another site",
            "Copy again",
            body,
            "footer",
        )))
        .mount(&server)
        .await;
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "[[feeds]]\nid = \"blog2\"\nurl = \"{}/blog2/feed.xml\"\n",
        server.uri()
    ));
    std::fs::write(&config, text).unwrap();
    let p = pipeline::open_from(&config).unwrap();
    pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    let a = all_articles(&p.archive);
    assert_eq!(a["/blog2/again.html"].cluster, a["/state/a.html"].cluster);
    tokio::task::block_in_place(|| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mediawatch"))
            .arg("--config")
            .arg(&config)
            .args([
                "similar",
                &format!("{}/blog2/again.html", server.uri()),
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let members = json["members"].as_array().unwrap();
        assert_eq!(members.len(), 3);
        assert_eq!(members[0]["feed"], "agency");
        assert_eq!(members[0]["affiliation"], "state");
        assert_eq!(members[2]["delay_secs"], 25 * 3600);
    });
}

/// A feed whose items change every pass: pass `n` (the counter) lists articles `3n..3n+3` and, again,
/// the three of the pass before; each links to a page of its own under `/gen/`.
struct ChangingSite {
    pass: Arc<AtomicUsize>,
}

const PER_PASS: usize = 3;

impl Respond for ChangingSite {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let route = request.url.path();
        if route == "/changing.xml" {
            let pass = self.pass.load(Ordering::SeqCst);
            let first = pass.saturating_sub(1) * PER_PASS;
            let items: String = (first..(pass + 1) * PER_PASS)
                .map(|n| {
                    format!(
                        "<item><title>Harbour report {n}</title><link>/gen/{n}.html</link>\
                         <guid>/gen/{n}.html</guid><pubDate>Tue, 24 Nov 2026 12:00:00 +0000</pubDate>\
                         <description>Harbour report number {n}.</description></item>"
                    )
                })
                .collect();
            let body = format!(
                r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Changing</title>{items}</channel></rss>"#
            );
            return ResponseTemplate::new(200)
                .insert_header("content-type", "application/xml")
                .set_body_string(body);
        }
        let Some(n) = route
            .strip_prefix("/gen/")
            .and_then(|r| r.strip_suffix(".html"))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            return ResponseTemplate::new(404);
        };
        let body = format!(
            "<html><head><title>Harbour report {n}</title></head><body><article><h1>Harbour report {n}</h1>\
             <p>The harbour authority published its report number {n} on cargo volumes this morning. \
             Officials said the figures for container traffic were in line with the seasonal pattern, \
             and that the new berths would open as planned next spring after the dredging works.</p>\
             <p>Report {n} also covers the ferry timetable, the fishing fleet and the weather outlook \
             for the coming week, with calm seas expected along the coast.</p></article></body></html>"
        );
        ResponseTemplate::new(200)
            .insert_header("content-type", "text/html; charset=utf-8")
            .set_body_string(body)
    }
}

/// A config with the one feed of [`ChangingSite`] served at `base`.
fn changing_config(dir: &std::path::Path, base: &str) -> std::path::PathBuf {
    let config = dir.join("feeds.toml");
    std::fs::write(
        &config,
        format!(
            "[index]\npath = \"index\"\n\n[fetch]\nuser_agent = \"mediawatch-test\"\nconcurrency = 4\n\
             per_host = 4\nhost_delay_ms = 0\nallow_private_networks = true\n\n[digest]\nout_dir = \"digests\"\n\n\
             [[feeds]]\nid = \"changing\"\nurl = \"{base}/changing.xml\"\nname = \"Changing\"\n\
             affiliation = \"independent\"\nlanguage = \"en\"\n"
        ),
    )
    .unwrap();
    config
}

/// Serves [`ChangingSite`]; the counter sets the pass.
async fn changing_server() -> (wiremock::MockServer, Arc<AtomicUsize>) {
    let server = wiremock::MockServer::start().await;
    let pass = Arc::new(AtomicUsize::new(0));
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .respond_with(ChangingSite {
            pass: Arc::clone(&pass),
        })
        .mount(&server)
        .await;
    (server, pass)
}

/// The committed index: segments, files and bytes in `<index>/tantivy`.
fn index_footprint(p: &Pipeline) -> (usize, usize, u64) {
    let segments = p.archive.index().searchable_segment_ids().unwrap().len();
    let dir = p.config.index_path.join("tantivy");
    let (mut files, mut bytes) = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        // A merge's garbage collection may delete a file between the listing and its metadata.
        let Ok(meta) = entry.unwrap().metadata() else {
            continue;
        };
        if meta.is_file() {
            files += 1;
            bytes += meta.len();
        }
    }
    (segments, files, bytes)
}

/// Issue 24, item 1: the daemon's passes (one `Pipeline`, many `ingest_pass`) keep the index's segments
/// bounded. Each pass commits a segment or two; the writer kept between passes merges them in the
/// background, so after the passes the committed index settles at most at 8 segments: tantivy's
/// `LogMergePolicy` merges any 8 segments of a level, and under its 10,000-document `min_layer_size`
/// every segment is in the one level. Without a live writer nothing merges and the count grows with every
/// pass. Run with `--nocapture` for the figures.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_passes_keep_index_segments_bounded() {
    const PASSES: usize = 60;
    let (server, pass) = changing_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = changing_config(dir.path(), &server.uri());
    let p = pipeline::open_from(&config).unwrap();
    let options = PassOptions {
        force: true,
        only: None,
    };
    let started = std::time::Instant::now();
    let mut most = 0;
    for n in 0..PASSES {
        pass.store(n, Ordering::SeqCst);
        let report = pipeline::ingest_pass(&p, &options).await.unwrap();
        assert_eq!(report.articles_archived, PER_PASS, "pass {n}: {report}");
        let (segments, files, bytes) = index_footprint(&p);
        most = most.max(segments);
        if n % 10 == 9 {
            eprintln!(
                "after pass {}: {segments} segments, {files} files, {bytes} bytes",
                n + 1
            );
        }
    }
    let elapsed = started.elapsed();
    // Merges finish in the background: give them a moment (they take milliseconds here).
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut footprint = index_footprint(&p);
    while footprint.0 > 8 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        footprint = index_footprint(&p);
    }
    let (segments, files, bytes) = footprint;
    eprintln!(
        "{PASSES} passes of {PER_PASS} articles in {:.1} s: at most {most} segments after a pass; \
         settled at {segments} segments, {files} files, {bytes} bytes",
        elapsed.as_secs_f64()
    );
    assert!(
        segments <= 8,
        "{segments} segments after {PASSES} passes: merges are not running"
    );
    // The count after each pass stays near the merge policy's 8 too, not growing with the passes.
    assert!(most <= 24, "{most} segments after a pass");
    // Every article is there exactly once (all_articles fails on a duplicate).
    p.archive.reload().unwrap();
    let articles = all_articles(&p.archive);
    assert_eq!(articles.len(), PASSES * PER_PASS);
    for n in 0..PASSES * PER_PASS {
        assert!(
            articles.contains_key(&format!("/gen/{n}.html")),
            "article {n} missing"
        );
    }
    let found = search::search(
        &p.archive,
        &SearchRequest {
            query: "harbour".into(),
            limit: 1000,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(found.total, PASSES * PER_PASS);
}

/// Issue 24, item 1, for `ingest` run by a timer: one pass per process. The process ends with
/// [`Pipeline::finish_merges`] (as `ingest` does), which waits for the merges the pass's commits
/// scheduled, so the segments stay bounded by the merge policy (at most 8, as above) without a daemon;
/// a writer dropped after its commit would leave one or two more per run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_pass_per_process_keeps_index_segments_bounded() {
    const RUNS: usize = 30;
    let (server, pass) = changing_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = changing_config(dir.path(), &server.uri());
    let mut most = 0;
    for n in 0..RUNS {
        pass.store(n, Ordering::SeqCst);
        let p = pipeline::open_from(&config).unwrap();
        let report = pipeline::ingest_pass(&p, &PassOptions::default())
            .await
            .unwrap();
        assert_eq!(report.articles_archived, PER_PASS, "run {n}: {report}");
        p.finish_merges().unwrap();
        let (segments, files, bytes) = index_footprint(&p);
        most = most.max(segments);
        if n % 10 == 9 {
            eprintln!(
                "after run {}: {segments} segments, {files} files, {bytes} bytes",
                n + 1
            );
        }
        assert!(segments <= 8, "{segments} segments after run {n}");
    }
    let p = pipeline::open_from(&config).unwrap();
    let articles = all_articles(&p.archive);
    assert_eq!(articles.len(), RUNS * PER_PASS);
    eprintln!("{RUNS} runs: at most {most} segments after a run");
}
