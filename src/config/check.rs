//! From the raw form ([`super::raw`]) to a checked [`Config`]: one function per part of the file, each
//! error naming the file, the line of the bad value and what is wrong. The checks run in file-part order
//! (`[index]`, `[digest]`, `[fetch]`, `[web]`, then each feed, `[revisit]` (it names feeds), then each
//! campaign), and the first failing
//! one is reported.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::raw::{
    RawAlert, RawCampaign, RawConfig, RawFeed, RawFetch, RawNear, RawRevisit, RawSmtp, RawWeb,
};
use super::{
    check_http_url, check_id, check_lang, is_env_name, parse_age, Config, ConfigError,
    FetchSettings, LineIndex, RevisitSettings, SmtpSettings, WebSettings, MIN_TOKEN_CHARS,
};
use crate::model::{
    Affiliation, AlertBatch, AlertOn, AlertSpec, CampaignSpec, FeedSpec, SourceKind,
};

/// Checks a deserialized config; `text` is the file's text (for line numbers), `path` its path (for messages
/// and to resolve relative paths).
pub(super) fn check(raw: RawConfig, text: &str, path: &Path) -> Result<Config, ConfigError> {
    let c = Checker {
        path,
        lines: LineIndex::new(text),
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let index_path = c.folder(raw.index.and_then(|i| i.path), "index.path", &dir, "index")?;
    let digest_dir = c.folder(
        raw.digest.and_then(|d| d.out_dir),
        "digest.out_dir",
        &dir,
        "digests",
    )?;
    let fetch = match raw.fetch {
        Some(f) => c.fetch(f)?,
        None => FetchSettings::default(),
    };
    let web = match raw.web {
        Some(w) => c.web(w)?,
        None => WebSettings::default(),
    };
    let mut feeds = Vec::with_capacity(raw.feeds.len());
    let mut feed_lines: HashMap<String, usize> = HashMap::new();
    for spanned in raw.feeds {
        feeds.push(c.feed(spanned, &mut feed_lines)?);
    }
    let revisit = match raw.revisit {
        Some(r) => c.revisit(r, &feed_lines)?,
        None => RevisitSettings::default(),
    };
    let mut campaigns = Vec::with_capacity(raw.campaigns.len());
    let mut campaign_lines: HashMap<String, usize> = HashMap::new();
    for spanned in raw.campaigns {
        campaigns.push(c.campaign(spanned, &mut campaign_lines, &feed_lines)?);
    }
    let smtp = match raw.smtp {
        Some(s) => Some(c.smtp(s.into_inner())?),
        None => None,
    };
    let mut alerts = Vec::with_capacity(raw.alerts.len());
    let mut alert_lines: HashMap<String, usize> = HashMap::new();
    for spanned in raw.alerts {
        let known = Known {
            feeds: &feed_lines,
            campaigns: &campaign_lines,
            smtp: smtp.is_some(),
        };
        alerts.push(c.alert(spanned, &mut alert_lines, &known)?);
    }
    Ok(Config {
        path: path.to_path_buf(),
        index_path,
        digest_dir,
        fetch,
        feeds,
        campaigns,
        web,
        alerts,
        smtp,
        revisit,
    })
}

/// What an alert may refer to: the config's feed and campaign ids, and whether it has `[smtp]`.
struct Known<'a> {
    feeds: &'a HashMap<String, usize>,
    campaigns: &'a HashMap<String, usize>,
    smtp: bool,
}

/// The file being checked: builds errors that name it and a line.
struct Checker<'a> {
    path: &'a Path,
    lines: LineIndex,
}

impl Checker<'_> {
    /// An error at the line where `span` starts.
    fn at(&self, span: Range<usize>, message: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_path_buf(),
            line: self.lines.line(span.start),
            message,
        }
    }

    /// An integer setting within `min..=max`, if given; `key` names it in the message.
    fn int_in(
        &self,
        v: Option<Spanned<i64>>,
        key: &str,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>, ConfigError> {
        match v {
            None => Ok(None),
            Some(v) if *v.get_ref() < min || *v.get_ref() > max => Err(self.at(
                v.span(),
                format!("{key} must be between {min} and {max}, got {}", v.get_ref()),
            )),
            Some(v) => Ok(Some(*v.get_ref())),
        }
    }

    /// A folder setting (`index.path`, `digest.out_dir`) resolved against the config's folder `dir`;
    /// `default` (in `dir`) when absent.
    fn folder(
        &self,
        v: Option<Spanned<String>>,
        key: &str,
        dir: &Path,
        default: &str,
    ) -> Result<PathBuf, ConfigError> {
        match v {
            Some(p) if p.get_ref().trim().is_empty() => {
                Err(self.at(p.span(), format!("{key} is empty")))
            }
            Some(p) => Ok(dir.join(p.get_ref())),
            None => Ok(dir.join(default)),
        }
    }

    /// `[fetch]`.
    fn fetch(&self, f: RawFetch) -> Result<FetchSettings, ConfigError> {
        let mut fetch = FetchSettings::default();
        if let Some(ua) = f.user_agent {
            if ua.get_ref().trim().is_empty() {
                return Err(self.at(ua.span(), "fetch.user_agent is empty".into()));
            }
            fetch.user_agent = ua.into_inner();
        }
        let positive = |v: Option<Spanned<i64>>, name: &str, max: i64| {
            self.int_in(v, &format!("fetch.{name}"), 1, max)
        };
        if let Some(v) = positive(f.concurrency, "concurrency", 1024)? {
            fetch.concurrency = v as usize;
        }
        if let Some(v) = positive(f.per_host, "per_host", 64)? {
            fetch.per_host = v as usize;
        }
        if let Some(v) = positive(f.timeout_secs, "timeout_secs", 3600)? {
            fetch.timeout_secs = v as u64;
        }
        if let Some(v) = positive(f.max_body_bytes, "max_body_bytes", 1 << 34)? {
            fetch.max_body_bytes = v as u64;
        }
        if let Some(v) = positive(f.max_redirects, "max_redirects", 20)? {
            fetch.max_redirects = v as usize;
        }
        if let Some(v) = positive(f.max_entries_per_feed, "max_entries_per_feed", 100_000)? {
            fetch.max_entries_per_feed = v as usize;
        }
        if let Some(v) = self.int_in(f.host_delay_ms, "fetch.host_delay_ms", 0, 600_000)? {
            fetch.host_delay_ms = v as u64;
        }
        let min_span = f.min_interval_secs.as_ref().map(|v| v.span());
        if let Some(v) = positive(f.min_interval_secs, "min_interval_secs", 7 * 86_400)? {
            fetch.min_interval_secs = v as u64;
        }
        if let Some(v) = positive(f.max_interval_secs, "max_interval_secs", 30 * 86_400)? {
            fetch.max_interval_secs = v as u64;
        }
        if fetch.min_interval_secs > fetch.max_interval_secs {
            return Err(self.at(
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
        Ok(fetch)
    }

    /// `[web]`.
    fn web(&self, w: RawWeb) -> Result<WebSettings, ConfigError> {
        let mut web = WebSettings::default();
        if let Some(t) = w.token {
            let chars = t.get_ref().trim().chars().count();
            if chars < MIN_TOKEN_CHARS {
                return Err(self.at(
                    t.span(),
                    format!("web.token must be at least {MIN_TOKEN_CHARS} characters (this one has {chars})"),
                ));
            }
            web.token = Some(t.into_inner());
        }
        let limit = |v: Option<Spanned<i64>>, name: &str, max: i64| {
            Ok::<_, ConfigError>(
                self.int_in(v, &format!("web.{name}"), 1, max)?
                    .map(|v| v as usize),
            )
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
        Ok(web)
    }

    /// `[revisit]`; `feed_lines` holds the configured feed ids.
    fn revisit(
        &self,
        r: RawRevisit,
        feed_lines: &HashMap<String, usize>,
    ) -> Result<RevisitSettings, ConfigError> {
        let mut revisit = RevisitSettings::default();
        if let Some(ages) = r.ages {
            let span = ages.span();
            let ages = ages.into_inner();
            if ages.is_empty() {
                return Err(self.at(
                    span,
                    "revisit.ages is empty (remove the key for the default [\"1h\", \"6h\", \"24h\", \"7d\"], \
                     or set revisit.budget_per_pass = 0 to turn revisits off)"
                        .into(),
                ));
            }
            let mut parsed: Vec<std::time::Duration> = Vec::with_capacity(ages.len());
            for age in ages {
                let d = parse_age(age.get_ref())
                    .map_err(|m| self.at(age.span(), format!("revisit.ages: {m}")))?;
                if let Some(last) = parsed.last().filter(|last| **last >= d) {
                    return Err(self.at(
                        age.span(),
                        format!(
                            "revisit.ages must increase: {:?} is not after {}",
                            age.get_ref(),
                            super::format_age(*last)
                        ),
                    ));
                }
                parsed.push(d);
            }
            revisit.ages = parsed;
        }
        if let Some(list) = r.affiliations {
            let span = list.span();
            let list = list.into_inner();
            if list.is_empty() {
                return Err(self.at(
                    span,
                    "revisit.affiliations is empty (remove the key for state-affiliated sources only)".into(),
                ));
            }
            revisit.affiliations = list
                .iter()
                .map(|a| {
                    Affiliation::parse(a).ok_or_else(|| {
                        self.at(
                            span.clone(),
                            format!(
                                "revisit.affiliations: {a:?} is not an affiliation (state, independent or unknown)"
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(list) = r.feeds {
            let span = list.span();
            let list = list.into_inner();
            if list.is_empty() {
                return Err(self.at(
                    span,
                    "revisit.feeds is empty (remove the key to revisit every feed of the affiliations)".into(),
                ));
            }
            if let Some(unknown) = list.iter().find(|id| !feed_lines.contains_key(id.as_str())) {
                return Err(self.at(
                    span,
                    format!("revisit.feeds: no feed has the id {unknown:?}"),
                ));
            }
            revisit.feeds = Some(list);
        }
        if let Some(v) = self.int_in(r.budget_per_pass, "revisit.budget_per_pass", 0, 1_000_000)? {
            revisit.budget_per_pass = v as usize;
        }
        Ok(revisit)
    }

    /// One `[[feeds]]` entry; `feed_lines` holds the ids seen so far and their lines (duplicates are errors).
    fn feed(
        &self,
        spanned: Spanned<RawFeed>,
        feed_lines: &mut HashMap<String, usize>,
    ) -> Result<FeedSpec, ConfigError> {
        let feed_line = self.lines.line(spanned.span().start);
        let mut f = spanned.into_inner();
        let id = f.id.get_ref().clone();
        check_id(&id).map_err(|m| self.at(f.id.span(), format!("feed id {id:?}: {m}")))?;
        if let Some(first) = feed_lines.get(&id) {
            return Err(self.at(
                f.id.span(),
                format!("duplicate feed id {id:?} (first defined at line {first})"),
            ));
        }
        feed_lines.insert(id.clone(), feed_line);
        let url = check_http_url(f.url.get_ref()).map_err(|m| {
            self.at(
                f.url.span(),
                format!("feed {id:?}: url {:?}: {m}", f.url.get_ref()),
            )
        })?;
        let kind = self.source_kind(&id, &mut f)?;
        let affiliation = match &f.affiliation {
            None => Affiliation::Unknown,
            Some(a) => Affiliation::parse(a.get_ref()).ok_or_else(|| {
                self.at(
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
                self.at(
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
                check_lang(l.get_ref())
                    .map_err(|m| self.at(l.span(), format!("feed {id:?}: {m}")))?,
            ),
        };
        let typology = match &f.typology {
            None => None,
            Some(t) => {
                let v = t.get_ref().trim();
                if !crate::state_media::TYPOLOGIES.contains(&v) {
                    return Err(self.at(
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
        let interval_secs = self
            .int_in(
                f.interval_secs,
                &format!("feed {id:?}: interval_secs"),
                60,
                30 * 86_400,
            )?
            .map(|v| v as u64);
        let content_selector = match &f.content_selector {
            None => None,
            Some(sel) => {
                crate::extract::check_selector(sel.get_ref()).map_err(|m| {
                    self.at(
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
                    self.at(
                        list.span(),
                        format!("feed {id:?}: remove_selectors {sel:?}: {m}"),
                    )
                })?;
            }
            remove_selectors = list.into_inner();
        }
        Ok(FeedSpec {
            kind,
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
        })
    }

    /// A feed's `kind` and the keys only that kind has (`max_age_days` for sitemaps; `link_selector`,
    /// `include`, `exclude`, `same_site` for html): a key given to another kind is an error, not ignored.
    fn source_kind(&self, id: &str, f: &mut RawFeed) -> Result<SourceKind, ConfigError> {
        let kind_name = f.kind.as_ref().map_or("rss", |k| k.get_ref().as_str());
        let kind_line = f.kind.as_ref().map(|k| k.span());
        let misplaced = |key: &str, span: Range<usize>| {
            self.at(
                span,
                format!("feed {id:?}: {key} does not apply to kind = {kind_name:?}"),
            )
        };
        let kind = match kind_name {
            "rss" => SourceKind::Rss,
            "telegram" => SourceKind::Telegram,
            "sitemap" => SourceKind::Sitemap {
                max_age_days: self
                    .int_in(
                        f.max_age_days.take(),
                        &format!("feed {id:?}: max_age_days"),
                        1,
                        36_500,
                    )?
                    .map_or(SourceKind::DEFAULT_MAX_AGE_DAYS, |v| v as u32),
            },
            "html" => {
                let Some(sel) = f.link_selector.take() else {
                    let span = kind_line.clone().unwrap_or(f.id.span());
                    return Err(self.at(
                        span,
                        format!("feed {id:?}: kind = \"html\" needs link_selector (a CSS selector of the article links)"),
                    ));
                };
                crate::extract::check_selector(sel.get_ref()).map_err(|m| {
                    self.at(
                        sel.span(),
                        format!("feed {id:?}: link_selector {:?}: {m}", sel.get_ref()),
                    )
                })?;
                let regexes = |key: &str, list: Option<Spanned<Vec<String>>>| {
                    let Some(list) = list else {
                        return Ok(Vec::new());
                    };
                    for r in list.get_ref() {
                        if let Err(e) = regex::Regex::new(r) {
                            return Err(self.at(
                                list.span(),
                                format!("feed {id:?}: {key} {r:?} is not a valid regex: {e}"),
                            ));
                        }
                    }
                    Ok(list.into_inner())
                };
                SourceKind::Html {
                    link_selector: sel.into_inner(),
                    include: regexes("include", f.include.take())?,
                    exclude: regexes("exclude", f.exclude.take())?,
                    same_site: f.same_site.take().is_none_or(|s| s.into_inner()),
                }
            }
            other => {
                let span = kind_line.unwrap_or(f.id.span());
                return Err(self.at(
                    span,
                    format!(
                        "feed {id:?}: kind {other:?} is not one of rss, sitemap, html, telegram"
                    ),
                ));
            }
        };
        // Keys taken above belong to this kind; any left over belong to another.
        if let Some(v) = f.max_age_days.take() {
            return Err(misplaced("max_age_days (sitemap only)", v.span()));
        }
        if let Some(v) = f.link_selector.take() {
            return Err(misplaced("link_selector (html only)", v.span()));
        }
        for (key, v) in [("include", f.include.take()), ("exclude", f.exclude.take())] {
            if let Some(v) = v {
                return Err(misplaced(&format!("{key} (html only)"), v.span()));
            }
        }
        if let Some(v) = f.same_site.take() {
            return Err(misplaced("same_site (html only)", v.span()));
        }
        Ok(kind)
    }

    /// One `[[campaigns]]` entry: its terms, then its rules, then its source restrictions. `campaign_lines`
    /// holds the campaign ids seen so far, `feed_lines` the config's feed ids.
    fn campaign(
        &self,
        spanned: Spanned<RawCampaign>,
        campaign_lines: &mut HashMap<String, usize>,
        feed_lines: &HashMap<String, usize>,
    ) -> Result<CampaignSpec, ConfigError> {
        let campaign_line = self.lines.line(spanned.span().start);
        let c = spanned.into_inner();
        let id = c.id.get_ref().clone();
        check_id(&id).map_err(|m| self.at(c.id.span(), format!("campaign id {id:?}: {m}")))?;
        if let Some(first) = campaign_lines.get(&id) {
            return Err(self.at(
                c.id.span(),
                format!("duplicate campaign id {id:?} (first defined at line {first})"),
            ));
        }
        campaign_lines.insert(id.clone(), campaign_line);
        let terms_span = c.terms.as_ref().map_or_else(|| c.id.span(), |t| t.span());
        let raw_terms = c.terms.map(Spanned::into_inner).unwrap_or_default();
        let terms = self.campaign_terms(&id, terms_span, &raw_terms)?;
        if terms.is_empty() {
            return Err(self.at(
                c.id.span(),
                format!("campaign {id:?} has no terms: add [campaigns.terms] with at least one language list"),
            ));
        }
        let distinct: usize = terms.iter().map(|(_, t)| t.len()).sum();
        let min_terms = match c.min_terms {
            None => 1,
            Some(m) if *m.get_ref() < 1 || *m.get_ref() as usize > distinct => {
                return Err(self.at(
                    m.span(),
                    format!(
                        "campaign {id:?}: min_terms must be between 1 and its number of terms ({distinct}), got {}",
                        m.get_ref()
                    ),
                ))
            }
            Some(m) => *m.get_ref() as usize,
        };
        let all = match c.all {
            None => Vec::new(),
            Some(groups) => self.all_groups(&id, groups)?,
        };
        let none = match c.none {
            None => Vec::new(),
            Some(list) => self.rule_terms(&id, "none", list.span(), list.into_inner())?,
        };
        let near = self.near_rules(&id, c.near.unwrap_or_default())?;
        let feed_ids = self.restriction(&id, "feeds", c.feeds, &|f| {
            if feed_lines.contains_key(f) {
                Ok(f.to_string())
            } else {
                Err(format!("no feed with id {f:?} in this config"))
            }
        })?;
        let affiliations = self
            .restriction(&id, "affiliations", c.affiliations, &|a| {
                Affiliation::parse(a)
                    .map(|a| a.as_str().to_string())
                    .ok_or_else(|| format!("{a:?} is not one of state, independent, unknown"))
            })?
            .iter()
            .filter_map(|a| Affiliation::parse(a))
            .collect();
        let countries = self.restriction(&id, "countries", c.countries, &|v| {
            crate::model::parse_country(v)
                .ok_or_else(|| format!("{v:?} is not an ISO 3166-1 alpha-2 code like \"CN\""))
        })?;
        Ok(CampaignSpec {
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
        })
    }

    /// `[campaigns.terms]`: language code -> list of terms, each checked as the tagger will. Languages whose
    /// list is empty are left out (the caller refuses a campaign left with none).
    fn campaign_terms(
        &self,
        id: &str,
        terms_span: Range<usize>,
        raw_terms: &toml::Table,
    ) -> Result<Vec<(String, Vec<String>)>, ConfigError> {
        let mut terms = Vec::new();
        for (lang, value) in raw_terms {
            let lang_code = check_lang(lang).map_err(|m| {
                self.at(
                    terms_span.clone(),
                    format!("campaign {id:?}: terms.{lang}: {m}"),
                )
            })?;
            let list = value.as_array().ok_or_else(|| {
                self.at(
                    terms_span.clone(),
                    format!("campaign {id:?}: terms.{lang} must be a list of strings"),
                )
            })?;
            let mut words = Vec::with_capacity(list.len());
            for item in list {
                let term = item.as_str().ok_or_else(|| {
                    self.at(
                        terms_span.clone(),
                        format!(
                            "campaign {id:?}: terms.{lang} must hold only strings, found {item}"
                        ),
                    )
                })?;
                let trimmed = term.trim();
                if trimmed.is_empty() || trimmed.trim_end_matches('*').trim().is_empty() {
                    return Err(self.at(
                        terms_span.clone(),
                        format!("campaign {id:?}: terms.{lang} has an empty term {term:?}"),
                    ));
                }
                crate::tag::check_term(trimmed).map_err(|m| {
                    self.at(
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
        Ok(terms)
    }

    /// The terms of one rule (`key` names it: "none", "all group 2", "near rule 1"), trimmed and checked as
    /// the tagger will, so a bad one is reported with its line. An empty list is an error.
    fn rule_terms(
        &self,
        id: &str,
        key: &str,
        span: Range<usize>,
        list: Vec<String>,
    ) -> Result<Vec<String>, ConfigError> {
        if list.is_empty() {
            return Err(self.at(
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
                        self.at(
                            span.clone(),
                            format!("campaign {id:?}: {key}: term {t:?}: {m}"),
                        )
                    })
            })
            .collect()
    }

    /// `all = [[...], ...]`: groups that must each match.
    fn all_groups(
        &self,
        id: &str,
        groups: Spanned<Vec<Vec<String>>>,
    ) -> Result<Vec<Vec<String>>, ConfigError> {
        let span = groups.span();
        let groups = groups.into_inner();
        if groups.is_empty() {
            return Err(self.at(
                span,
                format!("campaign {id:?}: all is empty (remove the key instead)"),
            ));
        }
        groups
            .into_iter()
            .enumerate()
            .map(|(g, group)| {
                self.rule_terms(id, &format!("all group {}", g + 1), span.clone(), group)
            })
            .collect()
    }

    /// `near = [{ terms = [a, b], within = n }, ...]`.
    fn near_rules(
        &self,
        id: &str,
        rules: Vec<Spanned<RawNear>>,
    ) -> Result<Vec<crate::model::NearRule>, ConfigError> {
        let mut near = Vec::new();
        for (r, rule) in rules.into_iter().enumerate() {
            let span = rule.span();
            let rule = rule.into_inner();
            let key = format!("near rule {}", r + 1);
            let terms = self.rule_terms(id, &key, span.clone(), rule.terms)?;
            let [a, b]: [String; 2] = terms.try_into().map_err(|t: Vec<String>| {
                self.at(
                    span.clone(),
                    format!(
                        "campaign {id:?}: {key}: terms must hold exactly two terms, got {}",
                        t.len()
                    ),
                )
            })?;
            if crate::tag::normalize(&a).as_str() == crate::tag::normalize(&b).as_str() {
                return Err(self.at(
                    span,
                    format!("campaign {id:?}: {key}: its two terms {a:?} and {b:?} are the same"),
                ));
            }
            if !(1..=1000).contains(&rule.within) {
                return Err(self.at(
                    span,
                    format!(
                        "campaign {id:?}: {key}: within must be between 1 and 1000 (words, or CJK characters), got {}",
                        rule.within
                    ),
                ));
            }
            near.push(crate::model::NearRule {
                terms: [a, b],
                within: rule.within as usize,
            });
        }
        Ok(near)
    }

    /// A source restriction (`feeds`, `affiliations`, `countries`): absent allows every source, an empty
    /// list is an error, each value goes through `check`.
    fn restriction(
        &self,
        id: &str,
        key: &str,
        v: Option<Spanned<Vec<String>>>,
        check: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Vec<String>, ConfigError> {
        let Some(v) = v else {
            return Ok(Vec::new());
        };
        let span = v.span();
        let list = v.into_inner();
        if list.is_empty() {
            return Err(self.at(
                span,
                format!("campaign {id:?}: {key} is empty (remove the key to allow every source)"),
            ));
        }
        list.iter()
            .map(|x| {
                check(x).map_err(|m| self.at(span.clone(), format!("campaign {id:?}: {key}: {m}")))
            })
            .collect()
    }

    /// `[smtp]`.
    fn smtp(&self, s: RawSmtp) -> Result<SmtpSettings, ConfigError> {
        let host = s.host.get_ref().trim();
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/') {
            return Err(self.at(
                s.host.span(),
                format!("smtp.host {:?} is not a host name", s.host.get_ref()),
            ));
        }
        let port = self.int_in(s.port, "smtp.port", 1, 65_535)?.unwrap_or(587) as u16;
        check_address(s.from.get_ref())
            .map_err(|m| self.at(s.from.span(), format!("smtp.from {m}")))?;
        Ok(SmtpSettings {
            host: host.to_string(),
            port,
            starttls: s.starttls.unwrap_or(true),
            from: s.from.get_ref().trim().to_string(),
            user_env: self.env_name("smtp.user_env", s.user_env)?,
            password_env: self.env_name("smtp.password_env", s.password_env)?,
        })
    }

    /// A key that names an environment variable (`secret_env`, `user_env`, `password_env`): the name,
    /// never the secret itself.
    fn env_name(
        &self,
        key: &str,
        v: Option<Spanned<String>>,
    ) -> Result<Option<String>, ConfigError> {
        match v {
            None => Ok(None),
            Some(v) if is_env_name(v.get_ref()) => Ok(Some(v.into_inner())),
            Some(v) => Err(self.at(
                v.span(),
                format!(
                    "{key} must be the name of an environment variable (letters, digits, '_'), \
                     not {:?}: secrets are never written in the config",
                    v.get_ref()
                ),
            )),
        }
    }

    /// One `[[alerts]]` entry: its id, its query and filters (checked as `mediawatch search` checks
    /// them, the query by the search parser), `on` and `batch`, then where it delivers.
    fn alert(
        &self,
        spanned: Spanned<RawAlert>,
        alert_lines: &mut HashMap<String, usize>,
        known: &Known<'_>,
    ) -> Result<AlertSpec, ConfigError> {
        let alert_line = self.lines.line(spanned.span().start);
        let a = spanned.into_inner();
        let id = a.id.get_ref().clone();
        check_id(&id).map_err(|m| self.at(a.id.span(), format!("alert id {id:?}: {m}")))?;
        if let Some(first) = alert_lines.get(&id) {
            return Err(self.at(
                a.id.span(),
                format!("duplicate alert id {id:?} (first defined at line {first})"),
            ));
        }
        alert_lines.insert(id.clone(), alert_line);
        let query = match &a.query {
            None => String::new(),
            Some(q) => {
                crate::search::check_query(q.get_ref()).map_err(|e| {
                    let at = e
                        .column()
                        .map(|c| format!(" at column {c}"))
                        .unwrap_or_default();
                    self.at(
                        q.span(),
                        format!(
                            "alert {id:?}: query {:?}: bad query{at}: {}",
                            q.get_ref(),
                            e.message
                        ),
                    )
                })?;
                q.get_ref().clone()
            }
        };
        let bad = |v: &Spanned<String>, key: &str, what: &str| {
            self.at(
                v.span(),
                format!("alert {id:?}: {key} {:?} {what}", v.get_ref()),
            )
        };
        let lang = match &a.lang {
            None => None,
            Some(l) => Some(
                check_lang(l.get_ref())
                    .map_err(|m| self.at(l.span(), format!("alert {id:?}: {m}")))?,
            ),
        };
        let campaign = match &a.campaign {
            None => None,
            Some(c) if known.campaigns.contains_key(c.get_ref()) => Some(c.get_ref().clone()),
            Some(c) => return Err(bad(c, "campaign", "is not a campaign id of this config")),
        };
        let feed = match &a.feed {
            None => None,
            Some(f) if known.feeds.contains_key(f.get_ref()) => Some(f.get_ref().clone()),
            Some(f) => return Err(bad(f, "feed", "is not a feed id of this config")),
        };
        let affiliation = match &a.affiliation {
            None => None,
            Some(v) => Some(
                Affiliation::parse(v.get_ref())
                    .ok_or_else(|| {
                        bad(
                            v,
                            "affiliation",
                            "is not one of state, independent, unknown",
                        )
                    })?
                    .as_str()
                    .to_string(),
            ),
        };
        let country = match &a.country {
            None => None,
            Some(v) => Some(crate::model::parse_country(v.get_ref()).ok_or_else(|| {
                bad(
                    v,
                    "country",
                    "is not an ISO 3166-1 alpha-2 code like \"CN\"",
                )
            })?),
        };
        let script = match &a.script {
            None => None,
            Some(v) => {
                let s = v.get_ref();
                if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(bad(
                        v,
                        "script",
                        "is not a 4-letter script code like Hans, Latn or Cyrl",
                    ));
                }
                let mut s = s.to_ascii_lowercase();
                s[..1].make_ascii_uppercase();
                Some(s)
            }
        };
        let on = match a.on.as_ref().map(|v| (v, v.get_ref().as_str())) {
            None | Some((_, "match")) => AlertOn::Match,
            Some((_, "spike")) => AlertOn::Spike,
            Some((v, _)) => return Err(bad(v, "on", "is not one of match, spike")),
        };
        if on == AlertOn::Spike && campaign.is_none() {
            let span = a.on.as_ref().map_or_else(|| a.id.span(), |v| v.span());
            return Err(self.at(
                span,
                format!("alert {id:?}: on = \"spike\" needs campaign (the spike rule counts a campaign's articles)"),
            ));
        }
        let batch = match a.batch.as_ref().map(|v| (v, v.get_ref().as_str())) {
            None | Some((_, "immediate")) => AlertBatch::Immediate,
            Some((_, "hourly")) => AlertBatch::Hourly,
            Some((_, "daily")) => AlertBatch::Daily,
            Some((v, _)) => return Err(bad(v, "batch", "is not one of immediate, hourly, daily")),
        };
        let webhook = match &a.webhook {
            None => None,
            Some(w) => Some(check_http_url(w.get_ref()).map_err(|m| {
                self.at(
                    w.span(),
                    format!("alert {id:?}: webhook {:?}: {m}", w.get_ref()),
                )
            })?),
        };
        let secret_env =
            self.env_name(&format!("alert {id:?}: secret_env"), a.secret_env.clone())?;
        if let (Some(s), None) = (&a.secret_env, &webhook) {
            return Err(self.at(
                s.span(),
                format!("alert {id:?}: secret_env signs webhook bodies: it needs webhook"),
            ));
        }
        let email = match a.email {
            None => Vec::new(),
            Some(list) => {
                if list.get_ref().is_empty() {
                    return Err(self.at(
                        list.span(),
                        format!("alert {id:?}: email is empty (remove the key instead)"),
                    ));
                }
                for addr in list.get_ref() {
                    check_address(addr)
                        .map_err(|m| self.at(list.span(), format!("alert {id:?}: email {m}")))?;
                }
                if !known.smtp {
                    return Err(self.at(
                        list.span(),
                        format!(
                            "alert {id:?}: email needs an [smtp] section (the relay that sends it)"
                        ),
                    ));
                }
                list.into_inner()
                    .into_iter()
                    .map(|a| a.trim().to_string())
                    .collect()
            }
        };
        let atom = a.atom.unwrap_or(false);
        if webhook.is_none() && email.is_empty() && !atom {
            return Err(self.at(
                a.id.span(),
                format!("alert {id:?} delivers nowhere: give it webhook, email or atom = true"),
            ));
        }
        Ok(AlertSpec {
            name: a
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| id.clone()),
            id,
            query,
            lang,
            campaign,
            feed,
            affiliation,
            country,
            script,
            on,
            batch,
            webhook,
            secret_env,
            email,
            atom,
        })
    }
}

/// A mail address as a relay takes it: one `@` between a non-empty local part and a domain with a dot,
/// no spaces or control characters, no angle brackets or commas (one address, not a list).
fn check_address(addr: &str) -> Result<(), String> {
    let a = addr.trim();
    let ok = match a.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !a
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{addr:?} is not a mail address like desk@example.org"
        ))
    }
}
