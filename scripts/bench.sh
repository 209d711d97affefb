#!/usr/bin/env bash
# make bench: extraction speed on the Zyte pages, single-threaded (later issues add their benchmarks here).
# Usage: scripts/bench.sh BIN CORPUS_DIR
set -euo pipefail
bin=$(realpath "$1"); corpus=$2
files=("$corpus"/zyte-article-extraction/html/*.html.gz)
echo "== extraction speed: ${#files[@]} Zyte pages, one process, one thread"
start=$(date +%s.%N)
"$bin" extract --format jsonl "${files[@]}" > /dev/null
end=$(date +%s.%N)
python3 -c "import sys; n=int(sys.argv[1]); t=float(sys.argv[3])-float(sys.argv[2]); print(f'mediawatch extract: {n} pages in {t:.2f} s = {n/t:.1f} pages/s')" "${#files[@]}" "$start" "$end"
