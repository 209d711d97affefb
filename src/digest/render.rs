//! Rendering a [`Digest`]: Markdown (chat, email), one self-contained HTML file (inline CSS and SVG, no
//! scripts, no external requests, phone-width and printable) and JSON (every number).
//!
//! Everything that came from the archive or the network (titles, outlet names, terms, errors, URLs) is
//! escaped here; the numbers and dates are ours.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::chart;
use super::{
    CampaignDigest, ChangesDigest, Digest, DigestArticle, DigestFormat, ForwardCopy, ForwardOrigin,
};
use crate::escape;

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

fn signed_pct(v: f64) -> String {
    format!("{v:+.0}%")
}

/// A p-value for people: three decimals, or "< 0.001".
fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

fn period(d: &Digest) -> String {
    if d.from == d.to {
        format!("{}", d.from)
    } else {
        format!("{} to {} ({} days)", d.from, d.to, d.days)
    }
}

/// `a 3, b 1` from a count map, largest first.
fn split_line(m: &BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = m.iter().map(|(k, n)| (k.clone(), *n)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// A URL safe to put in an href: http(s) only, escaped; anything else becomes "#".
fn safe_href(url: &str) -> String {
    escape::http_url(url).map_or_else(|| "#".into(), |u| escape::html(u.as_str()))
}

fn md_article(a: &DigestArticle) -> String {
    let target = escape::markdown_url(&a.url);
    let title = escape::markdown(&a.title);
    if target.is_empty() {
        title
    } else {
        format!("[{title}]({target})")
    }
}

fn md_meta(a: &DigestArticle) -> String {
    format!(
        "{} ({}, {}, {}), {}",
        escape::markdown(&a.source_name),
        a.affiliation,
        escape::markdown(a.country.as_deref().unwrap_or("-")),
        escape::markdown(&a.lang),
        a.published
    )
}

/// The origin of forwards: the archived post as any listed article, else its name linked to its URL.
fn md_origin(o: &ForwardOrigin) -> String {
    match &o.article {
        Some(a) => format!("{} — {}{}", md_article(a), md_meta(a), md_views(o.views)),
        None => {
            let name = escape::markdown(&o.name);
            let channel = o
                .channel
                .as_deref()
                .map(|c| format!(" (@{})", escape::markdown(c)))
                .unwrap_or_default();
            let target = escape::markdown_url(&o.url);
            let link = if target.is_empty() {
                format!("{name}{channel}")
            } else {
                format!("[{name}{channel}]({target})")
            };
            format!("{link}, not archived")
        }
    }
}

fn md_views(views: Option<u64>) -> String {
    views.map_or_else(String::new, |v| format!("; {v} views"))
}

fn delay_prefix(c: &ForwardCopy) -> String {
    c.delay_minutes
        .map_or_else(String::new, |m| format!("+{m} min: "))
}

fn channels_word(n: usize) -> &'static str {
    if n == 1 {
        "channel"
    } else {
        "channels"
    }
}

fn spike_word(c: &CampaignDigest) -> &'static str {
    if c.spike {
        "SPIKE"
    } else {
        "-"
    }
}

/// The sentence that stands for an empty "Changed and removed" section, None when it lists articles.
fn changes_empty(c: &ChangesDigest) -> Option<&'static str> {
    if !c.articles.is_empty() {
        None
    } else if !c.tracked {
        Some("Revisits are off (no feed is covered by [revisit] in the config): edits and removals are not tracked.")
    } else {
        Some("No archived article was found edited or removed in the period.")
    }
}

fn render_md(d: &Digest) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# mediawatch digest for {}\n", period(d));
    let _ = writeln!(
        s,
        "**{} articles** archived; {} of {} feeds delivered; {} ({}) from state-affiliated outlets; \
         campaigns that spiked: {}.\n",
        d.total,
        d.feeds_delivered,
        d.feeds_configured,
        d.from_state,
        percent(d.from_state, d.total),
        if d.spiking.is_empty() {
            "none".to_string()
        } else {
            d.spiking
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let _ = writeln!(
        s,
        "## Campaigns\n\n| campaign | articles | 7-day mean | 28-day mean | change | spike¹ |\n|---|---:|---:|---:|---:|---|"
    );
    for c in &d.campaigns {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.1} | {} | {} |",
            escape::markdown(&c.name),
            c.count,
            c.baseline_7d,
            c.baseline_28d,
            signed_pct(c.change_pct),
            spike_word(c)
        );
    }
    let _ = writeln!(s);
    for c in &d.campaigns {
        let _ = writeln!(
            s,
            "### {} (`{}`): {} articles, {} from state outlets{}\n",
            escape::markdown(&c.name),
            c.id,
            c.count,
            percent(c.from_state, c.count),
            if c.spike { " — SPIKE" } else { "" }
        );
        let _ = writeln!(
            s,
            "Last {} days: `{}` (p {} against λ = {:.1})\n",
            c.history.len(),
            chart::sparkline(&c.history),
            if c.p_value < 0.001 {
                fmt_p(c.p_value)
            } else {
                format!("= {}", fmt_p(c.p_value))
            },
            c.expected
        );
        if c.count > 0 {
            for (label, m) in [
                ("affiliation", &c.split.affiliation),
                ("country", &c.split.country),
                ("language", &c.split.lang),
            ] {
                let parts: Vec<String> = split_line(m)
                    .into_iter()
                    .map(|(k, n)| format!("{} {n}", escape::markdown(&k)))
                    .collect();
                let _ = writeln!(s, "- By {label}: {}", parts.join(", "));
            }
            let _ = writeln!(s);
        }
        for a in &c.articles {
            let _ = writeln!(
                s,
                "- {} — {}; terms: {}",
                md_article(a),
                md_meta(a),
                a.terms
                    .iter()
                    .map(|t| escape::markdown(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if c.count > c.articles.len() {
            let _ = writeln!(s, "- … and {} more", c.count - c.articles.len());
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Amplification\n");
    if d.amplification.is_empty() {
        let _ = writeln!(s, "No story was published by two or more outlets.\n");
    }
    for cl in &d.amplification {
        let _ = writeln!(
            s,
            "- {} outlets{}: first {} — {}",
            cl.outlets,
            if cl.state_to_non_state {
                ", **state to non-state**"
            } else {
                ""
            },
            md_article(&cl.first),
            md_meta(&cl.first)
        );
        for c in &cl.copies {
            let _ = writeln!(
                s,
                "  - +{} min: {} — {}",
                c.delay_minutes,
                md_article(&c.article),
                md_meta(&c.article)
            );
        }
    }
    if !d.amplification.is_empty() {
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "### Forwards\n");
    if d.forwards.is_empty() {
        let _ = writeln!(s, "No post was forwarded in the period.\n");
    }
    for f in &d.forwards {
        let _ = writeln!(
            s,
            "- forwarded by {} {}{}: {}",
            f.channels,
            channels_word(f.channels),
            if f.state_to_non_state {
                ", **state to non-state**"
            } else {
                ""
            },
            md_origin(&f.origin)
        );
        for c in &f.forwards {
            let _ = writeln!(
                s,
                "  - {}{} — {}{}",
                delay_prefix(c),
                md_article(&c.article),
                md_meta(&c.article),
                md_views(c.views)
            );
        }
    }
    if !d.forwards.is_empty() {
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## Changed and removed\n");
    match changes_empty(&d.changes) {
        Some(why) => {
            let _ = writeln!(s, "{why}\n");
        }
        None => {
            for c in &d.changes.articles {
                let _ = writeln!(
                    s,
                    "- {} — {}; found {}: {}",
                    md_article(&c.article),
                    md_meta(&c.article),
                    c.changed_at,
                    escape::markdown(&c.summary)
                );
            }
            if d.changes.count > d.changes.articles.len() {
                let _ = writeln!(
                    s,
                    "- … and {} more",
                    d.changes.count - d.changes.articles.len()
                );
            }
            let _ = writeln!(s);
        }
    }
    let _ = writeln!(s, "## Coverage\n");
    if d.coverage.is_empty() {
        let _ = writeln!(s, "Every feed delivered.\n");
    } else {
        let _ = writeln!(
            s,
            "| feed | status | since | last article | last error |\n|---|---|---|---|---|"
        );
        for c in &d.coverage {
            let _ = writeln!(
                s,
                "| `{}` {} | {} | {} | {} | {} |",
                escape::markdown(&c.feed),
                escape::markdown(&c.name),
                c.status,
                c.since.as_deref().unwrap_or("never"),
                c.last_article.as_deref().unwrap_or("none"),
                escape::markdown(c.last_error.as_deref().unwrap_or(""))
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "## Feeds\n\n| feed | outlet | articles |\n|---|---|---:|"
    );
    for f in &d.feeds {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} |",
            escape::markdown(&f.id),
            escape::markdown(&f.name),
            f.count
        );
    }
    let _ = writeln!(s, "\n¹ {}", d.spike_rule);
    s
}

const CSS: &str = "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:60rem;margin:1rem auto;\
padding:0 .8rem;line-height:1.45;color:#222;background:#fff}\
h1{font-size:1.5rem}h2{font-size:1.25rem;border-bottom:2px solid #ddd;margin-top:2rem}h3{font-size:1.05rem}\
.wrap{overflow-x:auto}table{border-collapse:collapse;width:100%}\
td,th{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}\
.n{text-align:right;font-variant-numeric:tabular-nums}.meta{color:#555;font-size:.9em}\
li{margin:.35rem 0}.spike{color:#fff;background:#c0392b;padding:0 .35rem;border-radius:3px;font-weight:bold}\
.lead{font-size:1.05rem;background:#f4f6f8;padding:.6rem .8rem;border-radius:4px}\
.chart{width:100%;height:auto;max-width:600px;display:block}.note{color:#555;font-size:.85em}\
.camp{break-inside:avoid}code{font-size:.9em}\
@media print{body{max-width:none}a{color:inherit;text-decoration:none}h2{break-after:avoid}}";

fn html_article(a: &DigestArticle) -> String {
    format!(
        "<a href=\"{}\" rel=\"noreferrer noopener\">{}</a> <span class=\"meta\">{} ({}, {}, {}), {}</span>",
        safe_href(&a.url),
        escape::html(&a.title),
        escape::html(&a.source_name),
        a.affiliation,
        escape::html(a.country.as_deref().unwrap_or("-")),
        escape::html(&a.lang),
        escape::html(&a.published)
    )
}

fn html_origin(o: &ForwardOrigin) -> String {
    match &o.article {
        Some(a) => format!("{}{}", html_article(a), html_views(o.views)),
        None => format!(
            "<a href=\"{}\" rel=\"noreferrer noopener\">{}{}</a> <span class=\"meta\">not archived</span>",
            safe_href(&o.url),
            escape::html(&o.name),
            o.channel
                .as_deref()
                .map(|c| format!(" (@{})", escape::html(c)))
                .unwrap_or_default()
        ),
    }
}

fn html_views(views: Option<u64>) -> String {
    views.map_or_else(String::new, |v| {
        format!(" <span class=\"meta\">{v} views</span>")
    })
}

fn render_html(d: &Digest) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<title>mediawatch digest {p}</title><style>{CSS}</style></head><body>\n",
        p = escape::html(&period(d))
    );
    let _ = writeln!(s, "<h1>mediawatch digest for {}</h1>", period(d));
    let _ = writeln!(
        s,
        "<p class=\"lead\" id=\"headline\"><b>{} articles</b> archived; {} of {} feeds delivered; {} ({}) \
         from state-affiliated outlets; campaigns that spiked: {}.</p>",
        d.total,
        d.feeds_delivered,
        d.feeds_configured,
        d.from_state,
        percent(d.from_state, d.total),
        if d.spiking.is_empty() {
            "none".to_string()
        } else {
            d.spiking
                .iter()
                .map(|c| format!("<span class=\"spike\">{}</span>", escape::html(c)))
                .collect::<Vec<_>>()
                .join(" ")
        }
    );
    let _ = writeln!(
        s,
        "<h2>Campaigns</h2><div class=\"wrap\"><table><tr><th>campaign</th><th class=\"n\">articles</th>\
         <th class=\"n\">7-day mean</th><th class=\"n\">28-day mean</th><th class=\"n\">change</th>\
         <th>spike<a href=\"#rule\">¹</a></th></tr>"
    );
    for c in &d.campaigns {
        let _ = writeln!(
            s,
            "<tr><td><a href=\"#c-{id}\">{}</a></td><td class=\"n\">{}</td><td class=\"n\">{:.1}</td>\
             <td class=\"n\">{:.1}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape::html(&c.name),
            c.count,
            c.baseline_7d,
            c.baseline_28d,
            signed_pct(c.change_pct),
            if c.spike {
                "<span class=\"spike\">SPIKE</span>"
            } else {
                "-"
            },
            id = escape::html(&c.id)
        );
    }
    let _ = writeln!(s, "</table></div>");
    for c in &d.campaigns {
        let _ = writeln!(
            s,
            "<section class=\"camp\" id=\"c-{}\"><h3>{} <code>{}</code>: {} articles, {} from state outlets{}</h3>",
            escape::html(&c.id),
            escape::html(&c.name),
            escape::html(&c.id),
            c.count,
            percent(c.from_state, c.count),
            if c.spike {
                " <span class=\"spike\">SPIKE</span>"
            } else {
                ""
            }
        );
        s.push_str(&chart::svg(
            &c.history,
            d.from,
            c.baseline_28d,
            c.spike,
            &format!(
                "{}: articles per day, {} to {}",
                c.name,
                c.history.first().map(|h| h.date).unwrap_or(d.from),
                d.to
            ),
        ));
        let _ = writeln!(
            s,
            "\n<p class=\"note\">Bars: articles per day; dashed line: 28-day mean. p {} against λ = {:.1}.</p>",
            if c.p_value < 0.001 { fmt_p(c.p_value) } else { format!("= {}", fmt_p(c.p_value)) },
            c.expected
        );
        if c.count > 0 {
            let _ = write!(s, "<ul class=\"meta\">");
            for (label, m) in [
                ("affiliation", &c.split.affiliation),
                ("country", &c.split.country),
                ("language", &c.split.lang),
            ] {
                let parts: Vec<String> = split_line(m)
                    .into_iter()
                    .map(|(k, n)| format!("{} {n}", escape::html(&k)))
                    .collect();
                let _ = write!(s, "<li>By {label}: {}</li>", parts.join(", "));
            }
            let _ = writeln!(s, "</ul>");
        }
        let _ = writeln!(s, "<ol>");
        for a in &c.articles {
            let _ = writeln!(
                s,
                "<li>{}; terms: {}</li>",
                html_article(a),
                escape::html(&a.terms.join(", "))
            );
        }
        let _ = writeln!(s, "</ol>");
        if c.count > c.articles.len() {
            let _ = writeln!(
                s,
                "<p class=\"note\">… and {} more</p>",
                c.count - c.articles.len()
            );
        }
        let _ = writeln!(s, "</section>");
    }
    let _ = writeln!(s, "<h2 id=\"amplification\">Amplification</h2>");
    if d.amplification.is_empty() {
        let _ = writeln!(s, "<p>No story was published by two or more outlets.</p>");
    }
    for cl in &d.amplification {
        let _ = writeln!(
            s,
            "<section class=\"camp\"><p><b>{} outlets</b>{}: first {}</p><ul>",
            cl.outlets,
            if cl.state_to_non_state {
                " <span class=\"spike\">state to non-state</span>"
            } else {
                ""
            },
            html_article(&cl.first)
        );
        for c in &cl.copies {
            let _ = writeln!(
                s,
                "<li>+{} min: {}</li>",
                c.delay_minutes,
                html_article(&c.article)
            );
        }
        let _ = writeln!(s, "</ul></section>");
    }
    let _ = writeln!(s, "<h3 id=\"forwards\">Forwards</h3>");
    if d.forwards.is_empty() {
        let _ = writeln!(s, "<p>No post was forwarded in the period.</p>");
    }
    for f in &d.forwards {
        let _ = writeln!(
            s,
            "<section class=\"camp\"><p><b>forwarded by {} {}</b>{}: {}</p><ul>",
            f.channels,
            channels_word(f.channels),
            if f.state_to_non_state {
                " <span class=\"spike\">state to non-state</span>"
            } else {
                ""
            },
            html_origin(&f.origin)
        );
        for c in &f.forwards {
            let _ = writeln!(
                s,
                "<li>{}{}{}</li>",
                delay_prefix(c),
                html_article(&c.article),
                html_views(c.views)
            );
        }
        let _ = writeln!(s, "</ul></section>");
    }
    let _ = writeln!(s, "<h2 id=\"changes\">Changed and removed</h2>");
    match changes_empty(&d.changes) {
        Some(why) => {
            let _ = writeln!(s, "<p>{why}</p>");
        }
        None => {
            let _ = writeln!(s, "<ul>");
            for c in &d.changes.articles {
                let _ = writeln!(
                    s,
                    "<li>{} <span class=\"meta\">found {}:</span> {}</li>",
                    html_article(&c.article),
                    escape::html(&c.changed_at),
                    escape::html(&c.summary)
                );
            }
            let _ = writeln!(s, "</ul>");
            if d.changes.count > d.changes.articles.len() {
                let _ = writeln!(
                    s,
                    "<p class=\"note\">… and {} more</p>",
                    d.changes.count - d.changes.articles.len()
                );
            }
        }
    }
    let _ = writeln!(s, "<h2 id=\"coverage\">Coverage</h2>");
    if d.coverage.is_empty() {
        let _ = writeln!(s, "<p>Every feed delivered.</p>");
    } else {
        let _ = writeln!(
            s,
            "<div class=\"wrap\"><table><tr><th>feed</th><th>status</th><th>since</th><th>last article</th>\
             <th>last error</th></tr>"
        );
        for c in &d.coverage {
            let _ = writeln!(
                s,
                "<tr><td><code>{}</code> {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape::html(&c.feed),
                escape::html(&c.name),
                escape::html(&c.status),
                escape::html(c.since.as_deref().unwrap_or("never")),
                escape::html(c.last_article.as_deref().unwrap_or("none")),
                escape::html(c.last_error.as_deref().unwrap_or(""))
            );
        }
        let _ = writeln!(s, "</table></div>");
    }
    let _ = writeln!(
        s,
        "<h2>Feeds</h2><div class=\"wrap\"><table><tr><th>feed</th><th>outlet</th><th class=\"n\">articles</th></tr>"
    );
    for f in &d.feeds {
        let _ = writeln!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td></tr>",
            escape::html(&f.id),
            escape::html(&f.name),
            f.count
        );
    }
    let _ = writeln!(s, "</table></div>");
    let _ = writeln!(
        s,
        "<p class=\"note\" id=\"rule\">¹ {}</p></body></html>",
        escape::html(&d.spike_rule)
    );
    s
}
