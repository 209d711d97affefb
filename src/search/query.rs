//! The query: the user's text rewritten (`source:` alias, `lang:` case, `AND NOT`, days in
//! `published:`), parsed with tantivy's grammar, quoted phrases pointed at the exact and pairs fields,
//! and ANDed with the request's filters; errors as [`QueryError`] with the spot they are about.

use std::sync::LazyLock;

use chrono::{NaiveDate, TimeZone, Utc};
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::query_grammar::{
    Delimiter, Occur as GrammarOccur, UserInputAst, UserInputLeaf, UserInputLiteral,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::Term;

use super::SearchRequest;
use crate::analysis;
use crate::index::Archive;

/// A query the user got wrong: shown with a caret under the spot, exit status 2.
#[derive(Debug, thiserror::Error)]
pub struct QueryError {
    /// The query text.
    pub query: String,
    /// What is wrong.
    pub message: String,
    /// Byte offset in `query` where it goes wrong, when known.
    pub position: Option<usize>,
}

impl QueryError {
    fn at(query: &str, position: Option<usize>, message: impl Into<String>) -> QueryError {
        QueryError {
            query: query.to_string(),
            message: message.into(),
            position: position.map(|p| p.min(query.len())),
        }
    }

    /// 1-based character column of the position.
    pub fn column(&self) -> Option<usize> {
        let p = self.position?;
        let p = (0..=p).rev().find(|&i| self.query.is_char_boundary(i))?;
        Some(self.query[..p].chars().count() + 1)
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.column() {
            Some(col) => write!(
                f,
                "bad query at column {col}: {}\n  {}\n  {}^",
                self.message,
                self.query,
                " ".repeat(col - 1)
            ),
            None => write!(f, "bad query {:?}: {}", self.query, self.message),
        }
    }
}

/// The fields a query may name (besides the alias `source`).
pub const QUERY_FIELDS: &[&str] = &[
    "title",
    "text",
    "feed",
    "lang",
    "script",
    "affiliation",
    "country",
    "campaign",
    "cluster",
    "published",
    "versions",
    "edited",
    "removed",
    "changed_at",
    "campaign_dropped",
];

/// Parses the request into one tantivy query (user query AND filters).
pub fn build_query(archive: &Archive, req: &SearchRequest) -> Result<Box<dyn Query>, QueryError> {
    let f = archive.fields;
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if !req.query.trim().is_empty() {
        let lang = req.lang.as_ref().map(|v| v.to_ascii_lowercase());
        let q = user_query(&archive.index().schema(), &f, &req.query, lang.as_deref())?;
        clauses.push((Occur::Must, q));
    }
    let term = |field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    };
    let filters: [(Field, Option<String>); 6] = [
        (f.lang, req.lang.as_ref().map(|v| v.to_ascii_lowercase())),
        (f.campaign, req.campaign.clone()),
        (f.feed, req.feed.clone()),
        (f.affiliation, req.affiliation.clone()),
        (f.country, req.country.clone()),
        (f.script, req.script.clone()),
    ];
    for (field, value) in filters {
        if let Some(v) = value {
            clauses.push((Occur::Must, term(field, &v)));
        }
    }
    let from = req.since.map(day_start);
    let to = req.until.and_then(|d| d.succ_opt()).map(day_start);
    if req.changed {
        // Changed articles only (those with a `changed_at`), the days bounding the change time.
        clauses.push((Occur::Must, archive.date_range(f.changed_at, from, to)));
    } else if from.is_some() || to.is_some() {
        clauses.push((Occur::Must, archive.published_range(from, to)));
    }
    if clauses.is_empty() {
        return Ok(Box::new(tantivy::query::AllQuery));
    }
    if clauses.len() == 1 && clauses[0].0 == Occur::Must {
        if let Some((_, q)) = clauses.pop() {
            return Ok(q);
        }
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// The user's query text as one tantivy query (no filters): checked, rewritten, parsed. With the
/// request's `lang` filter, bare terms look in that language's stemmed field alone: an article's stems
/// are indexed in the field of its own language only, so the other languages' fields cannot match the
/// filtered articles and would only cost a term look-up per segment each (same matches, same scores).
fn user_query(
    schema: &tantivy::schema::Schema,
    f: &crate::index::Fields,
    text: &str,
    lang: Option<&str>,
) -> Result<Box<dyn Query>, QueryError> {
    let stems: Vec<(&str, Field)> = f
        .stems
        .iter()
        .filter(|(l, _)| lang.is_none_or(|lang| lang == *l))
        .copied()
        .collect();
    let mut defaults = vec![f.title, f.text];
    defaults.extend(stems.iter().map(|&(_, field)| field));
    static QUERY_TOKENIZERS: LazyLock<tantivy::tokenizer::TokenizerManager> =
        LazyLock::new(analysis::query_tokenizers);
    let mut parser = QueryParser::new(schema.clone(), defaults, QUERY_TOKENIZERS.clone());
    parser.set_conjunction_by_default();
    parser.set_field_boost(f.title, 2.0);
    parser.set_field_boost(f.title_pairs, 2.0);
    for &(_, field) in &f.stems {
        parser.set_field_boost(field, 0.8);
    }
    let ast = parse(text)?;
    parser
        .build_query_from_user_input_ast(exact_phrases(ast, &stems))
        .map_err(|e| parser_error(text, e))
}

/// The query `text` as a search parses it, before fields are resolved: its nesting and length checked
/// before any recursive parser sees it, its aliases and dates rewritten, then tantivy's grammar.
pub(super) fn parse(text: &str) -> Result<UserInputAst, QueryError> {
    check_nesting(text)?;
    check_length(text)?;
    let rewritten = rewrite_query(text)?;
    tantivy::query_grammar::parse_query(&rewritten).map_err(|_| {
        parser_error(
            text,
            tantivy::query::QueryParserError::SyntaxError(rewritten.clone()),
        )
    })
}

/// Checks a query as [`build_query`] parses it, without an archive (the config's alerts): the same
/// errors a search with it would give.
pub fn check_query(text: &str) -> Result<(), QueryError> {
    if text.trim().is_empty() {
        return Ok(());
    }
    static SCHEMA: LazyLock<(tantivy::schema::Schema, crate::index::Fields)> =
        LazyLock::new(crate::index::schema);
    user_query(&SCHEMA.0, &SCHEMA.1, text, None).map(|_| ())
}

/// Quoted phrases (and quoted words) match the exact form: an unfielded one is looked for in `title`
/// and `text`, not in the stemmed fields. The `title`/`text` side of a phrase without slop that has
/// two adjacent common words ([`analysis::is_common`]) is answered from the pairs fields: a two-word
/// phrase is one pair term, a longer one is the phrase AND its pairs (which narrow the documents whose
/// positions are read; weight 0, so the phrase alone ranks). A bare run of Han characters that jieba
/// cuts into several words is a phrase too (tantivy makes it one), so its `title`/`text` side takes
/// the same way and its stemmed-field side stays as it was.
fn exact_phrases(ast: UserInputAst, stems: &[(&str, Field)]) -> UserInputAst {
    match ast {
        UserInputAst::Clause(clauses) => UserInputAst::Clause(
            clauses
                .into_iter()
                .map(|(occur, a)| (occur, exact_phrases(a, stems)))
                .collect(),
        ),
        UserInputAst::Boost(a, boost) => {
            UserInputAst::Boost(Box::new(exact_phrases(*a, stems)), boost)
        }
        UserInputAst::Leaf(leaf) => match *leaf {
            UserInputLeaf::Literal(lit) if lit.delimiter != Delimiter::None && !lit.prefix => {
                match lit.field_name.as_deref() {
                    None => UserInputAst::Clause(vec![
                        (
                            Some(GrammarOccur::Should),
                            exact_phrase(lit.clone(), "title"),
                        ),
                        (Some(GrammarOccur::Should), exact_phrase(lit, "text")),
                    ]),
                    Some("title") => exact_phrase(lit, "title"),
                    Some("text") => exact_phrase(lit, "text"),
                    _ => literal(lit),
                }
            }
            UserInputLeaf::Literal(lit)
                if lit.delimiter == Delimiter::None
                    && !lit.prefix
                    && lit.phrase.chars().any(crate::text::script::is_cjk)
                    && matches!(lit.field_name.as_deref(), None | Some("title" | "text"))
                    && !pairs_of_chain(&analysis::tokenize(&lit.phrase)).is_empty() =>
            {
                match lit.field_name.as_deref() {
                    Some("title") => exact_phrase(lit, "title"),
                    Some("text") => exact_phrase(lit, "text"),
                    _ => {
                        let mut clauses = vec![
                            (
                                Some(GrammarOccur::Should),
                                exact_phrase(lit.clone(), "title"),
                            ),
                            (
                                Some(GrammarOccur::Should),
                                exact_phrase(lit.clone(), "text"),
                            ),
                        ];
                        clauses.extend(stems.iter().map(|(lang, _)| {
                            (
                                Some(GrammarOccur::Should),
                                literal(UserInputLiteral {
                                    field_name: Some(format!("stem_{lang}")),
                                    ..lit.clone()
                                }),
                            )
                        }));
                        UserInputAst::Clause(clauses)
                    }
                }
            }
            other => UserInputAst::Leaf(Box::new(other)),
        },
    }
}

/// The common-word pairs ([`analysis::pair_term`]) a phrase of these tokens implies, when the tokens
/// are a plain chain (the first at position 0, each next one right after the one before, at its
/// [`analysis::token_width`]): then the phrase holds exactly where its tokens stand at those
/// distances, and a pair of two adjacent common tokens is in a document's pairs field exactly when
/// the two stand there. Anything else (a gap, words cut over each other) gives no pairs.
fn pairs_of_chain(tokens: &[tantivy::tokenizer::Token]) -> Vec<String> {
    let chain = tokens.first().is_some_and(|t| t.position == 0)
        && tokens
            .windows(2)
            .all(|w| w[1].position == w[0].position + analysis::token_width(&w[0].text));
    if tokens.len() < 2 || !chain {
        return Vec::new();
    }
    tokens
        .windows(2)
        .filter(|w| analysis::is_common(&w[0].text) && analysis::is_common(&w[1].text))
        .map(|w| analysis::pair_term(&w[0].text, &w[1].text))
        .collect()
}

/// One quoted literal in `field` (`title` or `text`), through `<field>_pairs` where that is exact.
fn exact_phrase(lit: UserInputLiteral, field: &'static str) -> UserInputAst {
    let phrase = UserInputLiteral {
        field_name: Some(field.to_string()),
        ..lit
    };
    if phrase.slop > 0 {
        return literal(phrase);
    }
    let tokens = analysis::tokenize(&phrase.phrase);
    let mut pairs: Vec<UserInputAst> = pairs_of_chain(&tokens)
        .into_iter()
        .map(|pair| {
            literal(UserInputLiteral {
                field_name: Some(format!("{field}_pairs")),
                phrase: pair,
                delimiter: Delimiter::DoubleQuotes,
                slop: 0,
                prefix: false,
            })
        })
        .collect();
    match (tokens.len(), pairs.len()) {
        (_, 0) => literal(phrase),
        (2, 1) => pairs.remove(0),
        _ => {
            let mut clauses = vec![(Some(GrammarOccur::Must), literal(phrase))];
            clauses.extend(pairs.into_iter().map(|p| {
                (
                    Some(GrammarOccur::Must),
                    UserInputAst::Boost(Box::new(p), 0.0.into()),
                )
            }));
            UserInputAst::Clause(clauses)
        }
    }
}

fn literal(lit: UserInputLiteral) -> UserInputAst {
    UserInputAst::Leaf(Box::new(UserInputLeaf::Literal(lit)))
}

fn day_start(d: NaiveDate) -> tantivy::DateTime {
    let dt = Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
    tantivy::DateTime::from_timestamp_secs(dt.timestamp())
}

/// A parser error with the spot it is about: the grammar's own position for syntax errors, the field
/// name for unknown fields, the value for bad values.
fn parser_error(query: &str, e: tantivy::query::QueryParserError) -> QueryError {
    use tantivy::query::QueryParserError as E;
    match e {
        E::FieldDoesNotExist(name) => {
            let position = find_field(query, &name);
            QueryError::at(
                query,
                position,
                format!(
                    "unknown field `{name}`; fields are {} (and `source` for `feed`)",
                    QUERY_FIELDS.join(", ")
                ),
            )
        }
        E::SyntaxError(_) => {
            let (_, errors) = tantivy::query_grammar::parse_query_lenient(query);
            let position = errors.first().map(|e| e.pos).or(Some(query.len()));
            let detail = errors
                .first()
                .map(|e| e.message.clone())
                .unwrap_or_else(|| "syntax error".into());
            QueryError::at(query, position, format!("syntax error: {detail}"))
        }
        other => {
            let (_, errors) = tantivy::query_grammar::parse_query_lenient(query);
            QueryError::at(query, errors.first().map(|e| e.pos), other.to_string())
        }
    }
}

fn find_field(query: &str, name: &str) -> Option<usize> {
    let needle = format!("{name}:");
    query.match_indices(&needle).map(|(i, _)| i).find(|&i| {
        query[..i]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "(+-".contains(c))
    })
}

/// The longest query accepted, in bytes: room for hundreds of OR'ed terms, while parsing and rewriting
/// a query costs about 2 µs per byte of markup-like text (a 1 MB query took 2-3 s, found by `make fuzz`).
pub const MAX_QUERY_BYTES: usize = 16 * 1024;

/// Refuses a query longer than [`MAX_QUERY_BYTES`], pointing at where the limit falls.
fn check_length(query: &str) -> Result<(), QueryError> {
    if query.len() <= MAX_QUERY_BYTES {
        return Ok(());
    }
    let at = crate::charset::floor_char_boundary(query, MAX_QUERY_BYTES);
    Err(QueryError::at(
        &query[..at],
        Some(at),
        format!(
            "the query is {} bytes, more than {MAX_QUERY_BYTES}: split it, or narrow it with filters",
            query.len()
        ),
    ))
}

/// How deep groups may nest: parentheses, and `NOT`s in a row (each is one level of tantivy's
/// recursive grammar, and of every walk over the parsed query after it). Far above any real query,
/// far below what overflows a 2 MB thread stack (the web's workers).
pub const MAX_NESTING: usize = 64;

/// Refuses a query nested deeper than [`MAX_NESTING`] before any recursive parser sees it: 8,500
/// nested parentheses used to overflow the stack and abort the process. Quoted text is skipped; an
/// unbalanced `)` is left for the grammar to report.
fn check_nesting(query: &str) -> Result<(), QueryError> {
    // Per open group: the level inside it. `pending`: `NOT`s in a row waiting for their operand.
    let mut levels: Vec<usize> = Vec::new();
    let mut pending = 0;
    let mut chars = query.char_indices();
    while let Some((i, c)) = chars.next() {
        let base = levels.last().copied().unwrap_or(0);
        let level = match c {
            '\\' => {
                chars.next();
                pending = 0;
                continue;
            }
            '"' | '\'' if query[..i].chars().next_back().is_none_or(opens_term) => {
                // A quoted phrase, skipped when it is closed (a stray quote is one character).
                let mut rest = chars.clone();
                while let Some((_, q)) = rest.next() {
                    if q == '\\' {
                        rest.next();
                    } else if q == c {
                        chars = rest;
                        break;
                    }
                }
                pending = 0;
                continue;
            }
            '(' => {
                let level = base + pending + 1;
                levels.push(level);
                pending = 0;
                level
            }
            ')' => {
                levels.pop();
                pending = 0;
                continue;
            }
            'N' if query[i..].starts_with("NOT")
                && query[i + 3..].starts_with(char::is_whitespace)
                && query[..i].chars().next_back().is_none_or(opens_term) =>
            {
                chars.next();
                chars.next();
                pending += 1;
                base + pending
            }
            c if c.is_whitespace() => continue,
            _ => {
                pending = 0;
                continue;
            }
        };
        if level > MAX_NESTING {
            return Err(QueryError::at(
                query,
                Some(i),
                format!(
                    "groups nested more than {MAX_NESTING} deep (parentheses and NOTs in a row): \
                     write the query flatter"
                ),
            ));
        }
    }
    Ok(())
}

/// Whether a term may start after this character.
fn opens_term(c: char) -> bool {
    c.is_whitespace() || "(+-:".contains(c)
}

/// A day or range of days in a date field (`published:`, `changed_at:`).
static PUBLISHED: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(published|changed_at):(?:([\[{])\s*(\S+)\s+TO\s+([^\]}\s]+)\s*([\]}])|(>=|<=|>|<)?(\d{4}-\d{2}-\d{2})\b)",
    )
    .expect("valid regex")
});

/// Field names researchers use that the index spells otherwise (`source:` is `feed:`), and days in
/// `published:` and `changed_at:` ranges turned into the instants tantivy wants (a day's end bound is the next midnight).
fn rewrite_query(query: &str) -> Result<String, QueryError> {
    let aliased = lower_lang(&and_not(&with_aliases(query)));
    let mut out = String::with_capacity(aliased.len());
    let mut last = 0;
    for caps in PUBLISHED.captures_iter(&aliased) {
        let Some(whole) = caps.get(0) else { continue };
        out.push_str(&aliased[last..whole.start()]);
        last = whole.end();
        let field = caps.get(1).map_or("published", |m| m.as_str());
        // Positions in `aliased` equal those in `query` up to a `source:` before them; find the
        // value in the original for the error.
        let day = |text: &str| -> Result<Option<NaiveDate>, QueryError> {
            if text == "*" || text.contains('T') {
                return Ok(None);
            }
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| {
                    QueryError::at(
                        query,
                        query.find(text),
                        format!("{text:?} is not a day like 2026-01-31 in `{field}:`"),
                    )
                })
        };
        let next = |d: NaiveDate| d.succ_opt().unwrap_or(d);
        let instant = |d: NaiveDate| format!("{}T00:00:00Z", d.format("%Y-%m-%d"));
        if let (Some(open), Some(lo), Some(hi), Some(close)) =
            (caps.get(2), caps.get(3), caps.get(4), caps.get(5))
        {
            let lower = match (day(lo.as_str())?, open.as_str()) {
                (Some(d), "[") => format!("[{}", instant(d)),
                (Some(d), _) => format!("[{}", instant(next(d))),
                (None, o) => format!("{o}{}", lo.as_str()),
            };
            let upper = match (day(hi.as_str())?, close.as_str()) {
                (Some(d), "]") => format!("{}}}", instant(next(d))),
                (Some(d), _) => format!("{}}}", instant(d)),
                (None, c) => format!("{}{c}", hi.as_str()),
            };
            out.push_str(&format!("{field}:{lower} TO {upper}"));
        } else if let Some(d) = caps.get(7) {
            let Some(d) = day(d.as_str())? else { continue };
            let text = match caps.get(6).map(|m| m.as_str()) {
                Some(">=") => format!("{field}:>={}", instant(d)),
                Some(">") => format!("{field}:>={}", instant(next(d))),
                Some("<") => format!("{field}:<{}", instant(d)),
                Some("<=") => format!("{field}:<{}", instant(next(d))),
                _ => format!("{field}:[{} TO {}}}", instant(d), instant(next(d))),
            };
            out.push_str(&text);
        }
    }
    out.push_str(&aliased[last..]);
    Ok(out)
}

static LANG: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"(^|[\s(+-])lang:([A-Za-z]{2,3})\b").expect("valid regex"));

/// `lang:RU` is `lang:ru` (languages are indexed in lower case).
fn lower_lang(query: &str) -> String {
    LANG.replace_all(query, |c: &regex::Captures| {
        format!("{}lang:{}", &c[1], c[2].to_ascii_lowercase())
    })
    .into_owned()
}

static AND_NOT: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"\s+AND\s+NOT\s+").expect("valid regex"));

/// `a AND NOT b` as `a -b` outside quotes: tantivy reads it as `+a +(-b)`, and a clause of only
/// exclusions matches nothing.
fn and_not(query: &str) -> String {
    query
        .split('"')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 0 {
                AND_NOT.replace_all(part, " -").into_owned()
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\"")
}

/// `source:` is `feed:`.
fn with_aliases(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    while let Some(i) = rest.find("source:") {
        let at_word_start = rest[..i]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "(+-".contains(c));
        out.push_str(&rest[..i]);
        out.push_str(if at_word_start { "feed:" } else { "source:" });
        rest = &rest[i + "source:".len()..];
    }
    out.push_str(rest);
    out
}

/// A day that is not `YYYY-MM-DD` (a `--since`/`--from` flag or a `since=` parameter).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a date like 2026-11-28")]
pub struct DayError(pub String);

/// Parses `YYYY-MM-DD`.
pub fn parse_day(s: &str) -> Result<NaiveDate, DayError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| DayError(s.to_string()))
}
