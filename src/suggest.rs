//! Codebook suggestions (`mediawatch campaigns suggest`): terms distinctive of a campaign's tagged
//! articles, each checked with the real tagger before a human adds it.
//!
//! 1. Foreground: the articles tagged with the campaign (`campaign:ID`), a seeded uniform sample
//!    ([`crate::search::terms::sample_matches`]); background: the untagged articles of the same outlets (the feeds
//!    of the sample) and period (its first to last day), sampled the same way (`--vs`). Same analysis,
//!    same score (G²).
//! 2. Each candidate becomes a codebook term: a stem whose surface forms all start with it (and that has
//!    at least two) becomes a prefix term `stem*`; any other term its most frequent surface form. Terms
//!    the campaign already has are skipped.
//! 3. `would_tag`: the archived articles the campaign does not tag now that hold the term (found by a
//!    search for it, at most [`MAX_CHECKED`]) are run through the real tagger ([`Tagger`]) with the term
//!    added to the campaign, so `min_terms`, `all`, `near`, `none` and the source rules all apply.
//! 4. `breaks`: the campaign's labelled examples (`campaigns test`, [`crate::codebook`]) are evaluated
//!    with the term added: a negative example it now tags is listed.

use std::collections::BTreeSet;
use std::path::PathBuf;

use tantivy::collector::{Count, TopDocs};

use crate::codebook::{self, Example};
use crate::index::Archive;
use crate::model::CampaignSpec;
use crate::search::terms::{self, DistinctiveTerm, TermsRequest};
use crate::search::{build_query, SearchRequest};
use crate::tag::{check_term, normalize, TagInput, Tagger};

/// Untagged articles holding a term that are run through the tagger at most, per term.
pub const MAX_CHECKED: usize = 5000;

/// What `campaigns suggest` asks.
#[derive(Debug, Clone)]
pub struct SuggestRequest {
    /// Only articles in this language (both sides).
    pub lang: Option<String>,
    /// Suggestions at most.
    pub limit: usize,
    /// Articles sampled on each side.
    pub sample: usize,
}

/// One suggested term.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Suggestion {
    /// The codebook term (as it would be written in `[campaigns.terms]`).
    pub term: String,
    /// The language list it would go into.
    pub lang: String,
    /// The distinctive term it comes from, with its counts and score.
    pub from: DistinctiveTerm,
    /// Archived articles the campaign does not tag now that it would tag with the term added.
    pub would_tag: usize,
    /// Untagged articles holding the term that were checked (at most [`MAX_CHECKED`]).
    pub checked: usize,
    /// Untagged articles holding the term in all (more than `checked`: `would_tag` is a lower bound).
    pub holding: usize,
    /// Negative examples the campaign would tag with the term added.
    pub breaks: Vec<PathBuf>,
    /// Positive examples it would tag that it does not tag now.
    pub fixes: Vec<PathBuf>,
}

/// What [`suggest`] found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SuggestReport {
    /// Campaign id.
    pub campaign: String,
    /// Tagged articles (all, and analysed).
    pub tagged: usize,
    /// Tagged articles analysed.
    pub tagged_sample: usize,
    /// The background query (untagged articles of the same outlets and period).
    pub background: String,
    /// Its matches.
    pub background_matches: usize,
    /// The suggestions, best first.
    pub suggestions: Vec<Suggestion>,
}

/// The codebook term a distinctive term suggests (see the module doc).
pub fn codebook_term(t: &DistinctiveTerm) -> String {
    if let Some(stem) = &t.stem {
        let distinct: BTreeSet<&str> = t.surfaces.iter().map(|(s, _)| s.as_str()).collect();
        if stem.chars().count() >= 4
            && distinct.len() >= 2
            && distinct.iter().all(|s| s.starts_with(stem.as_str()))
        {
            return format!("{stem}*");
        }
    }
    t.term.clone()
}

/// The query that finds the articles holding a term (a superset of what the codebook term matches,
/// but for prefix terms: the stem's inflections only).
fn holding_query(t: &DistinctiveTerm) -> String {
    let quoted = format!("\"{}\"", t.term.replace('"', ""));
    match t.kind {
        // A bare word is matched in the stemmed fields too.
        "stem" if !t.term.contains(' ') => t.term.replace('"', ""),
        _ => quoted,
    }
}

/// A campaign with one more main term in `lang`'s list.
pub fn with_term(spec: &CampaignSpec, lang: &str, term: &str) -> CampaignSpec {
    let mut spec = spec.clone();
    match spec.terms.iter_mut().find(|(l, _)| l == lang) {
        Some((_, list)) => list.push(term.to_string()),
        None => spec.terms.push((lang.to_string(), vec![term.to_string()])),
    }
    spec
}

/// Whether the campaign already has the term (after the tagger's normalisation).
fn has_term(spec: &CampaignSpec, term: &str) -> bool {
    let n = normalize(term.trim_matches('*'));
    spec.terms
        .iter()
        .flat_map(|(_, list)| list)
        .any(|t| normalize(t.trim_matches('*')).as_str() == n.as_str())
}

/// The examples a tagger tags, by path.
fn tagged_examples(
    tagger: &Tagger,
    spec: &CampaignSpec,
    examples: &[Example],
) -> BTreeSet<PathBuf> {
    let report = codebook::evaluate(tagger, std::slice::from_ref(spec), examples);
    // `evaluate` lists the examples it gets wrong: a tagged one is a positive it passes or a negative it
    // fails.
    let failed: BTreeSet<&PathBuf> = report.failures.iter().map(|f| &f.path).collect();
    examples
        .iter()
        .filter(|e| e.expected != failed.contains(&e.path))
        .map(|e| e.path.clone())
        .collect()
}

/// Suggests terms for `spec` from the archive; `examples` are its labelled examples.
pub fn suggest(
    archive: &Archive,
    spec: &CampaignSpec,
    examples: &[Example],
    req: &SuggestRequest,
) -> anyhow::Result<SuggestReport> {
    let examples: Vec<Example> = examples
        .iter()
        .filter(|e| e.campaign == spec.id)
        .cloned()
        .collect();
    let searcher = archive.searcher();
    let tagged_req = SearchRequest {
        query: format!("campaign:\"{}\"", spec.id),
        lang: req.lang.clone(),
        ..SearchRequest::default()
    };
    // The outlets and period of the tagged articles (from the sample).
    let (tagged, _, sample) =
        terms::sample_matches(archive, &searcher, &tagged_req, req.sample, true)?;
    let feeds: BTreeSet<&str> = sample.iter().map(|a| a.feed.as_str()).collect();
    let since = sample.iter().map(|a| a.dated_at().date_naive()).min();
    let until = sample.iter().map(|a| a.dated_at().date_naive()).max();
    let background = if feeds.is_empty() {
        format!("NOT campaign:\"{}\"", spec.id)
    } else {
        let feeds: Vec<String> = feeds.iter().map(|f| format!("feed:\"{f}\"")).collect();
        format!("({}) AND NOT campaign:\"{}\"", feeds.join(" OR "), spec.id)
    };
    let report = terms::terms(
        archive,
        &TermsRequest {
            search: SearchRequest {
                since,
                until,
                ..tagged_req.clone()
            },
            vs: Some(background.clone()),
            // More than asked: some are already in the codebook or not valid terms.
            limit: (req.limit * 3).clamp(1, terms::MAX_TERMS),
            sample: req.sample,
            min_docs: terms::DEFAULT_MIN_DOCS,
            // A campaign or feed filter ranks every match alike: sample them uniformly.
            uniform: true,
        },
    )?;
    let tagger = Tagger::new(std::slice::from_ref(spec))?;
    let tagged_now = tagged_examples(&tagger, spec, &examples);
    let mut suggestions = Vec::new();
    let mut seen = BTreeSet::new();
    for t in report.terms {
        if suggestions.len() >= req.limit {
            break;
        }
        let term = codebook_term(&t);
        if check_term(&term).is_err() || has_term(spec, &term) || !seen.insert(term.clone()) {
            continue;
        }
        let lang = t.lang.clone();
        let candidate = with_term(spec, &lang, &term);
        let Ok(tagger) = Tagger::new(std::slice::from_ref(&candidate)) else {
            continue;
        };
        // Untagged archived articles holding the term, run through the tagger with it added.
        let holding = SearchRequest {
            query: format!("({}) AND NOT campaign:\"{}\"", holding_query(&t), spec.id),
            ..SearchRequest::default()
        };
        let query = build_query(archive, &holding)?;
        let (total, top) = searcher.search(
            &*query,
            &(Count, TopDocs::with_limit(MAX_CHECKED).order_by_score()),
        )?;
        let mut would_tag = 0;
        for (_, address) in &top {
            let a = archive.article(&searcher, *address)?;
            let input = TagInput {
                title: &a.title,
                text: &a.text,
                lang: &a.lang.lang,
                feed: &a.feed,
                affiliation: a.affiliation,
                country: a.country.as_deref(),
            };
            if tagger.tag(&input).iter().any(|h| h.id == spec.id) {
                would_tag += 1;
            }
        }
        let tagged_then = tagged_examples(&tagger, &candidate, &examples);
        let newly: Vec<&PathBuf> = tagged_then.difference(&tagged_now).collect();
        let expected = |p: &PathBuf| examples.iter().any(|e| &e.path == p && e.expected);
        suggestions.push(Suggestion {
            term,
            lang,
            would_tag,
            checked: top.len(),
            holding: total,
            breaks: newly
                .iter()
                .filter(|p| !expected(p))
                .map(|p| (*p).clone())
                .collect(),
            fixes: newly
                .iter()
                .filter(|p| expected(p))
                .map(|p| (*p).clone())
                .collect(),
            from: t,
        });
    }
    Ok(SuggestReport {
        campaign: spec.id.clone(),
        tagged,
        tagged_sample: report.sample,
        background,
        background_matches: report.background_matches,
        suggestions,
    })
}

/// The TOML lines to paste into the campaign's `[campaigns.terms]`: each language list that gains a
/// term, whole (its terms now, then the suggestions that break no example).
pub fn toml_snippet(spec: &CampaignSpec, suggestions: &[Suggestion]) -> String {
    let mut langs: Vec<&str> = Vec::new();
    for s in suggestions.iter().filter(|s| s.breaks.is_empty()) {
        if !langs.contains(&s.lang.as_str()) {
            langs.push(&s.lang);
        }
    }
    let quote = |s: &str| toml_string(s);
    let mut out = format!(
        "# campaign {:?}: replace these lines of its [campaigns.terms] in feeds.toml (suggestions that\n\
         # tag a negative example are left out; check every term before adding it)\n[campaigns.terms]\n",
        spec.id
    );
    if langs.is_empty() {
        out.push_str("# (no suggestion breaks no example)\n");
    }
    for lang in langs {
        let mut list: Vec<String> = spec
            .terms
            .iter()
            .find(|(l, _)| l == lang)
            .map(|(_, t)| t.clone())
            .unwrap_or_default();
        list.extend(
            suggestions
                .iter()
                .filter(|s| s.lang == lang && s.breaks.is_empty())
                .map(|s| s.term.clone()),
        );
        let items: Vec<String> = list.iter().map(|t| quote(t)).collect();
        out.push_str(&format!("{lang} = [{}]\n", items.join(", ")));
    }
    out
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(term: &str, stem: Option<&str>, surfaces: &[&str]) -> DistinctiveTerm {
        DistinctiveTerm {
            term: term.into(),
            kind: if stem.is_some() { "stem" } else { "word" },
            lang: "ru".into(),
            stem: stem.map(String::from),
            fg_count: 1,
            fg_size: 1,
            bg_count: 0,
            bg_size: 1,
            score: 1.0,
            example: None,
            surfaces: surfaces.iter().map(|s| (s.to_string(), 1)).collect(),
        }
    }

    #[test]
    fn stems_become_prefix_terms_when_every_form_starts_with_them() {
        assert_eq!(
            codebook_term(&term("украины", Some("украин"), &["украины", "украина"])),
            "украин*"
        );
        // One form only, or a stem that is not a prefix of a form (folding): the surface form.
        assert_eq!(
            codebook_term(&term("украины", Some("украин"), &["украины"])),
            "украины"
        );
        assert_eq!(
            codebook_term(&term("sécurité", Some("secur"), &["sécurité", "securite"])),
            "sécurité"
        );
        assert_eq!(codebook_term(&term("台湾", None, &["台湾"])), "台湾");
    }

    #[test]
    fn the_snippet_keeps_the_list_and_adds_what_breaks_nothing() {
        let spec = CampaignSpec {
            id: "c".into(),
            terms: vec![("en".into(), vec!["Kiev regime".into()])],
            min_terms: 1,
            ..CampaignSpec::default()
        };
        let s = |t: &str, lang: &str, breaks: bool| Suggestion {
            term: t.into(),
            lang: lang.into(),
            from: term(t, None, &[t]),
            would_tag: 1,
            checked: 1,
            holding: 1,
            breaks: if breaks { vec!["n.txt".into()] } else { vec![] },
            fixes: vec![],
        };
        let snippet = toml_snippet(
            &spec,
            &[
                s("junta", "en", false),
                s("bad \"x\"", "en", true),
                s("хунта", "ru", false),
            ],
        );
        assert!(
            snippet.contains("en = [\"Kiev regime\", \"junta\"]\n"),
            "{snippet}"
        );
        assert!(snippet.contains("ru = [\"хунта\"]\n"), "{snippet}");
        assert!(!snippet.contains("bad"), "{snippet}");
        let parsed: toml::Value = toml::from_str(&snippet).expect("valid TOML");
        assert!(parsed.get("campaigns").is_some());
        assert!(has_term(&spec, "KIEV REGIME"));
        assert!(!has_term(&spec, "junta"));
    }
}
