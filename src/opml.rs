//! OPML import and export of feed lists.
//!
//! [`parse`] reads an OPML subscription list into [`OpmlFeed`] values. It is deliberately lenient:
//! real OPML files are often not well-formed XML (unescaped `&` or `"` inside attribute values,
//! unclosed `<outline>` tags, stray text), so instead of a strict XML parser it scans the text for
//! `<outline ...>` tags with a forgiving attribute reader, and keeps every feed it can read.
//! Nested outlines are flattened: a feed's `category` is the `text` of the outline that contains it.
//! Outlines whose `xmlUrl` is not an absolute http(s) URL, and repeated URLs, are skipped with a
//! human-readable reason (and line number) in [`OpmlImport::skipped`].
//!
//! [`export`] writes configured feeds as OPML 2.0, with `mediawatch:*` attributes (in the
//! [`NAMESPACE`] namespace) carrying our id, affiliation, country and language, which [`parse`]
//! reads back, so that an export followed by an import keeps our labels.
//!
//! [`plan_import`] decides which of the read feeds an import adds to a config (new URLs, with a
//! unique id and only the labels the config accepts) and which it skips, and why.
//!
//! Deliberately not done here: no I/O, no fetching of the listed feeds, no validation of country or
//! language codes or of affiliation values in [`parse`] ([`plan_import`] drops the bad ones, and the
//! config layer checks the result when feeds are added), no resolution of namespace prefixes (the `mediawatch:` prefix is matched literally), no support
//! for OPML "include" outlines (`type="include"`, which point at other OPML files), and no DTD or
//! HTML entity handling beyond the five XML entities and numeric character references.

use std::collections::HashSet;
use std::path::Path;

use crate::config::{LineIndex, NewFeed};
use crate::escape;
use crate::model::{Affiliation, FeedSpec};

/// The XML namespace of the `mediawatch:*` attributes written by [`export`].
pub const NAMESPACE: &str = "urn:x-mediawatch:opml:1";

/// Longest id [`suggested_id`] makes before adding a uniqueness suffix.
const MAX_ID_LEN: usize = 48;

/// One feed read from an OPML file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpmlFeed {
    /// The feed document's URL (`xmlUrl`), an absolute http(s) URL in normalised form.
    pub url: String,
    /// Human-readable name: the `title` attribute, else `text`.
    pub title: Option<String>,
    /// The outlet's web site (`htmlUrl`), as written.
    pub html_url: Option<String>,
    /// The `text` (else `title`) of the outline that contains this one, if any.
    pub category: Option<String>,
    /// `mediawatch:affiliation` (state, independent or unknown), as written.
    pub affiliation: Option<String>,
    /// `mediawatch:country` (ISO 3166-1 alpha-2), as written.
    pub country: Option<String>,
    /// `mediawatch:language` (ISO 639-1), as written.
    pub language: Option<String>,
    /// `mediawatch:id`, as written.
    pub id: Option<String>,
}

/// The result of [`parse`]: the feeds that could be read, and what was left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpmlImport {
    /// Feeds in document order, without duplicate URLs.
    pub feeds: Vec<OpmlFeed>,
    /// One human-readable line per outline or problem that was skipped, with its line number.
    pub skipped: Vec<String>,
}

/// Why a text could not be read as OPML at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpmlError {
    /// Neither an `<opml` nor an `<outline` tag: nothing resembling OPML.
    #[error("not an OPML document: no <opml> or <outline> element found")]
    NotOpml,
}

/// Reads an OPML document, recovering every feed outline it can.
///
/// Returns `Err` only when the text has neither an `<opml` nor an `<outline` tag, i.e. nothing
/// resembling OPML. Ill-formed markup is tolerated; anything that had to be dropped is listed in
/// [`OpmlImport::skipped`].
pub fn parse(text: &str) -> Result<OpmlImport, OpmlError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let bytes = text.as_bytes();
    if find_ci(bytes, 0, b"<opml").is_none() && find_ci(bytes, 0, b"<outline").is_none() {
        return Err(OpmlError::NotOpml);
    }
    let lines = LineIndex::new(text);
    let mut import = OpmlImport::default();
    let mut seen: HashSet<String> = HashSet::new();
    // Labels (text, else title) of the open outlines that contain the current position.
    let mut open: Vec<Option<String>> = Vec::new();
    let mut outlines = 0usize;
    let mut pos = 0usize;
    while let Some(lt) = find_byte(bytes, pos, b'<') {
        let rest = &bytes[lt..];
        if rest.starts_with(b"<!--") {
            pos = skip_past(bytes, lt + 4, b"-->");
        } else if rest.starts_with(b"<![CDATA[") {
            pos = skip_past(bytes, lt + 9, b"]]>");
        } else if rest.starts_with(b"<?") {
            pos = skip_past(bytes, lt + 2, b"?>");
        } else if starts_with_tag(rest, b"</outline") {
            if open.pop().is_none() {
                import.skipped.push(format!(
                    "line {}: stray </outline> without an open outline (ignored)",
                    lines.line(lt)
                ));
            }
            pos = skip_past(bytes, lt + 2, b">");
        } else if starts_with_tag(rest, b"<outline") {
            outlines += 1;
            let tag = read_tag(text, lt + "<outline".len());
            if !tag.terminated {
                import.skipped.push(format!(
                    "line {}: <outline> tag not closed with '>' (read up to the next tag)",
                    lines.line(lt)
                ));
            }
            pos = tag.end;
            let label = tag
                .get("text")
                .or_else(|| tag.get("title"))
                .map(clean)
                .filter(|s| !s.is_empty());
            let category = open.iter().rev().flatten().next().cloned();
            if tag.get("xmlurl").is_some() {
                take_feed(&tag, category, lines.line(lt), &mut seen, &mut import);
                if !tag.self_closing {
                    // A feed outline written as `<outline ...>`: it closes itself when the next tag
                    // is its `</outline>`; otherwise it is taken as a leaf (a forgotten `/`) so that
                    // it does not become the category of the feeds after it.
                    let next = find_byte(bytes, pos, b'<').unwrap_or(bytes.len());
                    if starts_with_tag(&bytes[next..], b"</outline") {
                        pos = skip_past(bytes, next + 2, b">");
                    }
                }
            } else if !tag.self_closing {
                open.push(label);
            }
        } else {
            // Any other tag (head, body, title, ...): skip it, honouring quoted attributes.
            pos = match find_byte(bytes, lt + 1, b'>') {
                Some(gt) => gt + 1,
                None => bytes.len(),
            };
        }
    }
    if outlines == 0 {
        import
            .skipped
            .push("no <outline> elements found: the file lists no feeds".to_string());
    }
    Ok(import)
}

/// Turns one feed outline into an [`OpmlFeed`], or records why it was skipped.
fn take_feed(
    tag: &Tag,
    category: Option<String>,
    line: usize,
    seen: &mut HashSet<String>,
    import: &mut OpmlImport,
) {
    let raw = tag.get("xmlurl").map(clean).unwrap_or_default();
    let title = tag
        .get("title")
        .or_else(|| tag.get("text"))
        .map(clean)
        .filter(|s| !s.is_empty());
    let what = match &title {
        Some(t) => format!("line {line}: feed \"{t}\""),
        None => format!("line {line}: feed outline"),
    };
    if raw.is_empty() {
        import.skipped.push(format!("{what}: empty xmlUrl"));
        return;
    }
    let url = match url::Url::parse(&raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        Ok(u) => {
            import.skipped.push(format!(
                "{what}: xmlUrl {raw:?} is not an http(s) URL (scheme {:?})",
                u.scheme()
            ));
            return;
        }
        Err(e) => {
            import
                .skipped
                .push(format!("{what}: xmlUrl {raw:?} is not a valid URL ({e})"));
            return;
        }
    };
    let url = url.to_string();
    if !seen.insert(url.clone()) {
        import.skipped.push(format!(
            "{what}: duplicate of an earlier feed with URL {url}"
        ));
        return;
    }
    let opt = |name: &str| tag.get(name).map(clean).filter(|s| !s.is_empty());
    import.feeds.push(OpmlFeed {
        url,
        title,
        html_url: opt("htmlurl"),
        category,
        affiliation: opt("mediawatch:affiliation"),
        country: opt("mediawatch:country"),
        language: opt("mediawatch:language"),
        id: opt("mediawatch:id"),
    });
}

/// Writes `feeds` as an OPML 2.0 document titled `title`.
///
/// Each feed becomes one `<outline type="rss">` with `text` and `title` set to its name, `xmlUrl`,
/// and `mediawatch:id`, `mediawatch:affiliation`, `mediawatch:country` and `mediawatch:language`
/// (the last two only when set). All values are XML-escaped; characters XML cannot carry are dropped.
pub fn export(feeds: &[FeedSpec], title: &str) -> String {
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<opml version=\"2.0\" xmlns:mediawatch=\"{}\">\n",
        escape::xml(NAMESPACE)
    ));
    out.push_str("  <head>\n");
    out.push_str(&format!("    <title>{}</title>\n", escape::xml(title)));
    out.push_str("  </head>\n  <body>\n");
    for feed in feeds {
        let name = escape::xml(&feed.name);
        out.push_str(&format!(
            "    <outline type=\"rss\" text=\"{name}\" title=\"{name}\" xmlUrl=\"{}\" \
             mediawatch:id=\"{}\" mediawatch:affiliation=\"{}\"",
            escape::xml(feed.url.as_str()),
            escape::xml(&feed.id),
            escape::xml(feed.affiliation.as_str()),
        ));
        if let Some(country) = &feed.country {
            out.push_str(&format!(" mediawatch:country=\"{}\"", escape::xml(country)));
        }
        if let Some(language) = &feed.language {
            out.push_str(&format!(
                " mediawatch:language=\"{}\"",
                escape::xml(language)
            ));
        }
        out.push_str("/>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

/// What an import adds to a config: [`plan_import`]'s result.
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    /// Feeds to append, in document order, each with a unique id.
    pub feeds: Vec<NewFeed>,
    /// One human-readable line per outline, problem or label left out: [`OpmlImport::skipped`] first,
    /// then the import's own reasons.
    pub skipped: Vec<String>,
}

/// Decides which feeds of `import` are added to a config holding `existing` (read from `config_path`,
/// named in messages): a feed whose URL is not an http(s) URL with a host, or is already configured, is
/// skipped; the others get a [`suggested_id`] unique among the config's and each other's. Labels the config
/// would refuse (an affiliation, country or language it does not accept) are dropped with a note;
/// `default_affiliation` fills a feed's missing (or dropped) affiliation.
pub fn plan_import(
    import: &OpmlImport,
    existing: &[FeedSpec],
    config_path: &Path,
    default_affiliation: Option<&str>,
) -> ImportPlan {
    let mut taken: HashSet<String> = existing.iter().map(|f| f.id.clone()).collect();
    let known_urls: HashSet<String> = existing.iter().map(|f| f.url.to_string()).collect();
    let mut skipped = import.skipped.clone();
    let mut feeds = Vec::new();
    for f in &import.feeds {
        let url = match crate::config::check_http_url(&f.url) {
            Ok(u) => u,
            Err(e) => {
                skipped.push(format!("{}: {e}", f.url));
                continue;
            }
        };
        if known_urls.contains(url.as_str()) {
            skipped.push(format!("{url}: already in {}", config_path.display()));
            continue;
        }
        let id = suggested_id(f, &taken);
        taken.insert(id.clone());
        let mut valid = |v: &Option<String>, ok: &dyn Fn(&str) -> bool, what: &str| {
            v.as_ref().and_then(|x| {
                if ok(x) {
                    Some(x.clone())
                } else {
                    skipped.push(format!("{url}: {what} {x:?} ignored"));
                    None
                }
            })
        };
        let affiliation = valid(
            &f.affiliation,
            &|a| Affiliation::parse(a).is_some(),
            "affiliation",
        )
        .or_else(|| default_affiliation.map(str::to_string));
        let country = valid(
            &f.country,
            &|c| crate::model::parse_country(c).is_some(),
            "country",
        );
        let language = valid(
            &f.language,
            &|l| crate::config::check_lang(l).is_ok(),
            "language",
        );
        feeds.push(NewFeed {
            id,
            url: url.to_string(),
            name: f.title.clone(),
            affiliation,
            country,
            language,
            ..Default::default()
        });
    }
    ImportPlan { feeds, skipped }
}

/// Proposes a config id (`[a-z0-9-]+`) for `feed` that is not in `taken`.
///
/// Tries, in order: the feed's own `mediawatch:id` when it is valid, a slug of its title (ASCII
/// letters and digits; other characters become `-`), then a slug of the URL's host (without
/// `www.`) and path. The result is at most 48 characters before a `-2`, `-3`, ... suffix that
/// makes it unique.
pub fn suggested_id(feed: &OpmlFeed, taken: &HashSet<String>) -> String {
    let own = feed
        .id
        .as_deref()
        .filter(|id| id.len() <= MAX_ID_LEN && crate::config::check_id(id).is_ok())
        .map(str::to_string);
    let from_title = || {
        feed.title
            .as_deref()
            .map(slug)
            .filter(|s| s.bytes().any(|b| b.is_ascii_lowercase()))
    };
    let from_url = || {
        url::Url::parse(&feed.url).ok().and_then(|u| {
            let host = u.host_str().unwrap_or("");
            let host = host.strip_prefix("www.").unwrap_or(host);
            Some(slug(&format!("{host}{}", u.path()))).filter(|s| !s.is_empty())
        })
    };
    let base = own
        .or_else(from_title)
        .or_else(from_url)
        .unwrap_or_else(|| "feed".to_string());
    if !taken.contains(&base) {
        return base;
    }
    (2usize..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.contains(candidate))
        .unwrap_or(base)
}

/// Lowercase ASCII slug: runs of anything but `[a-z0-9]` become one `-`, trimmed, cut at
/// [`MAX_ID_LEN`] on a `-` where possible.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    if out.len() > MAX_ID_LEN {
        let cut = out[..MAX_ID_LEN].rfind('-').filter(|&i| i >= 8);
        out.truncate(cut.unwrap_or(MAX_ID_LEN));
    }
    out.trim_matches('-').to_string()
}

/// Decodes the XML entities and numeric character references in an attribute value; an `&` that
/// starts none of them is kept as it is (the usual mistake in hand-written OPML).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let decoded = after
            .find(';')
            .filter(|&semi| semi <= 10)
            .and_then(|semi| decode_entity(&after[..semi]).map(|c| (c, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One entity name or character reference (between `&` and `;`) to its character.
fn decode_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse::<u32>().ok()?,
            };
            char::from_u32(code).filter(|&c| c != '\0')
        }
    }
}

/// Unescapes and collapses whitespace runs to single spaces.
fn clean(raw: &str) -> String {
    unescape(raw)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A start tag read leniently.
struct Tag<'a> {
    /// Attributes in document order: (name lower-cased, raw value).
    attrs: Vec<(String, &'a str)>,
    /// Byte offset just after the tag.
    end: usize,
    /// `/>` ended the tag.
    self_closing: bool,
    /// A `>` ended the tag (otherwise it ran to the end of the line or the text).
    terminated: bool,
}

impl<'a> Tag<'a> {
    /// The raw value of the first attribute called `name` (lower case).
    fn get(&self, name: &str) -> Option<&'a str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|&(_, value)| value)
    }
}

/// Reads the attributes of a start tag from `start` (just after the tag name).
///
/// A quoted value ends at the first matching quote that is followed by another attribute
/// (`name=`), by `>` or `/>`, or by the end of the line: so `title="Газета "Коммерсантъ""` keeps
/// its inner quotes. Slicing happens only next to ASCII delimiters, so it never splits a character.
fn read_tag(text: &str, start: usize) -> Tag<'_> {
    let bytes = text.as_bytes();
    let mut attrs = Vec::new();
    let mut i = start;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            return Tag {
                attrs,
                end: bytes.len(),
                self_closing: true,
                terminated: false,
            };
        }
        match bytes[i] {
            b'>' => {
                return Tag {
                    attrs,
                    end: i + 1,
                    self_closing: false,
                    terminated: true,
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'>') => {
                return Tag {
                    attrs,
                    end: i + 2,
                    self_closing: true,
                    terminated: true,
                }
            }
            b'<' => {
                // The next tag starts: this one was never closed.
                return Tag {
                    attrs,
                    end: i,
                    self_closing: true,
                    terminated: false,
                };
            }
            _ => {}
        }
        let name_start = i;
        while i < bytes.len() && !is_name_end(bytes[i]) {
            i += 1;
        }
        if i == name_start {
            i += 1; // a stray '/', '=' or quote: skip it
            continue;
        }
        let name = text.get(name_start..i).unwrap_or("").to_ascii_lowercase();
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if bytes.get(j) != Some(&b'=') {
            attrs.push((name, ""));
            continue;
        }
        j += 1;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        let (value, next) = match bytes.get(j) {
            Some(&q @ (b'"' | b'\'')) => read_quoted(bytes, j + 1, q),
            _ => {
                let mut k = j;
                while k < bytes.len() && !bytes[k].is_ascii_whitespace() && bytes[k] != b'>' {
                    k += 1;
                }
                ((j, k), k)
            }
        };
        attrs.push((name, text.get(value.0..value.1).unwrap_or("")));
        i = next;
    }
}

/// Finds the end of a quoted value whose opening quote `q` is just before `start`. Returns the
/// value's byte range and the offset after the closing quote.
fn read_quoted(bytes: &[u8], start: usize, q: u8) -> ((usize, usize), usize) {
    // Only the text up to the quote looked at is scanned (a file on one line made every value
    // look for the line's end: quadratic).
    let mut first = None;
    let mut past_line = false;
    let mut k = start;
    while let Some(close) = find_byte(bytes, k, q) {
        past_line = past_line || bytes[k..close].contains(&b'\n');
        if past_line && first.is_some() {
            break;
        }
        first.get_or_insert(close);
        if closes_value(bytes, close + 1) {
            return ((start, close), close + 1);
        }
        k = close + 1;
    }
    match first {
        Some(close) => ((start, close), close + 1),
        None => {
            // No closing quote at all: the value runs to the end of the line (or the next '>').
            let end = bytes[start.min(bytes.len())..]
                .iter()
                .position(|&b| b == b'>' || b == b'\n')
                .map_or(bytes.len(), |p| start + p);
            ((start, end), end)
        }
    }
}

/// Whether what follows a quote at `i` looks like the end of an attribute value.
fn closes_value(bytes: &[u8], mut i: usize) -> bool {
    let had_space = bytes.get(i).is_some_and(|b| b.is_ascii_whitespace());
    while i < bytes.len() && bytes[i].is_ascii_whitespace() {
        if bytes[i] == b'\n' {
            return true;
        }
        i += 1;
    }
    match bytes.get(i) {
        None | Some(b'>') => true,
        Some(b'/') => bytes.get(i + 1) == Some(&b'>'),
        Some(&b) if had_space && (b.is_ascii_alphabetic() || b == b'_') => {
            let mut k = i;
            while k < bytes.len()
                && (bytes[k].is_ascii_alphanumeric() || b"_:.-".contains(&bytes[k]))
            {
                k += 1;
            }
            while k < bytes.len() && bytes[k].is_ascii_whitespace() {
                k += 1;
            }
            bytes.get(k) == Some(&b'=')
        }
        _ => false,
    }
}

/// Bytes that end an attribute name.
fn is_name_end(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'=' | b'>' | b'/' | b'<' | b'"' | b'\'')
}

/// Whether `rest` starts with the tag `name` (case-insensitive), followed by a delimiter.
fn starts_with_tag(rest: &[u8], name: &[u8]) -> bool {
    rest.len() >= name.len()
        && rest[..name.len()].eq_ignore_ascii_case(name)
        && rest
            .get(name.len())
            .is_none_or(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
}

fn find_byte(bytes: &[u8], from: usize, b: u8) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&x| x == b)
        .map(|p| p + from)
}

/// Case-insensitive search for an ASCII needle.
fn find_ci(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| p + from)
}

/// The offset just after the next `needle` from `from`, or the end of the text.
fn skip_past(bytes: &[u8], from: usize, needle: &[u8]) -> usize {
    find_ci(bytes, from, needle).map_or(bytes.len(), |p| p + needle.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tests/fixtures/opml/nested.opml`: written for these tests.
    const NESTED: &str = include_str!("../tests/fixtures/opml/nested.opml");

    #[test]
    fn nested_categories_flatten_with_parent_text() {
        let import = parse(NESTED).expect("parses");
        assert!(import.skipped.is_empty(), "{:?}", import.skipped);
        let got: Vec<(&str, Option<&str>, Option<&str>)> = import
            .feeds
            .iter()
            .map(|f| (f.url.as_str(), f.title.as_deref(), f.category.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "http://www.xinhuanet.com/politics/news_politics.xml",
                    Some("新华网 - 新闻"),
                    Some("中国")
                ),
                (
                    "http://www.people.com.cn/rss/politics.xml",
                    Some("人民网"),
                    Some("中国")
                ),
                (
                    "https://www.vesti.ru/vesti.rss",
                    Some("Вести.Ru"),
                    Some("Regions")
                ),
                ("https://tass.ru/rss/v2.xml", Some("ТАСС"), Some("Россия")),
                ("https://example.org/feed?a=1&b=2", Some("Top level"), None),
            ]
        );
        assert_eq!(
            import.feeds[0].html_url.as_deref(),
            Some("http://www.xinhuanet.com/")
        );
    }

    /// `tests/fixtures/opml/ill-formed.opml`: written for these tests.
    const ILL_FORMED: &str = include_str!("../tests/fixtures/opml/ill-formed.opml");

    #[test]
    fn a_file_on_one_line_is_read_in_linear_time() {
        // Regression: every quoted value looked for the end of its line, so 20,000 nested outlines
        // on one line (a minified export) took half a minute.
        let n = 20_000;
        let text = format!(
            "<opml version=\"2.0\"><body>{}<outline text=\"f\" xmlUrl=\"http://x.example/f.xml\"/>{}</body></opml>",
            "<outline text=\"a\" title=\"b\">".repeat(n),
            "</outline>".repeat(n)
        );
        let started = std::time::Instant::now();
        let import = parse(&text).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(import.feeds.len(), 1);
        assert_eq!(import.feeds[0].category.as_deref(), Some("a"));
    }

    #[test]
    fn ill_formed_file_recovers_what_it_can() {
        let import = parse(ILL_FORMED).expect("parses");
        let urls: Vec<&str> = import.feeds.iter().map(|f| f.url.as_str()).collect();
        assert_eq!(
            urls,
            vec![
                "https://www.kommersant.ru/RSS/main.xml",
                "https://bdnews24.com/?widgetName=rssfeed&widgetId=1150&getXmlFeed=true",
                "https://unclosed.example/rss",
            ]
        );
        assert_eq!(
            import.feeds[0].title.as_deref(),
            Some("Газета \"Коммерсантъ\". Главное")
        );
        // The unclosed feed outline must not become the category of the feeds after it.
        assert!(import
            .feeds
            .iter()
            .all(|f| f.category.as_deref() == Some("Russia")));
        let skipped = import.skipped.join("\n");
        assert!(
            skipped.contains("line 7:") && skipped.contains("javascript"),
            "{skipped}"
        );
        assert!(
            skipped.contains("line 8:") && skipped.contains("duplicate"),
            "{skipped}"
        );
        assert!(
            skipped.contains("line 9:") && skipped.contains("file"),
            "{skipped}"
        );
        assert!(
            skipped.contains("line 10:") && skipped.contains("not closed"),
            "{skipped}"
        );
    }

    #[test]
    fn not_opml_is_an_error_and_odd_input_never_panics() {
        assert!(parse("").is_err());
        assert!(parse("<html><body>hello</body></html>").is_err());
        assert!(parse("{\"feeds\": []}").is_err());
        for text in [
            "<opml",
            "<outline",
            "<outline xmlUrl=\"",
            "<outline xmlUrl='http://a.example/'",
            "<outline text=\"é\" xmlUrl=é>",
            "<opml><body><outline text=\"x\"></outline></outline></body></opml>",
            "<outline =\"\" / xmlUrl=\"http://a.example/&#xFFFFFFFF;&#0;&#x;\"/>",
            "<!-- <outline xmlUrl=\"http://hidden.example/\"/>",
        ] {
            let _ = parse(text);
        }
        let empty = parse("<opml version=\"2.0\"><body></body></opml>").expect("parses");
        assert!(empty.feeds.is_empty());
        assert_eq!(empty.skipped.len(), 1);
    }

    fn spec(id: &str, url: &str, name: &str) -> FeedSpec {
        FeedSpec {
            id: id.to_string(),
            url: url::Url::parse(url).expect("test url"),
            name: name.to_string(),
            affiliation: Affiliation::Unknown,
            country: None,
            language: None,
            typology: None,
            interval_secs: None,
            content_selector: None,
            remove_selectors: Vec::new(),
            kind: crate::model::SourceKind::Rss,
        }
    }

    #[test]
    fn export_then_parse_round_trips_labels() {
        let mut xinhua = spec(
            "xinhua-zh",
            "http://www.news.cn/rss?a=1&b=<2>",
            "新华网 \"要闻\" & <more>",
        );
        xinhua.affiliation = Affiliation::State;
        xinhua.country = Some("CN".to_string());
        xinhua.language = Some("zh".to_string());
        let mut meduza = spec("meduza-ru", "https://meduza.io/rss/all", "Медуза");
        meduza.affiliation = Affiliation::Independent;
        meduza.language = Some("ru".to_string());
        let plain = spec("plain", "https://example.org/feed", "Plain\nname");
        let feeds = vec![xinhua, meduza, plain];

        let xml = export(&feeds, "mediawatch feeds & more");
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\"")
        );
        assert!(xml.contains(&format!("xmlns:mediawatch=\"{NAMESPACE}\"")));
        assert!(xml.contains("<title>mediawatch feeds &amp; more</title>"));
        assert!(!xml.contains("& "));

        let import = parse(&xml).expect("parses");
        assert!(import.skipped.is_empty(), "{:?}", import.skipped);
        assert_eq!(import.feeds.len(), feeds.len());
        for (spec, got) in feeds.iter().zip(&import.feeds) {
            assert_eq!(got.url, spec.url.as_str());
            assert_eq!(
                got.title.as_deref(),
                Some(
                    spec.name
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                        .as_str()
                )
            );
            assert_eq!(got.id.as_deref(), Some(spec.id.as_str()));
            assert_eq!(got.affiliation.as_deref(), Some(spec.affiliation.as_str()));
            assert_eq!(got.country, spec.country);
            assert_eq!(got.language, spec.language);
            assert_eq!(got.category, None);
            assert_eq!(suggested_id(got, &HashSet::new()), spec.id);
        }
    }

    #[test]
    fn suggested_ids_are_slugs_and_unique() {
        let feed = |url: &str, title: Option<&str>| OpmlFeed {
            url: url.to_string(),
            title: title.map(str::to_string),
            ..OpmlFeed::default()
        };
        let none = HashSet::new();
        assert_eq!(
            suggested_id(
                &feed("https://lenta.ru/rss", Some("Lenta.ru : Новости")),
                &none
            ),
            "lenta-ru"
        );
        // No ASCII letters in the title: host (without www.) and path.
        assert_eq!(
            suggested_id(
                &feed("https://www.vesti.ru/vesti.rss", Some("Вести")),
                &none
            ),
            "vesti-ru-vesti-rss"
        );
        assert_eq!(
            suggested_id(&feed("http://www.people.com.cn/", Some("人民网")), &none),
            "people-com-cn"
        );
        let taken: HashSet<String> = ["lenta-ru", "lenta-ru-2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            suggested_id(&feed("https://lenta.ru/rss", Some("Lenta.ru")), &taken),
            "lenta-ru-3"
        );
        let long = "A very long title that goes on and on well past the limit for ids";
        let id = suggested_id(&feed("https://x.example/", Some(long)), &none);
        assert!(id.len() <= MAX_ID_LEN && !id.ends_with('-'), "{id}");
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        assert_eq!(suggested_id(&feed("not a url", None), &none), "feed");
    }

    #[test]
    fn import_plan_skips_known_and_bad_urls_and_drops_bad_labels() {
        let existing = [spec("lenta-ru", "https://lenta.ru/rss", "Lenta")];
        let outline = |url: &str, title: &str| OpmlFeed {
            url: url.to_string(),
            title: Some(title.to_string()),
            ..OpmlFeed::default()
        };
        let mut labelled = outline("https://tass.ru/rss/v2.xml", "Lenta.ru");
        labelled.affiliation = Some("gov".into());
        labelled.country = Some("Russia".into());
        labelled.language = Some("ru".into());
        let mut good = outline("https://meduza.io/rss/all", "Meduza");
        good.country = Some("lv".into());
        good.affiliation = Some("independent".into());
        let import = OpmlImport {
            feeds: vec![
                outline("https://lenta.ru/rss", "Lenta again"),
                outline("ftp://x.example/feed", "FTP"),
                labelled,
                good,
            ],
            skipped: vec!["line 3: an outline without xmlUrl".into()],
        };
        let plan = plan_import(&import, &existing, Path::new("feeds.toml"), Some("state"));
        assert_eq!(
            plan.skipped,
            [
                "line 3: an outline without xmlUrl",
                "https://lenta.ru/rss: already in feeds.toml",
                "ftp://x.example/feed: must be http or https, not ftp",
                "https://tass.ru/rss/v2.xml: affiliation \"gov\" ignored",
                "https://tass.ru/rss/v2.xml: country \"Russia\" ignored",
            ]
        );
        let ids: Vec<&str> = plan.feeds.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            ["lenta-ru-2", "meduza"],
            "ids unique among the config's"
        );
        let tass = &plan.feeds[0];
        assert_eq!(
            tass.affiliation.as_deref(),
            Some("state"),
            "the default fills a dropped one"
        );
        assert_eq!(
            (tass.country.as_deref(), tass.language.as_deref()),
            (None, Some("ru"))
        );
        let meduza = &plan.feeds[1];
        assert_eq!(meduza.affiliation.as_deref(), Some("independent"));
        assert_eq!(
            meduza.country.as_deref(),
            Some("lv"),
            "kept as written; the config upper-cases it"
        );
        assert_eq!(meduza.url, "https://meduza.io/rss/all");
    }
}
