#!/usr/bin/env python3
r"""Issue #25's learned-scorer experiment: does a logistic model beat the conditional cleaning's rule?

The decision point is body.rs's `should_clean` (keep or drop a div/section/list/table/... block inside the
picked root). A binary built with `cargo build --release --features learn-dump` prints every such decision
(MW_LEARN_DUMP=1: 22 features, the rule's decision, the block's text) and takes a weight file in place of the
rule (MW_LEARNED=FILE); src/extract/learned.rs names the features. Plain Python (no numpy): CI needs nothing.

Usage:
  learned_scorer.py dump BIN CORPUS_DIR OUT.jsonl       label the TUNE folds' (1-4) decisions of Zyte and
                                                        trafilatura-eval against their gold
  learned_scorer.py train DUMP.jsonl FOLDS OUT.txt      fit on the decisions of FOLDS (e.g. 1,2,3)
  learned_scorer.py cv BIN CORPUS_DIR TOOL DUMP.jsonl [THRESHOLD]
                                                        for k in 1..4: fit on the other three tune folds, run
                                                        eval_extract.py --split tune with MW_LEARNED, read
                                                        fold k's F1; prints rules vs learned per fold and the
                                                        Mozilla/GNE tune figures of each model; drop a
                                                        block when p >= THRESHOLD (default 0.5)
  learned_scorer.py screen DUMP.jsonl                   block accuracy only (no extraction) of variants, fit on
                                                        three tune folds, scored on the fourth, beside the
                                                        rule's: thresholds, one model per rule decision,
                                                        shallow trees (depth 1-4)
  learned_scorer.py fixture DUMP.jsonl OUT.json         weights fit on folds 1-4 and a few feature vectors
                                                        with their probabilities (learned.rs's test fixture)

Labels. Zyte: the share of the block's 4-token shingles (tokens `\w+`; fewer than 4 tokens: the tokens) found
in the page's gold articleBody; drop (1) when below 0.5. trafilatura-eval: a block holding more of the page's
must-contain than must-not-contain snippets is kept (0), more must-not-contain: dropped (1), neither or a tie:
not labelled. Sample weight: sqrt(token count), so long blocks count more, as they do in the metrics.
Folds are eval_extract.py's (`fold_of`, SHA-256 of the page id mod 5, fold 0 the hold-out, never read here).
"""

import json
import math
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ left in scripts/
sys.path.insert(0, HERE)
import eval_extract as ev  # noqa: E402

N = 22
TOK = re.compile(r"\w+")
L2 = 1.0


def norm(s):
    """Whitespace collapsed, as eval_extraction.py's `norm`."""
    return " ".join((s or "").split())


def shingle_set(toks, n=4):
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def zyte_label(text, gold_toks, gold_sh):
    toks = TOK.findall(text)
    if not toks:
        return None, 0, {}
    if len(toks) < 4:
        share = sum(t in gold_toks for t in toks) / len(toks)
    else:
        sh = [tuple(toks[i:i + 4]) for i in range(len(toks) - 3)]
        share = sum(s in gold_sh for s in sh) / len(sh)
    return (1 if share < 0.5 else 0), len(toks), {"share": round(share, 3)}


def traf_label(text, entry):
    t = norm(text)
    w = sum(1 for s in entry.get("with", []) if norm(s) and norm(s) in t)
    wo = sum(1 for s in entry.get("without", []) if norm(s) and norm(s) in t)
    if w == wo:
        return None, 0, {}
    return (1 if wo > w else 0), len(TOK.findall(text)), {"with": w, "without": wo}


def decisions(bin_path, path):
    env = dict(os.environ, MW_LEARN_DUMP="1")
    env.pop("MW_LEARNED", None)
    out = subprocess.run([bin_path, "extract", "--format", "jsonl", path], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).stderr
    for line in out.decode("utf-8", "replace").splitlines():
        if line.startswith('{"f":'):
            yield json.loads(line)


def cmd_dump(bin_path, corpus, out_path):
    n = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for name, pages in (("zyte", ev.pages_zyte(corpus)), ("traf", ev.pages_traf(corpus))):
            for page_id, path, gold in pages:
                fold = ev.fold_of(page_id)
                if fold == ev.HOLDOUT_FOLD:
                    continue
                if name == "zyte":
                    gt = TOK.findall(gold)
                    gold_toks, gold_sh = set(gt), shingle_set(gt)
                for d in decisions(bin_path, path):
                    if name == "zyte":
                        label, ntok, why = zyte_label(d["text"], gold_toks, gold_sh)
                    else:
                        label, ntok, why = traf_label(d["text"], gold)
                    if label is None:
                        continue
                    rec = {"corpus": name, "id": page_id, "fold": fold, "f": d["f"], "rule": int(d["rule"]),
                           "y": label, "w": math.sqrt(ntok), **why}
                    out.write(json.dumps(rec) + "\n")
                    n += 1
    print(f"dump: {n} labelled decisions -> {out_path}")


def load(dump_path, folds=None):
    rows = []
    with open(dump_path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if folds is None or r["fold"] in folds:
                rows.append(r)
    return rows


def solve(a, b):
    """Gaussian elimination with partial pivoting: a x = b (a is small and, with L2, positive definite)."""
    m = len(b)
    a = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(m):
        p = max(range(c, m), key=lambda r: abs(a[r][c]))
        a[c], a[p] = a[p], a[c]
        for r in range(c + 1, m):
            k = a[r][c] / a[c][c]
            if k:
                for j in range(c, m + 1):
                    a[r][j] -= k * a[c][j]
    x = [0.0] * m
    for r in range(m - 1, -1, -1):
        x[r] = (a[r][m] - sum(a[r][j] * x[j] for j in range(r + 1, m))) / a[r][r]
    return x


def fit(rows, iters=12):
    """Weighted, L2-regularised logistic regression on standardised features (Newton's method)."""
    sw = sum(r["w"] for r in rows)
    mean = [sum(r["w"] * r["f"][k] for r in rows) / sw for k in range(N)]
    var = [sum(r["w"] * (r["f"][k] - mean[k]) ** 2 for r in rows) / sw for k in range(N)]
    scale = [math.sqrt(v) if v > 1e-12 else 1.0 for v in var]
    xs = [[1.0] + [(r["f"][k] - mean[k]) / scale[k] for k in range(N)] for r in rows]
    ys = [r["y"] for r in rows]
    ws = [r["w"] for r in rows]
    m = N + 1
    beta = [0.0] * m
    for _ in range(iters):
        g = [0.0] * m
        h = [[0.0] * m for _ in range(m)]
        for x, y, w in zip(xs, ys, ws):
            z = sum(b * v for b, v in zip(beta, x))
            p = 1.0 / (1.0 + math.exp(-max(min(z, 30.0), -30.0)))
            d = w * (p - y)
            c = w * p * (1.0 - p)
            for i in range(m):
                g[i] += d * x[i]
                ci = c * x[i]
                hi = h[i]
                for j in range(i + 1):
                    hi[j] += ci * x[j]
        for i in range(m):
            for j in range(i):
                h[j][i] = h[i][j]
            if i:
                g[i] += L2 * beta[i]
                h[i][i] += L2
        step = solve(h, [-v for v in g])
        beta = [b + s for b, s in zip(beta, step)]
        if max(abs(s) for s in step) < 1e-6:
            break
    return {"mean": mean, "scale": scale, "w": beta[1:], "b": beta[0], "threshold": 0.5}


def prob(model, f):
    z = model["b"] + sum(w * (v - mu) / s for w, v, mu, s in zip(model["w"], f, model["mean"], model["scale"]))
    return 1.0 / (1.0 + math.exp(-z))


def weights_text(model):
    nums = model["mean"] + model["scale"] + model["w"] + [model["b"], model["threshold"]]
    return " ".join(repr(float(v)) for v in nums) + "\n"


def accuracy(model, rows):
    """Weighted accuracy of the model and of the rule on rows."""
    sw = sum(r["w"] for r in rows) or 1.0
    learned = sum(r["w"] for r in rows if (prob(model, r["f"]) >= model["threshold"]) == bool(r["y"]))
    rule = sum(r["w"] for r in rows if r["rule"] == r["y"])
    return learned / sw, rule / sw


def cmd_train(dump_path, folds, out_path):
    folds = {int(f) for f in folds.split(",")}
    rows = load(dump_path, folds)
    model = fit(rows)
    with open(out_path, "w") as f:
        f.write(weights_text(model))
    acc, rule = accuracy(model, rows)
    print(f"train: folds {sorted(folds)} n={len(rows)} weighted accuracy learned={acc:.3f} rule={rule:.3f}")
    return model


def eval_tune(bin_path, corpus, tool, weights=None):
    """eval_extract.py --split tune's output lines (MW_LEARNED=weights when given)."""
    env = dict(os.environ)
    env.pop("MW_LEARN_DUMP", None)
    env.pop("MW_LEARNED", None)
    if weights:
        env["MW_LEARNED"] = weights
    out = subprocess.run([sys.executable, os.path.join(HERE, "eval_extract.py"), "--split", "tune", bin_path,
                          corpus, tool], env=env, stdout=subprocess.PIPE, check=True).stdout.decode()
    res, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"(\S+) split=tune .* F1 ([0-9.]+)", line)
        if m:
            cur = m.group(1)
            res[cur] = float(m.group(2))
        for fm in re.finditer(r"fold(\d)=([0-9.]+)", line):
            res[(cur, int(fm.group(1)))] = float(fm.group(2))
    return res


def cmd_cv(bin_path, corpus, tool, dump_path, threshold="0.5"):
    rows = load(dump_path)
    base = eval_tune(bin_path, corpus, tool)
    print("fold  corpus            rules   learned  (learned: fit on the other three tune folds)")
    totals = {}
    for k in (1, 2, 3, 4):
        train = [r for r in rows if r["fold"] != k]
        test = [r for r in rows if r["fold"] == k]
        model = fit(train)
        model["threshold"] = float(threshold)
        wpath = f"/tmp/learned_cv_{os.getpid()}_{k}.txt"
        with open(wpath, "w") as f:
            f.write(weights_text(model))
        acc, rule = accuracy(model, test)
        got = eval_tune(bin_path, corpus, tool, wpath)
        os.remove(wpath)
        for c in ("zyte-article-extraction", "trafilatura-eval"):
            r, l = base[(c, k)], got[(c, k)]
            totals.setdefault(c, []).append((r, l))
            print(f"{k}     {c:24s} {r:.3f}  {l:.3f}")
        for c in ("mozilla-readability-pages", "gne-chinese-news"):
            print(f"{k}     {c:24s} {base[c]:.3f}  {got[c]:.3f}  (whole tune part, model of this fold)")
        print(f"{k}     block accuracy (weighted) rule={rule:.3f} learned={acc:.3f} n={len(test)}")
    for c, pairs in totals.items():
        rm = sum(p[0] for p in pairs) / 4
        lm = sum(p[1] for p in pairs) / 4
        wins = sum(1 for r, l in pairs if l > r)
        print(f"mean  {c:24s} {rm:.4f} {lm:.4f}  learned better in {wins}/4 folds")


def weighted_accuracy(pred, rows):
    sw = sum(r["w"] for r in rows) or 1.0
    return sum(r["w"] for r, p in zip(rows, pred) if p == r["y"]) / sw


def tree(rows, depth, min_w=5.0, cuts=40):
    """A classification tree minimising the weighted error; up to `cuts` thresholds tried per feature."""
    sw = sum(r["w"] for r in rows)
    pos = sum(r["w"] for r in rows if r["y"])
    leaf = ("leaf", 1 if 2 * pos >= sw else 0)
    if depth == 0 or pos == 0 or pos == sw:
        return leaf
    best = None
    for k in range(N):
        vals = sorted({r["f"][k] for r in rows})
        if len(vals) > cuts:
            vals = [vals[i * len(vals) // cuts] for i in range(cuts)]
        for v in vals:
            lw = sum(r["w"] for r in rows if r["f"][k] < v)
            lp = sum(r["w"] for r in rows if r["f"][k] < v and r["y"])
            rw, rp = sw - lw, pos - lp
            if lw < min_w or rw < min_w:
                continue
            err = min(lp, lw - lp) + min(rp, rw - rp)
            if best is None or err < best[0]:
                best = (err, k, v)
    if best is None:
        return leaf
    _, k, v = best
    return ("split", k, v, tree([r for r in rows if r["f"][k] < v], depth - 1),
            tree([r for r in rows if r["f"][k] >= v], depth - 1))


def tree_predict(t, f):
    while t[0] == "split":
        t = t[3] if f[t[1]] < t[2] else t[4]
    return t[1]


def cmd_screen(dump_path):
    rows = load(dump_path)
    variants = []
    for t in (0.3, 0.5, 0.7, 0.9):
        def lr(train, t=t):
            m = fit(train)
            return lambda r: int(prob(m, r["f"]) >= t)
        variants.append((f"logistic p>={t}", lr))
    for t in (0.5, 0.7, 0.9):
        def per_rule(train, t=t):
            keep = fit([r for r in train if r["rule"] == 0])
            drop = fit([r for r in train if r["rule"] == 1])
            return lambda r: int(prob(keep, r["f"]) >= t) if r["rule"] == 0 else int(prob(drop, r["f"]) >= 1 - t)
        variants.append((f"per rule decision, overrule at {t}", per_rule))
    for d in (1, 2, 3, 4):
        def tr(train, d=d):
            t = tree(train, d)
            return lambda r: tree_predict(t, r["f"])
        variants.append((f"tree depth {d}", tr))
    print("variant: learned/rule weighted block accuracy on folds 1 2 3 4")
    for name, make in variants:
        cells = []
        for k in (1, 2, 3, 4):
            test = [r for r in rows if r["fold"] == k]
            predict = make([r for r in rows if r["fold"] != k])
            cells.append(f"{weighted_accuracy([predict(r) for r in test], test):.3f}/"
                         f"{weighted_accuracy([r['rule'] for r in test], test):.3f}")
        print(f"{name:36s} {' '.join(cells)}")


def cmd_fixture(dump_path, out_path):
    rows = load(dump_path)
    model = fit(rows)
    # A spread of cases: both labels, both rule decisions, both model decisions.
    picks, seen = [], set()
    for r in rows:
        p = prob(model, r["f"])
        key = (r["y"], r["rule"], p >= 0.5)
        if key not in seen:
            seen.add(key)
            picks.append({"x": r["f"], "p": p})
    for r in rows[:: max(len(rows) // 4, 1)][:4]:
        picks.append({"x": r["f"], "p": prob(model, r["f"])})
    with open(out_path, "w") as f:
        json.dump({"note": "written by scripts/learned_scorer.py fixture: weights fit on the tune folds 1-4",
                   "weights": weights_text(model).strip(), "cases": picks}, f, indent=1)
        f.write("\n")
    print(f"fixture: {len(picks)} cases -> {out_path}")


def main(argv):
    cmds = {"dump": (cmd_dump, 3), "train": (cmd_train, 3), "cv": (cmd_cv, 4), "fixture": (cmd_fixture, 2),
            "screen": (cmd_screen, 1)}
    extra = 1 if argv and argv[0] == "cv" and len(argv) == 6 else 0
    if not argv or argv[0] not in cmds or len(argv) - 1 - extra != cmds[argv[0]][1]:
        sys.stderr.write(__doc__)
        return 2
    cmds[argv[0]][0](*argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
