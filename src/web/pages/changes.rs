//! `/changes`: the recent edits, removals and returns revisits found, newest change first, with the
//! search page's filters (query, language, script, country, campaign, feed, affiliation, days of the
//! change) and paging. It is a search: [`crate::search::search`] with `changed` set (articles with a
//! `changed_at`) sorted by `changed_at`; each row's one line of what changed comes from the state
//! store ([`crate::revisit::change_line`]). [`run_changes`] also feeds `/api/changes`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde::Serialize;

use super::render;
use super::search::{filter_selects, Choice};
use crate::search::{self, Sort};
use crate::web::params::{SearchParams, FILTERS};
use crate::web::{blocking, AppState, WebError};

/// One change as listed (and as `/api/changes` returns it).
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    /// Article id.
    pub id: String,
    /// The article page.
    pub href: String,
    /// Headline (the current version's).
    pub title: String,
    /// Outlet.
    pub source_name: String,
    /// Feed id.
    pub feed: String,
    /// Affiliation.
    pub affiliation: String,
    /// Country.
    pub country: Option<String>,
    /// Language.
    pub lang: String,
    /// `edited`, `removed` or `restored`.
    pub kind: &'static str,
    /// When the change was found, RFC 3339.
    pub changed_at: String,
    /// What changed, in one line.
    pub what: String,
    /// Campaigns an earlier version had that the current one lacks.
    pub campaign_dropped: Vec<String>,
    /// Versions known.
    pub versions: u32,
}

/// One page of changes.
pub struct ChangesData {
    /// Changed articles matching the filters (all pages).
    pub total: usize,
    /// This page's rows, newest change first.
    pub rows: Vec<ChangeRow>,
}

/// Parses the parameters of `/changes` and `/api/changes`: those of the search, where `sort` can only
/// be `changed` (the listing's order).
pub fn changes_params(
    raw: Option<&str>,
    limits: &crate::config::WebSettings,
) -> Result<SearchParams, WebError> {
    let mut p = SearchParams::parse(raw, limits)?;
    match p.sort {
        Sort::Relevance | Sort::Changed => p.sort = Sort::Relevance,
        Sort::Newest | Sort::Oldest => {
            return Err(WebError::bad_request(
                "parameter sort: changes are listed newest change first (sort=changed or none)",
            ))
        }
    }
    Ok(p)
}

/// Runs the changes search of `p` and completes its rows from the state store (blocking).
pub fn run_changes(state: &AppState, p: &SearchParams) -> Result<ChangesData, WebError> {
    let mut req = p.to_request();
    req.changed = true;
    req.sort = Sort::Changed;
    let results = search::search(&state.archive, &req).map_err(WebError::internal)?;
    let hits = results.hits;
    let store = state.store()?;
    let mut rows = Vec::with_capacity(hits.len());
    for h in hits {
        let kind = h.change.unwrap_or(crate::model::ChangeKind::Edited);
        let (row, versions) = match &store {
            Some(s) => (
                s.revisit_state(&h.id).map_err(WebError::internal)?,
                s.versions(&h.id).map_err(WebError::internal)?,
            ),
            None => (None, Vec::new()),
        };
        rows.push(ChangeRow {
            href: format!("/articles/{}", h.id),
            what: crate::revisit::change_line(kind, row.as_ref(), &versions),
            kind: kind.as_str(),
            changed_at: h.changed_at.unwrap_or_default(),
            id: h.id,
            title: h.title,
            source_name: h.source_name,
            feed: h.feed,
            affiliation: h.affiliation,
            country: h.country,
            lang: h.lang,
            campaign_dropped: h.campaign_dropped,
            versions: h.versions,
        });
    }
    Ok(ChangesData {
        total: results.total,
        rows,
    })
}

#[derive(Template)]
#[template(path = "changes.html")]
struct ChangesPage {
    q: String,
    lang: String,
    script: String,
    country: String,
    since: String,
    until: String,
    selects: Vec<(&'static str, &'static str, Vec<Choice>)>,
    total: usize,
    from: usize,
    to: usize,
    rows: Vec<ChangeRow>,
    active_filters: Vec<super::Link>,
    prev_href: Option<String>,
    next_href: Option<String>,
    page: usize,
    pages: usize,
    api_href: String,
}

/// `GET /changes`.
pub async fn changes(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let p = changes_params(raw.as_deref(), state.limits())?;
    let page = blocking(&state, move |state| {
        let data = run_changes(state, &p)?;
        let pages = data.total.div_ceil(p.size).max(1);
        let max_page = (state.limits().max_offset / p.size).max(1);
        let active_filters = FILTERS
            .iter()
            .filter_map(|name| {
                p.filter(name).map(|v| super::Link {
                    label: format!("{name}: {v}"),
                    href: p.with_filter(name, None).href("/changes"),
                })
            })
            .collect();
        Ok(ChangesPage {
            q: p.q.clone(),
            lang: p.lang.clone().unwrap_or_default(),
            script: p.script.clone().unwrap_or_default(),
            country: p.country.clone().unwrap_or_default(),
            since: p.since.map(|d| d.to_string()).unwrap_or_default(),
            until: p.until.map(|d| d.to_string()).unwrap_or_default(),
            selects: filter_selects(state, &p),
            total: data.total,
            from: if data.rows.is_empty() {
                0
            } else {
                p.offset() + 1
            },
            to: p.offset() + data.rows.len(),
            rows: data.rows,
            active_filters,
            prev_href: (p.page > 1).then(|| p.with_page(p.page - 1).href("/changes")),
            next_href: (p.page < pages && p.page < max_page)
                .then(|| p.with_page(p.page + 1).href("/changes")),
            page: p.page,
            pages,
            api_href: p.href("/api/changes"),
        })
    })
    .await?;
    Ok(render(&page))
}
