"""Every docstring example in the package runs and gives what it shows.

The house style asks for a short example in each public docstring (numpy ``Example`` section);
an example that no longer matches the code misleads the next reader more than none. This runs
them all, module by module, as ``python -m doctest`` would (whitespace normalised, ``...`` for
elided output). A module that is only an import alias (``incidentkit._moved``'s old paths) has no
file of its own and is not walked.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import incidentkit

MODULES = sorted(m.name for m in pkgutil.walk_packages(incidentkit.__path__, prefix="incidentkit."))


def test_the_package_is_walked() -> None:
    assert {"incidentkit.findings.registry", "incidentkit.parse.formats.alb_access", "incidentkit.cli"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_give_what_they_show(module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # the examples show the kit's defaults; the suite's conftest switches pacing off for moto
    monkeypatch.delenv("INCIDENTKIT_RPS", raising=False)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    result = doctest.testmod(importlib.import_module(module), optionflags=flags, verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {module} failed (see above)"
