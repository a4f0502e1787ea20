"""API efficiency benchmark (issue 5, items 5 and 4): calls made against the minimum, and concurrency.

1. **Metrics** — ``incidentkit.fetch.metrics.get`` for 1, 500, 501 and 5,000 queries over a 1-hour
   and a 24-hour window at a 60 s period, against moto (in-process ``mock_aws``). Calls
   are counted by a ``before-parameter-build`` hook on the session (once per API call, retries apart) (independently of the kit's own
   ``attrs["api_calls"]``) and compared with the minimum AWS allows,
   ``max(ceil(queries / 500), ceil(queries x points / 100,800))``, and with a per-query
   loop (one call per query, the naive baseline).
2. **Logs concurrency** — 8 log groups fetched with ``incidentkit.fetch.logs.events``; every
   FilterLogEvents call waits ``--delay`` seconds (0.05: an injected network latency, in a
   ``before-send`` hook). Serial (``max_workers=1``) against 2, 4 and 8 workers: the
   speed-up should approach the concurrency (``min(workers, groups)``).
3. **Logs Insights for windows too big to pull** (item 4) — ``insights_latency_split`` and
   ``insights_error_rates`` over 7 days at 1-minute bins, against a ``before-send`` hook
   answering StartQuery / GetQueryResults with one row per bin (up to the query's
   ``limit``, as AWS does): StartQuery and GetQueryResults calls and the frame shape,
   against the FilterLogEvents calls needed to pull the same window's events (at
   ``--events-per-hour``, ~3,000 events a 1 MiB page). Timing is not meaningful there
   (the fake server does not scan), so only calls and shapes are reported.

Usage::

    python benchmarks/bench_api.py
    python benchmarks/bench_api.py --queries 1 500 501 --delay 0.02 --pages 2   # quicker
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import threading
import time
import warnings
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C  # noqa: E402

MAX_QUERIES = 500
MAX_POINTS = 100_800


# --------------------------------------------------------------------------- metrics


def bench_metrics(query_counts: list[int], hours: list[int], period: int = 60) -> list[dict[str, Any]]:
    import boto3
    import pandas as pd
    from moto import mock_aws

    from incidentkit.fetch import metrics
    from incidentkit.window import Window

    end = pd.Timestamp.now(tz="UTC").floor("h") - pd.Timedelta(hours=1)
    rows = []
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        seen = {"n": 0, "queries": 0}
        lock = threading.Lock()

        def count(params: dict[str, Any], **_: Any) -> None:
            with lock:
                seen["n"] += 1
                seen["queries"] += len(params.get("MetricDataQueries", []))

        session.events.register("before-parameter-build.cloudwatch.GetMetricData", count)
        for h in hours:
            window = Window(end - pd.Timedelta(hours=h), end)
            points = h * 3600 // period
            for q in query_counts:
                qs = [metrics.query("Bench/App", "Latency", {"Host": f"h{i:05d}"}, "Average") for i in range(q)]
                seen["n"] = seen["queries"] = 0
                t = time.perf_counter()
                df = metrics.get(qs, window, period=period, session=session)
                elapsed = time.perf_counter() - t
                minimum = max(math.ceil(q / MAX_QUERIES), math.ceil(q * points / MAX_POINTS))
                rows.append(
                    {
                        "queries": q, "hours": h, "period": period, "calls": seen["n"], "kit_api_calls": df.attrs["api_calls"],
                        "minimum": minimum, "per_query_loop": q, "queries_sent": seen["queries"], "seconds": elapsed,
                    }
                )  # fmt: skip
    return rows


# --------------------------------------------------------------------------- logs concurrency


def bench_concurrency(groups: int, pages: int, page_events: int, delay: float, workers: list[int], repeat: int) -> list[dict[str, Any]]:
    import warnings

    from incidentkit.fetch import logs

    data = {f"/aws/lambda/fn-{g}": C.Synthetic(pages * page_events, seed=100 + g, id_offset=g * 10**9) for g in range(groups)}
    window = (data[next(iter(data))].start_ms / 1000, data[next(iter(data))].end_ms / 1000)
    out = []
    warm = C.FakeLogsServer(data, page_events=page_events, cache=True)  # pages made once, before any timing
    logs.events(list(data), window, session=warm.session(), max_workers=4, progress=False)
    for w in workers:
        best = float("inf")
        for _ in range(repeat):
            server = C.FakeLogsServer(data, delay=delay, page_events=page_events, cache=True)
            server._pages = warm._pages
            session = server.session()
            inflight = {"now": 0, "max": 0}
            lock = threading.Lock()

            def enter(inflight: dict[str, int] = inflight, lock: threading.Lock = lock, **_: Any) -> None:
                with lock:
                    inflight["now"] += 1
                    inflight["max"] = max(inflight["max"], inflight["now"])

            def leave(inflight: dict[str, int] = inflight, lock: threading.Lock = lock, **_: Any) -> None:
                with lock:
                    inflight["now"] -= 1

            session.events.register("before-call.logs.FilterLogEvents", enter)
            session.events.register("after-call.logs.FilterLogEvents", leave)
            t = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                df = logs.events(list(data), window, session=session, max_workers=w, progress=False)
            elapsed = time.perf_counter() - t
            best = min(best, elapsed)
            assert len(df) == groups * pages * page_events and df.attrs["complete"], "the fetch lost events"
            if elapsed <= best:
                slept = server.slept_s
        out.append({"workers": w, "seconds": best, "calls": server.calls, "max_in_flight": inflight["max"], "events": len(df),
                    "slept_s": slept})  # fmt: skip
    return out


# --------------------------------------------------------------------------- Logs Insights


class FakeInsights:
    """StartQuery / GetQueryResults answered from the query text: one row per time bin.

    Reads the window (``toMillis(@timestamp) >= a and ... < b`` when the kit bounded it,
    else startTime/endTime), the bin (``bin(1m)`` or the kit's ``floor((toMillis(@timestamp)
    - origin) / width) as ik_bin``) and the ``stats`` output names; returns the first
    ``limit`` bins, ``Complete``.
    """

    def __init__(self, events_per_minute: int) -> None:
        self.epm = events_per_minute
        self.queries: dict[str, dict[str, Any]] = {}
        self.calls = {"StartQuery": 0, "GetQueryResults": 0, "StopQuery": 0}
        self.lock = threading.Lock()

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        op = request.headers.get("X-Amz-Target", b"")
        op = (op.decode() if isinstance(op, bytes) else op).rsplit(".", 1)[-1]
        body = json.loads(request.body or b"{}")
        with self.lock:
            self.calls[op] = self.calls.get(op, 0) + 1
            if op == "StartQuery":
                qid = f"q{len(self.queries):05d}"
                self.queries[qid] = body
                return C._aws_response(request, 200, json.dumps({"queryId": qid}).encode())
            if op == "StopQuery":
                return C._aws_response(request, 200, b'{"success": true}')
            q = self.queries[body["queryId"]]
        return C._aws_response(request, 200, json.dumps(self._results(q)).encode())

    def _results(self, q: dict[str, Any]) -> dict[str, Any]:
        text = q["queryString"]
        m = re.search(r"toMillis\(@timestamp\)\s*>=\s*(\d+)\s+and\s+toMillis\(@timestamp\)\s*<\s*(\d+)", text)
        a, b = (int(m.group(1)), int(m.group(2))) if m else (q["startTime"] * 1000, (q["endTime"] + 1) * 1000)
        stats = text[text.rfind("stats ") :]
        names = re.findall(r"\bas\s+(\w+)", stats.split(" by ")[0])
        ik = re.search(r"floor\(\(toMillis\(@timestamp\)\s*-\s*(\d+)\)\s*/\s*(\d+)\)\s+as\s+ik_bin", text)
        binned = re.search(r"bin\((\d+)([smhd])\)", stats)
        if ik:
            origin, width = int(ik.group(1)), int(ik.group(2))
        elif binned:
            width = int(binned.group(1)) * {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[binned.group(2)]
            origin = 0
        else:
            raise ValueError(f"the fake Insights server only answers binned stats queries: {text!r}")
        starts = list(range(origin + ((a - origin) // width) * width, b, width))
        by_class = "ik_class" in stats.split(" by ")[-1]
        rows = []
        for s in starts:
            classes = (2, 4, 5) if by_class else (None,)
            for cls in classes:
                row = []
                key = str((s - origin) // width) if ik else time.strftime("%Y-%m-%d %H:%M:%S.000", time.gmtime(s // 1000))
                row.append({"field": "ik_bin" if ik else f"bin({binned.group(1)}{binned.group(2)})", "value": key})  # type: ignore[union-attr]
                if cls is not None:
                    row.append({"field": "ik_class", "value": str(cls)})
                for name in names:
                    val = {"count": self.epm, "requests": self.epm // (10 if cls and cls > 2 else 1)}.get(name, 100.0 + (s // width) % 97)
                    row.append({"field": name, "value": str(val)})
                rows.append(row)
        limit = int(q.get("limit") or 10_000)
        matched = len(starts) * self.epm
        return {"status": "Complete", "results": rows[:limit],
                "statistics": {"recordsMatched": float(matched), "recordsScanned": float(matched * 5), "bytesScanned": float(matched * 300)}}  # fmt: skip


def bench_insights(days: int, bin: str, events_per_hour: int) -> list[dict[str, Any]]:
    import boto3
    import pandas as pd

    from incidentkit.fetch import logs
    from incidentkit.window import Window

    end = pd.Timestamp("2026-03-01T04:00:00Z")
    window = Window(end - pd.Timedelta(days=days), end)
    out = []
    for name, fn, kwargs in (
        ("insights_latency_split", logs.insights_latency_split, {}),
        ("insights_error_rates", logs.insights_error_rates, {"status_field": "status"}),
    ):
        server = FakeInsights(events_per_minute=max(1, events_per_hour // 60))
        session = boto3.Session(region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")
        session.events.register("before-send.logs", server)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = fn("/aws/lambda/orders-api", window, bin=bin, session=session, poll=0.001, max_poll=0.001, **kwargs)
        elapsed = time.perf_counter() - t
        events = events_per_hour * 24 * days
        pages = math.ceil(events * (320 + C.EVENT_OVERHEAD) / C.PAGE_BYTES)
        out.append(
            {
                "function": name, "days": days, "bin": bin, "rows": len(df), "columns": list(df.columns),
                "complete": bool(df.attrs.get("complete")), "start_query": server.calls.get("StartQuery", 0),
                "get_query_results": server.calls.get("GetQueryResults", 0), "events_in_window": events,
                "filter_log_events_calls": pages, "kit_seconds": elapsed,
            }
        )  # fmt: skip
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, nargs="+", default=[1, 500, 501, 5000])
    ap.add_argument("--hours", type=int, nargs="+", default=[1, 24])
    ap.add_argument("--groups", type=int, default=8)
    ap.add_argument("--pages", type=int, default=5, help="FilterLogEvents pages per group")
    ap.add_argument("--page-events", type=int, default=100)
    ap.add_argument("--delay", type=float, default=0.05, help="seconds injected into every FilterLogEvents call")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--insights-days", type=int, default=7)
    ap.add_argument("--insights-bin", default="1m")
    ap.add_argument("--events-per-hour", type=int, default=1_000_000, help="for the FilterLogEvents comparison of item 4")
    ap.add_argument("--events", type=int, help="smoke-test size: shrinks every part")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    C.quiet_aws_env()
    if args.events is not None and args.events < 100_000:  # smoke size
        args.queries = [q for q in args.queries if q <= 501] or [1]
        args.hours, args.pages, args.delay, args.workers, args.repeat = [1], 2, 0.01, [1, 4], 1
        args.insights_days = 1
    print(C.environment_line())
    results: dict[str, Any] = {}

    print("\nGetMetricData calls (moto; counted by a before-parameter-build hook), period 60 s:")
    print(f"  {'queries':>7} {'window':>6} {'calls':>5} {'minimum':>7} {'per-query loop':>14}   calls/minimum")
    rows = bench_metrics(args.queries, args.hours)
    for r in rows:
        print(f"  {r['queries']:>7,} {str(r['hours']) + ' h':>6} {r['calls']:>5} {r['minimum']:>7} {r['per_query_loop']:>14,}   "
              f"{r['calls'] / r['minimum']:.2f}x  (attrs api_calls {r['kit_api_calls']}, {r['queries_sent']:,} query slots sent, {r['seconds']:.1f}s)")  # fmt: skip
    worst = max(r["calls"] / r["minimum"] for r in rows)
    print(C.ratio_line("metrics calls made / minimum, worst case of the table", worst, target="1.00x", ok=worst <= 1.0))
    big = max(rows, key=lambda r: (r["queries"], r["hours"]))
    print(C.ratio_line(f"per-query loop / kit calls at {big['queries']:,} queries over {big['hours']} h", big["per_query_loop"] / big["calls"]))
    results["metrics"] = rows

    print(f"\nlogs.events: {args.groups} groups x {args.pages} pages of {args.page_events} events, {args.delay * 1000:.0f} ms injected per call (best of {args.repeat}):")
    conc = bench_concurrency(args.groups, args.pages, args.page_events, args.delay, args.workers, args.repeat)
    serial = next(c for c in conc if c["workers"] == 1)
    io_s = serial["slept_s"]
    cpu_s = max(0.0, serial["seconds"] - io_s)
    print(f"  serial (max_workers=1): {serial['seconds']:.2f}s for {serial['calls']} calls: injected delay "
          f"{serial['calls'] * args.delay:.2f}s (slept {io_s:.2f}s under this load) + {cpu_s:.2f}s of work "
          "(botocore parsing, the kit's page handling, client set-up)")  # fmt: skip
    for c in conc:
        if c["workers"] == 1:
            continue
        ideal = min(c["workers"], args.groups)
        bound = serial["seconds"] / (io_s / ideal + cpu_s)
        print(f"  max_workers={c['workers']}: {c['seconds']:.2f}s, at most {c['max_in_flight']} calls in flight")
        print("  " + C.ratio_line(f"serial / concurrent, max_workers={c['workers']}", serial["seconds"] / c["seconds"],
                                  target=f"~{ideal}x = concurrency", note=f"(if the {cpu_s:.2f}s of work stayed serial: {bound:.2f}x)"))  # fmt: skip
    results["concurrency"] = conc

    print(f"\nLogs Insights server-side analyses over {args.insights_days} days at {args.insights_bin} bins (fake server: calls and shapes only):")
    ins = bench_insights(args.insights_days, args.insights_bin, args.events_per_hour)
    for r in ins:
        calls = r["start_query"] + r["get_query_results"]
        print(f"  {r['function']}: {r['start_query']} StartQuery + {r['get_query_results']} GetQueryResults -> frame {r['rows']:,} x "
              f"{len(r['columns'])} {r['columns']}, complete={r['complete']}; pulling the {r['events_in_window']:,} events instead: "
              f">= {r['filter_log_events_calls']:,} FilterLogEvents calls")  # fmt: skip
        print("  " + C.ratio_line(f"FilterLogEvents calls / Insights calls, {r['function']}", r["filter_log_events_calls"] / max(1, calls)))
    results["insights"] = ins
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
