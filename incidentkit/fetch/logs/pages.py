"""The stream of a FilterLogEvents fetch: worker threads page through each task, the reader de-duplicates."""

from __future__ import annotations

import difflib
import logging
import collections
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from ... import schema
from ...errors import NotFoundError, ParameterError, from_botocore
from .. import aws, pacing
from ...window import as_window as _as_window
from .._common import _botocore_errors, _client, _group_name
from .parts import (
    MAX_PAGE_EVENTS,
    MAX_STREAMS_PER_CALL,
    _fetch_bounds,
    _hash_ids,
    _page_frame,
    _progress_enabled,
    _read_page_json,
    _SeenIds,
    _Stats,
    _targets,
    _Task,
)
from .slices import MAX_CHAINS, MAX_SLICES, SPLIT_AFTER_PAGES, chains_wanted, even_slices, rest_slices

log = logging.getLogger(__name__)


# --- the stream -----------------------------------------------------------------------------------


class EventPages:
    """The pages of a FilterLogEvents fetch, one de-duplicated DataFrame at a time.

    Made by :func:`iter_pages`. Iterate it once; each item has the columns of
    :data:`incidentkit.schema.EVENT_COLUMNS` (pages of different groups interleave, and
    rows inside a page keep the service's order). :attr:`attrs` gives the provenance so
    far — read it after the loop for the final counts.

    A large group's window is read as concurrent time slices (:mod:`.slices`), every
    attempt paced by the run's shared FilterLogEvents budget (:mod:`incidentkit.fetch.pacing`).

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
        slices: int | None = None,
        budget: pacing.Budget | None = None,
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
        if slices is not None and (isinstance(slices, bool) or not isinstance(slices, (int, np.integer)) or not 1 <= slices <= MAX_SLICES):
            raise ParameterError(f"slices={slices!r} must be 1 to {MAX_SLICES} time slices a group (or None: split when a group proves large)")
        if slices is not None and slices > 1 and limit is not None:
            raise ParameterError("give slices or limit, not both: limit keeps the earliest events, slices read the window out of order")
        self.pattern = pattern or None
        self.streams = streams
        self.stream_prefix = stream_prefix or None
        self.limit = int(limit) if limit is not None else None
        self.max_workers = max_workers
        self.slices = int(slices) if slices is not None else None
        self.budget = budget
        self.progress = progress
        self._split_lock = threading.Lock()
        # under _split_lock: chains started (submitted, not finished), chains waiting to start,
        # and how many may run at once (max_workers, raised by _split to what the budget needs)
        self._running = 0
        self._pending: collections.deque[_Task] = collections.deque()
        self._limit = max_workers
        self._pacer: pacing.Pacer | None = None
        self._throttles = pacing.Throttles()
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
        """One chain per group (and batch of 100 streams), per time slice when ``slices`` > 1."""
        chunks: list[tuple[str, ...] | None] = [None]
        if self.streams is not None:
            chunks = [tuple(self.streams[i : i + MAX_STREAMS_PER_CALL]) for i in range(0, len(self.streams), MAX_STREAMS_PER_CALL)]
        spans: list[tuple[int, int] | None] = [None]
        if self.slices and self.slices > 1:
            spans = list(even_slices(self.start_ms, self.end_ms, self.slices))
        auto = self.slices is None and self.limit is None
        tasks = [_Task(t, c, b, may_split=auto) for t in self.targets for c in chunks for b in spans]
        if spans != [None]:
            self.stats.slices += len(tasks)
        return tasks

    def _split(self, task: _Task, pages: int, last_page: tuple[int, int] | None, latency_s: float) -> list[_Task]:
        """Slices for the rest of ``task``'s window, when auto slicing finds the chain long (else ``[]``).

        ``last_page``: the first and last timestamp of the last page read; the rest starts at
        the first, so the slice that touches the chain's end re-reads that page's events
        (dropped by id) and skips none. ``latency_s``: the chain's mean call time (token
        waits excluded). The fetch may then run as many chains as fill the budget
        (:func:`.slices.chains_wanted`, past ``max_workers``); no split when the chains
        started and waiting already do, else twice as many slices as chains are missing
        (so the last ones end close together).
        """
        if not task.may_split or pages < SPLIT_AFTER_PAGES or last_page is None:
            return []
        lo, hi = task.bounds or (self.start_ms, self.end_ms)
        rps = self._pacer.rate if self._pacer is not None else None
        want = chains_wanted(rps, latency_s, self.max_workers)
        with self._split_lock:
            self._limit = max(self._limit, want)
            if self._running + len(self._pending) >= want:
                return []
            missing = want - self._running - len(self._pending) + 1  # chains to add; this one's slices replace it
            room = min(2 * missing, MAX_SLICES * len(self.targets) - self.stats.slices)
            spans = rest_slices(lo, hi, resume_ms=last_page[0], pages_done=pages, max_slices=room)
            self.stats.slices += len(spans)
        # the page read last may reach into several slices (a sparse stretch): each of them re-reads its part
        return [_Task(task.target, task.streams, b, may_split=True, touches=last_page if b[0] <= last_page[1] else None) for b in spans]

    def _params(self, task: _Task) -> dict[str, Any]:
        start, end = task.bounds or (self.start_ms, self.end_ms)
        params: dict[str, Any] = {**task.target.params, "startTime": start, "endTime": end}
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
            "slices": self.slices,
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
            slices=s.slices,
            slice_overlap=s.slice_overlap,
            throttled=self._throttles.count,
            rps_budget=self._pacer.rate if self._pacer is not None else None,
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
        self._pacer, self._throttles = pacing.attach(client, "FilterLogEvents", self.budget)
        client.meta.events.register("before-parse.logs.FilterLogEvents", _read_page_json, unique_id="incidentkit-logs-page-json")
        tasks = self._tasks()
        s = self.stats
        s.started = time.monotonic()
        for t in self.targets:
            s.per_group.setdefault(t.label, 0)
        seen = {t.label: _SeenIds() for t in self.targets}
        stop = threading.Event()
        out: queue.Queue = queue.Queue(maxsize=2 * self.max_workers + 2)
        shared = {"rows": 0}
        may_grow = any(t.may_split for t in tasks)  # threads are made as chains start: MAX_CHAINS is a bound
        pool = ThreadPoolExecutor(max_workers=max(self.max_workers, MAX_CHAINS) if may_grow else min(self.max_workers, len(tasks)),
                                  thread_name_prefix="incidentkit-logs")  # fmt: skip
        bar = None
        run = {"active": len(tasks), "tasks": len(tasks), "normal": False, "settle": False}
        try:
            self._pending.extend(tasks)
            self._launch(pool, client, stop, out, shared)
            if _progress_enabled(self.progress):
                from tqdm.auto import tqdm

                bar = tqdm(desc="logs.events", unit=" events", unit_scale=True, delay=0.5, dynamic_ncols=True)
            yield from self._read(client, pool, stop, out, shared, seen, bar, run)
        except KeyboardInterrupt:
            if not s.interrupted:
                s.interrupted = True
                s.issues.append(f"interrupted by user after {s.rows:,} events: the fetch is incomplete")
            raise
        except GeneratorExit:
            if run["active"] and not s.interrupted:
                s.interrupted = True
                s.issues.append(f"the reader stopped after {s.rows:,} events: the fetch is incomplete")
            raise
        finally:
            stop.set()
            # a worker stops after its call in flight: wait for it (bounded by its retry budget) unless interrupted,
            # so every call made, answered or failed, is in api_calls/retries when the frame is made
            pool.shutdown(wait=run["normal"] or run["settle"], cancel_futures=True)
            if not run["normal"]:
                self._drain(out, seen, bar)
            self._note_throttles()
            s.finished = time.monotonic()
            if bar is not None:
                bar.close()

    def _read(self, client: Any, pool: ThreadPoolExecutor, stop: threading.Event, out: queue.Queue,
              shared: dict[str, int], seen: dict[str, _SeenIds], bar: Any, run: dict[str, Any]) -> Iterator[pd.DataFrame]:  # fmt: skip
        """The reader: take the workers' messages, start the slices they hand over, yield de-duplicated pages."""
        s = self.stats
        while run["active"]:
            try:
                kind, task, payload = out.get(timeout=0.25)  # a timeout: Ctrl-C reaches this thread within it
            except queue.Empty:
                continue
            if kind == "split":
                run["active"] += len(payload)
                run["tasks"] += len(payload)
                with self._split_lock:
                    self._pending.extendleft(reversed(payload))  # before other groups: this one's window ends sooner
                self._launch(pool, client, stop, out, shared)
                continue
            self._launch(pool, client, stop, out, shared)  # a chain ended, or raised the limit
            if kind == "done":
                run["active"] -= 1
                if bar is not None:
                    what = "groups" if run["tasks"] == len(self.targets) else "parts"
                    bar.set_postfix_str(f"{run['tasks'] - run['active']}/{run['tasks']} {what} done", refresh=False)
                continue
            if kind == "error":
                run["active"] -= 1
                s.failed = True
                stop.set()
                # an AWS error: the calls other workers have in flight are counted before the frame is made
                # (an interrupt or a bug raised in a worker stops at once)
                run["settle"] = isinstance(payload, _botocore_errors())
                raise self._error(client, task, payload)
            frame, has_more, note = payload
            frame = self._take(task, frame, note, seen)
            if frame is None:
                continue
            if self.limit is not None and s.rows + len(frame) >= self.limit:
                room = self.limit - s.rows
                more = len(frame) > room or has_more or run["active"] > 1
                frame = frame.iloc[:room].reset_index(drop=True)
                self._count(frame, task, bar)
                if more:
                    s.truncated = True
                    s.issues.append(f"stopped at limit={self.limit:,} events: more events may exist in the window")
                stop.set()
                run["normal"] = True
                if len(frame):
                    yield frame
                return
            self._count(frame, task, bar)
            shared["rows"] = s.rows
            yield frame
        run["normal"] = True

    def _launch(self, pool: ThreadPoolExecutor, client: Any, stop: threading.Event, out: queue.Queue, shared: dict[str, int]) -> None:
        """Start waiting chains while fewer than the limit run (``max_workers``, or more when the budget needs them).

        The reader's queue holds up to two pages a chain (and two more), so a reader slower
        than the chains holds them back rather than piling pages up in memory.
        """
        with self._split_lock:
            out.maxsize = 2 * self._limit + 2
            while self._pending and self._running < self._limit and not stop.is_set():
                self._running += 1  # counted from now: a chain about to start is not one to split for
                pool.submit(self._worker, client, self._pending.popleft(), stop, out, shared)

    def _note_throttles(self) -> None:
        """Say in the issues how often AWS throttled the fetch (each retried by botocore; nothing lost)."""
        n = self._throttles.count
        if n:
            budget = f" (budget {self._pacer.rate:g}/s)" if self._pacer is not None else ""
            self.stats.issues.append(
                f"FilterLogEvents was throttled {n:,} times{budget}: each retried with backoff, no events lost; "
                "other tools share the account's quota, or the budget is above it (INCIDENTKIT_RPS)"
            )

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
            frame = self._take(task, frame, note, seen)
            if frame is None:
                continue
            if self.limit is not None:
                frame = frame.iloc[: max(0, self.limit - s.rows)].reset_index(drop=True)
            if len(frame):
                self._count(frame, task, bar)
                self.leftover.append(frame)

    def _take(self, task: _Task, frame: pd.DataFrame, note: str | None, seen: dict[str, _SeenIds]) -> pd.DataFrame | None:
        """Count a page a worker handed over; its new events, or None for an empty page."""
        s = self.stats
        s.pages += 1
        if note:
            s.looped = True
            s.issues.append(note)
        if frame.empty:
            s.empty_pages += 1
            return None
        return self._dedup(frame, seen[task.target.label], task.touches)

    def _count(self, frame: pd.DataFrame, task: _Task, bar: Any) -> None:
        s = self.stats
        s.rows += len(frame)
        s.per_group[task.target.label] = s.per_group.get(task.target.label, 0) + len(frame)
        if bar is not None:
            bar.update(len(frame))

    def _dedup(self, frame: pd.DataFrame, seen: _SeenIds, touches: tuple[int, int] | None = None) -> pd.DataFrame:
        """Drop events seen before (by id); those at a slice's touching edge count as overlap, not duplicates."""
        h = _hash_ids(frame["event_id"])
        dup = pd.Series(h).duplicated().to_numpy() | seen.contains(h)
        if dup.any():
            n = int(dup.sum())
            if touches is not None:
                ms = frame["timestamp"].to_numpy(dtype="datetime64[ms]").view("int64")
                edge = int((dup & (ms >= touches[0]) & (ms <= touches[1])).sum())
                self.stats.slice_overlap += edge
                n -= edge
            self.stats.duplicates += n
            keep = ~dup
            seen.add(h[keep])
            return frame.loc[keep].reset_index(drop=True)
        seen.add(h)
        return frame

    def _call(self, client: Any, task: _Task, token: str | None, fetched: int, shared: dict[str, int]) -> dict[str, Any]:
        """One FilterLogEvents call of ``task``'s chain, counted whether answered or failed after its retries."""
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
        return resp

    def _worker(self, client: Any, task: _Task, stop: threading.Event, out: queue.Queue, shared: dict[str, int]) -> None:
        """Page through one chain (group, stream batch, time slice) and hand each page to the reader.

        Under auto slicing a chain that proves long hands the rest of its window to slices
        (a ``split`` message) and stops.
        """

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
        fetched = pages = calls = 0  # this worker's own: the reader's count lags behind by the queued pages
        busy_s = 0.0  # time in calls, token waits excluded
        order = _TimeOrder()
        try:
            while not stop.is_set():
                t0, w0 = time.monotonic(), pacing.waited_in_this_thread()
                resp = self._call(client, task, token, fetched, shared)
                if not aws.retry_attempts(resp):  # a call's latency; retries' backoff is no measure of it
                    calls, busy_s = calls + 1, busy_s + time.monotonic() - t0 - (pacing.waited_in_this_thread() - w0)
                nxt = resp.get("nextToken")
                note = None
                if nxt and (nxt == token or nxt in tokens):
                    note = f"{label}: FilterLogEvents repeated a nextToken; stopped this group to avoid an endless loop"
                events = resp.get("events") or []
                frame = _page_frame(events, label)
                fetched, pages = fetched + len(frame), pages + bool(events)  # pages that carried events
                span = order.see(events)
                rest = self._split(task, pages, span, busy_s / max(1, calls)) if nxt and note is None and order.in_order else []
                if not put(("page", task, (frame, bool(nxt) and note is None and not rest, note))):
                    return
                if rest:
                    put(("split", task, rest))
                    break
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
        finally:
            with self._split_lock:
                self._running -= 1
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


class _TimeOrder:
    """Whether a chain's pages came in time order so far, as FilterLogEvents documents.

    AWS documents the events a chain returns as "sorted by event timestamp, the timestamp when
    the event was ingested by CloudWatch Logs, and the ID of the PutLogEvents request"
    (FilterLogEvents, CloudWatch Logs API Reference). Auto slicing relies on it to hand over
    the rest of a window without skipping an event, so a chain that ever went back in time
    (a service, proxy or emulator that does not sort) is never split: it reads on as one chain.

    Example
    -------
    >>> o = _TimeOrder()
    >>> o.see([{"timestamp": 5}, {"timestamp": 7}]), o.in_order
    ((5, 7), True)
    >>> o.see([{"timestamp": 6}]), o.in_order
    ((6, 6), False)
    """

    def __init__(self) -> None:
        self.in_order = True
        self.last: int | None = None

    def see(self, events: list[dict[str, Any]]) -> tuple[int, int] | None:
        """Note a page's events; return its (first, last) timestamp, or None for an empty page."""
        stamps = [e.get("timestamp") for e in events]
        if not stamps:
            return None
        if not all(isinstance(t, int) for t in stamps):
            self.in_order = False
            return None
        if (self.last is not None and stamps[0] < self.last) or any(b < a for a, b in zip(stamps, stamps[1:])):
            self.in_order = False
        self.last = stamps[-1] if self.last is None else max(self.last, stamps[-1])
        return stamps[0], stamps[-1]
