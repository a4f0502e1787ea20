"""What each request waited and whether it started cold, from whichever columns its source gives.

An access log gives ``latency_ms``; a Lambda REPORT line gives ``duration_ms`` and, on a cold
start, ``init_duration_ms``; an application may log ``cold_start`` itself. Every latency and
cold-start analysis (:mod:`.latency`, :mod:`.lambda_capacity`) and the cold-start findings read
them through these two functions, so the rules live once.

Example
-------
>>> df = pd.DataFrame({"duration_ms": [100.0, 300.0], "init_duration_ms": [None, 700.0]})
>>> request_latency(df).tolist(), cold_starts(df)[0].tolist()
([100.0, 1000.0], [False, True])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import flag

__all__ = ["request_latency", "cold_starts"]


def request_latency(requests: pd.DataFrame, value: str = "latency_ms") -> pd.Series:
    """What each caller waited, in ms: ``value``, else Lambda ``duration_ms + init_duration_ms``.

    Example
    -------
    >>> df = pd.DataFrame({"latency_ms": [120.0, None], "duration_ms": [100.0, 300.0],
    ...                    "init_duration_ms": [None, 700.0]})
    >>> request_latency(df).tolist()
    [120.0, 1000.0]
    """
    idx = requests.index
    lat = pd.to_numeric(requests[value], errors="coerce").astype("float64") if value in requests.columns else pd.Series(np.nan, index=idx)
    if value == "latency_ms" and "duration_ms" in requests.columns:
        dur = pd.to_numeric(requests["duration_ms"], errors="coerce").astype("float64")
        init = (
            pd.to_numeric(requests["init_duration_ms"], errors="coerce").astype("float64").fillna(0.0)
            if "init_duration_ms" in requests.columns
            else 0.0
        )
        lat = lat.fillna(dur + init)
    return lat


def cold_starts(requests: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per request: (is a cold start, whether that is known).

    ``cold_start`` is used where present, else an ``init_duration_ms`` value marks a cold
    start. A request is "known" when either column says something about it; a frame
    of Lambda REPORT-joined requests is known everywhere (a REPORT without Init Duration is warm).

    Example
    -------
    >>> df = pd.DataFrame({"cold_start": pd.array([True, None, None], dtype="boolean"),
    ...                    "init_duration_ms": [850.0, 400.0, None]})
    >>> [s.tolist() for s in cold_starts(df)]
    [[True, True, False], [True, True, False]]
    """
    idx = requests.index
    said, cold_said = _said_cold(requests)
    init = (
        pd.to_numeric(requests["init_duration_ms"], errors="coerce")
        if "init_duration_ms" in requests.columns
        else pd.Series(np.nan, index=idx)
    )
    known = said | init.notna()
    # A frame where some rows carry REPORT data (duration) and no init: those are warm.
    if "duration_ms" in requests.columns:
        known |= pd.to_numeric(requests["duration_ms"], errors="coerce").notna() & (
            said.any() or init.notna().any()
        )
    cold = cold_said | init.gt(0).fillna(False).astype(bool)
    return cold.astype(bool), known.astype(bool)


def _said_cold(requests: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per request: whether its ``cold_start`` column says anything, and whether it says cold.

    A boolean column (the parsed and request frames' ``boolean``) is read as it is; any other
    (text, objects) through :func:`flag`, one value at a time.
    """
    if "cold_start" not in requests.columns:
        return pd.Series(False, index=requests.index), pd.Series(False, index=requests.index)
    col = requests["cold_start"]
    if pd.api.types.is_bool_dtype(col.dtype):  # no Python object a row
        return col.notna(), col.fillna(False).astype(bool)
    cs = col.astype("object")
    return cs.notna(), flag(cs.where(cs.notna(), None), requests.index)
