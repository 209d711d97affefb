//! The arena DOM the extractor walks: the parsed document copied into a flat,
//! pre-order `Vec` of nodes (no recursion anywhere, so deep pages cannot
//! overflow the stack), with the per-feed selectors applied, and the
//! structural tag tables (junk, block, heading). No scoring happens here.

use std::borrow::Cow;
use std::collections::HashSet;

use scraper::{Html, Node, Selector};

use super::measure::{count_commas, weighted_len};
use super::ExtractOptions;

pub(super) const NONE: usize = usize::MAX;

#[derive(Debug, Default)]
pub(super) struct DNode<'a> {
    /// Tag name, borrowed from the parsed document; empty for text nodes.
    /// html5ever lower-cases HTML element names; only SVG/MathML keep mixed
    /// case (`foreignObject`), and those match none of the names used here
    /// in either case.
    pub(super) tag: &'a str,
    /// Text content (text nodes only), borrowed from the parsed document.
    pub(super) text: &'a str,
    pub(super) parent: usize,
    pub(super) children: Vec<usize>,
    /// One past the last index of this node's subtree (pre-order numbering).
    pub(super) end: usize,
    /// Lower-case `class` + " " + `id`; borrowed from the document when the
    /// class alone already is that (most elements), so no allocation.
    pub(super) hint: Cow<'a, str>,
    pub(super) itemprop_body: bool,
    pub(super) role: String,
    hidden: bool,
    forced_remove: bool,
    pub(super) forced_content: bool,
    pub(super) removed: bool,
    /// Block-level element (starts a new paragraph).
    pub(super) block: bool,
    /// Weighted length and comma count of a text node.
    pub(super) wlen: f32,
    pub(super) commas: u32,
}

impl DNode<'_> {
    pub(super) fn is_text(&self) -> bool {
        self.tag.is_empty()
    }
}

pub(super) struct Dom<'a> {
    pub(super) nodes: Vec<DNode<'a>>,
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
    pub(super) fn build(doc: &'a Html, opts: &ExtractOptions) -> Dom<'a> {
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

    /// The sum of every node's depth: what walks up the tree cost (html5ever's
    /// scope checks while it built it, the extractor's ancestor walks).
    pub(super) fn depth_sum(&self) -> u64 {
        let mut depth = vec![0u32; self.nodes.len()];
        let mut sum = 0u64;
        for (i, n) in self.nodes.iter().enumerate() {
            // Pre-order: a parent comes before its children.
            let d = depth.get(n.parent).map_or(0, |&d| d + 1);
            depth[i] = d;
            sum += u64::from(d);
        }
        sum
    }

    pub(super) fn is_removed(&self, i: usize) -> bool {
        self.nodes.get(i).is_none_or(|n| n.removed)
    }

    /// Marks nodes inside a removed ancestor as removed too.
    pub(super) fn propagate_removed(&mut self) {
        for i in 1..self.nodes.len() {
            let p = self.nodes[i].parent;
            if p != NONE && p < self.nodes.len() && self.nodes[p].removed {
                self.nodes[i].removed = true;
            }
        }
    }

    /// Removes elements that never hold article text.
    pub(super) fn remove_always_junk(&mut self) {
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
pub(super) fn is_block(tag: &str) -> bool {
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

pub(super) fn is_heading(tag: &str) -> bool {
    matches!(tag, "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}
