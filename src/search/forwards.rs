//! Forward chains of Telegram posts: who forwarded whom, and how long after. A forward names its origin
//! post (`post.forwarded_from.url`, the `forwarded_from` index field); the origin is archived when we
//! monitor its channel too (its `url` is that same `https://t.me/<channel>/<id>`).
//!
//! [`forward_chain`] walks both ways from one article: upstream (the post it forwarded, that post's own
//! origin, ...) and downstream (the archived posts forwarding it, and theirs, breadth-first). Each walk is
//! bounded ([`MAX_UPSTREAM_STEPS`], [`MAX_DOWNSTREAM_LEVELS`], [`MAX_DOWNSTREAM_ARTICLES`]) and never
//! visits a post twice, so hostile or looping data ends.

use std::collections::HashSet;

use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, Term};

use crate::index::Archive;
use crate::model::{Affiliation, Article, Forward};

/// Upstream steps followed at most (the article's origin is step 1).
pub const MAX_UPSTREAM_STEPS: usize = 10;
/// Downstream levels followed at most (the article's direct forwarders are level 1).
pub const MAX_DOWNSTREAM_LEVELS: usize = 10;
/// Downstream forwards listed at most.
pub const MAX_DOWNSTREAM_ARTICLES: usize = 500;

/// The forwards around one article.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ForwardChain {
    /// The post this article forwarded, then that post's origin when it is archived and a forward
    /// itself, ...: nearest first (`depth` 1 is the article's own origin).
    pub upstream: Vec<ForwardLink>,
    /// Archived posts forwarding this article, then those forwarding them, ...: breadth-first, each level
    /// by time.
    pub downstream: Vec<ForwardLink>,
    /// A limit cut a walk short (more links exist than are listed).
    pub truncated: bool,
}

impl ForwardChain {
    /// No forward either way.
    pub fn is_empty(&self) -> bool {
        self.upstream.is_empty() && self.downstream.is_empty()
    }
}

/// One forward: `forwarder` forwarded `origin`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForwardLink {
    /// The post forwarded (the parent).
    pub origin: ForwardNode,
    /// The post that forwards it (always archived).
    pub forwarder: ForwardNode,
    /// Seconds from the origin to the forward (`dated_at` of each), when the origin is archived.
    pub delay_secs: Option<i64>,
    /// Steps from the article the chain is about (1: its origin, or its direct forwarders).
    pub depth: usize,
}

/// A post in a forward chain: an archived article, or an origin known only by what a forward says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForwardNode {
    /// Whether the post is in the archive (the fields below marked "archived" are then present).
    pub archived: bool,
    /// Article id (archived).
    pub id: Option<String>,
    /// The post's URL (`https://t.me/<channel>/<id>`); None for an origin named without a link.
    pub url: Option<String>,
    /// Outlet name of an archived post, else the name the forward shows.
    pub name: String,
    /// The channel's username, when known.
    pub channel: Option<String>,
    /// Feed id (archived).
    pub feed: Option<String>,
    /// Outlet affiliation (archived).
    pub affiliation: Option<Affiliation>,
    /// Headline (archived).
    pub title: Option<String>,
    /// Publication time, RFC 3339 (archived: its `dated_at`).
    pub published: Option<String>,
    /// View count when read (archived posts).
    pub views: Option<u64>,
}

impl ForwardNode {
    /// The node of an archived article.
    pub fn archived(a: &Article) -> ForwardNode {
        ForwardNode {
            archived: true,
            id: Some(a.id.clone()),
            url: Some(a.url.clone()),
            name: a.source_name.clone(),
            channel: a.post.as_ref().map(|p| p.channel.clone()),
            feed: Some(a.feed.clone()),
            affiliation: Some(a.affiliation),
            title: Some(a.title.clone()),
            published: Some(
                a.dated_at()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
            views: a.post.as_ref().and_then(|p| p.views),
        }
    }

    /// The node of an origin that is not archived, from what the forward says about it.
    pub fn named(f: &Forward) -> ForwardNode {
        ForwardNode {
            archived: false,
            id: None,
            url: f.url.clone().filter(|u| !u.is_empty()),
            name: f.name.clone(),
            channel: f.channel.clone(),
            feed: None,
            affiliation: None,
            title: None,
            published: None,
            views: None,
        }
    }
}

/// What an article forwards, when it is a forward.
fn forward_of(a: &Article) -> Option<&Forward> {
    a.post.as_ref()?.forwarded_from.as_ref()
}

/// The archived article with this URL.
fn by_url(archive: &Archive, searcher: &Searcher, url: &str) -> anyhow::Result<Option<Article>> {
    let q = TermQuery::new(
        Term::from_field_text(archive.fields.url, url),
        IndexRecordOption::Basic,
    );
    match searcher
        .search(&q, &TopDocs::with_limit(1).order_by_score())?
        .first()
    {
        Some((_, address)) => Ok(Some(archive.article(searcher, *address)?)),
        None => Ok(None),
    }
}

/// The earliest `limit` archived articles forwarding the post at `url`, earliest first (a post
/// forwarded a thousand times reads only what can be listed).
fn forwarders(
    archive: &Archive,
    searcher: &Searcher,
    url: &str,
    limit: usize,
) -> anyhow::Result<Vec<Article>> {
    let q = TermQuery::new(
        Term::from_field_text(archive.fields.forwarded_from, url),
        IndexRecordOption::Basic,
    );
    let earliest = TopDocs::with_limit(limit.max(1))
        .order_by_fast_field::<tantivy::DateTime>("published", tantivy::Order::Asc);
    let docs = searcher.search(&q, &earliest)?;
    let mut out = Vec::with_capacity(docs.len());
    for (_, address) in docs {
        out.push(archive.article(searcher, address)?);
    }
    out.sort_by(|a, b| {
        a.dated_at()
            .cmp(&b.dated_at())
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

/// Seconds from `origin` to `forwarder`.
fn delay(origin: &Article, forwarder: &Article) -> i64 {
    (forwarder.dated_at() - origin.dated_at()).num_seconds()
}

/// The forward chain around `article` on the loaded commit: upstream (what it forwarded, and so on, at
/// most [`MAX_UPSTREAM_STEPS`]; an origin not archived ends the walk and is listed by its name and URL,
/// without a date) and downstream (archived forwards of it, recursively, breadth-first, at most
/// [`MAX_DOWNSTREAM_LEVELS`] levels and [`MAX_DOWNSTREAM_ARTICLES`] articles).
pub fn forward_chain(archive: &Archive, article: &Article) -> anyhow::Result<ForwardChain> {
    let searcher = archive.searcher();
    let mut chain = ForwardChain::default();
    let mut seen: HashSet<String> = HashSet::from([article.url.clone()]);

    // Upstream.
    let mut current = article.clone();
    let mut depth = 0;
    while let Some(fwd) = forward_of(&current) {
        if depth == MAX_UPSTREAM_STEPS {
            chain.truncated = true;
            break;
        }
        depth += 1;
        let origin = match fwd.url.as_deref().filter(|u| !u.is_empty()) {
            Some(url) => by_url(archive, &searcher, url)?,
            None => None,
        };
        let forwarder = ForwardNode::archived(&current);
        match origin {
            Some(origin) => {
                chain.upstream.push(ForwardLink {
                    origin: ForwardNode::archived(&origin),
                    forwarder,
                    delay_secs: Some(delay(&origin, &current)),
                    depth,
                });
                if !seen.insert(origin.url.clone()) {
                    break; // a loop: this post was listed already
                }
                current = origin;
            }
            None => {
                chain.upstream.push(ForwardLink {
                    origin: ForwardNode::named(fwd),
                    forwarder,
                    delay_secs: None,
                    depth,
                });
                break;
            }
        }
    }

    // Downstream, breadth-first. The level after the last one followed is only looked at, to say
    // whether the walk was cut.
    let mut frontier = vec![article.clone()];
    'levels: for depth in 1..=MAX_DOWNSTREAM_LEVELS + 1 {
        let mut next = Vec::new();
        for parent in &frontier {
            // One more than can be listed, to tell a cut; below the last level, whether there is any.
            let limit = if depth > MAX_DOWNSTREAM_LEVELS {
                2
            } else {
                MAX_DOWNSTREAM_ARTICLES - chain.downstream.len() + 1
            };
            for child in forwarders(archive, &searcher, &parent.url, limit)? {
                if !seen.insert(child.url.clone()) {
                    continue;
                }
                if depth > MAX_DOWNSTREAM_LEVELS
                    || chain.downstream.len() == MAX_DOWNSTREAM_ARTICLES
                {
                    chain.truncated = true;
                    break 'levels;
                }
                chain.downstream.push(ForwardLink {
                    origin: ForwardNode::archived(parent),
                    forwarder: ForwardNode::archived(&child),
                    delay_secs: Some(delay(parent, &child)),
                    depth,
                });
                next.push(child);
            }
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    Ok(chain)
}
