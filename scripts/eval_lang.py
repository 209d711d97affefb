#!/usr/bin/env python3
"""Language-identification and Simplified/Traditional Chinese evaluation for mediawatch.

Usage: scripts/eval_lang.py [--check] BIN CORPUS_DIR

BIN is the mediawatch binary; CORPUS_DIR is ../shared/corpus, read in place (nothing is copied into
the repository; temporary files go to the system temp directory and are removed).

Data: CORPUS_DIR/langid-eval/lingua/sentences/<code>.txt.gz (gzip, UTF-8, one sentence per line, files
named by ISO 639-1 code; see langid-eval/README.md). Only the SENTENCE files are used, not
single-words/ or word-pairs/.

1. Language accuracy. For each language in LANGS, the first CAP lines of its sentence file are run
   through `BIN lang --detector mediawatch` and `BIN lang --detector whatlang` (one process call per
   detector for all languages together, fed from a temp file; the two calls run concurrently). A prediction is right when its code,
   normalised to ISO 639-1 (PRED_TO_639_1 maps any ISO 639-3 spelling a detector may print), equals the
   language's expected code (CORPUS_TO_639_1 maps the corpus file name to it; identity for this
   corpus, which already uses ISO 639-1 names).
   Output: `lang xx n=N ours=0.xxx whatlang=0.xxx` per language and
           `lang mean_ours=0.xxx mean_whatlang=0.xxx languages=14` (unweighted mean over languages).

2. Simplified vs Traditional. The zh sentences are joined (without separator) consecutively until a
   text holds at least MIN_HAN Han characters (a trailing remainder below that is dropped). Each text
   gets a Simplified version (`BIN han-convert t2s`) and a Traditional version (`BIN han-convert s2t`);
   texts where both versions are identical cannot be told apart and are excluded (counted as
   `identical=`). Both versions go through `BIN lang`; hans_right counts "Hans" on the Simplified
   versions, hant_right counts "Hant" on the Traditional ones; share = (hans_right + hant_right) /
   (2 * texts).
   Output: `script zh texts=N hans_right=... hant_right=... share=0.xxx` (+ `identical=`, `dropped=`).

Exit status: 1 if the binary crashes (non-zero exit, or a line count that does not match the input),
or with --check if a target is missed (mean_ours >= 0.95, script share >= 0.98); 2 on bad usage or an
unreadable corpus; 0 otherwise.
"""

import gzip
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

CAP = 1000  # lines per language (the files here hold about 700 sentences each, zh 510)
MIN_HAN = 50
TIMEOUT = 600  # seconds per process call
TARGET_LANG = 0.95
TARGET_SCRIPT = 0.98

LANGS = ["en", "zh", "ru", "uk", "be", "kk", "ja", "ko", "ar", "fa", "de", "fr", "es", "vi"]

# Corpus file name -> the ISO 639-1 code a right prediction must carry. The lingua test set names its
# files by ISO 639-1 already, so this is the identity; it is kept explicit so that a corpus naming
# languages otherwise (639-3 codes, full names) only needs a change here.
CORPUS_TO_639_1 = {c: c for c in LANGS}

# Predicted code -> ISO 639-1. mediawatch prints 639-1 where one exists; this also folds the ISO 639-3
# (and macrolanguage member) spellings that whatlang-style detectors use, so no prediction is counted
# wrong for spelling alone.
PRED_TO_639_1 = {
    "eng": "en",
    "cmn": "zh", "zho": "zh", "chi": "zh",  # not yue: Cantonese is its own language, no 639-1 code
    "rus": "ru",
    "ukr": "uk",
    "bel": "be",
    "kaz": "kk",
    "jpn": "ja",
    "kor": "ko",
    "ara": "ar", "arb": "ar",
    "fas": "fa", "per": "fa", "pes": "fa",
    "deu": "de", "ger": "de",
    "fra": "fr", "fre": "fr",
    "spa": "es",
    "vie": "vi",
}


def die(msg, code=2):
    print("eval_lang: " + msg, file=sys.stderr)
    sys.exit(code)


def read_lines(path):
    """Lines of a gzip UTF-8 file, split on '\\n' only (as the binary does), '\\r' stripped."""
    with gzip.open(path, "rb") as f:
        text = f.read().decode("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [l.rstrip("\r") for l in lines]


def run_lines(bin_path, args, lines):
    """Run BIN args over lines (via a temp file on stdin); return the output lines, one per input."""
    with tempfile.TemporaryFile() as tmp:
        tmp.write(("\n".join(lines) + "\n").encode("utf-8"))
        tmp.seek(0)
        try:
            proc = subprocess.run([bin_path] + args, stdin=tmp, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            die("%s timed out after %ds" % (" ".join(args), TIMEOUT), 1)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode("utf-8", "replace")[-2000:])
        die("%s exited with status %d" % (" ".join(args), proc.returncode), 1)
    out = proc.stdout.decode("utf-8").split("\n")
    if out and out[-1] == "":
        out.pop()
    if len(out) != len(lines):
        die("%s gave %d lines for %d input lines" % (" ".join(args), len(out), len(lines)), 1)
    return out


def detect(bin_path, detector, lines):
    return [json.loads(l) for l in run_lines(bin_path, ["lang", "--format", "jsonl", "--detector", detector], lines)]


def norm_pred(code):
    code = (code or "und").strip().lower()
    return PRED_TO_639_1.get(code, code)


def is_han(ch):
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x3134F
            or 0xF900 <= o <= 0xFAFF or 0x2F800 <= o <= 0x2FA1F)


def main(argv):
    check = "--check" in argv
    pos = [a for a in argv if a != "--check"]
    if len(pos) != 2 or any(a.startswith("-") for a in pos):
        die("usage: eval_lang.py [--check] BIN CORPUS_DIR")
    bin_path, corpus = pos
    if not os.access(bin_path, os.X_OK):
        die("binary %s not found or not executable" % bin_path)
    sent_dir = os.path.join(corpus, "langid-eval", "lingua", "sentences")

    # ---- 1. language accuracy -----------------------------------------------------------------
    per_lang = {}
    all_lines, spans = [], []
    for lang in LANGS:
        path = os.path.join(sent_dir, lang + ".txt.gz")
        try:
            lines = read_lines(path)
        except OSError as e:
            die("cannot read %s: %s" % (path, e))
        per_lang[lang] = lines
        lines = lines[:CAP]
        spans.append((lang, len(all_lines), len(all_lines) + len(lines)))
        all_lines.extend(lines)

    # The two detector processes run side by side (one call each) to halve the wall time.
    with ThreadPoolExecutor(max_workers=2) as pool:
        futs = {d: pool.submit(detect, bin_path, d, all_lines) for d in ("mediawatch", "whatlang")}
        preds = {d: f.result() for d, f in futs.items()}
    print("lang cap=%d lines per language (first lines of lingua/sentences/<lang>.txt.gz)" % CAP)
    acc_ours, acc_wl = [], []
    for lang, a, b in spans:
        want = CORPUS_TO_639_1[lang]
        n = b - a
        ours = sum(norm_pred(p["lang"]) == want for p in preds["mediawatch"][a:b]) / n
        wl = sum(norm_pred(p["lang"]) == want for p in preds["whatlang"][a:b]) / n
        acc_ours.append(ours)
        acc_wl.append(wl)
        print("lang %s n=%d ours=%.3f whatlang=%.3f" % (lang, n, ours, wl))
    mean_ours = sum(acc_ours) / len(acc_ours)
    mean_wl = sum(acc_wl) / len(acc_wl)
    print("lang mean_ours=%.3f mean_whatlang=%.3f languages=%d" % (mean_ours, mean_wl, len(LANGS)))

    # ---- 2. Simplified vs Traditional ---------------------------------------------------------
    texts, cur, han, dropped = [], [], 0, 0
    for s in per_lang["zh"][:CAP]:
        cur.append(s)
        han += sum(1 for ch in s if is_han(ch))
        if han >= MIN_HAN:
            texts.append("".join(cur))
            cur, han = [], 0
    if cur:
        dropped = 1  # trailing remainder below MIN_HAN Han characters
    simp = run_lines(bin_path, ["han-convert", "t2s"], texts)
    trad = run_lines(bin_path, ["han-convert", "s2t"], texts)
    keep = [i for i in range(len(texts)) if simp[i] != trad[i]]
    identical = len(texts) - len(keep)
    res = detect(bin_path, "mediawatch", [simp[i] for i in keep] + [trad[i] for i in keep])
    k = len(keep)
    hans_right = sum(r.get("script") == "Hans" for r in res[:k])
    hant_right = sum(r.get("script") == "Hant" for r in res[k:])
    share = (hans_right + hant_right) / (2 * k) if k else 0.0
    print("script zh texts=%d hans_right=%d hant_right=%d share=%.3f identical=%d dropped=%d min_han=%d"
          % (k, hans_right, hant_right, share, identical, dropped, MIN_HAN))
    if identical:
        print("  %d of %d texts are unchanged by conversion (Simplified == Traditional) and excluded"
              % (identical, len(texts)))

    if check:
        missed = []
        if mean_ours < TARGET_LANG:
            missed.append("mean_ours %.3f < %.2f" % (mean_ours, TARGET_LANG))
        if share < TARGET_SCRIPT:
            missed.append("script share %.3f < %.2f" % (share, TARGET_SCRIPT))
        if missed:
            print("check: FAILED (" + "; ".join(missed) + ")")
            return 1
        print("check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
