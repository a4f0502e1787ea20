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

from .errors import IncidentKitError
from .evidence import EvidenceBundle
from .findings import Finding, FindingList
from .investigation import Investigation
from .window import Window, parse_time
from . import accessor as _accessor  # noqa: F401,E402  (registers the df.ik pandas accessor)

__version__ = "0.1.0"


def run(template: str, parameters: dict | None = None, **options: object) -> "runner.RunResult":  # noqa: F821
    """Execute a notebook template into a run folder (see :func:`incidentkit.runner.run`)."""
    from . import runner

    return runner.run(template, parameters, **options)  # type: ignore[arg-type]


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
