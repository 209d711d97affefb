//! Class/id hints: the word lists that mark an element's `class`/`id` as
//! boilerplate (removal, strong and weak) or as article text (scoring
//! weights), and the predicates over them. Which hint decides what, and how
//! much text a removal may take, is up to the main-text search (`body.rs`).

use std::borrow::Cow;

use super::dom::DNode;

/// Hint words that mark an element as boilerplate when found anywhere in its
/// class/id (substring match).
const NEG_SUBSTR: &[&str] = &[
    "comment",
    "share",
    "sharing",
    "social",
    "related",
    "newsletter",
    "cookie",
    "subscri",
    "promo",
    "sidebar",
    "breadcrumb",
    "sponsor",
    "advert",
    "outbrain",
    "taboola",
    "disqus",
    "recommend",
    "popup",
    "modal",
    "gdpr",
    "consent",
    "skyscraper",
    "shoutbox",
    "banner",
    "masthead",
    "footer",
    "navbar",
    "navigation",
    "pagination",
    "pager",
    "signup",
    "sign-up",
    "widget",
    "byline",
    "dateline",
    "timestamp",
    "toolbar",
    "tooltip",
    "most-popular",
    "mostpopular",
    "trending",
    "more-stories",
    "read-more",
    "readmore",
    "author-bio",
    "authorbio",
    "author-info",
    "share-",
    "donate",
    "paywall",
    "login",
    "register",
    "jump-link",
    "skip-link",
    "visually-hidden",
    "sr-only",
    "screen-reader",
    "caption",
    "credit",
    "copyright",
    "tags",
    "tagline",
    "topics",
    "keywords",
    "meta-",
    "-meta",
    "follow",
    "rss",
    "feedback",
    "rating",
    "survey",
    "nav-",
    "-nav",
    "menu",
    "overlay",
    "teaser",
    "carousel",
    "slider",
    "gallery",
    "popover",
    "hovercard",
    "rollover",
    "authorbox",
    "author-box",
    "author-description",
    "about-author",
    "disclosure",
    "affiliate",
    "crumb",
    "linkbox",
    "linklist",
    "link-list",
    "contact",
];

/// Short hint tokens that must match a whole class/id token. Not "info" nor
/// "bottom": they name where a block sits or that it informs ("product-info",
/// "page-bottom"), not that it is boilerplate; removing such blocks cost
/// article text on trafilatura-eval (6 pages on 3 of 4 tune folds; README).
const NEG_TOKENS: &[&str] = &[
    "ad", "ads", "adv", "advert", "nav", "tag", "meta", "header", "aside", "extra", "links",
    "author", "date", "email", "search", "share", "tools", "utility", "top", "related", "hide",
    "hid", "foot", "cta", "print", "byline", "details", "hidden", "authors", "alert",
];

/// Hint words that mark article text (a substring match). Not "post": it is
/// as often the prefix of a post's furniture ("post-meta", "post-tags",
/// "post-nav", "related-posts") as of its body, which "content"/"entry"/
/// "body" already mark ("post-content", "entry-content").
const POS_SUBSTR: &[&str] = &[
    "article",
    "body",
    "content",
    "entry",
    "hentry",
    "h-entry",
    "main",
    "text",
    "blog",
    "story",
    "prose",
    "richtext",
    "rich-text",
];

/// Words that look negative but are article content.
const NEG_EXCEPTIONS: &[&str] = &["commentary", "comments-count", "shared-content"];

/// The hint with [`NEG_EXCEPTIONS`] blanked out (borrowed when it has none).
fn without_exceptions(hint: &str) -> Cow<'_, str> {
    // Every exception contains "comment" or "shared".
    if !hint.contains("comment") && !hint.contains("shared") {
        return Cow::Borrowed(hint);
    }
    let mut h = hint.to_string();
    for ex in NEG_EXCEPTIONS {
        if h.contains(ex) {
            h = h.replace(ex, " ");
        }
    }
    Cow::Owned(h)
}

/// One Aho-Corasick automaton per word list: a single scan of the hint
/// instead of one substring search per word (and far cheaper to build than
/// the equivalent regex alternation, which a short run pays for).
type WordsRe = std::sync::OnceLock<Option<aho_corasick::AhoCorasick>>;
static NEG_SUBSTR_RE: WordsRe = std::sync::OnceLock::new();
static STRONG_NEG_RE: WordsRe = std::sync::OnceLock::new();
static WEIGHT_NEG_RE: WordsRe = std::sync::OnceLock::new();
static POS_SUBSTR_RE: WordsRe = std::sync::OnceLock::new();

/// Whether `h` contains any of `words` (`re` caches their automaton).
fn contains_any(h: &str, words: &[&str], re: &WordsRe) -> bool {
    let re = re.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
            .build(words)
            .ok()
    });
    match re {
        Some(re) => re.is_match(h),
        None => words.iter().any(|w| h.contains(w)),
    }
}

pub(super) fn hint_tokens(hint: &str) -> impl Iterator<Item = &str> {
    hint.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
}

pub(super) fn hint_negative(hint: &str) -> bool {
    if hint.is_empty() {
        return false;
    }
    let h = without_exceptions(hint);
    if contains_any(&h, NEG_SUBSTR, &NEG_SUBSTR_RE) {
        return true;
    }
    let found = hint_tokens(&h).any(|t| NEG_TOKENS.contains(&t));
    found
}

pub(super) fn hint_positive(hint: &str) -> bool {
    !hint.is_empty() && contains_any(hint, POS_SUBSTR, &POS_SUBSTR_RE)
}

/// Strongly negative hints: removed even when the element also has a
/// positive word ("article-comments", "post-share"). Kinds of blocks only,
/// no plugin or theme class names (they fit the pages of one site).
const STRONG_NEG: &[&str] = &[
    "comment",
    "share",
    "social",
    "related",
    "newsletter",
    "cookie",
    "subscri",
    "promo",
    "sidebar",
    "breadcrumb",
    "sponsor",
    "advert",
    "outbrain",
    "taboola",
    "disqus",
    "recommend",
    "popup",
    "modal",
    "gdpr",
    "consent",
    "paywall",
    "signup",
    "sign-up",
    "most-popular",
    "more-stories",
    "read-more",
    "readmore",
    "author-bio",
    "authorbio",
    "visually-hidden",
    "sr-only",
    "screen-reader",
    "byline",
    "caption",
    "dateline",
    "timestamp",
    "toolbar",
    "trending",
    "authorbox",
    "author-box",
    "author-description",
    "about-author",
    "disclosure",
    "affiliate",
    "crumb",
    "linkbox",
    "linklist",
    "link-list",
];

pub(super) fn hint_strong_negative(hint: &str) -> bool {
    if hint.is_empty() {
        return false;
    }
    let h = without_exceptions(hint);
    if contains_any(&h, STRONG_NEG, &STRONG_NEG_RE) {
        return true;
    }
    // "tag-foo" / "nav-tabs" style modifiers (WordPress puts "tag-xyz" on the
    // post itself) only count as whole class names; "ad-slot" counts.
    let found = hint_tokens(&h).any(|t| matches!(t, "ad" | "ads" | "adv"))
        || h.split_whitespace()
            .any(|c| matches!(c, "tags" | "tag" | "nav"));
    found
}

/// Hint words used for scoring weights (narrower than the removal lists:
/// a wrong weight moves a whole container).
const WEIGHT_NEG: &[&str] = &[
    "comment",
    "combx",
    "footer",
    "gdpr",
    "masthead",
    "outbrain",
    "taboola",
    "promo",
    "related",
    "share",
    "social",
    "shoutbox",
    "sidebar",
    "skyscraper",
    "sponsor",
    "shopping",
    "newsletter",
    "cookie",
    "recommend",
    "breadcrumb",
    "banner",
    "advert",
    "popup",
    "modal",
];

fn hint_weight_negative(hint: &str) -> bool {
    if hint.is_empty() {
        return false;
    }
    let h = without_exceptions(hint);
    if contains_any(&h, WEIGHT_NEG, &WEIGHT_NEG_RE) {
        return true;
    }
    let found =
        hint_tokens(&h).any(|t| matches!(t, "ad" | "ads" | "tags" | "nav" | "hidden" | "hid"));
    found
}

pub(super) fn class_weight(n: &DNode) -> f32 {
    let mut w = 0.0;
    if hint_weight_negative(&n.hint) {
        w -= 25.0;
    }
    if hint_positive(&n.hint) {
        w += 25.0;
    }
    if n.itemprop_body {
        w += 50.0;
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_prefix_is_not_a_content_hint() {
        // The furniture of a blog post is not its body...
        for h in [
            "post-meta",
            "post-tags",
            "postmetadata",
            "related-posts",
            "post-nav",
        ] {
            assert!(!hint_positive(h), "{h}");
        }
        // ...which the content words still mark.
        for h in ["post-content", "entry-content", "post-body", "article-text"] {
            assert!(hint_positive(h), "{h}");
        }
    }

    #[test]
    fn position_and_info_tokens_are_not_boilerplate() {
        for h in ["product-info", "info", "page-bottom", "bottom"] {
            assert!(!hint_negative(h), "{h}");
        }
        // Kinds of boilerplate are still found.
        for h in [
            "author-info",
            "post-tags",
            "share-bar",
            "footer-links",
            "ad",
        ] {
            assert!(hint_negative(h), "{h}");
        }
    }
}
