"""The ``partial-change-no-rollback`` detector (:mod:`incidentkit.findings.detectors.partial_change_no_rollback`): when it fires, when it stays silent."""

from __future__ import annotations

import json
import pandas as pd
import pytest
from incidentkit import findings, schema
from incidentkit.analyses import deploys as dp
from incidentkit.findings import Inputs
from incidentkit.window import Window
from _helpers.deploys_cases import BOT, T, changes_frame, incident11, sg_call
from incidentkit.findings.detectors import partial_change_no_rollback


def test_detect_partial_change_incident11():
    f = partial_change_no_rollback.detect(Inputs(changes=incident11()))
    assert f is not None and f.id == "partial-change-no-rollback"
    assert f.severity == "high" and f.confidence >= 0.85
    e = f.evidence
    assert e["actor"] == BOT and e["failed_changes"] == 1 and e["applied_changes"] == 2
    assert e["minutes_watched_after"] > 100
    assert [c["event_name"] for c in f.related_changes] == ["RevokeSecurityGroupIngress", "RevokeSecurityGroupIngress",
                                                             "AuthorizeSecurityGroupIngress"]
    assert "AuthorizeSecurityGroupIngress on sg-0a1b2c3d" in f.remediation[0]
    assert any("change sets" in r for r in f.remediation)
    got = findings.detect(Inputs(changes=incident11()))
    assert got.top is not None and got.top.id == "partial-change-no-rollback"


def test_rolled_back_or_completed_runs_are_fine():
    fixed = incident11([sg_call(600, "AuthorizeSecurityGroupIngress", actor="arn:aws:iam::123456789012:user/anna", by="console"),
                        sg_call(610, "AuthorizeSecurityGroupIngress", resource="sg-0e9f8a7b", actor="arn:aws:iam::123456789012:user/anna", by="console")])
    assert partial_change_no_rollback.detect(Inputs(changes=fixed)) is None
    half_fixed = incident11([sg_call(600, "AuthorizeSecurityGroupIngress", resource="sg-0e9f8a7b")])
    assert partial_change_no_rollback.detect(Inputs(changes=half_fixed)) is not None


def test_iac_service_single_failures_and_dry_runs_raise_nothing():
    cfn_actor = "arn:aws:sts::123456789012:assumed-role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1/AWSCloudFormation"
    iac = changes_frame([
        {**sg_call(0, "RevokeSecurityGroupIngress", actor=cfn_actor), "detail": "{}"},
        {**sg_call(3, "AuthorizeSecurityGroupIngress", actor=cfn_actor, error="InvalidGroup.NotFound"), "detail": "{}"},
    ])
    assert partial_change_no_rollback.detect(Inputs(changes=iac)) is None
    tf = changes_frame([sg_call(0, "RevokeSecurityGroupIngress", by="iac"),
                        sg_call(3, "AuthorizeSecurityGroupIngress", by="iac", error="InvalidGroup.NotFound")])
    assert partial_change_no_rollback.detect(Inputs(changes=tf)) is None
    single = changes_frame([sg_call(0, "AuthorizeSecurityGroupIngress", error="InvalidPermission.Duplicate")])
    assert partial_change_no_rollback.detect(Inputs(changes=single)) is None
    dry = changes_frame([sg_call(0, "RevokeSecurityGroupIngress", error="Client.DryRunOperation"),
                         sg_call(3, "AuthorizeSecurityGroupIngress", error="Client.DryRunOperation")])
    assert dp.change_runs(dry).empty
    ok = changes_frame([sg_call(0, "RevokeSecurityGroupIngress"), sg_call(3, "AuthorizeSecurityGroupIngress")])
    assert partial_change_no_rollback.detect(Inputs(changes=ok)) is None


def test_short_watch_and_non_security_runs_are_weaker():
    rows = [{"timestamp": T, "event_name": "UpdateFunctionConfiguration20150331v2", "class": "CONFIG_CHANGE", "actor": BOT,
             "resource": "billing", "detail": json.dumps({"changed_by": "sdk"})},
            {"timestamp": T + pd.Timedelta(seconds=4), "event_name": "PutFunctionConcurrency20171031", "class": "CONFIG_CHANGE",
             "actor": BOT, "resource": "billing", "error_code": "ResourceConflictException", "detail": json.dumps({"changed_by": "sdk"})}]
    inputs = Inputs(changes=changes_frame(rows), window=Window.parse(T - pd.Timedelta(minutes=30), T + pd.Timedelta(minutes=3)))
    f = partial_change_no_rollback.detect(inputs)
    assert f is not None and f.severity == "medium"
    assert f.confidence == pytest.approx(0.6)  # 0.5 + 0.1 direct call; watched only 3 minutes


def test_partial_change_edge_cases():
    assert partial_change_no_rollback.detect(Inputs()) is None
    assert partial_change_no_rollback.detect(Inputs(changes=schema.empty_frame("changes"))) is None
    assert list(dp.change_runs(None).columns) == list(dp.CHANGE_RUN_COLUMNS)
