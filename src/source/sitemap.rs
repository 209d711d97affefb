//! Sitemaps (sitemaps.org 0.9): `<urlset>` files, `<sitemapindex>` files and the Google News extension,
//! plain or gzipped.
//!
//! [`parse`] reads one fetched file with quick-xml's pull parser (no DOM: each `<url>` becomes an [`Entry`]
//! as soon as it closes) and applies the protocol's caps, 50,000 URLs and 50 MB uncompressed, the latter
//! while inflating so a gzip bomb stops at the cap. Elements are matched on local names, since prefixes
//! vary in the wild (`news:`, `n:`, none). The helpers [`url_period`], [`child_in_window`] and
//! [`super::entry_date`] let the pipeline skip the files of a date-partitioned index that cannot hold URLs of the
//! window it reads. This module does no I/O.

use std::borrow::Cow;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::io::Read;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use quick_xml::events::{BytesRef, Event};
use quick_xml::Reader;
use url::Url;

use super::{Child, Listing, SourceError};
use crate::charset;
use crate::model::Entry;

/// The protocol's cap on URLs in one file.
pub const MAX_URLS: usize = 50_000;
/// The protocol's cap on one file's uncompressed size.
pub const MAX_BYTES: usize = 50 * 1024 * 1024;

/// The two bytes every gzip stream starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Bytes inflated per read while gunzipping.
const INFLATE_CHUNK: usize = 64 * 1024;

/// Reads a sitemap or sitemap index (gzipped or not). `base` is the URL it was fetched from.
///
/// A `<urlset>` gives one entry per distinct `<url>` (its `loc`, `lastmod` and Google News fields); a
/// `<sitemapindex>` gives one [`Child`] per distinct `<sitemap>`. Past [`MAX_URLS`] nothing more is kept:
/// the rest (each `<url>` with a `loc`, not resolved nor deduplicated) is counted in `skipped_over_cap`
/// and a notice says so. A file over [`MAX_BYTES`] (uncompressed), a corrupt gzip stream and anything
/// that is not a sitemap (an HTML page, a feed, an empty body) are errors. A file that breaks off (truncated, or not well-formed XML after some URLs)
/// keeps the URLs read before the break, with a notice.
pub fn parse(feed_id: &str, bytes: &[u8], base: &Url) -> Result<Listing, SourceError> {
    let inflated;
    let bytes = if bytes.starts_with(&GZIP_MAGIC) {
        inflated = gunzip(bytes)?;
        &inflated[..]
    } else {
        if bytes.len() > MAX_BYTES {
            return Err(too_large());
        }
        bytes
    };
    // The common case, UTF-8, is read in place (encoding_rs's validator, faster than std's on non-ASCII
    // text); anything else is decoded once (BOM, declaration, detection).
    let decoded;
    let text: &str =
        match encoding_rs::UTF_8.decode_without_bom_handling_and_without_replacement(bytes) {
            Some(Cow::Borrowed(text)) => text,
            _ => {
                decoded = charset::decode(bytes, None).text;
                &decoded
            }
        };
    let text = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if text.is_empty() {
        return Err(SourceError(
            "not a sitemap: the document is empty".to_string(),
        ));
    }
    Parser::new(feed_id, base, text.len()).run(text)
}

/// The inclusive range of dates that a date-partitioned sitemap's URL names, or `None`.
///
/// Sites partition sitemaps by day (`2026-11-05`, `2026/11/05`, `20261105`, `yyyy=2026&mm=11&dd=05`,
/// `?date=2026-11-05`), by month (`2026-11`, `2026/11`, `sitemap-202611.xml`, `yyyy=2026&mm=11`) or by
/// year (`sitemap-2026.xml`, `yyyy=2026`). The path and the query are searched and the most specific
/// match wins. Only numbers standing alone between separators count (an id such as `20261105123456` or
/// `post-sitemap2026` is not a date), with plausible years (1990..=2100), months and real days; a
/// six-digit year+month only as a path segment's own number (`sitemap-202611.xml`).
pub fn url_period(url: &Url) -> Option<(NaiveDate, NaiveDate)> {
    let mut best = scan_period(url.path(), true);
    if url.query().is_some() {
        let mut named = NamedDate::default();
        for (key, value) in url.query_pairs() {
            let number = (!value.is_empty()
                && value.len() <= 4
                && value.bytes().all(|b| b.is_ascii_digit()))
            .then(|| value.parse::<u32>().ok())
            .flatten();
            match (key.to_ascii_lowercase().as_str(), number) {
                ("yyyy" | "year" | "y", Some(y)) if value.len() == 4 => {
                    named.year = i32::try_from(y).ok();
                }
                ("mm" | "month" | "m", Some(m)) if value.len() <= 2 => named.month = Some(m),
                ("dd" | "day" | "d", Some(d)) if value.len() <= 2 => named.day = Some(d),
                // Page numbers and ids are not dates, whatever their digits.
                ("page" | "p" | "offset" | "start" | "limit" | "id" | "n", _) => {}
                _ => best = Period::better(best, scan_period(&value, false)),
            }
        }
        best = Period::better(best, named.period());
    }
    best.map(|p| (p.first, p.last))
}

/// Whether a sitemap named in an index may hold URLs dated in `[since, until]` (`until` open when `None`).
///
/// A `lastmod` before `since` rules the file out (a file last changed before `since` cannot hold newer
/// URLs; `lastmod` says nothing about `until`). A date range in its URL ([`url_period`]) rules it out
/// when the range ends before `since`'s date or starts after `until`'s, with one day of slack on each
/// side because sites partition by their local date, up to 14 hours off UTC. Otherwise it may: read it.
pub fn child_in_window(child: &Child, since: DateTime<Utc>, until: Option<DateTime<Utc>>) -> bool {
    if child.lastmod.is_some_and(|lastmod| lastmod < since) {
        return false;
    }
    let Some((first, last)) = url_period(&child.url) else {
        return true;
    };
    let slack = chrono::Days::new(1);
    let ends_before = last
        .checked_add_days(slack)
        .is_some_and(|last| last < since.date_naive());
    let starts_after = until.is_some_and(|until| {
        first
            .checked_sub_days(slack)
            .is_some_and(|first| first > until.date_naive())
    });
    !ends_before && !starts_after
}

// ---------------------------------------------------------------------------------------------------
// Gzip and caps

fn too_large() -> SourceError {
    SourceError(format!(
        "sitemap is larger than {} MB uncompressed (the protocol's cap); not read",
        MAX_BYTES / (1024 * 1024)
    ))
}

/// Inflates a gzip stream (several members allowed) into at most [`MAX_BYTES`]: the buffer grows as the
/// data comes and never past the cap, so a gzip bomb costs at most the cap in memory and stops there.
fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, SourceError> {
    // The trailer's ISIZE (the last member's size mod 2^32) sizes the buffer when it is within the cap;
    // a lie only costs a reallocation.
    let hint = bytes
        .len()
        .checked_sub(4)
        .and_then(|at| bytes.get(at..))
        .and_then(|tail| <[u8; 4]>::try_from(tail).ok())
        .map_or(0, |tail| u32::from_le_bytes(tail) as usize);
    let initial = if hint <= MAX_BYTES {
        hint
    } else {
        bytes.len().saturating_mul(4)
    };
    let mut out: Vec<u8> = Vec::with_capacity(initial.clamp(INFLATE_CHUNK, MAX_BYTES));
    let mut chunk = vec![0u8; INFLATE_CHUNK];
    let mut decoder = flate2::read::MultiGzDecoder::new(bytes);
    loop {
        let n = match decoder.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(SourceError(format!(
                    "sitemap is gzipped but its gzip stream is corrupt or truncated ({e}); not read"
                )))
            }
        };
        if out.len() + n > MAX_BYTES {
            return Err(too_large());
        }
        if out.capacity() - out.len() < n {
            let want = out
                .capacity()
                .saturating_mul(2)
                .clamp(out.len() + n, MAX_BYTES);
            out.reserve_exact(want - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
    Ok(out)
}

/// `50012` as `50,012`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------------
// The pull parser

/// Which kind of sitemap the root element made this document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    UrlSet,
    Index,
}

/// The leaf elements whose text is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Loc,
    Lastmod,
    Published,
    Title,
    Language,
    Keywords,
}

/// What one `<url>` or `<sitemap>` element held so far.
#[derive(Debug, Default)]
struct Item {
    /// Its element's depth.
    depth: usize,
    /// The first usable `loc`.
    url: Option<Url>,
    /// A non-empty `loc` was seen past the cap (counted, not resolved).
    over_cap: bool,
    modified: Option<DateTime<Utc>>,
    published: Option<DateTime<Utc>>,
    title: Option<String>,
    language: Option<String>,
    keywords: Vec<String>,
    /// Depth of the `<news:news>` element being read, if inside one.
    news_depth: Option<usize>,
}

/// Duplicate detection over the URLs kept so far, by a keyed 64-bit hash and an index: far smaller than
/// a second copy of every URL, and exact (a hash match is checked against the kept URL).
struct Seen {
    state: RandomState,
    first: HashMap<u64, u32>,
}

impl Seen {
    fn new() -> Seen {
        Seen {
            state: RandomState::new(),
            first: HashMap::new(),
        }
    }

    /// Whether `url` is not among `kept` yet; if so, it is recorded as the next one kept.
    fn is_new<T>(&mut self, url: &Url, kept: &[T], url_of: fn(&T) -> &Url) -> bool {
        let hash = self.state.hash_one(url.as_str());
        match self.first.get(&hash) {
            None => {
                // Indices fit: at most MAX_URLS are kept.
                self.first.insert(hash, kept.len() as u32);
                true
            }
            Some(&i) if kept.get(i as usize).map(url_of) == Some(url) => false,
            // Two URLs with one hash (almost never): compare with every kept URL.
            Some(_) => !kept.iter().any(|k| url_of(k) == url),
        }
    }
}

struct Parser<'a> {
    feed_id: &'a str,
    base: &'a Url,
    /// The text's length, to size the listing.
    input_len: usize,
    kind: Option<Kind>,
    depth: usize,
    item: Option<Item>,
    /// The field being read and the depth of its element.
    capture: Option<(Field, usize)>,
    /// The captured field's text so far (entities resolved, CDATA included), reused between fields.
    text: String,
    seen: Seen,
    listing: Listing,
}

impl<'a> Parser<'a> {
    fn new(feed_id: &'a str, base: &'a Url, input_len: usize) -> Parser<'a> {
        Parser {
            feed_id,
            base,
            input_len,
            kind: None,
            depth: 0,
            item: None,
            capture: None,
            text: String::new(),
            seen: Seen::new(),
            listing: Listing::default(),
        }
    }

    fn run(mut self, text: &str) -> Result<Listing, SourceError> {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        // Real sitemaps: bare `&` in URLs, stray or mismatched end tags. Depth is counted, not names.
        config.allow_dangling_amp = true;
        config.allow_unmatched_ends = true;
        config.check_end_names = false;
        loop {
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(e) => return self.broken(&e.to_string(), reader.error_position(), text),
            };
            match event {
                Event::Start(e) => {
                    self.depth += 1;
                    self.open(e.local_name().as_ref())?;
                }
                Event::Empty(e) => {
                    self.depth += 1;
                    self.open(e.local_name().as_ref())?;
                    self.close();
                }
                Event::End(_) => self.close(),
                Event::Text(t) if self.capture.is_some() => self.text.push_str(&t),
                Event::CData(t) if self.capture.is_some() => self.text.push_str(&t),
                Event::GeneralRef(r) if self.capture.is_some() => {
                    push_reference(&mut self.text, &r)
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if self.kind.is_none() {
            return Err(not_a_sitemap_without_root(text));
        }
        if self.depth > 0 {
            let kept = self.kept();
            self.listing.notices.push(format!(
                "sitemap {} breaks off before its end (truncated?); kept the {kept} before the break",
                self.base,
            ));
        }
        Ok(self.finish())
    }

    /// An XML error: before the root it is not a sitemap; after it, what was read is kept.
    fn broken(mut self, error: &str, at: u64, text: &str) -> Result<Listing, SourceError> {
        if self.kind.is_none() {
            if text.trim_start().starts_with('<') {
                return Err(SourceError(format!(
                    "not a sitemap: not well-formed XML ({error}, at byte {at})"
                )));
            }
            return Err(not_a_sitemap_without_root(text));
        }
        let kept = self.kept();
        self.listing.notices.push(format!(
            "sitemap {} is not well-formed XML at byte {at} ({error}); kept the {kept} before it",
            self.base,
        ));
        Ok(self.finish())
    }

    /// What was kept so far, in words: `1 URL`, `2,000 URLs`, `3 sitemaps`.
    fn kept(&self) -> String {
        let (n, noun) = match self.kind {
            Some(Kind::Index) => (self.listing.children.len(), "sitemap"),
            _ => (self.listing.entries.len(), "URL"),
        };
        format!("{} {noun}{}", thousands(n), if n == 1 { "" } else { "s" })
    }

    fn finish(mut self) -> Listing {
        let over = self.listing.skipped_over_cap;
        if over > 0 {
            let (what, kept) = match self.kind {
                Some(Kind::Index) => ("sitemap index", "sitemaps"),
                _ => ("sitemap", "URLs"),
            };
            self.listing.notices.push(format!(
                "{what} {} lists {} {kept}, more than the protocol's {}; the first {} were read",
                self.base,
                thousands(MAX_URLS + over),
                thousands(MAX_URLS),
                thousands(MAX_URLS),
            ));
        }
        self.listing
    }

    /// An element opened at `self.depth`.
    fn open(&mut self, name: &str) -> Result<(), SourceError> {
        let Some(kind) = self.kind else {
            let kind = root_kind(name)?;
            self.kind = Some(kind);
            // Room for the entries the file can hold (a `<url>` takes 64 bytes or more): no reallocation
            // and copy of a large listing as it grows; pages never filled are never touched.
            let expected = (self.input_len / 64).min(MAX_URLS);
            match kind {
                Kind::UrlSet => self.listing.entries.reserve_exact(expected),
                Kind::Index => self.listing.children.reserve_exact(expected),
            }
            self.seen.first.reserve(expected);
            return Ok(());
        };
        if self.capture.is_some() {
            // Markup inside a field (`<title><b>..</b></title>`): its text belongs to the field.
            return Ok(());
        }
        let depth = self.depth;
        let Some(item) = &mut self.item else {
            let item_name = match kind {
                Kind::UrlSet => "url",
                Kind::Index => "sitemap",
            };
            if name.eq_ignore_ascii_case(item_name) {
                self.item = Some(Item {
                    depth,
                    ..Item::default()
                });
            }
            return Ok(());
        };
        let field = if item.news_depth.is_some() {
            // Inside `<news:news>` (at any depth: `language` sits in `<news:publication>`).
            match name {
                "publication_date" => Some(Field::Published),
                "title" => Some(Field::Title),
                "language" => Some(Field::Language),
                "keywords" => Some(Field::Keywords),
                _ => None,
            }
        } else if depth == item.depth + 1 {
            // Direct children only: `<image:image><image:loc>` is not the page's `loc`.
            match name {
                "loc" => Some(Field::Loc),
                "lastmod" => Some(Field::Lastmod),
                "news" if kind == Kind::UrlSet => {
                    item.news_depth = Some(depth);
                    None
                }
                _ => None,
            }
        } else {
            None
        };
        if let Some(field) = field {
            self.capture = Some((field, depth));
            self.text.clear();
        }
        Ok(())
    }

    /// The element at `self.depth` closed.
    fn close(&mut self) {
        let depth = self.depth;
        self.depth = self.depth.saturating_sub(1);
        if let Some((field, at)) = self.capture {
            if at != depth {
                return;
            }
            self.capture = None;
            self.take_field(field);
            return;
        }
        let Some(item) = &mut self.item else {
            return;
        };
        if item.news_depth == Some(depth) {
            item.news_depth = None;
        } else if item.depth == depth {
            if let Some(item) = self.item.take() {
                self.take_item(item);
            }
        }
    }

    /// Stores the captured text of `field` in the current item.
    fn take_field(&mut self, field: Field) {
        let full = match self.kind {
            Some(Kind::Index) => self.listing.children.len() >= MAX_URLS,
            _ => self.listing.entries.len() >= MAX_URLS,
        };
        let Some(item) = &mut self.item else {
            return;
        };
        let text = self.text.trim();
        match field {
            Field::Loc if item.url.is_none() && !text.is_empty() => {
                if full {
                    item.over_cap = true;
                } else {
                    item.url = resolve(self.base, text);
                }
            }
            Field::Lastmod if item.modified.is_none() => item.modified = parse_datetime(text),
            Field::Published if item.published.is_none() => item.published = parse_datetime(text),
            Field::Title if item.title.is_none() => item.title = collapse_whitespace(text),
            Field::Language if item.language.is_none() && !text.is_empty() => {
                item.language = Some(text.to_string());
            }
            Field::Keywords if item.keywords.is_empty() => {
                item.keywords = text
                    .split([',', '，'])
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect();
            }
            _ => {}
        }
    }

    /// A `<url>` or `<sitemap>` closed: keep it, count it, or drop it as a duplicate.
    fn take_item(&mut self, item: Item) {
        let listing = &mut self.listing;
        let Some(url) = item.url else {
            if item.over_cap {
                listing.skipped_over_cap += 1;
            } else {
                listing.skipped_without_link += 1;
            }
            return;
        };
        match self.kind {
            Some(Kind::Index) => {
                if self.seen.is_new(&url, &listing.children, |c| &c.url) {
                    listing.children.push(Child {
                        url,
                        lastmod: item.modified,
                    });
                }
            }
            _ => {
                if self.seen.is_new(&url, &listing.entries, |e| &e.url) {
                    let mut entry = Entry::new(self.feed_id, url);
                    entry.modified = item.modified;
                    entry.published = item.published;
                    entry.title = item.title;
                    entry.language = item.language;
                    entry.keywords = item.keywords;
                    listing.entries.push(entry);
                }
            }
        }
    }
}

/// The sitemap kind a root element names, or why the document is not a sitemap.
fn root_kind(name: &str) -> Result<Kind, SourceError> {
    if name.eq_ignore_ascii_case("urlset") {
        return Ok(Kind::UrlSet);
    }
    if name.eq_ignore_ascii_case("sitemapindex") {
        return Ok(Kind::Index);
    }
    let what = match name.to_ascii_lowercase().as_str() {
        "html" => " (an HTML page)",
        "rss" => " (an RSS feed: use kind = \"rss\")",
        "rdf" => " (an RSS 1.0 feed: use kind = \"rss\")",
        "feed" => " (an Atom feed: use kind = \"rss\")",
        _ => "",
    };
    let shown: String = name.chars().take(40).collect();
    Err(SourceError(format!(
        "not a sitemap: the document's root is <{shown}>{what}, not <urlset> or <sitemapindex>"
    )))
}

/// The error for a document with no element at all, quoting its start.
fn not_a_sitemap_without_root(text: &str) -> SourceError {
    let start: String = text
        .trim_start()
        .chars()
        .take(40)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    SourceError(format!(
        "not a sitemap: no XML element in the document (it starts with {start:?})"
    ))
}

/// Appends what an entity or character reference stands for; an unknown entity stays as written.
fn push_reference(out: &mut String, reference: &BytesRef<'_>) {
    if let Ok(Some(c)) = reference.resolve_char_ref() {
        out.push(c);
        return;
    }
    let name: &str = reference;
    if let Some(s) = quick_xml::escape::resolve_predefined_entity(name) {
        out.push_str(s);
    } else if name == "nbsp" {
        out.push('\u{a0}');
    } else {
        out.push('&');
        out.push_str(name);
        out.push(';');
    }
}

/// A `loc` as an absolute http(s) URL without fragment: relative and protocol-relative ones are resolved
/// against `base`; other schemes give `None`.
fn resolve(base: &Url, loc: &str) -> Option<Url> {
    let mut url = base.join(loc).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

/// Whitespace runs as one space, trimmed; `None` when nothing is left.
fn collapse_whitespace(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    (!out.is_empty()).then_some(out)
}

// ---------------------------------------------------------------------------------------------------
// Dates

/// A W3C datetime (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.s]]TZD`), leniently: a space
/// for `T`, no timezone (UTC), `+hhmm` or `+hh` offsets, `UTC`/`GMT`, `/` in the date; RFC 2822 too.
fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    parse_w3c_lenient(text).or_else(|| {
        DateTime::parse_from_rfc2822(text)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// A cursor over ASCII digits and punctuation.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, options: &[u8]) -> Option<u8> {
        let b = self.peek().filter(|b| options.contains(b))?;
        self.at += 1;
        Some(b)
    }

    /// A number of `min..=max` digits.
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let start = self.at;
        while self.at - start < max && self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        if self.at - start < min {
            self.at = start;
            return None;
        }
        std::str::from_utf8(&self.bytes[start..self.at])
            .ok()?
            .parse()
            .ok()
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }
}

fn parse_w3c_lenient(text: &str) -> Option<DateTime<Utc>> {
    let mut c = Cursor {
        bytes: text.as_bytes(),
        at: 0,
    };
    let year = i32::try_from(c.number(4, 4)?).ok()?;
    let mut month = 1;
    let mut day = 1;
    if let Some(sep) = c.eat(b"-/") {
        month = c.number(1, 2)?;
        if c.eat(&[sep]).is_some() {
            day = c.number(1, 2)?;
        }
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    c.skip_spaces();
    if c.done() {
        return Some(date.and_time(NaiveTime::MIN).and_utc());
    }
    c.eat(b"Tt")?;
    c.skip_spaces();
    let hour = c.number(1, 2)?;
    c.eat(b":")?;
    let minute = c.number(2, 2)?;
    let mut second = 0;
    let mut nanos = 0;
    if c.eat(b":").is_some() {
        // A leap second is read as the second before it.
        second = c.number(2, 2)?.min(59);
        if c.eat(b".,").is_some() {
            let start = c.at;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.at += 1;
            }
            let digits = &text[start..c.at];
            let significant = &digits[..digits.len().min(9)];
            if significant.is_empty() {
                return None;
            }
            nanos = significant.parse::<u32>().ok()? * 10u32.pow(9 - significant.len() as u32);
        }
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;
    c.skip_spaces();
    let rest = &text[c.at..];
    let offset_secs = if rest.is_empty()
        || rest.eq_ignore_ascii_case("z")
        || rest.eq_ignore_ascii_case("utc")
        || rest.eq_ignore_ascii_case("gmt")
    {
        0
    } else {
        let sign = match c.eat(b"+-")? {
            b'-' => -1,
            _ => 1,
        };
        let hours = c.number(2, 2)?;
        c.eat(b":");
        let minutes = if c.done() { 0 } else { c.number(2, 2)? };
        if !c.done() || hours > 23 || minutes > 59 {
            return None;
        }
        sign * i32::try_from(hours * 3600 + minutes * 60).ok()?
    };
    let offset = FixedOffset::east_opt(offset_secs)?;
    offset
        .from_local_datetime(&date.and_time(time))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

// ---------------------------------------------------------------------------------------------------
// Date-partitioned sitemap URLs

/// A date range found in a URL, and how specific it is (3 day, 2 month, 1 year).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Period {
    precision: u8,
    first: NaiveDate,
    last: NaiveDate,
}

impl Period {
    fn day(year: i32, month: u32, day: u32) -> Option<Period> {
        if !plausible_year(year) {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        Some(Period {
            precision: 3,
            first: date,
            last: date,
        })
    }

    fn month(year: i32, month: u32) -> Option<Period> {
        if !plausible_year(year) {
            return None;
        }
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)?
        };
        Some(Period {
            precision: 2,
            first,
            last: next.pred_opt()?,
        })
    }

    fn year(year: i32) -> Option<Period> {
        if !plausible_year(year) {
            return None;
        }
        Some(Period {
            precision: 1,
            first: NaiveDate::from_ymd_opt(year, 1, 1)?,
            last: NaiveDate::from_ymd_opt(year, 12, 31)?,
        })
    }

    /// The more specific of two finds; the earlier one on a tie.
    fn better(a: Option<Period>, b: Option<Period>) -> Option<Period> {
        match (a, b) {
            (Some(a), Some(b)) if b.precision > a.precision => Some(b),
            (Some(a), _) => Some(a),
            (None, b) => b,
        }
    }
}

fn plausible_year(year: i32) -> bool {
    (1990..=2100).contains(&year)
}

/// `yyyy=`, `mm=`, `dd=` (or `year=`, `month=`, `day=`) query parameters.
#[derive(Debug, Default)]
struct NamedDate {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
}

impl NamedDate {
    fn period(&self) -> Option<Period> {
        let year = self.year?;
        match (self.month, self.day) {
            (Some(m), Some(d)) => Period::day(year, m, d)
                .or_else(|| Period::month(year, m))
                .or_else(|| Period::year(year)),
            (Some(m), None) => Period::month(year, m).or_else(|| Period::year(year)),
            _ => Period::year(year),
        }
    }
}

/// The most specific date range written in `s` (a path, or a query value) as standalone numbers.
fn scan_period(s: &str, in_path: bool) -> Option<Period> {
    let bytes = s.as_bytes();
    // Runs of digits with no letter or digit on either side.
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let alone_before = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let alone_after = i == bytes.len() || !bytes[i].is_ascii_alphanumeric();
        if alone_before && alone_after {
            runs.push((start, i));
        }
    }
    let value = |(a, b): (usize, usize)| s[a..b].parse::<u32>().ok();
    // Run `k + 1`, when it follows run `k` after exactly the separator `sep` and has 1 or 2 digits.
    let next_part = |k: usize, sep: u8| -> Option<u32> {
        let (_, end) = runs[k];
        let (start, stop) = *runs.get(k + 1)?;
        (start == end + 1 && bytes[end] == sep && (1..=2).contains(&(stop - start)))
            .then(|| value(runs[k + 1]))
            .flatten()
    };
    let mut best = None;
    for (k, &(start, end)) in runs.iter().enumerate() {
        let digits = &s[start..end];
        let found = match digits.len() {
            8 => {
                let (y, m, d) = (&digits[..4], &digits[4..6], &digits[6..]);
                match (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) {
                    (Ok(y), Ok(m), Ok(d)) => Period::day(y, m, d),
                    _ => None,
                }
            }
            6 if in_path => {
                let before = start.checked_sub(1).map(|b| bytes[b]);
                let after = bytes.get(end).copied();
                let segment_number = matches!(before, Some(b'-' | b'_' | b'/'))
                    && matches!(after, None | Some(b'.' | b'-' | b'_' | b'/'));
                match (digits[..4].parse::<i32>(), digits[4..].parse::<u32>()) {
                    (Ok(y), Ok(m)) if segment_number => Period::month(y, m),
                    _ => None,
                }
            }
            4 => {
                let year = value((start, end)).and_then(|y| i32::try_from(y).ok());
                let sep = bytes
                    .get(end)
                    .copied()
                    .filter(|b| matches!(b, b'-' | b'_' | b'/'));
                let month = sep.and_then(|sep| Some((sep, next_part(k, sep)?)));
                let day = month.and_then(|(sep, m)| Some((m, next_part(k + 1, sep)?)));
                year.and_then(|y| {
                    day.and_then(|(m, d)| Period::day(y, m, d))
                        .or_else(|| month.and_then(|(_, m)| Period::month(y, m)))
                        .or_else(|| Period::year(y))
                })
            }
            _ => None,
        };
        best = Period::better(best, found);
        if best.is_some_and(|p| p.precision == 3) {
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::entry_date;
    use std::io::Write as _;

    fn base() -> Url {
        Url::parse("https://news.example.com/sitemaps/news.xml").expect("base")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test date")
            .with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test date")
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).expect("gzip");
        enc.finish().expect("gzip")
    }

    fn urls(listing: &Listing) -> Vec<&str> {
        listing.entries.iter().map(|e| e.url.as_str()).collect()
    }

    fn err(bytes: &[u8]) -> String {
        parse("f", bytes, &base())
            .expect_err("should be refused")
            .to_string()
    }

    #[test]
    fn urlset_with_lastmod_variants() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc>https://news.example.com/a/1.html</loc><lastmod>2026-11-05</lastmod></url>
  <url><loc>https://news.example.com/a/2.html</loc><lastmod>2026-11-05T10:30:15+03:00</lastmod></url>
  <url><loc>https://news.example.com/a/3.html</loc><lastmod>2026-11-05T10:30+08:00</lastmod></url>
  <url><loc>https://news.example.com/a/4.html</loc><lastmod>2026-11</lastmod></url>
  <url><loc>https://news.example.com/a/5.html</loc><lastmod>2026</lastmod></url>
  <url><loc>https://news.example.com/a/6.html</loc><lastmod>2026-11-05T10:30:15</lastmod></url>
  <url><loc>https://news.example.com/a/7.html</loc><lastmod>2026-11-05 10:30:15.250Z</lastmod></url>
  <url><loc>https://news.example.com/a/8.html</loc><lastmod> 2026-11-05T10:30:15.123456789-0500 </lastmod></url>
  <url><loc>https://news.example.com/a/9.html</loc><lastmod>Thu, 05 Nov 2026 10:30:15 +0000</lastmod></url>
  <url><image:image><image:loc>https://cdn.example.com/img.jpg</image:loc></image:image>
    <loc>https://news.example.com/a/10.html</loc><lastmod>yesterday</lastmod></url>
  <url><loc>https://news.example.com/a/11.html</loc><lastmod>2026-02-30</lastmod></url>
</urlset>"#;
        let listing = parse("f", xml.as_bytes(), &base()).expect("parse");
        let modified: Vec<Option<DateTime<Utc>>> =
            listing.entries.iter().map(|e| e.modified).collect();
        assert_eq!(
            modified,
            vec![
                Some(utc("2026-11-05T00:00:00Z")),
                Some(utc("2026-11-05T07:30:15Z")),
                Some(utc("2026-11-05T02:30:00Z")),
                Some(utc("2026-11-01T00:00:00Z")),
                Some(utc("2026-01-01T00:00:00Z")),
                Some(utc("2026-11-05T10:30:15Z")),
                Some(utc("2026-11-05T10:30:15.250Z")),
                Some(utc("2026-11-05T15:30:15.123456789Z")),
                Some(utc("2026-11-05T10:30:15Z")),
                None,
                None,
            ]
        );
        // The image's loc is not the page's.
        assert_eq!(
            listing.entries[9].url.as_str(),
            "https://news.example.com/a/10.html"
        );
        assert!(listing.entries.iter().all(|e| e.feed_id == "f"
            && e.published.is_none()
            && e.title.is_none()
            && e.keywords.is_empty()));
        assert_eq!(listing.skipped_without_link, 0);
        assert!(listing.children.is_empty() && listing.notices.is_empty());
    }

    const NEWS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:PFX="http://www.google.com/schemas/sitemap-news/0.9">
 <url>
  <loc>
     https://news.example.com/2026/11/05/taiwan.html
  </loc>
  <lastmod>2026-11-05T09:00:00Z</lastmod>
  <PFX:news>
    <PFX:publication>
      <PFX:name>Example &amp; Co News</PFX:name>
      <PFX:language> zh-cn </PFX:language>
    </PFX:publication>
    <PFX:publication_date>2026-11-05T08:15:00+08:00</PFX:publication_date>
    <PFX:title><![CDATA[台湾  "独立"]]>
       &amp; the &#8220;US&#8221;&#x2019;s   role&nbsp;today</PFX:title>
    <PFX:keywords>台湾, 美国 ,,  military drills ,</PFX:keywords>
  </PFX:news>
 </url>
 <url>
  <loc>https://news.example.com/2026/11/05/second.html</loc>
  <PFX:news><PFX:publication_date>2026-11-05</PFX:publication_date>
  <PFX:title>Only a title</PFX:title></PFX:news>
 </url>
</urlset>"#;

    fn check_news(listing: &Listing) {
        assert_eq!(listing.entries.len(), 2);
        let e = &listing.entries[0];
        assert_eq!(
            e.url.as_str(),
            "https://news.example.com/2026/11/05/taiwan.html"
        );
        assert_eq!(e.modified, Some(utc("2026-11-05T09:00:00Z")));
        assert_eq!(e.published, Some(utc("2026-11-05T00:15:00Z")));
        assert_eq!(
            e.title.as_deref(),
            Some("台湾 \"独立\" & the \u{201c}US\u{201d}\u{2019}s role today")
        );
        assert_eq!(e.language.as_deref(), Some("zh-cn"));
        assert_eq!(e.keywords, vec!["台湾", "美国", "military drills"]);
        assert_eq!(entry_date(e), e.published);
        let e = &listing.entries[1];
        assert_eq!(e.published, Some(utc("2026-11-05T00:00:00Z")));
        assert_eq!(e.title.as_deref(), Some("Only a title"));
        assert_eq!(e.language, None);
        assert!(e.keywords.is_empty());
    }

    #[test]
    fn news_sitemap_with_every_field_under_any_prefix() {
        for prefix in ["news", "n"] {
            let xml = NEWS.replace("PFX", prefix);
            check_news(&parse("f", xml.as_bytes(), &base()).expect("parse"));
        }
        // No prefix at all: the news elements in a default namespace.
        let xml = NEWS
            .replace("xmlns:PFX=", "xmlns:unused=")
            .replace(
                "<PFX:news>",
                "<news xmlns=\"http://www.google.com/schemas/sitemap-news/0.9\">",
            )
            .replace("PFX:", "");
        check_news(&parse("f", xml.as_bytes(), &base()).expect("parse"));
    }

    #[test]
    fn sitemap_index_with_children() {
        let xml = "\u{feff}  \n<?xml version='1.0' encoding='UTF-8'?>\
<sm:sitemapindex xmlns:sm=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
<sm:sitemap><sm:loc>https://news.example.com/sitemap-2026-11.xml.gz</sm:loc>\
<sm:lastmod>2026-11-05T10:00:00+00:00</sm:lastmod></sm:sitemap>\
<sm:sitemap><sm:loc>/sitemaps/sitemap.xml?yyyy=2026&amp;mm=10</sm:loc></sm:sitemap>\
<sm:sitemap><sm:loc>https://news.example.com/sitemap-2026-11.xml.gz#x</sm:loc></sm:sitemap>\
<sm:sitemap><sm:loc>ftp://news.example.com/old.xml</sm:loc></sm:sitemap>\
<sm:sitemap><sm:lastmod>2026-11-05</sm:lastmod></sm:sitemap>\
</sm:sitemapindex>";
        let listing = parse("f", xml.as_bytes(), &base()).expect("parse");
        assert!(listing.entries.is_empty());
        assert_eq!(
            listing.children,
            vec![
                Child {
                    url: Url::parse("https://news.example.com/sitemap-2026-11.xml.gz")
                        .expect("url"),
                    lastmod: Some(utc("2026-11-05T10:00:00Z")),
                },
                Child {
                    url: Url::parse(
                        "https://news.example.com/sitemaps/sitemap.xml?yyyy=2026&mm=10"
                    )
                    .expect("url"),
                    lastmod: None,
                },
            ]
        );
        // The ftp loc and the sitemap without loc.
        assert_eq!(listing.skipped_without_link, 2);
    }

    #[test]
    fn gzipped_urlset_reads_like_the_plain_one() {
        let xml = NEWS.replace("PFX", "news");
        let plain = parse("f", xml.as_bytes(), &base()).expect("plain");
        let gz = parse("f", &gzip(xml.as_bytes()), &base()).expect("gzipped");
        check_news(&gz);
        assert_eq!(plain, gz);
    }

    /// One gzip member of `mib` MiB of zeros, built without compressing them all: one MiB deflated with a
    /// sync flush is a byte-aligned run of blocks that refer only to themselves, so it can be repeated.
    fn zero_bomb(mib: usize) -> Vec<u8> {
        let zeros = vec![0u8; 1 << 20];
        let mut deflate = flate2::Compress::new(flate2::Compression::best(), false);
        let mut blocks = Vec::with_capacity(64 * 1024);
        let status = deflate
            .compress_vec(&zeros, &mut blocks, flate2::FlushCompress::Sync)
            .expect("deflate");
        assert_eq!((status, deflate.total_in()), (flate2::Status::Ok, 1 << 20));
        let mut crc = flate2::Crc::new();
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        for _ in 0..mib {
            out.extend_from_slice(&blocks);
            crc.update(&zeros);
        }
        // A final empty stored block, then CRC-32 and size.
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&crc.amount().to_le_bytes());
        out
    }

    #[test]
    fn gzip_bomb_stops_at_the_cap() {
        let started = std::time::Instant::now();
        // The helper's stream is a real gzip file: a small one inflates to its zeros.
        assert_eq!(gunzip(&zero_bomb(2)).expect("2 MiB"), vec![0u8; 2 << 20]);
        // 60 MiB of zeros in one member, about 60 KB gzipped: refused once the cap is passed.
        let bomb = zero_bomb(60);
        assert!(bomb.len() < 100_000, "{}", bomb.len());
        let e = err(&bomb);
        assert!(
            e.contains("sitemap is larger than 50 MB uncompressed (the protocol's cap)"),
            "{e}"
        );
        // Many small members (each trailer says 1 MiB): the cap holds over the whole stream, and a
        // stream of exactly the cap is read.
        let member = gzip(&vec![b' '; 1 << 20]);
        let members = |n: usize| -> Vec<u8> {
            std::iter::repeat_n(&member[..], n)
                .flatten()
                .copied()
                .collect()
        };
        assert_eq!(gunzip(&members(50)).map(|v| v.len()), Ok(MAX_BYTES));
        assert!(err(&members(51)).contains("the protocol's cap"));
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
    }

    #[test]
    fn plain_file_over_the_cap_is_refused() {
        let mut big = b"<urlset>".to_vec();
        big.resize(MAX_BYTES + 1, b' ');
        assert!(err(&big).contains("larger than 50 MB"));
    }

    #[test]
    fn corrupt_gzip_is_a_clear_error() {
        let good = gzip(NEWS.as_bytes());
        let mut bad = good.clone();
        let middle = bad.len() / 2;
        for b in &mut bad[middle..middle + 16] {
            *b ^= 0x5a;
        }
        assert!(
            err(&bad).contains("gzip stream is corrupt"),
            "{}",
            err(&bad)
        );
        let truncated = &good[..good.len() / 2];
        assert!(err(truncated).contains("gzip stream is corrupt or truncated"));
        assert!(err(&[0x1f, 0x8b]).contains("gzip stream"));
    }

    #[test]
    fn more_than_fifty_thousand_urls_are_capped_with_a_notice() {
        let mut xml =
            String::from("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">");
        for i in 0..50_001 {
            xml.push_str(&format!(
                "<url><loc>https://news.example.com/a/{i}</loc></url>"
            ));
            if i == 10 {
                // A duplicate is kept once and does not count towards the cap.
                xml.push_str("<url><loc>https://news.example.com/a/0</loc></url>");
            }
        }
        xml.push_str("</urlset>");
        let listing = parse("f", xml.as_bytes(), &base()).expect("parse");
        assert_eq!(listing.entries.len(), MAX_URLS);
        assert_eq!(
            listing.entries.last().map(|e| e.url.as_str()),
            Some("https://news.example.com/a/49999")
        );
        assert_eq!(listing.skipped_over_cap, 1);
        assert_eq!(
            listing.notices,
            vec![
                "sitemap https://news.example.com/sitemaps/news.xml lists 50,001 URLs, more than the \
                 protocol's 50,000; the first 50,000 were read"
                    .to_string()
            ]
        );
    }

    #[test]
    fn duplicates_are_kept_once() {
        let xml = "<urlset><url><loc>https://a.example/x</loc></url><url><loc>https://a.example/y</loc></url>\
                   <url><loc>https://a.example/x#comments</loc></url><url><loc>/x</loc></url></urlset>";
        let base = Url::parse("https://a.example/sitemap.xml").expect("url");
        let listing = parse("f", xml.as_bytes(), &base).expect("parse");
        assert_eq!(
            urls(&listing),
            ["https://a.example/x", "https://a.example/y"]
        );
        assert_eq!(listing.skipped_without_link, 0);
    }

    #[test]
    fn relative_protocol_relative_and_other_scheme_locs() {
        let xml = "<urlset>\
            <url><loc>/politics/1.html</loc></url>\
            <url><loc>2.html</loc></url>\
            <url><loc>//cdn.example.org/3.html</loc></url>\
            <url><loc>http://news.example.com/q?a=1&b=2</loc></url>\
            <url><loc>javascript:alert(1)</loc></url>\
            <url><loc>mailto:editor@example.com</loc></url>\
            <url><loc>   </loc></url>\
            <url><lastmod>2026-01-01</lastmod></url>\
            <url><loc>https://news.example.com/4.html#top</loc></url>\
            </urlset>";
        let listing = parse("f", xml.as_bytes(), &base()).expect("parse");
        assert_eq!(
            urls(&listing),
            [
                "https://news.example.com/politics/1.html",
                "https://news.example.com/sitemaps/2.html",
                "https://cdn.example.org/3.html",
                "http://news.example.com/q?a=1&b=2",
                "https://news.example.com/4.html",
            ]
        );
        assert_eq!(listing.skipped_without_link, 4);
    }

    #[test]
    fn html_rss_and_garbage_are_refused_with_what_they_are() {
        let e = err(b"<!DOCTYPE html>\n<html lang=\"en\"><head><title>Not found</title></head><body><p>gone</html>");
        assert!(
            e.contains("not a sitemap: the document's root is <html> (an HTML page)"),
            "{e}"
        );
        let e = err(b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>x</title></channel></rss>");
        assert!(e.contains("root is <rss> (an RSS feed"), "{e}");
        let e = err(b"<feed xmlns=\"http://www.w3.org/2005/Atom\"></feed>");
        assert!(e.contains("root is <feed> (an Atom feed"), "{e}");
        let e = err(b"");
        assert_eq!(e, "not a sitemap: the document is empty");
        let e = err(b" \r\n\t ");
        assert_eq!(e, "not a sitemap: the document is empty");
        let e = err(b"{\"error\": \"rate limited\"}");
        assert!(e.starts_with("not a sitemap: no XML element"), "{e}");
        assert!(e.contains("rate limited"), "{e}");
        let e = err(&[0xff, 0x00, 0xfe, 0x12, 0x80, 0x81, 0x00]);
        assert!(e.starts_with("not a sitemap"), "{e}");
    }

    #[test]
    fn empty_sitemaps_are_fine() {
        for xml in [
            "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"></urlset>",
            "<urlset/>",
            "<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"/>",
        ] {
            let listing = parse("f", xml.as_bytes(), &base()).expect("parse");
            assert_eq!(listing, Listing::default(), "{xml}");
        }
    }

    #[test]
    fn a_file_that_breaks_off_keeps_what_came_before() {
        let xml = "<urlset><url><loc>https://a.example/1</loc></url><url><loc>https://a.example/2</loc></url>\
                   <url><loc>https://a.exa";
        let listing = parse("f", xml.as_bytes(), &base()).expect("parse");
        assert_eq!(
            urls(&listing),
            ["https://a.example/1", "https://a.example/2"]
        );
        assert_eq!(listing.notices.len(), 1);
        assert!(
            listing.notices[0].contains("breaks off before its end"),
            "{:?}",
            listing.notices
        );
        assert!(
            listing.notices[0].contains("kept the 2 URLs before the break"),
            "{:?}",
            listing.notices
        );
        // Not well-formed after the first URL: what came before is kept, with where it broke.
        let xml =
            "<urlset><url><loc>https://a.example/1</loc></url><url><loc>https://a.example/2</loc>\
                   <!-- unclosed comment </url></urlset>";
        let listing = parse("f", xml.as_bytes(), &base()).expect("parse");
        assert_eq!(urls(&listing), ["https://a.example/1"]);
        assert!(
            listing.notices[0].contains("is not well-formed XML at byte"),
            "{:?}",
            listing.notices
        );
        assert!(
            listing.notices[0].contains("); kept the 1 URL before it"),
            "{:?}",
            listing.notices
        );
        // Not well-formed before any root: refused.
        let e = err(b"<?xml version=\"1.0\"?><!-- never closed");
        assert!(e.starts_with("not a sitemap: not well-formed XML"), "{e}");
    }

    #[test]
    fn legacy_charsets_are_decoded() {
        let ru = "<?xml version=\"1.0\" encoding=\"windows-1251\"?>\
            <urlset xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\"><url>\
            <loc>https://ria.example/20261105/ukraina.html</loc><news:news><news:title>Украина и \
            «зелёный террор»</news:title><news:keywords>Украина, Европа</news:keywords></news:news></url></urlset>";
        let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(ru);
        assert!(std::str::from_utf8(&bytes).is_err());
        let listing = parse("f", &bytes, &base()).expect("parse");
        assert_eq!(
            listing.entries[0].title.as_deref(),
            Some("Украина и «зелёный террор»")
        );
        assert_eq!(listing.entries[0].keywords, ["Украина", "Европа"]);

        let zh = "<?xml version=\"1.0\" encoding=\"GBK\"?>\
            <urlset xmlns:n=\"http://www.google.com/schemas/sitemap-news/0.9\"><url>\
            <loc>https://news.example.cn/c/2026-11-05/doc.shtml</loc><n:news><n:title>朱镕基谈台湾问题</n:title>\
            <n:keywords>台湾，两岸</n:keywords></n:news></url></urlset>";
        let (bytes, _, _) = encoding_rs::GB18030.encode(zh);
        let listing = parse("f", &bytes, &base()).expect("parse");
        assert_eq!(
            listing.entries[0].title.as_deref(),
            Some("朱镕基谈台湾问题")
        );
        assert_eq!(listing.entries[0].keywords, ["台湾", "两岸"]);
        // Gzipped legacy bytes too.
        let listing = parse("f", &gzip(&bytes), &base()).expect("parse");
        assert_eq!(
            listing.entries[0].title.as_deref(),
            Some("朱镕基谈台湾问题")
        );
    }

    fn period(url: &str) -> Option<(NaiveDate, NaiveDate)> {
        url_period(&Url::parse(url).expect("url"))
    }

    #[test]
    fn url_period_days_months_years() {
        let day = |y, m, d| Some((date(y, m, d), date(y, m, d)));
        let nov = Some((date(2026, 11, 1), date(2026, 11, 30)));
        let feb = Some((date(2028, 2, 1), date(2028, 2, 29)));
        let year = Some((date(2026, 1, 1), date(2026, 12, 31)));
        assert_eq!(
            period("https://x.example/sitemap-2026-11-05.xml"),
            day(2026, 11, 5)
        );
        assert_eq!(
            period("https://x.example/sitemap/2026/11/05/news.xml"),
            day(2026, 11, 5)
        );
        assert_eq!(
            period("https://x.example/sitemap_20261105.xml.gz"),
            day(2026, 11, 5)
        );
        assert_eq!(
            period("https://x.example/sm.xml?yyyy=2026&mm=11&dd=05"),
            day(2026, 11, 5)
        );
        assert_eq!(
            period("https://x.example/sm.xml?date=2026-11-05"),
            day(2026, 11, 5)
        );
        assert_eq!(
            period("https://x.example/sm.xml?date=20261105"),
            day(2026, 11, 5)
        );
        assert_eq!(period("https://x.example/sitemap-2026-11.xml"), nov);
        assert_eq!(period("https://x.example/sitemap/2026/11/"), nov);
        assert_eq!(period("https://x.example/sitemap-202611.xml"), nov);
        assert_eq!(period("https://x.example/sm.xml?yyyy=2026&mm=11"), nov);
        assert_eq!(period("https://x.example/sitemap-2028-02.xml"), feb);
        assert_eq!(
            period("https://x.example/sitemap-2026-12.xml"),
            Some((date(2026, 12, 1), date(2026, 12, 31)))
        );
        assert_eq!(period("https://x.example/sitemap-2026.xml"), year);
        assert_eq!(period("https://x.example/sm.xml?yyyy=2026"), year);
        // The most specific wins, wherever it is.
        assert_eq!(
            period("https://x.example/2026/sitemap.xml?date=2026-11-05"),
            day(2026, 11, 5)
        );
        assert_eq!(
            period("https://x.example/archive-2026/sitemap-2026-11.xml"),
            nov
        );
    }

    #[test]
    fn url_period_false_positives() {
        for url in [
            "https://x.example/sitemap.xml",
            "https://x.example/article/20261105123456.html",
            "https://x.example/post-sitemap2026.xml",
            "https://x.example/sitemap-2026a.xml",
            "https://x.example/sitemap-1850.xml",
            "https://x.example/sitemap-2200.xml",
            "https://x.example/sitemap-20261340.xml",
            "https://x.example/sitemap-20260230.xml",
            "https://x.example/news/123456.xml",
            "https://x.example/sitemap-202613.xml",
            "https://x.example/sm.xml?id=202611",
            "https://x.example/sm.xml?page=2026",
            "https://x.example/sitemap-1.xml?p=2",
            "https://2026.example/sitemap.xml",
        ] {
            assert_eq!(period(url), None, "{url}");
        }
        // An impossible day or month falls back to what is valid.
        assert_eq!(
            period("https://x.example/sitemap-2026-02-30.xml"),
            Some((date(2026, 2, 1), date(2026, 2, 28)))
        );
        assert_eq!(
            period("https://x.example/sitemap-2026-13.xml"),
            Some((date(2026, 1, 1), date(2026, 12, 31)))
        );
    }

    #[test]
    fn child_in_window_by_lastmod_then_period() {
        let since = utc("2026-11-05T00:00:00Z");
        let child = |url: &str, lastmod: Option<&str>| Child {
            url: Url::parse(url).expect("url"),
            lastmod: lastmod.map(utc),
        };
        // lastmod before since: out, whatever the URL.
        assert!(!child_in_window(
            &child(
                "https://x.example/sitemap.xml",
                Some("2026-11-04T23:59:59Z")
            ),
            since,
            None
        ));
        assert!(child_in_window(
            &child(
                "https://x.example/sitemap.xml",
                Some("2026-11-05T00:00:00Z")
            ),
            since,
            None
        ));
        // No lastmod and no date in the URL: unknown, read it.
        assert!(child_in_window(
            &child("https://x.example/sitemap-7.xml", None),
            since,
            None
        ));
        // Periods: before since (with a day of slack), within, after until.
        assert!(!child_in_window(
            &child("https://x.example/sitemap-2026-10.xml", None),
            since,
            None
        ));
        assert!(!child_in_window(
            &child("https://x.example/sitemap-2026-11-03.xml", None),
            since,
            None
        ));
        assert!(child_in_window(
            &child("https://x.example/sitemap-2026-11-04.xml", None),
            since,
            None
        ));
        assert!(child_in_window(
            &child("https://x.example/sitemap-2026-11.xml", None),
            since,
            None
        ));
        assert!(child_in_window(
            &child("https://x.example/sitemap-2027.xml", None),
            since,
            None
        ));
        let until = Some(utc("2026-11-30T12:00:00Z"));
        assert!(child_in_window(
            &child("https://x.example/sitemap-2026-12-01.xml", None),
            since,
            until
        ));
        assert!(!child_in_window(
            &child("https://x.example/sitemap-2026-12-02.xml", None),
            since,
            until
        ));
        assert!(!child_in_window(
            &child("https://x.example/sitemap-2027.xml", None),
            since,
            until
        ));
        // A recent lastmod does not save a file whose period is before the window (an archive rebuilt today).
        assert!(!child_in_window(
            &child(
                "https://x.example/sitemap-2020-01.xml",
                Some("2026-11-06T00:00:00Z")
            ),
            since,
            None
        ));
        assert!(child_in_window(
            &child(
                "https://x.example/sitemap-2026-11-20.xml",
                Some("2026-11-20T00:00:00Z")
            ),
            since,
            until
        ));
    }

    #[test]
    fn entry_date_prefers_publication() {
        let mut e = Entry::new("f", Url::parse("https://x.example/a").expect("url"));
        assert_eq!(entry_date(&e), None);
        e.modified = Some(utc("2026-11-06T00:00:00Z"));
        assert_eq!(entry_date(&e), e.modified);
        e.published = Some(utc("2026-11-05T00:00:00Z"));
        assert_eq!(entry_date(&e), e.published);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(50_012), "50,012");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
