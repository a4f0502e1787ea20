"""Report helpers: published results, findings.json, postmortem facts and Markdown, masked files."""

from __future__ import annotations

import base64
import json
import re
import stat
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from incidentkit.render import postmortem, report
from incidentkit.evidence import EvidenceBundle
from incidentkit.findings import Finding, FindingList
from incidentkit.window import Window

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlX3h5enV2dw"
AKID = "AKIAIOSFODNN7EXAMPLE"

W = Window.parse("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z")


def finding(fid: str = "version-skew-errors", severity: str = "high", **kw) -> Finding:
    base = dict(id=fid, title=f"{fid} title", severity=severity, summary=f"{fid} summary",
                evidence={"errors": 1234, "share": 0.4321}, remediation=[f"fix {fid}", "Alarm on the P99"])
    base.update(kw)
    return Finding(**base)


def test_publish_attaches_results_the_runner_reads_back() -> None:
    pub = report.publish(findings=FindingList([finding()], errors={"x": "boom"}), window=W,
                         parameters={"token": f"Bearer {JWT}"}, show=False)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={report.MIME: pub, "text/plain": "pm"})]
    nb.cells = [cell, nbformat.v4.new_code_cell("y")]
    got = report.extract(json.loads(nbformat.writes(nb)))
    assert got["window"] == W.to_dict() and got["findings"][0]["id"] == "version-skew-errors"
    assert got["detector_errors"] == {"x": "boom"}
    assert JWT not in json.dumps(got)  # masked before it is even displayed
    assert report.extract({"cells": []}) is None


def test_findings_document_has_the_design_shape(tmp_path: Path) -> None:
    bundle = EvidenceBundle(tmp_path / "ev")
    df = pd.DataFrame({"message": ["a", "b"]})
    df.attrs = {"source": "logs.events", "api_calls": 3, "retries": 1, "complete": False, "truncated": True,
                "issues": ["limit of 2 reached"]}
    bundle.record("logs-x", df, kind="logs")
    pub = {"window": W.to_dict(), "baseline": None, "findings": [finding().to_dict()], "detector_errors": {}, "issues": []}
    doc = report.findings_document(template="triage", published=pub, parameters={"log_groups": ["/a"], "region": None},
                                   bundle=bundle)
    assert set(doc) >= {"template", "window", "baseline", "parameters", "findings", "data_quality"}
    assert doc["parameters"] == {"log_groups": ["/a"]}
    f = doc["findings"][0]
    assert set(f) >= {"id", "title", "severity", "summary", "evidence", "remediation"}
    assert f["severity"] in ("critical", "high", "medium", "low", "info")
    dq = doc["data_quality"]
    assert dq["complete"] is False and dq["truncated_frames"] == ["logs-x"] and dq["incomplete_frames"] == ["logs-x"]
    assert dq["api_calls"] == 3 and dq["retries"] == 1 and dq["rows"] == 2
    assert any("limit of 2 reached" in i for i in dq["issues"])
    # a template that published nothing says so instead of claiming "no finding"
    empty = report.findings_document(template="t", published=None, parameters={"start": W.to_dict()["start"], "end": W.to_dict()["end"]})
    assert empty["findings"] == [] and empty["window"] == W.to_dict()
    assert any("published no results" in i for i in empty["data_quality"]["issues"])


def test_mask_notebook_masks_text_but_not_images() -> None:
    png = base64.b64encode(b"\x89PNG" + bytes(range(256)) * 20).decode()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(f'token = "{AKID}"')
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"key {AKID}\n"),
        nbformat.v4.new_output("display_data", data={"text/html": f"<b>{JWT}</b>",
                                                      "application/json": {"auth": f"Bearer {JWT}"}}),
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("error", ename="RuntimeError", evalue=f"password=hunter22 {AKID}", traceback=[f"x {JWT}"]),
    ]
    nb.cells = [cell]
    masked = report.mask_notebook(nb)
    text = nbformat.writes(masked)
    assert AKID not in text and JWT not in text and "hunter22" not in text
    assert masked.cells[0].outputs[2]["data"]["image/png"] == png
    html = report.to_html(masked)
    assert png[:200] in html and AKID not in html and JWT not in html


def test_html_hides_parameter_cells_and_optionally_all_code() -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("defaults_marker = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("injected_marker = 2", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("setup_marker = 3", metadata={"tags": ["hide-input"]}),
        nbformat.v4.new_code_cell("analysis_marker = 4"),
    ]
    nb.cells[3].outputs = [nbformat.v4.new_output("stream", name="stdout", text="setup output\n")]
    html = report.to_html(nb)
    assert "defaults_marker" not in html and "injected_marker" not in html and "setup_marker" not in html
    assert "setup output" in html and "analysis_marker" in html
    hidden = report.to_html(nb, hide_code=True)
    assert "analysis_marker" not in hidden and "setup output" in hidden and "Title" in hidden


def test_a_plot_in_the_report_has_its_title_as_alternative_text_escaped_and_masked(caplog: pytest.LogCaptureFixture) -> None:
    from incidentkit.render.plot_figure import finish, new_figure

    fig, axes = new_figure(1)
    finish(fig, axes, 'Errors in "><img src=x onerror=alert(1)> token=abcdef1234567890abcdef')
    png, metadata = fig._repr_png_()
    assert metadata == {"alt": 'Plot: Errors in "><img src=x onerror=alert(1)> token=abcdef1234567890abcdef'}
    image = {"image/png": base64.b64encode(png).decode(), "text/plain": "<IncidentFigure>"}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("plot", outputs=[
        nbformat.v4.new_output("display_data", data=image, metadata={"image/png": metadata}),
        nbformat.v4.new_output("display_data", data=image),  # a PNG from elsewhere, without alt text
    ])])
    with caplog.at_level("WARNING"):
        html = report.to_html(nb)
    alts = re.findall(r"<img alt=(['\"])(.*?)\1", html)
    assert [a for _, a in alts] == ["Plot: Errors in \"&gt;&lt;img src=x onerror=alert(1)&gt; token=[masked:secret]",
                                    "No description has been provided for this image"]
    assert html.count("<img") == 2 and "abcdef1234567890abcdef" not in html
    assert [r.getMessage() for r in caplog.records] == ["Alternative text is missing on 1 image(s)."]  # only the foreign one


def test_written_files_are_masked_and_private(tmp_path: Path) -> None:
    report.write_json({"k": f"{AKID}"}, tmp_path / "a.json")
    report.write_text(tmp_path / "b.md", f"Authorization: Bearer {JWT}")
    for name in ("a.json", "b.md"):
        f = tmp_path / name
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
        assert AKID not in f.read_text() and JWT not in f.read_text()


# -- postmortem ---------------------------------------------------------------------------------


def requests_frame() -> pd.DataFrame:
    t = pd.date_range("2026-03-01T03:00Z", periods=10, freq="5min")
    return pd.DataFrame({
        "timestamp": t,
        "status": pd.array([200, 200, 403, 403, 403, 200, 500, None, 200, 200], dtype="Int64"),
        "timed_out": pd.array([False] * 7 + [True, False, None], dtype="boolean"),
        "client_ip": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "3.3.3.3", "4.4.4.4", "5.5.5.5", "6.6.6.6", "7.7.7.7", "1.1.1.1", "2.2.2.2"],
        "app_version": ["2.0", "2.0", "1.9", "1.9", "1.9", "2.0", "2.0", None, "2.0", "2.0"],
        "latency_ms": [100.0, 120.0, 30.0, 35.0, 40.0, 110.0, 900.0, 29000.0, 105.0, 98.0],
    })


def test_impact_counts_requests_failures_clients_and_versions() -> None:
    base = requests_frame().assign(status=pd.array([200] * 10, dtype="Int64"), timed_out=False)
    imp = postmortem.impact(requests_frame(), base, window=W, latency_slo_ms=1000)
    assert imp["requests"] == 10 and imp["failed"] == imp["failed_requests"] == 5
    assert imp["failed_4xx"] == 3 and imp["failed_5xx"] == 2 and imp["timed_out"] == 1
    assert imp["error_rate"] == 0.5 and imp["baseline_error_rate"] == 0.0 and imp["excess_failed"] == 5
    assert imp["clients"] == 7 and imp["clients_affected"] == imp["failed_clients"] == 4
    assert imp["slow_requests"] == 1 and imp["slow_clients"] == 1 and imp["slow_rule"] == "slo"
    by = {v["version"]: v for v in imp["by_version"]}
    assert by["1.9"]["failed"] == 3 and by["1.9"]["error_rate"] == 1.0 and by["1.9"]["clients_affected"] == 2
    assert by["(unknown)"]["failed"] == 1
    assert imp["counted"] == "10 requests at the access log entry point"
    # 10 requests in an hour make one bin (about 20 requests a bin): 5 of 10 bad against 1 of 10 in the baseline
    assert imp["onset"] == imp["peak"] == "2026-03-01T03:00:00Z" and imp["recovered"] is None
    assert imp["duration_s"] == 3600 and imp["duration_min"] == 60 and imp["ongoing"] is True
    assert postmortem.impact(None)["note"].startswith("no request-level logs")


@pytest.mark.parametrize(
    "actor, expected",
    [
        ("arn:aws:sts::123456789012:assumed-role/deploy-pipeline/build-4711", "role deploy-pipeline"),
        ("arn:aws:iam::123456789012:user/alice", "an IAM user"),
        ("alice@example.com", "a person (name withheld)"),
        ("bob", "a person (name withheld)"),
        ("arn:aws:iam::123456789012:root", "the account root user"),
        ("codedeploy.amazonaws.com", "codedeploy.amazonaws.com"),
        (None, "unknown principal"),
    ],
)
def test_postmortems_are_blameless(actor, expected) -> None:
    assert postmortem.blameless_actor(actor) == expected


def test_timeline_orders_changes_onset_detection_and_mitigation() -> None:
    changes = pd.DataFrame({
        "timestamp": pd.to_datetime(["2026-03-01T02:55:00Z", "2026-03-01T03:20:00Z", "2026-03-01T02:00:00Z"], utc=True),
        "source": "cloudtrail", "event_name": ["UpdateFunctionCode", "AuthorizeSecurityGroupIngress", "DescribeThing"],
        "class": ["DEPLOYMENT", "SECURITY_CHANGE", "OTHER"],
        "actor": ["arn:aws:iam::1:user/carol", "arn:aws:sts::1:assumed-role/ops/x", None],
        "resource": ["api", "sg-1", None], "error_code": [None, "Client.InvalidPermission.Duplicate", None], "detail": None,
    })
    items = postmortem.timeline(changes, [], window=W, onset="2026-03-01T03:01:00Z",
                                detection=(pd.Timestamp("2026-03-01T03:05:00Z"), "alarm api-5xx goes to ALARM"),
                                recovery="2026-03-01T03:40:00Z")
    kinds = [i["kind"] for i in items]
    assert kinds == ["change", "window", "onset", "detection", "change", "mitigation", "window"]
    assert "carol" not in json.dumps(items) and "an IAM user" in items[0]["text"]
    assert "FAILED (Client.InvalidPermission.Duplicate)" in items[4]["text"]
    assert not any("DescribeThing" in i["text"] for i in items)  # OTHER is noise in a postmortem


def test_action_items_come_from_remediations_by_severity_without_repeats() -> None:
    acts = postmortem.actions([finding("cold-start-tail", "low").to_dict(), finding("version-skew-errors", "critical").to_dict()])
    assert [a["priority"] for a in acts] == ["P1", "P1", "P3"]
    assert [a["action"] for a in acts].count("Alarm on the P99") == 1
    assert acts[0]["finding"] == "version-skew-errors"


def test_postmortem_markdown_has_every_section() -> None:
    f1, f2 = finding("version-skew-errors", "critical"), finding("cold-start-tail", "low")
    pm = {
        "title": f1.title, "summary": f1.summary,
        "impact": postmortem.impact(requests_frame(), window=W),
        "timeline": [{"time": "2026-03-01T03:10:00Z", "kind": "onset", "text": "the signal departs"}],
        "root_cause": f1.to_dict(), "contributing": [f2.to_dict()], "actions": postmortem.actions([f1.to_dict(), f2.to_dict()]),
        "evidence": [{"frame": "logs-a", "file": "evidence/logs-a.parquet", "rows": 10, "sha256": "abc", "complete": True}],
    }
    md = postmortem.markdown({"window": W.to_dict(), "findings": [f1.to_dict(), f2.to_dict()], "postmortem": pm})
    for heading in ("# Postmortem: version-skew-errors title", "## Summary", "## Impact", "## Timeline (UTC)",
                    "## Trigger and root cause", "## Contributing factors", "## Five whys", "## Resolution",
                    "## Action items", "## Lessons learned ✍", "### What went well ✍", "### What went badly ✍", "## Evidence"):
        assert heading in md
    assert "Blameless" in md and "| P1 | fix version-skew-errors | `version-skew-errors` | | |" in md
    assert "[logs-a](evidence/logs-a.parquet)" in md and "report.html#finding-version-skew-errors" in md
    assert "| Requests | **10** |" in md and "| `1.9` | 3 | 3 | 100% | 2 |" in md
    assert "no alarm went to ALARM" in md  # detection the evidence cannot show is asked for, not invented
    shifted = report.postmortem_markdown({"window": W.to_dict(), "findings": [], "postmortem": pm}, level=2)
    assert shifted.startswith("## Postmortem") and "\n### Summary" in shifted


def test_the_summary_says_where_the_duration_is_counted_from_when_the_onsets_differ() -> None:
    imp = {"requests": 1511, "failed_requests": 436, "failed_share": 0.289, "slow_requests": 13,
           "onset": "2026-03-10T02:46:00Z", "bin_s": 120, "duration_s": 4440}
    top = finding("version-skew-errors", "critical").to_dict() | {"onset": "2026-03-10T02:47:14Z"}
    doc = {"window": W.to_dict(), "findings": [top], "impact": imp}  # findings.json's top-level impact
    summary = postmortem.markdown(doc).split("## Summary")[1].split("##")[0]
    assert ("from 2026-03-10 02:47:14 UTC, for 74 min counted from its 2 min bin at 2026-03-10 02:46:00 UTC "
            "(not recovered when the investigated window ends)") in summary
    same = postmortem.markdown(doc | {"findings": [top | {"onset": imp["onset"]}]}).split("## Summary")[1].split("##")[0]
    assert "from 2026-03-10 02:46:00 UTC, for 74 min (not recovered" in same


def test_postmortem_of_a_sample_investigation() -> None:
    import incidentkit as ik

    inv = ik.Investigation.sample("version-skew-errors")
    found = inv.findings()
    pm = postmortem.build(inv, found)
    assert pm["root_cause"]["id"] == "version-skew-errors"
    assert pm["impact"]["requests"] > 0 and pm["impact"]["by_version"]
    assert any(i["kind"] == "change" for i in pm["timeline"])
    assert {e["frame"] for e in pm["evidence"]} == set(inv.bundle.names())
    md = postmortem.markdown({"window": inv.window.to_dict(), "findings": found.to_dicts(), "postmortem": pm})
    assert "## Action items" in md and "| P1 |" in md


def test_prose_about_tokens_stays_readable_in_findings() -> None:
    from incidentkit.masking import mask_text

    text = "Restore the previous token validation path alongside the new one"
    assert mask_text(text) == text  # a remediation must stay readable
    assert "0123456789" not in mask_text("Authorization: Token abcdef0123456789")
    assert "[masked:token]" in mask_text("token Zm9vYmFyYmF6cXV4cXV1eA")


def test_postmortem_text_never_names_a_person() -> None:
    f = finding(summary="Errors start at the change by arn:aws:iam::123456789012:user/alice at 02:47 UTC.",
                evidence={"change_actor": "arn:aws:iam::123456789012:user/alice"})
    md = postmortem.markdown({"window": W.to_dict(), "findings": [f.to_dict()], "postmortem": {}})
    assert "alice" not in md and "by an IAM user at 02:47" in md
    role = postmortem.blameless_text("by arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions.")
    assert role == "by role deploy."


# -- finding cards: values, folded evidence, code spans ---------------------------------------


@pytest.mark.parametrize(
    "name, value, expected",
    [
        # parts of a whole, between 0 and 1: percentages
        ("cold_share_overall", 0.064, "6.4%"),
        ("cold_share_of_tail", 1.0, "100%"),
        ("share_of_read_throttles", 0.5, "50%"),
        ("failed_share_of_tail", 0.0, "0%"),
        ("error_rate", 0.7188, "71.9%"),
        ("apigw_5xx_rate", 0.0702, "7%"),
        ("error_rate_near_deploys", 0.0119, "1.2%"),
        ("Timeout_Fraction", 0.25, "25%"),
        ("share_requests_502", 0.0005, "< 0.1%"),
        ("top_status_share", 0.99996, "> 99.9%"),
        # not parts of a whole, or not in 0..1: numbers
        ("lift", 0.75, "0.75"),
        ("p99_ratio", 0.5, "0.5"),
        ("peak_utilisation", 0.6462, "0.646"),
        ("quiet_rate_per_min", 0.9556, "0.956"),
        ("rate_limit", 1, "1"),
        ("error_share", 1.3, "1.3"),
        ("traffic_share", -0.2, "-0.2"),
        # p-values
        ("p_value", 0.0, "< 0.001"),
        ("scan_p_value", 0.0003, "< 0.001"),
        ("chi2_pvalue", 0.0042, "0.004"),
        ("p_value", 0.03, "0.03"),
        ("p_value", 0.5, "0.50"),
        # durations
        ("tail_all_ms", 6749.15, "6,749 ms"),
        ("median_retry_gap_ms", 8.5, "8.5 ms"),
        ("init_max_ms", 0.42, "0.42 ms"),
        ("delta_ms", -12.0, "-12 ms"),
        ("unhealthy_for_s", 1860.0, "1,860 s"),
        ("slowest_request_s", 88.002, "88 s"),
        ("provisioned_units_per_s", 1000.0, "1,000"),
        # everything else as before
        ("requests", 12345, "12,345"),
        ("concurrency_p95", 2.0, "2"),
        ("concurrency_baseline_median", 20.5, "20.5"),
        ("quiet_hours_signature", False, "no"),
        ("sdk_retries_off", True, "yes"),
        ("cold_start_lift", None, "—"),
        ("error_rate", float("nan"), "—"),
        ("tail_quantile", "P95", "P95"),
        ("error_share", "0.5", "0.5"),  # text stays text
    ],
)
def test_evidence_values_read_as_what_their_name_measures(name, value, expected) -> None:
    assert report._fmt(value, name) == expected


def test_evidence_formatting_accepts_numpy_scalars_and_no_name() -> None:
    import numpy as np

    assert report._fmt(np.float64(0.25), "hit_rate") == "25%"
    assert report._fmt(np.int64(1234567), "requests") == "1,234,567"
    assert report._fmt(np.bool_(True), "quieter") == "yes"
    assert report._fmt(0.064) == "0.064" and report._fmt(6749.15) == "6,749"  # no name, no unit guessed
    assert report._fmt(float("inf"), "p99_ms") == "inf"


def _card(evidence, remediation=(), **kw) -> str:
    return report.findings_html([finding(evidence=dict(evidence), remediation=list(remediation), **kw)])


def test_a_long_evidence_list_shows_the_first_values_and_folds_the_rest() -> None:
    evidence = {f"value_{i:02d}": i for i in range(1, 39)}
    html = _card(evidence)
    assert html.count("<details") == 1 and "all 38 evidence values (26 more)</summary>" in html
    head, folded = html.split("<details", 1)
    shown = [k for k in evidence if f">{k}<" in head]
    hidden = [k for k in evidence if f">{k}<" in folded]
    assert shown == list(evidence)[:12]  # the detector's order: its key numbers come first
    assert hidden == list(evidence)[12:]
    assert "<script" not in html  # folding needs no JavaScript
    # a short list, or one only a row or two over, is shown whole
    for n in (5, 12, 14):
        short = _card({f"k_{i}": i for i in range(n)})
        assert "<details" not in short and all(f">k_{i}<" in short for i in range(n))
    assert "<details" in _card({f"k_{i}": i for i in range(15)})
    # the card formats by name; the finding's data keeps the raw number
    f = finding(evidence={"cold_share_of_tail": 0.82, "p_value": 0.0, "warm_p99_ms": 371.16})
    card = report.findings_html([f])
    assert "82%" in card and "&lt; 0.001" in card and "371 ms" in card
    assert f.to_dict()["evidence"] == {"cold_share_of_tail": 0.82, "p_value": 0.0, "warm_p99_ms": 371.16}
    text = report.findings_text([f])
    assert "- cold_share_of_tail: 82%" in text and "- p_value: < 0.001" in text


def test_code_spans_render_as_code_in_html_and_stay_backticks_in_text() -> None:
    rem = [
        "Enable provisioned concurrency on `catalog-search` (alias `live`).",
        "Never run `<script>alert(1)</script>` or `a & b`; an odd ` backtick stays.",
        f"Rotate `{AKID}` now.",
    ]
    html = _card({"errors": 1}, rem, summary="Cold starts on `catalog-search`.")
    assert "<code>catalog-search</code>" in html and "<code>live</code>" in html
    assert "Cold starts on <code>catalog-search</code>." in html  # the summary too
    assert "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in html and "<script>" not in html
    assert "<code>a &amp; b</code>" in html and "an odd ` backtick stays" in html
    assert AKID not in html and "<code>[masked" in html  # masked before it becomes code
    assert "`catalog-search`" not in html
    text = report.findings_text([finding(remediation=rem)])
    assert "`catalog-search`" in text and "<code>" not in text and AKID not in text
