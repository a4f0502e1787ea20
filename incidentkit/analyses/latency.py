"""Latency: percentiles over time, who makes the tail, and the cold-start detectors.

Questions this module answers, each with a pure function on a requests frame
(``schema.REQUEST_COLUMNS``: ``timestamp``, ``latency_ms``, ``cold_start``, ...):

* :func:`percentiles` — count, P50/P90/P99 and max per time bin (and per group);
* :func:`tail_attribution` — which values (cold start, route, version...) the requests
  above the P99 carry, against their share of all requests (lift, z-test);
* :func:`percentiles_excluding` — the percentiles with and without cold starts;
* :func:`tail_vs_traffic` — P99 and cold-start rate by traffic level (the quiet-hours
  signature of cold starts after idle periods: high P99, many cold starts, low traffic);
* :func:`heatmap` — request counts per time bin and log-spaced latency bucket.

Detectors (registered in :data:`incidentkit.findings.DETECTORS`):

* :func:`detect_cold_start_tail` — ``cold-start-tail`` (incidents.md #7);
* :func:`detect_cold_start_timeouts` — ``cold-start-timeouts`` (incidents.md #2).

Example
-------
>>> import pandas as pd
>>> req = pd.DataFrame({
...     "timestamp": pd.date_range("2026-03-01T03:00Z", periods=4, freq="20s"),
...     "latency_ms": [100.0, 120.0, 900.0, 110.0],
...     "cold_start": [False, False, True, False]})
>>> percentiles(req, by="1min")[["timestamp", "count", "max"]].to_dict("records")[0]["count"]
3
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .change_words import blameless_actor, when_text
from ..findings.model import Finding
from ._common import (
    UTC_NS,
    as_utc,
    auto_bin,
    benjamini_hochberg,
    bin_floor,
    downgrade,
    flag,
    fmt_ms,
    pct,
    select_metric,
    severity_for_share,
    to_timedelta,
    two_proportion_z,
)
from .impact import counted, counting_tier
from .related import ChangeSpec, related_changes, sentence, targets_from
from .related import evidence as related_evidence

__all__ = [
    "percentiles",
    "tail_attribution",
    "percentiles_excluding",
    "tail_vs_traffic",
    "heatmap",
    "request_latency",
    "cold_starts",
    "detect_cold_start_tail",
    "detect_cold_start_timeouts",
    "APIGW_INTEGRATION_TIMEOUT_MS",
    "COLD_START_TAIL_CHANGES",
    "COLD_START_TIMEOUTS_CHANGES",
    "SUSTAINED_BIN_SHARE",
]

#: The share of time bins a per-bin tail must hold to be more than a blip: with fewer, the P95 of the
#: per-bin P99 (what the dashboard shows 19 bins out of 20) does not move.
SUSTAINED_BIN_SHARE = 0.05
#: API Gateway's default (and, for REST APIs, usual maximum) integration timeout.
APIGW_INTEGRATION_TIMEOUT_MS = 29_000.0
#: A latency within this fraction of the gateway timeout counts as "at the cap".
_CAP_FRACTION = 0.95

MISSING = "(missing)"
OTHER = "(other)"


# --------------------------------------------------------------------------- helpers


def _qname(q: float) -> str:
    """0.5 → ``p50``, 0.999 → ``p99.9``."""
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile {q!r} must be between 0 and 1 (e.g. 0.99 for P99)")
    return f"p{q * 100:.10g}"


def _window_bounds(window: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    if window is None:
        return None, None
    if hasattr(window, "start") and hasattr(window, "end"):
        return pd.Timestamp(window.start), pd.Timestamp(window.end)
    start, end = window
    return as_utc(pd.Series([start])).iloc[0], as_utc(pd.Series([end])).iloc[0]


def _bin_width(times: pd.Series, by: Any, window: Any = None) -> pd.Timedelta:
    if by is not None:
        return to_timedelta(by)
    start, end = _window_bounds(window)
    if start is None:
        if times.empty:
            return pd.Timedelta("1min")
        start, end = times.min(), times.max()
    return auto_bin(start, end)


def _bins(times: pd.Series, width: pd.Timedelta, window: Any = None) -> pd.Series:
    start, _ = _window_bounds(window)
    return bin_floor(times, width, origin=start)


def _full_range(observed: pd.Series, width: pd.Timedelta, window: Any = None) -> pd.DatetimeIndex:
    start, end = _window_bounds(window)
    if start is not None:
        last = bin_floor(pd.Series([end - pd.Timedelta(1)]), width, origin=start).iloc[0]
        return pd.date_range(start, last, freq=width, tz="UTC") if last >= start else pd.DatetimeIndex([], tz="UTC")
    if observed.empty:
        return pd.DatetimeIndex([], tz="UTC")
    return pd.date_range(observed.min(), observed.max(), freq=width)


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
    cs = requests["cold_start"].astype("object") if "cold_start" in requests.columns else pd.Series(None, index=idx, dtype="object")
    init = (
        pd.to_numeric(requests["init_duration_ms"], errors="coerce")
        if "init_duration_ms" in requests.columns
        else pd.Series(np.nan, index=idx)
    )
    known = cs.notna() | init.notna()
    # A frame where some rows carry REPORT data (duration) and no init: those are warm.
    if "duration_ms" in requests.columns:
        known |= pd.to_numeric(requests["duration_ms"], errors="coerce").notna() & (
            cs.notna().any() or init.notna().any()
        )
    cold = flag(cs.where(cs.notna(), None), idx) | init.gt(0).fillna(False).astype(bool)
    return cold.astype(bool), known.astype(bool)


def _times(df: pd.DataFrame, time: str) -> pd.Series:
    return as_utc(df[time]) if len(df) else pd.Series([], dtype=UTC_NS, index=df.index)


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=UTC_NS if c == "timestamp" else "float64") for c in columns})


def _category(values: pd.Series, max_values: int) -> pd.Series:
    """Values as readable category labels; NA → ``(missing)``; beyond ``max_values`` → ``(other)``."""
    s = values.astype("object").where(values.notna(), MISSING)
    counts = s.value_counts()
    if len(counts) > max_values:
        keep = set(counts.index[: max_values - 1])
        s = s.where(s.isin(keep), OTHER)
    return s


# --------------------------------------------------------------------------- analyses


def percentiles(
    df: pd.DataFrame | None,
    value: str = "latency_ms",
    *,
    by: str | pd.Timedelta | int | None = None,
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    groupby: str | Sequence[str] | None = None,
    time: str = "timestamp",
    window: Any = None,
) -> pd.DataFrame:
    """Count, percentiles and max of ``value`` per time bin.

    Parameters
    ----------
    df:
        One row per request (or any frame with ``time`` and ``value`` columns).
    value:
        The numeric column (``latency_ms``; ``duration_ms``...). For ``latency_ms`` a
        missing value is filled from Lambda ``duration_ms + init_duration_ms``.
    by:
        Bin width (``"1min"``, a Timedelta, seconds). ``None`` picks a round width giving
        ~60-200 bins over the window (or the data's span).
    quantiles:
        Fractions in (0, 1); columns are named ``p50``, ``p90``, ``p99``, ``p99.9``...
    groupby:
        Column(s) to split by as well (``route``, ``cold_start``...); missing values form
        their own group.
    window:
        A :class:`~incidentkit.window.Window` or ``(start, end)``: bins are aligned to its
        start and span it.

    Returns
    -------
    DataFrame
        ``timestamp`` (bin start, UTC), the group columns, ``count``, one column per
        quantile, ``max``. Without ``groupby`` every bin of the range is present
        (``count`` 0, percentiles NaN where nothing happened) so gaps show.
        ``attrs["bin"]`` holds the bin width.

    Example
    -------
    >>> req = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00:10Z", "2026-03-01T03:00:40Z",
    ...                                                  "2026-03-01T03:02:05Z"]),
    ...                     "latency_ms": [100.0, 300.0, 250.0]})
    >>> out = percentiles(req, by="1min")
    >>> out["count"].tolist(), out["p50"].tolist()
    ([2, 0, 1], [200.0, nan, 250.0])
    """
    groups = [groupby] if isinstance(groupby, str) else list(groupby or [])
    qnames = [_qname(q) for q in quantiles]
    columns = ["timestamp", *groups, "count", *qnames, "max"]
    if df is None or df.empty or time not in df.columns or any(g not in df.columns for g in groups):
        out = _empty(columns)
        out["count"] = out["count"].astype("int64")
        return out
    if value not in df.columns and not (value == "latency_ms" and "duration_ms" in df.columns):
        out = _empty(columns)
        out["count"] = out["count"].astype("int64")
        return out
    t = _times(df, time)
    v = request_latency(df, value)
    keep = t.notna() & v.notna()
    start, end = _window_bounds(window)
    if start is not None:
        keep &= (t >= start) & (t < end)
    width = _bin_width(t[keep], by, window)
    work = pd.DataFrame({"timestamp": _bins(t[keep], width, window), "_v": v[keep]})
    for g in groups:
        work[g] = df.loc[keep, g]
    keys = ["timestamp", *groups]
    if work.empty:
        grouped = _empty(columns)
        grouped["count"] = grouped["count"].astype("int64")
    else:
        gb = work.groupby(keys, dropna=False, sort=True)["_v"]
        grouped = gb.agg(["count", "max"])
        qs = gb.quantile(list(quantiles)).unstack(level=-1)
        qs.columns = qnames
        grouped = grouped.join(qs).reset_index()
    if not groups:
        full = _full_range(grouped["timestamp"], width, window)
        grouped = grouped.set_index("timestamp").reindex(full)
        grouped.index.name = "timestamp"
        grouped["count"] = grouped["count"].fillna(0)
        grouped = grouped.reset_index()
    out = grouped[columns].copy()
    out["timestamp"] = as_utc(out["timestamp"])
    out["count"] = out["count"].astype("int64")
    for c in [*qnames, "max"]:
        out[c] = out[c].astype("float64")
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    out.attrs["bin"] = str(width)
    return out


def tail_attribution(
    requests: pd.DataFrame | None,
    *,
    q: float = 0.99,
    by: str | Sequence[str] = ("cold_start",),
    value: str = "latency_ms",
    max_values: int = 20,
) -> pd.DataFrame:
    """Which values the slowest requests carry, against their share of all requests.

    The tail is every request at or above the ``q`` quantile of ``value``. For each
    column of ``by`` and each of its values: its share of the tail, its share of all
    requests, the lift (tail share / overall share; 1 means "as often as everywhere"),
    and a two-proportion z-test of "a request with this value lands in the tail more
    often than the others" (two-sided; ``q_value`` is Benjamini-Hochberg adjusted).

    Parameters
    ----------
    requests:
        One row per request.
    q:
        The tail quantile (0.99: the requests at or above the P99).
    by:
        Column(s) to attribute by: ``cold_start``, ``route``, ``app_version``, any column.
    value:
        The latency column.
    max_values:
        Values per column beyond this many (by request count) are pooled as ``(other)``.

    Returns
    -------
    DataFrame
        ``column, value, requests, share, tail_requests, tail_share, lift, tail_rate,
        z, p_value, q_value`` sorted by column then tail requests; ``attrs`` holds
        ``threshold`` (the quantile value), ``q``, ``n`` and ``n_tail``.

    Example
    -------
    >>> req = pd.DataFrame({"latency_ms": [100.0] * 98 + [5000.0, 6000.0],
    ...                     "cold_start": [False] * 98 + [True, True]})
    >>> out = tail_attribution(req, q=0.98)
    >>> cold = out[out["value"] == True].iloc[0]  # noqa: E712
    >>> float(cold["tail_share"]), float(cold["share"])
    (1.0, 0.02)
    """
    cols = list([by] if isinstance(by, str) else by)
    columns = ["column", "value", "requests", "share", "tail_requests", "tail_share", "lift", "tail_rate",
               "z", "p_value", "q_value"]
    empty = pd.DataFrame({c: pd.Series([], dtype="object" if c in ("column", "value") else "float64") for c in columns})
    if requests is None or requests.empty:
        return empty
    v = request_latency(requests, value)
    ok = v.notna()
    n = int(ok.sum())
    if n == 0:
        return empty
    threshold = float(np.quantile(v[ok].to_numpy(), q))
    tail = (v >= threshold) & ok
    n_tail = int(tail.sum())
    rows: list[dict[str, Any]] = []
    for col in cols:
        if col == "cold_start" and ("cold_start" in requests.columns or "init_duration_ms" in requests.columns):
            cold, known = cold_starts(requests)
            values = cold.astype("object").where(known, None)
        elif col in requests.columns:
            values = requests[col]
        else:
            continue
        cats = _category(values[ok], max_values)
        tail_cats = cats[tail[ok]]
        counts = cats.value_counts()
        tail_counts = tail_cats.value_counts()
        for val, cnt in counts.items():
            t_cnt = int(tail_counts.get(val, 0))
            rows.append(
                {
                    "column": col,
                    "value": val,
                    "requests": int(cnt),
                    "share": cnt / n,
                    "tail_requests": t_cnt,
                    "tail_share": t_cnt / n_tail if n_tail else np.nan,
                    "tail_rate": t_cnt / cnt,
                    "_rest_tail": n_tail - t_cnt,
                    "_rest": n - cnt,
                }
            )
    if not rows:
        return empty
    out = pd.DataFrame(rows)
    out["lift"] = out["tail_share"] / out["share"]
    z, p = two_proportion_z(out["tail_requests"], out["requests"], out["_rest_tail"], out["_rest"])
    out["z"], out["p_value"] = z, p
    out["q_value"] = benjamini_hochberg(out["p_value"])
    order = {c: i for i, c in enumerate(cols)}
    out["_o"] = out["column"].map(order)
    out = out.sort_values(["_o", "tail_requests", "requests"], ascending=[True, False, False], kind="stable")
    out = out[columns].reset_index(drop=True)
    for c in ("requests", "tail_requests"):
        out[c] = out[c].astype("int64")
    out.attrs.update({"threshold": threshold, "q": q, "n": n, "n_tail": n_tail, "value": value})
    return out


def percentiles_excluding(
    requests: pd.DataFrame | None,
    mask_col: str = "cold_start",
    *,
    value: str = "latency_ms",
    quantiles: Sequence[float] = (0.5, 0.9, 0.99),
    by: str | pd.Timedelta | int | None = None,
    window: Any = None,
) -> pd.DataFrame:
    """Percentiles of all requests, of those without ``mask_col``, and of those with it.

    With ``mask_col="cold_start"`` this is "P99 with and without cold starts": if the
    P99 falls from 8 s to 400 ms when cold starts are left out, cold starts make the tail.

    Parameters
    ----------
    requests:
        One row per request.
    mask_col:
        A boolean column (``cold_start``, ``timed_out``...). For ``cold_start`` an
        ``init_duration_ms`` value also marks a cold start.
    by:
        ``None`` for one row per subset over the whole frame; a bin width (``"1min"``)
        for a row per subset and time bin (``"auto"`` picks the width as :func:`percentiles`).

    Returns
    -------
    DataFrame
        ``subset`` (``all``, ``excluding <mask_col>``, ``only <mask_col>``), then
        ``timestamp`` when binned, ``count``, ``share`` (of all requests, per bin when
        binned), the quantile columns and ``max``.

    Example
    -------
    >>> req = pd.DataFrame({"latency_ms": [100.0] * 99 + [8000.0], "cold_start": [False] * 99 + [True]})
    >>> percentiles_excluding(req, quantiles=(0.5, 0.995)).set_index("subset")["p99.5"].round(0).to_dict()
    {'all': 4089.0, 'excluding cold_start': 100.0, 'only cold_start': 8000.0}
    """
    qnames = [_qname(q) for q in quantiles]
    subsets = ["all", f"excluding {mask_col}", f"only {mask_col}"]
    binned = by is not None
    columns = ["subset", *(["timestamp"] if binned else []), "count", "share", *qnames, "max"]
    empty = pd.DataFrame({c: pd.Series([], dtype="object" if c == "subset" else (UTC_NS if c == "timestamp" else "float64")) for c in columns})
    if requests is None or requests.empty:
        return empty
    if mask_col == "cold_start":
        mask, _known = cold_starts(requests)
    elif mask_col in requests.columns:
        mask = flag(requests[mask_col])
    else:
        return empty
    parts = {subsets[0]: requests, subsets[1]: requests[~mask.to_numpy()], subsets[2]: requests[mask.to_numpy()]}
    if not binned:
        v_all = request_latency(requests, value)
        n_all = int(v_all.notna().sum())
        rows = []
        for name, part in parts.items():
            v = request_latency(part, value).dropna().to_numpy()
            row: dict[str, Any] = {"subset": name, "count": len(v), "share": len(v) / n_all if n_all else np.nan}
            for q, qn in zip(quantiles, qnames):
                row[qn] = float(np.quantile(v, q)) if len(v) else np.nan
            row["max"] = float(v.max()) if len(v) else np.nan
            rows.append(row)
        out = pd.DataFrame(rows, columns=columns)
        out["count"] = out["count"].astype("int64")
        return out
    t = _times(requests, "timestamp") if "timestamp" in requests.columns else None
    if t is None:
        return empty
    width = _bin_width(t.dropna(), None if by == "auto" else by, window)
    frames = []
    base = percentiles(requests, value, by=width, quantiles=quantiles, window=window)
    for name, part in parts.items():
        p = percentiles(part, value, by=width, quantiles=quantiles, window=window)
        if window is None and not base.empty:
            p = p.set_index("timestamp").reindex(base["timestamp"]).reset_index()
            p["count"] = p["count"].fillna(0).astype("int64")
        p.insert(0, "subset", name)
        p["share"] = p["count"] / base.set_index("timestamp")["count"].reindex(p["timestamp"]).to_numpy()
        frames.append(p)
    out = pd.concat(frames, ignore_index=True)[columns]
    out.attrs["bin"] = str(width)
    return out


def tail_vs_traffic(
    requests: pd.DataFrame | None,
    *,
    by: str | pd.Timedelta | int | None = None,
    buckets: int = 4,
    value: str = "latency_ms",
    q: float = 0.99,
    window: Any = None,
) -> pd.DataFrame:
    """How tail latency and cold starts vary with the traffic level.

    Requests are counted per time bin; bins that saw traffic are split into ``buckets``
    equal groups by request rate (bucket 1 = the quietest bins). For each bucket:
    the rate range, the pooled P50 and ``q`` percentile, the cold-start rate, and the
    share of its requests at or above the overall ``q`` threshold. Cold starts after idle
    periods show as the quiet-hours signature: the quietest bucket has the highest
    tail and cold-start rates. Bins without any request are left out (they have no latency).

    Returns
    -------
    DataFrame
        ``bucket, rate_min, rate_max`` (requests/min), ``bins, requests, p50, p<q>, max,
        cold_starts, cold_start_rate, tail_requests, tail_rate``; ``attrs`` holds ``bin``
        and ``threshold``.

    Example
    -------
    >>> t = pd.date_range("2026-03-01T00:00Z", periods=8, freq="1min").repeat([1, 1, 9, 9, 1, 1, 9, 9])
    >>> req = pd.DataFrame({"timestamp": t, "latency_ms": [3000.0] * 2 + [100.0] * 18 + [3000.0] * 2 + [100.0] * 18,
    ...                     "cold_start": [True] * 2 + [False] * 18 + [True] * 2 + [False] * 18})
    >>> tail_vs_traffic(req, by="1min", buckets=2).set_index("bucket")["cold_start_rate"].to_dict()
    {1: 1.0, 2: 0.0}
    """
    qn = _qname(q)
    columns = ["bucket", "rate_min", "rate_max", "bins", "requests", "p50", qn, "max",
               "cold_starts", "cold_start_rate", "tail_requests", "tail_rate"]
    empty = pd.DataFrame({c: pd.Series([], dtype="int64" if c == "bucket" else "float64") for c in columns})
    if requests is None or requests.empty or "timestamp" not in requests.columns:
        return empty
    t = _times(requests, "timestamp")
    v = request_latency(requests, value)
    ok = t.notna() & v.notna()
    if not ok.any():
        return empty
    width = _bin_width(t[ok], by, window)
    cold, _ = cold_starts(requests)
    work = pd.DataFrame({"bin": _bins(t[ok], width, window), "v": v[ok], "cold": cold[ok]})
    threshold = float(np.quantile(work["v"].to_numpy(), q))
    work["tail"] = work["v"] >= threshold
    per_bin = work.groupby("bin").size()
    k = max(1, min(int(buckets), len(per_bin)))
    ranks = per_bin.rank(method="first")
    bucket_of_bin = np.ceil(ranks * k / len(per_bin)).astype(int).clip(1, k)
    work["bucket"] = work["bin"].map(bucket_of_bin)
    minutes = width / pd.Timedelta(minutes=1)
    rows = []
    for b, part in work.groupby("bucket", sort=True):
        rates = per_bin[bucket_of_bin == b] / minutes
        vals = part["v"].to_numpy()
        rows.append(
            {
                "bucket": int(b),
                "rate_min": float(rates.min()),
                "rate_max": float(rates.max()),
                "bins": int(len(rates)),
                "requests": int(len(part)),
                "p50": float(np.quantile(vals, 0.5)),
                qn: float(np.quantile(vals, q)),
                "max": float(vals.max()),
                "cold_starts": int(part["cold"].sum()),
                "cold_start_rate": float(part["cold"].mean()),
                "tail_requests": int(part["tail"].sum()),
                "tail_rate": float(part["tail"].mean()),
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    out.attrs.update({"bin": str(width), "threshold": threshold, "q": q})
    return out


def heatmap(
    requests: pd.DataFrame | None,
    value: str = "latency_ms",
    *,
    by: str | pd.Timedelta | int | None = None,
    buckets: Sequence[float] | int = 24,
    window: Any = None,
) -> pd.DataFrame:
    """Request counts per time bin and latency bucket (log-spaced), for a latency heatmap.

    Parameters
    ----------
    buckets:
        Bucket edges in ms (ascending), or a number of log-spaced buckets spanning
        whole decades around the data (e.g. 10 ms … 10 s). Values below the first edge
        fall in the first bucket, above the last edge in the last one.

    Returns
    -------
    DataFrame
        Long form, every (bin, bucket) pair present: ``timestamp, bucket_low,
        bucket_high, count``; ``attrs["edges"]`` and ``attrs["bin"]``. Pivot with
        ``df.pivot(index="bucket_low", columns="timestamp", values="count")``.

    Example
    -------
    >>> req = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00:05Z"] * 3, utc=True),
    ...                     "latency_ms": [12.0, 150.0, 4000.0]})
    >>> hm = heatmap(req, by="1min", buckets=[10, 100, 1000, 10000])
    >>> hm["count"].tolist()
    [1, 1, 1]
    """
    columns = ["timestamp", "bucket_low", "bucket_high", "count"]
    empty = _empty(columns)
    empty["count"] = empty["count"].astype("int64")
    if requests is None or requests.empty or "timestamp" not in requests.columns:
        return empty
    t = _times(requests, "timestamp")
    v = request_latency(requests, value)
    ok = t.notna() & v.notna()
    start, end = _window_bounds(window)
    if start is not None:
        ok &= (t >= start) & (t < end)
    if not ok.any():
        return empty
    vals = v[ok].to_numpy(dtype="float64")
    if isinstance(buckets, int):
        positive = vals[vals > 0]
        lo = 10 ** math.floor(math.log10(positive.min())) if len(positive) else 1.0
        hi = 10 ** math.ceil(math.log10(max(positive.max(), lo * 10))) if len(positive) else 10.0
        edges = np.geomspace(lo, hi, max(2, int(buckets)) + 1)
    else:
        edges = np.asarray(sorted(float(b) for b in buckets))
        if len(edges) < 2:
            raise ValueError("buckets needs at least two edges")
    width = _bin_width(t[ok], by, window)
    bins = _bins(t[ok], width, window)
    idx = np.clip(np.searchsorted(edges, vals, side="right") - 1, 0, len(edges) - 2)
    counts = pd.DataFrame({"timestamp": bins.to_numpy(), "b": idx}).groupby(["timestamp", "b"]).size()
    times = _full_range(pd.Series(bins.to_numpy()), width, window)
    full = pd.MultiIndex.from_product([times, range(len(edges) - 1)], names=["timestamp", "b"])
    counts = counts.reindex(full, fill_value=0).reset_index(name="count")
    out = pd.DataFrame(
        {
            "timestamp": as_utc(counts["timestamp"]),
            "bucket_low": edges[counts["b"].to_numpy()],
            "bucket_high": edges[counts["b"].to_numpy() + 1],
            "count": counts["count"].astype("int64"),
        }
    )
    out.attrs.update({"edges": [float(e) for e in edges], "bin": str(width), "value": value})
    return out


# --------------------------------------------------------------------------- detector helpers


def _in_window(df: pd.DataFrame | None, window: Any) -> pd.DataFrame | None:
    """Rows of ``df`` inside ``window`` (all rows when there is no window or no timestamp)."""
    if df is None or df.empty:
        return None
    if window is None or "timestamp" not in df.columns:
        return df
    t = as_utc(df["timestamp"])
    inside = df[((t >= window.start) & (t < window.end)).to_numpy()]
    return inside if not inside.empty else None


_SETTING_ALIASES = {
    "reserved": ("reservedconcurrentexecutions", "reserved_concurrency", "reservedconcurrency",
                 "reserved_concurrent_executions"),
    "account": ("accountlimit.concurrentexecutions", "concurrentexecutions", "account_concurrency_limit",
                "concurrent_executions_limit", "concurrency_limit"),
    "provisioned": ("provisionedconcurrentexecutions", "allocatedprovisionedconcurrentexecutions",
                    "requestedprovisionedconcurrentexecutions", "provisioned_concurrency"),
    "timeout": ("timeout", "timeout_s", "timeoutseconds", "timeout_seconds", "function_timeout"),
    "integration_timeout": ("timeoutinmillis", "integration_timeout_ms", "integrationtimeout"),
}


def _setting(settings: pd.DataFrame | None, kind: str) -> tuple[float | None, str | None]:
    """The largest numeric value of a setting (by its alias names) and the resource it is on."""
    if settings is None or settings.empty or not {"setting", "value"} <= set(settings.columns):
        return None, None
    names = settings["setting"].astype("string").str.strip().str.lower()
    hit = settings[names.isin(_SETTING_ALIASES[kind]).fillna(False).to_numpy()]
    if hit.empty:
        return None, None
    vals = pd.to_numeric(hit["value"], errors="coerce")
    if vals.notna().sum() == 0:
        return None, None
    i = vals.idxmax()
    res = hit.loc[i, "resource_id"] if "resource_id" in hit.columns else None
    return float(vals.loc[i]), (None if res is None or pd.isna(res) else str(res))


def _metric_total(
    metrics: pd.DataFrame | None, namespace: str, names: Sequence[str], stat: Sequence[str],
    start: pd.Timestamp | None, end: pd.Timestamp | None, how: str = "sum", dims: Any = None,
) -> tuple[float | None, Any]:
    """Sum (or max) of one metric in ``[start, end)``, over the dimension set with the largest total."""
    m = select_metric(metrics, namespace, names, stat, start=start, end=end)
    if m.empty:
        return None, None
    m["dimensions"] = m["dimensions"].astype("object").where(m["dimensions"].notna(), "")
    if dims is not None and (m["dimensions"] == dims).any():
        m = m[m["dimensions"] == dims]
    per = m.groupby("dimensions")["value"].agg(how)
    best = per.idxmax()
    return float(per.loc[best]), best


def _metric_window(inputs: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    w = getattr(inputs, "window", None)
    return (w.start, w.end) if w is not None else (None, None)


def _metric_baseline(inputs: Any) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    b = getattr(inputs, "baseline", None)
    if b is not None:
        return b.start, b.end
    w = getattr(inputs, "window", None)
    if w is not None:
        return None, w.start
    return None, None


def _concurrency(inputs: Any, req: pd.DataFrame | None) -> dict[str, Any]:
    """Observed Lambda concurrency (metric ConcurrentExecutions Maximum, else Little's law) and limits."""
    start, end = _metric_window(inputs)
    out: dict[str, Any] = {}
    m = select_metric(inputs.metrics, "AWS/Lambda", ("ConcurrentExecutions",), ("Maximum", "Average"), start=start, end=end)
    if not m.empty:
        by_dims = m.groupby(m["dimensions"].astype("object").where(m["dimensions"].notna(), ""))["value"]
        peaks = by_dims.max()
        dims = peaks.idxmax()
        vals = m.loc[m["dimensions"].astype("object").where(m["dimensions"].notna(), "") == dims, "value"]
        out["concurrency_peak"] = float(vals.max())
        out["concurrency_p95"] = float(np.quantile(vals.to_numpy(), 0.95))
        out["concurrency_source"] = "ConcurrentExecutions Maximum"
        bstart, bend = _metric_baseline(inputs)
        base = select_metric(inputs.metrics, "AWS/Lambda", ("ConcurrentExecutions",), ("Maximum", "Average"), start=bstart, end=bend)
        if not base.empty:
            out["concurrency_baseline_median"] = float(base["value"].median())
    elif req is not None and "timestamp" in req.columns:
        lat = request_latency(req)
        t = as_utc(req["timestamp"])
        ok = lat.notna() & t.notna()
        if ok.any():
            busy = lat[ok].groupby(t[ok].dt.floor("1min")).sum() / 60_000.0
            out["concurrency_peak"] = float(busy.max())
            out["concurrency_p95"] = float(np.quantile(busy.to_numpy(), 0.95))
            out["concurrency_source"] = "estimated from request durations (Little's law, per minute)"
    reserved, res_fn = _setting(inputs.settings, "reserved")
    account, _ = _setting(inputs.settings, "account")
    if reserved is not None:
        out["concurrency_limit"], out["concurrency_limit_source"] = reserved, f"reserved concurrency of {res_fn or 'the function'}"
    elif account is not None:
        out["concurrency_limit"], out["concurrency_limit_source"] = account, "account concurrency limit"
    if "concurrency_limit" in out and out.get("concurrency_peak") is not None and out["concurrency_limit"] > 0:
        out["concurrency_utilisation"] = out["concurrency_peak"] / out["concurrency_limit"]
    throttles, _ = _metric_total(inputs.metrics, "AWS/Lambda", ("Throttles",), ("Sum",), start, end)
    if throttles is not None:
        out["lambda_throttles"] = throttles
    prov, _ = _setting(inputs.settings, "provisioned")
    if prov is not None:
        out["provisioned_concurrency"] = prov
    return out


def _function_name(req: pd.DataFrame | None, mask: pd.Series | None = None) -> str | None:
    """The function most of the (masked) requests ran on, when one dominates (>= 80 %)."""
    if req is None or "function_name" not in req.columns:
        return None
    names = req["function_name"] if mask is None else req.loc[mask.to_numpy(), "function_name"]
    counts = names.dropna().value_counts()
    if counts.empty or counts.iloc[0] < 0.8 * counts.sum():
        return None
    return str(counts.index[0])


def _span_minutes(times: pd.Series, window: Any) -> float | None:
    """Minutes covered: the window's length, else the data's span."""
    if window is not None:
        return window.duration / pd.Timedelta(minutes=1)
    t = as_utc(times).dropna()
    if len(t) < 2:
        return None
    return (t.max() - t.min()) / pd.Timedelta(minutes=1) or None


def _td_text(width: Any) -> str:
    """``'0 days 00:10:00'`` → ``'10-min'``."""
    secs = int(pd.Timedelta(width).total_seconds())
    if secs % 3600 == 0:
        return f"{secs // 3600}-h"
    if secs % 60 == 0:
        return f"{secs // 60}-min"
    return f"{secs}-s"


def _cap_confidence(confidence: float, severity: str) -> float:
    """A finding of small impact cannot be the most likely cause of an incident."""
    cap = {"low": 0.35, "info": 0.2}.get(severity, 1.0)
    return float(min(confidence, cap, 0.97))


# --------------------------------------------------------------------------- detectors


#: The changes that can explain ``cold-start-tail``, most direct first (see :mod:`.related`).
COLD_START_TAIL_CHANGES = ChangeSpec("cold-start-tail", {
    "provisioned-concurrency": "provisioned concurrency removed or lowered: fewer environments stay initialised, so "
                               "requests after idle periods start cold",
    "code": "a code deploy replaces every environment: the requests after it start cold",
    "alias": "an alias moved to another version, whose environments start cold",
    "function-config": "a configuration update replaces every environment",
})


def _tail_views(sub: pd.DataFrame, lat: pd.Series, cold: pd.Series, window: Any) -> dict[str, Any]:
    """The two views of the tail (whole window, per time bin) and the numbers behind them."""
    n, n_cold = len(lat), int(cold.sum())
    warm = lat[~cold].to_numpy()
    warm_p99 = float(np.quantile(warm, 0.99))
    v: dict[str, Any] = {"n": n, "n_cold": n_cold, "warm_p99": warm_p99, "share_all": n_cold / n,
                         "slow": max(2.0 * warm_p99, warm_p99 + 500.0),
                         "p50": float(np.quantile(lat.to_numpy(), 0.5)), "p99": float(np.quantile(lat.to_numpy(), 0.99))}
    # Whole-window view: the P99 needs >= 500 requests to hold 5 of them; below that, the P95.
    q = 0.99 if n >= 500 else 0.95
    thr = float(np.quantile(lat.to_numpy(), q))
    tail = lat >= thr
    n_tail, cold_tail = int(tail.sum()), int((cold & tail).sum())
    _, p = two_proportion_z(cold_tail, n_tail, n_cold - cold_tail, n - n_tail, alternative="greater")
    tail_warm = float(np.quantile(warm, q))
    ratio = thr / tail_warm if tail_warm > 0 else math.inf
    share_tail = cold_tail / n_tail
    v.update({"qn": _qname(q).upper(), "thr": thr, "tail": tail, "n_tail": n_tail, "cold_tail": cold_tail,
              "share_tail": share_tail, "lift": share_tail / v["share_all"], "p": p, "tail_warm": tail_warm})
    v["global_view"] = cold_tail >= 3 and p < 0.01 and v["lift"] >= 2 and ratio >= 1.5 and thr - tail_warm >= 250
    # Per-bin view: the P99 a dashboard shows, ~60-200 bins over the window.
    v.update({"has_time": "timestamp" in sub.columns and sub["timestamp"].notna().any(), "slow_bins": 0, "explained": 0,
              "bin_tail": math.nan, "width": None, "n_bins": 0, "bin_requests": math.nan})
    if v["has_time"]:
        per_all = percentiles(sub, quantiles=(0.99,), window=window)
        with_traffic = per_all["count"] > 0
        v["n_bins"] = int(with_traffic.sum())
        v["bin_requests"] = float(per_all.loc[with_traffic, "count"].median()) if v["n_bins"] else math.nan
        v["width"] = per_all.attrs.get("bin")
        per_warm = percentiles(sub[~cold.to_numpy()], quantiles=(0.99,), by=v["width"], window=window)
        merged = per_all.merge(per_warm[["timestamp", "p99"]], on="timestamp", how="left", suffixes=("", "_warm"))
        is_slow = merged["p99"] >= v["slow"]
        expl = is_slow & ~(merged["p99_warm"] >= v["slow"])
        v["slow_bins"], v["explained"] = int(is_slow.sum()), int(expl.sum())
        if v["explained"]:
            v["bin_tail"] = float(merged.loc[expl, "p99"].median())
    v["bin_view"] = v["slow_bins"] >= 3 and v["explained"] >= 0.5 * v["slow_bins"]
    return v


def _tail_evidence(v: dict[str, Any], sub: pd.DataFrame) -> dict[str, Any]:
    evidence: dict[str, Any] = {
        "requests": v["n"], "cold_starts": v["n_cold"], "cold_share_overall": v["share_all"], "p50_ms": v["p50"],
        "p99_ms": v["p99"], "warm_p99_ms": v["warm_p99"], "slow_tail_threshold_ms": v["slow"], "tail_quantile": v["qn"],
        "tail_all_ms": v["thr"], "tail_without_cold_ms": v["tail_warm"], "tail_requests": v["n_tail"],
        "cold_starts_in_tail": v["cold_tail"], "cold_share_of_tail": v["share_tail"], "lift": v["lift"], "p_value": v["p"],
    }
    if v["has_time"]:
        evidence.update({"bin": _td_text(v["width"]), "bins_with_traffic": v["n_bins"], "bins_with_slow_p99": v["slow_bins"],
                         "share_of_bins_slow": v["slow_bins"] / v["n_bins"] if v["n_bins"] else math.nan,
                         "slow_bins_explained_by_cold_starts": v["explained"], "median_requests_per_bin": v["bin_requests"]})
        if v["explained"]:
            evidence["slow_bin_p99_median_ms"] = v["bin_tail"]
    init = pd.to_numeric(sub["init_duration_ms"], errors="coerce").dropna() if "init_duration_ms" in sub.columns else pd.Series(dtype="float64")
    if len(init):
        evidence["init_p50_ms"] = float(init.median())
        evidence["init_max_ms"] = float(init.max())
    return evidence


def _tail_quiet(sub: pd.DataFrame, v: dict[str, Any], window: Any, evidence: dict[str, Any]) -> bool:
    """Within the window: the quietest traffic bins have the highest P99 and cold-start rate."""
    tv = tail_vs_traffic(sub, buckets=4, q=0.99, window=window) if v["has_time"] else tail_vs_traffic(None)
    if len(tv) < 2:
        return False
    lo, hi = tv.iloc[0], tv.iloc[-1]
    _, pq = two_proportion_z(lo["cold_starts"], lo["requests"], hi["cold_starts"], hi["requests"], alternative="greater")
    quiet = bool(lo["p99"] >= 2 * hi["p99"] and lo["cold_start_rate"] >= 2 * max(hi["cold_start_rate"], 1e-9) and pq < 0.01)
    evidence.update({"quiet_rate_per_min": lo["rate_max"], "busy_rate_per_min": hi["rate_min"], "quiet_p99_ms": lo["p99"],
                     "busy_p99_ms": hi["p99"], "quiet_cold_start_rate": lo["cold_start_rate"],
                     "busy_cold_start_rate": hi["cold_start_rate"], "quiet_hours_signature": quiet})
    return quiet


def _tail_baseline(inputs: Any, sub: pd.DataFrame, v: dict[str, Any], window: Any, evidence: dict[str, Any]) -> bool:
    """Against the baseline window: quieter traffic, more cold starts (z-test), a P99 at least double."""
    base = _in_window(getattr(inputs, "baseline_requests", None), getattr(inputs, "baseline", None))
    if base is None or not v["has_time"] or "timestamp" not in base.columns:
        return False
    blat = request_latency(base)
    bcold, bknown = cold_starts(base)
    bok = (blat.notna() & bknown).to_numpy()
    nb = int(bok.sum())
    inc_span = _span_minutes(sub["timestamp"], window)
    base_span = _span_minutes(base["timestamp"], getattr(inputs, "baseline", None))
    if nb < 50 or not inc_span or not base_span:
        return False
    n, n_cold = v["n"], v["n_cold"]
    rate_inc, rate_base = n / inc_span, nb / base_span
    b_p99 = float(np.quantile(blat[bok].to_numpy(), 0.99))
    b_cold = int(bcold[bok].sum())
    _, pb = two_proportion_z(n_cold, n, b_cold, nb, alternative="greater")
    quiet = bool(rate_inc <= 0.5 * rate_base and n_cold / n >= 2 * (b_cold / nb) and pb < 0.01 and v["p99"] >= 2 * b_p99)
    evidence.update({"traffic_per_min": rate_inc, "baseline_traffic_per_min": rate_base, "baseline_p99_ms": b_p99,
                     "baseline_cold_start_rate": b_cold / nb, "quieter_than_baseline": quiet})
    return quiet


def _tail_title(v: dict[str, Any]) -> str:
    """A title that says P99 shows the window's P99; the per-bin view says it is per bin."""
    if v["global_view"] or v["p99"] >= v["slow"]:
        return f"Cold starts make the P99 latency ({fmt_ms(v['p99'])} vs {fmt_ms(v['warm_p99'])} without them)"
    return (f"Cold starts raise the P99 of {v['explained']} of {v['n_bins']} {_td_text(v['width'])} bins "
            f"(median {fmt_ms(v['bin_tail'])}; window P99 {fmt_ms(v['p99'])}, {fmt_ms(v['warm_p99'])} without them)")


def _tail_summary(v: dict[str, Any], evidence: dict[str, Any], quiet: bool, base_quiet: bool) -> list[str]:
    parts = []
    if v["bin_view"]:
        few = (f"; a bin holds a median of {evidence['median_requests_per_bin']:.0f} requests, so its P99 is set by its "
               "slowest one or two" if evidence.get("median_requests_per_bin", 100) < 100 else "")
        parts.append(
            f"In {v['slow_bins']} of the {v['n_bins']} {_td_text(v['width'])} bins with traffic the P99 reached "
            f"{fmt_ms(v['slow'])} or more (median {fmt_ms(v['bin_tail'])}{few}), against a warm P99 of {fmt_ms(v['warm_p99'])}; "
            f"in {v['explained']} of them the P99 without cold starts stays below {fmt_ms(v['slow'])}."
        )
    if v["global_view"]:
        parts.append(
            f"{pct(v['share_tail'], 0)} of the requests at or above the window's {v['qn']} ({fmt_ms(v['thr'])}) were cold "
            f"starts, against {pct(v['share_all'])} of all {v['n']} requests (lift {v['lift']:.1f}); without them the "
            f"{v['qn']} is {fmt_ms(v['tail_warm'])}."
        )
    else:
        parts.append(f"Over the whole window the P99 is {fmt_ms(v['p99'])} ({fmt_ms(v['warm_p99'])} without cold starts); "
                     f"cold starts are {pct(v['share_all'])} of the {v['n']} requests and the P50 is {fmt_ms(v['p50'])}.")
    if quiet:
        parts.append(
            f"It is a quiet-hours effect: in the quietest quarter of the bins ({evidence['quiet_rate_per_min']:.1f} req/min or less) "
            f"the P99 is {fmt_ms(evidence['quiet_p99_ms'])} with {pct(evidence['quiet_cold_start_rate'])} cold starts, "
            f"against {fmt_ms(evidence['busy_p99_ms'])} and {pct(evidence['busy_cold_start_rate'])} at the busiest."
        )
    if base_quiet:
        parts.append(
            f"Against the baseline, traffic fell to {evidence['traffic_per_min']:.1f} req/min from "
            f"{evidence['baseline_traffic_per_min']:.1f}, cold starts rose to {pct(v['share_all'])} of requests from "
            f"{pct(evidence['baseline_cold_start_rate'])} and the P99 to {fmt_ms(v['p99'])} from "
            f"{fmt_ms(evidence['baseline_p99_ms'])}: idle environments are reclaimed and the next requests start cold."
        )
    return parts


def _tail_remediation(target: str, conc: dict[str, Any], evidence: dict[str, Any], cause: dict[str, Any] | None,
                      reference: Any = None) -> list[str]:
    steps = []
    size = ""
    if "concurrency_p95" in conc:
        n_pc = max(1, int(math.ceil(conc["concurrency_p95"])))
        size = (f"about {n_pc} environment{'s' if n_pc != 1 else ''}, the P95 of observed concurrency "
                f"({conc['concurrency_source']})")
    else:
        size = "sized to its concurrency in the quiet hours (the ConcurrentExecutions Maximum metric)"
    if cause is not None and cause["kind"] == "provisioned-concurrency":
        what = "deleted" if cause["api"].startswith(("Delete", "Deregister")) else "lowered"
        steps.append(
            f"Restore the provisioned concurrency on `{cause['target']}` that was {what} "
            f"{when_text(cause['timestamp'], reference)} ({cause['api']} by "
            f"{blameless_actor(cause['actor'])}): {size}. If it was cut to save cost, schedule it for the hours that need "
            "it (Application Auto Scaling scheduled actions) instead of removing it."
        )
    else:
        if cause is not None:
            steps.append(
                f"{sentence(cause, reference=reference, onset_known=False)[:-1]}: every deploy or configuration update replaces the function's environments, so the "
                "requests after it start cold; shift traffic gradually (CodeDeploy canary or linear on the alias) and keep "
                "provisioned concurrency on the alias so a new version is initialised before it takes traffic."
            )
        steps.append(
            f"Enable provisioned concurrency on {target} (on an alias or version): {size}, so requests after idle periods "
            "land on an initialised environment; if traffic is seasonal, schedule it or use Application Auto Scaling target "
            "tracking on ProvisionedConcurrencyUtilization (target ~0.7)."
        )
    init_txt = (
        f" (init P50 {fmt_ms(evidence['init_p50_ms'])}, max {fmt_ms(evidence['init_max_ms'])})" if "init_p50_ms" in evidence else ""
    )
    steps.append(
        f"Shorten initialisation{init_txt}: Lambda SnapStart (Java 11+, Python 3.12+, .NET 8), lazy-load heavy SDK "
        "clients and modules outside the hot path, trim the package and layers, give the function more memory "
        "(more CPU during init)."
    )
    steps.append(
        "Track the P99 with and without cold starts separately (Init Duration in REPORT lines) and alarm on the warm "
        "tail, so a code regression is not hidden behind cold starts and vice versa."
    )
    return steps


def _tail_severity(v: dict[str, Any]) -> tuple[str, float]:
    """Severity from the tail users see (the window's tail, or the per-bin P99 cold starts explain); its level."""
    def sev(level: float) -> str:
        if level >= 2000 and level >= 3 * v["warm_p99"]:
            return "high"
        if level >= 1000 and level >= 2 * v["warm_p99"]:
            return "medium"
        return "low"

    levels = ([v["thr"]] if v["global_view"] else []) + ([v["bin_tail"]] if v["bin_view"] else [])
    order = ("critical", "high", "medium", "low", "info")
    severity = min((sev(x) for x in levels), key=order.index)
    # A per-bin tail seen in fewer than 1 bin in 20 leaves the dashboard's P99 unchanged 95 % of the time: a blip.
    if not v["global_view"] and v["n_bins"] and v["slow_bins"] / v["n_bins"] < SUSTAINED_BIN_SHARE:
        severity = downgrade(severity)
    return severity, max(levels)


def detect_cold_start_tail(inputs: Any) -> Any:
    """``cold-start-tail``: the slowest requests are cold starts (incidents.md #7).

    Needs requests with latency and cold-start information (>= 100 of them, >= 3 cold
    starts). The warm tail is the P99 of requests that were not cold starts; a tail is
    "slow" when it reaches ``max(2 x warm P99, warm P99 + 500 ms)``. Two views, either
    suffices:

    * whole window: cold starts are over-represented among the requests at or above the
      P99 (P95 under 500 requests): lift >= 2, one-sided two-proportion z-test p < 0.01,
      and leaving cold starts out lowers that percentile >= 1.5x and >= 250 ms;
    * per time bin (the P99 a dashboard shows, ~60-200 bins over the window): >= 3 bins
      have a slow P99 and in at least half of them the P99 without cold starts is not slow.
      This catches the quiet-hours case, where few requests make each bin's P99.

    The title quotes the window's P99 when it is slow (or the whole-window view holds);
    otherwise it says that the per-bin P99 is what cold starts raise.

    Severity follows the tail users see (the whole-window tail, or the median P99 of the
    slow bins that cold starts explain): ``high`` at >= 2 s and >= 3x the warm P99,
    ``medium`` at >= 1 s and >= 2x, else ``low``; one step lower when only the per-bin view
    holds and fewer than :data:`SUSTAINED_BIN_SHARE` of the bins are slow. The quiet-hours signature raises
    confidence: within the window, the quietest traffic bins have the highest P99 and
    cold-start rate; or, against ``baseline_requests``, traffic is at most half the
    baseline's while cold starts (z-test p < 0.01) and the P99 at least double; a tail made
    mostly of failed requests lowers it (that is ``cold-start-timeouts``). The changes that
    can explain it (:data:`COLD_START_TAIL_CHANGES`: provisioned concurrency removed or
    lowered, deploys, alias and configuration updates of the function, across the whole change
    timeline) are named in the summary and the remediation. Remediation sizes provisioned
    concurrency from the observed concurrency (ConcurrentExecutions Maximum, else Little's law
    on request durations).

    Returns
    -------
    Finding or None
    """
    window = getattr(inputs, "window", None)
    req = _in_window(getattr(inputs, "requests", None), window)
    if req is None:
        return None
    lat = request_latency(req)
    cold, known = cold_starts(req)
    ok = (lat.notna() & known).to_numpy()
    if int(ok.sum()) < 100:
        return None
    sub, lat, cold = req[ok], lat[ok], cold[ok]
    if int(cold.sum()) < 3 or int((~cold).sum()) < 50:
        return None
    v = _tail_views(sub, lat, cold, window)
    if not (v["global_view"] or v["bin_view"]):
        return None
    severity, level = _tail_severity(v)
    evidence = _tail_evidence(v, sub)
    quiet = _tail_quiet(sub, v, window, evidence)
    base_quiet = _tail_baseline(inputs, sub, v, window, evidence)
    conc = _concurrency(inputs, sub)
    for k in ("concurrency_p95", "concurrency_peak", "provisioned_concurrency"):
        if k in conc:
            evidence[k] = conc[k]
    function = _function_name(sub, cold)
    if function:
        evidence["function"] = function
    # A tail made of failed requests (timeouts, 5XX) is the cold-start-timeouts story, not a latency one.
    fail, _, _ = _failing(sub)
    failed_tail = float(fail[v["tail"].to_numpy()].mean()) if v["n_tail"] else 0.0
    evidence["failed_share_of_tail"] = failed_tail
    resources = getattr(inputs, "resources", None) or {}
    related = related_changes(getattr(inputs, "changes", None), COLD_START_TAIL_CHANGES,
                              targets_from(function, resources.get("function_name"), kind="function"), window=window)
    cause = related[0] if related else None
    evidence.update(related_evidence(cause))

    strength = max(v["share_tail"] if v["global_view"] else 0.0, v["explained"] / v["slow_bins"] if v["bin_view"] else 0.0)
    confidence = 0.3 + 0.3 * strength + 0.2 * min(1.0, math.log2(max(level / max(v["warm_p99"], 1e-9), 1.0)) / 3.0)
    confidence += 0.1 if quiet or base_quiet else 0.0
    confidence += 0.05 if v["global_view"] and v["bin_view"] else 0.0
    confidence += 0.05 if cause is not None and cause["kind"] == "provisioned-concurrency" else 0.0
    if v["n_cold"] < 10:
        confidence -= 0.1
    if failed_tail >= 0.5:
        confidence -= 0.25
    confidence = _cap_confidence(confidence, severity)

    parts = _tail_summary(v, evidence, quiet, base_quiet)
    if failed_tail >= 0.5:
        parts.append(f"{pct(failed_tail, 0)} of the slowest requests failed (timeouts/5XX): see cold-start-timeouts.")
    if cause is not None:
        parts.append(sentence(cause, reference=window.start if window is not None else None, onset_known=False))
    remediation = _tail_remediation(f"`{function}`" if function else "the function", conc, evidence, cause,
                                    window.start if window is not None else None)
    return Finding(
        id="cold-start-tail",
        title=_tail_title(v),
        severity=severity,
        summary=" ".join(parts),
        evidence=evidence,
        remediation=remediation,
        confidence=confidence,
        related_changes=related,
    )


def _failing(req: pd.DataFrame, timeout_s: float | None = None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(failing, failing by timeout, latency) per request.

    Failing: 5XX, timed out, or (without a status) at API Gateway's 29 s cap. A timeout:
    ``timed_out``, a 504, an ``error_type`` saying "timed out", a latency at the gateway
    cap, or a latency at the function timeout (``timeout_s``) when it is known.
    """
    idx = req.index
    status = pd.to_numeric(req["status"], errors="coerce") if "status" in req.columns else pd.Series(np.nan, index=idx)
    timed_out = flag(req["timed_out"], idx) if "timed_out" in req.columns else pd.Series(False, index=idx)
    if "error_type" in req.columns:
        timed_out = timed_out | req["error_type"].astype("string").str.contains(r"timed? ?out", case=False, regex=True).fillna(False).astype(bool)
    lat = request_latency(req)
    at_cap = (lat >= _CAP_FRACTION * APIGW_INTEGRATION_TIMEOUT_MS).fillna(False).astype(bool)
    if timeout_s:
        at_cap = at_cap | (lat >= _CAP_FRACTION * timeout_s * 1000.0).fillna(False).astype(bool)
    fail = (status >= 500).fillna(False).astype(bool) | timed_out | (status.isna() & at_cap)
    timeout_like = timed_out | at_cap | status.isin([504]).fillna(False).astype(bool)
    return fail, timeout_like & fail, lat


def _gateway_metrics(inputs: Any) -> dict[str, Any]:
    """API Gateway / Lambda failure metrics in the window (and the baseline), as evidence."""
    out: dict[str, Any] = {}
    if getattr(inputs, "metrics", None) is None or inputs.metrics.empty:
        return out
    start, end = _metric_window(inputs)
    count, dims = _metric_total(inputs.metrics, "AWS/ApiGateway", ("Count",), ("Sum", "SampleCount"), start, end)
    errs, _ = _metric_total(inputs.metrics, "AWS/ApiGateway", ("5XXError", "5xx", "5XX"), ("Sum",), start, end, dims=dims)
    if count and errs is not None:
        out["apigw_requests"], out["apigw_5xx"], out["apigw_5xx_rate"] = count, errs, errs / count
        bstart, bend = _metric_baseline(inputs)
        bcount, _ = _metric_total(inputs.metrics, "AWS/ApiGateway", ("Count",), ("Sum", "SampleCount"), bstart, bend, dims=dims)
        berrs, _ = _metric_total(inputs.metrics, "AWS/ApiGateway", ("5XXError", "5xx", "5XX"), ("Sum",), bstart, bend, dims=dims)
        if bcount and berrs is not None:
            out["baseline_apigw_requests"], out["baseline_apigw_5xx"] = bcount, berrs
    il = select_metric(inputs.metrics, "AWS/ApiGateway", ("IntegrationLatency",), ("Maximum",), start=start, end=end)
    if not il.empty:
        cap = _CAP_FRACTION * APIGW_INTEGRATION_TIMEOUT_MS
        out["integration_latency_max_ms"] = float(il["value"].max())
        out["integration_latency_points_at_cap"] = int((il["value"] >= cap).sum())
    inv, ldims = _metric_total(inputs.metrics, "AWS/Lambda", ("Invocations",), ("Sum",), start, end)
    lerr, _ = _metric_total(inputs.metrics, "AWS/Lambda", ("Errors",), ("Sum",), start, end, dims=ldims)
    if inv and lerr is not None:
        out["lambda_invocations"], out["lambda_errors"], out["lambda_error_rate"] = inv, lerr, lerr / inv
    dmax, _ = _metric_total(inputs.metrics, "AWS/Lambda", ("Duration",), ("Maximum",), start, end, how="max")
    if dmax is not None:
        out["lambda_duration_max_ms"] = dmax
    return out


#: The changes that can explain ``cold-start-timeouts``, most direct first (see :mod:`.related`).
COLD_START_TIMEOUTS_CHANGES = ChangeSpec("cold-start-timeouts", {
    "provisioned-concurrency": "provisioned concurrency removed or lowered: the burst lands on new environments",
    "reserved-concurrency": "reserved concurrency lowered: the burst reaches the limit sooner",
    "function-config": "a timeout or memory change alters how long a cold start may take",
    "code": "a deploy replaces every environment, and new code may initialise slower",
    "alias": "an alias moved to another version, whose environments start cold",
    "api-config": "an API Gateway stage or integration change alters its timeout",
})


def _timeout_changes(inputs: Any, req: pd.DataFrame | None, onset: Any) -> list[dict[str, Any]]:
    """The changes that can explain the timeouts: on the function the requests ran on, or the API."""
    resources = getattr(inputs, "resources", None) or {}
    function = _function_name(req) if req is not None else None
    targets = targets_from(function, resources.get("function_name"), kind="function")
    targets += targets_from(resources.get("api_id"), resources.get("api_name"), kind="api")
    return related_changes(getattr(inputs, "changes", None), COLD_START_TIMEOUTS_CHANGES, targets,
                           onset=onset, window=getattr(inputs, "window", None), slack="1min")


def detect_cold_start_timeouts(inputs: Any) -> Any:
    """``cold-start-timeouts``: cold starts under a burst time out, the gateway returns 5XX (incidents.md #2).

    From requests (>= 50 rows): failing requests are 5XX, timed out, or (without a status)
    at API Gateway's 29 s integration cap. Required: >= 5 failures, at least half of them
    timeouts (``timed_out``, 504, "Task timed out", latency at the gateway cap or at the
    function timeout from ``settings``), a failure rate
    significantly above the baseline's (z-test p < 0.01) or >= 1 % without a baseline,
    and cold starts concentrated in the failures: cold-start rate among failing
    requests (or, when cold starts are only known for other rows, in the minutes with
    failures) >= 2x the rest, one-sided z-test p < 0.01. Without any cold-start column,
    metrics must show a concurrency surge (>= 2x baseline), concurrency near its limit
    (>= 80 %) or throttles.

    From metrics only (no requests): API Gateway 5XX rate >= 1 % (and above the
    baseline's), IntegrationLatency Maximum at the 29 s cap (or Lambda Duration Maximum
    near the function timeout), and a concurrency surge, limit or throttles. Cold starts
    are then inferred, so confidence stays at or below 0.6.

    Severity: :func:`~incidentkit.analyses._common.severity_for_share` of the failure
    rate during the minutes with failures, lowered when they last under 5 minutes.

    Returns
    -------
    Finding or None
    """
    req = _in_window(getattr(inputs, "requests", None), getattr(inputs, "window", None))
    gw = _gateway_metrics(inputs)
    if req is not None and len(req) >= 50 and any(c in req.columns for c in ("status", "timed_out", "latency_ms", "duration_ms")):
        fail, _, _ = _failing(req)
        if int(fail.sum()) >= 5:
            return _timeouts_from_requests(inputs, req, gw)
    return _timeouts_from_metrics(inputs, req, gw)


def _timeouts_from_requests(inputs: Any, req: pd.DataFrame, gw: dict[str, Any]) -> Any:
    timeout_s, _ = _setting(getattr(inputs, "settings", None), "timeout")
    rows, req = req, counted(req)  # every tier (cold starts are known on invocations); requests counted once
    fail, timeout_like, lat = _failing(req, timeout_s)
    n, n_fail = len(req), int(fail.sum())
    fail_rate = n_fail / n
    # The finding is "cold starts time out": failures of another kind (a throttled dependency,
    # a bug) that happen to hit fresh environments are not it.
    timeout_share = float(timeout_like[fail].mean())
    if timeout_share < 0.5:
        return None
    base = _in_window(getattr(inputs, "baseline_requests", None), getattr(inputs, "baseline", None))
    base = counted(base, tier=counting_tier(req))
    base_rate = None
    if base is not None and len(base) >= 50:
        bfail, _, _ = _failing(base)
        base_rate = float(bfail.mean())
        _, pb = two_proportion_z(n_fail, n, int(bfail.sum()), len(base), alternative="greater")
        if pb >= 0.01 or fail_rate < 2 * base_rate:
            return None
    elif fail_rate < 0.01:
        return None

    t = as_utc(req["timestamp"]) if "timestamp" in req.columns else None
    cold, known = cold_starts(req)
    level = None
    cold_fail_rate = cold_rest_rate = lift = p = None
    if known.sum() >= 20 and known[fail].mean() >= 0.5:
        level = "request"
        a, m = int((cold & fail & known).sum()), int((fail & known).sum())
        b, k = int((cold & ~fail & known).sum()), int((~fail & known).sum())
    elif t is not None and "timestamp" in rows.columns and int(cold_starts(rows)[1].sum()) >= 20:
        level = "minute"  # cold starts of every tier, in the minutes where the counted requests failed
        cold, known = cold_starts(rows)
        in_bad = as_utc(rows["timestamp"]).dt.floor("1min").isin(set(t.dt.floor("1min")[fail]))
        a, m = int((cold & known & in_bad).sum()), int((known & in_bad).sum())
        b, k = int((cold & known & ~in_bad).sum()), int((known & ~in_bad).sum())
    if level is not None:
        if m == 0 or a < 3:
            return None
        cold_fail_rate = a / m
        cold_rest_rate = b / k if k else 0.0
        lift = cold_fail_rate / cold_rest_rate if cold_rest_rate > 0 else math.inf
        _, p = two_proportion_z(a, m, b, k, alternative="greater") if k else (0.0, 0.0)
        if p >= 0.01 or lift < 2:
            return None

    conc = _concurrency(inputs, rows)
    near_limit = conc.get("concurrency_utilisation", 0.0) >= 0.8
    surge = (
        "concurrency_baseline_median" in conc
        and conc["concurrency_baseline_median"] > 0
        and conc.get("concurrency_peak", 0) >= 2 * conc["concurrency_baseline_median"]
    )
    throttled = conc.get("lambda_throttles", 0) > 0
    if level is None and not (near_limit or surge or throttled):
        return None

    # The failing period: minutes with failures; the traffic burst: their request rate vs typical.
    evidence: dict[str, Any] = {"requests": n, "failing_requests": n_fail, "failure_rate": fail_rate}
    burst_rate, duration, burst_ratio = fail_rate, None, None
    onset_time = None
    if t is not None and t.notna().any():
        minute = t.dt.floor("1min")
        per_min = pd.DataFrame({"m": minute, "f": fail}).groupby("m")["f"].agg(["size", "sum"])
        # Minutes whose failure rate stands out from the normal trickle (baseline rate, else the median minute).
        ref = base_rate if base_rate is not None else float((per_min["sum"] / per_min["size"]).median())
        elevated = (per_min["sum"] >= 2) & (per_min["sum"] / per_min["size"] >= max(0.01, 3 * ref))
        bad = per_min[elevated] if elevated.any() else per_min[per_min["sum"] > 0]
        duration = pd.Timedelta(minutes=len(bad))
        burst_rate = float(bad["sum"].sum() / bad["size"].sum())
        typical = float(per_min["size"].median())
        if base is not None and "timestamp" in base.columns:
            bt = as_utc(base["timestamp"]).dt.floor("1min")
            typical = float(bt.value_counts().median())
        burst_ratio = float(bad["size"].mean() / typical) if typical > 0 else None
        in_bad = minute.isin(bad.index)
        onset_time = t[fail & in_bad].min().floor("s")
        evidence.update(
            {
                "failing_minutes": len(bad),
                "burst_start": onset_time,
                "burst_end": t[fail & in_bad].max().floor("s"),
                "failure_rate_in_failing_minutes": burst_rate,
            }
        )
        if burst_ratio is not None:
            evidence["traffic_vs_typical"] = burst_ratio
    if base_rate is not None:
        evidence["baseline_failure_rate"] = base_rate
    evidence["timeout_share_of_failures"] = timeout_share
    if level is not None:
        evidence.update(
            {
                "cold_start_evidence": level,
                "cold_start_rate_failing": cold_fail_rate,
                "cold_start_rate_rest": cold_rest_rate,
                "cold_start_lift": lift,
                "cold_start_p_value": p,
            }
        )
    init = pd.to_numeric(rows["init_duration_ms"], errors="coerce").dropna() if "init_duration_ms" in rows.columns else pd.Series(dtype="float64")
    if len(init):
        evidence["init_p50_ms"], evidence["init_max_ms"] = float(init.median()), float(init.max())
    fail_lat = lat[fail].dropna()
    if len(fail_lat):
        evidence["failing_latency_p50_ms"] = float(fail_lat.median())
    evidence.update({k: v for k, v in conc.items() if not k.endswith("_source")})
    evidence.update(gw)

    severity = severity_for_share(burst_rate, duration=duration)
    at_cap = gw.get("integration_latency_points_at_cap", 0) > 0 or (len(fail_lat) and fail_lat.median() >= _CAP_FRACTION * APIGW_INTEGRATION_TIMEOUT_MS)
    confidence = 0.45
    if level == "request":
        confidence += 0.25 * min(1.0, (min(lift, 10.0) - 1.0) / 4.0)
    elif level == "minute":
        confidence += 0.15 * min(1.0, (min(lift, 10.0) - 1.0) / 4.0)
    confidence += 0.1 * min(1.0, (timeout_share - 0.5) / 0.4)
    confidence += 0.05 if (burst_ratio or 0) >= 2 or surge else 0.0
    confidence += 0.05 if near_limit or throttled else 0.0
    confidence += 0.05 if at_cap else 0.0
    confidence = _cap_confidence(confidence, severity)

    summary = f"{n_fail} of {n} requests failed ({pct(fail_rate)}"
    if duration is not None:
        summary += f"; {pct(burst_rate)} in the {len(bad)} minutes from {onset_time.strftime('%H:%M')} UTC where failures stood out)"
    else:
        summary += ")"
    summary += f", {pct(timeout_share, 0)} of them timeouts or gateway 504s."
    if level == "request":
        summary += f" {pct(cold_fail_rate, 0)} of the failing requests were cold starts against {pct(cold_rest_rate)} of the others (lift {min(lift, 999):.1f})."
    elif level == "minute":
        summary += f" In the minutes with failures {pct(cold_fail_rate)} of requests were cold starts against {pct(cold_rest_rate)} in the other minutes."
    if burst_ratio is not None and burst_ratio >= 1.5:
        summary += f" Traffic in those minutes ran {burst_ratio:.1f}x its typical rate."
    if "concurrency_utilisation" in conc:
        summary += f" Lambda concurrency peaked at {conc['concurrency_peak']:.0f} of a limit of {conc['concurrency_limit']:.0f} ({pct(conc['concurrency_utilisation'], 0)})."
    if at_cap and "integration_latency_max_ms" in gw:
        evidence["integration_timeout_ms"] = APIGW_INTEGRATION_TIMEOUT_MS
        summary += f" API Gateway IntegrationLatency reached {fmt_ms(gw['integration_latency_max_ms'])}, its 29 s cap."
    related = _timeout_changes(inputs, rows, onset_time)  # every tier: the function name is on the invocations
    cause = related[0] if related else None
    evidence.update(related_evidence(cause))
    if cause is not None:
        summary += " " + sentence(cause, reference=_window_start(inputs))
    return Finding(
        id="cold-start-timeouts",
        title=f"Cold starts under a traffic burst time out: {pct(burst_rate)} of requests failing",
        severity=severity,
        summary=summary,
        evidence=evidence,
        remediation=_timeout_remediation(inputs, rows, conc, evidence, cause),
        confidence=confidence,
        related_changes=related,
        onset=None if onset_time is None or pd.isna(onset_time) else onset_time.isoformat().replace("+00:00", "Z"),
    )


def _window_start(inputs: Any) -> Any:
    w = getattr(inputs, "window", None)
    return w.start if w is not None else None


def _timeout_remediation(inputs: Any, req: pd.DataFrame | None, conc: dict[str, Any], evidence: dict[str, Any],
                         cause: dict[str, Any] | None = None) -> list[str]:
    function = _function_name(req) if req is not None else None
    target = f"`{function}`" if function else "the function"
    steps = []
    if cause is not None and cause["kind"] in ("provisioned-concurrency", "reserved-concurrency"):
        setting = "provisioned" if cause["kind"] == "provisioned-concurrency" else "reserved"
        steps.append(
            f"Undo the {setting}-concurrency change on `{cause['target']}` "
            f"{when_text(cause['timestamp'], _window_start(inputs))} ({cause['api']} by {blameless_actor(cause['actor'])}), "
            "then size it for the burst as below."
        )
    elif cause is not None:
        steps.append(f"Review {sentence(cause, reference=_window_start(inputs))[:-1]}: roll it back if the timeouts began with it.")
    peak = conc.get("concurrency_peak")
    if peak is not None:
        steps.append(
            f"Provision concurrency for the burst on {target}: about {int(math.ceil(peak))} environment"
            f"{'s' if math.ceil(peak) != 1 else ''} (peak concurrency "
            f"observed, {conc.get('concurrency_source', 'metrics')}), scheduled ahead of known peaks or driven by Application "
            "Auto Scaling on ProvisionedConcurrencyUtilization (target ~0.7)."
        )
    else:
        steps.append(
            f"Provision concurrency on {target} for the burst, sized from the ConcurrentExecutions Maximum seen at peak, "
            "scheduled ahead of known peaks or with Application Auto Scaling on ProvisionedConcurrencyUtilization."
        )
    if conc.get("concurrency_utilisation", 0.0) >= 0.8:
        steps.append(
            f"Concurrency reached {pct(conc['concurrency_utilisation'], 0)} of its limit ({conc['concurrency_limit']:.0f}, "
            f"{conc.get('concurrency_limit_source', 'limit')}): raise the reserved concurrency or request an account "
            "concurrency quota increase (Service Quotas, 'Concurrent executions') with headroom above the peak."
        )
    timeout_s, _ = _setting(getattr(inputs, "settings", None), "timeout")
    if timeout_s is not None and timeout_s * 1000 >= APIGW_INTEGRATION_TIMEOUT_MS:
        steps.append(
            f"The function timeout ({timeout_s:.0f} s) is at or above API Gateway's 29 s integration timeout: the gateway "
            "returns 504 while the function keeps running and holds its concurrency. Set the function timeout below the "
            "gateway's (e.g. 25 s) and time out downstream calls inside it."
        )
    else:
        steps.append(
            "Keep the function timeout below API Gateway's 29 s integration timeout (e.g. 25 s) so a slow cold start "
            "fails inside Lambda with a logged error instead of a gateway 504 while the function keeps running."
        )
    init = f" (init P50 {fmt_ms(evidence['init_p50_ms'])}, max {fmt_ms(evidence['init_max_ms'])})" if "init_p50_ms" in evidence else ""
    steps.append(
        f"Shorten cold starts{init}: SnapStart (Java 11+, Python 3.12+, .NET 8), lazy initialisation of SDK clients and "
        "connections, smaller packages; have clients retry 5XX/504 with exponential backoff and jitter."
    )
    return steps


def _timeouts_from_metrics(inputs: Any, req: pd.DataFrame | None, gw: dict[str, Any]) -> Any:
    if not gw:
        return None
    rate = gw.get("apigw_5xx_rate")
    source = "API Gateway 5XXError / Count"
    if rate is None and "lambda_error_rate" in gw:
        rate, source = gw["lambda_error_rate"], "Lambda Errors / Invocations"
    if rate is None or rate < 0.01:
        return None
    if "baseline_apigw_requests" in gw and gw["baseline_apigw_requests"] > 0:
        _, pb = two_proportion_z(gw["apigw_5xx"], gw["apigw_requests"], gw["baseline_apigw_5xx"],
                                 gw["baseline_apigw_requests"], alternative="greater")
        if pb >= 0.01:
            return None
    timeout_s, _ = _setting(getattr(inputs, "settings", None), "timeout")
    at_cap = gw.get("integration_latency_points_at_cap", 0) > 0
    near_fn_timeout = timeout_s is not None and gw.get("lambda_duration_max_ms", 0) >= _CAP_FRACTION * timeout_s * 1000
    if not (at_cap or near_fn_timeout):
        return None
    conc = _concurrency(inputs, None)
    near_limit = conc.get("concurrency_utilisation", 0.0) >= 0.8
    surge = conc.get("concurrency_baseline_median", 0) > 0 and conc.get("concurrency_peak", 0) >= 2 * conc["concurrency_baseline_median"]
    throttled = conc.get("lambda_throttles", 0) > 0
    if not (near_limit or surge or throttled):
        return None
    severity = severity_for_share(rate)
    confidence = 0.4 + (0.1 if near_limit else 0.0) + (0.05 if surge else 0.0) + (0.05 if throttled else 0.0)
    confidence = min(_cap_confidence(confidence, severity), 0.6)
    evidence = {"failure_rate": rate, "failure_rate_source": source, **gw,
                **{k: v for k, v in conc.items() if not k.endswith("_source")}}
    summary = f"{pct(rate)} of requests failed ({source})"
    if at_cap:
        evidence["integration_timeout_ms"] = APIGW_INTEGRATION_TIMEOUT_MS
        summary += f" while IntegrationLatency reached {fmt_ms(gw['integration_latency_max_ms'])}, API Gateway's 29 s cap"
    elif near_fn_timeout:
        summary += f" while Lambda Duration reached {fmt_ms(gw['lambda_duration_max_ms'])} of a {timeout_s:.0f} s timeout"
    summary += "."
    if surge:
        summary += f" Lambda concurrency rose to {conc['concurrency_peak']:.0f} from a baseline median of {conc['concurrency_baseline_median']:.0f}: new environments, i.e. cold starts."
    if near_limit:
        summary += f" It reached {pct(conc['concurrency_utilisation'], 0)} of its limit ({conc['concurrency_limit']:.0f})."
    if throttled:
        summary += f" Lambda throttled {conc['lambda_throttles']:.0f} invocations."
    summary += " Request-level logs (REPORT lines with Init Duration) would confirm the cold starts."
    related = _timeout_changes(inputs, req, None)
    cause = related[0] if related else None
    evidence.update(related_evidence(cause))
    if cause is not None:
        summary += " " + sentence(cause, reference=_window_start(inputs), onset_known=False)
    return Finding(
        id="cold-start-timeouts",
        title=f"Burst of new Lambda environments with gateway timeouts: {pct(rate)} of requests failing",
        severity=severity,
        summary=summary,
        evidence=evidence,
        remediation=_timeout_remediation(inputs, req, conc, {}, cause),
        confidence=confidence,
        related_changes=related,
    )
