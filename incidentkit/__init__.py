"""incidentkit — investigate AWS production incidents in Jupyter.

Pull CloudWatch metrics, CloudWatch Logs and the change timeline into tidy pandas
DataFrames, run analyses on them, turn them into findings, and execute parameterized
notebooks into an investigation and a postmortem.

Example
-------
>>> import incidentkit as ik
>>> w = ik.Window.parse("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z")
>>> w.baseline().end == w.start
True
"""

from __future__ import annotations

from .errors import IncidentKitError
from .window import Window, parse_time
from . import accessor as _accessor  # noqa: F401,E402  (registers the df.ik pandas accessor)

__version__ = "0.1.0"

__all__ = ["IncidentKitError", "Window", "parse_time", "__version__"]
