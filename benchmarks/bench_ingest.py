"""Log ingestion benchmark (issue 5, items 1 and 2): raw FilterLogEvents events -> the typed frame.

Generates N FilterLogEvents-shaped events deterministically with the benchmarks' shared
generator (``_common.Synthetic``: 80 % application JSON lines, 20 % Lambda ``REPORT``
lines, ~310 bytes of message on average), then measures in the same process,
interleaved, best of ``--repeat`` rounds:

* **A** (baseline): ``json.loads`` per message + ``pandas.json_normalize`` (REPORT lines,
  which are not JSON, become ``{"message": line}``);
* **B** (floor): ``orjson.loads`` of every message alone (``try``/``except`` for the
  REPORT lines), nothing built;
* **kit**: ``incidentkit.parse.parse(events_frame)`` -> ``schema.PARSED_COLUMNS``
  (batches parsed in as many threads as there are CPUs; also timed with
  ``INCIDENTKIT_PARSE_THREADS=1``, and the CPU time of both is printed, because on a
  shared machine the single-threaded floor B is favoured by CPU contention).

Then **masking** (issue 13): ``masking.mask_frame`` of the parsed frame (every text column,
as ``EvidenceBundle`` writes it), with today's rules (``incidentkit.masking``) and with the
rules before issue 13 (``_masking_before.py``, a copy kept for this row only), in the same
process: µs an event, wall and CPU, best of ``--repeat`` rounds (one round of the old rules).

The events frame is built first the way ``logs.events`` builds each page (column-wise,
``string[pyarrow]`` messages); its cost is reported separately ("frame build").

Memory (item 2) is measured in a fresh subprocess: the raw events are created, the
frame built, then the kernel's peak-RSS counter is reset (``/proc/self/clear_refs``) and
the peak RSS added while parsing is read from ``VmHWM`` (falling back to a 2 ms RSS
sampler where ``clear_refs`` is not allowed).

Usage::

    python benchmarks/bench_ingest.py --events 1000000
    python benchmarks/bench_ingest.py --events 200000 --repeat 5 --json out.json

Targets: kit >= 8x faster than A and <= 1.2x B; peak RSS added <= raw message bytes;
masking not slower than before, <= 2 µs an event.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import threading
import time
import warnings
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C


def generate(n: int, seed: int = 20260301) -> list[dict[str, Any]]:
    """``n`` FilterLogEvents event dicts from the shared deterministic generator
    (:class:`_common.Synthetic`: 4 of 5 events app JSON ~340 B, every fifth the Lambda
    ``REPORT`` line of the request before it, ~310 B a message on average)."""
    syn = C.Synthetic(n, seed=seed)
    out: list[dict[str, Any]] = []
    for lo in range(0, n, 100_000):  # page-sized pieces, like FilterLogEvents delivers them
        out += syn.dicts(lo, min(n, lo + 100_000))
    return out


def events_frame(events: list[dict[str, Any]], log_group: str = "/aws/lambda/orders-api"):
    """The logs frame ``logs.events`` builds from FilterLogEvents pages (column-wise,
    ``string`` columns; arrow-backed on pandas 3)."""
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
    from incidentkit import parse as parsers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parsers.parse(frame)


def _timed(fn, *args) -> tuple[float, Any]:
    gc.collect()
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


# --------------------------------------------------------------------------- masking


def masking_row(parsed: Any, rounds: int) -> dict[str, Any]:
    """µs an event of ``mask_frame`` on the parsed frame: the rules before issue 13 vs today's."""
    import _masking_before as before

    from incidentkit import masking

    n = len(parsed)
    texts = sum(1 for c in parsed.columns if parsed[c].dtype == object or str(parsed[c].dtype) in ("string", "str"))
    before.mask_frame(parsed.head(2000))  # compiled patterns, imports
    masking.mask_frame(parsed.head(2000))
    timings: dict[str, dict[str, float]] = {}
    for name, module, reps in (("after", masking, rounds), ("before", before, 1)):
        for _ in range(reps):
            gc.collect()
            c, t = _cpu(), time.perf_counter()
            module.mask_frame(parsed)
            wall, cpu = time.perf_counter() - t, _cpu() - c
            best = timings.setdefault(name, {"wall_s": wall, "cpu_s": cpu})
            best["wall_s"], best["cpu_s"] = min(best["wall_s"], wall), min(best["cpu_s"], cpu)
    us = {k: {m: v / n * 1e6 for m, v in t.items()} for k, t in timings.items()}
    print(f"masking (mask_frame, {texts} text columns): before {us['before']['wall_s']:.2f} µs/event wall, "
          f"{us['before']['cpu_s']:.2f} CPU; after {us['after']['wall_s']:.2f} µs/event wall, {us['after']['cpu_s']:.2f} CPU")
    after_cpu = us["after"]["cpu_s"]
    print(C.ratio_line("masking before / after (CPU)", us["before"]["cpu_s"] / after_cpu, target=">= 1x, not slower",
                       ok=after_cpu <= us["before"]["cpu_s"]))
    print(f"masking after: {after_cpu:.2f} µs/event CPU (target <= 2 µs/event)  {'OK' if after_cpu <= 2 else 'MISSED'}")
    return {"events": n, "text_columns": texts, "us_per_event": us}


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


def _release_free_memory() -> None:
    """Return freed heap pages to the OS (arrow's pool and glibc's malloc)."""
    import ctypes

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:  # pragma: no cover - not glibc
        pass


def memory_child(n: int, seed: int) -> dict[str, Any]:
    """Runs in a fresh process: peak RSS added by parsing (raw events already in memory)."""
    import pandas as pd  # noqa: F401  (imports before the baseline)

    from incidentkit import parse as parsers  # noqa: F401

    events = generate(n, seed)
    raw_bytes = sum(len(e["message"].encode()) for e in events)
    frame = events_frame(events)
    gc.collect()
    _release_free_memory()  # so that memory freed before the parse is not reused "for free"
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
        "parsed_columns_mb": out.drop(columns=["timestamp", "ingestion_time", "log_group", "log_stream", "event_id", "message"]).memory_usage(deep=False).sum() / 2**20,
        "parse_s": elapsed,
        "method": method,
    }


def measure_memory(n: int, seed: int) -> dict[str, Any]:
    cmd = [sys.executable, os.path.abspath(__file__), "--events", str(n), "--seed", str(seed), "--memory-child"]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main


def parallel_probe() -> float:
    """How much faster two threads hash 2 x 384 MiB than one (sha256 releases the GIL):
    ~2 on two free cores, ~1 when other jobs leave this process about one core."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    data = os.urandom(64 << 20)

    def job(_: int) -> None:
        for _ in range(6):
            hashlib.sha256(data).digest()

    walls = []
    for workers in (1, 2):
        t = time.perf_counter()
        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(job, range(2)))
        walls.append(time.perf_counter() - t)
    return walls[0] / walls[1]


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


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

    C.quiet_aws_env()
    t = time.perf_counter()
    events = generate(args.events, args.seed)
    gen_s = time.perf_counter() - t
    messages = [e["message"] for e in events]
    raw = sum(len(m.encode()) for m in messages)
    reports = sum(m.startswith("REPORT") for m in messages)
    print(f"events: {len(events):,}  REPORT share: {reports / len(events):.1%}  mean message: {raw / len(events):.0f} B  raw: {raw / 2**20:.0f} MiB  (generated in {gen_s:.1f}s)")
    probe = parallel_probe()
    print(C.environment_line() + f"  load average {os.getloadavg()[0]:.1f}  two-thread speedup available {probe:.2f}x")

    build_s, frame = _timed(events_frame, events)
    print(f"frame build (logs.events-style, column-wise): {build_s:.3f}s")

    kit(frame.head(1000))  # warm imports and regex caches
    a_times: list[float] = []
    b_times: list[float] = []
    k_times: list[float] = []
    k1_times: list[float] = []
    cpu: dict[str, float] = {}
    rounds = max(args.repeat, args.repeat_a)
    parsed = None
    for r in range(rounds):
        if r < args.repeat:
            c = _cpu()
            tb, _ = _timed(floor_b, messages)
            cpu["B"] = min(cpu.get("B", 1e9), _cpu() - c)
            b_times.append(tb)
            c = _cpu()
            tk, parsed = _timed(kit, frame)
            cpu["kit"] = min(cpu.get("kit", 1e9), _cpu() - c)
            k_times.append(tk)
            os.environ["INCIDENTKIT_PARSE_THREADS"] = "1"
            try:
                tk1, _ = _timed(kit, frame)
            finally:
                os.environ.pop("INCIDENTKIT_PARSE_THREADS", None)
            k1_times.append(tk1)
            print(f"  round {r + 1}: B {tb:.3f}s  kit {tk:.3f}s  kit 1 thread {tk1:.3f}s", flush=True)
        if r < args.repeat_a:
            ta, norm = _timed(baseline_a, messages)
            a_times.append(ta)
            print(f"  round {r + 1}: A {ta:.3f}s  ({norm.shape[1]} columns, as json_normalize found them)", flush=True)
            del norm
    a, b, k, k1 = min(a_times), min(b_times), min(k_times), min(k1_times)
    stats = parsed.attrs["parse_stats"]
    print(f"kit parsed: {stats['parsed']:,} rows, {stats['errors']} errors, formats {stats['by_format']}")
    print(f"best: A {a:.3f}s   B {b:.3f}s   kit {k:.3f}s   kit 1 thread {k1:.3f}s   (CPU s: B {cpu['B']:.2f}, kit {cpu['kit']:.2f})")
    print(C.ratio_line("A / kit", a / k, target=">= 8x", ok=a / k >= 8))
    print(C.ratio_line("kit / B", k / b, target="<= 1.2x", ok=k / b <= 1.2))
    print(C.ratio_line("kit (1 thread) / B", k1 / b, note="(informative)"))
    print(C.ratio_line("kit CPU / B CPU", cpu["kit"] / cpu["B"], note="(informative: all threads' CPU time)"))
    mask = masking_row(parsed, args.repeat)
    result: dict[str, Any] = {
        "events": len(events),
        "raw_message_bytes": raw,
        "frame_build_s": build_s,
        "A_s": a,
        "B_s": b,
        "kit_s": k,
        "kit_1thread_s": k1,
        "cpu_s": cpu,
        "kit_runs_s": k_times,
        "B_runs_s": b_times,
        "A_over_kit": a / k,
        "kit_over_B": k / b,
        "load_average": os.getloadavg()[0],
        "two_thread_speedup_available": probe,
        "masking": mask,
    }
    if not args.no_memory:
        del parsed
        gc.collect()
        mem = measure_memory(args.events, args.seed)
        ratio = mem["peak_added_mb"] * 2**20 / mem["raw_message_bytes"]
        print(
            f"memory ({mem['method']}): peak RSS added while parsing {mem['peak_added_mb']:.0f} MiB, "
            f"retained {mem['retained_added_mb']:.0f} MiB (the parsed columns themselves: {mem['parsed_columns_mb']:.0f} MiB), "
            f"raw messages {mem['raw_message_bytes'] / 2**20:.0f} MiB"
        )
        print(C.ratio_line("peak RSS added / raw message bytes", ratio, target="<= 1x", ok=ratio <= 1))
        result["memory"] = mem
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
