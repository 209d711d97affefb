//! Golden-fixture tests for `mediawatch::extract` (fixtures in `tests/fixtures/extract/`:
//! `NAME.html` with `NAME.expected.txt` for the exact main text and/or
//! `NAME.expected.json` for the metadata fields to check).

use std::path::PathBuf;

use mediawatch::extract::{extract, extract_with, html_fragment_to_text, ExtractOptions};
use mediawatch::model::Extracted;
use serde_json::Value;
use url::Url;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/extract")
}

fn read(name: &str) -> String {
    let p = fixture_dir().join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

fn expected_json(name: &str) -> Value {
    serde_json::from_str(&read(&format!("{name}.expected.json"))).expect("valid expected json")
}

fn run(name: &str) -> Extracted {
    let html = read(&format!("{name}.html"));
    let page_url = fixture_dir()
        .join(format!("{name}.expected.json"))
        .exists()
        .then(|| expected_json(name))
        .and_then(|v| {
            v.get("page_url")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .map(|u| Url::parse(&u).expect("valid page_url"));
    extract(&html, page_url.as_ref())
}

fn check_text(name: &str, got: &Extracted) {
    let want = read(&format!("{name}.expected.txt"));
    assert_eq!(got.text.trim(), want.trim(), "main text of {name}");
}

fn check_meta(name: &str, got: &Extracted) {
    let want = expected_json(name);
    let got_v = serde_json::to_value(got).expect("Extracted serialises");
    let obj = want.as_object().expect("expected json is an object");
    for (k, v) in obj {
        if k == "page_url" {
            continue;
        }
        let g = got_v.get(k).unwrap_or(&Value::Null);
        if k == "published" || k == "modified" {
            // Compare as instants, whatever the serialised form.
            let want_t = chrono::DateTime::parse_from_rfc3339(v.as_str().expect("date string"))
                .expect("rfc3339");
            let got_t = g
                .as_str()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .unwrap_or_else(|| panic!("{name}: {k} missing, got {g}"));
            assert_eq!(got_t, want_t, "{name}: {k}");
        } else {
            assert_eq!(g, v, "{name}: field {k}");
        }
    }
}

#[test]
fn english_page_drops_nav_share_related_comments_footer() {
    let got = run("english_news");
    check_text("english_news", &got);
    check_meta("english_news", &got);
    for junk in [
        "Share on Facebook",
        "Related stories",
        "Bridge repairs",
        "About time too",
        "All rights reserved",
        "cookies",
        "Most read",
    ] {
        assert!(
            !got.text.contains(junk),
            "junk {junk:?} in text:\n{}",
            got.text
        );
    }
}

#[test]
fn chinese_simplified_br_lines_kept() {
    let got = run("zh_hans_br");
    check_text("zh_hans_br", &got);
    check_meta("zh_hans_br", &got);
    assert!(!got.text.contains("相关新闻"));
    assert!(!got.text.contains("版权所有"));
}

#[test]
fn chinese_traditional_page() {
    let got = run("zh_hant");
    check_text("zh_hant", &got);
    check_meta("zh_hant", &got);
    assert!(!got.text.contains("延伸閱讀"));
}

#[test]
fn russian_page() {
    let got = run("ru_news");
    check_text("ru_news", &got);
    check_meta("ru_news", &got);
    assert!(!got.text.contains("Поделиться"));
    assert!(!got.text.contains("Отличная новость"));
}

#[test]
fn json_ld_metadata_and_script_dates_ignored() {
    let got = run("jsonld");
    check_text("jsonld", &got);
    check_meta("jsonld", &got);
    assert!(!got.authors.iter().any(|a| a == "Script Person"));
}

#[test]
fn boilerplate_only_page_gives_no_text() {
    let got = run("boilerplate_only");
    assert!(
        got.text.chars().count() < 40,
        "expected (near) empty text, got {:?}",
        got.text
    );
    assert_eq!(got.title.as_deref(), Some("Sections | Example Portal"));
}

#[test]
fn options_select_content_and_remove_blocks() {
    let html = read("english_news.html");
    let opts = ExtractOptions {
        content_selector: Some("div.article-body".to_string()),
        remove_selectors: vec!["ul".to_string(), "h2".to_string()],
    };
    let got = extract_with(&html, None, &opts);
    assert!(got.text.starts_with("The harbour council voted"));
    assert!(!got.text.contains("Costs and funding"));
    assert!(!got.text.contains("twenty pence"));
    assert!(got.text.ends_with("one year of operation."));
}

#[test]
fn bad_selectors_are_ignored() {
    let html = read("english_news.html");
    let opts = ExtractOptions {
        content_selector: Some("div[[[".to_string()),
        remove_selectors: vec!["::nonsense(".to_string(), "".to_string()],
    };
    let got = extract_with(&html, None, &opts);
    check_text("english_news", &got);
    assert!(mediawatch::extract::check_selector("div[[[").is_err());
    assert!(mediawatch::extract::check_selector("div.article-body > p").is_ok());
}

#[test]
fn fragment_text_from_fixture_paragraphs() {
    let t = html_fragment_to_text("<p>One <b>two</b></p><p>Three<br>four</p>");
    assert_eq!(t, "One two\n\nThree\nfour");
}
