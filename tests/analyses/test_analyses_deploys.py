"""Deployments: errors after deploys, durations against the deregistration delay, change runs, and the detectors."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from incidentkit.analyses import deploys as dp

from _helpers.deploys_cases import BOT, DAY, DEPLOY_HOURS, TG_ARN, alb_day, changes_frame, delay_settings, deploy_changes, incident11, request_rows


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


# --------------------------------------------------------------------------- change runs and partial changes


def test_change_runs_describe_the_half_applied_run():
    runs = dp.change_runs(incident11())
    assert list(runs.columns) == list(dp.CHANGE_RUN_COLUMNS)
    bot = runs[runs["actor"] == BOT].iloc[0]
    assert bot["events"] == 3 and bot["failed"] == 1
    assert bot["failed_events"] == "AuthorizeSecurityGroupIngress (InvalidPermission.Malformed)"
    assert bot["changed_by"] == "cli" and not bot["iac"] and not bot["rolled_back"] and not bot["completed_later"]
    assert bot["observed_after_s"] == pytest.approx(2 * 3600 - 5)
    assert len(runs) == 3  # the bot's run, then anna's two separate changes an hour apart


def test_public_names_are_pinned():
    assert sorted(dp.__all__) == ['CHANGE_RUN_COLUMNS', 'DEPLOYMENT_COLUMNS', 'DEPLOY_IMPACT_COLUMNS', 'DEREG_COLUMNS', 'INVERSE_VERBS', 'MAX_DEREGISTRATION_DELAY_S', 'as_text', 'change_rows', 'change_runs', 'deploy_alignment', 'deploy_impact', 'deployments', 'durations_vs_deregistration', 'error_series', 'split_verb']
    for name in dp.__all__:
        assert hasattr(dp, name)


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(dp, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
