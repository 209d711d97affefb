//! The web workspace at the router level (no sockets): every page and API route, bad parameters, the
//! token, a hostile article that must render inert, exports, Atom, and new commits seen without restart.
//! The archive is built here from constructed articles; the texts are ours.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use chrono::{TimeZone, Utc};
use mediawatch::config::{self, Config};
use mediawatch::index::Archive;
use mediawatch::model::{Affiliation, Article, CampaignHit, LangInfo, Page, TermHit, TermPosition};
use mediawatch::pipeline::article_id;
use mediawatch::store::{FeedState, Store};
use mediawatch::web::{self, AppState};
use tower::ServiceExt;

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

[[feeds]]
id = "hostile"
url = "http://evil.example/rss"
name = "Evil <b>Outlet</b>"
affiliation = "state"
country = "CN"

[[campaigns]]
id = "reunification"
name = "Reunification & inevitability"
description = "Taiwan's <reunification> is inevitable."
[campaigns.terms]
en = ["reunification"]
zh = ["统一"]
"#;

/// The hostile payloads: in title, text, links, names.
const XSS_TITLE: &str =
    r#"<script>alert("title")</script><img src=x onerror=alert(1)> Reunification now"#;
const XSS_TEXT: &str =
    "Click <a href=\"javascript:alert(2)\">here</a> \" onmouseover=\"alert(3)\" \
     <iframe src=javascript:alert(4)></iframe> reunification </textarea><svg onload=alert(5)>";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub config: Config,
    pub ids: Ids,
}

pub struct Ids {
    pub en: String,
    pub ru: String,
    pub hostile: String,
}

fn campaign_hit(text: &str, term: &str) -> CampaignHit {
    let positions = text
        .match_indices(term)
        .map(|(i, m)| TermPosition {
            field: "text".into(),
            start: i,
            end: i + m.len(),
        })
        .collect::<Vec<_>>();
    CampaignHit {
        id: "reunification".into(),
        score: positions.len() as f64,
        terms: vec![TermHit {
            term: term.into(),
            lang: "en".into(),
            count: positions.len(),
            positions,
        }],
    }
}

#[allow(clippy::too_many_arguments)]
pub fn article(
    url: &str,
    feed: &str,
    affiliation: Affiliation,
    country: &str,
    lang: &str,
    script: &str,
    title: &str,
    text: &str,
    day: u32,
) -> Article {
    let published = Utc.with_ymd_and_hms(2026, 11, day, 9, 30, 0).unwrap();
    Article {
        id: article_id(url),
        url: url.into(),
        final_url: url.into(),
        feed: feed.into(),
        source_name: feed.to_uppercase(),
        affiliation,
        country: Some(country.into()),
        lang: LangInfo {
            lang: lang.into(),
            script: Some(script.into()),
            confidence: 0.93,
            reliable: true,
        },
        title: title.into(),
        text: text.into(),
        description: None,
        authors: vec!["Staff".into()],
        published: Some(published),
        modified: None,
        fetched_at: published + chrono::Duration::hours(1),
        canonical_url: None,
        site_name: None,
        image: None,
        section: None,
        tags: vec![],
        campaigns: vec![],
        http_status: 200,
        text_source: "page".into(),
        cluster: None,
        post: None,
        revision: None,
    }
}

/// Writes the config, an archive of five articles, a store with a snapshot and feed states, and a
/// digest day made by the digest module.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("feeds.toml");
    std::fs::write(&cfg_path, CONFIG).unwrap();
    let config = config::load(&cfg_path).unwrap();

    let en_text =
        "Officials said peaceful reunification is the only path. Reunification talks resume.";
    let mut en = article(
        "http://cn.example/a/1",
        "cn-state",
        Affiliation::State,
        "CN",
        "en",
        "Latn",
        "Reunification is inevitable, officials say",
        en_text,
        20,
    );
    en.campaigns = vec![campaign_hit(en_text, "reunification")];
    en.cluster = Some(en.id.clone());
    let mut copy = article(
        "http://tw.example/b/7",
        "tw-indie",
        Affiliation::Independent,
        "TW",
        "en",
        "Latn",
        "Officials say reunification is inevitable (copy)",
        en_text,
        21,
    );
    copy.campaigns = vec![campaign_hit(en_text, "reunification")];
    copy.cluster = Some(en.id.clone());
    let zh_text = "两岸统一是历史大势。和平统一符合各方利益。";
    let mut zh = article(
        "http://cn.example/a/2",
        "cn-state",
        Affiliation::State,
        "CN",
        "zh",
        "Hans",
        "统一是大势所趋",
        zh_text,
        22,
    );
    zh.campaigns = vec![campaign_hit(zh_text, "统一")];
    let ru = article(
        "http://ru.example/c/3",
        "ru-state",
        Affiliation::State,
        "RU",
        "ru",
        "Cyrl",
        "Северный морской путь открыт",
        "Ледокол прошёл Северный морской путь раньше срока.",
        24,
    );
    let mut hostile = article(
        "http://evil.example/x",
        "hostile",
        Affiliation::State,
        "CN",
        "en",
        "Latn",
        XSS_TITLE,
        XSS_TEXT,
        23,
    );
    hostile.source_name = "<b onmouseover=alert(6)>Evil</b>".into();
    hostile.final_url = "javascript:alert(7)".into();
    hostile.canonical_url = Some("javascript:alert(8)//http://x".into());
    hostile.authors = vec!["<script>alert(9)</script>".into()];
    hostile.tags = vec!["<svg onload=alert(10)>".into()];
    hostile.description = Some("<img src=x onerror=alert(11)>".into());
    hostile.campaigns = vec![campaign_hit(XSS_TEXT, "reunification")];

    let index = dir.path().join("index");
    let archive = Archive::open_or_create(&index).unwrap();
    let mut w = archive.writer().unwrap();
    for a in [&en, &copy, &zh, &ru, &hostile] {
        w.upsert(a).unwrap();
    }
    w.commit().unwrap();
    drop(w);

    {
        let store = Store::open(&index).unwrap();
        let page = |url: &str, body: &str| Page {
            url: url::Url::parse(url).unwrap(),
            final_url: url::Url::parse(url).unwrap(),
            status: 200,
            content_type: Some("text/html".into()),
            etag: None,
            last_modified: None,
            headers: vec![("content-type".into(), "text/html".into())],
            body: body.as_bytes().to_vec(),
            fetched_at: Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap(),
        };
        let p1 = page(
            "http://cn.example/a/1",
            "<html><body><p>Reunification</p></body></html>",
        );
        let p2 = page(
            "http://evil.example/x",
            "<html><script>alert('snapshot')</script></html>",
        );
        store
            .put_snapshots(&[(en.id.clone(), &p1), (hostile.id.clone(), &p2)])
            .unwrap();
        store
            .put_feed_states(&[
                (
                    "cn-state".into(),
                    FeedState {
                        last_success: Some(Utc::now()),
                        entries_seen: 12,
                        articles_archived: 2,
                        ..Default::default()
                    },
                ),
                (
                    "ru-state".into(),
                    FeedState {
                        consecutive_failures: 6,
                        last_error: Some("HTTP 503 <html>".into()),
                        ..Default::default()
                    },
                ),
            ])
            .unwrap();
    }

    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let digest = mediawatch::digest::build(day, std::slice::from_ref(&hostile), &config);
    std::fs::create_dir_all(&config.digest_dir).unwrap();
    for format in [
        mediawatch::digest::DigestFormat::Md,
        mediawatch::digest::DigestFormat::Html,
        mediawatch::digest::DigestFormat::Json,
    ] {
        std::fs::write(
            config
                .digest_dir
                .join(format!("{day}.{}", format.extension())),
            mediawatch::digest::render(&digest, format),
        )
        .unwrap();
    }

    Fixture {
        ids: Ids {
            en: en.id,
            ru: ru.id,
            hostile: hostile.id,
        },
        dir,
        config,
    }
}

pub fn app(f: &Fixture, token: Option<&str>) -> (Router, Arc<AppState>) {
    let archive = Archive::open(&f.config.index_path).unwrap();
    let state = Arc::new(AppState::new(f.config.clone(), archive, token));
    (web::router(Arc::clone(&state)), state)
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub async fn send(router: &Router, req: Request<Body>) -> Answer {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), 64 << 20)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub async fn get(router: &Router, uri: &str) -> Answer {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// `href="..."` values of a page, HTML entities for & decoded.
fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|s| s.replace("&amp;", "&").replace("&#38;", "&"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_api_route_answers() {
    let f = fixture();
    let (r, _) = app(&f, None);
    let en = &f.ids.en;
    let cases: Vec<(String, &str, Vec<&str>)> = vec![
        (
            "/search".into(),
            "text/html",
            vec!["5</strong> matches", "Query syntax", "<svg"],
        ),
        (
            "/search?q=reunification".into(),
            "text/html",
            vec![
                "<mark>",
                "data-facet=\"campaign\"",
                "/search.csv?q=reunification",
            ],
        ),
        (
            format!("/articles/{en}"),
            "text/html",
            vec![
                "Reunification is inevitable",
                "Download snapshot",
                "Copy cluster",
                "(copy)",
                "confidence 0.93",
            ],
        ),
        (
            "/campaigns".into(),
            "text/html",
            vec![
                "Reunification &#38; inevitability",
                "统一",
                "4 articles",
                "<rect",
            ],
        ),
        (
            "/digests".into(),
            "text/html",
            vec!["2026-11-23", "/digests/2026-11-23.json"],
        ),
        (
            "/digests/2026-11-23".into(),
            "text/html",
            vec!["Digest 2026-11-23", "<pre class=\"digest\">"],
        ),
        (
            "/digests/2026-11-23.html".into(),
            "text/html",
            vec!["2026-11-23"],
        ),
        (
            "/digests/2026-11-23.md".into(),
            "text/plain",
            vec!["2026-11-23"],
        ),
        (
            "/digests/2026-11-23.json".into(),
            "application/json",
            vec!["\"date\""],
        ),
        (
            "/feeds".into(),
            "text/html",
            vec!["cn-state", "unhealthy", "HTTP 503 &#60;html&#62;"],
        ),
        ("/static/style.css".into(), "text/css", vec!["mark"]),
        (
            "/search.atom?q=reunification".into(),
            "application/atom+xml",
            vec!["<feed", "<entry>"],
        ),
        (
            "/search.csv?campaign=reunification".into(),
            "text/csv",
            vec!["id,url,title,feed"],
        ),
        (
            "/search.jsonl".into(),
            "application/x-ndjson",
            vec!["\"snippet\""],
        ),
        (
            "/search.provenance.json?q=reunification".into(),
            "application/json",
            vec!["\"matches\":3", "\"sha256\"", "\"index_commit\""],
        ),
        (
            "/api/search?q=reunification".into(),
            "application/json",
            vec!["\"total\":3", "\"facets\""],
        ),
        (
            format!("/api/articles/{en}"),
            "application/json",
            vec!["\"snapshot\"", "\"cluster\""],
        ),
        (
            "/api/campaigns".into(),
            "application/json",
            vec!["\"reunification\"", "\"count\":4"],
        ),
        (
            "/api/digests".into(),
            "application/json",
            vec!["2026-11-23"],
        ),
        (
            "/api/digests/2026-11-23".into(),
            "application/json",
            vec!["\"date\""],
        ),
        (
            "/api/feeds".into(),
            "application/json",
            vec!["\"health\":\"unhealthy\""],
        ),
        (
            "/api/openapi.json".into(),
            "application/json",
            vec!["\"openapi\": \"3.1.0\""],
        ),
    ];
    for (uri, ct, needles) in cases {
        let a = get(&r, &uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.body);
        assert!(
            a.content_type().starts_with(ct),
            "{uri}: {}",
            a.content_type()
        );
        for n in needles {
            assert!(a.body.contains(n), "{uri}: no {n:?} in\n{}", a.body);
        }
        let csp = a.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe"),
            "{uri}: {csp}"
        );
        assert_eq!(
            a.headers[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{uri}"
        );
    }
    let home = get(&r, "/").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.headers[header::LOCATION], "/search");
    let missing = get(&r, "/nowhere").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_filters_facets_timeline_and_pages() {
    let f = fixture();
    let (r, _) = app(&f, None);
    let api = get(&r, "/api/search?campaign=reunification").await.json();
    assert_eq!(api["total"], 4);
    let facet = |name: &str, value: &str| -> u64 {
        api["facets"][name]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["value"] == value)
            .map_or(0, |v| v["count"].as_u64().unwrap())
    };
    assert_eq!(facet("affiliation", "state"), 3);
    assert_eq!(facet("affiliation", "independent"), 1);
    assert_eq!(facet("lang", "zh"), 1);
    assert_eq!(facet("country", "TW"), 1);
    assert_eq!(facet("script", "Hans"), 1);
    let buckets = api["timeline"]["buckets"].as_array().unwrap();
    let counts: Vec<u64> = buckets
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .collect();
    // 20, 21, 22, 23 November: one each.
    assert_eq!(counts, [1, 1, 1, 1], "{buckets:?}");
    assert_eq!(api["timeline"]["interval"], "day");

    // Clicking a facet on the page is a link that filters.
    let page = get(&r, "/search?campaign=reunification").await;
    let link = hrefs(&page.body)
        .into_iter()
        .find(|h| h.contains("country=TW"))
        .expect("a country facet link");
    let filtered = get(&r, &link).await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert!(
        filtered.body.contains("<strong>1</strong> matches"),
        "{}",
        filtered.body
    );
    assert!(filtered.body.contains("(copy)"));

    // Filters the library has no field for (script, country) and date ranges.
    for (q, total) in [
        ("script=Hans", 1),
        ("country=CN", 3),
        ("lang=ru", 1),
        ("feed=cn-state", 2),
        ("affiliation=independent", 1),
        ("since=2026-11-22&until=2026-11-23", 2),
        ("q=reunification&country=cn&script=latn", 2),
    ] {
        let a = get(&r, &format!("/api/search?{q}")).await.json();
        assert_eq!(a["total"], total, "{q}");
    }

    // Sort and pages.
    let p1 = get(&r, "/api/search?sort=oldest&size=2").await.json();
    let p3 = get(&r, "/api/search?sort=oldest&size=2&page=3")
        .await
        .json();
    assert_eq!(p1["pages"], 3);
    assert_eq!(p1["hits"][0]["id"], f.ids.en.as_str());
    assert_eq!(p3["hits"].as_array().unwrap().len(), 1);
    assert_eq!(p3["hits"][0]["id"], f.ids.ru.as_str());
    assert!(p3["links"]["next"].is_null());
    let html = get(&r, "/search?sort=oldest&size=2&page=2").await.body;
    assert!(html.contains("rel=\"prev\"") && html.contains("rel=\"next\""));
    assert!(html.contains("3–4 of <strong>5</strong>"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_400_with_a_message() {
    let f = fixture();
    let (r, _) = app(&f, None);
    for (uri, needle) in [
        ("/search?page=0", "page"),
        ("/search?since=last-week", "since"),
        ("/search?q=nofield:x", "parameter q"),
        ("/search?q=%22unclosed", "parameter q"),
        ("/search?size=5000", "size"),
        ("/search?sort=random", "sort"),
        ("/search?lang=%3Cscript%3E", "lang"),
        ("/search?colour=red", "colour"),
        ("/search.atom?until=2026-02-30", "until"),
        ("/search.csv?q=nofield:x", "parameter q"),
        ("/search.jsonl?feed=../../etc", "feed"),
        ("/articles/not-an-id", "16 hex digits"),
        ("/articles/zz/snapshot", "16 hex digits"),
        ("/digests/yesterday", "not a digest day"),
    ] {
        let a = get(&r, uri).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}: {}", a.body);
        assert!(a.content_type().starts_with("text/html"), "{uri}");
        assert!(
            a.body.contains(needle),
            "{uri}: no {needle:?} in {}",
            a.body
        );
    }
    for (uri, needle) in [
        ("/api/search?page=-1", "page"),
        ("/api/search?q=nofield:x", "parameter q"),
        ("/api/articles/XYZ", "16 hex digits"),
        ("/api/digests/2026-13-01", "not a day"),
        ("/api/digests/2026-1-1", "not a day"),
    ] {
        let a = get(&r, uri).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}: {}", a.body);
        let j = a.json();
        assert!(j["error"].as_str().unwrap().contains(needle), "{uri}: {j}");
    }
    for uri in [
        "/articles/0000000000000000",
        "/api/articles/0000000000000000",
        "/articles/0000000000000000/snapshot",
        "/digests/2020-01-01",
        "/digests/2020-01-01.md",
        "/api/digests/2020-01-01",
    ] {
        assert_eq!(get(&r, uri).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
    // Only GET; bodies are capped.
    let post = send(&r, Request::post("/search").body(Body::from("x")).unwrap()).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    let big = send(
        &r,
        Request::get("/search")
            .header(header::CONTENT_LENGTH, "1000000")
            .body(Body::from(vec![b'x'; 1_000_000]))
            .unwrap(),
    )
    .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_is_checked_on_every_request() {
    let f = fixture();
    let token = "s3cret-token-0123456789";
    let (r, _) = app(&f, Some(token));
    for uri in [
        "/search",
        "/api/search",
        "/static/style.css",
        "/api/openapi.json",
        "/nowhere",
    ] {
        let a = get(&r, uri).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(a.body.contains("needs a token"), "{uri}: {}", a.body);
    }
    assert!(get(&r, "/api/feeds").await.json()["error"].is_string());
    let wrong = send(
        &r,
        Request::get("/search")
            .header(header::AUTHORIZATION, "Bearer wrong-token-0123456789")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let ok = send(
        &r,
        Request::get("/api/search?q=reunification")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK);
    // ?token= sets a cookie and redirects to the same URL without the token.
    let login = get(&r, &format!("/search?q=reunification&token={token}")).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_eq!(login.headers[header::LOCATION], "/search?q=reunification");
    let cookie = login.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let with_cookie = send(
        &r,
        Request::get("/search?q=reunification")
            .header(header::COOKIE, cookie.split(';').next().unwrap())
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(with_cookie.status, StatusCode::OK);
    assert!(get(&r, "/search?token=wrong").await.status == StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_login_never_redirects_off_the_server() {
    let f = fixture();
    let token = "s3cret-token-0123456789";
    let (r, _) = app(&f, Some(token));
    let login = |uri: String| {
        let r = r.clone();
        async move {
            let a = get(&r, &uri).await;
            assert_eq!(a.status, StatusCode::SEE_OTHER, "{uri}");
            assert!(a.headers[header::SET_COOKIE]
                .to_str()
                .unwrap()
                .starts_with("mw_token="));
            a.headers[header::LOCATION].to_str().unwrap().to_string()
        }
    };
    // Browsers follow `/\evil.example/` to `//evil.example/`, another host; `%5C` is a backslash and
    // `%09` a tab, which browsers drop. All go to `/`, keeping the query without the token.
    for evil in [
        "/\\evil.example/",
        "//evil.example/",
        "/%5Cevil.example/",
        "/%09/evil.example/",
        "/%2F/evil.example/",
    ] {
        assert_eq!(login(format!("{evil}?token={token}")).await, "/", "{evil}");
        assert_eq!(
            login(format!("{evil}?q=x&token={token}&page=2")).await,
            "/?q=x&page=2",
            "{evil}"
        );
    }
    // A raw tab cannot reach the router at all: it is not a valid request target.
    assert!(axum::http::Uri::try_from(format!("/\t/evil.example/?token={token}")).is_err());
    // Paths here are kept, with their query.
    assert_eq!(login(format!("/search?token={token}")).await, "/search");
    assert_eq!(
        login(format!("/search?q=%D1%84+x&token={token}&lang=ru")).await,
        "/search?q=%D1%84+x&lang=ru"
    );
    let article = format!("/articles/{}", f.ids.en);
    assert_eq!(login(format!("{article}?token={token}")).await, article);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_article_renders_inert() {
    let f = fixture();
    let (r, _) = app(&f, None);
    let id = &f.ids.hostile;
    let pages = [
        format!("/articles/{id}"),
        "/search?q=reunification".to_string(),
        "/search?feed=hostile".to_string(),
        "/search.atom?q=reunification".to_string(),
        "/campaigns".to_string(),
        "/feeds".to_string(),
    ];
    for uri in &pages {
        let a = get(&r, uri).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        let body = a.body.to_ascii_lowercase();
        for bad in [
            "<script",
            "<img",
            "<iframe",
            "<svg onload",
            "<b onmouseover",
            "\" onmouseover=\"",
            "href=\"javascript:",
            "src=\"javascript:",
            "</textarea><svg",
        ] {
            assert!(!body.contains(bad), "{uri}: {bad:?} is live in\n{}", a.body);
        }
        assert!(!a.body.contains("<script"), "{uri}");
    }
    let page = get(&r, &format!("/articles/{id}")).await.body;
    // The payloads are shown as text.
    assert!(
        page.contains("&#60;script&#62;alert(&#34;title&#34;)&#60;/script&#62;"),
        "{page}"
    );
    assert!(
        page.contains("javascript:alert(7)"),
        "the final URL is shown as text"
    );
    assert!(page.contains("<mark>reunification</mark>"));
    for h in hrefs(&page) {
        assert!(
            h.starts_with('/') || h.starts_with("http://") || h.starts_with("https://"),
            "href {h:?}"
        );
    }
    // The snapshot downloads, never renders.
    let snap = get(&r, &format!("/articles/{id}/snapshot")).await;
    assert_eq!(snap.status, StatusCode::OK);
    assert_eq!(snap.content_type(), "application/octet-stream");
    let disposition = snap.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        snap.body.contains("alert('snapshot')"),
        "raw bytes as fetched"
    );
    assert!(snap.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    // The digest's own HTML is sandboxed too.
    let digest = get(&r, "/digests/2026-11-23.html").await;
    assert!(digest.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert!(!digest.body.contains("<script"));
    // The Atom feed is well-formed XML with the payload as text.
    let atom = get(&r, "/search.atom?feed=hostile").await.body;
    let parsed = feed_rs::parser::parse(atom.as_bytes()).expect("valid Atom");
    assert_eq!(parsed.entries.len(), 1);
    assert!(parsed.entries[0]
        .title
        .as_ref()
        .unwrap()
        .content
        .contains("<script>alert(\"title\")</script>"));
    // JSON API returns the text as data.
    let api = get(&r, &format!("/api/articles/{id}")).await.json();
    assert_eq!(api["article"]["title"], XSS_TITLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_stream_every_match_with_provenance() {
    let f = fixture();
    let (r, _) = app(&f, Some("a-token-long-enough-0123"));
    let auth = |uri: &str| {
        Request::get(uri)
            .header(header::AUTHORIZATION, "Bearer a-token-long-enough-0123")
            .body(Body::empty())
            .unwrap()
    };
    let csv = send(&r, auth("/search.csv?campaign=reunification")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers[header::CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    let titles: Vec<&str> = rows.iter().map(|r| &r[2]).collect();
    assert!(titles.iter().any(|t| t.starts_with("<script>")));
    let jsonl = send(&r, auth("/search.jsonl?campaign=reunification&size=1")).await;
    let lines: Vec<serde_json::Value> = jsonl
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "every match, not one page");
    assert!(lines[0]["snippet"].is_string());
    // The record of that download: its sha256 is the body's.
    let record = send(
        &r,
        auth("/search.provenance.json?campaign=reunification&size=1&format=jsonl"),
    )
    .await;
    assert_eq!(record.status, StatusCode::OK, "{}", record.body);
    let record = record.json();
    assert_eq!(record["matches"], 4);
    assert_eq!(record["format"], "jsonl");
    assert_eq!(record["index_commit"]["articles"], 5);
    assert_eq!(record["filters"]["campaign"], "reunification");
    use sha2::Digest;
    assert_eq!(
        record["sha256"],
        hex::encode(sha2::Sha256::digest(jsonl.body.as_bytes())).as_str()
    );
    let bad = send(&r, auth("/search.provenance.json?format=xlsx")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("format"), "{}", bad.body);
    // A formula in a hostile title never reaches a spreadsheet as a formula.
    let formula_dir = tempfile::tempdir().unwrap();
    let archive = Archive::open_or_create(formula_dir.path()).unwrap();
    let mut w = archive.writer().unwrap();
    let mut a = article(
        "http://evil.example/f",
        "hostile",
        Affiliation::State,
        "CN",
        "en",
        "Latn",
        "=HYPERLINK(\"http://evil.example\",\"reunification\")",
        "reunification",
        25,
    );
    a.id = article_id(&a.url);
    w.upsert(&a).unwrap();
    w.commit().unwrap();
    archive.reload().unwrap();
    let mut out = Vec::new();
    let req = mediawatch::search::SearchRequest {
        query: "reunification".into(),
        limit: 10,
        ..Default::default()
    };
    mediawatch::search::export(
        &archive,
        &req,
        mediawatch::search::ExportFormat::Csv,
        &mut out,
    )
    .unwrap();
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(
        &row[2],
        "'=HYPERLINK(\"http://evil.example\",\"reunification\")"
    );
}

/// Regression: the web had its own exporter (other columns; a provenance record without the index
/// commit or a sha256, and without the `country` and `script` filters). A web download and
/// `mediawatch search --all` of the same search on the same commit are now the same bytes, with the same
/// record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_and_cli_exports_of_one_search_are_the_same() {
    let f = fixture();
    let (r, _) = app(&f, None);
    let cfg = f.dir.path().join("feeds.toml");
    let stamp = f.dir.path().join("stamp.json");
    let search = "q=reunification&country=CN&script=Latn&affiliation=state&since=2026-11-01";
    for format in ["csv", "jsonl"] {
        let cli = assert_cmd::Command::cargo_bin("mediawatch")
            .unwrap()
            .arg("--config")
            .arg(&cfg)
            .args([
                "search",
                "reunification",
                "--country",
                "CN",
                "--script",
                "Latn",
            ])
            .args(["--affiliation", "state", "--since", "2026-11-01"])
            .args(["--all", "--format", format, "--stamp"])
            .arg(&stamp)
            .output()
            .unwrap();
        assert!(
            cli.status.success(),
            "{}",
            String::from_utf8_lossy(&cli.stderr)
        );
        let cli_record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&stamp).unwrap()).unwrap();
        let web = get(&r, &format!("/search.{format}?{search}")).await;
        assert_eq!(web.status, StatusCode::OK, "{}", web.body);
        let web_record = get(
            &r,
            &format!("/search.provenance.json?{search}&format={format}"),
        )
        .await
        .json();

        // The same rows: the en article and the hostile one (both CN, Latin script, state).
        assert_eq!(web.body.as_bytes(), cli.stdout.as_slice(), "{format}");
        let rows = match format {
            "csv" => csv::Reader::from_reader(web.body.as_bytes())
                .records()
                .count(),
            _ => web.body.lines().count(),
        };
        assert_eq!(rows, 2, "{format}: {}", web.body);
        assert_eq!(web_record["matches"], 2);
        // The same record: every filter as a filter, the same commit, the same digest.
        assert_eq!(web_record["filters"], cli_record["filters"], "{format}");
        assert_eq!(web_record["filters"]["country"], "CN");
        assert_eq!(web_record["filters"]["script"], "Latn");
        assert_eq!(web_record["query"], "reunification");
        assert_eq!(web_record["query"], cli_record["query"]);
        assert_eq!(web_record["index_commit"], cli_record["index_commit"]);
        assert_eq!(web_record["sha256"], cli_record["sha256"]);
        assert_eq!(web_record["format"], format);
        assert_eq!(
            web_record.as_object().unwrap().keys().collect::<Vec<_>>(),
            cli_record.as_object().unwrap().keys().collect::<Vec<_>>()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_beyond_the_limit_are_503_until_one_ends() {
    let mut f = fixture();
    f.config.web.max_exports = 1;
    let (r, _) = app(&f, None);
    let export = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    // The first download is answered and its body left unread: it holds the only export slot.
    let first = r
        .clone()
        .oneshot(export("/search.csv?campaign=reunification"))
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    for uri in [
        "/search.jsonl?q=taiwan",
        "/search.csv?campaign=reunification",
        "/search.provenance.json?campaign=reunification",
    ] {
        let busy = send(&r, export(uri)).await;
        assert_eq!(
            busy.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{uri}: {}",
            busy.body
        );
        assert!(busy.body.contains("max_exports"), "{}", busy.body);
    }
    // Searching is not an export: it still answers.
    assert_eq!(get(&r, "/search?q=taiwan").await.status, StatusCode::OK);
    // Reading the first download to its end frees the slot.
    let rows = axum::body::to_bytes(first.into_body(), 64 << 20)
        .await
        .unwrap();
    assert_eq!(csv::Reader::from_reader(&rows[..]).records().count(), 4);
    let again = send(&r, export("/search.jsonl?campaign=reunification")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body.lines().count(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sees_new_commits_without_restart() {
    let f = fixture();
    let (r, _) = app(&f, None);
    let before = get(&r, "/api/search?q=icebreaker").await.json();
    assert_eq!(before["total"], 0);
    // A writer beside the server (as `run` would be) commits a new article.
    let writer_side = Archive::open(&f.config.index_path).unwrap();
    let mut w = writer_side.writer().unwrap();
    let a = article(
        "http://ru.example/c/99",
        "ru-state",
        Affiliation::State,
        "RU",
        "en",
        "Latn",
        "Icebreaker reaches port",
        "The icebreaker arrived early.",
        26,
    );
    w.upsert(&a).unwrap();
    w.commit().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = get(&r, "/api/search?q=icebreaker").await.json();
        if now["total"] == 1 {
            assert_eq!(now["hits"][0]["id"], a.id.as_str());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "new commit not seen: {now}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let page = get(&r, &format!("/articles/{}", a.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    // The server never took the writer lock: this writer could open, and can again.
    drop(w);
    assert!(writer_side.writer().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_lists_every_api_route() {
    let f = fixture();
    let (r, _) = app(&f, None);
    let doc = get(&r, "/api/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/search",
        "/api/terms",
        "/api/changes",
        "/api/articles/{id}",
        "/api/campaigns",
        "/api/digests",
        "/api/digests/{date}",
        "/api/feeds",
        "/api/alerts",
        "/api/openapi.json",
        "/search.atom",
        "/alerts/{id}.atom",
        "/search.csv",
        "/search.jsonl",
        "/search.provenance.json",
    ] {
        assert!(paths.contains_key(p), "{p} not documented");
    }
    // Every documented search (and changes) parameter is one the server accepts.
    for route in ["/api/search", "/api/changes", "/api/terms"] {
        let params = doc["paths"][route]["get"]["parameters"].as_array().unwrap();
        for p in params {
            let name = p["name"].as_str().unwrap();
            let a = get(&r, &format!("{route}?{name}=")).await;
            assert_eq!(a.status, StatusCode::OK, "{route} {name}: {}", a.body);
        }
    }
}

#[test]
fn serve_refuses_a_public_address_without_a_token() {
    let f = fixture();
    let cfg = f.dir.path().join("feeds.toml");
    let out = assert_cmd::Command::cargo_bin("mediawatch")
        .unwrap()
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "serve",
            "--addr",
            "0.0.0.0:0",
        ])
        .env_remove("MEDIAWATCH_TOKEN")
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("without a token"), "{err}");
}

/// `serve` warms the index in the background when it starts and says what it read, while it serves.
#[test]
fn serve_warms_the_index_and_says_so() {
    let f = fixture();
    let cfg = f.dir.path().join("feeds.toml");
    let (mut child, rx) = crate::support::start(&cfg, &["serve", "--addr", "127.0.0.1:0"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (mut serving, mut warmed) = (None, None);
    while serving.is_none() || warmed.is_none() {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        if line.contains("serving") {
            serving = Some(line);
        } else if line.contains("of the index into memory") {
            warmed = Some(line);
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let serving = serving.expect("serve started");
    assert!(serving.contains("http://127.0.0.1:"), "{serving}");
    let warmed = warmed.expect("the warm-up's line");
    // "mediawatch: read 61.2 kB of the index into memory in 0.0 s": some bytes,
    // nothing left out.
    let amount: f64 = warmed
        .split_whitespace()
        .nth(2)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("{warmed}"));
    assert!(amount > 0.0 && !warmed.contains("left on disk"), "{warmed}");
}
