"""The log-format registry: every format module has the one interface, the registry is the
only list of formats, and a format added to it is used by parse() without another edit."""

from __future__ import annotations

import doctest
import sys
import types

import numpy as np
import pyarrow as pa
import pytest

from incidentkit import parse
from incidentkit.errors import ParameterError
from incidentkit.parse import registry
from incidentkit.parse.arrow import Part, scalar_str
from incidentkit.parse.formats._keys import Keys


@pytest.mark.parametrize("entry", list(registry.FORMATS))
def test_every_format_module_has_the_interface(entry):
    mod = registry.load(entry)
    assert isinstance(mod.NAME, str) and mod.NAME
    assert mod.ROLE in registry.ROLES
    assert isinstance(mod.FIELDS, tuple)
    assert all(isinstance(f, tuple) and len(f) == 2 and all(isinstance(x, str) and x for x in f) for f in mod.FIELDS)
    if mod.NAME not in ("app_json", "text"):  # no documented schema: whatever the app logs
        assert mod.FIELDS, f"{entry}: list the documented fields with the version they appeared in"
    assert mod.RECOGNISE is None or isinstance(mod.RECOGNISE, (str, Keys, tuple))
    assert callable(mod.parse)
    if registry.is_json(mod):
        assert isinstance(mod.PATHS, (list, tuple))
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed, f"{entry}: its docstring example must run"


def test_registry_order_json_block_then_text_then_the_fallback():
    before, after = registry.text_formats()
    # ahead of the JSON formats: only the logs AWS writes to S3 that are recognised by their
    # opening bytes (WAF and Network Firewall records are JSON)
    assert {m.NAME for m in before} == {"alb_connection", "elb_classic_access", "nlb_access", "cloudfront_access", "s3_access",
                                        "waf", "network_firewall"}
    assert [m.NAME for m in registry.json_formats()][-1] == "app_json"  # takes any other object
    assert registry.fallback().NAME == "text" and list(registry.FORMATS)[-1] == "text"
    assert [m.__name__ for m in after][0].endswith("sam_logs")  # an envelope first: its content is any format


def test_the_format_column_values_come_from_the_registry():
    assert parse.FORMATS == (*registry.format_names(), "json")
    assert set(registry.roles()) == set(parse.FORMATS) - {"json"}
    assert registry.format_names("request") == ("elb_classic_access", "cloudfront_access", "apigw_access", "alb_access")
    assert registry.format_names("access") == ("s3_access", "clf_access")
    assert "sam_logs" not in parse.FORMATS  # an envelope writes its content's format


def test_an_unknown_entry_or_role_is_one_actionable_error(monkeypatch):
    with pytest.raises(ParameterError, match="no log format 'nope'; formats: alb_connection, "):
        registry.load("nope")
    bad = types.ModuleType("incidentkit_test_badrole")
    bad.NAME, bad.ROLE, bad.RECOGNISE, bad.FIELDS = "x", "sideways", r"^x", ()
    monkeypatch.setitem(sys.modules, bad.__name__, bad)
    monkeypatch.setitem(registry.FORMATS, "x", bad.__name__)
    registry.refresh()
    try:
        with pytest.raises(ParameterError, match="ROLE 'sideways'"):
            registry.modules()
    finally:
        monkeypatch.undo()
        registry.refresh()


def _toy_format() -> types.ModuleType:
    """A made-up text format, as a new format module would be written."""
    mod = types.ModuleType("incidentkit_test_toyformat")
    mod.NAME, mod.ROLE, mod.RECOGNISE = "toy", "app", r"^TOY "
    mod.FIELDS = (("code", "1.0"),)

    def parse_toy(arr: pa.Array, idx: np.ndarray) -> list[Part]:
        p = Part(idx)
        p.set("format", scalar_str("toy", len(arr)))
        p.set("level", scalar_str("ERROR", len(arr)))
        return [p]

    mod.parse = parse_toy
    return mod


def test_a_format_added_to_the_registry_is_used_without_another_edit(monkeypatch):
    toy = _toy_format()
    monkeypatch.setitem(sys.modules, toy.__name__, toy)
    entries = dict(registry.FORMATS)
    text = entries.pop("text")
    monkeypatch.setattr(registry, "FORMATS", {**entries, "toy": toy.__name__, "text": text})
    registry.refresh()
    try:
        df = parse.parse(["TOY 42", "plain words"])
        assert df["format"].tolist() == ["toy", "text"] and df.at[0, "level"] == "ERROR"
        assert registry.roles()["toy"] == "app"
    finally:
        monkeypatch.undo()
        registry.refresh()
    assert parse.parse(["TOY 42"]).at[0, "format"] == "text"  # gone again with its line
