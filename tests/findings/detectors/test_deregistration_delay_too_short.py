"""The ``deregistration-delay-too-short`` detector (:mod:`incidentkit.findings.detectors.deregistration_delay_too_short`): when it fires, when it stays silent."""

from __future__ import annotations

import json
import numpy as np
import pandas as pd
import pytest
from incidentkit import findings
from incidentkit.analyses import deploys as dp
from incidentkit.findings import Inputs
from _helpers.deploys_cases import DAY, LB, TG, TG_ARN, alb_day, changes_frame, delay_settings, deploy_changes, metric, request_rows
from incidentkit.findings.detectors import deregistration_delay_too_short, partial_change_no_rollback


def test_deploys_of_other_resources_are_not_this_target_groups():
    """Another function's code updates and another application's deployment neither count nor show as related."""
    other = [{"timestamp": DAY + pd.Timedelta(hours=h, minutes=5), "source": "cloudtrail", "event_name": "UpdateFunctionCode20150331v2",
              "class": "DEPLOYMENT", "actor": "arn:aws:sts::123456789012:assumed-role/ci/run", "resource": "image-resizer",
              "detail": json.dumps({"event_source": "lambda.amazonaws.com", "params": {"functionName": "image-resizer"}})}
             for h in (3, 5, 9, 20)]
    other.append({"timestamp": DAY + pd.Timedelta(hours=7), "source": "codedeploy", "event_name": "CreateDeployment",
                  "class": "DEPLOYMENT", "actor": "arn:aws:iam::123456789012:role/pipeline", "resource": "batch/prod",
                  "detail": json.dumps({"event_source": "codedeploy.amazonaws.com",
                                        "params": {"applicationName": "batch", "deploymentGroupName": "prod"}})})
    mixed = changes_frame(pd.concat([deploy_changes(), changes_frame(other)], ignore_index=True).to_dict("records"))
    f = deregistration_delay_too_short.detect(Inputs(metrics=alb_day(), changes=mixed, settings=delay_settings(),
                                                        requests=request_rows()))
    assert f.evidence["deployments"] == 3
    assert {c["resource"] for c in f.related_changes} == {"api/prod", TG_ARN}
    assert not any("image-resizer" in c["description"] or "batch" in c["description"] for c in f.related_changes)


def test_detect_deregistration_delay_incident10():
    inputs = Inputs(metrics=alb_day(), changes=deploy_changes(), settings=delay_settings(), requests=request_rows())
    f = deregistration_delay_too_short.detect(inputs)
    assert f is not None and f.id == "deregistration-delay-too-short"
    assert f.severity in ("medium", "high") and f.confidence >= 0.85
    e = f.evidence
    assert e["deregistration_delay_s"] == 30 and e["slowest_request_s"] >= 60
    assert e["deployments"] == 3 and e["share_errors_near_deploys"] > 0.8 and e["p_value"] < 1e-6
    assert "deregistration_delay.timeout_seconds" in f.remediation[0] and "Value=95" in f.remediation[0]
    assert any(c["event_name"] == "CreateDeployment" for c in f.related_changes)
    got = findings.detect(inputs, only=["deregistration-delay-too-short", "partial-change-no-rollback"])
    assert got.top.id == "deregistration-delay-too-short"


def test_metrics_only_durations_suffice():
    f = deregistration_delay_too_short.detect(Inputs(metrics=alb_day(), changes=deploy_changes(), settings=delay_settings()))
    assert f is not None and f.confidence >= 0.8 and f.evidence["bins_with_max_over_delay"] == 40


def test_healthy_deploys_raise_nothing():
    inputs = Inputs(metrics=alb_day(burst=False, slow=False), changes=deploy_changes(), settings=delay_settings(300),
                    requests=request_rows(slow_share=0.0))
    assert deregistration_delay_too_short.detect(inputs) is None
    assert partial_change_no_rollback.detect(inputs) is None
    got = findings.detect(inputs, only=["deregistration-delay-too-short", "partial-change-no-rollback"])
    assert not got.errors and not got.at_least("medium")


def test_latent_short_delay_is_low_and_502s_without_long_requests_are_not_this():
    latent = deregistration_delay_too_short.detect(
        Inputs(metrics=alb_day(burst=False), changes=deploy_changes(), settings=delay_settings()))
    assert latent is not None and latent.severity == "low" and latent.confidence <= 0.3
    no_deploys = deregistration_delay_too_short.detect(Inputs(metrics=alb_day(burst=False), settings=delay_settings()))
    assert no_deploys.severity == "low"
    other_cause = deregistration_delay_too_short.detect(
        Inputs(metrics=alb_day(slow=False), changes=deploy_changes(), settings=delay_settings(120)))
    assert other_cause is None


def test_deregistration_edge_cases():
    assert deregistration_delay_too_short.detect(Inputs()) is None
    assert deregistration_delay_too_short.detect(Inputs(metrics=alb_day())) is None  # no setting, no verdict
    assert dp.deploy_alignment(deploy_changes(), metrics=pd.DataFrame())["errors_total"] == 0


def test_sparse_502_datapoints_one_deploy_and_no_double_counted_requests():
    """CloudWatch publishes HTTPCode_* counts only for minutes that had some, and RequestCount per
    load balancer *and* per target group: a handful of 502s right after one deregistration is
    still significant, and requests are not counted twice."""
    start = pd.Timestamp("2026-03-07T13:00:00Z")
    n = 120
    req = np.full(n, 200.0)
    burst = start + pd.Timedelta(minutes=61)
    e502 = metric("HTTPCode_ELB_502_Count", [7.0, 5.0], start=burst)
    m = pd.concat([metric("RequestCount", req, start=start),
                   metric("RequestCount", req, start=start, dims={"LoadBalancer": LB, "TargetGroup": TG}),
                   e502,
                   metric("TargetResponseTime", np.full(n, 75.0), start=start, dims={"LoadBalancer": LB, "TargetGroup": TG}, stat="Maximum")])
    ch = changes_frame([
        {"timestamp": start + pd.Timedelta(minutes=55), "event_name": "CreateDeployment", "class": "DEPLOYMENT", "actor": "jenkins"},
        {"timestamp": start + pd.Timedelta(minutes=60, seconds=40), "event_name": "DeregisterTargets", "class": "DEPLOYMENT",
         "actor": "arn:aws:sts::1:assumed-role/CodeDeployServiceRole/CodeDeploy", "resource": TG_ARN},
    ])
    series = dp.error_series(m)
    assert series["requests"].max() == 200 and series["errors"].sum() == 12 and len(series) == n
    a = dp.deploy_alignment(ch, metrics=m, after="150s", anchor="deregistration")
    assert a["anchor"] == "deregistration" and a["errors_near_deploys"] == 12
    assert a["time_share"] == pytest.approx(4 / 120) and a["p_value"] < 0.01
    f = deregistration_delay_too_short.detect(Inputs(metrics=m, changes=ch, settings=delay_settings()))
    assert f is not None and f.severity in ("medium", "high") and f.confidence >= 0.8
    assert "of a target deregistration" in f.summary
