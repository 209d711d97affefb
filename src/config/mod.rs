//! `feeds.toml`: read it, check it once, and hand out a `Config` that cannot hold a bad value.
//!
//! Every error names the file, the line and what is wrong. Unknown keys are errors (a typo must not be
//! silently ignored). This module does not fetch anything. `raw.rs` holds the file's serde form, `check.rs`
//! turns it into a checked [`Config`] (one function per part of the file), `edit.rs` edits the file in
//! place keeping comments and layout ([`append_feed`], [`fill_feed_labels`]).

use std::path::{Path, PathBuf};

use url::Url;

use crate::model::{AlertSpec, CampaignSpec, FeedSpec};

mod check;
mod edit;
mod raw;

pub use edit::{append_feed, append_feeds, fill_feed_labels, FeedLabels, NewFeed};

/// A config error: where and what. Displayed as `path:line: message` (`path: message` without a line).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read config: {error}", path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The edited file could not be written.
    #[error("{}: cannot write config: {error}", path.display())]
    Write {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// Not TOML, or a key or value type the config does not have (the TOML reader's message).
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Syntax {
        /// The config file.
        path: PathBuf,
        /// 1-based line, when the reader knows it.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A value the config refuses: a bad id, URL, code, selector, term or rule, a duplicate, a number out of
    /// range.
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the value.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The campaigns pass the config's checks but the tagger refuses them (`check-config`).
    #[error("{}: {message}", path.display())]
    Codebook {
        /// The config file.
        path: PathBuf,
        /// The tagger's error.
        message: String,
    },
}

impl ConfigError {
    /// The 1-based line of the error, when it has a place.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Syntax { line, .. } => *line,
            ConfigError::Invalid { line, .. } => Some(*line),
            ConfigError::Read { .. } | ConfigError::Write { .. } | ConfigError::Codebook { .. } => {
                None
            }
        }
    }

    /// What is wrong, without the place.
    pub fn message(&self) -> String {
        match self {
            ConfigError::Read { error, .. } => format!("cannot read config: {error}"),
            ConfigError::Write { error, .. } => format!("cannot write config: {error}"),
            ConfigError::Syntax { message, .. }
            | ConfigError::Invalid { message, .. }
            | ConfigError::Codebook { message, .. } => message.clone(),
        }
    }
}

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
    /// Saved searches that push (`[[alerts]]`), in file order.
    pub alerts: Vec<AlertSpec>,
    /// The mail relay of the alerts' `email` (`[smtp]`).
    pub smtp: Option<SmtpSettings>,
    /// Revisits of archived articles (`[revisit]`).
    pub revisit: RevisitSettings,
}

/// The mail relay (`[smtp]`). Credentials are never in the file: only the names of the environment
/// variables that hold them.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    /// Relay host.
    pub host: String,
    /// Relay port (default 587).
    pub port: u16,
    /// STARTTLS (default true; false only for a local relay).
    pub starttls: bool,
    /// The sender address.
    pub from: String,
    /// The environment variable holding the user name.
    pub user_env: Option<String>,
    /// The environment variable holding the password.
    pub password_env: Option<String>,
}

/// Revisits of archived articles (`[revisit]`): at which ages after it was first archived an article is
/// fetched again, for which sources, and how many revisits a pass makes at most.
#[derive(Debug, Clone, PartialEq)]
pub struct RevisitSettings {
    /// Ages since the article was first archived, increasing (`ages = ["1h", "6h", "24h", "7d"]`).
    pub ages: Vec<std::time::Duration>,
    /// Only feeds with these affiliations (default: state-affiliated only).
    pub affiliations: Vec<crate::model::Affiliation>,
    /// Only these feed ids, when given (both restrictions apply).
    pub feeds: Option<Vec<String>>,
    /// Revisits at most per pass, so they never starve new articles (0: none).
    pub budget_per_pass: usize,
}

impl Default for RevisitSettings {
    fn default() -> Self {
        let hour = 3600;
        RevisitSettings {
            ages: [hour, 6 * hour, 24 * hour, 7 * 24 * hour]
                .into_iter()
                .map(std::time::Duration::from_secs)
                .collect(),
            affiliations: vec![crate::model::Affiliation::State],
            feeds: None,
            budget_per_pass: 500,
        }
    }
}

impl RevisitSettings {
    /// Whether articles of this feed are revisited.
    pub fn covers(&self, feed: &FeedSpec) -> bool {
        self.budget_per_pass > 0
            && !self.ages.is_empty()
            && self.affiliations.contains(&feed.affiliation)
            && self.feeds.as_ref().is_none_or(|ids| ids.contains(&feed.id))
    }
}

/// Parses an age such as `90s`, `15m`, `6h` or `7d` (a positive whole number and one unit).
pub fn parse_age(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s.len().saturating_sub(1);
    let (number, unit) = (s.get(..split).unwrap_or(""), s.get(split..).unwrap_or(""));
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{s:?} is not an age: write a whole number and a unit s, m, h or d, such as \"6h\""
            ))
        }
    };
    let n: u64 = number.parse().map_err(|_| {
        format!("{s:?} is not an age: write a whole number and a unit s, m, h or d, such as \"6h\"")
    })?;
    if n == 0 {
        return Err(format!("{s:?}: an age must be more than zero"));
    }
    if n.saturating_mul(secs) > 366 * 86_400 {
        return Err(format!("{s:?}: an age must be at most a year (366d)"));
    }
    Ok(std::time::Duration::from_secs(n * secs))
}

/// An age as the config writes it (the largest unit that divides it).
pub fn format_age(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs >= size && secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

/// Shortest accepted web token, in characters (not bytes), spaces around it not counted.
pub const MIN_TOKEN_CHARS: usize = 16;

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

    /// The alert with this id.
    pub fn alert(&self, id: &str) -> Option<&AlertSpec> {
        self.alerts.iter().find(|a| a.id == id)
    }

    /// The environment variables the alerts and `[smtp]` name (`secret_env`, `user_env`,
    /// `password_env`), each once, in file order, with whether it is set: `check-config` lists the
    /// unset ones.
    pub fn secret_variables(&self) -> Vec<(String, bool)> {
        let mut names: Vec<String> = Vec::new();
        let smtp = self
            .smtp
            .iter()
            .flat_map(|s| [&s.user_env, &s.password_env]);
        for name in self
            .alerts
            .iter()
            .map(|a| &a.secret_env)
            .chain(smtp)
            .flatten()
        {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
            .into_iter()
            .map(|n| {
                let set = std::env::var_os(&n).is_some_and(|v| !v.is_empty());
                (n, set)
            })
            .collect()
    }
}

/// Reads and checks a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    parse(&read(path)?, path)
}

/// Parses and checks config text; `path` is used for messages and to resolve relative paths.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let raw: raw::RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        line: e.span().map(|s| LineIndex::new(text).line(s.start)),
        message: e.message().trim().to_string(),
    })?;
    check::check(raw, text, path)
}

/// The config file's text.
fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    })
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

/// Why an id is refused (shown after the id: `feed id "A b": may hold only ...`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The empty string.
    #[error("is empty")]
    Empty,
    /// A character outside `[a-z0-9-]`.
    #[error("may hold only lowercase letters a-z, digits and '-'")]
    BadCharacter,
}

/// Ids are `[a-z0-9-]+`: they appear in URLs, file names and queries.
pub fn check_id(id: &str) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(IdError::Empty);
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(IdError::BadCharacter);
    }
    Ok(())
}

/// Whether `s` can name an environment variable: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_env_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Why a feed URL is refused (shown after the URL: `url "ftp://x/": must be http or https, not ftp`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedUrlError {
    /// Not an absolute URL.
    #[error("is not a valid URL ({0})")]
    Parse(url::ParseError),
    /// A scheme other than http and https.
    #[error("must be http or https, not {0}")]
    Scheme(String),
    /// No host.
    #[error("has no host")]
    NoHost,
}

/// An absolute http(s) URL with a host. (The State Media Matrix reader has its own, which also takes a
/// site written without a scheme.)
pub fn check_http_url(s: &str) -> Result<Url, FeedUrlError> {
    let url = Url::parse(s.trim()).map_err(FeedUrlError::Parse)?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(FeedUrlError::Scheme(url.scheme().to_string()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(FeedUrlError::NoHost);
    }
    Ok(url)
}

/// A language code that is not two or three ASCII letters (the code as written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("language {0:?} is not an ISO 639-1 code like \"en\", \"zh\", \"ru\"")]
pub struct LangError(pub String);

/// A language code: two or three ASCII letters (ISO 639-1 preferred), returned lowercase.
pub fn check_lang(s: &str) -> Result<String, LangError> {
    let l = s.trim();
    if (l.len() == 2 || l.len() == 3) && l.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(l.to_ascii_lowercase())
    } else {
        Err(LangError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Affiliation, SourceKind};

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
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\nkind = \"atom\"\n",
                4,
                "kind \"atom\" is not one of rss, sitemap, html, telegram",
            ),
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\nkind = \"html\"\n",
                4,
                "kind = \"html\" needs link_selector",
            ),
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\nkind = \"html\"\nlink_selector = \"a[\"\n",
                5,
                "link_selector \"a[\"",
            ),
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\nkind = \"html\"\nlink_selector = \"a\"\nexclude = [\"(\"]\n",
                6,
                "exclude \"(\" is not a valid regex",
            ),
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\nlink_selector = \"a\"\n",
                4,
                "link_selector (html only) does not apply to kind = \"rss\"",
            ),
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\nkind = \"telegram\"\nmax_age_days = 3\n",
                5,
                "max_age_days (sitemap only) does not apply to kind = \"telegram\"",
            ),
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\nkind = \"sitemap\"\nmax_age_days = 0\n",
                5,
                "max_age_days must be between 1",
            ),
            (
                "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\nkind = \"sitemap\"\nsame_site = false\n",
                5,
                "same_site (html only)",
            ),
        ];
        for (text, line, needle) in cases {
            let err = parse_str(text).unwrap_err();
            assert_eq!(err.line(), Some(*line), "{text:?} -> {err}");
            assert!(err.to_string().contains(needle), "{text:?} -> {err}");
            assert!(err.to_string().starts_with("/tmp/x/feeds.toml:"), "{err}");
        }
    }

    #[test]
    fn source_kinds_and_their_keys_are_read() {
        let text = "[[feeds]]\nid = \"a\"\nurl = \"http://x/\"\n\
                    [[feeds]]\nid = \"s\"\nurl = \"http://x/sitemap.xml\"\nkind = \"sitemap\"\n\
                    [[feeds]]\nid = \"s7\"\nurl = \"http://x/news.xml\"\nkind = \"sitemap\"\nmax_age_days = 7\n\
                    [[feeds]]\nid = \"h\"\nurl = \"http://x/world\"\nkind = \"html\"\nlink_selector = \"ul a\"\n\
                    include = [\"/a/\"]\nexclude = [\"/video/\", \"#\"]\nsame_site = false\n\
                    [[feeds]]\nid = \"t\"\nurl = \"https://t.me/s/x\"\nkind = \"telegram\"\n";
        let c = parse_str(text).unwrap();
        let kinds: Vec<&SourceKind> = c.feeds.iter().map(|f| &f.kind).collect();
        assert_eq!(
            kinds,
            [
                &SourceKind::Rss,
                &SourceKind::Sitemap { max_age_days: 2 },
                &SourceKind::Sitemap { max_age_days: 7 },
                &SourceKind::Html {
                    link_selector: "ul a".into(),
                    include: vec!["/a/".into()],
                    exclude: vec!["/video/".into(), "#".into()],
                    same_site: false,
                },
                &SourceKind::Telegram,
            ]
        );
        let html =
            "[[feeds]]\nid = \"h\"\nurl = \"http://x/\"\nkind = \"html\"\nlink_selector = \"a\"\n";
        assert!(matches!(
            parse_str(html).unwrap().feeds[0].kind,
            SourceKind::Html {
                same_site: true,
                ..
            }
        ));
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
            assert_eq!(err.line(), Some(*line), "{text:?} -> {err}");
            assert!(err.to_string().contains(needle), "{text:?} -> {err}");
        }
        let err = parse_str(&format!("{head}[campaigns.terms]\nen = [\"Tai*wan\"]\n")).unwrap_err();
        assert_eq!(err.line(), Some(6), "{err}");
        assert!(err.message().contains("start or end"), "{err}");
    }

    #[test]
    fn revisit_section_defaults_and_values() {
        let p = Path::new("feeds.toml");
        let c = parse("", p).unwrap();
        assert_eq!(c.revisit, RevisitSettings::default());
        assert_eq!(
            c.revisit
                .ages
                .iter()
                .map(|d| format_age(*d))
                .collect::<Vec<_>>(),
            ["1h", "6h", "1d", "7d"]
        );
        assert_eq!(c.revisit.budget_per_pass, 500);
        let feeds = "[[feeds]]\nid = \"s\"\nurl = \"http://x/\"\naffiliation = \"state\"\n\
                     [[feeds]]\nid = \"i\"\nurl = \"http://y/\"\naffiliation = \"independent\"\n";
        let c = parse(feeds, p).unwrap();
        assert!(c.revisit.covers(&c.feeds[0]), "state feeds by default");
        assert!(!c.revisit.covers(&c.feeds[1]), "not independent ones");
        let text = format!(
            "[revisit]\nages = [\"90s\", \"15m\", \"2d\"]\naffiliations = [\"independent\"]\n\
             feeds = [\"i\"]\nbudget_per_pass = 7\n{feeds}"
        );
        let c = parse(&text, p).unwrap();
        assert_eq!(
            c.revisit.ages,
            [90, 900, 172_800].map(std::time::Duration::from_secs)
        );
        assert_eq!(c.revisit.budget_per_pass, 7);
        assert!(!c.revisit.covers(&c.feeds[0]) && c.revisit.covers(&c.feeds[1]));
        let off = parse(&format!("[revisit]\nbudget_per_pass = 0\n{feeds}"), p).unwrap();
        assert!(
            !off.revisit.covers(&off.feeds[0]),
            "a budget of 0 turns revisits off"
        );
    }

    #[test]
    fn revisit_errors_name_line_and_problem() {
        let feed = "[[feeds]]\nid = \"f\"\nurl = \"http://x/\"\n";
        let cases: &[(&str, usize, &str)] = &[
            ("ages = []\n", 2, "revisit.ages is empty"),
            ("ages = [\"1h\",\n  \"6x\"]\n", 3, "unit s, m, h or d"),
            ("ages = [\"h\"]\n", 2, "not an age"),
            ("ages = [\"0s\"]\n", 2, "more than zero"),
            ("ages = [\"400d\"]\n", 2, "at most a year"),
            (
                "ages = [\"6h\", \"1h\"]\n",
                2,
                "must increase: \"1h\" is not after 6h",
            ),
            (
                "affiliations = [\"gov\"]\n",
                2,
                "\"gov\" is not an affiliation",
            ),
            ("affiliations = []\n", 2, "revisit.affiliations is empty"),
            ("\nfeeds = [\"nope\"]\n", 3, "no feed has the id \"nope\""),
            (
                "budget_per_pass = -1\n",
                2,
                "revisit.budget_per_pass must be between 0",
            ),
            ("age = [\"1h\"]\n", 2, "unknown field"),
        ];
        for (body, line, needle) in cases {
            let text = format!("[revisit]\n{body}{feed}");
            let err = parse(&text, Path::new("feeds.toml")).unwrap_err();
            assert_eq!(err.line(), Some(*line), "{text:?} -> {err}");
            assert!(err.to_string().contains(needle), "{text:?} -> {err}");
        }
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
        assert_eq!(err.line(), Some(2), "{err}");
        assert!(err.message().contains("at least 16"), "{err}");
        // Counted in characters: 8 Cyrillic letters are 16 bytes, and still too short.
        let err = parse("[web]\ntoken = \"ключключ\"\n", p).unwrap_err();
        assert_eq!(err.line(), Some(2), "{err}");
        assert!(
            err.message()
                .contains("web.token must be at least 16 characters (this one has 8)"),
            "{err}"
        );
        let c = parse("[web]\ntoken = \"ключключключключ\"\n", p).unwrap();
        assert_eq!(c.web.token.as_deref(), Some("ключключключключ"));
        let err = parse("[web]\n\nmax_page_size = 0\n", p).unwrap_err();
        assert_eq!(err.line(), Some(3), "{err}");
        assert!(err.message().contains("web.max_page_size"), "{err}");
        let err = parse("[web]\nport = 1\n", p).unwrap_err();
        assert!(err.message().contains("port"), "{err}");
    }

    /// A config with one feed, one campaign and `[smtp]`, then `alert` (the alert's keys start at line 14).
    fn with_alert(alert: &str) -> String {
        format!(
            "[[feeds]]\nid = \"xinhua\"\nurl = \"http://x.example/rss\"\n\
             [[campaigns]]\nid = \"taiwan\"\n[campaigns.terms]\nen = [\"taiwan\"]\n\
             [smtp]\nhost = \"localhost\"\nfrom = \"mw@example.org\"\npassword_env = \"MW_SMTP_PW\"\n\n\
             [[alerts]]\n{alert}"
        )
    }

    #[test]
    fn alerts_are_read_with_the_search_filters() {
        let text = with_alert(
            "id = \"taiwan-state\"\nname = \"State media on Taiwan\"\n\
             query = '台独 OR \"Taiwan independence\"'\nlang = \"ZH\"\naffiliation = \"state\"\n\
             country = \"cn\"\nscript = \"hans\"\ncampaign = \"taiwan\"\nfeed = \"xinhua\"\n\
             batch = \"hourly\"\nwebhook = \"https://hooks.example.org/mw\"\n\
             secret_env = \"MW_ALERT_SECRET\"\nemail = [\"desk@example.org\"]\natom = true\n",
        );
        let c = parse_str(&text).unwrap();
        let a = &c.alerts[0];
        assert_eq!(a.id, "taiwan-state");
        assert_eq!(a.name, "State media on Taiwan");
        assert_eq!(a.query, "台独 OR \"Taiwan independence\"");
        assert_eq!(a.lang.as_deref(), Some("zh"));
        assert_eq!(a.country.as_deref(), Some("CN"));
        assert_eq!(a.script.as_deref(), Some("Hans"));
        assert_eq!(a.affiliation.as_deref(), Some("state"));
        assert_eq!(a.campaign.as_deref(), Some("taiwan"));
        assert_eq!(a.feed.as_deref(), Some("xinhua"));
        assert_eq!(a.on, crate::model::AlertOn::Match);
        assert_eq!(a.batch, crate::model::AlertBatch::Hourly);
        assert_eq!(
            a.webhook.as_ref().map(Url::as_str),
            Some("https://hooks.example.org/mw")
        );
        assert_eq!(a.email, vec!["desk@example.org".to_string()]);
        assert!(a.atom);
        let smtp = c.smtp.as_ref().unwrap();
        assert_eq!((smtp.port, smtp.starttls), (587, true));
        let vars: Vec<String> = c.secret_variables().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            vars,
            vec!["MW_ALERT_SECRET".to_string(), "MW_SMTP_PW".to_string()]
        );
        // Old configs, without alerts, stay valid.
        let c = parse_str(GOOD).unwrap();
        assert!(c.alerts.is_empty() && c.smtp.is_none());
    }

    #[test]
    fn alert_errors_name_their_line() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "id = \"a\"\nwebhook = \"http://h.example/\"\nquery = \"(taiwan\"\n",
                16,
                "alert \"a\": query \"(taiwan\": bad query",
            ),
            (
                "id = \"a\"\nwebhook = \"http://h.example/\"\nquery = \"nofield:x\"\n",
                16,
                "bad query at column 1",
            ),
            (
                "id = \"A\"\natom = true\n",
                14,
                "alert id \"A\": may hold only",
            ),
            ("id = \"a\"\n", 14, "alert \"a\" delivers nowhere"),
            (
                "id = \"a\"\natom = true\nlang = \"chinese\"\n",
                16,
                "ISO 639-1",
            ),
            (
                "id = \"a\"\natom = true\ncampaign = \"nope\"\n",
                16,
                "not a campaign id",
            ),
            (
                "id = \"a\"\natom = true\nfeed = \"nope\"\n",
                16,
                "not a feed id",
            ),
            (
                "id = \"a\"\natom = true\naffiliation = \"gov\"\n",
                16,
                "affiliation \"gov\" is not one of",
            ),
            (
                "id = \"a\"\natom = true\ncountry = \"CHN\"\n",
                16,
                "ISO 3166-1",
            ),
            (
                "id = \"a\"\natom = true\nscript = \"Han\"\n",
                16,
                "4-letter script",
            ),
            (
                "id = \"a\"\natom = true\non = \"always\"\n",
                16,
                "on \"always\" is not one of match, spike",
            ),
            (
                "id = \"a\"\natom = true\non = \"spike\"\n",
                16,
                "needs campaign",
            ),
            (
                "id = \"a\"\natom = true\nbatch = \"weekly\"\n",
                16,
                "batch \"weekly\" is not one of",
            ),
            (
                "id = \"a\"\nwebhook = \"ftp://h.example/\"\n",
                15,
                "must be http or https",
            ),
            (
                "id = \"a\"\nwebhook = \"http://h.example/\"\nsecret_env = \"hunter2!\"\n",
                16,
                "must be the name of an environment variable",
            ),
            (
                "id = \"a\"\natom = true\nsecret_env = \"K\"\n",
                16,
                "needs webhook",
            ),
            (
                "id = \"a\"\nemail = [\"not an address\"]\n",
                15,
                "is not a mail address",
            ),
            (
                "id = \"a\"\natom = true\nurl = \"x\"\n",
                16,
                "unknown field `url`",
            ),
            (
                "id = \"a\"\natom = true\n[[alerts]]\nid = \"a\"\natom = true\n",
                17,
                "duplicate alert id \"a\" (first defined at line 13)",
            ),
        ];
        for (alert, line, needle) in cases {
            let err = parse_str(&with_alert(alert)).unwrap_err();
            assert_eq!(err.line(), Some(*line), "{alert}: {err}");
            assert!(err.message().contains(needle), "{alert}: {err}");
        }
        // email without [smtp].
        let err = parse_str("[[alerts]]\nid = \"a\"\nemail = [\"d@example.org\"]\n").unwrap_err();
        assert_eq!(err.line(), Some(3), "{err}");
        assert!(err.message().contains("needs an [smtp] section"), "{err}");
        let err = parse_str("[smtp]\nhost = \"h\"\nfrom = \"x\"\n").unwrap_err();
        assert_eq!(err.line(), Some(3), "{err}");
        assert!(err.message().contains("smtp.from"), "{err}");
        let err = parse_str("[smtp]\nhost = \"h\"\nfrom = \"a@b.org\"\npassword_env = \"pw=x\"\n")
            .unwrap_err();
        assert_eq!(err.line(), Some(4), "{err}");
    }
}
