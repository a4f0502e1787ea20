"""The analyses that need every row, in memory or through Arrow, chosen by the frame's size.

:func:`error_rate`, :func:`percentiles` and :func:`compare` take the frames the notebooks
hold (one row per request) and return the frames of
:func:`incidentkit.analyses.errors.error_rate`, :func:`incidentkit.analyses.latency.percentiles`
and :func:`incidentkit.analyses.compare.compare`. Up to :func:`threshold` rows they call
those; above it they hand the frame to Arrow once (``pyarrow.Table.from_pandas``: the
numeric and dictionary columns are not copied row by row) and run
:mod:`incidentkit.analyses.outofcore` on it: Acero's hash aggregates instead of pandas'
groupby, ~10x faster at a million rows (``benchmarks/README.md``, row 3c).

The results are the same frames: counts, error rates and shares exactly; percentiles within
:data:`~incidentkit.analyses.outofcore.RANK_TOLERANCE` in rank (t-digest, and
``df.attrs["approximate"]`` says so). Findings never depend on the choice: the detectors
run on the investigation's evidence, not on these tables.

The threshold is ``INCIDENTKIT_OUTOFCORE_ROWS`` (rows; default :data:`DEFAULT_ROWS`), or
the ``threshold`` argument of each function; ``0`` always uses Arrow.

Example
-------
>>> import pandas as pd
>>> req = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00:10Z", "2026-03-01T03:00:40Z"]),
...                     "status": [200, 503], "latency_ms": [100.0, 300.0]})
>>> error_rate(req, by="1min", threshold=0)["n_5xx"].tolist() == error_rate(req, by="1min")["n_5xx"].tolist()
True
>>> uses_arrow(req, threshold=0), uses_arrow(req)
(True, False)
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import outofcore
from .. import schema
from .compare import compare as _compare_in_memory
from .errors import error_rate as _error_rate_in_memory
from .latency import percentiles as _percentiles_in_memory
from ..errors import ParameterError

__all__ = ["DEFAULT_ROWS", "ENV", "threshold", "uses_arrow", "error_rate", "percentiles", "compare"]

#: The environment variable that sets the threshold (rows).
ENV = "INCIDENTKIT_OUTOFCORE_ROWS"
#: Rows above which Arrow is used: below it the in-memory analyses take well under a second and
#: converting the frame would cost a noticeable share of that (measured in benchmarks/README.md, row 7).
DEFAULT_ROWS = 200_000
_SIDE = "__incidentkit_side"


def threshold(value: int | None = None) -> int:
    """Rows above which Arrow is used: ``value``, else ``INCIDENTKIT_OUTOFCORE_ROWS``, else :data:`DEFAULT_ROWS`.

    Example
    -------
    >>> threshold(10), threshold() == DEFAULT_ROWS or ENV in os.environ
    (10, True)
    """
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ParameterError(f"threshold={value!r} must be a number of rows >= 0")
        return int(value)
    text = os.environ.get(ENV, "").strip().replace("_", "")
    if not text:
        return DEFAULT_ROWS
    if not text.isdigit():
        raise ParameterError(f"{ENV}={os.environ[ENV]!r} must be a number of rows (e.g. 200000, or 0 to always use Arrow)")
    return int(text)


def uses_arrow(*frames: pd.DataFrame | None, threshold: int | None = None) -> bool:
    """Whether the frames, together, are above the threshold."""
    rows = sum(len(f) for f in frames if isinstance(f, pd.DataFrame))
    limit = globals()["threshold"](threshold)
    return rows > 0 and rows > limit if limit else rows > 0


def _table(frame: pd.DataFrame) -> Any:
    """The frame as an in-memory Arrow dataset (None when a column cannot be converted: the caller stays in memory)."""
    import pyarrow as pa
    import pyarrow.dataset as pads

    try:
        return pads.dataset(pa.Table.from_pandas(frame, preserve_index=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        return None


def _marked(table: Any, method: str) -> Any:
    if isinstance(table, pd.DataFrame):
        table.attrs["method"] = f"{table.attrs.get('method') or method}"
        table.attrs["engine"] = "arrow"
    return table


def error_rate(df: pd.DataFrame | None, *, threshold: int | None = None, **kwargs: Any) -> pd.DataFrame:
    """:func:`incidentkit.analyses.errors.error_rate` (same arguments), through Arrow above the threshold."""
    source = _table(df) if df is not None and uses_arrow(df, threshold=threshold) else None
    if source is None:
        return _error_rate_in_memory(df, **kwargs)
    return _marked(outofcore.error_rate(source, **kwargs), "outofcore.error_rate")


def percentiles(df: pd.DataFrame | None, value: str = "latency_ms", *, threshold: int | None = None, **kwargs: Any) -> pd.DataFrame:
    """:func:`incidentkit.analyses.latency.percentiles` (same arguments), through Arrow (t-digest) above the threshold."""
    source = _table(df) if df is not None and uses_arrow(df, threshold=threshold) else None
    if source is None:
        return _percentiles_in_memory(df, value, **kwargs)
    return _marked(outofcore.percentiles(source, value, **kwargs), "outofcore.percentiles")


def compare(
    incident: pd.DataFrame | None,
    baseline: pd.DataFrame | None = None,
    *,
    columns: Sequence[str] | None = None,
    threshold: int | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """:func:`incidentkit.analyses.compare.compare` of two frames, through Arrow above the threshold
    (both frames in one table, each row marked with its side; the same shares, tests and ranking).

    A baseline given as a mask (rows of ``incident``) is always compared in memory.
    """
    if not isinstance(baseline, pd.DataFrame) or incident is None or not uses_arrow(incident, baseline, threshold=threshold):
        return _compare_in_memory(incident, baseline, columns=columns, **kwargs)
    import pyarrow.compute as pc

    both = schema.concat([incident.assign(**{_SIDE: np.int8(1)}), baseline.assign(**{_SIDE: np.int8(0)})], ignore_index=True)
    source = _table(both)
    if source is None:
        return _compare_in_memory(incident, baseline, columns=columns, **kwargs)
    out = outofcore.compare(source, pc.field(_SIDE) == 1, pc.field(_SIDE) == 0, columns=columns, **kwargs)
    return _marked(out, "outofcore.compare")
