#!/usr/bin/env python3
"""Extraction time per MB on adversarial pages (scripts/adversarial_pages.py, 1 MB and 10 MB) beside
ordinary news pages (the shared corpora), for `make bench` (issue #25; target: within 3x of ordinary).

Usage: scripts/bench_adversarial.py BIN CORPUS_DIR [BEFORE_BIN]

Each page runs alone as `BIN extract --no-lang PAGE`; the figure is the process's CPU time (user + system,
from getrusage) per MB of HTML, the median of BENCH_ADV_ROUNDS runs (default 3). Ordinary: every page of
zyte-article-extraction and trafilatura-eval in one process each, CPU time per MB of (inflated) HTML. A page
over the work budget is refused (exit 1, the pipeline then archives the feed's text): marked "budget".
With BEFORE_BIN (e.g. main's release build) its figures are printed beside (runs over 120 s are cut).
"""
import glob
import gzip
import os
import resource
import statistics
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
import adversarial_pages  # noqa: E402

TIMEOUT = 120


def cpu_run(cmd):
    """CPU seconds of `cmd` and its exit code (None when cut at TIMEOUT)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT).returncode
    except subprocess.TimeoutExpired:
        rc = None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), rc


def ordinary(bin_, corpus):
    rows = []
    for name in ["zyte-article-extraction", "trafilatura-eval"]:
        pages = sorted(glob.glob(os.path.join(corpus, name, "html", "*.html*")))
        if not pages:
            continue
        mb = sum(len(gzip.open(p).read()) if p.endswith(".gz") else os.path.getsize(p) for p in pages) / 1e6
        runs = [cpu_run([bin_, "extract", "--no-lang", "--format", "jsonl"] + pages)[0] for _ in range(ROUNDS)]
        rows.append((name, len(pages), mb, statistics.median(runs) * 1000 / mb))
    return rows


def page_ms_per_mb(bin_, path, rounds):
    mb = os.path.getsize(path) / 1e6
    runs = []
    for _ in range(rounds):
        cpu, rc = cpu_run([bin_, "extract", "--no-lang", path])
        runs.append((cpu, rc))
        if rc is None:
            return f">{TIMEOUT * 1000 / mb:.0f}", "timeout"
    cpu = statistics.median(r[0] for r in runs)
    return f"{cpu * 1000 / mb:.1f}", ("ok" if runs[0][1] == 0 else "budget")


ROUNDS = int(os.environ.get("BENCH_ADV_ROUNDS", "3"))


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    bin_, corpus = sys.argv[1], sys.argv[2]
    before = sys.argv[3] if len(sys.argv) == 4 else None
    print("== extraction on adversarial pages: CPU ms per MB (median of %d runs), beside ordinary pages" % ROUNDS)
    rows = ordinary(bin_, corpus)
    for name, n, mb, ms in rows:
        print(f"ordinary: {name}: {n} pages, {mb:.1f} MB: {ms:.1f} ms/MB")
    ref = max((r[3] for r in rows), default=None)
    with tempfile.TemporaryDirectory() as work:
        sizes = [1, 10]
        for mb in sizes:
            size = mb * 1_000_000
            for name, page in adversarial_pages.shapes(size):
                with open(os.path.join(work, f"{name}.{mb}mb.html"), "w") as f:
                    f.write(page)
        head = f"{'shape':<28} {'1 MB':>9} {'10 MB':>9} {'':>8}"
        if before:
            head += f" {'before 1 MB':>12} {'before 10 MB':>13}"
        print(head + "   (ms per MB; outcome at 10 MB)")
        worst = 0.0
        for name, _ in adversarial_pages.shapes(1000):
            cells, outcome = [], ""
            for mb in sizes:
                v, outcome = page_ms_per_mb(bin_, os.path.join(work, f"{name}.{mb}mb.html"), ROUNDS)
                cells.append(v)
                try:
                    worst = max(worst, float(v))
                except ValueError:
                    worst = float("inf")
            line = f"{name:<28} {cells[0]:>9} {cells[1]:>9} {outcome:>8}"
            if before:
                b = [page_ms_per_mb(before, os.path.join(work, f"{name}.{mb}mb.html"), 1)[0] for mb in sizes]
                line += f" {b[0]:>12} {b[1]:>13}"
            print(line, flush=True)
    if ref:
        ratio = worst / ref
        status = "PASS" if ratio <= 3 else "MISS"
        print(f"adversarial_worst_ms_per_mb = {worst:.1f} ({ratio:.1f}x the costlier ordinary set's {ref:.1f}; "
              f"target within 3x: {status})")


if __name__ == "__main__":
    main()
