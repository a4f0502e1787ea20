"""Error-line templates mined server-side by Logs Insights' ``pattern`` command.

For a window too large to pull, the error signatures of :mod:`incidentkit.analyses.signatures`
can be mined where the logs are: Logs Insights clusters the matching lines into patterns
(``fields @message | filter ... | pattern @message``) and returns, per pattern, ``@pattern``
(the shared text, varying parts as dynamic tokens ``<Token-1>``, ``<*>``), ``@sampleCount``
(how many lines it covers), ``@ratio`` and ``@severityLabel`` — see "pattern" in the Logs
Insights query syntax (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Pattern.html).
The command runs on the Standard log class only and cannot be split by time, so each window
is one query per batch of 50 log groups.

:func:`insights_error_patterns` runs it on the incident window and the baseline and returns
one frame (``side``, ``pattern``, ``count``, ``example``, ``log_groups``) that
:func:`incidentkit.analyses.signatures.from_patterns` turns into the signature frame the
local path gives (same columns, ``source`` = ``insights-pattern``).

Example
-------
>>> print(error_pattern_query())
fields @message
| filter @message like /(?i)(error|exception|fatal|panic|traceback|timed out|timeout)/
| pattern @message
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import pandas as pd

from ...window import as_window as _as_window
from .._common import _group_list
from .scheduler import insights

__all__ = ["DYNAMIC_TOKEN", "ERROR_FILTER", "PATTERN_COLUMNS", "error_pattern_query", "insights_error_patterns"]

#: A dynamic token of a pattern (``<Token-1>``, ``<Time-2>``, ``<*>``): each query numbers its own,
#: so they are written ``<*>`` before patterns of two windows are compared (and before they are
#: recorded: ``<Token-1> seconds`` reads like an XML element holding a secret to the masking rules).
DYNAMIC_TOKEN = re.compile(r"<[^<>\s]{1,40}>")

#: Lines an error signature is mined from when nothing narrower is given: the words an error line
#: carries in every runtime and log library (level names, exception and traceback headers, timeouts).
ERROR_FILTER = "filter @message like /(?i)(error|exception|fatal|panic|traceback|timed out|timeout)/"
#: The columns of :func:`insights_error_patterns` (the input of ``signatures.from_patterns``).
PATTERN_COLUMNS = ("side", "pattern", "count", "example", "log_groups")


def error_pattern_query(filter: str | None = None) -> str:
    """The Logs Insights query that clusters the error lines into patterns (``filter``: an
    ``filter ...`` command of your own instead of :data:`ERROR_FILTER`)."""
    return f"fields @message\n| {filter or ERROR_FILTER}\n| pattern @message"


def _patterns_of(raw: pd.DataFrame, side: str, groups: list[str]) -> pd.DataFrame:
    """The ``pattern`` results of one window as :data:`PATTERN_COLUMNS` rows."""
    if raw.empty or "@pattern" not in raw.columns:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in PATTERN_COLUMNS})
    count = raw["@sampleCount"] if "@sampleCount" in raw.columns else pd.Series(pd.NA, index=raw.index)
    return pd.DataFrame({
        "side": side,
        "pattern": raw["@pattern"].astype("string").str.replace(DYNAMIC_TOKEN, "<*>", regex=True).str.strip(),
        "count": pd.to_numeric(count, errors="coerce").fillna(0).astype("int64"),
        "example": pd.Series(pd.NA, index=raw.index, dtype="string"),  # the command returns no sample line
        "log_groups": ", ".join(groups),
    })


def insights_error_patterns(
    log_groups: str | Iterable[str],
    window: Any,
    *,
    baseline: Any = None,
    filter: str | None = None,
    **options: Any,
) -> pd.DataFrame:
    """The error-line patterns of ``window`` (and of ``baseline``), clustered by Logs Insights.

    Parameters
    ----------
    log_groups, window:
        As for :func:`incidentkit.fetch.insights.insights`.
    baseline:
        The window to compare with (a ``Window`` or ``(start, end)``); None for the incident
        window alone (then every pattern reads as new).
    filter:
        A ``filter ...`` command selecting the error lines (default :data:`ERROR_FILTER`).
    **options:
        Passed to :func:`~incidentkit.fetch.insights.insights` (``session``, ``region``,
        ``limit``, ``timeout``, ...).

    Returns
    -------
    pandas.DataFrame
        :data:`PATTERN_COLUMNS`, one row per pattern and side; ``attrs["exposure"]`` and
        ``attrs["baseline_exposure"]`` hold each window's length in seconds (the exposure
        ``from_patterns`` compares rates with), ``attrs["issues"]`` what the queries reported.

    Example
    -------
    >>> p = insights_error_patterns("/aws/lambda/api", ("-1h", "now"), baseline=("-25h", "-24h"))  # doctest: +SKIP
    >>> from incidentkit.analyses.signatures import from_patterns                                  # doctest: +SKIP
    >>> from_patterns(p, exposure=p.attrs["exposure"], baseline_exposure=p.attrs["baseline_exposure"])  # doctest: +SKIP
    """
    groups = _group_list(log_groups)
    query = error_pattern_query(filter)
    sides = [("incident", _as_window(window))] + ([("baseline", _as_window(baseline))] if baseline is not None else [])
    frames, issues = [], []
    for side, win in sides:
        raw = insights(query, groups, win, **options)
        issues += [f"{side}: {i}" for i in raw.attrs.get("issues", [])]
        frames.append(_patterns_of(raw, side, groups))
    out = pd.concat(frames, ignore_index=True)
    seconds = {side: (win.end - win.start).total_seconds() for side, win in sides}
    out.attrs.update({"source": "logs.insights_error_patterns", "query": query, "issues": issues,
                      "exposure": seconds["incident"], "baseline_exposure": seconds.get("baseline")})
    return out
