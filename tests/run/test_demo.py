"""The offline demo and every template executed against the bundled samples (no AWS, no credentials)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _helpers.findings import reference_findings

from incidentkit.run import demo, runner, templates
from incidentkit import samples

pytestmark = pytest.mark.slow

SERIOUS = ("critical", "high", "medium")


def _expected(name: str) -> str | None:
    cat = samples.catalog().set_index("name")
    fid = cat.loc[name, "finding_id"]
    import pandas as pd

    return None if pd.isna(fid) else str(fid)


@pytest.mark.parametrize("name", samples.names())
def test_the_investigation_of_every_sample_names_its_cause(name: str) -> None:
    """What the demo shows, without a kernel: sample -> bundle -> the calls a template makes -> findings."""
    import incidentkit as ik

    inv = ik.Investigation.sample(name)
    found = inv.findings()
    expected = _expected(name)
    if expected is None:  # a healthy window: nothing serious
        assert not [f for f in found if f.severity in SERIOUS], [(f.id, f.severity) for f in found]
    else:
        assert found.top is not None and found.top.id == expected, [f.id for f in found]
        assert found.top.evidence and found.top.remediation
        # beyond the catalogue: the generic finding's onset (± 3 min), signature and concentration
        assert not samples.misses(name, found.to_dicts()[0]), (samples.misses(name, found.to_dicts()[0]), found.top.summary)
    assert not found.errors, found.errors
    used = set(inv.frames_read)
    assert used == set(inv.bundle.names())


# the triage notebook itself, on one sample of each family (the demo runs them all)
@pytest.mark.parametrize("name", ["cold-start-timeouts", "health-check-flapping", "throttling-without-backoff",
                                  "partial-change-no-rollback", "healthy-alb-service"])
def test_triage_notebook_explains_the_sample(name: str, tmp_path: Path) -> None:
    result = runner.run("triage", {"sample": name}, out=tmp_path, offline=True, run_id=name)
    doc = json.loads(result.findings_json.read_text())
    expected = _expected(name)
    if expected is None:
        assert not [f for f in doc["findings"] if f["severity"] in SERIOUS], doc["findings"]
    else:
        assert doc["findings"] and doc["findings"][0]["id"] == expected, [f["id"] for f in doc["findings"]]
    assert doc["sample"] == name and doc["data_quality"]["frames"] > 0
    assert doc["findings"] == reference_findings(name)  # the notebook concludes what Investigation.findings() does
    html = result.html.read_text()
    # no cell failed: an error output renders as stderr (a log line may well say "Traceback": it is data)
    assert "Findings — the most likely cause first" in html and 'data-mime-type="application/vnd.jupyter.stderr"' not in html
    assert '"output_type": "error"' not in result.notebook.read_text()
    pm = result.postmortem.read_text()
    assert pm.startswith("# Postmortem") and "## Action items" in pm


FOCUSED = [n for n in templates.names() if n not in ("triage", "explore")]


@pytest.mark.parametrize("name", FOCUSED)
def test_each_template_runs_with_its_defaults(name: str, tmp_path: Path) -> None:
    sample = templates.get(name).parameter("sample").default
    result = runner.run(name, {"sample": sample}, out=tmp_path)
    doc = json.loads(result.findings_json.read_text())
    assert doc["template"] == name and doc["findings"], doc
    assert doc["findings"][0]["id"] == _expected(sample)
    assert doc["findings"] == reference_findings(sample)  # what Investigation.findings() concludes
    nb = result.notebook.read_text()
    assert '"output_type": "error"' not in nb


def test_replay_of_a_sample_run_gives_the_same_findings(tmp_path: Path) -> None:
    first = runner.run("errors", {"sample": "version-skew-errors"}, out=tmp_path / "a")
    again = runner.run("errors", {}, out=tmp_path / "b", evidence=first.path, offline=True)
    assert again.result["findings"] == first.result["findings"]
    assert first.result["source"] == again.result["source"] == "sample:version-skew-errors"  # a replayed sample is still one
    assert again.result["window"] == first.result["window"] and again.result["baseline"] == first.result["baseline"]
    # a different template replays the same evidence too
    pm = runner.run("postmortem", {}, out=tmp_path / "c", evidence=first.path / "evidence", offline=True)
    assert [f["id"] for f in pm.result["findings"]] == [f["id"] for f in first.result["findings"]]
    # a window the bundle does not hold is refused before anything runs
    from incidentkit.errors import ParameterError

    with pytest.raises(ParameterError, match="holds the window"):
        runner.run("errors", {"start": "2026-03-10T00:00:00Z", "end": "2026-03-10T01:00:00Z"}, out=tmp_path / "d",
                   evidence=first.path, offline=True)
    assert not (tmp_path / "d").exists()


def test_demo_command_prints_each_report_and_its_top_finding(tmp_path: Path) -> None:
    env = {**os.environ, "INCIDENTKIT_PROGRESS": "0"}
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE"):
        env.pop(k, None)  # the demo needs no credentials
    env["AWS_SHARED_CREDENTIALS_FILE"] = env["AWS_CONFIG_FILE"] = str(tmp_path / "none")
    proc = subprocess.run(
        [sys.executable, "-m", "incidentkit.cli", "demo", "--out", str(tmp_path), "--jobs", "2",
         "--sample", "scan-read-burst", "--sample", "healthy-dynamodb-batch"],
        env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "2/2 investigations found what their sample is known for" in out
    lines = out.splitlines()
    i = next(i for i, line in enumerate(lines) if "scan-read-burst →" in line)
    assert lines[i].split("] ", 1)[1].startswith("ok") and "→ scan-read-burst [HIGH]" in lines[i]
    assert lines[i + 1].strip().endswith("s)") and "scan-read-burst/report.html" in lines[i + 1]
    assert any("healthy-dynamodb-batch → healthy" in line for line in lines)
    [folder] = [p for p in tmp_path.iterdir() if p.name.startswith("demo-")]
    assert (folder / "scan-read-burst" / "report.html").exists() and (folder / "healthy-dynamodb-batch" / "findings.json").exists()
    index = (folder / "index.html").read_text()
    assert 'href="scan-read-burst/report.html"' in index and "2 of 2" in index


def test_demo_verdicts() -> None:
    hit = demo.DemoResult("s", "cold-start-tail", top={"id": "cold-start-tail", "severity": "high", "title": "t"},
                          severities=["high"])
    miss = demo.DemoResult("s", "cold-start-tail", top={"id": "scan-read-burst", "severity": "high", "title": "t"},
                           severities=["high"])
    healthy_ok = demo.DemoResult("h", None, top={"id": "cold-start-tail", "severity": "low", "title": "t"}, severities=["low"])
    healthy_bad = demo.DemoResult("h", None, top={"id": "cold-start-tail", "severity": "medium", "title": "t"},
                                  severities=["medium"])
    failed = demo.DemoResult("s", "cold-start-tail", error="cell 3 raised KeyError")
    assert hit.ok and not miss.ok and healthy_ok.ok and not healthy_bad.ok and not failed.ok
    assert demo.format_line(miss).startswith("FAIL") and "(expected cold-start-tail)" in demo.format_line(miss)
    assert "a serious finding on a healthy window" in demo.format_line(healthy_bad)
    early = demo.DemoResult("slow-code-path", "latency-regression", top={"id": "latency-regression", "severity": "high",
                            "title": "t"}, misses=samples.misses("slow-code-path", {"onset": "2026-09-09T15:50:00Z"}))
    assert not early.ok and "expected 2026-09-09T16:06:35Z" in demo.format_line(early)
    assert "error: cell 3 raised KeyError" in demo.format_line(failed)
    with pytest.raises(Exception, match="no bundled sample 'nope'"):
        demo.run_demo("unused", names=["nope"])
