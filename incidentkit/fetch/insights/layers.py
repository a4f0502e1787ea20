"""The layers of a Logs Insights query, each usable alone: start, wait, collect."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import pandas as pd

from ... import schema
from ...errors import (
    IncidentKitError,
    ParameterError,
    QueryError,
    QueryFailedError,
    QueryTimeoutError,
    from_botocore,
)
from .. import aws
from ...window import as_window as _as_window
from .._common import _botocore_errors, _client, _group_list, _window_ms
from .frames import results_frame
from .query_shape import (
    DEFAULT_LIMIT,
    MAX_LOG_GROUPS,
    _bounded,
    _check_limit,
    _check_query,
    _is_full,
    _query_shape,
)

log = logging.getLogger(__name__)

_FAILED = {"Failed", "Cancelled", "Unknown"}
_WAITING = {"Scheduled", "Running"}

# Indirections so tests can run the waits on a fake clock.
_sleep: Callable[[float], None] = time.sleep
_clock: Callable[[], float] = time.monotonic

# --- the layers ---------------------------------------------------------------------------------


@dataclass
class _Account:
    """What the calls of one run cost."""

    api_calls: int = 0
    retries: int = 0

    def add(self, response: Mapping[str, Any] | None) -> None:
        self.api_calls += 1
        self.retries += aws.retry_attempts(response)

    def failed(self, exc: BaseException) -> None:
        self.api_calls += 1
        self.retries += aws.retry_attempts(getattr(exc, "response", None))


def _context(query_id: str | None, groups: Sequence[str] | None, window: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    if query_id:
        ctx["query_id"] = query_id
    if groups:
        ctx["log_groups"] = ", ".join(groups) if len(groups) <= 3 else f"{', '.join(groups[:3])} +{len(groups) - 3} more"
    if window is not None:
        ctx["window"] = str(window)
    return ctx


def _start_params(text: str, groups: Sequence[str], start_ms: int, end_ms: int, limit: int) -> dict[str, Any]:
    params: dict[str, Any] = {
        "queryString": text,
        "startTime": start_ms // 1000,  # StartQuery: epoch seconds, both ends inclusive
        "endTime": max(start_ms // 1000, -(-end_ms // 1000)),
        "limit": limit,
    }
    if any(g.startswith("arn:") for g in groups):
        params["logGroupIdentifiers"] = list(groups)
    else:
        params["logGroupNames"] = list(groups)
    return params


def _start(client: Any, text: str, groups: Sequence[str], start_ms: int, end_ms: int, limit: int, acct: _Account, ctx: dict[str, Any]) -> str:
    params = _start_params(text, groups, start_ms, end_ms, limit)
    try:
        resp = client.start_query(**params)
    except _botocore_errors() as exc:
        acct.failed(exc)
        raise _map_start_error(exc, ctx) from exc
    acct.add(resp)
    return str(resp["queryId"])


def _map_start_error(exc: BaseException, ctx: dict[str, Any]) -> IncidentKitError:
    err = getattr(exc, "response", {}).get("Error", {}) if hasattr(exc, "response") else {}
    code = str(err.get("Code", ""))
    msg = str(err.get("Message", "")).strip()
    if code == "MalformedQueryException":
        return QueryFailedError(f"Logs Insights rejected the query as malformed: {msg or code}; fix the query text", status="Malformed", **ctx)
    if code == "ResourceNotFoundException":
        mapped = from_botocore(exc, operation="StartQuery", **ctx)
        mapped.message = f"a log group of the query does not exist ({msg or code}); check the names with DescribeLogGroups"
        return mapped
    return from_botocore(exc, operation="StartQuery", **ctx)


def _get_results(client: Any, query_id: str, acct: _Account, ctx: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"queryId": query_id}
    if token:
        params["nextToken"] = token
    try:
        resp = client.get_query_results(**params)
    except _botocore_errors() as exc:
        acct.failed(exc)
        raise _map_results_error(exc, ctx, with_token=bool(token)) from exc
    acct.add(resp)
    return resp


def _map_results_error(exc: BaseException, ctx: dict[str, Any], *, with_token: bool) -> IncidentKitError:
    err = getattr(exc, "response", {}).get("Error", {}) if hasattr(exc, "response") else {}
    code = str(err.get("Code", ""))
    msg = str(err.get("Message", "")).strip()
    low = msg.lower()
    if code == "ResourceNotFoundException":
        return QueryFailedError(
            f"AWS no longer knows the query or its results expired ({msg or code}); re-run the query",
            status="Expired",
            **ctx,
        )
    if code == "InvalidParameterException" and (with_token or "token" in low) and ("token" in low or "expire" in low):
        return QueryFailedError(
            f"the results page token expired ({msg or code}; tokens last one hour); re-run the query",
            status="Expired",
            **ctx,
        )
    return from_botocore(exc, operation="GetQueryResults", **ctx)


def _status_error(status: Any, ctx: dict[str, Any]) -> QueryError | None:
    """The typed error of a terminal status other than Complete (None while waiting or complete)."""
    if status == "Complete" or status in _WAITING:
        return None
    if status == "Timeout":
        return QueryTimeoutError(
            "Logs Insights stopped the query at its 60-minute limit (status Timeout); narrow the window or the log groups",
            status=status,
            **ctx,
        )
    if status in _FAILED:
        hint = {
            "Failed": "AWS gives no reason: run it in the console to see the error, or check field names and syntax",
            "Cancelled": "someone (or StopQuery) cancelled it; re-run it",
            "Unknown": "AWS reports an unknown state; re-run it",
        }[status]
        return QueryFailedError(f"Logs Insights query ended {status}: {hint}", status=status, **ctx)
    return QueryFailedError(f"Logs Insights returned an unexpected status {status!r}; re-run the query", status=str(status), **ctx)


def _stop(client: Any, query_id: str, acct: _Account | None = None) -> bool:
    """StopQuery, ignoring every error (the query may have just ended). Returns whether AWS stopped it."""
    try:
        resp = client.stop_query(queryId=query_id)
    except Exception as exc:  # noqa: BLE001 - best effort by design
        if acct is not None:
            acct.failed(exc)
        log.debug("StopQuery %s failed: %s", query_id, exc)
        return False
    if acct is not None:
        acct.add(resp)
    return bool(resp.get("success"))


def start_query(
    query: str,
    log_groups: str | Iterable[str],
    window: Any,
    *,
    limit: int = DEFAULT_LIMIT,
    exact_bounds: bool = True,
    client: Any = None,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
) -> str:
    """Start one Logs Insights query and return its id (StartQuery).

    Parameters
    ----------
    query:
        Logs Insights query text.
    log_groups:
        Up to 50 log group names or ARNs (use :func:`insights` for more).
    window:
        A :class:`~incidentkit.window.Window` or a ``(start, end)`` pair.
    limit:
        Maximum rows (1 to 100,000).
    exact_bounds:
        Prepend a millisecond filter so only ``[start, end)`` is queried (StartQuery
        itself takes whole seconds, both ends inclusive).
    client:
        An existing ``logs`` client (from :func:`incidentkit.fetch.aws.client`); else one is made.

    Returns
    -------
    str
        The query id, for :func:`wait_query` and :func:`collect`.

    Raises
    ------
    QueryFailedError
        The query is malformed (``status="Malformed"``).
    NotFoundError, ThrottledError, AccessDeniedError, ...
        Mapped AWS errors, with the log groups and window.

    Example
    -------
    >>> qid = start_query("fields @timestamp, @message", "/aws/lambda/api", ("-1h", "now"))  # doctest: +SKIP
    """
    _check_query(query)
    groups = _group_list(log_groups)
    if len(groups) > MAX_LOG_GROUPS:
        raise ParameterError(f"{len(groups)} log groups: one query takes at most {MAX_LOG_GROUPS}; insights() splits them for you")
    win = _as_window(window)
    limit = _check_limit(limit)
    start_ms, end_ms = _window_ms(win)
    text = _bounded(query, start_ms, end_ms) if exact_bounds else query
    c = _client(client, session, region, endpoint_url, max_attempts)
    return _start(c, text, groups, start_ms, end_ms, limit, _Account(), _context(None, groups, win))


def wait_query(
    query_id: str,
    *,
    timeout: float = 900.0,
    poll: float = 1.0,
    max_poll: float = 10.0,
    stop_on_timeout: bool = True,
    log_groups: Sequence[str] | None = None,
    window: Any = None,
    client: Any = None,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
) -> dict[str, Any]:
    """Poll a query until it is ``Complete``, with exponential backoff and a time limit.

    Parameters
    ----------
    query_id:
        From :func:`start_query`.
    timeout:
        Seconds to wait in all. AWS itself stops queries after 60 minutes.
    poll, max_poll:
        First interval between polls, growing ×1.5 up to ``max_poll`` seconds.
    stop_on_timeout:
        Send StopQuery when we give up, so the query stops scanning (and billing).
    log_groups, window:
        Only used to give errors their context.

    Returns
    -------
    dict
        The GetQueryResults response whose status is ``Complete`` (its ``results`` are
        the first page; pass it to :func:`collect` as ``response``).

    Raises
    ------
    QueryFailedError
        Status ``Failed``, ``Cancelled`` or ``Unknown`` (``.context["status"]``), or AWS
        no longer knows the query (``status="Expired"``).
    QueryTimeoutError
        Status ``Timeout``, or still running after ``timeout`` seconds.

    Example
    -------
    >>> final = wait_query(qid, timeout=120)                    # doctest: +SKIP
    >>> final["status"]                                          # doctest: +SKIP
    'Complete'
    """
    if timeout <= 0 or poll <= 0:
        raise ParameterError(f"timeout={timeout!r} and poll={poll!r} must be positive seconds")
    c = _client(client, session, region, endpoint_url, max_attempts)
    ctx = _context(query_id, list(log_groups) if log_groups else None, window)
    acct = _Account()
    deadline = _clock() + float(timeout)
    delay = float(poll)
    while True:
        resp = _get_results(c, query_id, acct, ctx)
        status = resp.get("status")
        if status == "Complete":
            return resp
        err = _status_error(status, ctx)
        if err is not None:
            raise err
        remaining = deadline - _clock()
        if remaining <= 0:
            stopped = _stop(c, query_id, acct) if stop_on_timeout else False
            raise QueryTimeoutError(
                f"Logs Insights query still {status} after {timeout:g} s"
                + ("; stopped it" if stopped else "")
                + ": narrow the window or the log groups, or raise timeout",
                status=str(status),
                **ctx,
            )
        _sleep(min(delay, remaining))
        delay = min(delay * 1.5, float(max_poll))


def _collect_rows(
    client: Any, query_id: str, response: Mapping[str, Any] | None, acct: _Account, ctx: dict[str, Any]
) -> tuple[list[Any], dict[str, Any], list[str]]:
    """Every result row of a completed query (following ``nextToken``), its statistics and issues."""
    issues: list[str] = []
    resp = dict(response) if response is not None else _get_results(client, query_id, acct, ctx)
    status = resp.get("status")
    if status != "Complete":
        err = _status_error(status, ctx)
        if err is not None:
            raise err
        raise QueryError(f"the query is still {status}: call wait_query() before collect()", status=str(status), **ctx)
    rows = list(resp.get("results") or [])
    stats = dict(resp.get("statistics") or {})
    token = resp.get("nextToken")
    seen: set[str] = set()
    while token:
        if token in seen:
            issues.append(f"GetQueryResults repeated a nextToken for query {query_id}; stopped paging after {len(rows)} rows")
            break
        seen.add(token)
        page = _get_results(client, query_id, acct, ctx, token=token)
        rows.extend(page.get("results") or [])
        token = page.get("nextToken")
    return rows, stats, issues


def collect(
    query_id: str,
    *,
    response: Mapping[str, Any] | None = None,
    query: str | None = None,
    limit: int | None = None,
    keep_ptr: bool = False,
    columns: Sequence[str] | None = None,
    log_groups: Sequence[str] | None = None,
    window: Any = None,
    client: Any = None,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
) -> pd.DataFrame:
    """Read every result page of a completed query into a typed DataFrame.

    Parameters
    ----------
    query_id:
        The query.
    response:
        The ``Complete`` response :func:`wait_query` returned (saves one call); else
        GetQueryResults is called and must say ``Complete``.
    query, limit:
        When given, the frame says whether the result was cut by the limit
        (``truncated``); without them only ``statistics`` are reported.
    keep_ptr, columns:
        See :func:`results_frame`.

    Returns
    -------
    pandas.DataFrame
        Typed rows; ``attrs`` hold provenance, ``statistics`` and ``records_matched``.

    Example
    -------
    >>> df = collect(qid, response=wait_query(qid))              # doctest: +SKIP
    """
    ctx = _context(query_id, list(log_groups) if log_groups else None, window)
    acct = _Account()
    needs_calls = response is None or bool(response.get("nextToken"))
    c = _client(client, session, region, endpoint_url, max_attempts) if needs_calls else client
    rows, stats, issues = _collect_rows(c, query_id, response, acct, ctx)
    df = results_frame(rows, keep_ptr=keep_ptr, columns=columns)
    matched = stats.get("recordsMatched")
    truncated = False
    if query is not None and limit is not None:
        truncated = _is_full(_query_shape(query), len(rows), matched, int(limit))
        if truncated:
            issues.append(f"query {query_id} returned {len(rows):,} rows, the limit {int(limit):,}: rows may be missing")
    df.attrs = schema.provenance(
        "logs.insights",
        query={"api": "GetQueryResults", "query_id": query_id, "queryString": query, "limit": limit},
        window=_as_window(window) if window is not None else None,
        api_calls=acct.api_calls,
        retries=acct.retries,
        complete=not issues,
        truncated=truncated,
        issues=issues,
        statistics=stats,
        records_matched=matched,
        rows=len(rows),
        query_ids=[query_id],
    )
    return df

