"""Log ingestion benchmark (issue 5, items 1 and 2): raw FilterLogEvents events -> the typed frame.

Generates N FilterLogEvents-shaped events deterministically (about 80 % application JSON
lines, 20 % Lambda ``REPORT`` lines, ~313 bytes of message on average), then measures in
the same process, interleaved, best of ``--repeat`` rounds:

* **A** (baseline): ``json.loads`` per message + ``pandas.json_normalize`` (REPORT lines,
  which are not JSON, become ``{"message": line}``);
* **B** (floor): ``orjson.loads`` of every message alone (``try``/``except`` for the
  REPORT lines), nothing built;
* **kit**: ``incidentkit.parsers.parse(events_frame)`` -> ``schema.PARSED_COLUMNS``.

The events frame is built first the way ``logs.events`` builds each page (column-wise,
``string[pyarrow]`` messages); its cost is reported separately ("frame build").

Memory (item 2) is measured in a fresh subprocess: the raw events are created, the
frame built, then the kernel's peak-RSS counter is reset (``/proc/self/clear_refs``) and
the peak RSS added while parsing is read from ``VmHWM`` (falling back to a 2 ms RSS
sampler where ``clear_refs`` is not allowed).

Usage::

    python benchmarks/bench_ingest.py --events 1000000
    python benchmarks/bench_ingest.py --events 200000 --repeat 5 --json out.json

Targets: kit >= 8x faster than A and <= 1.2x B; peak RSS added <= raw message bytes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import warnings
from typing import Any

import numpy as np

ROUTES = ["/v1/orders/{id}", "/v1/orders", "/v1/users/{id}/profile", "/v1/cart/items", "/v2/search", "/v1/payments/{id}/capture"]
VERSIONS = ["2.8.1", "2.9.0", "3.0.0", "3.0.1"]
MESSAGES = ["request completed", "request failed", "cache miss for key", "payment authorised", "order created"]


def generate(n: int, seed: int = 20260301) -> list[dict[str, Any]]:
    """``n`` FilterLogEvents event dicts, deterministic for a seed (numpy vectorised).

    A request writes one app JSON line and, for ~1 in 4 requests, a REPORT line too
    (20 % of events), sharing its request id; 5 % of REPORT lines are cold starts.
    """
    rng = np.random.default_rng(seed)
    t0 = 1_772_330_400_000  # 2026-03-01T02:00:00Z in ms
    ts = t0 + np.sort(rng.integers(0, 3_600_000, size=n))
    is_report = rng.random(n) < 0.20
    rid_hi = rng.integers(0, 2**62, size=n, dtype=np.int64)
    rid_lo = rng.integers(0, 2**62, size=n, dtype=np.int64)
    status = rng.choice([200] * 17 + [201, 403, 500, 502, 504], size=n)
    latency = np.round(rng.lognormal(4.5, 0.8, size=n), 1)
    route = rng.integers(0, len(ROUTES), size=n)
    version = rng.integers(0, len(VERSIONS), size=n)
    msgi = rng.integers(0, len(MESSAGES), size=n)
    ipa, ipb, ipc = rng.integers(0, 256, size=(3, n))
    ios = rng.integers(0, 5, size=n)
    cold = rng.random(n) < 0.05
    init = np.round(rng.uniform(150, 900, size=n), 2)
    dur = np.round(rng.lognormal(4.3, 0.9, size=n), 2)
    mem_used = rng.integers(60, 220, size=n)
    streams = [f"2026/03/01/[$LATEST]{i:032x}" for i in range(8)]
    stream_i = rng.integers(0, len(streams), size=n)
    events: list[dict[str, Any]] = []
    for i in range(n):
        h, lo = int(rid_hi[i]), int(rid_lo[i])
        rid = f"{h >> 30 & 0xFFFFFFFF:08x}-{h >> 14 & 0xFFFF:04x}-4{h & 0xFFF:03x}-a{lo >> 50 & 0xFFF:03x}-{lo & 0xFFFFFFFFFFFF:012x}"
        t = int(ts[i])
        if is_report[i]:
            d = float(dur[i])
            msg = (
                f"REPORT RequestId: {rid}\tDuration: {d:.2f} ms\tBilled Duration: {int(d) + 1} ms\t"
                f"Memory Size: 512 MB\tMax Memory Used: {int(mem_used[i])} MB\t"
            )
            if cold[i]:
                msg += f"Init Duration: {float(init[i]):.2f} ms\t"
            msg += f"\nXRAY TraceId: 1-{t // 1000:08x}-{lo & 0xFFFFFFFFFFFFFFFFFFFFFFFF:024x}\tSegmentId: {h & 0xFFFFFFFFFFFFFFFF:016x}\tSampled: true\t\n"
        else:
            st = int(status[i])
            sec, ms = divmod(t, 1000)
            iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{ms:03d}Z"
            msg = (
                f'{{"timestamp":"{iso}","level":"{"ERROR" if st >= 500 else "WARN" if st >= 400 else "INFO"}",'
                f'"message":"{MESSAGES[msgi[i]]}","service":"orders-api","requestId":"{rid}",'
                f'"method":"{"POST" if route[i] in (1, 5) else "GET"}","route":"{ROUTES[route[i]]}","status":{st},'
                f'"latency_ms":{float(latency[i])},"user_agent":"MyApp/{VERSIONS[version[i]]} (iOS 17.{int(ios[i])}; iPhone14,2) CFNetwork/1410.0.3",'
                f'"client_ip":"10.{int(ipa[i])}.{int(ipb[i])}.{int(ipc[i])}"}}'
            )
        events.append(
            {
                "logStreamName": streams[stream_i[i]],
                "timestamp": t,
                "message": msg,
                "ingestionTime": t + 300,
                "eventId": f"{t:020d}{i:036d}",
            }
        )
    return events


def events_frame(events: list[dict[str, Any]], log_group: str = "/aws/lambda/orders-api"):
    """The logs frame ``logs.events`` builds from FilterLogEvents pages (column-wise)."""
    import pandas as pd

    from incidentkit import schema

    n = len(events)

    def utc(values):
        return pd.Series(pd.to_datetime(np.asarray(values, dtype="int64"), unit="ms", utc=True)).astype(schema.UTC_NS)

    return pd.DataFrame(
        {
            "timestamp": utc([e["timestamp"] for e in events]),
            "ingestion_time": utc([e["ingestionTime"] for e in events]),
            "log_group": pd.Series(pd.array([log_group] * n, dtype="string")),
            "log_stream": pd.Series(pd.array([e["logStreamName"] for e in events], dtype="string")),
            "event_id": pd.Series(pd.array([e["eventId"] for e in events], dtype="string")),
            "message": pd.Series(pd.array([e["message"] for e in events], dtype="string")),
        }
    )


def baseline_a(messages: list[str]):
    import pandas as pd

    recs = []
    for m in messages:
        try:
            recs.append(json.loads(m))
        except json.JSONDecodeError:
            recs.append({"message": m})
    return pd.json_normalize(recs)


def floor_b(messages: list[str]) -> int:
    import orjson

    ok = 0
    for m in messages:
        try:
            orjson.loads(m)
            ok += 1
        except orjson.JSONDecodeError:
            pass
    return ok


def kit(frame):
    from incidentkit import parsers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parsers.parse(frame)


def _timed(fn, *args) -> tuple[float, Any]:
    gc.collect()
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


# --------------------------------------------------------------------------- memory


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _hwm_kb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def memory_child(n: int, seed: int) -> dict[str, Any]:
    """Runs in a fresh process: peak RSS added by parsing (raw events already in memory)."""
    import pandas as pd  # noqa: F401  (imports before the baseline)

    from incidentkit import parsers  # noqa: F401

    events = generate(n, seed)
    raw_bytes = sum(len(e["message"].encode()) for e in events)
    frame = events_frame(events)
    gc.collect()
    before = _rss_kb()
    method = "VmHWM after /proc/self/clear_refs"
    peak_holder = {"peak": before}
    stop = threading.Event()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        method = "RSS sampled every 2 ms"

        def sample() -> None:
            while not stop.is_set():
                peak_holder["peak"] = max(peak_holder["peak"], _rss_kb())
                time.sleep(0.002)

        threading.Thread(target=sample, daemon=True).start()
    t = time.perf_counter()
    out = kit(frame)
    elapsed = time.perf_counter() - t
    stop.set()
    peak = _hwm_kb() if method.startswith("VmHWM") else peak_holder["peak"]
    after = _rss_kb()
    return {
        "events": n,
        "raw_message_bytes": raw_bytes,
        "rss_before_mb": before / 1024,
        "peak_added_mb": (peak - before) / 1024,
        "retained_added_mb": (after - before) / 1024,
        "result_frame_mb": out.memory_usage(deep=False).sum() / 2**20,
        "parse_s": elapsed,
        "method": method,
    }


def measure_memory(n: int, seed: int) -> dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--events", str(n), "--seed", str(seed), "--memory-child"]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20260301)
    ap.add_argument("--repeat", type=int, default=3, help="rounds of B and kit (best is kept)")
    ap.add_argument("--repeat-a", type=int, default=1, help="rounds of baseline A (slow)")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.memory_child:
        print(json.dumps(memory_child(args.events, args.seed)))
        return 0

    import pandas as pd
    import pyarrow as pa

    t = time.perf_counter()
    events = generate(args.events, args.seed)
    gen_s = time.perf_counter() - t
    messages = [e["message"] for e in events]
    raw = sum(len(m.encode()) for m in messages)
    reports = sum(m.startswith("REPORT") for m in messages)
    print(f"events: {len(events):,}  REPORT share: {reports / len(events):.1%}  mean message: {raw / len(events):.0f} B  raw: {raw / 2**20:.0f} MiB  (generated in {gen_s:.1f}s)")
    print(f"python {sys.version.split()[0]}  pandas {pd.__version__}  pyarrow {pa.__version__}  cpus {os.cpu_count()}")

    build_s, frame = _timed(events_frame, events)
    print(f"frame build (logs.events-style, column-wise): {build_s:.3f}s")

    kit(frame.head(1000))  # warm imports and regex caches
    a_times, b_times, k_times = [], [], []
    rounds = max(args.repeat, args.repeat_a)
    parsed = None
    for r in range(rounds):
        if r < args.repeat:
            tb, _ = _timed(floor_b, messages)
            b_times.append(tb)
            tk, parsed = _timed(kit, frame)
            k_times.append(tk)
            print(f"  round {r + 1}: B {tb:.3f}s  kit {tk:.3f}s")
        if r < args.repeat_a:
            ta, norm = _timed(baseline_a, messages)
            a_times.append(ta)
            print(f"  round {r + 1}: A {ta:.3f}s  ({norm.shape[1]} columns, all as parsed by json_normalize)")
            del norm
    a, b, k = min(a_times), min(b_times), min(k_times)
    stats = parsed.attrs["parse_stats"]
    print(f"kit parsed: {stats['parsed']:,} rows, {stats['errors']} errors, formats {stats['by_format']}")
    print(f"best: A {a:.3f}s   B {b:.3f}s   kit {k:.3f}s   (median kit {statistics.median(k_times):.3f}s, median B {statistics.median(b_times):.3f}s)")
    print(f"A / kit = {a / k:.1f}x   (target >= 8x)   {'OK' if a / k >= 8 else 'MISSED'}")
    print(f"kit / B = {k / b:.2f}x   (target <= 1.2x)  {'OK' if k / b <= 1.2 else 'MISSED'}")
    result: dict[str, Any] = {
        "events": len(events),
        "raw_message_bytes": raw,
        "frame_build_s": build_s,
        "A_s": a,
        "B_s": b,
        "kit_s": k,
        "kit_runs_s": k_times,
        "B_runs_s": b_times,
        "A_over_kit": a / k,
        "kit_over_B": k / b,
    }
    if not args.no_memory:
        del parsed
        gc.collect()
        mem = measure_memory(args.events, args.seed)
        ok = mem["peak_added_mb"] * 2**20 <= mem["raw_message_bytes"]
        print(
            f"memory ({mem['method']}): peak RSS added while parsing {mem['peak_added_mb']:.0f} MiB, "
            f"retained {mem['retained_added_mb']:.0f} MiB, raw messages {mem['raw_message_bytes'] / 2**20:.0f} MiB  "
            f"{'OK' if ok else 'MISSED'} (target: peak added <= raw message bytes)"
        )
        result["memory"] = mem
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
