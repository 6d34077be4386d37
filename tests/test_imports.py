"""The import graph of the project's packages: no circle, and no arrow running back up the pipeline.

Every ``import`` counts, at module level or inside a function, typing-only ones too: a circle is a circle
whenever it is walked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("verification", "draw", "meterdata", "vision", "serving", "review_ui", "training", "meterverify")
# What each package may not import: the lower layers know nothing of the higher ones.
FORBIDDEN = {
    "verification": {"vision", "serving", "review_ui", "training", "meterverify", "draw", "meterdata"},
    "draw": {"vision", "serving", "review_ui", "training", "meterverify", "meterdata"},
    "vision": {"serving", "review_ui", "training", "meterverify", "draw", "meterdata"},
    "serving": {"review_ui", "meterverify", "training"},
    "review_ui": {"meterverify", "training"},
}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    modules = {_module(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != name}
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_import_graph_has_no_circle() -> None:
    graph = {m: {t for t in edges if not _is_package_init(t, m)} for m, edges in _graph().items()}
    assert _cycles(graph) == []


def _is_package_init(target: str, importer: str) -> bool:
    """``from . import x`` names the package itself as well as ``x``: that is no arrow back to it."""
    return importer.startswith(target + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_arrow_runs_back_up(package: str) -> None:
    wrong = sorted(
        f"{m} -> {t}"
        for m, edges in _graph().items()
        if m == package or m.startswith(package + ".")
        for t in edges
        if t.split(".")[0] in FORBIDDEN[package]
    )
    assert wrong == []
