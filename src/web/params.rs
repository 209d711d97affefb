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
    /// The timeline as attention share: each bucket's total (archived articles under the same source
    /// filters) and share (`normalize=1`).
    pub normalize: bool,
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
            if p.set_filter_param(&key, value)? {
                continue;
            }
            match key.as_ref() {
                "q" => p.q = value.to_string(),
                "normalize" => p.normalize = parse_flag(&key, value)?,
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
                    "unknown parameter {other:?} (known: q, {}, since, until, sort, page, size, normalize)",
                    FILTERS.join(", ")
                )))
                }
            }
        }
        p.check_dates()?;
        if p.offset().saturating_add(p.size) > limits.max_offset {
            return Err(WebError::bad_request(format!(
                "page {} of size {} is beyond the deepest result served ({}): narrow the search or export it",
                p.page, p.size, limits.max_offset
            )));
        }
        Ok(p)
    }

    /// Checks and sets a filter parameter (`lang`, `script`, `campaign`, `feed`, `affiliation`,
    /// `country`, `since`, `until`; a non-empty trimmed value): `Ok(false)` when `key` is none of them.
    /// The one check of the search filters, shared by every route that takes them (`/compare` too).
    pub fn set_filter_param(&mut self, key: &str, value: &str) -> Result<bool, WebError> {
        let bad = |what: &str| {
            WebError::bad_request(format!("parameter {key}={value:?}: expected {what}"))
        };
        match key {
            "lang" => {
                if !(2..=3).contains(&value.len()) || !value.bytes().all(|b| b.is_ascii_lowercase())
                {
                    return Err(bad("a language code like en, zh or und"));
                }
                self.lang = Some(value.to_string());
            }
            "script" => {
                if value.len() != 4 || !value.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(bad("a 4-letter script code like Hans, Latn or Cyrl"));
                }
                let mut s = value.to_ascii_lowercase();
                s[..1].make_ascii_uppercase();
                self.script = Some(s);
            }
            "campaign" | "feed" => {
                crate::config::check_id(value).map_err(|m| bad(&format!("an id ({m})")))?;
                if key == "campaign" {
                    self.campaign = Some(value.to_string());
                } else {
                    self.feed = Some(value.to_string());
                }
            }
            "affiliation" => {
                if crate::model::Affiliation::parse(value).is_none() {
                    return Err(bad("state, independent or unknown"));
                }
                self.affiliation = Some(value.to_string());
            }
            "country" => {
                let code = crate::model::parse_country(value)
                    .ok_or_else(|| bad("a 2-letter country code like CN or RU"))?;
                self.country = Some(code);
            }
            "since" | "until" => {
                let day = search::parse_day(value)
                    .map_err(|m| WebError::bad_request(format!("parameter {key}: {m}")))?;
                if key == "since" {
                    self.since = Some(day);
                } else {
                    self.until = Some(day);
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// A 400 when `since` is after `until`.
    pub fn check_dates(&self) -> Result<(), WebError> {
        if let (Some(a), Some(b)) = (self.since, self.until) {
            if a > b {
                return Err(WebError::bad_request(format!(
                    "parameter since={a} is after until={b}"
                )));
            }
        }
        Ok(())
    }

    /// Hits skipped before this page.
    pub fn offset(&self) -> usize {
        (self.page - 1).saturating_mul(self.size)
    }

    /// The library request for the hits of this page.
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
            limit: self.size,
            offset: self.offset(),
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

    /// These parameters with the timeline as counts or as shares.
    pub fn with_normalize(&self, normalize: bool) -> SearchParams {
        SearchParams {
            normalize,
            ..self.clone()
        }
    }

    fn append_filters(&self, s: &mut url::form_urlencoded::Serializer<'_, String>) {
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
    }

    /// The query string (without `?`); defaults are left out.
    pub fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            s.append_pair("q", &self.q);
        }
        self.append_filters(&mut s);
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
        if self.normalize {
            s.append_pair("normalize", "1");
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

/// A yes/no parameter: `1`, `true` or `on` (a checkbox), `0` or `false`.
pub fn parse_flag(key: &str, value: &str) -> Result<bool, WebError> {
    match value {
        "1" | "true" | "on" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(WebError::bad_request(format!(
            "parameter {key}={value:?}: expected 1 or 0"
        ))),
    }
}

/// The parameters of `/compare`, `/compare.csv` and `/api/compare`: `q` once per query (empty ones
/// skipped, at most [`search::MAX_QUERIES`]), `by`, `interval` (default week), `normalize`, and the
/// search filters checked by [`SearchParams::set_filter_param`].
#[derive(Debug, Clone, PartialEq)]
pub struct CompareParams {
    /// The queries, in order.
    pub queries: Vec<String>,
    /// The filters (its `q` and paging unused).
    pub filters: SearchParams,
    /// Split field.
    pub by: Option<search::By>,
    /// Period width.
    pub interval: search::Interval,
    /// Totals and shares.
    pub normalize: bool,
}

impl CompareParams {
    /// Parses a raw query string; every bad value is a 400 naming the parameter.
    pub fn parse(raw: Option<&str>) -> Result<CompareParams, WebError> {
        let mut p = CompareParams {
            queries: Vec::new(),
            filters: SearchParams {
                page: 1,
                size: DEFAULT_PAGE_SIZE,
                ..Default::default()
            },
            by: None,
            interval: search::Interval::Week,
            normalize: false,
        };
        let mut seen: Vec<String> = Vec::new();
        let mut queries_given = 0usize;
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            if key != "q" {
                if seen.iter().any(|k| *k == key) {
                    return Err(WebError::bad_request(format!(
                        "parameter {key:?} is given twice"
                    )));
                }
                seen.push(key.to_string());
            }
            let value = value.trim();
            if value.len() > 2000 {
                return Err(WebError::bad_request(format!(
                    "parameter {key:?} is longer than 2000 bytes"
                )));
            }
            if key == "q" {
                // Empty boxes of the form are skipped; the cap counts what is compared.
                if !value.is_empty() {
                    queries_given += 1;
                    if queries_given > search::MAX_QUERIES {
                        return Err(WebError::bad_request(format!(
                            "parameter q: at most {} queries",
                            search::MAX_QUERIES
                        )));
                    }
                    p.queries.push(value.to_string());
                }
                continue;
            }
            if value.is_empty() || p.filters.set_filter_param(&key, value)? {
                continue;
            }
            match key.as_ref() {
                "by" => {
                    p.by = Some(search::By::parse(value).ok_or_else(|| {
                        WebError::bad_request(format!(
                            "parameter by={value:?}: expected affiliation, feed, country or lang"
                        ))
                    })?)
                }
                "interval" => {
                    p.interval = search::Interval::parse(value).ok_or_else(|| {
                        WebError::bad_request(format!(
                            "parameter interval={value:?}: expected day, week or month"
                        ))
                    })?
                }
                "normalize" => p.normalize = parse_flag(&key, value)?,
                other => {
                    return Err(WebError::bad_request(format!(
                        "unknown parameter {other:?} (known: q (repeatable), by, interval, normalize, {}, since, until)",
                        FILTERS.join(", ")
                    )))
                }
            }
        }
        p.filters.check_dates()?;
        Ok(p)
    }

    /// The library request.
    pub fn to_request(&self) -> search::CompareRequest {
        search::CompareRequest {
            queries: self.queries.clone(),
            filters: SearchRequest {
                query: String::new(),
                ..self.filters.to_request()
            },
            by: self.by,
            interval: self.interval,
            normalize: self.normalize,
        }
    }

    /// The query string (without `?`); defaults left out.
    pub fn query_string(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for q in &self.queries {
            s.append_pair("q", q);
        }
        if let Some(by) = self.by {
            s.append_pair("by", by.field());
        }
        if self.interval != search::Interval::Week {
            s.append_pair("interval", self.interval.as_str());
        }
        if self.normalize {
            s.append_pair("normalize", "1");
        }
        self.filters.append_filters(&mut s);
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
            "terms" => t.show = parse_flag(name, value)?,
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
        assert_eq!((r.limit, r.offset), (10, 10));
        let f = p.with_filter("lang", None);
        assert_eq!((f.lang.as_deref(), f.page), (None, 1));
        let n = parse("q=x&normalize=1").unwrap();
        assert!(n.normalize);
        assert_eq!(parse(&n.query_string()).unwrap(), n);
        assert!(!n.with_normalize(false).query_string().contains("normalize"));
    }

    #[test]
    fn compare_parameters_take_the_search_filters_and_repeat_q() {
        let p = CompareParams::parse(Some(
            "q=taiwan&q=&q=ukraine&by=affiliation&interval=month&normalize=1&country=cn&since=2026-01-01",
        ))
        .unwrap();
        assert_eq!(p.queries, ["taiwan", "ukraine"]);
        assert_eq!(p.by, Some(search::By::Affiliation));
        assert_eq!(p.interval, search::Interval::Month);
        assert!(p.normalize);
        assert_eq!(p.filters.country.as_deref(), Some("CN"));
        assert_eq!(CompareParams::parse(Some(&p.query_string())).unwrap(), p);
        let r = p.to_request();
        assert_eq!((r.filters.query.as_str(), r.queries.len()), ("", 2));
        let err = |q: &str| CompareParams::parse(Some(q)).unwrap_err().message;
        assert!(
            err("q=a&by=colour").contains("by=\"colour\""),
            "{}",
            err("q=a&by=colour")
        );
        assert!(err("q=a&interval=year").contains("interval"));
        assert!(err("q=a&lang=EN").contains("lang=\"EN\""));
        assert!(err("q=a&since=2026-02-01&until=2026-01-01").contains("after"));
        assert!(err("q=a&by=lang&by=feed").contains("twice"));
        let many: String = (0..11).map(|i| format!("q=w{i}&")).collect();
        assert!(err(&many).contains("at most 10 queries"), "{}", err(&many));
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
            ("normalize=maybe", "normalize"),
        ] {
            let err = parse(q).unwrap_err();
            assert!(err.contains(needle), "{q}: {err}");
        }
    }
}
