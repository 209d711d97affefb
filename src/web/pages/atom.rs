//! The Atom feed of a search (`/search.atom`): its newest matches, text escaped for XML by
//! [`crate::escape::xml_text`].

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::escape::xml_text;
use crate::search::{self, Sort};
use crate::web::params::SearchParams;
use crate::web::{blocking, AppState, WebError};

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
