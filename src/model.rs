//! Plain data types that flow between the pipeline's stages.
//!
//! Nothing here does I/O: a stage takes one of these and returns another
//! (`FeedSpec` -> `Entry` -> `Page` -> `Extracted` -> `Article` -> `Hit` / `Digest`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

/// How a source relates to a state, as labelled in `feeds.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Affiliation {
    /// Under state editorial control (State Media Matrix typologies SC, CaPu, CaPr).
    State,
    /// Editorially independent, even when publicly funded or managed (ISFM, ISF, ISM, IP, or private).
    Independent,
    /// Not labelled.
    #[default]
    Unknown,
}

impl Affiliation {
    /// The lowercase name used in config, the index and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Affiliation::State => "state",
            Affiliation::Independent => "independent",
            Affiliation::Unknown => "unknown",
        }
    }

    /// Parses the config/CLI spelling.
    pub fn parse(s: &str) -> Option<Affiliation> {
        match s {
            "state" => Some(Affiliation::State),
            "independent" => Some(Affiliation::Independent),
            "unknown" => Some(Affiliation::Unknown),
            _ => None,
        }
    }
}

impl std::fmt::Display for Affiliation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A country code as `feeds.toml`, OPML imports and the web's query strings accept it: ISO 3166-1 alpha-2
/// shape (two ASCII letters, either case), returned upper case. Whether the code is assigned is not checked.
pub fn parse_country(code: &str) -> Option<String> {
    (code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| code.to_ascii_uppercase())
}

/// One feed from `feeds.toml`, checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedSpec {
    /// Unique id, `[a-z0-9-]+`.
    pub id: String,
    /// The feed document's URL (trusted as written).
    pub url: Url,
    /// Human-readable outlet name.
    pub name: String,
    /// State affiliation of the outlet.
    pub affiliation: Affiliation,
    /// ISO 3166-1 alpha-2 country code, upper case.
    pub country: Option<String>,
    /// Language hint (ISO 639-1), used as a prior by language detection.
    pub language: Option<String>,
    /// State Media Monitor typology (SC, CaPu, CaPr, ISFM, ISF, ISM, IP), when known.
    pub typology: Option<String>,
    /// Fixed polling interval for the daemon, overriding the adaptive one.
    pub interval_secs: Option<u64>,
    /// CSS selector of the article body on this outlet's pages (overrides the generic extractor).
    pub content_selector: Option<String>,
    /// CSS selectors of elements to drop before extraction.
    pub remove_selectors: Vec<String>,
    /// What `url` points at and how it is read (`kind` in `feeds.toml`, with the keys only that kind has).
    pub kind: SourceKind,
}

impl FeedSpec {
    /// A source with no labels (name = id), as the tools that read saved files use one.
    pub fn unlabelled(id: &str, url: Url, kind: SourceKind) -> FeedSpec {
        FeedSpec {
            id: id.to_string(),
            url,
            name: id.to_string(),
            affiliation: Affiliation::Unknown,
            country: None,
            language: None,
            typology: None,
            interval_secs: None,
            content_selector: None,
            remove_selectors: Vec::new(),
            kind,
        }
    }
}

/// The kind of a source: which reader turns its documents into entries. Every kind goes through the one
/// fetcher and the same extract / language / tag / index path; keys that only one kind has live in its variant.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SourceKind {
    /// An RSS, Atom or JSON feed (the default).
    #[default]
    Rss,
    /// A sitemap, sitemap index or Google News sitemap (XML or `.xml.gz`).
    Sitemap {
        /// On a regular pass, only URLs dated within this many days are taken (`max_age_days`, default 2).
        max_age_days: u32,
    },
    /// A section or listing page whose article links a CSS selector picks.
    Html {
        /// CSS selector of the article links (`link_selector`, required): the `<a href>` elements, or
        /// elements holding one.
        link_selector: String,
        /// URL regexes: when any are given, a link must match one (`include`).
        include: Vec<String>,
        /// URL regexes: a link that matches one is dropped (`exclude`).
        exclude: Vec<String>,
        /// Only links to the page's own site (`same_site`, default true).
        same_site: bool,
    },
    /// A public Telegram channel's web preview, `https://t.me/s/<channel>` (any host, for mirrors and tests).
    Telegram,
}

impl SourceKind {
    /// Default `max_age_days` of a sitemap source.
    pub const DEFAULT_MAX_AGE_DAYS: u32 = 2;

    /// The `kind` value in `feeds.toml`.
    pub fn as_str(&self) -> &'static str {
        match self {
            SourceKind::Rss => "rss",
            SourceKind::Sitemap { .. } => "sitemap",
            SourceKind::Html { .. } => "html",
            SourceKind::Telegram => "telegram",
        }
    }
}

/// One narrative campaign from `feeds.toml`, checked. The rules are explained in [`crate::tag`]: an article is
/// tagged when `min_terms` distinct `terms` match AND every `all` group has a match AND (if `near` is not
/// empty) at least one `near` rule holds AND no `none` term matches AND the source passes the restrictions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CampaignSpec {
    /// Unique id, `[a-z0-9-]+`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// What the narrative is.
    pub description: String,
    /// Distinct terms that must match to tag an article (at least 1).
    pub min_terms: usize,
    /// Terms per language (ISO 639-1 code -> terms), in config order.
    pub terms: Vec<(String, Vec<String>)>,
    /// `all`: groups of terms; each group needs at least one matching term.
    pub all: Vec<Vec<String>>,
    /// `none`: exclusion terms; any match vetoes the tag.
    pub none: Vec<String>,
    /// `near`: proximity rules; when there are any, at least one must hold.
    pub near: Vec<NearRule>,
    /// `feeds`: only articles from these feed ids (empty: any feed).
    pub feeds: Vec<String>,
    /// `affiliations`: only articles from sources with these affiliations (empty: any).
    pub affiliations: Vec<Affiliation>,
    /// `countries`: only articles from sources in these countries, ISO 3166-1 alpha-2 upper case (empty: any).
    pub countries: Vec<String>,
}

/// A `near` rule of a campaign: a match of `terms[0]` and a match of `terms[1]` at most `within` tokens apart in
/// the same field (title or text). See `tag`'s module docs for what a token is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NearRule {
    /// The two terms (same syntax as codebook terms: `*` wildcards, folding).
    pub terms: [String; 2],
    /// Largest token distance: 1 = adjacent, 2 = one token in between, ...
    pub within: usize,
}

/// An item read from a feed document, with its link resolved against the feed URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The feed it came from.
    pub feed_id: String,
    /// The article link (absolute). This is the article's identity in the archive.
    pub url: Url,
    /// Entry title as given by the feed (plain text).
    pub title: Option<String>,
    /// Summary / description (may hold HTML).
    pub summary: Option<String>,
    /// Full content when the feed carries it (may hold HTML).
    pub content: Option<String>,
    /// Publication (or, failing that, update) time from the feed.
    pub published: Option<DateTime<Utc>>,
    /// Author names from the feed.
    pub authors: Vec<String>,
    /// Last modification time the source gives (a sitemap's `lastmod`); decides, with `published`, whether
    /// a sitemap URL is recent enough to take.
    pub modified: Option<DateTime<Utc>>,
    /// Language the source declares for this entry (`news:language`), a hint for detection.
    pub language: Option<String>,
    /// Keywords the source gives (`news:keywords`); the article's tags when its page has none.
    pub keywords: Vec<String>,
    /// The whole article as plain text, when the source carries it (a Telegram post): no page is fetched.
    pub text: Option<String>,
    /// Telegram post details (views, forward), for a post.
    pub post: Option<Post>,
    /// The part of the source's document that is the whole article (a post's HTML as the preview shows
    /// it), kept as the article's snapshot when no page is fetched.
    pub snapshot: Option<String>,
}

impl Entry {
    /// An entry with only its feed and link; readers fill in what their documents hold.
    pub fn new(feed_id: &str, url: Url) -> Entry {
        Entry {
            feed_id: feed_id.to_string(),
            url,
            title: None,
            summary: None,
            content: None,
            published: None,
            authors: Vec::new(),
            modified: None,
            language: None,
            keywords: Vec::new(),
            text: None,
            post: None,
            snapshot: None,
        }
    }
}

/// A Telegram channel post's own details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    /// The channel's username, as in `t.me/<channel>` (lower case).
    pub channel: String,
    /// View count shown by the preview when read (`1.2K` read as 1200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<u64>,
    /// Where the post was forwarded from, when it is a forward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwarded_from: Option<Forward>,
}

/// The origin of a forwarded Telegram post.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forward {
    /// The name the preview shows for the origin (a channel title, or a user's name).
    pub name: String,
    /// The origin channel's username, when the origin is a public channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// The original post, `https://t.me/<channel>/<id>`, when the preview links it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// An HTTP response body, fetched and capped, with what we need for provenance.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The URL we asked for.
    pub url: Url,
    /// The URL after redirects.
    pub final_url: Url,
    /// HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// `ETag` header, for conditional GET.
    pub etag: Option<String>,
    /// `Last-Modified` header, for conditional GET.
    pub last_modified: Option<String>,
    /// Every response header (name, value), for provenance.
    pub headers: Vec<(String, String)>,
    /// Raw body bytes (after content decoding, at most the configured cap).
    pub body: Vec<u8>,
    /// When the response arrived.
    pub fetched_at: DateTime<Utc>,
}

/// What the extraction stage finds in one HTML page. Every field is optional:
/// a page may carry none of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Extracted {
    /// Article headline (without the " - Site name" suffix where it can be told).
    pub title: Option<String>,
    /// Main text: paragraphs separated by a blank line, no boilerplate.
    pub text: String,
    /// Lead / description.
    pub description: Option<String>,
    /// Byline names.
    pub authors: Vec<String>,
    /// Publication time from page metadata (JSON-LD, OpenGraph, meta, `<time>`).
    pub published: Option<DateTime<Utc>>,
    /// Last modification time from page metadata.
    pub modified: Option<DateTime<Utc>>,
    /// `<link rel=canonical>` or `og:url`, absolute.
    pub canonical_url: Option<String>,
    /// Outlet name from the page (`og:site_name`, JSON-LD publisher).
    pub site_name: Option<String>,
    /// Declared language (`<html lang>`, `og:locale`, `content-language`), as written.
    pub language: Option<String>,
    /// Section / category.
    pub section: Option<String>,
    /// Tags / keywords.
    pub tags: Vec<String>,
    /// Main image URL, absolute.
    pub image: Option<String>,
}

/// Detected language and script of a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LangInfo {
    /// ISO 639-1 code where one exists (en, zh, ru), else ISO 639-3; "und" when unknown.
    pub lang: String,
    /// ISO 15924 script: "Hans" / "Hant" for Chinese, "Latn", "Cyrl", "Arab", ...; None when unknown.
    pub script: Option<String>,
    /// Detector confidence in [0, 1].
    pub confidence: f64,
    /// Whether the detection is reliable enough to filter on.
    pub reliable: bool,
}

impl LangInfo {
    /// The value for "no idea".
    pub fn unknown() -> LangInfo {
        LangInfo {
            lang: "und".to_string(),
            script: None,
            confidence: 0.0,
            reliable: false,
        }
    }
}

/// One campaign term found in an article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermHit {
    /// The term as written in the codebook.
    pub term: String,
    /// Language list it came from.
    pub lang: String,
    /// How many times it matched (title + text).
    pub count: usize,
    /// Where it matched: field ("title" or "text") and byte offsets of the first few matches.
    pub positions: Vec<TermPosition>,
}

/// One match position of a term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TermPosition {
    /// "title" or "text".
    pub field: String,
    /// Byte offset of the match start in that field.
    pub start: usize,
    /// Byte offset of the match end in that field.
    pub end: usize,
}

/// A campaign that tagged an article, with the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignHit {
    /// Campaign id.
    pub id: String,
    /// Sum of term counts (a simple strength score).
    pub score: f64,
    /// The distinct terms that matched.
    pub terms: Vec<TermHit>,
}

/// An article ready for the archive: everything the index stores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Stable id: the first 16 hex digits of sha256(url).
    pub id: String,
    /// Entry link from the feed: the unique key.
    pub url: String,
    /// URL after redirects (or the entry link when the page was not fetched).
    pub final_url: String,
    /// Feed id.
    pub feed: String,
    /// Outlet name from config.
    pub source_name: String,
    /// Outlet affiliation from config.
    pub affiliation: Affiliation,
    /// Outlet country from config.
    pub country: Option<String>,
    /// Detected language and script.
    pub lang: LangInfo,
    /// Headline.
    pub title: String,
    /// Main text.
    pub text: String,
    /// Lead / description.
    pub description: Option<String>,
    /// Byline names.
    pub authors: Vec<String>,
    /// Publication time: feed date first, then page metadata; None if neither had one.
    pub published: Option<DateTime<Utc>>,
    /// Modification time from page metadata.
    pub modified: Option<DateTime<Utc>>,
    /// When we fetched it.
    pub fetched_at: DateTime<Utc>,
    /// Canonical URL from the page.
    pub canonical_url: Option<String>,
    /// Site name from the page.
    pub site_name: Option<String>,
    /// Main image URL.
    pub image: Option<String>,
    /// Section / category.
    pub section: Option<String>,
    /// Tags / keywords.
    pub tags: Vec<String>,
    /// Campaign tags with their evidence.
    pub campaigns: Vec<CampaignHit>,
    /// HTTP status of the page fetch (0 when the page was not fetched).
    pub http_status: u16,
    /// Where the text came from: "page", "feed", or "post" (a Telegram post, archived as published).
    pub text_source: String,
    /// Near-duplicate cluster: the id of the earliest archived article this one is a copy of (its own id
    /// when it is the first, or too short to compare).
    #[serde(default)]
    pub cluster: Option<String>,
    /// Telegram post details (views, forward) when the article is a channel post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<Post>,
    /// What revisits found (versions, removal); None until a revisit found a change or a removal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<Revision>,
}

/// What revisits of an article found: its versions and whether it was removed. The archived text is the
/// current version's; every version is kept in the state store (`store::StoredVersion`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    /// Distinct versions seen (1: only the one first archived).
    pub versions: u32,
    /// The version the page showed at the last revisit that returned it (1-based).
    pub current: u32,
    /// When the last change (a new version, or a return to an earlier one) was found.
    pub edited_at: Option<DateTime<Utc>>,
    /// When the article was first seen gone (404/410, or redirected to a page that is not the article);
    /// None when it is there.
    pub removed_at: Option<DateTime<Utc>>,
    /// When it was seen again after it had been gone.
    pub restored_at: Option<DateTime<Utc>>,
    /// The campaign ids any version was tagged with (under the codebooks of when each was found), sorted:
    /// those the current version lacks are the campaigns it dropped ([`Revision::campaigns_dropped`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub campaigns_seen: Vec<String>,
}

/// What the last change a revisit found was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// A new version, or a return to an earlier one.
    Edited,
    /// Gone from its site.
    Removed,
    /// Back after being gone.
    Restored,
}

impl ChangeKind {
    /// `edited`, `removed` or `restored`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Edited => "edited",
            ChangeKind::Removed => "removed",
            ChangeKind::Restored => "restored",
        }
    }
}

impl Revision {
    /// The last change a revisit found and when (the index's `changed_at`): the latest of the edit,
    /// removal and restoration times; a removal wins a tie (it is what the page is now).
    pub fn last_change(&self) -> Option<(ChangeKind, DateTime<Utc>)> {
        [
            (ChangeKind::Removed, self.removed_at),
            (ChangeKind::Restored, self.restored_at),
            (ChangeKind::Edited, self.edited_at),
        ]
        .into_iter()
        .filter_map(|(kind, at)| Some((kind, at?)))
        .fold(
            None,
            |best: Option<(ChangeKind, DateTime<Utc>)>, c| match best {
                Some(b) if b.1 >= c.1 => Some(b),
                _ => Some(c),
            },
        )
    }

    /// The campaigns an earlier version was tagged with that `current` (the article's tags now) lacks.
    pub fn campaigns_dropped(&self, current: &[CampaignHit]) -> Vec<String> {
        self.campaigns_seen
            .iter()
            .filter(|id| !current.iter().any(|c| &c.id == *id))
            .cloned()
            .collect()
    }

    /// Whether a revisit found another version than the one first archived.
    pub fn edited(&self) -> bool {
        self.versions > 1
    }

    /// Whether the article is gone from its site.
    pub fn removed(&self) -> bool {
        self.removed_at.is_some()
    }
}

impl Article {
    /// The time the archive files the article under: its publication time, else when it was fetched.
    pub fn dated_at(&self) -> DateTime<Utc> {
        self.published.unwrap_or(self.fetched_at)
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Article id.
    pub id: String,
    /// Article URL.
    pub url: String,
    /// Headline.
    pub title: String,
    /// Feed id.
    pub feed: String,
    /// Outlet name.
    pub source_name: String,
    /// Outlet affiliation.
    pub affiliation: String,
    /// Outlet country.
    pub country: Option<String>,
    /// ISO 639-1 language.
    pub lang: String,
    /// Script (Hans, Hant, Latn, Cyrl, ...).
    pub script: Option<String>,
    /// Publication time, RFC 3339.
    pub published: Option<String>,
    /// Campaign ids.
    pub campaigns: Vec<String>,
    /// Matched terms per campaign id.
    pub campaign_terms: Vec<CampaignTerms>,
    /// Relevance score.
    pub score: f32,
    /// A short excerpt around the match (plain text).
    pub snippet: String,
    /// Byte ranges `[start, end)` of `snippet` that matched the query, in order.
    #[serde(default)]
    pub highlights: Vec<[usize; 2]>,
    /// The version the page showed at the last revisit that returned it, the one this hit's fields are
    /// (1: never revisited, or unchanged).
    #[serde(default = "one_version")]
    pub version: u32,
    /// Versions revisits found (1: none but the first).
    #[serde(default = "one_version")]
    pub versions: u32,
    /// Whether a revisit found another version.
    #[serde(default)]
    pub edited: bool,
    /// Whether the article is gone from its site (first seen gone at `removed_at`).
    #[serde(default)]
    pub removed: bool,
    /// The last time a revisit found an edit, a removal or a return, RFC 3339 (absent: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<String>,
    /// What that change was: `edited`, `removed` or `restored` (absent: never changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<ChangeKind>,
    /// Campaigns an earlier version was tagged with that the current one is not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub campaign_dropped: Vec<String>,
}

fn one_version() -> u32 {
    1
}

/// The matched terms of one campaign, as shown with a hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignTerms {
    /// Campaign id.
    pub id: String,
    /// Distinct matched terms.
    pub terms: Vec<String>,
}

/// When an alert fires (`on` in `[[alerts]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertOn {
    /// New archived articles that match its query and filters.
    Match,
    /// A spike of its campaign filter (the digest's rule, rolling 24 hours).
    Spike,
}

/// How an alert's matches are grouped into one message (`batch` in `[[alerts]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertBatch {
    /// One message per commit that has matches.
    Immediate,
    /// At most one message an hour.
    Hourly,
    /// At most one message a day.
    Daily,
}

/// One `[[alerts]]` entry, checked: a saved search (query and filters as `mediawatch search` takes them)
/// and where its messages go.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertSpec {
    /// Unique id, `[a-z0-9-]+`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// The query, in the search syntax (checked by the search parser); empty matches every article.
    pub query: String,
    /// Only this language (lowercase ISO 639 code).
    pub lang: Option<String>,
    /// Only this campaign (an id of the config).
    pub campaign: Option<String>,
    /// Only this feed (an id of the config).
    pub feed: Option<String>,
    /// Only this affiliation (`state`, `independent`, `unknown`).
    pub affiliation: Option<String>,
    /// Only this country (ISO 3166-1 alpha-2, upper case).
    pub country: Option<String>,
    /// Only this script (`Hans`, `Cyrl`, ...).
    pub script: Option<String>,
    /// When it fires.
    pub on: AlertOn,
    /// How matches are grouped into messages.
    pub batch: AlertBatch,
    /// Where messages are POSTed (trusted as written, like feed URLs).
    pub webhook: Option<Url>,
    /// The name of the environment variable that holds the webhook's HMAC key.
    pub secret_env: Option<String>,
    /// Addresses messages are mailed to (needs `[smtp]`).
    pub email: Vec<String>,
    /// Whether `/alerts/<id>.atom` is served.
    pub atom: bool,
}

impl AlertSpec {
    /// The filters set besides the query, as (search flag, value), in the search flags' order.
    pub fn filters(&self) -> Vec<(&'static str, &String)> {
        [
            ("lang", &self.lang),
            ("campaign", &self.campaign),
            ("feed", &self.feed),
            ("affiliation", &self.affiliation),
            ("country", &self.country),
            ("script", &self.script),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect()
    }
}

/// One article of an alert message (the webhook body's `articles`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertArticle {
    /// Article id.
    pub id: String,
    /// Article URL.
    pub url: String,
    /// Headline.
    pub title: String,
    /// Feed id.
    pub feed: String,
    /// Outlet name.
    pub source_name: String,
    /// Outlet affiliation.
    pub affiliation: String,
    /// Outlet country.
    pub country: Option<String>,
    /// ISO 639-1 language.
    pub lang: String,
    /// Publication time, RFC 3339.
    pub published: Option<String>,
    /// Campaign ids.
    pub campaigns: Vec<String>,
    /// A short excerpt around the match (plain text).
    pub snippet: String,
}

/// One message of an alert: what a webhook receives as its JSON body (and later an email and an Atom
/// entry show). At most [`crate::alert::MAX_ARTICLES`] articles; `total` counts every match, `more` those
/// left out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertMessage {
    /// The alert's id.
    pub alert: String,
    /// The alert's name.
    pub name: String,
    /// The alert's query.
    pub query: String,
    /// When the alert fired, RFC 3339 (UTC, seconds).
    pub fired_at: String,
    /// The articles, newest first.
    pub articles: Vec<AlertArticle>,
    /// Matching articles in all.
    pub total: usize,
    /// Matching articles not in `articles`.
    pub more: usize,
}

/// A state-affiliated English article numbered `i` of feed `f` (its id, URL and times follow from `i`),
/// for the unit tests of the modules that archive, search or check articles.
#[cfg(test)]
pub(crate) fn sample_article(i: u32, title: String, text: String) -> Article {
    let url = format!("https://fixture.example/{i}");
    let when = chrono::DateTime::from_timestamp(1_700_000_000 + i64::from(i) * 3600, 0)
        .unwrap_or_default();
    Article {
        id: format!("{i:016x}"),
        url: url.clone(),
        final_url: url,
        feed: "f".into(),
        source_name: "F".into(),
        affiliation: Affiliation::State,
        country: None,
        lang: LangInfo {
            lang: "en".into(),
            script: Some("Latn".into()),
            confidence: 1.0,
            reliable: true,
        },
        title,
        text,
        description: None,
        authors: vec![],
        published: Some(when),
        modified: None,
        fetched_at: when,
        canonical_url: None,
        site_name: None,
        image: None,
        section: None,
        tags: vec![],
        campaigns: vec![],
        http_status: 200,
        text_source: "page".into(),
        cluster: None,
        post: None,
        revision: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_codes_are_two_ascii_letters_upper_cased() {
        for (code, want) in [
            ("CN", Some("CN")),
            ("cn", Some("CN")),
            ("Ru", Some("RU")),
            ("", None),
            ("C", None),
            ("CHN", None),
            ("C1", None),
            (" CN", None),
            ("中", None),
            ("éé", None),
            ("China", None),
        ] {
            assert_eq!(parse_country(code).as_deref(), want, "{code:?}");
        }
    }
}
