//! `feeds.toml`: read it, check it once, and hand out a `Config` that cannot hold a bad value.
//!
//! Every error names the file, the line and what is wrong. Unknown keys are errors (a typo must not be
//! silently ignored). This module does not fetch anything and does not write the file, except
//! [`append_feed`], which edits it in place keeping comments and layout.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::model::{Affiliation, CampaignSpec, FeedSpec};

/// A config error: where and what. Displayed as `path:line: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file.
    pub path: PathBuf,
    /// 1-based line, when the error has a place.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Fetch settings (`[fetch]`).
#[derive(Debug, Clone, PartialEq)]
pub struct FetchSettings {
    /// User-Agent header sent with every request.
    pub user_agent: String,
    /// Requests in flight overall.
    pub concurrency: usize,
    /// Requests in flight per host.
    pub per_host: usize,
    /// Total time allowed for one request, body included.
    pub timeout_secs: u64,
    /// Body size cap, after decompression.
    pub max_body_bytes: u64,
    /// Whether links found in feeds may point at loopback/private/link-local addresses.
    pub allow_private_networks: bool,
    /// Redirects followed at most.
    pub max_redirects: usize,
    /// Entries taken from one feed document at most.
    pub max_entries_per_feed: usize,
    /// Minimum delay between the starts of two requests to one host, in milliseconds.
    pub host_delay_ms: u64,
    /// Shortest adaptive polling interval of the daemon.
    pub min_interval_secs: u64,
    /// Longest adaptive polling interval of the daemon.
    pub max_interval_secs: u64,
}

impl Default for FetchSettings {
    fn default() -> Self {
        FetchSettings {
            user_agent: format!(
                "mediawatch/{} (+https://example.org/contact)",
                env!("CARGO_PKG_VERSION")
            ),
            concurrency: 16,
            per_host: 2,
            timeout_secs: 20,
            max_body_bytes: 10_000_000,
            allow_private_networks: false,
            max_redirects: 5,
            max_entries_per_feed: 200,
            host_delay_ms: 1000,
            min_interval_secs: 600,
            max_interval_secs: 14_400,
        }
    }
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    /// Index folder (holds the tantivy index and the state store).
    pub index_path: PathBuf,
    /// Where `digest --out` writes by default.
    pub digest_dir: PathBuf,
    /// Fetch settings.
    pub fetch: FetchSettings,
    /// Feeds, in file order.
    pub feeds: Vec<FeedSpec>,
    /// Campaigns, in file order.
    pub campaigns: Vec<CampaignSpec>,
    /// Web workspace settings (`[web]`, used by `serve`).
    pub web: WebSettings,
}

/// Web workspace settings (`[web]`).
#[derive(Debug, Clone, PartialEq)]
pub struct WebSettings {
    /// Token required on every request (`Authorization: Bearer`, cookie or `?token=`); required to bind
    /// a non-loopback address. `--token` overrides it.
    pub token: Option<String>,
    /// Largest result page (`size=`) of the search page and API.
    pub max_page_size: usize,
    /// Deepest result reachable by paging (page × size).
    pub max_offset: usize,
    /// Exports (CSV / JSONL) streaming at the same time; more get 503.
    pub max_exports: usize,
    /// Request body size cap in bytes (every route is GET; bodies are refused above this).
    pub max_body_bytes: usize,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            token: None,
            max_page_size: 100,
            max_offset: 10_000,
            max_exports: 2,
            max_body_bytes: 16 * 1024,
        }
    }
}

impl Config {
    /// The feed with this id.
    pub fn feed(&self, id: &str) -> Option<&FeedSpec> {
        self.feeds.iter().find(|f| f.id == id)
    }

    /// The campaign with this id.
    pub fn campaign(&self, id: &str) -> Option<&CampaignSpec> {
        self.campaigns.iter().find(|c| c.id == id)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    index: Option<RawIndex>,
    fetch: Option<RawFetch>,
    digest: Option<RawDigest>,
    web: Option<RawWeb>,
    #[serde(default)]
    feeds: Vec<Spanned<RawFeed>>,
    #[serde(default)]
    campaigns: Vec<Spanned<RawCampaign>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndex {
    path: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDigest {
    out_dir: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWeb {
    token: Option<Spanned<String>>,
    max_page_size: Option<Spanned<i64>>,
    max_offset: Option<Spanned<i64>>,
    max_exports: Option<Spanned<i64>>,
    max_body_bytes: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    user_agent: Option<Spanned<String>>,
    concurrency: Option<Spanned<i64>>,
    per_host: Option<Spanned<i64>>,
    timeout_secs: Option<Spanned<i64>>,
    max_body_bytes: Option<Spanned<i64>>,
    allow_private_networks: Option<bool>,
    max_redirects: Option<Spanned<i64>>,
    max_entries_per_feed: Option<Spanned<i64>>,
    host_delay_ms: Option<Spanned<i64>>,
    min_interval_secs: Option<Spanned<i64>>,
    max_interval_secs: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    id: Spanned<String>,
    url: Spanned<String>,
    name: Option<String>,
    affiliation: Option<Spanned<String>>,
    country: Option<Spanned<String>>,
    language: Option<Spanned<String>>,
    typology: Option<Spanned<String>>,
    interval_secs: Option<Spanned<i64>>,
    content_selector: Option<Spanned<String>>,
    remove_selectors: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCampaign {
    id: Spanned<String>,
    name: Option<String>,
    description: Option<String>,
    min_terms: Option<Spanned<i64>>,
    terms: Option<Spanned<toml::Table>>,
    all: Option<Spanned<Vec<Vec<String>>>>,
    none: Option<Spanned<Vec<String>>>,
    near: Option<Vec<Spanned<RawNear>>>,
    feeds: Option<Spanned<Vec<String>>>,
    affiliations: Option<Spanned<Vec<String>>>,
    countries: Option<Spanned<Vec<String>>>,
}

/// One `near = [{ terms = ["a", "b"], within = 10 }]` rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNear {
    terms: Vec<String>,
    within: i64,
}

/// Reads and checks a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: None,
        message: format!("cannot read config: {e}"),
    })?;
    parse(&text, path)
}

/// Parses and checks config text; `path` is used for messages and to resolve relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let lines = LineIndex::new(text);
    let at = |span: std::ops::Range<usize>, message: String| ConfigError {
        path: path.to_path_buf(),
        line: Some(lines.line(span.start)),
        message,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();

    let index_path = match raw.index.and_then(|i| i.path) {
        Some(p) if p.get_ref().trim().is_empty() => {
            return Err(at(p.span(), "index.path is empty".into()))
        }
        Some(p) => dir.join(p.get_ref()),
        None => dir.join("index"),
    };
    let digest_dir = match raw.digest.and_then(|d| d.out_dir) {
        Some(p) if p.get_ref().trim().is_empty() => {
            return Err(at(p.span(), "digest.out_dir is empty".into()))
        }
        Some(p) => dir.join(p.get_ref()),
        None => dir.join("digests"),
    };

    let mut fetch = FetchSettings::default();
    if let Some(f) = raw.fetch {
        if let Some(ua) = f.user_agent {
            if ua.get_ref().trim().is_empty() {
                return Err(at(ua.span(), "fetch.user_agent is empty".into()));
            }
            fetch.user_agent = ua.into_inner();
        }
        let positive =
            |v: Option<Spanned<i64>>, name: &str, max: i64| -> Result<Option<u64>, ConfigError> {
                match v {
                    None => Ok(None),
                    Some(v) if *v.get_ref() < 1 || *v.get_ref() > max => Err(at(
                        v.span(),
                        format!(
                            "fetch.{name} must be between 1 and {max}, got {}",
                            v.get_ref()
                        ),
                    )),
                    Some(v) => Ok(Some(*v.get_ref() as u64)),
                }
            };
        if let Some(v) = positive(f.concurrency, "concurrency", 1024)? {
            fetch.concurrency = v as usize;
        }
        if let Some(v) = positive(f.per_host, "per_host", 64)? {
            fetch.per_host = v as usize;
        }
        if let Some(v) = positive(f.timeout_secs, "timeout_secs", 3600)? {
            fetch.timeout_secs = v;
        }
        if let Some(v) = positive(f.max_body_bytes, "max_body_bytes", 1 << 34)? {
            fetch.max_body_bytes = v;
        }
        if let Some(v) = positive(f.max_redirects, "max_redirects", 20)? {
            fetch.max_redirects = v as usize;
        }
        if let Some(v) = positive(f.max_entries_per_feed, "max_entries_per_feed", 100_000)? {
            fetch.max_entries_per_feed = v as usize;
        }
        if let Some(v) = f.host_delay_ms {
            if *v.get_ref() < 0 || *v.get_ref() > 600_000 {
                return Err(at(
                    v.span(),
                    format!(
                        "fetch.host_delay_ms must be between 0 and 600000, got {}",
                        v.get_ref()
                    ),
                ));
            }
            fetch.host_delay_ms = *v.get_ref() as u64;
        }
        let min_span = f.min_interval_secs.as_ref().map(|v| v.span());
        if let Some(v) = positive(f.min_interval_secs, "min_interval_secs", 7 * 86_400)? {
            fetch.min_interval_secs = v;
        }
        if let Some(v) = positive(f.max_interval_secs, "max_interval_secs", 30 * 86_400)? {
            fetch.max_interval_secs = v;
        }
        if fetch.min_interval_secs > fetch.max_interval_secs {
            return Err(at(
                min_span.unwrap_or(0..0),
                format!(
                    "fetch.min_interval_secs ({}) is larger than fetch.max_interval_secs ({})",
                    fetch.min_interval_secs, fetch.max_interval_secs
                ),
            ));
        }
        if let Some(b) = f.allow_private_networks {
            fetch.allow_private_networks = b;
        }
    }

    let mut web = WebSettings::default();
    if let Some(w) = raw.web {
        if let Some(t) = w.token {
            if t.get_ref().trim().len() < 16 {
                return Err(at(
                    t.span(),
                    "web.token must be at least 16 characters".into(),
                ));
            }
            web.token = Some(t.into_inner());
        }
        let limit =
            |v: Option<Spanned<i64>>, name: &str, max: i64| -> Result<Option<usize>, ConfigError> {
                match v {
                    None => Ok(None),
                    Some(v) if *v.get_ref() < 1 || *v.get_ref() > max => Err(at(
                        v.span(),
                        format!(
                            "web.{name} must be between 1 and {max}, got {}",
                            v.get_ref()
                        ),
                    )),
                    Some(v) => Ok(Some(*v.get_ref() as usize)),
                }
            };
        if let Some(v) = limit(w.max_page_size, "max_page_size", 1000)? {
            web.max_page_size = v;
        }
        if let Some(v) = limit(w.max_offset, "max_offset", 1_000_000)? {
            web.max_offset = v;
        }
        if let Some(v) = limit(w.max_exports, "max_exports", 64)? {
            web.max_exports = v;
        }
        if let Some(v) = limit(w.max_body_bytes, "max_body_bytes", 1 << 24)? {
            web.max_body_bytes = v;
        }
    }

    let mut feeds = Vec::with_capacity(raw.feeds.len());
    let mut feed_lines: HashMap<String, usize> = HashMap::new();
    for spanned in raw.feeds {
        let feed_line = lines.line(spanned.span().start);
        let f = spanned.into_inner();
        let id = f.id.get_ref().clone();
        check_id(&id).map_err(|m| at(f.id.span(), format!("feed id {id:?}: {m}")))?;
        if let Some(first) = feed_lines.get(&id) {
            return Err(at(
                f.id.span(),
                format!("duplicate feed id {id:?} (first defined at line {first})"),
            ));
        }
        feed_lines.insert(id.clone(), feed_line);
        let url = check_http_url(f.url.get_ref()).map_err(|m| {
            at(
                f.url.span(),
                format!("feed {id:?}: url {:?}: {m}", f.url.get_ref()),
            )
        })?;
        let affiliation = match &f.affiliation {
            None => Affiliation::Unknown,
            Some(a) => Affiliation::parse(a.get_ref()).ok_or_else(|| {
                at(
                    a.span(),
                    format!(
                        "feed {id:?}: affiliation {:?} is not one of state, independent, unknown",
                        a.get_ref()
                    ),
                )
            })?,
        };
        let country = match &f.country {
            None => None,
            Some(c) => Some(crate::model::parse_country(c.get_ref()).ok_or_else(|| {
                at(
                    c.span(),
                    format!(
                        "feed {id:?}: country {:?} is not an ISO 3166-1 alpha-2 code like \"CN\"",
                        c.get_ref()
                    ),
                )
            })?),
        };
        let language = match &f.language {
            None => None,
            Some(l) => Some(
                check_lang(l.get_ref()).map_err(|m| at(l.span(), format!("feed {id:?}: {m}")))?,
            ),
        };
        let typology = match &f.typology {
            None => None,
            Some(t) => {
                let v = t.get_ref().trim();
                if !crate::state_media::TYPOLOGIES.contains(&v) {
                    return Err(at(
                        t.span(),
                        format!(
                            "feed {id:?}: typology {v:?} is not one of {}",
                            crate::state_media::TYPOLOGIES.join(", ")
                        ),
                    ));
                }
                Some(v.to_string())
            }
        };
        let interval_secs = match &f.interval_secs {
            None => None,
            Some(v) if *v.get_ref() < 60 || *v.get_ref() > 30 * 86_400 => {
                return Err(at(
                    v.span(),
                    format!(
                        "feed {id:?}: interval_secs must be between 60 and 2592000, got {}",
                        v.get_ref()
                    ),
                ))
            }
            Some(v) => Some(*v.get_ref() as u64),
        };
        let content_selector = match &f.content_selector {
            None => None,
            Some(sel) => {
                crate::extract::check_selector(sel.get_ref()).map_err(|m| {
                    at(
                        sel.span(),
                        format!("feed {id:?}: content_selector {:?}: {m}", sel.get_ref()),
                    )
                })?;
                Some(sel.get_ref().clone())
            }
        };
        let mut remove_selectors = Vec::new();
        if let Some(list) = f.remove_selectors {
            for sel in list.get_ref() {
                crate::extract::check_selector(sel).map_err(|m| {
                    at(
                        list.span(),
                        format!("feed {id:?}: remove_selectors {sel:?}: {m}"),
                    )
                })?;
            }
            remove_selectors = list.into_inner();
        }
        feeds.push(FeedSpec {
            typology,
            interval_secs,
            content_selector,
            remove_selectors,
            name: f
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| id.clone()),
            id,
            url,
            affiliation,
            country,
            language,
        });
    }

    let mut campaigns = Vec::with_capacity(raw.campaigns.len());
    let mut campaign_lines: HashMap<String, usize> = HashMap::new();
    for spanned in raw.campaigns {
        let campaign_line = lines.line(spanned.span().start);
        let c = spanned.into_inner();
        let id = c.id.get_ref().clone();
        check_id(&id).map_err(|m| at(c.id.span(), format!("campaign id {id:?}: {m}")))?;
        if let Some(first) = campaign_lines.get(&id) {
            return Err(at(
                c.id.span(),
                format!("duplicate campaign id {id:?} (first defined at line {first})"),
            ));
        }
        campaign_lines.insert(id.clone(), campaign_line);
        let terms_span = c.terms.as_ref().map_or_else(|| c.id.span(), |t| t.span());
        let raw_terms = c.terms.map(Spanned::into_inner).unwrap_or_default();
        let mut terms = Vec::new();
        for (lang, value) in &raw_terms {
            let lang_code = check_lang(lang).map_err(|m| {
                at(
                    terms_span.clone(),
                    format!("campaign {id:?}: terms.{lang}: {m}"),
                )
            })?;
            let list = value.as_array().ok_or_else(|| {
                at(
                    terms_span.clone(),
                    format!("campaign {id:?}: terms.{lang} must be a list of strings"),
                )
            })?;
            let mut words = Vec::with_capacity(list.len());
            for item in list {
                let term = item.as_str().ok_or_else(|| {
                    at(
                        terms_span.clone(),
                        format!(
                            "campaign {id:?}: terms.{lang} must hold only strings, found {item}"
                        ),
                    )
                })?;
                let trimmed = term.trim();
                if trimmed.is_empty() || trimmed.trim_end_matches('*').trim().is_empty() {
                    return Err(at(
                        terms_span.clone(),
                        format!("campaign {id:?}: terms.{lang} has an empty term {term:?}"),
                    ));
                }
                crate::tag::check_term(trimmed).map_err(|m| {
                    at(
                        terms_span.clone(),
                        format!("campaign {id:?}: terms.{lang}: term {term:?}: {m}"),
                    )
                })?;
                words.push(trimmed.to_string());
            }
            if !words.is_empty() {
                terms.push((lang_code, words));
            }
        }
        if terms.is_empty() {
            return Err(at(
                c.id.span(),
                format!("campaign {id:?} has no terms: add [campaigns.terms] with at least one language list"),
            ));
        }
        let distinct: usize = terms.iter().map(|(_, t)| t.len()).sum();
        let min_terms = match c.min_terms {
            None => 1,
            Some(m) if *m.get_ref() < 1 || *m.get_ref() as usize > distinct => {
                return Err(at(
                    m.span(),
                    format!(
                        "campaign {id:?}: min_terms must be between 1 and its number of terms ({distinct}), got {}",
                        m.get_ref()
                    ),
                ))
            }
            Some(m) => *m.get_ref() as usize,
        };
        // Rule terms: checked as the tagger will, so a bad one is reported with its line.
        let rule_terms = |key: &str,
                          span: std::ops::Range<usize>,
                          list: Vec<String>|
         -> Result<Vec<String>, ConfigError> {
            if list.is_empty() {
                return Err(at(
                    span,
                    format!("campaign {id:?}: {key} is empty (remove the key instead)"),
                ));
            }
            list.into_iter()
                .map(|t| {
                    let trimmed = t.trim().to_string();
                    crate::tag::check_term(&trimmed)
                        .map(|()| trimmed)
                        .map_err(|m| {
                            at(
                                span.clone(),
                                format!("campaign {id:?}: {key}: term {t:?}: {m}"),
                            )
                        })
                })
                .collect()
        };
        let mut all = Vec::new();
        if let Some(groups) = c.all {
            let span = groups.span();
            let groups = groups.into_inner();
            if groups.is_empty() {
                return Err(at(
                    span,
                    format!("campaign {id:?}: all is empty (remove the key instead)"),
                ));
            }
            for (g, group) in groups.into_iter().enumerate() {
                all.push(rule_terms(
                    &format!("all group {}", g + 1),
                    span.clone(),
                    group,
                )?);
            }
        }
        let none = match c.none {
            None => Vec::new(),
            Some(list) => rule_terms("none", list.span(), list.into_inner())?,
        };
        let mut near = Vec::new();
        for (r, rule) in c.near.unwrap_or_default().into_iter().enumerate() {
            let span = rule.span();
            let rule = rule.into_inner();
            let key = format!("near rule {}", r + 1);
            let terms = rule_terms(&key, span.clone(), rule.terms)?;
            let [a, b]: [String; 2] = terms.try_into().map_err(|t: Vec<String>| {
                at(
                    span.clone(),
                    format!(
                        "campaign {id:?}: {key}: terms must hold exactly two terms, got {}",
                        t.len()
                    ),
                )
            })?;
            if crate::tag::normalize(&a).as_str() == crate::tag::normalize(&b).as_str() {
                return Err(at(
                    span,
                    format!("campaign {id:?}: {key}: its two terms {a:?} and {b:?} are the same"),
                ));
            }
            if !(1..=1000).contains(&rule.within) {
                return Err(at(
                    span,
                    format!(
                        "campaign {id:?}: {key}: within must be between 1 and 1000 (words, or CJK characters), got {}",
                        rule.within
                    ),
                ));
            }
            near.push(crate::tag::NearRule {
                terms: [a, b],
                within: rule.within as usize,
            });
        }
        let restriction = |key: &str,
                           v: Option<Spanned<Vec<String>>>,
                           check: &dyn Fn(&str) -> Result<String, String>|
         -> Result<Vec<String>, ConfigError> {
            let Some(v) = v else {
                return Ok(Vec::new());
            };
            let span = v.span();
            let list = v.into_inner();
            if list.is_empty() {
                return Err(at(
                    span,
                    format!(
                        "campaign {id:?}: {key} is empty (remove the key to allow every source)"
                    ),
                ));
            }
            list.iter()
                .map(|x| {
                    check(x).map_err(|m| at(span.clone(), format!("campaign {id:?}: {key}: {m}")))
                })
                .collect()
        };
        let feed_ids = restriction("feeds", c.feeds, &|f| {
            if feed_lines.contains_key(f) {
                Ok(f.to_string())
            } else {
                Err(format!("no feed with id {f:?} in this config"))
            }
        })?;
        let affiliations = restriction("affiliations", c.affiliations, &|a| {
            Affiliation::parse(a)
                .map(|a| a.as_str().to_string())
                .ok_or_else(|| format!("{a:?} is not one of state, independent, unknown"))
        })?
        .iter()
        .filter_map(|a| Affiliation::parse(a))
        .collect();
        let countries = restriction("countries", c.countries, &|v| {
            crate::model::parse_country(v)
                .ok_or_else(|| format!("{v:?} is not an ISO 3166-1 alpha-2 code like \"CN\""))
        })?;
        campaigns.push(CampaignSpec {
            all,
            none,
            near,
            feeds: feed_ids,
            affiliations,
            countries,
            name: c
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| id.clone()),
            description: c.description.unwrap_or_default(),
            id,
            min_terms,
            terms,
        });
    }

    Ok(Config {
        path: path.to_path_buf(),
        index_path,
        digest_dir,
        fetch,
        feeds,
        campaigns,
        web,
    })
}

/// 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    LineIndex::new(text).line(offset)
}

/// Line starts of a text, built once: a config with thousands of feeds is not read in quadratic time.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub(crate) fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

/// Ids are `[a-z0-9-]+`: they appear in URLs, file names and queries.
pub fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("is empty".into());
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("may hold only lowercase letters a-z, digits and '-'".into());
    }
    Ok(())
}

/// An absolute http(s) URL with a host.
pub fn check_http_url(s: &str) -> Result<Url, String> {
    let url = Url::parse(s.trim()).map_err(|e| format!("is not a valid URL ({e})"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("must be http or https, not {}", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    Ok(url)
}

/// A language code: two or three ASCII letters (ISO 639-1 preferred), returned lowercase.
pub fn check_lang(s: &str) -> Result<String, String> {
    let l = s.trim();
    if (l.len() == 2 || l.len() == 3) && l.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(l.to_ascii_lowercase())
    } else {
        Err(format!(
            "language {s:?} is not an ISO 639-1 code like \"en\", \"zh\", \"ru\""
        ))
    }
}

/// A new feed for [`append_feed`].
#[derive(Debug, Clone, Default)]
pub struct NewFeed {
    /// Unique id.
    pub id: String,
    /// Feed URL.
    pub url: String,
    /// Outlet name.
    pub name: Option<String>,
    /// state | independent | unknown.
    pub affiliation: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// ISO 639-1.
    pub language: Option<String>,
}

/// Appends a `[[feeds]]` table to the config file, keeping its comments and layout, after checking that
/// the result is still a valid config (so a bad id or a duplicate is refused and the file is untouched).
pub fn append_feed(path: &Path, feed: &NewFeed) -> Result<Config, ConfigError> {
    append_feeds(path, std::slice::from_ref(feed))
}

/// Appends several `[[feeds]]` tables at once (all or nothing), as [`append_feed`] does.
pub fn append_feeds(path: &Path, new_feeds: &[NewFeed]) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: None,
        message: format!("cannot read config: {e}"),
    })?;
    // Check the current file first, so its own errors are reported as such.
    parse(&text, path)?;
    let mut block = String::new();
    if !text.ends_with('\n') && !text.is_empty() {
        block.push('\n');
    }
    for feed in new_feeds {
        block.push_str("\n[[feeds]]\n");
        let mut kv = |k: &str, v: &str| {
            block.push_str(&format!(
                "{k} = {}\n",
                toml_edit::Value::from(v).to_string().trim()
            ));
        };
        kv("id", &feed.id);
        kv("url", &feed.url);
        if let Some(v) = &feed.name {
            kv("name", v);
        }
        if let Some(v) = &feed.affiliation {
            kv("affiliation", v);
        }
        if let Some(v) = &feed.country {
            kv("country", v);
        }
        if let Some(v) = &feed.language {
            kv("language", v);
        }
    }
    // `[[feeds]]` after `[[campaigns]]` is still valid TOML: arrays of tables may be split.
    let new_text = format!("{text}{block}");
    let checked = parse(&new_text, path)?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, &new_text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: None,
            message: format!("cannot write config: {e}"),
        })?;
    Ok(checked)
}

/// Labels to fill in on one feed (only keys the feed does not have yet are written).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedLabels {
    /// state | independent.
    pub affiliation: Option<String>,
    /// State Media Monitor typology.
    pub typology: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

/// Writes missing labels into existing `[[feeds]]` tables, keeping comments and layout. An `affiliation`
/// of "unknown" counts as missing. The result is checked before the file is replaced.
pub fn fill_feed_labels(
    path: &Path,
    labels: &HashMap<String, FeedLabels>,
) -> Result<Config, ConfigError> {
    let io = |e: String| ConfigError {
        path: path.to_path_buf(),
        line: None,
        message: e,
    };
    let text = std::fs::read_to_string(path).map_err(|e| io(format!("cannot read config: {e}")))?;
    parse(&text, path)?;
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| io(format!("{e}")))?;
    if let Some(feeds) = doc
        .get_mut("feeds")
        .and_then(|f| f.as_array_of_tables_mut())
    {
        for table in feeds.iter_mut() {
            let Some(id) = table.get("id").and_then(|v| v.as_str()).map(str::to_string) else {
                continue;
            };
            let Some(l) = labels.get(&id) else { continue };
            let missing = |table: &toml_edit::Table, key: &str| {
                table
                    .get(key)
                    .and_then(|v| v.as_str())
                    .is_none_or(|v| key == "affiliation" && v == "unknown")
            };
            for (key, value) in [
                ("affiliation", &l.affiliation),
                ("typology", &l.typology),
                ("country", &l.country),
            ] {
                if let Some(v) = value {
                    if missing(table, key) {
                        table.insert(key, toml_edit::value(v.as_str()));
                    }
                }
            }
        }
    }
    let new_text = doc.to_string();
    let checked = parse(&new_text, path)?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, &new_text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| io(format!("cannot write config: {e}")))?;
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Config, ConfigError> {
        parse(s, Path::new("/tmp/x/feeds.toml"))
    }

    const GOOD: &str = r#"
[index]
path = "idx"
[fetch]
user_agent = "ua"
per_host = 3
[[feeds]]
id = "a-1"
url = "https://example.org/rss"
affiliation = "state"
country = "cn"
language = "ZH"
[[campaigns]]
id = "c"
name = "C"
[campaigns.terms]
en = ["x", "y*"]
zh = ["统一"]
"#;

    #[test]
    fn good_config_is_read() {
        let c = parse_str(GOOD).unwrap();
        assert_eq!(c.index_path, Path::new("/tmp/x/idx"));
        assert_eq!(c.fetch.per_host, 3);
        assert_eq!(c.fetch.concurrency, 16);
        assert_eq!(c.feeds[0].country.as_deref(), Some("CN"));
        assert_eq!(c.feeds[0].language.as_deref(), Some("zh"));
        assert_eq!(c.feeds[0].affiliation, Affiliation::State);
        assert_eq!(c.feeds[0].name, "a-1");
        assert_eq!(c.campaigns[0].terms.len(), 2);
        assert_eq!(c.campaigns[0].min_terms, 1);
    }

    #[test]
    fn errors_name_line_and_problem() {
        let cases: &[(&str, usize, &str)] = &[
            ("[fetch]\nbogus = 1\n", 2, "unknown field `bogus`"),
            ("[[feeds]]\nid = \"a\"\nurl = \"ftp://x/\"\n", 3, "must be http or https"),
            ("[[feeds]]\nid = \"a\"\nurl = \"not a url\"\n", 3, "is not a valid URL"),
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\n[[feeds]]\nid = \"a\"\nurl = \"http://y/\"\n",
                5,
                "duplicate feed id \"a\" (first defined at line 1)",
            ),
            ("[[feeds]]\nid = \"A b\"\nurl = \"http://x/\"\n", 2, "lowercase letters"),
            ("[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\naffiliation = \"gov\"\n", 4, "is not one of"),
            ("[[campaigns]]\nid = \"c\"\n", 2, "has no terms"),
            ("[[campaigns]]\nid = \"c\"\n[campaigns.terms]\nen = []\n", 2, "has no terms"),
            ("[[campaigns]]\nid = \"c\"\n[campaigns.terms]\nen = [\"  \"]\n", 3, "empty term"),
            ("[[campaigns]]\nid = \"c\"\nmin_terms = 3\n[campaigns.terms]\nen = [\"a\"]\n", 3, "min_terms"),
            ("[fetch]\nconcurrency = 0\n", 2, "between 1 and"),
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\ncontent_selector = \"div[\"\n",
                4,
                "content_selector \"div[\"",
            ),
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\ntypology = \"XX\"\n",
                4,
                "typology \"XX\" is not one of",
            ),
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\ninterval_secs = 5\n",
                4,
                "interval_secs must be between 60",
            ),
            ("x = [\n", 1, ""),
        ];
        for (text, line, needle) in cases {
            let err = parse_str(text).unwrap_err();
            assert_eq!(err.line, Some(*line), "{text:?} -> {err}");
            assert!(err.to_string().contains(needle), "{text:?} -> {err}");
            assert!(err.to_string().starts_with("/tmp/x/feeds.toml:"), "{err}");
        }
    }

    #[test]
    fn campaign_rules_are_read() {
        let text = format!(
            "{GOOD}all = [[\"Taiwan*\", \"台湾\"], [\"Beijing\"]]\nnone = [\"fact check\"]\n\
             near = [{{ terms = [\"a\", \"b*\"], within = 5 }}]\nfeeds = [\"a-1\"]\n\
             affiliations = [\"state\"]\ncountries = [\"cn\"]\n"
        )
        .replace(
            "[campaigns.terms]\nen = [\"x\", \"y*\"]\nzh = [\"统一\"]\n",
            "",
        ) + "[campaigns.terms]\nen = [\"x\"]\n";
        let c = parse_str(&text).unwrap();
        let k = &c.campaigns[0];
        assert_eq!(k.all, [vec!["Taiwan*", "台湾"], vec!["Beijing"]]);
        assert_eq!(k.none, ["fact check"]);
        assert_eq!(k.near[0].terms, ["a", "b*"]);
        assert_eq!(k.near[0].within, 5);
        assert_eq!(k.feeds, ["a-1"]);
        assert_eq!(k.affiliations, [Affiliation::State]);
        assert_eq!(k.countries, ["CN"]);
        crate::tag::Tagger::new(&c.campaigns).unwrap();
    }

    #[test]
    fn campaign_rule_errors_name_line_and_problem() {
        let head = "[[feeds]]\nid = \"f\"\nurl = \"http://x/\"\n[[campaigns]]\nid = \"c\"\n";
        let tail = "[campaigns.terms]\nen = [\"a\"]\n";
        let cases: &[(&str, usize, &str)] = &[
            ("all = [[]]\n", 6, "all group 1 is empty"),
            ("all = []\n", 6, "all is empty"),
            ("all = [\"x\"]\n", 6, ""),
            ("none = [\"Tai*wan\"]\n", 6, "none: term \"Tai*wan\""),
            (
                "near = [{ terms = [\"a\"], within = 3 }]\n",
                6,
                "exactly two terms",
            ),
            (
                "near = [\n  { terms = [\"a\", \"b\"], within = 0 },\n]\n",
                7,
                "within must be between",
            ),
            (
                "near = [{ terms = [\"台湾\", \"臺灣\"], within = 3 }]\n",
                6,
                "are the same",
            ),
            (
                "near = [{ terms = [\"a\", \"b\"], dist = 3 }]\n",
                6,
                "unknown field",
            ),
            ("feeds = [\"nope\"]\n", 6, "no feed with id \"nope\""),
            ("feeds = []\n", 6, "feeds is empty"),
            ("affiliations = [\"gov\"]\n", 6, "not one of state"),
            ("countries = [\"China\"]\n", 6, "alpha-2"),
        ];
        for (rule, line, needle) in cases {
            let text = format!("{head}{rule}{tail}");
            let err = parse_str(&text).unwrap_err();
            assert_eq!(err.line, Some(*line), "{text:?} -> {err}");
            assert!(err.to_string().contains(needle), "{text:?} -> {err}");
        }
        let err = parse_str(&format!("{head}[campaigns.terms]\nen = [\"Tai*wan\"]\n")).unwrap_err();
        assert_eq!(err.line, Some(6), "{err}");
        assert!(err.message.contains("start or end"), "{err}");
    }

    #[test]
    fn append_feed_keeps_comments_and_refuses_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feeds.toml");
        std::fs::write(
            &path,
            "# my feeds\n[[feeds]]\nid = \"a\" # first\nurl = \"http://x/\"\n",
        )
        .unwrap();
        let feed = NewFeed {
            id: "b".into(),
            url: "https://y.example/rss".into(),
            name: Some("Y \"news\"".into()),
            affiliation: Some("independent".into()),
            ..Default::default()
        };
        let c = append_feed(&path, &feed).unwrap();
        assert_eq!(c.feeds.len(), 2);
        assert_eq!(c.feeds[1].name, "Y \"news\"");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# my feeds\n[[feeds]]\nid = \"a\" # first\n"));
        let err = append_feed(&path, &feed).unwrap_err();
        assert!(err.message.contains("duplicate feed id"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn web_section_defaults_limits_and_token() {
        let p = Path::new("feeds.toml");
        let c = parse("", p).unwrap();
        assert_eq!(c.web, WebSettings::default());
        let c = parse(
            "[web]\ntoken = \"0123456789abcdef0123\"\nmax_page_size = 50\nmax_exports = 1\n",
            p,
        )
        .unwrap();
        assert_eq!(c.web.token.as_deref(), Some("0123456789abcdef0123"));
        assert_eq!((c.web.max_page_size, c.web.max_exports), (50, 1));
        let err = parse("[web]\ntoken = \"short\"\n", p).unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(err.message.contains("at least 16"), "{err}");
        let err = parse("[web]\n\nmax_page_size = 0\n", p).unwrap_err();
        assert_eq!(err.line, Some(3), "{err}");
        assert!(err.message.contains("web.max_page_size"), "{err}");
        let err = parse("[web]\nport = 1\n", p).unwrap_err();
        assert!(err.message.contains("port"), "{err}");
    }
}
