#!/usr/bin/env bash
# make bench: every benchmark, in order. They report figures and PASS/MISS against targets; they do not gate.
#   1. extraction speed, quality and memory next to trafilatura on the Zyte pages, single-threaded
#      (scripts/bench_extract.sh);
#   2. polling feeds through the real pipeline against a local server (benches/poll_feeds.rs; MW_BENCH_FEEDS
#      sets the number of feeds, default 5000);
#   3. tagging, language detection, near-duplicate clustering at 100,000 articles and retag throughput
#      (benches/tagging.rs; MW_BENCH_ARTICLES, MW_BENCH_RETAG);
#   4. web workspace load test: wrk on the search page and API on loopback (scripts/bench_web.sh).
# Usage: scripts/bench.sh BIN CORPUS_DIR EVAL_EXTRACTION_PY
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 BIN CORPUS_DIR EVAL_EXTRACTION_PY" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
"$here/bench_extract.sh" "$1" "$2" "$3"
echo "== fetcher: poll_feeds (cargo bench --bench poll_feeds)"
cd "$here/.."
"${CARGO:-cargo}" bench --bench poll_feeds
echo "== understanding: tagging, language, clustering, retag (cargo bench --bench tagging)"
"${CARGO:-cargo}" bench --bench tagging

# --- web workspace load test (scripts/bench_web.sh; owned by the web workspace, self-contained) ---
"$here/bench_web.sh"
