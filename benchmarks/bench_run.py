"""A run, end to end (issue 5, item 7): ``incidentkit run triage`` over N events, with a breakdown.

1. **record** (the fetch): an :class:`incidentkit.Investigation` over a 1-hour window
   (baseline: the first 45 minutes, incident: the last 15) with
   ``log_groups=[/aws/lambda/orders-api]`` fetches the logs of both windows through
   ``logs.events`` from a ``before-send`` FilterLogEvents server (``_common.FakeLogsServer``,
   ``--events`` events in the hour) and records them into an evidence bundle; an empty
   change timeline (no AWS to read it from) is recorded with its provenance saying so.
2. **run**: ``incidentkit run triage --evidence BUNDLE --offline --out OUT`` in a
   subprocess, timed as a whole (what a user waits for).
3. **breakdown**, the steps of the notebook's first cell measured one after the other in
   this process on the same bundle: replay (Parquet read + sha256), parse
   (``parsers.parse``), requests (``parsers.requests``), detectors (``inv.findings()``),
   the notebook's cells (papermill's per-cell durations in the executed ``report.ipynb``),
   the HTML export (``report.to_html`` of the executed notebook), and papermill's own
   overhead: an empty notebook (a parameters cell and one trivial cell) executed with the
   same kernel manager the runner uses (kernel start + cell dispatch + notebook I/O).
4. **phases** (issue 17, item 5): the same run once more in this process, each phase of
   ``runner.run`` timed by wrapping it: bundle copy (re-masked), papermill (kernel start +
   the cells; the cells' own durations from the executed notebook), findings document,
   report.ipynb / report.html / postmortem.md / findings.json writes.

The issue-17 target is printed as ``time to findings``: the run's wall time against
papermill's overhead on an empty notebook plus ``parsers.parse`` of the same events,
both measured in this invocation (<= 3x).

Usage::

    python benchmarks/bench_run.py --events 1000000
    python benchmarks/bench_run.py --events 2000            # smoke size
    python benchmarks/bench_run.py --events 1000000 --keep /tmp/b   # then reuse it:
    python benchmarks/bench_run.py --bundle /tmp/b/evidence
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C  # noqa: E402

GROUP = "/aws/lambda/orders-api"


def record_bundle(n: int, folder: Path) -> dict[str, Any]:
    """Fetch both windows through the kit into an evidence bundle (what a live run records)."""
    import pandas as pd

    from incidentkit import schema
    from incidentkit.evidence import frame_key
    from incidentkit.investigation import Investigation

    syn = C.Synthetic(n)
    server = C.FakeLogsServer({GROUP: syn})
    start = pd.Timestamp(syn.start_ms, unit="ms", tz="UTC")
    cut = pd.Timestamp(syn.incident_start_ms, unit="ms", tz="UTC")
    end = pd.Timestamp(syn.end_ms, unit="ms", tz="UTC")
    t = time.perf_counter()
    inv = Investigation(cut, end, baseline=(start, cut), evidence=folder, resources={"log_groups": [GROUP]},
                        session=server.session(), region="us-east-1")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inc = inv.raw_logs(window="incident")
        base = inv.raw_logs(window="baseline")
    changes = schema.empty_frame("changes")
    changes.attrs = schema.provenance(
        "changes.timeline", query={"benchmark": "no AWS account: an empty change timeline"}, window=inv.context,
        region="us-east-1", api_calls=0, complete=True, rows=0,
    )  # fmt: skip
    inv.bundle.record(frame_key("changes", benchmark=True, start=str(inv.context.start), end=str(inv.context.end)), changes, kind="changes")
    elapsed = time.perf_counter() - t
    return {
        "events": len(inc) + len(base), "incident_events": len(inc), "baseline_events": len(base),
        "api_calls": inc.attrs["api_calls"] + base.attrs["api_calls"], "record_s": elapsed, "server_s": server.server_s,
        "bundle_mib": sum(f.stat().st_size for f in Path(folder).iterdir()) / 2**20,
    }  # fmt: skip


def breakdown(folder: Path) -> dict[str, float]:
    """The steps of the notebook's first cell, each timed once, in order, on one Investigation
    (each step reuses what the previous one cached, as in the notebook)."""
    from incidentkit.investigation import Investigation

    t: dict[str, float] = {}
    windows = ("incident", "baseline")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with C.timed(t, "open the bundle"):
            inv = Investigation.open(folder)
        with C.timed(t, "replay (Parquet read + sha256 of the log frames)"):
            for w in windows:
                inv.raw_logs(window=w)
        with C.timed(t, "parse (parsers.parse)"):
            for w in windows:
                inv.logs(window=w)
        with C.timed(t, "requests (parsers.requests: one row per request id)"):
            for w in windows:
                inv.requests(window=w)
        with C.timed(t, "the rest of collect (changes, metrics: empty here)"):
            inv.collect()
        with C.timed(t, "detectors (inv.findings)"):
            found = inv.findings()
    t["_findings"] = float(len(found))
    return t


def papermill_overhead(workdir: Path, repeat: int) -> float:
    """Best wall time of an empty notebook through papermill, with the runner's kernel manager."""
    import nbformat
    import papermill

    from incidentkit.run import runner

    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("x = 1")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("y = x + 1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    src = workdir / "empty.ipynb"
    nbformat.write(nb, src)
    best = float("inf")
    for k in range(repeat):
        t = time.perf_counter()
        papermill.execute_notebook(
            str(src), str(workdir / f"empty-out-{k}.ipynb"), parameters={"x": 2}, progress_bar=False, log_output=False,
            kernel_manager_class=runner.kernel_manager_class(), request_save_on_cell_execute=False,
        )  # fmt: skip
        best = min(best, time.perf_counter() - t)
    return best


def cell_times(notebook: Path) -> list[tuple[int, str, float]]:
    """(index, first line, seconds) of every code cell, from papermill's cell metadata."""
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        d = (cell.metadata.get("papermill") or {}).get("duration")
        first = next((ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")), "")[:70]
        out.append((i, first, float(d) if d is not None else float("nan")))
    return out


def phases(bundle: Path, out: Path) -> dict[str, float]:
    """``runner.run`` of triage on ``bundle`` in this process, each phase timed by wrapping the
    function that does it (the kernel runs the cells in its own process)."""
    from incidentkit.run import notebook, runner  # the run's steps, looked up in run/notebook.py where it calls them

    t: dict[str, float] = {}
    doc = "findings document (read_results + findings_document)"
    wrapped = [(notebook, "copy_bundle", "bundle copy (sha256 check + masking + Parquet write)"),
               (notebook, "read_results", doc), (notebook, "findings_document", doc),
               (notebook, "write_notebook", "write report.ipynb"), (notebook, "write_html", "HTML export + write report.html"),
               (notebook, "write_postmortem", "write postmortem.md"), (notebook, "write_json", "write findings.json")]  # fmt: skip
    import papermill

    wrapped.append((papermill, "execute_notebook", "papermill (kernel start + cells + masked saves)"))
    saved = [(mod, name, getattr(mod, name)) for mod, name, _ in wrapped]

    def timer(fn: Any, key: str) -> Any:
        def call(*a: Any, **k: Any) -> Any:
            with C.timed(t, key):
                return fn(*a, **k)

        return call

    try:
        for mod, name, key in wrapped:
            setattr(mod, name, timer(getattr(mod, name), key))
        with C.timed(t, "whole run (in process)"):
            result = runner.run("triage", {}, out=out, evidence=bundle, offline=True, progress=False)
    finally:
        for mod, name, fn in saved:
            setattr(mod, name, fn)
    cells = cell_times(result.notebook)
    t["  cells (papermill durations)"] = sum(d for _, _, d in cells if not math.isnan(d))
    t["  kernel start, dispatch and masked saves"] = t["papermill (kernel start + cells + masked saves)"] - t["  cells (papermill durations)"]
    return t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2, help="rounds of the empty papermill notebook")
    ap.add_argument("--keep", help="keep the bundle and the run folder here")
    ap.add_argument("--bundle", help="an evidence bundle recorded by an earlier --keep run (skips the recording)")
    ap.add_argument("--no-phases", action="store_true", help="skip the in-process run timed phase by phase")
    ap.add_argument("--json", help="also write the results to this file")
    args = ap.parse_args(argv)
    C.quiet_aws_env()
    print(C.environment_line())
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ik-run-"))
    work.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {}
    try:
        if args.bundle:
            evidence = Path(args.bundle)
            rec = {"events": float("nan"), "record_s": float("nan"), "server_s": float("nan")}
            print(f"bundle {evidence} (recorded earlier)")
        else:
            evidence = work / "evidence"
            rec = record_bundle(args.events, evidence)
            print(f"recorded {rec['events']:,} events (incident {rec['incident_events']:,}, baseline {rec['baseline_events']:,}) "
                  f"with {rec['api_calls']:,} FilterLogEvents calls in {rec['record_s']:.1f}s -> bundle {rec['bundle_mib']:.0f} MiB")  # fmt: skip
        result["record"] = rec

        out = work / "runs"
        cmd = [sys.executable, "-m", "incidentkit.cli", "run", "triage", "--evidence", str(evidence), "--offline", "--out", str(out)]
        exe = shutil.which("incidentkit", path=os.path.dirname(sys.executable))
        if exe:
            cmd = [exe, *cmd[3:]]
        t = time.perf_counter()
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env={**os.environ, "INCIDENTKIT_PROGRESS": "0"})
        run_s = time.perf_counter() - t
        if proc.returncode != 0:
            print(f"incidentkit run failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}")
            result["run_error"] = proc.stderr.strip()[-2000:]
            return 1
        run_dir = Path(proc.stdout.strip().splitlines()[0])
        findings = json.loads((run_dir / "findings.json").read_text())
        print(f"\n$ {' '.join(cmd[:1] + ['run', 'triage', '--evidence', 'BUNDLE', '--offline', '--out', 'OUT'])}")
        print(f"  {run_s:.1f}s wall; findings: {[f['id'] for f in findings['findings']]}")
        result["run_s"] = run_s
        result["findings"] = [f["id"] for f in findings["findings"]]

        cells = cell_times(run_dir / "report.ipynb")
        nb_s = sum(d for _, _, d in cells if not math.isnan(d))
        print(f"  notebook cells (papermill durations, {len(cells)} code cells): {nb_s:.1f}s; the slowest:")
        for i, first, d in sorted(cells, key=lambda c: 0 if math.isnan(c[2]) else -c[2])[:6]:
            print(f"    cell {i:>2} {d:6.1f}s  {first}")
        result["cells"] = cells

        import nbformat

        from incidentkit.render import report

        nb = nbformat.read(str(run_dir / "report.ipynb"), as_version=4)
        t = time.perf_counter()
        report.to_html(nb)
        html_s = time.perf_counter() - t
        pm_s = papermill_overhead(work, args.repeat)
        parts = breakdown(evidence)
        rest = run_s - nb_s - pm_s - html_s
        print("\nbreakdown (seconds):")
        print(f"  fetch (record the bundle through logs.events, synthetic server {rec['server_s']:.1f}s of it): {rec['record_s']:.1f}")
        for k, v in parts.items():
            if not k.startswith("_"):
                print(f"  {k}: {v:.1f}")
        print(f"  notebook execution (all cells): {nb_s:.1f}")
        print(f"  HTML export (report.to_html of the executed notebook): {html_s:.1f}")
        print(f"  papermill overhead (empty notebook: kernel start + dispatch, best of {args.repeat}): {pm_s:.1f}")
        print(f"  the rest of the run (CLI start, parameter checks, bundle copy + sha256, findings/postmortem/HTML writes): {rest:.1f}")
        result.update(html_s=html_s, papermill_overhead_s=pm_s, notebook_s=nb_s, parts=parts, rest_s=rest)
        parse_s = parts["parse (parsers.parse)"]
        print(C.ratio_line("time to findings: run wall time / (papermill's overhead + parsers.parse of the same events)",
                           run_s / (pm_s + parse_s), target="<= 3x", ok=run_s / (pm_s + parse_s) <= 3))  # fmt: skip
        print(C.ratio_line("run wall time / papermill's own overhead", run_s / pm_s))
        print(C.ratio_line("run wall time / notebook cells", run_s / nb_s if nb_s else float("nan")))
        print(C.ratio_line("run wall time / fetch (record) time", run_s / rec["record_s"]))
        if not args.no_phases:
            ph = phases(evidence, work / "runs-phases")
            print("\nphases of the same run, in this process (seconds):")
            for k, v in ph.items():
                print(f"  {k}: {v:.1f}")
            result["phases"] = ph
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(result, fh, indent=2, default=str)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
