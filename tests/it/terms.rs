//! Distinctive terms and codebook suggestions (issue #28) on constructed archives whose answers are
//! known: planted words in English, Russian (inflected forms as one stem) and Chinese (Simplified and
//! Traditional as one word), function words never listed, `--vs` against another query, and a
//! suggestion that would tag a negative example flagged.

use chrono::{TimeZone, Utc};
use mediawatch::codebook::Example;
use mediawatch::index::Archive;
use mediawatch::model::{Affiliation, Article, CampaignHit, CampaignSpec, LangInfo};
use mediawatch::search::terms::{self, DistinctiveTerm, TermsReport, TermsRequest};
use mediawatch::search::SearchRequest;
use mediawatch::suggest::{self, SuggestRequest};

/// A small seeded generator (the texts must be the same on every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

const EN: &[&str] = &[
    "market", "weather", "report", "city", "council", "school", "river", "bridge", "budget",
    "festival", "museum", "train", "harbour", "farmers", "league", "season", "coach", "traffic",
    "election", "hospital", "doctors", "students", "rain", "prices", "energy", "company",
    "workers", "football", "concert", "library",
];
const EN_GLUE: &[&str] = &[
    "the", "of", "and", "is", "in", "a", "to", "with", "was", "for",
];
const RU: &[&str] = &[
    "рынок",
    "погода",
    "отчет",
    "город",
    "совет",
    "школа",
    "река",
    "мост",
    "бюджет",
    "фестиваль",
    "музей",
    "поезд",
    "гавань",
    "фермеры",
    "лига",
    "сезон",
    "тренер",
    "движение",
    "выборы",
    "больница",
    "врачи",
    "студенты",
    "дождь",
    "цены",
    "энергия",
    "компания",
    "рабочие",
];
const RU_GLUE: &[&str] = &["и", "в", "на", "что", "не", "с", "по", "как"];
const ZH: &[&str] = &[
    "市场",
    "天气",
    "报告",
    "城市",
    "学校",
    "河流",
    "桥梁",
    "预算",
    "博物馆",
    "火车",
    "港口",
    "农民",
    "联赛",
    "医院",
    "医生",
    "学生",
    "价格",
    "能源",
    "公司",
    "工人",
    "足球",
    "音乐会",
];
const ZH_GLUE: &[&str] = &["的", "了", "在", "和", "是"];

fn filler(rng: &mut Lcg, words: &[&str], glue: &[&str], n: usize, sep: &str) -> String {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(glue[rng.next(glue.len())]);
        out.push(words[rng.next(words.len())]);
    }
    out.join(sep)
}

fn article(
    i: usize,
    feed: &str,
    lang: &str,
    title: &str,
    text: String,
    campaigns: &[&str],
) -> Article {
    let url = format!("https://fixture.example/{feed}/{i}");
    let when =
        Utc.with_ymd_and_hms(2026, 3, 1, 6, 0, 0).unwrap() + chrono::Duration::hours(i as i64);
    Article {
        id: format!("{i:016x}"),
        url: url.clone(),
        final_url: url,
        feed: feed.into(),
        source_name: feed.to_uppercase(),
        affiliation: Affiliation::State,
        country: None,
        lang: LangInfo {
            lang: lang.into(),
            script: None,
            confidence: 1.0,
            reliable: true,
        },
        title: title.into(),
        text,
        description: None,
        authors: vec![],
        published: Some(when),
        modified: None,
        fetched_at: when,
        canonical_url: None,
        site_name: None,
        image: None,
        section: None,
        tags: vec![],
        campaigns: campaigns
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

fn build(articles: &[Article]) -> (tempfile::TempDir, Archive) {
    let dir = tempfile::tempdir().unwrap();
    let archive = Archive::open_or_create(dir.path()).unwrap();
    let mut writer = archive.writer().unwrap();
    for (k, a) in articles.iter().enumerate() {
        writer.upsert(a).unwrap();
        if k % 150 == 149 {
            writer.commit().unwrap(); // several segments
        }
    }
    writer.commit().unwrap();
    drop(writer);
    archive.reload().unwrap();
    (dir, archive)
}

/// Numbers of the planted archive.
const EN_BULK: usize = 300;
const SUMMIT: usize = 40;
const WEATHER: usize = 40;
const RU_BULK: usize = 150;
const RU_PLANTED: usize = 30;
const ZH_BULK: usize = 120;
const ZH_PLANTED: usize = 24;

/// English bulk; 40 "summit" articles with "junta" (30 of them) and "kiev regime" (25) planted and
/// "minister" (all); 40 "weather" articles with "minister" too; Russian bulk and 30 articles of feed
/// `ria-ru` with Украина/Украины/Украине (one form each); Chinese bulk and 24 articles of `xinhua-zh`
/// with 台湾 (Simplified) or 臺灣 (Traditional), half each.
fn planted() -> Vec<Article> {
    let mut rng = Lcg(7);
    let mut out = Vec::new();
    let mut i = 0;
    let push = |a: Article, out: &mut Vec<Article>| {
        out.push(a);
    };
    for _ in 0..EN_BULK {
        let text = filler(&mut rng, EN, EN_GLUE, 25, " ");
        push(
            article(i, "bulk-en", "en", "Local news", text, &[]),
            &mut out,
        );
        i += 1;
    }
    for k in 0..SUMMIT {
        let mut text = filler(&mut rng, EN, EN_GLUE, 20, " ");
        text.push_str(" The summit of the minister.");
        if k < 30 {
            text.push_str(" The junta was there.");
        }
        if k < 25 {
            text.push_str(" They blamed the Kiev regime again.");
        }
        push(
            article(i, "planted-en", "en", "Summit", text, &[]),
            &mut out,
        );
        i += 1;
    }
    for _ in 0..WEATHER {
        let mut text = filler(&mut rng, EN, EN_GLUE, 20, " ");
        text.push_str(" The minister spoke of the weather forecast.");
        push(article(i, "bulk-en", "en", "Forecast", text, &[]), &mut out);
        i += 1;
    }
    for _ in 0..RU_BULK {
        let text = filler(&mut rng, RU, RU_GLUE, 25, " ");
        push(article(i, "bulk-ru", "ru", "Новости", text, &[]), &mut out);
        i += 1;
    }
    let forms = [
        "Украина просит оружие.",
        "Власти Украины заявили.",
        "На Украине холодно.",
    ];
    for k in 0..RU_PLANTED {
        let mut text = filler(&mut rng, RU, RU_GLUE, 20, " ");
        text.push(' ');
        text.push_str(forms[k % 3]);
        push(article(i, "ria-ru", "ru", "Новости", text, &[]), &mut out);
        i += 1;
    }
    for _ in 0..ZH_BULK {
        let text = filler(&mut rng, ZH, ZH_GLUE, 20, "");
        push(article(i, "bulk-zh", "zh", "新闻", text, &[]), &mut out);
        i += 1;
    }
    for k in 0..ZH_PLANTED {
        let mut text = filler(&mut rng, ZH, ZH_GLUE, 15, "");
        text.push_str(if k % 2 == 0 {
            "。台湾是中国的。"
        } else {
            "。臺灣是中國的。"
        });
        push(article(i, "xinhua-zh", "zh", "新闻", text, &[]), &mut out);
        i += 1;
    }
    out
}

fn run(archive: &Archive, query: &str, feed: Option<&str>, vs: Option<&str>) -> TermsReport {
    terms::terms(
        archive,
        &TermsRequest {
            search: SearchRequest {
                query: query.into(),
                feed: feed.map(String::from),
                ..SearchRequest::default()
            },
            vs: vs.map(String::from),
            limit: 15,
            ..TermsRequest::default()
        },
    )
    .unwrap()
}

fn find<'a>(report: &'a TermsReport, term: &str) -> Option<&'a DistinctiveTerm> {
    report.terms.iter().find(|t| t.term == term)
}

fn no_function_words(report: &TermsReport) {
    for t in &report.terms {
        for w in t.term.split(' ') {
            assert!(
                !["the", "of", "and", "is", "in", "a", "и", "в", "на", "的", "是", "了"]
                    .contains(&w),
                "function word in {:?}",
                t.term
            );
        }
    }
}

#[test]
fn planted_words_are_found_in_english_russian_and_chinese() {
    let (_dir, archive) = build(&planted());
    let total = archive.num_articles();

    // English: the planted words and phrase, with their counts; the bulk words are not distinctive.
    let en = run(&archive, "summit", None, None);
    assert_eq!(en.matches, SUMMIT);
    assert_eq!(en.sample, SUMMIT);
    assert_eq!(en.background, "archive");
    let junta = find(&en, "junta").expect("junta");
    assert_eq!(
        (junta.kind, junta.fg_count, junta.fg_size),
        ("stem", 30, SUMMIT)
    );
    // The foreground is taken out of the background: no other article holds it.
    assert_eq!(junta.bg_count, 0);
    assert_eq!(
        junta.bg_size,
        (EN_BULK + SUMMIT + WEATHER - SUMMIT) as u64,
        "English articles outside the foreground"
    );
    let phrase = find(&en, "kiev regime").expect("kiev regime");
    assert_eq!((phrase.kind, phrase.fg_count), ("phrase", 25));
    assert_eq!(phrase.bg_size, total - SUMMIT as u64);
    let top3: Vec<&str> = en.terms.iter().take(4).map(|t| t.term.as_str()).collect();
    assert!(top3.contains(&"junta"), "{top3:?}");
    for bulk in EN {
        assert!(find(&en, bulk).is_none(), "{bulk} listed: {:?}", en.terms);
    }
    let example = junta.example.as_ref().expect("example");
    assert!(example.snippet.contains("junta"), "{}", example.snippet);
    assert!(example.url.contains("planted-en"), "{}", example.url);
    no_function_words(&en);
    // Scores are ordered.
    assert!(en.terms.windows(2).all(|w| w[0].score >= w[1].score));

    // With a filter the background is the archive under it (a uniform sample: the index's counts cover
    // every article): the summit articles against the other English ones still give "junta".
    let filtered = terms::terms(
        &archive,
        &TermsRequest {
            search: SearchRequest {
                query: "summit".into(),
                lang: Some("en".into()),
                ..SearchRequest::default()
            },
            ..TermsRequest::default()
        },
    )
    .unwrap();
    assert_eq!(filtered.background, "filtered");
    assert_eq!(filtered.background_matches, EN_BULK + SUMMIT + WEATHER);
    assert!(find(&filtered, "junta").is_some(), "{:?}", filtered.terms);

    // Russian (a feed as the query, against the whole archive): three inflected forms are one stem, shown by a surface form, counted once per article.
    let ru = run(&archive, "feed:ria-ru", None, None);
    assert_eq!(ru.matches, RU_PLANTED);
    let ukraine: Vec<&DistinctiveTerm> = ru
        .terms
        .iter()
        .filter(|t| t.stem.as_deref().is_some_and(|s| s.starts_with("украин")))
        .collect();
    assert_eq!(ukraine.len(), 1, "{:?}", ru.terms);
    let u = ukraine[0];
    assert_eq!(
        (u.fg_count, u.fg_size, u.lang.as_str()),
        (RU_PLANTED, RU_PLANTED, "ru")
    );
    assert!(
        ["украина", "украины", "украине"].contains(&u.term.as_str()),
        "{}",
        u.term
    );
    let forms: Vec<&str> = u.surfaces.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(forms.len(), 3, "{forms:?}");
    assert_eq!(u.bg_size, RU_BULK as u64);
    no_function_words(&ru);

    // Chinese: 台湾 and 臺灣 are one word.
    let zh = run(&archive, "feed:xinhua-zh", None, None);
    let taiwan = find(&zh, "台湾").expect("台湾");
    assert_eq!((taiwan.kind, taiwan.fg_count), ("word", ZH_PLANTED));
    assert!(find(&zh, "臺灣").is_none());
    assert_eq!(taiwan.bg_count, 0);
    no_function_words(&zh);
}

#[test]
fn a_background_query_changes_what_is_distinctive() {
    let (_dir, archive) = build(&planted());
    // Against the archive, "minister" sets the summit articles apart (40 of 40, 40 of the other 340).
    let all = run(&archive, "summit", None, None);
    let minister = find(&all, "minister").expect("minister vs the archive");
    assert_eq!(minister.fg_count, SUMMIT);
    assert_eq!(minister.bg_count, WEATHER as u64);
    // Against the weather articles, which all have it too, it does not; junta still does.
    let vs = run(&archive, "summit", None, Some("forecast"));
    assert_eq!(vs.background, "query");
    assert_eq!(vs.background_matches, WEATHER);
    assert_eq!(vs.background_sample, WEATHER);
    assert!(find(&vs, "minister").is_none(), "{:?}", vs.terms);
    let junta = find(&vs, "junta").expect("junta vs forecast");
    assert_eq!(
        (junta.fg_count, junta.bg_count, junta.bg_size),
        (30, 0, WEATHER as u64)
    );
    // The same filters apply to the background: a feed filter leaves the weather articles out.
    let filtered = run(&archive, "summit", Some("planted-en"), Some("forecast"));
    assert_eq!(filtered.background_matches, 0);
}

/// Feed `ria-en` over 152 hours: 20 articles tagged `c` carry "kiev regime", "neo-nazi", "junta" and
/// "puppets"; of the untagged ones, 6 carry "junta" and "kiev regime", 6 "junta" alone.
fn suggest_articles() -> Vec<Article> {
    // Interleaved in time, so the tagged articles' period holds untagged ones of every kind.
    let mut rng = Lcg(11);
    let mut articles = Vec::new();
    let (mut tagged, mut junta) = (0, 0);
    for i in 0..152 {
        let mut text = filler(&mut rng, EN, EN_GLUE, 20, " ");
        if i % 7 == 3 && tagged < 20 {
            text.push_str(" The Kiev regime and its neo-nazi junta puppets.");
            articles.push(article(i, "ria-en", "en", "Kiev", text, &["c"]));
            tagged += 1;
        } else if i % 11 == 5 && junta < 12 {
            text.push_str(if junta < 6 {
                " The Kiev regime and the junta."
            } else {
                " A junta elsewhere."
            });
            articles.push(article(i, "ria-en", "en", "News", text, &[]));
            junta += 1;
        } else {
            articles.push(article(i, "ria-en", "en", "News", text, &[]));
        }
    }
    assert_eq!((tagged, junta), (20, 12));
    articles
}

#[test]
fn suggestions_count_what_they_would_tag_and_flag_negative_examples() {
    // Campaign c: min_terms 2 of "kiev regime", "neo-nazi". 20 tagged articles carry both and "junta"
    // and "puppets"; of the untagged articles of the same feed, 6 carry "junta" and "kiev regime" (one
    // term short: "junta" would tag them), 6 "junta" alone (still one short: min_terms holds).
    let articles = suggest_articles();
    let (_dir, archive) = build(&articles);
    let spec = CampaignSpec {
        id: "c".into(),
        name: "c".into(),
        min_terms: 2,
        terms: vec![("en".into(), vec!["kiev regime".into(), "neo-nazi".into()])],
        ..CampaignSpec::default()
    };
    let example = |name: &str, expected: bool, text: &str| Example {
        campaign: "c".into(),
        path: format!(
            "campaigns/c/{}/{name}.txt",
            if expected { "positive" } else { "negative" }
        )
        .into(),
        expected,
        title: "Example".into(),
        text: text.into(),
    };
    let examples = vec![
        example("p1", true, "The Kiev regime and its neo-nazi friends."),
        // Today one term short; "junta" would make it two.
        example(
            "n1",
            false,
            "Reporting on the Kiev regime phrase and the junta in Myanmar.",
        ),
    ];
    let report = suggest::suggest(
        &archive,
        &spec,
        &examples,
        &SuggestRequest {
            lang: None,
            limit: 10,
            sample: 1000,
        },
    )
    .unwrap();
    assert_eq!(report.tagged, 20);
    let junta = report
        .suggestions
        .iter()
        .find(|s| s.term == "junta")
        .unwrap_or_else(|| panic!("junta not in {:#?}", report));
    assert_eq!(junta.lang, "en");
    assert_eq!(junta.holding, 12);
    assert_eq!(
        junta.would_tag, 6,
        "min_terms 2: the 6 with junta alone stay untagged"
    );
    assert_eq!(junta.breaks.len(), 1);
    assert!(junta.breaks[0].ends_with("negative/n1.txt"));
    let puppets = report
        .suggestions
        .iter()
        .find(|s| s.term.starts_with("puppet"))
        .expect("puppets suggested");
    assert!(puppets.breaks.is_empty());
    assert_eq!(puppets.would_tag, 0);
    // Terms the campaign has are not suggested again.
    assert!(report.suggestions.iter().all(|s| s.term != "kiev regime"));
    let snippet = suggest::toml_snippet(&spec, &report.suggestions);
    assert!(
        snippet.contains(&format!("\"{}\"", puppets.term)),
        "{snippet}"
    );
    assert!(!snippet.contains("\"junta\""), "{snippet}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_page_computes_its_terms_panel_only_when_asked() {
    use crate::web::{app, fixture, get};
    use axum::http::StatusCode;
    let f = fixture();
    let (r, _) = app(&f, None);
    // An ordinary search: a link to the panel, no panel.
    let page = get(&r, "/search?q=reunification").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Distinctive terms of these matches"));
    assert!(page.body.contains("terms=1"), "{}", page.body);
    assert!(!page.body.contains("<section class=\"terms\""));
    // Asked for: the panel, over the same matches.
    let page = get(&r, "/search?q=reunification&terms=1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<section class=\"terms\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("3 of 3 matches (the best by relevance)"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("<script>alert"),
        "archived text is escaped"
    );
    // A form sets the background query, keeping the search's parameters.
    assert!(page.body.contains("name=\"vs\""), "{}", page.body);
    assert!(
        page.body
            .contains("<input type=\"hidden\" name=\"q\" value=\"reunification\">"),
        "{}",
        page.body
    );
    let page = get(&r, "/search?q=reunification&terms=1&vs=officials").await;
    assert!(page.body.contains("of the 2 matches of"), "{}", page.body);
    // The API: the same report as JSON, with the search's filters.
    let api = get(&r, "/api/terms?q=reunification&lang=en").await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let v = api.json();
    assert_eq!(v["matches"], 3);
    assert_eq!(v["sample"], 3);
    // A filter: the background is the archive under it, sampled (the index's counts cover every
    // article); here the three English articles of the five.
    assert_eq!(v["background"], "filtered");
    assert_eq!(v["background_matches"], 3);
    assert_eq!(v["background_sample"], 3);
    assert!(v["terms"].is_array());
    assert!(v["links"]["html"].as_str().unwrap().contains("terms=1"));
    let vs = get(&r, "/api/terms?q=reunification&vs=officials")
        .await
        .json();
    assert_eq!(vs["background"], "query");
    assert_eq!(vs["vs"], "officials");
    for bad in [
        "terms_limit=0",
        "terms_limit=x",
        "vs=%22open",
        "terms=maybe",
        "terms=1&terms=1",
    ] {
        let a = get(&r, &format!("/api/terms?q=x&{bad}")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}: {}", a.body);
    }
}

#[test]
fn the_commands_print_terms_and_suggestions() {
    let (dir, _archive) = build(&planted());
    let config = dir.path().join("feeds.toml");
    std::fs::write(
        &config,
        format!("[index]\npath = {:?}\n", dir.path().to_str().unwrap()),
    )
    .unwrap();
    let out = crate::support::mw_ok(
        &config,
        &["terms", "summit", "--format", "csv", "--limit", "5"],
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(mediawatch_terms_header().as_str()));
    assert!(
        out.lines().any(|l| l.starts_with("junta,stem,en,30,40,0,")),
        "{out}"
    );
    let json: serde_json::Value = serde_json::from_str(&crate::support::mw_ok(
        &config,
        &["terms", "", "--feed", "ria-ru", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(json["matches"], RU_PLANTED);
    let table = crate::support::mw_ok(&config, &["terms", "summit", "--vs", "forecast"]);
    assert!(
        table.contains("against 40 of 40 matches of \"forecast\""),
        "{table}"
    );
    assert!(table.contains("junta"), "{table}");
    // Bad input: a usage error (2), naming what is wrong.
    for args in [
        vec!["terms", "summit", "--limit", "0"],
        vec!["terms", "summit", "--vs", "\"open"],
        vec!["terms", "summit", "--vs", "x", "--vs-all"],
    ] {
        let out = crate::support::mw_with(&config)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // campaigns suggest: the table flags the term that tags a negative example, the TOML leaves it out.
    let (dir, _archive) = build(&suggest_articles());
    let config = dir.path().join("feeds.toml");
    std::fs::write(
        &config,
        format!(
            "[index]\npath = {:?}\n\n[[campaigns]]\nid = \"c\"\nname = \"C\"\ndescription = \"test\"\nmin_terms = 2\n\n[campaigns.terms]\nen = [\"kiev regime\", \"neo-nazi\"]\n",
            dir.path().to_str().unwrap()
        ),
    )
    .unwrap();
    let negative = dir.path().join("campaigns/c/negative");
    std::fs::create_dir_all(&negative).unwrap();
    std::fs::write(
        negative.join("n1.txt"),
        "Example\nReporting on the Kiev regime phrase and the junta in Myanmar.\n",
    )
    .unwrap();
    let out = crate::support::mw_ok(&config, &["campaigns", "suggest", "c", "--limit", "10"]);
    let junta = out
        .lines()
        .find(|l| l.split_whitespace().take(2).eq(["junta", "en"]))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        junta.contains("BREAKS") && junta.contains("n1.txt"),
        "{junta}"
    );
    let toml_part = &out[out.find("[campaigns.terms]").expect("TOML")..];
    assert!(
        toml_part.contains("en = [\"kiev regime\", \"neo-nazi\""),
        "{toml_part}"
    );
    assert!(!toml_part.contains("\"junta\""), "{toml_part}");
    let out = crate::support::mw_with(&config)
        .args(["campaigns", "suggest", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn mediawatch_terms_header() -> String {
    "term,kind,lang,fg_count,fg_size,bg_count,bg_size,score,example_id,example_url,example_snippet"
        .to_string()
}

#[test]
fn a_query_without_words_is_sampled_uniformly_and_reproducibly() {
    let articles = planted();
    let (_dir, archive) = build(&articles);
    let searcher = archive.searcher();
    let every = SearchRequest::default();
    let (total, sample, read) =
        terms::sample_matches(&archive, &searcher, &every, 100, true).unwrap();
    assert_eq!(total, articles.len());
    assert_eq!(sample.docs, 100);
    // Not the first 100 in index order (all English bulk): every part of the archive is drawn.
    let feeds: std::collections::BTreeSet<&str> = read.iter().map(|a| a.feed.as_str()).collect();
    for feed in ["bulk-en", "bulk-ru", "bulk-zh"] {
        assert!(feeds.contains(feed), "{feeds:?}");
    }
    // The same commit gives the same sample.
    let (_, _, again) = terms::sample_matches(&archive, &searcher, &every, 100, true).unwrap();
    let ids = |v: &[Article]| v.iter().map(|a| a.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&read), ids(&again));
    // An empty query is reported as sampled so.
    let report = run(&archive, "", Some("ria-ru"), None);
    assert_eq!(report.sampling, "uniform");
    assert_eq!(run(&archive, "summit", None, None).sampling, "relevance");
}
