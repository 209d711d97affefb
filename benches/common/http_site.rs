//! The local HTTP/1.1 server the pipeline benches poll (poll_feeds, soak): keep-alive connections, GET and
//! HEAD without bodies, `If-None-Match` passed to the site, on its own thread and single-threaded runtime
//! (like a separate process). What it answers is the bench's [`Site`].

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// Longest request head read (request line and headers); a longer one closes the connection.
const MAX_HEAD: usize = 16 * 1024;

/// What a bench's site answers.
pub trait Site: Send + Sync + 'static {
    /// Answers one GET of `path`: status line, headers and body.
    fn respond(
        &self,
        path: &str,
        if_none_match: Option<&str>,
    ) -> (&'static str, Vec<String>, Vec<u8>);

    /// Told the size of every answer written (headers and body).
    fn sent(&self, _bytes: usize) {}
}

/// Starts the server for `site` on 127.0.0.1 (a free port), on a thread named `thread`.
pub fn start<S: Site>(site: Arc<S>, thread: &str) -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(thread.into())
        .spawn(move || {
            rt.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    tokio::spawn(serve_conn(Arc::clone(&site), stream));
                }
            });
        })?;
    Ok(addr)
}

/// One keep-alive HTTP/1.1 connection: requests without bodies, answered in order.
async fn serve_conn<S: Site>(site: Arc<S>, stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut head_len = line.len();
        let mut if_none_match = None;
        let mut close = false;
        loop {
            line.clear();
            if read.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            head_len += line.len();
            if head_len > MAX_HEAD {
                return Ok(());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((name, value)) = l.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("if-none-match") {
                    if_none_match = Some(value.to_string());
                } else if name.eq_ignore_ascii_case("connection")
                    && value.eq_ignore_ascii_case("close")
                {
                    close = true;
                }
            }
        }
        let (status, headers, body) = if method == "GET" || method == "HEAD" {
            site.respond(&path, if_none_match.as_deref())
        } else {
            ("405 Method Not Allowed", Vec::new(), Vec::new())
        };
        let mut out = format!("HTTP/1.1 {status}\r\n");
        for h in &headers {
            out.push_str(h);
            out.push_str("\r\n");
        }
        if !status.starts_with("304") {
            out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        if close {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if method != "HEAD" {
            bytes.extend_from_slice(&body);
        }
        site.sent(bytes.len());
        write.write_all(&bytes).await?;
        if close {
            return Ok(());
        }
    }
}
