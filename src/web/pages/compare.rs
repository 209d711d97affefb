//! `/compare`: several queries over the same periods ([`crate::search::compare`]): a form (query boxes,
//! split field, interval, counts or shares, the search filters), a multi-series SVG line chart (the
//! digest's chart module, [`crate::digest::chart::lines`]), a table of periods by series, and links to
//! the same comparison as CSV (`/compare.csv`, [`compare_csv`]) and JSON (`/api/compare`).
//! [`run_compare`] also feeds those two.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::render;
use super::search::{filter_selects, Choice};
use crate::digest::chart;
use crate::search::{self, By, CompareError, CompareFormat, Comparison, Interval};
use crate::web::params::CompareParams;
use crate::web::view::percent;
use crate::web::{blocking, AppState, WebError};

/// A series' heading in the table: its label and its line's colour.
pub struct SeriesHead {
    /// `query` or `query | value`.
    pub label: String,
    /// The line's colour (from the chart's palette).
    pub color: &'static str,
}

/// One period of the table: its first day and one cell per series.
pub struct PeriodRow {
    /// First day of the period.
    pub start: String,
    /// Per series: the count, and with shares "count of total (share)".
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "compare.html")]
struct ComparePage {
    boxes: Vec<String>,
    bys: Vec<Choice>,
    intervals: Vec<Choice>,
    normalize: bool,
    since: String,
    until: String,
    selects: Vec<(&'static str, &'static str, Vec<Choice>)>,
    hidden: Vec<(&'static str, String)>,
    ran: bool,
    chart: String,
    heads: Vec<SeriesHead>,
    rows: Vec<PeriodRow>,
    csv_href: String,
    api_href: String,
    counts_href: String,
    shares_href: String,
}

/// A comparison's error as the user's: a bad request is a 400 naming what to change, a bad query a
/// 400 naming `q`; anything else a 500.
fn compare_error(err: anyhow::Error) -> WebError {
    if let Some(e) = err.downcast_ref::<CompareError>() {
        return WebError::bad_request(format!("parameter q: {e}"));
    }
    WebError::internal(err)
}

/// Runs the comparison of `p` (blocking). No query is a 400.
pub fn run_compare(state: &AppState, p: &CompareParams) -> Result<Comparison, WebError> {
    let req = p.to_request();
    req.check()
        .map_err(|e| WebError::bad_request(format!("parameter q: {e}")))?;
    search::compare(&state.archive, &req).map_err(compare_error)
}

/// `GET /compare`: the form, and with queries the chart, the table and the links.
pub async fn compare(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let p = CompareParams::parse(raw.as_deref())?;
    let page = blocking(&state, move |state| {
        let comparison = if p.queries.is_empty() {
            None
        } else {
            Some(run_compare(state, &p)?)
        };
        Ok(compare_page(state, &p, comparison))
    })
    .await?;
    Ok(render(&page))
}

/// `GET /compare.csv`: the comparison as `compare --format csv` prints it.
pub async fn compare_csv(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let p = CompareParams::parse(raw.as_deref())?;
    let body = blocking(&state, move |state| {
        let c = run_compare(state, &p)?;
        let mut out = Vec::new();
        search::write_compare(&mut out, &c, CompareFormat::Csv).map_err(WebError::internal)?;
        Ok(out)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"mediawatch-compare.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

fn compare_page(state: &AppState, p: &CompareParams, c: Option<Comparison>) -> ComparePage {
    let mut boxes = p.queries.clone();
    let shown = (boxes.len() + 1).clamp(3, search::MAX_QUERIES);
    boxes.resize(shown.max(boxes.len()), String::new());
    let bys = std::iter::once(Choice {
        value: String::new(),
        label: "nothing".into(),
        selected: p.by.is_none(),
    })
    .chain(By::ALL.into_iter().map(|b| Choice {
        value: b.field().into(),
        label: b.field().into(),
        selected: p.by == Some(b),
    }))
    .collect();
    let intervals = [Interval::Day, Interval::Week, Interval::Month]
        .into_iter()
        .map(|i| Choice {
            value: i.as_str().into(),
            label: i.as_str().into(),
            selected: p.interval == i,
        })
        .collect();
    let hidden = ["lang", "script", "country"]
        .into_iter()
        .filter_map(|name| p.filters.filter(name).map(|v| (name, v.to_string())))
        .collect();
    let (chart, heads, rows) = match &c {
        Some(c) => views(c),
        None => (String::new(), Vec::new(), Vec::new()),
    };
    let with_normalize = |normalize| {
        CompareParams {
            normalize,
            ..p.clone()
        }
        .href("/compare")
    };
    ComparePage {
        boxes,
        bys,
        intervals,
        normalize: p.normalize,
        since: p.filters.since.map(|d| d.to_string()).unwrap_or_default(),
        until: p.filters.until.map(|d| d.to_string()).unwrap_or_default(),
        selects: filter_selects(state, &p.filters),
        hidden,
        ran: c.is_some(),
        chart,
        heads,
        rows,
        csv_href: p.href("/compare.csv"),
        api_href: p.href("/api/compare"),
        counts_href: with_normalize(false),
        shares_href: with_normalize(true),
    }
}

/// The chart (shares when normalized, else counts), the table's headings and its rows.
fn views(c: &Comparison) -> (String, Vec<SeriesHead>, Vec<PeriodRow>) {
    let periods: Vec<String> = c
        .series
        .first()
        .map(|s| s.rows.iter().map(|r| r.start.to_string()).collect())
        .unwrap_or_default();
    let lines: Vec<chart::Line<'_>> = c
        .series
        .iter()
        .map(|s| chart::Line {
            name: &s.label,
            values: s
                .rows
                .iter()
                .map(|r| {
                    if c.normalize {
                        r.share.unwrap_or(0.0)
                    } else {
                        r.count as f64
                    }
                })
                .collect(),
        })
        .collect();
    let what = if c.normalize {
        "Share of archived articles matching"
    } else {
        "Matching articles"
    };
    let svg = chart::lines(
        &lines,
        &periods,
        |v| {
            if c.normalize {
                percent(v)
            } else {
                format!("{}", v.round() as u64)
            }
        },
        &format!("{what} per {}", c.interval.as_str()),
    );
    let heads = c
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| SeriesHead {
            label: s.label.clone(),
            color: chart::color(i),
        })
        .collect();
    let rows = periods
        .iter()
        .enumerate()
        .map(|(k, start)| PeriodRow {
            start: start.clone(),
            cells: c
                .series
                .iter()
                .map(|s| match s.rows.get(k) {
                    Some(r) => match (r.total, r.share) {
                        (Some(t), Some(share)) => {
                            format!("{} of {t} ({})", r.count, percent(share))
                        }
                        (Some(t), None) => format!("{} of {t}", r.count),
                        _ => r.count.to_string(),
                    },
                    None => String::new(),
                })
                .collect(),
        })
        .collect();
    (svg, heads, rows)
}
