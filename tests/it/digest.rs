//! The digest on fixtures with known numbers: a 29-day history we construct here (our own texts, fixed
//! times), archived in a real tantivy index, read back by `digest::load` and compared with the same
//! aggregation in memory and with search counts; the spike rule on a constructed history; clusters,
//! coverage, snapshots (insta) for md and json; the html rendered by headless Chromium; the daemon's
//! once-a-day catch-up; the `digest --from/--to` command.
//!
//! Known numbers (day D = 2026-11-27):
//! - `taiwan`: 1 article a day on D-28..D-1 (xinhua), 8 on D (4 xinhua, 2 gt, 1 indie, 1 mirror) → spike.
//! - `ukraine`: 2 a day on D-28..D-1 (gt), 3 on D (2 gt, 1 indie: the hostile `<script>` title) → no spike.
//! - 2 untagged articles on D (indie).
//! - On D, total 13, from state 8, feeds delivered 4 of 5 (`dead` is failing since D-3, 12:00).
//! - One cluster: xinhua 06:00 first, mirror +90 min, indie +120 min → 3 outlets, state to non-state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use mediawatch::config::Config;
use mediawatch::digest::{self, DigestData, DigestFormat};
use mediawatch::index::Archive;
use mediawatch::model::{Article, CampaignHit, LangInfo, TermHit};
use mediawatch::revisit::{Compared, RevisitState, Schedule, StoredVersion};
use mediawatch::search::{self, SearchRequest};
use mediawatch::store::{FeedState, Store};

const CONFIG: &str = r#"
[index]
path = "index"

[digest]
out_dir = "digests"

[[feeds]]
id = "xinhua"
url = "http://xinhua.example/rss"
name = "Xinhua (fixture)"
affiliation = "state"
country = "CN"

[[feeds]]
id = "gt"
url = "http://gt.example/rss"
name = "Global Times (fixture)"
affiliation = "state"
country = "CN"

[[feeds]]
id = "indie"
url = "http://indie.example/rss"
name = "Taipei Indie (fixture)"
affiliation = "independent"
country = "TW"

[[feeds]]
id = "mirror"
url = "http://mirror.example/rss"
name = "Mirror Site (fixture)"

[[feeds]]
id = "dead"
url = "http://dead.example/rss"
name = "Dead Feed (fixture)"
affiliation = "independent"

[[campaigns]]
id = "taiwan"
name = "Taiwan \"separatists\""
[campaigns.terms]
en = ["separatist"]

[[campaigns]]
id = "ukraine"
name = "Denazification"
[campaigns.terms]
en = ["denazification"]
"#;

fn day_d() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
}

fn at(day: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(h, m, 0).unwrap())
}

fn config(dir: &Path) -> Config {
    mediawatch::config::parse(CONFIG, &dir.join("feeds.toml")).unwrap()
}

fn article(
    config: &Config,
    feed: &str,
    slug: &str,
    title: &str,
    published: DateTime<Utc>,
    campaign: Option<(&str, &str)>,
) -> Article {
    let spec = config.feed(feed).unwrap();
    let url = format!("http://{feed}.example/{slug}");
    Article {
        id: mediawatch::pipeline::article_id(&url),
        url: url.clone(),
        final_url: url,
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
        title: title.into(),
        text: format!("{title}. Body text written for the digest fixture."),
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
        campaigns: campaign
            .map(|(id, term)| {
                vec![CampaignHit {
                    id: id.into(),
                    score: 1.0,
                    terms: vec![TermHit {
                        term: term.into(),
                        lang: "en".into(),
                        count: 1,
                        positions: vec![],
                    }],
                }]
            })
            .unwrap_or_default(),
        http_status: 200,
        text_source: "page".into(),
        cluster: None,
        post: None,
        revision: None,
    }
}

/// The fixture archive described at the top of this file.
fn fixture_articles(config: &Config) -> Vec<Article> {
    let d = day_d();
    let tw = Some(("taiwan", "separatist"));
    let ua = Some(("ukraine", "denazification"));
    let mut v = Vec::new();
    for i in 1..=28 {
        let day = d - Duration::days(i);
        v.push(article(
            config,
            "xinhua",
            &format!("h/tw-{i}"),
            &format!("Separatist forces condemned, day -{i}"),
            at(day, 9, 0),
            tw,
        ));
        for j in 0..2 {
            v.push(article(
                config,
                "gt",
                &format!("h/ua-{i}-{j}"),
                &format!("Denazification goals restated, day -{i} #{j}"),
                at(day, 10 + j, 0),
                ua,
            ));
        }
    }
    // Day D: the spike. The first is the original of the cluster.
    let mut original = article(
        config,
        "xinhua",
        "d/original",
        "Separatist plot exposed in the strait",
        at(d, 6, 0),
        tw,
    );
    original.cluster = Some(original.id.clone());
    let mut copy1 = article(
        config,
        "mirror",
        "d/copy",
        "Separatist plot exposed in the strait",
        at(d, 7, 30),
        tw,
    );
    copy1.cluster = Some(original.id.clone());
    let mut copy2 = article(
        config,
        "indie",
        "d/copy",
        "Separatist plot exposed in the strait (reprint)",
        at(d, 8, 0),
        tw,
    );
    copy2.campaigns[0].score = 2.0;
    copy2.cluster = Some(original.id.clone());
    v.extend([original, copy1, copy2]);
    for i in 0..3 {
        v.push(article(
            config,
            "xinhua",
            &format!("d/tw-{i}"),
            &format!("Separatist rhetoric condemned #{i}"),
            at(d, 11 + i, 0),
            tw,
        ));
    }
    for i in 0..2 {
        v.push(article(
            config,
            "gt",
            &format!("d/tw-{i}"),
            &format!("Editorial: separatist illusions #{i}"),
            at(d, 14 + i, 0),
            tw,
        ));
        v.push(article(
            config,
            "gt",
            &format!("d/ua-{i}"),
            &format!("Denazification talks, day D #{i}"),
            at(d, 16 + i, 0),
            ua,
        ));
    }
    v.push(article(
        config,
        "indie",
        "d/hostile",
        "<script>alert('x')</script> [click](javascript:alert(1)) *bold* denazification",
        at(d, 18, 0),
        ua,
    ));
    v.push(article(
        config,
        "indie",
        "d/plain-1",
        "Weather in Taipei",
        at(d, 19, 0),
        None,
    ));
    v.push(article(
        config,
        "indie",
        "d/plain-2",
        "Night market opens",
        at(d, 20, 0),
        None,
    ));
    // After D: must not count.
    v.push(article(
        config,
        "xinhua",
        "after",
        "Separatist next day",
        at(d + Duration::days(1), 1, 0),
        tw,
    ));
    // Every article without a cluster is its own.
    for a in &mut v {
        if a.cluster.is_none() {
            a.cluster = Some(a.id.clone());
        }
    }
    v
}

fn feed_states(d: NaiveDate) -> BTreeMap<String, FeedState> {
    let ok = |t: DateTime<Utc>| FeedState {
        last_success: Some(t),
        last_attempt: Some(t),
        ..Default::default()
    };
    let mut m: BTreeMap<String, FeedState> = ["xinhua", "gt", "indie", "mirror"]
        .iter()
        .map(|f| (f.to_string(), ok(at(d + Duration::days(1), 0, 10))))
        .collect();
    m.insert(
        "dead".into(),
        FeedState {
            last_success: Some(at(d - Duration::days(3), 12, 0)),
            last_attempt: Some(at(d + Duration::days(1), 0, 10)),
            consecutive_failures: 14,
            last_error: Some("HTTP 503 from http://dead.example/rss <b>down</b>".into()),
            ..Default::default()
        },
    );
    m
}

/// The fixture archive in a folder: index and store (feed states), as `ingest` leaves them.
fn fixture_index(dir: &Path) -> (Config, Archive, Store) {
    let config = config(dir);
    let archive = Archive::open_or_create(&config.index_path).unwrap();
    let mut w = archive.writer().unwrap();
    for (i, a) in fixture_articles(&config).iter().enumerate() {
        w.upsert(a).unwrap();
        // Several segments, so per-segment ordinals are exercised.
        if i % 25 == 24 {
            w.commit().unwrap();
        }
    }
    w.commit().unwrap();
    drop(w);
    archive.reload().unwrap();
    let store = Store::open(&config.index_path).unwrap();
    let states: Vec<(String, FeedState)> = feed_states(day_d()).into_iter().collect();
    store.put_feed_states(&states).unwrap();
    (config, archive, store)
}

fn search_count(
    archive: &Archive,
    campaign: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
) -> usize {
    search::search(
        archive,
        &SearchRequest {
            campaign: campaign.map(str::to_string),
            since: Some(from),
            until: Some(to),
            limit: 1,
            ..Default::default()
        },
    )
    .unwrap()
    .total
}

#[test]
fn index_digest_has_the_known_numbers_and_equals_search_and_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (config, archive, store) = fixture_index(dir.path());
    let d = day_d();
    let data = digest::load(&archive, Some(&store), d, d).unwrap();
    let digest = digest::build_digest(&data, &config);

    // The same aggregation in memory gives the same digest.
    let memory = DigestData::from_articles(d, d, &fixture_articles(&config), feed_states(d));
    assert_eq!(digest, digest::build_digest(&memory, &config));

    // Headline.
    assert_eq!(digest.total, 13);
    assert_eq!(digest.total, search_count(&archive, None, d, d));
    assert_eq!(digest.from_state, 8);
    assert_eq!(digest.feeds_configured, 5);
    assert_eq!(digest.feeds_delivered, 4);
    assert_eq!(digest.spiking, ["taiwan"]);

    // Per campaign: counts equal search counts for the same day; baselines from the history.
    let tw = &digest.campaigns[0];
    assert_eq!(tw.id, "taiwan");
    assert_eq!(tw.count, 8);
    assert_eq!(tw.count, search_count(&archive, Some("taiwan"), d, d));
    assert_eq!(tw.baseline_28d, 1.0);
    assert_eq!(tw.baseline_7d, 1.0);
    assert_eq!(tw.expected, 1.0);
    assert!(tw.spike && tw.p_value < 1e-4, "{}", tw.p_value);
    assert_eq!(tw.change_pct, 700.0);
    assert_eq!(tw.from_state, 6);
    assert_eq!(tw.history.len(), 29);
    assert_eq!(tw.history[0].date, d - Duration::days(28));
    assert!(tw.history[..28].iter().all(|h| h.count == 1));
    assert_eq!(tw.history[28].count, 8);
    assert_eq!(
        tw.split.affiliation,
        BTreeMap::from([
            ("state".to_string(), 6),
            ("independent".to_string(), 1),
            ("unknown".to_string(), 1)
        ])
    );
    assert_eq!(
        tw.split.country,
        BTreeMap::from([
            ("CN".to_string(), 6),
            ("TW".to_string(), 1),
            ("-".to_string(), 1)
        ])
    );
    assert_eq!(tw.split.lang, BTreeMap::from([("en".to_string(), 8)]));
    assert_eq!(tw.articles.len(), 8);
    assert_eq!(tw.articles[0].feed, "indie", "highest score first");
    assert_eq!(tw.articles[0].terms, ["separatist"]);

    let ua = &digest.campaigns[1];
    assert_eq!(ua.count, 3);
    assert_eq!(ua.count, search_count(&archive, Some("ukraine"), d, d));
    assert_eq!(ua.baseline_28d, 2.0);
    assert_eq!(ua.change_pct, 50.0);
    assert_eq!(ua.from_state, 2);
    assert!(!ua.spike);

    // A week: counts still equal search counts.
    let week = digest::build_digest(
        &digest::load(&archive, Some(&store), d - Duration::days(6), d).unwrap(),
        &config,
    );
    assert_eq!(week.days, 7);
    assert_eq!(
        week.total,
        search_count(&archive, None, d - Duration::days(6), d)
    );
    assert_eq!(week.campaigns[0].count, 6 + 8);
    assert_eq!(week.campaigns[1].count, 12 + 3);

    // Amplification: the cluster with its first publisher and delays.
    assert_eq!(digest.amplification.len(), 1);
    let cl = &digest.amplification[0];
    assert_eq!(cl.outlets, 3);
    assert_eq!(cl.first.feed, "xinhua");
    assert_eq!(cl.id, cl.first.id);
    let copies: Vec<(&str, i64)> = cl
        .copies
        .iter()
        .map(|c| (c.article.feed.as_str(), c.delay_minutes))
        .collect();
    assert_eq!(copies, [("mirror", 90), ("indie", 120)]);
    assert!(cl.state_to_non_state);

    // Coverage: the failing feed, since its last success.
    assert_eq!(digest.coverage.len(), 1);
    let c = &digest.coverage[0];
    assert_eq!(c.feed, "dead");
    assert_eq!(
        c.status, "unhealthy",
        "14 failures in a row: the one health vocabulary"
    );
    assert_eq!(c.since.as_deref(), Some("2026-11-24T12:00:00Z"));
    assert_eq!(c.consecutive_failures, 14);
}

#[test]
fn baseline_and_spike_on_a_constructed_history() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let d = day_d();
    let mut data = DigestData {
        from: d,
        to: d,
        ..Default::default()
    };
    // taiwan: 28 days before D, 1 a day for the older 21 and 4 a day for the last 7; 12 on D.
    // ukraine: 3 a day on the 28 days and 6 on D.
    let mut tw = BTreeMap::new();
    let mut ua = BTreeMap::new();
    for i in 1..=28 {
        tw.insert(d - Duration::days(i), if i <= 7 { 4 } else { 1 });
        ua.insert(d - Duration::days(i), 3);
    }
    tw.insert(d, 12);
    ua.insert(d, 6);
    // Outside the baseline window: ignored.
    tw.insert(d - Duration::days(29), 1000);
    data.daily_campaign.insert("taiwan".into(), tw);
    data.daily_campaign.insert("ukraine".into(), ua);
    let digest = digest::build_digest(&data, &config);
    let tw = &digest.campaigns[0];
    assert_eq!(tw.count, 12);
    assert_eq!(tw.baseline_7d, 4.0);
    assert_eq!(tw.baseline_28d, (7.0 * 4.0 + 21.0) / 28.0);
    assert_eq!(tw.expected, 1.75);
    // P(X >= 12 | 1.75) is about 1e-6.
    assert!(tw.spike && tw.p_value < 1e-5, "{}", tw.p_value);
    let ua = &digest.campaigns[1];
    assert_eq!(ua.baseline_28d, 3.0);
    assert_eq!(ua.change_pct, 100.0);
    // P(X >= 6 | 3) ≈ 0.084: twice the usual, but not a spike.
    assert!(
        !ua.spike && (ua.p_value - 0.0839).abs() < 1e-3,
        "{}",
        ua.p_value
    );
    assert_eq!(digest.spiking, ["taiwan"]);
}

#[test]
fn hostile_titles_are_text_in_html_and_md() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let d = day_d();
    let mut articles = fixture_articles(&config);
    // Make the hostile article part of a campaign, so it is listed.
    for a in &mut articles {
        if a.url.ends_with("d/hostile") {
            a.campaigns = vec![CampaignHit {
                id: "ukraine".into(),
                score: 9.0,
                terms: vec![TermHit {
                    term: "<img src=x onerror=alert(2)>".into(),
                    lang: "en".into(),
                    count: 1,
                    positions: vec![],
                }],
            }];
            a.url = "javascript:alert(3)".into();
        }
    }
    let data = DigestData::from_articles(d, d, &articles, feed_states(d));
    let digest = digest::build_digest(&data, &config);
    let html = digest::render(&digest, DigestFormat::Html);
    assert!(!html.contains("<script"), "no script element at all");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(!html.contains("<img"));
    assert!(!html.contains("href=\"javascript"));
    assert!(
        html.contains("&lt;b&gt;down&lt;/b&gt;"),
        "errors are escaped too"
    );
    assert!(!html.contains("http-equiv=\"refresh\""));
    assert!(!html.contains("src=\"http"), "no external requests");
    let md = digest::render(&digest, DigestFormat::Md);
    assert!(md.contains("&lt;script"), "{md}");
    assert!(!md.contains("<script"));
    assert!(!md.replace("\\]", "").contains("](javascript"), "{md}");
    assert!(md.contains("\\*bold\\*"));
}

fn fixture_digest() -> digest::Digest {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let d = day_d();
    let data = DigestData::from_articles(d, d, &fixture_articles(&config), feed_states(d));
    digest::build_digest(&data, &config)
}

#[test]
fn snapshots_md_and_json() {
    let digest = fixture_digest();
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("digest_md", digest::render(&digest, DigestFormat::Md));
        insta::assert_json_snapshot!("digest_json", digest);
    });
}

/// Where the sample digest (md, html, json, png) of the fixtures is written: `target/sample-digest`.
fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("sample-digest")
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// Renders the html with headless Chromium to a PNG and reads its DOM text. Required (fails without
/// Chromium) when MEDIAWATCH_REQUIRE_CHROMIUM=1, as .ci/run sets; skipped with a reason otherwise.
#[test]
fn html_renders_in_headless_chromium() {
    let digest = fixture_digest();
    let out = sample_dir();
    let paths = digest::write_files(&digest, &DigestFormat::ALL, &out).unwrap();
    let html = paths
        .iter()
        .find(|p| p.extension().unwrap() == "html")
        .unwrap();
    let required = std::env::var("MEDIAWATCH_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
    let Some(browser) = chromium() else {
        assert!(
            !required,
            "MEDIAWATCH_REQUIRE_CHROMIUM=1 but no chromium on PATH"
        );
        eprintln!("skipped: no chromium on PATH (set MEDIAWATCH_REQUIRE_CHROMIUM=1 to require it)");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let output = std::process::Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(format!("file://{}", html.display()))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "chromium failed: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    };
    let png = out.join(format!("{}.png", digest.date));
    let _ = std::fs::remove_file(&png);
    run(&[
        &format!("--screenshot={}", png.display()),
        "--window-size=412,2400",
    ]);
    let bytes = std::fs::read(&png).expect("chromium wrote no PNG");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        bytes.len() > 10_000,
        "PNG suspiciously small: {}",
        bytes.len()
    );

    let dom = String::from_utf8(run(&["--dump-dom"]).stdout).unwrap();
    assert!(dom.contains("13 articles"), "{dom}");
    assert!(dom.contains("SPIKE"));
    assert!(dom.contains("Coverage"));
    assert!(dom.contains("Dead Feed (fixture)"));
    assert_eq!(dom.matches("<svg").count(), 2, "one chart per campaign");
    // The hostile title is a text node: serialized escaped, never an element.
    assert!(
        dom.contains("&lt;script&gt;alert('x')&lt;/script&gt;"),
        "{dom}"
    );
    assert!(!dom.contains("<script"));
}

#[test]
fn daemon_writes_yesterday_once_and_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("feeds.toml"), CONFIG).unwrap();
    {
        let (_, _, _) = fixture_index(dir.path());
    }
    let p = mediawatch::pipeline::open_from(&dir.path().join("feeds.toml")).unwrap();
    let out = dir.path().join("digests");
    let d = day_d();
    // Shortly after midnight of D+1: D's digest, in every format.
    let now = at(d + Duration::days(1), 0, 6);
    let days = mediawatch::daemon::write_due_digests(&p, now).unwrap();
    assert_eq!(days, [d]);
    for ext in ["md", "html", "json"] {
        assert!(out.join(format!("{d}.{ext}")).is_file(), "{ext}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(format!("{d}.json"))).unwrap())
            .unwrap();
    assert_eq!(json["total"], 13);
    assert_eq!(json["spiking"][0], "taiwan");
    // Once.
    assert!(
        mediawatch::daemon::write_due_digests(&p, now + Duration::hours(3))
            .unwrap()
            .is_empty()
    );
    assert_eq!(p.store.last_digest().unwrap(), Some(d));
    // Down for three days: the missed days are caught up, then nothing.
    let later = at(d + Duration::days(4), 9, 0);
    let days = mediawatch::daemon::write_due_digests(&p, later).unwrap();
    assert_eq!(
        days,
        [
            d + Duration::days(1),
            d + Duration::days(2),
            d + Duration::days(3)
        ]
    );
    assert!(out.join(format!("{}.md", d + Duration::days(3))).is_file());
    assert!(mediawatch::daemon::write_due_digests(&p, later)
        .unwrap()
        .is_empty());
}

#[test]
fn digest_command_period_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("feeds.toml"), CONFIG).unwrap();
    {
        let (_, _, _) = fixture_index(dir.path());
    }
    let config = dir.path().join("feeds.toml");
    let out = dir.path().join("out");
    Command::cargo_bin("mediawatch")
        .unwrap()
        .arg("--config")
        .arg(&config)
        .args([
            "digest",
            "--from",
            "2026-11-21",
            "--to",
            "2026-11-27",
            "--format",
            "json",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("2026-11-21_2026-11-27.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["days"], 7);
    assert_eq!(json["campaigns"][0]["count"], 14);
    assert_eq!(json["coverage"][0]["feed"], "dead");

    // --from after --to, and --from without --to, are usage errors.
    Command::cargo_bin("mediawatch")
        .unwrap()
        .arg("--config")
        .arg(&config)
        .args(["digest", "--from", "2026-11-27", "--to", "2026-11-21"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("is after"));
    Command::cargo_bin("mediawatch")
        .unwrap()
        .arg("--config")
        .arg(&config)
        .args(["digest", "--from", "2026-11-27"])
        .assert()
        .code(2);
    Command::cargo_bin("mediawatch")
        .unwrap()
        .arg("--config")
        .arg(&config)
        .args(["digest", "--from", "2020-01-01", "--to", "2026-11-27"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("at most 366"));
}

#[test]
fn coverage_lists_failing_and_silent_feeds_with_since() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let next = day_d() + Duration::days(1);
    // On D+1 only xinhua published ("Separatist next day").
    let data =
        DigestData::from_articles(next, next, &fixture_articles(&config), feed_states(day_d()));
    let digest = digest::build_digest(&data, &config);
    assert_eq!(digest.total, 1);
    assert_eq!(digest.feeds_delivered, 1);
    let rows: Vec<(&str, &str, Option<&str>)> = digest
        .coverage
        .iter()
        .map(|c| (c.feed.as_str(), c.status.as_str(), c.since.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            ("gt", "silent", Some("2026-11-27T17:00:00Z")),
            ("indie", "silent", Some("2026-11-27T20:00:00Z")),
            ("mirror", "silent", Some("2026-11-27T07:30:00Z")),
            ("dead", "unhealthy", Some("2026-11-24T12:00:00Z")),
        ]
    );
    // A feed the store has never seen and that has no article.
    let mut states = feed_states(day_d());
    states.remove("dead");
    let data = DigestData::from_articles(next, next, &fixture_articles(&config), states);
    let digest = digest::build_digest(&data, &config);
    let dead = digest.coverage.iter().find(|c| c.feed == "dead").unwrap();
    assert_eq!((dead.status.as_str(), dead.since.as_deref()), ("new", None));
}

/// A kept version of a fixture article.
fn version(
    number: u32,
    fetched_at: DateTime<Utc>,
    title: &str,
    text: &str,
    campaigns: &[&str],
) -> StoredVersion {
    let fields = Compared::new(title, text, None, &[]);
    StoredVersion {
        number,
        fetched_at,
        recorded_at: fetched_at,
        http_status: 200,
        final_url: String::new(),
        fields_sha256: fields.sha256(),
        fields,
        snapshot_sha256: None,
        campaigns: campaigns
            .iter()
            .map(|id| CampaignHit {
                id: id.to_string(),
                score: 1.0,
                terms: vec![],
            })
            .collect(),
        changed: vec![],
    }
}

/// Revisit rows and versions in the fixture store (day D = 2026-11-27):
/// - state `xinhua d/tw-2`: version 2 on D-1 (outside), back to version 1 on D 09:00 → listed;
/// - state `gt d/ua-0`: removed (404) on D 12:00 → listed;
/// - state `xinhua d/tw-0`: version 2 on D 22:00, the campaign term gone → listed;
/// - independent `indie d/plain-1`: headline edited on D 21:00 → listed after the state ones;
/// - a `mirror` article no longer in the index, removed on D 23:00 → listed last (unknown affiliation);
/// - state `xinhua d/tw-1` edited on D-1 and `gt d/tw-1` removed on D+1: outside the period, not listed.
fn fixture_changes(store: &Store) {
    let d = day_d();
    let url = |feed: &str, slug: &str| format!("http://{feed}.example/{slug}");
    let row = |feed: &str, slug: &str| {
        let u = url(feed, slug);
        (
            mediawatch::pipeline::article_id(&u),
            RevisitState::new(&u, feed, at(d, 0, 0), None, None),
        )
    };
    let mut rows = Vec::new();
    let mut versions = Vec::new();
    let mut edited = |feed: &str,
                      slug: &str,
                      v1: (&str, &str, &[&str]),
                      v2: (&str, &str, &[&str]),
                      t: DateTime<Utc>| {
        let (id, mut s) = row(feed, slug);
        let a = version(1, at(d, 0, 5), v1.0, v1.1, v1.2);
        let b = version(2, t, v2.0, v2.1, v2.2);
        s.hashes = vec![a.fields_sha256.clone(), b.fields_sha256.clone()];
        s.current = 2;
        s.edited_at = Some(t);
        versions.push((id.clone(), a));
        versions.push((id.clone(), b));
        (id, s)
    };
    let tw: &[&str] = &["taiwan"];
    rows.push(edited(
        "xinhua",
        "d/tw-0",
        (
            "Separatist rhetoric condemned #0",
            "Separatist rhetoric.",
            tw,
        ),
        ("Separatist rhetoric condemned #0", "Rhetoric.", &[]),
        at(d, 22, 0),
    ));
    rows.push(edited(
        "indie",
        "d/plain-1",
        ("Weather in Taipei", "Sunny.", &[]),
        ("Storm warning in Taipei", "Sunny.", &[]),
        at(d, 21, 0),
    ));
    let (id, mut s) = edited(
        "xinhua",
        "d/tw-2",
        ("Separatist rhetoric condemned #2", "Text.", tw),
        ("Rhetoric condemned #2", "Text.", tw),
        at(d - Duration::days(1), 10, 0),
    );
    s.returns = vec![(at(d, 9, 0), 1)];
    s.current = 1;
    s.edited_at = Some(at(d, 9, 0));
    rows.push((id, s));
    rows.push(edited(
        "xinhua",
        "d/tw-1",
        ("Separatist rhetoric condemned #1", "Text.", tw),
        ("Separatist rhetoric condemned #1 (updated)", "Text.", tw),
        at(d - Duration::days(1), 23, 59),
    ));
    for (feed, slug, t) in [
        ("gt", "d/ua-0", at(d, 12, 0)),
        ("mirror", "gone-from-index", at(d, 23, 0)),
        ("gt", "d/tw-1", at(d + Duration::days(1), 0, 0)),
    ] {
        let (id, mut s) = row(feed, slug);
        s.removed_at = Some(t);
        s.removed_why = Some("HTTP 404".into());
        rows.push((id, s));
    }
    // An unchanged article's row: never listed.
    rows.push(row("gt", "d/ua-1"));
    store
        .add_revisit_states(&rows, &Schedule::default())
        .unwrap();
    let versions: Vec<(String, StoredVersion, Option<&mediawatch::model::Page>)> =
        versions.into_iter().map(|(id, v)| (id, v, None)).collect();
    store
        .commit_revisits(&[], &versions, &Schedule::default())
        .unwrap();
}

/// The part of `text` from `start` up to (not including) `end`.
fn section<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).expect(start);
    let to = from + text[from..].find(end).expect(end);
    &text[from..to]
}

#[test]
fn changed_and_removed_lists_the_periods_edits_and_removals_state_first() {
    let dir = tempfile::tempdir().unwrap();
    let (config, archive, store) = fixture_index(dir.path());
    fixture_changes(&store);
    let d = day_d();
    let digest = digest::build_digest(
        &digest::load(&archive, Some(&store), d, d).unwrap(),
        &config,
    );
    let c = &digest.changes;
    assert!(c.tracked);
    let listed: Vec<(&str, &str, &str)> = c
        .articles
        .iter()
        .map(|a| {
            (
                a.article.feed.as_str(),
                a.article.url.rsplit(".example/").next().unwrap(),
                a.summary.as_str(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("xinhua", "d/tw-2", "title changed"),
            ("gt", "d/ua-0", "removed (HTTP 404)"),
            ("xinhua", "d/tw-0", "text changed; lost campaign taiwan"),
            ("indie", "d/plain-1", "title changed"),
            ("mirror", "gone-from-index", "removed (HTTP 404)"),
        ],
        "state outlets first, then by time; nothing from outside the period"
    );
    assert_eq!(c.count, 5);
    assert_eq!(c.articles[0].versions_shown, [1]);
    assert_eq!(c.articles[2].campaigns_lost, ["taiwan"]);
    assert_eq!(
        c.articles[2].article.title,
        "Separatist rhetoric condemned #0"
    );
    assert_eq!(c.articles[2].changed_at, "2026-11-27T22:00:00Z");
    // Not in the index: named by its URL, its outlet from the config.
    assert_eq!(
        c.articles[4].article.title,
        "http://mirror.example/gone-from-index"
    );
    assert_eq!(c.articles[4].article.source_name, "Mirror Site (fixture)");

    // The day before holds only the edits found then; the day after only the removal found then.
    let before = digest::build_digest(
        &digest::load(
            &archive,
            Some(&store),
            d - Duration::days(1),
            d - Duration::days(1),
        )
        .unwrap(),
        &config,
    );
    let urls = |dg: &digest::Digest| -> Vec<String> {
        dg.changes
            .articles
            .iter()
            .map(|a| a.article.url.clone())
            .collect()
    };
    assert_eq!(
        urls(&before),
        [
            "http://xinhua.example/d/tw-2",
            "http://xinhua.example/d/tw-1"
        ]
    );
    let after = digest::build_digest(
        &digest::load(
            &archive,
            Some(&store),
            d + Duration::days(1),
            d + Duration::days(1),
        )
        .unwrap(),
        &config,
    );
    assert_eq!(urls(&after), ["http://gt.example/d/tw-1"]);

    let md = digest::render(&digest, DigestFormat::Md);
    let html = digest::render(&digest, DigestFormat::Html);
    insta::with_settings!({snapshot_path => "../snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("digest_changes_md", section(&md, "## Changed and removed", "## Coverage"));
        insta::assert_snapshot!(
            "digest_changes_html",
            section(&html, "<h2 id=\"changes\">", "<h2 id=\"coverage\">")
        );
        insta::assert_json_snapshot!("digest_changes_json", digest.changes);
    });
    // The JSON keeps every key it had and adds `changes`.
    let json: serde_json::Value =
        serde_json::from_str(&digest::render(&digest, DigestFormat::Json)).unwrap();
    for key in [
        "date",
        "from",
        "to",
        "days",
        "total",
        "from_state",
        "state_share",
        "feeds_configured",
        "feeds_delivered",
        "spiking",
        "spike_rule",
        "campaigns",
        "amplification",
        "forwards",
        "coverage",
        "feeds",
        "changes",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
}
