"""The severity scale, once: its levels in order, their rank and a step down.

Every part of the kit that names, sorts or compares severities (findings, audit checks, the
postmortem's action priorities, the CLI's ``--fail-on``, the report's colours) reads the scale
from here, so a level cannot be added or reordered in one place and not the others.

Example
-------
>>> SEVERITIES[0], severity_rank("medium"), downgrade("critical", 2), downgrade("low")
('critical', 2, 'medium', 'low')
"""

from __future__ import annotations

from typing import Literal

__all__ = ["Severity", "SEVERITIES", "severity_rank", "downgrade"]

#: The levels, most severe first.
Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")


def severity_rank(severity: str) -> int:
    """0 for critical … 4 for info (lower is more severe).

    Raises
    ------
    ValueError
        When ``severity`` is not a level of :data:`SEVERITIES`.

    Example
    -------
    >>> sorted(["low", "critical", "info"], key=severity_rank)
    ['critical', 'low', 'info']
    """
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        raise ValueError(f"severity {severity!r} is not one of {SEVERITIES}") from None


def downgrade(severity: str, steps: int = 1) -> str:
    """``steps`` levels less severe, never below ``low`` (``info`` stays ``info``).

    Example
    -------
    >>> downgrade("high"), downgrade("medium", 5), downgrade("info")
    ('medium', 'low', 'info')
    """
    if severity == "info":
        return severity
    return SEVERITIES[min(severity_rank(severity) + steps, SEVERITIES.index("low"))]
