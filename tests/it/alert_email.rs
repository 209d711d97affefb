//! Alert email (issue #27): a real SMTP conversation with a small SMTP server started by the test on
//! 127.0.0.1 (Python's standard library no longer has one): the envelope, both parts of the mail, a
//! hostile title escaped in the HTML part, links for http(s) only; STARTTLS required by default (a relay
//! that does not offer it, or fails it, gets nothing in clear text); a 5xx refusal is recorded as failed.

use std::sync::{Arc, Mutex};

use base64::Engine;
use chrono::{Duration, Utc};
use mediawatch::alert::deliver::Deliverer;
use mediawatch::config::SmtpSettings;
use mediawatch::pipeline::{self, PassOptions};
use mediawatch::store::DeliveryState;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::support::{mount, one_item_rss, site_server, write_config};

/// What one SMTP connection carried: the commands, and the mail of each DATA.
#[derive(Debug, Default, Clone)]
struct Session {
    commands: Vec<String>,
    mails: Vec<String>,
}

/// A minimal SMTP server (RFC 5321's happy path): offers STARTTLS if `starttls` (and answers the
/// command 454, no TLS here), answers RCPT with `rcpt_reply`. Returns its port and its sessions.
async fn smtp_server(starttls: bool, rcpt_reply: &'static str) -> (u16, Arc<Mutex<Vec<Session>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sessions: Arc<Mutex<Vec<Session>>> = Arc::default();
    let record = Arc::clone(&sessions);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let record = Arc::clone(&record);
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                let index = {
                    let mut s = record.lock().unwrap();
                    s.push(Session::default());
                    s.len() - 1
                };
                let _ = write.write_all(b"220 test.local ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    record.lock().unwrap()[index].commands.push(line.clone());
                    let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
                    let reply: &str = match verb.as_str() {
                        "EHLO" if starttls => "250-test.local\r\n250-STARTTLS\r\n250 8BITMIME\r\n",
                        "EHLO" => "250-test.local\r\n250 8BITMIME\r\n",
                        "HELO" => "250 test.local\r\n",
                        "STARTTLS" => "454 4.7.0 TLS not available\r\n",
                        "MAIL" | "RSET" | "NOOP" => "250 2.0.0 OK\r\n",
                        "RCPT" => rcpt_reply,
                        "DATA" => {
                            let _ = write.write_all(b"354 go ahead\r\n").await;
                            let mut mail = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                mail.push_str(l.strip_prefix('.').unwrap_or(&l));
                                mail.push('\n');
                            }
                            record.lock().unwrap()[index].mails.push(mail);
                            "250 2.0.0 queued\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 2.0.0 bye\r\n").await;
                            break;
                        }
                        _ => "500 5.5.1 unknown command\r\n",
                    };
                    if write.write_all(reply.as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    (port, sessions)
}

/// A header's value in a block of headers (unfolded).
fn header(block: &str, name: &str) -> Option<String> {
    let mut out: Option<String> = None;
    for line in block.lines() {
        if let Some(v) = &mut out {
            if line.starts_with([' ', '\t']) {
                v.push_str(line.trim_start());
                continue;
            }
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case(name) {
                out = Some(v.trim().to_string());
            }
        }
    }
    out
}

/// The mail's parts: (content type, decoded body), from its multipart/alternative body.
fn parts(mail: &str) -> Vec<(String, String)> {
    let (head, body) = mail.split_once("\n\n").unwrap();
    let ctype = header(head, "Content-Type").unwrap();
    assert!(ctype.starts_with("multipart/alternative"), "{ctype}");
    let boundary = ctype
        .split("boundary=")
        .nth(1)
        .unwrap()
        .trim_matches('"')
        .to_string();
    body.split(&format!("--{boundary}"))
        .filter_map(|p| {
            let (h, b) = p.trim_start_matches('\n').split_once("\n\n")?;
            let t = header(h, "Content-Type")?;
            assert_eq!(
                header(h, "Content-Transfer-Encoding").as_deref(),
                Some("base64")
            );
            let b64: String = b.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            // Line ends travel as CRLF.
            Some((t, String::from_utf8(bytes).unwrap().replace("\r\n", "\n")))
        })
        .collect()
}

/// The fixture site plus a feed whose one item has a hostile title; the alert mails what it matches.
async fn setup(dir: &std::path::Path, smtp: &str) -> (wiremock::MockServer, std::path::PathBuf) {
    let site = site_server().await;
    // Tags are stripped from feed titles; what is left of a hostile one still has `<`, `>`, `&`, quotes.
    let title = "&lt;b&gt;Taiwan&lt;/b&gt; &amp; \"independence\" &lt;'img src=x onerror=alert(1)'&gt; 1&lt;2";
    mount(
        &site,
        "/feeds/extra.xml",
        200,
        &one_item_rss("/articles/extra.html", title),
        None,
        None,
    )
    .await;
    let extra = format!(
        "[[feeds]]\nid = \"fx-extra\"\nurl = \"{}/feeds/extra.xml\"\naffiliation = \"state\"\n\n\
         {smtp}\n\
         [[alerts]]\nid = \"tw\"\nname = \"Taiwan watch\"\nquery = \"taiwan\"\nfeed = \"fx-extra\"\n\
         email = [\"desk@example.org\", \"second@example.org\"]\n",
        site.uri()
    );
    let config = write_config(dir, &site.uri(), 5, &extra);
    (site, config)
}

const HOSTILE: &str = "Taiwan & \"independence\" <'img src=x onerror=alert(1)'> 1<2";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_alert_is_a_real_smtp_conversation_with_both_parts_and_the_title_escaped() {
    let (port, sessions) = smtp_server(false, "250 2.1.5 OK\r\n").await;
    let dir = tempfile::tempdir().unwrap();
    let smtp = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nstarttls = false\nfrom = \"mw@example.org\"\n"
    );
    let (site, config) = setup(dir.path(), &smtp).await;
    let p = pipeline::open_from(&config).unwrap();
    let report = pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    assert_eq!(report.alert_messages, 1, "{report}");
    let outbox = p.store.outbox().unwrap();
    let entry = &outbox[0];
    assert_eq!(entry.message.articles[0].title, HOSTILE);
    let targets: Vec<(&str, &str)> = entry
        .deliveries
        .iter()
        .map(|d| (d.channel.as_str(), d.target.as_str()))
        .collect();
    assert_eq!(
        targets,
        [
            ("email", "desk@example.org"),
            ("email", "second@example.org")
        ]
    );

    let deliverer = Deliverer::new("t")
        .unwrap()
        .with_smtp(p.config.smtp.clone());
    let done = deliverer.deliver_due(&p.store, Utc::now()).await.unwrap();
    assert_eq!((done.delivered, done.retrying, done.failed), (2, 0, 0));

    let got = sessions.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "one conversation per address: {got:?}");
    for (s, to) in got.iter().zip(["desk@example.org", "second@example.org"]) {
        assert!(s.commands[0].starts_with("EHLO "), "{:?}", s.commands);
        assert!(
            s.commands
                .contains(&"MAIL FROM:<mw@example.org>".to_string()),
            "{:?}",
            s.commands
        );
        assert!(
            s.commands.contains(&format!("RCPT TO:<{to}>")),
            "{:?}",
            s.commands
        );
        assert!(!s.commands.iter().any(|c| c.starts_with("STARTTLS")));
        assert_eq!(s.mails.len(), 1);
        let mail = &s.mails[0];
        let head = mail.split_once("\n\n").unwrap().0;
        assert_eq!(header(head, "From").as_deref(), Some("mw@example.org"));
        assert_eq!(header(head, "To").as_deref(), Some(to));
        assert_eq!(
            header(head, "Subject").as_deref(),
            Some("[mediawatch] Taiwan watch: 1 new article")
        );
        assert_eq!(
            header(head, "Message-ID"),
            Some(format!("<{}@mediawatch>", entry.idempotency_key))
        );
        let parts = parts(mail);
        let types: Vec<&str> = parts.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            types,
            ["text/plain; charset=utf-8", "text/html; charset=utf-8"]
        );
        let (text, html) = (&parts[0].1, &parts[1].1);
        let url = format!("{}/articles/extra.html", site.uri());
        // Text: the title as it is, the link as text.
        assert!(text.contains(&format!("- {HOSTILE}\n")), "{text}");
        assert!(text.contains(&url), "{text}");
        // HTML: the title escaped (no element from the feed survives), the http link a link.
        assert!(!html.contains("<'img") && !html.contains("1<2"), "{html}");
        assert!(
            html.contains(&format!(
                "<a href=\"{url}\">Taiwan &amp; &quot;independence&quot; \
                 &lt;&#39;img src=x onerror=alert(1)&#39;&gt; 1&lt;2</a>"
            )),
            "{html}"
        );
    }
    for d in &p.store.outbox().unwrap()[0].deliveries {
        assert_eq!(d.state, DeliveryState::Delivered, "{d:?}");
    }
    // Delivered once: a later round sends nothing.
    let done = deliverer
        .deliver_due(&p.store, Utc::now() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(done.delivered + done.retrying + done.failed, 0);
    assert_eq!(sessions.lock().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_needs_starttls_by_default_and_a_5xx_refusal_is_failed() {
    let (port, with_tls) = smtp_server(true, "250 2.1.5 OK\r\n").await;
    let dir = tempfile::tempdir().unwrap();
    // STARTTLS is the default: the config does not say it.
    let smtp = format!("[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nfrom = \"mw@example.org\"\n");
    let (_site, config) = setup(dir.path(), &smtp).await;
    let p = pipeline::open_from(&config).unwrap();
    assert!(p.config.smtp.as_ref().unwrap().starttls);
    pipeline::ingest_pass(&p, &PassOptions::default())
        .await
        .unwrap();
    let settings = |port: u16, starttls: bool| SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        starttls,
        from: "mw@example.org".into(),
        user_env: None,
        password_env: None,
    };

    // A relay that offers STARTTLS but fails it: the client asked for it and sent nothing else.
    let deliverer = Deliverer::new("t")
        .unwrap()
        .with_smtp(p.config.smtp.clone());
    let done = deliverer.deliver_due(&p.store, Utc::now()).await.unwrap();
    assert_eq!((done.delivered, done.retrying, done.failed), (0, 2, 0));
    let got = with_tls.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    for s in &got {
        assert!(
            s.commands.iter().any(|c| c == "STARTTLS"),
            "{:?}",
            s.commands
        );
        assert!(!s
            .commands
            .iter()
            .any(|c| c.starts_with("MAIL") || c.starts_with("RCPT")));
        assert!(s.mails.is_empty());
    }

    // A relay that does not offer STARTTLS: nothing in clear text either; the error says why.
    let (port, plain) = smtp_server(false, "250 2.1.5 OK\r\n").await;
    let deliverer = Deliverer::new("t")
        .unwrap()
        .with_smtp(Some(settings(port, true)));
    let done = deliverer
        .deliver_due(&p.store, Utc::now() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!((done.delivered, done.retrying, done.failed), (0, 2, 0));
    let got = plain.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got
        .iter()
        .all(|s| s.mails.is_empty() && !s.commands.iter().any(|c| c.starts_with("MAIL"))));
    let d = &p.store.outbox().unwrap()[0].deliveries[0];
    assert_eq!(d.state, DeliveryState::Pending);
    let error = d.last_error.as_deref().unwrap();
    assert!(error.contains("STARTTLS is required"), "{error}");

    // A relay that refuses the recipient for good (550): recorded as failed, not retried.
    let (port, refusing) = smtp_server(false, "550 5.1.1 no such user\r\n").await;
    let deliverer = Deliverer::new("t")
        .unwrap()
        .with_smtp(Some(settings(port, false)));
    let done = deliverer
        .deliver_due(&p.store, Utc::now() + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!((done.delivered, done.retrying, done.failed), (0, 0, 2));
    let d = &p.store.outbox().unwrap()[0].deliveries[0];
    assert_eq!(d.state, DeliveryState::Failed);
    assert!(d.last_error.as_deref().unwrap().contains("550"), "{d:?}");
    assert!(refusing.lock().unwrap().iter().all(|s| s.mails.is_empty()));
    let done = deliverer
        .deliver_due(&p.store, Utc::now() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(done.delivered + done.retrying + done.failed, 0);
}
