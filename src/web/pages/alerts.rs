//! The alerts (`[[alerts]]`, issue #27) in the workspace: `/alerts` (each alert, its last messages from
//! the store's outbox and the state of their deliveries; `/api/alerts` is its JSON twin) and
//! `/alerts/<id>.atom` (the messages of an alert with `atom = true`, as Atom 1.0).
//!
//! Read-only beside the daemon, like the feeds page: the store is opened read-only per request, and
//! only the messages shown are decoded in full ([`Store::recent_outbox`]).
//!
//! The Atom feed has **one entry per message**, not per article: a message is what the alert sends
//! (its webhook and email get the same unit), so `batch = "hourly"/"daily"` sets how often a reader is
//! told, as for the other channels, and `total`/`more` stay with the articles they count; an entry per
//! article would turn one daily message into 50 items. Each entry lists its articles as text (title,
//! outlet, time, the original URL only when http(s), snippet) and links each one's page here
//! (`rel="related"`). Webhook URLs are shown as scheme and host only: their path often carries a secret.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::render;
use crate::config::Config;
use crate::escape::{http_url, xml_text};
use crate::model::{AlertBatch, AlertOn, AlertSpec};
use crate::store::{OutboxEntry, Store};
use crate::web::{blocking, is_article_id, AppState, WebError};

/// Messages shown per alert on `/alerts` (newest first).
pub const LAST_MESSAGES: usize = 20;

/// Entries of an alert's Atom feed at most (its newest messages).
pub const ATOM_MESSAGES: usize = 50;

/// One alert as `/alerts` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its query.
    pub query: String,
    /// Its filters, `key=value`.
    pub filters: Vec<String>,
    /// The same search on `/search`.
    pub search_href: String,
    /// `match` or `spike`.
    pub on: &'static str,
    /// `immediate`, `hourly` or `daily`.
    pub batch: &'static str,
    /// Where its messages go: `webhook scheme://host`, `email ADDRESS`.
    pub channels: Vec<String>,
    /// `/alerts/<id>.atom` when it has `atom = true`.
    pub atom: Option<String>,
    /// Its messages in the outbox (kept 30 days once delivered).
    pub messages_kept: usize,
    /// Its last [`LAST_MESSAGES`] messages, newest first.
    pub messages: Vec<MessageView>,
}

/// One message of an alert.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    /// Its sequence number in the outbox.
    pub seq: u64,
    /// When the alert fired.
    pub fired_at: String,
    /// Matching articles in all.
    pub total: usize,
    /// Matching articles left out of the message.
    pub more: usize,
    /// The articles it holds.
    pub articles: Vec<ArticleView>,
    /// Its deliveries.
    pub deliveries: Vec<DeliveryView>,
}

/// One article of a message.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleView {
    /// Article id.
    pub id: String,
    /// Headline (archived text: escaped by the template).
    pub title: String,
    /// Outlet.
    pub source_name: String,
    /// Its page here (None when the id is not an article id).
    pub href: Option<String>,
}

/// One delivery of a message.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    /// `webhook` (or `email`).
    pub channel: String,
    /// Where, a webhook URL as scheme and host only.
    pub target: String,
    /// `pending`, `delivered` or `failed`.
    pub state: &'static str,
    /// Attempts so far.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt: Option<String>,
    /// When it was acknowledged or given up.
    pub done_at: Option<String>,
    /// The last attempt's error (the webhook URL in it shown as `target`).
    pub last_error: Option<String>,
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What of a delivery target may be shown: a URL's scheme, host and port (a webhook's path and query
/// often hold a secret, e.g. chat services' hook URLs); anything else (an address) as it is.
pub fn shown_target(target: &str) -> String {
    match url::Url::parse(target) {
        Ok(u) if u.has_host() => {
            let host = u.host_str().unwrap_or_default();
            match u.port() {
                Some(p) => format!("{}://{host}:{p}", u.scheme()),
                None => format!("{}://{host}", u.scheme()),
            }
        }
        _ => target.to_string(),
    }
}

/// `/search` with the alert's query and filters.
fn search_href(a: &AlertSpec) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("q", &a.query);
    for (k, v) in a.filters() {
        q.append_pair(k, v);
    }
    format!("/search?{}", q.finish())
}

fn message_view(e: &OutboxEntry) -> MessageView {
    MessageView {
        seq: e.seq,
        fired_at: e.message.fired_at.clone(),
        total: e.message.total,
        more: e.message.more,
        articles: e
            .message
            .articles
            .iter()
            .map(|a| ArticleView {
                id: a.id.clone(),
                title: a.title.clone(),
                source_name: a.source_name.clone(),
                href: is_article_id(&a.id).then(|| format!("/articles/{}", a.id)),
            })
            .collect(),
        deliveries: e
            .deliveries
            .iter()
            .map(|d| {
                let target = shown_target(&d.target);
                DeliveryView {
                    channel: d.channel.clone(),
                    state: d.state.as_str(),
                    attempts: d.attempts,
                    next_attempt: (d.state == crate::store::DeliveryState::Pending)
                        .then(|| time(d.next_attempt)),
                    done_at: d.done_at.map(time),
                    last_error: d.last_error.as_ref().map(|err| {
                        if d.target.is_empty() {
                            err.clone()
                        } else {
                            err.replace(&d.target, &target)
                        }
                    }),
                    target,
                }
            })
            .collect(),
    }
}

/// Messages by alert id, newest first, and each alert's number of messages in the outbox.
type ByAlert = (HashMap<String, Vec<OutboxEntry>>, HashMap<String, usize>);

/// The newest `per_alert` messages of each alert (of `alert` only) by alert id, newest first, and each
/// alert's number of messages in the outbox (empty before the first ingest).
fn messages_by_alert(
    store: Option<&Store>,
    alert: Option<&str>,
    per_alert: usize,
) -> anyhow::Result<ByAlert> {
    let Some(store) = store else {
        return Ok(Default::default());
    };
    let recent = store.recent_outbox(alert, per_alert)?;
    let mut by_alert: HashMap<String, Vec<OutboxEntry>> = HashMap::new();
    for e in recent.entries {
        by_alert.entry(e.message.alert.clone()).or_default().push(e);
    }
    Ok((by_alert, recent.counts))
}

/// Every configured alert in config order, with its last messages from the store's outbox. Messages
/// of alerts no longer in the config are not shown (`alerts outbox --all` lists them).
pub fn alert_views(config: &Config, store: Option<&Store>) -> anyhow::Result<Vec<AlertView>> {
    let (mut by_alert, counts) = messages_by_alert(store, None, LAST_MESSAGES)?;
    Ok(config
        .alerts
        .iter()
        .map(|a| {
            let messages = by_alert.remove(&a.id).unwrap_or_default();
            let mut channels = Vec::new();
            if let Some(w) = &a.webhook {
                channels.push(format!("webhook {}", shown_target(w.as_str())));
            }
            channels.extend(a.email.iter().map(|m| format!("email {m}")));
            AlertView {
                id: a.id.clone(),
                name: a.name.clone(),
                query: a.query.clone(),
                filters: a
                    .filters()
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
                search_href: search_href(a),
                on: match a.on {
                    AlertOn::Match => "match",
                    AlertOn::Spike => "spike",
                },
                batch: match a.batch {
                    AlertBatch::Immediate => "immediate",
                    AlertBatch::Hourly => "hourly",
                    AlertBatch::Daily => "daily",
                },
                channels,
                atom: a.atom.then(|| format!("/alerts/{}.atom", a.id)),
                messages_kept: counts.get(&a.id).copied().unwrap_or(0),
                messages: messages.iter().map(message_view).collect(),
            }
        })
        .collect())
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    alerts: Vec<AlertView>,
}

/// `GET /alerts`.
pub async fn alerts(State(state): State<Arc<AppState>>) -> Result<Response, WebError> {
    let alerts = blocking(&state, |s| {
        let store = s.store()?;
        alert_views(&s.config, store.as_ref()).map_err(WebError::internal)
    })
    .await?;
    Ok(render(&AlertsPage { alerts }))
}

struct AtomLink {
    href: String,
    title: String,
}

struct AtomEntry {
    id: String,
    title: String,
    updated: String,
    content: String,
    related: Vec<AtomLink>,
    categories: Vec<String>,
}

#[derive(Template)]
#[template(path = "alert.atom.xml")]
struct AlertFeed {
    title: String,
    feed_id: String,
    self_href: String,
    updated: String,
    entries: Vec<AtomEntry>,
}

/// The Atom entry of one message: its articles as plain text, each one's page linked.
fn atom_entry(e: &OutboxEntry) -> AtomEntry {
    let m = &e.message;
    let updated = DateTime::parse_from_rfc3339(&m.fired_at)
        .map(|t| time(t.with_timezone(&Utc)))
        .unwrap_or_else(|_| time(e.created_at));
    let id = match uuid::Uuid::parse_str(&e.idempotency_key) {
        Ok(u) => format!("urn:uuid:{}", u.hyphenated()),
        Err(_) => format!("urn:mediawatch:alert:{}:message:{}", m.alert, e.seq),
    };
    let mut content = String::new();
    for a in &m.articles {
        content.push_str(&format!("- {}\n  {}", a.title.trim(), a.source_name));
        if let Some(p) = &a.published {
            content.push_str(&format!(", {p}"));
        }
        content.push('\n');
        if let Some(u) = http_url(&a.url) {
            content.push_str(&format!("  {u}\n"));
        }
        if !a.snippet.trim().is_empty() {
            content.push_str(&format!("  {}\n", a.snippet.trim()));
        }
    }
    if m.more > 0 {
        content.push_str(&format!("({} more matching articles not listed)\n", m.more));
    }
    let mut categories: Vec<String> = m
        .articles
        .iter()
        .flat_map(|a| a.campaigns.iter().cloned())
        .collect();
    categories.sort_unstable();
    categories.dedup();
    AtomEntry {
        id,
        title: xml_text(&format!(
            "{}: {} new article{}",
            m.name,
            m.total,
            if m.total == 1 { "" } else { "s" }
        )),
        updated,
        content: xml_text(&content),
        related: m
            .articles
            .iter()
            .filter(|a| is_article_id(&a.id))
            .map(|a| AtomLink {
                href: format!("/articles/{}", a.id),
                title: xml_text(&a.title),
            })
            .collect(),
        categories: categories.iter().map(|c| xml_text(c)).collect(),
    }
}

/// `GET /alerts/{file}`: `<id>.atom` is the Atom 1.0 feed of alert `<id>`'s newest [`ATOM_MESSAGES`]
/// messages, one entry per message; 404 for an unknown alert or one without `atom = true`.
pub async fn alert_atom(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
) -> Result<Response, WebError> {
    let Some(id) = file.strip_suffix(".atom") else {
        return Err(WebError::not_found(format!(
            "no page /alerts/{file}: an alert's feed is /alerts/ID.atom"
        )));
    };
    let Some(alert) = state.config.alerts.iter().find(|a| a.id == id).cloned() else {
        return Err(WebError::not_found(format!(
            "no alert {id:?} in the config (see /alerts)"
        )));
    };
    if !alert.atom {
        return Err(WebError::not_found(format!(
            "alert {id:?} has no Atom feed: set atom = true in its [[alerts]] entry"
        )));
    }
    let feed = blocking(&state, move |s| {
        let store = s.store()?;
        let (mut by_alert, _) = messages_by_alert(store.as_ref(), Some(&alert.id), ATOM_MESSAGES)
            .map_err(WebError::internal)?;
        let messages = by_alert.remove(&alert.id).unwrap_or_default();
        let entries: Vec<AtomEntry> = messages.iter().map(atom_entry).collect();
        let updated = entries
            .iter()
            .map(|e| e.updated.clone())
            .max()
            .unwrap_or_else(|| time(Utc::now()));
        Ok(AlertFeed {
            title: xml_text(&format!("mediawatch alert: {}", alert.name)),
            feed_id: format!("urn:mediawatch:alert:{}", alert.id),
            self_href: format!("/alerts/{}.atom", alert.id),
            updated,
            entries,
        })
    })
    .await?;
    let body = feed
        .render()
        .map_err(|e| WebError::internal(anyhow::anyhow!("alert atom template failed: {e}")))?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_targets_show_their_host_only() {
        assert_eq!(
            shown_target("https://hooks.example.org/services/T0/B0/s3cret?token=x"),
            "https://hooks.example.org"
        );
        assert_eq!(
            shown_target("http://127.0.0.1:8080/hook"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(shown_target("desk@example.org"), "desk@example.org");
    }
}
