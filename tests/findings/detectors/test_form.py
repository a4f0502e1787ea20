"""Every detector has the house form: ``measure`` -> ``judge`` -> ``explain``, named constants, short functions.

Runs over the registry, so a new detector is held to it without editing this file. On every bundled
sample the three steps, run by hand, give exactly what ``detect`` gives, and the verdict's reasons
say how its confidence came about.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from incidentkit import samples
from incidentkit.findings import DETECTORS, Finding
from incidentkit.findings.detectors._common import Verdict
from incidentkit.investigation import Investigation

FIDS = sorted(DETECTORS)
#: Module-level names that are not tuning constants.
NOT_CONSTANTS = {"ID", "NEEDS", "Measures"}


def _module(fid: str):
    return importlib.import_module(DETECTORS[fid])


def _tree(fid: str) -> tuple[ast.Module, list[str]]:
    text = Path(_module(fid).__file__).read_text(encoding="utf-8")
    return ast.parse(text), text.splitlines()


@pytest.mark.parametrize("fid", FIDS)
def test_detect_is_measure_then_judge_then_explain(fid: str) -> None:
    mod = _module(fid)
    assert all(callable(getattr(mod, step, None)) for step in ("measure", "judge", "explain", "detect")), fid
    tree, _ = _tree(fid)
    detect = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "detect")
    called = {n.func.id for n in ast.walk(detect) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert {"measure", "judge", "explain"} <= called, f"{fid}: detect() must be measure -> judge -> explain"


@pytest.mark.parametrize("fid", FIDS)
def test_every_constant_is_named_at_the_top_with_what_it_means(fid: str) -> None:
    tree, lines = _tree(fid)
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        names = [n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        if not names or not all(re.fullmatch(r"[A-Z][A-Z0-9_]*", n) for n in names) or set(names) & NOT_CONSTANTS:
            continue
        above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
        assert above.startswith("#:") or above.startswith("#  "), f"{fid}: {', '.join(names)} (line {node.lineno}) needs a #: comment"


@pytest.mark.parametrize("fid", FIDS)
def test_no_detector_function_is_long(fid: str) -> None:
    tree, _ = _tree(fid)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            body = node.body[1:] if ast.get_docstring(node) else node.body
            length = body[-1].end_lineno - body[0].lineno + 1 if body else 0
            assert length <= 80, f"{fid}: {node.name} is {length} lines"


@pytest.mark.slow
@pytest.mark.parametrize("sample", samples.names())
def test_the_steps_by_hand_give_what_detect_gives(sample: str) -> None:
    inv = Investigation.sample(sample)
    try:
        inputs = inv.inputs()
        for fid in FIDS:
            mod = _module(fid)
            measures = mod.measure(inputs)
            found = mod.detect(inputs)
            if measures is None:
                assert found is None, (sample, fid)
                continue
            verdict = mod.judge(measures)
            assert isinstance(verdict, Verdict) and verdict.reasons, (sample, fid)
            by_hand = mod.explain(measures, verdict, inputs)
            assert isinstance(by_hand, Finding) and by_hand == found, (sample, fid)
            assert (found.severity, found.confidence) == (verdict.severity, verdict.confidence)
    finally:
        inv.close()
