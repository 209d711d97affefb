#!/usr/bin/env bash
# make eval: score the pipeline's stages on the shared corpora, read in place (never copied).
# Usage: scripts/eval.sh BIN CORPUS_DIR EVAL_EXTRACTION_PY
# Exits non-zero when a target is missed (thresholds below), so CI catches regressions.
# MW_EVAL_SPLIT=tune|holdout|all (default all): with tune or holdout only extraction is scored, on that part
# of each corpus (scripts/eval_extract.py: fold 0 by page-id hash is the hold-out), and nothing gates.
set -uo pipefail
bin=$(realpath "$1"); corpus=$2; tool=$3
here=$(cd "$(dirname "$0")" && pwd)
ZYTE_MIN_F1=${ZYTE_MIN_F1:-0.96}
TRAF_MIN_F1=${TRAF_MIN_F1:-0.92}
split=${MW_EVAL_SPLIT:-all}
if [ ! -d "$corpus" ] || [ ! -f "$tool" ]; then
  echo "eval: $corpus or $tool not found (the shared corpus sits beside the repository as ../shared)" >&2
  exit 1
fi
case $split in
  all) ;;
  tune|holdout)
    echo "eval: MW_EVAL_SPLIT=$split: extraction on the $split part only; the gates apply to MW_EVAL_SPLIT=all (CI)"
    [ "$split" = holdout ] && echo "eval: the hold-out is for a last check: do not tune rules on what it shows"
    python3 "$here/eval_extract.py" --split "$split" "$bin" "$corpus" "$tool"
    exit $? ;;
  *) echo "eval: MW_EVAL_SPLIT=$split: expected tune, holdout or all" >&2; exit 2 ;;
esac
failed=()

f1_of() { sed -n 's/^F1 \([0-9.]*\)$/\1/p' <<<"$1" | tail -1; }
below() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1] or 0) < float(sys.argv[2]) else 1)" "$1" "$2"; }

echo "== extraction: zyte-article-extraction (target F1 >= $ZYTE_MIN_F1)"
out=$(python3 "$tool" "$corpus/zyte-article-extraction" -- "$bin" extract --format jsonl); echo "$out"
f1=$(f1_of "$out"); below "$f1" "$ZYTE_MIN_F1" && failed+=("zyte F1 $f1 < $ZYTE_MIN_F1")

echo "== extraction: trafilatura-eval (target F1 >= $TRAF_MIN_F1)"
out=$(python3 "$tool" "$corpus/trafilatura-eval" -- "$bin" extract --format jsonl); echo "$out"
f1=$(f1_of "$out"); below "$f1" "$TRAF_MIN_F1" && failed+=("trafilatura-eval F1 $f1 < $TRAF_MIN_F1")

python3 "$here/eval_extract.py" --split all "$bin" "$corpus" "$tool" || failed+=("eval_extract.py failed")

echo "== extract never panics: every file of $corpus"
panics=0; files=0
mapfile -d '' all < <(find "$corpus" -type f -print0 | sort -z)
for ((i = 0; i < ${#all[@]}; i += 200)); do
  chunk=("${all[@]:i:200}")
  files=$((files + ${#chunk[@]}))
  "$bin" extract --format jsonl "${chunk[@]}" > /dev/null 2> /tmp/mw-eval-extract.err
  status=$?
  if [ $status -gt 1 ] || grep -q "panicked" /tmp/mw-eval-extract.err; then
    panics=$((panics + 1)); echo "  panic or crash (status $status) in a batch starting at ${chunk[0]}"; grep -m3 panicked /tmp/mw-eval-extract.err
  fi
done
echo "extract files=$files panicking_batches=$panics"
[ $panics -eq 0 ] || failed+=("extract panicked on the corpus")

echo "== feeds and charsets"
python3 "$here/eval_feeds.py" --check "$bin" "$corpus" || failed+=("feed/charset targets")

if [ -f "$here/eval_lang.py" ]; then
  echo "== language and script"
  python3 "$here/eval_lang.py" --check "$bin" "$corpus" || failed+=("language targets")
fi

if [ ${#failed[@]} -gt 0 ]; then
  printf 'eval: target missed: %s\n' "${failed[@]}"
  exit 1
fi
echo "eval: all targets met"
