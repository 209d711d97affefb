#!/usr/bin/env python3
"""Tests of scripts/eval_extract.py and of MW_EVAL_SPLIT in scripts/eval.sh (run by `make test`).

They build a small corpus of the four formats in a temp directory and score it with a stand-in
extractor that prints each page's (decompressed) bytes as its text, so every expected figure is known.
They need ../shared/tools/eval_extraction.py (whose metric the script imports); SHARED sets another
place for ../shared.
"""
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval_extract as ev  # noqa: E402

SHARED = os.environ.get("SHARED", os.path.join(HERE, "..", "..", "shared"))
TOOL = os.path.join(SHARED, "tools", "eval_extraction.py")

FAKE_BIN = """#!/usr/bin/env python3
import gzip, json, sys
for path in sys.argv[4:]:
    print(json.dumps({"path": path, "text": gzip.open(path).read().decode("utf-8")}))
"""

GOLD = "The quick brown fox jumps over the lazy dog near the river bank today"
WRONG = "Subscribe to our newsletter and follow us on every social network there is now"


def write_gz(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with gzip.open(path, "wb") as f:
        f.write(text.encode("utf-8"))


def ids_by_fold(prefix, per_fold):
    """Ids `<prefix><n>` picked so that every fold holds `per_fold` of them."""
    folds, n = {f: [] for f in range(ev.K)}, 0
    while any(len(v) < per_fold for v in folds.values()):
        page_id = f"{prefix}{n}"
        if len(folds[ev.fold_of(page_id)]) < per_fold:
            folds[ev.fold_of(page_id)].append(page_id)
        n += 1
    return folds


class Units(unittest.TestCase):
    def test_fold_is_sha256_mod_5_and_stable(self):
        # Pinned: a change of the split would move pages between the tune part and the hold-out.
        self.assertEqual([ev.fold_of(i) for i in ("a", "b", "c", "d", "e", "f")], [4, 0, 3, 0, 0, 2])
        self.assertEqual(ev.fold_of("人民网__1"), ev.fold_of("人民网__1"))

    def test_split_parts_partition_the_pages_and_holdout_is_fold_0(self):
        ids = [f"page{n}" for n in range(200)]
        tune = {i for i in ids if ev.in_split(i, "tune")}
        holdout = {i for i in ids if ev.in_split(i, "holdout")}
        self.assertEqual(tune | holdout, set(ids))
        self.assertFalse(tune & holdout)
        self.assertTrue(all(ev.fold_of(i) == 0 for i in holdout))
        self.assertTrue(20 <= len(holdout) <= 60, len(holdout))
        self.assertTrue(all(ev.in_split(i, "all") for i in ids))

    def test_html_text_breaks_words_at_blocks_only(self):
        text = ev.html_text('<div><p>foo<b>bar</b> &amp; baz</p><p>next<br>line</p>'
                            '<script>var x = 1;</script><li>item</li></div>')
        self.assertEqual(text, "foobar & baz\nnext\nline\nitem")

    def test_cjk_joined_drops_only_spaces_next_to_han_or_kana(self):
        self.assertEqual(ev.cjk_joined("关于 5G 手机 … 三大"), "关于5G手机…三大")
        self.assertEqual(ev.cjk_joined("a b  c"), "a b  c")
        self.assertEqual(ev.cjk_joined("한국 어"), "한국 어")


@unittest.skipUnless(os.path.isfile(TOOL), f"{TOOL} not found (set SHARED)")
class OnACorpus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = cls.tmp.name
        cls.corpus = os.path.join(root, "corpus")
        cls.bin = os.path.join(root, "fake-mediawatch")
        with open(cls.bin, "w") as f:
            f.write(FAKE_BIN)
        os.chmod(cls.bin, 0o755)
        # Zyte: fold 0 and 1 pages extracted right, folds 2-4 half right (boilerplate appended).
        cls.zyte = ids_by_fold("zyte", 3)
        gt = {}
        for fold, ids in cls.zyte.items():
            for page_id in ids:
                gt[page_id] = {"articleBody": GOLD, "url": "http://example.org/" + page_id}
                page = GOLD if fold in (0, 1) else GOLD + " " + WRONG
                write_gz(os.path.join(cls.corpus, "zyte-article-extraction", "html", page_id + ".html.gz"), page)
        with open(os.path.join(cls.corpus, "zyte-article-extraction", "ground-truth.json"), "w") as f:
            json.dump(gt, f)
        # trafilatura-eval: ids are upstream file names; fold 0 pages leak a `without` snippet.
        cls.traf = ids_by_fold("t", 2)
        evaldata = {}
        for fold, ids in cls.traf.items():
            for name in ids:
                path = "html/" + name + ".html.gz"
                evaldata["http://example.org/" + name] = {
                    "file": name, "path": path, "with": ["quick brown fox"], "without": ["Subscribe"]}
                write_gz(os.path.join(cls.corpus, "trafilatura-eval", path), GOLD + (" " + WRONG if fold == 0 else ""))
        with open(os.path.join(cls.corpus, "trafilatura-eval", "evaldata.json"), "w") as f:
            json.dump(evaldata, f)
        # Mozilla: gold is expected.html; the stand-in prints the source's bytes, the same text untagged.
        cls.moz = ids_by_fold("m", 1)
        for ids in cls.moz.values():
            d = os.path.join(cls.corpus, "mozilla-readability-pages", "pages", ids[0])
            write_gz(os.path.join(d, "source.html.gz"), "foobar baz\nqux")
            write_gz(os.path.join(d, "expected.html.gz"), '<div id="readability-page-1"><p>foo<i>bar</i></p><p>baz</p>qux</div>')
        # GNE: only pages with a reference count; the page adds a space the reference does not have.
        cls.gne = ids_by_fold("site__", 1)
        pages = {}
        for fold, ids in cls.gne.items():
            path = "html/" + ids[0] + ".html.gz"
            pages[ids[0]] = {"site": "site", "path": path, "language": "zh"}
            write_gz(os.path.join(cls.corpus, "gne-chinese-news", path), "三大运营商关于 5G 手机的促销手段原本有三大类。今天很好。")
            if fold != 4:
                pages[ids[0]]["gne_reference_2019"] = {"content": "三大运营商关于5G手机的促销手段原本有三大类。今天很好。"}
        with open(os.path.join(cls.corpus, "gne-chinese-news", "pages.json"), "w") as f:
            json.dump(pages, f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_script(self, split):
        out = subprocess.run(
            [sys.executable, os.path.join(HERE, "eval_extract.py"), "--split", split, self.bin, self.corpus, TOOL],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def line(self, out, name):
        found = [line for line in out.splitlines() if line.startswith(name + " ")]
        self.assertEqual(len(found), 1, out)
        return found[0]

    def test_all_gives_the_shared_tools_f1_and_each_folds(self):
        out = self.run_script("all")
        self.assertIn("Rules are not fitted per fold", out)
        for corpus in ("zyte-article-extraction", "trafilatura-eval"):
            tool = subprocess.run([sys.executable, TOOL, os.path.join(self.corpus, corpus), "--", self.bin,
                                   "extract", "--format", "jsonl"],
                                  stdout=subprocess.PIPE, text=True, check=True).stdout
            tool_f1 = re.search(r"^F1 ([0-9.]+)$", tool, re.M).group(1)
            self.assertIn(f" F1 {tool_f1} ", self.line(out, corpus))
        # Zyte: folds 0 and 1 exact; in folds 2-4 the 11 gold shingles come with 14 wrong ones:
        # P = 11/25, R = 1, F1 = 0.611.
        folds = dict(re.findall(r"fold(\d)=([0-9.]+)\(n=3\)", out.split("trafilatura-eval")[0]))
        self.assertEqual(sorted(folds), ["0", "1", "2", "3", "4"])
        self.assertEqual(folds["0"], "1.000")
        self.assertEqual(folds["1"], "1.000")
        self.assertEqual([folds[f] for f in "234"], ["0.611"] * 3)
        spread = re.search(r"folds mean=([0-9.]+) min=([0-9.]+) max=([0-9.]+) std=([0-9.]+)", out)
        self.assertEqual(spread.group(2), folds["2"])
        self.assertEqual(spread.group(3), "1.000")
        self.assertGreater(float(spread.group(4)), 0.0)
        # trafilatura-eval: fold 0 leaks its `without` snippet (P = 1/2), the other folds are exact.
        traf = out.split("trafilatura-eval split")[1].split("==")[0]
        self.assertIn("fold0=0.667(n=2)", traf)
        self.assertIn("fold1=1.000(n=2)", traf)
        # Mozilla: tags stripped at blocks only, so foo<i>bar</i> is the word foobar: exact.
        self.assertRegex(self.line(out, "mozilla-readability-pages"), r"pages=5 extracted=5 F1 1\.000 ")
        # GNE: 4 pages with a reference; the space costs shingles, the Han-joined figure forgives it.
        gne = self.line(out, "gne-chinese-news")
        self.assertRegex(gne, r"pages=4 extracted=4 F1 0\.[0-9]+ \(F1 with spaces next to Han/kana dropped: 1\.000\)")
        self.assertRegex(out, r"corpora n=4 mean=[0-9.]+ min=[0-9.]+ max=1\.000 std=[0-9.]+")

    def test_tune_and_holdout_score_only_their_part(self):
        tune, holdout = self.run_script("tune"), self.run_script("holdout")
        self.assertIn("pages=12 ", self.line(tune, "zyte-article-extraction"))
        self.assertNotIn("fold0=", tune)
        self.assertIn("pages=3 ", self.line(holdout, "zyte-article-extraction"))
        self.assertIn("fold0=1.000(n=3)", holdout)
        self.assertNotRegex(holdout, r"fold[1-4]=")
        self.assertNotIn("folds mean=", holdout)
        self.assertIn("folds mean=", tune)
        self.assertIn("pages=8 ", self.line(tune, "trafilatura-eval"))
        self.assertIn("pages=2 ", self.line(holdout, "trafilatura-eval"))
        self.assertIn("pages=4 ", self.line(tune, "mozilla-readability-pages"))
        self.assertIn("pages=1 ", self.line(holdout, "mozilla-readability-pages"))

    def test_eval_sh_split(self):
        eval_sh = os.path.join(HERE, "eval.sh")
        env = dict(os.environ, MW_EVAL_SPLIT="holdout")
        out = subprocess.run(["bash", eval_sh, self.bin, self.corpus, TOOL], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("gates apply to MW_EVAL_SPLIT=all", out.stdout)
        self.assertIn("fold0=1.000(n=3)", out.stdout)
        self.assertNotIn("never panics", out.stdout)
        env["MW_EVAL_SPLIT"] = "train"
        bad = subprocess.run(["bash", eval_sh, self.bin, self.corpus, TOOL], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("expected tune, holdout or all", bad.stderr)


if __name__ == "__main__":
    unittest.main()
