#!/usr/bin/env python3
r"""make eval, extraction beyond the gates: fold spread, the tune/hold-out split and two extra sets.

Usage: scripts/eval_extract.py [--split tune|holdout|all] BIN CORPUS_DIR EVAL_EXTRACTION_PY

BIN is the mediawatch binary (run as `BIN extract --format jsonl FILE...`, once per corpus); CORPUS_DIR
is ../shared/corpus, read in place; EVAL_EXTRACTION_PY is ../shared/tools/eval_extraction.py, whose
metric functions (`zyte_page`, `norm`) and runner (`run`) are imported, never copied, so every figure
here is computed exactly as the gated figures are.

Folds. Each page has an id: the 64-hex id for zyte-article-extraction, the upstream file name (`file`)
for trafilatura-eval, the page folder name for mozilla-readability-pages and `<site>__<n>` for
gne-chinese-news. Its fold is the SHA-256 of the id (UTF-8) read as a big-endian integer, mod 5
(`fold_of`). Fold 0 is the HOLD-OUT (about 20% of each corpus): rule tuning must not look at it.
Folds 1-4 are the TUNE part. `--split` (MW_EVAL_SPLIT in scripts/eval.sh) scores only that part.

Printed, per split:
- zyte-article-extraction and trafilatura-eval: F1 of the split and F1 per fold, with the mean, min,
  max and sample standard deviation (n-1) of the fold F1s. The rules are not fitted per fold, so this
  is the variance of F1 over page samples, not a cross-validated estimate.
- mozilla-readability-pages: Readability.js's expected.html (tags stripped, `html_text`) as gold;
  gne-chinese-news: GNE's 2019 reference body (`gne_reference_2019.content`, pages that have one) as
  gold; both with Zyte's shingle metric. These are other extractors' outputs, not human annotations.
  Beside it, the same F1 after dropping whitespace next to a Han or kana character in both texts
  (`cjk_joined`): `\w+` makes a run of Han characters one token, so a space the page puts in
  "关于 5G 手机" that GNE's reference left out costs every shingle around it although the text is the
  same (readhub__readhub: identical text, page F1 0.64).
- The spread of F1 across the four corpora (min, max, standard deviation).
- Wall time per corpus (the extractor and the scoring): about 1 s for both extra sets together on the
  release build, so they are scored whole (no sample).

Exit status: 0 (this scores, it does not gate: scripts/eval.sh gates on the shared tool's figures);
1 when a corpus file cannot be read (named); 2 on bad usage or a missing corpus or tool.
"""

import gzip
import hashlib
import importlib.util
import json
import os
import re
import statistics
import sys
import time
from html.parser import HTMLParser

K = 5
HOLDOUT_FOLD = 0
SPLITS = ("all", "tune", "holdout")
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana, Han (ext. A, unified, compat.)
CJK_SPACE = re.compile(rf"\s+(?=[{CJK}])|(?<=[{CJK}])\s+")

# Elements whose boundaries separate words when Readability's HTML is read as text.
BLOCK = {
    "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div", "dl", "dt",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul",
}
SKIP = {"script", "style", "noscript", "template"}


def fold_of(page_id):
    """The page's fold, 0..K-1: SHA-256 of the id's UTF-8 bytes as a big-endian integer, mod K."""
    return int.from_bytes(hashlib.sha256(page_id.encode("utf-8")).digest(), "big") % K


def in_split(page_id, split):
    fold = fold_of(page_id)
    return split == "all" or (fold == HOLDOUT_FOLD) == (split == "holdout")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP:
            self.skip += 1
        elif tag in BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skip = max(self.skip - 1, 0)
        elif tag in BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_text(markup):
    """Text of an HTML fragment: entities decoded, a line break at block boundaries (so `<p>a</p><p>b</p>`
    is two words), none at inline ones (`a<b>b</b>` stays one word), scripts and styles left out."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def load_tool(path):
    spec = importlib.util.spec_from_file_location("eval_extraction", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def zyte_f1(tool, pairs):
    """Zyte's corpus F1 over (gold, predicted) text pairs, as eval_extraction.py computes it."""
    ps, rs = [], []
    for gold, pred in pairs:
        p, r, _ = tool.zyte_page(gold, pred)
        if p is not None:
            ps.append(p)
        if r is not None:
            rs.append(r)
    if not ps or not rs:
        return None
    P, R = sum(ps) / len(ps), sum(rs) / len(rs)
    return 2 * P * R / (P + R) if P + R else 0.0


def snippet_f1(tool, items):
    """trafilatura-eval's micro F1 over (entry, predicted) pairs, as eval_extraction.py computes it."""
    tp = fp = fn = 0
    for entry, pred in items:
        text = tool.norm(pred)
        for s in entry.get("with", []):
            if text and tool.norm(s) in text:
                tp += 1
            else:
                fn += 1
        for s in entry.get("without", []):
            if text and tool.norm(s) in text:
                fp += 1
    P = tp / (tp + fp) if tp + fp else 0.0
    R = tp / (tp + fn) if tp + fn else 0.0
    return 2 * P * R / (P + R) if P + R else 0.0


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"eval_extract: cannot read {path}: {e} (is ../shared/corpus complete?)")


def read_gz_text(path):
    try:
        with gzip.open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except (OSError, EOFError) as e:
        sys.exit(f"eval_extract: cannot read {path}: {e} (is ../shared/corpus complete?)")


def pages_zyte(corpus):
    """(id, file, gold) per page of zyte-article-extraction."""
    d = os.path.join(corpus, "zyte-article-extraction")
    gt = read_json(os.path.join(d, "ground-truth.json"))
    return [(k, os.path.join(d, "html", k + ".html.gz"), gt[k]["articleBody"]) for k in sorted(gt)]


def pages_traf(corpus):
    """(id, file, annotation) per page of trafilatura-eval; the id is the upstream file name."""
    d = os.path.join(corpus, "trafilatura-eval")
    ev = read_json(os.path.join(d, "evaldata.json"))
    return [(v["file"], os.path.join(d, v["path"]), v) for v in sorted(ev.values(), key=lambda v: v["path"])]


def pages_mozilla(corpus):
    """(id, file, gold) per page of mozilla-readability-pages; gold = expected.html as text."""
    d = os.path.join(corpus, "mozilla-readability-pages", "pages")
    try:
        names = sorted(os.listdir(d))
    except OSError as e:
        sys.exit(f"eval_extract: cannot list {d}: {e} (is ../shared/corpus complete?)")
    return [(n, os.path.join(d, n, "source.html.gz"), os.path.join(d, n, "expected.html.gz")) for n in names]


def pages_gne(corpus):
    """(id, file, gold) per gne-chinese-news page that has GNE's reference extraction."""
    d = os.path.join(corpus, "gne-chinese-news")
    pages = read_json(os.path.join(d, "pages.json"))
    return [
        (k, os.path.join(d, v["path"]), v["gne_reference_2019"]["content"])
        for k, v in sorted(pages.items())
        if (v.get("gne_reference_2019") or {}).get("content")
    ]


def cjk_joined(text):
    """The text without the whitespace next to a Han or kana character."""
    return CJK_SPACE.sub("", text or "")


def spread(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return "mean=- min=- max=- std=-"
    std = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return f"mean={statistics.mean(vals):.3f} min={min(vals):.3f} max={max(vals):.3f} std={std:.3f}"


def fmt(f1):
    return "-" if f1 is None else f"{f1:.3f}"


def score(tool, bin_path, name, pages, f1_of, split, folds):
    """Run the extractor on the split's pages, print the split's F1 (and per-fold F1s), return the F1."""
    pages = [p for p in pages if in_split(p[0], split)]
    t0 = time.monotonic()
    got, _ = tool.run([bin_path, "extract", "--format", "jsonl"], [p[1] for p in pages])
    by_fold = {}
    for page_id, path, gold in pages:
        by_fold.setdefault(fold_of(page_id), []).append((gold, got.get(path, "")))
    f1 = f1_of([pair for pairs in by_fold.values() for pair in pairs])
    note = ""
    if not folds:
        joined = [(cjk_joined(gold), cjk_joined(got.get(path, ""))) for _, path, gold in pages]
        note = f" (F1 with spaces next to Han/kana dropped: {fmt(f1_of(joined))})"
    wall = time.monotonic() - t0
    extracted = sum(1 for p in pages if got.get(p[1]))
    print(f"{name} split={split} pages={len(pages)} extracted={extracted} F1 {fmt(f1)}{note} wall_s={wall:.2f}")
    if folds:
        fold_f1 = {f: f1_of(by_fold[f]) for f in sorted(by_fold)}
        cells = " ".join(f"fold{f}={fmt(v)}(n={len(by_fold[f])})" for f, v in fold_f1.items())
        print(f"  {cells}")
        if len(fold_f1) > 1:
            print(f"  folds {spread(fold_f1.values())}")
    return f1


def main(argv):
    split = "all"
    if len(argv) > 1 and argv[0] == "--split":
        split, argv = argv[1], argv[2:]
    if len(argv) != 3 or split not in SPLITS:
        sys.stderr.write(__doc__)
        return 2
    bin_path, corpus, tool_path = argv
    if not os.path.isfile(tool_path) or not os.path.isdir(corpus):
        sys.stderr.write(f"eval_extract: {corpus} or {tool_path} not found (../shared beside the repository)\n")
        return 2
    tool = load_tool(tool_path)
    bin_path = os.path.realpath(bin_path)

    part = {"all": "every page", "tune": "the tune part (folds 1-4)", "holdout": "the hold-out (fold 0)"}[split]
    print(f"== extraction by fold: k={K}, fold = SHA-256(page id) mod {K}, fold {HOLDOUT_FOLD} is the hold-out; "
          f"scoring {part}")
    print("   Rules are not fitted per fold: the fold spread measures the variance of F1 over page samples, "
          "not a cross-validated estimate.")
    mozilla = [(i, f, read_gz_text(g)) for i, f, g in pages_mozilla(corpus) if in_split(i, split)]
    mozilla = [(i, f, html_text(g)) for i, f, g in mozilla]
    shingles = lambda pairs: zyte_f1(tool, pairs)  # noqa: E731
    results = [
        score(tool, bin_path, "zyte-article-extraction", pages_zyte(corpus), shingles, split, folds=True),
        score(tool, bin_path, "trafilatura-eval", pages_traf(corpus),
              lambda items: snippet_f1(tool, items), split, folds=True),
    ]
    print("== extraction, extra sets (not gated): Zyte's shingle F1 against another extractor's output")
    results.append(score(tool, bin_path, "mozilla-readability-pages", mozilla, shingles, split, folds=False))
    results.append(score(tool, bin_path, "gne-chinese-news", pages_gne(corpus), shingles, split, folds=False))
    print("== extraction spread across corpora (F1 of each corpus above; metrics differ: shingles, "
          "trafilatura-eval snippets)")
    print(f"corpora n={len(results)} {spread(results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
