//! The fuzz targets: one per parser that reads bytes from the network or from users. Shared by the
//! mutation harness (`examples/fuzz/main.rs`, `make fuzz`) and the regression test that replays the
//! inputs kept under `tests/fixtures/fuzz/<target>/` (`tests/it/fuzz_regressions.rs`).
//!
//! A target only calls the parser: errors are fine, a panic is a finding.

use std::path::{Path, PathBuf};

use mediawatch::index::Archive;
use mediawatch::search::SearchRequest;
use url::Url;

/// The target names, in the order `make fuzz` runs them.
pub const TARGETS: &[&str] = &[
    "feed", "sitemap", "telegram", "section", "charset", "extract", "query", "config",
];

/// What a target needs besides the input: a base URL, an empty archive for the query target (built once),
/// and the repository root (the config target parses as if the text were `feeds.toml` there).
pub struct Context {
    base: Url,
    archive: Archive,
    repo: PathBuf,
    _dir: tempfile::TempDir,
}

impl Context {
    /// Builds the context; `repo` is the repository root.
    pub fn new(repo: &Path) -> Context {
        let dir = tempfile::tempdir().expect("temp dir for the query target's archive");
        let archive = Archive::open_or_create(dir.path()).expect("empty archive");
        Context {
            base: Url::parse("https://news.example.org/world/index.html").expect("static url"),
            archive,
            repo: repo.to_path_buf(),
            _dir: dir,
        }
    }

    /// Runs `target` on `input`. Unknown target names panic (a harness bug, not a finding).
    pub fn run(&self, target: &str, input: &[u8]) {
        let ct = Some("text/html");
        match target {
            "feed" => {
                let _ = mediawatch::source::feed::parse("fz", input, None, &self.base, 500);
                let _ = mediawatch::source::feed::parse(
                    "fz",
                    input,
                    Some("application/rss+xml; charset=windows-1251"),
                    &self.base,
                    500,
                );
            }
            "sitemap" => {
                let _ = mediawatch::source::sitemap::parse("fz", input, &self.base);
            }
            "telegram" => {
                let _ = mediawatch::source::telegram::parse("fz", input, ct, &self.base);
            }
            "section" => {
                let rules = mediawatch::source::section::LinkRules {
                    selector: "article a, h2 a, .headline".to_string(),
                    include: vec![regex::Regex::new("/(world|news|\\d{4})/").expect("static")],
                    exclude: vec![regex::Regex::new("/tag/").expect("static")],
                    same_site: true,
                };
                let _ = mediawatch::source::section::parse("fz", input, ct, &self.base, &rules);
            }
            "charset" => {
                let _ = mediawatch::charset::decode(input, None);
                let _ = mediawatch::charset::decode(input, Some("text/html; charset=gb2312"));
                let _ = mediawatch::charset::decode(input, Some("text/xml; charset=\"koi8-r\""));
            }
            "extract" => {
                let html = String::from_utf8_lossy(input);
                let _ = mediawatch::extract::extract(&html, Some(&self.base));
            }
            "query" => {
                let req = SearchRequest {
                    query: String::from_utf8_lossy(input).into_owned(),
                    limit: 10,
                    ..SearchRequest::default()
                };
                let _ = mediawatch::search::search(&self.archive, &req);
            }
            "config" => {
                let text = String::from_utf8_lossy(input);
                let _ = mediawatch::config::parse(&text, &self.repo.join("feeds.toml"));
            }
            other => panic!("unknown fuzz target {other:?} (known: {TARGETS:?})"),
        }
    }
}
