//! Server-rendered pages (askama templates in `src/web/templates`, auto-escaped) and the Atom feed.
//! Handlers gather plain view structs; templates only loop and print.
//!
//! One file per page: [`search`], [`atom`], [`article`] (and its snapshot), [`changes`], [`compare`] (and
//! its CSV), [`campaigns`], [`digests`],
//! [`feeds`], [`alerts`] (and each alert's Atom feed);
//! here what they share: `render`, [`error_page`], the stylesheet, [`Link`]. Shared view models: [`super::view`].

pub mod alerts;
pub mod article;
pub mod atom;
pub mod campaigns;
pub mod changes;
pub mod compare;
pub mod digests;
pub mod feeds;
pub mod search;

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::WebError;

/// The stylesheet (the CSP allows no inline style).
const STYLE: &str = include_str!("../static/style.css");

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

/// The page of a template, or a 500 when it fails to render.
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
