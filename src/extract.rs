//! TEMPORARY STUB so the crate compiles until the real extractor lands (being written in a scratch crate).
use crate::model::Extracted;
/// Per-feed overrides.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    pub content_selector: Option<String>,
    pub remove_selectors: Vec<String>,
}
/// Stub.
pub fn extract(html: &str, page_url: Option<&url::Url>) -> Extracted {
    extract_with(html, page_url, &ExtractOptions::default())
}
/// Stub.
pub fn extract_with(html: &str, _page_url: Option<&url::Url>, _opts: &ExtractOptions) -> Extracted {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse("p").expect("static selector");
    let t = scraper::Selector::parse("title").expect("static selector");
    Extracted {
        title: doc.select(&t).next().map(|e| e.text().collect()),
        text: doc
            .select(&sel)
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>()
            .join("\n\n"),
        ..Default::default()
    }
}
/// Stub.
pub fn html_fragment_to_text(fragment: &str) -> String {
    let doc = scraper::Html::parse_fragment(fragment);
    doc.root_element()
        .text()
        .collect::<String>()
        .trim()
        .to_string()
}
/// Stub.
pub fn check_selector(s: &str) -> Result<(), String> {
    scraper::Selector::parse(s)
        .map(|_| ())
        .map_err(|e| e.to_string())
}
