//! The search page: the form, one page of hits with highlighted snippets, the facet panel (each value a
//! filter link), the timeline, paging and the export links. [`run_search`] also feeds `/api/search`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::{render, Link};
use crate::escape::http_url;
use crate::model::Hit;
use crate::search::{self, Interval, Sort};
use crate::web::params::{SearchParams, FILTERS};
use crate::web::view::{self, Bucket, Segment, Timeline};
use crate::web::{blocking, AppState, WebError};

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
    // One pass over the matches: hits, facets and the daily timeline (or the answer or the segments'
    // counts this commit gave before).
    let overview = search::overview_cached(&state.archive, &state.search_cache, &req)
        .map_err(WebError::internal)?;
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
    let timeline = view::timeline(&data.buckets, data.interval, |b| {
        p.with_range(b.start, b.end).href("/search")
    });
    let selects = filter_selects(state, p);
    let sorts = choices(
        Some(match p.sort {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
            Sort::Changed => "changed",
        }),
        ["relevance", "newest", "oldest", "changed"].map(|s| (s.to_string(), s.to_string())),
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

/// The select boxes of the filters with a closed set of values (campaign, feed, affiliation), shared
/// by the search and changes pages.
pub fn filter_selects(
    state: &AppState,
    p: &SearchParams,
) -> Vec<(&'static str, &'static str, Vec<Choice>)> {
    let config = &state.config;
    vec![
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
    ]
}
