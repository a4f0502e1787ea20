"""What the detectors share: the :class:`Verdict` of a judge step, the :class:`Score` it adds up, small helpers.

A detector's ``judge(measures) -> Verdict`` turns numbers into a severity and a confidence.
The confidence is built with a :class:`Score`: a base and named additions, each with the reason
it applies, so ``verdict.reasons`` says how the number came about (and a test or a reader can
check that no addition goes unexplained). The arithmetic is plain floating-point addition in the
order the additions are made.

Example
-------
>>> s = Score(0.5, "a failed change run")
>>> s.add(0.15, "security groups: access lost or opened", when=True)
>>> s.add(0.1, "made from a console or a script", when=False)
>>> v = s.verdict("high")
>>> v.severity, round(v.confidence, 2), len(v.reasons)
('high', 0.65, 2)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..model import Inputs, severity_rank

__all__ = ["Verdict", "Score", "cap_confidence", "at_least", "bin_text", "episodes_in_window", "function_of_log_group",
           "window_start", "SMALL_IMPACT_CAPS", "MAX_CONFIDENCE"]

#: The highest confidence of a finding: the evidence is observational (logs, metrics, the change timeline), it shows
#: what happened, not why; no detector claims more than this.
MAX_CONFIDENCE = 0.95
#: The highest confidence a finding of small impact may have, by severity: a ``low`` or ``info`` finding
#: cannot be the most likely cause of an incident, so it never outranks a ``medium`` one at 0.35 or more.
SMALL_IMPACT_CAPS: dict[str, float] = {"low": 0.35, "info": 0.2}


@dataclass(frozen=True)
class Verdict:
    """What a judge step concludes: the severity, the confidence (0..1) and the reasons behind the confidence."""

    severity: str
    confidence: float
    reasons: tuple[str, ...] = ()


@dataclass
class Score:
    """A confidence added up from named contributions (``+0.15 security groups: ...``).

    Parameters
    ----------
    value:
        The base confidence.
    why:
        What the base stands for.
    """

    value: float
    why: str
    reasons: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reasons.append(f"{self.value:.2f} {self.why}")

    def add(self, amount: float, why: str, *, when: bool = True) -> None:
        """Add ``amount`` (negative lowers it) when ``when`` holds, and say why."""
        if when:
            self.value += amount
            self.reasons.append(f"{amount:+.2f} {why}")

    def verdict(self, severity: str, confidence: float | None = None) -> Verdict:
        """The :class:`Verdict` with this score (or ``confidence``, when a cap or rounding was applied)."""
        return Verdict(severity, self.value if confidence is None else confidence, tuple(self.reasons))


def cap_confidence(confidence: float, severity: str, ceiling: float = 0.97) -> float:
    """The confidence capped for a finding of small impact (:data:`SMALL_IMPACT_CAPS`) and at ``ceiling``.

    Example
    -------
    >>> cap_confidence(0.8, "low"), cap_confidence(0.99, "high")
    (0.35, 0.97)
    """
    return float(min(confidence, SMALL_IMPACT_CAPS.get(severity, 1.0), ceiling))


def at_least(severity: str, floor: str) -> str:
    """``severity``, raised to ``floor`` when it is less severe.

    Example
    -------
    >>> at_least("low", "medium"), at_least("critical", "medium")
    ('medium', 'critical')
    """
    return severity if severity_rank(severity) <= severity_rank(floor) else floor


def bin_text(width: Any) -> str:
    """A time-bin width for reading: ``'0 days 00:10:00'`` → ``'10-min'``.

    Example
    -------
    >>> bin_text("10min"), bin_text("1h"), bin_text("30s")
    ('10-min', '1-h', '30-s')
    """
    secs = int(pd.Timedelta(width).total_seconds())
    if secs % 3600 == 0:
        return f"{secs // 3600}-h"
    if secs % 60 == 0:
        return f"{secs // 60}-min"
    return f"{secs}-s"


def episodes_in_window(df: pd.DataFrame, inputs: Inputs) -> pd.DataFrame:
    """Episodes (``start``, ``end``) that overlap the incident window; all of them when none does or there is no window."""
    if inputs.window is None or df.empty:
        return df
    w = inputs.window
    sel = (df["end"] > w.start) & (df["start"] < w.end)
    return df[sel] if sel.any() else df


def function_of_log_group(group: Any) -> str | None:
    """``/aws/lambda/<name>`` → ``<name>`` (the log group Lambda writes to by default).

    Example
    -------
    >>> function_of_log_group("/aws/lambda/orders-writer"), function_of_log_group("/ecs/web")
    ('orders-writer', None)
    """
    text = group if isinstance(group, str) else ""
    return text.split("/aws/lambda/", 1)[1] if text.startswith("/aws/lambda/") and len(text) > 12 else None


def window_start(inputs: Any) -> pd.Timestamp | None:
    """The start of the incident window (what "3 min before" is counted from), when there is one."""
    w = getattr(inputs, "window", None)
    return w.start if w is not None else None
