//! Turning the kept tree into text: the paragraph builder (block elements,
//! headings and list items become paragraphs, `<br>` a line break, `<br><br>`
//! a paragraph break, whitespace collapsed), and the last per-paragraph filter
//! that drops boilerplate lines and the repeated title. It does not decide
//! which nodes are kept (`body.rs` does).

use super::dom::{is_heading, Dom};
use super::measure::weighted_len;

/// Paragraphs built from text runs and breaks, with the heading level of each.
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

pub(super) fn collapse_ws(s: &str) -> String {
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
pub(super) fn serialize(dom: &Dom, roots: &[usize]) -> String {
    serialize_into(dom, roots).finish()
}

/// Serialises an article body, dropping orphan headings.
pub(super) fn serialize_article(dom: &Dom, roots: &[usize]) -> String {
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

pub(super) fn normalize_paragraphs(s: &str) -> String {
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
pub(super) fn filter_paragraphs(text: &str, title: Option<&str>) -> String {
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

pub(super) fn norm_key(s: &str) -> String {
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
