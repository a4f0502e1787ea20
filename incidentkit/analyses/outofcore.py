"""Analyses that need every row, over Parquet evidence larger than memory.

The in-memory analyses (:func:`incidentkit.analyses.latency.percentiles`,
:func:`incidentkit.analyses.errors.error_rate`, :func:`incidentkit.analyses.compare.compare`)
take a DataFrame. When a window holds tens of millions of events, the evidence bundle
holds them as Parquet and these functions compute **the same frames** from the files,
streaming record batches through pyarrow's Acero engine (``pyarrow.dataset`` scan →
filter → project → hash aggregate), never materialising the rows. Memory is bounded by
the scan's read-ahead plus one small state per output group; no dependency beyond
pyarrow.

=====================  ===========================================  ===========================
function               same frame as                                exactness
=====================  ===========================================  ===========================
:func:`percentiles`    ``analyses.latency.percentiles``             ``count``/``max`` exact;
                                                                    percentiles by t-digest
:func:`error_rate`     ``analyses.errors.error_rate``               exact (counts)
:func:`compare`        ``analyses.compare.compare``                 exact (counts, same tests)
=====================  ===========================================  ===========================

Percentiles are approximate: each (bin, group) keeps a t-digest (``pyarrow.compute``'s
``hash_tdigest``, ``delta`` centroids). The documented tolerance, checked by
tests/analyses/test_outofcore.py against the in-memory result on the same rows: a reported
percentile ``q`` lies between the exact percentiles at ``q - RANK_TOLERANCE`` and
``q + RANK_TOLERANCE`` of its bin (rank error, not value error: a tail percentile can
move by more in value where the tail is sparse). ``df.attrs["approximate"]`` says so.

Sources
-------
Every function takes ``source``: a Parquet file or folder, a list of files, a
``pyarrow.dataset.Dataset``, or an :class:`~incidentkit.evidence.EvidenceBundle` (its
frames of ``kind``, default ``"parsed"``, or the frames ``names``; each file's sha256 is
checked against the manifest first, as :meth:`EvidenceBundle.load` does). ``filter`` is
an optional ``pyarrow.compute`` expression selecting rows, e.g.
``pc.field("format") == "lambda_platform"``.

Example
-------
>>> import pandas as pd, tempfile, os
>>> from incidentkit.analyses import outofcore
>>> path = os.path.join(tempfile.mkdtemp(), "req.parquet")
>>> pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00:10Z", "2026-03-01T03:00:40Z",
...                                            "2026-03-01T03:02:05Z"]),
...               "latency_ms": [100.0, 300.0, 250.0], "status": [200, 503, 200]}).to_parquet(path)
>>> out = outofcore.percentiles(path, by="1min")
>>> out["count"].tolist(), out["max"].tolist()
([2, 0, 1], [300.0, nan, 250.0])
>>> outofcore.error_rate(path, by="1min")["n_5xx"].tolist()
[1.0, 0.0, 0.0]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd

from ._common import UTC_NS, auto_bin, to_timedelta
from .compare import EXCLUDED as _EXCLUDED
from .compare import empty_lift, score_counts, ua_family
from ..errors import EvidenceError, ParameterError

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow.dataset as ds

__all__ = ["dataset", "percentiles", "error_rate", "compare", "TDIGEST_DELTA", "RANK_TOLERANCE"]

#: t-digest compression used for percentiles (centroids kept per bin and group).
TDIGEST_DELTA = 200
#: Documented rank tolerance of the percentiles (see the module docstring).
RANK_TOLERANCE = 0.01

MISSING = "(missing)"
OTHER = "(other)"
_CLASSES = ("2xx", "3xx", "4xx", "5xx")
_TRUE_TEXT = ("true", "1", "yes", "y", "t")


# --------------------------------------------------------------------------- sources

@runtime_checkable
class FrameFiles(Protocol):
    """What :func:`dataset` reads of an evidence bundle (an :class:`incidentkit.evidence.EvidenceBundle` is one):
    its frames by name or kind, each file checked against the manifest."""

    path: Path

    def names(self) -> list[str]: ...

    def find(self, kind: str) -> list[str]: ...

    def checked_file(self, name: str, *, verify: bool = True) -> Path: ...


def dataset(
    source: Any,
    *,
    names: Sequence[str] | None = None,
    kind: str = "parsed",
    verify: bool = True,
) -> "ds.Dataset":
    """A ``pyarrow.dataset.Dataset`` over Parquet evidence.

    Parameters
    ----------
    source:
        A Parquet file or folder, a list of files, a ``pyarrow.dataset.Dataset`` (returned
        as is), or an :class:`~incidentkit.evidence.EvidenceBundle`.
    names, kind:
        With a bundle: the frames ``names``, else every frame of ``kind``.
    verify:
        With a bundle: check each file's sha256 against the manifest first.

    Raises
    ------
    EvidenceError
        A missing or changed file, a bundle without such frames, or files that cannot be
        read as one dataset.

    Example
    -------
    >>> import tempfile, pandas as pd
    >>> from incidentkit.evidence import EvidenceBundle
    >>> b = EvidenceBundle(tempfile.mkdtemp())
    >>> with b.writer("parsed-api", kind="parsed") as w:
    ...     w.write(pd.DataFrame({"latency_ms": [1.0, 2.0]}))
    >>> dataset(b).count_rows()
    2
    """
    import pyarrow.dataset as pads

    if isinstance(source, pads.Dataset):
        return source
    if isinstance(source, FrameFiles):
        wanted = list(names) if names is not None else source.find(kind)
        if not wanted:
            raise EvidenceError(
                f"the evidence bundle holds no {kind!r} frames; it holds: {', '.join(source.names()) or 'nothing'}. "
                "Pass names=[...] to choose frames",
                path=str(source.path),
            )
        source = [str(source.checked_file(name, verify=verify)) for name in wanted]
    if isinstance(source, (str, os.PathLike)):
        if not Path(source).exists():
            raise EvidenceError(f"no Parquet file or folder at {source}", path=str(source))
        source = str(source)
    elif isinstance(source, Iterable):
        source = [str(s) for s in source]
        for s in source:
            if not Path(s).exists():
                raise EvidenceError(f"no Parquet file at {s}", path=s)
    else:
        raise ParameterError(
            f"source must be a Parquet path, a list of paths, a pyarrow Dataset or an EvidenceBundle, got {type(source).__name__}"
        )
    try:
        return pads.dataset(source, format="parquet")
    except Exception as exc:  # pyarrow raises several types for unreadable files
        raise EvidenceError(f"cannot read the Parquet evidence as one dataset: {exc}", path=str(source)[:300]) from exc


# --------------------------------------------------------------------------- helpers


def _pa() -> tuple[Any, Any, Any]:
    import pyarrow as pa
    import pyarrow.acero as ac
    import pyarrow.compute as pc

    return pa, pc, ac


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


def _and(*exprs: Any) -> Any:
    _, pc, _ = _pa()
    out = None
    for e in exprs:
        if e is None:
            continue
        out = e if out is None else pc.and_kleene(out, e)
    return out


#: How each Parquet row group is scanned: rows a record batch holds and batches read ahead.
SCAN_OPTIONS: dict[str, int] = {"batch_size": 65_536, "batch_readahead": 2}


def _stream(ds_: Any, projection: dict[str, Any], filter: Any) -> Any:
    """A ``RecordBatchReader`` of ``projection`` over the rows ``filter`` keeps, read one Parquet
    row group at a time, only when the consumer asks for more.

    pyarrow's dataset scanner reads ahead without bound when its consumer is slower than the
    disk (observed: the whole file's columns for a Python consumer); going row group by row
    group from a lazy generator bounds memory to about one row group of the columns used.
    Row groups whose statistics exclude ``filter`` (e.g. outside a time window) are skipped.
    """
    pa, _, _ = _pa()
    schema = ds_.scanner(columns=projection).projected_schema

    def batches() -> Any:
        for fragment in ds_.get_fragments(filter=filter):
            parts = fragment.split_by_row_group(filter=filter) if hasattr(fragment, "split_by_row_group") else [fragment]
            for part in parts:
                scanner = part.scanner(schema=ds_.schema, columns=projection, filter=filter, use_threads=True, **SCAN_OPTIONS)
                for batch in scanner.to_batches():
                    if batch.num_rows:
                        yield batch

    return pa.RecordBatchReader.from_batches(schema, batches())


def _aggregate(ds_: Any, projection: dict[str, Any], filter: Any, aggregates: list[Any], keys: Sequence[str]) -> Any:
    """Stream ``ds_`` through a scanner (``filter`` pushed down, ``projection`` computed per batch)
    into an Acero hash aggregate; only the aggregate's state is held."""
    _, _, ac = _pa()
    source = ac.Declaration("record_batch_reader_source", ac.RecordBatchReaderSourceNodeOptions(_stream(ds_, projection, filter)))
    agg = ac.Declaration("aggregate", ac.AggregateNodeOptions(aggregates, keys=list(keys)))
    return ac.Declaration.from_sequence([source, agg]).to_table(use_threads=True)


def _pandas_dtypes(schema: Any, columns: Sequence[str]) -> dict[str, Any]:
    """The pandas dtypes the in-memory analyses would see for ``columns`` (``pd.read_parquet``)."""
    empty = schema.empty_table().select([c for c in columns if c in schema.names])
    try:
        frame = empty.to_pandas()
    except Exception:  # noqa: BLE001 - a metadata mismatch should not block the analysis
        frame = empty.replace_schema_metadata(None).to_pandas()
    return {c: frame[c].dtype for c in frame.columns}


def _cast_groups(frame: pd.DataFrame, dtypes: dict[str, Any], groups: Sequence[str]) -> pd.DataFrame:
    for g in groups:
        if g in dtypes and len(frame):
            try:
                frame[g] = frame[g].astype(dtypes[g])
            except (TypeError, ValueError):
                pass
    return frame


def _observed_span(ds_: Any, t_ns: Any, keep: Any) -> tuple[int | None, int | None]:
    """Min and max of the time (ns) over the kept rows: one streamed pass over the columns it needs."""
    table = _aggregate(ds_, {"_t": t_ns}, keep, [("_t", "min_max", None, "mm")], [])
    mm = table.column("mm")[0].as_py() if table.num_rows else None
    return (mm["min"], mm["max"]) if mm and mm["min"] is not None else (None, None)


def _qname(q: float) -> str:
    if not 0.0 < q < 1.0:
        raise ParameterError(f"quantile {q!r} must be between 0 and 1 (e.g. 0.99 for P99)")
    return f"p{q * 100:.10g}"


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


# --------------------------------------------------------------------------- percentiles


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


# --------------------------------------------------------------------------- error rate


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
    has_status = status in schema.names
    timed_out = timeouts_as_5xx and "timed_out" in schema.names
    t_min = t_max = None
    if start is None:
        t_min, t_max = _observed_span(d, t_ns, keep)
        if t_min is None:
            return empty
    width = _width(by, start if start is not None else pd.Timestamp(t_min, unit="ns", tz="UTC"),
                   end if end is not None else pd.Timestamp(t_max, unit="ns", tz="UTC"))  # fmt: skip
    origin = _origin(start, t_min, width)
    w_ns = int(width.value)

    # class code: 0..3 = 2xx..5xx, 4 = other (1xx, >= 600, none)
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
    projection = {"_bin": _bin_expr(t_ns, origin, w_ns), "_cls": cls.cast(pa.int8()), **{g: pc.field(g) for g in groups}}
    counts_t = _aggregate(d, projection, keep, [([], "hash_count_all", None, "n")], ["_bin", *groups, "_cls"])
    if counts_t.num_rows == 0:
        if groups or start is None:
            return empty
        counts = pd.DataFrame(0.0, index=pd.DatetimeIndex([], tz="UTC", name="timestamp"), columns=[*[f"n_{c}" for c in _CLASSES], "n_other"])
    else:
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
    if not groups:
        if start is not None:
            last = start + ((end - pd.Timedelta(1) - start) // width) * width  # type: ignore[operator]
            full = pd.date_range(start, last, freq=width)
        else:
            full = pd.date_range(counts.index.min(), counts.index.max(), freq=width)
        counts = counts.reindex(full, fill_value=0.0)
        counts.index.name = "timestamp"
    out = counts.reset_index()
    if not len(out):
        return empty
    n_cols = [f"n_{c}" for c in _CLASSES] + ["n_other"]
    out[n_cols] = out[n_cols].astype("float64")
    out["requests"] = out[n_cols].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        for c in _CLASSES:
            out[f"rate_{c}"] = np.where(out["requests"] > 0, out[f"n_{c}"] / out["requests"], np.nan)
        out["error_rate"] = np.where(out["requests"] > 0, (out["n_4xx"] + out["n_5xx"]) / out["requests"], np.nan)
    out["timestamp"] = pd.Series(out["timestamp"]).astype(UTC_NS)
    out = _cast_groups(out, _pandas_dtypes(schema, groups), groups)
    out = out[columns].sort_values(["timestamp", *groups], kind="stable").reset_index(drop=True)
    out.attrs.update(bin=str(width), approximate=False, rows=int(out["requests"].sum()))
    return out


# --------------------------------------------------------------------------- incident vs baseline


def _selection(spec: Any, schema: Any, time: str, what: str) -> Any:
    """A window / ``(start, end)`` pair / expression → a boolean expression (null → false)."""
    pa, pc, _ = _pa()
    if spec is None:
        return None
    if isinstance(spec, pc.Expression):
        return pc.coalesce(spec, pa.scalar(False))
    try:
        start, end = _bounds(spec)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{what} must be a Window, a (start, end) pair or a pyarrow.compute expression, got {spec!r}") from exc
    if time not in schema.names:
        raise ParameterError(f"{what} is a window but the evidence has no {time!r} column", column=time)
    return pc.coalesce(_in_window(schema, time, start, end), pa.scalar(False))


def _is_candidate(name: str, typ: Any, status: str) -> bool:
    pa, _, _ = _pa()
    if str(name).lower() in _EXCLUDED:
        return False
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        return False
    text = pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_dictionary(typ) or pa.types.is_boolean(typ)
    return text or name == status


def _label(value: Any, is_bool: bool) -> Any:
    if value is None:
        return MISSING
    if is_bool:
        return bool(value)
    return str(value)


_STATUS_CLASS_LABELS = ("1xx", "2xx", "3xx", "4xx", "5xx", "other", "(none)")


def _status_class_index(codes: np.ndarray) -> np.ndarray:
    """``analyses._common.status_class`` as indexes into :data:`_STATUS_CLASS_LABELS` (NaN → ``(none)``)."""
    with np.errstate(invalid="ignore"):
        k = np.floor(codes / 100.0)
        known = (codes >= 100) & (codes < 600)
    return np.where(np.isnan(codes), 6, np.where(known, k - 1, 5)).astype(np.int64)


def _text_as_dictionary(ds_: Any, columns: Sequence[str]) -> Any:
    """The same Parquet files, with these text columns read as dictionaries (as stored): no
    string is materialised, and value counting works on the dictionary indexes."""
    import pyarrow.dataset as pads

    if not columns or not isinstance(ds_, pads.FileSystemDataset) or not isinstance(ds_.format, pads.ParquetFileFormat):
        return ds_
    if getattr(ds_, "partitioning", None) is not None:  # keep the caller's partition columns
        return ds_
    fmt = pads.ParquetFileFormat(read_options=pads.ParquetReadOptions(dictionary_columns=list(columns)))
    return pads.dataset(ds_.files, filesystem=ds_.filesystem, format=fmt)


class _Counter:
    """Per-column label counts for the incident and the baseline, dropped past ``limit`` labels."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.inc: dict[Any, int] = {}
        self.base: dict[Any, int] = {}
        self.overflow = False

    def add(self, labels: Sequence[Any], inc_counts: np.ndarray, base_counts: np.ndarray) -> None:
        if self.overflow:
            return
        for lab, a, b in zip(labels, inc_counts, base_counts):
            if a:
                self.inc[lab] = self.inc.get(lab, 0) + int(a)
            if b:
                self.base[lab] = self.base.get(lab, 0) + int(b)
        distinct = len(set(self.inc) | set(self.base) - {MISSING})
        if distinct > self.limit:
            self.overflow = True
            self.inc, self.base = {}, {}


def compare(
    source: Any,
    incident: Any,
    baseline: Any = None,
    *,
    columns: Sequence[str] | None = None,
    max_values: int = 20,
    alpha: float = 0.05,
    status: str = "status",
    time: str = "timestamp",
    filter: Any = None,
    max_cardinality: int = 200,
    names: Sequence[str] | None = None,
    kind: str = "parsed",
) -> pd.DataFrame:
    """Each categorical value's share in the incident against the baseline, streamed from Parquet.

    The frame of :func:`incidentkit.analyses.compare.compare` (same columns, same shares,
    lift, Cohen's h, z-test and Benjamini-Hochberg q-values, same ranking) from one pass
    over the files, holding only the value counts.

    Parameters
    ----------
    source, names, kind:
        The Parquet evidence (see :func:`dataset`).
    incident:
        The incident rows: a :class:`~incidentkit.window.Window` or ``(start, end)`` on
        ``time``, or a ``pyarrow.compute`` expression (e.g. ``pc.field("status") >= 500``).
    baseline:
        The baseline rows, in the same forms; ``None`` compares with the rest of the rows.
    columns, max_values, alpha, status:
        As for :func:`incidentkit.analyses.compare.compare`. Automatic column choice uses
        the same rules (text, boolean and category columns and the status, not
        identifiers; high-cardinality columns left out), and adds the derived
        ``status_class`` and ``user_agent_family``.
    filter:
        A ``pyarrow.compute`` expression applied to both sides first.
    max_cardinality:
        A column is dropped once it shows more distinct values than this (its counts are
        not kept, so identifiers never fill memory).

    Returns
    -------
    pandas.DataFrame
        ``column, value, incident_count, incident_share, baseline_count, baseline_share,
        difference, lift, effect, z, p_value, q_value, significant``; ``attrs``:
        ``n_incident``, ``n_baseline``, ``baseline``, ``columns``, ``excluded``.

    Notes
    -----
    Values tied in frequency at the ``max_values`` cut are kept in label order (the
    in-memory version keeps pandas' ``value_counts`` order there).

    Example
    -------
    >>> top = compare("evidence/parsed-api.parquet", inv.window, inv.baseline).head(5)  # doctest: +SKIP
    """
    pa, pc, _ = _pa()
    empty = empty_lift()
    d = dataset(source, names=names, kind=kind)
    schema = d.schema
    inc_expr = _selection(incident, schema, time, "incident")
    if inc_expr is None:
        raise ParameterError("compare() needs the incident rows: a window or a pyarrow.compute expression")
    base_expr = _selection(baseline, schema, time, "baseline")
    kind_text = "baseline" if baseline is not None else "rest"
    if base_expr is None:
        base_expr = pc.invert(inc_expr)

    derived: list[str] = []
    if status in schema.names and "status_class" not in schema.names:
        derived.append("status_class")
    if "user_agent" in schema.names and "user_agent_family" not in schema.names:
        derived.append("user_agent_family")
    if columns is None:
        chosen = [n for n in schema.names if _is_candidate(n, schema.field(n).type, status)] + derived
        excluded: dict[str, str] = {n: "identifier or free text" for n in schema.names if str(n).lower() in _EXCLUDED}
        for n in schema.names:
            if n not in excluded and (pa.types.is_timestamp(schema.field(n).type) or pa.types.is_date(schema.field(n).type)):
                excluded[n] = "time"
    else:
        known = set(schema.names) | set(derived)
        chosen = [c for c in columns if c in known]
        excluded = {c: "not in the frames" for c in columns if c not in known}
    read = [c for c in chosen if c in schema.names]
    if "status_class" in chosen and "status_class" not in schema.names:
        read.append(status)
    if "user_agent_family" in chosen and "user_agent_family" not in schema.names:
        read.append("user_agent")
    read = list(dict.fromkeys(read))
    d = _text_as_dictionary(d, [c for c in read if pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type)])
    projection = {c: pc.field(c) for c in read}
    projection["_inc"] = inc_expr
    projection["_base"] = base_expr
    row_filter = _and(pc.or_kleene(inc_expr, base_expr), filter)
    reader = _stream(d, projection, row_filter)

    counters = {c: _Counter(max_cardinality) for c in chosen}
    is_bool = {c: (c in schema.names and pa.types.is_boolean(schema.field(c).type)) for c in chosen}
    ua_cache: dict[Any, str] = {}
    n1 = n2 = 0
    for batch in reader:
        inc = batch.column("_inc").to_numpy(zero_copy_only=False).astype(bool)
        base = batch.column("_base").to_numpy(zero_copy_only=False).astype(bool) & ~inc if baseline is None else \
            batch.column("_base").to_numpy(zero_copy_only=False).astype(bool)  # fmt: skip
        n1 += int(inc.sum())
        n2 += int(base.sum())
        for c in chosen:
            counter = counters[c]
            if counter.overflow:
                continue
            if c == "status_class" and c not in schema.names:
                idx = _status_class_index(np.asarray(_status_values(batch.column(status)), dtype="float64"))
                labels = list(_STATUS_CLASS_LABELS)
            else:
                arr = batch.column("user_agent" if c == "user_agent_family" and c not in schema.names else c)
                enc = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
                values = enc.dictionary.to_pylist()
                idx = enc.indices.fill_null(len(values)).to_numpy(zero_copy_only=False).astype(np.int64)
                if c == "user_agent_family" and c not in schema.names:
                    for v in values:
                        if v not in ua_cache:
                            ua_cache[v] = ua_family(v)
                    labels = [ua_cache[v] for v in values] + [ua_family(None)]
                else:
                    labels = [_label(v, is_bool[c]) for v in values] + [MISSING]
            k = len(labels)
            counter.add(labels, np.bincount(idx[inc], minlength=k), np.bincount(idx[base], minlength=k))

    empty.attrs.update({"n_incident": n1, "n_baseline": n2, "baseline": kind_text, "columns": [], "excluded": excluded})
    if n1 == 0 or n2 == 0:
        return empty
    final: list[str] = []
    n = n1 + n2
    for c in chosen:
        counter = counters[c]
        if counter.overflow:
            excluded[c] = f"more than {max_cardinality} distinct values (high cardinality)"
            continue
        if columns is not None:
            final.append(c)
            continue
        both = {lab: counter.inc.get(lab, 0) + counter.base.get(lab, 0) for lab in set(counter.inc) | set(counter.base)}
        k = len([lab for lab in both if lab != MISSING])
        if k == 0:
            excluded[c] = "always missing"
        elif k > max_cardinality or (k > 20 and k > 0.2 * n):
            excluded[c] = f"{k} distinct values (high cardinality)"
        elif k == 1 and MISSING not in both:
            excluded[c] = "a single value"
        else:
            final.append(c)
    if columns is None and "user_agent_family" in final and "user_agent" in final:
        final.remove("user_agent")
    position = {c: i for i, c in enumerate([*schema.names, *derived])}
    excluded = dict(sorted(excluded.items(), key=lambda kv: position.get(kv[0], len(position))))
    rows = []
    for c in final:
        ca, cb = dict(counters[c].inc), dict(counters[c].base)
        total: dict[Any, int] = {lab: ca.get(lab, 0) + cb.get(lab, 0) for lab in set(ca) | set(cb)}
        if len(total) > max_values:
            ranked = [MISSING] if MISSING in total else []
            ranked += [lab for lab, _ in sorted(((lab, v) for lab, v in total.items() if lab != MISSING),
                                                 key=lambda kv: (-kv[1], str(kv[0])))]  # fmt: skip
            keep = set(ranked[: max_values - 1])
            pooled_a: dict[Any, int] = {}
            pooled_b: dict[Any, int] = {}
            for src, dst in ((ca, pooled_a), (cb, pooled_b)):
                for lab, v in src.items():
                    key = lab if lab in keep else OTHER
                    dst[key] = dst.get(key, 0) + v
            ca, cb = pooled_a, pooled_b
        order = sorted(ca, key=lambda lab: (-ca[lab], str(lab))) + sorted((lab for lab in cb if lab not in ca), key=lambda lab: (-cb[lab], str(lab)))
        for v in order:
            rows.append({"column": c, "value": v, "incident_count": int(ca.get(v, 0)), "baseline_count": int(cb.get(v, 0))})
    if not rows:
        empty.attrs.update({"columns": final, "excluded": excluded})
        return empty
    out = score_counts(rows, n1, n2, alpha=alpha)
    out.attrs.update({"n_incident": n1, "n_baseline": n2, "baseline": kind_text, "columns": final, "excluded": excluded})
    return out


def _status_values(arr: Any) -> np.ndarray:
    """A status column (numbers or digit text) as float64 with NaN for missing."""
    pa, pc, _ = _pa()
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        text = pc.utf8_trim_whitespace(arr)
        arr = pc.if_else(pc.utf8_is_digit(text), text, pa.scalar(None, arr.type)).cast(pa.float64())
    return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
