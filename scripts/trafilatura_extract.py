#!/usr/bin/env python3
"""Run trafilatura on saved pages and print one JSON object per page: {"path", "text"}.

Usage: trafilatura_extract.py FILE...

The reference extractor for scripts/bench_extract.sh, fed to ../shared/tools/eval_extraction.py like
`mediawatch extract --format jsonl`. Settings match the Zyte article-extraction benchmark's published
trafilatura run: each page read as UTF-8 text (gunzipped when it ends in .gz) and passed as a string to
`trafilatura.extract(html, include_comments=False)`, all other options at their defaults. A page that
fails or yields nothing prints an empty text (the eval tool counts it as a failed extraction).
"""
import gzip
import json
import sys

import trafilatura


def read_page(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return f.read()


def main(paths):
    if not paths:
        sys.exit(__doc__)
    out = sys.stdout
    for path in paths:
        try:
            text = trafilatura.extract(read_page(path), include_comments=False) or ""
        except Exception as e:  # one bad page must not stop the run
            print(f"trafilatura_extract: {path}: {e}", file=sys.stderr)
            text = ""
        out.write(json.dumps({"path": path, "text": text}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
