"""Fetch at the quota (issue 17, item 4): one large log group, FilterLogEvents metered like AWS.

The server answers FilterLogEvents with ``_common.FakeLogsServer``'s pages (cut at
``--page-events`` events or 1 MiB) behind its **own token bucket at the budget**
(``_logs_http.QuotaBucket``): an attempt that finds no token on arrival is answered
``ThrottlingException`` (HTTP 400, the json protocol's error body, after the same latency),
as AWS answers calls over the account's quota; every attempt sleeps ``--latency``. The
bucket holds ``--server-burst`` tokens (default 1: no burst at all, the strictest). Where
the server runs (``--server``):

* ``http`` (the run of record) — in a process of its own, ``http.server`` on 127.0.0.1
  (``_logs_http.py``), the kit pointed at it with ``endpoint_url``: the fetching process
  does what it does against AWS (HTTP over a socket, botocore's parse) and nothing else;
  the server's counts come back over ``GET /_bench/stats``;
* ``in-process`` — a botocore ``before-send`` hook: no socket, and the server's page
  making and sleeping threads share the fetching process's CPU and GIL (rows 11-11c);
* ``both`` — each scenario both ways, in-process first.

Each scenario (budget, latency) runs, one after the other:

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
client's creation, the last answer and the frame's assembly); the CPU of the fetching process
a call (in-process less the server's page making: "the kit's"); for throttled attempts, how
early they came (before the server's bucket had a token).

Usage::

    python benchmarks/bench_fetch_quota.py --events 120000       # the run of record (~6 min)
    python benchmarks/bench_fetch_quota.py --events 120000 --server both   # and in-process (~13 min)
    python benchmarks/bench_fetch_quota.py --events 20000 --scenarios 5:0.12   # quick
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import warnings
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C  # noqa: E402
import _logs_http as H  # noqa: E402
import boto3  # noqa: E402
import pandas as pd  # noqa: E402

from incidentkit.errors import IncidentKitError  # noqa: E402
from incidentkit.fetch import logs, pacing  # noqa: E402
from incidentkit.window import Window  # noqa: E402

GROUP = H.GROUP
MODES = {"http": "out of process, HTTP", "in-process": "in-process hook"}


class MeteredServer:
    """In-process mode: ``FakeLogsServer`` behind a :class:`~_logs_http.QuotaBucket` (a ``before-send`` hook).

    The attempt takes a token (or is throttled) on arrival, then the latency is slept in
    the caller's thread, then the page is made there: the server's work shares the
    fetching process's CPU and GIL.
    """

    def __init__(self, inner: C.FakeLogsServer, rate: float, latency: float, burst: float = 1.0) -> None:
        self.inner, self.bucket = inner, H.QuotaBucket(rate, latency, burst)

    def __call__(self, request: Any, **kw: Any) -> Any:
        allowed = self.bucket.admit()
        time.sleep(self.bucket.latency)
        if not allowed:
            return C._aws_response(request, 400, H.THROTTLED)
        return self.inner(request, **kw)

    def stats(self) -> dict[str, Any]:
        return self.bucket.stats() | {"page_cpu_s": self.inner.server_s, "server_cpu_s": None}

    def session(self) -> Any:
        session = boto3.Session(region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench")
        session.events.register("before-send.logs.FilterLogEvents", self)
        return session


def fetch(events: int, page_events: int, rate: float, latency: float, burst: float, *, slices: int | None,
          paced: bool, workers: int, http: H.HttpLogsServer | None) -> dict[str, Any]:  # fmt: skip
    """One fetch of the whole window against a fresh metered server; what it cost and what it got.

    ``http`` given: the server is that out-of-process one (reset first), reached over HTTP
    at its ``endpoint_url``; else the in-process :class:`MeteredServer`.
    """
    syn = C.Synthetic(events)
    win = Window(pd.Timestamp(syn.start_ms, unit="ms", tz="UTC"), pd.Timestamp(syn.start_ms + syn.span_ms, unit="ms", tz="UTC"))
    budget = pacing.Budget({"FilterLogEvents": rate if paced else 0})
    if http is not None:
        http.reset(rate, latency, burst)
        access: dict[str, Any] = {"session": boto3.Session(region_name="us-east-1", aws_access_key_id="bench",
                                                           aws_secret_access_key="bench"), "endpoint_url": http.url}  # fmt: skip
        stats = http.stats
    else:
        server = MeteredServer(C.FakeLogsServer({GROUP: syn}, page_events=page_events), rate, latency, burst)
        access, stats = {"session": server.session()}, server.stats
    t0, cpu0 = time.perf_counter(), time.process_time()
    error = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            df = logs.events(GROUP, win, slices=slices, budget=budget, max_workers=workers, **access)
    except IncidentKitError as exc:  # throttled past botocore's retry budget: what was fetched is kept
        error, df = exc.message, getattr(exc, "partial", None)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    st = stats()
    rows = 0 if df is None else len(df)
    unique = 0 if df is None else int(df["event_id"].nunique())
    attrs = {} if df is None else df.attrs
    return {
        "wall_s": wall,
        # this process only: the kit and botocore (and, in-process, the fake server's page making: page_cpu_s)
        "cpu_s": cpu,
        "page_cpu_s": st["page_cpu_s"],
        "server_cpu_s": st["server_cpu_s"],  # the server process's CPU (http mode only)
        "answered": st["answered"],
        "attempts": st["attempts"],
        "throttled": st["throttled"],
        "kit_throttled": attrs.get("throttled"),
        "early_ms_median": st["early_ms_median"],
        "early_ms_max": st["early_ms_max"],
        "early_under_5ms": st["early_under_5ms"],
        "rate": st["answered"] / wall,
        "calling_rate": st["calling_rate"],
        "cpu_ms_per_call": 1000 * cpu / max(1, st["attempts"]),
        "kit_cpu_ms_per_call": 1000 * (cpu - (st["page_cpu_s"] if http is None else 0.0)) / max(1, st["attempts"]),
        "rows": rows,
        "lost": events - unique,
        "duplicated": rows - unique,
        "slices": attrs.get("slices"),
        "complete": attrs.get("complete"),
        "error": error,
    }


def scenario(args: argparse.Namespace, rate: float, latency: float, http: H.HttpLogsServer | None) -> dict[str, Any]:
    common = dict(events=args.events, page_events=args.page_events, rate=rate, latency=latency, burst=args.server_burst, http=http)
    seq = fetch(**common, slices=1, paced=False, workers=1)
    seq_paced = fetch(**common, slices=1, paced=True, workers=1)
    kit = fetch(**common, slices=None, paced=True, workers=args.workers)
    mode = "in-process" if http is None else "http"
    return {"budget": rate, "latency_s": latency, "server": mode, "sequential": seq, "sequential_paced": seq_paced, "sliced_paced": kit}


def report(res: dict[str, Any]) -> None:
    rate, lat, mode = res["budget"], res["latency_s"], res["server"]
    print(f"\n== budget {rate:g} calls/s, latency {lat * 1000:.0f} ms a call, server {MODES[mode]} ==")
    for name in ("sequential", "sequential_paced", "sliced_paced"):
        r = res[name]
        early = "" if not r["throttled"] else (f"; came {r['early_ms_median']:.1f} ms early (median), {r['early_ms_max']:.1f} max,"
                                               f" {r['early_under_5ms']} by < 5 ms")
        server_cpu = "" if r["server_cpu_s"] is None else f", server process {r['server_cpu_s']:.1f} s"
        print(f"  {name:17s} {r['wall_s']:7.2f} s  {r['answered']:4d} calls ({r['rate']:5.2f}/s = {r['rate'] / rate:4.0%} of budget)"
              f"  throttled {r['throttled']:3d} (kit counted {r['kit_throttled']}{early})  rows {r['rows']:,}  lost {r['lost']}"
              f"  slices {r['slices']}  complete {r['complete']}  CPU {r['cpu_s']:.1f} s (pages {r['page_cpu_s']:.1f}{server_cpu};"
              f" {r['cpu_ms_per_call']:.1f} ms a call, the kit's {r['kit_cpu_ms_per_call']:.1f})"
              f"  rate while calling {(r['calling_rate'] or 0) / rate:4.0%}"
              + (f"  ERROR {r['error']}" if r["error"] else ""))
    seq, kit = res["sequential"], res["sliced_paced"]
    tag = f"budget {rate:g}/s, latency {lat * 1000:.0f} ms, {mode}"
    print(C.ratio_line(f"achieved call rate / budget, sliced+paced ({tag})", kit["rate"] / rate, target=">= 0.9",
                       ok=kit["rate"] / rate >= 0.9))
    print(C.ratio_line(f"rows lost, sliced+paced ({tag})", float(kit["lost"]), target="0", ok=kit["lost"] == 0 and kit["complete"] is True,
                       note=f"throttled attempts {kit['throttled']}, all retried"))
    print(C.ratio_line(f"speed-up of sliced+paced over one sequential chain ({tag})", seq["wall_s"] / kit["wall_s"],
                       note=f"{seq['wall_s']:.1f} s -> {kit['wall_s']:.1f} s; paced chain alone {seq['wall_s'] / res['sequential_paced']['wall_s']:.2f}x;"
                            f" the kit's CPU {kit['kit_cpu_ms_per_call']:.1f} ms a call"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=60_000, help="events of the one log group, over one hour")
    p.add_argument("--page-events", type=int, default=1_000, help="events a page (AWS: up to 10,000 or 1 MiB)")
    p.add_argument("--scenarios", nargs="+", default=["5:0.12", "5:0.6", "25:0.12"],
                   help="budget:latency pairs (calls/s : seconds a call); 5/s is AWS's documented FilterLogEvents quota")
    p.add_argument("--workers", type=int, default=4, help="max_workers of the sliced fetch (the kit's default: 4)")
    p.add_argument("--server-burst", type=float, default=1.0, help="tokens the server's bucket saves up")
    p.add_argument("--server", choices=["http", "in-process", "both"], default="http",
                   help="http (the run of record): the metered server in its own process on 127.0.0.1, reached at its "
                        "endpoint_url; in-process: a botocore before-send hook sharing this process's CPU and GIL; both: each "
                        "scenario both ways, in-process first")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args(argv)
    C.quiet_aws_env()
    os.environ.pop("INCIDENTKIT_RPS", None)
    os.environ["NO_PROXY"] = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1"]))  # botocore: never via a proxy
    print(C.environment_line(), f" load {os.getloadavg()[0]:.1f}")
    print(f"{args.events:,} events in one group, {args.page_events:,} a page ({-(-args.events // args.page_events)} pages as one chain); "
          f"server bucket burst {args.server_burst:g}; sliced fetch max_workers={args.workers}; server {args.server}")
    modes = ["in-process", "http"] if args.server == "both" else [args.server]
    results = []
    with contextlib.ExitStack() as stack:
        http = stack.enter_context(H.HttpLogsServer(args.events, args.page_events)) if "http" in modes else None
        for item in args.scenarios:
            rate, latency = (float(x) for x in item.split(":"))
            for mode in modes:
                res = scenario(args, rate, latency, http if mode == "http" else None)
                report(res)
                results.append(res)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
