"""The code's shape (issue 21): layered packages, no import cycle, no codemod importing another."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules() -> dict[str, Path]:
    out = {}
    for p in [*ROOT.glob("rewriter/**/*.py"), *ROOT.glob("transforms/**/*.py")]:
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        out[name] = p
    return out


def _graph() -> dict[str, set[str]]:
    """Module-level imports between the project's modules (imports inside functions are lazy on purpose)."""
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps: set[str] = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    deps.add(full if full in mods else node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d in mods and d != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    state: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(u: str) -> None:
        state[u] = 1
        stack.append(u)
        for v in sorted(graph[u]):
            if state.get(v) == 1:
                found.append([*stack[stack.index(v):], v])
            elif v not in state:
                visit(v)
        stack.pop()
        state[u] = 2

    for u in sorted(graph):
        if u not in state:
            visit(u)
    return found


def test_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]


def test_rewriter_is_layered_not_flat() -> None:
    flat = sorted(p.name for p in (ROOT / "rewriter").glob("*.py") if p.name != "__init__.py")
    assert flat == []
    assert {p.name for p in (ROOT / "rewriter").iterdir() if (p / "__init__.py").exists()} >= {
        "core", "facts", "engine", "sidefiles", "faces", "proof"}


def test_the_core_and_the_facts_import_no_codemod() -> None:
    graph = _graph()
    for name, deps in graph.items():
        if name.startswith(("rewriter.core", "rewriter.facts")):
            assert not [d for d in deps if d.startswith("transforms")], name


def test_codemods_do_not_import_each_other() -> None:
    codemods = {"transforms.secrets", "transforms.multistage", "transforms.logs", "transforms.signals",
                "transforms.minimal", "transforms.nonroot"}
    for name, deps in _graph().items():
        own = next((c for c in codemods if name == c or name.startswith(c + ".")), None)
        if own is None:
            continue
        others = [d for d in deps if any(d == c or d.startswith(c + ".") for c in codemods - {own})]
        assert others == [], name
