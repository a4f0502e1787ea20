"""Latency: percentiles over time, and who makes the tail.

Questions this module answers, each with a pure function on a requests frame
(``schema.REQUEST_COLUMNS``: ``timestamp``, ``latency_ms``, ``cold_start``, ...):

* :func:`percentiles` — count, P50/P90/P99 and max per time bin (and per group);
* :func:`tail_attribution` — which values (cold start, route, version...) the requests
  above the P99 carry, against their share of all requests (lift, z-test);
* :func:`percentiles_excluding` — the percentiles with and without cold starts;
* :func:`tail_vs_traffic` — P99 and cold-start rate by traffic level (the quiet-hours
  signature of cold starts after idle periods: high P99, many cold starts, low traffic);
* :func:`heatmap` — request counts per time bin and log-spaced latency bucket.

The findings built on them (``cold-start-tail``, ``cold-start-timeouts``) are in
:mod:`incidentkit.findings.detectors`; the Lambda concurrency and gateway numbers they add are in
:mod:`.lambda_capacity`.

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

from ._common import (
    UTC_NS,
    as_utc,
    auto_bin,
    benjamini_hochberg,
    bin_floor,
    flag,
    to_timedelta,
    two_proportion_z,
)
# what a request waited and whether it started cold lived here before it got its module; the names stay reachable
from .request_timing import cold_starts, request_latency

__all__ = [
    "percentiles",
    "tail_attribution",
    "percentiles_excluding",
    "tail_vs_traffic",
    "heatmap",
    "request_latency",
    "cold_starts",
    "APIGW_INTEGRATION_TIMEOUT_MS",
    "SUSTAINED_BIN_SHARE",
    "CAP_FRACTION",
    "quantile_name",
]

#: The share of time bins a per-bin tail must hold to be more than a blip: with fewer, the P95 of the
#: per-bin P99 (what the dashboard shows 19 bins out of 20) does not move.
SUSTAINED_BIN_SHARE = 0.05
#: API Gateway's default (and, for REST APIs, usual maximum) integration timeout.
APIGW_INTEGRATION_TIMEOUT_MS = 29_000.0
#: A latency within this fraction of the gateway timeout counts as "at the cap".
CAP_FRACTION = 0.95

MISSING = "(missing)"
OTHER = "(other)"


# --------------------------------------------------------------------------- helpers


def quantile_name(q: float) -> str:
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
    qnames = [quantile_name(q) for q in quantiles]
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
    qnames = [quantile_name(q) for q in quantiles]
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
    if not binned:  # the latency is per row: computed once and masked, not once per copied subset frame
        v_all = request_latency(requests, value).to_numpy(dtype="float64")
        known = ~np.isnan(v_all)
        n_all = int(known.sum())
        rows = []
        m = mask.to_numpy(dtype=bool)
        for name, keep in zip(subsets, (known, known & ~m, known & m)):
            v = v_all[keep]
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
    parts = {subsets[0]: requests, subsets[1]: requests[~mask.to_numpy()], subsets[2]: requests[mask.to_numpy()]}
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
    qn = quantile_name(q)
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
