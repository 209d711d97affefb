//! The campaigns page: each codebook's terms and rules, its count in the archive and its weekly
//! timeline. [`campaign_views`] also feeds `/api/campaigns`.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::render;
use crate::search::Interval;
use crate::web::params::SearchParams;
use crate::web::view::{self, Timeline};
use crate::web::{blocking, AppState, WebError};

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
                size: crate::web::params::DEFAULT_PAGE_SIZE,
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
                timeline: view::timeline(&buckets, Interval::Week, |b| {
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
