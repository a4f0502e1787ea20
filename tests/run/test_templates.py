"""The template registry: every shipped notebook, its parameters, and parameter coercion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incidentkit.run import templates
from incidentkit.errors import ParameterError, UnknownTemplateError
from incidentkit.run.templates import Parameter, parse_parameters

EXPECTED = ["triage", "latency", "errors", "dynamodb", "health-checks", "deploy", "postmortem"]


def test_every_template_is_found_triage_first() -> None:
    names = templates.names()
    assert names[: len(EXPECTED)] == EXPECTED


def test_the_registry_lists_every_notebook_once_with_its_own_heading() -> None:
    """notebooks/templates.json is the registry: each .ipynb of the folder has one entry, each entry a notebook,
    and the title it shows is the notebook's own heading (the two cannot drift apart)."""
    folder = templates.get("triage").path.parent
    entries = json.loads((folder / templates.REGISTRY_FILE).read_text(encoding="utf-8"))["templates"]
    assert sorted(e["notebook"] for e in entries) == sorted(p.name for p in folder.glob("*.ipynb"))
    assert [e["name"] for e in entries] == templates.names() and len(set(templates.names())) == len(entries)
    for e in entries:
        by_path = templates.get(str(folder / e["notebook"]))  # read from the notebook itself
        assert e["title"] == by_path.title, e["name"]
        assert e["summary"] and templates.get(e["name"]).summary == e["summary"]


def test_registry_is_lazy() -> None:
    import importlib
    import sys

    sys.modules.pop("incidentkit.run.templates", None)
    mod = importlib.import_module("incidentkit.run.templates")
    assert mod._registry.cache_info().currsize == 0  # nothing read at import time


@pytest.mark.parametrize("name", EXPECTED)
def test_each_template_is_a_thin_story_with_a_sample_default(name: str) -> None:
    tpl = templates.get(name)
    assert tpl.title and tpl.summary, name
    names = tpl.parameter_names
    for p in ("sample", "start", "end", "baseline_start", "baseline_end", "region", "profile", "endpoint_url",
              "evidence", "offline"):
        assert p in names, (name, p)
    assert tpl.parameter("start").type == "time" and tpl.parameter("log_groups").type == "list"
    from incidentkit import samples

    assert tpl.parameter("sample").default in samples.names()
    nb = tpl.read()
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    md = [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert len(md) >= 3, "the story is told in Markdown headings"
    longest = max(len("".join(c["source"]).splitlines()) for c in code if "parameters" not in c["metadata"].get("tags", []))
    assert longest <= 16, f"{name}: a code cell of {longest} lines; logic belongs in the package"
    # no outputs shipped; the kernel is a plain python3 one
    assert all(not c.get("outputs") for c in code)
    assert nb["metadata"]["kernelspec"]["language"] == "python"
    sources = "".join("".join(c["source"]) for c in code)
    assert "report.publish(" in sources  # findings.json and postmortem.md come from the notebook itself
    assert "Investigation.from_parameters(" in sources


def test_findings_come_first() -> None:
    for name in EXPECTED:
        if name == "postmortem":
            continue
        cells = templates.get(name).read()["cells"]
        headings = ["".join(c["source"]).splitlines()[0] for c in cells if c["cell_type"] == "markdown"]
        assert headings[1].startswith("## Findings"), (name, headings[:3])


def test_dynamodb_requires_its_table() -> None:
    assert templates.get("dynamodb").parameter("table_name").required
    assert not templates.get("triage").parameter("table_name").required


def test_unknown_template_suggests_the_closest() -> None:
    with pytest.raises(UnknownTemplateError, match="did you mean 'triage'"):
        templates.get("triag")
    with pytest.raises(UnknownTemplateError, match="no notebook at"):
        templates.get("missing/nope.ipynb")


def test_unknown_parameter_suggests_the_closest() -> None:
    tpl = templates.get("triage")
    with pytest.raises(ParameterError, match="did you mean 'log_groups'"):
        tpl.coerce({"log_group": "/aws/lambda/x"})
    with pytest.raises(ParameterError, match="no parameter 'zzz'") as info:
        tpl.coerce({"zzz": "1"})
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize(
    "ptype, given, expected",
    [
        ("time", "2026-03-01T05:00:00+02:00", "2026-03-01T03:00:00Z"),
        ("time", "2026-03-01T03:00:00", "2026-03-01T03:00:00Z"),
        ("time", "1772334000", "2026-03-01T03:00:00Z"),
        ("time", "1772334000000", "2026-03-01T03:00:00Z"),
        ("list", "/aws/lambda/a, /ecs/b ,", ["/aws/lambda/a", "/ecs/b"]),
        ("list", '["/a,with,commas", "/b"]', ["/a,with,commas", "/b"]),
        ("list", "", []),
        ("list", ["x", " y "], ["x", "y"]),
        ("int", "1_000", 1000),
        ("int", 7.0, 7),
        ("float", "2.5e3", 2500.0),
        ("bool", "YES", True),
        ("bool", "off", False),
        ("str", "none", None),
        ("str", "", None),
        ("str", 42, "42"),
    ],
)
def test_coercion(ptype: str, given, expected) -> None:
    assert Parameter("p", ptype).coerce(given) == expected


def test_relative_times_resolve_to_absolute_utc() -> None:
    import pandas as pd

    value = Parameter("start", "time").coerce("-2h")
    ts = pd.Timestamp(value)
    assert value.endswith("Z") and abs((pd.Timestamp.now(tz="UTC") - ts) - pd.Timedelta(hours=2)) < pd.Timedelta(minutes=1)


@pytest.mark.parametrize(
    "ptype, given",
    [("int", "1.5"), ("int", True), ("float", "inf"), ("bool", "maybe"), ("list", '{"a": 1}'), ("list", "[1, null]"),
     ("list", "[broken"), ("time", "soon"), ("str", ["a"])],
)
def test_bad_values_name_the_parameter(ptype: str, given) -> None:
    with pytest.raises(ParameterError, match="parameter p"):
        Parameter("p", ptype).coerce(given)


def test_parse_parameters_reads_types_defaults_help_and_required() -> None:
    cell = '''sample = "cold-start-tail"  # a sample
start: "time" = None  # required: incident start
groups: list = [
    "/a",
    "/b",
]  # groups
limit: int = 10
ratio = 0.5
flag = False
import os  # not a parameter
'''
    params = {p.name: p for p in parse_parameters(cell)}
    assert list(params) == ["sample", "start", "groups", "limit", "ratio", "flag"]
    assert params["start"].type == "time" and params["start"].required and params["start"].help == "incident start"
    assert params["groups"].default == ["/a", "/b"] and params["groups"].help == "groups"
    assert (params["limit"].type, params["ratio"].type, params["flag"].type) == ("int", "float", "bool")
    with pytest.raises(SyntaxError, match="literal"):
        parse_parameters("x = os.getcwd()")
    with pytest.raises(SyntaxError, match="annotation"):
        parse_parameters('x: "widget" = None')


def test_template_by_path(tmp_path: Path) -> None:
    src = templates.get("triage").path
    copy = tmp_path / "my-triage.ipynb"
    copy.write_text(src.read_text())
    tpl = templates.get(str(copy))
    assert tpl.name == "my-triage" and tpl.parameter_names == templates.get("triage").parameter_names


def test_templates_ship_with_the_package() -> None:
    folder = templates.get("triage").path.parent
    assert folder.name == "notebooks"  # the source tree's notebooks/, or incidentkit/notebooks/ in a wheel
    files = {p.name for p in folder.iterdir()}
    assert {f"{n}.ipynb" for n in EXPECTED} <= files
    assert not [f for f in files if f.endswith(".py")], "notebooks/ holds only the templates"
    for n in EXPECTED:
        json.loads((folder / f"{n}.ipynb").read_text())
