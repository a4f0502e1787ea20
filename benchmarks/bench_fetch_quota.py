"""Fetch at the quota (issue 17, item 4): one large log group, FilterLogEvents metered like AWS.

The server is ``_common.FakeLogsServer`` (a ``before-send`` hook: real botocore request
serialisation and response parsing, pages cut at ``--page-events`` events or 1 MiB, each
answer after ``--latency`` seconds slept in the caller's thread) behind its **own token
bucket at the budget**: an attempt that finds no token is answered ``ThrottlingException``
(HTTP 400, after the same latency), as AWS answers calls over the account's quota. The
server's bucket holds ``--server-burst`` tokens (default 1: no burst at all, the strictest).

Each scenario (budget, latency) runs, in the same process:

* **sequential** — the kit as it was: one FilterLogEvents chain (``slices=1``), not paced
  (``budget`` 0): it calls as fast as the latency allows, is throttled whenever that is
  above the budget, and botocore backs off (standard mode, real sleeps);
* **sequential, paced** — the same chain, paced (informative: pacing alone);
* **sliced + paced** — the kit's default: the chain hands its window to time slices after
  two pages, as many chains at once as fill the budget (``ceil(budget x call time x 1.25)``,
  at least ``max_workers``, at most 32), every attempt waiting for the run's budget.

Reported per scenario: achieved call rate (answered calls / wall seconds) against the
budget (target >= 90 %), throttled attempts (each retried), rows lost (events of the
window not in the frame; must be 0), and the speed-up of sliced + paced over the
sequential chain (wall time to the whole frame). Informative: the rate while calling
(calls between the first and the last attempt's arrival / that time: the wall less the
client's creation, the last answer and the frame's assembly) and the process CPU a call.

Usage::

    python benchmarks/bench_fetch_quota.py                       # the run of record (~2 min)
    python benchmarks/bench_fetch_quota.py --events 20000 --scenarios 5:0.12   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import warnings
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C  # noqa: E402

GROUP = "/aws/lambda/orders-api"


class MeteredServer:
    """``FakeLogsServer`` behind a token bucket of ``rate`` calls a second (``burst`` saved up).

    Counts attempts, answered calls and throttled attempts; the latency is slept on both.
    """

    def __init__(self, inner: C.FakeLogsServer, rate: float, latency: float, burst: float = 1.0) -> None:
        self.inner, self.rate, self.latency, self.burst = inner, rate, latency, burst
        self.tokens, self.last = burst, time.monotonic()
        self.attempts = self.answered = self.throttled = 0
        self.first = self.last = 0.0  # arrival of the first and the last attempt (monotonic)
        self.lock = threading.Lock()

    def __call__(self, request: Any, **kw: Any) -> Any:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            self.attempts += 1
            self.first, self.last = self.first or now, now
            allowed = self.tokens >= 1.0
            if allowed:
                self.tokens -= 1.0
                self.answered += 1
            else:
                self.throttled += 1
        time.sleep(self.latency)
        if not allowed:
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
            return C._aws_response(request, 400, body)
        return self.inner(request, **kw)

    def session(self) -> Any:
        import boto3

        session = boto3.Session(region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")
        session.events.register("before-send.logs.FilterLogEvents", self)
        return session


def fetch(events: int, page_events: int, rate: float, latency: float, burst: float, *, slices: int | None,
          paced: bool, workers: int) -> dict[str, Any]:  # fmt: skip
    """One fetch of the whole window against a fresh metered server; what it cost and what it got."""
    from incidentkit.errors import IncidentKitError
    from incidentkit.fetch import logs, pacing
    from incidentkit.window import Window

    import pandas as pd

    syn = C.Synthetic(events)
    pages = C.FakeLogsServer({GROUP: syn}, page_events=page_events)
    server = MeteredServer(pages, rate, latency, burst)
    win = Window(pd.Timestamp(syn.start_ms, unit="ms", tz="UTC"), pd.Timestamp(syn.start_ms + syn.span_ms, unit="ms", tz="UTC"))
    budget = pacing.Budget({"FilterLogEvents": rate if paced else 0})
    t0, cpu0 = time.perf_counter(), time.process_time()
    error = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = logs.events(GROUP, win, session=server.session(), slices=slices, budget=budget, max_workers=workers)
    except IncidentKitError as exc:  # throttled past botocore's retry budget: what was fetched is kept
        error, df = exc.message, getattr(exc, "partial", None)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    rows = 0 if df is None else len(df)
    unique = 0 if df is None else int(df["event_id"].nunique())
    attrs = {} if df is None else df.attrs
    return {
        "wall_s": wall,
        "cpu_s": cpu,  # the whole process: the kit, botocore and the fake server's page making (server_cpu_s)
        "server_cpu_s": pages.server_s,
        "answered": server.answered,
        "attempts": server.attempts,
        "throttled": server.throttled,
        "kit_throttled": attrs.get("throttled"),
        "rate": server.answered / wall,
        "calling_rate": (server.attempts - 1) / (server.last - server.first) if server.attempts > 1 else None,
        "cpu_ms_per_call": 1000 * cpu / max(1, server.attempts),
        "rows": rows,
        "lost": events - unique,
        "duplicated": rows - unique,
        "slices": attrs.get("slices"),
        "complete": attrs.get("complete"),
        "error": error,
    }


def scenario(args: argparse.Namespace, rate: float, latency: float) -> dict[str, Any]:
    common = dict(events=args.events, page_events=args.page_events, rate=rate, latency=latency, burst=args.server_burst)
    seq = fetch(**common, slices=1, paced=False, workers=1)
    seq_paced = fetch(**common, slices=1, paced=True, workers=1)
    kit = fetch(**common, slices=None, paced=True, workers=args.workers)
    return {"budget": rate, "latency_s": latency, "sequential": seq, "sequential_paced": seq_paced, "sliced_paced": kit}


def report(res: dict[str, Any]) -> None:
    rate, lat = res["budget"], res["latency_s"]
    print(f"\n== budget {rate:g} calls/s, latency {lat * 1000:.0f} ms a call ==")
    for name in ("sequential", "sequential_paced", "sliced_paced"):
        r = res[name]
        print(f"  {name:17s} {r['wall_s']:7.2f} s  {r['answered']:4d} calls ({r['rate']:5.2f}/s = {r['rate'] / rate:4.0%} of budget)"
              f"  throttled {r['throttled']:3d} (kit counted {r['kit_throttled']})  rows {r['rows']:,}  lost {r['lost']}"
              f"  slices {r['slices']}  complete {r['complete']}  CPU {r['cpu_s']:.1f} s (server {r['server_cpu_s']:.1f};"
              f" {r['cpu_ms_per_call']:.0f} ms a call)  rate while calling {(r['calling_rate'] or 0) / rate:4.0%}"
              + (f"  ERROR {r['error']}" if r["error"] else ""))
    seq, kit = res["sequential"], res["sliced_paced"]
    tag = f"budget {rate:g}/s, latency {lat * 1000:.0f} ms"
    print(C.ratio_line(f"achieved call rate / budget, sliced+paced ({tag})", kit["rate"] / rate, target=">= 0.9",
                       ok=kit["rate"] / rate >= 0.9))
    print(C.ratio_line(f"rows lost, sliced+paced ({tag})", float(kit["lost"]), target="0", ok=kit["lost"] == 0 and kit["complete"] is True,
                       note=f"throttled attempts {kit['throttled']}, all retried"))
    print(C.ratio_line(f"speed-up of sliced+paced over one sequential chain ({tag})", seq["wall_s"] / kit["wall_s"],
                       note=f"{seq['wall_s']:.1f} s -> {kit['wall_s']:.1f} s; paced chain alone {seq['wall_s'] / res['sequential_paced']['wall_s']:.2f}x"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=60_000, help="events of the one log group, over one hour")
    p.add_argument("--page-events", type=int, default=1_000, help="events a page (AWS: up to 10,000 or 1 MiB)")
    p.add_argument("--scenarios", nargs="+", default=["5:0.12", "5:0.6", "25:0.12"],
                   help="budget:latency pairs (calls/s : seconds a call); 5/s is AWS's documented FilterLogEvents quota")
    p.add_argument("--workers", type=int, default=4, help="max_workers of the sliced fetch (the kit's default: 4)")
    p.add_argument("--server-burst", type=float, default=1.0, help="tokens the server's bucket saves up")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    C.quiet_aws_env()
    os.environ.pop("INCIDENTKIT_RPS", None)
    print(C.environment_line(), f" load {os.getloadavg()[0]:.1f}")
    print(f"{args.events:,} events in one group, {args.page_events:,} a page ({-(-args.events // args.page_events)} pages as one chain); "
          f"server bucket burst {args.server_burst:g}; sliced fetch max_workers={args.workers}")
    results = []
    for item in args.scenarios:
        rate, latency = (float(x) for x in item.split(":"))
        res = scenario(args, rate, latency)
        report(res)
        results.append(res)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
