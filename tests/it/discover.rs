//! `feeds discover` end to end on the fixture site of tests/fixtures/discover (served from 127.0.0.1), and
//! `feeds add --kind` with the kinds' keys.
//!
//! The home page links a Telegram channel on t.me. The commands run with HTTPS_PROXY set to a closed local
//! port, so the check of that channel fails here without a request leaving the machine, as it would where
//! t.me is out of reach.

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/discover")
}

/// A fixture file with `{{BASE}}` replaced by the server's URL.
fn fixture(rel: &str, base: &str) -> String {
    std::fs::read_to_string(fixture_dir().join(rel))
        .unwrap()
        .replace("{{BASE}}", base)
}

async fn mount(server: &MockServer, route: &str, content_type: &str, body: Vec<u8>) {
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", content_type)
                .set_body_bytes(body),
        )
        .mount(server)
        .await;
}

/// The fixture site (README.md of its folder lists what is where); anything else is a 404.
async fn site() -> MockServer {
    let server = MockServer::start().await;
    let base = server.uri();
    let files = [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/feeds/news.xml", "feeds/news.xml", "application/rss+xml"),
        (
            "/feeds/news.atom",
            "feeds/news.atom",
            "application/atom+xml",
        ),
        ("/robots.txt", "robots.txt", "text/plain"),
        ("/sitemap_index.xml", "sitemap_index.xml", "application/xml"),
        ("/sitemaps/news.xml", "sitemaps/news.xml", "application/xml"),
        ("/sitemaps/pages.xml", "sitemaps/pages.xml", "text/xml"),
        (
            "/s/mw_state_news",
            "s/mw_state_news.html",
            "text/html; charset=utf-8",
        ),
    ];
    for (route, file, ct) in files {
        mount(&server, route, ct, fixture(file, &base).into_bytes()).await;
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(fixture("sitemaps/2026-11.xml", &base).as_bytes())
        .unwrap();
    mount(
        &server,
        "/sitemaps/2026-11.xml.gz",
        "application/x-gzip",
        gz.finish().unwrap(),
    )
    .await;
    server
}

/// A config for the local server: private addresses allowed (the fixture site is on 127.0.0.1), no host
/// delay, and one feed whose id is the one discovery would suggest first for the site's RSS feed.
fn write_config(dir: &Path) -> PathBuf {
    let path = dir.join("feeds.toml");
    std::fs::write(
        &path,
        "[fetch]\ntimeout_secs = 5\nhost_delay_ms = 0\nallow_private_networks = true\n\n\
         [[feeds]]\nid = \"127-0-0-1-rss\"\nurl = \"https://example.org/other.xml\"\n",
    )
    .unwrap();
    path
}

/// The binary with the config, and HTTPS through a closed local port (see the module doc).
fn mw(config: &Path) -> Command {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = Command::new(env!("CARGO_BIN_EXE_mediawatch"));
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
    ] {
        c.env_remove(var);
    }
    c.env("HTTPS_PROXY", format!("http://127.0.0.1:{closed_port}"))
        .env("NO_PROXY", "127.0.0.1,localhost")
        .arg("--config")
        .arg(config);
    c
}

fn discover_json(config: &Path, url: &str) -> Vec<Value> {
    let out = mw(config)
        .args(["feeds", "discover", url, "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

/// Runs an add command as printed (`mediawatch --config FILE feeds add ...`, no quoting needed here).
fn run_add_command(config: &Path, command: &str) {
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(
        words[..3],
        ["mediawatch", "--config", config.to_str().unwrap()]
    );
    assert_eq!(words[3..5], ["feeds", "add"], "{command}");
    mw(config).args(&words[3..]).assert().success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_lists_feeds_sitemaps_and_telegram_of_a_site() {
    let server = site().await;
    let base = server.uri();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let cfg = config.to_str().unwrap().to_string();

    let rows = tokio::task::block_in_place(|| discover_json(&config, &format!("{base}/")));
    let summary: Vec<(&str, &str, bool)> = rows
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap(),
                r["url"].as_str().unwrap(),
                r["ok"].as_bool().unwrap(),
            )
        })
        .collect();
    let feed_url = format!("{base}/feeds/news.xml");
    let atom_url = format!("{base}/feeds/news.atom");
    let index_url = format!("{base}/sitemap_index.xml");
    let news_url = format!("{base}/sitemaps/news.xml");
    let pages_url = format!("{base}/sitemaps/pages.xml");
    assert_eq!(
        summary,
        [
            ("rss", feed_url.as_str(), true),
            ("rss", atom_url.as_str(), true),
            ("sitemap index", index_url.as_str(), true),
            ("news sitemap", news_url.as_str(), true),
            ("sitemap", pages_url.as_str(), true),
            ("telegram", "https://t.me/s/mw_state_news", false),
        ],
        "{rows:#?}"
    );
    for r in &rows {
        let mut keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "add_command",
                "entries",
                "error",
                "id",
                "kind",
                "newest",
                "news",
                "ok",
                "title",
                "url"
            ]
        );
    }
    let field = |i: usize, key: &str| rows[i][key].clone();
    // Entries (an index: its sitemaps) and the newest date (an index: the newest lastmod).
    let counts: Vec<Value> = (0..6).map(|i| field(i, "entries")).collect();
    assert_eq!(
        counts,
        [3, 2, 3, 3, 4]
            .map(Value::from)
            .into_iter()
            .chain([Value::Null])
            .collect::<Vec<_>>()
    );
    let newest: Vec<Value> = (0..6).map(|i| field(i, "newest")).collect();
    assert_eq!(
        newest,
        [
            Value::from("2026-11-24T08:30:00Z"),
            Value::from("2026-11-23T18:00:00Z"),
            Value::from("2026-11-24T10:00:00Z"),
            Value::from("2026-11-24T08:45:00Z"),
            Value::from("2026-11-20T12:00:00Z"),
            Value::Null,
        ]
    );
    let news: Vec<bool> = (0..6)
        .map(|i| field(i, "news").as_bool().unwrap())
        .collect();
    assert_eq!(news, [false, false, false, true, false, false]);
    assert_eq!(field(0, "title"), "MW State News");
    assert_eq!(field(1, "title"), "MW State News (Atom)");
    assert_eq!(field(3, "title"), Value::Null);
    assert!(rows[..5].iter().all(|r| r["error"].is_null()));
    let tg_error = field(5, "error");
    assert!(
        tg_error.as_str().unwrap().starts_with("not checked: "),
        "{tg_error}"
    );
    // Ids: unique, clear of the config's "127-0-0-1-rss", Telegram's from the channel.
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "127-0-0-1-rss-2",
            "127-0-0-1-rss-3",
            "127-0-0-1-sitemap-index",
            "127-0-0-1-news-sitemap",
            "127-0-0-1-sitemap",
            "mw-state-news-telegram",
        ]
    );
    assert_eq!(
        field(3, "add_command"),
        format!("mediawatch --config {cfg} feeds add --kind sitemap --id 127-0-0-1-news-sitemap {news_url}")
    );
    assert_eq!(
        field(2, "add_command"),
        format!("mediawatch --config {cfg} feeds add --kind sitemap --id 127-0-0-1-sitemap-index {index_url}")
    );
    assert_eq!(
        field(0, "add_command"),
        format!("mediawatch --config {cfg} feeds add --kind rss --id 127-0-0-1-rss-2 {feed_url}")
    );
    assert_eq!(
        field(5, "add_command"),
        format!("mediawatch --config {cfg} feeds add --kind telegram --id mw-state-news-telegram https://t.me/s/mw_state_news")
    );

    // Politeness: the page links feeds, so no common feed path was tried; robots.txt names sitemaps, so no
    // common sitemap path was; of the index's sitemaps only the news one was fetched.
    let requested: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    for not_fetched in [
        "/feed",
        "/rss.xml",
        "/atom.xml",
        "/sitemap.xml",
        "/news-sitemap.xml",
        "/sitemaps/2026-11.xml.gz",
        "/sitemaps/2026-10.xml.gz",
    ] {
        assert!(
            !requested.iter().any(|p| p == not_fetched),
            "{not_fetched} was fetched: {requested:?}"
        );
    }
    assert_eq!(
        requested
            .iter()
            .filter(|p| *p == "/sitemaps/news.xml")
            .count(),
        1
    );

    tokio::task::block_in_place(|| {
        // The table: one aligned row per candidate, errors shown.
        let out = mw(&config)
            .args(["feeds", "discover", &format!("{base}/")])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let table = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 7, "{table}");
        assert!(lines[0].starts_with("kind"), "{table}");
        let url_column = lines[0].find("url").unwrap();
        assert!(lines[4].starts_with("news sitemap "), "{table}");
        assert_eq!(lines[4].find(&news_url), Some(url_column), "{table}");
        assert!(lines[4].contains(" 2026-11-24T08:45:00Z "), "{table}");
        assert!(lines[4].ends_with(&format!("--id 127-0-0-1-news-sitemap {news_url}")));
        assert!(lines[6].starts_with("telegram "), "{table}");
        assert!(lines[6].contains("not checked: "), "{table}");

        // An add command as printed gives a config that check-config accepts.
        run_add_command(&config, field(3, "add_command").as_str().unwrap());
        mw(&config)
            .arg("check-config")
            .assert()
            .success()
            .stdout(predicate::str::contains(": ok"));
        let loaded = mediawatch::config::load(&config).unwrap();
        let added = loaded.feed("127-0-0-1-news-sitemap").unwrap();
        assert_eq!(added.kind.as_str(), "sitemap");
        assert_eq!(added.url.as_str(), news_url);
    });

    // The page itself: a Telegram preview (on the local server) and a gzipped sitemap are the candidates.
    let preview_url = format!("{base}/s/mw_state_news");
    let rows = tokio::task::block_in_place(|| discover_json(&config, &preview_url));
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let tg = &rows[0];
    assert_eq!(tg["kind"], "telegram");
    assert_eq!(tg["ok"], true, "{tg}");
    assert_eq!(tg["entries"], 3);
    assert_eq!(tg["newest"], "2026-11-24T08:30:00Z");
    assert_eq!(tg["title"], "MW State News");
    assert_eq!(tg["id"], "mw-state-news-telegram");
    let add = tg["add_command"].as_str().unwrap().to_string();
    assert!(
        add.ends_with(&format!(
            "feeds add --kind telegram --id mw-state-news-telegram {preview_url}"
        )),
        "{add}"
    );
    let gz_url = format!("{base}/sitemaps/2026-11.xml.gz");
    let rows = tokio::task::block_in_place(|| discover_json(&config, &gz_url));
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(rows[0]["kind"], "sitemap", "{rows:#?}");
    assert_eq!(rows[0]["entries"], 5);
    assert_eq!(rows[0]["newest"], "2026-11-24T07:00:00Z");
    assert_eq!(rows[0]["news"], false);
    assert_eq!(rows[0]["id"], "127-0-0-1-sitemap");
    tokio::task::block_in_place(|| {
        run_add_command(&config, &add);
        mw(&config).arg("check-config").assert().success();
        let loaded = mediawatch::config::load(&config).unwrap();
        let added = loaded.feed("mw-state-news-telegram").unwrap();
        assert_eq!(added.kind, mediawatch::model::SourceKind::Telegram);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_on_a_site_with_nothing_exits_1_saying_what_was_tried() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/",
        "text/html",
        b"<!doctype html><html><head><title>Nothing</title></head><body><p>No feeds here.</p></body></html>"
            .to_vec(),
    )
    .await;
    // A soft 404: the common path answers 200 with a page that is not a feed.
    mount(
        &server,
        "/feed",
        "text/html",
        b"<html><body>Not found</body></html>".to_vec(),
    )
    .await;
    let base = server.uri();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    tokio::task::block_in_place(|| {
        mw(&config)
            .args(["feeds", "discover", &format!("{base}/"), "--format", "json"])
            .assert()
            .code(1)
            .stdout("[]\n")
            .stderr(
                predicate::str::contains(format!("no working source found for {base}/"))
                    .and(predicate::str::contains("common feed paths /feed, /rss"))
                    .and(predicate::str::contains(
                        "common sitemap paths /sitemap.xml, /sitemap_index.xml, /news-sitemap.xml",
                    ))
                    .and(predicate::str::contains("robots.txt (HTTP status 404)")),
            );
        // The table prints nothing when there is no candidate.
        mw(&config)
            .args(["feeds", "discover", &format!("{base}/")])
            .assert()
            .code(1)
            .stdout("");
    });
    let requested: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    for tried in ["/feed", "/feeds/all.xml", "/robots.txt", "/sitemap.xml"] {
        assert!(
            requested.iter().any(|p| p == tried),
            "{tried}: {requested:?}"
        );
    }
}

#[test]
fn feeds_add_with_kind_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    let original = std::fs::read_to_string(&config).unwrap();
    let add = |args: &[&str]| {
        let mut c = mw(&config);
        c.args(["feeds", "add"]).args(args);
        c
    };
    // html without a link selector, a selector on a sitemap: the config check's messages, file unchanged.
    add(&[
        "https://y.example/world/",
        "--id",
        "y-world",
        "--kind",
        "html",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains(
        "kind = \"html\" needs link_selector",
    ));
    add(&[
        "https://y.example/sitemap.xml",
        "--id",
        "y-sitemap",
        "--kind",
        "sitemap",
        "--link-selector",
        "a",
    ])
    .assert()
    .code(2)
    .stderr(predicate::str::contains(
        "link_selector (html only) does not apply to kind = \"sitemap\"",
    ));
    add(&["https://y.example/", "--id", "y", "--kind", "podcast"])
        .assert()
        .code(2);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);

    add(&[
        "https://y.example/world/",
        "--id",
        "y-world",
        "--kind",
        "html",
        "--link-selector",
        "h2 > a",
        "--include",
        "/2026/",
        "--include",
        "/world/",
        "--exclude",
        "/video/",
        "--same-site",
        "false",
    ])
    .assert()
    .success();
    add(&[
        "https://y.example/news-sitemap.xml",
        "--id",
        "y-news",
        "--kind",
        "sitemap",
        "--max-age-days",
        "3",
    ])
    .assert()
    .success();
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with(&original), "{text}");
    assert!(
        text.ends_with(
            "\n[[feeds]]\nid = \"y-news\"\nurl = \"https://y.example/news-sitemap.xml\"\nkind = \"sitemap\"\nmax_age_days = 3\n"
        ),
        "{text}"
    );
    mw(&config).arg("check-config").assert().success();
    let loaded = mediawatch::config::load(&config).unwrap();
    assert_eq!(
        loaded.feed("y-world").unwrap().kind,
        mediawatch::model::SourceKind::Html {
            link_selector: "h2 > a".into(),
            include: vec!["/2026/".into(), "/world/".into()],
            exclude: vec!["/video/".into()],
            same_site: false,
        }
    );
    assert_eq!(
        loaded.feed("y-news").unwrap().kind,
        mediawatch::model::SourceKind::Sitemap { max_age_days: 3 }
    );
}
