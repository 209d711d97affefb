//! The search page: the form, one page of hits with highlighted snippets, the facet panel (each value a
//! filter link), the timeline, paging and the export links, and on request (`terms=1`) the distinctive
//! terms panel. [`run_search`] also feeds `/api/search`, [`run_terms`] `/api/terms`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;

use super::{render, Link};
use crate::escape::http_url;
use crate::model::Hit;
use crate::search::terms::{TermsReport, TermsRequest};
use crate::search::{self, Interval, Sort};
use crate::web::params::{take_terms_params, CompareParams, SearchParams, TermsParams, FILTERS};
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
    normalize: bool,
    counts_href: String,
    shares_href: String,
    compare_href: String,
    /// This search with the distinctive-terms panel.
    terms_href: String,
    /// The panel, when asked for (`terms=1`).
    terms: Option<TermsPanel>,
}

/// The distinctive-terms panel.
pub struct TermsPanel {
    /// What was compared with what.
    pub caption: String,
    /// The terms, best first.
    pub rows: Vec<TermRow>,
    /// The same as JSON.
    pub api_href: String,
    /// The search's parameters, for the background form's hidden fields.
    pub hidden: Vec<(String, String)>,
    /// The background query now (empty: the archive).
    pub vs: String,
}

/// One term of the panel.
pub struct TermRow {
    /// The term as shown.
    pub term: String,
    /// stem, word or phrase.
    pub kind: &'static str,
    /// Language.
    pub lang: String,
    /// `k/n` of the foreground sample.
    pub fg: String,
    /// `k/n` of the background.
    pub bg: String,
    /// G², one decimal.
    pub score: String,
    /// Its example, on one line.
    pub snippet: String,
    /// The example's article page.
    pub href: Option<String>,
}

/// The distinctive terms of the search `p` (blocking): its best matches against the archive or `vs`.
pub fn run_terms(
    state: &AppState,
    p: &SearchParams,
    t: &TermsParams,
) -> Result<TermsReport, WebError> {
    let req = TermsRequest {
        search: p.to_request(),
        vs: t.vs.clone(),
        limit: t.limit,
        ..TermsRequest::default()
    };
    search::terms::terms(&state.archive, &req).map_err(WebError::internal)
}

fn terms_panel(report: &TermsReport, p: &SearchParams, api_href: String) -> TermsPanel {
    let background = match &report.vs {
        Some(q) => format!(
            "{} of the {} matches of \u{201c}{q}\u{201d}",
            report.background_sample, report.background_matches
        ),
        None if report.background == "filtered" => format!(
            "{} of the {} articles under the same filters",
            report.background_sample, report.background_matches
        ),
        None => format!("the whole archive ({} articles)", report.background_matches),
    };
    TermsPanel {
        caption: format!(
            "{} of {} matches ({}) against {background}; log-likelihood G\u{b2}, over-represented terms only.",
            report.sample,
            report.matches,
            if report.sampling == "uniform" {
                "a uniform sample"
            } else {
                "the best by relevance"
            }
        ),
        rows: report
            .terms
            .iter()
            .map(|t| TermRow {
                term: t.term.clone(),
                kind: t.kind,
                lang: t.lang.clone(),
                fg: format!("{}/{}", t.fg_count, t.fg_size),
                bg: format!("{}/{}", t.bg_count, t.bg_size),
                score: format!("{:.1}", t.score),
                snippet: t.example.as_ref().map(|e| e.snippet.clone()).unwrap_or_default(),
                href: t.example.as_ref().map(|e| format!("/articles/{}", e.id)),
            })
            .collect(),
        api_href,
        hidden: url::form_urlencoded::parse(p.unpaged().query_string().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        vs: report.vs.clone().unwrap_or_default(),
    }
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
    let counts = overview.timeline(interval);
    let buckets = if p.normalize {
        // The totals: the daily counts of the source filters alone (no query, no campaign), through
        // the same cache, so the archive's totals are counted once per segment, not per request.
        let totals_req = search::SearchRequest {
            limit: 1,
            ..req.source_filters()
        };
        let totals = search::overview_cached(&state.archive, &state.search_cache, &totals_req)
            .map_err(WebError::internal)?
            .timeline(interval);
        view::share_view(search::with_totals(&counts, &totals), interval)
    } else {
        view::timeline_view(counts, interval)
    };
    let facets = view::facets_view(overview.facets);
    Ok(SearchData {
        results: overview.results,
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
    let (rest, t) = take_terms_params(raw.as_deref())?;
    let p = SearchParams::parse(Some(&rest), state.limits())?;
    let page = blocking(&state, move |state| {
        let data = run_search(state, &p)?;
        // Computed only when asked for: an ordinary search does not pay for it.
        let report = if t.show {
            Some(run_terms(state, &p, &t)?)
        } else {
            None
        };
        let mut page = search_page(state, &p, data);
        page.terms_href = t.href(&p.unpaged().href("/search"));
        page.terms = report.map(|r| terms_panel(&r, &p, t.href(&p.unpaged().href("/api/terms"))));
        Ok(page)
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
        normalize: p.normalize,
        counts_href: p.with_normalize(false).href("/search"),
        shares_href: p.with_normalize(true).href("/search"),
        compare_href: CompareParams {
            queries: (!p.q.is_empty()).then(|| p.q.clone()).into_iter().collect(),
            filters: p.clone(),
            by: None,
            interval: Interval::Week,
            normalize: p.normalize,
        }
        .href("/compare"),
        terms_href: String::new(),
        terms: None,
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
