//! The binary's contract: exit codes, config errors with file and line, `feeds add`, `check-config`,
//! `extract`, `search` output formats, `digest` files.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::{site_dir, site_server, write_config};

fn mw() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mediawatch"))
}

#[test]
fn repository_feeds_toml_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml");
    let config = mediawatch::config::load(&path).unwrap();
    assert!(config.feeds.len() >= 30, "{} feeds", config.feeds.len());
    assert!(config.campaigns.len() >= 2);
    mediawatch::tag::Tagger::new(&config.campaigns).unwrap();
    for aff in ["state", "independent"] {
        assert!(
            config.feeds.iter().any(|f| f.affiliation.as_str() == aff),
            "no {aff} feed"
        );
    }
    for lang in ["en", "zh", "ru"] {
        assert!(
            config
                .feeds
                .iter()
                .any(|f| f.language.as_deref() == Some(lang)),
            "no {lang} feed"
        );
        for c in &config.campaigns {
            assert!(
                c.terms.iter().any(|(l, _)| l == lang),
                "campaign {} has no {lang} terms",
                c.id
            );
        }
    }
    mw().arg("--config")
        .arg(&path)
        .arg("check-config")
        .assert()
        .success()
        .stdout(predicate::str::contains(": ok"))
        .stdout(predicate::str::contains(format!(
            "revisit:   {} feeds (affiliations state), at ages 1h, 6h, 1d, 7d, at most 500 per pass",
            config
                .feeds
                .iter()
                .filter(|f| f.affiliation == mediawatch::model::Affiliation::State)
                .count()
        )));
}

#[test]
fn config_errors_name_file_and_line_with_exit_2() {
    let cases: &[(&str, &str)] = &[
        ("[[feeds]]\nid = \"a\"\nurl = \"http://x.example/\"\n[[feeds\n", "feeds.toml:4:"),
        ("[fetch]\ntimeout = 3\n", "feeds.toml:2: unknown field `timeout`"),
        (
            "[[feeds]]\nid = \"a\"\nurl = \"http://x.example/\"\n\n[[feeds]]\nid = \"a\"\nurl = \"http://y.example/\"\n",
            "feeds.toml:6: duplicate feed id \"a\"",
        ),
        ("[[feeds]]\nid = \"a\"\nurl = \"file:///etc/passwd\"\n", "feeds.toml:3: feed \"a\": url \"file:///etc/passwd\": must be http or https"),
        ("[[campaigns]]\nid = \"empty\"\nname = \"E\"\n", "feeds.toml:2: campaign \"empty\" has no terms"),
    ];
    for (text, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feeds.toml");
        std::fs::write(&path, text).unwrap();
        for cmd in [&["check-config"][..], &["ingest"], &["search", "x"]] {
            mw().arg("--config")
                .arg(&path)
                .args(cmd)
                .assert()
                .code(2)
                .stderr(predicate::str::contains(*expected));
        }
    }
    mw().args(["--config", "/nonexistent/feeds.toml", "check-config"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/nonexistent/feeds.toml: cannot read config",
        ));
}

#[test]
fn feeds_add_appends_and_keeps_comments() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feeds.toml");
    let original = "# My monitoring list\n[index]\npath = \"index\" # default\n\n[[feeds]]\nid = \"a\"\nurl = \"http://a.example/rss\"\n";
    std::fs::write(&path, original).unwrap();
    mw().arg("--config")
        .arg(&path)
        .args([
            "feeds",
            "add",
            "https://b.example/feed.xml",
            "--id",
            "b-news",
            "--name",
            "B News",
            "--affiliation",
            "state",
            "--country",
            "ru",
            "--language",
            "ru",
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(original), "{text}");
    mw().arg("--config")
        .arg(&path)
        .args(["feeds", "list"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("b-news")
                .and(predicate::str::contains("state"))
                .and(predicate::str::contains("RU")),
        );
    // Refused: duplicate id, bad affiliation; the file is untouched.
    mw().arg("--config")
        .arg(&path)
        .args(["feeds", "add", "https://c.example/", "--id", "b-news"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("duplicate feed id"));
    mw().arg("--config")
        .arg(&path)
        .args([
            "feeds",
            "add",
            "https://c.example/",
            "--id",
            "c",
            "--affiliation",
            "govt",
        ])
        .assert()
        .code(2);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn extract_prints_one_json_object_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let page = site_dir().join("articles/zh-hans/weather.html");
    // A gzip copy too: .gz is decompressed.
    let gz = dir.path().join("weather.html.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &std::fs::read(&page).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    // `extract ARGS --format jsonl PAGE GZ`, one JSON value per line.
    let extract = |args: &[&str]| -> Vec<serde_json::Value> {
        let out = mw()
            .arg("extract")
            .args(args)
            .args(["--format", "jsonl"])
            .arg(&page)
            .arg(&gz)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let lines = extract(&[]);
    assert_eq!(lines.len(), 2);
    for (line, path) in lines.iter().zip([page.as_path(), gz.as_path()]) {
        assert_eq!(line["path"], path.display().to_string());
        assert_eq!(line["lang"], "zh");
        assert!(
            line["text"].as_str().unwrap().contains("寒潮蓝色预警"),
            "GBK decoded from the bytes"
        );
        assert!(line["title"].as_str().unwrap().contains("寒潮来袭"));
    }
    // --no-lang: the extraction stage alone, same text, no language keys.
    let alone = extract(&["--no-lang"]);
    assert_eq!(alone.len(), 2);
    for (a, full) in alone.iter().zip(&lines) {
        assert!(a.get("lang").is_none() && a.get("script").is_none(), "{a}");
        assert_eq!(a["text"], full["text"]);
        assert_eq!(a["title"], full["title"]);
        assert_eq!(a["path"], full["path"]);
    }
    mw().args(["extract", "/nonexistent.html"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("/nonexistent.html"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_then_search_formats_and_digest_files() {
    let server = site_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), 5, "");
    let run = |args: &[&str]| {
        let mut c = mw();
        c.arg("--config").arg(&config).args(args);
        c
    };
    tokio::task::block_in_place(|| {
        run(&["ingest"])
            .assert()
            .success()
            .stderr(predicate::str::contains("11 archived"));

        let out = run(&["search", "台独", "--format", "json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json["query"], "台独");
        assert_eq!(json["total"], 2);
        let hit = &json["hits"][0];
        for key in [
            "id",
            "url",
            "title",
            "feed",
            "source_name",
            "affiliation",
            "lang",
            "published",
            "campaigns",
            "score",
            "snippet",
        ] {
            assert!(!hit[key].is_null(), "hit lacks {key}: {hit}");
        }
        assert_eq!(hit["campaigns"][0], "fx-taiwan");

        let out = run(&[
            "search",
            "denazification OR денацификация OR 去纳粹化",
            "--format",
            "jsonl",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 3);

        let out = run(&["search", "", "--campaign", "fx-taiwan", "--format", "csv"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let mut rdr = csv::Reader::from_reader(&out[..]);
        assert_eq!(rdr.headers().unwrap().get(0), Some("id"));
        assert_eq!(rdr.records().count(), 4);

        run(&["search", "title:(unclosed", "--format", "json"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("bad query"));
        run(&["search", "x", "--since", "2026-13-01"])
            .assert()
            .code(2);

        let out_dir = dir.path().join("d");
        for format in ["md", "html", "json"] {
            run(&[
                "digest",
                "--date",
                "2026-11-25",
                "--format",
                format,
                "--out",
                out_dir.to_str().unwrap(),
            ])
            .assert()
            .success();
        }
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out_dir.join("2026-11-25.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(json["date"], "2026-11-25");
        assert_eq!(json["total"], 2);
        assert_eq!(json["campaigns"][0]["id"], "fx-taiwan");
        assert_eq!(json["campaigns"][0]["count"], 2);
        assert_eq!(
            json["campaigns"][0]["articles"].as_array().unwrap().len(),
            2
        );
        assert_eq!(json["feeds"].as_array().unwrap().len(), 4);
        let md = std::fs::read_to_string(out_dir.join("2026-11-25.md")).unwrap();
        assert!(md.contains("2 articles"), "{md}");
        let html = std::fs::read_to_string(out_dir.join("2026-11-25.html")).unwrap();
        assert!(
            html.contains("臺灣海峽") || html.contains("共軍宣布"),
            "{html}"
        );
    });
}

#[test]
fn opml_import_export_round_trip_and_feeds_status() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feeds.toml");
    std::fs::write(&path, "# keep me\n[[feeds]]\nid = \"a\"\nurl = \"http://a.example/rss\"\naffiliation = \"state\"\ncountry = \"CN\"\n").unwrap();
    let opml = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/opml/ill-formed.opml");
    mw().arg("--config")
        .arg(&path)
        .args(["feeds", "import-opml"])
        .arg(&opml)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("imported 3 feeds")
                .and(predicate::str::contains("skipped: line 7")),
        );
    let config = mediawatch::config::load(&path).unwrap();
    assert_eq!(config.feeds.len(), 4);
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .starts_with("# keep me\n"));
    // Importing again adds nothing: every URL is known.
    mw().arg("--config")
        .arg(&path)
        .args(["feeds", "import-opml"])
        .arg(&opml)
        .assert()
        .success()
        .stderr(predicate::str::contains("imported 0 feeds"));

    let out = mw()
        .arg("--config")
        .arg(&path)
        .args(["feeds", "export-opml"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let exported = mediawatch::opml::parse(&String::from_utf8(out).unwrap()).unwrap();
    assert_eq!(exported.feeds.len(), 4);
    assert_eq!(exported.feeds[0].id.as_deref(), Some("a"));
    assert_eq!(exported.feeds[0].affiliation.as_deref(), Some("state"));
    assert_eq!(exported.feeds[0].country.as_deref(), Some("CN"));

    // Status before any fetch: every feed "new", as table and json.
    mw().arg("--config")
        .arg(&path)
        .args(["feeds", "status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("new"));
    let out = mw()
        .arg("--config")
        .arg(&path)
        .args(["feeds", "status", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 4);
    assert_eq!(rows[0]["health"], "new");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_status_reports_failures_while_the_store_is_open() {
    let server = site_server().await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[[feeds]]\nid = \"gone\"\nurl = \"{}/nope.xml\"\n",
        server.uri()
    );
    let config = write_config(dir.path(), &server.uri(), 5, &extra);
    // Keep a writer open, as a running daemon would.
    let p = mediawatch::pipeline::open_from(&config).unwrap();
    mediawatch::pipeline::ingest_pass(&p, &Default::default())
        .await
        .unwrap();
    let out = tokio::task::block_in_place(|| {
        mw().arg("--config")
            .arg(&config)
            .args(["feeds", "status", "--format", "json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    });
    let rows: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let gone = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "gone")
        .unwrap();
    assert_eq!(gone["health"], "failing");
    assert_eq!(gone["consecutive_failures"], 1);
    assert!(gone["last_error"].as_str().unwrap().contains("404"));
    assert!(gone["backoff_until"].is_string());
    let en = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "fx-en")
        .unwrap();
    assert_eq!(en["health"], "ok");
    assert_eq!(en["articles_archived"], 3);
    assert!(en["next_due"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retag_recounts_the_archive_after_a_codebook_edit() {
    let server = site_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &server.uri(), 5, "");
    let run = |args: &[&str]| {
        let mut c = mw();
        c.arg("--config").arg(&config).args(args);
        c
    };
    let count = |campaign: &str| -> usize {
        let out = run(&[
            "search",
            "",
            "--campaign",
            campaign,
            "--format",
            "jsonl",
            "--limit",
            "100",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
        String::from_utf8(out).unwrap().lines().count()
    };
    tokio::task::block_in_place(|| {
        run(&["ingest"]).assert().success();
        assert_eq!(count("fx-taiwan"), 4);
        assert_eq!(count("fx-sport"), 0);
        // The codebook changes: a new campaign, and "separatis*" dropped from fx-taiwan.
        let text = std::fs::read_to_string(&config).unwrap();
        let text = text.replace(
            "\"Taiwan independence forces\", \"separatis*\"]",
            "\"Taiwan independence forces\"]",
        );
        let text = format!("{text}\n[[campaigns]]\nid = \"fx-sport\"\nname = \"Sport\"\n[campaigns.terms]\nen = [\"marathon\"]\nzh = [\"总冠军\"]\nru = [\"горнолыжный\"]\n");
        std::fs::write(&config, text).unwrap();
        let out = run(&["retag"])
            .assert()
            .success()
            .stderr(predicate::str::contains("retagged 11 articles"))
            .get_output()
            .stdout
            .clone();
        let table = String::from_utf8(out).unwrap();
        assert!(
            table
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["fx-sport", "0", "3"]),
            "{table}"
        );
        assert!(
            table
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["fx-taiwan", "4", "4"]),
            "{table}"
        );
        assert_eq!(
            count("fx-sport"),
            3,
            "marathon, baseball (總冠軍 folds to 总冠军), sochi"
        );
        // The drills article still matches through its other terms, now without separatis*.
        let out = run(&[
            "search",
            "\"joint combat readiness patrol\"",
            "--format",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let terms = json["hits"][0]["campaign_terms"][0]["terms"]
            .as_array()
            .unwrap();
        assert!(!terms.iter().any(|t| t == "separatis*"), "{terms:?}");
    });
}

#[test]
fn tag_runs_language_and_tagging_on_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("feeds.toml");
    std::fs::write(&config, "[[campaigns]]\nid = \"c\"\n[campaigns.terms]\nzh = [\"台独\"]\nru = [\"киевский режим\"]\n").unwrap();
    let txt = dir.path().join("a.txt");
    std::fs::write(
        &txt,
        "標題\n國台辦表示，堅決反對任何形式的「臺獨」分裂活動。",
    )
    .unwrap();
    let page = site_dir().join("articles/ru/peregovory.html");
    let out = mw()
        .arg("--config")
        .arg(&config)
        .arg("tag")
        .arg(&txt)
        .arg(&page)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["lang"], "zh");
    assert_eq!(lines[0]["script"], "Hant");
    assert_eq!(lines[0]["campaigns"][0]["id"], "c");
    assert_eq!(lines[0]["campaigns"][0]["terms"][0]["term"], "台独");
    assert_eq!(lines[1]["lang"], "ru");
    assert_eq!(
        lines[1]["campaigns"][0]["terms"][0]["term"],
        "киевский режим"
    );
}

#[test]
fn feeds_label_from_asd_fills_missing_labels_by_host() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("feeds.toml");
    let original = "# outlets\n[[feeds]]\nid = \"agency\" # keep\nurl = \"https://feeds.agency.example/rss\"\n\n[[feeds]]\nid = \"pub\"\nurl = \"https://www.public.example/rss\"\naffiliation = \"state\"\n\n[[feeds]]\nid = \"other\"\nurl = \"https://other.example/rss\"\n";
    std::fs::write(&config, original).unwrap();
    let csv = dir.path().join("matrix.csv");
    std::fs::write(
        &csv,
        "Region,Country,Media company,Main assets,URL,Typology,Status,Notes\n\
         Asia,China,\"Agency, Inc.\",Agency,https://www.agency.example/,SC,,\n\
         Europe,United Kingdom,Public Broadcaster,Public,https://public.example/,IP,,\n",
    )
    .unwrap();
    let out = mw()
        .arg("--config")
        .arg(&config)
        .args(["feeds", "label", "--from-asd"])
        .arg(&csv)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report = String::from_utf8(out).unwrap();
    assert!(report.contains("2 of 3 feeds matched"), "{report}");
    assert!(
        report.contains("config says state"),
        "a conflict is reported, not overwritten: {report}"
    );
    let c = mediawatch::config::load(&config).unwrap();
    let agency = c.feed("agency").unwrap();
    assert_eq!(agency.affiliation.as_str(), "state");
    assert_eq!(agency.typology.as_deref(), Some("SC"));
    assert_eq!(agency.country.as_deref(), Some("CN"));
    let public = c.feed("pub").unwrap();
    assert_eq!(
        public.affiliation.as_str(),
        "state",
        "a configured label is kept"
    );
    assert_eq!(public.typology.as_deref(), Some("IP"));
    assert_eq!(public.country.as_deref(), Some("GB"));
    assert_eq!(c.feed("other").unwrap().typology, None);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.starts_with("# outlets\n[[feeds]]\nid = \"agency\" # keep\n"),
        "{text}"
    );
}

#[test]
fn parse_feed_and_lang_survive_hostile_input() {
    // Issue #24 item 5: quick-xml panicked on this document (caught, but the panic and its backtrace
    // reached stderr); `lang` stopped at the first line that is not UTF-8.
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("p.xml");
    std::fs::write(
        &feed,
        b"\xe2\xa4\xc9\xa4\xae\xc0\xda\xa4\xea<?xml version=\"1.0\" encoding=\"utf-16\"?><rss/>",
    )
    .unwrap();
    let out = mw()
        .env("RUST_BACKTRACE", "1")
        .arg("parse-feed")
        .arg(&feed)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1), "{err}");
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["ok"], false);
    assert!(line.get("panicked").is_none(), "{line}");
    assert!(
        !line["error"].as_str().unwrap().contains("crashed"),
        "{line}"
    );

    let input = b"The government announced new measures on Tuesday.\n\xff\xfe\xc0 broken\r\n\
        \xd0\x9f\xd1\x80\xd0\xb0\xd0\xb2\xd0\xb8\xd1\x82\xd0\xb5\xd0\xbb\xd1\x8c\xd1\x81\xd1\x82\xd0\xb2\xd0\xbe \
        \xd0\xbe\xd0\xb1\xd1\x8a\xd1\x8f\xd0\xb2\xd0\xb8\xd0\xbb\xd0\xbe \xd0\xbe \xd0\xbd\xd0\xbe\xd0\xb2\xd1\x8b\xd1\x85 \
        \xd0\xbc\xd0\xb5\xd1\x80\xd0\xb0\xd1\x85.\n";
    let out = mw()
        .args(["lang", "--format", "jsonl"])
        .write_stdin(&input[..])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 2 is not UTF-8"), "{err}");
    let langs: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["lang"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(langs, ["en", "und", "ru"]);
}
