"""No import circles between files: the strongly connected components of grimp's module graph (the graph library
import-linter itself uses) over govsocial_app, connectors and jobs, lazy imports inside functions included.
import-linter's `no-cycles` contract holds packages and siblings; this holds single modules."""

from __future__ import annotations

import grimp

ROOTS = ("govsocial_app", "connectors", "jobs")


def circles() -> list[list[str]]:
    graph = grimp.build_graph(*ROOTS)
    mods = sorted(m for m in graph.modules if m.split(".")[0] in ROOTS)
    known = set(mods)
    edges = {m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i in known) for m in mods}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in mods:  # Tarjan's algorithm, iterative (no recursion limit on a deep graph)
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack.add(v)
            recurse = False
            for j in range(i, len(edges[v])):
                w = edges[v][j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def test_no_import_circles_between_files():
    found = circles()
    assert found == [], "import circles:\n" + "\n".join(" <-> ".join(c) for c in found)


if __name__ == "__main__":  # python -m tests.unit.test_no_import_cycles: the same check, printed
    found = circles()
    for c in found:
        print("circle:", " <-> ".join(c))
    print(f"{len(found)} circles")
