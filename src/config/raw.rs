//! The serde form of `feeds.toml`: what the file may hold, before any check. Unknown keys are errors; values
//! keep their spans so that [`super::check`] can name the line of a bad one.

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) index: Option<RawIndex>,
    pub(super) fetch: Option<RawFetch>,
    pub(super) digest: Option<RawDigest>,
    pub(super) web: Option<RawWeb>,
    pub(super) revisit: Option<RawRevisit>,
    #[serde(default)]
    pub(super) feeds: Vec<Spanned<RawFeed>>,
    #[serde(default)]
    pub(super) campaigns: Vec<Spanned<RawCampaign>>,
    #[serde(default)]
    pub(super) alerts: Vec<Spanned<RawAlert>>,
    pub(super) smtp: Option<Spanned<RawSmtp>>,
}

/// `[index]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIndex {
    pub(super) path: Option<Spanned<String>>,
}

/// `[digest]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDigest {
    pub(super) out_dir: Option<Spanned<String>>,
}

/// `[web]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWeb {
    pub(super) token: Option<Spanned<String>>,
    pub(super) max_page_size: Option<Spanned<i64>>,
    pub(super) max_offset: Option<Spanned<i64>>,
    pub(super) max_exports: Option<Spanned<i64>>,
    pub(super) max_body_bytes: Option<Spanned<i64>>,
}

/// `[revisit]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRevisit {
    pub(super) ages: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) affiliations: Option<Spanned<Vec<String>>>,
    pub(super) feeds: Option<Spanned<Vec<String>>>,
    pub(super) budget_per_pass: Option<Spanned<i64>>,
}

/// `[fetch]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFetch {
    pub(super) user_agent: Option<Spanned<String>>,
    pub(super) concurrency: Option<Spanned<i64>>,
    pub(super) per_host: Option<Spanned<i64>>,
    pub(super) timeout_secs: Option<Spanned<i64>>,
    pub(super) max_body_bytes: Option<Spanned<i64>>,
    pub(super) allow_private_networks: Option<bool>,
    pub(super) max_redirects: Option<Spanned<i64>>,
    pub(super) max_entries_per_feed: Option<Spanned<i64>>,
    pub(super) host_delay_ms: Option<Spanned<i64>>,
    pub(super) min_interval_secs: Option<Spanned<i64>>,
    pub(super) max_interval_secs: Option<Spanned<i64>>,
}

/// One `[[feeds]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFeed {
    pub(super) id: Spanned<String>,
    pub(super) url: Spanned<String>,
    pub(super) name: Option<String>,
    pub(super) affiliation: Option<Spanned<String>>,
    pub(super) country: Option<Spanned<String>>,
    pub(super) language: Option<Spanned<String>>,
    pub(super) typology: Option<Spanned<String>>,
    pub(super) interval_secs: Option<Spanned<i64>>,
    pub(super) content_selector: Option<Spanned<String>>,
    pub(super) remove_selectors: Option<Spanned<Vec<String>>>,
    pub(super) kind: Option<Spanned<String>>,
    pub(super) max_age_days: Option<Spanned<i64>>,
    pub(super) link_selector: Option<Spanned<String>>,
    pub(super) include: Option<Spanned<Vec<String>>>,
    pub(super) exclude: Option<Spanned<Vec<String>>>,
    pub(super) same_site: Option<Spanned<bool>>,
}

/// One `[[campaigns]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCampaign {
    pub(super) id: Spanned<String>,
    pub(super) name: Option<String>,
    pub(super) description: Option<String>,
    pub(super) min_terms: Option<Spanned<i64>>,
    pub(super) terms: Option<Spanned<toml::Table>>,
    pub(super) all: Option<Spanned<Vec<Vec<String>>>>,
    pub(super) none: Option<Spanned<Vec<String>>>,
    pub(super) near: Option<Vec<Spanned<RawNear>>>,
    pub(super) feeds: Option<Spanned<Vec<String>>>,
    pub(super) affiliations: Option<Spanned<Vec<String>>>,
    pub(super) countries: Option<Spanned<Vec<String>>>,
}

/// One `near = [{ terms = ["a", "b"], within = 10 }]` rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNear {
    pub(super) terms: Vec<String>,
    pub(super) within: i64,
}

/// One `[[alerts]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlert {
    pub(super) id: Spanned<String>,
    pub(super) name: Option<String>,
    pub(super) query: Option<Spanned<String>>,
    pub(super) lang: Option<Spanned<String>>,
    pub(super) campaign: Option<Spanned<String>>,
    pub(super) feed: Option<Spanned<String>>,
    pub(super) affiliation: Option<Spanned<String>>,
    pub(super) country: Option<Spanned<String>>,
    pub(super) script: Option<Spanned<String>>,
    pub(super) on: Option<Spanned<String>>,
    pub(super) batch: Option<Spanned<String>>,
    pub(super) webhook: Option<Spanned<String>>,
    pub(super) secret_env: Option<Spanned<String>>,
    pub(super) email: Option<Spanned<Vec<String>>>,
    pub(super) atom: Option<bool>,
}

/// `[smtp]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub(super) host: Spanned<String>,
    pub(super) port: Option<Spanned<i64>>,
    pub(super) starttls: Option<bool>,
    pub(super) from: Spanned<String>,
    pub(super) user_env: Option<Spanned<String>>,
    pub(super) password_env: Option<Spanned<String>>,
}
