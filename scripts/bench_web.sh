#!/usr/bin/env bash
# Web workspace load test (make bench): benches/web.rs builds the search benchmark's synthetic archive, serves it
# on 127.0.0.1 with the real router, and runs Debian's wrk (2 threads, 32 connections, 10 s) on the search
# page and the search API with a mix of 1,500 distinct searches drawn Zipf-like. Prints requests/s, p99
# and server CPU per request per route, PASS/MISS against p99 < 100 ms.
# Sizes: MW_BENCH_WEB_ARTICLES (1000000 here, 20000 for a bare cargo bench), MW_BENCH_WEB_SECS (10),
# MW_BENCH_WEB_CONNS (32); MW_BENCH_WEB_DIR keeps the archive and reuses it.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== web workspace: load test (cargo bench --bench web; needs wrk)"
if ! command -v wrk >/dev/null; then
  echo "web: wrk not found (apt-get install wrk); load test skipped"
  exit 0
fi
# 1,000,000 articles unless told (building them takes about 3 minutes; MW_BENCH_WEB_DIR keeps them).
export MW_BENCH_WEB_ARTICLES="${MW_BENCH_WEB_ARTICLES:-1000000}"
"${CARGO:-cargo}" bench --bench web
