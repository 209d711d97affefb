//! Telegram forwards as amplification evidence: `search::forward_chain` both ways with delays and limits,
//! `similar` (json and table) through the binary, the digest's forward section (load from the index equals
//! the aggregation in memory), and `reindex` filling the `forwarded_from` field of an older index.
//!
//! Fixture posts (our own, day D = 2026-11-27, UTC):
//! - `a1` channel A (state) at 06:00, 5000 views: the origin.
//! - `b1` channel B (no affiliation) at 07:00 forwards `a1` (+1h), 1200 views.
//! - `c1` channel C (independent) at 10:00 forwards `b1` (+3h), 300 views.
//! - `c2` (C, 12:00) and `b2` (B, 13:00) forward a post of `ghost`, a channel we do not monitor.
//! - `b3` (B, 14:00) forwards a user named without a link.
//! - `c3` (C, D+1 01:00) forwards `a1`: after the period of D's digest.
//! - `n1`, an RSS article at 08:00: no post, no forward.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use mediawatch::config::Config;
use mediawatch::digest::{self, DigestData, DigestFormat};
use mediawatch::index::Archive;
use mediawatch::model::{Affiliation, Article, Forward, LangInfo, Post};
use mediawatch::search::{self, ForwardChain};

const CONFIG: &str = r#"
[index]
path = "index"

[[feeds]]
id = "tg-a"
kind = "telegram"
url = "https://t.me/s/chan_a"
name = "Channel A (fixture)"
affiliation = "state"
country = "RU"

[[feeds]]
id = "tg-b"
kind = "telegram"
url = "https://t.me/s/chan_b"
name = "Channel B (fixture)"

[[feeds]]
id = "tg-c"
kind = "telegram"
url = "https://t.me/s/chan_c"
name = "Channel C (fixture)"
affiliation = "independent"
country = "UA"

[[feeds]]
id = "news"
url = "http://news.example/rss"
name = "News (fixture)"
affiliation = "independent"
"#;

const GHOST: &str = "https://t.me/ghost/99";

fn day_d() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day_d().and_hms_opt(h, m, 0).unwrap())
}

fn config(dir: &Path) -> Config {
    mediawatch::config::parse(CONFIG, &dir.join("feeds.toml")).unwrap()
}

fn tg(channel: &str, id: u32) -> String {
    format!("https://t.me/{channel}/{id}")
}

fn forward(name: &str, channel: Option<&str>, url: Option<&str>) -> Forward {
    Forward {
        name: name.into(),
        channel: channel.map(String::from),
        url: url.map(String::from),
    }
}

/// A post of `feed` (channel `chan_<x>` for feed `tg-<x>`), or an RSS article for `news`.
fn post(
    config: &Config,
    feed: &str,
    url: &str,
    published: DateTime<Utc>,
    views: Option<u64>,
    forwarded_from: Option<Forward>,
) -> Article {
    let spec = config.feed(feed).unwrap();
    let post = feed.strip_prefix("tg-").map(|x| Post {
        channel: format!("chan_{x}"),
        views,
        forwarded_from,
    });
    Article {
        id: mediawatch::pipeline::article_id(url),
        url: url.into(),
        final_url: url.into(),
        feed: feed.into(),
        source_name: spec.name.clone(),
        affiliation: spec.affiliation,
        country: spec.country.clone(),
        lang: LangInfo {
            lang: "en".into(),
            script: None,
            confidence: 1.0,
            reliable: true,
        },
        title: format!("Post {url}"),
        text: format!("Text of the post {url}, written for the forwards fixture."),
        description: None,
        authors: vec![],
        published: Some(published),
        modified: None,
        fetched_at: published + Duration::minutes(5),
        canonical_url: None,
        site_name: None,
        image: None,
        section: None,
        tags: vec![],
        campaigns: vec![],
        http_status: 0,
        text_source: "feed".into(),
        cluster: None,
        post,
        revision: None,
    }
}

/// The fixture posts described at the top of this file.
fn fixture(config: &Config) -> Vec<Article> {
    let a1 = tg("chan_a", 10);
    let b1 = tg("chan_b", 20);
    let from_a = forward("Channel A", Some("chan_a"), Some(&a1));
    let ghost = forward("Ghost <b>Channel</b>", Some("ghost"), Some(GHOST));
    vec![
        post(config, "tg-a", &a1, at(6, 0), Some(5000), None),
        post(
            config,
            "tg-b",
            &b1,
            at(7, 0),
            Some(1200),
            Some(from_a.clone()),
        ),
        post(
            config,
            "tg-c",
            &tg("chan_c", 30),
            at(10, 0),
            Some(300),
            Some(forward("Channel B", Some("chan_b"), Some(&b1))),
        ),
        post(
            config,
            "tg-c",
            &tg("chan_c", 31),
            at(12, 0),
            None,
            Some(ghost.clone()),
        ),
        post(
            config,
            "tg-b",
            &tg("chan_b", 21),
            at(13, 0),
            Some(50),
            Some(ghost),
        ),
        post(
            config,
            "tg-b",
            &tg("chan_b", 22),
            at(14, 0),
            Some(7),
            Some(forward("Some User", None, None)),
        ),
        post(
            config,
            "tg-c",
            &tg("chan_c", 32),
            at(6, 0) + Duration::hours(19),
            Some(10),
            Some(from_a),
        ),
        post(
            config,
            "news",
            "http://news.example/n1",
            at(8, 0),
            None,
            None,
        ),
    ]
}

/// Writes `articles` into the archive of `dir` (in several segments) and loads it.
fn archive_of(dir: &Path, articles: &[Article]) -> Archive {
    let archive = Archive::open_or_create(dir).unwrap();
    let mut w = archive.writer().unwrap();
    for (i, a) in articles.iter().enumerate() {
        w.upsert(a).unwrap();
        if i % 3 == 2 {
            w.commit().unwrap();
        }
    }
    w.commit().unwrap();
    drop(w);
    archive.reload().unwrap();
    archive
}

fn chain(archive: &Archive, url: &str) -> ForwardChain {
    let a = search::find_article(archive, url).unwrap().unwrap();
    search::forward_chain(archive, &a).unwrap()
}

/// `(origin url, forwarder url, delay_secs, depth)` of each link.
fn links(links: &[search::ForwardLink]) -> Vec<(Option<String>, String, Option<i64>, usize)> {
    links
        .iter()
        .map(|l| {
            (
                l.origin.url.clone(),
                l.forwarder.url.clone().unwrap(),
                l.delay_secs,
                l.depth,
            )
        })
        .collect()
}

fn link(
    origin: &str,
    forwarder: &str,
    delay: Option<i64>,
    depth: usize,
) -> (Option<String>, String, Option<i64>, usize) {
    (Some(origin.into()), forwarder.into(), delay, depth)
}

#[test]
fn forward_chain_upstream_and_downstream_with_delays() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let archive = archive_of(dir.path(), &fixture(&config));
    let (a1, b1, c1) = (tg("chan_a", 10), tg("chan_b", 20), tg("chan_c", 30));

    // From the origin: its forwards breadth-first, level 1 by time, then B's forward by C.
    let from_a = chain(&archive, &a1);
    assert!(from_a.upstream.is_empty());
    assert_eq!(
        links(&from_a.downstream),
        [
            link(&a1, &b1, Some(3600), 1),
            link(&a1, &tg("chan_c", 32), Some(19 * 3600), 1),
            link(&b1, &c1, Some(3 * 3600), 2),
        ]
    );
    assert!(!from_a.truncated);
    let first = &from_a.downstream[0];
    assert_eq!(first.forwarder.views, Some(1200));
    assert_eq!(first.forwarder.feed.as_deref(), Some("tg-b"));
    assert_eq!(first.forwarder.channel.as_deref(), Some("chan_b"));
    assert_eq!(first.origin.affiliation, Some(Affiliation::State));
    assert_eq!(first.origin.views, Some(5000));
    assert_eq!(
        first.origin.published.as_deref(),
        Some("2026-11-27T06:00:00Z")
    );

    // From the end of the chain: nearest origin first.
    let from_c = chain(&archive, &c1);
    assert_eq!(
        links(&from_c.upstream),
        [
            link(&b1, &c1, Some(3 * 3600), 1),
            link(&a1, &b1, Some(3600), 2)
        ]
    );
    assert!(from_c.downstream.is_empty());

    // The middle: one up, one down.
    let from_b = chain(&archive, &b1);
    assert_eq!(links(&from_b.upstream), [link(&a1, &b1, Some(3600), 1)]);
    assert_eq!(
        links(&from_b.downstream),
        [link(&b1, &c1, Some(3 * 3600), 1)]
    );

    // An origin we do not archive: listed by name and URL, without a date or delay.
    let from_c2 = chain(&archive, &tg("chan_c", 31));
    assert_eq!(from_c2.upstream.len(), 1);
    let ghost = &from_c2.upstream[0].origin;
    assert!(!ghost.archived);
    assert_eq!(ghost.url.as_deref(), Some(GHOST));
    assert_eq!(ghost.name, "Ghost <b>Channel</b>");
    assert_eq!(ghost.channel.as_deref(), Some("ghost"));
    assert_eq!((ghost.published.as_ref(), ghost.id.as_ref()), (None, None));
    assert_eq!(from_c2.upstream[0].delay_secs, None);
    // A forward named without a link.
    let from_b3 = chain(&archive, &tg("chan_b", 22));
    assert_eq!(from_b3.upstream.len(), 1);
    assert_eq!(from_b3.upstream[0].origin.name, "Some User");
    assert_eq!(from_b3.upstream[0].origin.url, None);

    // No forward either way.
    assert!(chain(&archive, "http://news.example/n1").is_empty());
}

#[test]
fn forward_chain_is_bounded_and_ends_on_loops() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    // p0 <- p1 <- ... <- p12, an hour apart.
    let urls: Vec<String> = (0..13).map(|i| tg("chan_b", 100 + i)).collect();
    let mut articles: Vec<Article> = urls
        .iter()
        .enumerate()
        .map(|(i, url)| {
            let origin = i
                .checked_sub(1)
                .map(|p| forward("Channel B", Some("chan_b"), Some(&urls[p])));
            post(
                &config,
                "tg-b",
                url,
                at(0, 0) + Duration::hours(i as i64),
                None,
                origin,
            )
        })
        .collect();
    // x and y forward each other (broken or hostile data).
    let (x, y) = (tg("chan_c", 500), tg("chan_c", 501));
    articles.push(post(
        &config,
        "tg-c",
        &x,
        at(1, 0),
        None,
        Some(forward("y", None, Some(&y))),
    ));
    articles.push(post(
        &config,
        "tg-c",
        &y,
        at(2, 0),
        None,
        Some(forward("x", None, Some(&x))),
    ));
    // 501 forwards of one post.
    let popular = tg("chan_a", 1);
    articles.push(post(&config, "tg-a", &popular, at(0, 0), None, None));
    for i in 0..=500 {
        articles.push(post(
            &config,
            "tg-c",
            &tg("chan_c", 1000 + i),
            at(3, 0) + Duration::seconds(i64::from(i)),
            None,
            Some(forward("A", Some("chan_a"), Some(&popular))),
        ));
    }
    let archive = archive_of(dir.path(), &articles);

    let up = chain(&archive, &urls[12]);
    assert_eq!(up.upstream.len(), search::MAX_UPSTREAM_STEPS);
    assert_eq!(up.upstream[9].origin.url.as_deref(), Some(urls[2].as_str()));
    assert_eq!(up.upstream[9].depth, 10);
    assert!(up.truncated);
    let down = chain(&archive, &urls[0]);
    assert_eq!(down.downstream.len(), search::MAX_DOWNSTREAM_LEVELS);
    assert_eq!(down.downstream[9].depth, 10);
    assert_eq!(
        down.downstream[9].forwarder.url.as_deref(),
        Some(urls[10].as_str())
    );
    assert!(down.truncated);
    // Within the limits: the whole chain, not truncated.
    let mid = chain(&archive, &urls[6]);
    assert_eq!((mid.upstream.len(), mid.downstream.len()), (6, 6));
    assert!(!mid.truncated);
    // Exactly 10 levels below: complete.
    let ten = chain(&archive, &urls[2]);
    assert_eq!(ten.downstream.len(), 10);
    assert!(!ten.truncated);

    // The loop: each post once.
    let looped = chain(&archive, &x);
    assert_eq!(
        links(&looped.upstream),
        [link(&y, &x, Some(-3600), 1), link(&x, &y, Some(3600), 2)]
    );
    assert!(looped.downstream.is_empty());

    let many = chain(&archive, &popular);
    assert_eq!(many.downstream.len(), search::MAX_DOWNSTREAM_ARTICLES);
    assert!(many.truncated);
    assert!(many.downstream.iter().all(|l| l.depth == 1));
    assert_eq!(many.downstream[0].delay_secs, Some(3 * 3600));
}

/// The fixture in a folder with its `feeds.toml`, as `ingest` leaves it.
fn fixture_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feeds.toml");
    std::fs::write(&path, CONFIG).unwrap();
    let config = config(dir.path());
    drop(archive_of(&config.index_path, &fixture(&config)));
    (dir, path)
}

fn similar(config: &Path, url: &str, format: &str) -> String {
    let out = Command::cargo_bin("mediawatch")
        .unwrap()
        .arg("--config")
        .arg(config)
        .args(["similar", url, "--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn similar_shows_the_forward_chain_after_the_members() {
    let (_dir, config) = fixture_dir();
    let b1 = tg("chan_b", 20);
    let json: serde_json::Value = serde_json::from_str(&similar(&config, &b1, "json")).unwrap();
    // The members as before: the article alone (no cluster).
    let members = json["members"].as_array().unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["url"], b1.as_str());
    assert_eq!(members[0]["delay_secs"], 0);
    let forwards = &json["forwards"];
    let up = forwards["upstream"].as_array().unwrap();
    assert_eq!(up.len(), 1);
    assert_eq!(up[0]["origin"]["url"], tg("chan_a", 10).as_str());
    assert_eq!(up[0]["origin"]["affiliation"], "state");
    assert_eq!(up[0]["forwarder"]["url"], b1.as_str());
    assert_eq!(up[0]["delay_secs"], 3600);
    let down = forwards["downstream"].as_array().unwrap();
    assert_eq!(down.len(), 1);
    assert_eq!(down[0]["forwarder"]["url"], tg("chan_c", 30).as_str());
    assert_eq!(down[0]["forwarder"]["views"], 300);
    assert_eq!(down[0]["delay_secs"], 3 * 3600);
    assert_eq!(forwards["truncated"], false);

    let table = similar(&config, &b1, "table");
    assert!(table.starts_with("cluster - (1 articles)"), "{table}");
    assert!(
        table.contains("\nForwards (1 upstream, 1 downstream):\n"),
        "{table}"
    );
    assert!(
        table.contains(
            "https://t.me/chan_a/10 (Channel A (fixture)) -> https://t.me/chan_b/20 (Channel B (fixture))  +1h00m  (1200 views)\n"
        ),
        "{table}"
    );
    assert!(
        table.contains(
            "https://t.me/chan_b/20 (Channel B (fixture)) -> https://t.me/chan_c/30 (Channel C (fixture))  +3h00m  (300 views)\n"
        ),
        "{table}"
    );
    // Upstream from the furthest origin down, for the end of the chain.
    let table = similar(&config, &tg("chan_c", 30), "table");
    let a_to_b = table.find("chan_a/10 (Channel A (fixture)) ->").unwrap();
    let b_to_c = table.find("chan_b/20 (Channel B (fixture)) ->").unwrap();
    assert!(a_to_b < b_to_c, "{table}");
    // An origin we do not archive.
    let table = similar(&config, &tg("chan_c", 31), "table");
    assert!(
        table.contains("https://t.me/ghost/99 (Ghost <b>Channel</b>, not archived) -> https://t.me/chan_c/31 (Channel C (fixture))  +?  (views unknown)"),
        "{table}"
    );

    // No forward: no block, empty lists.
    let table = similar(&config, "http://news.example/n1", "table");
    assert!(!table.contains("Forwards"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&similar(&config, "http://news.example/n1", "json")).unwrap();
    assert_eq!(json["forwards"]["upstream"], serde_json::json!([]));
    assert_eq!(json["forwards"]["downstream"], serde_json::json!([]));
}

#[test]
fn digest_lists_the_periods_forwards_by_origin() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let articles = fixture(&config);
    let archive = archive_of(dir.path(), &articles);
    let d = day_d();
    let digest = digest::build_digest(&digest::load(&archive, None, d, d).unwrap(), &config);
    // The same in memory.
    let memory = DigestData::from_articles(d, d, &articles, Default::default());
    assert_eq!(
        digest,
        digest::build_digest(&memory, &config),
        "load and from_articles agree"
    );

    /// (feed, delay in minutes, views) of a forward.
    type Copy<'a> = (&'a str, Option<i64>, Option<u64>);
    let rows: Vec<(&str, usize, bool, Vec<Copy>)> = digest
        .forwards
        .iter()
        .map(|f| {
            (
                f.origin.url.as_str(),
                f.channels,
                f.state_to_non_state,
                f.forwards
                    .iter()
                    .map(|c| (c.article.feed.as_str(), c.delay_minutes, c.views))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            // Two channels first; then by the origin's time.
            (
                GHOST,
                2,
                false,
                vec![("tg-c", None, None), ("tg-b", None, Some(50))]
            ),
            (
                "https://t.me/chan_a/10",
                1,
                true,
                vec![("tg-b", Some(60), Some(1200))]
            ),
            (
                "https://t.me/chan_b/20",
                1,
                false,
                vec![("tg-c", Some(180), Some(300))]
            ),
        ],
        "the forward of D+1 is outside the period; the forward without a link has no origin to group by"
    );
    let ghost = &digest.forwards[0].origin;
    assert_eq!(ghost.name, "Ghost <b>Channel</b>");
    assert_eq!(ghost.channel.as_deref(), Some("ghost"));
    assert!(ghost.article.is_none());
    let a = &digest.forwards[1].origin;
    assert_eq!(a.name, "Channel A (fixture)");
    assert_eq!(a.views, Some(5000));
    assert_eq!(a.article.as_ref().unwrap().affiliation, Affiliation::State);

    // The next day: only the late forward of A, 19 hours after it.
    let next = d + Duration::days(1);
    let later = digest::build_digest(&digest::load(&archive, None, next, next).unwrap(), &config);
    assert_eq!(later.forwards.len(), 1);
    assert_eq!(later.forwards[0].forwards[0].delay_minutes, Some(19 * 60));

    let json: serde_json::Value =
        serde_json::from_str(&digest::render(&digest, DigestFormat::Json)).unwrap();
    let f = &json["forwards"][1];
    assert_eq!(f["origin"]["url"], "https://t.me/chan_a/10");
    assert_eq!(f["origin"]["article"]["affiliation"], "state");
    assert_eq!(f["state_to_non_state"], true);
    assert_eq!(f["forwards"][0]["feed"], "tg-b");
    assert_eq!(f["forwards"][0]["source_name"], "Channel B (fixture)");
    assert_eq!(f["forwards"][0]["affiliation"], "unknown");
    assert_eq!(f["forwards"][0]["channel"], "chan_b");
    assert_eq!(f["forwards"][0]["delay_minutes"], 60);
    assert_eq!(f["forwards"][0]["views"], 1200);
    assert_eq!(
        json["forwards"][0]["forwards"][0]["delay_minutes"],
        serde_json::Value::Null
    );

    let md = digest::render(&digest, DigestFormat::Md);
    let section = &md[md.find("### Forwards").unwrap()..md.find("## Coverage").unwrap()];
    assert!(
        section.contains("- forwarded by 2 channels: [Ghost &lt;b\\>Channel&lt;/b\\> (@ghost)](https://t.me/ghost/99), not archived\n"),
        "{section}"
    );
    assert!(
        section.contains("- forwarded by 1 channel, **state to non-state**: [Post https://t.me/chan\\_a/10](https://t.me/chan_a/10) — Channel A (fixture) (state, RU, en), 2026-11-27T06:00:00Z; 5000 views\n"),
        "{section}"
    );
    assert!(
        section.contains("  - +60 min: [Post https://t.me/chan\\_b/20](https://t.me/chan_b/20) — Channel B (fixture) (unknown, -, en), 2026-11-27T07:00:00Z; 1200 views\n"),
        "{section}"
    );
    assert!(!md.contains("<b>"), "{md}");

    let html = digest::render(&digest, DigestFormat::Html);
    assert!(html.contains("<h3 id=\"forwards\">Forwards</h3>"));
    assert!(
        html.contains("Ghost &lt;b&gt;Channel&lt;/b&gt; (@ghost)</a>"),
        "{html}"
    );
    assert!(html
        .contains("<b>forwarded by 1 channel</b> <span class=\"spike\">state to non-state</span>"));
    assert!(!html.contains("<b>Channel"), "{html}");
}

#[test]
fn digest_without_forwards_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let articles: Vec<Article> = fixture(&config)
        .into_iter()
        .filter(|a| a.post.as_ref().is_none_or(|p| p.forwarded_from.is_none()))
        .collect();
    let d = day_d();
    let digest = digest::build_digest(
        &DigestData::from_articles(d, d, &articles, Default::default()),
        &config,
    );
    assert!(digest.forwards.is_empty());
    let md = digest::render(&digest, DigestFormat::Md);
    assert!(
        md.contains(
            "### Forwards\n\nNo post was forwarded in the period.\n\n## Changed and removed"
        ),
        "{md}"
    );
}

#[test]
fn reindex_fills_forwarded_from_of_an_older_index() {
    use tantivy::schema::{Schema, STORED, STRING};
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let articles = fixture(&config);
    // An index of schema 6 in what matters here: the article JSON stored, no `forwarded_from` field.
    let path = dir.path().join("tantivy");
    std::fs::create_dir_all(&path).unwrap();
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING);
    let url = b.add_text_field("url", STRING);
    let doc_field = b.add_text_field("doc", STORED);
    let index = tantivy::Index::create_in_dir(&path, b.build()).unwrap();
    let mut w: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
    for a in &articles {
        let mut d = tantivy::TantivyDocument::default();
        d.add_text(id, &a.id);
        d.add_text(url, &a.url);
        d.add_text(doc_field, serde_json::to_string(a).unwrap());
        w.add_document(d).unwrap();
    }
    w.commit().unwrap();
    drop(w);
    drop(index);
    std::fs::write(dir.path().join("index-schema-version"), "6\n").unwrap();

    let e = Archive::open(dir.path()).err().unwrap().to_string();
    let reads = format!(
        "index schema 6, this one reads {}",
        mediawatch::index::SCHEMA_VERSION
    );
    assert!(e.contains(&reads), "{e}");
    assert!(e.contains("mediawatch reindex"), "{e}");
    assert_eq!(
        mediawatch::index::reindex(dir.path(), &|_, _| {}).unwrap(),
        articles.len() as u64
    );
    let archive = Archive::open(dir.path()).unwrap();
    // Downstream is found through the rebuilt field.
    let from_a = chain(&archive, &tg("chan_a", 10));
    assert_eq!(from_a.downstream.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn article_page_shows_views_and_the_linked_origin() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut articles = fixture(&config);
    // A forward whose origin link is not http(s): shown as text, never as a link.
    let hostile = post(
        &config,
        "tg-c",
        &tg("chan_c", 40),
        at(15, 0),
        Some(9),
        Some(forward(
            "<script>alert(1)</script>",
            Some("evil"),
            Some("javascript:alert(2)"),
        )),
    );
    articles.push(hostile.clone());
    drop(archive_of(&config.index_path, &articles));
    let state = std::sync::Arc::new(mediawatch::web::AppState::new(
        config.clone(),
        Archive::open(&config.index_path).unwrap(),
        None,
    ));
    let router = mediawatch::web::router(state);

    let b1 = &articles[1];
    let page = crate::web::get(&router, &format!("/articles/{}", b1.id)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<dt>Telegram</dt><dd>@chan_b · 1200 views</dd>"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<dt>Forwarded from</dt><dd class=\"url\"><a href=\"https://t.me/chan_a/10\" rel=\"noopener noreferrer nofollow\">Channel A</a> (@chan_a)</dd>"),
        "{}",
        page.body
    );

    let page = crate::web::get(&router, &format!("/articles/{}", hostile.id)).await;
    assert_eq!(page.status, 200);
    assert!(
        !page.body.contains("javascript:alert(2)\""),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert(1)"), "{}", page.body);
    assert!(
        page.body.contains("<dt>Forwarded from</dt><dd class=\"url\">&#60;script&#62;alert(1)&#60;/script&#62; (@evil)</dd>"),
        "{}",
        page.body
    );

    // An RSS article: neither.
    let page = crate::web::get(&router, &format!("/articles/{}", articles[7].id)).await;
    assert!(!page.body.contains("<dt>Telegram</dt>"));
    assert!(!page.body.contains("Forwarded from"));
}

#[test]
fn digest_load_reads_only_origins_that_can_be_listed_and_still_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut articles = Vec::new();
    // 25 origins forwarded by B alone, then 21 forwarded by B and C: only the latter can be listed
    // (20 at most), the last of them by time left out.
    for i in 0..46u32 {
        let origin = format!("https://t.me/elsewhere/{i}");
        let f = Some(forward("Elsewhere", Some("elsewhere"), Some(&origin)));
        let t = at(1, 0) + Duration::minutes(i64::from(i));
        articles.push(post(
            &config,
            "tg-b",
            &tg("chan_b", 2000 + i),
            t,
            None,
            f.clone(),
        ));
        if i >= 25 {
            articles.push(post(&config, "tg-c", &tg("chan_c", 2000 + i), t, None, f));
        }
    }
    let archive = archive_of(dir.path(), &articles);
    let d = day_d();
    let data = digest::load(&archive, None, d, d).unwrap();
    assert_eq!(
        data.forwards.len(),
        42,
        "the single-channel origins are not read"
    );
    let loaded = digest::build_digest(&data, &config);
    let memory = digest::build_digest(
        &DigestData::from_articles(d, d, &articles, Default::default()),
        &config,
    );
    assert_eq!(loaded, memory);
    assert_eq!(loaded.forwards.len(), digest::TOP_CLUSTERS);
    assert!(loaded.forwards.iter().all(|f| f.channels == 2));
    assert_eq!(loaded.forwards[0].origin.url, "https://t.me/elsewhere/25");
    assert_eq!(loaded.forwards[19].origin.url, "https://t.me/elsewhere/44");
}
