"""Shared parts of the benchmarks: synthetic events, a FilterLogEvents server, RSS, timing.

Nothing here is imported by the package; the benchmark scripts import it as a sibling
module (``sys.path`` holds the script's folder when run as ``python benchmarks/x.py``).

* :class:`Synthetic` — FilterLogEvents-shaped events, **counter-based** (any index range
  ``[lo, hi)`` is generated on its own, deterministically, with numpy and pyarrow string
  kernels, so 10M events are served page by page without ever existing all at once).
  Four of five events are application JSON lines (~340 B), every fifth the Lambda
  ``REPORT`` line of the request logged just before it (same request id; ~250 B); mean
  ~320 B a message. The last quarter of the window is an incident: app version 2.9.0
  gets 403s (version skew) and cold starts triple.
* :class:`FakeLogsServer` — a botocore ``before-send`` hook answering FilterLogEvents from
  a :class:`Synthetic` per log group: real request serialisation and real response
  parsing by botocore (no socket), pages cut at AWS's limits (10,000 events or 1 MiB),
  an optional delay per call, calls counted.
* RSS: :func:`rss_mb`, :func:`peak_rss_mb` (``VmHWM``), :func:`reset_peak` (writes
  ``/proc/self/clear_refs``; falls back to a sampling thread), :class:`PeakRSS`.
* :func:`run_child` — run a benchmark step in a fresh interpreter and read its JSON line.
* :func:`ratio_line` — the one format every benchmark prints its ratios in
  (``ratio: <what> = <x>x ...``); tests/test_benchmarks_smoke.py looks for these lines.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

#: 2026-03-01T02:00:00Z in epoch milliseconds: the default window start.
T0_MS = 1_772_330_400_000
HOUR_MS = 3_600_000
#: FilterLogEvents page limits (events, bytes of events; 26 bytes of overhead an event).
PAGE_EVENTS = 10_000
PAGE_BYTES = 1_048_576
EVENT_OVERHEAD = 26

ROUTES = ["/v1/orders/{id}", "/v1/orders", "/v1/users/{id}/profile", "/v1/cart/items", "/v2/search", "/v1/payments/{id}/capture"]
METHODS = ["GET", "POST", "GET", "GET", "GET", "POST"]
VERSIONS = ["2.8.1", "2.9.0", "3.0.0", "3.0.1"]
SKEWED_VERSION = "2.9.0"
MESSAGES = ["request completed", "request failed", "cache miss for item", "payment authorised", "order created"]
STATUSES = np.array([200] * 17 + [201, 403, 500, 502, 504], dtype=np.int64)

_HEX = np.array([f"{b:02x}".encode() for b in range(256)], dtype="S2")


# --------------------------------------------------------------------------- counter-based randomness


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a well-mixed 64-bit hash of each counter (uint64 in, uint64 out)."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _hex(values: np.ndarray, nbytes: int) -> np.ndarray:
    """uint64 values as ``2*nbytes`` lowercase hex digits (big-endian), as a numpy bytes array."""
    be = values.astype(">u8").view(np.uint8).reshape(-1, 8)[:, 8 - nbytes :]
    return np.ascontiguousarray(_HEX[be]).view(f"S{2 * nbytes}").ravel()


def _str(values: np.ndarray) -> Any:
    """A numpy fixed-width bytes array as a pyarrow string array."""
    import pyarrow as pa

    return pa.array(values).cast(pa.string())


def _uuid(h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
    """Version-4-looking UUID text (``8-4-4-4-12``) from two uint64 hashes, as numpy bytes."""
    a = _hex(h1, 8).view(np.uint8).reshape(-1, 16)
    b = _hex(h2, 8).view(np.uint8).reshape(-1, 16)
    out = np.empty((len(a), 36), dtype=np.uint8)
    out[:, 0:8], out[:, 9:13], out[:, 15:18] = a[:, 0:8], a[:, 8:12], a[:, 13:16]
    out[:, 20:23], out[:, 24:36] = b[:, 1:4], b[:, 4:16]
    out[:, [8, 13, 18, 23]] = ord("-")
    out[:, 14], out[:, 19] = ord("4"), ord("a")
    return out.view("S36").ravel()


class Synthetic:
    """``n`` FilterLogEvents events of one log group over ``[start_ms, start_ms + span_ms)``.

    Event ``i`` (0-based) is generated from ``(seed, i)`` alone, so any range can be made
    without the others. Timestamps are ``start_ms + i * span_ms // n`` (non-decreasing).

    Example
    -------
    >>> s = Synthetic(1000)
    >>> ev = s.dicts(0, 5)
    >>> ev[4]["message"].startswith("REPORT RequestId: ") and ev[3]["message"].startswith("{")
    True
    >>> s.dicts(3, 4) == ev[3:4]
    True
    """

    def __init__(
        self,
        n: int,
        *,
        seed: int = 20260301,
        start_ms: int = T0_MS,
        span_ms: int = HOUR_MS,
        incident_from: float = 0.75,
        streams: int = 8,
        id_offset: int = 0,
    ) -> None:
        if n < 1:
            raise ValueError("n must be >= 1")
        self.n, self.seed, self.start_ms, self.span_ms = int(n), int(seed), int(start_ms), int(span_ms)
        self.incident_from = float(incident_from)
        self.id_offset = int(id_offset)
        self.stream_names = [f"2026/03/01/[$LATEST]{int(_mix(np.array([seed * 131 + k], dtype=np.uint64))[0]):016x}{k:016x}" for k in range(streams)]
        # characters a JSON string escapes, per line kind (the variable parts never hold any)
        self._app_escapes, self._report_escapes = 0, 0
        n, self.n = self.n, max(self.n, 5)
        sample = self.columns(0, 5)["message"].to_pylist()
        self.n = n
        self._app_escapes = sample[0].count('"')
        self._report_escapes = sample[4].count("\t") + sample[4].count("\n") - ("Init Duration" in sample[4])

    # -- window helpers
    @property
    def end_ms(self) -> int:
        return self.start_ms + self.span_ms

    @property
    def incident_start_ms(self) -> int:
        return self.start_ms + int(self.span_ms * self.incident_from)

    def index_at(self, ms: int) -> int:
        """The first event index whose timestamp is >= ``ms``."""
        d = int(ms) - self.start_ms
        if d <= 0:
            return 0
        return min(self.n, -(-d * self.n // self.span_ms))

    def _u(self, counter: np.ndarray, field: int) -> np.ndarray:
        """Uniform [0, 1) floats for (counter, field)."""
        h = self._h(counter, field)
        return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)

    def _h(self, counter: np.ndarray, field: int) -> np.ndarray:
        with np.errstate(over="ignore"):
            return _mix(counter * np.uint64(64) + np.uint64((field + self.seed * 0x100000001B3) % 2**64))

    # -- generation
    def columns(self, lo: int, hi: int, *, escaped: bool = False) -> dict[str, Any]:
        """Events ``[lo, hi)`` as arrays: ``timestamp``/``ingestionTime`` (int64 ms, numpy),
        ``logStreamName``, ``eventId``, ``message`` (pyarrow string arrays), ``message_bytes``
        (int64, the raw message sizes) and ``n``.

        ``escaped=True`` gives each message already escaped for a JSON string (what a
        FilterLogEvents response carries); the raw sizes are still those of the raw text.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        lo, hi = max(0, int(lo)), min(self.n, int(hi))
        i = np.arange(lo, hi, dtype=np.int64)
        m = len(i)
        ts = self.start_ms + (i * self.span_ms) // self.n
        is_report = (i % 5) == 4
        r = (4 * (i // 5) + np.where(is_report, 3, i % 5)).astype(np.uint64)  # request index
        incident = ts >= self.incident_start_ms
        gid = i + self.id_offset
        stream = (self._h(r, 11) % np.uint64(len(self.stream_names))).astype(np.int64)
        q = '\\"' if escaped else '"'
        tab, nl = ("\\t", "\\n") if escaped else ("\t", "\n")

        def num(a: np.ndarray) -> Any:
            return pc.cast(pa.array(a), pa.string())

        def pad(a: np.ndarray, width: int) -> Any:
            return pc.utf8_lpad(num(a), width, "0")

        def dec(a_scaled: np.ndarray, digits: int) -> Any:
            scale = 10**digits
            return pc.binary_join_element_wise(num(a_scaled // scale), pad(a_scaled % scale, digits), ".")

        def text(values: list[str], idx: np.ndarray) -> Any:
            return pa.array(values, pa.string()).take(pa.array(idx))

        # per-request values (the app line and its REPORT line share them)
        u_ver, u_route, u_status, u_skew = (self._u(r, k) for k in (1, 2, 3, 4))
        u_l1, u_l2 = self._u(r, 5), self._u(r, 6)
        version = np.minimum((u_ver * len(VERSIONS)).astype(np.int64), len(VERSIONS) - 1)
        status = STATUSES[np.minimum((u_status * len(STATUSES)).astype(np.int64), len(STATUSES) - 1)]
        status = np.where(incident & (version == VERSIONS.index(SKEWED_VERSION)) & (u_skew < 0.6), 403, status)
        z = np.sqrt(-2.0 * np.log1p(-u_l1)) * np.cos(2 * np.pi * u_l2)
        lat_tenths = np.round(np.exp(4.5 + 0.8 * z) * np.where(status >= 500, 3.0, 1.0) * 10).astype(np.int64) + 1
        rid_all = _uuid(self._h(r, 9), self._h(r, 10))

        parts: list[Any] = []
        sizes = np.empty(m, dtype=np.int64)
        app_pos, rep_pos = np.flatnonzero(~is_report), np.flatnonzero(is_report)
        if len(app_pos):
            a_r, a_ts, a_st = r[app_pos], ts[app_pos], status[app_pos]
            route = np.minimum((u_route[app_pos] * len(ROUTES)).astype(np.int64), len(ROUTES) - 1)
            day_ms = a_ts % 86_400_000
            days = a_ts // 86_400_000
            uniq, inv = np.unique(days, return_inverse=True)
            date = pa.array([time.strftime("%Y-%m-%dT", time.gmtime(int(d) * 86_400)) for d in uniq], pa.string()).take(pa.array(inv))
            iso = pc.binary_join_element_wise(
                date, pad(day_ms // 3_600_000, 2), ":", pad(day_ms // 60_000 % 60, 2), ":", pad(day_ms // 1000 % 60, 2), ".",
                pad(day_ms % 1000, 3), "",
            )  # fmt: skip
            ip = self._h(a_r, 14)
            app = pc.binary_join_element_wise(
                f"{{{q}timestamp{q}:{q}", iso,
                f"Z{q},{q}level{q}:{q}", text(["INFO", "WARN", "ERROR"], np.where(a_st >= 500, 2, np.where(a_st >= 400, 1, 0))),
                f"{q},{q}message{q}:{q}", text(MESSAGES, np.where(a_st >= 400, 1, (self._h(a_r, 12) % np.uint64(len(MESSAGES))).astype(np.int64))),
                f"{q},{q}requestId{q}:{q}", _str(rid_all[app_pos]),
                f"{q},{q}method{q}:{q}", text(METHODS, route),
                f"{q},{q}route{q}:{q}", text(ROUTES, route),
                f"{q},{q}status{q}:", num(a_st),
                f",{q}latency_ms{q}:", dec(lat_tenths[app_pos], 1),
                f",{q}user_agent{q}:{q}MyApp/", text(VERSIONS, version[app_pos]),
                " (iOS 17.", num((self._h(a_r, 13) % np.uint64(5)).astype(np.int64)),
                f"; iPhone14,2) CFNetwork/1410.0.3{q},{q}client_ip{q}:{q}10.", num((ip & np.uint64(255)).astype(np.int64)),
                ".", num(((ip >> np.uint64(8)) & np.uint64(255)).astype(np.int64)),
                ".", num(((ip >> np.uint64(16)) & np.uint64(255)).astype(np.int64)),
                f"{q},{q}function_name{q}:{q}orders-api{q}}}",
                "",
            )  # fmt: skip
            parts.append(app)
            sizes[app_pos] = pc.binary_length(app).to_numpy(zero_copy_only=False) - (self._app_escapes if escaped else 0)
        if len(rep_pos):
            p_r, p_ts = r[rep_pos], ts[rep_pos]
            cold = self._u(p_r, 7) < np.where(incident[rep_pos], 0.15, 0.05)
            init_centi = (15_000 + (self._u(p_r, 8) * 75_000)).astype(np.int64)
            dur_centi = lat_tenths[rep_pos] * 9 + (self._h(p_r, 15) % np.uint64(100)).astype(np.int64)
            init = pc.if_else(
                pa.array(cold),
                pc.binary_join_element_wise("Init Duration: ", dec(init_centi, 2), f" ms{tab}", ""),
                pa.scalar("", pa.string()),
            )
            report = pc.binary_join_element_wise(
                "REPORT RequestId: ", _str(rid_all[rep_pos]),
                f"{tab}Duration: ", dec(dur_centi, 2),
                f" ms{tab}Billed Duration: ", num(dur_centi // 100 + 1),
                f" ms{tab}Memory Size: 512 MB{tab}Max Memory Used: ", num(60 + (self._h(p_r, 16) % np.uint64(160)).astype(np.int64)),
                f" MB{tab}", init,
                f"{nl}XRAY TraceId: 1-", _str(_hex((p_ts // 1000).astype(np.uint64), 4)),
                "-", _str(_hex(self._h(p_r, 17), 8)), _str(_hex(self._h(p_r, 18), 4)),
                f"{tab}SegmentId: ", _str(_hex(self._h(p_r, 19), 8)),
                f"{tab}Sampled: true{tab}{nl}",
                "",
            )  # fmt: skip
            parts.append(report)
            sizes[rep_pos] = pc.binary_length(report).to_numpy(zero_copy_only=False) - (self._report_escapes + cold if escaped else 0)
        order = np.empty(m, dtype=np.int64)
        order[np.concatenate([app_pos, rep_pos])] = np.arange(m)
        message = pa.concat_arrays(parts).take(pa.array(order)) if len(parts) > 1 else (parts[0] if parts else pa.array([], pa.string()))
        event_id = pc.binary_join_element_wise(pad(ts, 20), pad(gid, 36), "")
        return {
            "timestamp": ts,
            "ingestionTime": ts + 300 + (self._h(r, 20) % np.uint64(700)).astype(np.int64),
            "logStreamName": text(self.stream_names, stream),
            "eventId": event_id,
            "message": message,
            "message_bytes": sizes,
            "n": m,
        }

    def dicts(self, lo: int, hi: int) -> list[dict[str, Any]]:
        """Events ``[lo, hi)`` as FilterLogEvents event dicts (for seeding moto, small sizes)."""
        c = self.columns(lo, hi)
        streams, ids, msgs = c["logStreamName"].to_pylist(), c["eventId"].to_pylist(), c["message"].to_pylist()
        return [
            {"logStreamName": streams[k], "timestamp": int(c["timestamp"][k]), "message": msgs[k],
             "ingestionTime": int(c["ingestionTime"][k]), "eventId": ids[k]}
            for k in range(c["n"])
        ]  # fmt: skip

    def messages(self, lo: int, hi: int) -> list[str]:
        return self.columns(lo, hi)["message"].to_pylist()


def events_json(cols: dict[str, Any]) -> bytes:
    """The ``events`` array of a FilterLogEvents response, as JSON bytes, built vectorised.

    ``cols`` must come from ``Synthetic.columns(..., escaped=True)``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not cols["n"]:
        return b"[]"
    msg = cols["message"]
    items = pc.binary_join_element_wise(
        '{"logStreamName":"', cols["logStreamName"],
        '","timestamp":', pc.cast(pa.array(cols["timestamp"]), pa.string()),
        ',"message":"', msg,
        '","ingestionTime":', pc.cast(pa.array(cols["ingestionTime"]), pa.string()),
        ',"eventId":"', cols["eventId"],
        '"},',
        "",
    )  # fmt: skip
    offsets = np.frombuffer(items.buffers()[1], dtype=np.int32)[items.offset : items.offset + len(items) + 1]
    data = items.buffers()[2].to_pybytes()[offsets[0] : offsets[-1] - 1]  # drop the last comma
    return b"[" + data + b"]"


# --------------------------------------------------------------------------- a FilterLogEvents server


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _aws_response(request: Any, status: int, body: bytes) -> Any:
    from botocore.awsrequest import AWSResponse

    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "bench"}
    return AWSResponse(request.url, status, headers, _Raw(body))


@dataclass
class FakeLogsServer:
    """Answers ``FilterLogEvents`` for the groups in ``data`` (a ``before-send`` hook).

    Pages hold at most ``page_events`` events and ``page_bytes`` bytes (message + 26 B an
    event, as AWS counts); ``nextToken`` is ``"<group>#<index>"``. ``delay`` seconds are
    slept in every call (in the caller's thread, GIL released), like network latency.
    ``server_s`` is the thread time spent making pages (subtract it from fetch figures);
    ``cache=True`` keeps each page's bytes after the first request (small data sets only).

    Example
    -------
    >>> import boto3
    >>> srv = FakeLogsServer({"/aws/lambda/orders-api": Synthetic(2500)})
    >>> session = srv.session()
    >>> c = session.client("logs", region_name="us-east-1")
    >>> r = c.filter_log_events(logGroupName="/aws/lambda/orders-api", startTime=T0_MS, endTime=T0_MS + HOUR_MS)
    >>> len(r["events"]) > 0 and srv.calls == 1
    True
    """

    data: dict[str, Synthetic]
    delay: float = 0.0
    page_events: int = PAGE_EVENTS
    page_bytes: int = PAGE_BYTES
    calls: int = 0
    calls_by_group: dict[str, int] = field(default_factory=dict)
    server_s: float = 0.0
    slept_s: float = 0.0
    cache: bool = False
    _mean_size: float = 320.0
    _pages: dict[tuple[str, int, int], bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Any, **_: Any) -> Any:
        if self.delay:
            t0 = time.perf_counter()
            time.sleep(self.delay)
            with self._lock:
                self.slept_s += time.perf_counter() - t0
        return _aws_response(request, *self.answer(request.body))

    def answer(self, request_body: bytes | None) -> tuple[int, bytes]:
        """(HTTP status, JSON body) of one FilterLogEvents request body (no delay slept)."""
        t = time.thread_time()
        body = json.loads(request_body or b"{}")
        group = body.get("logGroupName") or body.get("logGroupIdentifier")
        with self._lock:
            self.calls += 1
            self.calls_by_group[group] = self.calls_by_group.get(group, 0) + 1
        if group not in self.data:
            out = json.dumps({"__type": "ResourceNotFoundException", "message": "The specified log group does not exist."})
            return 400, out.encode()
        syn = self.data[group]
        first = syn.index_at(int(body.get("startTime", syn.start_ms)))
        stop = syn.index_at(int(body.get("endTime", syn.end_ms)) + 1)  # endTime is inclusive
        lo = int(body["nextToken"].split("#")[1]) if body.get("nextToken") else first
        limit = min(self.page_events, int(body.get("limit") or self.page_events))
        key = (group, lo, min(stop, lo + limit))
        page = self._pages.get(key) if self.cache else None
        if page is None:
            cols = self._page(syn, lo, min(stop, lo + limit))
            hi = lo + cols["n"]
            page = b'{"events":' + events_json(cols) + b',"searchedLogStreams":[]'
            if hi < stop:
                page += b',"nextToken":"' + f"{group}#{hi}".encode() + b'"'
            page += b"}"
            if self.cache:
                self._pages[key] = page
        with self._lock:
            self.server_s += time.thread_time() - t
        return 200, page

    def _page(self, syn: Synthetic, lo: int, hi: int) -> dict[str, Any]:
        """Events from ``lo`` up to ``hi`` or the byte limit, whichever comes first.

        Generates about what fits in ``page_bytes`` (from the mean size seen so far), and
        the rest up to ``hi`` only when that all fitted.
        """
        import pyarrow as pa

        est = max(16, int(self.page_bytes / (self._mean_size + EVENT_OVERHEAD) * 1.1))
        cols = syn.columns(lo, min(hi, lo + est), escaped=True)
        if cols["n"] and lo + cols["n"] < hi and int(cols["message_bytes"].sum()) + EVENT_OVERHEAD * cols["n"] <= self.page_bytes:
            more = syn.columns(lo + cols["n"], hi, escaped=True)
            cols = {
                k: (np.concatenate([cols[k], more[k]]) if isinstance(cols[k], np.ndarray)
                    else pa.concat_arrays([cols[k], more[k]]) if k != "n" else cols[k] + more[k])
                for k in cols
            }  # fmt: skip
        if not cols["n"]:
            return cols
        self._mean_size = float(cols["message_bytes"].mean())
        size = np.cumsum(cols["message_bytes"] + EVENT_OVERHEAD)
        k = max(1, int(np.searchsorted(size, self.page_bytes, side="right")))
        if k >= cols["n"]:
            return cols
        return {key: (v if key == "n" else v[:k] if isinstance(v, np.ndarray) else v.slice(0, k)) for key, v in cols.items()} | {"n": k}

    def session(self, region: str = "us-east-1") -> Any:
        """A boto3 Session whose FilterLogEvents calls this server answers."""
        import boto3

        session = boto3.Session(region_name=region, aws_access_key_id="bench", aws_secret_access_key="bench")
        session.events.register("before-send.logs.FilterLogEvents", self)
        return session


# --------------------------------------------------------------------------- memory


def _status_kb(key: str) -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb() -> float:
    """Current resident set size (MiB); falls back to ``resource`` where /proc is absent."""
    kb = _status_kb("VmRSS")
    if kb:
        return kb / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB; best effort elsewhere


def peak_rss_mb() -> float:
    """Peak resident set size of this process (``VmHWM``, else ``ru_maxrss``), MiB."""
    kb = _status_kb("VmHWM")
    if kb:
        return kb / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakRSS:
    """Peak RSS over a block: the kernel's high-water mark reset at entry when allowed
    (``/proc/self/clear_refs``), else a 2 ms sampling thread.

    Example
    -------
    >>> with PeakRSS() as p:
    ...     x = bytearray(50 * 2**20)
    >>> p.peak_mb >= p.start_mb
    True
    """

    def __init__(self) -> None:
        self.method = "VmHWM after /proc/self/clear_refs"
        self.start_mb = 0.0
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "PeakRSS":
        gc.collect()
        self.start_mb = rss_mb()
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            self.method = "RSS sampled every 2 ms"
            self.peak_mb = self.start_mb

            def sample() -> None:
                while not self._stop.is_set():
                    self.peak_mb = max(self.peak_mb, rss_mb())
                    time.sleep(0.002)

            self._thread = threading.Thread(target=sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self.peak_mb = max(self.peak_mb, rss_mb())
        else:
            self.peak_mb = peak_rss_mb()

    @property
    def added_mb(self) -> float:
        return self.peak_mb - self.start_mb


# --------------------------------------------------------------------------- processes and timing


def run_child(script: str, args: list[str], *, env: dict[str, str] | None = None, timeout: float | None = None) -> dict[str, Any]:
    """Run ``python script args`` in a fresh interpreter; return the JSON of its last stdout line."""
    cmd = [sys.executable, os.path.abspath(script), *args]
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr[-4000:]}")
    lines = [ln for ln in res.stdout.strip().splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(cmd)} printed no JSON result:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}")
    return json.loads(lines[-1])


@contextmanager
def timed(store: dict[str, float], key: str) -> Iterator[None]:
    """Add the wall time of the block to ``store[key]``."""
    t = time.perf_counter()
    try:
        yield
    finally:
        store[key] = store.get(key, 0.0) + time.perf_counter() - t


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """(best wall time, last result) of ``repeat`` calls of ``fn``."""
    best, out = float("inf"), None
    for _ in range(max(1, repeat)):
        gc.collect()
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def ratio_line(what: str, value: float, *, target: str | None = None, ok: bool | None = None, note: str = "") -> str:
    """``ratio: <what> = <value>x [target ...] [OK|MISSED] [note]`` — the line every benchmark prints."""
    text = f"ratio: {what} = {value:.2f}x"
    if target:
        text += f"  (target {target})"
    if ok is not None:
        text += "  OK" if ok else "  MISSED"
    if note:
        text += f"  {note}"
    return text


def environment_line() -> str:
    import pandas as pd
    import pyarrow as pa

    return f"python {sys.version.split()[0]}  pandas {pd.__version__}  pyarrow {pa.__version__}  cpus {os.cpu_count()}"


def quiet_aws_env() -> None:
    """Fake credentials and no progress bars: the benchmarks never reach a real account."""
    for k, v in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "INCIDENTKIT_PROGRESS": "0",
        "MPLBACKEND": "Agg",
    }.items():
        os.environ.setdefault(k, v)
    os.environ.pop("AWS_PROFILE", None)
