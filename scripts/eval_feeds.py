#!/usr/bin/env python3
"""Feed-parsing and charset-detection evaluation for mediawatch (run by `make eval`).

Usage: scripts/eval_feeds.py [--check] [--verbose] BIN CORPUS_DIR

BIN is the mediawatch binary; CORPUS_DIR is ../shared/corpus, read in place (nothing is copied).

Feed corpora: every feed document is run through `BIN parse-feed` in batches. A document is "parsed"
when its JSON line says ok, "failed" when ok is false, and "panicked" when the line says panicked, or
when no line came back for it (crash or signal). Where a corpus states expectations we also report
agreement, labelled by where the expectation comes from:
  - gold:    written by the corpus authors (feed-rs's and rss-parser's expected output, Miniflux's
             hand-transcribed upstream_expectations, feedparser's `expect` expressions);
  - derived: feedparser 6.0.14's reading (a reference from one mature parser, not human gold).
Entry counts compare `entries + skipped_without_link` (every entry the document holds) with the
expected count. Titles compare after collapsing whitespace.

Charset corpus (chardet-encoding-feeds): `BIN detect-charset` on every file; a file is right when the
encoding we chose is the labelled one or one that the WHATWG Encoding Standard uses for that label
(see LABEL_OK below; every equivalence is justified there).

Output: one greppable summary line per corpus (`feeds <corpus> key=value ...`, `charset <corpus> ...`),
detail lines indented below. Exit status: 1 if any document panicked or crashed the binary, or with
--check if a target is missed (feedparser-tests wellformed parsed >= 0.98, charset share_decodable >= 0.95);
2 on bad usage or an unreadable corpus; 0 otherwise.
"""

import ast
import json
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict

BATCH = 300
TIMEOUT = 600  # seconds per batch
TARGET_WELLFORMED = 0.98
TARGET_CHARSET = 0.95

# ---------------------------------------------------------------------------------------------
# Charset equivalences, following the WHATWG Encoding Standard (https://encoding.spec.whatwg.org/,
# section 4.2 "Names and labels"). Keys are labels as the corpora write them (lower case, Python
# codec names); values are the encoding_rs names (= WHATWG names) that count as right.
LABEL_OK = {
    # Unicode.
    "utf-8": {"UTF-8"},
    "utf-8-sig": {"UTF-8"},  # UTF-8 with a BOM; the BOM selects UTF-8.
    "utf-16le": {"UTF-16LE"},
    "utf-16be": {"UTF-16BE"},
    # "utf-16" (Python: BOM decides) is resolved per file from the BOM in expected_for().
    # utf-32*: WHATWG has no UTF-32 decoder, so no answer can be right (left out of LABEL_OK).
    # ASCII: WHATWG maps the labels "ascii"/"us-ascii" to windows-1252; ASCII bytes also decode
    # identically as UTF-8 (ASCII is a subset of both), so either is a correct reading.
    "ascii": {"windows-1252", "UTF-8"},
    "us-ascii": {"windows-1252", "UTF-8"},
    # Latin: WHATWG maps "iso-8859-1"/"latin1" to windows-1252 (a superset on 0xA0-0xFF, and C1
    # controls replaced by printable characters), "iso-8859-9" to windows-1254, "tis-620" to
    # windows-874. No other widening: windows-1250 is NOT a superset of ISO-8859-2, nor is
    # windows-1253 of ISO-8859-7 or windows-1256 of ISO-8859-6 (different byte positions).
    "iso-8859-1": {"windows-1252"},
    "windows-1252": {"windows-1252"},
    "iso-8859-9": {"windows-1254"},
    "windows-1254": {"windows-1254"},
    "tis-620": {"windows-874"},
    "iso-8859-2": {"ISO-8859-2"},
    "windows-1250": {"windows-1250"},
    "iso-8859-5": {"ISO-8859-5"},
    "iso-8859-6": {"ISO-8859-6"},
    "iso-8859-7": {"ISO-8859-7"},
    "windows-1251": {"windows-1251"},
    "windows-1255": {"windows-1255"},
    "windows-1256": {"windows-1256"},
    "koi8-r": {"KOI8-R"},  # KOI8-U is a different decoder in WHATWG, not a superset.
    "ibm866": {"IBM866"},
    "maccyrillic": {"x-mac-cyrillic"},  # WHATWG label "x-mac-cyrillic".
    # ibm855: no WHATWG decoder (left out).
    # Chinese: WHATWG maps "gb2312" (and "gbk", "x-gbk", "chinese", ...) to GBK, whose decoder IS
    # the gb18030 decoder; gb18030 is a superset of GBK. "big5" is Big5 (Big5-HKSCS, a superset).
    "gb2312": {"GBK", "gb18030"},
    "gbk": {"GBK", "gb18030"},
    "gb18030": {"GBK", "gb18030"},
    "big5": {"Big5"},
    # euc-tw: no WHATWG decoder (left out).
    # Japanese: "cp932" is the WHATWG label "windows-31j"/"ms932" -> Shift_JIS.
    "shift_jis": {"Shift_JIS"},
    "cp932": {"Shift_JIS"},
    "euc-jp": {"EUC-JP"},
    "iso-2022-jp": {"ISO-2022-JP"},
    # Korean: WHATWG maps "euc-kr", "windows-949", "ks_c_5601-1987", ... to EUC-KR (in fact the
    # UHC/cp949 superset), so Python's cp949 is the same decoder.
    "euc-kr": {"EUC-KR"},
    "cp949": {"EUC-KR"},
    # johab: no WHATWG decoder. iso-2022-kr: WHATWG maps it to the "replacement" decoder (it decodes
    # nothing), so no answer is right (both left out).
}


def norm_label(label):
    """Python codec spelling to the keys of LABEL_OK."""
    s = label.strip().lower().replace("_", "-")
    s = {"shift-jis": "shift_jis", "cp1252": "windows-1252", "latin-1": "iso-8859-1",
         "iso8859-1": "iso-8859-1", "tis620": "tis-620", "utf8": "utf-8"}.get(s, s)
    m = re.fullmatch(r"cp(125\d)", s)
    if m:
        s = "windows-" + m.group(1)
    return s


def expected_for(label, path):
    """The set of acceptable encoding_rs names for a label (empty: WHATWG cannot decode it)."""
    lab = norm_label(label)
    if lab == "utf-16":
        with open(path, "rb") as f:
            head = f.read(2)
        if head == b"\xff\xfe":
            return {"UTF-16LE"}
        if head == b"\xfe\xff":
            return {"UTF-16BE"}
        return {"UTF-16LE", "UTF-16BE"}  # Python's utf-16 without a BOM: either byte order read.
    return LABEL_OK.get(lab, set())


# ---------------------------------------------------------------------------------------------
# Running the binary.

def run_batches(bin_path, sub, files, extra=()):
    """Run `bin_path sub [extra] FILES` in batches; return {path: json line or None (crashed)}."""
    out = {}
    for i in range(0, len(files), BATCH):
        batch = files[i:i + BATCH]
        out.update(run_one(bin_path, sub, batch, extra))
    return out


def run_one(bin_path, sub, batch, extra):
    try:
        p = subprocess.run([bin_path, sub, *extra, *batch], capture_output=True, timeout=TIMEOUT)
        rc, stdout = p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        rc, stdout = None, e.stdout or b""
    got = {}
    for line in stdout.decode("utf-8", "replace").splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and "path" in obj:
            got[obj["path"]] = obj
    missing = [f for f in batch if f not in got]
    if missing and len(batch) > 1:
        # A crash (or a usage error) stopped the batch: run the files without a line one by one.
        for f in missing:
            got.update(run_one(bin_path, sub, [f], extra))
    elif missing:
        got[batch[0]] = None  # no line for a lone file: it crashed the binary (or timed out)
    _ = rc
    return got


def status(line):
    if line is None or line.get("panicked"):
        return "panicked"
    return "parsed" if line.get("ok") else "failed"


def norm_title(t):
    if t is None:
        return None
    if isinstance(t, dict):  # tolerate a structured title
        t = t.get("content") or t.get("value")
    return " ".join(str(t).split())


def total_entries(line):
    if not line or not line.get("ok"):
        return None
    return (line.get("entries") or 0) + (line.get("skipped_without_link") or 0)


class Agreement:
    """Counts of documents where one expectation holds."""

    def __init__(self):
        self.n = 0
        self.ok = 0
        self.misses = []

    def add(self, good, detail):
        self.n += 1
        if good:
            self.ok += 1
        else:
            self.misses.append(detail)

    def fmt(self, name):
        if not self.n:
            return ""
        return f" {name}={self.ok}/{self.n}"


def counts_line(corpus, results, extra=""):
    c = Counter(status(v) for v in results.values())
    return (f"feeds {corpus} docs={len(results)} parsed={c['parsed']} failed={c['failed']} "
            f"panicked={c['panicked']}{extra}")


def details(results, agreements, verbose, limit=8):
    rows = []
    fails = [(p, v) for p, v in sorted(results.items()) if status(v) != "parsed"]
    causes = Counter(short_error(v) for _, v in fails)
    for cause, n in causes.most_common(limit if not verbose else None):
        rows.append(f"  fail-cause {n:4d}  {cause}")
    for p, v in fails[: (None if verbose else limit)]:
        rows.append(f"  {status(v):8s} {p}: {short_error(v)}")
    for name, a in agreements.items():
        for m in a.misses[: (None if verbose else limit)]:
            rows.append(f"  miss {name}: {m}")
    return rows


def short_error(v):
    if v is None:
        return "no output line (crash or signal)"
    e = v.get("error") or ""
    e = re.sub(r"\d+", "N", e.splitlines()[0] if e else "")
    return e[:120]


def load_json(path):
    """JSON in UTF-8; a few upstream expected files are windows-1252 (rss-parser's jn.pt case)."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("windows-1252", "replace")
    return json.loads(text)


# ---------------------------------------------------------------------------------------------
# The feed corpora.

def eval_feedparser(bin_path, root, verbose):
    d = os.path.join(root, "feedparser-tests")
    cases = load_json(os.path.join(d, "cases.json"))
    files = {k: os.path.join(d, "cases", k) for k in sorted(cases)}
    res_by_path = run_batches(bin_path, "parse-feed", list(files.values()))
    res = {k: res_by_path.get(p) for k, p in files.items()}

    share = {}
    for cat in ("wellformed", "illformed"):
        ks = [k for k in res if cases[k]["category"] == cat]
        share[cat] = sum(status(res[k]) == "parsed" for k in ks) / len(ks) if ks else 0.0

    # Gold: feedparser's `expect` expressions of the simple forms
    #   [not bozo and] feed['title'] == '...'        -> our feed title
    #   [not bozo and] encoding == '...'             -> our decoder (WHATWG equivalence above)
    title_re = re.compile(r"^(?:not bozo and )?feed\[['\"]title['\"]\] == (u?(['\"]).*\2)$")
    enc_re = re.compile(r"^(?:not )?(?:bozo and )?encoding == (['\"][^'\"]+['\"])$")
    titles, encs = Agreement(), Agreement()
    enc_cases = defaultdict(list)  # content type (or None) -> case keys
    for k in sorted(cases):
        exp = cases[k]["expect"]
        m = title_re.match(exp)
        if m:
            try:
                want = ast.literal_eval(m.group(1))
            except (ValueError, SyntaxError):
                want = None
            if isinstance(want, str):
                line = res[k]
                got = norm_title(line.get("title")) if line and line.get("ok") else None
                titles.add(got == norm_title(want), f"{k}: want {want!r} got {got!r}")
        m = enc_re.match(exp)
        if m:
            ct = None
            for name, value in cases[k].get("http_headers") or []:
                if name.lower() == "content-type":
                    ct = value
            enc_cases[ct].append(k)
    for ct, ks in sorted(enc_cases.items(), key=lambda kv: kv[0] or ""):
        extra = ("--content-type", ct) if ct is not None else ()
        det = run_batches(bin_path, "detect-charset", [files[k] for k in ks], extra)
        for k in ks:
            want = ast.literal_eval(enc_re.match(cases[k]["expect"]).group(1))
            line = det.get(files[k])
            got = line.get("encoding") if line else None
            ok_set = expected_for(want, files[k])
            encs.add(got in ok_set, f"{k}: label {want} (ct={ct!r}) ours {got}"
                     + ("" if ok_set else " [no WHATWG decoder]"))

    extra = (f" wellformed_parsed={share['wellformed']:.3f} illformed_parsed={share['illformed']:.3f}"
             f"{titles.fmt('gold_title_agree')}{encs.fmt('gold_encoding_agree')}")
    print(counts_line("feedparser-tests", res, extra))
    by_cat = defaultdict(Counter)
    for k, v in res.items():
        by_cat[cases[k]["category"]][status(v)] += 1
    for cat, c in sorted(by_cat.items()):
        print(f"  category {cat}: docs={sum(c.values())} parsed={c['parsed']} failed={c['failed']} "
              f"panicked={c['panicked']}")
    for row in details(res, {"gold_title": titles, "gold_encoding": encs}, verbose):
        print(row)
    panicked = sum(status(v) == "panicked" for v in res.values())
    return panicked, share["wellformed"]


def eval_feed_rs(bin_path, root, verbose):
    d = os.path.join(root, "feed-rs-fixtures")
    cases = load_json(os.path.join(d, "cases.json"))
    files = {k: os.path.join(d, cases[k]["input"]) for k in sorted(cases)}
    by_path = run_batches(bin_path, "parse-feed", list(files.values()))
    res = {k: by_path.get(p) for k, p in files.items()}
    counts, titles = Agreement(), Agreement()
    for k in sorted(cases):
        if not cases[k].get("expected"):
            continue  # no expected model: upstream's error/edge inputs
        exp = load_json(os.path.join(d, cases[k]["expected"]))
        line = res[k]
        want_n = len(exp.get("entries") or [])
        got_n = total_entries(line)
        counts.add(got_n == want_n, f"{k}: want {want_n} entries got {got_n}")
        t = exp.get("title")
        want_t = norm_title(t.get("content") if isinstance(t, dict) else t)
        got_t = norm_title(line.get("title")) if line and line.get("ok") else None
        titles.add(got_t == want_t, f"{k}: want {want_t!r} got {got_t!r}")
    print(counts_line("feed-rs-fixtures", res,
                      counts.fmt("gold_entry_count_agree") + titles.fmt("gold_title_agree")))
    for row in details(res, {"gold_entry_count": counts, "gold_title": titles}, verbose):
        print(row)
    return sum(status(v) == "panicked" for v in res.values())


def eval_rss_parser(bin_path, root, verbose):
    d = os.path.join(root, "rss-parser-fixtures")
    cases = load_json(os.path.join(d, "cases.json"))
    files = {k: os.path.join(d, cases[k]["input"]) for k in sorted(cases)}
    by_path = run_batches(bin_path, "parse-feed", list(files.values()))
    res = {k: by_path.get(p) for k, p in files.items()}
    counts, titles, verdict = Agreement(), Agreement(), Agreement()
    for k in sorted(cases):
        line = res[k]
        if k == "unrecognized":  # cases.json note: upstream expects a rejection
            verdict.add(status(line) == "failed", f"{k}: must be rejected, got {status(line)}")
            continue
        verdict.add(status(line) == "parsed", f"{k}: must parse, got {status(line)}")
        if not cases[k].get("expected"):
            continue
        exp = load_json(os.path.join(d, cases[k]["expected"])).get("feed") or {}
        want_n = len(exp.get("items") or [])
        got_n = total_entries(line)
        counts.add(got_n == want_n, f"{k}: want {want_n} items got {got_n}")
        want_t = norm_title(exp.get("title"))
        got_t = norm_title(line.get("title")) if line and line.get("ok") else None
        titles.add(got_t == want_t, f"{k}: want {want_t!r} got {got_t!r}")
    print(counts_line("rss-parser-fixtures", res, verdict.fmt("gold_verdict_agree")
                      + counts.fmt("gold_entry_count_agree") + titles.fmt("gold_title_agree")))
    for row in details(res, {"gold_verdict": verdict, "gold_entry_count": counts,
                             "gold_title": titles}, verbose):
        print(row)
    return sum(status(v) == "panicked" for v in res.values())


def eval_with_derived(bin_path, root, corpus, verbose):
    """miniflux-feeds and rust-syndication-rss-fixtures: derived (feedparser) + upstream expectations."""
    d = os.path.join(root, corpus)
    cases = load_json(os.path.join(d, "cases.json"))
    files = {k: os.path.join(d, cases[k]["path"]) for k in sorted(cases)}
    by_path = run_batches(bin_path, "parse-feed", list(files.values()))
    res = {k: by_path.get(p) for k, p in files.items()}
    ag = {"gold_item_count": Agreement(), "gold_title": Agreement(),
          "derived_entry_count": Agreement(), "derived_title": Agreement()}
    for k in sorted(cases):
        line = res[k]
        got_n = total_entries(line)
        got_t = norm_title(line.get("title")) if line and line.get("ok") else None
        up = cases[k].get("upstream_expectations") or {}
        if "item_count" in up:
            ag["gold_item_count"].add(got_n == up["item_count"],
                                      f"{k}: want {up['item_count']} got {got_n}")
        if "channel_title" in up:
            ag["gold_title"].add(got_t == norm_title(up["channel_title"]),
                                 f"{k}: want {up['channel_title']!r} got {got_t!r}")
        der = cases[k].get("derived") or {}
        # Only where feedparser recognised a feed: a document it could not read as a feed (version
        # "") says nothing about entry counts.
        if der.get("version"):
            ag["derived_entry_count"].add(got_n == der.get("entry_count"),
                                          f"{k}: feedparser {der.get('entry_count')} ours {got_n}")
            want_t = (der.get("feed") or {}).get("title")
            if want_t is not None:
                ag["derived_title"].add(got_t == norm_title(want_t),
                                        f"{k}: feedparser {want_t!r} ours {got_t!r}")
    extra = "".join(a.fmt(n + "_agree") for n, a in ag.items())
    print(counts_line(corpus, res, extra))
    for row in details(res, ag, verbose):
        print(row)
    return sum(status(v) == "panicked" for v in res.values())


# ---------------------------------------------------------------------------------------------
# The charset corpus.

def eval_charset(bin_path, root, verbose):
    d = os.path.join(root, "chardet-encoding-feeds")
    labels = load_json(os.path.join(d, "labels.json"))
    files = {k: os.path.join(d, labels[k]["path"]) for k in sorted(labels)}
    det = run_batches(bin_path, "detect-charset", list(files.values()))
    right = decodable = crashed = 0
    misses = Counter()
    examples = {}
    per_label = defaultdict(Counter)
    for k in sorted(labels):
        label = labels[k]["encoding"]
        ok_set = expected_for(label, files[k])
        line = det.get(files[k])
        if line is None:
            crashed += 1
        got = line.get("encoding") if line else None
        if ok_set:
            decodable += 1
        good = got in ok_set
        per_label[label]["right" if good else "miss"] += 1
        if good:
            right += 1
        else:
            src = line.get("source") if line else None
            key = (label, got, src, "" if ok_set else "no WHATWG decoder")
            misses[key] += 1
            examples.setdefault(key, k)
    n = len(labels)
    print(f"charset chardet-encoding-feeds files={n} right={right} share={right / n:.3f} "
          f"decodable={decodable} share_decodable={right / decodable if decodable else 0:.3f} "
          f"crashed={crashed}")
    print("  misses: label -> ours (source) count  example")
    for (label, got, src, note), c in sorted(misses.items(), key=lambda kv: (-kv[1], kv[0][0])):
        ex = examples[(label, got, src, note)]
        note = f" [{note}]" if note else ""
        print(f"  miss {label:>13} -> {str(got):<14} ({src}) {c:3d}  {ex}{note}")
    if verbose:
        for label, c in sorted(per_label.items()):
            print(f"  label {label}: right={c['right']} miss={c['miss']}")
    # The target is checked on the files that some WHATWG decoder can read at all (IBM855, UTF-32, Johab,
    # EUC-TW and ISO-2022-KR have none in encoding_rs); the raw share over every file is printed above.
    return crashed, right / decodable if decodable else 0.0


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    unknown = flags - {"--check", "--verbose"}
    if len(args) != 2 or unknown:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    bin_path, root = os.path.abspath(args[0]), os.path.abspath(args[1])
    verbose = "--verbose" in flags
    if not os.access(bin_path, os.X_OK) or not os.path.isdir(root):
        print(f"eval_feeds: need an executable BIN and a corpus folder: {args}", file=sys.stderr)
        return 2
    try:
        panics, wellformed = eval_feedparser(bin_path, root, verbose)
        panics += eval_feed_rs(bin_path, root, verbose)
        panics += eval_rss_parser(bin_path, root, verbose)
        for corpus in ("miniflux-feeds", "rust-syndication-rss-fixtures"):
            panics += eval_with_derived(bin_path, root, corpus, verbose)
        crashed, share = eval_charset(bin_path, root, verbose)
    except (OSError, ValueError, KeyError) as e:
        print(f"eval_feeds: cannot read the corpus: {str(e)[:300]}", file=sys.stderr)
        return 2
    panics += crashed
    failed = []
    if panics:
        failed.append(f"{panics} document(s) panicked or crashed the binary")
    if "--check" in flags:
        if wellformed < TARGET_WELLFORMED:
            failed.append(f"feedparser wellformed parsed {wellformed:.3f} < {TARGET_WELLFORMED}")
        if share < TARGET_CHARSET:
            failed.append(f"charset share_decodable {share:.3f} < {TARGET_CHARSET}")
    print(f"eval_feeds result={'FAIL' if failed else 'ok'} panicked={panics}"
          + "".join(f"\n  target missed: {f}" for f in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
