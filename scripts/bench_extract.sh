#!/usr/bin/env bash
# Extraction speed and quality next to trafilatura, on the Zyte pages, single-threaded, in one run.
# Usage: scripts/bench_extract.sh BIN CORPUS_DIR EVAL_TOOL
#
# Both extractors get every page in one process (ours: `BIN extract --no-lang --format jsonl`, the
# extraction stage alone; trafilatura: scripts/trafilatura_extract.py, which calls
# trafilatura.extract(html, include_comments=False) like the published benchmark and detects no
# language either) and are scored by the same EVAL_TOOL (F1, pages/s of the whole command). Ours also
# runs once more as the CLI default, `BIN extract --format jsonl`, which adds language detection (a
# separate pipeline stage): its own row, so the like-for-like figure hides nothing. Each extractor runs
# under a small wrapper that records its peak RSS (its own process, not the eval tool's).
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

# maxrss OUT CMD...: runs CMD, then writes the peak RSS of CMD (and anything it waited for) in KiB to OUT.
cat > "$work/maxrss.py" <<'EOF'
import resource, subprocess, sys
rc = subprocess.call(sys.argv[2:])
u = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write(f"{u.ru_maxrss} {u.ru_utime + u.ru_stime}")
sys.exit(rc)
EOF

# run NAME CMD...: scores CMD with the eval tool, keeps its output in $work/NAME.out and its peak RSS.
run() {
  local name=$1; shift
  echo "== extraction: $name on $(ls "$pages"/html/*.html.gz | wc -l) Zyte pages, one process, one thread"
  python3 "$tool" "$pages" -- python3 "$work/maxrss.py" "$work/$name.rss" "$@" | tee "$work/$name.out"
}

run mediawatch "$bin" extract --no-lang --format jsonl
run mediawatch+lang "$bin" extract --format jsonl

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
  run trafilatura "$venv/bin/python" "$here/trafilatura_extract.py"
fi

echo "== extraction summary (Zyte pages, single-threaded)"
python3 - "$work" "$trafilatura_ok" <<'EOF'
import os, re, sys
work, have_traf = sys.argv[1], sys.argv[2] == "1"
rows = {}
names = ["mediawatch", "mediawatch+lang"] + (["trafilatura"] if have_traf else [])
for name in names:
    out = open(os.path.join(work, name + ".out")).read()
    f1 = re.search(r"^F1 ([0-9.]+)", out, re.M)
    pps = re.search(r"pages_per_s=([0-9.]+)", out)
    pages = re.search(r"pages=([0-9]+)", out)
    try:
        rss, cpu = open(os.path.join(work, name + ".rss")).read().split()
        rss_mb, cpu_s = int(rss) / 1024, float(cpu)
    except (OSError, ValueError):
        rss_mb, cpu_s = None, None
    # Pages per CPU second (user + system of the extractor's process): steadier than wall time when
    # the machine runs anything else, and a whole run of ours takes under a second of wall time.
    ppcpu = int(pages.group(1)) / cpu_s if pages and cpu_s else None
    rows[name] = (float(f1.group(1)) if f1 else None, float(pps.group(1)) if pps else None, rss_mb, ppcpu)
fmt = lambda v, spec: "-" if v is None else format(v, spec)
label = {"mediawatch": "mediawatch (extraction alone, --no-lang)",
         "mediawatch+lang": "mediawatch+lang (default: + language detection)",
         "trafilatura": "trafilatura"}
print(f"{'tool':<48} {'F1':>6} {'pages/s':>9} {'pages/cpu-s':>12} {'peak MB':>8}")
for name, (f1, pps, mb, ppcpu) in rows.items():
    print(f"{label[name]:<48} {fmt(f1, '.3f'):>6} {fmt(pps, '.1f'):>9} {fmt(ppcpu, '.1f'):>12} {fmt(mb, '.1f'):>8}")
traf = rows.get("trafilatura", (None,) * 4)
for name, what in [("mediawatch", "like for like"), ("mediawatch+lang", "with language detection")]:
    ours = rows[name]
    key = "ratio_pages_per_s" if name == "mediawatch" else "ratio_pages_per_s_with_lang"
    if ours[1] and traf[1]:
        cpu = f"{ours[3] / traf[3]:.2f}" if ours[3] and traf[3] else "-"
        print(f"{key} = {ours[1] / traf[1]:.2f} wall, {cpu} cpu ({name} / trafilatura, {what})")
    else:
        print(f"{key} = - (trafilatura not run)")
EOF
