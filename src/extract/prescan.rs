//! A byte scan run before html5ever: drops the markup the extractor throws
//! away anyway (scripts, styles, `<noscript>`, `<template>`, `<svg>`,
//! `<math>`, `<iframe>`, `<textarea>`, HTML comments), so the parser sees
//! fewer bytes, flattens pathological nesting (tags deeper than 512 levels)
//! and closes an unclosed `<title>`. When no caller selectors apply it also
//! cuts the attributes the extractor never reads, void elements it never
//! reads (`<img>`, `<source>`, non-canonical `<link>`s, `<meta>`s without a
//! key) and whitespace-only text next to block tags.
//!
//! Kept: `<script>`s whose tag mentions `ld+json` or `text/template` (the
//! metadata reads them), raw-text elements the metadata reads (`<title>`),
//! and everything else byte for byte. Every cut is at an ASCII byte or a
//! character boundary, so the pieces stay valid UTF-8. The rules follow the
//! HTML tokenizer closely enough for real pages (script escapes, raw text,
//! foreign content with its HTML "breakout" tags, CDATA); where they differ
//! the cost is at worst some junk text, never a panic.

use std::borrow::Cow;
use std::collections::HashMap;

/// Nesting depth beyond which start tags are cut and their content kept
/// where it is, one level up (their end tags go too): the tree is at most
/// this deep. html5ever's scope checks walk the stack of open elements for
/// every paragraph and many other tags, so parsing costs the page's size
/// times its depth (100 000 nested `<div>`s took about a minute; 1 MB of
/// paragraphs under 3 000 `<div>`s 91 ms). Chromium's parser flattens the
/// tree at the same depth (`kMaximumHTMLParserDOMTreeDepth`); no page of the
/// corpora reaches it (the test `corpus_pages_stay_shallow`).
pub(super) const MAX_DEPTH: usize = 512;

/// Bytes of an unclosed `<title>`'s text that are kept. The title then runs
/// to the end of the page (the tokenizer reads everything after it as its
/// text, so the page has no body), and the metadata reads 4 kB of it
/// (`MAX_TITLE_BYTES`): the rest is cut and the title closed, which spares
/// html5ever reading megabytes character by character for nothing.
pub(super) const UNCLOSED_TITLE_KEPT: usize = 64 * 1024;

/// Formatting elements left open beyond which further formatting start tags
/// are cut. html5ever re-opens every open formatting element (a clone of
/// each) in every block that follows them, so 2 000 unclosed `<b class=..>`
/// before 1 MB of `<p>x</p>` took a second per MB; real pages leave a few open.
pub(super) const MAX_OPEN_FORMATTING: usize = 16;

/// Formatting elements html5ever re-opens (the active formatting list),
/// without `<a>` and `<nobr>`: a second one of those closes the first.
fn is_reopened_formatting(name: &[u8]) -> bool {
    matches!(
        lower(name, &mut [0; 16]),
        b"b" | b"big"
            | b"code"
            | b"em"
            | b"font"
            | b"i"
            | b"s"
            | b"small"
            | b"strike"
            | b"strong"
            | b"tt"
            | b"u"
    )
}

/// End tags the tree builder acts on even when no element of their name is
/// open: it makes the element (`</p>`, `</br>`), or it was implied (the
/// document's and table parts'). Kept whatever the open elements are.
fn acts_when_unopened(name: &[u8]) -> bool {
    matches!(
        lower(name, &mut [0; 16]),
        b"p" | b"br"
            | b"html"
            | b"head"
            | b"body"
            | b"table"
            | b"tbody"
            | b"thead"
            | b"tfoot"
            | b"tr"
            | b"td"
            | b"th"
            | b"caption"
            | b"colgroup"
            | b"form"
            | b"frameset"
    )
}

/// The start tags seen and not yet matched by an end tag, counted by
/// lower-cased name: a superset of html5ever's stack of open elements (it
/// also closes elements without end tags; these counts never do). An end
/// tag whose name has no count closes nothing in html5ever either, which
/// then walks its whole stack to find that out: 40 000 `<x></span>` took
/// 27 s. Such end tags are cut.
#[derive(Default)]
struct OpenNames {
    /// Hashed with foldhash (seeded per process, so page-chosen names cannot
    /// aim at collisions): SipHash was a fifth of the pre-scan on pages of
    /// short tags.
    counts: HashMap<Box<[u8]>, u32, foldhash::fast::RandomState>,
    /// Open elements counted by [`is_reopened_formatting`].
    formatting: usize,
}

impl OpenNames {
    fn key(name: &[u8]) -> Box<[u8]> {
        name.to_ascii_lowercase().into_boxed_slice()
    }

    fn open(&mut self, name: &[u8]) {
        let mut buf = [0u8; 16];
        let low = lower(name, &mut buf);
        let n = if low.is_empty() {
            self.counts.entry(Self::key(name)).or_default()
        } else if let Some(n) = self.counts.get_mut(low) {
            n
        } else {
            self.counts.entry(Box::from(low)).or_default()
        };
        *n += 1;
        if is_reopened_formatting(name) {
            self.formatting += 1;
        }
    }

    /// Whether an element named `name` may be open; if so one is closed.
    fn close(&mut self, name: &[u8]) -> bool {
        let mut buf = [0u8; 16];
        let low = lower(name, &mut buf);
        let found = if low.is_empty() {
            self.counts.get_mut(&Self::key(name)[..])
        } else {
            self.counts.get_mut(low)
        };
        match found {
            Some(n) if *n > 0 => {
                *n -= 1;
                if is_reopened_formatting(name) {
                    self.formatting = self.formatting.saturating_sub(1);
                }
                true
            }
            _ => false,
        }
    }
}

/// `name` lower-cased into `buf`; a name longer than `buf` gives "" (no
/// name compared in this module is that long).
fn lower<'b>(name: &[u8], buf: &'b mut [u8; 16]) -> &'b [u8] {
    match buf.get_mut(..name.len()) {
        Some(dst) => {
            dst.copy_from_slice(name);
            dst.make_ascii_lowercase();
            dst
        }
        None => &[],
    }
}

/// Container tags counted for [`MAX_DEPTH`].
fn is_container(name: &[u8]) -> bool {
    matches!(
        lower(name, &mut [0; 16]),
        b"div"
            | b"span"
            | b"section"
            | b"article"
            | b"font"
            | b"b"
            | b"i"
            | b"a"
            | b"em"
            | b"strong"
            | b"blockquote"
            | b"ul"
            | b"ol"
            | b"table"
            | b"center"
            | b"main"
            | b"aside"
    )
}

/// Tags next to which whitespace-only text means nothing to the extractor:
/// the block elements it breaks paragraphs at (`is_block` in extract.rs),
/// `<br>`, and the document elements. A space between two inline
/// elements (`<b>a</b> <i>b</i>`) is kept.
fn is_boundary(name: &[u8]) -> bool {
    matches!(
        lower(name, &mut [0; 16]),
        b"address"
            | b"article"
            | b"aside"
            | b"blockquote"
            | b"body"
            | b"center"
            | b"dd"
            | b"details"
            | b"dialog"
            | b"dir"
            | b"div"
            | b"dl"
            | b"dt"
            | b"fieldset"
            | b"figcaption"
            | b"figure"
            | b"footer"
            | b"form"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"header"
            | b"hgroup"
            | b"hr"
            | b"html"
            | b"li"
            | b"main"
            | b"menu"
            | b"nav"
            | b"ol"
            | b"p"
            | b"section"
            | b"summary"
            | b"table"
            | b"tbody"
            | b"thead"
            | b"tfoot"
            | b"tr"
            | b"td"
            | b"th"
            | b"ul"
            | b"caption"
            | b"legend"
            | b"option"
            | b"output"
            | b"br"
            | b"head"
            | b"pre"
    )
}

/// Elements that show nothing and break no line, in the head or the body:
/// the text on either side of them touches what is beyond (like a dropped
/// element's). Also end tags the parser ignores (`</hr>`; `</link>` in feeds
/// read as HTML).
fn is_transparent(name: &[u8]) -> bool {
    matches!(
        lower(name, &mut [0; 16]),
        b"meta" | b"link" | b"base" | b"title"
    )
}

/// Elements whose whitespace is text (`<textarea>` is dropped whole).
fn keeps_whitespace(name: &[u8]) -> bool {
    matches!(lower(name, &mut [0; 16]), b"pre" | b"listing")
}

/// HTML start tags that end foreign (SVG/MathML) content.
const BREAKOUT: &[&[u8]] = &[
    b"b",
    b"big",
    b"blockquote",
    b"body",
    b"br",
    b"center",
    b"code",
    b"dd",
    b"div",
    b"dl",
    b"dt",
    b"em",
    b"embed",
    b"h1",
    b"h2",
    b"h3",
    b"h4",
    b"h5",
    b"h6",
    b"head",
    b"hr",
    b"i",
    b"img",
    b"li",
    b"listing",
    b"menu",
    b"meta",
    b"nobr",
    b"ol",
    b"p",
    b"pre",
    b"ruby",
    b"s",
    b"small",
    b"span",
    b"strong",
    b"strike",
    b"sub",
    b"sup",
    b"table",
    b"tt",
    b"u",
    b"ul",
    b"var",
];

/// First `c` at or after `from` (memchr: SIMD where the CPU has it).
fn find_byte(b: &[u8], from: usize, c: u8) -> Option<usize> {
    memchr::memchr(c, b.get(from..)?).map(|o| from + o)
}

/// Attributes the extractor may read, by name (the DOM hints and the
/// metadata); the others are cut before parsing. `href` only on `<link>`
/// (the canonical URL); `style` only when its value may hide the element
/// ([`attr_value_read`]).
fn attr_name_read(tag: &[u8], name: &[u8]) -> bool {
    match lower(name, &mut [0; 16]) {
        b"class" | b"id" | b"itemprop" | b"role" | b"hidden" | b"aria-hidden" | b"content"
        | b"datetime" | b"pubdate" | b"lang" | b"xml:lang" | b"rel" | b"type" | b"name"
        | b"property" | b"http-equiv" | b"style" => true,
        b"href" => tag.eq_ignore_ascii_case(b"link"),
        _ => false,
    }
}

/// Whether an attribute [`attr_name_read`] keeps by its name is read with
/// this value: a `style` only when it may hide the element, the others always.
fn attr_value_read(name: &[u8], value: &[u8]) -> bool {
    if !name.eq_ignore_ascii_case(b"style") {
        return true;
    }
    let v = value.to_ascii_lowercase();
    v.windows(4).any(|w| w == b"none") || v.windows(6).any(|w| w == b"hidden")
}

/// Void elements the extractor never reads (it removes them from the DOM):
/// cut whole, like a dropped element, when attributes are stripped.
/// `<input>` stays: inside a `<select>` it ends the select.
fn is_unread_void(name: &[u8]) -> bool {
    matches!(
        lower(name, &mut [0; 16]),
        b"img" | b"source" | b"track" | b"param" | b"area" | b"embed"
    )
}

/// Whether a `<link>` or `<meta>` start tag carries what the metadata reads
/// (`rel=canonical`; one of the [`META_KEYS`](super::metadata::META_KEYS)):
/// the others (stylesheets, preloads, icons, `<meta charset>`) are cut
/// whole when attributes are stripped.
fn link_or_meta_read(tag: &[u8], name: &[u8], value: &[u8]) -> bool {
    if tag.eq_ignore_ascii_case(b"link") {
        name.eq_ignore_ascii_case(b"rel")
            && value
                .split(|&c| is_space(c))
                .any(|r| r.eq_ignore_ascii_case(b"canonical"))
    } else {
        super::metadata::META_KEYS
            .iter()
            .any(|k| name.eq_ignore_ascii_case(k.as_bytes()))
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Attributes of one start tag, by distinct name, beyond which the rest are
/// cut: html5ever compares each attribute's name with all the ones before it
/// in its tag, so 100 000 distinct names in one tag cost it 5 billion
/// comparisons. Real tags carry a few, framework-heavy ones a few dozen.
pub(super) const MAX_ATTRIBUTES: usize = 64;

/// Parses the attributes of a start tag named `tag` from `from` (after the
/// name) like the tokenizer does; pushes onto `drop` the byte ranges of the
/// attributes the parser would drop (a repeated name: the first is kept),
/// those past [`MAX_ATTRIBUTES`] and, with `strip`, those the extractor
/// does not need. `names` is scratch space (the names that may be kept).
/// Returns the index after the tag's `>` (or the end), whether it is
/// self-closing and, for `<link>` and
/// `<meta>`, whether an attribute the metadata reads is there
/// ([`link_or_meta_read`]; always true for other tags).
fn scan_attrs(
    b: &[u8],
    tag: &[u8],
    from: usize,
    strip: bool,
    names: &mut Vec<(usize, usize)>,
    drop: &mut Vec<(usize, usize)>,
) -> (usize, bool, bool) {
    names.clear();
    let link_or_meta = tag.eq_ignore_ascii_case(b"link") || tag.eq_ignore_ascii_case(b"meta");
    let mut read = !link_or_meta;
    let mut j = from;
    loop {
        while j < b.len() && (is_space(b[j]) || b[j] == b'/') {
            j += 1;
        }
        match b.get(j) {
            None => return (b.len(), false, read),
            Some(b'>') => return (j + 1, j > from && b[j - 1] == b'/', read),
            _ => {}
        }
        let name_start = j;
        j += 1; // the first character may be '='
        while j < b.len() && !is_space(b[j]) && !matches!(b[j], b'/' | b'>' | b'=') {
            j += 1;
        }
        let name = &b[name_start..j];
        let mut k = j;
        while k < b.len() && is_space(b[k]) {
            k += 1;
        }
        let mut value = &b[0..0];
        if b.get(k) == Some(&b'=') {
            k += 1;
            while k < b.len() && is_space(b[k]) {
                k += 1;
            }
            match b.get(k) {
                Some(&q @ (b'"' | b'\'')) => {
                    let Some(e) = find_byte(b, k + 1, q) else {
                        return (b.len(), false, read);
                    };
                    value = &b[k + 1..e];
                    j = e + 1;
                }
                Some(b'>') | None => j = k,
                Some(_) => {
                    let vs = k;
                    while k < b.len() && !is_space(b[k]) && b[k] != b'>' {
                        k += 1;
                    }
                    value = &b[vs..k];
                    j = k;
                }
            }
        }
        // The tokenizer keeps the first of two attributes of one name and
        // finds the second by comparing it with every attribute before it:
        // cut repeats here, and the distinct names past [`MAX_ATTRIBUTES`].
        // (With `strip`, the names never read are cut whatever they repeat.)
        let read_by_name = attr_name_read(tag, name);
        if !strip || read_by_name {
            let repeat = names
                .iter()
                .any(|&(s, e)| b[s..e].eq_ignore_ascii_case(name));
            if repeat || names.len() >= MAX_ATTRIBUTES {
                drop.push((name_start, j));
                continue;
            }
            names.push((name_start, name_start + name.len()));
        }
        if link_or_meta && !read {
            read = link_or_meta_read(tag, name, value);
        }
        if strip && !(read_by_name && attr_value_read(name, value)) {
            drop.push((name_start, j));
        }
    }
}

fn starts_ci(b: &[u8], at: usize, pat: &[u8]) -> bool {
    b.get(at..at + pat.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(pat))
}

fn is_delim(c: Option<&u8>) -> bool {
    matches!(
        c,
        None | Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>')
    )
}

/// The tag name starting at `at` (ASCII letter first) and its end.
fn tag_name(b: &[u8], at: usize) -> Option<(&[u8], usize)> {
    if !b.get(at)?.is_ascii_alphabetic() {
        return None;
    }
    let mut j = at;
    while j < b.len() && !is_delim(b.get(j)) {
        j += 1;
    }
    Some((&b[at..j], j))
}

/// From inside a tag (after its name), the index after its `>` (or the end)
/// and whether it was self-closing. Quoted attribute values may hold `>`.
fn tag_end(b: &[u8], from: usize) -> (usize, bool) {
    let mut j = from;
    let mut after_eq = false;
    while j < b.len() {
        match b[j] {
            b'>' => return (j + 1, j > from && b[j - 1] == b'/'),
            q @ (b'"' | b'\'') if after_eq => match find_byte(b, j + 1, q) {
                Some(e) => {
                    j = e + 1;
                    after_eq = false;
                    continue;
                }
                None => return (b.len(), false),
            },
            b'=' => after_eq = true,
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => {}
            _ => after_eq = false,
        }
        j += 1;
    }
    (b.len(), false)
}

/// Index after the `-->` (or `--!>`) ending the comment opened at `start`
/// (`<!--`), or the end of the input.
fn comment_end(b: &[u8], start: usize) -> usize {
    let body = start + 4;
    // "<!-->" and "<!--->" are complete (empty) comments.
    if b.get(body) == Some(&b'>') {
        return body + 1;
    }
    if b.get(body..body + 2) == Some(b"->") {
        return body + 2;
    }
    let mut j = body;
    while let Some(p) = find_byte(b, j, b'-') {
        if b.get(p..p + 3) == Some(b"-->") {
            return p + 3;
        }
        if b.get(p..p + 4) == Some(b"--!>") {
            return p + 4;
        }
        j = p + 1;
    }
    b.len()
}

/// Where the end tag `</name ...>` at or after `from` starts, if there is one.
fn end_tag_at(b: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut j = from;
    while let Some(p) = find_byte(b, j, b'<') {
        if b.get(p + 1) == Some(&b'/')
            && starts_ci(b, p + 2, name)
            && is_delim(b.get(p + 2 + name.len()))
        {
            return Some(p);
        }
        j = p + 1;
    }
    None
}

/// Index after the end tag `</name ...>` at or after `from`, or the end.
fn end_tag_after(b: &[u8], from: usize, name: &[u8]) -> usize {
    end_tag_at(b, from, name).map_or(b.len(), |p| {
        find_byte(b, p + 2 + name.len(), b'>').map_or(b.len(), |e| e + 1)
    })
}

/// Index after the `</script>` ending script data that starts at `from`,
/// following the tokenizer's escaped / double-escaped states (`<!--` and
/// `<script>` inside a script), or the end.
fn script_end(b: &[u8], from: usize) -> usize {
    // 0: script data, 1: escaped, 2: double escaped
    let mut state = 0u8;
    let mut j = from;
    // In plain script data a '-' changes nothing: only look for '<' there.
    while let Some(off) = b.get(j..).and_then(|s| {
        if state == 0 {
            memchr::memchr(b'<', s)
        } else {
            memchr::memchr2(b'<', b'-', s)
        }
    }) {
        let p = j + off;
        if b[p] == b'-' {
            if state != 0 && b.get(p..p + 3) == Some(b"-->") {
                state = 0;
                j = p + 3;
            } else {
                j = p + 1;
            }
            continue;
        }
        if state == 0 && b.get(p..p + 4) == Some(b"<!--") {
            state = 1;
            j = p + 2; // "<!-->" closes at once
            continue;
        }
        if b.get(p + 1) == Some(&b'/') && starts_ci(b, p + 2, b"script") && is_delim(b.get(p + 8)) {
            if state == 2 {
                state = 1;
                j = p + 8;
                continue;
            }
            return find_byte(b, p + 8, b'>').map_or(b.len(), |e| e + 1);
        }
        if state == 1 && starts_ci(b, p + 1, b"script") && is_delim(b.get(p + 7)) {
            state = 2;
            j = p + 7;
            continue;
        }
        j = p + 1;
    }
    b.len()
}

/// Index after the foreign element (`svg`/`math`) whose start tag ends at
/// `from`: its matching end tag, or the first HTML tag that breaks out of
/// foreign content (kept), or the end.
fn foreign_end(b: &[u8], from: usize, name: &[u8]) -> usize {
    let mut depth = 1usize;
    let mut j = from;
    while let Some(p) = find_byte(b, j, b'<') {
        if b.get(p + 1..p + 4) == Some(b"!--") {
            j = comment_end(b, p);
            continue;
        }
        if b.get(p + 1..p + 9) == Some(b"![CDATA[") {
            j = b
                .get(p + 9..)
                .and_then(|s| s.windows(3).position(|w| w == b"]]>"))
                .map_or(b.len(), |o| p + 9 + o + 3);
            continue;
        }
        let closing = b.get(p + 1) == Some(&b'/');
        let Some((tn, ne)) = tag_name(b, p + 1 + usize::from(closing)) else {
            j = p + 1;
            continue;
        };
        let (te, self_closing) = tag_end(b, ne);
        if closing {
            if tn.eq_ignore_ascii_case(name) {
                depth -= 1;
                if depth == 0 {
                    return te;
                }
            }
        } else if BREAKOUT.iter().any(|t| tn.eq_ignore_ascii_case(t))
            || (tn.eq_ignore_ascii_case(b"font") && {
                let attrs = b[ne..te].to_ascii_lowercase();
                [&b"color"[..], b"face", b"size"]
                    .iter()
                    .any(|a| attrs.windows(a.len()).any(|w| w == *a))
            })
        {
            return p;
        } else if tn.eq_ignore_ascii_case(name) && !self_closing {
            depth += 1;
        }
        j = te;
    }
    b.len()
}

/// What the main scan does with an element, by start-tag name.
enum Action {
    /// Drop the element with its content.
    Drop,
    /// Drop it unless its start tag says JSON-LD or a text template.
    Script,
    /// Raw text kept as is: skip to its end tag without looking inside.
    KeepRaw,
    /// `<template>`: dropped with everything up to its matching end tag.
    Template,
    /// `<svg>` / `<math>`: dropped up to its end or a breakout tag.
    Foreign,
    /// Everything after it is text: stop scanning.
    Plaintext,
    Other,
}

fn action(name: &[u8]) -> Action {
    match lower(name, &mut [0; 16]) {
        b"script" => Action::Script,
        b"style" | b"noscript" | b"iframe" | b"textarea" => Action::Drop,
        b"title" | b"xmp" | b"noembed" | b"noframes" => Action::KeepRaw,
        b"template" => Action::Template,
        b"svg" | b"math" => Action::Foreign,
        b"plaintext" => Action::Plaintext,
        _ => Action::Other,
    }
}

/// Index after the element whose start tag (named `name`) ends at `te`,
/// given its action. `None` for elements that are not skipped as a whole.
fn element_end(b: &[u8], name: &[u8], te: usize, self_closing: bool) -> Option<usize> {
    Some(match action(name) {
        Action::Script => script_end(b, te),
        Action::Drop | Action::KeepRaw => end_tag_after(b, te, name),
        Action::Template => template_end(b, te),
        Action::Foreign if self_closing => te,
        Action::Foreign => foreign_end(b, te, name),
        Action::Plaintext => b.len(),
        Action::Other => return None,
    })
}

/// Index after the `</template>` matching a `<template>` whose start tag
/// ends at `from` (HTML rules inside: comments, scripts, raw text, nested
/// templates), or the end.
fn template_end(b: &[u8], from: usize) -> usize {
    let mut depth = 1usize;
    let mut j = from;
    while let Some(p) = find_byte(b, j, b'<') {
        if b.get(p + 1..p + 4) == Some(b"!--") {
            j = comment_end(b, p);
            continue;
        }
        let closing = b.get(p + 1) == Some(&b'/');
        let Some((tn, ne)) = tag_name(b, p + 1 + usize::from(closing)) else {
            j = p + 1;
            continue;
        };
        let (te, self_closing) = tag_end(b, ne);
        let is_template = tn.eq_ignore_ascii_case(b"template");
        if closing {
            if is_template {
                depth -= 1;
                if depth == 0 {
                    return te;
                }
            }
            j = te;
        } else if is_template {
            depth += 1;
            j = te;
        } else {
            j = element_end(b, tn, te, self_closing).unwrap_or(te);
        }
    }
    b.len()
}

/// Elements that never deepen html5ever's stack of open elements when left
/// unclosed: void ones, ones an opening sibling closes (`<p>`, `<li>`, table
/// parts, headings, `<option>`), the document's own. Every other element
/// counts for [`MAX_DEPTH`] besides the [`is_container`] ones: an unknown
/// element (`<item>`, a custom element) nests like a `<div>`, and 100 000 of
/// them inside an `<a>` took html5ever seconds (the fuzz harness found it).
fn never_nests(name: &[u8]) -> bool {
    matches!(
        lower(name, &mut [0; 16]),
        b"html"
            | b"head"
            | b"body"
            | b"frameset"
            | b"p"
            | b"li"
            | b"dt"
            | b"dd"
            | b"tr"
            | b"td"
            | b"th"
            | b"thead"
            | b"tbody"
            | b"tfoot"
            | b"caption"
            | b"colgroup"
            | b"option"
            | b"optgroup"
            | b"rb"
            | b"rt"
            | b"rp"
            | b"rtc"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"form"
            | b"button"
            | b"nobr"
            | b"area"
            | b"base"
            | b"basefont"
            | b"bgsound"
            | b"br"
            | b"col"
            | b"embed"
            | b"frame"
            | b"hr"
            | b"image"
            | b"img"
            | b"input"
            | b"keygen"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
    )
}

/// Levels of the tree an element puts between its parent and its content:
/// a table's content sits in a cell, under a row and a row group that
/// html5ever adds when the markup leaves them out (`<table><td>x`), so a
/// table counts four (its rows and cells never nest: [`never_nests`]).
fn levels(name: &[u8]) -> usize {
    if name.eq_ignore_ascii_case(b"table") {
        4
    } else {
        1
    }
}

/// Whether `b[gap..p]` is whitespace only (or empty).
fn blank(b: &[u8], gap: Option<usize>, p: usize) -> bool {
    gap.and_then(|g| b.get(g..p))
        .is_some_and(|run| run.iter().all(|&c| is_space(c)))
}

/// The document with the dropped elements and comments cut out, the tags
/// nested deeper than [`MAX_DEPTH`] cut (their content kept) and the text of
/// an unclosed `<title>` cut to [`UNCLOSED_TITLE_KEPT`].
///
/// With `strip_attrs` (the caller applies no CSS selectors of its own, which
/// may use any attribute or test `:empty`), attributes the extractor never
/// reads are cut, and so is whitespace-only text next to a block tag (see
/// [`is_boundary`]) outside `<pre>`: the indentation between tags that would
/// otherwise be a third of the DOM's nodes, and that the extractor reads as
/// nothing (a block boundary already separates its text).
pub(super) fn prepare(html: &str, strip_attrs: bool) -> Cow<'_, str> {
    prepare_within(html, strip_attrs, u64::MAX).text
}

/// What [`prepare_within`] gives.
pub(super) struct Prepared<'a> {
    /// The document to parse.
    pub(super) text: Cow<'a, str>,
    /// The nesting depth of every element start, summed (what html5ever's
    /// scope checks and the extractor's walks up the tree will cost).
    pub(super) depth_sum: u64,
    /// Element starts kept (each about two nodes: the element and its text).
    pub(super) starts: u64,
    /// Whether the work foreseen went over the limit: the rest is cut.
    pub(super) over: bool,
    /// Start tags cut for [`MAX_DEPTH`] (their end tags went too). This and
    /// `title_cut` say what the pre-scan changed in what is parsed; only the
    /// tests read them (the corpora's pages change in neither way).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) flattened: u64,
    /// Whether an unclosed `<title>`'s text was cut ([`UNCLOSED_TITLE_KEPT`]).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) title_cut: bool,
}

/// [`prepare`], stopping (the rest cut) once the work foreseen for parsing
/// and walking the tree passes `max_units` ([`super::Work`] units: the summed
/// nesting depth of the element starts, and two nodes per start): 1 MB of
/// `<p>x</p>` inside 512 `<div>`s costs html5ever 512 steps per paragraph,
/// and 1 MB of `<a>l</a>` 250 000 nodes, so the parse is bounded before it
/// starts.
pub(super) fn prepare_within(html: &str, strip_attrs: bool, max_units: u64) -> Prepared<'_> {
    let (mut depth_sum, mut starts, mut units) = (0u64, 0u64, 0u64);
    let b = html.as_bytes();
    let mut out = String::new();
    let mut copied = 0usize; // html[copied..] not yet in `out` (or dropped)
    let mut depth = 0usize;
    let mut j = 0usize;
    let mut drops: Vec<(usize, usize)> = Vec::new();
    let mut names: Vec<(usize, usize)> = Vec::new();
    let mut open = OpenNames::default();
    // Elements whose start tags were cut for [`MAX_DEPTH`]: their end tags are cut too.
    let mut flattened = OpenNames::default();
    let (mut flattened_tags, mut title_cut) = (0u64, false);
    // Whitespace squeezing: `gap` is where the text after the last tag (or
    // dropped element) starts, `gap_boundary` whether a boundary tag is right
    // before that text, `pre` the depth of open whitespace-keeping elements.
    let (mut gap, mut gap_boundary, mut pre) = (None::<usize>, false, 0usize);
    let cut = |out: &mut String, copied: &mut usize, from: usize, to: usize| {
        if out.capacity() == 0 {
            out.reserve(html.len());
        }
        out.push_str(html.get(*copied..from).unwrap_or(""));
        *copied = to;
    };
    // Cuts the text before the construct at `p` if it is blank and a boundary
    // is on either side; returns whether it was blank.
    let squeeze = |out: &mut String,
                   copied: &mut usize,
                   gap: Option<usize>,
                   gap_boundary: bool,
                   pre: usize,
                   p: usize,
                   here_boundary: bool| {
        let is_blank = blank(b, gap, p);
        if let Some(g) = gap {
            if strip_attrs && is_blank && g < p && pre == 0 && (gap_boundary || here_boundary) {
                cut(out, copied, g, p);
            }
        }
        is_blank
    };
    while let Some(p) = find_byte(b, j, b'<') {
        if b.get(p + 1..p + 4) == Some(b"!--") {
            let was_blank = squeeze(&mut out, &mut copied, gap, gap_boundary, pre, p, false);
            let e = comment_end(b, p);
            cut(&mut out, &mut copied, p, e);
            (gap, gap_boundary) = (Some(e), gap_boundary && was_blank);
            j = e;
            continue;
        }
        if matches!(b.get(p + 1), Some(b'!' | b'?')) {
            // A doctype, `<![CDATA[` or `<?xml`: the parser reads it as one
            // node up to the first `>`, which shows nothing.
            let was_blank = squeeze(&mut out, &mut copied, gap, gap_boundary, pre, p, false);
            let e = find_byte(b, p, b'>').map_or(b.len(), |e| e + 1);
            (gap, gap_boundary) = (Some(e), gap_boundary && was_blank);
            j = e;
            continue;
        }
        let closing = b.get(p + 1) == Some(&b'/');
        let Some((name, ne)) = tag_name(b, p + 1 + usize::from(closing)) else {
            j = p + 1;
            continue;
        };
        let container = is_container(name);
        // Counted too unless self-closing (`<path/>` in an SVG): see [`never_nests`].
        let nests = container || !never_nests(name);
        if closing {
            if flattened.close(name) || (!open.close(name) && !acts_when_unopened(name)) {
                // Closes nothing: cut like a dropped element.
                let was_blank = squeeze(&mut out, &mut copied, gap, gap_boundary, pre, p, false);
                let (te, _) = tag_end(b, ne);
                cut(&mut out, &mut copied, p, te);
                (gap, gap_boundary) = (Some(te), gap_boundary && was_blank);
                j = te;
                continue;
            }
            if nests {
                depth = depth.saturating_sub(levels(name));
            }
            let boundary = is_boundary(name) && !name.eq_ignore_ascii_case(b"hr");
            let transparent = is_transparent(name) || name.eq_ignore_ascii_case(b"hr");
            let was_blank = squeeze(&mut out, &mut copied, gap, gap_boundary, pre, p, boundary);
            if keeps_whitespace(name) {
                pre = pre.saturating_sub(1);
            }
            let (te, _) = tag_end(b, ne);
            gap_boundary = if transparent {
                gap_boundary && was_blank
            } else {
                boundary
            };
            gap = Some(te);
            j = te;
            continue;
        }
        let act = action(name);
        // Dropped elements and kept scripts are no boundary: the text around
        // them touches whatever is on their other side.
        let unread_void = strip_attrs && is_unread_void(name);
        let transparent =
            !matches!(act, Action::Other | Action::KeepRaw) || is_transparent(name) || unread_void;
        let boundary = !transparent && is_boundary(name);
        if matches!(act, Action::Other)
            && open.formatting >= MAX_OPEN_FORMATTING
            && is_reopened_formatting(name)
        {
            // One formatting element too many left open: cut (its end tag
            // then closes nothing and goes too).
            let was_blank = squeeze(&mut out, &mut copied, gap, gap_boundary, pre, p, false);
            let (te, _) = tag_end(b, ne);
            cut(&mut out, &mut copied, p, te);
            (gap, gap_boundary) = (Some(te), gap_boundary && was_blank);
            j = te;
            continue;
        }
        let deepens = matches!(act, Action::Other) && (container || (nests && !tag_end(b, ne).1));
        if deepens && depth + levels(name) > MAX_DEPTH {
            // One level too deep: the tag is cut, what it holds stays here.
            let was_blank = squeeze(&mut out, &mut copied, gap, gap_boundary, pre, p, false);
            let (te, _) = tag_end(b, ne);
            cut(&mut out, &mut copied, p, te);
            flattened.open(name);
            flattened_tags += 1;
            (gap, gap_boundary) = (Some(te), gap_boundary && was_blank);
            j = te;
            continue;
        }
        let was_blank = squeeze(&mut out, &mut copied, gap, gap_boundary, pre, p, boundary);
        if matches!(act, Action::Other) {
            open.open(name);
            depth_sum += depth as u64;
            starts += 1;
            units += super::DEPTH_UNITS * depth as u64 + 2 * super::NODE_UNITS;
            if units > max_units {
                cut(&mut out, &mut copied, p, b.len());
                return Prepared {
                    text: Cow::Owned(out),
                    depth_sum,
                    starts,
                    over: true,
                    flattened: flattened_tags,
                    title_cut,
                };
            }
        }
        if deepens {
            depth += levels(name);
        }
        let (te, self_closing) = if matches!(act, Action::Other) {
            drops.clear();
            let (te, self_closing, read) =
                scan_attrs(b, name, ne, strip_attrs, &mut names, &mut drops);
            if strip_attrs && (unread_void || !read) {
                // Cut whole: a void element, so nothing follows to close.
                cut(&mut out, &mut copied, p, te);
                (gap, gap_boundary) = (Some(te), gap_boundary && was_blank);
                j = te;
                continue;
            }
            for &(from, to) in &drops {
                cut(&mut out, &mut copied, from, to);
            }
            (te, self_closing)
        } else {
            tag_end(b, ne)
        };
        match act {
            Action::Other => {
                if keeps_whitespace(name) {
                    pre += 1;
                }
                j = te;
                gap_boundary = if transparent {
                    gap_boundary && was_blank
                } else {
                    boundary
                };
                gap = Some(j);
            }
            Action::Plaintext => break,
            Action::KeepRaw
                if name.eq_ignore_ascii_case(b"title") && end_tag_at(b, te, name).is_none() =>
            {
                let mut keep = te.saturating_add(UNCLOSED_TITLE_KEPT).min(b.len());
                while !html.is_char_boundary(keep) {
                    keep -= 1;
                }
                cut(&mut out, &mut copied, keep, b.len());
                out.push_str("</title>");
                title_cut = keep < b.len();
                gap = None;
                break;
            }
            Action::KeepRaw => {
                j = end_tag_after(b, te, name);
                gap_boundary = if transparent {
                    gap_boundary && was_blank
                } else {
                    boundary
                };
                gap = Some(j);
            }
            Action::Script => {
                let end = script_end(b, te);
                let tag = b[p..te].to_ascii_lowercase();
                let keep = [&b"ld+json"[..], b"text/template"]
                    .iter()
                    .any(|k| tag.windows(k.len()).any(|w| w == *k));
                if !keep {
                    cut(&mut out, &mut copied, p, end);
                }
                (gap, gap_boundary) = (Some(end), gap_boundary && was_blank);
                j = end;
            }
            Action::Drop | Action::Template | Action::Foreign => {
                let end = element_end(b, name, te, self_closing).unwrap_or(te);
                cut(&mut out, &mut copied, p, end);
                (gap, gap_boundary) = (Some(end), gap_boundary && was_blank);
                j = end;
            }
        }
    }
    if let Some(g) = gap {
        // Trailing whitespace after the last tag.
        if strip_attrs && pre == 0 && gap_boundary && g < b.len() && blank(b, gap, b.len()) {
            cut(&mut out, &mut copied, g, b.len());
        }
    }
    let text = if copied == 0 {
        Cow::Borrowed(html)
    } else {
        out.push_str(html.get(copied..).unwrap_or(""));
        Cow::Owned(out)
    };
    Prepared {
        text,
        depth_sum,
        starts,
        over: false,
        flattened: flattened_tags,
        title_cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    #[test]
    fn drops_junk_keeps_metadata_scripts() {
        let h = "<html><head><title>a<!--b</title><script>var x='</div>';</script>\
                 <script type=\"application/ld+json\">{\"a\":1}</script><style>p{}</style></head>\
                 <body><!-- c --><p>one<svg><g><svg/></g></svg>two</p><noscript><p>n</p></noscript>\
                 <template><template>x</template><p>t</p></template>\
                 <script>document.write('<!--<script>x</script>-->'); y=1;</script>three</body></html>";
        assert_eq!(
            prepare(h, true),
            "<html><head><title>a<!--b</title>\
             <script type=\"application/ld+json\">{\"a\":1}</script></head>\
             <body><p>onetwo</p>three</body></html>"
        );
    }

    #[test]
    fn foreign_content_breakout_and_unclosed() {
        assert_eq!(
            prepare("<svg><path d=x><p>kept</p></svg>", true),
            "<p>kept</p>" // `</svg>` closes nothing left open: cut
        );
        assert_eq!(prepare("a<svg><path>", true), "a");
        assert_eq!(prepare("a<!-- never closed", true), "a");
        assert_eq!(prepare("a<!-->b<!--->c", true), "abc");
        assert_eq!(prepare("<p title='<script>'>x</p>", true), "<p >x</p>");
        assert_eq!(
            prepare("<p title='<script>'>x</p>", false),
            "<p title='<script>'>x</p>"
        );
    }

    #[test]
    fn unused_attributes_are_cut() {
        assert_eq!(
            prepare(
                "<a href=\"/x\" class='c'data-x=1 id=i>t</a><link rel=canonical href=u>\
                 <div style=\"color: red\" onclick=\"a>b\">x</div><p style=\"display: none\"/ src=a>",
                true
            ),
            "<a  class='c' id=i>t</a><link rel=canonical href=u>\
             <div  >x</div><p style=\"display: none\"/ >"
        );
        assert_eq!(prepare("<a href=x>t</a>", false), "<a href=x>t</a>");
        assert_eq!(prepare("<a b='unclosed>", true), "<a b='unclosed>");
    }

    #[test]
    fn whitespace_between_blocks_is_cut() {
        // Indentation around block tags goes; a space between inline
        // elements, inside <pre> and next to text stays.
        assert_eq!(
            prepare(
                "<div>\n  <p>a <b>b</b> <i>c</i></p>\n  <p> d </p>\n</div>\n",
                true
            ),
            "<div><p>a <b>b</b> <i>c</i></p><p> d </p></div>"
        );
        assert_eq!(
            prepare("<pre>\n  <b>x</b>\n  <div> </div>\n</pre>\n<p>y</p>", true),
            "<pre>\n  <b>x</b>\n  <div> </div>\n</pre><p>y</p>"
        );
        assert_eq!(prepare("<b>a</b> <i>b</i>", true), "<b>a</b> <i>b</i>");
        assert_eq!(
            prepare("<span>a</span> <br> b", true),
            "<span>a</span><br> b"
        );
        // With caller selectors (which may test :empty), nothing is squeezed.
        assert_eq!(
            prepare("<div>\n <p>a</p>\n</div>", false),
            "<div>\n <p>a</p>\n</div>"
        );
    }

    #[test]
    fn invisible_tags_and_cut_elements_let_whitespace_touch() {
        // <meta>, <link> and a dropped <script> or comment between two
        // inline pieces of text do not make a boundary: their space stays.
        assert_eq!(
            prepare("<b>a</b> <meta name=x> <i>b</i>", true),
            "<b>a</b> <meta name=x> <i>b</i>"
        );
        assert_eq!(
            prepare("<b>a</b> <script>x()</script> <i>b</i>", true),
            "<b>a</b>  <i>b</i>"
        );
        assert_eq!(
            prepare("<b>a</b> <!-- c --><i>b</i>", true),
            "<b>a</b> <i>b</i>"
        );
        // ... but between blocks they are cut through.
        assert_eq!(
            prepare(
                "<div>a</div>\n<!-- c -->\n<link rel=canonical>\n</link>\n<p>b</p>",
                true
            ),
            "<div>a</div><link rel=canonical></link><p>b</p>"
        );
        // A doctype or CDATA section is one node: whitespace next to it is
        // judged by the tags beyond.
        assert_eq!(
            prepare(
                "<!DOCTYPE html>\n<html>\n<body>\n<p>x</p>\n</body>\n</html>\n",
                true
            ),
            "<!DOCTYPE html><html><body><p>x</p></body></html>"
        );
        assert_eq!(
            prepare("<b>a</b> <![CDATA[ <p> ]]> <i>b</i>", true),
            "<b>a</b> <![CDATA[ <p> ]]> <i>b</i>"
        );
    }

    #[test]
    fn unread_void_elements_are_cut() {
        // Images, media sources, stylesheets and keyless metas go; the
        // canonical link and keyed metas (in any attribute order) stay.
        assert_eq!(
            prepare(
                "<head><meta charset=utf-8><link rel=stylesheet href=s.css>\
                 <link href=u REL=\"alternate Canonical\"><meta content=x name=author>\
                 <meta property=og:title content=t></head>\
                 <p>a <img src=i.png alt=x> b<picture><source srcset=x><img src=y></picture></p>",
                true
            ),
            "<head><link href=u REL=\"alternate Canonical\"><meta content=x name=author>\
             <meta property=og:title content=t></head><p>a  b<picture></picture></p>"
        );
        // Whitespace between blocks is cut through them; <input> stays.
        assert_eq!(
            prepare("<p>a</p>\n<img src=x>\n<p>b<input type=text></p>", true),
            "<p>a</p><p>b<input type=text></p>"
        );
        // With caller selectors (which may select them), they stay.
        assert_eq!(prepare("<img src=i>", false), "<img src=i>");
    }

    #[test]
    fn untouched_input_is_borrowed() {
        assert!(matches!(prepare("<p>a < b</p>", true), Cow::Borrowed(_)));
        assert!(matches!(prepare("", true), Cow::Borrowed(_)));
        assert!(matches!(prepare("<", true), Cow::Borrowed(_)));
        assert!(matches!(prepare("</", true), Cow::Borrowed(_)));
    }

    #[test]
    fn flattens_deep_nesting_of_unknown_elements_but_not_self_closing_ones() {
        let deep = "<a href=\"/x\">".to_string() + &"<item>".repeat(MAX_DEPTH + 10) + "text";
        let p = prepare_within(&deep, true, u64::MAX);
        // The `<a>` and 511 `<item>`s are kept, the 11 beyond cut; the text stays.
        assert_eq!(
            p.text,
            "<a >".to_string() + &"<item>".repeat(MAX_DEPTH - 1) + "text"
        );
        assert_eq!(p.flattened, 11);
        let icons = "<x-icon name=\"a\"/>".repeat(MAX_DEPTH + 10) + "<p>end";
        let p = prepare_within(&icons, false, u64::MAX);
        assert!(
            p.text.ends_with("<p>end") && p.flattened == 0,
            "self-closing tags cut"
        );
        let paras = "<p>x<li>y<br>".repeat(MAX_DEPTH + 10) + "end";
        let p = prepare_within(&paras, false, u64::MAX);
        assert_eq!(p.text, paras, "unclosed <p> and <li> cut");
    }

    #[test]
    fn flattens_deep_nesting_and_keeps_what_follows() {
        assert_eq!(prepare("<div><p>a</p></div>", true), "<div><p>a</p></div>");
        let n = MAX_DEPTH + 100;
        let deep = "<div>".repeat(n) + "x" + &"</div>".repeat(n) + "<p>after</p>";
        let p = prepare_within(&deep, true, u64::MAX);
        // The tags beyond the depth are cut with their end tags, so the ones kept still pair up and
        // what follows the deep part is outside it.
        let kept = "<div>".repeat(MAX_DEPTH) + "x" + &"</div>".repeat(MAX_DEPTH) + "<p>after</p>";
        assert_eq!(p.text, kept);
        assert_eq!(p.flattened, 100);
        let doc = Html::parse_document(&p.text);
        let after = doc.select(&Selector::parse("body > p").unwrap()).count();
        assert_eq!(
            after, 1,
            "the paragraph after the deep part is the body's child"
        );
        // A table's content sits four levels down: tables count four.
        let tables = "<table><td>".repeat(200) + "cell";
        let p = prepare_within(&tables, true, u64::MAX);
        assert_eq!(p.flattened, 200 - (MAX_DEPTH / 4) as u64);
        assert!(p.text.ends_with("cell"));
    }

    #[test]
    fn repeated_and_surplus_attributes_are_cut() {
        // A repeat is dropped by the tokenizer too (the first wins), whether attributes are stripped or not:
        // here the second `style` would have hidden the paragraph.
        let h = "<p style=\"color: red\" STYLE=\"display: none\" class=a Class=b>x</p>";
        assert_eq!(prepare(h, true), "<p   class=a >x</p>");
        assert_eq!(prepare(h, false), "<p style=\"color: red\"  class=a >x</p>");
        // Past 64 distinct names the rest go (html5ever compares each name with every one before it).
        let many: String = (0..10_000).map(|i| format!(" data-a{i}=\"v\"")).collect();
        let h = format!("<div{many}>x</div>");
        let kept = prepare(&h, false);
        assert_eq!(kept.matches("data-a").count(), MAX_ATTRIBUTES);
        assert!(kept.contains("data-a63=") && !kept.contains("data-a64="));
        // Stripped, the names never read do not count: a class after them stays.
        let h = format!("<div{many} class=body>x</div>");
        assert_eq!(
            prepare(&h, true).trim_start_matches("<div").trim_start(),
            "class=body>x</div>"
        );
        let doc = Html::parse_document(&kept);
        let div = doc.select(&Selector::parse("div").unwrap()).next().unwrap();
        assert_eq!(div.value().attrs().count(), MAX_ATTRIBUTES);
    }

    #[test]
    fn an_unclosed_title_is_cut_and_closed() {
        let long = "<html><head><title>".to_string() + &"t ".repeat(UNCLOSED_TITLE_KEPT);
        let p = prepare_within(&long, true, u64::MAX);
        assert!(p.title_cut);
        assert_eq!(
            p.text.len(),
            "<html><head><title>".len() + UNCLOSED_TITLE_KEPT + "</title>".len()
        );
        assert!(
            p.text.ends_with("t </title>"),
            "{}",
            &p.text[p.text.len() - 20..]
        );
        // A multi-byte character at the cut is not split.
        let wide = "<title>".to_string() + &"题".repeat(UNCLOSED_TITLE_KEPT);
        let p = prepare_within(&wide, true, u64::MAX);
        assert!(p.title_cut && p.text.ends_with("题</title>"));
        // A short unclosed title is closed where the page ends (the same parse), a closed one untouched.
        let p = prepare_within("<title>short", true, u64::MAX);
        assert_eq!(
            (p.text.as_ref(), p.title_cut),
            ("<title>short</title>", false)
        );
        let closed = "<title>a</title><p>b</p>";
        assert_eq!(prepare(closed, true), closed);
        // Other raw-text elements keep the rest of the page (`<xmp>` shows it as text).
        let xmp = "<xmp>".to_string() + &"x".repeat(UNCLOSED_TITLE_KEPT + 10);
        assert_eq!(prepare(&xmp, true), xmp);
    }

    /// The corpora's pages (../shared, read in place when present) are far from [`MAX_DEPTH`] and close
    /// their titles: neither rule changes what is parsed from a real page.
    #[test]
    fn corpus_pages_stay_shallow() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let dirs = [
            "zyte-article-extraction/html",
            "trafilatura-eval/html",
            "gne-chinese-news/html",
        ];
        let mut pages = 0;
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                eprintln!("{dir} absent: skipped");
                continue;
            };
            for e in entries.flatten() {
                let bytes = crate::snapshot::read_page(&e.path()).unwrap();
                let html = String::from_utf8_lossy(&bytes);
                let p = prepare_within(&html, true, u64::MAX);
                assert_eq!(
                    p.flattened,
                    0,
                    "{}: nested deeper than {MAX_DEPTH}",
                    e.path().display()
                );
                assert!(!p.title_cut, "{}: an unclosed title", e.path().display());
                pages += 1;
            }
        }
        eprintln!("{pages} corpus pages: none deeper than {MAX_DEPTH}, no unclosed title");
    }
}
