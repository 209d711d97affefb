//! Finding the main text in the arena DOM: per-subtree statistics, structural
//! and hint-based boilerplate removal, Readability-style candidate scoring,
//! picking the container with its siblings and lead/standfirst, and
//! conditional cleaning of what was kept. The JSON-LD and template
//! alternatives are weighed against this result in `mod.rs`.

use super::dom::{is_heading, DNode, Dom, NONE};
use super::hints::{class_weight, hint_negative, hint_positive, hint_strong_negative, hint_tokens};
use super::text::{filter_paragraphs, norm_key, serialize_article};

/// Text statistics of one node's subtree (removed nodes count for nothing).
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

/// The generic pipeline: boilerplate removal, candidate scoring, cleaning,
/// serialisation. `hints` switches class/id-based removal on.
pub(super) fn extract_generic(dom: &mut Dom, title: Option<&str>, hints: bool) -> String {
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
    if ld > 0.5 {
        return true;
    }
    false
}
