//! Revisits of archived articles, the decisions only (no I/O): when an article is due again, which of its
//! fields are compared and how they are normalised, whether a revisit found the same page, an earlier
//! version, a new one, a removal or nothing usable, and the schedule row kept per article
//! ([`RevisitState`]). The pass that fetches and stores is `pipeline::revisit`.
//!
//! Only extracted fields are compared (title, text, publication time, byline), so a page whose ads or
//! boilerplate change makes no version. A page that flips between texts makes no more versions than it
//! has distinct texts: a revisit that finds an earlier version's fields records a return to it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use unicode_normalization::UnicodeNormalization as _;

use crate::model::{CampaignHit, Extracted};

/// Distinct versions kept per article; later changes are counted ([`RevisitState::over_cap`]), not kept.
pub const MAX_VERSIONS: u32 = 20;

/// Returns to an earlier version remembered per article (the oldest are dropped).
pub const MAX_RETURNS: usize = 32;

/// Transient failures (timeout, 5xx, 429, network) of one stage before the stage is skipped.
pub const STAGE_ATTEMPTS: u32 = 3;

/// What is compared between two versions of an article, normalised ([`Compared::new`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compared {
    /// Headline.
    pub title: String,
    /// Main text: one normalised paragraph per line.
    pub text: String,
    /// Publication time, to the second.
    pub published: Option<DateTime<Utc>>,
    /// Byline: the authors, normalised, joined with "; ".
    pub byline: String,
}

impl Compared {
    /// The compared fields of what the extractor found on a page.
    pub fn of(extracted: &Extracted) -> Compared {
        Compared::new(
            extracted.title.as_deref().unwrap_or(""),
            &extracted.text,
            extracted.published,
            &extracted.authors,
        )
    }

    /// Normalises the fields: Unicode NFKC, zero-width characters and soft hyphens dropped, whitespace
    /// collapsed (paragraphs kept apart in the text), the time truncated to the second.
    pub fn new(
        title: &str,
        text: &str,
        published: Option<DateTime<Utc>>,
        authors: &[String],
    ) -> Compared {
        let paragraphs: Vec<String> = text
            .lines()
            .map(normalise_line)
            .filter(|l| !l.is_empty())
            .collect();
        let byline: Vec<String> = authors
            .iter()
            .map(|a| normalise_line(a))
            .filter(|a| !a.is_empty())
            .collect();
        Compared {
            title: normalise_line(title),
            text: paragraphs.join("\n"),
            published: published.and_then(|d| DateTime::from_timestamp(d.timestamp(), 0)),
            byline: byline.join("; "),
        }
    }

    /// sha256 of the normalised fields (hex): equal fields, equal hash.
    pub fn sha256(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.title.as_str(),
            self.text.as_str(),
            &self
                .published
                .map_or(String::new(), |d| d.timestamp().to_string()),
            self.byline.as_str(),
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex::encode(h.finalize())
    }

    /// Which fields differ from `other`, by name (`title`, `text`, `published`, `byline`).
    pub fn changed_fields(&self, other: &Compared) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.title != other.title {
            out.push("title");
        }
        if self.text != other.text {
            out.push("text");
        }
        if self.published != other.published {
            out.push("published");
        }
        if self.byline != other.byline {
            out.push("byline");
        }
        out
    }

    /// The lowercased words of the title and text (for "shares nothing with the article"); in scripts
    /// written without spaces (Chinese, Japanese, Thai...) each character is a word, so two texts in them
    /// share a word unless they are wholly different.
    fn words(&self) -> std::collections::HashSet<String> {
        let mut out = std::collections::HashSet::new();
        for part in [&self.title, &self.text] {
            let mut word = String::new();
            for c in part.chars() {
                let unspaced = crate::text::script::is_unspaced(c);
                if !c.is_alphanumeric() || unspaced {
                    if !word.is_empty() {
                        out.insert(std::mem::take(&mut word).to_lowercase());
                    }
                    if unspaced {
                        out.insert(c.to_string());
                    }
                } else {
                    word.push(c);
                }
            }
            if !word.is_empty() {
                out.insert(word.to_lowercase());
            }
        }
        out
    }
}

/// One line normalised: NFKC, zero-width characters (U+200B-U+200D, U+2060, U+FEFF) and soft hyphens
/// dropped, every run of whitespace one space, trimmed.
pub fn normalise_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.nfkc() {
        if matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
        ) {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

/// The schedule and memory of one archived article's revisits (a row of the state store, keyed by
/// article id). Written with the archiving batch's snapshots; updated after each revisit pass's commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevisitState {
    /// The article's URL (its key in the index).
    pub url: String,
    /// Its feed.
    pub feed: String,
    /// When it was first archived: the ages count from here.
    pub first_archived: DateTime<Utc>,
    /// The next age to revisit at (index into the configured ages; past the end: no more revisits).
    pub stage: usize,
    /// Not before this time (after a transient failure).
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
    /// Transient failures of the current stage.
    #[serde(default)]
    pub failures: u32,
    /// `ETag` of the last page returned.
    #[serde(default)]
    pub etag: Option<String>,
    /// `Last-Modified` of the last page returned.
    #[serde(default)]
    pub last_modified: Option<String>,
    /// sha256 of each version's compared fields ([`Compared::sha256`]), version 1 first; empty until the
    /// first revisit that returned a page (version 1's are then taken from its snapshot).
    #[serde(default)]
    pub hashes: Vec<String>,
    /// The version the page showed at the last revisit (1-based; 1 before any).
    #[serde(default = "one")]
    pub current: u32,
    /// Returns to an earlier version: when, and to which (at most [`MAX_RETURNS`], newest last).
    #[serde(default)]
    pub returns: Vec<(DateTime<Utc>, u32)>,
    /// Changes not kept because the article has [`MAX_VERSIONS`] versions.
    #[serde(default)]
    pub over_cap: u32,
    /// When it was first seen gone, while it is gone.
    #[serde(default)]
    pub removed_at: Option<DateTime<Utc>>,
    /// Why it was judged gone (`404`, `410`, `redirected to the site root`...).
    #[serde(default)]
    pub removed_why: Option<String>,
    /// When it was seen again after being gone.
    #[serde(default)]
    pub restored_at: Option<DateTime<Utc>>,
    /// The last revisit (any outcome).
    #[serde(default)]
    pub revisited_at: Option<DateTime<Utc>>,
    /// When the last change was found.
    #[serde(default)]
    pub edited_at: Option<DateTime<Utc>>,
    /// The campaign ids any version was tagged with, sorted ([`RevisitState::saw_campaigns`]).
    #[serde(default)]
    pub campaigns_seen: Vec<String>,
}

fn one() -> u32 {
    1
}

impl RevisitState {
    /// The row of an article archived at `at`, with the validators of its page.
    pub fn new(
        url: &str,
        feed: &str,
        at: DateTime<Utc>,
        etag: Option<String>,
        last_modified: Option<String>,
    ) -> RevisitState {
        RevisitState {
            url: url.to_string(),
            feed: feed.to_string(),
            first_archived: at,
            stage: 0,
            not_before: None,
            failures: 0,
            etag,
            last_modified,
            hashes: Vec::new(),
            current: 1,
            returns: Vec::new(),
            over_cap: 0,
            removed_at: None,
            removed_why: None,
            restored_at: None,
            revisited_at: None,
            edited_at: None,
            campaigns_seen: Vec::new(),
        }
    }

    /// Remembers the campaign tags of a version (kept sorted, each id once): what the index's
    /// `campaign_dropped` is computed from.
    pub fn saw_campaigns(&mut self, hits: &[CampaignHit]) {
        for hit in hits {
            if let Err(i) = self.campaigns_seen.binary_search(&hit.id) {
                self.campaigns_seen.insert(i, hit.id.clone());
            }
        }
    }

    /// When the next revisit is due, None when every age is past.
    pub fn due_at(&self, ages: &[std::time::Duration]) -> Option<DateTime<Utc>> {
        let age = ages.get(self.stage)?;
        let at = self.first_archived + chrono::Duration::from_std(*age).ok()?;
        Some(self.not_before.map_or(at, |nb| nb.max(at)))
    }

    /// Moves to the first age not yet reached at `now` (a daemon that was off does not revisit once per
    /// missed age), and clears the stage's failures.
    pub fn advance(&mut self, ages: &[std::time::Duration], now: DateTime<Utc>) {
        let reached = |age: &std::time::Duration| {
            chrono::Duration::from_std(*age).is_ok_and(|a| self.first_archived + a <= now)
        };
        self.stage = ages
            .iter()
            .take_while(|a| reached(a))
            .count()
            .max(self.stage + 1);
        self.failures = 0;
        self.not_before = None;
    }

    /// A transient failure at `now`: the stage is tried again at a later pass (after 30 minutes times
    /// the failures), and skipped after [`STAGE_ATTEMPTS`].
    pub fn failed(&mut self, ages: &[std::time::Duration], now: DateTime<Utc>) {
        self.failures += 1;
        if self.failures >= STAGE_ATTEMPTS {
            self.advance(ages, now);
        } else {
            self.not_before = Some(now + chrono::Duration::minutes(30 * i64::from(self.failures)));
        }
    }

    /// Distinct versions known (at least 1).
    pub fn versions(&self) -> u32 {
        (self.hashes.len() as u32).max(1)
    }

    /// The article's revision as the index shows it, None while nothing was found.
    pub fn revision(&self) -> Option<crate::model::Revision> {
        if self.versions() < 2 && self.removed_at.is_none() && self.restored_at.is_none() {
            return None;
        }
        Some(crate::model::Revision {
            versions: self.versions(),
            current: self.current,
            edited_at: self.edited_at,
            removed_at: self.removed_at,
            restored_at: self.restored_at,
            campaigns_seen: self.campaigns_seen.clone(),
        })
    }
}

/// When revisit rows are due: the configured ages, and the feeds whose articles are revisited (rows of
/// any other feed are never due). The state store keeps a due table by (due time, article id) computed
/// with it, and computes it again when it changes ([`Schedule::fingerprint`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Ages since first archived, increasing.
    pub ages: Vec<std::time::Duration>,
    /// Ids of the covered feeds.
    pub feeds: std::collections::BTreeSet<String>,
}

impl Schedule {
    /// When the row is due next under this schedule, None when never (every age past, or its feed is
    /// not covered).
    pub fn due_at(&self, state: &RevisitState) -> Option<DateTime<Utc>> {
        if !self.feeds.contains(&state.feed) {
            return None;
        }
        state.due_at(&self.ages)
    }

    /// The schedule in a few bytes (sha256 of the ages and feed ids, hex): equal schedules, equal
    /// fingerprint.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"ages");
        for age in &self.ages {
            h.update(age.as_millis().to_le_bytes());
        }
        h.update(b"feeds");
        for feed in &self.feeds {
            h.update((feed.len() as u64).to_le_bytes());
            h.update(feed.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// One kept version of an article (a row of the state store, keyed by article id and number; never
/// overwritten). Its page snapshot is stored beside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredVersion {
    /// 1-based; 1 is the article as first archived.
    pub number: u32,
    /// When its page was fetched.
    pub fetched_at: DateTime<Utc>,
    /// When a revisit first found it (for version 1: the revisit that found version 2).
    pub recorded_at: DateTime<Utc>,
    /// The HTTP status of its page.
    pub http_status: u16,
    /// Its page's URL after redirects.
    pub final_url: String,
    /// Its compared fields.
    pub fields: Compared,
    /// [`Compared::sha256`] of them.
    pub fields_sha256: String,
    /// sha256 of its page's body (hex), when the page was kept.
    pub snapshot_sha256: Option<String>,
    /// Its campaign tags, under the codebooks of when it was recorded.
    pub campaigns: Vec<CampaignHit>,
    /// The fields that differ from the version the page showed before it (empty for version 1).
    pub changed: Vec<String>,
}

/// What a revisit that returned a page found, against the article's known versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The current version.
    Same,
    /// An earlier version (1-based), not the current one: a return, not a new version.
    Earlier(u32),
    /// A new version: its number (1-based), and the fields that differ from the current one.
    New(u32, Vec<&'static str>),
    /// A new version past [`MAX_VERSIONS`]: counted, not kept.
    OverCap,
}

/// Compares `fields` (with `hash`, their [`Compared::sha256`]) with the known versions and records it in
/// `state` at `now`. `current` is the current version's fields (for the changed field names).
pub fn record(
    state: &mut RevisitState,
    hash: &str,
    fields: &Compared,
    current: &Compared,
    now: DateTime<Utc>,
) -> Found {
    let current_no = state.current.max(1);
    if let Some(i) = state.hashes.iter().position(|h| h == hash) {
        let version = i as u32 + 1;
        if version == current_no {
            return Found::Same;
        }
        state.current = version;
        state.edited_at = Some(now);
        state.returns.push((now, version));
        if state.returns.len() > MAX_RETURNS {
            state.returns.remove(0);
        }
        return Found::Earlier(version);
    }
    if state.hashes.len() as u32 >= MAX_VERSIONS {
        state.over_cap += 1;
        return Found::OverCap;
    }
    state.hashes.push(hash.to_string());
    state.current = state.hashes.len() as u32;
    state.edited_at = Some(now);
    Found::New(state.current, fields.changed_fields(current))
}

/// Why a page reached through redirects is not the article, or None when it may be: the final URL is the
/// site root (`/`, empty, `/index.*`), or a section above the article (a proper prefix of its path, such
/// as `/world/` for `/world/2026/12/x.html`), or its title and text share no word with `current`.
pub fn not_the_article(
    requested: &url::Url,
    final_url: &url::Url,
    found: &Compared,
    current: &Compared,
) -> Option<String> {
    if requested == final_url {
        return None;
    }
    let path = final_url.path().trim_end_matches('/');
    let is_root = path.is_empty()
        || path
            .rsplit('/')
            .next()
            .is_some_and(|last| path.matches('/').count() == 1 && last.starts_with("index."));
    if is_root {
        return Some(format!("redirected to the site root {final_url}"));
    }
    let article_path = requested.path().trim_end_matches('/');
    if final_url.host_str() == requested.host_str()
        && article_path.len() > path.len()
        && article_path.starts_with(path)
        && article_path.as_bytes().get(path.len()) == Some(&b'/')
    {
        return Some(format!("redirected to the section page {final_url}"));
    }
    let (a, b) = (found.words(), current.words());
    if !b.is_empty() && a.is_disjoint(&b) {
        return Some(format!(
            "redirected to {final_url}, whose title and text share no word with the article"
        ));
    }
    None
}

/// Phrases of "not found" page templates (lowercase), in the languages of the monitored outlets. Only
/// whole phrases that a news page has little reason to carry in its headline or first lines: a bare
/// "404" or "not found" is not one (a flight number, "bodies not found").
const NOT_FOUND_PHRASES: &[&str] = &[
    "page not found",
    "404 not found",
    "error 404",
    "404 error",
    "page does not exist",
    "page you requested",
    "page you are looking for",
    "page you were looking for",
    "could not be found",
    "cannot be found",
    "no longer available",
    "页面不存在",
    "页面未找到",
    "找不到页面",
    "找不到该页面",
    "您访问的页面",
    "您所访问的页面",
    "頁面不存在",
    "找不到網頁",
    "страница не найдена",
    "страница не существует",
    "ошибка 404",
    "página no encontrada",
    "seite nicht gefunden",
    "page introuvable",
];

/// Characters of a page's text searched for a not-found phrase (with its title): a template says so at
/// the top.
const NOT_FOUND_HEAD_CHARS: usize = 400;

/// Why a page returned with 200 at the article's address is a "not found" template (a soft 404), or None
/// when it may be the article, however heavily edited. All three must hold:
/// 1. its title or first [`NOT_FOUND_HEAD_CHARS`] characters of text carry a not-found phrase
///    ([`NOT_FOUND_PHRASES`]) that the article (`current`) does not carry;
/// 2. it keeps at most a fifth of the article's distinct words (an edit keeps the story's words);
/// 3. it has at most half as many distinct words as the article (a template is short).
pub fn soft_not_found(found: &Compared, current: &Compared) -> Option<String> {
    let head: String = found.text.chars().take(NOT_FOUND_HEAD_CHARS).collect();
    let head = format!("{}\n{head}", found.title).to_lowercase();
    let article = format!("{}\n{}", current.title, current.text).to_lowercase();
    let phrase = NOT_FOUND_PHRASES
        .iter()
        .find(|p| head.contains(*p) && !article.contains(*p))?;
    let (f, c) = (found.words(), current.words());
    let kept = f.intersection(&c).count();
    (kept * 5 <= c.len() && f.len() * 2 <= c.len()).then(|| {
        format!(
            "soft 404: a not-found page at the same address (\"{phrase}\", {kept} of the article's {} \
             words)",
            c.len()
        )
    })
}

/// One run of a word diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffSpan {
    /// `same`, `removed` or `added`.
    pub op: DiffOp,
    /// The words (with the spaces between them).
    pub text: String,
}

/// What a [`DiffSpan`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffOp {
    /// In both.
    Same,
    /// Only in the older version.
    Removed,
    /// Only in the newer version.
    Added,
}

/// The word-level diff from `old` to `new` (the `similar` crate), consecutive words of one kind merged.
/// A rewritten passage is one removed run and one added run: the spaces the two share between changed
/// words join both runs instead of cutting them word by word.
pub fn word_diff(old: &str, new: &str) -> Vec<DiffSpan> {
    let diff = similar::TextDiff::from_words(old, new);
    let changes: Vec<(DiffOp, &str)> = diff
        .iter_all_changes()
        .map(|change| {
            let op = match change.tag() {
                similar::ChangeTag::Equal => DiffOp::Same,
                similar::ChangeTag::Delete => DiffOp::Removed,
                similar::ChangeTag::Insert => DiffOp::Added,
            };
            (op, change.value())
        })
        .collect();
    let mut out: Vec<DiffSpan> = Vec::new();
    // The changed words since the last kept word: (removed, added).
    let mut group: Option<(String, String)> = None;
    let push = |out: &mut Vec<DiffSpan>, op: DiffOp, text: &str| match out.last_mut() {
        Some(last) if last.op == op => last.text.push_str(text),
        _ => out.push(DiffSpan {
            op,
            text: text.to_string(),
        }),
    };
    for (i, &(op, text)) in changes.iter().enumerate() {
        match op {
            DiffOp::Removed => group.get_or_insert_with(Default::default).0.push_str(text),
            DiffOp::Added => group.get_or_insert_with(Default::default).1.push_str(text),
            DiffOp::Same => {
                let between_changes = text.chars().all(char::is_whitespace)
                    && changes
                        .get(i + 1)
                        .is_some_and(|(next, _)| *next != DiffOp::Same);
                match &mut group {
                    Some((removed, added))
                        if between_changes && !removed.is_empty() && !added.is_empty() =>
                    {
                        removed.push_str(text);
                        added.push_str(text);
                    }
                    _ => {
                        if let Some((removed, added)) = group.take() {
                            flush(&mut out, &removed, &added, push);
                        }
                        push(&mut out, DiffOp::Same, text);
                    }
                }
            }
        }
    }
    if let Some((removed, added)) = group.take() {
        flush(&mut out, &removed, &added, push);
    }
    out
}

/// Appends a group of changed words: the removed run, then the added run (each when not empty).
fn flush(
    out: &mut Vec<DiffSpan>,
    removed: &str,
    added: &str,
    push: impl Fn(&mut Vec<DiffSpan>, DiffOp, &str),
) {
    if !removed.is_empty() {
        push(out, DiffOp::Removed, removed);
    }
    if !added.is_empty() {
        push(out, DiffOp::Added, added);
    }
}

/// Whether an HTTP status says the article is gone (404, 410).
pub fn is_gone(status: u16) -> bool {
    status == 404 || status == 410
}

/// The campaign ids of a version's tags, for listings.
pub fn campaign_ids(hits: &[CampaignHit]) -> Vec<String> {
    hits.iter().map(|h| h.id.clone()).collect()
}

/// The campaign ids gained and lost from one version's tags (`before`) to the next's (`after`).
pub fn campaigns_gained_lost(
    before: &[CampaignHit],
    after: &[CampaignHit],
) -> (Vec<String>, Vec<String>) {
    let has = |hits: &[CampaignHit], id: &str| hits.iter().any(|h| h.id == id);
    let gained = after
        .iter()
        .filter(|h| !has(before, &h.id))
        .map(|h| h.id.clone())
        .collect();
    let lost = before
        .iter()
        .filter(|h| !has(after, &h.id))
        .map(|h| h.id.clone())
        .collect();
    (gained, lost)
}

/// What an article's last change was, in one line (the `/changes` listing): for an edit, the version
/// the page shows, the fields that changed and the campaigns gained and lost against the version before
/// it (or the return to an earlier version); for a removal, why it was judged gone; for a return after
/// a removal, that it is back. `state` is its revisit row and `versions` its kept versions (either may
/// be missing: the line then says less).
pub fn change_line(
    kind: crate::model::ChangeKind,
    state: Option<&RevisitState>,
    versions: &[StoredVersion],
) -> String {
    use crate::model::ChangeKind;
    match kind {
        ChangeKind::Removed => match state.and_then(|s| s.removed_why.as_deref()) {
            Some(why) => format!("gone from its site ({why})"),
            None => "gone from its site".to_string(),
        },
        ChangeKind::Restored => "back on its site after a removal".to_string(),
        ChangeKind::Edited => {
            if let Some(s) = state {
                if let Some((_, to)) = s.returns.last().filter(|(at, _)| Some(*at) == s.edited_at) {
                    return format!("back to version {to} of {}", s.versions());
                }
            }
            let current = state
                .map(|s| s.current)
                .or_else(|| versions.last().map(|v| v.number));
            let Some(v) = versions.iter().find(|v| Some(v.number) == current) else {
                return match current {
                    Some(n) if n > 1 => format!("version {n}"),
                    _ => "edited".to_string(),
                };
            };
            let mut parts = vec![format!("version {}", v.number)];
            if !v.changed.is_empty() {
                parts.push(format!("{} changed", v.changed.join(", ")));
            }
            if let Some(before) = versions.iter().find(|b| b.number + 1 == v.number) {
                let (gained, lost) = campaigns_gained_lost(&before.campaigns, &v.campaigns);
                if !lost.is_empty() {
                    parts.push(format!("dropped {}", lost.join(", ")));
                }
                if !gained.is_empty() {
                    parts.push(format!("gained {}", gained.join(", ")));
                }
            }
            parts.join("; ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(h: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap()
    }

    fn ages() -> Vec<Duration> {
        [1, 6, 24, 168]
            .map(|h| Duration::from_secs(h * 3600))
            .to_vec()
    }

    #[test]
    fn whitespace_unicode_forms_and_zero_width_do_not_count_as_changes() {
        let a = Compared::new(
            "Ｔａｉｗａｎ  talks",
            "First  para.\n\n\u{00A0}Second\u{200B} para. ",
            Some(at(0) + chrono::Duration::milliseconds(300)),
            &["Li\u{00AD} Wei".into()],
        );
        let b = Compared::new(
            "Taiwan talks",
            "First para.\nSecond para.",
            Some(at(0)),
            &["Li Wei".into(), " ".into()],
        );
        assert_eq!(a, b);
        assert_eq!(a.sha256(), b.sha256());
        let c = Compared::new("Taiwan talks", "First para. Second para.", Some(at(0)), &[]);
        assert_ne!(a.sha256(), c.sha256(), "paragraphs are kept apart");
        assert_eq!(c.changed_fields(&a), ["text", "byline"]);
        // Fields are length-prefixed in the hash: moving text between fields changes it.
        let d = Compared::new("ab", "c", None, &[]);
        let e = Compared::new("a", "bc", None, &[]);
        assert_ne!(d.sha256(), e.sha256());
    }

    #[test]
    fn due_times_follow_the_ages_and_skip_those_already_past() {
        let mut s = RevisitState::new("http://x/a", "f", at(0), None, None);
        assert_eq!(s.due_at(&ages()), Some(at(1)));
        s.advance(&ages(), at(1));
        assert_eq!(s.due_at(&ages()), Some(at(6)));
        // Off for two days: the 6 h and 24 h revisits are one.
        s.advance(&ages(), at(48));
        assert_eq!(s.stage, 3);
        assert_eq!(s.due_at(&ages()), Some(at(168)));
        s.advance(&ages(), at(170));
        assert_eq!(s.due_at(&ages()), None);
    }

    #[test]
    fn transient_failures_retry_later_then_skip_the_stage() {
        let mut s = RevisitState::new("http://x/a", "f", at(0), None, None);
        s.failed(&ages(), at(1));
        assert_eq!(s.stage, 0);
        assert_eq!(
            s.due_at(&ages()),
            Some(at(1) + chrono::Duration::minutes(30))
        );
        s.failed(&ages(), at(2));
        assert_eq!(s.due_at(&ages()), Some(at(3)));
        s.failed(&ages(), at(3));
        assert_eq!(
            (s.stage, s.failures),
            (1, 0),
            "skipped after {STAGE_ATTEMPTS}"
        );
        assert_eq!(s.due_at(&ages()), Some(at(6)));
    }

    #[test]
    fn flipping_between_two_texts_makes_two_versions_and_returns() {
        let mut s = RevisitState::new("http://x/a", "f", at(0), None, None);
        let a = Compared::new("T", "text A", None, &[]);
        let b = Compared::new("T", "text B", None, &[]);
        s.hashes.push(a.sha256());
        assert_eq!(record(&mut s, &a.sha256(), &a, &a, at(1)), Found::Same);
        assert_eq!(
            record(&mut s, &b.sha256(), &b, &a, at(2)),
            Found::New(2, vec!["text"])
        );
        assert_eq!(
            record(&mut s, &a.sha256(), &a, &b, at(3)),
            Found::Earlier(1)
        );
        assert_eq!(
            record(&mut s, &b.sha256(), &b, &a, at(4)),
            Found::Earlier(2)
        );
        assert_eq!(record(&mut s, &b.sha256(), &b, &b, at(5)), Found::Same);
        assert_eq!(s.versions(), 2);
        assert_eq!(s.returns, [(at(3), 1), (at(4), 2)]);
        for i in 0..(MAX_RETURNS as i64 * 2) {
            let (to, from) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
            record(&mut s, &to.sha256(), to, from, at(6 + i));
        }
        assert_eq!(s.versions(), 2);
        assert_eq!(s.returns.len(), MAX_RETURNS);
    }

    #[test]
    fn word_diff_marks_removed_and_added_words() {
        let d = word_diff("Talks resume in Xiamen", "Talks in Xiamen end badly");
        let ops: Vec<(DiffOp, &str)> = d.iter().map(|s| (s.op, s.text.as_str())).collect();
        assert_eq!(
            ops,
            [
                (DiffOp::Same, "Talks "),
                (DiffOp::Removed, "resume "),
                (DiffOp::Same, "in Xiamen"),
                (DiffOp::Added, " end badly"),
            ]
        );
        assert_eq!(
            word_diff("same", "same"),
            [DiffSpan {
                op: DiffOp::Same,
                text: "same".into()
            }]
        );
        assert!(word_diff("", "").is_empty());
        // A rewritten sentence is one removed and one added run, not alternating words; the texts are
        // still the old one (same + removed) and the new one (same + added).
        let (old, new) = (
            "Delegates met.\nThe talks are a step towards reunification. End.",
            "Delegates met.\nNo agreement was reached. End.",
        );
        let d = word_diff(old, new);
        let ops: Vec<(DiffOp, &str)> = d.iter().map(|s| (s.op, s.text.as_str())).collect();
        assert_eq!(
            ops,
            [
                (DiffOp::Same, "Delegates met.\n"),
                (
                    DiffOp::Removed,
                    "The talks are a step towards reunification."
                ),
                (DiffOp::Added, "No agreement was reached."),
                (DiffOp::Same, " End."),
            ]
        );
        let side = |keep: DiffOp| -> String {
            d.iter()
                .filter(|s| s.op == DiffOp::Same || s.op == keep)
                .map(|s| s.text.as_str())
                .collect()
        };
        assert_eq!(
            (side(DiffOp::Removed), side(DiffOp::Added)),
            (old.into(), new.into())
        );
    }

    #[test]
    fn versions_are_capped() {
        let mut s = RevisitState::new("http://x/a", "f", at(0), None, None);
        let base = Compared::new("T", "v0", None, &[]);
        s.hashes.push(base.sha256());
        for i in 1..MAX_VERSIONS {
            let c = Compared::new("T", &format!("v{i}"), None, &[]);
            assert!(matches!(
                record(&mut s, &c.sha256(), &c, &base, at(1)),
                Found::New(..)
            ));
        }
        let c = Compared::new("T", "one too many", None, &[]);
        assert_eq!(
            record(&mut s, &c.sha256(), &c, &base, at(2)),
            Found::OverCap
        );
        assert_eq!((s.versions(), s.over_cap), (MAX_VERSIONS, 1));
    }

    #[test]
    fn the_last_change_in_one_line() {
        use crate::model::{ChangeKind, Revision};
        let hit = |id: &str| CampaignHit {
            id: id.into(),
            score: 1.0,
            terms: vec![],
        };
        let version = |number: u32, campaigns: Vec<CampaignHit>, changed: &[&str]| StoredVersion {
            number,
            fetched_at: at(0),
            recorded_at: at(1),
            http_status: 200,
            final_url: "http://x/a".into(),
            fields: Compared::default(),
            fields_sha256: String::new(),
            snapshot_sha256: None,
            campaigns,
            changed: changed.iter().map(|c| c.to_string()).collect(),
        };
        let versions = [
            version(1, vec![hit("taiwan"), hit("ports")], &[]),
            version(2, vec![hit("ports"), hit("trade")], &["title", "text"]),
        ];
        let mut s = RevisitState::new("http://x/a", "f", at(0), None, None);
        s.hashes = vec!["a".into(), "b".into()];
        s.current = 2;
        s.edited_at = Some(at(2));
        assert_eq!(
            change_line(ChangeKind::Edited, Some(&s), &versions),
            "version 2; title, text changed; dropped taiwan; gained trade"
        );
        assert_eq!(
            campaigns_gained_lost(&versions[0].campaigns, &versions[1].campaigns),
            (vec!["trade".to_string()], vec!["taiwan".to_string()])
        );
        // Back to version 1 at the last revisit.
        s.current = 1;
        s.edited_at = Some(at(3));
        s.returns.push((at(3), 1));
        assert_eq!(
            change_line(ChangeKind::Edited, Some(&s), &versions),
            "back to version 1 of 2"
        );
        s.removed_why = Some("HTTP 410".into());
        assert_eq!(
            change_line(ChangeKind::Removed, Some(&s), &[]),
            "gone from its site (HTTP 410)"
        );
        assert_eq!(
            change_line(ChangeKind::Removed, None, &[]),
            "gone from its site"
        );
        assert_eq!(
            change_line(ChangeKind::Restored, None, &[]),
            "back on its site after a removal"
        );
        assert_eq!(change_line(ChangeKind::Edited, None, &[]), "edited");

        // The index's change time is the latest of the three; a removal wins a tie.
        let mut r = Revision {
            versions: 2,
            current: 2,
            edited_at: Some(at(2)),
            removed_at: None,
            restored_at: Some(at(1)),
            campaigns_seen: vec!["ports".into(), "taiwan".into()],
        };
        assert_eq!(r.last_change(), Some((ChangeKind::Edited, at(2))));
        r.removed_at = Some(at(2));
        assert_eq!(r.last_change(), Some((ChangeKind::Removed, at(2))));
        assert_eq!(Revision::default().last_change(), None);
        assert_eq!(r.campaigns_dropped(&[hit("ports")]), ["taiwan"]);
        assert!(r
            .campaigns_dropped(&[hit("taiwan"), hit("ports")])
            .is_empty());
        // Tags seen are kept sorted, each once.
        s.saw_campaigns(&[hit("trade"), hit("ports")]);
        s.saw_campaigns(&[hit("ports"), hit("asia")]);
        assert_eq!(s.campaigns_seen, ["asia", "ports", "trade"]);
    }

    #[test]
    fn redirects_to_the_root_a_section_or_another_story_are_not_the_article() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        let article = u("https://news.example/world/2026/12/talks.html");
        let current = Compared::new("Taiwan talks resume", "Delegates met in Xiamen.", None, &[]);
        let other = Compared::new("Weather today", "Sunny, mild.", None, &[]);
        let near = Compared::new("Taiwan talks resume (updated)", "Delegates met.", None, &[]);
        for root in [
            "https://news.example/",
            "https://news.example",
            "https://news.example/index.html",
        ] {
            let why = not_the_article(&article, &u(root), &near, &current).unwrap();
            assert!(why.contains("site root"), "{root}: {why}");
        }
        let why = not_the_article(&article, &u("https://news.example/world/"), &near, &current);
        assert!(why.unwrap().contains("section page"));
        let why = not_the_article(
            &article,
            &u("https://news.example/world/2026/"),
            &near,
            &current,
        );
        assert!(why.unwrap().contains("section page"));
        let why = not_the_article(
            &article,
            &u("https://news.example/a/999.html"),
            &other,
            &current,
        );
        assert!(why.unwrap().contains("share no word"));
        // A move to another path with the same story is the article; so is no redirect at all.
        assert_eq!(
            not_the_article(
                &article,
                &u("https://news.example/a/talks-2.html"),
                &near,
                &current
            ),
            None
        );
        assert_eq!(not_the_article(&article, &article, &other, &current), None);
        // "/worldwide" is not a section above "/world/...".
        let sibling = u("https://news.example/world");
        let deeper = u("https://news.example/worldwide/2026/x.html");
        assert!(not_the_article(&deeper, &sibling, &near, &current).is_none());
        assert!(is_gone(404) && is_gone(410) && !is_gone(503) && !is_gone(403));
        // Chinese: an edited story at a new address shares characters with the article, a page about
        // something else in another script shares none.
        let zh = Compared::new("两岸会谈在厦门恢复", "双方代表周一在厦门会面。", None, &[]);
        let zh_edited = Compared::new("两岸会谈结束", "代表们在厦门会面后离开。", None, &[]);
        let moved = u("https://news.example/a/2.html");
        assert_eq!(not_the_article(&article, &moved, &zh_edited, &zh), None);
        let why = not_the_article(&article, &moved, &other, &zh).unwrap();
        assert!(why.contains("share no word"), "{why}");
    }

    #[test]
    fn a_not_found_template_is_a_removal_and_a_heavy_edit_is_not() {
        let story = "Delegates from both sides met in Xiamen on Monday for a second round of talks on trade, \
                     shipping and the fishing season, officials said after the meeting ended.\n\
                     The spokesman said the talks were a step towards peaceful reunification and that the \
                     mainland would keep the door open to further meetings before the end of the year.";
        let current = Compared::new("Talks resume in Xiamen", story, None, &[]);
        let template = Compared::new(
            "Page not found - Fixture News",
            "Sorry, the page you are looking for does not exist.\nReturn to the home page.",
            None,
            &[],
        );
        let why = soft_not_found(&template, &current).unwrap();
        assert!(
            why.starts_with("soft 404") && why.contains("\"page not found\""),
            "{why}"
        );
        // Chinese and Russian templates.
        let zh = Compared::new("两岸会谈在厦门恢复", "双方代表周一在厦门会面，就贸易、航运和渔季举行第二轮会谈。发言人说，会谈是迈向和平统一的一步。", None, &[]);
        let zh_404 = Compared::new("404", "抱歉，您访问的页面不存在。返回首页", None, &[]);
        assert!(soft_not_found(&zh_404, &zh).is_some());
        let ru_404 = Compared::new("Страница не найдена", "Вернуться на главную", None, &[]);
        assert!(soft_not_found(&ru_404, &current).is_some());

        // A heavy real edit: cut to two sentences and retitled, but the story's words stay.
        let cut = Compared::new(
            "Xiamen talks end",
            "Delegates met in Xiamen on Monday for talks on trade and shipping.",
            None,
            &[],
        );
        assert_eq!(soft_not_found(&cut, &current), None, "no not-found phrase");
        // A short rewrite that says "could not be found" about the story: it keeps the story's words.
        let short = Compared::new(
            "Talks resume in Xiamen",
            "The second round of talks in Xiamen could not be found on the official schedule; officials \
             said the delegates met on Monday and the talks on trade and shipping ended.",
            None,
            &[],
        );
        assert_eq!(
            soft_not_found(&short, &current),
            None,
            "keeps the story's words"
        );
        // An article that itself says "no longer available" does not turn into a removal when edited.
        let about = Compared::new(
            "Ferry no longer available",
            "The ferry is no longer available.",
            None,
            &[],
        );
        let about_edit = Compared::new("Ferry no longer available", "Gone.", None, &[]);
        assert_eq!(soft_not_found(&about_edit, &about), None);
        // A tiny brief replaced by a template of the same size: not judged (half the words rule).
        let brief = Compared::new("Talks", "Talks resumed.", None, &[]);
        assert_eq!(soft_not_found(&template, &brief), None);
    }
}
