//! Article extraction: turns one HTML page into an [`Extracted`] record
//! (headline, main text, description, byline, dates, canonical URL, site name,
//! language, section, tags, image).
//!
//! How the main text is found:
//!
//! 1. The page is parsed with `scraper` (html5ever) and copied into a small
//!    arena tree that the rest of the module walks iteratively (no recursion,
//!    so deeply nested pages cannot overflow the stack; `dom.rs`). Pathologically
//!    deep markup is cut before parsing, since html5ever is quadratic in nesting
//!    depth, together with markup the extractor never reads (`prescan.rs`).
//! 2. Boilerplate is removed by structure (`script`, `style`, `nav`, `aside`,
//!    `footer`, forms, captions, hidden elements, ...) and by class/id hints
//!    (comments, share buttons, related links, newsletter boxes, cookie
//!    banners, author boxes, ...; the word lists are in `hints.rs`), never
//!    removing a block that holds a large share of the page's text (it
//!    probably wraps the article).
//! 3. Candidate containers are scored Readability-style from the text of the
//!    paragraphs they hold (length counted in characters, CJK characters
//!    weighted so that a 60-character Chinese paragraph counts as substantial;
//!    `measure.rs`), damped by link density, boosted by structural hints
//!    (`<article>`, `itemprop=articleBody`, "article-body"-like classes). The
//!    best container grows to an ancestor that adds clean paragraph text, takes
//!    in qualifying siblings and a lead/standfirst marked as such just before
//!    it, and is then cleaned conditionally (link lists, link-only paragraphs,
//!    widget-like blocks, the headline, headings left without text). Steps 2
//!    and 3 are `body.rs`.
//! 4. The kept tree is serialised to text: block elements, headings and list
//!    items become paragraphs separated by a blank line; `<br>` is a line
//!    break and `<br><br>` a paragraph break; whitespace is collapsed
//!    (`text.rs`, which also drops leftover boilerplate lines).
//! 5. A schema.org `articleBody` from JSON-LD is used instead when it is long,
//!    agrees with the page's words and the DOM result is much shorter (this
//!    file, which runs the steps).
//!
//! Metadata come from JSON-LD, OpenGraph / Twitter / Dublin Core `<meta>`
//! tags, `<link rel=canonical>`, `<html lang>`, `<time datetime>` and, as a
//! last resort, visible bylines and dates in elements whose class says so
//! (`metadata.rs`, `jsonld.rs`). Dates are never taken from `<script>` text
//! other than JSON-LD, and dates in the future are rejected (one hour of
//! tolerance for zoned times, fifteen for naive local times, which are read
//! as UTC; `dates.rs`).
//!
//! Deliberately NOT done here: fetching, charset decoding (see
//! [`crate::charset`]), language detection, JavaScript
//! rendering, multi-page article stitching, comment extraction, and keeping
//! image/table markup (the output is plain text only).

mod body;
mod dates;
mod dom;
mod hints;
mod jsonld;
#[cfg(feature = "learn-dump")]
mod learned;
mod measure;
mod metadata;
mod prescan;
mod text;

use std::collections::HashSet;

use scraper::{Html, Selector};
use url::Url;

use crate::model::Extracted;
use body::extract_generic;
use dom::Dom;
use measure::weighted_len;
use metadata::{build_metadata, collect_meta, MetaData};
use text::{normalize_paragraphs, serialize};

/// Per-feed overrides (from feeds.toml): exact selectors for outlets the generic extractor gets wrong.
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

/// The work a page may cost, in [`Work`] units, per byte of HTML: 20, about
/// 20 ns of CPU each on the 2-core machine of the benches (1 unit is about a
/// nanosecond there). Ordinary news pages cost 7 to 10 ns per byte (the
/// corpora: 7.9 ms per MB over 864 pages), so a page may cost two to three
/// times what an ordinary page of its size costs; one whose markup would cost
/// more (a node every few bytes, formatting or nesting that html5ever
/// multiplies) is stopped in the pre-scan, before it is parsed, or between
/// the steps after it, and archived from its feed's text.
pub const WORK_PER_BYTE: u64 = 20;

/// Pages smaller than this get the budget of a page of this size: a small
/// page's fixed costs (metadata, the passes' setup) weigh more per byte, and
/// the costliest page of the corpora took 6.9 million units, a third of it.
pub const WORK_FLOOR_BYTES: u64 = 1_000_000;

/// The work budget of a page of `bytes` bytes: [`WORK_PER_BYTE`] for each
/// byte, at least [`WORK_FLOOR_BYTES`] of them (20 million units: about
/// 20 ms; 200 million, about 0.2 s, at the 10 MB body cap).
pub fn work_budget(bytes: usize) -> u64 {
    WORK_PER_BYTE.saturating_mul((bytes as u64).max(WORK_FLOOR_BYTES))
}

/// Units per byte scanned (by the pre-scan, then by html5ever).
pub(crate) const BYTE_UNITS: u64 = 2;

/// Units per node built: html5ever's tokenizer and tree builder and the
/// extractor's own tree (`Dom::build`) spend about 400 ns on a node, two
/// hundred times a byte's scan. Fitted with `examples/extract_work.rs` on the
/// corpora's pages and the adversarial shapes (README, "Hostile pages").
pub(crate) const NODE_UNITS: u64 = 400;

/// Units per step up the tree (the depth of every node): html5ever's scope
/// checks walk the open elements, through scraper's tree, for each paragraph
/// and many end tags, about 4 ns a step (1 MB of paragraphs 512 levels deep
/// took 30 to 55 ms in a process of its own), and the extractor's ancestor
/// walks as much.
pub(crate) const DEPTH_UNITS: u64 = 4;

/// Units per node visited by one of the extractor's whole-tree passes.
pub(crate) const VISIT_UNITS: u64 = 16;

/// Whole-tree passes one run of the generic search makes (statistics three
/// times, structural marking, scoring, picking, cleaning, serialising).
const PASSES_PER_SEARCH: u64 = 8;

/// What extracting one page cost, counted as it goes: bytes scanned (the
/// pre-scan reads the page, html5ever what is left), nodes built, the depth
/// of every node (html5ever's scope checks and the extractor's ancestor
/// walks) and nodes visited by the extractor's whole-tree passes, weighed
/// by what each costs ([`BYTE_UNITS`], [`NODE_UNITS`], [`DEPTH_UNITS`],
/// [`VISIT_UNITS`]). Before the parse, `nodes` and `depth_sum` are the
/// pre-scan's estimates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Bytes scanned: the page by the pre-scan, then what it kept by html5ever.
    pub bytes: u64,
    /// Nodes in the parsed tree (before it: two per element start kept).
    pub nodes: u64,
    /// Sum of the depths of the parsed tree's nodes.
    pub depth_sum: u64,
    /// Nodes visited by the extractor's passes.
    pub visits: u64,
}

impl Work {
    /// All units spent.
    pub fn total(&self) -> u64 {
        BYTE_UNITS * self.bytes
            + NODE_UNITS * self.nodes
            + DEPTH_UNITS * self.depth_sum
            + VISIT_UNITS * self.visits
    }

    fn check(&self, budget: u64, stage: &'static str) -> Result<(), ExtractError> {
        if self.total() > budget {
            return Err(ExtractError::OverBudget {
                stage,
                work: *self,
                budget,
            });
        }
        Ok(())
    }
}

/// Why a page was not extracted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// The page's markup costs more than its work budget ([`work_budget`]).
    #[error(
        "page over the extraction work budget of {budget} units at {stage}, after {} units \
         ({} bytes scanned, {} nodes, depth sum {}, {} nodes visited); its markup is hostile or broken, \
         so the feed's text stands for it",
        work.total(), work.bytes, work.nodes, work.depth_sum, work.visits
    )]
    OverBudget {
        /// The step after which the budget was found spent.
        stage: &'static str,
        /// The work counted up to there.
        work: Work,
        /// The budget.
        budget: u64,
    },
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
/// text and no metadata, and so does a page over its [`work_budget`] (use
/// [`extract_checked`] to tell that apart).
pub fn extract_with(html: &str, page_url: Option<&Url>, opts: &ExtractOptions) -> Extracted {
    extract_checked(html, page_url, opts, work_budget(html.len()))
        .map(|(e, _)| e)
        .unwrap_or_default()
}

/// [`extract_with`] under a work budget: the page's [`Work`] is counted
/// between the steps and extraction stops with [`ExtractError::OverBudget`]
/// once it exceeds `budget` (each step costs at most a bounded multiple of
/// the page's size: the pre-scan bounds nesting and what html5ever re-opens).
/// Returns what was extracted and the work it cost.
pub fn extract_checked(
    html: &str,
    page_url: Option<&Url>,
    opts: &ExtractOptions,
    budget: u64,
) -> Result<(Extracted, Work), ExtractError> {
    let mut work = Work {
        bytes: html.len() as u64,
        ..Work::default()
    };
    let strip_attrs = opts.content_selector.is_none() && opts.remove_selectors.is_empty();
    // What the pre-scan may leave for the walks up the tree: the budget less two scans of the page.
    let room = budget.saturating_sub(2 * BYTE_UNITS * work.bytes);
    let prepared = prescan::prepare_within(html, strip_attrs, room);
    work.bytes += prepared.text.len() as u64;
    work.depth_sum = prepared.depth_sum;
    work.nodes = 2 * prepared.starts;
    if prepared.over {
        // Over before it is parsed: the cut document is not worth parsing.
        return Err(ExtractError::OverBudget {
            stage: "the pre-scan",
            work,
            budget,
        });
    }
    work.check(budget, "the pre-scan")?;
    let doc = Html::parse_document(&prepared.text);
    work.nodes = doc.tree.nodes().len() as u64;
    work.check(budget, "parsing")?;
    let meta = collect_meta(&doc);
    let mut out = build_metadata(&meta, page_url);

    let mut dom = Dom::build(&doc, opts);
    work.depth_sum = dom.depth_sum();
    work.visits = dom.nodes.len() as u64;
    work.check(budget, "building the tree")?;
    let text = main_text(
        &mut dom,
        &meta,
        out.title.as_deref(),
        opts,
        &mut work,
        budget,
    )?;
    out.text = text;
    Ok((out, work))
}

/// Why a CSS selector from the config is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// Blank.
    #[error("empty CSS selector")]
    Empty,
    /// Not CSS the parser accepts.
    #[error("invalid CSS selector {selector:?}: {reason}")]
    Invalid {
        /// The selector as written.
        selector: String,
        /// The parser's message.
        reason: String,
    },
}

/// Checks that `s` is a valid CSS selector (for config validation).
pub fn check_selector(s: &str) -> Result<(), SelectorError> {
    if s.trim().is_empty() {
        return Err(SelectorError::Empty);
    }
    Selector::parse(s)
        .map(|_| ())
        .map_err(|e| SelectorError::Invalid {
            selector: s.to_string(),
            reason: e.to_string(),
        })
}

/// A hostile page made safe to parse for the other readers of HTML (section pages, Telegram previews): the
/// extractor's byte pre-scan with every attribute kept (their selectors may use any), which drops scripts,
/// styles and other unread raw text, flattens nesting deeper than 512 levels (what html5ever parses in
/// time linear in the page) and closes an unclosed `<title>` after 64 kB.
pub fn prepare_for_parsing(html: &str) -> std::borrow::Cow<'_, str> {
    prescan::prepare(html, false)
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

/// The article's text: the per-feed content selector's matches when they hold
/// text, else the generic search (`body.rs`), run again without class/id hints
/// when it finds little; a JSON-LD `articleBody` or a template body replaces it
/// when clearly longer.
fn main_text(
    dom: &mut Dom,
    meta: &MetaData,
    title: Option<&str>,
    opts: &ExtractOptions,
    work: &mut Work,
    budget: u64,
) -> Result<String, ExtractError> {
    let pass = dom.nodes.len() as u64;
    dom.remove_always_junk();
    work.visits += pass;

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
                return Ok(t);
            }
        }
    }

    let snapshot: Vec<bool> = dom.nodes.iter().map(|n| n.removed).collect();
    // `best_len` is kept equal to `weighted_len(&best)` (one pass per text).
    work.visits += PASSES_PER_SEARCH * pass;
    work.check(budget, "the content search")?;
    let mut best = extract_generic(dom, title, true);
    let mut best_len = weighted_len(&best);
    if best_len < 250.0 {
        for (n, &r) in dom.nodes.iter_mut().zip(snapshot.iter()) {
            n.removed = r;
        }
        work.visits += PASSES_PER_SEARCH * pass;
        work.check(budget, "the content search without hints")?;
        let relaxed = extract_generic(dom, title, false);
        let relaxed_len = weighted_len(&relaxed);
        if relaxed_len > best_len * 1.5 + 50.0 {
            best = relaxed;
            best_len = relaxed_len;
        }
    }

    // JSON-LD articleBody when the DOM result is poor.
    if let Some(body) = meta.ld_article_body.as_deref() {
        work.bytes += body.len() as u64;
        work.check(budget, "the JSON-LD article body")?;
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
    Ok(best)
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

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};

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
    fn pathological_nesting_is_flattened() {
        // 50,000 levels: the tree keeps 512 of them, the text is still there, and the work is what 512
        // levels cost (on main the text was dropped with everything past 3,000 levels).
        let para = "<p>The minister said on Tuesday that the talks, which began in March, would \
                    continue, and that both sides had agreed to meet again before the summer.</p>";
        let inner = para.replace("minister", "deep text");
        let after = para.replace("minister", "after");
        let deep = "<div>".repeat(50_000) + &inner + &"</div>".repeat(50_000) + &after;
        let budget = work_budget(deep.len());
        let (e, work) = extract_checked(&deep, None, &ExtractOptions::default(), budget).unwrap();
        assert!(
            e.text.contains("The deep text said") && e.text.contains("The after said"),
            "{}",
            e.text
        );
        assert!(work.depth_sum < 200_000, "{work:?}");
        let kept =
            "<div>".repeat(prescan::MAX_DEPTH) + &inner + &"</div>".repeat(prescan::MAX_DEPTH);
        assert_eq!(prescan::prepare(&deep, true), kept + &after);
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
