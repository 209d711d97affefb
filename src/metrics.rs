//! The daemon's Prometheus metrics (`run --metrics-addr`): one [`Metrics`] owns the registry and every
//! family (no global registry), [`Metrics::record_pass`] counts what a pass report says,
//! [`Metrics::set_archive`] sets the gauges the daemon reads from the index and the store after each pass,
//! and [`serve`] answers `GET /metrics` in the OpenMetrics text format on the daemon's runtime (axum, as
//! the web workspace). [`parse_addr`] reads `--metrics-addr`: `HOST:PORT`, or a bare `PORT` on loopback.
//!
//! Names (prefix `mediawatch_`): `passes_total{outcome}`, `feeds{health}`, `fetches_total{kind,outcome}`,
//! `fetch_duration_seconds{kind}`, `articles_archived_total`, `articles_tagged_total`, `pending_entries`,
//! `revisits_total{outcome}`, `revisits_due`, `index_segments`, `index_size_bytes`,
//! `last_commit_timestamp_seconds`, `alert_messages_total`, `alert_deliveries_total{outcome}`,
//! `alert_outbox_pending`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use anyhow::Context as _;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};
use tracing::{info, warn};

use crate::alert::deliver::Delivered;
use crate::index::IndexStats;
use crate::pipeline::PassReport;
use crate::status::Health;

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The health classes of `feeds status`, each always exported (0 when no feed has it).
const HEALTHS: [Health; 4] = [Health::New, Health::Ok, Health::Failing, Health::Unhealthy];

/// The outcomes of an alert delivery attempt, each always exported.
const DELIVERY_OUTCOMES: [&str; 3] = ["delivered", "retrying", "failed"];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HealthLabels {
    health: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FetchLabels {
    kind: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// The outcomes of `revisits_total`, each always exported: what [`crate::pipeline::RevisitReport`]
/// counts of each revisit (`edited`: a new version, `returned`: back to an earlier version, `failed`:
/// transient or for good, `missing`: its article not in the archive).
const REVISIT_OUTCOMES: [&str; 8] = [
    "not_modified",
    "unchanged",
    "edited",
    "returned",
    "removed",
    "restored",
    "failed",
    "missing",
];

/// A fetch's request time: 10 ms to about 20 s.
fn fetch_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 12))
}

/// What the daemon reads from the index and the store for the gauges.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArchiveGauges {
    /// Configured feeds per health class ([`crate::status::health`]; a feed without state is new).
    pub feeds: Vec<(Health, u64)>,
    /// Pages waiting for a retry ([`crate::store::PendingEntry`]), every feed.
    pub pending_entries: u64,
    /// Archived articles whose revisit is due now and not yet done (the revisit backlog).
    pub revisits_due: u64,
    /// The index on disk.
    pub index: Option<IndexStats>,
    /// Alert messages with a delivery still pending ([`crate::store::Store::outbox_pending`]).
    pub alert_outbox_pending: u64,
}

/// The registry and its metric families.
pub struct Metrics {
    registry: Registry,
    passes: Family<OutcomeLabels, Counter>,
    feeds: Family<HealthLabels, Gauge>,
    fetches: Family<FetchLabels, Counter>,
    fetch_duration: Family<KindLabels, Histogram, fn() -> Histogram>,
    articles_archived: Counter,
    articles_tagged: Counter,
    pending_entries: Gauge,
    revisits: Family<OutcomeLabels, Counter>,
    revisits_due: Gauge,
    index_segments: Gauge,
    index_size: Gauge,
    last_commit: Gauge<f64, AtomicU64>,
    alert_messages: Counter,
    alert_deliveries: Family<OutcomeLabels, Counter>,
    alert_outbox_pending: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every family registered (values at zero).
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("mediawatch");
        let m = Metrics {
            registry: Registry::default(),
            passes: Family::default(),
            feeds: Family::default(),
            fetches: Family::default(),
            fetch_duration: Family::new_with_constructor(fetch_histogram),
            articles_archived: Counter::default(),
            articles_tagged: Counter::default(),
            pending_entries: Gauge::default(),
            revisits: Family::default(),
            revisits_due: Gauge::default(),
            index_segments: Gauge::default(),
            index_size: Gauge::default(),
            last_commit: Gauge::default(),
            alert_messages: Counter::default(),
            alert_deliveries: Family::default(),
            alert_outbox_pending: Gauge::default(),
        };
        registry.register(
            "passes",
            "Ingest passes run, by outcome (ok, failed)",
            m.passes.clone(),
        );
        registry.register(
            "feeds",
            "Configured feeds by health (new, ok, failing, unhealthy), as `feeds status` shows it",
            m.feeds.clone(),
        );
        registry.register(
            "fetches",
            "HTTP fetches by kind (feed: a source's first document, further: a sitemap index's sitemaps or a \
             channel's older pages, page: an article, revisit: an archived article fetched again) and outcome (ok, not_modified, error)",
            m.fetches.clone(),
        );
        registry.register_with_unit(
            "fetch_duration",
            "Request time of the fetches that were sent, by kind (politeness waits excluded)",
            Unit::Seconds,
            m.fetch_duration.clone(),
        );
        registry.register(
            "articles_archived",
            "Articles written to the archive",
            m.articles_archived.clone(),
        );
        registry.register(
            "articles_tagged",
            "Articles archived with at least one campaign",
            m.articles_tagged.clone(),
        );
        registry.register(
            "pending_entries",
            "Article pages that failed transiently and wait for a retry",
            m.pending_entries.clone(),
        );
        registry.register(
            "revisits",
            "Revisits of archived articles by outcome (not_modified: 304, unchanged: the same page, edited: \
             a new version, returned: back to an earlier version, removed, restored, failed, missing: not in \
             the archive)",
            m.revisits.clone(),
        );
        registry.register(
            "revisits_due",
            "Archived articles whose revisit is due and not yet done (left by the budget per pass)",
            m.revisits_due.clone(),
        );
        registry.register(
            "index_segments",
            "Segments of the index's last commit",
            m.index_segments.clone(),
        );
        registry.register_with_unit(
            "index_size",
            "Size of the index folder's files",
            Unit::Bytes,
            m.index_size.clone(),
        );
        registry.register_with_unit(
            "last_commit_timestamp",
            "When the index was last committed (Unix time)",
            Unit::Seconds,
            m.last_commit.clone(),
        );
        registry.register(
            "alert_messages",
            "Alert messages enqueued in the outbox",
            m.alert_messages.clone(),
        );
        registry.register(
            "alert_deliveries",
            "Alert delivery attempts (webhook POSTs, mails) by outcome (delivered; retrying: failed \
             transiently, tried again later; failed: refused, or given up after 24 hours)",
            m.alert_deliveries.clone(),
        );
        registry.register(
            "alert_outbox_pending",
            "Alert messages with a delivery still pending (waiting for an attempt or a retry)",
            m.alert_outbox_pending.clone(),
        );
        for outcome in DELIVERY_OUTCOMES {
            let _ = m.alert_deliveries.get_or_create(&OutcomeLabels { outcome });
        }
        for h in HEALTHS {
            let _ = m.feeds.get_or_create(&HealthLabels { health: h.as_str() });
        }
        for outcome in ["ok", "failed"] {
            let _ = m.passes.get_or_create(&OutcomeLabels { outcome });
        }
        for outcome in REVISIT_OUTCOMES {
            let _ = m.revisits.get_or_create(&OutcomeLabels { outcome });
        }
        Metrics { registry, ..m }
    }

    /// Counts a pass that returned its report: the pass, its fetches and their request times, the
    /// articles it archived and tagged, its revisits by outcome.
    pub fn record_pass(&self, report: &PassReport) {
        self.passes
            .get_or_create(&OutcomeLabels { outcome: "ok" })
            .inc();
        for f in &report.fetches {
            let kind = f.kind.as_str();
            self.fetches
                .get_or_create(&FetchLabels {
                    kind,
                    outcome: f.outcome.as_str(),
                })
                .inc();
            if let Some(took) = f.took {
                self.fetch_duration
                    .get_or_create(&KindLabels { kind })
                    .observe(took.as_secs_f64());
            }
        }
        self.articles_archived
            .inc_by(report.articles_archived as u64);
        self.articles_tagged.inc_by(report.articles_tagged as u64);
        let r = &report.revisits;
        for (outcome, n) in REVISIT_OUTCOMES.into_iter().zip([
            r.not_modified,
            r.unchanged,
            r.new_versions,
            r.returns,
            r.removed,
            r.restored,
            r.failed,
            r.missing,
        ]) {
            self.revisits
                .get_or_create(&OutcomeLabels { outcome })
                .inc_by(n as u64);
        }
        self.alert_messages.inc_by(report.alert_messages as u64);
    }

    /// Counts a round of alert deliveries by outcome.
    pub fn record_deliveries(&self, d: &Delivered) {
        for (outcome, n) in DELIVERY_OUTCOMES
            .into_iter()
            .zip([d.delivered, d.retrying, d.failed])
        {
            self.alert_deliveries
                .get_or_create(&OutcomeLabels { outcome })
                .inc_by(n as u64);
        }
    }

    /// Sets the number of alert messages with a delivery still pending.
    pub fn set_alert_outbox_pending(&self, n: u64) {
        self.alert_outbox_pending.set(clamp(n));
    }

    /// Counts a pass that failed (its fetches are in the next pass's report).
    pub fn record_failed_pass(&self) {
        self.passes
            .get_or_create(&OutcomeLabels { outcome: "failed" })
            .inc();
    }

    /// Sets the gauges read from the index and the store. A health class missing from `a.feeds` is 0.
    pub fn set_archive(&self, a: &ArchiveGauges) {
        for h in HEALTHS {
            let n = a
                .feeds
                .iter()
                .filter(|(health, _)| *health == h)
                .map(|(_, n)| *n)
                .sum::<u64>();
            self.feeds
                .get_or_create(&HealthLabels { health: h.as_str() })
                .set(clamp(n));
        }
        self.pending_entries.set(clamp(a.pending_entries));
        self.set_alert_outbox_pending(a.alert_outbox_pending);
        self.revisits_due.set(clamp(a.revisits_due));
        if let Some(index) = &a.index {
            self.index_segments.set(clamp(index.segments));
            self.index_size.set(clamp(index.size_bytes));
            if let Some(t) = index.last_commit {
                self.last_commit.set(t.timestamp_millis() as f64 / 1000.0);
            }
        }
    }

    /// Every metric in the OpenMetrics text format (ending in `# EOF`).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Reads `--metrics-addr`: `HOST:PORT` with an IP address (`[::1]:9464` for IPv6) or `localhost`, or a
/// bare `PORT`, which means 127.0.0.1.
pub fn parse_addr(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    let bad = || {
        format!(
            "{s:?} is not an address to serve metrics on: give HOST:PORT with an IP address \
             (127.0.0.1:9464, [::1]:9464) or a bare PORT (1-65535, on 127.0.0.1)"
        )
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<u16>() {
            Ok(port) if port > 0 => Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)),
            _ => Err(bad()),
        };
    }
    if let Some(port) = s.strip_prefix("localhost:") {
        return parse_addr(port);
    }
    match s.parse::<SocketAddr>() {
        Ok(addr) if addr.port() > 0 => Ok(addr),
        _ => Err(bad()),
    }
}

/// Binds the metrics listener, naming the address when it cannot; a non-loopback address is served (it
/// was written explicitly) with a warning that the metrics are unauthenticated.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!(
            "cannot serve metrics on {addr} (--metrics-addr): is another process listening there? \
             choose another port"
        )
    })?;
    if !addr.ip().is_loopback() {
        warn!(%addr, "metrics are served without authentication on a non-loopback address");
    }
    Ok(listener)
}

/// Serves `GET /metrics` on `listener` until the task is dropped (with the daemon's runtime).
pub async fn serve(listener: tokio::net::TcpListener, metrics: Arc<Metrics>) {
    let local = listener
        .local_addr()
        .map_or_else(|_| "?".to_string(), |a| a.to_string());
    let app = axum::Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "not found: the metrics are at /metrics\n",
            )
        })
        .with_state(metrics);
    info!("metrics on http://{local}/metrics");
    if let Err(e) = axum::serve(listener, app).await {
        warn!(error = %e, "the metrics server stopped");
    }
}

async fn scrape(
    axum::extract::State(metrics): axum::extract::State<Arc<Metrics>>,
) -> axum::response::Response {
    match metrics.encode() {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot encode the metrics\n",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{FetchKind, FetchOutcome, FetchRecord};

    #[test]
    fn a_bare_port_is_loopback_and_host_port_is_taken_as_written() {
        assert_eq!(
            parse_addr("9464"),
            Ok("127.0.0.1:9464".parse().expect("address"))
        );
        assert_eq!(
            parse_addr("localhost:9464"),
            Ok("127.0.0.1:9464".parse().expect("address"))
        );
        assert_eq!(
            parse_addr("0.0.0.0:9100"),
            Ok("0.0.0.0:9100".parse().expect("address"))
        );
        assert_eq!(
            parse_addr("[::1]:9100"),
            Ok("[::1]:9100".parse().expect("address"))
        );
    }

    #[test]
    fn a_bad_address_is_refused_with_what_to_give() {
        for bad in [
            "",
            "abc",
            "70000",
            "0",
            "127.0.0.1",
            "127.0.0.1:",
            "example.org:9464",
            "1.2.3.4:0",
        ] {
            let e = parse_addr(bad).expect_err(bad);
            assert!(e.contains(&format!("{bad:?}")), "{e}");
            assert!(e.contains("HOST:PORT") && e.contains("bare PORT"), "{e}");
        }
    }

    #[test]
    fn a_pass_report_is_counted_and_the_gauges_set() {
        let m = Metrics::new();
        let report = PassReport {
            articles_archived: 3,
            articles_tagged: 2,
            fetches: vec![
                FetchRecord {
                    kind: FetchKind::Feed,
                    outcome: FetchOutcome::NotModified,
                    took: Some(std::time::Duration::from_millis(30)),
                },
                FetchRecord {
                    kind: FetchKind::Page,
                    outcome: FetchOutcome::Error,
                    took: None,
                },
            ],
            revisits: crate::pipeline::RevisitReport {
                due: 12,
                revisited: 11,
                not_modified: 5,
                unchanged: 1,
                new_versions: 2,
                returns: 1,
                removed: 1,
                restored: 1,
                failed: 1,
                missing: 1,
                ..Default::default()
            },
            ..Default::default()
        };
        m.record_pass(&PassReport {
            alert_messages: 2,
            ..report.clone()
        });
        m.record_pass(&PassReport {
            revisits: crate::pipeline::RevisitReport {
                not_modified: 3,
                ..Default::default()
            },
            ..Default::default()
        });
        m.record_failed_pass();
        m.record_deliveries(&Delivered {
            delivered: 2,
            retrying: 1,
            failed: 0,
        });
        m.record_deliveries(&Delivered {
            delivered: 1,
            retrying: 0,
            failed: 1,
        });
        m.set_archive(&ArchiveGauges {
            feeds: vec![(Health::Ok, 2), (Health::Failing, 1)],
            pending_entries: 4,
            revisits_due: 7,
            index: Some(IndexStats {
                segments: 2,
                size_bytes: 1234,
                last_commit: chrono::DateTime::from_timestamp(1_800_000_000, 500_000_000),
            }),
            alert_outbox_pending: 3,
        });
        let text = m.encode().expect("encodes");
        for line in [
            "mediawatch_passes_total{outcome=\"ok\"} 2",
            "mediawatch_passes_total{outcome=\"failed\"} 1",
            "mediawatch_feeds{health=\"ok\"} 2",
            "mediawatch_feeds{health=\"failing\"} 1",
            "mediawatch_feeds{health=\"new\"} 0",
            "mediawatch_feeds{health=\"unhealthy\"} 0",
            "mediawatch_fetches_total{kind=\"feed\",outcome=\"not_modified\"} 1",
            "mediawatch_fetches_total{kind=\"page\",outcome=\"error\"} 1",
            "mediawatch_fetch_duration_seconds_count{kind=\"feed\"} 1",
            "mediawatch_articles_archived_total 3",
            "mediawatch_articles_tagged_total 2",
            "mediawatch_pending_entries 4",
            "mediawatch_revisits_total{outcome=\"not_modified\"} 8",
            "mediawatch_revisits_total{outcome=\"unchanged\"} 1",
            "mediawatch_revisits_total{outcome=\"edited\"} 2",
            "mediawatch_revisits_total{outcome=\"returned\"} 1",
            "mediawatch_revisits_total{outcome=\"removed\"} 1",
            "mediawatch_revisits_total{outcome=\"restored\"} 1",
            "mediawatch_revisits_total{outcome=\"failed\"} 1",
            "mediawatch_revisits_total{outcome=\"missing\"} 1",
            "mediawatch_revisits_due 7",
            "mediawatch_index_segments 2",
            "mediawatch_index_size_bytes 1234",
            "mediawatch_last_commit_timestamp_seconds 1800000000.5",
            "mediawatch_alert_messages_total 2",
            "mediawatch_alert_deliveries_total{outcome=\"delivered\"} 3",
            "mediawatch_alert_deliveries_total{outcome=\"retrying\"} 1",
            "mediawatch_alert_deliveries_total{outcome=\"failed\"} 1",
            "mediawatch_alert_outbox_pending 3",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
        }
        // A page refused before its request counts as a fetch but has no request time.
        assert!(!text.contains("mediawatch_fetch_duration_seconds_count{kind=\"page\"}"));
        assert!(text.ends_with("# EOF\n"));
    }
}
