//! Snippets: the fragment of an article's text that shows a match, with the byte ranges to highlight
//! (stemmed matches included), and the one-line forms hits carry.

use std::collections::{BTreeMap, HashMap};

use tantivy::query::Query;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{DocSet, Score, Term};

use crate::index::Archive;
use crate::model::Article;

/// (so a stemmed match is highlighted too). Built lazily, once per field.
pub(super) struct Snippets<'a> {
    archive: &'a Archive,
    searcher: &'a tantivy::Searcher,
    query: &'a dyn Query,
    enabled: bool,
    /// Per field: the query's terms that occur in it, and the generator (none when no term occurs).
    generators: HashMap<Field, Option<(Vec<Term>, SnippetGenerator)>>,
}

impl<'a> Snippets<'a> {
    pub(super) fn new(
        archive: &'a Archive,
        searcher: &'a tantivy::Searcher,
        query: &'a dyn Query,
        enabled: bool,
    ) -> Snippets<'a> {
        Snippets {
            archive,
            searcher,
            query,
            enabled,
            generators: HashMap::new(),
        }
    }

    /// The first fragment of the article's text with a match (or its first fragment when none has):
    /// the text is read in chunks of about [`SNIPPET_CHUNK`] bytes, so a match near the start costs a
    /// chunk's tokenizing, not the whole article's. A field is read only when the index says the
    /// document holds one of the query's terms in it: the exact field first (the forms the user typed;
    /// its analyzer is the cheaper one), else the stemmed field of the article's language (inflected
    /// forms); an article that matched by its title alone is not tokenized at all.
    pub(super) fn of(
        &mut self,
        article: &Article,
        address: tantivy::DocAddress,
    ) -> Option<(String, Vec<std::ops::Range<usize>>)> {
        if !self.enabled {
            return None;
        }
        let f = self.archive.fields;
        let mut first = None;
        for field in [Some(f.text), f.stem(&article.lang.lang)]
            .into_iter()
            .flatten()
        {
            let (searcher, query) = (self.searcher, self.query);
            let generator = self.generators.entry(field).or_insert_with(|| {
                // The query's terms in this field that occur in the index, each scored as
                // `SnippetGenerator::create` scores them (rarer terms weigh more); looked up once.
                let mut terms = Vec::new();
                let mut scored = BTreeMap::new();
                let mut add = |term: &Term| {
                    let value = term.value();
                    let Some(text) = value.as_str() else {
                        return;
                    };
                    let df = searcher.doc_freq(term).unwrap_or(0);
                    if df > 0 && !scored.contains_key(text) {
                        scored.insert(text.to_string(), 1.0 / (1.0 + df as Score));
                        terms.push(term.clone());
                    }
                };
                query.query_terms(&mut |term, _| {
                    if term.field() == field {
                        add(term);
                    } else if term.field() == f.text_pairs && field == f.text {
                        // A phrase answered by its pair term: highlight its two words.
                        if let Some(pair) = term.value().as_str() {
                            for word in pair.split(' ') {
                                add(&Term::from_field_text(f.text, word));
                            }
                        }
                    }
                });
                if terms.is_empty() {
                    return None;
                }
                let tokenizer = searcher.index().tokenizer_for_field(field).ok()?;
                let tokenizer = TextAnalyzer::from(InTextOrder(tokenizer));
                Some((terms, SnippetGenerator::new(scored, tokenizer, field, 240)))
            });
            let Some((terms, g)) = generator else {
                continue;
            };
            if !holds_any(searcher, address, field, terms) {
                continue;
            }
            for chunk in chunks(&article.text, SNIPPET_CHUNK).take(SNIPPET_MAX_CHUNKS) {
                let s = g.snippet(chunk);
                if s.fragment().trim().is_empty() {
                    continue;
                }
                let found = (s.fragment().to_string(), s.highlighted().to_vec());
                if !found.1.is_empty() {
                    return Some(found);
                }
                first.get_or_insert(found);
            }
        }
        first
    }
}

/// The analyzer a snippet is cut with: the field's tokens in text order. jieba's search mode gives a
/// long word after the words inside it (an earlier start), and tantivy's choice of fragment assumes that
/// starts never go back: a fragment starting inside such a word got a highlight before its start (a
/// subtraction past zero, a panic in debug builds, wrong ranges in release).
#[derive(Clone)]
struct InTextOrder(TextAnalyzer);

/// [`InTextOrder`]'s tokens, last first (taken from the end).
struct Ordered {
    rest: Vec<Token>,
    current: Token,
}

impl Tokenizer for InTextOrder {
    type TokenStream<'a> = Ordered;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Ordered {
        let mut rest = Vec::new();
        let mut stream = self.0.token_stream(text);
        while stream.advance() {
            rest.push(stream.token().clone());
        }
        rest.sort_by_key(|t| std::cmp::Reverse((t.offset_from, t.offset_to, t.position)));
        Ordered {
            rest,
            current: Token::default(),
        }
    }
}

impl TokenStream for Ordered {
    fn advance(&mut self) -> bool {
        match self.rest.pop() {
            Some(t) => {
                self.current = t;
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.current
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.current
    }
}

/// Whether the document at `address` holds one of `terms` (all of `field`), from the postings lists.
/// An error reads as "yes" (the snippet is then looked for in the text).
fn holds_any(
    searcher: &tantivy::Searcher,
    address: tantivy::DocAddress,
    field: Field,
    terms: &[Term],
) -> bool {
    let segment = searcher.segment_reader(address.segment_ord);
    let Ok(index) = segment.inverted_index(field) else {
        return true;
    };
    terms.iter().any(|term| {
        match index.read_postings(term, IndexRecordOption::Basic) {
            Ok(Some(mut postings)) => {
                // `seek` wants a target at or after the current document.
                let first = postings.doc();
                first == address.doc_id
                    || (first < address.doc_id && postings.seek(address.doc_id) == address.doc_id)
            }
            Ok(None) => false,
            Err(_) => true,
        }
    })
}

/// Bytes of text tokenized at a time when looking for a snippet.
const SNIPPET_CHUNK: usize = 500;
/// Chunks read at most (a match further in than ~100 KB gets the article's first fragment).
const SNIPPET_MAX_CHUNKS: usize = 200;

/// `text` in pieces of about `size` bytes, cut at a paragraph break, else a line break, else a space
/// or an ideographic full stop, else a character boundary, so words are rarely cut.
fn chunks(text: &str, size: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if rest.len() <= size + size / 2 {
            return Some(std::mem::take(&mut rest));
        }
        let mut end = size;
        while !rest.is_char_boundary(end) {
            end += 1;
        }
        let mut window_end = rest.len().min(end + size / 2);
        while !rest.is_char_boundary(window_end) {
            window_end -= 1;
        }
        let window = &rest[end..window_end];
        let after = |pat: &str| window.find(pat).map(|i| i + pat.len());
        let cut = end
            + after("\n\n")
                .or_else(|| after("\n"))
                .or_else(|| after(" "))
                .or_else(|| after("\u{3002}"))
                .unwrap_or(0);
        let (head, tail) = rest.split_at(cut);
        rest = tail;
        Some(head)
    })
}

pub(super) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// [`one_line`] that carries byte ranges of `s` over to the result.
pub(super) fn one_line_with(
    s: &str,
    ranges: &[std::ops::Range<usize>],
) -> (String, Vec<[usize; 2]>) {
    let mut out = String::with_capacity(s.len());
    // map[i] = offset in `out` of byte i of `s` (for the kept bytes; ends map to the next kept byte).
    let mut map = vec![0usize; s.len() + 1];
    let mut pending_space = false;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            let to = out.len() + usize::from(pending_space);
            map[i..i + c.len_utf8()].fill(to);
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        for (k, b) in (i..i + c.len_utf8()).enumerate() {
            map[b] = out.len() + k;
        }
        out.push(c);
    }
    map[s.len()] = out.len();
    let highlights = ranges
        .iter()
        .filter(|r| r.start < r.end && r.end <= s.len())
        .map(|r| {
            let start = map[r.start].min(out.len());
            let end = r
                .end
                .checked_sub(1)
                .map_or(start, |e| map[e] + 1)
                .min(out.len());
            [start, end.max(start)]
        })
        .filter(|[a, b]| a < b && out.is_char_boundary(*a) && out.is_char_boundary(*b))
        .collect();
    (out, highlights)
}

/// The first `n` characters of `s`, with an ellipsis when cut.
pub fn truncate_chars(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chinese_word_cut_in_parts_is_highlighted_inside_its_fragment() {
        // jieba's search mode gives 祖国, 国统, 统一, then 祖国统一 (starting before 统一): a fragment
        // that starts at 统一 (with 6 bytes before the text: the third article) must not get a
        // highlight starting before it.
        let dir = tempfile::tempdir().unwrap();
        let archive = Archive::open_or_create(dir.path()).unwrap();
        let mut w = archive.writer().unwrap();
        for (i, filler) in ["", "会", "会谈", "表示会"].iter().enumerate() {
            let text = format!("{filler}{}", "祖国统一。".repeat(60));
            let mut a = crate::model::sample_article(i as u32, "报告".into(), text);
            a.lang.lang = "zh".into();
            a.lang.script = Some("Hans".into());
            w.upsert(&a).unwrap();
        }
        w.commit().unwrap();
        archive.reload().unwrap();
        let req = crate::search::SearchRequest {
            query: "祖国统一".into(),
            limit: 10,
            ..Default::default()
        };
        let results = crate::search::search(&archive, &req).unwrap();
        assert_eq!(results.hits.len(), 4);
        for hit in &results.hits {
            assert!(!hit.highlights.is_empty(), "{hit:?}");
            for r in &hit.highlights {
                let word = hit.snippet.get(r[0]..r[1]);
                assert!(
                    word.is_some_and(|w| "祖国统一".contains(w)),
                    "{r:?} in {:?}",
                    hit.snippet
                );
            }
        }
    }

    #[test]
    fn chunks_cover_the_text_and_cut_at_breaks() {
        let text = format!(
            "{}\n\n{}{}",
            "word ".repeat(400),
            "字".repeat(900),
            "。尾".repeat(10)
        );
        let pieces: Vec<&str> = chunks(&text, 1500).collect();
        assert_eq!(pieces.concat(), text);
        assert!(pieces.len() > 1);
        // The first cut is at the paragraph break, not inside a word.
        assert!(pieces[0].ends_with("word \n\n"), "{:?}", &pieces[0][1990..]);
        assert!(pieces.iter().all(|p| p.len() <= 1500 + 750 + 4));
        // Any size on text mixing 1- to 4-byte characters: no panic, nothing lost.
        let mixed = "aé字𝄞 \n".repeat(50);
        for size in 1..60 {
            assert_eq!(
                chunks(&mixed, size).collect::<String>(),
                mixed,
                "size {size}"
            );
        }
        assert_eq!(chunks("", 10).count(), 0);
        assert_eq!(chunks("short", 1500).collect::<Vec<_>>(), ["short"]);
    }
}
