//! Adversarial markup (issue #25, "It can be stalled"): each shape, at a few hundred kB, must cost work
//! linear in its size (counted by `extract_checked`: bytes scanned, nodes built, their depths, nodes visited;
//! never wall time), and a page over the budget stops with a typed error. The same shapes at 1 and 10 MB
//! are timed by `make bench` (scripts/adversarial_pages.py).

use mediawatch::extract::{extract_checked, ExtractError, ExtractOptions, Work, WORK_BUDGET};

/// `unit` repeated to about `size` bytes between `head` and `tail`.
fn repeat(unit: &str, size: usize, head: &str, tail: &str) -> String {
    let n = (size.saturating_sub(head.len() + tail.len()) / unit.len()).max(1);
    format!("{head}{}{tail}", unit.repeat(n))
}

const PARA: &str =
    "<p>The minister said on Tuesday that the talks, which began in March, would continue, \
    and that both sides had agreed to meet again before the summer.</p>\n";

/// The shapes of scripts/adversarial_pages.py, `size` bytes each, but deep-then-tiny-paragraphs (bounded by
/// the budget, not linear: its own test).
fn shapes(size: usize) -> Vec<(&'static str, String)> {
    let formatting: String = (0..2000).map(|i| format!("<b class=c{i}>")).collect();
    vec![
        ("stray-end-tags", repeat("<x></span>", size, "", "")),
        ("unclosed-title-deep", repeat("<div>", size, "<title>", "")),
        ("deep-nesting", repeat("<div>", size, "", "deep text")),
        ("deep-unknown", repeat("<item>", size, "", "deep text")),
        (
            "deep-then-paragraphs",
            repeat(PARA, size, &"<div>".repeat(2999), ""),
        ),
        ("inline-runs", repeat("<b>w ", size, "", "")),
        (
            "formatting-reopen",
            repeat("<p>x</p>", size, &formatting, ""),
        ),
        ("huge-text-node", repeat("word, ", size, "<p>", "")),
        (
            "many-attributes",
            repeat("class=\"a\" ", size, "<div ", ">x</div>"),
        ),
        (
            "huge-class",
            repeat("comment share ", size, "<div class=\"", "\">x</div>"),
        ),
        ("many-siblings", repeat("<a>l</a>", size, "<div>", "</div>")),
        (
            "unclosed-comment",
            repeat("<p>y</p>", size, "<p>x</p><!--", ""),
        ),
        ("comment-opens", repeat("<!--x", size, "", "")),
        ("unclosed-raw", repeat("<div><title>", size, "", "")),
        ("table-implied", repeat("<table><td>x", size, "", "")),
        ("p-implied", repeat("<p>x<table>", size, "", "")),
        ("list-implied", repeat("<li><span>x", size, "", "")),
        (
            "jsonld-deep",
            format!(
                "<script type=\"application/ld+json\">{}{}</script>",
                "[".repeat(size / 2),
                "]".repeat(size / 2)
            ),
        ),
        (
            "many-meta",
            repeat("<meta name=\"author\" content=\"A B\">", size, "", ""),
        ),
        (
            "date-classes",
            repeat("<span class=\"date\">12 May 2024 x</span>", size, "", ""),
        ),
    ]
}

/// 3,000 levels deep, then paragraphs: within the nesting cap, but every paragraph costs html5ever a walk
/// down the whole stack. The pre-scan counts those steps and stops before parsing once they pass the budget.
#[test]
fn deep_tiny_paragraphs_stop_in_the_pre_scan() {
    let html = repeat("<p>x</p>", 1_000_000, &"<div>".repeat(2999), "");
    match extract_checked(&html, None, &ExtractOptions::default(), WORK_BUDGET) {
        Err(ExtractError::OverBudget { stage, work, .. }) => {
            assert_eq!(stage, "the pre-scan");
            assert!(work.depth_sum > 40_000_000, "{work:?}");
        }
        Ok((_, work)) => panic!("extracted: {work:?}"),
    }
}

fn work_of(html: &str) -> Work {
    match extract_checked(html, None, &ExtractOptions::default(), u64::MAX) {
        Ok((_, work)) => work,
        Err(e) => panic!("no budget, yet: {e}"),
    }
}

/// Work units per byte of HTML that no shape may exceed at this size. Ordinary news pages cost about 2 (the
/// corpora); the costliest shapes left are nesting under the pre-scan's cap of 3,000 (table-implied: 12,000
/// levels, as html5ever adds a row and a cell to every table; deep-then-paragraphs), whose work is bounded
/// by the cap whatever the page's size, so their units per byte fall as pages grow.
const UNITS_PER_BYTE: u64 = 400;

fn assert_linear(name: &str, html: &str) -> Work {
    let w = work_of(html);
    eprintln!(
        "{name}: {:.1} units/byte ({w:?})",
        w.total() as f64 / html.len() as f64
    );
    assert!(
        w.total() <= UNITS_PER_BYTE * html.len() as u64,
        "{name}: {} units for {} bytes ({w:?})",
        w.total(),
        html.len()
    );
    w
}

#[test]
fn every_adversarial_shape_costs_linear_work() {
    for (name, html) in shapes(300_000) {
        assert_linear(name, &html);
    }
}

#[test]
fn stray_end_tags_are_cut_so_the_tree_stays_shallow() {
    // `</span>` closes nothing; on main each one lowered the nesting count, so 30,000 `<x>` nested
    // (depth sum 450 million) and html5ever walked all of them for every `</span>` (27 s per MB).
    let html = repeat("<x></span>", 300_000, "", "");
    let w = assert_linear("stray-end-tags", &html);
    assert!(w.depth_sum < 10_000_000, "{w:?}");
}

#[test]
fn open_formatting_elements_are_bounded() {
    // 2,000 open `<b class=..>`, each re-opened (cloned) by html5ever in every paragraph after them.
    let formatting: String = (0..2000).map(|i| format!("<b class=c{i}>")).collect();
    let html = repeat("<p>x</p>", 300_000, &formatting, "");
    let w = assert_linear("formatting-reopen", &html);
    // Each paragraph sits under the formatting elements left open: on main 2,000 deep (137 million steps
    // up the tree at this size), now at most 16 (plus the document's own levels).
    let paragraphs = (300_000 - formatting.len()) / 8;
    assert!(
        w.depth_sum < 60 * paragraphs as u64,
        "depth sum {} for {paragraphs} paragraphs",
        w.depth_sum
    );
}

#[test]
fn a_page_over_the_budget_stops_with_a_typed_error() {
    let html = repeat(
        PARA,
        200_000,
        "<html><body><article>",
        "</article></body></html>",
    );
    let w = work_of(&html);
    // Enough to parse and build the tree, not for the passes of the content search.
    let small = w.total() - w.visits / 2;
    let got = extract_checked(&html, None, &ExtractOptions::default(), small);
    match got {
        Err(ExtractError::OverBudget {
            work,
            budget,
            stage,
        }) => {
            assert_eq!(budget, small);
            assert_eq!(stage, "the content search");
            assert!(
                work.total() > budget && work.total() <= w.total(),
                "{work:?}"
            );
            assert_eq!((work.nodes, work.depth_sum), (w.nodes, w.depth_sum));
        }
        Ok(_) => panic!("extracted over budget"),
    }
    // Under the real budget the same page is extracted.
    let (e, _) = extract_checked(&html, None, &ExtractOptions::default(), WORK_BUDGET).unwrap();
    assert!(
        e.text.starts_with("The minister said"),
        "{:?}",
        &e.text[..40]
    );
}

#[test]
fn ordinary_pages_stay_far_under_the_budget() {
    // The corpora's pages (../shared, read in place when present): the costliest per byte, and the budget's
    // margin over the largest.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/zyte-article-extraction/html");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("{} absent: skipped", dir.display());
        return;
    };
    let (mut worst_per_byte, mut largest, mut nodes_per_kb) = (0.0f64, 0u64, 0.0f64);
    for e in entries.flatten().take(200) {
        let raw = std::fs::read(e.path()).unwrap();
        let mut bytes = Vec::new();
        use std::io::Read;
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut bytes)
            .unwrap();
        let html = String::from_utf8_lossy(&bytes);
        let w = work_of(&html);
        worst_per_byte = worst_per_byte.max(w.total() as f64 / html.len().max(1) as f64);
        largest = largest.max(w.total());
        nodes_per_kb = nodes_per_kb.max(w.nodes as f64 * 1000.0 / html.len().max(1) as f64);
    }
    eprintln!(
        "ordinary pages: worst {worst_per_byte:.1} units/byte, largest {largest} units, \
         at most {nodes_per_kb:.0} nodes per kB"
    );
    assert!(worst_per_byte < 20.0, "{worst_per_byte}");
    assert!(largest * 20 < WORK_BUDGET, "{largest}");
}

#[test]
fn an_unclosed_title_is_read_only_so_far() {
    // The `<title>` takes the rest of the page as its text; every title rule scanned all of it again.
    let html = repeat("<div>", 1_000_000, "<title>", "");
    let (e, _) = extract_checked(&html, None, &ExtractOptions::default(), WORK_BUDGET).unwrap();
    let title = e.title.unwrap_or_default();
    assert!(
        title.starts_with("<div><div>") && title.len() <= 4096,
        "{} bytes",
        title.len()
    );
}
