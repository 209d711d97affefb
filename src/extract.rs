//! Article extraction: turns one HTML page into an [`Extracted`] record
//! (headline, main text, description, byline, dates, canonical URL, site name,
//! language, section, tags, image).
//!
//! How the main text is found:
//!
//! 1. The page is parsed with `scraper` (html5ever) and copied into a small
//!    arena tree that the rest of the module walks iteratively (no recursion,
//!    so deeply nested pages cannot overflow the stack). Pathologically deep
//!    markup is cut before parsing (html5ever is quadratic in nesting depth).
//! 2. Boilerplate is removed by structure (`script`, `style`, `nav`, `aside`,
//!    `footer`, forms, captions, hidden elements, ...) and by class/id hints
//!    (comments, share buttons, related links, newsletter boxes, cookie
//!    banners, author boxes, ...), never removing a block that holds a large
//!    share of the page's text (it probably wraps the article).
//! 3. Candidate containers are scored Readability-style from the text of the
//!    paragraphs they hold (length counted in characters, CJK characters
//!    weighted so that a 60-character Chinese paragraph counts as substantial),
//!    damped by link density, boosted by structural hints (`<article>`,
//!    `itemprop=articleBody`, "article-body"-like classes). The best container
//!    grows to an ancestor that adds clean paragraph text, takes in qualifying
//!    siblings and a lead/standfirst marked as such just before it, and is
//!    then cleaned conditionally (link lists, link-only paragraphs,
//!    widget-like blocks, the headline, headings left without text).
//! 4. The kept tree is serialised to text: block elements, headings and list
//!    items become paragraphs separated by a blank line; `<br>` is a line
//!    break and `<br><br>` a paragraph break; whitespace is collapsed.
//! 5. A schema.org `articleBody` from JSON-LD is used instead when it is long,
//!    agrees with the page's words and the DOM result is much shorter.
//!
//! Metadata come from JSON-LD, OpenGraph / Twitter / Dublin Core `<meta>`
//! tags, `<link rel=canonical>`, `<html lang>`, `<time datetime>` and, as a
//! last resort, visible bylines and dates in elements whose class says so.
//! Dates are never taken from `<script>` text other than JSON-LD, and dates in
//! the future are rejected (one hour of tolerance for zoned times, fifteen for
//! naive local times, which are read as UTC).
//!
//! Deliberately NOT done here: fetching, charset decoding (see
//! [`crate::charset`]), language detection, JavaScript
//! rendering, multi-page article stitching, comment extraction, and keeping
//! image/table markup (the output is plain text only).

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use scraper::{Html, Node, Selector};
use serde_json::Value;
use url::Url;

use crate::model::Extracted;

mod prescan;

/// Per-feed overrides (from feeds.toml, later): exact selectors for outlets the generic extractor gets wrong.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// CSS selector of the article body. When it matches, the matched
    /// elements (in document order) are the text source and the generic
    /// container search is skipped. An invalid selector is ignored.
    pub content_selector: Option<String>,
    /// CSS selectors of elements to drop before extraction (ads, widgets the
    /// generic rules miss). Invalid selectors are ignored.
    pub remove_selectors: Vec<String>,
}

/// Extracts article text and metadata with default options.
///
/// `page_url` (the final URL of the page) is used to make canonical and image
/// URLs absolute; without it only absolute URLs are kept.
pub fn extract(html: &str, page_url: Option<&Url>) -> Extracted {
    extract_with(html, page_url, &ExtractOptions::default())
}

/// Extracts article text and metadata, applying per-feed `opts`.
///
/// Never panics; an empty or non-HTML input gives an `Extracted` with empty
/// text and no metadata.
pub fn extract_with(html: &str, page_url: Option<&Url>, opts: &ExtractOptions) -> Extracted {
    let strip_attrs = opts.content_selector.is_none() && opts.remove_selectors.is_empty();
    let doc = Html::parse_document(&prescan::prepare(html, strip_attrs));
    let meta = collect_meta(&doc);
    let mut out = build_metadata(&meta, page_url);

    let mut dom = Dom::build(&doc, opts);
    let text = main_text(&mut dom, &meta, out.title.as_deref(), opts);
    out.text = text;
    out
}

/// Checks that `s` is a valid CSS selector (for config validation); the error
/// is a human-readable message.
pub fn check_selector(s: &str) -> Result<(), String> {
    if s.trim().is_empty() {
        return Err("empty CSS selector".to_string());
    }
    Selector::parse(s)
        .map(|_| ())
        .map_err(|e| format!("invalid CSS selector {s:?}: {e}"))
}

/// Plain text from an HTML fragment (feed summaries/content), paragraphs separated by blank lines.
///
/// Scripts, styles and other non-text elements are dropped; no boilerplate
/// detection is done (a feed summary is all content).
pub fn html_fragment_to_text(fragment: &str) -> String {
    if !fragment.contains('<') && !fragment.contains('&') {
        return normalize_paragraphs(fragment);
    }
    let doc = Html::parse_fragment(&prescan::prepare(fragment, true));
    let mut dom = Dom::build(&doc, &ExtractOptions::default());
    dom.remove_always_junk();
    let root = 0;
    serialize(&dom, &[root])
}

// ---------------------------------------------------------------------------
// Text measures
// ---------------------------------------------------------------------------

/// CJK ideographs, kana and Hangul: scripts where one character carries
/// roughly a word's worth of text.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x3040..=0x30FF | 0x3100..=0x312F | 0x3130..=0x318F
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF
        | 0x20000..=0x2FFFF)
}

/// Length of a text for thresholds: non-space characters, CJK ones weighted.
fn weighted_len(s: &str) -> f32 {
    if s.is_ascii() {
        return s.bytes().filter(|b| !b.is_ascii_whitespace()).count() as f32;
    }
    // Counted as integers (exact, so the result does not depend on the order
    // of the sum); ASCII bytes are counted without decoding.
    let (mut plain, mut cjk) = (0u32, 0u32);
    let mut rest = s;
    while !rest.is_empty() {
        let ascii = rest.bytes().take_while(u8::is_ascii).count();
        let (head, tail) = rest.split_at(ascii);
        // Same set as `char::is_whitespace` on ASCII (which includes \x0b).
        plain += head
            .bytes()
            .filter(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
            .count() as u32;
        rest = "";
        for (at, c) in tail.char_indices() {
            if c.is_ascii() {
                rest = &tail[at..];
                break;
            }
            if c.is_whitespace() {
                continue;
            }
            if is_cjk(c) {
                cjk += 1;
            } else {
                plain += 1;
            }
        }
    }
    plain as f32 + cjk as f32 * 2.5
}

/// Commas and their CJK/Arabic counterparts (',' '，' '、' '،' '；' '。'),
/// found by their UTF-8 bytes without decoding the text.
fn count_commas(s: &str) -> u32 {
    let b = s.as_bytes();
    let ascii = memchr::memchr_iter(b',', b).count();
    // Lead bytes of U+FF0C/U+FF1B (EF BC ..), U+3001/U+3002 (E3 80 ..), U+060C (D8 8C).
    let other = memchr::memchr3_iter(0xEF, 0xE3, 0xD8, b)
        .filter(|&i| {
            matches!(
                b.get(i..),
                Some(
                    [0xEF, 0xBC, 0x8C | 0x9B, ..]
                        | [0xE3, 0x80, 0x81 | 0x82, ..]
                        | [0xD8, 0x8C, ..]
                )
            )
        })
        .count();
    (ascii + other) as u32
}

// ---------------------------------------------------------------------------
// Arena DOM
// ---------------------------------------------------------------------------

const NONE: usize = usize::MAX;

#[derive(Debug, Default)]
struct DNode<'a> {
    /// Tag name, borrowed from the parsed document; empty for text nodes.
    /// html5ever lower-cases HTML element names; only SVG/MathML keep mixed
    /// case (`foreignObject`), and those match none of the names used here
    /// in either case.
    tag: &'a str,
    /// Text content (text nodes only), borrowed from the parsed document.
    text: &'a str,
    parent: usize,
    children: Vec<usize>,
    /// One past the last index of this node's subtree (pre-order numbering).
    end: usize,
    /// Lower-case `class` + " " + `id`; borrowed from the document when the
    /// class alone already is that (most elements), so no allocation.
    hint: Cow<'a, str>,
    itemprop_body: bool,
    role: String,
    hidden: bool,
    forced_remove: bool,
    forced_content: bool,
    removed: bool,
    /// Block-level element (starts a new paragraph).
    block: bool,
    /// Weighted length and comma count of a text node.
    wlen: f32,
    commas: u32,
}

impl DNode<'_> {
    fn is_text(&self) -> bool {
        self.tag.is_empty()
    }
}

struct Dom<'a> {
    nodes: Vec<DNode<'a>>,
}

/// Lower-case `class` + " " + `id` (only the class when there is no id).
fn hint_of<'a>(class: Option<&'a str>, id: Option<&str>) -> Cow<'a, str> {
    match (class, id) {
        (None, None) => return Cow::Borrowed(""),
        (Some(c), None) if !c.bytes().any(|b| b.is_ascii_uppercase()) => return Cow::Borrowed(c),
        _ => {}
    }
    let len = class.map_or(0, str::len) + id.map_or(0, |i| i.len() + 1);
    let mut hint = String::with_capacity(len);
    if let Some(c) = class {
        hint.push_str(c);
    }
    if let Some(i) = id {
        hint.push(' ');
        hint.push_str(i);
    }
    hint.make_ascii_lowercase();
    Cow::Owned(hint)
}

fn parse_selectors(list: &[String]) -> Vec<Selector> {
    list.iter()
        .filter_map(|s| Selector::parse(s).ok())
        .collect()
}

impl<'a> Dom<'a> {
    /// Indexes the parsed document into the arena (pre-order; index 0 is the
    /// document/fragment root); names and texts are borrowed from `doc`.
    fn build(doc: &'a Html, opts: &ExtractOptions) -> Dom<'a> {
        let mut forced_remove = HashSet::new();
        for sel in parse_selectors(&opts.remove_selectors) {
            for el in doc.select(&sel) {
                forced_remove.insert(el.id());
            }
        }
        let mut forced_content = HashSet::new();
        if let Some(cs) = opts.content_selector.as_deref() {
            if let Ok(sel) = Selector::parse(cs) {
                for el in doc.select(&sel) {
                    forced_content.insert(el.id());
                }
            }
        }

        let mut nodes: Vec<DNode<'a>> = Vec::with_capacity(doc.tree.nodes().len());
        let root = doc.tree.root();
        let mut stack = vec![(root, NONE)];
        while let Some((nref, parent)) = stack.pop() {
            let idx = nodes.len();
            let mut dn = DNode {
                parent,
                ..Default::default()
            };
            let mut descend = true;
            match nref.value() {
                Node::Document | Node::Fragment => {
                    dn.tag = "#root";
                    dn.block = true;
                }
                Node::Text(t) => {
                    dn.text = &**t;
                    let raw_parent = nodes
                        .get(parent)
                        .is_some_and(|p| matches!(p.tag, "script" | "style"));
                    if !raw_parent {
                        dn.wlen = weighted_len(dn.text);
                        dn.commas = count_commas(dn.text);
                    }
                    descend = false;
                }
                Node::Element(el) => {
                    dn.tag = el.name();
                    dn.block = is_block(dn.tag);
                    // One pass over the attributes (each `attr` lookup interns the name).
                    let (mut class, mut id, mut style) = (None, None, None);
                    let mut hidden = false;
                    for (k, v) in el.attrs() {
                        match k {
                            "class" => class = Some(v),
                            "id" => id = Some(v),
                            "itemprop" => dn.itemprop_body = v.eq_ignore_ascii_case("articleBody"),
                            "role" => dn.role = v.to_ascii_lowercase(),
                            "style" => style = Some(v),
                            "hidden" => hidden = true,
                            "aria-hidden" => hidden |= v.eq_ignore_ascii_case("true"),
                            _ => {}
                        }
                    }
                    dn.hint = hint_of(class, id);
                    let style_hidden = style.is_some_and(|s| {
                        let s: String = s
                            .chars()
                            .filter(|c| !c.is_whitespace())
                            .collect::<String>()
                            .to_ascii_lowercase();
                        s.contains("display:none") || s.contains("visibility:hidden")
                    });
                    dn.hidden = style_hidden || hidden;
                    dn.forced_remove = forced_remove.contains(&nref.id());
                    dn.forced_content = forced_content.contains(&nref.id());
                }
                _ => {
                    // Comments, doctype, processing instructions: keep as an
                    // empty removed node so indices stay simple.
                    dn.removed = true;
                    descend = false;
                }
            }
            nodes.push(dn);
            if parent != NONE {
                if let Some(p) = nodes.get_mut(parent) {
                    p.children.push(idx);
                }
            }
            if descend {
                let mut kids = 0;
                for k in nref.children().rev() {
                    stack.push((k, idx));
                    kids += 1;
                }
                if let Some(n) = nodes.last_mut() {
                    n.children.reserve_exact(kids);
                }
            }
        }
        // Subtree ends: children have larger indices than their parents.
        let n = nodes.len();
        for (i, node) in nodes.iter_mut().enumerate() {
            node.end = i + 1;
        }
        for i in (1..n).rev() {
            let p = nodes[i].parent;
            if p != NONE && p < n {
                let e = nodes[i].end;
                if e > nodes[p].end {
                    nodes[p].end = e;
                }
            }
        }
        Dom { nodes }
    }

    fn is_removed(&self, i: usize) -> bool {
        self.nodes.get(i).is_none_or(|n| n.removed)
    }

    /// Marks nodes inside a removed ancestor as removed too.
    fn propagate_removed(&mut self) {
        for i in 1..self.nodes.len() {
            let p = self.nodes[i].parent;
            if p != NONE && p < self.nodes.len() && self.nodes[p].removed {
                self.nodes[i].removed = true;
            }
        }
    }

    /// Removes elements that never hold article text.
    fn remove_always_junk(&mut self) {
        for n in self.nodes.iter_mut() {
            if n.is_text() {
                continue;
            }
            if always_remove(n.tag) || n.forced_remove || n.hidden {
                n.removed = true;
            }
        }
        self.propagate_removed();
    }
}

/// Elements that never hold article text.
fn always_remove(tag: &str) -> bool {
    matches!(
        tag,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "iframe"
            | "svg"
            | "canvas"
            | "object"
            | "embed"
            | "button"
            | "select"
            | "option"
            | "input"
            | "textarea"
            | "head"
            | "title"
            | "meta"
            | "link"
            | "audio"
            | "video"
            | "source"
            | "track"
            | "map"
            | "area"
            | "dialog"
            | "frame"
            | "frameset"
            | "applet"
            | "math"
            | "picture"
            | "img"
            | "datalist"
            | "menu"
            | "param"
    )
}

/// Block-level tags (a `match`: compiled to a switch on the length, not a scan of a list).
fn is_block(tag: &str) -> bool {
    matches!(
        tag,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "body"
            | "center"
            | "dd"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hgroup"
            | "hr"
            | "html"
            | "li"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "thead"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "ul"
            | "caption"
            | "legend"
            | "#root"
            | "noscript"
            | "option"
            | "output"
    )
}

fn is_heading(tag: &str) -> bool {
    matches!(tag, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

// ---------------------------------------------------------------------------
// Class/id hints
// ---------------------------------------------------------------------------

/// Hint words that mark an element as boilerplate when found anywhere in its
/// class/id (substring match).
const NEG_SUBSTR: &[&str] = &[
    "comment",
    "share",
    "sharing",
    "social",
    "related",
    "newsletter",
    "cookie",
    "subscri",
    "promo",
    "sidebar",
    "breadcrumb",
    "sponsor",
    "advert",
    "outbrain",
    "taboola",
    "disqus",
    "recommend",
    "popup",
    "modal",
    "gdpr",
    "consent",
    "skyscraper",
    "shoutbox",
    "banner",
    "masthead",
    "footer",
    "navbar",
    "navigation",
    "pagination",
    "pager",
    "signup",
    "sign-up",
    "widget",
    "byline",
    "dateline",
    "timestamp",
    "toolbar",
    "tooltip",
    "most-popular",
    "mostpopular",
    "trending",
    "more-stories",
    "read-more",
    "readmore",
    "author-bio",
    "authorbio",
    "author-info",
    "share-",
    "donate",
    "paywall",
    "login",
    "register",
    "jump-link",
    "skip-link",
    "visually-hidden",
    "sr-only",
    "screen-reader",
    "caption",
    "credit",
    "copyright",
    "tags",
    "tagline",
    "topics",
    "keywords",
    "meta-",
    "-meta",
    "follow",
    "rss",
    "feedback",
    "rating",
    "survey",
    "nav-",
    "-nav",
    "menu",
    "overlay",
    "teaser",
    "carousel",
    "slider",
    "gallery",
    "popover",
    "hovercard",
    "rollover",
    "authorbox",
    "author-box",
    "author-description",
    "about-author",
    "entry-utility",
    "postmetadata",
    "disclosure",
    "affiliate",
    "crumb",
    "linkbox",
    "linklist",
    "link-list",
    "contact",
];

/// Short hint tokens that must match a whole class/id token.
const NEG_TOKENS: &[&str] = &[
    "ad", "ads", "adv", "advert", "nav", "tag", "meta", "header", "aside", "extra", "links",
    "author", "date", "email", "search", "share", "tools", "utility", "bottom", "top", "related",
    "hide", "hid", "foot", "cta", "print", "byline", "info", "details", "hidden", "authors",
    "alert",
];

const POS_SUBSTR: &[&str] = &[
    "article",
    "body",
    "content",
    "entry",
    "hentry",
    "h-entry",
    "main",
    "post",
    "text",
    "blog",
    "story",
    "prose",
    "richtext",
    "rich-text",
];

/// Words that look negative but are article content.
const NEG_EXCEPTIONS: &[&str] = &["commentary", "comments-count", "shared-content"];

/// The hint with [`NEG_EXCEPTIONS`] blanked out (borrowed when it has none).
fn without_exceptions(hint: &str) -> Cow<'_, str> {
    // Every exception contains "comment" or "shared".
    if !hint.contains("comment") && !hint.contains("shared") {
        return Cow::Borrowed(hint);
    }
    let mut h = hint.to_string();
    for ex in NEG_EXCEPTIONS {
        if h.contains(ex) {
            h = h.replace(ex, " ");
        }
    }
    Cow::Owned(h)
}

/// One Aho-Corasick automaton per word list: a single scan of the hint
/// instead of one substring search per word (and far cheaper to build than
/// the equivalent regex alternation, which a short run pays for).
type WordsRe = std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>;
static NEG_SUBSTR_RE: WordsRe = std::sync::OnceLock::new();
static STRONG_NEG_RE: WordsRe = std::sync::OnceLock::new();
static WEIGHT_NEG_RE: WordsRe = std::sync::OnceLock::new();
static POS_SUBSTR_RE: WordsRe = std::sync::OnceLock::new();

/// Whether `h` contains any of `words` (`re` caches their automaton).
fn contains_any(h: &str, words: &[&str], re: &WordsRe) -> bool {
    let re = re.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
            .build(words)
            .ok()
    });
    match re {
        Some(re) => re.is_match(h),
        None => words.iter().any(|w| h.contains(w)),
    }
}

fn hint_tokens(hint: &str) -> impl Iterator<Item = &str> {
    hint.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
}

fn hint_negative(hint: &str) -> bool {
    if hint.is_empty() {
        return false;
    }
    let h = without_exceptions(hint);
    if contains_any(&h, NEG_SUBSTR, &NEG_SUBSTR_RE) {
        return true;
    }
    let found = hint_tokens(&h).any(|t| NEG_TOKENS.contains(&t));
    found
}

fn hint_positive(hint: &str) -> bool {
    !hint.is_empty() && contains_any(hint, POS_SUBSTR, &POS_SUBSTR_RE)
}

/// Strongly negative hints: removed even when the element also has a
/// positive word ("article-comments", "post-share").
const STRONG_NEG: &[&str] = &[
    "comment",
    "share",
    "social",
    "related",
    "newsletter",
    "cookie",
    "subscri",
    "promo",
    "sidebar",
    "breadcrumb",
    "sponsor",
    "advert",
    "outbrain",
    "taboola",
    "disqus",
    "recommend",
    "popup",
    "modal",
    "gdpr",
    "consent",
    "paywall",
    "signup",
    "sign-up",
    "most-popular",
    "more-stories",
    "read-more",
    "readmore",
    "author-bio",
    "authorbio",
    "visually-hidden",
    "sr-only",
    "screen-reader",
    "byline",
    "caption",
    "dateline",
    "timestamp",
    "toolbar",
    "trending",
    "authorbox",
    "author-box",
    "author-description",
    "about-author",
    "saboxplugin",
    "entry-utility",
    "postmetadata",
    "disclosure",
    "affiliate",
    "crumb",
    "linkbox",
    "linklist",
    "link-list",
];

fn hint_strong_negative(hint: &str) -> bool {
    if hint.is_empty() {
        return false;
    }
    let h = without_exceptions(hint);
    if contains_any(&h, STRONG_NEG, &STRONG_NEG_RE) {
        return true;
    }
    // "tag-foo" / "nav-tabs" style modifiers (WordPress puts "tag-xyz" on the
    // post itself) only count as whole class names; "ad-slot" counts.
    let found = hint_tokens(&h).any(|t| matches!(t, "ad" | "ads" | "adv"))
        || h.split_whitespace()
            .any(|c| matches!(c, "tags" | "tag" | "nav"));
    found
}

/// Hint words used for scoring weights (narrower than the removal lists:
/// a wrong weight moves a whole container).
const WEIGHT_NEG: &[&str] = &[
    "comment",
    "combx",
    "footer",
    "gdpr",
    "masthead",
    "outbrain",
    "taboola",
    "promo",
    "related",
    "share",
    "social",
    "shoutbox",
    "sidebar",
    "skyscraper",
    "sponsor",
    "shopping",
    "newsletter",
    "cookie",
    "recommend",
    "breadcrumb",
    "banner",
    "advert",
    "popup",
    "modal",
];

fn hint_weight_negative(hint: &str) -> bool {
    if hint.is_empty() {
        return false;
    }
    let h = without_exceptions(hint);
    if contains_any(&h, WEIGHT_NEG, &WEIGHT_NEG_RE) {
        return true;
    }
    let found =
        hint_tokens(&h).any(|t| matches!(t, "ad" | "ads" | "tags" | "nav" | "hidden" | "hid"));
    found
}

fn class_weight(n: &DNode) -> f32 {
    let mut w = 0.0;
    if hint_weight_negative(&n.hint) {
        w -= 25.0;
    }
    if hint_positive(&n.hint) {
        w += 25.0;
    }
    if n.itemprop_body {
        w += 50.0;
    }
    w
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    /// Weighted text length of the subtree.
    tlen: f32,
    /// Weighted text length inside links.
    llen: f32,
    /// Weighted length of text directly inside (not inside block children).
    inline_len: f32,
    inline_commas: u32,
    commas: u32,
    /// `<p>` elements with text.
    ps: u32,
    /// Weighted text length inside `<p>`/`<pre>`.
    ptext: f32,
    lis: u32,
    headings: u32,
    forms: u32,
}

impl Stats {
    fn link_density(&self) -> f32 {
        if self.tlen <= 0.0 {
            0.0
        } else {
            (self.llen / self.tlen).min(1.0)
        }
    }

    fn sub(&mut self, o: &Stats) {
        self.tlen = (self.tlen - o.tlen).max(0.0);
        self.llen = (self.llen - o.llen).max(0.0);
        self.commas = self.commas.saturating_sub(o.commas);
        self.ps = self.ps.saturating_sub(o.ps);
        self.ptext = (self.ptext - o.ptext).max(0.0);
        self.lis = self.lis.saturating_sub(o.lis);
        self.headings = self.headings.saturating_sub(o.headings);
        self.forms = self.forms.saturating_sub(o.forms);
    }
}

fn compute_stats(dom: &Dom) -> Vec<Stats> {
    let n = dom.nodes.len();
    let mut st = vec![Stats::default(); n];
    for i in (0..n).rev() {
        let node = &dom.nodes[i];
        if node.removed {
            continue;
        }
        if node.is_text() {
            let l = node.wlen;
            let c = node.commas;
            st[i].tlen = l;
            st[i].commas = c;
            st[i].inline_len = l;
            st[i].inline_commas = c;
        } else {
            let tag = node.tag;
            if tag == "a" {
                st[i].llen = st[i].tlen;
            }
            if (tag == "p" || tag == "pre") && st[i].tlen > 0.0 {
                st[i].ps += 1;
                st[i].ptext = st[i].tlen;
            }
            if tag == "li" {
                st[i].lis += 1;
            }
            if is_heading(tag) {
                st[i].headings += 1;
            }
            if tag == "form" {
                st[i].forms += 1;
            }
        }
        let p = node.parent;
        if p == NONE || p >= n {
            continue;
        }
        let s = st[i];
        let child_inline = node.is_text() || !node.block;
        let ps = &mut st[p];
        ps.tlen += s.tlen;
        ps.llen += s.llen;
        ps.commas += s.commas;
        ps.ps += s.ps;
        ps.ptext += s.ptext;
        ps.lis += s.lis;
        ps.headings += s.headings;
        ps.forms += s.forms;
        if child_inline && node.tag != "br" {
            ps.inline_len += s.tlen;
            ps.inline_commas += s.commas;
        }
    }
    st
}

// ---------------------------------------------------------------------------
// Main text
// ---------------------------------------------------------------------------

fn main_text(dom: &mut Dom, meta: &MetaData, title: Option<&str>, opts: &ExtractOptions) -> String {
    dom.remove_always_junk();

    // Per-feed exact content selector.
    if opts.content_selector.is_some() {
        let roots: Vec<usize> = (0..dom.nodes.len())
            .filter(|&i| dom.nodes[i].forced_content && !dom.nodes[i].removed)
            .collect();
        // Keep only outermost matches.
        let mut outer: Vec<usize> = Vec::new();
        for r in roots {
            if outer.iter().any(|&o| r >= o && r < dom.nodes[o].end) {
                continue;
            }
            outer.push(r);
        }
        if !outer.is_empty() {
            let t = serialize(dom, &outer);
            if !t.is_empty() {
                return t;
            }
        }
    }

    let snapshot: Vec<bool> = dom.nodes.iter().map(|n| n.removed).collect();
    // `best_len` is kept equal to `weighted_len(&best)` (one pass per text).
    let mut best = extract_generic(dom, title, true);
    let mut best_len = weighted_len(&best);
    if best_len < 250.0 {
        for (n, &r) in dom.nodes.iter_mut().zip(snapshot.iter()) {
            n.removed = r;
        }
        let relaxed = extract_generic(dom, title, false);
        let relaxed_len = weighted_len(&relaxed);
        if relaxed_len > best_len * 1.5 + 50.0 {
            best = relaxed;
            best_len = relaxed_len;
        }
    }

    // JSON-LD articleBody when the DOM result is poor.
    if let Some(body) = meta.ld_article_body.as_deref() {
        let mut body_text = if body.contains('<') || body.contains('&') {
            html_fragment_to_text(body)
        } else {
            normalize_paragraphs(body)
        };
        // Escaped markup ("&lt;p&gt;...") decodes to markup: strip it too.
        if body_text.contains("</") || body_text.contains("<p") || body_text.contains("<div") {
            body_text = html_fragment_to_text(&body_text);
        }
        let bl = weighted_len(&body_text);
        let dl = best_len;
        if bl >= 400.0 && bl > dl * 1.3 && agrees_with_page(&body_text, &page_words(dom)) {
            best = body_text;
            best_len = bl;
        }
    }
    // Post body shipped as a template (rendered by JavaScript).
    if best_len < 250.0 {
        if let Some(tpl) = meta.template_body.as_deref() {
            let t = html_fragment_to_text(tpl);
            if weighted_len(&t) > best_len * 1.5 + 50.0 {
                best = t;
            }
        }
    }
    best
}

/// Lower-cased words of the page's text outside scripts and styles.
fn page_words(dom: &Dom) -> HashSet<String> {
    let mut words = HashSet::new();
    for n in &dom.nodes {
        if !n.is_text() {
            continue;
        }
        let parent_tag = dom.nodes.get(n.parent).map_or("", |p| p.tag);
        if matches!(parent_tag, "script" | "style" | "noscript" | "template") {
            continue;
        }
        for w in n.text.split(|c: char| !c.is_alphanumeric()) {
            if !w.is_empty() {
                words.insert(w.to_lowercase());
            }
        }
    }
    words
}

fn agrees_with_page(text: &str, page_words: &HashSet<String>) -> bool {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect();
    if words.is_empty() || page_words.is_empty() {
        return false;
    }
    let hit = words.iter().filter(|w| page_words.contains(*w)).count();
    hit as f32 / words.len() as f32 >= 0.7
}

/// The generic pipeline: boilerplate removal, candidate scoring, cleaning,
/// serialisation. `hints` switches class/id-based removal on.
fn extract_generic(dom: &mut Dom, title: Option<&str>, hints: bool) -> String {
    let stats = compute_stats(dom);
    let total_ptext = stats.first().map(|s| s.tlen - s.llen).unwrap_or(0.0);
    mark_structural(dom, &stats, total_ptext, hints);
    dom.propagate_removed();

    let stats = compute_stats(dom);
    let scores = score_candidates(dom, &stats);
    let roots = pick_roots(dom, &stats, &scores);
    if roots.is_empty() {
        return String::new();
    }
    clean_conditionally(dom, &roots, &scores, title, hints);
    dom.propagate_removed();
    let text = serialize_article(dom, &roots);
    filter_paragraphs(&text, title)
}

/// Removes structural boilerplate (nav, aside, footer, ...) and, with
/// `hints`, elements whose class/id says boilerplate. A block holding most of
/// the page's paragraph text is never removed.
fn mark_structural(dom: &mut Dom, stats: &[Stats], total_ptext: f32, hints: bool) {
    let n = dom.nodes.len();
    let mut i = 0;
    while i < n {
        let node = &dom.nodes[i];
        if node.removed || node.is_text() {
            i += 1;
            continue;
        }
        let tag = node.tag;
        let share = if total_ptext > 0.0 {
            (stats[i].tlen - stats[i].llen) / total_ptext
        } else {
            0.0
        };
        let protected =
            node.itemprop_body || matches!(tag, "html" | "body" | "#root" | "main" | "article");
        let mut remove = false;
        if tag == "header"
            && stats[i].link_density() < 0.3
            && (stats[i].ptext >= HEADER_KEEP_PTEXT || has_lead(dom, i))
        {
            // A <header> with real paragraphs (an article lead) is kept.
        } else if matches!(tag, "nav" | "aside" | "footer" | "form" | "header")
            || matches!(
                node.role.as_str(),
                "navigation"
                    | "complementary"
                    | "contentinfo"
                    | "banner"
                    | "dialog"
                    | "alert"
                    | "search"
                    | "menu"
                    | "menubar"
            )
        {
            remove = share < GUARD_STRUCT;
        } else if matches!(tag, "figcaption") {
            remove = true;
        } else if hints && !protected && !is_embed(&node.hint) {
            if hint_strong_negative(&node.hint) {
                remove = share < GUARD_STRONG;
            } else if hint_negative(&node.hint) && !hint_positive(&node.hint) {
                remove = share < GUARD_WEAK;
            }
        }
        if remove {
            dom.nodes[i].removed = true;
            i = dom.nodes[i].end.max(i + 1);
        } else {
            i += 1;
        }
    }
}

const SCORE_CONTAINERS: &[&str] = &[
    "div",
    "section",
    "td",
    "article",
    "main",
    "blockquote",
    "span",
    "font",
    "center",
    "dd",
    "body",
    "#root",
    "html",
    "form",
];

fn score_candidates(dom: &Dom, stats: &[Stats]) -> Vec<f32> {
    let n = dom.nodes.len();
    let mut score = vec![0.0f32; n];
    let mut touched = vec![false; n];
    for (i, node) in dom.nodes.iter().enumerate() {
        if node.removed || node.is_text() {
            continue;
        }
        let tag = node.tag;
        let (len, commas, start) = if tag == "p" || tag == "pre" {
            (stats[i].tlen, stats[i].commas, node.parent)
        } else if SCORE_CONTAINERS.contains(&tag) && stats[i].inline_len >= 25.0 {
            (stats[i].inline_len, stats[i].inline_commas, i)
        } else {
            continue;
        };
        if len < 25.0 {
            continue;
        }
        let s = 1.0 + commas as f32 + (len / 100.0).min(3.0);
        let mut a = start;
        let mut level = 0;
        while a != NONE && a < n && level < 5 {
            let div = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f32 * 3.0,
            };
            if !touched[a] {
                touched[a] = true;
                score[a] += init_score(&dom.nodes[a]);
            }
            score[a] += s / div;
            a = dom.nodes[a].parent;
            level += 1;
        }
    }
    for i in 0..n {
        if touched[i] {
            score[i] *= 1.0 - stats[i].link_density();
        }
    }
    score
}

fn init_score(n: &DNode) -> f32 {
    let base = match n.tag {
        "div" | "article" | "main" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    };
    base + class_weight(n)
}

/// Picks the main container and the siblings that belong with it.
fn pick_roots(dom: &Dom, stats: &[Stats], scores: &[f32]) -> Vec<usize> {
    let n = dom.nodes.len();
    let mut cands: Vec<usize> = (0..n)
        .filter(|&i| scores[i] > 0.0 && !dom.nodes[i].is_text() && !dom.nodes[i].removed)
        .collect();
    if cands.is_empty() {
        return Vec::new();
    }
    cands.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut top = cands[0];
    let top_score = scores[top];

    // Several strong candidates under one ancestor: take the ancestor.
    let strong: Vec<usize> = cands
        .iter()
        .copied()
        .skip(1)
        .take(5)
        .filter(|&c| scores[c] >= top_score * 0.75)
        .collect();
    if strong.len() >= 2 {
        let mut a = dom.nodes[top].parent;
        while a != NONE && a < n && !matches!(dom.nodes[a].tag, "body" | "html" | "#root") {
            let contained = strong
                .iter()
                .filter(|&&c| c >= a && c < dom.nodes[a].end)
                .count();
            if contained >= 2 {
                top = a;
                break;
            }
            a = dom.nodes[a].parent;
        }
    }

    // Climb while the parent clearly is the better container.
    let mut last = scores[top];
    let threshold = last / 3.0;
    let mut p = dom.nodes[top].parent;
    while p != NONE && p < n && !matches!(dom.nodes[p].tag, "body" | "html" | "#root") {
        if scores[p] <= 0.0 {
            p = dom.nodes[p].parent;
            continue;
        }
        if scores[p] < threshold {
            break;
        }
        if scores[p] > last {
            top = p;
            break;
        }
        last = scores[p];
        p = dom.nodes[p].parent;
    }
    // Only child: the parent holds the same content.
    loop {
        let p = dom.nodes[top].parent;
        if p == NONE || p >= n || matches!(dom.nodes[p].tag, "body" | "html" | "#root") {
            break;
        }
        let live: Vec<usize> = dom.nodes[p]
            .children
            .iter()
            .copied()
            .filter(|&c| !dom.nodes[c].removed && (!dom.nodes[c].is_text() || stats[c].tlen > 0.0))
            .collect();
        if live.len() == 1 {
            top = p;
        } else {
            break;
        }
    }

    // Expand to an ancestor that adds a lot of clean paragraph text.
    loop {
        let p = dom.nodes[top].parent;
        if p == NONE || p >= n || matches!(dom.nodes[p].tag, "body" | "html" | "#root") {
            break;
        }
        let added = stats[p].tlen - stats[top].tlen;
        let added_links = stats[p].llen - stats[top].llen;
        let added_p = stats[p].ptext - stats[top].ptext;
        if added <= 1.0 {
            top = p;
            continue;
        }
        if added_links / added < CLIMB_LD
            && added_p >= CLIMB_PSHARE * added
            && added_p >= CLIMB_MIN.max(CLIMB_REL * stats[top].ptext)
        {
            top = p;
        } else {
            break;
        }
    }

    // Siblings.
    let parent = dom.nodes[top].parent;
    if parent == NONE || parent >= n {
        return vec![top];
    }
    let ts = scores[top];
    let sib_threshold = (ts * 0.2).max(10.0);
    let top_class = dom.nodes[top].hint.clone();
    let mut roots = Vec::new();
    for &s in &dom.nodes[parent].children {
        if s == top {
            roots.push(s);
            continue;
        }
        let sn = &dom.nodes[s];
        if sn.removed || sn.is_text() {
            continue;
        }
        let mut bonus = 0.0;
        if !top_class.is_empty() && sn.hint == top_class {
            bonus = ts * 0.2;
        }
        let mut append = scores[s] > 0.0 && scores[s] + bonus >= sib_threshold;
        if !append && sn.tag == "p" {
            let len = stats[s].tlen;
            let ld = stats[s].link_density();
            let text = node_text(dom, s);
            append = (len > 80.0 && ld < 0.25)
                || (len > 0.0 && len <= 80.0 && ld == 0.0 && ends_sentence(&text));
        }
        if append {
            roots.push(s);
        }
    }
    if let Some(lead) = find_lead(dom, stats, roots.first().copied().unwrap_or(top)) {
        roots.insert(0, lead);
    }
    roots
}

/// Class/id tokens of an article's lead / standfirst paragraph.
fn is_lead_hint(hint: &str) -> bool {
    hint_tokens(hint).any(|t| {
        matches!(
            t,
            "lead"
                | "leadtext"
                | "lede"
                | "intro"
                | "introduction"
                | "chapo"
                | "standfirst"
                | "summary"
                | "subtitle"
                | "teaser"
                | "vorspann"
                | "excerpt"
                | "deck"
                | "dek"
                | "sapo"
                | "bajada"
                | "entradilla"
                | "copete"
                | "sommario"
                | "abstract"
                | "description"
        )
    })
}

/// Whether the subtree of `i` holds an element marked as a lead.
fn has_lead(dom: &Dom, i: usize) -> bool {
    let end = dom.nodes[i].end.min(dom.nodes.len());
    dom.nodes[i..end]
        .iter()
        .any(|d| !d.is_text() && !d.removed && is_lead_hint(&d.hint))
}

/// A lead paragraph just before the main container (within a few levels),
/// marked as such by its class, which the container search left out.
fn find_lead(dom: &Dom, stats: &[Stats], first_root: usize) -> Option<usize> {
    let n = dom.nodes.len();
    let mut cur = first_root;
    for _level in 0..LEAD_LEVELS {
        let p = dom.nodes[cur].parent;
        if p == NONE || p >= n || matches!(dom.nodes[p].tag, "body" | "html" | "#root") {
            return None;
        }
        let sibs = &dom.nodes[p].children;
        let pos = sibs.iter().position(|&c| c == cur)?;
        // The four nearest element siblings before it (text between them,
        // such as indentation, does not count).
        let before = sibs[..pos]
            .iter()
            .rev()
            .filter(|&&sib| !dom.nodes[sib].removed && !dom.nodes[sib].is_text())
            .take(4);
        for &sib in before {
            let end = dom.nodes[sib].end.min(n);
            for (j, d) in dom.nodes.iter().enumerate().take(end).skip(sib) {
                if d.removed || d.is_text() || !is_lead_hint(&d.hint) {
                    continue;
                }
                let st = &stats[j];
                if st.tlen >= 30.0 && st.tlen <= 1500.0 && st.link_density() < 0.3 {
                    return Some(j);
                }
            }
        }
        cur = p;
    }
    None
}

fn ends_sentence(t: &str) -> bool {
    let t = t.trim_end();
    t.ends_with(['.', '!', '?', '。', '！', '？', '"', '”', '»'])
}

fn node_text(dom: &Dom, i: usize) -> String {
    let mut s = String::new();
    let end = dom.nodes[i].end.min(dom.nodes.len());
    for j in i..end {
        let n = &dom.nodes[j];
        if n.is_text() && !n.removed {
            s.push_str(n.text);
        }
    }
    s
}

/// Readability-style conditional cleaning of the kept subtrees, deepest
/// first, plus removal of headings that repeat the title.
fn clean_conditionally(
    dom: &mut Dom,
    roots: &[usize],
    scores: &[f32],
    title: Option<&str>,
    hints: bool,
) {
    let mut stats = compute_stats(dom);
    let norm_title = title.map(norm_key).unwrap_or_default();
    let first_h1 = dom.nodes.iter().position(|n| n.tag == "h1");
    for &r in roots {
        let end = dom.nodes[r].end.min(dom.nodes.len());
        for i in (r..end).rev() {
            if dom.nodes[i].removed || dom.nodes[i].is_text() {
                continue;
            }
            // Skip nodes whose ancestor (below the root) is already removed.
            let tag = dom.nodes[i].tag;
            let remove = if is_heading(tag) {
                let t = norm_key(&node_text(dom, i));
                // The page's first <h1> is the headline; later ones are
                // section headings on sites that use h1 for those.
                (tag == "h1" && Some(i) == first_h1)
                    || (!norm_title.is_empty()
                        && (t == norm_title
                            || (t.chars().count() >= 10
                                && (norm_title.contains(&t) || t.contains(&norm_title)))))
                    || (hints && class_weight(&dom.nodes[i]) < 0.0)
            } else if i != r
                && matches!(
                    tag,
                    "div"
                        | "section"
                        | "ul"
                        | "ol"
                        | "table"
                        | "dl"
                        | "form"
                        | "aside"
                        | "header"
                        | "footer"
                        | "figure"
                        | "nav"
                )
            {
                should_clean(dom, i, &stats[i], scores[i], hints)
            } else if i != r && matches!(tag, "p" | "li") {
                let s = &stats[i];
                s.tlen > 0.0 && s.link_density() >= LINK_PARA_LD && s.tlen < LINK_PARA_LEN
            } else {
                false
            };
            if remove {
                let removed_stats = stats[i];
                dom.nodes[i].removed = true;
                let mut a = dom.nodes[i].parent;
                while a != NONE && a < stats.len() {
                    stats[a].sub(&removed_stats);
                    if a == r {
                        break;
                    }
                    a = dom.nodes[a].parent;
                }
            }
        }
    }
}

const CLIMB_LD: f32 = 0.2;
const CLIMB_PSHARE: f32 = 0.5;
const CLIMB_MIN: f32 = 200.0;
const CLIMB_REL: f32 = 0.15;

/// A boilerplate-looking block holding at least this share of the page's
/// non-link text is kept (it probably wraps the article).
const GUARD_STRUCT: f32 = 0.4;
const GUARD_STRONG: f32 = 0.4;
const GUARD_WEAK: f32 = 0.25;

/// Embedded posts (tweets, Instagram) quoted by the article.
fn is_embed(hint: &str) -> bool {
    hint.contains("embed") || hint.contains("tweet") || hint.contains("instagram-media")
}

const HEADER_KEEP_PTEXT: f32 = 100.0;

const LEAD_LEVELS: usize = 3;

const LINK_PARA_LD: f32 = 0.5;
const LINK_PARA_LEN: f32 = 300.0;

fn should_clean(dom: &Dom, i: usize, s: &Stats, score: f32, hints: bool) -> bool {
    let node = &dom.nodes[i];
    let weight = if hints { class_weight(node) } else { 0.0 };
    if s.tlen <= 0.0 {
        return true;
    }
    if is_embed(&node.hint) {
        // A quoted post (tweet) is part of the story.
        return false;
    }
    let rich = s.ps >= 2 && s.ptext >= 250.0 && s.link_density() < 0.25;
    if weight < 0.0 && weight + score < 0.0 && !rich {
        return true;
    }
    let is_list = matches!(node.tag, "ul" | "ol");
    let ld = s.link_density();
    if is_list {
        return ld > 0.5;
    }
    if s.commas >= 10 {
        return false;
    }
    if s.forms > 0 && (s.ps as f32) < 1.0 {
        return true;
    }
    if s.tlen < 25.0 && s.headings == 0 {
        return true;
    }
    if weight < 25.0 && ld > 0.2 && s.ptext < s.tlen * 0.5 {
        return true;
    }
    if weight >= 25.0 && ld > 0.5 {
        return true;
    }
    if ld > 0.5 {
        return true;
    }
    false
}

// ---------------------------------------------------------------------------
// Serialisation
// ---------------------------------------------------------------------------

struct TextBuilder {
    paras: Vec<String>,
    /// Heading level (1-6) of each paragraph, 0 for body text.
    levels: Vec<u8>,
    /// Heading level of the block being built.
    heading: u8,
    cur: String,
}

impl TextBuilder {
    fn new() -> Self {
        TextBuilder {
            paras: Vec::new(),
            levels: Vec::new(),
            heading: 0,
            cur: String::new(),
        }
    }

    fn push_text(&mut self, t: &str, pre: bool) {
        // Runs without spaces are copied whole; each space character becomes
        // one ' ' (none after a ' '), or stays a '\n' inside <pre>.
        let mut rest = t;
        while let Some((i, c)) = rest
            .char_indices()
            .find(|&(_, c)| c.is_whitespace() || c == '\u{200b}' || c == '\u{feff}')
        {
            self.cur.push_str(&rest[..i]);
            if c == '\n' && pre {
                self.cur.push('\n');
            } else if !self.cur.ends_with(' ') {
                self.cur.push(' ');
            }
            rest = &rest[i + c.len_utf8()..];
        }
        self.cur.push_str(rest);
    }

    fn line_break(&mut self) {
        self.cur.push('\n');
    }

    fn flush(&mut self) {
        if self.cur.is_empty() {
            return;
        }
        let cur = std::mem::take(&mut self.cur);
        let mut lines: Vec<String> = Vec::new();
        for line in cur.split('\n') {
            let l = collapse_ws(line);
            if l.is_empty() {
                if !lines.is_empty() {
                    self.paras.push(lines.join("\n"));
                    self.levels.push(self.heading);
                    lines.clear();
                }
            } else {
                lines.push(l);
            }
        }
        if !lines.is_empty() {
            self.paras.push(lines.join("\n"));
            self.levels.push(self.heading);
        }
    }

    fn finish(mut self) -> String {
        self.flush();
        self.paras.join("\n\n")
    }

    /// Like `finish`, but drops headings left without body text under them
    /// (the heading of a removed "Related stories" box, say).
    fn finish_article(mut self) -> String {
        self.flush();
        let n = self.paras.len();
        let mut keep = vec![true; n];
        for i in (0..n).rev() {
            let lvl = self.levels[i];
            if lvl == 0 {
                continue;
            }
            // Next kept paragraph.
            let next = (i + 1..n).find(|&j| keep[j]);
            keep[i] = match next {
                None => false,
                Some(j) => {
                    let nl = self.levels[j];
                    nl == 0 || nl > lvl
                }
            };
        }
        let kept: Vec<String> = self
            .paras
            .into_iter()
            .zip(keep)
            .filter_map(|(p, k)| k.then_some(p))
            .collect();
        kept.join("\n\n")
    }
}

fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for w in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Serialises the given subtrees (document order) to paragraphs.
fn serialize(dom: &Dom, roots: &[usize]) -> String {
    serialize_into(dom, roots).finish()
}

/// Serialises an article body, dropping orphan headings.
fn serialize_article(dom: &Dom, roots: &[usize]) -> String {
    serialize_into(dom, roots).finish_article()
}

fn serialize_into(dom: &Dom, roots: &[usize]) -> TextBuilder {
    let mut tb = TextBuilder::new();
    for &r in roots {
        if dom.is_removed(r) {
            continue;
        }
        let mut stack: Vec<(usize, bool)> = vec![(r, false)];
        let mut pre_depth = 0usize;
        while let Some((i, exiting)) = stack.pop() {
            let node = &dom.nodes[i];
            if node.is_text() {
                tb.push_text(node.text, pre_depth > 0);
                continue;
            }
            let tag = node.tag;
            if exiting {
                if tag == "pre" {
                    pre_depth = pre_depth.saturating_sub(1);
                }
                if node.block {
                    tb.flush();
                    if is_heading(tag) {
                        tb.heading = 0;
                    }
                } else if matches!(tag, "td" | "th") {
                    tb.push_text(" ", false);
                }
                continue;
            }
            if tag == "br" {
                tb.line_break();
                continue;
            }
            if tag == "hr" {
                tb.flush();
                continue;
            }
            if node.block {
                tb.flush();
                if is_heading(tag) {
                    tb.heading = tag.as_bytes().get(1).map_or(1, |b| b.saturating_sub(b'0'));
                }
            }
            if tag == "pre" {
                pre_depth += 1;
            }
            stack.push((i, true));
            for &c in node.children.iter().rev() {
                if !dom.nodes[c].removed {
                    stack.push((c, false));
                }
            }
        }
        tb.flush();
    }
    tb
}

fn normalize_paragraphs(s: &str) -> String {
    let mut tb = TextBuilder::new();
    for line in s.split('\n') {
        tb.push_text(line, false);
        tb.line_break();
    }
    // Single newlines in plain text are kept as line breaks.
    tb.finish()
}

/// Final per-paragraph filter: drops short boilerplate lines that survive
/// the structural rules.
fn filter_paragraphs(text: &str, title: Option<&str>) -> String {
    let nt = title.map(norm_key).unwrap_or_default();
    let mut out: Vec<&str> = Vec::new();
    for p in text.split("\n\n") {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        if !nt.is_empty() && norm_key_eq(p, &nt) {
            continue;
        }
        if is_boilerplate_line(p) {
            continue;
        }
        out.push(p);
    }
    out.join("\n\n")
}

fn is_boilerplate_line(p: &str) -> bool {
    if weighted_len(p) > 120.0 {
        return false;
    }
    let l = p.to_lowercase();
    const EXACT: &[&str] = &[
        "advertisement",
        "advertisement:",
        "ad",
        "ads",
        "sponsored",
        "share",
        "share this",
        "share this article",
        "share this story",
        "share on facebook",
        "share on twitter",
        "tweet",
        "email",
        "print",
        "comments",
        "read more",
        "read more:",
        "continue reading",
        "related",
        "related articles",
        "related stories",
        "related content",
        "more on this story",
        "skip to content",
        "skip to main content",
        "loading...",
        "loading",
        "广告",
        "分享",
        "реклама",
        "поделиться",
    ];
    let lt = l.trim_end_matches([':', '.', ' ']);
    if EXACT.contains(&lt) || EXACT.contains(&l.as_str()) {
        return true;
    }
    const PREFIX: &[&str] = &[
        "sign up for",
        "subscribe to our",
        "follow us on",
        "click here to",
        "all rights reserved",
        "copyright ©",
        "© copyright",
        "we use cookies",
        "this site uses cookies",
        "share this article",
        "share on ",
        // "Read also" call-outs in the languages we watch most.
        "read also",
        "also read",
        "see also:",
        "related:",
        "lesen sie auch",
        "auch interessant",
        "mehr zum thema",
        "à lire aussi",
        "a lire aussi",
        "lire aussi",
        "le puede interesar",
        "te puede interesar",
        "lee también",
        "lea también",
        "puedes ver:",
        "mira:",
        "mire:",
        "читайте также",
        "смотрите также",
        "читайте нас",
        "подписывайтесь на",
        "相关阅读",
        "推荐阅读",
        "延伸阅读",
        "延伸閱讀",
        "相关新闻",
        "相關新聞",
        "责任编辑",
        "責任編輯",
    ];
    PREFIX.iter().any(|pre| l.starts_with(pre))
}

fn norm_key(s: &str) -> String {
    norm_key_chars(s).collect()
}

fn norm_key_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
}

/// `norm_key(s) == key` without building the key of `s`.
fn norm_key_eq(s: &str, key: &str) -> bool {
    norm_key_chars(s).eq(key.chars())
}

// ---------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct MetaData {
    /// (lower-case key from name/property/itemprop/http-equiv, content)
    metas: Vec<(String, String)>,
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
    ld_article_body: Option<String>,
    /// Markup of a `<script type="text/template">` inside the article body.
    template_body: Option<String>,
}

impl MetaData {
    fn get(&self, key: &str) -> Option<&str> {
        self.metas
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.metas
            .iter()
            .filter(move |(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
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

fn collect_meta(doc: &Html) -> MetaData {
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
                            m.metas.push((k, content.clone()));
                        }
                    }
                }
            }
            "title" if m.title_tag.is_none() => {
                let t = element_text(el);
                if !t.is_empty() {
                    m.title_tag = Some(t);
                }
            }
            "h1" if m.h1s.len() < 10 => {
                let t = element_text(el);
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

fn parse_json_lenient(raw: &str) -> Option<Value> {
    let s = raw.trim();
    let s = s
        .strip_prefix("<!--")
        .unwrap_or(s)
        .trim_end()
        .strip_suffix("-->")
        .unwrap_or(s)
        .trim();
    let s = s.strip_prefix("//<![CDATA[").unwrap_or(s);
    let s = s.strip_suffix("//]]>").unwrap_or(s).trim();
    if let Ok(v) = serde_json::from_str::<Value>(s) {
        return Some(v);
    }
    // Raw control characters inside strings are a common fault.
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if let Ok(v) = serde_json::from_str::<Value>(&cleaned) {
        return Some(v);
    }
    // Trailing semicolon.
    serde_json::from_str::<Value>(cleaned.trim_end_matches(';')).ok()
}

const ARTICLE_TYPES: &[&str] = &[
    "article",
    "newsarticle",
    "blogposting",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "reviewnewsarticle",
    "backgroundnewsarticle",
    "scholarlyarticle",
    "techarticle",
    "report",
    "liveblogposting",
    "posting",
    "socialmediaposting",
    "webpage",
    "advertisercontentarticle",
    "satiricalarticle",
    "medicalscholarlyarticle",
    "creativework",
    "discussionforumposting",
    "howto",
    "recipe",
    "review",
    "itempage",
    "videoobject",
];

fn ld_type_rank(v: &Value) -> Option<usize> {
    let types: Vec<String> = match v.get("@type") {
        Some(Value::String(s)) => vec![s.to_ascii_lowercase()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .collect(),
        _ => return None,
    };
    types
        .iter()
        .filter_map(|t| {
            let t = t.rsplit('/').next().unwrap_or(t);
            ARTICLE_TYPES.iter().position(|a| *a == t)
        })
        .min()
}

/// All JSON-LD objects (flattening arrays and `@graph`), article-like ones
/// first (by type rank).
fn ld_articles(ld: &[Value]) -> Vec<&Value> {
    let mut flat: Vec<&Value> = Vec::new();
    let mut stack: Vec<&Value> = ld.iter().collect();
    let mut guard = 0;
    while let Some(v) = stack.pop() {
        guard += 1;
        if guard > 10_000 {
            break;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => {
                if let Some(g) = o.get("@graph") {
                    stack.push(g);
                }
                if o.contains_key("@type") {
                    flat.push(v);
                }
                if let Some(me) = o.get("mainEntity") {
                    if me.is_object() {
                        stack.push(me);
                    }
                }
            }
            _ => {}
        }
    }
    let mut ranked: Vec<(usize, &Value)> = flat
        .into_iter()
        .filter_map(|v| ld_type_rank(v).map(|r| (r, v)))
        .collect();
    // Real article types before WebPage & co.
    ranked.sort_by_key(|(r, _)| *r);
    ranked.into_iter().map(|(_, v)| v).collect()
}

fn ld_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Array(a) => a.iter().find_map(ld_str),
        Value::Object(o) => o
            .get("name")
            .or_else(|| o.get("@value"))
            .or_else(|| o.get("url"))
            .and_then(ld_str),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn ld_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.trim().to_string()),
        Value::Array(a) => {
            for x in a.iter().take(20) {
                ld_names(x, out);
            }
        }
        Value::Object(o) => {
            if let Some(n) = o.get("name").and_then(Value::as_str) {
                out.push(n.trim().to_string());
            }
        }
        _ => {}
    }
}

fn ld_first<'a>(arts: &[&'a Value], key: &str) -> Option<&'a Value> {
    arts.iter()
        .find_map(|a| a.get(key).filter(|v| !v.is_null()))
}

fn build_metadata(m: &MetaData, page_url: Option<&Url>) -> Extracted {
    let arts = ld_articles(&m.ld);
    // Only article-like objects for article fields (not WebSite/Organization).
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

    // Authors.
    let mut authors: Vec<String> = Vec::new();
    if let Some(a) = ld_first(&art_only, "author").or_else(|| ld_first(&art_only, "creator")) {
        ld_names(a, &mut authors);
    }
    if authors.is_empty() {
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
                if v.starts_with("http") || (key == "twitter:creator" && v.starts_with('@')) {
                    continue;
                }
                authors.extend(split_authors(v));
            }
            if !authors.is_empty() {
                break;
            }
        }
    }
    if authors.is_empty() {
        authors.extend(m.itemprop_authors.iter().flat_map(|a| split_authors(a)));
    }
    if authors.is_empty() {
        authors.extend(m.rel_authors.iter().flat_map(|a| split_authors(a)));
    }
    if authors.is_empty() {
        if let Some(b) = m.byline_texts.iter().find_map(|b| byline_name(b)) {
            authors.extend(split_authors(&b));
        }
    }
    let mut seen = HashSet::new();
    out.authors = authors
        .into_iter()
        .map(|a| clean_author(&a))
        .filter(|a| !a.is_empty() && a.chars().count() <= 100 && !a.starts_with("http"))
        .filter(|a| a.chars().any(char::is_alphabetic))
        .filter(|a| seen.insert(a.to_lowercase()))
        .take(10)
        .collect();

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

    // Tags.
    let mut tags: Vec<String> = Vec::new();
    for v in m.get_all("article:tag") {
        tags.extend(split_tags(v));
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
        .take(50)
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

fn ld_all_of_type<'a>(ld: &'a [Value], ty: &str) -> Option<&'a Value> {
    let mut stack: Vec<&Value> = ld.iter().collect();
    let mut guard = 0;
    while let Some(v) = stack.pop() {
        guard += 1;
        if guard > 10_000 {
            break;
        }
        match v {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => {
                if o.get("@type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case(ty))
                {
                    return Some(v);
                }
                if let Some(g) = o.get("@graph") {
                    stack.push(g);
                }
            }
            _ => {}
        }
    }
    None
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

// ---------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------

/// The first "2024-03-05 10:20(:30)", "2024/3/5", "2024年3月5日 10:20"
/// style date in a short visible text (read as UTC).
fn date_in_text(t: &str) -> Option<DateTime<Utc>> {
    // ASCII digits only: `\d` is every Unicode digit, which `parse` rejects anyway, and its
    // character class made compiling this regex about 0.5% of the instructions of an `extract`
    // run (callgrind, 40 Zyte pages). A full-width date is skipped for a later ASCII one.
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    let re = RE
        .get_or_init(|| {
            regex::Regex::new(
                r"((?:19|20)[0-9]{2})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?(?:[\sT]*([0-9]{1,2})[:：]([0-9]{2})(?:[:：]([0-9]{2}))?)?",
            )
            .ok()
        })
        .as_ref()?;
    let c = re.captures(t)?;
    let num = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok());
    let date = NaiveDate::from_ymd_opt(num(1)? as i32, num(2)?, num(3)?)?;
    let dt = date.and_hms_opt(
        num(4).unwrap_or(0),
        num(5).unwrap_or(0),
        num(6).unwrap_or(0),
    )?;
    Some(dt.and_utc())
}

/// How far in the future a date may be before it is rejected: a little
/// clock skew for dates with a zone; for naive local times (read as UTC)
/// also the largest zone offset (UTC+14).
fn future_tolerance(zoned: bool) -> Duration {
    if zoned {
        Duration::hours(1)
    } else {
        Duration::hours(15)
    }
}

/// Parses a date in the common formats; rejects dates in the future
/// (relative to `now`) and before 1990.
fn parse_date(s: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let (dt, zoned) = parse_date_any(s)?;
    if dt > now + future_tolerance(zoned) {
        return None;
    }
    if dt.timestamp() < 631_152_000 {
        return None;
    }
    Some(dt)
}

fn parse_date_any(s: &str) -> Option<(DateTime<Utc>, bool)> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some((d.with_timezone(&Utc), true));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(s) {
        return Some((d.with_timezone(&Utc), true));
    }
    // Normalise: trailing Z, " UTC"/" GMT", lower-case t.
    let mut n = s.replace('t', "T");
    for z in [" UTC", " GMT", "UTC", "GMT", "Z"] {
        if let Some(x) = n.strip_suffix(z) {
            n = format!("{}+0000", x.trim_end());
            break;
        }
    }
    const TZ_FORMATS: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%z",
        "%Y-%m-%d %H:%M:%S %z",
        "%Y-%m-%d %H:%M%z",
        "%Y-%m-%d %H:%M %z",
        "%Y/%m/%d %H:%M:%S%z",
        "%Y/%m/%d %H:%M:%S %z",
        "%Y%m%dT%H%M%S%z",
        "%a, %d %b %Y %H:%M:%S %z",
        "%a %b %d %Y %H:%M:%S %z",
        "%d %b %Y %H:%M:%S %z",
    ];
    for f in TZ_FORMATS {
        if let Ok(d) = DateTime::<FixedOffset>::parse_from_str(&n, f) {
            return Some((d.with_timezone(&Utc), true));
        }
    }
    const NAIVE_FORMATS: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y.%m.%d %H:%M:%S",
        "%Y.%m.%d %H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%d.%m.%Y %H:%M",
        "%Y%m%dT%H%M%S",
        "%Y年%m月%d日 %H:%M:%S",
        "%Y年%m月%d日 %H:%M",
        "%Y年%m月%d日%H:%M",
        "%a, %d %b %Y %H:%M:%S",
        "%d %b %Y %H:%M:%S",
        "%B %d, %Y %H:%M:%S",
    ];
    for f in NAIVE_FORMATS {
        if let Ok(d) = NaiveDateTime::parse_from_str(&n, f) {
            return Some((d.and_utc(), false));
        }
    }
    const DATE_FORMATS: &[&str] = &[
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y.%m.%d",
        "%d.%m.%Y",
        "%Y%m%d",
        "%Y年%m月%d日",
        "%B %d, %Y",
        "%b %d, %Y",
        "%d %B %Y",
        "%d %b %Y",
    ];
    for f in DATE_FORMATS {
        if let Ok(d) = NaiveDate::parse_from_str(&n, f) {
            return d.and_hms_opt(0, 0, 0).map(|x| (x.and_utc(), false));
        }
    }
    // Leading date of a longer string, e.g. "2024-03-05T10:00:00.000+01:00[Europe/Paris]".
    if n.len() >= 10 && n.is_char_boundary(10) {
        let head = &n[..10];
        if head != n {
            if let Ok(d) = NaiveDate::parse_from_str(head, "%Y-%m-%d") {
                return d.and_hms_opt(0, 0, 0).map(|x| (x.and_utc(), false));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(head: &str, body: &str) -> String {
        format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\">{head}</head><body>{body}</body></html>")
    }

    const PARAS: &str = "<article><p>The first paragraph of the story is long enough to be taken for real article text, with commas, clauses and detail.</p>\
        <p>A second paragraph continues the report, adding quotes, numbers and context so that the scorer sees a body.</p>\
        <p>The third paragraph closes the piece with a short outlook on what happens next in the matter.</p></article>";

    #[test]
    fn future_date_rejected_past_kept() {
        let future = (Utc::now() + Duration::days(30)).to_rfc3339();
        let html = page(
            &format!(
                "<meta property=\"article:published_time\" content=\"{future}\">\
                 <meta name=\"date\" content=\"2023-06-01T12:00:00Z\">"
            ),
            PARAS,
        );
        let got = extract(&html, None);
        assert_eq!(
            got.published.map(|d| d.to_rfc3339()),
            Some("2023-06-01T12:00:00+00:00".to_string())
        );
        let only_future = page(
            &format!("<meta property=\"article:published_time\" content=\"{future}\">"),
            PARAS,
        );
        assert_eq!(extract(&only_future, None).published, None);
        // Three hours ahead: too far for a zoned time, fine for a naive
        // local time (it may be UTC+8 wall-clock time read as UTC).
        let now = Utc::now();
        let ahead = now + Duration::hours(3);
        assert_eq!(parse_date(&ahead.to_rfc3339(), now), None);
        let naive = ahead.format("%Y-%m-%d %H:%M:%S").to_string();
        assert!(parse_date(&naive, now).is_some());
    }

    #[test]
    fn date_in_plain_script_ignored() {
        let html = page(
            "<script>window.meta = {\"datePublished\": \"2020-01-02T03:04:05Z\"};</script>",
            &format!("{PARAS}<script>var d = '<time datetime=\"2021-01-01\">';</script>"),
        );
        let got = extract(&html, None);
        assert_eq!(got.published, None);
        assert_eq!(got.modified, None);
    }

    #[test]
    fn time_element_used_for_date() {
        let html = page(
            "",
            &format!("<time datetime=\"2022-11-03T08:00:00-05:00\" pubdate>Nov 3</time>{PARAS}"),
        );
        let got = extract(&html, None);
        assert_eq!(
            got.published.map(|d| d.to_rfc3339()),
            Some("2022-11-03T13:00:00+00:00".to_string())
        );
    }

    #[test]
    fn date_formats() {
        let now = Utc::now();
        let cases = [
            ("2024-03-05T10:20:30Z", "2024-03-05T10:20:30+00:00"),
            (
                "2024-03-05T10:20:30.123+02:00",
                "2024-03-05T08:20:30.123+00:00",
            ),
            ("2024-03-05T10:20:30+0200", "2024-03-05T08:20:30+00:00"),
            ("2024-03-05 10:20:30", "2024-03-05T10:20:30+00:00"),
            ("2024-03-05 10:20", "2024-03-05T10:20:00+00:00"),
            ("2024/03/05 10:20", "2024-03-05T10:20:00+00:00"),
            ("2024-03-05", "2024-03-05T00:00:00+00:00"),
            ("Tue, 05 Mar 2024 10:20:30 GMT", "2024-03-05T10:20:30+00:00"),
            (
                "Tue, 05 Mar 2024 10:20:30 +0100",
                "2024-03-05T09:20:30+00:00",
            ),
            ("2024年3月5日 10:20", "2024-03-05T10:20:00+00:00"),
            ("20240305", "2024-03-05T00:00:00+00:00"),
        ];
        for (input, want) in cases {
            let got = parse_date(input, now).map(|d| d.to_rfc3339());
            assert_eq!(got.as_deref(), Some(want), "parsing {input:?}");
        }
        assert_eq!(parse_date("not a date", now), None);
        assert_eq!(parse_date("", now), None);
        assert_eq!(parse_date("1800-01-01", now), None);
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
    fn text_measures_match_char_by_char_definitions() {
        // The previous char-by-char `weighted_len` (pure ASCII text keeps its
        // `is_ascii_whitespace` rule, under which \x0b counts as a character).
        let weighted = |s: &str| -> f32 {
            if s.is_ascii() {
                return s.bytes().filter(|b| !b.is_ascii_whitespace()).count() as f32;
            }
            s.chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| if is_cjk(c) { 2.5 } else { 1.0 })
                .sum()
        };
        let commas = |s: &str| {
            s.chars()
                .filter(|c| matches!(c, ',' | '，' | '、' | '،' | '；' | '。'))
                .count() as u32
        };
        for s in [
            "",
            "  plain, ascii\ttext\x0b\n",
            "café, naïve — “quoted”\u{a0}non-breaking\u{2003}em space\x0b",
            "新华社北京电，国务院、新闻办公室；今天。 한국어 日本語のかな",
            "مرحبا، بالعالم , ok",
            "\u{ff0d}\u{ff1c}\u{3003}\u{60d} near misses",
            "𠀀 astral ideograph, 1",
        ]
        .into_iter()
        .map(str::to_string)
        .chain([
            // Long mixed texts: ASCII runs between other characters, \x0b.
            format!("{}é{}", "a b".repeat(10), " c\x0bd".repeat(20)),
            "ab é “ 新 \x0b 𠀀\u{3000}".repeat(40),
            format!("{}\x0b{}", "word ".repeat(13), "x".repeat(40)),
            format!("{}“{}新华社", "\x0b".repeat(31), "\t".repeat(33)),
        ]) {
            let s = s.as_str();
            assert_eq!(weighted_len(s), weighted(s), "{s:?}");
            assert_eq!(count_commas(s), commas(s), "{s:?}");
        }
        // Every character beyond ASCII, alone and between ASCII words.
        for c in (0x80..=0x10FFFFu32).filter_map(char::from_u32) {
            let alone = c.to_string();
            assert_eq!(weighted_len(&alone), weighted(&alone), "{c:?}");
            let mixed = format!("ab {c}\x0bcd{c}");
            assert_eq!(weighted_len(&mixed), weighted(&mixed), "{c:?}");
        }
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
    fn cjk_paragraph_of_sixty_chars_is_substantial() {
        let para = "这是一段用于测试的中文新闻正文，内容描述了城市交通建设的最新进展，并引用了相关部门负责人的介绍和说明。";
        assert!(para.chars().count() >= 50);
        let html = page(
            "",
            &format!("<div class=\"menu\"><a href=\"/\">首页</a><a href=\"/n\">新闻</a></div><div class=\"text\"><p>{para}</p></div>"),
        );
        let got = extract(&html, None);
        assert_eq!(got.text, para);
    }

    #[test]
    fn br_breaks_lines_and_double_br_paragraphs() {
        let html = page(
            "",
            "<div id=\"article\">第一行文字内容比较长，描述了事情的起因和经过，读者可以了解到基本情况。<br>第二行文字继续说明，补充了更多的细节和背景资料，内容同样相当充实。<br><br>第三段开始了新的话题，介绍有关部门的后续安排以及下一步的工作计划。</div>",
        );
        let got = extract(&html, None);
        let paras: Vec<&str> = got.text.split("\n\n").collect();
        assert_eq!(paras.len(), 2, "{:?}", got.text);
        assert_eq!(paras[0].lines().count(), 2);
        assert!(paras[1].starts_with("第三段"));
    }

    #[test]
    fn never_panics_on_odd_input() {
        let deep = "<div><table><tr><td>".repeat(5000) + "text";
        let inputs: Vec<String> = vec![
            String::new(),
            " ".to_string(),
            "\u{0}\u{1}\u{fffd}binary\u{7f}".to_string(),
            "<html><body><p>unclosed <b>bold <i>italic".to_string(),
            "<<<>>><!-- <script>".to_string(),
            deep,
            "<script type=\"application/ld+json\">{\"@type\": [1, {}], \"author\": [[[]]], \"datePublished\": 5}</script>".to_string(),
            "<meta property=\"og:image\" content=\"javascript:alert(1)\"><link rel=canonical href=\"http://[::1\">".to_string(),
        ];
        let base = Url::parse("https://example.org/x").ok();
        for i in &inputs {
            let _ = extract(i, None);
            let _ = extract(i, base.as_ref());
            let _ = html_fragment_to_text(i);
        }
    }

    #[test]
    fn pathological_nesting_is_cut_quickly() {
        let deep = "<div>".repeat(50_000) + "deep text" + &"</div>".repeat(50_000);
        let t = std::time::Instant::now();
        let _ = extract(&deep, None);
        assert!(t.elapsed() < std::time::Duration::from_secs(20));
        let cut = prescan::prepare(&deep, true);
        assert!(cut.len() < deep.len() && cut.ends_with("<div>"));
    }

    #[test]
    fn selectors_checked() {
        assert!(check_selector("article .body > p").is_ok());
        assert!(check_selector("p[").is_err());
        assert!(check_selector("   ").is_err());
        let opts = ExtractOptions {
            content_selector: Some(")(".to_string()),
            remove_selectors: vec!["[".to_string(), "p:nth-child(".to_string()],
        };
        let got = extract_with(&page("", PARAS), None, &opts);
        assert!(got.text.starts_with("The first paragraph"));
    }

    #[test]
    fn fragment_to_text() {
        assert_eq!(
            html_fragment_to_text("<div>Intro <a href=x>link</a></div><ul><li>one</li><li>two</li></ul><script>x()</script>"),
            "Intro link\n\none\n\ntwo"
        );
        assert_eq!(
            html_fragment_to_text("plain  text\n\nsecond"),
            "plain text\n\nsecond"
        );
        assert_eq!(html_fragment_to_text("Fish &amp; chips"), "Fish & chips");
    }

    #[test]
    fn lead_before_body_kept_and_orphan_heading_dropped() {
        let html = page(
            "",
            "<article><header><h1>Headline</h1><p class=\"article-lead\">A short standfirst that sums the story up.</p></header>\
             <div class=\"story-body\"><p>The first paragraph of the story is long enough to be taken for real article text, with commas and detail.</p>\
             <p>A second paragraph continues the report, adding quotes, numbers and context so that the scorer sees a body.</p>\
             <h3>More from the site</h3><ul><li><a href=\"/a\">Another story entirely</a></li><li><a href=\"/b\">Yet another story</a></li></ul></div></article>",
        );
        let got = extract(&html, None);
        assert!(got.text.starts_with("A short standfirst"), "{:?}", got.text);
        assert!(!got.text.contains("More from the site"), "{:?}", got.text);
        assert!(!got.text.contains("Another story"), "{:?}", got.text);
        assert!(got.text.ends_with("sees a body."));
    }

    #[test]
    fn lead_found_across_indentation() {
        // Indentation between siblings is text nodes; a lead two elements
        // before the body must still be found.
        let html = page(
            "",
            "<article>\n  <header><h1>Headline</h1><p class=\"article-lead\">A short standfirst that sums the story up.</p></header>\n  \
             <div class=\"byline\">By A. Writer</div>\n  <div class=\"dateline\">Monday</div>\n  \
             <div class=\"story-body\">\n    <p>The first paragraph of the story is long enough to be taken for real article text, with commas and detail.</p>\n    \
             <p>A second paragraph continues the report, adding quotes, numbers and context so that the scorer sees a body.</p>\n  \
             <h3>More from the site</h3><ul><li><a href=\"/a\">Another story entirely</a></li><li><a href=\"/b\">Yet another story</a></li></ul></div>\n</article>",
        );
        let got = extract(&html, None);
        assert!(got.text.starts_with("A short standfirst"), "{:?}", got.text);
        assert!(got.text.ends_with("sees a body."), "{:?}", got.text);
    }

    #[test]
    fn visible_dates_in_date_elements() {
        assert_eq!(
            date_in_text("发布时间：2019年09月09日 18:13:22").map(|d| d.to_rfc3339()),
            Some("2019-09-09T18:13:22+00:00".to_string())
        );
        assert_eq!(
            date_in_text("2020-1-5").map(|d| d.to_rfc3339()),
            Some("2020-01-05T00:00:00+00:00".to_string())
        );
        assert_eq!(date_in_text("no date here"), None);
        assert_eq!(date_in_text("２０１９年９月９日"), None);
        assert_eq!(
            date_in_text("２０１９年９月９日 / 2020-1-5").map(|d| d.to_rfc3339()),
            Some("2020-01-05T00:00:00+00:00".to_string())
        );
        let html = page(
            "",
            &format!("<span class=\"pubtime\">2021/04/05 09:30</span>{PARAS}"),
        );
        assert_eq!(
            extract(&html, None).published.map(|d| d.to_rfc3339()),
            Some("2021-04-05T09:30:00+00:00".to_string())
        );
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

    #[test]
    fn read_also_callouts_dropped() {
        let html = page(
            "",
            "<div class=\"text\"><p>Власти города объявили о ремонте главной площади, который продлится до конца лета, а движение транспорта будет частично ограничено.</p>\
             <p>Читайте также: <a href=\"/x\">Новый парк откроется в июне</a> и другие новости</p>\
             <p>Работы будут вестись в ночное время, чтобы не мешать жителям и гостям города, сообщили в мэрии.</p>\
             <p>责任编辑：张三</p></div>",
        );
        let got = extract(&html, None);
        assert!(!got.text.contains("Читайте также"), "{:?}", got.text);
        assert!(!got.text.contains("责任编辑"), "{:?}", got.text);
        assert!(got.text.contains("в ночное время"));
    }

    #[test]
    fn template_post_body_used_when_page_is_empty() {
        let html = page(
            "",
            "<div class=\"post-body\" itemprop=\"articleBody\"><script type=\"text/template\">\
             <p>This post body is shipped as a client-side template and rendered by script, so the static page shows nothing.</p>\
             <p>A second paragraph of the same post, with enough words to count as article text for the extractor.</p>\
             </script></div>",
        );
        let got = extract(&html, None);
        assert!(
            got.text.starts_with("This post body is shipped"),
            "{:?}",
            got.text
        );
        assert_eq!(got.text.split("\n\n").count(), 2);
    }

    #[test]
    fn byline_from_page_when_no_metadata() {
        let html = page(
            "",
            &format!("<div class=\"byline\">By Jane Roe | 3 May 2024</div>{PARAS}"),
        );
        assert_eq!(extract(&html, None).authors, vec!["Jane Roe"]);
    }

    #[test]
    fn authors_split_and_cleaned() {
        let html = page(
            "<meta name=\"author\" content=\"By Anna Berg and Tom Hale\">",
            PARAS,
        );
        assert_eq!(extract(&html, None).authors, vec!["Anna Berg", "Tom Hale"]);
        let html = page("<meta name=\"author\" content=\"Smith, John\">", PARAS);
        assert_eq!(extract(&html, None).authors, vec!["Smith, John"]);
    }
}
