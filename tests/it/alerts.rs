//! Alerts (issue #27, first half): after a pass's commits, each alert's search runs among the new
//! articles only, its message goes to the store's outbox, and the outbox is delivered to a webhook
//! receiver on 127.0.0.1 (wiremock): body, signature, idempotency key, retries while the receiver is
//! down, 4xx recorded as failed, nothing sent twice; a spike alert fires once per spike.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use mediawatch::alert::deliver::Deliverer;
use mediawatch::alert::eval as alert_eval;
use mediawatch::pipeline::{self, PassOptions};
use mediawatch::search::{self, SearchRequest};
use mediawatch::store::DeliveryState;
use sha2::Sha256;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{
    free_port, mount, mw_with, one_item_rss, site_server, start_run, write_config,
};

/// An `[[alerts]]` entry: state media tagged fx-taiwan, posting to `webhook`.
fn alert(id: &str, webhook: &str, secret_env: Option<&str>) -> String {
    let secret = secret_env.map_or(String::new(), |s| format!("secret_env = \"{s}\"\n"));
    format!(
        "[[alerts]]\nid = \"{id}\"\nname = \"Alert {id}\"\nquery = \"\"\ncampaign = \"fx-taiwan\"\n\
         affiliation = \"state\"\nwebhook = \"{webhook}\"\n{secret}"
    )
}

/// The POSTs the receiver got.
async fn posts(receiver: &MockServer) -> Vec<wiremock::Request> {
    receiver
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.method == wiremock::http::Method::POST)
        .collect()
}

fn header(r: &wiremock::Request, name: &str) -> Option<String> {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_gets_the_new_matches_signed_once() {
    let site = site_server().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&receiver)
        .await;
    let var = "MW_TEST_ALERT_SECRET_SIGNED";
    std::env::set_var(var, "k3y-for-the-test");
    let dir = tempfile::tempdir().unwrap();
    let hook = format!("{}/hook", receiver.uri());
    let config = write_config(dir.path(), &site.uri(), 5, &alert("tw", &hook, Some(var)));
    let p = pipeline::open_from(&config).unwrap();

    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.articles_archived, 11, "{report}");
    assert_eq!(report.alert_messages, 1, "{report}");
    // Enqueued, not yet sent.
    assert!(posts(&receiver).await.is_empty());
    let deliverer = Deliverer::new("mediawatch-test").unwrap();
    let done = deliverer.deliver_due(&p.store, Utc::now()).await.unwrap();
    assert_eq!((done.delivered, done.retrying, done.failed), (1, 0, 0));

    let got = posts(&receiver).await;
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(
        header(r, "content-type").as_deref(),
        Some("application/json")
    );
    // The signature is the HMAC-SHA256 of the exact body under the variable's value.
    let mut mac = Hmac::<Sha256>::new_from_slice(b"k3y-for-the-test").unwrap();
    mac.update(&r.body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(header(r, "x-mediawatch-signature"), Some(expected));
    let key = header(r, "idempotency-key").unwrap();
    assert!(key.len() >= 16, "{key}");
    // The body: the alert, and exactly what `search` finds with the same query and filters (the
    // whole archive is new on the first pass): state media tagged fx-taiwan, #1, #4 and #9.
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["alert"], "tw");
    assert_eq!(body["name"], "Alert tw");
    assert_eq!(body["query"], "");
    assert!(body["fired_at"].as_str().unwrap().ends_with('Z'));
    let req = SearchRequest {
        campaign: Some("fx-taiwan".into()),
        affiliation: Some("state".into()),
        limit: 100,
        sort: search::Sort::Newest,
        ..Default::default()
    };
    let expected: Vec<String> = search::search(&p.archive, &req)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    let ids: Vec<&str> = body["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(ids.len(), 3);
    assert_eq!(
        (body["total"].as_u64(), body["more"].as_u64()),
        (Some(3), Some(0))
    );
    let first = &body["articles"][0];
    for k in [
        "url",
        "title",
        "feed",
        "source_name",
        "affiliation",
        "country",
        "lang",
        "published",
        "campaigns",
        "snippet",
    ] {
        assert!(!first[k].is_null(), "{k} missing in {first}");
    }

    // A second pass archives nothing new: no message, nothing sent again.
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (report.articles_archived, report.alert_messages),
        (0, 0),
        "{report}"
    );
    let done = deliverer
        .deliver_due(&p.store, Utc::now() + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(done.delivered + done.retrying + done.failed, 0);
    assert_eq!(posts(&receiver).await.len(), 1);
    let outbox = p.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].deliveries[0].state, DeliveryState::Delivered);
    assert_eq!(outbox[0].idempotency_key, key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_at_first_gets_every_message_later_once() {
    let site = site_server().await;
    // Nothing listens on the port yet: the first round cannot connect.
    let port = free_port();
    let hook = format!("http://127.0.0.1:{port}/hook");
    let dir = tempfile::tempdir().unwrap();
    let alerts = format!("{}{}", alert("one", &hook, None), alert("two", &hook, None));
    let config = write_config(dir.path(), &site.uri(), 5, &alerts);
    let p = pipeline::open_from(&config).unwrap();
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.alert_messages, 2, "{report}");
    let deliverer = Deliverer::new("mediawatch-test").unwrap();
    let t0 = Utc::now();
    let done = deliverer.deliver_due(&p.store, t0).await.unwrap();
    assert_eq!((done.delivered, done.retrying, done.failed), (0, 2, 0));
    for e in p.store.outbox().unwrap() {
        let d = &e.deliveries[0];
        assert_eq!((d.state, d.attempts), (DeliveryState::Pending, 1));
        assert!(
            d.last_error.as_deref().unwrap().contains("cannot reach"),
            "{d:?}"
        );
        assert!(d.next_attempt > t0, "{d:?}");
    }
    // Not due yet: nothing is attempted.
    let done = deliverer.deliver_due(&p.store, t0).await.unwrap();
    assert_eq!(done.delivered + done.retrying + done.failed, 0);

    // The receiver comes up on that port, answering 503 twice, then 200.
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let receiver = MockServer::builder().listener(listener).start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&receiver)
        .await;
    let done = deliverer
        .deliver_due(&p.store, t0 + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!((done.delivered, done.retrying, done.failed), (0, 2, 0));
    assert!(p.store.outbox().unwrap()[0].deliveries[0]
        .last_error
        .as_deref()
        .unwrap()
        .contains("503"));
    let done = deliverer
        .deliver_due(&p.store, t0 + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!((done.delivered, done.retrying, done.failed), (2, 0, 0));
    // Later rounds send nothing again.
    let done = deliverer
        .deliver_due(&p.store, t0 + Duration::days(3))
        .await
        .unwrap();
    assert_eq!(done.delivered + done.retrying + done.failed, 0);

    // Each message reached the receiver twice with a 503 and once with a 200, always with its own key.
    let got = posts(&receiver).await;
    assert_eq!(got.len(), 4);
    let mut by_key: HashMap<String, Vec<String>> = HashMap::new();
    for r in &got {
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        by_key
            .entry(header(r, "idempotency-key").unwrap())
            .or_default()
            .push(body["alert"].as_str().unwrap().to_string());
    }
    let mut alerts: Vec<(usize, String)> = by_key
        .values()
        .map(|v| {
            assert!(v.iter().all(|a| *a == v[0]), "one key, one message: {v:?}");
            (v.len(), v[0].clone())
        })
        .collect();
    alerts.sort();
    assert_eq!(alerts, vec![(2, "one".into()), (2, "two".into())]);
    let outbox = p.store.outbox().unwrap();
    assert!(outbox.iter().all(
        |e| e.deliveries[0].state == DeliveryState::Delivered && e.deliveries[0].attempts == 3
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_4xx_is_recorded_as_failed_and_not_retried() {
    let site = site_server().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(410))
        .mount(&receiver)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let hook = format!("{}/gone", receiver.uri());
    let config = write_config(dir.path(), &site.uri(), 5, &alert("tw", &hook, None));
    let p = pipeline::open_from(&config).unwrap();
    pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    let deliverer = Deliverer::new("mediawatch-test").unwrap();
    let done = deliverer.deliver_due(&p.store, Utc::now()).await.unwrap();
    assert_eq!((done.delivered, done.retrying, done.failed), (0, 0, 1));
    let d = &p.store.outbox().unwrap()[0].deliveries[0];
    assert_eq!(d.state, DeliveryState::Failed);
    assert!(d.last_error.as_deref().unwrap().contains("410"), "{d:?}");
    let done = deliverer
        .deliver_due(&p.store, Utc::now() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(done.delivered + done.retrying + done.failed, 0);
    assert_eq!(posts(&receiver).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_fires_for_new_articles_only_not_for_the_archive_a_retag_or_a_restart() {
    let site = site_server().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let dir = tempfile::tempdir().unwrap();
    // First the archive, with no alert.
    let config = write_config(dir.path(), &site.uri(), 5, "");
    {
        let p = pipeline::open_from(&config).unwrap();
        let report = pipeline::ingest_pass(&p, &PassOptions::default())
            .await
            .unwrap();
        assert_eq!(report.articles_archived, 11, "{report}");
        p.finish_merges().unwrap();
    }
    // Then an alert whose query matches old articles too, and a feed with one new article.
    mount(
        &site,
        "/feeds/extra.xml",
        200,
        &one_item_rss("/articles/extra.html", "Taiwan independence forces rebuked"),
        None,
        None,
    )
    .await;
    let hook = format!("{}/hook", receiver.uri());
    let extra = format!(
        "[[feeds]]\nid = \"fx-extra\"\nurl = \"{}/feeds/extra.xml\"\naffiliation = \"state\"\n\n\
         [[alerts]]\nid = \"tw\"\nquery = \"taiwan\"\nwebhook = \"{hook}\"\n",
        site.uri()
    );
    let config = write_config(dir.path(), &site.uri(), 5, &extra);
    let p = pipeline::open_from(&config).unwrap();
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (report.articles_archived, report.alert_messages),
        (1, 1),
        "{report}"
    );
    let outbox = p.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    let m = &outbox[0].message;
    assert_eq!((m.total, m.more), (1, 0));
    assert!(m.articles[0].url.ends_with("/articles/extra.html"), "{m:?}");
    assert_eq!(m.articles[0].feed, "fx-extra");
    // The archive does match the query elsewhere: the alert did not look there.
    let all = search::search(
        &p.archive,
        &SearchRequest {
            query: "taiwan".into(),
            limit: 100,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(all.total > 1, "{}", all.total);
    p.finish_merges().unwrap();
    drop(p);

    // A retag rewrites every article; the reopened pipeline fires nothing more, and its message is
    // still in the outbox, pending, after the "restart".
    let cfg = mediawatch::config::load(&config).unwrap();
    {
        let _lock = mediawatch::index::WriterLock::acquire(&cfg.index_path).unwrap();
        let archive = mediawatch::index::Archive::open(&cfg.index_path).unwrap();
        let tagger = mediawatch::tag::Tagger::new(&cfg.campaigns).unwrap();
        pipeline::retag_archive(&cfg, &archive, &tagger, &|_, _| {}).unwrap();
    }
    let p = pipeline::open_from(&config).unwrap();
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (report.articles_archived, report.alert_messages),
        (0, 0),
        "{report}"
    );
    let outbox = p.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].deliveries[0].state, DeliveryState::Pending);
    let done = Deliverer::new("t")
        .unwrap()
        .deliver_due(&p.store, Utc::now())
        .await
        .unwrap();
    assert_eq!(done.delivered, 1);
    assert_eq!(posts(&receiver).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_checks_lists_tests_and_shows_the_outbox() {
    let site = site_server().await;
    let dir = tempfile::tempdir().unwrap();
    // A receiver that is never there: the delivery stays pending with its error.
    let hook = format!("http://127.0.0.1:{}/hook", free_port());
    let var = "MW_TEST_ALERT_SECRET_NEVER_SET";
    let config = write_config(dir.path(), &site.uri(), 5, &alert("tw", &hook, Some(var)));

    let out = mw_with(&config).arg("check-config").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("alerts:    1"), "{stdout}");
    assert!(stdout.contains("tw "), "{stdout}");
    assert!(
        stdout.contains(&format!("environment variable {var} is not set")),
        "{stdout}"
    );

    let out = mw_with(&config).args(["alerts", "list"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains("campaign=fx-taiwan affiliation=state") && stdout.contains("(signed)"),
        "{stdout}"
    );

    let out = mw_with(&config).arg("ingest").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("alerts: 0 delivered, 1 to retry, 0 failed"),
        "{stderr}"
    );

    // `alerts test`: what it would send over the archive, with --since; nothing enqueued or sent.
    let out = mw_with(&config)
        .args(["alerts", "test", "tw", "--since", "2026-11-24"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(m["alert"], "tw");
    // Published on or after 24 Nov: #1 and #4 (#9 is from the 25th, RU state media: also in).
    assert_eq!(m["total"], 3, "{m}");
    let out = mw_with(&config)
        .args(["alerts", "test", "tw", "--since", "2026-11-26"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty());
    let out = mw_with(&config)
        .args(["alerts", "test", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    let out = mw_with(&config)
        .args(["alerts", "outbox"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(
        lines[0].contains("tw") && lines[0].contains("pending") && lines[0].contains(var),
        "{stdout}"
    );

    // A bad query is a config error with its line, for every command (exit status 2).
    let text = std::fs::read_to_string(&config).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("query = "))
        .unwrap()
        + 1;
    std::fs::write(&config, text.replace("query = \"\"", "query = \"(taiwan\"")).unwrap();
    for args in [&["check-config"][..], &["alerts", "list"], &["ingest"]] {
        let out = mw_with(&config).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "feeds.toml:{line}: alert \"tw\": query \"(taiwan\": bad query"
            )),
            "{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_delivers_and_a_sigkill_in_flight_loses_nothing_and_resends_nothing_acknowledged() {
    let site = site_server().await;
    let receiver = MockServer::start().await;
    // The receiver is slow: the daemon is killed while its POST waits for the answer.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(std::time::Duration::from_secs(5)))
        .mount(&receiver)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let hook = format!("{}/hook", receiver.uri());
    let config = write_config(dir.path(), &site.uri(), 5, &alert("tw", &hook, None));
    let (mut child, _stderr) = start_run(&config, &[]);
    let started = std::time::Instant::now();
    while posts(&receiver).await.is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no POST within 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let first = posts(&receiver).await;
    assert_eq!(first.len(), 1);
    let key = header(&first[0], "idempotency-key").unwrap();

    // Not acknowledged before the kill: the next start sends it again, with the same key.
    receiver.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let out = mw_with(&config).arg("ingest").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("alerts: 1 delivered"), "{stderr}");
    let again = posts(&receiver).await;
    assert_eq!(again.len(), 1);
    assert_eq!(header(&again[0], "idempotency-key").unwrap(), key);
    assert_eq!(again[0].body, first[0].body);

    // Acknowledged: a later start sends nothing, and the pass (nothing new) fires nothing.
    let (mut child, _stderr) = start_run(&config, &[]);
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let out = mw_with(&config).arg("ingest").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(posts(&receiver).await.len(), 1);
    let out = mw_with(&config)
        .args(["alerts", "outbox", "--all"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("delivered"), "{stdout}");
}

/// A feed of the spike test: `baseline` articles one a day over the 28 days before the last 24 hours,
/// and `recent` articles in the last hours, all about reunification (tagged fx-taiwan).
fn spike_feed(now: chrono::DateTime<Utc>, baseline: i64, recent: i64) -> String {
    let item = |name: String, at: chrono::DateTime<Utc>| {
        format!(
            "<item><title>Reunification {name}</title><link>/spike/{name}.html</link>\
             <guid>/spike/{name}.html</guid><pubDate>{}</pubDate>\
             <description>Talks on reunification, item {name}.</description></item>",
            at.to_rfc2822()
        )
    };
    let mut items = String::new();
    for i in 0..baseline {
        items += &item(format!("b{i}"), now - Duration::hours(36 + 24 * i));
    }
    for i in 0..recent {
        items += &item(format!("r{i}"), now - Duration::minutes(10 + 10 * i));
    }
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Spike</title>{items}</channel></rss>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spike_alert_fires_once_for_a_constructed_spike() {
    let site = site_server().await;
    let now = Utc::now();
    // One article a day for 28 days (λ = 1 a day), then 3 in the last hours (no spike: p ≈ 0.08), 5
    // (a spike: p ≈ 0.004), 7 (the same spike going on).
    for (recent, times) in [(3, Some(1)), (5, Some(1)), (7, None)] {
        let feed = spike_feed(now, 28, recent);
        mount(&site, "/feeds/spike.xml", 200, &feed, None, times).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[[feeds]]\nid = \"fx-spike\"\nurl = \"{}/feeds/spike.xml\"\naffiliation = \"state\"\n\
         language = \"en\"\n\n\
         [[alerts]]\nid = \"surge\"\nquery = \"\"\ncampaign = \"fx-taiwan\"\nfeed = \"fx-spike\"\n\
         on = \"spike\"\nwebhook = \"http://127.0.0.1:9/hook\"\n\n\
         [[alerts]]\nid = \"quiet\"\nquery = \"\"\ncampaign = \"fx-ukraine\"\non = \"spike\"\n\
         webhook = \"http://127.0.0.1:9/hook\"\n",
        site.uri()
    );
    let config = write_config(dir.path(), &site.uri(), 5, &extra);
    let p = pipeline::open_from(&config).unwrap();
    let pass = || async {
        pipeline::ingest_pass(&p, &PassOptions::default())
            .await
            .unwrap()
    };

    let report = pass().await;
    // The fixture's 11 and the spike feed's 31.
    assert_eq!(
        (report.articles_archived, report.alert_messages),
        (42, 0),
        "{report}"
    );
    assert!(p.store.outbox().unwrap().is_empty());

    let report = pass().await;
    assert_eq!(
        (report.articles_archived, report.alert_messages),
        (2, 1),
        "{report}"
    );
    let outbox = p.store.outbox().unwrap();
    assert_eq!(outbox.len(), 1);
    let m = &outbox[0].message;
    assert_eq!((m.alert.as_str(), m.total, m.more), ("surge", 5, 0));
    // The spike's articles, newest first: the last 24 hours' only, not the baseline's.
    let names: Vec<&str> = m
        .articles
        .iter()
        .map(|a| a.url.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        names,
        ["r0.html", "r1.html", "r2.html", "r3.html", "r4.html"]
    );

    // More articles while the spike goes on: still one message.
    let report = pass().await;
    assert_eq!(
        (report.articles_archived, report.alert_messages),
        (2, 0),
        "{report}"
    );
    assert_eq!(p.store.outbox().unwrap().len(), 1);

    // Two days on, the last 24 hours are empty: the spike is over (new articles make the alert test
    // again; the journaled ids need not be new to the archive). Back at today, the spike fires again.
    let ids: Vec<String> = m.articles.iter().map(|a| a.id.clone()).collect();
    let evaluate = |at| {
        p.store.journal_alert_batch(&ids).unwrap();
        alert_eval::evaluate(&p.archive, &p.store, &p.config.alerts, at).unwrap()
    };
    assert_eq!(evaluate(now + Duration::days(2)).messages, 0);
    assert_eq!(p.store.alert_marks().unwrap()["surge"].spike_since, None);
    let again = evaluate(Utc::now());
    assert_eq!((again.messages, again.articles), (1, 7));
    assert_eq!(p.store.outbox().unwrap().len(), 2);

    // `alerts test` shows the test's figures and the message a spike sends.
    let out = mw_with(&config)
        .args(["alerts", "test", "surge"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("7 matches in the last 24 hours, 28 in the 28 days before (λ = 1.00")
            && stderr.contains("a spike"),
        "{stderr}"
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (shown["alert"].as_str(), shown["total"].as_u64()),
        (Some("surge"), Some(7))
    );
    let out = mw_with(&config)
        .args(["alerts", "test", "quiet"])
        .output()
        .unwrap();
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("0 matches in the last 24 hours, 3 in the 28 days before"),
        "{out:?}"
    );
}

/// A feed of the batching test: articles n0..n{count-1} about reunification, each a minute newer.
fn batch_feed(count: usize) -> String {
    let items: String = (0..count)
        .rev()
        .map(|i| {
            format!(
                "<item><title>Reunification note n{i}</title><link>/batch/n{i}.html</link>\
                 <guid>/batch/n{i}.html</guid><pubDate>{}</pubDate>\
                 <description>Reunification, note n{i}.</description></item>",
                (Utc::now() - Duration::minutes(10 - i as i64)).to_rfc2822()
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Batch</title>{items}</channel></rss>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly_and_daily_alerts_send_one_message_per_period_with_what_was_held() {
    let site = site_server().await;
    // The feed's versions, one per pass: n0; n0-n1; n0-n2 (twice); then n0-n3.
    for (count, times) in [(1, Some(1)), (2, Some(1)), (3, Some(2)), (4, None)] {
        mount(
            &site,
            "/feeds/batch.xml",
            200,
            &batch_feed(count),
            None,
            times,
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut extra = format!(
        "[[feeds]]\nid = \"fx-batch\"\nurl = \"{}/feeds/batch.xml\"\naffiliation = \"state\"\n\
         language = \"en\"\n\n",
        site.uri()
    );
    for batch in ["hourly", "daily"] {
        extra += &format!(
            "[[alerts]]\nid = \"{batch}\"\nquery = \"reunification\"\nfeed = \"fx-batch\"\n\
             batch = \"{batch}\"\nwebhook = \"http://127.0.0.1:9/hook\"\n\n"
        );
    }
    let config = write_config(dir.path(), &site.uri(), 5, &extra);
    let p = pipeline::open_from(&config).unwrap();
    let pass = || async {
        pipeline::ingest_pass(&p, &PassOptions::default())
            .await
            .unwrap()
    };
    // The messages of one alert, each as its articles' names (newest first) and total.
    let sent = |alert: &str| -> Vec<(Vec<String>, usize)> {
        p.store
            .outbox()
            .unwrap()
            .into_iter()
            .filter(|e| e.message.alert == alert)
            .map(|e| {
                let names = e
                    .message
                    .articles
                    .iter()
                    .map(|a| {
                        a.url
                            .rsplit('/')
                            .next()
                            .unwrap()
                            .trim_end_matches(".html")
                            .to_string()
                    })
                    .collect();
                (names, e.message.total)
            })
            .collect()
    };
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // First pass: both alerts send their first message at once.
    let report = pass().await;
    assert_eq!(report.alert_messages, 2, "{report}");
    // Two more passes within the hour: what matches is held.
    for _ in 0..2 {
        let report = pass().await;
        assert_eq!(
            (report.articles_archived, report.alert_messages),
            (1, 0),
            "{report}"
        );
    }
    assert_eq!(sent("hourly"), [(names(&["n0"]), 1)]);
    assert_eq!(sent("daily"), [(names(&["n0"]), 1)]);

    // An hour later, a pass with nothing new: the hourly alert sends what it held; the daily one waits.
    p.advance_alert_clock(Duration::minutes(61));
    let report = pass().await;
    assert_eq!(
        (report.articles_archived, report.alert_messages),
        (0, 1),
        "{report}"
    );
    assert_eq!(
        sent("hourly"),
        [(names(&["n0"]), 1), (names(&["n2", "n1"]), 2)]
    );
    assert_eq!(sent("daily").len(), 1);

    // A day later, one more article: the hourly alert sends it alone, the daily one everything since
    // its first message.
    p.advance_alert_clock(Duration::days(1));
    let report = pass().await;
    assert_eq!(
        (report.articles_archived, report.alert_messages),
        (1, 2),
        "{report}"
    );
    assert_eq!(sent("hourly")[2], (names(&["n3"]), 1));
    assert_eq!(
        sent("daily"),
        [(names(&["n0"]), 1), (names(&["n3", "n2", "n1"]), 3)]
    );
    // And nothing more within the new period.
    assert_eq!(pass().await.alert_messages, 0);
}
