"""Findings are a pure function of the evidence.

The same investigation gives the same findings — ids, severities, confidences, evidence,
remediation, the checks that could not run — whatever public calls came before
``findings()`` and in whatever order: a person who looks at the requests first must read the
same report as the automation that only asks for the findings. And the CLI, every template
that reports findings and ``Investigation.findings()`` agree on a sample.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _helpers.findings import reference_findings

from incidentkit import Investigation
from incidentkit.errors import IncidentKitError

#: Samples of different families: a Lambda tail with a baseline, version skew behind API
#: Gateway, ALB health checks with settings and health frames, DynamoDB throttling.
SAMPLE_NAMES = ("cold-start-tail", "version-skew-errors", "health-check-flapping", "throttling-without-backoff")


def _explore_views(inv: Investigation) -> None:
    """What explore.ipynb does with the requests before it asks for the findings."""
    requests, baseline = inv.requests(), inv.requests(window="baseline")
    requests.ik.percentiles_excluding("cold_start")
    requests.ik.tail(0.99, by=["cold_start", "route", "app_version"])
    requests.ik.share("app_version")
    requests.ik.compare(baseline, columns=["app_version", "route", "cold_start", "status_class"])


#: Every public call of an Investigation that reads, shows or concludes something, by name.
#: Extend it when Investigation grows one (``OPTIONAL_METHODS`` covers methods other branches add).
CALLS: dict[str, Callable[[Investigation, Path], Any]] = {
    "logs": lambda inv, tmp: inv.logs(),
    "logs(baseline)": lambda inv, tmp: inv.logs(window="baseline"),
    "logs(context)": lambda inv, tmp: inv.logs(window="context"),
    "logs(pattern)": lambda inv, tmp: inv.logs(pattern="ERROR"),
    "logs(limit)": lambda inv, tmp: inv.logs(limit=10),
    "raw_logs": lambda inv, tmp: inv.raw_logs(),
    "requests": lambda inv, tmp: inv.requests(),
    "requests(baseline)": lambda inv, tmp: inv.requests(window="baseline"),
    "metrics": lambda inv, tmp: inv.metrics(),
    "metrics(incident)": lambda inv, tmp: inv.metrics(window="incident"),
    "changes": lambda inv, tmp: inv.changes(),
    "changes(incident)": lambda inv, tmp: inv.changes(window="incident"),
    "health": lambda inv, tmp: inv.health(),
    "collect": lambda inv, tmp: inv.collect(),
    "collect(logs only)": lambda inv, tmp: inv.collect(metrics=False, changes=False, health=False),
    "collect(no logs)": lambda inv, tmp: inv.collect(logs=False),
    "inputs": lambda inv, tmp: inv.inputs(),
    "findings": lambda inv, tmp: inv.findings(),
    "findings(only)": lambda inv, tmp: inv.findings(only=["cold-start-tail"]),
    "data_quality": lambda inv, tmp: inv.data_quality(),
    "parameters": lambda inv, tmp: inv.parameters,
    "repr": lambda inv, tmp: repr(inv),
    "str": lambda inv, tmp: str(inv),
    "html": lambda inv, tmp: inv._repr_html_(),
    "save": lambda inv, tmp: inv.save(tmp / f"saved-{uuid.uuid4().hex[:8]}"),
    "explore views": lambda inv, tmp: _explore_views(inv),
}

#: Methods added by other work (``impact``: the entry-point impact of issue 12); called without
#: arguments when the Investigation has them.
OPTIONAL_METHODS = ("impact",)
for _name in OPTIONAL_METHODS:
    if callable(getattr(Investigation, _name, None)):
        CALLS[_name] = lambda inv, tmp, _name=_name: getattr(inv, _name)()


def _call(name: str, inv: Investigation, tmp: Path) -> None:
    try:
        CALLS[name](inv, tmp)
    except IncidentKitError:
        pass  # a call the evidence cannot answer (a frame the bundle lacks) must not change the findings either


def _fingerprint(findings: Any) -> dict[str, Any]:
    return {"findings": findings.to_dicts(), "errors": dict(findings.errors)}


class _References:
    """Per sample, once: the findings of a fresh investigation asked nothing but its findings, and its saved bundle."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.findings: dict[str, dict[str, Any]] = {}
        self.bundles: dict[str, Path] = {}

    def of(self, sample: str) -> dict[str, Any]:
        if sample not in self.findings:
            inv = Investigation.sample(sample)
            self.findings[sample] = _fingerprint(inv.findings())
            self.bundles[sample] = inv.save(self.root / sample)
            inv.close()
        return self.findings[sample]

    def open(self, sample: str, how: str, tmp: Path) -> Investigation:
        """A fresh investigation of ``sample``: the sample itself, or a copy of its saved bundle reopened offline."""
        if how == "sample":
            return Investigation.sample(sample)
        copy = tmp / "bundle"
        shutil.copytree(self.bundles[sample], copy)
        return Investigation.open(copy)


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> _References:
    return _References(tmp_path_factory.mktemp("purity-references"))


@pytest.mark.slow
@settings(max_examples=16, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(sample=st.sampled_from(SAMPLE_NAMES), how=st.sampled_from(["sample", "open"]),
       calls=st.lists(st.sampled_from(sorted(CALLS)), min_size=1, max_size=6))
def test_findings_do_not_depend_on_what_was_called_before(references: _References, sample: str, how: str,
                                                           calls: list[str]) -> None:
    expected = references.of(sample)
    with tempfile.TemporaryDirectory(prefix="incidentkit-purity-") as tmp_dir, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tmp = Path(tmp_dir)
        inv = references.open(sample, how, tmp)
        try:
            for name in calls:
                _call(name, inv, tmp)
                if name == "findings":  # asked in the middle: already the same
                    assert _fingerprint(inv.findings()) == expected, (sample, how, calls)
            assert _fingerprint(inv.findings()) == expected, (sample, how, calls)
            assert _fingerprint(inv.findings()) == expected  # and again, from what it kept
        finally:
            inv.close()


def test_a_definition_change_is_seen_and_the_evidence_is_read_once() -> None:
    """The findings are kept until the resources change; the evidence is read once, not per call."""
    inv = Investigation.sample("cold-start-tail")
    first = inv.findings()
    read = list(inv.frames_read)
    assert inv.findings() is first and inv.inputs().logs is inv.inputs().logs
    assert inv.frames_read == read  # nothing new was read to answer again
    inv.resources["function_name"] = "another-function"  # a different investigation now
    with pytest.raises(IncidentKitError, match="has no metrics frame"):
        inv.findings()  # its metrics are not in the sample's bundle: said, not silently the old ones
    assert inv._findings is None


def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int | None]]:
    """Logs, metrics and changes fetchers that count their calls (40 REPORT lines a log group)."""
    import pandas as pd

    from incidentkit.fetch import changes as changes_mod
    from incidentkit.fetch import logs as logs_mod
    from incidentkit.fetch import metrics as metrics_mod
    from incidentkit import schema

    calls: list[tuple[str, int | None]] = []

    def events(groups, window, *, pattern=None, limit=None, **kw):
        calls.append((",".join(groups), limit))
        n = 40 if limit is None else min(limit, 40)
        ts = [window.start + pd.Timedelta(seconds=30 * i) for i in range(n)]
        df = pd.DataFrame({
            "timestamp": pd.to_datetime(ts, utc=True), "ingestion_time": pd.to_datetime(ts, utc=True),
            "log_group": groups[0], "log_stream": "s", "event_id": [str(i) for i in range(n)],
            "message": [f"REPORT RequestId: r{i} Duration: {100 + i}.0 ms Billed Duration: {101 + i} ms Memory Size: 512 MB "
                        f"Max Memory Used: 80 MB" + (" Init Duration: 900.0 ms" if i % 10 == 0 else "") for i in range(n)],
        })
        df.attrs = schema.provenance("logs.events", window=window, api_calls=1, truncated=limit is not None and limit < 40)
        return df

    def empty(kind: str):
        def fetch(*a, window=None, **kw):
            df = schema.empty_frame(kind)
            df.attrs = schema.provenance(f"{kind}.fake", api_calls=1)
            return df
        return fetch

    monkeypatch.setattr(logs_mod, "events", events)
    monkeypatch.setattr(metrics_mod, "get", lambda qs, win, **kw: empty("metrics")())
    monkeypatch.setattr(changes_mod, "timeline", lambda win, **kw: empty("changes")())
    return calls


def test_live_a_frame_fetched_for_another_purpose_is_never_an_input(tmp_path: Path, monkeypatch) -> None:
    """Live, a limited read of the investigation's own log group, or another log group read by hand,
    is recorded but never stands in for the investigation's evidence."""
    calls = _fake_aws(monkeypatch)
    kw = dict(baseline="previous", resources={"log_groups": ["/aws/lambda/api"]})
    fresh = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", evidence=tmp_path / "fresh", **kw)
    expected = _fingerprint(fresh.findings())
    assert len(fresh.inputs().logs) == 40
    inv = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", evidence=tmp_path / "ev", **kw)
    assert len(inv.logs(limit=5)) == 5
    assert len(inv.inputs().logs) == 40 and _fingerprint(inv.findings()) == expected
    assert calls.count(("/aws/lambda/api", 5)) == 1 and calls.count(("/aws/lambda/api", None)) == 4  # 2 windows × 2 runs
    # an investigation without log groups: a log group read by hand is looked at, not concluded from
    bare = Investigation("2026-03-01T03:00Z", "2026-03-01T04:00Z", evidence=tmp_path / "bare")
    assert len(bare.logs("/aws/lambda/api")) == 40
    assert bare.inputs().logs is None and any("no log groups given" in i for i in bare.issues)


def test_findings_json_and_the_investigation_agree(tmp_path: Path) -> None:
    """What findings.json holds equals Investigation.findings() on the same sample (masked, as written)."""
    from incidentkit.masking import mask_obj
    from incidentkit.render.report import findings_document, publish

    inv = Investigation.sample("cold-start-tail")
    published = publish(inv, show=False)
    doc = findings_document(template="triage", published=published, parameters={"sample": "cold-start-tail"})
    fresh = Investigation.sample("cold-start-tail").findings().to_dicts()
    assert doc["findings"] == mask_obj(json.loads(json.dumps(fresh, default=str)))


def _cell_output(notebook: Path, source_has: str, mime: str) -> str:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        src = "".join(cell.get("source", ""))
        if cell["cell_type"] == "code" and source_has in src and "LIVE" not in src:
            for out in cell.get("outputs", []):
                value = (out.get("data") or {}).get(mime)
                if value is not None:
                    return "".join(value) if isinstance(value, list) else value
    raise AssertionError(f"no {mime} output of a cell with {source_has!r} in {notebook}")


@pytest.mark.slow
def test_the_cli_the_templates_and_the_investigation_agree_on_a_sample(tmp_path: Path) -> None:
    """``incidentkit run triage``, the latency template, explore.ipynb (the tour people follow in
    JupyterLab) and ``Investigation.findings()`` give the same findings on one sample."""
    from click.testing import CliRunner

    from incidentkit import cli
    from incidentkit.run import runner
    from incidentkit.masking import mask_text

    sample = "cold-start-tail"
    expected = reference_findings(sample)
    assert expected and expected[0]["id"] == sample
    res = CliRunner().invoke(cli.cli, ["run", "triage", "-p", f"sample={sample}", "--out", str(tmp_path / "cli")],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    folder = Path(res.stdout.splitlines()[0])
    doc = json.loads((folder / "findings.json").read_text())
    assert doc["findings"] == expected
    # a sample run says so everywhere a reader looks: findings.json, the CLI, the postmortem, the report title
    assert doc["source"] == f"sample:{sample}" and doc["parameters"]["offline"] is True
    assert f"source: sample:{sample}" in res.stdout and f"on the bundled sample {sample}" in res.stderr
    assert (folder / "postmortem.md").read_text().splitlines()[0].endswith(f"bundled sample `{sample}` (offline)")
    html = (folder / "report.html").read_text()
    assert f"<title>incidentkit triage — bundled sample {sample} (offline)</title>" in html
    assert f">Incident triage — bundled sample <code>{sample}</code> (offline)<" in html
    latency = runner.run("latency", {"sample": sample}, out=tmp_path / "latency")
    assert latency.result["findings"] == expected
    # explore publishes nothing: its findings cell shows them; the same display of the same findings
    explore = runner.run("explore", {"sample": sample}, out=tmp_path / "explore")
    inv = Investigation.sample(sample)
    shown = _cell_output(explore.notebook, "inv.findings()", "text/html")
    assert shown == mask_text(inv.findings()._repr_html_())
