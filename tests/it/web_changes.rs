//! What revisits found, in the web workspace (#26), at the router level: the article page's versions
//! with the word diff of title and text (escaped `<ins>`/`<del>`), the removed and restored badges, and
//! `/changes` (newest change first, the search's filters, paging) with its JSON twin. The archive and
//! the store's versions are built here from constructed articles.

use axum::http::StatusCode;
use chrono::{DateTime, TimeZone, Utc};
use mediawatch::config;
use mediawatch::index::Archive;
use mediawatch::model::{Affiliation, Article, CampaignHit, Revision, TermHit};
use mediawatch::revisit::{Compared, RevisitState, StoredVersion};
use mediawatch::store::Store;
use mediawatch::web::{self, AppState};

use super::web::{article, get, Answer};

const CONFIG: &str = r#"
[index]
path = "index"

[[feeds]]
id = "cn-state"
url = "http://cn.example/rss"
name = "Horizon Daily"
affiliation = "state"
country = "CN"
language = "en"

[[feeds]]
id = "tw-indie"
url = "http://tw.example/rss"
name = "Island Post"
affiliation = "independent"
country = "TW"

[[feeds]]
id = "ru-state"
url = "http://ru.example/rss"
name = "Northern Wire"
affiliation = "state"
country = "RU"

[[campaigns]]
id = "reunification"
name = "Reunification"
[campaigns.terms]
en = ["reunification"]
"#;

const V1_TITLE: &str = "Talks resume in Xiamen";
const V1_TEXT: &str =
    "Delegates met in Xiamen.\nThe talks are a step towards peaceful reunification.";
const V2_TITLE: &str = "Talks in Xiamen end without agreement";
/// Version 2 drops the campaign's paragraph and adds markup that must stay text.
const V2_TEXT: &str =
    "Delegates met in Xiamen.\n<script>alert(1)</script> No agreement was reached.";

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap()
}

fn tag() -> CampaignHit {
    CampaignHit {
        id: "reunification".into(),
        score: 1.0,
        terms: vec![TermHit {
            term: "reunification".into(),
            lang: "en".into(),
            count: 1,
            positions: vec![],
        }],
    }
}

fn version(number: u32, title: &str, text: &str, campaigns: Vec<CampaignHit>) -> StoredVersion {
    let fields = Compared::new(title, text, None, &[]);
    StoredVersion {
        number,
        fetched_at: at(1 + number, 9),
        recorded_at: at(3, 10),
        http_status: 200,
        final_url: "http://cn.example/a/edited".into(),
        fields_sha256: fields.sha256(),
        fields,
        snapshot_sha256: None,
        campaigns,
        changed: if number == 1 {
            vec![]
        } else {
            vec!["title".into(), "text".into()]
        },
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    config: std::path::PathBuf,
    router: axum::Router,
    edited: String,
    removed: String,
    restored: String,
    plain: String,
}

/// An edited article that dropped its campaign (changed 3 Dec), a removed one (5 Dec), a restored one
/// (4 Dec), an older edit (1 Dec), and one no revisit changed.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("feeds.toml");
    std::fs::write(&cfg_path, CONFIG).unwrap();
    let config = config::load(&cfg_path).unwrap();
    let revision = |versions, edited_at, removed_at, restored_at, seen: &[&str]| Revision {
        versions,
        current: versions,
        edited_at,
        removed_at,
        restored_at,
        campaigns_seen: seen.iter().map(|s| s.to_string()).collect(),
    };
    let en = |url: &str, feed: &str, aff, country: &str, title: &str, text: &str| {
        article(url, feed, aff, country, "en", "Latn", title, text, 20)
    };
    let mut edited = en(
        "http://cn.example/a/edited",
        "cn-state",
        Affiliation::State,
        "CN",
        V2_TITLE,
        V2_TEXT,
    );
    edited.revision = Some(revision(2, Some(at(3, 10)), None, None, &["reunification"]));
    let mut removed = en(
        "http://ru.example/a/removed",
        "ru-state",
        Affiliation::State,
        "RU",
        "Icebreaker route opens early",
        "The icebreaker passed the route ahead of schedule.",
    );
    removed.revision = Some(revision(1, None, Some(at(5, 8)), None, &[]));
    let mut restored = en(
        "http://tw.example/a/restored",
        "tw-indie",
        Affiliation::Independent,
        "TW",
        "Harbour reopens after storm",
        "The harbour reopened on Friday.",
    );
    restored.revision = Some(revision(1, None, None, Some(at(4, 12)), &[]));
    let mut older = en(
        "http://cn.example/a/older",
        "cn-state",
        Affiliation::State,
        "CN",
        "Fishing season extended",
        "The fishing season was extended by two weeks.",
    );
    older.revision = Some(revision(2, Some(at(1, 7)), None, None, &[]));
    let plain = en(
        "http://cn.example/a/plain",
        "cn-state",
        Affiliation::State,
        "CN",
        "Weather is mild",
        "Sunny and mild across the strait, with the reunification of two weather fronts.",
    );
    let index = dir.path().join("index");
    let archive = Archive::open_or_create(&index).unwrap();
    let mut w = archive.writer().unwrap();
    for a in [&edited, &removed, &restored, &older, &plain] {
        w.upsert(a).unwrap();
    }
    w.commit().unwrap();
    drop(w);
    drop(archive);
    {
        let store = Store::open(&index).unwrap();
        let row = |a: &Article, current: u32| {
            let mut s = RevisitState::new(&a.url, &a.feed, at(1, 0), None, None);
            s.current = current;
            s
        };
        let mut edited_row = row(&edited, 2);
        edited_row.hashes = vec!["h1".into(), "h2".into()];
        edited_row.edited_at = Some(at(3, 10));
        let mut removed_row = row(&removed, 1);
        removed_row.removed_at = Some(at(5, 8));
        removed_row.removed_why = Some("HTTP 404".into());
        let mut restored_row = row(&restored, 1);
        restored_row.restored_at = Some(at(4, 12));
        store
            .commit_revisits(
                &[
                    (edited.id.clone(), edited_row),
                    (removed.id.clone(), removed_row),
                    (restored.id.clone(), restored_row),
                ],
                &[
                    (
                        edited.id.clone(),
                        version(1, V1_TITLE, V1_TEXT, vec![tag()]),
                        None,
                    ),
                    (
                        edited.id.clone(),
                        version(2, V2_TITLE, V2_TEXT, vec![]),
                        None,
                    ),
                ],
                &mediawatch::revisit::Schedule::default(),
            )
            .unwrap();
    }
    let archive = Archive::open(&config.index_path).unwrap();
    let state = std::sync::Arc::new(AppState::new(config, archive, None));
    Fixture {
        router: web::router(state),
        config: cfg_path,
        _dir: dir,
        edited: edited.id,
        removed: removed.id,
        restored: restored.id,
        plain: plain.id,
    }
}

async fn ok(f: &Fixture, uri: &str) -> Answer {
    let a = get(&f.router, uri).await;
    assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
    a
}

/// The titles of the rows of the `/changes` page at `uri`, in order.
async fn titles(f: &Fixture, uri: &str) -> Vec<String> {
    change_titles(&ok(f, uri).await.body)
}

/// The titles of the `/changes` rows, in order.
fn change_titles(html: &str) -> Vec<String> {
    html.split("<a class=\"title\" href=\"")
        .skip(1)
        .filter_map(|s| s.split('>').nth(1)?.split('<').next().map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn article_page_shows_versions_word_diff_and_badges() {
    let f = fixture();
    let page = ok(&f, &format!("/articles/{}", f.edited)).await.body;
    assert!(page.contains("id=\"versions\""), "{page}");
    assert!(page.contains("Version 1 → 2"), "{page}");
    // The title's word diff: one removed word, three added.
    assert!(page.contains("<del>resume </del>"), "{page}");
    assert!(page.contains("<ins> end without agreement</ins>"), "{page}");
    // The text's: the campaign's sentence deleted, the markup added as text, never as a tag.
    assert!(
        page.contains(
            "Delegates met in Xiamen.\n<del>The talks are a step towards peaceful reunification.</del>\
             <ins>&#60;script&#62;alert(1)&#60;/script&#62; No agreement was reached.</ins>"
        ),
        "{page}"
    );
    assert!(!page.contains("<script>"), "{page}");
    // The versions table: the campaign the edit lost, and which version the page shows.
    assert!(page.contains("−reunification"), "{page}");
    assert!(page.contains("2 (shown now)"), "{page}");
    assert!(page.contains("title, text"), "{page}");
    assert!(!page.contains("class=\"badge"), "not removed: {page}");

    let page = ok(&f, &format!("/articles/{}", f.removed)).await.body;
    assert!(
        page.contains("<span class=\"badge removed\">removed</span>"),
        "{page}"
    );
    assert!(
        page.contains("first seen gone from its site 2026-12-05T08:00:00Z (HTTP 404)"),
        "{page}"
    );
    assert!(!page.contains("id=\"versions\""), "one version: no list");

    let page = ok(&f, &format!("/articles/{}", f.restored)).await.body;
    assert!(
        page.contains("<span class=\"badge restored\">restored</span>"),
        "{page}"
    );
    assert!(
        page.contains("back on its site since 2026-12-04T12:00:00Z"),
        "{page}"
    );

    let page = ok(&f, &format!("/articles/{}", f.plain)).await.body;
    assert!(!page.contains("id=\"versions\"") && !page.contains("class=\"badge"));
    // Every page links the changes.
    assert!(page.contains("<a href=\"/changes\">Changes</a>"), "{page}");

    // The JSON twin carries the kept versions.
    let json = ok(&f, &format!("/api/articles/{}", f.edited)).await.json();
    let versions = json["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["campaigns"][0]["id"], "reunification");
    assert_eq!(versions[1]["fields"]["title"], V2_TITLE);
    assert_eq!(
        json["article"]["revision"]["campaigns_seen"][0],
        "reunification"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_lists_the_newest_change_first_with_filters_and_paging() {
    let f = fixture();
    let page = ok(&f, "/changes").await.body;
    assert_eq!(
        change_titles(&page),
        [
            "Icebreaker route opens early",
            "Harbour reopens after storm",
            V2_TITLE,
            "Fishing season extended",
        ],
        "newest change first; the unchanged article is not listed"
    );
    assert!(page.contains("4</strong> changed articles"), "{page}");
    assert!(page.contains("gone from its site (HTTP 404)"), "{page}");
    assert!(
        page.contains("version 2; title, text changed; dropped reunification"),
        "{page}"
    );
    assert!(page.contains("<span class=\"badge restored\">restored</span>"));
    assert!(page.contains("back on its site after a removal"), "{page}");
    // An edit whose versions the store does not have (yet) still says what it is.
    assert!(page.contains("<td class=\"what\">edited</td>"), "{page}");
    assert!(page.contains(&format!("href=\"/articles/{}\"", f.removed)));

    // Filters: the feed, the affiliation, the days of the change, a query.
    assert_eq!(
        titles(&f, "/changes?feed=cn-state").await,
        [V2_TITLE, "Fishing season extended"]
    );
    assert_eq!(
        titles(&f, "/changes?affiliation=independent").await,
        ["Harbour reopens after storm"]
    );
    assert_eq!(
        titles(&f, "/changes?since=2026-12-03&until=2026-12-04").await,
        ["Harbour reopens after storm", V2_TITLE],
        "the days bound the change, not the publication (all published 20 Nov)"
    );
    assert_eq!(
        titles(&f, "/changes?country=RU").await,
        ["Icebreaker route opens early"]
    );
    assert_eq!(
        titles(&f, "/changes?q=campaign_dropped:reunification").await,
        [V2_TITLE]
    );
    assert_eq!(titles(&f, "/changes?q=xiamen&lang=en").await, [V2_TITLE]);

    // Paging: two per page.
    let first = ok(&f, "/changes?size=2").await.body;
    assert_eq!(change_titles(&first).len(), 2);
    assert!(first.contains("href=\"/changes?size=2&amp;page=2\"") || first.contains("page=2"));
    let second = ok(&f, "/changes?size=2&page=2").await.body;
    assert_eq!(
        change_titles(&second),
        [V2_TITLE, "Fishing season extended"]
    );

    // Another order is refused, naming the parameter.
    let bad = get(&f.router, "/changes?sort=newest").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("parameter sort"), "{}", bad.body);

    // The JSON twin: the same rows, with the kind and the time.
    let json = ok(&f, "/api/changes?feed=cn-state").await.json();
    assert_eq!(json["total"], 2);
    let rows = json["changes"].as_array().unwrap();
    assert_eq!(rows[0]["id"], f.edited.as_str());
    assert_eq!(rows[0]["kind"], "edited");
    assert_eq!(rows[0]["changed_at"], "2026-12-03T10:00:00Z");
    assert_eq!(rows[0]["campaign_dropped"][0], "reunification");
    assert_eq!(rows[0]["href"], format!("/articles/{}", f.edited));
    let json = ok(&f, "/api/changes").await.json();
    let kinds: Vec<&str> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["removed", "restored", "edited", "edited"]);
    let bad = get(&f.router, "/api/changes?sort=oldest").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["error"].as_str().unwrap().contains("sort"));

    // Search hits carry the fields; the search page can sort by the change too.
    let json = ok(&f, "/api/search?q=campaign_dropped:reunification")
        .await
        .json();
    assert_eq!(json["total"], 1);
    assert_eq!(json["hits"][0]["campaign_dropped"][0], "reunification");
    assert_eq!(json["hits"][0]["changed_at"], "2026-12-03T10:00:00Z");
    assert_eq!(json["hits"][0]["change"], "edited");
    let json = ok(&f, "/api/search?sort=changed").await.json();
    assert_eq!(json["total"], 5);
    assert_eq!(json["hits"][0]["id"], f.removed.as_str());
    assert_eq!(
        json["hits"][4]["id"],
        f.plain.as_str(),
        "never changed: last"
    );
}

/// `mediawatch search --sort changed`: the latest change a revisit found first, never changed last, as
/// the web's `sort=changed`.
#[test]
fn cli_search_sorts_by_the_latest_change() {
    let f = fixture();
    let ids = |sort: &str| -> Vec<String> {
        crate::support::mw_ok(
            &f.config,
            &["search", "", "--sort", sort, "--format", "jsonl"],
        )
        .lines()
        .map(|l| {
            let hit: serde_json::Value = serde_json::from_str(l).unwrap();
            hit["id"].as_str().unwrap().to_string()
        })
        .collect()
    };
    let changed = ids("changed");
    assert_eq!(changed.len(), 5, "{changed:?}");
    assert_eq!(
        changed[..3],
        [f.removed.clone(), f.restored.clone(), f.edited.clone()]
    );
    assert_eq!(changed[4], f.plain, "never changed: last");
    // The other values still parse.
    assert_eq!(ids("newest").len(), 5);
    assert_eq!(ids("relevance").len(), 5);
}
