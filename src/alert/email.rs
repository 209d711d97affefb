//! Alert email: one message per address, through the `[smtp]` relay (lettre, rustls). The mail has a
//! plain-text and an HTML part ([`render`]): archived text (titles, outlets, snippets) is escaped with
//! [`crate::escape::html`] in the HTML part and stripped of control characters in the text part, and
//! only http(s) URLs ([`crate::escape::http_url`]) become links. STARTTLS is required unless the config
//! says `starttls = false` (a local relay): a relay that does not offer it gets nothing in clear text.
//! Credentials are read from the variables `user_env`/`password_env` name at each attempt.

use std::fmt::Write;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::Outcome;
use crate::config::SmtpSettings;
use crate::escape;
use crate::model::AlertMessage;

/// Time allowed for each SMTP command of one attempt.
const TIMEOUT: Duration = Duration::from_secs(10);

/// A message's mail: subject, plain-text part, HTML part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line (no line breaks).
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
}

/// Text from the archive or the config on one line, with control characters (line breaks included)
/// turned into spaces: a title cannot fake lines in the text part or the subject.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The mail of an alert message.
pub fn render(m: &AlertMessage) -> Rendered {
    let name = if m.name.is_empty() { &m.alert } else { &m.name };
    let count = if m.total == 1 {
        "1 new article".to_string()
    } else {
        format!("{} new articles", m.total)
    };
    let subject = one_line(&format!("[mediawatch] {name}: {count}"));
    let mut text = String::new();
    let _ = writeln!(text, "{}", one_line(name));
    let _ = writeln!(
        text,
        "Alert {} ({}), fired {}: {count}.\n",
        one_line(&m.alert),
        one_line(&m.query),
        m.fired_at
    );
    let mut html =
        String::from("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n");
    let _ = writeln!(
        html,
        "<h1>{}</h1>\n<p>Alert <code>{}</code> (<code>{}</code>), fired {}: {count}.</p>\n<ol>",
        escape::html(name),
        escape::html(&m.alert),
        escape::html(&m.query),
        escape::html(&m.fired_at)
    );
    for a in &m.articles {
        let published = a.published.as_deref().unwrap_or("undated");
        let campaigns = if a.campaigns.is_empty() {
            String::new()
        } else {
            format!(", campaigns: {}", a.campaigns.join(", "))
        };
        let meta = format!(
            "{} ({}, {}), {}, {published}{campaigns}",
            a.source_name, a.affiliation, a.lang, a.feed
        );
        let _ = writeln!(text, "- {}", one_line(&a.title));
        let _ = writeln!(text, "  {}", one_line(&meta));
        let _ = writeln!(text, "  {}", one_line(&a.url));
        if !a.snippet.is_empty() {
            let _ = writeln!(text, "  {}", one_line(&a.snippet));
        }
        text.push('\n');
        let title = escape::html(&a.title);
        let title = match escape::http_url(&a.url) {
            Some(u) => format!("<a href=\"{}\">{title}</a>", escape::html(u.as_str())),
            // Not an http(s) link: shown as text, never linked.
            None => format!("{title} <small>{}</small>", escape::html(&a.url)),
        };
        let _ = writeln!(
            html,
            "<li><p>{title}<br><small>{}</small></p><p>{}</p></li>",
            escape::html(&meta),
            escape::html(&a.snippet)
        );
    }
    html.push_str("</ol>\n");
    if m.more > 0 {
        let _ = writeln!(text, "... and {} more.", m.more);
        let _ = writeln!(html, "<p>... and {} more.</p>", m.more);
    }
    html.push_str("</body></html>\n");
    Rendered {
        subject,
        text,
        html,
    }
}

/// Sends `message` to `to` through the relay, under `Message-ID: <key@mediawatch>` (the outbox entry's
/// idempotency key: the same for every attempt).
pub async fn send(smtp: &SmtpSettings, message: &AlertMessage, key: &str, to: &str) -> Outcome {
    let mail = match build(smtp, message, key, to) {
        Ok(mail) => mail,
        Err(why) => return Outcome::Refused(why),
    };
    let transport = match transport(smtp) {
        Ok(t) => t,
        Err(o) => return o,
    };
    match transport.send(mail).await {
        Ok(_) => Outcome::Delivered,
        Err(e) => {
            let why = format!(
                "smtp {}:{}: {}",
                smtp.host,
                smtp.port,
                super::error_chain(&e)
            );
            if e.is_permanent() {
                Outcome::Refused(why)
            } else if smtp.starttls && (e.is_tls() || e.is_client()) {
                Outcome::Retry(format!(
                    "{why} (STARTTLS is required unless [smtp] says starttls = false, for a local relay \
                     only; nothing was sent in clear text)"
                ))
            } else {
                Outcome::Retry(why)
            }
        }
    }
}

/// The mail itself: both parts base64-encoded (any script, any line length).
fn build(
    smtp: &SmtpSettings,
    message: &AlertMessage,
    key: &str,
    to: &str,
) -> Result<Message, String> {
    let from: Mailbox = smtp
        .from
        .parse()
        .map_err(|e| format!("smtp.from {:?} is not an address: {e}", smtp.from))?;
    let to_box: Mailbox = to.parse().map_err(|e| {
        format!(
            "alert {:?}: email {to:?} is not an address: {e}",
            message.alert
        )
    })?;
    let r = render(message);
    Message::builder()
        .from(from)
        .to(to_box)
        .subject(r.subject)
        .message_id(Some(format!("<{key}@mediawatch>")))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .header(ContentTransferEncoding::Base64)
                        .body(r.text),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .header(ContentTransferEncoding::Base64)
                        .body(r.html),
                ),
        )
        .map_err(|e| format!("cannot build the alert mail: {e}"))
}

/// The relay's client for one attempt, with the credentials read now.
fn transport(smtp: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, Outcome> {
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .timeout(Some(TIMEOUT));
    b = if smtp.starttls {
        // Installing twice is harmless; lettre takes rustls's default provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let params = TlsParameters::new(smtp.host.clone()).map_err(|e| {
            Outcome::Refused(format!("smtp.host {:?}: cannot set up TLS: {e}", smtp.host))
        })?;
        b.tls(Tls::Required(params))
    } else {
        b.tls(Tls::None)
    };
    let read = |name: &Option<String>, key: &str| -> Result<Option<String>, Outcome> {
        match name {
            None => Ok(None),
            Some(n) => match std::env::var(n) {
                Ok(v) if !v.is_empty() => Ok(Some(v)),
                _ => Err(Outcome::Retry(format!(
                    "the environment variable {n} (smtp.{key}) is unset: set it and restart"
                ))),
            },
        }
    };
    let user = read(&smtp.user_env, "user_env")?;
    let password = read(&smtp.password_env, "password_env")?;
    if user.is_some() || password.is_some() {
        // A password alone logs in as the sender address.
        let user = user.unwrap_or_else(|| smtp.from.clone());
        b = b.credentials(Credentials::new(user, password.unwrap_or_default()));
    }
    Ok(b.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AlertArticle;

    fn message(title: &str, url: &str) -> AlertMessage {
        AlertMessage {
            alert: "tw".into(),
            name: "Taiwan\r\nBcc: evil@example.org".into(),
            query: "taiwan".into(),
            fired_at: "2026-12-07T15:00:00Z".into(),
            articles: vec![AlertArticle {
                id: "a1".into(),
                url: url.into(),
                title: title.into(),
                feed: "f".into(),
                source_name: "Outlet & <Co>".into(),
                affiliation: "state".into(),
                country: None,
                lang: "en".into(),
                published: Some("2026-12-07T14:00:00Z".into()),
                campaigns: vec!["fx-taiwan".into()],
                snippet: "<b>x</b>".into(),
            }],
            total: 3,
            more: 2,
        }
    }

    #[test]
    fn archived_text_is_escaped_and_only_http_links_are_links() {
        let r = render(&message(
            "<script>alert(1)</script>\nline",
            "javascript:alert(1)",
        ));
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(r.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!r.html.contains("href"), "{}", r.html);
        assert!(r.html.contains("Outlet &amp; &lt;Co&gt;"));
        assert!(r.html.contains("&lt;b&gt;x&lt;/b&gt;"));
        // The text part keeps the title readable, on one line.
        assert!(
            r.text.contains("- <script>alert(1)</script> line\n"),
            "{}",
            r.text
        );
        assert!(r.text.contains("... and 2 more."));
        // No line break reaches the subject.
        assert_eq!(
            r.subject,
            "[mediawatch] Taiwan  Bcc: evil@example.org: 3 new articles"
        );

        let r = render(&message("T", "https://x.example/a?b=1&c=\"2\""));
        assert!(
            r.html
                .contains("<a href=\"https://x.example/a?b=1&amp;c=%222%22\">T</a>"),
            "{}",
            r.html
        );
    }
}
