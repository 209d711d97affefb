//! A byte scan run before html5ever: drops the markup the extractor throws
//! away anyway (scripts, styles, `<noscript>`, `<template>`, `<svg>`,
//! `<math>`, `<iframe>`, `<textarea>`, HTML comments), so the parser sees
//! fewer bytes, and cuts pathological nesting.
//!
//! Kept: `<script>`s whose tag mentions `ld+json` or `text/template` (the
//! metadata reads them), raw-text elements the metadata reads (`<title>`),
//! and everything else byte for byte. Every cut is at an ASCII byte, so the
//! pieces stay valid UTF-8. The rules follow the HTML tokenizer closely
//! enough for real pages (script escapes, raw text, foreign content with its
//! HTML "breakout" tags, CDATA); where they differ the cost is at worst some
//! junk text, never a panic.

use std::borrow::Cow;

/// Nesting depth of container tags beyond which the rest of the document is
/// dropped. html5ever's scope checks make parsing quadratic in nesting depth
/// (100 000 nested `<div>`s take about a minute); real pages stay far below.
pub(super) const MAX_NESTING: usize = 3000;

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

/// Container tags counted for [`MAX_NESTING`].
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

/// Attributes the extractor reads (the DOM hints and the metadata); the
/// others are cut before parsing. `style` is kept only when it may hide the
/// element, `href` only on `<link>` (the canonical URL).
fn attr_needed(tag: &[u8], name: &[u8], value: &[u8]) -> bool {
    match lower(name, &mut [0; 16]) {
        b"class" | b"id" | b"itemprop" | b"role" | b"hidden" | b"aria-hidden" | b"content"
        | b"datetime" | b"pubdate" | b"lang" | b"xml:lang" | b"rel" | b"type" | b"name"
        | b"property" | b"http-equiv" => true,
        b"style" => {
            let v = value.to_ascii_lowercase();
            v.windows(4).any(|w| w == b"none") || v.windows(6).any(|w| w == b"hidden")
        }
        b"href" => tag.eq_ignore_ascii_case(b"link"),
        _ => false,
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

/// Parses the attributes of a start tag named `tag` from `from` (after the
/// name) like the tokenizer does; pushes the byte ranges of attributes the
/// extractor does not need onto `drop`. Returns the index after the tag's
/// `>` (or the end) and whether it is self-closing.
fn scan_attrs(b: &[u8], tag: &[u8], from: usize, drop: &mut Vec<(usize, usize)>) -> (usize, bool) {
    let mut j = from;
    loop {
        while j < b.len() && (is_space(b[j]) || b[j] == b'/') {
            j += 1;
        }
        match b.get(j) {
            None => return (b.len(), false),
            Some(b'>') => return (j + 1, j > from && b[j - 1] == b'/'),
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
                        return (b.len(), false);
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
        if !attr_needed(tag, name, value) {
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

/// Index after the end tag `</name ...>` at or after `from`, or the end.
fn end_tag_after(b: &[u8], from: usize, name: &[u8]) -> usize {
    let mut j = from;
    while let Some(p) = find_byte(b, j, b'<') {
        if b.get(p + 1) == Some(&b'/')
            && starts_ci(b, p + 2, name)
            && is_delim(b.get(p + 2 + name.len()))
        {
            return find_byte(b, p + 2 + name.len(), b'>').map_or(b.len(), |e| e + 1);
        }
        j = p + 1;
    }
    b.len()
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

/// The document with the dropped elements and comments cut out and the
/// rest cut where container nesting first exceeds [`MAX_NESTING`].
///
/// With `strip_attrs`, attributes the extractor never reads are cut too (not
/// when the caller applies its own CSS selectors, which may use any).
pub(super) fn prepare(html: &str, strip_attrs: bool) -> Cow<'_, str> {
    let b = html.as_bytes();
    let mut out = String::new();
    let mut copied = 0usize; // html[copied..] not yet in `out` (or dropped)
    let mut depth = 0usize;
    let mut j = 0usize;
    let mut drops: Vec<(usize, usize)> = Vec::new();
    let cut = |out: &mut String, copied: &mut usize, from: usize, to: usize| {
        if out.capacity() == 0 {
            out.reserve(html.len());
        }
        out.push_str(html.get(*copied..from).unwrap_or(""));
        *copied = to;
    };
    while let Some(p) = find_byte(b, j, b'<') {
        if b.get(p + 1..p + 4) == Some(b"!--") {
            let e = comment_end(b, p);
            cut(&mut out, &mut copied, p, e);
            j = e;
            continue;
        }
        let closing = b.get(p + 1) == Some(&b'/');
        let Some((name, ne)) = tag_name(b, p + 1 + usize::from(closing)) else {
            j = p + 1;
            continue;
        };
        let container = is_container(name);
        if closing {
            if container {
                depth = depth.saturating_sub(1);
            }
            j = ne;
            continue;
        }
        let act = action(name);
        if container && matches!(act, Action::Other) {
            depth += 1;
            if depth > MAX_NESTING {
                cut(&mut out, &mut copied, p, b.len());
                return Cow::Owned(out);
            }
        }
        let (te, self_closing) = if strip_attrs && matches!(act, Action::Other) {
            drops.clear();
            let r = scan_attrs(b, name, ne, &mut drops);
            for &(from, to) in &drops {
                cut(&mut out, &mut copied, from, to);
            }
            r
        } else {
            tag_end(b, ne)
        };
        match act {
            Action::Other => j = te,
            Action::Plaintext => break,
            Action::KeepRaw => j = end_tag_after(b, te, name),
            Action::Script => {
                let end = script_end(b, te);
                let tag = b[p..te].to_ascii_lowercase();
                let keep = [&b"ld+json"[..], b"text/template"]
                    .iter()
                    .any(|k| tag.windows(k.len()).any(|w| w == *k));
                if !keep {
                    cut(&mut out, &mut copied, p, end);
                }
                j = end;
            }
            Action::Drop | Action::Template | Action::Foreign => {
                let end = element_end(b, name, te, self_closing).unwrap_or(te);
                cut(&mut out, &mut copied, p, end);
                j = end;
            }
        }
    }
    if copied == 0 {
        return Cow::Borrowed(html);
    }
    out.push_str(html.get(copied..).unwrap_or(""));
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "<p>kept</p></svg>"
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
    fn untouched_input_is_borrowed() {
        assert!(matches!(prepare("<p>a < b</p>", true), Cow::Borrowed(_)));
        assert!(matches!(prepare("", true), Cow::Borrowed(_)));
        assert!(matches!(prepare("<", true), Cow::Borrowed(_)));
        assert!(matches!(prepare("</", true), Cow::Borrowed(_)));
    }

    #[test]
    fn cuts_deep_nesting() {
        assert_eq!(prepare("<div><p>a</p></div>", true), "<div><p>a</p></div>");
        let deep = "<div>".repeat(MAX_NESTING + 10) + "x";
        let cut = prepare(&deep, true);
        assert_eq!(cut.len(), "<div>".len() * MAX_NESTING);
    }
}

#[cfg(test)]
mod scratch_measure {
    #[test]
    #[ignore]
    fn measure_nodes() {
        use std::io::Read;
        let dir = "../shared/corpus/zyte-article-extraction/html";
        let (mut el, mut tx, mut ws, mut other) = (0, 0, 0, 0);
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let mut s = Vec::new();
            flate2::read::MultiGzDecoder::new(std::fs::File::open(&p).unwrap())
                .read_to_end(&mut s)
                .unwrap();
            let h = String::from_utf8_lossy(&s).into_owned();
            let o = super::prepare(&h, true);
            let d = scraper::Html::parse_document(&o);
            for n in d.tree.nodes() {
                match n.value() {
                    scraper::Node::Element(_) => el += 1,
                    scraper::Node::Text(t) => {
                        tx += 1;
                        if t.trim().is_empty() {
                            ws += 1;
                        }
                    }
                    _ => other += 1,
                }
            }
        }
        eprintln!("elements {el} text {tx} ws-only text {ws} other {other}");
    }
}
