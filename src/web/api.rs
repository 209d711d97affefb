//! The JSON API (same data as the pages), its OpenAPI document, and the streaming exports.

use std::io::Write;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde_json::{json, Value};

use super::pages::article::load_article;
use super::pages::campaigns::campaign_views;
use super::pages::changes::{changes_params, run_changes};
use super::pages::digests::{digest_days, read_digest};
use super::pages::search::run_search;
use super::params::SearchParams;
use super::{blocking, AppState, WebError};
use crate::search::{self, ExportFormat, Provenance};

/// The OpenAPI 3.1 document of `/api`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// `GET /api/openapi.json`.
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// `GET /api/search`: one page of hits, facets over all matches, the timeline, and links.
pub async fn search(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, WebError> {
    let p = SearchParams::parse(raw.as_deref(), state.limits()).map_err(WebError::json)?;
    blocking(&state, move |state| {
        let data = run_search(state, &p)?;
        let total = data.results.total;
        let pages = total.div_ceil(p.size).max(1);
        let unpaged = p.unpaged();
        Ok(Json(json!({
            "query": p.q,
            "total": total,
            "page": p.page,
            "size": p.size,
            "pages": pages,
            "hits": data.results.hits,
            "facets": data.facets,
            "timeline": {"interval": data.interval, "buckets": data.buckets},
            "links": {
                "self": p.href("/api/search"),
                "next": (p.page < pages).then(|| p.with_page(p.page + 1).href("/api/search")),
                "prev": (p.page > 1).then(|| p.with_page(p.page - 1).href("/api/search")),
                "html": p.href("/search"),
                "atom": unpaged.href("/search.atom"),
                "csv": unpaged.href("/search.csv"),
                "jsonl": unpaged.href("/search.jsonl"),
                "provenance": unpaged.href("/search.provenance.json"),
            },
        })))
    })
    .await
    .map_err(WebError::json)
}

/// `GET /api/changes`: one page of the articles revisits found edited, removed or restored, newest
/// change first (the rows of `/changes`), with the search's filters.
pub async fn changes(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, WebError> {
    let p = changes_params(raw.as_deref(), state.limits()).map_err(WebError::json)?;
    blocking(&state, move |state| {
        let data = run_changes(state, &p)?;
        let pages = data.total.div_ceil(p.size).max(1);
        Ok(Json(json!({
            "query": p.q,
            "total": data.total,
            "page": p.page,
            "size": p.size,
            "pages": pages,
            "changes": data.rows,
            "links": {
                "self": p.href("/api/changes"),
                "next": (p.page < pages).then(|| p.with_page(p.page + 1).href("/api/changes")),
                "prev": (p.page > 1).then(|| p.with_page(p.page - 1).href("/api/changes")),
                "html": p.href("/changes"),
            },
        })))
    })
    .await
    .map_err(WebError::json)
}

/// `GET /api/articles/{id}`: the stored article, its snapshot's HTTP metadata, its copy cluster, and
/// the versions revisits kept (oldest first; empty while none changed).
pub async fn article(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, WebError> {
    blocking(&state, move |state| {
        let a = load_article(state, &id)?;
        let store = state.store()?;
        let snapshot = match &store {
            Some(store) => store
                .snapshot(&a.id)
                .map_err(WebError::internal)?
                .map(|(meta, _)| meta),
            None => None,
        };
        let versions = match &store {
            Some(store) if a.revision.is_some() => {
                store.versions(&a.id).map_err(WebError::internal)?
            }
            _ => Vec::new(),
        };
        let cluster: Vec<Value> = search::cluster_members(&state.archive, &a)
            .map_err(WebError::internal)?
            .iter()
            .map(
                |m| json!({"id": m.id, "title": m.title, "feed": m.feed, "published": m.published}),
            )
            .collect();
        Ok(Json(json!({
            "article": a,
            "snapshot": snapshot,
            "snapshot_href": snapshot.as_ref().map(|_| format!("/articles/{}/snapshot", a.id)),
            "cluster": cluster,
            "versions": versions,
        })))
    })
    .await
    .map_err(WebError::json)
}

/// `GET /api/campaigns`: codebooks, rules and counts.
pub async fn campaigns(State(state): State<Arc<AppState>>) -> Result<Json<Value>, WebError> {
    blocking(&state, |state| {
        let views = campaign_views(state)?;
        let out: Vec<Value> = state
            .config
            .campaigns
            .iter()
            .zip(views)
            .map(|(spec, view)| {
                let weeks: Vec<Value> = view
                    .timeline
                    .as_ref()
                    .map(|t| {
                        t.bars
                            .iter()
                            .map(|b| json!({"label": b.label, "search": b.href}))
                            .collect()
                    })
                    .unwrap_or_default();
                json!({
                    "id": spec.id,
                    "name": spec.name,
                    "description": spec.description,
                    "min_terms": spec.min_terms,
                    "terms": spec.terms.iter().map(|(l, t)| json!({"lang": l, "terms": t})).collect::<Vec<_>>(),
                    "all": spec.all,
                    "none": spec.none,
                    "near": spec.near.iter().map(|n| json!({"terms": n.terms, "within": n.within})).collect::<Vec<_>>(),
                    "feeds": spec.feeds,
                    "affiliations": spec.affiliations,
                    "countries": spec.countries,
                    "count": view.count,
                    "weeks": weeks,
                    "search": view.href,
                })
            })
            .collect();
        Ok(Json(Value::Array(out)))
    })
    .await
    .map_err(WebError::json)
}

/// `GET /api/digests`: the days with digest files.
pub async fn digests(State(state): State<Arc<AppState>>) -> Result<Json<Value>, WebError> {
    blocking(&state, |s| {
        let days: Vec<Value> = digest_days(&s.config.digest_dir)
            .into_iter()
            .map(|d| {
                json!({
                    "date": d.date,
                    "formats": d.formats,
                    "files": d.formats.iter().map(|f| format!("/digests/{}.{f}", d.date)).collect::<Vec<_>>(),
                    "api": format!("/api/digests/{}", d.date),
                })
            })
            .collect();
        Ok(Json(Value::Array(days)))
    })
    .await
    .map_err(WebError::json)
}

/// `GET /api/digests/{date}`: the day's JSON digest file as written by `digest --format json`.
pub async fn digest(
    State(state): State<Arc<AppState>>,
    Path(date): Path<String>,
) -> Result<Response, WebError> {
    let day = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
        .ok()
        .filter(|d| d.to_string() == date)
        .ok_or_else(|| {
            WebError::bad_request(format!("{date:?} is not a day like 2026-11-28")).json()
        })?;
    let body = read_digest(&state.config.digest_dir, day, "json")
        .map_err(WebError::json)?
        .ok_or_else(|| WebError::not_found(format!("no JSON digest for {day}")).json())?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /api/feeds`: feed health as in `feeds status --format json`.
pub async fn feeds(State(state): State<Arc<AppState>>) -> Result<Json<Value>, WebError> {
    blocking(&state, |s| {
        let store = s.store()?;
        let rows =
            super::feed_status_rows(&s.config, store.as_ref()).map_err(WebError::internal)?;
        Ok(Json(
            serde_json::to_value(rows).map_err(WebError::internal)?,
        ))
    })
    .await
    .map_err(WebError::json)
}

/// `GET /api/alerts`: the `/alerts` page as JSON: each alert in config order with its last messages
/// and their deliveries.
pub async fn alerts(State(state): State<Arc<AppState>>) -> Result<Json<Value>, WebError> {
    blocking(&state, |s| {
        let store = s.store()?;
        let rows = super::pages::alerts::alert_views(&s.config, store.as_ref())
            .map_err(WebError::internal)?;
        Ok(Json(
            serde_json::to_value(rows).map_err(WebError::internal)?,
        ))
    })
    .await
    .map_err(WebError::json)
}

/// `GET /search.provenance.json`: the provenance record of exporting this search now, in `format`
/// (`csv`, the default, or `jsonl`). The export runs into nothing, so the record's `matches` and
/// `sha256` are those of the download of the same search on the same index commit; it takes an export
/// slot like a download.
pub async fn export_provenance(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Provenance>, WebError> {
    let provenance = async {
        let (format, rest) = take_format(raw.as_deref())?;
        let req = SearchParams::parse(Some(&rest), state.limits())?.to_request();
        let permit = export_slot(&state)?;
        let task_state = Arc::clone(&state);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            task_state.refresh();
            search::export(&task_state.archive, &req, format, &mut std::io::sink())
        })
        .await
        .map_err(WebError::internal)?
        .map_err(WebError::internal)
    };
    provenance.await.map(Json).map_err(WebError::json)
}

/// Takes the `format` parameter (`csv` when absent, or `jsonl`) out of the query string of
/// `/search.provenance.json`; the rest are search parameters.
fn take_format(raw: Option<&str>) -> Result<(ExportFormat, String), WebError> {
    let mut format = None;
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if key != "format" {
            rest.append_pair(&key, &value);
            continue;
        }
        if format.is_some() {
            return Err(WebError::bad_request("parameter \"format\" is given twice"));
        }
        format = Some(match value.trim() {
            "" | "csv" => ExportFormat::Csv,
            "jsonl" => ExportFormat::Jsonl,
            other => {
                return Err(WebError::bad_request(format!(
                    "parameter format={other:?}: expected csv or jsonl"
                )))
            }
        });
    }
    Ok((format.unwrap_or(ExportFormat::Csv), rest.finish()))
}

/// One of the `[web] max_exports` export slots, or a 503 when all are taken.
fn export_slot(state: &Arc<AppState>) -> Result<tokio::sync::OwnedSemaphorePermit, WebError> {
    Arc::clone(&state.exports).try_acquire_owned().map_err(|_| {
        WebError::unavailable(format!(
            "{} exports are running already (the limit, [web] max_exports): try again when one ends",
            state.limits().max_exports
        ))
    })
}

/// `GET /search.csv`: every match, a header row first, streamed.
pub async fn export_csv(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    export(state, raw, ExportFormat::Csv).await
}

/// `GET /search.jsonl`: every match, one hit per line, streamed.
pub async fn export_jsonl(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    export(state, raw, ExportFormat::Jsonl).await
}

/// Sends written bytes to the response body in chunks; a closed connection is a write error, which
/// stops the export.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Vec<u8>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.buf);
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

/// Streams what [`search::export`] writes for this search (the bytes `mediawatch search --all` prints
/// for it on the same commit): the export runs on a blocking task into a writer that feeds the
/// response, and holds its export slot until the last row is sent. Its provenance record (with the
/// sha256 of these bytes) is `/search.provenance.json` of the same search.
async fn export(
    state: Arc<AppState>,
    raw: Option<String>,
    format: ExportFormat,
) -> Result<Response, WebError> {
    let p = SearchParams::parse(raw.as_deref(), state.limits())?;
    let permit = export_slot(&state)?;
    let req = p.to_request();
    // Check the query first, so a bad one is a 400 rather than a broken download.
    let check = req.clone();
    blocking(&state, move |s| {
        search::build_query(&s.archive, &check)
            .map(|_| ())
            .map_err(|e| WebError::bad_request(format!("parameter q: {e}")))
    })
    .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    let task_state = Arc::clone(&state);
    tokio::task::spawn_blocking(move || {
        let mut w = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        let result = search::export(&task_state.archive, &req, format, &mut w)
            .and_then(|_| w.flush().map_err(anyhow::Error::from));
        if let Err(e) = result {
            tracing::warn!("export stopped: {e:#}");
        }
    });
    // The permit lives with the download, not with the search: a client reading slowly holds its
    // export slot until the last row is sent or it goes away (the stream is dropped).
    let stream = futures_util::stream::unfold((rx, permit), |(mut rx, permit)| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), (rx, permit)))
    });
    let (ct, ext) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Jsonl => ("application/x-ndjson", "jsonl"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"mediawatch-export.{ext}\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
