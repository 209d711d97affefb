//! Metadata: one pass over the parsed document collects `<meta>` tags,
//! `<title>`, `<h1>`s, `<html lang>`, `<link rel=canonical>`, `<time>`s,
//! JSON-LD, author markup and visible bylines and dates ([`collect_meta`]);
//! [`build_metadata`] then picks each field of the record from them in order of
//! trust and cleans titles, authors, tags and URLs. The main text is not
//! chosen here (only the JSON-LD `articleBody` and a template body are kept
//! for `mod.rs` to weigh).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use scraper::{Html, Node};
use serde_json::Value;
use url::Url;

use super::dates::{date_in_text, future_tolerance, parse_date};
use super::dom::is_block;
use super::hints::hint_tokens;
use super::jsonld::{
    ld_all_of_type, ld_articles, ld_first, ld_names, ld_str, ld_type_rank, parse_json_lenient,
};
use super::measure::is_cjk;
use super::text::{collapse_ws, norm_key};
use crate::model::Extracted;

/// What one pass over the document collected, for [`build_metadata`].
#[derive(Debug, Default)]
pub(super) struct MetaData {
    /// Lower-case key from name/property/itemprop/http-equiv -> the contents
    /// of the `<meta>`s with that key, in document order (a page with 30 000
    /// `<meta>`s is then not scanned once per key looked up).
    metas: HashMap<String, Vec<String>>,
    title_tag: Option<String>,
    h1s: Vec<String>,
    html_lang: Option<String>,
    canonical: Option<String>,
    times: Vec<(String, bool)>,
    itemprop_authors: Vec<String>,
    rel_authors: Vec<String>,
    /// Text of elements whose class/id says byline / author.
    byline_texts: Vec<String>,
    /// Dates written in the text of elements whose class/id says date/time.
    text_dates: Vec<DateTime<Utc>>,
    ld: Vec<Value>,
    pub(super) ld_article_body: Option<String>,
    /// Markup of a `<script type="text/template">` inside the article body.
    pub(super) template_body: Option<String>,
}

impl MetaData {
    fn get(&self, key: &str) -> Option<&str> {
        self.get_all(key).next()
    }

    fn get_all<'a>(&'a self, key: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.metas
            .get(key)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn first(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|k| self.get(k))
    }
}

fn element_text(el: scraper::ElementRef<'_>) -> String {
    collapse_ws(&block_text(el, usize::MAX))
}

/// The text of `el` from its first `max_nodes` text nodes that are not all
/// whitespace, with a space where a block element or `<br>` starts or ends
/// (so `<li>A</li><li>B</li>` reads "A B", as a browser shows it, not "AB").
/// Whitespace-only text nodes add nothing a block boundary does not: their
/// presence or absence (minified HTML, the pre-scan) does not change the text.
fn block_text(el: scraper::ElementRef<'_>, max_nodes: usize) -> String {
    use ego_tree::iter::Edge;
    let mut s = String::new();
    let mut nodes = 0usize;
    for edge in el.traverse() {
        let node = match edge {
            Edge::Open(n) | Edge::Close(n) => n,
        };
        match node.value() {
            Node::Text(t) if matches!(edge, Edge::Open(_)) => {
                if t.chars().all(char::is_whitespace) {
                    if !t.is_empty() && !s.ends_with(' ') {
                        s.push(' ');
                    }
                    continue;
                }
                if nodes == max_nodes {
                    break;
                }
                nodes += 1;
                s.push_str(t);
            }
            Node::Element(e) if (is_block(e.name()) || e.name() == "br") && !s.ends_with(' ') => {
                s.push(' ');
            }
            _ => {}
        }
    }
    s
}

/// The `<meta>` attributes whose value is a metadata key (the pre-scan keeps
/// only the `<meta>`s that have one).
pub(super) const META_KEYS: [&str; 4] = ["name", "property", "itemprop", "http-equiv"];

const META_DATE: u8 = 1;
const META_TIME: u8 = 2;
const META_BYLINE: u8 = 4;
const META_AUTHOR: u8 = 8;

/// `META_*` bits of the words in `hint`, in one pass over its bytes (class
/// strings are short: a byte loop is a fraction of an automaton's set-up).
fn meta_hint_words(hint: &str) -> u8 {
    let b = hint.as_bytes();
    let mut bits = 0;
    for (i, &c) in b.iter().enumerate() {
        let (word, bit): (&[u8], u8) = match c {
            b'd' => (b"date", META_DATE),
            b't' => (b"time", META_TIME),
            b'b' => (b"byline", META_BYLINE),
            b'a' => (b"author", META_AUTHOR),
            _ => continue,
        };
        if b[i..].starts_with(word) {
            bits |= bit;
        }
    }
    bits
}

/// `el`'s attribute `name` (no namespace) by comparing names; `Element::attr`
/// interns `name` on every call.
fn attr_local<'e>(el: &'e scraper::node::Element, name: &str) -> Option<&'e str> {
    el.attrs().find(|&(k, _)| k == name).map(|(_, v)| v)
}

pub(super) fn collect_meta(doc: &Html) -> MetaData {
    let mut m = MetaData::default();
    let mut hint_buf = String::new();
    for nref in doc.tree.nodes() {
        let Some(el) = scraper::ElementRef::wrap(nref) else {
            continue;
        };
        let e = el.value();
        match e.name() {
            "html" if m.html_lang.is_none() => {
                m.html_lang = e
                    .attr("lang")
                    .or_else(|| e.attr("xml:lang"))
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty());
            }
            "meta" => {
                let content = attr_local(e, "content").unwrap_or("").to_string();
                for key in META_KEYS {
                    if let Some(k) = attr_local(e, key) {
                        for k in k.split_whitespace() {
                            let k = k.to_ascii_lowercase();
                            // "dc:creator" and "DC.creator" are the same key.
                            let k = match k.split_once(':') {
                                Some((ns @ ("dc" | "dcterms"), rest)) => format!("{ns}.{rest}"),
                                _ => k,
                            };
                            m.metas.entry(k).or_default().push(content.clone());
                        }
                    }
                }
            }
            "title" if m.title_tag.is_none() => {
                let t = capped(element_text(el));
                if !t.is_empty() {
                    m.title_tag = Some(t);
                }
            }
            "h1" if m.h1s.len() < 10 => {
                let t = capped(element_text(el));
                if !t.is_empty() {
                    m.h1s.push(t);
                }
            }
            "link" => {
                let rel = attr_local(e, "rel").unwrap_or("").to_ascii_lowercase();
                if rel.split_whitespace().any(|r| r == "canonical") && m.canonical.is_none() {
                    m.canonical = attr_local(e, "href").map(|s| s.trim().to_string());
                }
            }
            "time" => {
                if let Some(dt) = attr_local(e, "datetime") {
                    let pubdate = attr_local(e, "pubdate").is_some()
                        || attr_local(e, "itemprop")
                            .is_some_and(|v| v.eq_ignore_ascii_case("datePublished"));
                    m.times.push((dt.trim().to_string(), pubdate));
                }
            }
            "script" => {
                let ty = attr_local(e, "type").unwrap_or("").to_ascii_lowercase();
                if ty.contains("ld+json") {
                    let raw: String = el.text().collect();
                    if let Some(v) = parse_json_lenient(&raw) {
                        m.ld.push(v);
                    }
                } else if ty == "text/template" && m.template_body.is_none() {
                    // Some blog platforms ship the post body as a client-side
                    // template inside the articleBody element.
                    let in_body = el.ancestors().take(4).any(|a| {
                        a.value().as_element().is_some_and(|ae| {
                            ae.attr("itemprop")
                                .is_some_and(|v| v.eq_ignore_ascii_case("articleBody"))
                                || ae.attr("class").is_some_and(|c| c.contains("post-body"))
                        })
                    });
                    if in_body {
                        m.template_body = Some(el.text().collect());
                    }
                }
            }
            "a" => {
                let rel = attr_local(e, "rel").unwrap_or("").to_ascii_lowercase();
                if rel.split_whitespace().any(|r| r == "author") && m.rel_authors.len() < 5 {
                    let t = element_text(el);
                    if !t.is_empty() && t.chars().count() < 80 {
                        m.rel_authors.push(t);
                    }
                }
            }
            _ => {}
        }
        // One pass over the attributes (each `attr` lookup interns the name).
        let (mut class, mut id, mut itemprop) = (None, None, None);
        for (k, v) in e.attrs() {
            match k {
                "class" => class = Some(v),
                "id" => id = Some(v),
                "itemprop" => itemprop = Some(v),
                _ => {}
            }
        }
        // Lower-case "class id"; without either, no hint word can match.
        hint_buf.clear();
        if class.is_some() || id.is_some() {
            hint_buf.push_str(class.unwrap_or(""));
            hint_buf.push(' ');
            hint_buf.push_str(id.unwrap_or(""));
            hint_buf.make_ascii_lowercase();
        }
        let hint = hint_buf.as_str();
        // Which of the words tested below the hint contains, in one scan.
        let words = if hint.is_empty() {
            0
        } else {
            meta_hint_words(hint)
        };
        if !hint.is_empty()
            && m.text_dates.len() < 3
            && !matches!(e.name(), "meta" | "script" | "style" | "html" | "body")
        {
            // A token contains "date" or "time" exactly when the hint does
            // (tokens split at non-alphanumerics only).
            let datey = (words & (META_DATE | META_TIME) != 0
                || hint_tokens(hint).any(|t| t.starts_with("pub") || t == "info"))
                && !hint.contains("update")
                && !hint.contains("modif");
            if datey {
                let t = block_text(el, 50);
                if t.chars().count() <= 200 {
                    if let Some(d) = date_in_text(&t) {
                        m.text_dates.push(d);
                    }
                }
            }
        }
        // Every author word below contains "author": one search rules most hints out.
        let byline_hint = !hint.is_empty()
            && (words & META_BYLINE != 0
                || (words & META_AUTHOR != 0
                    && (hint_tokens(hint)
                        .any(|t| matches!(t, "author" | "authorname" | "author_name"))
                        || hint.contains("author-name")
                        || hint.contains("author__name"))));
        if byline_hint && m.byline_texts.len() < 3 && e.name() != "meta" && e.name() != "a" {
            let t = element_text(el);
            if (3..=120).contains(&t.chars().count()) {
                m.byline_texts.push(t);
            }
        }
        if itemprop.is_some_and(|v| v.eq_ignore_ascii_case("author")) && e.name() != "meta" {
            // The name may be a nested itemprop=name.
            let name = el
                .descendent_elements()
                .find(|d| d.value().attr("itemprop").is_some_and(|v| v == "name"))
                .map(|d| {
                    d.value()
                        .attr("content")
                        .map(str::to_string)
                        .unwrap_or_else(|| element_text(d))
                })
                .unwrap_or_else(|| element_text(el));
            if !name.is_empty() && name.chars().count() < 80 && m.itemprop_authors.len() < 5 {
                m.itemprop_authors.push(name);
            }
        }
    }
    m.ld_article_body = ld_articles(&m.ld)
        .iter()
        .find_map(|a| {
            a.get("articleBody")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|s| !s.trim().is_empty());
    m
}

pub(super) fn build_metadata(m: &MetaData, page_url: Option<&Url>) -> Extracted {
    let arts = ld_articles(&m.ld);
    // Only article-like objects for article fields (not WebSite/Organization):
    // the ranks before "webpage" in `jsonld::ARTICLE_TYPES`.
    let art_only: Vec<&Value> = arts
        .iter()
        .copied()
        .filter(|v| ld_type_rank(v).is_some_and(|r| r < 14))
        .collect();
    let art_or_page: &[&Value] = if art_only.is_empty() {
        &arts
    } else {
        &art_only
    };

    let mut out = Extracted::default();

    // Site name.
    let site_name = m
        .first(&[
            "og:site_name",
            "application-name",
            "al:ios:app_name",
            "twitter:site",
        ])
        .map(|s| s.trim_start_matches('@').to_string())
        .or_else(|| {
            art_or_page
                .iter()
                .find_map(|a| a.get("publisher").and_then(ld_str))
        })
        .or_else(|| ld_all_of_type(&m.ld, "website").and_then(|w| w.get("name").and_then(ld_str)))
        .filter(|s| !s.is_empty() && !s.starts_with("http"));
    // twitter:site is a handle; only keep it when nothing better exists.
    out.site_name = site_name.map(|s| collapse_ws(&s));

    // Title.
    // Candidates in order of preference; the first one that agrees with the
    // <title> or an <h1> wins (JSON-LD "headline" is sometimes a description).
    let cands: Vec<String> = [
        m.first(&["og:title", "twitter:title", "dc.title", "dcterms.title"])
            .map(str::to_string),
        ld_first(art_or_page, "headline").and_then(ld_str),
        ld_first(&art_only, "name").and_then(ld_str),
        m.title_tag.clone(),
        m.h1s.first().cloned(),
    ]
    .into_iter()
    .flatten()
    .map(|t| collapse_ws(&decode_entities(&t)))
    .filter(|t| !t.is_empty())
    .collect();
    let refs: Vec<String> = m
        .title_tag
        .iter()
        .chain(m.h1s.iter())
        .map(|t| norm_key(t))
        .filter(|k| !k.is_empty())
        .collect();
    let agrees = |t: &str| {
        let k = norm_key(t);
        !k.is_empty()
            && refs
                .iter()
                .any(|r| r.contains(&k) || k.contains(r.as_str()))
    };
    let raw_title = cands
        .iter()
        .find(|t| refs.is_empty() || agrees(t))
        .or_else(|| cands.first())
        .cloned();
    out.title = raw_title
        .map(|t| clean_title(&t, out.site_name.as_deref(), page_url, &m.h1s))
        .filter(|t| !t.is_empty());

    // Description.
    out.description = m
        .first(&[
            "og:description",
            "description",
            "twitter:description",
            "dc.description",
        ])
        .map(str::to_string)
        .or_else(|| ld_first(art_or_page, "description").and_then(ld_str))
        .map(|d| collapse_ws(&decode_entities(&d)))
        .filter(|d| !d.is_empty());

    out.authors = authors(m, &art_only).kept;

    // Dates.
    let now = Utc::now();
    let published_cands: Vec<String> = ld_first(art_or_page, "datePublished")
        .and_then(ld_str)
        .into_iter()
        .chain(ld_first(art_or_page, "dateCreated").and_then(ld_str))
        .chain(
            [
                "article:published_time",
                "og:article:published_time",
                "published_time",
                "article.published",
                "datepublished",
                "pubdate",
                "publishdate",
                "publish-date",
                "publish_date",
                "parsely-pub-date",
                "sailthru.date",
                "dc.date.issued",
                "dcterms.issued",
                "dc.date",
                "dcterms.date",
                "dc.date.created",
                "dcterms.created",
                "date",
                "citation_publication_date",
                "citation_date",
                "og:pubdate",
                "article:published",
                "cxenseparse:recs:publishtime",
                "originalpublicationdate",
                "displaydate",
                "date_published",
                "published-date",
                "release_date",
            ]
            .iter()
            .filter_map(|k| m.get(k).map(str::to_string)),
        )
        .chain(m.times.iter().filter(|(_, p)| *p).map(|(t, _)| t.clone()))
        .chain(m.times.iter().map(|(t, _)| t.clone()))
        .collect();
    out.published = published_cands
        .iter()
        .find_map(|s| parse_date(s, now))
        .or_else(|| {
            m.text_dates
                .iter()
                .copied()
                .find(|d| *d <= now + future_tolerance(false) && d.timestamp() >= 631_152_000)
        });
    let modified_cands: Vec<String> = ld_first(art_or_page, "dateModified")
        .and_then(ld_str)
        .into_iter()
        .chain(
            [
                "article:modified_time",
                "og:updated_time",
                "article:modified",
                "datemodified",
                "last-modified",
                "lastmod",
                "dcterms.modified",
                "dc.date.modified",
                "modified_time",
                "date_modified",
                "revised",
            ]
            .iter()
            .filter_map(|k| m.get(k).map(str::to_string)),
        )
        .collect();
    out.modified = modified_cands.iter().find_map(|s| parse_date(s, now));

    // Canonical.
    out.canonical_url = m
        .canonical
        .as_deref()
        .and_then(|c| resolve_url(c, page_url))
        .or_else(|| m.get("og:url").and_then(|c| resolve_url(c, page_url)));

    // Language.
    out.language = m
        .html_lang
        .clone()
        .or_else(|| {
            m.first(&["og:locale", "content-language", "language", "dc.language"])
                .map(str::to_string)
        })
        .or_else(|| ld_first(art_or_page, "inLanguage").and_then(ld_str));

    // Section.
    out.section = m
        .first(&["article:section", "section", "parsely-section", "category"])
        .map(str::to_string)
        .or_else(|| ld_first(art_or_page, "articleSection").and_then(ld_str))
        .map(|s| collapse_ws(&decode_entities(&s)))
        .filter(|s| !s.is_empty());

    // Tags: the values read until 50 are kept (see below), each distinct value once (it adds no tag
    // twice), so a page of 30 000 `article:tag`s costs what its first distinct ones do.
    let mut tags: Vec<String> = Vec::new();
    let (mut read, mut distinct) = (HashSet::new(), HashSet::new());
    for v in m.get_all("article:tag") {
        if distinct.len() >= MAX_TAGS {
            break;
        }
        if read.insert(v) {
            for t in split_tags(v) {
                distinct.insert(t.to_lowercase());
                tags.push(t);
            }
        }
    }
    if tags.is_empty() {
        if let Some(v) = m.first(&["news_keywords", "keywords", "parsely-tags", "sailthru.tags"]) {
            tags.extend(split_tags(v));
        }
    }
    if tags.is_empty() {
        if let Some(k) = ld_first(art_or_page, "keywords") {
            match k {
                Value::String(s) => tags.extend(split_tags(s)),
                Value::Array(a) => {
                    for x in a.iter().filter_map(Value::as_str) {
                        tags.extend(split_tags(x));
                    }
                }
                _ => {}
            }
        }
    }
    let mut seen = HashSet::new();
    out.tags = tags
        .into_iter()
        .filter(|t| seen.insert(t.to_lowercase()))
        .take(MAX_TAGS)
        .collect();

    // Image.
    out.image = m
        .first(&[
            "og:image",
            "og:image:url",
            "og:image:secure_url",
            "twitter:image",
            "twitter:image:src",
        ])
        .and_then(|u| resolve_url(u, page_url))
        .or_else(|| {
            ld_first(art_or_page, "image")
                .and_then(ld_str)
                .and_then(|u| resolve_url(&u, page_url))
        });
    out
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let doc = Html::parse_fragment(s);
    doc.root_element().text().collect()
}

fn resolve_url(u: &str, base: Option<&Url>) -> Option<String> {
    let u = u.trim();
    if u.is_empty() || u.starts_with("data:") || u.starts_with("javascript:") {
        return None;
    }
    let parsed = match base {
        Some(b) => b.join(u).ok()?,
        None => Url::parse(u).ok()?,
    };
    if matches!(parsed.scheme(), "http" | "https") {
        Some(parsed.to_string())
    } else {
        None
    }
}

/// Authors a record keeps at most.
const MAX_AUTHORS: usize = 10;
/// Tags a record keeps at most.
const MAX_TAGS: usize = 50;

/// The record's authors, built as they are found: cleaned, the first
/// [`MAX_AUTHORS`] distinct ones kept.
#[derive(Default)]
struct Authors {
    /// Whether a source gave any name (before cleaning): the later sources are then not read.
    found: bool,
    kept: Vec<String>,
    /// Lower-cased names kept.
    seen: HashSet<String>,
    /// Author `<meta>` values split into names (the work a page of many `<meta>`s costs).
    values_read: usize,
}

impl Authors {
    fn add(&mut self, names: impl IntoIterator<Item = String>) {
        for a in names {
            self.found = true;
            if self.full() {
                continue;
            }
            let a = clean_author(&a);
            if !a.is_empty()
                && a.chars().count() <= 100
                && !a.starts_with("http")
                && a.chars().any(char::is_alphabetic)
                && self.seen.insert(a.to_lowercase())
            {
                self.kept.push(a);
            }
        }
    }

    fn full(&self) -> bool {
        self.kept.len() >= MAX_AUTHORS
    }
}

/// Authors from JSON-LD, else the author `<meta>`s (by key, in order of trust), else itemprop and
/// rel=author markup, else a visible byline. The `<meta>` values are read until the record is
/// full, each distinct value once (a value read before adds no name): a page of 30 000 author
/// `<meta>`s costs what its first distinct values do, not a split and a clean of each.
fn authors(m: &MetaData, art_only: &[&Value]) -> Authors {
    let mut authors = Authors::default();
    if let Some(a) = ld_first(art_only, "author").or_else(|| ld_first(art_only, "creator")) {
        let mut names = Vec::new();
        ld_names(a, &mut names);
        authors.add(names);
    }
    if !authors.found {
        let mut read = HashSet::new();
        for key in [
            "author",
            "article:author",
            "dc.creator",
            "dcterms.creator",
            "parsely-author",
            "sailthru.author",
            "byl",
            "citation_author",
            "twitter:creator",
        ] {
            for v in m.get_all(key) {
                if authors.full() {
                    break;
                }
                if v.starts_with("http") || (key == "twitter:creator" && v.starts_with('@')) {
                    continue;
                }
                if read.insert(v) {
                    authors.values_read += 1;
                    authors.add(split_authors(v));
                }
            }
            if authors.found {
                break;
            }
        }
    }
    if !authors.found {
        authors.add(m.itemprop_authors.iter().flat_map(|a| split_authors(a)));
    }
    if !authors.found {
        authors.add(m.rel_authors.iter().flat_map(|a| split_authors(a)));
    }
    if !authors.found {
        if let Some(b) = m.byline_texts.iter().find_map(|b| byline_name(b)) {
            authors.add(split_authors(&b));
        }
    }
    authors
}

fn split_authors(s: &str) -> Vec<String> {
    let s = decode_entities(s);
    let s = collapse_ws(&s);
    if s.contains('(') {
        // "A (with B and C)": keep as written.
        return vec![s];
    }
    let mut parts = vec![s];
    for sep in [
        ";", "|", " and ", " & ", " und ", " et ", " y ", " и ", "、", "，",
    ] {
        parts = parts
            .iter()
            .flat_map(|p| {
                let pieces: Vec<String> = p.split(sep).map(str::to_string).collect();
                // "Mac & i" is one name: split only into multi-word names.
                if pieces.len() > 1
                    && sep.starts_with(' ')
                    && pieces.iter().any(|x| !x.trim().contains(' '))
                {
                    vec![p.clone()]
                } else {
                    pieces
                }
            })
            .collect();
    }
    // Commas separate names only when every part has a space (not "Smith, John").
    let mut out = Vec::new();
    for p in parts {
        let pieces: Vec<&str> = p
            .split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .collect();
        if pieces.len() > 1 && pieces.iter().all(|x| x.contains(' ')) {
            out.extend(pieces.into_iter().map(str::to_string));
        } else {
            out.push(p);
        }
    }
    out
}

/// The name part of a visible byline ("By Jane Roe | May 3, 2024").
fn byline_name(b: &str) -> Option<String> {
    let first = b.split(['|', '•', '·', '\n', '—']).next().unwrap_or("");
    let name = clean_author(first);
    let name = name
        .trim_end_matches([',', ':', '-', ' '])
        .trim()
        .to_string();
    let words = name.split_whitespace().count();
    let ok = !name.is_empty()
        && name.chars().count() <= 60
        && words <= 5
        && !name.chars().any(|c| c.is_ascii_digit())
        && !name.contains('@')
        && !name.to_lowercase().starts_with("http");
    ok.then_some(name)
}

fn clean_author(a: &str) -> String {
    let a = collapse_ws(a);
    let lower = a.to_lowercase();
    let mut s = a.as_str();
    for pre in [
        "by ",
        "von ",
        "par ",
        "por ",
        "di ",
        "автор:",
        "автор ",
        "作者：",
        "作者:",
        "作者",
    ] {
        if lower.starts_with(pre) {
            s = a.get(pre.len()..).unwrap_or("");
            break;
        }
    }
    s.trim()
        .trim_matches(|c: char| c == ',' || c == '|')
        .trim()
        .to_string()
}

fn split_tags(s: &str) -> Vec<String> {
    let s = decode_entities(s);
    s.split([',', ';', '，', '、', '；', '|'])
        .map(collapse_ws)
        .filter(|t| !t.is_empty() && t.chars().count() <= 100)
        .collect()
}

const TITLE_SEPS: &[&str] = &[
    " | ", " - ", " – ", " — ", " :: ", " · ", " • ", " « ", " » ", " / ", "｜", " _ ", "_",
];

/// Longest `<title>` or `<h1>` text read, in bytes: an unclosed `<title>`
/// takes the rest of the page as its text (10 MB at the body cap), which each
/// title rule would then scan again; no headline is near this long.
const MAX_TITLE_BYTES: usize = 4096;

/// `t` cut to [`MAX_TITLE_BYTES`] at a character boundary.
fn capped(mut t: String) -> String {
    if t.len() > MAX_TITLE_BYTES {
        let mut end = MAX_TITLE_BYTES;
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        t.truncate(end);
    }
    t
}

/// Strips a " - Site name" suffix (or "Site name | " prefix) when the
/// other part matches the site name or the host name.
fn clean_title(t: &str, site: Option<&str>, page_url: Option<&Url>, h1s: &[String]) -> String {
    let t = t.trim();
    let site_key = site.map(norm_key).unwrap_or_default();
    let host_key = page_url
        .and_then(|u| u.host_str())
        .map(|h| {
            let h = h.trim_start_matches("www.");
            norm_key(h.split('.').next().unwrap_or(h))
        })
        .unwrap_or_default();
    let matches_site = |part: &str| {
        let k = norm_key(part);
        if k.is_empty() {
            return false;
        }
        (!site_key.is_empty()
            && (k == site_key
                || (k.len() >= 3 && site_key.contains(&k))
                || (site_key.len() >= 3 && k.contains(&site_key))))
            || (host_key.len() >= 3 && (k == host_key || k.contains(&host_key)))
    };
    let mut best = t.to_string();
    for sep in TITLE_SEPS {
        if let Some(pos) = t.rfind(sep) {
            let (head, tail) = (&t[..pos], &t[pos + sep.len()..]);
            if !head.trim().is_empty() && matches_site(tail) {
                best = head.trim().to_string();
                break;
            }
        }
        if let Some(pos) = t.find(sep) {
            let (head, tail) = (&t[..pos], &t[pos + sep.len()..]);
            if !tail.trim().is_empty() && matches_site(head) {
                best = tail.trim().to_string();
                break;
            }
        }
    }
    // No known site name: an unambiguous separator followed by a short
    // tail ("Headline | Site") still marks a suffix.
    if best == t {
        for sep in [" | ", " – ", " — ", " · ", " :: ", " » ", " « ", " ｜ "] {
            if let Some(pos) = t.rfind(sep) {
                let (head, tail) = (t[..pos].trim(), t[pos + sep.len()..].trim());
                let head_words = head.split_whitespace().count();
                let head_cjk = head.chars().filter(|&c| is_cjk(c)).count();
                if (head_words >= 3 || head_cjk >= 8) && tail.split_whitespace().count() <= 4 {
                    best = head.to_string();
                }
                break;
            }
        }
    }
    // Chinese/Japanese titles: "标题_频道_网站名" / "标题-新华网" without spaces.
    if best.chars().filter(|&c| is_cjk(c)).count() >= 8 {
        for _ in 0..3 {
            let trimmed = best
                .trim_end_matches(['_', '-', '|', '｜', ' '])
                .to_string();
            let Some(pos) = trimmed.rfind(['_', '-', '|', '｜']) else {
                best = trimmed;
                break;
            };
            let sep_len = trimmed[pos..].chars().next().map_or(1, char::len_utf8);
            let head = trimmed[..pos].trim_end_matches(['_', '-', ' ']).trim();
            let tail = trimmed[pos + sep_len..].trim();
            let head_cjk = head.chars().filter(|&c| is_cjk(c)).count();
            let tail_cjk = tail.chars().filter(|&c| is_cjk(c)).count();
            if head_cjk >= 6 && tail_cjk >= 2 && tail.chars().count() <= 15 {
                best = head.to_string();
            } else {
                best = trimmed;
                break;
            }
        }
    }
    // An h1 that starts the title is the headline ("Headline_Section_Site").
    let bk = norm_key(&best);
    for h in h1s {
        let hk = norm_key(h);
        if hk.chars().count() >= 4 && hk != bk && bk.starts_with(&hk) && !matches_site(h) {
            return h.trim().to_string();
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use scraper::Selector;

    use super::*;

    fn meta_page(metas: impl Iterator<Item = String>) -> MetaData {
        let html = format!(
            "<head>{}</head><body><p>x</p></body>",
            metas.collect::<String>()
        );
        collect_meta(&Html::parse_document(&html))
    }

    #[test]
    fn many_author_metas_are_read_until_the_record_is_full() {
        // 30 000 copies of one author <meta> (the many-meta shape): one value split and cleaned,
        // not 30 000 (main split every one: 30 000 values read).
        let m = meta_page(std::iter::repeat_n(
            r#"<meta name="author" content="Anna Berg">"#.to_string(),
            30_000,
        ));
        let a = authors(&m, &[]);
        assert_eq!(a.kept, vec!["Anna Berg"]);
        assert_eq!(a.values_read, 1);
        // 30 000 distinct ones: read until ten names are kept.
        let m = meta_page(
            (0..30_000).map(|i| format!(r#"<meta name="author" content="Anna Berg{i}">"#)),
        );
        let a = authors(&m, &[]);
        assert_eq!(a.kept.len(), MAX_AUTHORS);
        assert_eq!(a.kept.first().map(String::as_str), Some("Anna Berg0"));
        assert_eq!(a.kept.last().map(String::as_str), Some("Anna Berg9"));
        assert_eq!(a.values_read, MAX_AUTHORS);
    }

    #[test]
    fn authors_and_tags_as_before_with_repeats_and_junk() {
        // Repeated values, links, blanks, a name spelled twice in other case: the record is what
        // splitting and cleaning every value gave.
        let m = meta_page(
            [
                r#"<meta name="author" content="https://example.org/tom">"#,
                r#"<meta name="author" content="By Tom Hale and Anna Berg">"#,
                r#"<meta name="author" content="  ">"#,
                r#"<meta name="author" content="By Tom Hale and Anna Berg">"#,
                r#"<meta name="author" content="ANNA BERG; Li Wei">"#,
                r#"<meta name="article:author" content="Not Read">"#,
                r#"<meta property="article:tag" content="Politics, economy">"#,
                r#"<meta property="article:tag" content="politics; Budget">"#,
                r#"<meta property="article:tag" content="Politics, economy">"#,
            ]
            .into_iter()
            .map(str::to_string),
        );
        let got = build_metadata(&m, None);
        assert_eq!(got.authors, vec!["Tom Hale", "Anna Berg", "Li Wei"]);
        assert_eq!(got.tags, vec!["Politics", "economy", "Budget"]);
        // Many repeated tags: the first 50 distinct kept, in order.
        let m = meta_page(
            (0..30_000).map(|i| format!(r#"<meta property="article:tag" content="t{}">"#, i % 60)),
        );
        let tags = build_metadata(&m, None).tags;
        assert_eq!(tags.len(), MAX_TAGS);
        assert_eq!(tags.last().map(String::as_str), Some("t49"));
    }

    #[test]
    fn title_suffix_stripped() {
        let url = Url::parse("https://www.dailyexample.com/a/b").ok();
        assert_eq!(
            clean_title(
                "Budget vote delayed - Daily Example",
                Some("Daily Example"),
                None,
                &[]
            ),
            "Budget vote delayed"
        );
        assert_eq!(
            clean_title(
                "Budget vote delayed | DailyExample.com",
                None,
                url.as_ref(),
                &[]
            ),
            "Budget vote delayed"
        );
        assert_eq!(
            clean_title(
                "Daily Example | Budget vote delayed",
                Some("Daily Example"),
                None,
                &[]
            ),
            "Budget vote delayed"
        );
        // No site name known: a short tail after an unambiguous separator.
        assert_eq!(
            clean_title(
                "Harbour fees rise again this spring – Coastal Ledger",
                None,
                None,
                &[]
            ),
            "Harbour fees rise again this spring"
        );
        assert_eq!(
            clean_title("法国全国大罢工再次严重影响交通-新华网", None, None, &[]),
            "法国全国大罢工再次严重影响交通"
        );
        assert_eq!(
            clean_title(
                "城市公园春季开放时间调整_新闻频道_示例日报网",
                None,
                None,
                &[]
            ),
            "城市公园春季开放时间调整"
        );
        // A dash inside the headline is kept when the tail is not the site.
        assert_eq!(
            clean_title(
                "Left - right divide grows",
                Some("Daily Example"),
                None,
                &[]
            ),
            "Left - right divide grows"
        );
    }

    #[test]
    fn meta_hint_words_match_substring_search() {
        let words = [
            ("date", META_DATE),
            ("time", META_TIME),
            ("byline", META_BYLINE),
            ("author", META_AUTHOR),
        ];
        for h in [
            "",
            "post-date entry-meta",
            "authorbyline timestamp",
            "dat tim autho bylin",
            "x-updated-time a",
            "coauthor-name dateline",
            "d t b a",
            "datetimebylineauthor",
        ] {
            let want = words
                .iter()
                .filter(|(w, _)| h.contains(w))
                .fold(0, |bits, (_, b)| bits | b);
            assert_eq!(meta_hint_words(h), want, "{h:?}");
        }
    }

    #[test]
    fn element_text_separates_blocks_whatever_the_whitespace() {
        let text = |h: &str| {
            let doc = Html::parse_fragment(h);
            let sel = Selector::parse("div.x").unwrap();
            let el = doc.select(&sel).next().unwrap();
            (element_text(el), block_text(el, 2))
        };
        // Minified, indented and inline-only markup.
        let min = text("<div class=x><div>By Jane Doe</div><div>Staff<br>writer</div></div>");
        let ind =
            text("<div class=x>\n  <div>By Jane Doe</div>\n  <div>Staff<br>\nwriter</div>\n</div>");
        assert_eq!(min.0, "By Jane Doe Staff writer");
        assert_eq!(ind.0, min.0);
        // At most two text nodes with text; whitespace-only ones are not counted.
        assert_eq!(collapse_ws(&min.1), "By Jane Doe Staff");
        assert_eq!(collapse_ws(&ind.1), "By Jane Doe Staff");
        assert_eq!(
            text("<div class=x><b>Jo</b><i>hn</i> Smith</div>").0,
            "John Smith"
        );
    }
}
