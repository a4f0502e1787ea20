"""CloudWatch Logs Insights as typed DataFrames: bounded waits, typed end states, no silent truncation.

Layers, each usable alone (like awswrangler's, but every wait has a time limit and backoff,
and every end state is typed):

* :func:`start_query` — StartQuery, returns the query id;
* :func:`wait_query` — polls GetQueryResults with exponential backoff until ``Complete``;
  ``Failed`` / ``Cancelled`` / ``Unknown`` raise :class:`~incidentkit.errors.QueryFailedError`,
  ``Timeout`` or our own time limit raise :class:`~incidentkit.errors.QueryTimeoutError`
  (after a StopQuery: a query we gave up on should not keep scanning, and billing);
* :func:`collect` — reads every result page (``nextToken``) into a typed frame;
* :func:`results_frame` — GetQueryResults ``results`` → DataFrame (numbers numeric,
  ``@timestamp`` and ``bin(...)`` UTC datetimes, ``@ptr`` dropped by default).

:func:`insights` puts them together with the limits AWS documents (botocore's model for
``logs``: StartQuery ``limit`` 1..100,000, GetQueryResults pages of at most 10,000 rows with
a ``nextToken`` that expires after an hour, 50 log groups a query, 60 min query timeout):

* more than 50 log groups are queried in batches of 50;
* each query is bounded to its window to the millisecond (StartQuery takes whole seconds,
  both ends inclusive, so the kit prepends ``filter toMillis(@timestamp) >= a and
  toMillis(@timestamp) < b``): parts of a split window never overlap or leave gaps;
* a raw-row query whose result reaches the limit (rows == limit, or
  ``statistics.recordsMatched`` > rows) is re-queried on sub-windows until every part is
  complete — split in proportion to ``recordsMatched`` (at least halves) so the whole window
  is scanned about twice, not once per bisection level;
* a ``stats ... by bin(X)`` query that reaches the limit is split on bin boundaries (each bin
  only depends on the events inside it, so the parts concatenate exactly);
* any other aggregate (``stats`` without a time bin, several ``stats``, ``dedup``,
  ``pattern``, ``diff``, ``anomaly``, ``join``) cannot be split — halves of a percentile or
  of a distinct count do not add up — so reaching the limit flags it as truncated instead;
* what could not be completed (depth, window or query budget reached) is listed in
  ``df.attrs["truncated_windows"]``, ``truncated=True`` and an
  :class:`~incidentkit.errors.IncompleteDataWarning` is emitted. Nothing is returned as whole
  when it is not.

Server-side analyses for windows too big to pull (:func:`insights_latency_split`,
:func:`insights_error_rates`) return the same frame shapes as the local analyses.

Example
-------
>>> from incidentkit.fetch import insights as ins
>>> df = ins.insights(                                              # doctest: +SKIP
...     'fields @timestamp, @message | filter @message like /ERROR/',
...     ["/aws/lambda/api"], ("2026-03-01T03:00Z", "2026-03-01T04:00Z"))
>>> df.attrs["complete"], df.attrs["queries"]                       # doctest: +SKIP
(True, 1)
"""

from __future__ import annotations

import logging
import math
import re
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from . import aws
from .. import schema
from ..errors import (
    BadWindowError,
    IncidentKitError,
    IncompleteDataWarning,
    ParameterError,
    QueryError,
    QueryFailedError,
    QueryTimeoutError,
    ThrottledError,
    from_botocore,
)
from ..window import Window, parse_time

__all__ = [
    "insights",
    "start_query",
    "wait_query",
    "collect",
    "results_frame",
    "insights_latency_split",
    "insights_error_rates",
    "latency_query",
    "error_rate_query",
    "LATENCY_COLUMNS",
    "ERROR_RATE_COLUMNS",
    "MAX_LOG_GROUPS",
    "MAX_LIMIT",
    "DEFAULT_LIMIT",
]

log = logging.getLogger(__name__)

#: Log groups one StartQuery accepts (``logGroupNames`` / ``logGroupIdentifiers``).
MAX_LOG_GROUPS = 50
#: StartQuery ``limit`` maximum (botocore model ``EventsLimitStartQuery``).
MAX_LIMIT = 100_000
#: Default row limit (AWS's own default).
DEFAULT_LIMIT = 10_000

#: Frame of :func:`insights_latency_split` with the default quantiles (``cold_start`` follows
#: ``timestamp`` when split by it) — the frame of ``incidentkit.analyses.latency.percentiles``.
LATENCY_COLUMNS = ("timestamp", "count", "p50", "p90", "p99", "max")
#: Frame of :func:`insights_error_rates` — the frame of ``incidentkit.analyses.errors.error_rate``.
ERROR_RATE_COLUMNS = (
    "timestamp", "requests", "n_2xx", "n_3xx", "n_4xx", "n_5xx", "n_other",
    "rate_2xx", "rate_3xx", "rate_4xx", "rate_5xx", "error_rate",
)  # fmt: skip

_FAILED = {"Failed", "Cancelled", "Unknown"}
_WAITING = {"Scheduled", "Running"}

# Indirections so tests can run the waits on a fake clock.
_sleep: Callable[[float], None] = time.sleep
_clock: Callable[[], float] = time.monotonic

# Fields whose text must never be turned into numbers or times.
_TEXT_FIELDS = {"@message", "@logStream", "@log", "@ptr", "@requestId", "@xrayTraceId", "@type"}
_TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$")
_INT_RE = r"-?(?:0|[1-9]\d{0,17})"
_FLOAT_RE = r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+(?:[eE][-+]?\d+)?|-?(?:0|[1-9]\d*)\.\d*"


# --- shared helpers (also used by incidentkit.fetch.logs) ---------------------------------------------


def _as_window(window: Any) -> Window:
    """A :class:`Window` from a Window, a ``(start, end)`` pair or a ``{"start", "end"}`` dict."""
    if isinstance(window, Window):
        return window
    if isinstance(window, Mapping) and "start" in window and "end" in window:
        return Window.parse(window["start"], window["end"])
    if isinstance(window, (tuple, list)) and len(window) == 2:
        return Window.parse(window[0], window[1])
    raise BadWindowError(
        f"window {window!r} is not a Window, a (start, end) pair or a {{'start', 'end'}} dict; "
        "build one with incidentkit.Window.parse('-2h', 'now')"
    )


def _group_list(log_groups: str | Iterable[str], *, what: str = "log_groups") -> list[str]:
    """Normalise one name / ARN or a list of them; strip a trailing ``:*`` from ARNs; de-duplicate."""
    if isinstance(log_groups, str):
        items = [log_groups]
    else:
        try:
            items = list(log_groups)
        except TypeError as exc:
            raise ParameterError(f"{what} must be a log group name, an ARN or a list of them, got {log_groups!r}") from exc
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ParameterError(f"{what}: {item!r} is not a log group name or ARN")
        name = item.strip()
        if name.startswith("arn:") and name.endswith(":*"):
            name = name[:-2]
        if name not in out:
            out.append(name)
    if not out:
        raise ParameterError(f"{what} is empty: name at least one log group (e.g. /aws/lambda/my-function)")
    return out


def _group_name(ref: str) -> str:
    """The log group name of a name or an ARN (``arn:aws:logs:r:acct:log-group:NAME``)."""
    if ref.startswith("arn:") and ":log-group:" in ref:
        return ref.split(":log-group:", 1)[1]
    return ref


def _client(client: Any, session: Any, region: str | None, endpoint_url: str | None, max_attempts: int | None) -> Any:
    if client is not None:
        return client
    return aws.client("logs", session=session, region=region, endpoint_url=endpoint_url, max_attempts=max_attempts)


def _iso(ms: int) -> str:
    return pd.Timestamp(ms, unit="ms", tz="UTC").isoformat().replace("+00:00", "Z")


def _window_text(start_ms: int, end_ms: int) -> str:
    return f"{_iso(start_ms)} → {_iso(end_ms)}"


def _ceil_ms(ts: pd.Timestamp) -> int:
    return -(-int(ts.value) // 1_000_000)


def _window_ms(win: Window) -> tuple[int, int]:
    """``[start, end)`` of a window in whole epoch milliseconds (start rounded up, end rounded up)."""
    return _ceil_ms(win.start), _ceil_ms(win.end)


def _botocore_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


# --- query shape --------------------------------------------------------------------------------

_BIN_UNITS_MS = {
    "ms": 1, "msec": 1, "msecs": 1, "millisecond": 1, "milliseconds": 1,
    "s": 1_000, "sec": 1_000, "secs": 1_000, "second": 1_000, "seconds": 1_000,
    "m": 60_000, "min": 60_000, "mins": 60_000, "minute": 60_000, "minutes": 60_000,
    "h": 3_600_000, "hr": 3_600_000, "hrs": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
    "d": 86_400_000, "day": 86_400_000, "days": 86_400_000,
}  # fmt: skip
# Calendar bins (week, month, quarter, year) are not fixed-length or not epoch-aligned: never split.
_BIN_RE = re.compile(r"\bbin\s*\(\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*\)", re.IGNORECASE)
_NON_SPLITTABLE = {"dedup", "pattern", "diff", "anomaly", "join"}
_ROW_WISE_AFTER_STATS = {"sort", "display", "fields", "filter"}


@dataclass(frozen=True)
class _Shape:
    """What a query returns, as far as completeness checks and splitting are concerned.

    ``kind``: ``raw`` (one row per event: split freely), ``limited`` (raw rows under the
    query's own ``limit N``: never split), ``binned`` (one ``stats ... by bin(X)``: split on
    bin boundaries) or ``aggregate`` (anything else: never split).
    """

    kind: str
    bin_ms: int | None = None
    origin_ms: int = 0  # bins start at origin + k * bin_ms (Logs Insights bin() counts from the epoch)
    user_limit: int | None = None
    sort: tuple[str, bool] | None = None  # (field, descending)
    reason: str = ""


def _sanitize(query: str) -> str:
    """The query with comments removed and string / regex literals blanked (so ``|`` inside them is inert)."""
    out: list[str] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in "'\"`":
            j = i + 1
            while j < n and query[j] != ch:
                j += 2 if query[j] == "\\" else 1
            out.append('""')
            i = j + 1
            continue
        if ch == "#":
            j = query.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch == "/":
            before = "".join(out).rstrip()
            seg = before.rsplit("|", 1)[-1].split()
            command = seg[0].lower() if seg else ""
            if command == "parse" or before.endswith(("like", "~", "(", ",", "=", "|")) or before.lower().endswith(" in"):
                j = i + 1
                while j < n and query[j] != "/":
                    j += 2 if query[j] == "\\" else 1
                out.append('""')
                i = j + 1
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _commands(query: str) -> list[tuple[str, str]]:
    out = []
    for seg in _sanitize(query).split("|"):
        words = seg.strip().split(None, 1)
        if words:
            out.append((words[0].lower(), words[1] if len(words) > 1 else ""))
    return out


def _query_shape(query: str) -> _Shape:
    """Classify a Logs Insights query (see :class:`_Shape`)."""
    cmds = _commands(query)
    names = [c for c, _ in cmds]
    sort = None
    for c, rest in cmds:
        if c == "sort":
            m = re.match(r"\s*(?:by\s+)?([@\w.$\-]+)\s*(asc|desc)?", rest, re.IGNORECASE)
            if m:
                sort = (m.group(1), (m.group(2) or "desc").lower() == "desc")
    user_limit = None
    for c, rest in cmds:
        if c == "limit":
            m = re.match(r"\s*(\d+)", rest)
            if m:
                user_limit = int(m.group(1))
    blocked = [c for c in names if c in _NON_SPLITTABLE]
    stats_at = [i for i, c in enumerate(names) if c == "stats"]
    if blocked:
        return _Shape("aggregate", user_limit=user_limit, sort=sort, reason=f"`{blocked[0]}` results cannot be split by time")
    if stats_at:
        if len(stats_at) > 1:
            return _Shape("aggregate", user_limit=user_limit, sort=sort, reason="several `stats` commands")
        idx = stats_at[0]
        rest = cmds[idx][1]
        by = re.search(r"\bby\b(.*)$", rest, re.IGNORECASE | re.DOTALL)
        m = _BIN_RE.search(by.group(1)) if by else None
        after = names[idx + 1 :]
        if m and all(a in _ROW_WISE_AFTER_STATS for a in after):
            unit = m.group(2).lower()
            ms = float(m.group(1)) * _BIN_UNITS_MS[unit] if unit in _BIN_UNITS_MS else None
            if ms and ms >= 1 and float(ms).is_integer():
                return _Shape("binned", bin_ms=int(ms), user_limit=user_limit, sort=sort)
            return _Shape("aggregate", user_limit=user_limit, sort=sort, reason=f"calendar bin {m.group(0)} cannot be split")
        if m:
            return _Shape("aggregate", user_limit=user_limit, sort=sort, reason="commands after `stats` act on all bins")
        return _Shape("aggregate", user_limit=user_limit, sort=sort, reason="`stats` without a time bin is not additive")
    if user_limit is not None:
        return _Shape("limited", user_limit=user_limit, sort=sort)
    return _Shape("raw", sort=sort)


def _bounded(query: str, start_ms: int, end_ms: int) -> str:
    """Prepend an exact ``[start_ms, end_ms)`` filter (StartQuery itself only takes whole seconds)."""
    return (
        f"filter toMillis(@timestamp) >= {start_ms} and toMillis(@timestamp) < {end_ms}\n| {query.strip()}"
    )


def _check_query(query: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise ParameterError("query is empty: give a Logs Insights query, e.g. 'fields @timestamp, @message'")
    if len(query) > 9_900:
        raise ParameterError(f"query is {len(query)} characters; Logs Insights takes at most 10,000")
    first = _sanitize(query).strip().split(None, 1)
    if first and first[0].upper() == "SOURCE":
        raise ParameterError("queries with a SOURCE command are not supported: pass the log groups as log_groups instead")
    return query


def _check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or not 1 <= int(limit) <= MAX_LIMIT:
        raise ParameterError(f"limit={limit!r} is out of range: Logs Insights returns 1 to {MAX_LIMIT:,} rows a query")
    return int(limit)


# --- typed frames -------------------------------------------------------------------------------


def _to_utc(values: pd.Series) -> pd.Series:
    s = values.astype("string")
    if s.dropna().str.fullmatch(r"\d{13}").all():  # epoch milliseconds (moto, toMillis(...))
        num = pd.to_numeric(s, errors="coerce")
        return pd.to_datetime(num, unit="ms", utc=True).astype(schema.UTC_NS)
    try:
        out = pd.to_datetime(s, format="%Y-%m-%d %H:%M:%S.%f", utc=True)
    except (ValueError, TypeError):
        out = pd.to_datetime(s, utc=True, format="mixed")
    return out.astype(schema.UTC_NS)


def _typed(name: str, values: list[Any]) -> pd.Series:
    s = pd.Series(values, dtype="string")
    if name in _TEXT_FIELDS:
        return s
    present = s.dropna()
    if present.empty:
        return s
    if name in ("@timestamp", "@ingestionTime") or name.lower().startswith(("bin(", "datefloor(", "dateceil(")):
        return _to_utc(s)
    if present.str.fullmatch(_INT_RE).all():
        as_int = pd.to_numeric(s, errors="coerce")
        return as_int.astype("Int64")
    if present.str.fullmatch(_FLOAT_RE).all():
        return pd.to_numeric(s, errors="coerce").astype("float64")
    if present.str.fullmatch(_TS_RE.pattern).all():
        return _to_utc(s)
    return s


def results_frame(
    results: Sequence[Sequence[Mapping[str, str]]],
    *,
    keep_ptr: bool = False,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Turn GetQueryResults ``results`` into a typed DataFrame.

    Parameters
    ----------
    results:
        Rows as AWS returns them: each a list of ``{"field": ..., "value": ...}``; fields
        absent from a row become NA.
    keep_ptr:
        Keep ``@ptr`` (the opaque record pointer); dropped by default.
    columns:
        Columns the frame must have even when no row carries them (added as NA, first).

    Returns
    -------
    pandas.DataFrame
        ``@timestamp``, ``@ingestionTime``, ``bin(...)`` and timestamp-shaped text as
        ``datetime64[ns, UTC]`` (Logs Insights reports UTC without a zone); integers as
        ``Int64``; decimals as ``float64``; the rest as ``string``. ``@message``,
        ``@logStream``, ``@log`` and ids stay text; zero-padded numbers stay text.

    Example
    -------
    >>> rows = [[{"field": "@timestamp", "value": "2024-05-19 06:10:35.743"},
    ...          {"field": "latency", "value": "12.5"}, {"field": "@ptr", "value": "Cl..."}]]
    >>> df = results_frame(rows)
    >>> list(df.columns), str(df["@timestamp"].dtype), str(df["latency"].dtype)
    (['@timestamp', 'latency'], 'datetime64[ns, UTC]', 'float64')
    """
    n = len(results)
    cols: dict[str, list[Any]] = {}
    for name in columns or ():
        cols.setdefault(name, [None] * n)
    for i, row in enumerate(results):
        for cell in row:
            name = cell.get("field")
            if name is None:
                continue
            col = cols.get(name)
            if col is None:
                col = cols[name] = [None] * n
            col[i] = cell.get("value")
    if not keep_ptr:
        cols.pop("@ptr", None)
    return pd.DataFrame({name: _typed(name, vals) for name, vals in cols.items()}, index=pd.RangeIndex(n))


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


# --- the orchestrated query ---------------------------------------------------------------------


def _is_full(shape: _Shape, rows: int, matched: Any, limit: int) -> bool:
    """Whether a result may lack rows that exist."""
    if shape.kind == "raw":
        return rows >= limit or (matched is not None and float(matched) > rows)
    if shape.kind == "limited":
        return rows >= limit and (shape.user_limit is None or shape.user_limit > limit)
    return rows >= limit


@dataclass
class _Part:
    groups: tuple[str, ...]
    batch: int
    start_ms: int
    end_ms: int
    depth: int = 0
    attempt: int = 0
    query_id: str | None = None
    deadline: float = 0.0
    next_poll: float = 0.0
    delay: float = 1.0

    def ctx(self) -> dict[str, Any]:
        return _context(self.query_id, self.groups, _window_text(self.start_ms, self.end_ms))


def _split_even(start: int, end: int, parts: int) -> list[tuple[int, int]]:
    parts = max(1, min(parts, end - start))
    edges = sorted({start + (end - start) * i // parts for i in range(parts + 1)})
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]


def _split_on_bins(start: int, end: int, bin_ms: int, parts: int, origin: int = 0) -> list[tuple[int, int]]:
    first = origin + ((start - origin) // bin_ms + 1) * bin_ms
    inner = list(range(first, end, bin_ms))
    if not inner:
        return []
    parts = max(2, min(parts, len(inner) + 1))
    picks = sorted({inner[min(len(inner) - 1, round(k * (len(inner) + 1) / parts) - 1)] for k in range(1, parts)})
    edges = [start, *[p for p in picks if start < p < end], end]
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]


@dataclass
class _Outcome:
    rows: list[Any] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    truncated: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    bytes_scanned_total: float = 0.0
    query_ids: list[str] = field(default_factory=list)
    splits: int = 0
    leaves: int = 0
    interrupted: bool = False


def insights(
    query: str,
    log_groups: str | Iterable[str],
    window: Any,
    *,
    limit: int = DEFAULT_LIMIT,
    timeout: float = 900.0,
    poll: float = 1.0,
    max_poll: float = 10.0,
    max_split_depth: int = 6,
    max_queries: int = 256,
    max_concurrent: int = 4,
    keep_ptr: bool = False,
    columns: Sequence[str] | None = None,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
) -> pd.DataFrame:
    """Run a Logs Insights query over any number of log groups and return every row, typed.

    Parameters
    ----------
    query:
        Logs Insights query text (not a ``SOURCE`` query: pass the groups instead).
    log_groups:
        One name / ARN or a list; more than 50 are queried in batches of 50.
    window:
        A :class:`~incidentkit.window.Window` or a ``(start, end)`` pair; queried exactly,
        ``[start, end)`` to the millisecond.
    limit:
        Rows per query, 1 to 100,000 (results are read in pages of 10,000).
    timeout:
        Seconds each query may take before we stop it and raise.
    poll, max_poll:
        First and largest interval between polls of a running query.
    max_split_depth:
        How many times a window may be split again when its part still reaches the limit.
    max_queries:
        Budget of StartQuery calls (Logs Insights bills the bytes each query scans).
    max_concurrent:
        Queries running at once (the account allows about 30 in all).
    keep_ptr, columns:
        See :func:`results_frame`.

    Returns
    -------
    pandas.DataFrame
        Typed rows, ordered by the query's first ``sort`` key, else by time (bin, then
        ``@timestamp``, ascending). When several batches of log groups answered an
        aggregate query, a ``log_groups_batch`` column says which batch each row
        aggregates (aggregates of different batches are not merged). ``attrs``:
        provenance plus ``queries``, ``query_ids``, ``splits``, ``statistics`` (summed over
        the parts kept), ``bytes_scanned_total`` (every query, split ones included),
        ``truncated_windows`` and ``shape``.

    Raises
    ------
    QueryFailedError, QueryTimeoutError
        A query ended Failed / Cancelled / Unknown / Timeout, or took longer than
        ``timeout``; ``err.partial`` holds the frame of the parts already complete.
    AwsError subclasses
        Mapped AWS errors (throttled past the retry budget, access denied, ...), with
        ``err.partial`` as well.

    Notes
    -----
    Why aggregates are not bisected: ``stats pct(x, 99)`` over two halves gives two p99
    values whose combination is not the p99 of the whole; the same holds for
    ``count_distinct``, ``avg`` without counts, ``dedup`` and ``limit``. Only rows (one per
    event) and ``stats ... by bin(X)`` (each bin computed from its own events alone) can
    be recombined exactly. An aggregate that reaches the limit is therefore returned
    flagged ``truncated`` with an :class:`~incidentkit.errors.IncompleteDataWarning`:
    raise ``limit`` or group by a time bin.

    Example
    -------
    >>> df = insights("fields @timestamp, @duration | filter @type = 'REPORT'",   # doctest: +SKIP
    ...               "/aws/lambda/api", ("-6h", "now"))
    >>> df.attrs["complete"], df["@duration"].dtype                               # doctest: +SKIP
    (True, dtype('float64'))
    """
    return _insights(
        query, log_groups, window, limit=limit, timeout=timeout, poll=poll, max_poll=max_poll,
        max_split_depth=max_split_depth, max_queries=max_queries, max_concurrent=max_concurrent,
        keep_ptr=keep_ptr, columns=columns, session=session, region=region, endpoint_url=endpoint_url,
        max_attempts=max_attempts, stacklevel=3,
    )  # fmt: skip


def _insights(
    query: str,
    log_groups: str | Iterable[str],
    window: Any,
    *,
    limit: int = DEFAULT_LIMIT,
    timeout: float = 900.0,
    poll: float = 1.0,
    max_poll: float = 10.0,
    max_split_depth: int = 6,
    max_queries: int = 256,
    max_concurrent: int = 4,
    keep_ptr: bool = False,
    columns: Sequence[str] | None = None,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
    shape: _Shape | None = None,
    stacklevel: int = 2,
) -> pd.DataFrame:
    """:func:`insights`, with the query's shape given by a caller that built the query (bins with an origin)."""
    _check_query(query)
    groups = _group_list(log_groups)
    win = _as_window(window)
    limit = _check_limit(limit)
    if max_split_depth < 0 or max_queries < 1 or max_concurrent < 1:
        raise ParameterError("max_split_depth must be >= 0, max_queries and max_concurrent >= 1")
    shape = shape or _query_shape(query)
    start_ms, end_ms = _window_ms(win)
    batches = [tuple(groups[i : i + MAX_LOG_GROUPS]) for i in range(0, len(groups), MAX_LOG_GROUPS)]
    c = _client(None, session, region, endpoint_url, max_attempts)
    acct = _Account()
    began = time.monotonic()
    out = _Outcome()
    parts = deque(_Part(b, i, start_ms, end_ms, delay=poll) for i, b in enumerate(batches))
    running: list[_Part] = []
    error: BaseException | None = None
    try:
        _run(c, query, shape, parts, running, out, acct, limit=limit, timeout=timeout, poll=poll, max_poll=max_poll,
             max_split_depth=max_split_depth, max_queries=max_queries, max_concurrent=max_concurrent,
             tag_batch=len(batches) > 1 and shape.kind in ("binned", "aggregate"))
    except KeyboardInterrupt:
        out.interrupted = True
        out.issues.append("interrupted by user: the frame holds only the parts completed before")
    except IncidentKitError as exc:
        error = exc
    finally:
        for p in running:  # never leave our queries scanning (and billing) behind
            if p.query_id:
                _stop(c, p.query_id, acct)
    for p in parts:  # never started: budget exhausted, or abandoned after an error / interrupt
        if error is None and not out.interrupted:
            out.truncated.append(_trunc(p, None, None, "query budget (max_queries) reached"))
    if len(batches) > 1 and shape.kind in ("binned", "aggregate"):
        out.issues.append(
            f"{len(groups)} log groups were queried in {len(batches)} batches of up to {MAX_LOG_GROUPS}: "
            "each row aggregates one batch (column log_groups_batch); aggregates of different batches are not merged"
        )
    df = results_frame(out.rows, keep_ptr=keep_ptr, columns=columns)
    df = _order(df, shape)
    for t in out.truncated:
        out.issues.append(
            f"truncated {t['start']} → {t['end']} (batch {t['log_groups_batch']}): {t['reason']}"
            + (f"; {t['rows']:,} rows of {t['records_matched']:,.0f} matched" if t.get("records_matched") is not None and t.get("rows") is not None else "")
        )
    complete = not (out.truncated or out.interrupted or error is not None) and not any("repeated a nextToken" in i for i in out.issues)
    df.attrs = schema.provenance(
        "logs.insights",
        query={
            "api": "StartQuery",
            "queryString": query,
            "log_groups": groups,
            "limit": limit,
            "startTime_ms": start_ms,
            "endTime_ms": end_ms,
        },
        window=win,
        region=getattr(getattr(c, "meta", None), "region_name", None),
        api_calls=acct.api_calls,
        retries=acct.retries,
        elapsed_s=time.monotonic() - began,
        complete=complete,
        truncated=bool(out.truncated),
        issues=out.issues,
        queries=len(out.query_ids),
        query_ids=out.query_ids,
        splits=out.splits,
        batches=len(batches),
        statistics=out.stats,
        bytes_scanned_total=out.bytes_scanned_total,
        truncated_windows=out.truncated,
        shape=shape.kind,
        interrupted=out.interrupted,
    )
    if error is not None:
        error.partial = df  # type: ignore[attr-defined]
        raise error
    if not df.attrs["complete"]:
        warnings.warn(
            f"logs.insights returned less than exists: {'; '.join(out.issues[-3:])}",
            IncompleteDataWarning,
            stacklevel=stacklevel,
        )
    return df


def _trunc(p: _Part, rows: int | None, matched: Any, reason: str) -> dict[str, Any]:
    return {
        "start": _iso(p.start_ms),
        "end": _iso(p.end_ms),
        "log_groups_batch": p.batch,
        "rows": rows,
        "records_matched": float(matched) if matched is not None else None,
        "reason": reason,
    }


def _run(
    c: Any,
    query: str,
    shape: _Shape,
    pending: deque[_Part],
    running: list[_Part],
    out: _Outcome,
    acct: _Account,
    *,
    limit: int,
    timeout: float,
    poll: float,
    max_poll: float,
    max_split_depth: int,
    max_queries: int,
    max_concurrent: int,
    tag_batch: bool,
) -> None:
    """The scheduler: start up to ``max_concurrent`` queries, poll them, split what is full."""
    concurrency = max_concurrent
    while pending or running:
        while pending and len(running) < concurrency and len(out.query_ids) < max_queries:
            p = pending.popleft()
            text = _bounded(query, p.start_ms, p.end_ms)
            try:
                p.query_id = _start(c, text, p.groups, p.start_ms, p.end_ms, limit, acct, p.ctx())
            except ThrottledError:
                if not running:
                    raise
                pending.appendleft(p)  # too many concurrent queries: wait for ours to finish
                concurrency = max(1, len(running))
                break
            out.query_ids.append(p.query_id)
            now = _clock()
            p.deadline, p.delay, p.next_poll = now + timeout, poll, now
            running.append(p)
        if not running:
            return  # budget exhausted: the rest stays in `pending` and is reported
        p = min(running, key=lambda r: r.next_poll)
        wait = p.next_poll - _clock()
        if wait > 0:
            _sleep(wait)
        assert p.query_id is not None
        try:
            resp = _get_results(c, p.query_id, acct, p.ctx())
        except QueryFailedError as exc:
            if exc.context.get("status") == "Expired" and p.attempt == 0:
                running.remove(p)
                pending.appendleft(_Part(p.groups, p.batch, p.start_ms, p.end_ms, p.depth, attempt=1, delay=poll))
                out.issues.append(f"results of query {p.query_id} expired before they were read; re-ran it")
                continue
            raise
        status = resp.get("status")
        if status in _WAITING:
            now = _clock()
            if now >= p.deadline:
                running.remove(p)
                stopped = _stop(c, p.query_id, acct)
                raise QueryTimeoutError(
                    f"Logs Insights query still {status} after {timeout:g} s"
                    + ("; stopped it" if stopped else "")
                    + ": narrow the window or the log groups, or raise timeout",
                    status=str(status),
                    **p.ctx(),
                )
            p.next_poll = now + min(p.delay, max(0.0, p.deadline - now))
            p.delay = min(p.delay * 1.5, max_poll)
            continue
        err = _status_error(status, p.ctx())
        if err is not None:
            running.remove(p)
            raise err
        running.remove(p)
        try:
            rows, stats, issues = _collect_rows(c, p.query_id, resp, acct, p.ctx())
        except QueryFailedError as exc:
            if exc.context.get("status") == "Expired" and p.attempt == 0:
                pending.appendleft(_Part(p.groups, p.batch, p.start_ms, p.end_ms, p.depth, attempt=1, delay=poll))
                out.issues.append(f"a results page of query {p.query_id} expired before it was read; re-ran it")
                continue
            raise
        out.issues.extend(issues)
        out.bytes_scanned_total += float(stats.get("bytesScanned") or 0.0)
        matched = stats.get("recordsMatched")
        if _is_full(shape, len(rows), matched, limit):
            children = _children(p, shape, len(rows), matched, limit, max_split_depth)
            if children:
                out.splits += 1
                log.info("query %s reached the limit (%d rows, %s matched): split into %d", p.query_id, len(rows), matched, len(children))
                pending.extend(children)
                continue
            out.truncated.append(_trunc(p, len(rows), matched, _why_not_split(p, shape, max_split_depth)))
        _keep(out, rows, stats, p.batch if tag_batch else None)


def _children(p: _Part, shape: _Shape, rows: int, matched: Any, limit: int, max_depth: int) -> list[_Part]:
    if p.depth >= max_depth:
        return []
    if shape.kind == "raw":
        want = 2
        if matched is not None and float(matched) > 0:
            want = max(2, min(16, math.ceil(float(matched) / (0.8 * limit))))
        spans = _split_even(p.start_ms, p.end_ms, want)
    elif shape.kind == "binned" and shape.bin_ms:
        spans = _split_on_bins(p.start_ms, p.end_ms, shape.bin_ms, 2, shape.origin_ms)
    else:
        return []
    if len(spans) < 2:
        return []
    return [_Part(p.groups, p.batch, a, b, p.depth + 1, delay=p.delay) for a, b in spans]


def _why_not_split(p: _Part, shape: _Shape, max_depth: int) -> str:
    if shape.kind in ("aggregate", "limited"):
        what = shape.reason or ("the query's own `limit`" if shape.kind == "limited" else "aggregate")
        return f"reached the row limit and cannot be split ({what}); raise limit or group by bin(...)"
    if p.depth >= max_depth:
        return f"still at the row limit after {max_depth} splits (max_split_depth)"
    return "still at the row limit in the smallest window that can be split (one bin / one millisecond)"


def _keep(out: _Outcome, rows: list[Any], stats: Mapping[str, Any], batch: int | None) -> None:
    if batch is not None:
        tag = {"field": "log_groups_batch", "value": str(batch)}
        rows = [[*r, tag] for r in rows]
    out.rows.extend(rows)
    out.leaves += 1
    for key, value in stats.items():
        try:
            out.stats[key] = out.stats.get(key, 0.0) + float(value)
        except (TypeError, ValueError):
            continue


def _order(df: pd.DataFrame, shape: _Shape) -> pd.DataFrame:
    if df.empty:
        return df
    if shape.sort and shape.sort[0] in df.columns:
        name, desc = shape.sort
        return df.sort_values(name, ascending=not desc, kind="stable", na_position="last", ignore_index=True)
    keys = [c for c in df.columns if c.lower().startswith("bin(") or c == "ik_bin"]
    if not keys and "@timestamp" in df.columns:
        keys = ["@timestamp"]
    if keys:
        extra = [c for c in ("log_groups_batch",) if c in df.columns]
        return df.sort_values([*keys, *extra], kind="stable", na_position="last", ignore_index=True)
    return df


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
