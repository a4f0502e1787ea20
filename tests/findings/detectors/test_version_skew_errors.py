"""The ``version-skew-errors`` detector (:mod:`incidentkit.findings.detectors.version_skew_errors`): when it fires, when it stays silent."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from incidentkit.findings import Finding, Inputs, detect
from incidentkit.window import Window
from _helpers.errors_cases import DEPLOY, DEPLOY_CHANGES, access_log_requests, changes_frame, split
from incidentkit.findings.detectors import version_skew_errors


def test_detect_version_skew_errors_incident_1():
    req = access_log_requests(broken=["2.9.0", "2.9.1"])
    inc, base = split(req)
    w = Window(pd.Timestamp("2026-03-01T03:00Z"), pd.Timestamp("2026-03-01T04:00Z"))
    f = version_skew_errors.detect(Inputs(window=w, requests=inc, baseline_requests=base, changes=DEPLOY_CHANGES))
    assert isinstance(f, Finding) and f.id == "version-skew-errors"
    assert f.evidence["version"] == "2.9.x", "the old app line spans two patch versions"
    assert f.evidence["versions_in_group"] in ("2.9.0, 2.9.1", "2.9.1, 2.9.0")
    assert f.evidence["top_status"] == 403
    assert f.evidence["status_class"] == "4xx"
    assert f.severity == "critical"
    assert f.evidence["starts_at_change"] is True
    assert f.related_changes[0]["event_name"] == "CreateDeployment"
    assert f.confidence >= 0.85
    # Numbers a reader can check against the frame.
    old = inc.app_version.str.startswith("2.9")
    assert f.evidence["traffic_share"] == pytest.approx(old.mean(), abs=1e-4)
    assert f.evidence["version_errors"] == int(((inc.status >= 400) & (inc.status < 500) & old).sum())
    text = " ".join(f.remediation)
    assert "2.9.x" in text and "1 %" in text and "CreateDeployment" in text
    assert f.onset is not None and f.onset.startswith("2026-03-01T03:0")
    assert f.evidence["errors_from"] == f.onset
    assert "requests_without_version" not in f.evidence


def test_detect_version_skew_errors_ignores_rows_without_status_for_version_coverage():
    """Lambda platform rows (no status, no version) mixed into the requests do not count as unknown clients."""
    req = access_log_requests(broken=["2.9.0", "2.9.1"])
    inc, base = split(req)
    platform = pd.DataFrame({"timestamp": inc.timestamp, "duration_ms": 12.0,
                             "status": pd.array([None] * len(inc), dtype="Int64")})
    mixed = pd.concat([inc, platform, platform], ignore_index=True)
    f = version_skew_errors.detect(Inputs(requests=mixed, baseline_requests=base, changes=DEPLOY_CHANGES))
    clean = version_skew_errors.detect(Inputs(requests=inc, baseline_requests=base, changes=DEPLOY_CHANGES))
    assert f.confidence == pytest.approx(clean.confidence)
    # Half the clients send no version: a concern only when they fail like the skewed version.
    clients = inc.copy()
    clients.loc[clients.index[::2], "app_version"] = None
    g = version_skew_errors.detect(Inputs(requests=clients, baseline_requests=base, changes=DEPLOY_CHANGES))
    assert g.evidence["requests_without_version"] == pytest.approx(0.5, abs=0.01)
    assert g.evidence["error_rate_without_version"] > 0.25
    assert g.confidence < clean.confidence
    web = inc.copy()
    web_rows = web.app_version.str.startswith("3.0") & (np.arange(len(web)) % 2 == 0)
    web.loc[web_rows, "app_version"] = None
    h = version_skew_errors.detect(Inputs(requests=web, baseline_requests=base, changes=DEPLOY_CHANGES))
    assert h.evidence["error_rate_without_version"] < 0.05
    assert h.confidence >= clean.confidence - 0.02


def test_detect_version_skew_errors_single_version_from_user_agent():
    req = access_log_requests(broken=["3.0.0"], broken_status=500, broken_rate=0.5, version_field="user_agent")
    inc, base = split(req)
    f = version_skew_errors.detect(Inputs(requests=inc, baseline_requests=base, changes=DEPLOY_CHANGES))
    assert f is not None
    assert f.evidence["version"] == "3.0.0" and f.evidence["status_class"] == "5xx"
    assert f.severity == "high"
    assert "token" not in f.remediation[0], "auth-specific advice only for 401/403"


def test_detect_version_skew_errors_without_changes_is_less_confident():
    req = access_log_requests(broken=["2.9.0", "2.9.1"])
    inc, base = split(req)
    with_change = version_skew_errors.detect(Inputs(requests=inc, baseline_requests=base, changes=DEPLOY_CHANGES))
    without = version_skew_errors.detect(Inputs(requests=inc))
    assert without is not None and without.related_changes == []
    assert without.confidence < with_change.confidence


def test_a_change_to_another_service_at_the_onset_is_not_claimed():
    """The authorizer the requests ran on is named; a deploy of another function at the same minute is a coincidence."""
    req = access_log_requests(broken=["2.9.0", "2.9.1"])
    req["function_name"] = "auth-api"
    inc, base = split(req)
    other = changes_frame((DEPLOY, "cloudtrail", "UpdateFunctionCode20150331v2", "DEPLOYMENT", "ci", "image-resizer", None, None))
    f = version_skew_errors.detect(Inputs(requests=inc, baseline_requests=base, changes=other))
    assert f.related_changes == [] and "starts_at_change" not in f.evidence and "change" not in f.evidence
    own = changes_frame((DEPLOY, "cloudtrail", "UpdateFunctionCode20150331v2", "DEPLOYMENT",
                         "arn:aws:sts::123456789012:assumed-role/ci-deploy/run-7", "auth-api", None, None))
    g = version_skew_errors.detect(Inputs(requests=inc, baseline_requests=base, changes=own))
    assert g.evidence["starts_at_change"] is True and g.evidence["change"] == "UpdateFunctionCode"
    assert "The errors start at a change: new code was deployed to `auth-api` (UpdateFunctionCode)" in g.summary
    assert "by role ci-deploy" in g.summary and "arn:aws" not in g.summary and g.confidence > f.confidence


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_detect_version_skew_errors_healthy_is_none(seed):
    req = access_log_requests(seed=seed)
    assert version_skew_errors.detect(Inputs(requests=req, changes=DEPLOY_CHANGES)) is None


def test_detect_version_skew_errors_mild_skew_is_below_medium():
    """An old version with 3 % errors against 1 % elsewhere is real but minor."""
    req = access_log_requests(seed=8, minutes=240, broken=["2.9.1"], broken_status=400, broken_rate=0.02)
    f = version_skew_errors.detect(Inputs(requests=req))
    assert f is None or f.severity in ("low", "info")


def test_detect_version_skew_errors_whole_traffic_failing_is_not_a_skew():
    req = access_log_requests(broken=["2.9.0", "2.9.1", "3.0.0", "3.0.2"], broken_rate=0.3)
    assert version_skew_errors.detect(Inputs(requests=req)) is None


def test_detect_version_skew_errors_edge_cases():
    assert version_skew_errors.detect(Inputs()) is None
    assert version_skew_errors.detect(Inputs(requests=pd.DataFrame())) is None
    req = access_log_requests(broken=["2.9.0"])
    assert version_skew_errors.detect(Inputs(requests=req.drop(columns=["app_version"]))) is None
    assert version_skew_errors.detect(Inputs(requests=req.drop(columns=["status"]))) is None
    assert version_skew_errors.detect(Inputs(requests=req.head(50))) is None
    one = req.assign(app_version="3.0.0")
    assert version_skew_errors.detect(Inputs(requests=one)) is None
    # An HTTP library's version is not an app version.
    lib = req.drop(columns=["app_version"]).assign(user_agent=np.where(req.app_version == "2.9.0", "okhttp/4.12.0", "curl/8.4.0"))
    assert version_skew_errors.detect(Inputs(requests=lib)) is None


def test_detect_ranks_version_skew_first():
    req = access_log_requests(broken=["2.9.0", "2.9.1"])
    inc, base = split(req)
    found = detect(Inputs(requests=inc, baseline_requests=base, changes=DEPLOY_CHANGES),
                   only=["version-skew-errors", "cold-start-tail", "cold-start-timeouts"])
    assert not found.errors, found.errors
    assert found.top.id == "version-skew-errors"
    assert [f.id for f in found.at_least("medium")] == ["version-skew-errors"]
