"""Percentiles of a value per time bin (t-digest), streamed from Parquet: ``analyses.latency.percentiles`` out of core.

Example
-------
>>> import pandas as pd, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "req.parquet")
>>> pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00:10Z", "2026-03-01T03:00:40Z"]),
...               "latency_ms": [100.0, 300.0]}).to_parquet(path)
>>> percentiles(path, by="1min")[["count", "max"]].values.tolist()
[[2.0, 300.0]]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...errors import ParameterError
from .._common import UTC_NS
from .scan import _aggregate, _and, _cast_groups, _pa, _pandas_dtypes
from .sources import dataset
from .time_bins import (
    _bin_expr,
    _bin_times,
    _bounds,
    _full_range,
    _in_window,
    _observed_span,
    _origin,
    _time_ns,
    _width,
)

__all__ = ["percentiles", "TDIGEST_DELTA", "RANK_TOLERANCE"]

#: t-digest compression used for percentiles (centroids kept per bin and group).
TDIGEST_DELTA = 200
#: Documented rank tolerance of the percentiles (see the module docstring).
RANK_TOLERANCE = 0.01


def _qname(q: float) -> str:
    if not 0.0 < q < 1.0:
        raise ParameterError(f"quantile {q!r} must be between 0 and 1 (e.g. 0.99 for P99)")
    return f"p{q * 100:.10g}"


def percentiles(
    source: Any,
    value: str = "latency_ms",
    *,
    by: str | pd.Timedelta | int | None = None,
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    groupby: str | Sequence[str] | None = None,
    time: str = "timestamp",
    window: Any = None,
    filter: Any = None,
    delta: int = TDIGEST_DELTA,
    names: Sequence[str] | None = None,
    kind: str = "parsed",
) -> pd.DataFrame:
    """Count, percentiles and max of ``value`` per time bin, streamed from Parquet.

    The frame of :func:`incidentkit.analyses.latency.percentiles` on the same rows:
    ``timestamp`` (bin start, UTC), the group columns, ``count`` (int64), one column per
    quantile (``p50``, ``p90``, ``p99``...), ``max``; without ``groupby`` every bin of
    the range is present (``count`` 0, NaN elsewhere). For ``value="latency_ms"`` a
    missing value is filled with ``duration_ms + init_duration_ms`` when those columns
    exist (a Lambda REPORT line), as in memory.

    Parameters
    ----------
    source, names, kind:
        The Parquet evidence (see :func:`dataset`).
    value, by, quantiles, groupby, time, window:
        As for :func:`incidentkit.analyses.latency.percentiles`.
    filter:
        A ``pyarrow.compute`` expression selecting the rows to use.
    delta:
        t-digest compression (more centroids: more accurate, more memory per group).

    Returns
    -------
    pandas.DataFrame
        ``attrs``: ``bin``, ``approximate`` (True), ``method``, ``rows`` (rows used).

    Example
    -------
    >>> lat = percentiles("evidence/parsed-api.parquet", window=inv.window,      # doctest: +SKIP
    ...                   filter=pc.field("format") == "lambda_platform")
    """
    pa, pc, _ = _pa()
    groups = [groupby] if isinstance(groupby, str) else list(groupby or [])
    qs = [float(q) for q in quantiles]
    qnames = [_qname(q) for q in qs]
    columns = ["timestamp", *groups, "count", *qnames, "max"]
    if isinstance(delta, bool) or not isinstance(delta, int) or delta < 10:
        raise ParameterError(f"delta={delta!r} must be a whole number >= 10")
    d = dataset(source, names=names, kind=kind)
    schema = d.schema
    lat_fill = value == "latency_ms" and "duration_ms" in schema.names
    if time not in schema.names or any(g not in schema.names for g in groups) or (value not in schema.names and not lat_fill):
        return _empty_percentiles(columns)

    def num(col: str) -> Any:
        return pc.field(col).cast(pa.float64())

    v = num(value) if value in schema.names else None
    if lat_fill:
        init = pc.coalesce(num("init_duration_ms"), pa.scalar(0.0)) if "init_duration_ms" in schema.names else pa.scalar(0.0)
        fill = pc.add(num("duration_ms"), init)
        v = pc.coalesce(v, fill) if v is not None else fill
    t_ns = _time_ns(schema, time)
    start, end = _bounds(window)
    keep = _and(pc.is_valid(pc.field(time)), pc.is_valid(v), _in_window(schema, time, start, end), filter)
    t_min = t_max = None
    if start is None:
        t_min, t_max = _observed_span(d, t_ns, keep)
    if by is None and start is None and t_min is None:
        width = pd.Timedelta("1min")
    else:
        width = _width(by, start if start is not None else pd.Timestamp(t_min, unit="ns", tz="UTC") if t_min is not None else None,
                       end if end is not None else pd.Timestamp(t_max, unit="ns", tz="UTC") if t_max is not None else None)
    origin = _origin(start, t_min, width)
    w_ns = int(width.value)

    projection = {"_bin": _bin_expr(t_ns, origin, w_ns), "_v": v, **{g: pc.field(g) for g in groups}}
    opts = pc.TDigestOptions(q=qs, delta=delta, buffer_size=max(500, 5 * delta))
    aggregates = [
        ("_v", "hash_tdigest", opts, "_q"),
        ("_v", "hash_count", pc.CountOptions(mode="only_valid"), "count"),
        ("_v", "hash_max", None, "max"),
    ]
    table = _aggregate(d, projection, keep, aggregates, ["_bin", *groups])
    rows = int(pc.sum(table.column("count")).as_py() or 0) if table.num_rows else 0
    if table.num_rows:
        qarr = np.asarray(table.column("_q").combine_chunks().flatten().to_numpy(zero_copy_only=False), dtype="float64")
        qarr = qarr.reshape(table.num_rows, len(qs))
        grouped = pd.DataFrame({"timestamp": _bin_times(table.column("_bin").to_numpy(), origin, w_ns)})
        for g in groups:
            grouped[g] = table.column(g).to_pandas()
        grouped["count"] = table.column("count").to_numpy().astype("int64")
        for k, name in enumerate(qnames):
            grouped[name] = qarr[:, k]
        grouped["max"] = table.column("max").to_numpy(zero_copy_only=False).astype("float64")
    else:
        grouped = _empty_percentiles(columns)
    if not groups:
        full = _full_range(grouped["timestamp"], width, start, end)
        grouped = grouped.set_index("timestamp").reindex(full)
        grouped.index.name = "timestamp"
        grouped["count"] = grouped["count"].fillna(0)
        grouped = grouped.reset_index()
    out = grouped[columns].copy()
    out["timestamp"] = pd.Series(out["timestamp"]).astype(UTC_NS) if len(out) else pd.Series([], dtype=UTC_NS)
    out["count"] = out["count"].astype("int64")
    for c in [*qnames, "max"]:
        out[c] = out[c].astype("float64")
    out = _cast_groups(out, _pandas_dtypes(schema, groups), groups)
    out = out.sort_values(["timestamp", *groups], kind="stable").reset_index(drop=True)
    out.attrs.update(
        bin=str(width), approximate=True, method=f"t-digest (pyarrow hash_tdigest, delta={delta}); count and max exact", rows=rows
    )
    return out


def _empty_percentiles(columns: Sequence[str]) -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series([], dtype=UTC_NS if c == "timestamp" else "float64") for c in columns})
    out["count"] = out["count"].astype("int64")
    return out
