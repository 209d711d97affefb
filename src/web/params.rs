//! Query-string parameters of the search routes (page, API, Atom, exports): parsed strictly, every bad
//! value a 400 naming the parameter, and turned back into links (facets, pages, exports).

use chrono::NaiveDate;

use crate::config::WebSettings;
use crate::search::{self, SearchRequest, Sort};

use super::WebError;

/// A checked search from the query string. Empty values count as absent (an HTML form sends them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchParams {
    /// Query text (tantivy syntax, see the help panel).
    pub q: String,
    /// ISO 639 language code.
    pub lang: Option<String>,
    /// ISO 15924 script (Hans, Hant, Latn, Cyrl, ...).
    pub script: Option<String>,
    /// Campaign id.
    pub campaign: Option<String>,
    /// Feed id.
    pub feed: Option<String>,
    /// state | independent | unknown.
    pub affiliation: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: Option<String>,
    /// First day (UTC), inclusive.
    pub since: Option<NaiveDate>,
    /// Last day (UTC), inclusive.
    pub until: Option<NaiveDate>,
    /// Order.
    pub sort: Sort,
    /// 1-based page number.
    pub page: usize,
    /// Hits per page.
    pub size: usize,
}

/// Hits per page when `size` is not given.
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// The filter parameters, in link order.
pub const FILTERS: [&str; 6] = [
    "lang",
    "script",
    "campaign",
    "feed",
    "affiliation",
    "country",
];

impl SearchParams {
    /// Parses a raw query string (`None`: no parameters).
    pub fn parse(raw: Option<&str>, limits: &WebSettings) -> Result<SearchParams, WebError> {
        let mut p = SearchParams {
            page: 1,
            size: DEFAULT_PAGE_SIZE.min(limits.max_page_size),
            ..Default::default()
        };
        let mut seen: Vec<String> = Vec::new();
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if seen.iter().any(|k| *k == key) {
                return Err(WebError::bad_request(format!(
                    "parameter {key:?} is given twice"
                )));
            }
            seen.push(key.to_string());
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if value.len() > 2000 {
                return Err(WebError::bad_request(format!(
                    "parameter {key:?} is longer than 2000 bytes"
                )));
            }
            let bad = |what: &str| {
                WebError::bad_request(format!("parameter {key}={value:?}: expected {what}"))
            };
            match key.as_ref() {
                "q" => p.q = value.to_string(),
                "lang" => {
                    if !(2..=3).contains(&value.len())
                        || !value.bytes().all(|b| b.is_ascii_lowercase())
                    {
                        return Err(bad("a language code like en, zh or und"));
                    }
                    p.lang = Some(value.to_string());
                }
                "script" => {
                    if value.len() != 4 || !value.bytes().all(|b| b.is_ascii_alphabetic()) {
                        return Err(bad("a 4-letter script code like Hans, Latn or Cyrl"));
                    }
                    let mut s = value.to_ascii_lowercase();
                    s[..1].make_ascii_uppercase();
                    p.script = Some(s);
                }
                "campaign" | "feed" => {
                    crate::config::check_id(value).map_err(|m| bad(&format!("an id ({m})")))?;
                    if key == "campaign" {
                        p.campaign = Some(value.to_string());
                    } else {
                        p.feed = Some(value.to_string());
                    }
                }
                "affiliation" => {
                    if crate::model::Affiliation::parse(value).is_none() {
                        return Err(bad("state, independent or unknown"));
                    }
                    p.affiliation = Some(value.to_string());
                }
                "country" => {
                    let code = crate::model::parse_country(value)
                        .ok_or_else(|| bad("a 2-letter country code like CN or RU"))?;
                    p.country = Some(code);
                }
                "since" | "until" => {
                    let day = search::parse_day(value)
                        .map_err(|m| WebError::bad_request(format!("parameter {key}: {m}")))?;
                    if key == "since" {
                        p.since = Some(day);
                    } else {
                        p.until = Some(day);
                    }
                }
                "sort" => {
                    p.sort = match value {
                        "relevance" => Sort::Relevance,
                        "newest" => Sort::Newest,
                        "oldest" => Sort::Oldest,
                        "changed" => Sort::Changed,
                        _ => return Err(bad("relevance, newest, oldest or changed")),
                    }
                }
                "page" => {
                    p.page = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| bad("a page number from 1"))?;
                }
                "size" => {
                    p.size = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=limits.max_page_size).contains(n))
                        .ok_or_else(|| {
                            bad(&format!("a page size from 1 to {}", limits.max_page_size))
                        })?;
                }
                other => {
                    return Err(WebError::bad_request(format!(
                    "unknown parameter {other:?} (known: q, {}, since, until, sort, page, size)",
                    FILTERS.join(", ")
                )))
                }
            }
        }
        if let (Some(a), Some(b)) = (p.since, p.until) {
            if a > b {
                return Err(WebError::bad_request(format!(
                    "parameter since={a} is after until={b}"
                )));
            }
        }
        if p.offset().saturating_add(p.size) > limits.max_offset {
            return Err(WebError::bad_request(format!(
                "page {} of size {} is beyond the deepest result served ({}): narrow the search or export it",
                p.page, p.size, limits.max_offset
            )));
        }
        Ok(p)
    }

    /// Hits skipped before this page.
    pub fn offset(&self) -> usize {
        (self.page - 1).saturating_mul(self.size)
    }

    /// The library request for hits up to the end of this page.
    pub fn to_request(&self) -> SearchRequest {
        SearchRequest {
            query: self.q.clone(),
            lang: self.lang.clone(),
            country: self.country.clone(),
            script: self.script.clone(),
            campaign: self.campaign.clone(),
            feed: self.feed.clone(),
            affiliation: self.affiliation.clone(),
            since: self.since,
            until: self.until,
            limit: self.offset() + self.size,
            sort: self.sort,
            changed: false,
        }
    }

    /// The value of a filter parameter by name.
    pub fn filter(&self, name: &str) -> Option<&str> {
        match name {
            "lang" => self.lang.as_deref(),
            "script" => self.script.as_deref(),
            "campaign" => self.campaign.as_deref(),
            "feed" => self.feed.as_deref(),
            "affiliation" => self.affiliation.as_deref(),
            "country" => self.country.as_deref(),
            _ => None,
        }
    }

    fn set_filter(&mut self, name: &str, value: Option<String>) {
        match name {
            "lang" => self.lang = value,
            "script" => self.script = value,
            "campaign" => self.campaign = value,
            "feed" => self.feed = value,
            "affiliation" => self.affiliation = value,
            "country" => self.country = value,
            _ => {}
        }
    }

    /// These parameters with one filter set (or cleared), back on page 1.
    pub fn with_filter(&self, name: &str, value: Option<&str>) -> SearchParams {
        let mut p = self.clone();
        p.set_filter(name, value.map(str::to_string));
        p.page = 1;
        p
    }

    /// These parameters on another page.
    pub fn with_page(&self, page: usize) -> SearchParams {
        SearchParams {
            page,
            ..self.clone()
        }
    }

    /// These parameters with a date range, back on page 1.
    pub fn with_range(&self, since: NaiveDate, until: NaiveDate) -> SearchParams {
        SearchParams {
            since: Some(since),
            until: Some(until),
            page: 1,
            ..self.clone()
        }
    }

    /// The query string (without `?`); defaults are left out.
    pub fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            s.append_pair("q", &self.q);
        }
        for name in FILTERS {
            if let Some(v) = self.filter(name) {
                s.append_pair(name, v);
            }
        }
        if let Some(d) = self.since {
            s.append_pair("since", &d.to_string());
        }
        if let Some(d) = self.until {
            s.append_pair("until", &d.to_string());
        }
        match self.sort {
            Sort::Relevance => {}
            Sort::Newest => {
                s.append_pair("sort", "newest");
            }
            Sort::Oldest => {
                s.append_pair("sort", "oldest");
            }
            Sort::Changed => {
                s.append_pair("sort", "changed");
            }
        }
        if self.page != 1 {
            s.append_pair("page", &self.page.to_string());
        }
        if self.size != DEFAULT_PAGE_SIZE {
            s.append_pair("size", &self.size.to_string());
        }
        s.finish()
    }

    /// `path?query` for these parameters.
    pub fn href(&self, path: &str) -> String {
        let q = self.query_string();
        if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{q}")
        }
    }

    /// The same search without paging (exports, Atom).
    pub fn unpaged(&self) -> SearchParams {
        SearchParams {
            page: 1,
            size: DEFAULT_PAGE_SIZE,
            ..self.clone()
        }
    }
}

/// The distinctive-terms parameters beside a search's (`/search?terms=1`, `/api/terms`): `terms`
/// (1: show the panel), `vs` (a background query), `terms_limit` (terms listed, 1 to 200).
#[derive(Debug, Clone, PartialEq)]
pub struct TermsParams {
    /// Whether the panel is asked for.
    pub show: bool,
    /// The background query (absent: the whole archive).
    pub vs: Option<String>,
    /// Terms listed.
    pub limit: usize,
}

/// Terms listed when `terms_limit` is not given.
pub const DEFAULT_TERMS_LIMIT: usize = 25;
/// The most terms one page or API call lists.
pub const MAX_TERMS_LIMIT: usize = 200;

/// Takes the [`TermsParams`] out of a raw query string: them, and the rest for [`SearchParams::parse`].
pub fn take_terms_params(raw: Option<&str>) -> Result<(String, TermsParams), WebError> {
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    let mut t = TermsParams {
        show: false,
        vs: None,
        limit: DEFAULT_TERMS_LIMIT,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        let name = match key.as_ref() {
            "terms" => "terms",
            "vs" => "vs",
            "terms_limit" => "terms_limit",
            _ => {
                rest.append_pair(&key, &value);
                continue;
            }
        };
        if seen.contains(&name) {
            return Err(WebError::bad_request(format!(
                "parameter {name:?} is given twice"
            )));
        }
        seen.push(name);
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let bad = |what: &str| {
            WebError::bad_request(format!("parameter {name}={value:?}: expected {what}"))
        };
        match name {
            "terms" => {
                t.show = match value {
                    "1" | "true" => true,
                    "0" | "false" => false,
                    _ => return Err(bad("1 or 0")),
                }
            }
            "vs" => {
                if value.len() > 2000 {
                    return Err(bad("a query of at most 2000 bytes"));
                }
                search::check_query(value)
                    .map_err(|e| WebError::bad_request(format!("parameter vs: {e}")))?;
                t.vs = Some(value.to_string());
            }
            _ => {
                t.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_TERMS_LIMIT).contains(n))
                    .ok_or_else(|| {
                        bad(&format!("a number of terms from 1 to {MAX_TERMS_LIMIT}"))
                    })?;
            }
        }
    }
    Ok((rest.finish(), t))
}

impl TermsParams {
    /// These parameters after a search's query string `base` (`path?...`), with `terms=1`.
    pub fn href(&self, base: &str) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("terms", "1");
        if let Some(vs) = &self.vs {
            s.append_pair("vs", vs);
        }
        if self.limit != DEFAULT_TERMS_LIMIT {
            s.append_pair("terms_limit", &self.limit.to_string());
        }
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}{}", s.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> Result<SearchParams, String> {
        SearchParams::parse(Some(q), &WebSettings::default()).map_err(|e| e.message)
    }

    #[test]
    fn parses_filters_and_round_trips_to_links() {
        let p = parse("q=taiwan+%22peaceful+reunification%22&lang=en&script=hans&country=cn&since=2026-11-01&until=2026-11-30&sort=newest&page=2&size=10&feed=").unwrap();
        assert_eq!(p.q, "taiwan \"peaceful reunification\"");
        assert_eq!(p.script.as_deref(), Some("Hans"));
        assert_eq!(p.country.as_deref(), Some("CN"));
        assert_eq!(p.feed, None);
        assert_eq!((p.page, p.size, p.offset()), (2, 10, 10));
        assert_eq!(parse(&p.query_string()).unwrap(), p);
        let r = p.to_request();
        assert_eq!(r.query, "taiwan \"peaceful reunification\"");
        assert_eq!(
            (r.script.as_deref(), r.country.as_deref()),
            (Some("Hans"), Some("CN"))
        );
        assert_eq!(r.limit, 20);
        let f = p.with_filter("lang", None);
        assert_eq!((f.lang.as_deref(), f.page), (None, 1));
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for (q, needle) in [
            ("since=yesterday", "since"),
            ("lang=EN", "lang=\"EN\""),
            ("page=0", "page"),
            ("size=100000", "size"),
            ("sort=best", "sort"),
            ("campaign=No%20Way", "campaign"),
            ("q=a&q=b", "twice"),
            ("colour=red", "unknown parameter \"colour\""),
            ("since=2026-11-02&until=2026-11-01", "after"),
            ("page=100000&size=100", "deepest"),
            ("affiliation=friendly", "affiliation"),
        ] {
            let err = parse(q).unwrap_err();
            assert!(err.contains(needle), "{q}: {err}");
        }
    }
}
