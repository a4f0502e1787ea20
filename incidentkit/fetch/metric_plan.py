"""Planning GetMetricData calls: the fewest requests that respect the API's limits.

GetMetricData takes at most :data:`MAX_QUERIES_PER_CALL` queries and returns at most
:data:`MAX_DATAPOINTS_PER_CALL` datapoints a call: :func:`plan_calls` groups the queries by
region and period, aligns the window on the period and cuts it into query batches and time
slices with the minimum number of calls (a :class:`CallPlan`), without calling AWS. Everything
here is re-exported by :mod:`incidentkit.fetch.metrics`.

Example
-------
>>> from incidentkit.fetch.metric_query import query
>>> w = Window.parse("2026-03-01T03:00Z", "2026-03-01T04:00Z")
>>> plan_calls([query("App", "Latency", {"Host": "h1"})], w, period=60, now=pd.Timestamp("2026-03-01T05:00Z")).n_calls
1
"""

from __future__ import annotations

import dataclasses
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import pandas as pd

from ..window import TimeLike, Window, now_utc
from ..window import as_window as _as_window
from .metric_periods import _aligned, choose_period, validate_period
from .metric_query import MetricQuery, as_queries

#: GetMetricData accepts at most this many MetricDataQuery structures per call.
MAX_QUERIES_PER_CALL = 500
#: ... and returns at most this many datapoints per call before paginating.
MAX_DATAPOINTS_PER_CALL = 100_800


@dataclass(frozen=True)
class PlannedCall:
    """One GetMetricData request (its pages are followed with NextToken)."""

    region: str | None
    queries: tuple[MetricQuery, ...]  # each with its period set
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def datapoints(self) -> int:
        """The most datapoints this call can return (sum over queries of slice / period)."""
        seconds = (self.end - self.start).total_seconds()
        return sum(math.ceil(seconds / q.period) for q in self.queries)  # type: ignore[operator]

    def to_aws(self) -> dict[str, Any]:
        """The GetMetricData parameters (without NextToken)."""
        return {
            "MetricDataQueries": [q.to_aws() for q in self.queries],
            "StartTime": self.start.to_pydatetime(),
            "EndTime": self.end.to_pydatetime(),
            "ScanBy": "TimestampAscending",
        }


@dataclass(frozen=True)
class CallPlan:
    """How :func:`get` splits a fetch into GetMetricData calls.

    ``calls`` lists the requests; ``groups`` has one entry per (region, period) group
    with its query batches and time slices; ``min_calls`` is the lower bound
    ``max(ceil(queries / 500), ceil(datapoints / 100,800))`` summed over regions.
    """

    calls: tuple[PlannedCall, ...]
    queries: tuple[MetricQuery, ...]
    groups: tuple[dict[str, Any], ...]
    min_calls: int

    @property
    def n_calls(self) -> int:
        """Number of requests (pages beyond the first are extra, if AWS returns any)."""
        return len(self.calls)

    def to_dict(self) -> dict[str, Any]:
        """Summary for ``df.attrs["plan"]``."""
        return {"calls": self.n_calls, "min_calls": self.min_calls, "groups": [dict(g) for g in self.groups]}


def _even_chunks(items: Sequence[Any], parts: int) -> list[list[Any]]:
    n = len(items)
    edges = [n * i // parts for i in range(parts + 1)]
    return [list(items[a:b]) for a, b in zip(edges, edges[1:]) if b > a]


def _best_grid(n: int, points: int) -> tuple[int, int]:
    """(query batches, time slices) minimising batches * slices under the call limits."""
    best: tuple[int, int, int] | None = None
    for k in range(math.ceil(n / MAX_QUERIES_PER_CALL), n + 1):
        b = math.ceil(n / k)
        per_slice = min(points, MAX_DATAPOINTS_PER_CALL // b)
        slices = math.ceil(points / per_slice)
        calls = k * slices
        if best is None or calls < best[0]:
            best = (calls, k, slices)
        if k >= best[0]:
            break
    assert best is not None
    return best[1], best[2]


def _plan_group(
    queries: list[MetricQuery], window: Window, period: int, region: str | None
) -> tuple[list[PlannedCall], dict[str, Any]]:
    start, end = _aligned(window, period)
    points = math.ceil((end - start).total_seconds() / period)
    k, slices = _best_grid(len(queries), points)
    batches = _even_chunks(queries, k)
    edges = [points * i // slices for i in range(slices + 1)]
    step = pd.Timedelta(seconds=period)
    calls = [
        PlannedCall(region, tuple(batch), start + step * a, start + step * b)
        for a, b in zip(edges, edges[1:])
        if b > a
        for batch in batches
    ]
    lower = max(math.ceil(len(queries) / MAX_QUERIES_PER_CALL), math.ceil(len(queries) * points / MAX_DATAPOINTS_PER_CALL))
    group = {
        "region": region,
        "period": period,
        "queries": len(queries),
        "points_per_query": points,
        "query_batches": len(batches),
        "time_slices": slices,
        "calls": len(calls),
        "min_calls": lower,
        "start": start.isoformat().replace("+00:00", "Z"),
        "end": end.isoformat().replace("+00:00", "Z"),
    }
    return calls, group


def _pack_without_slicing(queries: list[MetricQuery], window: Window, region: str | None) -> list[PlannedCall] | None:
    """Queries of several periods in as few whole-window calls as possible (first-fit decreasing)."""
    start = min(_aligned(window, q.period)[0] for q in queries)  # type: ignore[arg-type]
    end = max(_aligned(window, q.period)[1] for q in queries)  # type: ignore[arg-type]
    seconds = (end - start).total_seconds()
    weights = [(math.ceil(seconds / q.period), q) for q in queries]  # type: ignore[operator]
    if any(w > MAX_DATAPOINTS_PER_CALL for w, _ in weights):
        return None
    bins: list[tuple[int, list[MetricQuery]]] = []
    for w, q in sorted(weights, key=lambda x: -x[0]):
        for i, (load, members) in enumerate(bins):
            if load + w <= MAX_DATAPOINTS_PER_CALL and len(members) < MAX_QUERIES_PER_CALL:
                members.append(q)
                bins[i] = (load + w, members)
                break
        else:
            bins.append((w, [q]))
    return [PlannedCall(region, tuple(members), start, end) for _, members in bins]


def plan_calls(
    queries: MetricQuery | Iterable[MetricQuery],
    window: Window | tuple[TimeLike, TimeLike],
    *,
    period: int | None = None,
    region: str | None = None,
    now: pd.Timestamp | None = None,
) -> CallPlan:
    """Plan the GetMetricData calls of a fetch, without calling AWS.

    Each query gets its period (its own, else ``period``, else :func:`choose_period`),
    checked against the window's age. Queries are grouped by region and period; within
    a group the window is aligned on the period and cut into equal query batches
    (<= 500) and equal time slices on period boundaries, choosing the split with the
    fewest calls such that every call stays within 100,800 datapoints.

    Example
    -------
    >>> from incidentkit.fetch.metric_query import query
    >>> ref = pd.Timestamp("2026-03-01T05:00:00Z")
    >>> w = Window.parse("2026-03-01T03:00Z", "2026-03-01T04:00Z")
    >>> qs = [query("App", "Latency", {"Host": f"h{i}"}) for i in range(1200)]
    >>> plan_calls(qs, w, period=60, now=ref).n_calls
    3
    >>> w7 = Window.parse("2026-02-22T04:00Z", "2026-03-01T04:00Z")
    >>> p = plan_calls(qs[:300], w7, period=60, now=ref)
    >>> p.n_calls, p.groups[0]["query_batches"], p.groups[0]["time_slices"]
    (30, 1, 30)
    """
    qs = as_queries(queries)
    win = _as_window(window)
    ref = now if now is not None else now_utc()
    default_period = validate_period(period, win, now=ref) if period is not None else None
    auto: int | None = None
    resolved: list[MetricQuery] = []
    for q in qs:
        if q.period is not None:
            p = validate_period(q.period, win, now=ref, query_id=q.id)
        elif default_period is not None:
            p = default_period
        else:
            if auto is None:
                auto = choose_period(win, now=ref)
            p = auto
        resolved.append(q if q.period == p else dataclasses.replace(q, period=p))

    by_region: "OrderedDict[str | None, list[MetricQuery]]" = OrderedDict()
    for q in resolved:
        by_region.setdefault(q.region or region, []).append(q)

    calls: list[PlannedCall] = []
    groups: list[dict[str, Any]] = []
    lower_total = 0
    for reg, members in by_region.items():
        by_period: "OrderedDict[int, list[MetricQuery]]" = OrderedDict()
        for q in members:
            by_period.setdefault(q.period, []).append(q)  # type: ignore[arg-type]
        region_calls: list[PlannedCall] = []
        region_groups: list[dict[str, Any]] = []
        for p, group_queries in by_period.items():
            c, g = _plan_group(group_queries, win, p, reg)
            region_calls.extend(c)
            region_groups.append(g)
        # lower bound for the region: the query limit, and all datapoints over the 100,800 limit
        region_points = sum(g["points_per_query"] * g["queries"] for g in region_groups)
        region_lower = max(math.ceil(len(members) / MAX_QUERIES_PER_CALL), math.ceil(region_points / MAX_DATAPOINTS_PER_CALL))
        if len(by_period) > 1:
            packed = _pack_without_slicing(members, win, reg)
            if packed is not None and len(packed) < len(region_calls):
                region_calls = packed
                region_groups = [
                    {
                        "region": reg,
                        "period": sorted(by_period),
                        "queries": len(members),
                        "query_batches": len(packed),
                        "time_slices": 1,
                        "calls": len(packed),
                        "min_calls": region_lower,
                        "start": packed[0].start.isoformat().replace("+00:00", "Z"),
                        "end": packed[0].end.isoformat().replace("+00:00", "Z"),
                    }
                ]
        calls.extend(region_calls)
        groups.extend(region_groups)
        lower_total += region_lower
    return CallPlan(tuple(calls), tuple(resolved), tuple(groups), lower_total)
