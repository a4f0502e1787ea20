"""incidentkit — investigate AWS production incidents in Jupyter.

Pull CloudWatch metrics, CloudWatch Logs and the change timeline into tidy pandas
DataFrames, run analyses on them, turn them into findings, and execute parameterized
notebooks into an investigation and a postmortem.

The interactive entry point is :class:`Investigation`: open a bundled sample
(``ik.Investigation.sample("cold-start-tail")``), a recorded run
(``ik.Investigation.open("runs/<run>")``) or a live window, fetch, and ask for findings.
:func:`run` executes a notebook template into a report, like ``incidentkit run``.

Example
-------
>>> import incidentkit as ik
>>> w = ik.Window.parse("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z")
>>> w.baseline().end == w.start
True
>>> inv = ik.Investigation.sample("cold-start-tail")     # doctest: +SKIP
>>> inv.findings().top.id                                # doctest: +SKIP
'cold-start-tail'
"""

from __future__ import annotations

import importlib as _importlib
from typing import Any as _Any

from . import _moved

_moved.install()  # old module paths (incidentkit.metrics ...) keep working: see incidentkit/_moved.py

from ._version import __version__  # noqa: E402
from .errors import IncidentKitError  # noqa: E402
from .evidence import EvidenceBundle  # noqa: E402
from .findings import Finding, FindingList  # noqa: E402
from .investigation import Investigation  # noqa: E402
from .window import Window, parse_time  # noqa: E402
from . import accessor as _accessor  # noqa: F401,E402  (registers the df.ik pandas accessor)
from .render import display as _display  # noqa: F401,E402  (registers how findings and investigations show)
# The stage package incidentkit.run is imported here, before the function run() below takes the
# name: importing a subpackage binds its name on the parent once, when it is first imported.
from .run import runner as _runner  # noqa: E402


def run(template: str, parameters: dict | None = None, **options: object) -> _runner.RunResult:
    """Execute a notebook template into a run folder (see :func:`incidentkit.run.runner.run`)."""
    return _runner.run(template, parameters, **options)  # type: ignore[arg-type]


def __getattr__(name: str) -> _Any:
    """``ik.metrics`` and the other old module paths of :data:`incidentkit._moved.MOVED`, imported on first use."""
    if f"{__name__}.{name}" in _moved.MOVED:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "IncidentKitError",
    "Window",
    "parse_time",
    "Investigation",
    "EvidenceBundle",
    "Finding",
    "FindingList",
    "run",
    "__version__",
]
