"""A metered FilterLogEvents server speaking real HTTP on 127.0.0.1, in a process of its own.

``bench_fetch_quota.py`` measures the kit against a server that enforces a request budget.
In-process (``_common.FakeLogsServer`` as a botocore ``before-send`` hook) the server's page
making and its threads share the fetching process's CPU and GIL; against AWS that work is
not on the user's machine at all. This module runs the same server out of process:

* :class:`QuotaBucket` — the server's token bucket (``rate`` tokens a second, ``burst`` saved
  up; an attempt that finds no token is throttled) and its counts. Both modes use it.
* :func:`serve` — ``http.server.ThreadingHTTPServer`` (HTTP/1.1, keep-alive: one thread a
  connection) answering ``Logs_20140328.FilterLogEvents`` with the JSON pages of
  ``FakeLogsServer``: on arrival an attempt takes a token or is throttled, then the latency
  is slept, then the page (or, throttled, HTTP 400 with the json protocol's error body
  ``{"__type": "ThrottlingException", "message": "Rate exceeded"}``) is sent. Two control
  routes: ``POST /_bench/reset`` (new rate, latency, burst; counts zeroed) and
  ``GET /_bench/stats`` (the counts, the server process's CPU since the reset).
* :class:`HttpLogsServer` — starts ``python _logs_http.py`` as a child process, reads the
  port it bound, and drives the control routes (``urllib``, no proxy).

Run directly (what :class:`HttpLogsServer` does)::

    python benchmarks/_logs_http.py --events 120000 --page-events 1000
    # prints "port <n>" once listening; stops on SIGTERM or when stdin closes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C  # noqa: E402

GROUP = "/aws/lambda/orders-api"
TARGET = "Logs_20140328.FilterLogEvents"
THROTTLED = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()


class QuotaBucket:
    """A server's token bucket: ``rate`` calls a second, at most ``burst`` tokens saved up.

    :meth:`admit` is called on each attempt's arrival; it takes a token or counts the
    attempt throttled. ``first`` and ``last`` are the first and the last arrival
    (``time.monotonic``).

    Example
    -------
    >>> b = QuotaBucket(rate=1.0, latency=0.0, burst=1.0)
    >>> b.admit(), b.admit()
    (True, False)
    >>> b.stats()["attempts"], b.stats()["throttled"]
    (2, 1)
    """

    def __init__(self, rate: float, latency: float, burst: float = 1.0) -> None:
        self.rate, self.latency, self.burst = rate, latency, burst
        self.tokens, self.refilled = burst, time.monotonic()
        self.attempts = self.answered = self.throttled = 0
        self.first = self.last = 0.0
        self.early: list[float] = []  # a throttled attempt: how long before a token it came (seconds)
        self.lock = threading.Lock()

    def admit(self) -> bool:
        """Take a token for an attempt arriving now; ``False`` when there is none (throttled)."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.refilled) * self.rate)
            self.refilled = now
            self.attempts += 1
            self.first, self.last = self.first or now, now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                self.answered += 1
                return True
            self.throttled += 1
            self.early.append((1.0 - self.tokens) / self.rate)
            return False

    def stats(self) -> dict[str, Any]:
        """Attempts, answered, throttled, the rate while calling (attempts over their span), and
        how early the throttled attempts came (before the server had a token: median, max,
        how many by less than 5 ms — jitter, not a caller over the rate)."""
        with self.lock:
            span = self.last - self.first
            calling = (self.attempts - 1) / span if self.attempts > 1 and span > 0 else None
            early = sorted(self.early)
            return {"attempts": self.attempts, "answered": self.answered, "throttled": self.throttled, "calling_rate": calling,
                    "early_ms_median": 1000 * early[len(early) // 2] if early else None,
                    "early_ms_max": 1000 * early[-1] if early else None,
                    "early_under_5ms": sum(e < 0.005 for e in early)}  # fmt: skip


class _State:
    """What the handler threads share: the page maker, the bucket, the CPU at the last reset."""

    def __init__(self, events: int, page_events: int) -> None:
        self.events, self.page_events = events, page_events
        self.reset({"rate": 1e9, "latency": 0.0, "burst": 1e9})

    def reset(self, cfg: dict[str, Any]) -> None:
        self.pages = C.FakeLogsServer({GROUP: C.Synthetic(self.events)}, page_events=self.page_events)
        self.bucket = QuotaBucket(float(cfg["rate"]), float(cfg["latency"]), float(cfg.get("burst", 1.0)))
        self.cpu0 = time.process_time()

    def stats(self) -> dict[str, Any]:
        return self.bucket.stats() | {"page_cpu_s": self.pages.server_s, "server_cpu_s": time.process_time() - self.cpu0}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's pooled connections expect
    state: _State

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-RequestId", "bench")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/_bench/reset":
            self.state.reset(json.loads(body))
            self._send(200, b"{}")
            return
        if self.headers.get("X-Amz-Target") != TARGET:
            self._send(400, json.dumps({"__type": "UnknownOperationException", "message": self.headers.get("X-Amz-Target")}).encode())
            return
        state = self.state
        allowed = state.bucket.admit()
        time.sleep(state.bucket.latency)
        self._send(*(state.pages.answer(body) if allowed else (400, THROTTLED)))

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/_bench/stats":
            self._send(200, json.dumps(self.state.stats()).encode())
        else:
            self._send(404, b"{}")

    def log_message(self, *_: Any) -> None:  # no line a request on stderr
        pass


def serve(events: int, page_events: int, port: int = 0) -> None:
    """Listen on 127.0.0.1 (``port`` 0: any free one), print ``port <n>``, serve until stdin closes."""
    handler = type("Handler", (_Handler,), {"state": _State(events, page_events)})
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"port {httpd.server_address[1]}", flush=True)
    sys.stdin.read()  # the parent closes our stdin (or dies): stop
    httpd.shutdown()


class HttpLogsServer:
    """The out-of-process server, from the benchmark's side: start, reset, stats, stop.

    Example
    -------
    >>> with HttpLogsServer(events=2000, page_events=500) as srv:   # doctest: +SKIP
    ...     srv.reset(rate=40, latency=0.01)
    ...     srv.stats()["attempts"]
    0
    """

    def __init__(self, events: int, page_events: int) -> None:
        cmd = [sys.executable, os.path.abspath(__file__), "--events", str(events), "--page-events", str(page_events)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if not line.startswith("port "):
            self.close()
            raise RuntimeError(f"the HTTP logs server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        self._http = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 only, never a proxy

    def _control(self, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if payload is None else json.dumps(payload).encode()
        with self._http.open(urllib.request.Request(self.url + path, data=data), timeout=60) as resp:
            return json.loads(resp.read())

    def reset(self, rate: float, latency: float, burst: float = 1.0) -> None:
        """A fresh bucket and page maker: counts zeroed, the server's CPU counted from now."""
        self._control("/_bench/reset", {"rate": rate, "latency": latency, "burst": burst})

    def stats(self) -> dict[str, Any]:
        """Attempts, answered, throttled, calling_rate, page_cpu_s, server_cpu_s since the reset."""
        return self._control("/_bench/stats")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def __enter__(self) -> "HttpLogsServer":
        return self

    def __exit__(self, *_: Any) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--page-events", type=int, default=1_000)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    serve(args.events, args.page_events, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
