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
* throttling is retried by botocore (standard mode, the budget of
  :func:`incidentkit.fetch.aws.client`) and the retries counted (``attrs["retries"]``). When a
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

import difflib
import logging
import queue
import re
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from . import aws
from .. import schema
from ..errors import IncidentKitError, IncompleteDataWarning, NotFoundError, ParameterError, from_botocore
from .insights import (
    DEFAULT_LIMIT,
    ERROR_RATE_COLUMNS,
    LATENCY_COLUMNS,
    MAX_LIMIT,
    MAX_LOG_GROUPS,
    _as_window,
    _botocore_errors,
    _client,
    _group_list,
    _group_name,
    collect,
    insights,
    insights_error_rates,
    insights_latency_split,
    results_frame,
    start_query,
    wait_query,
)
from .._util.progress import progress_enabled
from ..window import Window

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

log = logging.getLogger(__name__)

#: FilterLogEvents returns at most this many events a page (and at most 1 MB).
MAX_PAGE_EVENTS = 10_000
#: FilterLogEvents ``logStreamNames`` takes at most this many names.
MAX_STREAMS_PER_CALL = 100

_STRING = "string"


# --- small parts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """One log group as the caller named it, and how the API and the frame name it."""

    ref: str  # name or ARN (without a trailing ``:*``)
    label: str  # the frame's ``log_group`` value

    @property
    def params(self) -> dict[str, str]:
        if self.ref.startswith("arn:"):
            return {"logGroupIdentifier": self.ref}
        return {"logGroupName": self.ref}


def _targets(log_groups: str | Iterable[str]) -> list[_Target]:
    refs = _group_list(log_groups)
    names = [_group_name(r) for r in refs]
    # A name seen twice (the same group name in two accounts, given as ARNs) keeps its ARN as label.
    return [_Target(r, n if names.count(n) == 1 else r) for r, n in zip(refs, names)]


@dataclass(frozen=True)
class _Task:
    target: _Target
    streams: tuple[str, ...] | None = None


class _SeenIds:
    """A set of 64-bit hashes kept as a few sorted numpy arrays (a log-structured merge).

    ``contains`` costs a binary search per level (O(log² n)); ``add`` merges levels of
    similar size, so insertion is amortised O(log n) per id; memory is 8 bytes an id.
    Collisions between distinct ids are possible in principle (probability ~n²/2⁶⁵:
    about 3e-6 for ten million events of one group).
    """

    def __init__(self) -> None:
        self.levels: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(a) for a in self.levels)

    def contains(self, h: np.ndarray) -> np.ndarray:
        found = np.zeros(len(h), dtype=bool)
        for arr in self.levels:
            idx = np.searchsorted(arr, h)
            idx[idx == len(arr)] = len(arr) - 1
            found |= arr[idx] == h
        return found

    def add(self, h: np.ndarray) -> None:
        if not len(h):
            return
        new = np.sort(h)
        while self.levels and len(self.levels[-1]) <= 2 * len(new):
            new = np.sort(np.concatenate([self.levels.pop(), new]), kind="stable")
        self.levels.append(new)


def _hash_ids(ids: pd.Series) -> np.ndarray:
    return pd.util.hash_array(ids.to_numpy(dtype=object, na_value=""), categorize=False)


def _utc_ms(values: list[Any]) -> pd.Series:
    arr = pd.array(values, dtype="Int64")
    return pd.Series(pd.to_datetime(arr, unit="ms", utc=True)).astype(schema.UTC_NS)


def _page_frame(events: list[dict[str, Any]], label: str) -> pd.DataFrame:
    """FilterLogEvents ``events`` → a frame with :data:`schema.EVENT_COLUMNS`, built column-wise."""
    n = len(events)
    if not n:
        return schema.empty_frame("events")
    frame = pd.DataFrame(
        {
            "timestamp": _utc_ms([e.get("timestamp") for e in events]),
            "ingestion_time": _utc_ms([e.get("ingestionTime") for e in events]),
            "log_group": pd.Series(pd.array([label] * n, dtype=_STRING)),
            "log_stream": pd.Series(pd.array([e.get("logStreamName") for e in events], dtype=_STRING)),
            "event_id": pd.Series(pd.array([e.get("eventId") for e in events], dtype=_STRING)),
            "message": _text_column([e.get("message") for e in events]),
        }
    )
    return frame


_SURROGATE = re.compile("[\ud800-\udfff]")


def _text_column(values: list[Any]) -> pd.Series:
    """A string column; text Arrow cannot hold (lone UTF-16 surrogates from a ``\\udXXX``
    escape) becomes U+FFFD instead of failing the whole page."""
    try:
        return pd.Series(pd.array(values, dtype=_STRING))
    except UnicodeEncodeError:
        clean = [_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for v in values]
        return pd.Series(pd.array(clean, dtype=_STRING))


_progress_enabled = progress_enabled


def _fetch_bounds(win: Window) -> tuple[int, int]:
    """FilterLogEvents ``startTime`` / ``endTime`` (ms, both inclusive) for ``[start, end)``."""
    start = -(-int(win.start.value) // 1_000_000)
    end_excl = -(-int(win.end.value) // 1_000_000)
    return start, max(start, end_excl - 1)


@dataclass
class _Stats:
    api_calls: int = 0
    retries: int = 0
    pages: int = 0
    empty_pages: int = 0
    duplicates: int = 0
    rows: int = 0
    per_group: dict[str, int] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)
    truncated: bool = False
    interrupted: bool = False
    failed: bool = False
    looped: bool = False
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def account(self, response: Any) -> None:
        """Count one call, answered or failed after its retries (``response``: the response or ``ClientError.response``)."""
        with self.lock:
            self.api_calls += 1
            self.retries += aws.retry_attempts(response)


# --- the stream -----------------------------------------------------------------------------------


class EventPages:
    """The pages of a FilterLogEvents fetch, one de-duplicated DataFrame at a time.

    Made by :func:`iter_pages`. Iterate it once; each item has the columns of
    :data:`incidentkit.schema.EVENT_COLUMNS` (pages of different groups interleave, and
    rows inside a page keep the service's order). :attr:`attrs` gives the provenance so
    far — read it after the loop for the final counts.

    Example
    -------
    >>> pages = iter_pages("/aws/lambda/api", ("-1h", "now"))   # doctest: +SKIP
    >>> for page in pages:                                        # doctest: +SKIP
    ...     writer.write(page)
    >>> pages.attrs["complete"]                                   # doctest: +SKIP
    True
    """

    def __init__(
        self,
        log_groups: str | Iterable[str],
        window: Any,
        *,
        pattern: str | None = None,
        streams: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        limit: int | None = None,
        max_workers: int = 4,
        progress: bool | None = None,
        session: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int | None = None,
    ) -> None:
        self.targets = _targets(log_groups)
        self.window = _as_window(window)
        if pattern is not None and not isinstance(pattern, str):
            raise ParameterError(f"pattern must be a CloudWatch Logs filter pattern string, got {pattern!r}")
        if pattern is not None and len(pattern) > 1024:
            raise ParameterError(f"pattern is {len(pattern)} characters; FilterLogEvents takes at most 1,024")
        if streams is not None and stream_prefix is not None:
            raise ParameterError("give streams or stream_prefix, not both (FilterLogEvents refuses the pair)")
        if isinstance(streams, str):
            streams = [streams]
        if streams is not None:
            streams = list(dict.fromkeys(s for s in streams if s))
            if not streams:
                raise ParameterError("streams is empty: name at least one log stream, or pass streams=None")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
            raise ParameterError(f"limit={limit!r} must be a positive whole number of events (or None for all)")
        if isinstance(max_workers, bool) or not isinstance(max_workers, int) or not 1 <= max_workers <= 32:
            raise ParameterError(f"max_workers={max_workers!r} must be 1 to 32")
        self.pattern = pattern or None
        self.streams = streams
        self.stream_prefix = stream_prefix or None
        self.limit = int(limit) if limit is not None else None
        self.max_workers = max_workers
        self.progress = progress
        self._client_args = (session, region, endpoint_url, max_attempts)
        self.start_ms, self.end_ms = _fetch_bounds(self.window)
        self.stats = _Stats()
        self.region: str | None = region
        self._iterated = False
        self._gen: Iterator[pd.DataFrame] | None = None
        #: Pages fetched but not yet yielded when the stream stopped on an error or an
        #: interrupt (de-duplicated and counted in :attr:`attrs`): evidence to keep.
        self.leftover: list[pd.DataFrame] = []

    # -- what was asked -------------------------------------------------------------------------
    def _tasks(self) -> list[_Task]:
        if self.streams is None:
            return [_Task(t) for t in self.targets]
        chunks = [tuple(self.streams[i : i + MAX_STREAMS_PER_CALL]) for i in range(0, len(self.streams), MAX_STREAMS_PER_CALL)]
        return [_Task(t, c) for t in self.targets for c in chunks]

    def _params(self, task: _Task) -> dict[str, Any]:
        params: dict[str, Any] = {**task.target.params, "startTime": self.start_ms, "endTime": self.end_ms}
        if self.pattern:
            params["filterPattern"] = self.pattern
        if task.streams:
            params["logStreamNames"] = list(task.streams)
        if self.stream_prefix:
            params["logStreamNamePrefix"] = self.stream_prefix
        return params

    @property
    def query(self) -> dict[str, Any]:
        """The exact request, JSON-able (for the evidence manifest)."""
        return {
            "api": "FilterLogEvents",
            "log_groups": [t.ref for t in self.targets],
            "filterPattern": self.pattern,
            "logStreamNames": self.streams,
            "logStreamNamePrefix": self.stream_prefix,
            "startTime": self.start_ms,
            "endTime": self.end_ms,
            "limit": self.limit,
        }

    @property
    def complete(self) -> bool:
        s = self.stats
        return not (s.truncated or s.interrupted or s.failed or s.looped) and s.finished is not None

    @property
    def attrs(self) -> dict[str, Any]:
        """Provenance so far (``schema.provenance`` keys plus page / duplicate counts)."""
        s = self.stats
        end = s.finished if s.finished is not None else time.monotonic()
        return schema.provenance(
            "logs.events",
            query=self.query,
            window=self.window,
            region=self.region,
            api_calls=s.api_calls,
            retries=s.retries,
            elapsed_s=end - s.started,
            complete=self.complete,
            truncated=s.truncated,
            issues=list(s.issues),
            pages=s.pages,
            empty_pages=s.empty_pages,
            duplicates=s.duplicates,
            rows=s.rows,
            events_per_group=dict(s.per_group),
            interrupted=s.interrupted,
        )

    # -- the fetch -------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[pd.DataFrame]:
        if self._iterated:
            raise ParameterError("an EventPages stream can be read once; call iter_pages() again to re-fetch")
        self._iterated = True
        self._gen = self._run()
        return self._gen

    def close(self, *, interrupted: bool = False) -> None:
        """Stop the fetch (workers finish their current call and exit); safe to call twice.

        ``interrupted=True`` records that the user interrupted it (KeyboardInterrupt).
        """
        s = self.stats
        if interrupted and not s.interrupted:
            s.interrupted = True
            s.issues.append(f"interrupted by user after {s.rows:,} events: the fetch is incomplete")
        gen = getattr(self, "_gen", None)
        if gen is not None:
            gen.close()
        if s.finished is None:
            s.finished = time.monotonic()

    def _run(self) -> Iterator[pd.DataFrame]:
        session, region, endpoint_url, max_attempts = self._client_args
        client = _client(None, session, region, endpoint_url, max_attempts)  # made here, in the calling thread
        self.region = getattr(getattr(client, "meta", None), "region_name", None) or region
        tasks = self._tasks()
        s = self.stats
        s.started = time.monotonic()
        for t in self.targets:
            s.per_group.setdefault(t.label, 0)
        seen = {t.label: _SeenIds() for t in self.targets}
        stop = threading.Event()
        out: queue.Queue = queue.Queue(maxsize=2 * self.max_workers + 2)
        shared = {"rows": 0}
        pool = ThreadPoolExecutor(max_workers=min(self.max_workers, len(tasks)), thread_name_prefix="incidentkit-logs")
        bar = None
        active = len(tasks)
        normal = settle = False
        try:
            for task in tasks:
                pool.submit(self._worker, client, task, stop, out, shared)
            if _progress_enabled(self.progress):
                from tqdm.auto import tqdm

                bar = tqdm(desc="logs.events", unit=" events", unit_scale=True, delay=0.5, dynamic_ncols=True)
            while active:
                try:
                    kind, task, payload = out.get(timeout=0.25)
                except queue.Empty:
                    continue
                if kind == "done":
                    active -= 1
                    if bar is not None:
                        what = "groups" if len(tasks) == len(self.targets) else "parts"
                        bar.set_postfix_str(f"{len(tasks) - active}/{len(tasks)} {what} done", refresh=False)
                    continue
                if kind == "error":
                    active -= 1
                    s.failed = True
                    stop.set()
                    # an AWS error: the calls other workers have in flight are counted before the frame is made
                    # (an interrupt or a bug raised in a worker stops at once)
                    settle = isinstance(payload, _botocore_errors())
                    raise self._error(client, task, payload)
                frame, has_more, note = payload
                s.pages += 1
                if note:
                    s.looped = True
                    s.issues.append(note)
                if frame.empty:
                    s.empty_pages += 1
                    continue
                frame = self._dedup(frame, seen[task.target.label])
                if self.limit is not None and s.rows + len(frame) >= self.limit:
                    room = self.limit - s.rows
                    more = len(frame) > room or has_more or active > 1
                    frame = frame.iloc[:room].reset_index(drop=True)
                    self._count(frame, task, bar)
                    if more:
                        s.truncated = True
                        s.issues.append(
                            f"stopped at limit={self.limit:,} events: more events may exist in the window"
                        )
                    stop.set()
                    normal = True
                    if len(frame):
                        yield frame
                    return
                self._count(frame, task, bar)
                shared["rows"] = s.rows
                yield frame
            normal = True
        except KeyboardInterrupt:
            if not s.interrupted:
                s.interrupted = True
                s.issues.append(f"interrupted by user after {s.rows:,} events: the fetch is incomplete")
            raise
        except GeneratorExit:
            if active and not s.interrupted:
                s.interrupted = True
                s.issues.append(f"the reader stopped after {s.rows:,} events: the fetch is incomplete")
            raise
        finally:
            stop.set()
            # a worker stops after its call in flight: wait for it (bounded by its retry budget) unless interrupted,
            # so every call made, answered or failed, is in api_calls/retries when the frame is made
            pool.shutdown(wait=normal or settle, cancel_futures=True)
            if not normal:
                self._drain(out, seen, bar)
            s.finished = time.monotonic()
            if bar is not None:
                bar.close()

    def _drain(self, out: queue.Queue, seen: dict[str, _SeenIds], bar: Any) -> None:
        """Keep the pages already fetched and queued when the stream stops early."""
        s = self.stats
        while True:
            try:
                kind, task, payload = out.get_nowait()
            except queue.Empty:
                return
            if kind != "page":
                continue
            frame, _, note = payload
            s.pages += 1
            if note:
                s.looped = True
                s.issues.append(note)
            if frame.empty:
                s.empty_pages += 1
                continue
            frame = self._dedup(frame, seen[task.target.label])
            if self.limit is not None:
                frame = frame.iloc[: max(0, self.limit - s.rows)].reset_index(drop=True)
            if len(frame):
                self._count(frame, task, bar)
                self.leftover.append(frame)

    def _count(self, frame: pd.DataFrame, task: _Task, bar: Any) -> None:
        s = self.stats
        s.rows += len(frame)
        s.per_group[task.target.label] = s.per_group.get(task.target.label, 0) + len(frame)
        if bar is not None:
            bar.update(len(frame))

    def _dedup(self, frame: pd.DataFrame, seen: _SeenIds) -> pd.DataFrame:
        h = _hash_ids(frame["event_id"])
        dup = pd.Series(h).duplicated().to_numpy() | seen.contains(h)
        if dup.any():
            self.stats.duplicates += int(dup.sum())
            keep = ~dup
            seen.add(h[keep])
            return frame.loc[keep].reset_index(drop=True)
        seen.add(h)
        return frame

    def _worker(self, client: Any, task: _Task, stop: threading.Event, out: queue.Queue, shared: dict[str, int]) -> None:
        """Page through one (group, stream batch) and hand each page to the reader."""

        def put(item: tuple[str, _Task, Any]) -> bool:
            # Once the reader has stopped (limit, error, interrupt) nobody reads: give up.
            while not stop.is_set():
                try:
                    out.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        label = task.target.label
        token: str | None = None
        tokens: set[str] = set()
        fetched = 0  # this worker's own events: the reader's count lags behind by the queued pages
        try:
            while not stop.is_set():
                params = self._params(task)
                if token:
                    params["nextToken"] = token
                if self.limit is not None:
                    params["limit"] = max(1, min(MAX_PAGE_EVENTS, self.limit - max(shared["rows"], fetched)))
                try:
                    resp = client.filter_log_events(**params)
                except _botocore_errors() as exc:
                    self.stats.account(getattr(exc, "response", None))  # a call that failed after its retries
                    raise
                self.stats.account(resp)
                nxt = resp.get("nextToken")
                note = None
                if nxt and (nxt == token or nxt in tokens):
                    note = f"{label}: FilterLogEvents repeated a nextToken; stopped this group to avoid an endless loop"
                frame = _page_frame(resp.get("events") or [], label)
                fetched += len(frame)
                if not put(("page", task, (frame, bool(nxt) and note is None, note))):
                    return
                if not nxt or note:
                    break
                tokens.add(nxt)
                token = nxt
        except _botocore_errors() as exc:
            put(("error", task, exc))
            stop.set()  # then no other group starts on this worker: the error ends the fetch
            return
        except BaseException as exc:  # noqa: BLE001 - a bug or an interrupt must reach the reader, not die in a thread
            put(("error", task, exc))
            stop.set()
            return
        put(("done", task, None))

    def _error(self, client: Any, task: _Task, exc: BaseException) -> BaseException:
        """Map a worker's exception to the kit's error, with context (and similar names if not found)."""
        s = self.stats
        if not isinstance(exc, _botocore_errors()):
            s.issues.append(f"{task.target.label}: {type(exc).__name__}: {exc}")
            return exc
        err = from_botocore(
            exc,
            service="logs",
            operation="FilterLogEvents",
            log_group=task.target.ref,
            window=str(self.window),
            region=self.region,
        )
        if isinstance(err, NotFoundError):
            similar = self._similar(client, task.target.ref)
            hint = f"; similar: {', '.join(similar)}" if similar else "; list them with DescribeLogGroups"
            err.message = f"log group {task.target.ref!r} does not exist in {self.region or 'this region'}{hint}"
        s.issues.append(f"{task.target.label}: {err.message}")
        err.__cause__ = exc
        return err

    def _similar(self, client: Any, ref: str) -> list[str]:
        """Up to 3 existing log group names close to ``ref`` (one DescribeLogGroups call)."""
        name = _group_name(ref)
        parent = name.rstrip("/").rsplit("/", 1)[0] + "/" if "/" in name.strip("/") else name[: max(1, len(name) // 2)]
        try:
            resp = client.describe_log_groups(logGroupNamePrefix=parent, limit=50)
        except Exception as exc:  # noqa: BLE001 - a hint is optional
            log.debug("DescribeLogGroups for a hint failed: %s", exc)
            self.stats.account(getattr(exc, "response", None))
            return []
        self.stats.account(resp)
        names = [g.get("logGroupName", "") for g in resp.get("logGroups") or []]
        return difflib.get_close_matches(name, names, n=3, cutoff=0.6)


def iter_pages(
    log_groups: str | Iterable[str],
    window: Any,
    *,
    pattern: str | None = None,
    streams: Sequence[str] | None = None,
    stream_prefix: str | None = None,
    limit: int | None = None,
    max_workers: int = 4,
    progress: bool | None = None,
    session: Any = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int | None = None,
) -> EventPages:
    """Stream FilterLogEvents pages as de-duplicated DataFrames, for fetches too big to hold.

    Takes the same arguments as :func:`events` and validates them at once; nothing is
    fetched until the result is iterated. Memory stays bounded: at most
    ``2 × max_workers + 2`` pages wait in the queue, plus 8 bytes an event for the
    de-duplication hashes.

    Returns
    -------
    EventPages
        Iterate it for the pages; ``.attrs`` after the loop holds the provenance. When a
        call fails the mapped error is raised from the loop (pages already yielded stay
        valid; ``.attrs["complete"]`` is False).

    Example
    -------
    >>> pages = iter_pages(["/aws/lambda/api"], ("-7d", "now"))   # doctest: +SKIP
    >>> total = sum(len(p) for p in pages)                          # doctest: +SKIP
    >>> total == pages.attrs["rows"]                                # doctest: +SKIP
    True
    """
    return EventPages(
        log_groups, window, pattern=pattern, streams=streams, stream_prefix=stream_prefix, limit=limit,
        max_workers=max_workers, progress=progress, session=session, region=region,
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


def _assemble(*lists: list[pd.DataFrame], attrs: dict[str, Any]) -> pd.DataFrame:
    """One frame from page lists (emptied as they are consumed, so pages and frame are not both kept)."""
    parts = [f for frames in lists for f in frames if len(f)]
    for frames in lists:
        frames.clear()
    if parts:
        df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        del parts
        if not _is_sorted(df):
            df = df.sort_values(["timestamp", "event_id", "log_group"], kind="stable", ignore_index=True)
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
        Groups (or batches of 100 streams) fetched at once, 1 to 32.
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
        ``events_per_group``, ``complete``, ``truncated``, ``interrupted``, ``issues``.

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
        max_workers=max_workers, progress=progress, session=session, region=region,
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
