//! Test support: the fixture site served on 127.0.0.1, configs written from its template.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mediawatch::index::Archive;
use mediawatch::model::Article;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The fixture site folder.
pub fn site_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/site")
}

/// Serves files of the fixture site like a plain static server (no charset in Content-Type).
struct SiteResponder;

impl Respond for SiteResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let rel = request.url.path().trim_start_matches('/');
        if rel.contains("..") {
            return ResponseTemplate::new(400);
        }
        let file = site_dir().join(rel);
        match std::fs::read(&file) {
            Ok(body) => {
                let ct = match file.extension().and_then(|e| e.to_str()) {
                    Some("xml") => "application/xml",
                    Some("html") => "text/html",
                    Some("css") => "text/css",
                    _ => "application/octet-stream",
                };
                ResponseTemplate::new(200)
                    .insert_header("content-type", ct)
                    .set_body_bytes(body)
            }
            Err(_) => ResponseTemplate::new(404).set_body_string("not found"),
        }
    }
}

/// Starts a server with the fixture site mounted as the fallback (lowest priority), so tests can mount
/// more specific mocks in front of it.
pub async fn site_server() -> MockServer {
    let server = MockServer::start().await;
    mount_site(&server).await;
    server
}

/// Mounts the fixture site as the fallback of `server` (again, after a `reset`).
pub async fn mount_site(server: &MockServer) {
    Mock::given(method("GET"))
        .respond_with(SiteResponder)
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

/// Writes `feeds.toml` for the fixture site into `dir`, with `extra` appended (more feeds) and
/// `timeout_secs` replaced.
pub fn write_config(dir: &Path, base: &str, timeout_secs: u64, extra: &str) -> PathBuf {
    let template = std::fs::read_to_string(site_dir().join("feeds.toml.template")).unwrap();
    let text = template.replace("{{BASE}}", base).replace(
        "timeout_secs = 5",
        &format!("timeout_secs = {timeout_secs}"),
    );
    let path = dir.join("feeds.toml");
    std::fs::write(&path, format!("{text}\n{extra}")).unwrap();
    path
}

/// A feed with one item linking to `link` (root-relative).
pub fn one_item_rss(link: &str, title: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Extra</title>
<item><title>{title}</title><link>{link}</link><guid>{link}</guid><pubDate>Tue, 24 Nov 2026 12:00:00 +0000</pubDate>
<description>Extra item about reunification talks.</description></item></channel></rss>"#
    )
}

/// Mounts `body` at `route` with an optional delay, for at most `times` requests (None: always).
pub async fn mount(
    server: &MockServer,
    route: &str,
    status: u16,
    body: &str,
    delay: Option<Duration>,
    times: Option<u64>,
) {
    let mut template = ResponseTemplate::new(status)
        .insert_header("content-type", "text/html; charset=utf-8")
        .set_body_string(body);
    if let Some(d) = delay {
        template = template.set_delay(d);
    }
    let mut mock = Mock::given(method("GET"))
        .and(path(route))
        .respond_with(template)
        .with_priority(1);
    if let Some(n) = times {
        mock = mock.up_to_n_times(n);
    }
    mock.mount(server).await;
}

/// Every archived article by URL; a URL archived twice fails the test.
pub fn all_articles(archive: &Archive) -> BTreeMap<String, Article> {
    let searcher = archive.searcher();
    let docs = searcher
        .search(
            &tantivy::query::AllQuery,
            &tantivy::collector::DocSetCollector,
        )
        .unwrap();
    let mut out = BTreeMap::new();
    for d in docs {
        let a = archive.article(&searcher, d).unwrap();
        let url = a.url.clone();
        assert!(
            out.insert(url.clone(), a).is_none(),
            "duplicate article {url}"
        );
    }
    out
}

/// How many requests `server` received for `route` (its path).
pub async fn requests_to(server: &MockServer, route: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == route)
        .count()
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary with `--config config`.
pub fn mw_with(config: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("mediawatch").unwrap();
    c.arg("--config").arg(config);
    c
}

/// Sends SIGTERM to a `run` (or `serve`) child and waits up to `within` for it to exit; returns how it
/// exited.
pub fn terminate(child: &mut std::process::Child, within: Duration) -> std::process::ExitStatus {
    let status = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the child did not stop on SIGTERM within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `mediawatch run` with `args` after it; its stderr lines arrive on the receiver.
pub fn start_run(
    config: &Path,
    args: &[&str],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    start(config, &[&["run"], args].concat())
}

/// Starts `mediawatch --config CONFIG ARGS...`; its stderr lines arrive on the receiver.
pub fn start(
    config: &Path,
    args: &[&str],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mediawatch"))
        .arg("--config")
        .arg(config)
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Runs `mediawatch --config CONFIG ARGS...` to its end and asserts it succeeded; returns its stdout.
/// (From an async test, call it inside `tokio::task::block_in_place`.)
pub fn mw_ok(config: &Path, args: &[&str]) -> String {
    let out = mw_with(config).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "mediawatch {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// One source's row of `feeds status --format json` (the command must succeed).
pub fn status_row(config: &Path, id: &str) -> serde_json::Value {
    let out = mw_ok(config, &["feeds", "status", "--format", "json"]);
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no status row for {id}: {rows}"))
}
