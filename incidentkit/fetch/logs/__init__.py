"""CloudWatch Logs events as tidy DataFrames (FilterLogEvents), and Logs Insights.

:func:`events` pulls raw log events into a frame with the fixed columns of
:data:`incidentkit.schema.EVENT_COLUMNS` (UTC ``timestamp`` and ``ingestion_time``,
``log_group``, ``log_stream``, ``event_id``, ``message``), sorted by time. It is built on
:func:`iter_pages`, which yields one de-duplicated DataFrame per API page, so a caller can
stream millions of events to disk (the evidence bundle does) without ever holding them all.

What FilterLogEvents does, and what the kit does about it:

* pages hold up to 10,000 events or 1 MB, and may be **empty while a ``nextToken``
  remains**: the kit follows the token through empty pages (counted in
  ``attrs["empty_pages"]``);
* a **token repeated** by the service would loop forever: the kit stops that group,
  flags the frame incomplete and says so in ``attrs["issues"]``;
* events arrive **out of order** across streams: the frame is sorted by time, then id;
* the same event can arrive **twice** (across pages, or across overlapping stream
  batches): rows are de-duplicated by ``(log_group, event_id)`` and the drops counted
  (``attrs["duplicates"]``). The seen-id set is kept as sorted 64-bit hashes (8 bytes an
  event), not Python strings;
* several log groups (and batches of more than 100 streams) are fetched **concurrently**
  by a bounded thread pool sharing one boto3 client (low-level clients are thread-safe;
  the client is made in the calling thread);
* one chain of pages is sequential (each call needs the last ``nextToken``), so a **large
  group is read as time slices** fetched concurrently (:mod:`.slices`): a chain that still
  has pages after two, and cannot fill the budget alone (a call takes longer than
  1/budget), hands the rest of its window to slices; events where slices touch are dropped
  by id (``attrs["slice_overlap"]``); the frame is the same as one chain's, sorted by time.
  As many chains run at once as fill the budget — ``ceil(budget x call time x 1.25)``
  (Little's law, :func:`.slices.chains_wanted`), at most 32 — so a raised quota is used
  without tuning ``max_workers``, which stays the floor;
* every attempt is **paced by the run's shared budget** (:mod:`incidentkit.fetch.pacing`: a
  token bucket per API action, AWS's documented 5 requests/s for FilterLogEvents unless
  ``INCIDENTKIT_RPS`` says otherwise), so concurrent fetches fill the quota, not exceed it;
* throttling is retried by botocore (standard mode, the budget of
  :func:`incidentkit.fetch.aws.client`), the retries counted (``attrs["retries"]``) and the
  throttled attempts too (``attrs["throttled"]``, and a line in ``issues``). When a
  call still fails — throttled past the budget, connection lost, credentials expired —
  the mapped error is raised **with the events fetched so far** in ``err.partial``
  (``complete=False``): evidence is never thrown away;
* Ctrl-C (KeyboardInterrupt) during a long fetch returns what was fetched, flagged
  ``complete=False`` with the issue ``interrupted by user`` and a warning.

Logs Insights lives in :mod:`incidentkit.fetch.insights`; its public functions are re-exported
here (``logs.insights(...)`` and friends).

Example
-------
>>> from incidentkit.fetch import logs
>>> df = logs.events(["/aws/lambda/api", "/ecs/web"], ("-1h", "now"),      # doctest: +SKIP
...                  pattern='?ERROR ?Exception')
>>> df.attrs["complete"], df.attrs["api_calls"], df.attrs["duplicates"]     # doctest: +SKIP
(True, 7, 0)
"""

from __future__ import annotations

import warnings
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ... import schema
from ...errors import IncidentKitError, IncompleteDataWarning
from .. import pacing
from ..insights import (
    DEFAULT_LIMIT,
    ERROR_RATE_COLUMNS,
    LATENCY_COLUMNS,
    MAX_LIMIT,
    MAX_LOG_GROUPS,
    collect,
    insights,
    insights_error_rates,
    insights_latency_split,
    results_frame,
    start_query,
    wait_query,
)
from .pages import EventPages
from .parts import MAX_PAGE_EVENTS, MAX_STREAMS_PER_CALL
from .parts import _progress_enabled, _SeenIds  # noqa: F401 - reached by tests under their old path

__all__ = [
    "events",
    "iter_pages",
    "EventPages",
    "MAX_PAGE_EVENTS",
    "MAX_STREAMS_PER_CALL",
    # Logs Insights (incidentkit.fetch.insights)
    "insights",
    "start_query",
    "wait_query",
    "collect",
    "results_frame",
    "insights_latency_split",
    "insights_error_rates",
    "LATENCY_COLUMNS",
    "ERROR_RATE_COLUMNS",
    "MAX_LOG_GROUPS",
    "MAX_LIMIT",
    "DEFAULT_LIMIT",
]


def iter_pages(
    log_groups: str | Iterable[str],
    window: Any,
    *,
    pattern: str | None = None,
    streams: Sequence[str] | None = None,
    stream_prefix: str | None = None,
    limit: int | None = None,
    max_workers: int = 4,
    slices: int | None = None,
    budget: pacing.Budget | None = None,
    progress: bool | None = None,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
) -> EventPages:
    """Stream FilterLogEvents pages as de-duplicated DataFrames, for fetches too big to hold.

    Takes the same arguments as :func:`events` and validates them at once; nothing is
    fetched until the result is iterated. Memory stays bounded: at most
    ``2 × chains + 2`` pages wait in the queue (``chains``: ``max_workers``, or the chains
    a raised budget runs, at most 32), plus 8 bytes an event for the
    de-duplication hashes.

    Returns
    -------
    EventPages
        Iterate it for the pages; ``.attrs`` after the loop holds the provenance. When a
        call fails the mapped error is raised from the loop (pages already yielded stay
        valid; ``.attrs["complete"]`` is False). Pages come as they arrive: those of
        several groups, and of one group's time slices, interleave (:func:`events` sorts).

    Example
    -------
    >>> pages = iter_pages(["/aws/lambda/api"], ("-7d", "now"))   # doctest: +SKIP
    >>> total = sum(len(p) for p in pages)                          # doctest: +SKIP
    >>> total == pages.attrs["rows"]                                # doctest: +SKIP
    True
    """
    return EventPages(
        log_groups, window, pattern=pattern, streams=streams, stream_prefix=stream_prefix, limit=limit,
        max_workers=max_workers, slices=slices, budget=budget, progress=progress, session=session, region=region,
        endpoint_url=endpoint_url, max_attempts=max_attempts,
    )  # fmt: skip


def _is_sorted(df: pd.DataFrame) -> bool:
    """Whether rows are already in (timestamp, event_id, log_group) order (then no sorted copy is made)."""
    ts = df["timestamp"].to_numpy(dtype="datetime64[ns]").view("int64")
    step = np.diff(ts)
    if (step < 0).any():
        return False
    ties = np.flatnonzero(step == 0)
    if not len(ties):
        return True
    a = df.iloc[ties][["event_id", "log_group"]].to_numpy(dtype=object)
    b = df.iloc[ties + 1][["event_id", "log_group"]].to_numpy(dtype=object)
    return all((x[0], x[1]) <= (y[0], y[1]) for x, y in zip(a, b))


def _time_order(df: pd.DataFrame) -> np.ndarray:
    """Row positions in (timestamp, event_id, log_group) order, ties kept in place (a stable sort).

    The same order as ``df.sort_values([...], kind="stable")``, computed by Arrow (several
    times faster on string keys: pages of concurrent slices and groups arrive interleaved).

    Example
    -------
    >>> f = pd.DataFrame({"timestamp": pd.to_datetime([2, 1, 1], unit="ms", utc=True),
    ...                   "event_id": pd.array(["b", "z", "a"], dtype="string"), "log_group": pd.array(["g"] * 3, dtype="string")})
    >>> _time_order(f).tolist()
    [2, 1, 0]
    """
    keys = pa.table({
        "timestamp": pa.array(df["timestamp"].to_numpy(dtype="datetime64[ns]").view("int64")),
        "event_id": pa.array(df["event_id"].astype("string")),
        "log_group": pa.array(df["log_group"].astype("string")),
    })  # fmt: skip
    order = pc.sort_indices(keys, sort_keys=[("timestamp", "ascending"), ("event_id", "ascending"), ("log_group", "ascending")])
    return order.to_numpy()


def _assemble(*lists: list[pd.DataFrame], attrs: dict[str, Any]) -> pd.DataFrame:
    """One frame from page lists (emptied as they are consumed, so pages and frame are not both kept), sorted by time."""
    parts = [f for frames in lists for f in frames if len(f)]
    for frames in lists:
        frames.clear()
    # pages of one group's time slices come interleaved, each in time order: put them in the
    # order of their first (then last) timestamp and the concatenation is usually sorted already
    # (no reordered copy; the sort below then only checks). The sorted frame is the same either way.
    parts.sort(key=lambda f: (f["timestamp"].iat[0], f["timestamp"].iat[-1]))
    if parts:
        df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        del parts
        if not _is_sorted(df):
            df = df.take(_time_order(df)).reset_index(drop=True)
    else:
        df = schema.empty_frame("events")
    df.attrs = attrs
    return df


def events(
    log_groups: str | Iterable[str],
    window: Any,
    *,
    pattern: str | None = None,
    streams: Sequence[str] | None = None,
    stream_prefix: str | None = None,
    limit: int | None = None,
    max_workers: int = 4,
    slices: int | None = None,
    budget: pacing.Budget | None = None,
    progress: bool | None = None,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
) -> pd.DataFrame:
    """Fetch CloudWatch Logs events (FilterLogEvents) into a tidy DataFrame.

    Parameters
    ----------
    log_groups:
        A log group name or ARN, or a list of them (ARNs reach groups of linked accounts).
    window:
        A :class:`~incidentkit.window.Window` or a ``(start, end)`` pair in any accepted
        time form; events in ``[start, end)`` are returned.
    pattern:
        A CloudWatch Logs filter pattern (``ERROR``, ``?ERROR ?WARN``, ``{ $.status >= 500 }``).
    streams, stream_prefix:
        Only these log streams (any number: sent 100 a call), or only streams whose name
        starts with the prefix. Not both.
    limit:
        Stop after this many events in all (``attrs["truncated"]`` says if more exist).
    max_workers:
        Chains fetched at once (groups, batches of 100 streams, time slices), 1 to 32. A
        paced fetch with auto slicing runs more when the budget needs them: up to
        ``ceil(budget x measured call time x 1.25)``, at most 32 (:mod:`.slices`); not
        paced, never more than this.
    slices:
        Time slices each group's window is read as, concurrently (1 to 64). Default
        ``None``: one chain per group, which hands the rest of its window to slices once
        it has read two pages, more remain and ``ceil(budget x call latency)`` chains are
        needed to fill the budget (a small fetch, or one chain already at the budget,
        costs no extra call). ``1``: one sequential chain. Not with ``limit`` (which keeps
        the earliest events).
    budget:
        The requests-per-second budget the calls draw on; default the run's shared one
        (:func:`incidentkit.fetch.pacing.shared`: AWS's documented FilterLogEvents quota of
        5/s, or ``INCIDENTKIT_RPS``). Every attempt, retries included, waits for a token.
    progress:
        Show a tqdm bar (a widget in Jupyter). Default: on in a terminal or a notebook,
        off otherwise and when ``INCIDENTKIT_PROGRESS=0``.
    session, region, endpoint_url, max_attempts:
        AWS access (see :func:`incidentkit.fetch.aws.client`); ``max_attempts`` is the retry
        budget of each call.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`incidentkit.schema.EVENT_COLUMNS`, sorted by ``timestamp`` then
        ``event_id``, one row per distinct ``(log_group, event_id)``. ``attrs``:
        ``source="logs.events"``, ``query``, ``window``, ``region``, ``api_calls``,
        ``retries``, ``pages``, ``empty_pages``, ``duplicates``, ``rows``,
        ``events_per_group``, ``complete``, ``truncated``, ``interrupted``, ``issues``,
        ``slices`` (slice chains read), ``slice_overlap`` (events re-read where slices
        touch, dropped), ``throttled`` (attempts AWS throttled, each retried) and
        ``rps_budget``.

    Raises
    ------
    NotFoundError
        A log group does not exist (the message names it and similar existing names).
    ThrottledError, EndpointError, NoCredentialsError, AccessDeniedError, AwsError
        A call failed for good; ``err.partial`` holds the events fetched so far
        (``attrs["complete"]`` False).

    Warns
    -----
    IncompleteDataWarning
        When the frame is not complete (limit reached, repeated token, interrupted).

    Example
    -------
    >>> df = events("/aws/lambda/api", ("2026-03-01T03:00Z", "2026-03-01T04:00Z"),  # doctest: +SKIP
    ...             pattern="REPORT")
    >>> df.columns.tolist()                                                         # doctest: +SKIP
    ['timestamp', 'ingestion_time', 'log_group', 'log_stream', 'event_id', 'message']
    """
    pages = iter_pages(
        log_groups, window, pattern=pattern, streams=streams, stream_prefix=stream_prefix, limit=limit,
        max_workers=max_workers, slices=slices, budget=budget, progress=progress, session=session, region=region,
        endpoint_url=endpoint_url, max_attempts=max_attempts,
    )  # fmt: skip
    frames: list[pd.DataFrame] = []
    try:
        for page in pages:
            frames.append(page)
    except KeyboardInterrupt:
        pages.close(interrupted=True)  # wherever Ctrl-C landed, stop the workers
        df = _assemble(frames, pages.leftover, attrs=pages.attrs)
        warnings.warn(
            f"logs.events interrupted by user: returning the {len(df):,} events fetched so far (complete=False)",
            IncompleteDataWarning,
            stacklevel=2,
        )
        return df
    except IncidentKitError as err:
        pages.close()
        err.partial = _assemble(frames, pages.leftover, attrs=pages.attrs)  # type: ignore[attr-defined]
        raise
    df = _assemble(frames, attrs=pages.attrs)
    if not df.attrs["complete"]:
        warnings.warn(
            f"logs.events returned less than exists: {'; '.join(df.attrs['issues'][-3:])}",
            IncompleteDataWarning,
            stacklevel=2,
        )
    return df

