//! The article page (text with campaign terms highlighted, campaign evidence, the stored page's
//! provenance, a Telegram post's views and origin, the copy cluster, and what revisits found: a removed
//! or restored badge, the versions with the word diff of title and text between consecutive ones) and
//! the raw snapshot download.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use super::render;
use crate::escape::http_url;
use crate::model::Article;
use crate::revisit::StoredVersion;
use crate::search;
use crate::web::view::{self, Segment};
use crate::web::{blocking, is_article_id, AppState, WebError, CSP_SANDBOX};

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

/// One run of a word diff as shown: `same`, `ins` or `del`.
pub struct DiffView {
    /// `same`, `ins` (only in the newer version) or `del` (only in the older).
    pub kind: &'static str,
    /// The words.
    pub text: String,
}

/// One kept version of the article.
pub struct VersionView {
    /// 1-based number.
    pub number: u32,
    /// When its page was fetched.
    pub fetched_at: String,
    /// The fields that changed from the version before (empty for version 1).
    pub changed: Vec<String>,
    /// Campaign ids it gained against the version before.
    pub gained: Vec<String>,
    /// Campaign ids it lost against the version before.
    pub lost: Vec<String>,
    /// Whether the page shows it now.
    pub current: bool,
    /// Word diff of the title from the version before (empty for version 1 or an unchanged title).
    pub title_diff: Vec<DiffView>,
    /// Word diff of the text from the version before (empty for version 1 or an unchanged text).
    pub text_diff: Vec<DiffView>,
}

/// Whether the article is gone from its site, or back.
pub struct RemovalView {
    /// `removed` or `restored`.
    pub kind: &'static str,
    /// When it was first seen gone, or seen back.
    pub at: String,
    /// Why it was judged gone (removed only, when the store says).
    pub why: Option<String>,
}

/// The word diff from `old` to `new` as shown.
fn diff_view(old: &str, new: &str) -> Vec<DiffView> {
    if old == new {
        return Vec::new();
    }
    crate::revisit::word_diff(old, new)
        .into_iter()
        .map(|s| DiffView {
            kind: match s.op {
                crate::revisit::DiffOp::Same => "same",
                crate::revisit::DiffOp::Added => "ins",
                crate::revisit::DiffOp::Removed => "del",
            },
            text: s.text,
        })
        .collect()
}

/// The versions as listed, oldest first, each diffed against the one numbered before it.
pub fn version_views(versions: &[StoredVersion], current: u32) -> Vec<VersionView> {
    versions
        .iter()
        .map(|v| {
            let before = versions.iter().find(|b| b.number + 1 == v.number);
            let (gained, lost) = before.map_or_else(Default::default, |b| {
                crate::revisit::campaigns_gained_lost(&b.campaigns, &v.campaigns)
            });
            VersionView {
                number: v.number,
                fetched_at: time(Some(v.fetched_at)),
                changed: v.changed.clone(),
                gained,
                lost,
                current: v.number == current,
                title_diff: before
                    .map_or_else(Vec::new, |b| diff_view(&b.fields.title, &v.fields.title)),
                text_diff: before
                    .map_or_else(Vec::new, |b| diff_view(&b.fields.text, &v.fields.text)),
            }
        })
        .collect()
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
    /// A forwarded post's origin link (http(s) only).
    forwarded_href: Option<String>,
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
    /// Kept versions (listed when there are two or more).
    versions: Vec<VersionView>,
    /// The removed or restored badge.
    removal: Option<RemovalView>,
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

/// A 400 unless `id` is an article id (16 lowercase hex digits).
fn check_article_id(id: &str) -> Result<(), WebError> {
    if is_article_id(id) {
        Ok(())
    } else {
        Err(WebError::bad_request(format!(
            "article id {id:?} is not 16 hex digits"
        )))
    }
}

/// Looks up an article by id (400 for a malformed id, 404 when absent).
pub fn load_article(state: &AppState, id: &str) -> Result<Article, WebError> {
    check_article_id(id)?;
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
        let store = state.store()?;
        let revision = a.revision.clone().unwrap_or_default();
        let (row, versions) = match &store {
            Some(s) if a.revision.is_some() => (
                s.revisit_state(&a.id).map_err(WebError::internal)?,
                s.versions(&a.id).map_err(WebError::internal)?,
            ),
            _ => (None, Vec::new()),
        };
        let removal = match (revision.removed_at, revision.restored_at) {
            (Some(at), _) => Some(RemovalView {
                kind: "removed",
                at: time(Some(at)),
                why: row.as_ref().and_then(|r| r.removed_why.clone()),
            }),
            (None, Some(at)) => Some(RemovalView {
                kind: "restored",
                at: time(Some(at)),
                why: None,
            }),
            (None, None) => None,
        };
        let versions = version_views(&versions, revision.current);
        let snapshot = match &store {
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
            forwarded_href: a
                .post
                .as_ref()
                .and_then(|p| p.forwarded_from.as_ref()?.url.as_deref())
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
            versions,
            removal,
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
        check_article_id(&id)?;
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
