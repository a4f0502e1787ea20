"""The stand-in for ``rfc3987_syntax``: same answers from jsonschema, the 2 s import paid only when used."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from incidentkit._util import deferred_import

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("rfc3987_syntax") is None,
    reason="rfc3987_syntax is not installed here (jsonschema's format-nongpl extra): nothing to defer",
)

#: IRIs and IRI references, valid and not, through jsonschema's format checker.
_CHECK = """
import json, sys
{setup}
import jsonschema
checker = jsonschema.FormatChecker()
values = ["https://example.com/ä?q=1#f", "http://[::1]:80/", "not an iri", "//host/path", "a b", "mailto:x@y.z", ""]
answers = [[checker.conforms(v, f) for f in ("iri", "iri-reference")] for v in values]
module = sys.modules.get("rfc3987_syntax")
print(json.dumps({{"answers": answers, "stand_in_left": type(module).__name__ == "_DeferredModule"}}))
"""


def _child(setup: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHECK.format(setup=setup)], capture_output=True, text=True, timeout=120,
                         check=True)  # fmt: skip
    return json.loads(out.stdout)


def test_jsonschema_gives_the_same_answers_with_the_stand_in() -> None:
    plain = _child("")
    deferred = _child("from incidentkit._util.deferred_import import defer_rfc3987_syntax; assert defer_rfc3987_syntax()")
    assert deferred["answers"] == plain["answers"]
    assert not deferred["stand_in_left"]  # the first check loaded the real package in its place
    assert plain["answers"][0] == [True, True] and plain["answers"][2][0] is False  # the checks do run


def test_a_run_imports_papermill_and_nbconvert_without_building_the_parser() -> None:
    code = (
        "import sys\n"
        "from incidentkit.run import runner\n"
        "runner.check_html_export()\n"
        "import papermill, nbformat\n"
        "nbformat.validate(nbformat.v4.new_notebook())\n"
        "print(type(sys.modules['rfc3987_syntax']).__name__, 'rfc3987_syntax.syntax_helpers' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["_DeferredModule", "False"]


def test_nothing_is_installed_when_the_package_is_absent_or_already_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "rfc3987_syntax", raising=False)
    monkeypatch.setattr(deferred_import.importlib.util, "find_spec", lambda name: None)
    assert deferred_import.defer_rfc3987_syntax() is False and "rfc3987_syntax" not in sys.modules
    monkeypatch.setitem(sys.modules, "rfc3987_syntax", object())
    assert deferred_import.defer_rfc3987_syntax() is False
