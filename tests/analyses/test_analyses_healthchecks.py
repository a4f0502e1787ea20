"""Health checks: episodes, spikes, check timing, Route 53 drops, and the two detectors."""

from __future__ import annotations


import pandas as pd
import pytest

from incidentkit.analyses import healthchecks as hc

from _helpers.healthchecks_cases import CHECKERS, DROP, ELB_DIMS, HC_ID, LB, SPIKES, T0, TG, TG_ARN, fleet, metric, route53_window, tg_settings


# --------------------------------------------------------------------------- analyses


def test_unhealthy_episodes_lengths_depth_and_502s():
    m = fleet(spikes=SPIKES, unhealthy_at=SPIKES)
    eps = hc.unhealthy_episodes(m)
    assert list(eps.columns) == list(hc.EPISODE_COLUMNS)
    assert len(eps) == len(SPIKES)
    assert (eps["duration_s"] == 120).all()
    assert eps["start"].tolist() == [T0 + pd.Timedelta(minutes=i) for i in SPIKES]
    assert (eps["elb_502"] >= 80).all()
    assert set(eps["peak_unhealthy"]) == {1.0, 2.0}
    assert (eps["target_group"] == TG).all() and (eps["load_balancer"] == LB).all()
    assert eps["min_healthy"].tolist() == [4 - p for p in eps["peak_unhealthy"]]


def test_unhealthy_episodes_prefer_group_totals_over_az_and_fall_back_to_healthy_count():
    az = metric("UnHealthyHostCount", [0, 1, 1, 0], stat="Maximum", dims={**ELB_DIMS, "AvailabilityZone": "us-east-1a"})
    total = metric("UnHealthyHostCount", [0, 1, 2, 0], stat="Maximum")
    eps = hc.unhealthy_episodes(pd.concat([az, total]))
    assert len(eps) == 1 and eps.loc[0, "peak_unhealthy"] == 2.0
    healthy_only = metric("HealthyHostCount", [4, 4, 3, 4, 4, 2, 4], stat="Minimum")
    eps = hc.unhealthy_episodes(healthy_only)
    assert eps["peak_unhealthy"].tolist() == [1.0, 2.0]


def test_unhealthy_episodes_ongoing_and_empty():
    eps = hc.unhealthy_episodes(metric("UnHealthyHostCount", [0, 0, 1, 1], stat="Maximum"))
    assert eps["ongoing"].tolist() == [True]
    for m in (None, pd.DataFrame(), metric("RequestCount", [1, 2, 3])):
        out = hc.unhealthy_episodes(m)
        assert out.empty and list(out.columns) == list(hc.EPISODE_COLUMNS)


def test_transient_spikes_cpu_and_latency():
    m = fleet(spikes=(20, 21, 90))
    cpu = hc.transient_spikes(m, "cpu")
    assert cpu["start"].tolist() == [T0 + pd.Timedelta(minutes=20), T0 + pd.Timedelta(minutes=90)]
    assert cpu["duration_s"].tolist() == [120.0, 60.0]
    assert cpu["peak"].max() == 96.0
    lat = hc.transient_spikes(m, "latency")
    assert len(lat) == 2 and lat["peak"].max() == pytest.approx(2.4)
    # steady series: noise is not a spike
    assert hc.transient_spikes(fleet(), "cpu").empty
    with pytest.raises(ValueError):
        hc.transient_spikes(m, "memory")


def test_check_timing_flags_tight_settings_and_recommends_values():
    m = fleet(spikes=SPIKES)
    t = hc.check_timing(tg_settings(), metrics=m, longest_spike_s=60)
    assert list(t.columns) == list(hc.TIMING_COLUMNS)
    row = t.iloc[0]
    assert row["kind"] == "target_group" and row["resource_id"] == TG_ARN
    assert row["time_to_unhealthy_s"] == 10 and row["time_to_healthy_s"] == 10
    assert row["response_p99_peak_s"] == pytest.approx(2.4)
    assert row["tight"]
    assert "2 s is at or below the peak P99 response time 2.4 s" in row["reasons"]
    assert "interval 5 s × threshold 2 = 10 s of failed checks is shorter than the longest spike observed (60 s)" in row["reasons"]
    assert row["recommended_interval_s"] == 30
    assert row["recommended_timeout_s"] == 5  # 2 x 2.4 s rounded up, within 5-10 s
    assert row["recommended_unhealthy_threshold"] == 3
    relaxed = hc.check_timing(tg_settings(30, 5, 3, 5), metrics=m, longest_spike_s=60).iloc[0]
    assert not relaxed["tight"] and relaxed["reasons"] == ""


def test_check_timing_route53_and_empty():
    s = pd.DataFrame({"resource_type": "route53_health_check", "resource_id": "abc",
                      "setting": ["RequestInterval", "FailureThreshold", "Port"], "value": ["10", "1", "443"]})
    row = hc.check_timing(s).iloc[0]
    assert row["kind"] == "route53" and row["time_to_unhealthy_s"] == 10 and row["tight"]
    assert hc.check_timing(None).empty and list(hc.check_timing(pd.DataFrame()).columns) == list(hc.TIMING_COLUMNS)


# --------------------------------------------------------------------------- flapping detector


# --------------------------------------------------------------------------- Route 53


def test_route53_drops_and_service_signals():
    m = route53_window()
    drops = hc.route53_drops(m)
    assert drops[["health_check_id", "start", "duration_s", "min_status", "min_percentage_healthy"]].values.tolist() == [
        [HC_ID, DROP, 3600.0, 0.0, 0.0]]
    assert drops.loc[0, "ongoing"]
    sig = hc.service_signals(m, DROP).set_index("signal")
    assert bool(sig.loc["error_rate", "healthy"]) and bool(sig.loc["unhealthy_hosts", "healthy"])
    assert bool(sig.loc["latency_p99_s", "healthy"])
    assert pd.isna(sig.loc["requests_per_min", "healthy"])
    bad = hc.service_signals(route53_window(failing_service=True), DROP).set_index("signal")
    assert not bool(bad.loc["error_rate", "healthy"]) and not bool(bad.loc["latency_p99_s", "healthy"])


def test_route53_drops_from_percentage_only():
    m = route53_window()
    m = m[m["metric_name"] != "HealthCheckStatus"]
    drops = hc.route53_drops(m)
    assert len(drops) == 1 and drops.loc[0, "start"] == DROP


def test_checker_failures_tell_timeouts_from_http_errors():
    c = hc.checker_failures({"route53_checkers": CHECKERS}, HC_ID)
    assert c["checkers"] == 8 and c["failing"] == 8 and c["share_timed_out"] == 1.0 and c["share_http_error"] == 0.0
    http = CHECKERS.assign(status="Failure: HTTP Status Code 503, Service Unavailable. Resolved IP: 203.0.113.10")
    assert hc.checker_failures({"route53_checkers": http})["share_http_error"] == 1.0
    assert hc.checker_failures({})["checkers"] == 0


def test_public_names_are_pinned():
    assert sorted(hc.__all__) == ['CHECK_TOLERANCE_FLOOR_S', 'DROP_COLUMNS', 'EPISODE_COLUMNS', 'REGION_IN_TEXT', 'REMOVES_ACCESS', 'SERVICE_COLUMNS', 'SPIKE_COLUMNS', 'TIMING_COLUMNS', 'TRANSITION_COLUMNS', 'check_timing', 'checker_failures', 'metric_sum', 'resolution_text', 'route53_drops', 'service_signals', 'settings_table', 'target_transitions', 'traffic_by_load_balancer', 'transient_spikes', 'unhealthy_episodes', 'unhealthy_spells']
    for name in hc.__all__:
        assert hasattr(hc, name)


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(hc, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
