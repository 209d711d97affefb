#!/usr/bin/env python3
"""make lint: the layout ARCHITECTURE.md promises.

1. No import circle among the library's modules: a module's `crate::`/`super::` paths (test modules
   left out) name the modules it uses; a parent using its own children does not count.
2. ARCHITECTURE.md's module map names every file under src/ (a cell may group files as
   `dir/{a,b}.rs` or list several `dir/x.rs`), and names no file that does not exist.

Usage: scripts/check_layout.py [REPO_DIR]. Exits 1 naming each problem.
"""
import os
import re
import sys

repo = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
src = os.path.join(repo, "src")
problems = []

files = {}
for dirpath, _, names in os.walk(src):
    for name in names:
        if name.endswith(".rs"):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, src)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            files[rel.replace(os.sep, "/")] = ("::".join(parts), path)
modules = {m for m, _ in files.values()}


def without_tests(text):
    cut = re.search(r"#\[cfg\(test\)\]\s*mod tests", text)
    return text[: cut.start()] if cut else text


def resolve(base, segments):
    for k in range(len(segments), 0, -1):
        cand = "::".join(([base] if base else []) + segments[:k])
        if cand in modules:
            return cand
    return base or None


edges = {}
for module, path in files.values():
    text = re.sub(r"//[^\n]*", "", without_tests(open(path, encoding="utf-8").read()))
    deps = set()
    for p in re.findall(r"crate::((?:[a-z_0-9]+::)*[a-z_0-9]+)", text):
        deps.add(resolve("", p.split("::")))
    for group in re.findall(r"crate::\{([^}]*)\}", text):
        deps.update(n for n in re.findall(r"[a-z_0-9]+", group) if n in modules)
    parent = module.rsplit("::", 1)[0] if "::" in module else ""
    for p in re.findall(r"super::((?:[a-z_0-9]+::)*[a-z_0-9]+)", text):
        deps.add(resolve(parent, p.split("::")))
    if "super::{" in text or re.search(r"super::\*", text):
        deps.add(parent or None)
    edges[module] = {d for d in deps if d and d != module and not d.startswith(module + "::")}

# Tarjan's strongly connected components.
index, low, stack, on, counter = {}, {}, [], set(), [0]
sys.setrecursionlimit(10_000)


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges.get(v, ()):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            detail = "; ".join(f"{a} uses {', '.join(sorted(edges[a] & set(comp)))}" for a in sorted(comp))
            problems.append(f"import circle: {' <-> '.join(sorted(comp))} ({detail})")


for v in sorted(edges):
    if v and v not in index:
        visit(v)

arch = open(os.path.join(repo, "ARCHITECTURE.md"), encoding="utf-8").read()
named = set()
for cell in re.findall(r"^\| ([^|]*\.rs[^|]*) \|", arch, re.M):
    for code in re.findall(r"`([^`]+)`", cell):
        m = re.fullmatch(r"(.*/)?\{([^}]*)\}\.rs", code)
        if m:
            named.update((m.group(1) or "") + n.strip() + ".rs" for n in m.group(2).split(","))
        elif code.endswith(".rs"):
            named.add(code)
for f in sorted(set(files) - named):
    problems.append(f"ARCHITECTURE.md's module map does not name src/{f}")
for f in sorted(named - set(files)):
    problems.append(f"ARCHITECTURE.md's module map names src/{f}, which does not exist")

for p in problems:
    print(f"check_layout: {p}")
print(f"check_layout: {len(files)} files, {len(modules)} modules, {len(problems)} problems")
sys.exit(1 if problems else 0)
