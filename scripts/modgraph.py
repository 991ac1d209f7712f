#!/usr/bin/env python3
"""Prints the module import graph (per file, or per top-level module with --top)'s strongly connected components (import loops) and the
longest source files. Usage: scripts/modgraph.py [--top] [--max-loop N] [--max-lines N]; exits 1 when
a loop or a file is over the limit."""
import os, re, sys
from collections import defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

def module_of(path):
    rel = os.path.relpath(path, ROOT)[:-3]
    parts = rel.split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return "::".join(parts)

files = {}
for d, _, fs in os.walk(ROOT):
    for f in fs:
        if f.endswith(".rs"):
            p = os.path.join(d, f)
            files[module_of(p)] = p
mods = set(files)

def resolve(path):
    """The longest known module that is a prefix of `path` (a::b::c)."""
    parts = path.split("::")
    for n in range(len(parts), 0, -1):
        m = "::".join(parts[:n])
        if m in mods:
            return m
    return None

# --top: one node per top-level module (a folder and its files together); otherwise one node per
# file, with a folder's own files not counted against it.
TOP = "--top" in sys.argv
if TOP:
    mods_nodes = {m.split("::")[0] for m in mods}
ref = re.compile(r"crate::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)")
group = re.compile(r"crate::((?:[a-z_][a-z0-9_]*::)*)\{([^}]*)\}", re.S)
edges = defaultdict(set)
for m, p in files.items():
    src = open(p, encoding="utf-8").read()
    src = re.sub(r"//[^\n]*", "", src)
    # Test modules do not count: they may use anything.
    targets = set(ref.findall(src))
    for prefix, inner in group.findall(src):
        for item in inner.split(","):
            item = item.strip().split(" as ")[0].split("::{")[0].strip()
            if item and item != "self":
                targets.add(prefix + item)
            elif item == "self":
                targets.add(prefix.rstrip(":"))
    for t in targets:
        r = resolve(t)
        if r is None:
            continue
        if TOP:
            # Top-level modules: a folder and its files are one node.
            a, b = m.split("::")[0], r.split("::")[0]
            if a != b:
                edges[a].add(b)
        elif r != m and not m.startswith(r + "::") and not r.startswith(m + "::"):
            edges[m].add(r)

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        sccs.append(comp)
for v in sorted(mods_nodes if TOP else mods):
    if v not in index:
        visit(v)

max_loop = int(sys.argv[sys.argv.index("--max-loop") + 1]) if "--max-loop" in sys.argv else None
max_lines = int(sys.argv[sys.argv.index("--max-lines") + 1]) if "--max-lines" in sys.argv else None
loops = sorted((c for c in sccs if len(c) > 1), key=len, reverse=True)
print(f"{len(files)} source files, {sum(len(e) for e in edges.values())} module edges ({'top-level modules' if TOP else 'files'})")
for c in loops:
    print(f"import loop of {len(c)} files: {' '.join(sorted(c))}")
if not loops:
    print("no import loops")
lines = sorted(((sum(1 for _ in open(p, encoding='utf-8')), os.path.relpath(p, ROOT)) for p in files.values()), reverse=True)
print("longest files:", ", ".join(f"{f} {n}" for n, f in lines[:5]))
bad = False
if max_loop is not None and loops and len(loops[0]) > max_loop:
    bad = True
if max_lines is not None and lines[0][0] > max_lines:
    bad = True
sys.exit(1 if bad else 0)
