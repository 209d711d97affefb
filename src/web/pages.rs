//! Server-rendered pages (askama templates in `src/web/templates`, auto-escaped) and the Atom feed.
//! Handlers gather plain view structs; templates only loop and print.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;

use super::params::{SearchParams, FILTERS};
use super::view::{self, Bucket, Segment};
use super::{blocking, is_article_id, AppState, WebError, CSP_SANDBOX};
use crate::escape::{http_url, xml_text};
use crate::model::{Article, Hit};
use crate::search::{self, Interval, Sort};

/// The stylesheet (the CSP allows no inline style).
const STYLE: &str = include_str!("static/style.css");

/// `GET /static/style.css`.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => Html(body).into_response(),
        Err(e) => WebError::internal(anyhow::anyhow!("template failed: {e}")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
}

/// The HTML page of an error.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("error"),
        message,
    };
    let body = page.render().unwrap_or_else(|_| "error".to_string());
    (status, Html(body)).into_response()
}

/// A link.
#[derive(Debug, Clone)]
pub struct Link {
    /// Text.
    pub label: String,
    /// Target (a local path, or a checked http(s) URL).
    pub href: String,
}

/// An option of a select box.
#[derive(Debug, Clone)]
pub struct Choice {
    /// Submitted value.
    pub value: String,
    /// Shown text.
    pub label: String,
    /// Currently chosen.
    pub selected: bool,
}

fn choices(
    current: Option<&str>,
    options: impl IntoIterator<Item = (String, String)>,
) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: current == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

/// One facet value, as a filter link.
pub struct FacetValue {
    /// Value.
    pub value: String,
    /// Matches with it.
    pub count: u64,
    /// The search with this filter set (or cleared when active).
    pub href: String,
    /// Whether the filter is set to this value.
    pub active: bool,
}

/// One facet of the panel.
pub struct FacetView {
    /// Parameter name.
    pub name: &'static str,
    /// Heading.
    pub label: &'static str,
    /// Values, most frequent first.
    pub values: Vec<FacetValue>,
}

/// A bar of an SVG timeline (geometry computed here).
pub struct Bar {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub w: u32,
    /// Height.
    pub h: u32,
    /// Tooltip: range and count.
    pub label: String,
    /// The search restricted to this bucket.
    pub href: String,
}

/// An SVG timeline.
pub struct Timeline {
    /// Drawing width.
    pub width: u32,
    /// Drawing height.
    pub height: u32,
    /// Bars.
    pub bars: Vec<Bar>,
    /// "day", "week" or "month".
    pub interval: &'static str,
    /// First bucket's day.
    pub first: String,
    /// Last bucket's day.
    pub last: String,
    /// Largest bucket.
    pub max: u64,
}

const TIMELINE_W: u32 = 720;
const TIMELINE_H: u32 = 80;

/// Lays out buckets as bars; `href` gives each bar's link.
pub fn timeline(
    buckets: &[Bucket],
    interval: Interval,
    href: impl Fn(&Bucket) -> String,
) -> Option<Timeline> {
    let (first, last) = (buckets.first()?, buckets.last()?);
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let n = buckets.len() as u32;
    let step = (TIMELINE_W / n).max(1);
    let w = step.saturating_sub(1).max(1);
    let bars = buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let h = ((b.count as f64 / max as f64) * f64::from(TIMELINE_H - 2)).round() as u32;
            let h = if b.count > 0 { h.max(2) } else { 0 };
            let range = if b.start == b.end {
                b.start.to_string()
            } else {
                format!("{} to {}", b.start, b.end)
            };
            Bar {
                x: i as u32 * step,
                y: TIMELINE_H - h,
                w,
                h,
                label: format!("{range}: {} articles", b.count),
                href: href(b),
            }
        })
        .collect();
    Some(Timeline {
        width: (step * n).max(1),
        height: TIMELINE_H,
        bars,
        interval: match interval {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        },
        first: first.start.to_string(),
        last: last.end.to_string(),
        max,
    })
}

/// A hit as listed.
pub struct HitView {
    /// Article page.
    pub href: String,
    /// Headline.
    pub title: String,
    /// Outlet.
    pub source_name: String,
    /// Feed id.
    pub feed: String,
    /// Affiliation.
    pub affiliation: String,
    /// Country.
    pub country: String,
    /// Language.
    pub lang: String,
    /// Script.
    pub script: String,
    /// Publication day.
    pub published: String,
    /// Campaign ids.
    pub campaigns: Vec<String>,
    /// Snippet with highlights.
    pub snippet: Vec<Segment>,
    /// Original URL as text.
    pub url: String,
    /// Original URL as a link when http(s).
    pub url_href: Option<String>,
}

fn hit_view(h: &Hit) -> HitView {
    HitView {
        href: format!("/articles/{}", h.id),
        title: h.title.clone(),
        source_name: h.source_name.clone(),
        feed: h.feed.clone(),
        affiliation: h.affiliation.clone(),
        country: h.country.clone().unwrap_or_default(),
        lang: h.lang.clone(),
        script: h.script.clone().unwrap_or_default(),
        published: h
            .published
            .as_deref()
            .map(|d| d[..d.len().min(10)].to_string())
            .unwrap_or_default(),
        campaigns: h.campaigns.clone(),
        snippet: view::snippet_segments(&h.snippet, &h.highlights),
        url: h.url.clone(),
        url_href: http_url(&h.url).map(String::from),
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    q: String,
    since: String,
    until: String,
    sorts: Vec<Choice>,
    selects: Vec<(&'static str, &'static str, Vec<Choice>)>,
    total: usize,
    from: usize,
    to: usize,
    hits: Vec<HitView>,
    facets: Vec<FacetView>,
    timeline: Option<Timeline>,
    prev_href: Option<String>,
    next_href: Option<String>,
    page: usize,
    pages: usize,
    exports: Vec<Link>,
    atom_href: String,
    api_href: String,
    active_filters: Vec<Link>,
}

/// Everything one search shows: results of this page, facets and timeline.
pub struct SearchData {
    /// Hits of this page.
    pub results: search::SearchResults,
    /// Facet counts over all matches.
    pub facets: view::Facets,
    /// Timeline buckets over all matches.
    pub buckets: Vec<Bucket>,
    /// Their width.
    pub interval: Interval,
}

/// Runs the search, facets and timeline of `p` (blocking).
pub fn run_search(state: &AppState, p: &SearchParams) -> Result<SearchData, WebError> {
    let req = p.to_request();
    // One pass over the matches: hits, facets and the daily timeline.
    let overview = search::overview(&state.archive, &req).map_err(WebError::internal)?;
    let interval = match overview.span() {
        Some((first, last)) => Interval::for_span(first, last),
        None => Interval::Day,
    };
    let buckets = view::timeline_view(overview.timeline(interval), interval);
    let facets = view::facets_view(overview.facets);
    let mut results = overview.results;
    results.hits = results.hits.split_off(p.offset().min(results.hits.len()));
    Ok(SearchData {
        results,
        facets,
        buckets,
        interval,
    })
}

/// `GET /search`.
pub async fn search(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let p = SearchParams::parse(raw.as_deref(), state.limits())?;
    let page = blocking(&state, move |state| {
        let data = run_search(state, &p)?;
        Ok(search_page(state, &p, data))
    })
    .await?;
    Ok(render(&page))
}

fn search_page(state: &AppState, p: &SearchParams, data: SearchData) -> SearchPage {
    let total = data.results.total;
    let pages = total.div_ceil(p.size).max(1);
    let max_page = (state.limits().max_offset / p.size).max(1);
    let facet_labels = [
        ("campaign", "Campaign"),
        ("feed", "Feed"),
        ("lang", "Language"),
        ("script", "Script"),
        ("affiliation", "Affiliation"),
        ("country", "Country"),
    ];
    let facets = facet_labels
        .iter()
        .map(|(name, label)| {
            let current = p.filter(name);
            FacetView {
                name,
                label,
                values: data
                    .facets
                    .get(name)
                    .iter()
                    .map(|f| {
                        let active = current == Some(f.value.as_str());
                        FacetValue {
                            href: p
                                .with_filter(name, (!active).then_some(f.value.as_str()))
                                .href("/search"),
                            value: f.value.clone(),
                            count: f.count,
                            active,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let timeline = timeline(&data.buckets, data.interval, |b| {
        p.with_range(b.start, b.end).href("/search")
    });
    let config = &state.config;
    let selects = vec![
        (
            "campaign",
            "Campaign",
            choices(
                p.campaign.as_deref(),
                config
                    .campaigns
                    .iter()
                    .map(|c| (c.id.clone(), c.name.clone())),
            ),
        ),
        (
            "feed",
            "Feed",
            choices(
                p.feed.as_deref(),
                config.feeds.iter().map(|f| (f.id.clone(), f.name.clone())),
            ),
        ),
        (
            "affiliation",
            "Affiliation",
            choices(
                p.affiliation.as_deref(),
                ["state", "independent", "unknown"].map(|a| (a.to_string(), a.to_string())),
            ),
        ),
    ];
    let sorts = choices(
        Some(match p.sort {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
        }),
        ["relevance", "newest", "oldest"].map(|s| (s.to_string(), s.to_string())),
    );
    let unpaged = p.unpaged();
    let active_filters = FILTERS
        .iter()
        .filter_map(|name| {
            p.filter(name).map(|v| Link {
                label: format!("{name}: {v}"),
                href: p.with_filter(name, None).href("/search"),
            })
        })
        .collect();
    let from = if data.results.hits.is_empty() {
        0
    } else {
        p.offset() + 1
    };
    SearchPage {
        q: p.q.clone(),
        since: p.since.map(|d| d.to_string()).unwrap_or_default(),
        until: p.until.map(|d| d.to_string()).unwrap_or_default(),
        sorts,
        selects,
        total,
        from,
        to: p.offset() + data.results.hits.len(),
        hits: data.results.hits.iter().map(hit_view).collect(),
        facets,
        timeline,
        prev_href: (p.page > 1).then(|| p.with_page(p.page - 1).href("/search")),
        next_href: (p.page < pages && p.page < max_page)
            .then(|| p.with_page(p.page + 1).href("/search")),
        page: p.page,
        pages,
        exports: vec![
            Link {
                label: "CSV".into(),
                href: unpaged.href("/search.csv"),
            },
            Link {
                label: "JSONL".into(),
                href: unpaged.href("/search.jsonl"),
            },
            Link {
                label: "provenance".into(),
                href: unpaged.href("/search.provenance.json"),
            },
        ],
        atom_href: unpaged.href("/search.atom"),
        api_href: p.href("/api/search"),
        active_filters,
    }
}

struct AtomEntry {
    id: String,
    title: String,
    href: String,
    updated: String,
    source: String,
    summary: String,
    categories: Vec<String>,
}

#[derive(Template)]
#[template(path = "search.atom.xml")]
struct AtomFeed {
    title: String,
    self_href: String,
    html_href: String,
    feed_id: String,
    updated: String,
    entries: Vec<AtomEntry>,
}

/// Entries of an Atom feed at most.
pub const ATOM_ENTRIES: usize = 50;

/// `GET /search.atom`: the newest matches of a search as Atom 1.0.
pub async fn atom(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let mut p = SearchParams::parse(raw.as_deref(), state.limits())?;
    p.sort = Sort::Newest;
    p.page = 1;
    p.size = ATOM_ENTRIES.min(state.limits().max_page_size);
    let feed = blocking(&state, move |state| {
        let results =
            search::search(&state.archive, &p.to_request()).map_err(WebError::internal)?;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let entries: Vec<AtomEntry> = results
            .hits
            .iter()
            .map(|h| AtomEntry {
                id: format!("urn:mediawatch:article:{}", h.id),
                title: xml_text(&h.title),
                href: format!("/articles/{}", h.id),
                updated: h.published.clone().unwrap_or_else(|| now.clone()),
                source: xml_text(&h.source_name),
                summary: xml_text(&h.snippet),
                categories: h.campaigns.clone(),
            })
            .collect();
        let updated = entries
            .iter()
            .map(|e| e.updated.clone())
            .max()
            .unwrap_or(now);
        let p = p.unpaged();
        Ok(AtomFeed {
            title: xml_text(&format!(
                "mediawatch: {}",
                if p.q.is_empty() { "all articles" } else { &p.q }
            )),
            self_href: p.href("/search.atom"),
            html_href: p.href("/search"),
            feed_id: format!("urn:mediawatch:search:{}", p.query_string()),
            updated,
            entries,
        })
    })
    .await?;
    let body = feed
        .render()
        .map_err(|e| WebError::internal(anyhow::anyhow!("atom template failed: {e}")))?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response())
}

/// Evidence of one campaign on an article.
pub struct CampaignEvidence {
    /// Campaign id.
    pub id: String,
    /// Campaign name.
    pub name: String,
    /// Strength score.
    pub score: String,
    /// (term, language, count).
    pub terms: Vec<(String, String, usize)>,
    /// Search for this campaign.
    pub href: String,
}

/// Provenance of the stored page.
pub struct SnapshotView {
    /// HTTP status.
    pub status: u16,
    /// Requested URL.
    pub url: String,
    /// URL after redirects.
    pub final_url: String,
    /// Content-Type.
    pub content_type: String,
    /// Fetch time.
    pub fetched_at: String,
    /// Body bytes.
    pub body_len: usize,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Download link.
    pub download_href: String,
}

/// A member of the copy cluster.
pub struct ClusterMember {
    /// Article page.
    pub href: String,
    /// Headline.
    pub title: String,
    /// Outlet.
    pub source_name: String,
    /// Affiliation.
    pub affiliation: String,
    /// Publication time.
    pub published: String,
    /// The article shown.
    pub this: bool,
}

#[derive(Template)]
#[template(path = "article.html")]
struct ArticlePage {
    a: Article,
    url_href: Option<String>,
    final_url_href: Option<String>,
    canonical_href: Option<String>,
    published: String,
    modified: String,
    fetched_at: String,
    confidence: String,
    title: Vec<Segment>,
    text: Vec<Segment>,
    campaigns: Vec<CampaignEvidence>,
    snapshot: Option<SnapshotView>,
    cluster: Vec<ClusterMember>,
    json_href: String,
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Highlight ranges of an article's campaign terms in one field ("title" or "text"): the tagger's
/// recorded positions plus every literal occurrence of the matched terms.
pub fn campaign_marks(a: &Article, field: &str, text: &str) -> Vec<std::ops::Range<usize>> {
    let mut marks: Vec<std::ops::Range<usize>> = a
        .campaigns
        .iter()
        .flat_map(|c| &c.terms)
        .flat_map(|t| &t.positions)
        .filter(|p| p.field == field)
        .map(|p| p.start..p.end)
        .collect();
    let terms: Vec<&str> = a
        .campaigns
        .iter()
        .flat_map(|c| &c.terms)
        .map(|t| t.term.trim_matches('*'))
        .collect();
    marks.extend(view::term_ranges(text, &terms));
    marks
}

/// Looks up an article by id (400 for a malformed id, 404 when absent).
pub fn load_article(state: &AppState, id: &str) -> Result<Article, WebError> {
    if !is_article_id(id) {
        return Err(WebError::bad_request(format!(
            "article id {id:?} is not 16 hex digits"
        )));
    }
    search::find_article(&state.archive, id)
        .map_err(WebError::internal)?
        .ok_or_else(|| WebError::not_found(format!("no article {id} in the archive")))
}

/// `GET /articles/{id}`.
pub async fn article(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let page = blocking(&state, move |state| {
        let a = load_article(state, &id)?;
        let cluster = search::cluster_members(&state.archive, &a)
            .map_err(WebError::internal)?
            .into_iter()
            .map(|m| ClusterMember {
                href: format!("/articles/{}", m.id),
                this: m.id == a.id,
                title: m.title,
                source_name: m.source_name,
                affiliation: m.affiliation.as_str().to_string(),
                published: time(m.published),
            })
            .collect();
        let snapshot = match state.store()? {
            Some(store) => store
                .snapshot(&a.id)
                .map_err(WebError::internal)?
                .map(|(meta, _)| SnapshotView {
                    status: meta.status,
                    url: meta.url,
                    final_url: meta.final_url,
                    content_type: meta.content_type.unwrap_or_default(),
                    fetched_at: time(Some(meta.fetched_at)),
                    body_len: meta.body_len,
                    headers: meta.headers,
                    download_href: format!("/articles/{}/snapshot", a.id),
                }),
            None => None,
        };
        let campaigns = a
            .campaigns
            .iter()
            .map(|c| CampaignEvidence {
                id: c.id.clone(),
                name: state
                    .config
                    .campaign(&c.id)
                    .map(|s| s.name.clone())
                    .unwrap_or_else(|| c.id.clone()),
                score: format!("{:.1}", c.score),
                terms: c
                    .terms
                    .iter()
                    .map(|t| (t.term.clone(), t.lang.clone(), t.count))
                    .collect(),
                href: format!("/search?campaign={}", c.id),
            })
            .collect();
        Ok(ArticlePage {
            url_href: http_url(&a.url).map(String::from),
            final_url_href: http_url(&a.final_url).map(String::from),
            canonical_href: a
                .canonical_url
                .as_deref()
                .and_then(http_url)
                .map(String::from),
            published: time(a.published),
            modified: time(a.modified),
            fetched_at: time(Some(a.fetched_at)),
            confidence: format!("{:.2}", a.lang.confidence),
            title: view::segments(&a.title, campaign_marks(&a, "title", &a.title)),
            text: view::segments(&a.text, campaign_marks(&a, "text", &a.text)),
            campaigns,
            snapshot,
            cluster,
            json_href: format!("/api/articles/{}", a.id),
            a,
        })
    })
    .await?;
    Ok(render(&page))
}

/// `GET /articles/{id}/snapshot`: the raw page bytes as fetched, as a download that never renders.
pub async fn snapshot(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let id_for_name = id.clone();
    let (meta, body) = blocking(&state, move |state| {
        if !is_article_id(&id) {
            return Err(WebError::bad_request(format!(
                "article id {id:?} is not 16 hex digits"
            )));
        }
        let store = state
            .store()?
            .ok_or_else(|| WebError::not_found("no state store yet: nothing was fetched"))?;
        store
            .snapshot(&id)
            .map_err(WebError::internal)?
            .ok_or_else(|| WebError::not_found(format!("no snapshot of article {id}")))
    })
    .await?;
    let disposition = format!("attachment; filename=\"{id_for_name}.snapshot\"");
    let mut res = (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&meta.final_url) {
        res.headers_mut().insert("x-mediawatch-final-url", v);
    }
    res.headers_mut()
        .insert("x-mediawatch-http-status", HeaderValue::from(meta.status));
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP_SANDBOX),
    );
    Ok(res)
}

/// A campaign as shown.
pub struct CampaignView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Distinct terms needed.
    pub min_terms: usize,
    /// (language, terms).
    pub terms: Vec<(String, String)>,
    /// `all` groups, each joined with " | ".
    pub all: Vec<String>,
    /// `none` terms joined.
    pub none: String,
    /// `near` rules as text.
    pub near: Vec<String>,
    /// Source restrictions as text.
    pub restrictions: Vec<String>,
    /// Tagged articles in the archive.
    pub count: u64,
    /// Counts over time.
    pub timeline: Option<Timeline>,
    /// Search for it.
    pub href: String,
}

#[derive(Template)]
#[template(path = "campaigns.html")]
struct CampaignsPage {
    campaigns: Vec<CampaignView>,
}

/// Campaigns with counts over time (blocking).
pub fn campaign_views(state: &AppState) -> Result<Vec<CampaignView>, WebError> {
    let facets = view::facets(&state.archive, &crate::search::SearchRequest::default())
        .map_err(WebError::internal)?;
    state
        .config
        .campaigns
        .iter()
        .map(|c| {
            let p = SearchParams {
                campaign: Some(c.id.clone()),
                page: 1,
                size: super::params::DEFAULT_PAGE_SIZE,
                ..Default::default()
            };
            let req = p.to_request();
            let buckets = view::histogram(&state.archive, &req, Interval::Week)
                .map_err(WebError::internal)?;
            let mut restrictions = Vec::new();
            if !c.feeds.is_empty() {
                restrictions.push(format!("feeds: {}", c.feeds.join(", ")));
            }
            if !c.affiliations.is_empty() {
                let a: Vec<&str> = c.affiliations.iter().map(|a| a.as_str()).collect();
                restrictions.push(format!("affiliations: {}", a.join(", ")));
            }
            if !c.countries.is_empty() {
                restrictions.push(format!("countries: {}", c.countries.join(", ")));
            }
            Ok(CampaignView {
                id: c.id.clone(),
                name: c.name.clone(),
                description: c.description.clone(),
                min_terms: c.min_terms,
                terms: c
                    .terms
                    .iter()
                    .map(|(l, t)| (l.clone(), t.join(", ")))
                    .collect(),
                all: c.all.iter().map(|g| g.join(" | ")).collect(),
                none: c.none.join(", "),
                near: c
                    .near
                    .iter()
                    .map(|n| format!("{} within {} words of {}", n.terms[0], n.within, n.terms[1]))
                    .collect(),
                restrictions,
                count: facets
                    .campaign
                    .iter()
                    .find(|f| f.value == c.id)
                    .map_or(0, |f| f.count),
                timeline: timeline(&buckets, Interval::Week, |b| {
                    p.with_range(b.start, b.end).href("/search")
                }),
                href: p.href("/search"),
            })
        })
        .collect()
}

/// `GET /campaigns`.
pub async fn campaigns(State(state): State<Arc<AppState>>) -> Result<Response, WebError> {
    let campaigns = blocking(&state, campaign_views).await?;
    Ok(render(&CampaignsPage { campaigns }))
}

/// The digest files of one day.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DigestDay {
    /// The day.
    pub date: NaiveDate,
    /// Extensions present, of html, md, json.
    pub formats: Vec<&'static str>,
}

/// The digest days in the digest folder, newest first (files named `YYYY-MM-DD.{html,md,json}`).
pub fn digest_days(dir: &std::path::Path) -> Vec<DigestDay> {
    let mut days: std::collections::BTreeMap<NaiveDate, Vec<&'static str>> = Default::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some((date, ext)) = parse_digest_name(name) {
            days.entry(date).or_default().push(ext);
        }
    }
    days.into_iter()
        .rev()
        .map(|(date, mut formats)| {
            formats.sort_unstable();
            DigestDay { date, formats }
        })
        .collect()
}

/// `YYYY-MM-DD.ext` with ext one of html, md, json.
pub fn parse_digest_name(name: &str) -> Option<(NaiveDate, &'static str)> {
    let (date, ext) = name.split_once('.')?;
    let ext = ["html", "md", "json"].into_iter().find(|e| *e == ext)?;
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    (day.to_string() == date).then_some((day, ext))
}

/// Reads one digest file (None when absent).
pub fn read_digest(
    dir: &std::path::Path,
    date: NaiveDate,
    ext: &str,
) -> Result<Option<String>, WebError> {
    let path = dir.join(format!("{date}.{ext}"));
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(WebError::internal(
            anyhow::Error::new(e).context(format!("cannot read {}", path.display())),
        )),
    }
}

#[derive(Template)]
#[template(path = "digests.html")]
struct DigestsPage {
    days: Vec<DigestDay>,
    dir: String,
}

/// `GET /digests`.
pub async fn digests(State(state): State<Arc<AppState>>) -> Result<Response, WebError> {
    let days = blocking(&state, |s| Ok(digest_days(&s.config.digest_dir))).await?;
    Ok(render(&DigestsPage {
        days,
        dir: state.config.digest_dir.display().to_string(),
    }))
}

#[derive(Template)]
#[template(path = "digest.html")]
struct DigestPage {
    date: String,
    formats: Vec<Link>,
    markdown: Option<String>,
}

/// `GET /digests/{name}`: `YYYY-MM-DD` is a page about that day's digest; `YYYY-MM-DD.html` is the
/// self-contained HTML file (sandboxed), `.md` as text, `.json` as JSON.
pub async fn digest(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let dir = state.config.digest_dir.clone();
    if let Some((date, ext)) = parse_digest_name(&name) {
        let body = read_digest(&dir, date, ext)?
            .ok_or_else(|| WebError::not_found(format!("no digest file {name}")))?;
        let ct = match ext {
            "html" => "text/html; charset=utf-8",
            "json" => "application/json",
            _ => "text/plain; charset=utf-8",
        };
        let mut res = ([(header::CONTENT_TYPE, ct)], body).into_response();
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP_SANDBOX),
        );
        return Ok(res);
    }
    let date = NaiveDate::parse_from_str(&name, "%Y-%m-%d").map_err(|_| {
        WebError::bad_request(format!(
            "{name:?} is not a digest day (YYYY-MM-DD, optionally .html, .md or .json)"
        ))
    })?;
    let day = digest_days(&dir).into_iter().find(|d| d.date == date);
    let Some(day) = day else {
        return Err(WebError::not_found(format!(
            "no digest for {date} in {}",
            dir.display()
        )));
    };
    let markdown = read_digest(&dir, date, "md")?;
    Ok(render(&DigestPage {
        date: date.to_string(),
        formats: day
            .formats
            .iter()
            .map(|f| Link {
                label: f.to_string(),
                href: format!("/digests/{date}.{f}"),
            })
            .collect(),
        markdown,
    }))
}

#[derive(Template)]
#[template(path = "feeds.html")]
struct FeedsPage {
    feeds: Vec<crate::status::FeedStatus>,
}

/// `GET /feeds`: health as in `feeds status`.
pub async fn feeds(State(state): State<Arc<AppState>>) -> Result<Response, WebError> {
    let feeds = blocking(&state, |s| {
        let store = s.store()?;
        super::feed_status_rows(&s.config, store.as_ref()).map_err(WebError::internal)
    })
    .await?;
    Ok(render(&FeedsPage { feeds }))
}
