//! Search (issue #6): Chinese scripts, stemming, phrases with slop, every filter and field alias, facets
//! and histograms against brute-force counts, exports with provenance, query errors, the writer lock.
//! The articles are written here (our own short texts) and indexed directly.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use mediawatch::index::{Archive, WriterLock};
use mediawatch::model::{Affiliation, Article, CampaignHit, LangInfo};
use mediawatch::search::{self, ExportFormat, Interval, QueryError, SearchRequest};

struct Doc {
    title: &'static str,
    text: &'static str,
    lang: &'static str,
    script: &'static str,
    feed: &'static str,
    country: Option<&'static str>,
    affiliation: Affiliation,
    campaigns: &'static [&'static str],
}

const fn doc(
    title: &'static str,
    text: &'static str,
    lang: &'static str,
    script: &'static str,
    feed: &'static str,
) -> Doc {
    Doc {
        title,
        text,
        lang,
        script,
        feed,
        country: None,
        affiliation: Affiliation::Unknown,
        campaigns: &[],
    }
}

fn fixtures() -> Vec<Doc> {
    let mut docs = vec![
        Doc {
            country: Some("CN"),
            affiliation: Affiliation::State,
            campaigns: &["taiwan"],
            ..doc("台湾问题", "国台办表示，台湾是中国的一部分，反对台独分裂活动。", "zh", "Hans", "xinhua-zh")
        },
        Doc {
            country: Some("TW"),
            affiliation: Affiliation::Independent,
            campaigns: &["taiwan"],
            ..doc("臺灣海峽", "解放軍軍機再度進入臺灣西南空域，國防部密切監控。", "zh", "Hant", "cna-zh")
        },
        Doc {
            country: Some("TW"),
            affiliation: Affiliation::Independent,
            ..doc("軟體產業", "這家軟體公司發表新的人工智慧模型。", "zh", "Hant", "cna-zh")
        },
        Doc {
            country: Some("RU"),
            affiliation: Affiliation::State,
            campaigns: &["ukraine"],
            ..doc("Киев и Запад", "Власти Украины снова просят оружие у Запада.", "ru", "Cyrl", "ria-ru")
        },
        Doc {
            country: Some("UA"),
            affiliation: Affiliation::Independent,
            ..doc("Новости", "Украина получила новый пакет помощи от союзников.", "ru", "Cyrl", "kyiv-ru")
        },
        Doc {
            country: Some("GB"),
            affiliation: Affiliation::Independent,
            campaigns: &["ukraine"],
            ..doc("New sanction", "The EU agreed a new sanction package on Russian oil.", "en", "Latn", "bbc-en")
        },
        Doc {
            country: Some("CN"),
            affiliation: Affiliation::State,
            campaigns: &["taiwan"],
            ..doc("Strait patrol", "The army held a joint combat readiness patrol near Taiwan formal independence activists.", "en", "Latn", "cgtn-en")
        },
        Doc {
            country: Some("CN"),
            affiliation: Affiliation::State,
            ..doc("Opinion", "Independence of Taiwan would mean war, the editorial said.", "en", "Latn", "cgtn-en")
        },
        Doc {
            country: Some("FR"),
            affiliation: Affiliation::Independent,
            ..doc("Défense", "Le conseil de sécurité se réunit sur la patrol en mer.", "fr", "Latn", "afp-fr")
        },
        Doc {
            country: Some("KR"),
            ..doc("회담", "서울에서 남북 회담이 열렸다.", "ko", "Kore", "yonhap-ko")
        },
        Doc {
            country: Some("JP"),
            ..doc("会談", "東京で日中首脳会談が行われました。", "ja", "Jpan", "nhk-ja")
        },
    ];
    // Bulk: more rows than any page size.
    const FEEDS: [&str; 3] = ["bulk-a", "bulk-b", "bulk-c"];
    for i in 0..240usize {
        docs.push(Doc {
            country: if i % 4 == 0 { None } else { Some("US") },
            affiliation: if i % 2 == 0 {
                Affiliation::State
            } else {
                Affiliation::Independent
            },
            campaigns: if i % 3 == 0 { &["ukraine"] } else { &[] },
            ..doc(
                "Bulk report",
                if i % 5 == 0 {
                    "A routine patrol report with sanctions on exports."
                } else {
                    "A routine bulletin about the weather and the markets."
                },
                "en",
                "Latn",
                FEEDS[i % 3],
            )
        });
    }
    // Chinese bulk: function words in many arrangements, in both scripts (phrases of common Han words
    // are answered from the pairs fields, which must agree with the positions).
    const ZH: [(&str, &str, &str); 6] = [
        ("和平", "我们的国家是一个和平的国家，他们也在这里。", "Hans"),
        ("立场", "他们说我们的立场没有改变，这是我们的原则。", "Hans"),
        ("軍隊", "這是我們的國家，他們的軍隊在這裡。", "Hant"),
        ("目的", "为了这个目的我们已经努力了，也是一个开始。", "Hans"),
        ("声明", "外交部表示，中国的立场是一贯的。", "Hans"),
        ("天气", "今天的天气很好。", "Hans"),
    ];
    for i in 0..36usize {
        let (title, text, script) = ZH[i % ZH.len()];
        docs.push(doc(title, text, "zh", script, "bulk-zh"));
    }
    docs
}

fn published(i: usize) -> DateTime<Utc> {
    // Spread over about three months, several per day, some on the same day.
    Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap() + chrono::Duration::hours(9 * i as i64)
}

fn article(i: usize, d: &Doc) -> Article {
    let url = format!("https://fixture.example/{}/{i}", d.feed);
    Article {
        id: format!("{i:016x}"),
        url: url.clone(),
        final_url: url,
        feed: d.feed.into(),
        source_name: d.feed.to_uppercase(),
        affiliation: d.affiliation,
        country: d.country.map(String::from),
        lang: LangInfo {
            lang: d.lang.into(),
            script: Some(d.script.into()),
            confidence: 1.0,
            reliable: true,
        },
        title: d.title.into(),
        text: d.text.into(),
        description: None,
        authors: vec![],
        published: Some(published(i)),
        modified: None,
        fetched_at: published(i),
        canonical_url: None,
        site_name: None,
        image: None,
        section: None,
        tags: vec![],
        campaigns: d
            .campaigns
            .iter()
            .map(|c| CampaignHit {
                id: (*c).into(),
                score: 1.0,
                terms: vec![],
            })
            .collect(),
        http_status: 200,
        text_source: "page".into(),
        cluster: None,
        post: None,
        revision: None,
    }
}

fn build() -> (tempfile::TempDir, Archive, Vec<Article>) {
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open_or_create(dir.path()).unwrap();
    let articles: Vec<Article> = fixtures()
        .iter()
        .enumerate()
        .map(|(i, d)| article(i, d))
        .collect();
    let mut writer = archive.writer().unwrap();
    for (k, a) in articles.iter().enumerate() {
        writer.upsert(a).unwrap();
        if k % 100 == 99 {
            writer.commit().unwrap(); // several segments
        }
    }
    writer.commit().unwrap();
    drop(writer);
    archive.reload().unwrap();
    (dir, archive, articles)
}

fn req(query: &str) -> SearchRequest {
    SearchRequest {
        query: query.into(),
        limit: 1000,
        ..Default::default()
    }
}

fn ids(archive: &Archive, r: &SearchRequest) -> Vec<String> {
    let mut v: Vec<String> = search::search(archive, r)
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.id)
        .collect();
    v.sort();
    v
}

fn q(archive: &Archive, query: &str) -> Vec<String> {
    ids(archive, &req(query))
}

fn expected(articles: &[Article], keep: impl Fn(&Article) -> bool) -> Vec<String> {
    let mut v: Vec<String> = articles
        .iter()
        .filter(|a| keep(a))
        .map(|a| a.id.clone())
        .collect();
    v.sort();
    v
}

/// A query and the brute-force predicate of what it must match.
type Case = (&'static str, Box<dyn Fn(&Article) -> bool>);

fn id(i: usize) -> String {
    format!("{i:016x}")
}

#[test]
fn search_chinese_japanese_korean() {
    let (_d, archive, _) = build();
    // Traditional and Simplified find each other, with Taiwan vocabulary (軟體 = 软件).
    assert_eq!(q(&archive, "台湾"), [id(0), id(1)]);
    assert_eq!(q(&archive, "臺灣"), [id(0), id(1)]);
    assert_eq!(q(&archive, "软件"), [id(2)]);
    assert_eq!(q(&archive, "人工智能"), [id(2)]);
    assert_eq!(q(&archive, "台独"), [id(0)]);
    assert_eq!(q(&archive, "解放军"), [id(1)]);
    // Korean and Japanese by substring (bigrams).
    assert_eq!(q(&archive, "서울"), [id(9)]);
    assert_eq!(q(&archive, "会談"), [id(10)]);
    assert_eq!(q(&archive, "東京"), [id(10)]);
}

#[test]
fn search_stemming_and_exact_forms() {
    let (_d, archive, articles) = build();
    // Russian stemming: either form finds both.
    assert_eq!(q(&archive, "Украины"), [id(3), id(4)]);
    assert_eq!(q(&archive, "украина"), [id(3), id(4)]);
    // The exact field keeps the form.
    assert_eq!(q(&archive, "text:Украины"), [id(3)]);
    // English: sanctions finds sanction (and the bulk rows saying sanctions).
    let sanctions = q(&archive, "sanctions");
    assert!(sanctions.contains(&id(5)));
    assert_eq!(
        q(&archive, "text:sanctions"),
        expected(&articles, |a| a.text.contains("sanctions"))
    );
    assert!(!q(&archive, "text:sanctions").contains(&id(5)));
    // Diacritics folded in the stemmed fields only.
    assert_eq!(q(&archive, "securite"), [id(8)]);
    assert!(q(&archive, "text:securite").is_empty());
}

/// The warm-up `serve` runs at start reads the files of the loaded segments, search files first and the
/// stored articles last, within its budget: the store, then positions, are what a budget too small for
/// everything leaves out.
#[test]
fn warmup_reads_the_files_of_the_loaded_segments_within_its_budget() {
    let (_d, archive, _) = build();
    const ORDER: [&str; 6] = ["fieldnorm", "term", "fast", "idx", "pos", "store"];
    let rank = |p: &std::path::Path| {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        ORDER.iter().position(|o| *o == ext)
    };
    let all = archive.warmup(u64::MAX);
    assert_eq!(all.skipped, 0);
    let ranks: Vec<usize> = all
        .files
        .iter()
        .map(|(p, _)| rank(p).unwrap_or_else(|| panic!("not an index file: {}", p.display())))
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    // Every loaded segment's files of each kind.
    let segments = archive.searcher().segment_readers().len();
    assert!(segments > 2);
    for (r, kind) in ORDER.iter().enumerate() {
        assert_eq!(
            ranks.iter().filter(|&&x| x == r).count(),
            segments,
            "{kind}"
        );
    }
    for (path, size) in &all.files {
        assert_eq!(std::fs::metadata(path).unwrap().len(), *size);
    }
    assert_eq!(all.read().unwrap(), all.bytes());
    assert!(all.bytes() > 0);

    let of = |r: usize| -> u64 {
        all.files
            .iter()
            .filter(|(p, _)| rank(p) == Some(r))
            .map(|(_, n)| n)
            .sum()
    };
    let (positions, store) = (of(4), of(5));
    assert!(positions > 0 && store > 0);
    let search_files = archive.warmup(all.bytes() - store);
    assert_eq!(search_files.skipped, store);
    assert!(search_files.files.iter().all(|(p, _)| rank(p) < Some(5)));
    assert_eq!(search_files.read().unwrap(), all.bytes() - store);
    let fewer = archive.warmup(all.bytes() - store - positions);
    assert_eq!(fewer.skipped, store + positions);
    assert!(fewer.files.iter().all(|(p, _)| rank(p) < Some(4)));

    let none = archive.warmup(0);
    assert!(none.files.is_empty());
    assert_eq!(none.skipped, all.bytes());
    assert_eq!(none.read().unwrap(), 0);
}

/// A search over the segments on several threads (as the CLI runs it) gives what one thread gives:
/// hits, scores, order, totals, facets and the timeline.
#[test]
fn search_on_several_threads_equals_one_thread() {
    let (d, one, _) = build();
    assert!(
        one.searcher().segment_readers().len() > 2,
        "several segments"
    );
    let mut many = Archive::open(d.path()).unwrap();
    many.set_search_threads(4).unwrap();
    let hits = |a: &Archive, r: &SearchRequest| -> (usize, Vec<(String, f32)>) {
        let res = search::search(a, r).unwrap();
        (
            res.total,
            res.hits.into_iter().map(|h| (h.id, h.score)).collect(),
        )
    };
    for query in [
        "bulk",
        "sanctions OR bulletin",
        "\"taiwan independence\"~3",
        "台湾",
        "",
    ] {
        for sort in [search::Sort::Relevance, search::Sort::Newest] {
            let mut r = req(query);
            r.sort = sort;
            r.limit = 25;
            let (a, b) = (hits(&one, &r), hits(&many, &r));
            assert!(a.0 > 0, "{query}");
            assert_eq!(a, b, "{query} {sort:?}");
            let (x, y) = (
                search::overview(&one, &r).unwrap(),
                search::overview(&many, &r).unwrap(),
            );
            assert_eq!(x.facets, y.facets, "{query}");
            assert_eq!(
                x.timeline(search::Interval::Day),
                y.timeline(search::Interval::Day),
                "{query}"
            );
        }
    }
}

/// `offset` skips the best hits in every order: a page equals that slice of one long search, and its
/// total is every match (#31: a page reads and snippets its own hits only).
#[test]
fn search_offset_pages_equal_slices_of_one_search() {
    let (_d, archive, _) = build();
    for sort in [
        search::Sort::Relevance,
        search::Sort::Newest,
        search::Sort::Oldest,
    ] {
        for query in [
            "bulk",
            "sanctions OR bulletin",
            "\"taiwan independence\"~3",
            "",
        ] {
            let mut all = req(query);
            all.sort = sort;
            let all = search::search(&archive, &all).unwrap();
            assert!(all.total > 0, "{query}");
            let ids: Vec<&str> = all.hits.iter().map(|h| h.id.as_str()).collect();
            for (offset, limit) in [(0, 7), (7, 7), (3, 100), (all.total - 1, 5), (all.total, 5)] {
                let mut page = req(query);
                page.sort = sort;
                page.offset = offset;
                page.limit = limit;
                let got = search::search(&archive, &page).unwrap();
                assert_eq!(got.total, all.total, "{query} {sort:?} {offset}");
                let want: Vec<&str> = ids.iter().skip(offset).take(limit).copied().collect();
                let got: Vec<&str> = got.hits.iter().map(|h| h.id.as_str()).collect();
                assert_eq!(got, want, "{query} {sort:?} offset {offset} limit {limit}");
            }
        }
    }
}

/// With a `lang` filter a bare term looks in that language's stemmed field alone (#31): the same hits,
/// in the same order with the same scores, as the whole query ANDed with `lang:` in the query text.
#[test]
fn search_lang_filter_keeps_hits_and_scores() {
    let (_d, archive, _) = build();
    let queries = [
        "Украины",
        "украина",
        "sanctions",
        "securite",
        "台湾",
        "sanctions OR Украины OR securite OR 台湾",
        "\"taiwan independence\"~3",
        "bulletin -sanctions",
        "",
    ];
    let hits = |r: &SearchRequest| -> Vec<(String, f32)> {
        search::search(&archive, r)
            .unwrap()
            .hits
            .into_iter()
            .map(|h| (h.id, h.score))
            .collect()
    };
    let mut compared = 0;
    for query in queries {
        for lang in ["ru", "EN", "fr", "zh", "ja"] {
            let mut filtered = req(query);
            filtered.lang = Some(lang.into());
            let lower = lang.to_ascii_lowercase();
            let spelled = if query.is_empty() {
                req(&format!("lang:{lower}"))
            } else {
                req(&format!("({query}) AND lang:{lower}"))
            };
            let (a, b) = (hits(&filtered), hits(&spelled));
            assert_eq!(
                a.iter().map(|h| &h.0).collect::<Vec<_>>(),
                b.iter().map(|h| &h.0).collect::<Vec<_>>(),
                "{query} lang={lang}"
            );
            for ((id, x), (_, y)) in a.iter().zip(&b) {
                assert!((x - y).abs() < 1e-4, "{query} lang={lang} {id}: {x} vs {y}");
            }
            compared += a.len();
        }
    }
    assert!(
        compared > 10,
        "the cases should match something: {compared}"
    );
}

#[test]
fn search_phrases_with_slop_and_boolean_syntax() {
    let (_d, archive, articles) = build();
    assert!(q(&archive, "\"taiwan independence\"").is_empty());
    assert_eq!(q(&archive, "\"taiwan independence\"~1"), [id(6)]);
    // A wide enough slop also takes the reversed order ("independence of Taiwan").
    assert_eq!(q(&archive, "\"taiwan independence\"~3"), [id(6), id(7)]);
    // "Taiwan would mean war": two words between.
    assert!(q(&archive, "\"taiwan war\"~1").is_empty());
    assert_eq!(q(&archive, "\"taiwan war\"~2"), [id(7)]);
    assert_eq!(
        q(&archive, "(taiwan OR украина) AND NOT lang:ru"),
        [id(6), id(7)]
    );
    let patrol = expected(&articles, |a| a.text.contains("patrol"));
    assert_eq!(q(&archive, "patrol"), patrol);
    assert_eq!(
        q(&archive, "patrol -feed:bulk-a"),
        expected(&articles, |a| a.text.contains("patrol")
            && a.feed != "bulk-a")
    );
}

/// Whether the tokens of `phrase` occur one after the other in `text`, tokenized as the index does.
fn holds_phrase(text: &str, phrase: &str) -> bool {
    let words: Vec<String> = mediawatch::analysis::tokenize(phrase)
        .into_iter()
        .map(|t| t.text)
        .collect();
    let tokens: Vec<String> = mediawatch::analysis::tokenize(text)
        .into_iter()
        .map(|t| t.text)
        .collect();
    tokens.windows(words.len()).any(|w| w == words.as_slice())
}

/// Whether `phrase` stands in `text` as a phrase query matches it: its tokens at the same distances
/// in positions as in the phrase (several tokens may share a position, as jieba's search mode cuts).
fn holds_at_positions(text: &str, phrase: &str) -> bool {
    let words = mediawatch::analysis::tokenize(phrase);
    let tokens = mediawatch::analysis::tokenize(text);
    let Some(first) = words.first() else {
        return false;
    };
    tokens.iter().filter(|t| t.text == first.text).any(|start| {
        words.iter().all(|w| {
            let at = start.position + w.position - first.position;
            tokens.iter().any(|t| t.position == at && t.text == w.text)
        })
    })
}

#[test]
fn search_chinese_phrases_of_common_words_against_brute_force() {
    let (_d, archive, articles) = build();
    let phrases = [
        "我们的",
        "的国家",
        "是一个",
        "他们也在",
        "他们的",
        "的我们",
        "我们已经",
        "这是我们的",
        "這是我們的",
        "的立场",
        "中国的立场",
        "也是一个开始",
        "很好",
        "的天气很好",
        "是 一个",
        "的 我们",
    ];
    let f = archive.fields;
    let mut pairs_used = 0;
    for phrase in phrases {
        let want = expected(&articles, |a| {
            holds_at_positions(&a.title, phrase) || holds_at_positions(&a.text, phrase)
        });
        let in_text = expected(&articles, |a| holds_at_positions(&a.text, phrase));
        // Bare (tantivy makes the words of a Han run a phrase; with a space they are two terms),
        // quoted, and in one field.
        let bare = (!phrase.contains(' ')).then(|| phrase.to_string());
        for query in bare.into_iter().chain([format!("\"{phrase}\"")]) {
            assert_eq!(q(&archive, &query), want, "{query:?}");
            assert_eq!(
                q(&archive, &format!("text:{query}")),
                in_text,
                "text:{query}"
            );
            let mut fields = Vec::new();
            search::build_query(&archive, &req(&query))
                .unwrap()
                .query_terms(&mut |term, _| fields.push(term.field()));
            pairs_used += usize::from(fields.contains(&f.text_pairs));
        }
    }
    // The pairs fields answered some of them, and the comparison is not vacuous.
    assert!(pairs_used >= 10, "{pairs_used}");
    assert_eq!(q(&archive, "我们的").len(), 18);
    assert_eq!(q(&archive, "的我们"), Vec::<String>::new());
    assert!(q(&archive, "\"的 我们\"").is_empty());
    assert_eq!(q(&archive, "的立场").len(), 12);
}

#[test]
fn search_phrases_with_common_words_against_brute_force() {
    let (_d, archive, articles) = build();
    // Phrases with a common word are answered from the pairs fields (two words: one pair term; longer:
    // the phrase narrowed by its pairs); the others by positions. Either way: what the words in a row
    // find, in the title or the text, exactly as written.
    let phrases = [
        "of taiwan",
        "independence of taiwan",
        "the army",
        "the army held",
        "a routine",
        "a routine patrol",
        "a routine patrol report with sanctions",
        "report with sanctions",
        "the patrol",
        "taiwan the",
        "у запада",
        "от союзников",
        "и запад",
        "киев и запад",
        "routine bulletin",
        "sur la patrol",
        "la patrol en mer",
        "about the",
        "and the",
        "about the weather",
        "bulletin about the weather and the markets",
        "the weather and the",
        "of the",
        "the and",
    ];
    for phrase in phrases {
        let want = expected(&articles, |a| {
            holds_phrase(&a.title, phrase) || holds_phrase(&a.text, phrase)
        });
        assert_eq!(q(&archive, &format!("\"{phrase}\"")), want, "{phrase:?}");
        let in_text = expected(&articles, |a| holds_phrase(&a.text, phrase));
        assert_eq!(
            q(&archive, &format!("text:\"{phrase}\"")),
            in_text,
            "text:{phrase:?}"
        );
        let in_title = expected(&articles, |a| holds_phrase(&a.title, phrase));
        assert_eq!(
            q(&archive, &format!("title:\"{phrase}\"")),
            in_title,
            "title:{phrase:?}"
        );
    }
    // Two common words are one pair term, no positions read; a longer phrase with two common words in
    // a row keeps its position check and adds their pairs; without such a pair the phrase is positions
    // alone.
    let terms = |query: &str| {
        let mut found = Vec::new();
        search::build_query(&archive, &req(query))
            .unwrap()
            .query_terms(&mut |term, positions| found.push((term.field(), positions)));
        found
    };
    let f = archive.fields;
    let pair = terms("\"about the\"");
    assert!(pair.contains(&(f.text_pairs, false)) && pair.contains(&(f.title_pairs, false)));
    assert!(pair.iter().all(|&(_, positions)| !positions), "{pair:?}");
    let longer = terms("\"the weather and the\"");
    assert!(longer.contains(&(f.text_pairs, false)) && longer.contains(&(f.text, true)));
    for plain in ["\"routine bulletin\"", "\"of taiwan\"", "\"the army held\""] {
        let plain = terms(plain);
        assert!(plain
            .iter()
            .all(|&(field, _)| field == f.text || field == f.title));
    }
    // Some of them match nothing, some a few, some many: the comparison is not vacuous.
    assert!(q(&archive, "\"the patrol\"").is_empty());
    assert_eq!(q(&archive, "\"of taiwan\""), [id(7)]);
    assert_eq!(q(&archive, "\"и запад\""), [id(3)]);
    assert_eq!(q(&archive, "\"a routine patrol\"").len(), 48);
    assert_eq!(q(&archive, "\"about the weather\"").len(), 192);
    assert!(q(&archive, "\"the and\"").is_empty());
    // A quoted word or phrase is the exact form: no stemming.
    assert_eq!(q(&archive, "\"Украины\""), [id(3)]);
    assert_eq!(q(&archive, "\"new sanctions\""), Vec::<String>::new());
    assert_eq!(q(&archive, "\"new sanction\""), [id(5)]);
    // A pair-answered phrase still gets its words highlighted.
    let r = search::search(&archive, &req("\"about the\"")).unwrap();
    let hit = &r.hits[0];
    let snippet = &hit.snippet;
    assert!(!hit.highlights.is_empty(), "{hit:?}");
    for h in &hit.highlights {
        let word = snippet[h[0]..h[1]].to_lowercase();
        assert!(word == "about" || word == "the", "{word:?} in {snippet:?}");
    }
}

#[test]
fn search_every_filter_and_alias_against_brute_force() {
    let (_d, archive, articles) = build();
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let cases: Vec<Case> = vec![
        ("title:bulk", Box::new(|a| a.title.starts_with("Bulk"))),
        ("text:bulletin", Box::new(|a| a.text.contains("bulletin"))),
        ("feed:bulk-b", Box::new(|a| a.feed == "bulk-b")),
        ("source:bulk-b", Box::new(|a| a.feed == "bulk-b")),
        ("lang:ru", Box::new(|a| a.lang.lang == "ru")),
        ("lang:RU", Box::new(|a| a.lang.lang == "ru")),
        (
            "script:Hant",
            Box::new(|a| a.lang.script.as_deref() == Some("Hant")),
        ),
        (
            "campaign:ukraine",
            Box::new(|a| a.campaigns.iter().any(|c| c.id == "ukraine")),
        ),
        (
            "affiliation:state",
            Box::new(|a| a.affiliation == Affiliation::State),
        ),
        (
            "country:TW",
            Box::new(|a| a.country.as_deref() == Some("TW")),
        ),
        (
            "published:[2026-01-10 TO 2026-01-20]",
            Box::new(move |a| {
                let d = a.dated_at().date_naive();
                d >= day("2026-01-10") && d <= day("2026-01-20")
            }),
        ),
        (
            "published:{2026-01-10 TO 2026-01-20}",
            Box::new(move |a| {
                let d = a.dated_at().date_naive();
                d > day("2026-01-10") && d < day("2026-01-20")
            }),
        ),
        (
            "published:[* TO 2026-01-03]",
            Box::new(move |a| a.dated_at().date_naive() <= day("2026-01-03")),
        ),
        (
            "published:[2026-03-10 TO *]",
            Box::new(move |a| a.dated_at().date_naive() >= day("2026-03-10")),
        ),
        (
            "published:2026-02-03",
            Box::new(move |a| a.dated_at().date_naive() == day("2026-02-03")),
        ),
        (
            "published:>=2026-03-01",
            Box::new(move |a| a.dated_at().date_naive() >= day("2026-03-01")),
        ),
        (
            "published:<2026-01-05 AND lang:en",
            Box::new(move |a| a.dated_at().date_naive() < day("2026-01-05") && a.lang.lang == "en"),
        ),
    ];
    for (query, keep) in &cases {
        let want = expected(&articles, keep);
        assert!(
            !want.is_empty(),
            "{query}: the fixtures should match something"
        );
        assert_eq!(q(&archive, query), want, "{query}");
    }
    // The request's filters (CLI flags) give the same sets.
    let mut r = req("");
    r.country = Some("CN".into());
    r.script = Some("Latn".into());
    r.affiliation = Some("state".into());
    r.campaign = Some("taiwan".into());
    r.since = Some(day("2026-01-01"));
    r.until = Some(day("2026-01-31"));
    assert_eq!(
        ids(&archive, &r),
        expected(&articles, |a| a.country.as_deref() == Some("CN")
            && a.lang.script.as_deref() == Some("Latn")
            && a.affiliation == Affiliation::State
            && a.campaigns.iter().any(|c| c.id == "taiwan")
            && a.dated_at().date_naive() <= day("2026-01-31"))
    );
    let mut r = req("");
    r.feed = Some("bulk-c".into());
    r.lang = Some("EN".into());
    assert_eq!(
        ids(&archive, &r),
        expected(&articles, |a| a.feed == "bulk-c")
    );
}

#[test]
fn search_sorts_and_highlights() {
    let (_d, archive, _) = build();
    let mut r = req("patrol");
    r.sort = search::Sort::Newest;
    let hits = search::search(&archive, &r).unwrap().hits;
    let dates: Vec<_> = hits.iter().map(|h| h.published.clone()).collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);
    // Highlights are byte ranges of the snippet that hold the matched word, also for stemmed matches.
    let r = req("Украины");
    for h in search::search(&archive, &r).unwrap().hits {
        assert!(!h.highlights.is_empty(), "{}", h.snippet);
        for [a, b] in &h.highlights {
            assert!(
                h.snippet[*a..*b].to_lowercase().starts_with("украин"),
                "{}",
                &h.snippet[*a..*b]
            );
        }
    }
    let h = &search::search(&archive, &req("臺灣")).unwrap().hits;
    assert!(h.iter().all(|h| h
        .highlights
        .iter()
        .any(|[a, b]| { matches!(&h.snippet[*a..*b], "台湾" | "臺灣") })));
}

fn brute_facets(
    articles: &[Article],
    keep: impl Fn(&Article) -> bool,
) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut m: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut add =
        |k: &str, v: &str| *m.entry(k.into()).or_default().entry(v.into()).or_default() += 1;
    for a in articles.iter().filter(|a| keep(a)) {
        for c in &a.campaigns {
            add("campaign", &c.id);
        }
        add("feed", &a.feed);
        add("lang", &a.lang.lang);
        add("affiliation", a.affiliation.as_str());
        if let Some(c) = &a.country {
            add("country", c);
        }
        if let Some(s) = &a.lang.script {
            add("script", s);
        }
    }
    m
}

#[test]
fn search_facets_and_histogram_against_brute_force() {
    let (_d, archive, articles) = build();
    let cases: Vec<Case> = vec![
        ("", Box::new(|_| true)),
        ("patrol", Box::new(|a| a.text.contains("patrol"))),
        (
            "affiliation:state",
            Box::new(|a| a.affiliation == Affiliation::State),
        ),
    ];
    for (query, keep) in &cases {
        let f = search::facets(&archive, &req(query)).unwrap();
        assert_eq!(f.total, articles.iter().filter(|a| keep(a)).count() as u64);
        let mut got: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for (name, list) in [
            ("campaign", &f.campaign),
            ("feed", &f.feed),
            ("lang", &f.lang),
            ("affiliation", &f.affiliation),
            ("country", &f.country),
            ("script", &f.script),
        ] {
            // Most frequent first.
            assert!(list.windows(2).all(|w| w[0].count >= w[1].count), "{name}");
            for c in list {
                got.entry(name.into())
                    .or_default()
                    .insert(c.value.clone(), c.count);
            }
        }
        assert_eq!(got, brute_facets(&articles, keep), "facets of {query:?}");

        for interval in [Interval::Day, Interval::Week, Interval::Month] {
            let buckets = search::histogram(&archive, &req(query), interval).unwrap();
            let mut want: BTreeMap<NaiveDate, u64> = BTreeMap::new();
            for a in articles.iter().filter(|a| keep(a)) {
                let d = a.dated_at().date_naive();
                let start = match interval {
                    Interval::Day => d,
                    Interval::Week => NaiveDate::from_isoywd_opt(
                        d.iso_week().year(),
                        d.iso_week().week(),
                        chrono::Weekday::Mon,
                    )
                    .unwrap(),
                    Interval::Month => NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap(),
                };
                *want.entry(start).or_default() += 1;
            }
            let got: BTreeMap<NaiveDate, u64> = buckets
                .iter()
                .filter(|b| b.count > 0)
                .map(|b| (b.start, b.count))
                .collect();
            assert_eq!(got, want, "{query:?} by {interval:?}");
            // Consecutive buckets, gaps filled with zeros.
            assert_eq!(
                buckets.first().map(|b| b.start),
                want.keys().next().copied()
            );
            assert_eq!(
                buckets.last().map(|b| b.start),
                want.keys().next_back().copied()
            );
        }

        // The one-pass overview (the web's) counts the same as the separate passes.
        let mut r = req(query);
        r.limit = 7;
        let o = search::overview(&archive, &r).unwrap();
        assert_eq!(o.facets, f, "overview facets of {query:?}");
        let alone = search::search(&archive, &r).unwrap();
        assert_eq!(o.results.total, alone.total);
        let hit_ids =
            |hits: &[mediawatch::model::Hit]| hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
        assert_eq!(hit_ids(&o.results.hits), hit_ids(&alone.hits));
        for interval in [Interval::Day, Interval::Week, Interval::Month] {
            assert_eq!(
                o.timeline(interval),
                search::histogram(&archive, &req(query), interval).unwrap(),
                "overview timeline of {query:?} by {interval:?}"
            );
        }
    }
}

#[test]
fn search_highlights_a_match_deep_in_a_long_article() {
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open_or_create(dir.path()).unwrap();
    // ~40 KB of paragraphs without the word, then one paragraph with it (and a Chinese one).
    let filler = "Officials met again in the capital to discuss the budget and the harbour.\n\n";
    let en: &'static str = Box::leak(
        format!(
            "{}The new sanctions package was agreed late on Friday.",
            filler.repeat(500)
        )
        .into_boxed_str(),
    );
    let zh: &'static str = Box::leak(
        format!(
            "{}最后，國防部表示將持續監控臺灣周邊海域。",
            "政府官员在首都讨论预算问题。".repeat(1500)
        )
        .into_boxed_str(),
    );
    let docs = [
        doc("Budget talks", en, "en", "Latn", "bbc-en"),
        doc("海峡", zh, "zh", "Hant", "cna-zh"),
    ];
    let mut writer = archive.writer().unwrap();
    for (i, d) in docs.iter().enumerate() {
        writer.upsert(&article(i, d)).unwrap();
    }
    writer.commit().unwrap();
    drop(writer);
    archive.reload().unwrap();
    for (query, want) in [
        ("sanction", "sanctions"),
        ("台湾", "臺灣"),
        ("text:sanctions", "sanctions"),
    ] {
        let hits = search::search(&archive, &req(query)).unwrap().hits;
        assert_eq!(hits.len(), 1, "{query}");
        let h = &hits[0];
        let marked: Vec<&str> = h
            .highlights
            .iter()
            .map(|[a, b]| &h.snippet[*a..*b])
            .collect();
        assert_eq!(marked, [want], "{query}: {}", h.snippet);
    }
}

#[test]
fn search_export_streams_everything_with_stable_provenance() {
    let (_d, archive, articles) = build();
    let r = SearchRequest {
        query: "routine".into(),
        limit: 5,
        ..Default::default()
    };
    let want = articles
        .iter()
        .filter(|a| a.text.contains("routine"))
        .count();
    assert!(want > 200);
    let mut first = Vec::new();
    let p1 = search::export(&archive, &r, ExportFormat::Csv, &mut first).unwrap();
    let mut second = Vec::new();
    let p2 = search::export(&archive, &r, ExportFormat::Csv, &mut second).unwrap();
    assert_eq!(p1.matches as usize, want);
    assert_eq!(p1.sha256, p2.sha256);
    assert_eq!(first, second);
    use sha2::Digest;
    assert_eq!(p1.sha256, hex::encode(sha2::Sha256::digest(&first)));
    let mut rdr = csv::Reader::from_reader(&first[..]);
    assert_eq!(rdr.records().count(), want);
    assert_eq!(p1.query, "routine");
    assert_eq!(p1.index_commit.articles, articles.len() as u64);

    let mut lines = Vec::new();
    let p = search::export(&archive, &r, ExportFormat::Jsonl, &mut lines).unwrap();
    let text = String::from_utf8(lines).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        seen.insert(v["id"].as_str().unwrap().to_string());
    }
    assert_eq!(seen.len(), want);
    assert_eq!(p.matches as usize, want);
}

#[test]
fn search_syntax_errors_point_at_the_spot() {
    let (_d, archive, _) = build();
    let err = |query: &str| -> QueryError {
        match search::search(&archive, &req(query)) {
            Ok(_) => panic!("{query:?} should fail"),
            Err(e) => e.downcast::<QueryError>().unwrap(),
        }
    };
    let e = err("taiwan AND nonsense:x");
    assert_eq!(e.position, Some(11));
    assert!(
        e.message.contains("unknown field `nonsense`"),
        "{}",
        e.message
    );
    let shown = e.to_string();
    assert!(shown.contains("column 12"), "{shown}");
    assert!(
        shown.ends_with(&format!("\n  {}^", " ".repeat(11))),
        "{shown}"
    );

    let e = err("published:[2026-13-01 TO 2026-02-01]");
    assert_eq!(e.position, Some(11));
    let e = err("title:(unclosed");
    assert!(e.position.is_some(), "{e}");
    assert!(e.to_string().contains("bad query at column"), "{e}");
}

#[test]
fn search_writer_lock_left_behind_never_blocks_whatever_pid_it_names() {
    // A crash or a reboot leaves writer.lock behind, and its PID is soon another live process's: this
    // test's parent (cargo) and PID 1 are alive and unrelated. Neither blocks a writer.
    let dir = tempfile::tempdir().unwrap();
    for pid in [std::os::unix::process::parent_id(), 1] {
        std::fs::write(
            dir.path().join("writer.lock"),
            format!("pid={pid}\nstarted=2026-01-01T00:00:00Z\n"),
        )
        .unwrap();
        let lock = WriterLock::acquire(dir.path()).unwrap();
        let text = std::fs::read_to_string(dir.path().join("writer.lock")).unwrap();
        assert!(
            text.starts_with(&format!("pid={}\nstarted=", std::process::id())),
            "{text}"
        );
        // Taken again by the same process: allowed, and that guard does not release it.
        drop(WriterLock::acquire(dir.path()).unwrap());
        assert!(dir.path().join("writer.lock").exists());
        drop(lock);
        assert!(!dir.path().join("writer.lock").exists());
    }
}

#[test]
fn search_writer_lock_refuses_a_live_writer_and_dies_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("feeds.toml");
    let text = std::fs::read_to_string(crate::support::site_dir().join("feeds.toml.template"))
        .unwrap()
        .replace("{{BASE}}", "http://127.0.0.1:9");
    std::fs::write(&config, text.replace("path = \"index\"", "path = \".\"")).unwrap();
    // Another process writes: the daemon takes the lock first thing and keeps it.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mediawatch"))
        .args(["--config", config.to_str().unwrap(), "run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock_file = dir.path().join("writer.lock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !std::fs::read_to_string(&lock_file)
        .is_ok_and(|t| t.starts_with(&format!("pid={}\n", child.id())))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "`mediawatch run` never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let e = WriterLock::acquire(dir.path()).unwrap_err().to_string();
    assert!(e.contains(&format!("locked by PID {}", child.id())), "{e}");
    // Pipeline::open takes it before the store: `ingest` names the PID.
    let out = assert_cmd::Command::cargo_bin("mediawatch")
        .unwrap()
        .args(["--config", config.to_str().unwrap(), "ingest"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!("locked by PID {}", child.id())),
        "{stderr}"
    );
    // SIGKILL: no chance to clean up. The file stays, naming the dead PID; the OS lock went with it.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(lock_file.exists());
    let lock = WriterLock::acquire(dir.path()).unwrap();
    let text = std::fs::read_to_string(&lock_file).unwrap();
    assert!(text.contains(&format!("pid={}", std::process::id())));
    drop(lock);
    assert!(!lock_file.exists());
}

#[test]
fn search_old_index_is_refused_then_rebuilt_by_reindex() {
    use tantivy::schema::{Schema, STORED, STRING, TEXT};
    let dir = tempfile::tempdir().unwrap();
    // An index of schema 1: no stemmed fields, no version file, the article JSON stored in `doc`.
    let path = dir.path().join("tantivy");
    std::fs::create_dir_all(&path).unwrap();
    let mut b = Schema::builder();
    let url = b.add_text_field("url", STRING);
    let text = b.add_text_field("text", TEXT);
    let doc_field = b.add_bytes_field("doc", STORED);
    let index = tantivy::Index::create_in_dir(&path, b.build()).unwrap();
    let mut w: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
    let articles: Vec<Article> = fixtures()
        .iter()
        .enumerate()
        .take(12)
        .map(|(i, d)| article(i, d))
        .collect();
    for a in &articles {
        let mut d = tantivy::TantivyDocument::default();
        d.add_text(url, &a.url);
        d.add_text(text, &a.text);
        d.add_bytes(doc_field, &serde_json::to_vec(a).unwrap());
        w.add_document(d).unwrap();
    }
    w.commit().unwrap();
    drop(w);
    drop(index);

    let e = Archive::open(dir.path()).err().unwrap().to_string();
    assert!(e.contains("mediawatch reindex"), "{e}");
    let n = mediawatch::index::reindex(dir.path(), &|_, _| {}).unwrap();
    assert_eq!(n, 12);
    let archive = Archive::open(dir.path()).unwrap();
    assert_eq!(archive.num_articles(), 12);
    assert_eq!(q(&archive, "Украины"), [id(3), id(4)]);
    assert_eq!(q(&archive, "臺灣"), [id(0), id(1)]);
    assert!(!dir.path().join("writer.lock").exists());
    assert!(!dir.path().join("tantivy.reindex").exists());
}

fn cli_config(dir: &std::path::Path) -> std::path::PathBuf {
    let config = dir.join("feeds.toml");
    let text = std::fs::read_to_string(crate::support::site_dir().join("feeds.toml.template"))
        .unwrap()
        .replace("{{BASE}}", "http://127.0.0.1:9");
    std::fs::write(&config, text.replace("path = \"index\"", "path = \".\"")).unwrap();
    config
}

fn mw(config: &std::path::Path, args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("mediawatch")
        .unwrap()
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn search_cli_exports_facets_histogram_and_errors() {
    let (dir, archive, articles) = build();
    drop(archive);
    let config = cli_config(dir.path());
    let stamp = dir.path().join("stamp.json");
    let stamp_arg = stamp.to_str().unwrap();
    let export = |format: &str| {
        let out = mw(
            &config,
            &[
                "search", "routine", "--all", "--format", format, "--stamp", stamp_arg,
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&stamp).unwrap()).unwrap();
        (out.stdout, record)
    };
    let want = articles
        .iter()
        .filter(|a| a.text.contains("routine"))
        .count();
    let (first, p1) = export("csv");
    let (second, p2) = export("csv");
    assert_eq!(first, second);
    assert_eq!(p1["sha256"], p2["sha256"]);
    use sha2::Digest;
    assert_eq!(
        p1["sha256"],
        hex::encode(sha2::Sha256::digest(&first)).as_str()
    );
    assert_eq!(p1["matches"], want as u64);
    assert_eq!(p1["query"], "routine");
    assert_eq!(first.iter().filter(|&&b| b == b'\n').count(), want + 1);
    let (lines, p) = export("jsonl");
    assert_eq!(String::from_utf8(lines).unwrap().lines().count(), want);
    assert_eq!(p["format"], "jsonl");
    // Without --stamp the record goes to stderr.
    let out = mw(
        &config,
        &["search", "routine", "--all", "--format", "jsonl"],
    );
    let record: serde_json::Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(record["matches"], want as u64);
    // --all needs a streaming format.
    assert_eq!(
        mw(&config, &["search", "x", "--all", "--format", "json"])
            .status
            .code(),
        Some(2)
    );

    let out = mw(
        &config,
        &[
            "search",
            "",
            "--facets",
            "--histogram",
            "month",
            "--format",
            "json",
            "--limit",
            "3",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hits"].as_array().unwrap().len(), 3);
    assert_eq!(v["facets"]["total"], articles.len() as u64);
    let buckets = v["histogram"]["buckets"].as_array().unwrap();
    let sum: u64 = buckets.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(sum, articles.len() as u64);
    assert_eq!(buckets[0]["start"], "2026-01-01");

    let out = mw(
        &config,
        &[
            "search",
            "patrol",
            "--histogram",
            "week",
            "--facets",
            "--format",
            "table",
        ],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("matches by week (from Monday)"), "{text}");
    assert!(text.contains('█'), "{text}");
    assert!(text.contains("\ncampaign:\n"), "{text}");

    let out = mw(&config, &["search", "lang:ru AND foo:bar"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bad query at column 13: unknown field `foo`"),
        "{err}"
    );
    assert!(err.contains(&format!("\n  {}^", " ".repeat(12))), "{err}");
}

#[test]
fn search_reads_beside_the_writer_and_a_second_writer_is_refused() {
    let (dir, archive, articles) = build();
    let config = cli_config(dir.path());
    // This process writes (it holds writer.lock and tantivy's lock)...
    let mut writer = archive.writer().unwrap();
    let extra = article(
        9999,
        &doc("Late", "A late patrol note.", "en", "Latn", "bulk-a"),
    );
    writer.upsert(&extra).unwrap();
    // ...a search in another process reads the last commit without waiting...
    let out = mw(&config, &["search", "", "--all", "--format", "jsonl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().lines().count(),
        articles.len()
    );
    // ...and a second writer gets the PID of this one.
    let out = mw(&config, &["reindex"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(&format!("locked by PID {}", std::process::id())),
        "{err}"
    );
    writer.commit().unwrap();
    drop(writer);
    assert!(!dir.path().join("writer.lock").exists());
}

#[test]
fn search_csv_cells_never_start_a_formula() {
    // Archived titles are hostile: a title that a spreadsheet would run as a formula.
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open_or_create(dir.path()).unwrap();
    let mut a = article(0, &fixtures()[0]);
    a.title = "=HYPERLINK(\"http://evil.example\",\"click\") formulaprobe".into();
    a.text = "formulaprobe body".into();
    let mut writer = archive.writer().unwrap();
    writer.upsert(&a).unwrap();
    writer.commit().unwrap();
    drop(writer);
    archive.reload().unwrap();
    let mut out = Vec::new();
    let p = search::export(&archive, &req("formulaprobe"), ExportFormat::Csv, &mut out).unwrap();
    assert_eq!(p.matches, 1);
    let mut rdr = csv::Reader::from_reader(&out[..]);
    let title_col = rdr
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "title")
        .unwrap();
    let row = rdr.records().next().unwrap().unwrap();
    assert!(
        row[title_col].starts_with("'=HYPERLINK"),
        "{:?}",
        &row[title_col]
    );
}

#[test]
fn search_input_that_aborted_the_process_is_a_bad_query() {
    // Issue #24 item 5: 8,500 nested parentheses overflowed the stack (exit 134); `--limit 4294967296`
    // aborted on a 34 GB allocation.
    let (dir, archive, _) = build();
    let n = search::MAX_NESTING;
    let nested = |depth: usize| format!("{}sanction{}", "(".repeat(depth), ")".repeat(depth));
    let nots = |depth: usize| format!("oil {}sanction", "NOT ".repeat(depth));
    // As deep as allowed parses and runs on a web worker's 2 MB stack.
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn_scoped(s, || {
                assert_eq!(q(&archive, &nested(n)), q(&archive, "sanction"));
                search::search(&archive, &req(&nots(n))).unwrap();
                // Parentheses inside a phrase are text, not groups.
                let quoted = format!("\"{}sanction\"", "(".repeat(10 * n));
                assert_eq!(q(&archive, &quoted), q(&archive, "\"sanction\""));
            })
            .unwrap()
            .join()
            .unwrap();
    });
    // One level more is a bad query at the group that goes too deep.
    for (query, at) in [(nested(n + 1), n), (nots(n + 1), 4 + 4 * n)] {
        match search::search(&archive, &req(&query)) {
            Ok(_) => panic!("nesting {} deep should fail", n + 1),
            Err(e) => {
                let e = e.downcast::<QueryError>().unwrap();
                assert_eq!(e.position, Some(at), "{e}");
                assert!(e.message.contains("nested more than 64 deep"), "{e}");
            }
        }
    }
    // A query longer than the limit is a bad query too (a megabyte of markup took seconds to parse).
    let long = "sanction OR ".repeat(search::MAX_QUERY_BYTES / 12 + 1) + "sanction";
    match search::search(&archive, &req(&long)) {
        Ok(_) => panic!("a {} byte query should fail", long.len()),
        Err(e) => {
            let e = e.downcast::<QueryError>().unwrap();
            assert!(e.message.contains("more than 16384"), "{e}");
        }
    }
    let near = "sanction OR ".repeat(search::MAX_QUERY_BYTES / 12 - 1) + "sanction";
    assert!(near.len() <= search::MAX_QUERY_BYTES);
    search::search(&archive, &req(&near)).unwrap();
    let config = cli_config(dir.path());
    for query in [nested(8_500), nots(8_500)] {
        let out = mw(&config, &["search", &query]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("nested more than 64 deep"), "{err}");
    }
    for limit in ["4294967296", "0", "1000001"] {
        let out = mw(&config, &["search", "sanction", "--limit", limit]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("from 1 to 1000000; --all streams"), "{err}");
    }
    let out = mw(&config, &["search", "sanction", "--limit", "1000000"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn search_export_rows_say_which_version_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open_or_create(dir.path()).unwrap();
    let docs = fixtures();
    let plain = article(0, &docs[0]);
    let mut edited = article(1, &docs[0]);
    // Three versions found, the page back on version 2, then gone.
    edited.revision = Some(mediawatch::model::Revision {
        versions: 3,
        current: 2,
        edited_at: Some(published(5)),
        removed_at: Some(published(6)),
        restored_at: None,
        campaigns_seen: Vec::new(),
    });
    let mut writer = archive.writer().unwrap();
    writer.upsert(&plain).unwrap();
    writer.upsert(&edited).unwrap();
    writer.commit().unwrap();
    drop(writer);
    archive.reload().unwrap();
    let everything = SearchRequest::default();

    let mut csv_bytes = Vec::new();
    let p = search::export(&archive, &everything, ExportFormat::Csv, &mut csv_bytes).unwrap();
    let mut rdr = csv::Reader::from_reader(&csv_bytes[..]);
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    // The columns users' scripts read keep their positions; the new ones come last.
    assert_eq!(
        header,
        [
            "id",
            "url",
            "title",
            "feed",
            "source_name",
            "affiliation",
            "country",
            "lang",
            "script",
            "published",
            "campaigns",
            "score",
            "snippet",
            "version",
            "versions",
            "edited",
            "removed"
        ]
    );
    let mut rows: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    rows.sort();
    let tail = |r: &Vec<String>| r[13..].to_vec();
    assert_eq!(rows[0][0], plain.id);
    assert_eq!(tail(&rows[0]), ["1", "1", "false", "false"]);
    assert_eq!(rows[1][0], edited.id);
    assert_eq!(tail(&rows[1]), ["2", "3", "true", "true"]);
    assert!(p.rows.contains("current version"), "{}", p.rows);
    assert!(p.rows.contains("mediawatch history"), "{}", p.rows);
    // The provenance record as the CLI and the web write it carries the note.
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["rows"].as_str(), Some(p.rows.as_str()));

    let mut lines = Vec::new();
    search::export(&archive, &everything, ExportFormat::Jsonl, &mut lines).unwrap();
    let mut got: Vec<(String, u64, u64, bool, bool)> = String::from_utf8(lines)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["id"].as_str().unwrap().to_string(),
                v["version"].as_u64().unwrap(),
                v["versions"].as_u64().unwrap(),
                v["edited"].as_bool().unwrap(),
                v["removed"].as_bool().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (plain.id.clone(), 1, 1, false, false),
            (edited.id.clone(), 2, 3, true, true)
        ]
    );
}
