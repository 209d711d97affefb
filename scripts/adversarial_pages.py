#!/usr/bin/env python3
"""Writes adversarial HTML pages for `make bench` (scripts/bench_extract.sh): one page per shape and size.

Usage: scripts/adversarial_pages.py OUT_DIR [SIZE_MB ...]   (default sizes: 1 10)

Each shape is markup that once made some pass of the extractor (the byte pre-scan, html5ever, the DOM
walks) cost more than linear time in the page size; a page is the shape repeated up to the size. The
same shapes, small, are the work-counting tests in tests/it/extract_budget.rs.
"""
import os
import sys


def repeat(unit, size, head="", tail=""):
    n = max(1, (size - len(head) - len(tail)) // len(unit))
    return head + unit * n + tail


PARA = ("<p>The minister said on Tuesday that the talks, which began in March, would continue, "
        "and that both sides had agreed to meet again before the summer.</p>\n")


def shapes(size):
    half = size // 2
    yield "stray-end-tags", repeat("<x></span>", size)
    yield "unclosed-title-deep", "<title>" + repeat("<div>", size)
    yield "deep-nesting", repeat("<div>", size, tail="deep text")
    yield "deep-unknown", repeat("<item>", size, tail="deep text")
    yield "deep-then-paragraphs", "<div>" * 2999 + repeat(PARA, size - 5 * 2999)
    yield "deep-then-tiny-paragraphs", "<div>" * 2999 + repeat("<p>x</p>", size - 5 * 2999)
    yield "inline-runs", repeat("<b>w ", size)
    yield "formatting-reopen", "".join(f"<b class=c{i}>" for i in range(2000)) + repeat("<p>x</p>", size - 30000)
    yield "huge-text-node", "<p>" + repeat("word, ", size)
    yield "many-attributes", "<div " + repeat('class="a" ', size) + ">x</div>"
    yield "huge-class", '<div class="' + repeat("comment share ", size) + '">x</div>'
    yield "many-siblings", "<div>" + repeat("<a>l</a>", size) + "</div>"
    yield "unclosed-comment", "<p>x</p><!--" + repeat("<p>y</p>", size)
    yield "comment-opens", repeat("<!--x", size)
    yield "unclosed-raw", repeat("<div><title>", size)
    yield "table-implied", repeat("<table><td>x", size)
    yield "p-implied", repeat("<p>x<table>", size)
    yield "list-implied", repeat("<li><span>x", size)
    yield "jsonld-deep", '<script type="application/ld+json">' + "[" * half + "]" * half + "</script>"
    yield "many-meta", repeat('<meta name="author" content="A B">', size)
    yield "date-classes", repeat('<span class="date">12 May 2024 x</span>', size)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    out = sys.argv[1]
    sizes = [float(s) for s in sys.argv[2:]] or [1, 10]
    os.makedirs(out, exist_ok=True)
    for mb in sizes:
        size = int(mb * 1_000_000)
        for name, page in shapes(size):
            with open(os.path.join(out, f"{name}.{mb:g}mb.html"), "w") as f:
                f.write(page)


if __name__ == "__main__":
    main()
