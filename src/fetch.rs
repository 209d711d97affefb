//! HTTP at the edge: one `Fetcher` shared by feed and page fetches, with the caps and guards that a
//! hostile web needs.
//!
//! - Caps: total time per request (body included), body size after decompression (a gzip bomb stops at
//!   the cap), redirect count, redirect loops.
//! - Politeness: requests in flight overall (`concurrency`) and per host (`per_host`); a minimum delay
//!   between request starts to one host (`host_delay_ms`, or the host's robots.txt `Crawl-delay` when
//!   longer, capped at [`MAX_CRAWL_DELAY`]), shared by feed and page fetches; robots.txt honoured for
//!   pages (RFC 9309, cached per host for [`ROBOTS_TTL`]); a clear User-Agent; conditional GET.
//! - Safety: unless `allow_private_networks`, a URL that did not come from the config as written is never
//!   fetched from loopback, private, link-local, multicast or otherwise non-public addresses: checked on
//!   IP literals, on every redirect, and on the resolved addresses (so DNS rebinding does not get through).
//!
//! It returns bytes and headers; decoding charsets and parsing are other modules' work.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{
    HeaderMap, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, RETRY_AFTER,
};
use tokio::sync::Semaphore;
use url::Url;

use crate::config::FetchSettings;
use crate::model::Page;

/// Why a fetch failed. Callers branch on [`FetchError::is_transient`] to retry later or give up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// The server answered with a non-success status.
    #[error("HTTP status {status}")]
    Status {
        /// The status code.
        status: u16,
        /// `Retry-After` in seconds, when the server sent one (429, 503).
        retry_after: Option<u64>,
    },
    /// The request did not finish in time.
    #[error("timed out after {0} s")]
    Timeout(u64),
    /// The body was larger than the cap.
    #[error("body larger than the cap of {0} bytes")]
    TooLarge(u64),
    /// The address is not allowed (private network, bad scheme).
    #[error("refused: {0}")]
    Blocked(String),
    /// Too many redirects or a redirect loop.
    #[error("redirect: {0}")]
    Redirect(String),
    /// The site's robots.txt disallows the URL for our user agent.
    #[error("disallowed by robots.txt")]
    Disallowed,
    /// The site's robots.txt could not be fetched (server or network error): RFC 9309 says crawl nothing.
    #[error("robots.txt unreachable: {0}")]
    RobotsUnreachable(String),
    /// Connection, TLS, DNS or protocol failure.
    #[error("network: {0}")]
    Network(String),
}

impl FetchError {
    /// Worth trying again later (the server or network may recover), as opposed to a final answer.
    pub fn is_transient(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            FetchError::Timeout(_) | FetchError::Network(_) | FetchError::RobotsUnreachable(_) => {
                true
            }
            FetchError::TooLarge(_)
            | FetchError::Blocked(_)
            | FetchError::Redirect(_)
            | FetchError::Disallowed => false,
        }
    }
}

/// Conditional-GET validators stored from an earlier response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag` value.
    pub etag: Option<String>,
    /// `Last-Modified` value.
    pub last_modified: Option<String>,
}

/// The result of a successful request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fetched {
    /// 304: the stored copy is current.
    NotModified,
    /// A 2xx response with its body.
    Page(Box<Page>),
}

impl Fetched {
    /// The page of a request sent without validators. A server that answers such a request with 304
    /// gave nothing to read: that is the error `HTTP status 304`.
    pub fn into_page(self) -> Result<Box<Page>, FetchError> {
        match self {
            Fetched::Page(page) => Ok(page),
            Fetched::NotModified => Err(FetchError::Status {
                status: 304,
                retry_after: None,
            }),
        }
    }
}

/// Whether a URL came from the config as written (trusted) or from a feed or page (not trusted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A feed URL from `feeds.toml`.
    Config,
    /// A link found in a feed or page.
    Link,
}

/// Longest `Crawl-delay` we honour; a longer one is capped (and the host is still fetched).
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(60);
/// How long a fetched robots.txt is trusted.
pub const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long an unreachable robots.txt blocks a host before it is asked again.
const ROBOTS_RETRY: Duration = Duration::from_secs(3600);
/// robots.txt bytes read at most (RFC 9309 asks for at least 500 KiB).
const ROBOTS_MAX_BYTES: u64 = 512 * 1024;

/// Per-host politeness state.
struct HostState {
    permits: Arc<Semaphore>,
    next_start: Mutex<Option<Instant>>,
    robots: tokio::sync::Mutex<Option<(Instant, Arc<RobotsRules>)>>,
}

/// What a host's robots.txt says for us.
#[derive(Debug)]
enum RobotsRules {
    Parsed(robotxt::Robots),
    Unreachable(String),
}

/// The shared HTTP client with its limits.
pub struct Fetcher {
    client: reqwest::Client,
    settings: FetchSettings,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<String, Arc<HostState>>>,
    agent: String,
}

/// Why an address or link is refused ([`check_link`], the guarded resolver and redirects); found again in
/// reqwest's error chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BlockedAddress(pub String);

/// A redirect chain given up on (too long, or a loop); found again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct RedirectProblem(String);

/// DNS resolution that drops non-public addresses for hosts not named in the config.
struct GuardedResolver {
    allow_private: bool,
    trusted_hosts: HashSet<String>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let trusted = self.allow_private || self.trusted_hosts.contains(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if trusted {
                return Ok(Box::new(addrs.into_iter()) as Addrs);
            }
            let public: Vec<SocketAddr> = addrs.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(BlockedAddress(format!(
                    "{host} resolves only to non-public addresses (allow_private_networks = false)"
                )))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

impl Fetcher {
    /// Builds the client. `trusted_urls` are the feed URLs from the config: their hosts may resolve to
    /// private addresses, and the URLs themselves may be IP literals of any kind.
    pub fn new(settings: &FetchSettings, trusted_urls: &[Url]) -> anyhow::Result<Fetcher> {
        // Installing twice is harmless: the second call reports the first provider and changes nothing.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let trusted_hosts = trusted_urls
            .iter()
            .filter_map(|u| u.host_str().map(str::to_string))
            .collect();
        let max_redirects = settings.max_redirects;
        let allow_private = settings.allow_private_networks;
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > max_redirects {
                return attempt.error(RedirectProblem(format!(
                    "more than {max_redirects} redirects"
                )));
            }
            if attempt.previous().iter().any(|u| u == attempt.url()) {
                let msg = format!("redirect loop at {}", attempt.url());
                return attempt.error(RedirectProblem(msg));
            }
            if let Err(reason) = check_link(attempt.url(), allow_private) {
                return attempt.error(BlockedAddress(format!("redirect to {reason}")));
            }
            attempt.follow()
        });
        let client = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .timeout(Duration::from_secs(settings.timeout_secs))
            .connect_timeout(Duration::from_secs(settings.timeout_secs.min(10)))
            .redirect(policy)
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private,
                trusted_hosts,
            }))
            .build()?;
        // The robots.txt product token: the User-Agent's first word, before any '/'.
        let agent = settings
            .user_agent
            .split(|c: char| c == '/' || c.is_whitespace())
            .next()
            .unwrap_or("mediawatch")
            .to_string();
        Ok(Fetcher {
            client,
            settings: settings.clone(),
            global: Arc::new(Semaphore::new(settings.concurrency.max(1))),
            hosts: Mutex::new(HashMap::new()),
            agent,
        })
    }

    fn host_state(&self, url: &Url) -> Arc<HostState> {
        let key = format!(
            "{}://{}:{}",
            url.scheme(),
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        // A poisoned lock only means another task panicked while inserting; the map is still usable.
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        hosts
            .entry(key)
            .or_insert_with(|| {
                Arc::new(HostState {
                    permits: Arc::new(Semaphore::new(self.settings.per_host.max(1))),
                    next_start: Mutex::new(None),
                    robots: tokio::sync::Mutex::new(None),
                })
            })
            .clone()
    }

    /// Waits until the host may be sent the next request, and reserves the slot after it.
    async fn throttle(&self, host: &HostState, delay: Duration) {
        if delay.is_zero() {
            return;
        }
        let wait = {
            let mut next = host.next_start.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let start = next.map_or(now, |n| n.max(now));
            *next = Some(start + delay);
            start - now
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// The delay between request starts for a host: the configured one, or the host's Crawl-delay.
    async fn host_delay(&self, host: &HostState) -> Duration {
        let configured = Duration::from_millis(self.settings.host_delay_ms);
        let robots = host.robots.lock().await;
        let crawl_delay = match robots.as_ref().map(|(_, r)| r.as_ref()) {
            Some(RobotsRules::Parsed(r)) => {
                r.crawl_delay().unwrap_or_default().min(MAX_CRAWL_DELAY)
            }
            _ => Duration::ZERO,
        };
        configured.max(crawl_delay)
    }

    /// Checks the URL against the host's robots.txt, fetching it (once per [`ROBOTS_TTL`]) if needed.
    async fn check_robots(&self, url: &Url, host: &HostState) -> Result<(), FetchError> {
        let mut cached = host.robots.lock().await;
        let fresh = cached.as_ref().is_some_and(|(at, rules)| {
            let ttl = match rules.as_ref() {
                RobotsRules::Parsed(_) => ROBOTS_TTL,
                RobotsRules::Unreachable(_) => ROBOTS_RETRY,
            };
            at.elapsed() < ttl
        });
        if !fresh {
            let rules = self.fetch_robots(url, host).await;
            *cached = Some((Instant::now(), Arc::new(rules)));
        }
        match cached.as_ref().map(|(_, r)| r.as_ref()) {
            Some(RobotsRules::Parsed(r)) if !r.is_url_allowed(url) => Err(FetchError::Disallowed),
            Some(RobotsRules::Unreachable(e)) => Err(FetchError::RobotsUnreachable(e.clone())),
            _ => Ok(()),
        }
    }

    async fn fetch_robots(&self, url: &Url, host: &HostState) -> RobotsRules {
        let mut robots_url = url.clone();
        robots_url.set_path("/robots.txt");
        robots_url.set_query(None);
        robots_url.set_fragment(None);
        let permit = host.permits.clone().acquire_owned().await;
        self.throttle(host, Duration::from_millis(self.settings.host_delay_ms))
            .await;
        let result = self.request(&robots_url, None, ROBOTS_MAX_BYTES).await;
        drop(permit);
        match result {
            Ok(Fetched::Page(page)) => {
                RobotsRules::Parsed(robotxt::Robots::parse(&page.body, self.agent.as_str()))
            }
            Ok(Fetched::NotModified) => RobotsRules::Parsed(robotxt::Robots::allow_all()),
            // RFC 9309 2.3.1: 4xx (and too many redirects) mean no restrictions; 5xx or no answer, none allowed.
            Err(FetchError::Status { status, .. })
                if (400..500).contains(&status) && status != 429 =>
            {
                RobotsRules::Parsed(robotxt::Robots::allow_all())
            }
            Err(FetchError::Redirect(_)) | Err(FetchError::TooLarge(_)) => {
                RobotsRules::Parsed(robotxt::Robots::allow_all())
            }
            Err(e) => RobotsRules::Unreachable(e.to_string()),
        }
    }

    /// GETs `url` within the limits. With `validators`, sends a conditional request.
    pub async fn get(
        &self,
        url: &Url,
        origin: Origin,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        self.get_capped(url, origin, validators, self.settings.max_body_bytes)
            .await
    }

    /// The configured body cap (`max_body_bytes`).
    pub fn max_body_bytes(&self) -> u64 {
        self.settings.max_body_bytes
    }

    /// [`Fetcher::get`] with another body cap (after decompression): a document whose protocol allows more
    /// than `max_body_bytes` (a sitemap may hold 50 MB).
    pub async fn get_capped(
        &self,
        url: &Url,
        origin: Origin,
        validators: Option<&Validators>,
        cap: u64,
    ) -> Result<Fetched, FetchError> {
        self.get_timed(url, origin, validators, cap).await.0
    }

    /// [`Fetcher::get_capped`], with how long its request took: from sending it (after the politeness
    /// waits: host and global permits, host delay, robots.txt) to the last byte of the body or the error.
    /// `None` when no request was sent (a refused scheme or address, robots.txt, shutdown).
    pub async fn get_timed(
        &self,
        url: &Url,
        origin: Origin,
        validators: Option<&Validators>,
        cap: u64,
    ) -> (Result<Fetched, FetchError>, Option<Duration>) {
        if url.scheme() != "http" && url.scheme() != "https" {
            let refused = FetchError::Blocked(format!("scheme {} is not http(s)", url.scheme()));
            return (Err(refused), None);
        }
        if origin == Origin::Link {
            if let Err(b) = check_link(url, self.settings.allow_private_networks) {
                return (Err(FetchError::Blocked(b.0)), None);
            }
        }
        let host = self.host_state(url);
        if origin == Origin::Link {
            if let Err(e) = self.check_robots(url, &host).await {
                return (Err(e), None);
            }
        }
        // Host permit and host delay first, then a global slot: waiting for a busy or slow host must not
        // hold a global slot.
        let Ok(_host_permit) = host.permits.clone().acquire_owned().await else {
            return (Err(shutting_down()), None);
        };
        let delay = self.host_delay(&host).await;
        self.throttle(&host, delay).await;
        let Ok(_global_permit) = self.global.clone().acquire_owned().await else {
            return (Err(shutting_down()), None);
        };
        let timeout = self.settings.timeout_secs;
        let started = Instant::now();
        let fut = self.request(url, validators, cap);
        // The client's own timeout covers the body too; this outer one is a backstop.
        let result = match tokio::time::timeout(Duration::from_secs(timeout + 1), fut).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout(timeout)),
        };
        (result, Some(started.elapsed()))
    }

    async fn request(
        &self,
        url: &Url,
        validators: Option<&Validators>,
        cap: u64,
    ) -> Result<Fetched, FetchError> {
        let mut request = self.client.get(url.clone());
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(lm) = &v.last_modified {
                request = request.header(IF_MODIFIED_SINCE, lm);
            }
        }
        let mut response = request.send().await.map_err(|e| self.classify(e))?;
        let status = response.status().as_u16();
        if status == 304 {
            return Ok(Fetched::NotModified);
        }
        if !response.status().is_success() {
            return Err(FetchError::Status {
                status,
                retry_after: retry_after_secs(response.headers()),
            });
        }
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(FetchError::TooLarge(cap));
        }
        let final_url = response.url().clone();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(e))? {
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        let header = |name| {
            headers
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        Ok(Fetched::Page(Box::new(Page {
            url: url.clone(),
            final_url,
            status,
            content_type: header(reqwest::header::CONTENT_TYPE),
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body,
            fetched_at: Utc::now(),
        })))
    }

    fn classify(&self, e: reqwest::Error) -> FetchError {
        if e.is_timeout() {
            return FetchError::Timeout(self.settings.timeout_secs);
        }
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
        let mut chain = Vec::new();
        while let Some(err) = source {
            if let Some(b) = err.downcast_ref::<BlockedAddress>() {
                return FetchError::Blocked(b.0.clone());
            }
            if let Some(r) = err.downcast_ref::<RedirectProblem>() {
                return FetchError::Redirect(r.0.clone());
            }
            chain.push(err.to_string());
            source = err.source();
        }
        if e.is_redirect() {
            return FetchError::Redirect(chain.join(": "));
        }
        chain.dedup();
        FetchError::Network(chain.join(": "))
    }
}

/// The error of a fetch that found the fetcher's semaphores closed.
fn shutting_down() -> FetchError {
    FetchError::Network("fetcher is shutting down".into())
}

/// `Retry-After` as seconds (delta-seconds or an HTTP date).
fn retry_after_secs(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let delta = when.with_timezone(&Utc) - Utc::now();
    Some(delta.num_seconds().max(0) as u64)
}

/// Refuses links to non-public IP literals (hostnames are checked after resolution).
pub fn check_link(url: &Url, allow_private: bool) -> Result<(), BlockedAddress> {
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(BlockedAddress(format!(
            "{url}: scheme {} is not http(s)",
            url.scheme()
        )));
    }
    if allow_private {
        return Ok(());
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(d)) => {
            if d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
            {
                return Err(BlockedAddress(format!(
                    "{url}: localhost is not a public address (allow_private_networks = false)"
                )));
            }
            return Ok(());
        }
        None => return Err(BlockedAddress(format!("{url}: no host"))),
    };
    if is_public(ip) {
        Ok(())
    } else {
        Err(BlockedAddress(format!(
            "{url}: {ip} is not a public address (allow_private_networks = false)"
        )))
    }
}

/// True for globally routable unicast addresses.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let seg = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
                || (seg[0] == 0x0064 && seg[1] == 0xff9b) // NAT64 may reach private v4
                || (seg[0] == 0 && seg[1] == 0 && seg[2] == 0 && seg[3] == 0 && seg[4] == 0 && seg[5] == 0)) // v4-compatible
                && v6 != Ipv6Addr::UNSPECIFIED
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // shared address space 100.64/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18/15
        || o[0] >= 240) // reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_private_addresses() {
        let cases = [
            ("8.8.8.8", true),
            ("93.184.216.34", true),
            ("127.0.0.1", false),
            ("10.1.2.3", false),
            ("172.16.0.1", false),
            ("192.168.1.1", false),
            ("169.254.169.254", false),
            ("100.64.0.1", false),
            ("0.0.0.0", false),
            ("224.0.0.1", false),
            ("255.255.255.255", false),
            ("::1", false),
            ("fe80::1", false),
            ("fd00::1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:8.8.8.8", true),
            ("2606:4700::1111", true),
            ("ff02::1", false),
        ];
        for (ip, public) in cases {
            assert_eq!(is_public(ip.parse().unwrap()), public, "{ip}");
        }
    }

    #[test]
    fn links_to_private_literals_are_refused() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(check_link(&url("http://127.0.0.1:8080/x"), false).is_err());
        assert!(check_link(&url("http://[::1]/x"), false).is_err());
        assert!(check_link(&url("http://localhost/x"), false).is_err());
        assert!(check_link(&url("http://169.254.169.254/latest/meta-data"), false).is_err());
        assert!(check_link(&url("ftp://example.org/x"), false).is_err());
        assert!(check_link(&url("http://example.org/x"), false).is_ok());
        assert!(check_link(&url("http://127.0.0.1/x"), true).is_ok());
    }

    #[tokio::test]
    async fn resolver_drops_non_public_addresses_unless_trusted() {
        use std::str::FromStr;
        let guarded = GuardedResolver {
            allow_private: false,
            trusted_hosts: HashSet::from(["trusted.localhost".to_string()]),
        };
        // "localhost" resolves to loopback only (from /etc/hosts, no network): refused after resolution.
        let err = match guarded.resolve(Name::from_str("localhost").unwrap()).await {
            Ok(_) => panic!("localhost resolved through the guard"),
            Err(e) => e,
        };
        assert!(err.to_string().contains("non-public"), "{err}");
        let open = GuardedResolver {
            allow_private: true,
            trusted_hosts: HashSet::new(),
        };
        assert!(open
            .resolve(Name::from_str("localhost").unwrap())
            .await
            .is_ok());
    }

    #[test]
    fn transient_errors() {
        assert!(FetchError::Status {
            status: 503,
            retry_after: None
        }
        .is_transient());
        assert!(FetchError::Status {
            status: 429,
            retry_after: Some(5)
        }
        .is_transient());
        assert!(!FetchError::Status {
            status: 404,
            retry_after: None
        }
        .is_transient());
        assert!(FetchError::Timeout(1).is_transient());
        assert!(!FetchError::TooLarge(1).is_transient());
    }
}
