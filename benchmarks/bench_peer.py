"""A peer, side by side (issue 5, item 6): awswrangler against incidentkit on the same events.

moto server (``ThreadedMotoServer(port=0)`` on 127.0.0.1, a real HTTP endpoint) is seeded
with ``--events`` FilterLogEvents-shaped events (80 % app JSON lines, 20 % Lambda REPORT
lines, 8 streams, the last hour). The same window is then fetched, interleaved and best
of ``--repeat``, with

* **awswrangler** ``wr.cloudwatch.filter_log_events`` (the established pandas reader for
  CloudWatch Logs: DescribeLogStreams, then FilterLogEvents over batches of 50 streams);
* **incidentkit** ``logs.events`` alone (the raw events frame), and ``logs.events`` +
  ``parsers.parse`` (the typed frame the analyses use).

moto serves pages of up to 10,000 events (it does not apply AWS's 1 MiB page limit), so
the calls are fewer than against AWS. It prints the wall-time ratios and what each returns (columns and dtypes: awswrangler
returns the API's fields as they come, the message text unparsed).

awswrangler is a benchmark-only dependency (``pip install -e .[bench]``). If it cannot be
imported the script says so and measures incidentkit alone.

Usage::

    python benchmarks/bench_peer.py --events 100000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C  # noqa: E402

GROUP = "/aws/lambda/orders-api"


def seed(client: Any, syn: C.Synthetic) -> int:
    """PutLogEvents per stream in time order, batches within AWS's 10,000 events / 1 MiB."""
    client.create_log_group(logGroupName=GROUP)
    for s in syn.stream_names:
        client.create_log_stream(logGroupName=GROUP, logStreamName=s)
    by_stream: dict[str, list[dict[str, Any]]] = {s: [] for s in syn.stream_names}
    for lo in range(0, syn.n, 20_000):
        for e in syn.dicts(lo, lo + 20_000):
            by_stream[e["logStreamName"]].append({"timestamp": e["timestamp"], "message": e["message"]})
    total = 0
    for stream, events in by_stream.items():
        batch: list[dict[str, Any]] = []
        size = 0
        for e in events:
            b = len(e["message"].encode()) + C.EVENT_OVERHEAD
            if batch and (len(batch) >= 10_000 or size + b > C.PAGE_BYTES):
                client.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=batch)
                total += len(batch)
                batch, size = [], 0
            batch.append(e)
            size += b
        if batch:
            client.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=batch)
            total += len(batch)
    return total


def _dtypes(df: Any) -> str:
    return ", ".join(f"{c}:{t}" for c, t in df.dtypes.astype(str).items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    C.quiet_aws_env()

    import boto3
    import pandas as pd
    from moto.server import ThreadedMotoServer

    from incidentkit.fetch import logs
    from incidentkit import parse as parsers
    from incidentkit.window import Window

    try:
        import awswrangler as wr

        wr_version = wr.__version__
    except Exception as exc:  # noqa: BLE001 - any import failure means "not available here"
        wr, wr_version = None, f"unavailable ({type(exc).__name__}: {exc})"

    print(C.environment_line() + f"  awswrangler {wr_version}")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto server's request log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        url = f"http://{host}:{port}"
        now_ms = (int(time.time()) - 3600) * 1000
        syn = C.Synthetic(args.events, start_ms=now_ms - C.HOUR_MS, span_ms=C.HOUR_MS)
        client = boto3.client("logs", region_name="us-east-1", endpoint_url=url)
        t = time.perf_counter()
        seeded = seed(client, syn)
        print(f"moto server {url}: seeded {seeded:,} events in {time.perf_counter() - t:.1f}s "
              f"({sum(len(m.encode()) for m in syn.messages(0, min(syn.n, 20_000))) / min(syn.n, 20_000):.0f} B a message)")  # fmt: skip
        window = Window(pd.Timestamp(syn.start_ms, unit="ms", tz="UTC"), pd.Timestamp(syn.end_ms, unit="ms", tz="UTC"))
        os.environ["AWS_ENDPOINT_URL"] = url  # awswrangler has no logs endpoint setting: botocore reads this
        session = boto3.Session(region_name="us-east-1")

        def run_wr() -> Any:
            return wr.cloudwatch.filter_log_events(
                log_group_name=GROUP, start_time=window.start.to_pydatetime(), end_time=window.end.to_pydatetime(), boto3_session=session
            )

        def run_kit_raw() -> Any:
            return logs.events(GROUP, window, endpoint_url=url, region="us-east-1", progress=False)

        def run_kit_parsed() -> Any:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return parsers.parse(run_kit_raw())

        times: dict[str, list[float]] = {"awswrangler": [], "kit_raw": [], "kit_parsed": []}
        outs: dict[str, Any] = {}
        runners = {"kit_raw": run_kit_raw, "kit_parsed": run_kit_parsed}
        if wr is not None:
            runners = {"awswrangler": run_wr, **runners}
        for name, fn in runners.items():  # warm-up: clients, imports, moto's caches
            fn()
        for _ in range(args.repeat):
            for name, fn in runners.items():
                t = time.perf_counter()
                outs[name] = fn()
                times[name].append(time.perf_counter() - t)
        best = {k: min(v) for k, v in times.items() if v}
        kit_p = outs["kit_parsed"]
        print(f"\nincidentkit logs.events: {best['kit_raw']:.2f}s -> {len(outs['kit_raw']):,} rows x {outs['kit_raw'].shape[1]} columns "
              f"({outs['kit_raw'].attrs['api_calls']} FilterLogEvents calls, complete={outs['kit_raw'].attrs['complete']})")  # fmt: skip
        print(f"  dtypes: {_dtypes(outs['kit_raw'])}")
        print(f"incidentkit logs.events + parsers.parse: {best['kit_parsed']:.2f}s -> {len(kit_p):,} rows x {kit_p.shape[1]} typed columns; "
              f"formats {kit_p.attrs['parse_stats']['by_format']}, {kit_p.attrs['parse_stats']['errors']} parse errors")  # fmt: skip
        typed = {c: str(t) for c, t in kit_p.dtypes.items() if c in ("timestamp", "status", "latency_ms", "cold_start", "app_version", "request_id")}
        print(f"  e.g. {typed}")
        result: dict[str, Any] = {"events": seeded, "best_s": best, "awswrangler": wr_version}
        if wr is not None:
            w = outs["awswrangler"]
            print(f"awswrangler cloudwatch.filter_log_events: {best['awswrangler']:.2f}s -> {len(w):,} rows x {w.shape[1]} columns")
            print(f"  dtypes: {_dtypes(w)}  (timestamps are epoch-ms integers, the message unparsed text: every field still to be parsed)")
            same = sorted(w["eventId"]) == sorted(outs["kit_raw"]["event_id"].astype(str))
            print(f"  same events as incidentkit: {same}")
            print(C.ratio_line("awswrangler / incidentkit logs.events (raw fetch, both)", best["awswrangler"] / best["kit_raw"]))
            print(C.ratio_line("awswrangler / incidentkit logs.events + parse (typed frame)", best["awswrangler"] / best["kit_parsed"],
                               note="(awswrangler's frame is not parsed)"))  # fmt: skip
            result["awswrangler_columns"] = {c: str(t) for c, t in w.dtypes.items()}
            result["same_events"] = same
        else:
            print(f"awswrangler: {wr_version} -- install it with `pip install -e .[bench]` to compare")
        print(C.ratio_line("incidentkit fetch + parse / fetch alone", best["kit_parsed"] / best["kit_raw"]))
        result["kit_columns"] = {c: str(t) for c, t in kit_p.dtypes.items()}
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(result, fh, indent=2)
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
