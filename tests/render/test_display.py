"""Rich displays: findings, a finding, the change timeline and an investigation, as HTML and text."""

from __future__ import annotations

import logging
import re

import pandas as pd
import pytest

import incidentkit as ik
from incidentkit.render import display
from incidentkit.findings import Finding, FindingList
from incidentkit.render.report import SEVERITY_COLORS

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX3Rlc3Q"
AKIA = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "hunter2-Secret!"


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch):
    """Text wraps to the terminal's width: pin it so the tests read the same everywhere."""
    monkeypatch.setenv("COLUMNS", "110")


def _finding(**over) -> Finding:
    base = dict(
        id="version-skew-errors",
        title="App 2.9 gets 403s after the auth change",
        severity="critical",
        summary="96% of the 403s came from app 2.9.x (31% of traffic).",
        evidence={"errors": 12345, "error_share": 0.9612, "lift": 3.1, "version": "2.9.0"},
        remediation=["Roll back the authorizer change", "Ship 3.0.2 to the remaining 2.9 clients"],
        confidence=0.91,
        onset="2026-03-01T03:07:00Z",
    )
    base.update(over)
    return Finding(**base)


def _ranked() -> FindingList:
    return FindingList(
        [
            _finding(),
            _finding(id="cold-start-tail", title="Cold starts make the P99", severity="low", confidence=0.4,
                     evidence={"cold_share_of_tail": 0.82}, remediation=["Enable provisioned concurrency"], onset=None),
        ],
        errors={"scan-read-burst": "KeyError: 'table_name'"},
    )


# -- one finding ----------------------------------------------------------------------------------


def test_a_finding_renders_severity_colour_evidence_and_remediation():
    html = _finding()._repr_html_()
    assert 'class="ik-finding-view"' in html
    assert SEVERITY_COLORS["critical"][0] in html and "CRITICAL" in html
    assert "12,345" in html and "96.1%" in html and "2.9.0" in html  # evidence numbers, formatted for reading
    assert html.count("<li>") == 2 and "Roll back the authorizer change" in html
    assert ">#1<" not in html  # a finding shown alone is not ranked


def test_a_finding_as_text_has_no_rank_but_its_confidence():
    text = str(_finding())
    first = text.splitlines()[0]
    assert first.startswith("[CRITICAL] App 2.9 gets 403s") and "confidence 91%" in first
    assert "- errors: 12,345" in text and "1. Roll back the authorizer change" in text


def test_severity_colour_follows_the_severity():
    for sev in ("high", "info"):
        html = _finding(severity=sev)._repr_html_()
        assert SEVERITY_COLORS[sev][0] in html
        other = {c for s, (c, _) in SEVERITY_COLORS.items() if s != sev} - {SEVERITY_COLORS[sev][0]}
        assert not any(f"border-left:8px solid {c}" in html for c in other)


# -- a list of findings ---------------------------------------------------------------------------


def test_findings_table_is_ranked_and_cards_follow():
    html = _ranked()._repr_html_()
    assert 'class="ik-findings-view"' in html and 'class="ik-findings-table"' in html
    table = html[html.index('class="ik-findings-table"'): html.index("</table>")]
    rows = re.findall(r'<tr class="ik-finding-row">(.*?)</tr>', table)
    assert len(rows) == 2
    assert "version-skew-errors" in rows[0] and "91%" in rows[0] and "2026-03-01T03:07:00Z" in rows[0]
    assert "cold-start-tail" in rows[1] and "40%" in rows[1]
    # the cards after the table, in the same order
    assert html.index('id="finding-version-skew-errors"') < html.index('id="finding-cold-start-tail"')
    assert "2 findings, most likely cause first" in html


def test_the_ranked_table_shows_code_spans_as_code_and_markup_as_text():
    fl = FindingList([_finding(title="Errors rose in app version `2.9.0` <b>x</b>"), _finding(id="cold-start-tail")])
    table = fl._repr_html_().split('class="ik-findings-table"')[1].split("</table>")[0]
    assert "app version <code>2.9.0</code> &lt;b&gt;x&lt;/b&gt;" in table and "`" not in table


def test_checks_that_could_not_run_are_shown_not_swallowed():
    fl = _ranked()
    assert "scan-read-burst" in fl._repr_html_() and "KeyError" in fl._repr_html_()
    text = str(fl)
    assert "Checks that could not run" in text and "scan-read-burst: KeyError: 'table_name'" in text


def test_no_finding_says_so():
    fl = FindingList([])
    assert "No finding" in fl._repr_html_() and "ik-findings-table" not in fl._repr_html_()
    assert str(fl).startswith("No finding")


def test_text_is_wrapped_to_the_terminal_width(monkeypatch):
    monkeypatch.setattr(display, "_width", lambda: 70)
    long = _finding(summary=" ".join(["the P99 rose sharply"] * 20), remediation=["set " * 40])
    text = display.findings_text(FindingList([long]))
    assert max(len(line) for line in text.splitlines()) <= 70
    # continuation lines keep the summary's indent and the remediation number's hang
    lines = text.splitlines()
    i = next(n for n, line in enumerate(lines) if line.lstrip().startswith("1. "))
    assert lines[i + 1].startswith(" " * 6)


def test_jupyter_and_ipython_pick_the_displays_up():
    from IPython.core.formatters import DisplayFormatter

    fmt = DisplayFormatter()
    data, _ = fmt.format(_ranked())
    assert "ik-findings-table" in data["text/html"]
    assert data["text/plain"].startswith("2 findings, most likely cause first")
    data, _ = fmt.format(_finding())
    assert "ik-finding-view" in data["text/html"] and data["text/plain"].startswith("[CRITICAL]")


def test_everything_rendered_is_masked():
    leaky = _finding(
        summary=f"the client sent Authorization: Bearer {JWT}",
        evidence={"sample_line": f"key {AKIA} in a stack trace", "url": f"postgres://app:{PASSWORD}@db:5432/x"},
        remediation=[f"rotate {AKIA}"],
        related_changes=[{"timestamp": "2026-03-01T02:55:00Z", "event_name": "PutParameter", "resource": f"password={PASSWORD}"}],
    )
    fl = FindingList([leaky], errors={"x": f"failed with token={JWT}"})
    outputs = [leaky._repr_html_(), str(leaky), fl._repr_html_(), str(fl)]
    for out in outputs:
        for secret in (JWT, AKIA, PASSWORD):
            assert secret not in out
        assert "[masked:" in out


# -- the change timeline --------------------------------------------------------------------------


def _changes(n: int = 3) -> pd.DataFrame:
    times = pd.to_datetime(["2026-03-01T02:46:00Z", "2026-03-01T02:58:30Z", "2026-03-01T03:20:00Z",
                            "2026-03-01T01:00:00Z"][:n], utc=True)
    return pd.DataFrame(
        {
            "timestamp": times,
            "source": ["cloudtrail"] * n,
            "event_name": ["UpdateFunctionCode", "UpdateAuthorizer", "AuthorizeSecurityGroupIngress", "PutScalingPolicy"][:n],
            "class": ["DEPLOYMENT", "CONFIG_CHANGE", "SECURITY_CHANGE", "SCALING"][:n],
            "actor": ["arn:aws:iam::123456789012:user/alice", "arn:aws:sts::123456789012:assumed-role/deploy-pipeline/b-1",
                      "codedeploy.amazonaws.com", "arn:aws:iam::123456789012:user/bob"][:n],
            "resource": ["api", f"authorizer password={PASSWORD}", "sg-0abc", "table"][:n],
            "error_code": [None, None, "AccessDenied", None][:n],
            "detail": ["{}"] * n,
        }
    )


WINDOW = ik.Window.parse("2026-03-01T03:00:00Z", "2026-03-01T04:00:00Z", allow_future=True)


def test_timeline_shows_each_change_relative_to_the_incident():
    html = display.timeline_html(_changes(), window=WINDOW)
    assert 'class="ik-timeline"' in html and 'class="ik-timeline-table"' in html
    rows = re.findall(r'<tr class="ik-change-row"( style="[^"]*")?>(.*?)</tr>', html)
    assert len(rows) == 3
    assert "-14 min" in rows[0][1] and "-1 min" in rows[1][1] and "+20 min" in rows[2][1]
    assert rows[2][0] and not rows[0][0]  # only the change inside the window is shaded
    assert "AccessDenied" in rows[2][1]
    from incidentkit.render.plots import CHANGE_COLORS

    assert CHANGE_COLORS["DEPLOYMENT"] in rows[0][1] and CHANGE_COLORS["SECURITY_CHANGE"] in rows[2][1]


def test_timeline_is_blameless_and_masked():
    for out in (display.timeline_html(_changes(), window=WINDOW), display.timeline_text(_changes(), window=WINDOW)):
        assert "alice" not in out and "an IAM user" in out and "role deploy-pipeline" in out
        assert PASSWORD not in out and "[masked:" in out


def test_timeline_text_marks_changes_inside_the_window():
    lines = display.timeline_text(_changes(), window=WINDOW).splitlines()
    assert lines[0] == "Change timeline: 3 changes"
    inside = [line for line in lines[1:] if line.startswith("*")]
    assert len(inside) == 1 and "AuthorizeSecurityGroupIngress" in inside[0] and "[AccessDenied]" in inside[0]


def test_timeline_limit_says_how_many_are_left_out():
    ch = _changes(4)
    html = display.timeline_html(ch, limit=2)
    assert len(re.findall(r'class="ik-change-row"', html)) == 2 and "4 changes" in html and "showing the last 2" in html
    assert "(the last 2 shown)" in display.timeline_text(ch, limit=2)


def test_empty_timeline_says_nothing_changed():
    from incidentkit import schema

    assert "No change recorded" in display.timeline_html(schema.empty_frame("changes"))
    assert "no change recorded" in str(display.ChangeTimeline(None))


def test_change_timeline_view_keeps_the_frame_and_displays():
    ch = _changes()
    view = display.ChangeTimeline(ch, window=WINDOW)
    assert view.frame is ch and len(view) == 3
    assert "ik-timeline-table" in view._repr_html_() and str(view).startswith("Change timeline: 3 changes")


# -- an investigation -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_inv():
    logging.getLogger("incidentkit.findings").setLevel(logging.ERROR)
    inv = ik.Investigation.sample("cold-start-tail")
    yield inv
    inv.close()


def test_investigation_repr_never_fetches_nor_detects(sample_inv):
    inv = ik.Investigation.sample("version-skew-errors")
    try:
        text = repr(inv)
        html = inv._repr_html_()
        assert inv._findings is None and not inv.frames_read  # nothing was read or run by displaying it
        assert text.startswith("<Investigation 20") and "sample version-skew-errors" in text
        assert "not run yet" in text and "Findings not run yet" in html
    finally:
        inv.close()


def test_investigation_shows_window_evidence_and_findings(sample_inv):
    findings = sample_inv.findings()
    text = repr(sample_inv)
    assert str(sample_inv.window) in text and str(sample_inv.baseline) in text
    n_frames = len(sample_inv.bundle.names())
    assert f"{n_frames} frames" in text and "complete" in text
    assert f"most likely: [{findings.top.severity.upper()}] {findings.top.title}" in text
    html = sample_inv._repr_html_()
    assert 'class="ik-investigation"' in html and "ik-findings-line" in html
    assert 'class="ik-findings-table"' not in html and 'id="finding-' not in html  # a mention: the cards come with .findings()
    assert findings.top.id in html and "catalog-search" in html  # resources listed
    assert html.count("<tr") >= n_frames  # one data-quality row per frame
    full = display.investigation_text(sample_inv)
    assert "resources " in full and findings.top.id in full


def test_incomplete_evidence_and_issues_are_prominent_and_masked(tmp_path):
    from incidentkit import schema

    inv = ik.Investigation.sample("cold-start-tail", evidence=tmp_path / "ev")
    part = schema.empty_frame("events")
    part.attrs = schema.provenance("logs.events", api_calls=7, complete=False, truncated=True,
                                   issues=["stopped at limit=10,000 events: more events exist in the window"])
    inv.bundle.record("logs-extra", part, kind="logs")
    inv.issues.append(f"metrics: AccessDenied for key {AKIA}")
    text, html = repr(inv), inv._repr_html_()
    assert "INCOMPLETE: logs-extra" in text and "7 API calls" in text
    assert "<details open>" in html and "stopped at limit=10,000 events" in html
    for out in (text, html):
        assert AKIA not in out and "[masked:aws-access-key-id]" in out


def test_timeline_drops_the_sso_role_hash_but_keeps_the_role():
    ch = _changes(1)
    ch["actor"] = ["arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_FinOps_7d1e0c2b5a9f3e64/someone@example.com"]
    for out in (display.timeline_html(ch), display.timeline_text(ch)):
        assert "role AWSReservedSSO_FinOps" in out and "7d1e0c2b5a9f3e64" not in out and "someone" not in out


def test_onset_column_only_when_a_finding_has_one():
    assert "onset (UTC)" in _ranked()._repr_html_()
    assert "onset (UTC)" not in FindingList([_finding(onset=None), _finding(id="cold-start-tail", onset=None)])._repr_html_()


def test_one_full_card_per_finding_and_an_index_only_for_several():
    one = FindingList([_finding()])._repr_html_()
    assert one.count('id="finding-') == 1 and 'class="ik-findings-table"' not in one  # the card alone, no table repeating it
    several = _ranked()._repr_html_()
    assert several.count('id="finding-') == 2 and several.count('href="#finding-') == 2  # the index links to the cards
