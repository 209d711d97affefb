//! The feeds page: each feed's health, the same rows as `feeds status`.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::render;
use crate::web::{blocking, AppState, WebError};

#[derive(Template)]
#[template(path = "feeds.html")]
struct FeedsPage {
    feeds: Vec<crate::status::FeedStatus>,
}

/// `GET /feeds`: health as in `feeds status`.
pub async fn feeds(State(state): State<Arc<AppState>>) -> Result<Response, WebError> {
    let feeds = blocking(&state, |s| {
        let store = s.store()?;
        crate::web::feed_status_rows(&s.config, store.as_ref()).map_err(WebError::internal)
    })
    .await?;
    Ok(render(&FeedsPage { feeds }))
}
