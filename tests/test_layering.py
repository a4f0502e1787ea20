"""The house rules of the package, checked on its source with ``ast`` (architecture.md, issue 14).

* Each group imports only itself and the groups below it, in the order of the data flow::

      ground (errors, window, schema, _util/, masking/) < fetch/ < parse/ < samples/ < analyses/
      < findings/ < evidence, investigation < render/ < run/ < cli, accessor, incidentkit

* No import cycle between modules, counting the imports inside functions.
* Imports of the package's own modules inside functions only for an optional heavy dependency,
  each listed in :data:`LAZY` with the reason.

Run alone: ``python -m pytest -p no:xdist tests/test_layering.py``. The same rules, measured
with the other house numbers: ``../shared/tools/house-check .``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from _helpers import ROOT

PACKAGE = ROOT / "incidentkit"

#: Group of a module (by the longest matching prefix) -> its rank in the data flow.
GROUPS = {
    "incidentkit._moved": 0,
    "incidentkit._version": 0,
    "incidentkit.errors": 0,
    "incidentkit.window": 0,
    "incidentkit.schema": 0,
    "incidentkit._util": 0,
    "incidentkit.masking": 0,
    "incidentkit.fetch": 1,
    "incidentkit.parse": 2,
    "incidentkit.samples": 3,
    "incidentkit.analyses": 4,
    "incidentkit.findings": 5,
    "incidentkit.evidence_checks": 6,
    "incidentkit.evidence": 6,
    "incidentkit.audit_run": 6,
    "incidentkit.investigation": 6,
    "incidentkit.render": 7,
    "incidentkit.run": 8,
    "incidentkit.cli": 9,
    "incidentkit.accessor": 9,
    "incidentkit": 9,
}

#: Upward imports still allowed, each with why; the test fails when one is no longer used.
UPWARD: dict[tuple[str, str], str] = {
    (f"incidentkit.analyses.{m}", "incidentkit.findings.model"): "the detectors still live beside their analyses; "
    "they move to findings/detectors/<id>.py (issue 14, the detector split)"
    for m in ("deploys", "errors", "healthchecks", "latency", "saturation", "throttling")
} | {
    ("incidentkit.fetch.health", "incidentkit.findings.audit"): "health's security-group summary is the Route 53 "
    "reachability check of the audit (pure, on the settings frame); it goes when health's summaries become an analysis",
}

#: Imports of package modules inside functions: (importer, imported) -> the optional heavy dependency.
LAZY: dict[tuple[str, str], str] = {
    ("incidentkit.accessor", "incidentkit.render.plots"): "matplotlib, only when a df.ik method plots",
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package modules an import statement loads (``from . import x``: the submodule x, not the package)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    if node.level:
        base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if not target.startswith("incidentkit"):
        return []
    subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in MODULES]
    names_from_target = len(subs) < len(node.names)
    return subs + ([target] if names_from_target and target in MODULES else [])


def _imports() -> list[tuple[str, str, bool, int]]:
    """(importer, imported, inside a function, line) for every import of a package module."""
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [(n.lineno, n.end_lineno) for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                inside = any(a <= node.lineno <= b for a, b in functions)
                for target in _targets(module, path, node):
                    if target != module:
                        found.append((module, target, inside, node.lineno))
    return found


IMPORTS = _imports()


def _rank(module: str) -> int:
    group = max((g for g in GROUPS if module == g or module.startswith(g + ".")), key=len)
    return GROUPS[group]


def test_every_module_has_a_group() -> None:
    assert all(_rank(m) is not None for m in MODULES)
    assert {m for m in MODULES if _rank(m) == 9} <= {"incidentkit", "incidentkit.cli", "incidentkit.accessor"}


def test_each_group_imports_only_the_groups_below_it() -> None:
    upward = {(a, b) for a, b, _inside, _line in IMPORTS if _rank(b) > _rank(a) and not b.startswith(a + ".")}
    unexplained = sorted(upward - set(UPWARD))
    assert not unexplained, "imports against the data flow (importer -> imported): " + ", ".join(f"{a} -> {b}" for a, b in unexplained)
    stale = sorted(set(UPWARD) - upward)
    assert not stale, f"these allowed upward imports are gone: remove them from UPWARD: {stale}"


def _cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for a, b in edges:
        graph[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_even_inside_functions() -> None:
    # a package's __init__ may import its own submodules; a submodule importing names from its
    # package's __init__ while that imports it back is a cycle like any other
    cycles = _cycles({(a, b) for a, b, _inside, _line in IMPORTS})
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_imports_inside_functions_are_only_for_optional_heavy_dependencies() -> None:
    inside = {(a, b) for a, b, is_inside, _line in IMPORTS if is_inside}
    where = sorted(f"{a}:{line} -> {b}" for a, b, is_inside, line in IMPORTS if is_inside and (a, b) not in LAZY)
    assert not where, "imports of package modules inside functions (import them at the top, or say why in LAZY): " + ", ".join(where)
    stale = sorted(set(LAZY) - inside)
    assert not stale, f"remove from LAZY, no longer imported inside a function: {stale}"
    assert len([1 for _a, _b, is_inside, _line in IMPORTS if is_inside]) <= 10


@pytest.mark.parametrize("group", ["fetch", "parse", "analyses", "findings", "render", "run"])
def test_each_stage_folder_exists(group: str) -> None:
    assert (PACKAGE / group / "__init__.py").is_file()
