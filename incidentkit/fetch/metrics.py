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
:mod:`incidentkit.fetch.metric_presets` and are re-exported here, as are the parts this
fetch is made of: the query model (:mod:`~incidentkit.fetch.metric_query`), periods and
retention (:mod:`~incidentkit.fetch.metric_periods`), the call plan
(:mod:`~incidentkit.fetch.metric_plan`), responses to frame
(:mod:`~incidentkit.fetch.metric_responses`) and reading the frame
(:mod:`~incidentkit.fetch.metric_series`).

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

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable

import pandas as pd

from . import aws
from .. import schema
from .._util.progress import progress_enabled
from ..errors import IncidentKitError, ParameterError, from_botocore
from .metric_periods import HISTORY_SPAN, RETENTION, choose_period, history_window, validate_period
from .metric_plan import MAX_DATAPOINTS_PER_CALL, MAX_QUERIES_PER_CALL, CallPlan, PlannedCall, plan_calls
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
from .metric_query import STANDARD_STATS, MetricQuery, as_queries, canonical_stat, make_id, query
from .metric_responses import _warn_incomplete, from_responses
from .metric_series import series, wide
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
