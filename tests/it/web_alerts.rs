//! The alerts in the web workspace (issue #27), at the router level like `web.rs`: `/alerts` and its
//! JSON twin show each configured alert with its last messages and their delivery state, read from the
//! store's outbox; `/alerts/<id>.atom` is a valid Atom 1.0 feed (one entry per message) for alerts with
//! `atom = true`, with archived text as text and only http(s) links, and a 404 otherwise. The messages
//! are made by `alert::message` from the fixture archive's real search hits, one with a hostile title,
//! snippet and `javascript:` URL.

use axum::http::{header, StatusCode};
use chrono::{TimeZone, Utc};
use mediawatch::config;
use mediawatch::index::Archive;
use mediawatch::model::AlertMessage;
use mediawatch::store::{Delivery, DeliveryState, OutboxEntry, Store};

use crate::web::{app, fixture, get, Fixture};

const ALERTS: &str = r#"
[[alerts]]
id = "reunify"
name = "State media on <reunification>"
query = "reunification"
affiliation = "state"
webhook = "https://hooks.example.org/services/T0/s3cret-path"
atom = true

[[alerts]]
id = "quiet"
name = "Quiet"
query = "nothing"
webhook = "http://127.0.0.1:9/hook"
"#;

const HOSTILE_SNIPPET: &str = "<script>alert('snippet')</script> & reunification";

fn delivery(target: &str, state: DeliveryState, attempts: u32, error: Option<&str>) -> Delivery {
    Delivery {
        channel: "webhook".into(),
        target: target.into(),
        secret_env: None,
        state,
        attempts,
        next_attempt: Utc.with_ymd_and_hms(2026, 12, 1, 10, 5, 0).unwrap(),
        last_error: error.map(str::to_string),
        done_at: (state != DeliveryState::Pending)
            .then(|| Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 1).unwrap()),
    }
}

/// The web fixture with [`ALERTS`] added to its config.
fn with_alert_config() -> Fixture {
    let mut f = fixture();
    let cfg = f.dir.path().join("feeds.toml");
    let text = std::fs::read_to_string(&cfg).unwrap() + ALERTS;
    std::fs::write(&cfg, text).unwrap();
    f.config = config::load(&cfg).unwrap();
    f
}

/// The web fixture with the alerts added to its config and three messages in its outbox: two of
/// `reunify` (the first holds the hostile article; delivered, then pending after errors) and one of an
/// alert no longer in the config.
fn with_alerts() -> (Fixture, Vec<String>) {
    let f = with_alert_config();
    let spec = f.config.alerts[0].clone();

    let archive = Archive::open(&f.config.index_path).unwrap();
    let found = mediawatch::search::search(&archive, &mediawatch::alert::request(&spec)).unwrap();
    assert_eq!(found.total, 2, "the two state articles on reunification");
    let fired = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
    let mut first = mediawatch::alert::message(&spec, found.hits.clone(), 3, fired);
    for a in &mut first.articles {
        if a.id == f.ids.hostile {
            a.url = "javascript:alert(7)".into();
            a.snippet = HOSTILE_SNIPPET.into();
        }
    }
    assert!(first.articles.iter().any(|a| a.id == f.ids.hostile));
    let en_only: Vec<_> = found
        .hits
        .into_iter()
        .filter(|h| h.id == f.ids.en)
        .collect();
    let second = mediawatch::alert::message(&spec, en_only, 1, fired + chrono::Duration::hours(1));
    let gone = AlertMessage {
        alert: "gone".into(),
        name: "Removed alert".into(),
        ..second.clone()
    };
    let hook = spec.webhook.as_ref().unwrap().to_string();
    let keys: Vec<String> = (0..3).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let entries = [
        (first, delivery(&hook, DeliveryState::Delivered, 1, None)),
        (
            second,
            delivery(
                &hook,
                DeliveryState::Pending,
                2,
                Some(&format!(
                    "error sending request for url ({hook}): connection refused"
                )),
            ),
        ),
        (gone, delivery(&hook, DeliveryState::Failed, 1, Some("410"))),
    ];
    let store = Store::open(&f.config.index_path).unwrap();
    for (i, (message, d)) in entries.into_iter().enumerate() {
        store
            .put_outbox_entry(&OutboxEntry {
                seq: i as u64 + 1,
                created_at: fired,
                idempotency_key: keys[i].clone(),
                message,
                deliveries: vec![d],
            })
            .unwrap();
    }
    (f, keys)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_page_shows_each_alert_its_messages_and_their_deliveries() {
    let (f, _) = with_alerts();
    let (r, _) = app(&f, None);
    let page = get(&r, "/alerts").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    for needle in [
        "State media on &#60;reunification&#62;",
        "href=\"/alerts\"",
        "href=\"/alerts/reunify.atom\"",
        "href=\"/search?q=reunification&#38;affiliation=state\"",
        &format!("href=\"/articles/{}\"", f.ids.en),
        "3 matching (1 not in the message)",
        "delivered",
        "pending",
        "2 attempt(s), next 2026-12-01T10:05:00Z",
        "webhook https://hooks.example.org",
        "error sending request for url (https://hooks.example.org): connection refused",
        "Quiet",
        "No message yet.",
    ] {
        assert!(body.contains(needle), "no {needle:?} in\n{body}");
    }
    let lower = body.to_ascii_lowercase();
    for bad in ["<script", "s3cret", "javascript:", "removed alert"] {
        assert!(!lower.contains(bad), "{bad:?} in\n{body}");
    }

    let api = get(&r, "/api/alerts").await;
    assert_eq!(api.status, StatusCode::OK);
    let api: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let alerts = api.as_array().unwrap();
    assert_eq!(alerts.len(), 2, "configured alerts only: {api}");
    let reunify = &alerts[0];
    assert_eq!(reunify["id"], "reunify");
    assert_eq!(reunify["atom"], "/alerts/reunify.atom");
    assert_eq!(reunify["messages_kept"], 2);
    let seqs: Vec<u64> = reunify["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [2, 1], "newest first");
    assert_eq!(reunify["messages"][0]["deliveries"][0]["state"], "pending");
    assert_eq!(
        reunify["messages"][1]["deliveries"][0]["state"],
        "delivered"
    );
    assert_eq!(reunify["messages"][1]["total"], 3);
    assert_eq!(alerts[1]["atom"], serde_json::Value::Null);
    assert!(!api.to_string().contains("s3cret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_with_atom_has_a_valid_feed_of_its_messages_and_others_404() {
    let (f, keys) = with_alerts();
    let (r, _) = app(&f, None);
    let atom = get(&r, "/alerts/reunify.atom").await;
    assert_eq!(atom.status, StatusCode::OK, "{}", atom.body);
    assert!(atom.headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    // Archived text is escaped: no markup and no javascript: link in the XML itself.
    let lower = atom.body.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "{}", atom.body);
    assert!(!lower.contains("javascript:"), "{}", atom.body);
    assert!(!atom.body.contains("s3cret"));

    let feed = feed_rs::parser::parse(atom.body.as_bytes()).expect("valid Atom");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.id, "urn:mediawatch:alert:reunify");
    assert!(feed
        .title
        .as_ref()
        .unwrap()
        .content
        .contains("State media on <reunification>"));
    // One entry per message, newest first, each under its message's idempotency key.
    assert_eq!(feed.entries.len(), 2);
    assert_eq!(feed.entries[0].id, format!("urn:uuid:{}", keys[1]));
    assert_eq!(feed.entries[1].id, format!("urn:uuid:{}", keys[0]));
    assert_eq!(
        feed.entries[1].updated.unwrap(),
        Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
    );
    let first = &feed.entries[1];
    assert_eq!(
        first.title.as_ref().unwrap().content,
        "State media on <reunification>: 3 new articles"
    );
    let content = first.content.as_ref().unwrap().body.as_deref().unwrap();
    // The hostile article's title and snippet arrive as the text they are.
    assert!(
        content.contains("<script>alert(\"title\")</script>"),
        "{content}"
    );
    assert!(content.contains(HOSTILE_SNIPPET), "{content}");
    assert!(content.contains("http://cn.example/a/1"), "{content}");
    assert!(!content.contains("javascript:"), "{content}");
    assert!(
        content.contains("(1 more matching articles not listed)"),
        "{content}"
    );
    let related: Vec<&str> = first
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("related"))
        .map(|l| l.href.as_str())
        .collect();
    assert!(
        related.contains(&format!("/articles/{}", f.ids.en).as_str()),
        "{related:?}"
    );
    assert!(
        related.contains(&format!("/articles/{}", f.ids.hostile).as_str()),
        "{related:?}"
    );
    for l in feed.entries.iter().flat_map(|e| &e.links) {
        assert!(
            l.href.starts_with('/')
                || l.href.starts_with("http://")
                || l.href.starts_with("https://"),
            "{l:?}"
        );
    }
    assert!(first.categories.iter().any(|c| c.term == "reunification"));

    for uri in ["/alerts/quiet.atom", "/alerts/nope.atom", "/alerts/reunify"] {
        let a = get(&r, uri).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}: {}", a.body);
    }
    let quiet = get(&r, "/alerts/quiet.atom").await;
    assert!(quiet.body.contains("atom = true"), "{}", quiet.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_answer_before_the_first_message_and_the_first_ingest() {
    let f = with_alert_config();
    let (r, _) = app(&f, None);
    // A store without alert tables yet, then no store at all.
    for round in ["no outbox", "no store"] {
        let page = get(&r, "/alerts").await;
        assert_eq!(page.status, StatusCode::OK, "{round}: {}", page.body);
        assert_eq!(page.body.matches("No message yet.").count(), 2, "{round}");
        let atom = get(&r, "/alerts/reunify.atom").await;
        assert_eq!(atom.status, StatusCode::OK, "{round}: {}", atom.body);
        let feed = feed_rs::parser::parse(atom.body.as_bytes()).expect("valid Atom");
        assert!(feed.entries.is_empty(), "{round}");
        if round == "no outbox" {
            std::fs::remove_file(f.config.index_path.join("state.redb")).unwrap();
        }
    }
}
