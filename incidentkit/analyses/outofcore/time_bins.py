"""Time on the Parquet side: windows as row filters, time as epoch nanoseconds, and the bins of a time series.

Bins count from the window's start (else from the epoch, as ``Series.dt.floor``); a bin is
``(t - origin) // width``, turned back into its start time after the aggregate.

Example
-------
>>> _bounds(("2026-03-01T03:00", "2026-03-01T04:00"))[0]
Timestamp('2026-03-01 03:00:00+0000', tz='UTC')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...errors import ParameterError
from .._common import UTC_NS, auto_bin, to_timedelta
from .scan import _aggregate, _pa

__all__: list[str] = []


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")


def _bounds(window: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``(start, end)`` of a Window or a pair (naive times are UTC)."""
    if window is None:
        return None, None
    if hasattr(window, "start") and hasattr(window, "end"):
        return _utc(window.start), _utc(window.end)
    start, end = window
    return _utc(start), _utc(end)


def _time_ns(schema: Any, time: str) -> Any:
    """An expression giving ``time`` as int64 nanoseconds since the epoch (UTC)."""
    pa, pc, _ = _pa()
    typ = schema.field(time).type
    if pa.types.is_timestamp(typ):
        factor = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}[typ.unit]
        expr = pc.field(time).cast(pa.timestamp(typ.unit)).cast(pa.int64())
        return pc.multiply(expr, pa.scalar(factor, pa.int64())) if factor != 1 else expr
    if pa.types.is_integer(typ):  # epoch milliseconds, as the in-memory analyses read numbers
        return pc.multiply(pc.field(time).cast(pa.int64()), pa.scalar(1_000_000, pa.int64()))
    raise ParameterError(
        f"column {time!r} is {typ}; out-of-core analyses need a timestamp column (or epoch milliseconds)",
        column=time,
    )


def _in_window(schema: Any, time: str, start: pd.Timestamp | None, end: pd.Timestamp | None) -> Any:
    """``start <= time < end`` on the column's own type, so Parquet statistics can skip row groups."""
    pa, pc, _ = _pa()
    if start is None:
        return None
    typ = schema.field(time).type
    if pa.types.is_timestamp(typ):
        lo, hi = pa.scalar(start, type=pa.timestamp("ns", "UTC")), pa.scalar(end, type=pa.timestamp("ns", "UTC"))
        if typ.tz is None:
            lo, hi = lo.cast(pa.timestamp("ns")), hi.cast(pa.timestamp("ns"))
        col = pc.field(time) if typ.unit == "ns" else pc.field(time).cast(pa.timestamp("ns", typ.tz))
        return pc.and_kleene(pc.greater_equal(col, lo), pc.less(col, hi))
    t_ns = _time_ns(schema, time)
    return pc.and_kleene(
        pc.greater_equal(t_ns, pa.scalar(int(start.value), pa.int64())),
        pc.less(t_ns, pa.scalar(int(end.value), pa.int64())),  # type: ignore[union-attr]
    )


def _observed_span(ds_: Any, t_ns: Any, keep: Any) -> tuple[int | None, int | None]:
    """Min and max of the time (ns) over the kept rows: one streamed pass over the columns it needs."""
    table = _aggregate(ds_, {"_t": t_ns}, keep, [("_t", "min_max", None, "mm")], [])
    mm = table.column("mm")[0].as_py() if table.num_rows else None
    return (mm["min"], mm["max"]) if mm and mm["min"] is not None else (None, None)


def _width(by: Any, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.Timedelta:
    try:
        return to_timedelta(by) if by is not None else auto_bin(start, end)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ParameterError(str(exc)) from None


def _full_range(observed: pd.Series, width: pd.Timedelta, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DatetimeIndex:
    if start is not None:
        last = start + ((end - pd.Timedelta(1) - start) // width) * width  # type: ignore[operator]
        return pd.date_range(start, last, freq=width, tz="UTC") if last >= start else pd.DatetimeIndex([], tz="UTC")
    if observed.empty:
        return pd.DatetimeIndex([], tz="UTC")
    return pd.date_range(observed.min(), observed.max(), freq=width)


def _bin_expr(t_ns: Any, origin_ns: int, width_ns: int) -> Any:
    pa, pc, _ = _pa()
    shifted = pc.subtract(t_ns, pa.scalar(origin_ns, pa.int64())) if origin_ns else t_ns
    return pc.divide(shifted, pa.scalar(width_ns, pa.int64()))  # integer division; times are >= origin


def _bin_times(idx: np.ndarray, origin_ns: int, width_ns: int) -> pd.Series:
    return pd.Series(pd.to_datetime(idx.astype("int64") * width_ns + origin_ns, unit="ns", utc=True)).astype(UTC_NS)


def _origin(start: pd.Timestamp | None, t_min: int | None, width: pd.Timedelta) -> int:
    """Bins count from the window's start, else from the epoch (as ``Series.dt.floor``)."""
    if start is not None:
        return int(start.value)
    if t_min is not None and t_min < 0:  # before 1970: shift the origin to keep integer division a floor
        w = int(width.value)
        return (t_min // w) * w
    return 0
