"""Scale benchmark (issue 5, item 3): millions of events fetched → parsed → evidence → analysed out-of-core.

For each size N (each in a fresh interpreter, so its peak RSS is its own):

1. **fetch**: ``incidentkit.fetch.logs.iter_pages`` against a botocore ``before-send`` hook that
   serves synthetic FilterLogEvents pages (``_common.FakeLogsServer``: real request
   serialisation and response parsing by botocore, pages cut at AWS's 1 MiB / 10,000
   events; no socket, no moto — moto is far too slow for 10M events);
2. **parse**: pages are gathered into chunks of ``--chunk-events`` and parsed with
   ``incidentkit.parse.parse``;
3. **mask + write**: each parsed chunk is masked (``incidentkit.masking.mask_frame``, what
   ``EvidenceBundle.writer`` does by default, timed apart) and streamed into the evidence
   bundle with ``EvidenceBundle.writer(name, kind="parsed")``;
4. **analyse out-of-core** with ``incidentkit.analyses.outofcore`` on the Parquet evidence:
   P50/P90/P99 per minute of Lambda REPORT latency split by cold start, error rates per
   minute of the app lines, incident (last 15 min) vs baseline (first 45 min) shares.

Baselines measured in the same run:

* the larger size against the smaller (time must grow linearly: 10M <= 11x 1M);
* for sizes up to ``--inmemory-max``: the same three analyses in memory
  (``pd.read_parquet`` + ``analyses.latency/errors/compare``), in their own process:
  time and peak RSS against out-of-core;
* for sizes up to ``--boto3-max``: paging the same pages with a bare boto3 client
  (nothing kept): what the fetch costs before the kit does anything.

Peak RSS is the process's ``VmHWM`` (whole run, imports included) and the part added
after imports. Besides wall time, each size reports the CPU time of all its threads
(``time.process_time``): on a shared machine the wall time of two sizes run minutes apart
depends on the load, their CPU time much less, so linearity is judged on both.

Usage::

    python benchmarks/bench_scale.py --events 1000000 10000000
    python benchmarks/bench_scale.py --events 2000 20000 --json /tmp/scale.json   # smoke size
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import warnings
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C  # noqa: E402

GROUP = "/aws/lambda/orders-api"


def _window(syn: C.Synthetic) -> Any:
    import pandas as pd

    from incidentkit.window import Window

    return Window(pd.Timestamp(syn.start_ms, unit="ms", tz="UTC"), pd.Timestamp(syn.end_ms, unit="ms", tz="UTC"))


def _split(syn: C.Synthetic) -> tuple[Any, Any]:
    import pandas as pd

    from incidentkit.window import Window

    w = _window(syn)
    cut = pd.Timestamp(syn.incident_start_ms, unit="ms", tz="UTC")
    return Window(cut, w.end), Window(w.start, cut)


def _analyses_outofcore(source: Any, syn: C.Synthetic) -> tuple[dict[str, float], dict[str, Any]]:
    import pyarrow.compute as pc

    from incidentkit.analyses import outofcore

    win = _window(syn)
    inc, base = _split(syn)
    t: dict[str, float] = {}
    with C.timed(t, "verify"):
        d = outofcore.dataset(source)  # sha256 of every file against the manifest, once
    with C.timed(t, "percentiles"):
        lat = outofcore.percentiles(d, by="1min", window=win, groupby="cold_start", filter=pc.field("format") == "lambda_platform")
    with C.timed(t, "error_rate"):
        er = outofcore.error_rate(d, by="1min", window=win, filter=pc.field("status").is_valid())
    with C.timed(t, "compare"):
        cmp = outofcore.compare(d, inc, base, filter=pc.field("format") == "app_json")
    return t, _summary(lat, er, cmp, inc)


def _analyses_inmemory(path: str, syn: C.Synthetic) -> tuple[dict[str, float], dict[str, Any]]:
    import pandas as pd

    from incidentkit.analyses import compare, errors, latency

    win = _window(syn)
    inc, base = _split(syn)
    t: dict[str, float] = {}
    with C.timed(t, "read"):
        df = pd.read_parquet(path)
    with C.timed(t, "percentiles"):
        lat = latency.percentiles(df[df["format"] == "lambda_platform"], by="1min", window=win, groupby="cold_start")
    with C.timed(t, "error_rate"):
        er = errors.error_rate(df[df["status"].notna()], by="1min", window=win)
    with C.timed(t, "compare"):
        app = df[df["format"] == "app_json"]
        ts = app["timestamp"]
        cmp = compare.compare(app[(ts >= inc.start) & (ts < inc.end)], app[(ts >= base.start) & (ts < base.end)])
    return t, _summary(lat, er, cmp, inc)


def _summary(lat: Any, er: Any, cmp: Any, inc: Any) -> dict[str, Any]:
    warm = lat[lat["cold_start"] == False]  # noqa: E712 - nullable boolean column
    top = cmp.head(3)
    return {
        "latency_rows": int(lat["count"].sum()),
        "p99_warm_before": float(warm.loc[warm["timestamp"] < inc.start, "p99"].median()),
        "p99_warm_incident": float(warm.loc[warm["timestamp"] >= inc.start, "p99"].median()),
        "requests": int(er["requests"].sum()),
        "errors_4xx": int(er["n_4xx"].sum()),
        "error_rate_before": float(er.loc[er["timestamp"] < inc.start, "error_rate"].mean()),
        "error_rate_incident": float(er.loc[er["timestamp"] >= inc.start, "error_rate"].mean()),
        "compare_top": [f"{r.column}={r.value} {r.incident_share:.1%} vs {r.baseline_share:.1%}" for r in top.itertuples()],
        "compare_n": [int(cmp.attrs.get("n_incident", 0)), int(cmp.attrs.get("n_baseline", 0))],
    }


# --------------------------------------------------------------------------- children


def child_pipeline(n: int, chunk: int, workdir: str, boto3_baseline: bool) -> dict[str, Any]:
    """Fetch → parse → mask → write → analyse, in this fresh process."""
    import pandas as pd

    from incidentkit.fetch import logs
    from incidentkit import masking, parse as parsers
    from incidentkit.evidence import EvidenceBundle

    rss_imports = C.rss_mb()
    syn = C.Synthetic(n)
    server = C.FakeLogsServer({GROUP: syn})
    session = server.session()
    result: dict[str, Any] = {"events": n, "chunk_events": chunk, "rss_after_imports_mb": rss_imports,
                              "loadavg_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}  # fmt: skip

    if boto3_baseline:
        client = session.client("logs", region_name="us-east-1")
        t = time.perf_counter()
        token, got, calls = None, 0, 0
        while True:
            kw = {"nextToken": token} if token else {}
            resp = client.filter_log_events(logGroupName=GROUP, startTime=syn.start_ms, endTime=syn.end_ms - 1, **kw)
            got += len(resp["events"])
            calls += 1
            token = resp.get("nextToken")
            if not token:
                break
        result["boto3_paging_s"] = time.perf_counter() - t
        result["boto3_server_s"] = server.server_s
        result["boto3_events"] = got
        server.server_s, server.calls = 0.0, 0

    bundle = EvidenceBundle(os.path.join(workdir, "evidence"))
    t_stage: dict[str, float] = {}
    raw_bytes = 0
    cpu0 = time.process_time()  # CPU seconds of every thread of this process: load-independent
    started = time.perf_counter()
    pages = logs.iter_pages(GROUP, _window(syn), session=session, progress=False)
    buffered: list[pd.DataFrame] = []
    held = 0

    def flush(w: Any) -> None:
        nonlocal buffered, held, raw_bytes
        if not buffered:
            return
        with C.timed(t_stage, "concat"):
            frame = pd.concat(buffered, ignore_index=True) if len(buffered) > 1 else buffered[0]
            buffered, held = [], 0
        raw_bytes += int(frame["message"].str.len().sum())
        with C.timed(t_stage, "parse"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = parsers.parse(frame)
        with C.timed(t_stage, "mask"):
            masked = masking.mask_frame(parsed)
        with C.timed(t_stage, "write"):
            w.write(masked, mask=False)

    with bundle.writer("parsed-orders-api", kind="parsed") as w:
        it = iter(pages)
        while True:
            t = time.perf_counter()
            try:
                page = next(it)
            except StopIteration:
                t_stage["fetch"] = t_stage.get("fetch", 0.0) + time.perf_counter() - t
                break
            t_stage["fetch"] = t_stage.get("fetch", 0.0) + time.perf_counter() - t
            buffered.append(page)
            held += len(page)
            if held >= chunk:
                flush(w)
        flush(w)
        w.attrs.update(pages.attrs)
    result["ingest_s"] = time.perf_counter() - started
    cpu1 = time.process_time()
    result["ingest_cpu_s"] = cpu1 - cpu0
    result["stages_s"] = t_stage
    result["server_s"] = server.server_s
    result["api_calls"] = pages.attrs["api_calls"]
    result["rows"] = pages.attrs["rows"]
    result["complete"] = pages.attrs["complete"]
    result["raw_message_mib"] = raw_bytes / 2**20
    file = bundle.path / bundle.entry("parsed-orders-api")["file"]
    result["parquet_mib"] = os.path.getsize(file) / 2**20
    result["parquet_path"] = str(file)
    result["rss_peak_ingest_mb"] = C.peak_rss_mb()

    t = time.perf_counter()
    result["analyse_stages_s"], result["summary"] = _analyses_outofcore(bundle, syn)
    result["analyse_s"] = time.perf_counter() - t
    result["analyse_cpu_s"] = time.process_time() - cpu1
    result["total_s"] = result["ingest_s"] + result["analyse_s"]
    result["total_cpu_s"] = result["ingest_cpu_s"] + result["analyse_cpu_s"]
    result["loadavg_end"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result["rss_peak_mb"] = C.peak_rss_mb()
    result["rss_peak_added_mb"] = result["rss_peak_mb"] - rss_imports
    return result


def child_analyse(n: int, path: str, mode: str) -> dict[str, Any]:
    """The three analyses on the Parquet file at ``path``, out-of-core or in memory, in a fresh process."""
    import pandas as pd  # noqa: F401

    from incidentkit.analyses import outofcore  # noqa: F401
    from incidentkit.analyses import compare, errors, latency  # noqa: F401

    rss_imports = C.rss_mb()
    syn = C.Synthetic(n)
    t = time.perf_counter()
    stages, summary = _analyses_inmemory(path, syn) if mode == "inmemory" else _analyses_outofcore(path, syn)
    total = time.perf_counter() - t
    peak = C.peak_rss_mb()
    return {"events": n, "mode": mode, "analyse_s": total, "analyse_stages_s": stages, "summary": summary,
            "rss_peak_mb": peak, "rss_peak_added_mb": peak - rss_imports}  # fmt: skip


# --------------------------------------------------------------------------- main


def _fmt_stages(stages: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:.1f}s" for k, v in stages.items())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000], help="sizes, smallest first")
    ap.add_argument("--chunk-events", type=int, default=50_000, help="events parsed and written at a time")
    ap.add_argument("--inmemory-max", type=int, default=1_000_000, help="largest size also analysed in memory")
    ap.add_argument("--boto3-max", type=int, default=1_000_000, help="largest size also paged with bare boto3")
    ap.add_argument("--keep", help="keep the evidence of each size under this folder")
    ap.add_argument("--json", help="also write the results to this file")
    ap.add_argument("--child", choices=["pipeline", "analyse"], help=argparse.SUPPRESS)
    ap.add_argument("--mode", choices=["outofcore", "inmemory"], help=argparse.SUPPRESS)
    ap.add_argument("--workdir", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    ap.add_argument("--boto3-baseline", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    C.quiet_aws_env()

    if args.child == "pipeline":
        print(json.dumps(child_pipeline(args.events[0], args.chunk_events, args.workdir, args.boto3_baseline)))
        return 0
    if args.child == "analyse":
        print(json.dumps(child_analyse(args.events[0], args.path, args.mode)))
        return 0

    sizes = sorted(args.events)
    print(C.environment_line())
    print(f"group {GROUP}: 80% app JSON lines, 20% Lambda REPORT lines; incident = last 15 of 60 minutes; chunks of {args.chunk_events:,} events")
    results: list[dict[str, Any]] = []
    for n in sizes:
        work = tempfile.mkdtemp(prefix=f"ik-scale-{n}-")
        try:
            child_args = ["--child", "pipeline", "--events", str(n), "--chunk-events", str(args.chunk_events), "--workdir", work]
            if n <= args.boto3_max:
                child_args.append("--boto3-baseline")
            r = C.run_child(__file__, child_args)
            s = r["summary"]
            print(
                f"\n{n:,} events ({r['raw_message_mib']:.0f} MiB of messages, {r['api_calls']:,} FilterLogEvents calls, "
                f"complete={r['complete']}) -> Parquet {r['parquet_mib']:.0f} MiB"
            )
            print(f"  ingest {r['ingest_s']:.1f}s: {_fmt_stages(r['stages_s'])}  (synthetic server, in the fetch: {r['server_s']:.1f}s)")
            print(f"  analyse out-of-core {r['analyse_s']:.1f}s: {_fmt_stages(r['analyse_stages_s'])}")
            if r.get("loadavg_start") is not None:
                print(f"  machine load average (1 min) {r['loadavg_start']:.1f} at the start, {r['loadavg_end']:.1f} at the end ({os.cpu_count()} CPUs)")
            print(f"  CPU time (all threads): ingest {r['ingest_cpu_s']:.1f}s, analyse {r['analyse_cpu_s']:.1f}s, total {r['total_cpu_s']:.1f}s")
            print(f"  total {r['total_s']:.1f}s   peak RSS {r['rss_peak_mb']:.0f} MiB ({r['rss_peak_added_mb']:+.0f} MiB after imports; "
                  f"{r['rss_peak_ingest_mb']:.0f} MiB at the end of ingest)")  # fmt: skip
            print(f"  findings: warm P99 {s['p99_warm_before']:.0f} -> {s['p99_warm_incident']:.0f} ms; error rate "
                  f"{s['error_rate_before']:.1%} -> {s['error_rate_incident']:.1%}; top shifts: {'; '.join(s['compare_top'])}")  # fmt: skip
            if "boto3_paging_s" in r:
                fetch = r["stages_s"].get("fetch", 0.0)
                print(f"  bare boto3 paging of the same pages: {r['boto3_paging_s']:.1f}s (server {r['boto3_server_s']:.1f}s)")
                print("  " + C.ratio_line("kit fetch (iter_pages, waited for by the reader) / bare boto3 paging", fetch / r["boto3_paging_s"]))
                print("  " + C.ratio_line("whole ingest / bare boto3 paging", r["ingest_s"] / r["boto3_paging_s"]))
            if n <= args.inmemory_max:
                o = C.run_child(__file__, ["--child", "analyse", "--mode", "outofcore", "--events", str(n), "--path", r["parquet_path"]])
                m = C.run_child(__file__, ["--child", "analyse", "--mode", "inmemory", "--events", str(n), "--path", r["parquet_path"]])
                r["outofcore_alone"], r["inmemory"] = o, m
                keys = ("requests", "errors_4xx", "latency_rows", "compare_n")
                same = all(m["summary"][k] == o["summary"][k] for k in keys)
                for label, x in (("out-of-core", o), ("in memory  ", m)):
                    print(f"  {label} analyses alone (fresh process): {x['analyse_s']:.1f}s: {_fmt_stages(x['analyse_stages_s'])}  "
                          f"peak RSS {x['rss_peak_mb']:.0f} MiB ({x['rss_peak_added_mb']:+.0f} MiB after imports)")  # fmt: skip
                print(f"  same counts both ways: {same}")
                print("  " + C.ratio_line("in-memory / out-of-core analyses, time", m["analyse_s"] / o["analyse_s"]))
                print("  " + C.ratio_line("in-memory / out-of-core analyses, peak RSS added",
                                          max(1.0, m["rss_peak_added_mb"]) / max(1.0, o["rss_peak_added_mb"])))  # fmt: skip
            results.append(r)
            if args.keep:
                dst = os.path.join(args.keep, f"scale-{n}")
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(os.path.join(work, "evidence"), dst)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    if len(results) >= 2:
        small, big = results[0], results[-1]
        factor = big["events"] / small["events"]
        limit = factor * 1.1
        for key, what in (("total_s", "total wall time"), ("total_cpu_s", "total CPU time"), ("ingest_s", "ingest wall time"),
                          ("ingest_cpu_s", "ingest CPU time"), ("analyse_s", "out-of-core analysis wall time"),
                          ("analyse_cpu_s", "out-of-core analysis CPU time")):  # fmt: skip
            ratio = big[key] / small[key]
            judged = key in ("total_s", "total_cpu_s")
            target = f"<= {limit:.1f}x for {factor:.0f}x the events" if judged else None
            print(C.ratio_line(f"{big['events']:,} / {small['events']:,} events, {what}", ratio, target=target,
                               ok=(ratio <= limit) if judged else None))  # fmt: skip
        print(C.ratio_line(f"{big['events']:,} / {small['events']:,} events, peak RSS", big["rss_peak_mb"] / small["rss_peak_mb"],
                           note=f"({big['rss_peak_mb']:.0f} MiB at {big['events']:,}; target well under 2 GiB: "
                                f"{'OK' if big['rss_peak_mb'] < 2048 else 'MISSED'})"))  # fmt: skip
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
