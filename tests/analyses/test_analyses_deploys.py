"""Deployments: errors after deploys, durations against the deregistration delay, change runs, and the detectors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from incidentkit import findings, schema
from incidentkit.analyses import deploys as dp
from incidentkit.findings import Inputs
from incidentkit.window import Window

from _helpers.analysis import ODD_INPUTS, assert_detectors_survive

DAY = pd.Timestamp("2026-03-05T00:00:00Z")
TG = "targetgroup/api/6d0ecf831eec9f09"
TG_ARN = f"arn:aws:elasticloadbalancing:eu-west-1:123456789012:{TG}"
LB = "app/api/50dc6c495c0c9188"
DEPLOY_HOURS = (10, 14, 18)


def metric(name, values, *, start=DAY, period=60, dims=None, stat="Sum", ns="AWS/ApplicationELB"):
    ts = pd.date_range(start, periods=len(values), freq=f"{period}s")
    return pd.DataFrame({"timestamp": ts, "query_id": "q", "label": name, "namespace": ns, "metric_name": name,
                         "dimensions": json.dumps(dims or {"LoadBalancer": LB}, sort_keys=True, separators=(",", ":")),
                         "stat": stat, "period": period, "value": np.asarray(values, dtype=float)})


def changes_frame(rows):
    df = pd.DataFrame(rows)
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    return schema.conform(df, "changes")


def deploy_changes(hours=DEPLOY_HOURS):
    rows = []
    for h in hours:
        t = DAY + pd.Timedelta(hours=h)
        rows += [
            {"timestamp": t, "source": "codedeploy", "event_name": "CreateDeployment", "class": "DEPLOYMENT",
             "actor": "arn:aws:iam::123456789012:role/pipeline", "resource": "api/prod"},
            {"timestamp": t + pd.Timedelta(minutes=2), "source": "cloudtrail", "event_name": "DeregisterTargets",
             "class": "DEPLOYMENT", "actor": "codedeploy.amazonaws.com", "resource": TG_ARN},
        ]
    rows.append({"timestamp": DAY + pd.Timedelta(hours=12), "source": "cloudtrail", "event_name": "PutMetricAlarm",
                 "class": "CONFIG_CHANGE", "actor": "arn:aws:iam::123456789012:user/ops", "resource": "api-5xx"})
    return changes_frame(rows)


def alb_day(*, burst=True, slow=True, seed=0):
    """One day of ALB minutes: ~2000 requests/min, a 502 trickle, and (incident 10) 5 % 502s after each deploy."""
    rng = np.random.default_rng(seed)
    n = 24 * 60
    req = rng.normal(2000, 80, n).round()
    e502 = rng.poisson(0.1, n).astype(float)
    tmax = rng.uniform(2, 6, n)
    if slow:
        tmax[rng.choice(n, 40, replace=False)] = rng.uniform(40, 62, 40)
    if burst:
        for h in DEPLOY_HOURS:
            i = h * 60 + 2
            e502[i: i + 3] += (0.05 * req[i: i + 3]).round()
    tg_dims = {"LoadBalancer": LB, "TargetGroup": TG}
    return pd.concat([
        metric("RequestCount", req),
        metric("HTTPCode_ELB_502_Count", e502),
        metric("HTTPCode_ELB_5XX_Count", e502 + rng.poisson(0.2, n)),
        metric("TargetResponseTime", tmax, dims=tg_dims, stat="Maximum"),
        metric("TargetResponseTime", rng.uniform(0.8, 1.6, n), dims=tg_dims, stat="p99"),
    ], ignore_index=True)


def delay_settings(delay=30):
    return pd.DataFrame({"timestamp": DAY, "resource_type": "target_group", "resource_id": TG_ARN,
                         "setting": ["deregistration_delay.timeout_seconds", "HealthCheckIntervalSeconds"],
                         "value": [str(delay), "30"]})


def request_rows(n=5000, *, slow_share=0.004, seed=1):
    rng = np.random.default_rng(seed)
    lat = rng.lognormal(np.log(300), 0.8, n)
    slow = rng.random(n) < slow_share
    lat[slow] = rng.uniform(35_000, 62_000, slow.sum())
    ts = DAY + pd.to_timedelta(rng.uniform(0, 86400, n), unit="s")
    return pd.DataFrame({"timestamp": ts, "request_id": [f"r{i}" for i in range(n)], "status": 200, "latency_ms": lat})


# --------------------------------------------------------------------------- analyses


def test_deployments_group_calls_into_episodes_and_skip_failures():
    ch = deploy_changes()
    failed = changes_frame([{"timestamp": DAY + pd.Timedelta(hours=20), "event_name": "UpdateService", "class": "DEPLOYMENT",
                             "actor": "x", "error_code": "AccessDenied"}])
    deps = dp.deployments(pd.concat([ch, failed]))
    assert list(deps.columns) == list(dp.DEPLOYMENT_COLUMNS)
    assert deps["start"].tolist() == [DAY + pd.Timedelta(hours=h) for h in DEPLOY_HOURS]
    assert deps["events"].tolist() == [2, 2, 2]
    assert dp.deployments(None).empty


def test_error_series_prefers_502_metric_and_falls_back_to_requests():
    s = dp.error_series(alb_day())
    assert s.attrs["source"] == "metrics:HTTPCode_ELB_502_Count"
    assert len(s) == 1440 and s["requests"].notna().all()
    req = pd.DataFrame({"timestamp": pd.to_datetime(["2026-03-05T10:00:05Z", "2026-03-05T10:00:35Z", "2026-03-05T10:02:00Z"]),
                        "status": [502, 200, 502]})
    s = dp.error_series(requests=req)
    assert s["errors"].tolist() == [1.0, 0.0, 1.0] and s["requests"].tolist() == [2.0, 0.0, 1.0]


def test_deploy_alignment_and_impact():
    a = dp.deploy_alignment(deploy_changes(), metrics=alb_day())
    assert a["deployments"] == 3
    assert a["share_near_deploys"] > 0.8  # ~900 burst 502s against a trickle of ~145 over the day
    assert a["time_share"] == pytest.approx(36 / 1440)
    assert a["lift"] > 30 and a["p_value"] < 1e-6
    # the three burst minutes of each deploy, plus the few trickle minutes that happened to get two 502s
    assert a["error_bins_near"] == 9 and a["error_bins"] < 20
    assert a["error_rate_near_deploys"] > 0.01 > a["error_rate_elsewhere"]
    imp = dp.deploy_impact(deploy_changes(), metrics=alb_day())
    assert list(imp.columns) == list(dp.DEPLOY_IMPACT_COLUMNS)
    assert (imp["errors_after"] >= 250).all() and (imp["lift"] > 20).all()
    quiet = dp.deploy_alignment(deploy_changes(), metrics=alb_day(burst=False))
    assert not quiet["p_value"] < 0.01
    one = dp.deploy_alignment(deploy_changes(hours=(14,)), metrics=alb_day())  # one deploy in the window is enough
    assert one["p_value"] < 0.001


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
    f = dp.detect_deregistration_delay_too_short(Inputs(metrics=alb_day(), changes=mixed, settings=delay_settings(),
                                                        requests=request_rows()))
    assert f.evidence["deployments"] == 3
    assert {c["resource"] for c in f.related_changes} == {"api/prod", TG_ARN}
    assert not any("image-resizer" in c["description"] or "batch" in c["description"] for c in f.related_changes)


def test_durations_vs_deregistration_from_requests_and_metrics():
    dd = dp.durations_vs_deregistration(delay_settings(), requests=request_rows(), metrics=alb_day())
    assert list(dd.columns) == list(dp.DEREG_COLUMNS)
    row = dd.iloc[0]
    assert row["target_group"] == TG_ARN and row["deregistration_delay_s"] == 30
    assert row["requests_longer_than_delay"] > 5 and 0.002 < row["share_longer_than_delay"] < 0.008
    assert 40 <= row["metric_max_s"] <= 62 and row["metric_bins_longer_than_delay"] == 40
    assert row["recommended_delay_s"] == np.ceil(row["slowest_s"] * 1.5 / 5) * 5
    assert dp.durations_vs_deregistration(None).empty
    capped = dp.durations_vs_deregistration(delay_settings(), requests=pd.DataFrame({"latency_ms": [3_000_000.0]}))
    assert capped.iloc[0]["recommended_delay_s"] == 3600


# --------------------------------------------------------------------------- detector: deregistration delay


def test_detect_deregistration_delay_incident10():
    inputs = Inputs(metrics=alb_day(), changes=deploy_changes(), settings=delay_settings(), requests=request_rows())
    f = dp.detect_deregistration_delay_too_short(inputs)
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
    f = dp.detect_deregistration_delay_too_short(Inputs(metrics=alb_day(), changes=deploy_changes(), settings=delay_settings()))
    assert f is not None and f.confidence >= 0.8 and f.evidence["bins_with_max_over_delay"] == 40


def test_healthy_deploys_raise_nothing():
    inputs = Inputs(metrics=alb_day(burst=False, slow=False), changes=deploy_changes(), settings=delay_settings(300),
                    requests=request_rows(slow_share=0.0))
    assert dp.detect_deregistration_delay_too_short(inputs) is None
    assert dp.detect_partial_change_no_rollback(inputs) is None
    got = findings.detect(inputs, only=["deregistration-delay-too-short", "partial-change-no-rollback"])
    assert not got.errors and not got.at_least("medium")


def test_latent_short_delay_is_low_and_502s_without_long_requests_are_not_this():
    latent = dp.detect_deregistration_delay_too_short(
        Inputs(metrics=alb_day(burst=False), changes=deploy_changes(), settings=delay_settings()))
    assert latent is not None and latent.severity == "low" and latent.confidence <= 0.3
    no_deploys = dp.detect_deregistration_delay_too_short(Inputs(metrics=alb_day(burst=False), settings=delay_settings()))
    assert no_deploys.severity == "low"
    other_cause = dp.detect_deregistration_delay_too_short(
        Inputs(metrics=alb_day(slow=False), changes=deploy_changes(), settings=delay_settings(120)))
    assert other_cause is None


def test_deregistration_edge_cases():
    assert dp.detect_deregistration_delay_too_short(Inputs()) is None
    assert dp.detect_deregistration_delay_too_short(Inputs(metrics=alb_day())) is None  # no setting, no verdict
    assert dp.deploy_alignment(deploy_changes(), metrics=pd.DataFrame())["errors_total"] == 0


# --------------------------------------------------------------------------- change runs and partial changes

T = pd.Timestamp("2026-03-06T09:00:00Z")
BOT = "arn:aws:iam::123456789012:user/deploy-bot"


def sg_call(offset_s, name, *, actor=BOT, error=None, resource="sg-0a1b2c3d", by="cli", port=22):
    detail = {"api": name, "changed_by": by, "non_iac": by not in ("iac", "pipeline", "aws-service"),
              "params": {"groupId": resource, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": port, "toPort": port,
                                                                           "ipRanges": {"items": [{"cidrIp": "203.0.113.0/24"}]}}]}}}
    return {"timestamp": T + pd.Timedelta(seconds=offset_s), "source": "cloudtrail", "event_name": name, "class": "SECURITY_CHANGE",
            "actor": actor, "resource": resource, "error_code": error, "detail": json.dumps(detail)}


def incident11(extra=()):
    rows = [
        sg_call(0, "RevokeSecurityGroupIngress"),
        sg_call(2, "RevokeSecurityGroupIngress", resource="sg-0e9f8a7b"),
        sg_call(5, "AuthorizeSecurityGroupIngress", error="InvalidPermission.Malformed"),
        {"timestamp": T + pd.Timedelta(hours=1), "source": "cloudtrail", "event_name": "UpdateFunctionConfiguration20150331v2",
         "class": "CONFIG_CHANGE", "actor": "arn:aws:iam::123456789012:user/anna", "resource": "billing", "detail": "{}"},
        {"timestamp": T + pd.Timedelta(hours=2), "source": "cloudtrail", "event_name": "PutMetricAlarm", "class": "CONFIG_CHANGE",
         "actor": "arn:aws:iam::123456789012:user/anna", "resource": "cpu", "detail": "{}"},
    ]
    return changes_frame(rows + list(extra))


def test_change_runs_describe_the_half_applied_run():
    runs = dp.change_runs(incident11())
    assert list(runs.columns) == list(dp.CHANGE_RUN_COLUMNS)
    bot = runs[runs["actor"] == BOT].iloc[0]
    assert bot["events"] == 3 and bot["failed"] == 1
    assert bot["failed_events"] == "AuthorizeSecurityGroupIngress (InvalidPermission.Malformed)"
    assert bot["changed_by"] == "cli" and not bot["iac"] and not bot["rolled_back"] and not bot["completed_later"]
    assert bot["observed_after_s"] == pytest.approx(2 * 3600 - 5)
    assert len(runs) == 3  # the bot's run, then anna's two separate changes an hour apart


def test_detect_partial_change_incident11():
    f = dp.detect_partial_change_no_rollback(Inputs(changes=incident11()))
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
    assert dp.detect_partial_change_no_rollback(Inputs(changes=fixed)) is None
    half_fixed = incident11([sg_call(600, "AuthorizeSecurityGroupIngress", resource="sg-0e9f8a7b")])
    assert dp.detect_partial_change_no_rollback(Inputs(changes=half_fixed)) is not None


def test_iac_service_single_failures_and_dry_runs_raise_nothing():
    cfn_actor = "arn:aws:sts::123456789012:assumed-role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1/AWSCloudFormation"
    iac = changes_frame([
        {**sg_call(0, "RevokeSecurityGroupIngress", actor=cfn_actor), "detail": "{}"},
        {**sg_call(3, "AuthorizeSecurityGroupIngress", actor=cfn_actor, error="InvalidGroup.NotFound"), "detail": "{}"},
    ])
    assert dp.detect_partial_change_no_rollback(Inputs(changes=iac)) is None
    tf = changes_frame([sg_call(0, "RevokeSecurityGroupIngress", by="iac"),
                        sg_call(3, "AuthorizeSecurityGroupIngress", by="iac", error="InvalidGroup.NotFound")])
    assert dp.detect_partial_change_no_rollback(Inputs(changes=tf)) is None
    single = changes_frame([sg_call(0, "AuthorizeSecurityGroupIngress", error="InvalidPermission.Duplicate")])
    assert dp.detect_partial_change_no_rollback(Inputs(changes=single)) is None
    dry = changes_frame([sg_call(0, "RevokeSecurityGroupIngress", error="Client.DryRunOperation"),
                         sg_call(3, "AuthorizeSecurityGroupIngress", error="Client.DryRunOperation")])
    assert dp.change_runs(dry).empty
    ok = changes_frame([sg_call(0, "RevokeSecurityGroupIngress"), sg_call(3, "AuthorizeSecurityGroupIngress")])
    assert dp.detect_partial_change_no_rollback(Inputs(changes=ok)) is None


def test_short_watch_and_non_security_runs_are_weaker():
    rows = [{"timestamp": T, "event_name": "UpdateFunctionConfiguration20150331v2", "class": "CONFIG_CHANGE", "actor": BOT,
             "resource": "billing", "detail": json.dumps({"changed_by": "sdk"})},
            {"timestamp": T + pd.Timedelta(seconds=4), "event_name": "PutFunctionConcurrency20171031", "class": "CONFIG_CHANGE",
             "actor": BOT, "resource": "billing", "error_code": "ResourceConflictException", "detail": json.dumps({"changed_by": "sdk"})}]
    inputs = Inputs(changes=changes_frame(rows), window=Window.parse(T - pd.Timedelta(minutes=30), T + pd.Timedelta(minutes=3)))
    f = dp.detect_partial_change_no_rollback(inputs)
    assert f is not None and f.severity == "medium"
    assert f.confidence == pytest.approx(0.6)  # 0.5 + 0.1 direct call; watched only 3 minutes


def test_partial_change_edge_cases():
    assert dp.detect_partial_change_no_rollback(Inputs()) is None
    assert dp.detect_partial_change_no_rollback(Inputs(changes=schema.empty_frame("changes"))) is None
    assert list(dp.change_runs(None).columns) == list(dp.CHANGE_RUN_COLUMNS)


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
    f = dp.detect_deregistration_delay_too_short(Inputs(metrics=m, changes=ch, settings=delay_settings()))
    assert f is not None and f.severity in ("medium", "high") and f.confidence >= 0.8
    assert "of a target deregistration" in f.summary


@pytest.mark.parametrize("case", sorted(ODD_INPUTS))
def test_detectors_survive_odd_frames(case):
    assert_detectors_survive((dp.detect_deregistration_delay_too_short, dp.detect_partial_change_no_rollback), ODD_INPUTS[case])


def test_public_names_are_pinned():
    assert sorted(dp.__all__) == ['CHANGE_RUN_COLUMNS', 'DEPLOYMENT_COLUMNS', 'DEPLOY_IMPACT_COLUMNS', 'DEREGISTRATION_CHANGES', 'DEREG_COLUMNS', 'MAX_DEREGISTRATION_DELAY_S', 'change_runs', 'deploy_alignment', 'deploy_impact', 'deployments', 'detect_deregistration_delay_too_short', 'detect_partial_change_no_rollback', 'durations_vs_deregistration', 'error_series']
    for name in dp.__all__:
        assert hasattr(dp, name)


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(dp, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
