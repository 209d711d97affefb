//! The daily digest: for one UTC day, per campaign the count and the top articles, per feed the count;
//! rendered as Markdown, self-contained HTML or JSON.
//!
//! [`build`] is a pure function of the day's articles and the config; [`load_day`] reads them from the
//! archive. All archived text is escaped on output: titles come from hostile sources.

use std::fmt::Write as _;

use chrono::{NaiveDate, TimeZone, Utc};
use serde::Serialize;
use tantivy::collector::DocSetCollector;

use crate::config::Config;
use crate::index::Archive;
use crate::model::{Affiliation, Article};

/// Articles listed per campaign at most.
pub const TOP_ARTICLES: usize = 10;

/// One day's digest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Digest {
    /// The UTC day.
    pub date: NaiveDate,
    /// Articles published that day.
    pub total: usize,
    /// Of which from state-affiliated outlets.
    pub from_state: usize,
    /// Per campaign, in config order.
    pub campaigns: Vec<CampaignDigest>,
    /// Per configured feed, in config order (silent feeds count 0), then any other feed in the archive.
    pub feeds: Vec<FeedCount>,
}

/// One campaign's part of the digest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignDigest {
    /// Campaign id.
    pub id: String,
    /// Campaign name.
    pub name: String,
    /// Tagged articles that day.
    pub count: usize,
    /// Of which from state-affiliated outlets.
    pub from_state: usize,
    /// The top articles, strongest evidence first.
    pub articles: Vec<DigestArticle>,
}

/// An article as listed in the digest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigestArticle {
    /// Article id.
    pub id: String,
    /// URL.
    pub url: String,
    /// Headline.
    pub title: String,
    /// Feed id.
    pub feed: String,
    /// Outlet name.
    pub source_name: String,
    /// Outlet affiliation.
    pub affiliation: Affiliation,
    /// Language.
    pub lang: String,
    /// Publication time (RFC 3339).
    pub published: Option<String>,
    /// The campaign terms that matched.
    pub terms: Vec<String>,
}

/// Article count of one feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedCount {
    /// Feed id.
    pub id: String,
    /// Outlet name.
    pub name: String,
    /// Articles that day.
    pub count: usize,
}

/// The articles whose publication time falls on `date` (UTC).
pub fn load_day(archive: &Archive, date: NaiveDate) -> anyhow::Result<Vec<Article>> {
    let start = Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default());
    let end = start + chrono::Duration::days(1);
    let query = archive.published_range(
        Some(tantivy::DateTime::from_timestamp_secs(start.timestamp())),
        Some(tantivy::DateTime::from_timestamp_secs(end.timestamp())),
    );
    let searcher = archive.searcher();
    let docs = searcher.search(&*query, &DocSetCollector)?;
    let mut articles = Vec::with_capacity(docs.len());
    for address in docs {
        articles.push(archive.article(&searcher, address)?);
    }
    articles.sort_by(|a, b| a.url.cmp(&b.url));
    Ok(articles)
}

/// Builds the digest of `date` from that day's articles.
pub fn build(date: NaiveDate, articles: &[Article], config: &Config) -> Digest {
    let is_state = |a: &Article| a.affiliation == Affiliation::State;
    let campaigns = config
        .campaigns
        .iter()
        .map(|c| {
            let mut tagged: Vec<(&Article, f64)> = articles
                .iter()
                .filter_map(|a| {
                    a.campaigns
                        .iter()
                        .find(|h| h.id == c.id)
                        .map(|h| (a, h.score))
                })
                .collect();
            let from_state = tagged.iter().filter(|(a, _)| is_state(a)).count();
            // Strongest evidence first, then newest, then URL for a stable order.
            tagged.sort_by(|(a, sa), (b, sb)| {
                sb.partial_cmp(sa)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(b.published.cmp(&a.published))
                    .then(a.url.cmp(&b.url))
            });
            CampaignDigest {
                id: c.id.clone(),
                name: c.name.clone(),
                count: tagged.len(),
                from_state,
                articles: tagged
                    .iter()
                    .take(TOP_ARTICLES)
                    .map(|(a, _)| DigestArticle {
                        id: a.id.clone(),
                        url: a.url.clone(),
                        title: a.title.clone(),
                        feed: a.feed.clone(),
                        source_name: a.source_name.clone(),
                        affiliation: a.affiliation,
                        lang: a.lang.lang.clone(),
                        published: a
                            .published
                            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                        terms: a
                            .campaigns
                            .iter()
                            .filter(|h| h.id == c.id)
                            .flat_map(|h| h.terms.iter().map(|t| t.term.clone()))
                            .collect(),
                    })
                    .collect(),
            }
        })
        .collect();
    let mut feeds: Vec<FeedCount> = config
        .feeds
        .iter()
        .map(|f| FeedCount {
            id: f.id.clone(),
            name: f.name.clone(),
            count: articles.iter().filter(|a| a.feed == f.id).count(),
        })
        .collect();
    for a in articles {
        if !feeds.iter().any(|f| f.id == a.feed) {
            feeds.push(FeedCount {
                id: a.feed.clone(),
                name: a.source_name.clone(),
                count: articles.iter().filter(|b| b.feed == a.feed).count(),
            });
        }
    }
    Digest {
        date,
        total: articles.len(),
        from_state: articles.iter().filter(|a| is_state(a)).count(),
        campaigns,
        feeds,
    }
}

/// Output formats of the digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DigestFormat {
    /// Markdown for chat and email.
    Md,
    /// One self-contained HTML file.
    Html,
    /// Every number, for other tools.
    Json,
}

impl DigestFormat {
    /// File extension.
    pub fn extension(self) -> &'static str {
        match self {
            DigestFormat::Md => "md",
            DigestFormat::Html => "html",
            DigestFormat::Json => "json",
        }
    }
}

/// Renders the digest.
pub fn render(d: &Digest, format: DigestFormat) -> String {
    match format {
        DigestFormat::Json => {
            let mut s = serde_json::to_string_pretty(d)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            s.push('\n');
            s
        }
        DigestFormat::Md => render_md(d),
        DigestFormat::Html => render_html(d),
    }
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        "n/a".into()
    } else {
        format!("{:.0}%", 100.0 * part as f64 / whole as f64)
    }
}

/// Escapes text for Markdown: nothing in a title may become a link, an image, HTML, code or emphasis.
/// (Brackets are enough to stop link syntax, so parentheses stay readable.)
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '!' | '|' | '>' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A URL safe to put in an href: http(s) only, escaped; anything else becomes "#".
fn safe_href(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => html_escape(u.as_str()),
        _ => "#".into(),
    }
}

fn md_link_target(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => u
            .as_str()
            .replace('(', "%28")
            .replace(')', "%29")
            .replace(' ', "%20"),
        _ => String::new(),
    }
}

fn render_md(d: &Digest) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# mediawatch digest for {}\n", d.date);
    let _ = writeln!(
        s,
        "{} articles published this UTC day; {} ({}) from state-affiliated outlets.\n",
        d.total,
        d.from_state,
        percent(d.from_state, d.total)
    );
    let _ = writeln!(s, "## Campaigns\n");
    for c in &d.campaigns {
        let _ = writeln!(
            s,
            "### {} (`{}`): {} articles, {} from state outlets\n",
            md_escape(&c.name),
            c.id,
            c.count,
            percent(c.from_state, c.count)
        );
        for a in &c.articles {
            let target = md_link_target(&a.url);
            let title = md_escape(&a.title);
            let linked = if target.is_empty() {
                title
            } else {
                format!("[{title}]({target})")
            };
            let _ = writeln!(
                s,
                "- {linked} — {} ({}, {}), {}; terms: {}",
                md_escape(&a.source_name),
                a.affiliation,
                a.lang,
                a.published.as_deref().unwrap_or("undated"),
                a.terms
                    .iter()
                    .map(|t| md_escape(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if c.count > c.articles.len() {
            let _ = writeln!(s, "- … and {} more", c.count - c.articles.len());
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "## Feeds\n\n| feed | outlet | articles |\n|---|---|---:|"
    );
    for f in &d.feeds {
        let _ = writeln!(s, "| `{}` | {} | {} |", f.id, md_escape(&f.name), f.count);
    }
    s
}

fn render_html(d: &Digest) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<title>mediawatch digest {date}</title><style>\
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.45;color:#222}}\
table{{border-collapse:collapse}}td,th{{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:left}}\
.n{{text-align:right}}.meta{{color:#555;font-size:.9em}}li{{margin:.3rem 0}}\
@media print{{a{{color:inherit}}}}</style></head><body>\n",
        date = d.date
    );
    let _ = writeln!(s, "<h1>mediawatch digest for {}</h1>", d.date);
    let _ = writeln!(
        s,
        "<p>{} articles published this UTC day; {} ({}) from state-affiliated outlets.</p>",
        d.total,
        d.from_state,
        percent(d.from_state, d.total)
    );
    let _ = writeln!(s, "<h2>Campaigns</h2>");
    for c in &d.campaigns {
        let _ = writeln!(
            s,
            "<h3>{} <code>{}</code>: {} articles, {} from state outlets</h3><ul>",
            html_escape(&c.name),
            html_escape(&c.id),
            c.count,
            percent(c.from_state, c.count)
        );
        for a in &c.articles {
            let _ = writeln!(
                s,
                "<li><a href=\"{}\" rel=\"noreferrer noopener\">{}</a> <span class=\"meta\">{} ({}, {}), {}; terms: {}</span></li>",
                safe_href(&a.url),
                html_escape(&a.title),
                html_escape(&a.source_name),
                a.affiliation,
                html_escape(&a.lang),
                html_escape(a.published.as_deref().unwrap_or("undated")),
                html_escape(&a.terms.join(", "))
            );
        }
        if c.count > c.articles.len() {
            let _ = writeln!(s, "<li>… and {} more</li>", c.count - c.articles.len());
        }
        let _ = writeln!(s, "</ul>");
    }
    let _ = writeln!(
        s,
        "<h2>Feeds</h2><table><tr><th>feed</th><th>outlet</th><th class=\"n\">articles</th></tr>"
    );
    for f in &d.feeds {
        let _ = writeln!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td></tr>",
            html_escape(&f.id),
            html_escape(&f.name),
            f.count
        );
    }
    let _ = writeln!(s, "</table></body></html>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CampaignHit, LangInfo, TermHit};

    fn config() -> Config {
        crate::config::parse(
            "[[feeds]]\nid = \"s\"\nurl = \"http://s.example/rss\"\naffiliation = \"state\"\n\
             [[feeds]]\nid = \"i\"\nurl = \"http://i.example/rss\"\nname = \"Indie\"\n\
             [[campaigns]]\nid = \"c\"\nname = \"C & D\"\n[campaigns.terms]\nen = [\"x\"]\n",
            std::path::Path::new("feeds.toml"),
        )
        .unwrap()
    }

    fn article(
        url: &str,
        feed: &str,
        affiliation: Affiliation,
        title: &str,
        tagged: bool,
    ) -> Article {
        Article {
            id: url.into(),
            url: url.into(),
            final_url: url.into(),
            feed: feed.into(),
            source_name: feed.into(),
            affiliation,
            country: None,
            lang: LangInfo::unknown(),
            title: title.into(),
            text: String::new(),
            description: None,
            authors: vec![],
            published: Some(Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()),
            modified: None,
            fetched_at: Utc::now(),
            canonical_url: None,
            site_name: None,
            image: None,
            section: None,
            tags: vec![],
            campaigns: if tagged {
                vec![CampaignHit {
                    id: "c".into(),
                    score: 1.0,
                    terms: vec![TermHit {
                        term: "x".into(),
                        lang: "en".into(),
                        count: 1,
                        positions: vec![],
                    }],
                }]
            } else {
                vec![]
            },
            http_status: 200,
            text_source: "page".into(),
            cluster: None,
        }
    }

    #[test]
    fn counts_and_escaping() {
        let date = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let articles = vec![
            article(
                "http://s.example/1",
                "s",
                Affiliation::State,
                "<script>alert(1)</script> [x](javascript:y)",
                true,
            ),
            article(
                "http://i.example/2",
                "i",
                Affiliation::Independent,
                "Plain",
                false,
            ),
            article(
                "javascript:alert(2)",
                "i",
                Affiliation::Independent,
                "Bad link",
                true,
            ),
        ];
        let d = build(date, &articles, &config());
        assert_eq!(d.total, 3);
        assert_eq!(d.from_state, 1);
        assert_eq!(d.campaigns[0].count, 2);
        assert_eq!(d.campaigns[0].from_state, 1);
        assert_eq!(
            d.feeds
                .iter()
                .map(|f| (f.id.as_str(), f.count))
                .collect::<Vec<_>>(),
            [("s", 1), ("i", 2)]
        );

        let html = render(&d, DigestFormat::Html);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("href=\"javascript"));
        assert!(html.contains("C &amp; D"));
        let md = render(&d, DigestFormat::Md);
        assert!(md.contains("\\[x\\](javascript:y)"), "{md}");
        // Only escaped brackets precede the javascript: target, so it is no link.
        assert!(!md.replace("\\]", "").contains("](javascript"), "{md}");
        assert!(md.contains("&lt;script"));
        let json: serde_json::Value =
            serde_json::from_str(&render(&d, DigestFormat::Json)).unwrap();
        assert_eq!(json["date"], "2026-11-20");
        assert_eq!(json["campaigns"][0]["count"], 2);
        assert_eq!(json["feeds"][1]["count"], 2);
    }
}
