#!/usr/bin/env bash
# make eval: score the extraction stage on the shared corpora, read in place (never copied).
# Usage: scripts/eval.sh BIN CORPUS_DIR EVAL_EXTRACTION_PY
set -euo pipefail
bin=$(realpath "$1"); corpus=$2; tool=$3
if [ ! -d "$corpus" ] || [ ! -f "$tool" ]; then
  echo "eval: $corpus or $tool not found (the shared corpus sits beside the repository as ../shared)" >&2
  exit 1
fi
for c in zyte-article-extraction trafilatura-eval; do
  echo "== extraction: $c"
  python3 "$tool" "$corpus/$c" -- "$bin" extract --format jsonl
done
