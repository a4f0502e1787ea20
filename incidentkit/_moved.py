"""Old module paths, kept working: ``incidentkit.metrics`` is ``incidentkit.fetch.metrics``.

Until issue 14 the package was flat (``incidentkit.metrics``, ``incidentkit.parsers``,
``incidentkit.report`` ...). Its modules now live in folders named for the stage of the data
flow — ``fetch/``, ``parse/``, ``analyses/``, ``findings/``, ``render/``, ``run/`` — and
:data:`MOVED` says where each old module went. This is the one place that knows.

How it works: ``incidentkit/__init__.py`` puts :class:`MovedModuleFinder` first on
:data:`sys.meta_path`. When an old path is imported (``import incidentkit.metrics``,
``from incidentkit.insights import run_query``, ``from incidentkit import parsers``, a Lambda
handler ``incidentkit.autorun.handler``), the finder imports the module at its new path and
registers that **same module object** under the old name too. So
``monkeypatch.setattr(incidentkit.metrics, "get", fake)`` patches what the kit itself calls,
``incidentkit.metrics is incidentkit.fetch.metrics``, and nothing is imported before an old
path is asked for (``import incidentkit`` stays light). Attribute access without an import
(``ik.metrics`` after ``import incidentkit as ik``) goes through the package's
``__getattr__``, which imports through the same finder.

New code imports the new paths; the old ones are for code written before the move.

Example
-------
>>> import importlib
>>> importlib.import_module("incidentkit.parsers") is importlib.import_module("incidentkit.parse")
True
>>> MOVED["incidentkit.autorun"]
'incidentkit.run.autorun'
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Sequence

__all__ = ["MOVED", "MovedModuleFinder", "install"]

#: Old module path -> the module's path now (issue 14: one folder per stage of the data flow).
MOVED: dict[str, str] = {
    # ground: helpers that import nothing above them
    "incidentkit.fmt": "incidentkit._util.fmt",
    "incidentkit._progress": "incidentkit._util.progress",
    "incidentkit.resource_ids": "incidentkit._util.resource_ids",
    "incidentkit.blameless": "incidentkit._util.blameless",
    "incidentkit._secret_rules": "incidentkit.masking._rules",
    "incidentkit._mask_values": "incidentkit.masking._values",
    # fetch: AWS -> tidy frames
    "incidentkit.aws": "incidentkit.fetch.aws",
    "incidentkit.logs": "incidentkit.fetch.logs",
    "incidentkit.insights": "incidentkit.fetch.insights",
    "incidentkit.metrics": "incidentkit.fetch.metrics",
    "incidentkit.metric_presets": "incidentkit.fetch.metric_presets",
    "incidentkit.changes": "incidentkit.fetch.changes",
    "incidentkit.change_detail": "incidentkit.fetch.change_detail",
    "incidentkit.health": "incidentkit.fetch.health",
    "incidentkit.alarms": "incidentkit.fetch.alarms",
    # parse: text -> typed columns
    "incidentkit.parsers": "incidentkit.parse",
    "incidentkit._parse_arrow": "incidentkit.parse.arrow",
    "incidentkit._parse_json": "incidentkit.parse._json",
    "incidentkit._parse_text": "incidentkit.parse._text",
    "incidentkit._requests": "incidentkit.parse._requests",
    "incidentkit.emf": "incidentkit.parse.emf",
    "incidentkit.useragent": "incidentkit.parse.useragent",
    # analyses: pure functions on frames
    "incidentkit.outofcore": "incidentkit.analyses.outofcore",
    "incidentkit.change_words": "incidentkit.analyses.change_words",
    # findings: analyses -> named causes
    "incidentkit.audit": "incidentkit.findings.audit",
    # render
    "incidentkit.display": "incidentkit.render.display",
    "incidentkit.plots": "incidentkit.render.plots",
    "incidentkit.report": "incidentkit.render.report",
    "incidentkit.postmortem": "incidentkit.render.postmortem",
    "incidentkit.postmortem_doc": "incidentkit.render.postmortem_doc",
    "incidentkit.markup": "incidentkit.render.markup",
    # run: executed reports
    "incidentkit.templates": "incidentkit.run.templates",
    "incidentkit._run_io": "incidentkit.run.notebook_io",
    "incidentkit.runner": "incidentkit.run.runner",
    "incidentkit.autorun": "incidentkit.run.autorun",
    "incidentkit.publish": "incidentkit.run.publish",
    "incidentkit.demo": "incidentkit.run.demo",
}


class _AliasLoader(importlib.abc.Loader):
    """Loads an old path as the module already at its new path (imported on first use)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system has set the alias spec on the module: give it its own back, so
        # the module keeps saying where it lives (pickling, reload, tracebacks).
        module.__spec__ = self._spec


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """A meta path finder for the old module paths of :data:`MOVED` (and only those)."""

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(new))


def install() -> None:
    """Put the finder first on :data:`sys.meta_path` (once): before any path-based finder, so an
    old path never finds a stale file or folder of the same name."""
    if not any(isinstance(f, MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())
