"""Requests and error rates by status class per time bin, streamed from Parquet: ``analyses.errors.error_rate`` out of core.

Example
-------
>>> import pandas as pd, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "req.parquet")
>>> pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00:10Z", "2026-03-01T03:00:40Z"]),
...               "status": [200, 503]}).to_parquet(path)
>>> error_rate(path, by="1min")[["requests", "n_5xx", "error_rate"]].values.tolist()
[[2.0, 1.0, 0.5]]
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from ...errors import ParameterError
from .._common import UTC_NS
from ..errors import STATUS_CLASSES, with_rates
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

__all__ = ["error_rate"]

_CLASSES = STATUS_CLASSES
_TRUE_TEXT = ("true", "1", "yes", "y", "t")


def _status_code_expr(schema: Any, status: str) -> Any:
    """HTTP status as float64 (null when missing or not a number)."""
    pa, pc, _ = _pa()
    typ = schema.field(status).type
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        return pc.field(status).cast(pa.float64())
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        text = pc.utf8_trim_whitespace(pc.field(status))
        return pc.if_else(pc.utf8_is_digit(text), text, pa.scalar(None, typ)).cast(pa.float64())
    raise ParameterError(f"column {status!r} is {typ}; an HTTP status must be numbers (or digits as text)", column=status)


def _flag_expr(schema: Any, column: str) -> Any:
    """A boolean-ish column as plain true/false (NA false), like ``analyses._common.flag``."""
    pa, pc, _ = _pa()
    typ = schema.field(column).type
    if pa.types.is_boolean(typ):
        return pc.coalesce(pc.field(column), pa.scalar(False))
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        text = pc.utf8_lower(pc.utf8_trim_whitespace(pc.field(column)))
        return pc.coalesce(pc.is_in(text, value_set=pa.array(list(_TRUE_TEXT))), pa.scalar(False))
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        return pc.coalesce(pc.not_equal(pc.field(column).cast(pa.float64()), pa.scalar(0.0)), pa.scalar(False))
    return pa.scalar(False)


def error_rate(
    source: Any,
    *,
    by: str | pd.Timedelta | int | None = None,
    status: str = "status",
    time: str = "timestamp",
    groupby: str | Sequence[str] | None = None,
    window: Any = None,
    timeouts_as_5xx: bool = True,
    filter: Any = None,
    names: Sequence[str] | None = None,
    kind: str = "parsed",
) -> pd.DataFrame:
    """Requests, counts by status class, and rates per time bin, streamed from Parquet (exact).

    The frame of :func:`incidentkit.analyses.errors.error_rate` on the same rows:
    ``timestamp``, the group columns, ``requests, n_2xx, n_3xx, n_4xx, n_5xx, n_other,
    rate_2xx, rate_3xx, rate_4xx, rate_5xx, error_rate``. Every row is a request (a row
    without a status counts in ``n_other``, or as 5xx when ``timed_out``): pass
    ``filter`` to keep request rows only, e.g. ``pc.field("status").is_valid()``.

    Example
    -------
    >>> er = error_rate("evidence/parsed-api.parquet", window=inv.window,        # doctest: +SKIP
    ...                 filter=pc.field("status").is_valid())
    """
    pa, pc, _ = _pa()
    groups = [groupby] if isinstance(groupby, str) else list(groupby or [])
    columns = ["timestamp", *groups, "requests", *[f"n_{c}" for c in _CLASSES], "n_other",
               *[f"rate_{c}" for c in _CLASSES], "error_rate"]  # fmt: skip
    empty = pd.DataFrame(
        {c: pd.Series([], dtype=UTC_NS if c == "timestamp" else ("object" if c in groups else "float64")) for c in columns}
    )
    d = dataset(source, names=names, kind=kind)
    schema = d.schema
    if time not in schema.names or any(g not in schema.names for g in groups):
        return empty
    t_ns = _time_ns(schema, time)
    start, end = _bounds(window)
    keep = _and(pc.is_valid(pc.field(time)), _in_window(schema, time, start, end), filter)
    t_min = t_max = None
    if start is None:
        t_min, t_max = _observed_span(d, t_ns, keep)
        if t_min is None:
            return empty
    width = _width(by, start if start is not None else pd.Timestamp(t_min, unit="ns", tz="UTC"),
                   end if end is not None else pd.Timestamp(t_max, unit="ns", tz="UTC"))  # fmt: skip
    origin = _origin(start, t_min, width)
    w_ns = int(width.value)

    cls = _class_expr(schema, status, timeouts_as_5xx)
    projection = {"_bin": _bin_expr(t_ns, origin, w_ns), "_cls": cls.cast(pa.int8()), **{g: pc.field(g) for g in groups}}
    counts_t = _aggregate(d, projection, keep, [([], "hash_count_all", None, "n")], ["_bin", *groups, "_cls"])
    if counts_t.num_rows == 0 and (groups or start is None):
        return empty
    counts = _class_counts(counts_t, groups, origin, w_ns)
    if not groups:
        counts = _every_bin(counts, width, start, end)
    out = counts.reset_index()
    if not len(out):
        return empty
    out = with_rates(out)
    out["timestamp"] = pd.Series(out["timestamp"]).astype(UTC_NS)
    out = _cast_groups(out, _pandas_dtypes(schema, groups), groups)
    out = out[columns].sort_values(["timestamp", *groups], kind="stable").reset_index(drop=True)
    out.attrs.update(bin=str(width), approximate=False, rows=int(out["requests"].sum()))
    return out


def _class_expr(schema: Any, status: str, timeouts_as_5xx: bool) -> Any:
    """Each row's status class as a code: 0..3 = 2xx..5xx, 4 = other (1xx, >= 600, none); a timeout without a status is 5xx."""
    pa, pc, _ = _pa()
    has_status = status in schema.names
    timed_out = timeouts_as_5xx and "timed_out" in schema.names
    if has_status:
        code = _status_code_expr(schema, status)
        k = pc.floor(pc.divide(code, pa.scalar(100.0)))
        known = pc.and_kleene(pc.greater_equal(k, pa.scalar(2.0)), pc.less_equal(k, pa.scalar(5.0)))
        cls = pc.if_else(pc.coalesce(known, pa.scalar(False)), pc.subtract(k, pa.scalar(2.0)), pa.scalar(4.0))
        if timed_out:
            cls = pc.if_else(pc.and_kleene(pc.is_null(code), _flag_expr(schema, "timed_out")), pa.scalar(3.0), cls)
    elif timed_out:
        cls = pc.if_else(_flag_expr(schema, "timed_out"), pa.scalar(3.0), pa.scalar(4.0))
    else:
        cls = pc.scalar(4.0)
    return cls


def _class_counts(counts_t: Any, groups: Sequence[str], origin: int, w_ns: int) -> pd.DataFrame:
    """The aggregate's (bin, groups, class) counts as one row per bin and group, one ``n_*`` column per class."""
    if counts_t.num_rows == 0:
        return pd.DataFrame(0.0, index=pd.DatetimeIndex([], tz="UTC", name="timestamp"), columns=[*[f"n_{c}" for c in _CLASSES], "n_other"])
    long = pd.DataFrame(
        {
            "timestamp": _bin_times(counts_t.column("_bin").to_numpy(), origin, w_ns),
            **{g: counts_t.column(g).to_pandas() for g in groups},
            "_cls": counts_t.column("_cls").to_numpy(zero_copy_only=False).astype(int),
            "n": counts_t.column("n").to_numpy().astype("float64"),
        }
    )
    if groups:  # pandas.crosstab leaves out rows whose group value is missing
        long = long.dropna(subset=groups)
    counts = long.pivot_table(index=["timestamp", *groups], columns="_cls", values="n", aggfunc="sum", fill_value=0.0)
    counts = counts.reindex(columns=range(5), fill_value=0.0)
    counts.columns = [f"n_{c}" for c in _CLASSES] + ["n_other"]
    return counts


def _every_bin(counts: pd.DataFrame, width: pd.Timedelta, start: pd.Timestamp | None, end: pd.Timestamp | None) -> pd.DataFrame:
    """Ungrouped counts with every bin of the window (else of the observed range), empty bins 0."""
    counts = counts.reindex(_full_range(counts.index.to_series(), width, start, end), fill_value=0.0)
    counts.index.name = "timestamp"
    return counts

