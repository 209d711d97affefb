//! Attention share and compare (issue #28): `search --histogram --normalize`, `compare` (library, CLI,
//! web) on a constructed archive whose answers are counted here by brute force: shares are counts over
//! totals per bucket, compare series are the matching searches' histograms (also split by a field).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use mediawatch::config;
use mediawatch::index::Archive;
use mediawatch::model::{Affiliation, Article, CampaignHit, LangInfo};
use mediawatch::search::{self, By, CompareRequest, Interval, SearchRequest};
use mediawatch::web::{self, AppState};

use crate::web::get;

/// (feed, affiliation, country, lang)
const FEEDS: [(&str, Affiliation, &str, &str); 4] = [
    ("cn-state", Affiliation::State, "CN", "en"),
    ("ru-state", Affiliation::State, "RU", "ru"),
    ("tw-indie", Affiliation::Independent, "TW", "en"),
    ("gb-indie", Affiliation::Independent, "GB", "en"),
];

const CONFIG: &str = r#"
[index]
path = "index"

[digest]
out_dir = "digests"

[[feeds]]
id = "cn-state"
url = "http://cn.example/rss"
name = "Horizon Daily"
affiliation = "state"
country = "CN"

[[feeds]]
id = "ru-state"
url = "http://ru.example/rss"
name = "Northern Wire"
affiliation = "state"
country = "RU"

[[feeds]]
id = "tw-indie"
url = "http://tw.example/rss"
name = "Island Post"
affiliation = "independent"
country = "TW"

[[feeds]]
id = "gb-indie"
url = "http://gb.example/rss"
name = "Harbour Times"
affiliation = "independent"
country = "GB"

[[campaigns]]
id = "strait"
name = "Strait"
[campaigns.terms]
en = ["strait"]
"#;

/// Article `i`: its feed, day and words are fixed functions of `i`, so every count is known.
fn article(i: usize) -> Article {
    let (feed, affiliation, country, lang) = FEEDS[i % 4];
    // 70 days from Thursday 2026-01-01, several articles a day, feeds publishing unevenly.
    let day = (i * 13 + i / 7) % 70;
    let published = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).unwrap()
        + chrono::Duration::days(day as i64)
        + chrono::Duration::minutes(i as i64);
    let mut words = vec!["report"];
    if i % 3 == 0 {
        words.push("alpha");
    }
    if i % 5 == 0 {
        words.push("beta");
    }
    if i % 4 == 1 && i % 9 < 4 {
        words.push("alpha"); // the Russian feed says alpha more often
    }
    let text = format!("{} of the day number {i}.", words.join(" "));
    let url = format!("https://{feed}.example/a/{i}");
    Article {
        id: format!("{i:016x}"),
        url: url.clone(),
        final_url: url,
        feed: feed.into(),
        source_name: feed.to_uppercase(),
        affiliation,
        country: Some(country.into()),
        lang: LangInfo {
            lang: lang.into(),
            script: Some(if lang == "ru" { "Cyrl" } else { "Latn" }.into()),
            confidence: 1.0,
            reliable: true,
        },
        title: format!("Item {i}"),
        text,
        description: None,
        authors: vec![],
        published: Some(published),
        modified: None,
        fetched_at: published,
        canonical_url: None,
        site_name: None,
        image: None,
        section: None,
        tags: vec![],
        campaigns: if i % 7 == 0 {
            vec![CampaignHit {
                id: "strait".into(),
                score: 1.0,
                terms: vec![],
            }]
        } else {
            vec![]
        },
        http_status: 200,
        text_source: "page".into(),
        cluster: None,
        post: None,
        revision: None,
    }
}

const N: usize = 400;

struct Built {
    dir: tempfile::TempDir,
    config: PathBuf,
    archive: Archive,
    articles: Vec<Article>,
}

fn build() -> Built {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("feeds.toml");
    std::fs::write(&config, CONFIG).unwrap();
    let archive = Archive::open_or_create(&dir.path().join("index")).unwrap();
    let articles: Vec<Article> = (0..N).map(article).collect();
    let mut writer = archive.writer().unwrap();
    for (k, a) in articles.iter().enumerate() {
        writer.upsert(a).unwrap();
        if k % 150 == 149 {
            writer.commit().unwrap(); // several segments
        }
    }
    writer.commit().unwrap();
    drop(writer);
    archive.reload().unwrap();
    Built {
        dir,
        config,
        archive,
        articles,
    }
}

fn bucket_start(d: NaiveDate, interval: Interval) -> NaiveDate {
    match interval {
        Interval::Day => d,
        Interval::Week => d - chrono::Duration::days(i64::from(d.weekday().num_days_from_monday())),
        Interval::Month => NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap(),
    }
}

/// Articles kept by `keep`, counted per bucket.
fn brute(
    articles: &[Article],
    interval: Interval,
    keep: impl Fn(&Article) -> bool,
) -> BTreeMap<NaiveDate, u64> {
    let mut m = BTreeMap::new();
    for a in articles.iter().filter(|a| keep(a)) {
        *m.entry(bucket_start(a.dated_at().date_naive(), interval))
            .or_default() += 1;
    }
    m
}

fn has(a: &Article, word: &str) -> bool {
    a.text.split(' ').any(|w| w == word)
}

fn nonzero(rows: impl IntoIterator<Item = (NaiveDate, u64)>) -> BTreeMap<NaiveDate, u64> {
    rows.into_iter().filter(|&(_, c)| c > 0).collect()
}

fn histogram_counts(
    archive: &Archive,
    req: &SearchRequest,
    interval: Interval,
) -> BTreeMap<NaiveDate, u64> {
    nonzero(
        search::histogram(archive, req, interval)
            .unwrap()
            .into_iter()
            .map(|b| (b.start, b.count)),
    )
}

#[test]
fn shares_are_counts_over_the_totals_of_the_source_filters() {
    let b = build();
    for interval in [Interval::Day, Interval::Week, Interval::Month] {
        // lang and country are source filters (in the total); the campaign is not.
        let req = SearchRequest {
            query: "alpha".into(),
            lang: Some("en".into()),
            campaign: Some("strait".into()),
            ..Default::default()
        };
        let buckets = search::histogram_normalized(&b.archive, &req, interval).unwrap();
        let counts = brute(&b.articles, interval, |a| {
            has(a, "alpha") && a.lang.lang == "en" && a.campaigns.iter().any(|c| c.id == "strait")
        });
        let totals = brute(&b.articles, interval, |a| a.lang.lang == "en");
        assert!(!buckets.is_empty());
        assert_eq!(
            nonzero(buckets.iter().map(|b| (b.start, b.count))),
            counts,
            "{interval:?}"
        );
        for bucket in &buckets {
            let total = totals.get(&bucket.start).copied().unwrap_or(0);
            assert_eq!(bucket.total, total, "{interval:?} {}", bucket.start);
            assert!(bucket.count <= bucket.total);
            match bucket.share {
                Some(s) => assert_eq!(s, bucket.count as f64 / total as f64),
                None => assert_eq!(total, 0),
            }
        }
        // The plain histogram is the same buckets.
        let plain = search::histogram(&b.archive, &req, interval).unwrap();
        assert_eq!(
            plain.iter().map(|b| (b.start, b.count)).collect::<Vec<_>>(),
            buckets
                .iter()
                .map(|b| (b.start, b.count))
                .collect::<Vec<_>>()
        );
    }
    // Dates bound the totals too.
    let req = SearchRequest {
        query: "beta".into(),
        country: Some("RU".into()),
        since: Some(NaiveDate::from_ymd_opt(2026, 1, 20).unwrap()),
        until: Some(NaiveDate::from_ymd_opt(2026, 2, 10).unwrap()),
        ..Default::default()
    };
    let in_range = |a: &Article| {
        let d = a.dated_at().date_naive();
        a.country.as_deref() == Some("RU")
            && d >= NaiveDate::from_ymd_opt(2026, 1, 20).unwrap()
            && d <= NaiveDate::from_ymd_opt(2026, 2, 10).unwrap()
    };
    let totals = brute(&b.articles, Interval::Week, in_range);
    for bucket in search::histogram_normalized(&b.archive, &req, Interval::Week).unwrap() {
        assert_eq!(
            bucket.total,
            totals.get(&bucket.start).copied().unwrap_or(0)
        );
    }
}

#[test]
fn compare_series_are_the_searches_histograms_also_split_by_a_field() {
    let b = build();
    let queries = ["alpha", "beta", "alpha AND beta", ""];
    for by in [
        None,
        Some(By::Affiliation),
        Some(By::Feed),
        Some(By::Country),
        Some(By::Lang),
    ] {
        let req = CompareRequest {
            queries: queries.iter().map(|q| q.to_string()).collect(),
            filters: SearchRequest {
                lang: None,
                ..Default::default()
            },
            by,
            interval: Interval::Week,
            normalize: true,
        };
        let c = search::compare(&b.archive, &req).unwrap();
        // Every series on the same periods.
        let periods: Vec<NaiveDate> = c.series[0].rows.iter().map(|r| r.start).collect();
        assert!(c.series.iter().all(|s| s
            .rows
            .iter()
            .map(|r| r.start)
            .eq(periods.iter().copied())));
        let values: Vec<&str> = match by {
            None => vec![],
            Some(By::Affiliation) => vec!["independent", "state"],
            Some(By::Feed) => vec!["cn-state", "gb-indie", "ru-state", "tw-indie"],
            Some(By::Country) => vec!["CN", "GB", "RU", "TW"],
            Some(By::Lang) => vec!["en", "ru"],
        };
        let per_query = values.len().max(1);
        assert_eq!(c.series.len(), queries.len() * per_query, "{by:?}");
        for (k, s) in c.series.iter().enumerate() {
            let query = queries[k / per_query];
            assert_eq!(s.query, query);
            let mut search_req = SearchRequest {
                query: query.into(),
                ..Default::default()
            };
            let mut total_req = SearchRequest::default();
            if let Some(by) = by {
                let v = values[k % per_query];
                assert_eq!(s.by_value.as_deref(), Some(v));
                assert!(s.label.ends_with(&format!(" | {v}")), "{}", s.label);
                for r in [&mut search_req, &mut total_req] {
                    match by {
                        By::Affiliation => r.affiliation = Some(v.into()),
                        By::Feed => r.feed = Some(v.into()),
                        By::Country => r.country = Some(v.into()),
                        By::Lang => r.lang = Some(v.into()),
                    }
                }
            }
            let got = nonzero(s.rows.iter().map(|r| (r.start, r.count)));
            assert_eq!(
                got,
                histogram_counts(&b.archive, &search_req, Interval::Week),
                "{}",
                s.label
            );
            let totals = histogram_counts(&b.archive, &total_req, Interval::Week);
            for r in &s.rows {
                let t = totals.get(&r.start).copied().unwrap_or(0);
                assert_eq!(r.total, Some(t), "{} {}", s.label, r.start);
                assert_eq!(r.share, (t > 0).then(|| r.count as f64 / t as f64));
            }
        }
    }
    // Brute force once, to be sure the histograms compared with are right too.
    let req = CompareRequest {
        queries: vec!["alpha".into()],
        filters: SearchRequest::default(),
        by: Some(By::Affiliation),
        interval: Interval::Month,
        normalize: false,
    };
    let c = search::compare(&b.archive, &req).unwrap();
    let state = c
        .series
        .iter()
        .find(|s| s.label == "alpha | state")
        .unwrap();
    assert_eq!(
        nonzero(state.rows.iter().map(|r| (r.start, r.count))),
        brute(&b.articles, Interval::Month, |a| has(a, "alpha")
            && a.affiliation == Affiliation::State)
    );
    assert!(state
        .rows
        .iter()
        .all(|r| r.total.is_none() && r.share.is_none()));
}

fn mw(config: &Path, args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("mediawatch")
        .unwrap()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn cli_normalize_and_compare_shapes_and_errors() {
    let b = build();
    let config = b.config.as_path();

    // search --histogram --normalize: JSON buckets with count, total, share.
    let out = ok(&mw(
        config,
        &[
            "search",
            "alpha",
            "--histogram",
            "week",
            "--normalize",
            "--feed",
            "ru-state",
            "--format",
            "json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["histogram"]["normalized"], true);
    let totals = brute(&b.articles, Interval::Week, |a| a.feed == "ru-state");
    let counts = brute(&b.articles, Interval::Week, |a| {
        a.feed == "ru-state" && has(a, "alpha")
    });
    let buckets = v["histogram"]["buckets"].as_array().unwrap();
    assert!(!buckets.is_empty());
    for bucket in buckets {
        let start: NaiveDate = bucket["start"].as_str().unwrap().parse().unwrap();
        let c = counts.get(&start).copied().unwrap_or(0);
        let t = totals.get(&start).copied().unwrap_or(0);
        assert_eq!(bucket["count"], c);
        assert_eq!(bucket["total"], t);
        if t > 0 {
            assert_eq!(bucket["share"].as_f64().unwrap(), c as f64 / t as f64);
        } else {
            assert!(bucket["share"].is_null());
        }
    }
    // The table shows the share.
    let out = ok(&mw(
        config,
        &[
            "search",
            "alpha",
            "--histogram",
            "month",
            "--normalize",
            "--format",
            "table",
        ],
    ));
    assert!(
        out.contains("share of the archived articles under the same source filters, by month"),
        "{out}"
    );
    assert!(out.contains('%'), "{out}");
    // --normalize alone is a usage error naming --histogram.
    let out = mw(config, &["search", "alpha", "--normalize"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--histogram"));

    // compare --format csv: a header, one row per series and period.
    let out = ok(&mw(
        config,
        &[
            "compare",
            "--query",
            "alpha",
            "--query",
            "beta",
            "--by",
            "affiliation",
            "--normalize",
            "--format",
            "csv",
        ],
    ));
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("series,query,by_value,start,count,total,share")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    let weeks = brute(&b.articles, Interval::Week, |_| true).len();
    assert_eq!(rows.len(), 4 * weeks);
    let labels: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(labels[0], "alpha | independent");
    assert_eq!(labels[weeks], "alpha | state");
    assert_eq!(labels[3 * weeks], "beta | state");
    let state_alpha = brute(&b.articles, Interval::Week, |a| {
        has(a, "alpha") && a.affiliation == Affiliation::State
    });
    let state_all = brute(&b.articles, Interval::Week, |a| {
        a.affiliation == Affiliation::State
    });
    for r in &rows[weeks..2 * weeks] {
        let start: NaiveDate = r[3].parse().unwrap();
        let c = state_alpha.get(&start).copied().unwrap_or(0);
        let t = state_all.get(&start).copied().unwrap_or(0);
        assert_eq!(r[4], c.to_string());
        assert_eq!(r[5], t.to_string());
        if t > 0 {
            assert_eq!(r[6].parse::<f64>().unwrap(), c as f64 / t as f64);
        } else {
            assert_eq!(r[6], "");
        }
    }
    // --format json: the same numbers.
    let out = ok(&mw(
        config,
        &[
            "compare",
            "--query",
            "alpha",
            "--query",
            "beta",
            "--by",
            "affiliation",
            "--normalize",
            "--format",
            "json",
        ],
    ));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (
            v["interval"].as_str(),
            v["by"].as_str(),
            v["normalize"].as_bool()
        ),
        (Some("week"), Some("affiliation"), Some(true))
    );
    assert_eq!(v["series"].as_array().unwrap().len(), 4);
    assert_eq!(v["series"][1]["label"], "alpha | state");
    assert_eq!(v["series"][1]["rows"].as_array().unwrap().len(), weeks);
    let sum: u64 = v["series"][1]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, state_alpha.values().sum::<u64>());
    // Without --normalize, no totals.
    let out = ok(&mw(
        config,
        &[
            "compare",
            "--query",
            "alpha",
            "--format",
            "csv",
            "--interval",
            "month",
        ],
    ));
    assert!(out.lines().skip(1).all(|l| l.ends_with(",,")), "{out}");
    assert_eq!(out.lines().count(), 1 + 3); // January, February, March
                                            // The table.
    let out = ok(&mw(
        config,
        &[
            "compare", "--query", "alpha", "--query", "beta", "--lang", "en",
        ],
    ));
    assert!(out.starts_with("2 series by week"), "{out}");

    // Errors: a bad --by, too many queries, a query twice, a bad query: exit 2, saying what.
    let err = |args: &[&str]| {
        let out = mw(config, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = err(&["compare", "--query", "alpha", "--by", "colour"]);
    assert!(e.contains("colour") && e.contains("affiliation"), "{e}");
    let mut many = vec!["compare"];
    let qs: Vec<String> = (0..11).map(|i| format!("w{i}")).collect();
    for q in &qs {
        many.extend(["--query", q.as_str()]);
    }
    let e = err(&many);
    assert!(e.contains("at most 10 queries (11 given)"), "{e}");
    let e = err(&["compare", "--query", "alpha", "--query", "alpha"]);
    assert!(e.contains("given twice"), "{e}");
    let e = err(&["compare", "--query", "alpha", "--query", "foo:bar"]);
    assert!(e.contains("unknown field `foo`"), "{e}");
    let e = err(&["compare"]);
    assert!(e.contains("--query"), "{e}");
    drop(b.dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_compare_page_csv_api_and_the_share_timeline() {
    let b = build();
    let cfg = config::load(&b.config).unwrap();
    let archive = Archive::open(&cfg.index_path).unwrap();
    let state = std::sync::Arc::new(AppState::new(cfg, archive, None));
    let r = web::router(state);

    // The page: the form, one path per series, the table, the CSV and JSON links.
    let mut a = get(&r, "/compare?q=alpha&q=beta&q=&by=affiliation&normalize=1").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body = a.body.replace("&#38;", "&amp;");
    assert_eq!(
        a.body.matches("<path class=\"series\"").count(),
        4,
        "{}",
        a.body
    );
    assert!(a.body.contains("alpha | state"));
    assert!(
        a.body.contains(
            "href=\"/compare.csv?q=alpha&amp;q=beta&amp;by=affiliation&amp;normalize=1\""
        ),
        "{}",
        a.body
    );
    assert!(!a.body.contains("<script"));
    assert!(
        a.body.contains("href=\"/compare\""),
        "navigation links the page"
    );
    // Without queries: the form alone.
    let a = get(&r, "/compare").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("name=\"q\"") && !a.body.contains("<path class=\"series\""));

    // The CSV is the library's (and the CLI's) bytes.
    let a = get(&r, "/compare.csv?q=alpha&q=beta&by=affiliation&normalize=1").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let cli = ok(&mw(
        &b.config,
        &[
            "compare",
            "--query",
            "alpha",
            "--query",
            "beta",
            "--by",
            "affiliation",
            "--normalize",
            "--format",
            "csv",
        ],
    ));
    assert_eq!(a.body, cli);

    // The JSON API.
    let v = get(&r, "/api/compare?q=alpha&interval=month&lang=en")
        .await
        .json();
    assert_eq!(v["interval"], "month");
    assert_eq!(v["series"][0]["label"], "alpha");
    let want = brute(&b.articles, Interval::Month, |a| {
        has(a, "alpha") && a.lang.lang == "en"
    });
    let got: BTreeMap<NaiveDate, u64> = v["series"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["start"].as_str().unwrap().parse().unwrap(),
                r["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(nonzero(got), want);
    assert_eq!(
        v["links"]["csv"],
        "/compare.csv?q=alpha&interval=month&lang=en"
    );

    // Bad parameters are 400s naming them.
    for (uri, needle) in [
        ("/compare?q=alpha&by=colour", "by=\"colour\""),
        ("/api/compare?q=alpha&interval=year", "interval"),
        ("/compare.csv", "at least one query"),
        ("/api/compare?q=foo:bar", "parameter q"),
    ] {
        let a = get(&r, uri).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}: {}", a.body);
        assert!(
            a.body.contains(needle)
                || a.body.contains(&needle.replace('"', "&quot;"))
                || a.body.contains(&needle.replace('"', "&#34;")),
            "{uri}: {}",
            a.body
        );
    }
    let many: String = (0..11).map(|i| format!("q=w{i}&")).collect();
    let a = get(&r, &format!("/api/compare?{many}")).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.body.contains("at most 10 queries"), "{}", a.body);

    // The search timeline as shares, and the API's buckets with total and share.
    let a = get(&r, "/search?q=alpha&feed=ru-state&normalize=1").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.body
            .contains("Share of the archived articles under the same source filters"),
        "{}",
        a.body
    );
    assert!(a.body.contains("class=\"show-counts\""));
    let a = get(&r, "/search?q=alpha&feed=ru-state").await;
    assert!(a.body.contains("class=\"show-shares\""));
    assert!(a.body.contains("normalize=1"));
    let v = get(&r, "/api/search?q=alpha&feed=ru-state&normalize=1")
        .await
        .json();
    assert_eq!(v["timeline"]["normalized"], true);
    let interval = Interval::parse(v["timeline"]["interval"].as_str().unwrap()).unwrap();
    let totals = brute(&b.articles, interval, |a| a.feed == "ru-state");
    for bucket in v["timeline"]["buckets"].as_array().unwrap() {
        let start: NaiveDate = bucket["start"].as_str().unwrap().parse().unwrap();
        let t = totals.get(&start).copied().unwrap_or(0);
        assert_eq!(bucket["total"], t);
        let c = bucket["count"].as_u64().unwrap();
        if t > 0 {
            assert_eq!(bucket["share"].as_f64().unwrap(), c as f64 / t as f64);
        } else {
            assert!(bucket["share"].is_null());
        }
    }
    let v = get(&r, "/api/search?q=alpha").await.json();
    assert!(v["timeline"]["buckets"][0].get("total").is_none());
}
