"""The benchmark scripts still run: each at a tiny size, in a subprocess.

They must exit 0 and print their ratio lines (and the checks they print must hold); no
time is asserted here — speed is measured by the scripts themselves (benchmarks/README.md).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
RATIO = re.compile(r"^\s*ratio: .+ = (\d+(?:\.\d+)?|nan|inf)x", re.M)


def _run(script: str, *args: str, timeout: float = 600) -> str:
    env = {**os.environ, "INCIDENTKIT_PROGRESS": "0", "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), *args], check=False, capture_output=True, text=True, timeout=timeout, env=env, cwd=BENCH.parent
    )
    assert proc.returncode == 0, f"{script} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_common_generator_is_deterministic_and_page_addressable():
    sys.path.insert(0, str(BENCH))
    try:
        import _common as C
    finally:
        sys.path.remove(str(BENCH))
    syn = C.Synthetic(1_000)
    whole = syn.dicts(0, 10)
    assert syn.dicts(5, 10) == whole[5:] and C.Synthetic(1_000).dicts(0, 10) == whole
    assert sum(e["message"].startswith("REPORT RequestId: ") for e in whole) == 2
    ids = re.findall(r'"requestId":"([^"]+)"', whole[3]["message"])
    assert ids and whole[4]["message"].startswith(f"REPORT RequestId: {ids[0]}\t")  # a REPORT line follows its request
    assert len({e["eventId"] for e in syn.dicts(0, 1_000)}) == 1_000


def test_bench_dispatch_smoke():
    out = _run("bench_dispatch.py", "--before", str(BENCH.parent), "--events", "2000", "--rounds", "1", "--alternations", "1")
    assert len(RATIO.findall(out)) == 2 and "(2,000 rows, 0 parse errors)" in out


def test_bench_scale_smoke(tmp_path):
    out = _run("bench_scale.py", "--events", "2000", "20000", "--chunk-events", "5000", "--inmemory-max", "2000",
               "--boto3-max", "2000", "--json", str(tmp_path / "s.json"))  # fmt: skip
    assert len(RATIO.findall(out)) >= 8
    assert "20,000 / 2,000 events, total wall time" in out and "20,000 / 2,000 events, total CPU time" in out and "peak RSS" in out
    assert out.count("same counts both ways: True") == 1  # out-of-core and in-memory analyses agree
    assert "complete=True" in out and "status=403" in out  # the incident's version skew is found


def test_bench_api_smoke(tmp_path):
    out = _run("bench_api.py", "--events", "2000", "--json", str(tmp_path / "a.json"))
    assert "metrics calls made / minimum, worst case of the table = 1.00x  (target 1.00x)  OK" in out
    assert re.search(r"ratio: serial / concurrent, max_workers=4 = ", out)
    assert "insights_latency_split" in out and "insights_error_rates" in out and "complete=True" in out


def test_bench_peer_smoke():
    out = _run("bench_peer.py", "--events", "2000", "--repeat", "1")
    assert RATIO.search(out)
    if "awswrangler unavailable" not in out and "awswrangler: unavailable" not in out:
        assert "same events as incidentkit: True" in out
        assert "awswrangler / incidentkit logs.events (raw fetch, both)" in out


@pytest.mark.slow
def test_bench_run_smoke():
    out = _run("bench_run.py", "--events", "2000", "--repeat", "1")
    assert len(RATIO.findall(out)) == 4 and "time to findings" in out
    assert "papermill overhead" in out and "HTML export" in out and "findings:" in out
    assert "phases of the same run" in out and "bundle copy" in out


def test_bench_ingest_smoke():
    """The parsers engineer's ingestion benchmark (items 1-2), at a tiny size."""
    out = _run("bench_ingest.py", "--events", "2000", "--repeat", "1", "--no-memory")
    assert re.search(r"= \d+(?:\.\d+)?x", out)


def test_bench_report_smoke():
    out = _run("bench_report.py", "--copies", "1", "--repeat", "1")
    assert RATIO.search(out) and "to_html with sanitising / without" in out and "sanitize_notebook alone" in out


def test_bench_signatures_smoke(tmp_path):
    out = _run("bench_signatures.py", "--events", "5000", "--repeat", "1", "--json", str(tmp_path / "g.json"))
    assert re.search(r"ratio: mining the error lines / parsing the window = ", out)
    assert re.search(r"over [\d,]+ error lines -> [1-9]\d* signatures", out)  # the synthetic window's errors are mined


def test_bench_fetch_quota_smoke():
    """Fetch at the quota (issue 17 item 4), at a tiny size: a generous budget, 10 ms a call, the
    metered server both in the fetching process (a botocore hook) and in its own over HTTP."""
    out = _run("bench_fetch_quota.py", "--events", "3000", "--page-events", "500", "--scenarios", "40:0.01", "--server", "both")
    assert len(RATIO.findall(out)) == 6
    for mode in ("in-process", "http"):
        assert re.search(rf"ratio: rows lost, sliced\+paced \(budget 40/s, latency 10 ms, {mode}\) = 0\.00x  \(target 0\)  OK", out)
        assert f"speed-up of sliced+paced over one sequential chain (budget 40/s, latency 10 ms, {mode})" in out
    assert "server out of process, HTTP" in out and "server process" in out  # the HTTP server's counts came back
