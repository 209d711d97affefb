//! Public Telegram channel previews (`t.me/s/<channel>`): one [`Entry`] per post, carrying the post's whole
//! text (no page is fetched for a post), its views, its author signature and where it was forwarded from,
//! and the link to the next older page of the channel.
//!
//! The reader never relies on the host that served the page (tests and mirrors serve the same markup): a
//! post's URL is built from its `data-post` as `https://t.me/<channel>/<id>`, and only the older-page link
//! is resolved against the serving URL, so paging stays on the host that served the first page.
//!
//! Telegram changes this markup now and then, so a page with no recognisable posts is an error that says
//! what was found, never a silent empty listing; a channel whose preview holds no posts is an empty listing.
//! Not read: reactions, link previews, the quoted text of replies, comments, media files.
//!
//! The page is walked without recursion and without CSS selectors (class tests on one pass), so deeply
//! nested hostile markup cannot overflow the stack; html5ever's own parsing stays quadratic in nesting depth.

use chrono::{DateTime, Utc};
use ego_tree::iter::Edge;
use ego_tree::NodeId;
use scraper::{CaseSensitivity, ElementRef, Html, Node};
use url::Url;

use super::{Listing, SourceError};
use crate::model::{Entry, Forward, Post};

/// Longest title, in characters (`…` included), cut from a post's first line.
pub const TITLE_MAX_CHARS: usize = 120;

/// Hosts whose links are Telegram links (a forward's origin).
const TELEGRAM_HOSTS: [&str; 5] = [
    "t.me",
    "www.t.me",
    "telegram.me",
    "www.telegram.me",
    "telegram.dog",
];

/// First path segments of `t.me` links that are not a channel or user name.
const RESERVED_PATHS: [&str; 16] = [
    "s",
    "c",
    "joinchat",
    "addstickers",
    "addemoji",
    "addlist",
    "addtheme",
    "share",
    "proxy",
    "socks",
    "iv",
    "login",
    "boost",
    "contact",
    "setlanguage",
    "invoice",
];

/// Reads a channel preview page: one entry per post (document order, oldest first as Telegram lays them
/// out), the channel's title, and the older page (`before=` link) resolved against `base`.
///
/// Posts without a usable `data-post` are skipped and counted in `skipped_without_link`; service messages
/// (channel created, pinned) are skipped silently. Errors: no posts and no channel header (a changed layout,
/// or not a preview at all), posts of which none is readable, a landing page of a channel without preview.
pub fn parse(
    feed_id: &str,
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<Listing, SourceError> {
    let text = crate::charset::decode(bytes, content_type).text;
    let doc = Html::parse_document(&crate::extract::prepare_for_parsing(&text));
    let page = PageScan::of(&doc);

    let mut listing = Listing {
        title: page.og_title.clone().or_else(|| page.header_title.clone()),
        older: page.older_href.as_deref().and_then(|h| older_url(h, base)),
        ..Listing::default()
    };

    if page.messages.is_empty() {
        if page.channel_header && page.data_posts == 0 && page.times == 0 {
            // A channel with nothing (public) to show: no post, no date anywhere.
            return Ok(listing);
        }
        if page.landing_page {
            let name = page
                .landing_title
                .as_deref()
                .or(page.og_title.as_deref())
                .unwrap_or("this name");
            return Err(SourceError(if page.preview_link {
                format!(
                    "telegram: this is the landing page of {name:?}, not its preview: point the source at \
                     https://t.me/s/<channel>"
                )
            } else {
                format!(
                    "telegram: {name:?} has no public preview (a private channel, a group or a user): \
                     nothing to read"
                )
            }));
        }
        return Err(SourceError(format!(
            "telegram: no posts found in the channel preview (the layout may have changed): {}",
            page.describe()
        )));
    }

    let mut posts = 0usize; // not service messages
    let (mut with_id, mut with_time) = (0usize, 0usize);
    for message in &page.messages {
        let parts = MessageParts::of(*message);
        if parts.service {
            continue;
        }
        posts += 1;
        let published = parts.datetime.and_then(parse_time);
        with_time += usize::from(published.is_some());
        let Some((channel, id)) = parts.data_post.and_then(split_data_post) else {
            listing.skipped_without_link += 1;
            continue;
        };
        with_id += 1;
        let Ok(url) = Url::parse(&format!("https://t.me/{channel}/{id}")) else {
            listing.skipped_without_link += 1;
            continue;
        };
        let text = parts.text.map(message_text).unwrap_or_default();
        let mut entry = Entry::new(feed_id, url);
        entry.title = Some(title_of(&text, parts.media));
        entry.published = published;
        entry.authors = parts.author.into_iter().collect();
        entry.post = Some(Post {
            channel: channel.to_ascii_lowercase(),
            views: parts.views.as_deref().and_then(parse_views),
            forwarded_from: parts.forward.and_then(|el| forward_of(el, base)),
        });
        entry.text = Some(text);
        entry.snapshot = Some(format!(
            "<!-- mediawatch: the post as the channel preview {base} showed it -->\n{}\n",
            message.html()
        ));
        listing.entries.push(entry);
    }

    if posts > 0 && !listing.entries.iter().any(|e| e.published.is_some()) {
        return Err(SourceError(format!(
            "telegram: posts found but none readable (layout changed?): {posts} posts, {with_id} with a \
             data-post, {with_time} with a <time datetime>"
        )));
    }
    Ok(listing)
}

/// What one pass over the whole page found.
#[derive(Default)]
struct PageScan<'a> {
    /// `.tgme_widget_message` elements, in document order.
    messages: Vec<ElementRef<'a>>,
    og_title: Option<String>,
    header_title: Option<String>,
    /// `href` of the older page: a `.tme_messages_more[data-before]` link, else `<link rel="prev">`.
    older_href: Option<String>,
    /// A channel header (`.tgme_channel_info`), as on every channel preview.
    channel_header: bool,
    /// A `t.me/<name>` landing page (`.tgme_page`).
    landing_page: bool,
    landing_title: Option<String>,
    /// A link to a preview (`/s/<name>`), as a public channel's landing page has.
    preview_link: bool,
    page_title: Option<String>,
    elements: usize,
    /// Elements with a `data-post` attribute, and `<time datetime>` elements (posts under other names).
    data_posts: usize,
    times: usize,
}

impl<'a> PageScan<'a> {
    fn of(doc: &'a Html) -> PageScan<'a> {
        let mut scan = PageScan::default();
        let mut prev_href = None;
        for el in doc.root_element().descendent_elements() {
            scan.elements += 1;
            let v = el.value();
            if v.attr("data-post").is_some() {
                scan.data_posts += 1;
            }
            match v.name() {
                "time" if v.attr("datetime").is_some() => scan.times += 1,
                "meta" if v.attr("property") == Some("og:title") && scan.og_title.is_none() => {
                    scan.og_title = v.attr("content").map(collapse).filter(|t| !t.is_empty());
                }
                "title" if scan.page_title.is_none() => {
                    scan.page_title = Some(collapse(&text_of(el))).filter(|t| !t.is_empty());
                }
                "link" if prev_href.is_none() && has_token(v.attr("rel"), "prev") => {
                    prev_href = v
                        .attr("href")
                        .filter(|h| is_before_link(h))
                        .map(str::to_string);
                }
                "a" => {
                    let href = v.attr("href").unwrap_or("");
                    if scan.older_href.is_none()
                        && has_class(el, "tme_messages_more")
                        && v.attr("data-before").is_some()
                        && is_before_link(href)
                    {
                        scan.older_href = Some(href.to_string());
                    }
                    if href.starts_with("/s/") || href.contains("t.me/s/") {
                        scan.preview_link = true;
                    }
                }
                _ => {}
            }
            for class in v.classes() {
                match class {
                    "tgme_widget_message" => scan.messages.push(el),
                    "tgme_channel_info" => scan.channel_header = true,
                    "tgme_channel_info_header_title" if scan.header_title.is_none() => {
                        scan.header_title = Some(collapse(&text_of(el))).filter(|t| !t.is_empty());
                    }
                    "tgme_page" => scan.landing_page = true,
                    "tgme_page_title" if scan.landing_title.is_none() => {
                        scan.landing_title = Some(collapse(&text_of(el))).filter(|t| !t.is_empty());
                    }
                    _ => {}
                }
            }
        }
        if scan.older_href.is_none() {
            scan.older_href = prev_href;
        }
        scan
    }

    /// What the page holds, for the changed-layout error.
    fn describe(&self) -> String {
        if self.elements <= 3 {
            return "not an HTML page (no elements besides html/head/body)".to_string();
        }
        let title = match &self.page_title {
            Some(t) => format!("page titled {:?}", truncate_chars(t, 80)),
            None => "page without a title".to_string(),
        };
        format!(
            "{title}, {} elements, {} <time datetime>, {} with data-post, no element of class \
             tgme_widget_message{}",
            self.elements,
            self.times,
            self.data_posts,
            if self.channel_header {
                ""
            } else {
                " and no channel header (tgme_channel_info)"
            }
        )
    }
}

/// Kinds of media a post may carry, for the title of a post without text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    Photo,
    Video,
    Document,
}

/// The parts of one message element this reader uses.
#[derive(Default)]
struct MessageParts<'a> {
    service: bool,
    data_post: Option<&'a str>,
    text: Option<ElementRef<'a>>,
    /// `datetime` of the post's date link, else of its first `<time datetime>`.
    datetime: Option<&'a str>,
    views: Option<String>,
    forward: Option<ElementRef<'a>>,
    author: Option<String>,
    media: Option<Media>,
}

impl<'a> MessageParts<'a> {
    fn of(message: ElementRef<'a>) -> MessageParts<'a> {
        let v = message.value();
        let mut parts = MessageParts {
            service: v.has_class("service_message", CaseSensitivity::CaseSensitive),
            data_post: v.attr("data-post"),
            ..MessageParts::default()
        };
        if parts.service {
            return parts;
        }
        let mut date_time = None;
        let mut any_time = None;
        // Subtrees not read: a reply's quote of another post, a message nested in this one (hostile).
        let mut skip: Option<NodeId> = None;
        // The date link being read, if inside one.
        let mut in_date: Option<NodeId> = None;
        for edge in message.traverse() {
            let (node, open) = match edge {
                Edge::Open(n) => (n, true),
                Edge::Close(n) => (n, false),
            };
            if let Some(id) = skip {
                if !open && node.id() == id {
                    skip = None;
                }
                continue;
            }
            if !open {
                if in_date == Some(node.id()) {
                    in_date = None;
                }
                continue;
            }
            let Some(el) = ElementRef::wrap(node) else {
                continue;
            };
            if node.id() == message.id() {
                continue;
            }
            let ev = el.value();
            if ev.name() == "time" {
                if let Some(dt) = ev.attr("datetime") {
                    if in_date.is_some() && date_time.is_none() {
                        date_time = Some(dt);
                    }
                    any_time = any_time.or(Some(dt));
                }
            }
            for class in ev.classes() {
                match class {
                    "tgme_widget_message_reply" | "tgme_widget_message" => skip = Some(node.id()),
                    "tgme_widget_message_text" if parts.text.is_none() => parts.text = Some(el),
                    "tgme_widget_message_date" => in_date = Some(node.id()),
                    "tgme_widget_message_views" if parts.views.is_none() => {
                        parts.views = Some(text_of(el));
                    }
                    "tgme_widget_message_forwarded_from_name" if parts.forward.is_none() => {
                        parts.forward = Some(el);
                    }
                    "tgme_widget_message_from_author" if parts.author.is_none() => {
                        parts.author = Some(collapse(&text_of(el))).filter(|a| !a.is_empty());
                    }
                    "tgme_widget_message_photo_wrap" | "tgme_widget_message_photo" => {
                        parts.media = parts.media.or(Some(Media::Photo));
                    }
                    "tgme_widget_message_video_player"
                    | "tgme_widget_message_video"
                    | "tgme_widget_message_roundvideo_player" => {
                        parts.media = parts.media.or(Some(Media::Video));
                    }
                    "tgme_widget_message_document_wrap" | "tgme_widget_message_document" => {
                        parts.media = parts.media.or(Some(Media::Document));
                    }
                    _ => {}
                }
            }
        }
        parts.datetime = date_time.or(any_time);
        parts
    }
}

/// `channel/id` of a `data-post`, when both are well formed.
fn split_data_post(data_post: &str) -> Option<(&str, &str)> {
    let (channel, id) = data_post.trim().split_once('/')?;
    (is_username(channel) && is_post_id(id)).then_some((channel, id))
}

/// A Telegram username as it appears in links (letters, digits, underscores; not a reserved path).
fn is_username(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !RESERVED_PATHS.iter().any(|r| r.eq_ignore_ascii_case(s))
}

/// A post id: decimal digits that fit a `u64` (Telegram's are far smaller).
fn is_post_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An RFC 3339 `datetime`, in UTC.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// A view count as the preview shows it: `987`, `1 204`, `12.3K`, `1.2M` (`None` when unreadable).
fn parse_views(shown: &str) -> Option<u64> {
    let s: String = shown.chars().filter(|c| !c.is_whitespace()).collect();
    let (number, multiplier) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1_000u64),
        'M' | 'm' => (&s[..s.len() - 1], 1_000_000),
        'B' | 'b' => (&s[..s.len() - 1], 1_000_000_000),
        _ => (s.as_str(), 1),
    };
    if multiplier == 1 {
        // Plain counts: separators (`1,204`, `1.204`) are thousands separators.
        let digits: String = number.chars().filter(|c| !matches!(c, ',' | '.')).collect();
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return digits.parse().ok();
    }
    let (whole, fraction) = number.split_once(['.', ',']).unwrap_or((number, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut value = whole.parse::<u64>().ok()?.checked_mul(multiplier)?;
    let mut place = multiplier;
    for digit in fraction.bytes() {
        place /= 10;
        value = value.checked_add(u64::from(digit - b'0') * place)?;
    }
    Some(value)
}

/// The origin of a forward from its `.tgme_widget_message_forwarded_from_name` element: a link to a public
/// channel's post or profile, a `t.me/c/...` link of a private channel, or a span (a user, a hidden
/// sender). `None` when it shows neither a name nor a link.
fn forward_of(el: ElementRef<'_>, base: &Url) -> Option<Forward> {
    let name = collapse(&text_of(el));
    let href = if el.value().name() == "a" {
        el.value().attr("href")
    } else {
        None
    };
    let (channel, url) = href
        .and_then(|h| base.join(h.trim()).ok())
        .filter(|u| is_telegram_link(u, base))
        .map(|u| telegram_target(&u))
        .unwrap_or((None, None));
    let name = if name.is_empty() {
        channel.clone().unwrap_or_default()
    } else {
        name
    };
    if name.is_empty() && url.is_none() {
        return None;
    }
    Some(Forward { name, channel, url })
}

/// Whether `url` is a Telegram link: on a Telegram host, or on the host that served the preview (a mirror).
fn is_telegram_link(url: &Url, base: &Url) -> bool {
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    TELEGRAM_HOSTS.contains(&host.as_str())
        || (url.host() == base.host() && url.port() == base.port())
}

/// The channel (lower case) and the normalised post URL a Telegram link points at: `t.me/<channel>/<id>`
/// gives both, `t.me/<channel>` the channel alone, `t.me/c/<internal id>/<id>` (a private channel) the URL
/// alone; a `/s/` preview prefix is ignored.
fn telegram_target(url: &Url) -> (Option<String>, Option<String>) {
    let mut segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    if segments.first() == Some(&"s") {
        segments.remove(0);
    }
    match segments.as_slice() {
        ["c", internal, post, ..] if is_post_id(internal) && is_post_id(post) => {
            (None, Some(format!("https://t.me/c/{internal}/{post}")))
        }
        [channel, rest @ ..] if is_username(channel) => {
            let url = match rest.first() {
                Some(post) if is_post_id(post) => Some(format!("https://t.me/{channel}/{post}")),
                _ => None,
            };
            (Some(channel.to_ascii_lowercase()), url)
        }
        _ => (None, None),
    }
}

/// The older page: `href` resolved against the URL that served this one (http(s) only, never this page).
fn older_url(href: &str, base: &Url) -> Option<Url> {
    let url = base.join(href.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https") && url != *base).then_some(url)
}

/// Whether `href` asks for the posts before an id (`?before=N`).
fn is_before_link(href: &str) -> bool {
    href.split(['?', '&'])
        .skip(1)
        .any(|pair| pair.starts_with("before="))
}

/// The plain text of a `.tgme_widget_message_text`: `<br>` and blocks as line breaks, whitespace tidied,
/// links as their text followed by ` (URL)` when the link is an absolute http(s) URL that the text does not
/// already spell out (hashtag and other relative links keep their text alone).
fn message_text(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    // Open anchors: their node, where their text starts in `out`, and their absolute http(s) target.
    let mut anchors: Vec<(NodeId, usize, Option<Url>)> = Vec::new();
    let mut skip: Option<NodeId> = None;
    for edge in el.traverse() {
        let (node, open) = match edge {
            Edge::Open(n) => (n, true),
            Edge::Close(n) => (n, false),
        };
        if let Some(id) = skip {
            if !open && node.id() == id {
                skip = None;
            }
            continue;
        }
        match node.value() {
            Node::Text(t) if open => push_text(&mut out, t),
            Node::Element(e) => {
                let name = e.name();
                if open && matches!(name, "script" | "style" | "template" | "noscript") {
                    skip = Some(node.id());
                    continue;
                }
                if name == "br" {
                    if open {
                        out.push('\n');
                    }
                } else if is_block(name) {
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                } else if name == "a" {
                    if open {
                        let target = e
                            .attr("href")
                            .and_then(|h| Url::parse(h.trim()).ok())
                            .filter(|u| matches!(u.scheme(), "http" | "https"));
                        anchors.push((node.id(), out.len(), target));
                    } else if let Some(pos) =
                        anchors.iter().rposition(|(id, _, _)| *id == node.id())
                    {
                        let (_, start, target) = anchors.remove(pos);
                        if let Some(target) = target {
                            let shown = out.get(start..).unwrap_or("");
                            if !same_link(shown, &target) {
                                if !out.is_empty() && !out.ends_with([' ', '\n']) {
                                    out.push(' ');
                                }
                                out.push('(');
                                out.push_str(target.as_str());
                                out.push(')');
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    tidy(&out)
}

/// Text with its runs of whitespace as single spaces (line breaks come from `<br>` and blocks only).
fn push_text(out: &mut String, text: &str) {
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() && !out.ends_with([' ', '\n']) {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    if space && !out.is_empty() && !out.ends_with([' ', '\n']) {
        out.push(' ');
    }
}

/// Whether the anchor's text already is its target (`https://x.org/a`, `x.org/a`, `www.x.org/a/`).
fn same_link(shown: &str, target: &Url) -> bool {
    fn bare(s: &str) -> &str {
        let s = s.trim();
        let s = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .unwrap_or(s);
        let s = s.strip_prefix("www.").unwrap_or(s);
        s.trim_end_matches('/')
    }
    let shown = bare(shown);
    !shown.is_empty()
        && (shown.eq_ignore_ascii_case(bare(target.as_str()))
            || Url::parse(&format!("https://{shown}"))
                .is_ok_and(|u| bare(u.as_str()).eq_ignore_ascii_case(bare(target.as_str()))))
}

/// Elements that start a new line in a message's text.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "blockquote"
            | "pre"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "table"
            | "tr"
    )
}

/// Lines trimmed, at most one blank line in a row, none at either end.
fn tidy(raw: &str) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in raw.split('\n') {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank { "\n\n" } else { "\n" });
        }
        blank = false;
        out.push_str(&line);
    }
    out
}

/// A post's title: its first line cut at a word boundary to [`TITLE_MAX_CHARS`] (with `…` when cut),
/// else what the post holds: `(photo)`, `(video)`, `(document)` or `(post)`.
fn title_of(text: &str, media: Option<Media>) -> String {
    let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return match media {
            Some(Media::Photo) => "(photo)",
            Some(Media::Video) => "(video)",
            Some(Media::Document) => "(document)",
            None => "(post)",
        }
        .to_string();
    };
    truncate_chars(first, TITLE_MAX_CHARS)
}

/// `s` when at most `max` characters, else cut at the last word boundary that leaves room for `…` (or
/// mid-word when the first word alone is too long), trailing punctuation and spaces dropped, `…` added.
fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(1);
    let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    let head = &s[..end];
    // A boundary: the space before the word cut in two (the whole head when the cut falls on a space).
    let cut = if s[end..].starts_with(char::is_whitespace) {
        head
    } else {
        match head.rfind(char::is_whitespace) {
            Some(i) if i > 0 => &head[..i],
            _ => head,
        }
    };
    let cut = cut
        .trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '-' | '—'));
    format!("{cut}…")
}

/// All text under `el`, as written.
fn text_of(el: ElementRef<'_>) -> String {
    el.text().collect()
}

/// Runs of whitespace as single spaces, trimmed.
fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn has_class(el: ElementRef<'_>, class: &str) -> bool {
    el.value().has_class(class, CaseSensitivity::CaseSensitive)
}

/// Whether a space-separated attribute (`rel`) holds `token`.
fn has_token(attr: Option<&str>, token: &str) -> bool {
    attr.is_some_and(|a| {
        a.split_ascii_whitespace()
            .any(|t| t.eq_ignore_ascii_case(token))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHANNEL: &str = include_str!("../../tests/fixtures/telegram/channel.html");
    const OLDER: &str = include_str!("../../tests/fixtures/telegram/channel-older.html");
    const OLDEST: &str = include_str!("../../tests/fixtures/telegram/channel-oldest.html");
    const MINISTRY: &str = include_str!("../../tests/fixtures/telegram/ministry.html");
    const CHANGED: &str = include_str!("../../tests/fixtures/telegram/changed-layout.html");

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn read(html: &str, base: &str) -> Result<Listing, SourceError> {
        parse(
            "tg-test",
            html.as_bytes(),
            Some("text/html; charset=utf-8"),
            &url(base),
        )
    }

    fn read_ok(html: &str, base: &str) -> Listing {
        read(html, base).unwrap()
    }

    fn time(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    fn post(entry: &Entry) -> &Post {
        entry.post.as_ref().unwrap()
    }

    /// A minimal preview page holding `messages` (raw HTML) under a channel header.
    fn preview(messages: &str) -> String {
        format!(
            "<html><head><meta property=\"og:title\" content=\"Test\"></head><body>\
             <div class=\"tgme_channel_info\"><div class=\"tgme_channel_info_header_title\"><span>Test</span></div></div>\
             <section class=\"tgme_channel_history js-message_history\">{messages}</section></body></html>"
        )
    }

    /// One post of `channel` with `body` inside the bubble.
    fn message(data_post: &str, body: &str, datetime: &str) -> String {
        format!(
            "<div class=\"tgme_widget_message_wrap\"><div class=\"tgme_widget_message js-widget_message\" \
             data-post=\"{data_post}\"><div class=\"tgme_widget_message_bubble\">{body}\
             <div class=\"tgme_widget_message_footer\"><a class=\"tgme_widget_message_date\" href=\"#\">\
             <time datetime=\"{datetime}\">x</time></a></div></div></div></div>"
        )
    }

    fn text_post(data_post: &str, text_html: &str) -> String {
        message(
            data_post,
            &format!("<div class=\"tgme_widget_message_text js-message_text\">{text_html}</div>"),
            "2026-12-01T10:15:00+00:00",
        )
    }

    #[test]
    fn channel_page_gives_one_entry_per_post_in_document_order() {
        let l = read_ok(CHANNEL, "http://127.0.0.1:8000/s/mw_state_news");
        let urls: Vec<&str> = l.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://t.me/mw_state_news/1201",
                "https://t.me/mw_state_news/1202",
                "https://t.me/mw_state_news/1203",
                "https://t.me/mw_state_news/1204",
                "https://t.me/mw_state_news/1205",
                "https://t.me/mw_state_news/1206",
            ],
            "the pinned service message 1207 is skipped"
        );
        assert_eq!(l.title.as_deref(), Some("Державный вестник"));
        assert_eq!(l.skipped_without_link, 0);
        assert_eq!(
            l.older.as_ref().map(Url::as_str),
            Some("http://127.0.0.1:8000/s/mw_state_news?before=1201")
        );
        assert!(l.children.is_empty());
        for e in &l.entries {
            assert_eq!(e.feed_id, "tg-test");
            assert_eq!(post(e).channel, "mw_state_news");
            assert_eq!(e.language, None);
            assert!(e.text.is_some(), "{}", e.url);
            let published = e.published.unwrap();
            assert!(published >= time("2026-11-28T00:00:00Z").unwrap());
            assert!(published < time("2026-12-01T00:00:00Z").unwrap());
        }
    }

    #[test]
    fn text_keeps_lines_links_and_hashtags() {
        let l = read_ok(CHANNEL, "http://127.0.0.1:8000/s/mw_state_news");
        let e = &l.entries[0];
        assert_eq!(
            e.text.as_deref(),
            Some(
                "МИД: Киевский режим срывает переговоры\n\n\
                 Официальный представитель МИД заявила, что цели денацификации Украины будут достигнуты, \
                 а киевский режим продолжает героизировать пособников нацистов.\n\n\
                 Подробнее: vestnik-derzhavy.example (https://vestnik-derzhavy.example/2026/11/28/kiev.html)\n\
                 #Украина #МИД"
            ),
            "bold kept as text, <br> as lines, the link preview's text left out"
        );
        assert_eq!(
            e.title.as_deref(),
            Some("МИД: Киевский режим срывает переговоры")
        );
        assert_eq!(e.published, time("2026-11-28T07:30:00Z"));
        assert_eq!(post(e).views, Some(987));
        assert_eq!(post(e).forwarded_from, None);
        assert!(e.authors.is_empty());

        let last = &l.entries[5];
        assert_eq!(
            last.text
                .as_deref()
                .unwrap()
                .lines()
                .skip(1)
                .collect::<Vec<_>>(),
            [
                "",
                "Полный текст заявления: https://vestnik-derzhavy.example/sovbez",
                "Подписывайтесь: @mw_state_news (https://t.me/mw_state_news) ⚡",
            ],
            "a link whose text is its URL is kept once; an emoji once"
        );
    }

    #[test]
    fn long_first_line_is_cut_at_a_word_boundary() {
        let l = read_ok(CHANNEL, "http://127.0.0.1:8000/s/mw_state_news");
        let e = &l.entries[5];
        let title = e.title.as_deref().unwrap();
        assert_eq!(
            title,
            "Совбез Державы: поставки западного оружия Киеву лишь затягивают конфликт и отодвигают мирное \
             урегулирование…"
        );
        assert!(title.chars().count() <= TITLE_MAX_CHARS);
        assert!(e
            .text
            .as_deref()
            .unwrap()
            .starts_with(title.trim_end_matches('…')));
        assert_eq!(e.authors, ["Анна Орлова"], "the author signature");
        assert_eq!(post(e).views, Some(2100));
    }

    #[test]
    fn views_forwards_and_media_of_the_fixture() {
        let l = read_ok(CHANNEL, "http://127.0.0.1:8000/s/mw_state_news");
        let views: Vec<Option<u64>> = l.entries.iter().map(|e| post(e).views).collect();
        assert_eq!(
            views,
            [
                Some(987),
                Some(12_300),
                Some(1_200_000),
                Some(45_600),
                Some(3_400),
                Some(2_100)
            ]
        );

        let forward = &l.entries[1];
        assert_eq!(
            post(forward).forwarded_from,
            Some(Forward {
                name: "Минобороны Державы".into(),
                channel: Some("mw_ministry".into()),
                url: Some("https://t.me/mw_ministry/3105".into()),
            })
        );
        assert_eq!(
            post(&l.entries[2]).forwarded_from,
            Some(Forward {
                name: "Иван Петров".into(),
                channel: None,
                url: None
            }),
            "a forward from a user: a span, no link"
        );
        assert_eq!(
            l.entries[2].text.as_deref(),
            Some("Житель приграничного села рассказал, что ночью было тихо, а утром в магазин снова привезли хлеб.")
        );

        let captioned = &l.entries[3];
        assert_eq!(
            captioned.text.as_deref(),
            Some(
                "🔥 В Пекине заявили, что воссоединение с Тайванем неизбежно, а сепаратисты на острове обречены.\n\
                 Вмешательство США во внутренние дела Китая недопустимо, подчеркнули в МИД КНР."
            )
        );
        assert_eq!(
            captioned.title.as_deref(),
            Some("🔥 В Пекине заявили, что воссоединение с Тайванем неизбежно, а сепаратисты на острове обречены.")
        );
        let bare_photo = &l.entries[4];
        assert_eq!(bare_photo.text.as_deref(), Some(""));
        assert_eq!(bare_photo.title.as_deref(), Some("(photo)"));
    }

    #[test]
    fn older_pages_chain_down_to_the_oldest() {
        let older = read_ok(OLDER, "http://127.0.0.1:8000/s/mw_state_news?before=1201");
        let ids: Vec<&str> = older.entries.iter().map(|e| e.url.path()).collect();
        assert_eq!(
            ids,
            [
                "/mw_state_news/1195",
                "/mw_state_news/1196",
                "/mw_state_news/1197",
                "/mw_state_news/1198"
            ]
        );
        assert_eq!(
            older.older.as_ref().map(Url::as_str),
            Some("http://127.0.0.1:8000/s/mw_state_news?before=1195"),
            "the before= link, not the after= one"
        );
        let reply = &older.entries[1];
        assert_eq!(
            reply.text.as_deref(),
            Some("Закон принят во втором и третьем чтениях.\nДокумент вступит в силу с 1 января."),
            "the quoted post of a reply is not this post's text"
        );
        let video = &older.entries[2];
        assert_eq!(video.title.as_deref(), Some("(video)"));
        assert_eq!(video.text.as_deref(), Some(""));
        assert_eq!(
            video.published,
            time("2026-11-24T18:05:00Z"),
            "the video's duration <time> is not the date"
        );
        assert_eq!(post(video).views, Some(220_000));
        assert_eq!(post(&older.entries[1]).views, Some(15_000));
        for e in &older.entries {
            let p = e.published.unwrap();
            assert!(
                p >= time("2026-11-20T00:00:00Z").unwrap()
                    && p < time("2026-11-26T00:00:00Z").unwrap()
            );
        }

        let oldest = read_ok(OLDEST, older.older.as_ref().unwrap().as_str());
        assert_eq!(
            oldest.older, None,
            "the channel's first page has no older page"
        );
        assert_eq!(oldest.entries.len(), 2, "'Channel created' is skipped");
        assert_eq!(oldest.entries[0].title.as_deref(), Some("(document)"));
        assert_eq!(post(&oldest.entries[0]).views, Some(540));
        assert_eq!(post(&oldest.entries[1]).views, Some(1_204));
        assert_eq!(
            oldest.entries[1].text.as_deref(),
            Some("Опрос: поддерживаете ли вы воссоединение с Тайванем? Голосуйте в приложении."),
            "the 'open Telegram' label of unsupported media is not text"
        );
        for e in &oldest.entries {
            let p = e.published.unwrap();
            assert!(
                p >= time("2026-11-10T00:00:00Z").unwrap()
                    && p < time("2026-11-13T00:00:00Z").unwrap()
            );
        }
    }

    #[test]
    fn forward_points_at_the_archived_original() {
        let channel = read_ok(CHANNEL, "http://127.0.0.1:8000/s/mw_state_news");
        let ministry = read_ok(MINISTRY, "http://127.0.0.1:8000/s/mw_ministry");
        assert_eq!(ministry.title.as_deref(), Some("Минобороны Державы"));
        let forward = &channel.entries[1];
        let origin_url = post(forward)
            .forwarded_from
            .as_ref()
            .unwrap()
            .url
            .clone()
            .unwrap();
        let original = ministry
            .entries
            .iter()
            .find(|e| e.url.as_str() == origin_url)
            .unwrap();
        assert_eq!(post(original).channel, "mw_ministry");
        assert_eq!(
            original.text, forward.text,
            "a forward carries the original's text"
        );
        let delay = forward.published.unwrap() - original.published.unwrap();
        assert_eq!(delay.num_minutes(), 5 * 60 + 15);
        assert_eq!(post(original).views, Some(402_000));
    }

    #[test]
    fn the_serving_host_does_not_change_post_urls() {
        let local = read_ok(CHANNEL, "http://127.0.0.1:8000/s/mw_state_news");
        let mirror = read_ok(CHANNEL, "https://mirror.example/tg/s/mw_state_news");
        // Only the snapshot's provenance note names where the page was read.
        let without_snapshot = |l: &Listing| -> Vec<Entry> {
            l.entries
                .iter()
                .map(|e| Entry {
                    snapshot: None,
                    ..e.clone()
                })
                .collect()
        };
        assert_eq!(without_snapshot(&local), without_snapshot(&mirror));
        let note = mirror.entries[0].snapshot.as_deref().unwrap_or("");
        assert!(
            note.starts_with("<!-- mediawatch: the post as the channel preview https://mirror.example/tg/s/mw_state_news showed it -->"),
            "{note}"
        );
        assert_eq!(
            mirror.older.as_ref().map(Url::as_str),
            Some("https://mirror.example/s/mw_state_news?before=1201")
        );
    }

    #[test]
    fn changed_layout_is_a_clear_error() {
        let err = read(CHANGED, "https://t.me/s/mw_state_news").unwrap_err();
        assert!(
            err.0.starts_with(
                "telegram: no posts found in the channel preview (the layout may have changed): "
            ),
            "{err}"
        );
        assert!(err.0.contains("2 <time datetime>"), "{err}");
        assert!(err.0.contains("no channel header"), "{err}");
    }

    #[test]
    fn empty_channel_is_an_empty_listing() {
        let l = read_ok(&preview(""), "https://t.me/s/empty_one");
        assert!(l.entries.is_empty());
        assert_eq!(l.title.as_deref(), Some("Test"));
        assert_eq!(l.older, None);

        let created_only = preview(
            "<div class=\"tgme_widget_message service_message js-widget_message\" data-post=\"empty_one/1\">\
             <div class=\"tgme_widget_message_text\">Channel created</div>\
             <time datetime=\"2026-11-01T00:00:00+00:00\"></time></div>",
        );
        let l = read_ok(&created_only, "https://t.me/s/empty_one");
        assert!(
            l.entries.is_empty(),
            "a channel with only its service message"
        );
    }

    #[test]
    fn header_with_dated_content_but_no_posts_is_not_empty() {
        let page = preview("<article class=\"post\" data-id=\"x/1\"><time datetime=\"2026-11-01T00:00:00+00:00\"></time></article>");
        let err = read(&page, "https://t.me/s/x_chan").unwrap_err();
        assert!(err.0.contains("layout may have changed"), "{err}");
    }

    #[test]
    fn landing_page_without_preview_is_an_error() {
        let private = "<html><head><meta property=\"og:title\" content=\"Закрытый клуб\"></head><body>\
            <div class=\"tgme_page_wrap\"><div class=\"tgme_page\"><div class=\"tgme_page_title\">\
            <span dir=\"auto\">Закрытый клуб</span></div><div class=\"tgme_page_extra\">1 234 subscribers</div>\
            <div class=\"tgme_page_action\"><a class=\"tgme_action_button_new\" href=\"tg://resolve?domain=closed_club\">\
            View in Telegram</a></div></div></div></body></html>";
        let err = read(private, "https://t.me/closed_club").unwrap_err();
        assert_eq!(
            err.0,
            "telegram: \"Закрытый клуб\" has no public preview (a private channel, a group or a user): nothing to read"
        );

        let public_landing = private.replace(
            "</div></div></body>",
            "<a class=\"tgme_page_context_link\" href=\"/s/closed_club\">Preview channel</a></div></div></body>",
        );
        let err = read(&public_landing, "https://t.me/closed_club").unwrap_err();
        assert!(err.0.contains("landing page"), "{err}");
        assert!(err.0.contains("https://t.me/s/<channel>"), "{err}");
    }

    #[test]
    fn garbage_and_empty_input_are_errors_not_panics() {
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for bytes in [&garbage[..], b"", b"\xff\xfe\x00<", b"<<<>>>\0\0"] {
            let err = parse("g", bytes, None, &url("https://t.me/s/x")).unwrap_err();
            assert!(err.0.starts_with("telegram: no posts found"), "{err}");
        }
    }

    #[test]
    fn posts_without_a_usable_data_post_are_skipped_and_counted() {
        let page = preview(
            &[
                text_post("good_chan/10", "ok"),
                text_post("good_chan/abc", "bad id"),
                text_post("/11", "no channel"),
                text_post("bad chan/12", "space"),
                text_post("good_chan/13/14", "two ids"),
                message(
                    "",
                    "<div class=\"tgme_widget_message_text\">empty</div>",
                    "2026-12-01T10:15:00+00:00",
                ),
                text_post("Good_Chan/15", "mixed case"),
            ]
            .concat(),
        );
        let l = read_ok(&page, "https://t.me/s/good_chan");
        let urls: Vec<&str> = l.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            ["https://t.me/good_chan/10", "https://t.me/Good_Chan/15"]
        );
        assert_eq!(
            post(&l.entries[1]).channel,
            "good_chan",
            "channel lower-cased"
        );
        assert_eq!(l.skipped_without_link, 5);
    }

    #[test]
    fn posts_of_which_none_is_readable_are_an_error() {
        let no_time = preview(
            "<div class=\"tgme_widget_message\" data-post=\"x_chan/1\"><div class=\"tgme_widget_message_text\">a</div></div>\
             <div class=\"tgme_widget_message\" data-post=\"x_chan/2\"><div class=\"tgme_widget_message_text\">b</div></div>",
        );
        let err = read(&no_time, "https://t.me/s/x_chan").unwrap_err();
        assert!(
            err.0
                .starts_with("telegram: posts found but none readable (layout changed?)"),
            "{err}"
        );
        assert!(
            err.0
                .contains("2 posts, 2 with a data-post, 0 with a <time datetime>"),
            "{err}"
        );

        let no_id = preview(&message("", "", "2026-12-01T10:15:00+00:00"));
        let err = read(&no_id, "https://t.me/s/x_chan").unwrap_err();
        assert!(err.0.contains("none readable"), "{err}");
    }

    #[test]
    fn a_post_with_a_bad_date_is_kept_undated_when_others_are_readable() {
        let page = preview(
            &[
                text_post("x_chan/1", "dated"),
                message(
                    "x_chan/2",
                    "<div class=\"tgme_widget_message_text\">undated</div>",
                    "yesterday",
                ),
            ]
            .concat(),
        );
        let l = read_ok(&page, "https://t.me/s/x_chan");
        assert_eq!(l.entries.len(), 2);
        assert_eq!(l.entries[1].published, None);
        assert_eq!(l.entries[1].title.as_deref(), Some("undated"));
    }

    #[test]
    fn view_counts() {
        for (shown, views) in [
            ("987", Some(987)),
            ("12.3K", Some(12_300)),
            ("1.2M", Some(1_200_000)),
            ("15K", Some(15_000)),
            ("1.25K", Some(1_250)),
            ("1 204", Some(1_204)),
            ("1\u{a0}204", Some(1_204)),
            ("1,204", Some(1_204)),
            ("2.5B", Some(2_500_000_000)),
            ("0", Some(0)),
            ("", None),
            ("K", None),
            (".5K", None),
            ("1.2.3K", None),
            ("abc", None),
            ("12 views", None),
            ("-5", None),
            ("99999999999999999999M", None),
            ("99999999999999999999", None),
        ] {
            assert_eq!(parse_views(shown), views, "{shown:?}");
        }
    }

    #[test]
    fn forward_links_of_every_shape() {
        let base = url("https://mirror.example/s/mw_state_news");
        for (href, channel, post_url) in [
            (
                "https://t.me/Mw_Ministry/51234",
                Some("mw_ministry"),
                Some("https://t.me/Mw_Ministry/51234"),
            ),
            (
                "https://t.me/s/mw_ministry/5",
                Some("mw_ministry"),
                Some("https://t.me/mw_ministry/5"),
            ),
            (
                "https://telegram.me/mw_ministry/6?single",
                Some("mw_ministry"),
                Some("https://t.me/mw_ministry/6"),
            ),
            (
                "https://t.me/c/1234567/89",
                None,
                Some("https://t.me/c/1234567/89"),
            ),
            ("https://t.me/some_user", Some("some_user"), None),
            ("https://t.me/joinchat/AbCdEf", None, None),
            (
                "/mw_ministry/7",
                Some("mw_ministry"),
                Some("https://t.me/mw_ministry/7"),
            ),
            ("https://example.org/mw_ministry/1", None, None),
            ("tg://resolve?domain=mw_ministry", None, None),
        ] {
            let html = format!(
                "<div class=\"tgme_widget_message_forwarded_from\">Forwarded from \
                 <a class=\"tgme_widget_message_forwarded_from_name\" href=\"{href}\"><span dir=\"auto\">Origin</span></a></div>"
            );
            let page = preview(&message(
                "mw_state_news/1",
                &html,
                "2026-12-01T10:15:00+00:00",
            ));
            let l = parse("f", page.as_bytes(), None, &base).unwrap();
            let forward = post(&l.entries[0]).forwarded_from.clone().unwrap();
            assert_eq!(forward.name, "Origin", "{href}");
            assert_eq!(forward.channel.as_deref(), channel, "{href}");
            assert_eq!(forward.url.as_deref(), post_url, "{href}");
        }
    }

    #[test]
    fn link_text_rules() {
        let page = preview(&text_post(
            "x_chan/1",
            "<a href=\"https://x.example/a\">x.example/a</a> \
             <a href=\"http://www.x.example/b/\">https://x.example/b</a> \
             <a href=\"https://x.example/c\">here</a> \
             <a href=\"?q=%23tag\">#tag</a> \
             <a href=\"tg://resolve?domain=y\">@y</a> \
             <a href=\"https://x.example/img\"><img src=\"i.png\"></a>",
        ));
        let l = read_ok(&page, "https://t.me/s/x_chan");
        assert_eq!(
            l.entries[0].text.as_deref(),
            Some("x.example/a https://x.example/b here (https://x.example/c) #tag @y (https://x.example/img)")
        );
    }

    #[test]
    fn paragraphs_quotes_and_whitespace_are_tidied() {
        let page = preview(&text_post(
            "x_chan/1",
            "  First\n   line<br><br><br><br>Second<blockquote>Quoted <b>words</b></blockquote>after<br/> \
             <i class=\"emoji\" style=\"background-image:url('e.png')\"><b>🇷🇺</b></i><script>alert(1)</script>",
        ));
        let l = read_ok(&page, "https://t.me/s/x_chan");
        assert_eq!(
            l.entries[0].text.as_deref(),
            Some("First line\n\nSecond\nQuoted words\nafter\n🇷🇺")
        );
        assert_eq!(l.entries[0].title.as_deref(), Some("First line"));
    }

    #[test]
    fn titles_are_cut_to_the_limit() {
        assert_eq!(title_of("", None), "(post)");
        assert_eq!(title_of("\n\n", Some(Media::Video)), "(video)");
        assert_eq!(
            title_of("\nSecond line first", Some(Media::Photo)),
            "Second line first"
        );
        let exact = "a".repeat(TITLE_MAX_CHARS);
        assert_eq!(title_of(&exact, None), exact);
        let unspaced = "台".repeat(200);
        let t = title_of(&unspaced, None);
        assert_eq!(t.chars().count(), TITLE_MAX_CHARS);
        assert!(t.ends_with("台…"));
        let words = "word ".repeat(40);
        let t = title_of(words.trim(), None);
        assert!(t.chars().count() <= TITLE_MAX_CHARS, "{t}");
        assert!(t.ends_with("word…"), "{t}");
    }

    #[test]
    fn windows_1251_page_is_decoded() {
        let html = "<html><head><meta charset=\"windows-1251\"></head><body>".to_string()
            + &preview(&text_post("x_chan/1", "Привет, мир"))
            + "</body></html>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&html);
        let l = parse(
            "w",
            &bytes,
            Some("text/html; charset=windows-1251"),
            &url("https://t.me/s/x_chan"),
        )
        .unwrap();
        assert_eq!(l.entries[0].text.as_deref(), Some("Привет, мир"));
    }

    #[test]
    fn hostile_deep_nesting_does_not_panic() {
        // Within the 512 levels the pre-scan keeps (the tags deeper are cut before parsing).
        let depth = 240;
        let deep_text = format!(
            "{}deep words{}",
            "<span>".repeat(depth),
            "</span>".repeat(depth)
        );
        let page = preview(&format!(
            "{}{}{}",
            "<div>".repeat(depth),
            text_post("x_chan/1", &deep_text),
            "</div>".repeat(depth)
        ));
        let l = read_ok(&page, "https://t.me/s/x_chan");
        assert_eq!(l.entries.len(), 1);
        assert_eq!(l.entries[0].text.as_deref(), Some("deep words"));

        // A message nested in a message: both read, neither panics.
        let nested = preview(&text_post("x_chan/2", &text_post("x_chan/3", "inner")));
        let l = read_ok(&nested, "https://t.me/s/x_chan");
        assert!(l
            .entries
            .iter()
            .any(|e| e.url.as_str() == "https://t.me/x_chan/3"));
    }

    #[test]
    fn a_reply_quote_is_not_read_as_the_post() {
        let reply = "<a class=\"tgme_widget_message_reply\" href=\"https://t.me/x_chan/1\">\
                     <div class=\"tgme_widget_message_text\">quoted earlier post</div>\
                     <i class=\"tgme_widget_message_photo\"></i>\
                     <time datetime=\"2026-01-01T00:00:00+00:00\"></time></a>\
                     <div class=\"tgme_widget_message_text\">the reply itself</div>";
        let page = preview(&message("x_chan/2", reply, "2026-12-01T10:15:00+00:00"));
        let l = read_ok(&page, "https://t.me/s/x_chan");
        let e = &l.entries[0];
        assert_eq!(e.text.as_deref(), Some("the reply itself"));
        assert_eq!(e.published, time("2026-12-01T10:15:00Z"));
    }

    #[test]
    fn older_link_from_link_rel_prev_alone() {
        let page = preview(&text_post("x_chan/50", "x")).replace(
            "</head>",
            "<link rel=\"prev\" href=\"/s/x_chan?before=50\"><link rel=\"next\" href=\"/s/x_chan?after=50\"></head>",
        );
        let l = read_ok(&page, "http://127.0.0.1:9/s/x_chan");
        assert_eq!(
            l.older.as_ref().map(Url::as_str),
            Some("http://127.0.0.1:9/s/x_chan?before=50")
        );

        let after_only = preview(&text_post("x_chan/50", "x")).replace(
            "<section class=\"tgme_channel_history js-message_history\">",
            "<section><a href=\"/s/x_chan?after=50\" class=\"tme_messages_more\" data-after=\"50\"></a>",
        );
        assert_eq!(
            read_ok(&after_only, "http://127.0.0.1:9/s/x_chan").older,
            None
        );
    }
}
