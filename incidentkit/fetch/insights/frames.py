"""GetQueryResults rows as a typed DataFrame."""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import pandas as pd

from ... import schema

# Fields whose text must never be turned into numbers or times.
_TEXT_FIELDS = {"@message", "@logStream", "@log", "@ptr", "@requestId", "@xrayTraceId", "@type"}
_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$")
_INT_RE = r"-?(?:0|[1-9]\d{0,17})"
_FLOAT_RE = r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+(?:[eE][-+]?\d+)?|-?(?:0|[1-9]\d*)\.\d*"

# --- typed frames -------------------------------------------------------------------------------


def _to_utc(values: pd.Series) -> pd.Series:
    s = values.astype("string")
    if s.dropna().str.fullmatch(r"\d{13}").all():  # epoch milliseconds (moto, toMillis(...))
        num = pd.to_numeric(s, errors="coerce")
        return pd.to_datetime(num, unit="ms", utc=True).astype(schema.UTC_NS)
    try:
        out = pd.to_datetime(s, format="%Y-%m-%d %H:%M:%S.%f", utc=True)
    except (ValueError, TypeError):
        out = pd.to_datetime(s, utc=True, format="mixed")
    return out.astype(schema.UTC_NS)


def _typed(name: str, values: list[Any]) -> pd.Series:
    s = pd.Series(values, dtype="string")
    if name in _TEXT_FIELDS:
        return s
    present = s.dropna()
    if present.empty:
        return s
    if name in ("@timestamp", "@ingestionTime") or name.lower().startswith(("bin(", "datefloor(", "dateceil(")):
        return _to_utc(s)
    if present.str.fullmatch(_INT_RE).all():
        as_int = pd.to_numeric(s, errors="coerce")
        return as_int.astype("Int64")
    if present.str.fullmatch(_FLOAT_RE).all():
        return pd.to_numeric(s, errors="coerce").astype("float64")
    if present.str.fullmatch(_TS_RE.pattern).all():
        return _to_utc(s)
    return s


def results_frame(
    results: Sequence[Sequence[Mapping[str, str]]],
    *,
    keep_ptr: bool = False,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Turn GetQueryResults ``results`` into a typed DataFrame.

    Parameters
    ----------
    results:
        Rows as AWS returns them: each a list of ``{"field": ..., "value": ...}``; fields
        absent from a row become NA.
    keep_ptr:
        Keep ``@ptr`` (the opaque record pointer); dropped by default.
    columns:
        Columns the frame must have even when no row carries them (added as NA, first).

    Returns
    -------
    pandas.DataFrame
        ``@timestamp``, ``@ingestionTime``, ``bin(...)`` and timestamp-shaped text as
        ``datetime64[ns, UTC]`` (Logs Insights reports UTC without a zone); integers as
        ``Int64``; decimals as ``float64``; the rest as ``string``. ``@message``,
        ``@logStream``, ``@log`` and ids stay text; zero-padded numbers stay text.

    Example
    -------
    >>> rows = [[{"field": "@timestamp", "value": "2024-05-19 06:10:35.743"},
    ...          {"field": "latency", "value": "12.5"}, {"field": "@ptr", "value": "Cl..."}]]
    >>> df = results_frame(rows)
    >>> list(df.columns), str(df["@timestamp"].dtype), str(df["latency"].dtype)
    (['@timestamp', 'latency'], 'datetime64[ns, UTC]', 'float64')
    """
    n = len(results)
    cols: dict[str, list[Any]] = {}
    for name in columns or ():
        cols.setdefault(name, [None] * n)
    for i, row in enumerate(results):
        for cell in row:
            name = cell.get("field")
            if name is None:
                continue
            col = cols.get(name)
            if col is None:
                col = cols[name] = [None] * n
            col[i] = cell.get("value")
    if not keep_ptr:
        cols.pop("@ptr", None)
    return pd.DataFrame({name: _typed(name, vals) for name, vals in cols.items()}, index=pd.RangeIndex(n))
