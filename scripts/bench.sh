#!/usr/bin/env bash
# make bench: every benchmark, in order. They report figures and PASS/MISS against targets; they do not gate.
#   1. extraction speed, quality and memory next to trafilatura on the Zyte pages, single-threaded
#      (scripts/bench_extract.sh), then extraction time per MB on adversarial pages of 1 and 10 MB beside
#      ordinary pages (scripts/bench_adversarial.py; target: within 3x of ordinary);
#   2. polling feeds through the real pipeline against a local server (benches/poll_feeds.rs; MW_BENCH_FEEDS
#      sets the number of feeds, default 5000), then the same over mixed source kinds (rss, sitemap, html,
#      telegram; MW_BENCH_MIXED=1), and parsing a 50,000-URL sitemap, plain and gzipped (benches/sitemap.rs);
#   2b. one revisit pass over 10,000 archived articles (95% answer 304, 5% a page, half of those edited)
#      through the real pipeline against a local server (benches/revisit.rs; MW_BENCH_REVISITS);
#   3. tagging, language detection, near-duplicate clustering at 100,000 articles and retag throughput
#      (benches/tagging.rs; MW_BENCH_ARTICLES, MW_BENCH_RETAG);
#   4. search at archive scale next to SQLite FTS5, and the digest of one day (benches/search_scale.rs;
#      MW_BENCH_SEARCH_ARTICLES, default 1,000,000; MW_BENCH_SEARCH_QUERIES per type, default 100).
#   4b. attention share and compare (issue #28): `compare` of 3 queries x 52 weeks on a 1,000,000-article
#      synthetic archive (target p50 < 200 ms), and the normalised histogram's cost against the plain one
#      (benches/compare.rs; MW_BENCH_COMPARE_ARTICLES, MW_BENCH_COMPARE_DIR);
#   4c. distinctive terms over a query matching ~5% of the archive, against the archive and a second query
#      (benches/terms.rs; MW_BENCH_TERMS_ARTICLES, default 1,000,000; target p50 < 1 s);
#   5. the digest of a day, a week and a month at 1,000,000 archived articles (examples/digest_scale.rs;
#      MW_BENCH_DIGEST_ARTICLES);
#   5b. export-parquet of the synthetic archive at a tenth and at all of it (benches/parquet_export.rs;
#      MW_BENCH_PARQUET_ARTICLES, default 1,000,000): articles/s, peak memory, bytes, DuckDB's daily counts;
#   6. web workspace load test: wrk on the search page and API on loopback (scripts/bench_web.sh);
#   7. alerts: 1,000 alerts evaluated over a commit of 256 articles (target < 100 ms), and commit to webhook
#      receipt on a local receiver (target p99 < 1 s) (benches/alerts.rs; MW_BENCH_ALERT_ARCHIVE,
#      MW_BENCH_ALERTS, MW_BENCH_ALERT_COMMITS, MW_BENCH_ALERT_ROUNDS);
#   8. soak: `mediawatch run` and `serve` for MW_SOAK_MINUTES (default 30) against feeds that change every
#      few seconds, sampling RSS, segments, files and search median (benches/soak.rs).
# Usage: scripts/bench.sh BIN CORPUS_DIR EVAL_EXTRACTION_PY
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 BIN CORPUS_DIR EVAL_EXTRACTION_PY" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
bin_abs=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
"$here/bench_extract.sh" "$1" "$2" "$3"
python3 "$here/bench_adversarial.py" "$1" "$2"
echo "== fetcher: poll_feeds (cargo bench --bench poll_feeds)"
cd "$here/.."
"${CARGO:-cargo}" bench --bench poll_feeds
echo "== sources: a cycle over mixed source kinds (MW_BENCH_MIXED=1 cargo bench --bench poll_feeds)"
MW_BENCH_MIXED=1 "${CARGO:-cargo}" bench --bench poll_feeds
echo "== sources: a 50,000-URL sitemap, plain and gzipped (cargo bench --bench sitemap)"
"${CARGO:-cargo}" bench --bench sitemap
echo "== revisits: one pass over ${MW_BENCH_REVISITS:-10000} archived articles (cargo bench --bench revisit)"
"${CARGO:-cargo}" bench --bench revisit
echo "== understanding: tagging, language, clustering, retag (cargo bench --bench tagging)"
"${CARGO:-cargo}" bench --bench tagging

# --- search at scale (issue #6) -------------------------------------------------------------------------
# Self-contained: builds the synthetic archive twice (mediawatch, SQLite FTS5) in a temporary directory
# (MW_BENCH_SEARCH_DIR to choose it; at 200,000 articles: 1.4x the raw text for mediawatch, 2.5x for FTS5;
# ~1.6 GB of raw text at 1,000,000), one process per
# side, and prints the side-by-side table. Reads the corpus in place for vocabularies (MW_CORPUS).
echo "== search at scale vs SQLite FTS5, digest of one day (cargo bench --bench search_scale)"
MW_CORPUS="${MW_CORPUS:-$2}" "${CARGO:-cargo}" bench --bench search_scale

# --- attention share and compare (issue #28): builds its own archive of short articles (in a temporary
# directory unless MW_BENCH_COMPARE_DIR), then times compare and the plain and normalised histograms.
echo "== compare and attention share (cargo bench --bench compare)"
"${CARGO:-cargo}" bench --bench compare
# --- distinctive terms (issue #28): builds the synthetic archive (MW_BENCH_TERMS_DIR to keep and reuse it),
# then times `terms` over a query matching ~5% of it; PASS/MISS against p50 < 1 s at 1,000,000.
echo "== distinctive terms at scale (cargo bench --bench terms)"
MW_CORPUS="${MW_CORPUS:-$2}" "${CARGO:-cargo}" bench --bench terms

# --- digest at scale (issue #7): a synthetic archive of short articles (built in about a minute), then
# load + build + render of a day, a week and a month; target: a day under 2 s at 1,000,000 articles.
echo "== digest at scale (cargo run --release --example digest_scale)"
digest_dir=$(mktemp -d)
"${CARGO:-cargo}" run --release --example digest_scale -- "${MW_BENCH_DIGEST_ARTICLES:-1000000}" "$digest_dir"
rm -rf "$digest_dir"

# --- Parquet export (issue #29): the search benchmark's synthetic archive (MW_BENCH_PARQUET_ARTICLES,
# default 1,000,000; MW_BENCH_PARQUET_DIR to keep it) exported by the release binary, a tenth and all of it:
# articles/s, peak memory (target: flat, under 500 MB), bytes against the raw text, DuckDB's time for the
# articles per campaign per day (MW_PYTHON with duckdb; skipped without).
echo "== export-parquet at scale (cargo bench --bench parquet_export)"
MW_CORPUS="${MW_CORPUS:-$2}" "${CARGO:-cargo}" bench --bench parquet_export

# --- web workspace load test (scripts/bench_web.sh; owned by the web workspace, self-contained) ---
MW_CORPUS="${MW_CORPUS:-$2}" "$here/bench_web.sh"

# --- alerts (issue #27): evaluation of 1,000 alerts per commit, commit to webhook receipt on 127.0.0.1.
echo "== alerts: evaluation and commit to webhook (cargo bench --bench alerts)"
"${CARGO:-cargo}" bench --bench alerts

# --- soak (issue #24): the release daemon and serve on one index for MW_SOAK_MINUTES (default 30; 2 for a
# quick check), feeds changing every 3 s; prints the curve and whether it is flat after the warm-up.
echo "== soak: daemon + serve for ${MW_SOAK_MINUTES:-30} min (cargo bench --bench soak)"
MW_SOAK_BIN="${MW_SOAK_BIN:-$bin_abs}" "${CARGO:-cargo}" bench --bench soak
