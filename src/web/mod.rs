//! The web workspace (`serve`): server-rendered pages and a JSON API over the archive, read-only.
//!
//! - [`router`] builds the axum app: pages ([`pages`]), JSON API and OpenAPI document ([`api`]), Atom
//!   feeds and exports, a static stylesheet. Every page works without JavaScript.
//! - Security: loopback by default; any other address needs a token, which is then checked on every
//!   request ([`check_bind`], `require_token`). Templates (askama) escape every archived string by
//!   construction; a strict Content-Security-Policy without `unsafe-inline` goes on every response;
//!   archived links become hrefs only when http(s) ([`crate::escape::http_url`]); snapshots download as attachments,
//!   `text/plain` or `application/octet-stream`, never rendered.
//! - Read-only: the tantivy index is opened without its writer and reloaded at most every
//!   [`RELOAD_EVERY`] on request, so `serve` sees the commits of `run` beside it; the state store is
//!   opened read-only per request.
//! - Limits: page size and depth, concurrent exports, request body size, a request timeout. Bad
//!   parameters get a 400 naming the parameter.
//! - [`view`] shapes `search::facets`, `search::histogram` and the hits' highlight ranges for the pages.

pub mod api;
pub mod pages;
pub mod params;
pub mod view;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest as _, Sha256};
use tokio::sync::Semaphore;

use crate::config::{Config, WebSettings, MIN_TOKEN_CHARS};
use crate::index::Archive;

/// How stale the loaded commit may get: a request reloads the reader when the last reload is older.
pub const RELOAD_EVERY: Duration = Duration::from_millis(500);

/// Longest time a request may take before the response starts (exports stream after it).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The Content-Security-Policy of every response: nothing inline, nothing from elsewhere.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'none'; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The CSP of archived digest files shown as they are: the same, and sandboxed.
pub const CSP_SANDBOX: &str = "sandbox; default-src 'none'; img-src 'self'; style-src 'self'; \
     form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Shared state of the server.
pub struct AppState {
    /// The checked config (feeds, campaigns, digest folder, limits).
    pub config: Config,
    /// The archive, read side.
    pub archive: Archive,
    token_sha256: Option<[u8; 32]>,
    exports: Arc<Semaphore>,
    /// One permit per core for the synchronous work of a request (search, store reads): requests
    /// beyond that wait their turn in order instead of all sharing the cores at once, which keeps the
    /// slowest requests' latency close to the average under load.
    workers: Arc<Semaphore>,
    started: Instant,
    last_reload_ms: AtomicU64,
    /// Answers and per-segment counts of the search page and API (see [`crate::search::SearchCache`]:
    /// dropped when a reload loads another commit).
    pub search_cache: crate::search::SearchCache,
}

impl AppState {
    /// State over an open archive. `token` (already chosen between `--token` and `[web] token`) is
    /// required on every request when set.
    pub fn new(config: Config, archive: Archive, token: Option<&str>) -> AppState {
        let exports = Arc::new(Semaphore::new(config.web.max_exports));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        AppState {
            workers: Arc::new(Semaphore::new(cores)),
            token_sha256: token.map(|t| Sha256::digest(t.as_bytes()).into()),
            config,
            archive,
            exports,
            started: Instant::now(),
            last_reload_ms: AtomicU64::new(0),
            search_cache: Default::default(),
        }
    }

    /// The limits from `[web]`.
    pub fn limits(&self) -> &WebSettings {
        &self.config.web
    }

    /// Loads the latest commit when the last load is older than [`RELOAD_EVERY`].
    pub fn refresh(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_reload_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < RELOAD_EVERY.as_millis() as u64 && last != 0 {
            return;
        }
        if self
            .last_reload_ms
            .compare_exchange(last, now.max(1), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            if let Err(e) = self.archive.reload() {
                tracing::warn!("cannot reload the index: {e:#}");
            }
        }
    }

    /// The state store, read-only (None before the first ingest).
    pub fn store(&self) -> Result<Option<crate::store::Store>, WebError> {
        crate::store::Store::open_read_only(&self.config.index_path).map_err(WebError::internal)
    }
}

/// An error answer: a status and a message for the user. Pages show it in HTML, the API as JSON.
#[derive(Debug)]
pub struct WebError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the user.
    pub message: String,
    /// Answer as JSON (API routes).
    pub json: bool,
}

impl WebError {
    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> WebError {
        WebError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            json: false,
        }
    }

    /// 404 with a message.
    pub fn not_found(message: impl Into<String>) -> WebError {
        WebError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
            json: false,
        }
    }

    /// 503 with a message.
    pub fn unavailable(message: impl Into<String>) -> WebError {
        WebError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: message.into(),
            json: false,
        }
    }

    /// 500: the error is logged, the user sees a generic message. A bad query is a 400 instead.
    pub fn internal(err: impl Into<anyhow::Error>) -> WebError {
        let err = err.into();
        if let Some(q) = err.downcast_ref::<crate::search::QueryError>() {
            return WebError::bad_request(format!("parameter q: {q}"));
        }
        tracing::error!("request failed: {err:#}");
        WebError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: "internal error (logged on the server)".into(),
            json: false,
        }
    }

    /// The same error answered as JSON.
    pub fn json(mut self) -> WebError {
        self.json = true;
        self
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if self.json {
            let body = serde_json::json!({"error": self.message, "status": self.status.as_u16()});
            (self.status, axum::Json(body)).into_response()
        } else {
            pages::error_page(self.status, &self.message)
        }
    }
}

/// Runs `f` on the blocking pool (tantivy and redb are synchronous), after refreshing the reader, at
/// most one request per core at a time (the others queue in arrival order).
pub async fn blocking<T, F>(state: &Arc<AppState>, f: F) -> Result<T, WebError>
where
    F: FnOnce(&AppState) -> Result<T, WebError> + Send + 'static,
    T: Send + 'static,
{
    let permit = Arc::clone(&state.workers)
        .acquire_owned()
        .await
        .map_err(WebError::internal)?;
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        state.refresh();
        f(&state)
    })
    .await
    .map_err(WebError::internal)?
}

/// Whether a string is an article id (16 lowercase hex digits).
pub fn is_article_id(s: &str) -> bool {
    s.len() == 16
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The application: every route, the token check, security headers and limits.
pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.limits().max_body_bytes;
    Router::new()
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/search") }),
        )
        .route("/search", get(pages::search::search))
        .route("/search.atom", get(pages::atom::atom))
        .route("/search.csv", get(api::export_csv))
        .route("/search.jsonl", get(api::export_jsonl))
        .route("/search.provenance.json", get(api::export_provenance))
        .route("/articles/{id}", get(pages::article::article))
        .route("/articles/{id}/snapshot", get(pages::article::snapshot))
        .route("/changes", get(pages::changes::changes))
        .route("/compare", get(pages::compare::compare))
        .route("/compare.csv", get(pages::compare::compare_csv))
        .route("/campaigns", get(pages::campaigns::campaigns))
        .route("/digests", get(pages::digests::digests))
        .route("/digests/{name}", get(pages::digests::digest))
        .route("/feeds", get(pages::feeds::feeds))
        .route("/alerts", get(pages::alerts::alerts))
        .route("/alerts/{file}", get(pages::alerts::alert_atom))
        .route("/static/style.css", get(pages::stylesheet))
        .route("/api/search", get(api::search))
        .route("/api/terms", get(api::terms))
        .route("/api/articles/{id}", get(api::article))
        .route("/api/changes", get(api::changes))
        .route("/api/compare", get(api::compare))
        .route("/api/campaigns", get(api::campaigns))
        .route("/api/digests", get(api::digests))
        .route("/api/digests/{date}", get(api::digest))
        .route("/api/feeds", get(api::feeds))
        .route("/api/alerts", get(api::alerts))
        .route("/api/openapi.json", get(api::openapi))
        .fallback(|| async { WebError::not_found("no such page") })
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            require_token,
        ))
        .layer(axum::middleware::from_fn(security_headers))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(body_limit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// Headers on every response: CSP, no sniffing, no referrer, no framing.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// The cookie that carries the token after `?token=` was accepted once.
pub const TOKEN_COOKIE: &str = "mw_token";

/// When a token is set: `Authorization: Bearer TOKEN`, the `mw_token` cookie, or `?token=TOKEN` (which
/// sets the cookie and redirects to the URL without it). Anything else is a 401.
async fn require_token(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let Some(expected) = state.token_sha256 else {
        return next.run(req).await;
    };
    let matches = |t: &str| -> bool {
        let got: [u8; 32] = Sha256::digest(t.as_bytes()).into();
        got == expected
    };
    let headers = req.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().strip_prefix("mw_token="))
        .any(&matches);
    if bearer.is_some_and(&matches) || cookie {
        return next.run(req).await;
    }
    let uri = req.uri();
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    let mut given = None;
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if k == "token" {
            given = Some(v.to_string());
        } else {
            rest.append_pair(&k, &v);
        }
    }
    if given.as_deref().is_some_and(matches) {
        let rest = rest.finish();
        let path = same_origin_path(uri.path());
        let location = if rest.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{rest}")
        };
        let cookie = format!(
            "{TOKEN_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
            given.unwrap_or_default()
        );
        let mut res = axum::response::Redirect::to(&location).into_response();
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            res.headers_mut().insert(header::SET_COOKIE, v);
        }
        return res;
    }
    let err = WebError {
        status: StatusCode::UNAUTHORIZED,
        message: "this server needs a token: send `Authorization: Bearer TOKEN` or open any page once with ?token=TOKEN".into(),
        json: uri.path().starts_with("/api/"),
    };
    let mut res = err.into_response();
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"mediawatch\""),
    );
    res
}

/// Where the `?token=` login redirects for a request to `path`: `path` itself when it can only be read as
/// a path on this server, else `/`. Browsers read `//host`, `/\host` and `/<tab>/host` (tabs and newlines
/// are dropped) as another host, so `path` must start with exactly one `/` and hold no backslash, control
/// character or space, percent-decoded too (`/%5Chost`, `/%2F/host`) in case anything on the way decodes.
fn same_origin_path(path: &str) -> &str {
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
    let plain = |p: &[u8]| {
        p.first() == Some(&b'/')
            && p.get(1) != Some(&b'/')
            && !p
                .iter()
                .any(|&b| b == b'\\' || b == b' ' || b.is_ascii_control())
    };
    if plain(path.as_bytes()) && plain(&decoded) {
        path
    } else {
        "/"
    }
}

/// Refuses to bind a non-loopback address without a token.
pub fn check_bind(addr: &SocketAddr, token: Option<&str>) -> anyhow::Result<()> {
    if !addr.ip().is_loopback() && token.is_none() {
        anyhow::bail!(
            "refusing to serve on {addr} without a token: the archive holds unpublished research. \
             Pass --token (or set [web] token) or bind 127.0.0.1"
        );
    }
    if let Some(t) = token {
        let chars = t.trim().chars().count();
        if chars < MIN_TOKEN_CHARS {
            anyhow::bail!(
                "the token must be at least {MIN_TOKEN_CHARS} characters (this one has {chars})"
            );
        }
    }
    Ok(())
}

/// Opens the archive read-only and serves until `shutdown` resolves.
pub async fn serve(
    config: Config,
    addr: SocketAddr,
    token: Option<String>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let token = token.or_else(|| config.web.token.clone());
    check_bind(&addr, token.as_deref())?;
    let archive = Archive::open(&config.index_path)?;
    warm_in_background(&archive);
    let state = Arc::new(AppState::new(config, archive, token.as_deref()));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    eprintln!(
        "mediawatch: serving {} articles on http://{local}/{} (Ctrl-C to stop)",
        state.archive.num_articles(),
        if token.is_some() {
            " (token required)"
        } else {
            ""
        }
    );
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .context("server failed")?;
    Ok(())
}

/// Reads the archive's files into memory in a thread of its own (search files first), so the first
/// searches after a start do not each wait on the disk ([`crate::index::Warmup`]); says what it read
/// when done. Requests are served meanwhile.
fn warm_in_background(archive: &Archive) {
    let Some(budget) = crate::index::warm_budget() else {
        return;
    };
    let plan = archive.warmup(budget);
    if plan.files.is_empty() {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("mw-warmup".into())
        .spawn(move || {
            let started = Instant::now();
            match plan.read() {
                Ok(bytes) => eprintln!(
                    "mediawatch: read {} of the index into memory in {:.1} s{}",
                    amount(bytes),
                    started.elapsed().as_secs_f64(),
                    if plan.skipped > 0 {
                        format!(
                            " ({} left on disk: more than half the memory available)",
                            amount(plan.skipped)
                        )
                    } else {
                        String::new()
                    }
                ),
                Err(e) => eprintln!("mediawatch: warning: warming the index: {e:#}"),
            }
        });
    if let Err(e) = spawned {
        eprintln!("mediawatch: warning: cannot start the index warm-up: {e}");
    }
}

/// `bytes` for a log line: "9.8 GB", "312.4 MB", "0.3 kB".
fn amount(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        1_000_000_000.. => format!("{:.1} GB", b / 1e9),
        1_000_000.. => format!("{:.1} MB", b / 1e6),
        _ => format!("{:.1} kB", b / 1e3),
    }
}

/// Health of every configured feed ([`crate::status`]) from the state store, if there is one yet.
pub fn feed_status_rows(
    config: &Config,
    store: Option<&crate::store::Store>,
) -> anyhow::Result<Vec<crate::status::FeedStatus>> {
    let (states, pending) = match store {
        Some(s) => (s.feed_states()?.into_iter().collect(), s.pending_counts()?),
        None => Default::default(),
    };
    Ok(crate::status::feed_statuses(
        &config.feeds,
        &states,
        &pending,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_a_person_would_write_them() {
        assert_eq!(amount(0), "0.0 kB");
        assert_eq!(amount(61_234), "61.2 kB");
        assert_eq!(amount(312_400_000), "312.4 MB");
        assert_eq!(amount(9_816_106_910), "9.8 GB");
    }

    #[test]
    fn non_loopback_needs_a_token() {
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let lo: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert!(check_bind(&lo, None).is_ok());
        let err = check_bind(&any, None).unwrap_err().to_string();
        assert!(err.contains("without a token"), "{err}");
        assert!(check_bind(&any, Some("0123456789abcdef")).is_ok());
        assert!(check_bind(&any, Some("short")).is_err());
        // Characters, not bytes: 8 Cyrillic letters (16 bytes) are too short, 16 are enough.
        let err = check_bind(&any, Some("ключключ")).unwrap_err().to_string();
        assert!(
            err.contains("at least 16 characters (this one has 8)"),
            "{err}"
        );
        assert!(check_bind(&any, Some("ключключключключ")).is_ok());
    }

    #[test]
    fn token_login_redirects_only_to_a_path_here() {
        for (path, to) in [
            ("/", "/"),
            ("/search", "/search"),
            ("/articles/0123456789abcdef", "/articles/0123456789abcdef"),
            ("/search/%D1%84", "/search/%D1%84"),
            ("/a//b", "/a//b"),
            ("//evil.example/", "/"),
            ("/\\evil.example/", "/"),
            ("/\\/evil.example/", "/"),
            ("/%5Cevil.example/", "/"),
            ("/%5cevil.example/", "/"),
            ("/%2F/evil.example/", "/"),
            ("/%2fevil.example/", "/"),
            ("/\t/evil.example/", "/"),
            ("/%09/evil.example/", "/"),
            ("/%0A/evil.example/", "/"),
            ("/%0d%0a/evil.example/", "/"),
            ("/%20/evil.example/", "/"),
            ("https://evil.example/", "/"),
            ("evil.example", "/"),
            ("", "/"),
        ] {
            assert_eq!(same_origin_path(path), to, "{path:?}");
        }
    }

    #[test]
    fn article_ids() {
        assert!(is_article_id("0123456789abcdef"));
        assert!(!is_article_id("0123456789ABCDEF"));
        assert!(!is_article_id("../etc/passwd"));
    }
}
