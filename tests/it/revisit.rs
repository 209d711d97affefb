//! Revisits (#26): a server on 127.0.0.1 whose pages change between passes; the real pipeline archives
//! them, then revisit passes run at later times (`revisit_pass(p, now)`) and must find headline edits,
//! removed paragraphs (and the campaign tag they carried), removals, and nothing where only ads changed
//! or the server failed, with flip-flopping pages and the budget bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use mediawatch::model::Article;
use mediawatch::pipeline::{self, PassOptions, Pipeline};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What the test server answers for one article path.
#[derive(Clone)]
enum Answer {
    /// An article page (with an ETag when given: a matching If-None-Match gets 304).
    Page(Doc, Option<String>),
    /// A bare status.
    Status(u16),
    /// A redirect to this path.
    Redirect(String),
    /// Each request gets the next of these pages, round and round.
    Flip(Vec<Doc>),
}

#[derive(Clone)]
struct Doc {
    title: String,
    paragraphs: Vec<String>,
    ad: String,
}

fn doc(title: &str, paragraphs: &[&str]) -> Doc {
    Doc {
        title: title.into(),
        paragraphs: paragraphs.iter().map(|p| p.to_string()).collect(),
        ad: "Buy the new phone today".into(),
    }
}

impl Doc {
    fn html(&self) -> String {
        let paragraphs: String = self
            .paragraphs
            .iter()
            .map(|p| format!("<p>{p}</p>\n"))
            .collect();
        format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
             <meta name=\"author\" content=\"Li Wei\"></head><body>\
             <nav><a href=\"/\">Home</a> <a href=\"/world/\">World</a></nav>\
             <aside class=\"ad banner\">{ad}</aside>\
             <article><h1>{t}</h1>\n{paragraphs}</article>\
             <footer>Copyright the fixture outlet</footer></body></html>",
            t = self.title,
            ad = self.ad,
        )
    }
}

#[derive(Default)]
struct Site {
    /// Article paths in the feed, in order.
    listed: Mutex<Vec<String>>,
    answers: Mutex<HashMap<String, Answer>>,
    hits: Mutex<HashMap<String, usize>>,
    /// The server's base URL (for the feed's links).
    base: Mutex<String>,
    /// When set, every answer for an article path is sent this late (the request is counted at once).
    slow: Mutex<Option<std::time::Duration>>,
}

impl Site {
    fn set(&self, path: &str, answer: Answer) {
        self.answers.lock().unwrap().insert(path.into(), answer);
    }
    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

struct Responder(Arc<Site>);

impl Respond for Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_string();
        let n = {
            let mut hits = self.0.hits.lock().unwrap();
            let n = hits.entry(path.clone()).or_default();
            *n += 1;
            *n - 1
        };
        if path == "/feed.xml" {
            let items: String = self
                .0
                .listed
                .lock()
                .unwrap()
                .iter()
                .map(|p| {
                    let link = format!("{}{p}", self.0.base.lock().unwrap());
                    format!(
                        "<item><title>Story {p}</title><link>{link}</link><guid>{link}</guid>\
                         <pubDate>Tue, 24 Nov 2026 12:00:00 +0000</pubDate></item>"
                    )
                })
                .collect();
            return ResponseTemplate::new(200)
                .insert_header("content-type", "application/rss+xml")
                .set_body_string(format!(
                    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>S</title>{items}</channel></rss>"
                ));
        }
        let html = |body: String| {
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html; charset=utf-8")
                .set_body_string(body)
        };
        let answer = self.0.answers.lock().unwrap().get(&path).cloned();
        let template = match answer {
            Some(Answer::Page(d, etag)) => match etag {
                Some(tag) => {
                    let matches = request
                        .headers
                        .get("if-none-match")
                        .is_some_and(|v| v.as_bytes() == tag.as_bytes());
                    if matches {
                        ResponseTemplate::new(304).insert_header("etag", tag.as_str())
                    } else {
                        html(d.html()).insert_header("etag", tag.as_str())
                    }
                }
                None => html(d.html()),
            },
            Some(Answer::Status(s)) => ResponseTemplate::new(s),
            Some(Answer::Redirect(to)) => {
                ResponseTemplate::new(301).insert_header("location", to.as_str())
            }
            Some(Answer::Flip(docs)) => html(docs[n % docs.len()].html()),
            // robots.txt and anything else: 404 (robots.txt then allows everything).
            None => return ResponseTemplate::new(404),
        };
        match *self.0.slow.lock().unwrap() {
            Some(delay) => template.set_delay(delay),
            None => template,
        }
    }
}

async fn start(site: &Arc<Site>) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::method("GET"))
        .respond_with(Responder(Arc::clone(site)))
        .mount(&server)
        .await;
    *site.base.lock().unwrap() = server.uri();
    server
}

fn open(dir: &std::path::Path, base: &str, budget: usize) -> Pipeline {
    let config = format!(
        r#"[index]
path = "index"

[fetch]
concurrency = 4
per_host = 4
timeout_secs = 5
host_delay_ms = 0
allow_private_networks = true

[revisit]
ages = ["1h", "6h", "24h", "7d"]
budget_per_pass = {budget}

[[feeds]]
id = "st"
url = "{base}/feed.xml"
affiliation = "state"
language = "en"

[[campaigns]]
id = "taiwan"
name = "Taiwan"
[campaigns.terms]
en = ["reunification"]
"#
    );
    let path = dir.join("feeds.toml");
    std::fs::write(&path, config).unwrap();
    pipeline::open_from(&path).unwrap()
}

const P1: &str = "Delegates from both sides met in Xiamen on Monday for a second round of talks on trade, \
                  shipping and the fishing season, officials said after the meeting ended in the evening.";
const P2: &str = "The spokesman said the talks were a step towards peaceful reunification and that the \
                  mainland would keep the door open to further meetings before the end of the year.";
const P3: &str =
    "Shipping companies welcomed the talks and said they hoped new routes across the strait \
                  would open in the spring, when the weather allows more crossings each week.";

fn article(p: &Pipeline, site_base: &str, path: &str) -> Article {
    p.archive
        .article_by_url(&format!("{site_base}{path}"))
        .unwrap()
        .unwrap_or_else(|| panic!("{path} is not archived"))
}

fn count_bool(p: &Pipeline, field: tantivy::schema::Field) -> usize {
    let q = tantivy::query::TermQuery::new(
        tantivy::Term::from_field_bool(field, true),
        tantivy::schema::IndexRecordOption::Basic,
    );
    p.archive
        .searcher()
        .search(&q, &tantivy::collector::Count)
        .unwrap()
}

async fn archive_all(p: &Pipeline, site: &Site, paths: &[&str]) {
    *site.listed.lock().unwrap() = paths.iter().map(|p| p.to_string()).collect();
    let report = pipeline::ingest_pass(p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(
        report.articles_archived,
        paths.len(),
        "{report} {:?}",
        report.failures
    );
    assert_eq!(report.revisits.revisited, 0, "nothing is due yet: {report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_removals_and_what_is_not_a_change() {
    let site = Arc::new(Site::default());
    let server = start(&site).await;
    let base = server.uri();
    let original = doc("Talks resume in Xiamen", &[P1, P2, P3]);
    for path in [
        "/a/1",
        "/a/2",
        "/a/3",
        "/a/4",
        "/a/5",
        "/a/7",
        "/world/2026/x.html",
    ] {
        site.set(path, Answer::Page(original.clone(), None));
    }
    site.set(
        "/a/6",
        Answer::Page(original.clone(), Some("\"v1\"".into())),
    );
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), &base, 500);
    let paths = [
        "/a/1",
        "/a/2",
        "/a/3",
        "/a/4",
        "/a/5",
        "/a/6",
        "/a/7",
        "/world/2026/x.html",
    ];
    archive_all(&p, &site, &paths).await;
    let tagged = article(&p, &base, "/a/2");
    assert_eq!(
        tagged.campaigns.len(),
        1,
        "the original carries the campaign term"
    );

    // Between the passes: a headline edit, a paragraph removed (the one with the campaign term), only the
    // ad changed, a 404, a 503, an unchanged page that answers 304, a redirect to the site root, and a
    // redirect to the section above the article.
    site.set(
        "/a/1",
        Answer::Page(
            doc("Talks in Xiamen end without agreement", &[P1, P2, P3]),
            None,
        ),
    );
    site.set(
        "/a/2",
        Answer::Page(doc("Talks resume in Xiamen", &[P1, P3]), None),
    );
    let mut ads = original.clone();
    ads.ad = "Holiday sale: flights to the islands".into();
    site.set("/a/3", Answer::Page(ads, None));
    site.set("/a/4", Answer::Status(404));
    site.set("/a/5", Answer::Status(503));
    site.set("/a/7", Answer::Redirect("/".into()));
    site.set("/world/2026/x.html", Answer::Redirect("/world/".into()));
    site.set("/", Answer::Page(doc("Front page", &[P3]), None));
    site.set("/world/", Answer::Page(doc("World news", &[P3]), None));

    let t1 = Utc::now() + Duration::hours(2);
    let r = pipeline::revisit_pass(&p, t1).await.unwrap();
    assert_eq!((r.due, r.revisited, r.over_budget), (8, 8, 0), "{r}");
    assert_eq!(
        r.new_versions, 2,
        "headline edit and removed paragraph: {r}"
    );
    assert_eq!(r.removed, 3, "404 and two redirects away: {r}");
    assert_eq!(r.failed, 1, "the 503: {r}");
    assert_eq!(r.not_modified, 1, "/a/6 answered 304 to its ETag: {r}");
    assert_eq!(r.unchanged, 1, "/a/3 changed only its ad: {r}");
    assert_eq!(
        site.hits("/a/6"),
        2,
        "archived, then revisited with its ETag"
    );

    // The headline edit: the index holds the new title; two versions are kept, the second says why.
    let a1 = article(&p, &base, "/a/1");
    assert_eq!(a1.title, "Talks in Xiamen end without agreement");
    let rev = a1.revision.clone().unwrap();
    assert_eq!((rev.versions, rev.current, rev.edited_at), (2, 2, Some(t1)));
    assert!(rev.removed_at.is_none());
    let versions = p.store.versions(&a1.id).unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].fields.title, "Talks resume in Xiamen");
    assert_eq!(
        versions[1].fields.title,
        "Talks in Xiamen end without agreement"
    );
    assert_eq!(versions[1].changed, ["title"]);
    assert!(p.store.version_snapshot(&a1.id, 1).unwrap().is_some());
    let (_, body) = p.store.version_snapshot(&a1.id, 2).unwrap().unwrap();
    assert!(String::from_utf8(body)
        .unwrap()
        .contains("end without agreement"));

    // The removed paragraph took the campaign tag with it: gone from the index, kept in version 1.
    let a2 = article(&p, &base, "/a/2");
    assert!(a2.campaigns.is_empty(), "{:?}", a2.campaigns);
    assert!(!a2.text.contains("reunification"));
    let versions = p.store.versions(&a2.id).unwrap();
    assert_eq!(versions[0].campaigns.len(), 1);
    assert_eq!(versions[0].campaigns[0].id, "taiwan");
    assert!(versions[1].campaigns.is_empty());
    assert_eq!(versions[1].changed, ["text"]);

    // Only the ad changed: no version, nothing re-indexed.
    let a3 = article(&p, &base, "/a/3");
    assert_eq!(a3.revision, None);
    assert!(p.store.versions(&a3.id).unwrap().is_empty());

    // 404: removed at the first time it was seen gone; its text is still archived.
    let a4 = article(&p, &base, "/a/4");
    assert_eq!(a4.revision.as_ref().unwrap().removed_at, Some(t1));
    assert_eq!(a4.revision.as_ref().unwrap().versions, 1);
    assert!(a4.text.contains("reunification"));

    // 503: not a removal; tried again later.
    let a5 = article(&p, &base, "/a/5");
    assert_eq!(a5.revision, None);
    let row = p.store.revisit_state(&a5.id).unwrap().unwrap();
    assert_eq!((row.failures, row.stage), (1, 0));

    // Redirected to the site root and to the section page: removed, saying why.
    for (path, why) in [
        ("/a/7", "site root"),
        ("/world/2026/x.html", "section page"),
    ] {
        let a = article(&p, &base, path);
        assert!(a.revision.as_ref().unwrap().removed_at.is_some(), "{path}");
        let row = p.store.revisit_state(&a.id).unwrap().unwrap();
        assert!(
            row.removed_why.as_deref().unwrap().contains(why),
            "{path}: {row:?}"
        );
    }

    // The index's fields (schema 8).
    let f = p.archive.fields;
    assert_eq!(count_bool(&p, f.edited), 2);
    assert_eq!(count_bool(&p, f.removed), 3);

    // Searches: `edited:true`, `removed:true`, `versions:>1`, and the hits say so.
    let find = |query: &str| {
        let req = mediawatch::search::SearchRequest {
            query: query.to_string(),
            limit: 100,
            ..Default::default()
        };
        let mut hits: Vec<(String, u32, bool, bool)> = mediawatch::search::search(&p.archive, &req)
            .unwrap()
            .hits
            .into_iter()
            .map(|h| {
                (
                    h.url.trim_start_matches(&base).to_string(),
                    h.versions,
                    h.edited,
                    h.removed,
                )
            })
            .collect();
        hits.sort();
        hits
    };
    let edited = [
        ("/a/1".to_string(), 2, true, false),
        ("/a/2".to_string(), 2, true, false),
    ];
    assert_eq!(find("edited:true"), edited);
    assert_eq!(find("versions:>1"), edited);
    assert_eq!(
        find("removed:true")
            .iter()
            .map(|h| h.0.as_str())
            .collect::<Vec<_>>(),
        ["/a/4", "/a/7", "/world/2026/x.html"]
    );
    assert!(find("removed:true").iter().all(|h| h.3 && !h.2));
    assert_eq!(
        find("Xiamen AND edited:false AND removed:false").len(),
        3,
        "/a/3, /a/5, /a/6"
    );

    // Schema 9: `campaign_dropped` finds the article whose edit removed the campaign's term (the index
    // holds the current version, so `campaign:` no longer does); `changed_at` holds the time of the last
    // edit or removal, and its day ranges work as `published:`'s.
    assert_eq!(
        find("campaign_dropped:taiwan")
            .iter()
            .map(|h| h.0.as_str())
            .collect::<Vec<_>>(),
        ["/a/2"]
    );
    assert!(!find("campaign:taiwan").iter().any(|h| h.0 == "/a/2"));
    assert_eq!(find("campaign_dropped:taiwan AND campaign:taiwan").len(), 0);
    let day = t1.date_naive();
    let changed: Vec<String> = find(&format!("changed_at:{day}"))
        .into_iter()
        .map(|h| h.0)
        .collect();
    assert_eq!(
        changed,
        ["/a/1", "/a/2", "/a/4", "/a/7", "/world/2026/x.html"],
        "edits and removals, not the ad change, the 304 or the 503"
    );
    assert_eq!(
        find(&format!(
            "changed_at:[{day} TO {}]",
            day + Duration::days(3)
        ))
        .len(),
        5
    );
    assert!(find(&format!("changed_at:<{day}")).is_empty());
    assert!(find(&format!("changed_at:>{day}")).is_empty());
    let hit = |path: &str| {
        let req = mediawatch::search::SearchRequest {
            query: "removed:true OR edited:true".into(),
            limit: 100,
            ..Default::default()
        };
        mediawatch::search::search(&p.archive, &req)
            .unwrap()
            .hits
            .into_iter()
            .find(|h| h.url.ends_with(path))
            .unwrap()
    };
    let h2 = hit("/a/2");
    assert_eq!(h2.campaign_dropped, ["taiwan"]);
    assert_eq!(h2.change, Some(mediawatch::model::ChangeKind::Edited));
    let t1_text = t1.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(h2.changed_at.as_deref(), Some(t1_text.as_str()));
    let h4 = hit("/a/4");
    assert_eq!(h4.change, Some(mediawatch::model::ChangeKind::Removed));
    assert!(
        h4.campaign_dropped.is_empty(),
        "a removal drops no campaign"
    );
    // Newest change first: the sort `/changes` uses.
    let req = mediawatch::search::SearchRequest {
        limit: 100,
        sort: mediawatch::search::Sort::Changed,
        changed: true,
        ..Default::default()
    };
    assert_eq!(
        mediawatch::search::search(&p.archive, &req).unwrap().total,
        5
    );

    // `history`: the tag each version had, and the word diff (read-only, beside the writer).
    let config = dir.path().join("feeds.toml");
    let history = |id_or_url: &str, format: &str| {
        crate::support::mw_ok(&config, &["history", id_or_url, "--format", format])
    };
    let json: serde_json::Value = serde_json::from_str(&history(&a2.id, "json")).unwrap();
    assert_eq!(json["versions"], 2);
    assert_eq!(
        json["history"][0]["campaigns"],
        serde_json::json!(["taiwan"])
    );
    assert_eq!(json["history"][1]["campaigns"], serde_json::json!([]));
    let removed: Vec<&str> = json["history"][1]["diff_from_previous"]["text"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["op"] == "removed")
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert_eq!(removed.len(), 1, "{json}");
    assert!(removed[0].contains("peaceful reunification"), "{json}");
    let text = history(&format!("{base}/a/1"), "text");
    assert!(
        text.contains("2 versions, the page shows version 2"),
        "{text}"
    );
    assert!(
        text.contains("title: Talks [-resume-] in Xiamen {+end without agreement+}"),
        "{text}"
    );
    assert!(text.contains("version 1  fetched"), "{text}");
    let text = history(&a4.id, "text");
    assert!(text.contains("REMOVED: first seen gone"), "{text}");
    assert!(text.contains("(HTTP 404)"), "{text}");
    let text = history(&a3.id, "text");
    assert!(text.contains("1 version: no change found"), "{text}");

    // Later: the 503 page is back unchanged, the 404 is still gone (its time kept), /a/6 still 304.
    site.set("/a/5", Answer::Page(original.clone(), None));
    let t2 = Utc::now() + Duration::hours(7);
    let r = pipeline::revisit_pass(&p, t2).await.unwrap();
    assert_eq!(r.removed, 0, "already removed: {r}");
    assert_eq!(r.new_versions, 0, "{r}");
    let a5 = article(&p, &base, "/a/5");
    assert_eq!(
        a5.revision, None,
        "a 503 then the same page: nothing happened"
    );
    let a4 = article(&p, &base, "/a/4");
    assert_eq!(a4.revision.unwrap().removed_at, Some(t1), "first seen gone");
    // Due at 7 h: /a/1, /a/2, /a/3 and /a/6 (their 6 h age), the removed ones, and /a/5 (its 503 retry).
    assert_eq!((r.not_modified, r.unchanged), (1, 4), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_flipping_between_two_texts_makes_two_versions() {
    let site = Arc::new(Site::default());
    let server = start(&site).await;
    let base = server.uri();
    let a = doc("Talks resume in Xiamen", &[P1, P2, P3]);
    let b = doc("Talks resume in Xiamen", &[P1, P3]);
    site.set("/f", Answer::Page(a.clone(), None));
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), &base, 500);
    archive_all(&p, &site, &["/f"]).await;
    // From now on each request alternates: B, A, B, A... (the count goes on from the archiving request).
    site.set("/f", Answer::Flip(vec![a, b]));
    let hits_before = site.hits("/f");
    let start = Utc::now();
    let mut found = Vec::new();
    for hours in [2, 7, 25, 24 * 8] {
        let r = pipeline::revisit_pass(&p, start + Duration::hours(hours))
            .await
            .unwrap();
        assert_eq!(r.revisited, 1, "{r}");
        found.push((r.new_versions, r.returns));
    }
    assert_eq!(site.hits("/f") - hits_before, 4);
    assert_eq!(found, [(1, 0), (0, 1), (0, 1), (0, 1)]);
    let art = article(&p, &base, "/f");
    let id = art.id.clone();
    assert_eq!(p.store.versions(&id).unwrap().len(), 2);
    let row = p.store.revisit_state(&id).unwrap().unwrap();
    assert_eq!(row.hashes.len(), 2);
    assert_eq!(
        row.returns.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        [1, 2, 1]
    );
    assert_eq!(art.revision.unwrap().versions, 2);
    // Every age is past: no more revisits.
    let r = pipeline::revisit_pass(&p, start + Duration::days(30))
        .await
        .unwrap();
    assert_eq!(r.due, 0, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_budget_bounds_each_pass_oldest_due_first() {
    let site = Arc::new(Site::default());
    let server = start(&site).await;
    let base = server.uri();
    let paths = ["/b/1", "/b/2", "/b/3", "/b/4", "/b/5"];
    for path in paths {
        site.set(path, Answer::Page(doc("Budget", &[P1, P3]), None));
    }
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), &base, 2);
    archive_all(&p, &site, &paths).await;
    let fetched = |site: &Site| paths.iter().map(|x| site.hits(x)).sum::<usize>();
    let before = fetched(&site);
    let t = Utc::now() + Duration::hours(2);
    let r = pipeline::revisit_pass(&p, t).await.unwrap();
    assert_eq!((r.due, r.revisited, r.over_budget), (5, 2, 3), "{r}");
    assert_eq!(fetched(&site) - before, 2);
    let r = pipeline::revisit_pass(&p, t).await.unwrap();
    assert_eq!((r.due, r.revisited, r.over_budget), (3, 2, 1), "{r}");
    let r = pipeline::revisit_pass(&p, t).await.unwrap();
    assert_eq!((r.due, r.revisited, r.over_budget), (1, 1, 0), "{r}");
    assert_eq!(fetched(&site) - before, 5, "each article once");
    // Inside ingest: the pass after the new articles runs the revisits that are due now (none yet).
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.revisits.due, 0, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revisit_lost_before_its_store_write_is_redone_and_reindex_keeps_the_fields() {
    let site = Arc::new(Site::default());
    let server = start(&site).await;
    let base = server.uri();
    site.set(
        "/c",
        Answer::Page(doc("Talks resume in Xiamen", &[P1, P2]), None),
    );
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), &base, 500);
    archive_all(&p, &site, &["/c"]).await;
    // The edit also drops the paragraph with the campaign term.
    site.set(
        "/c",
        Answer::Page(doc("Talks collapse in Xiamen", &[P1]), None),
    );
    let id = article(&p, &base, "/c").id;
    let row_before = p.store.revisit_state(&id).unwrap().unwrap();
    let t = Utc::now() + Duration::hours(2);
    let r = pipeline::revisit_pass(&p, t).await.unwrap();
    assert_eq!(r.new_versions, 1, "{r}");
    // As if the process died after the index commit and before the store's transaction: the row is as
    // it was before the pass (the index already shows version 2).
    p.store
        .commit_revisits(
            &[(id.clone(), row_before)],
            &[],
            &pipeline::revisit_schedule(&p.config),
        )
        .unwrap();
    let r = pipeline::revisit_pass(&p, t).await.unwrap();
    assert_eq!((r.revisited, r.new_versions), (1, 1), "found again: {r}");
    let versions = p.store.versions(&id).unwrap();
    assert_eq!(
        versions
            .iter()
            .map(|v| v.fields.title.as_str())
            .collect::<Vec<_>>(),
        ["Talks resume in Xiamen", "Talks collapse in Xiamen"],
        "no version twice"
    );
    let row = p.store.revisit_state(&id).unwrap().unwrap();
    assert_eq!((row.hashes.len(), row.current, row.stage), (2, 2, 1));
    assert_eq!(article(&p, &base, "/c").revision.unwrap().versions, 2);

    // `reindex` (the upgrade path of every schema bump) rebuilds the revisit fields from the stored articles.
    p.finish_merges().unwrap();
    drop(p);
    let index = dir.path().join("index");
    assert_eq!(mediawatch::index::reindex(&index, &|_, _| {}).unwrap(), 1);
    let archive = mediawatch::index::Archive::open(&index).unwrap();
    let req = mediawatch::search::SearchRequest {
        query: "edited:true AND versions:2".into(),
        limit: 10,
        ..Default::default()
    };
    let hits = mediawatch::search::search(&archive, &req).unwrap().hits;
    assert_eq!(hits.len(), 1);
    assert!(hits[0].edited && !hits[0].removed);
    // ... and `changed_at`, `campaign_dropped` (schema 9) from the revision in the stored JSON.
    let req = mediawatch::search::SearchRequest {
        query: format!("campaign_dropped:taiwan AND changed_at:{}", t.date_naive()),
        limit: 10,
        ..Default::default()
    };
    let hits = mediawatch::search::search(&archive, &req).unwrap().hits;
    assert_eq!(hits.len(), 1, "reindex keeps the fields");
    assert_eq!(hits[0].campaign_dropped, ["taiwan"]);
    assert!(hits[0].campaigns.is_empty());
    assert_eq!(
        hits[0].changed_at.as_deref(),
        Some(
            t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                .as_str()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_not_found_page_at_the_same_address_is_a_removal_and_a_heavy_edit_a_version() {
    let site = Arc::new(Site::default());
    let server = start(&site).await;
    let base = server.uri();
    let original = doc("Talks resume in Xiamen", &[P1, P2, P3]);
    for path in ["/s/1", "/s/2"] {
        site.set(path, Answer::Page(original.clone(), None));
    }
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), &base, 500);
    archive_all(&p, &site, &["/s/1", "/s/2"]).await;

    // /s/1 answers 200 with the site's "not found" template; /s/2 is cut to one sentence and retitled.
    site.set(
        "/s/1",
        Answer::Page(
            doc(
                "Page not found",
                &["Sorry, the page you are looking for does not exist. Return to the home page."],
            ),
            None,
        ),
    );
    site.set(
        "/s/2",
        Answer::Page(
            doc(
                "Xiamen talks end",
                &["Delegates met in Xiamen on Monday for talks on trade and shipping."],
            ),
            None,
        ),
    );
    let t1 = Utc::now() + Duration::hours(2);
    let r = pipeline::revisit_pass(&p, t1).await.unwrap();
    assert_eq!((r.revisited, r.removed, r.new_versions), (2, 1, 1), "{r}");

    let gone = article(&p, &base, "/s/1");
    let rev = gone.revision.clone().unwrap();
    assert_eq!((rev.removed_at, rev.versions), (Some(t1), 1));
    assert!(
        gone.text.contains("reunification"),
        "the archived text is kept"
    );
    assert_eq!(gone.campaigns.len(), 1, "no campaign lost to a template");
    assert!(p.store.versions(&gone.id).unwrap().is_empty(), "no version");
    let row = p.store.revisit_state(&gone.id).unwrap().unwrap();
    let why = row.removed_why.unwrap();
    assert!(
        why.contains("soft 404") && why.contains("\"page not found\""),
        "{why}"
    );

    let edited = article(&p, &base, "/s/2");
    let rev = edited.revision.clone().unwrap();
    assert_eq!((rev.versions, rev.current, rev.removed_at), (2, 2, None));
    assert_eq!(edited.title, "Xiamen talks end");

    // The article is back at its address: restored, still one version.
    site.set("/s/1", Answer::Page(original.clone(), None));
    let t2 = Utc::now() + Duration::hours(7);
    let r = pipeline::revisit_pass(&p, t2).await.unwrap();
    assert_eq!((r.restored, r.new_versions), (1, 0), "{r}");
    let back = article(&p, &base, "/s/1").revision.unwrap();
    assert_eq!(
        (back.removed_at, back.restored_at, back.versions),
        (None, Some(t2), 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_ages_reschedule_and_feeds_status_shows_the_backlog() {
    let site = Arc::new(Site::default());
    let server = start(&site).await;
    let base = server.uri();
    let paths = ["/d/1", "/d/2", "/d/3"];
    for path in paths {
        site.set(path, Answer::Page(doc("Backlog", &[P1, P3]), None));
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("feeds.toml");
    let p = open(dir.path(), &base, 2);
    archive_all(&p, &site, &paths).await;
    assert_eq!(crate::support::status_row(&config, "st")["revisits_due"], 0);
    let r = pipeline::revisit_pass(&p, Utc::now() + Duration::minutes(30))
        .await
        .unwrap();
    assert_eq!(r.due, 0, "the first age is 1h: {r}");
    drop(p);
    // Shorter ages: the store's due table is computed again, and all three are due a second later.
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace(
        r#"ages = ["1h", "6h", "24h", "7d"]"#,
        r#"ages = ["1s", "6h"]"#,
    );
    std::fs::write(&config, text).unwrap();
    let p = pipeline::open_from(&config).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = pipeline::revisit_pass(&p, Utc::now()).await.unwrap();
    assert_eq!((r.due, r.revisited, r.over_budget), (3, 2, 1), "{r}");
    // `feeds status` shows the one the budget left, in JSON and in the table's `revisits due` column.
    assert_eq!(crate::support::status_row(&config, "st")["revisits_due"], 1);
    let (header, row) = status_table(&config, "st");
    let end = header.find("revisits due").expect(&header) + "revisits due".len();
    assert_eq!(
        row[..end].split_whitespace().last(),
        Some("1"),
        "{header}\n{row}"
    );
    assert_eq!(row.split_whitespace().nth(7), Some("1"), "{header}\n{row}");
    // Revisits off (a budget of 0): the table has no such column.
    let off = dir.path().join("off.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &off,
        text.replace("budget_per_pass = 2", "budget_per_pass = 0"),
    )
    .unwrap();
    let (header, row) = status_table(&off, "st");
    assert!(!header.contains("revisits"), "{header}");
    assert_eq!(
        row.split_whitespace().count(),
        header.split_whitespace().count() - 1 - 2
    );
    let r = pipeline::revisit_pass(&p, Utc::now()).await.unwrap();
    assert_eq!((r.due, r.revisited), (1, 1), "{r}");
    assert_eq!(crate::support::status_row(&config, "st")["revisits_due"], 0);
}

/// The header and the row of feed `id` of the `feeds status` table.
fn status_table(config: &std::path::Path, id: &str) -> (String, String) {
    let text = crate::support::mw_ok(config, &["feeds", "status"]);
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    let row = lines
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no row {id}: {text}"))
        .to_string();
    (header, row)
}

/// The config of the SIGKILL test: one state feed on `base`, revisits at `ages`, a budget above the
/// articles.
fn write_kill_config(dir: &std::path::Path, base: &str, ages: &str) -> std::path::PathBuf {
    let path = dir.join("feeds.toml");
    let config = format!(
        r#"[index]
path = "index"

[fetch]
concurrency = 4
per_host = 4
timeout_secs = 300
host_delay_ms = 0
allow_private_networks = true

[revisit]
ages = [{ages}]
budget_per_pass = 1000

[[feeds]]
id = "st"
url = "{base}/feed.xml"
affiliation = "state"
language = "en"

[[campaigns]]
id = "taiwan"
name = "Taiwan"
[campaigns.terms]
en = ["reunification"]
"#
    );
    std::fs::write(&path, config).unwrap();
    path
}

/// [`crate::support::mw_ok`] from an async test (blocking this worker; the server runs on the other).
fn mw_ok(config: &std::path::Path, args: &[&str]) -> String {
    tokio::task::block_in_place(|| crate::support::mw_ok(config, args))
}

/// Waits until every archived article's revisit at `age` after its first archiving is due (the rows'
/// `first_archived` + `age` has passed), so the next pass finds them all due however slow the machine.
async fn wait_due(index: &std::path::Path, age: std::time::Duration) {
    let store = mediawatch::store::Store::open_read_only(index)
        .unwrap()
        .expect("a store");
    let rows = store.revisit_states().unwrap();
    drop(store);
    assert!(!rows.is_empty(), "no revisit rows");
    let latest = rows.iter().map(|(_, r)| r.first_archived).max().unwrap();
    let due = latest + chrono::Duration::from_std(age).unwrap();
    while Utc::now() <= due {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Every article's kept versions as (number, title, fields sha256, snapshot sha256), read from the store
/// (no writer may be running... or one may: the read is read-only).
type Kept = Vec<(u32, String, String, Option<String>)>;

fn kept_versions(index: &std::path::Path, ids: &[(String, String)]) -> HashMap<String, Kept> {
    let store = mediawatch::store::Store::open_read_only(index)
        .unwrap()
        .expect("a store");
    ids.iter()
        .map(|(path, id)| {
            let v = store
                .versions(id)
                .unwrap()
                .into_iter()
                .map(|v| (v.number, v.fields.title, v.fields_sha256, v.snapshot_sha256))
                .collect();
            (path.clone(), v)
        })
        .collect()
}

/// The issue's "a SIGKILL during a revisit pass loses nothing committed", with the real binary: articles
/// are archived (`ingest`), edited and revisited (`ingest`: version 2 committed), edited again and
/// revisited by an `ingest` whose revisits the server answers only after minutes; that process is
/// SIGKILLed while they are in flight. Then the store and index check clean, every version committed
/// before the kill is there unchanged, no version is stored twice, and the next `ingest` finishes the
/// revisits. The ages are changed in the config between passes (the due table follows), so which stage
/// is due never depends on how fast the machine is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_a_revisit_pass_loses_nothing_committed() {
    let site = Arc::new(Site::default());
    let server = start(&site).await;
    let base = server.uri();
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("index");
    // /k/1-4 are edited twice, /k/5 once (only before the killed pass), /k/6 never.
    let paths = ["/k/1", "/k/2", "/k/3", "/k/4", "/k/5", "/k/6"];
    let page = |path: &str, v: u32| {
        let n = path.trim_start_matches("/k/");
        let mut paragraphs = vec![P1, P2, P3];
        paragraphs.truncate(if v == 3 { 2 } else { 3 });
        doc(&format!("Story {n} version {v}"), &paragraphs)
    };
    for path in paths {
        site.set(path, Answer::Page(page(path, 1), None));
    }
    *site.listed.lock().unwrap() = paths.iter().map(|p| p.to_string()).collect();

    // 1. Archive; nothing is due for an hour.
    let config = write_kill_config(dir.path(), &base, r#""1h""#);
    mw_ok(&config, &["ingest"]);
    let archive = mediawatch::index::Archive::open(&index).unwrap();
    let ids: Vec<(String, String)> = paths
        .iter()
        .map(|path| {
            let a = archive
                .article_by_url(&format!("{base}{path}"))
                .unwrap()
                .unwrap_or_else(|| panic!("{path} not archived"));
            (path.to_string(), a.id)
        })
        .collect();
    drop(archive);

    // 2. /k/1-4 edited; the first age is now 1s: a pass revisits all six and commits version 2 of four.
    for path in &paths[..4] {
        site.set(path, Answer::Page(page(path, 2), None));
    }
    let config = write_kill_config(dir.path(), &base, r#""1s", "1h""#);
    wait_due(&index, std::time::Duration::from_secs(1)).await;
    mw_ok(&config, &["ingest"]);
    let committed = kept_versions(&index, &ids);
    for path in &paths[..4] {
        let titles: Vec<&str> = committed[*path].iter().map(|v| v.1.as_str()).collect();
        assert_eq!(titles.len(), 2, "{path}: {:?}", committed[*path]);
        assert!(titles[1].ends_with("version 2"), "{path}: {titles:?}");
    }

    // 3. /k/1-5 edited again, and the server now answers article pages after five minutes. The second
    //    age becomes 2s: all six are due; an `ingest` is killed while its revisits are in flight.
    for path in &paths[..4] {
        site.set(path, Answer::Page(page(path, 3), None));
    }
    site.set(paths[4], Answer::Page(page(paths[4], 2), None));
    let config = write_kill_config(dir.path(), &base, r#""1s", "2s""#);
    wait_due(&index, std::time::Duration::from_secs(2)).await;
    *site.slow.lock().unwrap() = Some(std::time::Duration::from_secs(300));
    let article_hits = |site: &Site| paths.iter().map(|p| site.hits(p)).sum::<usize>();
    let hits_before = article_hits(&site);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mediawatch"))
        .arg("--config")
        .arg(&config)
        .arg("ingest")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // In flight: as many revisit requests as the fetcher runs at once (4) have arrived.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while article_hits(&site) < hits_before + 4 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "ingest ended before its revisits were in flight"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the revisits never reached the server"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    *site.slow.lock().unwrap() = None;

    // Right after the kill: the index and store check clean, everything committed is there, unchanged.
    mw_ok(&config, &["check"]);
    assert_eq!(kept_versions(&index, &ids), committed, "after the kill");

    // 4. The next `ingest` finishes the revisits.
    let hits_before = article_hits(&site);
    mw_ok(&config, &["ingest"]);
    assert_eq!(
        article_hits(&site) - hits_before,
        6,
        "every due revisit was done again"
    );
    mw_ok(&config, &["check"]); // exit 0: no finding
    let after = kept_versions(&index, &ids);
    for (path, _) in &ids {
        let kept = &after[path];
        // Nothing committed before the kill changed; numbers are 1, 2, ... with no repeat.
        assert_eq!(kept[..committed[path].len()], committed[path][..], "{path}");
        let numbers: Vec<u32> = kept.iter().map(|v| v.0).collect();
        assert_eq!(
            numbers,
            (1..=kept.len() as u32).collect::<Vec<_>>(),
            "{path}"
        );
        let mut hashes: Vec<&str> = kept.iter().map(|v| v.2.as_str()).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), kept.len(), "{path}: a version stored twice");
        // Exactly the versions the page had.
        let edits = match path.as_str() {
            "/k/1" | "/k/2" | "/k/3" | "/k/4" => 3,
            "/k/5" => 2,
            _ => 0,
        };
        let titles: Vec<String> = kept.iter().map(|v| v.1.clone()).collect();
        let expected: Vec<String> = (1..=edits).map(|v| page(path, v).title).collect();
        assert_eq!(titles, expected, "{path}");
    }
    let archive = mediawatch::index::Archive::open(&index).unwrap();
    for (path, _) in &ids {
        let a = archive
            .article_by_url(&format!("{base}{path}"))
            .unwrap()
            .unwrap();
        let (versions, current) = match path.as_str() {
            "/k/1" | "/k/2" | "/k/3" | "/k/4" => (3, 3),
            "/k/5" => (2, 2),
            _ => (1, 1),
        };
        if current > 1 {
            assert_eq!(
                a.title,
                page(path, current).title,
                "the index holds the current version"
            );
        }
        let rev = a.revision.clone().unwrap_or_default();
        assert_eq!(rev.versions.max(1), versions, "{path}: {rev:?}");
    }
    // Nothing is left due.
    assert_eq!(crate::support::status_row(&config, "st")["revisits_due"], 0);
}
