//! Discovery of a site's sources (`feeds discover`): the candidates a page and its origin offer, each
//! checked by fetching it through the one fetcher and reading it with its kind's reader (`source::read`).
//!
//! Where candidates come from, in this order: the page itself (when it is a feed, a sitemap or a Telegram
//! preview, it is the one candidate, with the news sitemaps of an index); the feeds its `<link
//! rel="alternate">` elements name, else a short list of common feed paths; the `Sitemap:` lines of the
//! origin's robots.txt, else common sitemap paths, and the news sitemaps a sitemap index names; the Telegram
//! channels the page links. Section pages are not discovered: their link selector needs a human.
//!
//! The URL given is fetched as written (`Origin::Config`), and so is its origin's robots.txt; every other URL,
//! found in a document or guessed, is a link (`Origin::Link`): robots.txt and the private-network guard apply.
//! The pure parts (which links a page names, what robots.txt lists, the suggested ids) are functions of their
//! own; printing is the CLI's.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use url::{Host, Url};

use super::{Child, Listing};
use crate::fetch::{Fetched, Fetcher, Origin};
use crate::model::{FeedSpec, Page, SourceKind};

/// Feed paths tried on the site's origin when the page links no feed (kept short: each is a request).
pub const COMMON_FEED_PATHS: &[&str] = &[
    "/feed",
    "/rss",
    "/rss.xml",
    "/feed.xml",
    "/atom.xml",
    "/index.xml",
    "/feeds/all.xml",
];

/// Sitemap paths tried on the site's origin when its robots.txt names no sitemap.
pub const COMMON_SITEMAP_PATHS: &[&str] =
    &["/sitemap.xml", "/sitemap_index.xml", "/news-sitemap.xml"];

/// `<link rel="alternate">` types that name a feed.
const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
];

/// Sitemaps of one index whose URL suggests news that are checked, at most (newest `lastmod` first).
pub const MAX_NEWS_CHILDREN: usize = 10;

/// Sitemaps named by robots.txt that are checked, at most (some sites list hundreds).
pub const MAX_ROBOTS_SITEMAPS: usize = 20;

/// Entries read from one candidate at most (only counted).
const MAX_ENTRIES: usize = 100_000;

/// What a candidate is, as discovery tells it (the config knows rss, sitemap and telegram of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateKind {
    /// An RSS, Atom or JSON feed.
    Rss,
    /// A sitemap listing pages (a news sitemap when its entries carry `news:publication_date`).
    Sitemap,
    /// A sitemap index: a list of sitemaps.
    SitemapIndex,
    /// A Telegram channel preview.
    Telegram,
}

impl CandidateKind {
    /// The `kind` of `feeds add` and `feeds.toml` for this candidate.
    pub fn config_kind(self) -> &'static str {
        match self {
            CandidateKind::Rss => "rss",
            CandidateKind::Sitemap | CandidateKind::SitemapIndex => "sitemap",
            CandidateKind::Telegram => "telegram",
        }
    }

    /// The source kind a document of this candidate is read as.
    fn source_kind(self) -> SourceKind {
        match self {
            CandidateKind::Rss => SourceKind::Rss,
            CandidateKind::Sitemap | CandidateKind::SitemapIndex => SourceKind::Sitemap {
                max_age_days: SourceKind::DEFAULT_MAX_AGE_DAYS,
            },
            CandidateKind::Telegram => SourceKind::Telegram,
        }
    }
}

/// One candidate source, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// What it is (for one that could not be read: what it was looked for as).
    pub kind: CandidateKind,
    /// Its URL, as found.
    pub url: Url,
    /// Why it does not work (fetch or read error), or None when it was read.
    pub error: Option<String>,
    /// Entries it lists (an index: the sitemaps it names), when read.
    pub entries: Option<usize>,
    /// The newest entry's date (published, else modified; an index: the newest `lastmod`).
    pub newest: Option<DateTime<Utc>>,
    /// The document's own title, when it has one.
    pub title: Option<String>,
    /// A sitemap whose entries carry `news:publication_date`.
    pub news: bool,
    /// Suggested feed id: `[a-z0-9-]`, from the host (a channel's name for Telegram) and the kind, unique
    /// among the candidates and the config's ids.
    pub id: String,
}

impl Candidate {
    /// Whether it was fetched and read.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// Its kind in words: rss, sitemap, sitemap index, news sitemap or telegram.
    pub fn label(&self) -> &'static str {
        match self.kind {
            CandidateKind::Rss => "rss",
            CandidateKind::Sitemap if self.news => "news sitemap",
            CandidateKind::Sitemap => "sitemap",
            CandidateKind::SitemapIndex => "sitemap index",
            CandidateKind::Telegram => "telegram",
        }
    }

    /// The `feeds add` command that adds it; `config` is a `--config` to pass (None: the default file).
    pub fn add_command(&self, config: Option<&str>) -> String {
        let mut words = vec!["mediawatch".to_string()];
        if let Some(c) = config {
            words.extend(["--config".to_string(), shell_quote(c)]);
        }
        words.extend(
            [
                "feeds",
                "add",
                "--kind",
                self.kind.config_kind(),
                "--id",
                &self.id,
            ]
            .map(str::to_string),
        );
        words.push(shell_quote(self.url.as_str()));
        words.join(" ")
    }
}

/// What discovery found: the candidates in order (the page, its feeds, the sitemaps, the Telegram
/// channels), what it tried, and what to report besides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Discovery {
    /// Every candidate found, checked (guessed paths only when they work).
    pub candidates: Vec<Candidate>,
    /// What was tried, one short phrase a step (for the message when nothing works).
    pub tried: Vec<String>,
    /// Things worth telling that are not candidates (the page could not be fetched or is not HTML, robots.txt
    /// names more sitemaps than are checked).
    pub notes: Vec<String>,
}

/// Lists and checks the candidate sources of the page or site at `url`; `known_ids` are the config's
/// feed ids, which suggested ids avoid. Fails only when `url` has no origin to look at (not http(s));
/// every fetch or read failure is a candidate's error or a note.
pub async fn discover(
    fetcher: &Fetcher,
    url: &Url,
    known_ids: &[String],
) -> anyhow::Result<Discovery> {
    if url.scheme() != "http" && url.scheme() != "https" || url.host_str().is_none() {
        anyhow::bail!("{url}: discovery needs an http(s) URL with a host");
    }
    let mut found = Discovery::default();
    let mut seen: HashSet<String> = HashSet::from([url.as_str().to_string()]);

    // 1. The page itself.
    let (base, html) = match get(fetcher, url, Origin::Config).await {
        Ok(page) => {
            seen.insert(page.final_url.as_str().to_string());
            if let Some((candidate, children)) = read_page_itself(url, &page) {
                found
                    .tried
                    .push(format!("the page itself (a {})", candidate.label()));
                let indexes = vec![(candidate, children)];
                found.candidates = check_news_children(fetcher, indexes, &mut seen).await;
                assign_ids(&mut found.candidates, known_ids);
                return Ok(found);
            }
            found
                .tried
                .push("the page itself (not a feed, sitemap or Telegram preview)".into());
            let html = if looks_like_html(&page) {
                Some(
                    crate::charset::decode_text(&page.body, page.content_type.as_deref())
                        .into_owned(),
                )
            } else {
                found.notes.push(format!(
                    "{}: not an HTML page, and not read as a feed, sitemap or Telegram preview",
                    page.final_url
                ));
                None
            };
            (page.final_url, html)
        }
        Err(e) => {
            found.tried.push(format!("the page itself ({e})"));
            found.notes.push(format!("{url}: {e}"));
            (url.clone(), None)
        }
    };

    // 2. and 3. Feeds the page links, else common feed paths.
    let links = html
        .as_deref()
        .map(|h| feed_links(h, &base))
        .unwrap_or_default();
    let feeds = feed_candidates(fetcher, links, &base, &mut seen, &mut found).await;
    found.candidates.extend(feeds);

    // 4. Sitemaps: robots.txt's, else common paths; the news sitemaps of each index.
    let sitemaps = sitemap_candidates(fetcher, &base, &mut seen, &mut found).await;
    found.candidates.extend(sitemaps);

    // 5. Telegram channels the page links.
    let channels: Vec<Url> = html
        .as_deref()
        .map(|h| telegram_links(h, &base))
        .unwrap_or_default()
        .into_iter()
        .filter(|u| seen.insert(u.as_str().to_string()))
        .collect();
    if !channels.is_empty() {
        found.tried.push(format!(
            "{} Telegram channel(s) the page links",
            channels.len()
        ));
        let checks = channels
            .into_iter()
            .map(|u| check(fetcher, u, CandidateKind::Telegram, Origin::Link));
        found
            .candidates
            .extend(join_all(checks).await.into_iter().map(|(c, _)| c));
    }

    assign_ids(&mut found.candidates, known_ids);
    Ok(found)
}

/// The feeds `links` names, checked; when it names none, the common feed paths on `base`'s origin that
/// are feeds.
async fn feed_candidates(
    fetcher: &Fetcher,
    links: Vec<Url>,
    base: &Url,
    seen: &mut HashSet<String>,
    found: &mut Discovery,
) -> Vec<Candidate> {
    let links: Vec<Url> = links
        .into_iter()
        .filter(|u| seen.insert(u.as_str().to_string()))
        .collect();
    let guessing = links.is_empty();
    let urls = if guessing {
        found.tried.push(format!(
            "no feed linked; common feed paths {}",
            COMMON_FEED_PATHS.join(", ")
        ));
        guessed_urls(base, COMMON_FEED_PATHS, seen)
    } else {
        found
            .tried
            .push(format!("{} feed(s) the page links", links.len()));
        links
    };
    let checks = urls
        .into_iter()
        .map(|u| check(fetcher, u, CandidateKind::Rss, Origin::Link));
    join_all(checks)
        .await
        .into_iter()
        .map(|(c, _)| c)
        .filter(|c| !guessing || c.ok())
        .collect()
}

/// The sitemaps the robots.txt of `base`'s origin names (at most [`MAX_ROBOTS_SITEMAPS`]), or when it names
/// none the common sitemap paths that are sitemaps, checked, each index followed by its news sitemaps.
async fn sitemap_candidates(
    fetcher: &Fetcher,
    base: &Url,
    seen: &mut HashSet<String>,
    found: &mut Discovery,
) -> Vec<Candidate> {
    let mut robots_url = base.clone();
    robots_url.set_path("/robots.txt");
    robots_url.set_query(None);
    robots_url.set_fragment(None);
    let (named, robots_said) = match get(fetcher, &robots_url, Origin::Config).await {
        Ok(page) => (
            sitemaps_in_robots(&crate::charset::decode_text(
                &page.body,
                page.content_type.as_deref(),
            )),
            "no Sitemap: line".to_string(),
        ),
        Err(e) => (Vec::new(), e),
    };
    let guessing = named.is_empty();
    let urls = if guessing {
        found.tried.push(format!(
            "robots.txt ({robots_said}); common sitemap paths {}",
            COMMON_SITEMAP_PATHS.join(", ")
        ));
        guessed_urls(base, COMMON_SITEMAP_PATHS, seen)
    } else {
        let count = named.len();
        found.tried.push(format!(
            "{} sitemap(s) robots.txt names",
            count.min(MAX_ROBOTS_SITEMAPS)
        ));
        if count > MAX_ROBOTS_SITEMAPS {
            found.notes.push(format!(
                "{robots_url} names {count} sitemaps: the first {MAX_ROBOTS_SITEMAPS} were checked"
            ));
        }
        named
            .into_iter()
            .filter(|u| seen.insert(u.as_str().to_string()))
            .take(MAX_ROBOTS_SITEMAPS)
            .collect()
    };
    let checks = urls
        .into_iter()
        .map(|u| check(fetcher, u, CandidateKind::Sitemap, Origin::Link));
    let checked = join_all(checks)
        .await
        .into_iter()
        .filter(|(c, _)| !guessing || c.ok())
        .collect();
    check_news_children(fetcher, checked, seen).await
}

/// The candidates in order, each sitemap index followed by the news sitemaps it names (those whose URL path
/// holds "news", newest `lastmod` first, at most [`MAX_NEWS_CHILDREN`] an index), checked.
async fn check_news_children(
    fetcher: &Fetcher,
    checked: Vec<(Candidate, Vec<Child>)>,
    seen: &mut HashSet<String>,
) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (candidate, mut children) in checked {
        let is_index = candidate.kind == CandidateKind::SitemapIndex;
        out.push(candidate);
        if !is_index {
            continue;
        }
        children.retain(|c| c.url.path().to_ascii_lowercase().contains("news"));
        // Newest first, undated last; the sort is stable, so document order breaks ties.
        children.sort_by_key(|c| std::cmp::Reverse(c.lastmod));
        let urls: Vec<Url> = children
            .into_iter()
            .map(|c| c.url)
            .filter(|u| seen.insert(u.as_str().to_string()))
            .take(MAX_NEWS_CHILDREN)
            .collect();
        let checks = urls
            .into_iter()
            .map(|u| check(fetcher, u, CandidateKind::Sitemap, Origin::Link));
        out.extend(join_all(checks).await.into_iter().map(|(c, _)| c));
    }
    out
}

/// `paths` on `base`'s origin, those not seen yet (and marked seen).
fn guessed_urls(base: &Url, paths: &[&str], seen: &mut HashSet<String>) -> Vec<Url> {
    paths
        .iter()
        .filter_map(|p| base.join(p).ok())
        .filter(|u| seen.insert(u.as_str().to_string()))
        .collect()
}

/// Fetches one document; a 304 cannot happen without validators, so it is an error too.
async fn get(fetcher: &Fetcher, url: &Url, origin: Origin) -> Result<Page, String> {
    get_capped(fetcher, url, origin, fetcher.max_body_bytes()).await
}

/// [`get`] with another body cap (a sitemap may hold 50 MB, more than `max_body_bytes`).
async fn get_capped(
    fetcher: &Fetcher,
    url: &Url,
    origin: Origin,
    cap: u64,
) -> Result<Page, String> {
    match fetcher
        .get_capped(url, origin, None, cap)
        .await
        .and_then(Fetched::into_page)
    {
        Ok(page) => Ok(*page),
        Err(e) => Err(e.to_string()),
    }
}

/// Fetches `url` and reads it as `kind`: the candidate, and the sitemaps it names when it is an index.
async fn check(
    fetcher: &Fetcher,
    url: Url,
    kind: CandidateKind,
    origin: Origin,
) -> (Candidate, Vec<Child>) {
    let cap = match kind {
        CandidateKind::Sitemap | CandidateKind::SitemapIndex => fetcher
            .max_body_bytes()
            .max(super::sitemap::MAX_BYTES as u64),
        _ => fetcher.max_body_bytes(),
    };
    match get_capped(fetcher, &url, origin, cap).await {
        Ok(page) => describe(url, kind, read_as(kind, &page)),
        // Telegram may well be out of reach from where discovery runs: the channel is still worth listing.
        Err(e) if kind == CandidateKind::Telegram => {
            describe(url, kind, Err(format!("not checked: {e}")))
        }
        Err(e) => describe(url, kind, Err(e)),
    }
}

/// Reads a fetched document with the reader of `kind`.
fn read_as(kind: CandidateKind, page: &Page) -> Result<Listing, String> {
    let spec = FeedSpec::unlabelled("discover", page.final_url.clone(), kind.source_kind());
    super::read(&spec, page, MAX_ENTRIES).map_err(|e| e.0)
}

/// A candidate from what its reader made of it (a sitemap naming sitemaps is an index).
fn describe(
    url: Url,
    kind: CandidateKind,
    read: Result<Listing, String>,
) -> (Candidate, Vec<Child>) {
    let mut candidate = Candidate {
        kind,
        url,
        error: None,
        entries: None,
        newest: None,
        title: None,
        news: false,
        id: String::new(),
    };
    let listing = match read {
        Ok(listing) => listing,
        Err(e) => {
            candidate.error = Some(e);
            return (candidate, Vec::new());
        }
    };
    candidate.title = listing.title.filter(|t| !t.trim().is_empty());
    if kind == CandidateKind::Sitemap && !listing.children.is_empty() && listing.entries.is_empty()
    {
        candidate.kind = CandidateKind::SitemapIndex;
        candidate.entries = Some(listing.children.len());
        candidate.newest = listing.children.iter().filter_map(|c| c.lastmod).max();
        return (candidate, listing.children);
    }
    candidate.entries = Some(listing.entries.len() + listing.skipped_over_cap);
    candidate.newest = listing.entries.iter().filter_map(super::entry_date).max();
    candidate.news =
        kind == CandidateKind::Sitemap && listing.entries.iter().any(|e| e.published.is_some());
    (candidate, listing.children)
}

/// The page itself as a source, when one reader takes it: a feed, a sitemap (or index) that lists
/// something, or a Telegram preview with posts (or at a `/s/<channel>` path).
fn read_page_itself(url: &Url, page: &Page) -> Option<(Candidate, Vec<Child>)> {
    if let Ok(listing) = read_as(CandidateKind::Rss, page) {
        return Some(describe(url.clone(), CandidateKind::Rss, Ok(listing)));
    }
    if let Ok(listing) = read_as(CandidateKind::Sitemap, page) {
        if !listing.entries.is_empty() || !listing.children.is_empty() {
            return Some(describe(url.clone(), CandidateKind::Sitemap, Ok(listing)));
        }
    }
    if let Ok(listing) = read_as(CandidateKind::Telegram, page) {
        if !listing.entries.is_empty() || telegram_channel(&page.final_url).is_some() {
            return Some(describe(url.clone(), CandidateKind::Telegram, Ok(listing)));
        }
    }
    None
}

/// Whether a fetched document is an HTML page (by its Content-Type, else by its first markup).
fn looks_like_html(page: &Page) -> bool {
    if let Some(ct) = &page.content_type {
        let ct = ct.to_ascii_lowercase();
        if ct.contains("html") {
            return true;
        }
        if ct.contains("xml") || ct.contains("json") {
            return false;
        }
    }
    let head: Vec<u8> = page
        .body
        .iter()
        .take(1024)
        .map(u8::to_ascii_lowercase)
        .collect();
    let head = String::from_utf8_lossy(&head);
    head.contains("<!doctype html") || head.contains("<html")
}

/// The feeds a page names in `<link rel="alternate" type="...">` elements of its head (RSS, Atom, JSON
/// Feed), resolved against its `<base href>` or `base`, http(s) only, deduplicated, in document order.
/// A WordPress REST link (`/wp-json/`, typed `application/json`) is not a feed and is left out.
pub fn feed_links(html: &str, base: &Url) -> Vec<Url> {
    let doc = scraper::Html::parse_document(html);
    let base = document_base(&doc, base);
    let Ok(selector) = scraper::Selector::parse("head link[href]") else {
        return Vec::new();
    };
    let mut out: Vec<Url> = Vec::new();
    for el in doc.select(&selector) {
        let el = el.value();
        let alternate = el.attr("rel").is_some_and(|r| {
            r.split_ascii_whitespace()
                .any(|t| t.eq_ignore_ascii_case("alternate"))
        });
        let mime = el
            .attr("type")
            .and_then(|t| t.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if !alternate || !FEED_TYPES.contains(&mime.as_str()) {
            continue;
        }
        let Some(url) = el.attr("href").and_then(|h| http_url(&base, h)) else {
            continue;
        };
        if mime == "application/json" && url.path().contains("/wp-json/") {
            continue;
        }
        if !out.contains(&url) {
            out.push(url);
        }
    }
    out
}

/// The Telegram channels a page links (`https://t.me/<name>`, `t.me/s/<name>`, a post `t.me/<name>/<id>`,
/// also on telegram.me), as preview URLs `https://t.me/s/<name>` (name lower case), deduplicated, in
/// document order. Share, invite (`joinchat`, `+...`), sticker and other service links and bots are left out.
pub fn telegram_links(html: &str, base: &Url) -> Vec<Url> {
    let doc = scraper::Html::parse_document(html);
    let base = document_base(&doc, base);
    let Ok(selector) = scraper::Selector::parse("a[href]") else {
        return Vec::new();
    };
    let mut out: Vec<Url> = Vec::new();
    for el in doc.select(&selector) {
        let Some(link) = el.value().attr("href").and_then(|h| http_url(&base, h)) else {
            continue;
        };
        let host = link.host_str().unwrap_or("").to_ascii_lowercase();
        let host = host.strip_prefix("www.").unwrap_or(&host);
        if host != "t.me" && host != "telegram.me" {
            continue;
        }
        if link
            .query_pairs()
            .any(|(k, _)| k == "start" || k == "startgroup")
        {
            continue;
        }
        let Some(name) = telegram_channel(&link) else {
            continue;
        };
        let Ok(preview) = Url::parse(&format!("https://t.me/s/{name}")) else {
            continue;
        };
        if !out.contains(&preview) {
            out.push(preview);
        }
    }
    out
}

/// Telegram's own paths that are not channels.
const TELEGRAM_SERVICE_PATHS: &[&str] = &[
    "share",
    "joinchat",
    "addstickers",
    "addemoji",
    "addtheme",
    "addlist",
    "proxy",
    "socks",
    "setlanguage",
    "login",
    "confirmphone",
    "invoice",
    "boost",
    "contact",
    "iv",
    "bg",
    "c",
    "s",
];

/// The channel a Telegram URL names (`/<name>...` or `/s/<name>...`, any host), lower case, when the name
/// is a public username (a letter, then letters, digits or `_`, 4 to 32 in all) that is neither one of
/// Telegram's service paths nor a bot's (`...bot`).
fn telegram_channel(url: &Url) -> Option<String> {
    let mut segments = url.path_segments()?.filter(|s| !s.is_empty());
    let first = segments.next()?;
    let name = if first == "s" {
        segments.next()?
    } else {
        first
    };
    let name = name.to_ascii_lowercase();
    let valid = (4..=32).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    (valid && !TELEGRAM_SERVICE_PATHS.contains(&name.as_str()) && !name.ends_with("bot"))
        .then_some(name)
}

/// The page's `<base href>` resolved against `base`, else `base`.
fn document_base(doc: &scraper::Html, base: &Url) -> Url {
    scraper::Selector::parse("base[href]")
        .ok()
        .and_then(|sel| doc.select(&sel).next())
        .and_then(|el| el.value().attr("href"))
        .and_then(|h| http_url(base, h))
        .unwrap_or_else(|| base.clone())
}

/// `href` resolved against `base`, when it is an http(s) URL.
fn http_url(base: &Url, href: &str) -> Option<Url> {
    let url = base.join(href.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// The sitemaps a robots.txt names: `Sitemap:` lines (field name in any case), absolute http(s) URLs only
/// (the protocol asks for them; a relative one is skipped), deduplicated, in file order.
pub fn sitemaps_in_robots(text: &str) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    for line in text.trim_start_matches('\u{feff}').lines() {
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        if !field.trim().eq_ignore_ascii_case("sitemap") {
            continue;
        }
        // A comment may follow the value; '#' is also where a URL's fragment would start, which a
        // sitemap's URL has no use for.
        let value = value.split('#').next().unwrap_or("").trim();
        let Ok(url) = Url::parse(value) else { continue };
        if matches!(url.scheme(), "http" | "https")
            && url.host_str().is_some()
            && !out.contains(&url)
        {
            out.push(url);
        }
    }
    out
}

/// Second-level labels under a country code that say nothing of the site (`bbc.co.uk` -> `bbc`).
const GENERIC_SECOND_LEVEL: &[&str] = &["co", "com", "org", "net", "gov", "edu", "ac"];

/// A feed id for a candidate: the host without `www.` and its public suffix (`news.example.org` ->
/// `news-example`; a Telegram channel: its name), then the kind (`rss`, `sitemap`, `news-sitemap`,
/// `sitemap-index`, `telegram`), in `[a-z0-9-]`; `-2`, `-3`, ... when `taken` has it already.
pub fn suggest_id(url: &Url, kind: CandidateKind, news: bool, taken: &HashSet<String>) -> String {
    let (site, suffix) = match kind {
        CandidateKind::Telegram => (
            telegram_channel(url).unwrap_or_else(|| site_label(url)),
            "telegram",
        ),
        CandidateKind::Rss => (site_label(url), "rss"),
        CandidateKind::Sitemap if news => (site_label(url), "news-sitemap"),
        CandidateKind::Sitemap => (site_label(url), "sitemap"),
        CandidateKind::SitemapIndex => (site_label(url), "sitemap-index"),
    };
    let base = id_chars(&format!("{site}-{suffix}"));
    if !taken.contains(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|id| !taken.contains(id))
        .unwrap_or(base)
}

/// The host as the start of an id: without `www.` and the top-level (and a generic second-level) label.
fn site_label(url: &Url) -> String {
    match url.host() {
        Some(Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            let domain = domain.strip_prefix("www.").unwrap_or(&domain);
            let mut labels: Vec<&str> = domain.split('.').collect();
            if labels.len() > 1 {
                let tld = labels.pop().unwrap_or("");
                if labels.len() > 1
                    && tld.len() == 2
                    && labels
                        .last()
                        .is_some_and(|l| GENERIC_SECOND_LEVEL.contains(l))
                {
                    labels.pop();
                }
            }
            labels.join("-")
        }
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => ip.to_string(),
        None => String::new(),
    }
}

/// `s` in `[a-z0-9-]`: other characters become '-', runs of '-' one, none at either end ("site" if empty).
fn id_chars(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().map(|c| c.to_ascii_lowercase()) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "site".into()
    } else {
        out.into()
    }
}

/// Gives every candidate its suggested id, in order, none clashing with `known_ids` or another's.
fn assign_ids(candidates: &mut [Candidate], known_ids: &[String]) {
    let mut taken: HashSet<String> = known_ids.iter().cloned().collect();
    for c in candidates {
        c.id = suggest_id(&c.url, c.kind, c.news, &taken);
        taken.insert(c.id.clone());
    }
}

/// `s` as one shell word: as is when it holds only characters no shell treats specially, else in single
/// quotes (a `'` inside closed, escaped and reopened).
fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:,+@%=".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn feed_links_takes_alternate_feeds_of_the_head_resolved() {
        let html = r#"<!doctype html><html><head>
            <link rel="stylesheet" href="/s.css">
            <link rel="alternate" type="application/rss+xml" title="All" href="/feeds/en.xml">
            <link rel="Alternate nofollow" type="APPLICATION/ATOM+XML; charset=utf-8" href="atom.xml">
            <link rel="alternate" type="application/feed+json" href="https://cdn.example.net/feed.json">
            <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/2">
            <link rel="alternate" type="application/json" href="/feed.json">
            <link rel="alternate" hreflang="zh" type="text/html" href="/zh/">
            <link rel="alternate" type="application/rss+xml" href="/feeds/en.xml">
            <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
            <link rel="canonical" type="application/rss+xml" href="/not-alternate.xml">
            </head><body>
            <link rel="alternate" type="application/rss+xml" href="/in-body.xml">
            </body></html>"#;
        let got = feed_links(html, &url("http://example.org/world/page.html"));
        let got: Vec<&str> = got.iter().map(Url::as_str).collect();
        assert_eq!(
            got,
            [
                "http://example.org/feeds/en.xml",
                "http://example.org/world/atom.xml",
                "https://cdn.example.net/feed.json",
                "http://example.org/feed.json",
            ]
        );
        // <base href> wins over the page's URL.
        let html = r#"<html><head><base href="https://other.example/news/">
            <link rel="alternate" type="application/atom+xml" href="atom.xml"></head></html>"#;
        assert_eq!(
            feed_links(html, &url("http://example.org/")),
            [url("https://other.example/news/atom.xml")]
        );
        assert!(feed_links("<p>no head</p>", &url("http://example.org/")).is_empty());
    }

    #[test]
    fn telegram_links_are_channels_as_preview_urls() {
        let html = r#"<body>
            <a href="https://t.me/MW_State_News">channel</a>
            <a href="https://t.me/s/mw_state_news">same channel, preview</a>
            <a href="https://t.me/mw_state_news/1234">a post of it</a>
            <a href="//telegram.me/other_channel">other</a>
            <a href="https://t.me/share/url?url=https://example.org/a">share</a>
            <a href="https://t.me/joinchat/AAAAAEkk">invite</a>
            <a href="https://t.me/+AbCdEf123">invite</a>
            <a href="https://t.me/ExampleNewsBot">bot</a>
            <a href="https://t.me/example_news?start=abc">bot start</a>
            <a href="https://t.me/c/1234/56">private post</a>
            <a href="https://t.me/abc">too short</a>
            <a href="https://example.org/t.me/fake_channel">not telegram</a>
            <a href="tg://resolve?domain=app_channel">app link</a>
            </body>"#;
        let got = telegram_links(html, &url("https://example.org/"));
        let got: Vec<&str> = got.iter().map(Url::as_str).collect();
        assert_eq!(
            got,
            [
                "https://t.me/s/mw_state_news",
                "https://t.me/s/other_channel"
            ]
        );
    }

    #[test]
    fn sitemaps_in_robots_reads_sitemap_lines_in_any_case_absolute_only() {
        let text = "\u{feff}User-agent: *\nDisallow: /search\n\
            Sitemap: https://example.org/sitemap_index.xml\n\
            sitemap:https://example.org/news-sitemap.xml # the news one\n\
            SITEMAP :  http://example.org/plain.xml.gz  \r\n\
            Sitemap: /relative.xml\n\
            Sitemap: ftp://example.org/sitemap.xml\n\
            # Sitemap: https://example.org/commented.xml\n\
            Sitemap: https://example.org/sitemap_index.xml\n\
            Sitemaps: https://example.org/not-the-field.xml\n";
        let got = sitemaps_in_robots(text);
        let got: Vec<&str> = got.iter().map(Url::as_str).collect();
        assert_eq!(
            got,
            [
                "https://example.org/sitemap_index.xml",
                "https://example.org/news-sitemap.xml",
                "http://example.org/plain.xml.gz",
            ]
        );
        assert!(sitemaps_in_robots("").is_empty());
    }

    #[test]
    fn suggest_id_from_host_and_kind_unique() {
        let none = HashSet::new();
        let id = |u: &str, kind, news| suggest_id(&url(u), kind, news, &none);
        assert_eq!(
            id(
                "https://example.org/news-sitemap.xml",
                CandidateKind::Sitemap,
                true
            ),
            "example-news-sitemap"
        );
        assert_eq!(
            id(
                "https://www.globaltimes.cn/rss/outbound.xml",
                CandidateKind::Rss,
                false
            ),
            "globaltimes-rss"
        );
        assert_eq!(
            id(
                "https://feeds.bbc.co.uk/news/rss.xml",
                CandidateKind::Rss,
                false
            ),
            "feeds-bbc-rss"
        );
        assert_eq!(
            id(
                "https://tass.ru/sitemap.xml",
                CandidateKind::SitemapIndex,
                false
            ),
            "tass-sitemap-index"
        );
        assert_eq!(
            id(
                "https://tass.ru/sitemap_1.xml",
                CandidateKind::Sitemap,
                false
            ),
            "tass-sitemap"
        );
        assert_eq!(
            id(
                "https://t.me/s/MW_State_News",
                CandidateKind::Telegram,
                false
            ),
            "mw-state-news-telegram"
        );
        assert_eq!(
            id(
                "http://127.0.0.1:8080/s/mw_state_news",
                CandidateKind::Telegram,
                false
            ),
            "mw-state-news-telegram"
        );
        assert_eq!(
            id("http://127.0.0.1:8080/feed", CandidateKind::Rss, false),
            "127-0-0-1-rss"
        );
        assert_eq!(
            id("http://[::1]:8080/feed", CandidateKind::Rss, false),
            "1-rss"
        );
        assert_eq!(
            id("https://xn--b1aew.xn--p1ai/rss", CandidateKind::Rss, false),
            "xn-b1aew-rss"
        );
        let taken: HashSet<String> = ["example-rss".to_string(), "example-rss-2".to_string()]
            .into_iter()
            .collect();
        assert_eq!(
            suggest_id(
                &url("https://example.org/atom.xml"),
                CandidateKind::Rss,
                false,
                &taken
            ),
            "example-rss-3"
        );
        for s in ["example-rss-3", "xn-b1aew-rss", "127-0-0-1-rss"] {
            assert!(crate::config::check_id(s).is_ok(), "{s}");
        }
    }

    #[test]
    fn assign_ids_avoids_config_ids_and_each_other() {
        let candidate = |u: &str, kind| Candidate {
            kind,
            url: url(u),
            error: None,
            entries: None,
            newest: None,
            title: None,
            news: false,
            id: String::new(),
        };
        let mut list = vec![
            candidate("https://example.org/feed", CandidateKind::Rss),
            candidate("https://example.org/atom.xml", CandidateKind::Rss),
            candidate("https://example.org/sitemap.xml", CandidateKind::Sitemap),
        ];
        assign_ids(&mut list, &["example-rss".to_string()]);
        let ids: Vec<&str> = list.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["example-rss-2", "example-rss-3", "example-sitemap"]);
    }

    #[test]
    fn add_command_names_kind_id_and_quotes_what_a_shell_would_split() {
        let mut c = Candidate {
            kind: CandidateKind::SitemapIndex,
            url: url("https://example.org/sitemap_index.xml"),
            error: None,
            entries: Some(3),
            newest: None,
            title: None,
            news: false,
            id: "example-sitemap-index".into(),
        };
        assert_eq!(c.label(), "sitemap index");
        assert_eq!(
            c.add_command(None),
            "mediawatch feeds add --kind sitemap --id example-sitemap-index https://example.org/sitemap_index.xml"
        );
        c.kind = CandidateKind::Rss;
        c.url = url("https://example.org/feed?type=rss&lang=en");
        assert_eq!(
            c.add_command(Some("/tmp/my feeds.toml")),
            "mediawatch --config '/tmp/my feeds.toml' feeds add --kind rss --id example-sitemap-index 'https://example.org/feed?type=rss&lang=en'"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        c.kind = CandidateKind::Sitemap;
        c.news = true;
        assert_eq!(c.label(), "news sitemap");
        assert_eq!(c.kind.config_kind(), "sitemap");
    }

    fn page(body: &str, content_type: &str) -> Page {
        Page {
            url: url("http://example.org/x"),
            final_url: url("http://example.org/x"),
            status: 200,
            content_type: Some(content_type.into()),
            etag: None,
            last_modified: None,
            headers: Vec::new(),
            body: body.as_bytes().to_vec(),
            fetched_at: Utc::now(),
        }
    }

    #[test]
    fn the_page_itself_is_a_feed_when_the_feed_reader_takes_it() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
            <item><title>a</title><link>http://example.org/a</link><pubDate>Tue, 24 Nov 2026 12:00:00 +0000</pubDate></item>
            <item><title>b</title><link>http://example.org/b</link><pubDate>Mon, 23 Nov 2026 08:00:00 +0000</pubDate></item>
            </channel></rss>"#;
        let p = page(rss, "application/rss+xml");
        let (c, children) = read_page_itself(&p.url, &p).unwrap();
        assert_eq!(c.kind, CandidateKind::Rss);
        assert_eq!(c.entries, Some(2));
        assert_eq!(c.title.as_deref(), Some("Wire"));
        assert_eq!(
            c.newest.map(|t| t.to_rfc3339()),
            Some("2026-11-24T12:00:00+00:00".to_string())
        );
        assert!(children.is_empty());
        let html = page(
            "<!doctype html><html><head><title>Home</title></head></html>",
            "text/html",
        );
        assert!(read_page_itself(&html.url, &html).is_none());
        assert!(looks_like_html(&html));
        assert!(!looks_like_html(&p));
        assert!(looks_like_html(&page(
            "<HTML><body>x</body></HTML>",
            "application/octet-stream"
        )));
    }

    #[test]
    fn describe_tells_an_index_a_news_sitemap_and_a_failure() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let index = Listing {
            children: vec![
                Child {
                    url: url("https://example.org/news-sitemap.xml"),
                    lastmod: Some(t("2026-11-24T10:00:00Z")),
                },
                Child {
                    url: url("https://example.org/sitemap-2026-11.xml.gz"),
                    lastmod: Some(t("2026-11-25T10:00:00Z")),
                },
            ],
            ..Listing::default()
        };
        let (c, children) = describe(
            url("https://example.org/i.xml"),
            CandidateKind::Sitemap,
            Ok(index),
        );
        assert_eq!(c.kind, CandidateKind::SitemapIndex);
        assert_eq!(c.entries, Some(2));
        assert_eq!(c.newest, Some(t("2026-11-25T10:00:00Z")));
        assert_eq!(children.len(), 2);

        let mut dated = crate::model::Entry::new("d", url("https://example.org/a"));
        dated.published = Some(t("2026-11-24T09:00:00Z"));
        let mut modified = crate::model::Entry::new("d", url("https://example.org/b"));
        modified.modified = Some(t("2026-11-24T11:00:00Z"));
        let urlset = Listing {
            entries: vec![dated, modified.clone()],
            ..Listing::default()
        };
        let (c, _) = describe(
            url("https://example.org/n.xml"),
            CandidateKind::Sitemap,
            Ok(urlset),
        );
        assert_eq!(
            (c.kind, c.news, c.entries),
            (CandidateKind::Sitemap, true, Some(2))
        );
        assert_eq!(c.label(), "news sitemap");
        assert_eq!(c.newest, Some(t("2026-11-24T11:00:00Z")));
        let plain = Listing {
            entries: vec![modified],
            ..Listing::default()
        };
        let (c, _) = describe(
            url("https://example.org/p.xml"),
            CandidateKind::Sitemap,
            Ok(plain),
        );
        assert!(!c.news);
        assert_eq!(c.label(), "sitemap");

        let (c, _) = describe(
            url("https://example.org/gone.xml"),
            CandidateKind::Sitemap,
            Err("HTTP status 404".into()),
        );
        assert!(!c.ok());
        assert_eq!(c.entries, None);
    }
}
