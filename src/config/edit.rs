//! Edits of `feeds.toml` in place that keep its comments and layout: appending feeds ([`append_feed`],
//! [`append_feeds`]) and filling in missing labels ([`fill_feed_labels`]). Every edit checks the current
//! file first and the edited text before it replaces the file, so a bad edit leaves the file untouched.

use std::collections::HashMap;
use std::path::Path;

use super::{parse, read, Config, ConfigError};

/// A new feed for [`append_feed`].
#[derive(Debug, Clone, Default)]
pub struct NewFeed {
    /// Unique id.
    pub id: String,
    /// Feed URL.
    pub url: String,
    /// Outlet name.
    pub name: Option<String>,
    /// state | independent | unknown.
    pub affiliation: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// ISO 639-1.
    pub language: Option<String>,
    /// `kind`: rss | sitemap | html | telegram (None and "rss" are not written: rss is the default).
    pub kind: Option<String>,
    /// `max_age_days` (sitemap).
    pub max_age_days: Option<u32>,
    /// `link_selector` (html, required there).
    pub link_selector: Option<String>,
    /// `include` URL regexes (html).
    pub include: Vec<String>,
    /// `exclude` URL regexes (html).
    pub exclude: Vec<String>,
    /// `same_site` (html).
    pub same_site: Option<bool>,
}

/// Appends a `[[feeds]]` table to the config file, keeping its comments and layout, after checking that
/// the result is still a valid config (so a bad id or a duplicate is refused and the file is untouched).
pub fn append_feed(path: &Path, feed: &NewFeed) -> Result<Config, ConfigError> {
    append_feeds(path, std::slice::from_ref(feed))
}

/// Appends several `[[feeds]]` tables at once (all or nothing), as [`append_feed`] does. Only the keys that
/// are set are written; a key that does not fit the feed's kind (`link_selector` on a sitemap, an html feed
/// without one) is refused by the config check with its own message.
pub fn append_feeds(path: &Path, new_feeds: &[NewFeed]) -> Result<Config, ConfigError> {
    let text = read(path)?;
    // Check the current file first, so its own errors are reported as such.
    parse(&text, path)?;
    let mut block = String::new();
    if !text.ends_with('\n') && !text.is_empty() {
        block.push('\n');
    }
    for feed in new_feeds {
        block.push_str("\n[[feeds]]\n");
        let mut kv = |k: &str, v: &str| {
            block.push_str(&format!(
                "{k} = {}\n",
                toml_edit::Value::from(v).to_string().trim()
            ));
        };
        kv("id", &feed.id);
        kv("url", &feed.url);
        if let Some(v) = &feed.name {
            kv("name", v);
        }
        if let Some(v) = &feed.affiliation {
            kv("affiliation", v);
        }
        if let Some(v) = &feed.country {
            kv("country", v);
        }
        if let Some(v) = &feed.language {
            kv("language", v);
        }
        write_kind_keys(&mut block, feed);
    }
    // `[[feeds]]` after `[[campaigns]]` is still valid TOML: arrays of tables may be split.
    replace_checked(path, &format!("{text}{block}"))
}

/// Writes `kind` (unless rss) and the kind's keys that are set, as TOML lines.
fn write_kind_keys(block: &mut String, feed: &NewFeed) {
    let mut line = |k: &str, v: toml_edit::Value| {
        block.push_str(&format!("{k} = {}\n", v.to_string().trim()));
    };
    if let Some(kind) = feed.kind.as_deref().filter(|k| *k != "rss") {
        line("kind", kind.into());
    }
    if let Some(days) = feed.max_age_days {
        line("max_age_days", i64::from(days).into());
    }
    if let Some(sel) = &feed.link_selector {
        line("link_selector", sel.as_str().into());
    }
    for (key, list) in [("include", &feed.include), ("exclude", &feed.exclude)] {
        if !list.is_empty() {
            line(
                key,
                toml_edit::Value::from_iter(list.iter().map(String::as_str)),
            );
        }
    }
    if let Some(same_site) = feed.same_site {
        line("same_site", same_site.into());
    }
}

/// Labels to fill in on one feed (only keys the feed does not have yet are written).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedLabels {
    /// state | independent.
    pub affiliation: Option<String>,
    /// State Media Monitor typology.
    pub typology: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

/// Writes missing labels into existing `[[feeds]]` tables, keeping comments and layout. An `affiliation`
/// of "unknown" counts as missing. The result is checked before the file is replaced.
pub fn fill_feed_labels(
    path: &Path,
    labels: &HashMap<String, FeedLabels>,
) -> Result<Config, ConfigError> {
    let text = read(path)?;
    parse(&text, path)?;
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        line: None,
        message: format!("{e}"),
    })?;
    if let Some(feeds) = doc
        .get_mut("feeds")
        .and_then(|f| f.as_array_of_tables_mut())
    {
        for table in feeds.iter_mut() {
            let Some(id) = table.get("id").and_then(|v| v.as_str()).map(str::to_string) else {
                continue;
            };
            let Some(l) = labels.get(&id) else { continue };
            let missing = |table: &toml_edit::Table, key: &str| {
                table
                    .get(key)
                    .and_then(|v| v.as_str())
                    .is_none_or(|v| key == "affiliation" && v == "unknown")
            };
            for (key, value) in [
                ("affiliation", &l.affiliation),
                ("typology", &l.typology),
                ("country", &l.country),
            ] {
                if let Some(v) = value {
                    if missing(table, key) {
                        table.insert(key, toml_edit::value(v.as_str()));
                    }
                }
            }
        }
    }
    replace_checked(path, &doc.to_string())
}

/// Checks `new_text` as a config and, when it is valid, replaces the file with it (through a temporary file
/// beside it, so the config is never half-written).
fn replace_checked(path: &Path, new_text: &str) -> Result<Config, ConfigError> {
    let checked = parse(new_text, path)?;
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, new_text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|error| ConfigError::Write {
            path: path.to_path_buf(),
            error,
        })?;
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_feed_keeps_comments_and_refuses_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feeds.toml");
        std::fs::write(
            &path,
            "# my feeds\n[[feeds]]\nid = \"a\" # first\nurl = \"http://x/\"\n",
        )
        .unwrap();
        let feed = NewFeed {
            id: "b".into(),
            url: "https://y.example/rss".into(),
            name: Some("Y \"news\"".into()),
            affiliation: Some("independent".into()),
            ..Default::default()
        };
        let c = append_feed(&path, &feed).unwrap();
        assert_eq!(c.feeds.len(), 2);
        assert_eq!(c.feeds[1].name, "Y \"news\"");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# my feeds\n[[feeds]]\nid = \"a\" # first\n"));
        let err = append_feed(&path, &feed).unwrap_err();
        assert!(err.message().contains("duplicate feed id"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn append_feed_writes_only_the_kind_keys_that_are_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feeds.toml");
        std::fs::write(
            &path,
            "[[feeds]]\nid = \"a\"\nurl = \"http://x.example/\"\n",
        )
        .unwrap();
        // rss: no kind line, so an added rss feed looks like one written before kinds existed.
        let rss = NewFeed {
            id: "b".into(),
            url: "https://y.example/rss".into(),
            kind: Some("rss".into()),
            ..Default::default()
        };
        append_feed(&path, &rss).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.ends_with("\n[[feeds]]\nid = \"b\"\nurl = \"https://y.example/rss\"\n"),
            "{text}"
        );
        let html = NewFeed {
            id: "c".into(),
            url: "https://y.example/world/".into(),
            kind: Some("html".into()),
            link_selector: Some("h2 > a".into()),
            include: vec!["/20\\d\\d/".into(), "/world/".into()],
            exclude: vec!["/video/".into()],
            same_site: Some(false),
            ..Default::default()
        };
        let c = append_feed(&path, &html).unwrap();
        assert_eq!(
            c.feeds[2].kind,
            crate::model::SourceKind::Html {
                link_selector: "h2 > a".into(),
                include: vec!["/20\\d\\d/".into(), "/world/".into()],
                exclude: vec!["/video/".into()],
                same_site: false,
            }
        );
        let sitemap = NewFeed {
            id: "d".into(),
            url: "https://y.example/news-sitemap.xml".into(),
            kind: Some("sitemap".into()),
            max_age_days: Some(7),
            ..Default::default()
        };
        let c = append_feed(&path, &sitemap).unwrap();
        assert_eq!(
            c.feeds[3].kind,
            crate::model::SourceKind::Sitemap { max_age_days: 7 }
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("kind = \"sitemap\"\nmax_age_days = 7\n"),
            "{text}"
        );
        assert!(text.contains("same_site = false\n"), "{text}");
    }

    #[test]
    fn append_feed_refuses_keys_of_another_kind_with_the_check_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feeds.toml");
        let original = "[[feeds]]\nid = \"a\"\nurl = \"http://x.example/\"\n";
        std::fs::write(&path, original).unwrap();
        let cases = [
            (
                NewFeed {
                    kind: Some("html".into()),
                    ..Default::default()
                },
                "kind = \"html\" needs link_selector",
            ),
            (
                NewFeed {
                    kind: Some("sitemap".into()),
                    link_selector: Some("a".into()),
                    ..Default::default()
                },
                "link_selector (html only) does not apply to kind = \"sitemap\"",
            ),
            (
                NewFeed {
                    max_age_days: Some(3),
                    ..Default::default()
                },
                "max_age_days (sitemap only) does not apply to kind = \"rss\"",
            ),
        ];
        for (feed, expected) in cases {
            let feed = NewFeed {
                id: "b".into(),
                url: "https://y.example/".into(),
                ..feed
            };
            let err = append_feed(&path, &feed).unwrap_err();
            assert!(err.message().contains(expected), "{err}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), original);
        }
    }
}
