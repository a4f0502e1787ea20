"""Defer a dependency's costly import until it is first used: ``rfc3987_syntax`` (2 s at import).

papermill imports nbformat, nbformat imports jsonschema, and jsonschema 4.26's format checker
imports ``rfc3987_syntax`` when it is installed (the ``format-nongpl`` extra that
jupyter-events, a JupyterLab dependency, asks for). ``rfc3987_syntax`` 1.1.0 builds an Earley
parser of the RFC 3987 grammar at import time: ~2 s of CPU in every ``incidentkit run``,
before the kernel starts, for a check (``iri`` / ``iri-reference`` formats) that no notebook
schema uses (upstream: python-jsonschema/jsonschema issue 1428 and pull request 1521, which
moves to the lazily loading fork ``rfc3987-syntax2``; not in a jsonschema release here).

:func:`defer_rfc3987_syntax` puts a stand-in module in :data:`sys.modules` whose
``is_valid_syntax`` (the one name jsonschema imports) loads the real package on its first
call and delegates to it, as does any other attribute: the same answers, paid for only when
asked. Nothing is installed when the package is absent (jsonschema then skips the format, as
before) or already imported.

Example
-------
>>> import sys
>>> defer_rfc3987_syntax() in (True, False)
True
>>> "rfc3987_syntax" not in sys.modules or sys.modules["rfc3987_syntax"].is_valid_syntax("iri", "https://example.com/a")
True
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

__all__ = ["defer_rfc3987_syntax"]

_NAME = "rfc3987_syntax"


class _DeferredModule(types.ModuleType):
    """A stand-in for a package: loads the real one at the first use of any attribute."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_real_module(), name)


def _real_module() -> types.ModuleType:
    """The real package, imported now (the stand-in leaves :data:`sys.modules` first)."""
    current = sys.modules.get(_NAME)
    if isinstance(current, _DeferredModule):
        del sys.modules[_NAME]
    return importlib.import_module(_NAME)


def _is_valid_syntax(term: str, value: str) -> bool:
    """``rfc3987_syntax.is_valid_syntax``, importing the package on the first call."""
    return bool(_real_module().is_valid_syntax(term, value))


def defer_rfc3987_syntax() -> bool:
    """Install the stand-in for ``rfc3987_syntax``; True when it was installed.

    Example
    -------
    >>> defer_rfc3987_syntax() in (True, False)
    True
    """
    if _NAME in sys.modules:
        return False
    spec = importlib.util.find_spec(_NAME)
    if spec is None:
        return False
    stand_in = _DeferredModule(_NAME, "stand-in for rfc3987_syntax: the real package is imported at its first use")
    stand_in.__path__ = list(spec.submodule_search_locations or [])  # its submodules still import
    stand_in.is_valid_syntax = _is_valid_syntax  # type: ignore[attr-defined]
    sys.modules[_NAME] = stand_in
    return True
