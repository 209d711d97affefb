//! Adversarial markup (issue #25, "It can be stalled"): each shape, at a few hundred kB, must cost work
//! linear in its size (counted by `extract_checked`: bytes scanned, nodes built, their depths, nodes visited;
//! never wall time), and a page over the budget stops with a typed error. The same shapes at 1 and 10 MB
//! are timed by `make bench` (scripts/adversarial_pages.py).

use mediawatch::extract::{
    extract_checked, work_budget, ExtractError, ExtractOptions, Work, WORK_FLOOR_BYTES,
    WORK_PER_BYTE,
};

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

/// 3,000 levels deep, then paragraphs: the pre-scan keeps 512 levels, and every paragraph still costs
/// html5ever a walk down them, and the tree a node or two every 8 bytes. The pre-scan counts that work and
/// stops before parsing once it passes the page's budget.
#[test]
fn deep_tiny_paragraphs_stop_in_the_pre_scan() {
    let html = repeat("<p>x</p>", 1_000_000, &"<div>".repeat(2999), "");
    let budget = work_budget(html.len());
    match extract_checked(&html, None, &ExtractOptions::default(), budget) {
        Err(ExtractError::OverBudget { stage, work, .. }) => {
            assert_eq!(stage, "the pre-scan");
            // Stopped a fraction of the way into the paragraphs, each under the 512 levels kept.
            assert!(work.depth_sum >= 511 * (work.nodes / 2 - 512), "{work:?}");
            assert!(work.nodes < 125_000, "{work:?}");
        }
        Ok((_, work)) => panic!("extracted: {work:?}"),
    }
}

/// Markup that builds a node every few bytes (html5ever and the extractor spend about 400 ns on each, 50 to
/// 100 times an ordinary page's cost per byte) is refused by the pre-scan, before html5ever sees it, once
/// the nodes it foresees pass the page's budget; the same markup a hundred times smaller is extracted.
#[test]
fn node_dense_pages_stop_in_the_pre_scan() {
    let formatting: String = (0..2000).map(|i| format!("<b class=c{i}>")).collect();
    let dense = [
        ("many-siblings", "<div>", "<a>l</a>", "</div>"),
        ("formatting-reopen", formatting.as_str(), "<p>x</p>", ""),
        ("list-implied", "", "<li><span>x", ""),
        (
            "date-classes",
            "",
            "<span class=\"date\">12 May 2024 x</span>",
            "",
        ),
    ];
    for (name, head, unit, tail) in dense {
        let html = repeat(unit, 1_000_000, head, tail);
        match extract_checked(
            &html,
            None,
            &ExtractOptions::default(),
            work_budget(html.len()),
        ) {
            Err(ExtractError::OverBudget { stage, work, .. }) => {
                assert_eq!(stage, "the pre-scan", "{name}: {work:?}");
                assert_eq!(work.visits, 0, "{name}: {work:?}");
            }
            Ok((_, work)) => panic!("{name}: extracted: {work:?}"),
        }
        let small = repeat(unit, 10_000, head, tail);
        let got = extract_checked(
            &small,
            None,
            &ExtractOptions::default(),
            work_budget(small.len()),
        );
        assert!(got.is_ok(), "{name} at 10 kB: {:?}", got.err());
    }
}

#[test]
fn the_budget_grows_with_the_page_above_its_floor() {
    let floor = WORK_FLOOR_BYTES as usize;
    assert_eq!(work_budget(0), WORK_PER_BYTE * WORK_FLOOR_BYTES);
    assert_eq!(work_budget(floor / 10), work_budget(floor));
    assert_eq!(work_budget(10 * floor), 10 * work_budget(floor));
    assert_eq!(work_budget(usize::MAX), u64::MAX);
}

fn work_of(html: &str) -> Work {
    match extract_checked(html, None, &ExtractOptions::default(), u64::MAX) {
        Ok((_, work)) => work,
        Err(e) => panic!("no budget, yet: {e}"),
    }
}

/// Work units per byte of HTML that no shape may exceed at this size, without a budget. Ordinary news pages
/// cost about 8 (the corpora); the costliest shapes build a node every 4 to 8 bytes (400 units each) or sit
/// under the 512 levels the pre-scan keeps (table-implied: 128 tables of 4 levels, then cells beside each
/// other at the bottom), a cost linear in the page's size.
const UNITS_PER_BYTE: u64 = 1_000;

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
    let (e, _) = extract_checked(
        &html,
        None,
        &ExtractOptions::default(),
        work_budget(html.len()),
    )
    .unwrap();
    assert!(
        e.text.starts_with("The minister said"),
        "{:?}",
        &e.text[..40]
    );
}

#[test]
fn ordinary_pages_stay_far_under_the_budget() {
    // The corpora's pages (../shared, read in place when present): the costliest per byte, and the budget's
    // margin over the costliest for its size.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/zyte-article-extraction/html");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("{} absent: skipped", dir.display());
        return;
    };
    let (mut worst_per_byte, mut worst_share, mut nodes_per_kb) = (0.0f64, 0.0f64, 0.0f64);
    for e in entries.flatten().take(200) {
        let bytes = mediawatch::snapshot::read_page(&e.path()).unwrap();
        let html = String::from_utf8_lossy(&bytes);
        let w = work_of(&html);
        worst_per_byte = worst_per_byte.max(w.total() as f64 / html.len().max(1) as f64);
        worst_share = worst_share.max(w.total() as f64 / work_budget(html.len()) as f64);
        nodes_per_kb = nodes_per_kb.max(w.nodes as f64 * 1000.0 / html.len().max(1) as f64);
    }
    eprintln!(
        "ordinary pages: worst {worst_per_byte:.1} units/byte, at most {:.0}% of their budget, \
         at most {nodes_per_kb:.0} nodes per kB",
        worst_share * 100.0
    );
    assert!(worst_share < 0.5, "{worst_share}");
}

#[test]
fn an_unclosed_title_is_read_only_so_far() {
    // The `<title>` takes the rest of the page as its text; every title rule scanned all of it again.
    let html = repeat("<div>", 1_000_000, "<title>", "");
    let budget = work_budget(html.len());
    let (e, _) = extract_checked(&html, None, &ExtractOptions::default(), budget).unwrap();
    let title = e.title.unwrap_or_default();
    assert!(
        title.starts_with("<div><div>") && title.len() <= 4096,
        "{} bytes",
        title.len()
    );
}
