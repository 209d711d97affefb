//! Integration tests of language detection and campaign tagging through the public API.

use mediawatch::lang::detect;
use mediawatch::model::CampaignSpec;
use mediawatch::tag::Tagger;

fn codebook() -> Vec<CampaignSpec> {
    let spec = |id: &str, min_terms: usize, terms: &[(&str, &[&str])]| CampaignSpec {
        id: id.to_string(),
        name: id.to_string(),
        description: String::new(),
        min_terms,
        terms: terms
            .iter()
            .map(|(lang, ts)| (lang.to_string(), ts.iter().map(|t| t.to_string()).collect()))
            .collect(),
        ..CampaignSpec::default()
    };
    vec![
        spec(
            "prc-taiwan-reunification",
            2,
            &[
                (
                    "en",
                    &["Taiwan independence", "separatist*", "reunification"],
                ),
                ("zh", &["台独", "分裂势力", "祖国统一"]),
            ],
        ),
        spec(
            "ru-ukraine-nazi",
            2,
            &[
                ("en", &["Kiev regime", "neo-Nazi*"]),
                ("ru", &["киевский режим", "неонацист*"]),
            ],
        ),
    ]
}

#[test]
fn traditional_chinese_article_is_detected_and_tagged_with_simplified_terms() {
    let title = "陸委會：中共統戰手法翻新";
    let text = "國台辦發言人再次指責民進黨當局搞「臺獨」，並稱所謂分裂勢力是祖國統一的最大障礙。Taiwan officials rejected this.";
    let lang = detect(&format!("{title}\n{text}"), &["zh-TW"]);
    assert_eq!(lang.lang, "zh");
    assert_eq!(lang.script.as_deref(), Some("Hant"));

    let tagger = Tagger::new(&codebook()).expect("valid codebook");
    let hits = tagger.tag_text(title, text, &lang.lang);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, "prc-taiwan-reunification");
    let terms: Vec<&str> = hits[0].terms.iter().map(|t| t.term.as_str()).collect();
    assert_eq!(terms, ["台独", "分裂势力", "祖国统一"]);
    // Positions point at the Traditional spelling in the original text.
    let p = &hits[0].terms[0].positions[0];
    assert_eq!(p.field, "text");
    assert_eq!(&text[p.start..p.end], "臺獨");
}

#[test]
fn russian_article_quoting_english_is_russian_and_counts_both_lists() {
    let title = "МИД: Запад покрывает неонацистов";
    let text = "Как заявили в МИД, «Kiev regime» продолжает обстрелы. Киевский режим опирается на неонацистские \
                батальоны, утверждают в Москве.";
    let lang = detect(text, &["ru"]);
    assert_eq!(lang.lang, "ru");
    assert_eq!(lang.script.as_deref(), Some("Cyrl"));

    let tagger = Tagger::new(&codebook()).expect("valid codebook");
    let hits = tagger.tag_text(title, text, &lang.lang);
    assert_eq!(hits.len(), 1);
    let hit = &hits[0];
    assert_eq!(hit.id, "ru-ukraine-nazi");
    let summary: Vec<(&str, &str, usize)> = hit
        .terms
        .iter()
        .map(|t| (t.term.as_str(), t.lang.as_str(), t.count))
        .collect();
    assert_eq!(
        summary,
        [
            ("Kiev regime", "en", 1),
            ("киевский режим", "ru", 1),
            ("неонацист*", "ru", 2)
        ]
    );
    assert_eq!(hit.score, 4.0);
    let neo = &hit.terms[2];
    assert_eq!(neo.positions[0].field, "title");
    assert_eq!(
        &title[neo.positions[0].start..neo.positions[0].end],
        "неонацистов"
    );
}

#[test]
fn unrelated_ukrainian_article_is_ukrainian_and_untagged() {
    let text = "Уряд України схвалив нову програму підтримки фермерів, яка діятиме до кінця наступного року.";
    let lang = detect(text, &[]);
    assert_eq!(lang.lang, "uk");
    let tagger = Tagger::new(&codebook()).expect("valid codebook");
    assert!(tagger.tag_text("Новини", text, &lang.lang).is_empty());
}

#[test]
fn bad_codebook_term_is_reported() {
    let mut book = codebook();
    book[1].terms[0].1.push("*".to_string());
    let err = Tagger::new(&book).expect_err("lone '*' must be rejected");
    let msg = format!("{err:#}");
    assert!(msg.contains("ru-ukraine-nazi"), "{msg}");
}

#[test]
fn repository_codebook_passes_its_own_examples() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("feeds.toml");
    let config = mediawatch::config::load(&path).expect("valid feeds.toml");
    let dir = path.parent().expect("config folder");
    let tagger = Tagger::new(&config.campaigns).expect("valid codebook");
    let examples =
        mediawatch::codebook::load_examples(dir, &config.campaigns).expect("examples load");
    let report = mediawatch::codebook::evaluate(&tagger, &config.campaigns, &examples);
    println!("{report}");
    assert!(report.ok(), "{report}");
    // At least four narratives carry at least 10 positive and 10 negative examples each.
    let covered = report
        .campaigns
        .iter()
        .filter(|c| c.tp + c.fn_ >= 10 && c.fp + c.tn >= 10)
        .count();
    assert!(covered >= 4, "{report}");
}
