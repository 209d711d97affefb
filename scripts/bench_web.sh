#!/usr/bin/env bash
# Web workspace load test (make bench): benches/web.rs builds an archive of generated articles, serves it
# on 127.0.0.1 with the real router, and runs Debian's wrk (2 threads, 32 connections, 10 s) on the search
# page and the search API. Prints requests/s and p99 per route, PASS/MISS against p99 < 100 ms.
# Sizes: MW_BENCH_WEB_ARTICLES (20000), MW_BENCH_WEB_SECS (10), MW_BENCH_WEB_CONNS (32).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== web workspace: load test (cargo bench --bench web; needs wrk)"
if ! command -v wrk >/dev/null; then
  echo "web: wrk not found (apt-get install wrk); load test skipped"
  exit 0
fi
"${CARGO:-cargo}" bench --bench web
