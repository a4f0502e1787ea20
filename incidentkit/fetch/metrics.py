"""CloudWatch metrics as one long, tidy DataFrame.

:func:`get` runs ``GetMetricData`` for a list of :class:`MetricQuery` over a
:class:`~incidentkit.window.Window` and returns one row per datapoint with the fixed
columns of :data:`incidentkit.schema.METRIC_COLUMNS`::

    timestamp (UTC) | query_id | label | namespace | metric_name | dimensions | stat | period | value

What it takes care of:

* **limits** -- at most 500 queries and 100,800 datapoints per call. The queries are
  split into batches and the window into time slices so that the number of calls is
  the minimum (:func:`plan_calls` shows the plan without calling AWS); for N queries
  over a window that fits one call, exactly ``ceil(N / 500)`` calls. ``NextToken`` is
  followed whenever AWS returns one.
* **periods** -- chosen from the window's length *and age* (CloudWatch keeps sub-minute
  data 3 hours, 1-minute data 15 days, 5-minute data 63 days, hourly data 455 days), or
  given and checked: a period AWS cannot answer for that window raises a clear error
  instead of returning an empty frame.
* **statistics** -- ``Average Sum Minimum Maximum SampleCount``, percentiles ``p0``..``p100``
  (``p99.9``), trimmed/winsorized means, trimmed counts and sums, percentile rank and
  ``IQM`` (see :func:`canonical_stat`).
* **completeness** -- a result left ``PartialData`` (or ``InternalError``/``Forbidden``), a
  repeated ``NextToken`` and every ``Messages`` entry become one-line ``issues`` in
  ``df.attrs`` (with ``complete=False``) and an :class:`~incidentkit.errors.IncompleteDataWarning`.
* **provenance** -- ``df.attrs`` holds the exact queries, the aligned window, the call
  plan, the API calls made (pages included) and botocore's retry count.

Presets for the services of the incident catalogue (:func:`lambda_function`,
:func:`api_gateway`, :func:`alb`, :func:`target_group`, :func:`dynamodb_table`,
:func:`rds_instance`, :func:`route53_health_check`, :func:`ec2_instance`, ...) live in
:mod:`incidentkit.fetch.metric_presets` and are re-exported here.

Example
-------
>>> from incidentkit.fetch import metrics
>>> from incidentkit.window import Window
>>> w = Window.parse("-2h", "now")
>>> qs = metrics.lambda_function("api-handler")                 # doctest: +SKIP
>>> df = metrics.get(qs, w, region="eu-west-1")                 # doctest: +SKIP
>>> metrics.series(df, "Duration", stat="p99")                  # doctest: +SKIP
>>> q = metrics.query("AWS/Lambda", "Errors", {"FunctionName": "api-handler"}, "Sum")
>>> q.id, q.label
('lambda_errors_api_handler_sum', 'api-handler Errors Sum')
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import aws
from .. import schema
from .._util.progress import progress_enabled
from ..errors import BadWindowError, IncidentKitError, IncompleteDataWarning, ParameterError, from_botocore
from .metric_presets import (  # the presets, re-exported here
    HISTORY_SPAN_DAYS,
    alb,
    api_gateway,
    dynamodb_table,
    ec2_instance,
    lambda_account,
    lambda_function,
    load_balancer_dimension,
    rds_instance,
    route53_health_check,
    target_group,
    target_group_dimension,
)
from .metric_query import STANDARD_STATS, MetricQuery, canonical_stat, check_period_shape, make_id
from ..window import TimeLike, Window, now_utc
from ..window import as_window as _as_window

__all__ = [
    "MetricQuery",
    "query",
    "as_queries",
    "make_id",
    "canonical_stat",
    "STANDARD_STATS",
    "MAX_QUERIES_PER_CALL",
    "MAX_DATAPOINTS_PER_CALL",
    "RETENTION",
    "choose_period",
    "validate_period",
    "HISTORY_SPAN",
    "history_window",
    "PlannedCall",
    "CallPlan",
    "plan_calls",
    "get",
    "from_responses",
    "series",
    "wide",
    # presets (incidentkit.fetch.metric_presets)
    "lambda_function",
    "lambda_account",
    "api_gateway",
    "alb",
    "target_group",
    "dynamodb_table",
    "rds_instance",
    "route53_health_check",
    "ec2_instance",
    "load_balancer_dimension",
    "target_group_dimension",
]

log = logging.getLogger(__name__)

#: GetMetricData accepts at most this many MetricDataQuery structures per call.
MAX_QUERIES_PER_CALL = 500
#: ... and returns at most this many datapoints per call before paginating.
MAX_DATAPOINTS_PER_CALL = 100_800

#: CloudWatch retention: data at ``resolution`` seconds (or finer, for 1) is kept ``kept``.
#: A window whose start is older than a tier's ``kept`` can only be read with a period
#: that is a multiple of the next tier's resolution.
RETENTION: tuple[tuple[int, pd.Timedelta], ...] = (
    (1, pd.Timedelta(hours=3)),  # sub-minute (high-resolution) periods
    (60, pd.Timedelta(days=15)),
    (300, pd.Timedelta(days=63)),
    (3600, pd.Timedelta(days=455)),
)
# AWS evaluates the age when the request arrives; keep a margin at tier boundaries.
_AGE_SLACK = pd.Timedelta(minutes=10)
_NICE_PERIODS = (60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
_DEFAULT_MAX_POINTS = 1440


_INCOMPLETE_STATUSES = {"PartialData", "InternalError", "Forbidden"}


def query(
    namespace: str,
    metric_name: str,
    dimensions: Mapping[str, str] | None = None,
    stat: str = "Average",
    *,
    id: str | None = None,
    label: str | None = None,
    period: int | None = None,
    unit: str | None = None,
    region: str | None = None,
) -> MetricQuery:
    """Build a :class:`MetricQuery`, deriving the id from the metric when none is given.

    The derived id is ``<service>_<metric>_<dimension values>_<stat>`` made safe with
    :func:`make_id`, e.g. ``lambda_duration_api_handler_p99``.

    Example
    -------
    >>> query("AWS/EC2", "CPUUtilization", {"InstanceId": "i-0abc"}, "max").id
    'ec2_cpuutilization_i_0abc_maximum'
    """
    dims = dict(dimensions or {})
    canonical = canonical_stat(stat)
    if id is None:
        service = namespace.split("/", 1)[1] if namespace.startswith("AWS/") else namespace
        id = make_id(service, metric_name, *[dims[k] for k in sorted(dims)], canonical)
    return MetricQuery(
        id=id, namespace=namespace, metric_name=metric_name, dimensions=dims, stat=canonical,
        period=period, label=label, unit=unit, region=region,
    )


def as_queries(queries: MetricQuery | Iterable[MetricQuery] | Iterable[Mapping[str, Any]]) -> list[MetricQuery]:
    """Queries in any form :func:`get` takes (one, a list, ``MetricQuery.to_dict`` dicts) as a list, each id once.

    Example
    -------
    >>> [q.id for q in as_queries(lambda_function("api")[:2] + lambda_function("api")[:1])]
    ['lambda_api_invocations_sum', 'lambda_api_errors_sum']
    """
    if isinstance(queries, (MetricQuery, Mapping)):
        queries = [queries]  # type: ignore[list-item]
    if isinstance(queries, (str, bytes)):
        raise ParameterError("queries must be MetricQuery objects (see metrics.query or the presets), not text")
    out: "OrderedDict[str, MetricQuery]" = OrderedDict()
    for q in queries:
        if isinstance(q, Mapping):
            q = MetricQuery.from_dict(q)
        if not isinstance(q, MetricQuery):
            raise ParameterError(f"queries must be MetricQuery objects, got {type(q).__name__}")
        prev = out.get(q.id)
        if prev is None:
            out[q.id] = q
        elif prev != q:
            raise ParameterError(
                f"two different queries share the id {q.id!r}; give one a distinct id "
                "(dataclasses.replace(q, id=...)) or a preset prefix",
                query_id=q.id,
            )
    return list(out.values())


# --- periods --------------------------------------------------------------------------------------


def _tier_needed(age_start: pd.Timestamp, now: pd.Timestamp) -> int | None:
    # Start older than 3 h -> multiple of 60; older than 15 d -> 300; older than 63 d -> 3600.
    age = now - age_start + _AGE_SLACK
    if age <= RETENTION[0][1]:
        return 1
    if age <= RETENTION[1][1]:
        return 60
    if age <= RETENTION[2][1]:
        return 300
    if age <= RETENTION[3][1]:
        return 3600
    return None


def _expired(window: Window, now: pd.Timestamp) -> BadWindowError:
    oldest = now - RETENTION[-1][1] + _AGE_SLACK
    days = (now - window.start) / pd.Timedelta(days=1)
    return BadWindowError(
        f"the window starts {days:.0f} days ago; CloudWatch keeps metrics for 455 days, "
        f"so start after {oldest.floor('h').isoformat()}",
        window=str(window),
    )


def _floor(ts: pd.Timestamp, seconds: int) -> pd.Timestamp:
    ns = seconds * 1_000_000_000
    return pd.Timestamp((ts.value // ns) * ns, unit="ns", tz="UTC")


def _ceil(ts: pd.Timestamp, seconds: int) -> pd.Timestamp:
    ns = seconds * 1_000_000_000
    return pd.Timestamp(-((-ts.value) // ns) * ns, unit="ns", tz="UTC")


def _aligned(window: Window, period: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    # Align on whole periods (and at least whole seconds) so time slices never cut a bucket.
    unit = period if period >= 60 else max(period, 1)
    return _floor(window.start, unit), _ceil(window.end, unit)


def choose_period(
    window: Window | tuple[TimeLike, TimeLike],
    *,
    now: pd.Timestamp | None = None,
    max_points: int = _DEFAULT_MAX_POINTS,
) -> int:
    """The period :func:`get` uses when none is given.

    The smallest "round" period (60 s, 2, 3, 5, 10, 15, 20, 30 min, 1, 2, 3, 6, 12 h, 1 d,
    whole days) that (a) CloudWatch still holds for the age of the window's start
    (multiple of 60 s up to 15 days, of 5 min up to 63 days, of 1 h up to 455 days) and
    (b) gives at most ``max_points`` points per series (1,440 by default: one day at
    one-minute resolution).

    Raises
    ------
    BadWindowError
        When the window starts more than 455 days ago (CloudWatch has nothing).

    Example
    -------
    >>> ref = pd.Timestamp("2026-03-02T00:00:00Z")
    >>> w = Window.parse("2026-03-01T03:00Z", "2026-03-01T04:00Z")
    >>> choose_period(w, now=ref)
    60
    >>> choose_period(Window.parse("2026-02-22T00:00Z", "2026-03-01T00:00Z"), now=ref)
    600
    >>> choose_period(Window.parse("2026-01-10T00:00Z", "2026-01-10T06:00Z"), now=ref)
    300
    """
    win = _as_window(window)
    ref = now if now is not None else now_utc()
    if max_points < 1:
        raise ParameterError(f"max_points={max_points} must be at least 1")
    seconds = win.duration.total_seconds()
    candidates = list(_NICE_PERIODS)
    top = _NICE_PERIODS[-1]
    while top * max_points < seconds:
        top += 86400
        candidates.append(top)
    for period in candidates:
        start, end = _aligned(win, period)
        need = _tier_needed(start, ref)
        if need is None:
            raise _expired(win, ref)
        if period % need:
            continue
        if math.ceil((end - start).total_seconds() / period) <= max_points:
            return period
    return candidates[-1]  # pragma: no cover - the loop above always finds one


#: How far back a schedule history reaches: a week shows daily and weekday jobs.
HISTORY_SPAN = pd.Timedelta(days=HISTORY_SPAN_DAYS)
#: Points a history series holds at most: a week at 5 minutes.
HISTORY_MAX_POINTS = 2016


def history_window(
    window: Window | tuple[TimeLike, TimeLike],
    *,
    span: pd.Timedelta = HISTORY_SPAN,
    now: pd.Timestamp | None = None,
) -> tuple[Window, int]:
    """The window and period of a coarse history before ``window``, for questions only days of data answer.

    A burst at 06:00 is a daily job only if 06:00 stands out on the days before; the incident's
    own metrics (a few hours, at 1 minute) cannot show that. The history covers ``span`` before
    the window's start at the finest period CloudWatch still keeps for that age (multiples of
    60 s up to 15 days old, 300 s up to 63 days, 3600 s up to 455 days) with at most
    :data:`HISTORY_MAX_POINTS` points a series (a week at 5 minutes: short enough to see a
    four-minute burst).

    Example
    -------
    >>> w = Window.parse("2026-03-08T06:00Z", "2026-03-08T07:00Z")
    >>> hist, period = history_window(w, now=pd.Timestamp("2026-03-08T08:00Z"))
    >>> str(hist), period
    ('2026-03-01T06:00:00Z → 2026-03-08T06:00:00Z (168 h)', 300)
    >>> history_window(w, now=pd.Timestamp("2026-05-01T00:00Z"))[1]      # older than 15 days: 5-minute data at best
    300
    """
    win = _as_window(window)
    hist = Window(win.start - span, win.start)
    return hist, choose_period(hist, now=now, max_points=HISTORY_MAX_POINTS)


def validate_period(
    period: int,
    window: Window | tuple[TimeLike, TimeLike],
    *,
    now: pd.Timestamp | None = None,
    query_id: str | None = None,
) -> int:
    """Check that CloudWatch can answer ``period`` for ``window``; return it as ``int``.

    AWS rules (MetricStat.Period): 1, 5, 10, 20, 30 (high-resolution metrics) or a
    multiple of 60; and when the start is older than 3 hours a multiple of 60, older than
    15 days a multiple of 300, older than 63 days a multiple of 3600 -- otherwise AWS
    returns *no datapoints*, silently. Nothing is older than 455 days.

    Raises
    ------
    ParameterError
        The period is malformed or too fine for the age of the window (the message
        names the finest period that works).
    BadWindowError
        The window starts more than 455 days ago.

    Example
    -------
    >>> ref = pd.Timestamp("2026-03-21T00:00:00Z")
    >>> validate_period(300, Window.parse("2026-03-01T00:00Z", "2026-03-01T06:00Z"), now=ref)
    300
    >>> validate_period(60, Window.parse("2026-03-01T00:00Z", "2026-03-01T06:00Z"), now=ref)
    Traceback (most recent call last):
    ...
    incidentkit.errors.ParameterError: period 60 s cannot be answered for a window starting 20 days ago: ...
    """
    win = _as_window(window)
    ref = now if now is not None else now_utc()
    p = check_period_shape(period)
    start, _ = _aligned(win, p)
    need = _tier_needed(start, ref)
    if need is None:
        raise _expired(win, ref)
    if p % need:
        age = ref - win.start
        age_text = f"{age / pd.Timedelta(days=1):.0f} days" if age >= pd.Timedelta(days=2) else f"{age / pd.Timedelta(hours=1):.1f} hours"
        tier = {60: "3 hours (sub-minute data)", 300: "15 days (1-minute data)", 3600: "63 days (5-minute data)"}[need]
        raise ParameterError(
            f"period {p} s cannot be answered for a window starting {age_text} ago: CloudWatch keeps only "
            f"{tier}, so use a multiple of {need} s (e.g. {max(need, _round_up(p, need))})",
            query_id=query_id,
            window=str(win),
        )
    return p


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


# --- planning -------------------------------------------------------------------------------------


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


# --- fetching -------------------------------------------------------------------------------------


def _default_region(session: Any, region: str | None, endpoint_url: str | None) -> str | None:
    if region:
        return region
    import boto3

    name = (session or boto3.Session()).region_name
    if not name and (endpoint_url or os.environ.get("AWS_ENDPOINT_URL")):
        name = aws.DEFAULT_REGION
    return name


def _progress_bar(total: int) -> Any:
    if total < 20 or not progress_enabled():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, desc="GetMetricData", unit="call", leave=False)


@dataclass
class _CallOutcome:
    pages: list[dict[str, Any]]
    api_calls: int = 0
    retries: int = 0
    issues: list[str] = field(default_factory=list)


_MAX_PAGES = 10_000


def _run_call(client: Any, call: PlannedCall, window: Window) -> _CallOutcome:
    from botocore.exceptions import BotoCoreError, ClientError

    params = call.to_aws()
    outcome = _CallOutcome(pages=[])
    seen: set[str] = set()
    token: str | None = None
    while True:
        kwargs = dict(params)
        if token:
            kwargs["NextToken"] = token
        try:
            response = client.get_metric_data(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            outcome.api_calls += 1  # the failed call, after its retries: counted, and its earlier pages kept
            outcome.retries += aws.retry_attempts(getattr(exc, "response", None))
            ids = [q.id for q in call.queries]
            err = from_botocore(
                exc,
                service="cloudwatch",
                operation="GetMetricData",
                region=call.region,
                window=str(window),
                slice=f"{call.start.isoformat()}..{call.end.isoformat()}",
                query_ids=", ".join(ids[:5]) + (f" (+{len(ids) - 5} more)" if len(ids) > 5 else ""),
            )
            err.outcome = outcome  # type: ignore[attr-defined]
            raise err from exc
        outcome.api_calls += 1
        outcome.retries += aws.retry_attempts(response)
        outcome.pages.append(response)
        token = response.get("NextToken") or None
        if not token:
            break
        if token in seen:
            outcome.issues.append(
                f"GetMetricData returned the same NextToken twice for {call.start.isoformat()}..{call.end.isoformat()}; "
                "stopped paging there (later datapoints of that slice may be missing)"
            )
            break
        seen.add(token)
        if len(outcome.pages) >= _MAX_PAGES:
            outcome.issues.append(f"GetMetricData still paging after {_MAX_PAGES} pages; stopped")
            break
    return outcome


def get(
    queries: MetricQuery | Iterable[MetricQuery],
    window: Window | tuple[TimeLike, TimeLike],
    *,
    period: int | None = None,
    concurrency: int = 4,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
) -> pd.DataFrame:
    """Fetch metrics with GetMetricData into a long DataFrame.

    Parameters
    ----------
    queries:
        :class:`MetricQuery` objects (a preset's list, several presets concatenated,
        or :func:`query` results). Ids must be unique; identical duplicates are merged.
    window:
        A :class:`~incidentkit.window.Window` or a ``(start, end)`` pair of times.
    period:
        Seconds, for every query without its own period; default: :func:`choose_period`.
        Checked with :func:`validate_period`.
    concurrency:
        GetMetricData requests in flight at once (AWS allows 50 per second).
    session, region, endpoint_url, max_attempts:
        Passed to :func:`incidentkit.fetch.aws.client`. A query with its own ``region`` is
        fetched from that region.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~incidentkit.schema.METRIC_COLUMNS`, sorted by ``query_id`` then
        ``timestamp``; periods without data have no row (CloudWatch returns none).
        ``df.attrs``: ``source="metrics.get"``, ``query`` (the queries, aligned window,
        periods), ``plan``, ``api_calls`` (pages included), ``retries``, ``complete``,
        ``truncated``, ``issues``.

    Raises
    ------
    ParameterError, BadWindowError
        Bad query, statistic or period; window beyond retention.
    AwsError
        Mapped from botocore with context (``ThrottledError`` once the retry budget is spent).

    Warns
    -----
    IncompleteDataWarning
        When a result stayed ``PartialData``/``InternalError``/``Forbidden`` after paging,
        or AWS returned messages.

    Example
    -------
    >>> df = get(lambda_function("api-handler"), ("-3h", "now"), region="eu-west-1")  # doctest: +SKIP
    >>> df.attrs["api_calls"], df.attrs["complete"]                                       # doctest: +SKIP
    (1, True)
    """
    started = time.monotonic()
    qs = as_queries(queries)
    win = _as_window(window)
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise ParameterError(f"concurrency={concurrency!r} must be a whole number >= 1")
    default_region = _default_region(session, region, endpoint_url)
    now = now_utc()
    plan = plan_calls(qs, win, period=period, region=default_region, now=now)

    from botocore.exceptions import BotoCoreError

    clients: dict[str | None, Any] = {}
    for call in plan.calls:
        if call.region not in clients:
            try:
                clients[call.region] = aws.client(
                    "cloudwatch", session=session, region=call.region, endpoint_url=endpoint_url, max_attempts=max_attempts
                )
            except BotoCoreError as exc:
                raise from_botocore(exc, service="cloudwatch", operation="GetMetricData", region=call.region) from exc

    outcomes: list[_CallOutcome] = []
    bar = _progress_bar(len(plan.calls))
    try:
        if len(plan.calls) <= 1 or concurrency == 1:
            for call in plan.calls:
                outcomes.append(_run_call(clients[call.region], call, win))
                if bar is not None:
                    bar.update(1)
        else:
            with ThreadPoolExecutor(max_workers=min(concurrency, len(plan.calls)), thread_name_prefix="incidentkit-metrics") as pool:
                futures = [pool.submit(_run_call, clients[c.region], c, win) for c in plan.calls]
                try:
                    for fut in futures:
                        outcomes.append(fut.result())
                        if bar is not None:
                            bar.update(1)
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    # keep every call that did complete, whatever the order they finished in, and what failed ones read
                    ended = [f for f in futures if f.done() and not f.cancelled()]
                    outcomes[:] = [f.result() if f.exception() is None else getattr(f.exception(), "outcome", None)
                                   for f in ended]  # fmt: skip
                    outcomes[:] = [o for o in outcomes if o is not None]
                    raise
    except IncidentKitError as err:
        failed_call = getattr(err, "outcome", None)
        if failed_call is not None and all(o is not failed_call for o in outcomes):
            outcomes.append(failed_call)
        # evidence is never thrown away: the calls that completed go with the error, flagged incomplete
        err.partial = _assemble(outcomes, plan, win, default_region, started, failed=err)  # type: ignore[attr-defined]
        raise
    finally:
        if bar is not None:
            bar.close()

    df = _assemble(outcomes, plan, win, default_region, started)
    if df.attrs["issues"]:
        _warn_incomplete(df.attrs["issues"], stacklevel=3)
    log.debug("metrics.get: %d queries, %d calls, %d rows", len(plan.queries), df.attrs["api_calls"], len(df))
    return df


def _assemble(
    outcomes: list[_CallOutcome], plan: Any, win: Window, default_region: str | None, started: float,
    *, failed: BaseException | None = None,
) -> pd.DataFrame:
    """The frame of the calls made, with its provenance (``failed``: the error that stopped the rest)."""
    df = from_responses([o.pages for o in outcomes], plan.queries, warn=False)
    issues = [i for o in outcomes for i in o.issues] + list(df.attrs.get("issues", []))
    truncated = bool(df.attrs.get("truncated", False)) or any(o.issues for o in outcomes)
    if failed is not None:
        done = len(outcomes)
        issues.append(
            f"fetch failed after {done} of {len(plan.calls)} GetMetricData calls: "
            f"{getattr(failed, 'message', failed)}; the datapoints of the other calls are missing"
        )
        truncated = True
    regions = sorted({c.region for c in plan.calls if c.region}) or ([default_region] if default_region else [])
    periods = sorted({q.period for q in plan.queries})  # type: ignore[type-var]
    query_doc = {
        "api": "cloudwatch:GetMetricData",
        "queries": [q.to_dict() for q in plan.queries],
        "periods": periods,
        "aligned": [{"region": g["region"], "period": g["period"], "start": g["start"], "end": g["end"]} for g in plan.groups],
        "scan_by": "TimestampAscending",
    }
    complete = bool(df.attrs.get("complete", True)) and not issues
    df.attrs.clear()
    df.attrs.update(
        schema.provenance(
            "metrics.get",
            query=query_doc,
            window=win,
            region=",".join(r for r in regions if r) or None,
            api_calls=sum(o.api_calls for o in outcomes),
            retries=sum(o.retries for o in outcomes),
            elapsed_s=time.monotonic() - started,
            complete=complete,
            truncated=truncated,
            issues=issues,
            plan=plan.to_dict(),
            points=len(df),
        )
    )
    return df


def _warn_incomplete(issues: list[str], *, stacklevel: int) -> None:
    head = issues[0] if len(issues) == 1 else f"{issues[0]} (+{len(issues) - 1} more in df.attrs['issues'])"
    warnings.warn(f"metrics incomplete: {head}", IncompleteDataWarning, stacklevel=stacklevel)


# --- responses -> frame ---------------------------------------------------------------------------


def _epoch_ns(values: Sequence[Any]) -> np.ndarray:
    """Timestamps from botocore (datetime), JSON (ISO text) or epoch seconds -> int64 ns."""
    if not len(values):
        return np.empty(0, dtype="int64")
    first = values[0]
    if hasattr(first, "timestamp") and not isinstance(first, pd.Timestamp):
        secs = np.fromiter((v.timestamp() for v in values), dtype="float64", count=len(values))
        return (np.round(secs * 1000.0).astype("int64")) * 1_000_000
    if isinstance(first, (int, float, np.integer, np.floating)) and not isinstance(first, bool):
        secs = np.asarray(values, dtype="float64")
        return (np.round(secs * 1000.0).astype("int64")) * 1_000_000
    idx = pd.DatetimeIndex(pd.to_datetime(list(values), utc=True, format="ISO8601"))
    return np.asarray(idx.as_unit("ns").asi8, dtype="int64")


def _is_page(obj: Any) -> bool:
    return isinstance(obj, Mapping) and ("MetricDataResults" in obj or "Messages" in obj or "NextToken" in obj)


def from_responses(
    responses: Mapping[str, Any] | Iterable[Mapping[str, Any]] | Iterable[Iterable[Mapping[str, Any]]],
    queries: Iterable[MetricQuery] | None = None,
    *,
    period: int | None = None,
    warn: bool = True,
) -> pd.DataFrame:
    """Turn GetMetricData responses into the frame :func:`get` returns.

    Useful on responses obtained elsewhere (the AWS CLI's JSON, a boto3 call of your own,
    a replayed evidence bundle).

    Parameters
    ----------
    responses:
        One response dict; a list of pages of one call (followed with NextToken); or a
        list of calls, each a list of pages. A result's final ``StatusCode`` is the one
        on the last page of its call that mentions it.
    queries:
        The queries asked, to fill namespace/metric/dimensions/stat/period. Results whose
        id is not among them (e.g. metric-math expressions) keep NA there and take
        ``period`` (required then).
    warn:
        Emit :class:`~incidentkit.errors.IncompleteDataWarning` when incomplete.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`~incidentkit.schema.METRIC_COLUMNS`; ``df.attrs`` holds
        ``complete``, ``truncated``, ``issues``, ``statuses`` (final StatusCode counts)
        and ``duplicates_dropped``.

    Example
    -------
    >>> page = {"MetricDataResults": [{"Id": "m1", "Label": "cpu", "StatusCode": "Complete",
    ...          "Timestamps": ["2026-03-01T03:00:00Z"], "Values": [42.0]}], "Messages": []}
    >>> q = MetricQuery("m1", "AWS/EC2", "CPUUtilization", {"InstanceId": "i-1"}, "Maximum", period=60)
    >>> df = from_responses(page, [q])
    >>> df.loc[0, "metric_name"], float(df.loc[0, "value"]), int(df.loc[0, "period"]), str(df.loc[0, "timestamp"])
    ('CPUUtilization', 42.0, 60, '2026-03-01 03:00:00+00:00')
    """
    if _is_page(responses):
        calls: list[list[Mapping[str, Any]]] = [[responses]]  # type: ignore[list-item]
    else:
        items = list(responses)  # type: ignore[arg-type]
        if all(_is_page(x) for x in items):
            calls = [items] if items else []  # type: ignore[list-item]
        else:
            calls = []
            for item in items:
                pages = [item] if _is_page(item) else list(item)
                if not all(_is_page(p) for p in pages):
                    raise ParameterError("responses must be GetMetricData response dicts (with MetricDataResults)")
                calls.append(pages)  # type: ignore[arg-type]
    by_id = {q.id: q for q in (queries or [])}
    if period is not None:
        period = check_period_shape(period)

    ts_parts: dict[str, list[np.ndarray]] = OrderedDict()
    val_parts: dict[str, list[np.ndarray]] = OrderedDict()
    labels: dict[str, str] = {}
    issues: list[str] = []
    statuses: dict[str, int] = {}
    for pages in calls:
        final_status: dict[str, str] = {}
        for page in pages:
            for msg in page.get("Messages") or []:
                issues.append(f"GetMetricData message {msg.get('Code', '?')}: {msg.get('Value', '')}".rstrip(": "))
            for result in page.get("MetricDataResults") or []:
                rid = str(result.get("Id"))
                ts = list(result.get("Timestamps") or [])
                vals = list(result.get("Values") or [])
                if len(ts) != len(vals):
                    issues.append(f"query {rid}: {len(ts)} timestamps but {len(vals)} values; kept {min(len(ts), len(vals))}")
                    n = min(len(ts), len(vals))
                    ts, vals = ts[:n], vals[:n]
                ts_parts.setdefault(rid, []).append(_epoch_ns(ts))
                val_parts.setdefault(rid, []).append(np.asarray(vals, dtype="float64"))
                if result.get("Label") and rid not in labels:
                    labels[rid] = str(result["Label"])
                final_status[rid] = str(result.get("StatusCode") or "Complete")
                for msg in result.get("Messages") or []:
                    issues.append(f"query {rid}: {msg.get('Code', '?')}: {msg.get('Value', '')}".rstrip(": "))
        for rid, status in final_status.items():
            statuses[status] = statuses.get(status, 0) + 1
            if status in _INCOMPLETE_STATUSES:
                hint = {
                    "PartialData": "AWS returned only part of the datapoints and no NextToken to get the rest",
                    "InternalError": "CloudWatch had an internal error for this query; re-run",
                    "Forbidden": "access to this metric was refused (cross-account or cross-region?)",
                }[status]
                issues.append(f"query {rid}: StatusCode {status}: {hint}")
    truncated = any(i.startswith("query ") and "StatusCode PartialData" in i for i in issues)

    unknown = [rid for rid in ts_parts if rid not in by_id]
    if unknown and period is None and any(sum(len(a) for a in ts_parts[r]) for r in unknown):
        raise ParameterError(
            f"results {unknown[:5]} are not among the queries given; pass their queries, or period= to keep them"
        )

    # One metadata row per query id, numbered in query_id order: sorting rows by
    # (metadata number, timestamp) is then sorting by (query_id, timestamp).
    present = sorted(rid for rid in ts_parts if sum(len(a) for a in ts_parts[rid]))
    metas: list[tuple[Any, ...]] = []
    ts_chunks: list[np.ndarray] = []
    val_chunks: list[np.ndarray] = []
    idx_chunks: list[np.ndarray] = []
    for number, rid in enumerate(present):
        q = by_id.get(rid)
        if q is not None:
            metas.append((rid, q.label, q.namespace, q.metric_name, q.dimensions_json, q.stat, int(q.period or period or 0)))
        else:
            metas.append((rid, labels.get(rid, rid), None, None, None, None, int(period or 0)))
        for t, v in zip(ts_parts[rid], val_parts[rid]):
            ts_chunks.append(t)
            val_chunks.append(v)
            idx_chunks.append(np.full(len(t), number, dtype="int64"))

    duplicates = 0
    if not metas:
        df = schema.empty_frame("metrics")
    else:
        ts_all = np.concatenate(ts_chunks)
        val_all = np.concatenate(val_chunks)
        idx_all = np.concatenate(idx_chunks)
        order = np.lexsort((ts_all, idx_all))  # stable: later pages/slices stay later
        ts_all, val_all, idx_all = ts_all[order], val_all[order], idx_all[order]
        if len(ts_all) > 1:
            # the same (query, timestamp) twice (repeated page): keep the last one
            keep = np.ones(len(ts_all), dtype=bool)
            keep[:-1] = (idx_all[:-1] != idx_all[1:]) | (ts_all[:-1] != ts_all[1:])
            duplicates = int((~keep).sum())
            if duplicates:
                ts_all, val_all, idx_all = ts_all[keep], val_all[keep], idx_all[keep]
        data: dict[str, Any] = {"timestamp": pd.to_datetime(ts_all, unit="ns", utc=True).astype(schema.UTC_NS)}
        columns = list(zip(*metas))
        for pos, name in enumerate(("query_id", "label", "namespace", "metric_name", "dimensions", "stat")):
            small = pd.array(list(columns[pos]), dtype="string")
            data[name] = small.take(idx_all)
        data["period"] = np.asarray(columns[6], dtype="int64")[idx_all]
        data["value"] = val_all
        df = pd.DataFrame(data, columns=list(schema.METRIC_COLUMNS))
    df.attrs.update(
        {
            "complete": not issues,
            "truncated": truncated,
            "issues": issues,
            "statuses": statuses,
            "duplicates_dropped": duplicates,
        }
    )
    if issues and warn:
        _warn_incomplete(issues, stacklevel=2)
    return df


# --- helpers for analyses -------------------------------------------------------------------------


def _select(df: pd.DataFrame, metric_name: str | None, stat: str | None, query_id: str | None, label: str | None) -> pd.DataFrame:
    missing = [c for c in ("timestamp", "query_id", "metric_name", "stat", "value") if c not in df.columns]
    if missing:
        raise ParameterError(f"not a metrics frame: missing columns {missing}")
    mask = pd.Series(True, index=df.index)
    if metric_name is not None:
        mask &= df["metric_name"] == metric_name
    if stat is not None:
        mask &= df["stat"] == canonical_stat(stat)
    if query_id is not None:
        mask &= df["query_id"] == query_id
    if label is not None:
        mask &= df["label"] == label
    return df[mask.fillna(False).astype(bool)]


def _known_queries(df: pd.DataFrame) -> list[dict[str, Any]]:
    q = df.attrs.get("query") if isinstance(df.attrs.get("query"), Mapping) else None
    return list(q.get("queries", [])) if q else []


def _grid(df: pd.DataFrame, periods: Iterable[int], index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    ps = sorted({int(p) for p in periods})
    if len(ps) != 1:
        raise ParameterError(f"cannot fill a regular grid over several periods {ps}; select one period first")
    p = ps[0]
    aligned = (df.attrs.get("query") or {}).get("aligned") if isinstance(df.attrs.get("query"), Mapping) else None
    spans = [a for a in (aligned or []) if a.get("period") == p or (isinstance(a.get("period"), list) and p in a["period"])]
    if spans:
        start = min(pd.Timestamp(a["start"]) for a in spans)
        end = max(pd.Timestamp(a["end"]) for a in spans)
    elif len(index):
        start, end = index.min(), index.max() + pd.Timedelta(seconds=p)
    else:
        return pd.DatetimeIndex([], tz="UTC", name="timestamp")
    grid = pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq=pd.Timedelta(seconds=p), inclusive="left", name="timestamp")
    return grid.union(index).astype(schema.UTC_NS)


def series(
    df: pd.DataFrame,
    metric_name: str | None = None,
    stat: str | None = None,
    query_id: str | None = None,
    *,
    label: str | None = None,
    fill: float | None = None,
) -> pd.Series:
    """One metric as a float Series indexed by UTC timestamp.

    The selection must name exactly one query (by ``query_id``, ``label``, or
    ``metric_name`` + ``stat``); an ambiguous one raises :class:`ParameterError` listing the
    candidates instead of mixing series. ``fill`` puts that value on the periods with no
    datapoint (``fill=0`` for counts such as ``Errors``/``Sum``: CloudWatch omits zero
    periods), on the fetch's aligned window.

    Example
    -------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00Z", "2026-03-01T03:02Z"], utc=True),
    ...     "query_id": "e", "label": "api Errors Sum", "namespace": "AWS/Lambda", "metric_name": "Errors",
    ...     "dimensions": "{}", "stat": "Sum", "period": 60, "value": [1.0, 4.0]})
    >>> series(df, "Errors", fill=0).tolist()
    [1.0, 0.0, 4.0]
    """
    sub = _select(df, metric_name, stat, query_id, label)
    ids = list(dict.fromkeys(sub["query_id"].dropna().tolist()))
    if len(ids) > 1:
        raise ParameterError(
            f"{len(ids)} queries match ({', '.join(map(str, ids[:8]))}{'...' if len(ids) > 8 else ''}); "
            "name one with query_id= or add stat="
        )
    if not ids:
        known = _known_queries(df)
        match = [
            k for k in known
            if (query_id is None or k.get("id") == query_id)
            and (metric_name is None or k.get("metric_name") == metric_name)
            and (stat is None or k.get("stat") == canonical_stat(stat))
            and (label is None or k.get("label") == label)
        ]
        if len(match) > 1:
            raise ParameterError(f"{len(match)} queries match ({', '.join(k['id'] for k in match[:8])}); name one with query_id=")
        if not match:
            wanted = {k: v for k, v in {"metric_name": metric_name, "stat": stat, "query_id": query_id, "label": label}.items() if v is not None}
            raise ParameterError(f"no metric in the frame matches {wanted}; the frame has {sorted(set(df['query_id'].dropna()))[:10]}")
        name = match[0].get("label") or match[0].get("id")
        out = pd.Series([], dtype="float64", index=pd.DatetimeIndex([], tz="UTC", name="timestamp").astype(schema.UTC_NS), name=name)
        if fill is not None and match[0].get("period"):
            grid = _grid(df, [match[0]["period"]], out.index)
            out = out.reindex(grid, fill_value=fill)
        return out
    sub = sub.sort_values("timestamp")
    out = pd.Series(
        sub["value"].to_numpy(dtype="float64"),
        index=pd.DatetimeIndex(sub["timestamp"], name="timestamp").astype(schema.UTC_NS),
        name=str(sub["label"].iloc[0]) if "label" in sub.columns and pd.notna(sub["label"].iloc[0]) else ids[0],
    )
    if fill is not None:
        out = out.reindex(_grid(df, sub["period"].unique(), out.index), fill_value=fill)
    return out


def wide(df: pd.DataFrame, *, columns: str = "query_id", fill: float | None = None) -> pd.DataFrame:
    """One column per query (``columns="query_id"`` or ``"label"``), indexed by UTC timestamp.

    Columns follow the order of the queries in ``df.attrs`` (else of appearance);
    queries that returned no datapoint still get a (NaN) column. ``fill`` fills missing
    periods on the fetch's aligned window (single period only).

    Example
    -------
    >>> df = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-01T03:00Z"] * 2, utc=True),
    ...     "query_id": ["a", "b"], "label": ["A", "B"], "namespace": "N", "metric_name": ["x", "y"],
    ...     "dimensions": "{}", "stat": "Sum", "period": 60, "value": [1.0, 2.0]})
    >>> wide(df, columns="label").columns.tolist()
    ['A', 'B']
    """
    if columns not in ("query_id", "label"):
        raise ParameterError(f"columns={columns!r}: use 'query_id' or 'label'")
    _select(df, None, None, None, None)
    known = _known_queries(df)
    order_ids = [k["id"] for k in known] or list(dict.fromkeys(df["query_id"].dropna().tolist()))
    for rid in dict.fromkeys(df["query_id"].dropna().tolist()):
        if rid not in order_ids:
            order_ids.append(rid)
    if columns == "label":
        label_of = {k["id"]: k.get("label") or k["id"] for k in known}
        label_of.update(dict(zip(df["query_id"].astype(object), df["label"].astype(object))))
        names = [label_of.get(i, i) for i in order_ids]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ParameterError(f"labels {dup[:5]} name several queries; use columns='query_id'")
        rename = dict(zip(order_ids, names))
    else:
        rename = {i: i for i in order_ids}
    if len(df):
        table = df.pivot(index="timestamp", columns="query_id", values="value")
    else:
        table = pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="timestamp"))
    table = table.reindex(columns=order_ids)
    table.columns = pd.Index([rename[c] for c in order_ids], name=columns)
    table.index = pd.DatetimeIndex(table.index, name="timestamp").astype(schema.UTC_NS)
    table = table.sort_index().astype("float64")
    if fill is not None:
        periods = df["period"].unique() if len(df) else [k.get("period") for k in known if k.get("period")]
        table = table.reindex(_grid(df, periods, table.index)).fillna(fill)
    return table
