//! Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) to [`Entry`] values, with feed-rs.
//!
//! Bytes are decoded here first (see [`crate::charset`]) so that a wrong or missing declaration does not
//! turn Chinese or Russian into mojibake; links are resolved against the feed's URL. Entries without a
//! usable http(s) link are dropped and counted. This module does no I/O.

use url::Url;

use crate::charset;
use crate::extract::html_fragment_to_text;
use crate::model::Entry;

/// A parsed feed document.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedFeed {
    /// The feed's own title.
    pub title: Option<String>,
    /// Entries with a usable link, in document order, at most the cap.
    pub entries: Vec<Entry>,
    /// Entries dropped because they had no usable http(s) link.
    pub skipped_without_link: usize,
    /// Entries beyond the per-pass cap.
    pub skipped_over_cap: usize,
}

/// Why a document could not be read as a feed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not a readable feed: {0}")]
pub struct FeedError(pub String);

/// Parses a feed document. `base` is the URL it was fetched from (after redirects).
pub fn parse(
    feed_id: &str,
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
    max_entries: usize,
) -> Result<ParsedFeed, FeedError> {
    let decoded = charset::decode(bytes, content_type);
    let text = charset::xml_declaration_to_utf8(&decoded.text);
    let text = declarations_to_utf8(&text);
    let text = repair(text.trim_start());
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .build();
    // feed-rs is not ours and reads hostile input: a panic inside it must become this feed's error
    // (and its text must not reach stderr).
    let feed = crate::catch::quietly(|| parser.parse(text.as_bytes()))
        .map_err(|_| FeedError("the feed parser crashed on this document".into()))?
        .map_err(|e| FeedError(e.to_string()))?;
    let mut entries = Vec::new();
    let mut skipped_without_link = 0;
    let mut skipped_over_cap = 0;
    for item in feed.entries {
        let Some(url) = entry_link(&item, base) else {
            skipped_without_link += 1;
            continue;
        };
        if entries.len() >= max_entries {
            skipped_over_cap += 1;
            continue;
        }
        let title = item
            .title
            .as_ref()
            .map(|t| plain(&t.content, t.content_type.as_ref()))
            .filter(|t| !t.is_empty());
        entries.push(Entry {
            title,
            summary: item
                .summary
                .map(|s| s.content)
                .filter(|s| !s.trim().is_empty()),
            content: item
                .content
                .and_then(|c| c.body)
                .filter(|s| !s.trim().is_empty()),
            published: item.published.or(item.updated),
            authors: item
                .authors
                .into_iter()
                .filter_map(|p| p.name.map(|n| n.trim().to_string()))
                .filter(|n| !n.is_empty())
                .collect(),
            ..Entry::new(feed_id, url)
        });
    }
    Ok(ParsedFeed {
        title: feed.title.map(|t| t.content.trim().to_string()),
        entries,
        skipped_without_link,
        skipped_over_cap,
    })
}

/// Every XML declaration in the text says UTF-8 (the text is decoded already). One that is not at the
/// very start (junk before it, or a second one inside) made quick-xml panic when it names another
/// encoding ("set_encoding() called after prefix buffer was drained").
fn declarations_to_utf8(text: &str) -> std::borrow::Cow<'_, str> {
    const UTF8: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
    let is_declaration = |at: usize| {
        text[at + 5..]
            .chars()
            .next()
            .is_none_or(|c| c.is_ascii_whitespace() || c == '?')
    };
    let mut out = String::new();
    let mut last = 0;
    for (at, _) in text.match_indices("<?xml") {
        if at < last || !is_declaration(at) {
            continue;
        }
        let Some(end) = text[at..].find("?>").map(|e| at + e + 2) else {
            break;
        };
        if text[at..end] == *UTF8 {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(UTF8);
        last = end;
    }
    if last == 0 {
        return std::borrow::Cow::Borrowed(text);
    }
    out.push_str(&text[last..]);
    std::borrow::Cow::Owned(out)
}

/// A pre-pass for common breakage that a liberal parser accepts: `<rss>` without a version (read as 2.0),
/// and RSS 0.90's namespace (read as RSS 1.0, which it is a subset of).
fn repair(text: &str) -> std::borrow::Cow<'_, str> {
    let head = &text[..charset::floor_char_boundary(text, 4096)];
    let mut out = std::borrow::Cow::Borrowed(text);
    if let Some(pos) = find_rss_root(head) {
        let tag_end = head[pos..].find('>').map_or(head.len(), |e| pos + e);
        let tag = &head[pos..tag_end];
        // feed-rs knows versions 0.91, 0.92 and 2.0; the others (none, 0.93, 0.94, 2.01, " 2.0") are
        // RSS 2.0 in every way that matters here.
        let version = version_value(tag);
        if !matches!(version.map(str::trim), Some("2.0" | "0.91" | "0.92")) {
            let mut s = String::with_capacity(text.len() + 16);
            match version {
                Some(v) => {
                    // Replace the value in place (`v` is a slice of `text`).
                    let start = v.as_ptr() as usize - text.as_ptr() as usize;
                    s.push_str(&text[..start]);
                    s.push_str("2.0");
                    s.push_str(&text[start + v.len()..]);
                }
                None => {
                    s.push_str(&text[..pos + 4]);
                    s.push_str(" version=\"2.0\"");
                    s.push_str(&text[pos + 4..]);
                }
            }
            out = std::borrow::Cow::Owned(s);
        }
    }
    // Items directly under <rss> with no <channel>: wrap them in one.
    if let Some(pos) = find_rss_root(&out[..charset::floor_char_boundary(&out, 4096)]) {
        if !out.contains("<channel") {
            if let (Some(open_end), Some(close)) = (
                out[pos..].find('>').map(|e| pos + e + 1),
                out.rfind("</rss"),
            ) {
                if open_end <= close && !out[pos..open_end].ends_with("/>") {
                    out = std::borrow::Cow::Owned(format!(
                        "{}<channel>{}</channel>{}",
                        &out[..open_end],
                        &out[open_end..close],
                        &out[close..]
                    ));
                }
            }
        }
    }
    const RSS090: &str = "http://my.netscape.com/rdf/simple/0.9/";
    if out[..charset::floor_char_boundary(&out, 4096)].contains(RSS090) {
        out = std::borrow::Cow::Owned(out.replacen(RSS090, "http://purl.org/rss/1.0/", 1));
    }
    out
}

/// The value of a `version` attribute in a start tag, as a slice of the tag.
fn version_value(tag: &str) -> Option<&str> {
    let i = tag.find("version")?;
    let rest = &tag[i + "version".len()..];
    let rest = rest.trim_start().strip_prefix('=')?.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &rest[1..];
    let end = inner.find(quote)?;
    Some(&inner[..end])
}

/// Byte offset of an `<rss` root start tag (not `<rss:` or `<rssfoo`).
fn find_rss_root(head: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = head[from..].find("<rss") {
        let pos = from + i;
        match head[pos + 4..].chars().next() {
            Some(c) if c.is_whitespace() || c == '>' => return Some(pos),
            _ => from = pos + 4,
        }
    }
    None
}

/// Titles may arrive as HTML (Atom `type="html"`, or RSS titles with entities and tags).
fn plain(content: &str, media_type: &str) -> String {
    if media_type.contains("html") || content.contains('<') || content.contains('&') {
        html_fragment_to_text(content)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        content.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// The entry's article link: the alternate link, else the first link (both may be relative), else an id
/// that is itself an absolute http(s) URL (an opaque id such as a guid is never resolved against the feed).
fn entry_link(item: &feed_rs::model::Entry, base: &Url) -> Option<Url> {
    let http = |mut url: Url| {
        (url.scheme() == "http" || url.scheme() == "https").then(|| {
            url.set_fragment(None);
            url
        })
    };
    let links = item
        .links
        .iter()
        .filter(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .chain(item.links.iter())
        .map(|l| l.href.trim())
        .filter(|h| !h.is_empty());
    for href in links {
        if let Some(url) = base.join(href).ok().and_then(http) {
            return Some(url);
        }
    }
    Url::parse(item.id.trim()).ok().and_then(http)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://news.example/feeds/rss.xml").unwrap()
    }

    #[test]
    fn rss_with_relative_links_and_gbk() {
        let xml = r#"<?xml version="1.0" encoding="gb2312"?>
<rss version="2.0"><channel><title>新闻</title>
<item><title>台湾海峡 &amp; 局势</title><link>/a/1.html</link><guid>x1</guid>
<pubDate>Fri, 20 Nov 2026 08:00:00 +0800</pubDate><description>&lt;p&gt;摘要&lt;/p&gt;</description></item>
<item><title>无链接</title><guid isPermaLink="false">no-link</guid></item>
</channel></rss>"#;
        let (bytes, _, _) = encoding_rs::GBK.encode(xml);
        let parsed = parse("f", &bytes, Some("text/xml"), &base(), 10).unwrap();
        assert_eq!(parsed.title.as_deref(), Some("新闻"));
        assert_eq!(parsed.entries.len(), 1);
        let e = &parsed.entries[0];
        assert_eq!(e.url.as_str(), "http://news.example/a/1.html");
        assert_eq!(e.title.as_deref(), Some("台湾海峡 & 局势"));
        assert_eq!(
            e.published.unwrap().to_rfc3339(),
            "2026-11-20T00:00:00+00:00"
        );
        assert_eq!(parsed.skipped_without_link, 1);
    }

    #[test]
    fn atom_and_cap() {
        let xml = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
<entry><title>One</title><id>urn:1</id><link href="https://x.example/1"/><updated>2026-11-21T10:00:00Z</updated></entry>
<entry><title>Two</title><id>urn:2</id><link rel="alternate" href="https://x.example/2"/><link rel="enclosure" href="https://x.example/2.mp3"/></entry>
<entry><title>Three</title><id>https://x.example/3</id></entry>
</feed>"#;
        let parsed = parse("f", xml.as_bytes(), None, &base(), 2).unwrap();
        assert_eq!(parsed.entries.len(), 2);
        assert_eq!(parsed.entries[1].url.as_str(), "https://x.example/2");
        assert_eq!(parsed.skipped_over_cap, 1);
    }

    #[test]
    fn rss_without_version_and_rss_090_are_read() {
        for root in [
            "<rss>",
            "<rss version=\"0.93\">",
            "<rss version='2.01'>",
            "<rss version=\"0.91\">",
        ] {
            let xml = format!("{root}<channel><title>T</title><item><title>A</title><link>http://x.example/a</link></item></channel></rss>");
            assert_eq!(
                parse("f", xml.as_bytes(), None, &base(), 10)
                    .unwrap()
                    .entries
                    .len(),
                1,
                "{root}"
            );
        }
        let no_channel = "<rss><item><title>A</title><link>http://x.example/a</link></item></rss>";
        assert_eq!(
            parse("f", no_channel.as_bytes(), None, &base(), 10)
                .unwrap()
                .entries
                .len(),
            1
        );
        let rdf = r#"<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
<channel><title>T</title><link>http://x.example/</link></channel>
<item><title>One</title><link>http://x.example/1</link></item><item><title>Two</title><link>http://x.example/2</link></item></rdf:RDF>"#;
        assert_eq!(
            parse("f", rdf.as_bytes(), None, &base(), 10)
                .unwrap()
                .entries
                .len(),
            2
        );
    }

    #[test]
    fn multibyte_text_at_the_4k_boundary_does_not_panic() {
        // Regression: the repair pre-pass sliced the head at byte 4096 inside a Cyrillic letter.
        for pad in 0..4 {
            let xml = format!(
                "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>{}{}</title></feed>",
                "x".repeat(pad),
                "н".repeat(3000)
            );
            assert!(parse("f", xml.as_bytes(), None, &base(), 10).is_ok());
        }
    }

    #[test]
    fn a_declaration_after_junk_or_inside_is_read_as_utf8() {
        // Regression: quick-xml panicked on a non-UTF-8 declaration after the first bytes.
        let junk = b"\xe2\xa4\xc9\xa4\xae\xc0\xda\xa4\xea<?xml version=\"1.0\" encoding=\"utf-16\"?><rss/>";
        let err = parse("f", junk, None, &base(), 10).unwrap_err();
        assert!(!err.0.contains("crashed"), "{err}");
        let inner =
            "<?xml version=\"1.0\" encoding=\"windows-1251\"?><rss version=\"2.0\"><channel>\
            <title>Т</title><?xml version='1.0' encoding='gbk'?>\
            <item><title>A</title><link>http://x.example/a</link></item></channel></rss>";
        let parsed = parse("f", inner.as_bytes(), None, &base(), 10).unwrap();
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(
            declarations_to_utf8(
                "a<?xml-stylesheet href='x'?><?xml version='1.0' encoding='gbk'?>b"
            ),
            "a<?xml-stylesheet href='x'?><?xml version=\"1.0\" encoding=\"utf-8\"?>b"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for doc in [
            &b""[..],
            b"<html><body>hi</body></html>",
            b"\xff\xfe\x00<",
            b"{\"x\": 1",
        ] {
            assert!(parse("f", doc, None, &base(), 10).is_err());
        }
    }
}
