//! The digests: the list of days in the digest folder, one day's page, and the digest files themselves
//! (sandboxed HTML, Markdown as text, JSON). [`digest_days`] and [`read_digest`] also feed `/api/digests`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use super::{render, Link};
use crate::web::{blocking, AppState, WebError, CSP_SANDBOX};

/// The digest files of one day.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DigestDay {
    /// The day.
    pub date: NaiveDate,
    /// Extensions present, of html, md, json.
    pub formats: Vec<&'static str>,
}

/// The digest days in the digest folder, newest first (files named `YYYY-MM-DD.{html,md,json}`).
pub fn digest_days(dir: &std::path::Path) -> Vec<DigestDay> {
    let mut days: std::collections::BTreeMap<NaiveDate, Vec<&'static str>> = Default::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some((date, ext)) = parse_digest_name(name) {
            days.entry(date).or_default().push(ext);
        }
    }
    days.into_iter()
        .rev()
        .map(|(date, mut formats)| {
            formats.sort_unstable();
            DigestDay { date, formats }
        })
        .collect()
}

/// `YYYY-MM-DD.ext` with ext one of html, md, json.
pub fn parse_digest_name(name: &str) -> Option<(NaiveDate, &'static str)> {
    let (date, ext) = name.split_once('.')?;
    let ext = ["html", "md", "json"].into_iter().find(|e| *e == ext)?;
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    (day.to_string() == date).then_some((day, ext))
}

/// Reads one digest file (None when absent).
pub fn read_digest(
    dir: &std::path::Path,
    date: NaiveDate,
    ext: &str,
) -> Result<Option<String>, WebError> {
    let path = dir.join(format!("{date}.{ext}"));
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(WebError::internal(
            anyhow::Error::new(e).context(format!("cannot read {}", path.display())),
        )),
    }
}

#[derive(Template)]
#[template(path = "digests.html")]
struct DigestsPage {
    days: Vec<DigestDay>,
    dir: String,
}

/// `GET /digests`.
pub async fn digests(State(state): State<Arc<AppState>>) -> Result<Response, WebError> {
    let days = blocking(&state, |s| Ok(digest_days(&s.config.digest_dir))).await?;
    Ok(render(&DigestsPage {
        days,
        dir: state.config.digest_dir.display().to_string(),
    }))
}

#[derive(Template)]
#[template(path = "digest.html")]
struct DigestPage {
    date: String,
    formats: Vec<Link>,
    markdown: Option<String>,
}

/// `GET /digests/{name}`: `YYYY-MM-DD` is a page about that day's digest; `YYYY-MM-DD.html` is the
/// self-contained HTML file (sandboxed), `.md` as text, `.json` as JSON.
pub async fn digest(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let dir = state.config.digest_dir.clone();
    if let Some((date, ext)) = parse_digest_name(&name) {
        let body = read_digest(&dir, date, ext)?
            .ok_or_else(|| WebError::not_found(format!("no digest file {name}")))?;
        let ct = match ext {
            "html" => "text/html; charset=utf-8",
            "json" => "application/json",
            _ => "text/plain; charset=utf-8",
        };
        let mut res = ([(header::CONTENT_TYPE, ct)], body).into_response();
        res.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP_SANDBOX),
        );
        return Ok(res);
    }
    let date = NaiveDate::parse_from_str(&name, "%Y-%m-%d").map_err(|_| {
        WebError::bad_request(format!(
            "{name:?} is not a digest day (YYYY-MM-DD, optionally .html, .md or .json)"
        ))
    })?;
    let day = digest_days(&dir).into_iter().find(|d| d.date == date);
    let Some(day) = day else {
        return Err(WebError::not_found(format!(
            "no digest for {date} in {}",
            dir.display()
        )));
    };
    let markdown = read_digest(&dir, date, "md")?;
    Ok(render(&DigestPage {
        date: date.to_string(),
        formats: day
            .formats
            .iter()
            .map(|f| Link {
                label: f.to_string(),
                href: format!("/digests/{date}.{f}"),
            })
            .collect(),
        markdown,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_names_are_a_real_day_and_a_known_format() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        assert_eq!(parse_digest_name("2026-11-28.html"), Some((day, "html")));
        assert_eq!(parse_digest_name("2026-11-28.md"), Some((day, "md")));
        assert_eq!(parse_digest_name("2026-11-28.json"), Some((day, "json")));
        // Not a digest file: no extension, another format, a day that does not exist, a day not
        // written the one canonical way.
        for name in [
            "2026-11-28",
            "2026-11-28.txt",
            "2026-11-28.html.bak",
            "2026-02-30.md",
            "2026-1-28.md",
            "../2026-11-28.md",
        ] {
            assert_eq!(parse_digest_name(name), None, "{name}");
        }
    }
}
