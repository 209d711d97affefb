#!/usr/bin/env bash
# Extraction speed and quality next to trafilatura, on the Zyte pages, single-threaded, in one run.
# Usage: scripts/bench_extract.sh BIN CORPUS_DIR EVAL_TOOL
#
# Both extractors get every page in one process (ours: `BIN extract --no-lang --format jsonl`, the
# extraction stage alone; trafilatura: scripts/trafilatura_extract.py, which calls
# trafilatura.extract(html, include_comments=False) like the published benchmark and detects no
# language either) and are scored by the same EVAL_TOOL (F1, pages/s of the whole command). Ours also
# runs as the CLI default, `BIN extract --format jsonl`, which adds language detection (a separate
# pipeline stage): its own row, so the like-for-like figure hides nothing.
#
# Timing: each extractor runs under GNU time (`/usr/bin/time`, a C program that starts in about a
# millisecond), which records its peak RSS and CPU time; the eval tool's wall time is then the
# extractor's own, start-up included. (A Python wrapper costs ~90 ms of interpreter start-up per run
# on this machine: half of a whole run of ours, 5% of trafilatura's, so it skewed the ratio; it is only
# the fallback when GNU time is missing, and the summary then says so.) The three extractors run in
# turn, BENCH_EXTRACT_ROUNDS times (default 3); the summary gives each one's median pages/s and the
# ratios of the medians.
# trafilatura lives in a virtualenv under target/bench-venv (git-ignored), made on first use from PyPI;
# when that fails the trafilatura row is skipped and the run goes on.
set -euo pipefail
if [ $# -ne 3 ]; then
  echo "usage: $0 BIN CORPUS_DIR EVAL_TOOL" >&2
  exit 2
fi
bin=$(realpath "$1"); corpus=$2; tool=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
pages="$corpus/zyte-article-extraction"
if [ ! -d "$pages" ] || [ ! -f "$tool" ]; then
  echo "bench_extract: $pages or $tool not found (the shared corpus sits beside the repository as ../shared)" >&2
  exit 1
fi
TRAFILATURA_PIN=${TRAFILATURA_PIN:-trafilatura==2.0.0}   # the version of the published Zyte numbers
venv=${BENCH_VENV:-$root/target/bench-venv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rounds=${BENCH_EXTRACT_ROUNDS:-3}
# The timing wrapper: GNU time, else a Python one that writes the same "peak-RSS-KiB user-s system-s".
if [ -x /usr/bin/time ]; then
  wrapper=gnu-time
else
  wrapper=python
  cat > "$work/maxrss.py" <<'EOF'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
u = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write(f"{u.ru_maxrss} {u.ru_utime} {u.ru_stime}")
sys.exit(rc)
EOF
fi

# run NAME ROUND CMD...: scores CMD with the eval tool; keeps its output in $work/NAME.ROUND.out and
# its peak RSS and CPU time in $work/NAME.ROUND.t.
run() {
  local name=$1 round=$2; shift 2
  local t="$work/$name.$round.t"
  echo "== extraction: $name on $(ls "$pages"/html/*.html.gz | wc -l) Zyte pages, one process, one thread (round $round of $rounds)"
  if [ "$wrapper" = gnu-time ]; then
    python3 "$tool" "$pages" -- /usr/bin/time -f '%M %U %S' -o "$t" "$@" | tee "$work/$name.$round.out"
  else
    python3 "$tool" "$pages" -- python3 "$work/maxrss.py" "$t" "$@" | tee "$work/$name.$round.out"
  fi
}

trafilatura_ok=0
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import trafilatura' 2>/dev/null; then
  trafilatura_ok=1
else
  echo "== setting up trafilatura ($TRAFILATURA_PIN) in $venv"
  # lxml 6 moved lxml.html.clean (needed by jusText, a trafilatura dependency) to lxml_html_clean.
  # Only a folder that is missing or already a virtualenv is (re)made: never delete anything else.
  if log=$( { { [ ! -e "$venv" ] || [ -f "$venv/pyvenv.cfg" ] || { echo "$venv exists and is not a virtualenv"; false; }; } &&
              rm -rf "$venv" && python3 -m venv "$venv" &&
              "$venv/bin/pip" install --quiet --disable-pip-version-check "$TRAFILATURA_PIN" lxml_html_clean &&
              "$venv/bin/python" -c 'import trafilatura'; } 2>&1 ); then
    trafilatura_ok=1
  else
    reason=$(printf '%s\n' "$log" | grep -v '^\s*$' | tail -n 1)
    echo "bench_extract: trafilatura unavailable (${reason:-venv or pip install failed}) - skipped"
  fi
fi
if [ "$trafilatura_ok" = 1 ]; then
  echo "   ($("$venv/bin/python" -c 'import trafilatura, lxml; print("trafilatura", trafilatura.__version__, "lxml", lxml.__version__)'))"
fi
for round in $(seq 1 "$rounds"); do
  run mediawatch "$round" "$bin" extract --no-lang --format jsonl
  run mediawatch+lang "$round" "$bin" extract --format jsonl
  if [ "$trafilatura_ok" = 1 ]; then
    run trafilatura "$round" "$venv/bin/python" "$here/trafilatura_extract.py"
  fi
done

echo "== extraction summary (Zyte pages, single-threaded; median of $rounds rounds; timed under $wrapper)"
python3 - "$work" "$trafilatura_ok" "$rounds" "$wrapper" <<'EOF'
import os, re, statistics, sys
work, have_traf, rounds, wrapper = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), sys.argv[4]
names = ["mediawatch", "mediawatch+lang"] + (["trafilatura"] if have_traf else [])
rows, per_round = {}, {}
for name in names:
    f1s, ppss, mbs, ppcpus = [], [], [], []
    for r in range(1, rounds + 1):
        out = open(os.path.join(work, f"{name}.{r}.out")).read()
        f1 = re.search(r"^F1 ([0-9.]+)", out, re.M)
        pps = re.search(r"pages_per_s=([0-9.]+)", out)
        pages = re.search(r"pages=([0-9]+)", out)
        if f1:
            f1s.append(float(f1.group(1)))
        if pps:
            ppss.append(float(pps.group(1)))
        try:
            # GNU time may put a line about the exit status first: the figures are the last line.
            rss, user, system = open(os.path.join(work, f"{name}.{r}.t")).read().split()[-3:]
            mbs.append(int(rss) / 1024)
            cpu = float(user) + float(system)
            if pages and cpu > 0:
                ppcpus.append(int(pages.group(1)) / cpu)
        except (OSError, ValueError):
            pass
    med = lambda v: statistics.median(v) if v else None
    rows[name] = (med(f1s), med(ppss), max(mbs) if mbs else None, med(ppcpus))
    per_round[name] = ppss
fmt = lambda v, spec: "-" if v is None else format(v, spec)
label = {"mediawatch": "mediawatch (extraction alone, --no-lang)",
         "mediawatch+lang": "mediawatch+lang (default: + language detection)",
         "trafilatura": "trafilatura"}
print(f"{'tool':<48} {'F1':>6} {'pages/s':>9} {'pages/cpu-s':>12} {'peak MB':>8}  pages/s by round")
for name, (f1, pps, mb, ppcpu) in rows.items():
    by_round = " ".join(f"{v:.1f}" for v in per_round[name])
    print(f"{label[name]:<48} {fmt(f1, '.3f'):>6} {fmt(pps, '.1f'):>9} {fmt(ppcpu, '.1f'):>12} {fmt(mb, '.1f'):>8}  {by_round}")
traf = rows.get("trafilatura", (None,) * 4)
for name, what in [("mediawatch", "like for like"), ("mediawatch+lang", "with language detection")]:
    ours = rows[name]
    key = "ratio_pages_per_s" if name == "mediawatch" else "ratio_pages_per_s_with_lang"
    if ours[1] and traf[1]:
        ratio = ours[1] / traf[1]
        cpu = f"{ours[3] / traf[3]:.2f}" if ours[3] and traf[3] else "-"
        status = ""
        if name == "mediawatch":
            ok = ratio >= 10 and None not in (ours[0], traf[0]) and ours[0] >= traf[0]
            status = "; target >= 10x at equal or better F1: " + ("PASS" if ok else "MISS")
        print(f"{key} = {ratio:.2f} wall, {cpu} cpu ({name} / trafilatura, {what}, medians){status}")
    else:
        print(f"{key} = - (trafilatura not run)")
# Best round of each: the run least disturbed by whatever else the machine does (timeit's advice
# for timing under interference); on a shared VM the medians move by +-15% from run to run.
if have_traf and per_round["trafilatura"]:
    best_traf = max(per_round["trafilatura"])
    for name, key in [("mediawatch", "ratio_best_pages_per_s"), ("mediawatch+lang", "ratio_best_pages_per_s_with_lang")]:
        if per_round[name]:
            best = max(per_round[name])
            print(f"{key} = {best / best_traf:.2f} wall ({name} {best:.1f} / trafilatura {best_traf:.1f} pages/s, best of {rounds} rounds each)")
if wrapper != "gnu-time":
    print("note: GNU time not found; timed under a Python wrapper whose start-up counts against every tool")
EOF
