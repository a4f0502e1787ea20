"""Server-side analyses for windows too big to pull: latency percentiles and error rates computed by Logs Insights."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ... import schema
from ...errors import (
    ParameterError,
)
from ...window import Window, parse_time
from ...window import as_window as _as_window
from .._common import _ceil_ms, _window_ms
from .query_shape import _BIN_UNITS_MS, DEFAULT_LIMIT, _sanitize, _Shape
from .scheduler import _insights

#: Frame of :func:`insights_latency_split` with the default quantiles (``cold_start`` follows
#: ``timestamp`` when split by it) — the frame of ``incidentkit.analyses.latency.percentiles``.
LATENCY_COLUMNS = ("timestamp", "count", "p50", "p90", "p99", "max")
#: Frame of :func:`insights_error_rates` — the frame of ``incidentkit.analyses.errors.error_rate``.
ERROR_RATE_COLUMNS = (
    "timestamp", "requests", "n_2xx", "n_3xx", "n_4xx", "n_5xx", "n_other",
    "rate_2xx", "rate_3xx", "rate_4xx", "rate_5xx", "error_rate",
)  # fmt: skip

# --- server-side analyses ---------------------------------------------------------------------------
#
# For windows too big to pull: the same frames as incidentkit.analyses.latency.percentiles and
# incidentkit.analyses.errors.error_rate, computed by Logs Insights. Bins start at the window
# start, like the local analyses' (Logs Insights' own bin() counts from the epoch, so it is used
# only when the window start falls on a bin boundary; otherwise the bin index is computed as
# floor((toMillis(@timestamp) - start) / width)). Either way every bin depends only on its own
# events, so the window splits exactly on bin boundaries when a result reaches the row limit.


def _width(bin: Any) -> tuple[str, int]:
    """A bin width as Logs Insights text and milliseconds (``1m``, ``30s``, ``5min``, ``1h``, a Timedelta)."""
    if isinstance(bin, pd.Timedelta) or (hasattr(bin, "total_seconds") and not isinstance(bin, str)):
        ms = pd.Timedelta(bin) // pd.Timedelta(milliseconds=1)
    else:
        m = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]+)\s*", str(bin))
        unit = m.group(2).lower() if m else ""
        ms = int(m.group(1)) * _BIN_UNITS_MS[unit] if m and unit in _BIN_UNITS_MS else 0
    if ms < 1 or pd.Timedelta(milliseconds=ms) > pd.Timedelta(days=7):
        raise ParameterError(
            f"bin={bin!r} is not a time bin: use a whole number and ms, s, m (min), h or d, e.g. '1m', '30s', '1h'"
        )
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)):
        if ms % size == 0:
            return f"{ms // size}{unit}", int(ms)
    raise AssertionError("unreachable")  # pragma: no cover


_IDENT = re.compile(r"^[@A-Za-z_][\w.@$\-]*$")


def _expr(value: str | Sequence[str], what: str) -> str:
    """A field, a list of alias fields (→ ``coalesce(...)``) or a raw expression."""
    if isinstance(value, str):
        text = value.strip()
        if not text or "|" in _sanitize(text):
            raise ParameterError(f"{what}={value!r} is not a field or an expression")
        return text
    names = [str(v).strip() for v in value]
    if not names or not all(_IDENT.match(n) for n in names):
        raise ParameterError(f"{what}={value!r}: give a field name or a list of field names")
    return names[0] if len(names) == 1 else f"coalesce({', '.join(names)})"


def _qname(q: float) -> str:
    """0.5 → ``p50``, 0.999 → ``p99.9`` (the local analyses' names)."""
    qf = float(q)
    if not 0.0 < qf < 1.0:
        raise ParameterError(f"quantile {q!r} must be between 0 and 1 (e.g. 0.99 for P99)")
    return f"p{qf * 100:.10g}"


def _alias(name: str) -> str:
    return name.replace(".", "_")


def _origin_ms(origin: Any) -> int:
    if origin is None:
        return 0
    if isinstance(origin, (int, np.integer)) and not isinstance(origin, bool):
        return int(origin)
    return _ceil_ms(parse_time(origin, name="origin"))


def _binning(bin: Any, origin: Any) -> tuple[str | None, str, int, int]:
    """(extra ``fields`` term or None, the ``by`` term, width ms, origin ms)."""
    text, ms = _width(bin)
    start = _origin_ms(origin)
    if start % ms == 0:
        return None, f"bin({text})", ms, start
    return f"floor((toMillis(@timestamp) - {start}) / {ms}) as ik_bin", "ik_bin", ms, start


#: Lambda REPORT latency: what the caller waited, init included on a cold start.
LAMBDA_LATENCY_EXPR = "@duration + coalesce(@initDuration, 0)"
#: Field names tried, in order, for the latency of a JSON access / app log line (milliseconds).
JSON_LATENCY_FIELDS = ("responseLatency", "latency_ms", "latencyMs", "durationMs", "duration_ms", "latency")
#: Field names tried, in order, for the HTTP status of a JSON access / app log line.
JSON_STATUS_FIELDS = ("status", "statusCode", "status_code", "httpStatus", "elb_status_code")


def latency_query(
    *,
    bin: Any = "1m",
    origin: Any = None,
    source: str = "lambda",
    latency_field: str | Sequence[str] | None = None,
    cold_start_expr: str | None = None,
    filter: str | None = None,
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
) -> str:
    """The Logs Insights query :func:`insights_latency_split` runs (see there).

    ``origin`` (a time, or epoch ms): bins start there; ``None`` or a time on a bin
    boundary uses Logs Insights' ``bin()``.

    Example
    -------
    >>> print(latency_query(bin="5m"))
    filter @type = "REPORT"
    | fields @duration + coalesce(@initDuration, 0) as ik_latency
    | stats count(*) as count, pct(ik_latency, 50) as p50, pct(ik_latency, 90) as p90, pct(ik_latency, 99) as p99, max(ik_latency) as max by bin(5m)
    """
    extra, by, _, _ = _binning(bin, origin)
    if source not in ("lambda", "json"):
        raise ParameterError(f"source={source!r}: use 'lambda' (REPORT lines) or 'json' (access / app logs)")
    if source == "lambda":
        expr = _expr(latency_field, "latency_field") if latency_field is not None else LAMBDA_LATENCY_EXPR
        lines = ['filter @type = "REPORT"']
    else:
        expr = _expr(latency_field if latency_field is not None else JSON_LATENCY_FIELDS, "latency_field")
        lines = []
    if filter:
        lines.append(f"filter {_expr(filter, 'filter')}")
    terms = [f"{expr} as ik_latency"]
    if cold_start_expr:
        terms.append(f"{_expr(cold_start_expr, 'cold_start_expr')} as ik_cold")
    if extra:
        terms.append(extra)
    lines.append(f"fields {', '.join(terms)}")
    if source == "json":
        lines.append("filter ispresent(ik_latency)")
    pcts = [f"pct(ik_latency, {float(q) * 100:.10g}) as {_alias(_qname(q))}" for q in quantiles]
    if not pcts:
        raise ParameterError("quantiles is empty: give at least one, e.g. (0.5, 0.9, 0.99)")
    group = f"{by}, ik_cold" if cold_start_expr else by
    lines.append(f"stats count(*) as count, {', '.join(pcts)}, max(ik_latency) as max by {group}")
    return "\n| ".join(lines)


def error_rate_query(
    *, bin: Any = "1m", origin: Any = None, status_field: str | Sequence[str] | None = None, filter: str | None = None
) -> str:
    """The Logs Insights query :func:`insights_error_rates` runs (see there).

    Requests are counted per bin and status class (``floor(status / 100)``); the kit pivots
    the classes into columns, so the query stays one additive ``stats ... by`` bin.

    Example
    -------
    >>> print(error_rate_query(status_field="status"))
    fields status as ik_status
    | filter ispresent(ik_status)
    | fields floor(ik_status / 100) as ik_class
    | stats count(*) as requests by bin(1m), ik_class
    """
    extra, by, _, _ = _binning(bin, origin)
    expr = _expr(status_field if status_field is not None else JSON_STATUS_FIELDS, "status_field")
    lines = [f"filter {_expr(filter, 'filter')}"] if filter else []
    lines += [
        f"fields {expr} as ik_status",
        "filter ispresent(ik_status)",
        "fields floor(ik_status / 100) as ik_class" + (f", {extra}" if extra else ""),
        f"stats count(*) as requests by {by}, ik_class",
    ]
    return "\n| ".join(lines)


def _bin_times(raw: pd.DataFrame, bin_ms: int, origin_ms: int) -> pd.Series:
    """Bin starts (UTC) from a ``bin(...)`` column or from the ``ik_bin`` index."""
    for c in raw.columns:
        if c.lower().startswith("bin("):
            return raw[c].astype(schema.UTC_NS).reset_index(drop=True)
    if "ik_bin" in raw.columns:
        k = pd.to_numeric(raw["ik_bin"], errors="coerce").astype("float64")
        ms = origin_ms + k * bin_ms
        return pd.Series(pd.to_datetime(ms, unit="ms", utc=True)).astype(schema.UTC_NS).reset_index(drop=True)
    return pd.Series(pd.NaT, index=raw.index, dtype=schema.UTC_NS).reset_index(drop=True)


def _full_bins(start_ms: int, end_ms: int, bin_ms: int) -> pd.DatetimeIndex:
    """Every bin start of ``[start, end)`` (the local analyses show empty bins too)."""
    last = start_ms + ((end_ms - 1 - start_ms) // bin_ms) * bin_ms
    return pd.date_range(pd.Timestamp(start_ms, unit="ms", tz="UTC"), pd.Timestamp(last, unit="ms", tz="UTC"),
                         freq=pd.Timedelta(milliseconds=bin_ms)).astype(schema.UTC_NS)  # fmt: skip


def _as_bool(s: pd.Series) -> pd.Series:
    text = s.astype("string").str.strip().str.lower()
    mapped = text.map({"1": True, "true": True, "1.0": True, "0": False, "false": False, "0.0": False}, na_action="ignore")
    return mapped.astype("boolean")


def _num(raw: pd.DataFrame, col: str) -> pd.Series:
    if col not in raw.columns:
        return pd.Series(np.nan, index=range(len(raw)), dtype="float64")
    return pd.to_numeric(raw[col], errors="coerce").astype("float64").reset_index(drop=True)


def _server_side(query: str, log_groups: Any, win: Window, bin_ms: int, start_ms: int, **kw: Any) -> pd.DataFrame:
    shape = _Shape("binned", bin_ms=bin_ms, origin_ms=start_ms)
    return _insights(query, log_groups, win, shape=shape, stacklevel=4, **kw)


def insights_latency_split(
    log_groups: str | Iterable[str],
    window: Any,
    *,
    bin: Any = "1m",
    source: str = "lambda",
    latency_field: str | Sequence[str] | None = None,
    cold_start_expr: str | None = None,
    filter: str | None = None,
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    limit: int = DEFAULT_LIMIT,
    timeout: float = 900.0,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Count, P50/P90/P99 and max latency per time bin, computed server-side by Logs Insights.

    For windows too big to pull: the frame of ``analyses.latency.percentiles`` (bins from
    the window start, every bin present), from one ``stats count(*), pct(...), max(...)``
    query by bin. When a result reaches the row limit the window is split on bin
    boundaries, which is exact: each bin depends only on its own events.

    Parameters
    ----------
    log_groups, window:
        As for :func:`insights`.
    bin:
        Bin width: ``30s``, ``1m``, ``5min``, ``1h``, or a Timedelta.
    source:
        ``"lambda"``: Lambda ``REPORT`` lines (``filter @type = "REPORT"``), latency
        ``@duration + coalesce(@initDuration, 0)`` — what the caller waited, init included
        on cold starts (the parsers' ``latency_ms``). ``"json"``: JSON access / app logs,
        latency from the first present of :data:`JSON_LATENCY_FIELDS`.
    latency_field:
        A field or expression (milliseconds), or a list of alias fields.
    cold_start_expr:
        When given (e.g. ``"ispresent(@initDuration)"``) rows are also grouped by it and a
        boolean ``cold_start`` column follows ``timestamp`` (like ``groupby="cold_start"``
        locally; only bins with requests then appear).
    filter:
        An extra Logs Insights filter expression (e.g. ``'@log like /api/'``).
    quantiles:
        Fractions in (0, 1); columns ``p50``, ``p90``, ``p99``, ``p99.9``...
    **options:
        Passed to :func:`insights` (``poll``, ``max_split_depth``, ``max_queries``...).

    Returns
    -------
    pandas.DataFrame
        ``timestamp`` (bin start, UTC) [, ``cold_start``], ``count`` (int64), the quantile
        columns and ``max`` (float64, ms). ``attrs["bin"]`` is the width (as locally) and
        the provenance of the query. Logs Insights' ``pct`` is its own estimate, so values
        may differ slightly from pandas quantiles of the same events. With more than 50
        log groups the batches are merged: ``count`` adds up, ``max`` is the maximum, the
        quantiles are count-weighted means of the batches' (``attrs["approximate"]``).

    Example
    -------
    >>> lat = insights_latency_split("/aws/lambda/api", ("-24h", "now"), bin="5m")  # doctest: +SKIP
    >>> lat.columns.tolist()                                                        # doctest: +SKIP
    ['timestamp', 'count', 'p50', 'p90', 'p99', 'max']
    """
    win = _as_window(window)
    start_ms, end_ms = _window_ms(win)
    _, _, bin_ms, _ = _binning(bin, start_ms)
    query = latency_query(bin=bin, origin=start_ms, source=source, latency_field=latency_field,
                          cold_start_expr=cold_start_expr, filter=filter, quantiles=quantiles)  # fmt: skip
    raw = _server_side(query, log_groups, win, bin_ms, start_ms, limit=limit, timeout=timeout, session=session,
                       region=region, endpoint_url=endpoint_url, max_attempts=max_attempts, **options)  # fmt: skip
    attrs = dict(raw.attrs)
    names = [_qname(q) for q in quantiles]
    split = bool(cold_start_expr)
    keys = ["timestamp", "cold_start"] if split else ["timestamp"]
    frame = pd.DataFrame({"timestamp": _bin_times(raw, bin_ms, start_ms)})
    if split:
        frame["cold_start"] = _as_bool(raw["ik_cold"]).reset_index(drop=True) if "ik_cold" in raw else pd.Series(pd.NA, index=frame.index, dtype="boolean")
    frame["count"] = _num(raw, "count")
    for n in names:
        frame[n] = _num(raw, _alias(n))
    frame["max"] = _num(raw, "max")
    approximate = False
    if "log_groups_batch" in raw.columns and raw["log_groups_batch"].nunique() > 1:
        approximate = True
        frame = _merge_batches(frame, keys, names)
        attrs["issues"] = _drop_batch_note(attrs) + [
            f"{attrs.get('batches')} batches of log groups merged: count and max are exact, "
            f"{', '.join(names)} are count-weighted means of the batches' (approximate)"
        ]
    elif "log_groups_batch" in raw.columns:
        attrs["issues"] = _drop_batch_note(attrs)
    if not split:
        frame = frame.dropna(subset=["timestamp"]).set_index("timestamp").reindex(_full_bins(start_ms, end_ms, bin_ms))
        frame.index.name = "timestamp"
        frame = frame.reset_index()
        frame["count"] = frame["count"].fillna(0)
    out = pd.DataFrame({"timestamp": frame["timestamp"].astype(schema.UTC_NS)})
    if split:
        out["cold_start"] = frame["cold_start"].astype("boolean")
    out["count"] = frame["count"].fillna(0).astype("int64")
    for c in [*names, "max"]:
        out[c] = frame[c].astype("float64")
    out = out.sort_values(keys, kind="stable", ignore_index=True)
    attrs.update(source="logs.insights_latency_split", bin=str(pd.Timedelta(milliseconds=bin_ms)),
                 approximate=approximate, quantiles=[float(q) for q in quantiles])  # fmt: skip
    out.attrs = attrs
    return out


def _drop_batch_note(attrs: Mapping[str, Any]) -> list[str]:
    return [i for i in attrs.get("issues", []) if "batches of up to" not in i]


def _merge_batches(frame: pd.DataFrame, keys: list[str], names: list[str]) -> pd.DataFrame:
    work = frame.copy()
    for c in names:
        work[f"_w_{c}"] = work[c] * work["count"]
    agg: dict[str, Any] = {"count": "sum", "max": "max", **{f"_w_{c}": "sum" for c in names}}
    merged = work.groupby(keys, dropna=False, sort=True).agg(agg).reset_index()
    for c in names:
        merged[c] = merged.pop(f"_w_{c}") / merged["count"].where(merged["count"] > 0)
    return merged[[*keys, "count", *names, "max"]]


def insights_error_rates(
    log_groups: str | Iterable[str],
    window: Any,
    *,
    bin: Any = "1m",
    status_field: str | Sequence[str] | None = None,
    filter: str | None = None,
    limit: int = DEFAULT_LIMIT,
    timeout: float = 900.0,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Requests, counts and rates by status class per time bin, computed server-side by Logs Insights.

    For JSON access logs (API Gateway, application logs) whose lines carry an HTTP status:
    the frame of ``analyses.errors.error_rate`` (bins from the window start, every bin
    present). The query counts lines by bin and status class and the kit pivots the
    classes, so every number is exact — across batches of more than 50 log groups and
    across split windows too.

    Parameters
    ----------
    log_groups, window:
        As for :func:`insights`.
    bin:
        Bin width: ``1m``, ``5min``, a Timedelta...
    status_field:
        The status field, or a list of alias fields tried in order (default
        :data:`JSON_STATUS_FIELDS`: ``status``, ``statusCode``, ``status_code``, ...).
    filter:
        An extra Logs Insights filter expression.
    **options:
        Passed to :func:`insights`.

    Returns
    -------
    pandas.DataFrame
        :data:`ERROR_RATE_COLUMNS`: ``timestamp`` (bin start, UTC), ``requests``,
        ``n_2xx`` ... ``n_5xx``, ``n_other`` (1xx and unknown classes), ``rate_2xx`` ...
        ``rate_5xx`` and ``error_rate`` = (4xx + 5xx) / requests (all float64, rates NaN
        where a bin has no request). Unlike the local analysis, which counts a request
        without a status as ``other``, a log line without a status is not a request here
        and is not counted.

    Example
    -------
    >>> er = insights_error_rates("/aws/apigateway/access", ("-6h", "now"))  # doctest: +SKIP
    >>> er[["requests", "n_5xx", "error_rate"]].max().tolist()                # doctest: +SKIP
    [1830.0, 412.0, 0.23]
    """
    win = _as_window(window)
    start_ms, end_ms = _window_ms(win)
    _, _, bin_ms, _ = _binning(bin, start_ms)
    query = error_rate_query(bin=bin, origin=start_ms, status_field=status_field, filter=filter)
    raw = _server_side(query, log_groups, win, bin_ms, start_ms, limit=limit, timeout=timeout, session=session,
                       region=region, endpoint_url=endpoint_url, max_attempts=max_attempts, **options)  # fmt: skip
    attrs = dict(raw.attrs)
    attrs["issues"] = _drop_batch_note(attrs)  # counts of every batch add up exactly
    classes = ["2xx", "3xx", "4xx", "5xx"]
    n_cols = [f"n_{c}" for c in classes] + ["n_other"]
    work = pd.DataFrame({"timestamp": _bin_times(raw, bin_ms, start_ms), "cls": _num(raw, "ik_class"), "n": _num(raw, "requests").fillna(0)})
    label = pd.Series("n_other", index=work.index, dtype="object")
    for k, c in zip((2, 3, 4, 5), classes):
        label[work["cls"] == k] = f"n_{c}"
    work["col"] = label
    work = work.dropna(subset=["timestamp"])
    counts = work.pivot_table(index="timestamp", columns="col", values="n", aggfunc="sum", fill_value=0.0) if len(work) else pd.DataFrame()
    counts = counts.reindex(index=_full_bins(start_ms, end_ms, bin_ms), columns=n_cols, fill_value=0.0).astype("float64")
    counts.index.name = "timestamp"
    out = counts.reset_index()
    out["timestamp"] = out["timestamp"].astype(schema.UTC_NS)
    out["requests"] = out[n_cols].sum(axis=1).astype("float64")
    has = out["requests"] > 0
    for c in classes:
        out[f"rate_{c}"] = (out[f"n_{c}"] / out["requests"]).where(has)
    out["error_rate"] = ((out["n_4xx"] + out["n_5xx"]) / out["requests"]).where(has)
    out = out[list(ERROR_RATE_COLUMNS)].astype({c: "float64" for c in ERROR_RATE_COLUMNS if c != "timestamp"})
    out.attrs = {**attrs, "source": "logs.insights_error_rates", "bin": str(pd.Timedelta(milliseconds=bin_ms))}
    return out
