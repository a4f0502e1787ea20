"""The orchestrated query: batches of log groups, concurrent queries, windows split until every part is complete."""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from ... import schema
from ...errors import (
    IncidentKitError,
    IncompleteDataWarning,
    ParameterError,
    QueryFailedError,
    QueryTimeoutError,
    ThrottledError,
)
from ...window import as_window as _as_window
from .._common import _client, _group_list, _iso, _window_ms, _window_text
from . import layers
from .frames import results_frame
from .layers import (
    _WAITING,
    _Account,
    _collect_rows,
    _context,
    _get_results,
    _start,
    _status_error,
    _stop,
)
from .query_shape import (
    DEFAULT_LIMIT,
    MAX_LOG_GROUPS,
    _bounded,
    _check_limit,
    _check_query,
    _is_full,
    _query_shape,
    _Shape,
)

log = logging.getLogger(__name__)

# --- the orchestrated query ---------------------------------------------------------------------



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
    tag_batch = len(batches) > 1 and shape.kind in ("binned", "aggregate")
    error = _run_to_the_end(c, query, shape, parts, out, acct, limit=limit, timeout=timeout, poll=poll, max_poll=max_poll,
                            max_split_depth=max_split_depth, max_queries=max_queries, max_concurrent=max_concurrent,
                            tag_batch=tag_batch)  # fmt: skip
    _note_gaps(out, parts, error, n_groups=len(groups), n_batches=len(batches), tag_batch=tag_batch)
    df = results_frame(out.rows, keep_ptr=keep_ptr, columns=columns)
    df = _order(df, shape)
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


def _run_to_the_end(
    c: Any, query: str, shape: _Shape, parts: deque[_Part], out: _Outcome, acct: _Account, **run_options: Any
) -> IncidentKitError | None:
    """Run the parts with :func:`_run` until done, interrupted or failed (the error returned); stop every query still running."""
    running: list[_Part] = []
    error: IncidentKitError | None = None
    try:
        _run(c, query, shape, parts, running, out, acct, **run_options)
    except KeyboardInterrupt:
        out.interrupted = True
        out.issues.append("interrupted by user: the frame holds only the parts completed before")
    except IncidentKitError as exc:
        error = exc
    finally:
        for p in running:  # never leave our queries scanning (and billing) behind
            if p.query_id:
                _stop(c, p.query_id, acct)
    return error


def _note_gaps(
    out: _Outcome, parts: deque[_Part], error: BaseException | None, *, n_groups: int, n_batches: int, tag_batch: bool
) -> None:
    """Say what the frame lacks: parts never started, batches aggregated apart, windows truncated."""
    for p in parts:  # never started: budget exhausted, or abandoned after an error / interrupt
        if error is None and not out.interrupted:
            out.truncated.append(_trunc(p, None, None, "query budget (max_queries) reached"))
    if tag_batch:
        out.issues.append(
            f"{n_groups} log groups were queried in {n_batches} batches of up to {MAX_LOG_GROUPS}: "
            "each row aggregates one batch (column log_groups_batch); aggregates of different batches are not merged"
        )
    for t in out.truncated:
        out.issues.append(
            f"truncated {t['start']} → {t['end']} (batch {t['log_groups_batch']}): {t['reason']}"
            + (f"; {t['rows']:,} rows of {t['records_matched']:,.0f} matched" if t.get("records_matched") is not None and t.get("rows") is not None else "")
        )


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
            now = layers._clock()
            p.deadline, p.delay, p.next_poll = now + timeout, poll, now
            running.append(p)
        if not running:
            return  # budget exhausted: the rest stays in `pending` and is reported
        p = min(running, key=lambda r: r.next_poll)
        wait = p.next_poll - layers._clock()
        if wait > 0:
            layers._sleep(wait)
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
            now = layers._clock()
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
