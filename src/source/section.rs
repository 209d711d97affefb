//! Section and listing pages (`kind = "html"`): the article links a CSS selector picks, resolved,
//! deduplicated and filtered by the source's rules. Titles are the links' text; a section page gives no
//! dates (the article pages do, once fetched).
//!
//! `same_site` is decided without a public suffix list, by this rule: two hosts are of one site when their
//! last two labels agree, or their last three when the second-to-last label is a common second-level label
//! under a two-letter country TLD (`co`, `com`, `net`, `org`, `gov`, `edu`, `ac`, `or`, `ne`, `go`), so
//! `news.bbc.co.uk` ~ `www.bbc.co.uk` and `english.cctv.com` ~ `tv.cctv.com` but `a.example.co.uk` !~
//! `b.other.co.uk`; IP addresses must be equal. Shared hosting suffixes (`github.io`, `blogspot.com`) make
//! unrelated sites look like one; the include/exclude regexes are there for those.
//!
//! A selector that matches nothing is an error (the page's layout changed, or the selector is wrong), not a
//! silent empty listing; links that the rules filter out all leave an empty listing with a notice.

use std::collections::{HashMap, HashSet};

use scraper::{ElementRef, Html, Selector};
use url::{Host, Url};

use super::{Listing, SourceError};
use crate::model::{Entry, SourceKind};

/// Second-level labels under a two-letter country TLD that are not a registrable domain of their own
/// (`bbc.co.uk`, `gov.cn`): see the module docs.
const SECOND_LEVEL_LABELS: [&str; 10] = [
    "co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go",
];

/// Which links of a section page are articles.
#[derive(Debug, Clone)]
pub struct LinkRules {
    /// CSS selector of the links (or of elements holding one).
    pub selector: String,
    /// A link must match one of these when any are given.
    pub include: Vec<regex::Regex>,
    /// A link matching one of these is dropped.
    pub exclude: Vec<regex::Regex>,
    /// Only links to the page's own site.
    pub same_site: bool,
}

impl LinkRules {
    /// The rules of an html source (None for other kinds). The config has checked the selector and regexes.
    pub fn from_kind(kind: &SourceKind) -> Option<LinkRules> {
        let SourceKind::Html {
            link_selector,
            include,
            exclude,
            same_site,
        } = kind
        else {
            return None;
        };
        let compile = |list: &[String]| -> Vec<regex::Regex> {
            list.iter()
                .filter_map(|r| regex::Regex::new(r).ok())
                .collect()
        };
        Some(LinkRules {
            selector: link_selector.clone(),
            include: compile(include),
            exclude: compile(exclude),
            same_site: *same_site,
        })
    }
}

/// Reads a section page: the links `rules` pick, resolved against the page's base URL (its `<base href>`
/// when absolute http(s), else `base`), http(s) only, without fragment, deduplicated in document order,
/// links to the page itself dropped, then filtered by `same_site`, `include` and `exclude`.
///
/// Each element the selector matches gives its own `href` when it is an `<a href>`, else the first
/// `a[href]` inside it. The title is the link's text, else its `title` attribute, else the matched
/// element's text (a later duplicate supplies a title the first occurrence lacked).
pub fn parse(
    feed_id: &str,
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
    rules: &LinkRules,
) -> Result<Listing, SourceError> {
    let selector = Selector::parse(&rules.selector).map_err(|e| {
        SourceError(format!(
            "link_selector {:?} is not a valid CSS selector: {e}",
            rules.selector
        ))
    })?;
    let text = crate::charset::decode(bytes, content_type).text;
    let doc = Html::parse_document(&crate::extract::prepare_for_parsing(&text));
    let doc_base = document_base(&doc).unwrap_or_else(|| base.clone());
    let mut page = base.clone();
    page.set_fragment(None);

    let mut listing = Listing {
        title: page_title(&doc),
        ..Listing::default()
    };
    let mut matched = 0usize;
    let mut links = 0usize; // http(s) links found, before dropping any
    let mut drops = Drops::default();
    // Position in `listing.entries` of each link kept, by URL.
    let mut kept: HashMap<String, usize> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();

    for el in doc.select(&selector) {
        matched += 1;
        let Some(anchor) = el
            .descendent_elements()
            .find(|e| e.value().name() == "a" && e.value().attr("href").is_some())
        else {
            continue;
        };
        let Some(url) = anchor
            .value()
            .attr("href")
            .and_then(|h| doc_base.join(h.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        else {
            continue;
        };
        let mut url = url;
        url.set_fragment(None);
        links += 1;
        if url == page {
            drops.self_links += 1;
            continue;
        }
        let title = link_title(anchor, el);
        if !seen.insert(url.as_str().to_string()) {
            // A duplicate: it may name an article whose first link was an image.
            if let (Some(&i), Some(title)) = (kept.get(url.as_str()), title) {
                if let Some(entry) = listing.entries.get_mut(i) {
                    entry.title.get_or_insert(title);
                }
            }
            continue;
        }
        if rules.same_site && !same_site(&url, base) {
            drops.same_site += 1;
            continue;
        }
        if !rules.include.is_empty() && !rules.include.iter().any(|r| r.is_match(url.as_str())) {
            drops.include += 1;
            continue;
        }
        if rules.exclude.iter().any(|r| r.is_match(url.as_str())) {
            drops.exclude += 1;
            continue;
        }
        kept.insert(url.as_str().to_string(), listing.entries.len());
        let mut entry = Entry::new(feed_id, url);
        entry.title = title;
        listing.entries.push(entry);
    }

    if matched == 0 {
        return Err(SourceError(format!(
            "link_selector {:?} matched nothing on the page (the layout may have changed)",
            rules.selector
        )));
    }
    if links == 0 {
        return Err(SourceError(format!(
            "link_selector {:?} matched {matched} element{} but none holds an http(s) link \
             (an <a href> or an element containing one)",
            rules.selector,
            if matched == 1 { "" } else { "s" }
        )));
    }
    if listing.entries.is_empty() {
        listing.notices.push(format!(
            "all {} distinct links that link_selector {:?} picked were dropped: {}",
            drops.total(),
            rules.selector,
            drops.describe()
        ));
    }
    Ok(listing)
}

/// Links dropped, by the rule that dropped them.
#[derive(Debug, Default)]
struct Drops {
    self_links: usize,
    same_site: usize,
    include: usize,
    exclude: usize,
}

impl Drops {
    fn total(&self) -> usize {
        self.self_links + self.same_site + self.include + self.exclude
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = [
            (self.same_site, "by same_site (another site)"),
            (self.include, "by include (no pattern matched)"),
            (self.exclude, "by exclude"),
            (self.self_links, "as links to the page itself"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, why)| format!("{n} {why}"))
        .collect();
        parts.join(", ")
    }
}

/// The page's `<base href>`, when it is an absolute http(s) URL.
fn document_base(doc: &Html) -> Option<Url> {
    let href = doc
        .root_element()
        .descendent_elements()
        .find(|e| e.value().name() == "base" && e.value().attr("href").is_some())?
        .value()
        .attr("href")?;
    Url::parse(href.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// The page's `<title>`, whitespace collapsed; `None` when absent or blank.
fn page_title(doc: &Html) -> Option<String> {
    let title = doc
        .root_element()
        .descendent_elements()
        .find(|e| e.value().name() == "title")?;
    Some(collapse(&title.text().collect::<String>())).filter(|t| !t.is_empty())
}

/// The link's text, else its `title` attribute, else the text of the element the selector matched.
fn link_title(anchor: ElementRef<'_>, matched: ElementRef<'_>) -> Option<String> {
    let text = collapse(&anchor.text().collect::<String>());
    if !text.is_empty() {
        return Some(text);
    }
    if let Some(t) = anchor
        .value()
        .attr("title")
        .map(collapse)
        .filter(|t| !t.is_empty())
    {
        return Some(t);
    }
    Some(collapse(&matched.text().collect::<String>())).filter(|t| !t.is_empty())
}

/// Whether `url` is on the site of `page` (see the module docs for the rule).
fn same_site(url: &Url, page: &Url) -> bool {
    match (url.host(), page.host()) {
        (Some(Host::Domain(a)), Some(Host::Domain(b))) => {
            site_of(a).eq_ignore_ascii_case(site_of(b))
        }
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The registrable part of a host name by the module's rule: its last two labels, or last three under a
/// common second-level label of a two-letter country TLD.
fn site_of(host: &str) -> &str {
    let host = host.trim_end_matches('.');
    let labels: Vec<&str> = host.rsplit('.').collect();
    let keep = match labels.as_slice() {
        [tld, second, _, ..]
            if tld.len() == 2
                && SECOND_LEVEL_LABELS
                    .iter()
                    .any(|l| l.eq_ignore_ascii_case(second)) =>
        {
            3
        }
        _ => 2,
    };
    if labels.len() <= keep {
        return host;
    }
    // The byte offset where the last `keep` labels start.
    let tail: usize = labels[..keep].iter().map(|l| l.len()).sum::<usize>() + keep - 1;
    &host[host.len() - tail..]
}

/// Runs of whitespace as single spaces, trimmed.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORLD: &str = include_str!("../../tests/fixtures/site/sections/world.html");
    const PAGE: &str = "http://127.0.0.1:8000/sections/world.html";

    fn rules(selector: &str, include: &[&str], exclude: &[&str], same_site: bool) -> LinkRules {
        let compile = |l: &[&str]| l.iter().map(|r| regex::Regex::new(r).unwrap()).collect();
        LinkRules {
            selector: selector.into(),
            include: compile(include),
            exclude: compile(exclude),
            same_site,
        }
    }

    fn read(html: &str, base: &str, rules: &LinkRules) -> Result<Listing, SourceError> {
        parse(
            "sec",
            html.as_bytes(),
            Some("text/html"),
            &Url::parse(base).unwrap(),
            rules,
        )
    }

    fn urls(l: &Listing) -> Vec<&str> {
        l.entries.iter().map(|e| e.url.as_str()).collect()
    }

    fn titles(l: &Listing) -> Vec<Option<&str>> {
        l.entries.iter().map(|e| e.title.as_deref()).collect()
    }

    #[test]
    fn headline_links_resolved_deduplicated_in_order() {
        let l = read(WORLD, PAGE, &rules("ul.headlines li a", &[], &[], false)).unwrap();
        assert_eq!(
            urls(&l),
            [
                "http://127.0.0.1:8000/articles/en/drills.html",
                "http://127.0.0.1:8000/articles/en/kyiv-talks.html",
                "http://127.0.0.1:8000/articles/ru/tayvan.html",
                "http://127.0.0.1:8000/articles/ru/sochi.html",
                "http://127.0.0.1:8000/video/2026/11/parade-rehearsal.html",
                "https://www.partner-news.example/world/ukraine-talks.html",
                "http://127.0.0.1:8000/articles/zh-hans/taihai.html",
            ],
            "fragments dropped, duplicates once, javascript: and #comments (this page) left out"
        );
        assert_eq!(
            titles(&l),
            [
                Some("PLA Eastern Theater Command conducts joint combat readiness patrol around Taiwan island"),
                Some("Moscow says any Ukraine settlement must include 'denazification'"),
                Some("В Пекине заявили, что воссоединение с Тайванем неизбежно"),
                Some("Sochi opens ski season"),
                Some("Video: parade rehearsal in the capital"),
                Some("Partner site: Ukraine talks resume"),
                Some("东部战区在台湾海峡及台岛周边组织联合战备警巡"),
            ],
            "link text, else the title attribute, else a later duplicate's text"
        );
        assert_eq!(l.title.as_deref(), Some("World - China Horizon Daily"));
        assert!(l.notices.is_empty());
        assert_eq!(l.older, None);
        for e in &l.entries {
            assert_eq!(e.feed_id, "sec");
            assert_eq!(e.published, None, "a section page gives no dates");
            assert_eq!(e.post, None);
        }
    }

    #[test]
    fn selector_on_items_takes_their_first_link_and_their_text() {
        let l = read(WORLD, PAGE, &rules("ul.headlines li", &[], &[], false)).unwrap();
        assert_eq!(l.entries.len(), 7);
        assert_eq!(l.entries[3].url.path(), "/articles/ru/sochi.html");
        assert_eq!(
            l.entries[3].title.as_deref(),
            Some("В Сочи открылся горнолыжный сезон"),
            "an image link's title comes from the matched element's text"
        );
    }

    #[test]
    fn exclude_and_same_site() {
        let l = read(
            WORLD,
            PAGE,
            &rules("ul.headlines a", &[], &["/video/"], true),
        )
        .unwrap();
        let paths: Vec<&str> = l.entries.iter().map(|e| e.url.path()).collect();
        assert_eq!(
            paths,
            [
                "/articles/en/drills.html",
                "/articles/en/kyiv-talks.html",
                "/articles/ru/tayvan.html",
                "/articles/ru/sochi.html",
                "/articles/zh-hans/taihai.html",
            ]
        );
        let off_site = read(WORLD, PAGE, &rules("ul.headlines a", &[], &[], true)).unwrap();
        assert_eq!(
            off_site.entries.len(),
            6,
            "only the partner site's link is dropped"
        );
    }

    #[test]
    fn include_keeps_only_matching_links() {
        let l = read(
            WORLD,
            PAGE,
            &rules("ul.headlines a", &[r"/articles/ru/"], &[], false),
        )
        .unwrap();
        let paths: Vec<&str> = l.entries.iter().map(|e| e.url.path()).collect();
        assert_eq!(
            paths,
            ["/articles/ru/tayvan.html", "/articles/ru/sochi.html"]
        );
        let either = read(
            WORLD,
            PAGE,
            &rules("ul.headlines a", &[r"/ru/", r"zh-hans"], &[], false),
        )
        .unwrap();
        assert_eq!(either.entries.len(), 3);
    }

    #[test]
    fn all_links_filtered_out_gives_a_notice() {
        let l = read(
            WORLD,
            PAGE,
            &rules("ul.headlines a", &[r"/opinion/"], &[], false),
        )
        .unwrap();
        assert!(l.entries.is_empty());
        assert_eq!(
            l.notices,
            [
                "all 8 distinct links that link_selector \"ul.headlines a\" picked were dropped: \
                 7 by include (no pattern matched), 1 as links to the page itself"
            ]
        );
        let l = read(WORLD, PAGE, &rules("ul.headlines a", &[], &["."], true)).unwrap();
        assert!(l.entries.is_empty());
        assert!(
            l.notices[0].contains("1 by same_site (another site), 6 by exclude"),
            "{:?}",
            l.notices
        );
    }

    #[test]
    fn whole_page_selector_drops_the_self_link_and_non_http_links() {
        let l = read(WORLD, PAGE, &rules("a", &[], &[], false)).unwrap();
        let all = urls(&l);
        assert!(!all.contains(&PAGE), "the nav's link to this section");
        assert!(all.iter().all(|u| u.starts_with("http")), "{all:?}");
        assert!(all.contains(&"http://127.0.0.1:8000/"));
        assert!(all.contains(&"http://127.0.0.1:8000/articles/en/marathon.html"));
        assert!(!all.iter().any(|u| u.starts_with("mailto:")));
        let mut unique = all.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
    }

    #[test]
    fn selector_matching_nothing_is_an_error() {
        let err = read(WORLD, PAGE, &rules("div.story-list a", &[], &[], false)).unwrap_err();
        assert_eq!(
            err.0,
            "link_selector \"div.story-list a\" matched nothing on the page (the layout may have changed)"
        );
    }

    #[test]
    fn selector_matching_elements_without_links_is_an_error() {
        let err = read(WORLD, PAGE, &rules("ul.headlines li.more", &[], &[], false)).unwrap_err();
        assert!(
            err.0
                .contains("matched 1 element but none holds an http(s) link"),
            "{err}"
        );
        let js_only = "<ul class=\"x\"><li><a href=\"javascript:void(0)\">a</a></li><li><a>no href</a></li></ul>";
        let err = read(js_only, PAGE, &rules("ul.x li", &[], &[], false)).unwrap_err();
        assert!(err.0.contains("matched 2 elements but none"), "{err}");
    }

    #[test]
    fn invalid_selector_is_an_error() {
        let err = read(WORLD, PAGE, &rules("ul[", &[], &[], false)).unwrap_err();
        assert!(
            err.0
                .starts_with("link_selector \"ul[\" is not a valid CSS selector"),
            "{err}"
        );
    }

    #[test]
    fn base_href_is_honoured_when_absolute_http() {
        let html =
            "<html><head><base href=\"https://static.example.com/news/\"><title>t</title></head>\
                    <body><a class=\"s\" href=\"2026/story.html\">Story</a></body></html>";
        let l = read(
            html,
            "https://www.example.com/section/",
            &rules("a.s", &[], &[], false),
        )
        .unwrap();
        assert_eq!(
            urls(&l),
            ["https://static.example.com/news/2026/story.html"]
        );
        let l = read(
            html,
            "https://www.example.com/section/",
            &rules("a.s", &[], &[], true),
        )
        .unwrap();
        assert_eq!(
            l.entries.len(),
            1,
            "static.example.com is of www.example.com's site"
        );

        for base_href in ["/other/", "ftp://files.example.com/", "javascript:x"] {
            let html = html.replace("https://static.example.com/news/", base_href);
            let l = read(
                &html,
                "https://www.example.com/section/",
                &rules("a.s", &[], &[], false),
            )
            .unwrap();
            assert_eq!(
                urls(&l),
                ["https://www.example.com/section/2026/story.html"],
                "{base_href}"
            );
        }
    }

    #[test]
    fn site_rule() {
        let same = |a: &str, b: &str| same_site(&Url::parse(a).unwrap(), &Url::parse(b).unwrap());
        assert!(same("https://news.bbc.co.uk/x", "https://www.bbc.co.uk/"));
        assert!(same("https://english.cctv.com/x", "http://tv.cctv.com/"));
        assert!(same("https://WWW.Example.com/", "https://example.com./"));
        assert!(same(
            "https://a.b.example.gov.cn/",
            "https://www.example.gov.cn/"
        ));
        assert!(same("https://localhost:8080/a", "http://localhost/b"));
        assert!(same("http://127.0.0.1:8000/a", "http://127.0.0.1:9000/b"));
        assert!(same("http://[::1]/a", "http://[::1]:80/b"));
        assert!(!same("https://a.example.co.uk/", "https://b.other.co.uk/"));
        assert!(!same("https://example.com/", "https://example.org/"));
        assert!(!same("https://cctv.com/", "https://cctv.com.evil.example/"));
        assert!(!same("http://127.0.0.1/", "http://127.0.0.2/"));
        assert!(!same("http://127.0.0.1/", "http://localhost/"));
        assert!(!same("http://[::1]/", "http://127.0.0.1/"));
        assert_eq!(site_of("news.bbc.co.uk"), "bbc.co.uk");
        assert_eq!(site_of("co.uk"), "co.uk");
        assert_eq!(site_of("www.example.de"), "example.de");
        assert_eq!(site_of("a.b.c.example.com"), "example.com");
    }

    #[test]
    fn charset_from_the_page_is_used() {
        let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">\
                    <title>Мир</title></head><body><ul class=\"h\"><li><a href=\"/a.html\">Новости дня</a></li></ul></body></html>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(html);
        let l = parse(
            "sec",
            &bytes,
            Some("text/html"),
            &Url::parse("https://ru.example/").unwrap(),
            &rules("ul.h a", &[], &[], false),
        )
        .unwrap();
        assert_eq!(l.title.as_deref(), Some("Мир"));
        assert_eq!(l.entries[0].title.as_deref(), Some("Новости дня"));
    }

    #[test]
    fn garbage_bytes_are_an_error_not_a_panic() {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
            .collect();
        for bytes in [&garbage[..], b"", b"\xff\xfe<a href="] {
            let err = parse(
                "g",
                bytes,
                None,
                &Url::parse(PAGE).unwrap(),
                &rules("ul.headlines a", &[], &[], false),
            )
            .unwrap_err();
            assert!(err.0.contains("matched nothing"), "{err}");
        }
    }

    #[test]
    fn hostile_deep_nesting_does_not_panic() {
        let page = |depth: usize| {
            format!(
                "<title>deep</title>{}<ul class=\"headlines\"><li><a href=\"/deep.html\">Deep</a></li></ul>{}",
                "<div>".repeat(depth),
                "</div>".repeat(depth)
            )
        };
        // Deep but within the 512 levels the pre-scan keeps: read.
        let html = page(500);
        let l = read(&html, PAGE, &rules("ul.headlines li a", &[], &[], false)).unwrap();
        assert_eq!(urls(&l), ["http://127.0.0.1:8000/deep.html"]);
        let l = read(&html, PAGE, &rules("div div div ul a", &[], &[], false)).unwrap();
        assert_eq!(l.entries.len(), 1);
        // Deeper: the tags past 512 levels are cut before parsing (html5ever's cost grows with the depth),
        // their content kept one level up, so the list is no longer a list and the selector finds
        // nothing, which is reported.
        for depth in [2_000, 100_000] {
            let rules = rules("ul.headlines li a", &[], &[], false);
            let err = read(&page(depth), PAGE, &rules).unwrap_err();
            assert!(err.0.contains("matched nothing"), "{depth}: {err}");
        }
    }

    #[test]
    fn from_kind_reads_an_html_source() {
        let kind = SourceKind::Html {
            link_selector: "ul a".into(),
            include: vec!["/news/".into()],
            exclude: vec![],
            same_site: true,
        };
        let r = LinkRules::from_kind(&kind).unwrap();
        assert_eq!(r.selector, "ul a");
        assert_eq!(r.include.len(), 1);
        assert!(r.same_site);
        assert!(LinkRules::from_kind(&SourceKind::Telegram).is_none());
    }
}
